"""Tests of ecgprep.quality: sharpness, contrast, resolution and the combined gate."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from ecgprep.errors import InvalidImageError
from ecgprep.options import Options
from ecgprep.quality import (
    QualityResult,
    assess_quality,
    effective_dpi,
    measure_contrast,
    measure_sharpness,
)
from ecgprep.synth import distort

PPM_200 = 200 / 25.4


@pytest.fixture(scope="module")
def clean(page200):
    return page200  # 200 dpi, seed 11 (shared, read-only)


def _washed(image: np.ndarray) -> np.ndarray:
    return (image.astype(np.float32) * 0.2 + 200).astype(np.uint8)


def _drawn(ppm: float = 8.0, size=(400, 600)) -> np.ndarray:
    """Grid (1 mm light, 5 mm red) with one black anti-aliased wave, drawn at ``ppm`` px/mm."""
    h, w = size
    img = np.full((h, w, 3), 250, np.uint8)
    for i, x in enumerate(np.arange(0, w, ppm)):
        cv2.line(
            img, (int(x), 0), (int(x), h - 1), (235, 80, 80) if i % 5 == 0 else (250, 200, 200), 1
        )
    for i, y in enumerate(np.arange(0, h, ppm)):
        cv2.line(
            img, (0, int(y)), (w - 1, int(y)), (235, 80, 80) if i % 5 == 0 else (250, 200, 200), 1
        )
    xs = np.arange(10, w - 10)
    ys = h / 2 - 40 * np.sin(xs / 15.0)
    cv2.polylines(img, [np.stack([xs, ys], 1).astype(np.int32)], False, (0, 0, 0), 2, cv2.LINE_AA)
    return img


# --------------------------------------------------------------------------- the gate


def test_clean_render_passes(clean):
    q = assess_quality(clean.image, px_per_mm=clean.truth.px_per_mm)
    assert isinstance(q, QualityResult)
    assert q.passed and q.reasons == ()
    assert q.dpi == pytest.approx(200.0)
    assert q.sharpness > 0.5 and q.contrast > 0.8


@pytest.mark.parametrize("sigma", [1.2, 2.0])
def test_blurred_render_fails_for_sharpness_only(clean, sigma):
    img = distort(clean, blur_sigma=sigma).image
    q = assess_quality(img, px_per_mm=PPM_200)
    assert not q.passed
    assert len(q.reasons) == 1 and q.reasons[0].startswith("sharpness: ")
    assert q.sharpness < q.min_sharpness


@pytest.mark.parametrize("dpi", [100.0, 130.0])
def test_downscaled_render_fails_for_resolution_only(clean, dpi):
    f = dpi / 200.0
    small = cv2.resize(clean.image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    q = assess_quality(small, px_per_mm=PPM_200 * f)
    assert not q.passed
    assert q.reasons == (f"resolution: {dpi:.0f} dpi < 150 dpi",)
    assert q.dpi == pytest.approx(dpi)


def test_low_dpi_render_fails_for_resolution_only(page100):
    r = page100
    q = assess_quality(r.image, px_per_mm=r.truth.px_per_mm)
    assert q.reasons == ("resolution: 100 dpi < 150 dpi",)


def test_washed_out_render_fails_for_contrast_only(clean):
    q = assess_quality(_washed(clean.image), px_per_mm=PPM_200)
    assert not q.passed
    assert len(q.reasons) == 1 and q.reasons[0].startswith("contrast: ")
    assert q.contrast < 0.21


def test_every_reason_at_once(clean):
    img = _washed(distort(clean, blur_sigma=2.5).image)
    q = assess_quality(img, px_per_mm=3.0)
    assert [r.split(":")[0] for r in q.reasons] == ["resolution", "sharpness", "contrast"]


def test_resolution_not_judged_without_scale(clean):
    small = cv2.resize(clean.image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    q = assess_quality(small)
    assert q.dpi is None
    assert q.passed


def test_thresholds_are_recorded_and_used(clean):
    img = (clean.image * 0.8 + 40).astype(np.uint8)  # ink at 40 on paper at 244: contrast ~0.84
    q = assess_quality(img, px_per_mm=PPM_200, min_dpi=250, min_sharpness=0.99, min_contrast=0.95)
    assert (q.min_dpi, q.min_sharpness, q.min_contrast) == (250.0, 0.99, 0.95)
    assert [r.split(":")[0] for r in q.reasons] == ["resolution", "sharpness", "contrast"]
    assert assess_quality(_washed(img), min_sharpness=0, min_contrast=0).passed


def test_defaults_match_options():
    opts = Options()
    q = assess_quality(_drawn())
    assert (q.min_dpi, q.min_sharpness, q.min_contrast) == (
        opts.min_dpi,
        opts.min_sharpness,
        opts.min_contrast,
    )


def test_reasons_tell_close_numbers_apart():
    q = assess_quality(_drawn(), px_per_mm=149.6 / 25.4)
    assert q.reasons == ("resolution: 149.6 dpi < 150.0 dpi",)


def test_result_is_frozen(clean):
    q = assess_quality(clean.image)
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.passed = False


def test_blank_image_fails_sharpness_and_contrast():
    q = assess_quality(np.full((100, 100, 3), 255, np.uint8))
    assert q.sharpness == 0.0 and q.contrast == 0.0
    assert [r.split(":")[0] for r in q.reasons] == ["sharpness", "contrast"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"px_per_mm": 0}, "px_per_mm"),
        ({"px_per_mm": -3.0}, "px_per_mm"),
        ({"px_per_mm": float("nan")}, "px_per_mm"),
        ({"px_per_mm": "8"}, "px_per_mm"),
        ({"min_dpi": 0}, "min_dpi"),
        ({"min_sharpness": -0.1}, "min_sharpness"),
        ({"min_contrast": 1.5}, "min_contrast"),
        ({"min_contrast": True}, "min_contrast"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        assess_quality(_drawn(), **kwargs)


def test_bad_images_raise():
    with pytest.raises(InvalidImageError):
        assess_quality(np.zeros((10, 10, 3), np.float64))
    with pytest.raises(InvalidImageError):
        measure_sharpness(np.zeros((10, 10, 4), np.uint8))
    with pytest.raises(InvalidImageError):
        measure_contrast(None)


# --------------------------------------------------------------------------- sharpness


def test_sharpness_falls_with_blur(clean):
    gray = cv2.cvtColor(clean.image, cv2.COLOR_RGB2GRAY)
    values = [measure_sharpness(gray)]
    for sigma in (0.5, 1.0, 1.5, 2.0, 3.0):
        values.append(measure_sharpness(cv2.GaussianBlur(gray, (0, 0), sigma)))
    assert all(a > b for a, b in zip(values, values[1:], strict=False))
    # Known levels (measured 0.70, 0.61, 0.35, 0.24, 0.18, 0.11): a crisp render is
    # well above the gate, sigma 1 px already near its bottom, sigma 3 px near zero.
    assert values[0] > 0.65, values
    assert 0.25 < values[2] < 0.45, values
    assert 0.12 < values[4] < 0.25, values
    assert values[5] < 0.15, values


@pytest.mark.parametrize("ppm", [4.0, 8.0, 12.0])
def test_sharpness_of_crisp_drawings_is_resolution_independent(ppm):
    img = _drawn(ppm=ppm, size=(int(50 * ppm), int(75 * ppm)))
    s = measure_sharpness(img, px_per_mm=ppm)
    blurred = measure_sharpness(
        cv2.GaussianBlur(img, (0, 0), 2.0 * max(1.0, ppm / 7.874)), px_per_mm=ppm
    )
    assert s > 0.5
    assert blurred < 0.3


def test_enlarged_image_is_judged_at_reference_resolution(clean):
    big = cv2.resize(clean.image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    assert measure_sharpness(big) < 0.35  # in its own pixels an enlargement looks soft
    assert measure_sharpness(big, px_per_mm=2 * PPM_200) > 0.5
    assert assess_quality(big, px_per_mm=2 * PPM_200).passed


def test_sharpness_is_independent_of_contrast_scale(clean):
    gray = cv2.cvtColor(clean.image, cv2.COLOR_RGB2GRAY)
    half = (gray // 2 + 100).astype(np.uint8)
    assert measure_sharpness(half) == pytest.approx(measure_sharpness(gray), abs=0.03)


# --------------------------------------------------------------------------- contrast


def test_contrast_black_ink_on_white():
    img = np.full((200, 200), 250, np.uint8)
    img[100:103, 20:180] = 10
    assert measure_contrast(img) == pytest.approx(0.96, abs=0.01)
    assert measure_contrast(_washed(img)) == pytest.approx(0.19, abs=0.01)
    assert measure_contrast(np.full((50, 50), 200, np.uint8)) == 0.0


def test_contrast_ignores_shading_and_background(clean):
    base = measure_contrast(clean.image)
    shaded = measure_contrast(distort(clean, shading=0.8, seed=1).image)
    photo = measure_contrast(distort(clean, background="dark", perspective=0.05, seed=1).image)
    assert shaded > 0.8 * base and shaded > 0.5
    assert 0.7 < photo <= base + 0.02  # the dark background adds no contrast


def test_contrast_survives_blur_but_not_washing_out(clean):
    blurred = distort(clean, blur_sigma=2.0).image
    assert measure_contrast(blurred) > 0.4
    assert measure_contrast(_washed(blurred)) < 0.25


# --------------------------------------------------------------------------- dpi


def test_effective_dpi():
    assert effective_dpi(PPM_200) == pytest.approx(200.0)
    assert effective_dpi(1) == pytest.approx(25.4)
    for bad in (0, -1.0, float("inf"), None, "7"):
        with pytest.raises(ValueError, match="px_per_mm"):
            effective_dpi(bad)


@pytest.mark.parametrize("size", [1, 3, 63, 64, 5000])
@pytest.mark.parametrize("q", [0.0, 0.5, 0.995, 1.0])
def test_quantile_u8_matches_its_definition(size, q):
    from ecgprep.quality import _quantile_u8

    rng = np.random.default_rng(size)
    for values in (rng.integers(0, 256, size), rng.integers(0, 4, size) * 60):
        v = values.astype(np.uint8).reshape(1, -1)
        # The definition, by brute force over the 256 levels (not the histogram the
        # small-input branch of the implementation uses).
        expected = min(level for level in range(256) if np.count_nonzero(v <= level) >= q * v.size)
        assert _quantile_u8(v, q) == expected
