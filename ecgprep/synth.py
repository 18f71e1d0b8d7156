"""Synthetic 12-lead ECG printouts with exactly known truth.

Tests, the demo and the benchmarks use this module instead of real data: it
makes plausible 12-lead signals (:func:`synthetic_signals`), prints them on ECG
paper the way the public ecg-image-kit generator used by the Kaggle competition
does (:func:`render_ecg`), spoils the print like a scan or a phone photo would
(:func:`distort`), and writes whole competition-style data sets
(:func:`write_dataset`).

Coordinates
-----------
Image coordinates are OpenCV's: ``x`` is the column and ``y`` the row, both in
pixels, and the *centre* of pixel ``(row i, column j)`` is the point
``(x, y) = (j, i)``. On an undistorted render a length of ``d`` mm on the paper is
``d * px_per_mm`` pixels, with ``px_per_mm = dpi / 25.4`` (7.874 at 200 dpi), and
paper position ``(X, Y)`` mm (from the top-left corner of the page) is at pixel
``(X * px_per_mm, Y * px_per_mm)``. Sample ``j`` (0-based, counted from the lead's
first printed sample) of value ``v`` mV of a lead printed at 25 mm/s and 10 mm/mV
is drawn at::

    x = lead.x0_px + (j / fs) * 25 * px_per_mm
    y = lead.baseline_y_px - v * 10 * px_per_mm

and after :func:`distort` at ``truth.homography`` applied to that point (see
:meth:`RenderTruth.lead_xy`).

Page layouts (baselines in mm from the top of the 279.4 x 215.9 mm page; traces
start at x = 10 mm, or 15 mm when a calibration pulse stands in the 5 mm
(0.2 s) before them; every row spans 250 mm = 10 s):

- ``3x4+1``: rows I aVR V1 V4 / II aVL V2 V5 / III aVF V3 V6 (2.5 s each) and a 10 s
  lead II strip; baselines 89.96, 125.94, 161.93, 194.91 mm (those of ecg-image-kit).
- ``3x4``: the three 2.5 s rows of 3x4+1 only.
- ``3x4+3``: the three 2.5 s rows, then 10 s strips of II, V1 and V5; baselines 60, 87,
  114, 141, 168, 195 mm.
- ``6x2``: rows I V1 / II V2 / III V3 / aVR V4 / aVL V5 / aVF V6 of 5 s each; baselines
  as 3x4+3.
- ``12x1``: one 10 s row per lead, I to V6; baselines 40, 54, ..., 194 mm (14 mm apart).

Column ``k`` of a row with ``c`` columns prints the samples
``[k * L // c, (k + 1) * L // c)`` of the ``L``-sample recording (for 3x4 at
500 Hz: 0-1249, 1250-2499, 2500-3749, 3750-4999), as in the competition.

Page furniture, measured on the competition renders: paper tint = 80 % white +
20 % minor-line colour; 1 mm minor and 5 mm major lines about 0.2 mm wide over
the whole page, vertical lines at whole mm from the left edge, horizontal lines
at whole mm from the bottom edge (so baselines do not sit on grid lines), snapped
to whole pixels; a 1 px dark frame; separator bars 0.76 mm x 7 mm centred on the
baseline where columns 2-4 start; lead names with their left edge at the panel
start and their foot 7.5 mm below the baseline; "25mm/s" and "10mm/mV" 5.3 mm
above the bottom edge at x = 50 and 100 mm.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ._validate import check_image, pick
from .signals import LEADS as _LEADS_ALL

__all__ = [
    "LEAD_NAMES",
    "LAYOUTS",
    "GRID_COLORS",
    "BACKGROUNDS",
    "DATASET_KINDS",
    "LeadTruth",
    "RenderTruth",
    "Render",
    "synthetic_signals",
    "render_ecg",
    "distort",
    "write_dataset",
]

LEAD_NAMES = _LEADS_ALL

PAPER_SPEED_MM_S = 25.0
GAIN_MM_MV = 10.0

# ---------------------------------------------------------------------------
# signals
# ---------------------------------------------------------------------------

# Wave shapes: (name, time of the centre relative to the R peak [s], Gaussian sigma [s]).
# The T wave time depends on the RR interval (Bazett-like) and is set per beat.
_WAVES = ("P", "Q", "R", "S", "T", "Ta")
_WAVE_MU = {"P": -0.165, "Q": -0.030, "R": 0.0, "S": 0.030}
_WAVE_SIGMA = {"P": 0.024, "Q": 0.009, "R": 0.0105, "S": 0.010, "T": 0.045, "Ta": 0.065}


def _wave_bases(t: np.ndarray, beat_times: np.ndarray, rr: np.ndarray, beat_gain: np.ndarray):
    """Sum over beats of unit Gaussians per wave: dict wave -> (n,) array."""
    out = {}
    for wave in _WAVES:
        if wave in _WAVE_MU:
            mu = beat_times + _WAVE_MU[wave]
        else:
            qt = 0.40 * np.sqrt(rr)  # Bazett: QT ~ 0.40 s * sqrt(RR)
            mu = beat_times + qt - (0.085 if wave == "T" else 0.135)
        sigma = _WAVE_SIGMA[wave]
        if wave in ("T", "Ta"):
            sigma = sigma * np.sqrt(rr / 0.8) ** 0.5
        else:
            sigma = np.full(beat_times.shape, sigma)
        d = (t[None, :] - mu[:, None]) / sigma[:, None]
        out[wave] = (beat_gain[:, None] * np.exp(-0.5 * d * d)).sum(axis=0)
    return out


def synthetic_signals(
    *, fs: float = 500.0, duration: float = 10.0, heart_rate: float = 75.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """Make a plausible synthetic 12-lead ECG.

    Every beat is a sum of Gaussians (P, Q, R, S and an asymmetric T wave). The
    frontal-plane waves are vectors with random magnitude and axis, projected onto
    leads I and II; V1-V6 follow a random R-wave progression. The RR interval
    varies slightly (heart-rate variability and respiratory modulation), amplitudes
    are scaled at random, and a small baseline wander and noise are added to I, II
    and V1-V6. III, aVR, aVL and aVF are derived from I and II, so Einthoven's and
    Goldberger's relations hold exactly.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz (> 0).
    duration : float
        Length in seconds (> 0).
    heart_rate : float
        Mean heart rate in beats per minute (20-250).
    seed : int
        Seed of the random generator; the same arguments give the same signals.

    Returns
    -------
    signals : dict of str to (L,) ndarray of float64
        The 12 leads in mV, keys in :data:`LEAD_NAMES` order, ``L = round(duration * fs)``.
        Lead II peak-to-peak is typically 1.3-2.6 mV, V1 0.6-1.5 mV.

    Raises
    ------
    ValueError
        If ``fs``, ``duration`` or ``heart_rate`` is out of range.

    Example
    -------
    >>> sig = synthetic_signals(fs=500, seed=1)
    >>> sig["II"].shape
    (5000,)
    >>> bool(np.allclose(sig["III"], sig["II"] - sig["I"]))
    True
    """
    fs = float(fs)
    duration = float(duration)
    heart_rate = float(heart_rate)
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be a positive number, got {fs!r}")
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a positive number, got {duration!r}")
    if not (20.0 <= heart_rate <= 250.0):
        raise ValueError(f"heart_rate must be within 20-250 bpm, got {heart_rate!r}")
    n = int(round(duration * fs))
    if n < 2:
        raise ValueError(f"duration * fs must give at least 2 samples, got {n}")
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs

    # RR series: AR(1) heart-rate variability plus respiratory sinus arrhythmia.
    rr_mean = 60.0 / heart_rate
    hrv = rng.uniform(0.01, 0.035)
    resp_f = rng.uniform(0.15, 0.35)
    resp_phase = rng.uniform(0, 2 * np.pi)
    beats = []
    rr_list = []
    tb = -rng.uniform(0.3, 1.0) * rr_mean
    e = 0.0
    while tb < duration + 1.0:
        e = 0.6 * e + rng.normal(0.0, hrv)
        rr = rr_mean * (1.0 + e + 0.5 * hrv * np.sin(2 * np.pi * resp_f * tb + resp_phase))
        rr = max(rr, 0.25)
        beats.append(tb)
        rr_list.append(rr)
        tb += rr
    beat_times = np.asarray(beats)
    rr = np.asarray(rr_list)
    beat_gain = 1.0 + 0.02 * rng.standard_normal(beat_times.size)
    beat_gain *= 1.0 + 0.04 * np.sin(2 * np.pi * resp_f * beat_times + resp_phase + 1.0)
    base = _wave_bases(t, beat_times, rr, beat_gain)

    scale = rng.uniform(0.85, 1.2)
    # Frontal plane: (magnitude mV, axis degrees; 0 = lead I, +90 = aVF / inferior).
    axis = rng.uniform(15.0, 75.0)
    r_ii = rng.uniform(1.0, 1.9)  # R amplitude in lead II
    frontal = {
        "R": (r_ii / np.cos(np.radians(axis - 60.0)), axis),
        "Q": (rng.uniform(0.05, 0.2), axis + 180.0 + rng.uniform(-40, 40)),
        "S": (rng.uniform(0.15, 0.45), axis + 180.0 + rng.uniform(-50, 50)),
        "P": (rng.uniform(0.1, 0.22), rng.uniform(35.0, 70.0)),
        "T": (rng.uniform(0.22, 0.5), axis + rng.uniform(-30.0, 20.0)),
    }
    frontal["Ta"] = (0.25 * frontal["T"][0], frontal["T"][1])
    lead_i = np.zeros(n)
    lead_ii = np.zeros(n)
    for wave, (mag, ang) in frontal.items():
        a = np.radians(ang)
        lead_i += mag * np.cos(a) * base[wave]
        lead_ii += mag * np.cos(a - np.radians(60.0)) * base[wave]
    lead_i *= scale
    lead_ii *= scale

    # Precordial leads: R-wave progression with a random transition zone.
    shift = rng.uniform(-0.6, 0.6)
    pos = np.arange(6) + shift
    r_amp = np.interp(pos, np.arange(6), [0.22, 0.45, 0.8, 1.25, 1.45, 1.15]) * rng.uniform(
        0.8, 1.2
    )
    s_amp = np.interp(pos, np.arange(6), [0.95, 1.35, 1.05, 0.6, 0.3, 0.15]) * rng.uniform(0.8, 1.2)
    q_amp = np.array([0.0, 0.0, 0.0, 0.04, 0.08, 0.1]) * rng.uniform(0.5, 1.5)
    t_amp = np.array([rng.uniform(-0.12, 0.12), 0.3, 0.45, 0.45, 0.35, 0.25]) * rng.uniform(
        0.7, 1.3
    )
    p_amp = np.array([0.06, 0.08, 0.08, 0.08, 0.08, 0.07]) * rng.uniform(0.7, 1.3)
    prec = []
    for k in range(6):
        v = (
            p_amp[k] * base["P"]
            - q_amp[k] * base["Q"]
            + r_amp[k] * base["R"]
            - s_amp[k] * base["S"]
            + t_amp[k] * (base["T"] + 0.25 * base["Ta"])
        )
        prec.append(v * scale)

    # Baseline wander and a little noise on the independent leads.
    def wander() -> np.ndarray:
        amp = rng.uniform(0.0, 0.1)
        w = np.zeros(n)
        for _ in range(2):
            f = rng.uniform(0.05, 0.4)
            w += rng.uniform(0.3, 0.7) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
        return amp * w + rng.normal(0.0, 0.004, n)

    lead_i = lead_i + wander()
    lead_ii = lead_ii + wander()
    prec = [v + wander() for v in prec]

    out = {
        "I": lead_i,
        "II": lead_ii,
        "III": lead_ii - lead_i,
        "aVR": -(lead_i + lead_ii) / 2.0,
        "aVL": lead_i - lead_ii / 2.0,
        "aVF": lead_ii - lead_i / 2.0,
    }
    for k in range(6):
        out[f"V{k + 1}"] = prec[k]
    return out


# ---------------------------------------------------------------------------
# truth records
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadTruth:
    """Where one printed lead panel lies on the undistorted page.

    Attributes
    ----------
    name : str
        Lead name (one of :data:`LEAD_NAMES`).
    row, col : int
        Row of the page (0 = top) and column within the row (0 = left). Rhythm
        strips have ``col = 0`` and come after the short rows.
    t0_s : float
        Time of the first printed sample in the recording, seconds.
    duration_s : float
        Printed duration, seconds (``n_samples / fs``).
    baseline_y_px : float
        Row coordinate of 0 mV.
    x0_px : float
        Column coordinate of the first printed sample.
    x1_px : float
        ``x0_px + duration_s * 25 * px_per_mm`` (one sample period past the last sample).
    start_sample : int
        Index of the first printed sample in the recording.
    n_samples : int
        Number of printed samples.
    is_rhythm : bool
        True for a full-length rhythm strip.
    """

    name: str
    row: int
    col: int
    t0_s: float
    duration_s: float
    baseline_y_px: float
    x0_px: float
    x1_px: float
    start_sample: int
    n_samples: int
    is_rhythm: bool = False


@dataclass(frozen=True, eq=False)
class RenderTruth:
    """Exact truth of a render.

    Attributes
    ----------
    px_per_mm : float
        Pixels per millimetre of paper on the undistorted page (x and y alike).
    dpi : float
        Rendering resolution.
    paper_quad : (4, 2) ndarray of float
        Page corners (x, y) in image pixels, clockwise from top-left: the centres of
        the corner pixels of the undistorted page, mapped by ``homography``.
    angle_deg : float
        Rotation applied by :func:`distort` (counter-clockwise on screen; the
        baselines then rise to the right with slope ``-tan(angle)``); 0 if none.
    grid_rgb : tuple of int
        Colour of the major grid lines (after any colour cast).
    grid_minor_rgb : tuple of int
        Colour of the minor grid lines.
    paper_rgb : tuple of int
        Colour of the paper between the grid lines.
    trace_rgb : tuple of int
        Colour of the traces.
    trace_mask : (M, N) ndarray of bool
        Large. Pixels where trace or calibration-pulse ink covers at least half the pixel.
    grid_mask : (M, N) ndarray of bool
        Large. Pixels where grid-line ink covers at least half the pixel (for lines
        thinner than a pixel, at low dpi: their centre pixels) and no trace, text or
        separator covers it.
    text_mask : (M, N) ndarray of bool
        Large. Pixels of other dark ink: lead labels, header and footer text, column
        separators and the page frame.
    leads : tuple of LeadTruth
        Printed panels, short rows first (row-major), then rhythm strips.
    signals : dict of str to (L,) ndarray
        The plotted signals (mV).
    fs : float
        Their sampling rate.
    layout : str
        Page layout name.
    calibration_pulse : bool
        Whether a pulse precedes every row.
    homography : (3, 3) ndarray
        Maps undistorted render coordinates to image coordinates (identity for a
        clean render).
    """

    px_per_mm: float
    dpi: float
    paper_quad: np.ndarray
    angle_deg: float
    grid_rgb: tuple
    grid_minor_rgb: tuple
    paper_rgb: tuple
    trace_rgb: tuple
    trace_mask: np.ndarray
    grid_mask: np.ndarray
    text_mask: np.ndarray
    leads: tuple
    signals: dict
    fs: float
    layout: str
    calibration_pulse: bool
    homography: np.ndarray

    def lead(self, name: str, *, rhythm: bool | None = None) -> LeadTruth:
        """The first panel of lead ``name`` (``rhythm`` True/False restricts the kind)."""
        for lt in self.leads:
            if lt.name == name and (rhythm is None or lt.is_rhythm == rhythm):
                return lt
        raise ValueError(
            f"lead {name!r} (rhythm={rhythm}) is not printed in layout {self.layout!r}"
        )

    def lead_xy(self, lead: LeadTruth | int, *, distorted: bool = True) -> np.ndarray:
        """Pixel positions of every printed sample of a panel.

        Parameters
        ----------
        lead : LeadTruth or int
            A panel of ``self.leads`` or its index.
        distorted : bool
            Map through ``homography`` (image coordinates); False gives the
            undistorted render coordinates.

        Returns
        -------
        xy : (K, 2) ndarray of float
            ``(x, y)`` of samples ``start_sample ... start_sample + n_samples - 1``.
        """
        lt = self.leads[lead] if isinstance(lead, int) else lead
        v = np.asarray(self.signals[lt.name], dtype=float)[
            lt.start_sample : lt.start_sample + lt.n_samples
        ]
        j = np.arange(v.size)
        x = lt.x0_px + j / self.fs * PAPER_SPEED_MM_S * self.px_per_mm
        y = lt.baseline_y_px - v * GAIN_MM_MV * self.px_per_mm
        xy = np.stack([x, y], axis=1)
        if distorted:
            xy = _apply_h(self.homography, xy)
        return xy


@dataclass(frozen=True, eq=False)
class Render:
    """A rendered ECG page and its truth.

    Attributes
    ----------
    image : (M, N, 3) ndarray of uint8
        RGB image.
    truth : RenderTruth
        Exact geometry, masks and signals.
    """

    image: np.ndarray
    truth: RenderTruth


def _apply_h(h: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Apply a 3x3 homography to (K, 2) points."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    p = np.c_[xy, np.ones(len(xy))] @ np.asarray(h, dtype=float).T
    return p[:, :2] / p[:, 2:3]


# ---------------------------------------------------------------------------
# layouts and colours
# ---------------------------------------------------------------------------

_ROWS_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_SIX_ROWS = (60.0, 87.0, 114.0, 141.0, 168.0, 195.0)

# layout -> (short rows, rhythm leads, baselines in mm from the top)
_LAYOUTS: dict[str, tuple[tuple, tuple, tuple]] = {
    "3x4+1": (_ROWS_3X4, ("II",), (89.96, 125.94, 161.93, 194.91)),
    "3x4": (_ROWS_3X4, (), (89.96, 125.94, 161.93)),
    "3x4+3": (_ROWS_3X4, ("II", "V1", "V5"), _SIX_ROWS),
    "6x2": (
        (("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6")),
        (),
        _SIX_ROWS,
    ),
    "12x1": (tuple((name,) for name in LEAD_NAMES), (), tuple(40.0 + 14.0 * k for k in range(12))),
}
LAYOUTS = tuple(_LAYOUTS)

# name -> (major line rgb, minor line rgb); the paper is 80 % white + 20 % minor colour,
# as in ecg-image-kit renders.
GRID_COLORS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "red": ((255, 0, 0), (254, 223, 219)),
    "pink": ((255, 203, 221), (254, 237, 248)),
    "brown": ((109, 50, 47), (150, 107, 101)),
    "blue": ((0, 0, 102), (0, 0, 178)),
    "green": ((0, 120, 40), (150, 210, 160)),
    "gray": ((102, 102, 102), (191, 191, 191)),
    "bw": ((102, 102, 102), (191, 191, 191)),
}

_X_START_MM = 10.0
_PULSE_MM = 5.0  # 0.2 s at 25 mm/s
_MINOR_W_MM = 0.2
_MAJOR_W_MM = 0.18
_SEP_HALF_H_MM = 3.5
_SEP_W_MM = 0.76


def _grid_colors(grid_color) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if isinstance(grid_color, str):
        try:
            return GRID_COLORS[grid_color]
        except KeyError:
            valid = ", ".join(repr(k) for k in GRID_COLORS)
            raise ValueError(
                f"unknown grid_color {grid_color!r}; valid: {valid} or an (r, g, b) tuple"
            ) from None
    rgb = _rgb(grid_color, "grid_color")
    minor = tuple(int(round(255 - 0.45 * (255 - c))) for c in rgb)
    return rgb, minor


def _rgb(value, name: str) -> tuple[int, int, int]:
    try:
        vals = tuple(float(c) for c in value)
    except TypeError:
        raise ValueError(
            f"{name} must be an (r, g, b) tuple of 0-255 values, got {value!r}"
        ) from None
    if len(vals) != 3 or not all(math.isfinite(c) and 0 <= c <= 255 for c in vals):
        raise ValueError(f"{name} must be an (r, g, b) tuple of 0-255 values, got {value!r}")
    return tuple(int(round(c)) for c in vals)


def _line_coverage(n: int, centres: np.ndarray, width: float, snap: bool) -> np.ndarray:
    """(n,) float32 fraction of each pixel covered by lines of ``width`` px at ``centres``."""
    cov = np.zeros(n, np.float32)
    if snap:
        centres = np.round(centres)
    lo = centres - width / 2.0
    hi = centres + width / 2.0
    first = np.floor(lo + 0.5).astype(int)
    for d in range(int(math.ceil(width)) + 2):
        idx = first + d
        ov = np.clip(np.minimum(idx + 0.5, hi) - np.maximum(idx - 0.5, lo), 0.0, 1.0)
        ok = (idx >= 0) & (idx < n) & (ov > 0)
        np.maximum.at(cov, idx[ok], ov[ok].astype(np.float32))
    return cov


def _grid_layer(h: int, w: int, ppm: float, paper_h_mm: float, snap: bool):
    """Alpha of the minor and major grid lines, (h, w) float32 each.

    Vertical lines stand at x = k mm from the left edge, horizontal lines at
    k mm from the bottom edge (as matplotlib draws them in ecg-image-kit).
    """
    xs_mm = np.arange(0, w / ppm + 1.0, 1.0)
    ys_mm = paper_h_mm - np.arange(0, h / ppm + 1.0, 1.0)
    minor_w = max(_MINOR_W_MM * ppm, 0.35)
    major_w = max(_MAJOR_W_MM * ppm, 0.35)
    cx_min = _line_coverage(w, xs_mm * ppm, minor_w, snap)
    cy_min = _line_coverage(h, ys_mm * ppm, minor_w, snap)
    xs_maj = xs_mm[np.isclose(np.mod(xs_mm, 5.0), 0.0)]
    k = np.arange(0, h / ppm / 5.0 + 1.0)
    cx_maj = _line_coverage(w, xs_maj * ppm, major_w, snap)
    cy_maj = _line_coverage(h, (paper_h_mm - 5.0 * k) * ppm, major_w, snap)
    a_min = 1.0 - (1.0 - cy_min)[:, None] * (1.0 - cx_min)[None, :]
    a_maj = 1.0 - (1.0 - cy_maj)[:, None] * (1.0 - cx_maj)[None, :]
    # Mask thresholds: half coverage, or the centre pixels of sub-pixel lines.
    thr_min = min(0.5, 0.9 * min(minor_w, 1.0))
    thr_maj = min(0.5, 0.9 * min(major_w, 1.0))
    return a_min, a_maj, (a_min >= thr_min) | (a_maj >= thr_maj)


def _layout_panels(layout: str, sig_len: int, fs: float, ppm: float, x_start_mm: float):
    rows, rhythm, baselines = _LAYOUTS[layout]
    leads = []
    ncols = len(rows[0])
    for r, names in enumerate(rows):
        for c, name in enumerate(names):
            start = c * sig_len // ncols
            stop = (c + 1) * sig_len // ncols
            n = stop - start
            x0 = (x_start_mm + start / fs * PAPER_SPEED_MM_S) * ppm
            leads.append(
                LeadTruth(
                    name=name,
                    row=r,
                    col=c,
                    t0_s=start / fs,
                    duration_s=n / fs,
                    baseline_y_px=baselines[r] * ppm,
                    x0_px=x0,
                    x1_px=x0 + n / fs * PAPER_SPEED_MM_S * ppm,
                    start_sample=start,
                    n_samples=n,
                    is_rhythm=False,
                )
            )
    for i, name in enumerate(rhythm):
        r = len(rows) + i
        x0 = x_start_mm * ppm
        leads.append(
            LeadTruth(
                name=name,
                row=r,
                col=0,
                t0_s=0.0,
                duration_s=sig_len / fs,
                baseline_y_px=baselines[r] * ppm,
                x0_px=x0,
                x1_px=x0 + sig_len / fs * PAPER_SPEED_MM_S * ppm,
                start_sample=0,
                n_samples=sig_len,
                is_rhythm=True,
            )
        )
    return tuple(leads), baselines


def _polyline_coverage(cov: np.ndarray, pts: np.ndarray, width: float) -> None:
    """Draw an open polyline of ``width`` px into ``cov`` (float32, max-combined).

    The coverage of a pixel is ``clip(width / 2 + 0.5 - d, 0, 1)`` with ``d`` the
    distance of the pixel centre to the polyline: an anti-aliased stroke with round
    caps, exact sub-pixel position and exact mean width (cv2.polylines can only
    draw a few discrete widths).
    """
    h, w = cov.shape
    r = width / 2.0 + 0.5
    pts = np.asarray(pts, dtype=np.float64)
    if len(pts) == 1:
        pts = np.vstack([pts, pts])
    a = pts[:-1]
    b = pts[1:]
    x_lo = np.floor(np.minimum(a[:, 0], b[:, 0]) - r)
    x_hi = np.ceil(np.maximum(a[:, 0], b[:, 0]) + r)
    y_lo = np.floor(np.minimum(a[:, 1], b[:, 1]) - r)
    y_hi = np.ceil(np.maximum(a[:, 1], b[:, 1]) + r)
    # Clip the boxes to the canvas (segments far outside contribute nothing).
    x_lo = np.clip(x_lo, 0, w - 1).astype(np.int64)
    x_hi = np.clip(x_hi, 0, w - 1).astype(np.int64)
    y_lo = np.clip(y_lo, 0, h - 1).astype(np.int64)
    y_hi = np.clip(y_hi, 0, h - 1).astype(np.int64)
    nx = x_hi - x_lo + 1
    ny = y_hi - y_lo + 1
    counts = nx * ny
    seg = np.repeat(np.arange(len(a)), counts)
    local = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    px = x_lo[seg] + local % nx[seg]
    py = y_lo[seg] + local // nx[seg]
    ax = a[seg, 0]
    ay = a[seg, 1]
    dx = b[seg, 0] - ax
    dy = b[seg, 1] - ay
    l2 = dx * dx + dy * dy
    safe = np.where(l2 > 0, l2, 1.0)
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / safe, 0.0, 1.0)
    ex = px - (ax + t * dx)
    ey = py - (ay + t * dy)
    c = np.clip(r - np.sqrt(ex * ex + ey * ey), 0.0, 1.0).astype(np.float32)
    ok = c > 0
    np.maximum.at(cov.reshape(-1), py[ok] * w + px[ok], c[ok])


_SHIFT = 6  # sub-pixel bits of cv2 drawing calls (1/64 px)


def _fixed(xy: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(xy) * (1 << _SHIFT)).astype(np.int32).reshape(-1, 1, 2)


def _put_text(canvas: np.ndarray, text: str, org_mm, ppm: float, height_mm: float = 3.0) -> None:
    """Draw ``text`` (bottom-left at ``org_mm``, cap height ``height_mm``) into ``canvas``."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = height_mm * ppm / 22.0
    thick = max(1, int(round(0.16 * ppm)))
    org = (int(round(org_mm[0] * ppm)), int(round(org_mm[1] * ppm)))
    cv2.putText(canvas, text, org, font, scale, 255, thick, cv2.LINE_AA)


_HEADER_FIELDS = (
    ("ID", lambda rng: f"{rng.integers(10000, 100000)}"),
    ("Age", lambda rng: f"{rng.integers(18, 95)} yrs"),
    ("Sex", lambda rng: str(rng.choice(["Male", "Female"]))),
    ("Name", lambda rng: ""),
    ("Height", lambda rng: f"{rng.integers(150, 200)} cm"),
    ("Weight", lambda rng: f"{rng.integers(45, 130)} kg"),
    (
        "Date",
        lambda rng: f"20{rng.integers(10, 25)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}",
    ),
)


def render_ecg(
    signals: Mapping[str, np.ndarray] | None = None,
    *,
    fs: float = 500.0,
    dpi: float = 200.0,
    layout: str = "3x4+1",
    calibration_pulse: bool = True,
    grid_color: str | tuple = "red",
    trace_color: tuple = (0, 0, 0),
    line_width_mm: float = 0.265,
    labels: bool = True,
    separators: bool = True,
    header_text: bool | str = False,
    footer_text: bool = True,
    frame: bool = True,
    snap_grid: bool = True,
    paper_size_mm: tuple[float, float] = (279.4, 215.9),
    seed: int = 0,
) -> Render:
    """Print a 12-lead ECG on synthetic ECG paper, with exact truth.

    Mimics the ecg-image-kit renders of the Kaggle competition: a light paper tint,
    1 mm minor and 5 mm major grid lines over the whole page, 25 mm/s and 10 mm/mV,
    optional 1 mV x 0.2 s calibration pulses, short vertical separator bars at the
    column boundaries, lead labels below each panel start, "25mm/s" and "10mm/mV"
    at the bottom, and a one-pixel frame. See the module docstring for the layouts.

    Parameters
    ----------
    signals : dict of str to (L,) array_like, optional
        Leads in mV at ``fs`` (all leads the layout prints). Default:
        ``synthetic_signals(fs=fs, seed=seed)`` (10 s).
    fs : float
        Sampling rate of ``signals``.
    dpi : float
        Resolution; the page is ``round(paper_size_mm / 25.4 * dpi)`` pixels
        (2200 x 1700 at 200 dpi).
    layout : {'3x4+1', '3x4', '3x4+3', '6x2', '12x1'}
        Lead arrangement.
    calibration_pulse : bool
        Draw a 1 mV x 0.2 s pulse at the left of every row (traces then start at
        15 mm instead of 10 mm).
    grid_color : str or (r, g, b)
        One of :data:`GRID_COLORS` or a major-line colour (the minor colour is a
        lighter tint). ``'bw'`` is a gray grid with a black trace.
    trace_color : (r, g, b)
        Trace, pulse, separator and text colour (forced to black with ``'bw'``).
    line_width_mm : float
        Trace width (0.265 mm = 0.75 pt, as ecg-image-kit). The trace is drawn
        anti-aliased at the exact sub-pixel position of every sample.
    labels : bool
        Print lead names.
    separators : bool
        Print the short vertical bars where a column starts (column >= 1).
    header_text : bool or str
        False, True (random patient fields at the top as ecg-image-kit prints them) or
        a string printed at the top left (lines split on newlines).
    footer_text : bool
        Print "25mm/s" and "10mm/mV" near the bottom.
    frame : bool
        One-pixel dark frame around the page (present in the competition renders).
    snap_grid : bool
        Snap grid lines to whole pixels as matplotlib does (their period stays exact
        on average); False draws them anti-aliased at their exact positions.
    paper_size_mm : (float, float)
        Page width and height in mm (US letter landscape by default).
    seed : int
        Seed for the default signals and the header fields.

    Returns
    -------
    Render
        ``image`` (M, N, 3) uint8 RGB and its :class:`RenderTruth`.

    Raises
    ------
    ValueError
        Unknown layout or grid colour, missing leads, signals of unequal length or
        non-finite values, bad numbers.

    Example
    -------
    >>> r = render_ecg(seed=3)
    >>> r.image.shape, r.image.dtype
    ((1700, 2200, 3), dtype('uint8'))
    >>> lead = r.truth.lead("II", rhythm=True)
    >>> round(lead.x0_px, 2), round(lead.baseline_y_px, 1)
    (118.11, 1534.7)
    """
    fs = float(fs)
    dpi = float(dpi)
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be a positive number, got {fs!r}")
    if not (math.isfinite(dpi) and 20.0 <= dpi <= 1200.0):
        raise ValueError(f"dpi must be within 20-1200, got {dpi!r}")
    if not (math.isfinite(line_width_mm) and 0 < line_width_mm < 5):
        raise ValueError(f"line_width_mm must be within (0, 5) mm, got {line_width_mm!r}")
    pick(_LAYOUTS, layout, "layout")
    major_rgb, minor_rgb = _grid_colors(grid_color)
    trace_rgb = (0, 0, 0) if grid_color == "bw" else _rgb(trace_color, "trace_color")
    try:
        pw_mm, ph_mm = (float(v) for v in paper_size_mm)
    except (TypeError, ValueError):
        raise ValueError(
            f"paper_size_mm must be (width, height) in mm, got {paper_size_mm!r}"
        ) from None
    if not (50 <= pw_mm <= 2000 and 50 <= ph_mm <= 2000):
        raise ValueError(f"paper_size_mm must be within 50-2000 mm, got {paper_size_mm!r}")

    if signals is None:
        signals = synthetic_signals(fs=fs, seed=seed)
    needed = {name for row in _LAYOUTS[layout][0] for name in row} | set(_LAYOUTS[layout][1])
    missing = [name for name in LEAD_NAMES if name in needed and name not in signals]
    if missing:
        raise ValueError(f"signals lack leads {missing} needed by layout {layout!r}")
    sig = {}
    for name, v in signals.items():
        arr = np.asarray(v, dtype=float)
        if arr.ndim != 1 or arr.size < 2:
            raise ValueError(
                f"signal {name!r} must be 1-D with at least 2 samples, got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"signal {name!r} has non-finite values")
        sig[name] = arr
    lengths = {sig[name].size for name in needed}
    if len(lengths) != 1:
        raise ValueError(f"signals must have equal lengths, got {sorted(lengths)}")
    sig_len = lengths.pop()

    ppm = dpi / 25.4
    w = int(round(pw_mm / 25.4 * dpi))
    h = int(round(ph_mm / 25.4 * dpi))
    x_start_mm = _X_START_MM + (_PULSE_MM if calibration_pulse else 0.0)
    leads, baselines = _layout_panels(layout, sig_len, fs, ppm, x_start_mm)
    if max(lt.x1_px for lt in leads) > w:
        warnings.warn(
            f"the recording ({sig_len / fs:.2f} s) runs past the page edge and is clipped",
            RuntimeWarning,
            stacklevel=2,
        )

    # Ink coverage: traces exact (float), text and separators by cv2 (uint8).
    trace_cov = np.zeros((h, w), np.float32)
    text_cov = np.zeros((h, w), np.uint8)
    lw_px = line_width_mm * ppm
    for lt in leads:
        v = sig[lt.name][lt.start_sample : lt.start_sample + lt.n_samples]
        x = lt.x0_px + np.arange(v.size) / fs * PAPER_SPEED_MM_S * ppm
        y = lt.baseline_y_px - v * GAIN_MM_MV * ppm
        _polyline_coverage(trace_cov, np.stack([x, y], axis=1), lw_px)
    if calibration_pulse:
        for b in baselines:
            x1 = x_start_mm * ppm
            x0 = x1 - _PULSE_MM * ppm
            yb = b * ppm
            yt = yb - GAIN_MM_MV * ppm
            _polyline_coverage(trace_cov, np.array([[x0, yb], [x0, yt], [x1, yt], [x1, yb]]), lw_px)

    if separators:
        for lt in leads:
            if lt.col == 0:
                continue
            hw = _SEP_W_MM * ppm / 2.0
            hh = _SEP_HALF_H_MM * ppm
            yb = lt.baseline_y_px
            quad = np.array(
                [
                    [lt.x0_px - hw, yb - hh],
                    [lt.x0_px + hw, yb - hh],
                    [lt.x0_px + hw, yb + hh],
                    [lt.x0_px - hw, yb + hh],
                ]
            )
            cv2.fillConvexPoly(text_cov, _fixed(quad), 255, cv2.LINE_AA, _SHIFT)
    if labels:
        for lt in leads:
            _put_text(text_cov, lt.name, (lt.x0_px / ppm, lt.baseline_y_px / ppm + 7.5), ppm)
    if footer_text:
        _put_text(text_cov, "25mm/s", (50.0, ph_mm - 5.3), ppm)
        _put_text(text_cov, "10mm/mV", (100.0, ph_mm - 5.3), ppm)
    if header_text:
        if isinstance(header_text, str):
            for i, line in enumerate(header_text.splitlines()):
                _put_text(text_cov, line, (1.3, 4.5 + 5.0 * i), ppm)
        else:
            rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 7])
            for i, (key, make) in enumerate(_HEADER_FIELDS):
                col, line = divmod(i, 3) if i < 6 else (2, 0)
                _put_text(
                    text_cov, f"{key}: {make(rng)}", (1.3 + 75.0 * col, 4.5 + 5.0 * line), ppm
                )
    if frame:
        text_cov[0, :] = text_cov[-1, :] = 255
        text_cov[:, 0] = text_cov[:, -1] = 255

    # Paper and grid.
    a_min, a_maj, grid_ink = _grid_layer(h, w, ppm, ph_mm, snap_grid)
    minor = np.asarray(minor_rgb, np.float32)
    major = np.asarray(major_rgb, np.float32)
    paper = 0.8 * 255.0 + 0.2 * minor
    img = np.empty((h, w, 3), np.float32)
    for c in range(3):
        ch = paper[c] + a_min * (minor[c] - paper[c])
        ch += a_maj * (major[c] - ch)
        img[:, :, c] = ch

    # Ink over the grid, only where there is some.
    ink = np.maximum(trace_cov, text_cov.astype(np.float32) * np.float32(1.0 / 255.0))
    rows_i, cols_i = np.nonzero(ink)
    a = ink[rows_i, cols_i][:, None]
    img[rows_i, cols_i] = img[rows_i, cols_i] * (1.0 - a) + np.asarray(trace_rgb, np.float32) * a
    image = np.clip(img + 0.5, 0, 255).astype(np.uint8)

    trace_mask = trace_cov >= 0.5
    text_mask = (text_cov >= 128) & ~trace_mask
    grid_mask = grid_ink & (ink < 0.5)

    truth = RenderTruth(
        px_per_mm=ppm,
        dpi=dpi,
        paper_quad=np.array([[0.0, 0.0], [w - 1.0, 0.0], [w - 1.0, h - 1.0], [0.0, h - 1.0]]),
        angle_deg=0.0,
        grid_rgb=tuple(int(c) for c in major_rgb),
        grid_minor_rgb=tuple(int(c) for c in minor_rgb),
        paper_rgb=tuple(int(round(c)) for c in paper),
        trace_rgb=tuple(int(c) for c in trace_rgb),
        trace_mask=trace_mask,
        grid_mask=grid_mask,
        text_mask=text_mask,
        leads=leads,
        signals=sig,
        fs=fs,
        layout=layout,
        calibration_pulse=bool(calibration_pulse),
        homography=np.eye(3),
    )
    return Render(image=np.ascontiguousarray(image), truth=truth)


# ---------------------------------------------------------------------------
# distortions
# ---------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Smooth random field in about [-1, 1], (h, w) float32, ``cells`` blobs across."""
    gh = max(2, int(round(cells * h / max(h, w))) + 1)
    gw = max(2, int(round(cells * w / max(h, w))) + 1)
    small = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) / 1.5


def _bg_dark(rng, h, w):
    base = np.array([38.0, 38.0, 42.0], np.float32) * rng.uniform(0.7, 1.3)
    field = 12.0 * _smooth_noise(rng, h, w, 4) + 3.0 * _smooth_noise(rng, h, w, 40)
    return base[None, None, :] + field[:, :, None]


def _bg_wood(rng, h, w):
    base = np.array([118.0, 78.0, 45.0], np.float32) * rng.uniform(0.75, 1.1)
    hs, ws = max(2, h // 4), max(2, w // 4)
    yy = np.arange(hs, dtype=np.float32)[:, None] / hs
    warp = 3.0 * _smooth_noise(rng, hs, ws, 3)
    grain = np.sin(2 * np.pi * (rng.uniform(25, 45) * yy + warp))
    grain = grain + 0.5 * np.sin(2 * np.pi * (rng.uniform(90, 140) * yy + 2.0 * warp))
    grain = cv2.resize(grain.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    field = 1.0 + 0.12 * grain + 0.1 * _smooth_noise(rng, h, w, 3)
    return base[None, None, :] * field[:, :, None]


def _bg_desk(rng, h, w):
    base = np.array([96.0, 92.0, 88.0], np.float32) * rng.uniform(0.8, 1.2)
    field = 10.0 * _smooth_noise(rng, h, w, 3) + 4.0 * _smooth_noise(rng, h, w, 60)
    return base[None, None, :] + field[:, :, None]


_BACKGROUNDS = {"dark": _bg_dark, "wood": _bg_wood, "desk": _bg_desk}
BACKGROUNDS = tuple(_BACKGROUNDS)


def _warp_masks(masks, hmat: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """Warp up to 8 bool masks at once (packed as bits of one uint8 image), nearest."""
    packed = np.zeros(masks[0].shape, np.uint8)
    for bit, m in enumerate(masks):
        packed |= m.astype(np.uint8) << bit
    out = cv2.warpPerspective(
        packed, hmat, size, flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    return tuple((out & (1 << bit)) > 0 for bit in range(len(masks)))


def _check_number(value, name: str, lo: float, hi: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"{name} must be within [{lo}, {hi}], got {value!r}")
    return v


def distort(
    render: Render,
    *,
    rotate_deg: float = 0.0,
    blur_sigma: float = 0.0,
    noise_std: float = 0.0,
    jpeg_quality: int | None = None,
    color_cast: Sequence[float] | None = None,
    perspective: float = 0.0,
    background: str | None = None,
    background_margin: float = 0.1,
    shading: float = 0.0,
    seed: int = 0,
) -> Render:
    """Spoil a render like a scan or a phone photo would, keeping the truth exact.

    Geometry first (rotation about the image centre, then a random perspective,
    then placement on a background), then light (colour cast, uneven shading),
    then optics and sensor (Gaussian blur, Gaussian noise, JPEG). The truth follows:
    ``homography`` is composed with the new 3x3 map, ``paper_quad`` mapped by it,
    the masks warped with nearest-neighbour interpolation (blur and noise do not
    move them), colours multiplied by the cast. Lead geometry stays in undistorted
    coordinates; map it with ``homography`` (:meth:`RenderTruth.lead_xy`).

    Parameters
    ----------
    render : Render
        Output of :func:`render_ecg` (or of an earlier :func:`distort`).
    rotate_deg : float
        Rotation in degrees, counter-clockwise on screen, about the image centre
        (-45 to 45). Without a background the image keeps its size and the
        uncovered corners are black, as in ecg-image-kit's augmentation.
    blur_sigma : float
        Gaussian blur sigma in pixels (0-20).
    noise_std : float
        Standard deviation of additive Gaussian noise in gray levels (0-100).
    jpeg_quality : int, optional
        Re-encode as JPEG at this quality (1-100).
    color_cast : (float, float, float), optional
        Per-channel (R, G, B) multipliers (0-2), e.g. ``(1.0, 0.95, 0.85)`` for warm light.
    perspective : float
        Every page corner moves by up to ``perspective`` times the page width
        (x) and height (y), uniformly at random (0-0.25).
    background : {None, 'dark', 'wood', 'desk'}
        Paste the page onto a larger, darker textured background.
    background_margin : float
        Background border on each side as a fraction of the page size (0-1).
    shading : float
        Uneven lighting, 0 (none) to 1 (strong): a random gradient plus vignette
        darkening the image by up to about ``0.6 * shading``.
    seed : int
        Seed of all random choices; the same arguments give the same image.

    Returns
    -------
    Render
        The new image and its transformed truth.

    Raises
    ------
    ValueError
        Unknown background or a parameter out of range.

    Example
    -------
    >>> r = distort(render_ecg(seed=0, dpi=100), rotate_deg=3, background="desk", seed=1)
    >>> r.image.shape
    (1020, 1320, 3)
    >>> bool(abs(r.truth.angle_deg - 3) < 1e-9)
    True
    """
    if not isinstance(render, Render):
        raise ValueError(f"render must be a synth.Render, got {type(render).__name__}")
    image = check_image(render.image, "render.image", allow_gray=False)
    rotate_deg = _check_number(rotate_deg, "rotate_deg", -45.0, 45.0)
    blur_sigma = _check_number(blur_sigma, "blur_sigma", 0.0, 20.0)
    noise_std = _check_number(noise_std, "noise_std", 0.0, 100.0)
    perspective = _check_number(perspective, "perspective", 0.0, 0.25)
    background_margin = _check_number(background_margin, "background_margin", 0.0, 1.0)
    shading = _check_number(shading, "shading", 0.0, 1.0)
    if jpeg_quality is not None:
        jpeg_quality = int(_check_number(jpeg_quality, "jpeg_quality", 1, 100))
    cast = None
    if color_cast is not None:
        try:
            cast = np.array([float(c) for c in color_cast], np.float32)
        except (TypeError, ValueError):
            raise ValueError(f"color_cast must be three multipliers, got {color_cast!r}") from None
        if cast.shape != (3,) or not np.all((cast >= 0) & (cast <= 2)):
            raise ValueError(f"color_cast must be three multipliers within 0-2, got {color_cast!r}")
    make_bg = pick(_BACKGROUNDS, background, "background") if background is not None else None

    rng = np.random.default_rng(seed)
    truth = render.truth
    h, w = image.shape[:2]

    # --- geometry (on uint8) ---------------------------------------------------
    hmat = np.eye(3)
    if rotate_deg:
        rot = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), rotate_deg, 1.0)
        hmat = np.vstack([rot, [0.0, 0.0, 1.0]]) @ hmat
    if perspective > 0:
        src = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)
        moved = _apply_h(hmat, src)
        dst = moved + rng.uniform(-perspective, perspective, (4, 2)) * np.array([w, h])
        hmat = cv2.getPerspectiveTransform(moved.astype(np.float32), dst.astype(np.float32)) @ hmat
    if make_bg is not None:
        out_w = int(round(w * (1 + 2 * background_margin)))
        out_h = int(round(h * (1 + 2 * background_margin)))
        shift = np.array([[1.0, 0, (out_w - w) / 2.0], [0, 1.0, (out_h - h) / 2.0], [0, 0, 1.0]])
        hmat = shift @ hmat
    else:
        out_w, out_h = w, h
    out = image
    trace_mask, grid_mask, text_mask = truth.trace_mask, truth.grid_mask, truth.text_mask
    if not np.allclose(hmat, np.eye(3)):
        size = (out_w, out_h)
        out = cv2.warpPerspective(
            image, hmat, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        if make_bg is not None:
            # Anti-aliased page edge: blend with the page coverage.
            alpha = cv2.warpPerspective(
                np.ones((h, w), np.float32),
                hmat,
                size,
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            )
            # Textures are smooth: make them at half size and enlarge.
            bg = np.clip(make_bg(rng, (out_h + 1) // 2, (out_w + 1) // 2), 0, 255).astype(np.uint8)
            bg = cv2.resize(bg, size, interpolation=cv2.INTER_LINEAR)
            out = cv2.blendLinear(out, bg, alpha, 1.0 - alpha)
        trace_mask, grid_mask, text_mask = _warp_masks(
            (trace_mask, grid_mask, text_mask), hmat, size
        )

    # --- light, optics, sensor (float32 in place) ------------------------------
    if cast is not None or shading > 0 or noise_std > 0:
        img = out.astype(np.float32)
        if shading > 0:
            hs, ws = max(2, out_h // 8), max(2, out_w // 8)
            yy, xx = np.mgrid[0:hs, 0:ws].astype(np.float32)
            yy /= hs - 1
            xx /= ws - 1
            theta = rng.uniform(0, 2 * np.pi)
            grad = (xx - 0.5) * np.cos(theta) + (yy - 0.5) * np.sin(theta)
            grad = (grad - grad.min()) / max(float(np.ptp(grad)), 1e-6)
            cx, cy = rng.uniform(0.3, 0.7, 2)
            vig = np.clip(np.hypot(xx - cx, yy - cy) / 0.75, 0, 1) ** 2
            dark = (
                0.6
                * shading
                * np.clip(0.6 * grad + 0.4 * vig + 0.1 * _smooth_noise(rng, hs, ws, 3), 0, 1)
            )
            field = cv2.resize(
                (1.0 - dark).astype(np.float32), (out_w, out_h), interpolation=cv2.INTER_LINEAR
            )
            gains = cast if cast is not None else np.ones(3, np.float32)
            img *= cv2.merge([field * np.float32(g) for g in gains])
        elif cast is not None:
            img *= cast[None, None, :]
        if blur_sigma > 0:
            img = cv2.GaussianBlur(img, (0, 0), blur_sigma)
        if noise_std > 0:
            noise = rng.standard_normal(img.shape, dtype=np.float32)
            noise *= np.float32(noise_std)
            img += noise
            del noise
        img += np.float32(0.5)
        np.clip(img, 0, 255, out=img)
        out = img.astype(np.uint8)
    elif blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur_sigma)
    if jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        if not ok:  # pragma: no cover - OpenCV always encodes uint8 RGB
            raise RuntimeError("JPEG encoding failed")
        out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    def cast_rgb(rgb):
        if cast is None:
            return rgb
        return tuple(int(min(255, round(c * m))) for c, m in zip(rgb, cast, strict=True))

    new_truth = dataclasses.replace(
        truth,
        paper_quad=_apply_h(hmat, truth.paper_quad),
        angle_deg=truth.angle_deg + rotate_deg,
        grid_rgb=cast_rgb(truth.grid_rgb),
        grid_minor_rgb=cast_rgb(truth.grid_minor_rgb),
        paper_rgb=cast_rgb(truth.paper_rgb),
        trace_rgb=cast_rgb(truth.trace_rgb),
        trace_mask=trace_mask,
        grid_mask=grid_mask,
        text_mask=text_mask,
        homography=hmat @ truth.homography,
    )
    return Render(image=np.ascontiguousarray(out), truth=new_truth)


# ---------------------------------------------------------------------------
# data sets in the competition's format
# ---------------------------------------------------------------------------


def _kind_clean(rng):
    return {"calibration_pulse": False}, None


def _kind_pulse(rng):
    return {"calibration_pulse": True}, None


def _kind_header(rng):
    return {"calibration_pulse": True, "header_text": True}, None


def _grid_kind(color):
    def make(rng):
        return {"calibration_pulse": bool(rng.random() < 0.8), "grid_color": color}, None

    make.__name__ = f"_kind_{color}"
    return make


def _kind_lowres(rng):
    return {"calibration_pulse": True, "dpi": float(rng.choice([100.0, 130.0]))}, None


def _kind_rotated(rng):
    angle = float(rng.uniform(1.0, 5.0) * rng.choice([-1.0, 1.0]))
    return {"calibration_pulse": bool(rng.random() < 0.7)}, {
        "rotate_deg": angle,
        "noise_std": float(rng.uniform(1.0, 5.0)),
        "color_cast": tuple(float(c) for c in rng.uniform(0.85, 1.0, 3)),
    }


def _kind_blur(rng):
    return {"calibration_pulse": True}, {"blur_sigma": float(rng.choice([1.2, 2.0]))}


def _kind_noisy(rng):
    return {"calibration_pulse": True}, {
        "noise_std": float(rng.uniform(8.0, 20.0)),
        "jpeg_quality": 75,
    }


def _kind_scan(rng):
    color = str(rng.choice(["red", "bw", "pink"]))
    return {"calibration_pulse": True, "grid_color": color}, {
        "rotate_deg": float(rng.uniform(-2.0, 2.0)),
        "blur_sigma": 0.7,
        "noise_std": 3.0,
        "color_cast": (1.0, float(rng.uniform(0.93, 1.0)), float(rng.uniform(0.82, 0.95))),
        "jpeg_quality": 90,
    }


def _kind_photo(rng):
    return {"calibration_pulse": bool(rng.random() < 0.8)}, {
        "rotate_deg": float(rng.uniform(-4.0, 4.0)),
        "perspective": float(rng.uniform(0.01, 0.03)),
        "background": str(rng.choice(BACKGROUNDS)),
        "background_margin": float(rng.uniform(0.06, 0.14)),
        "shading": float(rng.uniform(0.2, 0.6)),
        "color_cast": (1.0, float(rng.uniform(0.9, 1.0)), float(rng.uniform(0.78, 0.95))),
        "blur_sigma": float(rng.uniform(0.5, 1.0)),
        "noise_std": float(rng.uniform(2.0, 6.0)),
        "jpeg_quality": 85,
    }


# kind -> function(rng) -> (render_ecg keywords, distort keywords or None)
_KINDS = {
    "clean": _kind_clean,
    "pulse": _kind_pulse,
    "header": _kind_header,
    "pink": _grid_kind("pink"),
    "blue": _grid_kind("blue"),
    "green": _grid_kind("green"),
    "brown": _grid_kind("brown"),
    "bw": _grid_kind("bw"),
    "lowres": _kind_lowres,
    "rotated": _kind_rotated,
    "blur": _kind_blur,
    "noisy": _kind_noisy,
    "scan": _kind_scan,
    "photo": _kind_photo,
}
DATASET_KINDS = tuple(_KINDS)


def _pixel_affine(truth: RenderTruth, lt: LeadTruth) -> dict | None:
    """row/col = a0*k + a1*v + a2 of a panel when the homography is affine, else None."""
    hm = truth.homography / truth.homography[2, 2]
    if not np.allclose(hm[2, :2], 0.0, atol=1e-12):
        return None
    sx = PAPER_SPEED_MM_S * truth.px_per_mm / truth.fs  # px per sample
    sy = -GAIN_MM_MV * truth.px_per_mm  # px per mV
    # x = x0 + sx*k, y = b + sy*v  ->  image = hm @ (x, y, 1)
    col = [
        hm[0, 0] * sx,
        hm[0, 1] * sy,
        hm[0, 0] * lt.x0_px + hm[0, 1] * lt.baseline_y_px + hm[0, 2],
    ]
    row = [
        hm[1, 0] * sx,
        hm[1, 1] * sy,
        hm[1, 0] * lt.x0_px + hm[1, 1] * lt.baseline_y_px + hm[1, 2],
    ]
    return {"row": [float(v) for v in row], "col": [float(v) for v in col]}


def write_dataset(
    out_dir: str | Path,
    n: int = 8,
    *,
    seed: int = 0,
    fs: float = 500,
    kinds: Sequence[str] = ("clean", "pulse", "blue", "bw", "rotated", "blur", "photo", "lowres"),
):
    """Write a synthetic data set in the format of the competition (and of ecg-dev).

    Image ``i`` gets kind ``kinds[i % len(kinds)]``, a heart rate spread evenly over
    50-130 bpm, its own seed and a dark-gray trace (0-50, black for ``bw``). Kinds
    (:data:`DATASET_KINDS`), all in the 3x4+1 layout at 200 dpi unless said:

    - ``clean``: red grid, no calibration pulse; ``pulse``: with pulses;
      ``header``: pulses and printed patient header;
    - ``pink``, ``blue``, ``green``, ``brown``, ``bw``: grid styles (pulse 80 %);
    - ``lowres``: 100 or 130 dpi;
    - ``rotated``: 1-5 degrees either way, light noise and colour cast, black corners;
    - ``blur``: Gaussian blur sigma 1.2 or 2.0 px;
    - ``noisy``: noise sigma 8-20, JPEG quality 75;
    - ``scan``: red, pink or bw grid, +-2 degrees, slight blur, noise, yellowish
      cast, JPEG 90;
    - ``photo``: on a dark, wood or desk background with perspective, rotation,
      uneven shading, warm cast, blur, noise, JPEG 85.

    Files written under ``out_dir``:

    - ``images/<id>.png`` (``.jpg`` for kinds re-encoded as JPEG: noisy, scan, photo);
    - ``truth/<id>.csv``: columns ``I,II,III,aVR,aVL,aVF,V1..V6``, 10 s at ``fs``, mV
      with 1 uV resolution (exactly what was plotted);
    - ``truth/<id>.json``: image size, dpi, layout, pulse, ``homography``,
      ``paper_quad`` and per printed lead ``lead_name``, ``start_sample``,
      ``end_sample``, ``is_rhythm_strip``, ``baseline_y_px``, ``x0_px`` and (when
      the homography is affine) ``pixel_affine`` as in ecg-dev
      (``row = a0*k + a1*v + a2``, ``col = b0*k + b1*v + b2``, ``k`` = sample index
      minus ``start_sample``, ``v`` in mV);
    - ``manifest.csv``: ``id,fs,sig_len,width_px,height_px,dpi,difficulty,options,image_file``;
    - ``test.csv``: ``id,lead,fs,number_of_rows`` (lead II: the 10 s strip, others
      one 2.5 s column);
    - ``solution.csv``: ``id,value`` with ``id = f"{image_id}_{row}_{lead}"``; lead II
      row ``r`` is truth sample ``r``, another lead's row ``r`` is truth sample
      ``window_start + r`` of its 3x4 column (I-III: 0 s, aVR-aVF: 2.5 s,
      V1-V3: 5 s, V4-V6: 7.5 s).

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created if missing; existing files of the same names are replaced).
    n : int
        Number of images (1-100000).
    seed : int
        Seed of everything; the same arguments write the same files.
    fs : float
        Sampling rate of the signals and of ``test.csv``.
    kinds : sequence of str
        Kinds to cycle through, from :data:`DATASET_KINDS`.

    Returns
    -------
    manifest : pandas.DataFrame
        The manifest (``id`` as 5-digit strings), in image order.

    Raises
    ------
    ValueError
        Unknown kind or bad ``n`` / ``fs``.

    Example
    -------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     m = write_dataset(d, n=1, kinds=("lowres",))
    ...     list(m.columns)[:3]
    ['id', 'fs', 'sig_len']
    """
    import pandas as pd

    n = int(_check_number(n, "n", 1, 100_000))
    fs = _check_number(fs, "fs", 1.0, 100_000.0)
    if isinstance(kinds, str) or not len(kinds):
        raise ValueError(f"kinds must be a non-empty sequence of kind names, got {kinds!r}")
    makers = [pick(_KINDS, k, "dataset kind") for k in kinds]
    out = Path(out_dir)
    for sub in ("images", "truth"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(seed)
    ids = [f"{v:05d}" for v in rng.choice(np.arange(10000, 100000), size=n, replace=False)]
    seeds = rng.integers(0, 2**31 - 1, size=n)
    rates = np.linspace(50.0, 130.0, n) if n > 1 else np.array([75.0])
    rates = rates[rng.permutation(n)]
    sig_len = int(round(10.0 * fs))
    fs_out = int(fs) if float(fs).is_integer() else fs
    n_short = sig_len // 4
    short_start = {}
    for c, names in enumerate(zip(*_ROWS_3X4, strict=True)):
        for name in names:
            short_start[name] = c * sig_len // 4

    manifest, tests, sol_ids, sol_vals = [], [], [], []
    for i, image_id in enumerate(ids):
        kind = kinds[i % len(kinds)]
        krng = np.random.default_rng(int(seeds[i]))
        render_kw, distort_kw = makers[i % len(kinds)](krng)
        if render_kw.get("grid_color") != "bw":
            # ecg-image-kit prints traces in a random dark gray (0-50).
            g = int(krng.integers(0, 51))
            render_kw = {**render_kw, "trace_color": (g, g, g)}
        raw = synthetic_signals(
            fs=fs, duration=sig_len / fs, heart_rate=float(rates[i]), seed=int(seeds[i])
        )
        # 1 uV resolution, as a 16-bit WFDB record at gain 1000 would store it.
        sig = {name: np.round(raw[name], 3) for name in LEAD_NAMES}
        render = render_ecg(sig, fs=fs, seed=int(seeds[i]), **render_kw)
        quality = None
        if distort_kw is not None:
            # JPEG happens once, when the file is written.
            quality = distort_kw.get("jpeg_quality")
            kw = {k: v for k, v in distort_kw.items() if k != "jpeg_quality"}
            render = distort(render, seed=int(seeds[i]) + 1, **kw)
        ext = "jpg" if quality else "png"
        image_file = f"images/{image_id}.{ext}"
        bgr = cv2.cvtColor(render.image, cv2.COLOR_RGB2BGR)
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if quality else []
        if not cv2.imwrite(str(out / image_file), bgr, params):
            raise OSError(f"could not write {out / image_file}")

        frame = pd.DataFrame({name: sig[name] for name in LEAD_NAMES})
        frame.to_csv(out / "truth" / f"{image_id}.csv", index=False, float_format="%.3f")
        t = render.truth
        meta = {
            "image_id": image_id,
            "image_file": image_file,
            "image_width_px": int(render.image.shape[1]),
            "image_height_px": int(render.image.shape[0]),
            "resolution": t.dpi,
            "px_per_mm": t.px_per_mm,
            "sampling_frequency": fs,
            "layout": t.layout,
            "dc_pulse": t.calibration_pulse,
            "difficulty": kind,
            "render": render_kw,
            "distort": distort_kw,
            "angle_deg": t.angle_deg,
            "homography": t.homography.tolist(),
            "paper_quad": t.paper_quad.tolist(),
            "grid_line_color_major": list(t.grid_rgb),
            "grid_line_color_minor": list(t.grid_minor_rgb),
            "ecg_plot_color": list(t.trace_rgb),
            "geometry_valid": _pixel_affine(t, t.leads[0]) is not None,
            "leads": [
                {
                    "lead_name": lt.name,
                    "start_sample": lt.start_sample,
                    "end_sample": lt.start_sample + lt.n_samples,
                    "is_rhythm_strip": lt.is_rhythm,
                    "baseline_y_px": lt.baseline_y_px,
                    "x0_px": lt.x0_px,
                    "pixel_affine": _pixel_affine(t, lt),
                }
                for lt in t.leads
            ],
        }
        with open(out / "truth" / f"{image_id}.json", "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=1)

        options = json.dumps(
            {
                "kind": kind,
                "seed": int(seeds[i]),
                "heart_rate": round(float(rates[i]), 1),
                "render": render_kw,
                "distort": distort_kw,
            },
            separators=(",", ":"),
        )
        manifest.append(
            {
                "id": image_id,
                "fs": fs_out,
                "sig_len": sig_len,
                "width_px": int(render.image.shape[1]),
                "height_px": int(render.image.shape[0]),
                "dpi": int(t.dpi) if float(t.dpi).is_integer() else t.dpi,
                "difficulty": kind,
                "options": options,
                "image_file": image_file,
            }
        )
        for name in LEAD_NAMES:
            if name == "II":
                rows, start = sig_len, 0
            else:
                rows, start = n_short, short_start[name]
            tests.append({"id": image_id, "lead": name, "fs": fs_out, "number_of_rows": rows})
            sol_ids.append(
                np.char.add(np.char.add(f"{image_id}_", np.arange(rows).astype(str)), f"_{name}")
            )
            sol_vals.append(sig[name][start : start + rows])

    manifest_df = pd.DataFrame(manifest)
    manifest_df.to_csv(out / "manifest.csv", index=False)
    pd.DataFrame(tests).to_csv(out / "test.csv", index=False)
    pd.DataFrame({"id": np.concatenate(sol_ids), "value": np.concatenate(sol_vals)}).to_csv(
        out / "solution.csv", index=False, float_format="%.3f"
    )
    return manifest_df
