"""The ``ecgprep`` command line.

Commands: ``demo`` (render printouts, digitize them, score), ``submit`` (a folder
of images + ``test.csv`` -> ``submission.csv``), ``score`` (a submission against a
solution), ``eval`` (a folder with truth, scored by difficulty and lead), ``inspect``
(one image, with an overlay picture), ``compare`` (every edge method and colour
conversion on one image, side by side). The speed benchmark is a script beside the
package, not a command: ``python benchmarks/bench.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

__all__ = ["main"]


def _options(args) -> dict:
    opts = {}
    for pair in getattr(args, "option", None) or []:
        if "=" not in pair:
            raise SystemExit(f"ecgprep: --option expects NAME=VALUE, got {pair!r}")
        k, v = pair.split("=", 1)
        low = v.lower()
        if low in ("true", "false"):
            opts[k] = low == "true"
        else:
            try:
                opts[k] = int(v)
            except ValueError:
                try:
                    opts[k] = float(v)
                except ValueError:
                    opts[k] = v
    return opts


def _cmd_submit(args) -> int:
    from .batch import process_batch_for_submission
    from .submission import images_for_test, read_test_csv, submission_with_report, write_submission

    images_dir = Path(args.images_dir)
    if not images_dir.is_dir():
        print(f"ecgprep submit: {images_dir} is not a folder", file=sys.stderr)
        return 2
    with warnings.catch_warnings(record=True) as read_warnings:
        # Duplicate rows are dropped with a warning: report it like the others, below.
        warnings.simplefilter("always")
        test = read_test_csv(args.test_csv)
    present, paths, missing = images_for_test(test, images_dir)
    ids = present + missing
    t0 = time.perf_counter()
    results = process_batch_for_submission(
        paths, _options(args), n_jobs=args.jobs, progress=not args.quiet, ids=present
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sub, status = submission_with_report(results, test)
    write_submission(sub, args.out)
    if args.summary:
        summ = results.summary.set_index("id")
        status = status.set_index("id")
        for col in ("quality_pass", "failed_stage", "seconds"):
            status[col] = [summ[col].get(i) if i in summ.index else None for i in status.index]
        status.reset_index().to_csv(args.summary, index=False)
    n_bad = int((status["status"] != "ok").sum()) if "status" in status else 0
    for w in [*read_warnings, *caught]:
        print(f"warning: {w.message}", file=sys.stderr)
    print(
        f"wrote {args.out}: {len(sub)} rows for {len(ids)} images "
        f"({len(present)} found, {n_bad} with fallback values) in {time.perf_counter() - t0:.1f} s"
    )
    return 0


def _cmd_score(args) -> int:
    from .metrics import score_frames

    res = score_frames(args.solution, args.submission, args.test_csv)
    import pandas as pd

    with pd.option_context("display.width", 160):
        print(res.per_record.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"score: {res.score_db:.2f} dB over {res.n_records} records")
    return 0


def _cmd_eval(args) -> int:
    from .evaluate import evaluate_folder

    ev = evaluate_folder(
        args.folder, _options(args), n_jobs=args.jobs, progress=not args.quiet, limit=args.limit
    )
    print(ev.report())
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        ev.per_record.to_csv(out / "per_record.csv", index=False)
        ev.by_difficulty.to_csv(out / "by_difficulty.csv", index=False)
        ev.per_lead.to_csv(out / "per_lead.csv", index=False)
        ev.summary.to_csv(out / "summary.csv", index=False)
        from .viz import write_gallery

        # The evaluation holds its results; the options say how to draw them (gain).
        page = write_gallery(ev, args.folder, out / "gallery.html", options=_options(args))
        print(f"tables and {page} written to {out}")
    return 0


def _cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(out_dir=args.out, n=args.n, n_jobs=args.jobs, progress=not args.quiet)


def _cmd_inspect(args) -> int:
    from .pipeline import process_image_for_submission

    res = process_image_for_submission(args.image, _options(args))
    print(f"{res.image_id}: ok={res.ok} error={res.error}")
    for rec in res.stages:
        print(f"  {rec.name:9s} {rec.seconds * 1000:8.1f} ms  {rec.result!r}"[:300])
    if args.out:
        from .viz import save_overlay

        save_overlay(args.image, res, args.out)
        print(f"overlay written to {args.out}")
    return 0 if res.ok else 1


def _cmd_compare(args) -> int:
    from .compare import compare_methods, write_comparison
    from .io import load_image

    image = load_image(args.image)  # a bad file stops here: one line, exit 2 (see main)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)  # before the work, not after
        cmp = compare_methods(image, n_jobs=args.jobs)
        page, png = write_comparison(cmp, out, title=f"ecgprep compare: {args.image}")
    except OSError as exc:
        print(f"ecgprep compare: error: cannot write to {out}: {exc}", file=sys.stderr)
        return 2
    t = cmp.table
    failed = int(t["error"].notna().sum())
    print(
        f"{len(t)} methods compared on {args.image}"
        + (f" ({failed} failed)" if failed else "")
        + f": {page} and {png} written"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ecgprep", description="Digitize pictures of paper 12-lead ECGs."
    )
    from . import __version__

    p.add_argument("--version", action="version", version=f"ecgprep {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp, jobs=True):
        if jobs:
            sp.add_argument("--jobs", type=int, default=-1, help="parallel workers (-1: all cores)")
        sp.add_argument("--quiet", action="store_true", help="no progress bar")
        sp.add_argument(
            "--option", action="append", metavar="NAME=VALUE", help="pipeline option (repeatable)"
        )

    s = sub.add_parser("submit", help="images + test.csv -> submission.csv")
    s.add_argument("images_dir")
    s.add_argument("--test-csv", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--summary", help="per-image summary CSV (one row per test.csv id)")
    common(s)
    s.set_defaults(func=_cmd_submit)

    s = sub.add_parser("score", help="score a submission against a solution")
    s.add_argument("solution")
    s.add_argument("submission")
    s.add_argument("--test-csv", help="test.csv giving each record's fs")
    s.set_defaults(func=_cmd_score)

    s = sub.add_parser("eval", help="evaluate over a folder with truth (by difficulty and lead)")
    s.add_argument("folder")
    s.add_argument("--out", help="folder for the CSV tables and a gallery.html of overlays")
    s.add_argument("--limit", type=int)
    common(s)
    s.set_defaults(func=_cmd_eval)

    s = sub.add_parser("demo", help="render printouts, digitize, score")
    s.add_argument("--out", default="ecgprep-out")
    s.add_argument("--n", type=int, default=8)
    common(s)
    s.set_defaults(func=_cmd_demo)

    s = sub.add_parser(
        "compare", help="every edge method and colour conversion on one image, side by side"
    )
    s.add_argument("image")
    s.add_argument("--out", required=True, help="folder for compare.html and compare.png")
    s.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="parallel workers (default 1: times without contention; -1: all cores)",
    )
    s.set_defaults(func=_cmd_compare)

    s = sub.add_parser("inspect", help="run one image and report every stage")
    s.add_argument("image")
    s.add_argument("--out", help="overlay PNG")
    common(s, jobs=False)
    s.set_defaults(func=_cmd_inspect)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ecgprep`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"ecgprep {args.command}: error: {exc}", file=sys.stderr)
        return 2
