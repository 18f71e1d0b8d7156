"""Column blocks: a 6x2 page printed as two blocks side by side.

Some carts print a 6x2 page's two columns as blocks of their own: the limb leads
on the left, V1-V6 on the right, a gap between them, each block behind its own
calibration pulses and on baselines of its own (a scan of one: the right
block's 3 mm above the left's). The trace rows found across such a page are the
left block's only, holding half of 10 s, and read as a 6x2 their second half
passes for V1-V6. :func:`read_column_blocks` reads each block as six rows of
one lead (rows of 12x1) and puts them together as one 6x2 reading whose right
block's leads start where the left block's end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import EcgprepError, LayoutError
from .layout import RowInfo, paper_speed_of

__all__ = ["BLOCK_LAYOUT", "blocks_in_doubt", "block_speed", "read_column_blocks"]

#: The layout printed in column blocks, and its two blocks as runs of rows of
#: one lead each (rows of 12x1: I-aVF, then V1-V6, the 6x2 columns' order).
BLOCK_LAYOUT = "6x2"
BLOCK_WINDOWS = ("12x1[rows 1-6]", "12x1[rows 7-12]")
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

ReadBlock = Callable[[int, int, str, float], Any]


def blocks_in_doubt(reading: Any) -> bool:
    """Whether a reading may be the left block of a 6x2 page printed in blocks.

    True for a whole 6x2 reading (no row window) whose rows hold at most
    :data:`BLOCK_ROW_MAX_S` and whose page does not cut them.
    """
    lay = reading.layout
    return (
        lay.name == BLOCK_LAYOUT
        and float(lay.record_s) <= BLOCK_ROW_MAX_S
        and not lay.cut
        and len(lay.rows) == 6
    )


def block_speed(reading: Any, px_per_mm_x: float) -> tuple[float, bool]:
    """Paper speed (mm/s) at which the reading's rows hold half the record, and
    whether it is a standard speed (False: 25 mm/s assumed)."""
    lay = reading.layout
    length_mm = float(np.median([r.x_end - r.x_start for r in lay.rows])) / px_per_mm_x
    try:
        return paper_speed_of(2.0 * length_mm), True
    except (LayoutError, ValueError):
        return float(lay.paper_speed), False


def read_column_blocks(
    reading: Any,
    width: int,
    read_block: ReadBlock,
    *,
    px_per_mm_x: float,
    paper_speed: float,
    speed_found: bool = True,
) -> Any | None:
    """Read a 6x2 page as two column blocks side by side, if it is printed so.

    Parameters
    ----------
    reading : Digitization
        The page read whole (:func:`blocks_in_doubt` true of it): its rows are
        the left block's.
    width : int
        The page's width (px).
    read_block : callable
        ``read_block(x0, x1, layout, paper_speed)``: the page's columns
        ``[x0, x1)`` read as ``layout`` (a :class:`Digitization` in those
        columns' coordinates), or raising :class:`~ecgprep.errors.EcgprepError`.
    px_per_mm_x : float
        Horizontal scale.
    paper_speed : float
        mm/s the blocks are read at (:func:`block_speed`, or named).
    speed_found : bool
        The speed was named or found (recorded in the layout).

    Returns
    -------
    Digitization or None
        One 6x2 reading: the left block's rows and leads, then the right
        block's (their columns and pulses in the page's coordinates, their leads
        starting where the left block's end; ``layout.blocks`` 2). None when the
        page holds no right block: the rest of the page is too narrow, its
        reading fails, or its six rows do not stand beside the left block's
        (:data:`BLOCK_SHIFT_SHARE`) with as long a record
        (:data:`BLOCK_LENGTH_TOLERANCE`).
    """
    rows = reading.layout.rows
    x_start = float(np.median([r.x_start for r in rows]))
    x_end = float(np.median([r.x_end for r in rows]))
    split = int(round(x_end + BLOCK_SPLIT_MM * px_per_mm_x))
    if width - split < (1.0 - BLOCK_LENGTH_TOLERANCE) * (x_end - x_start):
        return None  # no room for another block
    try:
        left = read_block(0, split, BLOCK_WINDOWS[0], paper_speed)
        right = read_block(split, width, BLOCK_WINDOWS[1], paper_speed)
    except EcgprepError:
        return None
    ly = np.array([r.y for r in left.layout.rows])
    ry = np.array([r.y for r in right.layout.rows])
    if ly.size != 6 or ry.size != 6:
        return None
    spacing = float(np.median(np.diff(ly)))
    if np.max(np.abs(ry - ly)) > BLOCK_SHIFT_SHARE * spacing:
        return None
    t_left, t_right = float(left.layout.record_s), float(right.layout.record_s)
    if abs(t_right - t_left) > BLOCK_LENGTH_TOLERANCE * t_left:
        return None
    return _joined(left, right, split, speed_found)


def _joined(left: Any, right: Any, split: int, speed_found: bool) -> Any:
    """One reading of the two blocks' (the right one's columns ``split`` px on)."""
    n = len(left.layout.rows)
    off = float(left.layout.record_s)
    shifted_rows = tuple(
        RowInfo(n + r.index, r.y, r.y_top, r.y_bottom, r.x_start + split, r.x_end + split)
        for r in right.layout.rows
    )
    shifted_panels = tuple(
        dataclasses.replace(p, row=p.row + n, t0_s=p.t0_s + off, x0=p.x0 + split, x1=p.x1 + split)
        for p in right.layout.panels
    )
    lay = dataclasses.replace(
        left.layout,
        name=BLOCK_LAYOUT,
        rows=left.layout.rows + shifted_rows,
        panels=left.layout.panels + shifted_panels,
        confidence=min(left.layout.confidence, right.layout.confidence),
        speed_found=bool(speed_found),
        trace_rows=left.layout.trace_rows + right.layout.trace_rows,
        record_s=off + float(right.layout.record_s),
        cut=bool(right.layout.cut),
        blocks=2,
    )
    pulses = left.pulses + tuple(
        dataclasses.replace(p, row=p.row + n, x0=p.x0 + split, x1=p.x1 + split)
        for p in right.pulses
    )
    leads = dict(left.leads)
    for name, sig in right.leads.items():
        leads[name] = dataclasses.replace(sig, start_s=sig.start_s + off)
    gains = left.row_gains + right.row_gains
    return dataclasses.replace(
        left,
        leads=leads,
        layout=lay,
        pulses=pulses,
        baselines=left.baselines + right.baselines,
        line_width_px=float(np.median([left.line_width_px, right.line_width_px])),
        coverage=left.coverage + right.coverage,
        gain=float(np.median(gains)) if gains else left.gain,
        row_gains=gains,
        gain_found=bool(left.gain_found or right.gain_found),
        speeds_alike=(),
        panel_bars=left.panel_bars + right.panel_bars,
        rows_guessed=False,
    )
