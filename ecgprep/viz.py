"""Pictures of what the pipeline found: overlays on the input image and a gallery of a batch.

:func:`overlay` draws, over the picture the pipeline was given, the paper outline,
the 5 mm grid, the rows, lead panels and calibration pulses it found, and the
signals it extracted, drawn back where they should lie on the paper. Where the
drawn trace (blue) leaves the printed ink, digitization went wrong there.
Everything after the crop lives in the cropped, rectified and deskewed working
image; it is mapped back through the inverse of the stages' homographies.

:func:`gallery_html` / :func:`write_gallery` build one static, self-contained HTML
page for a batch (thumbnails inline as data URIs, no external resource, works
offline); :func:`gallery` gives a :class:`Gallery` that a notebook shows inline.

Colours (RGB) are in :data:`COLORS`. Only OpenCV is needed; :func:`overlay_figure`
also needs matplotlib (the ``viz`` extra).
"""

from __future__ import annotations

import base64
import html
import math
import os
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ._validate import check_image
from .io import find_image, load_image
from .options import Options, as_options

__all__ = [
    "COLORS",
    "LAYERS",
    "Gallery",
    "gallery",
    "gallery_html",
    "overlay",
    "overlay_figure",
    "save_overlay",
    "write_gallery",
]

#: RGB colour of each drawn element.
COLORS: dict[str, tuple[int, int, int]] = {
    "paper": (255, 120, 0),
    "grid": (0, 160, 190),
    "panel": (140, 70, 210),
    "baseline": (0, 150, 60),
    "pulse": (225, 0, 140),
    "trace": (0, 70, 255),
    "trace_on_blue": (235, 60, 0),
    "failed": (200, 30, 30),
    "warn": (240, 170, 0),
    "ok": (40, 40, 40),
}

#: What :func:`overlay` can draw (its ``layers``).
LAYERS = ("paper", "grid", "panels", "baselines", "pulses", "traces", "banner")

_LEGEND = (
    ("paper", "paper"),
    ("grid", "5 mm grid"),
    ("panel", "lead panels"),
    ("baseline", "0 mV"),
    ("pulse", "1 mV pulses"),
    ("trace", "digitized traces"),
)

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT
_FONT = cv2.FONT_HERSHEY_SIMPLEX


# ---------------------------------------------------------------------------
# geometry: working frames back to the input image
# ---------------------------------------------------------------------------


def _mat(h: Any) -> np.ndarray | None:
    if h is None:
        return None
    m = np.asarray(h, dtype=np.float64)
    if m.shape == (2, 3):
        m = np.vstack([m, [0.0, 0.0, 1.0]])
    if m.shape != (3, 3) or not np.all(np.isfinite(m)):
        return None
    return m


def _inv(m: np.ndarray | None) -> np.ndarray | None:
    if m is None:
        return None
    try:
        inv = np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return None
    return inv if np.all(np.isfinite(inv)) else None


@dataclass(frozen=True)
class _Frames:
    """Inverse homographies: working image -> input, grid frame -> input (None when unknown)."""

    work_to_input: np.ndarray | None
    grid_to_input: np.ndarray | None
    work_shape: tuple[int, int] | None


def _frames(result) -> _Frames:
    crop = result.stage("edges")
    desk = result.stage("deskew")
    grid = result.stage("grid")
    to_work = np.eye(3)
    shape = None
    known = crop is not None
    for st in (crop, result.stage("perspective"), desk):
        if st is None:
            continue
        m = _mat(getattr(st, "homography", None))
        if m is None:
            known = False
            break
        to_work = m @ to_work
        shape = tuple(getattr(st, "shape", ()) or ()) or shape
    work_inv = _inv(to_work) if known and desk is not None else None
    grid_inv = None
    if work_inv is not None and grid is not None and getattr(grid, "found", False):
        try:
            g = _mat(grid.deskew_matrix())
        except (AttributeError, TypeError, ValueError, cv2.error):
            g = None
        if g is not None:
            grid_inv = _inv(g @ to_work)
    return _Frames(work_inv, grid_inv, shape if shape and len(shape) == 2 else None)


def _apply(h: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Map (K, 2) points through ``h``; points sent to infinity (or behind) become NaN."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    p = np.c_[xy, np.ones(len(xy))] @ h.T
    w = p[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = p[:, :2] / w
    out[(np.abs(w[:, 0]) < 1e-12) | (w[:, 0] < 0)] = np.nan
    return out


class _Canvas:
    """The output image and the scale from input pixels to it."""

    def __init__(self, image: np.ndarray, max_side: int | None, lighten: float = 0.3):
        h, w = image.shape[:2]
        s = 1.0 if max_side is None or max(h, w) <= max_side else max_side / max(h, w)
        if s < 1.0:
            size = (max(1, int(round(w * s))), max(1, int(round(h * s))))
            img = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        else:
            img = image
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
        # Lighten the picture a little so the drawings stand out; ink stays visible.
        self.img = cv2.addWeighted(img, 1.0 - lighten, np.full_like(img, 255), lighten, 0.0)
        self.sx = self.img.shape[1] / w
        self.sy = self.img.shape[0] / h
        side = max(self.img.shape[:2])
        self.lw = max(1, int(round(side / 1000)))
        self.font = float(np.clip(side / 2200.0, 0.36, 0.9))
        self.tlw = max(1, int(round(self.font * 1.8)))

    def to_out(self, xy: np.ndarray) -> np.ndarray:
        """Input pixel coordinates (centres at integers) -> output coordinates."""
        xy = np.asarray(xy, dtype=np.float64)
        return np.stack(
            [(xy[:, 0] + 0.5) * self.sx - 0.5, (xy[:, 1] + 0.5) * self.sy - 0.5], axis=1
        )

    def polylines(
        self, pieces: list[np.ndarray], color, thickness: int, closed: bool = False, img=None
    ) -> None:
        """Draw polylines given in output coordinates; NaN points split a line."""
        target = self.img if img is None else img
        lim = 4.0 * max(target.shape[:2]) + 1e4
        parts = []
        for xy in pieces:
            xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
            good = np.all(np.isfinite(xy), axis=1) & np.all(np.abs(xy) < lim, axis=1)
            if good.all():
                runs = [xy]
            else:
                idx = np.flatnonzero(good)
                if idx.size == 0:
                    continue
                cuts = np.flatnonzero(np.diff(idx) > 1) + 1
                runs = [xy[r] for r in np.split(idx, cuts)]
            parts += [r for r in runs if len(r) >= 2]
        if not parts:
            return
        pts = [np.round(p * _ONE).astype(np.int32).reshape(-1, 1, 2) for p in parts]
        cv2.polylines(
            target, pts, closed, tuple(int(c) for c in color), int(thickness), cv2.LINE_AA, _SHIFT
        )

    def text(
        self,
        s: str,
        org: tuple[float, float],
        color,
        *,
        scale: float | None = None,
        bg=(255, 255, 255),
    ):
        """Text with its top-left at ``org`` (output px) on a filled box."""
        s = _ascii(s)
        scale = self.font if scale is None else scale
        (tw, th), base = cv2.getTextSize(s, _FONT, scale, self.tlw)
        x, y = int(round(org[0])), int(round(org[1]))
        pad = max(1, int(round(2 * scale)))
        if bg is not None:
            cv2.rectangle(self.img, (x - pad, y - pad), (x + tw + pad, y + th + base + pad), bg, -1)
        cv2.putText(
            self.img,
            s,
            (x, y + th),
            _FONT,
            scale,
            tuple(int(c) for c in color),
            self.tlw,
            cv2.LINE_AA,
        )
        return tw, th + base


def _ascii(s: str) -> str:
    return str(s).encode("ascii", "replace").decode("ascii")


def _wrap(text: str, width_px: int, scale: float, thick: int, max_lines: int = 4) -> list[str]:
    words = _ascii(text).split()
    lines: list[str] = []
    cur = ""
    for w in words:
        cand = w if not cur else f"{cur} {w}"
        if cv2.getTextSize(cand, _FONT, scale, thick)[0][0] <= width_px or not cur:
            cur = cand
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1] + " ..."
    # A single word longer than the width: cut it.
    out = []
    for ln in lines:
        while cv2.getTextSize(ln, _FONT, scale, thick)[0][0] > width_px and len(ln) > 4:
            ln = ln[: int(len(ln) * 0.9)]
        out.append(ln)
    return out


# ---------------------------------------------------------------------------
# the layers
# ---------------------------------------------------------------------------


def _draw_paper(cv: _Canvas, result) -> None:
    crop = result.stage("edges")
    paper = getattr(crop, "paper", None)
    quad = getattr(paper, "quad", None)
    if quad is None or not getattr(paper, "found", False):
        return
    q = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    cv.polylines([cv.to_out(q)], COLORS["paper"], cv.lw + 1, closed=True)


def _paper_region(cv: _Canvas, result) -> np.ndarray | None:
    crop = result.stage("edges")
    paper = getattr(crop, "paper", None)
    if paper is None or not getattr(paper, "found", False):
        return None
    q = cv.to_out(np.asarray(paper.quad, dtype=np.float64).reshape(4, 2))
    mask = np.zeros(cv.img.shape[:2], np.uint8)
    cv2.fillPoly(
        mask, [np.round(q * _ONE).astype(np.int32).reshape(-1, 1, 2)], 255, cv2.LINE_8, _SHIFT
    )
    return mask > 0


def _draw_grid(cv: _Canvas, result, fr: _Frames) -> None:
    g = result.stage("grid")
    if g is None or fr.grid_to_input is None:
        return
    px, py = float(g.px_per_mm_x), float(g.px_per_mm_y)
    if not (math.isfinite(px) and math.isfinite(py) and px > 0 and py > 0):
        return
    shape = tuple(getattr(g, "image_shape", ()) or ()) or fr.work_shape
    if not shape or len(shape) != 2 or min(shape) < 2:
        return
    hh, ww = float(shape[0]), float(shape[1])
    step_x, step_y = 5.0 * px, 5.0 * py
    # Skip when the lines would be closer than 12 output pixels (they would hide the page).
    if min(step_x * cv.sx, step_y * cv.sy) < 12.0:
        return
    xs = float(g.phase_x) % step_x + step_x * np.arange(0, int(ww / step_x) + 1)
    ys = float(g.phase_y) % step_y + step_y * np.arange(0, int(hh / step_y) + 1)
    xs, ys = xs[xs <= ww - 1], ys[ys <= hh - 1]
    n = 24  # points per line: exact for projective maps anyway, cheap
    tt = np.linspace(0.0, 1.0, n)
    pieces = []
    for x in xs:
        seg = np.stack([np.full(n, x), tt * (hh - 1)], axis=1)
        pieces.append(cv.to_out(_apply(fr.grid_to_input, seg)))
    for y in ys:
        seg = np.stack([tt * (ww - 1), np.full(n, y)], axis=1)
        pieces.append(cv.to_out(_apply(fr.grid_to_input, seg)))
    layer = cv.img.copy()
    cv.polylines(pieces, COLORS["grid"], 1, img=layer)
    blend = cv2.addWeighted(layer, 0.45, cv.img, 0.55, 0.0)
    region = _paper_region(cv, result)
    if region is None:
        cv.img = blend
    else:
        cv.img = np.where(region[..., None], blend, cv.img)


def _row_geometry(dig) -> tuple[list, list[float], list[tuple[float, float]]]:
    """Rows, their 0 mV line (work px) and the vertical extent of their panels."""
    layout = dig.layout
    rows = list(layout.rows)
    base = list(getattr(dig, "baselines", ()) or ())
    ys = [
        float(base[i]) if i < len(base) and math.isfinite(base[i]) else float(r.y)
        for i, r in enumerate(rows)
    ]
    centres = np.array([float(r.y) for r in rows])
    spans = []
    for i, r in enumerate(rows):
        gaps = []
        if i > 0:
            gaps.append(centres[i] - centres[i - 1])
        if i + 1 < len(rows):
            gaps.append(centres[i + 1] - centres[i])
        half = 0.5 * min(gaps) if gaps else 0.5 * (r.y_bottom - r.y_top)
        spans.append((float(r.y) - half, float(r.y) + half))
    return rows, ys, spans


def _draw_layout(cv: _Canvas, result, fr: _Frames, layers: frozenset) -> None:
    dig = result.stage("digitize")
    if dig is None or fr.work_to_input is None or getattr(dig, "layout", None) is None:
        return
    h = fr.work_to_input
    rows, base_y, spans = _row_geometry(dig)
    layout = dig.layout
    n = 16
    tt = np.linspace(0.0, 1.0, n)
    if "panels" in layers:
        boxes = []
        for p in layout.panels:
            if p.row >= len(rows):
                continue
            y0, y1 = spans[p.row]
            xa, xb = float(p.x0), float(p.x1)
            edge = np.concatenate(
                [
                    np.stack([xa + tt * (xb - xa), np.full(n, y0)], 1),
                    np.stack([np.full(n, xb), y0 + tt * (y1 - y0)], 1),
                    np.stack([xb - tt * (xb - xa), np.full(n, y1)], 1),
                    np.stack([np.full(n, xa), y1 - tt * (y1 - y0)], 1),
                ]
            )
            boxes.append(cv.to_out(_apply(h, edge)))
        cv.polylines(boxes, COLORS["panel"], 1, closed=True)
        for p in layout.panels:
            if p.row >= len(rows):
                continue
            corner = cv.to_out(_apply(h, np.array([[float(p.x0), spans[p.row][0]]])))[0]
            if np.all(np.isfinite(corner)):
                cv.text(
                    p.lead, (corner[0] + 3, corner[1] + 3), COLORS["panel"], scale=cv.font * 0.9
                )
    if "baselines" in layers:
        dashes = []
        for r, y in zip(rows, base_y, strict=True):
            x0, x1 = float(r.x_start), float(r.x_end)
            dash = 8.0 / max(cv.sx, 1e-9)  # 8 output pixels
            starts = np.arange(x0, x1, 2 * dash)
            for s in starts:
                seg = np.array([[s, y], [min(s + dash, x1), y]])
                dashes.append(cv.to_out(_apply(h, seg)))
        cv.polylines(dashes, COLORS["baseline"], 1)
    if "pulses" in layers:
        boxes = []
        for pu in getattr(dig, "pulses", ()) or ():
            if not pu.found or pu.row >= len(rows):
                continue
            yb = base_y[pu.row]
            yt = yb - float(pu.height_px)
            q = np.array([[pu.x0, yb], [pu.x0, yt], [pu.x1, yt], [pu.x1, yb]], dtype=np.float64)
            boxes.append(cv.to_out(_apply(h, q)))
        cv.polylines(boxes, COLORS["pulse"], cv.lw + 1, closed=False)


def _lead_panel(layout, rows_n: int, name: str, sig) -> Any:
    """The panel of ``layout`` the signal ``sig`` of lead ``name`` was read from."""
    dur = sig.values.size / float(sig.fs) if sig.fs else 0.0
    best, err = None, math.inf
    for p in layout.panels:
        if p.lead != name or p.row >= rows_n:
            continue
        e = abs(float(p.t0_s) - float(sig.start_s)) + abs(float(p.duration_s) - dur)
        if e < err:
            best, err = p, e
    return best


def _draw_traces(cv: _Canvas, result, fr: _Frames, gain: float, color) -> None:
    dig = result.stage("digitize")
    g = result.stage("grid")
    sigs = getattr(result, "signals", None)
    if dig is None or g is None or not sigs or fr.work_to_input is None:
        return
    rows, base_y, _ = _row_geometry(dig)
    layout = dig.layout
    px_per_s = float(layout.px_per_s)
    px_per_mv = gain * float(g.px_per_mm_y)
    pieces = []
    for name, sig in sigs.items():
        p = _lead_panel(layout, len(rows), name, sig)
        if p is None or sig.values.size < 2:
            continue
        row = rows[p.row]
        v = np.asarray(sig.values, dtype=np.float64)
        t = float(sig.start_s) + np.arange(v.size) / float(sig.fs)
        # Column c covers [c, c + 1): its centre is at t = (c + 0.5 - x_start) / px_per_s.
        x = float(row.x_start) + t * px_per_s - 0.5
        y = base_y[p.row] - v * px_per_mv
        pieces.append(cv.to_out(_apply(fr.work_to_input, np.stack([x, y], axis=1))))
    cv.polylines(pieces, color, cv.lw)


def _angle(a: float) -> str:
    a = float(a)
    return f"{0.0 if abs(a) < 0.005 else a:+.2f}"


def _trace_color(result) -> tuple[int, int, int]:
    """Blue, unless the paper or its grid is blue (then red-orange)."""
    import colorsys

    col = result.stage("colors")
    for name in ("grid_rgb", "paper_rgb"):
        rgb = getattr(col, name, None)
        if rgb is None or len(rgb) != 3 or not all(math.isfinite(float(c)) for c in rgb):
            continue
        h, sat, v = colorsys.rgb_to_hsv(*(float(c) / 255.0 for c in rgb))
        if 0.5 <= h <= 0.75 and sat > 0.12 and v > 0.2:
            return COLORS["trace_on_blue"]
    return COLORS["trace"]


def _status_lines(result) -> tuple[list[str], tuple[int, int, int], tuple[int, int, int]]:
    """Banner text, its background and text colours."""
    g = result.stage("grid")
    q = result.stage("quality")
    bits = [str(result.image_id)]
    if g is not None and getattr(g, "found", False):
        bits.append(f"{g.px_per_mm_x:.2f} x {g.px_per_mm_y:.2f} px/mm")
    d = result.stage("deskew")
    if d is not None:
        bits.append(f"angle {_angle(d.angle_deg)} deg")
    if not result.ok:
        head = f"FAILED at {result.failed_stage}: " if result.failed_stage else "FAILED: "
        return [" | ".join(bits), head + str(result.error or "")], COLORS["failed"], (255, 255, 255)
    if q is not None and not q.passed:
        return (
            [" | ".join(bits), "quality gate failed: " + "; ".join(q.reasons)],
            COLORS["warn"],
            (0, 0, 0),
        )
    bits.append("ok")
    return [" | ".join(bits)], (255, 255, 255), COLORS["ok"]


def _draw_banner(cv: _Canvas, result) -> None:
    lines, bg, fg = _status_lines(result)
    w = cv.img.shape[1]
    pad = max(2, int(round(6 * cv.font)))
    wrapped = []
    for ln in lines:
        wrapped += _wrap(ln, w - 2 * pad, cv.font, cv.tlw)
    (_, th), base = cv2.getTextSize("Ag", _FONT, cv.font, cv.tlw)
    lh = th + base + pad
    height = min(cv.img.shape[0], pad + lh * len(wrapped))
    band = cv.img[:height].copy()
    band[:] = bg
    alpha = 0.88 if bg != (255, 255, 255) else 0.8
    cv.img[:height] = cv2.addWeighted(band, alpha, cv.img[:height], 1 - alpha, 0.0)
    for i, ln in enumerate(wrapped):
        cv.text(ln, (pad, pad + i * lh), fg, bg=None)


def _draw_legend(cv: _Canvas, trace_rgb) -> None:
    h, w = cv.img.shape[:2]
    if w < 800:
        return
    scale = cv.font * 0.85
    (_, th), base = cv2.getTextSize("Ag", _FONT, scale, cv.tlw)
    pad = max(2, int(round(5 * scale)))
    y = h - th - base - 2 * pad
    x = pad
    cv2.rectangle(cv.img, (0, y - pad), (w, h), (255, 255, 255), -1)
    for key, label in _LEGEND:
        sw = 3 * th
        yc = y + (th + base) // 2
        rgb = trace_rgb if key == "trace" else COLORS[key]
        cv2.line(cv.img, (x, yc), (x + sw, yc), rgb, cv.lw + 1, cv2.LINE_AA)
        tw, _ = cv.text(label, (x + sw + pad, y), (30, 30, 30), scale=scale, bg=None)
        x += sw + 2 * pad + tw + 3 * pad


def _check_layers(layers) -> frozenset:
    if layers is None:
        return frozenset(LAYERS)
    if isinstance(layers, str):
        layers = (layers,)
    try:
        chosen = frozenset(layers)
    except TypeError:
        raise ValueError(
            f"layers must be a sequence of names from {LAYERS}, got {layers!r}"
        ) from None
    unknown = sorted(str(x) for x in chosen - set(LAYERS))
    if unknown:
        raise ValueError(f"unknown layer(s) {', '.join(unknown)}; valid: {', '.join(LAYERS)}")
    return chosen


def _check_rgb(value) -> tuple[int, int, int]:
    try:
        vals = tuple(float(c) for c in value)
    except (TypeError, ValueError):
        vals = ()
    if len(vals) != 3 or not all(math.isfinite(c) and 0 <= c <= 255 for c in vals):
        raise ValueError(f"trace_color must be an (r, g, b) tuple of 0-255 values, got {value!r}")
    return tuple(int(round(c)) for c in vals)


def _check_max_side(max_side) -> int | None:
    if max_side is None:
        return None
    if isinstance(max_side, bool) or not isinstance(max_side, int | np.integer) or max_side < 16:
        raise ValueError(f"max_side must be an integer >= 16 or None, got {max_side!r}")
    return int(max_side)


def _check_result(result) -> None:
    if not (hasattr(result, "stage") and hasattr(result, "ok") and hasattr(result, "image_id")):
        raise TypeError(f"result must be an ecgprep ImageResult, got {type(result).__name__}")


def _as_image(image: Any) -> np.ndarray:
    if isinstance(image, np.ndarray):
        return check_image(image, "image")
    return load_image(image)


def overlay(
    image: Any,
    result,
    *,
    options: Options | Mapping[str, Any] | None = None,
    max_side: int | None = 1600,
    layers: Iterable[str] | None = None,
    legend: bool = True,
    trace_color: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """Draw what the pipeline found over the image it was given.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray, or any source of :func:`ecgprep.load_image`
        The image ``result`` was computed on (same size).
    result : ImageResult
        From :func:`ecgprep.process_image_for_submission`; failed results are drawn
        as far as their stages got, with a red banner giving the error.
    options : Options or dict, optional
        The options the pipeline ran with (``gain`` converts mV back to pixels).
    max_side : int or None
        Shrink the output so its longer side is at most this (None: full size).
    layers : iterable of str, optional
        Subset of :data:`LAYERS` to draw (default: all).
    legend : bool
        Add a colour legend at the bottom (only when the output is at least 800 px wide).
    trace_color : (r, g, b), optional
        Colour of the digitized traces; by default blue, or red-orange on blue paper.

    Returns
    -------
    (m, n, 3) uint8 ndarray
        RGB picture: the image lightened a little, with the paper outline (orange),
        the 5 mm grid lines (teal), the lead panels and their names (violet), the
        0 mV lines (green, dashed), the calibration pulses found (magenta), the
        digitized traces (blue) and a status banner on top.

    Raises
    ------
    InvalidImageError, ImageLoadError
        ``image`` is not an image.
    ValueError
        ``image`` is not the size the result was computed on; bad ``max_side`` or ``layers``.
    TypeError
        ``result`` is not an ImageResult.

    Examples
    --------
    >>> from ecgprep.synth import render_ecg
    >>> from ecgprep import process_image_for_submission
    >>> img = render_ecg(seed=1).image
    >>> out = overlay(img, process_image_for_submission(img), max_side=800)
    >>> out.shape, out.dtype
    ((618, 800, 3), dtype('uint8'))
    """
    img = _as_image(image)
    _check_result(result)
    max_side = _check_max_side(max_side)
    chosen = _check_layers(layers)
    opts = as_options(options)
    shape = tuple(getattr(result, "shape", ()) or ())
    if len(shape) == 2 and tuple(img.shape[:2]) != shape:
        raise ValueError(
            f"image is {img.shape[1]} x {img.shape[0]} px but result {result.image_id!r} "
            "was computed on "
            f"{shape[1]} x {shape[0]} px; pass the image the pipeline was given"
        )
    cv = _Canvas(img, max_side)
    fr = _frames(result)
    if "grid" in chosen:
        _draw_grid(cv, result, fr)
    if "paper" in chosen:
        _draw_paper(cv, result)
    _draw_layout(cv, result, fr, chosen)
    rgb = _trace_color(result) if trace_color is None else _check_rgb(trace_color)
    if "traces" in chosen:
        _draw_traces(cv, result, fr, float(opts.gain), rgb)
    if legend:
        _draw_legend(cv, rgb)
    if "banner" in chosen:
        _draw_banner(cv, result)
    return np.ascontiguousarray(cv.img)


def _encode(rgb: np.ndarray, fmt: str, quality: int = 88) -> bytes:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if fmt == "png":
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    else:
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
        # Full-resolution colour keeps thin coloured lines crisp (OpenCV >= 4.5.5).
        if hasattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR"):
            params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
        ok, buf = cv2.imencode(".jpg", bgr, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {rgb.shape} image as {fmt}")
    return buf.tobytes()


def save_overlay(
    image_or_path: Any,
    result,
    path: str | os.PathLike,
    *,
    options: Options | Mapping[str, Any] | None = None,
    max_side: int | None = 1600,
) -> Path:
    """Write :func:`overlay` of an image to ``path`` (PNG; ``.jpg``/``.jpeg`` give JPEG).

    Parameters
    ----------
    image_or_path : ndarray or path or bytes or PIL image
        The image ``result`` was computed on, or its source.
    result : ImageResult
    path : str or PathLike
        Output file.
    options : Options or dict, optional
    max_side : int or None

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ImageLoadError
        The image cannot be read.
    ValueError
        Unsupported suffix, or the image does not match the result.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix in ("", ".png"):
        fmt = "png"
    elif suffix in (".jpg", ".jpeg"):
        fmt = "jpg"
    else:
        raise ValueError(f"{out}: overlay files are .png or .jpg, got {suffix!r}")
    pic = overlay(image_or_path, result, options=options, max_side=max_side)
    out.write_bytes(_encode(pic, fmt, quality=92))
    return out


def overlay_figure(
    image: Any,
    result,
    *,
    options: Options | Mapping[str, Any] | None = None,
    max_side: int | None = 1600,
    width_in: float = 12.0,
):
    """:func:`overlay` as a matplotlib Figure (shows inline in a notebook).

    Needs matplotlib (``pip install ecgprep[viz]``). The figure is made without
    pyplot, so no window opens and no global figure is left behind.

    Parameters
    ----------
    image, result, options, max_side
        As :func:`overlay`.
    width_in : float
        Figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ImportError
        matplotlib is not installed.
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "overlay_figure needs matplotlib: pip install 'ecgprep[viz]' "
            "(or pip install matplotlib); "
            "overlay() and save_overlay() work without it"
        ) from exc
    pic = overlay(image, result, options=options, max_side=max_side, legend=False)
    h, w = pic.shape[:2]
    fig = Figure(figsize=(width_in, width_in * h / w + 0.6), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(pic, interpolation="antialiased")
    ax.set_axis_off()
    status = "ok" if result.ok else f"failed at {result.failed_stage}"
    ax.set_title(f"{result.image_id}: {status}", fontsize=11)
    handles = [
        Line2D([], [], color=np.array(COLORS[k]) / 255.0, lw=2, label=lab) for k, lab in _LEGEND
    ]
    fig.legend(
        handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False
    )
    return fig


# ---------------------------------------------------------------------------
# gallery
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Score:
    snr_db: float | None
    difficulty: str | None


def _is_evaluation(obj: Any) -> bool:
    return hasattr(obj, "per_record") and hasattr(obj, "score_db")


def _scores_of(scores: Any) -> dict[str, _Score]:
    """id -> score, from an Evaluation, a frame (id, snr_db[, difficulty]) or a dict id -> dB."""
    if scores is None:
        return {}
    frame = scores.per_record if _is_evaluation(scores) else scores
    if hasattr(frame, "columns") and "id" in getattr(frame, "columns", ()):
        if "snr_db" not in frame.columns:
            raise ValueError(f"scores frame needs columns id and snr_db, got {list(frame.columns)}")
        diff = frame["difficulty"] if "difficulty" in frame.columns else [None] * len(frame)
        out = {}
        for i, s, d in zip(frame["id"], frame["snr_db"], diff, strict=True):
            out[str(i)] = _Score(_finite(s), None if d is None or d != d else str(d))
        return out
    if isinstance(scores, Mapping):
        return {str(k): _Score(_finite(v), None) for k, v in scores.items()}
    raise ValueError(
        "scores must be an Evaluation, a DataFrame with id and snr_db, or a dict id -> dB; "
        f"got {type(scores).__name__}"
    )


def _finite(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else (f if f == -math.inf else None)


def _image_for(res, i: int, images: Any) -> Any:
    """The image source of result ``res`` (index ``i``) given the ``images`` argument."""
    if images is None:
        src = getattr(res, "source", None)
        return src if isinstance(src, str) and os.path.isfile(src) else None
    if isinstance(images, str | os.PathLike):
        d = Path(images)
        for sub in (d / "images", d):
            p = find_image(sub, str(res.image_id)) if sub.is_dir() else None
            if p is not None:
                return p
        return None
    if isinstance(images, Mapping):
        return images.get(res.image_id)
    if isinstance(images, Sequence):
        return images[i] if i < len(images) else None
    raise ValueError(
        "images must be a folder, a dict id -> image, or a sequence aligned with the results; "
        f"got {type(images).__name__}"
    )


def _fmt_ms(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.0f}" if s < 10 else f"{s:.1f} s"


def _js_number(v: float | None) -> str:
    """A score as JavaScript's Number() reads it ('' when unknown)."""
    if v is None:
        return ""
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return f"{v:.3f}"


def _score_class(db: float | None) -> str:
    if db is None:
        return "eg-na"
    if db >= 15:
        return "eg-good"
    if db >= 5:
        return "eg-mid"
    return "eg-bad"


def _thumb(
    res, src: Any, options, width: int, quality: int
) -> tuple[str | None, str | None, tuple[int, int]]:
    """(data URI, error, (w, h)) of the overlay thumbnail."""
    if src is None:
        return None, "no image to show", (0, 0)
    try:
        img = _as_image(src)
        h, w = img.shape[:2]
        side = int(max(16, math.floor(width * max(h, w) / w)))
        q = res.stage("quality")
        clean = res.ok and (q is None or q.passed)
        layers = [x for x in LAYERS if not (clean and x == "banner")]
        pic = overlay(img, res, options=options, max_side=side, legend=False, layers=layers)
    except (ValueError, OSError, cv2.error) as exc:
        return None, f"no overlay: {exc}", (0, 0)
    data = base64.b64encode(_encode(pic, "jpg", quality)).decode("ascii")
    return f"data:image/jpeg;base64,{data}", None, (pic.shape[1], pic.shape[0])


def _card(res, i: int, src: Any, score: _Score | None, options, width: int, quality: int) -> str:
    e = html.escape
    q = res.stage("quality")
    g = res.stage("grid")
    d = res.stage("deskew")
    crop = res.stage("edges")
    dig = res.stage("digitize")
    classes = ["eg-card", "eg-ok" if res.ok else "eg-failed"]
    qpass = None if q is None else bool(q.passed)
    if qpass is False:
        classes.append("eg-qfail")
    db = score.snr_db if score is not None else None
    uri, why, (tw, th) = _thumb(res, src, options, width, quality)
    parts = [
        f'<div class="{" ".join(classes)}" data-index="{i}" data-id="{e(str(res.image_id))}" '
        f'data-score="{_js_number(db)}">'
    ]
    if uri is not None:
        parts.append(
            f'<img class="eg-thumb" src="{uri}" width="{tw}" height="{th}" '
            f'alt="overlay of {e(str(res.image_id))}" loading="eager">'
        )
    else:
        parts.append(f'<div class="eg-noimg">{e(why or "")}</div>')
    badge = (
        '<span class="eg-badge eg-b-ok">ok</span>'
        if res.ok
        else (f'<span class="eg-badge eg-b-failed">failed: {e(str(res.failed_stage))}</span>')
    )
    head = [
        f'<span class="eg-id" title="{e(str(res.source))}">{e(str(res.image_id))}</span>',
        badge,
    ]
    if score is not None:
        txt = "-" if db is None else ("-inf dB" if db == -math.inf else f"{db:.1f} dB")
        head.append(f'<span class="eg-badge eg-score {_score_class(db)}">{txt}</span>')
        if score.difficulty:
            head.append(f'<span class="eg-diff">{e(score.difficulty)}</span>')
    parts.append(f'<div class="eg-head">{" ".join(head)}</div>')
    if not res.ok and res.error:
        parts.append(f'<div class="eg-err">{e(str(res.error))}</div>')
    if q is None:
        parts.append('<div class="eg-q">quality: not judged</div>')
    elif q.passed:
        parts.append('<div class="eg-q">quality: <b class="eg-pass">pass</b></div>')
    else:
        reasons = "; ".join(q.reasons)
        parts.append(f'<div class="eg-q">quality: <b class="eg-fail">fail</b> ({e(reasons)})</div>')
    kv = []
    if g is not None and math.isfinite(float(g.px_per_mm_x)):
        kv.append(("px/mm", f"{g.px_per_mm_x:.2f} x {g.px_per_mm_y:.2f}"))
        kv.append(("grid conf.", f"{g.confidence:.2f}"))
    if d is not None:
        kv.append(("angle", f"{_angle(d.angle_deg)}&deg;"))
    if q is not None:
        dpi = "-" if q.dpi is None else f"{q.dpi:.0f}"
        kv.append(("dpi / sharp.", f"{dpi} / {q.sharpness:.2f}"))
    if crop is not None:
        found = getattr(getattr(crop, "paper", None), "found", None)
        kv.append(("paper", "found" if found else "fills frame"))
    if dig is not None:
        pulses = getattr(dig, "pulses", ()) or ()
        kv.append(("pulses", f"{sum(bool(p.found) for p in pulses)}/{len(pulses)}"))
    if len(res.shape) == 2:
        kv.append(("size", f"{res.shape[1]} x {res.shape[0]}"))
    if kv:
        cells = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in kv)
        parts.append(f'<dl class="eg-kv">{cells}</dl>')
    if res.stages:
        slow = max(res.stages, key=lambda r: r.seconds)
        times = " &middot; ".join(
            (
                f"<b>{e(r.name)} {_fmt_ms(r.seconds)}</b>"
                if r is slow
                else f"{e(r.name)} {_fmt_ms(r.seconds)}"
            )
            for r in res.stages
        )
        parts.append(f'<div class="eg-times">{times} ms &middot; total {res.seconds:.2f} s</div>')
    warns = list(getattr(res, "warnings", ()) or ())
    if warns:
        items = "".join(f"<li>{e(w)}</li>" for w in warns)
        parts.append(
            f'<details class="eg-warn"><summary>{len(warns)} warning(s)</summary>'
            f"<ul>{items}</ul></details>"
        )
    parts.append("</div>")
    return "".join(parts)


_CSS = """
#{gid} {{font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  font-size: 13px; color: #222; background: #f4f5f7; padding: 12px; border-radius: 6px;
  line-height: 1.35;}}
#{gid} h2 {{margin: 0 0 6px 0; font-size: 19px;}}
#{gid} .eg-sum {{display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: baseline;
  margin-bottom: 6px;}}
#{gid} .eg-big {{font-size: 22px; font-weight: 600;}}
#{gid} table.eg-diff-t {{border-collapse: collapse; font-size: 12px; margin: 4px 0 8px 0;}}
#{gid} table.eg-diff-t td, #{gid} table.eg-diff-t th {{border: 1px solid #ccd; padding: 1px 7px;
  text-align: right;}}
#{gid} table.eg-diff-t th {{background: #e6e8ee;}}
#{gid} .eg-legend span {{display: inline-block; margin-right: 12px; white-space: nowrap;}}
#{gid} .eg-legend i {{display: inline-block; width: 18px; height: 3px; vertical-align: middle;
  margin-right: 4px;}}
#{gid} .eg-bar {{margin: 8px 0 10px 0; display: flex; gap: 6px; flex-wrap: wrap;
  align-items: center;}}
#{gid} button {{font: inherit; padding: 3px 10px; border: 1px solid #99a; background: #fff;
  border-radius: 4px; cursor: pointer;}}
#{gid} button.eg-on {{background: #334; color: #fff; border-color: #334;}}
#{gid} .eg-cards {{display: grid; gap: 12px;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, {minw}px), {maxw}px));}}
#{gid} .eg-card {{background: #fff; border: 1px solid #d5d8de; border-top: 4px solid #3a7;
  border-radius: 5px; padding: 6px; overflow: hidden;}}
#{gid} .eg-card.eg-qfail {{border-top-color: #e9a000;}}
#{gid} .eg-card.eg-failed {{border-top-color: #c33;}}
#{gid} .eg-thumb {{display: block; width: 100%; height: auto; border: 1px solid #eee;}}
#{gid} .eg-noimg {{height: 120px; display: flex; align-items: center; justify-content: center;
  color: #777; padding: 6px;
  background: repeating-linear-gradient(45deg, #f2f2f2, #f2f2f2 8px, #e8e8e8 8px, #e8e8e8 16px);}}
#{gid} .eg-head {{margin: 6px 0 3px 0; display: flex; flex-wrap: wrap; gap: 6px;
  align-items: center;}}
#{gid} .eg-id {{font-weight: 600; font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  word-break: break-all;}}
#{gid} .eg-badge {{border-radius: 3px; padding: 0 6px; font-size: 12px; color: #fff;
  white-space: nowrap;}}
#{gid} .eg-b-ok {{background: #3a7;}}
#{gid} .eg-b-failed {{background: #c33;}}
#{gid} .eg-good {{background: #2a7d46;}}
#{gid} .eg-mid {{background: #c98a00;}}
#{gid} .eg-bad {{background: #b3261e;}}
#{gid} .eg-na {{background: #888;}}
#{gid} .eg-diff {{color: #666; font-size: 12px;}}
#{gid} .eg-err {{color: #a11; background: #fdeeee; padding: 3px 5px; border-radius: 3px;
  margin: 3px 0; word-break: break-word; font-size: 12px;}}
#{gid} .eg-pass {{color: #2a7d46;}}
#{gid} .eg-fail {{color: #b36b00;}}
#{gid} dl.eg-kv {{display: grid; grid-template-columns: auto 1fr auto 1fr; gap: 0 8px;
  margin: 4px 0; font-size: 12px;}}
#{gid} dl.eg-kv dt {{color: #667;}}
#{gid} dl.eg-kv dd {{margin: 0;}}
#{gid} .eg-times {{color: #556; font-size: 11.5px;}}
#{gid} .eg-warn {{font-size: 11.5px; color: #765;}}
#{gid} .eg-warn ul {{margin: 2px 0; padding-left: 18px;}}
#{gid}[data-show="failed"] .eg-card:not(.eg-failed) {{display: none;}}
#{gid}[data-show="qfail"] .eg-card:not(.eg-qfail) {{display: none;}}
"""

_JS = """
(function () {
  var root = document.getElementById("{gid}");
  if (!root) return;
  var box = root.querySelector(".eg-cards");
  var cards = Array.prototype.slice.call(box.children);
  root.querySelectorAll("button[data-filter]").forEach(function (b) {
    b.addEventListener("click", function () {
      root.setAttribute("data-show", b.getAttribute("data-filter"));
      root.querySelectorAll("button[data-filter]").forEach(function (o) {
        o.classList.toggle("eg-on", o === b);
      });
    });
  });
  var sel = root.querySelector("select.eg-sort");
  if (sel) sel.addEventListener("change", function () {
    var key = function (c) {
      if (sel.value === "input") return Number(c.getAttribute("data-index"));
      var s = c.getAttribute("data-score");
      return s === "" ? (c.classList.contains("eg-failed") ? -1e9 : 1e9) : Number(s);
    };
    cards.slice().sort(function (a, b) { return key(a) - key(b); })
      .forEach(function (c) { box.appendChild(c); });
  });
  // data-loaded: how many thumbnails decoded (checked by the tests in a headless browser).
  var imgs = Array.prototype.slice.call(root.querySelectorAll("img"));
  var count = function () {
    var n = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
    root.setAttribute("data-loaded", String(n));
  };
  imgs.forEach(function (i) {
    i.addEventListener("load", count);
    i.addEventListener("error", count);
  });
  if (document.readyState === "complete") count(); else window.addEventListener("load", count);
})();
"""


@dataclass(frozen=True)
class Gallery:
    """An HTML gallery of a batch; shows inline in a notebook, saves as a standalone page.

    Attributes
    ----------
    html : str
        The gallery as an HTML fragment (a ``<div>`` with its own style and script).
    title : str
        Page title.
    n_images : int
        Number of cards.
    """

    html: str
    title: str
    n_images: int

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        mb = len(self.html) / 1e6
        return f"Gallery({self.title!r}, {self.n_images} images, {mb:.1f} MB of HTML)"

    def page(self) -> str:
        """The gallery as a complete, self-contained HTML document (no external resource)."""
        csp = (
            "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
        )
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n"
            "<style>body {margin: 0; background: #f4f5f7;}</style>\n"
            f"</head>\n<body>\n{self.html}\n</body>\n</html>\n"
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`page` to ``path`` (UTF-8); returns the path."""
        out = Path(path)
        out.write_text(self.page(), encoding="utf-8")
        return out


def _header(results: list, scores: dict[str, _Score], evaluation: Any, title: str) -> str:
    e = html.escape
    n = len(results)
    n_ok = sum(bool(r.ok) for r in results)
    n_q = sum(r.stage("quality") is not None and not r.stage("quality").passed for r in results)
    secs = [r.seconds for r in results if r.stages]
    bits = []
    if evaluation is not None:
        bits.append(
            f'<span>score <span class="eg-big">{float(evaluation.score_db):.2f} dB</span></span>'
        )
    elif scores:
        vals = [s.snr_db for s in scores.values() if s.snr_db is not None]
        if vals:
            bits.append(
                "<span>median image score "
                f'<span class="eg-big">{float(np.median(vals)):.2f} dB</span></span>'
            )
    bits.append(f"<span><b>{n}</b> images</span>")
    bits.append(f"<span><b>{n_ok}</b> ok</span>")
    bits.append(f"<span><b>{n - n_ok}</b> failed</span>")
    bits.append(f"<span><b>{n_q}</b> failed a quality gate</span>")
    if secs:
        bits.append(f"<span>{float(np.median(secs)):.2f} s median per image</span>")
    out = [f"<h2>{e(title)}</h2>", f'<div class="eg-sum">{"".join(bits)}</div>']
    by = getattr(evaluation, "by_difficulty", None)
    if by is not None and len(by) and "difficulty" in by.columns:
        # One column per difficulty (compact however many there are).
        trs = []
        for c in ("difficulty", "n", "score_db", "failed"):
            if c not in by.columns:
                continue
            tag = "th" if c == "difficulty" else "td"
            cells = "".join(
                f"<{tag}>{v:.2f}</{tag}>" if c == "score_db" else f"<{tag}>{e(str(v))}</{tag}>"
                for v in by[c]
            )
            label = "dB" if c == "score_db" else c
            trs.append(f"<tr><th>{e(label)}</th>{cells}</tr>")
        out.append(f'<table class="eg-diff-t">{"".join(trs)}</table>')
    legend = (
        "".join(
            f'<span><i style="background: rgb{COLORS[k]}"></i>{e(lab)}</span>' for k, lab in _LEGEND
        )
        + f'<span><i style="background: rgb{COLORS["trace_on_blue"]}"></i>'
        + "traces on blue paper</span>"
    )
    out.append(f'<div class="eg-legend">{legend}</div>')
    return "".join(out)


def gallery(
    results: Iterable[Any],
    *,
    images: Any = None,
    scores: Any = None,
    title: str = "ecgprep gallery",
    options: Options | Mapping[str, Any] | None = None,
    thumb_width: int = 480,
    jpeg_quality: int = 85,
    n_jobs: int | None = -1,
) -> Gallery:
    """Build a :class:`Gallery`: one card per image with its overlay and numbers.

    Parameters
    ----------
    results : iterable of ImageResult
        E.g. a :class:`~ecgprep.batch.BatchResults`.
    images : folder, dict, sequence or None
        Where the images are: a folder (``<id>.png|jpg`` in it or in its ``images/``),
        a dict id -> image (path, bytes or array), or a sequence aligned with
        ``results``. None: each result's ``source`` when it is a file.
    scores : Evaluation, DataFrame or dict, optional
        Per-image score in dB: an :class:`~ecgprep.evaluate.Evaluation` (its score
        and per-difficulty table also go in the header), a frame with ``id,
        snr_db`` (and ``difficulty``), or a dict id -> dB.
    title : str
    options : Options or dict, optional
        Options the batch ran with (see :func:`overlay`).
    thumb_width : int
        Width of the thumbnails in pixels.
    jpeg_quality : int
        JPEG quality of the thumbnails.
    n_jobs : int or None
        Threads drawing the thumbnails (decoding and drawing release the GIL).

    Returns
    -------
    Gallery

    Notes
    -----
    Every thumbnail is inline (about 50-100 kB each at 480 px), so a gallery of
    hundreds of images makes a page of tens of MB: show a selection in a notebook
    (e.g. the failures) rather than a whole test set.
    """
    if (
        isinstance(thumb_width, bool)
        or not isinstance(thumb_width, int | np.integer)
        or thumb_width < 64
    ):
        raise ValueError(f"thumb_width must be an integer >= 64, got {thumb_width!r}")
    if (
        isinstance(jpeg_quality, bool)
        or not isinstance(jpeg_quality, int | np.integer)
        or not 1 <= jpeg_quality <= 100
    ):
        raise ValueError(f"jpeg_quality must be an integer in [1, 100], got {jpeg_quality!r}")
    res_list = list(results)
    for r in res_list:
        _check_result(r)
    opts = as_options(options)
    score_map = _scores_of(scores)
    evaluation = scores if _is_evaluation(scores) else None
    jobs = [
        (
            r,
            i,
            _image_for(r, i, images),
            score_map.get(str(r.image_id)) if score_map else None,
            opts,
            int(thumb_width),
            int(jpeg_quality),
        )
        for i, r in enumerate(res_list)
    ]
    if n_jobs == 1 or len(jobs) < 2:
        cards = [_card(*job) for job in jobs]
    else:
        from joblib import Parallel, delayed

        cards = list(
            Parallel(n_jobs=n_jobs, prefer="threads")(delayed(_card)(*job) for job in jobs)
        )
    digest = zlib.crc32("".join(cards).encode("utf-8")) ^ zlib.crc32(title.encode("utf-8"))
    gid = f"ecgprep-gallery-{digest:08x}"
    n_fail = sum(not r.ok for r in res_list)
    n_q = sum("eg-qfail" in c.split(">", 1)[0] for c in cards)
    bar = (
        '<div class="eg-bar">show: '
        f'<button class="eg-on" data-filter="all">all ({len(res_list)})</button>'
        f'<button data-filter="failed">failed ({n_fail})</button>'
        f'<button data-filter="qfail">quality fail ({n_q})</button>'
    )
    if score_map:
        bar += (
            ' &nbsp; order: <select class="eg-sort"><option value="input">as given</option>'
            '<option value="score">worst score first</option></select>'
        )
    bar += "</div>"
    css = _CSS.format(gid=gid, minw=min(int(thumb_width), 300) + 14, maxw=int(thumb_width) + 14)
    js = _JS.replace("{gid}", gid)
    frag = (
        f'<div id="{gid}" class="ecgprep-gallery" data-show="all" data-images="'
        f'{sum("<img " in c for c in cards)}">'
        f"<style>{css}</style>"
        f"{_header(res_list, score_map, evaluation, title)}{bar}"
        f'<div class="eg-cards">{"".join(cards)}</div>'
        f"<script>{js}</script></div>"
    )
    return Gallery(frag, title, len(res_list))


def gallery_html(
    results: Iterable[Any],
    *,
    images: Any = None,
    scores: Any = None,
    title: str = "ecgprep gallery",
    options: Options | Mapping[str, Any] | None = None,
    thumb_width: int = 480,
    n_jobs: int | None = -1,
) -> str:
    """The gallery of :func:`gallery` as a complete, self-contained HTML page.

    Parameters
    ----------
    results, images, scores, title, options, thumb_width, n_jobs
        As :func:`gallery`.

    Returns
    -------
    str
        An HTML document: thumbnails are inline ``data:`` URIs, the style and the
        filter script are inline, nothing is fetched (a Content-Security-Policy
        forbids it), so the page works offline and can be mailed as one file.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgprep import process_image_for_submission
    >>> img = np.full((200, 300, 3), 255, np.uint8)
    >>> res = process_image_for_submission(img, image_id="blank")
    >>> page = gallery_html([res], images=[img])
    >>> page.startswith("<!DOCTYPE html>"), page.count('<div class="eg-card ')
    (True, 1)
    """
    return gallery(
        results,
        images=images,
        scores=scores,
        title=title,
        options=options,
        thumb_width=thumb_width,
        n_jobs=n_jobs,
    ).page()


def _missing(image_id: str, why: str):
    from .pipeline import ImageResult

    return ImageResult(
        image_id=image_id, source="(no image)", ok=False, error=why, failed_stage="missing"
    )


def write_gallery(
    ev_or_results: Any,
    data_dir_or_images: Any,
    out_html: str | os.PathLike,
    *,
    options: Options | Mapping[str, Any] | None = None,
    title: str | None = None,
    n_jobs: int | None = -1,
    thumb_width: int = 480,
) -> Path:
    """Write the gallery page of a batch or of an evaluation.

    Parameters
    ----------
    ev_or_results : Evaluation or iterable of ImageResult
        With an :class:`~ecgprep.evaluate.Evaluation` the cards (one per evaluated
        id, from its ``results``) carry each image's score and the header the
        overall score. Should ``results`` be None, the images are run through the
        pipeline again (with ``options`` and ``n_jobs``) to draw them.
    data_dir_or_images : folder, dict or sequence
        Where the images are (see ``images`` of :func:`gallery`); for an
        evaluation, its folder.
    out_html : str or PathLike
        Output page.
    options : Options or dict, optional
        Options the batch ran with.
    title : str, optional
    n_jobs : int or None
        Threads drawing the thumbnails, and workers when the pipeline must run again.
    thumb_width : int

    Returns
    -------
    Path
        ``out_html``.
    """
    if _is_evaluation(ev_or_results):
        ev = ev_or_results
        results = getattr(ev, "results", None)
        if results is None:
            results = _rerun(ev, data_dir_or_images, options, n_jobs)
        else:
            # One card per evaluated id, in its order; ids without an image get a placeholder.
            by_id = {str(r.image_id): r for r in results}
            ids = [str(i) for i in ev.per_record["id"]]
            results = [by_id.pop(i, None) or _missing(i, "no image file") for i in ids] + list(
                by_id.values()
            )
        scores = ev
        default_title = "ecgprep evaluation"
    else:
        results = ev_or_results
        scores = None
        default_title = "ecgprep gallery"
    g = gallery(
        results,
        images=data_dir_or_images,
        scores=scores,
        title=title or default_title,
        options=options,
        thumb_width=thumb_width,
        n_jobs=n_jobs,
    )
    return g.save(out_html)


def _rerun(ev: Any, images: Any, options, n_jobs) -> list:
    """Run the pipeline again over an evaluation's images (it does not keep its results)."""
    from .batch import process_batch_for_submission

    ids = [str(i) for i in ev.per_record["id"]]
    probes = [_missing(i, "") for i in ids]
    srcs = [_image_for(p, k, images) for k, p in enumerate(probes)]
    todo = [(k, s) for k, s in enumerate(srcs) if s is not None]
    got = (
        process_batch_for_submission(
            [s for _, s in todo],
            options,
            n_jobs=n_jobs,
            progress=False,
            ids=[ids[k] for k, _ in todo],
        )
        if todo
        else []
    )
    out: list = [_missing(i, "no image file") for i in ids]
    for (k, _), r in zip(todo, got, strict=True):
        out[k] = r
    return out
