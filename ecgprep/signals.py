"""The digitized signal of one lead: the type every stage after digitization shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validate import check_number, check_positive
from .standards import LEADS  # re-exported: the stages import the lead list from here

__all__ = ["LEADS", "LeadSignal", "einthoven_residual"]


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
