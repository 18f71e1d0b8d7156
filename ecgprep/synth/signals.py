"""Plausible synthetic 12-lead ECG signals (sums of Gaussian waves per beat).

:func:`synthetic_signals` gives the 12 leads in mV; III, aVR, aVL and aVF are
derived from I and II, so Einthoven's and Goldberger's relations hold exactly.
By default the beats are clean textbook ones; keyword options (or the
``"realistic"`` style of :data:`SIGNAL_STYLES`) add what recorded ECGs of the
competition carry: muscle-like noise, baseline wander, mains hum, large
amplitudes, wide and notched QRS complexes and pacing spikes.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_number, pick

__all__ = ["synthetic_signals", "SIGNAL_STYLES", "PACING_MODES", "noise_spectrum"]

# Wave shapes: (name, time of the centre relative to the R peak [s], Gaussian sigma [s]).
# The T wave time depends on the RR interval (Bazett-like) and is set per beat.
_WAVES = ("P", "Q", "R", "S", "T", "Ta")
_WAVE_MU = {"P": -0.165, "Q": -0.030, "R": 0.0, "S": 0.030}
_WAVE_SIGMA = {"P": 0.024, "Q": 0.009, "R": 0.0105, "S": 0.010, "T": 0.045, "Ta": 0.065}

# A wide QRS of duration D: four Gaussians (centre, sigma) in units of D. R1 and R2
# stand 2.7 sigma apart, so where they share a sign the complex is notched.
_WIDE = {"Qw": (-0.36, 0.07), "R1": (-0.16, 0.09), "R2": (0.12, 0.09), "Sw": (0.33, 0.08)}
# Precordial amplitudes (mV) of Qw, R1, R2, Sw and T for V1..V6: left bundle branch
# block (wide QS in V1-V3, broad notched R in V5-V6) and right bundle branch block
# (rSR' in V1-V2, wide slurred S in V5-V6); T discordant to the QRS in both.
_BBB = {
    "lbbb": np.array(
        [
            [0.10, -0.6, -1.2, -0.6, 0.35],
            [0.15, -0.9, -1.6, -0.8, 0.45],
            [0.15, -0.3, -1.2, -0.7, 0.35],
            [0.00, 0.6, 0.3, -0.4, -0.10],
            [0.00, 1.1, 1.0, 0.0, -0.30],
            [0.00, 1.0, 1.1, 0.1, -0.30],
        ]
    ),
    "rbbb": np.array(
        [
            [0.20, -0.6, 1.0, 0.3, -0.20],
            [0.25, -0.8, 0.8, 0.2, -0.10],
            [0.30, -0.6, 0.4, -0.2, 0.20],
            [0.10, 0.9, -0.2, -0.5, 0.35],
            [-0.10, 1.2, -0.3, -0.5, 0.35],
            [-0.10, 1.0, -0.3, -0.5, 0.30],
        ]
    ),
}
_NORMAL_QRS_S = 0.09  # the textbook beat's QRS duration, for the QT of a wide one

#: Ways of pacing: spikes before the P wave, before the QRS (which is then wide), or both.
PACING_MODES = ("atrial", "ventricular", "dual")

# Muscle-noise spectrum: second-order high-pass at 8 Hz, second-order low-pass at 60 Hz.
_NOISE_F_HI_PASS = 8.0
_NOISE_F_LO_PASS = 60.0


def noise_spectrum(f):
    """Amplitude response shaping white noise into the muscle noise of :func:`synthetic_signals`.

    Surface-EMG and electrode noise on a recorded ECG has little power below a
    few Hz (that is baseline wander, added separately) and falls off above the
    recorder's band: ``H(f) = r^2 / (1 + r^2) / sqrt(1 + (f / 60)^4)`` with
    ``r = f / 8`` (f in Hz), whatever the sampling rate.

    Parameters
    ----------
    f : array_like of float
        Frequencies in Hz (>= 0).

    Returns
    -------
    ndarray of float
        ``|H(f)|``, 0 at 0 Hz, about 1 between 15 and 50 Hz.

    Example
    -------
    >>> [round(float(h), 2) for h in noise_spectrum([0.0, 2.0, 30.0, 200.0])]
    [0.0, 0.06, 0.91, 0.09]
    """
    f = np.asarray(f, dtype=float)
    r2 = (f / _NOISE_F_HI_PASS) ** 2
    return r2 / (1.0 + r2) / np.sqrt(1.0 + (f / _NOISE_F_LO_PASS) ** 4)


def _style_textbook(rng):
    return {}


def _style_realistic(rng):
    """Draws of one recording's imperfections, as competition records show them."""
    opts = {
        "noise_mv": float(rng.uniform(0.005, 0.04)),
        "wander_mv": float(rng.uniform(0.05, 0.4)),
        "mains_mv": float(rng.uniform(0.005, 0.03)) if rng.random() < 0.3 else 0.0,
        "mains_hz": float(rng.choice([50.0, 60.0])),
        "amplitude_scale": float(rng.uniform(1.0, 1.8)),
    }
    u = rng.random()
    opts["paced"] = str(rng.choice(PACING_MODES)) if u < 0.15 else None
    opts["spike_mv"] = float(rng.uniform(0.5, 4.0))
    opts["qrs_ms"] = float(rng.uniform(120.0, 200.0)) if 0.15 <= u < 0.45 else None
    return opts


# style -> function(rng) -> defaults for the options the caller left unset
_STYLES = {"textbook": _style_textbook, "realistic": _style_realistic}
#: Styles of :func:`synthetic_signals`: ``"textbook"`` (clean beats) or ``"realistic"``.
SIGNAL_STYLES = tuple(_STYLES)


def _gaussians(t: np.ndarray, mu: np.ndarray, sigma: float, gain: np.ndarray) -> np.ndarray:
    d = (t[None, :] - mu[:, None]) / sigma
    return (gain[:, None] * np.exp(-0.5 * d * d)).sum(axis=0)


def _wave_bases(
    t: np.ndarray,
    beat_times: np.ndarray,
    rr: np.ndarray,
    beat_gain: np.ndarray,
    t_shift: float = 0.0,
):
    """Sum over beats of unit Gaussians per wave: dict wave -> (n,) array.

    ``t_shift`` (s) delays the T waves (a wide QRS lengthens the QT interval).
    """
    out = {}
    for wave in _WAVES:
        if wave in _WAVE_MU:
            mu = beat_times + _WAVE_MU[wave]
        else:
            qt = 0.40 * np.sqrt(rr)  # Bazett: QT ~ 0.40 s * sqrt(RR)
            mu = beat_times + qt - (0.085 if wave == "T" else 0.135)
            if t_shift:
                mu = mu + t_shift
        sigma = _WAVE_SIGMA[wave]
        if wave in ("T", "Ta"):
            sigma = sigma * np.sqrt(rr / 0.8) ** 0.5
        else:
            sigma = np.full(beat_times.shape, sigma)
        d = (t[None, :] - mu[:, None]) / sigma[:, None]
        out[wave] = (beat_gain[:, None] * np.exp(-0.5 * d * d)).sum(axis=0)
    return out


def _spike_train(n: int, fs: float, times: np.ndarray, width_s: float) -> np.ndarray:
    """Unit pulses of ``width_s`` starting at ``times`` (s), sampled at ``fs``.

    A pulse covers ``max(1, round(width_s * fs))`` samples from the first sample
    at or after its start, so it is never lost between two samples.
    """
    out = np.zeros(n)
    k = max(1, int(round(width_s * fs)))
    for ts in times:
        i0 = int(math.ceil(ts * fs - 1e-9))
        if i0 + k <= 0 or i0 >= n:
            continue
        out[max(i0, 0) : min(i0 + k, n)] = 1.0
    return out


def _muscle_noise(rng: np.random.Generator, n: int, fs: float) -> np.ndarray:
    """(n,) noise of RMS 1 with the spectrum :func:`noise_spectrum`, in slow bursts."""
    spec = np.fft.rfft(rng.standard_normal(n)) * noise_spectrum(np.fft.rfftfreq(n, 1.0 / fs))
    x = np.fft.irfft(spec, n)
    t = np.arange(n) / fs
    x *= 1.0 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t + rng.uniform(0, 2 * np.pi))
    rms = float(np.sqrt(np.mean(x * x)))
    return x / rms if rms > 0 else x


def _wander(rng: np.random.Generator, n: int, fs: float) -> np.ndarray:
    """(n,) baseline wander of peak 1: breathing (0.12-0.4 Hz) on a slow drift."""
    t = np.arange(n) / fs
    w = np.sin(2 * np.pi * rng.uniform(0.12, 0.4) * t + rng.uniform(0, 2 * np.pi))
    for _ in range(2):
        w += rng.uniform(0.3, 1.0) * np.sin(
            2 * np.pi * rng.uniform(0.02, 0.1) * t + rng.uniform(0, 2 * np.pi)
        )
    peak = float(np.abs(w).max())
    return w / peak if peak > 0 else w


def _project(vectors: dict, bases: dict) -> tuple[np.ndarray, np.ndarray]:
    """Leads I and II of frontal vectors {wave: (mV, axis degrees)} times their bases."""
    lead_i = 0.0
    lead_ii = 0.0
    for wave, (mag, ang) in vectors.items():
        a = np.radians(ang)
        lead_i = lead_i + mag * np.cos(a) * bases[wave]
        lead_ii = lead_ii + mag * np.cos(a - np.radians(60.0)) * bases[wave]
    return lead_i, lead_ii


def synthetic_signals(
    *,
    fs: float = 500.0,
    duration: float = 10.0,
    heart_rate: float = 75.0,
    seed: int = 0,
    style: str = "textbook",
    noise_mv: float | None = None,
    wander_mv: float | None = None,
    mains_mv: float | None = None,
    mains_hz: float | None = None,
    amplitude_scale: float | None = None,
    qrs_ms: float | None = None,
    paced: str | None = None,
    spike_mv: float | None = None,
    spike_ms: float = 1.0,
) -> dict[str, np.ndarray]:
    """Make a plausible synthetic 12-lead ECG.

    Every beat is a sum of Gaussians (P, Q, R, S and an asymmetric T wave). The
    frontal-plane waves are vectors with random magnitude and axis, projected onto
    leads I and II; V1-V6 follow a random R-wave progression. The RR interval
    varies slightly (heart-rate variability and respiratory modulation), amplitudes
    are scaled at random, and a small baseline wander and noise are added to I, II
    and V1-V6. III, aVR, aVL and aVF are derived from I and II, so Einthoven's and
    Goldberger's relations hold exactly, whatever the options.

    The options below add what recorded ECGs carry. Each is drawn from its own
    random stream of ``seed``: the textbook part of the signals is the same with or
    without them, and setting one leaves the others' draws unchanged. An option
    left as None takes the value drawn by ``style`` (``"textbook"``: off).

    Parameters
    ----------
    fs : float
        Sampling rate in Hz (> 0); every rate of the competition (250, 256, 500,
        512, 1000, 1025 Hz) works.
    duration : float
        Length in seconds (> 0).
    heart_rate : float
        Mean heart rate in beats per minute (20-250).
    seed : int
        Seed of the random generator; the same arguments give the same signals.
    style : {'textbook', 'realistic'}
        Defaults of the options below (:data:`SIGNAL_STYLES`). ``'realistic'``
        draws per recording: noise 5-40 uV RMS, wander 0.05-0.4 mV, mains hum
        (5-30 uV at 50 or 60 Hz) in 30 % of recordings, amplitude scale 1.0-1.8,
        and a wide QRS (120-200 ms) in 30 % or pacing (spikes of 0.5-4 mV) in
        15 % of them.
    noise_mv : float, optional
        RMS (mV) of muscle-like noise added to I, II and V1-V6: white noise shaped
        by :func:`noise_spectrum` (most power at 10-60 Hz, little below 3 Hz or
        above 120 Hz), in slow bursts (0.1-0.5 Hz). 0 to 5.
    wander_mv : float, optional
        Peak baseline wander (mV) added to I, II and V1-V6: breathing (0.12-0.4
        Hz) on a slow drift (0.02-0.1 Hz). 0 to 5.
    mains_mv : float, optional
        Amplitude (mV) of mains hum, 0.5-1 times this per lead, random phase. 0 to 5.
    mains_hz : float, optional
        Its frequency (default 50 Hz); below ``fs / 2``.
    amplitude_scale : float, optional
        Factor on the cardiac waves (not on noise, wander, hum or spikes), 0.1-5:
        1.8 makes R waves of 3-4 mV in some leads, which on a 3x4 page reach into
        the neighbouring row (36 mm = 3.6 mV away).
    qrs_ms : float, optional
        A wide, bundle-branch-block-like QRS of this duration (100-250 ms) instead
        of the narrow one: four waves spread over the duration (notched where two
        share a sign), a left or right bundle branch block pattern in V1-V6 (random),
        discordant T waves and a QT lengthened by the extra width.
    paced : {'atrial', 'ventricular', 'dual'}, optional
        Pacing spikes (:data:`PACING_MODES`) before the P wave (atrial), the QRS
        (ventricular; the QRS is then wide, 160 ms unless ``qrs_ms`` says) or both.
    spike_mv : float, optional
        Size (mV, 0.1-20; default 3, ``'realistic'``: 0.5-4) of a pacing spike's
        vector: the limb lead best aligned with it shows 0.87-1 times this, V1-V6
        up to this.
    spike_ms : float
        Width of a pacing spike (0.1-5 ms), at least one sample.

    Returns
    -------
    signals : dict of str to (L,) ndarray of float64
        The 12 leads in mV, keys in :data:`ecgprep.synth.LEAD_NAMES` order,
        ``L = round(duration * fs)``.
        With the defaults, lead II peak-to-peak is typically 1.3-2.6 mV, V1
        0.6-1.5 mV.

    Raises
    ------
    ValueError
        If a number is out of range, or ``style`` or ``paced`` is not a known
        name (the message lists the valid ones).

    Example
    -------
    >>> sig = synthetic_signals(fs=500, seed=1)
    >>> sig["II"].shape
    (5000,)
    >>> bool(np.allclose(sig["III"], sig["II"] - sig["I"]))
    True
    >>> paced = synthetic_signals(fs=1000, seed=1, paced="ventricular", noise_mv=0.02)
    >>> bool(np.array_equal(paced["III"], paced["II"] - paced["I"]))
    True
    >>> bool(np.abs(paced["III"]).max() > 2.5)  # the spikes
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
    opts = _extras(
        seed,
        fs,
        style=style,
        noise_mv=noise_mv,
        wander_mv=wander_mv,
        mains_mv=mains_mv,
        mains_hz=mains_hz,
        amplitude_scale=amplitude_scale,
        qrs_ms=qrs_ms,
        paced=paced,
        spike_mv=spike_mv,
        spike_ms=spike_ms,
    )
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
    wide_s = opts["qrs_ms"] / 1000.0 if opts["qrs_ms"] is not None else None
    t_shift = 0.5 * (wide_s - _NORMAL_QRS_S) if wide_s is not None else 0.0
    base = _wave_bases(t, beat_times, rr, beat_gain, t_shift)

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
    if wide_s is None:
        lead_i, lead_ii = _project(frontal, base)
    else:
        wide = opts["wide"]
        for wave, (mu, sigma) in _WIDE.items():
            base[wave] = _gaussians(t, beat_times + mu * wide_s, sigma * wide_s, beat_gain)
        r_mag = frontal["R"][0]
        vec = {
            "P": frontal["P"],
            "Qw": (wide["q_mag"], axis + 180.0 + wide["q_turn"]),
            "R1": (wide["r1"] * r_mag, axis + wide["r1_turn"]),
            "R2": (wide["r2"] * r_mag, axis + wide["r2_turn"]),
            "Sw": (wide["s_mag"], axis + wide["r2_turn"] + 180.0 + wide["s_turn"]),
            "T": (frontal["T"][0], axis + 180.0 + wide["t_turn"]),
        }
        vec["Ta"] = (0.25 * vec["T"][0], vec["T"][1])
        lead_i, lead_ii = _project(vec, base)
    gain = scale * opts["amplitude_scale"]
    lead_i *= gain
    lead_ii *= gain

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
        if wide_s is None:
            v = (
                p_amp[k] * base["P"]
                - q_amp[k] * base["Q"]
                + r_amp[k] * base["R"]
                - s_amp[k] * base["S"]
                + t_amp[k] * (base["T"] + 0.25 * base["Ta"])
            )
        else:
            qw, r1, r2, sw, tw = opts["wide"]["prec"][k]
            v = (
                p_amp[k] * base["P"]
                + qw * base["Qw"]
                + r1 * base["R1"]
                + r2 * base["R2"]
                + sw * base["Sw"]
                + tw * (base["T"] + 0.25 * base["Ta"])
            )
        prec.append(v * gain)

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

    if opts["any"]:
        extra = _extra_leads(opts, n, fs, beat_times, wide_s)
        lead_i = lead_i + extra[0]
        lead_ii = lead_ii + extra[1]
        prec = [v + x for v, x in zip(prec, extra[2:], strict=True)]

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


def _extras(seed, fs: float, *, style: str, **given) -> dict:
    """The options' values (given, else drawn by ``style``) and their random draws.

    Every feature draws from its own child of ``seed``'s seed sequence, never from
    the stream of the textbook signal: the default output stays what it was.
    """
    make = pick(_STYLES, style, "signal style")
    streams = np.random.SeedSequence(seed).spawn(6)
    rngs = dict(zip(("style", "wide", "spike", "noise", "wander", "mains"), streams, strict=True))
    drawn = make(np.random.default_rng(rngs["style"]))
    opts = {k: (drawn.get(k) if v is None else v) for k, v in given.items()}
    for name, hi in (("noise_mv", 5.0), ("wander_mv", 5.0), ("mains_mv", 5.0)):
        opts[name] = check_number(opts[name] or 0.0, name, lo=0.0, hi=hi)
    opts["amplitude_scale"] = check_number(
        1.0 if opts["amplitude_scale"] is None else opts["amplitude_scale"],
        "amplitude_scale",
        lo=0.1,
        hi=5.0,
    )
    mains_hz = 50.0 if opts["mains_hz"] is None else opts["mains_hz"]
    opts["mains_hz"] = check_number(mains_hz, "mains_hz", positive=True)
    if opts["mains_mv"] > 0 and not opts["mains_hz"] < fs / 2.0:
        raise ValueError(f"mains_hz must be below fs / 2 = {fs / 2.0} Hz, got {mains_hz!r}")
    if opts["paced"] is not None:
        pick(dict.fromkeys(PACING_MODES), opts["paced"], "pacing mode")
    spike_mv = 3.0 if opts["spike_mv"] is None else opts["spike_mv"]
    opts["spike_mv"] = check_number(spike_mv, "spike_mv", lo=0.1, hi=20.0)
    opts["spike_ms"] = check_number(opts["spike_ms"], "spike_ms", lo=0.1, hi=5.0)
    if opts["qrs_ms"] is None and opts["paced"] in ("ventricular", "dual"):
        opts["qrs_ms"] = 160.0
    if opts["qrs_ms"] is not None:
        opts["qrs_ms"] = check_number(opts["qrs_ms"], "qrs_ms", lo=100.0, hi=250.0)
        r = np.random.default_rng(rngs["wide"])
        u = r.random()  # drawn always: pacing must not shift the draws below
        kind = "lbbb" if opts["paced"] in ("ventricular", "dual") or u < 0.5 else "rbbb"
        sign = float(r.choice([-1.0, 1.0]))
        opts["wide"] = {
            "kind": kind,
            "q_mag": r.uniform(0.05, 0.25),
            "q_turn": r.uniform(-40.0, 40.0),
            "r1": r.uniform(0.5, 0.9),
            "r1_turn": r.uniform(-30.0, 30.0),
            "r2": r.uniform(0.4, 0.9),
            "r2_turn": sign * r.uniform(60.0, 140.0),
            "s_mag": r.uniform(0.2, 0.6),
            "s_turn": r.uniform(-30.0, 30.0),
            "t_turn": r.uniform(-30.0, 30.0),
            "prec": _BBB[kind] * r.uniform(0.8, 1.25),
        }
    opts["rngs"] = rngs
    opts["any"] = bool(
        opts["noise_mv"] or opts["wander_mv"] or opts["mains_mv"] or opts["paced"] is not None
    )
    return opts


def _extra_leads(opts: dict, n: int, fs: float, beat_times: np.ndarray, wide_s) -> list:
    """Noise, wander, hum and spikes of I, II and V1-V6: a list of 8 (n,) arrays."""
    rngs = opts["rngs"]
    out = [np.zeros(n) for _ in range(8)]
    t = np.arange(n) / fs
    if opts["paced"] is not None:
        r = np.random.default_rng(rngs["spike"])
        trains = []
        if opts["paced"] in ("atrial", "dual"):
            # at the onset of the P wave (centre 165 ms before R, sigma 24 ms)
            trains.append(beat_times + _WAVE_MU["P"] - 2.5 * _WAVE_SIGMA["P"])
        if opts["paced"] in ("ventricular", "dual"):
            trains.append(beat_times - 0.5 * wide_s - 0.004)  # just before the QRS
        for times in trains:
            unit = _spike_train(n, fs, times, opts["spike_ms"] / 1000.0)
            axis = np.radians(r.uniform(-180.0, 180.0))
            mag = opts["spike_mv"]
            out[0] += mag * np.cos(axis) * unit
            out[1] += mag * np.cos(axis - np.radians(60.0)) * unit
            for k in range(6):
                out[2 + k] += mag * r.uniform(-1.0, 1.0) * unit
    if opts["noise_mv"]:
        r = np.random.default_rng(rngs["noise"])
        for x in out:
            x += opts["noise_mv"] * _muscle_noise(r, n, fs)
    if opts["wander_mv"]:
        r = np.random.default_rng(rngs["wander"])
        for x in out:
            x += opts["wander_mv"] * _wander(r, n, fs)
    if opts["mains_mv"]:
        r = np.random.default_rng(rngs["mains"])
        for x in out:
            a = opts["mains_mv"] * r.uniform(0.5, 1.0)
            x += a * np.sin(2 * np.pi * opts["mains_hz"] * t + r.uniform(0, 2 * np.pi))
    return out
