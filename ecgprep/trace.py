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
    import cv2

    mask = np.asarray(mask)
    if mask.dtype != bool:
        mask = mask != 0
    m, n = mask.shape
    # Columns as rows, framed by a False on both ends: inside each, changes of
    # value alternate between a run's start and its end.
    t = np.zeros((n, m + 2), dtype=np.uint8)
    if m > 1 and n > 1:  # (OpenCV's transpose; numpy's strided one is slower)
        t[:, 1:-1] = cv2.transpose(np.ascontiguousarray(mask).view(np.uint8))
    else:
        t[:, 1:-1] = mask.T
    change = np.flatnonzero(t[:, 1:] != t[:, :-1])
    xs, tops = np.divmod(change[0::2], m + 1)
    bottoms = change[1::2] % (m + 1)
    return xs, tops, bottoms


# A state of the tracker: (cost, top, bottom, run index or -1 when carried over
# a column without taking one of its runs, inked columns skipped since its last
# run, index of its predecessor in the previous column's states, column of its
# last run).
_State = tuple


def _viterbi(
    cols: range,
    starts: list[int],
    ends: list[int],
    xl: list[int],
    tl: list[int],
    bl: list[int],
    centre_cost: list[float],
    first: _State | None,
    last_run: int,
    gap_weight: float,
    skip_cost: float,
    max_skip: int,
    beam: float,
) -> list[int]:
    """Best chain of runs over the inked columns ``cols`` (indices into ``starts``).

    ``first`` is a state the chain continues from (None: it starts freely in the
    first column); ``last_run`` a run of the last column the chain must end on
    (-1: it ends in whichever state is cheapest). Returns the chosen run indices.
    """
    history: list[list[_State]] = []
    prev: list[_State] = [first] if first is not None else []
    for c in cols:
        cur: list[_State] = []
        xc = xl[starts[c]]
        for i in range(starts[c], ends[c]):
            ti, bi = tl[i], bl[i]
            if not prev:
                cur.append((centre_cost[i], ti, bi, i, 0, -1, xc))
                continue
            best = 1e300
            arg = 0
            j = 0
            for cost, top, bottom, _, _, _, x_last in prev:
                # The gap to a new run is charged per column travelled, so a
                # stroke hidden for a few columns (a blanked separator, a faded
                # stretch) may resume far above or below.
                gap = ti - bottom
                g2 = top - bi
                if g2 > gap:
                    gap = g2
                if gap > 0:
                    cost += gap * gap_weight / (xc - x_last)
                if cost < best:
                    best = cost
                    arg = j
                j += 1
            cur.append((best + centre_cost[i], ti, bi, i, 0, arg, xc))
        # Carry the previous states over this column, at a cost.
        j = 0
        for cost, top, bottom, _, age, _, x_last in prev:
            if age < max_skip:
                cur.append((cost + skip_cost, top, bottom, -1, age + 1, j, x_last))
            j += 1
        # Beam: states far costlier than the best cannot win (a carried state
        # pays skip_cost per column), so drop them and keep at most 12.
        if len(cur) > 1:
            costs = [st[0] for st in cur]
            limit = min(costs) + beam
            if len(cur) > 12 or max(costs) > limit:
                cur = [st for st in cur if st[0] <= limit]
                if len(cur) > 12:
                    cur.sort(key=lambda s: s[0])
                    cur = cur[:12]
        history.append(cur)
        prev = cur
    if not history:
        return []
    ending = [j for j, st in enumerate(prev) if st[3] == last_run] if last_run >= 0 else []
    k = min(ending or range(len(prev)), key=lambda j: prev[j][0])
    chosen: list[int] = []
    for c in range(len(history) - 1, -1, -1):
        st = history[c][k]
        if st[3] >= 0:
            chosen.append(st[3])
        k = st[5]
    return chosen[::-1]


def _fixed_columns(
    xs: np.ndarray,
    tops: np.ndarray,
    bots: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    centre_cost: np.ndarray,
    cheap: float,
    min_chain: int,
    margin: int,
) -> np.ndarray:
    """Inked columns whose run the tracker would take whatever the rest (bool per column).

    A stretch of at least ``min_chain`` adjacent columns each holding a single
    run that touches its neighbours' is one unbroken stroke with nothing else
    beside it. Inside it (``margin`` columns in from either end), where keeping a
    run costs less than ``cheap``, leaving the stroke would cost more than
    following it, so the best chain runs through it.
    """
    nc = starts.size
    single = counts == 1
    cx = xs[starts]
    ct = tops[starts]
    cb = bots[starts]
    link = np.zeros(nc, dtype=bool)  # column c continues column c - 1's single run
    if nc > 1:
        link[1:] = (
            single[1:]
            & single[:-1]
            & (cx[1:] == cx[:-1] + 1)
            & (ct[1:] <= cb[:-1])
            & (ct[:-1] <= cb[1:])
        )
    fixed = np.zeros(nc, dtype=bool)
    # chains: maximal stretches [a, b] with link[a + 1 .. b] all True
    edges = np.diff(np.concatenate(([0], link.view(np.int8), [0])))
    chain_starts = np.flatnonzero(edges == 1) - 1  # the column before the first link
    chain_stops = np.flatnonzero(edges == -1) - 1  # the last linked column
    for a, b in zip(chain_starts.tolist(), chain_stops.tolist(), strict=True):
        if b - a + 1 >= min_chain:
            fixed[a + margin : b - margin + 1] = True
    if fixed.any():
        fixed &= single
        fixed[fixed] = centre_cost[starts[fixed]] < cheap
    return fixed


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

    Notes
    -----
    The choice is a dynamic programme (Viterbi) over the columns. Most columns
    of a printed trace hold one stroke and nothing else: a long stretch of
    single, touching runs is kept as it is, and the programme only runs over the
    columns between such stretches (labels, crossings, gaps, specks), each piece
    starting from the stroke on its left and ending on the stroke on its right.
    """
    mask = check_mask(mask, "mask")
    xs, tops, bots = column_runs(mask)
    if xs.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    bounds = np.flatnonzero(np.diff(xs)) + 1
    starts_a = np.concatenate(([0], bounds))
    ends_a = np.concatenate((bounds, [xs.size]))
    centres = (tops + bots - 1) * 0.5
    extra = np.abs(centres - y_ref) * ref_weight
    for zx0, zx1, zy0, zy1, zc in zones:
        extra += zc * ((xs >= zx0) & (xs < zx1) & (centres >= zy0) & (centres < zy1))
    fixed = _fixed_columns(
        xs, tops, bots, starts_a, ends_a - starts_a, extra, 0.5 * skip_cost, 24, 4
    )
    starts, ends = starts_a.tolist(), ends_a.tolist()
    xl, tl, bl, cc = xs.tolist(), tops.tolist(), bots.tolist(), extra.tolist()
    args = (starts, ends, xl, tl, bl, cc, gap_weight, skip_cost, max_skip, beam)

    def solve(c0: int, c1: int, first: int, last: int) -> list[int]:
        state = None if first < 0 else (0.0, tl[first], bl[first], first, 0, -1, xl[first])
        s, e, x, t, b, c, gw, sc, ms, bm = args
        return _viterbi(range(c0, c1), s, e, x, t, b, c, state, last, gw, sc, ms, bm)

    chosen: list[int] = []
    # Fixed stretches [f0, f1) of columns; the programme fills what lies between.
    fedges = np.diff(np.concatenate(([0], fixed.view(np.int8), [0])))
    f0s = np.flatnonzero(fedges == 1).tolist()
    f1s = np.flatnonzero(fedges == -1).tolist()
    c, prev_run = 0, -1
    for f0, f1 in zip(f0s, f1s, strict=True):
        # columns c .. f0 inclusive: from the previous stroke's last run (or a free
        # start) to this stroke's first run
        chosen += solve(c, f0 + 1, prev_run, starts[f0])
        if chosen and chosen[-1] == starts[f0]:
            chosen.pop()  # added again with the stretch
        chosen += starts_a[f0:f1].tolist()
        c, prev_run = f1, starts[f1 - 1]
    chosen += solve(c, len(starts), prev_run, -1)
    idx = np.array(chosen, dtype=np.int64)
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
    steep = height > lw + 1.5
    # Sub-pixel centroid of flat runs, weighted by darkness (steep runs use
    # their centre or an end, below).
    yc = centre.copy()
    flat_runs = np.flatnonzero(~steep)
    if gray is not None and flat_runs.size:
        pad = 1
        ft, fb, fx = top[flat_runs], bot[flat_runs], x[flat_runs]
        rows = np.arange(-pad, int(height[flat_runs].max()) + pad)
        yy = ft[:, None] + rows[None, :]
        valid = (yy >= 0) & (yy < mask.shape[0]) & (yy < (fb[:, None] + pad))
        yyc = np.clip(yy, 0, mask.shape[0] - 1)
        wgt = (255.0 - gray[yyc, fx[:, None]].astype(np.float64)) * valid
        wsum = wgt.sum(axis=1)
        ok = wsum > 0
        yc[flat_runs[ok]] = (wgt * yy).sum(axis=1)[ok] / wsum[ok]
    # A steep run's centre is exact for a straight stroke (its ink spans the same
    # distance either side of the column); where the column holds an extremum
    # (both neighbours on the same side) the far end of the run is the apex.
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
