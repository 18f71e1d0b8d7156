"""Column blocks: a 6x2 page printed as two blocks side by side.

Some carts print a 6x2 page's two columns as blocks of their own: the limb leads
on the left, V1-V6 on the right, a gap between them, each block behind its own
calibration pulses and on baselines of its own (a scan of one: the right
block's 3 mm above the left's). The trace rows found across such a page are the
left block's only, holding half of 10 s, and read as a 6x2 their second half
passes for V1-V6. :func:`read_column_blocks` reads each block as six rows of
one lead (rows of 12x1) and puts them together as one 6x2 reading whose right
block's leads start where the left block's end. A rhythm strip printed under
both blocks (6x2+1) is read on its own, across the page, as 10 s of its lead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import EcgprepError, LayoutError
from ..signals import LIMB_BASIS, einthoven_residual
from ..standards import LEADS, layout_rows, rhythm_count, window_name
from .layout import RowInfo, paper_speed_of

__all__ = ["BLOCK_LAYOUTS", "blocks_in_doubt", "block_speed", "read_column_blocks"]

#: The layouts printed in column blocks (with or without rhythm strips under
#: them), and its two blocks as runs of rows of one lead each (rows of 12x1:
#: I-aVF, then V1-V6, the 6x2 columns' order).
BLOCK_LAYOUTS = ("6x2", "6x2+1")
BLOCK_WINDOWS = ("12x1[rows 1-6]", "12x1[rows 7-12]")
#: Rows of each block.
BLOCK_ROWS = 6
#: How near a rhythm strip's baseline the blocks above it are read down to, and
#: how near the blocks' last baseline the strip is read up to (mm): its R waves
#: reach most of the way up, their S waves down; a baseline's own flat trace
#: stays out of the other's part.
BLOCK_STRIP_MARGIN_MM = 2.0
#: Longest a 6x2 reading's rows may hold (s) for the page to be read as blocks:
#: a block holds half of the 10 s record (5 s, or less on a page that is cut);
#: rows of 10 s are whole rows.
BLOCK_ROW_MAX_S = 7.0
#: Where the left block is cut from the rest of the page: this far past its
#: rows' end (mm): clear of the pen's end, short of the next block's pulse
#: (5-6 mm further on).
BLOCK_SPLIT_MM = 1.0
#: Farthest a right block's row may stand from the left block's row beside it
#: (share of the rows' spacing): blocks printed apart shift by a few mm, and a
#: row nearer another row is not beside it.
BLOCK_SHIFT_SHARE = 0.4
#: Largest difference of the two blocks' lengths (share of the left one's): both
#: hold half the record.
BLOCK_LENGTH_TOLERANCE = 0.25

#: Einthoven residual under which a right block's first three rows, taken for
#: I, II and III (and its last three for aVR, aVL and aVF), are limb leads: a
#: second page's, not a block of V1-V6 (V1 + V3 - V2 measured 0.6-1.5 of the
#: terms on 26 real and 60 synthetic records; limb leads read right stay under 0.5).
BLOCK_LIMB_RESIDUAL = 0.4

ReadBlock = Callable[[int, int, int, int, str, float], Any]


def blocks_in_doubt(reading: Any, width: int | None = None) -> bool:
    """Whether a reading may be the left block of a 6x2 page printed in blocks.

    True for a whole 6x2 or 6x2+1 reading (no row window) whose page does not
    cut its rows, when they hold at most :data:`BLOCK_ROW_MAX_S` or, given the
    page's ``width`` (px), leave room right of them for another block as long
    (a 50 mm/s page: its left block alone holds 10 s at 25 mm/s).
    """
    lay = reading.layout
    base = str(lay.name).split(":", 1)[0]
    if not (
        base in BLOCK_LAYOUTS
        and not lay.cut
        and len(lay.rows) == BLOCK_ROWS + rhythm_count(lay.name)
    ):
        return False
    if float(lay.record_s) <= BLOCK_ROW_MAX_S:
        return True
    if width is None:
        return False
    x_start, x_end = _extent(lay.rows[:BLOCK_ROWS])
    return width - x_end >= (1.0 - BLOCK_LENGTH_TOLERANCE) * (x_end - x_start)


def _extent(rows: tuple) -> tuple[float, float]:
    """Where a block's rows start and end (px): their medians."""
    return float(np.median([r.x_start for r in rows])), float(np.median([r.x_end for r in rows]))


def block_speed(reading: Any, px_per_mm_x: float) -> tuple[float, bool]:
    """Paper speed (mm/s) at which the reading's rows hold half the record, and
    whether it is a standard speed (False: 25 mm/s assumed)."""
    lay = reading.layout
    rows = lay.rows[:BLOCK_ROWS]  # (a strip under the blocks ends with them)
    length_mm = float(np.median([r.x_end - r.x_start for r in rows])) / px_per_mm_x
    try:
        return paper_speed_of(2.0 * length_mm), True
    except (LayoutError, ValueError):
        return float(lay.paper_speed), False


def read_column_blocks(
    reading: Any,
    shape: tuple[int, int],
    read_block: ReadBlock,
    *,
    px_per_mm_x: float,
    px_per_mm_y: float,
    paper_speed: float,
    speed_found: bool = True,
) -> Any | None:
    """Read a 6x2 page as two column blocks side by side, if it is printed so.

    Parameters
    ----------
    reading : Digitization
        The page read whole (:func:`blocks_in_doubt` true of it): its rows are
        the left block's.
    shape : tuple of int
        The page's ``(height, width)`` (px).
    read_block : callable
        ``read_block(x0, x1, y0, y1, layout, paper_speed)``: the page's part
        ``[y0, y1) x [x0, x1)`` read as ``layout`` (a :class:`Digitization` in
        that part's coordinates), or raising :class:`~ecgprep.errors.EcgprepError`.
    px_per_mm_x, px_per_mm_y : float
        Scale.
    paper_speed : float
        mm/s the blocks are read at (:func:`block_speed`, or named).
    speed_found : bool
        The speed was named or found (recorded in the layout).

    Returns
    -------
    Digitization or None
        One 6x2 reading: the left block's rows and leads, then the right
        block's (their columns and pulses in the page's coordinates, their leads
        starting where the left block's end; ``layout.blocks`` 2), then a
        rhythm strip's, read across the page under the blocks (the reading's
        name keeps its lead). None when the page holds no right block: the rest
        of the page is too narrow, its reading fails, or its six rows do not
        stand beside the left block's (:data:`BLOCK_SHIFT_SHARE`) with as long a
        record (:data:`BLOCK_LENGTH_TOLERANCE`), or they obey Einthoven's law as
        limb leads (:data:`BLOCK_LIMB_RESIDUAL`: a second page beside this one).
    """
    height, width = (int(v) for v in shape[:2])
    rows = reading.layout.rows[:BLOCK_ROWS]
    strips = reading.layout.rows[BLOCK_ROWS:]
    x_start, x_end = _extent(rows)
    split = int(round(x_end + BLOCK_SPLIT_MM * px_per_mm_x))
    if width - split < (1.0 - BLOCK_LENGTH_TOLERANCE) * (x_end - x_start):
        return None  # no room for another block
    # the blocks down to near the strips' baseline, the strips up to near the
    # blocks' last baseline: waves reach into the neighbour's half, and the
    # other row's ink there is in short strokes, no row
    reach = int(round(BLOCK_STRIP_MARGIN_MM * px_per_mm_y))
    y_end = int(round(strips[0].y)) - reach if strips else height
    y_cut = int(round(rows[-1].y)) + reach if strips else height
    try:
        left = read_block(0, split, 0, y_end, BLOCK_WINDOWS[0], paper_speed)
        right = read_block(split, width, 0, y_end, BLOCK_WINDOWS[1], paper_speed)
        under = None
        if strips:
            leads = [row[0][0] for row in layout_rows(reading.layout.name)[BLOCK_ROWS:]]
            at = [LEADS.index(lead) + 1 for lead in leads]
            if at != list(range(at[0], at[0] + len(at))):
                return None  # the strips' leads are no run of 12x1's rows
            window = window_name("12x1", at[0], at[-1])
            under = read_block(0, width, y_cut, height, window, paper_speed)
    except EcgprepError:
        return None
    as_limb = dict(zip(LIMB_BASIS, (right.leads.get(k) for k in LEADS[6:]), strict=True))
    if einthoven_residual(as_limb) < BLOCK_LIMB_RESIDUAL:
        return None  # its rows are limb leads: another page's, beside this one
    ly = np.array([r.y for r in left.layout.rows])
    ry = np.array([r.y for r in right.layout.rows])
    if ly.size != BLOCK_ROWS or ry.size != BLOCK_ROWS:
        return None
    spacing = float(np.median(np.diff(ly)))
    if np.max(np.abs(ry - ly)) > BLOCK_SHIFT_SHARE * spacing:
        return None
    t_left, t_right = float(left.layout.record_s), float(right.layout.record_s)
    if abs(t_right - t_left) > BLOCK_LENGTH_TOLERANCE * t_left:
        return None
    # (the left block ends at its part's edge, cut or not: the right one says)
    joined = _joined(left, right, split, 0, speed_found, cut=bool(right.layout.cut))
    if under is not None:
        cut = bool(joined.layout.cut or under.layout.cut)
        joined = _joined(joined, under, 0, y_cut, speed_found, cut=cut, shift_time=False)
    return dataclasses.replace(
        joined, layout=dataclasses.replace(joined.layout, name=reading.layout.name, blocks=2)
    )


def _joined(
    first: Any,
    then: Any,
    dx: int,
    dy: int,
    speed_found: bool,
    *,
    cut: bool,
    shift_time: bool = True,
) -> Any:
    """One reading of two: ``then``'s rows after ``first``'s, its part ``dx`` px
    right and ``dy`` px down of the page's corner, its leads starting where
    ``first``'s rows end (``shift_time``; else where they start, a lead read
    longer there replacing ``first``'s)."""
    n = len(first.layout.rows)
    off = float(first.layout.record_s) if shift_time else 0.0
    shifted_rows = tuple(
        RowInfo(n + r.index, r.y + dy, r.y_top + dy, r.y_bottom + dy, r.x_start + dx, r.x_end + dx)
        for r in then.layout.rows
    )
    shifted_panels = tuple(
        dataclasses.replace(p, row=p.row + n, t0_s=p.t0_s + off, x0=p.x0 + dx, x1=p.x1 + dx)
        for p in then.layout.panels
    )
    record_s = off + float(then.layout.record_s)
    lay = dataclasses.replace(
        first.layout,
        rows=first.layout.rows + shifted_rows,
        panels=first.layout.panels + shifted_panels,
        confidence=min(first.layout.confidence, then.layout.confidence),
        speed_found=bool(speed_found),
        trace_rows=first.layout.trace_rows + then.layout.trace_rows,
        record_s=max(record_s, float(first.layout.record_s)),
        cut=cut,
    )
    pulses = first.pulses + tuple(
        dataclasses.replace(
            p, row=p.row + n, x0=p.x0 + dx, x1=p.x1 + dx, baseline_px=p.baseline_px + dy
        )
        for p in then.pulses
    )
    leads = dict(first.leads)
    for name, sig in then.leads.items():
        if name not in leads or sig.values.size > leads[name].values.size:
            leads[name] = dataclasses.replace(sig, start_s=sig.start_s + off)
    gains = first.row_gains + then.row_gains
    segments = first.segments + tuple(
        (dataclasses.replace(sig, start_s=sig.start_s + off), doubt) for sig, doubt in then.segments
    )
    return dataclasses.replace(
        first,
        leads=leads,
        segments=segments,
        layout=lay,
        pulses=pulses,
        baselines=first.baselines + tuple(b + dy for b in then.baselines),
        line_width_px=float(np.median([first.line_width_px, then.line_width_px])),
        coverage=first.coverage + then.coverage,
        gain=float(np.median(gains)) if gains else first.gain,
        row_gains=gains,
        gain_found=bool(first.gain_found or then.gain_found),
        speeds_alike=(),
        panel_bars=first.panel_bars + then.panel_bars,
        rows_guessed=False,
    )
