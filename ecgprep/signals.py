"""The digitized signal of one lead: the type every stage after digitization shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import check_number, check_positive
from .standards import LEADS  # re-exported: the stages import the lead list from here

__all__ = ["LEADS", "LeadSignal", "beat_interval", "einthoven_residual", "limb_residual"]


@dataclass(frozen=True, eq=False)
class LeadSignal:
    """One digitized lead, as the submission consumes it.

    Parameters
    ----------
    name : str
        Lead name (``'I'``, ``'II'``, ... ``'V6'``).
    values : (m,) array_like of float
        Samples in mV (copied into a read-only float64 array). NaN or inf samples
        are allowed and are bridged by interpolation when the submission is built.
    fs : float
        Sampling rate of ``values`` in Hz (finite, > 0).
    start_s : float
        Time (s) of ``values[0]`` within the 10 s record.
    bridged_s : float
        How much of the lead (s) was not read from ink but bridged: extrapolated
        at the panel's ends or interpolated across a gap in the trace wider than
        a pixel (0 when all was read, or when the lead was not digitized).

    Raises
    ------
    ValueError
        If ``values`` is not 1-D, or ``fs`` / ``start_s`` are not finite (``fs`` > 0).

    Examples
    --------
    >>> sig = LeadSignal("aVR", [0.0, 0.1, 0.2], fs=500.0, start_s=2.5)
    >>> sig.values.dtype, sig.duration_s
    (dtype('float64'), 0.006)
    """

    name: str
    values: np.ndarray
    fs: float
    start_s: float = 0.0
    bridged_s: float = 0.0

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(
                f"LeadSignal {self.name!r}: values must be 1-D, got shape {values.shape}"
            )
        values.setflags(write=False)
        fs = check_positive(self.fs, f"LeadSignal {self.name!r}: fs")
        start = check_number(self.start_s, f"LeadSignal {self.name!r}: start_s")
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "fs", fs)
        object.__setattr__(self, "start_s", start)
        bridged = check_number(self.bridged_s, f"LeadSignal {self.name!r}: bridged_s")
        if bridged < 0:
            raise ValueError(f"LeadSignal {self.name!r}: bridged_s must be >= 0, got {bridged}")
        object.__setattr__(self, "bridged_s", bridged)

    @property
    def duration_s(self) -> float:
        """Time covered by the samples (``len(values) / fs``)."""
        return self.values.size / self.fs


_EINTHOVEN = ((("I", 1.0), ("III", 1.0), ("II", -1.0)), (("aVR", 1.0), ("aVL", 1.0), ("aVF", 1.0)))


def einthoven_residual(leads: Mapping[str, Any], *, min_seconds: float = 1.0) -> float:
    """How far digitized limb leads are from Einthoven's law (0: exactly obeyed).

    Parameters
    ----------
    leads : dict of str to LeadSignal
        Digitized leads (values at ``fs`` from ``start_s``).
    min_seconds : float
        Shortest common span of the leads of a relation for it to count.

    Returns
    -------
    float
        ``sqrt(sum (I + III - II)^2 + sum (aVR + aVL + aVF)^2) / sqrt(sum of the
        squared terms)`` over the spans the leads share, each lead centred; NaN
        when no relation could be measured. A page read upside down puts
        precordial leads in the limb leads' places and gives about 1; correct
        readings give well under 0.5.

    Examples
    --------
    >>> t = np.arange(1000) / 500.0
    >>> i, ii = np.sin(6 * t), np.cos(5 * t)
    >>> leads = {"I": LeadSignal("I", i, 500.0, 0.0), "II": LeadSignal("II", ii, 500.0, 0.0),
    ...          "III": LeadSignal("III", ii - i, 500.0, 0.0)}
    >>> round(einthoven_residual(leads), 6)
    0.0
    """
    num = den = 0.0
    for relation in _EINTHOVEN:
        sigs = [leads.get(name) for name, _ in relation]
        if any(s is None for s in sigs):
            continue
        fs = float(sigs[0].fs)
        if any(float(s.fs) != fs for s in sigs) or not fs > 0:
            continue
        t0 = max(float(s.start_s) for s in sigs)
        t1 = min(float(s.start_s) + np.asarray(s.values).size / fs for s in sigs)
        n = int(np.floor((t1 - t0) * fs + 1e-9))
        if n < min_seconds * fs:
            continue
        parts = []
        for s, (_, coef) in zip(sigs, relation, strict=True):
            i0 = int(round((t0 - float(s.start_s)) * fs))
            parts.append(coef * np.asarray(s.values, dtype=np.float64)[i0 : i0 + n])
        p = np.array(parts)
        good = np.all(np.isfinite(p), axis=0)
        if good.sum() < 10:
            continue
        p = p[:, good]
        p = p - p.mean(axis=1, keepdims=True)
        num += float((p.sum(axis=0) ** 2).sum())
        den += float((p**2).sum())
    return float(np.sqrt(num / den)) if den > 0 else float("nan")


#: Each limb lead as a combination of leads I and II (Einthoven's and Goldberger's
#: laws): the six span a plane, so any three printed at the same time obey a relation.
LIMB_BASIS: dict[str, tuple[float, float]] = {
    "I": (1.0, 0.0),
    "II": (0.0, 1.0),
    "III": (-1.0, 1.0),
    "aVR": (-0.5, -0.5),
    "aVL": (1.0, -0.5),
    "aVF": (-0.5, 1.0),
}


def limb_residual(leads: Mapping[str, Any], *, min_seconds: float = 1.0) -> float:
    """How far the limb leads printed at the same times are from the plane they must span.

    Einthoven's law (III = II - I) and Goldberger's (aVR = -(I + II) / 2,
    aVL = I - II / 2, aVF = II - I / 2) make every limb lead a combination of
    I and II. Wherever three or more limb leads are printed at the same time,
    the part of them no such combination explains is error: this measures the
    law on any set of limb leads (rows II, III and aVR of a 6x2 page cut at the
    top), where :func:`einthoven_residual` needs its relations' three leads.

    Parameters
    ----------
    leads : dict of str to LeadSignal
        Digitized leads, all at one ``fs``.
    min_seconds : float
        Shortest time a set of leads must share for it to count.

    Returns
    -------
    float
        ``sqrt(sum of squared residuals / sum of squared values)`` over the
        times three or more limb leads share (each set of leads printed together
        taken apart, each lead centred there); NaN when no three share
        ``min_seconds``. For I, II and III alone it is
        :func:`einthoven_residual` / sqrt(3).

    Examples
    --------
    >>> t = np.arange(1000) / 500.0
    >>> i, ii = np.sin(6 * t), np.cos(5 * t)
    >>> leads = {"II": LeadSignal("II", ii, 500.0), "III": LeadSignal("III", ii - i, 500.0),
    ...          "aVR": LeadSignal("aVR", -(i + ii) / 2, 500.0)}
    >>> round(limb_residual(leads), 6)
    0.0
    >>> round(limb_residual({k: leads[k] for k in ("II", "III")}), 6)
    nan
    """
    sigs = [leads[k] for k in LIMB_BASIS if k in leads]
    if len(sigs) < 3:
        return float("nan")
    fs = float(sigs[0].fs)
    if any(float(s.fs) != fs for s in sigs) or not fs > 0:
        return float("nan")
    t0 = min(float(s.start_s) for s in sigs)
    offsets = [int(round((float(s.start_s) - t0) * fs)) for s in sigs]
    n = max(o + np.asarray(s.values).size for o, s in zip(offsets, sigs, strict=True))
    grid = np.full((len(sigs), n), np.nan)
    for k, (o, s) in enumerate(zip(offsets, sigs, strict=True)):
        grid[k, o : o + np.asarray(s.values).size] = np.asarray(s.values, dtype=np.float64)
    present = np.isfinite(grid)
    code = (present * (1 << np.arange(len(sigs)))[:, None]).sum(axis=0)
    basis = np.array([LIMB_BASIS[k] for k in LIMB_BASIS if k in leads])
    num = den = 0.0
    for c in np.unique(code):
        rows = np.flatnonzero((int(c) >> np.arange(len(sigs))) & 1)
        cols = code == c
        if rows.size < 3 or cols.sum() < max(min_seconds * fs, 10):
            continue
        p = grid[np.ix_(rows, cols)]
        p = p - p.mean(axis=1, keepdims=True)
        q, _ = np.linalg.qr(basis[rows])
        r = p - q @ (q.T @ p)
        num += float((r**2).sum())
        den += float((p**2).sum())
    return float(np.sqrt(num / den)) if den > 0 else float("nan")


#: Beat intervals :func:`beat_interval` looks for (s): 200 down to 20 beats a minute.
BEAT_INTERVAL_S = (0.3, 3.0)
#: Least autocorrelation of the leads' slope envelope at the beat interval for the
#: beats to count as found (a noisy or flat reading has none that high).
BEAT_MIN_CORRELATION = 0.3
#: Share of the highest peak the first (shortest) peak must reach to be the beat
#: interval: multiples of the interval peak about as high.
BEAT_PEAK_SHARE = 0.8


def beat_interval(leads: Mapping[str, Any]) -> float:
    """The dominant beat-to-beat interval of digitized leads (s), or NaN.

    The slope envelope of each lead (absolute first difference, its mean taken
    off) is autocorrelated; the sum over the leads, normalised at lag 0, peaks at
    the beat interval. The highest local peak within :data:`BEAT_INTERVAL_S`
    (shorter than half a lead's length) reaching :data:`BEAT_MIN_CORRELATION`
    sets the bar: the first peak :data:`BEAT_PEAK_SHARE` as high is the interval
    (its multiples peak about as high).

    Parameters
    ----------
    leads : dict of str to LeadSignal
        Leads at one sampling rate (others are left out).

    Returns
    -------
    float
        Seconds between beats; NaN when no lead holds two beats clearly.

    Examples
    --------
    >>> t = np.arange(5000) / 500.0
    >>> beats = np.exp(-(((t % 0.8) - 0.4) ** 2) / 2e-4)
    >>> round(beat_interval({"II": LeadSignal("II", beats, 500.0, 0.0)}), 2)
    0.8
    """
    sigs = [s for s in leads.values() if s is not None]
    if not sigs:
        return float("nan")
    fs = float(sigs[0].fs)
    lo, hi = (int(round(v * fs)) for v in BEAT_INTERVAL_S)
    total = None
    for s in sigs:
        if float(s.fs) != fs:
            continue
        v = np.asarray(s.values, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size < 2 * lo + 2:
            continue
        e = np.abs(np.diff(v))
        e = e - e.mean()
        n = e.size
        # autocorrelation by FFT, each lag normalised by its overlap
        f = np.fft.rfft(e, 2 * n)
        ac = np.fft.irfft(f * np.conj(f))[: n // 2] / (n - np.arange(n // 2))
        if ac[0] <= 0:
            continue
        ac = ac / ac[0]
        m = ac.size if total is None else min(total.size, ac.size)  # the shortest lead's lags
        total = ac[:m] if total is None else total[:m] + ac[:m]
    if total is None or total.size <= lo + 2:
        return float("nan")
    total = total / total[0]
    top = min(hi, total.size - 2)
    seg = total[lo : top + 1]
    inner = (seg[1:-1] >= seg[:-2]) & (seg[1:-1] >= seg[2:])
    peaks = np.flatnonzero(inner) + 1
    if peaks.size == 0:
        return float("nan")
    best = float(seg[peaks].max())
    if best < BEAT_MIN_CORRELATION:
        return float("nan")
    # the first peak nearly as high as the highest: the interval, not a multiple
    k = int(peaks[np.flatnonzero(seg[peaks] >= BEAT_PEAK_SHARE * best)[0]])
    return (lo + k) / fs
