"""``ecgprep bench``: how fast is the pipeline, alone and in parallel?

:func:`measure` renders ECG printouts (2200 x 1700 px PNG files, a mix of kinds:
clean, calibration pulses, blue and black-and-white grids, rotated, blurred...)
into a temporary folder, or takes the image files it is given, and measures:

- the median time of every pipeline stage (``ImageResult.stages``) over the images;
- the median PNG decode time (:func:`ecgprep.load_image` on the path) and the
  full pipeline time (:func:`ecgprep.process_image_for_submission` on the path,
  decode included) as a ratio to it (project target: at most 5x), measured
  twice: in this process, and in a fresh process whose allocator keeps freed
  memory (no page faults: computation alone). A large part of a decode's time
  can be fresh pages, and whether it gets them depends on what the allocator
  did after the previous pipeline run; the target is judged on the larger ratio;
- the batch wall time of :func:`ecgprep.process_batch_for_submission` for
  ``n_jobs = 1, 2, ...`` up to the core count, the speedup over ``n_jobs=1`` and
  the parallel efficiency ``speedup / n_jobs`` (target: at least 85 % at the core
  count);
- the peak resident memory (RSS high-water mark) of the worker processes and of
  the parent (target: under 500 MB per worker).

Timings are medians over repeats, and the ratios are taken within one run, since
shared machines are noisy. :func:`run_bench` prints the report (what the command
shows) and returns an exit code.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .pipeline import STAGES

__all__ = [
    "BenchResult",
    "measure",
    "run_bench",
    "library_versions",
    "BENCH_KINDS",
    "TARGET_RATIO",
    "TARGET_EFFICIENCY",
    "TARGET_RSS_MB",
]

#: Project target: full pipeline time / PNG decode time.
TARGET_RATIO = 5.0
#: Project target: parallel efficiency at the core count.
TARGET_EFFICIENCY = 0.85
#: Project target: peak RSS of one worker process, MB.
TARGET_RSS_MB = 500.0

# kind -> (render_ecg keywords, distort keywords or None). All keep the page size
# (2200 x 1700 px at 200 dpi): no background, no perspective.
_KINDS: dict[str, tuple[dict, dict | None]] = {
    "clean": ({"calibration_pulse": False}, None),
    "pulse": ({"calibration_pulse": True}, None),
    "blue": ({"grid_color": "blue"}, None),
    "rotated": ({}, {"rotate_deg": 3.0, "noise_std": 3.0, "color_cast": (1.0, 0.95, 0.88)}),
    "bw": ({"grid_color": "bw"}, None),
    "header": ({"header_text": True, "grid_color": "pink"}, None),
    "blur": ({}, {"blur_sigma": 1.2}),
    "green": ({"grid_color": "green", "calibration_pulse": False}, None),
}
#: Kinds of rendered images, cycled in this order.
BENCH_KINDS = tuple(_KINDS)


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries the speed depends on."""
    import cv2
    import joblib
    import PIL
    import skimage

    from . import __version__

    return {
        "python": sys.version.split()[0],
        "ecgprep": __version__,
        "numpy": np.__version__,
        "cv2": cv2.__version__,
        "skimage": skimage.__version__,
        "joblib": joblib.__version__,
        "pillow": PIL.__version__,
        "pandas": pd.__version__,
    }


def _peak_rss_mb() -> float:
    """RSS high-water mark of this process, MB (NaN where unsupported).

    Linux: ``VmHWM`` of ``/proc/self/status`` (the peak of this process's own
    memory; ``ru_maxrss`` would also count the parent's memory at the fork of a
    freshly spawned worker). Elsewhere ``getrusage(RUSAGE_SELF).ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def _render_one(path: str, kind: str, seed: int, dpi: float) -> tuple[int, int]:
    """Render one printout of ``kind`` and write it as PNG (runs in a helper process)."""
    import cv2

    from .synth import distort, render_ecg, synthetic_signals

    render_kw, distort_kw = _KINDS[kind]
    rng = np.random.default_rng(seed)
    gray = 0 if render_kw.get("grid_color") == "bw" else int(rng.integers(0, 51))
    sig = synthetic_signals(heart_rate=float(rng.uniform(50.0, 130.0)), seed=seed)
    render = render_ecg(sig, dpi=dpi, seed=seed, trace_color=(gray, gray, gray), **render_kw)
    if distort_kw:
        render = distort(render, seed=seed + 1, **distort_kw)
    if not cv2.imwrite(path, cv2.cvtColor(render.image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
    return render.image.shape[:2]


def render_images(
    out_dir: str | Path, n: int, *, dpi: float = 200.0, seed: int = 0, n_jobs: int = 2
) -> list[Path]:
    """Write ``n`` rendered printouts (kinds :data:`BENCH_KINDS` in turn) as PNG files.

    Rendering runs in separate (spawned) processes, so that neither the parent's
    memory high-water mark nor the benchmark's worker pool carries its cost.

    Returns
    -------
    paths : list of Path
        ``out_dir / f"{i:03d}_{kind}.png"``.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (
            str(out / f"{i:03d}_{BENCH_KINDS[i % len(BENCH_KINDS)]}.png"),
            BENCH_KINDS[i % len(BENCH_KINDS)],
            seed + 7919 * i,
            float(dpi),
        )
        for i in range(n)
    ]
    workers = max(1, min(int(n_jobs), n))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn")
    ) as ex:
        list(ex.map(_render_one, *zip(*jobs, strict=True)))
    return [Path(j[0]) for j in jobs]


def _worker_probe(path: str, options: dict) -> tuple[int, float, float, bool]:
    """Runs in a worker: process one image; return (pid, peak RSS of the process in MB,
    CPU seconds the image took, whether the process keeps freed memory)."""
    import cv2

    from . import _memory
    from .pipeline import process_image_for_submission

    old = cv2.getNumThreads()
    cv2.setNumThreads(int(options.get("opencv_threads", 1)))
    try:
        c0 = time.process_time()
        process_image_for_submission(path, options)
        cpu = time.process_time() - c0
    finally:
        cv2.setNumThreads(old)
    return os.getpid(), _peak_rss_mb(), cpu, bool(_memory._DONE and _memory._DONE[0])


@dataclass(frozen=True)
class BenchResult:
    """What :func:`measure` found (times in seconds, memory in MB).

    Attributes
    ----------
    n_images : int
        Distinct images timed one by one.
    image_shape : tuple of int
        ``(height, width)`` of the first image.
    kinds : tuple of str
        Kind of every image (``'file'`` for images given by path).
    cpu_count : int
        ``os.cpu_count()``.
    load_average : tuple of float
        1, 5 and 15 minute load averages at the start (NaN where unknown).
    load_average_end : tuple of float
        The same after the batch timings.
    versions : dict of str to str
        :func:`library_versions`.
    repeats : int
    opencv_threads : int
        OpenCV threads per image (``Options.opencv_threads``), in every measurement.
    stage_seconds : dict of str to float
        Median time of every stage of :data:`ecgprep.pipeline.STAGES` over images
        and repeats (NaN for a stage that never ran).
    decode_seconds : float
        Median of :func:`ecgprep.load_image` on the path.
    pipeline_seconds : float
        Median of :func:`ecgprep.process_image_for_submission` on the path.
    pipeline_ratio : float
        Median over images of (median pipeline time / median decode time).
    pipeline_cpu_ratio : float
        The same ratio in CPU time of this process (``time.process_time``): less
        sensitive to other programs on a shared machine.
    per_image : DataFrame
        ``file, kind, ok, error, decode_s, pipeline_s, ratio, decode_cpu_s,
        pipeline_cpu_s, cpu_ratio`` and ``t_<stage>``.
    batch : DataFrame
        ``n_jobs, n_images, wall_s, images_per_s, speedup, efficiency, image_s,
        busy`` (wall time median over repeats, run interleaved over ``n_jobs``;
        speedup is the throughput over that of ``n_jobs=1``, which runs in this
        process; ``image_s`` the median pipeline time of one image inside the
        workers; ``busy`` the fraction of the workers' wall time spent in the
        pipeline: near 1 with a low efficiency means the images themselves got
        slower (cores or memory bandwidth shared), well below 1 means dispatch
        overhead or idle workers).
    worker_peak_rss_mb : tuple of float
        Peak RSS of every worker process seen, MB (the parent's when the batch
        ran with one job).
    worker_cpu_seconds : float
        Median CPU time of one image in the workers, all ``max_jobs`` busy.
    parent_peak_rss_mb : float
        Peak RSS of the measuring process (it ran the one-by-one timings and the
        ``n_jobs=1`` batch in-process; rendering ran elsewhere).
    n_failed : int
        Images the pipeline did not digitize (their times still count).
    decode_seconds_kept, pipeline_seconds_kept, pipeline_ratio_kept : float
        The same one-by-one timings in a fresh process whose allocator keeps
        freed memory (glibc ``mallopt``), after one untimed pass: no page
        faults, so decode and pipeline are timed as computation alone. How much
        of either goes to fresh pages otherwise depends on what ran before (a
        21 MB image decoded after a pipeline run may find its pages or not), so
        the project's ratio target is judged on the larger of the two ratios.
        NaN where the allocator cannot be told (not Linux with glibc).
    per_image_kept : DataFrame or None
        The per-image rows of that measurement.
    reuse_memory : bool
        The batch workers kept freed memory for their next image
        (``Options.reuse_memory``, on Linux with glibc; the ``n_jobs=1`` batch
        runs in this process, which is left as it is).
    """

    n_images: int
    image_shape: tuple[int, ...]
    kinds: tuple[str, ...]
    cpu_count: int
    load_average: tuple[float, float, float]
    load_average_end: tuple[float, float, float]
    versions: dict[str, str]
    repeats: int
    opencv_threads: int
    stage_seconds: dict[str, float]
    decode_seconds: float
    pipeline_seconds: float
    pipeline_ratio: float
    pipeline_cpu_ratio: float
    per_image: pd.DataFrame = field(repr=False)
    batch: pd.DataFrame = field(repr=False)
    worker_peak_rss_mb: tuple[float, ...]
    worker_cpu_seconds: float
    parent_peak_rss_mb: float
    n_failed: int
    decode_seconds_kept: float = float("nan")
    pipeline_seconds_kept: float = float("nan")
    pipeline_ratio_kept: float = float("nan")
    per_image_kept: pd.DataFrame | None = field(default=None, repr=False)
    reuse_memory: bool = True

    @property
    def max_jobs(self) -> int:
        """Largest ``n_jobs`` measured."""
        return int(self.batch["n_jobs"].max()) if len(self.batch) else 0

    @property
    def efficiency(self) -> float:
        """Parallel efficiency at the largest ``n_jobs`` measured."""
        if not len(self.batch):
            return float("nan")
        return float(self.batch.loc[self.batch["n_jobs"].idxmax(), "efficiency"])

    @property
    def speedup(self) -> float:
        """Speedup at the largest ``n_jobs`` measured."""
        if not len(self.batch):
            return float("nan")
        return float(self.batch.loc[self.batch["n_jobs"].idxmax(), "speedup"])

    @property
    def cpu_slowdown(self) -> float:
        """CPU time of one image in the busy workers over that one by one (medians).

        Near 1: running in parallel costs no extra work (no memory-bandwidth or
        cache contention); an efficiency below that of :attr:`efficiency_estimate`
        then comes from other programs taking the cores.
        """
        one = _median(self.per_image["pipeline_cpu_s"].tolist()) if len(self.per_image) else np.nan
        return self.worker_cpu_seconds / one if one > 0 else float("nan")

    @property
    def efficiency_estimate(self) -> float:
        """Parallel efficiency expected on free cores: ``busy / cpu_slowdown`` at the
        largest ``n_jobs`` (an estimate from CPU times, not a measurement)."""
        if not len(self.batch):
            return float("nan")
        busy = float(self.batch.loc[self.batch["n_jobs"].idxmax(), "busy"])
        return busy / self.cpu_slowdown

    @property
    def worker_rss_mb(self) -> float:
        """Largest worker peak RSS, MB."""
        return max(self.worker_peak_rss_mb) if self.worker_peak_rss_mb else float("nan")

    @property
    def pipeline_ratio_judged(self) -> float:
        """The larger of :attr:`pipeline_ratio` and :attr:`pipeline_ratio_kept` (when measured)."""
        kept = self.pipeline_ratio_kept
        return self.pipeline_ratio if np.isnan(kept) else max(self.pipeline_ratio, kept)

    def targets(self) -> dict[str, bool]:
        """Which project targets this run met (ratio, efficiency, worker memory)."""
        return {
            "pipeline_ratio": bool(self.pipeline_ratio_judged <= TARGET_RATIO),
            "efficiency": bool(self.efficiency >= TARGET_EFFICIENCY),
            "worker_rss": bool(self.worker_rss_mb < TARGET_RSS_MB),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain Python (JSON-ready) form: scalars, dicts and lists of records."""
        return {
            "n_images": self.n_images,
            "image_shape": list(self.image_shape),
            "kinds": list(self.kinds),
            "cpu_count": self.cpu_count,
            "load_average": list(self.load_average),
            "load_average_end": list(self.load_average_end),
            "versions": dict(self.versions),
            "repeats": self.repeats,
            "opencv_threads": self.opencv_threads,
            "stage_seconds": dict(self.stage_seconds),
            "decode_seconds": self.decode_seconds,
            "pipeline_seconds": self.pipeline_seconds,
            "pipeline_ratio": self.pipeline_ratio,
            "pipeline_cpu_ratio": self.pipeline_cpu_ratio,
            "decode_seconds_kept": self.decode_seconds_kept,
            "pipeline_seconds_kept": self.pipeline_seconds_kept,
            "pipeline_ratio_kept": self.pipeline_ratio_kept,
            "reuse_memory": self.reuse_memory,
            "batch": self.batch.to_dict(orient="records"),
            "speedup": self.speedup,
            "efficiency": self.efficiency,
            "cpu_slowdown": self.cpu_slowdown,
            "efficiency_estimate": self.efficiency_estimate,
            "worker_peak_rss_mb": list(self.worker_peak_rss_mb),
            "worker_cpu_seconds": self.worker_cpu_seconds,
            "parent_peak_rss_mb": self.parent_peak_rss_mb,
            "n_failed": self.n_failed,
            "targets": self.targets(),
        }

    def report(self) -> str:
        """The plain-text report ``ecgprep bench`` prints."""

        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        tg = self.targets()
        la = ", ".join(f"{v:.2f}" for v in self.load_average)
        la_end = ", ".join(f"{v:.2f}" for v in self.load_average_end)
        vers = ", ".join(f"{k} {v}" for k, v in self.versions.items())
        h, w = (self.image_shape + (0, 0))[:2]
        kinds = ", ".join(dict.fromkeys(self.kinds))
        lines = [
            f"ecgprep bench: {self.n_images} images of {w} x {h} px PNG ({kinds}); "
            f"{self.repeats} repeats; medians",
            f"machine: {self.cpu_count} cores (os.cpu_count), load average {la} (1/5/15 min) "
            f"at the start, {la_end} after the batches",
            f"versions: {vers}",
            f"OpenCV threads per image: {self.opencv_threads}",
            "",
            "per-stage time (median over images and repeats):",
        ]
        total = 0.0
        for s in STAGES:
            v = self.stage_seconds.get(s, float("nan"))
            total += 0.0 if np.isnan(v) else v
            lines.append(f"  {s:9s} {v * 1000:8.1f} ms")
        lines.append(f"  {'sum':9s} {total * 1000:8.1f} ms")
        lines += [
            "",
            f"PNG decode (load_image on the path):          {self.decode_seconds * 1e3:8.1f} ms",
            f"pipeline (process_image_for_submission, path): {self.pipeline_seconds * 1e3:7.1f} ms",
            f"pipeline / decode: {self.pipeline_ratio:.2f}x (median of per-image ratios)",
            f"pipeline / decode in CPU time: {self.pipeline_cpu_ratio:.2f}x",
        ]
        if np.isnan(self.pipeline_ratio_kept):
            lines.append("with the allocator keeping memory: not measured (needs Linux with glibc)")
        else:
            lines += [
                "with the allocator keeping memory (a fresh process, no page faults: computation "
                "alone):",
                f"  decode {self.decode_seconds_kept * 1e3:.1f} ms, pipeline "
                f"{self.pipeline_seconds_kept * 1e3:.1f} ms, pipeline / decode "
                f"{self.pipeline_ratio_kept:.2f}x",
            ]
        lines += [
            f"pipeline / decode judged (the larger): {self.pipeline_ratio_judged:.2f}x "
            f"(target <= {TARGET_RATIO:g}x: {verdict(tg['pipeline_ratio'])})",
            "",
            "batch (process_batch_for_submission, progress off, pool warmed up; wall time median;",
            " image_s: one image's pipeline time inside the workers; busy: share of the workers'",
            " wall time spent in the pipeline; workers "
            + ("keep freed memory (reuse_memory)" if self.reuse_memory else "return freed memory")
            + "):",
        ]
        if len(self.batch):
            b = self.batch.copy()
            b["wall_s"] = b["wall_s"].map(lambda v: f"{v:.2f}")
            b["images_per_s"] = b["images_per_s"].map(lambda v: f"{v:.2f}")
            b["speedup"] = b["speedup"].map(lambda v: f"{v:.2f}")
            b["efficiency"] = b["efficiency"].map(lambda v: f"{v:.0%}")
            b["image_s"] = b["image_s"].map(lambda v: f"{v:.3f}")
            b["busy"] = b["busy"].map(lambda v: f"{v:.0%}")
            lines += ["  " + ln for ln in b.to_string(index=False).splitlines()]
            lines.append(
                f"efficiency at {self.max_jobs} jobs: {self.efficiency:.0%} "
                f"(target >= {TARGET_EFFICIENCY:.0%}: {verdict(tg['efficiency'])})"
            )
            lines.append(
                f"CPU time per image in {self.max_jobs} busy workers / one by one: "
                f"{self.cpu_slowdown:.2f}; efficiency expected on free cores (busy / that): "
                f"{self.efficiency_estimate:.0%} (estimate)"
            )
            if self.load_average[0] > 0.5 * self.cpu_count:
                lines.append(
                    f"note: load average {self.load_average[0]:.1f} on {self.cpu_count} cores "
                    "before the bench started: other programs competed for the cores, so the "
                    "speedup and efficiency are understated"
                )
        rss = ", ".join(f"{v:.0f}" for v in self.worker_peak_rss_mb)
        lines += [
            "",
            f"peak RSS per worker: {rss} MB "
            f"(target < {TARGET_RSS_MB:g} MB: {verdict(tg['worker_rss'])}); "
            f"parent: {self.parent_peak_rss_mb:.0f} MB",
        ]
        if self.n_failed:
            bad = self.per_image[~self.per_image["ok"]]
            lines += [
                "",
                f"{self.n_failed} image(s) not digitized (their times count all the same):",
            ]
            lines += [f"  {r.file}: {r.error}" for r in bad.itertuples()]
        return "\n".join(lines)


def _median(values: Sequence[float]) -> float:
    vals = [v for v in values if v is not None and not np.isnan(v)]
    return float(statistics.median(vals)) if vals else float("nan")


def _cycle(paths: Sequence[str], n: int) -> list[str]:
    return [paths[i % len(paths)] for i in range(n)]


def _loadavg() -> tuple[float, float, float]:
    try:
        a, b, c = os.getloadavg()
    except (AttributeError, OSError):
        return (float("nan"),) * 3
    return (float(a), float(b), float(c))


def _one_by_one(
    paths: Sequence[str], kinds: Sequence[str], opts: dict, repeats: int
) -> tuple[list[dict], dict[str, list[float]], tuple[int, ...]]:
    """Time decode and pipeline of every image, in turn, in this process.

    Returns the per-image rows, every stage's times, and the first image's shape.
    """
    import cv2

    from .io import load_image
    from .pipeline import process_image_for_submission

    old_threads = cv2.getNumThreads()
    cv2.setNumThreads(int(opts["opencv_threads"]))
    try:
        process_image_for_submission(paths[0], opts)  # warm-up: lazy imports, caches
        rows = []
        stage_times: dict[str, list[float]] = {s: [] for s in STAGES}
        shape: tuple[int, ...] = ()
        for path, kind in zip(paths, kinds, strict=True):
            dec, pipe, dec_cpu, pipe_cpu = [], [], [], []
            mine: dict[str, list[float]] = {s: [] for s in STAGES}
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                img = load_image(path, max_pixels=opts["max_pixels"])
                dec.append(time.perf_counter() - t0)
                dec_cpu.append(time.process_time() - c0)
                shape = shape or tuple(int(v) for v in img.shape[:2])
                del img
                t0, c0 = time.perf_counter(), time.process_time()
                res = process_image_for_submission(path, opts)
                pipe.append(time.perf_counter() - t0)
                pipe_cpu.append(time.process_time() - c0)
                for rec in res.stages:
                    stage_times.setdefault(rec.name, []).append(rec.seconds)
                    mine.setdefault(rec.name, []).append(rec.seconds)
            d, p = _median(dec), _median(pipe)
            dc, pc = _median(dec_cpu), _median(pipe_cpu)
            rows.append(
                {
                    "file": Path(path).name,
                    "kind": kind,
                    "ok": bool(res.ok),
                    "error": res.error,
                    "decode_s": d,
                    "pipeline_s": p,
                    "ratio": p / d if d > 0 else float("nan"),
                    "decode_cpu_s": dc,
                    "pipeline_cpu_s": pc,
                    "cpu_ratio": pc / dc if dc > 0 else float("nan"),
                    **{f"t_{s}": _median(mine[s]) for s in STAGES},
                }
            )
    finally:
        cv2.setNumThreads(old_threads)
    return rows, stage_times, shape


def _one_by_one_kept(paths, kinds, opts, repeats) -> list[dict] | None:
    """Runs in a fresh process: :func:`_one_by_one` after :func:`ecgprep._memory.keep_freed_memory`
    and one untimed pass over the images (so the heap holds what they need)."""
    from ._memory import keep_freed_memory

    if not keep_freed_memory():
        return None
    from .pipeline import process_image_for_submission

    for path in paths:
        process_image_for_submission(path, opts)
    rows, _, _ = _one_by_one(paths, kinds, opts, repeats)
    return rows


def _one_by_one_memory_kept(paths, kinds, opts, repeats) -> list[dict] | None:
    """:func:`_one_by_one_kept` in a new (spawned) process; None where not possible."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if not sys.platform.startswith("linux"):
        return None
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(_one_by_one_kept, list(paths), list(kinds), opts, repeats).result()


def measure(
    images: Sequence[str | os.PathLike] | None = None,
    *,
    n_images: int = 8,
    repeats: int = 3,
    max_jobs: int | None = None,
    images_per_job: int = 4,
    options: dict | None = None,
    dpi: float = 200.0,
    seed: int = 0,
    workdir: str | os.PathLike | None = None,
) -> BenchResult:
    """Measure stage times, the pipeline/decode ratio, parallel speedup and memory.

    Parameters
    ----------
    images : sequence of path, optional
        Image files to time. Default: render ``n_images`` printouts (kinds
        :data:`BENCH_KINDS` in turn, ``dpi`` 200 gives 2200 x 1700 px) as PNG
        files into a temporary folder, removed afterwards.
    n_images : int
        Images to render when ``images`` is not given.
    repeats : int
        Every one-by-one timing and every batch runs this many times; medians.
    max_jobs : int, optional
        Largest ``n_jobs`` of the batch timings (default ``os.cpu_count()``);
        ``n_jobs`` runs over ``1 .. max_jobs``.
    images_per_job : int
        A batch with ``n_jobs`` workers processes ``max(len(images),
        images_per_job * n_jobs)`` images (the files cycled), so each worker has
        work enough for the timing to mean something.
    options : dict, optional
        Pipeline options (``opencv_threads`` defaults to 1, as in the batch).
    dpi : float
        Resolution of the rendered images.
    seed : int
        Seed of the rendered images.
    workdir : path, optional
        Folder for the rendered images (kept); default a temporary folder.

    Returns
    -------
    BenchResult
        Its ``report()`` is the printed table, ``to_dict()`` a plain form.

    Raises
    ------
    ValueError
        If ``n_images``, ``repeats``, ``max_jobs`` or ``images_per_job`` is < 1,
        or ``images`` is empty.

    Examples
    --------
    >>> res = measure(n_images=1, repeats=1, max_jobs=1, images_per_job=1, dpi=60)
    >>> sorted(res.stage_seconds)[:2]
    ['colors', 'deskew']
    """
    from joblib import Parallel, delayed

    from .batch import process_batch_for_submission
    from .options import as_options

    for name, v in (
        ("n_images", n_images),
        ("repeats", repeats),
        ("images_per_job", images_per_job),
    ):
        if int(v) < 1:
            raise ValueError(f"{name} must be >= 1, got {v!r}")
    cpu = os.cpu_count() or 1
    max_jobs = cpu if max_jobs is None else int(max_jobs)
    if max_jobs < 1:
        raise ValueError(f"max_jobs must be >= 1, got {max_jobs!r}")
    repeats = int(repeats)
    opts = as_options({"opencv_threads": 1, **(options or {})}).to_dict()
    load_avg = _loadavg()

    tmp = None
    if images is None:
        if workdir is None:
            tmp = tempfile.TemporaryDirectory(prefix="ecgprep-bench-")
            workdir = tmp.name
        paths = [
            str(p)
            for p in render_images(workdir, int(n_images), dpi=dpi, seed=seed, n_jobs=min(cpu, 4))
        ]
        kinds = tuple(Path(p).stem.split("_", 1)[1] for p in paths)
    else:
        paths = [os.fspath(p) for p in images]
        if not paths:
            raise ValueError("images is empty")
        kinds = ("file",) * len(paths)

    try:
        # -- one by one, in this process; then with the allocator keeping memory --
        rows, stage_times, shape = _one_by_one(paths, kinds, opts, repeats)
        per_image = pd.DataFrame(rows)
        stage_seconds = {s: _median(stage_times.get(s, [])) for s in STAGES}
        kept = _one_by_one_memory_kept(paths, kinds, opts, repeats)
        per_image_kept = pd.DataFrame(kept) if kept is not None else None

        # -- batches ----------------------------------------------------------------
        # Repeats are interleaved (1, 2, ..., max, 1, 2, ...) so that a change in the
        # machine's load hits every n_jobs alike.
        walls: dict[int, list[float]] = {j: [] for j in range(1, max_jobs + 1)}
        image_s: dict[int, list[float]] = {j: [] for j in walls}
        busy: dict[int, list[float]] = {j: [] for j in walls}
        sizes = {j: max(len(paths), int(images_per_job) * j) for j in walls}
        pool = None
        for _ in range(repeats):
            for jobs in walls:
                if jobs > 1 and jobs != pool:
                    # warm up: start (or resize) the worker pool, import ecgprep in every worker
                    process_batch_for_submission(
                        _cycle(paths, jobs), opts, n_jobs=jobs, progress=False
                    )
                    pool = jobs
                batch_paths = _cycle(paths, sizes[jobs])
                t0 = time.perf_counter()
                got = process_batch_for_submission(batch_paths, opts, n_jobs=jobs, progress=False)
                wall = time.perf_counter() - t0
                walls[jobs].append(wall)
                inside = [r.seconds for r in got]
                image_s[jobs].append(statistics.median(inside))
                busy[jobs].append(sum(inside) / (jobs * wall))
        brows = []
        base = None
        for jobs in walls:
            wall = _median(walls[jobs])
            rate = sizes[jobs] / wall
            base = rate if base is None else base
            brows.append(
                {
                    "n_jobs": jobs,
                    "n_images": sizes[jobs],
                    "wall_s": wall,
                    "images_per_s": rate,
                    "speedup": rate / base,
                    "efficiency": rate / base / jobs,
                    "image_s": _median(image_s[jobs]),
                    "busy": _median(busy[jobs]),
                }
            )
        batch = pd.DataFrame(brows)

        # -- memory: every worker processes images, then reports its high-water mark --
        load_end = _loadavg()
        # (and its CPU time per image, to tell shared cores from a slower code path)
        probes = Parallel(n_jobs=max_jobs)(
            delayed(_worker_probe)(p, opts) for p in _cycle(paths, max(len(paths), 2 * max_jobs))
        )
        by_pid: dict[int, float] = {}
        for pid, mb, _, _ in probes:
            by_pid[pid] = max(mb, by_pid.get(pid, 0.0))
        worker_rss = tuple(by_pid[k] for k in sorted(by_pid))
        worker_cpu = _median([c for _, _, c, _ in probes])
        workers_keep = any(kept for *_, kept in probes) and max_jobs > 1
    finally:
        if tmp is not None:
            tmp.cleanup()

    return BenchResult(
        n_images=len(paths),
        image_shape=tuple(int(v) for v in shape),
        kinds=kinds,
        cpu_count=cpu,
        load_average=load_avg,
        load_average_end=load_end,
        versions=library_versions(),
        repeats=repeats,
        opencv_threads=int(opts["opencv_threads"]),
        stage_seconds=stage_seconds,
        decode_seconds=_median(per_image["decode_s"].tolist()),
        pipeline_seconds=_median(per_image["pipeline_s"].tolist()),
        pipeline_ratio=_median(per_image["ratio"].tolist()),
        pipeline_cpu_ratio=_median(per_image["cpu_ratio"].tolist()),
        per_image=per_image,
        batch=batch,
        worker_peak_rss_mb=worker_rss,
        worker_cpu_seconds=worker_cpu,
        parent_peak_rss_mb=_peak_rss_mb(),
        n_failed=int((~per_image["ok"]).sum()),
        decode_seconds_kept=_median(per_image_kept["decode_s"].tolist()) if kept else float("nan"),
        pipeline_seconds_kept=(
            _median(per_image_kept["pipeline_s"].tolist()) if kept else float("nan")
        ),
        pipeline_ratio_kept=_median(per_image_kept["ratio"].tolist()) if kept else float("nan"),
        per_image_kept=per_image_kept,
        reuse_memory=bool(workers_keep),
    )


def run_bench(
    n_images: int = 8,
    repeats: int = 3,
    max_jobs: int | None = None,
    *,
    images: Sequence[str | os.PathLike] | None = None,
    file=None,
    **kwargs: Any,
) -> int:
    """Measure (see :func:`measure`) and print the report; returns the exit code.

    Parameters
    ----------
    n_images, repeats, max_jobs
        As in :func:`measure`.
    images : sequence of path, optional
        Time these files instead of rendered printouts.
    file : text stream, optional
        Where to print (default ``sys.stdout``).
    **kwargs
        Other keywords of :func:`measure`.

    Returns
    -------
    int
        0. Missed speed targets are reported, not treated as errors.
    """
    out = sys.stdout if file is None else file
    what = f"{len(images)} images" if images is not None else f"rendering {n_images} images"
    print(
        f"ecgprep bench: {what}, timing them; this takes a minute or two ...", file=out, flush=True
    )
    res = measure(images, n_images=n_images, repeats=repeats, max_jobs=max_jobs, **kwargs)
    print(res.report(), file=out, flush=True)
    return 0
