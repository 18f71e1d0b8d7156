import io
import os
import struct
import threading
import types
import zlib

import numpy as np
import pytest
from PIL import Image, features

from ecgprep import ImageLoadError, load_image
from ecgprep.io import RASTER_FORMATS, check_ecg_proportions, find_image


def _png_bytes(arr):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_array_forms_are_normalised():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = load_image(gray)
    assert out.shape == (3, 4, 3) and out.dtype == np.uint8
    assert np.array_equal(out[..., 0], gray)
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent -> white
    assert (load_image(rgba) == 255).all()
    f = np.full((2, 2), 1.0)
    assert (load_image(f) == 255).all()
    u16 = np.full((2, 2), 65535, np.uint16)
    assert (load_image(u16) == 255).all()
    assert load_image(np.ones((2, 2), bool)).max() == 255


def test_path_bytes_and_pil_agree(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)
    p = tmp_path / "a.png"
    Image.fromarray(arr).save(p)
    a = load_image(p)
    b = load_image(str(p))
    c = load_image(p.read_bytes())
    d = load_image(Image.open(p))
    for x in (a, b, c, d):
        assert np.array_equal(x, arr)
        assert x.flags.c_contiguous


def test_palette_and_16bit_png(tmp_path):
    arr = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    im = Image.fromarray(arr).convert("P")
    p = tmp_path / "p.png"
    im.save(p)
    out = load_image(p)
    assert out.shape == (8, 8, 3)
    u16 = np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000
    p16 = tmp_path / "g16.png"
    Image.fromarray(u16).save(p16)
    out16 = load_image(p16)
    assert out16.dtype == np.uint8 and out16.max() > 200


def test_exif_rotation_applied(tmp_path):
    arr = np.zeros((10, 20, 3), np.uint8)
    arr[:, :10] = 255
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 CW on display
    p = tmp_path / "r.jpg"
    im.save(p, exif=exif, quality=95)
    out = load_image(p)
    assert out.shape[:2] == (20, 10)


@pytest.mark.parametrize(
    "payload, cause",
    [
        (b"", "empty"),
        (b"hello world, not an image", "not a recognised image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 5, "<13 bytes>"),
    ],
)
def test_bad_bytes(payload, cause):
    with pytest.raises(ImageLoadError, match=cause):
        load_image(payload)


def test_bad_paths(tmp_path):
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageLoadError, match="directory"):
        load_image(tmp_path)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"empty\.png.*empty file"):
        load_image(empty)


def test_truncated_png_names_source(tmp_path):
    data = _png_bytes(np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8))
    p = tmp_path / "cut.png"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError, match="cut.png"):
        load_image(p)


def _bomb_png(w, h):
    def chunk(kind, body):
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 10))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_refused_before_decoding():
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        load_image(_bomb_png(100_000, 100_000))


def test_max_pixels_is_respected():
    with pytest.raises(ImageLoadError, match="max_pixels"):
        load_image(np.zeros((100, 100), np.uint8), max_pixels=50)


def test_wrong_type_and_shape():
    with pytest.raises(ImageLoadError, match="expected a path"):
        load_image(12345)
    with pytest.raises(ImageLoadError, match="shape"):
        load_image(np.zeros((2, 2, 2, 2), np.uint8))
    with pytest.raises(ImageLoadError, match="no pixels"):
        load_image(np.zeros((0, 5), np.uint8))
    with pytest.raises(ImageLoadError, match="NaN"):
        load_image(np.full((2, 2), np.nan))


# ------------------------------------------------------------- raster formats only

EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 20 20\n%%EndComments\n"
    b"0 0 moveto 20 20 lineto stroke\nshowpage\n%%EOF\n"
)
NOT_RASTER = {
    "eps": (EPS, "EPS/PostScript"),
    "dos_eps": (b"\xc5\xd0\xd3\xc6" + b"\0" * 40 + EPS, "EPS/PostScript"),
    "pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n", "PDF"),
    "psd": (b"8BPS\x00\x01" + b"\0" * 6 + struct.pack(">HIIHH", 3, 16, 16, 8, 3), "PSD"),
}


@pytest.fixture
def stand_in_gs(tmp_path, monkeypatch):
    """A ``gs`` first on the PATH that leaves a marker file when anything runs it."""
    from PIL import EpsImagePlugin

    bindir = tmp_path / "bin"
    bindir.mkdir()
    marker = tmp_path / "gs_was_run"
    gs = bindir / "gs"
    gs.write_text(f'#!/bin/sh\necho "$@" >> "{marker}"\n')
    gs.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    # Pillow >= 10.1 caches where gs is; make it look afresh (10.0 always looks).
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", None, raising=False)
    return marker


def test_stand_in_gs_would_catch_pillow_running_ghostscript(stand_in_gs):
    # The control: plain Pillow on the EPS bytes does run the stand-in.
    with pytest.raises(Exception):  # noqa: B017 - the stand-in writes no raster
        Image.open(io.BytesIO(EPS)).load()
    assert stand_in_gs.exists()


@pytest.mark.parametrize("kind", sorted(NOT_RASTER))
def test_no_external_program_runs_for_any_input(kind, stand_in_gs, tmp_path):
    data, found = NOT_RASTER[kind]
    path = tmp_path / f"{kind}.png"  # named like a PNG: the content decides
    path.write_bytes(data)
    for source in (path, str(path), data):
        with pytest.raises(ImageLoadError) as info:
            load_image(source)
        msg = str(info.value)
        name = f"<{len(data)} bytes>" if isinstance(source, bytes) else str(source)
        assert msg.startswith(f"{name}: ")
        assert found in msg and "expected a raster image" in msg
        for accepted in ("PNG", "JPEG", "TIFF", "BMP", "WebP", "GIF", "JPEG 2000"):
            assert accepted in msg
    assert not stand_in_gs.exists()


def test_pil_image_of_another_format_is_refused(stand_in_gs):
    im = Image.open(io.BytesIO(EPS))  # lazy: Ghostscript would run on load
    assert im.format == "EPS"
    with pytest.raises(ImageLoadError, match="opened as EPS.*expected PNG, JPEG"):
        load_image(im)
    assert not stand_in_gs.exists()


def _encode(arr, fmt, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt, **kw)
    return buf.getvalue()


ALL_RASTER = [
    ("PNG", {}, True),
    ("JPEG", {"quality": 95}, False),
    ("TIFF", {}, True),
    ("BMP", {}, True),
    ("WEBP", {"lossless": True}, True),
    ("GIF", {}, True),
    ("JPEG2000", {"irreversible": False}, True),
]


@pytest.mark.parametrize("fmt, kw, lossless", ALL_RASTER, ids=[f[0] for f in ALL_RASTER])
def test_every_raster_format_loads_whatever_its_name(fmt, kw, lossless, tmp_path):
    codec = {"WEBP": "webp", "JPEG2000": "jpg_2000"}.get(fmt)
    if codec and not features.check(codec):
        pytest.skip(f"this Pillow has no {codec} codec")
    arr = np.zeros((30, 40, 3), np.uint8)  # few colours: GIF's palette keeps them exact
    arr[5:20, 10:30] = (200, 30, 30)
    arr[:, 35:] = 255
    data = _encode(arr, fmt, **kw)
    assert fmt in RASTER_FORMATS
    p = tmp_path / "scan.dat"  # the name says nothing
    p.write_bytes(data)
    for out in (load_image(p), load_image(data)):
        assert out.shape == (30, 40, 3) and out.dtype == np.uint8
        if lossless:
            assert np.array_equal(out, arr)
        else:
            assert np.abs(out.astype(int) - arr).mean() < 3


def test_gif_gives_its_first_frame():
    frames = [Image.fromarray(np.full((20, 20), v, np.uint8)) for v in (0, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert (load_image(buf.getvalue()) == 0).all()


def test_unknown_content_names_what_it_starts_with():
    words = r"not a recognised image file \(expected PNG.*starts with b'GIF90a"
    with pytest.raises(ImageLoadError, match=words):
        load_image(b"GIF90a" + b"\0" * 30)


# ------------------------------------------------------- bomb guard per decode


class _RecordingModule(types.ModuleType):
    """A module class that records every attribute assigned on it."""

    assigned: list = []

    def __setattr__(self, key, value):
        type(self).assigned.append(key)
        super().__setattr__(key, value)


@pytest.fixture
def pil_limit_watched(monkeypatch):
    """Pillow's global limit set low (1000 pixels), and any assignment to PIL.Image recorded."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    monkeypatch.setattr(_RecordingModule, "assigned", [])
    monkeypatch.setattr(Image, "__class__", _RecordingModule)
    yield _RecordingModule.assigned


def test_pillow_global_limit_is_never_touched(pil_limit_watched):
    arr = np.random.default_rng(2).integers(0, 255, (100, 120, 3), dtype=np.uint8)
    # 12,000 pixels: Image.open would raise DecompressionBombError (> 2 x 1000); ecgprep
    # follows its own max_pixels instead, without lifting Pillow's limit for anyone.
    for fmt in ("PNG", "JPEG", "BMP"):
        out = load_image(_encode(arr, fmt))
        assert out.shape == (100, 120, 3)
    with pytest.raises(ImageLoadError, match="max_pixels=10,000"):
        load_image(_encode(arr, "PNG"), max_pixels=10_000)
    assert "MAX_IMAGE_PIXELS" not in pil_limit_watched
    assert Image.MAX_IMAGE_PIXELS == 1000
    # ... so any other caller of Pillow still has its guard.
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(_encode(arr, "PNG")))


def test_concurrent_pillow_decode_keeps_its_guard(pil_limit_watched):
    arr = np.zeros((100, 120, 3), np.uint8)
    png = _encode(arr, "PNG")
    seen, stop = set(), threading.Event()

    def watch():
        while not stop.is_set():
            seen.add(Image.MAX_IMAGE_PIXELS)
            try:
                Image.open(io.BytesIO(png))
                seen.add("opened without a guard")
            except Image.DecompressionBombError:
                pass

    t = threading.Thread(target=watch)
    t.start()
    try:
        for _ in range(30):
            load_image(png)
    finally:
        stop.set()
        t.join()
    assert seen == {1000}


@pytest.mark.parametrize("fmt", ["TIFF", "GIF"])
def test_formats_pillow_checks_while_decoding_are_refused_above_its_limit(fmt, pil_limit_watched):
    data = _encode(np.zeros((100, 120, 3), np.uint8), fmt)
    words = rf"image claims 120 x 100 = 12,000 pixels, more than Pillow's own limit .* {fmt}"
    with pytest.raises(ImageLoadError, match=words):
        load_image(data)
    assert "MAX_IMAGE_PIXELS" not in pil_limit_watched


# ------------------------------------------------------------------ find_image


@pytest.mark.parametrize(
    "name",
    ["7.png", "7.Png", "7.JPG", "7.jpeg", "7.TIF", "7.tiff", "7.bmp", "7.WebP", "7.gif", "7.jp2"],
)
def test_find_image_any_accepted_suffix_any_case(name, tmp_path):
    (tmp_path / name).write_bytes(b"x")
    (tmp_path / "77.png").write_bytes(b"x")  # a longer id is not a match
    (tmp_path / "7.txt").write_bytes(b"x")  # nor another suffix
    found = find_image(tmp_path, "7")
    assert found == tmp_path / name
    assert find_image(str(tmp_path), "8") is None


def test_find_image_picks_by_suffix_order_then_name(tmp_path):
    for name in ("1.jpg", "1.tif", "1.png"):
        (tmp_path / name).write_bytes(b"x")
    assert find_image(tmp_path, "1").name == "1.png"
    (tmp_path / "1.png").unlink()  # the cached listing is checked against the disk
    assert find_image(tmp_path, "1").name == "1.jpg"
    (tmp_path / "2.png").write_bytes(b"x")
    (tmp_path / "2.PNG").write_bytes(b"x")
    names = {p.name for p in tmp_path.iterdir()}
    if {"2.png", "2.PNG"} <= names:  # a case-sensitive file system holds both
        assert find_image(tmp_path, "2").name == "2.PNG"


def test_find_image_sees_files_added_later(tmp_path):
    assert find_image(tmp_path, "5") is None
    (tmp_path / "5.webp").write_bytes(b"x")
    assert find_image(tmp_path, "5") == tmp_path / "5.webp"


def test_find_image_lists_a_folder_once(tmp_path, monkeypatch):
    from ecgprep import io as ecg_io

    for i in range(50):
        (tmp_path / f"{i}.PNG").write_bytes(b"x")
    calls = []
    real = os.scandir
    monkeypatch.setattr(ecg_io.os, "scandir", lambda p: calls.append(p) or real(p))
    ecg_io._folder_index.cache_clear()
    assert all(find_image(tmp_path, str(i)).name == f"{i}.PNG" for i in range(50))
    assert len(calls) == 1


@pytest.mark.parametrize("image_id", ["", ".", "..", "../x", "sub/x", "x" * 5000])
def test_find_image_looks_up_plain_names_only(image_id, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.png").write_bytes(b"x")
    (tmp_path / "x.png").write_bytes(b"x")
    assert find_image(tmp_path / "sub", image_id) is None


# ------------------------------------------------- too narrow to hold an ECG


@pytest.mark.parametrize(
    "shape, ok",
    [
        ((64, 640), True),
        ((640, 64), True),
        ((850, 1100, 3), True),
        ((63, 630), False),  # short side under 64 px
        ((100, 1001), False),  # short side under 1/10 of the long side
        ((1001, 100), False),
        ((1, 1), False),
    ],
)
def test_ecg_proportions_rule(shape, ok):
    img = np.zeros(shape, np.uint8)
    if ok:
        check_ecg_proportions(img, "x.png")
    else:
        h, w = shape[:2]
        with pytest.raises(ImageLoadError) as info:
            check_ecg_proportions(img, "x.png")
        assert str(info.value) == (
            f"x.png: image of {w} x {h} pixels is too narrow to hold an ECG "
            "(expected its short side at least 64 px and at least 1/10 of its long side)"
        )


def test_20_by_60000_image_is_refused_at_load(tmp_path):
    from ecgprep import process_image_for_submission

    p = tmp_path / "strip.png"
    p.write_bytes(_png_bytes(np.full((20, 60000, 3), 255, np.uint8)))
    assert load_image(p).shape == (20, 60000, 3)  # a readable image, just not an ECG page
    for source, name in ((p, str(p)), (np.zeros((20, 60000), np.uint8), "<array")):
        res = process_image_for_submission(source)
        assert not res.ok and res.failed_stage == "load"
        assert res.error.startswith(name)
        assert "load failed: image of 60000 x 20 pixels is too narrow to hold an ECG" in res.error


def test_pillow_bomb_error_while_opening_is_an_image_load_error():
    # A 10 x 10 GIF screen whose first frame claims 60000 x 60000: Pillow's GIF plugin
    # checks the grown size itself while reading the header.
    gif = (
        b"GIF89a"
        + struct.pack("<HHBBB", 10, 10, 0, 0, 0)
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, 60000, 60000, 0)
        + b"\x02\x00\x3b"
    )
    with pytest.raises(ImageLoadError, match=r"^<26 bytes>: image claims more pixels than Pillow"):
        load_image(gif)
