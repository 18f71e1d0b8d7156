"""The batch: order, isolation of failures, progress, determinism, worker deaths, Dask."""

import os
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ecgprep import notebook_process_batch, process_batch_for_submission, summary_frame
from ecgprep.synth import render_ecg


class WorkerKiller:
    """An 'image' that kills the worker process that unpickles it (fault injection)."""

    def __reduce__(self):
        return (os._exit, (13,))


@pytest.fixture(scope="module")
def paths(tmp_path_factory, synth_render):
    d = tmp_path_factory.mktemp("imgs")
    out = []
    for i, seed in enumerate((31, 5)):
        p = d / f"{10000 + i}.png"
        Image.fromarray(synth_render(seed=seed, dpi=150).image).save(p)
        out.append(p)
    bad = d / "20000.png"
    bad.write_bytes(b"this is not an image")
    out.insert(1, bad)
    return out


@pytest.fixture(scope="module")
def two_jobs(paths):
    return process_batch_for_submission(paths, n_jobs=2, progress=False)


@pytest.mark.slow
def test_order_kept_and_failure_isolated(paths, two_jobs):
    assert [r.image_id for r in two_jobs] == [p.stem for p in paths]
    assert [r.ok for r in two_jobs] == [True, False, True]
    bad = two_jobs[1]
    assert bad.failed_stage == "load" and "20000.png" in bad.error


@pytest.mark.slow
def test_same_results_for_one_and_two_jobs(paths, two_jobs):
    one = process_batch_for_submission(paths, n_jobs=1, progress=False)
    for a, b in zip(one, two_jobs, strict=True):
        assert a.ok == b.ok and a.error == b.error
        if a.ok:
            for lead in a.signals:
                assert np.array_equal(a.signals[lead].values, b.signals[lead].values)


@pytest.mark.slow
def test_summary_frame_columns(two_jobs):
    df = summary_frame(two_jobs)
    need = {
        "id",
        "ok",
        "error",
        "failed_stage",
        "quality_pass",
        "px_per_mm_x",
        "px_per_mm_y",
        "angle_deg",
        "sharpness",
        "contrast",
        "dpi",
        "t_load",
        "t_grid",
        "t_digitize",
        "layout",
        "paper_speed",
        "gain",
        "confidence",
        "suspect",
        "suspect_reasons",
        "bridged_ms_max",
    }
    assert need <= set(df.columns)
    # a clean render: a few ms bridged at row starts and separators; nothing for a failure
    assert 0 < df.loc[0, "bridged_ms_max"] < 60 and pd.isna(df.loc[1, "bridged_ms_max"])
    # The verdict: two clean renders trusted, the file that is not an image failed.
    assert df["suspect"].tolist() == [False, True, False]
    assert df.loc[1, "confidence"] == 0.0 and df.loc[1, "suspect_reasons"] == df.loc[1, "error"]
    assert (df.loc[[0, 2], "confidence"] > 0.5).all()
    # found on the page: the layout with its rhythm strip's lead, and the gain
    assert df.loc[0, "layout"] == "3x4+1:II" and df.loc[0, "gain"] == 10.0
    assert df.loc[0, "paper_speed"] == pytest.approx(25.0)
    assert list(df["id"]) == [r.image_id for r in two_jobs]
    assert df["ok"].tolist() == [True, False, True]
    assert df.loc[1, "error"] and df.loc[1, "failed_stage"] == "load"
    assert df.loc[0, "px_per_mm_x"] == pytest.approx(150 / 25.4, rel=0.01)
    assert two_jobs.summary.equals(df)
    assert "<table" in two_jobs._repr_html_()


def test_progress_counts_completed_images(paths, capsys):
    process_batch_for_submission(paths[:2], n_jobs=1, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err


def test_notebook_shorthand(paths):
    res = notebook_process_batch(paths[:1], n_jobs=1)
    assert len(res) == 1 and res[0].ok


def test_ids_must_match():
    with pytest.raises(ValueError, match="ids"):
        process_batch_for_submission([b"x", b"y"], ids=["a"], progress=False)


@pytest.mark.slow
def test_a_dying_worker_loses_no_image(paths):
    images = [paths[0], WorkerKiller(), paths[2]]
    res = process_batch_for_submission(images, n_jobs=2, progress=False)
    assert len(res) == 3
    assert res[0].ok and res[2].ok
    assert not res[1].ok and res[1].failed_stage == "worker"
    assert "died" in res[1].error


# dask.distributed leaves sockets for the garbage collector when a cluster closes,
# and joblib's dask backend calls dask APIs that some dask releases deprecate.
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_dask_backend_gives_the_same_results(paths, two_jobs):
    distributed = pytest.importorskip("dask.distributed")
    import joblib

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cl,
        distributed.Client(cl),
        joblib.parallel_config(backend="dask"),
    ):
        res = process_batch_for_submission(paths, progress=False)
    assert [r.image_id for r in res] == [r.image_id for r in two_jobs]
    assert [r.ok for r in res] == [True, False, True]
    assert np.array_equal(res[0].signals["II"].values, two_jobs[0].signals["II"].values)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_ray_backend_gives_the_same_results(paths, two_jobs):
    ray = pytest.importorskip("ray")
    import joblib
    from ray.util.joblib import register_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()
        with joblib.parallel_config(backend="ray"):
            res = process_batch_for_submission(paths, progress=False)
    finally:
        ray.shutdown()
    assert [r.image_id for r in res] == [r.image_id for r in two_jobs]
    assert [r.ok for r in res] == [True, False, True]
    assert np.array_equal(res[0].signals["II"].values, two_jobs[0].signals["II"].values)


def test_loky_workers_are_recognised_as_the_batchs_own():
    import joblib

    from ecgprep.batch import _own_workers

    assert _own_workers() == os.getpid()  # joblib's default: loky processes
    with joblib.parallel_config(backend="threading"):
        assert _own_workers() is None  # threads share the caller's process


@pytest.mark.parametrize(
    "pid_offset, reuse, called",
    [(None, True, False), (0, True, False), (1, True, True), (1, False, False)],
)
def test_worker_keeps_memory_only_in_another_process(monkeypatch, pid_offset, reuse, called):
    # The allocator is left alone in the caller's process (n_jobs=1 runs there)
    # and when the option is off; a loky worker asks once.
    from ecgprep import _memory
    from ecgprep.batch import _worker

    calls = []
    monkeypatch.setattr(_memory, "keep_freed_memory_once", lambda: calls.append(1) or True)
    parent = None if pid_offset is None else os.getpid() + pid_offset
    img = render_ecg(seed=2, dpi=60).image
    index, res = _worker(3, img, "x", {"reuse_memory": reuse}, parent)
    assert index == 3 and res.image_id == "x"
    assert bool(calls) == called


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_in_a_fresh_process():
    import subprocess

    code = "from ecgprep._memory import keep_freed_memory as k; print(k())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("n_jobs", [0, True, False, 2.0, "4", [2]])
def test_bad_n_jobs_is_refused_before_any_work(monkeypatch, paths, n_jobs):
    from ecgprep import batch
    from ecgprep.errors import OptionsError

    def no_work(*args, **kwargs):
        raise AssertionError("the batch ran")

    monkeypatch.setattr(batch, "_run", no_work)
    with pytest.raises(OptionsError, match="n_jobs"):
        process_batch_for_submission(paths, n_jobs=n_jobs, progress=False)
    with pytest.raises(ValueError, match="n_jobs"):  # OptionsError is a ValueError
        process_batch_for_submission([], n_jobs=n_jobs, progress=False)


@pytest.mark.parametrize(
    "n_jobs, n_images, expected",
    [(64, 24, 24), (3, 5, 3), (5, 5, 5), (64, 1, 2), (1, 1, 1), (1, 50, 1), (8, 0, 8)],
)
def test_workers_never_outnumber_images(n_jobs, n_images, expected):
    from ecgprep.batch import _capped_n_jobs

    assert _capped_n_jobs(n_jobs, n_images) == expected


def test_all_cores_resolve_to_the_cpu_count_then_cap():
    from joblib import cpu_count

    from ecgprep.batch import _capped_n_jobs

    assert _capped_n_jobs(-1, 10**6) == -1  # fewer cores than images: joblib's own -1
    n = cpu_count()
    if n > 2:
        assert _capped_n_jobs(-1, 2) == 2


def test_batch_asks_joblib_for_no_more_workers_than_images(monkeypatch, paths):
    from ecgprep import batch

    asked = []

    def run(tasks, opts, n_jobs, on_done):
        asked.append(n_jobs)
        return {t[0]: batch._failed_in_worker(t, RuntimeError("x"), None) for t in tasks}, None

    monkeypatch.setattr(batch, "_run", run)
    res = process_batch_for_submission(paths, n_jobs=64, progress=False)
    assert len(res) == len(paths) and asked == [len(paths)]
