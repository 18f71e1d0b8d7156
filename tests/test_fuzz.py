"""Fuzzing: random arrays, bytes and parameters into every stage; only documented errors may escape.

Each property names the errors its stage documents, and a refusal passes only
when it is one of them *and* its message names the cause: an image or mask
check (``InvalidImageError`` naming the argument), an unreadable source
(``ImageLoadError`` naming the source), a parameter out of range (a plain
``ValueError`` naming the parameter) or a stage that found nothing (``LayoutError``
saying what it looked for). Anything else (an IndexError, a cv2.error, a
ZeroDivisionError, an unnamed ValueError...) is a bug at the door of the stage.
Runs are derandomized (the same examples every time) and sizes are bounded.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis.errors import InvalidArgument
from hypothesis import strategies as st
from PIL import Image

from ecgprep import load_image
from ecgprep.colors import separate_colors
from ecgprep.digitize import digitize
from ecgprep.edges import find_paper
from ecgprep.errors import (
    EcgprepError,
    ImageLoadError,
    InvalidImageError,
    LayoutError,
    StageError,
)
from ecgprep.grid import detect_grid
from ecgprep.standards import RECORD_SECONDS, layout_rows
from ecgprep.digitize.layout import CUT_PANEL_MIN_S, LAYOUTS, find_layout
from ecgprep.options import EDGE_METHODS
from ecgprep.quality import assess_quality
from ecgprep.synth import render_ecg

# CI: 80 derandomized examples per property. For a deeper local hunt:
# ECGPREP_FUZZ_EXAMPLES=2000 ECGPREP_FUZZ_RANDOM=1 pytest tests/test_fuzz.py
FUZZ = settings(
    max_examples=int(os.environ.get("ECGPREP_FUZZ_EXAMPLES", "80")),
    deadline=None,
    derandomize=not os.environ.get("ECGPREP_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def SIDES(max_side: int):  # noqa: N802 - a strategy factory
    """Image sides: degenerate ones (0-3 px) and ordinary ones (up to ``max_side``)."""
    return st.one_of(
        st.integers(0, 3), st.integers(4, max_side), st.integers(max_side // 2, max_side)
    )


DTYPES = (np.uint8, np.uint16, np.float32, np.float64, np.bool_, np.int64)
BAD_NUMBERS = [0.0, -1.0, math.nan, math.inf, -math.inf, 1e-9, 1e9, True, "8"]
SCALES = st.one_of(
    st.floats(min_value=0.5, max_value=30.0), st.sampled_from([2.0, 8.0, *BAD_NUMBERS])
)


# --------------------------------------------------------------- the documented errors


def image_error(*names: str):
    """``InvalidImageError`` naming the argument and what was expected of it."""
    return InvalidImageError, rf"^({'|'.join(names)}): expected "


def number_error(*names: str):
    """A plain ``ValueError`` naming the parameter, the bound and the value given."""
    return ValueError, rf"^({'|'.join(names)}) must be (a number|finite|a finite number)"


#: load_image names the source (``<array (2, 3) int64>``, ``<17 bytes>``) and the cause.
LOAD_ERROR = (
    ImageLoadError,
    r"^<[^<>]+>: (expected (shape|a path)|image has no pixels|not a recognised image file"
    r"|not a readable image|image data is truncated|float image holds .* NaN"
    r"|integer image has negative|unsupported dtype|empty data|.* exceeds max_pixels"
    r"|image claims)",
)
#: find_layout says which layout or row did not fit the page, and why.
LAYOUT_ERROR = (
    LayoutError,
    r"^(a [\d.]+ s row needs [\d.]+ px at [\d.]+ px/mm and [\d.]+ mm/s but the page is \d+ px wide"
    r"|no trace row found on the page"
    r"|layout '[^']+' needs \d+ rows of trace but only \d+ were found"
    r"|row \d+ of layout '[^']+' holds no trace"
    r"|rows end at x=-?\d+ px, too close to the left edge for 10 s at [\d.]+ px/s)",
)


#: digitize: its inputs, its numbers, find_layout's refusals, and rows without a trace.
DIGITIZE_ERRORS = (
    image_error("image", "trace_mask"),
    number_error("px_per_mm_x", "px_per_mm_y", "paper_speed", "gain", "signal_fs"),
    (ValueError, r"^signal_fs must be at most [\d.]+ Hz"),
    LAYOUT_ERROR,
    (StageError, r"^(no trace could be followed in row \d+|trace_mask shape .* differs)"),
)


def _event(name: str) -> None:
    """Count an outcome (shown by --hypothesis-show-statistics) when inside a property."""
    try:
        event(name)
    except InvalidArgument:  # called outside a hypothesis test
        pass


def documented(call, *allowed: tuple[type[BaseException], str]):
    """Run ``call``; return its result, or None when it raised one of ``allowed``.

    ``allowed`` holds ``(exception class, regex)`` pairs: the exception must be of
    exactly that class and its message must match the regex (name its cause).
    Warnings (suspicious but legal input) are allowed; any other exception
    escapes and fails the property.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = call()
        _event("returned")
        return out
    except (EcgprepError, ValueError) as exc:
        for cls, pattern in allowed:
            if type(exc) is cls and re.search(pattern, str(exc)):
                _event(f"raised {cls.__name__}")
                return None
        raise AssertionError(
            f"undocumented refusal {type(exc).__name__}: {exc}"
            f" (documented here: {[(c.__name__, p) for c, p in allowed]})"
        ) from exc


def _fill(rng: np.random.Generator, shape: tuple[int, ...], dtype, kind: str) -> np.ndarray:
    dtype = np.dtype(dtype)
    if kind == "zeros":
        return np.zeros(shape, dtype)
    if dtype == np.bool_:
        return rng.random(shape) < (0.5 if kind == "random" else 0.98)
    if dtype.kind == "f":
        a = rng.random(shape).astype(dtype)
        if kind == "nan" and a.size:
            a.flat[rng.integers(0, a.size)] = np.nan
        elif kind == "huge":
            a = a * dtype.type(1e6)
        elif kind == "negative":
            a = a - dtype.type(0.5)
        return a
    info = np.iinfo(dtype)
    if kind == "negative" and info.min < 0:
        return rng.integers(-1000, 1000, shape).astype(dtype)
    if kind == "huge":
        return rng.integers(0, info.max, shape, dtype=dtype, endpoint=True)
    if kind == "max":
        return np.full(shape, info.max, dtype)
    return rng.integers(0, min(info.max, 65535), shape, endpoint=True).astype(dtype)


@st.composite
def raw_arrays(draw):
    """Arrays of any small shape (0-4 dims, 0-6 channels) and the dtypes users pass."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(
        draw(st.integers(0, 40)) if i < 2 else draw(st.integers(0, 6)) for i in range(ndim)
    )
    dtype = draw(st.sampled_from(DTYPES))
    kind = draw(st.sampled_from(["random", "zeros", "max", "nan", "negative", "huge"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    arr = _fill(rng, shape, dtype, kind)
    if draw(st.booleans()) and arr.ndim >= 2 and arr.shape[1] > 1:
        arr = arr[:, ::2]  # not contiguous
    return arr


def _pattern(rng: np.random.Generator, h: int, w: int, kind: str) -> np.ndarray:
    """A uint8 RGB picture: noise, flat, gradient, or grid lines with trace-like curves."""
    if kind == "noise":
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    if kind == "flat":
        return np.full((h, w, 3), rng.integers(0, 256), np.uint8)
    if kind == "gradient":
        g = np.linspace(0, 255, max(w, 1), dtype=np.float32)[None, :w, None]
        return np.ascontiguousarray(np.broadcast_to(g, (h, w, 3)).astype(np.uint8))
    img = np.full((h, w, 3), 250, np.uint8)
    period = int(rng.integers(2, 12))
    img[::period, :] = (250, 180, 180)
    img[:, ::period] = (250, 180, 180)
    img[:: 5 * period, :] = (230, 90, 90)
    img[:, :: 5 * period] = (230, 90, 90)
    if kind == "ecg-like" and h >= 4 and w >= 2:
        x = np.arange(w)
        for row in range(1, int(rng.integers(2, 6))):
            y0 = row * h // 5
            y = np.clip(
                y0 + (rng.random() * 0.1 * h) * np.sin(x / rng.uniform(2, 20)), 0, h - 1
            ).astype(int)
            img[y, x] = 0
            img[np.clip(y + 1, 0, h - 1), x] = 0
    return img


@st.composite
def images(draw, max_side: int = 300):
    """Mostly valid uint8 images (RGB or gray) of bounded size, sometimes degenerate or invalid."""
    h = draw(SIDES(max_side))
    w = draw(SIDES(max_side))
    kind = draw(st.sampled_from(["noise", "flat", "gradient", "grid", "ecg-like"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    img = _pattern(rng, h, w, kind)
    form = draw(st.sampled_from(["rgb"] * 6 + ["gray", "gray", "float", "rgba", "strided", "1d"]))
    if form == "gray":
        img = np.ascontiguousarray(img[:, :, 0])
    elif form == "float":
        img = img.astype(np.float32) / 255.0
    elif form == "rgba":
        img = np.dstack([img, np.full((h, w, 1), 255, np.uint8)])
    elif form == "strided":
        img = img[::-1, ::2]
    elif form == "1d":
        img = img.reshape(-1)
    return img


@st.composite
def masks(draw, shape: tuple[int, int] | None = None, max_side: int = 300):
    h, w = shape if shape is not None else (draw(SIDES(max_side)), draw(SIDES(max_side)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["empty", "full", "sparse", "rows", "dense"]))
    if kind == "empty":
        return np.zeros((h, w), bool)
    if kind == "full":
        return np.ones((h, w), bool)
    if kind == "rows":  # a few full-width lines of ink (rows, or a frame)
        m = np.zeros((h, w), bool)
        if h:
            m[rng.integers(0, h, int(rng.integers(1, 14)))] = True
        return m
    return rng.random((h, w)) < (0.02 if kind == "sparse" else 0.4)


@functools.cache
def _page(layout: str, seed: int):
    """A small (60 dpi, 510 x 660 px) synthetic printout: image, trace mask, px/mm."""
    r = render_ecg(dpi=60, layout=layout, seed=seed)
    return r.image, r.truth.trace_mask, r.truth.px_per_mm


@st.composite
def pages(draw):
    """A real-looking page and trace mask, spoiled by a few random edits, with a scale
    that is usually right, sometimes off, and sometimes not a valid number."""
    layout = draw(st.sampled_from(sorted(LAYOUTS)))
    image, mask, ppmm = _page(layout, draw(st.integers(0, 2)))
    image, mask = image.copy(), mask.copy()
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    h, w = mask.shape
    for edit in draw(
        st.lists(
            st.sampled_from(
                [
                    "crop",
                    "noise",
                    "erase",
                    "flip",
                    "mask-noise",
                    "mask-rows",
                    "mask-empty",
                    "mask-full",
                    "turn",
                ]
            ),
            max_size=3,
        )
    ):
        if edit == "crop" and mask.size:
            y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
            y1, x1 = int(rng.integers(y0, h + 1)), int(rng.integers(x0, w + 1))
            image, mask = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]
        elif edit == "noise":
            image = np.clip(image + rng.normal(0, 40, image.shape), 0, 255).astype(np.uint8)
        elif edit == "erase" and mask.size:
            y0, x0 = int(rng.integers(0, mask.shape[0])), int(rng.integers(0, mask.shape[1]))
            image[y0 : y0 + 80, x0 : x0 + 200] = 255
            mask[y0 : y0 + 80, x0 : x0 + 200] = False
        elif edit == "flip":
            image, mask = image[::-1], mask[::-1]
        elif edit == "mask-noise":
            mask = mask ^ (rng.random(mask.shape) < 0.05)
        elif edit == "mask-rows" and mask.size:
            mask[rng.integers(0, mask.shape[0], 5)] = True
        elif edit == "mask-empty":
            mask = np.zeros_like(mask)
        elif edit == "mask-full":
            mask = np.ones_like(mask)
        elif edit == "turn":
            image, mask = np.rot90(image), np.rot90(mask)
        h, w = mask.shape
    image, mask = np.ascontiguousarray(image), np.ascontiguousarray(mask)
    factor = draw(st.sampled_from([1.0, 1.0, 1.0, 1.0, 0.5, 0.9, 1.1, 2.0]))
    ppx = draw(
        st.one_of(st.just(ppmm * factor), st.just(ppmm * factor), st.sampled_from(BAD_NUMBERS))
    )
    ppy = draw(st.one_of(st.just(ppmm * factor), st.just(ppmm * factor), st.floats(0.5, 30.0)))
    read_as = draw(st.one_of(st.just(layout), st.just(layout), st.sampled_from(sorted(LAYOUTS))))
    return image, mask, ppx, ppy, read_as


def _is_canonical(out: np.ndarray, src: np.ndarray) -> bool:
    return (
        out.dtype == np.uint8
        and out.ndim == 3
        and out.shape[2] == 3
        and out.shape[:2] == src.shape[:2]
        and out.flags.c_contiguous
    )


@FUZZ
@given(raw_arrays())
def test_load_image_arrays(arr):
    out = documented(lambda: load_image(arr), LOAD_ERROR)
    if out is not None:
        assert _is_canonical(out, arr)


def _valid_encoded(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    img = rng.integers(
        0, 256, (int(rng.integers(1, 24)), int(rng.integers(1, 24)), 3), dtype=np.uint8
    )
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, ["PNG", "JPEG", "BMP", "TIFF", "GIF"][seed % 5])
    return buf.getvalue()


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.tuples(
            st.integers(0, 2**16),
            st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
            st.integers(0, 2000),
        ),
    )
)
def test_load_image_bytes(blob):
    if isinstance(blob, tuple):  # a valid file, corrupted and/or truncated
        seed, flips, cut = blob
        data = bytearray(_valid_encoded(seed))
        for pos, value in flips:
            data[pos % len(data)] = value
        blob = bytes(data[: max(1, len(data) - cut)])
    out = documented(lambda: load_image(blob), LOAD_ERROR)
    if out is not None:
        assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3 and out.size > 0


def stage_images():
    """Random pictures, or spoiled ECG pages."""
    return st.one_of(images(), pages().map(lambda page: page[0]))


@pytest.mark.slow
@FUZZ
@given(stage_images(), st.sampled_from(EDGE_METHODS))
def test_find_paper(img, method):
    res = documented(lambda: find_paper(img, method=method), image_error("image"))
    if res is not None:
        assert len(res.box) == 4


@pytest.mark.slow
@FUZZ
@given(stage_images())
def test_separate_colors(img):
    res = documented(lambda: separate_colors(img), image_error("image"))
    if res is not None:
        assert res.trace_mask.shape == img.shape[:2] and res.trace_mask.dtype == bool


@pytest.mark.slow
@FUZZ
@given(stage_images(), st.booleans(), st.data())
def test_detect_grid(img, with_mask, data):
    mask = None
    if with_mask and img.ndim >= 2:
        mask = data.draw(masks(shape=img.shape[:2]))
    res = documented(
        lambda: detect_grid(img, mask=mask),
        image_error("image", "mask"),
        (InvalidImageError, r"^mask shape \(.*\) differs from image shape"),
    )
    if res is not None:
        assert isinstance(res.found, bool)
        if res.found:
            assert np.isfinite(res.px_per_mm_x) and res.px_per_mm_x > 0


@pytest.mark.slow
@FUZZ
@given(stage_images(), st.one_of(st.none(), SCALES))
def test_assess_quality(img, px_per_mm):
    res = documented(
        lambda: assess_quality(img, px_per_mm=px_per_mm),
        image_error("image"),
        number_error("px_per_mm"),
    )
    if res is not None:
        assert isinstance(res.passed, bool)


@pytest.mark.slow
@FUZZ
@given(
    st.one_of(masks(), pages().map(lambda page: page[1])),
    SCALES,
    SCALES,
    st.sampled_from(sorted(LAYOUTS)),
    st.sampled_from([25.0, 25.0, 50.0, 0.0, -25.0, math.nan]),
)
def test_find_layout(mask, ppx, ppy, layout, speed):
    res = documented(
        lambda: find_layout(
            mask, px_per_mm_x=ppx, px_per_mm_y=ppy, layout=layout, paper_speed=speed
        ),
        image_error("trace_mask"),
        number_error("px_per_mm_x", "px_per_mm_y", "paper_speed"),
        LAYOUT_ERROR,
    )
    if res is not None:
        assert res.rows and res.panels


def _check_leads(res, layout: str, fs: float) -> None:
    """Every lead the layout prints comes back once, sampled at ``fs`` over the window
    of its longest panel: the number of samples and the start come from the layout's
    panel times, not from where ink was found along the row. The rhythm strips may
    have been named after the panel they repeat: the layout the reading reports
    (``'3x4+1:V2'``) says which. On rows holding less than 10 s (``record_s``,
    which the page sets and this check takes as given): a cut page's panels keep
    their times up to its edge, a shorter row's are the layout's scaled to it."""
    lay = res.layout
    assert lay.name.split(":")[0] == layout
    assert 0 < lay.record_s <= RECORD_SECONDS
    k = 1.0 if lay.cut else lay.record_s / RECORD_SECONDS
    longest: dict[str, tuple[float, float]] = {}
    for row in layout_rows(lay.name):
        for lead, t0, dur in row:
            t0, dur = t0 * k, dur * k
            if lay.cut:
                dur = min(dur, lay.record_s - t0)
                if dur < CUT_PANEL_MIN_S:
                    continue
            if lead not in longest or dur > longest[lead][1]:
                longest[lead] = (t0, dur)
    assert set(res.leads) == set(longest)
    for name, sig in res.leads.items():
        t0, dur = longest[name]
        assert sig.name == name and sig.fs == fs and sig.start_s == t0, (name, sig)
        assert sig.values.size == round(dur * fs), (name, sig.values.size, dur, fs)


@pytest.mark.slow
@FUZZ
@given(
    pages(),
    st.sampled_from([10.0, 10.0, 10.0, 5.0, 0.0, -10.0, math.inf]),
    st.sampled_from([500.0, 500.0, 500.0, 250.0, 0.0, math.nan, 1e9]),
)
def test_digitize_pages(page, gain, fs):
    image, mask, ppx, ppy, layout = page
    res = documented(
        lambda: digitize(
            image, mask, px_per_mm_x=ppx, px_per_mm_y=ppy, layout=layout, gain=gain, signal_fs=fs
        ),
        *DIGITIZE_ERRORS,
    )
    if res is not None:
        _check_leads(res, layout, fs)


@FUZZ
@given(images(), st.data(), SCALES, SCALES, st.sampled_from(sorted(LAYOUTS)))
def test_digitize_random(img, data, ppx, ppy, layout):
    shape = img.shape[:2] if img.ndim >= 2 else (0, 0)
    mask = data.draw(masks(shape=shape))
    res = documented(
        lambda: digitize(img, mask, px_per_mm_x=ppx, px_per_mm_y=ppy, layout=layout),
        *DIGITIZE_ERRORS,
    )
    if res is not None:
        _check_leads(res, layout, 500.0)


def test_invalid_image_is_a_value_error():
    # The documented errors the properties accept are the library's own.
    assert issubclass(InvalidImageError, ValueError) and issubclass(InvalidImageError, EcgprepError)
    with pytest.raises(InvalidImageError):
        detect_grid(np.zeros((1, 1, 3), np.uint8))


def _raise(exc: BaseException):
    raise exc


def test_the_oracle_accepts_only_named_documented_errors():
    assert documented(lambda: 7) == 7
    named = ValueError("gain must be a finite number > 0, got 0")
    assert documented(lambda: _raise(named), number_error("gain")) is None
    # a ValueError that does not name the parameter, or names another one
    for exc in (ValueError("bad value"), ValueError("fs must be a finite number > 0, got 0")):
        with pytest.raises(AssertionError, match="undocumented refusal"):
            documented(lambda exc=exc: _raise(exc), number_error("gain"))
    # the right words from the wrong class (a subclass is not the documented error)
    with pytest.raises(AssertionError, match="undocumented refusal"):
        documented(lambda: _raise(LayoutError("image: expected shape")), image_error("image"))
    # errors outside the documented families escape as they are
    with pytest.raises(IndexError):
        documented(lambda: _raise(IndexError("oops")), image_error("image"))
