"""The verdict: each rule on hand-made stage results, then on pages read wrong on purpose."""

from __future__ import annotations

import dataclasses
import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from ecgprep import process_image_for_submission, summary_frame
from ecgprep.digitize import Digitization, PulseInfo
from ecgprep.grid import GridResult
from ecgprep.digitize.layout import LayoutResult, Panel, RowInfo
from ecgprep.quality import QualityResult
from ecgprep.result import ImageResult
from ecgprep.signals import LeadSignal
from ecgprep.standards import LAYOUTS, LEADS
from ecgprep.verdict import (
    COVERAGE_SUSPECT,
    EINTHOVEN_SUSPECT,
    GRID_SUSPECT,
    SUSPECT_MAX_CONFIDENCE,
    Verdict,
    judge,
    verdict_of,
)

FS = 500.0
PPM = 200 / 25.4  # px per mm at 200 dpi
PAGE = (1700, 2200)


def _signals(seed: int = 0) -> dict[str, np.ndarray]:
    """10 s of 12 leads whose limb leads obey Einthoven's law exactly."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(10 * FS)) / FS

    def wave():
        f = rng.uniform(0.8, 2.0, 3)
        a = rng.uniform(0.2, 0.8, 3)
        return sum(
            ai * np.sin(2 * np.pi * fi * t + rng.uniform(0, 6)) for ai, fi in zip(a, f, strict=True)
        )

    i, ii = wave(), wave()
    out = {"I": i, "II": ii, "III": ii - i, "aVR": -(i + ii) / 2, "aVL": i - ii / 2}
    out["aVF"] = ii - i / 2
    out.update({f"V{k}": wave() for k in range(1, 7)})
    return out


def _layout(name: str = "3x4+1", confidence: float = 1.0) -> LayoutResult:
    px_per_s = 25.0 * PPM
    x_start = 15 * PPM
    x_end = x_start + 10 * px_per_s
    rows, panels = [], []
    for i, spec in enumerate(LAYOUTS[name]):
        y = 300.0 + 300.0 * i
        rows.append(RowInfo(i, y, int(y - 150), int(y + 150), x_start, x_end))
        for lead, t0, dur in spec:
            panels.append(
                Panel(lead, i, t0, dur, x_start + t0 * px_per_s, x_start + (t0 + dur) * px_per_s)
            )
    return LayoutResult(name, tuple(rows), tuple(panels), px_per_s, confidence)


def _leads(layout: LayoutResult, signals: dict[str, np.ndarray]) -> dict[str, LeadSignal]:
    """The longest panel of each lead, cut from the 10 s signals as the digitizer would."""
    out = {}
    for p in sorted(layout.panels, key=lambda p: -p.duration_s):
        if p.lead not in out:
            i0 = int(round(p.t0_s * FS))
            vals = signals[p.lead][i0 : i0 + int(round(p.duration_s * FS))]
            out[p.lead] = LeadSignal(p.lead, vals, FS, p.t0_s)
    return out


def _pulse(row: int, found: bool = True, height_mm: float = 10.0, width_mm: float = 5.5):
    x0 = 10 * PPM
    h = height_mm * PPM
    return PulseInfo(row, found, x0, x0 + width_mm * PPM, h, h / (10 * PPM) if found else 0.0)


def _grid(confidence: float = 1.0) -> GridResult:
    return GridResult(PPM, PPM, 0.0, 0.0, 0.0, True, confidence, confidence >= 0.35)


def _quality(sharpness: float = 0.8, dpi: float = 200.0) -> QualityResult:
    reasons = []
    if sharpness < 0.35:
        reasons.append(f"sharpness: {sharpness:.2f} < 0.35")
    if dpi < 150:
        reasons.append(f"resolution: {dpi:.0f} dpi < 150 dpi")
    return QualityResult(not reasons, tuple(reasons), sharpness, 0.6, dpi, 150.0, 0.35, 0.25)


def _reading(**change):
    """``judge`` keyword arguments of a right reading of a 3x4+1 page; ``change`` edits them.

    Keys: the ``Digitization`` fields (``einthoven``, ``coverage``, ``pulses``,
    ``layout``), ``grid``, ``quality``, ``leads``, ``page_shape``, ``gain``.
    """
    layout = change.pop("layout", _layout())
    n = len(layout.rows)
    dig = Digitization(
        leads={},
        layout=layout,
        pulses=change.pop("pulses", tuple(_pulse(i) for i in range(n))),
        baselines=tuple(r.y for r in layout.rows),
        line_width_px=2.0,
        coverage=change.pop("coverage", (0.98,) * n),
        einthoven=change.pop("einthoven", 0.03),
        gain_found=change.pop("gain_found", True),
        lines_removed=change.pop("lines_removed", False),
    )
    kw = {
        "grid": _grid(),
        "quality": _quality(),
        "leads": _leads(layout, _signals()),
        "page_shape": PAGE,
        "gain": 10.0,
    }
    kw.update(change)
    return dig, kw


def _judge(**change) -> Verdict:
    dig, kw = _reading(**change)
    return judge(dig, **kw)


# ----------------------------------------------------------------- the rules


def test_a_right_reading_is_trusted():
    v = _judge()
    assert not v.suspect and v.reasons == ()
    assert v.confidence > 0.95
    assert set(v.lead_confidence) == set(LEADS)
    assert min(v.lead_confidence.values()) > 0.95
    assert (v.layout, v.paper_speed, v.gain) == ("3x4+1", pytest.approx(25.0), 10.0)


@pytest.mark.parametrize("residual", [EINTHOVEN_SUSPECT + 0.01, 0.92, 1.4])
def test_einthoven_broken(residual):
    v = _judge(einthoven=residual)
    assert v.suspect
    assert f"Einthoven's law broken (residual {residual:.2f})" in v.reasons
    assert v.confidence <= SUSPECT_MAX_CONFIDENCE


def test_einthoven_measured_from_the_leads_when_not_given():
    """Limb leads that break the law, with no residual recorded: the verdict measures it,
    and the leads of the broken relation lose confidence, not the others."""
    layout = _layout()
    sig = _signals()
    sig["III"] = _signals(seed=7)["V3"]  # III no longer II - I
    v = _judge(einthoven=float("nan"), leads=_leads(layout, sig))
    assert v.suspect and v.reasons[0].startswith("Einthoven's law broken")
    lc = v.lead_confidence
    assert max(lc["I"], lc["II"], lc["III"]) < 0.5
    assert min(lc["aVR"], lc["aVL"], lc["aVF"]) > 0.9


def test_a_residual_under_the_bound_only_lowers_the_confidence():
    clean, fair = _judge(einthoven=0.03), _judge(einthoven=0.4)
    assert not fair.suspect
    assert fair.confidence < clean.confidence


def test_untestable_einthoven_is_not_suspect():
    """Limb leads printed one after another share no span: nothing to test, nothing to blame."""
    sig = _signals()
    leads = _leads(_layout(), sig)
    for k, name in enumerate(("I", "II", "III", "aVR", "aVL", "aVF")):
        leads[name] = LeadSignal(name, sig[name][k * 800 : k * 800 + 600], FS, k * 1.6)
    v = _judge(einthoven=float("nan"), leads=leads)
    assert not v.suspect
    assert 0.5 < v.confidence < _judge().confidence


def test_grid_confidence_low():
    v = _judge(grid=_grid(0.31))
    assert v.suspect and "grid confidence 0.31" in v.reasons
    assert not _judge(grid=_grid(GRID_SUSPECT + 0.05)).suspect


def test_quality_gate_failed_far():
    v = _judge(quality=_quality(sharpness=0.11))
    assert v.suspect
    assert "quality gate failed: sharpness 0.11 < 0.35" in v.reasons


def test_quality_gate_failed_narrowly_lowers_the_confidence_only():
    """Renders just under the sharpness gate or at 100-130 dpi read at 11-22 dB."""
    for q in (_quality(sharpness=0.3), _quality(dpi=100.0)):
        v = _judge(quality=q)
        assert not v.suspect
        assert v.confidence < _judge().confidence


def test_trace_lost_in_a_row():
    v = _judge(coverage=(0.98, 0.54, 0.97, 0.98))
    assert v.suspect and "trace followed over 54 % of row 2" in v.reasons
    lc = v.lead_confidence
    # Row 2 holds aVL, V2 and V5 (II is read from the rhythm strip, row 4).
    assert max(lc["aVL"], lc["V2"], lc["V5"]) < 0.5 * min(lc["I"], lc["II"], lc["V1"])


def test_several_rows_lost_name_the_worst():
    v = _judge(coverage=(0.85, 0.54, 0.88, 0.98))
    (reason,) = [r for r in v.reasons if r.startswith("trace followed")]
    assert "54 % of row 2" in reason and "2 more" in reason
    assert not _judge(coverage=(COVERAGE_SUSPECT,) * 4).suspect


def _colors(pages: float, page_shape) -> SimpleNamespace:
    """The colours station's summary of a page holding ``pages`` pages' worth of trace ink."""
    pen = 4 * 250 * PPM * 2.0  # rows x row length x stroke width of _reading()
    return SimpleNamespace(trace_fraction=pages * 5.0 * pen / (page_shape[0] * page_shape[1]))


def test_rows_span_part_of_a_page_holding_another_ecg():
    wide = (PAGE[0], 2 * PAGE[1])
    v = _judge(page_shape=wide, colors=_colors(2.0, wide))
    assert v.suspect
    (reason,) = v.reasons
    assert reason.startswith("rows span 45 % of the page width, which holds 2.0x the trace ink")


def test_a_page_inside_a_white_border_is_not_suspect():
    """The rows span half the image, but no ink stands beside them (read at 23 dB)."""
    wide = (2 * PAGE[0], 2 * PAGE[1])
    assert not _judge(page_shape=wide, colors=_colors(1.0, wide)).suspect
    assert not _judge(colors=_colors(2.0, PAGE)).suspect  # dense ink, rows span the page


def test_layout_matched_weakly():
    v = _judge(layout=_layout(confidence=0.3))
    assert v.suspect and "layout 3x4+1 matched weakly (confidence 0.30)" in v.reasons


def test_pulses_at_another_gain():
    """Pulse-wide ink in every row, twice the height of 1 mV at the gain used."""
    pulses = tuple(_pulse(i, found=False, height_mm=9.0) for i in range(4))
    v = _judge(pulses=pulses, gain=5.0)
    assert v.suspect
    (reason,) = v.reasons
    assert reason.startswith("calibration pulse not found in any row")
    assert "1.8x" in reason and "5 mm/mV" in reason


@pytest.mark.parametrize("height_mm", [1.0, 3.5, 7.0])
def test_pulse_wide_ink_of_no_gain_does_not_say_wrong_gain(height_mm):
    """A pulse's flat top alone (its edges lost with grid lines of its colour), or
    ink under 1 mV and of no standard gain's 1 mV: no sign of another gain, only
    less confidence."""
    pulses = tuple(_pulse(i, found=False, height_mm=height_mm) for i in range(4))
    v = _judge(pulses=pulses)
    assert not v.suspect
    assert v.confidence < _judge().confidence


@pytest.mark.parametrize(
    ("gain", "height_mm"), [(10.0, 5.2), (10.0, 19.0), (20.0, 10.5), (10.0, 13.0), (5.0, 6.5)]
)
def test_pulses_at_each_other_gain_say_so(gain, height_mm):
    # (13 and 6.5 mm: taller than 1 mV at the gain used, of no standard gain: a
    # pulse the search window cut at 1.6 mV)
    pulses = tuple(_pulse(i, found=False, height_mm=height_mm) for i in range(4))
    v = _judge(pulses=pulses, gain=gain)
    assert v.suspect and "wrong gain?" in v.reasons[0]


def test_a_gain_assumed_where_black_grid_lines_may_hide_the_pulses():
    """No pulse found, the gain assumed, on a page whose grid lines (as dark as the
    trace) were taken out of its ink: a pulse drawn on them went with them."""
    none = tuple(_pulse(i, found=False, height_mm=1.0) for i in range(4))
    v = _judge(pulses=none, gain_found=False, lines_removed=True)
    assert v.suspect
    assert v.reasons == (
        "calibration pulse not found in any row, and grid lines as dark as the trace "
        "may hide it: 10 mm/mV assumed",
    )
    assert not _judge(pulses=none, gain_found=False).suspect  # grid lines of another colour
    assert not _judge(pulses=none, gain_found=True, lines_removed=True).suspect  # gain named


def test_pulses_seen_only_in_outline_are_suspect():
    """Pulses matched by their outline only (their parts went with grid lines as
    dark as the trace): the gain is likely, not measured."""
    seen = [dataclasses.replace(_pulse(i), outline=True) for i in range(2)]
    pulses = (*seen, _pulse(2, found=False, height_mm=1.0), _pulse(3, found=False, height_mm=1.0))
    v = _judge(pulses=pulses, lines_removed=True)
    assert v.suspect
    assert v.reasons[0].startswith("calibration pulse seen only in outline in 2 of 4 row(s)")
    whole = (*seen, _pulse(2), _pulse(3, found=False))
    assert not _judge(pulses=whole, lines_removed=True).suspect


def test_a_page_without_pulses_is_not_suspect():
    """Trace ink only (0.5 mm wide) where a pulse would stand: printed without one."""
    pulses = tuple(_pulse(i, found=False, height_mm=0.8, width_mm=0.5) for i in range(4))
    v = _judge(pulses=pulses)
    assert not v.suspect
    assert v.confidence < _judge().confidence


def test_leads_missing():
    layout = _layout()
    leads = _leads(layout, _signals())
    del leads["V4"], leads["V5"]
    v = _judge(leads=leads)
    assert v.suspect and "leads missing: V4, V5" in v.reasons
    assert v.lead_confidence["V4"] == 0.0 == v.lead_confidence["V5"]
    assert v.lead_confidence["V6"] > 0.9


def test_a_flat_lead_loses_its_own_confidence():
    layout = _layout()
    sig = _signals()
    sig["V2"] = np.zeros_like(sig["V2"])
    v = _judge(leads=_leads(layout, sig))
    assert v.lead_confidence["V2"] < 0.5 < v.lead_confidence["V3"]


def test_each_lead_says_its_own_reasons():
    v = _judge()
    assert v.suspect_leads == () and set(v.lead_reasons) == set(LEADS)
    layout = _layout()
    sig = _signals()
    sig["V2"] = np.zeros_like(sig["V2"])  # a flat line
    sig["aVL"] = -sig["aVL"]  # aVR + aVL + aVF = 0 broken
    leads = _leads(layout, sig)
    del leads["V4"]
    v = _judge(leads=leads, coverage=(0.98, 0.98, 0.7, 0.98))  # row 3: III, aVF, V3, V6
    assert v.lead_reasons["V4"] == ("not read",)
    assert v.lead_reasons["V2"] == ("a flat line (0.00 mV peak to peak)",)
    assert v.lead_reasons["V6"] == ("trace followed over 70 % of row 3 (its row)",)
    assert v.lead_reasons["aVL"][0].startswith("aVR + aVL + aVF = 0 broken (residual ")
    assert len(v.lead_reasons["aVF"]) == 2  # the relation, and its row
    assert v.suspect_leads == ("III", "aVR", "aVL", "aVF", "V2", "V3", "V4", "V6")
    assert v.lead_reasons["I"] == v.lead_reasons["V5"] == ()


def test_lead_verdict_frame():
    from ecgprep.verdict import lead_verdict_frame

    good = ImageResult("1", "a.png", True, verdict=_judge(coverage=(0.98, 0.54, 0.97, 0.98)))
    failed = ImageResult("3", "c.png", False, error="c.png: load failed", failed_stage="load")
    df = lead_verdict_frame([good, failed])
    assert list(df.columns) == ["id", "lead", "confidence", "suspect", "reasons"]
    assert df["id"].tolist() == ["1"] * 12 + ["3"] * 12
    assert df["lead"].tolist() == list(LEADS) * 2
    first = df[df["id"] == "1"].set_index("lead")
    assert first.loc["V2", "reasons"] == "trace followed over 54 % of row 2 (its row)"
    assert first.loc["V1", "reasons"] == "" and first["suspect"].all()  # the image is suspect
    assert (df[df["id"] == "3"]["reasons"] == "not read").all()


def test_other_layouts_give_every_lead_a_row():
    for name in ("6x2", "12x1", "3x4+3"):
        v = _judge(layout=_layout(name))
        assert not v.suspect, (name, v.reasons)
        assert min(v.lead_confidence.values()) > 0.95


def test_verdict_checks_itself():
    with pytest.raises(ValueError, match="confidence"):
        Verdict(1.5, False)
    with pytest.raises(ValueError, match="disagrees"):
        Verdict(0.2, True, ())
    with pytest.raises(ValueError, match="disagrees"):
        Verdict(0.9, False, ("grid confidence 0.31",))
    f = Verdict.failure("grid failed: no ECG grid found")
    assert f.confidence == 0.0 and f.suspect and f.reasons == ("grid failed: no ECG grid found",)
    assert set(f.lead_confidence.values()) == {0.0}


# ----------------------------------------------------------------- results and the summary


def test_a_failure_without_a_verdict_gets_one():
    """A failure recorded by the batch (a worker died) carries no verdict: it still answers."""
    res = ImageResult("7", "x.png", False, error="x.png: the worker died", failed_stage="worker")
    assert res.verdict is None
    assert res.confidence == 0.0 and res.suspect
    assert res.suspect_reasons == ("x.png: the worker died",)
    assert set(res.lead_confidence.values()) == {0.0}


def test_summary_frame_has_the_verdict_columns():
    dig, kw = _reading(einthoven=0.92)
    bad = ImageResult("2", "b.png", True, verdict=judge(dig, **kw))
    good = ImageResult("1", "a.png", True, verdict=_judge())
    failed = ImageResult("3", "c.png", False, error="c.png: load failed", failed_stage="load")
    df = summary_frame([good, bad, failed])
    cols = ["confidence", "suspect", "suspect_reasons", "layout", "paper_speed", "gain"]
    assert set(cols) <= set(df.columns)
    assert df["suspect"].tolist() == [False, True, True]
    assert df["suspect_reasons"].tolist() == [
        "",
        "Einthoven's law broken (residual 0.92)",
        "c.png: load failed",
    ]
    assert df.loc[0, "confidence"] > 0.95 and df.loc[2, "confidence"] == 0.0
    assert df.loc[1, "confidence"] <= SUSPECT_MAX_CONFIDENCE
    assert df["layout"].tolist()[:2] == ["3x4+1", "3x4+1"]
    assert df.loc[0, "paper_speed"] == pytest.approx(25.0) and df.loc[0, "gain"] == 10.0
    assert np.isnan(df.loc[2, "gain"])


def test_lead_confidence_frame():
    from ecgprep.verdict import lead_confidence_frame

    good = ImageResult("1", "a.png", True, verdict=_judge(coverage=(0.98, 0.54, 0.97, 0.98)))
    failed = ImageResult("3", "c.png", False, error="c.png: load failed", failed_stage="load")
    df = lead_confidence_frame([good, failed])
    assert list(df.columns) == ["id", "suspect", *LEADS]
    assert df["id"].tolist() == ["1", "3"] and df["suspect"].tolist() == [True, True]
    assert df.loc[0, "V2"] < df.loc[0, "V1"] and (df.loc[1, list(LEADS)] == 0.0).all()


def test_verdict_report_names_the_suspect_readings_weakest_first():
    from ecgprep.cli import verdict_report

    dig, kw = _reading(einthoven=0.92)
    results = [ImageResult("1", "a.png", True, verdict=_judge())]
    results += [ImageResult("2", "b.png", True, verdict=judge(dig, **kw))]
    results += [ImageResult("3", "c.png", True, verdict=_judge(grid=_grid(0.31)))]
    results += [ImageResult("4", "d.png", False, error="d.png: load failed", failed_stage="load")]
    text = verdict_report(summary_frame(results), limit=1)
    lines = text.splitlines()
    assert lines[0] == "verdict: 3 read, 2 of them suspect, 1 failed"
    assert lines[1] == "suspect 3 (confidence 0.00): grid confidence 0.31"  # 2 has 0.09
    assert "1 more" in lines[2] and len(lines) == 3


# ----------------------------------------------------------------- pages read wrong


@pytest.mark.slow
def test_a_clean_render_is_trusted(page200):
    res = process_image_for_submission(page200.image, image_id="clean")
    assert res.ok and isinstance(res.verdict, Verdict)
    assert not res.suspect, res.suspect_reasons
    assert res.confidence > 0.9
    assert min(res.lead_confidence.values()) > 0.8
    back = pickle.loads(pickle.dumps(res))
    assert back.verdict.reasons == res.verdict.reasons
    assert back.confidence == res.confidence


def _spoiled(page, other, kind: str) -> np.ndarray:
    img = page.image
    if kind == "inverted":
        return 255 - img
    if kind == "mirrored":
        return np.ascontiguousarray(np.fliplr(img))
    if kind == "side-by-side":
        return np.hstack([img, other.image])
    raise AssertionError(kind)


#: What the verdict must say of each spoiled page (when the page is not refused).
EXPECTED = {
    "inverted": ("Einthoven's law broken", "trace followed over"),
    "mirrored": ("Einthoven's law broken",),
    "side-by-side": ("rows span",),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_a_page_read_wrong_is_flagged(page200, synth_render, kind):
    """Each reading scored 0 dB or below when measured (side by side: the left page read,
    the right one ignored); it must fail with a clear error or be suspect for the right
    reason, and never rank high."""
    spoiled = _spoiled(page200, synth_render(seed=12), kind)
    res = process_image_for_submission(spoiled, image_id=kind)
    assert res.suspect and res.confidence <= SUSPECT_MAX_CONFIDENCE
    if res.ok:
        assert any(r.startswith(EXPECTED[kind]) for r in res.suspect_reasons), res.suspect_reasons
    else:
        assert res.suspect_reasons == (res.error,) and res.confidence == 0.0


@pytest.mark.slow
def test_a_failed_image_is_suspect_with_its_error():
    res = process_image_for_submission(np.full((300, 400, 3), 255, np.uint8), image_id="blank")
    assert not res.ok
    assert isinstance(res.verdict, Verdict) and res.verdict.reasons == (res.error,)
    assert res.suspect and res.confidence == 0.0


def test_verdict_of_prefers_the_recorded_one():
    v = Verdict(0.4, True, ("grid confidence 0.31",))
    res = dataclasses.replace(ImageResult("1", "a", True), verdict=v)
    assert verdict_of(res) is v
    assert res.suspect_reasons == ("grid confidence 0.31",)
