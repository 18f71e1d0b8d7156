"""The benchmark: structure of what `measure` returns and of the printed report.

Speed targets are measured by `ecgprep bench`, never asserted here.
"""

import io
import json
import math
import sys

import numpy as np
import pytest

from ecgprep.bench import BENCH_KINDS, BenchResult, measure, render_images, run_bench
from ecgprep.pipeline import STAGES


@pytest.fixture(scope="module")
def small_paths(tmp_path_factory):
    # two small renders (80 dpi: 880 x 680 px) keep the test fast
    return render_images(tmp_path_factory.mktemp("bench"), 2, dpi=80, seed=5, n_jobs=2)


@pytest.fixture(scope="module")
def result(small_paths):
    return measure(small_paths, repeats=1, max_jobs=2, images_per_job=1)


def test_render_images_writes_pngs_of_the_kinds(small_paths):
    assert [p.suffix for p in small_paths] == [".png", ".png"]
    assert [p.stem.split("_", 1)[1] for p in small_paths] == list(BENCH_KINDS[:2])
    assert all(p.stat().st_size > 1000 for p in small_paths)


def test_measure_structure(result, small_paths):
    assert isinstance(result, BenchResult)
    assert result.n_images == 2
    assert result.image_shape == (680, 880)
    assert set(result.stage_seconds) == set(STAGES)
    assert all(v > 0 for v in result.stage_seconds.values())
    assert result.decode_seconds > 0
    assert result.pipeline_seconds > result.decode_seconds  # the pipeline includes the decode
    assert result.pipeline_ratio > 1
    assert result.cpu_count >= 1
    assert {"numpy", "cv2", "skimage", "joblib"} <= set(result.versions)


def test_per_image_table(result, small_paths):
    pi = result.per_image
    assert list(pi["file"]) == [p.name for p in small_paths]
    assert {"decode_s", "pipeline_s", "ratio"} | {f"t_{s}" for s in STAGES} <= set(pi.columns)
    assert np.allclose(pi["ratio"], pi["pipeline_s"] / pi["decode_s"])
    assert (pi["ratio"] > 0).all()


def test_batch_table(result):
    b = result.batch
    assert list(b["n_jobs"]) == [1, 2]
    assert list(b["n_images"]) == [2, 2]
    assert (b["wall_s"] > 0).all()
    assert b["speedup"].iloc[0] == 1.0
    assert np.allclose(b["efficiency"], b["speedup"] / b["n_jobs"])
    assert (b["image_s"] > 0).all()
    assert ((b["busy"] > 0) & (b["busy"] <= 1.01)).all()
    assert result.efficiency == pytest.approx(b["efficiency"].iloc[1])
    assert result.max_jobs == 2


def test_memory_numbers(result):
    assert 1 <= len(result.worker_peak_rss_mb) <= 2
    assert result.pipeline_cpu_ratio > 1
    assert result.worker_cpu_seconds > 0
    assert result.cpu_slowdown > 0 and result.efficiency_estimate > 0
    assert len(result.load_average_end) == 3
    assert all(20 < v < 100_000 for v in result.worker_peak_rss_mb)
    assert 20 < result.parent_peak_rss_mb < 100_000


def test_report_and_dict(result):
    text = result.report()
    for needle in (
        "per-stage time",
        "pipeline / decode",
        "efficiency at 2 jobs",
        "peak RSS",
        "cores",
    ):
        assert needle in text
    for s in STAGES:
        assert f"  {s} " in text
    d = json.loads(json.dumps(result.to_dict()))
    assert d["n_images"] == 2
    assert set(d["targets"]) == {"pipeline_ratio", "efficiency", "worker_rss"}
    assert len(d["batch"]) == 2
    assert math.isclose(d["pipeline_ratio"], result.pipeline_ratio)


def test_run_bench_prints_and_returns_zero(small_paths):
    buf = io.StringIO()
    code = run_bench(repeats=1, max_jobs=1, images=small_paths[:1], images_per_job=1, file=buf)
    assert code == 0
    assert "pipeline / decode" in buf.getvalue()


@pytest.mark.parametrize(
    "kw", [{"repeats": 0}, {"max_jobs": 0}, {"images_per_job": 0}, {"images": []}]
)
def test_bad_arguments(kw):
    with pytest.raises(ValueError):
        measure(**{"images": ["unused.png"], **kw})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_memory_kept_measurement(result, small_paths):
    # timed in a fresh process with the allocator keeping memory: no page faults
    kept = result.per_image_kept
    assert kept is not None and list(kept["file"]) == [p.name for p in small_paths]
    assert np.allclose(kept["ratio"], kept["pipeline_s"] / kept["decode_s"])
    assert result.decode_seconds_kept > 0
    assert result.pipeline_seconds_kept > result.decode_seconds_kept
    assert result.pipeline_ratio_judged == max(result.pipeline_ratio, result.pipeline_ratio_kept)
    assert "allocator keeping memory" in result.report()
    assert result.reuse_memory  # the 2-job batches' loky workers kept freed memory
    assert math.isclose(result.to_dict()["pipeline_ratio_kept"], result.pipeline_ratio_kept)


def test_ratio_target_is_judged_on_the_larger_ratio(result):
    import dataclasses

    from ecgprep.bench import TARGET_RATIO

    low = dataclasses.replace(result, pipeline_ratio=1.0, pipeline_ratio_kept=TARGET_RATIO + 1)
    assert low.pipeline_ratio_judged == TARGET_RATIO + 1 and not low.targets()["pipeline_ratio"]
    both = dataclasses.replace(result, pipeline_ratio=1.0, pipeline_ratio_kept=2.0)
    assert both.targets()["pipeline_ratio"]
    unmeasured = dataclasses.replace(result, pipeline_ratio=6.0, pipeline_ratio_kept=float("nan"))
    assert unmeasured.pipeline_ratio_judged == 6.0 and not unmeasured.targets()["pipeline_ratio"]
