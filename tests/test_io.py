import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from ecgprep import ImageLoadError, load_image


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
