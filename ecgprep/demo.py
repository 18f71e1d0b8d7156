"""``ecgprep demo``: the main job end to end on printouts rendered on the spot.

Renders a handful of ECG printouts with :func:`ecgprep.synth.write_dataset` (clean
and distorted: pulses, grid colours, black-and-white, rotation, blur, a phone photo,
low resolution), digitizes them in parallel, writes ``submission.csv``, a per-image
``summary.csv`` and a ``gallery.html`` to the output folder, and prints the
competition score against the rendered truth. Offline, no downloads.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .options import Options, as_options

__all__ = ["run_demo"]


def run_demo(
    out_dir: str | Path = "ecgprep-out",
    *,
    n: int = 8,
    n_jobs: int | None = -1,
    progress: bool = True,
    seed: int = 0,
    options: Options | Mapping[str, Any] | None = None,
) -> int:
    """Render ``n`` printouts, digitize them, score them; returns a process exit code.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created): ``data/`` (the rendered set), ``submission.csv``,
        ``summary.csv``, ``gallery.html``.
    n : int
        Number of printouts.
    n_jobs : int or None
        Workers.
    progress : bool
        Show progress bars.
    seed : int
        Seed of the rendered set.
    options : Options or dict, optional
        Pipeline options the printouts are read with (validated before anything is
        rendered). The set is drawn in the 3x4+1 layout at 10 mm/mV and 25 mm/s,
        so options that say otherwise lower the score.
    """
    from ._atomic import write_atomic
    from .cli import verdict_report
    from .evaluate import evaluate_folder
    from .submission import write_submission
    from .synth import write_dataset

    from .batch import _check_n_jobs

    opts = as_options(options)
    n_jobs = _check_n_jobs(n_jobs)  # caller mistakes before anything is rendered
    out = Path(out_dir)
    data = out / "data"
    t0 = time.perf_counter()
    print(f"rendering {n} ECG printouts into {data} ...")
    write_dataset(data, n=n, seed=seed)
    t_render = time.perf_counter() - t0
    print(f"digitizing them (n_jobs={n_jobs}) ...")
    t1 = time.perf_counter()
    ev = evaluate_folder(data, opts, n_jobs=n_jobs, progress=progress)
    t_run = time.perf_counter() - t1
    write_submission(ev.submission, out / "submission.csv")
    write_atomic(out / "summary.csv", lambda tmp: ev.summary.to_csv(tmp, index=False))
    gallery = None
    try:
        from .viz import write_gallery

        gallery = write_gallery(ev, data, out / "gallery.html", options=opts)
    except ImportError:  # viz needs nothing beyond the core deps; guard anyway
        gallery = None
    print()
    print(ev.report())
    print(verdict_report(ev.summary))
    print()
    print(f"rendered in {t_render:.1f} s, digitized in {t_run:.1f} s")
    print(
        f"wrote {out / 'submission.csv'} ({len(ev.submission)} rows), {out / 'summary.csv'}"
        + (f", {gallery}" if gallery else "")
    )
    print(f"score against the rendered truth: {ev.score_db:.2f} dB")
    return 0
