"""Synthetic 12-lead ECG printouts with exactly known truth.

Tests, the demo and the benchmarks use this package instead of real data: it
makes plausible 12-lead signals (:func:`synthetic_signals`, in
:mod:`~ecgprep.synth.signals`; textbook beats by default, or with the noise,
wander, hum, large amplitudes, wide QRS and pacing spikes of recorded ECGs),
prints them on ECG paper the way the public ecg-image-kit generator used by
the Kaggle competition does (:func:`render_ecg`, :mod:`~ecgprep.synth.render`,
whose docstring gives the coordinates and page layouts), spoils the print like
a scan or a phone photo would (:func:`distort`, :mod:`~ecgprep.synth.distort`;
:func:`bend` curls the paper first),
and writes whole competition-style data sets (:func:`write_dataset`,
:mod:`~ecgprep.synth.dataset`).

Examples
--------
>>> from ecgprep.synth import distort, render_ecg
>>> r = distort(render_ecg(seed=0, dpi=100), rotate_deg=2, seed=1)
>>> r.image.shape, round(r.truth.angle_deg, 6)
((850, 1100, 3), 2.0)
"""

from __future__ import annotations

from .dataset import DATASET_KINDS, write_dataset
from .distort import BACKGROUNDS, bend, distort
from .render import (
    GRID_COLORS,
    GRID_STYLES,
    LAYOUTS,
    LEAD_NAMES,
    LeadTruth,
    Render,
    RenderTruth,
    render_ecg,
)
from .signals import PACING_MODES, SIGNAL_STYLES, noise_spectrum, synthetic_signals

__all__ = [
    "LEAD_NAMES",
    "LAYOUTS",
    "GRID_COLORS",
    "GRID_STYLES",
    "BACKGROUNDS",
    "DATASET_KINDS",
    "SIGNAL_STYLES",
    "PACING_MODES",
    "LeadTruth",
    "RenderTruth",
    "Render",
    "synthetic_signals",
    "noise_spectrum",
    "render_ecg",
    "bend",
    "distort",
    "write_dataset",
]
