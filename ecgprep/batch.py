"""Many images through the pipeline, in parallel, losing none.

:func:`process_batch_for_submission` maps the pipeline over images with joblib
``Parallel``: loky processes by default, or whatever backend the caller chose with
``joblib.parallel_config`` (``"dask"`` with a ``dask.distributed`` client, Ray's
joblib backend, threads...). Paths travel to the workers and small results travel
back. Results come back in input order; a tqdm bar counts completed images; an
image that fails gives one failed :class:`~ecgprep.pipeline.ImageResult` and the
others go on; a worker process that dies loses no image: what it held is retried
once, each image alone, and reported failed if it dies again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .io import describe_source, image_id_of
from .options import Options, as_options
from .pipeline import STAGES, ImageResult, process_image_for_submission

__all__ = ["BatchResults", "process_batch_for_submission", "summary_frame", "notebook_process_batch"]


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


def _worker(index: int, source: Any, image_id: str, options: dict) -> tuple[int, ImageResult]:
    """Runs inside a worker: cap OpenCV's own threads, then process one image."""
    import cv2

    threads = int(options.get("opencv_threads", 1))
    old = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        return index, process_image_for_submission(source, options, image_id=image_id)
    finally:
        cv2.setNumThreads(old)


def _worker_died(exc: BaseException) -> bool:
    """True for the errors joblib raises when a worker process vanished."""
    name = type(exc).__name__
    return name in {"TerminatedWorkerError", "BrokenProcessPool", "WorkerLostError", "KilledWorkerError"} or (
        "worker" in str(exc).lower() and ("died" in str(exc).lower() or "terminated" in str(exc).lower())
    )


def _run(tasks: list[tuple[int, Any, str]], opts: dict, n_jobs: int, on_done) -> tuple[dict, BaseException | None]:
    """One Parallel pass; returns the results it got and the worker-death error, if any."""
    from joblib import Parallel, delayed

    got: dict[int, ImageResult] = {}
    try:
        par = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        for index, res in par(delayed(_worker)(i, src, iid, opts) for i, src, iid in tasks):
            got[index] = res
            on_done()
    except Exception as exc:  # noqa: BLE001 - decide below whether a worker died
        if not _worker_died(exc):
            raise
        return got, exc
    return got, None


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
        Workers (``-1``: all cores; ``None``: as ``joblib.parallel_config`` says).
    progress : bool
        Show a tqdm bar counting completed images.
    ids : sequence of str, optional
        Image ids (default: file stems, else ``image{index}``).

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
    sources = list(images)
    if ids is not None and len(ids) != len(sources):
        raise ValueError(f"ids has {len(ids)} entries but there are {len(sources)} images")
    tasks = [
        (i, os.fspath(s) if isinstance(s, os.PathLike) else s, str(ids[i]) if ids is not None else image_id_of(s, i))
        for i, s in enumerate(sources)
    ]
    results: dict[int, ImageResult] = {}
    bar = tqdm(total=len(tasks), desc="ecgprep", unit="img", disable=not progress)
    try:
        got, died = _run(tasks, opts, n_jobs, lambda: bar.update(1))
        results.update(got)
        if died is not None:
            # Retry each image the dead worker(s) held, alone, once.
            for task in [t for t in tasks if t[0] not in results]:
                again, died2 = _run([task], opts, 2 if n_jobs == 1 else n_jobs, lambda: bar.update(1))
                if task[0] in again:
                    results[task[0]] = again[task[0]]
                    continue
                i, src, iid = task
                results[i] = ImageResult(
                    image_id=iid,
                    source=describe_source(src),
                    ok=False,
                    error=f"{describe_source(src)}: the worker process died twice while processing this image "
                    f"({type(died2 or died).__name__}: {died2 or died})",
                    failed_stage="worker",
                )
                bar.update(1)
    finally:
        bar.close()
    return BatchResults(results[i] for i in range(len(tasks)))


def summary_frame(results: Iterable[ImageResult]) -> pd.DataFrame:
    """One row per image, in input order.

    Columns: ``id, source, ok, error, failed_stage, quality_pass, quality_reasons,
    sharpness, contrast, dpi, px_per_mm_x, px_per_mm_y, angle_deg, grid_confidence,
    paper_found, pulses_found, height, width, seconds`` and ``t_<stage>`` (seconds)
    for every stage of :data:`ecgprep.pipeline.STAGES`.
    """
    rows = []
    for r in results:
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
            "quality_pass": None if q is None else bool(q.passed),
            "quality_reasons": None if q is None else "; ".join(q.reasons),
            "sharpness": None if q is None else float(q.sharpness),
            "contrast": None if q is None else float(q.contrast),
            "dpi": None if q is None or q.dpi is None else float(q.dpi),
            "px_per_mm_x": None if g is None else float(g.px_per_mm_x),
            "px_per_mm_y": None if g is None else float(g.px_per_mm_y),
            "angle_deg": None if d is None else float(d.angle_deg),
            "grid_confidence": None if g is None else float(g.confidence),
            "paper_found": None if e is None else bool(e.paper.found),
            "pulses_found": None if dig is None else int(sum(p.found for p in dig.pulses)),
            "height": r.shape[0] if len(r.shape) == 2 else None,
            "width": r.shape[1] if len(r.shape) == 2 else None,
            "seconds": r.seconds,
        }
        times = {rec.name: rec.seconds for rec in r.stages}
        for s in STAGES:
            row[f"t_{s}"] = times.get(s)
        rows.append(row)
    cols = ["id", "source", "ok", "error", "failed_stage", "quality_pass", "quality_reasons", "sharpness",
            "contrast", "dpi", "px_per_mm_x", "px_per_mm_y", "angle_deg", "grid_confidence", "paper_found",
            "pulses_found", "height", "width", "seconds"] + [f"t_{s}" for s in STAGES]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("quality_pass", "paper_found"):
        df[c] = df[c].astype("boolean")
    return df


def notebook_process_batch(
    image_paths: Iterable[Any], options: Options | Mapping[str, Any] | None = None, *, n_jobs: int | None = -1
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
