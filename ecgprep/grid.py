"""ECG grid detection: scale (px/mm per axis), rotation and phase of the paper grid.

The grid sets the scale of the whole digitizer, so this stage aims at precision:
the 1 mm period is measured over the whole image by fitting the positions of all
visible grid lines with one straight line (a long baseline), which gives the
scale to a small fraction of a percent, and the rotation is measured from how
the grid lines in narrow strips shift across the image.

Conventions
-----------
- ``angle_deg`` is the rotation of the grid as seen on screen, positive =
  counter-clockwise (the convention of :func:`cv2.getRotationMatrix2D`), in
  (-45, 45]. Rotating the image by ``-angle_deg`` about its centre
  ((N - 1) / 2, (M - 1) / 2) makes the grid lines horizontal and vertical;
  :meth:`GridResult.deskew_matrix` gives that 2 x 3 affine matrix and
  :func:`deskew` applies it.
- ``phase_x`` / ``phase_y`` are given in that deskewed frame (same size as the
  image, same centre): the x of a vertical and the y of a horizontal 5 mm line,
  in ``[0, 5 * px_per_mm)``. When the 5 mm lines could not be told apart they
  are the position of a grid line in ``[0, period)`` where the period is the
  line spacing that was seen (see ``major_found``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ._geometry import as_tuple, downscale, rotate, rotation_matrix
from ._validate import check_image, check_mask, check_positive, line_fit
from .errors import GridNotFoundError, InvalidImageError
from .standards import LETTER_MM

if TYPE_CHECKING:
    from .options import Options
    from .page import Page

__all__ = [
    "GridResult",
    "detect_grid",
    "grid_response",
    "deskew",
    "DeskewResult",
    "deskew_page",
    "deskews",
    "deskew_station",
    "grid_station",
    "stroke_width",
    "SCALE_EVIDENCE",
    "work_factor",
]

# Size of a standard ECG page (US letter, landscape; A4 differs by < 7 %), used only
# to choose between "1 mm lines" and "5 mm lines" when only one comb of lines is
# visible and the scale range allows both.
_PAGE_WIDTH_MM, _PAGE_HEIGHT_MM = LETTER_MM
_ACF_SIGMA = 1.0
# a comb at 1/5 of the dominant period counts as 1 mm lines when its ACF contrast
# exceeds both of these (absolute, and relative to the dominant comb's contrast)
_SUB_MIN = 0.03
_SUB_REL = 0.06
_FOUND_MIN = 0.35
#: Scales :func:`detect_grid` searches by default (px/mm): about 64-635 dpi.
GRID_PX_PER_MM = (2.5, 25.0)
# When only one comb of lines is seen and both readings (1 mm or 5 mm apart) fit the
# scale range, evidence decides:
# - a picture covers at most this many times the page per side (a page with its
#   surroundings); a reading that makes it larger is out
_MAX_PAGE_RATIO = 2.0
# - the darkest strokes (trace, text) print about this wide, mm (0.2-0.5 mm)
_STROKE_MM = 0.33
# - a stroke reading within this factor of the middle of the two readings decides nothing
_STROKE_MARGIN = 1.4
# - a pixel is ink when its brightest channel is below this fraction of the paper's
_INK_LEVEL = 0.5
# - and this many ridge pixels are needed to measure the ink's width
_MIN_INK_RIDGE = 200
# an undecided 1 mm / 5 mm reading keeps this fraction of its confidence
_AMBIGUOUS_CONF = 0.6
# rows of dots whose every fifth row is stronger, on both axes, are a dotted ECG grid
# (a halftone screen has no 5 mm rows): their continuity counts as this
_DOTTED_CONTINUITY = 0.7
# the dominant period is the first ACF peak whose comb contrast is at least this
# fraction of the best peak's
_FIRST_PEAK = 0.5
# a period whose ACF peak is below this fraction of the peak at twice the lag is half
# the true period (a true period correlates about as well at one lag as at two)
_HALF_PERIOD_REL = 0.5
# every 5th line is a 5 mm line when its class of lines (n mod 5) stands above the
# others by this many standard errors in height, or in mass (thickness x darkness);
# the best of 5 classes of plain 1 mm lines reaches ~4.2 by chance in either
_FIFTH_SIGNIF = 5.0
_FIFTH_SIGNIF_MASS = 8.0


#: Values of :attr:`GridResult.scale_evidence`, from the firmest to the weakest.
SCALE_EVIDENCE: tuple[str, ...] = ("both", "range", "page", "stroke", "ambiguous")


@dataclass(frozen=True)
class GridResult:
    """Geometry of the ECG paper grid found on an image.

    Attributes
    ----------
    px_per_mm_x, px_per_mm_y : float
        Scale along the grid's x (time) and y (voltage) axes, pixels per mm,
        measured perpendicular to the grid lines. NaN when no periodic structure
        was found at all.
    angle_deg : float
        Rotation of the grid, degrees, positive = counter-clockwise on screen,
        in (-45, 45]. The mean of the angles of the horizontal and of the
        vertical lines.
    skew_deg : float
        Angle of the vertical lines minus angle of the horizontal lines
        (0 for a pure rotation; non-zero after shear, e.g. rough rectification).
    phase_x, phase_y : float
        Position, in the deskewed frame (see :meth:`deskew_matrix`), of a 5 mm
        grid line nearest the origin (in ``[0, 5 * px_per_mm)``), or, when
        ``major_found`` is False, of a 1 mm line (in ``[0, px_per_mm)``).
    major_found : bool
        True when the phase refers to 5 mm lines: either every 5th line is
        stronger than the 1 mm lines, or only the 5 mm lines are visible (see
        ``minor_found``). Both axes must agree.
    minor_found : bool
        True when the 1 mm lines were resolved (in both axes).
    confidence : float
        0..1, the geometric mean over the two axes of: how periodic the profile
        is, how many lines were fitted and how much of the image they cover, how
        well they fall on one straight comb (rms residual), and whether they are
        continuous lines rather than rows of dots; halved when the x and y scales
        differ by more than 1.43x, times 0.6 when 1 mm could not be told from
        5 mm lines (:attr:`scale_ambiguous`). Below 0.3 on pages without a grid.
    found : bool
        ``confidence >= 0.35``. Check this before using the numbers.
    n_lines_x, n_lines_y : int
        Number of grid lines used in the long-baseline fits.
    image_shape : tuple of int
        (M, N) of the analysed image, for :meth:`deskew_matrix`.
    scale_evidence : int
        What told 1 mm lines from 5 mm lines, an index into
        :data:`SCALE_EVIDENCE` (its name is :attr:`scale_basis`).
    dotted : bool
        The lines are rows of dots (a dotted grid), accepted because every fifth
        row of dots is stronger on both axes.
    """

    px_per_mm_x: float
    px_per_mm_y: float
    angle_deg: float
    phase_x: float
    phase_y: float
    major_found: bool
    confidence: float
    found: bool
    skew_deg: float = 0.0
    minor_found: bool = False
    n_lines_x: int = 0
    n_lines_y: int = 0
    image_shape: tuple[int, int] = (0, 0)
    scale_evidence: int = 0
    dotted: bool = False

    @property
    def scale_basis(self) -> str:
        """What told 1 mm lines from 5 mm lines.

        ``"both"``: 1 mm and 5 mm lines were seen (a weaker comb at 1/5 of the
        period, or every fifth line stronger). ``"range"``: one comb, and only
        one reading of it within the scale range. ``"page"``: the other reading
        would make the picture more than twice a page per side. ``"stroke"``:
        the width of the darkest strokes (trace, text; about 0.33 mm) decided.
        ``"ambiguous"``: nothing did; the reading nearer a whole page was taken
        and the confidence lowered.
        """
        return SCALE_EVIDENCE[self.scale_evidence]

    @property
    def scale_ambiguous(self) -> bool:
        """True when nothing told 1 mm lines from 5 mm lines (a 5x scale error is possible)."""
        return self.scale_basis == "ambiguous"

    @property
    def px_per_mm(self) -> float:
        """Geometric mean of the x and y scales."""
        return float(math.sqrt(self.px_per_mm_x * self.px_per_mm_y))

    def deskew_matrix(self) -> np.ndarray:
        """2 x 3 affine matrix (for :func:`cv2.warpAffine`) rotating the image by ``-angle_deg``.

        The rotation is about the image centre ((N - 1) / 2, (M - 1) / 2) and keeps
        the image size; ``phase_x`` and ``phase_y`` are coordinates in its output.
        """
        return rotation_matrix(self.image_shape, -float(self.angle_deg))[:2]


def deskew(image: np.ndarray, grid: GridResult, *, border_value=255) -> np.ndarray:
    """Rotate ``image`` by ``-grid.angle_deg`` so that the grid lines are axis-aligned.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        The image the grid was detected on.
    grid : GridResult
        Result of :func:`detect_grid` on ``image``.
    border_value : int or tuple
        Fill value for pixels rotated in from outside.

    Returns
    -------
    out : ndarray
        Same shape and dtype as ``image``.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((60, 80, 3), 255, np.uint8)
    >>> g = GridResult(5.0, 5.0, 2.0, 0.0, 0.0, True, 1.0, True, image_shape=(60, 80))
    >>> deskew(img, g).shape
    (60, 80, 3)
    """
    image = check_image(image, "image")
    if tuple(image.shape[:2]) != tuple(grid.image_shape):
        raise ValueError(
            f"image shape {image.shape[:2]} differs from the grid's image_shape {grid.image_shape}"
        )
    return rotate(image, -float(grid.angle_deg), border_value=border_value)[0]


# --------------------------------------------------------------------------------------
# Line response


def _auto_line_size(shape: tuple[int, int]) -> int:
    s = int(round(0.0032 * max(shape)))
    s = max(5, min(s, 21))
    return s | 1


def _hist_percentiles(img: np.ndarray, qs, step: int = 3) -> list[int]:
    """Percentiles of a uint8 image (every ``step``-th row and column) from its histogram."""
    sub = np.ascontiguousarray(img[::step, ::step]) if step > 1 else img
    hist = cv2.calcHist([sub], [0], None, [256], [0, 256]).ravel()
    cdf = np.cumsum(hist)
    return [int(np.searchsorted(cdf, q / 100.0 * cdf[-1])) for q in qs]


def grid_response(image: np.ndarray, *, line_size: int | None = None) -> np.ndarray:
    """Per-pixel "lineness": how much darker (in its darkest channel) a pixel is than nearby paper.

    The response is the black top-hat (morphological closing minus image) of the
    per-pixel minimum over the colour channels, after each channel is scaled so
    that the paper (its 90th percentile) is white; so coloured grid lines on
    white or tinted paper respond as well as grey ones, and slow shading (wrinkles,
    uneven light) does not. Its median (the noise floor) is subtracted and it is
    capped at its 97th percentile so that the trace and text weigh no more than
    grid lines. Pale paper is assumed; on dark paper (median luma < 100) the image
    is inverted first.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB or gray image.
    line_size : int, optional
        Side of the square closing element, larger than the widest grid line;
        default about 0.3 % of the larger image side (7 px at 2200 px).

    Returns
    -------
    response : (M, N) ndarray of uint8
        Large (full image size).

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If ``line_size`` < 3.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((40, 40, 3), 255, np.uint8)
    >>> img[:, 10] = (255, 120, 120)
    >>> r = grid_response(img)
    >>> int(r[5, 10]) > 0, int(r[5, 20])
    (True, 0)
    """
    image = check_image(image, "image")
    if line_size is None:
        line_size = _auto_line_size(image.shape[:2])
    line_size = int(line_size)
    if line_size < 3:
        raise ValueError(f"line_size must be >= 3, got {line_size}")
    img = np.ascontiguousarray(image)
    if img.ndim == 3:
        # white-balance on the paper (90th percentile of each channel), so that on
        # tinted paper a line darker in any one channel still stands out
        chans = cv2.split(img)
        gains = [255.0 / max(_hist_percentiles(c, [90.0])[0], 1) for c in chans]
        chans = [
            cv2.convertScaleAbs(c, dst=c, alpha=g) if abs(g - 1.0) > 0.02 else c
            for c, g in zip(chans, gains, strict=True)
        ]
        dark = cv2.min(chans[0], chans[1], dst=chans[0])
        dark = cv2.min(dark, chans[2], dst=dark)
        del chans
    else:
        dark = img
    if _hist_percentiles(dark, [50.0])[0] < 100:
        dark = cv2.bitwise_not(dark)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (line_size, line_size))
    tophat = cv2.morphologyEx(dark, cv2.MORPH_BLACKHAT, kernel)
    floor, top = _hist_percentiles(tophat, [50.0, 97.0])
    cap = top - floor
    resp = cv2.subtract(tophat, floor, dst=tophat)
    if cap > 0:
        resp = cv2.min(resp, cap, dst=resp)
    return resp


def stroke_width(image: np.ndarray) -> float:
    """Typical width, px, of the darkest strokes (trace, text): NaN when there are too few.

    Ink is where the brightest channel is below half the paper's (its 90th
    percentile), so coloured grid lines are not ink, black and dark grey strokes
    are. The width is read on the ink's ridge (local maxima of its distance
    transform) as ``2 * distance - 1`` (exact for an odd width, 1 px short for
    an even one) and the median is taken.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB or gray image on pale paper.

    Returns
    -------
    width : float
        Pixels; NaN with fewer than 200 ridge pixels or on dark paper.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((100, 300, 3), 255, np.uint8)
    >>> img[40:45, 10:290] = 0  # a stroke 5 px wide
    >>> stroke_width(img)
    5.0
    """
    image = check_image(image, "image")
    if image.ndim == 3:
        chans = cv2.split(np.ascontiguousarray(image))
        bright = cv2.max(cv2.max(chans[0], chans[1]), chans[2])
    else:
        bright = np.ascontiguousarray(image)
    paper = _hist_percentiles(bright, [90.0])[0]
    if paper < 100:
        return float("nan")
    _, ink = cv2.threshold(bright, _INK_LEVEL * paper, 1, cv2.THRESH_BINARY_INV)
    dist = cv2.distanceTransform(ink, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ridge = (dist > 0) & (dist >= cv2.dilate(dist, np.ones((3, 3), np.uint8)))
    values = dist[ridge]
    if values.size < _MIN_INK_RIDGE:
        return float("nan")
    return float(2.0 * np.median(values) - 1.0)


# --------------------------------------------------------------------------------------
# Angle


@functools.lru_cache(maxsize=8)
def _spectrum_angles(s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For an s x s spectrum: band mask, grid angle of each band bin, its 0.25 deg bin."""
    f = np.fft.fftfreq(s)
    fy = f[:, None]
    fx = f[None, :]
    r2 = fx * fx + fy * fy
    # below 0.3 cycles/px: harmonics near Nyquist alias to wrong angles
    band = (r2 > (1.0 / 150.0) ** 2) & (r2 <= 0.09)
    yy, xx = np.nonzero(band)
    phi = np.degrees(np.arctan2(f[yy], f[xx]))
    # a grid rotated CCW on screen by a (y down) has its spectrum along phi = 90 - a
    ang = (-phi + 45.0) % 90.0 - 45.0  # in [-45, 45)
    bins = ((ang + 45.0) / 90.0 * 360).astype(np.intp) % 360
    for arr in (band, ang, bins):
        arr.setflags(write=False)
    return band, ang, bins


def _power_spectrum(a: np.ndarray) -> np.ndarray:
    """Squared magnitude of the 2-D DFT of real float32 ``a`` (M, N), unshifted.

    For even sizes the transform is taken in OpenCV's packed (CCS) form, which
    costs a third of the complex one, and unpacked: the interior columns hold
    complex values, the first and the Nyquist column real sequences packed the
    same way along the rows, and the other half-plane is the mirror image
    (``P[v, N - u] = P[-v, u]`` for a real input).
    """
    m, n = a.shape
    if m % 2 or n % 2 or m < 4 or n < 4:
        spec = cv2.dft(a, flags=cv2.DFT_COMPLEX_OUTPUT)
        return spec[..., 0] ** 2 + spec[..., 1] ** 2
    c = cv2.dft(a)
    h, hm = n // 2, m // 2
    power = np.empty((m, n), np.float32)
    re = c[:, 1 : n - 1 : 2]
    im = c[:, 2 : n - 1 : 2]
    power[:, 1:h] = re * re + im * im
    for src, dst in ((0, 0), (n - 1, h)):
        col = c[:, src]
        p = power[:, dst]
        p[0] = col[0] ** 2
        p[1:hm] = col[1 : m - 1 : 2] ** 2 + col[2 : m - 1 : 2] ** 2
        p[hm] = col[m - 1] ** 2
        p[hm + 1 :] = p[1:hm][::-1]
    power[:, h + 1 :] = power[(-np.arange(m)) % m, 1:h][:, ::-1]
    return power


def _coarse_angle(resp: np.ndarray, size: int = 512) -> float:
    """Dominant orientation mod 90 deg (CCW positive, in (-45, 45]) from 2-D power spectra.

    A grid puts its spectral energy on two orthogonal lines through the origin.
    The power spectra of up to five crops (centre and quarters) are summed, folded
    onto one 90 deg sector and histogrammed by angle; the mode (robust to the
    trace's spread-out energy) is refined by a local power-weighted circular mean.
    Good to a few tenths of a degree; the strip search refines it.
    """
    m, n = resp.shape
    s = int(min(size, m, n))
    win = np.hanning(s).astype(np.float32)
    win2 = win[:, None] * win[None, :]
    centres = {((m - s) // 2, (n - s) // 2)}
    if m >= 2 * s or n >= 2 * s or (m > s and n > s):
        for fy_, fx_ in ((0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)):
            y0 = int(np.clip(fy_ * m - s / 2, 0, m - s))
            x0 = int(np.clip(fx_ * n - s / 2, 0, n - s))
            centres.add((y0, x0))
    power = np.zeros((s, s), np.float32)
    for y0, x0 in sorted(centres):
        crop = resp[y0 : y0 + s, x0 : x0 + s].astype(np.float32)
        crop -= crop.mean()
        power += _power_spectrum(crop * win2)
    band, ang, bins = _spectrum_angles(s)
    pw = power[band].astype(np.float64)
    if pw.size == 0 or not pw.sum() > 0:
        return 0.0
    nb = 360
    hist = np.bincount(bins, weights=pw, minlength=nb)
    kern = np.exp(-0.5 * (np.arange(-6, 7) / 2.0) ** 2)
    smooth = np.convolve(np.concatenate([hist[-6:], hist, hist[:6]]), kern, mode="same")[6:-6]
    mode = (int(np.argmax(smooth)) + 0.5) / nb * 90.0 - 45.0
    d = (ang - mode + 45.0) % 90.0 - 45.0
    near = np.abs(d) < 1.5
    w = pw[near] ** 2
    if w.sum() > 0:
        mode += float(np.sum(w * d[near]) / np.sum(w))
    if mode <= -45.0:
        mode += 90.0
    elif mode > 45.0:
        mode -= 90.0
    return float(mode)


def _fast_len(n: int) -> int:
    return int(cv2.getOptimalDFTSize(int(n)))


def _block_profiles(work: np.ndarray, axis: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean profiles of ``count`` equal strips (a remainder of < count px is dropped).

    axis=0: row profiles of vertical strips, (count, M); axis=1: column profiles of
    horizontal strips, (count, N). Also returns the strip centres along the lines.
    """
    m, n = work.shape
    length = n if axis == 0 else m
    width = length // count
    if axis == 0:
        # each image row cut into ``count`` pieces, one piece per row of ``pieces``
        pieces = np.ascontiguousarray(work[:, : count * width]).reshape(m * count, width)
        sums = cv2.reduce(pieces, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)
        blocks = sums.reshape(m, count).T
    else:
        rows = [work[i * width : (i + 1) * width] for i in range(count)]
        blocks = np.stack([cv2.reduce(r, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[0] for r in rows])
    centres = (np.arange(count) + 0.5) * width - 0.5
    return blocks.astype(np.float64) / width, centres


class _AxisProfiles:
    """Strip profiles of one family of lines; residual-angle search in the Fourier domain.

    ``blocks`` (K, L) are profiles across the lines of K strips whose centres along
    the lines are ``centres``. A line with slope ``s`` (shift across per px along)
    crossing the image centre line ``ref`` at ``y0`` sits at ``y0 + (c_k - ref) * s``
    in strip k; aligning the strips is a sub-pixel Fourier shift.
    """

    def __init__(
        self, blocks: np.ndarray, centres: np.ndarray, ref: float, nfft: int, n_sel: int = 64
    ):
        self.length = blocks.shape[1]
        self.nfft = nfft
        b = blocks - blocks.mean(axis=1, keepdims=True)
        self.spec = np.fft.rfft(b, n=nfft, axis=1)  # (K, F)
        self.freqs = np.fft.rfftfreq(nfft)
        # aligned profiles give line positions where the lines cross ``ref``
        self.offsets = centres - ref  # (K,)
        power = np.sum(self.spec.real**2 + self.spec.imag**2, axis=0)
        band = self.freqs >= 1.0 / 160.0
        power = np.where(band, power, 0.0)
        top = min(n_sel, int(band.sum()))
        self.sel = np.argsort(power)[-top:] if top > 0 else np.zeros(0, int)

    def sharpness(self, slopes: np.ndarray) -> np.ndarray:
        f = self.freqs[self.sel]
        sp = self.spec[:, self.sel]
        ph = _phase_ramp(slopes[:, None, None] * self.offsets[None, :, None] * f[None, None, :])
        tot = np.einsum("aks,ks->as", ph, sp)
        return np.sum(tot.real**2 + tot.imag**2, axis=1)

    def best_slope(self, max_deg: float) -> float:
        if self.sel.size == 0 or self.offsets.size < 2:
            return 0.0
        lim = math.tan(math.radians(max_deg))
        centre = 0.0
        for _ in range(3):
            grid1 = centre + np.linspace(-lim, lim, 2 * int(math.ceil(max_deg / 0.1)) + 1)
            s1 = self.sharpness(grid1)
            i1 = int(np.argmax(s1))
            best = grid1[i1]
            if 0 < i1 < grid1.size - 1:
                break
            centre = best  # the optimum is at the edge: search further out
        step = grid1[1] - grid1[0]
        grid2 = best + np.linspace(-step, step, 21)
        s2 = self.sharpness(grid2)
        i = int(np.argmax(s2))
        best = grid2[i]
        if 0 < i < len(grid2) - 1:
            best += _parabola_offset(s2[i - 1], s2[i], s2[i + 1]) * (grid2[1] - grid2[0])
        return float(best)

    def profile_spectrum(self, slope: float) -> np.ndarray:
        # (self.freqs are 0, 1/nfft, 2/nfft, ...: a ramp along axis 1)
        ph = _phase_ramp(slope * self.offsets[:, None] * self.freqs[None, :], axis=1)
        return np.sum(self.spec * ph, axis=0)


def _phase_ramp(cycles: np.ndarray, axis: int = 0) -> np.ndarray:
    """``exp(2j * pi * cycles)`` for ``cycles`` that grow linearly along ``axis``.

    The first slice and one step are exponentiated and the rest follow by a
    cumulative product (a few ulp apart from the direct result, at a tenth of
    the cost of the complex exponential); anything else is exponentiated directly.
    """
    n = cycles.shape[axis]
    if n < 3:
        return np.exp(2j * np.pi * cycles)
    c = np.moveaxis(cycles, axis, 0)
    step = c[1] - c[0]
    if not np.allclose(c[2:] - c[1:-1], step, rtol=1e-9, atol=1e-12):
        return np.exp(2j * np.pi * cycles)
    out = np.empty(c.shape, np.complex128)
    out[0] = np.exp(2j * np.pi * c[0])
    out[1:] = np.exp(2j * np.pi * step)
    np.cumprod(out, axis=0, out=out)
    return np.moveaxis(out, 0, axis)


def _parabola_offset(y0: float, y1: float, y2: float) -> float:
    den = y0 - 2.0 * y1 + y2
    if den >= 0:
        return 0.0
    return float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5))


# --------------------------------------------------------------------------------------
# Period


def _comb_acf(spec: np.ndarray, nfft: int, sigma: float = _ACF_SIGMA) -> np.ndarray:
    """Autocorrelation of the periodic part of a profile, normalised to 1 at lag 0.

    The broadband part of the power spectrum (trace, text, shading; estimated by a
    running median over 15 bins) is subtracted, so mostly the spectral lines of
    the grid remain; the result is blurred by ~1 px because rendered grids snap
    lines to whole pixels and that jitter must not make a far lag look more
    periodic than the true period.
    """
    power = spec.real**2 + spec.imag**2
    nb = power.size
    w = 15
    pad = np.pad(power, (w // 2, w // 2), mode="edge")
    cont = np.median(np.lib.stride_tricks.sliding_window_view(pad, w), axis=1)[:nb]
    comb = np.maximum(power - cont, 0.0)
    comb[0] = 0.0
    freqs = np.arange(nb) / nfft
    comb *= np.exp(-2.0 * (np.pi * freqs * sigma) ** 2)
    acf = np.fft.irfft(comb, n=nfft)
    if acf[0] <= 0:
        return np.zeros_like(acf)
    return acf / acf[0]


def _acf_at(acf: np.ndarray, tau) -> np.ndarray:
    return np.interp(tau, np.arange(acf.size), acf)


def _comb_contrast(acf: np.ndarray, period: float, count: int) -> float:
    """Mean ACF at multiples of ``period`` minus at the half-way lags."""
    if period < 1.5 or count < 1:
        return 0.0
    k = np.arange(1, count + 1)
    return float(_acf_at(acf, k * period).mean() - _acf_at(acf, (k - 0.5) * period).mean())


def _refine_acf_period(acf: np.ndarray, t0: float, lag_max: float) -> float:
    """Period from the peaks of the ACF at several multiples of t0 (a longer baseline)."""
    kmax = int(lag_max // t0)
    if kmax < 2:
        return t0
    pos, wts = [], []
    half = max(1, int(0.1 * t0))
    for k in range(1, kmax + 1):
        c = int(round(k * t0))
        a, b = max(1, c - half), min(acf.size - 2, c + half)
        if b <= a:
            break
        i = a + int(np.argmax(acf[a : b + 1]))
        if acf[i] <= 0:
            continue
        pos.append(i + _parabola_offset(acf[i - 1], acf[i], acf[i + 1]))
        wts.append(k * acf[i])
    if len(pos) < 2:
        return t0
    pos = np.asarray(pos)
    ks = np.rint(pos / t0)
    w = np.asarray(wts)
    return float(np.sum(w * ks * pos) / np.sum(w * ks * ks))


def _skip_half_periods(acf: np.ndarray, t0: float, lag_max: float, length: int) -> float:
    """Double ``t0`` while its ACF peak is much lower than the one at ``2 * t0``.

    A true period correlates as well at one lag as at two; a lag at half the
    period (the dots of dotted 5 mm lines, 0.5 mm apart, cross the other axis's
    profile) makes only a small bump, and the comb score of its multiples, half
    of which are true peaks, can still pass.
    """

    def peak(lag: float) -> int:
        # the highest integer lag within +-1 px: narrow peaks of short periods fall
        # between integer lags, where interpolation would halve them
        c = int(round(lag))
        a, b = max(1, c - 1), min(acf.size - 2, c + 1)
        return a + int(np.argmax(acf[a : b + 1]))

    def contrast(t: float) -> float:
        return _comb_contrast(acf, t, max(1, min(4, int(length / t / 4))))

    while 2.0 * t0 <= lag_max:
        i = peak(2.0 * t0)
        if not acf[peak(t0)] < _HALF_PERIOD_REL * acf[i]:
            break
        t2 = i + _parabola_offset(acf[i - 1], acf[i], acf[i + 1])
        # and the doubled comb is the sharper one (half of a half period's
        # multiples fall between peaks); a noisy lag at 2 x 5 mm is not
        if not contrast(t2) > contrast(t0):
            break
        t0 = t2
    return t0


@dataclass(frozen=True)
class _Period:
    t0: float  # dominant period (px)
    rho: float  # normalised comb ACF at t0
    sub_comb: bool  # a comb at t0 / 5 (1 mm lines under 5 mm lines)
    sub_contrast: float
    main_contrast: float


def _dominant_period(spec: np.ndarray, nfft: int, length: int, tmin: float, tmax: float):
    acf = _comb_acf(spec, nfft)
    if acf[0] <= 0:
        return None
    tmax = min(tmax, length / 4.0)
    lo = max(1, int(math.floor(tmin)))
    hi = int(math.ceil(tmax))
    if hi <= lo + 2:
        return None
    seg = acf[lo - 1 : hi + 2]
    inner = (seg[1:-1] >= seg[:-2]) & (seg[1:-1] > seg[2:])
    cand = np.nonzero(inner)[0] + lo
    if cand.size == 0:
        return None
    cand = cand[acf[cand] > 0]
    if cand.size == 0:
        return None
    # score each peak by the contrast of its whole comb (multiples vs half-way lags):
    # robust to pixel-snapping jitter, which lowers single ACF peaks but not the comb
    y0, y1, y2 = acf[cand - 1], acf[cand], acf[cand + 1]
    den = y0 - 2.0 * y1 + y2
    pos = cand + np.where(
        den < 0, np.clip(0.5 * (y0 - y2) / np.where(den < 0, den, -1.0), -0.5, 0.5), 0.0
    )
    k = np.arange(1, 5)
    lag_lim = min(acf.size - 1, length)
    taus = pos[:, None] * k[None, :]
    valid = taus <= lag_lim
    on = np.where(valid, _acf_at(acf, np.minimum(taus, lag_lim)), 0.0)
    off = np.where(valid, _acf_at(acf, np.minimum(taus - 0.5 * pos[:, None], lag_lim)), 0.0)
    score = (on - off).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
    smax = float(score.max())
    if smax <= 0:
        return None
    first = int(cand[np.nonzero(score >= _FIRST_PEAK * smax)[0][0]])
    t0 = first + _parabola_offset(acf[first - 1], acf[first], acf[first + 1])
    t0 = _skip_half_periods(acf, t0, min(tmax, lag_lim / 2.0), length)
    t0 = _refine_acf_period(acf, t0, min(length / 3.0, 8 * t0))
    # periodicity: the best ACF peak among the first multiples (pixel snapping can
    # make a multiple of the period match better than the period itself)
    ks = np.arange(1, 6) * t0
    ks = ks[ks <= min(acf.size - 1, length / 2.0)]
    rho = (
        float(max(_acf_at(acf, ks).max(), _acf_at(acf, t0))) if ks.size else float(_acf_at(acf, t0))
    )
    sub = t0 / 5.0
    main_c = _comb_contrast(acf, t0, max(1, min(4, int(length / t0 / 4))))
    if sub >= 2.0:
        # fine 1 mm lines (< 6 px apart) need a less blurred autocorrelation
        sub_c = _comb_contrast(acf if sub >= 6.0 else _comb_acf(spec, nfft, 0.4), sub, 4)
    else:
        sub_c = 0.0
    sub_comb = sub >= 2.0 and sub_c > max(_SUB_MIN, _SUB_REL * main_c)
    return _Period(t0, rho, sub_comb, sub_c, main_c)


@dataclass(frozen=True)
class _LineFit:
    period: float
    phase: float
    idx: np.ndarray
    heights: np.ndarray
    rms: float
    se: float  # standard error of the period
    masses: np.ndarray  # area of each line's peak (thickness x darkness)

    @property
    def regularity(self) -> float:
        """1 for lines on a straight comb within ~0.45 px rms (pixel snapping alone gives
        ~0.3 px); falls to 0 at 0.5 px + 3 % of a period beyond that."""
        return float(np.clip(1.0 - (self.rms - 0.45) / (0.5 + 0.03 * self.period), 0.0, 1.0))

    @property
    def extent(self) -> tuple[float, float]:
        return (
            self.phase + self.idx.min() * self.period,
            self.phase + self.idx.max() * self.period,
        )


def _locate_lines(hp: np.ndarray, idx: np.ndarray, period: float, phase: float):
    """Sub-pixel positions, heights and masses of the profile peaks nearest phase + idx * period.

    The mass (summed over +-15 % of a period) tells a thicker line from a thinner
    one of the same darkness, which the height does not once the response is capped.
    """
    length = hp.size
    rows = np.arange(idx.size)
    half = max(2, int(0.45 * period))
    offs = np.arange(-half, half + 1)
    centres = np.rint(phase + idx * period).astype(int)
    win = centres[:, None] + offs[None, :]
    inside = (win >= 1) & (win < length - 1)
    vals = np.where(inside, hp[np.clip(win, 0, length - 1)], -np.inf)
    # prefer peaks near the prediction (a tall trace stroke half a period away loses)
    tent = 1.0 - 0.5 * np.abs(offs) / (half + 1.0)
    j = np.argmax(np.where(vals > 0, vals * tent[None, :], vals), axis=1)
    pk = np.clip(centres + offs[j], 1, length - 2)
    # median of the in-image part of each window (out-of-image entries are -inf and sort first)
    nvalid = inside.sum(axis=1)
    srt = np.sort(vals, axis=1)
    mid = np.clip(offs.size - nvalid + (nvalid - 1) // 2, 0, offs.size - 1)
    base = np.where(nvalid > 0, srt[rows, mid], 0.0)
    heights = hp[pk] - base
    # centroid of the peak above the local median: sub-pixel, and unbiased for
    # thick flat-topped lines where a 3-point parabola is not
    w = max(1, int(round(0.15 * period)))
    cw = np.arange(-w, w + 1)
    cidx = pk[:, None] + cw[None, :]
    cin = (cidx >= 0) & (cidx < length)
    cv = np.where(cin, hp[np.clip(cidx, 0, length - 1)] - base[:, None], 0.0)
    cv = np.maximum(cv, 0.0)
    mass = cv.sum(axis=1)
    frac = np.where(mass > 0, (cv * cw[None, :]).sum(axis=1) / np.where(mass > 0, mass, 1.0), 0.0)
    ok = (j > 0) & (j < offs.size - 1) & inside[rows, j] & (heights > 0)
    return pk + frac, heights, mass, ok


def _wfit(idx, pos, w):
    # Weighted least squares (weights w**2, as lstsq on rows scaled by w), in
    # closed form: LAPACK's rounding varies with the BLAS thread count, which
    # differs between worker processes, and batches must be reproducible.
    slope, intercept = line_fit(idx, pos, np.asarray(w, dtype=np.float64) ** 2)
    return slope, intercept


def _fit_lines(profile: np.ndarray, period: float) -> _LineFit | None:
    """Long-baseline fit of position = phase + n * period through all grid lines.

    Starts from the lines near the centre of the profile and doubles the span at
    each step, so that an initial period error of ~1 % cannot make far lines
    jump to a neighbour; then rejects outliers (missing lines, trace) robustly.
    """
    length = profile.size
    if length < 4 * period:
        return None
    k = max(3, int(round(period)) | 1)
    base = cv2.blur(
        profile.reshape(1, -1).astype(np.float32), (k, 1), borderType=cv2.BORDER_REFLECT
    )
    hp = profile - base.ravel().astype(np.float64)
    centre = 0.5 * (length - 1)
    # initial phase from the central +-8 periods
    t = np.arange(length, dtype=np.float64)
    span = min(length / 2.0, 8 * period)
    sl = slice(int(max(0, centre - span)), int(min(length, centre + span)))
    c1 = np.sum(hp[sl] * np.exp(-2j * np.pi * t[sl] / period))
    p = period
    ph = (-np.angle(c1) / (2 * np.pi) * p) % p
    n_lo = int(math.ceil((0 - ph) / p))
    n_hi = int(math.floor((length - 1 - ph) / p))
    idx_all = np.arange(n_lo, n_hi + 1)
    nc = int(round((centre - ph) / p))
    radius = 8
    while True:
        idx = idx_all[np.abs(idx_all - nc) <= radius]
        pos, h, mass, ok = _locate_lines(hp, idx, p, ph)
        if ok.sum() >= 3:
            ok &= h > 0.25 * np.median(h[ok])
        if ok.sum() < 3:
            return None
        res_ok = ok.copy()
        for _ in range(2):
            w = np.sqrt(h[res_ok])
            p, ph = _wfit(idx[res_ok], pos[res_ok], w)
            res = pos - (ph + idx * p)
            mad = 1.4826 * np.median(np.abs(res[res_ok]))
            # rendered grids snap lines to whole pixels: allow +-0.6 px; never more
            # than 10 % of a period (trace strokes near a line are not the line)
            thr = min(max(3.0 * mad, 0.6), max(0.1 * p, 0.6))
            res_ok = ok & (np.abs(res) <= thr)
            if res_ok.sum() < 3:
                return None
        if radius >= idx_all.size:
            break
        radius *= 2
    res = pos - (ph + idx * p)
    rms = float(np.sqrt(np.mean(res[res_ok] ** 2)))
    used = idx[res_ok]
    spread = float(np.sum((used - used.mean()) ** 2))
    se = rms / math.sqrt(spread) if spread > 0 else float("inf")
    return _LineFit(p, ph, used, h[res_ok], rms, se, mass[res_ok])


@dataclass(frozen=True)
class _Axis:
    period: float  # spacing of the fitted lines, px
    phase: float  # position of a fitted line, in [0, period)
    major_phase: (
        float  # position of a 5 mm line when the fitted lines are 1 mm with majors; else nan
    )
    one_mm: bool  # the fitted lines are known to be 1 mm apart (a 5-comb was seen)
    rho: float
    regularity: float
    n_lines: int
    coverage: float
    length: int
    main_contrast: float
    combs: tuple  # ((spacing, phase, (first, last)), ...) of the fitted line combs, px, unscaled
    extent: tuple[float, float]  # first and last fitted line, px
    continuity: float = 1.0  # lines are continuous (not rows of dots), 0..1
    dotted: bool = False  # rows of dots, accepted as a dotted ECG grid


def _major_class(fit: _LineFit) -> tuple[int, float]:
    """Residue class (n mod 5) of the strongest lines and a t-like significance.

    Lines are compared by height (darker 5 mm lines) and by mass (thicker ones:
    once the response is capped, a thick line is no taller than a thin one).
    """
    r, signif = _strongest_class(fit.idx % 5, fit.heights)
    rm, signif_m = _strongest_class(fit.idx % 5, fit.masses)
    # masses are noisier (a trace crossing adds area): they must stand out further
    signif_m *= _FIFTH_SIGNIF / _FIFTH_SIGNIF_MASS
    return (r, signif) if signif >= signif_m else (rm, signif_m)


def _strongest_class(cls: np.ndarray, values: np.ndarray) -> tuple[int, float]:
    means = np.array([values[cls == r].mean() if np.any(cls == r) else 0.0 for r in range(5)])
    r = int(np.argmax(means))
    others = values[cls != r]
    mine = values[cls == r]
    if others.size < 2 or mine.size < 2:
        return r, 0.0
    diff = mine.mean() - others.mean()
    se = math.sqrt(mine.var() / mine.size + others.var() / others.size) + 1e-12
    rel = diff / (others.mean() + 1e-12)
    return r, float(min(diff / se, 100.0) if rel > 0.1 else 0.0)


def _analyse_axis(spec, nfft, profile, tmin, tmax) -> _Axis | None:
    length = profile.size
    per = _dominant_period(spec, nfft, length, tmin, tmax)
    if per is None:
        return None
    line_period = per.t0 / 5.0 if per.sub_comb else per.t0
    fit1 = _fit_lines(profile, line_period)
    one_mm = per.sub_comb
    if fit1 is not None and not one_mm and line_period >= 2.0:
        _, signif = _major_class(fit1)
        one_mm = signif > _FIFTH_SIGNIF  # every 5th line clearly stronger: these are 1 mm lines
    fit5 = (
        _fit_lines(profile, 5.0 * line_period if fit1 is None else 5.0 * fit1.period)
        if one_mm
        else None
    )
    if fit1 is None and fit5 is None:
        return None
    # combine the 1 mm and 5 mm line fits (inverse-variance weights on the 1 mm period)
    ests = []
    if fit1 is not None:
        ests.append((fit1.period, fit1.se, fit1))
    if fit5 is not None:
        ests.append((fit5.period / 5.0, fit5.se / 5.0, fit5))
    if (
        len(ests) == 2
        and abs(ests[0][0] - ests[1][0])
        > 4.0 * math.hypot(ests[0][1], ests[1][1]) + 1e-3 * ests[1][0]
    ):
        # the two fits disagree: one of them slipped; keep the more precise one
        ests = [min(ests, key=lambda e: e[1])]
    w = np.array([1.0 / max(e[1], 1e-9) ** 2 for e in ests])
    period = float(np.sum(w * np.array([e[0] for e in ests])) / np.sum(w))
    regularity = max(e[2].regularity for e in ests)
    n_lines = max(e[2].idx.size for e in ests)
    kept5 = any(e[2] is fit5 for e in ests)
    if one_mm:
        if fit5 is not None and kept5:
            major_phase = fit5.phase % (5.0 * period)
        else:
            r, _ = _major_class(fit1)
            major_phase = (fit1.phase + r * fit1.period) % (5.0 * period)
        phase = major_phase % period if fit1 is None else fit1.phase % period
    else:
        major_phase = float("nan")
        phase = fit1.phase % period
    ref = fit1 if fit1 is not None else fit5
    expected = max(1.0, length / ref.period)
    best = max((e[2] for e in ests), key=lambda f: f.regularity * f.idx.size)
    return _Axis(
        period=period,
        phase=phase,
        major_phase=major_phase,
        one_mm=one_mm,
        rho=per.rho,
        regularity=regularity,
        n_lines=int(n_lines),
        coverage=float(min(1.0, ref.idx.size / expected)),
        length=length,
        main_contrast=per.main_contrast,
        combs=tuple((e[2].period, e[2].phase, e[2].extent) for e in ests),
        extent=best.extent,
    )


# --------------------------------------------------------------------------------------
# Public entry


def detect_grid(
    image: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    min_px_per_mm: float = GRID_PX_PER_MM[0],
    max_px_per_mm: float = GRID_PX_PER_MM[1],
    line_size: int | None = None,
    max_residual_angle_deg: float = 1.5,
) -> GridResult:
    """Find the ECG paper grid: px/mm per axis, rotation and phase of the 5 mm lines.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB (or gray) image of an ECG printout.
    mask : (M, N) ndarray of bool, optional
        Precomputed grid mask (e.g. from colour separation); replaces the built-in
        line response (:func:`grid_response`).
    min_px_per_mm, max_px_per_mm : float
        Range of scales searched (default 2.5-25 px/mm, about 64-635 dpi).
    line_size : int, optional
        Closing element size for :func:`grid_response`.
    max_residual_angle_deg : float
        Half-width of the fine angle search around the coarse orientation.

    Returns
    -------
    GridResult
        Frozen, small. ``found`` is False (and ``confidence`` low) when no
        regular grid was seen; the numbers are then a best guess or NaN.

    Raises
    ------
    InvalidImageError
        If ``image`` or ``mask`` is not a valid image / mask, or shapes differ.
    ValueError
        If the scale range is empty or not positive.

    Notes
    -----
    1. A line response (or ``mask``) is computed. Its dominant orientation
       modulo 90 deg is the mode of the angular histogram of the summed 2-D
       power spectra of five 512 px crops (good to a few tenths of a degree).
    2. If that angle exceeds 0.5 deg the response is rotated back. Profiles of
       narrow strips (~48) are aligned with sub-pixel Fourier shifts, and the
       residual angle of the horizontal and of the vertical lines is the one that
       makes the summed profile sharpest (to ~0.01 deg; a shear is measured too).
    3. The dominant period of each profile comes from the autocorrelation of the
       line part of its spectrum (broadband part removed), scored by the
       contrast of its whole comb of multiples; a weaker comb at 1/5 of it, or
       every 5th line being stronger (darker, or thicker), means 1 mm lines
       with 5 mm lines; a period whose ACF peak is under half the one at twice
       the lag is taken as half the true period (dotted lines cross the other
       axis's profile). When only one comb is visible and both readings fit the
       scale range, the other axis, then the page size (a picture covers at most
       twice a page per side), then the width of the darkest strokes (about
       0.33 mm) decide whether its lines are 1 or 5 mm apart; when none does,
       the reading nearer a whole US-letter page is taken with a lower
       confidence (``scale_basis`` says which decided).
    4. Every line is located (centroid of its peak) and one straight line
       position = phase + n * period is fitted through all of them, growing
       from the centre outwards, with outlier rejection; the 1 mm and 5 mm
       combs are fitted separately and combined by their standard errors. The
       long baseline gives the period to ~0.01 %.
    5. The confidence also checks that the fitted lines are continuous along
       their length (a lattice of dots, e.g. a halftone screen, is no grid),
       unless every fifth row of dots is stronger on both axes: a dotted grid.

    Timing: about 40-70 ms for a 2200 x 1700 image (two cores).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((400, 500, 3), 255, np.uint8)
    >>> img[:, ::8] = (255, 190, 190)
    >>> img[::8, :] = (255, 190, 190)
    >>> img[:, ::40] = (230, 60, 60)
    >>> img[::40, :] = (230, 60, 60)
    >>> g = detect_grid(img)
    >>> g.found, round(g.px_per_mm_x, 2), round(g.px_per_mm_y, 2), g.major_found
    (True, 8.0, 8.0, True)
    """
    image = check_image(image, "image")
    min_px_per_mm = check_positive(min_px_per_mm, "min_px_per_mm")
    max_px_per_mm = check_positive(max_px_per_mm, "max_px_per_mm")
    if not min_px_per_mm < max_px_per_mm:
        raise ValueError(
            f"need min_px_per_mm < max_px_per_mm, got {min_px_per_mm}, {max_px_per_mm}"
        )
    max_residual_angle_deg = check_positive(max_residual_angle_deg, "max_residual_angle_deg")
    shape = (int(image.shape[0]), int(image.shape[1]))
    if mask is not None:
        mask = check_mask(mask, "mask")
        if mask.shape != shape:
            raise InvalidImageError(f"mask shape {mask.shape} differs from image shape {shape}")
        resp = mask.astype(np.uint8) * np.uint8(255)
    else:
        resp = grid_response(image, line_size=line_size)
    return _detect_from_response(
        resp,
        min_px_per_mm,
        max_px_per_mm,
        max_residual_angle_deg,
        stroke=functools.partial(stroke_width, image),
    )


def _not_found(shape, angle=0.0) -> GridResult:
    nan = float("nan")
    return GridResult(nan, nan, float(angle), nan, nan, False, 0.0, False, image_shape=shape)


def _rotated(resp: np.ndarray, angle_deg: float) -> np.ndarray:
    """``resp`` rotated by ``-angle_deg`` about its centre (undoing a CCW rotation)."""
    return rotate(resp, -angle_deg, border_value=0)[0]


def _strip_profiles(work: np.ndarray):
    m, n = work.shape
    kx = int(np.clip(n // 48, 2, 48))
    ky = int(np.clip(m // 48, 2, 48))
    hblocks, hcent = _block_profiles(work, 0, kx)  # row profiles of vertical strips
    vblocks, vcent = _block_profiles(work, 1, ky)  # column profiles of horizontal strips
    nfft_y = _fast_len(2 * m)
    nfft_x = _fast_len(2 * n)
    hprof = _AxisProfiles(hblocks, hcent, (n - 1) / 2.0, nfft_y)
    vprof = _AxisProfiles(vblocks, vcent, (m - 1) / 2.0, nfft_x)
    return hprof, vprof, nfft_y, nfft_x


def _detect_from_response(resp, min_ppmm, max_ppmm, max_res_deg, stroke=None) -> GridResult:
    m, n = resp.shape
    shape = (m, n)
    if min(m, n) < 16 or not resp.any():
        return _not_found(shape)

    def lines_at(theta: float):
        work = resp if theta == 0.0 else _rotated(resp, theta)
        hprof, vprof, nfft_y, nfft_x = _strip_profiles(work)
        # horizontal lines: y shift per px of x; a CCW rotation by d gives dy/dx = -tan d
        slope_h = hprof.best_slope(max_res_deg)
        # vertical lines: x shift per px of y; a CCW rotation by d gives dx/dy = +tan d
        slope_v = vprof.best_slope(max_res_deg)
        dh = math.degrees(math.atan(-slope_h))
        dv = math.degrees(math.atan(slope_v))
        return work, hprof, vprof, nfft_y, nfft_x, slope_h, slope_v, dh, dv

    # Most pages lie within a fraction of a degree of upright, and a coarse angle
    # within 0.5 deg is not used (it only seeds larger rotations): look at the
    # page upright first, and find the coarse angle only when its lines lean by
    # more than 0.25 deg (the coarse angle is good to about 0.2 deg).
    upright = lines_at(0.0)
    theta0 = 0.0
    coarse = None
    if max(abs(upright[7]), abs(upright[8])) > 0.25:
        theta0 = coarse = _coarse_angle(resp)
        if abs(theta0) <= 0.5:
            theta0 = 0.0
    result = _grid_at(lines_at, theta0, upright, shape, min_ppmm, max_ppmm, stroke)
    if result.confidence < TURNED_CONFIDENCE and coarse is None:
        # A page turned by more than the strip search's reach shows no leaning
        # lines upright, only blur: look again along the spectrum's orientation.
        coarse = _coarse_angle(resp)
        if abs(coarse) > TURNED_MIN_DEG:
            turned = _grid_at(lines_at, coarse, None, shape, min_ppmm, max_ppmm, stroke)
            if turned.confidence > result.confidence:
                result = turned
    return result


#: An upright reading of the grid below this confidence is checked against the
#: orientation of the response's spectrum (a page turned by 15-45 degrees).
TURNED_CONFIDENCE = 0.5
#: ... when that orientation is this far from upright (deg): beyond the strip
#: search's own reach (1.5 deg), so the upright look could not have seen it.
TURNED_MIN_DEG = 1.5


def _grid_at(lines_at, theta0, found, shape, min_ppmm, max_ppmm, stroke) -> GridResult:
    """The grid read in the frame turned by ``theta0`` (``found``: its lines, if known)."""
    m, n = shape
    if found is None or theta0 != 0.0:
        found = lines_at(theta0)
    if abs(found[7] + found[8]) > 0.6:
        # the coarse angle was off: lines blur within a strip, so rotate again
        theta0 = theta0 + 0.5 * (found[7] + found[8])
        found = lines_at(theta0)
    work, hprof, vprof, nfft_y, nfft_x, slope_h, slope_v, dh, dv = found
    spec_y = hprof.profile_spectrum(slope_h)
    spec_x = vprof.profile_spectrum(slope_v)
    prof_y = np.fft.irfft(spec_y, n=nfft_y)[:m]
    prof_x = np.fft.irfft(spec_x, n=nfft_x)[:n]
    angle = theta0 + 0.5 * (dh + dv)
    if angle <= -45.0:
        angle += 90.0
    elif angle > 45.0:
        angle -= 90.0
    tmin = max(2.0, 0.9 * min_ppmm)
    tmax = 1.1 * 5.0 * max_ppmm
    ax = _analyse_axis(spec_x, nfft_x, prof_x, tmin, tmax)
    ay = _analyse_axis(spec_y, nfft_y, prof_y, tmin, tmax)
    if ax is None or ay is None:
        return _not_found(shape, angle)
    ax, ay = _with_continuity(work, ax, ay, slope_h, slope_v)
    # Periods were measured across the strips, the lines are tilted by dh / dv;
    # positions were measured where the lines cross the centre lines of the frame
    # rotated by theta0, the final frame is rotated by a further mean(dh, dv).
    rest = math.cos(math.radians(0.5 * (dh + dv)))
    ax = _to_final_frame(ax, math.cos(math.radians(dv)), rest, (n - 1) / 2.0)
    ay = _to_final_frame(ay, math.cos(math.radians(dh)), rest, (m - 1) / 2.0)
    return _combine(ax, ay, shape, angle, dv - dh, min_ppmm, max_ppmm, stroke)


def _to_final_frame(a: _Axis, cos_tilt: float, cos_rest: float, centre: float) -> _Axis:
    period = a.period * cos_tilt

    def move(pos: float, modulus: float) -> float:
        if not np.isfinite(pos):
            return pos
        return (centre + (pos - centre) * cos_rest) % modulus

    return replace(
        a, period=period, phase=move(a.phase, period), major_phase=move(a.major_phase, 5.0 * period)
    )


def _candidates(a: _Axis, lo: float, hi: float) -> list[tuple[float, bool]]:
    """(px_per_mm, lines_are_5mm) readings of one axis within the scale range."""
    if a.one_mm:
        return [(a.period, False)] if lo <= a.period <= hi else []
    return [(pp, is5) for pp, is5 in ((a.period, False), (a.period / 5.0, True)) if lo <= pp <= hi]


def _ramp(x: float, lo: float, hi: float) -> float:
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


#: Lines an axis needs for full confidence: this many ...
AXIS_FULL_LINES = 20
#: ... or, on an axis too short to hold them (a strip of thermal roll 80 mm tall
#: holds 16 lines 5 mm apart), this share of the lines it holds.
AXIS_FULL_SHARE = 0.8


def _axis_confidence(a: _Axis) -> float:
    full = max(7.0, min(AXIS_FULL_LINES, AXIS_FULL_SHARE * a.length / a.period))
    return (
        _ramp(a.main_contrast, 0.0, 0.1)
        * _ramp(a.rho, 0.2, 0.6)
        * _ramp(a.n_lines, 6, full)
        * _ramp(a.coverage, 0.3, 0.6)
        * _ramp(a.continuity, 0.35, 0.7)
        * a.regularity
    )


def _line_samples(
    work: np.ndarray,
    pos: np.ndarray,
    slope: float,
    across: np.ndarray,
    horizontal: bool,
    reach: int,
):
    """Response along lines at ``pos`` (at the centre) tilted by ``slope``: (lines, samples).

    Bilinear across the line, maximised over +-``reach`` px (a snapped line may sit
    half a pixel off its fitted position).
    """
    m, n = work.shape
    centre = (n - 1) / 2.0 if horizontal else (m - 1) / 2.0
    along = pos[:, None] + slope * (across[None, :] - centre)
    lim = (m if horizontal else n) - 1
    base = np.floor(along)
    frac = (along - base).astype(np.float32)
    base = base.astype(int)
    # rows base - reach .. base + reach + 1, gathered at once: (2 * reach + 2, lines, samples)
    offsets = np.arange(-reach, reach + 2)[:, None, None]
    rows = np.clip(base[None] + offsets, 0, lim)
    vals = work[rows, across[None, None, :]] if horizontal else work[across[None, None, :], rows]
    v = vals[:-1] * (1.0 - frac) + vals[1:] * frac  # interpolated at each shift d
    return v.max(axis=0)


def _continuity(work: np.ndarray, comb, slope: float, other: _Axis, horizontal: bool) -> float:
    """Do the lines run on between crossings (a grid) or are they rows of dots?

    Median of the response along the fitted lines minus along the mid-lines,
    over the same difference of means: ~1 for lines, ~0 for dots or blobs.
    """
    period, phase, (lo, hi) = comb
    k = np.arange(int(math.ceil((lo - phase) / period)), int((hi - phase) / period) + 1)
    if k.size < 2:
        return 0.0
    k = k[np.linspace(0, k.size - 1, min(k.size, 32)).round().astype(int)]
    pos = phase + k * period
    x0, x1 = other.extent
    size = work.shape[1] if horizontal else work.shape[0]
    x0, x1 = int(max(0, x0)), int(min(size - 1, x1))
    if x1 - x0 < 8:
        return 0.0
    across = np.linspace(x0, x1, min(x1 - x0 + 1, 400)).round().astype(int)
    reach = 1 if period >= 8 else 0
    on = _line_samples(work, pos, slope, across, horizontal, reach)
    off = _line_samples(work, pos + 0.5 * period, slope, across, horizontal, reach)
    den = float(on.mean() - off.mean())
    if den <= 0:
        return 0.0
    num = float(np.median(np.median(on, axis=1) - np.median(off, axis=1)))
    return float(np.clip(num / den, 0.0, 1.0))


def _with_continuity(
    work, ax: _Axis, ay: _Axis, slope_h: float, slope_v: float
) -> tuple[_Axis, _Axis]:
    # (samples are gathered from the uint8 response and interpolated in float32)
    cy = max(_continuity(work, c, slope_h, ax, horizontal=True) for c in ay.combs)
    cx = max(_continuity(work, c, slope_v, ay, horizontal=False) for c in ax.combs)
    if ax.one_mm and ay.one_mm:
        # every fifth row of dots stronger on both axes: a dotted ECG grid, not a halftone
        dx, dy = cx < _DOTTED_CONTINUITY, cy < _DOTTED_CONTINUITY
        cx, cy = max(cx, _DOTTED_CONTINUITY), max(cy, _DOTTED_CONTINUITY)
        return replace(ax, continuity=cx, dotted=dx), replace(ay, continuity=cy, dotted=dy)
    return replace(ax, continuity=cx), replace(ay, continuity=cy)


def _page_over(shape, px: float, py: float) -> float:
    """How many times the page (per side, the larger) the picture covers at this scale."""
    m, n = shape
    return max(n / px / _PAGE_WIDTH_MM, m / py / _PAGE_HEIGHT_MM)


def _page_prior(shape, px: float, py: float) -> float:
    m, n = shape
    return abs(math.log(n / px / _PAGE_WIDTH_MM)) + abs(math.log(m / py / _PAGE_HEIGHT_MM))


def _choose_reading(readings, shape, stroke) -> tuple[tuple, str]:
    """Pick among (cost, px, x5, py, y5) readings; say what decided."""
    best = min(readings, key=lambda r: r[0])
    # readings as good as the best but for whether the lines are 1 or 5 mm apart
    rivals = [r for r in readings if r[0] < best[0] + 1.0 and r[2] != best[2]]
    if not rivals:
        return best, "range"
    pair = [best, min(rivals, key=lambda r: r[0])]
    fits = [r for r in pair if _page_over(shape, r[1], r[3]) <= _MAX_PAGE_RATIO]
    if len(fits) == 1:
        return fits[0], "page"
    width = stroke() if stroke is not None else float("nan")
    if np.isfinite(width):
        one, five = sorted(pair, key=lambda r: r[2])  # lines 1 mm apart first
        w1 = width / math.sqrt(one[1] * one[3])  # stroke width (mm) if lines are 1 mm apart
        # the readings differ 5x: the stroke decides when it is nearer one of them
        lean = math.log(w1 * math.sqrt(5.0) / _STROKE_MM)
        if abs(lean) > math.log(_STROKE_MARGIN):
            return (one if lean > 0 else five), "stroke"
    return min(pair, key=lambda r: r[0] + 0.25 * _page_prior(shape, r[1], r[3])), "ambiguous"


def _combine(ax: _Axis, ay: _Axis, shape, angle, skew, lo, hi, stroke=None) -> GridResult:
    cx = _candidates(ax, lo, hi)
    cy = _candidates(ay, lo, hi)
    if not cx or not cy:
        return _not_found(shape, angle)
    readings = [
        (4.0 * abs(math.log(px / py)) + (1.0 if x5 != y5 else 0.0), px, x5, py, y5)
        for px, x5 in cx
        for py, y5 in cy
    ]
    (_, px, x5, py, y5), evidence = _choose_reading(readings, shape, stroke)
    if ax.one_mm or ay.one_mm:
        evidence = "both" if evidence == "range" else evidence

    def phase_of(a: _Axis, is5: bool) -> tuple[float, bool]:
        if is5:
            return a.phase, True
        if np.isfinite(a.major_phase):
            return a.major_phase, True
        return a.phase, False

    phx, majx = phase_of(ax, x5)
    phy, majy = phase_of(ay, y5)
    major = majx and majy
    if not major:
        # report 1 mm lines on both axes (a 5 mm line is also a 1 mm line)
        phx, phy = phx % px, phy % py
    minor = not x5 and not y5
    conf = math.sqrt(_axis_confidence(ax) * _axis_confidence(ay))
    ratio = px / py
    if not 0.7 <= ratio <= 1.43:
        conf *= 0.5
    if evidence == "ambiguous":
        conf *= _AMBIGUOUS_CONF
    found = conf >= _FOUND_MIN
    return GridResult(
        px_per_mm_x=float(px),
        px_per_mm_y=float(py),
        angle_deg=float(angle),
        phase_x=float(phx),
        phase_y=float(phy),
        major_found=bool(major),
        confidence=float(conf),
        found=bool(found),
        skew_deg=float(skew),
        minor_found=bool(minor),
        n_lines_x=int(ax.n_lines),
        n_lines_y=int(ay.n_lines),
        image_shape=shape,
        scale_evidence=SCALE_EVIDENCE.index(evidence),
        dotted=bool(ax.dotted or ay.dotted),
    )


@dataclass(frozen=True)
class DeskewResult:
    """Rotation undone before the colour, grid and trace stations.

    Attributes
    ----------
    angle_deg : float
        The grid's rotation as found (counter-clockwise on screen).
    homography : tuple of tuple of float
        (3, 3) map of the input image's pixel coordinates to the output's.
    shape : tuple of int
        ``(height, width)`` of the output.
    px_per_mm : float
        The grid's mean scale as first seen (NaN when no grid was found).
    """

    angle_deg: float
    homography: tuple = field(repr=False)
    shape: tuple[int, int]
    px_per_mm: float = float("nan")


#: Rotations smaller than this (degrees) are left alone: resampling would only blur.
MIN_DESKEW_DEG = 0.05
#: Pages coarser than this (px/mm; about 127 dpi, where a 0.3 mm pen is 1.5 px wide)
#: are turned bicubic: bilinear spreads a pixel-wide stroke over two at half its
#: darkness. 100 dpi renders turned 1.3 degrees read 17.5, 14.0, 9.1, 15.6 dB
#: bilinear and 19.6, 18.6, 18.1, 17.4 bicubic; at 130 dpi it was mixed (-1.3 to
#: +2.5 dB), and at 200 dpi a noisy JPEG of ecg-dev lost 4.8 dB to bicubic ringing.
CUBIC_BELOW_PX_PER_MM = 5.0


def deskews(grid: GridResult, *, enabled: bool = True) -> bool:
    """Whether :func:`deskew_page` turns a page whose grid is ``grid``: found, and
    leaning by more than :data:`MIN_DESKEW_DEG`."""
    return bool(enabled and grid.found and abs(float(grid.angle_deg)) > MIN_DESKEW_DEG)


#: A page finer than twice this (px/mm) is read at a whole fraction of its size,
#: no coarser than this: real pages scanned at 600 dpi (23.6 px/mm) failed or
#: read 1-5 dB under the same pages at 300 (a curl, a grid of 1 mm lines 24 px
#: apart and a trace 4 px wide outgrow the stations' kernels), and read alike
#: shrunk by two; a 300 dpi page shrunk by two lost up to 5 dB (thin pens).
WORK_PX_PER_MM = 10.0
#: The page's longer side is never shrunk under this (px): a grid misread 5x
#: (5 mm lines taken for 1 mm ones) cannot shrink a page past reading.
WORK_MIN_SIDE = 2000
#: Side of the quick look at the grid that decides the factor (px).
WORK_LOOK_SIDE = 1600


def work_factor(image: np.ndarray) -> int:
    """Whole factor by which to shrink a page finer than reading it needs.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        The page as loaded.

    Returns
    -------
    int
        ``floor(px_per_mm / WORK_PX_PER_MM)`` from a quick look at the grid
        (:func:`detect_grid` at :data:`WORK_LOOK_SIDE`), at most
        ``max(M, N) // WORK_MIN_SIDE``; 1 when the look shows no grid whose 5 mm
        lines it told, or the page is under ``2 * WORK_MIN_SIDE`` px long
        (nothing is looked at then).

    Examples
    --------
    >>> from ecgprep.synth import render_ecg
    >>> work_factor(render_ecg(seed=1, dpi=100).image)
    1
    """
    m, n = image.shape[:2]
    cap = max(m, n) // WORK_MIN_SIDE
    if cap < 2:
        return 1
    small, k = downscale(np.ascontiguousarray(image), WORK_LOOK_SIDE)
    g = detect_grid(small)
    # The 5 mm lines told (every fifth line darker, or the lines read as 5 mm
    # apart): a 200 dpi page looked at a third of its size shows its 5 mm lines
    # alone, which may read as 1 mm lines with no coarser comb over them (two
    # pages side by side, 4400 px wide, were read at 100 dpi).
    if not (g.found and g.major_found):
        return 1
    ppmm = k * math.sqrt(float(g.px_per_mm_x) * float(g.px_per_mm_y))
    if not np.isfinite(ppmm):
        return 1
    return int(max(1, min(cap, math.floor(ppmm / WORK_PX_PER_MM))))


def deskew_page(
    image: np.ndarray, *, grid: GridResult | None = None, enabled: bool = True
) -> tuple[np.ndarray, DeskewResult, GridResult]:
    """Undo the rotation of the grid's lines.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        The page.
    grid : GridResult, optional
        A grid already measured on ``image`` (else :func:`detect_grid` runs).
    enabled : bool
        False measures the grid but rotates nothing.

    Returns
    -------
    out : ndarray
        The page rotated about its centre (:func:`deskew`; bicubic below
        :data:`CUBIC_BELOW_PX_PER_MM`), or ``image`` itself when the grid was not
        found, leans by less than :data:`MIN_DESKEW_DEG` or ``enabled`` is False.
    DeskewResult
        The angle, the map and the grid's scale.
    grid : GridResult
        The grid measured on ``image`` (it still describes ``out`` when nothing
        was rotated).
    """
    g = detect_grid(image) if grid is None else grid
    angle = float(g.angle_deg) if g.found else 0.0
    hmat = np.eye(3)
    if deskews(g, enabled=enabled):
        coarse = min(float(g.px_per_mm_x), float(g.px_per_mm_y)) < CUBIC_BELOW_PX_PER_MM
        image, hmat = rotate(image, -angle, cubic=coarse)
    ppmm = 0.5 * (float(g.px_per_mm_x) + float(g.px_per_mm_y)) if g.found else float("nan")
    return image, DeskewResult(angle, as_tuple(hmat), image.shape[:2], ppmm), g


def deskew_station(page: Page, opts: Options) -> tuple[Page, DeskewResult]:
    """Deskew station: :func:`deskew_page`; the grid travels on when nothing was rotated."""
    image, res, g = deskew_page(page.image, grid=page.grid, enabled=opts.rectify)
    rotated = image is not page.image
    return (
        dataclasses.replace(
            page, image=image, grid=None if rotated else g, px_per_mm=res.px_per_mm
        ),
        res,
    )


def grid_station(page: Page, opts: Options) -> tuple[Page, GridResult]:
    """Grid station: the grid of the upright page (the one measured already, if it still holds).

    Raises
    ------
    GridNotFoundError
        No grid: without one there is no scale.
    """
    g = page.grid if page.grid is not None else detect_grid(page.image)
    if not g.found:
        raise GridNotFoundError(
            f"no ECG grid found: expected regular 1 mm / 5 mm grid lines, found none "
            f"(grid confidence {g.confidence:.2f}); cannot set the scale"
        )
    if g.scale_ambiguous:
        spacing = g.px_per_mm if g.minor_found else 5.0 * g.px_per_mm
        warnings.warn(
            f"grid scale ambiguous: one comb of lines {spacing:.1f} px apart, read as "
            f"{'1' if g.minor_found else '5'} mm lines ({g.px_per_mm:.2f} px/mm); "
            f"neither the other comb, the page size nor the stroke width told 1 mm from "
            f"5 mm, so the scale may be off by 5x (grid confidence {g.confidence:.2f})",
            stacklevel=2,
        )
    return dataclasses.replace(page, grid=g), g
