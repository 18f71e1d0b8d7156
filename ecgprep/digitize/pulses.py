"""Calibration pulses: the gain (mm/mV) each row was printed at, from its 1 mV pulse.

:func:`find_calibration_pulses` looks left of each row's time origin for
pulse-shaped ink and measures its rising edge: checked against the grid's scale
when the gain is named, or matched to a standard gain
(:data:`ecgprep.standards.GAINS_MM_PER_MV`) when it is ``"auto"``; :func:`_row_gains`
then gives every row its gain. The paper speed is found with the layout, from the
rows' length (:func:`ecgprep.digitize.layout.paper_speed_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from .._validate import check_mask
from ..standards import AUTO, GAIN_MM_PER_MV, GAINS_MM_PER_MV, PULSE_MV, PULSE_SECONDS
from .layout import (
    PULSE_EDGE_MM,
    PULSE_GAP_MIN_PX,
    PULSE_GAP_MM,
    PULSE_RUN_MIN_MM,
    PULSE_TOP_MM,
    ROW_BAND_SHARE,
    LayoutResult,
    edge_top,
    top_run_end,
)
from .trace import column_runs

__all__ = ["PulseInfo", "find_calibration_pulses", "standard_gain"]


@dataclass(frozen=True)
class PulseInfo:
    """The calibration pulse at the left of one row, if found.

    ``height_mv`` is the pulse height converted with the grid's voltage scale: about
    1.0 when the grid scale and the printed gain agree. ``gain`` is the mm/mV the
    pulse shows (NaN when not found). ``baseline_px`` is the row's 0 mV level the
    pulse gives (page row, px): the centre of its flat top plus 1 mV at that
    gain, as the pulse rises from the baseline (NaN when not found, or found
    by its ``outline`` only: a pulse whose parts went with grid lines of its
    colour, whose gain then only votes for the page's).
    """

    row: int
    found: bool
    x0: float = 0.0
    x1: float = 0.0
    height_px: float = 0.0
    height_mv: float = 0.0
    gain: float = float("nan")
    baseline_px: float = float("nan")
    outline: bool = False


#: How far a pulse's measured height (mm, stroke included) may lie from a standard
#: gain's 1 mV for the gain to be taken from it (share): the gains stand a factor
#: 2 apart, so 0.2 never takes one for another.
PULSE_GAIN_TOLERANCE = 0.2
#: Widths a calibration pulse may measure (its rising edge to its flat top's
#: end), as shares of 0.2 s at the paper speed: some carts draw the pulse 0.1 s
#: wide (2.5 mm at 25 mm/s on Chinese 6x2 and 12x1 prints), the strokes add a
#: little; a lead label's strokes are far narrower. Never narrower than
#: :data:`~ecgprep.digitize.layout.PULSE_RUN_MIN_MM` at any speed.
PULSE_WIDTH_SHARE = (0.4, 1.6)
#: How far left of a row's origin its calibration pulse is searched for (mm, beyond
#: the pulse's own 0.2 s at the paper speed; never past the page's edge): carts
#: leave 0-2 mm between them ...
PULSE_LEAD_MM = 3.0
#: ... and, in the rows where none stands there, this far: a wfdb plot of a real
#: record (real-dev) leaves 7 mm. (Searched that far in every row, the pulse of
#: an ecg-dev page was taken from the scan's dark edge, 12.6 dB for 22.3; ink
#: the window's edge cuts is no pulse.)
PULSE_FAR_LEAD_MM = 12.0
#: How far right of a row's time origin the pulse's window runs (mm): the pulse's
#: falling edge stands on the origin or a sample after it.
PULSE_PAST_ORIGIN_MM = 0.5
#: How far above the baseline a pulse's ink is looked for (mV at the gain looked
#: for; the tallest gain when it is ``"auto"``): the pulse's 1 mV and room to spare.
PULSE_ABOVE_MV = 1.6
#: ... and, when the gain is ``"auto"``, at most this share of the way to the row
#: above (whose own pulse stands in the same columns).
PULSE_ROW_ABOVE_SHARE = 0.8
#: How far below the baseline the pulse's window reaches (mV at the gain): the
#: baseline's stroke and wobble, not the waves under it.
PULSE_BELOW_MV = 0.4
#: Columns after the first tall one that are still the rising edge (px): its
#: anti-aliased columns.
PULSE_EDGE_COLS = 2
#: Heights a pulse may measure, as shares of 1 mV at its gain (stroke included):
#: looser than :data:`PULSE_GAIN_TOLERANCE`, for a gain named rather than found.
PULSE_HEIGHT_SHARE = (0.6, 1.4)
#: Share of a pulse's width a row of ink must cover to be its flat top ...
PULSE_FLAT_COVER = 0.6
#: ... and share of the way from that top down to the baseline the pulse's
#: falling edge, at the top's right end, must be inked (its rising edge may be
#: broken: a thin pen over a grid line of its colour).
PULSE_FALL_FILL = 0.6
#: A pulse whose height lies this near a gain's 1 mV (share) is not looked at
#: again for a flat top lower down (:func:`_flat_top_below`): the pen's width
#: and the resampling's blur.
PULSE_TOP_FIT = 0.04
#: ... and a top lower down is taken only under a row this bare (share of 0.2 s
#: inked) between it and the ink above: the gap between text and the pulse.
PULSE_TOP_GAP_COVER = 0.3


#: A pulse drawn on grid lines as dark as the trace loses the parts lying in
#: them when the lines are taken out of the ink (its edges on 5 mm lines, its
#: top on one too). Where no pulse stands whole, its outline is matched
#: instead, on such pages only: the rectangle 0.2 s (or 0.1 s) wide and 1 mV tall
#: at a standard gain, standing on the row's baseline and ending at its time
#: origin, whose outline runs through trace ink or removed line ink all along
#: (at most this share of it over bare paper) ...
OUTLINE_PAPER_MAX = 0.1
#: ... with trace ink over at least this share of its top (its height is the
#: gain: a top lost in a line leaves the gain unknown; the lower half of a
#: 10 mm/mV pulse's edges is a whole 5 mm/mV outline but for its top) ...
OUTLINE_TOP_INK_MIN = 0.5
#: ... and of its two edges together (a line of text at 1 mV, its ends on lines,
#: holds none).
OUTLINE_EDGE_INK_MIN = 0.15
#: ... and at most this share of its inside inked (a pulse is hollow; the
#: trace's waves, a label's strokes are not).
OUTLINE_INSIDE_MAX = 0.03
#: How far from the rectangle's outline its ink may lie (mm): the pen's width and
#: a turned page's resampling.
OUTLINE_TOLERANCE_MM = 0.3
#: How far from the row's baseline the rectangle may stand (mm): the baseline a
#: row's profile gives is off by up to 1.3 mm on turned black-and-white pages.
OUTLINE_BASE_MM = 1.5
#: How far left and right of the row's time origin the rectangle's falling edge
#: is looked for (mm).
OUTLINE_SEARCH_MM = (1.5, 0.5)


def standard_gain(height_mm: float) -> float:
    """The standard gain (mm/mV) whose 1 mV pulse is ``height_mm`` tall.

    Parameters
    ----------
    height_mm : float
        A pulse's measured height, stroke included.

    Returns
    -------
    float
        5, 10 or 20 (:data:`ecgprep.standards.GAINS_MM_PER_MV`) when the height lies
        within :data:`PULSE_GAIN_TOLERANCE` of that gain's 1 mV; NaN when none is close.
    """
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
    line_ink: np.ndarray | None = None,
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
    line_ink : (M, N) bool ndarray, optional
        Grid-line ink taken out of ``trace_mask`` (a page whose lines are as dark
        as its trace). Given, a row whose pulse does not stand whole has it
        matched by its outline (:data:`OUTLINE_PAPER_MAX`).

    Returns
    -------
    tuple of PulseInfo
        One per row; ``found`` False where no pulse-shaped ink stands there.
    """
    mask = check_mask(trace_mask, "trace_mask")
    kw = {
        "px_per_mm_x": px_per_mm_x,
        "px_per_mm_y": px_per_mm_y,
        "gain": gain,
        "line_ink": line_ink,
    }
    near = _find_pulses(mask, layout, lead_mm=PULSE_LEAD_MM, **kw)
    if all(p.found for p in near):
        return near
    # Rows whose pulse stands farther off (the outline was matched already): a
    # far pulse of the gain the near ones show.
    far = _find_pulses(mask, layout, lead_mm=PULSE_FAR_LEAD_MM, **(kw | {"line_ink": None}))
    near_gains = {p.gain for p in near if p.found}

    def fits(p: PulseInfo) -> bool:
        return p.found and (not near_gains or p.gain in near_gains)

    return tuple(b if not a.found and fits(b) else a for a, b in zip(near, far, strict=True))


def _find_pulses(
    mask: np.ndarray,
    layout: LayoutResult,
    *,
    px_per_mm_x: float,
    px_per_mm_y: float,
    gain: float | str,
    line_ink: np.ndarray | None,
    lead_mm: float,
) -> tuple[PulseInfo, ...]:
    """:func:`find_calibration_pulses` with the search reaching ``lead_mm`` left of
    each row's pulse-wide stretch before its origin."""
    auto = gain == AUTO
    out = []
    speed = float(layout.paper_speed)
    pulse_px = PULSE_SECONDS * speed * px_per_mm_x
    lo, hi = PULSE_WIDTH_SHARE
    lo_px = min(lo * pulse_px, PULSE_RUN_MIN_MM * px_per_mm_x)
    h_lo, h_hi = PULSE_HEIGHT_SHARE
    join = max(PULSE_GAP_MIN_PX, int(PULSE_GAP_MM * px_per_mm_x))
    top_px = max(1, int(round(PULSE_TOP_MM * px_per_mm_y)))
    for row in layout.rows:
        g_search = max(GAINS_MM_PER_MV) if auto else float(gain)
        reach = PULSE_ABOVE_MV * PULSE_MV * g_search * px_per_mm_y
        if auto:
            # never up to the row above (its pulse stands at the same columns)
            # (row.y - row.y_top) / ROW_BAND_SHARE: the spacing to the row above
            reach = min(reach, PULSE_ROW_ABOVE_SHARE * (row.y - row.y_top) / ROW_BAND_SHARE)
        x1 = int(round(row.x_start + PULSE_PAST_ORIGIN_MM * px_per_mm_x))
        x0 = max(0, int(round(row.x_start - pulse_px - lead_mm * px_per_mm_x)))
        if x1 <= x0:
            out.append(PulseInfo(row.index, False))
            continue
        y0 = max(0, int(row.y - reach))
        below = PULSE_BELOW_MV * PULSE_MV * (GAIN_MM_PER_MV if auto else float(gain)) * px_per_mm_y
        y1 = min(mask.shape[0], int(row.y + below))
        sub = mask[y0:y1, x0:x1]
        cols = np.nonzero(sub.any(axis=0))[0]
        if cols.size == 0:
            out.append(PulseInfo(row.index, False))
            continue
        # The pulse's rising edge: an unbroken vertical stroke at least
        # PULSE_EDGE_MM tall from the baseline, so neither ink above it that does
        # not touch it (the row above, text) nor a short wobble counts; it rises
        # on to the pulse's top across breaks (edge_top). Each tall stroke, left
        # to right, may be the edge (a lead label's strokes stand left of the
        # pulse): the first whose flat top runs 0.2 s wide and whose height is a
        # gain's 1 mV is the pulse (else, not found, the first tall stroke's
        # height and the ink's extent are reported).
        rx, tops, bottoms = column_runs(sub)
        level = row.y - y0  # the row's baseline in the window
        tall = (bottoms - tops) >= PULSE_EDGE_MM * px_per_mm_y
        found, x_a, x_b, height, g = (
            False,
            float(cols.min()),
            float(cols.max() + 1),
            0.0,
            float("nan"),
        )
        base = float("nan")  # the row's 0 mV, from a pulse found
        if not tall.any():
            height = float((bottoms - tops).max()) if tops.size else 0.0
        edges = np.unique(rx[tall])
        for first in edges[np.r_[True, np.diff(edges) > 1]] if edges.size else ():
            edge = tall & (rx >= first) & (rx <= first + PULSE_EDGE_COLS)  # anti-aliased columns
            bottom = int(bottoms[edge].max())
            top = edge_top(sub, int(first), bottom)
            top = _flat_top_above(sub, int(first), top, bottom, pulse_px, top_px)
            inked_top = top
            top = _flat_top_below(sub, int(first), top, bottom, pulse_px, px_per_mm_y, gain)
            # a top found under ink above it: that ink is no part of the top
            above = top_px if top == inked_top else 0
            end = top_run_end(sub, int(first), top, join, top_px)
            # A rising edge broken off above the row's baseline: its falling edge
            # may reach down to the baseline (and no lower: the trace's own waves
            # start there), and then stands a gain's 1 mV tall. (A trace that
            # starts off its baseline, wandering, continues the falling edge too:
            # the pulse is then no gain's 1 mV tall, and its rising edge holds.)
            if bottom < level - top_px:
                fall = _fall_bottom(sub, end, top)
                g_f = standard_gain((fall - top) / px_per_mm_y) if auto else float(gain)
                tall_f = PULSE_MV * g_f * px_per_mm_y
                if (
                    abs(fall - level) <= 2 * top_px
                    and np.isfinite(g_f)
                    and h_lo * tall_f < fall - top < h_hi * tall_f
                ):
                    bottom = max(bottom, fall)
            h_e = float(bottom - top)
            g_e = standard_gain(h_e / px_per_mm_y) if auto else float(gain)
            expected = PULSE_MV * g_e * px_per_mm_y
            start = int(first)
            if end - first <= lo_px and abs(bottom - level) <= 2 * top_px:
                # A tall stroke down to the row's baseline whose flat top runs
                # left of it, not right: the pulse's falling edge, its rising
                # edge too faint to stand tall (a thin pen's edge, anti-aliased
                # over two columns, breaks up). (A stroke running on below the
                # baseline is the trace's first wave joining the edge.)
                start = _top_run_start(sub, int(first), top, join, top_px)
                end = int(first) + 1
            ok = (
                bool(np.isfinite(g_e))
                and h_lo * expected < h_e < h_hi * expected
                and lo_px < end - start < hi * pulse_px
                and start > 0  # ink cut by the window's (or the page's) edge: no edge seen
            )
            if ok:
                found, x_a, x_b, height, g = True, float(start), float(end), h_e, g_e
                top_c = _top_centre(sub, start, end, top, top_px, above=above)
                base = y0 + top_c + PULSE_MV * g * px_per_mm_y
                break
            if first == edges[0]:  # not found: the ink's extent, the first edge's height
                height = h_e
        if not found and line_ink is not None:
            match = _outline_pulse(
                mask,
                line_ink,
                row,
                gains=GAINS_MM_PER_MV if auto else (float(gain),),
                pulse_px=pulse_px,
                px_per_mm_x=px_per_mm_x,
                px_per_mm_y=px_per_mm_y,
            )
            if match is not None:  # its baseline is the row's own (NaN here)
                x_a, x_b, h_px, g_o = match
                h_mv = h_px / (PULSE_MV * g_o * px_per_mm_y)
                out.append(PulseInfo(row.index, True, x_a, x_b, h_px, h_mv, g_o, outline=True))
                continue
        expected = PULSE_MV * g * px_per_mm_y if np.isfinite(g) else 1.0
        out.append(
            PulseInfo(
                row.index,
                bool(found),
                float(x0 + x_a),
                float(x0 + x_b),
                height,
                height / expected if found else 0.0,
                g if found else float("nan"),
                base,
            )
        )
    return tuple(out)


def _outline_pulse(
    mask: np.ndarray,
    line_ink: np.ndarray,
    row: Any,
    *,
    gains: tuple[float, ...],
    pulse_px: float,
    px_per_mm_x: float,
    px_per_mm_y: float,
) -> tuple[float, float, float, float] | None:
    """The pulse's rectangle matched by its outline (:data:`OUTLINE_PAPER_MAX`).

    Returns ``(x0, x1, height_px, gain)`` of the best match (the most trace ink
    along the outline, then the least paper), or None when none matches.
    """
    h, w = mask.shape
    tol = max(1, int(round(OUTLINE_TOLERANCE_MM * px_per_mm_x)))
    base_tol = OUTLINE_BASE_MM * px_per_mm_y
    left, right = OUTLINE_SEARCH_MM
    xa = max(0, int(round(row.x_start - pulse_px - left * px_per_mm_x)) - tol)
    xb = min(w, int(round(row.x_start + right * px_per_mm_x)) + tol + 1)
    # the gains whose pulse fits under the page's top edge
    gains = tuple(g for g in gains if row.y - base_tol - PULSE_MV * g * px_per_mm_y >= tol)
    if not gains or xb - xa <= 2 * tol:
        return None
    ya = int(np.floor(row.y - base_tol - PULSE_MV * max(gains) * px_per_mm_y)) - tol
    yb = min(h, int(np.ceil(row.y + base_tol)) + tol + 1)
    ink = np.ascontiguousarray(mask[ya:yb, xa:xb], dtype=np.uint8)
    seen = ink | np.asarray(line_ink[ya:yb, xa:xb], np.uint8)
    k = 2 * tol + 1
    across = np.ones((1, k), np.uint8)  # an edge's ink within tol of its column
    along = np.ones((k, 1), np.uint8)  # a top's ink within tol of its row
    zeros_x = np.zeros((ink.shape[0], 1), np.int32)
    zeros_y = np.zeros((1, ink.shape[1]), np.int32)
    top_ink = np.hstack((zeros_x, np.cumsum(cv2.dilate(ink, along), axis=1, dtype=np.int32)))
    top_seen = np.hstack((zeros_x, np.cumsum(cv2.dilate(seen, along), axis=1, dtype=np.int32)))
    edge_ink = np.vstack((zeros_y, np.cumsum(cv2.dilate(ink, across), axis=0, dtype=np.int32)))
    edge_seen = np.vstack((zeros_y, np.cumsum(cv2.dilate(seen, across), axis=0, dtype=np.int32)))
    level = row.y - ya
    best = None
    for share in (1.0, 0.5):  # 0.2 s, or the 0.1 s of some carts
        width = int(round(share * pulse_px))
        if width <= 4 * tol:
            continue
        for xr in range(int(round(row.x_start - left * px_per_mm_x)) - xa, xb - xa - tol):
            xl = xr - width
            if xl < tol:
                continue
            cover = (top_ink[:, xr + 1] - top_ink[:, xl]) / (width + 1)
            for t in np.flatnonzero(cover >= OUTLINE_TOP_INK_MIN):
                for g in gains:
                    bottom = int(round(t + PULSE_MV * g * px_per_mm_y))
                    if abs(bottom - level) > base_tol or bottom >= ink.shape[0]:
                        continue
                    n_top, n_edge = width + 1, 2 * (bottom - t)
                    on_edges = sum(int(edge_ink[bottom, x] - edge_ink[t, x]) for x in (xl, xr))
                    seen_n = int(top_seen[t, xr + 1] - top_seen[t, xl]) + sum(
                        int(edge_seen[bottom, x] - edge_seen[t, x]) for x in (xl, xr)
                    )
                    n = n_top + n_edge
                    if (
                        n - seen_n > OUTLINE_PAPER_MAX * n
                        or on_edges < OUTLINE_EDGE_INK_MIN * n_edge
                    ):
                        continue
                    inside = ink[t + 2 * tol : bottom - 2 * tol, xl + 2 * tol : xr - 2 * tol]
                    if inside.size and inside.mean() > OUTLINE_INSIDE_MAX:
                        continue
                    inked = cover[t] * n_top + on_edges
                    key = (-inked / n, (n - seen_n) / n)  # the most trace ink along it
                    if best is None or key < best[0]:
                        best = (
                            key,
                            (float(xa + xl), float(xa + xr + 1), float(bottom - t), float(g)),
                        )
    return None if best is None else best[1]


def _top_run_start(window: np.ndarray, edge: int, top: int, join: int, top_px: int) -> int:
    """First column of the flat top that ends at column ``edge`` on row ``top``
    (:func:`~ecgprep.digitize.layout.top_run_end`, leftwards)."""
    w = window.shape[1]
    return w - top_run_end(window[:, ::-1], w - 1 - edge, top, join, top_px)


def _flat_top_above(
    window: np.ndarray, edge: int, top: int, bottom: int, pulse_px: float, top_px: int
) -> int:
    """The pulse's top: a flat top above the rising edge's highest ink, where one stands.

    A rising edge broken near its top (a thin pen over a grid line of its
    colour, a faint scan) makes the pulse look short: a gain's 1 mV read as
    half of another's (5 mm/mV for 10). The highest row over the edge whose ink
    covers :data:`PULSE_FLAT_COVER` of 0.2 s from the edge, and whose right end
    drops to the baseline as an inked falling edge (:data:`PULSE_FALL_FILL`), is
    the top then; ``top`` itself when none stands above it.
    """
    width = int(round(pulse_px))
    cols = window[:top, edge : edge + width + 1]
    if cols.shape[0] == 0 or cols.shape[1] < 3:
        return top
    cover = cols.mean(axis=1)
    for r in np.flatnonzero(cover >= PULSE_FLAT_COVER):
        if r >= top - top_px:
            break
        right = int(np.flatnonzero(cols[r])[-1]) + edge
        fall = window[r:bottom, max(0, right - PULSE_EDGE_COLS) : right + 1].any(axis=1)
        if fall.size and fall.mean() >= PULSE_FALL_FILL:
            return int(r)
    return top


def _flat_top_below(
    window: np.ndarray,
    edge: int,
    top: int,
    bottom: int,
    pulse_px: float,
    px_per_mm_y: float,
    gain: float | str,
) -> int:
    """The pulse's top under the rising edge's highest ink, where one fits a gain better.

    Text printed just above a pulse (a header's last line, 0.5 mm over its top at
    100 dpi) continues its rising edge upwards across a gap too thin to break
    it: the pulse read 8 % too tall, or 30 % and no gain's 1 mV at all. Of
    ``top`` and the rows under it whose ink covers :data:`PULSE_FLAT_COVER` of
    0.2 s from the edge, the one standing nearest a gain's 1 mV over ``bottom``
    (the named gain's, or any standard one's) is the top; a row under ``top``
    only within :data:`PULSE_GAIN_TOLERANCE` of it, and under a bare row
    (:data:`PULSE_TOP_GAP_COVER`).
    """
    gains = GAINS_MM_PER_MV if gain == AUTO else (float(gain),)

    def off(r: int) -> float:
        h_mm = (bottom - r) / px_per_mm_y
        return min(abs(h_mm / (PULSE_MV * g) - 1.0) for g in gains)

    best, best_off = top, off(top)
    if best_off <= PULSE_TOP_FIT:
        return top
    width = int(round(pulse_px))
    cover = window[top:bottom, edge : edge + width + 1].mean(axis=1)
    if cover.size < 2 or width < 2:
        return top
    # only a flat row under a bare one: the rows of a thick pen's own top are
    # one stroke (a 3 px pen at 100 dpi is 5 % of 1 mV), not a top under text
    bare = np.maximum.accumulate(cover < PULSE_TOP_GAP_COVER)
    for i in np.flatnonzero((cover >= PULSE_FLAT_COVER) & np.r_[False, bare[:-1]]):
        o = off(top + int(i))
        if o <= PULSE_GAIN_TOLERANCE and o < best_off:
            best, best_off = top + int(i), o
    return best


def _fall_bottom(window: np.ndarray, end: int, top: int) -> int:
    """Lowest row of a pulse's falling edge, ending at column ``end`` (exclusive), from row ``top``.

    The lowest ink of the edge's columns down to which they are inked over
    :data:`PULSE_FALL_FILL` of the way from ``top``; ``top`` when none.
    """
    col = window[top:, max(0, end - 1 - PULSE_EDGE_COLS) : end].any(axis=1)
    if col.size == 0:
        return top
    share = np.cumsum(col) / np.arange(1, col.size + 1)
    ok = np.flatnonzero(col & (share >= PULSE_FALL_FILL))
    return top + int(ok[-1]) + 1 if ok.size else top


def _top_centre(
    window: np.ndarray, edge: int, end: int, top: int, top_px: int, *, above: int | None = None
) -> float:
    """Centre row of a pulse's flat top (``window`` rows), from its rising edge
    at column ``edge`` to column ``end``, whose ink starts at row ``top``.

    In each column of the top, away from both edges, the centre of the first
    run of ink from ``above`` rows over ``top`` (``top_px`` when not given; 0
    for a top found under other ink, :func:`_flat_top_below`) to ``top_px``
    under it; their median. ``top`` when no column is clear of the edges.
    """
    cols = window[:, edge + PULSE_EDGE_COLS + 1 : end - PULSE_EDGE_COLS - 1]
    lo = max(0, top - (top_px if above is None else int(above)))
    centres = []
    for c in range(cols.shape[1]):
        ink = np.flatnonzero(cols[lo : top + 4 * top_px + 1, c])
        if ink.size == 0 or ink[0] > 2 * top_px:
            continue
        breaks = np.flatnonzero(np.diff(ink) > 1)
        last = ink[breaks[0]] if breaks.size else ink[-1]
        centres.append(lo + 0.5 * (ink[0] + last))
    if not centres:
        return float(top)
    return float(np.median(centres))


def _row_gains(pulses: tuple[PulseInfo, ...], gain: float | str) -> tuple[tuple[float, ...], bool]:
    """mm/mV of each row, and whether the page's pulses gave them.

    A named gain holds for every row. ``"auto"``: a row's own pulse's gain (when
    it stands whole), else the most common gain of the rows' pulses (the
    standard 10 mm/mV among those tied), else the standard 10 mm/mV.
    """
    if gain != AUTO:
        return tuple(float(gain) for _ in pulses), True
    seen = [p.gain for p in pulses if p.found]
    if not seen:
        return tuple(GAIN_MM_PER_MV for _ in pulses), False
    values, counts = np.unique(seen, return_counts=True)
    tied = values[counts == counts.max()]
    # on a tie the standard gain: pulses that disagree are as likely broken
    common = float(GAIN_MM_PER_MV if GAIN_MM_PER_MV in tied else tied[0])
    return tuple(p.gain if p.found and not p.outline else common for p in pulses), True
