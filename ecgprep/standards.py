"""The conventions of a printed 12-lead ECG, written once for the whole package.

Every stage that needs a page size, the paper's speed and gain, the grid's
spacing, the lead list or a layout reads it from here.

Examples
--------
>>> from ecgprep import standards
>>> standards.LEADS[:3], standards.PAPER_SPEED_MM_S, standards.GAIN_MM_PER_MV
(('I', 'II', 'III'), 25.0, 10.0)
>>> [lead for lead, t0, dur in standards.LAYOUTS["3x4+1"][0]]
['I', 'aVR', 'V1', 'V4']
"""

from __future__ import annotations

import re

__all__ = [
    "LEADS",
    "RECORD_SECONDS",
    "PAPER_SPEED_MM_S",
    "GAIN_MM_PER_MV",
    "MINOR_MM",
    "MAJOR_MM",
    "PULSE_MV",
    "PULSE_SECONDS",
    "PAGE_SIZES_MM",
    "LETTER_MM",
    "LAYOUTS",
    "PAPER_SPEEDS_MM_S",
    "GAINS_MM_PER_MV",
    "AUTO",
    "Row",
    "layout_rows",
    "rhythm_count",
    "window_name",
    "is_window",
]

#: The twelve leads, in the competition's order (the one name of the lead list).
LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")

#: Seconds of signal a standard 12-lead page records (every column is a slice of it).
RECORD_SECONDS = 10.0
#: Paper speed by convention, mm/s (a 1 mm small square is 0.04 s).
PAPER_SPEED_MM_S = 25.0
#: Voltage gain by convention, mm/mV (a 1 mm small square is 0.1 mV).
GAIN_MM_PER_MV = 10.0
#: Spacing of the thin grid lines, mm.
MINOR_MM = 1.0
#: Spacing of the thick grid lines, mm (every fifth line).
MAJOR_MM = 5.0
#: Height of the calibration pulse, mV (10 mm at the standard gain).
PULSE_MV = 1.0
#: Width of the calibration pulse, s (5 mm at the standard speed).
PULSE_SECONDS = 0.2

#: Paper speeds ECG carts print at, mm/s (25 by convention; 50 for detail, 10 on some carts).
PAPER_SPEEDS_MM_S: tuple[float, ...] = (10.0, 25.0, 50.0)
#: Gains ECG carts print at, mm/mV (10 by convention; 5 for large, 20 for small signals).
GAINS_MM_PER_MV: tuple[float, ...] = (5.0, 10.0, 20.0)
#: The option value that asks a stage to find a setting on the page.
AUTO = "auto"

#: Paper sizes (long side, short side) in mm of the pages ECG carts print on.
PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    "letter": (279.4, 215.9),
    "a4": (297.0, 210.0),
}
#: US letter, landscape: the page of ecg-image-kit and the competition's renders.
LETTER_MM: tuple[float, float] = PAGE_SIZES_MM["letter"]

#: One printed row: panels ``(lead, t0_s, duration_s)`` side by side over the record.
Row = list[tuple[str, float, float]]

_ROWS_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_ROWS_6X2 = (("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6"))


def _split(leads, total: float = RECORD_SECONDS) -> Row:
    step = total / len(leads)
    return [(lead, i * step, step) for i, lead in enumerate(leads)]


def _rhythm(*leads: str) -> list[Row]:
    return [[(lead, 0.0, RECORD_SECONDS)] for lead in leads]


#: name -> printed rows, top to bottom; each row a list of ``(lead, t0_s, duration_s)``.
#: The rhythm strips of the ``+N`` layouts are printed in the order most carts use
#: (II; V1, II as GE prints them; II, V1, V5); ``"3x4+3:V1,II,V5"`` names another
#: order (:func:`layout_rows`).
LAYOUTS: dict[str, list[Row]] = {
    "3x4+1": [_split(r) for r in _ROWS_3X4] + _rhythm("II"),
    "3x4+2": [_split(r) for r in _ROWS_3X4] + _rhythm("V1", "II"),
    "3x4+3": [_split(r) for r in _ROWS_3X4] + _rhythm("II", "V1", "V5"),
    "3x4": [_split(r) for r in _ROWS_3X4],
    "6x2": [_split(r) for r in _ROWS_6X2],
    "6x2+1": [_split(r) for r in _ROWS_6X2] + _rhythm("II"),
    "12x1": _rhythm(*LEADS),
}


#: A row window after a layout's name: ``"[rows 1-2]"`` or ``"[row 4]"`` (1-based).
_WINDOW = re.compile(r"^(?P<base>[^\[\]:]+)\[rows? (?P<a>\d+)(?:-(?P<b>\d+))?\]$")


def window_name(base: str, first: int, last: int) -> str:
    """The name of rows ``first`` to ``last`` (1-based, inclusive) of layout ``base``.

    A partial page (a crop, a photo missing rows) prints only some rows of a
    layout: ``"3x4+1[rows 3-4]"`` names its third row and rhythm strip.

    Examples
    --------
    >>> window_name("3x4+1", 3, 4), window_name("12x1", 2, 2)
    ('3x4+1[rows 3-4]', '12x1[row 2]')
    """
    if first == last:
        return f"{base}[row {first}]"
    return f"{base}[rows {first}-{last}]"


def is_window(name: str) -> bool:
    """Whether layout ``name`` names a run of a layout's rows (:func:`window_name`).

    Examples
    --------
    >>> is_window("3x4+1[rows 3-4]"), is_window("3x4+1:II")
    (True, False)
    """
    return _split_name(name)[1] is not None


def _split_name(name: str) -> tuple[str, tuple[int, int] | None, str | None]:
    """``(base, (first, last) or None, strip leads or None)`` of a layout name."""
    head, sep, leads = name.partition(":")
    m = _WINDOW.match(head)
    if m is None:
        return head, None, leads if sep else None
    a = int(m["a"])
    b = int(m["b"]) if m["b"] else a
    return m["base"], (a, b), leads if sep else None


def rhythm_count(name: str) -> int:
    """How many 10 s rhythm strips the layout ``name`` prints under its short rows.

    Of a row window (``"3x4+2[rows 3-4]"``), the strips among its rows.

    Examples
    --------
    >>> rhythm_count("3x4+3"), rhythm_count("3x4+2[rows 3-4]"), rhythm_count("6x2")
    (3, 1, 0)
    """
    base, window, _ = _split_name(name)
    n = int(base.split("+", 1)[1]) if "+" in base else 0
    if window is None or base not in LAYOUTS:
        return n
    first_strip = len(LAYOUTS[base]) - n  # 0-based index of the first strip
    a, b = window
    return max(0, b - max(a - 1, first_strip))


def layout_rows(name: str) -> list[Row]:
    """The printed rows of a layout name.

    Parameters
    ----------
    name : str
        A key of :data:`LAYOUTS`, or a ``+N`` layout with its rhythm strips'
        leads named after a colon, top to bottom: ``"3x4+3:V1,II,V5"``. Some
        rows of a layout (a partial page) follow its name in brackets,
        1-based: ``"3x4+1[rows 3-4]"``, ``"12x1[row 2]"`` (:func:`window_name`);
        leads after the colon then name the window's strips.

    Returns
    -------
    list of Row

    Raises
    ------
    ValueError
        An unknown layout (the message lists the valid names), rows the layout
        does not print, or rhythm leads that are not N of the twelve leads.

    Examples
    --------
    >>> [row[0][0] for row in layout_rows("3x4+2:II,V5")[3:]]
    ['II', 'V5']
    >>> [row[0][0] for row in layout_rows("3x4+1[rows 3-4]")]
    ['III', 'II']
    """
    if not isinstance(name, str):
        raise ValueError(f"layout must be a name, got {name!r}")
    base, window, leads = _split_name(name)
    if base not in LAYOUTS:
        valid = ", ".join(repr(k) for k in LAYOUTS)
        raise ValueError(
            f"unknown layout {name!r}; valid: {valid}, or a '+N' layout with its rhythm "
            "leads after a colon ('3x4+3:V1,II,V5'), or some of its rows ('3x4+1[rows 3-4]')"
        )
    rows = LAYOUTS[base]
    a, b = window if window is not None else (1, len(rows))
    if not 1 <= a <= b <= len(rows):
        raise ValueError(
            f"layout {name!r}: {base!r} prints rows 1 to {len(rows)}, got rows {a} to {b}"
        )
    rows = rows[a - 1 : b]
    if leads is None:
        return rows
    n = rhythm_count(name)
    names = [lead.strip() for lead in leads.split(",")]
    if n == 0 or len(names) != n or any(lead not in LEADS for lead in names):
        where = f"{base!r}" if window is None else f"{base!r} rows {a} to {b}"
        raise ValueError(
            f"layout {name!r}: {where} print(s) {n} rhythm strip(s); expected {n} of "
            f"{', '.join(LEADS)} after the colon, got {leads!r}"
        )
    return rows[: len(rows) - n] + _rhythm(*names)
