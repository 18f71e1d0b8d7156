"""Tests of ecgprep.rectify on ecgprep.synth renders seen in perspective (exact truth)."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from ecgprep.errors import InvalidImageError
from ecgprep.grid import detect_grid
from ecgprep.rectify import (
    RectifyResult,
    marked_box,
    rectify_from_grid,
    undo_perspective,
    warp,
)
from ecgprep.synth import bend, distort


@pytest.fixture(scope="module")
def page(page200):
    return page200  # 200 dpi, seed 11 (shared, read-only)


@pytest.fixture(scope="module")
def small_page(page100):
    return page100  # 100 dpi, seed 3 (shared, read-only)


def _apply(h, xy):
    p = np.c_[xy, np.ones(len(xy))] @ np.asarray(h, dtype=float).T
    return p[:, :2] / p[:, 2:3]


def _check_rectified(r, res):
    """Grid square and axis-aligned; every row's samples on one straight baseline, time linear."""
    assert res.found, res
    out = warp(r.image, res)
    assert out.shape[:2] == res.output_shape
    g = detect_grid(out)
    assert g.found
    assert abs(g.px_per_mm_x / g.px_per_mm_y - 1.0) < 0.01
    assert abs(g.angle_deg) < 0.3
    assert abs(g.skew_deg) < 0.3
    # scale kept near the input's (no strong up / down sampling)
    assert 0.85 < g.px_per_mm / r.truth.px_per_mm < 1.15
    assert abs(res.px_per_mm / g.px_per_mm - 1.0) < 0.01  # the scale it reports
    assert out.shape[0] * out.shape[1] < 2.0 * r.image.shape[0] * r.image.shape[1]
    truth = r.truth
    gain_px = 10.0 * g.px_per_mm_y  # px per mV in the output
    speed_px = 25.0 * g.px_per_mm_x / truth.fs  # px per sample in the output
    rows: dict[int, list[np.ndarray]] = {}
    for i, lt in enumerate(truth.leads):
        xy = _apply(res.homography, truth.lead_xy(i))  # samples in the rectified image
        v = np.asarray(truth.signals[lt.name], dtype=float)[
            lt.start_sample : lt.start_sample + lt.n_samples
        ]
        j = np.arange(lt.n_samples, dtype=float)
        # time axis: x linear in the sample index, at 25 mm/s
        slope, icpt = np.polyfit(j, xy[:, 0], 1)
        assert np.abs(xy[:, 0] - (slope * j + icpt)).max() < 1.5, lt.name
        assert abs(slope / speed_px - 1.0) < 0.01, lt.name
        # 0 mV of every sample of a row on one horizontal line
        key = lt.row if not lt.is_rhythm else 100 + i
        rows.setdefault(key, []).append(xy[:, 1] + v * gain_px)
    for key, ys in rows.items():
        ys = np.concatenate(ys)
        assert np.ptp(ys) < 1.5, (key, np.ptp(ys))


@pytest.mark.parametrize(
    ("perspective", "rotate_deg", "seed"),
    [
        (0.03, 0.0, 1),
        (0.03, -6.0, 2),
        (0.06, 2.0, 3),
        (0.06, 12.0, 4),
        (0.1, 0.0, 5),
        (0.1, -3.0, 6),
        (0.1, 8.0, 7),
    ],
)
def test_perspective_undone(page, perspective, rotate_deg, seed):
    r = distort(page, perspective=perspective, background=None, rotate_deg=rotate_deg, seed=seed)
    res = rectify_from_grid(r.image)
    _check_rectified(r, res)
    assert res.n_lines_h >= 20 and res.n_lines_v >= 20
    assert res.residual_px < 1.0
    assert res.correction_px > 10.0  # the perspective was worth undoing
    assert res.confidence > 0.5


def test_issue_example_is_rectified(synth_render):
    # the case that made the grid stage fail: page fills the frame, seen in perspective
    r = distort(synth_render(seed=41), perspective=0.05, background=None, rotate_deg=2.0, seed=3)
    _check_rectified(r, rectify_from_grid(r.image))


def test_low_resolution_noisy_photo(small_page):
    # 100 dpi (no downscaling), blur, noise, JPEG, uneven light, colour cast
    r = distort(
        small_page,
        perspective=0.07,
        rotate_deg=-4.0,
        blur_sigma=0.7,
        noise_std=6.0,
        jpeg_quality=70,
        shading=0.5,
        color_cast=(1.0, 0.95, 0.85),
        seed=11,
    )
    _check_rectified(r, rectify_from_grid(r.image))


def test_page_on_background(small_page):
    r = distort(small_page, perspective=0.06, rotate_deg=3.0, background="wood", seed=5)
    res = rectify_from_grid(r.image)
    assert res.found
    h = np.asarray(res.homography) @ r.truth.homography
    for lt in r.truth.leads:
        x = np.linspace(lt.x0_px, lt.x1_px, 50)
        ys = _apply(h, np.c_[x, np.full(x.size, lt.baseline_y_px)])[:, 1]
        assert np.ptp(ys) < 1.0


@pytest.mark.parametrize("grid_color", ["bw", "pink"])
def test_grid_styles(synth_render, grid_color):
    base = synth_render(seed=3, dpi=100.0, grid_color=grid_color)
    r = distort(base, perspective=0.08, rotate_deg=5.0, seed=9)
    _check_rectified(r, rectify_from_grid(r.image))


def test_gray_image(small_page):
    r = distort(small_page, perspective=0.06, seed=2)
    gray = np.ascontiguousarray(r.image.min(axis=2))
    res = rectify_from_grid(gray)
    assert res.found
    out = warp(gray, res)
    assert out.ndim == 2 and out.shape == res.output_shape
    rgb = rectify_from_grid(r.image)
    assert np.allclose(res.homography, rgb.homography, atol=0.05 * np.abs(rgb.homography).max())


def test_clean_render_passes_almost_unchanged(page):
    res = rectify_from_grid(page.image)
    assert res.found
    assert res.correction_px < 1.0
    assert abs(res.angle_deg) < 0.05
    h, w = page.image.shape[:2]
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], float)
    assert np.abs(_apply(res.homography, corners) - corners).max() < 2.0
    assert abs(res.output_shape[0] - h) <= 3 and abs(res.output_shape[1] - w) <= 3
    out = warp(page.image, res)
    core = (slice(50, h - 50), slice(50, w - 50))
    diff = np.abs(out[core].astype(int) - page.image[core].astype(int))
    assert np.median(diff) < 5


def test_pure_rotation_is_only_rotated(small_page):
    r = distort(small_page, rotate_deg=4.0, seed=1)
    res = rectify_from_grid(r.image)
    assert res.found
    assert res.correction_px < 1.0
    assert abs(res.angle_deg - 4.0) < 0.05


def _random_photo(seed=0):
    rng = np.random.default_rng(seed)
    import cv2

    img = cv2.GaussianBlur(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8), (0, 0), 6)
    cv2.rectangle(img, (100, 100), (350, 420), (200, 30, 30), -1)
    cv2.circle(img, (560, 300), 150, (20, 180, 40), -1)
    return img


@pytest.mark.parametrize("kind", ["blank", "gray", "noise", "photo", "text", "stripes", "tiny"])
def test_no_grid_gives_not_found(kind):
    rng = np.random.default_rng(1)
    if kind == "blank":
        img = np.full((700, 900, 3), 255, np.uint8)
    elif kind == "gray":
        img = np.full((700, 900), 128, np.uint8)
    elif kind == "noise":
        img = rng.integers(0, 256, (700, 900, 3), dtype=np.uint8)
    elif kind == "photo":
        img = _random_photo()
    elif kind == "text":
        import cv2

        img = np.full((700, 900, 3), 255, np.uint8)
        for _ in range(80):
            x, y = (int(v) for v in rng.integers(0, 850, 2))
            cv2.putText(img, "lorem ipsum", (x, y % 680), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 1)
    elif kind == "stripes":
        img = np.full((700, 900, 3), 255, np.uint8)
        img[::9] = 0
    else:
        img = np.full((20, 30, 3), 255, np.uint8)
    res = rectify_from_grid(img)
    assert res.found is False
    assert np.array_equal(np.asarray(res.homography), np.eye(3))
    assert res.output_shape == img.shape[:2] == res.input_shape
    out = warp(img, res)
    assert np.array_equal(out, img) and out is not img


def test_result_is_small_and_picklable(small_page):
    r = distort(small_page, perspective=0.05, seed=4)
    res = rectify_from_grid(r.image)
    assert isinstance(res, RectifyResult)
    back = pickle.loads(pickle.dumps(res))
    assert back == res
    assert len(pickle.dumps(res)) < 2000
    assert isinstance(res.homography, tuple) and len(res.homography) == 3
    assert all(isinstance(v, float) for row in res.homography for v in row)
    assert res.matrix.shape == (3, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.found = False  # type: ignore[misc]


def test_deterministic(small_page):
    r = distort(small_page, perspective=0.06, rotate_deg=2.0, seed=8)
    assert rectify_from_grid(r.image) == rectify_from_grid(r.image)


def test_bad_input():
    with pytest.raises(InvalidImageError):
        rectify_from_grid(np.zeros((100, 100), np.float32))
    with pytest.raises(InvalidImageError):
        rectify_from_grid([[0, 1], [2, 3]])
    img = np.full((300, 400, 3), 255, np.uint8)
    for kw in ({"max_side": 100}, {"max_side": 1.5e3}, {"strip": 2}, {"refinements": 0}):
        with pytest.raises(ValueError):
            rectify_from_grid(img, **kw)
    res = rectify_from_grid(img)
    with pytest.raises(ValueError, match="shape"):
        warp(np.full((301, 400, 3), 255, np.uint8), res)
    with pytest.raises(ValueError, match="RectifyResult"):
        warp(img, np.eye(3))
    with pytest.raises(InvalidImageError):
        warp(img.astype(float), res)


def test_a_warped_outline_whose_grid_is_not_found_is_rectified_from_its_lines(page):
    """(issue 10) A page's outline warped to a rectangle is exact for a flat
    page; one photographed bent or with its far edge found short keeps a
    perspective, no grid is found on it, and only its bend was measured (the
    keystone taken for a 94 px curl on real-dev's Chinese page, which then
    failed). Its lines are followed as on any page whose outline was not warped."""
    import cv2

    h, w = page.image.shape[:2]
    p = 0.2  # the top edge 20 % shorter: what the outline's warp left
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[p * w / 2, 0], [w - p * w / 2, 0], [w, h], [0, h]])
    img = cv2.warpPerspective(
        page.image, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=(255, 255, 255)
    )
    assert not detect_grid(img).found
    out, res, _ = undo_perspective(img, paper_warped=True)
    assert res.reason == "applied"
    g = detect_grid(out)
    assert g.found and abs(g.px_per_mm_x / g.px_per_mm_y - 1.0) < 0.02
    assert abs(g.skew_deg) < 0.3


def test_marked_box_holds_the_marks_and_a_bare_frame():
    img = np.full((600, 1000, 3), 250, np.uint8)
    img[100:180, 120:380:6] = (240, 150, 150)  # a patch of faint pink lines
    assert marked_box(img, px_per_mm=4.0) == (100, 80, 399, 200)  # 5 mm = 20 px around
    # a few specks of dust on the lid do not widen it; an even lid holds nothing
    img[10:12, 10:12] = img[590:592, 900:902] = 0
    assert marked_box(img, px_per_mm=4.0) == (100, 80, 399, 200)
    rng = np.random.default_rng(0)
    lid = np.clip(250 + rng.normal(0, 1.5, (600, 1000)), 0, 255).astype(np.uint8)
    assert marked_box(lid, px_per_mm=4.0) is None
    # large images are searched at a working scale: the box still holds every mark
    # an R wave rising out of the patch into the bare margin above it: kept
    img[40:100, 200:202] = (40, 40, 40)
    assert marked_box(img, px_per_mm=4.0) == (100, 20, 399, 200)
    with pytest.raises(ValueError, match="px_per_mm"):
        marked_box(img, px_per_mm=float("nan"))
    big = np.full((3000, 4000), 250, np.uint8)
    big[1000:2001:10, 700:3301] = 200  # a grid of 1 px lines, 1 mm apart
    big[1000:2001, 700:3301:10] = 200
    x0, y0, x1, y1 = marked_box(big, px_per_mm=10.0)
    assert 700 - 55 <= x0 <= 700 - 45 and 3301 + 45 <= x1 <= 3301 + 55
    assert 1000 - 55 <= y0 <= 1000 - 45 and 2001 + 45 <= y1 <= 2001 + 55


def test_a_page_tilted_on_a_scanners_lid_is_trimmed_to_its_marks(page):
    """The warp's frame holds the tilted frame, bare lid around the page: trimmed,
    and the homography and offset still put each lead on its trace ink."""
    d = distort(page, rotate_deg=10.0, perspective=0.02, background="lid", seed=6)
    out, res, _ = undo_perspective(d.image)
    assert res.reason == "applied" and not res.curl.applied
    full = res.rectify.output_shape
    assert out.shape[:2] == res.shape
    assert out.shape[0] * out.shape[1] < 0.75 * full[0] * full[1]  # 0.52 measured
    g = detect_grid(out)
    assert g.found and g.confidence > 0.9
    h = np.asarray(res.homography, dtype=float)
    gray = out.min(axis=2)
    for i, lt in enumerate(d.truth.leads):
        xy = np.round(_apply(h, d.truth.lead_xy(i)) - np.asarray(res.offset)).astype(int)
        assert (xy >= 0).all() and (xy < np.array(out.shape[1::-1])).all()
        assert np.median(gray[xy[:, 1], xy[:, 0]]) < 150, lt.name


def test_a_low_resolution_page_on_a_scanners_lid_keeps_its_scale(small_page):
    """A 100 dpi page on a lid makes a frame worked at half size, where the 5 mm lines
    stand alone 2 px/mm apart: still a reading of the scale (it was read 5x too large)."""
    d = distort(
        bend(small_page, amount_mm=2.0, seed=5),
        rotate_deg=-8.0,
        perspective=0.02,
        background="lid",
        background_margin=0.15,
        blur_sigma=0.5,
        seed=2,
    )
    res = rectify_from_grid(d.image)
    assert res.found
    assert abs(res.px_per_mm / small_page.truth.px_per_mm - 1.0) < 0.05


def test_a_page_of_slanted_strokes_without_a_grid_is_not_turned():
    """No grid line followed: the grid's angle is a guess, and the page is left as it is."""
    import cv2

    rng = np.random.default_rng(4)
    img = np.full((800, 1100, 3), 250, np.uint8)
    for _ in range(400):
        x, y = (int(v) for v in rng.integers(50, 750, 2))
        t = np.deg2rad(-17.7 + rng.choice([0, 90]))
        n = int(rng.integers(5, 60))
        cv2.line(img, (x, y), (int(x + n * np.cos(t)), int(y + n * np.sin(t))), (30, 30, 30), 2)
    assert abs(detect_grid(img).angle_deg) >= 1.0  # (the guess the page was turned by)
    out, res, _ = undo_perspective(img)
    assert res.reason != "turned" and out is img
