"""Loading images into ecgprep's one canonical form.

Canonical form everywhere in ecgprep: a C-contiguous ``uint8`` RGB array of shape
``(M, N, 3)``. Paths, ``bytes``, PIL images and arrays are accepted; grayscale,
RGBA (composited on white), 16-bit, palette and CMYK images are normalised, and
JPEG EXIF orientation is applied. Sources that are not images, are truncated, or
claim absurd dimensions are refused with :class:`~ecgprep.errors.ImageLoadError`
naming the source, before the pixels are decoded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io as _io
import os
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ImageLoadError

if TYPE_CHECKING:
    from .options import Options
    from .page import Page

__all__ = [
    "LoadResult",
    "load_station",
    "load_image",
    "describe_source",
    "image_id_of",
    "find_image",
    "IMAGE_SUFFIXES",
    "DEFAULT_MAX_PIXELS",
]

DEFAULT_MAX_PIXELS = 100_000_000


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG")


def find_image(images_dir: str | os.PathLike, image_id: str) -> Path | None:
    """The file of ``image_id`` in ``images_dir`` (``.png``, ``.jpg`` or ``.jpeg``), or None."""
    d = Path(images_dir)
    for suffix in IMAGE_SUFFIXES:
        p = d / f"{image_id}{suffix}"
        if p.is_file():
            return p
    return None


def describe_source(source: Any) -> str:
    """A short human name for an image source, used in error messages."""
    if isinstance(source, str | os.PathLike):
        return str(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return f"<{len(source)} bytes>"
    if isinstance(source, np.ndarray):
        return f"<array {source.shape} {source.dtype}>"
    return f"<{type(source).__name__}>"


def image_id_of(source: Any, index: int) -> str:
    """The image id of a source: the file stem for paths, ``image{index}`` otherwise."""
    if isinstance(source, str | os.PathLike):
        return Path(source).stem
    return f"image{index}"


def load_image(source: Any, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image into canonical form.

    Parameters
    ----------
    source : str or os.PathLike or bytes or PIL.Image.Image or ndarray
        A path to an image file, the encoded file bytes, a PIL image, or an array
        ``(M, N)``, ``(M, N, 3)`` (RGB) or ``(M, N, 4)`` (RGBA) of uint8, uint16,
        bool or float in [0, 1].
    max_pixels : int
        Refuse images whose header claims more pixels than this (decompression
        bombs), before decoding them.

    Returns
    -------
    image : (M, N, 3) ndarray of uint8
        RGB pixels, C-contiguous.

    Raises
    ------
    ImageLoadError
        Missing file, a directory, not an image, truncated data, too many pixels,
        or an empty image; the message names the source and the cause.

    Examples
    --------
    >>> import numpy as np
    >>> load_image(np.zeros((4, 5), np.uint8)).shape
    (4, 5, 3)
    """
    from PIL import Image

    name = describe_source(source)
    if isinstance(source, np.ndarray):
        return _from_array(source, name, max_pixels)
    if isinstance(source, Image.Image):
        _check_size(source.size, name, max_pixels)
        return _from_pil(source, name)
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if not data:
            raise ImageLoadError(f"{name}: empty data, expected an encoded image")
        return _decode(_io.BytesIO(data), name, max_pixels)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise ImageLoadError(f"{name}: no such file, expected an image file")
        if path.is_dir():
            raise ImageLoadError(f"{name}: is a directory, expected an image file")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise ImageLoadError(f"{name}: cannot read ({exc})") from None
        if size == 0:
            raise ImageLoadError(f"{name}: empty file, expected an image")
        try:
            with open(path, "rb") as fh:
                return _decode(fh, name, max_pixels)
        except OSError as exc:
            raise ImageLoadError(f"{name}: cannot read ({exc})") from None
    raise ImageLoadError(
        f"{name}: expected a path, bytes, a PIL image or a numpy array, got {type(source).__name__}"
    )


def _check_size(size: tuple[int, int], name: str, max_pixels: int) -> None:
    w, h = int(size[0]), int(size[1])
    if w <= 0 or h <= 0:
        raise ImageLoadError(f"{name}: image has no pixels ({w} x {h})")
    if w * h > max_pixels:
        raise ImageLoadError(
            f"{name}: image claims {w} x {h} = {w * h:,} pixels, "
            f"more than max_pixels={max_pixels:,} "
            "(possible decompression bomb); refused before decoding"
        )


def _decode(fh, name: str, max_pixels: int) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings(), _pil_limit_lifted():
        # Our own max_pixels check replaces PIL's bomb warning/error.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(fh)
        except UnidentifiedImageError:
            fh.seek(0)
            head = fh.read(12)
            raise ImageLoadError(
                f"{name}: not a recognised image file (expected PNG, JPEG, TIFF, BMP...; "
                f"it starts with {head!r})"
            ) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageLoadError(f"{name}: not a readable image ({exc})") from None
        _check_size(im.size, name, max_pixels)
        try:
            im.load()
            im = ImageOps.exif_transpose(im)
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageLoadError(f"{name}: image data is truncated or corrupt ({exc})") from None
        return _from_pil(im, name)


_pil_lock = threading.Lock()
_pil_users = 0
_pil_saved_limit: Any = None


@contextlib.contextmanager
def _pil_limit_lifted():
    """Lift PIL's own decompression-bomb limit while we decode (``max_pixels`` replaces it).

    PIL's limit is a module global: concurrent loads in threads count themselves
    in and out, and the last one out restores the caller's value.
    """
    from PIL import Image

    global _pil_users, _pil_saved_limit
    with _pil_lock:
        if _pil_users == 0:
            _pil_saved_limit = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
        _pil_users += 1
    try:
        yield
    finally:
        with _pil_lock:
            _pil_users -= 1
            if _pil_users == 0:
                Image.MAX_IMAGE_PIXELS = _pil_saved_limit


def _from_pil(im, name: str) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im)
        return _from_array(arr, name, None)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        return _from_array(np.asarray(im), name, None)
    if mode != "RGB":
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def _from_array(arr: np.ndarray, name: str, max_pixels: int | None) -> np.ndarray:
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise ImageLoadError(
            f"{name}: expected shape (M, N), (M, N, 3) or (M, N, 4), got {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageLoadError(f"{name}: image has no pixels (shape {arr.shape})")
    if max_pixels is not None and arr.shape[0] * arr.shape[1] > max_pixels:
        raise ImageLoadError(
            f"{name}: {arr.shape[1]} x {arr.shape[0]} pixels exceeds max_pixels={max_pixels:,}"
        )
    arr = _to_uint8(arr, name)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        rgb = arr[:, :, :3].astype(np.float32)
        arr = np.rint(rgb * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _to_uint8(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == bool:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.isfinite(arr)
        if not finite.all():
            raise ImageLoadError(
                f"{name}: float image holds {int(arr.size - finite.sum())} NaN or infinite "
                "value(s); expected finite values in [0, 1] or [0, 255]"
            )
        hi = 1.0 if arr.max(initial=0.0) <= 1.0 else 255.0
        return np.clip(np.rint(arr * (255.0 / hi)), 0, 255).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.integer):
        low = int(arr.min(initial=0))
        if low < 0:
            raise ImageLoadError(
                f"{name}: integer image has negative values (minimum {low}); expected values >= 0"
            )
        top = int(arr.max(initial=0))
        if top <= 255:
            return arr.astype(np.uint8)
        scale = 65535 if top <= 65535 else top
        return np.clip(np.rint(arr.astype(np.float64) * (255.0 / scale)), 0, 255).astype(np.uint8)
    raise ImageLoadError(
        f"{name}: unsupported dtype {arr.dtype}; "
        "expected uint8, uint16, another integer, bool or float"
    )


@dataclasses.dataclass(frozen=True)
class LoadResult:
    """The loaded image's size in pixels."""

    height: int
    width: int


def load_station(page: Page, opts: Options) -> tuple[Page, LoadResult]:
    """Load station: decode ``page.source`` (:func:`load_image`) into the working image."""
    img = load_image(page.source, max_pixels=opts.max_pixels)
    return dataclasses.replace(page, image=img), LoadResult(int(img.shape[0]), int(img.shape[1]))
