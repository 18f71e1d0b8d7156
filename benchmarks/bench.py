#!/usr/bin/env python3
"""How fast is ecgprep? The pipeline against a plain decode of the same file,
per-stage times, batch speedup and worker memory.

Run from the repository root, with ecgprep importable (``pip install -e .``)::

    python benchmarks/bench.py                          # 8 renders of 2200 x 1700 px
    python benchmarks/bench.py --images 4 --jobs 2 --repeats 3
    python benchmarks/bench.py --files a.png b.png --json bench.json

What it measures, in one process, OpenCV on one thread everywhere:

headline
    for every image, the full pipeline (``ecgprep.process_image_for_submission``
    on the path, its own decode included) and ``cv2.imread`` of the same file,
    each the best of ``--repeats`` runs, interleaved. The headline is the median
    over images of pipeline / cv2.imread; project target: at most 5x.
per stage
    the median time of every stage (``ImageResult.stages``) over images and repeats.
batch
    the wall time of ``ecgprep.process_batch_for_submission`` on the same list of
    images with ``n_jobs=1`` (this process) and ``n_jobs=--jobs`` (loky workers,
    pool warmed up), median over repeats; speedup = sequential / parallel wall
    time, efficiency = speedup / jobs (target: at least 85 %).
memory
    the peak resident memory (RSS high-water mark) of every worker, each having
    processed images (target: under 500 MB).

Rendered images (``ecgprep.synth``; kinds :data:`BENCH_KINDS` in turn) are
written to a temporary folder by separate processes, so that the measuring
process and the workers start clean. Missed targets are reported, not errors:
the exit code is 0, or 2 for bad arguments. No test asserts a time; the tests
(``tests/test_bench.py``) check the structure of a tiny run.
"""

from __future__ import annotations

import argparse
import json
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

#: Project target: pipeline time / cv2.imread time of the same file.
TARGET_RATIO = 5.0
#: Project target: parallel efficiency (speedup / jobs).
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


# ---------------------------------------------------------------------------
# helpers (some run in other processes)


def _peak_rss_mb() -> float:
    """RSS high-water mark of this process, MB (NaN where unknown).

    Linux: ``VmHWM`` of ``/proc/self/status`` (``ru_maxrss`` would also count the
    parent's memory at the fork of a worker); elsewhere ``ru_maxrss``.
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
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024.0  # bytes / kB


def _render_one(path: str, kind: str, seed: int, dpi: float) -> None:
    """Render one printout of ``kind`` and write it as PNG (runs in a helper process)."""
    import cv2

    from ecgprep.synth import distort, render_ecg, synthetic_signals

    render_kw, distort_kw = _KINDS[kind]
    rng = np.random.default_rng(seed)
    gray = 0 if render_kw.get("grid_color") == "bw" else int(rng.integers(0, 51))
    sig = synthetic_signals(heart_rate=float(rng.uniform(50.0, 130.0)), seed=seed)
    render = render_ecg(sig, dpi=dpi, seed=seed, trace_color=(gray, gray, gray), **render_kw)
    if distort_kw:
        render = distort(render, seed=seed + 1, **distort_kw)
    if not cv2.imwrite(path, cv2.cvtColor(render.image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")


def render_images(
    out_dir: str | os.PathLike, n: int, *, dpi: float = 200.0, seed: int = 0, n_jobs: int = 2
) -> list[Path]:
    """Write ``n`` rendered printouts (kinds :data:`BENCH_KINDS` in turn) as PNG files.

    Rendering runs in spawned processes that end before anything is timed.

    Returns
    -------
    list of Path
        ``out_dir / f"{i:03d}_{kind}.png"``.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kinds = [BENCH_KINDS[i % len(BENCH_KINDS)] for i in range(n)]
    paths = [out / f"{i:03d}_{k}.png" for i, k in enumerate(kinds)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, min(n_jobs, n)), mp_context=ctx) as ex:
        seeds = [seed + 7919 * i for i in range(n)]
        list(ex.map(_render_one, map(str, paths), kinds, seeds, [float(dpi)] * n))
    return paths


def _worker_peak(path: str) -> tuple[int, float]:
    """Runs in a batch worker: process one more image; (pid, peak RSS of the process, MB)."""
    import cv2

    from ecgprep import process_image_for_submission

    cv2.setNumThreads(1)
    process_image_for_submission(path)
    return os.getpid(), _peak_rss_mb()


def _median(values: Sequence[float]) -> float:
    vals = [v for v in values if not np.isnan(v)]
    return float(statistics.median(vals)) if vals else float("nan")


def _cycle(paths: Sequence[str], n: int) -> list[str]:
    return [paths[i % len(paths)] for i in range(n)]


def _loadavg() -> tuple[float, float, float]:
    try:
        a, b, c = os.getloadavg()
    except (AttributeError, OSError):
        return (float("nan"),) * 3
    return (float(a), float(b), float(c))


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries the speed depends on."""
    import cv2
    import joblib
    import PIL
    import skimage

    import ecgprep

    return {
        "python": sys.version.split()[0],
        "ecgprep": ecgprep.__version__,
        "numpy": np.__version__,
        "cv2": cv2.__version__,
        "skimage": skimage.__version__,
        "pillow": PIL.__version__,
        "joblib": joblib.__version__,
    }


# ---------------------------------------------------------------------------
# result


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
    repeats : int
        Runs per timing (best of, for the headline; median, for stages and batches).
    ratio : float
        Headline: median over images of (best pipeline time / best cv2.imread time).
    pipeline_seconds, imread_seconds : float
        Medians over images of the best pipeline and the best cv2.imread time.
    stage_seconds : dict of str to float
        Median time of every stage of ``ecgprep.pipeline.STAGES`` over images
        and repeats (NaN for a stage that never ran).
    per_image : DataFrame
        ``file, kind, ok, error, imread_s, pipeline_s, ratio`` and ``t_<stage>``.
    batch : DataFrame
        ``n_jobs, n_images, wall_s, images_per_s, speedup, efficiency``: one row
        for ``n_jobs=1`` and one for the largest ``n_jobs`` (when > 1).
    worker_peak_rss_mb : tuple of float
        Peak RSS of every worker process (this process's with one job).
    n_failed : int
        Images the pipeline did not digitize (their times count all the same).
    cpu_count : int
        ``os.cpu_count()``.
    load_average, load_average_end : tuple of float
        1, 5 and 15 minute load averages before and after (NaN where unknown).
    versions : dict of str to str
        :func:`library_versions`.
    """

    n_images: int
    image_shape: tuple[int, ...]
    kinds: tuple[str, ...]
    repeats: int
    ratio: float
    pipeline_seconds: float
    imread_seconds: float
    stage_seconds: dict[str, float]
    per_image: pd.DataFrame = field(repr=False)
    batch: pd.DataFrame = field(repr=False)
    worker_peak_rss_mb: tuple[float, ...]
    n_failed: int
    cpu_count: int
    load_average: tuple[float, float, float]
    load_average_end: tuple[float, float, float]
    versions: dict[str, str]

    @property
    def jobs(self) -> int:
        """Largest ``n_jobs`` measured."""
        return int(self.batch["n_jobs"].max())

    @property
    def speedup(self) -> float:
        """Sequential / parallel batch wall time at :attr:`jobs`."""
        return float(self.batch["speedup"].iloc[-1])

    @property
    def efficiency(self) -> float:
        """:attr:`speedup` / :attr:`jobs`."""
        return float(self.batch["efficiency"].iloc[-1])

    @property
    def worker_rss_mb(self) -> float:
        """Largest worker peak RSS, MB."""
        return max(self.worker_peak_rss_mb, default=float("nan"))

    def targets(self) -> dict[str, bool]:
        """Which project targets this run met."""
        return {
            "ratio": bool(self.ratio <= TARGET_RATIO),
            "efficiency": bool(self.efficiency >= TARGET_EFFICIENCY),
            "worker_rss": bool(self.worker_rss_mb < TARGET_RSS_MB),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain (JSON-ready) form."""
        return {
            "n_images": self.n_images,
            "image_shape": list(self.image_shape),
            "kinds": list(self.kinds),
            "repeats": self.repeats,
            "ratio": self.ratio,
            "pipeline_seconds": self.pipeline_seconds,
            "imread_seconds": self.imread_seconds,
            "stage_seconds": dict(self.stage_seconds),
            "per_image": self.per_image.to_dict(orient="records"),
            "batch": self.batch.to_dict(orient="records"),
            "speedup": self.speedup,
            "efficiency": self.efficiency,
            "worker_peak_rss_mb": list(self.worker_peak_rss_mb),
            "n_failed": self.n_failed,
            "cpu_count": self.cpu_count,
            "load_average": list(self.load_average),
            "load_average_end": list(self.load_average_end),
            "versions": dict(self.versions),
            "targets": self.targets(),
        }

    def report(self) -> str:
        """The plain-text report the script prints."""
        from ecgprep.pipeline import STAGES

        tg = self.targets()

        def verdict(name: str) -> str:
            return "met" if tg[name] else "NOT MET"

        def avg(la) -> str:
            return ", ".join(f"{v:.2f}" for v in la)

        h, w = (tuple(self.image_shape) + (0, 0))[:2]
        n = self.repeats
        lines = [
            f"ecgprep benchmark: {self.n_images} images of {w} x {h} px "
            f"({', '.join(dict.fromkeys(self.kinds))}); OpenCV on one thread",
            f"machine: {self.cpu_count} cores, load average {avg(self.load_average)} before, "
            f"{avg(self.load_average_end)} after (1/5/15 min)",
            "versions: " + ", ".join(f"{k} {v}" for k, v in self.versions.items()),
            "",
            f"pipeline / cv2.imread: {self.ratio:.2f}x  (target <= {TARGET_RATIO:g}x: "
            f"{verdict('ratio')})",
            f"  pipeline {self.pipeline_seconds * 1e3:.1f} ms, cv2.imread "
            f"{self.imread_seconds * 1e3:.1f} ms: best of {n} per image, medians over images",
            "",
        ]
        pi = self.per_image
        lines += [
            f"  {r.file:28s} {r.imread_s * 1e3:7.1f} ms {r.pipeline_s * 1e3:8.1f} ms "
            f"{r.ratio:6.2f}x{'' if r.ok else '  (not digitized: ' + str(r.error) + ')'}"
            for r in pi.itertuples()
        ]
        lines += ["", "per-stage time (median over images and repeats):"]
        for s in STAGES:
            lines.append(f"  {s:11s} {self.stage_seconds.get(s, float('nan')) * 1e3:8.1f} ms")
        total = float(np.nansum(list(self.stage_seconds.values())))
        lines.append(f"  {'sum':11s} {total * 1e3:8.1f} ms")
        b = self.batch.copy()
        lines += [
            "",
            f"batch of {int(b['n_images'].iloc[0])} images (process_batch_for_submission, "
            f"wall time, median of {n}):",
        ]
        for col, fmt in (("wall_s", "{:.2f}"), ("images_per_s", "{:.2f}"), ("speedup", "{:.2f}")):
            b[col] = b[col].map(fmt.format)
        b["efficiency"] = b["efficiency"].map("{:.0%}".format)
        lines += ["  " + ln for ln in b.to_string(index=False).splitlines()]
        lines.append(
            f"speedup with {self.jobs} jobs over 1: {self.speedup:.2f}x, "
            f"efficiency {self.efficiency:.0%} "
            f"(target >= {TARGET_EFFICIENCY:.0%}: {verdict('efficiency')})"
        )
        if self.load_average[0] > 0.5 * self.cpu_count:
            lines.append(
                f"note: load average {self.load_average[0]:.1f} on {self.cpu_count} cores before "
                "the run: other programs shared the cores, the speedup is understated"
            )
        rss = ", ".join(f"{v:.0f}" for v in self.worker_peak_rss_mb)
        lines += [
            "",
            f"peak RSS per worker: {rss} MB (target < {TARGET_RSS_MB:g} MB: "
            f"{verdict('worker_rss')})",
        ]
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# measurement


def _one_by_one(paths: Sequence[str], kinds: Sequence[str], repeats: int):
    """Best-of-``repeats`` cv2.imread and pipeline times of every image (interleaved),
    and every stage's times. OpenCV's thread count is the caller's."""
    import cv2

    from ecgprep import process_image_for_submission
    from ecgprep.pipeline import STAGES

    cv2.imread(paths[0])  # warm-up: lazy imports, codec tables
    process_image_for_submission(paths[0])
    rows, stage_times = [], {s: [] for s in STAGES}
    for path, kind in zip(paths, kinds, strict=True):
        dec, pipe, mine = [], [], {s: [] for s in STAGES}
        for _ in range(repeats):
            t0 = time.perf_counter()
            img = cv2.imread(path)
            dec.append(time.perf_counter() - t0)
            del img
            t0 = time.perf_counter()
            res = process_image_for_submission(path)
            pipe.append(time.perf_counter() - t0)
            for rec in res.stages:
                stage_times.setdefault(rec.name, []).append(rec.seconds)
                mine.setdefault(rec.name, []).append(rec.seconds)
        rows.append(
            {
                "file": Path(path).name,
                "kind": kind,
                "ok": bool(res.ok),
                "error": res.error,
                "imread_s": min(dec),
                "pipeline_s": min(pipe),
                "ratio": min(pipe) / min(dec),
                **{f"t_{s}": _median(mine[s]) for s in STAGES},
            }
        )
    return pd.DataFrame(rows), {s: _median(v) for s, v in stage_times.items()}


def _batches(paths: Sequence[str], jobs: int, repeats: int) -> tuple[pd.DataFrame, list[float]]:
    """Batch wall times for n_jobs 1 and ``jobs`` (interleaved repeats), then the
    workers' peak RSS."""
    from joblib import Parallel, delayed

    from ecgprep import process_batch_for_submission

    n = max(len(paths), 4 * jobs)  # work enough for every worker
    batch_paths = _cycle(paths, n)
    walls: dict[int, list[float]] = {j: [] for j in dict.fromkeys((1, jobs))}
    if jobs > 1:  # start the pool and import ecgprep in every worker, untimed
        process_batch_for_submission(_cycle(paths, jobs), n_jobs=jobs, progress=False)
    for _ in range(repeats):
        for j in walls:
            t0 = time.perf_counter()
            process_batch_for_submission(batch_paths, n_jobs=j, progress=False)
            walls[j].append(time.perf_counter() - t0)
    base = _median(walls[1])
    rows = [
        {
            "n_jobs": j,
            "n_images": n,
            "wall_s": _median(w),
            "images_per_s": n / _median(w),
            "speedup": base / _median(w),
            "efficiency": base / _median(w) / j,
        }
        for j, w in walls.items()
    ]
    if jobs > 1:
        peaks: dict[int, float] = {}
        for pid, mb in Parallel(n_jobs=jobs)(
            delayed(_worker_peak)(p) for p in _cycle(paths, 2 * jobs)
        ):
            peaks[pid] = max(mb, peaks.get(pid, 0.0))
        rss = [peaks[k] for k in sorted(peaks)]
    else:
        rss = [_peak_rss_mb()]
    return pd.DataFrame(rows), rss


def measure(
    files: Sequence[str | os.PathLike] | None = None,
    *,
    n_images: int = 8,
    repeats: int = 3,
    jobs: int | None = None,
    dpi: float = 200.0,
    seed: int = 0,
) -> BenchResult:
    """Measure the headline ratio, stage times, batch speedup and worker memory.

    Parameters
    ----------
    files : sequence of path, optional
        Image files to time. Default: render ``n_images`` printouts (``dpi`` 200
        gives 2200 x 1700 px) into a temporary folder, removed afterwards.
    n_images : int
        Images to render when ``files`` is not given.
    repeats : int
        Runs of every timing: best of, for the headline; median, otherwise.
    jobs : int, optional
        Workers of the parallel batch (default ``os.cpu_count()``); 1 times the
        sequential batch only.
    dpi : float
        Resolution of the rendered images.
    seed : int
        Seed of the rendered images.

    Returns
    -------
    BenchResult

    Raises
    ------
    ValueError
        If ``n_images``, ``repeats`` or ``jobs`` is < 1, ``files`` is empty, or a
        file cannot be read by cv2.imread.
    """
    import cv2

    cpu = os.cpu_count() or 1
    jobs = cpu if jobs is None else jobs
    for name, v in (("n_images", n_images), ("repeats", repeats), ("jobs", jobs)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if files is not None:
        paths = [os.fspath(p) for p in files]
        if not paths:
            raise ValueError("files is empty")
        for p in paths:
            if cv2.imread(p, cv2.IMREAD_REDUCED_GRAYSCALE_8) is None:
                raise ValueError(f"{p}: cv2.imread cannot read it (missing or not an image)")

    load_avg = _loadavg()
    old_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(prefix="ecgprep-bench-") as tmp:
        if files is None:
            paths = [str(p) for p in render_images(tmp, n_images, dpi=dpi, seed=seed)]
            kinds = tuple(Path(p).stem.split("_", 1)[1] for p in paths)
        else:
            kinds = ("file",) * len(paths)
        try:
            shape = tuple(int(v) for v in cv2.imread(paths[0]).shape[:2])
            per_image, stage_seconds = _one_by_one(paths, kinds, repeats)
            batch, rss = _batches(paths, jobs, repeats)
        finally:
            cv2.setNumThreads(old_threads)

    return BenchResult(
        n_images=len(paths),
        image_shape=shape,
        kinds=kinds,
        repeats=repeats,
        ratio=_median(per_image["ratio"].tolist()),
        pipeline_seconds=_median(per_image["pipeline_s"].tolist()),
        imread_seconds=_median(per_image["imread_s"].tolist()),
        stage_seconds=stage_seconds,
        per_image=per_image,
        batch=batch,
        worker_peak_rss_mb=tuple(rss),
        n_failed=int((~per_image["ok"]).sum()),
        cpu_count=cpu,
        load_average=load_avg,
        load_average_end=_loadavg(),
        versions=library_versions(),
    )


# ---------------------------------------------------------------------------
# command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python benchmarks/bench.py``: measure, print the report; 0, or 2 on bad arguments."""
    p = argparse.ArgumentParser(
        prog="benchmarks/bench.py",
        description="ecgprep speed: pipeline / cv2.imread, per-stage times, batch speedup, "
        "worker memory.",
    )
    p.add_argument("--images", type=int, default=8, help="images to render (default 8)")
    p.add_argument("--files", nargs="+", metavar="FILE", help="time these files instead")
    p.add_argument("--jobs", type=int, default=None, help="batch workers (default: all cores)")
    p.add_argument("--repeats", type=int, default=3, help="runs per timing (default 3)")
    p.add_argument("--dpi", type=float, default=200.0, help="render resolution (200: 2200x1700)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    args = p.parse_args(argv)
    what = f"{len(args.files)} files" if args.files else f"rendering {args.images} images"
    print(f"benchmarks/bench.py: {what}; this takes a minute or two ...", flush=True)
    try:
        res = measure(
            args.files,
            n_images=args.images,
            repeats=args.repeats,
            jobs=args.jobs,
            dpi=args.dpi,
            seed=args.seed,
        )
    except ValueError as exc:
        print(f"benchmarks/bench.py: error: {exc}", file=sys.stderr)
        return 2
    print(res.report(), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(res.to_dict(), indent=1) + "\n", encoding="utf-8")
        print(f"numbers written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
