"""Where a reading's error comes from: lag, scale and panel edges, lead by lead.

The competition metric forgives a whole-sample shift and a constant offset, and
nothing else. A reading can lose much of its score to errors of a simple form:
a fraction of a sample of lag, an amplitude a few percent low, a wrong stretch
at a panel's start. :func:`lead_errors` measures each of them on one lead;
:func:`diagnose_frames` does it for every lead of a submission scored against
its solution, and :func:`pooled_scores` says what the score would be with each
removed.

Conventions
-----------
``lag_ms`` is how much later the reading's events come than the truth's (a
positive lag: the reading is late). ``scale`` is the factor ``a`` of the best
fit ``truth ~ a * reading + b``: above 1, the reading is low.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._validate import check_positive
from .metrics import _align_batch, _as_1d, _capped_snr, _max_lag, _to_db, split_ids

__all__ = ["LeadErrors", "lead_errors", "diagnose_frames", "pooled_scores", "shift_signal"]

#: Length of a lead's start and end, where separators and labels stand (s).
EDGE_S = 0.1


@dataclass(frozen=True)
class LeadErrors:
    """Error components of one lead (see the module's conventions).

    Attributes
    ----------
    lag_ms : float
        Best lag of the reading behind the truth, to a fraction of a sample (ms).
    scale : float
        Best factor of truth on reading.
    signal : float
        ``sum(truth**2)``, the metric's signal power.
    noise, noise_lag, noise_lag_scale : float
        Noise power as the metric counts it; with the fractional lag removed; and
        with the lag removed and the scale applied.
    rmse_start_mv, rmse_mid_mv, rmse_end_mv : float
        RMS error (as scored) over the first and last :data:`EDGE_S` and in between.
    offset_mv : float
        The constant the metric removes from the reading (reading minus truth,
        mV): the error in the reading's 0 mV, which the score does not see.
    """

    lag_ms: float
    scale: float
    signal: float
    noise: float
    noise_lag: float
    noise_lag_scale: float
    rmse_start_mv: float
    rmse_mid_mv: float
    rmse_end_mv: float
    offset_mv: float


def shift_signal(values: Any, delay: float) -> np.ndarray:
    """Delay a sampled signal by a (fractional) number of samples.

    Band-limited (Fourier) interpolation of the signal mirrored at its ends, so
    peaks keep their height and the ends do not wrap around.

    Parameters
    ----------
    values : (n,) array_like of float
    delay : float
        Samples; positive moves events later (``out[m] ~ values[m - delay]``).

    Returns
    -------
    (n,) ndarray of float

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(np.arange(200) / 10)
    >>> bool(np.allclose(shift_signal(x, 3)[50:150], x[47:147], atol=1e-3))
    True
    """
    y = _as_1d(values, "values")
    n = y.size
    if delay == 0 or n < 2:
        return y.copy()
    ext = np.concatenate([y, y[::-1]])
    f = np.fft.rfftfreq(ext.size)
    spec = np.fft.rfft(ext) * np.exp(-2j * np.pi * f * float(delay))
    return np.fft.irfft(spec, ext.size)[:n]


def _fractional_lag(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """The delay of ``y`` in [k - 1, k + 1] that best matches ``x`` (golden-section search).

    The normalised correlation of ``x`` with ``y`` delayed by band-limited
    interpolation (:func:`shift_signal`) is maximised, to 0.001 sample, over the
    samples that no delay in the range moves past an end.
    """
    m = min(abs(k) + 2, x.size // 4)
    xi = x[m : x.size - m]
    xc = xi - xi.mean()

    def corr(d: float) -> float:
        ys = shift_signal(y, d)[m : x.size - m]
        ys = ys - ys.mean()
        norm = float(np.sqrt(np.dot(ys, ys)))
        return float(np.dot(xc, ys)) / norm if norm > 0 else 0.0

    lo, hi = float(k) - 1.0, float(k) + 1.0
    g = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = corr(a), corr(b)
    while hi - lo > 1e-3:
        if fa >= fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = corr(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = corr(b)
    return 0.5 * (lo + hi)


def lead_errors(truth: Any, pred: Any, fs: float, *, edge_s: float = EDGE_S) -> LeadErrors:
    """Measure the lag, scale and edge errors of one lead.

    Parameters
    ----------
    truth, pred : (n,) array_like of float
        The true and read signal of one printed lead (mV), same length.
    fs : float
        Sampling rate (Hz).
    edge_s : float
        Length of the start and end stretches (s).

    Returns
    -------
    LeadErrors

    Raises
    ------
    ValueError
        Empty, non-finite or mismatched inputs; a bad ``fs``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1250) / 500
    >>> x = np.sin(2 * np.pi * 1.1 * t) + 0.5 * np.sin(2 * np.pi * 7 * t)
    >>> late = shift_signal(x, 2.5) / 1.05  # 5 ms late, 5 % low
    >>> e = lead_errors(x, late, 500)
    >>> round(e.lag_ms, 1), round(e.scale, 3)
    (5.0, 1.05)
    """
    x = _as_1d(truth, "truth")
    y = _as_1d(pred, "pred")
    if x.shape != y.shape:
        raise ValueError(f"truth and pred differ in length: {x.size} vs {y.size}")
    fs = check_positive(fs, "fs: sampling rate")
    n = x.size
    lag, offset, signal, noise = _align_batch(x[None], y[None], _max_lag(fs))
    k = int(lag[0])
    # The metric's residual, for the edge errors.
    idx = np.arange(n) - k
    valid = (idx >= 0) & (idx < n)
    aligned = np.zeros(n)
    aligned[valid] = y[idx[valid]] - float(offset[0])
    resid = x - aligned
    e = max(1, min(int(round(edge_s * fs)), n // 3))

    def rms(r: np.ndarray) -> float:
        return float(np.sqrt(np.mean(r * r))) if r.size else float("nan")

    # Fractional lag: y shifted by d matches x; the reading is late by -d samples.
    d = _fractional_lag(x, y, k)
    ys = shift_signal(y, d)
    r = x - ys
    noise_lag = float(np.sum((r - r.mean()) ** 2))
    # The scale is fitted away from the ends, where the shift brought in
    # mirrored samples; the noise with it applied counts every sample.
    m = min(int(np.ceil(abs(d))) + 1, n // 4)
    xi, yi = x[m : n - m], ys[m : n - m]
    xc, yc = xi - xi.mean(), yi - yi.mean()
    power = float(np.dot(yc, yc))
    a = float(np.dot(xc, yc) / power) if power > 0 else float("nan")
    if power > 0:
        fit = a * ys + (xi.mean() - a * yi.mean())
        noise_ls = float(np.sum((x - fit) ** 2))
    else:
        noise_ls = noise_lag
    return LeadErrors(
        lag_ms=float(-1000.0 * d / fs),
        scale=a,
        signal=float(signal[0]),
        noise=float(noise[0]),
        noise_lag=noise_lag,
        noise_lag_scale=noise_ls,
        rmse_start_mv=rms(resid[:e]),
        rmse_mid_mv=rms(resid[e:-e]),
        rmse_end_mv=rms(resid[-e:]),
        offset_mv=float(offset[0]),
    )


def _db(signal: Any, noise: Any) -> np.ndarray:
    """The metric's capped SNR, in dB."""
    return _to_db(_capped_snr(signal, noise))


def diagnose_frames(
    solution: pd.DataFrame, submission: pd.DataFrame, test: pd.DataFrame
) -> pd.DataFrame:
    """Error components of every lead of a submission.

    Parameters
    ----------
    solution, submission : DataFrame
        ``id, value`` with ``id = f"{image_id}_{row}_{lead}"``; the submission
        holds every id of the solution.
    test : DataFrame
        ``id, lead, fs, number_of_rows`` (``test.csv``), for each record's fs.

    Returns
    -------
    DataFrame
        One row per lead: ``id, lead, fs, n``, the fields of :class:`LeadErrors`
        and ``snr_db``, ``snr_db_lag``, ``snr_db_lag_scale`` (the lead's own SNR
        as scored, with the lag removed, and with lag and scale removed).

    Raises
    ------
    ValueError
        A solution id the submission lacks, or a record missing from ``test``.
    """
    sol = solution[["id", "value"]].astype({"id": str})
    sub = submission[["id", "value"]].astype({"id": str}).set_index("id")["value"]
    y = sub.reindex(sol["id"]).to_numpy(dtype=np.float64)
    if np.any(np.isnan(y)):
        lacking = sol["id"].to_numpy()[np.isnan(y)][:5].tolist()
        raise ValueError(f"the submission lacks solution ids, e.g. {lacking}")
    img, row, lead = split_ids(sol["id"].to_numpy(dtype=object))
    fs_of = test.astype({"id": str}).groupby("id")["fs"].first()
    frame = pd.DataFrame(
        {"rec": img, "row": row, "lead": lead, "x": sol["value"].to_numpy(float), "y": y}
    )
    out = []
    for (rec, ld), g in frame.groupby(["rec", "lead"], sort=False):
        if rec not in fs_of.index:
            raise ValueError(f"test.csv lacks record {rec!r}")
        fs = float(fs_of[rec])
        g = g.sort_values("row")
        e = lead_errors(g["x"].to_numpy(), g["y"].to_numpy(), fs)
        out.append({"id": rec, "lead": ld, "fs": fs, "n": len(g), **e.__dict__})
    df = pd.DataFrame(out)
    if len(df):
        df["snr_db"] = _db(df["signal"], df["noise"])
        df["snr_db_lag"] = _db(df["signal"], df["noise_lag"])
        df["snr_db_lag_scale"] = _db(df["signal"], df["noise_lag_scale"])
    return df


def pooled_scores(diag: pd.DataFrame) -> dict[str, float]:
    """The metric's score over the records of ``diag``, as read and with errors removed.

    Per record, signal and noise powers are summed over its leads, the SNR is
    capped, averaged over records and turned into dB, as the metric does.

    Parameters
    ----------
    diag : DataFrame
        Rows of :func:`diagnose_frames` (any subset of records).

    Returns
    -------
    dict
        ``score_db`` (as read), ``score_db_lag`` (fractional lag removed),
        ``score_db_lag_scale`` (lag removed and scale applied).
    """
    out = {}
    for key, col in (
        ("score_db", "noise"),
        ("score_db_lag", "noise_lag"),
        ("score_db_lag_scale", "noise_lag_scale"),
    ):
        if not len(diag):
            out[key] = float("nan")
            continue
        per = diag.groupby("id")[["signal", col]].sum()
        snr = 10.0 ** (_db(per["signal"], per[col]) / 10.0)
        out[key] = float(10.0 * np.log10(np.mean(snr)))
    return out
