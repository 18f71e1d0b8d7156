"""Quality gates: is this picture good enough to digitize?

Three measurements, each cheap and independent of the image's size:

- :func:`measure_sharpness`: how much fine detail survives a light blur (0-1),
  measured at the strongest edges (grid lines, traces). Out-of-focus or blurred
  pictures have little to lose and score low.
- :func:`measure_contrast`: how dark the ink is against the paper around it
  (0-1), so washed-out or faded prints score low.
- :func:`effective_dpi`: resolution from the grid's pixels per millimetre; below
  about 150 dpi the printed curves cannot carry the signal.

:func:`assess_quality` combines them into a pass/fail verdict with reasons.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ._validate import check_image, check_number, check_positive, to_gray

if TYPE_CHECKING:
    from .options import Options
    from .page import Page

__all__ = [
    "quality_station",
    "QualityResult",
    "assess_quality",
    "effective_dpi",
    "measure_contrast",
    "measure_sharpness",
]

MM_PER_INCH = 25.4

# Defaults of the gates; they match ecgprep.options.Options.
DEFAULT_MIN_DPI = 150.0
DEFAULT_MIN_SHARPNESS = 0.35
DEFAULT_MIN_CONTRAST = 0.25

# Sharpness: sigma (px) of the probe blur, and the share of strongest-edge pixels measured.
_PROBE_SIGMA = 0.7
_EDGE_QUANTILE = 0.80
# Contrast: the share of darkest-ink pixels measured.
_INK_QUANTILE = 0.995


def effective_dpi(px_per_mm: float) -> float:
    """Resolution in dots per inch from a scale in pixels per millimetre.

    Parameters
    ----------
    px_per_mm : float
        Pixels per millimetre of paper (e.g. the grid period of 1 mm in pixels).

    Returns
    -------
    dpi : float
        ``px_per_mm * 25.4``.

    Raises
    ------
    ValueError
        If ``px_per_mm`` is not a finite positive number.

    Examples
    --------
    >>> round(effective_dpi(7.874), 1)
    200.0
    """
    return check_positive(px_per_mm, "px_per_mm") * MM_PER_INCH


def _to_reference(
    gray: np.ndarray, px_per_mm: float | None, reference_dpi: float | None
) -> np.ndarray:
    """Shrink ``gray`` to ``reference_dpi`` when it is known to be finer than that."""
    if px_per_mm is None or reference_dpi is None:
        return gray
    factor = (reference_dpi / MM_PER_INCH) / px_per_mm
    if factor >= 0.95:
        return gray
    h, w = gray.shape
    size = (max(2, int(round(w * factor))), max(2, int(round(h * factor))))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


_STRIP_ROWS = 32  # rows per strip of the sharpness sums


def _energy_rows(g: np.ndarray, r0: int, r1: int) -> np.ndarray:
    """Squared forward-difference gradient of rows ``[r0, r1)``, (r1 - r0, N - 1) float32."""
    here = g[r0:r1, :-1]
    dx = cv2.subtract(g[r0:r1, 1:], here)
    dy = cv2.subtract(g[r0 + 1 : r1 + 1, :-1], here)
    return cv2.add(cv2.multiply(dx, dx), cv2.multiply(dy, dy))


def measure_sharpness(
    image: np.ndarray,
    *,
    px_per_mm: float | None = None,
    reference_dpi: float | None = 200.0,
) -> float:
    """How much fine detail a light blur would remove (0 blurred, toward 1 sharp).

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB (or grey) image.
    px_per_mm : float, optional
        Known scale. When the image is finer than ``reference_dpi``, it is first
        shrunk to that resolution, so a sharp high-resolution (or enlarged)
        picture is not mistaken for a blurred one.
    reference_dpi : float or None
        Resolution at which sharpness is judged (None: always the image's own).

    Returns
    -------
    sharpness : float
        ``1 - E_blur / E`` where ``E`` is the squared-gradient energy of the grey
        image and ``E_blur`` that of the image blurred with a Gaussian of sigma
        0.7 px, both summed over the 20 % of pixels with the strongest blurred
        gradient. 0 for an image without edges.

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If ``px_per_mm`` or ``reference_dpi`` is not a positive number.

    Notes
    -----
    The measure works in pixels, so a crisp render scores the same at any
    resolution: an edge spread over ``s`` pixels loses a share of its gradient
    energy to the probe blur that falls as ``s`` grows. Thin lines (ECG grid and
    traces) are the most sensitive probes. Reference values (dev renders at
    200 dpi): crisp 0.72-0.75, resampled or JPEG photos 0.54-0.70, Gaussian blur
    sigma 1.2 px 0.30, sigma 2 px 0.21. Additive noise adds fine detail and
    raises the score.

    Examples
    --------
    >>> import numpy as np, cv2
    >>> img = np.full((200, 200), 255, np.uint8)
    >>> img[:, ::8] = 0
    >>> img[::8, :] = 0
    >>> blurred = cv2.GaussianBlur(img, (0, 0), 2.0)
    >>> measure_sharpness(img) > 0.5 > 0.3 > measure_sharpness(blurred)
    True
    """
    img = check_image(image, "image")
    if px_per_mm is not None:
        px_per_mm = check_positive(px_per_mm, "px_per_mm")
    if reference_dpi is not None:
        reference_dpi = check_positive(reference_dpi, "reference_dpi")
    gray = _to_reference(to_gray(img), px_per_mm, reference_dpi)
    if min(gray.shape) < 4:
        return 0.0
    g = gray.astype(np.float32)
    b = cv2.GaussianBlur(g, (0, 0), _PROBE_SIGMA)
    m, n = g.shape[0] - 1, g.shape[1] - 1  # pixels with a right and a lower neighbour
    # threshold from the blurred energy on a lattice of about 250 000 pixels
    step = max(1, int(math.sqrt(m * n / 250_000)))
    here = b[:m:step, :n:step]
    dx = b[:m:step, 1 : n + 1 : step] - here
    dy = b[1 : m + 1 : step, :n:step] - here
    sample = (dx * dx + dy * dy).ravel()
    k = int(_EDGE_QUANTILE * (sample.size - 1))
    thr = max(float(np.partition(sample, k)[k]), 1e-3)
    # energies summed where the blurred one is strong, in strips of rows that
    # stay in the cache (full-size float temporaries cost more than the sums)
    total = kept = 0.0
    for r0 in range(0, m, _STRIP_ROWS):
        r1 = min(m, r0 + _STRIP_ROWS)
        e0 = _energy_rows(g, r0, r1)
        e1 = _energy_rows(b, r0, r1)
        _, strong = cv2.threshold(e1, thr, 1.0, cv2.THRESH_BINARY)  # 1.0 where e1 > thr
        total += cv2.sumElems(cv2.multiply(e0, strong, dst=e0))[0]
        kept += cv2.sumElems(cv2.multiply(e1, strong, dst=e1))[0]
    if total <= 0.0:
        return 0.0
    return float(np.clip(1.0 - kept / total, 0.0, 1.0))


def measure_contrast(image: np.ndarray) -> float:
    """Contrast of the darkest ink against the paper around it (0 none, 1 black on white).

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB (or grey) image.

    Returns
    -------
    contrast : float
        The 99.5th percentile over pixels of the Weber contrast
        ``(paper - I) / paper``, where ``I`` is the grey level and ``paper`` the
        local paper level (a grey closing over about 1 % of the image side,
        which erases strokes). Shading and dark backgrounds do not count;
        washing out does: ``0.2 * image + 200`` scores at most 0.2.

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((200, 200), 250, np.uint8)
    >>> img[100:103, 20:180] = 10
    >>> washed = (img * 0.2 + 200).astype(np.uint8)
    >>> round(measure_contrast(img), 2), round(measure_contrast(washed), 2)
    (0.96, 0.19)
    """
    img = check_image(image, "image")
    gray = to_gray(img)
    k = max(9, int(round(0.01 * min(gray.shape))) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    paper = cv2.morphologyEx(cv2.GaussianBlur(gray, (0, 0), 1.0), cv2.MORPH_CLOSE, kernel)
    ink = cv2.subtract(paper, gray)
    weber = cv2.divide(ink, paper, dst=ink, scale=255.0)  # uint8, 0 where paper is 0
    return _quantile_u8(weber, _INK_QUANTILE) / 255.0


def _quantile_u8(values: np.ndarray, q: float) -> int:
    """The smallest ``v`` such that at least a fraction ``q`` of ``values`` (uint8) are <= v.

    A bisection on counts (eight comparisons, each a fast pass), cheaper than a
    full histogram when only one quantile is wanted.
    """
    n = values.size
    want = q * n
    if n < 64:  # (OpenCV would read an array of up to 4 values as a scalar)
        counts = np.cumsum(np.bincount(values.ravel(), minlength=256))
        return min(int(np.searchsorted(counts, want)), 255)
    above = np.empty_like(values)
    lo, hi = 0, 255  # the answer lies in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        at_most = n - cv2.countNonZero(cv2.compare(values, mid, cv2.CMP_GT, dst=above))
        if at_most >= want:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _distinct(value: float, limit: float, digits: int) -> tuple[str, str]:
    """Format ``value`` and ``limit`` with enough decimals to tell them apart."""
    for d in range(digits, digits + 4):
        a, b = f"{value:.{d}f}", f"{limit:.{d}f}"
        if a != b:
            return a, b
    return a, b


@dataclass(frozen=True)
class QualityResult:
    """Verdict of the quality gates.

    Attributes
    ----------
    passed : bool
        True when every judged gate passed.
    reasons : tuple of str
        One short reason per failed gate, e.g. ``"resolution: 100 dpi < 150 dpi"``.
    sharpness : float
        :func:`measure_sharpness` (at ``reference_dpi`` when the scale is known).
    contrast : float
        :func:`measure_contrast`.
    dpi : float or None
        Effective resolution; None when ``px_per_mm`` was not given (then the
        resolution gate is not judged).
    min_dpi, min_sharpness, min_contrast : float
        Thresholds used.
    """

    passed: bool
    reasons: tuple[str, ...]
    sharpness: float
    contrast: float
    dpi: float | None
    min_dpi: float
    min_sharpness: float
    min_contrast: float


def assess_quality(
    image: np.ndarray,
    *,
    px_per_mm: float | None = None,
    min_dpi: float = DEFAULT_MIN_DPI,
    min_sharpness: float = DEFAULT_MIN_SHARPNESS,
    min_contrast: float = DEFAULT_MIN_CONTRAST,
) -> QualityResult:
    """Judge resolution, sharpness and contrast of an ECG picture.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB (or grey) image, ideally cropped to the paper.
    px_per_mm : float, optional
        Scale of the paper in the image (from the grid). Enables the resolution
        gate and judges sharpness at 200 dpi when the image is finer.
    min_dpi : float
        Effective resolution below this fails (the signal needs about 150 dpi).
    min_sharpness : float
        Sharpness below this fails.
    min_contrast : float
        Contrast below this fails (0-1).

    Returns
    -------
    QualityResult

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If a threshold or ``px_per_mm`` is not a valid number.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((300, 300, 3), 250, np.uint8)
    >>> img[::8] = (230, 60, 60)
    >>> img[:, ::8] = (230, 60, 60)
    >>> img[150:152, 30:270] = 0
    >>> q = assess_quality(img, px_per_mm=3.9)
    >>> q.passed, q.reasons
    (False, ('resolution: 99 dpi < 150 dpi',))
    >>> assess_quality(img, px_per_mm=7.9).passed
    True
    """
    img = check_image(image, "image")
    min_dpi = check_positive(min_dpi, "min_dpi")
    min_sharpness = check_number(min_sharpness, "min_sharpness", lo=0)
    min_contrast = check_number(min_contrast, "min_contrast", lo=0, hi=1)
    dpi = None if px_per_mm is None else effective_dpi(px_per_mm)
    gray = to_gray(img)  # once for both measures
    sharpness = measure_sharpness(gray, px_per_mm=px_per_mm)
    contrast = measure_contrast(gray)
    reasons = []
    if dpi is not None and dpi < min_dpi:
        a, b = _distinct(dpi, min_dpi, 0)
        reasons.append(f"resolution: {a} dpi < {b} dpi")
    if sharpness < min_sharpness:
        a, b = _distinct(sharpness, min_sharpness, 2)
        reasons.append(f"sharpness: {a} < {b}")
    if contrast < min_contrast:
        a, b = _distinct(contrast, min_contrast, 2)
        reasons.append(f"contrast: {a} < {b}")
    return QualityResult(
        passed=not reasons,
        reasons=tuple(reasons),
        sharpness=sharpness,
        contrast=contrast,
        dpi=dpi,
        min_dpi=min_dpi,
        min_sharpness=min_sharpness,
        min_contrast=min_contrast,
    )


def quality_station(page: Page, opts: Options) -> tuple[Page, QualityResult]:
    """Quality station: the gates on the page's luma, which replaces the colour image.

    Quality and digitization read the luma only: it is computed once here.
    """
    gray = to_gray(page.image)
    g = page.grid
    result = assess_quality(
        gray,
        px_per_mm=0.5 * (g.px_per_mm_x + g.px_per_mm_y),
        min_dpi=opts.min_dpi,
        min_sharpness=opts.min_sharpness,
        min_contrast=opts.min_contrast,
    )
    return dataclasses.replace(page, image=gray), result
