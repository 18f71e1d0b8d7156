"""Panel ends from the lead's own beats, timed by a rhythm strip.

A panel's first and last few samples are often not read from ink: a separator
bar or tick stands on the boundary, and the columns within half a stroke of it
hold both leads' ink. There the reading is extrapolated, and where a QRS
complex crosses the boundary the extrapolation misses it by up to 2 mV (on the
ecg-image-kit renders, the 1.2 % of samples nearest a panel's ends held 30 % of
the squared error). The heart repeats itself, and a lead printed over the
whole record (a rhythm strip) says when: each beat's time (:func:`beat_times`)
places the hidden samples at a phase of their beat, and the lead's own other
beats, read from ink at that phase, give their shape (:func:`ends_from_beats`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .._validate import check_positive
from ..signals import LeadSignal

__all__ = ["BeatFill", "beat_times", "ends_from_beats"]

#: Window (s) the slope envelope is averaged over: a QRS complex's width, so
#: each complex makes one hump.
BEAT_WINDOW_S = 0.04
#: A hump is a beat when it reaches this share of the envelope's 99.5th
#: percentile: QRS complexes, not T waves (their slopes are 3-10x gentler).
BEAT_THRESHOLD_SHARE = 0.4
#: Least time between two beats (s): 240 a minute.
BEAT_MIN_GAP_S = 0.25
#: Longest run of samples in doubt at a panel's end that is filled (s): a bar
#: hides 20-40 ms; a row whose ink stops earlier is not made up from beats.
END_MAX_S = 0.1
#: Fewest other beats, read from ink at the hidden samples' phase, whose median
#: gives their shape.
END_MIN_BEATS = 2
#: Samples read next to the hidden run that the beats' shape must fit (s): as
#: long as a QRS's up- or down-stroke.
END_CONTEXT_S = 0.04
#: Largest RMS misfit there (mV, or this share of the samples' spread where
#: that is larger): beats timed otherwise than the strip's QRS (a pacing spike
#: taken for one, a beat of another shape) do not fit, and fill nothing.
END_FIT_MV = 0.1
END_FIT_SHARE = 0.35


@dataclass(frozen=True)
class BeatFill:
    """Result of :func:`ends_from_beats`.

    Attributes
    ----------
    signals : tuple of LeadSignal
        The segments, in the order given, their ends filled where they could be.
    filled : tuple of (n_k,) bool ndarray
        Which samples of each segment were filled.
    """

    signals: tuple
    filled: tuple

    @property
    def total(self) -> int:
        """Samples filled over all segments."""
        return int(sum(int(np.count_nonzero(f)) for f in self.filled))


def beat_times(values: np.ndarray, fs: float, *, start_s: float = 0.0) -> np.ndarray:
    """Times of the QRS complexes of one lead (s).

    Parameters
    ----------
    values : (n,) array_like of float
        The lead (mV); NaN samples count as flat.
    fs : float
        Its sampling rate (Hz).
    start_s : float
        Time of ``values[0]``.

    Returns
    -------
    (k,) float ndarray
        Each beat's time: where the slope envelope (absolute first difference,
        averaged over :data:`BEAT_WINDOW_S`) peaks above
        :data:`BEAT_THRESHOLD_SHARE` of its 99.5th percentile, peaks at least
        :data:`BEAT_MIN_GAP_S` apart. Empty for a flat lead.

    Examples
    --------
    >>> t = np.arange(5000) / 500.0
    >>> ecg = np.exp(-(((t % 0.8) - 0.4) ** 2) / 2e-4)
    >>> np.round(beat_times(ecg, 500.0)[:3], 2)
    array([0.4, 1.2, 2. ])
    """
    fs = check_positive(fs, "fs: sampling rate")
    v = np.nan_to_num(np.asarray(values, dtype=np.float64))
    if v.size < 3:
        return np.zeros(0)
    d = np.abs(np.diff(v, prepend=v[0]))
    w = max(1, int(round(BEAT_WINDOW_S * fs)))
    env = np.convolve(d, np.ones(w) / w, mode="same").astype(np.float32)
    top = float(np.percentile(env, 99.5))
    if not top > 0:
        return np.zeros(0)
    gap = max(1, int(round(BEAT_MIN_GAP_S * fs)))
    # the envelope's running maximum over +-gap (a 1-row dilation)
    runmax = cv2.dilate(env[None, :], np.ones((1, 2 * gap + 1), np.uint8)).ravel()
    cand = np.flatnonzero((env >= runmax) & (env >= BEAT_THRESHOLD_SHARE * top))
    keep: list[int] = []
    for c in cand:  # a flat-topped hump: its first sample
        if not keep or c - keep[-1] >= gap:
            keep.append(int(c))
    return float(start_s) + np.asarray(keep, dtype=np.float64) / fs


def ends_from_beats(
    signals: Sequence[LeadSignal],
    doubtful: Sequence[np.ndarray],
    *,
    max_s: float = END_MAX_S,
    min_beats: int = END_MIN_BEATS,
) -> BeatFill:
    """Fill each segment's ends in doubt from its own beats at the same phase.

    Parameters
    ----------
    signals : sequence of LeadSignal
        Every printed segment read (one sampling rate).
    doubtful : sequence of (n_k,) bool ndarray
        Per segment, which samples were not read from ink of its own
        (:func:`~ecgprep.digitize.law.doubtful_samples`).
    max_s : float
        Longest run in doubt at an end that is filled (s).
    min_beats : int
        Fewest other beats giving the shape.

    Returns
    -------
    BeatFill

    Notes
    -----
    The longest segment (a rhythm strip, a 12x1 page's lead) times the beats
    (:func:`beat_times`); runs outside the times its beats span are left as
    they are. For a run of samples in doubt at a segment's start or end, the
    beat nearest to it gives each sample's phase; the segment's other beats
    whose samples at those phases, and at those of the :data:`END_CONTEXT_S`
    read next to the run, were all read from ink give the run's shape (their
    median), joined to the sample read next to it, when that shape fits the
    samples read there (:data:`END_FIT_MV`, :data:`END_FIT_SHARE`). The
    longest segment is left as it is (it times the beats).

    Examples
    --------
    >>> t = np.arange(1250) / 500.0
    >>> beat = lambda x: np.exp(-(((x % 0.8) - 0.1) ** 2) / 2e-4)
    >>> strip = LeadSignal("II", beat(np.arange(5000) / 500.0), 500.0, 0.0)
    >>> panel = -2.0 * beat(t + 2.5)  # a lead printed 2.5-5 s: a QRS at 2.5 s...
    >>> read = panel.copy(); read[:8] = read[8]  # ... its first 16 ms held flat
    >>> doubt = np.arange(1250) < 8
    >>> out = ends_from_beats([strip, LeadSignal("aVR", read, 500.0, 2.5)],
    ...                       [np.zeros(5000, bool), doubt])
    >>> int(out.filled[1].sum()), bool(np.abs(out.signals[1].values - panel).max() < 1e-6)
    (8, True)
    """
    if len(doubtful) != len(signals):
        raise ValueError(
            f"doubtful must hold one array per signal ({len(signals)}), got {len(doubtful)}"
        )
    out = list(signals)
    filled = [np.zeros(np.asarray(s.values).size, dtype=bool) for s in out]
    if len(out) < 2:
        return BeatFill(tuple(out), tuple(filled))
    sizes = [np.asarray(s.values).size for s in out]
    ref = int(np.argmax(sizes))
    fs = float(out[ref].fs)
    beats = beat_times(out[ref].values, fs, start_s=float(out[ref].start_s))
    if beats.size < min_beats + 1:
        return BeatFill(tuple(out), tuple(filled))
    # the times the reference was printed at, a beat's reach inside its ends
    span = (beats[0] - BEAT_MIN_GAP_S, beats[-1] + BEAT_MIN_GAP_S)
    longest = max_s * fs
    for k, (sig, doubt) in enumerate(zip(signals, doubtful, strict=True)):
        doubt = np.asarray(doubt, dtype=bool)
        n = sizes[k]
        if k == ref or float(sig.fs) != fs or doubt.shape != (n,) or doubt.all():
            continue
        v = np.array(sig.values, dtype=np.float64)
        t0 = float(sig.start_s)
        first = int(np.argmin(doubt))  # the first and last samples read from ink
        last = n - 1 - int(np.argmin(doubt[::-1]))
        c = max(2, int(round(END_CONTEXT_S * fs)))
        for hid, ctx in (
            (np.arange(0, first), np.arange(first, first + c)),
            (np.arange(last + 1, n), np.arange(last - c + 1, last + 1)),
        ):
            if hid.size == 0 or hid.size > longest or ctx.min() < 0 or ctx.max() >= n:
                continue
            if doubt[ctx].any():
                continue
            join = int(ctx[0]) if hid[0] == 0 else int(ctx[-1])
            times = t0 + hid / fs
            if times[0] < span[0] or times[-1] > span[1]:
                continue  # the reference does not say which beat they lie in
            shape = _beat_shape(v, doubt, beats, t0, fs, hid, ctx, join, min_beats)
            if shape is None:
                continue
            v[hid] = shape + v[join]
            filled[k][hid] = True
        if filled[k].any():
            out[k] = LeadSignal(sig.name, v, sig.fs, sig.start_s, sig.bridged_s)
    return BeatFill(tuple(out), tuple(filled))


def _beat_shape(
    v: np.ndarray,
    doubt: np.ndarray,
    beats: np.ndarray,
    t0: float,
    fs: float,
    hid: np.ndarray,
    ctx: np.ndarray,
    join: int,
    min_beats: int,
) -> np.ndarray | None:
    """The hidden samples ``hid`` of ``v`` (less ``v[join]``) from the segment's
    other beats at the same phase, or None: too few beats read from ink there,
    or their shape misfits the samples ``ctx`` read next to the run."""
    times = t0 + hid / fs
    rk = beats[np.argmin(np.abs(beats - times.mean()))]
    cols = np.concatenate((hid, ctx))
    phase = t0 + cols / fs - rk
    phase_join = t0 + join / fs - rk
    n = v.size
    shapes = []
    for rj in beats:
        if rj == rk:
            continue
        idx = np.round((rj + phase - t0) * fs).astype(np.int64)
        ij = int(round((rj + phase_join - t0) * fs))
        if idx.min() < 0 or idx.max() >= n or not 0 <= ij < n:
            continue
        if doubt[idx].any() or doubt[ij]:
            continue
        shapes.append(v[idx] - v[ij])
    if len(shapes) < min_beats:
        return None
    shape = np.median(np.asarray(shapes), axis=0)
    seen = v[ctx] - v[join]
    misfit = float(np.sqrt(np.mean((shape[hid.size :] - seen) ** 2)))
    if misfit > max(END_FIT_MV, END_FIT_SHARE * float(np.std(seen))):
        return None
    return shape[: hid.size]
