"""Digitization: from a deskewed page, its trace mask and its grid scale to 12 leads in mV.

Stations inside: :func:`ecgprep.digitize.layout.find_layout` (rows and panels),
:func:`find_calibration_pulses` (the 1 mV pulses, checked against the grid's
scale and kept out of the signal), :func:`ecgprep.digitize.trace.trace_points` (the trace
of each row followed with sub-pixel precision), then conversion to mV on a
uniform time axis at ``signal_fs``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._validate import check_image, check_mask, check_positive, line_fit, to_gray
from ..errors import LayoutError, StageError
from .layout import (
    PULSE_EDGE_MM,
    LayoutResult,
    Panel,
    candidate_layouts,
    find_layout,
    layout_rows,
)
from .page import find_trace_rows
from ..signals import LeadSignal, einthoven_residual
from ..standards import (
    AUTO,
    GAIN_MM_PER_MV,
    GAINS_MM_PER_MV,
    PAPER_SPEED_MM_S,
    PULSE_MV,
    PULSE_SECONDS,
    RECORD_SECONDS,
    rhythm_count,
)
from .trace import column_runs, trace_points

if TYPE_CHECKING:
    from ..options import Options
    from ..page import Page

__all__ = [
    "digitize_station",
    "LeadSignal",
    "PulseInfo",
    "Digitization",
    "find_calibration_pulses",
    "name_rhythm_strips",
    "own_strokes",
    "remove_labels",
    "trace_core",
    "digitize",
]


#: Highest sampling rate digitize produces (far above what a printed trace holds;
#: the bound keeps an absurd rate from allocating gigabytes).
_MAX_SIGNAL_FS = 100_000.0


@dataclass(frozen=True)
class PulseInfo:
    """The calibration pulse at the left of one row, if found.

    ``height_mv`` is the pulse height converted with the grid's voltage scale: about
    1.0 when the grid scale and the printed gain agree. ``gain`` is the mm/mV the
    pulse shows (NaN when not found).
    """

    row: int
    found: bool
    x0: float = 0.0
    x1: float = 0.0
    height_px: float = 0.0
    height_mv: float = 0.0
    gain: float = float("nan")


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
        0 mV row (pixels) of each printed row.
    line_width_px : float
        Estimated trace thickness.
    coverage : tuple of float
        Fraction of each row's columns where ink was followed.
    quarter_turns : int
        0, or 2 when the page was read turned by 180 degrees
        (:func:`ecgprep.orient.read_upright`; set by :func:`digitize_station`).
    einthoven, einthoven_turned : float
        Einthoven residuals (:func:`ecgprep.signals.einthoven_residual`) of the
        reading kept and of the page read turned by 180 degrees (NaN when not
        measured: only readings that break the law are read again turned).
    paper_speed : float
        mm/s the rows were read at.
    gain : float
        mm/mV the leads were read at (the rows' median).
    row_gains : tuple of float
        mm/mV of each row.
    gain_found : bool
        The gain was named, or read from the page's calibration pulses (False:
        the standard 10 mm/mV was assumed).
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

    def __repr__(self) -> str:
        found = sum(bool(p.found) for p in self.pulses)
        return (
            f"Digitization(layout={self.layout.name!r}, {len(self.layout.rows)} rows, "
            f"{found}/{len(self.pulses)} pulses, line {self.line_width_px:.1f} px, "
            f"einthoven {self.einthoven:.2f}, quarter_turns={self.quarter_turns})"
        )


def _mode(values: np.ndarray, bin_px: float = 0.5) -> float:
    """Most frequent value (histogram peak, lightly smoothed): the isoelectric line."""
    if values.size == 0:
        return 0.0
    lo, hi = float(values.min()), float(values.max())
    nb = max(int((hi - lo) / bin_px) + 1, 1)
    hist, edges = np.histogram(values, bins=nb, range=(lo, hi + bin_px))
    if nb >= 5:
        hist = np.convolve(hist, np.ones(5) / 5, mode="same")
    i = int(np.argmax(hist))
    return float(0.5 * (edges[i] + edges[i + 1]))


def _remove_tick(band: np.ndarray, xc: float, px_per_mm_x: float, px_per_mm_y: float) -> None:
    """Erase, in place, a vertical separator bar standing at column ``xc`` of ``band``.

    The bar fills (nearly) every column of its few-pixel width over the same rows; a
    trace crossing it fills only a column or two there, so only rows inked in most
    columns near ``xc`` are erased, and only when they span at least 1.5 mm.
    """
    half = 0.6 * px_per_mm_x
    b0 = int(max(0, np.floor(xc - half)))
    b1 = int(min(band.shape[1], np.ceil(xc + half)))
    if b1 - b0 < 2:
        return
    sub = band[:, b0:b1]
    frac = sub.mean(axis=1)
    # The bar is at least ~3 columns wide: rows where >= 3 columns (or 40 %) are inked.
    need = min(3, b1 - b0) / (b1 - b0)
    full = frac >= max(need, 0.4) - 1e-9
    idx = np.flatnonzero(full)
    if idx.size < 1.5 * px_per_mm_y:
        return
    breaks = np.flatnonzero(np.diff(idx) > 2)
    starts = np.concatenate(([0], breaks + 1))
    stops = np.concatenate((breaks, [idx.size - 1]))
    k = int(np.argmax(idx[stops] - idx[starts]))
    y0, y1 = int(idx[starts[k]]), int(idx[stops[k]]) + 1
    if y1 - y0 < 1.5 * px_per_mm_y:
        return
    sub[max(0, y0 - 1) : y1 + 1, :] = False


def _panel_values(
    ts: np.ndarray, t: np.ndarray, v: np.ndarray, t0: float, t1: float, px_per_s: float
) -> np.ndarray:
    """Values at times ``ts`` from points ``(t, v)`` of one panel.

    Inside, linear interpolation. At the panel's ends, where a separator tick
    hides the first and last few columns, the trace is extended along the slope
    of its nearest 1.5 mm (clamped to the panel's own range) rather than held flat,
    so a QRS cut by the tick keeps part of its edge (half the slope scored best
    on the development renders, against holding flat or the full slope).
    """
    if t.size < 2:
        return np.zeros(ts.size)
    vals = np.interp(ts, t, v)
    lo, hi = float(v.min()), float(v.max())
    span = 0.06  # s: 1.5 mm at 25 mm/s
    for edge, inside in ((t[0], ts < t[0]), (t[-1], ts > t[-1])):
        if not inside.any():
            continue
        near = np.abs(t - edge) <= span
        if near.sum() < 3:
            continue
        tn, vn = t[near], v[near]
        # Slope of the stretch nearest the edge (a third of the window).
        k = max(2, tn.size // 3)
        seg_t = tn[:k] if edge == t[0] else tn[-k:]
        seg_v = vn[:k] if edge == t[0] else vn[-k:]
        if np.ptp(seg_t) <= 0:
            continue
        slope = line_fit(seg_t, seg_v)[0]
        base = v[0] if edge == t[0] else v[-1]
        # Half the slope: the hidden stretch is short and often turns (QRS apex).
        vals[inside] = np.clip(base + 0.5 * slope * (ts[inside] - edge), lo, hi)
    return vals


#: A sample is bridged when no point read from the ink lies within this many
#: pixels (along x) of it: a pixel column is read every pixel, so farther than
#: one pixel means a gap, an extrapolated end or a column left out.
_BRIDGE_PX = 1.0
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


def _bridged(ts: np.ndarray, t: np.ndarray, reach_s: float) -> np.ndarray:
    """Which times ``ts`` have no read point ``t`` (sorted) within ``reach_s``."""
    if t.size == 0:
        return np.ones(ts.size, dtype=bool)
    i = np.clip(np.searchsorted(t, ts), 1, t.size - 1) if t.size > 1 else np.zeros(ts.size, int)
    near = np.minimum(np.abs(ts - t[i]), np.abs(ts - t[np.maximum(i - 1, 0)]))
    return near > reach_s


def trace_core(trace_mask: np.ndarray, gray: np.ndarray, *, px_per_mm: float) -> np.ndarray:
    """The dark core of the trace ink.

    Colour separation keeps the anti-aliased (or blurred) fringe of a stroke, as
    it must to find faint traces; the centre line is better read from the core. A
    mask pixel is kept when it lies within a fraction of the way from the local
    darkest ink (an erosion, about 1 mm) to the local paper level (a dilation then
    blur of the luma, about 2 mm), whatever the contrast, blur or shading; so is
    the darkest pixel of its image row (of three) when half as dark as the ink,
    so that steep thin strokes stay unbroken. Columns where nothing would remain
    keep the mask.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
    gray : (M, N) uint8 ndarray
        Luma of the same image.
    px_per_mm : float
        Scale, sizing the filters.

    Returns
    -------
    (M, N) bool ndarray
    """
    import cv2

    mask = check_mask(trace_mask, "trace_mask")
    if not mask.any():
        return mask
    k = int(2 * round(1.0 * px_per_mm) + 1)
    paper = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    paper = cv2.blur(paper, (2 * k + 1, 2 * k + 1))
    ki = int(2 * round(0.5 * px_per_mm) + 1)
    ink = cv2.erode(gray, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ki, ki)))
    # How far from the ink towards the paper a pixel may be: a quarter of the
    # way at 6 px/mm and finer; more at low resolution, where a stroke is only a
    # pixel or two wide (0.45 at 4 px/mm). Tuned on the dev renders and checked on
    # a synthetic set of every distortion kind (see README, Accuracy).
    frac = float(np.clip(0.25 + 0.1 * (6.0 - px_per_mm), 0.25, 0.45))
    # Kept where gray - ink < frac * (paper - ink), in whole numbers: the ink is
    # a local minimum (gray - ink >= 0), so with span = paper - ink (0 where the
    # paper is not lighter) the test is gray - ink < ceil(frac * span), a table
    # (the product in float32, as the test was first written: ties stay decided
    # the same way).
    products = np.float32(frac) * np.arange(256, dtype=np.float32)
    limit = np.ceil(products).astype(np.uint8)
    span = cv2.subtract(paper, ink, dst=paper)
    halves = np.ceil(np.float32(0.5) * np.arange(256, dtype=np.float32)).astype(np.uint8)
    half = cv2.LUT(span, halves)
    span = cv2.LUT(span, limit, dst=span)
    above = cv2.subtract(gray, ink, dst=ink)
    # Also kept: the darkest pixel of its image row (of three) when it is at
    # least half as dark as the ink. Where a steep stroke's middle falls between
    # two pixels, neither is within a quarter of the ink, and the stroke broke
    # into pieces (the tracker then took a lead label for it); ecg-dev 22.0 ->
    # 22.2 dB.
    row_min = cv2.erode(gray, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1)))
    ridge = cv2.bitwise_and(
        cv2.compare(gray, row_min, cv2.CMP_LE), cv2.compare(above, half, cv2.CMP_LT)
    )
    core = cv2.compare(above, span, cv2.CMP_LT, dst=above)
    core = cv2.bitwise_or(core, ridge, dst=core)
    # 255 & 1: a 0/1 mask, viewed as bool
    core = cv2.bitwise_and(core, np.ascontiguousarray(mask).view(np.uint8), dst=core).view(bool)
    lost = mask.any(axis=0) & ~core.any(axis=0)
    if lost.any():
        core[:, lost] = mask[:, lost]
    return core


def remove_labels(
    trace_mask: np.ndarray, layout: LayoutResult, *, px_per_mm_x: float, px_per_mm_y: float
) -> np.ndarray:
    """Remove lead labels and other small marks standing near the start of each panel.

    A connected component of ink is dropped when it lies wholly within 12 mm after
    a panel's start, is under 6 mm tall and 8 mm wide, and stands 2.5-12 mm above
    or below the row's baseline (a trace crosses its baseline; a label printed
    beside it does not).

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
    layout : LayoutResult
    px_per_mm_x, px_per_mm_y : float

    Returns
    -------
    (M, N) bool ndarray
        A cleaned copy of the mask.

    Raises
    ------
    ValueError
        A scale that is not a finite number > 0.
    """
    import cv2

    px_per_mm_x = check_positive(px_per_mm_x, "px_per_mm_x")
    px_per_mm_y = check_positive(px_per_mm_y, "px_per_mm_y")
    out = trace_mask
    height, width = trace_mask.shape
    # Row centres are estimated from the ink profile (within ~2 mm); labels
    # stand 4 mm or more from the baseline.
    clear = 2.5 * px_per_mm_y
    reach = 12.0 * px_per_mm_y
    # Only components inside a strip from 1 mm before to 12 mm after a panel start,
    # and within 12 mm of a row's baseline, can be labels: label those strips, not
    # the page (a component touching a strip's side runs on beyond it, so it is not
    # wholly inside and is kept).
    for x_start in sorted({round(p.x0, 3) for p in layout.panels}):
        sx0 = max(0, int(np.floor(x_start - 1.0 * px_per_mm_x)) - 1)
        sx1 = min(width, int(np.ceil(x_start + 12.0 * px_per_mm_x)) + 2)
        bases = [layout.rows[p.row].y for p in layout.panels if round(p.x0, 3) == x_start]
        bases = [b for b in bases if np.isfinite(b)]
        if not bases:
            continue
        sy0 = max(0, int(np.floor(min(bases) - reach)) - 1)
        sy1 = min(height, int(np.ceil(max(bases) + reach)) + 2)
        if sx1 - sx0 < 3 or sy1 - sy0 < 3:
            continue
        strip = np.ascontiguousarray(trace_mask[sy0:sy1, sx0:sx1]).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(strip, connectivity=8)
        if n <= 1:
            continue
        x, y, w, h = (stats[:, i].astype(np.float64) for i in range(4))
        x = x + sx0
        y = y + sy0
        at_left = (stats[:, 0] == 0) & (sx0 > 0)
        at_right = (stats[:, 0] + stats[:, 2] >= sx1 - sx0) & (sx1 < width)
        at_top = (stats[:, 1] == 0) & (sy0 > 0)
        at_bottom = (stats[:, 1] + stats[:, 3] >= sy1 - sy0) & (sy1 < height)
        touches = at_left | at_right | at_top | at_bottom
        drop = np.zeros(n, dtype=bool)
        small = (h < 6.0 * px_per_mm_y) & (w < 8.0 * px_per_mm_x) & ~touches
        for p in layout.panels:
            if round(p.x0, 3) != x_start:
                continue
            base = layout.rows[p.row].y
            inside = (x >= p.x0 - 1.0 * px_per_mm_x) & (x + w <= p.x0 + 12.0 * px_per_mm_x)
            below = (y > base + clear) & (y + h < base + reach)
            above = (y + h < base - clear) & (y > base - reach)
            drop |= small & inside & (below | above)
        drop[0] = False
        if drop.any():
            if out is trace_mask:
                out = trace_mask.copy()
            out[sy0:sy1, sx0:sx1] &= ~drop[labels]
    return out


#: How far a pulse's measured height (mm, stroke included) may lie from a standard
#: gain's 1 mV for the gain to be taken from it (share): the gains stand a factor
#: 2 apart, so 0.2 never takes one for another.
PULSE_GAIN_TOLERANCE = 0.2
#: Widths a calibration pulse may measure, as shares of 0.2 s at the paper speed
#: (the ink's extent includes the strokes and a little of the trace's start).
PULSE_WIDTH_SHARE = (0.6, 1.6)
#: How far left of a row's origin its calibration pulse is searched for (mm, beyond
#: the pulse's own 0.2 s at the paper speed): printers leave 0-2 mm between them.
PULSE_LEAD_MM = 3.0


def _gain_of(height_mm: float) -> float:
    """The standard gain whose 1 mV is ``height_mm`` tall (NaN when none is close)."""
    for g in GAINS_MM_PER_MV:
        if abs(height_mm / (PULSE_MV * g) - 1.0) <= PULSE_GAIN_TOLERANCE:
            return float(g)
    return float("nan")


def find_calibration_pulses(
    trace_mask: np.ndarray,
    layout: LayoutResult,
    *,
    px_per_mm_x: float,
    px_per_mm_y: float,
    gain: float | str = GAIN_MM_PER_MV,
) -> tuple[PulseInfo, ...]:
    """Find the 1 mV calibration pulse left of each row's first panel.

    Parameters
    ----------
    trace_mask : (M, N) bool ndarray
    layout : LayoutResult
    px_per_mm_x, px_per_mm_y : float
    gain : float or "auto"
        mm/mV; ``"auto"`` takes each pulse's gain from its height (5, 10 or 20 mm/mV,
        :data:`ecgprep.standards.GAINS_MM_PER_MV`).

    Returns
    -------
    tuple of PulseInfo
        One per row; ``found`` False where no pulse-shaped ink stands there.
    """
    mask = check_mask(trace_mask, "trace_mask")
    auto = gain == AUTO
    out = []
    speed = float(layout.paper_speed)
    pulse_px = PULSE_SECONDS * speed * px_per_mm_x
    lo, hi = PULSE_WIDTH_SHARE
    for row in layout.rows:
        g_search = max(GAINS_MM_PER_MV) if auto else float(gain)
        reach = 1.6 * PULSE_MV * g_search * px_per_mm_y
        if auto:
            # never up to the row above (its pulse stands at the same columns)
            reach = min(reach, 0.8 * (row.y - row.y_top) / 0.95)
        x1 = int(round(row.x_start + 0.5 * px_per_mm_x))
        x0 = int(round(row.x_start - pulse_px - PULSE_LEAD_MM * px_per_mm_x))
        if x0 < 0 or x1 <= x0:
            out.append(PulseInfo(row.index, False))
            continue
        y0 = max(0, int(row.y - reach))
        below = 0.4 * PULSE_MV * (GAIN_MM_PER_MV if auto else float(gain)) * px_per_mm_y
        y1 = min(mask.shape[0], int(row.y + below))
        sub = mask[y0:y1, x0:x1]
        cols = np.nonzero(sub.any(axis=0))[0]
        if cols.size == 0:
            out.append(PulseInfo(row.index, False))
            continue
        # The pulse's height: its rising edge's unbroken vertical stroke, the first
        # one at least PULSE_EDGE_MM tall, so neither ink above it that does not
        # touch it (the row above, text) nor a tall first beat of the trace counts.
        rx, tops, bottoms = column_runs(sub)
        tall = (bottoms - tops) >= PULSE_EDGE_MM * px_per_mm_y
        if tall.any():
            first = rx[tall].min()
            edge = tall & (rx <= first + 2)  # the edge's anti-aliased columns
            height = float((bottoms - tops)[edge].max())
        else:
            height = float((bottoms - tops).max()) if tops.size else 0.0
        width = float(cols.max() - cols.min() + 1)
        g = _gain_of(height / px_per_mm_y) if auto else float(gain)
        expected = PULSE_MV * g * px_per_mm_y
        found = (
            bool(np.isfinite(g))
            and 0.6 * expected < height < 1.4 * expected
            and lo * pulse_px < width < hi * pulse_px
        )
        out.append(
            PulseInfo(
                row.index,
                bool(found),
                float(x0 + cols.min()),
                float(x0 + cols.max() + 1),
                height,
                height / expected if found else 0.0,
                g if found else float("nan"),
            )
        )
    return tuple(out)


def _row_gains(pulses: tuple[PulseInfo, ...], gain: float | str) -> tuple[tuple[float, ...], bool]:
    """mm/mV of each row, and whether the page's pulses gave them.

    A named gain holds for every row. ``"auto"``: a row's own pulse's gain, else
    the most common gain of the rows' pulses, else the standard 10 mm/mV.
    """
    if gain != AUTO:
        return tuple(float(gain) for _ in pulses), True
    seen = [p.gain for p in pulses if p.found]
    if not seen:
        return tuple(GAIN_MM_PER_MV for _ in pulses), False
    values, counts = np.unique(seen, return_counts=True)
    common = float(values[np.argmax(counts)])
    return tuple(p.gain if p.found else common for p in pulses), True


#: Largest relative squared difference (see :func:`_mismatch`) between a rhythm
#: strip and a short panel over the panel's time for the strip to be named after
#: the panel's lead: the same lead at the same time measures 0-0.25 on real
#: prints (the ink is printed twice), other leads 0.03-2.6.
RHYTHM_MISMATCH = 0.35
#: How many times closer the best panel must be than the second best: similar
#: leads (V1 and V2, V4 to V6) lie 2.4-5x farther than the lead itself on real
#: prints and renders.
RHYTHM_MARGIN = 2.0


def _mismatch(a: np.ndarray, b: np.ndarray) -> float:
    """Squared difference of two median-centred signals over the product of their norms.

    0 for equal signals; about 2 for unrelated ones of equal power; NaN when
    either is flat or shorter than 8 samples.
    """
    n = min(a.size, b.size)
    if n < 8:
        return float("nan")
    a = a[:n] - np.median(a[:n])
    b = b[:n] - np.median(b[:n])
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float(((a - b) ** 2).sum() / den) if den > 0 else float("nan")


def name_rhythm_strips(
    readings: list[tuple[Panel, LeadSignal]], n_rhythm: int
) -> tuple[list[tuple[Panel, LeadSignal]], tuple[str, ...]]:
    """Name each rhythm strip after the short panel it repeats.

    A rhythm strip prints a lead over the whole record; the short panels print
    each lead over a part of it, at the same times. The strip over a panel's
    time is that panel's signal again, in shape and in size: the closest panel
    (:func:`_mismatch` under :data:`RHYTHM_MISMATCH`, and :data:`RHYTHM_MARGIN`
    times closer than the next) names the strip. Correlation would not do:
    pacing spikes and beats fall at the same times in every lead.

    Parameters
    ----------
    readings : list of (Panel, LeadSignal)
        Every panel read, in layout order; the last ``n_rhythm`` are the strips.
    n_rhythm : int

    Returns
    -------
    readings : list of (Panel, LeadSignal)
        With the strips renamed where a panel matched (unchanged elsewhere).
    names : tuple of str
        The strips' leads, top to bottom.
    """
    if n_rhythm <= 0:
        return readings, ()
    short = readings[: len(readings) - n_rhythm]
    out = list(short)
    names = []
    for panel, sig in readings[len(readings) - n_rhythm :]:
        scores: dict[str, float] = {}
        for sp, ss in short:
            i0 = int(round((sp.t0_s - sig.start_s) * sig.fs))
            if i0 < 0 or i0 >= sig.values.size:
                continue
            d = _mismatch(np.asarray(sig.values[i0 : i0 + ss.values.size]), np.asarray(ss.values))
            if np.isfinite(d):
                scores[sp.lead] = min(d, scores.get(sp.lead, np.inf))
        ranked = sorted(scores.items(), key=lambda kv: kv[1])
        lead = panel.lead
        if ranked and ranked[0][1] <= RHYTHM_MISMATCH:
            second = ranked[1][1] if len(ranked) > 1 else np.inf
            if second >= RHYTHM_MARGIN * ranked[0][1]:
                lead = ranked[0][0]
        names.append(lead)
        out.append(
            (
                dataclasses.replace(panel, lead=lead),
                dataclasses.replace(sig, name=lead),
            )
        )
    return out, tuple(names)


def _assemble(readings: list[tuple[Panel, LeadSignal]]) -> dict[str, LeadSignal]:
    """Each lead's longest printed segment (the first of equal ones)."""
    best: dict[str, LeadSignal] = {}
    for _, sig in readings:
        if sig.name not in best or best[sig.name].values.size < sig.values.size:
            best[sig.name] = sig
    return best


def _score(reading: Digitization) -> float:
    """How well a reading obeys Einthoven's law (lower is better; 1 when unmeasured)."""
    r = einthoven_residual(reading.leads)
    return float(r) if np.isfinite(r) else 1.0


def digitize(
    image: np.ndarray,
    trace_mask: np.ndarray,
    *,
    px_per_mm_x: float,
    px_per_mm_y: float,
    layout: str = "3x4+1",
    paper_speed: float | str = PAPER_SPEED_MM_S,
    gain: float | str = GAIN_MM_PER_MV,
    signal_fs: float = 500.0,
    grid_lines_x: tuple[float, float] | None = None,
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
        obeys Einthoven's law kept. The rhythm strips of a ``+N`` layout named
        without its leads are named after the short panel they repeat
        (:func:`name_rhythm_strips`).
    paper_speed : float or "auto"
        mm/s, or found from the rows' length (:func:`ecgprep.digitize.layout.paper_speed_of`).
    gain : float or "auto"
        mm/mV, or found per row from its calibration pulse (10 where no row has one).
    signal_fs : float
        Sampling rate of the returned signals.
    grid_lines_x : (float, float), optional
        ``(phase_px, period_px)`` of the vertical grid lines on which rows may
        start (:func:`ecgprep.digitize.layout.find_layout`).

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
    px_per_mm_x = check_positive(px_per_mm_x, "px_per_mm_x")
    px_per_mm_y = check_positive(px_per_mm_y, "px_per_mm_y")
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
    scan = find_trace_rows(mask, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    names = candidate_layouts(len(scan.rows)) if layout == AUTO else (layout,)
    gray = to_gray(image)
    core = trace_core(mask, gray, px_per_mm=0.5 * (px_per_mm_x + px_per_mm_y))
    best: Digitization | None = None
    error: LayoutError | None = None
    for name in names:
        try:
            lay = find_layout(
                mask,
                px_per_mm_x=px_per_mm_x,
                px_per_mm_y=px_per_mm_y,
                layout=name,
                paper_speed=paper_speed,
                grid_lines_x=grid_lines_x,
                scan=scan,
            )
        except LayoutError as exc:
            error = error or exc
            continue
        reading = _read(
            mask, core, gray, lay, gain, signal_fs, px_per_mm_x, px_per_mm_y, named=":" in name
        )
        if best is None or _score(reading) < _score(best):
            best = reading
    if best is None:
        assert error is not None
        raise error
    return best


@dataclass(frozen=True)
class _Track:
    """One row's followed trace, page coordinates: point ``k`` at column ``x[k]``,
    row ``y[k]``, read from the ink rows ``[top[k], bottom[k])``; ``base`` its 0 mV row."""

    x: np.ndarray
    y: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    base: float


#: Least distance from its own baseline at which a stroke two rows both follow
#: counts as an excursion of the row (mm): a QRS, not a flat trace's wobble.
SHARED_EXCURSION_MM = 3.0
#: Farthest from its baseline a row's trace may lie just outside such a stretch
#: for the stretch to be an isolated excursion (mm): its own flat trace.
SHARED_FLAT_MM = 1.0
#: Width of the neighbourhood looked at on each side of the stretch (mm).
SHARED_CONTEXT_MM = 0.5


def own_strokes(
    tracks: list[_Track], *, px_per_mm_x: float, px_per_mm_y: float
) -> list[np.ndarray]:
    """Keep each row's points off the strokes that belong to its neighbour.

    Where a tall wave of one row reaches the next row's baseline, the two
    strokes merge into one run of ink, and both rows' tracks may follow it. The
    stroke is the row's own when its track stands away from its baseline just
    before and after the shared stretch (the QRS's flanks); it belongs to the
    neighbour when the row's track is flat there and leaves its baseline only
    inside the stretch. Such an isolated excursion is dropped from that row's
    points (the gap is bridged as any other). Where both rows' waves meet in one
    run (a deep S above a tall R), the run's ends are the other wave's: each
    row's apex there is where its own flanks meet (``tracks``' ``y`` is changed
    in place).

    Parameters
    ----------
    tracks : list of _Track
        The rows' tracks, top to bottom.
    px_per_mm_x, px_per_mm_y : float

    Returns
    -------
    list of (K,) bool ndarray
        Per row, True for the points kept.
    """
    keep = [np.ones(t.x.size, dtype=bool) for t in tracks]
    exc = SHARED_EXCURSION_MM * px_per_mm_y
    flat = SHARED_FLAT_MM * px_per_mm_y
    ctx = max(1, int(round(SHARED_CONTEXT_MM * px_per_mm_x)))
    for r in range(len(tracks) - 1):
        a, b = tracks[r], tracks[r + 1]
        common, ia, ib = np.intersect1d(
            np.round(a.x).astype(np.int64), np.round(b.x).astype(np.int64), return_indices=True
        )
        if common.size == 0:
            continue
        shared = (a.top[ia] < b.bottom[ib]) & (b.top[ib] < a.bottom[ia])
        if not shared.any():
            continue
        cols = common[shared]
        # stretches of consecutive shared columns (a one-column break joins)
        breaks = np.flatnonzero(np.diff(cols) > 2) + 1
        for seg in np.split(cols, breaks):
            c0, c1 = int(seg[0]), int(seg[-1])
            isolated: list[bool] = []
            excursions: list[bool] = []
            for t in (a, b):
                xi = np.round(t.x).astype(np.int64)
                inside = (xi >= c0) & (xi <= c1)
                near = ((xi >= c0 - ctx) & (xi < c0)) | ((xi > c1) & (xi <= c1 + ctx))
                off = np.abs(t.y - t.base)
                # how far the runs it read there reach from its baseline
                reach = np.maximum(np.abs(t.top - t.base), np.abs(t.bottom - 1 - t.base))
                far = float(reach[inside].max(initial=0.0)) >= exc
                excursions.append(far)
                isolated.append(bool(near.any()) and far and float(off[near].max()) <= flat)
            if isolated[0] != isolated[1]:
                k = r if isolated[0] else r + 1
                xi = np.round(tracks[k].x).astype(np.int64)
                keep[k] &= ~((xi >= c0) & (xi <= c1))
            elif not isolated[0] and all(excursions):
                # Both rows' waves meet in one run (a deep S above a tall R): its
                # ends are the other wave's. Each row's apex is where its own
                # flanks, carried on, meet (within the run).
                for t in (a, b):
                    _apex_from_flanks(t, c0, c1)
    return keep


def _apex_from_flanks(t: _Track, c0: int, c1: int) -> None:
    """Re-read ``t``'s points in columns ``[c0, c1]`` from its flanks on either side.

    The flanks (3 points each side) are carried on as straight lines; the wave's
    apex is where they meet, toward the wave's side of the baseline; each point
    is kept within its run of ink. Points stay as read when a flank is missing.
    """
    xi = np.round(t.x)
    inside = (xi >= c0) & (xi <= c1)
    left = np.flatnonzero(xi < c0)[-3:]
    right = np.flatnonzero(xi > c1)[:3]
    if left.size < 2 or right.size < 2 or not inside.any():
        return
    sl, il = line_fit(t.x[left], t.y[left])
    sr, ir = line_fit(t.x[right], t.y[right])
    x = t.x[inside]
    lines = np.stack((sl * x + il, sr * x + ir))
    # the wave stands below the baseline (y grows) or above it
    down = float(np.mean(t.y[np.concatenate((left, right))])) > t.base
    y = lines.min(axis=0) if down else lines.max(axis=0)
    t.y[inside] = np.clip(y, t.top[inside], t.bottom[inside] - 1)


def _read(
    mask: np.ndarray,
    core: np.ndarray,
    gray: np.ndarray,
    lay: LayoutResult,
    gain: float | str,
    signal_fs: float,
    px_per_mm_x: float,
    px_per_mm_y: float,
    *,
    named: bool,
) -> Digitization:
    """Pulses, traces and mV of one layout matched on the page."""
    pulses = find_calibration_pulses(
        mask, lay, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y, gain=gain
    )
    gains, gain_found = _row_gains(pulses, gain)
    mask = remove_labels(core, lay, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    px_per_s = lay.px_per_s
    w = mask.shape[1]
    readings: list[tuple[Panel, LeadSignal]] = []
    spacing = float(np.min(np.diff([r.y for r in lay.rows]))) if len(lay.rows) > 1 else float("inf")
    baselines = []
    coverage = []
    widths = []
    tracks: list[_Track] = []
    for row, row_gain in zip(lay.rows, gains, strict=True):
        free_px = min(FREE_MV * row_gain * px_per_mm_y, FREE_ROW_SHARE * spacing)
        panels = [p for p in lay.panels if p.row == row.index]
        xa = int(np.clip(np.floor(row.x_start + _START_MM * px_per_mm_x), 0, w - 1))
        xb = int(np.clip(np.ceil(row.x_end), xa + 1, w))
        band = mask[row.y_top : row.y_bottom, xa:xb].copy()
        # Separator ticks stand on the boundaries between panels: remove them,
        # keeping the trace that passes above or below.
        for p in panels[1:]:
            _remove_tick(band, p.x0 - xa, px_per_mm_x, px_per_mm_y)
        # Lead labels are printed below the start of each panel: discourage the
        # tracker from wandering into them where they touch the trace
        # (LABEL_ZONE_COST), its own row's and the row above's (which stand
        # in this row's band, above its waves).
        base_b = row.y - row.y_top
        above = [(p, lay.rows[p.row].y - row.y_top) for p in lay.panels if p.row == row.index - 1]
        zones = tuple(
            (
                p.x0 - xa - 0.5 * px_per_mm_x,
                p.x0 - xa + 10 * px_per_mm_x,
                b + 2.5 * px_per_mm_y,
                b + 8.5 * px_per_mm_y,
                LABEL_ZONE_COST,
            )
            for p, b in [(p, base_b) for p in panels] + above
        )
        pts = trace_points(
            band,
            gray[row.y_top : row.y_bottom, xa:xb],
            y_ref=base_b,
            zones=zones,
            ref_free=free_px,
            ref_weight=REF_WEIGHT,
        )
        if pts.x.size < 2:
            raise StageError(f"no trace could be followed in row {row.index} (y = {row.y:.0f} px)")
        y_abs = pts.y + row.y_top
        base = _mode(y_abs)
        baselines.append(base)
        coverage.append(pts.coverage)
        widths.append(pts.line_width)
        tracks.append(_Track(pts.x + xa, y_abs, pts.top + row.y_top, pts.bottom + row.y_top, base))
    keep = own_strokes(tracks, px_per_mm_x=px_per_mm_x, px_per_mm_y=px_per_mm_y)
    for row, row_gain, track, kept, lw in zip(lay.rows, gains, tracks, keep, widths, strict=True):
        px_per_mv = row_gain * px_per_mm_y
        panels = [p for p in lay.panels if p.row == row.index]
        guard_s = (0.5 * lw + 0.5) / px_per_s
        # Pixel (column) c covers [c, c + 1): its centre is c + 0.5.
        t = (track.x[kept] + 0.5 - row.x_start) / px_per_s
        v = (track.base - track.y[kept]) / px_per_mv
        for p in panels:
            n = int(round(p.duration_s * signal_fs))
            ts = p.t0_s + np.arange(n) / signal_fs
            # Columns within half a stroke of a boundary between two panels
            # hold ink of both leads: left out (the ends are extrapolated).
            g0 = guard_s if p.t0_s > 0 else 0.0
            g1 = guard_s if p.t0_s + p.duration_s < RECORD_SECONDS - 1e-9 else 0.0
            sel = (t >= p.t0_s + g0) & (t < p.t0_s + p.duration_s - g1)
            vals = _panel_values(ts, t[sel], v[sel], p.t0_s, p.t0_s + p.duration_s, px_per_s)
            bridged = _bridged(ts, t[sel], _BRIDGE_PX / px_per_s).sum() / signal_fs
            sig = LeadSignal(p.lead, vals, float(signal_fs), float(p.t0_s), float(bridged))
            readings.append((p, sig))
    n_rhythm = 0 if named else rhythm_count(lay.name)
    readings, strips = name_rhythm_strips(readings, n_rhythm)
    if n_rhythm:
        lay = dataclasses.replace(
            lay,
            name=f"{lay.name}:{','.join(strips)}",
            panels=tuple(p for p, _ in readings),
        )
    return Digitization(
        leads=_assemble(readings),
        layout=lay,
        pulses=pulses,
        baselines=tuple(baselines),
        line_width_px=float(np.median(widths)),
        coverage=tuple(coverage),
        paper_speed=float(lay.paper_speed),
        gain=float(np.median(gains)) if gains else GAIN_MM_PER_MV,
        row_gains=tuple(gains),
        gain_found=gain_found,
    )


def digitize_station(page: Page, opts: Options) -> tuple[Page, Digitization]:
    """Digitize station: the 12 leads of the upright page (read turned by 180 degrees if need be).

    The recorded result is the :class:`Digitization` without its leads (they
    travel in the page, and from there in the image's result).
    """
    from ..orient import read_upright

    g = page.grid
    lines = None
    if g is not None and np.isfinite(g.phase_x):
        period = (5.0 if g.major_found else 1.0) * g.px_per_mm_x
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
        )

    dig, turns, r0, r1 = read_upright(read, page.image, page.trace_mask)
    small = dataclasses.replace(
        dig, leads={}, quarter_turns=turns, einthoven=r1 if turns else r0, einthoven_turned=r1
    )
    return dataclasses.replace(page, leads=dict(dig.leads)), small
