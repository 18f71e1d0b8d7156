"""Mending by Einthoven's law: limb-lead samples in doubt, outvoted by the others."""

from __future__ import annotations

import numpy as np
import pytest

from ecgprep import Options, process_image_for_submission
from ecgprep.digitize import LeadSignal, doubtful_samples, mend_by_law
from ecgprep.metrics import score_leads
from ecgprep.signals import LIMB_BASIS, einthoven_residual
from ecgprep.synth import render_ecg

FS = 500.0
N = 1000


def _limb(names=tuple(LIMB_BASIS), offsets=None):
    """Exact limb leads of two smooth signals (with optional baseline offsets)."""
    t = np.arange(N) / FS
    i, ii = np.sin(6 * t) + 0.3 * np.sin(31 * t), np.cos(5 * t)
    out = []
    for k, name in enumerate(names):
        a, b = LIMB_BASIS[name]
        v = a * i + b * ii + (0.0 if offsets is None else offsets[k])
        out.append(LeadSignal(name, v, FS, 0.0))
    return out


def _with(sig: LeadSignal, values) -> LeadSignal:
    return LeadSignal(sig.name, values, sig.fs, sig.start_s)


def _none():
    return np.zeros(N, dtype=bool)


def test_a_doubtful_sample_the_others_outvote_takes_the_laws_value():
    true = _limb()
    read = list(true)
    bad = true[3].values.copy()
    bad[200:230] -= 0.8  # aVR's stroke followed into the next row's wave
    read[3] = _with(true[3], bad)
    doubt = [_none() for _ in read]
    doubt[3] = np.zeros(N, dtype=bool)
    doubt[3][195:235] = True
    m = mend_by_law(read, doubt)
    assert int(m.mended[3].sum()) == 30 and m.total == 30
    np.testing.assert_allclose(m.signals[3].values, true[3].values, atol=1e-9)
    for k in (0, 1, 2, 4, 5):
        assert m.signals[k] is read[k]  # the others untouched


def test_a_sample_read_from_its_own_ink_is_never_changed():
    true = _limb()
    read = list(true)
    bad = true[4].values.copy()
    bad[500:520] += 1.0
    read[4] = _with(true[4], bad)
    m = mend_by_law(read, [_none() for _ in read])
    assert m.total == 0
    np.testing.assert_array_equal(m.signals[4].values, bad)


def test_nothing_is_mended_where_the_readings_from_ink_disagree():
    true = _limb()
    read = list(true)
    for k, shift in ((0, 0.5), (1, -0.6)):  # I and II both wrong there, read from ink
        v = true[k].values.copy()
        v[300:340] += shift
        read[k] = _with(true[k], v)
    bad = true[5].values.copy()
    bad[300:340] += 0.7
    read[5] = _with(true[5], bad)
    doubt = [_none() for _ in read]
    doubt[5] = np.ones(N, dtype=bool)
    m = mend_by_law(read, doubt)
    assert not m.mended[5][300:340].any()
    np.testing.assert_array_equal(m.signals[5].values[300:340], bad[300:340])


def test_three_limb_leads_alone_are_never_mended():
    # I, II and III: two signals, three readings; one set aside leaves two,
    # which fit any value exactly: no check, so no mending.
    true = _limb(("I", "II", "III"))
    bad = true[0].values.copy()
    bad[100:150] += 0.5
    read = [_with(true[0], bad), true[1], true[2]]
    doubt = [np.ones(N, dtype=bool), _none(), _none()]
    assert mend_by_law(read, doubt).total == 0


def test_a_duplicate_reading_of_a_lead_gives_the_check():
    # I, II twice (a short panel and a rhythm strip) and III: I in doubt and
    # off is mended from II and III, the two IIs checking each other.
    true = _limb(("I", "II", "II", "III"))
    bad = true[0].values.copy()
    bad[100:150] += 0.5
    read = [_with(true[0], bad), true[1], true[2], true[3]]
    doubt = [np.ones(N, dtype=bool), _none(), _none(), _none()]
    m = mend_by_law(read, doubt)
    assert int(m.mended[0].sum()) == 50
    np.testing.assert_allclose(m.signals[0].values, true[0].values, atol=1e-9)


def test_a_value_resting_on_readings_in_doubt_is_not_used():
    # The augmented leads all in doubt (a column's extrapolated panel starts)
    # beside a II strip read from ink: the readings from ink alone do not give
    # both signals, so aVR is left as read.
    true = _limb(("II", "aVR", "aVL", "aVF"))
    bad = true[1].values.copy()
    bad[:20] += 0.4
    read = [true[0], _with(true[1], bad), true[2], true[3]]
    doubt = [_none()] + [np.arange(N) < 25] * 3
    assert mend_by_law(read, doubt).total == 0


def test_mended_samples_keep_the_leads_own_baseline_offset():
    offsets = (0.1, -0.2, 0.05, 0.3, -0.15, 0.0)
    true = _limb(offsets=offsets)
    read = list(true)
    bad = true[4].values.copy()
    bad[600:640] += 0.9
    read[4] = _with(true[4], bad)
    doubt = [_none() for _ in read]
    doubt[4] = (np.arange(N) >= 590) & (np.arange(N) < 650)
    m = mend_by_law(read, doubt)
    assert int(m.mended[4].sum()) == 40
    np.testing.assert_allclose(m.signals[4].values, true[4].values, atol=1e-6)


def test_leads_at_other_times_and_other_leads_pass_through():
    true = _limb()
    v1 = LeadSignal("V1", np.ones(N), FS, 0.0)
    late = LeadSignal("aVF", true[5].values[500:], FS, 1.0)  # printed from 1 s
    read = [*true[:5], late, v1]
    doubt = [_none() for _ in true[:5]] + [np.ones(500, dtype=bool), np.ones(N, dtype=bool)]
    m = mend_by_law(read, doubt)
    assert m.signals[6] is v1 and not m.mended[6].any()
    # aVF from 1 s on: I..aVL give its value there; it agrees, nothing to mend
    assert m.total == 0
    # off at 1.2-1.24 s, in doubt: mended there and only there
    bad = late.values.copy()
    bad[100:120] += 0.6
    m = mend_by_law([*true[:5], _with(late, bad), v1], doubt)
    assert np.flatnonzero(m.mended[5]).tolist() == list(range(100, 120))
    np.testing.assert_allclose(m.signals[5].values, late.values, atol=1e-9)
    assert m.signals[5].start_s == 1.0


def test_bad_arguments_are_refused():
    read = _limb()
    with pytest.raises(ValueError, match="one array per signal"):
        mend_by_law(read, [_none()])
    with pytest.raises(ValueError, match="one flag per sample of aVR"):
        mend_by_law(read, [_none(), _none(), _none(), np.zeros(3, bool), _none(), _none()])
    with pytest.raises(ValueError, match="tolerance_mv"):
        mend_by_law(read, [_none() for _ in read], tolerance_mv=-1.0)


def test_doubtful_samples_are_the_bridged_ones_and_those_near_doubtful_points():
    ts = np.arange(100) / 100.0
    read = ts[(ts < 0.3) | (ts >= 0.5)]  # nothing read over 0.3-0.5 s
    doubt = doubtful_samples(ts, read, np.array([0.8]), reach_s=0.005)
    assert doubt[30:50].all() and not doubt[:30].any()
    assert doubt[80] and not doubt[60:79].any() and not doubt[82:].any()


def test_a_6x2_page_whose_augmented_leads_cross_is_mended_and_says_so():
    # seed 1: aVR's deep S waves and aVL's tall R waves meet in one run at
    # every beat; read from the shared ink, both lose 5 dB and more.
    r = render_ecg(seed=1, layout="6x2+1", calibration_pulse=True)
    fs = r.truth.fs
    as_read = process_image_for_submission(r.image, Options(law_mend=False))
    res = process_image_for_submission(r.image)
    assert as_read.ok and res.ok
    d0, d1 = as_read.stage("digitize"), res.stage("digitize")
    assert d0.mended == ()
    assert {lead for lead, _ in d1.mended} >= {"aVR", "aVL"}
    assert 0.0 < d1.mended_s < 1.0  # the shared strokes only
    from ecgprep.batch import summary_frame

    table = summary_frame([res, as_read])
    assert table["mended_ms"].tolist() == [pytest.approx(1000.0 * d1.mended_s), 0.0]
    # the record keeps the residual as read
    assert d1.einthoven == pytest.approx(d0.einthoven)
    assert einthoven_residual(res.signals) < d1.einthoven
    before = score_leads(as_read.signals, r.truth.signals, fs)
    after = score_leads(res.signals, r.truth.signals, fs)
    # measured: 19.90 -> 25.10 dB
    assert after > before + 4.2 and after > 24.1
    # each crossing lead gains (measured: aVR 11.6 -> 18.8, aVL 19.3 -> 24.5 dB)
    for lead, gain in (("aVR", 6.2), ("aVL", 4.2)):
        truth = {lead: r.truth.signals[lead]}
        one = score_leads({lead: res.signals[lead]}, truth, fs)
        assert one > score_leads({lead: as_read.signals[lead]}, truth, fs) + gain
    # the overlay draws the mended stretches in their own colour (and only then)
    from ecgprep.viz import COLORS, overlay

    amber = np.array(COLORS["mended"], dtype=np.uint8)
    for result, drawn in ((res, True), (as_read, False)):
        pic = overlay(r.image, result, layers=("traces",), legend=False)
        assert bool(np.all(pic == amber, axis=-1).any()) == drawn


def test_law_mend_must_be_a_bool():
    from ecgprep.errors import OptionsError

    with pytest.raises(OptionsError, match="law_mend"):
        Options(law_mend="yes")
