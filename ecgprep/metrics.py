"""The competition score, computed locally.

This is the metric of the Kaggle competition "PhysioNet - Digitization of ECG
Images" (a modified signal-to-noise ratio), written for whole-array speed.

For every record (image) and every lead:

1. both signals are centred (their own mean subtracted) and the lag within
   ``+-int(fs * 0.2)`` samples that maximises their cross-correlation is picked
   (ties go to the smallest ``|lag|``, then to the negative lag, as in the
   reference code);
2. the prediction is shifted by that lag; samples shifted out of the window
   count as a prediction of 0;
3. the best constant vertical offset (the mean of the difference over the
   overlapping samples) is removed from the shifted prediction;
4. signal power ``sum(truth**2)`` (of the *uncentred* truth) and noise power
   ``sum((truth - aligned)**2)`` are accumulated over the leads of the record.

The record's linear SNR is ``signal / noise``, capped at :data:`SNR_CAP` (384,
25.84 dB; a record with zero noise gets the cap). The score is
``10 * log10(mean linear SNR over records)``.

Cross-correlations for all lags are computed at once with a real FFT over many
leads of the same length together, so scoring thousands of records takes
seconds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._validate import check_positive
from .standards import LEADS, RECORD_SECONDS

__all__ = [
    "score_leads",
    "SNR_CAP",
    "MAX_TIME_SHIFT_S",
    "ScoreResult",
    "align_lead",
    "snr_record",
    "score_records",
    "score_frames",
    "split_ids",
]

#: Cap of the linear SNR of one record (10*log10(384) = 25.84 dB).
SNR_CAP = 384.0
#: Largest time shift forgiven by the metric, in seconds.
MAX_TIME_SHIFT_S = 0.2

# Correlations within this fraction of ||truth|| * ||pred|| of the maximum count as
# ties: FFT rounding (~1e-15 relative) must not decide between lags that tie exactly.
_TIE_RTOL = 1e-10
# Elements (rows x FFT length) processed per chunk, to bound memory.
_CHUNK_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class ScoreResult:
    """The score of a set of records, with the per-record and per-lead detail.

    Attributes
    ----------
    score_db : float
        ``10 * log10(mean linear SNR over records)`` (``-inf`` if every record has
        zero signal power).
    per_record : pandas.DataFrame
        One row per record, in order of first appearance: ``id`` (str), ``snr``
        (linear, capped at :data:`SNR_CAP`) and ``snr_db``.
    per_lead : pandas.DataFrame
        One row per record: ``id`` then one column per lead holding the lead's own
        SNR in dB (lead signal power / lead noise power after alignment, capped at
        :data:`SNR_CAP`); NaN where a record lacks the lead. For diagnosis only: the
        score pools powers over leads, it does not average these.
    per_lead_lag_s : pandas.DataFrame
        Same shape as ``per_lead``: the time shift (s) the metric applied to each
        lead (positive: the prediction was moved later).
    """

    score_db: float
    per_record: pd.DataFrame
    per_lead: pd.DataFrame
    per_lead_lag_s: pd.DataFrame

    @property
    def n_records(self) -> int:
        """Number of records scored."""
        return len(self.per_record)


# --------------------------------------------------------------------------- core


def _fast_len(n: int) -> int:
    """Smallest 2**a * 3**b * 5**c >= n (a fast FFT length)."""
    best = 1 << max(int(n - 1).bit_length(), 0)
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def _lags_by_priority(max_lag: int) -> np.ndarray:
    """Lags -max_lag..max_lag ordered by (|lag|, lag): 0, -1, 1, -2, 2, ..."""
    lags = np.arange(-max_lag, max_lag + 1)
    return lags[np.lexsort((lags, np.abs(lags)))]


def _align_batch(x: np.ndarray, y: np.ndarray, max_lag: int):
    """Align predictions ``y`` to truths ``x`` row by row.

    Parameters
    ----------
    x, y : (B, n) ndarray of float64
        Truths and predictions (finite).
    max_lag : int
        Largest |lag| in samples (clipped to ``n - 1``).

    Returns
    -------
    lag : (B,) int ndarray
    offset : (B,) float ndarray
        Vertical offset removed from the shifted prediction.
    signal, noise : (B,) float ndarray
        ``sum(x**2)`` and ``sum((x - aligned)**2)``.
    """
    b, n = x.shape
    max_lag = int(min(max(max_lag, 0), n - 1))
    lag = np.zeros(b, dtype=np.int64)
    if max_lag > 0 and b > 0:
        xc = x - x.mean(axis=1, keepdims=True)
        yc = y - y.mean(axis=1, keepdims=True)
        nfft = _fast_len(n + max_lag)
        # r[k] = sum_m xc[m + k] * yc[m]; nfft >= n + max_lag: no wrap-around for |k| <= max_lag.
        spec = np.fft.rfft(xc, nfft, axis=1) * np.conj(np.fft.rfft(yc, nfft, axis=1))
        corr = np.fft.irfft(spec, nfft, axis=1)
        cand = _lags_by_priority(max_lag)
        c = corr[:, cand % nfft]
        tol = _TIE_RTOL * np.sqrt(np.sum(xc * xc, axis=1) * np.sum(yc * yc, axis=1))
        best = c.max(axis=1)
        first = np.argmax(c >= (best - tol)[:, None], axis=1)
        lag = cand[first]
    idx = np.arange(n)[None, :] - lag[:, None]
    valid = (idx >= 0) & (idx < n)
    shifted = np.take_along_axis(y, np.clip(idx, 0, n - 1), axis=1)
    diff = np.where(valid, shifted - x, 0.0)
    offset = diff.sum(axis=1) / valid.sum(axis=1)
    resid = np.where(valid, x - shifted + offset[:, None], x)
    signal = np.einsum("ij,ij->i", x, x)
    noise = np.einsum("ij,ij->i", resid, resid)
    return lag, offset, signal, noise


def _max_lag(fs: float) -> int:
    return int(fs * MAX_TIME_SHIFT_S)


def _capped_snr(signal: np.ndarray, noise: np.ndarray) -> np.ndarray:
    signal = np.asarray(signal, dtype=np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = np.where(noise > 0, signal / np.where(noise > 0, noise, 1.0), SNR_CAP)
    return np.minimum(snr, SNR_CAP)


def _to_db(snr: np.ndarray) -> np.ndarray:
    snr = np.asarray(snr, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(snr)


def _as_1d(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{what}: expected a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: contains {int(np.sum(~np.isfinite(arr)))} NaN or inf values")
    return arr


def align_lead(truth: Any, pred: Any, fs: float) -> tuple[np.ndarray, int, float]:
    """Align one predicted lead to its truth the way the metric does.

    Parameters
    ----------
    truth, pred : (n,) array_like of float
        Truth and prediction (same length, finite), mV.
    fs : float
        Sampling rate (Hz); the largest shift is ``int(fs * 0.2)`` samples.

    Returns
    -------
    aligned : (n,) ndarray of float
        The prediction after the shift and offset removal; samples shifted out are 0.
    lag : int
        Applied shift in samples (``aligned[m] = pred[m - lag] - offset``).
    offset : float
        Vertical offset removed.

    Raises
    ------
    ValueError
        On empty, non-1-D, non-finite or mismatched inputs, or a bad ``fs``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1000) / 500
    >>> x = np.sin(2 * np.pi * 1.3 * t)
    >>> aligned, lag, offset = align_lead(x, np.roll(x, -20) + 0.5, 500)
    >>> lag, round(offset, 2)
    (20, 0.5)
    """
    x = _as_1d(truth, "truth")
    y = _as_1d(pred, "pred")
    if x.shape != y.shape:
        raise ValueError(f"truth and pred differ in length: {x.size} vs {y.size}")
    fs = check_positive(fs, "align_lead: sampling rate")
    lag, offset, _, _ = _align_batch(x[None], y[None], _max_lag(fs))
    k, off = int(lag[0]), float(offset[0])
    n = x.size
    idx = np.arange(n) - k
    valid = (idx >= 0) & (idx < n)
    aligned = np.zeros(n)
    aligned[valid] = y[idx[valid]] - off
    return aligned, k, off


def snr_record(truth: Mapping[str, Any], pred: Mapping[str, Any], fs: float) -> float:
    """Linear SNR of one record (capped at :data:`SNR_CAP`).

    Parameters
    ----------
    truth : mapping of str to (n_lead,) array_like
        Lead name -> true signal (mV). Every lead in ``truth`` is scored.
    pred : mapping of str to (n_lead,) array_like
        Lead name -> predicted signal, same length as the truth; extra leads are ignored.
    fs : float
        Sampling rate (Hz).

    Returns
    -------
    snr : float
        Total signal power / total noise power over the leads, capped at 384.

    Raises
    ------
    ValueError
        If a lead is missing from ``pred``, lengths differ, values are not finite,
        or ``fs`` is bad.

    Examples
    --------
    >>> import numpy as np
    >>> x = {"II": np.sin(np.linspace(0, 20, 5000))}
    >>> snr_record(x, x, 500)
    384.0
    """
    fs = check_positive(fs, "snr_record: sampling rate")
    if len(truth) == 0:
        raise ValueError("snr_record: truth holds no leads")
    signal = noise = 0.0
    for lead, t in truth.items():
        if lead not in pred:
            raise ValueError(f"snr_record: prediction lacks lead {lead!r}")
        x = _as_1d(t, f"truth[{lead!r}]")
        y = _as_1d(pred[lead], f"pred[{lead!r}]")
        if x.shape != y.shape:
            raise ValueError(
                f"lead {lead!r}: truth and pred differ in length: {x.size} vs {y.size}"
            )
        _, _, s, e = _align_batch(x[None], y[None], _max_lag(fs))
        signal += float(s[0])
        noise += float(e[0])
    return float(_capped_snr(np.array([signal]), np.array([noise]))[0])


# ----------------------------------------------------------------- grouped scoring


def score_leads(leads: Mapping[str, Any], truth: Mapping[str, Any], fs: float) -> float:
    """Score digitized leads against full-length true signals, in dB.

    Each lead's prediction is compared with the stretch of the truth it covers
    (from ``round(start_s * fs)``), as the competition compares a lead with its
    printed window; the per-record SNR is pooled over the leads and capped as the
    metric does.

    Parameters
    ----------
    leads : mapping of str to LeadSignal
        Digitized leads (``ImageResult.signals``); each at sampling rate ``fs``.
    truth : mapping of str to (L,) array_like
        The true signals of the whole record (for instance ``Render.truth.signals``).
    fs : float
        Sampling rate of both.

    Returns
    -------
    float
        ``10 * log10`` of the record's linear SNR.

    Raises
    ------
    ValueError
        A lead at another sampling rate, or a lead missing from ``truth``.
    """
    fs = check_positive(fs, "fs: sampling rate")
    t, p = {}, {}
    for name, sig in leads.items():
        if abs(float(sig.fs) - fs) > 1e-9:
            raise ValueError(f"lead {name!r} is sampled at {sig.fs} Hz, expected {fs} Hz")
        if name not in truth:
            raise ValueError(f"lead {name!r} has no true signal")
        start = int(round(float(sig.start_s) * fs))
        values = np.asarray(sig.values, dtype=np.float64)
        t[name] = np.asarray(truth[name], dtype=np.float64)[start : start + values.size]
        p[name] = values[: t[name].size]
    return float(10.0 * np.log10(snr_record(t, p, fs)))


def _score_flat(
    rec_names: np.ndarray,
    lead_names: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    group_starts: np.ndarray,
    group_lengths: np.ndarray,
    group_rec: np.ndarray,
    group_lead: np.ndarray,
    rec_fs: np.ndarray,
) -> ScoreResult:
    """Score leads stored contiguously in ``x``/``y`` (group g = x[start:start+len])."""
    n_groups = group_starts.size
    g_signal = np.zeros(n_groups)
    g_noise = np.zeros(n_groups)
    g_lag = np.zeros(n_groups, dtype=np.int64)
    g_maxlag = np.array([_max_lag(rec_fs[r]) for r in group_rec], dtype=np.int64)
    keys = np.stack([group_lengths, g_maxlag], axis=1) if n_groups else np.zeros((0, 2), int)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    for k, (n, max_lag) in enumerate(uniq):
        members = np.flatnonzero(inverse == k)
        step = max(1, _CHUNK_ELEMENTS // max(_fast_len(int(n) + int(max_lag)), 1))
        cols = np.arange(int(n))
        for c0 in range(0, members.size, step):
            sel = members[c0 : c0 + step]
            rows = group_starts[sel][:, None] + cols[None, :]
            lag, _, s, e = _align_batch(x[rows], y[rows], int(max_lag))
            g_signal[sel] = s
            g_noise[sel] = e
            g_lag[sel] = lag
    n_rec = rec_names.size
    if n_rec == 0:
        raise ValueError("nothing to score: no records")
    rec_signal = np.bincount(group_rec, weights=g_signal, minlength=n_rec)
    rec_noise = np.bincount(group_rec, weights=g_noise, minlength=n_rec)
    snr = _capped_snr(rec_signal, rec_noise)
    score_db = float(_to_db(np.array(np.mean(snr))))
    per_record = pd.DataFrame(
        {"id": pd.Series(rec_names, dtype=object), "snr": snr, "snr_db": _to_db(snr)}
    )
    # Wide per-lead tables in the standard lead order (unknown leads after).
    order = sorted(
        range(lead_names.size),
        key=lambda i: (
            LEADS.index(lead_names[i]) if lead_names[i] in LEADS else len(LEADS),
            str(lead_names[i]),
        ),
    )
    lead_db = np.full((n_rec, lead_names.size), np.nan)
    lead_lag = np.full((n_rec, lead_names.size), np.nan)
    lead_db[group_rec, group_lead] = _to_db(_capped_snr(g_signal, g_noise))
    lead_lag[group_rec, group_lead] = g_lag / rec_fs[group_rec]
    cols = [str(lead_names[i]) for i in order]
    per_lead = pd.DataFrame(lead_db[:, order], columns=cols)
    per_lead.insert(0, "id", pd.Series(rec_names, dtype=object))
    per_lag = pd.DataFrame(lead_lag[:, order], columns=cols)
    per_lag.insert(0, "id", pd.Series(rec_names, dtype=object))
    return ScoreResult(
        score_db=score_db, per_record=per_record, per_lead=per_lead, per_lead_lag_s=per_lag
    )


def score_records(
    truth: Mapping[str, Mapping[str, Any]],
    pred: Mapping[str, Mapping[str, Any]],
    fs: float | Mapping[str, float],
    *,
    missing: str = "raise",
) -> ScoreResult:
    """Score records given as nested mappings.

    Parameters
    ----------
    truth : mapping of str to mapping of str to (n,) array_like
        Record id -> lead name -> true signal (mV). Every lead of every record is scored.
    pred : mapping of str to mapping of str to (n,) array_like
        Record id -> lead name -> predicted signal (same length as the truth).
    fs : float or mapping of str to float
        Sampling rate (Hz), one for all records or one per record id.
    missing : {'raise', 'zeros'}
        What to do with a record or lead absent from ``pred``: raise ``ValueError``
        or score a prediction of zeros.

    Returns
    -------
    ScoreResult

    Raises
    ------
    ValueError
        On missing predictions (with ``missing='raise'``), mismatched lengths,
        non-finite values, bad ``fs`` or an unknown ``missing``.

    Examples
    --------
    >>> import numpy as np
    >>> x = {"1": {"II": np.sin(np.linspace(0, 20, 5000)), "V1": np.cos(np.linspace(0, 5, 1250))}}
    >>> round(score_records(x, x, 500).score_db, 2)
    25.84
    """
    if missing not in ("raise", "zeros"):
        raise ValueError(f"unknown missing policy {missing!r}; valid: 'raise', 'zeros'")
    rec_names, lead_names = [], []
    lead_index: dict[str, int] = {}
    xs, ys, g_rec, g_lead, g_len, fss = [], [], [], [], [], []
    for r, (rec, leads) in enumerate(truth.items()):
        rec_names.append(str(rec))
        rfs = fs[rec] if isinstance(fs, Mapping) else fs
        fss.append(check_positive(rfs, f"record {rec!r}: sampling rate"))
        prec = pred.get(rec)
        if prec is None and missing == "raise":
            raise ValueError(f"prediction lacks record {rec!r}")
        for lead, t in leads.items():
            x = _as_1d(t, f"truth[{rec!r}][{lead!r}]")
            if prec is None or lead not in prec:
                if missing == "raise":
                    raise ValueError(f"prediction for record {rec!r} lacks lead {lead!r}")
                y = np.zeros_like(x)
            else:
                y = _as_1d(prec[lead], f"pred[{rec!r}][{lead!r}]")
            if x.shape != y.shape:
                raise ValueError(
                    f"record {rec!r} lead {lead!r}: truth and pred differ in length: "
                    f"{x.size} vs {y.size}"
                )
            if lead not in lead_index:
                lead_index[lead] = len(lead_names)
                lead_names.append(lead)
            xs.append(x)
            ys.append(y)
            g_rec.append(r)
            g_lead.append(lead_index[lead])
            g_len.append(x.size)
    lengths = np.array(g_len, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if xs else lengths
    x_all = np.concatenate(xs) if xs else np.zeros(0)
    y_all = np.concatenate(ys) if ys else np.zeros(0)
    return _score_flat(
        np.array(rec_names, dtype=object),
        np.array(lead_names, dtype=object),
        x_all,
        y_all,
        starts,
        lengths,
        np.array(g_rec, dtype=np.int64),
        np.array(g_lead, dtype=np.int64),
        np.array(fss, dtype=np.float64),
    )


# ---------------------------------------------------------------- frame scoring


def split_ids(ids: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split Kaggle row ids ``f"{image_id}_{row}_{lead}"`` from the right.

    Parameters
    ----------
    ids : (n,) array_like of str

    Returns
    -------
    image_id : (n,) ndarray of object (str)
    row : (n,) ndarray of int64
    lead : (n,) ndarray of object (str)

    Raises
    ------
    ValueError
        If an id does not have the form ``<image>_<int>_<lead>``.

    Examples
    --------
    >>> img, row, lead = split_ids(["1_2_3_aVR", "17_0_II"])
    >>> img.tolist(), row.tolist(), lead.tolist()
    (['1_2', '17'], [3, 0], ['aVR', 'II'])
    """
    ids = np.asarray(pd.Series(ids, dtype=object).astype(str).to_numpy(dtype=object))
    if ids.size == 0:
        return ids, np.zeros(0, dtype=np.int64), ids
    string_dtype = getattr(getattr(np, "dtypes", None), "StringDType", None)
    # np.strings.rpartition arrived in numpy 2.3; older numpy takes the pandas path.
    if string_dtype is not None and hasattr(getattr(np, "strings", None), "rpartition"):
        u = ids.astype(string_dtype())
        sep = np.array("_", dtype=string_dtype())
        head, s1, lead = np.strings.rpartition(u, sep)
        img, s2, row = np.strings.rpartition(head, sep)
        ok = (s1 != "") & (s2 != "")
        if np.all(ok):
            try:
                rows_int = row.astype(np.int64)
            except (ValueError, OverflowError):
                rows_int = None
            if rows_int is not None and np.all(rows_int >= 0):
                return img.astype(object), rows_int, lead.astype(object)
        img, row, lead = img.astype(object), row.astype(object), lead.astype(object)
    else:  # numpy < 2.3
        parts = pd.Series(ids).str.rsplit("_", n=2, expand=True)
        if parts.shape[1] < 3:
            parts = parts.reindex(columns=range(3))
        ok = parts.notna().all(axis=1).to_numpy()
        img, row, lead = (parts[i].to_numpy(dtype=object) for i in range(3))
    if not np.all(ok):
        bad = ids[~ok][:5].tolist()
        raise ValueError(f"{int(np.sum(~ok))} ids are not '<image>_<row>_<lead>', e.g. {bad}")
    rows = pd.to_numeric(pd.Series(row, dtype=object), errors="coerce").to_numpy()
    bad_row = ~np.isfinite(rows) | (rows < 0) | (rows != np.round(rows))
    if np.any(bad_row):
        raise ValueError(
            f"{int(np.sum(bad_row))} ids have a row that is not an integer >= 0, "
            f"e.g. {ids[bad_row][:5].tolist()}"
        )
    return img, rows.astype(np.int64), lead


def _as_frame(obj: Any, what: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, str | os.PathLike):
        return pd.read_csv(obj, dtype={"id": str})
    raise TypeError(f"{what}: expected a DataFrame or a CSV path, got {type(obj).__name__}")


def _id_values(df: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
    for col in ("id", "value"):
        if col not in df.columns:
            raise ValueError(f"{what}: missing column {col!r} (columns: {list(df.columns)})")
    ids = df["id"].astype(str).to_numpy(dtype=object)
    values = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if np.any(bad):
        raise ValueError(
            f"{what}: {int(np.sum(bad))} values are NaN, inf or not numbers, "
            f"e.g. ids {ids[bad][:5].tolist()}"
        )
    return ids, values


def _fs_per_record(
    rec_names: np.ndarray,
    test_df: Any,
    solution: pd.DataFrame,
    sol_lead: np.ndarray,
    rec_codes: np.ndarray,
) -> np.ndarray:
    n_rec = rec_names.size
    if test_df is not None:
        from .submission import read_test_csv

        test = read_test_csv(test_df)
        per = test.groupby("id")["fs"].agg(["min", "max"])
        bad = per.index[per["min"] != per["max"]]
        if len(bad):
            raise ValueError(f"test.csv: images with more than one fs: {list(bad[:5])}")
        fs = per["min"].reindex(pd.Index(rec_names, dtype=object)).to_numpy(dtype=np.float64)
        lacking = rec_names[~np.isfinite(fs)]
        if lacking.size:
            raise ValueError(f"test.csv lacks images of the solution: {lacking[:5].tolist()}")
        return fs
    if "fs" in solution.columns:
        fs_rows = pd.to_numeric(solution["fs"], errors="coerce").to_numpy(dtype=np.float64)
        lo = np.full(n_rec, np.inf)
        hi = np.full(n_rec, -np.inf)
        np.minimum.at(lo, rec_codes, fs_rows)
        np.maximum.at(hi, rec_codes, fs_rows)
        bad = ~np.isfinite(lo) | (lo != hi) | (lo <= 0)
        if np.any(bad):
            raise ValueError(
                f"solution 'fs' is missing or not constant for {rec_names[bad][:5].tolist()}"
            )
        return lo
    # Infer from the 10 s lead II strip, as the reference metric checks.
    n_ii = np.bincount(rec_codes[sol_lead == "II"], minlength=n_rec)
    if np.any(n_ii == 0):
        raise ValueError(
            "cannot infer fs (no test_df, no 'fs' column, no lead II) for "
            f"{rec_names[n_ii == 0][:5].tolist()}"
        )
    return n_ii / RECORD_SECONDS


def score_frames(
    solution_df: Any,
    submission_df: Any,
    test_df: Any = None,
    *,
    missing: str = "raise",
) -> ScoreResult:
    """Score a Kaggle-style submission against a solution.

    Parameters
    ----------
    solution_df : pandas.DataFrame or path
        Columns ``id, value`` (optionally ``fs``); ``id = f"{image_id}_{row}_{lead}"``.
        Paths are read as CSV with ``id`` as str.
    submission_df : pandas.DataFrame or path
        Columns ``id, value``. Ids absent from the solution are ignored.
    test_df : pandas.DataFrame or path, optional
        The competition ``test.csv`` (``id, lead, fs, number_of_rows``), source of
        each record's sampling rate. Without it, the solution's ``fs`` column is used,
        or else ``fs = rows of lead II / 10``.
    missing : {'raise', 'zeros'}
        Solution ids absent from the submission: raise ``ValueError`` or score them
        as predictions of 0.

    Returns
    -------
    ScoreResult

    Raises
    ------
    ValueError
        Missing columns, non-finite values, duplicate ids, malformed ids, missing
        predictions (``missing='raise'``), or an undeterminable ``fs``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> n = 5000
    >>> sol = pd.DataFrame({"id": [f"7_{r}_II" for r in range(n)],
    ...                     "value": np.sin(np.arange(n) / 40)})
    >>> round(score_frames(sol, sol).score_db, 2)
    25.84
    """
    if missing not in ("raise", "zeros"):
        raise ValueError(f"unknown missing policy {missing!r}; valid: 'raise', 'zeros'")
    solution = _as_frame(solution_df, "solution")
    submission = _as_frame(submission_df, "submission")
    sol_ids, x = _id_values(solution, "solution")
    sub_ids, sub_vals = _id_values(submission, "submission")

    if sol_ids.size == sub_ids.size and np.array_equal(sol_ids, sub_ids):
        y = sub_vals
    else:
        sub_index = pd.Index(sub_ids, dtype=object)
        if not sub_index.is_unique:
            dup = sub_index[sub_index.duplicated()].unique()[:5].tolist()
            raise ValueError(f"submission: duplicate ids, e.g. {dup}")
        pos = sub_index.get_indexer(pd.Index(sol_ids, dtype=object))
        absent = pos < 0
        if np.any(absent) and missing == "raise":
            raise ValueError(
                f"submission lacks {int(np.sum(absent))} of {sol_ids.size} solution ids, "
                f"e.g. {sol_ids[absent][:5].tolist()}"
            )
        y = np.where(absent, 0.0, sub_vals[np.maximum(pos, 0)])

    img, row, lead = split_ids(sol_ids)
    rec_codes, rec_names = pd.factorize(pd.Series(img, dtype=object), sort=False)
    lead_codes, lead_names = pd.factorize(pd.Series(lead, dtype=object), sort=False)
    rec_codes = np.asarray(rec_codes, dtype=np.int64)
    lead_codes = np.asarray(lead_codes, dtype=np.int64)
    rec_names = np.asarray(rec_names, dtype=object)
    lead_names = np.asarray(lead_names, dtype=object)
    rec_fs = _fs_per_record(rec_names, test_df, solution, lead, rec_codes)
    if np.any(~np.isfinite(rec_fs) | (rec_fs <= 0)):
        raise ValueError("every record needs a finite fs > 0")

    order = np.lexsort((row, lead_codes, rec_codes))
    rc, lc, rw = rec_codes[order], lead_codes[order], row[order]
    x, y = x[order], y[order]
    same = (rc[1:] == rc[:-1]) & (lc[1:] == lc[:-1])
    if np.any(same & (rw[1:] == rw[:-1])):
        k = int(np.flatnonzero(same & (rw[1:] == rw[:-1]))[0])
        raise ValueError(
            f"solution: duplicate row {int(rw[k])} of lead {lead_names[lc[k]]!r} "
            f"in record {rec_names[rc[k]]!r}"
        )
    starts = np.flatnonzero(np.concatenate([[True], ~same])) if rc.size else np.zeros(0, int)
    lengths = np.diff(np.concatenate([starts, [rc.size]])).astype(np.int64)
    return _score_flat(
        rec_names,
        lead_names,
        x,
        y,
        starts.astype(np.int64),
        lengths,
        rc[starts],
        lc[starts],
        rec_fs,
    )
