"""Small shared checks used at the door of every stage."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .errors import InvalidImageError


def check_image(image: Any, name: str = "image", *, allow_gray: bool = True) -> np.ndarray:
    """Validate a canonical image array and return it.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB image (or grayscale when ``allow_gray``).
    name : str
        Name used in error messages.
    allow_gray : bool
        Accept 2-D arrays.

    Returns
    -------
    image : ndarray
        The same array (no copy).

    Raises
    ------
    InvalidImageError
        If ``image`` is not an ndarray of uint8 with shape (M, N, 3) (or (M, N)),
        or is smaller than 2 x 2 pixels.
    """
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(f"{name}: expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InvalidImageError(
            f"{name}: expected dtype uint8, got {image.dtype} (load images with ecgprep.load_image)"
        )
    ok_shape = (image.ndim == 3 and image.shape[2] == 3) or (allow_gray and image.ndim == 2)
    if not ok_shape:
        want = "(M, N, 3) or (M, N)" if allow_gray else "(M, N, 3)"
        raise InvalidImageError(f"{name}: expected shape {want}, got {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise InvalidImageError(f"{name}: expected at least 2 x 2 pixels, got {image.shape[:2]}")
    return image


def check_mask(mask: Any, name: str = "mask") -> np.ndarray:
    """Validate a 2-D boolean (or 0/1 uint8) mask and return it as bool."""
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        shape = getattr(mask, "shape", None)
        raise InvalidImageError(f"{name}: expected a 2-D array, got {type(mask).__name__} {shape}")
    if mask.shape[0] < 2 or mask.shape[1] < 2:
        raise InvalidImageError(f"{name}: expected at least 2 x 2 pixels, got {mask.shape}")
    if mask.dtype != bool:
        mask = mask > 0
    elif mask.view(np.uint8).max() > 1:
        # a bool view of 0/255 bytes: stages that read masks as bytes need 0/1
        mask = mask.view(np.uint8) != 0
    return mask


def to_gray(image: np.ndarray) -> np.ndarray:
    """Luma (ITU-R 601) of an RGB uint8 image as uint8; gray images pass through."""
    if image.ndim == 2:
        return image
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)


def pick(registry: Mapping[str, Callable[..., Any]], method: str, what: str = "method"):
    """Return ``registry[method]`` or raise ValueError listing the valid names."""
    try:
        return registry[method]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in registry)
        raise ValueError(f"unknown {what} {method!r}; valid: {valid}") from None


def line_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float]:
    """Weighted least-squares line ``y = slope * x + intercept``, in closed form.

    Unlike ``np.polyfit``/``lstsq`` (LAPACK, whose rounding depends on the BLAS
    thread count), plain sums give bit-identical results in every process, which
    keeps batches deterministic across ``n_jobs``.

    Returns
    -------
    slope, intercept : float
        ``(0, mean(y))`` when ``x`` has no spread.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=np.float64)
    sw = w.sum()
    if sw <= 0:
        return 0.0, 0.0
    mx = (w * x).sum() / sw
    my = (w * y).sum() / sw
    dx = x - mx
    sxx = (w * dx * dx).sum()
    if sxx <= 0:
        return 0.0, float(my)
    slope = float((w * dx * (y - my)).sum() / sxx)
    return slope, float(my - slope * mx)


def check_number(
    value: Any,
    name: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    positive: bool = False,
) -> float:
    """``value`` as a float when it is a finite real number within the bounds.

    Parameters
    ----------
    value : int or float
        The number (``bool`` is refused: ``True`` is not a scale).
    name : str
        Name used in the message.
    lo, hi : float, optional
        Inclusive bounds.
    positive : bool
        Require ``value > 0`` (a scale, speed, gain or rate).

    Raises
    ------
    ValueError
        Naming ``name``, what was expected and what was given.

    Examples
    --------
    >>> check_number(2, "gain", positive=True)
    2.0
    >>> check_number(float("inf"), "gain", positive=True)
    Traceback (most recent call last):
    ...
    ValueError: gain must be a finite number > 0, got inf
    """
    import math

    if positive:
        want = "a finite number > 0"
    elif lo is not None and hi is not None:
        want = f"a number in [{lo}, {hi}]"
    elif lo is not None:
        want = f"a finite number >= {lo}"
    else:
        want = "a finite number"
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be {want}, got {value!r}")
    v = float(value)
    bad = (
        not math.isfinite(v)
        or (positive and v <= 0)
        or (lo is not None and v < lo)
        or (hi is not None and v > hi)
    )
    if bad:
        raise ValueError(f"{name} must be {want}, got {value!r}")
    return v


def check_positive(value: Any, name: str) -> float:
    """``value`` as a float when it is a finite number > 0 (see :func:`check_number`)."""
    return check_number(value, name, positive=True)


#: Largest scale a stage accepts (px/mm; 5080 dpi): no scanner or camera gives
#: more (a 600 dpi scan is 23.6 px/mm), and past it the stages' kernels, sized in
#: mm, would not fit in memory (a scale of 1e9 asked for 37 GiB).
MAX_PX_PER_MM = 200.0


def check_scale(value: Any, name: str) -> float:
    """``value`` as a float when it is a scale in (0, :data:`MAX_PX_PER_MM`] px/mm.

    Examples
    --------
    >>> check_scale(7.87, "px_per_mm_x")
    7.87
    >>> check_scale(1e9, "px_per_mm_x")
    Traceback (most recent call last):
    ...
    ValueError: px_per_mm_x must be a finite number in (0, 200] px/mm, got 1000000000.0
    """
    v = check_positive(value, name)
    if v > MAX_PX_PER_MM:
        raise ValueError(
            f"{name} must be a finite number in (0, {MAX_PX_PER_MM:g}] px/mm, got {value!r}"
        )
    return v
