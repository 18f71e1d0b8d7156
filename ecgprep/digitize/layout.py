"""Lead layouts and the stage that finds them on the page.

A layout is a list of printed rows; each row is a list of panels ``(lead, t0_s,
duration_s)`` laid side by side over the row's 10 s. :func:`find_layout` finds the
rows of a layout from the trace mask itself (the horizontal profile of the ink),
and the time origin of each row from the horizontal extent of its trace, so scale,
margins, crops and header height may vary freely.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .._profile import longest_run
from .._validate import check_image, check_mask, check_positive, check_scale
from ..errors import InvalidImageError, LayoutError
from ..standards import (
    AUTO,
    LAYOUTS,
    PAPER_SPEED_MM_S,
    PAPER_SPEEDS_MM_S,
    PULSE_SECONDS,
    RECORD_SECONDS,
    rhythm_count,
    window_name,
)
from ..standards import layout_rows as _layout_rows
from .page import ROW_GAP_MM, RowScan, find_trace_rows, ink_profile
from .trace import column_runs

__all__ = [
    "LAYOUTS",
    "LAYOUTS_BY_ROWS",
    "Panel",
    "RowInfo",
    "LayoutResult",
    "layout_rows",
    "find_layout",
    "snap_origin",
    "agreed_end",
    "candidate_layouts",
    "partial_layouts",
    "PARTIAL_OF",
    "paper_speed_of",
    "paper_right_edge",
    "rows_cut",
]

#: Trace rows on a page -> the layouts that print that many, most common first.
LAYOUTS_BY_ROWS: dict[int, tuple[str, ...]] = {
    3: ("3x4",),
    4: ("3x4+1",),
    5: ("3x4+2",),
    6: ("3x4+3", "6x2"),
    7: ("6x2+1",),
    12: ("12x1",),
}


def layout_rows(name: str) -> list[list[tuple[str, float, float]]]:
    """The rows of the layout ``name`` (:func:`ecgprep.standards.layout_rows`)."""
    return _layout_rows(name)


#: The layouts a partial page's rows are matched against, most common first
#: (:func:`partial_layouts`).
PARTIAL_OF: tuple[str, ...] = ("3x4", "3x4+1", "3x4+2", "3x4+3", "6x2", "6x2+1", "12x1")


def partial_layouts(n_rows: int) -> tuple[str, ...]:
    """Every run of ``n_rows`` consecutive rows of the standard layouts: a partial page.

    A crop, or a photo that left rows out, prints some rows of a layout. Each
    set of rows is named once (:func:`ecgprep.standards.window_name`), after the
    first layout of :data:`PARTIAL_OF` printing it; none that is a whole layout
    but for its strips' leads (the first four rows of a 3x4+2 are a 3x4+1 whose
    strip is V1: the whole layout names its strips itself); most common layout
    first, top rows first.

    Examples
    --------
    >>> partial_layouts(2)[:4]
    ('3x4[rows 1-2]', '3x4[rows 2-3]', '3x4+1[rows 3-4]', '3x4+2[rows 3-4]')
    >>> len(partial_layouts(1))
    21
    """
    n = int(n_rows)
    whole = {_strips_unnamed(layout_rows(name)) for name in LAYOUTS if rhythm_count(name)}
    seen = {repr(layout_rows(name)) for name in LAYOUTS}
    out = []
    for base in PARTIAL_OF:
        rows = layout_rows(base)
        for first in range(len(rows) - n + 1):
            part = rows[first : first + n]
            key = repr(part)
            if n > 0 and key not in seen and _strips_unnamed(part) not in whole:
                seen.add(key)
                out.append(window_name(base, first + 1, first + n))
    return tuple(out)


def _strips_unnamed(rows) -> tuple:
    """Rows with the leads of their 10 s strips left out (a short row keeps its own)."""
    return tuple(tuple(p if len(row) > 1 else ("", *p[1:]) for p in row) for row in rows)


def candidate_layouts(n_rows: int) -> tuple[str, ...]:
    """The layouts printing ``n_rows`` trace rows, most common first.

    When no layout prints that many, the layouts printing the nearest counts;
    when every layout prints more, the rows of them a partial page may hold
    (:func:`partial_layouts`).

    Raises
    ------
    LayoutError
        ``n_rows`` is 0.

    Examples
    --------
    >>> candidate_layouts(6), candidate_layouts(10), candidate_layouts(2)[0]
    (('3x4+3', '6x2'), ('12x1',), '3x4[rows 1-2]')
    """
    n = int(n_rows)
    if n in LAYOUTS_BY_ROWS:
        return LAYOUTS_BY_ROWS[n]
    if n <= 0:
        raise LayoutError("no trace row found on the page")
    if n < min(LAYOUTS_BY_ROWS):
        return partial_layouts(n)
    # A row missed or a band of text taken for one: the layouts of the nearest
    # counts (the reading that best obeys Einthoven's law is kept).
    gap = min(abs(k - n) for k in LAYOUTS_BY_ROWS)
    return tuple(
        name for k, names in LAYOUTS_BY_ROWS.items() if abs(k - n) == gap for name in names
    )


#: How far a page's rows may run past 10 s of trace and still be taken for 10 s
#: (share): the calibration pulse (0.2 s) and the gap after it are part of the ink.
ROW_INK_OVERRUN = 0.2
#: How far short of 10 s a page's rows may be and still be taken for 10 s (share):
#: a row's first and last millimetres may be faint or cropped.
ROW_INK_SHORTFALL = 0.1
#: The same below the standard speed (share): a 10 mm/s row is only 100 mm long,
#: as long as a 25 mm/s page cut after 4 s, so a slow speed needs rows of full length.
SLOW_ROW_SHORTFALL = 0.03
#: How far the rows' ink may start before the origin found from their ends, beyond
#: the calibration pulse's 0.2 s (mm): the gap printers leave after the pulse.
#: Ink starting earlier means the rows' ends are not where the pen stopped.
ORIGIN_OVERRUN_MM = 4.0
#: Share of the window above a baseline that a column's ink may fill and still be
#: a pulse's edge (a pulse stands 5-20 mm, the window is most of the way to the
#: row above); a page's frame fills it all.
FRAME_SHARE = 0.9
#: How far from the pulse's top its flat top's ink may lie (mm): a stroke and a
#: little tilt.
PULSE_TOP_MM = 1.0
#: Widths a calibration pulse's run of tall columns may have, as shares of 0.2 s
#: at the paper speed: some carts draw the pulse 0.1 s wide, the strokes add a
#: little, a QRS is far narrower.
PULSE_RUN_WIDTH_SHARE = (0.4, 1.6)
#: Narrowest run a pulse may have at any speed (mm): some carts draw it 2.5 mm
#: wide at 50 mm/s as at 25 (real-dev's Fukuda page), 0.25 of 0.2 s there.
PULSE_RUN_MIN_MM = 2.0


def paper_speed_of(row_ink_mm: float) -> float:
    """The paper speed (mm/s) at which rows holding ``row_ink_mm`` of ink span 10 s.

    Parameters
    ----------
    row_ink_mm : float
        Length of the page's rows of trace ink (mm; the median row).

    Returns
    -------
    float
        One of :data:`ecgprep.standards.PAPER_SPEEDS_MM_S`.

    Raises
    ------
    LayoutError
        No standard speed makes the rows 10 s long (within
        :data:`ROW_INK_SHORTFALL` short and :data:`ROW_INK_OVERRUN` over).

    Examples
    --------
    >>> paper_speed_of(255.0), paper_speed_of(508.0)
    (25.0, 50.0)
    """
    for speed in PAPER_SPEEDS_MM_S:
        ratio = row_ink_mm / (RECORD_SECONDS * speed)
        short = SLOW_ROW_SHORTFALL if speed < PAPER_SPEED_MM_S else ROW_INK_SHORTFALL
        if 1.0 - short <= ratio <= 1.0 + ROW_INK_OVERRUN:
            return float(speed)
    speeds = ", ".join(f"{v:g}" for v in PAPER_SPEEDS_MM_S)
    raise LayoutError(
        f"the rows hold {row_ink_mm:.0f} mm of trace: not 10 s at {speeds} mm/s "
        "(a cut page or a layout of shorter rows; name paper_speed to read it)"
    )


@dataclass(frozen=True)
class Panel:
    """One printed lead segment.

    ``lead`` is printed over ``[t0_s, t0_s + duration_s)`` at pixel columns ``[x0, x1)``.
    """

    lead: str
    row: int
    t0_s: float
    duration_s: float
    x0: float
    x1: float
    #: Level of the trace over the panel's first millimetres where it stands off
    #: its row's baseline (px; :func:`panel_level`), NaN where it does not: ink
    #: there is trace, not a label, whatever its distance from the baseline.
    level: float = float("nan")


@dataclass(frozen=True)
class RowInfo:
    """A printed row.

    ``y`` estimates its baseline; its trace is searched in rows ``[y_top, y_bottom)``.
    """

    index: int
    y: float
    y_top: int
    y_bottom: int
    x_start: float
    x_end: float


@dataclass(frozen=True)
class LayoutResult:
    """Where the rows and panels of a layout lie on the (deskewed) page.

    Attributes
    ----------
    name : str
        Layout name.
    rows : tuple of RowInfo
        One per printed row, top to bottom.
    panels : tuple of Panel
        One per printed lead segment.
    px_per_s : float
        Horizontal scale used (pixels per second).
    confidence : float
        0-1; how well the ink profile matched the expected number of rows.
    origin_shift_px : float
        How far the time origin found from the rows' ink was moved to lie on a
        grid line (see :func:`find_layout`); NaN when it was not moved.
    paper_speed : float
        mm/s the rows were read at (named, or found from their length).
    speed_found : bool
        The speed was named or found from the rows' length (False: the rows
        match no standard speed and 25 mm/s was assumed).
    trace_rows : int
        Trace rows found on the page (:func:`ecgprep.digitize.page.find_trace_rows`); the
        layout's own count when they match.
    record_s : float
        Seconds a row holds: 10, or less on a page whose rows are shorter. On a
        cut page (``cut``) the panels keep their times and those past the page's
        edge are shortened or left out; otherwise (a cart printing shorter rows)
        the layout's panels are scaled to the rows.
    cut : bool
        The page's right edge cuts the rows short of 10 s (:func:`rows_cut`).
    blocks : int
        Column blocks the layout was printed in: 1, or 2 for a 6x2 page printed
        as two blocks side by side, each behind its own pulses
        (:mod:`ecgprep.digitize.blocks`); ``rows`` then lists the left block's
        rows, then the right block's.
    """

    name: str
    rows: tuple[RowInfo, ...]
    panels: tuple[Panel, ...]
    px_per_s: float
    confidence: float
    origin_shift_px: float = float("nan")
    paper_speed: float = PAPER_SPEED_MM_S
    speed_found: bool = True
    trace_rows: int = -1
    record_s: float = RECORD_SECONDS
    cut: bool = False
    blocks: int = 1


#: How near the page's right edge the rows' ink may end for the edge to have cut
#: them (mm): a scanner's lid or a camera's frame ends the paper mid-record, and the
#: rows run into the frame's last millimetres (real-dev's cut pages: 1.0-4.5 mm);
#: printers end their rows a margin before the paper's edge (ecg-image-kit: 9 mm
#: and more).
CUT_EDGE_MM = 6.0
#: Shortest part of a panel a cut page must still show for the lead to be read
#: (s): a sliver of trace after the last column boundary is not a lead.
CUT_PANEL_MIN_S = 0.4


#: Grid ink is this many grey levels darker than the paper (its 90th percentile):
#: pink 1 mm lines in the luma 20-25, a scanner's white bed none.
PAPER_EDGE_BELOW = 12
#: A column is blank where its grid ink is under this share of the page's own
#: (median over its middle half): beyond the paper, on a scanner's bed or the
#: fill a warp leaves, nothing.
PAPER_EDGE_BLANK_SHARE = 0.1
#: Below this share of a column on grid ink, the page shows no grid to end.
PAPER_EDGE_MIN_LEVEL = 0.02


def paper_right_edge(gray: np.ndarray, trace_mask: np.ndarray, px_per_mm_x: float) -> int:
    """Where the paper ends on the right: the image's width, or where its grid
    ends before a blank margin.

    A page tilted on a scanner's white bed, turned upright, keeps a margin of
    bed (or of a warp's fill) right of the paper: as light as the paper, and with
    no grid. A page whose edge cuts its rows then ends where its grid does.

    Parameters
    ----------
    gray : (M, N) uint8 ndarray
        The page's luma, deskewed.
    trace_mask : (M, N) bool ndarray
        Its trace ink (left out of the grid's).
    px_per_mm_x : float
        Horizontal grid scale.

    Returns
    -------
    int
        ``N``, or the first column of a blank margin at least 1 mm wide that runs
        to the right edge (columns whose grid ink, smoothed over 1 mm, is under
        :data:`PAPER_EDGE_BLANK_SHARE` of the page's); ``N`` when the page shows
        no grid (:data:`PAPER_EDGE_MIN_LEVEL`).

    Raises
    ------
    InvalidImageError
        ``gray`` or ``trace_mask`` is not a 2-D image of at least 2 x 2 pixels.
    ValueError
        The two differ in shape, or ``px_per_mm_x`` is not a finite number > 0.

    Examples
    --------
    >>> gray = np.full((100, 200), 250, np.uint8)
    >>> gray[::5, :170] = 200  # grid lines up to x = 170, bed beyond
    >>> int(paper_right_edge(gray, np.zeros_like(gray, bool), 5.0))
    170
    """
    gray = np.asarray(check_image(gray, "gray", allow_gray=True))
    if gray.ndim != 2:
        raise InvalidImageError(f"gray: expected a 2-D luma image, got shape {gray.shape}")
    trace_mask = check_mask(trace_mask, "trace_mask")
    if trace_mask.shape != gray.shape:
        raise ValueError(f"trace_mask shape {trace_mask.shape} differs from gray's {gray.shape}")
    px_per_mm_x = check_scale(px_per_mm_x, "px_per_mm_x")
    h, w = gray.shape
    paper = float(np.percentile(gray[::4, ::4], 90))
    # every other row: the columns' share of grid ink as well, at half the cost
    ink = (gray[::2] < paper - PAPER_EDGE_BELOW) & ~trace_mask[::2]
    k = max(1, int(round(px_per_mm_x)))
    col = np.convolve(ink.mean(axis=0), np.ones(k) / k, mode="same")
    level = float(np.median(col[w // 4 : 3 * w // 4])) if w >= 4 else 0.0
    if level < PAPER_EDGE_MIN_LEVEL:
        return w
    inked = np.flatnonzero(col >= PAPER_EDGE_BLANK_SHARE * level)
    edge = int(inked[-1]) + 1 if inked.size else w
    # the smoothing spreads the grid's last line by half a window
    edge = min(w, edge - k // 2)
    return w if w - edge < px_per_mm_x else edge


def rows_cut(rows, width: int, px_per_mm_x: float) -> bool:
    """Does the page's right edge cut its rows (their median end lies within
    :data:`CUT_EDGE_MM` of it)?

    Parameters
    ----------
    rows : sequence of TraceRow
        The page's trace rows (:attr:`ecgprep.digitize.page.RowScan.rows`).
    width : int
        Where the paper ends on the right (px): the page's width, or
        :func:`paper_right_edge`.
    px_per_mm_x : float
        Horizontal grid scale.

    Returns
    -------
    bool
        False when there is no row.

    Examples
    --------
    >>> from ecgprep.digitize.page import TraceRow
    >>> row = TraceRow(50.0, 40, 990, 1.0, 237.5, 1.0, 1.0, 1.0, 1.0, True)
    >>> rows_cut([row], 1000, 4.0), rows_cut([row], 1100, 4.0)
    (True, False)
    """
    if not rows:
        return False
    end = float(np.median([r.x1 for r in rows]))
    return end >= width - CUT_EDGE_MM * px_per_mm_x


#: Width after a panel's start over which the trace's own level is measured (mm):
#: where lead labels stand (:data:`ecgprep.digitize.ink.LABEL_AFTER_MM`).
PANEL_LEVEL_MM = 12.0
#: Height of the band whose inked columns are counted at each level (mm): a
#: stroke, a little tilt and noise.
PANEL_LEVEL_BAND_MM = 1.0
#: Farthest from the row's baseline a panel's level is looked for (mm), and at most
#: :data:`PANEL_LEVEL_ROW_SHARE` of the rows' spacing: some carts centre each lead
#: on its own (real-dev's Fukuda page: 6 mm off the row's other panels); text
#: printed above the rows stands farther.
PANEL_LEVEL_REACH_MM = 8.0
PANEL_LEVEL_ROW_SHARE = 0.3
#: Share of the strip's columns the level's band must ink: a trace runs through
#: the strip; a label beside it covers a few millimetres.
PANEL_LEVEL_SHARE = 0.6
#: Least distance from the row's baseline for a panel's level to stand apart (mm):
#: nearer, ink is told from labels by its distance from the baseline alone
#: (:data:`ecgprep.digitize.ink.LABEL_CLEAR_MM`).
PANEL_LEVEL_MIN_MM = 1.5


def panel_level(
    mask: np.ndarray,
    panel: Panel,
    row_y: float,
    *,
    spacing: float,
    px_per_mm_x: float,
    px_per_mm_y: float,
) -> float:
    """The trace's level over the first :data:`PANEL_LEVEL_MM` of a panel (px), or NaN.

    The level is the centre of the :data:`PANEL_LEVEL_BAND_MM` band, within
    :data:`PANEL_LEVEL_REACH_MM` of ``row_y``, whose rows hold ink in the most of
    the strip's columns. NaN where that band inks under
    :data:`PANEL_LEVEL_SHARE` of them or lies within :data:`PANEL_LEVEL_MIN_MM`
    of ``row_y`` (the row's baseline serves).

    Parameters
    ----------
    mask : (M, N) bool ndarray
        Trace ink of the page.
    panel : Panel
    row_y : float
        The panel's row's baseline (px).
    spacing : float
        The rows' spacing (px; ``inf`` for one row).
    px_per_mm_x, px_per_mm_y : float
        Grid scale.

    Returns
    -------
    float
    """
    import cv2

    h, w = mask.shape
    reach = min(PANEL_LEVEL_REACH_MM * px_per_mm_y, PANEL_LEVEL_ROW_SHARE * spacing)
    y0, y1 = max(0, int(row_y - reach)), min(h, int(row_y + reach) + 1)
    x0 = max(0, int(panel.x0))
    x1 = min(w, int(panel.x0 + PANEL_LEVEL_MM * px_per_mm_x), int(np.ceil(panel.x1)))
    if y1 - y0 < 3 or x1 - x0 < 3:
        return float("nan")
    strip = mask[y0:y1, x0:x1].astype(np.uint8)
    half = max(1, int(round(0.5 * PANEL_LEVEL_BAND_MM * px_per_mm_y)))
    # a column counts at a level when it holds ink within half the band of it
    inked = cv2.dilate(strip, np.ones((2 * half + 1, 1), np.uint8)).sum(axis=1)
    most = int(inked.max())
    if most < PANEL_LEVEL_SHARE * (x1 - x0):
        return float("nan")
    level = float(y0 + np.flatnonzero(inked == most).mean())  # the plateau's middle
    if abs(level - row_y) < PANEL_LEVEL_MIN_MM * px_per_mm_y:
        return float("nan")
    return level


#: How far a row may run past the page's width, and start left of its edge (share
#: of the width): a scan or a photo that cut a hair of the margin is still read.
PAGE_OVERRUN_SHARE = 0.02
#: Closest two rows' profile peaks may lie when the page's trace rows are not as
#: many as the layout prints and the strongest bands are taken instead (mm): a
#: row's P, QRS and T make one band.
PEAK_MIN_SEP_MM = 8.0
#: ... and as a share of an even spacing of the layout's rows over the page's
#: height, at least: under half of it, so rows printed closer than even still count.
PEAK_MIN_SEP_SHARE = 0.45
#: Share of a full row's ink the weakest row's profile peak must carry for the
#: layout's confidence to be 1: a row with panels missing or faint still counts.
CONFIDENCE_INK_SHARE = 0.25
#: Height over which a flat row's ink spreads in the smoothed ink profile (mm):
#: ``N`` pixels of ink peak near ``N / 3.8 mm`` after a Gaussian of
#: :data:`~ecgprep.digitize.page.PROFILE_SIGMA_MM`; 3 mm rounds that down.
CONFIDENCE_SPREAD_MM = 3
#: How far a row's search band reaches towards each neighbouring row (share of
#: their spacing): generous, the tracker keeps the right trace where rows overlap.
ROW_BAND_SHARE = 0.95
#: Half-height of the band whose inked columns give a row's ends (share of the
#: spacing to each neighbour): the row's own trace, not the neighbours' waves.
ROW_ENDS_SHARE = 0.3
#: How close (mm) two estimates of the rows' common end must lie to agree
#: (:func:`agreed_end`): a stroke's width, a little tilt, and rows that end a
#: few px apart (real-dev's GE page: its rhythm strips 0.6 mm longer).
ROW_END_AGREE_MM = 2.0
#: A band of ink beyond the outer rows that is not a trace row (a page frame, a
#: ruler, a line of text) ends the outer row's search band when ink lies within
#: :data:`OUTER_LINE_HALF_MM` of its centre over at least this share of the
#: rows' length: the grid's frame 14.5 mm under real-dev's 6x2 page covers 0.50
#: and its bottom row's tracker followed it where the trace was faint; the
#: other bands of ink in the outer rows' search bands on the real-dev, ecg-dev,
#: kaggle-dev and real_cases pages cover at most 0.29 (text).
OUTER_LINE_SHARE = 0.4
#: ... half-height of that band (mm): a line and a pixel or two of tilt.
OUTER_LINE_HALF_MM = 1.0
#: ... and only when it lies this far or farther from the row's baseline (mm):
#: nearer, the ink is the row's own (a long flat trace a little off its peak).
OUTER_LINE_MIN_MM = 5.0


#: Farthest a time origin found from the ink may be moved onto a 5 mm grid line
#: (mm). Printers start their rows on a major line (ecg-image-kit, and so the
#: competition's renders, always do); the ink's end gives the origin to within
#: about 0.35 mm (a blurred stroke's end), and a row starting off the grid is
#: left where its ink puts it unless it is this close to a line.
ORIGIN_SNAP_MAJOR_MM = 0.6
#: The same when only the 1 mm lines were resolved (mm): under a third of their
#: period, so a wrong line is never taken.
ORIGIN_SNAP_MINOR_MM = 0.3
#: Grid period under which the lines given are the 1 mm ones, over which the 5 mm
#: ones (mm): well clear of both, so a period measured a little off is told right.
MINOR_PERIOD_MAX_MM = 2.0


def snap_origin(
    x: float, phase_px: float, period_px: float, px_per_mm: float
) -> tuple[float, float]:
    """Move a time origin ``x`` onto the nearest grid line when it lies close to one.

    Parameters
    ----------
    x : float
        Origin found from the ink (px, the page's column coordinate: pixel ``c``
        covers ``[c, c + 1)``).
    phase_px, period_px : float
        The grid lines stand at ``phase_px + k * period_px``.
    px_per_mm : float
        Horizontal scale; a period under 2 mm is taken for the 1 mm lines.

    Returns
    -------
    x, shift : float
        The origin kept, and how far it was moved (NaN when it was not).

    Examples
    --------
    >>> x, shift = snap_origin(118.5, 0.0, 39.37, 7.874)  # 0.05 mm off a 5 mm line
    >>> round(x, 2), round(shift, 2)
    (118.11, -0.39)
    >>> snap_origin(125.0, 0.0, 39.37, 7.874)  # 0.9 mm off: left alone
    (125.0, nan)
    """
    if not (np.isfinite(phase_px) and np.isfinite(period_px) and period_px > 0):
        return float(x), float("nan")
    line = phase_px + round((x - phase_px) / period_px) * period_px
    minor = period_px < MINOR_PERIOD_MAX_MM * px_per_mm
    tol = (ORIGIN_SNAP_MINOR_MM if minor else ORIGIN_SNAP_MAJOR_MM) * px_per_mm
    if abs(line - x) > tol:
        return float(x), float("nan")
    return float(line), float(line - x)


def agreed_end(ends: list[float], along: list[float], tol: float) -> float:
    """The rows' common end: where most rows' ink says they end.

    Each row gives two estimates: ``ends``, the last inked column of the band
    around it (exact where the pen stopped, but carried on by specks and
    grid-line residue a few mm apart, to the page's edge on a noisy photo), and
    ``along``, the end of its ink along its baseline
    (:attr:`~ecgprep.digitize.page.TraceRow.x1`: clear of specks scattered
    over the band, though not of specks at one level, which make a baseline of
    their own; short where a tall wave leaves the baseline's band). The
    estimate that the most rows (either of their two) lie within ``tol`` of
    wins (then the one the most estimates lie near, the band's, the earliest:
    specks only carry ends on) when it is more than half of them; the result
    is the median of the band's ends there (of the baseline's where none).
    Without such a majority (rows ending apart on a page still bent), the
    median of the band's ends.

    Parameters
    ----------
    ends, along : list of float
        Per row (px, same length), both where the pen stopped (the inked
        columns' end less half a stroke).
    tol : float
        Agreement (px).

    Returns
    -------
    float
        The rows' common end (px).

    Examples
    --------
    >>> agreed_end([2650.0, 2460.0, 2652.0, 2670.0], [2462.0, 2465.0, 2459.0, 2560.0], 14.0)
    2460.0
    >>> agreed_end([2050.0, 2051.0, 2049.0], [1800.0, 2050.0, 1500.0], 12.0)
    2050.0
    >>> agreed_end([3394.0, 3392.0, 3690.0, 3693.0], [3399.0, 3336.0, 3333.0, 3696.0], 18.0)
    3542.0
    """
    e, a = np.asarray(ends, float), np.asarray(along, float)

    def support(c: float) -> tuple[int, int]:
        ne, na = np.abs(e - c) <= tol, np.abs(a - c) <= tol
        return int(np.count_nonzero(ne | na)), int(np.count_nonzero(ne) + np.count_nonzero(na))

    (votes, _), _, best = max(
        [(support(c), 1, c) for c in e] + [(support(c), 0, c) for c in a],
        key=lambda t: (t[0], t[1], -t[2]),
    )
    if 2 * votes <= e.size:  # no majority: the band's ends, as they are
        return float(np.median(e))
    near = e[np.abs(e - best) <= tol]
    if near.size == 0:
        near = a[np.abs(a - best) <= tol]
    return float(np.median(near))


def _pick_peaks(profile: np.ndarray, n: int, min_sep: float) -> list[int]:
    """Indices of the ``n`` highest local maxima at least ``min_sep`` apart."""
    p = profile
    interior = (p[1:-1] >= p[:-2]) & (p[1:-1] > p[2:])
    cand = np.nonzero(interior)[0] + 1
    order = cand[np.argsort(p[cand])[::-1]]
    chosen: list[int] = []
    for c in order:
        if all(abs(c - o) >= min_sep for o in chosen):
            chosen.append(int(c))
            if len(chosen) == n:
                break
    return sorted(chosen)


def _stroke_width(band: np.ndarray) -> float:
    """Median height of the vertical runs of ink in ``band`` (the pen's width where flat)."""
    _, tops, bots = column_runs(band)
    if tops.size == 0:
        return 0.0
    return float(np.median(bots - tops))


def _clear_of_outer_lines(
    rows: list[RowInfo], scan: RowScan, mask: np.ndarray, starts: list[float], px_per_mm: float
) -> None:
    """End the first and last rows' search bands before a frame or text line beyond them.

    Changes ``rows`` in place. ``starts`` are the rows' first inked columns; a
    band of ink among the scan's candidates that is no trace row, lies beyond an
    outer row by :data:`OUTER_LINE_MIN_MM` or more inside its search band, and
    covers :data:`OUTER_LINE_SHARE` of the rows' length (the median row's, from
    its first inked column to its end) ends that band :data:`OUTER_LINE_HALF_MM`
    short of its centre.
    """
    if not rows:
        return
    w = mask.shape[1]
    x0 = int(np.clip(np.median(starts), 0, w))
    x1 = int(np.clip(np.median([r.x_end for r in rows]), 0, w))
    if x1 - x0 < 2:
        return
    half = max(1, int(round(OUTER_LINE_HALF_MM * px_per_mm)))
    near = OUTER_LINE_MIN_MM * px_per_mm
    first, last = rows[0], rows[-1]
    above, below = [], []
    for c in scan.candidates:
        if c.is_trace or not np.isfinite(c.y):
            continue
        if first.y_top < c.y < first.y - near:
            side = above
        elif last.y + near < c.y < last.y_bottom:
            side = below
        else:
            continue
        band = mask[max(0, int(c.y) - half) : int(c.y) + half + 1, x0:x1]
        if band.any(axis=0).mean() >= OUTER_LINE_SHARE:
            side.append(c.y)
    if above:
        rows[0] = replace(first, y_top=int(np.ceil(max(above) + half)))
    if below:
        last = rows[-1]
        rows[-1] = replace(last, y_bottom=int(np.floor(min(below) - half)))


def find_layout(
    trace_mask: np.ndarray,
    *,
    px_per_mm_x: float,
    px_per_mm_y: float,
    layout: str = "3x4+1",
    paper_speed: float | str = PAPER_SPEED_MM_S,
    grid_lines_x: tuple[float, float] | None = None,
    scan: RowScan | None = None,
    paper_x1: float | None = None,
) -> LayoutResult:
    """Find the printed rows and lead panels of ``layout`` on a deskewed page.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
        Trace ink (from :func:`ecgprep.colors.separate_colors`), page deskewed.
    px_per_mm_x, px_per_mm_y : float
        Grid scale (from :func:`ecgprep.grid.detect_grid`).
    layout : str
        A layout name (:func:`ecgprep.standards.layout_rows`), or ``"auto"``: the
        most common layout printing as many rows as the page holds
        (:func:`candidate_layouts`).
    paper_speed : float or "auto"
        mm/s, or ``"auto"``: the standard speed at which the page's rows hold 10 s
        (:func:`paper_speed_of`).
    grid_lines_x : (float, float), optional
        ``(phase_px, period_px)`` of the vertical grid lines (5 mm lines, or 1 mm
        lines when those alone were resolved). The time origin found from the
        ink is moved onto the nearest line when it lies within
        :data:`ORIGIN_SNAP_MAJOR_MM` (:data:`ORIGIN_SNAP_MINOR_MM`) of it
        (:func:`snap_origin`).
    scan : RowScan, optional
        The page's trace rows (:func:`ecgprep.digitize.page.find_trace_rows`; computed
        when not given).
    paper_x1 : float, optional
        Where the paper ends on the right (px; :func:`paper_right_edge`): rows
        ending near it are cut by the page's edge (:func:`rows_cut`). Default:
        the mask's width.

    Returns
    -------
    LayoutResult

    Raises
    ------
    LayoutError
        When fewer rows of ink than the layout needs are found, no layout prints
        as many rows as the page holds (``"auto"``), or the rows are too short
        for their 10 s.
    InvalidImageError
        ``trace_mask`` is not a 2-D mask of at least 2 x 2 pixels.
    ValueError
        A scale or ``paper_speed`` that is not a finite number > 0 (or
        ``"auto"``), or an unknown layout.

    Notes
    -----
    The rows are the page's trace rows when as many were found as the layout
    prints (text and grid residue left out); otherwise the layout's count of
    strongest bands of ink, and the confidence says how weak the weakest is.
    """
    mask = check_mask(trace_mask, "trace_mask")
    px_per_mm_x = check_scale(px_per_mm_x, "px_per_mm_x")
    px_per_mm_y = check_scale(px_per_mm_y, "px_per_mm_y")
    if scan is None:
        scan = find_trace_rows(mask, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    found = scan.rows
    if layout == AUTO:
        layout = candidate_layouts(len(found))[0]
    rows_spec = layout_rows(layout)
    n_rows = len(rows_spec)
    h, w = mask.shape
    speed_found = True
    if paper_speed == AUTO:
        try:
            paper_speed = paper_speed_of(float(np.median([r.length_mm for r in found])))
        except (LayoutError, ValueError):  # no row, or rows of no standard length
            paper_speed, speed_found = PAPER_SPEED_MM_S, False
    paper_speed = check_positive(paper_speed, "paper_speed")
    px_per_s = paper_speed * px_per_mm_x
    row_len = RECORD_SECONDS * px_per_s
    ink_px = float(np.median([r.x1 - r.x0 for r in found])) if found else 0.0
    # Rows holding less than 10 s at this speed, where 10 s do not fit (a cart
    # printing shorter rows, a cut page) or no standard speed fits: read what
    # is there, the layout's panels scaled to the rows.
    too_wide = row_len > w * (1.0 + PAGE_OVERRUN_SHARE)
    short = bool(found) and ink_px < (1.0 - ROW_INK_SHORTFALL) * row_len
    short = short and (too_wide or not speed_found)
    if too_wide and not short:
        raise LayoutError(
            f"a 10 s row needs {row_len:.0f} px at {px_per_mm_x:.2f} px/mm "
            f"and {paper_speed:g} mm/s but the page is {w} px wide"
        )
    smooth = scan.profile
    if smooth.shape != (h,):  # a scan made without its profile
        smooth = ink_profile(mask, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    if len(found) == n_rows:
        peaks = [int(round(r.y)) for r in found]
    else:
        min_sep = max(PEAK_MIN_SEP_MM * px_per_mm_y, PEAK_MIN_SEP_SHARE * h / (n_rows + 1))
        peaks = _pick_peaks(smooth, n_rows, min_sep)
    if len(peaks) < n_rows:
        raise LayoutError(
            f"layout {layout!r} needs {n_rows} rows of trace but only {len(peaks)} were found"
        )
    # Confidence: each chosen peak should carry a sizeable share of a full row of ink.
    strength = np.array([smooth[p] for p in peaks])
    full = CONFIDENCE_INK_SHARE * row_len / (CONFIDENCE_SPREAD_MM * px_per_mm_y)
    confidence = float(np.clip(strength.min() / (full + 1e-9), 0, 1))

    rows: list[RowInfo] = []
    panels: list[Panel] = []
    ys = np.array(peaks, dtype=np.float64)
    starts, halves = [], []
    for i, y in enumerate(ys):
        up = (y - ys[i - 1]) if i > 0 else min(y, (ys[1] - ys[0]) if n_rows > 1 else y)
        down = (
            (ys[i + 1] - y)
            if i < n_rows - 1
            else min(h - y, (ys[-1] - ys[-2]) if n_rows > 1 else h - y)
        )
        # Search band: generous, the tracker keeps the right trace where rows overlap.
        y_top = int(max(0, np.floor(y - ROW_BAND_SHARE * up)))
        y_bottom = int(min(h, np.ceil(y + ROW_BAND_SHARE * down)))
        band = mask[
            max(0, int(y - ROW_ENDS_SHARE * up)) : min(h, int(y + ROW_ENDS_SHARE * down) + 1)
        ]
        seg = longest_run(band.any(axis=0), max_gap=int(ROW_GAP_MM * px_per_mm_x) + 1)
        if seg is None:
            raise LayoutError(f"row {i} of layout {layout!r} holds no trace")
        # The last inked column's right edge, less half a stroke: where the pen stopped.
        halves.append(0.5 * _stroke_width(band))
        x_end = float(seg[1]) - halves[-1]
        starts.append(float(seg[0]))
        rows.append(RowInfo(i, float(y), y_top, y_bottom, x_end - row_len, x_end))
    _clear_of_outer_lines(rows, scan, mask, starts, px_per_mm_y)
    # All rows of the standard layouts end at the same x: vote for it.
    ends = [r.x_end for r in rows]
    if len(found) == n_rows:
        along = [r.x1 - half for r, half in zip(found, halves, strict=True)]
        x_end = agreed_end(ends, along, ROW_END_AGREE_MM * px_per_mm_x)
    else:
        x_end = float(np.median(ends))
    x_start = x_end - row_len
    x_ink = float(np.median(starts))
    record_s = RECORD_SECONDS
    overrun = (PULSE_SECONDS * paper_speed + ORIGIN_OVERRUN_MM) * px_per_mm_x
    cut = False
    if short:
        x_start = _after_pulse(mask, rows, x_ink, px_per_mm_x, px_per_mm_y, paper_speed)
        row_len = max(x_end - x_start, 1.0)
        record_s = row_len / px_per_s
        cut = rows_cut(found, w if paper_x1 is None else paper_x1, px_per_mm_x)
    elif x_start - x_ink > overrun:
        # The rows' ink starts well before the origin their ends give. When a
        # calibration pulse ends there too, the ink runs on past 10 s after it
        # (marks printed after the rows, a neighbouring page): the ends are not
        # where the pen stopped, start the rows after their pulse. Otherwise
        # the early ink is something else (a page edge, a wrinkle's shadow).
        x_pulse = _after_pulse(mask, rows, x_ink, px_per_mm_x, px_per_mm_y, paper_speed)
        if x_pulse != x_ink and x_start - x_pulse > overrun:
            x_start = x_pulse
            x_end = x_start + row_len
    shift = float("nan")
    if grid_lines_x is not None:
        x_start, shift = snap_origin(x_start, *grid_lines_x, px_per_mm=px_per_mm_x)
        x_end = x_start + row_len
    if x_start < -PAGE_OVERRUN_SHARE * w:
        raise LayoutError(
            f"rows end at x={x_end:.0f} px, too close to the left edge "
            f"for 10 s at {px_per_s:.1f} px/s"
        )
    rows = [RowInfo(r.index, r.y, r.y_top, r.y_bottom, x_start, x_end) for r in rows]
    # A cut page's panels keep their times, up to the edge; a short row's are
    # scaled to it.
    k = 1.0 if cut else record_s / RECORD_SECONDS
    for i, spec in enumerate(rows_spec):
        for lead, t0, dur in spec:
            t0, dur = t0 * k, dur * k
            if cut:
                dur = min(dur, record_s - t0)
                if dur < CUT_PANEL_MIN_S:
                    continue
            panels.append(
                Panel(lead, i, t0, dur, x_start + t0 * px_per_s, x_start + (t0 + dur) * px_per_s)
            )
    spacing = float(np.min(np.diff(ys))) if len(ys) > 1 else float("inf")
    panels = [
        replace(
            p,
            level=panel_level(
                mask,
                p,
                rows[p.row].y,
                spacing=spacing,
                px_per_mm_x=px_per_mm_x,
                px_per_mm_y=px_per_mm_y,
            ),
        )
        for p in panels
    ]
    return LayoutResult(
        layout,
        tuple(rows),
        tuple(panels),
        px_per_s,
        confidence,
        shift,
        float(paper_speed),
        speed_found,
        len(found),
        float(record_s),
        cut,
    )


#: Least height of a calibration pulse's edge above its row's baseline (mm): half
#: of 1 mV at 5 mm/mV, taller than any flat trace's wobble.
PULSE_EDGE_MM = 2.5
#: How far after the rows' ink starts their pulse is looked for (s at the paper
#: speed): twice the pulse's 0.2 s, the pulse and a gap as long after it.
PULSE_SEARCH_S = 0.4
#: How far above a row's baseline the pulse's edge is looked for (share of the
#: row's band above it): the pulse's 1 mV, short of the row above's ink.
PULSE_ABOVE_SHARE = 0.8
#: Widest gap between two of a pulse's tall columns (mm, at least
#: :data:`PULSE_GAP_MIN_PX`): a pulse whose ink is broken by a faint column or two
#: is still one pulse.
PULSE_GAP_MM = 0.5
PULSE_GAP_MIN_PX = 2
#: Columns after a rising edge's first that are still the edge (px): an edge
#: drawn anti-aliased over two or three columns, broken in different places.
PULSE_EDGE_SPAN_PX = 2
#: Share of the way from a pulse's top down to its window's bottom its rising
#: edge must be inked: most of it, though a scan or the grid's removal breaks it.
PULSE_EDGE_FILL = 0.6


def edge_top(window: np.ndarray, edge: int, bottom: int) -> int:
    """Top row of a pulse's rising edge at column ``edge`` that rises to row ``bottom``.

    The highest ink of the edge's columns (``edge`` and the next
    :data:`PULSE_EDGE_SPAN_PX`) below which they are inked over
    :data:`PULSE_EDGE_FILL` of the way down to ``bottom`` (exclusive): a thin
    edge broken by a scan, or by grid lines taken out, still rises to its top;
    ink above it over a blank gap (the row above's waves, text) is not its top.
    """
    col = window[:bottom, edge : edge + PULSE_EDGE_SPAN_PX + 1].any(axis=1)
    if col.size == 0:
        return 0
    # share of the column inked from each row down to the bottom
    below = np.cumsum(col[::-1])[::-1] / np.arange(col.size, 0, -1)
    ok = np.flatnonzero(col & (below >= PULSE_EDGE_FILL))
    return int(ok[0]) if ok.size else col.size - 1


def _pulse_run(window: np.ndarray, edge: int, join: int, top_px: int) -> int:
    """Column after the flat top of the pulse whose rising edge is column ``edge``.

    The edge rises from the window's bottom to the pulse's top (:func:`edge_top`),
    and the pulse runs on while ink stays within ``top_px`` of that top (gaps of
    ``join`` px bridged).
    """
    return top_run_end(window, edge, edge_top(window, edge, window.shape[0]), join, top_px)


def top_run_end(window: np.ndarray, edge: int, top: int, join: int, top_px: int) -> int:
    """Column after the flat top that starts at column ``edge`` on row ``top``.

    The top runs on while ink stays within ``top_px`` rows of ``top`` (gaps of
    ``join`` px bridged); ``edge + 1`` when no ink stands there.
    """
    band = window[max(0, top - top_px) : top + top_px + 1].any(axis=0)
    idx = np.flatnonzero(band[edge:]) + edge
    if idx.size == 0:
        return edge + 1
    breaks = np.flatnonzero(np.diff(idx) > join) + 1
    return int(np.split(idx, breaks)[0][-1]) + 1


def _after_pulse(
    mask: np.ndarray,
    rows: list[RowInfo],
    x_ink: float,
    px_per_mm_x: float,
    px_per_mm_y: float,
    paper_speed: float,
) -> float:
    """Where the rows' traces start: after the calibration pulse by their ink's start.

    In each row, columns (within :data:`PULSE_SEARCH_S` either side of the
    ink's start) whose ink stands at least :data:`PULSE_EDGE_MM` above the
    baseline may be the pulse's rising edge, and its highest ink the pulse's
    top; the pulse runs on while ink stays within :data:`PULSE_TOP_MM` of the
    top (:func:`_pulse_run`). The first edge, left to right, whose run is as wide
    as 0.2 s at the paper speed (:data:`PULSE_RUN_WIDTH_SHARE`) is the pulse, and
    the trace starts where it ends. The rows' median, or ``x_ink`` where no row
    shows a pulse.
    """
    reach = int(round(PULSE_SEARCH_S * paper_speed * px_per_mm_x))
    x0 = int(max(0, np.floor(x_ink) - reach))
    x1 = int(np.floor(x_ink) + reach)
    pulse_px = PULSE_SECONDS * paper_speed * px_per_mm_x
    lo, hi = PULSE_RUN_WIDTH_SHARE
    lo_px = min(lo * pulse_px, PULSE_RUN_MIN_MM * px_per_mm_x)
    join = max(PULSE_GAP_MIN_PX, int(PULSE_GAP_MM * px_per_mm_x))
    top_px = max(1, int(round(PULSE_TOP_MM * px_per_mm_y)))
    ends = []
    for r in rows:
        y0 = int(max(0, r.y - PULSE_ABOVE_SHARE * (r.y - r.y_top)))
        y1 = int(r.y - PULSE_EDGE_MM * px_per_mm_y)
        if y1 <= y0:
            continue
        # the window runs a pulse's width past the last edge looked at
        window = mask[y0:y1, x0 : x1 + int(np.ceil(hi * pulse_px))]
        # tall columns rising from the baseline; a line through the whole window
        # (a page frame) is not a pulse
        inked = window.sum(axis=0)
        tall = np.flatnonzero((inked > 0) & (inked < FRAME_SHARE * window.shape[0]) & window[-1])
        tall = tall[tall < x1 - x0]
        if tall.size == 0:
            continue
        # Each run of tall columns may start the pulse (stray marks and a page
        # edge's shadow stand left of it): the first whose run fits is taken.
        for edge in tall[np.r_[True, np.diff(tall) > 1]]:
            end = _pulse_run(window, int(edge), join, top_px)
            if lo_px <= end - edge <= hi * pulse_px:
                ends.append(x0 + end)
                break
    return float(np.median(ends)) if ends else x_ink
