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

from dataclasses import dataclass, field

import numpy as np

from .._validate import check_mask, check_number

__all__ = ["TracePoints", "column_runs", "follow_trace", "trace_points"]

#: Cost per pixel of vertical gap between the runs of consecutive chosen columns:
#: the tracker's unit of cost.
GAP_WEIGHT = 1.0
#: Cost of leaving an inked column out (its ink a label's, a neighbour's or a
#: speck's): as much as a 4 px jump between two columns' runs, so the tracker
#: follows the ink it can reach and leaves out what stands far off.
SKIP_COST = 4.0
#: Longest stretch of inked columns that may be left out (px; 5 mm at 200 dpi):
#: about a lead label's width.
MAX_SKIP = 40
#: States costlier than the best by more than this are dropped (cost): three
#: skipped columns; pruning them cut the tracker's time by 3x, ecg-dev unchanged.
BEAM = 12.0
#: Most states kept per column (the cheapest): a cap on the tracker's work in a
#: column crowded with ink.
MAX_STATES = 12
#: Cost per pixel of a run's distance from the baseline when the caller names
#: none: a weak pull (the digitize station names its own,
#: :data:`ecgprep.digitize.station.REF_WEIGHT`).
DEFAULT_REF_WEIGHT = 0.02
#: Largest step of a run's centre from the column before (px) for the run to
#: measure the stroke's width: flat stretches only.
FLAT_STEP_PX = 0.5
#: A run taller than the stroke's width by more than this (px) is steep: read at
#: its centre or at its apex, not as a centroid.
STEEP_EXTRA_PX = 1.5

#: A gap is a stroke hidden in a removed grid line (``follow_trace``'s ``hidden``)
#: only between runs at most this much farther apart than the line's columns
#: are wide (px): the columns on either side of it.
HIDDEN_REACH_PX = 2

#: Slopes (px per px) of the steep runs the pen's width is measured on: steep
#: enough that a column's ink is the pen's cross-section, not noise drawn within
#: the column (which makes flat runs of a noisy trace twice as tall), and not so
#: steep that a pixel of error in the slope matters.
PEN_SLOPE_MIN = 2.0
PEN_SLOPE_MAX = 12.0
#: Fewest such runs for a measured pen; with fewer, the flat runs' height is used.
PEN_MIN_RUNS = 20


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
    top, bottom : (K,) int ndarray
        The run of ink each point was read from (rows ``[top, bottom)``), in the
        points' order (empty when not given).
    """

    x: np.ndarray
    y: np.ndarray
    line_width: float
    coverage: float
    top: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bottom: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


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


def _stroke_links(
    xs: np.ndarray,
    tops: np.ndarray,
    bots: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    centre_cost: np.ndarray,
    skip_cost: float,
) -> np.ndarray:
    """Per inked column: does it continue an unbroken stroke from the column before?

    True where the column and the one before it are adjacent, each holds a single
    run costing less than ``skip_cost`` to keep, and the two runs touch.
    """
    nc = starts.size
    single = (counts == 1) & (centre_cost[starts] < skip_cost)
    cx, ct, cb = xs[starts], tops[starts], bots[starts]
    link = np.zeros(nc, dtype=bool)
    if nc > 1:
        link[1:] = (
            single[1:]
            & single[:-1]
            & (cx[1:] == cx[:-1] + 1)
            & (ct[1:] <= cb[:-1])
            & (ct[:-1] <= cb[1:])
        )
    return link


def _steady(cur: list[_State], run: int) -> bool:
    """Are a column's states in the form :func:`_stroke_steps` continues in closed form?

    True when the first state takes the column's run ``run`` and is the cheapest,
    and state k >= 1 is carried, has skipped k columns, and costs no less than
    state k - 1.
    """
    if cur[0][3] != run:
        return False
    for k in range(1, len(cur)):
        st = cur[k]
        if st[3] >= 0 or st[4] != k or st[0] < cur[k - 1][0]:
            return False
    return True


def _stroke_steps(
    cur: list[_State],
    runs: np.ndarray,
    centre_cost: np.ndarray,
    skip_cost: float,
    max_skip: int,
    beam: float,
) -> tuple[int, np.ndarray, list[tuple[float, int, int]]]:
    """The programme's states along a stroke, in closed form, from ``cur`` onwards.

    ``cur`` holds the states of the column before the stroke goes on (in the form
    :func:`_steady` checks); ``runs`` the single run of each following column of
    the stroke. In those columns the run extends the stroke (the cheapest state,
    with no gap, so every other state reaching it costs more), and every state is
    carried one column further at ``skip_cost``: carried costs keep their order,
    and the beam drops a tail of them. The same additions as the column-by-column
    programme are made, array-wise.

    Returns ``(J, run_costs, carried)``: the first ``J`` columns follow in closed
    form (further on, more than :data:`MAX_STATES` states would stay within the beam); the run
    state's cost at each column, ``run_costs[0]`` being ``cur``'s; and the carried
    states after column ``J`` as ``(cost, age, origin)``: ``origin`` >= 0 is the
    column (0: ``cur``'s, j: the stroke's j-th) whose run the state last took,
    ``origin`` < 0 the state's carried ancestor ``cur[-origin]``.
    """
    n = runs.size
    run_costs = np.empty(n + 1)
    run_costs[0] = cur[0][0]
    run_costs[1:] = centre_cost[runs]
    np.add.accumulate(run_costs, out=run_costs)  # the same sums, in the same order
    limit = (run_costs + beam)[1:]
    entry = [st[0] for st in cur[1:]]
    bad = np.zeros(n, dtype=bool)  # columns 1..n out of closed form
    cost = run_costs
    alive = np.ones(n + 1, dtype=bool)
    ages: list[tuple[np.ndarray, np.ndarray]] = []
    for k in range(1, max_skip + 1):
        nxt = np.empty(n + 1)
        live = np.empty(n + 1, dtype=bool)
        nxt[0] = entry[k - 1] if k <= len(entry) else np.inf
        live[0] = k <= len(entry)
        np.add(cost[:-1], skip_cost, out=nxt[1:])
        np.less_equal(nxt[1:], limit, out=live[1:])
        live[1:] &= alive[:-1]
        if not live[0] and not live[1:].any():
            break
        if k == 1:
            # carried costs rise with age, so the youngest is the cheapest: it must
            # not undercut the run (or the beam's reference would change)
            bad |= live[1:] & (nxt[1:] < run_costs[1:])
        elif k == MAX_STATES:
            bad |= live[1:]  # MAX_STATES + 1 states within the beam: the cap would cut
        ages.append((nxt, live))
        cost, alive = nxt, live
    # columns 1..steps follow in closed form (bad[i] is column i + 1)
    steps = int(np.argmax(bad)) if bad.any() else n
    carried = [
        (float(c_k[steps]), k, steps - k) for k, (c_k, live) in enumerate(ages, 1) if live[steps]
    ]
    return steps, run_costs, carried


def _viterbi(
    starts: list[int],
    ends: list[int],
    xl: list[int],
    tl: list[int],
    bl: list[int],
    centre_cost: list[float],
    link: list[bool],
    gap_weight: float,
    skip_cost: float,
    max_skip: int,
    beam: float,
    steep_share: float = 0.0,
    steep_min: float = 0.0,
    hidden: list[int] | None = None,
    hidden_share: float = 1.0,
    hidden_reach: int = 0,
    split: np.ndarray | None = None,
    split_min: float = 0.0,
) -> list[int]:
    """Best chain of runs over the inked columns; returns the chosen run indices.

    Column by column, every state (see ``_State``) of the previous column is
    carried over at ``skip_cost``, every run is reached from its cheapest
    predecessor (or starts the chain, leaving out the inked columns before it at
    ``skip_cost`` each, within the first ``max_skip``), and states costlier than
    the best by more than ``beam`` are dropped (at most :data:`MAX_STATES` kept). Along an
    unbroken stroke (``link``) the states follow in closed form once they hold
    the stroke's run and carried states only (:func:`_steady`,
    :func:`_stroke_steps`): those columns are stepped through array-wise and
    leave a one-number record for the backtrack. The chain chosen is the same as
    column by column. Between two runs both ``steep_min`` or more tall, a gap of
    ``steep_share`` of the shorter one's height is free; a gap into or across
    ``hidden`` columns (prefix counts: ``hidden[b + 1] - hidden[a]`` of them in
    columns ``a..b``), from a column at most ``hidden_reach`` before, costs
    ``hidden_share`` of its height (see :func:`follow_trace`). With ``split``
    (prefix counts down each column, ``(M + 1, N)``), a gap between runs of
    adjacent columns, both ``split_min`` or more tall, is charged only for its
    rows not counted there.
    """
    history: list = []
    prev: list[_State] = []
    n_cols = len(starts)
    # last column of the stroke that goes on at each column: link[c .. stroke_end[c]]
    stroke_end = [0] * n_cols
    end = n_cols - 1
    for c in range(n_cols - 1, -1, -1):
        stroke_end[c] = end
        if not link[c]:
            end = c - 1
    starts_a = np.asarray(starts, dtype=np.int64)
    cc_a = np.asarray(centre_cost, dtype=np.float64)
    c = 0
    while c < n_cols:
        xc = xl[starts[c]]
        cur: list[_State] = []
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
                if (
                    gap > 0
                    and split is not None
                    and xc - x_last == 1
                    and bi - ti >= split_min
                    and bottom - top >= split_min
                ):
                    # rows of the gap where the stroke lies between the columns
                    if ti >= bottom:
                        gap -= int(split[ti, xc] - split[bottom, xc])
                    else:
                        gap -= int(split[top, xc] - split[bi, xc])
                if gap > 0 and steep_share > 0.0:
                    h = bi - ti if bi - ti < bottom - top else bottom - top
                    if h >= steep_min:
                        gap -= steep_share * h
                if gap > 0:
                    if (
                        hidden is not None
                        and xc - x_last <= hidden_reach
                        and hidden[xc + 1] > hidden[x_last]
                    ):
                        gap *= hidden_share
                    cost += gap * gap_weight / (xc - x_last)
                if cost < best:
                    best = cost
                    arg = j
                j += 1
            # Or the trace starts here, every inked column before it left out
            # (text or a pulse's edge may hold the first columns of a row).
            if c <= max_skip and c * skip_cost < best:
                best = c * skip_cost
                arg = -1
            cur.append((best + centre_cost[i], ti, bi, i, 0, arg, xc))
        # Carry the previous states over this column, at a cost.
        j = 0
        for cost, top, bottom, _, age, _, x_last in prev:
            if age < max_skip:
                cur.append((cost + skip_cost, top, bottom, -1, age + 1, j, x_last))
            j += 1
        # Beam: states far costlier than the best cannot win (a carried state
        # pays skip_cost per column), so drop them and keep at most MAX_STATES.
        if len(cur) > 1:
            costs = [st[0] for st in cur]
            limit = min(costs) + beam
            if len(cur) > MAX_STATES or max(costs) > limit:
                cur = [st for st in cur if st[0] <= limit]
                if len(cur) > MAX_STATES:
                    cur.sort(key=lambda s: s[0])
                    cur = cur[:MAX_STATES]
        history.append(cur)
        prev = cur
        c += 1
        if c < n_cols and link[c] and _steady(cur, starts[c - 1]):
            runs = starts_a[c : stroke_end[c] + 1]
            steps, run_costs, carried = _stroke_steps(cur, runs, cc_a, skip_cost, max_skip, beam)
            if steps:
                history.extend(runs[:steps].tolist())
                last = c - 1 + steps  # the last column stepped through
                r = starts[last]
                prev = [(float(run_costs[steps]), tl[r], bl[r], r, 0, 0, xl[r])]
                for cost, age, origin in carried:
                    if origin >= 0:
                        o = starts[c - 1 + origin]
                        top, bottom, x_last = tl[o], bl[o], xl[o]
                    else:
                        _, top, bottom, _, _, _, x_last = cur[-origin]
                    prev.append((cost, top, bottom, -1, age, age - 1, x_last))
                c = last + 1
    if not history:
        return []
    k = min(range(len(prev)), key=lambda j: prev[j][0])
    chosen: list[int] = []
    for c in range(len(history) - 1, -1, -1):
        h = history[c]
        if isinstance(h, int):  # a closed-form column: state 0 took run h, state k is carried
            if k == 0:
                chosen.append(h)
            else:
                k -= 1
            continue
        st = h[k]
        if st[3] >= 0:
            chosen.append(st[3])
        k = st[5]
        if k < 0:  # the chain started in this column
            break
    return chosen[::-1]


def _prefix(hidden: np.ndarray | None, width: int) -> tuple[list[int] | None, int]:
    """Counts of hidden columns before each column (``width + 1`` of them), or None,
    and the reach of a hidden gap: the widest stretch of hidden columns plus
    :data:`HIDDEN_REACH_PX`."""
    if hidden is None:
        return None, 0
    h = np.asarray(hidden, dtype=bool)
    if h.shape != (width,):
        raise ValueError(f"hidden must hold one flag per column ({width}), got shape {h.shape}")
    if not h.any():
        return None, 0
    edges = np.diff(np.concatenate(([0], h.astype(np.int8), [0])))
    widest = int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())
    return np.concatenate(([0], np.cumsum(h))).tolist(), widest + HIDDEN_REACH_PX


def follow_trace(
    mask: np.ndarray,
    *,
    y_ref: float,
    ref_weight: float = DEFAULT_REF_WEIGHT,
    ref_free: float = 0.0,
    gap_weight: float = GAP_WEIGHT,
    skip_cost: float = SKIP_COST,
    max_skip: int = MAX_SKIP,
    zones: tuple = (),
    beam: float = BEAM,
    steep_gap: tuple[float, float] = (0.0, 0.0),
    hidden: np.ndarray | None = None,
    hidden_share: float = 1.0,
    split: np.ndarray | None = None,
    split_min: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose at most one run of ink per column so that the chosen runs form one trace.

    Parameters
    ----------
    mask : (M, N) bool ndarray
        Trace ink in the band of one row.
    y_ref : float
        Row of the baseline in band coordinates (weak prior).
    ref_weight : float
        Cost per pixel of distance from ``y_ref`` (of a run's nearest pixel)
        beyond ``ref_free``.
    ref_free : float
        Distance from ``y_ref`` (px) a run may stand at no cost: the reach of the
        lead's own waves.
    gap_weight : float
        Cost per pixel of vertical gap between the runs of consecutive chosen columns.
    skip_cost : float
        Cost of leaving an inked column out (its ink belongs to something else:
        a label, a neighbouring row's trace, a speck).
    max_skip : int
        Longest stretch of inked columns that may be left out.
    zones : tuple of (x0, x1, y0, y1, cost)
        Rectangles (band coordinates) where printed labels usually stand: a run
        lying wholly inside (rows ``y0 <= top`` and ``bottom <= y1``) costs
        ``cost`` more per column; a stroke passing through, longer than the
        rectangle is tall, does not.
    beam : float
        States costlier than the best by more than this are dropped.
    steep_gap : (float, float)
        ``(share, min_px)``: between two runs both ``min_px`` or more tall, a gap
        of ``share`` of the shorter one's height is free. A thin pen's steep
        stroke, anti-aliased, leaves each column a run that no longer touches the
        next column's (:data:`STEEP_GAP_SHARE`); ``(0, 0)``, the default,
        charges every gap.
    hidden : (N,) bool ndarray, optional
        Columns where a steep stroke may have been removed from the mask with a
        grid line (:func:`ecgprep.degrid.remove_grid_lines`): a gap between two
        runs whose columns, or the columns between them, hold one costs
        ``hidden_share`` of its height, when the runs stand at most the widest
        stretch of hidden columns plus :data:`HIDDEN_REACH_PX` apart (a stroke
        hidden in the line, not a long skip past it).
    hidden_share : float
        See ``hidden``.
    split : (M, N) bool ndarray, optional
        Rows where a stroke lies between column ``x - 1`` and column ``x``, its
        ink shared by both (:func:`ecgprep.digitize.ink.split_ink`): a gap
        between runs of the two columns is not charged for those of its rows.
    split_min : float
        Least height (px) of both runs for ``split`` to apply: steep strokes.

    Returns
    -------
    x, top, bottom : (K,) int ndarrays
        The chosen run for each column kept.

    Notes
    -----
    The choice is a dynamic programme (Viterbi) over the columns. Most columns
    of a printed trace hold one stroke and nothing else; there the programme's
    states follow in closed form and are stepped through cheaply (see
    :func:`_viterbi`).
    """
    mask = check_mask(mask, "mask")
    hidden_share = check_number(hidden_share, "hidden_share", lo=0.0, hi=1.0)
    hidden_prefix, hidden_reach = _prefix(hidden, mask.shape[1])
    split_prefix = None
    if split is not None:
        split = np.asarray(split, dtype=bool)
        if split.shape != mask.shape:
            raise ValueError(f"split must have the mask's shape {mask.shape}, got {split.shape}")
        split_prefix = np.zeros((mask.shape[0] + 1, mask.shape[1]), dtype=np.int32)
        np.cumsum(split, axis=0, out=split_prefix[1:])
    xs, tops, bots = column_runs(mask)
    if xs.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    bounds = np.flatnonzero(np.diff(xs)) + 1
    starts_a = np.concatenate(([0], bounds))
    ends_a = np.concatenate((bounds, [xs.size]))
    # A run's distance from the baseline is that of its nearest pixel (the long
    # run of a deep S wave starts at the baseline), and the first ``ref_free``
    # pixels of it are free (the waves of the lead itself).
    dist = np.maximum(np.maximum(tops - y_ref, y_ref - (bots - 1)), 0.0)
    extra = np.maximum(dist - ref_free, 0.0) * ref_weight
    for zx0, zx1, zy0, zy1, zc in zones:
        extra += zc * ((xs >= zx0) & (xs < zx1) & (tops >= zy0) & (bots <= zy1))
    link = _stroke_links(xs, tops, bots, starts_a, ends_a - starts_a, extra, skip_cost)
    chosen = _viterbi(
        starts_a.tolist(),
        ends_a.tolist(),
        xs.tolist(),
        tops.tolist(),
        bots.tolist(),
        extra.tolist(),
        link.tolist(),
        gap_weight,
        skip_cost,
        max_skip,
        beam,
        float(steep_gap[0]),
        float(steep_gap[1]),
        hidden_prefix,
        hidden_share,
        hidden_reach,
        split_prefix,
        float(split_min),
    )
    idx = np.array(chosen, dtype=np.int64)
    return xs[idx], tops[idx], bots[idx]


def _slopes(x: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central first and second differences of the runs' centres (px per column).

    Both are 0, and the returned mask False, where the two neighbours are not the
    adjacent columns (a gap, or a track's end).
    """
    k = centre.size
    d1 = np.zeros(k)
    d2 = np.zeros(k)
    ok = np.zeros(k, dtype=bool)
    if k >= 3:
        ok[1:-1] = (x[:-2] == x[1:-1] - 1) & (x[2:] == x[1:-1] + 1)
        d1[1:-1] = np.where(ok[1:-1], 0.5 * (centre[2:] - centre[:-2]), 0.0)
        d2[1:-1] = np.where(ok[1:-1], centre[:-2] - 2.0 * centre[1:-1] + centre[2:], 0.0)
    return d1, d2, ok


def _pen_width(
    x: np.ndarray, centre: np.ndarray, height: np.ndarray, steep: np.ndarray, flat_width: float
) -> float:
    """Width of the pen (px, across the stroke), from the steep runs.

    A pen of width ``w`` crossing a column at slope ``s`` inks ``w * sqrt(1 +
    s**2)`` of it. On a trace with noise the flat runs are taller than the pen
    (the noise is drawn within each column), but on steep strokes the slope
    dominates: there, the median of ``height / sqrt(1 + s**2)``.

    Parameters
    ----------
    x : (K,) int ndarray
        Columns of the runs, increasing.
    centre, height : (K,) float ndarray
        Centres and heights of the runs (px).
    steep : (K,) bool ndarray
        Runs taller than the stroke is wide.
    flat_width : float
        The flat runs' height, returned when too few steep runs are measured.

    Returns
    -------
    float
    """
    d1, _, ok = _slopes(x, centre)
    s = np.abs(d1)
    sel = ok & steep & (s > PEN_SLOPE_MIN) & (s < PEN_SLOPE_MAX)
    if np.count_nonzero(sel) < PEN_MIN_RUNS:
        return float(flat_width)
    return float(np.median(height[sel] / np.sqrt(1.0 + s[sel] ** 2)))


def _curvature_shift(
    x: np.ndarray, centre: np.ndarray, steep: np.ndarray, pen: float
) -> np.ndarray:
    """How far a steep run's centre lies from the stroke's centre line (px).

    A pen of width ``w`` inks the pixels within ``w / 2`` of the centre line
    ``y(x)``. Where the stroke is steep (slope ``s`` px per px), the ends of a
    column's run are the points of the pen's edge found ``w / 2 * s / sqrt(1 +
    s**2)`` columns to either side, so on a curved stroke both ends move the same
    way, by ``y'' / 2`` times that distance squared: the run's centre is off by
    ``y'' * w**2 / 8 * s**2 / (1 + s**2)``, toward the inside of the bend. Left
    uncorrected, QRS waves read low: by 2.4 % (median over the leads) on the
    development renders, 4 % at their peaks. The derivatives are taken from the
    neighbouring centres, only where three adjacent columns are steep runs of the
    same stroke (not at a gap, a track's end or a pulse's corner).

    Parameters
    ----------
    x : (K,) int ndarray
        Columns of the runs, increasing.
    centre : (K,) float ndarray
        Centres of the runs (px).
    steep : (K,) bool ndarray
        Runs taller than the stroke is wide.
    pen : float
        The pen's width in pixels (``w``, :func:`_pen_width`).

    Returns
    -------
    (K,) float ndarray
        The shift to subtract from ``centre`` (0 where it is not measured).
    """
    d1, d2, ok = _slopes(x, centre)
    three = ok & steep
    three[1:-1] &= steep[:-2] & steep[2:]
    s2 = d1 * d1 / (1.0 + d1 * d1)
    return np.where(three, pen * pen / 8.0 * d2 * s2, 0.0)


def trace_points(
    mask: np.ndarray,
    gray: np.ndarray | None = None,
    *,
    y_ref: float,
    line_width: float | None = None,
    zones: tuple = (),
    ref_free: float = 0.0,
    ref_weight: float = DEFAULT_REF_WEIGHT,
    steep_gap: tuple[float, float] = (0.0, 0.0),
    hidden: np.ndarray | None = None,
    hidden_share: float = 1.0,
    split: np.ndarray | None = None,
    split_min: float = 0.0,
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
    ref_free, ref_weight : float
        The baseline prior, as in :func:`follow_trace`.
    steep_gap : (float, float)
        Free gaps between steep runs, as in :func:`follow_trace`.
    hidden : (N,) bool ndarray, optional
        Columns where a grid line removed from the mask may hide a steep stroke,
        as in :func:`follow_trace`.
    hidden_share : float
        The share of a gap's cost there, as in :func:`follow_trace`.
    split : (M, N) bool ndarray, optional
        Rows where a thin pen's stroke lies between two columns, and
    split_min : float
        the least height of the runs it joins, as in :func:`follow_trace`.

    Returns
    -------
    TracePoints
    """
    x, top, bot = follow_trace(
        mask,
        y_ref=y_ref,
        zones=zones,
        ref_free=ref_free,
        ref_weight=ref_weight,
        steep_gap=steep_gap,
        hidden=hidden,
        hidden_share=hidden_share,
        split=split,
        split_min=split_min,
    )
    if x.size == 0:
        z = np.zeros(0)
        return TracePoints(z, z, 0.0, 0.0)
    height = (bot - top).astype(np.float64)
    centre = (top + bot - 1) * 0.5
    if line_width is None:
        flat = np.abs(np.diff(centre, prepend=centre[0])) <= FLAT_STEP_PX
        lw = float(np.median(height[flat])) if flat.any() else float(np.median(height))
    else:
        lw = float(line_width)
    steep = height > lw + STEEP_EXTRA_PX
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
    # distance either side of the column) and off toward the inside of a bend by
    # an amount the curvature gives; where the column holds an extremum (both
    # neighbours on the same side) the far end of the run is the apex.
    prev_c = np.concatenate(([centre[0]], centre[:-1]))
    next_c = np.concatenate((centre[1:], [centre[-1]]))
    inset = 0.5 * lw - 0.5
    apex_up = steep & (prev_c > centre) & (next_c > centre)
    apex_dn = steep & (prev_c < centre) & (next_c < centre)
    pen = _pen_width(x, centre, height, steep, lw)
    py = np.where(steep, centre - _curvature_shift(x, centre, steep, pen), yc)
    # The centre line lies inside its own run, whatever the estimate says.
    py = np.where(steep, np.clip(py, top + inset, bot - 1 - inset), py)
    py = np.where(apex_up, top + inset, py)
    py = np.where(apex_dn, bot - 1 - inset, py)
    px = x.astype(np.float64)
    order = np.argsort(px, kind="stable")
    coverage = float(x.size / mask.shape[1])
    return TracePoints(px[order], py[order], lw, coverage, top[order], bot[order])
