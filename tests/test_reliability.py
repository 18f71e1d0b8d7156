"""Batches that survive their workers, give the same bytes every time, and stay small."""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import sys
import threading

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ecgprep import process_batch_for_submission, submission_frame, summary_frame, write_submission
from ecgprep.submission import LEADS
from ecgprep.synth import distort

pytestmark = pytest.mark.slow  # worker processes, faults and memory over whole batches


class KillSelf:
    """An 'image' whose unpickling SIGKILLs the worker process (fault injection)."""

    def __reduce__(self):
        return (eval, ("__import__('os').kill(__import__('os').getpid(), 9)",))


class Segfault:
    """An 'image' whose unpickling reads address 0 in native code: SIGSEGV in the worker."""

    def __reduce__(self):
        return (ctypes.string_at, (0,))


class FailsToUnpickle:
    """An 'image' whose unpickling raises in the worker."""

    def __reduce__(self):
        return (int, ("not a number",))


FAULTS = {
    "sigkill": (KillSelf, "died"),
    "segfault": (Segfault, "died"),
    "unpickling-error": (FailsToUnpickle, "could not be processed in a worker"),
    "unpicklable": (threading.Lock, "could not be processed in a worker"),
}


@pytest.fixture(scope="module")
def paths(tmp_path_factory, synth_render):
    d = tmp_path_factory.mktemp("reliability")
    renders = [  # the shared 150 dpi pages (test_batch, test_bad_input)
        synth_render(dpi=150, seed=31).image,
        distort(synth_render(dpi=150, seed=5), rotate_deg=2.0, noise_std=3.0, seed=62).image,
        np.ascontiguousarray(np.rot90(synth_render(dpi=150, seed=5).image, 2)),
    ]
    out = []
    for i, img in enumerate(renders):
        p = d / f"{300 + i}.png"
        Image.fromarray(img).save(p)
        out.append(p)
    return out


def _run_with_deadline(fn, seconds: float):
    """Run ``fn`` in a daemon thread; fail (not hang) if it takes longer than ``seconds``."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            box["error"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(seconds)
    if th.is_alive():
        pytest.fail(f"the batch did not finish within {seconds} s (hang)")
    if "error" in box:
        raise box["error"]
    return box["value"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_worker_fault_loses_no_image(fault, paths):
    make, word = FAULTS[fault]
    images = [paths[0], make(), paths[1]]
    res = _run_with_deadline(
        lambda: process_batch_for_submission(images, n_jobs=2, progress=False), 120
    )
    assert len(res) == 3  # lost = 0
    assert [r.image_id for r in res] == [paths[0].stem, "image1", paths[1].stem]
    assert res[0].ok and res[2].ok, (res[0].error, res[2].error)
    bad = res[1]
    assert not bad.ok and bad.failed_stage == "worker"
    assert bad.attempts == 2  # retried once, alone
    assert word in bad.error and bad.error.startswith(f"<{type(images[1]).__name__}>: ")
    assert all(r.attempts in (1, 2) for r in res)
    df = summary_frame(res)
    assert df["attempts"].tolist() == [r.attempts for r in res]
    assert df.loc[1, "failed_stage"] == "worker" and word in df.loc[1, "error"]


def _submission_bytes(results, test, path) -> bytes:
    write_submission(submission_frame(results, test), path)
    return path.read_bytes()


def test_same_bytes_across_runs_and_n_jobs(paths, tmp_path):
    ids = [p.stem for p in paths]
    rates = (500.0, 250.0, 512.0)  # one per image, as test.csv may ask
    rows = [
        (i, lead, fs, int((10.0 if lead == "II" else 2.5) * fs))
        for i, fs in zip(ids, rates, strict=True)
        for lead in LEADS
    ]
    test = pd.DataFrame(rows, columns=["id", "lead", "fs", "number_of_rows"])
    one_a = process_batch_for_submission(paths, n_jobs=1, progress=False)
    one_b = process_batch_for_submission(paths, n_jobs=1, progress=False)
    two = process_batch_for_submission(paths, n_jobs=2, progress=False)
    assert all(r.ok for r in two), [r.error for r in two]
    assert two[2].quarter_turns == 2  # the upside-down page was turned
    a = _submission_bytes(one_a, test, tmp_path / "a.csv")
    b = _submission_bytes(one_b, test, tmp_path / "b.csv")
    c = _submission_bytes(two, test, tmp_path / "c.csv")
    assert len(a) > 100_000
    assert a == b, "two runs with n_jobs=1 differ"
    assert a == c, "n_jobs=1 and n_jobs=2 differ"
    # The signals themselves, not only their 4-decimal rendering, agree bit for bit.
    for x, y in zip(one_a, two, strict=True):
        for lead in LEADS:
            assert np.array_equal(x.signals[lead].values, y.signals[lead].values)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_results_are_small(paths):
    res = process_batch_for_submission(paths[:1], n_jobs=1, progress=False)
    assert res[0].ok
    assert len(pickle.dumps(res[0])) < 400_000  # 12 signals and small stage results, no image


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_parent_memory_does_not_grow_with_the_batch(paths):
    # Results of 40 images weigh about 40 x 160 kB; anything that kept images
    # (or masks) in the parent would add megabytes per image.
    small = process_batch_for_submission([paths[0]] * 10, n_jobs=2, progress=False)
    gc.collect()
    before = _rss_bytes()
    big = process_batch_for_submission([paths[0]] * 40, n_jobs=2, progress=False)
    gc.collect()
    grown = _rss_bytes() - before
    assert all(r.ok for r in big) and len(small) == 10
    assert grown < 50 * 2**20, f"parent grew by {grown / 2**20:.0f} MB for 30 more images"
