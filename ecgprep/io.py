"""Loading images into ecgprep's one canonical form.

Canonical form everywhere in ecgprep: a C-contiguous ``uint8`` RGB array of shape
``(M, N, 3)``. Paths, ``bytes``, PIL images and arrays are accepted; grayscale,
RGBA (composited on white), 16-bit, palette and CMYK images are normalised, and
JPEG EXIF orientation is applied. Sources that are not images, are truncated, or
claim absurd dimensions are refused with :class:`~ecgprep.errors.ImageLoadError`
naming the source, before the pixels are decoded.

Only raster formats are decoded (:data:`RASTER_FORMATS`): the format is decided by
the first bytes of the content, whatever the file is called, and only the one
Pillow plugin for that format is run. EPS/PostScript, PDF, PSD and every other
format are refused, so no external program (Ghostscript) is ever started.
"""

from __future__ import annotations

import dataclasses
import functools
import io as _io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._geometry import as_tuple, shrink, shrink_matrix
from .errors import ImageLoadError

if TYPE_CHECKING:
    from .options import Options
    from .page import Page

__all__ = [
    "LoadResult",
    "load_station",
    "load_image",
    "check_ecg_proportions",
    "describe_source",
    "image_id_of",
    "find_image",
    "IMAGE_SUFFIXES",
    "RASTER_FORMATS",
    "DEFAULT_MAX_PIXELS",
]

DEFAULT_MAX_PIXELS = 100_000_000


#: File suffixes :func:`find_image` looks for, matched in any case (``.PNG``, ``.Tif``),
#: in this order of preference when one id has several files.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".jp2")


def find_image(images_dir: str | os.PathLike, image_id: str) -> Path | None:
    """The image file of ``image_id`` in ``images_dir``, or None.

    Parameters
    ----------
    images_dir : str or os.PathLike
        The folder holding ``<id><suffix>`` files.
    image_id : str
        The id; one that is not a plain file name (holding a path separator, or
        ``.`` / ``..``) is never looked up and gives None.

    Returns
    -------
    path : Path or None
        ``images_dir / "<id><suffix>"`` for a suffix of :data:`IMAGE_SUFFIXES` in
        any case (``1.png``, ``1.PNG``, ``1.Tif``), or None if there is none.

    Notes
    -----
    If several files match (``1.png`` and ``1.jpg``), the first suffix in
    :data:`IMAGE_SUFFIXES` wins; among names differing only in case (``1.PNG`` and
    ``1.png`` on a case-sensitive file system), the one that sorts first.
    The folder is listed once and the listing reused until the folder's
    modification time changes, so calling this once per id of a large folder
    costs one listing, not one per id. The file's content, not its suffix,
    decides how it is decoded (see :func:`load_image`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "42.TIF").write_bytes(b"II*")
    ...     print(find_image(tmp, "42").name, find_image(tmp, "43"))
    42.TIF None
    """
    image_id = str(image_id)
    if image_id in ("", ".", "..") or Path(image_id).name != image_id or os.sep in image_id:
        return None
    d = Path(images_dir)
    try:
        index = _folder_index(str(d), d.stat().st_mtime_ns)
    except OSError:
        return None
    for suffix in IMAGE_SUFFIXES:
        for name in index.get(f"{image_id}{suffix}".lower(), ()):
            p = d / name
            if _is_file(p):  # the listing may be older than the file system
                return p
    # Not in the listing: a file written within the folder's mtime granularity
    # since it was listed can still be found under the usual spellings.
    for suffix in IMAGE_SUFFIXES:
        for spelled in (suffix, suffix.upper()):
            p = d / f"{image_id}{spelled}"
            if _is_file(p):
                return p
    return None


def _is_file(p: Path) -> bool:
    try:
        return p.is_file()
    except (OSError, ValueError):  # e.g. a name too long for the file system
        return False


@functools.lru_cache(maxsize=16)
def _folder_index(folder: str, mtime_ns: int) -> dict[str, tuple[str, ...]]:
    """``{lower-case name: names}`` of the image files in ``folder`` (keyed by its mtime)."""
    index: dict[str, list[str]] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES:
                index.setdefault(entry.name.lower(), []).append(entry.name)
    return {k: tuple(sorted(v)) for k, v in index.items()}


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
        bombs), before decoding them. Checked per call: Pillow's process-wide
        ``PIL.Image.MAX_IMAGE_PIXELS`` is never changed (see Notes).

    Returns
    -------
    image : (M, N, 3) ndarray of uint8
        RGB pixels, C-contiguous.

    Raises
    ------
    ImageLoadError
        Missing file, a directory, not an image, not a raster format, truncated
        data, too many pixels, or an empty image; the message names the source and
        the cause.

    Notes
    -----
    Files and bytes are decoded only if their content is one of
    :data:`RASTER_FORMATS` (PNG, JPEG, TIFF, BMP, WebP, GIF (first frame), JPEG
    2000), whatever the file's name; a PIL image is refused if Pillow opened it as
    another format. EPS/PostScript, PDF, PSD and the rest are refused without
    running any Pillow plugin for them, so Ghostscript or any other external
    program is never started.

    The size in the header is checked against ``max_pixels`` before any pixel is
    decoded. Pillow's own bomb check is not applied to PNG, JPEG, BMP and JPEG
    2000 (``max_pixels`` replaces it), but Pillow's TIFF, GIF, WebP and
    multi-picture JPEG decoders repeat it against the global
    ``PIL.Image.MAX_IMAGE_PIXELS`` (about 89 million by default). ecgprep leaves
    that global alone, so such files above it are refused with a message saying
    so; a multi-picture JPEG, or a GIF whose first frame overflows its declared
    screen, above it may also raise Pillow's ``DecompressionBombWarning``.

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
        fmt = getattr(source, "format", None)  # None for images made in memory
        if fmt is not None and fmt not in RASTER_FORMATS and fmt != "MPO":
            # Decoding it (e.g. EPS) could start an external program: refuse.
            raise ImageLoadError(
                f"{name}: a PIL image opened as {fmt}, not a raster format; expected {_RASTER_TEXT}"
            )
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
    """Decode an open binary file of a raster format (sniffed first) into canonical form."""
    from PIL import Image, ImageOps

    fmt = _sniff(fh.read(_SNIFF_BYTES), name)
    fh.seek(0)
    try:
        im = _open_plugin(fmt, fh, name)
    except Image.DecompressionBombError as exc:  # Pillow's own check inside a plugin (GIF, WebP)
        raise ImageLoadError(
            f"{name}: image claims more pixels than Pillow's own limit "
            f"PIL.Image.MAX_IMAGE_PIXELS allows ({exc}); refused before decoding"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageLoadError(f"{name}: not a readable image ({exc})") from None
    _check_size(im.size, name, max_pixels)
    _check_pillow_limit(im, name)
    try:
        im.load()
        im = ImageOps.exif_transpose(im)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageLoadError(f"{name}: image data is truncated or corrupt ({exc})") from None
    return _from_pil(im, name)


#: The formats :func:`load_image` decodes, as Pillow names them (``PIL.Image.open(...,
#: formats=RASTER_FORMATS)`` restricts Pillow the same way). ``MPO`` (multi-picture JPEG, as
#: some cameras write) is read as JPEG. GIF gives its first frame, TIFF its first page.
RASTER_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF", "JPEG2000")
_RASTER_TEXT = "PNG, JPEG, TIFF, BMP, WebP, GIF (first frame) or JPEG 2000"
_SNIFF_BYTES = 16

# Leading bytes of each accepted format (what Pillow's own plugins accept, minus
# TIFF's byte-swapped "invalid header" variants).
_RASTER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"\xffO\xffQ", "JPEG2000"),  # bare codestream (.j2k)
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG2000"),  # JP2 file
)
# Formats we name when refusing them (anything else is "not a recognised image file").
_REFUSED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%!PS", "an EPS/PostScript file"),
    (b"\xc5\xd0\xd3\xc6", "an EPS/PostScript file"),  # DOS EPS binary header
    (b"%PDF", "a PDF file"),
    (b"8BPS", "a PSD (Photoshop) file"),
    (b"<?xml", "an XML/SVG file"),
    (b"<svg", "an XML/SVG file"),
    (b"\xd7\xcd\xc6\x9a", "a WMF metafile"),
    (b"\x00\x00\x01\x00", "an ICO icon file"),
    (b"icns", "an ICNS icon file"),
    (b"PK\x03\x04", "a ZIP archive"),
)


def _sniff(head: bytes, name: str) -> str:
    """The Pillow format name of ``head`` (a file's first bytes), or ImageLoadError."""
    for magic, fmt in _RASTER_MAGIC:
        if head.startswith(magic):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    found = next((what for magic, what in _REFUSED_MAGIC if head.startswith(magic)), None)
    if found is None and head[4:8] == b"ftyp":
        found = "an ISO media file (HEIF, AVIF or video)"
    if found is not None:
        raise ImageLoadError(
            f"{name}: not a readable image: found {found}, expected a raster image "
            f"({_RASTER_TEXT}); the format is decided by content, whatever the file name"
        )
    raise ImageLoadError(
        f"{name}: not a recognised image file (expected {_RASTER_TEXT}; "
        f"it starts with {head[:12]!r})"
    )


def _open_plugin(fmt: str, fh, name: str):
    """Open ``fh`` with the one Pillow plugin of ``fmt``, not through ``PIL.Image.open``.

    ``Image.open`` would apply Pillow's bomb check against the process-wide
    ``Image.MAX_IMAGE_PIXELS``, warning or raising for sizes ``max_pixels`` allows;
    lifting that global would unguard every other thread. The plugin class reads
    the header only (no pixels) and runs no other plugin, which is narrower still
    than ``Image.open(fh, formats=[fmt])``.
    """
    from PIL import features

    if fmt == "PNG":
        from PIL.PngImagePlugin import PngImageFile as factory
    elif fmt == "JPEG":
        from PIL.JpegImagePlugin import jpeg_factory as factory  # JPEG or MPO
    elif fmt == "TIFF":
        from PIL.TiffImagePlugin import TiffImageFile as factory
    elif fmt == "BMP":
        from PIL.BmpImagePlugin import BmpImageFile as factory
    elif fmt == "GIF":
        from PIL.GifImagePlugin import GifImageFile as factory
    elif fmt == "WEBP":
        if not features.check("webp"):
            raise ImageLoadError(f"{name}: a WebP file, but this Pillow was built without WebP")
        from PIL.WebPImagePlugin import WebPImageFile as factory
    elif fmt == "JPEG2000":
        if not features.check("jpg_2000"):
            raise ImageLoadError(
                f"{name}: a JPEG 2000 file, but this Pillow was built without OpenJPEG"
            )
        from PIL.Jpeg2KImagePlugin import Jpeg2KImageFile as factory
    else:  # pragma: no cover - _sniff returns only the names above
        raise AssertionError(fmt)
    return factory(fh)


# Plugins that repeat Pillow's bomb check while decoding (against the global limit).
_DECODER_CHECKED = frozenset({"TIFF", "GIF", "WEBP", "MPO"})


def _check_pillow_limit(im, name: str) -> None:
    """Refuse, before decoding, what Pillow's decoder would warn or raise about.

    TIFF, GIF, WebP and multi-picture JPEG decoders check the size against
    ``PIL.Image.MAX_IMAGE_PIXELS`` themselves; that global is the user's and is
    left alone, so above it these formats are refused here with a clear message
    (PNG, JPEG, BMP and JPEG 2000 follow ``max_pixels`` alone).
    """
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    w, h = im.size
    if im.format in _DECODER_CHECKED and limit is not None and w * h > limit:
        raise ImageLoadError(
            f"{name}: image claims {w} x {h} = {w * h:,} pixels, more than Pillow's own limit "
            f"PIL.Image.MAX_IMAGE_PIXELS = {limit:,} that its {im.format} decoder enforces "
            "(ecgprep leaves that global alone: raise it yourself, or convert the image to "
            "PNG); refused before decoding"
        )


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
    """The loaded image's size in pixels, and the whole factor it was shrunk by.

    A page finer than reading it needs (a 600 dpi scan) is read shrunk by
    ``factor`` (:func:`ecgprep.grid.work_factor`): the stations after this one
    see an image of ``shape``; ``homography`` maps the loaded image's pixels to
    its (working pixel ``i`` covers loaded pixels ``f*i .. f*i+f-1``). Scales
    measured later (the grid's px/mm, the quality gate's dpi, the summary's
    columns) are the working image's: a 600 dpi scan read at 300 dpi says 300.

    Raises
    ------
    ValueError
        If ``factor`` is not a whole number >= 1.
    """

    height: int
    width: int
    factor: int = 1

    def __post_init__(self) -> None:
        f = self.factor
        if isinstance(f, bool) or not isinstance(f, int | np.integer) or f < 1:
            raise ValueError(f"factor must be a whole number >= 1, got {f!r}")

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the image the next station sees."""
        f = int(self.factor)
        return (max(1, self.height // f), max(1, self.width // f))

    @property
    def homography(self) -> tuple:
        """3 x 3 map of the loaded image's pixel coordinates to the working image's."""
        return as_tuple(shrink_matrix(self.factor))


#: The pipeline's load station refuses images whose short side is under MIN_SIDE pixels
#: or under MIN_SHORT_TO_LONG of the long side: no ECG page fits (a 3x4 page is about
#: 1:1.3, a single 10 s rhythm strip about 1:5), and later stages fail obscurely on them.
MIN_SIDE = 64
MIN_SHORT_TO_LONG = 0.1


def check_ecg_proportions(image: np.ndarray, name: str) -> None:
    """Refuse an image too small or too elongated to hold an ECG.

    Parameters
    ----------
    image : (M, N, ...) ndarray
        The loaded image.
    name : str
        The image's name, for the message.

    Raises
    ------
    ImageLoadError
        If ``min(M, N) < MIN_SIDE`` (64) or ``min(M, N) < MIN_SHORT_TO_LONG * max(M, N)``
        (one tenth), naming the image and its size.

    Examples
    --------
    >>> check_ecg_proportions(np.zeros((850, 1100, 3), np.uint8), "page.png")
    >>> check_ecg_proportions(np.zeros((20, 600), np.uint8), "strip.png")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecgprep.errors.ImageLoadError: strip.png: image of 600 x 20 pixels is too narrow ...
    """
    h, w = int(image.shape[0]), int(image.shape[1])
    short, long = min(h, w), max(h, w)
    if short < MIN_SIDE or short < MIN_SHORT_TO_LONG * long:
        raise ImageLoadError(
            f"{name}: image of {w} x {h} pixels is too narrow to hold an ECG (expected its short "
            f"side at least {MIN_SIDE} px and at least 1/{round(1 / MIN_SHORT_TO_LONG)} of its "
            "long side)"
        )


def load_station(page: Page, opts: Options) -> tuple[Page, LoadResult]:
    """Load station: decode ``page.source`` (:func:`load_image`) into the working image.

    Images too small or elongated to hold an ECG are refused here
    (:func:`check_ecg_proportions`), before any stage sees them; a page finer
    than reading it needs is shrunk by a whole factor (:class:`LoadResult`).
    """
    img = load_image(page.source, max_pixels=opts.max_pixels)
    check_ecg_proportions(img, describe_source(page.source))
    from .grid import work_factor  # (grid needs the loaded image, not io)

    res = LoadResult(int(img.shape[0]), int(img.shape[1]), work_factor(img))
    if res.factor > 1:
        img = shrink(img, res.factor)
    return dataclasses.replace(page, image=img), res
