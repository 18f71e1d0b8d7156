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
import contextlib
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from .errors import OptionsError

__all__ = ["main"]


class _Refused(ValueError):
    """A caller mistake found by the command line: one line on stderr, exit 2."""


def _parse_options(pairs) -> dict:
    opts = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise OptionsError(f"--option expects NAME=VALUE, got {pair!r}")
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


def _options(args) -> dict:
    """The ``--option`` pairs as a dict, validated (:class:`~ecgprep.errors.OptionsError`:
    unknown names, bad values). :func:`main` calls it before any command runs."""
    from .options import as_options

    opts = _parse_options(getattr(args, "option", None))
    as_options(opts)  # raises, naming the option
    return opts


def _check_args(args) -> None:
    """Every caller mistake that can be seen before the work: bad ``--jobs``, bad
    ``--option``, and each command's own (see ``_check_submit``)."""
    jobs = getattr(args, "jobs", None)
    if jobs == 0:
        raise _Refused(
            "--jobs expects a number of workers (1, 2, ...; -1: all cores; -2: all but one), got 0"
        )
    if hasattr(args, "option"):
        _options(args)
    if args.command == "submit":
        _check_submit(args)


def _resolved(path) -> Path:
    return Path(os.path.realpath(os.fspath(path)))


def _same_file(a, b) -> bool:
    if _resolved(a) == _resolved(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, case-insensitive file systems
    except OSError:
        return False


def _check_output(flag: str, path) -> None:
    out = Path(path)
    if out.is_dir():
        raise _Refused(f"{flag} expects a file to write, found the folder {out}")
    folder = out.parent
    if not folder.is_dir():
        raise _Refused(f"{flag} expects an existing folder to write in, {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _Refused(f"{flag} expects a writable folder, {folder} is not writable")


def _check_submit(args) -> None:
    """Inputs that exist; outputs in writable folders, not folders themselves,
    overwriting no input and not each other; a ``.parquet`` output needs its engine."""
    if not Path(args.images_dir).is_dir():
        raise _Refused(f"IMAGES_DIR expects a folder of images, {args.images_dir} is not a folder")
    if not Path(args.test_csv).is_file():
        raise _Refused(f"--test-csv expects a CSV file, {args.test_csv} is not a file")
    outputs = [("--out", args.out)] + ([("--summary", args.summary)] if args.summary else [])
    for flag, path in outputs:
        _check_output(flag, path)
        if _same_file(path, args.test_csv):
            raise _Refused(f"{flag} {path} would overwrite the input --test-csv {args.test_csv}")
    if args.summary and _same_file(args.out, args.summary):
        raise _Refused(
            f"--summary {args.summary} would overwrite --out {args.out}; expected two files"
        )
    if Path(args.out).suffix == ".parquet":
        import importlib.util

        if not any(importlib.util.find_spec(m) for m in ("pyarrow", "fastparquet")):
            raise _Refused(
                f"--out {args.out} is a .parquet file, which needs pyarrow or fastparquet; "
                "neither is installed (expected a .csv or .csv.gz, or one of them)"
            )


@contextlib.contextmanager
def _output_lock(out):
    """Hold ``.<name>.lock`` beside ``out`` for the whole run: a second ``submit`` on the
    same output fails at once instead of interleaving with this one.

    The lock file is left in place: removing it would let a third run lock a fresh
    file while a second still holds the old one.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one run per output is the user's care there
        yield
        return
    out = Path(out)
    lock = out.with_name(f".{out.name}.lock")
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock, flags, 0o666)
    except OSError as exc:
        raise _Refused(f"cannot create the lock file {lock} for --out {out}: {exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise _Refused(
                f"another ecgprep submit is writing {out} (it holds {lock}); "
                "expected one run per output"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be."""


#: Set by the SIGTERM handler. The KeyboardInterrupt it raises can be lost (a
#: handler that fires inside a finaliser, or a parallel backend that catches it
#: and reports a dead worker instead); commands check this before they write.
_TERMINATED = threading.Event()


def _stop_if_terminated() -> None:
    """Raise :class:`_Terminated` if a SIGTERM came, even one whose interrupt was lost."""
    if _TERMINATED.is_set():
        raise _Terminated("SIGTERM")


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Turn SIGTERM into KeyboardInterrupt for the duration: temporary files are
    removed and joblib stops its workers, as on Ctrl-C."""
    _TERMINATED.clear()
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum, frame):
        _TERMINATED.set()
        raise _Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cmd_submit(args) -> int:
    with _output_lock(args.out):
        return _submit(args)


def _submit(args) -> int:
    from ._atomic import write_atomic
    from .batch import process_batch_for_submission
    from .submission import images_for_test, read_test_csv, submission_with_report, write_submission

    images_dir = Path(args.images_dir)
    with warnings.catch_warnings(record=True) as read_warnings:
        # Duplicate rows are dropped with a warning: report it like the others, below.
        warnings.simplefilter("always")
        test = read_test_csv(args.test_csv)
    present, paths, missing = images_for_test(test, images_dir)
    ids = present + missing
    if ids and not present and not args.allow_missing:
        from .io import IMAGE_SUFFIXES

        suffixes = "/".join(dict.fromkeys(x.lower() for x in IMAGE_SUFFIXES))
        raise _Refused(
            f"expected images named <id>{suffixes} in {images_dir} for the ids of "
            f"{args.test_csv}, found none for any of its {len(ids)} ids (e.g. {ids[0]!r}); "
            "--allow-missing writes fallback values for all of them"
        )
    t0 = time.perf_counter()
    results = process_batch_for_submission(
        paths, _options(args), n_jobs=args.jobs, progress=not args.quiet, ids=present
    )
    _stop_if_terminated()  # a batch that went on after a lost SIGTERM writes nothing
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sub, status = submission_with_report(results, test)
    if args.summary:
        summ = results.summary.set_index("id")
        status = status.set_index("id")
        for col in ("quality_pass", "failed_stage", "seconds", *VERDICT_COLUMNS):
            status[col] = [summ[col].get(i) if i in summ.index else None for i in status.index]
        status = status.reset_index()
    try:
        write_submission(sub, args.out)
        if args.summary:
            write_atomic(args.summary, lambda tmp: status.to_csv(tmp, index=False))
    except OSError as exc:  # a full disk, a folder made read-only meanwhile
        print(f"ecgprep submit: error: cannot write the output: {exc}", file=sys.stderr)
        return 2
    n_bad = int((status["status"] != "ok").sum()) if "status" in status else 0
    for w in [*read_warnings, *caught]:
        print(f"warning: {w.message}", file=sys.stderr)
    summary = results.summary
    n_suspect = int((summary["ok"] & summary["suspect"]).sum()) if len(summary) else 0
    print(
        f"wrote {args.out}: {len(sub)} rows for {len(ids)} images "
        f"({len(present)} found, {n_bad} with fallback values, {n_suspect} read but suspect) "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    if n_suspect:
        print(verdict_report(summary, header=False))
    return 0


#: Columns of the verdict that ``submit --summary`` adds to each image's row.
VERDICT_COLUMNS = ("layout", "paper_speed", "gain", "confidence", "suspect", "suspect_reasons")
#: Suspect readings ``verdict_report`` names one by one (the rest are counted).
VERDICT_LIST_LIMIT = 10


def verdict_report(summary, *, header: bool = True, limit: int = VERDICT_LIST_LIMIT) -> str:
    """The verdicts of a batch in a few lines: counts, then the suspect readings named.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`ecgprep.batch.summary_frame` of the batch.
    header : bool
        Start with the counts (read, suspect, failed).
    limit : int
        Suspect readings named one by one, weakest first; the others are counted.

    Returns
    -------
    str
        Lines such as ``"suspect 0042 (confidence 0.00): Einthoven's law broken
        (residual 0.92)"``; failed images are not listed (their error is reported
        with them).
    """
    ok = summary["ok"].astype(bool)
    suspect = ok & summary["suspect"].astype(bool)
    lines = []
    if header:
        lines.append(
            f"verdict: {int(ok.sum())} read, {int(suspect.sum())} of them suspect, "
            f"{int((~ok).sum())} failed"
        )
    flagged = summary[suspect].sort_values("confidence", kind="stable")
    for _, row in flagged.head(limit).iterrows():
        lines.append(
            f"suspect {row['id']} (confidence {row['confidence']:.2f}): {row['suspect_reasons']}"
        )
    if len(flagged) > limit:
        lines.append(f"... and {len(flagged) - limit} more suspect readings (see the summary)")
    return "\n".join(lines)


def _expected_ids(test):
    """Every ``{id}_{row}_{lead}`` a ``test.csv`` asks for."""
    import numpy as np
    import pandas as pd

    n = test["number_of_rows"].to_numpy(dtype=np.int64)
    rows = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    prefix = np.repeat(test["id"].astype(str).to_numpy(dtype=object), n)
    suffix = np.repeat(test["lead"].astype(str).to_numpy(dtype=object), n)
    return pd.Index(prefix + "_" + rows.astype(str).astype(object) + "_" + suffix, dtype=object)


def _check_score_inputs(args, solution, submission) -> None:
    """Refuse what looks like swapped arguments, or a test.csv that disagrees.

    A solution holds every id the competition asks for; a submission holds those
    and nothing else. So a "solution" whose ids are a strict part of the
    "submission"'s, or a test.csv that matches the submission but not the
    solution, means the two were given the other way round. So does a "solution"
    record that is all zeros: that is a submission's fallback, never an ECG. With
    the same ids on both sides and no fallback record, the two cannot be told apart.
    """
    import pandas as pd

    sol = pd.Index(solution["id"].astype(str), dtype=object)
    sub = pd.Index(submission["id"].astype(str), dtype=object)
    swapped = "; the arguments look swapped (expected: ecgprep score SOLUTION SUBMISSION)"
    only_sub = sub.difference(sol)
    only_sol = sol.difference(sub)
    if args.test_csv:
        from .submission import read_test_csv

        want = _expected_ids(read_test_csv(args.test_csv))
        lacking = want.difference(sol)
        extra = sol.difference(want)
        if len(lacking) or len(extra):
            looks_swapped = not len(want.difference(sub)) and not len(sub.difference(want))
            raise _Refused(
                f"--test-csv {args.test_csv} asks for {len(want)} ids; SOLUTION {args.solution} "
                f"lacks {len(lacking)} of them and has {len(extra)} others (e.g. "
                f"{(lacking[:1].tolist() or extra[:1].tolist())[0]!r})"
                + (swapped if looks_swapped else "; expected the solution of this test.csv")
            )
    if "value" in solution.columns and len(solution):
        values = pd.to_numeric(solution["value"], errors="coerce")
        record = solution["id"].astype(str).str.split("_", n=1).str[0]
        flat = (values.fillna(0) == 0).groupby(record.to_numpy(), sort=False).all()
        if flat.any():
            raise _Refused(
                f"SOLUTION {args.solution} holds only zeros for record {flat.index[flat][0]!r}, "
                "as a submission's fallback does, never a recorded ECG" + swapped
            )
    if len(only_sub) and not len(only_sol):
        raise _Refused(
            f"SUBMISSION {args.submission} has {len(only_sub)} ids that SOLUTION "
            f"{args.solution} lacks (e.g. {only_sub[0]!r}), while it has every SOLUTION id"
            + swapped
        )


def _cmd_score(args) -> int:
    import pandas as pd

    from .metrics import score_frames

    def read(path, what):
        try:
            return pd.read_csv(path, dtype={"id": str})
        except (
            OSError,
            pd.errors.ParserError,
            pd.errors.EmptyDataError,
            UnicodeDecodeError,
        ) as exc:
            raise _Refused(f"{what} expects a CSV file with columns id,value: {exc}") from None

    solution = read(args.solution, "SOLUTION")
    submission = read(args.submission, "SUBMISSION")
    for what, frame in (("SOLUTION", solution), ("SUBMISSION", submission)):
        if "id" not in frame.columns:
            raise _Refused(f"{what} expects columns id,value, found {list(frame.columns)}")
    _check_score_inputs(args, solution, submission)
    res = score_frames(solution, submission, args.test_csv)

    with pd.option_context("display.width", 160):
        print(res.per_record.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"score: {res.score_db:.2f} dB over {res.n_records} records")
    return 0


def _write_worst_leads(ev, folder: Path, n: int = 10) -> None:
    """PNGs of the ``n`` worst leads: truth, reading (aligned as the metric aligns it)."""
    import cv2

    from ._atomic import write_atomic
    from .metrics import align_lead
    from .viz.leadplot import lead_plot

    folder.mkdir(exist_ok=True)
    for k, w in enumerate(ev.worst_leads(n).itertuples(), 1):
        truth, reading, fs = ev.lead(w.id, w.lead)
        aligned, _, _ = align_lead(truth, reading, fs)
        title = (
            f"{w.id} {w.lead}: {w.snr_db:.1f} dB, lag {w.lag_ms:+.1f} ms, scale {w.scale:.3f} "
            "(black truth, red reading, blue difference)"
        )
        img = lead_plot(truth, aligned, fs, title=title)
        _, png = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        name = f"{k:02d}_{w.id}_{w.lead}.png"
        write_atomic(folder / name, lambda tmp, b=png: tmp.write_bytes(b.tobytes()))


def _cmd_eval(args) -> int:
    from ._atomic import write_atomic
    from .evaluate import evaluate_folder

    if args.out:
        out = Path(args.out)
        try:
            out.mkdir(parents=True, exist_ok=True)  # before the work, not after
        except OSError as exc:
            raise _Refused(f"--out expects a folder it can create or write in: {exc}") from None
        _check_output("--out", out / "summary.csv")
    ev = evaluate_folder(
        args.folder, _options(args), n_jobs=args.jobs, progress=not args.quiet, limit=args.limit
    )
    _stop_if_terminated()
    print(ev.report())
    print(verdict_report(ev.summary))
    if args.out:
        tables = ("per_record", "by_difficulty", "per_lead", "summary", "diagnostics")
        for name in tables + ("errors_by_difficulty", "by_fs"):
            table = getattr(ev, name)
            write_atomic(out / f"{name}.csv", lambda tmp, t=table: t.to_csv(tmp, index=False))
        _write_worst_leads(ev, out / "worst")
        from .viz import write_gallery

        # The evaluation holds its results; the options say how to draw them (gain).
        page = write_gallery(ev, args.folder, out / "gallery.html", options=_options(args))
        print(f"tables and {page} written to {out}")
    return 0


def _cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(
        out_dir=args.out,
        n=args.n,
        n_jobs=args.jobs,
        progress=not args.quiet,
        options=_options(args),
    )


def _cmd_inspect(args) -> int:
    from .pipeline import process_image_for_submission

    res = process_image_for_submission(args.image, _options(args))
    print(f"{res.image_id}: ok={res.ok} error={res.error}")
    for rec in res.stages:
        print(f"  {rec.name:9s} {rec.seconds * 1000:8.1f} ms  {rec.result!r}"[:300])
    if res.ok:
        print(
            f"verdict: confidence {res.confidence:.2f}, "
            + (f"suspect: {'; '.join(res.suspect_reasons)}" if res.suspect else "not suspect")
        )
        leads = " ".join(f"{k} {v:.2f}" for k, v in res.lead_confidence.items())
        print(f"  lead confidence: {leads}")
        for lead, why in res.lead_reasons.items():
            if why:
                print(f"  {lead}: {'; '.join(why)}")
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
    s.add_argument(
        "--allow-missing",
        action="store_true",
        help="write fallback values even when no test.csv id has an image in IMAGES_DIR",
    )
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
    """Entry point of the ``ecgprep`` command.

    Caller mistakes (bad arguments, options or input files) print one line on
    stderr and return 2, before any work. SIGTERM is handled as Ctrl-C: outputs
    are left as they were (see :mod:`ecgprep._atomic`), workers are stopped, and
    the exit code is 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _sigterm_as_interrupt():
            _check_args(args)
            code = int(args.func(args) or 0)
            _stop_if_terminated()  # the exit code says a SIGTERM came, lost or not
            return code
    except (ValueError, FileNotFoundError) as exc:
        print(f"ecgprep {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        term = isinstance(exc, _Terminated)
        print(
            f"ecgprep {args.command}: interrupted by {'SIGTERM' if term else 'Ctrl-C'}; "
            "outputs left as they were",
            file=sys.stderr,
        )
        return 128 + (signal.SIGTERM if term else signal.SIGINT)
