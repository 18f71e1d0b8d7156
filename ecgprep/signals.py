"""The digitized signal of one lead: the type every stage after digitization shares."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LEADS", "LeadSignal"]

#: The twelve leads, in the competition's order.
LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


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

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(
                f"LeadSignal {self.name!r}: values must be 1-D, got shape {values.shape}"
            )
        values.setflags(write=False)
        fs = float(self.fs)
        start = float(self.start_s)
        if not math.isfinite(fs) or fs <= 0:
            raise ValueError(
                f"LeadSignal {self.name!r}: fs must be finite and > 0, got {self.fs!r}"
            )
        if not math.isfinite(start):
            raise ValueError(
                f"LeadSignal {self.name!r}: start_s must be finite, got {self.start_s!r}"
            )
        object.__setattr__(self, "name", str(self.name))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "fs", fs)
        object.__setattr__(self, "start_s", start)

    @property
    def duration_s(self) -> float:
        """Time covered by the samples (``len(values) / fs``)."""
        return self.values.size / self.fs
