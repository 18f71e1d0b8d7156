"""Perspective from the grid itself: rectify a page photographed at an angle.

A phone photo of a printout that fills the whole frame shows no page outline
(:func:`ecgprep.edges.find_paper` has nothing to go by), yet its grid lines
carry the perspective: the lines of each family converge to a vanishing
point. :func:`rectify_from_grid` measures both vanishing points from the grid
lines and builds the homography that makes the grid square again (lines
straight, parallel, axis-aligned, 1 mm squares square); :func:`warp` applies it.

Conventions
-----------
- ``homography`` maps input pixel coordinates ``(x, y, 1)`` (pixel centres at
  integers) to output (rectified) pixel coordinates, as for
  :func:`cv2.warpPerspective`.
- The output keeps the input's resolution on average (the map preserves the
  area of the frame), so px/mm stays near the input's; the output size is the
  bounding box of the whole input frame once mapped.
- A page that is not seen in perspective gives ``found=True`` with a homography
  close to a rotation (the grid's own rotation, undone) and a small
  ``correction_px``: the caller decides from ``correction_px`` (and from
  :func:`ecgprep.grid.detect_grid` on the unrectified image) whether warping is
  worth it. ``found=False`` always comes with the identity.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ._geometry import (
    apply_homography,
    as_tuple,
    downscale,
    polygon_area,
    rotate,
    shrink_matrix,
    translation,
)
from ._validate import check_image, check_positive
from .dewarp import measure_curl, strip_peaks, uncurl
from .grid import GRID_PX_PER_MM, detect_grid, grid_response

if TYPE_CHECKING:
    from .options import Options
    from .page import Page

__all__ = [
    "RectifyResult",
    "rectify_from_grid",
    "warp",
    "marked_box",
    "PerspectiveResult",
    "undo_perspective",
    "perspective_station",
]

# tiles for the coarse local line directions (working pixels)
_TILE = 128
# spectral band of the tiles (cycles / px): periods between 2.2 px and 40 px
_BAND = (1.0 / 40.0, 0.45)
# a family must yield at least this many fitted lines
_MIN_LINES = 8
# rectified x / y scales may differ by at most this factor (else the check failed)
_MIN_RATIO = 0.8
# below this confidence the result is not trusted (found=False)
_MIN_CONFIDENCE = 0.3
# output may not exceed this many times the input's pixels
_MAX_AREA_RATIO = 4.0


@dataclass(frozen=True)
class RectifyResult:
    """Homography that undoes the perspective of a page, measured from its grid lines.

    Attributes
    ----------
    homography : tuple of tuple of float
        3 x 3, maps input pixels ``(x, y, 1)`` to output pixels. The identity when
        ``found`` is False.
    found : bool
        True when both families of grid lines were measured, the grid of the
        rectified image was found, square, and ``confidence >= 0.3``. The
        homography may then be close to a plain rotation (see
        ``correction_px``).
    confidence : float
        0..1: the grid confidence (:func:`ecgprep.grid.detect_grid`) on the
        rectified image, times ``min(1, min(n_lines_h, n_lines_v) / 20)``,
        ``exp(-max(0, residual_px - 0.5) / 2)`` (curved lines: lens distortion,
        a curled page) and ``exp(-|skew_deg| / 0.5)``.
    n_lines_h, n_lines_v : int
        Grid lines fitted in the near-horizontal and the near-vertical family.
    residual_px : float
        RMS distance (input pixels) of the measured line points from their fitted
        straight lines, in the last refinement (NaN when not measured). Lens
        distortion or a curled page shows here.
    output_shape : tuple of int
        ``(height, width)`` of the output of :func:`warp`.
    input_shape : tuple of int
        ``(height, width)`` of the analysed image.
    correction_px : float
        Largest displacement (input pixels) over the frame between this map and
        its best similarity (rotation + uniform scale + shift): how much
        perspective, shear and unequal x / y scale the rectification removes.
        Below ~2 px the warp only rotates. 0 when ``found`` is False.
    angle_deg : float
        Rotation undone, degrees, counter-clockwise on screen (the rotation of
        the map's best similarity, negated: the grid's rotation, as
        :attr:`ecgprep.grid.GridResult.angle_deg`).
    skew_deg, ratio : float
        Grid skew (degrees) and ``px_per_mm_x / px_per_mm_y`` that
        :func:`ecgprep.grid.detect_grid` measured once the vanishing points were
        sent to infinity (NaN when not measured). The skew is left (~0 for a good
        rectification); the ratio is then corrected to 1.
    px_per_mm : float
        Grid scale of the output of :func:`warp` (px per mm, x and y alike; NaN
        when not found).
    """

    homography: tuple = field(repr=False)
    found: bool
    confidence: float
    n_lines_h: int
    n_lines_v: int
    residual_px: float
    output_shape: tuple[int, int]
    input_shape: tuple[int, int] = (0, 0)
    correction_px: float = 0.0
    angle_deg: float = 0.0
    skew_deg: float = float("nan")
    ratio: float = float("nan")
    px_per_mm: float = float("nan")

    @property
    def matrix(self) -> np.ndarray:
        """``homography`` as a (3, 3) float64 array."""
        return np.array(self.homography, dtype=np.float64)


# --------------------------------------------------------------------------------------
# small geometry helpers


def _scale(sx: float, sy: float) -> np.ndarray:
    return np.array([[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]])


def _rotation(angle_deg: float) -> np.ndarray:
    """Rotation by ``angle_deg`` counter-clockwise on screen (y down) about the origin."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def _rectifier(v_h: np.ndarray, v_v: np.ndarray) -> np.ndarray | None:
    """Map (centred coordinates) sending both vanishing points to infinity, families on the axes.

    ``v_h`` / ``v_v`` are the homogeneous vanishing points of the near-horizontal
    and near-vertical lines. The map fixes the origin and sends the vanishing
    line to infinity (projective part, identity Jacobian at the origin), then
    turns the two (now parallel) families onto the x and y axes.
    """
    line = np.cross(v_h, v_v)
    if not abs(line[2]) > 1e-12:
        return None
    line = line / line[2]
    proj = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [line[0], line[1], 1.0]])
    dh = (proj @ v_h)[:2]
    dv = (proj @ v_v)[:2]
    nh, nv = np.hypot(*dh), np.hypot(*dv)
    if not (nh > 0 and nv > 0):
        return None
    dh = dh / nh * (1.0 if dh[0] >= 0 else -1.0)
    dv = dv / nv * (1.0 if dv[1] >= 0 else -1.0)
    basis = np.column_stack([dh, dv])
    det = float(np.linalg.det(basis))
    if not det > 0.2:
        return None
    aff = np.eye(3)
    aff[:2, :2] = np.linalg.inv(basis)
    return aff @ proj


def _vanishing_point(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Robust vanishing point of lines ``y = a + b x`` (centred, x along the lines).

    Concurrent lines have slopes linear in their intercepts, ``b = b0 + b1 a``;
    the point is ``(1, b0, -b1)`` (homogeneous, in the same (along, across)
    frame). Weighted least squares, refitted twice without outliers (beyond
    3 robust standard deviations).
    """
    keep = np.ones(a.size, bool)
    coef = np.zeros(2)
    for _ in range(3):
        if keep.sum() < 3:
            break
        aa, bb, ww = a[keep], b[keep], w[keep]
        sw = ww.sum()
        ma, mb = (ww * aa).sum() / sw, (ww * bb).sum() / sw
        saa = (ww * (aa - ma) ** 2).sum()
        b1 = (ww * (aa - ma) * (bb - mb)).sum() / saa if saa > 0 else 0.0
        coef = np.array([mb - b1 * ma, b1])
        res = b - (coef[0] + coef[1] * a)
        mad = np.median(np.abs(res[keep])) * 1.4826
        keep = np.abs(res) <= max(3.0 * mad, 1e-5)
    return np.array([1.0, coef[0], -coef[1]])


# --------------------------------------------------------------------------------------
# coarse: local line directions from tile spectra


@functools.lru_cache(maxsize=4)
def _tile_geometry(t: int):
    """For a t x t tile spectrum (half plane): band mask, normal angle and 0.5 deg bin per bin."""
    fy = np.fft.fftfreq(t)[:, None]
    fx = np.fft.rfftfreq(t)[None, :]
    r = np.hypot(fx, fy)
    band = (r >= _BAND[0]) & (r <= _BAND[1])
    phi = np.broadcast_to(np.degrees(np.arctan2(fy, fx)), band.shape)[band]
    bins = (((phi + 90.0) % 180.0) / 180.0 * 360).astype(np.intp) % 360
    win = np.hanning(t).astype(np.float32)
    win2 = win[:, None] * win[None, :]
    for arr in (band, phi, bins, win2):
        arr.setflags(write=False)
    return band, phi, bins, win2


def _tile_lines(resp: np.ndarray):
    """Local line directions of both families in tiles of the response.

    In every tile the power spectrum's angular histogram has a mode for each
    family (along the family's normals; a grid rotated by ``theta`` degrees CCW
    has them near ``-theta`` and ``90 - theta``), refined by a power^2-weighted
    mean within 1.5 deg; ``theta`` is the mode of all tiles' histograms folded
    onto 90 deg. Returns, per family (horizontal, vertical), arrays
    ``(a, b, w)`` of lines ``across = a + b * along`` through the tile centres
    (centred coordinates; for the horizontal family across = y, along = x, for
    the vertical family the reverse) and weights.
    """
    m, n = resp.shape
    t = min(_TILE, m, n)
    t -= t % 2
    ny, nx = max(1, round(m / t)), max(1, round(n / t))
    ys = np.linspace(0, m - t, ny).round().astype(int)
    xs = np.linspace(0, n - t, nx).round().astype(int)
    band, phi, bins, win2 = _tile_geometry(t)
    rows = []
    for y in ys:
        for x in xs:
            tile = resp[y : y + t, x : x + t].astype(np.float32)
            tile -= np.float32(tile.mean())
            spec = cv2.dft(tile * win2, flags=cv2.DFT_COMPLEX_OUTPUT)[:, : t // 2 + 1]
            rows.append((spec[..., 0] ** 2 + spec[..., 1] ** 2)[band])
    pw = np.asarray(rows, dtype=np.float64)  # (T, B)
    ntile = pw.shape[0]
    cy = np.repeat(ys + (t - 1) / 2.0, xs.size) - (m - 1) / 2.0
    cx = np.tile(xs + (t - 1) / 2.0, ys.size) - (n - 1) / 2.0
    nb = 360
    idx = (np.arange(ntile)[:, None] * nb + bins[None, :]).ravel()
    hist = np.bincount(idx, weights=pw.ravel(), minlength=ntile * nb).reshape(ntile, nb)
    kern = np.exp(-0.5 * (np.arange(-4, 5) / 1.5) ** 2)
    ext = np.concatenate([hist[:, -4:], hist, hist[:, :4]], axis=1)
    smooth = sum(kern[i] * ext[:, i : i + nb] for i in range(kern.size))
    centres = (np.arange(nb) + 0.5) / nb * 180.0 - 90.0
    floor = np.median(smooth, axis=1)
    # the grid's rotation: mode of all tiles' normals folded onto 90 deg
    # (vertical lines have normals at -theta, horizontal ones at 90 - theta)
    folded = smooth.sum(axis=0)
    folded = folded[: nb // 2] + folded[nb // 2 :]
    theta = -float(centres[int(np.argmax(folded))] + 90.0)
    theta = (theta + 45.0) % 90.0 - 45.0
    pw2 = pw**2
    res = []
    for fam_centre, horizontal in ((-theta - 90.0, True), (-theta, False)):
        d = (centres - fam_centre + 90.0) % 180.0 - 90.0
        sm = np.where((np.abs(d) <= 40.0)[None, :], smooth, -1.0)
        k = np.argmax(sm, axis=1)
        mode = centres[k]
        peak = sm[np.arange(ntile), k]
        dd = (phi[None, :] - mode[:, None] + 90.0) % 180.0 - 90.0
        ww = np.where(np.abs(dd) < 1.5, pw2, 0.0)
        sw = ww.sum(axis=1)
        ang = mode + (ww * dd).sum(axis=1) / np.maximum(sw, 1e-300)
        strength = peak / np.maximum(floor, 1e-300)
        # line direction (-sin, cos) of the normal angle
        dx, dy = -np.sin(np.radians(ang)), np.cos(np.radians(ang))
        with np.errstate(divide="ignore", invalid="ignore"):
            b = dy / dx if horizontal else dx / dy
        along, across = (cx, cy) if horizontal else (cy, cx)
        a = across - b * along
        good = np.isfinite(b) & (np.abs(b) < 1.0) & (strength > 4.0) & (sw > 0)
        w = np.log(np.maximum(strength, 1.0))
        res.append((a[good], b[good], w[good]))
    return res


# --------------------------------------------------------------------------------------
# fine: follow every grid line across narrow strips and fit it


def _track_lines(prof: np.ndarray, centres: np.ndarray, tol: float) -> np.ndarray:
    """Follow lines (peaks of strip profiles) from the middle strip outwards.

    ``prof`` (K, L): profiles across the lines of K strips centred at ``centres``
    (along the lines). Each peak of the middle strip seeds a track; in the next
    strip the track takes the nearest peak within ``tol`` of its prediction (a
    running straight-line fit once it has 3 points); a track ends after 5
    misses. Returns ``(tracks, K)`` positions across, NaN where missed.
    """
    kk, pos = strip_peaks(prof)
    nstrip = prof.shape[0]
    per_strip = [np.sort(pos[kk == k]) for k in range(nstrip)]
    mid = nstrip // 2
    seeds = per_strip[mid]
    nt = seeds.size
    out = np.full((nt, nstrip), np.nan)
    if nt == 0:
        return out
    out[:, mid] = seeds
    for step in (1, -1):
        s1 = np.ones(nt)
        sx = np.full(nt, centres[mid])
        sy = seeds.copy()
        sxx = sx * sx
        sxy = sx * sy
        last = seeds.copy()
        misses = np.zeros(nt, int)
        alive = np.ones(nt, bool)
        k = mid + step
        while 0 <= k < nstrip and alive.any():
            x = centres[k]
            den = s1 * sxx - sx * sx
            fit = (s1 >= 3) & (den > 0)
            slope = np.where(fit, (s1 * sxy - sx * sy) / np.where(fit, den, 1.0), 0.0)
            pred = np.where(fit, sy / s1 + slope * (x - sx / s1), last)
            cand = per_strip[k]
            if cand.size:
                j = np.clip(np.searchsorted(cand, pred), 1, max(cand.size - 1, 1))
                left = cand[np.minimum(j - 1, cand.size - 1)]
                right = cand[np.minimum(j, cand.size - 1)]
                found = np.where(np.abs(pred - left) <= np.abs(pred - right), left, right)
                hit = alive & (np.abs(found - pred) <= tol)
            else:
                found = pred
                hit = np.zeros(nt, bool)
            out[hit, k] = found[hit]
            s1 += hit
            sx += np.where(hit, x, 0.0)
            sy += np.where(hit, found, 0.0)
            sxx += np.where(hit, x * x, 0.0)
            sxy += np.where(hit, x * found, 0.0)
            last = np.where(hit, found, last)
            misses = np.where(hit, 0, misses + 1)
            alive &= misses <= 4
            k += step
    return out


def _row_fit(x: np.ndarray, y: np.ndarray, keep: np.ndarray):
    """Per-row least-squares lines ``y = icpt + slope * x`` over the kept entries."""
    w = keep.astype(np.float64)
    yz = np.where(keep, y, 0.0)
    s1 = w.sum(axis=1)
    s1s = np.maximum(s1, 1.0)
    mx = (w * x).sum(axis=1) / s1s
    my = yz.sum(axis=1) / s1s
    dx = (x[None, :] - mx[:, None]) * w
    sxx = (dx * dx).sum(axis=1)
    slope = np.where(
        sxx > 0, (dx * (yz - my[:, None] * w)).sum(axis=1) / np.maximum(sxx, 1e-12), 0.0
    )
    return my - slope * mx, slope, sxx, s1


def _fit_family(work: np.ndarray, horizontal: bool, strip: int):
    """Follow and fit the lines of one family on a near-rectified response.

    Returns ``a, b, w`` of lines ``across = a + b * along`` (centred
    coordinates) with weights, and ``(residual sum of squares, point count)``
    of the fits. Lines must be seen in at least 35 % of the strips over 40 %
    of the length, with an rms residual under a quarter of the line spacing.
    """
    m, n = work.shape
    length = n if horizontal else m  # along the lines
    count = max(8, length // strip)
    width = length // count
    if horizontal:
        blocks = work[:, : count * width].reshape(m, count, width).mean(axis=2).T
        across_c = (m - 1) / 2.0
    else:
        blocks = work[: count * width].reshape(count, width, n).mean(axis=1)
        across_c = (n - 1) / 2.0
    blocks = np.ascontiguousarray(blocks)
    centres = (np.arange(count) + 0.5) * width - 0.5 - (length - 1) / 2.0
    _, pk = strip_peaks(blocks[count // 2][None, :])
    gaps = np.diff(np.sort(pk))
    period = float(np.median(gaps)) if gaps.size >= 4 else 4.0
    tol = float(np.clip(0.3 * period, 0.6, 2.0))
    pos = _track_lines(blocks, centres, tol) - across_c
    empty = np.zeros(0)
    min_pts = max(6, int(0.35 * count))
    keep = np.isfinite(pos)
    pos = np.where(keep, pos, 0.0)
    rows = keep.sum(axis=1) >= min_pts
    pos, keep = pos[rows], keep[rows]
    if pos.shape[0] == 0:
        return empty, empty, empty, (0.0, 0)
    for _ in range(2):
        icpt, slope, _, _ = _row_fit(centres, pos, keep)
        res = pos - (icpt[:, None] + slope[:, None] * centres[None, :])
        mad = np.nanmedian(np.where(keep, np.abs(res), np.nan), axis=1)
        keep &= np.abs(res) <= np.maximum(0.6, 3.0 * 1.4826 * mad)[:, None]
    icpt, slope, sxx, npts = _row_fit(centres, pos, keep)
    res = np.where(keep, pos - (icpt[:, None] + slope[:, None] * centres[None, :]), 0.0)
    rss = (res**2).sum(axis=1)
    rms = np.sqrt(rss / np.maximum(npts, 1.0))
    span = np.where(keep, centres[None, :], np.nan)
    with np.errstate(invalid="ignore"):
        extent = np.nanmax(span, axis=1) - np.nanmin(span, axis=1)
    good = (npts >= min_pts) & (extent >= 0.4 * length) & (rms <= 0.25 * period)
    a, b = icpt[good], slope[good]
    w = sxx[good] / np.maximum(rms[good], 0.05) ** 2
    rss_t, n_t = float(rss[good].sum()), int(npts[good].sum())
    if a.size:
        # the same line followed from two seeds: keep one
        order = np.argsort(a)
        a, b, w = a[order], b[order], w[order]
        dup = np.r_[False, np.diff(a) < 0.3 * period]
        a, b, w = a[~dup], b[~dup], w[~dup]
    return a, b, w, (rss_t, n_t)


# --------------------------------------------------------------------------------------
# public


def _not_found(shape, **kw) -> RectifyResult:
    return RectifyResult(
        homography=as_tuple(np.eye(3)),
        found=False,
        confidence=float(kw.pop("confidence", 0.0)),
        n_lines_h=int(kw.pop("n_lines_h", 0)),
        n_lines_v=int(kw.pop("n_lines_v", 0)),
        residual_px=float(kw.pop("residual_px", float("nan"))),
        output_shape=tuple(shape),
        input_shape=tuple(shape),
        **kw,
    )


def _warp_resp(resp: np.ndarray, h: np.ndarray) -> np.ndarray:
    m, n = resp.shape
    return cv2.warpPerspective(
        resp, h, (n, m), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def rectify_from_grid(
    image: np.ndarray,
    *,
    max_side: int = 1200,
    strip: int = 16,
    refinements: int = 2,
) -> RectifyResult:
    """Measure the homography that makes the ECG grid straight, square and axis-aligned.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        RGB (or gray) image of an ECG printout, e.g. a phone photo of a page that
        fills the frame, seen in perspective.
    max_side : int
        Working resolution: the image is shrunk by a whole factor until its longer
        side is at most this many pixels (>= 256).
    strip : int
        Width (working pixels) of the strips in which grid lines are followed.
    refinements : int
        Number of line-tracking refinements after the coarse estimate (1-5).

    Returns
    -------
    RectifyResult
        Small and frozen. Apply it with :func:`warp`.

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If ``max_side``, ``strip`` or ``refinements`` is out of range.

    Notes
    -----
    1. On the working image the grid line response
       (:func:`ecgprep.grid.grid_response`) is computed. In tiles of 128 px
       the power spectrum gives the local direction of both line
       families (the mode of its angular histogram, refined); each tile is a
       short line, and the lines of a family meet at its vanishing point,
       found by a robust linear fit (slopes are linear in intercepts for
       concurrent lines). The homography sending both points to infinity
       (projective part), then turning the two now-parallel families onto the
       axes (affine part), is the coarse estimate.
    2. Refinement: the response is warped by the current estimate; in narrow
       strips across each family every line is located to sub-pixel precision
       (parabolic peaks of the strip profiles) and followed from the middle
       strip outwards (predicted by a running straight-line fit); each line is
       fitted by a straight line with outlier rejection, the vanishing points
       recomputed from hundreds of lines, and the correction composed.
    3. The rectified working image goes through
       :func:`ecgprep.grid.detect_grid`: its remaining rotation is undone and
       the x and y scales are equalised (1 mm squares are square). The map is
       finally scaled to keep the frame's area and shifted so that the whole
       frame lands in the output.

    Timing: about 80 ms for a 2200 x 1700 image (two cores); :func:`warp` about 12 ms.

    Examples
    --------
    >>> from ecgprep.synth import distort, render_ecg
    >>> r = distort(render_ecg(seed=1, dpi=100), perspective=0.05, seed=2)
    >>> res = rectify_from_grid(r.image)
    >>> res.found, warp(r.image, res).shape[:2] == res.output_shape
    (True, True)
    """
    image = check_image(image, "image")
    if isinstance(max_side, bool) or not isinstance(max_side, int | np.integer) or max_side < 256:
        raise ValueError(f"max_side must be an integer >= 256, got {max_side!r}")
    if isinstance(strip, bool) or not isinstance(strip, int | np.integer) or not 4 <= strip <= 64:
        raise ValueError(f"strip must be an integer within 4-64, got {strip!r}")
    if (
        isinstance(refinements, bool)
        or not isinstance(refinements, int | np.integer)
        or not 1 <= refinements <= 5
    ):
        raise ValueError(f"refinements must be an integer within 1-5, got {refinements!r}")
    shape = (int(image.shape[0]), int(image.shape[1]))
    small, f = downscale(np.ascontiguousarray(image), int(max_side))
    m, n = small.shape[:2]
    if min(m, n) < 64:
        return _not_found(shape)
    resp = grid_response(small)
    if not resp.any():
        return _not_found(shape)
    fams = _tile_lines(resp)
    (ah, bh, wh), (av, bv, wv) = fams
    if ah.size < 6 or av.size < 6:
        return _not_found(shape)
    v_h = _vanishing_point(ah, bh, wh)
    v_v = _vanishing_point(av, bv, wv)
    v_v = v_v[[1, 0, 2]]
    centre = translation(-(n - 1) / 2.0, -(m - 1) / 2.0)
    uncentre = translation((n - 1) / 2.0, (m - 1) / 2.0)
    rect = _rectifier(v_h, v_v)
    if rect is None:
        return _not_found(shape)
    hw = uncentre @ rect @ centre  # working px -> working rectified px
    nh = nv = 0
    residual = float("nan")
    for _ in range(int(refinements)):
        warped = _warp_resp(resp, hw).astype(np.float32)
        ah, bh, wh, (rss_h, np_h) = _fit_family(warped, True, strip)
        av, bv, wv, (rss_v, np_v) = _fit_family(warped, False, strip)
        nh, nv = int(ah.size), int(av.size)
        if nh < _MIN_LINES or nv < _MIN_LINES:
            return _not_found(shape, n_lines_h=nh, n_lines_v=nv)
        residual = math.sqrt((rss_h + rss_v) / max(np_h + np_v, 1)) * f
        v_h = _vanishing_point(ah, bh, wh)
        v_v = _vanishing_point(av, bv, wv)
        v_v = v_v[[1, 0, 2]]
        rect = _rectifier(v_h, v_v)
        if rect is None:
            return _not_found(shape, n_lines_h=nh, n_lines_v=nv)
        hw = uncentre @ rect @ centre @ hw
    # check and finish on the rectified working image
    out_small = cv2.warpPerspective(
        small,
        hw,
        (n, m),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255) if small.ndim == 3 else 255,
    )
    # check on the part of the frame the grid lines cover (a page on a background
    # must not let the background dilute the grid)
    pad = 0.01 * max(m, n)
    y0 = int(np.clip(math.floor(ah.min() + (m - 1) / 2.0 - pad), 0, m - 2))
    y1 = int(np.clip(math.ceil(ah.max() + (m - 1) / 2.0 + pad) + 1, y0 + 2, m))
    x0 = int(np.clip(math.floor(av.min() + (n - 1) / 2.0 - pad), 0, n - 2))
    x1 = int(np.clip(math.ceil(av.max() + (n - 1) / 2.0 + pad) + 1, x0 + 2, n))
    # the input's range of scales at the working scale: a 100 dpi page worked at
    # half size shows its 5 mm lines alone, 2 px/mm apart, which must stay a reading
    g = detect_grid(
        np.ascontiguousarray(out_small[y0:y1, x0:x1]),
        min_px_per_mm=GRID_PX_PER_MM[0] / f,
        max_px_per_mm=GRID_PX_PER_MM[1] / f,
    )
    if not g.found:
        return _not_found(shape, n_lines_h=nh, n_lines_v=nv, residual_px=residual, confidence=0.0)
    ratio = g.px_per_mm_x / g.px_per_mm_y
    if not _MIN_RATIO <= ratio <= 1.0 / _MIN_RATIO:
        # 1 mm lines on one axis read against 5 mm lines on the other: not a grid we trust
        return _not_found(shape, n_lines_h=nh, n_lines_v=nv, residual_px=residual)
    fix = _scale(1.0 / math.sqrt(ratio), math.sqrt(ratio)) @ _rotation(-g.angle_deg)
    hw = uncentre @ fix @ centre @ hw
    # working -> input coordinates
    to_work = shrink_matrix(f)
    from_work = np.linalg.inv(to_work)
    hfull = from_work @ hw @ to_work
    h_in, w_in = shape
    corners = np.array([[0, 0], [w_in - 1, 0], [w_in - 1, h_in - 1], [0, h_in - 1]], float)
    wcoord = np.c_[corners, np.ones(4)] @ hfull[2]
    if not np.all(wcoord > 0):
        # the vanishing line crosses the frame: no sensible rectification
        return _not_found(shape, n_lines_h=nh, n_lines_v=nv, residual_px=residual)
    mapped = apply_homography(hfull, corners)
    area = polygon_area(mapped)
    if not (np.all(np.isfinite(mapped)) and area > 0):
        return _not_found(shape, n_lines_h=nh, n_lines_v=nv, residual_px=residual)
    s = math.sqrt(polygon_area(corners) / area)
    hfull = _scale(s, s) @ hfull
    mapped = apply_homography(hfull, corners)
    lo = np.floor(mapped.min(axis=0))
    hi = np.ceil(mapped.max(axis=0))
    hfull = translation(-lo[0], -lo[1]) @ hfull
    out_w, out_h = int(hi[0] - lo[0]) + 1, int(hi[1] - lo[1]) + 1
    if out_w * out_h > _MAX_AREA_RATIO * h_in * w_in:
        return _not_found(shape, n_lines_h=nh, n_lines_v=nv, residual_px=residual)
    hfull = hfull / hfull[2, 2]
    correction, angle = _non_similarity(hfull, shape)
    conf = (
        g.confidence
        * min(1.0, min(nh, nv) / 20.0)
        * math.exp(-max(0.0, residual - 0.5) / 2.0)
        * math.exp(-abs(g.skew_deg) / 0.5)
    )
    if conf < _MIN_CONFIDENCE:
        return _not_found(shape, n_lines_h=nh, n_lines_v=nv, residual_px=residual, confidence=conf)
    return RectifyResult(
        homography=as_tuple(hfull),
        found=True,
        confidence=float(np.clip(conf, 0.0, 1.0)),
        n_lines_h=nh,
        n_lines_v=nv,
        residual_px=float(residual),
        output_shape=(out_h, out_w),
        input_shape=shape,
        correction_px=float(correction),
        angle_deg=float(angle),
        skew_deg=float(g.skew_deg),
        ratio=float(ratio),
        # the working grid's scale, made square (fix), to input px (f), area kept (s)
        px_per_mm=float(math.sqrt(g.px_per_mm_x * g.px_per_mm_y) * f * s),
    )


def _non_similarity(h: np.ndarray, shape) -> tuple[float, float]:
    """Max deviation (input px) of ``h`` from its best similarity, and that similarity's angle."""
    m, n = shape
    gx, gy = np.meshgrid(np.linspace(0, n - 1, 9), np.linspace(0, m - 1, 7))
    src = np.c_[gx.ravel(), gy.ravel()]
    dst = apply_homography(h, src)
    # similarity dst = [[a, -b], [b, a]] src + t  (least squares)
    sc = src - src.mean(axis=0)
    dc = dst - dst.mean(axis=0)
    den = float(np.sum(sc**2))
    a = float(np.sum(sc[:, 0] * dc[:, 0] + sc[:, 1] * dc[:, 1])) / den
    b = float(np.sum(sc[:, 0] * dc[:, 1] - sc[:, 1] * dc[:, 0])) / den
    fit = np.c_[a * sc[:, 0] - b * sc[:, 1], b * sc[:, 0] + a * sc[:, 1]]
    scale = math.hypot(a, b)
    dev = np.hypot(*(dc - fit).T) / max(scale, 1e-12)
    # the map rotates points by atan2(b, a) in (x, y-down): CCW on screen is negative
    angle_removed = math.degrees(math.atan2(b, a))
    return float(dev.max()), float(angle_removed)


def warp(image: np.ndarray, result: RectifyResult, *, border_value=255) -> np.ndarray:
    """Apply a :class:`RectifyResult` to the image it was measured on.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) ndarray of uint8
        The image given to :func:`rectify_from_grid`.
    result : RectifyResult
        Its result. When ``found`` is False a copy of ``image`` is returned.
    border_value : int or tuple
        Fill for output pixels outside the input frame (white by default).

    Returns
    -------
    out : (H, W, 3) or (H, W) ndarray of uint8
        ``(H, W) = result.output_shape``; bicubic interpolation.

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.
    ValueError
        If ``result`` is not a RectifyResult or was measured on an image of
        another shape.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((60, 80, 3), 255, np.uint8)
    >>> warp(img, rectify_from_grid(img)).shape
    (60, 80, 3)
    """
    image = check_image(image, "image")
    if not isinstance(result, RectifyResult):
        raise ValueError(f"result must be a RectifyResult, got {type(result).__name__}")
    if tuple(image.shape[:2]) != tuple(result.input_shape):
        raise ValueError(
            f"image shape {image.shape[:2]} differs from the shape the homography was "
            f"measured on {result.input_shape}"
        )
    if not result.found:
        return image.copy()
    if image.ndim == 3 and np.isscalar(border_value):
        border_value = (border_value,) * 3
    h, w = result.output_shape
    out = cv2.warpPerspective(
        np.ascontiguousarray(image),
        result.matrix,
        (int(w), int(h)),
        flags=cv2.INTER_CUBIC,  # a thin trace keeps its contrast (see edges.warp_to_paper)
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border_value,
    )
    return np.ascontiguousarray(out)


#: Bare frame kept around a warped page's marks (mm) when its bare margins are
#: trimmed (:func:`marked_box`): room for a stroke's blur and a faint edge.
TRIM_MARGIN_MM = 5.0
#: A mark stands this many grey levels under the light around it (black-hat of
#: the darkest channel): a faint pink grid line's 20-40, a bare bed's noise under 8.
TRIM_MARK_LEVELS = 16
#: A row or column holds marks when this share of its pixels are marks: a few
#: specks of dust on a scanner's lid do not count (6 px of 1200).
TRIM_MIN_SHARE = 0.005
#: Working side (px) of the search for marks.
TRIM_MAX_SIDE = 1200


def marked_box(image: np.ndarray, *, px_per_mm: float) -> tuple[int, int, int, int] | None:
    """The box holding a page's marks (grid, traces, text), with a bare frame around.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        A page, as a warp left it: a page tilted on a scanner bed of its own
        colour, turned upright, sits in a frame of bare bed and fill.
    px_per_mm : float
        Scale, for :data:`TRIM_MARGIN_MM`.

    Returns
    -------
    tuple of int or None
        ``(x0, y0, x1, y1)`` (end exclusive, within the image), widened by
        :data:`TRIM_MARGIN_MM`; None when nothing is marked.

    Notes
    -----
    Marks are dark against their surroundings: the grey closing of the darkest
    channel less that channel (:data:`TRIM_MARK_LEVELS`), over a kernel of 2 mm,
    computed at :data:`TRIM_MAX_SIDE` after an erosion that keeps thin lines. A
    bed's even tone, however dark, holds none; the shadow at a page's edge does.
    The box holds the rows and columns with :data:`TRIM_MIN_SHARE` of marks,
    and the unbroken run of rows and columns beside them holding any.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((100, 200), 255, np.uint8)
    >>> img[40:60, 50:150:5] = 120  # a patch of lines
    >>> marked_box(img, px_per_mm=2.0)
    (40, 30, 156, 70)
    """
    image = check_image(image, "image")
    px_per_mm = check_positive(px_per_mm, "px_per_mm")
    dark = image.min(axis=2) if image.ndim == 3 else image
    m, n = dark.shape
    step = max(1, int(math.ceil(max(m, n) / TRIM_MAX_SIDE)))
    if step > 1:  # the darkest of each step x step block: a 1 px line survives
        dark = cv2.erode(dark, np.ones((step, step), np.uint8))
        dark = dark[step // 2 :: step, step // 2 :: step]
    k = max(3, int(round(2.0 * px_per_mm / step)) | 1)
    hat = cv2.morphologyEx(dark, cv2.MORPH_BLACKHAT, np.ones((k, k), np.uint8))
    marks = hat >= TRIM_MARK_LEVELS
    rows = np.flatnonzero(marks.mean(axis=1) >= TRIM_MIN_SHARE)
    cols = np.flatnonzero(marks.mean(axis=0) >= TRIM_MIN_SHARE)
    if rows.size == 0 or cols.size == 0:
        return None
    # grown through the rows (columns) next to it holding any mark: a tall R wave
    # rising out of the grid into a bare header is a mark too thin to count
    r0, r1 = _grown(marks.any(axis=1), int(rows[0]), int(rows[-1]))
    c0, c1 = _grown(marks.any(axis=0), int(cols[0]), int(cols[-1]))
    pad = TRIM_MARGIN_MM * px_per_mm
    x0 = max(0, int(math.floor(c0 * step + step // 2 - pad)))
    y0 = max(0, int(math.floor(r0 * step + step // 2 - pad)))
    x1 = min(n, int(math.ceil(c1 * step + step // 2 + 1 + pad)))
    y1 = min(m, int(math.ceil(r1 * step + step // 2 + 1 + pad)))
    return x0, y0, x1, y1


def _grown(marked: np.ndarray, lo: int, hi: int) -> tuple[int, int]:
    """``lo``, ``hi`` moved out over the unbroken run of ``True`` next to each."""
    before = np.flatnonzero(~marked[:lo])
    after = np.flatnonzero(~marked[hi + 1 :])
    return (int(before[-1]) + 1 if before.size else 0), (
        hi + int(after[0]) if after.size else marked.size - 1
    )


@dataclass(frozen=True)
class PerspectiveResult:
    """Perspective undone from the grid's own lines.

    ``reason`` is ``'disabled'`` (option ``rectify`` off), ``'not found'`` (no
    grid lines to measure), ``'turned'`` (no straight lines fitted, the page
    only turned upright by its grid's angle before its curl was measured:
    :data:`CURL_TURN_DEG`), ``'not needed'`` (the page's outline was warped
    already, the grid is square and unsheared, or the map would move no pixel by
    more than 2 px beyond a rotation and scale, which deskew handles; a page
    whose outline was warped, unless its grid is not found after it) or
    ``'applied'`` (``applied`` is True for it only: a page turned is no
    perspective undone). ``homography`` maps the input pixels to the warped
    (or turned) page's; ``curl`` (:class:`ecgprep.dewarp.CurlResult`, None when
    the lines' bend was not measured) then straightens the lines that still
    bend, where it was applied (``curl.applied``;
    :func:`ecgprep.dewarp.curl_source` maps points back through it); ``offset``
    ``(x0, y0)`` is where the output's top-left pixel stood in that straightened
    page before its bare margins were trimmed (:func:`marked_box`, warped pages
    only): a point ``p`` of it is ``p - offset`` in the output, of ``shape``.
    """

    applied: bool
    reason: str
    rectify: Any
    homography: tuple = field(repr=False)
    shape: tuple[int, int]
    curl: Any = None
    offset: tuple[int, int] = (0, 0)


#: A grid this confident, this square and this little sheared needs no perspective correction.
SQUARE_GRID = {"confidence": 0.9, "skew_deg": 0.1, "aspect_tolerance": 0.003}
#: A page whose lines no straight ones fit, turned by more than this (degrees)
#: as its grid reads, is turned upright before its bend is measured
#: (:func:`undo_perspective`): the bend's polynomial takes a turn for a shear.
CURL_TURN_DEG = 1.0
#: A correction moving no pixel by more than this (px) beyond a similarity is not applied.
MIN_CORRECTION_PX = 2.0


def undo_perspective(
    image: np.ndarray, *, enabled: bool = True, paper_warped: bool = False
) -> tuple[np.ndarray, PerspectiveResult, Any]:
    """Rectify a page seen in perspective (a photo whose page fills the frame), then its curl.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        The (cropped) page.
    enabled : bool
        False returns the image untouched (reason ``'disabled'``).
    paper_warped : bool
        The paper's outline was warped to a rectangle already: exact for a flat
        page, and a second resampling would only blur (its bend is still
        measured, and taken out). Unless no grid is found on it, or its lines
        are sheared (``SQUARE_GRID["skew_deg"]``: an outline found a few pixels
        off at a corner, on a desk nearly as light as the paper): a page that
        did not lie flat, the warp of its outline leaving its lines stretched
        and skewed, is rectified from its lines as any other.

    Notes
    -----
    Unless the grid is square, unsheared and confident on the page as it is, the
    bend its lines keep once the perspective is undone (a page that does not
    lie flat), or that kept straight lines from being fitted to them, is then
    measured (:func:`ecgprep.dewarp.measure_curl`) and taken out when it is
    large enough (:func:`ecgprep.dewarp.uncurl`).

    Returns
    -------
    out : ndarray
        The rectified page, or ``image`` itself.
    PerspectiveResult
        What was done and why.
    grid : GridResult or None
        The grid measured on ``out`` when one was (it is then reused downstream).
    """
    eye = as_tuple(np.eye(3))
    if not enabled:
        return image, PerspectiveResult(False, "disabled", None, eye, image.shape[:2]), None
    g = detect_grid(image)
    if paper_warped and g.found and abs(float(g.skew_deg)) <= SQUARE_GRID["skew_deg"]:
        # exact for a flat page; a page that does not lie flat still bends. An
        # outline found a few pixels off at a corner leaves the grid's lines
        # sheared: they are followed as on any other page
        curl = measure_curl(image, px_per_mm=g.px_per_mm_x)
        res = PerspectiveResult(False, "not needed", None, eye, image.shape[:2], curl)
        out = uncurl(image, curl)
        return out, res, (g if out is image else None)
    # (a page whose outline was warped and whose grid is still not found: a
    # photo of a page that did not lie flat, its outline's warp leaving it
    # stretched and skewed; its lines are followed as on any other page)
    if (
        g.found
        and g.confidence >= SQUARE_GRID["confidence"]
        and abs(float(g.skew_deg)) <= SQUARE_GRID["skew_deg"]
        and abs(float(g.px_per_mm_x) / float(g.px_per_mm_y) - 1.0)
        <= SQUARE_GRID["aspect_tolerance"]
    ):
        return image, PerspectiveResult(False, "not needed", None, eye, image.shape[:2]), g
    r = rectify_from_grid(image)
    if r.found and r.correction_px > MIN_CORRECTION_PX:
        out = warp(image, r)
        reason, h = "applied", as_tuple(r.matrix)
    elif (
        not r.found
        and max(r.n_lines_h, r.n_lines_v) >= _MIN_LINES
        and abs(float(g.angle_deg)) >= CURL_TURN_DEG
    ):
        # no straight lines fit a page that bends (a curled page on a scanner's
        # lid, its outline unseen; one family of its lines was followed, so the
        # grid's angle is no guess): turned upright by its grid's angle, so that
        # its bend is measured on upright lines, as on a page whose outline was
        # warped; the deskew station takes out what angle is left
        out, mat = rotate(image, -float(g.angle_deg), cubic=True)
        reason, h = "turned", as_tuple(mat)
    else:
        out, reason, h = image, ("not needed" if r.found else "not found"), eye
    # what bend is left (a page that does not lie flat, lines that bent too much
    # for straight ones to be fitted): taken out too
    scale = r.px_per_mm if r.found else (g.px_per_mm_x if g.found else None)
    curl = measure_curl(out, px_per_mm=scale)
    if curl.applied:
        out = uncurl(out, curl)
    offset = (0, 0)
    box = marked_box(out, px_per_mm=scale) if reason == "applied" else None
    if box is not None:
        # the warp's frame holds the input's whole frame: bare bed and fill around
        # a page tilted on a bed of its colour (its grid over half the frame).
        # Trimmed after the curl, which is measured best with the bare margins in:
        # faint 1 mm lines stand out of them and are followed too
        x0, y0, x1, y1 = box
        out = np.ascontiguousarray(out[y0:y1, x0:x1])
        offset = (x0, y0)
    res = PerspectiveResult(reason == "applied", reason, r, h, out.shape[:2], curl, offset)
    return out, res, (g if out is image else None)


def perspective_station(page: Page, opts: Options) -> tuple[Page, PerspectiveResult]:
    """Perspective station: :func:`undo_perspective`; a grid it measured travels on."""
    image, res, g = undo_perspective(
        page.image, enabled=opts.rectify, paper_warped=page.paper_warped
    )
    return dataclasses.replace(page, image=image, grid=g), res
