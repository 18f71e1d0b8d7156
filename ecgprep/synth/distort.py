"""Spoiling a render like a scan or a phone photo would, keeping its truth exact.

:func:`distort` rotates, warps and places the page on a textured background
(:data:`~ecgprep.synth.BACKGROUNDS`), then casts colour, shades, blurs, adds noise and
re-encodes as JPEG; the truth's homography, page corners and masks follow.
:func:`bend` curls the paper first (grid lines that bend, as on a page that
does not lie flat); the truth keeps the bend.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cv2
import numpy as np

from .._geometry import rotation_matrix
from .._validate import check_image, check_number, pick
from .render import Render, _apply_h, _binarize, _binarize_rgb

__all__ = ["BACKGROUNDS", "bend", "distort"]


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


def _bg_lid(rng, h, w):
    """A flatbed scanner's white lid: the paper's own tone, its edge barely seen."""
    base = np.array([250.0, 250.0, 248.0], np.float32) * rng.uniform(0.985, 1.0)
    field = 1.5 * _smooth_noise(rng, h, w, 3) + 1.0 * _smooth_noise(rng, h, w, 60)
    return base[None, None, :] + field[:, :, None]


def _bg_clutter(rng, h, w):
    """A light, speckled desk with a ruled white sheet across its top: nothing as
    dark as a background, and long lines that are not a grid."""
    base = np.array([202.0, 200.0, 196.0], np.float32) * rng.uniform(0.95, 1.03)
    speckle = rng.normal(0.0, 12.0, (h, w)).astype(np.float32)
    out = base[None, None, :] + (speckle + 6.0 * _smooth_noise(rng, h, w, 3))[:, :, None]
    y1, x0, x1 = int(0.21 * h), int(rng.uniform(0.2, 0.35) * w), int(0.97 * w)
    out[:y1, x0:x1] = 246.0
    for y in range(int(rng.integers(3, 8)), y1, max(4, h // 32)):
        out[y, x0 + 4 : x1 - 4] = 120.0
    return out


_BACKGROUNDS = {
    "dark": _bg_dark,
    "wood": _bg_wood,
    "desk": _bg_desk,
    "lid": _bg_lid,
    "clutter": _bg_clutter,
}
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
    binarize: bool = False,
    seed: int = 0,
) -> Render:
    """Spoil a render like a scan or a phone photo would, keeping the truth exact.

    Geometry first (rotation about the image centre, then a random perspective,
    then placement on a background), then light (colour cast, uneven shading),
    then optics and sensor (Gaussian blur, Gaussian noise, black and white, JPEG).
    The truth follows:
    ``homography`` is composed with the new 3x3 map, ``paper_quad`` mapped by it,
    the masks warped with nearest-neighbour interpolation (blur and noise do not
    move them), colours multiplied by the cast. Lead geometry stays in undistorted
    coordinates; map it with ``homography`` (:meth:`RenderTruth.lead_xy`).

    Parameters
    ----------
    render : Render
        Output of :func:`~ecgprep.synth.render_ecg` (or of an earlier :func:`distort`).
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
    background : {None, 'dark', 'wood', 'desk', 'lid', 'clutter'}
        Paste the page onto a larger background: darker and textured, a
        scanner's white lid (``'lid'``), as light as the paper, or a light,
        speckled desk with a ruled white sheet across its top (``'clutter'``:
        with a margin of 0.4 or more, the sheet lies above the page).
    background_margin : float
        Background border on each side as a fraction of the page size (0-1).
    shading : float
        Uneven lighting, 0 (none) to 1 (strong): a random gradient plus vignette
        darkening the image by up to about ``0.6 * shading``.
    binarize : bool
        A scanner's black-and-white mode, last but for JPEG: every pixel black or
        white at a fixed mid-grey threshold, after the rotation (a page turned on
        the glass is binarised as it lies: its lines step by whole pixels). Grid
        lines that turn white leave the grid mask; the truth's colours are
        binarised too.
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
    >>> from ecgprep.synth import render_ecg
    >>> r = distort(render_ecg(seed=0, dpi=100), rotate_deg=3, background="desk", seed=1)
    >>> r.image.shape
    (1020, 1320, 3)
    >>> bool(abs(r.truth.angle_deg - 3) < 1e-9)
    True
    """
    if not isinstance(render, Render):
        raise ValueError(f"render must be a synth.Render, got {type(render).__name__}")
    image = check_image(render.image, "render.image", allow_gray=False)
    rotate_deg = check_number(rotate_deg, "rotate_deg", lo=-45.0, hi=45.0)
    blur_sigma = check_number(blur_sigma, "blur_sigma", lo=0.0, hi=20.0)
    noise_std = check_number(noise_std, "noise_std", lo=0.0, hi=100.0)
    perspective = check_number(perspective, "perspective", lo=0.0, hi=0.25)
    background_margin = check_number(background_margin, "background_margin", lo=0.0, hi=1.0)
    shading = check_number(shading, "shading", lo=0.0, hi=1.0)
    if jpeg_quality is not None:
        jpeg_quality = int(check_number(jpeg_quality, "jpeg_quality", lo=1, hi=100))
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
        hmat = rotation_matrix((h, w), rotate_deg) @ hmat
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
    if binarize:
        out, black = _binarize(out)
        grid_mask = grid_mask & black
    if jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        if not ok:  # pragma: no cover - OpenCV always encodes uint8 RGB
            raise RuntimeError("JPEG encoding failed")
        out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    def cast_rgb(rgb):
        if cast is not None:
            rgb = tuple(int(min(255, round(c * m))) for c, m in zip(rgb, cast, strict=True))
        return _binarize_rgb(rgb) if binarize else rgb

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
        binarized=truth.binarized or bool(binarize),
    )
    return Render(image=np.ascontiguousarray(out), truth=new_truth)


#: Fixed-point steps inverting a bend (each shrinks the error by the bend's slope).
_BEND_STEPS = 8


def bend_offsets(params: tuple, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the bent page's point ``(x, y)`` was on the flat page, less ``(x, y)``.

    ``params`` is :attr:`~ecgprep.synth.RenderTruth.bend`: ``(amount_px, c1, c2,
    c3, c4, width, height)``. With ``u``, ``v`` the point's coordinates scaled
    to -1..1 over the page, the vertical lines bow and lean
    (``c1 v^2 (1 + u) / 2 + c2 u sin(pi v / 2)``) and the horizontal ones sag
    (``c3 (1 - cos(pi u / 2)) + c4 u v``), each times ``amount_px``.
    """
    a, c1, c2, c3, c4, w, h = params
    u = (np.asarray(x, dtype=np.float64) - (w - 1) / 2.0) / (w / 2.0)
    v = (np.asarray(y, dtype=np.float64) - (h - 1) / 2.0) / (h / 2.0)
    bx = a * (c1 * v * v * (1.0 + u) / 2.0 + c2 * u * np.sin(np.pi * v / 2.0))
    by = a * (c3 * (1.0 - np.cos(np.pi * u / 2.0)) + c4 * u * v)
    return bx, by


def unbend_points(params: tuple, xy: np.ndarray) -> np.ndarray:
    """Points of the flat page -> where the bend put them (the inverse of :func:`bend_offsets`)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    x, y = xy[:, 0].copy(), xy[:, 1].copy()
    for _ in range(_BEND_STEPS):
        bx, by = bend_offsets(params, x, y)
        x, y = xy[:, 0] - bx, xy[:, 1] - by
    return np.stack([x, y], axis=1)


def bend(render: Render, *, amount_mm: float = 3.0, seed: int = 0) -> Render:
    """Curl the paper of a clean render: its grid lines bow, lean and sag.

    Parameters
    ----------
    render : Render
        Output of :func:`~ecgprep.synth.render_ecg` (not yet distorted or bent).
    amount_mm : float
        Scale of the bend (mm, 0-20): points move by up to about twice this
        (the four random bends, :func:`bend_offsets`, add up at the corners).
    seed : int
        Seed of the bend's shape.

    Returns
    -------
    Render
        The bent page; its truth keeps the bend (:attr:`RenderTruth.bend`), which
        :meth:`RenderTruth.lead_xy` and the page corners follow. Distort it next
        (:func:`distort`) for a photo of a curled page.

    Raises
    ------
    ValueError
        ``render`` is not a clean render, or ``amount_mm`` is out of range.

    Example
    -------
    >>> from ecgprep.synth import render_ecg
    >>> r = bend(render_ecg(seed=0, dpi=100), amount_mm=4, seed=1)
    >>> len(r.truth.bend)
    7
    """
    if not isinstance(render, Render):
        raise ValueError(f"render must be a synth.Render, got {type(render).__name__}")
    amount_mm = check_number(amount_mm, "amount_mm", lo=0.0, hi=20.0)
    truth = render.truth
    if truth.bend or not np.allclose(truth.homography, np.eye(3)):
        raise ValueError("bend a clean render (before distort, and only once)")
    image = check_image(render.image, "render.image", allow_gray=False)
    h, w = image.shape[:2]
    rng = np.random.default_rng(seed)
    params = (float(amount_mm * truth.px_per_mm), *map(float, rng.uniform(-1, 1, 4)), w, h)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    bx, by = bend_offsets(params, xx, yy)
    map_x = (xx + bx).astype(np.float32)
    map_y = (yy + by).astype(np.float32)
    del xx, yy, bx, by
    white = tuple(int(c) for c in truth.paper_rgb)
    out = cv2.remap(
        image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=white
    )

    def remap_mask(mask: np.ndarray) -> np.ndarray:
        m8 = cv2.remap(
            mask.astype(np.uint8),
            map_x,
            map_y,
            cv2.INTER_NEAREST,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        return m8.astype(bool)

    new_truth = dataclasses.replace(
        truth,
        paper_quad=unbend_points(params, truth.paper_quad),
        trace_mask=remap_mask(truth.trace_mask),
        grid_mask=remap_mask(truth.grid_mask),
        text_mask=remap_mask(truth.text_mask),
        bend=params,
    )
    return Render(image=np.ascontiguousarray(out), truth=new_truth)
