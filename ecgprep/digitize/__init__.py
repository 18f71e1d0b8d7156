"""Digitization: from a deskewed page, its trace mask and its grid scale to 12 leads in mV.

The digitizer is a row of stations, one module each, in the order a page meets them:

1. :mod:`~ecgprep.digitize.page`, page understanding: the trace mask -> the bands
   of ink that are trace rows, told from text, frames and grid residue
   (:func:`find_trace_rows`).
2. :mod:`~ecgprep.digitize.layout`, layout matching: the trace rows -> the layout's
   rows and lead panels on the page, each row's time origin and the paper speed
   (:func:`find_layout`).
3. :mod:`~ecgprep.digitize.pulses`, calibration pulses: the ink left of each row ->
   its 1 mV pulse and the row's gain in mm/mV (:func:`find_calibration_pulses`).
4. :mod:`~ecgprep.digitize.ink`, ink preparation: the mask and the luma -> the
   strokes' dark core (computed once per page), lead labels and separator ticks
   left out, strokes a label's box cut joined, a neighbour's strokes at panel
   starts kept from each row (:func:`trace_core`, :func:`remove_labels`,
   :func:`mend_label_gaps`, :func:`foreign_strokes`).
5. :mod:`~ecgprep.digitize.trace`, trace following: one row's band of ink -> the
   trace's sub-pixel points, one run of ink per column chosen by a Viterbi
   programme (:func:`trace_points`).
6. :mod:`~ecgprep.digitize.convert`, conversion to mV: each row's points, baseline
   and gain -> each panel's signal on a uniform time axis, rhythm strips named
   (:func:`own_strokes`, :func:`name_rhythm_strips`).
7. :mod:`~ecgprep.digitize.beats`, panel ends from beats: a panel's first and
   last samples the ink left in doubt take the shape of the lead's own other
   beats at the same phase, timed by a rhythm strip (:func:`ends_from_beats`,
   run by :func:`digitize_station` through :func:`ends_filled_from_beats`).
8. :mod:`~ecgprep.digitize.law`, mending by Einthoven's law: limb-lead samples
   the ink left in doubt, outvoted by the limb leads printed at the same times,
   take their value (:func:`mend_by_law`, run by :func:`digitize_station`
   through :func:`mended_by_law`).

:mod:`~ecgprep.digitize.blocks` reads a 6x2 page printed as two column blocks
side by side, each block as rows of one lead
(:func:`~ecgprep.digitize.blocks.read_column_blocks`).

:mod:`~ecgprep.digitize.station` runs them: :func:`digitize` on arrays, and
:func:`digitize_station` as the pipeline's station.
"""

from .beats import BeatFill, beat_times, ends_from_beats
from .convert import name_rhythm_strips, own_strokes
from .ink import foreign_strokes, mend_label_gaps, remove_labels, trace_core
from .law import LawMend, doubtful_samples, mend_by_law
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
from .pulses import PulseInfo, find_calibration_pulses
from .station import (
    Digitization,
    LeadSignal,
    digitize,
    digitize_station,
    ends_filled_from_beats,
    mended_by_law,
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
    "mend_by_law",
    "ends_from_beats",
    "ends_filled_from_beats",
    "beat_times",
    "BeatFill",
    "mended_by_law",
    "doubtful_samples",
    "LawMend",
    "mend_label_gaps",
    "remove_labels",
    "foreign_strokes",
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
