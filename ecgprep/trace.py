"""Trace extraction: follow one printed trace through the trace mask.

The mask inside a row's band is cut into vertical runs of ink, one list per pixel
column. A dynamic programme (Viterbi) picks one run per column so that consecutive
runs touch or lie close (the ink of a pen trace is connected), with a weak pull
towards the row's baseline; this keeps the row's own trace where a neighbouring
row's large QRS reaches into the band, and steps over lead labels and specks.
Each chosen run then gives sub-pixel points: a darkness-weighted centroid where
the trace is flat, and both ends of the run, in the order the pen went, where the
trace is steep (QRS), so peaks are kept rather than averaged away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_mask

__all__ = ["TracePoints", "column_runs", "follow_trace", "trace_points"]


@dataclass(frozen=True)
class TracePoints:
    """Points of one followed trace, in band pixel coordinates.

    Attributes
    ----------
    x, y : (K,) float ndarray
        Sub-pixel positions (x increasing), columns with no ink are absent.
    line_width : float
        Estimated stroke thickness in pixels.
    coverage : float
        Fraction of columns of the band where the trace was found.
    """

    x: np.ndarray
    y: np.ndarray
    line_width: float
    coverage: float


def column_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertical runs of ``True`` in every column of ``mask``.

    Parameters
    ----------
    mask : (M, N) bool ndarray

    Returns
    -------
    x, top, bottom : (R,) int ndarrays
        Column, first row and one-past-last row of each run, sorted by column then row.
    """
    t = np.zeros((mask.shape[1], mask.shape[0] + 2), dtype=np.int8)
    t[:, 1:-1] = mask.T
    d = np.diff(t, axis=1)
    xs, tops = np.nonzero(d == 1)
    _, bottoms = np.nonzero(d == -1)
    return xs, tops, bottoms


def follow_trace(
    mask: np.ndarray,
    *,
    y_ref: float,
    ref_weight: float = 0.02,
    gap_weight: float = 1.0,
    skip_cost: float = 4.0,
    max_skip: int = 40,
    zones: tuple = (),
    beam: float = 12.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose at most one run of ink per column so that the chosen runs form one trace.

    Parameters
    ----------
    mask : (M, N) bool ndarray
        Trace ink in the band of one row.
    y_ref : float
        Row of the baseline in band coordinates (weak prior).
    ref_weight : float
        Cost per pixel of distance from ``y_ref``.
    gap_weight : float
        Cost per pixel of vertical gap between the runs of consecutive chosen columns.
    skip_cost : float
        Cost of leaving an inked column out (its ink belongs to something else:
        a label, a neighbouring row's trace, a speck).
    max_skip : int
        Longest stretch of inked columns that may be left out.
    zones : tuple of (x0, x1, y0, y1, cost)
        Rectangles (band coordinates) where printed labels usually stand: a run
        whose centre lies inside costs ``cost`` more per column.
    beam : float
        States costlier than the best by more than this are dropped.

    Returns
    -------
    x, top, bottom : (K,) int ndarrays
        The chosen run for each column kept.
    """
    mask = check_mask(mask, "mask")
    xs, tops, bots = column_runs(mask)
    if xs.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    bounds = np.flatnonzero(np.diff(xs)) + 1
    starts = np.concatenate(([0], bounds)).tolist()
    ends = np.concatenate((bounds, [xs.size])).tolist()
    tl = tops.tolist()
    bl = bots.tolist()
    centres = (tops + bots - 1) * 0.5
    extra = np.abs(centres - y_ref) * ref_weight
    for zx0, zx1, zy0, zy1, zc in zones:
        extra += zc * ((xs >= zx0) & (xs < zx1) & (centres >= zy0) & (centres < zy1))
    centre_cost = extra.tolist()
    # A state: (cost, top, bottom, run index or -1, age of skip, back pointer).
    # States of each column are kept for the backtrack.
    # A state: (cost, top, bottom, run index or -1 when carried, skipped inked
    # columns, back pointer, column of its last run). The gap to a new run is
    # charged per column travelled, so a stroke hidden for a few columns (a
    # blanked separator, a faded stretch) may resume far above or below.
    history: list[list[tuple]] = []
    prev: list[tuple] = []
    xl = xs.tolist()
    for c in range(len(starts)):
        cur: list[tuple] = []
        xc = xl[starts[c]]
        for i in range(starts[c], ends[c]):
            ti, bi = tl[i], bl[i]
            if not prev:
                cur.append((centre_cost[i], ti, bi, i, 0, -1, xc))
                continue
            best = 1e300
            arg = 0
            for j, st in enumerate(prev):
                gap = ti - st[2]
                g2 = st[1] - bi
                if g2 > gap:
                    gap = g2
                cost = st[0]
                if gap > 0:
                    cost += gap * gap_weight / (xc - st[6])
                if cost < best:
                    best = cost
                    arg = j
            cur.append((best + centre_cost[i], ti, bi, i, 0, arg, xc))
        # Carry the previous states over this column, at a cost.
        for j, st in enumerate(prev):
            if st[4] < max_skip:
                cur.append((st[0] + skip_cost, st[1], st[2], -1, st[4] + 1, j, st[6]))
        # Beam: states far costlier than the best cannot win (a carried state
        # pays skip_cost per column), so drop them and keep at most 12.
        if len(cur) > 1:
            limit = min([st[0] for st in cur]) + beam
            if len(cur) > 12 or any(st[0] > limit for st in cur):
                cur = [st for st in cur if st[0] <= limit]
                if len(cur) > 12:
                    cur.sort(key=lambda s: s[0])
                    cur = cur[:12]
        history.append(cur)
        prev = cur
    k = min(range(len(prev)), key=lambda j: prev[j][0])
    chosen: list[int] = []
    for c in range(len(history) - 1, -1, -1):
        st = history[c][k]
        if st[3] >= 0:
            chosen.append(st[3])
        k = st[5]
    idx = np.array(chosen[::-1], dtype=np.int64)
    return xs[idx], tops[idx], bots[idx]


def trace_points(
    mask: np.ndarray,
    gray: np.ndarray | None = None,
    *,
    y_ref: float,
    line_width: float | None = None,
    zones: tuple = (),
) -> TracePoints:
    """Follow the trace in ``mask`` and turn it into sub-pixel points.

    Parameters
    ----------
    mask : (M, N) bool ndarray
        Trace ink in the band of one row.
    gray : (M, N) uint8 ndarray, optional
        Luma of the same band, used to weight the centroid of flat runs.
    y_ref : float
        Baseline row in band coordinates (weak prior for the tracker).
    line_width : float, optional
        Stroke thickness in pixels; estimated from flat runs when omitted.
    zones : tuple
        Label zones, as in :func:`follow_trace`.

    Returns
    -------
    TracePoints
    """
    x, top, bot = follow_trace(mask, y_ref=y_ref, zones=zones)
    if x.size == 0:
        z = np.zeros(0)
        return TracePoints(z, z, 0.0, 0.0)
    height = (bot - top).astype(np.float64)
    centre = (top + bot - 1) * 0.5
    if line_width is None:
        flat = np.abs(np.diff(centre, prepend=centre[0])) <= 0.5
        lw = float(np.median(height[flat])) if flat.any() else float(np.median(height))
    else:
        lw = float(line_width)
    # Sub-pixel centroid of flat runs, weighted by darkness.
    yc = centre.copy()
    if gray is not None:
        pad = 1
        rows = np.arange(-pad, int(height.max()) + pad)
        yy = top[:, None] + rows[None, :]
        valid = (yy >= 0) & (yy < mask.shape[0]) & (yy < (bot[:, None] + pad))
        yyc = np.clip(yy, 0, mask.shape[0] - 1)
        wgt = (255.0 - gray[yyc, x[:, None]].astype(np.float64)) * valid
        wsum = wgt.sum(axis=1)
        ok = wsum > 0
        yc[ok] = (wgt * yy).sum(axis=1)[ok] / wsum[ok]
    # A steep run's centre is exact for a straight stroke (its ink spans the same
    # distance either side of the column); where the column holds an extremum
    # (both neighbours on the same side) the far end of the run is the apex.
    steep = height > lw + 1.5
    prev_c = np.concatenate(([centre[0]], centre[:-1]))
    next_c = np.concatenate((centre[1:], [centre[-1]]))
    inset = 0.5 * lw - 0.5
    apex_up = steep & (prev_c > centre) & (next_c > centre)
    apex_dn = steep & (prev_c < centre) & (next_c < centre)
    py = np.where(steep, centre, yc)
    py = np.where(apex_up, top + inset, py)
    py = np.where(apex_dn, bot - 1 - inset, py)
    px = x.astype(np.float64)
    order = np.argsort(px, kind="stable")
    coverage = float(x.size / mask.shape[1])
    return TracePoints(px[order], py[order], lw, coverage)
