"""Layout, calibration pulses, trace following and mV conversion, on renders with exact truth.

These tests feed the digitizer the render's own ink masks and scale, so they
measure the digitizer alone; the pipeline tests measure it behind the real
colour and grid stages.
"""

import numpy as np
import pytest

from ecgprep.digitize import digitize, find_calibration_pulses
from ecgprep.errors import LayoutError
from ecgprep.layout import LAYOUTS, find_layout, layout_rows
from ecgprep.metrics import score_leads
from ecgprep.synth import render_ecg
from ecgprep.trace import column_runs, follow_trace, trace_points


def _ink(render):
    return render.truth.trace_mask | render.truth.text_mask


def _score_db(render, dig):
    return score_leads(dig.leads, render.truth.signals, render.truth.fs)


@pytest.fixture(scope="module")
def standard():
    r = render_ecg(seed=11)
    d = digitize(r.image, _ink(r), px_per_mm_x=r.truth.px_per_mm, px_per_mm_y=r.truth.px_per_mm)
    return r, d


def test_layout_rows_follow_truth(standard):
    r, d = standard
    ppm = r.truth.px_per_mm
    rows = layout_rows("3x4+1")
    for row_info, spec in zip(d.layout.rows, rows, strict=True):
        lead, t0, _ = spec[0]
        truth_lead = r.truth.lead(lead, rhythm=len(spec) == 1)
        # The row's ink peak lies within 1 mm of the true baseline.
        assert abs(row_info.y - truth_lead.baseline_y_px) < 1.0 * ppm
        # The time origin within half a millimetre.
        assert abs(row_info.x_start - truth_lead.x0_px) < 0.5 * ppm


def test_twelve_leads_with_right_spans(standard):
    _, d = standard
    assert set(d.leads) == {
        "I",
        "II",
        "III",
        "aVR",
        "aVL",
        "aVF",
        "V1",
        "V2",
        "V3",
        "V4",
        "V5",
        "V6",
    }
    assert d.leads["II"].duration_s == pytest.approx(10.0)
    assert d.leads["V4"].start_s == pytest.approx(7.5)
    assert d.leads["aVR"].duration_s == pytest.approx(2.5)
    for sig in d.leads.values():
        assert np.isfinite(sig.values).all() and sig.fs == 500.0


def test_signal_accuracy_standard_layout(standard):
    r, d = standard
    assert _score_db(r, d) > 17.0


def test_calibration_pulses_found_and_consistent(standard):
    _, d = standard
    assert all(p.found for p in d.pulses)
    for p in d.pulses:
        assert p.height_mv == pytest.approx(1.0, abs=0.08)


def test_no_pulse_means_none_found():
    r = render_ecg(seed=12, calibration_pulse=False)
    d = digitize(r.image, _ink(r), px_per_mm_x=r.truth.px_per_mm, px_per_mm_y=r.truth.px_per_mm)
    assert not any(p.found for p in d.pulses)
    assert _score_db(r, d) > 17.0


# 12x1 pages pack twelve rows 11 mm apart, so QRS complexes cross neighbouring
# rows everywhere: a known weakness of single-trace following (see README).
@pytest.mark.parametrize(
    "layout, min_db", [("3x4", 15.0), ("3x4+3", 15.0), ("6x2", 8.0), ("12x1", 2.0)]
)
def test_other_layouts(layout, min_db):
    r = render_ecg(seed=13, layout=layout)
    d = digitize(
        r.image,
        _ink(r),
        px_per_mm_x=r.truth.px_per_mm,
        px_per_mm_y=r.truth.px_per_mm,
        layout=layout,
    )
    assert len(d.layout.rows) == len(LAYOUTS[layout])
    assert len(d.leads) == 12
    assert _score_db(r, d) > min_db


def test_other_sampling_rate(standard):
    r, _ = standard
    d = digitize(
        r.image,
        _ink(r),
        px_per_mm_x=r.truth.px_per_mm,
        px_per_mm_y=r.truth.px_per_mm,
        signal_fs=250.0,
    )
    assert d.leads["II"].values.size == 2500 and d.leads["II"].fs == 250.0


def test_empty_mask_is_a_layout_error():
    img = np.full((850, 1100, 3), 255, np.uint8)
    with pytest.raises(LayoutError, match="rows"):
        digitize(img, np.zeros((850, 1100), bool), px_per_mm_x=3.94, px_per_mm_y=3.94)


def test_too_narrow_page_is_a_layout_error():
    with pytest.raises(LayoutError, match="10 s row"):
        find_layout(np.ones((400, 300), bool), px_per_mm_x=7.87, px_per_mm_y=7.87)


def test_unknown_layout_lists_valid():
    with pytest.raises(ValueError, match="3x4\\+1"):
        layout_rows("5x5")


def test_pulse_search_on_blank_mask(standard):
    _, d = standard
    pulses = find_calibration_pulses(
        np.zeros((1700, 2200), bool), d.layout, px_per_mm_x=7.87, px_per_mm_y=7.87
    )
    assert not any(p.found for p in pulses)


def test_column_runs():
    m = np.zeros((6, 3), bool)
    m[1:3, 0] = True
    m[4:6, 0] = True
    m[0, 2] = True
    x, top, bot = column_runs(m)
    assert x.tolist() == [0, 0, 2]
    assert top.tolist() == [1, 4, 0]
    assert bot.tolist() == [3, 6, 1]


def test_follow_trace_ignores_a_distractor():
    # A flat trace at row 20 and a short blob at row 5 in columns 10-14.
    m = np.zeros((40, 60), bool)
    m[20:22, :] = True
    m[4:7, 10:15] = True
    x, top, _ = follow_trace(m, y_ref=20)
    assert x.size == 60
    assert (top == 20).all()


def test_follow_trace_crosses_a_gap():
    m = np.zeros((40, 60), bool)
    m[10:12, :25] = True
    m[30:32, 35:] = True  # the pen went down behind something
    x, top, _ = follow_trace(m, y_ref=20)
    assert set(top[x < 25]) == {10} and set(top[x >= 35]) == {30}


def test_trace_points_keep_an_apex():
    # A triangle wave peak: the apex pixel row must be reported, not the run centre.
    h, w = 60, 41
    m = np.zeros((h, w), bool)
    for c in range(w):
        y = 50 - 2 * (20 - abs(c - 20))  # apex at row 10, column 20
        m[max(y - 1, 0) : y + 2, c] = True
        if c > 0:
            yp = 50 - 2 * (20 - abs(c - 1 - 20))
            m[min(y, yp) : max(y, yp) + 1, c] = True
    pts = trace_points(m, y_ref=50, line_width=3)
    assert pts.y.min() == pytest.approx(10.0, abs=1.0)


def _synthetic_band(seed):
    """A sine-like trace with gaps, a neighbour's spike, specks and a label-like blob."""
    rng = np.random.default_rng(seed)
    h, w = 120, 400
    m = np.zeros((h, w), bool)
    x = np.arange(w)
    y = 60 + 25 * np.sin(x / 17.0) + 8 * np.sin(x / 3.1) * (rng.random() < 0.5)
    y = np.round(y).astype(int)
    for c in range(w - 1):
        lo, hi = sorted((y[c], y[c + 1]))
        m[lo : hi + 2, c] = True
    for _ in range(3):  # gaps in the trace
        g = int(rng.integers(20, w - 40))
        m[:, g : g + int(rng.integers(2, 15))] = False
    s = int(rng.integers(0, w - 20))
    m[0:40, s : s + 6] = True  # a neighbouring row's spike reaching in
    for _ in range(30):  # specks
        m[rng.integers(0, h), rng.integers(0, w)] = True
    b = int(rng.integers(0, w - 30))
    m[95:110, b : b + 25] = True  # a label-like blob
    return m


@pytest.mark.parametrize("seed", range(6))
def test_follow_trace_equals_the_whole_programme(seed):
    # Taking long single strokes as they are must not change the chosen chain:
    # compare with the dynamic programme run over every column at once.
    from ecgprep import trace

    m = _synthetic_band(seed)
    zones = ((0.0, 60.0, 90.0, 115.0, 1.0),)
    x, top, bot = follow_trace(m, y_ref=60, zones=zones)
    xs, tops, bots = column_runs(m)
    bounds = np.flatnonzero(np.diff(xs)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [xs.size]))
    centres = (tops + bots - 1) * 0.5
    cost = np.abs(centres - 60) * 0.02
    cost += 1.0 * ((xs < 60) & (centres >= 90) & (centres < 115))
    ref = trace._viterbi(
        range(starts.size),
        starts.tolist(),
        ends.tolist(),
        xs.tolist(),
        tops.tolist(),
        bots.tolist(),
        cost.tolist(),
        None,
        -1,
        1.0,
        4.0,
        40,
        12.0,
    )
    assert x.size > 300
    assert x.tolist() == xs[ref].tolist()
    assert top.tolist() == tops[ref].tolist() and bot.tolist() == bots[ref].tolist()


def test_layout_smoothing_keeps_the_profile_length():
    from ecgprep.layout import _smooth

    for size in (1, 2, 5, 40):
        out = _smooth(np.ones(size), 1e6)
        assert out.shape == (size,)


def test_column_runs_of_any_layout_and_dtype():
    rng = np.random.default_rng(3)
    m = rng.random((37, 23)) < 0.3
    ref = column_runs(m)
    for other in (np.asfortranarray(m), m.astype(np.uint8) * 255, m.astype(int)):
        got = column_runs(other)
        assert all(np.array_equal(a, b) for a, b in zip(ref, got, strict=True))
    # every run is a stretch of True bounded by False or the edge
    x, top, bot = ref
    assert all(m[top[i] : bot[i], x[i]].all() for i in range(x.size))
    assert m.sum() == int((bot - top).sum())
