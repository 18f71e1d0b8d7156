"""Curl from the grid itself: straighten a page whose grid lines bend.

A printout photographed while it curls, sags or lies over a fold shows grid
lines that bend: no homography (:mod:`ecgprep.rectify`) makes them straight.
The rows of trace then start at different times on the page (the pulse of the
bottom row a few mm left of the top row's), so leads printed above one another
no longer line up in time, and their baselines bow.

:func:`measure_curl` follows every grid line of both families across narrow
strips and fits one smooth displacement per family: how far each point of the
page stands from where straight, axis-aligned, evenly spaced lines would put
it. :func:`uncurl` resamples the page so that the lines are straight again.

Conventions
-----------
- The displacements are polynomials of the page's normalised coordinates
  ``u = (x - cx) / (w / 2)``, ``v = (y - cy) / (h / 2)`` (pixel centres at
  integers): ``dx(u, v)`` moves the vertical lines, ``dy(u, v)`` the horizontal
  ones. Their bend terms (:func:`_bend_powers`) hold ``v`` in ``dx`` and ``u`` in
  ``dy``: they straighten a line through its place on the page's middle row
  (column). Their spacing terms (:func:`_spacing_powers`, of degree 2 and more)
  move whole lines so that they stand evenly apart, as a perspective that was
  not undone leaves them; the page keeps its place and mean scale.
- An input point ``(x, y)`` goes to ``(x - dx, y - dy)`` (:func:`curl_target`);
  :func:`uncurl` inverts that map by fixed-point iteration on a coarse mesh
  (:func:`curl_source`).
- A page that does not curl measures ``applied=False`` with a small
  ``shift_px``: :func:`uncurl` then returns the image itself (no resampling blur).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ._geometry import downscale
from ._validate import check_image
from .grid import grid_response

__all__ = ["CurlResult", "curl_source", "curl_target", "measure_curl", "uncurl"]

#: Degree of the displacement polynomials in each coordinate: a page that sags
#: in the middle and lifts at both ends (a cubic bend) and a corner that lifts.
CURL_DEGREE = 3
#: Working resolution (px, longer side): the 5 mm lines stay 15 px or more apart
#: on a page of 200 dpi and more, the 1 mm lines may blur together.
CURL_MAX_SIDE = 1600
#: Height of the strips across which lines are followed (working px): short
#: enough that a line leaning 10 degrees moves under 1.5 px from one to the next.
CURL_STRIP_PX = 8
#: A line is followed while it is seen in at least this share of the strips ...
CURL_MIN_SEEN = 0.3
#: ... and at least this many lines of each family are needed to fit its bend.
CURL_MIN_LINES = 8
#: Smallest bend worth resampling the page for (mm, the largest displacement
#: over the page, at its corners): 0.04 s or 0.1 mV there. At 0.5 mm two flat
#: real scans were resampled for bends of 0.6-0.7 mm at the fit's own noise,
#: and one read 2.2 dB worse by Einthoven's law.
CURL_MIN_SHIFT_MM = 1.0
#: Largest displacement believed (mm): a bend larger than this is a wrong fit
#: (lines followed onto their neighbours), not a page.
CURL_MAX_SHIFT_MM = 25.0
#: Farthest the followed lines may stand from the fitted map on average (rms, mm)
#: for it to be trusted: lines followed onto their neighbours, or text and
#: trace taken for lines, stand farther off.
CURL_MAX_RESIDUAL_MM = 0.1
#: Long side of a page (mm) when the grid's scale is not given: A4 and US letter
#: landscape, less margins.
PAGE_LONG_MM = 280.0
#: Mesh step (output px) on which the inverse map is computed before it is
#: interpolated to every pixel: the displacement is smooth at that scale.
CURL_MESH_PX = 16


@dataclass(frozen=True)
class CurlResult:
    """The bend of a page's grid lines, measured by :func:`measure_curl`.

    Attributes
    ----------
    applied : bool
        The bend is large enough (:data:`CURL_MIN_SHIFT_MM`) and well measured to
        be taken out: :func:`uncurl` resamples the page.
    reason : str
        ``'applied'``, ``'not needed'`` (lines straight to within
        :data:`CURL_MIN_SHIFT_MM`), ``'not found'`` (too few lines followed) or
        ``'not trusted'`` (the lines stand too far from the fit,
        :data:`CURL_MAX_RESIDUAL_MM`, or it moves them too far,
        :data:`CURL_MAX_SHIFT_MM`).
    shift_px : float
        Largest displacement over the grid's lines (input px; :func:`_seen_box`).
    residual_px : float
        RMS distance of the followed line points from the fitted bend (input px,
        points far from it left out); ``straight_px`` from straight upright lines.
    straight_px : float
    n_lines_x, n_lines_y : int
        Vertical and horizontal lines followed.
    shape : tuple of int
        ``(height, width)`` of the measured image.
    coef_x, coef_y : tuple of float
        Coefficients of ``dx`` and ``dy`` (input px), in the order of
        :func:`_powers`.
    """

    applied: bool
    reason: str
    shift_px: float
    residual_px: float
    straight_px: float
    n_lines_x: int
    n_lines_y: int
    shape: tuple[int, int]
    coef_x: tuple = field(default=(), repr=False)
    coef_y: tuple = field(default=(), repr=False)


def _bend_powers(vertical: bool) -> list[tuple[int, int]]:
    """Exponents ``(i, j)`` of the terms ``u**i * v**j`` that bend one family's lines.

    Degree :data:`CURL_DEGREE` in each coordinate; for the vertical lines every
    term holds ``v`` (j >= 1), for the horizontal ones every term holds ``u``
    (i >= 1): they move a line's points along it differently, not the line.
    """
    d = CURL_DEGREE
    return [(i, j) for i in range(d + 1) for j in range(d + 1) if (j if vertical else i) > 0]


def _spacing_powers(vertical: bool) -> list[tuple[int, int]]:
    """Exponents of the terms that move whole lines: spacing that grows or shrinks
    across the page (a page seen in perspective), of degree 2 to :data:`CURL_DEGREE`."""
    return [(i, 0) if vertical else (0, i) for i in range(2, CURL_DEGREE + 1)]


def _powers(vertical: bool) -> list[tuple[int, int]]:
    """Exponents of all the terms of one family's displacement: bend, then spacing."""
    return _bend_powers(vertical) + _spacing_powers(vertical)


def _terms(u: np.ndarray, v: np.ndarray, *, vertical: bool, bend: bool = False) -> np.ndarray:
    """Terms ``u**i * v**j`` of one family (:func:`_powers`, or :func:`_bend_powers`
    only); shape ``(len(u), n_terms)``."""
    powers = _bend_powers(vertical) if bend else _powers(vertical)
    return np.stack([u**i * v**j for i, j in powers], axis=-1)


def strip_peaks(prof: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel local maxima of each profile row: (row index, position).

    Peaks must rise above the row's 20th percentile by 15 % of its 20-95 %
    range, so faint 1 mm lines are ignored where 5 mm lines dominate. Shared
    with :mod:`ecgprep.rectify`, which follows grid lines the same way.
    """
    c = prof[:, 1:-1]
    lo, hi = prof[:, :-2], prof[:, 2:]
    q = np.percentile(prof, [20, 95], axis=1)
    thr = (q[0] + 0.15 * np.maximum(q[1] - q[0], 1e-6))[:, None]
    k, j = np.nonzero((c > lo) & (c >= hi) & (c > thr))
    y0, y1, y2 = lo[k, j], c[k, j], hi[k, j]
    den = y0 - 2.0 * y1 + y2
    off = np.where(den < 0, 0.5 * (y0 - y2) / np.where(den < 0, den, -1.0), 0.0)
    return k, j + 1 + np.clip(off, -0.5, 0.5)


def _normalised(x, y, shape) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(x, y)`` of an image of ``shape`` as ``(u, v)`` (see Conventions)."""
    m, n = shape
    return (x - (n - 1) / 2.0) / (n / 2.0), (y - (m - 1) / 2.0) / (m / 2.0)


def _offsets(x, y, shape, cx, cy) -> tuple[np.ndarray, np.ndarray]:
    """``dx``, ``dy`` at the points ``(x, y)`` for the coefficients ``cx``, ``cy``."""
    u, v = _normalised(x, y, shape)
    return _terms(u, v, vertical=True) @ cx, _terms(u, v, vertical=False) @ cy


def _mesh(shape, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a mesh of every ``step``-th pixel of ``shape`` (and the last)."""
    m, n = shape
    ys = np.r_[np.arange(0, m, step), m - 1].astype(np.float64)
    xs = np.r_[np.arange(0, n, step), n - 1].astype(np.float64)
    return ys, xs


def _peaks(prof: np.ndarray) -> list[np.ndarray]:
    """:func:`strip_peaks` of each profile row, sorted, row by row."""
    k, pos = strip_peaks(prof)
    return [np.sort(pos[k == r]) for r in range(prof.shape[0])]


def _follow(per_strip: list[np.ndarray], tol: float) -> np.ndarray:
    """Follow lines from the middle strip outwards, each predicted from its own last moves.

    Returns ``(lines, strips)`` positions, NaN where a line was not seen. A line
    takes the nearest peak within ``tol`` of its prediction (its last position
    moved on by its smoothed drift per strip), and ends after 4 misses running.
    """
    n = len(per_strip)
    mid = n // 2
    seeds = per_strip[mid]
    out = np.full((seeds.size, n), np.nan)
    if seeds.size == 0:
        return out
    out[:, mid] = seeds
    for step in (1, -1):
        last = seeds.copy()
        drift = np.zeros(seeds.size)
        gap = np.ones(seeds.size)
        alive = np.ones(seeds.size, bool)
        k = mid + step
        while 0 <= k < n and alive.any():
            pred = last + drift * gap
            cand = per_strip[k]
            if cand.size:
                j = np.clip(np.searchsorted(cand, pred), 1, max(cand.size - 1, 1))
                left = cand[np.minimum(j - 1, cand.size - 1)]
                right = cand[np.minimum(j, cand.size - 1)]
                found = np.where(np.abs(pred - left) <= np.abs(pred - right), left, right)
                hit = alive & (np.abs(found - pred) <= tol)
            else:
                found, hit = pred, np.zeros(seeds.size, bool)
            out[hit, k] = found[hit]
            move = (found - last) / gap
            drift = np.where(hit, 0.5 * drift + 0.5 * move, drift)
            last = np.where(hit, found, last)
            gap = np.where(hit, 1.0, gap + 1.0)
            alive &= gap <= 4
            k += step
    return out


def _family(resp: np.ndarray, *, vertical: bool):
    """Line points of one family: ``(along, across, line id)`` in working px."""
    work = resp if vertical else resp.T  # lines run down the rows of `work`
    m, n = work.shape
    count = m // CURL_STRIP_PX
    if count < 8:
        return None
    prof = work[: count * CURL_STRIP_PX].reshape(count, CURL_STRIP_PX, n).mean(axis=1)
    per_strip = _peaks(prof.astype(np.float64))
    gaps = np.diff(per_strip[count // 2])
    if gaps.size < 4:
        return None
    period = float(np.median(gaps))
    tol = float(np.clip(0.3 * period, 0.75, 3.0))
    lines = _follow(per_strip, tol)
    seen = np.isfinite(lines).sum(axis=1) >= CURL_MIN_SEEN * count
    lines = lines[seen]
    if lines.shape[0] < CURL_MIN_LINES:
        return None
    along = (np.arange(count) + 0.5) * CURL_STRIP_PX - 0.5
    ids, strips = np.nonzero(np.isfinite(lines))
    return along[strips], lines[ids, strips], ids


def _line_medians(values: np.ndarray, ids: np.ndarray, keep: np.ndarray, nl: int) -> np.ndarray:
    """Median of the kept ``values`` of each line ``0 .. nl - 1`` (NaN where none is kept)."""
    out = np.full(nl, np.nan)
    order = np.lexsort((values, ids))
    order = order[keep[order]]
    sid, sval = ids[order], values[order]
    starts = np.searchsorted(sid, np.arange(nl))
    ends = np.searchsorted(sid, np.arange(nl), side="right")
    has = ends > starts
    lo = (starts + ends - 1) // 2
    hi = (starts + ends) // 2
    out[has] = 0.5 * (sval[lo[has]] + sval[hi[has]])
    return out


def _fit(along, across, ids, *, vertical: bool, shape, iterations: int = 4):
    """Fit a line's own position per line and the family's bend; robust to strays.

    Returns ``(coef, residual rms, straight rms, kept lines)`` in the
    coordinates given (working px).
    """
    x, y = (across, along) if vertical else (along, across)
    u, v = _normalised(x, y, shape)
    basis = _terms(u, v, vertical=vertical, bend=True)
    nl = int(ids.max()) + 1
    keep = np.ones(across.size, bool)
    coef = np.zeros(basis.shape[1])
    bend = np.zeros(across.size)
    for _ in range(iterations):
        # each line's own position: the median of its points less the bend
        off = across - _line_medians(across - bend, ids, keep, nl)[ids]
        ok = keep & np.isfinite(off)
        coef, *_ = np.linalg.lstsq(basis[ok], off[ok], rcond=None)
        bend = basis @ coef
        res = np.where(np.isfinite(off), off - bend, np.inf)
        mad = np.median(np.abs(res[ok])) + 1e-6
        keep = np.abs(res) <= max(3.0 * 1.4826 * mad, 0.5)
    bent = across - _line_medians(across - bend, ids, keep, nl)[ids] - bend
    straight = across - _line_medians(across, ids, keep, nl)[ids]
    ok = keep & np.isfinite(straight) & np.isfinite(bent)
    # rms over the points the fit kept (strays left out): a bend that is large in
    # one corner only still counts in full
    rms = float(np.sqrt(np.mean(bent[ok] ** 2)))
    rms0 = float(np.sqrt(np.mean(straight[ok] ** 2)))
    own = _line_medians(across - bend, ids, keep, nl)
    return coef, rms, rms0, int(np.unique(ids[ok]).size), own[np.isfinite(own)]


#: Gaps between neighbouring lines taken for the finest spacing: under this
#: many times the 10th percentile of the gaps (1 mm lines where they are seen,
#: not the 5 mm lines seen alone where the 1 mm lines fade).
SPACING_FINE_SHARE = 1.5
#: Largest rms (share of the spacing) of the lines' places about a smooth
#: function of their count: a line missed or a stray taken for one shows.
SPACING_MAX_RMS = 0.15


def _spacing(own: np.ndarray, size: int) -> np.ndarray:
    """Coefficients of the spacing terms (:func:`_spacing_powers`) that make lines evenly spaced.

    ``own`` holds the lines' places across them (px) on an image ``size`` px
    across. Each line is counted from its neighbour by its gap in whole
    spacings; the places against the counts, less their straight-line fit, are
    how far each line stands from an even grid, fitted as a polynomial of the
    normalised place. Zeros when the lines are too few, or their counts do not
    fit a smooth spacing (:data:`SPACING_MAX_RMS`).
    """
    k = len(_spacing_powers(True))
    a = np.sort(own)
    gaps = np.diff(a)
    gaps = gaps[gaps > 0]
    if gaps.size < CURL_MIN_LINES:
        return np.zeros(k)
    fine = gaps[gaps < SPACING_FINE_SHARE * np.percentile(gaps, 10)]
    step = float(np.median(fine)) if fine.size else float(np.median(gaps))
    if not step > 0:
        return np.zeros(k)
    count = np.r_[0.0, np.cumsum(np.maximum(np.round(np.diff(a) / step), 0.0))]
    u = (a - (size - 1) / 2.0) / (size / 2.0)
    # the places as a smooth function of the count: a gap miscounted shows
    smooth = np.polyval(np.polyfit(count, a, CURL_DEGREE), count)
    if np.sqrt(np.mean((a - smooth) ** 2)) > SPACING_MAX_RMS * step:
        return np.zeros(k)
    even = np.polyval(np.polyfit(count, a, 1), count)
    # off = a - even as a polynomial of u; its constant and linear parts (a shift,
    # the scale) are fitted but left: the page keeps its place and mean scale
    basis = np.stack([u**i for i in range(CURL_DEGREE + 1)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, a - even, rcond=None)
    return coef[2:]


def measure_curl(image: np.ndarray, *, px_per_mm: float | None = None) -> CurlResult:
    """Measure how a page's grid lines bend.

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        The page, its perspective undone (:func:`ecgprep.rectify.undo_perspective`):
        what is left of its lines' bend is curl.
    px_per_mm : float, optional
        Grid scale, for the thresholds in mm; when not given (or not finite),
        the page is taken to fill the image and to be 280 mm long.

    Returns
    -------
    CurlResult
        Small and frozen; apply it with :func:`uncurl`.

    Raises
    ------
    InvalidImageError
        If ``image`` is not a uint8 image.

    Notes
    -----
    The grid response (:func:`ecgprep.grid.grid_response`) is computed at a
    working scale (:data:`CURL_MAX_SIDE`). Per family, profiles across the
    lines in strips :data:`CURL_STRIP_PX` tall give each line's position to
    sub-pixel precision; lines are followed from the middle strip outwards,
    each predicted from its own drift, so a line leaning more and more is not
    lost. Each line's own position and the family's bend (a polynomial of
    degree :data:`CURL_DEGREE`, :func:`_terms`) are fitted in turn, points far
    from the fit left out.

    Examples
    --------
    >>> from ecgprep.synth import distort, render_ecg
    >>> flat = render_ecg(seed=1, dpi=100).image
    >>> measure_curl(flat).applied
    False
    """
    image = check_image(image, "image")
    shape = (int(image.shape[0]), int(image.shape[1]))
    small, f = downscale(np.ascontiguousarray(image), CURL_MAX_SIDE)
    resp = grid_response(small).astype(np.float32)
    fits, xs, ys = [], [], []
    for vertical in (True, False):
        fam = _family(resp, vertical=vertical)
        if fam is None:
            return CurlResult(False, "not found", 0.0, float("nan"), float("nan"), 0, 0, shape)
        along, across, ids = fam
        fits.append(_fit(along, across, ids, vertical=vertical, shape=resp.shape))
        xs.append(across if vertical else along)
        ys.append(along if vertical else across)
    (cx, rx, sx, nx, own_x), (cy, ry, sy, ny, own_y) = fits
    # the lines' bend, and the spacing that makes them even, in input px
    cx = np.r_[cx, _spacing(own_x, resp.shape[1])] * f
    cy = np.r_[cy, _spacing(own_y, resp.shape[0])] * f
    straight = float(np.hypot(sx, sy) / np.sqrt(2)) * f
    resid = float(np.hypot(rx, ry) / np.sqrt(2)) * f
    mm = float(px_per_mm) if px_per_mm and np.isfinite(px_per_mm) else max(shape) / PAGE_LONG_MM
    box = _seen_box(np.concatenate(xs) * f, np.concatenate(ys) * f, shape)
    dx, dy = _displacement(shape, cx, cy, step=CURL_MESH_PX, box=box)
    shift = float(max(np.abs(dx).max(), np.abs(dy).max()))
    if shift < CURL_MIN_SHIFT_MM * mm:
        reason = "not needed"
    elif shift > CURL_MAX_SHIFT_MM * mm or resid > CURL_MAX_RESIDUAL_MM * mm:
        reason = "not trusted"
    else:
        reason = "applied"
    return CurlResult(
        reason == "applied",
        reason,
        shift,
        resid,
        straight,
        nx,
        ny,
        shape,
        tuple(float(c) for c in cx),
        tuple(float(c) for c in cy),
    )


#: Share of the followed line points left out at each side of the box where the
#: bend is judged (:func:`_seen_box`): a stray peak in the margin does not widen it.
CURL_BOX_TRIM = 0.005


def _seen_box(x: np.ndarray, y: np.ndarray, shape) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` (input px) holding the followed line points.

    The bend is measured there and not over the whole image: a page tilted on a
    scanner bed fills the frame's corners with bare bed, where the fitted
    polynomial is an extrapolation (a real GE page tilted 7 degrees: 25 mm at a
    corner, 11 mm over its grid, as upright).
    """
    m, n = shape
    if x.size == 0:
        return 0.0, 0.0, float(n - 1), float(m - 1)
    q = (100 * CURL_BOX_TRIM, 100 * (1 - CURL_BOX_TRIM))
    x0, x1 = np.percentile(x, q)
    y0, y1 = np.percentile(y, q)
    return float(x0), float(y0), float(x1), float(y1)


def _displacement(shape, coef_x, coef_y, *, step: int, box=None):
    """``dx``, ``dy`` (input px) on a mesh of every ``step``-th input pixel (and the last).

    ``box`` (``(x0, y0, x1, y1)``, input px), when given, keeps the mesh's nodes
    inside it, and its edges.
    """
    ys, xs = _mesh(shape, step)
    if box is not None:
        x0, y0, x1, y1 = box
        xs = np.r_[x0, xs[(xs > x0) & (xs < x1)], x1]
        ys = np.r_[y0, ys[(ys > y0) & (ys < y1)], y1]
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    return _offsets(xx, yy, shape, coef_x, coef_y)


def uncurl(image: np.ndarray, result: CurlResult, *, border_value: int = 255) -> np.ndarray:
    """Resample ``image`` so that its grid lines run straight (:func:`measure_curl`).

    Parameters
    ----------
    image : (M, N, 3) or (M, N) uint8 ndarray
        The image measured (same shape as ``result.shape``).
    result : CurlResult
    border_value : int
        Fill where the map reaches outside the image.

    Returns
    -------
    ndarray
        Same shape and dtype; ``image`` itself when ``result.applied`` is False.

    Raises
    ------
    ValueError
        If ``image`` does not have the measured shape.
    """
    image = check_image(image, "image")
    if not result.applied:
        return image
    m, n = image.shape[:2]
    if (m, n) != tuple(result.shape):
        raise ValueError(f"image shape {(m, n)} differs from the measured {tuple(result.shape)}")
    cx, cy = _coefs(result.coef_x), _coefs(result.coef_y)
    return _remap(image, cx, cy, border_value=border_value)


def _coefs(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _remap(image: np.ndarray, cx, cy, *, border_value: float) -> np.ndarray:
    """``image`` resampled through the displacements of coefficients ``cx``, ``cy``.

    Bicubic: a curled photo has been resampled once already (its outline or
    perspective warped) and a thin trace blurs with each linear resampling; on
    16 synthetic curled photos bicubic read 19.43 dB against 18.68, on the
    real curled page Einthoven 14.9 dB against 13.6.
    """
    m, n = image.shape[:2]
    ys, xs = _mesh((m, n), CURL_MESH_PX)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    x, y = _source(xx, yy, (m, n), cx, cy)
    # interpolate the mesh to every pixel: the mesh nodes stand at ys, xs
    map_x = _mesh_to_pixels(x, ys, xs, m, n)
    map_y = _mesh_to_pixels(y, ys, xs, m, n)
    fill = (border_value,) * 3 if image.ndim == 3 else border_value
    return cv2.remap(
        image,
        map_x,
        map_y,
        interpolation=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )


#: Fixed-point steps inverting the map: each shrinks the error by the bend's
#: slope (under 0.2 on any page worth reading), so 4 leave it under 0.002 of it.
CURL_INVERSE_STEPS = 4


def _source(xo, yo, shape, cx, cy) -> tuple[np.ndarray, np.ndarray]:
    """Input points ``(x, y)`` that go to the output points ``(xo, yo)``.

    Solves ``x - dx(x, y) = xo``, ``y - dy(x, y) = yo`` by fixed-point iteration,
    for the displacements of coefficients ``cx``, ``cy`` on an image of ``shape``.
    """
    x, y = np.array(xo, dtype=np.float64), np.array(yo, dtype=np.float64)
    for _ in range(CURL_INVERSE_STEPS):
        dx, dy = _offsets(x, y, shape, cx, cy)
        x, y = xo + dx, yo + dy
    return x, y


def curl_target(xy: np.ndarray, result: CurlResult) -> np.ndarray:
    """Points of the measured image -> where :func:`uncurl` puts them: ``(x - dx, y - dy)``.

    Parameters
    ----------
    xy : (K, 2) array_like of float
        ``(x, y)`` pixel coordinates in the measured image.
    result : CurlResult

    Returns
    -------
    (K, 2) ndarray of float
        The same points in the straightened image (unchanged when the curl was
        not applied); :func:`curl_source` takes them back.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if not result.applied:
        return xy.copy()
    cx, cy = _coefs(result.coef_x), _coefs(result.coef_y)
    dx, dy = _offsets(xy[:, 0], xy[:, 1], result.shape, cx, cy)
    return np.stack([xy[:, 0] - dx, xy[:, 1] - dy], axis=1)


def curl_source(xy: np.ndarray, result: CurlResult) -> np.ndarray:
    """Points of :func:`uncurl`'s output -> the points of its input they came from.

    Parameters
    ----------
    xy : (K, 2) array_like of float
        ``(x, y)`` pixel coordinates in the straightened image.
    result : CurlResult

    Returns
    -------
    (K, 2) ndarray of float
        The same points in the measured image; ``xy`` unchanged (as floats)
        when the curl was not applied.
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if not result.applied:
        return xy.copy()
    x, y = _source(xy[:, 0], xy[:, 1], result.shape, _coefs(result.coef_x), _coefs(result.coef_y))
    return np.stack([x, y], axis=1)


def _mesh_to_pixels(values, ys, xs, m, n) -> np.ndarray:
    """Bilinear interpolation of mesh values (nodes at rows ``ys``, columns ``xs``) to (m, n)."""
    iy = np.interp(np.arange(m), ys, np.arange(ys.size)).astype(np.float32)
    ix = np.interp(np.arange(n), xs, np.arange(xs.size)).astype(np.float32)
    mx, my = np.meshgrid(ix, iy)
    return cv2.remap(values.astype(np.float32), mx, my, interpolation=cv2.INTER_LINEAR)
