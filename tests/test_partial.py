"""Partial pages: some rows of a layout (a crop, a photo that left rows out)."""

import numpy as np
import pytest

from ecgprep import process_image_for_submission
from ecgprep.colors import separate_colors
from ecgprep.errors import LayoutError
from ecgprep.digitize.ink import limb_labels, panels_by_bars
from ecgprep.digitize.layout import candidate_layouts, find_layout, partial_layouts
from ecgprep.metrics import score_leads
from ecgprep.options import Options
from ecgprep.signals import LeadSignal, einthoven_residual, limb_residual
from ecgprep.standards import layout_rows, rhythm_count, window_name
from ecgprep.synth import render_ecg


def _crop(render, first: int, last: int) -> np.ndarray:
    """Rows ``first`` to ``last`` (0-based, inclusive) of a render, half a row's
    spacing above and below."""
    ys = sorted({round(lead.baseline_y_px) for lead in render.truth.leads})
    half = 0.5 * (ys[1] - ys[0])
    y0 = int(max(0, ys[first] - half))
    y1 = int(min(render.image.shape[0], ys[last] + half))
    return render.image[y0:y1]


def _rows_found(render, layout: str):
    """The render's trace mask and its rows found as ``layout``; its scale."""
    ppm = render.truth.px_per_mm
    mask = separate_colors(render.image).trace_mask
    return mask, find_layout(mask, px_per_mm_x=ppm, px_per_mm_y=ppm, layout=layout), ppm


def _leads_of_rows(render, first: int, last: int) -> list[str]:
    return sorted({lead.name for lead in render.truth.leads if first <= lead.row <= last})


def test_a_row_window_names_some_rows_of_a_layout():
    assert [row[0][0] for row in layout_rows("3x4+1[rows 3-4]")] == ["III", "II"]
    assert [row[0][0] for row in layout_rows("12x1[row 5]")] == ["aVL"]
    assert [row[0][0] for row in layout_rows("3x4+3[rows 5-6]:V5,V6")] == ["V5", "V6"]
    assert window_name("6x2", 2, 4) == "6x2[rows 2-4]"
    assert rhythm_count("3x4+3[rows 3-5]") == 2
    assert rhythm_count("3x4+3[rows 1-3]") == 0
    assert rhythm_count("12x1[rows 1-3]") == 0


@pytest.mark.parametrize(
    "name",
    ["3x4+1[rows 4-5]", "3x4[rows 0-1]", "3x4[rows 3-2]", "3x4+1[rows 3-4]:II,V1", "5x5[row 1]"],
)
def test_a_window_the_layout_does_not_print_is_refused(name):
    with pytest.raises(ValueError, match="layout"):
        layout_rows(name)


def test_options_take_a_row_window():
    assert Options(layout="6x2[rows 1-4]").layout == "6x2[rows 1-4]"
    with pytest.raises(ValueError):
        Options(layout="6x2[rows 5-8]")


def test_partial_layouts_name_each_set_of_rows_once_and_no_whole_layout():
    for n in (1, 2, 3, 4):
        names = partial_layouts(n)
        contents = [repr(layout_rows(name)) for name in names]
        assert len(set(contents)) == len(contents)
        assert all(len(layout_rows(name)) == n for name in names)
        whole = {repr(layout_rows(name)) for name in ("3x4", "3x4+1", "6x2", "12x1")}
        assert not whole & set(contents)
    assert candidate_layouts(2) == partial_layouts(2)
    assert "3x4+1[rows 3-4]" in partial_layouts(2)
    # a whole layout but for its strips' leads is no partial page: the first
    # four rows of a 3x4+2 are a 3x4+1 whose strip is V1
    assert "3x4+2[rows 1-4]" not in partial_layouts(4)
    assert "3x4+3[rows 1-5]" not in partial_layouts(5)


def test_a_whole_page_whose_strip_breaks_the_law_is_not_read_as_a_window():
    # A 3x4+1 page whose II strip runs 0.4 s late: the law is broken, and the
    # page must stay a flagged 3x4+1, its V1 panel kept (renaming the strip V1
    # as the rows of a 3x4+2 once made it obey the law, unflagged).
    from ecgprep.synth.signals import synthetic_signals

    sig = synthetic_signals(seed=0)
    late = dict(sig, II=np.roll(sig["II"], 200))
    a = render_ecg(sig, seed=0, layout="3x4+1")
    b = render_ecg(late, seed=0, layout="3x4+1")
    ys = sorted({round(lead.baseline_y_px) for lead in a.truth.leads})
    cut = (ys[2] + ys[3]) // 2
    image = np.concatenate([a.image[:cut], b.image[cut:]])
    res = process_image_for_submission(image)
    assert res.ok, res.error
    assert res.stage("digitize").layout.name == "3x4+1:II"
    assert res.signals["V1"].start_s == 5.0
    assert res.suspect


def test_limb_residual_measures_any_three_limb_leads_printed_together():
    t = np.arange(2500) / 500.0
    i, ii = np.sin(7 * t) + 0.3 * np.sin(2 * t), np.cos(5 * t)
    truth = {
        "I": i,
        "II": ii,
        "III": ii - i,
        "aVR": -(i + ii) / 2,
        "aVL": i - ii / 2,
        "aVF": ii - i / 2,
    }
    leads = {k: LeadSignal(k, v, 500.0) for k, v in truth.items()}
    assert limb_residual(leads) < 1e-9
    for group in (("II", "III", "aVR"), ("I", "aVL", "aVF"), ("III", "aVR", "aVL", "aVF")):
        assert limb_residual({k: leads[k] for k in group}) < 1e-9
    # two leads, or three never printed at the same time, test nothing
    assert np.isnan(limb_residual({k: leads[k] for k in ("I", "II")}))
    apart = {
        "I": LeadSignal("I", i[:1250], 500.0, 0.0),
        "II": LeadSignal("II", ii[:1250], 500.0, 0.0),
        "aVR": LeadSignal("aVR", truth["aVR"][1250:], 500.0, 2.5),
    }
    assert np.isnan(limb_residual(apart))
    # leads in the wrong places break it, as Einthoven's residual does
    swapped = dict(leads, III=LeadSignal("III", truth["aVF"], 500.0))
    assert limb_residual(swapped) > 0.1  # one lead of six wrong
    three = {k: leads[k] for k in ("I", "II", "III")}
    three["III"] = LeadSignal("III", truth["III"] + 0.2 * np.sin(11 * t), 500.0)
    assert limb_residual(three) == pytest.approx(einthoven_residual(three) / np.sqrt(3))


@pytest.mark.parametrize("layout", ["3x4+1", "6x2"])
def test_separator_bars_tell_the_panels_of_each_row(layout):
    mask, lay, ppm = _rows_found(render_ecg(seed=1, layout=layout), layout)
    counts = panels_by_bars(mask, lay, px_per_mm_x=ppm, px_per_mm_y=ppm)
    assert counts == tuple(len(row) for row in layout_rows(layout))


def test_a_page_printed_without_bars_tells_nothing():
    mask, lay, ppm = _rows_found(render_ecg(seed=1, layout="3x4+1", separators=False), "3x4+1")
    assert panels_by_bars(mask, lay, px_per_mm_x=ppm, px_per_mm_y=ppm) == (None,) * 4


@pytest.mark.parametrize(
    ("layout", "first", "last", "read_as"),
    [
        ("3x4+1", 0, 1, "3x4[rows 1-2]"),  # labels I, II (the law cannot place them)
        ("3x4+1", 1, 2, "3x4[rows 2-3]"),  # labels II, III
        ("3x4+1", 2, 3, "3x4+1[rows 3-4]"),  # bars: four panels, then a strip
        ("3x4+1", 3, 3, "3x4+1[row 4]"),  # no bars: its quarters look like one lead's
        ("6x2", 0, 1, "6x2[rows 1-2]"),  # bars: two panels
        ("6x2", 0, 3, "6x2[rows 1-4]"),  # placed by the law
        ("6x2", 2, 5, "6x2[rows 3-6]"),
    ],
)
def test_a_partial_page_gives_the_leads_it_prints_and_says_so(layout, first, last, read_as):
    r = render_ecg(seed=0, layout=layout)
    res = process_image_for_submission(_crop(r, first, last))
    assert res.ok, res.error
    assert res.stage("digitize").layout.name == read_as
    assert sorted(res.signals) == _leads_of_rows(r, first, last)
    assert score_leads(res.signals, r.truth.signals, r.truth.fs) > 24  # 25.1-25.8 measured
    assert res.suspect
    missing = sorted(set(r.truth.signals) - set(res.signals))
    assert any(reason.startswith("leads missing: ") for reason in res.suspect_reasons)
    assert all(lead in " ".join(res.suspect_reasons) for lead in missing)
    assert not any("is a guess" in reason for reason in res.suspect_reasons)


@pytest.mark.parametrize(("first", "read_as"), [(0, "3x4[rows 1-2]"), (1, "3x4[rows 1-2]")])
def test_rows_nothing_places_are_the_most_common_and_said_to_be_a_guess(first, read_as):
    # no labels: two rows of four panels could be rows 1-2 or 2-3 of a 3x4
    r = render_ecg(seed=0, layout="3x4+1", labels=False)
    res = process_image_for_submission(_crop(r, first, first + 1))
    assert res.ok, res.error
    assert res.stage("digitize").layout.name == read_as
    assert res.stage("digitize").rows_guessed
    assert any("is a guess" in reason for reason in res.suspect_reasons)


def test_a_whole_page_read_as_another_layout_than_its_bars_show_is_flagged():
    r = render_ecg(seed=0, layout="6x2")
    res = process_image_for_submission(r.image, Options(layout="3x4+3"))
    assert res.ok, res.error
    assert res.suspect
    assert any("separator bars show 2 panel(s)" in reason for reason in res.suspect_reasons)


@pytest.mark.parametrize(("row", "read_as"), [(0, "3x4[row 1]"), (3, "3x4+1[row 4]")])
def test_a_row_without_bars_is_told_a_strip_or_panels_by_its_beats(row, read_as):
    r = render_ecg(seed=4, layout="3x4+1", separators=False)
    res = process_image_for_submission(_crop(r, row, row))
    assert res.ok, res.error
    assert res.stage("digitize").layout.name == read_as
    assert sorted(res.signals) == _leads_of_rows(r, row, row)


@pytest.mark.parametrize("layout", ["3x4+1", "6x2", "12x1", "3x4+3"])
def test_first_labels_read_as_limb_leads_are_right_or_none(layout):
    for seed in (0, 1):
        r = render_ecg(seed=seed, layout=layout)
        mask, lay, ppm = _rows_found(r, layout)
        got = limb_labels(mask, lay, px_per_mm_x=ppm, px_per_mm_y=ppm)
        firsts = [row[0][0] for row in layout_rows(r.truth.layout_spec)]
        assert all(g is None or g == f for g, f in zip(got, firsts, strict=True))
        if layout == "3x4+1" and seed == 0:
            assert got == ("I", "II", "III", "II")  # "III" stands clear of the trace


def test_a_page_without_labels_has_none_read():
    mask, lay, ppm = _rows_found(render_ecg(seed=0, layout="3x4+1", labels=False), "3x4+1")
    assert limb_labels(mask, lay, px_per_mm_x=ppm, px_per_mm_y=ppm) == (None,) * 4


def _limb_leads(sign: float = 1.0) -> dict:
    """I, II and III obeying Einthoven's law (sign 1; a residual of 0.03, not 0,
    so that halving it is no rounding matter) or breaking it (sign -1)."""
    t = np.arange(1250) / 500.0
    i = np.sin(2 * np.pi * 1.2 * t)
    ii = 1.5 * np.sin(2 * np.pi * 1.2 * t + 0.6)
    iii = ii - sign * i + 0.05 * np.sin(2 * np.pi * 7.0 * t)
    return {n: LeadSignal(n, v, 500.0) for n, v in (("I", i), ("II", ii), ("III", iii))}


@pytest.mark.parametrize(
    ("first", "turned", "kept"),
    [
        # an upright reading the law cannot test: a whole layout obeying it wins
        (("3x4+3[rows 2-5]", {"V1"}), ("3x4", "law"), 2),
        (("3x4+3[rows 2-5]", {"V1"}), ("3x4", "broken"), 0),
        (("3x4+3[rows 2-5]", {"V1"}), ("3x4", None), 0),
        (("3x4+3[rows 2-5]", {"V1"}), ("6x2[rows 1-3]", "law"), 0),
        # some rows obeying the law, turned or not: a whole layout wins, some
        # rows obeying it as well do not
        (("3x4+3[rows 2-5]", "law"), ("3x4+1", "law"), 2),
        (("3x4+3[rows 2-5]", "law"), ("6x2[rows 1-3]", "law"), 0),
        # a whole layout breaking the law: a whole one obeying it wins, some
        # rows obeying it do not
        (("3x4+1", "broken"), ("3x4+1", "law"), 2),
        (("3x4+1", "broken"), ("6x2[rows 2-4]", "law"), 0),
        # some rows breaking the law: some rows obeying it win
        (("3x4+3[rows 2-5]", "broken"), ("6x2[rows 1-3]", "law"), 2),
        # a first reading that failed: whatever obeys the law wins
        (("3x4+3[rows 2-5]", "fails"), ("6x2[rows 1-3]", "law"), 2),
        (("3x4+3[rows 2-5]", "fails"), ("3x4+1", "law"), 2),
    ],
)
def test_a_partial_or_untested_first_reading_is_read_turned_too(first, turned, kept):
    # An upside-down page whose rows matched no whole layout was read as a
    # partial page (real-dev's 300 dpi page and GE raster turned by 180
    # degrees: 3x4+3[rows 2-5], [rows 2-6]), never read turned: its I, II and
    # III not read, or its limb leads obeying the law upside down (it holds
    # with every lead negated and time reversed).
    from types import SimpleNamespace

    from ecgprep.orient import read_upright

    def reading(name, leads):
        if leads == "law":
            leads = _limb_leads()
        elif leads == "broken":
            leads = _limb_leads(-1.0)
        elif leads is None:
            leads = {}
        else:
            leads = {k: LeadSignal(k, np.zeros(1250), 500.0) for k in leads}
        return SimpleNamespace(leads=leads, layout=SimpleNamespace(name=name))

    up = reading(first[0], None if first[1] == "fails" else first[1])
    down = reading(*turned)
    image = np.zeros((4, 6, 3), np.uint8)
    image[0, 0] = 1  # tells the turned page from the first

    def read(img, mask):
        if img[0, 0, 0] and first[1] == "fails":
            raise LayoutError("no layout fits")
        return up if img[0, 0, 0] else down

    got, turns, _, _ = read_upright(read, image, np.zeros((4, 6), bool))
    assert turns == kept
    assert got is (up if kept == 0 else down)
