"""The benchmark script ``benchmarks/bench.py``: structure of a tiny run and of its report.

The script lives beside the package, not in the wheel; it is imported here from its
file. Speed is what the script measures, never asserted here.
"""

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from ecgprep.cli import main as ecgprep_main
from ecgprep.pipeline import STAGES

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    # Imported under the name "bench" with its folder on sys.path, so that the
    # helper processes it starts (spawn, loky) can import its functions too. Loky
    # workers started by earlier tests have the old sys.path: end them, so that the
    # benchmark's batches start workers that can import "bench" (run as a script,
    # its functions travel by value instead).
    from joblib.externals.loky import get_reusable_executor

    folder = str(SCRIPT.parent)
    sys.path.insert(0, folder)
    get_reusable_executor().shutdown(wait=True)
    spec = importlib.util.spec_from_file_location("bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("bench", None)
        sys.path.remove(folder)


@pytest.fixture(scope="module")
def small_paths(bench, tmp_path_factory):
    # two small renders (80 dpi: 880 x 680 px) keep the test fast
    return bench.render_images(tmp_path_factory.mktemp("bench"), 2, dpi=80, seed=5, n_jobs=2)


@pytest.fixture(scope="module")
def result(bench, small_paths):
    return bench.measure(small_paths, repeats=1, jobs=2)


def test_the_wheel_has_no_bench_command(capsys):
    with pytest.raises(SystemExit) as exc:
        ecgprep_main(["bench"])
    assert exc.value.code == 2
    assert "invalid choice: 'bench'" in capsys.readouterr().err


@pytest.mark.slow
def test_render_images_writes_pngs_of_the_kinds(bench, small_paths):
    assert [p.suffix for p in small_paths] == [".png", ".png"]
    assert [p.stem.split("_", 1)[1] for p in small_paths] == list(bench.BENCH_KINDS[:2])
    assert all(p.stat().st_size > 1000 for p in small_paths)


@pytest.mark.slow
def test_measure_structure(bench, result, small_paths):
    assert isinstance(result, bench.BenchResult)
    assert result.n_images == 2 and result.kinds == ("file", "file")
    assert result.image_shape == (680, 880)
    assert set(result.stage_seconds) == set(STAGES)
    assert all(np.isfinite(v) for v in result.stage_seconds.values())
    assert np.isfinite(result.imread_seconds) and np.isfinite(result.pipeline_seconds)
    assert result.n_failed == 0
    assert {"numpy", "cv2", "skimage", "joblib", "ecgprep"} <= set(result.versions)


@pytest.mark.slow
def test_per_image_table_holds_the_headline(result, small_paths):
    pi = result.per_image
    assert list(pi["file"]) == [p.name for p in small_paths]
    assert {"imread_s", "pipeline_s", "ratio"} | {f"t_{s}" for s in STAGES} <= set(pi.columns)
    assert np.allclose(pi["ratio"], pi["pipeline_s"] / pi["imread_s"])
    assert result.ratio == pytest.approx(float(np.median(pi["ratio"])))
    assert result.pipeline_seconds == pytest.approx(float(np.median(pi["pipeline_s"])))


@pytest.mark.slow
def test_batch_table_and_memory(result):
    b = result.batch
    assert list(b["n_jobs"]) == [1, 2]
    assert list(b["n_images"]) == [8, 8]  # four images per worker, the two files cycled
    assert (b["wall_s"] > 0).all()
    assert b["speedup"].iloc[0] == 1.0
    assert np.allclose(b["speedup"], b["wall_s"].iloc[0] / b["wall_s"])
    assert np.allclose(b["efficiency"], b["speedup"] / b["n_jobs"])
    assert result.jobs == 2 and result.efficiency == pytest.approx(result.speedup / 2)
    assert 1 <= len(result.worker_peak_rss_mb) <= 2
    assert all(20 < v < 100_000 for v in result.worker_peak_rss_mb)


@pytest.mark.slow
def test_report_and_dict(result):
    text = result.report()
    for needle in (
        "pipeline / cv2.imread:",
        "target <= 5x",
        "per-stage time",
        "speedup with 2 jobs over 1",
        "peak RSS per worker",
        "cores",
    ):
        assert needle in text, needle
    assert "judged" not in text  # the old two-ratio scheme is gone
    for s in STAGES:
        assert f"\n  {s} " in text
    d = json.loads(json.dumps(result.to_dict()))
    assert d["n_images"] == 2 and len(d["batch"]) == 2 and len(d["per_image"]) == 2
    assert set(d["targets"]) == {"ratio", "efficiency", "worker_rss"}
    assert math.isclose(d["ratio"], result.ratio)


@pytest.mark.slow
def test_targets_follow_the_numbers(bench, result):
    import dataclasses

    over = dataclasses.replace(result, ratio=bench.TARGET_RATIO + 0.01)
    assert not over.targets()["ratio"] and "NOT MET" in over.report()
    under = dataclasses.replace(result, ratio=bench.TARGET_RATIO)
    assert under.targets()["ratio"]


@pytest.mark.slow
def test_script_main_with_one_job(bench, small_paths, tmp_path, capsys):
    out = tmp_path / "b.json"
    argv = ["--files", str(small_paths[0]), "--repeats", "1", "--jobs", "1", "--json", str(out)]
    assert bench.main(argv) == 0
    text = capsys.readouterr().out
    assert "pipeline / cv2.imread:" in text and "speedup with 1 jobs over 1: 1.00x" in text
    d = json.loads(out.read_text())
    assert [r["n_jobs"] for r in d["batch"]] == [1]
    assert len(d["worker_peak_rss_mb"]) == 1  # this process, which ran the batch


@pytest.mark.parametrize(
    "kw", [{"repeats": 0}, {"jobs": 0}, {"n_images": 0}, {"files": []}, {"repeats": 1.5}]
)
def test_bad_arguments(bench, kw):
    with pytest.raises(ValueError):
        bench.measure(**{"files": ["unused.png"], **kw})


def test_unreadable_file_is_one_line_and_exit_2(bench, tmp_path, capsys):
    bad = tmp_path / "not-an-image.png"
    bad.write_text("hello")
    assert bench.main(["--files", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err
