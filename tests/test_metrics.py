"""Tests of ecgprep.metrics (the competition score) on signals built in the test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecgprep.metrics import (
    SNR_CAP,
    ScoreResult,
    align_lead,
    score_frames,
    score_records,
    snr_record,
    split_ids,
)

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
START = {
    "I": 0.0,
    "II": 0.0,
    "III": 0.0,
    "aVR": 2.5,
    "aVL": 2.5,
    "aVF": 2.5,
    "V1": 5.0,
    "V2": 5.0,
    "V3": 5.0,
    "V4": 7.5,
    "V5": 7.5,
    "V6": 7.5,
}
CAP_DB = 10 * np.log10(384.0)


def ecg_like(n: int, fs: float, seed: int, *, t0: float = 0.0, wander: float = 0.05) -> np.ndarray:
    """A beat train of Gaussian P/QRS/T waves plus slow wander, sampled at t0 + k/fs."""
    rng = np.random.default_rng(seed)
    t = t0 + np.arange(n) / fs
    rr = rng.uniform(0.6, 1.1)
    phase = rng.uniform(0, rr)
    beats = np.arange(-1, 12 / rr + 2) * rr + phase
    amp = rng.uniform(0.5, 1.5)
    out = wander * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t + rng.uniform(0, 6))
    for b in beats:
        out += 0.15 * np.exp(-(((t - b + 0.18) / 0.025) ** 2))
        out += amp * np.exp(-(((t - b) / 0.012) ** 2)) - 0.2 * amp * np.exp(
            -(((t - b - 0.03) / 0.01) ** 2)
        )
        out += 0.3 * np.exp(-(((t - b - 0.3) / 0.05) ** 2))
    return out


def record(fs: float, seed: int, *, shift_s: float = 0.0) -> dict[str, np.ndarray]:
    """12 leads in the Kaggle windows (lead II 10 s, others 2.5 s) at time offset ``shift_s``."""
    out = {}
    for i, lead in enumerate(LEADS):
        n = int(round((10.0 if lead == "II" else 2.5) * fs))
        out[lead] = ecg_like(n, fs, seed * 100 + i, t0=START[lead] - shift_s)
    return out


def frames(
    truths: dict[str, dict[str, np.ndarray]],
    preds: dict[str, dict[str, np.ndarray]],
    fs: dict[str, float],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ids, tv, pv, test_rows = [], [], [], []
    for rec, leads in truths.items():
        for lead, x in leads.items():
            ids.extend(f"{rec}_{r}_{lead}" for r in range(x.size))
            tv.append(x)
            pv.append(preds[rec][lead])
            test_rows.append((rec, lead, fs[rec], x.size))
    sol = pd.DataFrame({"id": ids, "value": np.concatenate(tv)})
    sub = pd.DataFrame({"id": ids, "value": np.concatenate(pv)})
    test = pd.DataFrame(test_rows, columns=["id", "lead", "fs", "number_of_rows"])
    return sol, sub, test


def brute_align(x: np.ndarray, y: np.ndarray, max_lag: int):
    """Slow, literal version of the metric's per-lead step (the specification)."""
    n = x.size
    xc, yc = x - x.mean(), y - y.mean()
    max_lag = min(max_lag, n - 1)
    tol = 1e-9 * np.sqrt(np.sum(xc**2) * np.sum(yc**2))
    best_lag, best_c = 0, -np.inf
    for k in sorted(range(-max_lag, max_lag + 1), key=lambda k: (abs(k), k)):  # ties: first wins
        c = sum(xc[m] * yc[m - k] for m in range(max(k, 0), min(n, n + k)))
        if c > best_c + tol:
            best_lag, best_c = k, c
    aligned = np.full(n, np.nan)
    for m in range(n):
        if 0 <= m - best_lag < n:
            aligned[m] = y[m - best_lag]
    ok = np.isfinite(aligned)
    aligned[ok] -= np.mean(aligned[ok] - x[ok])
    aligned[~ok] = 0.0
    return best_lag, float(np.sum(x**2)), float(np.sum((x - aligned) ** 2))


# ------------------------------------------------------------------ the score


def test_perfect_prediction_hits_the_cap():
    truths = {"101": record(500, 1), "102": record(500, 2)}
    sol, sub, test = frames(truths, truths, {"101": 500, "102": 500})
    res = score_frames(sol, sub, test)
    assert isinstance(res, ScoreResult)
    assert res.score_db == pytest.approx(CAP_DB, abs=1e-12)
    assert res.score_db == pytest.approx(25.84, abs=0.005)
    assert res.per_record["snr"].tolist() == [SNR_CAP, SNR_CAP]
    assert snr_record(truths["101"], truths["101"], 500) == SNR_CAP


def test_zeros_score_about_zero_db():
    truths = {str(i): record(500, i) for i in range(3)}
    zeros = {
        k: {lead: np.zeros_like(v) for lead, v in leads.items()} for k, leads in truths.items()
    }
    sol, sub, test = frames(truths, zeros, dict.fromkeys(truths, 500.0))
    res = score_frames(sol, sub, test)
    # Offset removal turns zeros into each lead's mean: noise = power of the centred truth.
    expect = [
        sum(np.sum(v**2) for v in leads.values())
        / sum(np.sum((v - v.mean()) ** 2) for v in leads.values())
        for leads in truths.values()
    ]
    assert res.per_record["snr"].to_numpy() == pytest.approx(expect, rel=1e-9)
    assert res.score_db == pytest.approx(10 * np.log10(np.mean(expect)), rel=1e-9)
    assert 0.0 < res.score_db < 1.5


def test_offset_of_one_millivolt_is_forgiven():
    truth = record(500, 3)
    pred = {lead: v + 1.0 for lead, v in truth.items()}
    assert snr_record(truth, pred, 500) == SNR_CAP


@pytest.mark.parametrize("shift_s", [0.1, -0.1])
def test_shift_of_a_tenth_second_is_found_and_only_edges_cost(shift_s):
    fs = 500.0
    truth = record(fs, 4)
    late = record(fs, 4, shift_s=shift_s)  # the same waveforms, shifted in time
    res = score_records({"r": truth}, {"r": late}, fs)
    lags = res.per_lead_lag_s.iloc[0][list(LEADS)].to_numpy(dtype=float)
    assert np.allclose(lags, -shift_s)  # shifted back
    # Exactly the samples shifted out (counted as prediction 0) cost, up to the offset term.
    k = int(round(shift_s * fs))
    lost = sum(np.sum((v[-k:] if k > 0 else v[:-k]) ** 2) for v in truth.values())
    total = sum(np.sum(v**2) for v in truth.values())
    assert res.per_record["snr"].iat[0] == pytest.approx(total / lost, rel=1e-6)
    # With quiet edges, a shift costs nothing: the cap.
    quiet_t, quiet_p = {}, {}
    for lead, v in truth.items():
        taper = np.ones(v.size)
        taper[:60] = 0
        taper[-60:] = 0
        quiet_t[lead] = v * taper
        quiet_p[lead] = np.roll(v * taper, k)
    assert snr_record(quiet_t, quiet_p, fs) == SNR_CAP


def test_white_noise_costs_its_power():
    fs = 500.0
    rng = np.random.default_rng(7)
    truth = record(fs, 5)
    sigma = 0.06
    noise = {lead: rng.normal(0, sigma, v.size) for lead, v in truth.items()}
    noisy = {lead: v + noise[lead] for lead, v in truth.items()}
    n_total = sum(v.size for v in truth.values())
    signal = sum(np.sum(v**2) for v in truth.values())
    expected = signal / (n_total * sigma**2)
    assert 5 < expected < 300  # below the cap, so the test can fail
    got = snr_record(truth, noisy, fs)
    assert got == pytest.approx(expected, rel=0.03)
    realized = signal / sum(np.sum(e**2) for e in noise.values())
    assert got == pytest.approx(realized, rel=0.01)
    # and the per-lead table agrees lead by lead (with the noise actually drawn)
    res = score_records({"r": truth}, {"r": noisy}, fs)
    for lead, v in truth.items():
        lead_expected = 10 * np.log10(min(np.sum(v**2) / np.sum(noise[lead] ** 2), SNR_CAP))
        assert res.per_lead.iloc[0][lead] == pytest.approx(lead_expected, abs=0.1)


def test_mean_of_linear_snr_not_of_db():
    truth = {"a": record(500, 8), "b": record(500, 9)}
    rng = np.random.default_rng(0)
    pred = {
        "a": truth["a"],
        "b": {lead: v + rng.normal(0, 0.3, v.size) for lead, v in truth["b"].items()},
    }
    res = score_records(truth, pred, 500)
    snr = res.per_record["snr"].to_numpy()
    assert snr[0] == SNR_CAP and snr[1] < 10
    assert res.score_db == pytest.approx(10 * np.log10(snr.mean()))
    assert res.per_record["snr_db"].to_numpy() == pytest.approx(10 * np.log10(snr))


# ------------------------------------------------------------------ alignment


def test_lag_ties_go_to_smallest_abs_lag():
    n, p, a = 400, 200, 20
    bump = np.array([0.0, 1.0, -1.0, 0.0])  # zero mean: centring changes nothing
    x = np.zeros(n)
    x[p : p + 4] = bump
    y = np.zeros(n)
    y[p - a : p - a + 4] = bump  # matches x at lag +a
    y[p + 2 * a : p + 2 * a + 4] = bump  # matches x at lag -2a: same correlation
    _, lag, _ = align_lead(x, y, fs=500)
    assert lag == a
    # Equal |lag| ties go to the negative lag, as the reference's index order does.
    y2 = np.zeros(n)
    y2[p - a : p - a + 4] = bump
    y2[p + a : p + a + 4] = bump
    assert align_lead(x, y2, fs=500)[1] == -a
    # A constant prediction correlates equally with every lag: lag 0.
    assert align_lead(x, np.full(n, 0.3), fs=500)[1] == 0
    assert align_lead(x, np.zeros(n), fs=500)[1] == 0


def test_lag_window_is_int_fs_times_0_2():
    fs = 256.0  # int(51.2) = 51 samples
    x = ecg_like(640, fs, 3)
    far = np.roll(x, 60)  # true lag 60 is outside the window
    near = np.roll(x, 51)  # delayed by 51 samples: shifted back by lag -51
    assert align_lead(x, near, fs)[1] == -51
    assert align_lead(x, np.roll(x, -51), fs)[1] == 51
    assert align_lead(x, np.roll(x, 52), fs)[1] != -52
    assert abs(align_lead(x, far, fs)[1]) <= 51


@pytest.mark.parametrize(
    "fs,n,seed",
    [(500.0, 1250, 0), (250.0, 625, 1), (1025.0, 2562, 2), (100.0, 30, 3), (500.0, 60, 4)],
)
def test_matches_brute_force_definition(fs, n, seed):
    rng = np.random.default_rng(seed)
    x = ecg_like(n, fs, seed) if n > 100 else rng.normal(size=n)
    k = int(rng.integers(-int(fs * 0.2), int(fs * 0.2) + 1))
    y = np.roll(x, k) * rng.uniform(0.7, 1.2) + rng.normal(0, 0.1, n) + rng.normal()
    lag, s_ref, e_ref = brute_align(x, y, int(fs * 0.2))
    aligned, got_lag, offset = align_lead(x, y, fs)
    assert got_lag == lag
    assert np.sum((x - aligned) ** 2) == pytest.approx(e_ref, rel=1e-9)
    expected = min(s_ref / e_ref, SNR_CAP)
    assert snr_record({"V1": x}, {"V1": y}, fs) == pytest.approx(expected, rel=1e-9)


def test_align_lead_returns_shift_and_offset():
    x = ecg_like(1250, 500.0, 11)
    y = np.empty_like(x)
    y[:-30] = x[30:]  # the prediction is early by 30 samples
    y[-30:] = x[-1]
    aligned, lag, offset = align_lead(x, y + 0.4, 500.0)
    assert lag == 30
    assert offset == pytest.approx(0.4, abs=0.02)
    assert np.all(aligned[:30] == 0)
    assert np.allclose(aligned[30:], x[30:], atol=0.02)


# ------------------------------------------------------------------ frames


def test_score_frames_shuffled_extra_and_fs_sources():
    truths = {"7": record(500, 21), "12": record(250, 22)}
    rng = np.random.default_rng(1)
    preds = {
        k: {lead: v + rng.normal(0, 0.05, v.size) for lead, v in leads.items()}
        for k, leads in truths.items()
    }
    fs = {"7": 500.0, "12": 250.0}
    sol, sub, test = frames(truths, preds, fs)
    ref = score_frames(sol, sub, test)
    # Order of the submission and extra ids do not matter.
    extra = pd.DataFrame({"id": ["999_0_II"], "value": [5.0]})
    shuffled = pd.concat([sub.sample(frac=1.0, random_state=3), extra], ignore_index=True)
    assert score_frames(sol, shuffled, test).score_db == pytest.approx(ref.score_db, rel=1e-12)
    # fs inferred from lead II (rows / 10) or from an fs column gives the same.
    assert score_frames(sol, sub).score_db == pytest.approx(ref.score_db, rel=1e-12)
    sol_fs = sol.assign(fs=np.where(sol["id"].str.startswith("7_"), 500, 250))
    assert score_frames(sol_fs, sub).score_db == pytest.approx(ref.score_db, rel=1e-12)
    # Records keep first-appearance order and string ids; per-lead table has all leads.
    assert ref.per_record["id"].tolist() == ["7", "12"]
    assert list(ref.per_lead.columns) == ["id", *LEADS]
    assert ref.n_records == 2
    # Same numbers as the nested-mapping interface.
    via_records = score_records(truths, preds, fs)
    assert via_records.score_db == pytest.approx(ref.score_db, rel=1e-12)


def test_score_frames_reads_csv_paths(tmp_path):
    truths = {"00042": record(500, 30)}
    sol, sub, test = frames(truths, truths, {"00042": 500.0})
    sol.to_csv(tmp_path / "solution.csv", index=False)
    sub.to_csv(tmp_path / "submission.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    res = score_frames(
        tmp_path / "solution.csv", tmp_path / "submission.csv", tmp_path / "test.csv"
    )
    assert res.per_record["id"].tolist() == ["00042"]  # leading zeros kept
    assert res.score_db == pytest.approx(CAP_DB)


def test_score_frames_rejects_bad_submissions():
    truths = {"5": record(500, 40)}
    sol, sub, test = frames(truths, truths, {"5": 500.0})
    with pytest.raises(ValueError, match="lacks 1 of"):
        score_frames(sol, sub.iloc[1:], test)
    filled = score_frames(sol, sub.iloc[600:], test, missing="zeros")
    assert filled.score_db < CAP_DB - 3
    bad = sub.copy()
    bad.loc[3, "value"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        score_frames(sol, bad, test)
    dup = pd.concat([sub, sub.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate"):
        score_frames(sol, dup, test)
    with pytest.raises(ValueError, match="'value'"):
        score_frames(sol, sub[["id"]], test)
    with pytest.raises(ValueError, match="missing policy"):
        score_frames(sol, sub, test, missing="ignore")
    malformed = sol.copy()
    malformed.loc[0, "id"] = "5-0-I"
    with pytest.raises(ValueError, match="ids are not"):
        score_frames(malformed, malformed, test)


def test_snr_record_rejects_bad_input():
    x = {"II": np.sin(np.arange(5000) / 30)}
    with pytest.raises(ValueError, match="lacks lead"):
        snr_record(x, {}, 500)
    with pytest.raises(ValueError, match="length"):
        snr_record(x, {"II": x["II"][:-1]}, 500)
    with pytest.raises(ValueError, match="NaN"):
        snr_record(x, {"II": np.full(5000, np.nan)}, 500)
    with pytest.raises(ValueError, match="sampling rate"):
        snr_record(x, x, 0)
    with pytest.raises(ValueError, match="lacks record"):
        score_records({"a": x}, {}, 500)
    assert score_records({"a": x}, {}, 500, missing="zeros").per_record["snr"].iat[0] >= 1.0


def test_split_ids_from_the_right():
    img, row, lead = split_ids(["26746_0_I", "a_b_12_V6", "3_4999_II"])
    assert img.tolist() == ["26746", "a_b", "3"]
    assert row.tolist() == [0, 12, 4999]
    assert lead.tolist() == ["I", "V6", "II"]
    with pytest.raises(ValueError, match="integer"):
        split_ids(["1_x_I"])


@pytest.mark.slow
def test_scoring_24_shuffled_records_is_complete_and_order_free():
    # Speed belongs to the benchmark; here: every record and lead is scored, and
    # the row order of the submission does not matter.
    rng = np.random.default_rng(0)
    base = record(500, 50)
    truths = {
        str(20000 + i): {lead: v * (1 + 0.01 * i) for lead, v in base.items()} for i in range(24)
    }
    preds = {
        k: {lead: np.roll(v, 7) + rng.normal(0, 0.05, v.size) for lead, v in leads.items()}
        for k, leads in truths.items()
    }
    sol, sub, test = frames(truths, preds, dict.fromkeys(truths, 500.0))
    assert len(sol) == 24 * 18750
    in_order = score_frames(sol, sub, test)
    res = score_frames(sol, sub.sample(frac=1.0, random_state=0), test)
    assert res.per_record["id"].tolist() == list(truths)
    assert res.per_lead_lag_s.shape == (24, 1 + len(LEADS))
    assert np.allclose(res.per_lead_lag_s[list(LEADS)].to_numpy(), -7 / 500)
    assert np.isfinite(res.per_lead[list(LEADS)].to_numpy()).all()
    assert res.score_db == in_order.score_db
    assert res.per_record["snr"].tolist() == in_order.per_record["snr"].tolist()
    # noise of std 0.05 on each sample: far from both zero (0 dB) and the cap
    assert 5.0 < res.score_db < CAP_DB - 1.0, res.score_db


def test_nothing_to_score_raises():
    empty = pd.DataFrame({"id": pd.Series([], dtype=object), "value": pd.Series([], dtype=float)})
    with pytest.raises(ValueError, match="nothing to score"):
        score_frames(empty, empty, missing="zeros")
    with pytest.raises(ValueError, match="nothing to score"):
        score_records({}, {}, 500)


def test_score_leads_compares_each_lead_with_its_window():
    from ecgprep.metrics import score_leads
    from ecgprep.signals import LeadSignal

    fs = 500.0
    t = np.arange(5000) / fs
    truth = {"II": np.sin(2 * np.pi * 1.3 * t), "V1": np.cos(2 * np.pi * 0.7 * t)}
    perfect = {
        "II": LeadSignal("II", truth["II"], fs, 0.0),
        "V1": LeadSignal("V1", truth["V1"][2500:3750] + 1.0, fs, 5.0),  # offset is forgiven
    }
    assert score_leads(perfect, truth, fs) == pytest.approx(10 * np.log10(384), abs=1e-6)
    wrong_window = {"V1": LeadSignal("V1", truth["V1"][0:1250], fs, 5.0)}
    assert score_leads(wrong_window, truth, fs) < 10.0
    with pytest.raises(ValueError, match="250"):
        score_leads({"II": LeadSignal("II", truth["II"][::2], 250.0, 0.0)}, truth, fs)
