"""Plausible synthetic 12-lead ECG signals (sums of Gaussian waves per beat).

:func:`synthetic_signals` gives the 12 leads in mV; III, aVR, aVL and aVF are
derived from I and II, so Einthoven's and Goldberger's relations hold exactly.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["synthetic_signals"]

# Wave shapes: (name, time of the centre relative to the R peak [s], Gaussian sigma [s]).
# The T wave time depends on the RR interval (Bazett-like) and is set per beat.
_WAVES = ("P", "Q", "R", "S", "T", "Ta")
_WAVE_MU = {"P": -0.165, "Q": -0.030, "R": 0.0, "S": 0.030}
_WAVE_SIGMA = {"P": 0.024, "Q": 0.009, "R": 0.0105, "S": 0.010, "T": 0.045, "Ta": 0.065}


def _wave_bases(t: np.ndarray, beat_times: np.ndarray, rr: np.ndarray, beat_gain: np.ndarray):
    """Sum over beats of unit Gaussians per wave: dict wave -> (n,) array."""
    out = {}
    for wave in _WAVES:
        if wave in _WAVE_MU:
            mu = beat_times + _WAVE_MU[wave]
        else:
            qt = 0.40 * np.sqrt(rr)  # Bazett: QT ~ 0.40 s * sqrt(RR)
            mu = beat_times + qt - (0.085 if wave == "T" else 0.135)
        sigma = _WAVE_SIGMA[wave]
        if wave in ("T", "Ta"):
            sigma = sigma * np.sqrt(rr / 0.8) ** 0.5
        else:
            sigma = np.full(beat_times.shape, sigma)
        d = (t[None, :] - mu[:, None]) / sigma[:, None]
        out[wave] = (beat_gain[:, None] * np.exp(-0.5 * d * d)).sum(axis=0)
    return out


def synthetic_signals(
    *, fs: float = 500.0, duration: float = 10.0, heart_rate: float = 75.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """Make a plausible synthetic 12-lead ECG.

    Every beat is a sum of Gaussians (P, Q, R, S and an asymmetric T wave). The
    frontal-plane waves are vectors with random magnitude and axis, projected onto
    leads I and II; V1-V6 follow a random R-wave progression. The RR interval
    varies slightly (heart-rate variability and respiratory modulation), amplitudes
    are scaled at random, and a small baseline wander and noise are added to I, II
    and V1-V6. III, aVR, aVL and aVF are derived from I and II, so Einthoven's and
    Goldberger's relations hold exactly.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz (> 0).
    duration : float
        Length in seconds (> 0).
    heart_rate : float
        Mean heart rate in beats per minute (20-250).
    seed : int
        Seed of the random generator; the same arguments give the same signals.

    Returns
    -------
    signals : dict of str to (L,) ndarray of float64
        The 12 leads in mV, keys in :data:`ecgprep.synth.LEAD_NAMES` order,
        ``L = round(duration * fs)``.
        Lead II peak-to-peak is typically 1.3-2.6 mV, V1 0.6-1.5 mV.

    Raises
    ------
    ValueError
        If ``fs``, ``duration`` or ``heart_rate`` is out of range.

    Example
    -------
    >>> sig = synthetic_signals(fs=500, seed=1)
    >>> sig["II"].shape
    (5000,)
    >>> bool(np.allclose(sig["III"], sig["II"] - sig["I"]))
    True
    """
    fs = float(fs)
    duration = float(duration)
    heart_rate = float(heart_rate)
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be a positive number, got {fs!r}")
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a positive number, got {duration!r}")
    if not (20.0 <= heart_rate <= 250.0):
        raise ValueError(f"heart_rate must be within 20-250 bpm, got {heart_rate!r}")
    n = int(round(duration * fs))
    if n < 2:
        raise ValueError(f"duration * fs must give at least 2 samples, got {n}")
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs

    # RR series: AR(1) heart-rate variability plus respiratory sinus arrhythmia.
    rr_mean = 60.0 / heart_rate
    hrv = rng.uniform(0.01, 0.035)
    resp_f = rng.uniform(0.15, 0.35)
    resp_phase = rng.uniform(0, 2 * np.pi)
    beats = []
    rr_list = []
    tb = -rng.uniform(0.3, 1.0) * rr_mean
    e = 0.0
    while tb < duration + 1.0:
        e = 0.6 * e + rng.normal(0.0, hrv)
        rr = rr_mean * (1.0 + e + 0.5 * hrv * np.sin(2 * np.pi * resp_f * tb + resp_phase))
        rr = max(rr, 0.25)
        beats.append(tb)
        rr_list.append(rr)
        tb += rr
    beat_times = np.asarray(beats)
    rr = np.asarray(rr_list)
    beat_gain = 1.0 + 0.02 * rng.standard_normal(beat_times.size)
    beat_gain *= 1.0 + 0.04 * np.sin(2 * np.pi * resp_f * beat_times + resp_phase + 1.0)
    base = _wave_bases(t, beat_times, rr, beat_gain)

    scale = rng.uniform(0.85, 1.2)
    # Frontal plane: (magnitude mV, axis degrees; 0 = lead I, +90 = aVF / inferior).
    axis = rng.uniform(15.0, 75.0)
    r_ii = rng.uniform(1.0, 1.9)  # R amplitude in lead II
    frontal = {
        "R": (r_ii / np.cos(np.radians(axis - 60.0)), axis),
        "Q": (rng.uniform(0.05, 0.2), axis + 180.0 + rng.uniform(-40, 40)),
        "S": (rng.uniform(0.15, 0.45), axis + 180.0 + rng.uniform(-50, 50)),
        "P": (rng.uniform(0.1, 0.22), rng.uniform(35.0, 70.0)),
        "T": (rng.uniform(0.22, 0.5), axis + rng.uniform(-30.0, 20.0)),
    }
    frontal["Ta"] = (0.25 * frontal["T"][0], frontal["T"][1])
    lead_i = np.zeros(n)
    lead_ii = np.zeros(n)
    for wave, (mag, ang) in frontal.items():
        a = np.radians(ang)
        lead_i += mag * np.cos(a) * base[wave]
        lead_ii += mag * np.cos(a - np.radians(60.0)) * base[wave]
    lead_i *= scale
    lead_ii *= scale

    # Precordial leads: R-wave progression with a random transition zone.
    shift = rng.uniform(-0.6, 0.6)
    pos = np.arange(6) + shift
    r_amp = np.interp(pos, np.arange(6), [0.22, 0.45, 0.8, 1.25, 1.45, 1.15]) * rng.uniform(
        0.8, 1.2
    )
    s_amp = np.interp(pos, np.arange(6), [0.95, 1.35, 1.05, 0.6, 0.3, 0.15]) * rng.uniform(0.8, 1.2)
    q_amp = np.array([0.0, 0.0, 0.0, 0.04, 0.08, 0.1]) * rng.uniform(0.5, 1.5)
    t_amp = np.array([rng.uniform(-0.12, 0.12), 0.3, 0.45, 0.45, 0.35, 0.25]) * rng.uniform(
        0.7, 1.3
    )
    p_amp = np.array([0.06, 0.08, 0.08, 0.08, 0.08, 0.07]) * rng.uniform(0.7, 1.3)
    prec = []
    for k in range(6):
        v = (
            p_amp[k] * base["P"]
            - q_amp[k] * base["Q"]
            + r_amp[k] * base["R"]
            - s_amp[k] * base["S"]
            + t_amp[k] * (base["T"] + 0.25 * base["Ta"])
        )
        prec.append(v * scale)

    # Baseline wander and a little noise on the independent leads.
    def wander() -> np.ndarray:
        amp = rng.uniform(0.0, 0.1)
        w = np.zeros(n)
        for _ in range(2):
            f = rng.uniform(0.05, 0.4)
            w += rng.uniform(0.3, 0.7) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
        return amp * w + rng.normal(0.0, 0.004, n)

    lead_i = lead_i + wander()
    lead_ii = lead_ii + wander()
    prec = [v + wander() for v in prec]

    out = {
        "I": lead_i,
        "II": lead_ii,
        "III": lead_ii - lead_i,
        "aVR": -(lead_i + lead_ii) / 2.0,
        "aVL": lead_i - lead_ii / 2.0,
        "aVF": lead_ii - lead_i / 2.0,
    }
    for k in range(6):
        out[f"V{k + 1}"] = prec[k]
    return out
