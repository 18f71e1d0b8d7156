"""1-D profile helpers shared by the stages (ink summed along rows or columns)."""

from __future__ import annotations

import numpy as np

__all__ = ["smooth", "longest_run"]


def smooth(profile: np.ndarray, sigma: float) -> np.ndarray:
    """A profile smoothed by a normalised Gaussian of ``sigma`` samples (same length).

    ``sigma`` is taken as at least 0.5; the kernel is cut at 3 sigma and never
    made longer than the profile (an absurd scale must neither lengthen the
    result nor allocate).

    Examples
    --------
    >>> smooth(np.array([0.0, 0.0, 3.0, 0.0, 0.0]), 0.5).round(2).tolist()
    [0.0, 0.32, 2.36, 0.32, 0.0]
    """
    sigma = max(float(sigma), 0.5)
    half = int(min(np.ceil(3 * sigma), max(0, (profile.size - 1) // 2)))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    k /= k.sum()
    return np.convolve(np.asarray(profile, dtype=np.float64), k, mode="same")


def longest_run(occupied: np.ndarray, max_gap: int) -> tuple[int, int] | None:
    """``(start, stop)`` of the longest stretch of True, bridging gaps of up to ``max_gap``.

    Examples
    --------
    >>> longest_run(np.array([1, 0, 1, 1, 0, 0, 0, 1], bool), max_gap=1)
    (0, 4)
    >>> longest_run(np.zeros(3, bool), max_gap=1) is None
    True
    """
    idx = np.flatnonzero(occupied)
    if idx.size == 0:
        return None
    breaks = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.concatenate(([0], breaks + 1))
    stops = np.concatenate((breaks, [idx.size - 1]))
    lengths = idx[stops] - idx[starts]
    k = int(np.argmax(lengths))
    return int(idx[starts[k]]), int(idx[stops[k]]) + 1
