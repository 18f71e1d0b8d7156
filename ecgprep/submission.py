"""From digitized signals and the competition's ``test.csv`` to ``submission.csv``.

``test.csv`` asks, per image and lead, for ``number_of_rows`` samples at ``fs`` Hz.
Row ``r`` of a lead is the signal at time ``window_start + r / fs`` of the 10 s
record, where the window is the lead's printed column in the standard 3 x 4
layout (lead II: the whole 10 s rhythm strip):

=================  ============
leads              window start
=================  ============
II                 0 s (10 s)
I, III             0 s
aVR, aVL, aVF      2.5 s
V1, V2, V3         5 s
V4, V5, V6         7.5 s
=================  ============

Signals are resampled by linear interpolation (edge values held outside their
span). Whatever could not be digitized (image missing from the results, failed,
or lacking a lead) is filled with the fallback (zeros), counted in one
:class:`SubmissionFallbackWarning` and in the per-image report of
:func:`submission_with_report`. Every requested id appears exactly once, in
``test.csv`` order, and every value is finite.
"""

from __future__ import annotations

import gzip
import os
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._atomic import write_atomic
from ._validate import check_number, check_positive, pick
from .errors import TestCsvError
from .signals import LeadSignal
from .standards import LEADS  # the 12 leads in test.csv order (re-exported)

__all__ = [
    "images_for_test",
    "FALLBACKS",
    "LEADS",
    "LEAD_WINDOW_START_S",
    "LeadSignal",
    "MAX_FS",
    "MAX_RECORD_S",
    "SubmissionFallbackWarning",
    "TestCsvWarning",
    "read_test_csv",
    "resample_lead",
    "submission_frame",
    "submission_with_report",
    "write_submission",
]

#: Start (s) of each lead's requested window within the 10 s record.
LEAD_WINDOW_START_S: dict[str, float] = {
    "I": 0.0,
    "II": 0.0,
    "III": 0.0,
    "aVR": 2.5,
    "aVL": 2.5,
    "aVF": 2.5,
    "V1": 5.0,
    "V2": 5.0,
    "V3": 5.0,
    "V4": 7.5,
    "V5": 7.5,
    "V6": 7.5,
}

_TEST_COLUMNS = ("id", "lead", "fs", "number_of_rows")
_MAX_LISTED = 10

#: Longest record (s) a ``test.csv`` row may ask for: ``number_of_rows <= MAX_RECORD_S * fs``.
MAX_RECORD_S = 600.0
#: Highest sampling rate (Hz) a ``test.csv`` row may give (the competition's highest is 1025).
MAX_FS = 10_000.0
#: Bytes a file name may hold on common file systems (ext4, NTFS, APFS).
_NAME_MAX = 255
#: Characters refused in ids besides control characters: CSV quoting (ids are
#: written to ``submission.csv`` unquoted) and path separators.
_CSV_UNSAFE = (",", '"', "'")
_SEPARATORS = ("/", "\\")
_DRIVE = re.compile(r"[A-Za-z]:")


class SubmissionFallbackWarning(UserWarning):
    """Some requested leads were filled with the fallback instead of a digitized signal."""


class TestCsvWarning(UserWarning):
    """``test.csv`` had a fixable problem (duplicate rows dropped)."""

    __test__ = False  # not a pytest test class


# ------------------------------------------------------------------- test.csv


def _id_strings(col: pd.Series) -> np.ndarray:
    """Ids as stripped strings, None where missing; integral floats (from a numeric read)
    lose their '.0'. An object array: a frame would turn None back into NaN."""
    if pd.api.types.is_float_dtype(col.dtype):
        finite = col.notna() & np.isfinite(col.to_numpy(dtype=np.float64, na_value=np.nan))
        if finite.all() and (col == col.round()).all():
            col = col.astype(np.int64)
    missing = col.isna().to_numpy(dtype=bool)
    out = np.empty(len(col), dtype=object)
    out[:] = [None if m else str(v).strip() for v, m in zip(col.tolist(), missing, strict=True)]
    return out


def _show(value: Any, limit: int = 60) -> str:
    """``repr(value)`` of the Python value (``500``, not ``np.int64(500)``), cut to its
    first ``limit`` characters for long strings."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    return repr(value)


def _name_rows(df: pd.DataFrame, mask: np.ndarray, what: str) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(
        f"row {int(i)} (id={_show(df['id'].iat[i])}, lead={_show(df['lead'].iat[i])}, "
        f"fs={_show(df['fs'].iat[i])}, number_of_rows={_show(df['number_of_rows'].iat[i])})"
        for i in idx[:_MAX_LISTED]
    )
    more = f" and {idx.size - _MAX_LISTED} more" if idx.size > _MAX_LISTED else ""
    return f"{what}: {shown}{more}"


def _max_id_bytes() -> int:
    """Longest id (UTF-8 bytes) whose image file name, with any accepted suffix, can exist."""
    from .io import IMAGE_SUFFIXES

    return _NAME_MAX - max(len(s.encode("utf-8")) for s in IMAGE_SUFFIXES)


def _id_problem(image_id: str | None, max_bytes: int) -> str | None:
    """Why ``image_id`` can't name an image file inside the images folder, or None.

    An id is a file-name stem: ``<id><suffix>`` must be one file directly in the
    images folder, and ``f"{id}_{row}_{lead}"`` must go into ``submission.csv``
    without quoting. The returned text is the cause shown in the error.
    """
    if image_id is None or image_id == "":
        return "empty id"
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in image_id):
        return "id holding a NUL, line break or other control character"
    try:
        n_bytes = len(image_id.encode("utf-8"))
    except UnicodeEncodeError:
        return "id that is not valid Unicode text (a lone surrogate)"
    if image_id[0] in _SEPARATORS or _DRIVE.match(image_id):
        return (
            "id that is an absolute path or starts with a drive "
            "(an id names a file in the images folder)"
        )
    if any(sep in image_id for sep in _SEPARATORS):
        return "id holding a path separator ('/' or '\\'; an id names a file in the images folder)"
    if image_id in (".", ".."):
        return "id '.' or '..' (not a file name)"
    if any(c in image_id for c in _CSV_UNSAFE):
        return "id holding a comma or quote (ids are written to submission.csv unquoted)"
    if n_bytes > max_bytes:
        return (
            f"id longer than {max_bytes} bytes in UTF-8 (its image file name, with the "
            f"longest accepted suffix, would pass the {_NAME_MAX}-byte limit of a file name)"
        )
    return None


def read_test_csv(path_or_df: Any) -> pd.DataFrame:
    """Read and validate the competition ``test.csv``.

    Parameters
    ----------
    path_or_df : str or os.PathLike or pandas.DataFrame
        The CSV or an equivalent frame (not modified). The CSV is read as text,
        with no value taken for missing: ids such as ``NA``, ``null`` or ``00123``
        are kept as written. In a frame, integral float ids (``101.0``) become
        ``'101'``; a NaN id is an empty id.

    Returns
    -------
    test : pandas.DataFrame
        Columns ``id`` (str), ``lead`` (str), ``fs`` (float64), ``number_of_rows``
        (int64), in input order with a fresh index, duplicates removed. Ids and
        leads are stripped of surrounding white space.

    Raises
    ------
    TestCsvError
        A required column is missing (named); or rows (named, counted from 0 after
        the header, with their id and the cause) with an id that can't name an
        image file in the images folder (see Notes), an unknown lead, ``fs`` that
        is not a finite number in (0, :data:`MAX_FS`], or ``number_of_rows`` that
        is not an integer >= 1 or asks for more than :data:`MAX_RECORD_S`
        (10 minutes) of signal at the row's ``fs``. Nothing is sized by
        ``number_of_rows`` before these checks.

    Notes
    -----
    Ids come from an untrusted file and are used as file-name stems
    (``<images_dir>/<id>.png``) and in the unquoted ``id`` column of
    ``submission.csv`` (``f"{id}_{row}_{lead}"``). An id is refused if it is
    empty; holds a NUL, line break or other control character; is an absolute
    path or starts with a drive (``C:``); holds a path separator (``/`` or
    ``\\``); is ``.`` or ``..``; holds a comma or a quote (``"`` or ``'``); or
    is longer than 255 bytes in UTF-8 less the longest accepted image suffix.
    Spaces, dashes, underscores, dots and other Unicode letters are accepted (the
    metric splits row ids from the right, so ``_`` in an id is safe).

    Warns
    -----
    TestCsvWarning
        Duplicate ``(id, lead)`` rows: all but the first are dropped and named.

    Examples
    --------
    >>> import pandas as pd
    >>> t = read_test_csv(pd.DataFrame({"id": [101, 101], "lead": ["I", "II"],
    ...                                 "fs": [500, 500], "number_of_rows": [1250, 5000]}))
    >>> t["id"].tolist(), t["number_of_rows"].tolist()
    (['101', '101'], [1250, 5000])
    """
    if isinstance(path_or_df, pd.DataFrame):
        raw = path_or_df
    elif isinstance(path_or_df, str | os.PathLike):
        try:
            # Every column as text, nothing as NaN: an id "NA", "null" or "00123" stays
            # itself, an empty one stays "" (and is refused below); fs and
            # number_of_rows are parsed as numbers and validated below.
            with open(path_or_df, "rb") as fh:
                has_nul = b"\0" in fh.read()
            # pandas' C parser (before 3.0) cuts a field at a NUL byte, turning a
            # hostile id into a harmless-looking one: such files are read whole by
            # the Python parser, and the id is refused by name below.
            engine = "python" if has_nul else None
            raw = pd.read_csv(path_or_df, dtype=str, keep_default_na=False, engine=engine)
        except (
            OSError,
            pd.errors.ParserError,
            pd.errors.EmptyDataError,
            UnicodeDecodeError,
        ) as exc:
            raise TestCsvError(f"cannot read test.csv {str(path_or_df)!r}: {exc}") from exc
    else:
        raise TestCsvError(
            f"test.csv: expected a path or a DataFrame, got {type(path_or_df).__name__}"
        )
    missing = [c for c in _TEST_COLUMNS if c not in raw.columns]
    if missing:
        raise TestCsvError(
            f"test.csv: missing column(s) {', '.join(map(repr, missing))} "
            f"(found {list(map(str, raw.columns))})"
        )
    ids = _id_strings(raw["id"])
    leads = _id_strings(raw["lead"])
    df = pd.DataFrame(  # as found, for the messages (object columns keep None as None)
        {
            "id": pd.Series(ids, dtype=object),
            "lead": pd.Series(leads, dtype=object),
            "fs": raw["fs"].to_numpy(),
            "number_of_rows": raw["number_of_rows"].to_numpy(),
        }
    )
    fs = pd.to_numeric(df["fs"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    nrows = pd.to_numeric(df["number_of_rows"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    problems = []
    max_bytes = _max_id_bytes()
    causes = {v: _id_problem(v, max_bytes) for v in dict.fromkeys(ids.tolist())}
    for cause in dict.fromkeys(c for c in causes.values() if c is not None):
        bad_id = np.array([causes[v] == cause for v in ids], dtype=bool)
        problems.append(_name_rows(df, bad_id, cause))
    bad_lead = ~np.isin(leads.astype(str), LEADS)
    if bad_lead.any():
        problems.append(_name_rows(df, bad_lead, f"unknown lead (valid: {', '.join(LEADS)})"))
    bad_fs = ~np.isfinite(fs) | (fs <= 0)
    if bad_fs.any():
        problems.append(_name_rows(df, bad_fs, "fs not a finite number > 0"))
    fast = ~bad_fs & (fs > MAX_FS)
    if fast.any():
        problems.append(_name_rows(df, fast, f"fs above {MAX_FS:g} Hz"))
    with np.errstate(invalid="ignore"):
        bad_n = ~np.isfinite(nrows) | (nrows < 1) | (nrows != np.floor(nrows))
    if bad_n.any():
        problems.append(_name_rows(df, bad_n, "number_of_rows not an integer >= 1"))
    # Checked here, so the submission's arrays are never sized by an absurd request.
    too_long = ~bad_n & ~bad_fs & ~fast & (nrows > MAX_RECORD_S * fs)
    if too_long.any():
        problems.append(
            _name_rows(
                df,
                too_long,
                f"number_of_rows more than {MAX_RECORD_S:g} s of signal at the row's fs "
                f"(> {MAX_RECORD_S:g} * fs)",
            )
        )
    if problems:
        raise TestCsvError("test.csv: " + "; ".join(problems))
    df = pd.DataFrame(
        {"id": ids, "lead": leads, "fs": fs, "number_of_rows": nrows.astype(np.int64)}
    )
    dup = df.duplicated(["id", "lead"], keep="first").to_numpy()
    if dup.any():
        pairs = [f"({i!r}, {lead!r})" for i, lead in zip(ids[dup], leads[dup], strict=True)]
        more = f" and {len(pairs) - _MAX_LISTED} more" if len(pairs) > _MAX_LISTED else ""
        warnings.warn(
            f"test.csv: dropped {int(dup.sum())} duplicate (id, lead) row(s): "
            f"{', '.join(pairs[:_MAX_LISTED])}{more}",
            TestCsvWarning,
            stacklevel=2,
        )
        df = df.loc[~dup]
    return df.reset_index(drop=True)


# ----------------------------------------------------------------- resampling


def resample_lead(signal: Any, fs: float, t0: float, n: int) -> np.ndarray | None:
    """Sample a lead signal at ``t0 + r / fs`` for ``r = 0..n-1``.

    Parameters
    ----------
    signal : LeadSignal or object with ``values``, ``fs``, ``start_s``
        The digitized lead (``values[j]`` at time ``start_s + j / signal.fs``).
    fs : float
        Requested sampling rate (Hz).
    t0 : float
        Requested time (s) of row 0 within the record.
    n : int
        Number of rows.

    Returns
    -------
    values : (n,) ndarray of float64 or None
        Linearly interpolated samples, edge values held outside the signal's span,
        NaN/inf samples bridged by interpolation from their finite neighbours.
        ``None`` when the signal has no finite sample (the caller falls back).

    Raises
    ------
    ValueError
        If the signal's ``fs`` is not finite and > 0 or its ``start_s`` is not finite.

    Examples
    --------
    >>> sig = LeadSignal("II", [0.0, 1.0, 2.0, 3.0], fs=2.0, start_s=0.0)
    >>> resample_lead(sig, fs=4.0, t0=0.0, n=8).tolist()
    [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0]
    """
    v = np.asarray(signal.values, dtype=np.float64).reshape(-1)
    fs_in = check_positive(signal.fs, "signal.fs")
    start = check_number(signal.start_s, "signal.start_s")
    finite = np.isfinite(v)
    if not finite.any():
        return None
    # Fractional sample index of each requested time; the ratio keeps equal rates exact.
    u = (t0 - start) * fs_in + np.arange(n) * (fs_in / fs)
    if finite.all():
        out = np.interp(u, np.arange(v.size, dtype=np.float64), v)
    else:
        idx = np.flatnonzero(finite)
        out = np.interp(u, idx.astype(np.float64), v[idx])
    return out


def _fallback_zeros(n: int, fs: float, lead: str) -> np.ndarray:
    return np.zeros(n)


_FALLBACKS: dict[str, Callable[[int, float, str], np.ndarray]] = {"zeros": _fallback_zeros}
#: Names accepted by the ``fallback`` argument (what a failed image's rows hold).
FALLBACKS = tuple(_FALLBACKS)


# ----------------------------------------------------------------- submission


def _pick_results(results: Iterable[Any]) -> dict[str, Any]:
    """image_id -> result; for repeated ids the first ok result wins, else the first."""
    by_id: dict[str, Any] = {}
    for res in results:
        key = str(res.image_id)
        prev = by_id.get(key)
        if prev is None or (not bool(prev.ok) and bool(res.ok)):
            by_id[key] = res
    return by_id


def _build(results: Iterable[Any], test: Any, fallback: str):
    fill = pick(_FALLBACKS, fallback, "fallback")
    test = read_test_csv(test)
    by_id = _pick_results(results)
    ids = test["id"].to_numpy(dtype=object)
    leads = test["lead"].to_numpy(dtype=object)
    fss = test["fs"].to_numpy(dtype=np.float64)
    ns = test["number_of_rows"].to_numpy(dtype=np.int64)
    ends = np.cumsum(ns)
    starts = ends - ns
    total = int(ends[-1]) if ns.size else 0
    values = np.empty(total, dtype=np.float64)
    out_ids = np.empty(total, dtype=object)
    suffixes: dict[tuple[str, int], np.ndarray] = {}

    # Per image: [requested leads, fallback leads, status override, error, notes]
    report: dict[str, dict[str, Any]] = {}
    for i in range(ids.size):
        image_id, lead, fs, n = ids[i], leads[i], float(fss[i]), int(ns[i])
        a, b = int(starts[i]), int(ends[i])
        suf = suffixes.get((lead, n))
        if suf is None:
            suf = np.array([f"_{r}_{lead}" for r in range(n)], dtype=object)
            suffixes[(lead, n)] = suf
        out_ids[a:b] = image_id + suf

        info = report.get(image_id)
        if info is None:
            res = by_id.get(image_id)
            if res is None:
                info = {"status": "missing", "error": "no result for this image"}
            elif not bool(res.ok):
                info = {"status": "failed", "error": str(res.error) if res.error else "failed"}
            else:
                info = {"status": "ok", "error": None}
            info.update(res=res, n_leads=0, n_fallback=0, notes=[])
            report[image_id] = info
        info["n_leads"] += 1

        col = None
        if info["status"] == "ok":
            signals = getattr(info["res"], "signals", None)
            sig = None if signals is None else signals.get(lead)
            if sig is None:
                info["notes"].append(f"{lead} (missing)")
            else:
                try:
                    col = resample_lead(sig, fs, LEAD_WINDOW_START_S[lead], n)
                except (AttributeError, TypeError, ValueError) as exc:
                    info["notes"].append(f"{lead} (invalid signal: {exc})")
                else:
                    if col is None:
                        info["notes"].append(f"{lead} (no finite sample)")
        if col is None:
            info["n_fallback"] += 1
            col = fill(n, fs, lead)
        values[a:b] = col

    bad = ~np.isfinite(values)
    if bad.any():  # only reachable through absurd inputs (e.g. inf interpolation weights)
        values[bad] = 0.0

    rows = []
    for image_id, info in report.items():
        status, error = info["status"], info["error"]
        if status == "ok" and info["n_fallback"]:
            notes = "; ".join(info["notes"])
            if info["n_fallback"] == info["n_leads"]:
                status, error = "failed", f"no usable lead signal: {notes}"
            else:
                status, error = "partial", f"fallback for {notes}"
        rows.append((image_id, status, int(info["n_fallback"]), error))
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    summary = pd.DataFrame(
        {
            "id": pd.Series(cols[0], dtype=object),
            "status": pd.Series(cols[1], dtype=object),
            "n_fallback_leads": pd.Series(cols[2], dtype=np.int64),
            "error": pd.Series(cols[3], dtype=object),  # None stays None
        }
    )

    frame = pd.DataFrame({"id": out_ids, "value": values})
    n_fb_images = int((summary["status"] != "ok").sum())
    if n_fb_images:
        counts = summary["status"].value_counts()
        parts = ", ".join(
            f"{int(counts[s])} {s}" for s in ("missing", "failed", "partial") if s in counts
        )
        warnings.warn(
            f"submission: fallback {fallback!r} used for {int(summary['n_fallback_leads'].sum())} "
            f"of {ids.size} leads in {n_fb_images} of {len(summary)} images ({parts})",
            SubmissionFallbackWarning,
            stacklevel=3,
        )
    return frame, summary


def images_for_test(
    test: Any, images_dir: str | os.PathLike
) -> tuple[list[str], list[Path], list[str]]:
    """Find the image file of every image id of ``test.csv``.

    Parameters
    ----------
    test : DataFrame or path
        The competition ``test.csv`` (validated with :func:`read_test_csv`, which
        refuses ids that are not plain file-name stems).
    images_dir : str or Path
        Folder holding ``<id>.png`` (or another suffix that
        :func:`ecgprep.io.find_image` accepts).

    Returns
    -------
    ids : list of str
        Ids whose image was found, in ``test.csv`` order.
    paths : list of Path
        Their files, each inside ``images_dir`` once links are followed.
    missing : list of str
        Ids with no image file (the submission gives them the fallback).

    Raises
    ------
    TestCsvError
        If ``test`` is malformed.
    ImageLoadError
        If the file found for an id is, once symbolic links are followed, outside
        ``images_dir`` (see Notes); the message names the id, the file and where it
        leads.

    Notes
    -----
    The images folder is the boundary of what is read: besides the checks on ids,
    every file found is resolved (``..`` and symbolic links followed) and must lie
    inside the resolved ``images_dir``. A link to a file elsewhere is refused,
    not taken as missing, so a planted link stops the run before any work and a
    folder of links made on purpose gets a clear answer: copy the files in, or
    give the folder that holds them. Links that stay inside the folder, and an
    ``images_dir`` that is itself a link, are accepted.
    """
    from .errors import ImageLoadError
    from .io import find_image

    test = read_test_csv(test)
    root = Path(images_dir).resolve()
    ids, paths, missing = [], [], []
    for image_id in dict.fromkeys(test["id"].tolist()):
        p = find_image(images_dir, image_id)
        if p is None:
            missing.append(image_id)
            continue
        real = Path(p).resolve()
        if not real.is_relative_to(root) or real == root:
            raise ImageLoadError(
                f"{p}: the image of id {image_id!r} leads to {str(real)!r}, outside the "
                f"images folder {str(root)!r}; refused (copy the file into the folder, or "
                f"give the folder that holds it)"
            )
        ids.append(image_id)
        paths.append(p)
    return ids, paths, missing


def submission_frame(results: Iterable[Any], test: Any, *, fallback: str = "zeros") -> pd.DataFrame:
    """Build the ``id,value`` submission frame.

    Parameters
    ----------
    results : iterable of result objects
        Each with ``image_id`` (str), ``ok`` (bool), ``error`` (str or None) and
        ``signals`` (None or mapping lead name -> :class:`LeadSignal`-like object
        with ``values``, ``fs``, ``start_s``). If an image id repeats, the first ok
        result is used. Results for images not in ``test`` are ignored.
    test : str or os.PathLike or pandas.DataFrame
        The competition ``test.csv`` (validated with :func:`read_test_csv`).
    fallback : {'zeros'}
        Values for leads that could not be digitized.

    Returns
    -------
    submission : pandas.DataFrame
        Columns ``id`` (str, ``f"{image_id}_{row}_{lead}"``) and ``value`` (finite
        float64, mV); for each ``test`` row in order, rows ``0..number_of_rows-1``.

    Raises
    ------
    TestCsvError
        If ``test`` is malformed.
    ValueError
        If ``fallback`` is unknown.

    Warns
    -----
    SubmissionFallbackWarning
        Once, counting the images and leads filled with the fallback.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from types import SimpleNamespace
    >>> test = pd.DataFrame({"id": ["7"], "lead": ["II"], "fs": [2.0], "number_of_rows": [3]})
    >>> sig = LeadSignal("II", np.arange(20) / 10, fs=2.0, start_s=0.0)
    >>> res = SimpleNamespace(image_id="7", ok=True, error=None, signals={"II": sig})
    >>> submission_frame([res], test).values.tolist()
    [['7_0_II', 0.0], ['7_1_II', 0.1], ['7_2_II', 0.2]]
    """
    frame, _ = _build(results, test, fallback)
    return frame


def submission_with_report(
    results: Iterable[Any], test: Any, *, fallback: str = "zeros"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the submission frame and a per-image report.

    Parameters
    ----------
    results, test, fallback
        As in :func:`submission_frame`.

    Returns
    -------
    submission : pandas.DataFrame
        As :func:`submission_frame` returns it.
    report : pandas.DataFrame
        One row per image id of ``test`` (first-appearance order): ``id``,
        ``status`` (``'ok'``; ``'partial'``: some leads fell back; ``'failed'``: the
        result failed or no lead was usable; ``'missing'``: no result),
        ``n_fallback_leads`` (int) and ``error`` (str or None).

    Raises
    ------
    TestCsvError, ValueError
        As in :func:`submission_frame`.

    Warns
    -----
    SubmissionFallbackWarning
        Once, if any image is not ``'ok'``.

    Examples
    --------
    >>> import warnings, pandas as pd
    >>> test = pd.DataFrame({"id": ["7"], "lead": ["V1"], "fs": [500], "number_of_rows": [1250]})
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", SubmissionFallbackWarning)
    ...     sub, rep = submission_with_report([], test)
    >>> len(sub), rep["status"].tolist()
    (1250, ['missing'])
    """
    return _build(results, test, fallback)


def _check_csv_ids(ids: np.ndarray, *, chunk: int = 1_000_000) -> None:
    """Raise ValueError if an id would need CSV quoting (comma, double quote, CR, LF)."""
    unsafe = (",", '"', "\n", "\r")
    for s in range(0, ids.size, chunk):
        part = ids[s : s + chunk].tolist()
        text = "".join(part)  # a few scans at C speed instead of one test per id
        if any(c in text for c in unsafe):
            bad = [i for i in part if any(c in i for c in unsafe)]
            raise ValueError(
                f"submission: ids are written unquoted, so none may hold a comma, a double "
                f"quote or a line break; found {len(bad)} in rows {s}..{s + len(part) - 1}, "
                f"e.g. {bad[:5]}"
            )


def write_submission(df: pd.DataFrame, path: str | os.PathLike, *, decimals: int = 4) -> Path:
    """Write a submission frame as ``id,value`` CSV (no index).

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``id`` and ``value`` (finite).
    path : str or os.PathLike
        Destination. ``.gz`` is gzip-compressed; ``.parquet`` is written with
        :meth:`pandas.DataFrame.to_parquet` (needs pyarrow or fastparquet). The file
        is written to a fresh temporary file beside the destination (created
        exclusively, so a planted file or link is never followed) and renamed into
        place, so an interrupted write leaves the previous file, never a truncated one.
    decimals : int
        Digits after the decimal point (4 = 0.1 uV).

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ValueError
        Missing columns, non-finite values, a bad ``decimals``, or an id holding a
        comma, a double quote or a line break (ids are written unquoted;
        :func:`read_test_csv` refuses image ids that would lead to one).

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> p = write_submission(pd.DataFrame({"id": ["7_0_II"], "value": [0.12346]}),
    ...                      os.path.join(d, "submission.csv"))
    >>> p.read_text()
    'id,value\\n7_0_II,0.1235\\n'
    """
    for col in ("id", "value"):
        if col not in df.columns:
            raise ValueError(f"submission: missing column {col!r} (columns: {list(df.columns)})")
    if not isinstance(decimals, int | np.integer) or not 0 <= int(decimals) <= 12:
        raise ValueError(f"decimals must be an integer in 0..12, got {decimals!r}")
    values = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"submission: {int(bad.sum())} values are NaN, inf or not numbers")
    path = Path(path)
    ids = df["id"].astype(str).to_numpy(dtype=object)
    _check_csv_ids(ids)
    values = np.round(values, int(decimals)) + 0.0  # no '-0.0000'

    def write(tmp: Path) -> None:
        if path.suffix == ".parquet":
            pd.DataFrame({"id": ids, "value": values}).to_parquet(tmp, index=False)
            return
        opener = gzip.open if path.suffix == ".gz" else open
        fmt = f"{{}},{{:.{int(decimals)}f}}".format
        chunk = 1_000_000
        with opener(tmp, "wt", encoding="utf-8", newline="\n") as fh:
            fh.write("id,value\n")
            for s in range(0, ids.size, chunk):
                lines = map(fmt, ids[s : s + chunk].tolist(), values[s : s + chunk].tolist())
                fh.write("\n".join(lines))
                fh.write("\n")

    write_atomic(path, write)
    return path
