"""Digitization: from a deskewed page, its trace mask and its grid scale to 12 leads in mV.

One module per station (:mod:`~ecgprep.digitize.station` runs them in order).
"""

from .layout import (
    LayoutResult,
    Panel,
    RowInfo,
    candidate_layouts,
    find_layout,
    paper_speed_of,
    snap_origin,
)
from .page import RowScan, TraceRow, find_trace_rows
from .station import (
    Digitization,
    LeadSignal,
    PulseInfo,
    digitize,
    digitize_station,
    find_calibration_pulses,
    name_rhythm_strips,
    own_strokes,
    remove_labels,
    trace_core,
)
from .trace import TracePoints, column_runs, follow_trace, trace_points

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
    "find_trace_rows",
    "RowScan",
    "TraceRow",
    "find_layout",
    "candidate_layouts",
    "paper_speed_of",
    "snap_origin",
    "LayoutResult",
    "Panel",
    "RowInfo",
    "trace_points",
    "follow_trace",
    "column_runs",
    "TracePoints",
]
