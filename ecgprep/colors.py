"""Colour separation: ECG trace ink versus grid lines versus paper.

The stage works on any print colour scheme without being told which one it is:

1. **Paper normalisation.** The paper colour is estimated locally as the upper
   envelope of the image (max-pooling, a morphological closing larger than any
   line, an opening that removes thin bright creases, a box blur), and every
   channel is divided by it. Uneven lighting, shadows, wrinkles and colour casts
   are removed; paper becomes white.
2. **Conversion** of the normalised image to a colour space (``'lab'`` or
   ``'hsv'``) by one of three libraries (``'opencv'``, ``'pillow'``,
   ``'skimage'``). Each pixel becomes a darkness ``d`` (0 = paper, 1 = black)
   and a chroma vector ``(x, y)``.
3. **Trace colour.** The trace is the darkest low-chroma ink: its colour
   ``(d_t, x_t, y_t)`` is the median of the darkest, least chromatic pixels.
   A pixel "has the trace colour" when its chroma vector is close to the trace
   chroma scaled by its own darkness (anti-aliased edges are mixtures of trace
   ink and paper, so their chroma shrinks with their darkness). Grid lines
   (red, pink, brown, blue, green, random colours) fail this test.
   JPEG keeps colour at half resolution, so thin coloured lines lose chroma
   at their centre: when the image's colour is blurrier than its lightness,
   the test is also applied to 5 x 5 means. The per-pixel tests run in strips
   of rows, so no full-size float arrays are allocated (their page faults
   would cost as much as the arithmetic).
4. **Neutral grids.** On black-and-white prints (and where JPEG or blur has
   washed out a light grid's colour) the grid has the trace colour too. Short
   horizontal and vertical openings find the page's straight lines; when most
   line pixels have the trace colour a neutral grid is declared, its darkness
   measured, and the trace threshold set between grid and trace darkness
   (grid lines are lighter than the trace).
5. **Masks.** Trace = trace-coloured pixels darker than the trace threshold
   (blots much thicker than a pen stroke dropped), grown into darker-than-
   halfway and then into faint anti-aliased edge pixels next to them; light
   strokes that run into it join it (thin ones on a coloured grid; on a
   neutral grid, steep ones: the darkest pixel across, off the grid's
   vertical lines). Grid =
   the other ink farther from the paper colour than the noise allows: pixels
   without the trace colour, or on neutral grids the lighter trace-coloured
   pixels.

The result holds the two full-size masks (large) and small estimates; use
:meth:`ColorResult.summary` to send only the small part across processes.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ._validate import check_image, check_number, pick

if TYPE_CHECKING:
    from .options import Options
    from .page import Page

__all__ = [
    "colors_station",
    "ColorResult",
    "ColorSummary",
    "separate_colors",
    "paper_background",
    "COLOR_SPACES",
    "COLOR_BACKENDS",
]

Rgb = tuple[float, float, float]

# ---------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ColorSummary:
    """The small part of a :class:`ColorResult` (no masks); safe to pickle cheaply.

    Attributes
    ----------
    shape : tuple of int
        ``(M, N)`` of the image the masks were computed on.
    space, backend : str
        Colour space and conversion library used.
    paper_rgb, grid_rgb, trace_rgb : tuple of float
        Estimated colours (median RGB, 0-255) of paper, grid ink and trace ink
        in the input image. ``grid_rgb`` is ``(nan, nan, nan)`` when no grid
        pixel was found, ``trace_rgb`` likewise.
    trace_fraction, grid_fraction : float
        Fraction of the image's pixels in each mask.
    trace_threshold : float
        Darkness (0 paper - 1 black) above which trace-coloured pixels are trace.
    edge_threshold : float
        Darkness above which trace-coloured pixels next to the trace are kept as
        anti-aliased edge.
    chroma_threshold : float
        Largest chroma deviation from the trace colour, as a fraction of the
        pixel's darkness, of a trace-coloured pixel.
    grid_threshold : float
        Ink strength (distance from paper colour, 0-1) above which a pixel is ink.
    grid_darkness : float
        Darkness of a neutral (trace-coloured) grid; 0 when the grid is coloured.
    neutral_grid : bool
        True when the grid has the trace's colour (black-and-white prints).
    noise : float
        Robust standard deviation of the paper darkness (noise level).
    """

    shape: tuple[int, int]
    space: str
    backend: str
    paper_rgb: Rgb
    grid_rgb: Rgb
    trace_rgb: Rgb
    trace_fraction: float
    grid_fraction: float
    trace_threshold: float
    edge_threshold: float
    chroma_threshold: float
    grid_threshold: float
    grid_darkness: float
    neutral_grid: bool
    noise: float


@dataclass(frozen=True, eq=False)
class ColorResult:
    """Result of :func:`separate_colors`.

    Attributes
    ----------
    trace_mask : (M, N) ndarray of bool
        Pixels of trace ink (traces, calibration pulses, printed text).
        **Large** (full image size): do not send it across processes; use
        :meth:`summary` for that.
    grid_mask : (M, N) ndarray of bool
        Pixels of grid lines (all other ink). **Large**, as ``trace_mask``.
    space, backend, paper_rgb, grid_rgb, trace_rgb, trace_fraction,
    grid_fraction, trace_threshold, edge_threshold, chroma_threshold,
    grid_threshold, grid_darkness, neutral_grid, noise
        Small fields, described in :class:`ColorSummary`.
    """

    trace_mask: np.ndarray = field(repr=False)
    grid_mask: np.ndarray = field(repr=False)
    space: str
    backend: str
    paper_rgb: Rgb
    grid_rgb: Rgb
    trace_rgb: Rgb
    trace_fraction: float
    grid_fraction: float
    trace_threshold: float
    edge_threshold: float
    chroma_threshold: float
    grid_threshold: float
    grid_darkness: float
    neutral_grid: bool
    noise: float

    @property
    def shape(self) -> tuple[int, int]:
        """``(M, N)`` of the masks."""
        return (int(self.trace_mask.shape[0]), int(self.trace_mask.shape[1]))

    def summary(self) -> ColorSummary:
        """The small fields only, as a frozen :class:`ColorSummary` (no masks)."""
        return ColorSummary(
            shape=self.shape,
            space=self.space,
            backend=self.backend,
            paper_rgb=self.paper_rgb,
            grid_rgb=self.grid_rgb,
            trace_rgb=self.trace_rgb,
            trace_fraction=self.trace_fraction,
            grid_fraction=self.grid_fraction,
            trace_threshold=self.trace_threshold,
            edge_threshold=self.edge_threshold,
            chroma_threshold=self.chroma_threshold,
            grid_threshold=self.grid_threshold,
            grid_darkness=self.grid_darkness,
            neutral_grid=self.neutral_grid,
            noise=self.noise,
        )


# ---------------------------------------------------------------------------
# Colour conversions: normalised RGB uint8 -> darkness d, chroma vector (x, y)
#
# Every converter returns float32 arrays (M, N): d in [0, 1] (0 = white paper,
# 1 = black) and a chroma vector in units comparable to d (|(x, y)| <= ~1.3).
# The registry holds factories, so that set-up (Pillow's colour transform) is
# done once per image while the image is converted in strips.

Features = tuple[np.ndarray, np.ndarray, np.ndarray]


def _to_f32(channel: np.ndarray, scale: float, offset: float = 0.0) -> np.ndarray:
    """``channel * scale + offset`` as float32, in one pass."""
    return cv2.addWeighted(channel, scale, channel, 0.0, offset, dtype=cv2.CV_32F)


def _lab_features(L, a, b, l_scale: float, ab_offset: float) -> Features:
    d = _to_f32(L, -1.0 / l_scale, 1.0)
    x = _to_f32(a, 0.01, -0.01 * ab_offset)
    y = _to_f32(b, 0.01, -0.01 * ab_offset)
    return d, x, y


def _hsv_features(H, S, V, h_scale: float, sv_scale: float) -> Features:
    d = _to_f32(V, -sv_scale, 1.0)
    c = cv2.multiply(S, V, dtype=cv2.CV_32F, scale=sv_scale * sv_scale)
    x, y = cv2.polarToCart(c, _to_f32(H, h_scale), angleInDegrees=True)
    return d, x, y


# A converter is a pair: ``raw`` turns RGB uint8 (m, n, 3) into the colour
# space's own (m, n, 3) array (uint8 for OpenCV and Pillow, float32 for
# scikit-image; written into ``out`` when the library can), ``features`` turns
# that into (d, x, y). The image is converted to the raw form once; samples and
# strips are read from it.
Converter = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], Features]]


def _lab_opencv() -> Converter:
    def raw(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab, dst=out)  # L*255/100, a+128, b+128

    def features(lab: np.ndarray) -> Features:
        L, a, b = cv2.split(lab)
        return _lab_features(L, a, b, 255.0, 128.0)

    return raw, features


def _hsv_opencv() -> Converter:
    def raw(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV, dst=out)  # H in [0, 180), S, V 0-255

    def features(hsv: np.ndarray) -> Features:
        H, S, V = cv2.split(hsv)
        return _hsv_features(H, S, V, 2.0, 1 / 255)

    return raw, features


def _lab_pillow() -> Converter:
    from PIL import Image, ImageCms

    transform = ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB"
    )

    def raw(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
        return np.asarray(ImageCms.applyTransform(image, transform))

    def features(lab: np.ndarray) -> Features:
        L, a, b = cv2.split(np.ascontiguousarray(lab))  # L scaled to 0-255; a, b signed bytes
        return _lab_features(L, a.view(np.int8), b.view(np.int8), 255.0, 0.0)

    return raw, features


def _hsv_pillow() -> Converter:
    from PIL import Image

    def raw(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
        return np.asarray(image.convert("HSV"))  # all channels 0-255

    def features(hsv: np.ndarray) -> Features:
        H, S, V = cv2.split(np.ascontiguousarray(hsv))
        return _hsv_features(H, S, V, 360 / 256, 1 / 255)

    return raw, features


def _lab_skimage() -> Converter:
    from skimage.color import rgb2lab

    def raw(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return rgb2lab(rgb).astype(np.float32)  # L 0-100, a, b

    def features(lab: np.ndarray) -> Features:
        L, a, b = cv2.split(np.ascontiguousarray(lab))
        return _lab_features(L, a, b, 100.0, 0.0)

    return raw, features


def _hsv_skimage() -> Converter:
    from skimage.color import rgb2hsv

    def raw(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return rgb2hsv(rgb).astype(np.float32)  # in [0, 1]

    def features(hsv: np.ndarray) -> Features:
        H, S, V = cv2.split(np.ascontiguousarray(hsv))
        return _hsv_features(H, S, V, 360.0, 1.0)

    return raw, features


# backend -> space -> factory of a converter
_CONVERTERS: dict[str, dict[str, Callable[[], Converter]]] = {
    "opencv": {"lab": _lab_opencv, "hsv": _hsv_opencv},
    "pillow": {"lab": _lab_pillow, "hsv": _hsv_pillow},
    "skimage": {"lab": _lab_skimage, "hsv": _hsv_skimage},
}
_SPACES = {"lab": "lab", "hsv": "hsv"}

COLOR_SPACES = tuple(_SPACES)
COLOR_BACKENDS = tuple(_CONVERTERS)


# ---------------------------------------------------------------------------
# Paper background


def _auto_background_size(shape: tuple[int, ...]) -> int:
    return max(9, round(min(shape[0], shape[1]) / 60))


def paper_background(image: np.ndarray, *, size: int | None = None) -> np.ndarray:
    """Estimate the local paper colour (the bright upper envelope of the image).

    Parameters
    ----------
    image : (M, N, 3) ndarray of uint8
        RGB image.
    size : int, optional
        Width in pixels of the widest dark feature (line, trace, text stroke)
        that is removed. Default: 1/60 of the shorter image side (about 3.6 mm
        of paper on a full-page scan), at least 9.

    Returns
    -------
    background : (M, N, 3) ndarray of uint8
        Smooth paper colour at every pixel. Large (full image size).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((60, 80, 3), 200, np.uint8)
    >>> img[30, :] = 0
    >>> int(paper_background(img)[30, 40, 0])
    200
    """
    image = check_image(image, "image", allow_gray=False)
    if size is None:
        size = _auto_background_size(image.shape)
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 3:
        raise ValueError(f"size must be an int >= 3, got {size!r}")
    M, N = image.shape[:2]
    f = max(1, min(int(size) // 7, M // 4, N // 4))
    k = max(3, int(size) // f) | 1
    img = np.ascontiguousarray(image)
    small = _max_pool(img, f)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, disk, borderType=cv2.BORDER_REPLICATE)
    small = cv2.morphologyEx(
        small,
        cv2.MORPH_OPEN,
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)),
        borderType=cv2.BORDER_REPLICATE,
    )
    small = cv2.blur(small, (k, k), borderType=cv2.BORDER_REPLICATE)
    if small.ndim == 2:  # cv2 drops a length-1 channel axis only for 1-channel input
        small = small[..., None]
    return cv2.resize(small, (N, M), interpolation=cv2.INTER_LINEAR)


def _max_pool(img: np.ndarray, f: int, rows_per_strip: int = 64) -> np.ndarray:
    """``cv2.dilate(img, ones((f, f)))[f // 2 :: f, f // 2 :: f]``, without the full-size dilation.

    The dilation is computed in strips of rows, each with the rows its sampled
    rows reach: the same values, but no full-size temporary (whose fresh pages
    cost as much as the pooling itself).
    """
    if f <= 1:
        return img
    m = img.shape[0]
    kernel = np.ones((f, f), np.uint8)
    before, after = f // 2, f - 1 - f // 2  # rows above and below the anchor
    samples = np.arange(f // 2, m, f)
    cols = np.arange(f // 2, img.shape[1], f)
    out = np.empty((samples.size, cols.size, *img.shape[2:]), img.dtype)
    for i0 in range(0, samples.size, rows_per_strip):
        rows = samples[i0 : i0 + rows_per_strip]
        a0 = max(0, int(rows[0]) - before)
        a1 = min(m, int(rows[-1]) + after + 1)
        pooled = cv2.dilate(img[a0:a1], kernel)
        out[i0 : i0 + rows.size] = np.take(pooled[rows - a0], cols, axis=1)
    return out


# ---------------------------------------------------------------------------
# Helpers of separate_colors

_CHROMA_RANGE = (0.15, 0.35)  # clip of the automatic chroma threshold


def _noise_sigma(top: np.ndarray, below: np.ndarray) -> float:
    """Robust noise standard deviation from rows ``top`` and the rows just below them.

    Uses the smaller of the horizontal and vertical neighbour differences, so
    that horizontal and vertical lines (grids) hardly count as noise, and the
    mean of its lower 90 % (0.563 sigma for Gaussian noise), which unlike a
    median does not jump with the quantisation of 8-bit colour channels.
    """
    m = np.minimum(np.abs(top[:, 1:] - top[:, :-1]), np.abs(below[:, :-1] - top[:, :-1]))
    if m.size == 0:
        return 0.0
    m = m[m <= np.percentile(m, 90)]
    return float(m.mean()) / 0.563 if m.size else 0.0


def _paper_region(bg_gray: np.ndarray, size: int) -> np.ndarray | None:
    """uint8 0/255 mask of pixels on paper (local paper not far darker than typical).

    Returns None when the whole image is paper.
    """
    ref = float(np.median(bg_gray[::4, ::4]))
    valid = cv2.compare(bg_gray, 0.45 * ref, cv2.CMP_GE)
    if cv2.countNonZero(valid) == valid.size:
        return None
    # leave out the band where the smooth paper estimate blurs into the dark surround
    r = max(3, size // 2)
    valid = cv2.erode(valid, np.ones((r, r), np.uint8))
    if cv2.countNonZero(valid) == 0:
        return None
    return valid


def _top_fraction(score: np.ndarray, select: np.ndarray, fraction: float) -> np.ndarray:
    """Boolean mask of about the top ``fraction`` of ``score`` (0-1) among ``select``."""
    s8 = np.clip(score, 0.0, 1.0)
    s8 = (s8 * 255).astype(np.uint8)
    s8[~select] = 0
    hist = np.bincount(s8.ravel(), minlength=256)
    hist[0] = 0
    want = max(16, int(fraction * np.count_nonzero(select)))
    above = np.cumsum(hist[::-1])[::-1]  # above[b] = count of scores >= b
    ok = np.nonzero(above >= want)[0]
    b = int(ok[-1]) if ok.size else 1
    return s8 >= max(b, 1)


def _chroma_split(q: np.ndarray) -> float:
    """Otsu threshold of chroma ratios ``q`` (1-D), clipped to ``_CHROMA_RANGE``."""
    if q.size < 64:
        return _CHROMA_RANGE[0]
    q8 = (np.minimum(q, 1.5) * (255 / 1.5)).astype(np.uint8).reshape(1, -1)
    t, _ = cv2.threshold(q8, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float(np.clip(t * 1.5 / 255, *_CHROMA_RANGE))


def _line_darkness(d8: np.ndarray, length: int) -> np.ndarray:
    """Darkness of long horizontal or vertical lines, at half resolution (uint8).

    A margin of 1 % along the image border (where frames are drawn) is ignored.
    """
    pooled = np.ascontiguousarray(cv2.dilate(d8, np.ones((2, 2), np.uint8))[::2, ::2])
    m = max(2, min(pooled.shape) // 100)
    pooled[:m] = pooled[-m:] = 0
    pooled[:, :m] = pooled[:, -m:] = 0
    open_h = cv2.morphologyEx(pooled, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    open_v = cv2.morphologyEx(pooled, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    return cv2.max(open_h, open_v)


def _step_ratio(rows: np.ndarray, cols: np.ndarray) -> float:
    """Sum of 1-pixel over 2-pixel absolute differences along rows and down columns."""
    d1 = float(np.abs(rows[:, 1:] - rows[:, :-1]).sum() + np.abs(cols[1:] - cols[:-1]).sum())
    d2 = float(np.abs(rows[:, 2:] - rows[:, :-2]).sum() + np.abs(cols[2:] - cols[:-2]).sum())
    return d1 / d2 if d2 > 0 else 1.0


def _chroma_blurred(rows: Features, cols: Features) -> bool:
    """True when colour is less sharp than lightness (JPEG chroma subsampling).

    ``rows`` and ``cols`` are (d, x, y) of sampled image rows and columns. Sharp
    edges make 1-pixel differences as large as 2-pixel ones; blur halves them.
    PNG renders give a chroma/lightness ratio >= 1.03, JPEGs <= 0.96.
    """
    if float(np.abs(rows[1]).mean() + np.abs(rows[2]).mean()) < 1e-3:
        return False  # no colour at all
    rc = 0.5 * (_step_ratio(rows[1], cols[1]) + _step_ratio(rows[2], cols[2]))
    return rc < _step_ratio(rows[0], cols[0])


_STRIP = 64  # rows per strip of the per-pixel tests

#: A page's pen may be thin when under this share of its core trace pixels lies
#: in vertical runs of 3 px or more (a flat stroke of a 1-2 px pen is 1-2 px
#: tall, only steep strokes and text are taller): the thin-pen JPEG scans of
#: real-dev measure 0.29 and 0.38 and a 300 dpi PDF raster 0.11; ecg-dev's
#: renders 0.38-0.76. (1 px synthetic pens measure 0.48-0.52 and would read
#: better grown, 4-6 -> 8-22 dB, but so do 100 dpi black-and-white renders,
#: 0.45, whose masks then take in the grid: left out.)
THIN_PEN_SHARE = 0.4
#: ... and is thin when the lighter ink (above the edge threshold) just beside
#: the trace is at least this share of its core: a line split between two pixel
#: rows darkens both by half, a thick pen only has its anti-aliased edges. The
#: thin pens of real-dev measure 0.65-1.9, ecg-dev's renders at most 0.53 (the
#: one with a share under 0.4, a 100 dpi render, 0.21).
THIN_PEN_HALO = 0.55
#: How far (px) the trace grows through lighter ink on a thin-pen page,
#: instead of 1 px: across the light stretches between its core's pieces (a few
#: px where a 1 px line runs between pixel rows).
THIN_PEN_GROW_PX = 8


#: Light trace-coloured ink this many px across or more, both ways, is a patch
#: (a shadow, a smudge), not a stroke: a pen's light stretches are 1-2 px tall
#: where flat (a 1 px line between two pixel rows, a thin grey pen in a JPEG) and
#: 1-2 px wide where steep.
THICK_INK_PX = 3
#: A straight run of such light ink this long or longer (share of the image's
#: longer side, 1/8: 35 mm of a whole page), at most :data:`THICK_INK_PX` - 1 px
#: across, is a line that the trace crosses (a fold's shadow, a rule), not the
#: trace: it stays out.
JOINED_LINE_SHARE = 0.125
#: On a neutral grid, a light pixel is the middle of a steep stroke when it is
#: darker than the pixels this far (px) to either side of it in its image row: a
#: thin pen's QRS strokes, blurred or resampled, are a few px wide and lighter
#: than the core threshold (set between grid and trace darkness), and the mask
#: kept them only in pieces (a 6x2 scan's dotted grey grid: 15.5 -> 18.9 dB).
RIDGE_OFFSET_PX = 2
#: ... unless it lies on a straight vertical run of light ink this share of the
#: image's height long, gaps under a line-detection length closed: a vertical
#: grid line, which runs down the page (a QRS stroke is shorter, and leans).
#: Without it, a scan's solid grey grid lines joined the trace wherever it
#: crossed them (22.4 -> 11.2 dB); at 4 % of the height, tall R waves went out
#: with them (a blurred 12x1 scan: 15.0 -> 2.5 dB); without the gaps closed, a
#: brown grid in a noisy JPEG (declared neutral) lost trace precision 0.995 -> 0.90.
RIDGE_LINE_SHARE = 0.25


def _joined_through_thin_ink(trace8: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """The trace with every stroke of light ink that runs into it, whatever its length.

    A pen lighter than the core threshold where it is thin (a 1 px line resampled
    to 100 dpi, a grey pen's steep QRS strokes in a JPEG) keeps its core only in
    pieces, and the 1 px growth through the edge pixels leaves the light stretches
    between them out. Here the pieces of ``cand`` (ink above the edge threshold, of
    the trace's colour) under :data:`THICK_INK_PX` across that are connected
    (8-neighbours) to the trace join it, but for long straight lines
    (:data:`JOINED_LINE_SHARE`). On a coloured grid the grid lines are not in
    ``cand``; on a neutral one they are, and this is not used.

    Parameters
    ----------
    trace8, cand : (M, N) uint8 ndarray
        The trace so far and the candidate ink (0/255).

    Returns
    -------
    (M, N) uint8 ndarray
        ``trace8``, updated in place, with the light strokes joined.
    """
    kernel = np.ones((THICK_INK_PX, THICK_INK_PX), np.uint8)
    thin = cv2.subtract(cand, cv2.morphologyEx(cand, cv2.MORPH_OPEN, kernel))
    new = cv2.subtract(thin, trace8)
    if not cv2.countNonZero(new) or not cv2.countNonZero(trace8):
        return trace8
    n, labels = cv2.connectedComponents(cv2.bitwise_or(thin, trace8, dst=thin), connectivity=8)
    seeds = cv2.findNonZero(trace8).reshape(-1, 2)  # (x, y); OpenCV 4 adds an axis
    joined = np.zeros(n, bool)
    joined[labels[seeds[:, 1], seeds[:, 0]]] = True
    added = cv2.findNonZero(new).reshape(-1, 2)
    added = added[joined[labels[added[:, 1], added[:, 0]]]]
    if added.size == 0:
        return trace8
    long_px = JOINED_LINE_SHARE * max(trace8.shape)
    per_row, per_col = np.bincount(added[:, 1]).max(), np.bincount(added[:, 0]).max()
    if max(per_row, per_col) * (THICK_INK_PX - 1) < long_px:  # no line among them
        trace8[added[:, 1], added[:, 0]] = 255
        return trace8
    new[:] = 0
    new[added[:, 1], added[:, 0]] = 255
    n, labels = cv2.connectedComponents(new, connectivity=8)
    piece = labels[added[:, 1], added[:, 0]]
    # each joined piece's extent (from its pixels: no stats over the whole image)
    order = np.argsort(piece, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(piece[order]) != 0])
    x, y = added[order, 0], added[order, 1]
    w = np.maximum.reduceat(x, starts) - np.minimum.reduceat(x, starts) + 1
    h = np.maximum.reduceat(y, starts) - np.minimum.reduceat(y, starts) + 1
    line = ((h < THICK_INK_PX) & (w >= long_px)) | ((w < THICK_INK_PX) & (h >= long_px))
    if line.any():
        drop = np.zeros(n, bool)
        drop[piece[order][starts][line]] = True
        added = added[~drop[piece]]
    trace8[added[:, 1], added[:, 0]] = 255
    return trace8


def _joined_along_ridges(
    trace8: np.ndarray, cand: np.ndarray, dn8: np.ndarray, length: int, *, flat: bool = False
) -> np.ndarray:
    """On a neutral grid: the trace with the light steep strokes that run into it.

    :func:`_joined_through_thin_ink` cannot be used there (the grid's lines are
    candidate ink, and joined to the trace where it crosses them). A steep
    stroke's middle is darker than the ink either side of it in its row
    (:data:`RIDGE_OFFSET_PX`), as a horizontal grid line's pixels are not; the
    vertical lines' pixels are, and are left out where they run straight
    (:data:`RIDGE_LINE_SHARE`). The ridge pixels that touch the trace join it,
    but for thin upright pieces as tall as ``length``: a dotted line's dots run
    together by blur or JPEG.

    Given the arrays transposed and ``flat``, the same joins a thin pen's light
    flat stretches, each darker than the ink above and below it, to the trace:
    horizontal grid lines are then the straight runs left out, thin pieces as
    long as ``length`` are the stretches themselves, kept, and pieces under
    :data:`THICK_INK_PX` long are left out (a thin grid line's pixel beside a
    steep stroke, where the line was too faint to be found). (A covid19 scan's
    right block, printed lighter than its left, as dark as its grid's dots: its
    rows' ink ended 1 s early.)

    Parameters
    ----------
    trace8, cand : (M, N) uint8 ndarray
        The trace so far and the candidate ink (0/255).
    dn8 : (M, N) uint8 ndarray
        Darkness x 255 of the trace-coloured pixels.
    length : int
        The line-detection length (px).
    flat : bool
        The arrays are the page's transposed: flat stretches are joined.

    Returns
    -------
    (M, N) uint8 ndarray
        ``trace8``, updated in place.
    """
    r = RIDGE_OFFSET_PX
    if trace8.shape[1] <= 2 * r:
        return trace8
    mid = dn8[:, r:-r]
    inner = cv2.compare(mid, dn8[:, : -2 * r], cv2.CMP_GT)
    inner &= cv2.compare(mid, dn8[:, 2 * r :], cv2.CMP_GT)
    inner &= cand[:, r:-r]
    ridge = np.zeros_like(cand)
    ridge[:, r:-r] = inner
    # the vertical lines: runs of candidate ink at least `tall` long once gaps
    # under a line-detection length are closed (noise, JPEG), looked for in the
    # columns holding half that much ink (the morphology acts per column)
    tall = max(1, int(RIDGE_LINE_SHARE * cand.shape[0]))
    sums = cv2.reduce(cand, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    cols = np.flatnonzero(sums >= 255 * tall // 2)
    if cols.size:
        runs = cv2.morphologyEx(
            np.ascontiguousarray(cand[:, cols]), cv2.MORPH_CLOSE, np.ones((length, 1), np.uint8)
        )
        runs = cv2.morphologyEx(runs, cv2.MORPH_OPEN, np.ones((tall, 1), np.uint8), dst=runs)
        vertical = np.zeros_like(cand)
        vertical[:, cols] = runs
        ridge = cv2.subtract(ridge, cv2.dilate(vertical, np.ones((1, 3), np.uint8)), dst=ridge)
    new = cv2.subtract(ridge, trace8, dst=ridge)
    if not cv2.countNonZero(new) or not cv2.countNonZero(trace8):
        return trace8
    # the pieces of new ink, those touching the trace, and the thin upright ones
    # as tall as a line-detection length (a dotted line's dots run together)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(new, connectivity=8)
    near = cv2.bitwise_and(cv2.dilate(trace8, np.ones((3, 3), np.uint8)), new)
    at = cv2.findNonZero(near)
    if at is None:
        return trace8
    at = at.reshape(-1, 2)  # (x, y); OpenCV 4 adds an axis
    joined = np.zeros(n, bool)
    joined[labels[at[:, 1], at[:, 0]]] = True
    if flat:
        # (a stretch, not a grid line's pixel beside a steep stroke)
        joined &= stats[:, cv2.CC_STAT_HEIGHT] >= THICK_INK_PX
    else:
        joined &= ~(
            (stats[:, cv2.CC_STAT_WIDTH] < THICK_INK_PX) & (stats[:, cv2.CC_STAT_HEIGHT] >= length)
        )
    added = cv2.findNonZero(new).reshape(-1, 2)
    added = added[joined[labels[added[:, 1], added[:, 0]]]]
    trace8[added[:, 1], added[:, 0]] = 255
    return trace8


def _thin_pen(core: np.ndarray, trace8: np.ndarray, cand: np.ndarray) -> bool:
    """Whether the trace was drawn by a thin pen (:data:`THIN_PEN_SHARE`, :data:`THIN_PEN_HALO`).

    ``core`` holds the trace's darkest pixels, ``trace8`` the trace grown through
    the darker half of its edges, ``cand`` every pixel above the edge threshold
    (uint8 0/255 masks of one shape).
    """
    n = cv2.countNonZero(core)
    if n == 0:
        return False
    tall = cv2.countNonZero(cv2.erode(core, np.ones((3, 1), np.uint8)))
    if tall >= THIN_PEN_SHARE * n:
        return False
    beside = cv2.bitwise_and(cv2.dilate(trace8, np.ones((3, 3), np.uint8)), cand)
    return cv2.countNonZero(beside) - cv2.countNonZero(trace8) >= THIN_PEN_HALO * n


def _pixel_maps(raw, features, kx, ky, chroma_threshold, noise, grid_threshold, jpeg):
    """Per-pixel colour tests, computed in strips of rows (no full-size float arrays).

    Returns a dict of (M, N) uint8 maps (0/255 masks unless stated):
    ``d8`` darkness x 255, ``ink8`` distance from paper x 255, ``neutral`` has
    the trace colour, ``near_neutral`` within twice the tolerance, ``coloured``
    clearly not trace-coloured, ``ink`` distance from paper > grid_threshold,
    and for JPEGs ``neutral_mean``: the trace-colour test on 5 x 5 means
    (a thin coloured line loses its chroma at its centre, not in the mean).
    """
    M, N = raw.shape[:2]
    names = ["d8", "ink8", "neutral", "near_neutral", "coloured", "ink"]
    if jpeg:
        names.append("neutral_mean")
    out = {name: np.empty((M, N), np.uint8) for name in names}
    halo = 2 if jpeg else 0
    ct = float(chroma_threshold)
    for r0 in range(0, M, _STRIP):
        r1 = min(M, r0 + _STRIP)
        a0, a1 = max(0, r0 - halo), min(M, r1 + halo)
        d, x, y = features(raw[a0:a1])
        xr = cv2.scaleAdd(d, -kx, x) if abs(kx) > 1e-3 else x
        yr = cv2.scaleAdd(d, -ky, y) if abs(ky) > 1e-3 else y
        e = cv2.magnitude(xr, yr)
        rows = slice(r0 - a0, r1 - a0)
        dd, ee = d[rows], e[rows]
        out["neutral"][r0:r1] = cv2.compare(ee, cv2.addWeighted(dd, ct, dd, 0.0, noise), cv2.CMP_LE)
        out["near_neutral"][r0:r1] = cv2.compare(
            ee, cv2.addWeighted(dd, 2.0 * ct, dd, 0.0, noise), cv2.CMP_LE
        )
        out["coloured"][r0:r1] = cv2.compare(
            ee, cv2.addWeighted(dd, 0.5 * ct, dd, 0.0, noise), cv2.CMP_GT
        )
        out["d8"][r0:r1] = cv2.convertScaleAbs(dd, alpha=255.0)
        # distance from the paper colour; the chroma magnitude is e's when the
        # trace colour is neutral (kx = ky = 0: no shift was applied)
        chroma = e[rows] if (xr is x and yr is y) else cv2.magnitude(x[rows], y[rows])
        strength = cv2.magnitude(dd, chroma)
        out["ink8"][r0:r1] = cv2.convertScaleAbs(strength, alpha=255.0)
        out["ink"][r0:r1] = cv2.compare(strength, grid_threshold, cv2.CMP_GT)
        if jpeg:
            em = cv2.blur(e, (5, 5))[rows]
            dm = cv2.blur(d, (5, 5))[rows]
            lim = cv2.addWeighted(dm, ct, dm, 0.0, 0.5 * noise)
            out["neutral_mean"][r0:r1] = cv2.compare(em, lim, cv2.CMP_LE)
    return out


def _valid_sub(valid: np.ndarray | None, st: int, shape: tuple[int, int]) -> np.ndarray:
    """Every ``st``-th pixel each way of the paper region, as bool (all True when None)."""
    if valid is None:
        return np.ones((-(-shape[0] // st), -(-shape[1] // st)), bool)
    return np.ascontiguousarray(valid[::st, ::st]) > 0


def _median_u8(values: np.ndarray) -> float:
    """``np.median`` of uint8 values (K >= 1) from their histogram: the same value, faster."""
    return _median_of_counts(np.bincount(values.ravel(), minlength=256))


def _median_of_counts(counts: np.ndarray) -> float:
    """The median (as ``np.median`` gives it) of values 0..255 held ``counts`` times."""
    cum = np.cumsum(counts)
    k = int(cum[-1])
    lo = int(np.searchsorted(cum, (k - 1) // 2, side="right"))  # value at index (k-1)//2
    hi = int(np.searchsorted(cum, k // 2, side="right"))  # value at index k//2
    return 0.5 * (lo + hi)


def _masked_median(values: np.ndarray, mask: np.ndarray) -> float:
    """Median of a uint8 image's values where the uint8 ``mask`` is non-zero (some must be)."""
    counts = cv2.calcHist([values], [0], mask, [256], [0, 256]).ravel()
    return _median_of_counts(counts)


def _masked_median_rgb(image: np.ndarray, mask: np.ndarray) -> Rgb:
    """Channel-wise median of an (m, n, 3) uint8 image where ``mask`` is set (NaNs: nowhere)."""
    if not cv2.countNonZero(mask):
        return (float("nan"),) * 3  # type: ignore[return-value]
    meds = [
        _median_of_counts(cv2.calcHist([image], [ch], mask, [256], [0, 256]).ravel())
        for ch in range(3)
    ]
    return (meds[0], meds[1], meds[2])


def _median_rgb(pixels: np.ndarray) -> Rgb:
    """Channel-wise median of (K, 3) pixels as floats; NaNs when K == 0."""
    if pixels.shape[0] == 0:
        return (float("nan"),) * 3  # type: ignore[return-value]
    p = pixels.reshape(-1, 3)
    if p.dtype == np.uint8:
        return (_median_u8(p[:, 0]), _median_u8(p[:, 1]), _median_u8(p[:, 2]))
    med = np.median(p, axis=0)
    return (float(med[0]), float(med[1]), float(med[2]))


# ---------------------------------------------------------------------------
# Main entry


def separate_colors(
    image: np.ndarray,
    *,
    space: str = "lab",
    backend: str = "opencv",
    normalize: bool = True,
    background_size: int | None = None,
    chroma_threshold: float | None = None,
    trace_threshold: float | None = None,
    grid_threshold: float | None = None,
) -> ColorResult:
    """Separate trace ink from grid lines and paper.

    Parameters
    ----------
    image : (M, N, 3) ndarray of uint8
        RGB image of an ECG print (grayscale ``(M, N)`` is accepted too).
    space : {'lab', 'hsv'}
        Colour space in which darkness and chroma are measured.
    backend : {'opencv', 'pillow', 'skimage'}
        Library converting colours. The backends agree (trace-mask IoU
        >= 0.97 on the dev renders). 'opencv' is the fastest (about 0.07 s for
        2200 x 1700 px on one core), 'pillow' about twice as slow, 'skimage'
        3 to 10 times.
    normalize : bool
        Divide the image by the local paper colour first (removes uneven
        lighting, shadows and colour casts). Turn off only for flat scans.
    background_size : int, optional
        Kernel size (px) of the paper estimate, see :func:`paper_background`;
        also the largest stroke width kept in the trace mask is half of it.
    chroma_threshold : float, optional
        A pixel has the trace colour when its chroma differs from the trace
        chroma by less than this fraction of its darkness (0-2). Default:
        chosen from the image (Otsu split of the ink's chroma ratios, clipped
        to [0.15, 0.35]).
    trace_threshold : float, optional
        Darkness (0-1) above which trace-coloured pixels are trace. Default:
        halfway between the paper (or neutral grid) darkness and the trace's.
    grid_threshold : float, optional
        Ink strength (distance from the paper colour, 0-1) above which a pixel
        that is not trace is grid. Default: 4 x the noise level, at least 0.06.

    Returns
    -------
    ColorResult
        Frozen result with the full-size ``trace_mask`` and ``grid_mask``
        (large) and small colour estimates and thresholds (see
        :meth:`ColorResult.summary`).

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image array.
    ValueError
        If ``space`` or ``backend`` is unknown (the message lists the valid
        names) or an option is out of range.

    Warns
    -----
    UserWarning
        When no trace ink is found (a blank page); the trace mask is then empty.

    Notes
    -----
    Anti-aliased trace edges are kept when they touch a trace pixel, have the
    trace colour and are darker than ``edge_threshold``. Strokes much thicker
    than a trace (dark blots, photo background left inside the paper) are
    dropped from the trace mask. Printed text, lead separators and calibration
    pulses are in the trace ink and so in ``trace_mask``; where the trace
    crosses a grid line, the pixels are trace.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((120, 160, 3), 255, np.uint8)
    >>> img[::8, :] = (240, 120, 120)          # red grid rows
    >>> img[:, ::8] = (240, 120, 120)          # red grid columns
    >>> img[60:63, 10:150] = (20, 20, 20)       # a black trace
    >>> res = separate_colors(img)
    >>> bool(res.trace_mask[61, 80]), bool(res.grid_mask[8, 81]), bool(res.trace_mask[8, 81])
    (True, True, False)
    >>> res.summary().neutral_grid
    False
    """
    image = check_image(image, "image")
    pick(_SPACES, space, "colour space")
    make_converter = pick(_CONVERTERS, backend, "colour backend")[space]
    if not isinstance(normalize, bool):
        raise ValueError(f"normalize must be True or False, got {normalize!r}")
    if background_size is not None:
        if isinstance(background_size, bool) or not isinstance(background_size, int | np.integer):
            raise ValueError(f"background_size must be an int >= 3, got {background_size!r}")
        if background_size < 3:
            raise ValueError(f"background_size must be an int >= 3, got {background_size!r}")
    if chroma_threshold is not None:
        chroma_threshold = check_number(chroma_threshold, "chroma_threshold", lo=0.0, hi=2.0)
    if trace_threshold is not None:
        trace_threshold = check_number(trace_threshold, "trace_threshold", lo=0.0, hi=1.0)
    if grid_threshold is not None:
        grid_threshold = check_number(grid_threshold, "grid_threshold", lo=0.0, hi=1.0)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    image = np.ascontiguousarray(image)
    M, N = image.shape[:2]
    converter = make_converter()
    size = (
        int(background_size) if background_size is not None else _auto_background_size(image.shape)
    )

    # 1. paper normalisation ------------------------------------------------
    if normalize:
        bg = paper_background(image, size=size)
        flat = bg.reshape(M, -1)  # one channel, so that the scalar applies to all
        cv2.max(flat, 1, dst=flat)
        valid = _paper_region(cv2.cvtColor(bg, cv2.COLOR_RGB2GRAY), size)
    else:
        bg = None
        valid = None

    # The normalised image, converted once to the colour space (in strips: no
    # full-size normalised copy); samples and the per-pixel tests read from it.
    # The paper estimate's own buffer takes the converted strips when their type
    # allows (each strip's paper rows are read before they are overwritten).
    st = 4 if min(M, N) >= 256 else 1
    if bg is not None:
        paper_rgb = _median_rgb(bg[:: 4 * st, :: 4 * st][_valid_sub(valid, st, (M, N))[::4, ::4]])
    to_raw, features = converter
    raw = None
    for r0 in range(0, M, _STRIP):
        r1 = min(M, r0 + _STRIP)
        piece = image[r0:r1] if bg is None else cv2.divide(image[r0:r1], bg[r0:r1], scale=255)
        dst = None if raw is None else raw[r0:r1]
        out = to_raw(piece, dst)
        if raw is None:
            reuse = bg is not None and out.dtype == bg.dtype
            raw = bg if reuse else np.empty((M, N, 3), out.dtype)
            raw[r0:r1] = out
        elif out is not dst:
            raw[r0:r1] = out
    del bg

    # 2. statistics from samples of the converted image ------------------------
    # (every 4th pixel each way; pairs of adjacent rows and every 16th column
    # for the noise and the sharpness of colour)

    def sub(a: np.ndarray) -> np.ndarray:
        if a.ndim == 3 and st > 1:  # np.take copies 3-channel pixels faster than a strided view
            return np.take(a[::st], np.arange(0, N, st), axis=1)
        return np.ascontiguousarray(a[::st, ::st])

    ds, xs, ys = features(sub(raw))
    valid_s = _valid_sub(valid, st, (M, N))
    pairs = np.arange(0, M - 1, 16)
    rows = features(raw[pairs])
    noise = max(_noise_sigma(rows[0], features(raw[pairs + 1])[0]), 1.0 / 255)
    floor = max(0.08, 4.0 * noise)
    jpeg = _chroma_blurred(rows, features(np.take(raw, np.arange(0, N, 16), axis=1)))
    del rows
    if not normalize:
        paper_rgb = _median_rgb(sub(image)[ds <= np.median(ds)])

    # 3. trace colour: the darkest, least chromatic pixels (the page border,
    # where renderers and printers often draw a frame, is left out) -------------
    cs = cv2.magnitude(xs, ys)
    inner = valid_s.copy()
    bm, bn = ds.shape[0] // 50, ds.shape[1] // 50
    inner[:bm] = inner[ds.shape[0] - bm :] = False
    inner[:, :bn] = inner[:, ds.shape[1] - bn :] = False
    if not inner.any():
        inner = valid_s
    top = _top_fraction(ds - cs, inner, 0.005)
    if top.any():
        d_t = float(np.median(ds[top]))
        has_trace = d_t > floor + 0.04
        d_t = max(d_t, 1e-3)
        kx = float(np.median(xs[top])) / d_t
        ky = float(np.median(ys[top])) / d_t
    else:  # nothing darker than paper
        d_t, has_trace, kx, ky = 1.0, False, 0.0, 0.0
    # Chroma deviation e from the trace colour, scaled by the pixel's own darkness
    # (anti-aliased edges mix trace ink with paper, so their chroma shrinks with d).
    es = cv2.magnitude(xs - np.float32(kx) * ds, ys - np.float32(ky) * ds)
    if chroma_threshold is None:
        ink_s = valid_s & (ds > max(floor, 0.25 * d_t))
        chroma_threshold = _chroma_split(es[ink_s] / ds[ink_s])
    if grid_threshold is None:
        grid_threshold = max(0.06, 4.0 * noise)

    maps = _pixel_maps(raw, features, kx, ky, chroma_threshold, noise, grid_threshold, jpeg)
    del raw
    d8, ink8, neutral = maps["d8"], maps["ink8"], maps["neutral"]
    near_neutral, coloured, ink = maps["near_neutral"], maps["coloured"], maps["ink"]
    if jpeg:
        # thin coloured lines of a JPEG pass the per-pixel test but not the test
        # on means, except where the pixel is darker than the coloured ink (the
        # trace crossing a grid line, whose colour is in the mean there)
        neutral_mean = maps["neutral_mean"]
        coloured_s = valid_s & (ds > floor) & (sub(neutral_mean) == 0)
        if np.count_nonzero(coloured_s) > 16:
            grid_d = float(np.percentile(ds[coloured_s], 90))
            if grid_d < d_t - 0.1:
                dark = cv2.compare(d8, 127.5 * (grid_d + d_t), cv2.CMP_GT)
                neutral_mean = cv2.bitwise_or(neutral_mean, dark, dst=neutral_mean)
        neutral = cv2.bitwise_and(neutral, neutral_mean, dst=neutral)
    del maps
    if valid is not None:
        d8 = cv2.bitwise_and(d8, valid, dst=d8)
        ink8 = cv2.bitwise_and(ink8, valid, dst=ink8)
    # 4. neutral grid: are the page's long straight lines trace-coloured? ------
    length = max(7, round(min(M, N) / 100))  # survives a few degrees of rotation
    floor8 = floor * 255
    neutral_grid = False
    grid_darkness = 0.0
    on_line = np.zeros((0, 0), bool)
    if min(M, N) >= 4 * length:
        on_line = _line_darkness(ink8, length) > floor8
    ink8_s = sub(ink8)  # all that is needed of it from here
    del ink8
    dn8 = cv2.bitwise_and(d8, neutral)  # darkness of trace-coloured pixels
    n_lines = np.count_nonzero(on_line)
    if n_lines > 0.01 * on_line.size:
        # lines made of trace-coloured pixels only: a neutral grid (black-and-white
        # print) or one whose colour was lost (thin light lines, JPEG chroma)
        line_px = _line_darkness(dn8, length)
        line_px = line_px[line_px > floor8]
        if line_px.size > 0.6 * n_lines:
            # (an opening follows the lower envelope of noisy lines: add 2 sigma)
            dark = float(np.percentile(line_px, 90)) / 255 + 2.0 * noise
            # only if the trace can be told from these lines by darkness
            if dark < d_t - 0.15:
                neutral_grid, grid_darkness = True, dark

    # 5. trace mask ---------------------------------------------------------
    base = max(grid_darkness, floor)
    t_hi = base + 0.5 * max(d_t - base, 0.0) if trace_threshold is None else trace_threshold
    if neutral_grid:  # edge pixels next to the trace may be as light as half the grid
        t_lo = min(t_hi, max(floor, 0.5 * grid_darkness))
    else:
        t_lo = min(t_hi, max(floor, 0.2 * d_t))
    if has_trace or trace_threshold is not None:
        core = cv2.compare(dn8, t_hi * 255, cv2.CMP_GT)
        # drop blots far thicker than any pen stroke
        blot = max(9, size // 2) | 1
        # (an opening: erosion, then dilation only when something survived it)
        thick = cv2.erode(core, np.ones((blot, blot), np.uint8))
        if cv2.countNonZero(thick):
            thick = cv2.dilate(thick, np.ones((blot, blot), np.uint8), dst=thick)
            thick = cv2.dilate(thick, np.ones((5, 5), np.uint8), dst=thick)
            thick = cv2.bitwise_not(thick, dst=thick)
            core = cv2.bitwise_and(core, thick, dst=core)
            dn8 = cv2.bitwise_and(dn8, thick, dst=dn8)
            d8 = cv2.bitwise_and(d8, thick, dst=d8)
        del thick
        # Grow the core through pixels darker than halfway (on neutral grids up
        # to 3 px: there the core threshold is high, and thin lines straddling
        # two pixel rows have no core pixel of their own), then 1 px into
        # lighter anti-aliased edge pixels. Dark pixels next to the trace may
        # be half trace, half grid line: a looser colour test for them.
        mid = cv2.compare(dn8, 255 * max(0.5 * (t_lo + t_hi), grid_darkness), cv2.CMP_GT)
        dark = cv2.compare(d8, t_hi * 255, cv2.CMP_GT, dst=d8)  # (d8's last use)
        near_neutral = cv2.bitwise_and(near_neutral, dark, dst=near_neutral)
        mid = cv2.bitwise_or(mid, near_neutral, dst=mid)
        square3 = np.ones((3, 3), np.uint8)
        trace8 = core.copy()
        for _ in range(3 if neutral_grid else 1):
            trace8 = cv2.dilate(trace8, square3, dst=trace8)
            trace8 = cv2.bitwise_and(trace8, mid, dst=trace8)
            trace8 = cv2.bitwise_or(trace8, core, dst=trace8)
        cand = cv2.compare(dn8, t_lo * 255, cv2.CMP_GT, dst=mid)
        # A pen thinner than a pixel or two leaves many of its pixels lighter
        # than halfway (a line between two pixel rows darkens each by half):
        # its core comes in pieces, joined by growing further along the ink.
        for _ in range(THIN_PEN_GROW_PX if _thin_pen(core, trace8, cand) else 1):
            grown = cv2.dilate(trace8, square3, dst=dark)
            grown = cv2.bitwise_and(grown, cand, dst=grown)
            trace8 = cv2.bitwise_or(trace8, grown, dst=trace8)
        if neutral_grid:  # (there the lighter ink holds the grid's lines)
            trace8 = _joined_along_ridges(trace8, cand, dn8, length)
            # and the light flat stretches between them: the same across columns
            flat = _joined_along_ridges(
                np.ascontiguousarray(trace8.T),
                np.ascontiguousarray(cand.T),
                np.ascontiguousarray(dn8.T),
                length,
                flat=True,
            )
            trace8 = np.ascontiguousarray(flat.T)
        else:
            trace8 = _joined_through_thin_ink(trace8, cand)
        del mid, dark, cand, grown
    else:
        core = trace8 = np.zeros((M, N), np.uint8)
    del dn8, d8, near_neutral

    # 6. grid mask: the other ink, i.e. pixels farther from the paper colour
    # than the noise allows that are not trace: on coloured grids the pixels
    # that lack the trace colour (any hue: two-colour grids work too; "clearly
    # coloured" keeps light tints near the threshold stable), on neutral grids
    # the lighter trace-coloured pixels.
    grid8 = ink
    if neutral_grid:
        grid8 = cv2.bitwise_and(grid8, neutral, dst=grid8)
    else:
        coloured = cv2.bitwise_or(coloured, cv2.bitwise_not(neutral, dst=neutral), dst=coloured)
        grid8 = cv2.bitwise_and(grid8, coloured, dst=grid8)
    del coloured
    neutral = cv2.bitwise_not(trace8, dst=neutral)
    grid8 = cv2.bitwise_and(grid8, neutral, dst=grid8)
    if valid is not None:
        grid8 = cv2.bitwise_and(grid8, valid, dst=grid8)
        trace8 = cv2.bitwise_and(trace8, valid, dst=trace8)

    image_s = sub(image)
    trace_rgb = _masked_median_rgb(image_s, sub(core))
    gsel = sub(grid8)
    if cv2.countNonZero(gsel):  # colour of the stronger half of the grid pixels (major lines)
        strong = cv2.compare(ink8_s, _masked_median(ink8_s, gsel), cv2.CMP_GE)
        gsel = cv2.bitwise_and(gsel, strong, dst=gsel)
    grid_rgb = _masked_median_rgb(image_s, gsel)
    if not has_trace and trace_threshold is None:
        warnings.warn("separate_colors: no trace ink found (blank page?)", stacklevel=2)
    trace_fraction = cv2.countNonZero(trace8) / (M * N)
    grid_fraction = cv2.countNonZero(grid8) / (M * N)
    # 0/255 -> 0/1 in place, then view as bool (no copy)
    trace_mask = cv2.bitwise_and(trace8, 1, dst=trace8).view(bool)
    grid_mask = cv2.bitwise_and(grid8, 1, dst=grid8).view(bool)

    return ColorResult(
        trace_mask=trace_mask,
        grid_mask=grid_mask,
        space=space,
        backend=backend,
        paper_rgb=paper_rgb,
        grid_rgb=grid_rgb,
        trace_rgb=trace_rgb,
        trace_fraction=trace_fraction,
        grid_fraction=grid_fraction,
        trace_threshold=float(t_hi),
        edge_threshold=float(t_lo),
        chroma_threshold=float(chroma_threshold),
        grid_threshold=float(grid_threshold),
        grid_darkness=float(grid_darkness),
        neutral_grid=neutral_grid,
        noise=float(noise),
    )


def colors_station(page: Page, opts: Options) -> tuple[Page, ColorSummary]:
    """Colours station: the trace mask of the working image; the masks stay in the process."""
    col = separate_colors(page.image, space=opts.color_space, backend=opts.color_backend)
    return dataclasses.replace(page, trace_mask=col.trace_mask), col.summary()
