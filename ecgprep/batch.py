"""Many images through the pipeline, in parallel, losing none.

:func:`process_batch_for_submission` maps the pipeline over images with joblib
``Parallel``: loky processes by default, or whatever backend the caller chose with
``joblib.parallel_config`` (``"dask"`` with a ``dask.distributed`` client, Ray's
joblib backend, threads...). Paths travel to the workers and small results travel
back. Results come back in input order; a tqdm bar counts completed images; an
image that fails gives one failed :class:`~ecgprep.pipeline.ImageResult` and the
others go on; a worker process that dies (a crash in native code, a kill signal,
running out of memory) loses no image: the images it may have held are retried
once, each alone, and reported failed (``failed_stage='worker'``) if that dies
too; the others go on in parallel. ``ImageResult.attempts`` counts the tries.
A source that cannot be sent to a worker (not picklable) fails the same way,
alone. The batch itself raises only for the caller's mistakes (bad options,
``ids`` of the wrong length, a broken joblib backend configuration).
"""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import OptionsError
from .io import describe_source, image_id_of
from .options import Options, as_options
from .pipeline import STAGES, ImageResult, process_image_for_submission
from .verdict import verdict_of

__all__ = [
    "BatchResults",
    "process_batch_for_submission",
    "summary_frame",
    "notebook_process_batch",
]


class BatchResults(list):
    """A list of :class:`~ecgprep.pipeline.ImageResult` in input order, with helpers.

    ``.summary`` is :func:`summary_frame` of the results; in a notebook the object
    shows as that table.
    """

    @property
    def summary(self) -> pd.DataFrame:
        return summary_frame(self)

    @property
    def n_failed(self) -> int:
        return sum(not r.ok for r in self)

    def _repr_html_(self) -> str:
        return self.summary._repr_html_()


def _worker(
    index: int, source: Any, image_id: str, options: dict, parent_pid: int | None = None
) -> tuple[int, ImageResult]:
    """Runs inside a worker: cap OpenCV's own threads, then process one image.

    ``parent_pid`` is the batch's process when the workers are loky's: a worker
    in another process then keeps freed memory for its next image (see
    ``Options.reuse_memory``).
    """
    import cv2

    if parent_pid is not None and os.getpid() != parent_pid and options.get("reuse_memory", True):
        from ._memory import keep_freed_memory_once

        keep_freed_memory_once()
    threads = int(options.get("opencv_threads", 1))
    old = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        return index, process_image_for_submission(source, options, image_id=image_id)
    finally:
        cv2.setNumThreads(old)


def _own_workers() -> int | None:
    """This process's id when the active joblib backend is loky (processes that exist
    for joblib), else None: other backends' workers (Dask, Ray) manage their memory."""
    try:
        from joblib.parallel import get_active_backend

        backend = get_active_backend()[0]
    except Exception:  # noqa: BLE001 - a joblib without it: leave memory alone
        return None
    return os.getpid() if type(backend).__name__ == "LokyBackend" else None


def _worker_died(exc: BaseException) -> bool:
    """True for the errors joblib raises when a worker process vanished."""
    name = type(exc).__name__
    return name in {
        "TerminatedWorkerError",
        "BrokenProcessPool",
        "WorkerLostError",
        "KilledWorkerError",
    } or (
        "worker" in str(exc).lower()
        and ("died" in str(exc).lower() or "terminated" in str(exc).lower())
    )


def _run(
    tasks: list[tuple[int, Any, str]], opts: dict, n_jobs: int | None, on_done
) -> tuple[dict, BaseException | None]:
    """One Parallel pass; returns the results it got and the error that ended it early, if any.

    Tasks are dispatched one at a time, in order, at most ``2 * n_jobs`` ahead of
    the results (joblib's ``pre_dispatch``), so when a pass breaks the images that
    were in flight are among the first missing ones.
    """
    from joblib import Parallel, delayed

    got: dict[int, ImageResult] = {}
    # Built outside the try: a bad backend configuration is the caller's error.
    # Results as they complete where the backend can (loky, dask, threads).
    # "generator_unordered" needs joblib >= 1.4 (the bound in pyproject.toml): the
    # ValueError below is a backend that refuses it, not an older joblib.
    try:
        par = Parallel(
            n_jobs=n_jobs, return_as="generator_unordered", batch_size=1, pre_dispatch="2*n_jobs"
        )
    except ValueError as exc:
        if "return_as" not in str(exc):
            raise
        par = None
    if par is None:
        # Ray's joblib backend returns only whole lists: run in chunks of a few
        # images per worker so the bar still moves and a failure loses one chunk.
        return _run_chunked(tasks, opts, n_jobs, on_done)
    try:
        own = _own_workers()
        for index, res in par(delayed(_worker)(i, src, iid, opts, own) for i, src, iid in tasks):
            got[index] = res
            on_done()
    except Exception as exc:  # noqa: BLE001 - a dead worker, or a source that cannot travel
        return got, exc
    return got, None


def _run_chunked(
    tasks: list[tuple[int, Any, str]], opts: dict, n_jobs: int | None, on_done
) -> tuple[dict, BaseException | None]:
    """As :func:`_run`, for backends whose Parallel returns only a whole list."""
    from joblib import Parallel, delayed

    got: dict[int, ImageResult] = {}
    par = Parallel(n_jobs=n_jobs, batch_size=1)
    step = 2 * max(int(getattr(par, "n_jobs", 1) or 1), 1)
    for start in range(0, len(tasks), step):
        chunk = tasks[start : start + step]
        try:
            out = par(delayed(_worker)(i, src, iid, opts, None) for i, src, iid in chunk)
        except Exception as exc:  # noqa: BLE001 - as in _run
            return got, exc
        for index, res in out:
            got[index] = res
            on_done()
    return got, None


def _check_n_jobs(n_jobs: Any) -> int | None:
    """``n_jobs`` as joblib takes it, or :class:`~ecgprep.errors.OptionsError`.

    A whole number other than 0 (``-1``: all cores, ``-2``: all but one...) or
    ``None`` (as ``joblib.parallel_config`` says). ``0``, ``True``, ``2.0`` or
    ``"4"`` are the caller's mistakes, refused before any work.

    Examples
    --------
    >>> _check_n_jobs(-1), _check_n_jobs(None)
    (-1, None)
    >>> _check_n_jobs(0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecgprep.errors.OptionsError: n_jobs must be a number of workers (...) or None, got 0
    """
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise OptionsError(
            "n_jobs must be a number of workers (1, 2, ...; -1: all cores; -2: all but one) "
            f"or None, got {n_jobs!r}"
        )
    return int(n_jobs)


def _capped_n_jobs(n_jobs: int | None, n_images: int) -> int | None:
    """``n_jobs`` with no more workers than images.

    ``-1`` and the like resolve as joblib does (the cpu count, or the active
    backend's own count). A caller who asked for more than one worker keeps at
    least two: joblib runs ``n_jobs=1`` in the calling process, and a crash in
    native code must end a worker, not the caller.
    """
    from joblib import effective_n_jobs

    if n_images < 1:
        return n_jobs
    try:
        resolved = int(effective_n_jobs(n_jobs))
    except Exception:  # noqa: BLE001 - a backend that cannot say: leave it to joblib
        return n_jobs
    if resolved <= n_images:
        return n_jobs
    return max(n_images, 2)


def _in_flight(n_jobs: int | None) -> int:
    """How many tasks a pass may have had in flight when it broke (``pre_dispatch``)."""
    from joblib import effective_n_jobs

    try:
        n = int(effective_n_jobs(n_jobs))
    except Exception:  # noqa: BLE001 - unknown backends: a safe guess
        n = os.cpu_count() or 1
    return 2 * max(n, 1)


def _failed_in_worker(
    task: tuple[int, Any, str], first: BaseException, again: BaseException | None
) -> ImageResult:
    i, src, iid = task
    name = describe_source(src)
    exc = again if again is not None else first
    text = str(exc).lower()
    travel = "serializ" in text or "pickl" in text
    if _worker_died(exc) and not travel:
        why = (
            "the worker process died while processing this image, and again when it was "
            "retried alone (a crash in native code, a kill signal or running out of memory)"
        )
    else:
        why = (
            "could not be processed in a worker process, twice (expected a picklable image source)"
        )
    return ImageResult(
        image_id=iid,
        source=name,
        ok=False,
        error=f"{name}: {why}: {type(exc).__name__}: {exc}",
        failed_stage="worker",
        attempts=2,
    )


def process_batch_for_submission(
    images: Iterable[Any],
    options: Options | Mapping[str, Any] | None = None,
    *,
    n_jobs: int | None = -1,
    progress: bool = True,
    ids: Sequence[str] | None = None,
) -> BatchResults:
    """Process many images in parallel.

    Parameters
    ----------
    images : iterable of path, bytes, PIL image or ndarray
        The ECG images. Paths are best: they travel to workers cheaply.
    options : Options or dict, optional
        Pipeline options (validated once, here).
    n_jobs : int or None
        Workers (``-1``: all cores; ``-2``: all but one; ``None``: as
        ``joblib.parallel_config`` says). Never more workers than images (but two
        for one image, so that it still runs in a worker process, unless
        ``n_jobs=1``).
    progress : bool
        Show a tqdm bar counting completed images.
    ids : sequence of str, optional
        Image ids (default: file stems, else ``image{index}``).

    Raises
    ------
    OptionsError
        Bad options, or ``n_jobs`` that is 0 or not a whole number (before any work).
    ValueError
        ``ids`` of the wrong length.

    Returns
    -------
    BatchResults
        One :class:`~ecgprep.pipeline.ImageResult` per image, in input order.

    Notes
    -----
    The backend is joblib's default (loky processes) unless the caller chose
    another::

        from dask.distributed import Client
        import joblib
        client = Client(...)  # a Dask cluster
        with joblib.parallel_config(backend="dask"):
            results = process_batch_for_submission(paths)
    """
    from tqdm.auto import tqdm

    opts = as_options(options).to_dict()
    n_jobs = _check_n_jobs(n_jobs)
    sources = list(images)
    if ids is not None and len(ids) != len(sources):
        raise ValueError(f"ids has {len(ids)} entries but there are {len(sources)} images")
    n_jobs = _capped_n_jobs(n_jobs, len(sources))
    tasks = [
        (
            i,
            os.fspath(s) if isinstance(s, os.PathLike) else s,
            str(ids[i]) if ids is not None else image_id_of(s, i),
        )
        for i, s in enumerate(sources)
    ]
    results: dict[int, ImageResult] = {}
    bar = tqdm(total=len(tasks), desc="ecgprep", unit="img", disable=not progress)
    alone_jobs = 2 if n_jobs == 1 else n_jobs  # a retry runs in a worker process, never in ours
    pending = tasks
    try:
        while pending:
            got, broke = _run(pending, opts, n_jobs, lambda: bar.update(1))
            results.update(got)
            missing = [t for t in pending if t[0] not in got]
            if broke is None or not missing:
                # Not expected: a pass that ended without error returned everything.
                for t in missing:
                    results[t[0]] = _failed_in_worker(t, RuntimeError("no result came back"), None)
                    bar.update(1)
                break
            # The pass broke (a worker died, or a task could not travel). The images
            # in flight were the first missing ones: retry each of those alone, once;
            # the rest had not been sent yet and go on in parallel.
            n = _in_flight(n_jobs)
            suspects, pending = missing[:n], missing[n:]
            for task in suspects:
                again, broke2 = _run([task], opts, alone_jobs, lambda: bar.update(1))
                if task[0] in again:
                    results[task[0]] = dataclasses.replace(again[task[0]], attempts=2)
                else:
                    results[task[0]] = _failed_in_worker(task, broke, broke2)
                    bar.update(1)
    finally:
        bar.close()
    return BatchResults(results[i] for i in range(len(tasks)))


def _spans_ms(dig: Any, name: str) -> float | None:
    """Milliseconds of a digitize record's ``filled`` or ``mended`` spans, summed."""
    if dig is None:
        return None
    return 1000.0 * float(sum(b - a for _, spans in getattr(dig, name, ()) for a, b in spans))


def summary_frame(results: Iterable[ImageResult]) -> pd.DataFrame:
    """One row per image, in input order.

    Columns: ``id, source, ok, error, failed_stage, attempts, confidence, suspect,
    suspect_reasons, layout, paper_speed, gain, quality_pass, quality_reasons,
    sharpness, contrast, dpi, px_per_mm_x, px_per_mm_y, angle_deg, quarter_turns,
    grid_confidence, paper_found, perspective_applied, pulses_found, bridged_ms_max,
    filled_ms, mended_ms, height, width, seconds`` and ``t_<stage>`` (seconds) for
    every stage of :data:`ecgprep.pipeline.STAGES`.

    ``bridged_ms_max`` is the most any lead had bridged rather than read
    (:attr:`ecgprep.signals.LeadSignal.bridged_s`, in ms). ``filled_ms`` and
    ``mended_ms`` are the time, summed over the leads, that was not read from
    ink of its own but filled from the lead's own beats or mended by Einthoven's
    law (:attr:`ecgprep.digitize.Digitization.filled`, ``.mended``, in ms).

    ``confidence``, ``suspect`` and ``suspect_reasons`` (joined by ``"; "``) are the
    verdict (:mod:`ecgprep.verdict`): a failed image has confidence 0, is suspect,
    and its error is the reason. ``layout``, ``paper_speed`` (mm/s) and ``gain``
    (mm/mV) are what the leads were read with (empty for a failed image).
    """
    rows = []
    for r in results:
        v = verdict_of(r)
        q = r.stage("quality")
        g = r.stage("grid")
        d = r.stage("deskew")
        e = r.stage("edges")
        dig = r.stage("digitize")
        row = {
            "id": r.image_id,
            "source": r.source,
            "ok": bool(r.ok),
            "error": r.error,
            "failed_stage": r.failed_stage,
            "attempts": int(getattr(r, "attempts", 1)),
            "confidence": v.confidence,
            "suspect": v.suspect,
            "suspect_reasons": "; ".join(v.reasons),
            "layout": v.layout,
            "paper_speed": v.paper_speed,
            "gain": v.gain,
            "quality_pass": None if q is None else bool(q.passed),
            "quality_reasons": None if q is None else "; ".join(q.reasons),
            "sharpness": None if q is None else float(q.sharpness),
            "contrast": None if q is None else float(q.contrast),
            "dpi": None if q is None or q.dpi is None else float(q.dpi),
            "px_per_mm_x": None if g is None else float(g.px_per_mm_x),
            "px_per_mm_y": None if g is None else float(g.px_per_mm_y),
            "angle_deg": None if d is None else float(d.angle_deg),
            "quarter_turns": r.quarter_turns,
            "grid_confidence": None if g is None else float(g.confidence),
            "paper_found": None if e is None else bool(e.paper.found),
            "perspective_applied": None
            if r.stage("perspective") is None
            else bool(r.stage("perspective").applied),
            "pulses_found": None if dig is None else int(sum(p.found for p in dig.pulses)),
            "bridged_ms_max": (
                max(1000.0 * float(getattr(s, "bridged_s", 0.0)) for s in r.signals.values())
                if r.signals
                else None
            ),
            "filled_ms": _spans_ms(dig, "filled"),
            "mended_ms": _spans_ms(dig, "mended"),
            "height": r.shape[0] if len(r.shape) == 2 else None,
            "width": r.shape[1] if len(r.shape) == 2 else None,
            "seconds": r.seconds,
        }
        times = {rec.name: rec.seconds for rec in r.stages}
        for s in STAGES:
            row[f"t_{s}"] = times.get(s)
        rows.append(row)
    cols = [
        "id",
        "source",
        "ok",
        "error",
        "failed_stage",
        "attempts",
        "confidence",
        "suspect",
        "suspect_reasons",
        "layout",
        "paper_speed",
        "gain",
        "quality_pass",
        "quality_reasons",
        "sharpness",
        "contrast",
        "dpi",
        "px_per_mm_x",
        "px_per_mm_y",
        "angle_deg",
        "quarter_turns",
        "grid_confidence",
        "paper_found",
        "perspective_applied",
        "pulses_found",
        "bridged_ms_max",
        "filled_ms",
        "mended_ms",
        "height",
        "width",
        "seconds",
    ]
    cols += [f"t_{s}" for s in STAGES]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("quality_pass", "paper_found", "perspective_applied"):
        df[c] = df[c].astype("boolean")
    df["attempts"] = df["attempts"].astype(np.int64)
    df["suspect"] = df["suspect"].astype(bool)
    for c in ("confidence", "paper_speed", "gain"):
        df[c] = df[c].astype(np.float64)
    df["quarter_turns"] = df["quarter_turns"].astype("Int64")
    return df


def notebook_process_batch(
    image_paths: Iterable[Any],
    options: Options | Mapping[str, Any] | None = None,
    *,
    n_jobs: int | None = -1,
) -> BatchResults:
    """Notebook shorthand: all cores, a progress bar, results that display as a table.

    Parameters
    ----------
    image_paths : iterable of str or os.PathLike
        Image files (a folder's ``glob`` for instance).
    options : Options or dict, optional
    n_jobs : int or None

    Returns
    -------
    BatchResults
        Displays as the per-image summary; ``.summary`` gives the DataFrame.
    """
    return process_batch_for_submission(list(image_paths), options, n_jobs=n_jobs, progress=True)
