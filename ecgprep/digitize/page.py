"""Page understanding: which bands of ink are printed trace rows, and which are text.

A trace row is a long, connected, ECG-like curve; a line of text is many short
strokes; a page's frame, a fold or a scanner's edge is a straight line that holds
little ink near a baseline. :func:`find_trace_rows` scans the ink profile of a
deskewed page for every band that could be a row and says of each whether it is
a trace and, if not, why. The layout stage matches the rows found against the
known layouts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .._profile import longest_run
from .._profile import smooth as _smooth
from .._validate import check_mask, check_scale
from .trace import column_runs

__all__ = ["TraceRow", "RowScan", "ink_profile", "find_trace_rows", "stacked_joined"]

#: Longest straight run of ink along an image row that may still be trace (mm):
#: longer runs are a page frame, a ruler or a grid line, and are kept out of the
#: profile (a flat trace is broken by its beats well within 40 mm).
STRAIGHT_RUN_MM = 40.0
#: Smoothing of the ink profile (mm, Gaussian sigma): about a stroke's wobble on a
#: flat segment, so one trace gives one peak.
PROFILE_SIGMA_MM = 1.5
#: Resolution the rows' measures need (px/mm): strokes 1 mm apart stay apart;
#: finer masks are pooled down to it (4x fewer pixels at 200 dpi).
MEASURE_PX_PER_MM = 3.5
#: Closest two printed rows' baselines may lie (mm): 12-lead-per-page prints set
#: them 10-15 mm apart; closer peaks belong to one row (its P and T waves).
ROW_MIN_SEP_MM = 6.0
#: Least prominence of a row's profile peak, as a share of the most prominent
#: row's: trace rows on real pages measure 0.58-1.0, grid residue and text
#: between rows 0.1-0.32 (real-dev pages).
ROW_PROMINENCE = 0.4
#: Shortest row of trace (mm of connected ink along the row; a 2.5 s panel at
#: 25 mm/s is 62.5 mm, so a row with one panel left is still a row).
ROW_MIN_LENGTH_MM = 40.0
#: Shortest row against the page's longest (share): a header line of text may be
#: 50-100 mm long, rows of a page are much alike.
ROW_LENGTH_SHARE = 0.3
#: Half-height of the band around a row's local baseline whose inked columns make
#: up the row (mm): a flat trace's wobble and stroke, not its beats.
NEAR_MM = 1.5
#: Blocks over which the local baseline is taken as the median of the ink's
#: centre (mm), and how many blocks the running median spans: a baseline that
#: wanders (0.4 mV over a few seconds) is followed, a QRS is not.
BASELINE_BLOCK_MM = 5.0
BASELINE_BLOCKS = 5
#: How far from its local baseline a row's ink must reach for a beat (mm): a QRS
#: of 0.1 mV or more (a low-voltage lead); a page's frame, a fold or a scanner's
#: edge never does.
BEAT_MM = 1.0
#: Half-height of the band around the local baseline whose inked columns give the
#: row's extent (mm): a T wave's 2-4 mm stay inside, so the extent runs on through
#: it; text printed beside the row stays out.
EXTENT_MM = 4.0
#: How far beyond :data:`EXTENT_MM` the ink on both sides of a gap in the row's
#: extent may stand (mm) for the gap to be a wave that left the band and came
#: back: a T wave 5-8 mm tall runs 10-20 mm above it at 50 mm/s, its ink
#: leaving the band smoothly (a pulse's flat top, 5-20 mm off, is kept out by
#: :data:`WAVE_SIDE_MM`).
WAVE_STEP_MM = 1.0
#: ... and how far the row's extent must run on both sides of such a gap (mm): a
#: T wave lies within a row, a pulse's flat top at its very start (or end).
WAVE_SIDE_MM = 10.0
#: Stretch of a row in which a beat is looked for (mm: 1.2 s at 25 mm/s, a heart
#: rate of 50/min).
BEAT_WINDOW_MM = 30.0
#: Least share of a row's stretches holding a beat.
BEAT_SHARE = 0.3
#: Least width of a connected stroke that counts as a trace's (mm): letters and
#: digits are under 5 mm, a trace's stretch between two beats is 15 mm or more.
LONG_STROKE_MM = 15.0
#: Least share of a row's length covered by such long strokes for it to be a trace
#: whatever its count of pieces (clean traces measure 0.7-1.0, text 0).
LONG_SHARE = 0.5
#: Most connected pieces per 10 mm of a row whose strokes are broken (scans whose
#: trace mask is fragmented measure 1-4.3, text lines 4.6-12; pieces stacked
#: along a stroke counted once, :data:`STACKED_GAP_MM`).
TEXT_PIECES_PER_10MM = 4.5
#: Pieces whose longer side is under this (mm) are specks, not counted: dots of a
#: dotted grid left in the mask (0.1-0.3 mm), while a printed letter is 1.5 mm or
#: taller and a trace's broken stroke longer still.
SPECK_MM = 0.35
#: Pieces stacked one above the other less than this apart (mm) are counted as
#: one: a thin pen's steep QRS stroke breaks into dashes along its height (real_cases'
#: 1 px grey traces at 120-130 a minute: 4.8-6.1 pieces per 10 mm, 2.1-3.7 joined), while
#: letters stand side by side (printed lines of 2.5-3.5 mm text lose 0-0.5 of
#: their 4.1-9.8 pieces per 10 mm: only dots and colons join).
STACKED_GAP_MM = 1.0
#: Farthest above and below a baseline the connected pieces are counted (mm, and
#: never past 45 % of the way to the next row): a QRS stays whole.
PIECES_HALF_BAND_MM = 12.0
#: ... as a share of the way to the next row, at most: short of the next row's
#: own waves, which reach towards this one.
PIECES_ROW_SHARE = 0.45
#: Length of row the pieces are counted per (mm): the unit of
#: :data:`TEXT_PIECES_PER_10MM`.
PIECES_SPAN_MM = 10.0
#: Farthest a row refused as text may start and end from the trace rows' common
#: start and end (mm, each) and still be a trace row whose thin pen broke into
#: pieces (real_cases' 1 px rhythm strip: 4.8 pieces per 10 mm, its ends on the
#: other rows' to the pixel); a line of text ends where its words do.
ROW_ALIGN_MM = 2.0
#: Fewest rows refused as text that, starting and ending together and standing
#: :data:`ALIGNED_PITCH_MM` or more apart, are trace rows with no trace row to
#: line up with: every row of a 1 px grey pen broken at each stroke (real_cases'
#: 3x4+3 at 120 a minute: six rows of 4.8-6.1 pieces per 10 mm, joined, their ends on
#: each other's to the pixel). A block of text is not six lines of one length.
ALIGNED_MIN_ROWS = 3
#: Least distance between consecutive such rows (mm): trace rows stand 14 mm
#: (12x1) or more apart; lines of printed text 4-6 mm.
ALIGNED_PITCH_MM = 10.0
#: Longest gap in a row's ink that is bridged (mm): a faded stretch, a blanked
#: separator or a gap between two panels does not cut a row in two.
ROW_GAP_MM = 3
#: Longest gap bridged between two columns of flat trace at one level, on pages
#: whose grid lines were removed from the mask (mm): a flat stretch lying on a
#: line as dark as the trace went with the line (a T-P segment of 0.8 s at
#: 25 mm/s). Not elsewhere: two ECGs printed side by side stay apart.
ROW_FLAT_GAP_MM = 20.0
#: Most the ink's centre may differ across such a gap (mm): the trace carried on
#: along one line.
ROW_FLAT_LEVEL_MM = 0.5


@dataclass(frozen=True)
class TraceRow:
    """A band of ink that could be a printed row.

    Attributes
    ----------
    y : float
        Baseline estimate (px, the profile's peak).
    x0, x1 : int
        Its longest stretch of inked columns (px, ``[x0, x1)``), gaps under
        :data:`ROW_GAP_MM` bridged (and, on a page whose grid lines were removed,
        flat ones under :data:`ROW_FLAT_GAP_MM`).
    prominence : float
        Its profile peak's prominence against the most prominent row's (0-1].
    length_mm : float
        ``(x1 - x0)`` in mm.
    near_share : float
        Share of ``[x0, x1)``'s columns with ink within :data:`NEAR_MM` of the
        row's local baseline.
    beat_share : float
        Share of ``[x0, x1)``'s stretches of :data:`BEAT_WINDOW_MM` where the ink
        reaches :data:`BEAT_MM` from the local baseline.
    long_share : float
        Share of ``[x0, x1)`` covered by connected strokes at least
        :data:`LONG_STROKE_MM` wide (NaN when an earlier test refused the row).
    pieces_per_10mm : float
        Connected pieces of ink around the row per 10 mm of its length, specks
        under :data:`SPECK_MM` left out (NaN likewise); where there are as many
        as in text, pieces stacked along a stroke counted once
        (:data:`STACKED_GAP_MM`).
    is_trace : bool
        All tests passed.
    why_not : str
        Empty for a trace row; otherwise the first test it failed.
    """

    y: float
    x0: int
    x1: int
    prominence: float
    length_mm: float
    near_share: float
    beat_share: float
    long_share: float
    pieces_per_10mm: float
    is_trace: bool
    why_not: str = ""


@dataclass(frozen=True)
class RowScan:
    """Every candidate row of a page, top to bottom, and the trace rows among them.

    ``profile`` is the page's (M,) ink profile (:func:`ink_profile`) the rows were
    found in, kept so that the layout stage need not compute it again.
    """

    candidates: tuple[TraceRow, ...]
    profile: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False, repr=False)

    @property
    def rows(self) -> tuple[TraceRow, ...]:
        """The candidates that are trace rows, top to bottom."""
        return tuple(r for r in self.candidates if r.is_trace)


def ink_profile(mask: np.ndarray, *, px_per_mm_x: float, px_per_mm_y: float) -> np.ndarray:
    """Smoothed ink per image row, long straight lines left out.

    Parameters
    ----------
    mask : (M, N) bool ndarray
        Trace ink of a deskewed page.
    px_per_mm_x, px_per_mm_y : float
        Grid scale.

    Returns
    -------
    (M,) float64 ndarray
        Pixels of ink per image row, runs longer than :data:`STRAIGHT_RUN_MM` along
        the row removed, Gaussian-smoothed over :data:`PROFILE_SIGMA_MM`.
    """
    import cv2

    w = mask.shape[1]
    m = np.ascontiguousarray(mask).view(np.uint8)
    profile = cv2.reduce(m, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.float64)
    klen = int(round(STRAIGHT_RUN_MM * px_per_mm_x))
    if klen < w:
        # only image rows holding that much ink can hold such a run
        full = np.flatnonzero(profile >= klen)
        if full.size:
            r, x0s, x1s = column_runs(mask[full].T)
            long_run = (x1s - x0s) >= klen
            np.subtract.at(profile, full[r[long_run]], (x1s - x0s)[long_run])
    return _smooth(profile, PROFILE_SIGMA_MM * px_per_mm_y)


def _pooled(mask: np.ndarray, f: int) -> np.ndarray:
    """``mask`` shrunk by the whole factor ``f``: a pixel holds ink when its block does."""
    if f <= 1:
        return mask
    import cv2

    h, w = mask.shape
    m = np.ascontiguousarray(mask[: h - h % f, : w - w % f]).view(np.uint8) * np.uint8(255)
    # 0/255: the average of a block holding one pixel of ink, 255 / f**2, stays
    # above 0.5 (f <= 22), so no thin stroke is rounded away
    return cv2.resize(m, (m.shape[1] // f, m.shape[0] // f), interpolation=cv2.INTER_AREA) > 0


def _peaks(p: np.ndarray, min_sep: float) -> np.ndarray:
    """Local maxima of ``p``, strongest first, each at least ``min_sep`` from a stronger one."""
    interior = (p[1:-1] >= p[:-2]) & (p[1:-1] > p[2:])
    cand = np.nonzero(interior)[0] + 1
    chosen: list[int] = []
    for c in cand[np.argsort(p[cand], kind="stable")[::-1]]:
        if all(abs(c - o) >= min_sep for o in chosen):
            chosen.append(int(c))
    return np.array(sorted(chosen), dtype=np.intp)


def _prominence(p: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Each peak's height over the higher of the lowest points between it and its neighbours."""
    out = np.empty(ys.size)
    for i, y in enumerate(ys):
        lo = p[ys[i - 1] : y + 1].min() if i > 0 else p[: y + 1].min()
        hi = p[y : ys[i + 1] + 1].min() if i < ys.size - 1 else p[y:].min()
        out[i] = p[y] - max(lo, hi)
    return out


def _pieces(band: np.ndarray, long_px: float, speck_px: float) -> tuple[float, int]:
    """Share of the band's width covered by pieces at least ``long_px`` wide, and the count.

    Pieces whose width and height are both under ``speck_px`` are not counted.
    """
    import cv2

    if band.size == 0 or not band.any():
        return 0.0, 0
    _, _, stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(band).view(np.uint8), connectivity=8
    )
    left = stats[1:, cv2.CC_STAT_LEFT]
    width = stats[1:, cv2.CC_STAT_WIDTH]
    wide = width >= long_px
    cover = np.zeros(band.shape[1] + 1, np.int32)
    np.add.at(cover, left[wide], 1)
    np.add.at(cover, left[wide] + width[wide], -1)
    share = float((np.cumsum(cover)[:-1] > 0).mean())
    return share, _count(stats, speck_px)


def _count(stats: np.ndarray, speck_px: float) -> int:
    """Pieces of ``connectedComponentsWithStats``' ``stats`` (background first) at
    least ``speck_px`` wide or tall."""
    import cv2

    size = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
    return int(np.count_nonzero(size >= speck_px))


def _joined_pieces(band: np.ndarray, speck_px: float, stacked_px: int) -> int:
    """The count of :func:`_pieces` with pieces stacked less than ``stacked_px``
    apart in one column counted as one (:func:`stacked_joined`; the long-stroke
    share stays that of the pieces as they are: joined, two lines of letters
    would make one wide piece)."""
    import cv2

    if band.size == 0 or not band.any():
        return 0
    joined = stacked_joined(band, stacked_px, speck_px).view(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    return _count(stats, speck_px)


def stacked_joined(mask: np.ndarray, gap_px: int, speck_px: float = 0.0) -> np.ndarray:
    """``mask`` with the gaps of under ``gap_px`` pixels between ink above and below in
    one column filled (a vertical closing): a thin pen's steep stroke made whole.

    Parameters
    ----------
    mask : (M, N) bool ndarray
        Trace ink.
    gap_px : int
        Longest vertical gap filled, plus one; 1 or less returns ``mask`` itself.
    speck_px : float
        Pieces whose width and height are both under this take no part: the dots
        of a dotted grid left in the mask, 1 mm apart, are not joined into lines.

    Returns
    -------
    (M, N) bool ndarray
    """
    m = np.ascontiguousarray(mask)
    if gap_px <= 1:
        return m
    import cv2

    src = m.view(np.uint8)
    if speck_px > 0:
        _, lab, stats, _ = cv2.connectedComponentsWithStats(src, connectivity=8)
        keep = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= speck_px
        keep[0] = False  # the background
        src = keep[lab].view(np.uint8)
    closed = cv2.morphologyEx(src, cv2.MORPH_CLOSE, np.ones((int(gap_px), 1), np.uint8))
    return (closed > 0) | m


def _flat_gaps_bridged(
    inked: np.ndarray, flat: np.ndarray, centre: np.ndarray, *, longest: int, level: float
) -> np.ndarray:
    """``inked`` with its gaps of up to ``longest`` columns filled where the ink on
    both sides is ``flat`` (all of it near the baseline) at one level (``centre``
    within ``level``): a trace running flat along a grid line removed with it."""
    idx = np.flatnonzero(inked)
    if idx.size < 2:
        return inked
    a, b = idx[:-1], idx[1:]
    width = b - a - 1
    ok = (width > 0) & (width <= longest) & flat[a] & flat[b]
    ok &= np.abs(centre[a] - centre[b]) <= level
    return _filled(inked, a[ok], b[ok])


def _filled(mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``mask`` (1-D bool) with the columns strictly between each ``a`` and ``b`` set."""
    if a.size == 0:
        return mask
    step = np.zeros(mask.size + 1, np.int32)
    np.add.at(step, a + 1, 1)
    np.add.at(step, b, -1)
    return mask | (np.cumsum(step[:-1]) > 0)


def _wave_gaps_bridged(
    extent: np.ndarray, inked: np.ndarray, off: np.ndarray, *, near: float, gap: int, side: int
) -> np.ndarray:
    """``extent`` with its gaps filled where every column is ``inked``, the ink
    next to the gap on both sides stands within ``near`` of the baseline (``off``:
    each column's ink's distance from it), and ``extent`` runs on for ``side``
    columns or more on both sides (gaps of up to ``gap`` bridged): a wave that
    left the band and came back within a row."""
    idx = np.flatnonzero(extent)
    if idx.size < 2:
        return extent
    a, b = idx[:-1], idx[1:]
    blank = np.concatenate(([0], np.cumsum(~inked)))
    ok = (b - a > 1) & (blank[b] == blank[a + 1])
    ok &= (off[np.minimum(a + 1, off.size - 1)] <= near) & (off[np.maximum(b - 1, 0)] <= near)
    if not ok.any():
        return extent
    # the runs of extent, gaps under ``gap`` bridged: each column's run length
    run_id = np.concatenate(([0], np.cumsum(b - a > gap + 1)))
    first = idx[np.r_[True, run_id[1:] != run_id[:-1]]]
    last = idx[np.r_[run_id[1:] != run_id[:-1], True]]
    length = (last - first + 1)[run_id]
    ok &= (length[:-1] >= side) & (length[1:] >= side)
    return _filled(extent, a[ok], b[ok])


def _along_baseline(
    band: np.ndarray, gap: int, px_per_mm_x: float, px_per_mm_y: float, *, flat_gap: bool = False
) -> tuple[int, int, float, float]:
    """A row's extent, and its ink's share near and away from its local baseline.

    The local baseline is the running median (:data:`BASELINE_BLOCKS` blocks of
    :data:`BASELINE_BLOCK_MM`) of the median centre of the band's ink per block.
    The row is the longest stretch of columns with ink within :data:`EXTENT_MM` of
    it, gaps under ``gap`` px bridged, and gaps where a wave leaves that band and
    comes back (:func:`_wave_gaps_bridged`; and, with ``flat_gap``, gaps of up to
    :data:`ROW_FLAT_GAP_MM` whose both sides hold flat ink at one level).

    Returns
    -------
    x0, x1 : int
        The stretch (``x1 <= x0`` when the band holds no ink).
    near_share, beat_share : float
    """
    hb, wb = band.shape
    counts = band.sum(axis=0)
    inked = counts > 0
    if not inked.any():
        return 0, 0, 0.0, 0.0
    rows = np.arange(hb, dtype=np.float64)
    centre = np.full(wb, np.nan)
    centre[inked] = (rows @ band[:, inked]) / counts[inked]
    block = max(1, int(round(BASELINE_BLOCK_MM * px_per_mm_x)))
    nb = -(-wb // block)
    padded = np.full(nb * block, np.nan)
    padded[:wb] = centre
    blocks = padded.reshape(nb, block)
    has = ~np.all(np.isnan(blocks), axis=1)
    med = np.full(nb, np.nan)
    med[has] = np.nanmedian(blocks[has], axis=1)
    k = BASELINE_BLOCKS // 2
    windows = np.lib.stride_tricks.sliding_window_view(
        np.concatenate((np.full(k, np.nan), med, np.full(k, np.nan))), 2 * k + 1
    )
    ok = ~np.all(np.isnan(windows), axis=1)
    smooth = np.full(nb, np.nan)
    smooth[ok] = np.nanmedian(windows[ok], axis=1)
    if not ok.any():
        return 0, 0, 0.0, 0.0
    idx = np.flatnonzero(ok)
    smooth = np.interp(np.arange(nb), idx, smooth[idx])
    base = np.repeat(smooth, block)[:wb]
    # ink within NEAR_MM of the baseline, and reaching BEAT_MM from it, per column
    top = np.where(inked, np.argmax(band, axis=0), hb)
    bottom = np.where(inked, hb - 1 - np.argmax(band[::-1], axis=0), -1)
    cum = np.vstack((np.zeros((1, wb), np.int32), np.cumsum(band, axis=0, dtype=np.int32)))
    cols = np.arange(wb)

    def within(half_mm: float) -> np.ndarray:
        half = half_mm * px_per_mm_y
        lo = np.clip(np.floor(base - half), 0, hb).astype(np.intp)
        hi = np.clip(np.ceil(base + half) + 1, 0, hb).astype(np.intp)
        return (cum[hi, cols] - cum[lo, cols]) > 0

    near = within(NEAR_MM)
    extent = within(EXTENT_MM)
    off = np.where(
        (top <= base) & (base <= bottom), 0.0, np.minimum(np.abs(top - base), np.abs(bottom - base))
    )
    extent = _wave_gaps_bridged(
        extent,
        inked,
        off,
        near=(EXTENT_MM + WAVE_STEP_MM) * px_per_mm_y,
        gap=gap,
        side=int(WAVE_SIDE_MM * px_per_mm_x),
    )
    if flat_gap:
        extent = _flat_gaps_bridged(
            extent,
            near & (bottom - top <= NEAR_MM * px_per_mm_y),
            centre,
            longest=int(ROW_FLAT_GAP_MM * px_per_mm_x),
            level=ROW_FLAT_LEVEL_MM * px_per_mm_y,
        )
    seg = longest_run(extent, max_gap=gap)
    if seg is None:
        return 0, 0, 0.0, 0.0
    x0, x1 = int(seg[0]), int(seg[1])
    beat_h = BEAT_MM * px_per_mm_y
    beat = inked & ((base - top >= beat_h) | (bottom - base >= beat_h))
    win = max(1, int(round(BEAT_WINDOW_MM * px_per_mm_x)))
    n_win = max(1, (x1 - x0) // win)
    hits = [beat[x0 + j * win : x0 + (j + 1) * win].any() for j in range(n_win)]
    return x0, x1, float(near[x0:x1].mean()), float(np.mean(hits))


def find_trace_rows(
    trace_mask: np.ndarray,
    *,
    px_per_mm_x: float,
    px_per_mm_y: float,
    lines_removed: bool = False,
) -> RowScan:
    """Find the printed trace rows of a deskewed page, and tell them from text.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
        Trace ink (:func:`ecgprep.colors.separate_colors`), page deskewed.
    px_per_mm_x, px_per_mm_y : float
        Grid scale (:func:`ecgprep.grid.detect_grid`).
    lines_removed : bool
        The grid's lines were taken out of ``trace_mask``
        (:func:`ecgprep.degrid.remove_grid_lines`): a flat stretch of trace lying
        on a line went with it, and gaps of up to :data:`ROW_FLAT_GAP_MM` between
        flat ink at one level are bridged.

    Returns
    -------
    RowScan
        Every profile peak that could be a row, with its measures; ``.rows`` the
        trace rows.

    Raises
    ------
    InvalidImageError
        ``trace_mask`` is not a 2-D mask of at least 2 x 2 pixels.
    ValueError
        A scale that is not a finite number > 0.

    Notes
    -----
    A candidate is a trace row when its profile peak is prominent
    (:data:`ROW_PROMINENCE`), its ink is long (:data:`ROW_MIN_LENGTH_MM`,
    :data:`ROW_LENGTH_SHARE`) along its local baseline, leaves it in beats
    (:data:`BEAT_SHARE`) and is made of long strokes (:data:`LONG_SHARE`) or of few pieces
    (:data:`TEXT_PIECES_PER_10MM`), or of many pieces that start and end with the
    other trace rows (:data:`ROW_ALIGN_MM`).
    """
    mask = check_mask(trace_mask, "trace_mask")
    px_per_mm_x = check_scale(px_per_mm_x, "px_per_mm_x")
    px_per_mm_y = check_scale(px_per_mm_y, "px_per_mm_y")
    h, w = mask.shape
    profile = ink_profile(mask, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    ys = _peaks(profile, ROW_MIN_SEP_MM * px_per_mm_y)
    if ys.size == 0:
        return RowScan((), profile)
    prom = _prominence(profile, ys)
    prom = prom / max(float(prom.max()), 1e-9)
    # The measures need no more than MEASURE_PX_PER_MM: the mask is pooled
    # (any ink in a block) by a whole factor, the rows' positions stay exact.
    # (no larger than the mask: a page a few pixels across pools to one block)
    f = max(1, min(int(min(px_per_mm_x, px_per_mm_y) // MEASURE_PX_PER_MM), h, w))
    small = _pooled(mask, f)
    sx, sy = px_per_mm_x / f, px_per_mm_y / f
    hs = small.shape[0]
    gap = int(ROW_GAP_MM * sx) + 1
    measured = []
    for i, y in enumerate(ys):
        if prom[i] < ROW_PROMINENCE:  # refused whatever its ink: not measured
            measured.append((0, 0, 0.0, 0.0, 0.0, None))
            continue
        up = (y - ys[i - 1] if i > 0 else y) / f
        down = (ys[i + 1] - y if i < ys.size - 1 else h - y) / f
        ys_ = y / f
        reach = PIECES_HALF_BAND_MM * sy
        p0 = max(0, int(ys_ - min(PIECES_ROW_SHARE * up, reach)))
        p1 = min(hs, int(ys_ + min(PIECES_ROW_SHARE * down, reach)) + 1)
        band = small[p0:p1]
        x0, x1, near, beats = _along_baseline(band, gap, sx, sy, flat_gap=lines_removed)
        if x1 <= x0:
            measured.append((0, 0, 0.0, 0.0, 0.0, None))
            continue
        length = (x1 - x0) / sx
        # pieces are counted at full resolution (pooling joins letters), and
        # only for rows that pass the other tests (below)
        band_full = (max(0, int(y - (ys_ - p0) * f)), min(h, int(y + (p1 - ys_) * f)))
        measured.append((x0 * f, min(w, x1 * f), length, near, beats, band_full))
    prominent = [m[2] for m, p in zip(measured, prom, strict=True) if p >= ROW_PROMINENCE]
    longest = max(prominent, default=0.0)
    min_len = max(ROW_MIN_LENGTH_MM, ROW_LENGTH_SHARE * longest)
    out = []
    for y, p, m in zip(ys, prom, measured, strict=True):
        x0, x1, length, near, beats, band_full = m
        long_share = pieces = float("nan")
        if p >= ROW_PROMINENCE and length >= min_len and beats >= BEAT_SHARE:
            b0, b1 = band_full
            piece_band = mask[b0:b1, x0:x1]
            speck = SPECK_MM * min(px_per_mm_x, px_per_mm_y)
            long_share, n = _pieces(piece_band, LONG_STROKE_MM * px_per_mm_x, speck)
            if long_share < LONG_SHARE and PIECES_SPAN_MM * n > TEXT_PIECES_PER_10MM * length:
                # as many pieces as text: a thin pen's dashes along its steep
                # strokes are counted once (joining costs; only where it may tell)
                n = _joined_pieces(piece_band, speck, int(round(STACKED_GAP_MM * px_per_mm_y)))
            pieces = PIECES_SPAN_MM * n / max(length, 1e-9)
        if p < ROW_PROMINENCE:
            why = f"faint: prominence {p:.2f} < {ROW_PROMINENCE}"
        elif length < min_len:
            why = f"short: {length:.0f} mm of ink < {min_len:.0f} mm"
        elif beats < BEAT_SHARE:
            why = f"no beats: ink leaves its baseline in {beats:.0%} of its stretches"
        elif long_share < LONG_SHARE and pieces > TEXT_PIECES_PER_10MM:
            why = f"text: {pieces:.1f} pieces per 10 mm, no long stroke"
        else:
            why = ""
        out.append(
            TraceRow(
                float(y), x0, x1, float(p), length, near, beats, long_share, pieces, not why, why
            )
        )
    return RowScan(tuple(_aligned_rows(out, px_per_mm_x, px_per_mm_y)), profile)


def _aligned_rows(rows: list[TraceRow], px_per_mm_x: float, px_per_mm_y: float) -> list[TraceRow]:
    """Rows refused as text whose ink starts and ends with the trace rows' are trace rows.

    A thin pen's trace breaks into as many pieces as a line of text
    (:data:`TEXT_PIECES_PER_10MM`); a line of text does not run from the rows'
    first column to their last (:data:`ROW_ALIGN_MM`). Needs two trace rows, or
    :data:`ALIGNED_MIN_ROWS` refused rows that start and end together, as far
    apart as trace rows (:data:`ALIGNED_PITCH_MM`).
    """
    near = ROW_ALIGN_MM * px_per_mm_x
    traces = [r for r in rows if r.is_trace]
    if len(traces) < 2:
        traces += _aligned_among_refused(rows, near, ALIGNED_PITCH_MM * px_per_mm_y)
    if len(traces) < 2:
        return rows
    x0 = float(np.median([r.x0 for r in traces]))
    x1 = float(np.median([r.x1 for r in traces]))
    return [
        replace(r, is_trace=True, why_not="")
        if r.why_not.startswith("text:") and abs(r.x0 - x0) <= near and abs(r.x1 - x1) <= near
        else r
        for r in rows
    ]


def _aligned_among_refused(rows: list[TraceRow], near: float, pitch: float) -> list[TraceRow]:
    """The largest set of rows refused as text that start and end within ``near``
    px of each other, at least :data:`ALIGNED_MIN_ROWS` of them and each
    ``pitch`` px or more below the one before; none when there is no such set."""
    refused = [r for r in rows if r.why_not.startswith("text:")]
    best: list[TraceRow] = []
    for r in refused:
        group = [o for o in refused if abs(o.x0 - r.x0) <= near and abs(o.x1 - r.x1) <= near]
        ys = np.array([o.y for o in group])
        if len(group) > len(best) and (ys.size < 2 or np.diff(ys).min() >= pitch):
            best = group
    return best if len(best) >= ALIGNED_MIN_ROWS else []
