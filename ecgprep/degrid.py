"""Grid lines out of the trace mask, when the grid is as dark as the trace.

On black-and-white scans, document-scanner output, binarised fax-like pages and
"mono" prints the grid lines have the trace's colour and darkness, so
:func:`ecgprep.colors.separate_colors` keeps them in the trace mask, and every
later step (rows, time origin, baselines) would read grid lines as trace.

Once the grid's geometry is known (:class:`~ecgprep.grid.GridResult`: its period
and rotation), the mask is folded onto one grid period along each axis: the
share of mask pixels at each phase of the period. Trace ink falls at every phase
alike; grid lines pile up at their own phases. When, on both axes, a large share
of the mask lies on such phase bands, the mask holds the grid, and its pixels on
the bands are removed, except where trace ink continues on both sides of a band
(the trace crossing a line), which is filled back in. Pages whose mask does not
hold the grid (coloured grids) are returned untouched: the very same array.

A black-and-white page about to be turned upright is treated first, where it lies
(:func:`fade_grid_lines`, the fade station): resampling would blur its 1 px lines
into the trace, so the same fold, with the grid's rotation, finds them and they
are painted light gray; the page then reads like one printed with a gray grid.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ._validate import check_image, check_mask, check_number

if TYPE_CHECKING:
    from .grid import GridResult
    from .options import Options
    from .page import Page

__all__ = [
    "DegridResult",
    "remove_grid_lines",
    "fade_grid_lines",
    "degrid_station",
    "fade_station",
    "MIN_LINE_SHARE",
]

#: Width of one phase bin of the fold, px: grid lines 1-3 px wide are resolved
#: at sub-pixel phase (pixel centres fall at every phase over a few periods).
_BIN_PX = 0.25
#: The ink density between the lines: this percentile of the phase bins' (the
#: lines, blurred 1 mm lines too, cover up to half of the phases).
_PAPER_PERCENTILE = 20.0
#: A phase bin lies on a grid line when its ink density (share of its pixels in
#: the mask) exceeds the paper's by this: a dotted grid's rows of dots cover
#: about 0.2-0.4 of their line, blurred 1 mm lines 0.1, the trace about 0.02 of
#: any phase.
_LINE_EXCESS = 0.08
#: ... and so do the bins beside a line's, up to this far (px), whose density
#: exceeds the paper's by this (a blurred line's edges).
_EDGE_EXCESS = 0.03
_EDGE_PX = 1.0
#: The mask holds the grid when, on each axis, this share of its pixels is line
#: ink beyond the median density (black-and-white pages: 0.4-0.6; coloured pages,
#: whose mask holds trace and text only: under 0.05).
MIN_LINE_SHARE = 0.2
#: The fold's totals count every this many rows (columns) across the lines: the
#: phases of the pixel centres repeat along a line, not across it.
_TOTAL_STEP = 32
#: The closing that fills the trace back across a band bridges the band's chord
#: along its direction and this much more (px): a closing with a stroke of n
#: pixels (n odd: an even length is drawn a pixel longer) bridges gaps of n - 1,
#: so a stroke one pixel longer than the chord reaches the ink.
_FILL_MARGIN_PX = 1
#: Band ids are kept in uint8 images (0: no band): a fold of more bands (a
#: 5 mm period of 128 px and more, badly broken up) has its last ones share 255.
_MAX_BAND_ID = 255
#: Strokes crossing a band at a smaller sine of the angle than this (about 17
#: degrees) fill nothing: along a line, ink both sides of a gap is the line's
#: own crossings with the trace, and bridging them draws the line back in.
_FILL_MIN_SINE = 0.3
#: Strokes crossing a band at a slant (the sine of the angle under this) fill it
#: only from ink that does not run across the lines for this far (mm, and at
#: least this many px): a steep stroke is bridged straight across its band, and
#: two beside each other (a QRS's down and up strokes) draw no line back in.
#: A 2 px pen at 67 degrees runs 5 px across a line.
_ACROSS_SINE = 0.95
_ACROSS_MM = 0.6
_ACROSS_MIN_PX = 5
#: Longest gap (mm) bridged down a vertical band: a QRS stroke that ran inside a
#: vertical line for up to this far (half an R wave of 1 mV at 10 mm/mV).
_STEEP_GAP_MM = 5.0
#: Ink counts as steep where it runs straight down for this far (mm) ...
_STEEP_MM = 1.0
#: ... and is narrower than about this (mm; the odd width of pixels nearest it:
#: 5 px at 200 dpi, 7 at 300): a pen of 0.35 mm and its steep stroke, not a
#: separator bar (0.6-1 mm wide) whose column a label's stroke continues.
_BAR_MM = 0.55
#: Directions of the strokes along which the trace is bridged across a band.
_STROKE_DIRECTIONS = 8
#: A phase bin is seen when it holds at least this share of the mean bin's pixels.
_SEEN_SHARE = 0.25
#: Periods shorter than this (px) have no room for a line and a gap.
_MIN_PERIOD_PX = 3.0
#: Ink running along a line's band unbroken for this far (mm) is a stroke, not a
#: dot: GE-style grids print their lines as dots 0.5 mm apart (0.1-0.3 mm each),
#: while a trace's flat stretch often lies on a 5 mm line for millimetres.
_DOT_RUN_MM = 1.0
#: A band is a dotted line when under this share of its pixels lie in such
#: unbroken runs (a dotted line with a trace along it: 0.01-0.1; a solid line,
#: even blurred and noisy: 0.8 and more); on a dotted line those runs are kept.
_DOTTED_SHARE = 0.5


#: A page is black and white (a scanner's black-and-white mode, a fax) when it
#: has no colour: this percentile of its pixels' channel spread (max - min of R,
#: G and B, 8-bit levels) within :data:`_NEUTRAL_SPREAD` (a coloured grid covers
#: 5-20 % of a page; a signature or a stamp under 1 %; JPEG's chroma noise on a
#: gray scan stays under 10 levels) ...
_NEUTRAL_PERCENTILE = 99.0
_NEUTRAL_SPREAD = 24
#: ... and its mid-grey pixels (8-bit levels :data:`_MID_GREY`: more than 48 from
#: black and from white, past JPEG's ringing round a binarised edge) number under
#: this share of its black ones: binarising leaves none, while anti-aliased
#: prints and gray scans measure 0.3-60 grey pixels per black one (turned
#: renders at 300 dpi, real-dev's scans and rasters).
_BILEVEL_GREY_SHARE = 0.1
_MID_GREY = (48, 208)
#: Faded lines are painted this share of the way from the trace ink's gray level
#: to the paper's: lighter than any trace pixel (colour separation then holds
#: them for a neutral grid lighter than the trace) and dark enough for the grid
#: to be found again.
_FADE_SHARE = 0.8
#: On a black-and-white page, ink is every pixel darker than this (8-bit level):
#: halfway between black and white.
_INK_LEVEL = 128


@dataclass(frozen=True)
class DegridResult:
    """What :func:`remove_grid_lines` found and did.

    Attributes
    ----------
    applied : bool
        True when the mask held the grid and its lines were removed.
    line_share_x, line_share_y : float
        Share of the mask's pixels that are ink of the vertical (x) and of the
        horizontal (y) grid lines, beyond what the median phase holds (0 when
        the grid's geometry was unknown).
    band_px_x, band_px_y : float
        Width, px, of the phase bands counted as line per grid period (all the
        lines of one period: one 5 mm line and four 1 mm lines when the 5 mm
        lines were found).
    removed_px : int
        Mask pixels removed (0 when not applied).
    trace_fraction : float
        Fraction of the image's pixels in the mask returned.
    """

    applied: bool
    line_share_x: float = 0.0
    line_share_y: float = 0.0
    band_px_x: float = 0.0
    band_px_y: float = 0.0
    removed_px: int = 0
    trace_fraction: float = 0.0


@dataclass(frozen=True)
class _Fold:
    """One axis' fold: the phase bin of every mask pixel and the bins on lines."""

    index: np.ndarray  # (K,) phase bin of each mask pixel
    on_line: np.ndarray  # (bins,) bool
    band: np.ndarray  # (bins,) int: which band (run of line bins) a bin is in, -1 off line
    share: float
    band_px: float
    width_px: int  # widest band, px (rounded up)
    widths: np.ndarray  # (bands,) float: each band's width, px


def _fold(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int], row, period: float) -> _Fold:
    """Fold the mask pixels ``(ys, xs)`` onto one period of the coordinate ``row``.

    ``row`` is ``(a, b, c)``: the coordinate across the lines is ``a x + b y + c``.
    """
    a, b, c = (float(v) for v in row)
    bins = max(4, int(round(period / _BIN_PX)))
    scale = bins / period

    def phase_bins(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        u = x.astype(np.float32) * np.float32(a)
        u += y.astype(np.float32) * np.float32(b)
        u += np.float32(c)
        u = np.mod(u, np.float32(period), out=u)
        u *= np.float32(scale)
        return u.astype(np.intp) % bins

    index = phase_bins(xs, ys)
    counts = np.bincount(index, minlength=bins).astype(float)
    M, N = shape
    if abs(a) >= abs(b):  # vertical lines: every pixel of sampled rows
        y, x = np.mgrid[0:M:_TOTAL_STEP, 0:N]
    else:
        y, x = np.mgrid[0:M, 0:N:_TOTAL_STEP]
    totals = np.bincount(phase_bins(x.ravel(), y.ravel()), minlength=bins) * float(_TOTAL_STEP)
    density = counts / np.maximum(totals, 1.0)
    # Phases no pixel centre falls on (a period of a whole number of bins, with the
    # grid upright) hold nothing: they neither set the paper level nor stop a band.
    seen = totals > _SEEN_SHARE * float(totals.mean())
    paper = float(np.percentile(density[seen], _PAPER_PERCENTILE))
    on_line = seen & (density > paper + _LINE_EXCESS)
    # a line's blurred edges: the bins beside it that are denser than paper
    edge = ~seen | (density > paper + _EDGE_EXCESS)
    for _ in range(int(math.ceil(_EDGE_PX * scale))):
        on_line |= (np.roll(on_line, 1) | np.roll(on_line, -1)) & edge
    share = float(((density - paper) * totals)[on_line].sum()) / max(len(xs), 1)
    # widest run of line bins, the period being circular
    runs = np.diff(np.concatenate(([0], on_line, on_line, [0])).astype(np.int8))
    starts, ends = np.flatnonzero(runs == 1), np.flatnonzero(runs == -1)
    widest = int(min(bins, (ends - starts).max())) if starts.size else 0
    # each run of line bins is one band; a run through the period's end is one
    band = np.cumsum(np.diff(np.concatenate(([0], on_line.astype(np.int8)))) == 1) - 1
    if on_line[0] and on_line[-1] and not on_line.all():
        band[band == band[-1]] = 0
    band = np.where(on_line, band, -1)
    widths = np.bincount(band[on_line], minlength=int(band.max()) + 1) / scale
    return _Fold(
        index,
        on_line,
        band,
        share,
        float(on_line.sum()) / scale,
        int(math.ceil(widest / scale)),
        widths.astype(float),
    )


def _line_kernel(dx: float, dy: float, length: int) -> np.ndarray:
    """A one-pixel stroke of ``length`` px through the centre, along ``(dx, dy)``."""
    half = length // 2
    kernel = np.zeros((2 * half + 1, 2 * half + 1), np.uint8)
    s = np.linspace(-half, half, 4 * half + 1)
    kernel[np.rint(half + s * dy).astype(int), np.rint(half + s * dx).astype(int)] = 1
    # trimmed to its ink: an upright stroke is then a rectangle of ones, which
    # OpenCV erodes and dilates several times faster
    rows, cols = np.nonzero(kernel)
    return kernel[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _keep_strokes_on_dotted(
    lines: np.ndarray,
    mask: np.ndarray,
    fold: _Fold,
    ys: np.ndarray,
    xs: np.ndarray,
    bins: np.ndarray,
    row,
    px_per_mm: float,
) -> None:
    """Clear from ``lines`` (in place) the strokes lying along its dotted bands.

    ``lines`` holds the pixels ``ys, xs`` of ``mask`` (uint8, 0 or 255) on one
    family of bands, ``bins`` their phase bins in ``fold``; ``row`` the
    across-coordinate of those lines (``a x + b y + c``). A pixel lies on a
    stroke when the mask, a pixel either side across the lines allowed (a thin
    trace steps between pixel rows), runs on unbroken for :data:`_DOT_RUN_MM`
    along them through it. Such pixels are cleared where their band is dotted
    (under :data:`_DOTTED_SHARE` of the band's pixels on strokes): a solid line is
    one long stroke and stays.
    """
    if ys.size == 0:
        return
    a, b = float(row[0]), float(row[1])
    norm = math.hypot(a, b) or 1.0
    a, b = a / norm, b / norm
    length = max(3, int(round(_DOT_RUN_MM * px_per_mm)))
    wide = cv2.dilate(mask, _line_kernel(a, b, 3))
    runs = cv2.morphologyEx(wide, cv2.MORPH_OPEN, _line_kernel(b, -a, length), dst=wide)
    in_run = runs[ys, xs] > 0
    band = fold.band[bins]
    n_bands = int(fold.band.max()) + 1
    total = np.bincount(band, minlength=n_bands)
    along = np.bincount(band, weights=in_run, minlength=n_bands)
    dotted = along < _DOTTED_SHARE * total
    clear = in_run & dotted[band]
    lines[ys[clear], xs[clear]] = 0


def _fill_crossings(keep: np.ndarray, families) -> np.ndarray:
    """``keep`` (uint8 0/255) with the band pixels where the trace crosses a line.

    ``families`` holds ``(ids, fold, row, px_per_mm)`` per family of lines: an
    image (uint8) of each band pixel's band in ``fold`` plus one (0 elsewhere),
    the :class:`_Fold`, the lines' across-coordinate ``row`` and the scale across
    them. A band pixel is filled when a closing along one of
    :data:`_STROKE_DIRECTIONS` directions fills it: ink on both sides of its band
    within the band's own chord along that direction (its width over the sine of
    the crossing angle). Directions nearly along the lines
    (:data:`_FILL_MIN_SINE`) are left out, and slanting ones bridge only from ink
    that does not itself run across the lines (:data:`_ACROSS_MM`): a steep
    stroke is bridged straight across, and two steep strokes close beside each
    other (a QRS's down and up strokes) do not draw the line between them back in.
    """
    fill = np.zeros_like(keep)
    for ids, fold, row, px_per_mm in families:
        if not fold.widths.size:
            continue
        norm = math.hypot(float(row[0]), float(row[1])) or 1.0
        nx, ny = float(row[0]) / norm, float(row[1]) / norm
        run = max(_ACROSS_MIN_PX, int(round(_ACROSS_MM * px_per_mm)))
        across = cv2.morphologyEx(keep, cv2.MORPH_OPEN, _line_kernel(nx, ny, run))
        slanted = cv2.bitwise_and(keep, cv2.bitwise_not(across), dst=across)
        for k in range(_STROKE_DIRECTIONS):
            t = math.pi * k / _STROKE_DIRECTIONS
            dx, dy = math.cos(t), math.sin(t)
            sine = abs(dx * nx + dy * ny)
            if sine < _FILL_MIN_SINE:
                continue
            src = keep if sine >= _ACROSS_SINE else slanted
            lengths = np.ceil(fold.widths / sine).astype(int) + _FILL_MARGIN_PX
            if lengths.size > _MAX_BAND_ID:  # ids past 255 share the last: its longest
                lengths = np.append(lengths[: _MAX_BAND_ID - 1], lengths[_MAX_BAND_ID - 1 :].max())
            for length in np.unique(lengths):
                lut = np.zeros(256, np.uint8)
                lut[1 : lengths.size + 1] = np.where(lengths == length, 255, 0)
                closed = cv2.morphologyEx(src, cv2.MORPH_CLOSE, _line_kernel(dx, dy, int(length)))
                closed = cv2.bitwise_and(closed, cv2.LUT(ids, lut), dst=closed)
                fill = cv2.bitwise_or(fill, closed, dst=fill)
    return cv2.bitwise_or(keep, fill, dst=keep)


def remove_grid_lines(
    trace_mask: np.ndarray,
    grid: GridResult,
    *,
    min_share: float = MIN_LINE_SHARE,
) -> tuple[np.ndarray, DegridResult]:
    """Remove the grid's lines from a trace mask that holds them.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
        Trace ink (:attr:`ecgprep.colors.ColorResult.trace_mask`).
    grid : GridResult
        The grid measured on the image of ``trace_mask``
        (:func:`ecgprep.grid.detect_grid`); its period, 5 mm lines and rotation
        place the lines.
    min_share : float
        The mask holds the grid when at least this share of its pixels, on each
        axis, is grid-line ink (0-1; see :data:`MIN_LINE_SHARE`).

    Returns
    -------
    mask : (M, N) bool ndarray
        The trace mask without the grid lines; ``trace_mask`` itself (the same
        object) when it did not hold the grid or the grid was not found.
    DegridResult
        Whether lines were removed, the line shares and how many pixels went.

    Raises
    ------
    InvalidImageError
        If ``trace_mask`` is not a 2-D mask.
    ValueError
        If the mask's shape differs from the grid's ``image_shape``, or
        ``min_share`` is out of range.

    Notes
    -----
    A mask pixel is on a line when its phase along x or y (in the grid's deskewed
    frame, modulo one 5 mm period, or 1 mm when the 5 mm lines were not told
    apart) falls in a band where the mask is denser than at the median phase by
    0.08. Those pixels are removed; where the mask holds ink on both sides of a
    band within the band's chord (the trace crossing a line), closings across
    the band fill them back (:func:`_fill_crossings`), and steep pen strokes
    above and below a gap in a vertical band (a QRS stroke inside the line) are
    joined. A trace running inside a solid line's band is lost there; the trace
    follower bridges such gaps. Rows of dots are removed like lines, except ink
    running along them unbroken for 1 mm (a flat trace lying on a dotted 5 mm
    line, as GE prints its baselines). Everything is whole-array work (no loop
    over pixels): about 0.2-0.3 s on a 2200 x 1700 px page whose mask holds the
    grid (0.7 s at 300 dpi), a few ms on one whose mask does not.

    Examples
    --------
    >>> from ecgprep.synth import render_ecg
    >>> from ecgprep.colors import separate_colors
    >>> from ecgprep.grid import detect_grid
    >>> r = render_ecg(grid_color="mono", seed=1)
    >>> mask = separate_colors(r.image).trace_mask
    >>> clean, res = remove_grid_lines(mask, detect_grid(r.image))
    >>> res.applied, bool(clean.mean() < 0.1 * mask.mean())
    (True, True)
    """
    mask = check_mask(trace_mask, "trace_mask")
    min_share = check_number(min_share, "min_share", lo=0.0, hi=1.0)
    shape = (int(mask.shape[0]), int(mask.shape[1]))
    if grid.found and tuple(grid.image_shape) != shape:
        raise ValueError(
            f"trace_mask shape {shape} differs from the grid's image_shape {grid.image_shape}"
        )
    n_mask = int(cv2.countNonZero(mask.view(np.uint8)))
    untouched = DegridResult(False, trace_fraction=n_mask / float(shape[0] * shape[1]))
    periods = (5.0 if grid.major_found else 1.0) * np.array(
        [grid.px_per_mm_x, grid.px_per_mm_y], float
    )
    if not grid.found or not np.isfinite(periods).all() or periods.min() < _MIN_PERIOD_PX:
        return trace_mask, untouched
    if n_mask == 0:
        return trace_mask, untouched
    # cv2.findNonZero: a few times faster than np.nonzero on a page-sized mask
    pts = cv2.findNonZero(np.ascontiguousarray(mask).view(np.uint8)).reshape(-1, 2)
    xs, ys = pts[:, 0].astype(np.intp), pts[:, 1].astype(np.intp)
    rows = grid.deskew_matrix()
    fx = _fold(ys, xs, shape, rows[0], float(periods[0]))
    fy = _fold(ys, xs, shape, rows[1], float(periods[1]))
    found = dataclasses.replace(
        untouched,
        line_share_x=fx.share,
        line_share_y=fy.share,
        band_px_x=fx.band_px,
        band_px_y=fy.band_px,
    )
    if min(fx.share, fy.share) < min_share:
        return trace_mask, found

    on_v = fx.on_line[fx.index]
    on_h = fy.on_line[fy.index]
    # each band pixel's band, plus one (a band's own width sets its fill), and
    # the bands' pixels (0/255)
    v_ids = np.zeros(shape, np.uint8)
    v_ids[ys[on_v], xs[on_v]] = np.minimum(fx.band[fx.index[on_v]] + 1, _MAX_BAND_ID)
    h_ids = np.zeros(shape, np.uint8)
    h_ids[ys[on_h], xs[on_h]] = np.minimum(fy.band[fy.index[on_h]] + 1, _MAX_BAND_ID)
    vertical = cv2.compare(v_ids, 0, cv2.CMP_GT)
    horizontal = cv2.compare(h_ids, 0, cv2.CMP_GT)
    # On a dotted line, ink running along the band unbroken is a stroke lying on
    # the line (a flat stretch of trace on a 5 mm line): not removed.
    mask_u8 = cv2.compare(mask.view(np.uint8), 0, cv2.CMP_GT)
    for lines_img, fold, on, row, ppmm in (
        (horizontal, fy, on_h, rows[1], float(grid.px_per_mm_x)),
        (vertical, fx, on_v, rows[0], float(grid.px_per_mm_y)),
    ):
        _keep_strokes_on_dotted(lines_img, mask_u8, fold, ys[on], xs[on], fold.index[on], row, ppmm)
    del ys, xs, on_v, on_h
    lines = cv2.bitwise_or(vertical, horizontal)
    keep = mask_u8  # the mask, 0/255 (not changed by the dotted-line step)
    keep = cv2.bitwise_and(keep, cv2.bitwise_not(lines), dst=keep)
    # Keep a band's pixels where the ink through it sticks out of it (a trace
    # running along a line is thicker than the line): grown back across the band
    # from the ink beside it.
    across_v, across_h = np.ones((1, 3), np.uint8), np.ones((3, 1), np.uint8)
    for _ in range(max(fx.width_px, fy.width_px)):
        grown = cv2.bitwise_and(cv2.dilate(keep, across_v), vertical)
        grown = cv2.bitwise_or(grown, cv2.bitwise_and(cv2.dilate(keep, across_h), horizontal))
        keep = cv2.bitwise_or(keep, grown, dst=keep)
    # Fill back where ink continues on both sides of a band (the trace crossing a
    # line, also at a shallow angle): closings along straight strokes crossing the
    # band, each bridging the band's chord along its direction.
    families = (
        (h_ids, fy, rows[1], float(grid.px_per_mm_y)),
        (v_ids, fx, rows[0], float(grid.px_per_mm_x)),
    )
    keep = _fill_crossings(keep, families)
    # A trace is one curve over time: steep ink above and below a gap in a
    # vertical band is one steep stroke (a QRS) that ran inside the band. (Steep
    # on both sides: a flat trace above a lead label is two strokes.)
    ppmm_y = float(grid.px_per_mm_y)
    # (odd kernels: OpenCV's opening with an even one shifts the result a pixel)
    steep = max(3, int(round(_STEEP_MM * ppmm_y))) | 1
    steep = cv2.morphologyEx(keep, cv2.MORPH_OPEN, np.ones((steep, 1), np.uint8))
    # a pen's stroke, not a bar: a separator tick is wider than any pen
    wide = 2 * int(round(0.5 * _BAR_MM * float(grid.px_per_mm_x))) + 1  # odd: centred
    bars = cv2.morphologyEx(keep, cv2.MORPH_OPEN, np.ones((1, wide), np.uint8))
    steep = cv2.bitwise_and(steep, cv2.bitwise_not(bars), dst=steep)
    reach = max(3, int(round(_STEEP_GAP_MM * ppmm_y))) | 1
    fill = cv2.morphologyEx(steep, cv2.MORPH_CLOSE, np.ones((reach, 1), np.uint8), dst=steep)
    keep = cv2.bitwise_or(keep, cv2.bitwise_and(fill, vertical, dst=fill), dst=keep)
    n_keep = int(cv2.countNonZero(keep))
    out = cv2.bitwise_and(keep, 1, dst=keep).view(bool)
    return out, dataclasses.replace(
        found,
        applied=True,
        removed_px=n_mask - n_keep,
        trace_fraction=n_keep / float(shape[0] * shape[1]),
    )


def _black_and_white(image: np.ndarray) -> bool:
    """Only black and white on the page ((M, N, 3) or (M, N) uint8), from a sample
    of its pixels."""
    sample = np.ascontiguousarray(image[::4, ::4])
    if sample.ndim == 3:
        r, g, b = cv2.split(sample)
        top = cv2.max(cv2.max(r, g), b)
        spread = cv2.subtract(top, cv2.min(cv2.min(r, g), b))
        coloured = cv2.countNonZero(cv2.compare(spread, _NEUTRAL_SPREAD, cv2.CMP_GT))
        if coloured > (1.0 - _NEUTRAL_PERCENTILE / 100.0) * spread.size:
            return False
        sample = top
    lo, hi = _MID_GREY
    black = cv2.countNonZero(cv2.compare(sample, lo, cv2.CMP_LT))
    grey = cv2.countNonZero(cv2.inRange(sample, lo, hi))
    return black > 0 and grey < _BILEVEL_GREY_SHARE * black


def fade_grid_lines(image: np.ndarray, grid: GridResult) -> tuple[np.ndarray, DegridResult]:
    """Paint grid lines as dark as the trace lighter, in the page's own frame.

    A black-and-white page turned on the scanner's glass has 1 px lines that step
    by whole pixels along the turn. Rotated upright, every line is resampled into
    2-4 px of gray as dark as a thin trace, and the bands :func:`remove_grid_lines`
    then takes out cover up to half of the page, trace included. Here the lines
    are found where they lie, with the grid's own rotation, and painted a light
    gray; the trace stays black and whatever resamples the page next keeps them
    apart, as on a page printed with a gray grid.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        The page, as the grid was measured on it.
    grid : GridResult
        The grid of ``image`` (:func:`ecgprep.grid.detect_grid`), rotation included.

    Returns
    -------
    out : (M, N, 3) or (M, N) uint8 ndarray
        A copy of ``image`` in which the ink pixels (darker than mid-grey)
        :func:`remove_grid_lines` takes out (the lines, and the stretches of
        trace lying inside them, as the degrid station would lose them) are
        painted gray, 80 % of the way from the ink's gray level to the paper's;
        ``image`` itself when the page is not black and white (it has colour, or
        grey edges: an anti-aliased or gray page loses less to resampling than
        to a flat paint), its ink does not hold the grid, or the grid was not
        found.
    DegridResult
        As :func:`remove_grid_lines` found it on the mask of the page's ink
        (``applied``: lines were faded).

    Raises
    ------
    InvalidImageError
        If ``image`` is not an (M, N, 3) or (M, N) uint8 array.
    ValueError
        If the grid was measured on an image of another shape.

    Examples
    --------
    >>> from ecgprep.synth import render_ecg
    >>> from ecgprep.grid import detect_grid
    >>> r = render_ecg(grid_color="mono", seed=1, binarize=True)
    >>> out, res = fade_grid_lines(r.image, detect_grid(r.image))
    >>> res.applied, int(out.min()), sorted(set(out.ravel().tolist()) - {0, 255})
    (True, 0, [204])
    """
    image = check_image(image, "image")
    if not grid.found or not _black_and_white(image):
        return image, DegridResult(False)
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    # On a black-and-white page every dark pixel is ink (trace, grid or text):
    # no colour separation needed (it would cost as much as the fold).
    mask = gray < _INK_LEVEL
    keep, res = remove_grid_lines(mask, grid)
    if not res.applied:
        return image, res
    # levels from a sample of the pixels (a full-page median: 14 ms at 200 dpi)
    g4, m4, k4 = gray[::4, ::4], mask[::4, ::4], keep[::4, ::4]
    ink = float(np.median(g4[k4])) if k4.any() else 0.0
    paper = float(np.median(g4[~m4])) if not m4.all() else 255.0
    out = image.copy()
    out[mask & ~keep] = int(round(ink + _FADE_SHARE * (paper - ink)))
    return out, res


def fade_station(page: Page, opts: Options) -> tuple[Page, DegridResult]:
    """Fade station: :func:`fade_grid_lines` on a page the deskew station will turn.

    Pages it will not turn (:func:`ecgprep.grid.deskews`) keep their lines for
    the degrid station. The grid measured here travels on (fading moves nothing).
    """
    from .grid import deskews, detect_grid

    g = page.grid if page.grid is not None else detect_grid(page.image)
    page = dataclasses.replace(page, grid=g)
    if not deskews(g, enabled=opts.rectify):
        return page, DegridResult(False)
    image, res = fade_grid_lines(page.image, g)
    return dataclasses.replace(page, image=image, lines_removed=res.applied), res


def degrid_station(page: Page, opts: Options) -> tuple[Page, DegridResult]:
    """Degrid station: :func:`remove_grid_lines` on the page's trace mask, with its grid.

    A page whose lines the fade station painted lighter keeps ``lines_removed``.
    """
    mask, res = remove_grid_lines(page.trace_mask, page.grid)
    removed = page.lines_removed or res.applied
    return dataclasses.replace(page, trace_mask=mask, lines_removed=removed), res
