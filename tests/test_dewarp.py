"""Tests of ecgprep.dewarp on ecgprep.synth renders bent by a known amount (exact truth)."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from ecgprep import process_image_for_submission
from ecgprep.dewarp import CurlResult, curl_source, curl_target, measure_curl, uncurl
from ecgprep.errors import InvalidImageError
from ecgprep.metrics import score_leads
from ecgprep.synth import bend, distort


@pytest.fixture(scope="module")
def bent(page200):
    """The 200 dpi page, bent by 3 mm (corners move by up to about 6 mm)."""
    return bend(page200, amount_mm=3.0, seed=5)


def _row_geometry(truth, to_page):
    """Per panel: rms of its 0 mV line about one horizontal line, and of x about a
    straight line in the sample index (px); and the x of each panel's first sample."""
    wobble, bow, starts = [], [], {}
    for i, lt in enumerate(truth.leads):
        xy = to_page(truth.lead_xy(i))
        v = np.asarray(truth.signals[lt.name], dtype=float)[
            lt.start_sample : lt.start_sample + lt.n_samples
        ]
        j = np.arange(lt.n_samples, dtype=float)
        fit = np.polyval(np.polyfit(j, xy[:, 0], 1), j)
        wobble.append(np.sqrt(np.mean((xy[:, 0] - fit) ** 2)))
        base = xy[:, 1] + v * truth.gain * truth.px_per_mm  # where 0 mV is at each sample
        bow.append(np.ptp(base))
        starts.setdefault(lt.start_sample, []).append(xy[0, 0])
    return np.array(wobble), np.array(bow), starts


def test_flat_page_is_left_alone(page200):
    res = measure_curl(page200.image, px_per_mm=page200.truth.px_per_mm)
    assert res.reason == "not needed" and not res.applied
    assert res.shift_px < 0.2 * page200.truth.px_per_mm
    assert uncurl(page200.image, res) is page200.image
    xy = np.array([[10.0, 20.0], [300.0, 400.0]])
    np.testing.assert_array_equal(curl_target(xy, res), xy)
    np.testing.assert_array_equal(curl_source(xy, res), xy)


def test_bent_rows_come_out_straight_and_in_time(bent):
    truth = bent.truth
    res = measure_curl(bent.image, px_per_mm=truth.px_per_mm)
    assert res.applied, res
    assert res.residual_px < 0.1 * truth.px_per_mm
    # On the bent page the rows bow and the panels printed at one time stand
    # at different x (the test has teeth) ...
    wobble0, bow0, starts0 = _row_geometry(truth, lambda xy: xy)
    assert bow0.max() > 8.0
    assert max(np.ptp(x) for x in starts0.values()) > 4.0
    # ... once straightened, every row's 0 mV lies on one line, time runs
    # linearly along it, and panels of one time start at one x.
    wobble, bow, starts = _row_geometry(truth, lambda xy: curl_target(xy, res))
    assert bow.max() < 1.0, bow  # 14 px bent
    assert wobble.max() < 0.5, wobble
    assert max(np.ptp(x) for x in starts.values()) < 0.5  # 15 px bent


def test_straightened_image_matches_the_map(bent):
    """uncurl moves the trace ink where curl_target says, and curl_source takes it back."""
    truth = bent.truth
    res = measure_curl(bent.image, px_per_mm=truth.px_per_mm)
    out = uncurl(bent.image, res)
    assert out.shape == bent.image.shape and out.dtype == np.uint8
    ink = cv2.dilate(
        (cv2.cvtColor(out, cv2.COLOR_RGB2GRAY) < 100).astype(np.uint8), np.ones((5, 5), np.uint8)
    )
    xy = np.concatenate([truth.lead_xy(i) for i in range(len(truth.leads))])
    moved = np.round(curl_target(xy, res)).astype(int)
    h, w = out.shape[:2]
    inside = (moved[:, 0] >= 0) & (moved[:, 0] < w) & (moved[:, 1] >= 0) & (moved[:, 1] < h)
    assert inside.mean() > 0.99
    assert ink[moved[inside, 1], moved[inside, 0]].mean() > 0.95
    back = curl_source(curl_target(xy, res), res)
    assert np.abs(back - xy).max() < 0.05


def test_no_grid_is_not_found():
    blank = np.full((400, 600, 3), 255, np.uint8)
    res = measure_curl(blank)
    assert res.reason == "not found" and not res.applied
    assert uncurl(blank, res) is blank


def test_result_is_small_and_picklable(bent):
    res = measure_curl(bent.image)
    assert isinstance(res, CurlResult)
    assert len(pickle.dumps(res)) < 2000
    assert pickle.loads(pickle.dumps(res)) == res


def test_bad_input(bent):
    with pytest.raises(InvalidImageError):
        measure_curl(np.zeros((50, 50), np.float32))
    res = measure_curl(bent.image)
    with pytest.raises(ValueError, match="shape"):
        uncurl(bent.image[:-10], res)


@pytest.mark.slow
def test_pipeline_reads_a_curled_photo_and_draws_on_its_ink(page200, bent):
    """A bent page photographed at an angle: read well, and the overlay's map back
    to the photo lands on the trace ink."""
    photo = distort(bent, rotate_deg=1.0, perspective=0.02, blur_sigma=0.6, seed=2)
    truth = page200.truth
    res = process_image_for_submission(photo.image)
    assert res.ok, res.error
    curl = res.stage("perspective").curl
    assert curl is not None and curl.applied
    assert score_leads(res.signals, truth.signals, truth.fs) > 20.0  # 21.3 measured
    # without the curl taken out the page is not read as well
    flat_only = process_image_for_submission(photo.image, {"rectify": False})
    if flat_only.ok:
        assert score_leads(flat_only.signals, truth.signals, truth.fs) < 15.0
    dig = res.stage("digitize")
    ink = cv2.dilate(photo.truth.trace_mask.astype(np.uint8), np.ones((7, 7), np.uint8))
    h, w = ink.shape

    def on_ink(to_input):
        """Share of each row's 0 mV line, mapped back to the photo, on its trace's ink."""
        hits = []
        for row in dig.layout.rows:
            xs = np.arange(row.x_start + 20, row.x_end - 20, 25.0)
            base = dig.baselines[row.index]
            ij = np.round(to_input(np.stack([xs, np.full(xs.size, base)], axis=1))).astype(int)
            ij = ij[(ij[:, 0] >= 0) & (ij[:, 0] < w) & (ij[:, 1] >= 0) & (ij[:, 1] < h)]
            hits.append(ink[ij[:, 1], ij[:, 0]].mean())
        return np.array(hits)

    hits = on_ink(res.working_to_input())
    assert hits.min() > 0.6, hits  # 0.70-0.82 measured
    # the homography alone (the curl left out) misses the ink more
    inv = np.linalg.inv(res.working_map()[0])

    def plain(xy):
        p = np.c_[xy, np.ones(len(xy))] @ inv.T
        return p[:, :2] / p[:, 2:3]

    assert on_ink(plain).mean() < hits.mean() - 0.1


def test_the_bend_is_judged_over_the_lines_not_the_bare_margins(bent):
    """A page in a wide bare frame: the bend's polynomial, extrapolated into the
    frame, must not make it look too large to trust."""
    mm = bent.truth.px_per_mm
    inner = measure_curl(bent.image, px_per_mm=mm)
    pad = int(60 * mm)
    framed = np.pad(bent.image, ((pad, pad), (pad, pad), (0, 0)), constant_values=250)
    res = measure_curl(framed, px_per_mm=mm)
    assert inner.applied and res.applied, res
    assert res.shift_px < 1.25 * inner.shift_px


@pytest.mark.parametrize(("rotate_deg", "perspective", "seed"), [(-5.0, 0.01, 2), (6.0, 0.0, 4)])
def test_a_curled_page_tilted_on_a_scanners_lid_is_turned_then_straightened(
    page200, bent, rotate_deg, perspective, seed
):
    """No straight lines fit the bent lines and the lid hides the page's outline:
    the page is turned upright by its grid's angle before its bend is measured
    (5.9 and 1.3 dB before; 25.5 and 25.8 measured). (With Kaggle's and the
    lowest OpenCV, straight lines do fit the first: its perspective is undone,
    25.8 dB.)"""
    scan = distort(
        bent,
        rotate_deg=rotate_deg,
        perspective=perspective,
        background="lid",
        background_margin=0.1,
        seed=seed,
    )
    res = process_image_for_submission(scan.image)
    assert res.ok, res.error
    p = res.stage("perspective")
    assert p.reason in ("turned", "applied") and p.curl.applied
    truth = page200.truth
    assert score_leads(res.signals, truth.signals, truth.fs) > 24.4
    assert not res.suspect
