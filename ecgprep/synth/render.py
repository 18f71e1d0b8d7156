"""Printing 12-lead signals on synthetic ECG paper, with exactly known truth.

Coordinates
-----------
Image coordinates are OpenCV's: ``x`` is the column and ``y`` the row, both in
pixels, and the *centre* of pixel ``(row i, column j)`` is the point
``(x, y) = (j, i)``. On an undistorted render a length of ``d`` mm on the paper is
``d * px_per_mm`` pixels, with ``px_per_mm = dpi / 25.4`` (7.874 at 200 dpi), and
paper position ``(X, Y)`` mm (from the top-left corner of the page) is at pixel
``(X * px_per_mm, Y * px_per_mm)``. Sample ``j`` (0-based, counted from the lead's
first printed sample) of value ``v`` mV of a lead printed at ``paper_speed`` mm/s
(25 by default) and ``gain`` mm/mV (10 by default) is drawn at::

    x = lead.x0_px + (j / fs) * paper_speed * px_per_mm
    y = lead.baseline_y_px - v * gain * px_per_mm

and after :func:`~ecgprep.synth.distort` at ``truth.homography`` applied to that point (see
:meth:`RenderTruth.lead_xy`).

Page layouts (baselines in mm from the top of the 279.4 x 215.9 mm page; traces
start at x = 10 mm, or 15 mm when a calibration pulse stands in the 5 mm
(0.2 s) before them; every row spans 250 mm = 10 s):

- ``3x4+1``: rows I aVR V1 V4 / II aVL V2 V5 / III aVF V3 V6 (2.5 s each) and a 10 s
  lead II strip; baselines 89.96, 125.94, 161.93, 194.91 mm (those of ecg-image-kit).
- ``3x4``: the three 2.5 s rows of 3x4+1 only.
- ``3x4+2``: the three 2.5 s rows, then 10 s strips of V1 and II (as GE prints
  them); baselines 71, 102, 133, 164, 195 mm.
- ``3x4+3``: the three 2.5 s rows, then 10 s strips of II, V1 and V5; baselines 60, 87,
  114, 141, 168, 195 mm.
- ``6x2``: rows I V1 / II V2 / III V3 / aVR V4 / aVL V5 / aVF V6 of 5 s each; baselines
  as 3x4+3.
- ``6x2+1``: the six rows of 6x2, then a 10 s lead II strip; baselines 57, 80, ...,
  195 mm (23 mm apart).
- ``12x1``: one 10 s row per lead, I to V6; baselines 40, 54, ..., 194 mm (14 mm apart).

The rhythm strips' leads and order can be chosen (``layout="3x4+3:V1,II,V5"`` or
``rhythm_leads``). At another paper speed the pulse is 0.2 s wide and a row 10 s
long, and the page is widened when a row does not fit (to 530 mm at 50 mm/s);
above 10 mm/mV the rows are spread ``gain / 10`` times further apart and the page
made taller, as it is made for text blocks that need the room (see
:func:`render_ecg`).

Column ``k`` of a row with ``c`` columns prints the samples
``[k * L // c, (k + 1) * L // c)`` of the ``L``-sample recording (for 3x4 at
500 Hz: 0-1249, 1250-2499, 2500-3749, 3750-4999), as in the competition.

Page furniture, measured on the competition renders: paper tint = 80 % white +
20 % minor-line colour; 1 mm minor and 5 mm major lines about 0.2 mm wide over
the whole page, vertical lines at whole mm from the left edge, horizontal lines
at whole mm from the bottom edge (so baselines do not sit on grid lines), snapped
to whole pixels as matplotlib snaps them: a line at ``x`` lands on pixel
``round(x + 0.5)``, half a pixel right of (and below) its exact place on average,
so a trace that starts on a grid line starts half a pixel left of the line as
printed; a 1 px dark frame; separator bars 0.76 mm x 7 mm centred on the
baseline where columns 2-4 start; lead names with their left edge at the panel
start and their foot 7.5 mm below the baseline; "25mm/s" and "10mm/mV" 5.3 mm
above the bottom edge at x = 50 and 100 mm.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from .._validate import check_number, pick
from ..standards import (
    GAIN_MM_PER_MV,
    LEADS,
    LETTER_MM,
    MAJOR_MM,
    MINOR_MM,
    PAPER_SPEED_MM_S,
    PULSE_MV,
    PULSE_SECONDS,
    RECORD_SECONDS,
)
from .signals import synthetic_signals

__all__ = [
    "LEAD_NAMES",
    "LAYOUTS",
    "GRID_COLORS",
    "GRID_STYLES",
    "LeadTruth",
    "RenderTruth",
    "Render",
    "render_ecg",
]

#: The twelve leads in the competition's order (:data:`ecgprep.standards.LEADS`).
LEAD_NAMES = LEADS


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
        ``x0_px + duration_s * paper_speed * px_per_mm`` (one sample period past the
        last sample; paper_speed 25 mm/s by default).
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
        Rotation applied by :func:`~ecgprep.synth.distort` (counter-clockwise on screen; the
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
    rhythm_leads : tuple of str
        Leads of the rhythm strips, top to bottom (empty for layouts without).
    paper_speed : float
        Paper speed, mm/s: sample ``j`` of a panel is ``j / fs * paper_speed``
        mm right of its first.
    gain : float
        Gain, mm/mV.
    grid_style : str
        Grid style (:data:`GRID_STYLES`).
    binarized : bool
        Whether the page was thresholded to black and white.
    bend : tuple of float
        The paper's curl (:func:`~ecgprep.synth.bend`; empty when flat):
        parameters of :func:`ecgprep.synth.distort.bend_offsets`. Render
        coordinates are bent first, then mapped by ``homography``.
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
    rhythm_leads: tuple = ("II",)
    paper_speed: float = PAPER_SPEED_MM_S
    gain: float = GAIN_MM_PER_MV
    grid_style: str = "lines"
    binarized: bool = False
    bend: tuple = ()

    @property
    def layout_spec(self) -> str:
        """The layout with its rhythm leads, ``"3x4+3:II,V1,V5"`` (``layout`` alone
        when it prints no rhythm strip): accepted by :func:`render_ecg` and by
        :data:`ecgprep.standards.LAYOUTS` names."""
        if not self.rhythm_leads:
            return self.layout
        return f"{self.layout}:{','.join(self.rhythm_leads)}"

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
            Map through ``bend`` and ``homography`` (image coordinates); False
            gives the undistorted render coordinates.

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
        x = lt.x0_px + j / self.fs * self.paper_speed * self.px_per_mm
        y = lt.baseline_y_px - v * self.gain * self.px_per_mm
        xy = np.stack([x, y], axis=1)
        if distorted:
            if self.bend:
                from .distort import unbend_points

                xy = unbend_points(self.bend, xy)
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
    """Apply a 3x3 homography to (K, 2) points.

    Not :func:`ecgprep._geometry.apply_homography`: that one makes points with a
    homogeneous ``w <= 0`` NaN, this one divides whatever ``w`` is, as the truth
    of a render always has.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    p = np.c_[xy, np.ones(len(xy))] @ np.asarray(h, dtype=float).T
    return p[:, :2] / p[:, 2:3]


# ---------------------------------------------------------------------------
# layouts and colours
# ---------------------------------------------------------------------------

_ROWS_3X4 = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_ROWS_6X2 = (("I", "V1"), ("II", "V2"), ("III", "V3"), ("aVR", "V4"), ("aVL", "V5"), ("aVF", "V6"))
_SIX_ROWS = (60.0, 87.0, 114.0, 141.0, 168.0, 195.0)
# Five rows 31 mm apart and seven rows 23 mm apart, ending on the 195 mm row of the
# others: as far apart as the page allows, as GE and Philips carts space them.
_FIVE_ROWS = (71.0, 102.0, 133.0, 164.0, 195.0)
_SEVEN_ROWS = (57.0, 80.0, 103.0, 126.0, 149.0, 172.0, 195.0)

# layout -> (short rows, default rhythm leads, baselines in mm from the top)
_LAYOUTS: dict[str, tuple[tuple, tuple, tuple]] = {
    "3x4+1": (_ROWS_3X4, ("II",), (89.96, 125.94, 161.93, 194.91)),
    "3x4": (_ROWS_3X4, (), (89.96, 125.94, 161.93)),
    "3x4+2": (_ROWS_3X4, ("V1", "II"), _FIVE_ROWS),
    "3x4+3": (_ROWS_3X4, ("II", "V1", "V5"), _SIX_ROWS),
    "6x2": (_ROWS_6X2, (), _SIX_ROWS),
    "6x2+1": (_ROWS_6X2, ("II",), _SEVEN_ROWS),
    "12x1": (tuple((name,) for name in LEAD_NAMES), (), tuple(40.0 + 14.0 * k for k in range(12))),
}
LAYOUTS = tuple(_LAYOUTS)

# name -> (major line rgb, minor line rgb); the paper is 80 % white + 20 % minor colour,
# as in ecg-image-kit renders ('mono': white paper, see _PAPER_RGB).
GRID_COLORS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "red": ((255, 0, 0), (254, 223, 219)),
    "pink": ((255, 203, 221), (254, 237, 248)),
    "brown": ((109, 50, 47), (150, 107, 101)),
    "blue": ((0, 0, 102), (0, 0, 178)),
    "green": ((0, 120, 40), (150, 210, 160)),
    "gray": ((102, 102, 102), (191, 191, 191)),
    "bw": ((102, 102, 102), (191, 191, 191)),
    "mono": ((0, 0, 0), (0, 0, 0)),
}
#: Grid colours printed with a black trace whatever ``trace_color`` says.
_BLACK_TRACE_GRIDS = ("bw", "mono")
# Paper colour where it is not the tint of the minor colour: a black-and-white
# scan of a page whose grid came out as dark as the trace has white paper.
_PAPER_RGB = {"mono": (255, 255, 255)}
# (minor, major) line widths in mm where they differ from ecg-image-kit's: on a
# black-and-white scan the thin lines differ from the thick ones by width alone.
_LINE_WIDTHS_MM = {"mono": (0.1, 0.3)}

_X_START_MM = 10.0
_MINOR_W_MM = 0.2
_MAJOR_W_MM = 0.18
_SEP_HALF_H_MM = 3.5
_SEP_W_MM = 0.76
#: Diameter of a dot of a dotted grid, mm (1-2 px dots at 100-200 dpi, as on GE and
#: Schiller pages printed on plain paper).
_DOT_MM = 0.25
#: Spacing of the dots of a 5 mm line printed as dots, mm (GE's PDF: 0.5 mm).
_LINE_DOT_MM = 0.5
#: Right page margin, mm, when the page is widened for a fast paper speed (the
#: left one is _X_START_MM).
_RIGHT_MARGIN_MM = 10.0
#: Blank paper between one column block's trace and the next block's pulse (mm),
#: as carts printing a 6x2 page in two blocks leave it (a scan of one: 6 mm).
_BLOCK_GAP_MM = 5.0
#: Room above the top row, mV: tall R waves reach about 1.5 mV above the baseline.
_PEAK_MV = 1.5
#: Room below the bottom row, mV: deep S waves reach about 1 mV below the baseline.
_TROUGH_MV = 1.0
#: Lead labels stand with their foot this far below the baseline, mm.
_LABEL_FOOT_MM = 7.5
#: ... or, printed above the trace as GE carts print them, this far above it, mm.
_LABEL_ABOVE_FOOT_MM = 11.0
#: White margin of a label's box about its glyphs (``label_box``), mm: GE's
#: boxes stand about 0.4 mm clear of the letters.
_LABEL_BOX_MARGIN_MM = 0.4
#: Text lines of the header and footer blocks are this far apart, mm.
_TEXT_LINE_MM = 5.0
#: Left edge of the header and footer text blocks, mm.
_TEXT_X_MM = 1.3
#: First header line's foot, and the speed/gain line's foot above the bottom edge, mm.
_HEADER_Y_MM = 4.5
_FOOTER_Y_MM = 5.3
#: Cap height of printed text, mm (see _put_text).
_TEXT_H_MM = 3.0
#: Clear space kept between text and the nearest wave, mm.
_TEXT_GAP_MM = 2.0
#: Grey level splitting black from white when ``binarize`` is asked (a fixed
#: mid-scale threshold, as document scanners and fax machines apply).
_BINARIZE_LEVEL = 128

# Grid style -> (minor marks: 'lines', 'dots' or None, major lines drawn)
_GRID_STYLES: dict[str, tuple[str | None, bool]] = {
    "lines": ("lines", True),
    "dotted": ("dots", True),
    "dotted_lines": ("dots", "dots"),
    "major_only": (None, True),
    "none": (None, False),
}
#: Grid styles of :func:`render_ecg`: 1 mm and 5 mm lines (ecg-image-kit); a dot
#: at every 1 mm crossing and solid 5 mm lines; a dot at every 1 mm crossing and
#: 5 mm lines printed as dots 0.5 mm apart (GE's plain-paper PDF); 5 mm lines
#: only; no grid.
GRID_STYLES = tuple(_GRID_STYLES)


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
    """(n,) float32 fraction of each pixel covered by lines of ``width`` px at ``centres``.

    ``snap``: each line is moved onto the pixel matplotlib's Agg snapping puts it
    on, ``round(centre + 0.5)`` (it rounds the position measured from the pixels'
    edges; measured on ecg-image-kit renders, both axes).
    """
    cov = np.zeros(n, np.float32)
    if snap:
        centres = np.round(centres + 0.5)
    lo = centres - width / 2.0
    hi = centres + width / 2.0
    first = np.floor(lo + 0.5).astype(int)
    for d in range(int(math.ceil(width)) + 2):
        idx = first + d
        ov = np.clip(np.minimum(idx + 0.5, hi) - np.maximum(idx - 0.5, lo), 0.0, 1.0)
        ok = (idx >= 0) & (idx < n) & (ov > 0)
        np.maximum.at(cov, idx[ok], ov[ok].astype(np.float32))
    return cov


def _grid_layer(
    h: int,
    w: int,
    ppm: float,
    paper_h_mm: float,
    snap: bool,
    *,
    style: str = "lines",
    minor_w_mm: float = _MINOR_W_MM,
    major_w_mm: float = _MAJOR_W_MM,
):
    """Alpha of the minor and major grid lines, (h, w) float32 each, and the grid mask.

    Vertical lines stand at x = k mm from the left edge, horizontal lines at
    k mm from the bottom edge (as matplotlib draws them in ecg-image-kit). A
    dotted grid's dots (at the 1 mm crossings, in the major colour) are returned
    within the major alpha.
    """
    minor_kind, with_major = _GRID_STYLES[style]
    a_min = a_maj = np.zeros((h, w), np.float32)
    mask = np.zeros((h, w), bool)
    xs_mm = np.arange(0, w / ppm + MINOR_MM, MINOR_MM)
    ys_mm = paper_h_mm - np.arange(0, h / ppm + MINOR_MM, MINOR_MM)
    minor_w = max(minor_w_mm * ppm, 0.35)
    major_w = max(major_w_mm * ppm, 0.35)
    # Mask thresholds: half coverage, or the centre pixels of sub-pixel lines.
    thr_min = min(0.5, 0.9 * min(minor_w, 1.0))
    thr_maj = min(0.5, 0.9 * min(major_w, 1.0))
    if minor_kind == "lines":
        cx_min = _line_coverage(w, xs_mm * ppm, minor_w, snap)
        cy_min = _line_coverage(h, ys_mm * ppm, minor_w, snap)
        a_min = 1.0 - (1.0 - cy_min)[:, None] * (1.0 - cx_min)[None, :]
        mask = a_min >= thr_min
    if with_major:
        xs_maj = xs_mm[np.isclose(np.mod(xs_mm, MAJOR_MM), 0.0)]
        k = np.arange(0, h / ppm / MAJOR_MM + 1.0)
        cx_maj = _line_coverage(w, xs_maj * ppm, major_w, snap)
        cy_maj = _line_coverage(h, (paper_h_mm - MAJOR_MM * k) * ppm, major_w, snap)
        if with_major == "dots":
            # each 5 mm line a row of dots, _LINE_DOT_MM apart along it
            dot_w = max(_DOT_MM * ppm, 1.0)
            along_x = _line_coverage(w, np.arange(0, w / ppm, _LINE_DOT_MM) * ppm, dot_w, snap)
            along_y = _line_coverage(
                h, (paper_h_mm - np.arange(0, h / ppm, _LINE_DOT_MM)) * ppm, dot_w, snap
            )
            horiz = cy_maj[:, None] * along_x[None, :]
            vert = along_y[:, None] * cx_maj[None, :]
            a_maj = 1.0 - (1.0 - horiz) * (1.0 - vert)
            mask = mask | ((cy_maj >= 0.5)[:, None] & (along_x >= 0.5)[None, :])
            mask = mask | ((along_y >= 0.5)[:, None] & (cx_maj >= 0.5)[None, :])
        else:
            a_maj = 1.0 - (1.0 - cy_maj)[:, None] * (1.0 - cx_maj)[None, :]
            mask = mask | (a_maj >= thr_maj)
    if minor_kind == "dots":
        dot_w = max(_DOT_MM * ppm, 1.0)
        cx_dot = _line_coverage(w, xs_mm * ppm, dot_w, snap)
        cy_dot = _line_coverage(h, ys_mm * ppm, dot_w, snap)
        a_dot = cy_dot[:, None] * cx_dot[None, :]
        a_maj = 1.0 - (1.0 - a_maj) * (1.0 - a_dot)
        mask = mask | ((cy_dot >= 0.5)[:, None] & (cx_dot >= 0.5)[None, :])
    return a_min, a_maj, mask


def _parse_layout(layout, rhythm_leads) -> tuple[str, tuple[str, ...]]:
    """``(base layout, rhythm leads)`` of ``layout`` (``"3x4+3"`` or ``"3x4+3:V1,II,V5"``).

    ``rhythm_leads`` (None or a sequence of lead names) overrides the default
    strips; given with an explicit order in ``layout`` too, the two must agree.
    Spelled as the layout names of :mod:`ecgprep.standards` (a lead may be
    printed twice; only ``+N`` layouts take leads after a colon).
    """
    if not isinstance(layout, str):
        valid = ", ".join(repr(k) for k in _LAYOUTS)
        raise ValueError(f"layout must be a string, got {layout!r}; valid: {valid}")
    base, sep, spec = layout.partition(":")
    base = base.strip()
    pick(_LAYOUTS, base, "layout")
    default = _LAYOUTS[base][1]
    leads = None
    if sep:
        if not default:
            raise ValueError(
                f"layout {layout!r}: {base!r} prints no rhythm strip, so no leads after a colon"
            )
        leads = tuple(name.strip() for name in spec.split(","))
    if rhythm_leads is not None:
        if isinstance(rhythm_leads, str):
            raise ValueError(
                f"rhythm_leads must be a sequence of lead names such as ('V1', 'II'), "
                f"got {rhythm_leads!r}"
            )
        given = tuple(rhythm_leads)
        if leads is not None and leads != given:
            raise ValueError(
                f"layout {layout!r} and rhythm_leads {given!r} name different rhythm leads"
            )
        leads = given
    if leads is None:
        return base, default
    if len(leads) != len(default):
        raise ValueError(
            f"layout {base!r} prints {len(default)} rhythm strip(s), "
            f"got {len(leads)} rhythm leads {leads!r}"
        )
    unknown = [name for name in leads if name not in LEAD_NAMES]
    if unknown:
        raise ValueError(f"unknown rhythm leads {unknown}; valid: {', '.join(LEAD_NAMES)}")
    return base, leads


def _row_baselines(base: str, gain: float, top_mm: float) -> tuple[float, ...]:
    """Row baselines in mm from the top of the page.

    The layout's own rows (those of ecg-image-kit) unless the gain is above the
    standard one or the header text needs the room: then the rows are spread
    ``gain / 10`` times further apart (a 1 mV wave keeps its share of the row)
    and all moved down by whole mm until the top row has ``top_mm`` above it.
    """
    rows = _LAYOUTS[base][2]
    scale = max(1.0, gain / GAIN_MM_PER_MV)
    shift = max(0.0, float(math.ceil(top_mm - rows[0] - 1e-9)))
    if scale == 1.0 and shift == 0.0:
        return rows
    return tuple(rows[0] + shift + (b - rows[0]) * scale for b in rows)


def _layout_panels(
    base: str,
    rhythm: tuple[str, ...],
    baselines: tuple[float, ...],
    sig_len: int,
    fs: float,
    ppm: float,
    x_start_mm: float,
    paper_speed: float = PAPER_SPEED_MM_S,
    *,
    block_step_mm: float = 0.0,
    block_shift_mm: float = 0.0,
):
    rows = _LAYOUTS[base][0]
    leads = []
    ncols = len(rows[0])
    for r, names in enumerate(rows):
        for c, name in enumerate(names):
            start = c * sig_len // ncols
            stop = (c + 1) * sig_len // ncols
            n = stop - start
            x0 = (x_start_mm + start / fs * paper_speed + c * block_step_mm) * ppm
            shift = block_shift_mm if c > 0 else 0.0
            leads.append(
                LeadTruth(
                    name=name,
                    row=r,
                    col=c,
                    t0_s=start / fs,
                    duration_s=n / fs,
                    baseline_y_px=(baselines[r] - shift) * ppm,
                    x0_px=x0,
                    x1_px=x0 + n / fs * paper_speed * ppm,
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
                x1_px=x0 + sig_len / fs * paper_speed * ppm,
                start_sample=0,
                n_samples=sig_len,
                is_rhythm=True,
            )
        )
    return tuple(leads)


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


def _text_font(org_mm, ppm: float, height_mm: float) -> tuple[int, float, int, tuple[int, int]]:
    """OpenCV's font, scale, thickness and origin (px) for text of cap height ``height_mm``."""
    scale = height_mm * ppm / 22.0
    thick = max(1, int(round(0.16 * ppm)))
    org = (int(round(org_mm[0] * ppm)), int(round(org_mm[1] * ppm)))
    return cv2.FONT_HERSHEY_SIMPLEX, scale, thick, org


def _put_text(canvas: np.ndarray, text: str, org_mm, ppm: float, height_mm: float = 3.0) -> None:
    """Draw ``text`` (bottom-left at ``org_mm``, cap height ``height_mm``) into ``canvas``."""
    font, scale, thick, org = _text_font(org_mm, ppm, height_mm)
    cv2.putText(canvas, text, org, font, scale, 255, thick, cv2.LINE_AA)


def _text_box(
    text: str, org_mm, ppm: float, *, margin_mm: float, height_mm: float = 3.0
) -> tuple[int, int, int, int]:
    """Pixel box ``(x0, y0, x1, y1)`` (half-open) :func:`_put_text` inks, plus ``margin_mm``."""
    font, scale, thick, (x, y) = _text_font(org_mm, ppm, height_mm)
    (w, h), base = cv2.getTextSize(text, font, scale, thick)
    pad = 2 * thick + 2
    canvas = np.zeros((h + base + 2 * pad, w + 2 * pad), np.uint8)
    cv2.putText(canvas, text, (pad, pad + h), font, scale, 255, thick, cv2.LINE_AA)
    ys, xs = np.nonzero(canvas)
    m = int(round(margin_mm * ppm))
    dx, dy = x - pad, y - pad - h  # canvas to page
    return (
        int(xs.min()) + dx - m,
        int(ys.min()) + dy - m,
        int(xs.max()) + 1 + dx + m,
        int(ys.max()) + 1 + dy + m,
    )


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


def _text_lines(text) -> list[str]:
    """Lines of a header or footer text block: a string's lines, none for a flag."""
    return text.splitlines() if isinstance(text, str) else []


def _binarize(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An (M, N, 3) uint8 RGB image as a fixed-threshold scanner prints it, and
    its (M, N) bool black pixels."""
    black = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) < _BINARIZE_LEVEL
    return np.repeat(np.where(black, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2), black


def _binarize_rgb(rgb) -> tuple[int, int, int]:
    """Black or white, as a fixed-threshold scanner prints the colour ``rgb``."""
    r, g, b = (float(c) for c in rgb)
    v = 0 if 0.299 * r + 0.587 * g + 0.114 * b < _BINARIZE_LEVEL else 255
    return (v, v, v)


def render_ecg(
    signals: Mapping[str, np.ndarray] | None = None,
    *,
    fs: float = 500.0,
    dpi: float = 200.0,
    layout: str = "3x4+1",
    calibration_pulse: bool = True,
    x_start_mm: float | None = None,
    grid_color: str | tuple = "red",
    trace_color: tuple = (0, 0, 0),
    line_width_mm: float = 0.265,
    labels: bool | str = True,
    separators: bool = True,
    header_text: bool | str = False,
    footer_text: bool | str = True,
    frame: bool = True,
    snap_grid: bool = True,
    paper_size_mm: tuple[float, float] | None = None,
    seed: int = 0,
    rhythm_leads: tuple[str, ...] | None = None,
    paper_speed: float = PAPER_SPEED_MM_S,
    gain: float = GAIN_MM_PER_MV,
    grid_style: str = "lines",
    binarize: bool = False,
    baselines_on_lines: bool = False,
    label_box: bool = False,
    column_blocks: bool = False,
    block_shift_mm: float = 0.0,
) -> Render:
    """Print a 12-lead ECG on synthetic ECG paper, with exact truth.

    Mimics the ecg-image-kit renders of the Kaggle competition: a light paper tint,
    1 mm minor and 5 mm major grid lines over the whole page, 25 mm/s and 10 mm/mV,
    optional 1 mV x 0.2 s calibration pulses, short vertical separator bars at the
    column boundaries, lead labels below each panel start, "25mm/s" and "10mm/mV"
    at the bottom, and a one-pixel frame. See the module docstring for the layouts.
    Other pages seen in practice are options: GE's rhythm strips, 50 mm/s, 5 or
    20 mm/mV, dotted or major-only grids, black-and-white scans, text blocks.

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
    layout : str
        Lead arrangement, one of :data:`LAYOUTS` ('3x4+1', '3x4', '3x4+2', '3x4+3',
        '6x2', '6x2+1', '12x1'), optionally followed by the rhythm strips' leads
        in printed order: ``"3x4+3:V1,II,V5"`` (the spelling of
        :data:`ecgprep.standards.LAYOUTS` names; same as ``rhythm_leads``).
    calibration_pulse : bool
        Draw a 1 mV x 0.2 s pulse at the left of every row (traces then start
        0.2 s of paper later: at 15 mm instead of 10 mm at 25 mm/s).
    x_start_mm : float, optional
        Where the traces start, mm from the left edge (default 10 mm, plus the
        pulse's width after a pulse: on a grid line, as printers place them). Any
        other value puts the time origin off the grid.
    grid_color : str or (r, g, b)
        One of :data:`GRID_COLORS` or a major-line colour (the minor colour is a
        lighter tint). ``'bw'`` is a gray grid with a black trace; ``'mono'`` a
        black grid on white paper with a black trace, the thin lines told from the
        thick ones by width alone (0.1 and 0.2 mm), as a black-and-white scan
        prints a page.
    trace_color : (r, g, b)
        Trace, pulse, separator and text colour (forced to black with ``'bw'``
        and ``'mono'``).
    line_width_mm : float
        Trace width (0.265 mm = 0.75 pt, as ecg-image-kit; ``25.4 / dpi`` for a
        one-pixel trace). The trace is drawn anti-aliased at the exact sub-pixel
        position of every sample.
    labels : bool or str
        Print lead names: True (or ``"below"``) with their foot 7.5 mm below the
        baseline at each panel's start, as ecg-image-kit; ``"above"`` with their
        foot 11 mm above it, as GE carts print them; False for none.
    separators : bool
        Print the short vertical bars where a column starts (column >= 1).
    header_text : bool or str
        False, True (random patient fields at the top as ecg-image-kit prints them) or
        a block of text printed at the top left, one line per line of the string
        (a GE header: patient, rates, intervals, interpretation). The rows move
        down when the block needs the room.
    footer_text : bool or str
        True prints the speed and gain ("25mm/s", "10mm/mV") near the bottom; a
        string prints them and, above them, its lines as a text block (an
        interpretation); the page grows taller when the block needs the room.
    frame : bool
        One-pixel dark frame around the page (present in the competition renders).
    snap_grid : bool
        Snap grid lines to whole pixels as matplotlib does (half a pixel right of
        and below their exact place on average; their period stays exact
        on average); False draws them anti-aliased at their exact positions.
    paper_size_mm : (float, float), optional
        Page width and height in mm. Default: US letter landscape (279.4 x 215.9
        mm), widened to ``10 mm + pulse + 10 s of paper + 10 mm`` when a row does
        not fit (530 mm at 50 mm/s) and made taller, by whole mm, when the rows
        (at a high gain) or the text blocks do not.
    seed : int
        Seed for the default signals and the header fields.
    rhythm_leads : sequence of str, optional
        Leads of the 10 s rhythm strips of a ``+N`` layout, top to bottom (N
        names among :data:`LEAD_NAMES`). Default: the layout's
        ('II' for 3x4+1 and 6x2+1; 'V1', 'II' for 3x4+2 as GE prints them; 'II',
        'V1', 'V5' for 3x4+3).
    paper_speed : float
        Paper speed, mm/s (10, 25 or 50 in practice; any value in [1, 100]).
        A row holds 10 s, so ``10 * paper_speed`` mm of paper; the pulse is 0.2 s
        wide.
    gain : float
        Gain, mm/mV (5, 10 or 20 in practice; any value in [1, 40]). The pulse is
        1 mV tall; above 10 mm/mV the rows are spread ``gain / 10`` times further
        apart (the page grows taller) so that the page looks as printed.
    grid_style : str
        One of :data:`GRID_STYLES`: 'lines' (1 mm and 5 mm lines), 'dotted' (a
        dot at every 1 mm crossing, in the major colour, and solid 5 mm lines, as
        on plain-paper printers), 'dotted_lines' (a dot at every 1 mm crossing,
        and 5 mm lines printed as dots 0.5 mm apart, as GE's PDF pages),
        'major_only' (5 mm lines only) or 'none'.
    binarize : bool
        Threshold the finished page to pure black and white (gray level < 128 is
        black), as document scanners and fax machines do.
    baselines_on_lines : bool
        Put each row's baseline on its nearest 5 mm line, as GE carts print them
        (otherwise, as ecg-image-kit, baselines fall between the lines). The
        flat trace then runs along a grid line.
    label_box : bool
        Print each lead label on a white box that hides the trace beneath it, as
        GE carts do: a tall wave running under its label is cut there (the truth
        keeps it).
    column_blocks : bool
        Print the short rows' columns as blocks side by side, as some carts print
        a 6x2 page: each column after the first starts 5 mm of blank paper after
        the one before it ends, behind a calibration pulse of its own (with
        ``calibration_pulse``), and no separator bars. The page widens to fit.
    block_shift_mm : float
        With ``column_blocks``: how far above its row's baseline each later
        column's baseline stands (mm; within +-10), as blocks printed apart do.

    Returns
    -------
    Render
        ``image`` (M, N, 3) uint8 RGB and its :class:`RenderTruth`.

    Raises
    ------
    ValueError
        Unknown layout, rhythm lead, grid colour or grid style, missing leads,
        signals of unequal length or non-finite values, bad numbers.

    Notes
    -----
    Sample ``j`` of a panel is drawn at ``x = x0_px + j / fs * paper_speed *
    px_per_mm`` and ``y = baseline_y_px - v * gain * px_per_mm``
    (:meth:`RenderTruth.lead_xy`).

    Example
    -------
    >>> r = render_ecg(seed=3)
    >>> r.image.shape, r.image.dtype
    ((1700, 2200, 3), dtype('uint8'))
    >>> lead = r.truth.lead("II", rhythm=True)
    >>> round(lead.x0_px, 2), round(lead.baseline_y_px, 1)
    (118.11, 1534.7)
    >>> fast = render_ecg(seed=3, dpi=100, layout="3x4+2", paper_speed=50)
    >>> fast.image.shape, fast.truth.rhythm_leads
    ((850, 2087, 3), ('V1', 'II'))
    """
    fs = float(fs)
    dpi = float(dpi)
    if not (math.isfinite(fs) and fs > 0):
        raise ValueError(f"fs must be a positive number, got {fs!r}")
    if not (math.isfinite(dpi) and 20.0 <= dpi <= 1200.0):
        raise ValueError(f"dpi must be within 20-1200, got {dpi!r}")
    if not (math.isfinite(line_width_mm) and 0 < line_width_mm < 5):
        raise ValueError(f"line_width_mm must be within (0, 5) mm, got {line_width_mm!r}")
    paper_speed = check_number(paper_speed, "paper_speed", lo=1.0, hi=100.0)
    gain = check_number(gain, "gain", lo=1.0, hi=40.0)
    block_shift_mm = check_number(block_shift_mm, "block_shift_mm", lo=-10.0, hi=10.0)
    base, rhythm = _parse_layout(layout, rhythm_leads)
    style_name = grid_style
    pick(_GRID_STYLES, style_name, "grid_style")
    if isinstance(labels, str):
        pick({"above": True, "below": True}, labels, "labels")
    major_rgb, minor_rgb = _grid_colors(grid_color)
    named_grid = grid_color if isinstance(grid_color, str) else None
    black_trace = named_grid in _BLACK_TRACE_GRIDS
    trace_rgb = (0, 0, 0) if black_trace else _rgb(trace_color, "trace_color")

    if signals is None:
        signals = synthetic_signals(fs=fs, seed=seed)
    needed = {name for row in _LAYOUTS[base][0] for name in row} | set(rhythm)
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

    # Rows: the layout's, spread for a high gain and moved down under a tall header.
    if isinstance(header_text, str):
        header_lines = len(_text_lines(header_text))
    else:
        header_lines = 3 if header_text else 0  # the random patient fields
    top_mm = _PEAK_MV * gain + _TEXT_GAP_MM
    if header_lines:
        top_mm += _HEADER_Y_MM + _TEXT_LINE_MM * (header_lines - 1)
    baselines = _row_baselines(base, gain, top_mm)
    pulse_mm = PULSE_SECONDS * paper_speed
    footer_lines = _text_lines(footer_text)
    # each later column block starts a gap and its own pulse further right
    n_cols = len(_LAYOUTS[base][0][0])
    block_step_mm = _BLOCK_GAP_MM + (pulse_mm if calibration_pulse else 0.0)
    block_step_mm = block_step_mm if column_blocks else 0.0

    if paper_size_mm is None:
        pw_mm, ph_mm = LETTER_MM
        need_w = _X_START_MM + (pulse_mm if calibration_pulse else 0.0)
        need_w += RECORD_SECONDS * paper_speed + _RIGHT_MARGIN_MM
        need_w += (n_cols - 1) * block_step_mm
        if need_w > pw_mm:
            pw_mm = float(math.ceil(need_w))
        need_h = baselines[-1] + max(_LABEL_FOOT_MM, _TROUGH_MV * gain) + _TEXT_GAP_MM
        need_h += _TEXT_LINE_MM * len(footer_lines) + _TEXT_H_MM + _FOOTER_Y_MM
        if need_h > ph_mm:
            # whole mm more, so horizontal grid lines keep their place under the rows
            ph_mm += float(math.ceil(need_h - ph_mm))
    else:
        try:
            pw_mm, ph_mm = (float(v) for v in paper_size_mm)
        except (TypeError, ValueError):
            raise ValueError(
                f"paper_size_mm must be (width, height) in mm, got {paper_size_mm!r}"
            ) from None
    if not (50 <= pw_mm <= 2000 and 50 <= ph_mm <= 2000):
        raise ValueError(f"paper_size_mm must be within 50-2000 mm, got {paper_size_mm!r}")
    if baselines_on_lines:
        # each baseline moved onto its nearest 5 mm line (k * 5 mm from the bottom)
        baselines = tuple(ph_mm - MAJOR_MM * round((ph_mm - b) / MAJOR_MM) for b in baselines)

    ppm = dpi / 25.4
    w = int(round(pw_mm / 25.4 * dpi))
    h = int(round(ph_mm / 25.4 * dpi))
    if x_start_mm is None:
        x_start_mm = _X_START_MM + (pulse_mm if calibration_pulse else 0.0)
    elif not (math.isfinite(x_start_mm) and 0.0 <= x_start_mm <= 60.0):
        raise ValueError(f"x_start_mm must be within 0-60 mm, got {x_start_mm!r}")
    x_start_mm = float(x_start_mm)
    leads = _layout_panels(
        base,
        rhythm,
        baselines,
        sig_len,
        fs,
        ppm,
        x_start_mm,
        paper_speed,
        block_step_mm=block_step_mm,
        block_shift_mm=block_shift_mm if column_blocks else 0.0,
    )
    if max(lt.x1_px for lt in leads) > w:
        warnings.warn(
            f"the recording ({sig_len / fs:.2f} s) runs past the page edge and is clipped",
            RuntimeWarning,
            stacklevel=2,
        )
    if baselines[-1] * ppm >= h:
        warnings.warn(
            f"rows run past the bottom of the {ph_mm:g} mm page and are clipped",
            RuntimeWarning,
            stacklevel=2,
        )

    # Ink coverage: traces exact (float), text and separators by cv2 (uint8).
    trace_cov = np.zeros((h, w), np.float32)
    text_cov = np.zeros((h, w), np.uint8)
    lw_px = line_width_mm * ppm
    for lt in leads:
        v = sig[lt.name][lt.start_sample : lt.start_sample + lt.n_samples]
        x = lt.x0_px + np.arange(v.size) / fs * paper_speed * ppm
        y = lt.baseline_y_px - v * gain * ppm
        _polyline_coverage(trace_cov, np.stack([x, y], axis=1), lw_px)
    if calibration_pulse:
        # before every row, and before every column block
        starts = [(x_start_mm * ppm, b * ppm) for b in baselines]
        if column_blocks:
            starts += [(lt.x0_px, lt.baseline_y_px) for lt in leads if lt.col > 0]
        for x1, yb in starts:
            x0 = x1 - pulse_mm * ppm
            yt = yb - PULSE_MV * gain * ppm
            _polyline_coverage(trace_cov, np.array([[x0, yb], [x0, yt], [x1, yt], [x1, yb]]), lw_px)

    if separators and not column_blocks:
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
        foot = -_LABEL_ABOVE_FOOT_MM if labels == "above" else _LABEL_FOOT_MM
        for lt in leads:
            org = (lt.x0_px / ppm, lt.baseline_y_px / ppm + foot)
            if label_box:
                # the box hides the trace beneath it (drawn before the labels)
                x0, y0, x1, y1 = _text_box(lt.name, org, ppm, margin_mm=_LABEL_BOX_MARGIN_MM)
                trace_cov[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 0.0
            _put_text(text_cov, lt.name, org, ppm)
    if footer_text:
        _put_text(text_cov, f"{paper_speed:g}mm/s", (50.0, ph_mm - _FOOTER_Y_MM), ppm)
        _put_text(text_cov, f"{gain:g}mm/mV", (100.0, ph_mm - _FOOTER_Y_MM), ppm)
        for i, line in enumerate(footer_lines):
            y_mm = ph_mm - _FOOTER_Y_MM - _TEXT_LINE_MM * (len(footer_lines) - i)
            _put_text(text_cov, line, (_TEXT_X_MM, y_mm), ppm)
    if header_text:
        if isinstance(header_text, str):
            for i, line in enumerate(header_text.splitlines()):
                _put_text(text_cov, line, (_TEXT_X_MM, _HEADER_Y_MM + _TEXT_LINE_MM * i), ppm)
        else:
            rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 7])
            for i, (key, make) in enumerate(_HEADER_FIELDS):
                col, line = divmod(i, 3) if i < 6 else (2, 0)
                _put_text(
                    text_cov,
                    f"{key}: {make(rng)}",
                    (_TEXT_X_MM + 75.0 * col, _HEADER_Y_MM + _TEXT_LINE_MM * line),
                    ppm,
                )
    if frame:
        text_cov[0, :] = text_cov[-1, :] = 255
        text_cov[:, 0] = text_cov[:, -1] = 255

    # Paper and grid.
    minor_w_mm, major_w_mm = _LINE_WIDTHS_MM.get(named_grid, (_MINOR_W_MM, _MAJOR_W_MM))
    a_min, a_maj, grid_ink = _grid_layer(
        h,
        w,
        ppm,
        ph_mm,
        snap_grid,
        style=style_name,
        minor_w_mm=minor_w_mm,
        major_w_mm=major_w_mm,
    )
    minor = np.asarray(minor_rgb, np.float32)
    major = np.asarray(major_rgb, np.float32)
    if named_grid in _PAPER_RGB:
        paper = np.asarray(_PAPER_RGB[named_grid], np.float32)
    else:
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
    paper_rgb = tuple(int(round(c)) for c in paper)
    major_rgb = tuple(int(c) for c in major_rgb)
    minor_rgb = tuple(int(c) for c in minor_rgb)
    trace_rgb = tuple(int(c) for c in trace_rgb)
    if binarize:
        image, black = _binarize(image)
        # Ink covering half a pixel or more is black whatever the paper; thin grid
        # lines may have vanished.
        grid_mask &= black
        paper_rgb, major_rgb, minor_rgb, trace_rgb = (
            _binarize_rgb(c) for c in (paper_rgb, major_rgb, minor_rgb, trace_rgb)
        )

    truth = RenderTruth(
        px_per_mm=ppm,
        dpi=dpi,
        paper_quad=np.array([[0.0, 0.0], [w - 1.0, 0.0], [w - 1.0, h - 1.0], [0.0, h - 1.0]]),
        angle_deg=0.0,
        grid_rgb=major_rgb,
        grid_minor_rgb=minor_rgb,
        paper_rgb=paper_rgb,
        trace_rgb=trace_rgb,
        trace_mask=trace_mask,
        grid_mask=grid_mask,
        text_mask=text_mask,
        leads=leads,
        signals=sig,
        fs=fs,
        layout=base,
        calibration_pulse=bool(calibration_pulse),
        homography=np.eye(3),
        rhythm_leads=tuple(rhythm),
        paper_speed=paper_speed,
        gain=gain,
        grid_style=style_name,
        binarized=bool(binarize),
    )
    return Render(image=np.ascontiguousarray(image), truth=truth)
