"""Edges and crop: find the paper in the picture and cut it out.

A paper ECG photographed or scanned lies on a darker, often textured background
(desk, wood, scanner lid). This stage finds the page as a quadrilateral, so the
next stages see only paper: :func:`find_paper` locates it, :func:`crop_to_paper`
cuts its axis-aligned bounding box, :func:`warp_to_paper` undoes the perspective.
:func:`detect_edges` exposes the edge maps the search relies on. Where no
page stands out by its brightness (a strip of paper among other white sheets on a
light desk), :func:`find_grid_region` finds it by its grid: the part of the frame
where long horizontal and vertical lines cross.

Everything is computed at a reduced working resolution (the image shrunk by a
whole factor until its longer side is at most ``max_side``, 1024 by default):
the page outline is a large structure, and the thin strokes printed on the page
(grid lines, traces, text) are removed first by a grey-level closing, so that
they neither cost time nor produce edges.
Coordinates are mapped back to the input image.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ._geometry import as_tuple, downscale, polygon_area, translation
from ._validate import check_image, check_positive, pick
from .grid import grid_response
from .standards import LETTER_MM

if TYPE_CHECKING:
    from .options import Options
    from .page import Page

__all__ = [
    "CropResult",
    "crop_page",
    "crop_station",
    "EDGE_METHODS",
    "GridRegion",
    "PaperResult",
    "crop_to_paper",
    "detect_edges",
    "find_grid_region",
    "find_paper",
    "warp_to_paper",
]

# Below this brightness difference (grey levels) between the paper class and the
# rest, there is no distinct paper in the frame.
_MIN_SEPARATION = 30.0
# A paper candidate must cover at least this fraction of the frame.
_MIN_AREA_FRACTION = 0.05
# A box reaching within this fraction of every image border means "fills the frame"...
_FULL_FRAME_TOL = 0.01
# ... when the quad covers this share of the frame or more: a page turned on a
# dark background touches every border with its corners only (a page turned
# by 7 degrees covers 80 % of the frame it fits in, by 2 degrees 93 %).
_FULL_FRAME_AREA = 0.95
# Candidates scoring below this are not taken for a distinct paper.
_MIN_SCORE = 0.35


# ---------------------------------------------------------------------------
# working resolution and the "paper" channel
# ---------------------------------------------------------------------------


def _check_max_side(max_side) -> int | None:
    if max_side is None:
        return None
    if isinstance(max_side, bool) or not isinstance(max_side, int | np.integer) or max_side < 64:
        raise ValueError(f"max_side must be an integer >= 64 or None, got {max_side!r}")
    return int(max_side)


def _paper_channels(
    small: np.ndarray, remove_strokes: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Paper-likeness (uint8) before and after removing thin dark strokes.

    The minimum over R, G, B is high only for light, grey-ish pixels: white or
    tinted paper scores high, a brown desk or a dark background low, and so do the
    (coloured or black) grid lines and traces, which a grey closing then removes.
    Returns ``(raw, paper)``; ``paper`` is closed and lightly smoothed.
    """
    if small.ndim == 2:
        raw = np.ascontiguousarray(small)
    else:
        r, g, b = cv2.split(small)
        raw = cv2.min(cv2.min(r, g), b)
    chan = raw
    if remove_strokes:
        k = 2 * max(1, int(round(0.005 * max(raw.shape)))) + 1  # 11 px at 1024
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
        chan = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, kernel)
    return raw, cv2.GaussianBlur(chan, (0, 0), 1.0)


def _separation(paper: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Otsu split of the paper channel: (threshold, bright mask, class-mean difference)."""
    thr, bright = cv2.threshold(paper, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = bright.astype(bool)
    n_in = int(bright.sum())
    if n_in == 0 or n_in == bright.size:
        return float(thr), bright, 0.0
    hist = np.bincount(paper.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    t = int(thr)
    lo, hi = hist[: t + 1], hist[t + 1 :]
    mean_lo = float((lo * levels[: t + 1]).sum() / max(lo.sum(), 1.0))
    mean_hi = float((hi * levels[t + 1 :]).sum() / max(hi.sum(), 1.0))
    return float(thr), bright, mean_hi - mean_lo


# ---------------------------------------------------------------------------
# edge detectors (on the working-resolution paper channel)
# ---------------------------------------------------------------------------


def _gradient_magnitude(paper: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(paper, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(paper, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy)


def _edges_canny(paper: np.ndarray, contrast: float) -> np.ndarray:
    # A blurred step of height c has a Sobel (3x3, L2) peak near 2.6 c.
    high = max(1.0 * contrast, 20.0)
    return cv2.Canny(paper, 0.4 * high, high, L2gradient=True) > 0


def _edges_sobel(paper: np.ndarray, contrast: float) -> np.ndarray:
    mag = _gradient_magnitude(paper)
    return mag > max(1.2 * contrast, 24.0)


def _edges_laplacian(paper: np.ndarray, contrast: float) -> np.ndarray:
    smooth = cv2.GaussianBlur(paper.astype(np.float32), (0, 0), 1.5)
    lap = cv2.Laplacian(smooth, cv2.CV_32F, ksize=1)
    # Zero crossings whose jump across the crossing is large enough.
    thr = max(0.02 * contrast, 0.5)
    edges = np.zeros(paper.shape, bool)
    a, b = lap[:, :-1], lap[:, 1:]
    zx = (a * b < 0) & (np.abs(a - b) > thr)
    a, b = lap[:-1, :], lap[1:, :]
    zy = (a * b < 0) & (np.abs(a - b) > thr)
    edges[:, :-1] |= zx
    edges[:-1, :] |= zy
    return edges


def _edges_contour(paper: np.ndarray, contrast: float) -> np.ndarray:
    _, binary = cv2.threshold(paper, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    min_len = max(8, int(0.01 * max(paper.shape)))
    keep = [c for c in contours if len(c) >= min_len]
    out = np.zeros(paper.shape, np.uint8)
    if keep:
        cv2.drawContours(out, keep, -1, 1, thickness=1)
    return out > 0


_EDGE_REGISTRY: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "canny": _edges_canny,
    "sobel": _edges_sobel,
    "laplacian": _edges_laplacian,
    "contour": _edges_contour,
}
#: Names accepted by the ``method`` argument.
EDGE_METHODS = tuple(_EDGE_REGISTRY)


def detect_edges(
    image: np.ndarray,
    *,
    method: str = "canny",
    max_side: int | None = 1024,
    remove_strokes: bool = True,
) -> np.ndarray:
    """Edges of the large structures in an image (the page outline above all).

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB (or grey) image.
    method : {'canny', 'sobel', 'laplacian', 'contour'}
        ``'canny'``: Canny with hysteresis thresholds scaled to the paper /
        background contrast; ``'sobel'``: thresholded Sobel gradient magnitude
        (edges a few pixels thick); ``'laplacian'``: zero crossings of a
        Laplacian of Gaussian with a large enough jump; ``'contour'``: outlines
        of the Otsu-thresholded bright regions.
    max_side : int or None
        Working resolution: the image is shrunk by a whole factor until its longer
        side is at most this many pixels (None: full resolution, slower).
    remove_strokes : bool
        Remove thin dark strokes (grid lines, traces, text) by a grey closing
        before detection, so the printed content yields no edges.

    Returns
    -------
    edges : (M, N) ndarray of bool
        Edge pixels at the input size. Edges found at the working resolution are
        enlarged by pixel replication, so each is ``f`` pixels thick and located
        to that precision, ``f = ceil(max(M, N) / max_side)`` the shrink factor
        (the last ``< f`` rows and columns are never marked).

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If ``method`` is unknown (the message lists the valid names) or
        ``max_side`` is not an integer >= 64.

    Notes
    -----
    Edges are found on a "paper" channel, the minimum of R, G and B, which is
    high for light unsaturated paper and low for dark or coloured backgrounds.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((200, 300, 3), 40, np.uint8)
    >>> img[50:150, 60:240] = 235
    >>> e = detect_edges(img, method="canny")
    >>> e.shape, bool(e[100, 58:63].any()), bool(e[100, 100:200].any())
    ((200, 300), True, False)
    """
    img = check_image(image, "image")
    fn = pick(_EDGE_REGISTRY, method, "edge method")
    max_side = _check_max_side(max_side)
    small, f = downscale(img, max_side)
    _, paper = _paper_channels(small, remove_strokes)
    _, _, contrast = _separation(paper)
    edges = fn(paper, max(contrast, 20.0))
    h, w = img.shape[:2]
    if edges.shape != (h, w):
        big = cv2.resize(
            edges.view(np.uint8),
            (edges.shape[1] * f, edges.shape[0] * f),
            interpolation=cv2.INTER_NEAREST,
        )
        edges = np.zeros((h, w), bool)
        edges[: big.shape[0], : big.shape[1]] = big > 0
    return edges


# ---------------------------------------------------------------------------
# paper quadrilateral
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperResult:
    """Where the paper lies in the image.

    Attributes
    ----------
    quad : (4, 2) ndarray of float
        Page corners (x, y) in input pixel coordinates (pixel centres at integers),
        in the order top-left, top-right, bottom-right, bottom-left. Corners may
        lie outside the image when the page runs off the frame. When ``found`` is
        False, the image corners ``(0, 0), (N-1, 0), (N-1, M-1), (0, M-1)``.
    box : tuple of int
        ``(x0, y0, x1, y1)``, the quad's axis-aligned bounds clipped to the image,
        end-exclusive: the paper is ``image[y0:y1, x0:x1]``.
    found : bool
        True when a distinct page on a background was found; False when the page
        fills the frame or no page-like region stands out.
    confidence : float
        0-1. With ``found``: how well the quad is supported (edges along its sides
        times the fraction of it that looks like paper). Without: the fraction of
        the frame that looks like paper (near 1 for a frame-filling page).
    method : str
        Edge method used.

    ``angle_deg`` gives the mean inclination of the top and bottom sides.
    Results compare equal when all fields (the quad element-wise) are equal.
    """

    quad: np.ndarray
    box: tuple[int, int, int, int]
    found: bool
    confidence: float
    method: str

    def __eq__(self, other) -> bool:
        if not isinstance(other, PaperResult):
            return NotImplemented
        same = (self.box, self.found, self.confidence, self.method) == (
            other.box,
            other.found,
            other.confidence,
            other.method,
        )
        return same and np.array_equal(self.quad, other.quad)

    __hash__ = None  # holds an array

    @property
    def angle_deg(self) -> float:
        """Mean inclination of the top and bottom sides, degrees, counter-clockwise on screen."""
        q = self.quad
        top = q[1] - q[0]
        bottom = q[2] - q[3]
        v = top / max(np.hypot(*top), 1e-9) + bottom / max(np.hypot(*bottom), 1e-9)
        return float(-math.degrees(math.atan2(v[1], v[0])))


def _whole(h: int, w: int) -> np.ndarray:
    return np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float64)


def _box_of(quad: np.ndarray, h: int, w: int) -> tuple[int, int, int, int]:
    # Corners are pixel centres: the outermost paper pixels, to the nearest pixel.
    x0 = int(np.clip(math.floor(quad[:, 0].min() + 0.5), 0, w - 1))
    y0 = int(np.clip(math.floor(quad[:, 1].min() + 0.5), 0, h - 1))
    x1 = int(np.clip(math.floor(quad[:, 0].max() + 0.5) + 1, x0 + 1, w))
    y1 = int(np.clip(math.floor(quad[:, 1].max() + 0.5) + 1, y0 + 1, h))
    return x0, y0, x1, y1


def _order_corners(quad: np.ndarray) -> np.ndarray:
    """Order four points TL, TR, BR, BL (clockwise on screen, starting top-left)."""
    c = quad.mean(axis=0)
    ang = np.arctan2(quad[:, 1] - c[1], quad[:, 0] - c[0])
    q = quad[np.argsort(ang)]
    start = int(np.argmin(q[:, 0] + q[:, 1]))
    return np.roll(q, -start, axis=0)


def _tri_area(a, b, c) -> float:
    return 0.5 * abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]))


def _line_intersection(p1, p2, p3, p4):
    """Intersection of lines p1-p2 and p3-p4 with the parameters along each, or None."""
    d1 = p2 - p1
    d2 = p4 - p3
    den = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(den) < 1e-12:
        return None
    r = p3 - p1
    t = (r[0] * d2[1] - r[1] * d2[0]) / den
    u = (r[0] * d1[1] - r[1] * d1[0]) / den
    return p1 + t * d1, t, u


def _reduce_to_quad(poly: np.ndarray) -> np.ndarray | None:
    """Simplify a convex polygon to four corners, changing its area as little as possible.

    Each step either drops a vertex (losing a triangle) or replaces a short side by
    the meeting point of its two neighbours (gaining a triangle): the cheaper wins.
    Clipped page corners are thereby restored and rounded ones sharpened.
    """
    pts = [np.asarray(p, np.float64) for p in poly]
    if len(pts) < 4:
        return None
    while len(pts) > 4:
        n = len(pts)
        best_cost, best = math.inf, None
        for i in range(n):
            prev, cur, nxt = pts[i - 1], pts[i], pts[(i + 1) % n]
            cost = _tri_area(prev, cur, nxt)
            if cost < best_cost:
                best_cost, best = cost, ("drop", i, None)
            # merge side (i, i+1) into the intersection of sides (i-1, i) and (i+1, i+2)
            nxt2 = pts[(i + 2) % n]
            hit = _line_intersection(prev, cur, nxt2, nxt)
            if hit is not None:
                x, t, u = hit
                if t > 1.0 and u > 1.0:
                    cost = _tri_area(cur, x, nxt)
                    if cost < best_cost:
                        best_cost, best = cost, ("merge", i, x)
        kind, i, x = best
        if kind == "drop":
            del pts[i]
        else:
            j = (i + 1) % n
            pts[i] = x
            del pts[j]
    return np.array(pts)


def _quad_from_mask(mask: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Quad (working px) fitted to the largest outer contour of ``mask``, and the contour's area."""
    contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    cnt = max(contours, key=cv2.contourArea)
    area = float(cv2.contourArea(cnt))
    hull = cv2.convexHull(cnt)
    eps = 0.004 * cv2.arcLength(hull, True)
    poly = cv2.approxPolyDP(hull, eps, True).reshape(-1, 2).astype(np.float64)
    if len(poly) < 4:
        poly = cv2.boxPoints(cv2.minAreaRect(cnt)).astype(np.float64)
    quad = _reduce_to_quad(poly)
    if quad is None:
        return None
    return _order_corners(quad), area


def _largest_component(mask: np.ndarray) -> np.ndarray | None:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=4)
    if n <= 1:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == k


def _edge_support(quad: np.ndarray, near_edge: np.ndarray) -> float:
    """Fraction of the quad's perimeter (away from the image border) that runs along edges."""
    h, w = near_edge.shape
    hits = total = 0
    for a, b in zip(quad, np.roll(quad, -1, axis=0), strict=True):
        n = max(2, int(np.hypot(*(b - a)) / 2))
        t = np.linspace(0.03, 0.97, n)[:, None]
        p = a + t * (b - a)
        x = np.round(p[:, 0]).astype(int)
        y = np.round(p[:, 1]).astype(int)
        inside = (x >= 3) & (x < w - 3) & (y >= 3) & (y < h - 3)
        total += int(inside.sum())
        hits += int(near_edge[y[inside], x[inside]].sum())
    if total == 0:
        return 0.0
    return hits / total


def _refine_quad(quad: np.ndarray, paper: np.ndarray, contrast: float, inset: float) -> np.ndarray:
    """Move each side of ``quad`` (working px) onto the paper/background transition.

    Along each side, brightness profiles across it are sampled (bilinear) and
    the sub-pixel position where each crosses halfway between its inner and outer
    level is found; a line fitted to these crossings (one round of outlier
    rejection) replaces the side, and the corners become the intersections of
    neighbouring sides. Sides without a clear transition (along the image border,
    under shadow) are kept. Refined sides are then moved ``inset`` inward, so they
    pass through the centres of the outermost paper pixels (half an input pixel
    inside the transition).
    """
    chan = paper.astype(np.float32)
    centre = quad.mean(axis=0)
    offsets = np.arange(-4.0, 4.01, 0.25, dtype=np.float32)
    ts = np.linspace(0.1, 0.9, 33)
    lines = []
    for a, b in zip(quad, np.roll(quad, -1, axis=0), strict=True):
        d = b - a
        length = float(np.hypot(*d))
        if length < 8:
            return quad
        normal = np.array([d[1], -d[0]]) / length
        if np.dot((a + b) / 2 - centre, normal) < 0:
            normal = -normal
        base = a[None, :] + ts[:, None] * d[None, :]
        xy = base[:, None, :] + offsets[None, :, None] * normal[None, None, :]
        prof = cv2.remap(
            chan,
            xy[..., 0].astype(np.float32),
            xy[..., 1].astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=-1.0,
        )
        inner, outer = prof[:, :3].mean(axis=1), prof[:, -3:].mean(axis=1)
        valid = (inner - outer > 0.5 * contrast) & (prof.min(axis=1) >= 0)
        level = 0.5 * (inner + outer)
        below = prof < level[:, None]
        first = np.argmax(below, axis=1)  # first sample outside the paper
        valid &= below.any(axis=1) & (first > 0)
        if valid.sum() < 8:
            lines.append((a, b))
            continue
        rows = np.nonzero(valid)[0]
        j = first[rows]
        p0, p1 = prof[rows, j - 1], prof[rows, j]
        frac = (p0 - level[rows]) / np.maximum(p0 - p1, 1e-6)
        off = offsets[j - 1] + frac * (offsets[1] - offsets[0])
        t = ts[rows]
        coef = np.polyfit(t, off, 1)
        keep = np.abs(np.polyval(coef, t) - off) < 1.0
        if keep.sum() >= 8:
            coef = np.polyfit(t[keep], off[keep], 1)
        shift_a, shift_b = np.polyval(coef, 0.0) - inset, np.polyval(coef, 1.0) - inset
        if max(abs(shift_a), abs(shift_b)) > 6.0:
            lines.append((a, b))
            continue
        lines.append((a + shift_a * normal, b + shift_b * normal))
    corners = []
    for i in range(4):
        hit = _line_intersection(*lines[i - 1], *lines[i])
        if hit is None:
            return quad
        corners.append(hit[0])
    out = np.array(corners)
    if np.abs(out - quad).max() > 8.0:
        return quad
    return out


def _printed_outside(quad: np.ndarray, raw: np.ndarray, paper: np.ndarray) -> bool:
    """True when the area around ``quad`` carries printed strokes about as densely as inside.

    Strokes (grid lines, traces) are the thin dark marks the closing removed:
    ``paper - raw`` large. A real background has almost none of them.
    """
    h, w = raw.shape
    strokes = cv2.subtract(paper, raw) > 25
    band = max(2, int(round(0.02 * max(h, w))))
    inside = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(inside, np.round(quad).astype(np.int32), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * band + 1, 2 * band + 1))
    core = cv2.erode(inside, kernel) > 0
    outer = cv2.dilate(inside, kernel) == 0
    n_out = int(outer.sum())
    if n_out < 0.01 * h * w or not core.any():
        return False
    dens_in = float(strokes[core].mean())
    dens_out = float(strokes[outer].mean())
    return dens_out > max(0.35 * dens_in, 0.002)


def _to_input(quad: np.ndarray, scale: float) -> np.ndarray:
    return (quad + 0.5) / scale - 0.5


def find_paper(
    image: np.ndarray, *, method: str = "canny", max_side: int | None = 1024
) -> PaperResult:
    """Find the page (a light sheet, usually gridded) on a darker background.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB (or grey) picture: a render, a scan or a photo of a printed ECG.
    method : {'canny', 'sobel', 'laplacian', 'contour'}
        Edge detector (see :func:`detect_edges`) used to separate the page from
        light background next to it and to score the candidate outlines.
    max_side : int or None
        Working resolution (longer side, pixels); None works at full size.

    Returns
    -------
    PaperResult
        ``quad`` (TL, TR, BR, BL corners, input pixels), ``box`` (clipped,
        end-exclusive), ``found``, ``confidence`` and ``method``. When the page
        fills the frame (a render, a flatbed scan) or nothing page-like stands
        out, ``found`` is False and ``quad`` / ``box`` cover the whole image.

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If ``method`` is unknown or ``max_side`` invalid.

    Notes
    -----
    At the working resolution, a "paper" channel (minimum of R, G, B, grey-closed
    to erase the printed strokes) is split by Otsu's threshold into light and
    dark. Two candidate regions are outlined: the largest light component, and
    the largest light component once the edge map has cut it from any light
    background touching the page. Each outline's convex hull is reduced to four
    corners (dropping vertices or extending neighbouring sides, whichever
    changes the area least, so corners cut off by the frame are restored), and
    scored by the fraction of its sides that run along detected edges times the
    fraction of the quad the region fills. The best candidate above a minimum
    score is the page, unless it fills the frame (its box reaches every border of
    the image, within 1 %, and it covers 95 % of the frame or more: a page turned
    on a background touches every border with its corners only, and is found),
    or its surroundings carry grid lines and traces about as densely as its
    inside (a shadow or crease on a frame-filling page, not a background).
    Finally each side is moved, to sub-pixel precision, onto the halfway level
    of the brightness step across it. On synthetic photos (render on a dark,
    wood or desk background, corners moved up to 10 %, rotation up to 10 deg,
    shading, blur, noise, JPEG), the box is within 0.3 % of the image size.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((400, 500, 3), 50, np.uint8)
    >>> img[60:330, 80:440] = 240
    >>> p = find_paper(img)
    >>> p.found, p.box
    (True, (80, 60, 440, 330))
    >>> find_paper(np.full((400, 500, 3), 240, np.uint8)).found
    False
    """
    img = check_image(image, "image")
    fn = pick(_EDGE_REGISTRY, method, "edge method")
    max_side = _check_max_side(max_side)
    h, w = img.shape[:2]
    small, f = downscale(img, max_side)
    scale = 1.0 / f
    raw, paper = _paper_channels(small)
    sh, sw = paper.shape
    _, bright, contrast = _separation(paper)

    def not_found(frac: float) -> PaperResult:
        quad = _whole(h, w)
        return PaperResult(quad, (0, 0, w, h), False, float(np.clip(frac, 0.0, 1.0)), method)

    if contrast < _MIN_SEPARATION:
        # One population of brightness: all paper (printed on, or light) or none.
        printed = float(np.mean(cv2.subtract(paper, raw) > 25)) > 0.002
        return not_found(1.0 if printed or np.median(paper) >= 128 else 0.0)

    edges = fn(paper, contrast)
    near_edge = cv2.dilate(edges.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    opened = cv2.morphologyEx(bright.view(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))

    regions = []
    comp = _largest_component(opened)
    if comp is not None:
        regions.append(comp)
    cut = opened & ~(cv2.dilate(edges.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    comp = _largest_component(cut.view(np.uint8))
    if comp is not None:
        # grow back what the cut removed along the outline
        grown = cv2.dilate(comp.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
        regions.append(grown & opened.view(bool))

    min_area = _MIN_AREA_FRACTION * sh * sw
    best = None
    for region in regions:
        fitted = _quad_from_mask(region)
        if fitted is None:
            continue
        quad, area = fitted
        qarea = polygon_area(quad)
        if area < min_area or qarea <= 0:
            continue
        fill = min(area / qarea, qarea / max(area, 1.0))
        support = _edge_support(quad, near_edge)
        score = support * fill
        if best is None or score > best[0]:
            best = (score, quad)

    frac_bright = float(bright.mean())
    if best is None or best[0] < _MIN_SCORE:
        return not_found(frac_bright)
    score, quad = best
    if _printed_outside(quad, raw, paper):
        # What lies around the candidate is printed paper too (shadows or creases
        # on a page that fills the frame), not a background.
        return not_found(frac_bright)
    quad = _to_input(_refine_quad(quad, paper, contrast, 0.5 * scale), scale)
    box = _box_of(quad, h, w)
    tol_x, tol_y = _FULL_FRAME_TOL * w, _FULL_FRAME_TOL * h
    touches = box[0] <= tol_x and box[1] <= tol_y and box[2] >= w - tol_x and box[3] >= h - tol_y
    if touches and polygon_area(quad) >= _FULL_FRAME_AREA * w * h:
        return not_found(frac_bright)
    return PaperResult(quad, box, True, float(np.clip(score, 0.0, 1.0)), method)


# ---------------------------------------------------------------------------
# crop and rectify
# ---------------------------------------------------------------------------


def _check_paper(paper) -> PaperResult:
    if not isinstance(paper, PaperResult):
        raise ValueError(
            f"paper must be a PaperResult (from find_paper), got {type(paper).__name__}"
        )
    return paper


def crop_to_paper(image: np.ndarray, paper: PaperResult, *, margin: int = 0) -> np.ndarray:
    """Cut the paper's axis-aligned bounding box out of the image.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        The image ``paper`` was found in.
    paper : PaperResult
        Output of :func:`find_paper`.
    margin : int
        Extra pixels kept on every side (clipped to the image).

    Returns
    -------
    cropped : (m, n, 3) or (m, n) ndarray of uint8
        A C-contiguous copy of ``image[y0 - margin : y1 + margin, x0 - margin : x1 + margin]``.

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If ``paper`` is not a PaperResult, ``margin`` is negative or not an
        integer, or the box lies outside the image.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((400, 500, 3), 50, np.uint8)
    >>> img[60:330, 80:440] = 240
    >>> crop_to_paper(img, find_paper(img)).shape
    (270, 360, 3)
    """
    img = check_image(image, "image")
    paper = _check_paper(paper)
    if isinstance(margin, bool) or not isinstance(margin, int | np.integer) or margin < 0:
        raise ValueError(f"margin must be a non-negative integer, got {margin!r}")
    h, w = img.shape[:2]
    x0, y0, x1, y1 = paper.box
    x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
    x1, y1 = min(w, x1 + margin), min(h, y1 + margin)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"paper box {paper.box} lies outside the image of shape {img.shape[:2]}")
    return img[y0:y1, x0:x1].copy()  # one C-contiguous copy


def warp_to_paper(
    image: np.ndarray,
    paper: PaperResult,
    *,
    px_per_mm: float | None = None,
    size: tuple[int, int] | None = None,
    paper_size_mm: tuple[float, float] = LETTER_MM,
) -> tuple[np.ndarray, np.ndarray]:
    """Rectify the paper quad to an upright rectangle (undo perspective and rotation).

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        The image ``paper`` was found in.
    paper : PaperResult
        Output of :func:`find_paper`.
    px_per_mm : float, optional
        Output resolution: the rectangle is ``paper_size_mm`` at this scale
        (long side along the quad's long side).
    size : (int, int), optional
        Output ``(width, height)`` in pixels. Exclusive with ``px_per_mm``.
        Without either, the size follows the quad's longer opposite sides, so
        no resolution is lost.
    paper_size_mm : (float, float)
        Physical page size (long, short), used with ``px_per_mm``; US letter by default.

    Returns
    -------
    warped : (h, w, 3) or (h, w) ndarray of uint8
        The rectified page; the quad corners land on the output corners.
    homography : (3, 3) ndarray of float
        Maps input pixel coordinates (x, y, 1) to output pixel coordinates.

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If ``paper`` is not a PaperResult, both or invalid ``px_per_mm`` / ``size``
        are given, or the output would exceed 4 times the input's pixels.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((400, 500, 3), 50, np.uint8)
    >>> img[60:330, 80:440] = 240
    >>> out, hmat = warp_to_paper(img, find_paper(img))
    >>> out.shape, hmat.shape
    ((270, 360, 3), (3, 3))
    """
    img = check_image(image, "image")
    paper = _check_paper(paper)
    if px_per_mm is not None and size is not None:
        raise ValueError("give px_per_mm or size, not both")
    quad = np.asarray(paper.quad, np.float64)
    if quad.shape != (4, 2) or not np.all(np.isfinite(quad)):
        raise ValueError(f"paper.quad must be a finite (4, 2) array, got shape {quad.shape}")
    width_q = max(np.hypot(*(quad[1] - quad[0])), np.hypot(*(quad[2] - quad[3])))
    height_q = max(np.hypot(*(quad[3] - quad[0])), np.hypot(*(quad[2] - quad[1])))
    if size is not None:
        try:
            out_w, out_h = (int(v) for v in size)
        except (TypeError, ValueError):
            raise ValueError(f"size must be (width, height) integers, got {size!r}") from None
        if out_w < 2 or out_h < 2:
            raise ValueError(f"size must be at least (2, 2), got {size!r}")
    elif px_per_mm is not None:
        px_per_mm = check_positive(px_per_mm, "px_per_mm")
        long_mm, short_mm = max(paper_size_mm), min(paper_size_mm)
        if width_q >= height_q:
            out_w, out_h = round(long_mm * px_per_mm), round(short_mm * px_per_mm)
        else:
            out_w, out_h = round(short_mm * px_per_mm), round(long_mm * px_per_mm)
    else:
        out_w, out_h = int(round(width_q)) + 1, int(round(height_q)) + 1
    out_w, out_h = max(2, int(out_w)), max(2, int(out_h))
    if out_w * out_h > 4 * img.shape[0] * img.shape[1]:
        raise ValueError(
            f"output size {out_w} x {out_h} exceeds 4 times the input's "
            f"{img.shape[1]} x {img.shape[0]} pixels"
        )
    dst = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], np.float32)
    hmat = cv2.getPerspectiveTransform(quad.astype(np.float32), dst).astype(np.float64)
    # Bicubic: a thin trace keeps more of its contrast than with bilinear (synthetic
    # phone photos on a background 20.68 -> 22.02 dB; scans and clean pages alike).
    # What the frame cut off is blank paper: the frame's last pixels repeated
    # would draw their trace and grid on as streaks (a page photographed at 45
    # degrees, its rhythm strip running off the frame, read along a streak).
    warped = cv2.warpPerspective(
        img,
        hmat,
        (out_w, out_h),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=_paper_fill(img, quad),
    )
    return np.ascontiguousarray(warped), hmat


#: The paper's colour, per channel: this percentile of the pixels inside its
#: outline (paper between grid lines and ink).
PAPER_FILL_PERCENTILE = 90


def _paper_fill(img: np.ndarray, quad: np.ndarray) -> tuple[float, ...]:
    """The colour of the paper inside ``quad``, for what the frame cut off."""
    small, f = downscale(img, 512)
    inside = np.zeros(small.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, np.round(quad / f).astype(np.int32), 1)
    px = small[inside.astype(bool)]
    if px.size == 0:
        px = small.reshape(-1, img.shape[2] if img.ndim == 3 else 1)
    level = np.percentile(px.reshape(len(px), -1), PAPER_FILL_PERCENTILE, axis=0)
    return tuple(float(v) for v in level) + (0.0,) * (4 - level.size)


#: A page whose outline covers less than this fraction of the frame is warped to a
#: rectangle (a photo on a background); a larger one is only cropped.
WARP_BELOW_FRACTION = 0.85
#: ... and so is one whose outline covers less than this fraction of the
#: smallest rectangle around it (turned as it lies), however much of the frame
#: it fills: a page photographed at an angle, its far edge 10 % or more shorter
#: than its near one (a scan's outline, a pixel or two off a rectangle, covers
#: 0.99 of it, turned or not) ...
WARP_SHAPE_FRACTION = 0.95
#: ... when the outline is this well supported (:attr:`PaperResult.confidence`)
#: and its four corners lie in the frame: a page running off the frame has
#: corners that are the frame's, or guessed past it, not seen (a render turned
#: in perspective, its outline 0.62; real pages photographed from below, filling
#: the frame, 0.97-0.99).
WARP_SHAPE_MIN_CONFIDENCE = 0.9


@dataclass(frozen=True)
class CropResult:
    """The paper found (``paper``) and what was done with it.

    ``homography`` maps the input image's pixel coordinates to the output's,
    of ``shape`` ``(height, width)``.
    """

    paper: Any
    cropped: bool
    rectified: bool
    homography: tuple = field(repr=False)
    shape: tuple[int, int]


def crop_page(
    image: np.ndarray, *, method: str = "canny", crop: bool = True, rectify: bool = True
) -> tuple[np.ndarray, CropResult]:
    """Find the paper; crop the image to it, or warp its outline to a rectangle.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        The image.
    method : str
        Edge detector (:data:`EDGE_METHODS`).
    crop : bool
        Crop (or warp) to the paper when one is found.
    rectify : bool
        Allow warping: a page filling less than :data:`WARP_BELOW_FRACTION` of
        the frame (a photo on a background), or whose outline, well found and
        in the frame, is far from a rectangle (:data:`WARP_SHAPE_FRACTION`: a
        page photographed at an angle), has its perspective undone from its
        outline. A page filling most of the frame with a nearly rectangular
        outline (a scan, a render with a dark border) is only cropped: warping
        it would shear the grid for nothing.

    Returns
    -------
    out : ndarray
        The cropped or warped image (``image`` itself when nothing was done).
    CropResult
        The paper and the map from ``image`` to ``out``.

    Examples
    --------
    >>> page = np.full((120, 160, 3), 30, np.uint8)
    >>> page[20:100, 30:140] = 250
    >>> out, res = crop_page(page)
    >>> res.cropped, out.shape[:2] == res.shape
    (True, True)
    """
    hmat = np.eye(3)
    paper = find_paper(image, method=method)
    cropped = rectified = False
    if crop and paper.found:
        area = polygon_area(paper.quad)
        h, w = image.shape[:2]
        q = paper.quad
        corners_seen = bool(
            (q[:, 0] >= -1).all()
            and (q[:, 0] <= w).all()
            and (q[:, 1] >= -1).all()
            and (q[:, 1] <= h).all()
        )
        (_, (rw, rh), _) = cv2.minAreaRect(q.astype(np.float32))
        far_from_box = (
            area < WARP_SHAPE_FRACTION * rw * rh
            and paper.confidence >= WARP_SHAPE_MIN_CONFIDENCE
            and corners_seen
        )
        small = area < WARP_BELOW_FRACTION * h * w
        if rectify and (small or far_from_box):
            image, hw = warp_to_paper(image, paper)
            hmat = np.asarray(hw, dtype=np.float64)
            rectified = True
        else:
            hmat = translation(-paper.box[0], -paper.box[1])
            image = crop_to_paper(image, paper)
        cropped = True
    return image, CropResult(paper, cropped, rectified, as_tuple(hmat), image.shape[:2])


def crop_station(page: Page, opts: Options) -> tuple[Page, CropResult]:
    """Edges station: the working image cropped (or warped) to the paper (:func:`crop_page`)."""
    image, res = crop_page(
        page.image, method=opts.edge_method, crop=opts.crop, rectify=opts.rectify
    )
    return dataclasses.replace(page, image=image, paper_warped=res.rectified), res


# ---------------------------------------------------------------------------
# the page found by its grid
# ---------------------------------------------------------------------------

#: Working size (longer side, px) of the grid region search: the 5 mm lines of a
#: page filling a fifth of a 4000 px photo stay 10 px apart.
REGION_MAX_SIDE = 1600
#: Tiles along the frame's longer side: a page of a quarter of the frame spans a
#: dozen of them, so its outline is found to about a tile.
REGION_TILES = 24
#: A pixel is on a line where the grid response reaches this share of its cap
#: (:func:`ecgprep.grid.grid_response`): the 5 mm lines and the trace, not the
#: paper's speckle ...
REGION_LINE_LEVEL = 0.35
#: ... and not under this many grey levels, however faint the image.
REGION_MIN_LEVEL = 8
#: A line window (a third of a tile long) is a line where this share of it is on
#: ink: solid and dotted grid lines are, a desk's speckle and text mostly not.
REGION_RUN = 0.5
#: A gridded tile has at least this share of its pixels on horizontal lines and on
#: vertical lines (a 5 mm grid of 1 px lines at 3.4 px/mm: 6 %) ...
REGION_MIN_DENSITY = 0.02
#: ... its lines running across it: the lines' profile across the tile varies by
#: at least this share of what whole lines would give (grid tiles 0.15-0.7; a
#: desk's speckle, binary noise of the same density, 0.05-0.3 in a photo; a ruled
#: sheet has no vertical lines).
REGION_MIN_COHERENCE = 0.25
#: A region smaller than this many tiles is not a page.
REGION_MIN_TILES = 6


@dataclass(frozen=True)
class GridRegion:
    """The part of a picture that carries an ECG grid (:func:`find_grid_region`).

    Attributes
    ----------
    box : tuple of int
        ``(x0, y0, x1, y1)``, end-exclusive, input pixels: the gridded tiles'
        bounds, each side moved (by a tile at most) to where the lines crossing
        it fade, and a quarter of a tile around, clipped to the image (the whole
        image when nothing was found).
    found : bool
        A region of at least :data:`REGION_MIN_TILES` gridded tiles was found.
    share : float
        ``box``'s share of the image's area (1 when nothing was found).
    fill : float
        Share of the gridded tiles' bounds that the region's tiles fill (a page:
        near 1; tiles scattered over the frame: low).
    """

    box: tuple[int, int, int, int]
    found: bool
    share: float
    fill: float


def _line_tiles(ink: np.ndarray, length: int, tile: int, horizontal: bool):
    """Pixels on lines of one direction; per tile, their share and their coherence."""
    size = (length, 1) if horizontal else (1, length)
    on = cv2.boxFilter(ink, cv2.CV_32F, size) > REGION_RUN
    ny, nx = on.shape[0] // tile, on.shape[1] // tile
    blocks = on[: ny * tile, : nx * tile].reshape(ny, tile, nx, tile).astype(np.float32)
    density = blocks.mean(axis=(1, 3))
    # profile across the lines: per row of the tile (horizontal lines), per column
    prof = blocks.mean(axis=3) if horizontal else blocks.mean(axis=1)
    spread = prof.var(axis=1 if horizontal else 2)
    coherence = spread / np.maximum(density * (1.0 - density), 1e-6)
    return on, density, coherence


#: The region's sides are moved to where the lines crossing them fade below this
#: share of their level inside the region: the paper's own edge, not a tile's.
REGION_EDGE_SHARE = 0.3


def _span(profile: np.ndarray, core: slice, width: int, reach: int) -> tuple[int, int]:
    """The run of ``profile`` (smoothed over ``width``) through the middle of
    ``core`` at :data:`REGION_EDGE_SHARE` of its median over ``core`` or more,
    its ends within ``reach`` of ``core``'s (``core`` itself where the middle is
    below that)."""
    smooth = np.convolve(profile, np.ones(max(1, width)) / max(1, width), mode="same")
    floor = REGION_EDGE_SHARE * float(np.median(smooth[core]))
    mid = (core.start + core.stop) // 2
    if not floor > 0 or smooth[mid] < floor:
        return core.start, core.stop
    gaps = np.flatnonzero(smooth < floor)
    left, right = gaps[gaps < mid], gaps[gaps > mid]
    lo = int(left[-1]) + 1 if left.size else 0
    hi = int(right[0]) if right.size else profile.size
    lo = int(np.clip(lo, core.start - reach, core.start + reach))
    hi = int(np.clip(hi, core.stop - reach, core.stop + reach))
    return max(0, lo), min(profile.size, hi)


def find_grid_region(image: np.ndarray, *, max_side: int | None = REGION_MAX_SIDE) -> GridRegion:
    """Find the part of the picture where an ECG grid is printed.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB or grey picture: a page photographed among other papers, a strip
        of paper on a desk.
    max_side : int or None
        Working resolution (longer side, px); None works at full size.

    Returns
    -------
    GridRegion
        The box of the largest connected set of gridded tiles.

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If ``max_side`` is invalid.

    Notes
    -----
    A grid is where long horizontal and long vertical lines cross. On the grid
    response (:func:`ecgprep.grid.grid_response`), pixels at
    :data:`REGION_LINE_LEVEL` of its cap are ink; a window a third of a tile long
    along x (then along y) that is mostly ink is on a line. The frame is cut into
    :data:`REGION_TILES` tiles along its longer side; a tile is gridded when lines
    of both directions cover :data:`REGION_MIN_DENSITY` of it and run across it
    (:data:`REGION_MIN_COHERENCE`): a ruled sheet has no vertical lines, a desk's
    speckle and text no lines that cross a tile. The largest connected set of
    gridded tiles is the region; its sides are moved to where the lines crossing
    them fade (:data:`REGION_EDGE_SHARE`). Unlike :func:`find_paper`, this
    needs no darker background, and it does not take another white sheet for the
    page; on a page with a grid of dots alone it may find only parts of it.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((600, 800, 3), 205, np.uint8)
    >>> page = img[200:420, 300:700]
    >>> page[:] = 250
    >>> page[::8, :] = (240, 150, 150)
    >>> page[:, ::8] = (240, 150, 150)
    >>> r = find_grid_region(img)
    >>> r.found, r.share < 0.4
    (True, True)
    """
    img = check_image(image, "image")
    max_side = _check_max_side(max_side)
    h, w = img.shape[:2]
    small, f = downscale(img, max_side)
    resp = grid_response(small)
    sh, sw = resp.shape
    tile = max(16, int(round(max(sh, sw) / REGION_TILES)))
    whole = GridRegion((0, 0, w, h), False, 1.0, 0.0)
    if min(sh, sw) < tile:
        return whole
    level = max(REGION_MIN_LEVEL, int(REGION_LINE_LEVEL * int(resp.max())))
    ink = (resp > level).astype(np.float32)
    oy, ox = (sh % tile) // 2, (sw % tile) // 2
    ink = ink[oy:, ox:]
    length = max(9, tile // 3)
    on_h, dh, ch = _line_tiles(ink, length, tile, horizontal=True)
    on_v, dv, cv_ = _line_tiles(ink, length, tile, horizontal=False)
    gridded = (np.minimum(dh, dv) >= REGION_MIN_DENSITY) & (
        np.minimum(ch, cv_) >= REGION_MIN_COHERENCE
    )
    n, _, stats, _ = cv2.connectedComponentsWithStats(gridded.view(np.uint8), connectivity=8)
    if n <= 1:
        return whole
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    tx, ty, tw, th, count = (int(v) for v in stats[k])
    if count < REGION_MIN_TILES:
        return whole
    # the sides: where the vertical lines end (rows), then the horizontal ones
    # (columns, over those rows); the gridded tiles' bounds are the core
    cols = slice(tx * tile, (tx + tw) * tile)
    ry0, ry1 = _span(
        on_v[:, cols].mean(axis=1), slice(ty * tile, (ty + th) * tile), tile // 4, tile
    )
    rows = slice(ry0, ry1)
    rx0, rx1 = _span(on_h[rows].mean(axis=0), cols, tile // 4, tile)
    pad = tile // 4
    x0 = max(0, (ox + rx0 - pad) * f)
    y0 = max(0, (oy + ry0 - pad) * f)
    x1 = min(w, (ox + rx1 + pad) * f)
    y1 = min(h, (oy + ry1 + pad) * f)
    share = (x1 - x0) * (y1 - y0) / float(w * h)
    return GridRegion((x0, y0, x1, y1), True, float(share), count / float(tw * th))
