"""Drawing what the pipeline found over the picture it was given.

:func:`overlay` draws the paper outline, the 5 mm grid, the rows, lead panels
and calibration pulses it found, and the signals it extracted, drawn back where
they should lie on the paper. Where the drawn trace (blue) leaves the printed
ink, digitization went wrong there. Everything after the crop lives in the
cropped, rectified and deskewed working image; it is mapped back through the
inverse of the stages' homographies. :func:`save_overlay` writes it to a file.

Colours (RGB) are in :data:`COLORS`. Only OpenCV is needed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .._geometry import apply_homography
from .._validate import check_image
from ..standards import AUTO, GAIN_MM_PER_MV, MAJOR_MM
from ..io import load_image
from ..options import Options, as_options

__all__ = ["COLORS", "LAYERS", "overlay", "save_overlay"]

#: RGB colour of each drawn element.
COLORS: dict[str, tuple[int, int, int]] = {
    "paper": (255, 120, 0),
    "grid": (0, 160, 190),
    "panel": (140, 70, 210),
    "baseline": (0, 150, 60),
    "pulse": (225, 0, 140),
    "trace": (0, 70, 255),
    "trace_on_blue": (235, 60, 0),
    "mended": (255, 185, 0),
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
    """Point maps: working image -> input, grid frame -> input (None when unknown).

    Each takes ``(K, 2)`` pixel coordinates to ``(K, 2)``; a page's curl taken
    out (:func:`ecgprep.dewarp.uncurl`) is put back on the way.
    """

    work_to_input: Callable[[np.ndarray], np.ndarray] | None
    grid_to_input: Callable[[np.ndarray], np.ndarray] | None
    work_shape: tuple[int, int] | None


def _frames(result) -> _Frames:
    """:meth:`ecgprep.result.ImageResult.working_to_input` (crop, perspective, curl,
    deskew, quarter and half turns), and the grid's frame through it; None until
    the deskew stage has run."""
    if result.stage("deskew") is None:
        return _Frames(None, None, None)
    found = result.working_map()
    work = result.working_to_input() if found is not None else None
    if work is None or not np.all(np.isfinite(found[0])):
        return _Frames(None, None, None)
    shape = found[1]
    grid = result.stage("grid")
    grid_to_work = None
    if grid is not None and getattr(grid, "found", False):
        try:
            grid_to_work = _inv(_mat(grid.deskew_matrix()))
        except (AttributeError, TypeError, ValueError, cv2.error):
            grid_to_work = None
    grid_map = None
    if grid_to_work is not None:

        def grid_map(xy: np.ndarray) -> np.ndarray:
            return work(apply_homography(grid_to_work, xy))

    return _Frames(work, grid_map, shape if shape and len(shape) == 2 else None)


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


def _paper_quad(result) -> np.ndarray | None:
    """The paper's outline found by the edges station, in the loaded image's pixels.

    The edges station works on the image the load station handed it, shrunk by
    its factor on a very fine page (:class:`ecgprep.io.LoadResult`).
    """
    paper = getattr(result.stage("edges"), "paper", None)
    quad = getattr(paper, "quad", None)
    if quad is None or not getattr(paper, "found", False):
        return None
    q = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    load = result.stage("load")
    shrink = _mat(getattr(load, "homography", None)) if load is not None else None
    back = _inv(shrink) if shrink is not None else None
    return apply_homography(back, q) if back is not None else q


def _draw_paper(cv: _Canvas, result) -> None:
    q = _paper_quad(result)
    if q is None:
        return
    cv.polylines([cv.to_out(q)], COLORS["paper"], cv.lw + 1, closed=True)


def _paper_region(cv: _Canvas, result) -> np.ndarray | None:
    q = _paper_quad(result)
    if q is None:
        return None
    q = cv.to_out(q)
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
    step_x, step_y = MAJOR_MM * px, MAJOR_MM * py
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
        pieces.append(cv.to_out(fr.grid_to_input(seg)))
    for y in ys:
        seg = np.stack([tt * (ww - 1), np.full(n, y)], axis=1)
        pieces.append(cv.to_out(fr.grid_to_input(seg)))
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
    spans = []
    for r in rows:
        # the nearest row above or below it (in a page printed in column blocks,
        # a row of the same block: one whose columns overlap its own)
        gaps = [
            abs(float(o.y) - float(r.y))
            for o in rows
            if o is not r and o.x_start < r.x_end and r.x_start < o.x_end and o.y != r.y
        ]
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
            boxes.append(cv.to_out(h(edge)))
        cv.polylines(boxes, COLORS["panel"], 1, closed=True)
        for p in layout.panels:
            if p.row >= len(rows):
                continue
            corner = cv.to_out(h(np.array([[float(p.x0), spans[p.row][0]]])))[0]
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
                dashes.append(cv.to_out(h(seg)))
        cv.polylines(dashes, COLORS["baseline"], 1)
    if "pulses" in layers:
        boxes = []
        for pu in getattr(dig, "pulses", ()) or ():
            if not pu.found or pu.row >= len(rows):
                continue
            yb = base_y[pu.row]
            yt = yb - float(pu.height_px)
            q = np.array([[pu.x0, yb], [pu.x0, yt], [pu.x1, yt], [pu.x1, yb]], dtype=np.float64)
            boxes.append(cv.to_out(h(q)))
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
    row_gains = tuple(getattr(dig, "row_gains", ()) or ())
    mended = dict(getattr(dig, "mended", ()) or ())
    pieces, by_law = [], []
    for name, sig in sigs.items():
        p = _lead_panel(layout, len(rows), name, sig)
        if p is None or sig.values.size < 2:
            continue
        row_gain = row_gains[p.row] if p.row < len(row_gains) else gain
        px_per_mv = row_gain * float(g.px_per_mm_y)
        v = np.asarray(sig.values, dtype=np.float64)
        t = float(sig.start_s) + np.arange(v.size) / float(sig.fs)
        # Column c covers [c, c + 1): its centre is at t = (c + 0.5 - x_start) / px_per_s,
        # the panel's first column at its t0 (a right column block's own origin).
        x = float(p.x0) + (t - float(p.t0_s)) * px_per_s - 0.5
        y = base_y[p.row] - v * px_per_mv
        xy = cv.to_out(fr.work_to_input(np.stack([x, y], axis=1)))
        pieces.append(xy)
        for a, b in mended.get(name, ()):
            # the span's samples and one either side, joined to the trace
            i0 = max(int(round((a - float(sig.start_s)) * float(sig.fs))) - 1, 0)
            i1 = min(int(round((b - float(sig.start_s)) * float(sig.fs))) + 1, v.size)
            if i1 - i0 >= 2:
                by_law.append(xy[i0:i1])
    cv.polylines(pieces, color, cv.lw)
    cv.polylines(by_law, COLORS["mended"], cv.lw)


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
    lines = [" | ".join(bits)]
    if result.suspect:
        lines.append("SUSPECT: " + "; ".join(result.suspect_reasons))
    if q is not None and not q.passed:
        lines.append("quality gate failed: " + "; ".join(q.reasons))
    if len(lines) > 1:
        return lines, COLORS["warn"], (0, 0, 0)
    bits.append("ok")
    return [" | ".join(bits)], (255, 255, 255), COLORS["ok"]


def _banner(cv: _Canvas, result):
    """The banner's wrapped lines, colours, height, padding and line height (output px)."""
    lines, bg, fg = _status_lines(result)
    w = cv.img.shape[1]
    pad = max(2, int(round(6 * cv.font)))
    wrapped = []
    for ln in lines:
        wrapped += _wrap(ln, w - 2 * pad, cv.font, cv.tlw)
    (_, th), base = cv2.getTextSize("Ag", _FONT, cv.font, cv.tlw)
    lh = th + base + pad
    return wrapped, bg, fg, pad + lh * len(wrapped), pad, lh


def _draw_banner(cv: _Canvas, result, *, outside: bool = False) -> None:
    """The status banner over the picture's top, or in a band above it (``outside``)."""
    wrapped, bg, fg, height, pad, lh = _banner(cv, result)
    if outside:
        band = np.empty((height, cv.img.shape[1], 3), np.uint8)
        band[:] = bg
        cv.img = np.vstack([band, cv.img])
    else:
        height = min(cv.img.shape[0], height)
        band = cv.img[:height].copy()
        band[:] = bg
        alpha = 0.88 if bg != (255, 255, 255) else 0.8
        cv.img[:height] = cv2.addWeighted(band, alpha, cv.img[:height], 1 - alpha, 0.0)
    for i, ln in enumerate(wrapped):
        cv.text(ln, (pad, pad + i * lh), fg, bg=None)


#: Below this width (output px) the legend is left out: it would not fit.
LEGEND_MIN_WIDTH = 800
#: Where the banner and the legend would cover more than this share of the
#: picture's height (a strip of thermal roll, a crop of one row), they are drawn
#: in bands above and below it instead of over it.
BANDS_OUTSIDE_SHARE = 0.25


def _legend_metrics(cv: _Canvas) -> tuple[float, int, int, int]:
    """The legend's text scale, text height, baseline and padding (output px)."""
    scale = cv.font * 0.85
    (_, th), base = cv2.getTextSize("Ag", _FONT, scale, cv.tlw)
    return scale, th, base, max(2, int(round(5 * scale)))


def _legend_height(cv: _Canvas) -> int:
    if cv.img.shape[1] < LEGEND_MIN_WIDTH:
        return 0
    _, th, base, pad = _legend_metrics(cv)
    return th + base + 3 * pad


def _draw_legend(cv: _Canvas, trace_rgb, mended: bool = False, *, outside: bool = False) -> None:
    """The colour legend over the picture's bottom, or in a band below it (``outside``)."""
    height = _legend_height(cv)
    if not height:
        return
    if outside:
        cv.img = np.vstack([cv.img, np.full((height, cv.img.shape[1], 3), 255, np.uint8)])
    h, w = cv.img.shape[:2]
    scale, th, base, pad = _legend_metrics(cv)
    y = h - th - base - 2 * pad
    x = pad
    cv2.rectangle(cv.img, (0, y - pad), (w, h), (255, 255, 255), -1)
    entries = _LEGEND + ((("mended", "mended by Einthoven's law"),) if mended else ())
    for key, label in entries:
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
        Add a colour legend at the bottom (only when the output is at least
        :data:`LEGEND_MIN_WIDTH` px wide).
    trace_color : (r, g, b), optional
        Colour of the digitized traces; by default blue, or red-orange on blue paper.

    Returns
    -------
    (m, n, 3) uint8 ndarray
        RGB picture: the image lightened a little, with the paper outline (orange),
        the 5 mm grid lines (teal), the lead panels and their names (violet), the
        0 mV lines (green, dashed), the calibration pulses found (magenta), the
        digitized traces (blue; amber where Einthoven's law mended them, see
        :func:`ecgprep.digitize.law.mend_by_law`) and a status banner on top.
        On a picture the banner and legend would cover too much of
        (:data:`BANDS_OUTSIDE_SHARE`: a strip of thermal roll), they are drawn in
        bands above and below it, and the output is that much taller.

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
        gain = getattr(result.stage("digitize"), "gain", opts.gain)
        _draw_traces(cv, result, fr, float(GAIN_MM_PER_MV if gain == AUTO else gain), rgb)
    bands = (_banner(cv, result)[3] if "banner" in chosen else 0) + (
        _legend_height(cv) if legend else 0
    )
    outside = bands > BANDS_OUTSIDE_SHARE * cv.img.shape[0]
    if legend:
        mended = "traces" in chosen and bool(getattr(result.stage("digitize"), "mended", ()))
        _draw_legend(cv, rgb, mended, outside=outside)
    if "banner" in chosen:
        _draw_banner(cv, result, outside=outside)
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
