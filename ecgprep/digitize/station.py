"""The digitize station: the digitizer's stations run in order on one page.

:func:`digitize` finds the page's trace rows (:mod:`~ecgprep.digitize.page`), and
for each layout that prints as many (:mod:`~ecgprep.digitize.layout`) reads the
pulses (:mod:`~ecgprep.digitize.pulses`), prepares the ink
(:mod:`~ecgprep.digitize.ink`), follows each row's trace
(:mod:`~ecgprep.digitize.trace`) and converts it to mV
(:mod:`~ecgprep.digitize.convert`) (:func:`_read`); the reading that best obeys
Einthoven's law is kept (:func:`_score`). The tracker's priors that hold a row's
trace near its baseline and off the lead labels are set here (:data:`FREE_MV`,
:data:`REF_WEIGHT`, :data:`LABEL_ZONE_COST`). :func:`digitize_station` is the
pipeline's station: it reads the page turned by 180 degrees when the law says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validate import check_image, check_mask, check_positive, check_scale, to_gray
from ..errors import LayoutError, StageError
from ..signals import LIMB_BASIS, LeadSignal, beat_interval, einthoven_residual, limb_residual
from ..standards import (
    AUTO,
    GAIN_MM_PER_MV,
    MAJOR_MM,
    MINOR_MM,
    PAPER_SPEED_MM_S,
    PAPER_SPEEDS_MM_S,
    RECORD_SECONDS,
    rhythm_count,
)
from .beats import ends_from_beats
from .blocks import BLOCK_LAYOUTS, block_speed, blocks_in_doubt, read_column_blocks
from .convert import (
    align_rhythm_strips,
    _BRIDGE_PX,
    _assemble,
    _bridged,
    _mode,
    _panel_values,
    _Track,
    name_rhythm_strips,
    own_strokes,
    shared_points,
    through_bars,
)
from .ink import (
    _remove_tick,
    foreign_strokes,
    mend_label_gaps,
    limb_labels,
    panels_by_bars,
    remove_labels,
    split_ink,
    trace_core,
)
from .law import doubtful_samples, mend_by_law
from .layout import (
    MINOR_PERIOD_MAX_MM,
    OUTER_LINE_MIN_MM,
    PANEL_LEVEL_BAND_MM,
    LayoutResult,
    Panel,
    RowInfo,
    LAYOUTS_BY_ROWS,
    candidate_layouts,
    find_layout,
    layout_rows,
    paper_right_edge,
    partial_layouts,
    rows_cut,
)
from .page import LONG_SHARE, SPECK_MM, STACKED_GAP_MM, RowScan, find_trace_rows, stacked_joined
from .pulses import _row_gains, find_calibration_pulses
from .trace import TracePoints, trace_points

if TYPE_CHECKING:
    from ..options import Options
    from ..page import Page

__all__ = ["digitize_station", "LeadSignal", "Digitization", "digitize"]


#: Highest sampling rate digitize produces (far above what a printed trace holds;
#: the bound keeps an absurd rate from allocating gigabytes).
_MAX_SIGNAL_FS = 100_000.0
#: Sampling rate of the signals returned when none is named (Hz): the default of
#: :class:`ecgprep.options.Options`.
DEFAULT_SIGNAL_FS = 500.0


@dataclass(frozen=True, repr=False)
class Digitization:
    """Result of :func:`digitize` (small: safe to send between processes).

    Attributes
    ----------
    leads : dict of str to LeadSignal
        The 12 leads (the longest printed segment of each).
    layout : LayoutResult
        Rows and panels found.
    pulses : tuple of PulseInfo
        Calibration pulse per row.
    baselines : tuple of float
        0 mV row (pixels) of each printed row: where its calibration pulse rises
        from, or without one the level its trace keeps most.
    line_width_px : float
        Estimated trace thickness.
    coverage : tuple of float
        Fraction of each row's columns where ink was followed.
    quarter_turns : int
        0, or 2 when the page was read turned by 180 degrees
        (:func:`ecgprep.orient.read_upright`; set by :func:`digitize_station`).
    einthoven, einthoven_turned : float
        Einthoven residuals (:func:`ecgprep.signals.einthoven_residual`) of the
        reading kept (NaN on some rows without I, II and III) and of the page
        read turned by 180 degrees (there, on some rows without them, that of
        their limb leads; NaN when not measured: only readings that break the
        law or read some rows only are read again turned,
        :func:`ecgprep.orient.read_upright`).
    paper_speed : float
        mm/s the rows were read at.
    gain : float
        mm/mV the leads were read at (the rows' median).
    row_gains : tuple of float
        mm/mV of each row.
    gain_found : bool
        The gain was named, or read from the page's calibration pulses (False:
        the standard 10 mm/mV was assumed).
    speeds_alike : tuple of float
        Other paper speeds (mm/s) at which a page whose edge cuts its rows was
        read as well by Einthoven's law (see :data:`FAST_SPEED_EVIDENCE`): the
        speed read is then unsure. Empty otherwise.
    lines_removed : bool
        Grid lines as dark as the trace were taken out of its ink (they take
        along what lies in them: a calibration pulse drawn on them is lost).
    panel_bars : tuple of (int or None)
        Per row, how many panels its separator bars show
        (:func:`~ecgprep.digitize.ink.panels_by_bars`; None where they do not tell).
    rows_guessed : bool
        A partial page's rows were named as the most common of several runs of
        rows that nothing on the page told apart (no three limb leads printed
        together, no label or separator bar to place them).
    segments : tuple of (LeadSignal, (n,) bool ndarray)
        Every panel read (``leads`` keeps the longest of each lead), with the
        samples its track did not read from ink of its own
        (:func:`~ecgprep.digitize.law.doubtful_samples`); empty in the recorded
        result (:func:`digitize_station`).
    mended : tuple of (str, tuple of (float, float))
        Limb leads whose samples in doubt were re-read from the others by
        Einthoven's law (:func:`~ecgprep.digitize.law.mend_by_law`), each with
        the times mended (``(t0, t1)`` spans, s); set by
        :func:`digitize_station`. ``einthoven`` is the reading's residual
        before (:attr:`mended_s` sums the spans).
    filled : tuple of (str, tuple of (float, float))
        Leads whose panel ends in doubt were filled from their own beats, timed
        by a rhythm strip (:func:`~ecgprep.digitize.beats.ends_from_beats`), each
        with the times filled; set by :func:`digitize_station`, before
        ``einthoven`` is measured.
    """

    leads: dict = field(repr=False)
    layout: LayoutResult
    pulses: tuple
    baselines: tuple
    line_width_px: float
    coverage: tuple
    quarter_turns: int = 0
    einthoven: float = float("nan")
    einthoven_turned: float = float("nan")
    paper_speed: float = PAPER_SPEED_MM_S
    gain: float = GAIN_MM_PER_MV
    row_gains: tuple = ()
    gain_found: bool = True
    speeds_alike: tuple = ()
    lines_removed: bool = False
    panel_bars: tuple = ()
    rows_guessed: bool = False
    segments: tuple = field(default=(), repr=False)
    mended: tuple = ()
    filled: tuple = ()

    @property
    def mended_s(self) -> float:
        """Seconds of limb-lead samples mended by Einthoven's law, over all leads."""
        return float(sum(b - a for _, spans in self.mended for a, b in spans))

    def __repr__(self) -> str:
        found = sum(bool(p.found) for p in self.pulses)
        return (
            f"Digitization(layout={self.layout.name!r}, {len(self.layout.rows)} rows, "
            f"{found}/{len(self.pulses)} pulses, line {self.line_width_px:.1f} px, "
            f"einthoven {self.einthoven:.2f}, quarter_turns={self.quarter_turns})"
        )


#: Percentile of a page's gray levels taken for its paper ...
PAPER_PERCENTILE = 90
#: ... and how far under it (gray levels) a pixel outside the trace ink is taken
#: for grid-line ink removed from it: a faded line stands 0.2 of the way from
#: the ink to the paper (40-50 levels under it), a scan's noise 5-10.
LINE_INK_BELOW_PAPER = 20
#: Where a row's trace is first read, mm after its time origin: past the
#: calibration pulse's falling edge, which ecg-image-kit draws one or two samples
#: after t = 0 with 1.5 times the trace's pen (about 0.15 mm wide). 0.3-0.45 mm
#: scored alike on ecg-dev (22.0 dB); 0.2 mm let the edge in (21.6 dB); the
#: 0.6 mm used before lost 10 ms of every row's start (21.8 dB).
_START_MM = 0.35
#: How far (mV) a run of ink may stand from its row's baseline before the
#: tracker pays for the distance: ECG waves reach 2 mV routinely (deep S waves
#: in V1-V3 run through the lead labels below the baseline, tall R waves in V5),
#: and the next row's trace stands 3.5 mV away in the standard layouts (the zone
#: is kept under 70 % of the rows' spacing where they stand closer). 2.0-3.0 mV
#: scored alike on ecg-dev (22.4 dB; none: 22.3); on a competition render with a
#: deep S wave under the V2 label it took the record from 11.1 to 21.8 dB.
FREE_MV = 2.0
#: ... as a share of the rows' spacing, at most.
FREE_ROW_SHARE = 0.7
#: Cost per pixel beyond that zone: ink at the next row's baseline (3.5 mV away)
#: then costs twice as much as leaving a column out (4), so a gap in the trace
#: is bridged rather than filled with the neighbour's trace (at 0.02 it was),
#: and a trace starting in a label zone (LABEL_ZONE_COST) is not traded for the
#: neighbour's (at 0.04 the rhythm strip of a page with 0.4 mV of baseline wander
#: was read from the row above: -7.5 dB).
REF_WEIGHT = 0.08
#: Cost per column of a run lying wholly where lead labels are printed (below
#: the start of each panel; a wave passing through is longer than the zone is
#: tall and pays nothing). With a lead's own 2 mV free of the baseline prior, a
#: label's glyph no longer paid for its distance; at 1.0 the tracker took the
#: "V1" of a rotated render for the trace (13.7 dB, now 22.3). On ecg-dev 2.0
#: scored 23.24 dB, 2.5 23.16; a low-resolution render's deep S wave through its
#: label is lost from 2.5 on (24.5 -> 18.4 dB). Under the cost of leaving a column
#: out (4), so ink there is still read when nothing else is.
LABEL_ZONE_COST = 2.0
#: Where lead labels are printed, about each panel's start: from this far before
#: it ... (mm)
LABEL_ZONE_BEFORE_MM = 0.5
#: ... to this far after it (mm) ...
LABEL_ZONE_AFTER_MM = 10
#: ... from this far below the row's baseline ... (mm; a label stands apart from
#: its trace, which crosses the baseline)
LABEL_ZONE_TOP_MM = 2.5
#: ... to this far below it (mm).
LABEL_ZONE_BOTTOM_MM = 8.5
#: Below a separator bar's foot, in its columns right of the panel start, how
#: far down ink is taken for a label's glyph that touches the bar (mm) ...
#: ecg-image-kit prints the label's first letter there ("V" of "V3"), and the
#: tracker opened the lead on it rather than on the trace beside the bar
#: (ecg-dev 32946 V3 8.6 -> 21.2 dB, 33784 V4 9.5 -> 18.4). Deeper (3.5, 8.5 mm)
#: took the deep S waves that open V1-V3 below the bar too (48454 V1 -8.5 dB).
BAR_STUB_MM = 2.5
#: ... and what a run lying wholly there costs per column: with the label zone's
#: :data:`LABEL_ZONE_COST` more than leaving the column out. ecg-dev 24.20 ->
#: 24.43 dB (4: 24.37).
BAR_STUB_COST = 2.5
#: A line of printed text beyond the outer rows (ecg-image-kit's "25mm/s 10mm/mV"
#: footer 15 mm under the rhythm strip's baseline, a cart's header): a band of ink
#: the row scan refused whose profile peak stands out by this share of the
#: strongest row's (footers measure 0.17-0.31, what a removed grid leaves on
#: synthetic black-and-white pages 0.01-0.06; a real scan's grid residue can
#: reach 0.3, and is then charged like text: real-dev read the same) ...
TEXT_LINE_MIN_PROMINENCE = 0.1
#: ... lying farther from the row's baseline than this (mV at the row's gain, and
#: at least :data:`~ecgprep.digitize.layout.OUTER_LINE_MIN_MM`): beyond where the
#: row's own trace lies flat for long (a wandering baseline, an ST segment) ...
TEXT_LINE_MIN_MV = 1.0
#: ... costs a run lying wholly within this far of its centre (mm; text 2-3 mm
#: tall) ...
TEXT_LINE_HALF_MM = 2.0
#: ... this much per column: more than leaving the column out (4), so that where
#: the row's trace has a gap the tracker bridges it rather than diving into the
#: text (bwscan_turned 62039: 3.5 -> 4.9 dB). At a label's 2.0 the tracker still
#: read a line of glyphs under a 6 mm gap. A wave reaching down through the line
#: is longer than the zone is tall and pays nothing; the row's own trace lying
#: flat in the zone for long would be left out.
TEXT_LINE_COST = 4.5
#: A piece of ink beyond an outer row's reach (:func:`header_glyph_zones`) is a
#: glyph when no wider nor taller than this (mm; printed text is 2-3 mm tall) ...
GLYPH_MAX_MM = 4.0
#: ... nor shorter than this (mm): a speck, a full stop (a speckled band would
#: make thousands of zones, each charged on every run the tracker weighs) ...
GLYPH_MIN_MM = 1.0
#: ... and another such piece stands within this across (mm; the gap between
#: letters and words) at the same height: a line of text, not a lone fragment
#: of a tall wave whose stroke a thin pen left in pieces.
GLYPH_GAP_MM = 2.0
#: Boxes compared with all others at a time (:func:`header_glyph_zones`): a
#: bound on the memory the comparison takes.
_GLYPH_BLOCK = 256
#: Farthest a row's calibration pulse may stand from the level its trace keeps
#: most (mV) for the pulse to give the row's 0 mV: baseline wander moves that
#: level (by up to 0.27 mV on realistic synthetic signals), a pulse found on
#: something else would stand farther off.
PULSE_BASE_TOLERANCE_MV = 0.5
#: A reading of the whole layouts scoring above this (:func:`_score`) may be of a
#: partial page: the runs of rows of the layouts whose limb leads the law can
#: test (:func:`~ecgprep.digitize.layout.partial_layouts`) are read too.
#: A 6x2 page's top four rows read as a 3x4+1 scored 1.05 (synthetic seed 1).
PARTIAL_TRY_SCORE = 0.6
#: Share of the whole layouts' score (:func:`_score`, when over
#: :data:`PARTIAL_MAX_SCORE`) a reading without an outer row of short strokes
#: must stay under, and under :data:`PARTIAL_TRY_SCORE`, to be kept: a line of
#: header text read as a row at 100-150 dpi (real-dev's GE page: 0.90 with it,
#: 0.38-0.46 without).
TEXT_ROW_EVIDENCE = 0.6
#: Most a partial reading may score (:func:`_limb_score`) to be kept over the
#: whole layouts': its limb leads must obey the law, not merely less badly.
PARTIAL_MAX_SCORE = 0.4
#: Least share of its columns followed in every row of a page whose scan found
#: one or two rows, read as a whole layout, for it to be kept as one
#: (:func:`_whole_after_all`): a whole page read so followed 83 % and more.
WHOLE_MIN_COVERAGE = 0.5
#: Share of the whole layouts' score (by :func:`_limb_score`) a partial reading
#: must stay under to be kept: it gives fewer leads, so it must clearly fit better.
PARTIAL_EVIDENCE = 0.5
#: Largest change between a row's quarters (:func:`_quarter_change`) for it to be
#: taken for one lead printed over the row (a rhythm strip), and least for it to
#: be taken for several leads side by side: on the true signals of ecg-dev and
#: kaggle-dev, lead II over 10 s changed 0.02-0.37 in 25 of 26 records (1.92 in
#: one), rows of a 3x4 page (I, aVR, V1, V4 and so on) 0.75-2.7 in 78 of 78.
STRIP_ALIKE = 0.5
PANELS_APART = 0.7
#: How a row is cut for :func:`_quarter_change`: the 3x4 layouts' 2.5 s panels.
STRIP_QUARTERS = 4
#: Percentile of a quarter's reach above and below its median (a QRS complex's
#: extent, not one noisy sample), and the reach added to each (mV): a flat
#: quarter's tiny reaches do not make large ratios.
STRIP_REACH_PCT = 1.0
STRIP_FLOOR_MV = 0.05
#: Fewest samples of each quarter for :func:`_quarter_change` to measure.
STRIP_MIN_SAMPLES = 50
#: Shortest time (s) three limb leads of a layout must share for the law to test
#: where its rows lie (:func:`_testable`), as :func:`ecgprep.signals.limb_residual`
#: measures it.
TESTABLE_S = 1.0
#: Time step (s) at which :func:`_testable` checks the panels (a tenth of the
#: shortest panel, 2.5 s).
TESTABLE_STEP_S = 0.25
#: Score of a reading whose Einthoven residual cannot be measured
#: (:func:`_score`): that of a reading with precordial leads in the limb leads'
#: places, so a reading that obeys the law wins over it.
UNMEASURED_SCORE = 1.0
#: Share of the standard speed's Einthoven residual a faster speed's reading of a
#: cut page must stay under to be taken: a row cut by the page's edge holds as
#: many millimetres at 25 as at 50 mm/s, and only a faster reading that puts the
#: limb leads printed together in the same columns clearly obeys the law better
#: (a 12x1 page obeys it at any speed: the standard one is kept).
FAST_SPEED_EVIDENCE = 0.7
#: Beat intervals of a plausible resting heart (s: 150 down to 40 a minute).
#: Between readings at speeds the law does not tell apart, the one whose beats
#: alone fall in it is kept: a 50 mm/s page read at 25 beats half as fast (a
#: heart at 75 a minute reads 37), one at 25 read at 50 twice as fast. Both
#: may fall in it (then the standard speed stays), and the reading is flagged
#: unsure either way.
PLAUSIBLE_BEAT_S = (0.4, 1.5)
#: A reading whose trace was followed over less of some row than this (share of
#: its columns) is read again on the trace ink itself rather than its core, with
#: free gaps along steep strokes (:data:`STEEP_GAP_SHARE`): a thin pen's QRS
#: strokes break in the core and were skipped (real-dev's 300 dpi page with a
#: 1 px pen: R waves lost in every lead, 38 % of its rhythm row followed). The
#: verdict's coverage threshold: readings above it keep their core.
THIN_RETRY_COVERAGE = 0.9
#: Share of the first reading's Einthoven residual the re-read one must stay
#: under to be kept: clearly better. A thin pen's re-read measured 0.37-0.81 of
#: it (real-dev's 300 dpi page 0.81); a page rotated 15 degrees, whose rows were
#: followed poorly for another reason, 0.98, and read 0.6 dB worse.
THIN_EVIDENCE = 0.9
#: Share of the shorter of two runs' heights that a gap between them may span at
#: no cost when both are :data:`STEEP_RUN_MIN_MM` or taller: an anti-aliased 1 px
#: stroke's column runs stop a few pixels short of each other (2-11 px between
#: runs 10-26 px tall on that page).
STEEP_GAP_SHARE = 0.5
#: Least height of both runs for their gap to be free (mm): steep strokes, not a
#: flat trace's 1-3 px runs nor noise.
STEEP_RUN_MIN_MM = 0.35
#: On a page whose grid lines were removed from the mask, a steep stroke that ran
#: inside a vertical line went with it (an R wave's up-stroke in a 5 mm line):
#: a vertical gap between runs into or across such a line's columns costs this
#: share of its height. The columns: within this far of the line (mm; a 0.3 mm
#: line and a pixel either side).
HIDDEN_GAP_SHARE = 0.25
HIDDEN_HALF_MM = 0.25
#: Least height of both runs (mm) for the rows between them where a thin pen's
#: stroke lies between two columns to be crossed free (:func:`~ecgprep.digitize.ink.split_ink`):
#: steep strokes, not a flat trace's runs.
SPLIT_RUN_MIN_MM = 1.0


def label_zones(
    panel: Panel,
    base: float,
    x_origin: int,
    y_origin: int,
    px_per_mm_x: float,
    px_per_mm_y: float,
) -> tuple:
    """The label zones of a panel starting on a row of baseline ``base`` (px).

    One zone (see :func:`ecgprep.digitize.trace.follow_trace`), ``(x0, x1, y0,
    y1, cost)`` in band coordinates (page minus ``x_origin``, ``y_origin``), under
    the baseline where labels stand (:data:`LABEL_ZONE_TOP_MM` to
    :data:`LABEL_ZONE_BOTTOM_MM`); two where the panel's trace runs through it
    (:attr:`Panel.level`), above and below its level's band, so that its own
    runs, which touch that band, are not charged.
    """
    x0 = panel.x0 - x_origin - LABEL_ZONE_BEFORE_MM * px_per_mm_x
    x1 = panel.x0 - x_origin + LABEL_ZONE_AFTER_MM * px_per_mm_x
    y0 = base - y_origin + LABEL_ZONE_TOP_MM * px_per_mm_y
    y1 = base - y_origin + LABEL_ZONE_BOTTOM_MM * px_per_mm_y
    level = panel.level - y_origin
    half = 0.5 * PANEL_LEVEL_BAND_MM * px_per_mm_y
    if not y0 < level < y1:  # NaN too
        return ((x0, x1, y0, y1, LABEL_ZONE_COST),)
    return (
        (x0, x1, y0, level - half, LABEL_ZONE_COST),
        (x0, x1, level + half, y1, LABEL_ZONE_COST),
    )


def bar_stub_zones(bars: list, x_origin: int, px_per_mm_y: float) -> tuple:
    """Zones (as :func:`ecgprep.digitize.trace.follow_trace` takes them) under separator bars' feet.

    Ink hanging from a bar's foot in the new lead's columns (right of the
    panel's first column) is the first glyph of the lead's label, which
    ecg-image-kit prints touching the bar, unless it runs on beyond
    :data:`BAR_STUB_MM`: a run lying wholly there costs :data:`BAR_STUB_COST` a
    column, with the label zone's as much as leaving the column out.

    Parameters
    ----------
    bars : list of (x0, (y0, y1, b0, b1))
        Per boundary, the panel's first column (page) and the bar's rows and
        columns erased in the band (band coordinates, half-open).
    x_origin : int
        Page column of the band's column 0.
    px_per_mm_y : float

    Returns
    -------
    tuple of (x0, x1, y0, y1, cost)
    """
    return tuple(
        (max(b0, x0 - x_origin), b1, y1, y1 + BAR_STUB_MM * px_per_mm_y, BAR_STUB_COST)
        for x0, (_, y1, b0, b1) in bars
    )


#: The leads of each of Einthoven's relations (:func:`_score`).
LIMB_RELATIONS = (("I", "II", "III"), ("aVR", "aVL", "aVF"))


def _outer_reach(gain: float, px_per_mm_y: float) -> float:
    """How far from an outer row's baseline its own trace may lie flat for long (px):
    :data:`TEXT_LINE_MIN_MV` at ``gain``, and at least
    :data:`~ecgprep.digitize.layout.OUTER_LINE_MIN_MM`; text lies beyond."""
    return max(OUTER_LINE_MIN_MM, TEXT_LINE_MIN_MV * gain) * px_per_mm_y


def text_line_zones(
    row: RowInfo,
    first: bool,
    last: bool,
    text_lines: tuple,
    x_width: int,
    px_per_mm_y: float,
    gain: float,
) -> tuple:
    """Zones over the lines of text in an outer row's band beyond its baseline.

    Only the first row's band reaches a header and only the last's a footer;
    the bands between rows hold labels (:func:`label_zones`).

    Parameters
    ----------
    row : RowInfo
        The row (page coordinates), its band ``[y_top, y_bottom)``.
    first, last : bool
        The row is the page's first (text above it counts) or last (text below).
    text_lines : tuple of float
        Page rows of the bands of ink the row scan refused and that stand out
        (:data:`TEXT_LINE_MIN_PROMINENCE`).
    x_width : int
        Width of the row's band (px): the zones span it.
    px_per_mm_y : float
        Scale.
    gain : float
        The row's gain (mm/mV): text counts beyond :data:`TEXT_LINE_MIN_MV`.

    Returns
    -------
    tuple of (x0, x1, y0, y1, cost)
        Zones as :func:`label_zones` gives them (band coordinates, see
        :func:`ecgprep.digitize.trace.follow_trace`), :data:`TEXT_LINE_HALF_MM`
        either side of each line, at :data:`TEXT_LINE_COST`.
    """
    near = _outer_reach(gain, px_per_mm_y)
    half = TEXT_LINE_HALF_MM * px_per_mm_y
    zones = []
    for y in text_lines:
        if not row.y_top <= y < row.y_bottom:
            continue
        if (last and y > row.y + near) or (first and y < row.y - near):
            c = y - row.y_top
            zones.append((0.0, float(x_width), c - half, c + half, TEXT_LINE_COST))
    return tuple(zones)


def header_glyph_zones(
    band: np.ndarray,
    base: float,
    first: bool,
    last: bool,
    px_per_mm_x: float,
    px_per_mm_y: float,
    gain: float,
) -> tuple:
    """Zones over the glyphs of text in an outer row's band beyond its baseline.

    :func:`text_line_zones` covers the lines of text the row scan found, 2 mm
    either side of their profile's peak; a short line of text beside a longer
    one (GE's "Under 18?:" left of the grid, 3 mm under its header's line) falls
    outside it, and where a thin pen's trace had gaps at the row's start the
    tracker opened the lead on it. Here each piece of ink lying wholly beyond
    :data:`TEXT_LINE_MIN_MV` of the baseline (above the first row's, below the
    last row's), glyph-sized (:data:`GLYPH_MIN_MM`, :data:`GLYPH_MAX_MM`) and
    beside another one (:data:`GLYPH_GAP_MM`: text, not a lone fragment of a
    tall wave), is a zone at :data:`TEXT_LINE_COST`.

    Parameters
    ----------
    band : (M, N) bool ndarray
        The row's band of trace ink.
    base : float
        The row's baseline in the band (px).
    first, last : bool
        The row is the page's first (text above it counts) or last (text below).
    px_per_mm_x, px_per_mm_y : float
        Scale.
    gain : float
        The row's gain (mm/mV).

    Returns
    -------
    tuple of (x0, x1, y0, y1, cost)
        Zones in band coordinates (see :func:`ecgprep.digitize.trace.follow_trace`).
    """
    import cv2

    if not (first or last) or not band.any():
        return ()
    near = _outer_reach(gain, px_per_mm_y)
    n, _, stats, _ = cv2.connectedComponentsWithStats(band.view(np.uint8), connectivity=8)
    x, y, w, h = (stats[1:, k].astype(np.float64) for k in range(4))
    beyond = np.zeros(n - 1, bool)
    if first:
        beyond |= y + h <= base - near
    if last:
        beyond |= y >= base + near
    glyph = (
        beyond
        & (w <= GLYPH_MAX_MM * px_per_mm_x)
        & (h <= GLYPH_MAX_MM * px_per_mm_y)
        & (h >= GLYPH_MIN_MM * px_per_mm_y)
    )
    x, y, w, h = x[glyph], y[glyph], w[glyph], h[glyph]
    if x.size < 2:
        return ()
    gap = GLYPH_GAP_MM * px_per_mm_x
    # gaps between boxes across and overlaps down, every pair, in blocks of
    # boxes (a speckled band may hold thousands)
    keep = np.zeros(x.size, bool)
    for i in range(0, x.size, _GLYPH_BLOCK):
        a = slice(i, i + _GLYPH_BLOCK)
        across = np.maximum(x[a, None] - (x + w)[None, :], x[None, :] - (x[a] + w[a])[:, None])
        down = np.minimum((y[a] + h[a])[:, None], (y + h)[None, :]) - np.maximum(
            y[a, None], y[None, :]
        )
        beside = (across <= gap) & (down > 0)
        beside[np.arange(beside.shape[0]), np.arange(i, i + beside.shape[0])] = False
        keep[a] = beside.any(axis=1)
    return tuple(
        (float(a), float(a + b), float(c), float(c + d), TEXT_LINE_COST)
        for a, b, c, d in zip(x[keep], w[keep], y[keep], h[keep], strict=True)
    )


def _score(reading: Digitization) -> float:
    """How well a reading obeys Einthoven's law (lower is better; 1 when unmeasured).

    Each of the law's two relations (I + III = II, aVR + aVL + aVF = 0) that the
    reading cannot measure counts as :data:`UNMEASURED_SCORE`: a layout that
    reads a cut page's augmented leads off a sliver of chest leads, too short to
    measure, does not win by obeying the one relation left.
    """
    r = einthoven_residual(reading.leads)
    if not np.isfinite(r):
        return UNMEASURED_SCORE
    measured = sum(
        np.isfinite(einthoven_residual({k: reading.leads[k] for k in group if k in reading.leads}))
        for group in LIMB_RELATIONS
    )
    missing = len(LIMB_RELATIONS) - measured
    return float((r * measured + UNMEASURED_SCORE * missing) / len(LIMB_RELATIONS))


def digitize(
    image: np.ndarray,
    trace_mask: np.ndarray,
    *,
    px_per_mm_x: float,
    px_per_mm_y: float,
    layout: str = "3x4+1",
    paper_speed: float | str = PAPER_SPEED_MM_S,
    gain: float | str = GAIN_MM_PER_MV,
    signal_fs: float = DEFAULT_SIGNAL_FS,
    grid_lines_x: tuple[float, float] | None = None,
    lines_removed: bool = False,
) -> Digitization:
    """Read the 12 leads off a deskewed ECG page.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        The deskewed page (RGB, or its luma); the luma refines trace positions.
    trace_mask : (M, N) bool ndarray
        Trace ink of the same page (:func:`ecgprep.colors.separate_colors`).
    px_per_mm_x, px_per_mm_y : float
        Grid scale (:func:`ecgprep.grid.detect_grid`).
    layout : str
        Printed layout (:func:`ecgprep.standards.layout_rows`), or ``"auto"``:
        each layout printing as many trace rows as the page holds is read
        (:func:`ecgprep.digitize.layout.candidate_layouts`) and the reading that best
        obeys Einthoven's law kept. Fewer rows than any layout prints, or a
        reading that breaks the law or prints other panels than the separator
        bars show (:func:`~ecgprep.digitize.ink.panels_by_bars`): runs of rows of
        the layouts (a partial page, :func:`~ecgprep.digitize.layout.partial_layouts`),
        kept where their limb leads obey the law
        (:func:`ecgprep.signals.limb_residual`). A reading that does not
        clearly obey the law is read again without an outer row of short
        strokes (a line of text taken for a row, :data:`TEXT_ROW_EVIDENCE`).
        The rhythm strips of a ``+N`` layout named without its leads are named
        after the short panel they repeat
        (:func:`~ecgprep.digitize.convert.name_rhythm_strips`). A 6x2 (or 6x2+1)
        reading, found or named, whose rows hold at most 7 s
        (:data:`~ecgprep.digitize.blocks.BLOCK_ROW_MAX_S`) is tried as a page
        printed in two column blocks side by side, each read on its own
        (:func:`~ecgprep.digitize.blocks.read_column_blocks`).
    paper_speed : float or "auto"
        mm/s, or found from the rows' length (:func:`ecgprep.digitize.layout.paper_speed_of`);
        where the page's edge cuts the rows (:func:`~ecgprep.digitize.layout.rows_cut`)
        50 mm/s is read too and kept when it clearly better obeys Einthoven's law
        (:data:`FAST_SPEED_EVIDENCE`; speeds it does not tell apart are recorded in
        ``speeds_alike``, the one with a plausible heart rate kept).
    gain : float or "auto"
        mm/mV, or found per row from its calibration pulse (10 where no row has one).
    signal_fs : float
        Sampling rate of the returned signals.
    grid_lines_x : (float, float), optional
        ``(phase_px, period_px)`` of the vertical grid lines on which rows may
        start (:func:`ecgprep.digitize.layout.find_layout`).
    lines_removed : bool
        The grid's lines were taken out of ``trace_mask`` (black-and-white pages,
        :func:`ecgprep.degrid.remove_grid_lines`, or painted light gray before the
        page was turned upright, :func:`ecgprep.degrid.fade_grid_lines`), taking
        the trace lying inside them along: the rows' extents bridge the
        flat stretches that lay on a line (:func:`~ecgprep.digitize.page.find_trace_rows`),
        and the tracker looks for steep strokes hidden in the 5 mm lines of
        ``grid_lines_x`` (:data:`HIDDEN_GAP_SHARE`).

    Returns
    -------
    Digitization

    Raises
    ------
    LayoutError
        The layout cannot be matched.
    StageError
        No trace could be followed in some row, or ``trace_mask`` does not match ``image``.
    InvalidImageError
        ``image`` or ``trace_mask`` is not a valid image / mask.
    ValueError
        A scale, ``paper_speed``, ``gain`` or ``signal_fs`` that is not a finite
        number > 0 (nor ``"auto"`` where allowed), ``signal_fs`` above 100 kHz, or
        an unknown layout.
    """
    check_image(image, "image")
    mask = check_mask(trace_mask, "trace_mask")
    px_per_mm_x = check_scale(px_per_mm_x, "px_per_mm_x")
    px_per_mm_y = check_scale(px_per_mm_y, "px_per_mm_y")
    if gain != AUTO:
        gain = check_positive(gain, "gain")
    if paper_speed != AUTO:
        paper_speed = check_positive(paper_speed, "paper_speed")
    signal_fs = check_positive(signal_fs, "signal_fs")
    if signal_fs > _MAX_SIGNAL_FS:
        raise ValueError(f"signal_fs must be at most {_MAX_SIGNAL_FS:g} Hz, got {signal_fs!r}")
    if layout != AUTO:
        layout_rows(layout)  # an unknown name is the caller's mistake: ValueError first
    if mask.shape != image.shape[:2]:
        raise StageError(
            f"trace_mask shape {mask.shape} differs from image shape {image.shape[:2]}"
        )
    scan = find_trace_rows(
        mask, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y, lines_removed=lines_removed
    )
    names = candidate_layouts(len(scan.rows)) if layout == AUTO else (layout,)
    text_lines = tuple(
        float(c.y)
        for c in scan.candidates
        if not c.is_trace and np.isfinite(c.y) and c.prominence >= TEXT_LINE_MIN_PROMINENCE
    )
    gray = to_gray(image)
    core = trace_core(mask, gray, px_per_mm=0.5 * (px_per_mm_x + px_per_mm_y))
    line_ink = None
    if lines_removed:  # where a pulse drawn on the lines went with them
        paper = float(np.percentile(gray[::4, ::4], PAPER_PERCENTILE))
        line_ink = (gray < paper - LINE_INK_BELOW_PAPER) & ~mask
    hidden = None
    if (
        lines_removed
        and grid_lines_x is not None
        and grid_lines_x[1] > MINOR_PERIOD_MAX_MM * px_per_mm_x
    ):
        # the 5 mm lines only: a 1 mm line is no wider than most pens, and the
        # columns of every 1 mm line would make most gaps cheap
        hidden = _line_columns(mask.shape[1], *grid_lines_x, HIDDEN_HALF_MM * px_per_mm_x)
    # A thin pen's steep strokes fall between pixel columns: where, so that the
    # tracker crosses the rows between two columns' runs free.
    split = split_ink(core, gray, px_per_mm=0.5 * (px_per_mm_x + px_per_mm_y))
    # A page whose edge cuts the rows may be printed at a faster speed than their
    # length says: each faster speed is read too (see FAST_SPEED_EVIDENCE).
    speeds: tuple = (paper_speed,)
    edge = paper_right_edge(gray, mask, px_per_mm_x)
    if paper_speed == AUTO and rows_cut(scan.rows, edge, px_per_mm_x):
        speeds += tuple(v for v in PAPER_SPEEDS_MM_S if v > PAPER_SPEED_MM_S)
    context = _Context(
        mask,
        core,
        gray,
        gain,
        signal_fs,
        px_per_mm_x,
        px_per_mm_y,
        grid_lines_x,
        scan,
        hidden,
        text_lines,
        line_ink,
        edge,
        split,
    )
    partial = layout == AUTO and len(scan.rows) < min(LAYOUTS_BY_ROWS)
    guess = False
    prior: tuple[float, Digitization] | None = None
    if partial:
        # Rows of a layout: those whose first labels (I, II, III) and panels
        # (separator bars, or a strip's beats) the page shows, the most common
        # of them (one or two rows print no three limb leads together: the law
        # cannot tell which rows they are).
        counts, labels = _panel_counts(context, names[0], paper_speed)
        if lines_removed:
            # grid lines as dark as the trace went with a label's stem on a 5 mm
            # line, and their residue stands where bars would: neither is read
            counts, labels = (None,) * len(counts), ()
        names = tuple(n for n in names if _labelled(n, labels)) or names
        if None in counts or not counts:
            # where the bars do not tell: whether each row's quarters look
            # like one lead's (a strip) or not, from the most common's reading
            prior, _ = _best_reading(context, names[:1], paper_speed, speeds, _limb_score)
            if prior is not None:
                alike = _strip_like(prior[1])
                if len(counts) != len(alike):
                    counts = (None,) * len(alike)
                counts = tuple(
                    c if c is not None else a for c, a in zip(counts, alike, strict=True)
                )
        exact = tuple(n for n in names if _fits(n, counts, exact=True))
        loose = tuple(n for n in names if _fits(n, counts) and n not in exact)
        guess = len(exact or loose or names) > 1  # the rows nothing told apart
        names = (exact + loose or names)[:1]
    scorer = _limb_score if partial else _score
    if prior is not None and prior[1].layout.name == names[0]:
        best, error = prior, None  # read already, for its beats
    else:
        best, error = _best_reading(context, names, paper_speed, speeds, scorer)
    if partial:
        # A whole page whose rows were missed (noise, a faint row) reads as the
        # layout printing the fewest rows, its rows picked from the ink's
        # profile: kept where its limb leads obey the law.
        nearest = LAYOUTS_BY_ROWS[min(LAYOUTS_BY_ROWS)]
        whole, _ = _best_reading(context, nearest, paper_speed, speeds, _score)
        if whole is not None and (best is None or _whole_after_all(whole, mask, context)):
            best, scorer, partial, guess = whole, _score, False, False
    if layout == AUTO and not partial and best is not None and best[0] > PARTIAL_MAX_SCORE:
        # A reading that does not clearly obey the law, whose outer row is made
        # of short strokes: that row may be a line of text (a header at 100-150
        # dpi, its letters run together into words). Read without it, kept
        # when the law is clearly better obeyed (TEXT_ROW_EVIDENCE).
        for drop in _textlike_outer_rows(scan):
            kept = tuple(
                dataclasses.replace(c, is_trace=False, why_not="text: an outer row read without")
                if c is drop
                else c
                for c in scan.candidates
            )
            ctx2 = dataclasses.replace(context, scan=RowScan(kept, scan.profile))
            fewer = candidate_layouts(len(scan.rows) - 1)
            alt, _ = _best_reading(ctx2, fewer, paper_speed, speeds, _score)
            if alt is not None and alt[0] < min(PARTIAL_TRY_SCORE, TEXT_ROW_EVIDENCE * best[0]):
                best, context, scan = alt, ctx2, ctx2.scan
                break
    bars: tuple = ()
    if best is not None:
        bars = panels_by_bars(
            mask, best[1].layout, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y
        )
    if (
        layout == AUTO
        and not partial
        and best is not None
        and (best[0] > PARTIAL_TRY_SCORE or not _fits(best[1].layout.name, bars))
    ):
        # The whole layouts break the law, or print other panels than the
        # separator bars show: the page may hold some rows of one (a crop of a
        # 6x2 page's top four rows reads as a 3x4+1).
        windows = tuple(
            n for n in partial_layouts(len(scan.rows)) if _testable(n) and _fits(n, bars)
        )
        part, _ = _best_reading(context, windows, paper_speed, speeds, _limb_score)
        whole = _limb_score(best[1])
        if part is not None and part[0] < min(PARTIAL_MAX_SCORE, PARTIAL_EVIDENCE * whole):
            best, scorer = part, _limb_score
            bars = panels_by_bars(
                mask, part[1].layout, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y
            )
    if best is None:
        assert error is not None
        raise error
    score, reading = best
    if reading.coverage and min(reading.coverage) < THIN_RETRY_COVERAGE:
        # A thin pen's steep strokes break in the ink's core and the tracker
        # skips them (QRS complexes lost): read the rows again on the ink itself,
        # small gaps along steep strokes free, and keep that reading when it
        # clearly better obeys Einthoven's law (THIN_EVIDENCE). The ink is read
        # as it is and with its dashes stacked along a stroke joined
        # (STACKED_GAP_MM: +1.5 to +4 dB on real_cases' 1 px pens, but 3 dB
        # lost on a JPEG of real-dev's GE raster, whose ringing it joins too);
        # of the two, the one the law prefers.
        joined = stacked_joined(
            mask,
            int(round(STACKED_GAP_MM * px_per_mm_y)),
            SPECK_MM * min(px_per_mm_x, px_per_mm_y),
        )
        thins = [
            _read(
                dataclasses.replace(context, core=core),
                reading.layout,
                (reading.layout.name,),
                steep_gap=(STEEP_GAP_SHARE, STEEP_RUN_MIN_MM * px_per_mm_y),
            )[0]
            for core in (mask, joined)
        ]
        scored = [(scorer(r), -min(r.coverage, default=0.0), i) for i, r in enumerate(thins)]
        thin_score, _, best_i = min(scored)
        thin = thins[best_i]
        better = thin_score < THIN_EVIDENCE * score
        measured = np.isfinite(limb_residual(reading.leads)) or np.isfinite(
            limb_residual(thin.leads)
        )
        if not measured:
            # the law cannot judge (a partial page): the reading that followed
            # more of its worst-followed row
            better = bool(thin.coverage) and min(thin.coverage) > min(reading.coverage)
        if better:
            reading = dataclasses.replace(thin, speeds_alike=reading.speeds_alike)
    reading = dataclasses.replace(
        reading, lines_removed=bool(lines_removed), panel_bars=bars, rows_guessed=guess
    )
    named = layout.split(":", 1)[0]
    if (layout == AUTO or named in BLOCK_LAYOUTS) and blocks_in_doubt(reading, mask.shape[1]):
        # A 6x2 page printed as two column blocks: the rows found are the left
        # block's, holding half the record (see ecgprep.digitize.blocks).
        speed, found = (
            block_speed(reading, px_per_mm_x) if paper_speed == AUTO else (paper_speed, True)
        )

        def read_block(x0: int, x1: int, y0: int, y1: int, name: str, at_speed: float):
            lines = grid_lines_x
            if lines is not None:
                lines = ((lines[0] - x0) % lines[1], lines[1])
            return digitize(
                image[y0:y1, x0:x1],
                mask[y0:y1, x0:x1],
                px_per_mm_x=px_per_mm_x,
                px_per_mm_y=px_per_mm_y,
                layout=name,
                paper_speed=at_speed,
                gain=gain,
                signal_fs=signal_fs,
                grid_lines_x=lines,
                lines_removed=lines_removed,
            )

        joined = read_column_blocks(
            reading,
            mask.shape,
            read_block,
            px_per_mm_x=px_per_mm_x,
            px_per_mm_y=px_per_mm_y,
            paper_speed=speed,
            speed_found=found,
        )
        if joined is not None:
            return joined
    return reading


def _line_columns(width: int, phase: float, period: float, half: float) -> np.ndarray:
    """(width,) bool: the columns within ``half`` px of a vertical grid line
    (lines at ``phase + k * period``)."""
    x = np.arange(width, dtype=np.float64)
    d = np.mod(x - phase, period)
    return np.minimum(d, period - d) <= half


def _plausible_speed(
    kept: tuple[float, Digitization], others: list[tuple[float, Digitization]]
) -> tuple[float, Digitization]:
    """Of ``(score, reading)`` pairs at speeds Einthoven's law does not tell apart,
    the one whose heart beats at a plausible rate (:data:`PLAUSIBLE_BEAT_S`) when it
    alone does; ``kept`` otherwise. The other speeds stay recorded (``speeds_alike``)."""
    pairs = [kept, *others]
    lo, hi = PLAUSIBLE_BEAT_S
    fits = [pair for pair in pairs if lo <= beat_interval(pair[1].leads) <= hi]
    score, pick = fits[0] if len(fits) == 1 else kept
    alike = tuple(r.paper_speed for _, r in pairs if r is not pick)
    return score, dataclasses.replace(pick, speeds_alike=alike)


def _in_zones(track: _Track, zones: tuple, x_origin: int, y_origin: int) -> np.ndarray:
    """Which points of ``track`` (page coordinates) were read from a run of ink
    reaching into one of its band's ``zones`` (band coordinates, as
    :func:`~ecgprep.digitize.trace.follow_trace` takes them)."""
    out = np.zeros(track.x.size, dtype=bool)
    x = track.x - x_origin
    top, bottom = track.top - y_origin, track.bottom - y_origin
    for zx0, zx1, zy0, zy1, _ in zones:
        out |= (x >= zx0) & (x < zx1) & (top < zy1) & (bottom > zy0)
    return out


def _follow_row(
    row: RowInfo,
    band: np.ndarray,
    gband: np.ndarray,
    base_b: float,
    zones: tuple,
    free_px: float,
    xa: int,
    steep_gap: tuple[float, float] = (0.0, 0.0),
    hidden: np.ndarray | None = None,
    split: np.ndarray | None = None,
    split_min: float = 0.0,
) -> tuple[_Track, TracePoints]:
    """Follow one row's trace in its band: the track (page coordinates) and its points.

    ``band`` and ``gband`` are the row's mask and luma from column ``xa`` and row
    ``row.y_top``; ``base_b`` its baseline in the band; ``zones``, ``free_px``,
    ``hidden``, ``split`` (the band's, :func:`~ecgprep.digitize.ink.split_ink`)
    and ``split_min`` as :func:`ecgprep.digitize.trace.trace_points` takes them.
    """
    pts = trace_points(
        band,
        gband,
        y_ref=base_b,
        zones=zones,
        ref_free=free_px,
        ref_weight=REF_WEIGHT,
        steep_gap=steep_gap,
        hidden=hidden,
        hidden_share=HIDDEN_GAP_SHARE,
        split=split,
        split_min=split_min,
    )
    if pts.x.size < 2:
        raise StageError(f"no trace could be followed in row {row.index} (y = {row.y:.0f} px)")
    y_abs = pts.y + row.y_top
    base = _mode(y_abs)
    return _Track(pts.x + xa, y_abs, pts.top + row.y_top, pts.bottom + row.y_top, base), pts


@dataclass(frozen=True)
class _Context:
    """What every reading of one page shares: the trace mask, ``core`` (the ink
    the tracker follows), the luma, the options, ``hidden`` ((N,) bool, the
    page's columns where a grid line removed from the mask may hide a steep
    stroke, or None), ``text_lines`` (page rows of the lines of text beyond the
    outer rows, :func:`text_line_zones`) and ``line_ink`` (grid-line ink taken
    out of the mask, or None, :func:`~ecgprep.digitize.pulses.find_calibration_pulses`)
    and ``paper_x1`` (where the paper ends on the right,
    :func:`~ecgprep.digitize.layout.paper_right_edge`) and ``split`` (where a
    thin pen's stroke lies between two columns, :func:`~ecgprep.digitize.ink.split_ink`,
    or None)."""

    mask: np.ndarray
    core: np.ndarray
    gray: np.ndarray
    gain: float | str
    signal_fs: float
    px_per_mm_x: float
    px_per_mm_y: float
    grid_lines_x: tuple[float, float] | None
    scan: Any
    hidden: np.ndarray | None
    text_lines: tuple
    line_ink: np.ndarray | None
    paper_x1: float
    split: np.ndarray | None = None


def _geometry(name: str) -> tuple:
    """The panels' times, row by row, of a layout: layouts alike in them read alike."""
    return tuple(tuple((t0, dur) for _, t0, dur in row) for row in layout_rows(name))


def _testable(name: str) -> bool:
    """Whether three or more limb leads of the layout ``name`` share a time span of
    :data:`TESTABLE_S` (:func:`ecgprep.signals.limb_residual` can measure it)."""
    steps = np.arange(0.0, RECORD_SECONDS, TESTABLE_STEP_S) + 0.5 * TESTABLE_STEP_S
    leads = [set() for _ in steps]
    for row in layout_rows(name):
        for lead, t0, dur in row:
            if lead in LIMB_BASIS:
                for k in np.flatnonzero((steps >= t0) & (steps < t0 + dur)):
                    leads[k].add(lead)
    shared = np.array([len(s) >= 3 for s in leads])
    return bool(shared.sum() * TESTABLE_STEP_S >= TESTABLE_S)


def _whole_after_all(whole: tuple[float, Digitization], mask: np.ndarray, ctx: _Context) -> bool:
    """Whether a page whose scan found one or two rows is a whole page after all:
    its reading as the layout printing the fewest rows obeys the law
    (:data:`PARTIAL_MAX_SCORE`), follows ink in every row it picked
    (:data:`WHOLE_MIN_COVERAGE`) and prints the panels the bars show. A crop's
    invented third row scored 0.36-0.55, followed over 13-33 %."""
    score, reading = whole
    if score > PARTIAL_MAX_SCORE or min(reading.coverage, default=0.0) < WHOLE_MIN_COVERAGE:
        return False
    bars = panels_by_bars(
        mask, reading.layout, px_per_mm_x=ctx.px_per_mm_x, px_per_mm_y=ctx.px_per_mm_y
    )
    return _fits(reading.layout.name, bars)


def _panel_counts(ctx: _Context, name: str, paper_speed: float | str) -> tuple[tuple, tuple]:
    """Per row of the page, how many panels its separator bars say it prints
    (:func:`~ecgprep.digitize.ink.panels_by_bars`), and the limb lead its first
    label names (:func:`~ecgprep.digitize.ink.limb_labels`); rows found as for
    the layout ``name``, None where they do not tell."""
    try:
        lay = find_layout(
            ctx.mask,
            px_per_mm_x=ctx.px_per_mm_x,
            px_per_mm_y=ctx.px_per_mm_y,
            layout=name,
            paper_speed=paper_speed,
            grid_lines_x=ctx.grid_lines_x,
            scan=ctx.scan,
            paper_x1=ctx.paper_x1,
        )
    except LayoutError:
        return (), ()
    scale = {"px_per_mm_x": ctx.px_per_mm_x, "px_per_mm_y": ctx.px_per_mm_y}
    return panels_by_bars(ctx.mask, lay, **scale), limb_labels(ctx.mask, lay, **scale)


def _labelled(name: str, labels: tuple) -> bool:
    """Whether each row of the layout ``name`` starts with the lead its label
    names (:func:`_panel_counts`; None: any)."""
    rows = layout_rows(name)
    if len(labels) != len(rows):
        return True
    return all(lab is None or row[0][0] == lab for lab, row in zip(labels, rows, strict=True))


def _fits(name: str, counts: tuple, *, exact: bool = False) -> bool:
    """Whether the rows of the layout ``name`` print the panels ``counts`` says
    (:func:`_panel_counts`, :func:`_strip_like`; None: any; -1: more than one).
    Unless ``exact``, a strip where the bars say two panels fits: a QRS complex
    standing at 5 s passes for the one bar between a 6x2 row's panels
    (:func:`~ecgprep.digitize.ink.panels_by_bars`)."""
    rows = layout_rows(name)
    if len(counts) != len(rows):
        return True
    return all(
        c is None
        or c == len(row)
        or (c == -1 and len(row) > 1)
        or (not exact and c == 2 and len(row) == 1)
        for c, row in zip(counts, rows, strict=True)
    )


def _quarter_change(values: np.ndarray) -> float:
    """The largest change, between neighbouring quarters of a row's signal, of
    how far it reaches above and below its median (log ratio, :data:`STRIP_FLOOR_MV`
    added to each reach): one lead keeps its beats' size and sign, four leads
    (I, aVR, V1, V4) change them."""
    parts = [q[np.isfinite(q)] for q in np.array_split(values, STRIP_QUARTERS)]
    if any(q.size < STRIP_MIN_SAMPLES for q in parts):
        return float("nan")
    reach = []
    for q in parts:
        m = np.median(q)
        hi, lo = np.percentile(q, [100 - STRIP_REACH_PCT, STRIP_REACH_PCT])
        reach.append((hi - m + STRIP_FLOOR_MV, m - lo + STRIP_FLOOR_MV))
    return float(
        max(
            max(abs(np.log(a[0] / b[0])), abs(np.log(a[1] / b[1])))
            for a, b in zip(reach[:-1], reach[1:], strict=True)
        )
    )


def _strip_like(reading: Digitization) -> tuple:
    """Per row of a reading, 1 where its quarters look like one lead's (a strip:
    :func:`_quarter_change` under :data:`STRIP_ALIKE`), -1 where they change as
    between leads (over :data:`PANELS_APART`), None between or where unread."""
    out = []
    lay = reading.layout
    for row in lay.rows:
        pieces = []
        for p in sorted((p for p in lay.panels if p.row == row.index), key=lambda p: p.t0_s):
            sig = reading.leads.get(p.lead)
            if sig is None:
                pieces = []
                break
            i0 = int(round((p.t0_s - sig.start_s) * sig.fs))
            i1 = int(round((p.t0_s + p.duration_s - sig.start_s) * sig.fs))
            pieces.append(np.asarray(sig.values)[max(0, i0) : max(0, i1)])
        change = _quarter_change(np.concatenate(pieces)) if pieces else float("nan")
        out.append(1 if change < STRIP_ALIKE else -1 if change > PANELS_APART else None)
    return tuple(out)


def _textlike_outer_rows(scan) -> list:
    """The first and last trace rows of ``scan`` when made of short strokes
    (:data:`~ecgprep.digitize.page.LONG_SHARE`), with three rows or more left."""
    rows = scan.rows
    if len(rows) < 4:
        return []
    return [
        r for r in (rows[0], rows[-1]) if np.isfinite(r.long_share) and r.long_share < LONG_SHARE
    ]


def _limb_score(reading: Digitization) -> float:
    """How far a reading's limb leads are from the plane they must span (lower is
    better; :data:`UNMEASURED_SCORE` when no three are printed together):
    :func:`ecgprep.signals.limb_residual`, scaled as :func:`_score`."""
    r = limb_residual(reading.leads)
    return float(np.sqrt(3.0) * r) if np.isfinite(r) else UNMEASURED_SCORE


def _best_reading(
    ctx: _Context,
    names: tuple[str, ...],
    paper_speed: float | str,
    speeds: tuple,
    scorer,
) -> tuple[tuple[float, Digitization] | None, LayoutError | None]:
    """The best ``(score, reading)`` of the layouts ``names`` at each of ``speeds``
    (by ``scorer``, lower is better), and the first layout error met. Layouts
    whose panels lie alike (rows of different layouts) are read once and named
    each way."""
    groups: dict[tuple, list[str]] = {}
    for name in names:
        groups.setdefault(_geometry(name), []).append(name)
    read: dict[str, list[tuple[float, Digitization]]] = {name: [] for name in names}
    error: LayoutError | None = None
    for group in groups.values():
        for speed in speeds:
            try:
                lay = find_layout(
                    ctx.mask,
                    px_per_mm_x=ctx.px_per_mm_x,
                    px_per_mm_y=ctx.px_per_mm_y,
                    layout=group[0],
                    paper_speed=speed,
                    grid_lines_x=ctx.grid_lines_x,
                    scan=ctx.scan,
                    paper_x1=ctx.paper_x1,
                )
            except LayoutError as exc:
                error = error or exc
                continue
            if speed != paper_speed and not lay.cut:
                continue
            for name, reading in zip(group, _read(ctx, lay, tuple(group)), strict=True):
                read[name].append((scorer(reading), reading))
    # (score, reading): each reading is scored once
    best: tuple[float, Digitization] | None = None
    for name in names:
        chosen: tuple[float, Digitization] | None = None
        for pair in read[name]:
            if chosen is None or pair[0] < FAST_SPEED_EVIDENCE * chosen[0]:
                chosen = pair
        if chosen is None:
            continue
        # Speeds the law does not tell apart (a 12x1 or 6x2 page prints its limb
        # leads together at any speed): the one kept is unsure.
        alike = [
            (sc, r)
            for sc, r in read[name]
            if r is not chosen[1] and sc < chosen[0] / FAST_SPEED_EVIDENCE
        ]
        if alike:
            chosen = _plausible_speed(chosen, alike)
        if best is None or chosen[0] < best[0]:
            best = chosen
    return best, error


def _named(lay: LayoutResult, name: str) -> LayoutResult:
    """``lay`` with the leads of the layout ``name``, whose panels lie alike."""
    if name == lay.name:
        return lay
    spec = layout_rows(name)
    seen: dict[int, int] = {}
    panels = []
    for p in lay.panels:
        k = seen.get(p.row, 0)
        seen[p.row] = k + 1
        panels.append(dataclasses.replace(p, lead=spec[p.row][k][0]))
    return dataclasses.replace(lay, name=name, panels=tuple(panels))


def _read(
    ctx: _Context,
    lay: LayoutResult,
    names: tuple[str, ...],
    *,
    steep_gap: tuple[float, float] = (0.0, 0.0),
) -> list[Digitization]:
    """Pulses, traces and mV of one layout matched on the page, named as each of
    the layouts ``names`` (whose panels lie as ``lay``'s), one reading each
    (``steep_gap`` as :func:`~ecgprep.digitize.trace.follow_trace` takes it)."""
    mask, core, gray, gain = ctx.mask, ctx.core, ctx.gray, ctx.gain
    px_per_mm_x, px_per_mm_y = ctx.px_per_mm_x, ctx.px_per_mm_y
    hidden, text_lines, line_ink = ctx.hidden, ctx.text_lines, ctx.line_ink
    signal_fs = ctx.signal_fs
    pulses = find_calibration_pulses(
        mask, lay, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y, gain=gain, line_ink=line_ink
    )
    gains, gain_found = _row_gains(pulses, gain)
    mask = remove_labels(core, lay, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    mask = mend_label_gaps(mask, core & ~mask, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    px_per_s = lay.px_per_s
    w = mask.shape[1]
    readings: list[tuple[Panel, LeadSignal]] = []
    spacing = float(np.min(np.diff([r.y for r in lay.rows]))) if len(lay.rows) > 1 else float("inf")
    baselines = []
    coverage = []
    widths = []
    tracks: list[_Track] = []
    bands: list[tuple] = []
    bars: list[list] = []  # per row: (panel start, bar erased) per boundary
    hiddens: list = []  # per row: its band's hidden columns, or None
    splits: list = []  # per row: its band's split ink, or None
    split_min = SPLIT_RUN_MIN_MM * px_per_mm_y
    for row, row_gain in zip(lay.rows, gains, strict=True):
        free_px = min(FREE_MV * row_gain * px_per_mm_y, FREE_ROW_SHARE * spacing)
        panels = [p for p in lay.panels if p.row == row.index]
        xa = int(np.clip(np.floor(row.x_start + _START_MM * px_per_mm_x), 0, w - 1))
        xb = int(np.clip(np.ceil(row.x_end), xa + 1, w))
        band = mask[row.y_top : row.y_bottom, xa:xb].copy()
        # Separator ticks stand on the boundaries between panels: remove them,
        # keeping the trace that passes above or below.
        row_bars = []
        for p in panels[1:]:
            erased = _remove_tick(band, p.x0 - xa, px_per_mm_x, px_per_mm_y)
            if erased is not None:
                row_bars.append((p.x0, erased))
        bars.append(row_bars)
        # Lead labels are printed below the start of each panel: discourage the
        # tracker from wandering into them where they touch the trace
        # (LABEL_ZONE_COST), its own row's and the row above's (which stand
        # in this row's band, above its waves).
        base_b = row.y - row.y_top
        above = [p for p in lay.panels if p.row == row.index - 1]
        zones = tuple(
            zone
            for p in panels + above
            for zone in label_zones(p, lay.rows[p.row].y, xa, row.y_top, px_per_mm_x, px_per_mm_y)
        )
        zones = zones + bar_stub_zones(row_bars, xa, px_per_mm_y)
        first, last = row.index == 0, row.index == len(lay.rows) - 1
        zones = zones + text_line_zones(
            row, first, last, text_lines, xb - xa, px_per_mm_y, row_gain
        )
        zones = zones + header_glyph_zones(
            band, base_b, first, last, px_per_mm_x, px_per_mm_y, row_gain
        )
        bands.append((band, gray[row.y_top : row.y_bottom, xa:xb], base_b, zones, free_px, xa))
        hiddens.append(None if hidden is None else hidden[xa:xb])
        splits.append(None if ctx.split is None else ctx.split[row.y_top : row.y_bottom, xa:xb])
    # A stroke just after a panel boundary that joins one row's baseline and not
    # the other's is that row's: the other does not take it (a deep S wave
    # reaching down to the next row, where that row's own trace starts below).
    for k, (ys_, xs_) in enumerate(
        foreign_strokes(mask, lay, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    ):
        band, _, _, _, _, xa = bands[k]
        yb, xb = ys_ - lay.rows[k].y_top, xs_ - xa
        inside = (yb >= 0) & (yb < band.shape[0]) & (xb >= 0) & (xb < band.shape[1])
        band[yb[inside], xb[inside]] = False
    for row, spec, hid, spl in zip(lay.rows, bands, hiddens, splits, strict=True):
        track, pts = _follow_row(
            row, *spec, steep_gap=steep_gap, hidden=hid, split=spl, split_min=split_min
        )
        baselines.append(track.base)
        coverage.append(pts.coverage)
        widths.append(pts.line_width)
        tracks.append(track)
    # A row denied strokes that are its neighbour's looks again without them: its
    # own wave may lie under what it took (a deep S at a panel's start, below
    # the row above's).
    keep = own_strokes(tracks, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    again = [k for k, kept in enumerate(keep) if not kept.all()]
    for k in again:
        band, gband, base_b, zones, free_px, xa = bands[k]
        row, t, lost = lay.rows[k], tracks[k], ~keep[k]
        cols = np.round(t.x[lost]).astype(np.int64) - xa
        tops, bots = t.top[lost] - row.y_top, t.bottom[lost] - row.y_top
        for c, a0, b0 in zip(cols, tops, bots, strict=True):
            band[int(a0) : int(b0), c] = False
        tracks[k], pts = _follow_row(
            row,
            band,
            gband,
            base_b,
            zones,
            free_px,
            xa,
            steep_gap=steep_gap,
            hidden=hiddens[k],
            split=splits[k],
            split_min=split_min,
        )
        baselines[k] = tracks[k].base
        coverage[k] = pts.coverage
        widths[k] = pts.line_width
    if again:
        keep = own_strokes(tracks, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    # A lead that starts on a steep stroke the separator bar hid: its start is
    # the stroke's visible end beyond the bar.
    for k, row in enumerate(lay.rows):
        band, xa = bands[k][0], bands[k][5]
        tracks[k], keep[k] = through_bars(
            tracks[k],
            keep[k],
            band,
            bars[k],
            x_origin=xa,
            y_origin=row.y_top,
            px_per_mm_y=px_per_mm_y,
            line_width=widths[k],
        )
    # A row's 0 mV level: where its calibration pulse rises from, when one was
    # found near the level its trace keeps; else that level (the trace's mode).
    for k, (pulse, row_gain) in enumerate(zip(pulses, gains, strict=True)):
        near = PULSE_BASE_TOLERANCE_MV * row_gain * px_per_mm_y
        if pulse.found and abs(pulse.baseline_px - tracks[k].base) <= near:
            baselines[k] = pulse.baseline_px
    # Points read from ink that may not be the row's alone: a stroke its
    # neighbour's track read too, or a run reaching where labels and text stand.
    not_own = [
        sh | _in_zones(track, spec[3], spec[5], row.y_top)
        for sh, track, spec, row in zip(shared_points(tracks), tracks, bands, lay.rows, strict=True)
    ]
    doubts: list[np.ndarray] = []  # per reading: its samples not read from its own ink
    for row, row_gain, track, kept, lw, base, row_bars, sh in zip(
        lay.rows, gains, tracks, keep, widths, baselines, bars, not_own, strict=True
    ):
        px_per_mv = row_gain * px_per_mm_y
        panels = [p for p in lay.panels if p.row == row.index]
        barred = [x for x, _ in row_bars]
        guard_s = (0.5 * lw + 0.5) / px_per_s
        # Pixel (column) c covers [c, c + 1): its centre is c + 0.5.
        t = (track.x[kept] + 0.5 - row.x_start) / px_per_s
        v = (base - track.y[kept]) / px_per_mv
        t_doubt = t[sh[kept]]
        for p in panels:
            n = int(round(p.duration_s * signal_fs))
            ts = p.t0_s + np.arange(n) / signal_fs
            # Columns within half a stroke of a boundary between two panels
            # hold ink of both leads: left out (the ends are extrapolated).
            g0 = guard_s if p.t0_s > 0 else 0.0
            g1 = guard_s if p.t0_s + p.duration_s < lay.record_s - 1e-9 else 0.0
            sel = (t >= p.t0_s + g0) & (t < p.t0_s + p.duration_s - g1)
            # a separator bar hid the ends it stands on: they are filled from
            # the panel's own beats
            hid = tuple(any(abs(x - e) < 1.0 for x in barred) for e in (p.x0, p.x1))
            vals = _panel_values(ts, t[sel], v[sel], fill=hid)
            reach = _BRIDGE_PX / px_per_s
            gap = _bridged(ts, t[sel], reach)
            bridged = gap.sum() / signal_fs
            sig = LeadSignal(p.lead, vals, float(signal_fs), float(p.t0_s), float(bridged))
            readings.append((p, sig))
            doubts.append(doubtful_samples(ts, t[sel], t_doubt, reach_s=reach, bridged=gap))
    out = []
    for name in names:
        lay_n = _named(lay, name)
        named = [
            (q, LeadSignal(q.lead, sig.values, sig.fs, sig.start_s, sig.bridged_s))
            for q, (_, sig) in zip(lay_n.panels, readings, strict=True)
        ]
        # The strips of a row window stay as named: the short panel of their
        # lead is mostly not on the page, and another lead (aVF for II) passes.
        n_rhythm = 0 if ":" in name or "[" in name else rhythm_count(name)
        named, strips = name_rhythm_strips(named, n_rhythm)
        named = align_rhythm_strips(named, rhythm_count(name))
        if n_rhythm:
            lay_n = dataclasses.replace(
                lay_n,
                name=f"{name}:{','.join(strips)}",
                panels=tuple(p for p, _ in named),
            )
        out.append(
            Digitization(
                leads=_assemble(named),
                segments=tuple(zip((sig for _, sig in named), doubts, strict=True)),
                layout=lay_n,
                pulses=pulses,
                baselines=tuple(baselines),
                line_width_px=float(np.median(widths)),
                coverage=tuple(coverage),
                paper_speed=float(lay.paper_speed),
                gain=float(np.median(gains)) if gains else GAIN_MM_PER_MV,
                row_gains=tuple(gains),
                gain_found=gain_found,
            )
        )
    return out


def digitize_station(page: Page, opts: Options) -> tuple[Page, Digitization]:
    """Digitize station: the 12 leads of the upright page (read turned by 180 degrees if need be).

    Panel ends in doubt are then filled from the leads' own beats
    (:func:`ends_filled_from_beats`), the Einthoven residual measured, and
    limb-lead samples in doubt mended by the law (:func:`mended_by_law`, unless
    ``opts.law_mend`` is False).

    The recorded result is the :class:`Digitization` without its leads (they
    travel in the page, and from there in the image's result).
    """
    from ..orient import read_upright

    g = page.grid
    lines = None
    if g is not None and np.isfinite(g.phase_x):
        period = (MAJOR_MM if g.major_found else MINOR_MM) * g.px_per_mm_x
        lines = (float(g.phase_x), float(period))

    def read(image: np.ndarray, mask: np.ndarray) -> Digitization:
        grid_lines_x = lines
        if lines is not None and image is not page.image:
            # read turned by 180 degrees: the line on pixel column p stands on
            # column W - 1 - p there (the phase is a pixel index)
            grid_lines_x = ((image.shape[1] - 1 - lines[0]) % lines[1], lines[1])
        return digitize(
            image,
            mask,
            px_per_mm_x=g.px_per_mm_x,
            px_per_mm_y=g.px_per_mm_y,
            layout=opts.layout,
            paper_speed=opts.paper_speed,
            gain=opts.gain,
            signal_fs=opts.signal_fs,
            grid_lines_x=grid_lines_x,
            lines_removed=page.lines_removed,
        )

    dig, turns, _, r1 = read_upright(read, page.image, page.trace_mask)
    dig = ends_filled_from_beats(dig)
    # the kept reading's own Einthoven residual (NaN on some rows without I, II
    # and III: the verdict tests their limb leads itself), as read from the
    # leads' own ink and beats: before the law mends it
    residual = einthoven_residual(dig.leads)
    if opts.law_mend:
        dig = mended_by_law(dig)
    small = dataclasses.replace(
        dig,
        leads={},
        segments=(),
        quarter_turns=turns,
        einthoven=residual,
        einthoven_turned=r1,
    )
    return dataclasses.replace(page, leads=dict(dig.leads)), small


def mended_by_law(reading: Digitization) -> Digitization:
    """``reading`` with its limb leads' samples in doubt mended by Einthoven's law.

    The samples its tracks did not read from ink of their own (its
    ``segments``) that the limb leads printed at the same times outvote take
    their value (:func:`~ecgprep.digitize.law.mend_by_law`); the leads changed
    and the times mended are in ``mended``.

    Parameters
    ----------
    reading : Digitization

    Returns
    -------
    Digitization
    """
    if not reading.segments:
        return reading
    law = mend_by_law([sig for sig, _ in reading.segments], [d for _, d in reading.segments])
    if not law.total:
        return reading
    leads, mended = _changed(reading, law.signals, law.mended)
    return dataclasses.replace(reading, leads=leads, mended=mended)


def ends_filled_from_beats(reading: Digitization) -> Digitization:
    """``reading`` with its panels' ends in doubt filled from their own beats.

    Timed by the longest lead's beats (a rhythm strip), each panel's first and
    last samples not read from ink take the shape of the lead's other beats at
    the same phase (:func:`~ecgprep.digitize.beats.ends_from_beats`); the leads
    and segments changed, and the times filled are in ``filled``.

    Parameters
    ----------
    reading : Digitization

    Returns
    -------
    Digitization
    """
    if not reading.segments:
        return reading
    doubts = [doubt for _, doubt in reading.segments]
    fill = ends_from_beats([sig for sig, _ in reading.segments], doubts)
    if not fill.total:
        return reading
    leads, filled = _changed(reading, fill.signals, fill.filled)
    segments = tuple(zip(fill.signals, doubts, strict=True))
    return dataclasses.replace(reading, leads=leads, segments=segments, filled=filled)


def _changed(reading: Digitization, signals: tuple, which: tuple) -> tuple[dict, tuple]:
    """The reading's leads with the segments ``signals`` changed where ``which``
    says, and per lead changed its spans ``(t0, t1)`` (s)."""
    leads = dict(reading.leads)
    spans_of = []
    for (old, _), new, where in zip(reading.segments, signals, which, strict=True):
        kept = leads.get(old.name)
        if not where.any() or kept is None or kept.values.size != old.values.size:
            continue
        fs = float(old.fs)
        if abs(float(kept.start_s) - float(old.start_s)) > 0.5 / fs:
            continue  # another segment of the lead is the one kept
        leads[old.name] = dataclasses.replace(kept, values=new.values)
        edges = np.diff(np.concatenate(([0], where.astype(np.int8), [0])))
        runs = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
        t0 = float(kept.start_s)
        spans_of.append((old.name, tuple((t0 + int(a) / fs, t0 + int(b) / fs) for a, b in runs)))
    return leads, tuple(spans_of)
