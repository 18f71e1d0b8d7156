"""Tests of ecgprep.synth: signals, renders, distortions and data sets."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from ecgprep import synth
from ecgprep.synth import LEAD_NAMES, bend, distort, render_ecg, synthetic_signals, write_dataset

PX_PER_MM_200 = 200 / 25.4


@pytest.fixture(scope="module")
def render200():
    return render_ecg(seed=11, calibration_pulse=True)


@pytest.fixture(scope="module")
def render100():
    return render_ecg(seed=5, dpi=100, calibration_pulse=False)


# --------------------------------------------------------------------------- signals


def test_signals_shapes_and_dtypes():
    sig = synthetic_signals(fs=500, seed=0)
    assert tuple(sig) == LEAD_NAMES
    for v in sig.values():
        assert v.shape == (5000,)
        assert v.dtype == np.float64
        assert np.all(np.isfinite(v))
    assert synthetic_signals(fs=256, duration=2.5, seed=0)["V3"].shape == (640,)


def test_einthoven_and_goldberger_exact():
    sig = synthetic_signals(seed=3)
    i, ii = sig["I"], sig["II"]
    assert np.array_equal(sig["III"], ii - i)
    assert np.array_equal(sig["aVR"], -(i + ii) / 2)
    assert np.array_equal(sig["aVL"], i - ii / 2)
    assert np.array_equal(sig["aVF"], ii - i / 2)


def test_signals_deterministic_and_seeded():
    a = synthetic_signals(seed=7)
    b = synthetic_signals(seed=7)
    c = synthetic_signals(seed=8)
    assert all(np.array_equal(a[k], b[k]) for k in LEAD_NAMES)
    assert not np.allclose(a["II"], c["II"])


@pytest.mark.parametrize("hr", [50.0, 75.0, 120.0])
def test_signals_plausible_amplitude_and_rate(hr):
    for seed in range(4):
        sig = synthetic_signals(seed=seed, heart_rate=hr)
        assert 1.0 <= np.ptp(sig["II"]) <= 3.0
        assert 0.4 <= np.ptp(sig["V1"]) <= 2.2
        # Count R peaks of lead II: rising crossings of 60 % of the maximum.
        x = sig["II"]
        above = x > 0.6 * x.max()
        beats = int(np.count_nonzero(above[1:] & ~above[:-1]))
        assert abs(beats - hr / 6.0) <= 2.0  # 10 s


@pytest.mark.parametrize(
    "kwargs", [{"fs": 0}, {"fs": -5}, {"duration": 0}, {"heart_rate": 5}, {"fs": float("nan")}]
)
def test_signals_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        synthetic_signals(**kwargs)


# ------------------------------------------------------------- realistic signals

COMPETITION_FS = (250, 256, 500, 512, 1000, 1025)
INDEPENDENT = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")


def _assert_einthoven(sig):
    i, ii = sig["I"], sig["II"]
    assert np.array_equal(sig["III"], ii - i)
    assert np.array_equal(sig["aVR"], -(i + ii) / 2)
    assert np.array_equal(sig["aVL"], i - ii / 2)
    assert np.array_equal(sig["aVF"], ii - i / 2)


def _qrs_widths_ms(sig, fs):
    """QRS durations (ms): spans where the spatial velocity of the independent leads
    (smoothed over 8 ms) exceeds 20 % of its peak, gaps under 40 ms bridged.
    This ruler reads a textbook QRS (Q to S, about 90 ms) as 74-80 ms."""
    k = max(1, int(round(0.008 * fs)))
    box = np.ones(k) / k
    v = sum(np.abs(np.gradient(np.convolve(sig[n], box, mode="same"))) for n in INDEPENDENT)
    idx = np.flatnonzero(v > 0.2 * np.percentile(v, 99.5))
    cuts = np.flatnonzero(np.diff(idx) > 0.04 * fs)
    starts = idx[np.r_[0, cuts + 1]]
    ends = idx[np.r_[cuts, idx.size - 1]]
    return starts, (ends - starts + 1) / fs * 1000.0


def _runs(mask):
    """(start, length) of the runs of True in a 1-D bool array."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    starts = np.flatnonzero(d == 1)
    return starts, np.flatnonzero(d == -1) - starts


@pytest.mark.parametrize("fs", COMPETITION_FS)
def test_every_competition_rate_with_every_feature(fs):
    opts = dict(noise_mv=0.03, wander_mv=0.3, mains_mv=0.02, amplitude_scale=1.5)
    for extra in ({"qrs_ms": 150}, {"paced": "dual"}, {"style": "realistic"}):
        sig = synthetic_signals(fs=fs, seed=2, **opts, **extra)
        assert tuple(sig) == LEAD_NAMES
        for v in sig.values():
            assert v.shape == (10 * fs,) and v.dtype == np.float64 and np.isfinite(v).all()
        _assert_einthoven(sig)


def test_default_output_is_the_textbook_style_and_options_off():
    a = synthetic_signals(seed=5)
    for b in (
        synthetic_signals(seed=5, style="textbook"),
        synthetic_signals(seed=5, noise_mv=0, wander_mv=0, mains_mv=0, amplitude_scale=1),
    ):
        assert all(np.array_equal(a[k], b[k]) for k in LEAD_NAMES)


@pytest.mark.parametrize("fs", [250, 1000])
def test_noise_has_the_rms_asked_and_an_ecg_like_spectrum(fs):
    clean = synthetic_signals(fs=fs, seed=4, duration=20)
    noisy = synthetic_signals(fs=fs, seed=4, duration=20, noise_mv=0.05)
    # the textbook signal is untouched: the difference is the noise alone
    for name in INDEPENDENT:
        x = noisy[name] - clean[name]
        assert np.sqrt(np.mean(x * x)) == pytest.approx(0.05, rel=1e-6)
    x = noisy["II"] - clean["II"]
    f = np.fft.rfftfreq(x.size, 1 / fs)
    p = np.abs(np.fft.rfft(x)) ** 2

    def density(lo, hi):
        band = (f >= lo) & (f < hi)
        return p[band].mean()

    total = p.sum()
    assert p[f < 3].sum() < 0.02 * total  # no wander in it
    assert p[(f >= 8) & (f < 80)].sum() > 0.7 * total  # muscle band
    # not white: 30-50 Hz is far denser than 2-4 Hz and than the top of the band
    assert density(30, 50) > 20 * density(2, 4)
    assert density(30, 50) > 4 * density(0.9 * fs / 2, fs / 2)
    # the ruler tells white noise apart: flat density
    white = np.abs(np.fft.rfft(np.random.default_rng(0).standard_normal(x.size))) ** 2
    assert white[(f >= 30) & (f < 50)].mean() < 1.5 * white[f >= 0.9 * fs / 2].mean()


def test_wander_and_mains_have_the_size_and_frequency_asked():
    fs = 500
    clean = synthetic_signals(fs=fs, seed=6)
    w = synthetic_signals(fs=fs, seed=6, wander_mv=0.4)
    m = synthetic_signals(fs=fs, seed=6, mains_mv=0.02, mains_hz=60)
    f = np.fft.rfftfreq(clean["I"].size, 1 / fs)
    for name in INDEPENDENT:
        x = w[name] - clean[name]
        assert np.abs(x).max() == pytest.approx(0.4, rel=1e-9)
        p = np.abs(np.fft.rfft(x)) ** 2
        assert p[f < 1.0].sum() > 0.95 * p.sum()  # (the rest: leakage of a 10 s window)
        h = m[name] - clean[name]
        assert 0.01 - 1e-9 <= np.abs(h).max() <= 0.02 + 1e-9
        ph = np.abs(np.fft.rfft(h))
        assert f[np.argmax(ph)] == pytest.approx(60.0, abs=0.2)
    with pytest.raises(ValueError, match="mains_hz must be below fs / 2"):
        synthetic_signals(fs=100, mains_mv=0.01, mains_hz=60)


def test_amplitude_scale_scales_the_beats_and_reaches_the_next_row():
    for seed in range(3):
        a = synthetic_signals(seed=seed)
        b = synthetic_signals(seed=seed, amplitude_scale=2.0)
        for name in LEAD_NAMES:
            # b = 2 * beats + wander, a = beats + wander: 2a - b is the textbook
            # wander and noise alone (under 0.1 mV + 5 sigma of 4 uV each)
            assert np.abs(2 * a[name] - b[name]).max() < 0.2
        assert np.ptp(b["II"]) > 1.8 * np.ptp(a["II"])
    # 1.8 makes 3-4 mV peaks: on a 3x4+1 page (rows 36 mm = 3.6 mV apart) a
    # panel's ink reaches past the middle between rows, most of the way to the
    # neighbouring baseline
    peaks = []
    for seed in range(6):
        sig = synthetic_signals(seed=seed, amplitude_scale=1.8)
        peaks.append(max(np.abs(v).max() for v in sig.values()))
    assert 3.0 <= max(peaks) <= 5.0 and np.median(peaks) > 2.5
    seed = int(np.argmax(peaks))
    r = render_ecg(synthetic_signals(seed=seed, amplitude_scale=1.8), seed=seed, dpi=50)
    t = r.truth
    rows = sorted({lt.baseline_y_px for lt in t.leads})
    gap = rows[1] - rows[0]
    reach = max(
        np.abs(t.lead_xy(lt, distorted=False)[:, 1] - lt.baseline_y_px).max() for lt in t.leads
    )
    assert reach > 0.8 * gap
    # the realistic style draws such amplitudes now and then
    top = [
        max(np.abs(v).max() for v in synthetic_signals(seed=s, style="realistic").values())
        for s in range(12)
    ]
    assert max(top) > 3.0


@pytest.mark.parametrize("fs", COMPETITION_FS)
def test_wide_qrs_has_the_width_asked(fs):
    normal = np.median(_qrs_widths_ms(synthetic_signals(fs=fs, seed=1, heart_rate=60), fs)[1])
    assert 65 <= normal <= 90
    for qrs_ms in (120, 160, 200):
        sig = synthetic_signals(fs=fs, seed=1, heart_rate=60, qrs_ms=qrs_ms)
        _assert_einthoven(sig)
        _, widths = _qrs_widths_ms(sig, fs)
        assert widths.size >= 9  # one per beat (10 s at 60 bpm)
        # the same ruler: the wide QRS is qrs_ms / 90 ms times the textbook one
        assert np.median(widths) / normal == pytest.approx(qrs_ms / 90.0, rel=0.1)


def test_wide_qrs_is_notched_somewhere():
    """Two peaks of one sign within a QRS: a notch (M-shaped R or rSR')."""
    fs = 1000
    notched = 0
    for seed in range(4):
        sig = synthetic_signals(fs=fs, seed=seed, heart_rate=60, qrs_ms=160)
        starts, widths = _qrs_widths_ms(sig, fs)
        a, n = int(starts[3]), int(widths[3] * fs / 1000)
        for name in INDEPENDENT:
            x = sig[name][a : a + n]
            for s in (x, -x):
                peaks = np.flatnonzero((s[1:-1] > s[:-2]) & (s[1:-1] >= s[2:]) & (s[1:-1] > 0.2))
                if peaks.size >= 2 and peaks[-1] - peaks[0] > 0.03 * fs:
                    notched += 1
    assert notched >= 4


@pytest.mark.parametrize("fs", COMPETITION_FS)
@pytest.mark.parametrize("spike_ms", [0.5, 2.0])
def test_pacing_spikes_narrow_large_and_before_the_qrs(fs, spike_ms):
    kw = dict(fs=fs, seed=3, heart_rate=70, paced="ventricular", spike_ms=spike_ms)
    big = synthetic_signals(spike_mv=4.0, **kw)
    small = synthetic_signals(spike_mv=2.0, **kw)
    _assert_einthoven(big)
    spikes = {name: big[name] - small[name] for name in LEAD_NAMES}  # 2 mV spikes alone
    limb = np.max([np.abs(spikes[n]) for n in ("I", "II", "III")], axis=0)
    starts, lengths = _runs(limb > 1e-9)
    assert 10 <= starts.size <= 13  # one per beat
    # as narrow as asked (at least one sample)
    assert np.all(lengths == max(1, round(spike_ms * fs / 1000)))
    # the limb lead best aligned sees 0.87-1 times the spike
    assert np.all(limb[starts] >= 0.866 * 2.0) and limb.max() <= 2.0 + 1e-9
    # just before each QRS (measured on the signal without its spikes)
    clean = {n: small[n] - spikes[n] for n in LEAD_NAMES}
    qrs_on, widths = _qrs_widths_ms(clean, fs)
    assert np.median(widths) > 120  # ventricular pacing: a wide QRS
    for s in starts[1:-1]:
        lead_ms = (qrs_on[qrs_on >= s][0] - s) / fs * 1000
        assert 0 <= lead_ms <= 40


def test_atrial_spikes_come_before_the_p_wave_and_dual_has_both():
    fs = 500
    kw = dict(fs=fs, seed=8, heart_rate=60)
    a4 = synthetic_signals(paced="atrial", spike_mv=4.0, **kw)
    a2 = synthetic_signals(paced="atrial", spike_mv=2.0, **kw)
    plain = synthetic_signals(**kw)
    spike = np.abs(a4["II"] - a2["II"]) + np.abs(a4["I"] - a2["I"])
    starts, _ = _runs(spike > 1e-9)
    # atrial pacing leaves the beats as they were, spikes aside
    assert np.allclose(a2["II"] - (a4["II"] - a2["II"]), plain["II"])
    qrs_on, _ = _qrs_widths_ms(plain, fs)
    gaps = [(qrs_on[qrs_on >= s][0] - s) / fs * 1000 for s in starts[1:-1]]
    assert 150 <= np.median(gaps) <= 250  # a PR interval ahead: before the P wave
    d4 = synthetic_signals(paced="dual", spike_mv=4.0, **kw)
    d2 = synthetic_signals(paced="dual", spike_mv=2.0, **kw)
    both, _ = _runs((np.abs(d4["I"] - d2["I"]) + np.abs(d4["II"] - d2["II"])) > 1e-9)
    assert both.size == pytest.approx(2 * starts.size, abs=2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"style": "fancy"}, r"unknown signal style 'fancy'; valid: 'textbook', 'realistic'"),
        ({"paced": "sometimes"}, r"unknown pacing mode 'sometimes'; valid: 'atrial'"),
        ({"noise_mv": -0.1}, "noise_mv"),
        ({"wander_mv": float("nan")}, "wander_mv"),
        ({"amplitude_scale": 0}, "amplitude_scale"),
        ({"qrs_ms": 60}, "qrs_ms"),
        ({"spike_ms": 10}, "spike_ms"),
        ({"spike_mv": True}, "spike_mv"),
    ],
)
def test_signal_options_bad_values_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        synthetic_signals(**kwargs)


def test_realistic_style_is_seeded_and_varied():
    a = synthetic_signals(seed=9, style="realistic")
    b = synthetic_signals(seed=9, style="realistic")
    assert all(np.array_equal(a[k], b[k]) for k in LEAD_NAMES)
    _assert_einthoven(a)
    clean = synthetic_signals(seed=9)
    assert not np.allclose(a["II"], clean["II"])
    # an option given overrides the style's draw, the others stay
    c = synthetic_signals(seed=9, style="realistic", noise_mv=0.0)
    assert not np.array_equal(a["II"], c["II"])
    assert np.std(a["II"] - c["II"]) < 0.05


# --------------------------------------------------------------------------- render


def test_render_shapes_and_truth(render200, render100):
    r = render200
    assert r.image.shape == (1700, 2200, 3)
    assert r.image.dtype == np.uint8 and r.image.flags["C_CONTIGUOUS"]
    t = r.truth
    for m in (t.trace_mask, t.grid_mask, t.text_mask):
        assert m.shape == (1700, 2200) and m.dtype == bool
    assert t.px_per_mm == pytest.approx(PX_PER_MM_200)
    assert len(t.leads) == 13 and sum(lt.is_rhythm for lt in t.leads) == 1
    assert np.array_equal(t.homography, np.eye(3))
    assert t.angle_deg == 0.0
    np.testing.assert_allclose(t.paper_quad, [[0, 0], [2199, 0], [2199, 1699], [0, 1699]])
    assert render100.image.shape == (850, 1100, 3)
    # No ink is counted twice.
    assert not np.any(t.trace_mask & t.grid_mask)
    assert not np.any(t.trace_mask & t.text_mask)


def test_standard_geometry_matches_competition(render200, render100):
    t = render200.truth
    rhythm = t.lead("II", rhythm=True)
    assert rhythm.x0_px == pytest.approx(15 * PX_PER_MM_200)  # pulse: traces at 15 mm
    assert rhythm.n_samples == 5000 and rhythm.duration_s == pytest.approx(10.0)
    assert rhythm.x1_px - rhythm.x0_px == pytest.approx(250 * PX_PER_MM_200)
    for name, start in (("I", 0), ("aVR", 1250), ("V1", 2500), ("V4", 3750)):
        lt = t.lead(name)
        assert (lt.row, lt.start_sample, lt.n_samples) == (0, start, 1250)
        assert lt.t0_s == pytest.approx(start / 500)
        assert lt.x0_px == pytest.approx((15 + start / 500 * 25) * PX_PER_MM_200)
    baselines_mm = sorted({round(lt.baseline_y_px / t.px_per_mm) for lt in t.leads})
    assert baselines_mm == [90, 126, 162, 195]
    t100 = render100.truth
    assert t100.lead("I").x0_px == pytest.approx(10 * 100 / 25.4)  # no pulse: 10 mm


def test_render_deterministic():
    a = render_ecg(seed=4, dpi=100, header_text=True)
    b = render_ecg(seed=4, dpi=100, header_text=True)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.truth.trace_mask, b.truth.trace_mask)


def _near(mask, x, y, r=1):
    """True where the mask is set within r px of (x, y)."""
    xi, yi = int(round(x)), int(round(y))
    return bool(mask[max(yi - r, 0) : yi + r + 1, max(xi - r, 0) : xi + r + 1].any())


def test_trace_pixels_lie_where_truth_says(render200):
    r = render200
    t = r.truth
    gray = cv2.cvtColor(r.image, cv2.COLOR_RGB2GRAY)
    ppm = t.px_per_mm
    rng = np.random.default_rng(0)
    for lt in t.leads:
        v = t.signals[lt.name][lt.start_sample : lt.start_sample + lt.n_samples]
        for j in rng.choice(lt.n_samples, 25, replace=False):
            x = lt.x0_px + j / t.fs * 25 * ppm
            y = lt.baseline_y_px - v[j] * 10 * ppm
            assert t.trace_mask[int(round(y)), int(round(x))] or _near(t.trace_mask, x, y, 1), (
                lt.name,
                j,
            )
            assert gray[int(round(y)), int(round(x))] < 140 or _near(gray < 100, x, y, 1)
        # lead_xy gives the same points
        xy = t.lead_xy(lt)
        assert xy.shape == (lt.n_samples, 2)
        assert xy[10, 0] == pytest.approx(lt.x0_px + 10 / t.fs * 25 * ppm)


def test_trace_is_subpixel_exact_on_flat_segments(render200):
    """Trace ink centroid (per column) matches the truth within 0.25 px where the trace is flat."""
    t = render200.truth
    dark = 255.0 - cv2.cvtColor(render200.image, cv2.COLOR_RGB2GRAY).astype(float)
    ppm = t.px_per_mm
    lt = t.lead("II", rhythm=True)
    v = t.signals["II"]
    errors = []
    for col in range(int(lt.x0_px) + 5, int(lt.x1_px) - 5, 7):
        k = (col - lt.x0_px) / (25 * ppm) * t.fs
        k0 = int(np.floor(k))
        win = v[max(k0 - 4, 0) : k0 + 5]
        if np.ptp(win) > 0.03:  # only flat parts: < 0.25 px change around
            continue
        y = lt.baseline_y_px - np.interp(k, np.arange(v.size), v) * 10 * ppm
        rows = np.arange(int(y) - 3, int(y) + 5)
        w = dark[rows, col]
        w = np.where(t.trace_mask[rows, col] | (w > 150), w, 0.0)  # ignore the grid
        if w.sum() == 0:
            continue
        errors.append(np.sum(w * rows) / w.sum() - y)
    errors = np.asarray(errors)
    assert errors.size > 30
    assert np.median(np.abs(errors)) < 0.25


def test_calibration_pulse_drawn(render200, render100):
    t = render200.truth
    ppm = t.px_per_mm
    for lt in t.leads:
        if lt.col != 0:
            continue
        b = lt.baseline_y_px
        top = b - 10 * ppm
        assert _near(t.trace_mask, lt.x0_px - 2.5 * ppm, top)  # top edge, 1 mV up
        assert _near(t.trace_mask, lt.x0_px - 5 * ppm, b - 5 * ppm)  # rising edge
        assert _near(t.trace_mask, lt.x0_px, b - 5 * ppm)  # falling edge at the trace start
    t1 = render100.truth
    x_left = int(t1.lead("I").x0_px) - 2
    assert not t1.trace_mask[:, :x_left].any()  # no pulse, nothing left of the traces


def test_grid_period_and_colours(render200):
    r = render200
    t = r.truth
    img = r.image.astype(int)
    # Major red lines (255, 0, 0) in a trace-free row band near the top.
    band = img[20:60]
    major_cols = np.nonzero(((band[:, :, 1] < 60) & (band[:, :, 0] > 200)).mean(axis=0) > 0.9)[0]
    period = np.diff(major_cols).mean()
    assert period == pytest.approx(5 * t.px_per_mm, abs=0.3)
    assert t.grid_mask[20:60][:, major_cols].mean() > 0.95
    # Paper colour between lines
    assert tuple(img[3:6, 3:6].reshape(-1, 3).mean(axis=0).round()) == pytest.approx(
        t.paper_rgb, abs=3
    )
    # grid mask has a 1 mm period: about 2 in every 7.9 rows carry a horizontal line.
    frac = t.grid_mask[:, 500:520].all(axis=1).mean()
    assert 0.1 < frac < 0.35


def test_bw_mode_gray_grid_black_trace():
    r = render_ecg(seed=2, dpi=100, grid_color="bw", trace_color=(200, 0, 0))
    img = r.image
    assert np.array_equal(img[:, :, 0], img[:, :, 1]) and np.array_equal(img[:, :, 1], img[:, :, 2])
    assert r.truth.trace_rgb == (0, 0, 0)
    assert img[r.truth.trace_mask].mean() < 80
    assert img[r.truth.grid_mask].mean() > 90


@pytest.mark.parametrize("color", ["red", "pink", "blue", "green", "brown", "gray", (30, 90, 200)])
def test_grid_colours(color):
    r = render_ecg(seed=1, dpi=150, grid_color=color)
    t = r.truth
    major = np.asarray(t.grid_rgb, float)
    # The darkest-grid pixels are close to the major colour
    g = r.image[t.grid_mask].astype(float)
    d = np.linalg.norm(g - major, axis=1)
    assert d.min() < 30
    assert r.image[t.trace_mask].mean() < 90


@pytest.mark.parametrize("layout", synth.LAYOUTS)
def test_layouts(layout):
    r = render_ecg(seed=3, dpi=80, layout=layout)
    t = r.truth
    names = {lt.name for lt in t.leads}
    assert names == set(LEAD_NAMES)
    h, w = r.image.shape[:2]
    for lt in t.leads:
        assert 0 < lt.x0_px < lt.x1_px <= w
        assert 0 < lt.baseline_y_px < h
        xy = t.lead_xy(lt)
        inside = (xy[:, 1] >= 0) & (xy[:, 1] < h)
        hits = [_near(t.trace_mask, x, y, 1) for x, y in xy[inside][:: max(1, len(xy) // 20)]]
        assert np.mean(hits) > 0.95
    rhythm = [lt.name for lt in t.leads if lt.is_rhythm]
    expected = {
        "3x4+1": ["II"],
        "3x4": [],
        "3x4+2": ["V1", "II"],
        "3x4+3": ["II", "V1", "V5"],
        "6x2": [],
        "6x2+1": ["II"],
        "12x1": [],
    }[layout]
    assert rhythm == expected and list(t.rhythm_leads) == expected
    if layout.startswith("6x2"):
        assert all(lt.duration_s == pytest.approx(5.0) for lt in t.leads if not lt.is_rhythm)


@pytest.mark.parametrize("layout", synth.LAYOUTS)
def test_layouts_print_the_standard_rows(layout):
    # The renderer's page geometry and ecgprep.standards.LAYOUTS describe the same pages.
    from ecgprep.standards import LAYOUTS as STANDARD

    if layout not in STANDARD:
        pytest.skip(f"ecgprep.standards.LAYOUTS has no {layout!r} yet")
    t = render_ecg(seed=3, dpi=40, layout=layout).truth
    rows = [
        [(lt.name, lt.t0_s, lt.duration_s) for lt in t.leads if lt.row == r]
        for r in range(1 + max(lt.row for lt in t.leads))
    ]
    assert [[name for name, _, _ in row] for row in rows] == [
        [name for name, _, _ in row] for row in STANDARD[layout]
    ]
    for got, want in zip(rows, STANDARD[layout], strict=True):
        got_times = [v for _, t0, d in got for v in (t0, d)]
        assert got_times == pytest.approx([v for _, t0, d in want for v in (t0, d)])


def test_render_bad_arguments():
    with pytest.raises(ValueError, match="layout"):
        render_ecg(layout="4x3", dpi=50)
    with pytest.raises(ValueError, match="grid_color"):
        render_ecg(grid_color="purple", dpi=50)
    with pytest.raises(ValueError, match="unknown labels 'left'; valid: 'above', 'below'"):
        render_ecg(labels="left", dpi=50)
    sig = synthetic_signals(seed=0)
    del sig["V4"]
    with pytest.raises(ValueError, match="V4"):
        render_ecg(sig, dpi=50)
    sig = synthetic_signals(seed=0)
    sig["V1"] = sig["V1"].copy()
    sig["V1"][3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        render_ecg(sig, dpi=50)
    with pytest.raises(ValueError):
        render_ecg(dpi=0)


def test_custom_signals_plotted_exactly():
    fs = 250.0
    t_s = np.arange(2500) / fs
    flat = {name: np.zeros(2500) for name in LEAD_NAMES}
    flat["II"] = 0.5 * np.sin(2 * np.pi * 1.0 * t_s)
    r = render_ecg(flat, fs=fs, dpi=150, calibration_pulse=False, labels=False, separators=False)
    lt = r.truth.lead("II", rhythm=True)
    ppm = r.truth.px_per_mm
    for k in (0, 62, 125, 300, 1000):
        x = lt.x0_px + k / fs * 25 * ppm
        y = lt.baseline_y_px - flat["II"][k] * 10 * ppm
        assert _near(r.truth.trace_mask, x, y, 1)


# ------------------------------------------------------------ real-printout cases
# (issue 10: GE rhythm strips, 50 mm/s, 5 and 20 mm/mV, dotted and major-only grids,
# black-and-white scans, text blocks, one-pixel traces)

STEP_T0_S, STEP_T1_S = 4.0, 4.4  # a 1 mV plateau on every lead, at a known time


def _step_signals(fs=500.0):
    """Flat leads with a 1 mV plateau from 4.0 s to 4.4 s (a known edge to find)."""
    k = np.arange(int(10 * fs))
    step = ((k >= STEP_T0_S * fs) & (k < STEP_T1_S * fs)).astype(float)
    return {name: step.copy() for name in LEAD_NAMES}


def _ink_rows(mask, x, y_lo, y_hi):
    """First and last rows of ``mask`` in columns x-1..x+1, rows y_lo..y_hi."""
    xi = int(round(x))
    rows = np.flatnonzero(mask[int(y_lo) : int(y_hi), xi - 1 : xi + 2].any(axis=1))
    return rows[0] + int(y_lo), rows[-1] + int(y_lo)


def _assert_truth_on_ink(t, every=25, min_hits=0.97):
    h, w = t.trace_mask.shape
    for lt in t.leads:
        xy = t.lead_xy(lt)[::every]
        inside = (xy[:, 1] >= 0) & (xy[:, 1] < h) & (xy[:, 0] < w)
        hits = [_near(t.trace_mask, x, y, 1) for x, y in xy[inside]]
        assert np.mean(hits) >= min_hits, lt


@pytest.mark.parametrize(
    "layout, rhythm",
    [
        ("3x4+1", ("II",)),
        ("3x4+2", ("V1", "II")),
        ("3x4+3", ("II", "V1", "V5")),
        ("6x2+1", ("II",)),
        ("3x4+3:V1,II,V5", ("V1", "II", "V5")),
        ("3x4+2:II,V1", ("II", "V1")),
        ("6x2+1:V5", ("V5",)),
    ],
)
def test_rhythm_strips_print_the_leads_in_order(layout, rhythm):
    t = render_ecg(seed=2, dpi=100, layout=layout).truth
    strips = [lt for lt in t.leads if lt.is_rhythm]
    assert tuple(lt.name for lt in strips) == rhythm == t.rhythm_leads
    assert t.layout == layout.split(":")[0]
    assert t.layout_spec == f"{t.layout}:{','.join(rhythm)}"
    short_rows = 3 if t.layout.startswith("3x4") else 6
    assert [lt.row for lt in strips] == list(range(short_rows, short_rows + len(rhythm)))
    for lt in strips:
        assert (lt.start_sample, lt.n_samples, lt.col) == (0, 5000, 0)
        assert lt.x1_px - lt.x0_px == pytest.approx(250 * t.px_per_mm)
    # rows as far apart as printers put them: 23 mm or more, none off the page
    baselines = sorted({lt.baseline_y_px / t.px_per_mm for lt in t.leads})
    assert len(baselines) == short_rows + len(rhythm)
    assert np.diff(baselines).min() >= 23.0 - 1e-9
    assert baselines[-1] <= 195.0 + 1e-9
    _assert_truth_on_ink(t)


@pytest.mark.parametrize("name", ["3x4+3:V1,II,V5", "3x4+2:II,V5", "6x2+1:V5", "3x4+1:V2"])
def test_spelled_layouts_print_the_standard_rows(name):
    # one name for the renderer and the digitizer's layout table
    from ecgprep import standards

    layout_rows = getattr(standards, "layout_rows", None)
    if layout_rows is None:
        pytest.skip("ecgprep.standards has no layout_rows yet")
    t = render_ecg(seed=3, dpi=40, layout=name).truth
    rows = [
        [(lt.name, lt.t0_s, lt.duration_s) for lt in t.leads if lt.row == r]
        for r in range(1 + max(lt.row for lt in t.leads))
    ]
    want = layout_rows(name)
    assert [[n for n, _, _ in row] for row in rows] == [[n for n, _, _ in row] for row in want]
    assert t.layout_spec == name


def test_rhythm_leads_keyword_equals_the_layout_spelling():
    a = render_ecg(seed=1, dpi=50, layout="3x4+3:V1,II,V5")
    b = render_ecg(seed=1, dpi=50, layout="3x4+3", rhythm_leads=("V1", "II", "V5"))
    c = render_ecg(seed=1, dpi=50, layout="3x4+3:V1,II,V5", rhythm_leads=["V1", "II", "V5"])
    assert np.array_equal(a.image, b.image) and np.array_equal(a.image, c.image)
    # the default order spelled out is the default page
    d = render_ecg(seed=1, dpi=50, layout="3x4+1:II")
    e = render_ecg(seed=1, dpi=50, rhythm_leads=("II",))
    assert np.array_equal(d.image, render_ecg(seed=1, dpi=50).image)
    assert np.array_equal(d.image, e.image)
    # layouts without strips take an empty order
    assert render_ecg(seed=1, dpi=40, layout="6x2", rhythm_leads=()).truth.rhythm_leads == ()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"layout": "3x4+2", "rhythm_leads": ("II",)}, "prints 2 rhythm strip"),
        ({"layout": "3x4+3:II,V1"}, "prints 3 rhythm strip"),
        ({"layout": "6x2", "rhythm_leads": ("II",)}, "prints 0 rhythm strip"),
        ({"layout": "3x4+1", "rhythm_leads": ("V7",)}, "unknown rhythm leads"),
        ({"layout": "6x2:II"}, "prints no rhythm strip"),
        ({"layout": "3x4+2:V1,"}, "unknown rhythm leads"),
        ({"layout": "3x4+1:II", "rhythm_leads": ("V1",)}, "different rhythm leads"),
        ({"layout": "3x4+1", "rhythm_leads": "II"}, "sequence of lead names"),
        ({"layout": "4x3:II"}, "unknown layout"),
        ({"layout": 3}, "layout must be a string"),
        ({"paper_speed": 0}, "paper_speed"),
        ({"paper_speed": float("nan")}, "paper_speed"),
        ({"gain": -10}, "gain"),
        ({"gain": 400}, "gain"),
        ({"grid_style": "dashed"}, "grid_style.*'dotted'"),
    ],
)
def test_real_case_options_bad_values_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        render_ecg(dpi=40, **kwargs)


@pytest.mark.parametrize("speed, width_mm", [(10.0, 279.4), (25.0, 279.4), (50.0, 530.0)])
def test_paper_speed_rows_pulse_and_page_width(speed, width_mm):
    dpi = 100.0
    r = render_ecg(_step_signals(), dpi=dpi, paper_speed=speed, layout="3x4+2")
    t = r.truth
    ppm = t.px_per_mm
    assert t.paper_speed == speed and t.gain == 10.0
    # letter while a row fits; else 10 mm + pulse + 10 s of paper + 10 mm
    assert r.image.shape[:2] == (850, int(round(width_mm / 25.4 * dpi)))
    for lt in t.leads:
        # traces start on a grid line after a 0.2 s pulse; a row is 10 s of paper
        assert lt.x0_px == pytest.approx((10 + 0.2 * speed + lt.t0_s * speed) * ppm)
        assert lt.x1_px - lt.x0_px == pytest.approx(lt.duration_s * speed * ppm)
    lt = t.lead("V1", rhythm=True)
    assert lt.x1_px - lt.x0_px == pytest.approx(10 * speed * ppm)
    b = lt.baseline_y_px
    # the plateau's rising edge at 4.0 s is speed * 4 mm right of the trace start
    x_edge = lt.x0_px + STEP_T0_S * speed * ppm
    assert t.lead_xy(lt)[int(STEP_T0_S * 500), 0] == pytest.approx(x_edge)
    top, bottom = _ink_rows(t.trace_mask, x_edge, b - 20 * ppm, b + 5 * ppm)
    assert top == pytest.approx(b - 10 * ppm, abs=1.5) and bottom == pytest.approx(b, abs=1.5)
    # ... and nothing is up there a millimetre before it
    assert not t.trace_mask[int(b - 8 * ppm) : int(b - 2 * ppm), int(x_edge - ppm)].any()
    # the pulse is 0.2 s wide: its falling edge at the trace start, its rising one before
    x_rise = lt.x0_px - 0.2 * speed * ppm
    for x in (x_rise, lt.x0_px):
        top, bottom = _ink_rows(t.trace_mask, x, b - 20 * ppm, b + 5 * ppm)
        assert top == pytest.approx(b - 10 * ppm, abs=1.5)
    if speed >= 25:
        assert not t.trace_mask[int(b - 5 * ppm), : int(x_rise - 3)].any()
    # the row's ink spans 10 s of paper
    cols = np.flatnonzero(t.trace_mask[int(b - 3) : int(b + 4)].any(axis=0))
    assert cols.max() == pytest.approx(lt.x1_px - speed * ppm / 500, abs=2)
    _assert_truth_on_ink(t)


def test_footer_prints_the_speed_and_gain_used():
    def footer_ink(r):
        t = r.truth
        h = r.image.shape[0]
        ppm = t.px_per_mm
        box = t.text_mask[int(h - 9 * ppm) : int(h - 4 * ppm), int(49 * ppm) : int(125 * ppm)]
        return box

    std = footer_ink(render_ecg(seed=1, dpi=100))
    fast = footer_ink(render_ecg(seed=1, dpi=100, paper_speed=50, gain=20))
    slow = footer_ink(render_ecg(seed=1, dpi=100, paper_speed=50, gain=20, footer_text=False))
    assert std.sum() > 100 and fast.sum() > 100 and not slow.any()
    assert not np.array_equal(std, fast)
    # the same text as the standard page once the digits match
    same = footer_ink(render_ecg(seed=1, dpi=100, paper_speed=25.0, gain=10.0))
    assert np.array_equal(std, same)


@pytest.mark.parametrize("gain", [5.0, 10.0, 20.0])
def test_gain_pulse_height_rows_and_page_height(gain):
    dpi = 100.0
    r = render_ecg(_step_signals(), dpi=dpi, gain=gain, layout="3x4+3")
    t = r.truth
    ppm = t.px_per_mm
    assert t.gain == gain
    baselines = sorted({lt.baseline_y_px / ppm for lt in t.leads})
    steps = np.diff(baselines)
    # rows spread with the gain above 10 mm/mV, as printed below
    assert steps == pytest.approx(27.0 * max(1.0, gain / 10.0))
    h = r.image.shape[0]
    if gain <= 10:
        assert h == 850 and baselines == pytest.approx([60, 87, 114, 141, 168, 195])
    else:
        assert h > 850 and baselines[-1] * ppm < h - 20 * ppm
        assert baselines[0] >= 1.5 * gain  # room for a 1.5 mV R wave above the top row
    for lt in t.leads:
        if lt.col:
            continue
        b = lt.baseline_y_px
        # the pulse is 1 mV = gain mm tall
        top, bottom = _ink_rows(t.trace_mask, lt.x0_px - 2.5 * ppm, b - 30 * ppm, b + 3 * ppm)
        assert b - top == pytest.approx(gain * ppm, abs=1.5)
        # so is the plateau, at 4.0-4.4 s of a rhythm strip
        if lt.is_rhythm:
            x = lt.x0_px + 4.2 * 25 * ppm
            top, _ = _ink_rows(t.trace_mask, x, b - 30 * ppm, b + 3 * ppm)
            assert b - top == pytest.approx(gain * ppm, abs=1.5)
            y = t.lead_xy(lt)[2100, 1]
            assert y == pytest.approx(b - gain * ppm)
    _assert_truth_on_ink(t)


def test_fast_high_gain_page_keeps_its_truth_through_distort():
    r = render_ecg(seed=6, dpi=80, layout="6x2+1", paper_speed=50, gain=20)
    assert r.image.shape[1] == int(round(530 / 25.4 * 80))
    d = distort(r, rotate_deg=2.0, perspective=0.01, noise_std=2.0, seed=3)
    assert (d.truth.paper_speed, d.truth.gain, d.truth.layout_spec) == (50.0, 20.0, "6x2+1:II")
    _assert_truth_on_ink(d.truth, every=40, min_hits=0.95)


def _grid_probe(style, color="gray", dpi=200.0):
    """(render, ink of the page's empty top band) with the grid alone: no text or trace."""
    r = render_ecg(
        seed=1,
        dpi=dpi,
        grid_style=style,
        grid_color=color,
        footer_text=False,
        labels=False,
        frame=False,
    )
    band = slice(int(10 * r.truth.px_per_mm), int(50 * r.truth.px_per_mm))
    return r, r.truth.grid_mask[band], band


def _line_px(mm_from_edge, ppm):
    """Pixel a snapped grid line at ``mm_from_edge`` lands on (see _line_coverage)."""
    return int(np.round(mm_from_edge * ppm + 0.5))


def test_grid_styles_draw_dots_majors_or_nothing():
    ppm = 200 / 25.4
    lines, m_lines, band = _grid_probe("lines")
    dotted, m_dot, _ = _grid_probe("dotted")
    major, m_major, _ = _grid_probe("major_only")
    none, m_none, _ = _grid_probe("none")
    assert [r.truth.grid_style for r in (lines, dotted, major, none)] == [
        "lines",
        "dotted",
        "major_only",
        "none",
    ]
    # ink: lines > dotted > major only > none
    assert m_lines.mean() > m_dot.mean() > m_major.mean() > 0 and not m_none.any()
    x_minor = _line_px(12.0, ppm)  # a 1 mm line, not a 5 mm one
    x_major = _line_px(15.0, ppm)
    x_mid = int(round(12.5 * ppm))  # between two vertical lines
    # major lines: solid in lines, dotted and major_only
    for m in (m_lines, m_dot, m_major):
        assert m[:, x_major].mean() > 0.95
    # minor lines: solid in lines; only dots at the 1 mm crossings when dotted
    assert m_lines[:, x_minor].mean() > 0.95
    col = m_dot[:, x_minor]
    assert 0.1 < col.mean() < 0.45  # a dot (1-2 px) every 7.9 px, plus the major lines
    # major_only: a 1 mm line's column crosses the 5 mm rows alone, as paper does
    assert np.array_equal(m_major[:, x_minor], m_major[:, x_mid])
    assert m_major[:, x_minor].mean() < 0.3
    # a horizontal minor line's row: dots at the crossings, paper between them
    ph_mm = 215.9
    y_minor = _line_px(ph_mm - 202.0, ppm) - band.start  # 13.9 mm from the top: a 1 mm line
    assert 0 <= y_minor < m_dot.shape[0]
    assert m_dot[y_minor, x_minor] and not m_dot[y_minor, x_mid]
    assert m_lines[y_minor, x_mid]
    # the picture agrees: dots as dark as the major lines, paper between
    img = dotted.image[band].astype(int).sum(axis=2)
    assert img[y_minor, x_minor] < img[y_minor, x_mid] - 150
    paper = np.asarray(none.truth.paper_rgb)
    assert np.all(none.image[band][:, :, :] == paper)


def test_mono_grid_is_dark_like_the_trace_and_binarize_makes_it_black_and_white():
    r = render_ecg(seed=3, dpi=200, grid_color="mono", trace_color=(200, 0, 0))
    t = r.truth
    assert t.trace_rgb == (0, 0, 0) and t.grid_rgb == (0, 0, 0) and t.paper_rgb == (255, 255, 255)
    img = r.image.astype(int)
    assert np.array_equal(img[:, :, 0], img[:, :, 2])  # neutral
    gray = img[:, :, 0]
    ppm = t.px_per_mm
    # thin and thick lines are both dark; they differ by width (0.1 vs 0.2 mm)
    x_major, x_minor = _line_px(15.0, ppm), _line_px(12.0, ppm)
    rows = slice(int(12 * ppm), int(40 * ppm))
    assert gray[rows, x_major].mean() < 30 and gray[rows, x_minor].mean() < 100
    dark_minor = (gray[rows, x_minor - 3 : x_minor + 4] < 128).sum(axis=1)
    dark_major = (gray[rows, x_major - 3 : x_major + 4] < 128).sum(axis=1)
    assert np.median(dark_minor) < np.median(dark_major)
    assert np.median(gray[rows, int(12.5 * ppm)]) == 255  # white paper between lines
    assert gray[t.trace_mask].mean() < 40

    b = render_ecg(seed=3, dpi=200, grid_color="mono", binarize=True)
    tb = b.truth
    assert tb.binarized and set(np.unique(b.image)) <= {0, 255}
    assert np.array_equal(b.image[:, :, 0], b.image[:, :, 1])
    assert (b.image[tb.trace_mask] == 0).all() and (b.image[tb.grid_mask] == 0).all()
    assert (b.image[tb.text_mask] == 0).all()
    assert tb.paper_rgb == (255, 255, 255) and tb.trace_rgb == (0, 0, 0)
    _assert_truth_on_ink(tb)
    # a red page through a black-and-white scanner: the grid comes out black too
    red = render_ecg(seed=3, dpi=100, binarize=True)
    assert red.truth.grid_rgb == (0, 0, 0) and red.truth.paper_rgb == (255, 255, 255)
    assert set(np.unique(red.image)) <= {0, 255}


GE_HEADER = (
    "DOE, JOHN   ID: 1234567   55 yrs   Male\n"
    "Vent. rate 72 BPM\n"
    "PR interval 160 ms\n"
    "QRS duration 88 ms\n"
    "QT/QTc 380/410 ms\n"
    "P-R-T axes 60 45 50"
)
INTERPRETATION = "Sinus rhythm\nNormal ECG\nUnconfirmed report"


@pytest.mark.parametrize("layout", ["3x4+1", "12x1"])
def test_header_and_interpretation_blocks(layout):
    plain = render_ecg(seed=4, dpi=100, layout=layout)
    r = render_ecg(
        seed=4,
        dpi=100,
        layout=layout,
        header_text=GE_HEADER,
        footer_text=INTERPRETATION,
        trace_color=(0, 0, 90),
    )
    t = r.truth
    ppm = t.px_per_mm
    h = r.image.shape[0]
    # six header lines 5 mm apart from 4.5 mm: ink in each line's band
    for i in range(6):
        foot = (4.5 + 5 * i) * ppm
        assert t.text_mask[int(foot - 3 * ppm) : int(foot) + 1, : int(100 * ppm)].sum() > 20
    # three interpretation lines above the speed/gain line, the page made taller for them
    for i in range(3):
        foot = h - (5.3 + 5 * (3 - i)) * ppm
        assert t.text_mask[int(foot - 3 * ppm) : int(foot) + 1, : int(60 * ppm)].sum() > 20
    assert h > plain.image.shape[0]
    # ink in the trace colour
    text = r.image[t.text_mask & (cv2.cvtColor(r.image, cv2.COLOR_RGB2GRAY) < 40)]
    assert len(text) > 100 and np.abs(text.mean(axis=0) - (0, 0, 90)).max() < 25
    # no text on a wave: the rows moved down (12x1) only as much as the header needs
    first = min(lt.baseline_y_px for lt in t.leads) / ppm
    assert first >= 4.5 + 5 * 5 + 2 + 15 - 1e-9
    last_text_foot = h / ppm - (5.3 + 5 * 3)
    assert max(lt.baseline_y_px for lt in t.leads) / ppm + 10 < last_text_foot - 3
    assert not (t.text_mask & t.trace_mask).any()
    _assert_truth_on_ink(t)
    if layout == "3x4+1":  # plenty of room on the standard page: rows stay
        assert [lt.baseline_y_px for lt in t.leads] == [
            lt.baseline_y_px for lt in plain.truth.leads
        ]


def test_defaults_unchanged_by_the_new_options_at_their_defaults():
    a = render_ecg(seed=9, dpi=60, header_text=True)
    b = render_ecg(
        seed=9,
        dpi=60,
        header_text=True,
        footer_text=True,
        rhythm_leads=("II",),
        paper_speed=25,
        gain=10,
        grid_style="lines",
        binarize=False,
        paper_size_mm=(279.4, 215.9),
    )
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.truth.grid_mask, b.truth.grid_mask)
    assert (a.truth.paper_speed, a.truth.gain, a.truth.grid_style) == (25.0, 10.0, "lines")


@pytest.mark.parametrize("dpi", [100.0, 200.0])
def test_one_pixel_trace_renders_with_its_truth(dpi):
    r = render_ecg(seed=5, dpi=dpi, line_width_mm=25.4 / dpi, grid_color="gray")
    t = r.truth
    _assert_truth_on_ink(t, every=10, min_hits=0.98)
    gray = cv2.cvtColor(r.image, cv2.COLOR_RGB2GRAY).astype(float)
    lt = t.lead("II", rhythm=True)
    v = t.signals["II"]
    ppm = t.px_per_mm
    widths, errors = [], []
    for col in range(int(lt.x0_px) + 5, int(lt.x1_px) - 5, 5):
        k = (col - lt.x0_px) / (25 * ppm) * t.fs
        k0 = int(np.floor(k))
        if np.ptp(v[max(k0 - 4, 0) : k0 + 5]) > 0.02:  # flat parts only
            continue
        y = lt.baseline_y_px - np.interp(k, np.arange(v.size), v) * 10 * ppm
        rows = np.arange(int(y) - 3, int(y) + 5)
        widths.append(t.trace_mask[rows, col].sum())
        ink = np.where(t.trace_mask[rows, col] | (gray[rows, col] < 60), 255.0 - gray[rows, col], 0)
        if ink.sum():
            errors.append(np.sum(ink * rows) / ink.sum() - y)
    assert len(widths) > 30
    assert np.median(widths) == 1  # one pixel thick where flat
    assert np.median(np.abs(errors)) < 0.35


# --------------------------------------------------------------------------- distort


def test_distort_rotation_keeps_truth(render100):
    d = distort(render100, rotate_deg=5.0, seed=1)
    t = d.truth
    assert d.image.shape == render100.image.shape
    assert t.angle_deg == pytest.approx(5.0)
    for lt in t.leads:
        xy = t.lead_xy(lt)
        hits = [_near(t.trace_mask, x, y, 1) for x, y in xy[::37]]
        assert np.mean(hits) > 0.95
    # Counter-clockwise on screen: a baseline rises to the right.
    xy = t.lead_xy(t.lead("II", rhythm=True), distorted=False)
    a = d.truth.homography @ np.array([xy[0, 0], xy[0, 1], 1.0])
    b = d.truth.homography @ np.array([xy[-1, 0], xy[0, 1], 1.0])
    assert b[1] < a[1]
    # Corners uncovered by the rotated page are black, as in ecg-image-kit.
    assert d.image[0, 0].max() < 10


def _page_mask_from_quad(quad, shape):
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(quad * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return m.astype(bool)


def test_distort_on_a_scanners_lid_is_as_light_as_the_paper(render100):
    d = distort(render100, rotate_deg=8.0, background="lid", background_margin=0.12, seed=4)
    page = _page_mask_from_quad(d.truth.paper_quad, d.image.shape[:2])
    gray = cv2.cvtColor(d.image, cv2.COLOR_RGB2GRAY).astype(float)
    lid = gray[~cv2.dilate(page.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)]
    assert lid.size and 240 <= lid.mean() <= 252 and lid.std() < 3.0  # the paper's tone
    assert page[d.truth.trace_mask].mean() > 0.999  # the masks moved with the page


@pytest.mark.parametrize(
    "background", [b for b in synth.BACKGROUNDS if b not in ("lid", "clutter")]
)
def test_distort_background_paper_quad_matches_page(render100, background):
    d = distort(
        render100,
        rotate_deg=-3.0,
        perspective=0.03,
        background=background,
        background_margin=0.12,
        seed=4,
    )
    h, w = render100.image.shape[:2]
    assert d.image.shape == (round(h * 1.24), round(w * 1.24), 3)
    gray = cv2.cvtColor(d.image, cv2.COLOR_RGB2GRAY)
    found = gray > 170  # paper is light, backgrounds are dark
    n, lab, stats, _ = cv2.connectedComponentsWithStats(found.astype(np.uint8), connectivity=8)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    found = cv2.morphologyEx(
        (lab == biggest).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)
    )
    found = found.astype(bool)
    expected = _page_mask_from_quad(d.truth.paper_quad, gray.shape)
    iou = (found & expected).sum() / (found | expected).sum()
    assert iou > 0.98
    # Masks moved with the page: trace pixels stay on the paper and are dark.
    assert expected[d.truth.trace_mask].mean() > 0.999
    assert gray[d.truth.trace_mask].mean() < 110


def test_distort_truth_consistent_under_perspective_and_shading(render100):
    d = distort(render100, perspective=0.05, background="dark", shading=0.8, seed=9)
    t = d.truth
    for lt in t.leads[::3]:
        xy = t.lead_xy(lt)
        hits = [_near(t.trace_mask, x, y, 1) for x, y in xy[::41]]
        assert np.mean(hits) > 0.95
    # paper_quad is the homography applied to the undistorted corners
    h, w = render100.image.shape[:2]
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], float)
    p = np.c_[corners, np.ones(4)] @ t.homography.T
    np.testing.assert_allclose(p[:, :2] / p[:, 2:], t.paper_quad, atol=1e-6)


def test_distort_composes_homographies(render100):
    d1 = distort(render100, rotate_deg=2.0, seed=1)
    d2 = distort(d1, rotate_deg=-2.0, blur_sigma=1.0, seed=2)
    assert d2.truth.angle_deg == pytest.approx(0.0)
    np.testing.assert_allclose(d2.truth.homography, np.eye(3), atol=1e-9)


def test_distort_pixel_effects(render100):
    img = render100.image.astype(float)
    blurred = distort(render100, blur_sigma=2.0).image.astype(float)
    assert np.abs(np.diff(blurred, axis=1)).mean() < 0.7 * np.abs(np.diff(img, axis=1)).mean()
    noisy = distort(render100, noise_std=10.0, seed=1).image.astype(float)
    resid = noisy - img
    assert 7.0 < resid[100:200, 100:200].std() < 12.0
    cast = distort(render100, color_cast=(1.0, 1.0, 0.5))
    ratio = cast.image[..., 2].mean() / render100.image[..., 2].mean()
    assert ratio == pytest.approx(0.5, abs=0.03)
    assert cast.truth.paper_rgb[2] == pytest.approx(render100.truth.paper_rgb[2] * 0.5, abs=1)
    jpg = distort(render100, jpeg_quality=30)
    assert jpg.image.dtype == np.uint8 and jpg.image.shape == img.shape
    assert 0 < np.abs(jpg.image.astype(float) - img).mean() < 15


def test_distort_deterministic(render100):
    kw = {
        "rotate_deg": 2.0,
        "perspective": 0.02,
        "background": "wood",
        "noise_std": 5.0,
        "shading": 0.5,
    }
    a = distort(render100, seed=3, **kw)
    b = distort(render100, seed=3, **kw)
    c = distort(render100, seed=4, **kw)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.truth.homography, b.truth.homography)
    assert not np.array_equal(a.image, c.image)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"background": "beach"},
        {"rotate_deg": 90},
        {"blur_sigma": -1},
        {"jpeg_quality": 0},
        {"color_cast": (1, 1)},
        {"perspective": 0.9},
        {"shading": 2},
        {"rotate_deg": "3"},
        {"noise_std": True},
        {"blur_sigma": float("nan")},
    ],
)
def test_distort_bad_arguments(render100, kwargs):
    with pytest.raises(ValueError):
        distort(render100, **kwargs)


def test_distort_requires_render():
    with pytest.raises(ValueError):
        distort(np.zeros((10, 10, 3), np.uint8))


# --------------------------------------------------------------------------- data sets


@pytest.mark.slow
def test_write_dataset_format(tmp_path):
    m = write_dataset(tmp_path, n=3, seed=2, kinds=("lowres", "photo"))
    assert list(m.columns) == [
        "id",
        "fs",
        "sig_len",
        "width_px",
        "height_px",
        "dpi",
        "difficulty",
        "options",
        "image_file",
    ]
    assert list(m.difficulty) == ["lowres", "photo", "lowres"]
    assert all(len(i) == 5 and i.isdigit() for i in m.id) and m.id.is_unique
    assert m.image_file.iloc[1].endswith(".jpg") and m.image_file.iloc[0].endswith(".png")
    ids = list(m.id)
    for _, row in m.iterrows():
        img = cv2.imread(str(tmp_path / row.image_file))
        assert img.shape[:2] == (row.height_px, row.width_px)
    # truth CSV
    truth = pd.read_csv(tmp_path / "truth" / f"{ids[0]}.csv")
    assert list(truth.columns) == list(LEAD_NAMES)
    assert len(truth) == 5000
    np.testing.assert_allclose(truth["III"], truth["II"] - truth["I"], atol=0.0015)
    np.testing.assert_allclose(truth["aVR"], -(truth["I"] + truth["II"]) / 2, atol=0.0015)
    # test.csv
    test = pd.read_csv(tmp_path / "test.csv", dtype={"id": str})
    assert list(test.columns) == ["id", "lead", "fs", "number_of_rows"]
    assert len(test) == 36
    assert list(test.lead[:12]) == list(LEAD_NAMES)
    rows = dict(zip(test.lead[:12], test.number_of_rows[:12], strict=True))
    assert rows["II"] == 5000 and all(rows[k] == 1250 for k in LEAD_NAMES if k != "II")
    # solution.csv
    sol = pd.read_csv(tmp_path / "solution.csv")
    assert list(sol.columns) == ["id", "value"]
    assert len(sol) == 3 * 18750 and sol.id.is_unique
    val = dict(zip(sol.id, sol.value, strict=True))
    i0 = ids[0]
    assert val[f"{i0}_0_aVR"] == pytest.approx(truth["aVR"][1250])
    assert val[f"{i0}_1249_V6"] == pytest.approx(truth["V6"][4999])
    assert val[f"{i0}_10_V2"] == pytest.approx(truth["V2"][2510])
    assert val[f"{i0}_4321_II"] == pytest.approx(truth["II"][4321])
    assert val[f"{i0}_7_I"] == pytest.approx(truth["I"][7])
    # JSON geometry of an undistorted image matches the picture
    meta = json.loads((tmp_path / "truth" / f"{i0}.json").read_text())
    assert meta["geometry_valid"] is True and meta["resolution"] in (100.0, 130.0)
    lead = next(ld for ld in meta["leads"] if ld["lead_name"] == "V1")
    assert (lead["start_sample"], lead["end_sample"]) == (2500, 3750)
    img = cv2.imread(str(tmp_path / m.image_file.iloc[0]), cv2.IMREAD_GRAYSCALE)
    a_row, a_col = lead["pixel_affine"]["row"], lead["pixel_affine"]["col"]
    dark = 0
    for k in range(0, 1250, 50):
        v = truth["V1"][2500 + k]
        r = a_row[0] * k + a_row[1] * v + a_row[2]
        c = a_col[0] * k + a_col[1] * v + a_col[2]
        dark += (
            img[int(round(r)) - 1 : int(round(r)) + 2, int(round(c)) - 1 : int(round(c)) + 2].min()
            < 120
        )
    assert dark >= 24


def test_write_dataset_other_fs_and_determinism(tmp_path):
    m1 = write_dataset(tmp_path / "a", n=1, seed=5, fs=256, kinds=("lowres",))
    m2 = write_dataset(tmp_path / "b", n=1, seed=5, fs=256, kinds=("lowres",))
    pd.testing.assert_frame_equal(m1, m2)
    assert int(m1.sig_len[0]) == 2560 and int(m1.fs[0]) == 256
    test = pd.read_csv(tmp_path / "a" / "test.csv")
    assert set(test.number_of_rows) == {2560, 640}
    assert (tmp_path / "a" / "solution.csv").read_bytes() == (
        tmp_path / "b" / "solution.csv"
    ).read_bytes()
    with pytest.raises(ValueError, match="kind"):
        write_dataset(tmp_path / "c", n=1, kinds=("glossy",))


def test_write_dataset_realistic_kind(tmp_path):
    assert "realistic" in synth.DATASET_KINDS
    m = write_dataset(tmp_path, n=2, seed=4, fs=250, kinds=("realistic", "clean"))
    assert list(m.difficulty) == ["realistic", "clean"]
    opts = [json.loads(o) for o in m.options]
    assert opts[0]["signals"] == {"style": "realistic"} and "signals" not in opts[1]
    # the truth is what synthetic_signals(style="realistic") gives, to 1 uV
    truth = pd.read_csv(tmp_path / "truth" / f"{m.id[0]}.csv")
    want = synthetic_signals(
        fs=250, heart_rate=opts[0]["heart_rate"], seed=opts[0]["seed"], style="realistic"
    )
    textbook = synthetic_signals(fs=250, heart_rate=opts[0]["heart_rate"], seed=opts[0]["seed"])
    assert np.abs(truth["V2"].to_numpy() - want["V2"]).max() <= 0.0005 + 1e-9
    assert np.abs(truth["V2"].to_numpy() - textbook["V2"]).max() > 0.01
    meta = json.loads((tmp_path / "truth" / f"{m.id[0]}.json").read_text())
    assert meta["signals"] == {"style": "realistic"} and meta["difficulty"] == "realistic"


def test_write_dataset_bwscan_kind_is_black_and_white_with_the_grid_in_black(tmp_path):
    assert "bwscan" in synth.DATASET_KINDS
    m = write_dataset(tmp_path, n=4, seed=7, fs=250, kinds=("bwscan",))
    renders = [json.loads(o)["render"] for o in m.options]
    assert all(r["binarize"] for r in renders)
    assert {r["dpi"] for r in renders} <= {200.0, 300.0}
    for image_file, r in zip(m.image_file, renders, strict=True):
        img = cv2.imread(str(tmp_path / image_file), cv2.IMREAD_GRAYSCALE)
        assert set(np.unique(img)) <= {0, 255}
        # the grid kept black: many more black pixels than a trace alone makes
        assert (img == 0).mean() > (0.2 if r["grid_color"] == "mono" else 0.04)
        assert img.shape[1] == round(r["dpi"] * 11)  # a letter page, landscape


def test_distort_binarize_turns_the_page_black_and_white_after_the_turn():
    r = render_ecg(seed=3, dpi=100, grid_color="mono", line_width_mm=0.3)
    b = distort(r, rotate_deg=2.0, binarize=True, seed=1)
    t = b.truth
    assert t.binarized and not r.truth.binarized
    assert set(np.unique(b.image)) <= {0, 255}
    assert t.paper_rgb == (255, 255, 255) and t.trace_rgb == (0, 0, 0)
    assert (b.image[t.grid_mask] == 0).all()  # grid pixels left in the mask are black
    assert t.trace_mask.any() and (b.image[t.trace_mask] == 0).mean() > 0.9
    assert t.angle_deg == pytest.approx(2.0)


def test_write_dataset_bwscan_turned_kind_turns_then_binarises(tmp_path):
    m = write_dataset(tmp_path, n=3, seed=7, fs=250, kinds=("bwscan_turned",))
    for image_file, o in zip(m.image_file, m.options, strict=True):
        o = json.loads(o)
        assert 0.2 <= abs(o["distort"]["rotate_deg"]) <= 2.5 and o["distort"]["binarize"]
        assert not o["render"]["binarize"]  # the page is binarised once, after the turn
        img = cv2.imread(str(tmp_path / image_file), cv2.IMREAD_GRAYSCALE)
        assert set(np.unique(img)) <= {0, 255}
        meta = json.loads((tmp_path / "truth" / f"{Path(image_file).stem}.json").read_text())
        assert meta["angle_deg"] == pytest.approx(o["distort"]["rotate_deg"])


PAGE_COLUMNS = ["layout", "rhythm_leads", "paper_speed", "gain", "grid_style", "grid_color"]


def _affine_hits(folder, image_file, meta, truth, lead_name, rhythm, step=50):
    """Fraction of a panel's samples (every ``step``) on dark pixels, by its pixel_affine."""
    img = cv2.imread(str(folder / image_file), cv2.IMREAD_GRAYSCALE)
    lead = next(
        ld
        for ld in meta["leads"]
        if ld["lead_name"] == lead_name and ld["is_rhythm_strip"] == rhythm
    )
    a_row, a_col = lead["pixel_affine"]["row"], lead["pixel_affine"]["col"]
    hits = []
    for k in range(0, lead["end_sample"] - lead["start_sample"], step):
        v = truth[lead_name][lead["start_sample"] + k]
        r = int(round(a_row[0] * k + a_row[1] * v + a_row[2]))
        c = int(round(a_col[0] * k + a_col[1] * v + a_col[2]))
        hits.append(img[r - 1 : r + 2, c - 1 : c + 2].min() < 120)
    return np.mean(hits)


def test_write_dataset_real_cases_records_the_page(tmp_path):
    assert "real_cases" in synth.DATASET_KINDS
    m = write_dataset(tmp_path, n=3, seed=3, fs=250, kinds=("real_cases", "clean"))
    assert list(m.columns)[9:] == [*PAGE_COLUMNS, "binarize"]
    assert list(m.layout) == ["3x4+2", "3x4+1", "3x4+3"]  # case 0, a clean page, case 1
    assert list(m.rhythm_leads) == ["V1,II", "II", "II,V1,V5"]
    assert list(m.grid_style) == ["lines", "lines", "dotted"]
    assert list(m.grid_color) == ["red", "red", "gray"]
    assert list(m.paper_speed) == [25.0] * 3 and list(m.gain) == [10.0] * 3
    opts = json.loads(m.options[0])
    assert opts["kind"] == "real_cases" and opts["render"]["layout"] == "3x4+2"
    assert opts["render"]["header_text"].count("\n") == 5 and opts["render"]["footer_text"]
    meta = json.loads((tmp_path / "truth" / f"{m.id[0]}.json").read_text())
    assert meta["layout_spec"] == "3x4+2:V1,II" and meta["rhythm_leads"] == ["V1", "II"]
    assert (meta["paper_speed"], meta["gain"], meta["grid_style"]) == (25.0, 10.0, "lines")
    truth = pd.read_csv(tmp_path / "truth" / f"{m.id[0]}.csv")
    for name, rhythm in (("V1", True), ("II", True), ("aVF", False)):
        assert _affine_hits(tmp_path, m.image_file[0], meta, truth, name, rhythm) > 0.95
    # a set without real_cases keeps its format
    plain = write_dataset(tmp_path / "plain", n=1, seed=3, kinds=("clean",))
    assert "layout" not in plain.columns
    meta = json.loads((tmp_path / "plain" / "truth" / f"{plain.id[0]}.json").read_text())
    assert "paper_speed" not in meta


@pytest.mark.slow
def test_write_dataset_real_cases_cycle_through_every_case(tmp_path):
    from ecgprep.synth.dataset import _REAL_CASES

    n = len(_REAL_CASES)
    m = write_dataset(tmp_path, n=n, seed=1, fs=250, kinds=("real_cases",))
    got = m[[*PAGE_COLUMNS, "binarize"]].to_dict("records")
    layouts = [case["layout"].split(":")[0] for case in _REAL_CASES]
    assert [g["layout"] for g in got] == layouts
    assert {g["paper_speed"] for g in got} == {25.0, 50.0}
    assert {g["gain"] for g in got} == {5.0, 10.0, 20.0}
    assert {g["grid_style"] for g in got} == {"lines", "dotted", "major_only", "dotted_lines"}
    assert {g["rhythm_leads"] for g in got} >= {"V1,II", "II,V1", "II,V1,V5", "V1,II,V5", "II"}
    assert any(g["binarize"] for g in got) and "mono" in {g["grid_color"] for g in got}
    for i, row in m.iterrows():
        case = _REAL_CASES[i]
        assert row.paper_speed == case.get("paper_speed", 25.0)
        assert row.gain == case.get("gain", 10.0)
        assert row.grid_style == case.get("grid_style", "lines")
        if row.paper_speed == 50.0:
            assert row.width_px == int(round(530 / 25.4 * 200))
        if row.gain == 20.0:
            assert row.height_px > 1700
        meta = json.loads((tmp_path / "truth" / f"{row.id}.json").read_text())
        truth = pd.read_csv(tmp_path / "truth" / f"{row.id}.csv")
        assert _affine_hits(tmp_path, row.image_file, meta, truth, "II", True) > 0.95, case
        assert _affine_hits(tmp_path, row.image_file, meta, truth, "V2", False) > 0.95, case


def test_labels_above_the_trace_stand_11_mm_over_the_baseline():
    ppm = 100 / 25.4
    below = render_ecg(labels="below", dpi=100, seed=1, footer_text=False, separators=False)
    above = render_ecg(labels="above", dpi=100, seed=1, footer_text=False, separators=False)
    plain = render_ecg(labels=False, dpi=100, seed=1, footer_text=False, separators=False)
    assert np.array_equal(
        below.image, render_ecg(dpi=100, seed=1, footer_text=False, separators=False).image
    )
    lead = above.truth.leads[4]  # aVR: a label away from the pulse
    x0, y0 = int(lead.x0_px), lead.baseline_y_px
    for r, lo, hi in ((above, -14.5, -10.5), (below, 4.0, 8.0)):
        diff = np.abs(r.image.astype(int) - plain.image.astype(int)).sum(axis=2) > 60
        top = int(y0 - 15 * ppm)  # the band between this row and its neighbours
        band = diff[top : int(y0 + 9 * ppm), x0 : x0 + int(8 * ppm)]
        rows = np.flatnonzero(band.any(axis=1)) + top
        assert rows.size
        assert lo * ppm <= rows.min() - y0 and rows.max() - y0 <= hi * ppm


def test_label_box_hides_the_trace_beneath_each_label_only():
    fs = 500.0
    sig = {k: np.asarray(v, dtype=np.float64).copy() for k, v in synthetic_signals(seed=2).items()}
    t = np.arange(sig["II"].size) / fs
    sig["V2"] += 2.4 * np.exp(-0.5 * ((t - 5.12) / 0.012) ** 2)  # an R through V2's label
    kw = dict(fs=fs, labels="above", dpi=100, seed=2)
    boxed, open_ = render_ecg(sig, label_box=True, **kw), render_ecg(sig, **kw)
    ppm = boxed.truth.px_per_mm
    hidden = open_.truth.trace_mask & ~boxed.truth.trace_mask
    assert not (boxed.truth.trace_mask & ~open_.truth.trace_mask).any()
    ys, xs = np.nonzero(hidden)

    def under_label(lt):  # a label's box: 11-14 mm above the baseline, 0-5 mm after the start
        up = (lt.baseline_y_px - ys) / ppm
        right = (xs - lt.x0_px) / ppm
        return (up > 10.0) & (up < 15.0) & (right > -1.0) & (right < 8.0)

    # the R wave's strokes are cut under V2's label; whatever else is hidden
    # (a pulse's top under a row's first label) lies under some label too
    assert under_label(boxed.truth.lead("V2")).sum() > 10
    assert np.logical_or.reduce([under_label(lt) for lt in boxed.truth.leads]).all()
    # the signals' truth is the same
    assert np.array_equal(boxed.truth.signals["V2"], open_.truth.signals["V2"])


def test_dotted_lines_print_5_mm_lines_as_dots_half_a_mm_apart():
    ppm = 200 / 25.4
    r, m, _ = _grid_probe("dotted_lines")
    assert r.truth.grid_style == "dotted_lines"
    x_major, x_minor = _line_px(15.0, ppm), _line_px(12.0, ppm)
    col = m[:, x_major]
    # a dot (1-2 px) every 0.5 mm (3.9 px) down a 5 mm line, not a solid line
    assert 0.25 < col.mean() < 0.6
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate(([0], col.astype(int), [0])))))[::2]
    assert runs.max() <= 2
    # a 1 mm line: a dot at each crossing only, as with "dotted"
    assert 0.1 < m[:, x_minor].mean() < 0.45


def test_baselines_on_lines_put_each_row_on_a_5_mm_line():
    r = render_ecg(seed=2, dpi=100, baselines_on_lines=True)
    plain = render_ecg(seed=2, dpi=100)
    ppm = r.truth.px_per_mm
    ph_mm = r.image.shape[0] / ppm
    for lt, lp in zip(r.truth.leads, plain.truth.leads, strict=True):
        from_bottom = ph_mm - lt.baseline_y_px / ppm
        assert from_bottom / 5.0 == pytest.approx(round(from_bottom / 5.0), abs=0.02)
        assert abs(lt.baseline_y_px - lp.baseline_y_px) <= 2.5 * ppm + 1e-6


def test_bend_keeps_truth(render100):
    b = bend(render100, amount_mm=4.0, seed=3)
    t = b.truth
    assert b.image.shape == render100.image.shape
    assert len(t.bend) == 7 and np.allclose(t.homography, np.eye(3))
    moved = []
    for lt in t.leads:
        xy = t.lead_xy(lt)
        hits = [_near(t.trace_mask, x, y, 1) for x, y in xy[::37]]
        assert np.mean(hits) > 0.95, lt.name
        moved.append(np.abs(xy - t.lead_xy(lt, distorted=False)).max())
    # the bend moves the traces by millimetres (the test has teeth)
    assert max(moved) > 2.0 * t.px_per_mm
    # the trace mask is where the bent image's trace ink is (resampled, a little paler)
    dark = b.image.min(axis=2) < 160
    assert dark[t.trace_mask].mean() > 0.95


def test_bend_then_distort_composes(render100):
    d = distort(bend(render100, amount_mm=3.0, seed=1), rotate_deg=3.0, perspective=0.02, seed=2)
    t = d.truth
    for lt in t.leads[::3]:
        hits = [_near(t.trace_mask, x, y, 1) for x, y in t.lead_xy(lt)[::37]]
        assert np.mean(hits) > 0.95, lt.name


def test_bend_bad_arguments(render100):
    with pytest.raises(ValueError, match="clean render"):
        bend(distort(render100, rotate_deg=2.0, seed=1))
    with pytest.raises(ValueError, match="clean render"):
        bend(bend(render100, amount_mm=1.0))
    with pytest.raises(ValueError, match="amount_mm"):
        bend(render100, amount_mm=30.0)
    with pytest.raises(ValueError, match="synth.Render"):
        bend(render100.image)


@pytest.mark.slow
def test_write_dataset_curled_keeps_its_bend(tmp_path):
    import json

    write_dataset(tmp_path, n=1, seed=4, kinds=("curled",))
    (meta_file,) = (tmp_path / "truth").glob("*.json")
    meta = json.loads(meta_file.read_text())
    assert meta["difficulty"] == "curled"
    assert len(meta["bend"]) == 7 and 1.5 <= meta["distort"]["bend_mm"] <= 4.0
    # the pixel map of a bent page is not affine
    assert meta["geometry_valid"] is False


def test_column_blocks_print_each_column_behind_its_own_pulse():
    plain = render_ecg(seed=1, layout="6x2", dpi=100)
    r = render_ecg(seed=1, layout="6x2", dpi=100, column_blocks=True, block_shift_mm=3.0)
    ppm = r.truth.px_per_mm
    one, v1 = r.truth.lead("I"), r.truth.lead("V1")
    # the right block: 5 mm of paper and a 5 mm pulse after the left one ends,
    # its baseline 3 mm higher; the left block as on a plain 6x2 page
    assert v1.x0_px - one.x1_px == pytest.approx(10.0 * ppm)
    assert one.baseline_y_px - v1.baseline_y_px == pytest.approx(3.0 * ppm)
    assert one.x0_px == plain.truth.lead("I").x0_px and one.t0_s == 0.0 and v1.t0_s == 5.0
    assert r.image.shape[1] > plain.image.shape[1]  # widened to fit the gap and pulse
    mask = r.truth.trace_mask
    # the right block's pulse: 1 mV tall, rising 0.2 s before V1's trace starts
    x_rise = int(round(v1.x0_px - 5.0 * ppm))
    top, base = int(round(v1.baseline_y_px - 10.0 * ppm)), int(round(v1.baseline_y_px))
    assert mask[top + 2 : base - 2, x_rise - 1 : x_rise + 2].any(axis=1).all()
    # the gap before it is blank paper, and no separator bar stands there
    gap = slice(int(one.x1_px + 2), int(one.x1_px + 4.5 * ppm))
    assert not mask[:, gap].any() and not r.truth.text_mask[2:-2, gap].any()  # frame aside
    with pytest.raises(ValueError, match="block_shift_mm"):
        render_ecg(layout="6x2", dpi=50, column_blocks=True, block_shift_mm=12.0)


def test_distort_on_a_cluttered_desk_is_light_with_a_ruled_sheet_above_the_page(render100):
    d = distort(render100, background="clutter", background_margin=0.6, seed=2)
    page = _page_mask_from_quad(d.truth.paper_quad, d.image.shape[:2])
    gray = cv2.cvtColor(d.image, cv2.COLOR_RGB2GRAY).astype(float)
    desk = gray[~cv2.dilate(page.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)]
    assert 180 <= np.median(desk) <= 230  # nothing as dark as a background
    top = gray[: int(0.2 * gray.shape[0])]
    rows = np.flatnonzero((top < 175).mean(axis=1) > 0.4)  # grey ruled lines across the sheet
    assert rows.size >= 4 and rows.max() < d.truth.paper_quad[:, 1].min()
    assert page[d.truth.trace_mask].mean() > 0.999
