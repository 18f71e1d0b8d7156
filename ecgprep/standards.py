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
    "Row",
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
LAYOUTS: dict[str, list[Row]] = {
    "3x4+1": [_split(r) for r in _ROWS_3X4] + _rhythm("II"),
    "3x4+3": [_split(r) for r in _ROWS_3X4] + _rhythm("II", "V1", "V5"),
    "3x4": [_split(r) for r in _ROWS_3X4],
    "6x2": [_split(r) for r in _ROWS_6X2],
    "12x1": _rhythm(*LEADS),
}
