"""Known-truth checks of the shared primitives: _geometry, _profile, standards, _validate."""

import math

import numpy as np
import pytest

from ecgprep import standards
from ecgprep._geometry import (
    apply_homography,
    as_tuple,
    downscale,
    polygon_area,
    rot90_matrix,
    rotate,
    rotation_matrix,
    translation,
)
from ecgprep._profile import longest_run, smooth
from ecgprep._validate import MAX_PX_PER_MM, check_number, check_positive, check_scale

# --------------------------------------------------------------------------- _geometry


def test_apply_homography_maps_points_and_keeps_shape():
    got = apply_homography(translation(2.5, -1), [[0, 0], [1, 2], [-3, 4]])
    assert got.dtype == np.float64 and got.shape == (3, 2)
    np.testing.assert_array_equal(got, [[2.5, -1.0], [3.5, 1.0], [-0.5, 3.0]])
    # one point given as a flat pair is read as (1, 2)
    assert apply_homography(np.eye(3), (7, 8)).tolist() == [[7.0, 8.0]]
    # a projective map: w = 2 halves the coordinates
    h = np.diag([1.0, 1.0, 2.0])
    assert apply_homography(h, [[4, 6]]).tolist() == [[2.0, 3.0]]


def test_apply_homography_is_nan_where_w_is_not_positive():
    # w = x: points on the line x = 0 go to infinity, those with x < 0 behind the camera
    h = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    got = apply_homography(h, [[2.0, 3.0], [0.0, 1.0], [-1.0, 5.0]])
    assert got[0].tolist() == [1.0, 1.5]
    assert np.isnan(got[1:]).all()


@pytest.mark.parametrize(
    "quad, area",
    [
        ([[0, 0], [4, 0], [4, 3], [0, 3]], 12.0),
        ([[0, 0], [4, 0], [0, 3]], 6.0),
        ([[1, 1], [3, 1], [3, 3], [2, 4], [1, 3]], 5.0),
        ([[0, 0], [1, 1], [2, 2]], 0.0),  # collinear
    ],
)
def test_polygon_area_whatever_the_orientation_and_start(quad, area):
    q = np.asarray(quad, dtype=np.float64)
    for cand in (q, q[::-1], np.roll(q, 1, axis=0), np.roll(q[::-1], 2, axis=0)):
        assert polygon_area(cand) == pytest.approx(area)
    # a list of tuples is accepted as well
    assert polygon_area([tuple(p) for p in quad]) == pytest.approx(area)


def test_as_tuple_is_hashable_and_exact():
    m = np.arange(9, dtype=np.float32).reshape(3, 3) / 7
    t = as_tuple(m)
    hash(t)
    assert all(type(v) is float for row in t for v in row)
    np.testing.assert_array_equal(np.array(t), m.astype(np.float64))


def test_translation_moves_points():
    assert translation(3, 4).tolist() == [[1.0, 0.0, 3.0], [0.0, 1.0, 4.0], [0.0, 0.0, 1.0]]


@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (1, 6), (7, 2)])
@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 4, 5])
def test_rot90_matrix_follows_np_rot90(shape, k):
    img = np.arange(shape[0] * shape[1]).reshape(shape)
    rot = np.rot90(img, k)
    ii, jj = np.indices(shape)
    xy = apply_homography(rot90_matrix(shape, k), np.c_[jj.ravel(), ii.ravel()])
    x = np.round(xy[:, 0]).astype(int)
    y = np.round(xy[:, 1]).astype(int)
    np.testing.assert_allclose(xy, np.c_[x, y], atol=1e-12)
    assert (rot[y, x] == img.ravel()).all()


def test_rotation_matrix_turns_about_the_pixel_centre():
    # 180 degrees maps pixel (i, j) onto (M - 1 - i, N - 1 - j) exactly: the centre
    # is ((N - 1) / 2, (M - 1) / 2), not (N / 2, M / 2)
    m, n = 6, 9
    got = apply_homography(rotation_matrix((m, n), 180.0), [[0, 0], [8, 5], [2, 1]])
    np.testing.assert_allclose(got, [[8, 5], [0, 0], [6, 4]], atol=1e-9)
    np.testing.assert_allclose(rotation_matrix((m, n), 0.0), np.eye(3), atol=1e-15)
    # counter-clockwise on screen (y down): the right end of the middle row goes up
    square = rotation_matrix((5, 5), 90.0)
    np.testing.assert_allclose(apply_homography(square, [[4, 2]]), [[2, 0]], atol=1e-9)


@pytest.mark.parametrize("shape", [(7, 11), (8, 12), (9, 9)])
def test_rotate_puts_a_drawn_dot_where_the_matrix_says(shape):
    m, n = shape
    img = np.full((m, n), 255, np.uint8)
    img[1, 2] = 0
    for angle in (90.0, 180.0, -90.0):
        out, mat = rotate(img, angle)
        assert out.shape == img.shape and out.dtype == np.uint8
        x, y = apply_homography(mat, [[2, 1]])[0]
        xi, yi = int(round(x)), int(round(y))
        if 0 <= xi < n and 0 <= yi < m:
            assert out[yi, xi] == 0
            assert np.count_nonzero(out < 128) == 1
    # 180 degrees about the pixel centre is an exact flip of both axes
    out, _ = rotate(img, 180.0)
    np.testing.assert_array_equal(out, img[::-1, ::-1])


def test_rotate_bicubic_keeps_a_pixel_wide_stroke_dark():
    img = np.full((80, 200), 255, np.uint8)
    img[40, 10:190] = 0  # a 1 px horizontal stroke
    linear, mat = rotate(img, 1.3)
    cubic, mat_c = rotate(img, 1.3, cubic=True)
    np.testing.assert_array_equal(mat, mat_c)
    # the darkest pixel of each column along the turned stroke
    cols = slice(30, 170)
    assert np.median(cubic[:, cols].min(axis=0)) < np.median(linear[:, cols].min(axis=0)) - 20


def test_deskew_turns_a_coarse_page_bicubic():
    from ecgprep.grid import CUBIC_BELOW_PX_PER_MM, GridResult, deskew_page

    img = np.full((80, 200), 255, np.uint8)
    img[40, 10:190] = 0

    def grid(ppmm):
        return GridResult(ppmm, ppmm, -1.3, 0.0, 0.0, True, 1.0, True, image_shape=(80, 200))

    coarse, _, _ = deskew_page(img, grid=grid(0.9 * CUBIC_BELOW_PX_PER_MM))
    fine, _, _ = deskew_page(img, grid=grid(1.1 * CUBIC_BELOW_PX_PER_MM))
    np.testing.assert_array_equal(coarse, rotate(img, 1.3, cubic=True)[0])
    np.testing.assert_array_equal(fine, rotate(img, 1.3)[0])


def test_rotate_fills_with_the_border_value_and_keeps_channels():
    img = np.zeros((10, 20, 3), np.uint8)
    out, _ = rotate(img, 30.0, border_value=200)
    assert out.shape == (10, 20, 3)
    assert tuple(out[0, 0]) == (200, 200, 200)  # a corner rotated in from outside
    assert tuple(out[5, 10]) == (0, 0, 0)
    # a square turned by 90 degrees is np.rot90
    sq = np.arange(36, dtype=np.uint8).reshape(6, 6)
    np.testing.assert_array_equal(rotate(sq, 90.0)[0], np.rot90(sq))


def test_downscale_by_whole_factor_keeps_pixel_grid():
    img = np.kron(np.arange(12, dtype=np.uint8).reshape(3, 4), np.ones((5, 5), np.uint8))
    img = np.pad(img, ((0, 3), (0, 2)), constant_values=255)  # 18 x 22, left out below/right
    small, f = downscale(img, 5)
    assert f == 5 and small.shape == (3, 4)
    np.testing.assert_array_equal(small, np.arange(12).reshape(3, 4))


def test_downscale_leaves_small_images_and_thin_strips_alone():
    img = np.zeros((100, 60), np.uint8)
    for max_side in (None, 100, 1000):
        small, f = downscale(img, max_side)
        assert small is img and f == 1
    small, f = downscale(np.zeros((2, 5000, 3), np.uint8), 256)
    assert f == 20 and small.shape == (1, 250, 3)


# --------------------------------------------------------------------------- _profile


def test_smooth_keeps_length_mass_and_constants():
    rng = np.random.default_rng(0)
    p = rng.random(200)
    for sigma in (0.1, 0.5, 2.0, 7.5, 1e9):
        out = smooth(p, sigma)
        assert out.shape == p.shape and out.dtype == np.float64
    out = smooth(np.ones(50), 3.0)
    np.testing.assert_allclose(out[9:-9], 1.0)  # interior: a normalised kernel
    spike = np.zeros(41)
    spike[20] = 1.0
    out = smooth(spike, 2.0)
    assert out.sum() == pytest.approx(1.0) and int(np.argmax(out)) == 20
    np.testing.assert_allclose(out, out[::-1])  # symmetric
    # below half a sample, sigma counts as 0.5
    np.testing.assert_array_equal(smooth(spike, 0.01), smooth(spike, 0.5))
    for size in (1, 2, 5):
        assert smooth(np.ones(size), 1e6).shape == (size,)


def test_longest_run_bridges_gaps_up_to_max_gap():
    occ = np.zeros(30, bool)
    occ[[2, 3, 4, 6, 7]] = True  # gap of 1 at 5
    occ[[12, 13, 14, 15, 19, 20, 21, 22]] = True  # gap of 3 at 16-18
    assert longest_run(occ, max_gap=0) == (12, 16)
    assert longest_run(occ, max_gap=1) == (2, 8)
    assert longest_run(occ, max_gap=2) == (2, 8)
    assert longest_run(occ, max_gap=3) == (12, 23)
    assert longest_run(occ, max_gap=7) == (2, 23)
    assert longest_run(np.ones(5, bool), 0) == (0, 5)
    assert longest_run(np.zeros(5, bool), 3) is None
    # equal lengths: the first one wins
    assert longest_run(np.array([1, 1, 0, 0, 1, 1], bool), 0) == (0, 2)


# --------------------------------------------------------------------------- standards


def test_standard_leads_and_page():
    assert standards.LEADS == ("I", "II", "III", "aVR", "aVL", "aVF") + tuple(
        f"V{i}" for i in range(1, 7)
    )
    # US letter is 11 x 8.5 inches
    assert standards.LETTER_MM == pytest.approx((11 * 25.4, 8.5 * 25.4))
    long_a4, short_a4 = standards.PAGE_SIZES_MM["a4"]
    assert (long_a4, short_a4) == (297.0, 210.0)
    # the calibration pulse: 10 mm high (two thick squares), 5 mm wide (one)
    assert standards.PULSE_MV * standards.GAIN_MM_PER_MV == 2 * standards.MAJOR_MM
    assert standards.PULSE_SECONDS * standards.PAPER_SPEED_MM_S == standards.MAJOR_MM
    assert standards.MAJOR_MM == 5 * standards.MINOR_MM


@pytest.mark.parametrize("name", list(standards.LAYOUTS))
def test_every_layout_tiles_the_record_with_known_leads(name):
    rows = standards.LAYOUTS[name]
    for row in rows:
        t = 0.0
        for lead, t0, dur in row:
            assert lead in standards.LEADS
            assert t0 == pytest.approx(t) and dur > 0
            t = t0 + dur
        assert t == pytest.approx(standards.RECORD_SECONDS)
    printed = {lead for row in rows for lead, _, _ in row}
    assert printed == set(standards.LEADS)


def test_the_3x4_panels():
    panels = {lead: (t0, dur) for row in standards.LAYOUTS["3x4"] for lead, t0, dur in row}
    assert panels["I"] == (0.0, 2.5) and panels["aVR"] == (2.5, 2.5)
    assert panels["V1"] == (5.0, 2.5) and panels["V6"] == (7.5, 2.5)
    assert standards.LAYOUTS["3x4+1"][-1] == [("II", 0.0, 10.0)]
    assert [r[0][0] for r in standards.LAYOUTS["3x4+3"][3:]] == ["II", "V1", "V5"]


# --------------------------------------------------------------------------- _validate


@pytest.mark.parametrize("value", [1, 2.5, np.float32(0.25), np.int64(7), 1e300])
def test_check_positive_accepts_finite_positive_numbers(value):
    got = check_positive(value, "gain")
    assert type(got) is float and got == float(value)


@pytest.mark.parametrize(
    "value", [0, -1, 0.0, -0.0, math.nan, math.inf, -math.inf, True, "5", None, [1.0]]
)
def test_check_positive_refuses_the_rest_naming_the_value(value):
    with pytest.raises(ValueError, match=r"^paper_speed must be a finite number > 0, got "):
        check_positive(value, "paper_speed")


@pytest.mark.parametrize("call", ["find_trace_rows", "digitize"])
def test_a_scale_no_page_has_is_refused_before_it_asks_for_memory(call):
    # A scale of 1e9 px/mm sized the stages' kernels past memory (a 37 GiB
    # array, an OpenCV allocation error); it is refused by name.
    from ecgprep.digitize import digitize
    from ecgprep.digitize.page import find_trace_rows

    mask = np.zeros((60, 80), bool)
    mask[30, 5:75] = True
    with pytest.raises(ValueError, match=r"^px_per_mm_y must be a finite number in \(0, 200\]"):
        if call == "digitize":
            digitize(np.full((60, 80, 3), 255, np.uint8), mask, px_per_mm_x=8.0, px_per_mm_y=1e9)
        else:
            find_trace_rows(mask, px_per_mm_x=8.0, px_per_mm_y=1e9)
    assert check_scale(MAX_PX_PER_MM, "px_per_mm_x") == MAX_PX_PER_MM


def test_check_number_bounds_are_inclusive():
    assert check_number(0, "x", lo=0) == 0.0
    assert check_number(1, "x", lo=0, hi=1) == 1.0
    assert check_number(-3.5, "x") == -3.5
    with pytest.raises(ValueError, match=r"x must be a finite number >= 0, got -0\.1"):
        check_number(-0.1, "x", lo=0)
    with pytest.raises(ValueError, match=r"x must be a number in \[0, 1\], got 1\.5"):
        check_number(1.5, "x", lo=0, hi=1)
    for bad in (math.nan, math.inf, False, "1"):
        with pytest.raises(ValueError, match="^x must be"):
            check_number(bad, "x", lo=0, hi=1)


def test_no_module_names_a_constant_twice():
    # a second top-level assignment silently changes the first one's users
    # (a label reader's LABEL_CLEAR_MM once moved remove_labels' bound)
    import ast
    from collections import Counter
    from pathlib import Path

    import ecgprep

    twice = {}
    for path in Path(ecgprep.__file__).parent.rglob("*.py"):
        names = Counter()
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id.isupper():
                    names[t.id] += 1
        dup = sorted(n for n, c in names.items() if c > 1)
        if dup:
            twice[path.name] = dup
    assert twice == {}
