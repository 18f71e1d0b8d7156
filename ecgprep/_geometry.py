"""Plane geometry shared by the stages: homographies on points, areas, rotations, downscaling.

Pixel convention everywhere: ``(x, y)`` with ``x`` along columns and ``y`` down
the rows, pixel ``(i, j)`` centred at ``x = j, y = i``; an (M, N) image's centre
is ``((N - 1) / 2, (M - 1) / 2)``. Angles are counter-clockwise on screen.
Homographies are 3 x 3 arrays mapping input to output pixel coordinates.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "apply_homography",
    "polygon_area",
    "as_tuple",
    "translation",
    "rotation_matrix",
    "rotate",
    "rot90_matrix",
    "downscale",
]


def apply_homography(h, xy) -> np.ndarray:
    """Map points through a homography.

    Parameters
    ----------
    h : (3, 3) array_like
        The map (input pixel coordinates to output ones).
    xy : (K, 2) array_like
        Points ``(x, y)``; any shape with a trailing 2 is read as (K, 2).

    Returns
    -------
    (K, 2) ndarray of float64
        The mapped points; a point sent to infinity or behind the camera
        (homogeneous ``w <= 0``) is NaN.

    Examples
    --------
    >>> apply_homography(translation(2, 3), [[0, 0], [1, 1]]).tolist()
    [[2.0, 3.0], [3.0, 4.0]]
    """
    h = np.asarray(h, dtype=np.float64)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    p = np.c_[xy, np.ones(len(xy))] @ h.T
    w = p[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = p[:, :2] / w
    out[(np.abs(w[:, 0]) < 1e-12) | (w[:, 0] < 0)] = np.nan
    return out


def polygon_area(q) -> float:
    """Area of a simple polygon (shoelace formula), whatever its orientation.

    Parameters
    ----------
    q : (K, 2) array_like
        Vertices in order.

    Examples
    --------
    >>> polygon_area([[0, 0], [4, 0], [4, 3], [0, 3]])
    12.0
    """
    q = np.asarray(q, dtype=np.float64).reshape(-1, 2)
    x, y = q[:, 0], q[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def as_tuple(h) -> tuple[tuple[float, ...], ...]:
    """A matrix as nested tuples of floats (hashable, small, for frozen results)."""
    return tuple(tuple(float(v) for v in row) for row in np.asarray(h, dtype=np.float64))


def translation(tx: float, ty: float) -> np.ndarray:
    """3 x 3 map moving points by ``(tx, ty)``."""
    return np.array([[1.0, 0.0, float(tx)], [0.0, 1.0, float(ty)], [0.0, 0.0, 1.0]])


def rotation_matrix(shape: tuple[int, int], angle_deg: float) -> np.ndarray:
    """3 x 3 map rotating an (M, N) image by ``angle_deg`` counter-clockwise about its centre.

    The centre is ``((N - 1) / 2, (M - 1) / 2)`` (pixel centres), so a rotation by
    180 degrees maps pixel ``(i, j)`` onto ``(M - 1 - i, N - 1 - j)`` exactly.

    Examples
    --------
    >>> m = rotation_matrix((3, 5), 180.0)
    >>> np.round(apply_homography(m, [[0, 0]]), 9).tolist()
    [[4.0, 2.0]]
    """
    import cv2

    m, n = int(shape[0]), int(shape[1])
    centre = ((n - 1) / 2.0, (m - 1) / 2.0)
    return np.vstack([cv2.getRotationMatrix2D(centre, float(angle_deg), 1.0), [0.0, 0.0, 1.0]])


def rotate(
    image: np.ndarray, angle_deg: float, *, border_value=255, cubic: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Rotate an image about its centre, keeping its size.

    Parameters
    ----------
    image : (M, N) or (M, N, C) ndarray
        The image.
    angle_deg : float
        Counter-clockwise on screen.
    border_value : int or tuple
        Fill of the pixels rotated in from outside (white paper by default).
    cubic : bool
        Bicubic rather than bilinear: keeps the darkness of strokes about a pixel
        wide, which bilinear spreads over two.

    Returns
    -------
    out : ndarray
        Same shape and dtype as ``image``, bilinear (or bicubic).
    matrix : (3, 3) ndarray
        :func:`rotation_matrix`: input pixel coordinates to ``out``'s.
    """
    import cv2

    h, w = image.shape[:2]
    mat = rotation_matrix((h, w), angle_deg)
    if image.ndim == 3 and np.isscalar(border_value):
        border_value = (border_value,) * image.shape[2]
    out = cv2.warpAffine(
        image,
        mat[:2],
        (w, h),
        flags=cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border_value,
    )
    return out, mat


def rot90_matrix(shape: tuple[int, int], k: int) -> np.ndarray:
    """3 x 3 map of an (M, N) image's pixel coordinates to those of ``np.rot90(image, k)``.

    Examples
    --------
    >>> img = np.arange(6).reshape(2, 3)
    >>> x, y = apply_homography(rot90_matrix(img.shape, 1), [[2, 0]])[0]  # img[0, 2]
    >>> int(np.rot90(img)[int(y), int(x)]) == int(img[0, 2])
    True
    """
    h, w = int(shape[0]), int(shape[1])
    m = np.eye(3)
    for _ in range(k % 4):
        # One counter-clockwise quarter turn: x' = y, y' = (W - 1) - x.
        m = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, w - 1.0], [0.0, 0.0, 1.0]]) @ m
        h, w = w, h
    return m


def downscale(image: np.ndarray, max_side: int | None) -> tuple[np.ndarray, int]:
    """Shrink by a whole factor ``f`` so that the longer side is at most ``max_side``.

    A whole factor keeps the pixel grids aligned (working pixel ``i`` covers input
    pixels ``f*i .. f*i+f-1``) and takes OpenCV's fast area-averaging path; up to
    ``f - 1`` rows and columns at the bottom and right are left out.

    Returns
    -------
    small : ndarray
        The image itself when it is small enough (or ``max_side`` is None).
    f : int
        The factor (1 when nothing was done).

    Examples
    --------
    >>> small, f = downscale(np.zeros((100, 250), np.uint8), 64)
    >>> small.shape, f
    ((25, 62), 4)
    """
    h, w = image.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return image, 1
    f = -(-max(h, w) // int(max_side))
    return shrink(image, f), int(f)


def shrink(image: np.ndarray, f: int) -> np.ndarray:
    """``image`` shrunk by the whole factor ``f`` (area-averaged; see :func:`downscale`).

    Working pixel ``i`` covers input pixels ``f*i .. f*i+f-1``; up to ``f - 1``
    rows and columns at the bottom and right are left out. :func:`shrink_matrix`
    maps the input's pixel coordinates to the result's.
    """
    import cv2

    h, w = image.shape[:2]
    hh, ww = max(1, h // f), max(1, w // f)
    return cv2.resize(image[: hh * f, : ww * f], (ww, hh), interpolation=cv2.INTER_AREA)


def shrink_matrix(f: float) -> np.ndarray:
    """3 x 3 map of an image's pixel coordinates to those of it shrunk by ``f`` (:func:`shrink`).

    Pixel centres at integers: input pixel ``(f - 1) / 2`` is working pixel 0.

    Examples
    --------
    >>> shrink_matrix(2) @ np.array([0.5, 2.5, 1.0])
    array([0., 1., 1.])
    """
    f = float(f)
    c = (f - 1.0) / 2.0 / f
    return np.array([[1.0 / f, 0.0, -c], [0.0, 1.0 / f, -c], [0.0, 0.0, 1.0]])
