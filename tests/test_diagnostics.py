"""Error diagnostics (lag, scale, panel edges) on signals whose errors are known."""

import numpy as np
import pandas as pd
import pytest

from ecgprep.diagnostics import diagnose_frames, lead_errors, pooled_scores, shift_signal
from ecgprep.metrics import score_frames
from ecgprep.synth import synthetic_signals


def _ecg(fs, seconds=2.5, seed=0):
    sig = synthetic_signals(fs=fs, seed=seed)
    return np.asarray(sig["II"][: int(round(seconds * fs))], dtype=np.float64)


@pytest.mark.parametrize("fs", [250, 500, 512, 1000, 1025])
@pytest.mark.parametrize("lag_ms", [-4.3, 0.0, 1.7, 5.5])
def test_lag_and_scale_found_on_an_ecg(fs, lag_ms):
    x = _ecg(fs)
    y = shift_signal(x, lag_ms / 1000 * fs) / 1.04 + 0.2
    e = lead_errors(x, y, fs)
    assert e.lag_ms == pytest.approx(lag_ms, abs=0.05)
    assert e.scale == pytest.approx(1.04, abs=0.002)
    # With both removed nothing is left but the ends that the shift moved.
    assert e.noise_lag_scale < 0.01 * e.noise or e.noise < 1e-9
    assert e.noise_lag_scale <= e.noise_lag + 1e-12


def test_whole_sample_lag_costs_nothing_a_fraction_does():
    fs = 500
    x = _ecg(fs)
    whole = lead_errors(x, shift_signal(x, 2.0), fs)
    half = lead_errors(x, shift_signal(x, 2.5), fs)
    # (the metric counts the samples shifted past the end as noise, either way)
    assert whole.rmse_mid_mv < 1e-6 < 0.005 < half.rmse_mid_mv
    assert half.noise_lag < 0.01 * half.noise


def test_edge_errors_located():
    fs = 500
    x = _ecg(fs)
    y = x.copy()
    y[:25] = 0.0  # the first 50 ms lost
    e = lead_errors(x, y, fs)
    # (the metric's offset spreads a little of the loss over every sample)
    assert e.rmse_start_mv > 10 * e.rmse_mid_mv
    assert e.rmse_end_mv == pytest.approx(e.rmse_mid_mv, rel=0.05)


@pytest.mark.parametrize("dc", [0.15, -0.07, 0.0])
def test_offset_of_the_readings_zero_reported(dc):
    """A reading whose 0 mV is off scores as well as the right one: only the
    diagnostics show it."""
    fs = 500
    x = _ecg(fs)
    e, right = lead_errors(x, x + dc, fs), lead_errors(x, x, fs)
    assert e.offset_mv == pytest.approx(dc, abs=1e-9)
    assert e.noise == pytest.approx(right.noise, abs=1e-9)


def test_shift_signal_keeps_a_peak():
    fs = 500
    x = _ecg(fs)
    y = shift_signal(x, 0.5)
    assert np.max(y) == pytest.approx(np.max(x), rel=0.05)
    with pytest.raises(ValueError):
        shift_signal(np.array([1.0, np.nan]), 1.0)


def test_lead_errors_refuses_mismatch():
    with pytest.raises(ValueError, match="differ in length"):
        lead_errors(np.zeros(10), np.zeros(11), 500)
    with pytest.raises(ValueError):
        lead_errors(np.zeros(10), np.zeros(10), 0)


def _frames(fs=500, lag_ms=3.0, scale=1.2):
    rows_sol, rows_sub, rows_test = [], [], []
    for rec, seed in (("7", 1), ("8", 2)):
        sig = synthetic_signals(fs=fs, seed=seed)
        for lead, secs in (("II", 10.0), ("V1", 2.5)):
            x = np.asarray(sig[lead][: int(secs * fs)], dtype=np.float64)
            y = shift_signal(x, lag_ms / 1000 * fs) / scale
            ids = [f"{rec}_{r}_{lead}" for r in range(x.size)]
            rows_sol.append(pd.DataFrame({"id": ids, "value": x}))
            rows_sub.append(pd.DataFrame({"id": ids, "value": y}))
            rows_test.append({"id": rec, "lead": lead, "fs": fs, "number_of_rows": x.size})
    return pd.concat(rows_sol), pd.concat(rows_sub), pd.DataFrame(rows_test)


def test_diagnose_frames_and_pooled_score_match_the_metric():
    sol, sub, test = _frames()
    diag = diagnose_frames(sol, sub, test)
    assert sorted(zip(diag["id"], diag["lead"], strict=True)) == [
        ("7", "II"),
        ("7", "V1"),
        ("8", "II"),
        ("8", "V1"),
    ]
    assert diag["lag_ms"].to_numpy() == pytest.approx(3.0, abs=0.05)
    assert diag["scale"].to_numpy() == pytest.approx(1.2, abs=0.002)
    pooled = pooled_scores(diag)
    assert pooled["score_db"] == pytest.approx(score_frames(sol, sub, test).score_db, abs=1e-9)
    assert pooled["score_db_lag"] > pooled["score_db"] + 0.5  # half a sample of lag gone
    _, unshifted, _ = _frames(lag_ms=0.0)  # the same reading without its lag
    assert pooled["score_db_lag"] == pytest.approx(
        score_frames(sol, unshifted, test).score_db, abs=0.05
    )
    assert pooled["score_db_lag_scale"] == pytest.approx(25.84, abs=0.01)  # the metric's cap


def test_diagnose_frames_names_a_missing_prediction():
    sol, sub, test = _frames()
    with pytest.raises(ValueError, match="lacks solution ids"):
        diagnose_frames(sol, sub.iloc[10:], test)
