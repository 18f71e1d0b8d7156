"""One lead read against its truth, as a picture (``ecgprep eval --out`` draws the worst)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["lead_plot"]

_PAPER = (255, 250, 245)
_MINOR = (250, 215, 215)
_MAJOR = (235, 160, 160)
_TRUTH = (0, 0, 0)
_READ = (220, 40, 40)
_RESID = (40, 90, 220)


def lead_plot(
    truth: Any,
    reading: Any,
    fs: float,
    *,
    title: str = "",
    px_per_mm: float | None = None,
    window_s: tuple[float, float] | None = None,
) -> np.ndarray:
    """Draw a lead's truth (black), reading (red) and their difference (blue) on ECG paper.

    The reading is drawn as given (align it first, for instance with
    :func:`ecgprep.metrics.align_lead`, to see what the metric sees).

    Parameters
    ----------
    truth, reading : (n,) array_like of float
        mV, same length, at ``fs``.
    fs : float
        Sampling rate (Hz).
    title : str
        Printed at the top left.
    px_per_mm : float, optional
        Drawing scale at 25 mm/s and 10 mm/mV (default: the stretch drawn about
        1000 px wide, at least 4 px/mm).
    window_s : (float, float), optional
        Only this stretch (s from the first sample).

    Returns
    -------
    (M, N, 3) uint8 ndarray
        RGB picture.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sin(np.arange(1250) / 50)
    >>> lead_plot(x, 0.9 * x, 500, title="demo").shape[2]
    3
    """
    import cv2

    x = np.asarray(truth, dtype=np.float64).ravel()
    y = np.asarray(reading, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size < 2:
        raise ValueError(
            f"truth and reading must have the same length >= 2, got {x.size}, {y.size}"
        )
    t = np.arange(x.size) / float(fs)
    if window_s is not None:
        keep = (t >= window_s[0]) & (t <= window_s[1])
        t, x, y = t[keep] - window_s[0], x[keep], y[keep]
    r = x - y
    if px_per_mm is None:
        px_per_mm = max(4.0, 1000.0 / (max(t[-1], 1e-3) * 25.0))
    lo = float(min(x.min(), y.min(), -0.5)) - 0.3
    hi = float(max(x.max(), y.max(), 0.5)) + 0.3
    s = px_per_mm * 10.0  # px per mV
    w = int(np.ceil(t[-1] * 25.0 * px_per_mm)) + 1
    top = 22
    h = int(np.ceil((hi - lo) * s)) + top + 1
    img = np.empty((h, w, 3), np.uint8)
    img[:] = _PAPER
    for k in range(int(w / px_per_mm) + 1):
        xx = int(round(k * px_per_mm))
        img[top:, xx : xx + 1] = _MAJOR if k % 5 == 0 else _MINOR
    for k in range(int((hi - lo) * 10) + 1):
        yy = top + int(round((hi - (np.ceil(hi * 10) / 10 - k / 10)) * s))
        if top <= yy < h:
            img[yy, :] = _MAJOR if (np.ceil(hi * 10) - k) % 5 == 0 else _MINOR

    def pts(v: np.ndarray) -> np.ndarray:
        p = np.stack([t * 25.0 * px_per_mm, top + (hi - v) * s], axis=1)
        return np.round(p * 16).astype(np.int32).reshape(-1, 1, 2)

    # the difference is drawn about 0 mV, under the two signals
    for v, col in ((r, _RESID), (x, _TRUTH), (y, _READ)):
        cv2.polylines(img, [pts(v)], False, col, 1, cv2.LINE_AA, shift=4)
    if title:
        cv2.putText(img, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return img
