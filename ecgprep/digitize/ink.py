"""Ink preparation: the trace mask made ready to follow.

:func:`trace_core` keeps the dark core of the strokes (the centre line is read
from it), :func:`remove_labels` drops lead labels and other small marks near the
start of each panel, :func:`mend_label_gaps` joins strokes a label's white box
cut, and :func:`_remove_tick` erases the separator bar standing between two
panels of a row.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_mask, check_scale
from ..errors import InvalidImageError
from .layout import PANEL_LEVEL_BAND_MM, LayoutResult
from .trace import column_runs

__all__ = [
    "trace_core",
    "pen_width",
    "split_ink",
    "remove_labels",
    "mend_label_gaps",
    "foreign_strokes",
    "panels_by_bars",
    "limb_labels",
]

#: Half-width of the window a separator bar is looked for in, about a boundary
#: between two panels (mm): the bar's few pixels and the boundary's rounding.
TICK_HALF_WIDTH_MM = 0.6
#: Least width of a separator bar (px): a row of the window inked in this many
#: columns (or :data:`TICK_FILL_SHARE` of them) is the bar's, not a trace's.
TICK_MIN_COLS = 3
TICK_FILL_SHARE = 0.4
#: Shortest bar erased (mm): a trace crossing the window fills a column or two
#: over its stroke's height only.
TICK_MIN_MM = 1.5
#: Largest step between two of a bar's rows (px): a one-row break joins.
TICK_ROW_STEP_PX = 2

#: Half-size of the window the local paper level is taken over (mm; a dilation,
#: then a blur twice as wide): wider than a stroke, so the paper beside it.
CORE_PAPER_RADIUS_MM = 1.0
#: Half-size of the window the local darkest ink is taken over (mm; an erosion):
#: about a stroke's width.
CORE_INK_RADIUS_MM = 0.5
#: How far from the ink towards the paper a pixel may be and stay in the core
#: (share of the way), at :data:`CORE_FINE_PX_PER_MM` and finer; more by
#: :data:`CORE_FRAC_STEP` per px/mm below, up to :data:`CORE_FRAC_MAX`. Tuned on
#: the dev renders and checked on a synthetic set of every distortion kind.
CORE_FRAC = 0.25
CORE_FINE_PX_PER_MM = 6.0
CORE_FRAC_STEP = 0.1
CORE_FRAC_MAX = 0.45
#: The darkest pixel of its image row, over this many columns, is kept too ...
CORE_RIDGE_COLS = 3
#: ... when within this share of the way from the ink to the paper: a steep thin
#: stroke whose middle falls between two pixels stays unbroken.
CORE_RIDGE_SHARE = 0.5

#: A pen this thin or thinner (px across the stroke) leaves a steep stroke that
#: falls between two pixel columns in neither column's mask: each pixel holds
#: part of the ink, as pale as a grey grid line, and the stroke breaks into
#: runs standing apart (:func:`split_ink`). A page shrunk to 100 dpi measured
#: 1.4-1.7 px, the same page at 200 dpi 2.6-3.2 px (where a pixel of every row
#: of a stroke is dark); ecg-dev's 200 dpi renders 1.9-3.4 px (read as before).
SPLIT_PEN_MAX_PX = 2.0
#: Percentile of the luma taken for the paper, and of the trace mask's luma for
#: the ink, in :func:`pen_width`.
PEN_PAPER_PERCENTILE = 90
PEN_INK_PERCENTILE = 10
#: Every this many columns a pen's width is measured on (:func:`pen_width`):
#: the median of thousands of runs does not need all of them.
PEN_COLUMN_STEP = 3
#: Fewest runs of ink a pen's width is measured on; with fewer it is unknown.
PEN_MIN_RUNS = 20
#: Two side-by-side pixels share one stroke's ink when together they hold this
#: share of the ink's darkness or more (anti-aliasing keeps the ink: a 1 px
#: stroke half in each column gives two pixels at half of it) ...
SPLIT_SUM_SHARE = 0.8
#: ... and each holds this share at least (a dark pixel beside the paper is a
#: stroke's edge, not a shared stroke).
SPLIT_MIN_SHARE = 0.15
#: Marks running down a column longer than this (mm) are a grid line two pixels
#: wide (grey all along), not a stroke: longer than a 2.5 mV wave at 10 mm/mV.
SPLIT_LINE_MM = 25.0
#: Every this many rows the grid lines are looked for in :func:`split_ink`
#: (they are long): an opening of the page's full height cost 8 ms at 200 dpi.
SPLIT_STEP = 4

#: Farthest before a panel's start a lead label's ink may begin (mm).
LABEL_BEFORE_MM = 1.0
#: Farthest after a panel's start a lead label's ink may end (mm): a lead's name,
#: a few characters, printed at the panel's start.
LABEL_AFTER_MM = 12.0
#: Least distance between a label's ink and its row's baseline (mm): row centres
#: are estimated within ~2 mm, labels stand 4 mm or more from the baseline (a
#: trace crosses its baseline; a label printed beside it does not).
LABEL_CLEAR_MM = 2.5
#: Farthest from its row's baseline a label's ink may reach (mm) ...
LABEL_REACH_MM = 12.0
#: ... or this share of the rows' spacing where that is farther: GE-style prints
#: set their labels 11-13.5 mm above baselines 35 mm apart.
LABEL_REACH_ROW_SHARE = 0.45
#: How long after a boundary between two panels a stroke is given to the row
#: whose baseline it joins (s): a QRS (at most 0.12 s) and the wave that ends it.
#: Elsewhere the rows' own tracks settle it (own_strokes).
PANEL_START_S = 0.2
#: ... from this far before the boundary (mm): the first column of the new lead.
PANEL_START_BEFORE_MM = 0.5
#: A stroke joins a row's baseline when it reaches within this (mm) of it: a
#: trace's level at a panel start sits off its baseline by ST shifts and wander
#: (up to about 0.2 mV), never by a neighbour's wave.
JOIN_BASELINE_MM = 2.0
#: Largest label (mm): a few characters; the trace's strokes are wider or taller.
LABEL_MAX_HEIGHT_MM = 6.0
LABEL_MAX_WIDTH_MM = 8.0
#: How far from a lead label's glyphs the white box GE prints it on may cut the
#: trace (mm): the strokes of paper-ecg's GE MUSE page stop 0.8-0.9 mm above
#: and below its labels' letters.
LABEL_BOX_REACH_MM = 1.25
#: Decimals (px) to which the panels' starts are rounded to group those that
#: start in the same column.
PANEL_X_DECIMALS = 3


def _remove_tick(
    band: np.ndarray, xc: float, px_per_mm_x: float, px_per_mm_y: float
) -> tuple[int, int, int, int] | None:
    """Erase, in place, a vertical separator bar standing at column ``xc`` of ``band``.

    The bar fills (nearly) every column of its few-pixel width over the same rows; a
    trace crossing it fills only a column or two there, so only rows inked in most
    columns near ``xc`` are erased, and only when they span at least 1.5 mm.
    Returns the rows and columns erased, ``(y0, y1, b0, b1)`` (half-open), or None.
    """
    half = TICK_HALF_WIDTH_MM * px_per_mm_x
    b0 = int(max(0, np.floor(xc - half)))
    b1 = int(min(band.shape[1], np.ceil(xc + half)))
    if b1 - b0 < 2:
        return None
    sub = band[:, b0:b1]
    frac = sub.mean(axis=1)
    # The bar is at least ~3 columns wide: rows where >= 3 columns (or 40 %) are inked.
    need = min(TICK_MIN_COLS, b1 - b0) / (b1 - b0)
    full = frac >= max(need, TICK_FILL_SHARE) - 1e-9
    idx = np.flatnonzero(full)
    if idx.size < TICK_MIN_MM * px_per_mm_y:
        return None
    breaks = np.flatnonzero(np.diff(idx) > TICK_ROW_STEP_PX)
    starts = np.concatenate(([0], breaks + 1))
    stops = np.concatenate((breaks, [idx.size - 1]))
    k = int(np.argmax(idx[stops] - idx[starts]))
    y0, y1 = int(idx[starts[k]]), int(idx[stops[k]]) + 1
    if y1 - y0 < TICK_MIN_MM * px_per_mm_y:
        return None
    sub[max(0, y0 - 1) : y1 + 1, :] = False
    return max(0, y0 - 1), min(band.shape[0], y1 + 1), b0, b1


#: Times within a row's 10 s where the standard layouts' panels meet (s): 2.5,
#: 5 and 7.5 s between a 3x4 row's four panels, 5 s between a 6x2 row's two.
PANEL_BOUNDARIES_S = (2.5, 5.0, 7.5)
#: Half-height of the band about a row's baseline searched for its separator
#: bars (mm): the bars stand on the baseline (7 mm tall on ecg-image-kit's pages,
#: a few mm on carts'), a neighbour row's stand farther off.
BAR_BAND_MM = 6.0


def panels_by_bars(
    trace_mask: np.ndarray, layout: LayoutResult, *, px_per_mm_x: float, px_per_mm_y: float
) -> tuple[int | None, ...]:
    """How many panels each row prints, told by the separator bars standing between them.

    A bar (straight, :data:`BAR_COLUMN_SHARE`, and across the row's baseline)
    at each of :data:`PANEL_BOUNDARIES_S`: four panels (a 3x4 row); at 5 s
    alone: two (a 6x2 row); at none, where another row's bars say four or two:
    one (a rhythm strip, or a 12x1 row). A page printed without bars, a row with
    bars at other boundaries, or a page where no row's bars say four or two (its
    time origin may be off by more than a bar's window, :data:`TICK_HALF_WIDTH_MM`)
    tells nothing (None). Rows shorter than 10 s (panels scaled to them) have
    their boundaries scaled too. A steep QRS complex on a boundary
    may still pass for a bar: on synthetic pages, 1 of 40 rhythm strips and 4 of
    120 rows of 12x1 pages read as two panels.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
        Trace ink of the deskewed page (not changed).
    layout : LayoutResult
        Rows found on it (:func:`ecgprep.digitize.layout.find_layout`): their
        baselines and time origin.
    px_per_mm_x, px_per_mm_y : float
        Grid scale.

    Returns
    -------
    tuple of (int or None)
        Per row of ``layout``, top to bottom: 4, 2, 1 or None.
    """
    mask = check_mask(trace_mask, "trace_mask")
    h, w = mask.shape
    half = BAR_BAND_MM * px_per_mm_y
    found = []
    # panels scaled to rows shorter than 10 s (a cut page keeps its times)
    k = 1.0 if layout.cut else layout.record_s / 10.0
    for row in layout.rows:
        y0, y1 = int(max(0, row.y - half)), int(min(h, row.y + half + 1))
        times = []
        for t in PANEL_BOUNDARIES_S:
            xc = row.x_start + k * t * layout.px_per_s
            if not 0 <= xc < w:
                continue
            x0 = int(max(0, np.floor(xc - 2 * TICK_HALF_WIDTH_MM * px_per_mm_x)))
            band = mask[y0:y1, x0 : int(np.ceil(xc + 2 * TICK_HALF_WIDTH_MM * px_per_mm_x))]
            bar = _remove_tick(band.copy(), xc - x0, px_per_mm_x, px_per_mm_y)
            if bar is not None and _straight(band, bar) and bar[0] < row.y - y0 < bar[1]:
                times.append(t)
        found.append(tuple(times))
    count = {PANEL_BOUNDARIES_S: 4, (5.0,): 2, (): 1}
    counts = tuple(count.get(times) for times in found)
    if not any(c in (2, 4) for c in counts):
        return tuple(None for _ in found)
    return counts


#: Share of a bar's rows each of its columns is inked in (and the least count of
#: such columns): a bar is straight, the same columns over its height; a narrow
#: QRS complex on the boundary fills as many columns, apart below its apex.
BAR_COLUMN_SHARE = 0.9
BAR_MIN_COLUMNS = 2


def _straight(band: np.ndarray, bar: tuple[int, int, int, int]) -> bool:
    """Whether the bar :func:`_remove_tick` found, ``(y0, y1, b0, b1)`` in ``band``,
    keeps :data:`BAR_MIN_COLUMNS` columns inked over :data:`BAR_COLUMN_SHARE` of its rows."""
    y0, y1, b0, b1 = bar
    inked = band[y0:y1, b0:b1].mean(axis=0) >= BAR_COLUMN_SHARE
    return int(inked.sum()) >= BAR_MIN_COLUMNS


#: Where a row's first label is looked for, about the start of its first panel
#: (mm): from a little before it to this far after it (ecg-image-kit prints its
#: labels just after the start, GE 1-2 mm after), and this far above or below
#: the baseline (ecg-image-kit's stand 5-8 mm under it, GE's 6-10 mm).
LABEL_SEARCH_BEFORE_MM = 1.0
LABEL_SEARCH_AFTER_MM = 10.0
LABEL_SEARCH_HALF_MM = 13.0
#: Least distance of a label from its row's baseline (mm): labels stand clear of
#: the trace's level (5-8 mm on ecg-image-kit's pages); the next row's label,
#: printed above its own row on 12x1 pages 13.7 mm apart, came 0.5-3.4 mm under
#: this row's baseline.
LABEL_OFF_BASELINE_MM = 3.0
#: Height of a label's glyphs (mm): printed labels stand 2-3.5 mm tall
#: (ecg-image-kit's 2.8 mm, GE's 2.2 mm); the pulse (10 mm), separator bars
#: (7 mm) and a scan's 4.6 mm tick marks are taller, specks shorter.
LABEL_HEIGHT_MM = (1.5, 4.0)
#: Gap between the glyphs of one label, as a share of their height (the stems
#: of a sans "III" stand apart; a serif font joins them).
LABEL_GAP_SHARE = 0.8
#: Share of a glyph's height a column must be inked over to be a stem, and least
#: share of the label's ink in its stems: "I", "II" and "III" are stems (and
#: serifs: 0.87-0.89 of GE's ink, all of ecg-image-kit's); "V1", "aVR", "V4"
#: have diagonals and curves (0-0.4 measured).
LABEL_STEM_FILL = 0.7
LABEL_STEM_INK_SHARE = 0.8
#: Limb leads a label of one, two or three stems names.
_STEM_LEADS = {1: "I", 2: "II", 3: "III"}


def limb_labels(
    trace_mask: np.ndarray, layout: LayoutResult, *, px_per_mm_x: float, px_per_mm_y: float
) -> tuple[str | None, ...]:
    """The lead each row's first label names, where it reads "I", "II" or "III".

    Near the start of each row's first panel (:data:`LABEL_SEARCH_AFTER_MM`,
    :data:`LABEL_SEARCH_HALF_MM`), the ink not connected to the trace or the
    pulse (pieces that do not reach the search window's edge) is grouped into
    labels (:data:`LABEL_GAP_SHARE`); one of glyph height
    (:data:`LABEL_HEIGHT_MM`), clear of the baseline (:data:`LABEL_OFF_BASELINE_MM`),
    made of vertical stems (:data:`LABEL_STEM_FILL`, :data:`LABEL_STEM_INK_SHARE`)
    names lead I, II or III by their count. The other leads' labels, and rows
    with none or with labels naming different leads, give None. A partial
    page's rows are placed by them where Einthoven's law cannot.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
        Trace ink of the deskewed page (labels are printed in the trace's ink).
    layout : LayoutResult
        Rows found on it (:func:`ecgprep.digitize.layout.find_layout`).
    px_per_mm_x, px_per_mm_y : float
        Grid scale.

    Returns
    -------
    tuple of (str or None)
        Per row of ``layout``, top to bottom.
    """
    import cv2

    mask = check_mask(trace_mask, "trace_mask")
    h, w = mask.shape
    lo_h, hi_h = (v * px_per_mm_y for v in LABEL_HEIGHT_MM)
    # the window is widened by a glyph gap each side: a label's stem just
    # outside it, or ink beside it, is seen (and a label must start inside)
    margin = int(np.ceil(LABEL_GAP_SHARE * hi_h))
    clear = LABEL_OFF_BASELINE_MM * px_per_mm_y
    ys = [r.y for r in layout.rows]
    out = []
    for i, row in enumerate(layout.rows):
        x0 = int(max(0, row.x_start - LABEL_SEARCH_BEFORE_MM * px_per_mm_x - margin))
        x1 = int(min(w, row.x_start + LABEL_SEARCH_AFTER_MM * px_per_mm_x + margin))
        # no nearer another row's baseline than this one's
        up = 0.5 * (row.y - ys[i - 1]) if i > 0 else np.inf
        down = 0.5 * (ys[i + 1] - row.y) if i + 1 < len(ys) else np.inf
        half = LABEL_SEARCH_HALF_MM * px_per_mm_y
        y0 = int(max(0, row.y - min(half, up)))
        y1 = int(min(h, row.y + min(half, down)))
        if x1 - x0 <= 2 * margin or y1 <= y0:
            out.append(None)
            continue
        win = np.ascontiguousarray(mask[y0:y1, x0:x1]).view(np.uint8)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(win, connectivity=8)
        base = row.y - y0
        boxes = []
        for c in range(1, n):
            bx, by, bw, bh = (int(v) for v in stats[c, :4])
            inside = bx > 0 and by > 0 and bx + bw < win.shape[1] and by + bh < win.shape[0]
            off_base = by + bh < base - clear or by > base + clear
            if inside and off_base and lo_h <= bh <= hi_h:
                boxes.append((bx, by, bw, bh, c))
        groups = [g for g in _label_groups(boxes) if margin <= g[0][0] < win.shape[1] - margin]
        names = {_stem_lead(lab, group) for group in groups}
        names.discard(None)
        out.append(names.pop() if len(names) == 1 else None)
    return tuple(out)


def _label_groups(boxes: list) -> list:
    """Boxes ``(x, y, w, h, component)`` of glyphs side by side, grouped into labels."""
    groups: list = []
    for box in sorted(boxes):
        x, y, bw, bh, _ = box
        for g in groups:
            gx, gy, gw, gh, _ = g[-1]
            near = x - (gx + gw) <= LABEL_GAP_SHARE * max(bh, gh)
            level = min(y + bh, gy + gh) - max(y, gy) >= 0.5 * min(bh, gh)
            if near and level:
                g.append(box)
                break
        else:
            groups.append([box])
    return groups


def _stem_lead(lab: np.ndarray, group: list) -> str | None:
    """The lead a label of vertical stems names (by their count), or None.

    ``lab``: the search window's connected components; ``group``: the label's.
    Other ink beside the label, as near as its glyphs stand to each other,
    makes it None: a glyph joined to the trace (a deep S wave touching "III")
    left the label, which would read short.
    """
    x0 = min(b[0] for b in group)
    y0 = min(b[1] for b in group)
    x1 = max(b[0] + b[2] for b in group)
    y1 = max(b[1] + b[3] for b in group)
    own = np.isin(lab, [b[4] for b in group])
    gap = int(np.ceil(LABEL_GAP_SHARE * (y1 - y0)))
    near = lab[y0:y1, max(0, x0 - gap) : x1 + gap]
    if np.count_nonzero((near > 0) & ~own[y0:y1, max(0, x0 - gap) : x1 + gap]):
        return None
    ink = own[y0:y1, x0:x1]
    if ink.sum() == 0 or x1 - x0 > 3 * (y1 - y0):
        return None
    fill = ink.mean(axis=0)
    stem = fill >= LABEL_STEM_FILL
    if ink[:, stem].sum() < LABEL_STEM_INK_SHARE * ink.sum():
        return None
    runs = int(np.count_nonzero(np.diff(np.concatenate(([0], stem.astype(np.int8)))) == 1))
    if runs == 1:
        # a lone stem with ink above or below it, as near as a glyph gap, is a
        # piece of a broken stroke (a QRS cut by grid removal), not an "I"
        reach = gap
        cols = slice(max(0, x0 - 1), x1 + 1)
        above = lab[max(0, y0 - reach) : y0, cols]
        below = lab[y1 : y1 + reach, cols]
        if np.count_nonzero(above) or np.count_nonzero(below):
            return None
    return _STEM_LEADS.get(runs)


def _local_paper(gray: np.ndarray, px_per_mm: float) -> np.ndarray:
    """(M, N) uint8 local paper level of the luma ``gray``: a dilation about
    :data:`CORE_PAPER_RADIUS_MM`, then a blur twice as wide."""
    import cv2

    k = int(2 * round(CORE_PAPER_RADIUS_MM * px_per_mm) + 1)
    paper = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    return cv2.blur(paper, (2 * k + 1, 2 * k + 1))


def _level(values: np.ndarray, q: float) -> int:
    """The ``q``-th percentile (lower) of uint8 ``values``, from their histogram."""
    counts = np.cumsum(np.bincount(np.asarray(values, dtype=np.uint8).ravel(), minlength=256))
    return int(np.searchsorted(counts, q / 100.0 * counts[-1]))


def pen_width(trace_mask: np.ndarray, gray: np.ndarray) -> float:
    """Width of the pen (px), as ink: a column's run of ink holds as much darkness
    as a pen that wide at full darkness.

    Anti-aliasing and blur spread a stroke over more pixels but keep its ink, so
    the darkness summed over a run (and a pixel either side), over the ink's full
    darkness, measures the pen whatever the mask's threshold took of it. The
    median over the runs of every :data:`PEN_COLUMN_STEP`-th column: most runs
    are of the flat trace.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
    gray : (M, N) uint8 ndarray
        Luma of the same image.

    Returns
    -------
    float
        The width in pixels; ``inf`` when fewer than :data:`PEN_MIN_RUNS` runs
        are found or the ink is no darker than the paper.
    """
    mask = check_mask(trace_mask, "trace_mask")
    g = np.asarray(gray)
    if g.dtype != np.uint8 or g.shape != mask.shape:
        raise ValueError(
            f"gray must be uint8 luma of the mask's shape {mask.shape}, got {g.dtype} {g.shape}"
        )
    return _pen_and_ink(mask, g)[0]


def _pen_and_ink(mask: np.ndarray, g: np.ndarray) -> tuple[float, int]:
    """:func:`pen_width` of a checked mask and luma, and the ink's level it used
    (grey level, :data:`PEN_INK_PERCENTILE` of the mask's luma; 0 on an empty mask)."""
    import cv2

    if not mask.any():
        return float("inf"), 0
    cols = np.ascontiguousarray(g[:, ::PEN_COLUMN_STEP])
    paper = _level(cols[::PEN_COLUMN_STEP], PEN_PAPER_PERCENTILE)
    ink = _level(g[mask], PEN_INK_PERCENTILE)
    if paper <= ink:
        return float("inf"), ink
    xs, tops, bots = column_runs(mask[:, ::PEN_COLUMN_STEP])
    if xs.size < PEN_MIN_RUNS:
        return float("inf"), ink
    # darkness summed over each run and a pixel either side, from the integral
    # image (whole numbers: exact, and quick)
    sums = cv2.integral(cv2.subtract(np.full_like(cols, paper), cols))
    lo = np.maximum(tops - 1, 0)
    hi = np.minimum(bots + 1, mask.shape[0])
    inked = sums[hi, xs + 1] - sums[hi, xs] - sums[lo, xs + 1] + sums[lo, xs]
    return float(np.median(inked) / (paper - ink)), ink


def split_ink(
    trace_mask: np.ndarray,
    gray: np.ndarray,
    *,
    px_per_mm: float,
) -> np.ndarray | None:
    """Where a thin pen's stroke falls between two pixel columns.

    A steep stroke no wider than a pixel, centred between two columns, leaves
    each of them part of its ink: two pixels each about as pale as a grey grid
    line, so in neither column's trace mask, and the stroke breaks into runs
    standing apart (a 100 dpi page's R waves were read at half their height). Pixel
    ``(y, x)`` is marked when it and ``(y, x - 1)`` hold together
    :data:`SPLIT_SUM_SHARE` of the ink's darkness (the page's ink against the
    paper beside them) and each at least
    :data:`SPLIT_MIN_SHARE` of it: the tracker may then cross the rows between
    the two columns' runs free (:func:`ecgprep.digitize.trace.follow_trace`).
    Only for pens of :data:`SPLIT_PEN_MAX_PX` or thinner (:func:`pen_width`): a
    wider pen keeps a dark pixel in every row of its strokes, and pale pairs
    there are blur or grid. Marks running down a column longer than
    :data:`SPLIT_LINE_MM` are a grey grid line two pixels wide, not a stroke:
    they are taken off.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
    gray : (M, N) uint8 ndarray
        Luma of the same image.
    px_per_mm : float
        Scale, sizing the window the local paper level is taken over (as
        :func:`trace_core`'s).

    Returns
    -------
    (M, N) bool ndarray or None
        None for a wider pen (or no measurable one). Column 0 is False.
    """
    import cv2

    mask = check_mask(trace_mask, "trace_mask")
    px_per_mm = check_scale(px_per_mm, "px_per_mm")
    g = np.asarray(gray)
    if g.dtype != np.uint8 or g.shape != mask.shape:
        raise ValueError(
            f"gray must be uint8 luma of the mask's shape {mask.shape}, got {g.dtype} {g.shape}"
        )
    pen, ink = _pen_and_ink(mask, g)
    if not pen <= SPLIT_PEN_MAX_PX:
        return None
    # the paper's level beside the pixel, the ink's the page's (a stroke split
    # between two columns over many rows holds no dark pixel near it); in whole
    # grey levels, the shares' thresholds rounded up
    paper = _local_paper(g, px_per_mm)
    full = cv2.subtract(paper, ink)
    dark = cv2.subtract(paper, g)
    levels = np.arange(256, dtype=np.float64)
    least = cv2.LUT(full, np.ceil(SPLIT_MIN_SHARE * levels).astype(np.uint8))[:, 1:]
    total = cv2.LUT(full, np.ceil(SPLIT_SUM_SHARE * levels).astype(np.uint8))[:, 1:]
    left = np.ascontiguousarray(dark[:, :-1])
    right = np.ascontiguousarray(dark[:, 1:])
    # each at least its share; together the total (left >= total - right, which
    # saturates at 0); and some ink to share (full > 0)
    marks = cv2.compare(cv2.min(left, right), least, cv2.CMP_GE)
    marks &= cv2.compare(left, cv2.subtract(total, right), cv2.CMP_GE)
    marks &= cv2.compare(full[:, 1:], 0, cv2.CMP_GT)
    # a vertical opening keeps the runs longer than the grid-line limit: on every
    # fourth row (a line runs on unbroken), each kept row standing for four
    sub = np.ascontiguousarray(marks[::SPLIT_STEP])
    longest = int(SPLIT_LINE_MM * px_per_mm / SPLIT_STEP)
    line = cv2.getStructuringElement(cv2.MORPH_RECT, (1, longest + 1))
    lines = np.repeat(cv2.morphologyEx(sub, cv2.MORPH_OPEN, line), SPLIT_STEP, axis=0)
    out = np.zeros(mask.shape, dtype=np.uint8)
    out[:, 1:] = cv2.bitwise_and(marks, cv2.bitwise_not(lines[: mask.shape[0]])) & 1
    return out.view(bool)


def trace_core(trace_mask: np.ndarray, gray: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """The dark core of the trace ink.

    Colour separation keeps the anti-aliased (or blurred) fringe of a stroke, as
    it must to find faint traces; the centre line is better read from the core. A
    mask pixel is kept when it lies within a fraction of the way from the local
    darkest ink (an erosion, about 1 mm) to the local paper level (a dilation then
    blur of the luma, about 2 mm), whatever the contrast, blur or shading; so is
    the darkest pixel of its image row (of three) when half as dark as the ink,
    so that steep thin strokes stay unbroken. Columns where nothing would remain
    keep the mask.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
    gray : (M, N) uint8 ndarray
        Luma of the same image.
    px_per_mm : float
        Scale, sizing the filters.

    Returns
    -------
    (M, N) bool ndarray
    """
    import cv2

    mask = check_mask(trace_mask, "trace_mask")
    if not mask.any():
        return mask
    paper = _local_paper(gray, px_per_mm)
    ki = int(2 * round(CORE_INK_RADIUS_MM * px_per_mm) + 1)
    ink = cv2.erode(gray, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ki, ki)))
    # How far from the ink towards the paper a pixel may be: a quarter of the
    # way at 6 px/mm and finer; more at low resolution, where a stroke is only a
    # pixel or two wide (0.45 at 4 px/mm). Tuned on the dev renders and checked on
    # a synthetic set of every distortion kind (see README, Accuracy).
    frac = float(
        np.clip(
            CORE_FRAC + CORE_FRAC_STEP * (CORE_FINE_PX_PER_MM - px_per_mm), CORE_FRAC, CORE_FRAC_MAX
        )
    )
    # Kept where gray - ink < frac * (paper - ink), in whole numbers: the ink is
    # a local minimum (gray - ink >= 0), so with span = paper - ink (0 where the
    # paper is not lighter) the test is gray - ink < ceil(frac * span), a table
    # (the product in float32, as the test was first written: ties stay decided
    # the same way).
    products = np.float32(frac) * np.arange(256, dtype=np.float32)
    limit = np.ceil(products).astype(np.uint8)
    span = cv2.subtract(paper, ink, dst=paper)
    levels = np.arange(256, dtype=np.float32)
    halves = np.ceil(np.float32(CORE_RIDGE_SHARE) * levels).astype(np.uint8)
    half = cv2.LUT(span, halves)
    span = cv2.LUT(span, limit, dst=span)
    above = cv2.subtract(gray, ink, dst=ink)
    # Also kept: the darkest pixel of its image row (of three) when it is at
    # least half as dark as the ink. Where a steep stroke's middle falls between
    # two pixels, neither is within a quarter of the ink, and the stroke broke
    # into pieces (the tracker then took a lead label for it); ecg-dev 22.0 ->
    # 22.2 dB.
    row_min = cv2.erode(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (CORE_RIDGE_COLS, 1)))
    ridge = cv2.bitwise_and(
        cv2.compare(gray, row_min, cv2.CMP_LE), cv2.compare(above, half, cv2.CMP_LT)
    )
    core = cv2.compare(above, span, cv2.CMP_LT, dst=above)
    core = cv2.bitwise_or(core, ridge, dst=core)
    # 255 & 1: a 0/1 mask, viewed as bool
    core = cv2.bitwise_and(core, np.ascontiguousarray(mask).view(np.uint8), dst=core).view(bool)
    lost = mask.any(axis=0) & ~core.any(axis=0)
    if lost.any():
        core[:, lost] = mask[:, lost]
    return core


def remove_labels(
    trace_mask: np.ndarray, layout: LayoutResult, *, px_per_mm_x: float, px_per_mm_y: float
) -> np.ndarray:
    """Remove lead labels and other small marks standing near the start of each panel.

    A connected component of ink is dropped when it lies wholly within 12 mm after
    a panel's start, is under 6 mm tall and 8 mm wide, and stands 2.5 mm or more
    above or below the row's baseline (a trace crosses its baseline; a label
    printed beside it does not), and within 12 mm of it or 45 % of the rows'
    spacing where that is farther (GE prints its labels 11-13.5 mm above).

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
    layout : LayoutResult
    px_per_mm_x, px_per_mm_y : float

    Returns
    -------
    (M, N) bool ndarray
        A cleaned copy of the mask.

    Raises
    ------
    ValueError
        A scale that is not a finite number > 0.
    """
    import cv2

    px_per_mm_x = check_scale(px_per_mm_x, "px_per_mm_x")
    px_per_mm_y = check_scale(px_per_mm_y, "px_per_mm_y")
    out = trace_mask
    height, width = trace_mask.shape
    # Row centres are estimated from the ink profile (within ~2 mm); labels
    # stand 4 mm or more from the baseline.
    clear = LABEL_CLEAR_MM * px_per_mm_y
    band = 0.5 * PANEL_LEVEL_BAND_MM * px_per_mm_y
    reach = LABEL_REACH_MM * px_per_mm_y
    ys = np.sort([r.y for r in layout.rows if np.isfinite(r.y)])
    if ys.size > 1:
        reach = max(reach, LABEL_REACH_ROW_SHARE * float(np.min(np.diff(ys))))
    # Only components inside a strip from 1 mm before to 12 mm after a panel start,
    # and within reach of a row's baseline, can be labels: label those strips, not
    # the page (a component touching a strip's side runs on beyond it, so it is not
    # wholly inside and is kept).
    for x_start in sorted({round(p.x0, PANEL_X_DECIMALS) for p in layout.panels}):
        sx0 = max(0, int(np.floor(x_start - LABEL_BEFORE_MM * px_per_mm_x)) - 1)
        sx1 = min(width, int(np.ceil(x_start + LABEL_AFTER_MM * px_per_mm_x)) + 2)
        bases = [
            layout.rows[p.row].y for p in layout.panels if round(p.x0, PANEL_X_DECIMALS) == x_start
        ]
        bases = [b for b in bases if np.isfinite(b)]
        if not bases:
            continue
        sy0 = max(0, int(np.floor(min(bases) - reach)) - 1)
        sy1 = min(height, int(np.ceil(max(bases) + reach)) + 2)
        if sx1 - sx0 < 3 or sy1 - sy0 < 3:
            continue
        strip = np.ascontiguousarray(trace_mask[sy0:sy1, sx0:sx1]).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(strip, connectivity=8)
        if n <= 1:
            continue
        x, y, w, h = (stats[:, i].astype(np.float64) for i in range(4))
        x = x + sx0
        y = y + sy0
        at_left = (stats[:, 0] == 0) & (sx0 > 0)
        at_right = (stats[:, 0] + stats[:, 2] >= sx1 - sx0) & (sx1 < width)
        at_top = (stats[:, 1] == 0) & (sy0 > 0)
        at_bottom = (stats[:, 1] + stats[:, 3] >= sy1 - sy0) & (sy1 < height)
        touches = at_left | at_right | at_top | at_bottom
        drop = np.zeros(n, dtype=bool)
        small = (h < LABEL_MAX_HEIGHT_MM * px_per_mm_y) & (w < LABEL_MAX_WIDTH_MM * px_per_mm_x)
        small &= ~touches
        for p in layout.panels:
            if round(p.x0, PANEL_X_DECIMALS) != x_start:
                continue
            base = layout.rows[p.row].y
            inside = (x >= p.x0 - LABEL_BEFORE_MM * px_per_mm_x) & (
                x + w <= p.x0 + LABEL_AFTER_MM * px_per_mm_x
            )
            below = (y > base + clear) & (y + h < base + reach)
            above = (y + h < base - clear) & (y > base - reach)
            # pieces of a trace printed off its row's baseline are no labels
            on_level = (y <= p.level + band) & (y + h > p.level - band)
            drop |= small & inside & (below | above) & ~on_level
        drop[0] = False
        if drop.any():
            if out is trace_mask:
                out = trace_mask.copy()
            out[sy0:sy1, sx0:sx1] &= ~drop[labels]
    return out


def mend_label_gaps(
    trace_mask: np.ndarray,
    label_ink: np.ndarray,
    *,
    px_per_mm_x: float,
    px_per_mm_y: float,
) -> np.ndarray:
    """Join the parts of strokes that a lead label's white box cut.

    GE-style prints set each lead label on a white box that hides the trace
    beneath it: a tall R or deep S wave running under its label comes out as two
    strokes, one ending just above the label and one just below. In each column
    of a label (its glyphs' width) where trace ink reaches within
    :data:`LABEL_BOX_REACH_MM` of the glyphs from above and from below, and none
    lies beside the glyphs, the gap is filled. A trace passing by a label has no
    such pair; one drawn over the label's glyphs (ecg-image-kit) touches them,
    and they are not removed as a label.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
        Trace ink, lead labels removed (:func:`remove_labels`).
    label_ink : (M, N) bool ndarray
        The labels' ink that was removed.
    px_per_mm_x, px_per_mm_y : float
        Grid scale.

    Returns
    -------
    (M, N) bool ndarray
        The mask with the gaps filled (``trace_mask`` itself when none is).

    Raises
    ------
    InvalidImageError
        A mask that is not 2-D, or the two of different shapes.
    ValueError
        A scale that is not a finite number > 0.
    """
    import cv2

    mask = check_mask(trace_mask, "trace_mask")
    labels = check_mask(label_ink, "label_ink")
    if labels.shape != mask.shape:
        raise InvalidImageError(
            f"label_ink is {labels.shape[1]}x{labels.shape[0]} px, "
            f"expected the trace mask's {mask.shape[1]}x{mask.shape[0]}"
        )
    px_per_mm_x = check_scale(px_per_mm_x, "px_per_mm_x")
    px_per_mm_y = check_scale(px_per_mm_y, "px_per_mm_y")
    cols = np.flatnonzero(labels.any(axis=0))
    if cols.size == 0:
        return mask
    h, w = mask.shape
    reach = max(1, int(round(LABEL_BOX_REACH_MM * px_per_mm_y)))
    side = max(1, int(round(LABEL_BOX_REACH_MM * px_per_mm_x)))
    out = mask
    # Labels stand in a few narrow strips of columns: label those, not the page.
    # The glyphs of one label are one group: letters stand closer than the reach.
    for strip in np.split(cols, np.flatnonzero(np.diff(cols) > 2 * side) + 1):
        s0, s1 = int(strip[0]), int(strip[-1]) + 1
        sub = np.ascontiguousarray(labels[:, s0:s1]).view(np.uint8)
        grown = cv2.dilate(sub, np.ones((1, 2 * side + 1), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
        for k in range(1, n):
            gx, y0, gw, gh = (int(v) for v in stats[k, :4])
            y1 = y0 + gh
            # the glyphs' own columns (the growth widened the group)
            inked = np.flatnonzero(sub[y0:y1, gx : gx + gw].any(axis=0))
            if inked.size == 0 or y0 < reach or y1 + reach > h:
                continue
            x0, x1 = s0 + gx + int(inked[0]), s0 + gx + int(inked[-1]) + 1
            above = mask[y0 - reach : y0, x0:x1]
            below = mask[y1 : y1 + reach, x0:x1]
            cut = above.any(axis=0) & below.any(axis=0) & ~mask[y0:y1, x0:x1].any(axis=0)
            if not cut.any():
                continue
            # from the lowest ink above the glyphs to the highest below, column by column
            top = y0 - 1 - np.argmax(above[::-1], axis=0)
            bottom = y1 + np.argmax(below, axis=0)
            if out is mask:
                out = mask.copy()
            for c in np.flatnonzero(cut):
                out[top[c] : bottom[c] + 1, x0 + c] = True
    return out


def foreign_strokes(
    trace_mask: np.ndarray, layout: LayoutResult, *, px_per_mm_x: float, px_per_mm_y: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per row, the ink just after its panel boundaries that belongs to a neighbour.

    At a boundary shared by two adjacent rows, a lead's first wave may reach far
    into the neighbouring row (a deep S wave of the upper row down to the lower
    row's trace, whose own new lead starts elsewhere), and that row's tracker,
    free to start its new lead anywhere, may take it. In a window from
    :data:`PANEL_START_BEFORE_MM` before the boundary to :data:`PANEL_START_S`
    after it, between the two rows' baselines (:data:`JOIN_BASELINE_MM` beyond
    each), the ink is cut into connected pieces (separator bars removed, pieces a
    pixel apart joined: a thin steep stroke breaks up); a piece
    that reaches within :data:`JOIN_BASELINE_MM` of one row's baseline and not of
    the other's is the first row's, and the other row is told not to take it. A
    piece that joins both rows' baselines, or neither, is left to the trackers.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
        Trace ink of the deskewed page (lead labels removed).
    layout : LayoutResult
        Rows (top to bottom) and panels matched on the page.
    px_per_mm_x, px_per_mm_y : float
        Grid scale.

    Returns
    -------
    list of (ys, xs) pairs of (K,) int ndarrays
        One per row of ``layout``: page pixels that row must not take (empty when
        none).

    Raises
    ------
    InvalidImageError
        ``trace_mask`` is not a 2-D mask.
    ValueError
        A scale that is not a finite number > 0.
    """
    import cv2

    mask = check_mask(trace_mask, "trace_mask")
    px_per_mm_x = check_scale(px_per_mm_x, "px_per_mm_x")
    px_per_mm_y = check_scale(px_per_mm_y, "px_per_mm_y")
    h, w = mask.shape
    empty = np.zeros(0, dtype=np.intp)
    out: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in layout.rows]
    join = JOIN_BASELINE_MM * px_per_mm_y
    # each row's panel boundaries (its panels' starts after its first)
    starts: list[set[float]] = [set() for _ in layout.rows]
    for p in layout.panels:
        if p.t0_s > 0:
            starts[p.row].add(round(p.x0, PANEL_X_DECIMALS))
    for r in range(len(layout.rows) - 1):
        upper, lower = layout.rows[r], layout.rows[r + 1]
        if not (np.isfinite(upper.y) and np.isfinite(lower.y)) or lower.y - upper.y <= 2 * join:
            continue
        for xb in sorted(starts[r] & starts[r + 1]):
            x0 = int(max(0, np.floor(xb - PANEL_START_BEFORE_MM * px_per_mm_x)))
            x1 = int(min(w, np.ceil(xb + PANEL_START_S * layout.px_per_s)))
            y0 = int(max(0, np.floor(upper.y - join)))
            y1 = int(min(h, np.ceil(lower.y + join)))
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            win = np.ascontiguousarray(mask[y0:y1, x0:x1]).copy()
            _remove_tick(win, xb - x0, px_per_mm_x, px_per_mm_y)
            # pieces a pixel apart are one (a thin steep stroke breaks up)
            grown = cv2.dilate(win.view(np.uint8), np.ones((3, 3), np.uint8))
            n, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
            labels[~win] = 0
            top = y0 + stats[1:, cv2.CC_STAT_TOP] + 1  # the growth's pixel
            bottom = top + stats[1:, cv2.CC_STAT_HEIGHT] - 3
            joins_upper = top <= upper.y + join
            joins_lower = bottom >= lower.y - join
            # a piece of the upper row's is foreign to the lower row, and back
            denied = np.full(n, -1)
            denied[1:][joins_upper & ~joins_lower] = r + 1
            denied[1:][joins_lower & ~joins_upper] = r
            to_row = denied[labels]
            for k in (r, r + 1):
                ys, xs = np.nonzero(to_row == k)
                if ys.size:
                    out[k].append((ys + y0, xs + x0))
    return [
        (np.concatenate([y for y, _ in parts]), np.concatenate([x for _, x in parts]))
        if parts
        else (empty, empty)
        for parts in out
    ]
