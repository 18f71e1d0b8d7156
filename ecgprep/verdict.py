"""The verdict: may a reading be trusted, per image and per lead?

A reading can come back with 12 leads and still be wrong: a mirrored or
colour-inverted page, rows read from text, a gain that does not match the print.
:func:`judge` looks at what the stations measured on the way (the Einthoven
residual of the limb leads, how much of each row the tracker followed, the grid's
confidence, the quality gates, the calibration pulses, how much of the page the
rows cover, which leads came back) and returns a :class:`Verdict`: a confidence in
[0, 1], a ``suspect`` flag and the readable reasons for it, and a confidence per
lead. An image that failed gets :meth:`Verdict.failure`: confidence 0, suspect,
and its error as the reason.

``suspect`` means "do not use this reading without looking at it": at least one
measurement says the reading is wrong (or incomplete), not merely imperfect.
``confidence`` ranks readings; a suspect reading's confidence is at most
:data:`SUSPECT_MAX_CONFIDENCE`.

Every threshold below was set on measured readings, not guessed:
``benchmarks/verdict_calibration.py`` reads 64 synthetic readings with exact truth
(clean, photo-like, low resolution, and spoiled: inverted, mirrored, two pages
side by side, bilevel, heavy blur, wrong layout or gain), the 24 renders of an
evaluation folder with truth, and real printouts without truth, and prints each
reading's SNR next to these measurements (see the README, "The verdict").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .digitize.pulses import PULSE_GAIN_TOLERANCE, standard_gain
from .signals import einthoven_residual
from .standards import AUTO, GAIN_MM_PER_MV, LEADS, PULSE_MV

__all__ = [
    "Verdict",
    "judge",
    "judge_result",
    "verdict_of",
    "lead_confidence_frame",
    "lead_verdict_frame",
    "EINTHOVEN_SUSPECT",
    "GRID_SUSPECT",
    "COVERAGE_SUSPECT",
    "SPAN_SUSPECT",
    "INK_EXCESS_SUSPECT",
    "LAYOUT_SUSPECT",
    "QUALITY_FAR_BELOW",
    "SUSPECT_MAX_CONFIDENCE",
]

# ----------------------------------------------------------------- suspect rules

#: Einthoven residual (:func:`~ecgprep.signals.einthoven_residual`, unitless: residual
#: rms over signal rms) above which the limb leads contradict each other. Measured:
#: readings above 15 dB 0.01-0.20 (up to 0.45 at 7-13 dB); readings below 5 dB
#: (mirrored, inverted, bilevel, wrong layout) and the real printouts read wrong
#: 0.70-1.42 (the rest, 0.02-0.45, are caught by the other rules). The same bound
#: makes the digitize station try the page upside down
#: (:data:`ecgprep.orient.EINTHOVEN_SUSPECT`).
EINTHOVEN_SUSPECT = 0.5
#: Grid confidence (0-1, :attr:`~ecgprep.grid.GridResult.confidence`) below which the
#: scale is doubtful. The grid counts as found from 0.35; readings above 15 dB had
#: 0.92-1.0 (two pages side by side 0.65), a page blurred beyond reading 0.44.
GRID_SUSPECT = 0.5
#: Fraction of a row's columns where the tracker followed ink, below which that row
#: was not read. Measured: readings above 15 dB 0.98-0.99 in every row; colour-inverted
#: pages 0.81, a 0.1 mm pen 0.67 (2 dB), blur that ruins the reading 0.87-0.90, real
#: scans read wrong 0.12-0.74.
COVERAGE_SUSPECT = 0.9
#: Fraction of the page's width the rows span, below which much of the page was not
#: read. A 10 s row spans 250 mm: 0.83-0.92 of every page measured, 0.45 of two
#: pages side by side, but also 0.55 of a page read right inside a wide white border
#: (23 dB): so the page must also hold far more trace ink than the rows explain
#: (:data:`INK_EXCESS_SUSPECT`).
SPAN_SUSPECT = 0.6
#: Trace ink pixels on the page per pixel of pen along the rows read (rows x row
#: length x stroke width): slopes, QRS complexes, labels and pulses make it about 5
#: (3.6-8.1 on the right readings measured, median 5.0).
INK_PER_ROW_TYPICAL = 5.0
#: Trace ink over :data:`INK_PER_ROW_TYPICAL` times what the rows explain, above
#: which ink stands outside the rows read (two pages side by side: 1.9-2.0; a page
#: inside a white border: 0.9).
INK_EXCESS_SUSPECT = 1.5
#: Layout confidence (0-1, :attr:`~ecgprep.digitize.layout.LayoutResult.confidence`: the weakest
#: row's ink against a quarter of a full row) below which a "row" may be text or a
#: gap. Every reading measured had 1.0; half a row's worth of ink is the bound.
LAYOUT_SUSPECT = 0.5
#: A quality gate failed by this factor (the measure under this fraction of its
#: limit) makes the reading suspect; a gate failed by less only lowers the
#: confidence. Measured: renders with sharpness 0.21-0.35 (limit 0.35) and 100-130
#: dpi (limit 150) read at 11-22 dB; sharpness 0.11-0.17 at 0-10 dB, 75 dpi at 7.6 dB.
QUALITY_FAR_BELOW = 0.5
#: Calibration pulse: the finder's own width window, mm (a 0.2 s pulse is 5 mm at
#: 25 mm/s, plus the strokes), for "pulse-wide ink" that failed its height test.
PULSE_WIDTH_MM = (3.0, 8.0)
#: Pulse-wide ink at the start of at least this fraction of the rows, none of it of
#: 1 mV height at the gain used but of another standard gain's: the gain is wrong
#: (at 5 mm/mV on a 10 mm/mV print every row's pulse measured 1.7-1.9 times the
#: height expected). Flatter ink (a pulse whose edges went with grid lines of its
#: colour, 0.1-0.4x) says nothing of the gain.
PULSE_ROWS_SUSPECT = 0.5

# ----------------------------------------------------------------- confidence

#: Highest confidence of a suspect reading, so that sorting by confidence puts
#: every reading with a reason to doubt it in the lower half.
SUSPECT_MAX_CONFIDENCE = 0.5
#: Einthoven residual ramp: factor 1 at or under the first value (the noise of right
#: readings, 0.01-0.20 measured), 0 at or over the second (unrelated limb leads, ~1).
EINTHOVEN_RAMP = (0.15, 1.0)
#: Factor when no Einthoven relation could be tested (limb leads not printed at the
#: same time): nothing confirms the reading.
EINTHOVEN_UNTESTED = 0.8
#: Grid confidence ramp: factor 0 at the detector's "found" bound, 1 at 0.8.
GRID_RAMP = (0.35, 0.8)
#: Row coverage ramp: factor 0 at half the row followed, 1 at 95 % (right readings: 0.98+).
COVERAGE_RAMP = (0.5, 0.95)
#: Layout confidence ramp: factor 0 at 0.25, 1 at 0.75.
LAYOUT_RAMP = (0.25, 0.75)
#: Factor per quality gate failed (by less than :data:`QUALITY_FAR_BELOW`).
QUALITY_FAILED = 0.8
#: Factor when the page's trace rows are not the layout's rows (a named layout that
#: does not match the page, or a row missed or a text band taken for one): the
#: leads may come from the wrong rows.
ROWS_MISMATCH = 0.5
#: Paper speed (mm/s) below which a reading is coarse: a QRS complex, about
#: 0.1 s, is drawn 1 mm wide at 10 mm/s, two or three pen widths, and loses its
#: shape. Synthetic 3x4+1, 6x2 and 12x1 pages at 10 mm/s (200 and 300 dpi) read
#: at 3-15 dB though their layout, speed and gain were found right; at 25 mm/s
#: the same renders read at medians of 18.6-25.8 dB. (The pen's width in time does
#: not tell it: a 0.6 mm pen at 25 mm/s is 27 ms wide, as wide as a 0.27 mm one
#: at 10 mm/s, and read at 13 dB.)
SLOW_SPEED_MM_S = 25.0
#: Factor of a reading at such a speed: such readings score like those the other
#: reasons mark (5-15 dB).
COARSE_SPEED = 0.6
#: Factor when the rows' length matched no standard paper speed (a cut page, or
#: rows shorter than 10 s): times and panel bounds may be off.
SPEED_UNKNOWN = 0.5
#: Factor when no calibration pulse confirmed the gain (pages printed without one).
NO_PULSE = 0.9
#: Peak-to-peak amplitude, mV, under which a lead is a flat line (no QRS complex
#: prints under 0.1 mV; a trace not found reads as a flat line).
FLAT_MV = 0.05
#: A lead's own reason when it was not read (not printed, past a cut page's edge,
#: or the image failed).
NOT_READ = "not read"
#: Factor of a flat lead's own confidence.
FLAT = 0.2


@dataclass(frozen=True, repr=False)
class Verdict:
    """How far a reading may be trusted (small: travels with the result).

    Attributes
    ----------
    confidence : float
        0-1: the product of the factors of :mod:`ecgprep.verdict` (1: every
        measurement as on right readings), at most :data:`SUSPECT_MAX_CONFIDENCE`
        when ``suspect``; 0 for a failed image.
    suspect : bool
        True when ``reasons`` is not empty: some measurement says the reading is
        wrong or incomplete.
    reasons : tuple of str
        Short readable reasons, e.g. ``"Einthoven's law broken (residual 0.92)"``.
    lead_confidence : dict of str to float
        Confidence of each of the 12 leads (0 for a lead not read): the image's
        factors that concern every lead, times those of the lead's own row (how much
        of it was followed), its Einthoven relation (limb leads) and its amplitude
        (a flat line).
    layout : str or None
        Layout the leads were read with (None for a failed image).
    paper_speed, gain : float
        mm/s and mm/mV the leads were read with (NaN for a failed image).
    lead_reasons : dict of str to tuple of str
        Each of the 12 leads' own reasons to doubt it (empty when none): not
        read, a flat line, its row followed over too little of it, its limb
        relation broken. ``reasons`` concern every lead of the image.

    Raises
    ------
    ValueError
        A confidence outside [0, 1], or ``suspect`` that disagrees with ``reasons``.

    Examples
    --------
    >>> Verdict.failure("digitize failed: no trace").reasons
    ('digitize failed: no trace',)
    """

    confidence: float
    suspect: bool
    reasons: tuple[str, ...] = ()
    lead_confidence: dict = field(default_factory=dict)
    layout: str | None = None
    paper_speed: float = float("nan")
    gain: float = float("nan")
    lead_reasons: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        conf = float(self.confidence)
        if not 0.0 <= conf <= 1.0:
            raise ValueError(f"Verdict: confidence must be in [0, 1], got {self.confidence!r}")
        reasons = tuple(str(r) for r in self.reasons)
        if bool(self.suspect) != bool(reasons):
            raise ValueError(
                f"Verdict: suspect={self.suspect!r} disagrees with {len(reasons)} reason(s)"
            )
        object.__setattr__(self, "confidence", conf)
        object.__setattr__(self, "suspect", bool(self.suspect))
        object.__setattr__(self, "reasons", reasons)
        object.__setattr__(
            self, "lead_confidence", {str(k): float(v) for k, v in self.lead_confidence.items()}
        )
        object.__setattr__(
            self,
            "lead_reasons",
            {
                str(k): (str(v),) if isinstance(v, str) else tuple(str(r) for r in v)
                for k, v in self.lead_reasons.items()
            },
        )

    def __repr__(self) -> str:
        what = "suspect: " + "; ".join(self.reasons) if self.suspect else "not suspect"
        return f"Verdict(confidence {self.confidence:.2f}, {what})"

    @classmethod
    def failure(cls, error: str | None) -> Verdict:
        """The verdict on an image that could not be read: confidence 0, the error as reason."""
        return cls(
            0.0,
            True,
            (str(error or "the image was not read"),),
            dict.fromkeys(LEADS, 0.0),
            lead_reasons=dict.fromkeys(LEADS, (NOT_READ,)),
        )

    @property
    def suspect_leads(self) -> tuple[str, ...]:
        """The leads with reasons of their own to doubt them, in lead order."""
        return tuple(lead for lead in LEADS if self.lead_reasons.get(lead))


def _ramp(value: float, lo: float, hi: float) -> float:
    """0 at or below ``lo``, 1 at or above ``hi``, linear between (``lo > hi`` falls)."""
    if not math.isfinite(value):
        return 0.0
    return float(np.clip((value - lo) / (hi - lo), 0.0, 1.0))


def _einthoven_factor(residual: float) -> float:
    if not math.isfinite(residual):
        return EINTHOVEN_UNTESTED
    lo, hi = EINTHOVEN_RAMP
    return 1.0 - _ramp(residual, lo, hi)


def _quality(quality: Any) -> tuple[float, list[str]]:
    """Confidence factor and suspect reasons of the quality gates."""
    if quality is None or quality.passed:
        return 1.0, []
    factor = 1.0
    reasons = []
    gates = (
        ("resolution", quality.dpi, quality.min_dpi, "{:.0f} dpi < {:.0f} dpi"),
        ("sharpness", quality.sharpness, quality.min_sharpness, "{:.2f} < {:.2f}"),
        ("contrast", quality.contrast, quality.min_contrast, "{:.2f} < {:.2f}"),
    )
    for name, value, limit, fmt in gates:
        if value is None or not value < limit:
            continue
        factor *= QUALITY_FAILED
        if value < QUALITY_FAR_BELOW * limit:
            reasons.append(f"quality gate failed: {name} {fmt.format(value, limit)}")
    return factor, reasons


def _pulses(digitization: Any, grid: Any, gain: float) -> tuple[float, list[str]]:
    """Confidence factor and suspect reasons of the calibration pulses."""
    pulses = tuple(getattr(digitization, "pulses", ()) or ())
    if any(p.found and not getattr(p, "outline", False) for p in pulses):
        return 1.0, []
    outlined = [p for p in pulses if p.found]
    if outlined:  # seen only in outline: the gain is likely, not measured
        return NO_PULSE, [
            f"calibration pulse seen only in outline in {len(outlined)} of {len(pulses)} "
            f"row(s) (grid lines as dark as the trace took its parts): {gain:g} mm/mV"
        ]
    if not pulses or grid is None or not math.isfinite(gain):
        return NO_PULSE, []
    lo, hi = PULSE_WIDTH_MM
    px_mm = float(grid.px_per_mm_y)
    # Pulse-wide ink as tall as another standard gain's 1 mV: a flat stroke or a
    # pulse whose edges were lost (with grid lines of its colour) says nothing of
    # the gain.
    wide = [p for p in pulses if lo <= (p.x1 - p.x0) / float(grid.px_per_mm_x) < hi]
    ratios = [p.height_px / px_mm / gain for p in wide if _other_gain(p.height_px / px_mm, gain)]
    if len(ratios) >= max(1, PULSE_ROWS_SUSPECT * len(pulses)):
        r = float(np.median(ratios))
        return NO_PULSE, [
            f"calibration pulse not found in any row (pulse-wide ink {r:.1f}x the height "
            f"of 1 mV at {gain:g} mm/mV: wrong gain?)"
        ]
    if getattr(digitization, "lines_removed", False) and not getattr(
        digitization, "gain_found", True
    ):
        return NO_PULSE, [
            f"calibration pulse not found in any row, and grid lines as dark as the "
            f"trace may hide it: {gain:g} mm/mV assumed"
        ]
    return NO_PULSE, []


def _other_gain(height_mm: float, gain: float) -> bool:
    """Whether ``height_mm`` is the 1 mV of a standard gain other than ``gain``, or
    taller than 1 mV at ``gain`` by more than the pulse finder's tolerance (a pulse
    the search window cut)."""
    found = standard_gain(height_mm)
    if math.isfinite(found) and found != gain:
        return True
    return height_mm > (1.0 + PULSE_GAIN_TOLERANCE) * PULSE_MV * gain


def _ink_beside(digitization: Any, layout: Any, colors: Any, page_shape: Any) -> str | None:
    """The reason when the rows span a small part of a page holding much more trace ink."""
    if not page_shape or len(page_shape) < 2 or not layout.rows or colors is None:
        return None
    height, width = (float(v) for v in page_shape[:2])
    x0 = min(r.x_start for r in layout.rows)
    row_len = max(r.x_end for r in layout.rows) - x0
    span = row_len / width if width > 0 else math.nan
    pen = len(layout.rows) * row_len * max(float(digitization.line_width_px), 1.0)
    ink = float(colors.trace_fraction) * height * width
    excess = ink / (INK_PER_ROW_TYPICAL * pen) if pen > 0 else math.nan
    if span < SPAN_SUSPECT and excess > INK_EXCESS_SUSPECT:
        return (
            f"rows span {100 * span:.0f} % of the page width, which holds {excess:.1f}x "
            "the trace ink they explain (another ECG beside them?)"
        )
    return None


def _bars_disagree(digitization: Any, layout: Any) -> str | None:
    """A reason when the separator bars show other panels in a row than the
    layout prints there (:attr:`~ecgprep.digitize.Digitization.panel_bars`); a
    strip where they show two is not (a QRS complex at 5 s passes for a bar)."""
    bars = tuple(getattr(digitization, "panel_bars", ()) or ())
    panels = getattr(layout, "panels", ())
    for k, count in enumerate(bars):
        printed = sum(1 for p in panels if p.row == k)
        strip_qrs = count == 2 and printed == 1
        if count is not None and printed and count != printed and not strip_qrs and not layout.cut:
            return (
                f"separator bars show {count} panel(s) in row {k + 1}, layout "
                f"{layout.name} prints {printed} there"
            )
    return None


def _lead_rows(layout: Any) -> dict[str, int]:
    """Row of the panel each lead was read from (its longest; the first of equals)."""
    best: dict[str, tuple[float, int]] = {}
    for p in getattr(layout, "panels", ()):
        if p.lead not in best or best[p.lead][0] < p.duration_s:
            best[p.lead] = (p.duration_s, p.row)
    return {lead: row for lead, (_, row) in best.items()}


def judge(
    digitization: Any,
    *,
    grid: Any = None,
    quality: Any = None,
    leads: Mapping[str, Any] | None = None,
    colors: Any = None,
    page_shape: tuple[int, ...] | None = None,
    gain: float = GAIN_MM_PER_MV,
) -> Verdict:
    """Judge one reading from what the stations measured.

    Parameters
    ----------
    digitization : Digitization
        The digitize station's result (:class:`~ecgprep.digitize.Digitization`):
        layout, pulses, coverage and Einthoven residual.
    grid : GridResult, optional
        The grid station's result (confidence, scale).
    quality : QualityResult, optional
        The quality station's result (gates).
    leads : dict of str to LeadSignal, optional
        The leads read (``ImageResult.signals``); missing leads are named.
    colors : ColorSummary, optional
        The colours station's result (the page's share of trace ink).
    page_shape : tuple of int, optional
        ``(height, width)`` of the page the rows were read on.
    gain : float
        mm/mV the leads were read with (checks the calibration pulses).

    Returns
    -------
    Verdict

    Notes
    -----
    Suspect when any of: the Einthoven residual is above :data:`EINTHOVEN_SUSPECT`;
    the grid confidence is below :data:`GRID_SUSPECT`; the tracker followed less
    than :data:`COVERAGE_SUSPECT` of some row; the paper ran slower than
    :data:`SLOW_SPEED_MM_S` (10 mm/s: a coarse reading); the rows span less than
    :data:`SPAN_SUSPECT` of the page's width while the page holds over
    :data:`INK_EXCESS_SUSPECT` times the trace ink they explain; the layout's confidence is below
    :data:`LAYOUT_SUSPECT`; a quality gate failed by more than
    :data:`QUALITY_FAR_BELOW`; pulse-wide ink stands at the start of most rows,
    none of it 1 mV tall at ``gain`` but at another standard gain; no pulse was
    found and the gain was assumed on a page whose grid lines, as dark as the
    trace, were taken out of its ink (they hide a pulse drawn on them), or the
    pulses were seen only in outline there; a lead is missing. A page printed
    without calibration pulses is not suspect for it, but for such a page (its
    confidence is lower).

    Examples
    --------
    >>> from ecgprep.synth import render_ecg
    >>> from ecgprep import process_image_for_submission
    >>> res = process_image_for_submission(render_ecg(seed=1, dpi=100).image)
    >>> v = judge(res.stage("digitize"), grid=res.stage("grid"), leads=res.signals)
    >>> v.suspect, v.confidence > 0.8
    (False, True)
    """
    leads = dict(leads or {})
    reasons: list[str] = []
    factors: list[float] = []  # those that concern every lead
    layout = getattr(digitization, "layout", None)

    residual = float(getattr(digitization, "einthoven", math.nan))
    if leads and not math.isfinite(residual):
        residual = einthoven_residual(leads)
    if residual > EINTHOVEN_SUSPECT:
        reasons.append(f"Einthoven's law broken (residual {residual:.2f})")
    ein = _einthoven_factor(residual)

    if grid is not None:
        gconf = float(grid.confidence)
        if gconf < GRID_SUSPECT:
            reasons.append(f"grid confidence {gconf:.2f}")
        factors.append(_ramp(gconf, *GRID_RAMP))

    qf, qreasons = _quality(quality)
    reasons += qreasons
    factors.append(qf)

    pf, preasons = _pulses(digitization, grid, float(gain))
    reasons += preasons
    factors.append(pf)

    if layout is not None:
        lconf = float(layout.confidence)
        if lconf < LAYOUT_SUSPECT:
            reasons.append(f"layout {layout.name} matched weakly (confidence {lconf:.2f})")
        factors.append(_ramp(lconf, *LAYOUT_RAMP))
        reason = _ink_beside(digitization, layout, colors, page_shape)
        if reason:
            reasons.append(reason)
        found = int(getattr(layout, "trace_rows", -1))
        if found >= 0 and found != len(layout.rows):
            reasons.append(
                f"the page holds {found} trace row(s), layout {layout.name} prints "
                f"{len(layout.rows)}"
            )
            factors.append(ROWS_MISMATCH)
        reason = _bars_disagree(digitization, layout)
        if reason:
            reasons.append(reason)
            factors.append(ROWS_MISMATCH)
        if getattr(digitization, "rows_guessed", False):
            reasons.append(
                f"a partial page read as {str(layout.name).split(':', 1)[0]}: which rows "
                "these are is a guess (no three limb leads printed together; labels, "
                "separator bars and beats left several runs of rows)"
            )
        record_s = float(getattr(layout, "record_s", 10.0))
        if record_s < 9.0:
            if getattr(layout, "cut", False):
                reasons.append(
                    f"the page's edge cuts the rows after {record_s:.1f} s at "
                    f"{layout.paper_speed:g} mm/s: the panels past it are not read"
                )
            else:
                reasons.append(
                    f"rows hold {record_s:.1f} s, not 10 s: the layout's panels were scaled to them"
                )
            factors.append(SPEED_UNKNOWN)
        alike = tuple(getattr(digitization, "speeds_alike", ()) or ())
        if alike:
            others = " or ".join(f"{v:g}" for v in alike)
            reasons.append(
                f"the page's edge cuts its rows and they obey Einthoven's law as well at "
                f"{others} mm/s as at {layout.paper_speed:g}: the paper speed is unsure"
            )
            factors.append(SPEED_UNKNOWN)
        speed = float(getattr(layout, "paper_speed", math.nan))
        if speed < SLOW_SPEED_MM_S:
            reasons.append(
                f"read at {speed:g} mm/s: a QRS complex (about 0.1 s) is drawn "
                f"{0.1 * speed:.0f} mm wide, a few pen widths, and loses its shape"
            )
            factors.append(COARSE_SPEED)
        if not getattr(layout, "speed_found", True):
            reasons.append(
                f"rows match no standard paper speed ({layout.paper_speed:g} mm/s assumed)"
            )
            factors.append(SPEED_UNKNOWN)

    coverage = tuple(float(c) for c in getattr(digitization, "coverage", ()) or ())
    row_factor = [_ramp(c, *COVERAGE_RAMP) for c in coverage]
    short = [i for i, c in enumerate(coverage) if c < COVERAGE_SUSPECT]
    if short:
        worst = min(short, key=lambda i: coverage[i])
        more = (
            f" (under {100 * COVERAGE_SUSPECT:.0f} % in {len(short) - 1} more)"
            if len(short) > 1
            else ""
        )
        reasons.append(
            f"trace followed over {100 * coverage[worst]:.0f} % of row {worst + 1}{more}"
        )

    missing = [lead for lead in LEADS if lead not in leads]
    if missing:
        reasons.append(f"leads missing: {', '.join(missing)}")

    base = float(np.prod(factors)) if factors else 1.0
    rows_of = _lead_rows(layout)
    relation = {}
    lead_reasons: dict[str, list[str]] = {lead: [] for lead in LEADS}
    for group, law in (
        (("I", "II", "III"), "I + III = II"),
        (("aVR", "aVL", "aVF"), "aVR + aVL + aVF = 0"),
    ):
        if all(lead in leads for lead in group):
            r = einthoven_residual({lead: leads[lead] for lead in group})
            for lead in group:
                relation[lead] = _einthoven_factor(r) if math.isfinite(r) else ein
                if r > EINTHOVEN_SUSPECT:
                    lead_reasons[lead].append(f"{law} broken (residual {r:.2f})")
    lead_conf = {}
    for lead in LEADS:
        sig = leads.get(lead)
        if sig is None:
            lead_conf[lead] = 0.0
            lead_reasons[lead].append(NOT_READ)
            continue
        c = base * relation.get(lead, ein)
        row = rows_of.get(lead)
        if row is not None and row < len(row_factor):
            c *= row_factor[row]
            if coverage[row] < COVERAGE_SUSPECT:
                lead_reasons[lead].append(
                    f"trace followed over {100 * coverage[row]:.0f} % of row {row + 1} (its row)"
                )
        values = np.asarray(sig.values, dtype=np.float64)
        values = values[np.isfinite(values)]
        if values.size == 0 or np.ptp(values) < FLAT_MV:
            c *= FLAT
            ptp = float(np.ptp(values)) if values.size else 0.0
            lead_reasons[lead].append(f"a flat line ({ptp:.2f} mV peak to peak)")
        lead_conf[lead] = float(np.clip(c, 0.0, 1.0))

    confidence = base * ein * (min(row_factor) if row_factor else 1.0)
    confidence *= (len(LEADS) - len(missing)) / len(LEADS)
    if reasons:
        confidence = min(confidence, SUSPECT_MAX_CONFIDENCE)
    px_per_s = float(getattr(layout, "px_per_s", math.nan))
    px_x = float(grid.px_per_mm_x) if grid is not None else math.nan
    return Verdict(
        float(np.clip(confidence, 0.0, 1.0)),
        bool(reasons),
        tuple(reasons),
        lead_conf,
        layout=getattr(layout, "name", None),
        paper_speed=getattr(digitization, "paper_speed", px_per_s / px_x),
        gain=float(getattr(digitization, "gain", gain)),
        lead_reasons={lead: tuple(r) for lead, r in lead_reasons.items()},
    )


def judge_result(result: Any, *, gain: float | str = GAIN_MM_PER_MV) -> Verdict:
    """:func:`judge` on the stations' results of one :class:`~ecgprep.result.ImageResult`.

    Parameters
    ----------
    result : ImageResult
    gain : float or "auto"
        mm/mV the leads were read with (``Options.gain``; ``"auto"``: the gain
        the digitizer found).

    Returns
    -------
    Verdict
        :meth:`Verdict.failure` when the image failed.
    """
    if not result.ok:
        return Verdict.failure(result.error)
    if gain == AUTO:  # the gain the digitizer found on the page
        gain = float(getattr(result.stage("digitize"), "gain", GAIN_MM_PER_MV))
    mapped = result.working_map()
    return judge(
        result.stage("digitize"),
        grid=result.stage("grid"),
        quality=result.stage("quality"),
        leads=result.signals,
        colors=result.stage("colors"),
        page_shape=None if mapped is None else mapped[1],
        gain=gain,
    )


def verdict_of(result: Any) -> Verdict:
    """The verdict a result carries, or the one :func:`judge_result` gives it.

    Results made by :func:`~ecgprep.pipeline.process_image_for_submission` carry
    theirs; a failure recorded elsewhere (a worker that died) gets
    :meth:`Verdict.failure`.
    """
    v = getattr(result, "verdict", None)
    if v is not None:
        return v
    return judge_result(result)


def lead_confidence_frame(results: Any) -> Any:
    """The per-lead verdict of a batch: one row per image, one column per lead.

    Parameters
    ----------
    results : iterable of ImageResult

    Returns
    -------
    pandas.DataFrame
        ``id``, ``suspect`` and the confidence of each of the 12 leads
        (:data:`ecgprep.standards.LEADS`, 0 for a lead not read), in input order.

    Examples
    --------
    >>> from ecgprep.result import ImageResult
    >>> failed = ImageResult("7", "x.png", False, error="x.png: load failed")
    >>> df = lead_confidence_frame([failed])
    >>> df.loc[0, "id"], bool(df.loc[0, "suspect"]), float(df.loc[0, "V1"])
    ('7', True, 0.0)
    """
    import pandas as pd

    rows = []
    for r in results:
        v = verdict_of(r)
        rows.append(
            {"id": r.image_id, "suspect": v.suspect}
            | {lead: float(v.lead_confidence.get(lead, 0.0)) for lead in LEADS}
        )
    df = pd.DataFrame(rows, columns=["id", "suspect", *LEADS])
    df["suspect"] = df["suspect"].astype(bool)
    return df


def lead_verdict_frame(results: Any) -> Any:
    """The verdict of every lead of a batch, one row per image and lead.

    Parameters
    ----------
    results : iterable of ImageResult

    Returns
    -------
    pandas.DataFrame
        ``id``, ``lead`` (the 12 of :data:`ecgprep.standards.LEADS` per image, in
        input order), ``confidence``, ``suspect`` (the image is suspect, or the lead
        has reasons of its own) and ``reasons`` (the lead's own, ``"; "``-joined:
        :attr:`Verdict.lead_reasons`).

    Examples
    --------
    >>> from ecgprep.result import ImageResult
    >>> failed = ImageResult("7", "x.png", False, error="x.png: load failed")
    >>> df = lead_verdict_frame([failed])
    >>> len(df), df.loc[0, "lead"], df.loc[0, "reasons"]
    (12, 'I', 'not read')
    """
    import pandas as pd

    rows = []
    for r in results:
        v = verdict_of(r)
        for lead in LEADS:
            own = v.lead_reasons.get(lead, ())
            rows.append(
                {
                    "id": r.image_id,
                    "lead": lead,
                    "confidence": float(v.lead_confidence.get(lead, 0.0)),
                    "suspect": bool(v.suspect or own),
                    "reasons": "; ".join(own),
                }
            )
    df = pd.DataFrame(rows, columns=["id", "lead", "confidence", "suspect", "reasons"])
    df["suspect"] = df["suspect"].astype(bool)
    return df
