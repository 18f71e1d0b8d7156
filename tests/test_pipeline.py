"""The whole road on one image: renders with exact truth, and images that must fail well."""

import pickle

import numpy as np
import pytest

from ecgprep import process_image_for_submission
from ecgprep.metrics import score_leads
from ecgprep.pipeline import STAGES
from ecgprep.synth import distort, render_ecg


def _score_db(render, result):
    return score_leads(result.signals, render.truth.signals, render.truth.fs)


@pytest.fixture(scope="module")
def clean():
    r = render_ecg(seed=21)
    return r, process_image_for_submission(r.image, image_id="clean")


def test_clean_render_digitized(clean):
    r, res = clean
    assert res.ok, res.error
    assert res.image_id == "clean"
    assert [s.name for s in res.stages] == list(STAGES)
    assert all(s.seconds >= 0 for s in res.stages)
    assert len(res.signals) == 12
    assert _score_db(r, res) > 15.0


def test_grid_and_quality_recorded(clean):
    r, res = clean
    g = res.stage("grid")
    assert g.px_per_mm_x == pytest.approx(r.truth.px_per_mm, rel=0.01)
    assert res.quality_pass is True


def test_result_is_small_and_picklable(clean):
    _, res = clean
    blob = pickle.dumps(res)
    assert len(blob) < 400_000  # 12 signals + small stage results, no images
    back = pickle.loads(blob)
    assert back.image_id == res.image_id and np.array_equal(
        back.signals["II"].values, res.signals["II"].values
    )


def test_rotated_render_is_deskewed():
    r = distort(render_ecg(seed=22), rotate_deg=3.0, seed=22)
    res = process_image_for_submission(r.image)
    assert res.ok, res.error
    assert res.stage("deskew").angle_deg == pytest.approx(3.0, abs=0.2)
    assert _score_db(r, res) > 12.0


def test_garbage_bytes_fail_at_load():
    res = process_image_for_submission(b"definitely not a png")
    assert not res.ok
    assert res.failed_stage == "load"
    assert "not a recognised image" in res.error and "bytes" in res.error


def test_missing_file_names_path(tmp_path):
    p = tmp_path / "nope.png"
    res = process_image_for_submission(p)
    assert not res.ok and res.failed_stage == "load"
    assert str(p) in res.error and res.image_id == "nope"


def test_blank_page_fails_with_reason():
    res = process_image_for_submission(np.full((850, 1100, 3), 255, np.uint8))
    assert not res.ok
    assert res.failed_stage in ("grid", "digitize")
    assert "grid" in res.error or "rows" in res.error
    # What the stages warned about is kept with the result, not printed.
    assert any("colors" in w for w in res.warnings)


def test_bad_options_raise_at_once():
    with pytest.raises(ValueError, match="edge_method"):
        process_image_for_submission(np.zeros((10, 10), np.uint8), {"edge_method": "magic"})


@pytest.mark.parametrize("perspective", [0.05, 0.1])
def test_photo_filling_the_frame_in_perspective(perspective):
    # No background: the page's outline cannot be used, the grid's lines must.
    r = distort(
        render_ecg(seed=41), perspective=perspective, background=None, rotate_deg=2.0, seed=3
    )
    res = process_image_for_submission(r.image)
    assert res.ok, res.error
    assert res.stage("perspective").applied
    assert _score_db(r, res) > 15.0


def test_photo_on_a_background_in_perspective():
    r = distort(render_ecg(seed=42), perspective=0.1, background="dark", rotate_deg=-3.0, seed=4)
    res = process_image_for_submission(r.image)
    assert res.ok, res.error
    assert res.stage("edges").rectified
    assert _score_db(r, res) > 15.0
