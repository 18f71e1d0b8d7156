"""One image through the whole road: load, crop, deskew, colours, orient, grid, quality, digitize.

:func:`process_image_for_submission` never raises for a bad image: a failure in a
stage is recorded in the returned :class:`ImageResult` with the stage's name and
the cause. The result is small (numbers and the 12 signals) so that it crosses
process boundaries cheaply.

Pages photographed or scanned a quarter or half turn off are put upright (see
:class:`OrientResult`): traces run along the page, so a page whose trace ink is
organised in columns rather than rows is turned by 90 degrees; and a page read
upside down gives limb leads that break Einthoven's law (I + III = II,
aVR + aVL + aVF = 0), so when they do, the page is read again turned by 180
degrees and the reading that obeys the law is kept.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .digitize import Digitization, LeadSignal, digitize
from .errors import EcgprepError
from .io import describe_source, image_id_of, load_image
from .options import Options, as_options

__all__ = [
    "StageRecord",
    "ImageResult",
    "LoadResult",
    "CropResult",
    "DeskewResult",
    "OrientResult",
    "PerspectiveResult",
    "einthoven_residual",
    "process_image_for_submission",
    "STAGES",
]

#: Stage names in the order they run.
STAGES = (
    "load",
    "edges",
    "perspective",
    "deskew",
    "colors",
    "orient",
    "grid",
    "quality",
    "digitize",
)


@dataclass(frozen=True)
class StageRecord:
    """What one stage produced (a small result object), how long it took (s), and
    the warnings it raised (kept here rather than printed, so none is lost in a
    worker process)."""

    name: str
    seconds: float
    result: Any = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageResult:
    """Everything the pipeline learned about one image (small and picklable).

    Attributes
    ----------
    image_id : str
        The file stem for paths, else ``image{index}`` (or the id given).
    source : str
        Human name of the source (path, or a description of bytes/arrays).
    ok : bool
        True when the 12 leads were digitized.
    error : str or None
        Why not, naming the image and the cause.
    failed_stage : str or None
        Stage that failed (one of :data:`STAGES`), or ``'worker'`` when the worker
        process died.
    stages : tuple of StageRecord
        Stage results and times, in run order.
    signals : dict of str to LeadSignal, or None
        The digitized leads.
    shape : tuple of int
        ``(height, width)`` of the loaded image, or ``()``.
    attempts : int
        Times the image was sent for processing: 1, or 2 when a batch retried it
        alone after the worker process holding it died.
    """

    image_id: str
    source: str
    ok: bool
    error: str | None = None
    failed_stage: str | None = None
    stages: tuple[StageRecord, ...] = ()
    signals: Mapping[str, LeadSignal] | None = field(default=None, repr=False)
    shape: tuple[int, ...] = ()
    attempts: int = 1

    def stage(self, name: str) -> Any:
        """The result of stage ``name`` (None when it did not run)."""
        for rec in self.stages:
            if rec.name == name:
                return rec.result
        return None

    @property
    def seconds(self) -> float:
        """Total time over the stages that ran."""
        return float(sum(r.seconds for r in self.stages))

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warnings raised by the stages, prefixed with the stage's name."""
        return tuple(f"{r.name}: {w}" for r in self.stages for w in r.warnings)

    @property
    def quality_pass(self) -> bool | None:
        q = self.stage("quality")
        return None if q is None else bool(q.passed)

    @property
    def quarter_turns(self) -> int | None:
        """Quarter turns (counter-clockwise, as :func:`numpy.rot90`) that put the page upright."""
        o = self.stage("orient")
        return None if o is None else int(o.quarter_turns)


@dataclass(frozen=True)
class DeskewResult:
    """Rotation undone before the colour, grid and trace stages.

    ``angle_deg`` is the grid's rotation as found (counter-clockwise on screen);
    ``quarter_turns`` the further turns by 90 degrees (counter-clockwise, see
    :class:`OrientResult`) that put the page upright; ``homography`` maps the
    cropped image's pixels to the deskewed (and turned) image's, of ``shape``;
    ``px_per_mm`` the grid's mean scale as first seen (NaN when no grid was found).
    """

    angle_deg: float
    homography: tuple
    shape: tuple[int, int]
    quarter_turns: int = 0
    px_per_mm: float = float("nan")


@dataclass(frozen=True)
class OrientResult:
    """How the page was put upright.

    Attributes
    ----------
    quarter_turns : int
        0-3: turns by 90 degrees counter-clockwise (:func:`numpy.rot90`) applied
        after deskewing.
    row_contrast, column_contrast : float
        Contrast (std / mean) of the trace ink summed along image rows and along
        columns. Traces run horizontally, so an upright page has row contrast
        well above column contrast; a page turned by 90 degrees the reverse.
    residual : float
        Einthoven residual (:func:`einthoven_residual`) of the reading kept
        (NaN when not measured).
    residual_turned : float
        Residual of the page read turned by 180 degrees (NaN when not tried:
        only pages whose first reading breaks the law are read again).
    """

    quarter_turns: int = 0
    row_contrast: float = float("nan")
    column_contrast: float = float("nan")
    residual: float = float("nan")
    residual_turned: float = float("nan")


#: Column contrast must exceed row contrast by this factor to turn a page by 90 degrees.
_TURN_CONTRAST_RATIO = 1.25
#: Limb-lead readings with an Einthoven residual above this are read again turned by 180 degrees.
_EINTHOVEN_SUSPECT = 0.5


def _rot90_matrix(shape: tuple[int, int], k: int) -> np.ndarray:
    """3x3 map of pixel coordinates (x, y) of an (H, W) image to those of ``np.rot90(image, k)``."""
    h, w = int(shape[0]), int(shape[1])
    m = np.eye(3)
    for _ in range(k % 4):
        # One counter-clockwise quarter turn: x' = y, y' = (W - 1) - x.
        m = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, w - 1.0], [0.0, 0.0, 1.0]]) @ m
        h, w = w, h
    return m


def _profile_contrast(profile: np.ndarray, sigma: float) -> float:
    """std / mean of a profile smoothed by a Gaussian of ``sigma`` samples, 5 % trimmed per end."""
    sigma = max(float(sigma), 0.5)
    # (a kernel longer than the profile would lengthen the result)
    half = int(min(np.ceil(3 * sigma), max(0, (profile.size - 1) // 2)))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    p = np.convolve(profile.astype(np.float64), k / k.sum(), mode="same")
    cut = int(0.05 * p.size)
    p = p[cut : p.size - cut] if p.size - 2 * cut >= 3 else p
    mean = float(p.mean()) if p.size else 0.0
    return float(p.std() / mean) if mean > 0 else 0.0


def _orient(
    image: np.ndarray, trace_mask: np.ndarray, px_per_mm: float, paper_speed: float
) -> tuple[tuple[np.ndarray, np.ndarray], OrientResult]:
    """Turn the page by 90 degrees when its traces run vertically (cheap: a few ms).

    Turned when the column contrast of the trace ink exceeds its row contrast by
    :data:`_TURN_CONTRAST_RATIO`, or when a 10 s row (at the grid's scale
    ``px_per_mm``, if known) only fits across the page turned. The mask is
    summed along rows and along columns, and each profile smoothed over 1.5 mm
    (scale from the grid, else from the page size: the long side of an ECG page
    is about 280 mm) before the two are compared.
    """
    import cv2

    h, w = trace_mask.shape
    known = bool(np.isfinite(px_per_mm) and px_per_mm > 0)
    scale = float(px_per_mm) if known else max(h, w) / 280.0
    m = np.ascontiguousarray(trace_mask if trace_mask.dtype == bool else trace_mask > 0)
    m = m.view(np.uint8)
    sigma = 1.5 * scale
    rows = _profile_contrast(cv2.reduce(m, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel(), sigma)
    cols = _profile_contrast(cv2.reduce(m, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel(), sigma)
    turns = 1 if cols > _TURN_CONTRAST_RATIO * rows else 0
    if known and not turns:
        row_len = 10.0 * paper_speed * scale
        if w < 0.98 * row_len <= h and rows < _TURN_CONTRAST_RATIO * cols:
            turns = 1
    if turns:
        image = np.ascontiguousarray(np.rot90(image, turns))
        trace_mask = np.ascontiguousarray(np.rot90(trace_mask, turns))
    return (image, trace_mask), OrientResult(turns, rows, cols)


_EINTHOVEN = ((("I", 1.0), ("III", 1.0), ("II", -1.0)), (("aVR", 1.0), ("aVL", 1.0), ("aVF", 1.0)))


def einthoven_residual(leads: Mapping[str, Any], *, min_seconds: float = 1.0) -> float:
    """How far digitized limb leads are from Einthoven's law (0: exactly obeyed).

    Parameters
    ----------
    leads : dict of str to LeadSignal
        Digitized leads (values at ``fs`` from ``start_s``).
    min_seconds : float
        Shortest common span of the leads of a relation for it to count.

    Returns
    -------
    float
        ``sqrt(sum (I + III - II)^2 + sum (aVR + aVL + aVF)^2) / sqrt(sum of the
        squared terms)`` over the spans the leads share, each lead centred; NaN
        when no relation could be measured. A page read upside down puts
        precordial leads in the limb leads' places and gives about 1; correct
        readings give well under 0.5.

    Examples
    --------
    >>> from ecgprep.signals import LeadSignal
    >>> t = np.arange(1000) / 500.0
    >>> i, ii = np.sin(6 * t), np.cos(5 * t)
    >>> leads = {"I": LeadSignal("I", i, 500.0, 0.0), "II": LeadSignal("II", ii, 500.0, 0.0),
    ...          "III": LeadSignal("III", ii - i, 500.0, 0.0)}
    >>> round(einthoven_residual(leads), 6)
    0.0
    """
    num = den = 0.0
    for relation in _EINTHOVEN:
        sigs = [leads.get(name) for name, _ in relation]
        if any(s is None for s in sigs):
            continue
        fs = float(sigs[0].fs)
        if any(float(s.fs) != fs for s in sigs) or not fs > 0:
            continue
        t0 = max(float(s.start_s) for s in sigs)
        t1 = min(float(s.start_s) + np.asarray(s.values).size / fs for s in sigs)
        n = int(np.floor((t1 - t0) * fs + 1e-9))
        if n < min_seconds * fs:
            continue
        parts = []
        for s, (_, coef) in zip(sigs, relation, strict=True):
            i0 = int(round((t0 - float(s.start_s)) * fs))
            parts.append(coef * np.asarray(s.values, dtype=np.float64)[i0 : i0 + n])
        p = np.array(parts)
        good = np.all(np.isfinite(p), axis=0)
        if good.sum() < 10:
            continue
        p = p[:, good]
        p = p - p.mean(axis=1, keepdims=True)
        num += float((p.sum(axis=0) ** 2).sum())
        den += float((p**2).sum())
    return float(np.sqrt(num / den)) if den > 0 else float("nan")


def _rotate(image: np.ndarray, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate about the centre by ``angle_deg`` (counter-clockwise, on screen), white border."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle_deg, 1.0)
    out = cv2.warpAffine(
        image,
        m,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(255, 255, 255),
    )
    return out, np.vstack([m, [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class CropResult:
    """The paper found (``paper``) and what was done with it."""

    paper: Any
    cropped: bool
    rectified: bool
    homography: tuple
    shape: tuple[int, int]


def _quad_area(q: np.ndarray) -> float:
    x, y = q[:, 0], q[:, 1]
    return 0.5 * abs(float((x * np.roll(y, -1)).sum() - (y * np.roll(x, -1)).sum()))


def _crop(image: np.ndarray, opts: Options) -> tuple[np.ndarray, CropResult]:
    """Find the paper; crop to it, or rectify its perspective when ``opts.rectify``."""
    from . import edges

    hmat = np.eye(3)
    paper = edges.find_paper(image, method=opts.edge_method)
    cropped = rectified = False
    if opts.crop and paper.found:
        # A page filling most of the frame (a scan, a render with a dark border)
        # is only cropped: warping its nearly-rectangular outline would shear the
        # grid for nothing. Perspective is undone for pages on a background.
        area = _quad_area(np.asarray(paper.quad, dtype=np.float64))
        if opts.rectify and area < 0.85 * image.shape[0] * image.shape[1]:
            image, hw = edges.warp_to_paper(image, paper)
            hmat = np.asarray(hw, dtype=np.float64)
            rectified = True
        else:
            x0, y0 = paper.box[0], paper.box[1]
            image = edges.crop_to_paper(image, paper)
            hmat = np.array([[1.0, 0, -x0], [0, 1.0, -y0], [0, 0, 1.0]])
        cropped = True
    res = CropResult(paper, cropped, rectified, tuple(map(tuple, hmat)), image.shape[:2])
    return image, res


@dataclass(frozen=True)
class PerspectiveResult:
    """Perspective undone from the grid's own lines (:mod:`ecgprep.rectify`).

    ``reason`` is ``'disabled'`` (option ``rectify`` off), ``'not found'`` (no
    grid lines to measure), ``'not needed'`` (the map would move no pixel by more
    than 2 px beyond a rotation and scale, which deskew handles) or ``'applied'``.
    ``homography`` maps the stage's input pixels to its output pixels.
    """

    applied: bool
    reason: str
    rectify: Any
    homography: tuple
    shape: tuple[int, int]


def _perspective(
    image: np.ndarray, opts: Options, crop: CropResult
) -> tuple[np.ndarray, PerspectiveResult, Any]:
    """Rectify a page seen in perspective (a photo whose page fills the frame).

    Returns the image, the stage's result, and the grid found on the returned
    image when one was measured (None otherwise).
    """
    from . import grid, rectify

    eye = tuple(map(tuple, np.eye(3)))
    if not opts.rectify:
        return image, PerspectiveResult(False, "disabled", None, eye, image.shape[:2]), None
    if crop.rectified:
        # The paper's outline was warped to a rectangle already: exact for a flat
        # page, and a second resampling only blurs.
        return image, PerspectiveResult(False, "not needed", None, eye, image.shape[:2]), None
    # A grid found confidently, square (equal x/y scale) and unsheared needs no
    # perspective correction; that grid then serves the deskew stage as well.
    g = grid.detect_grid(image)
    if (
        g.found
        and g.confidence >= 0.9
        and abs(float(g.skew_deg)) <= 0.1
        and abs(float(g.px_per_mm_x) / float(g.px_per_mm_y) - 1.0) <= 0.003
    ):
        return image, PerspectiveResult(False, "not needed", None, eye, image.shape[:2]), g
    r = rectify.rectify_from_grid(image)
    if not r.found:
        return image, PerspectiveResult(False, "not found", r, eye, image.shape[:2]), g
    if r.correction_px <= 2.0:
        return image, PerspectiveResult(False, "not needed", r, eye, image.shape[:2]), g
    out = rectify.warp(image, r)
    res = PerspectiveResult(True, "applied", r, tuple(map(tuple, r.matrix)), out.shape[:2])
    return out, res, None


def _deskew(
    image: np.ndarray, opts: Options, g: Any = None
) -> tuple[np.ndarray, DeskewResult, Any]:
    """Undo the rotation of the grid's lines (when ``opts.rectify``).

    ``g`` is a grid already found on this very image (by the perspective stage),
    if any. Returns the working image, the stage's result and the grid found on
    the image before any rotation (reused by the grid stage when nothing was
    rotated).
    """
    from . import grid

    if g is None:
        g = grid.detect_grid(image)
    angle = float(g.angle_deg) if g.found else 0.0
    hmat = np.eye(3)
    rotated = opts.rectify and g.found and abs(angle) > 0.05
    if rotated:
        image, hmat = _rotate(image, -angle)
    ppmm = 0.5 * (float(g.px_per_mm_x) + float(g.px_per_mm_y)) if g.found else float("nan")
    res = DeskewResult(angle, tuple(map(tuple, hmat)), image.shape[:2], px_per_mm=ppmm)
    return image, res, (None if rotated else g)


def process_image_for_submission(
    image: Any,
    options: Options | Mapping[str, Any] | None = None,
    *,
    image_id: str | None = None,
) -> ImageResult:
    """Run every stage on one image and digitize its 12 leads.

    Parameters
    ----------
    image : str or os.PathLike or bytes or PIL.Image.Image or ndarray
        The ECG image (see :func:`ecgprep.load_image`).
    options : Options or dict, optional
        Pipeline options; invalid options raise :class:`~ecgprep.errors.OptionsError`
        at once (they are the caller's mistake, not the image's).
    image_id : str, optional
        Id used in the result and the submission (default: the file stem).

    Returns
    -------
    ImageResult
        ``ok`` False with ``error`` and ``failed_stage`` when a stage failed.

    Examples
    --------
    >>> from ecgprep.synth import render_ecg
    >>> res = process_image_for_submission(render_ecg(seed=1).image, image_id="demo")
    >>> res.ok, sorted(res.signals)[:3]
    (True, ['I', 'II', 'III'])
    """
    opts = as_options(options)
    source = describe_source(image)
    iid = image_id if image_id is not None else image_id_of(image, 0)
    records: list[StageRecord] = []
    state: dict[str, Any] = {}

    def run(name: str, fn):
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn()
        msgs = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        records.append(
            StageRecord(
                name, time.perf_counter() - t0, out[1] if isinstance(out, tuple) else out, msgs
            )
        )
        return out

    stage = "load"
    try:
        img = run("load", lambda: _loaded(image, opts))[0]
        state["shape"] = img.shape[:2]
        stage = "edges"
        work, crop = run("edges", lambda: _crop(img, opts))
        img = None  # the working copy is all that is needed from here
        stage = "perspective"
        work, _, grid_seen = run("perspective", lambda: _perspective(work, opts, crop))
        stage = "deskew"
        work, _, grid_before = run("deskew", lambda: _deskew(work, opts, grid_seen))
        stage = "colors"
        from . import colors, grid

        col = run(
            "colors",
            lambda: _with_summary(
                colors.separate_colors(work, space=opts.color_space, backend=opts.color_backend)
            ),
        )[0]
        trace_mask = col.trace_mask
        del col
        stage = "orient"
        desk = next(r.result for r in records if r.name == "deskew")
        (work, trace_mask), orient = run(
            "orient", lambda: _orient(work, trace_mask, desk.px_per_mm, opts.paper_speed)
        )
        if orient.quarter_turns:
            _turn_deskew_record(records, orient.quarter_turns)
            grid_before = None
        stage = "grid"
        # The deskew stage's grid stands when it rotated nothing.
        g = run("grid", lambda: grid_before if grid_before is not None else grid.detect_grid(work))
        if not g.found:
            from .errors import GridNotFoundError

            raise GridNotFoundError(
                f"no ECG grid found: expected regular 1 mm / 5 mm grid lines, found none "
                f"(grid confidence {g.confidence:.2f}); cannot set the scale"
            )
        stage = "quality"
        work = run("quality", lambda: _quality(work, g, opts))[0]
        stage = "digitize"
        dig, turned, residuals = run(
            "digitize", lambda: _digitize_upright(work, trace_mask, g, opts)
        )[0]
        if turned:
            _turn_deskew_record(records, 2)
        _update_record(
            records,
            "orient",
            dataclasses.replace(
                orient,
                quarter_turns=(orient.quarter_turns + (2 if turned else 0)) % 4,
                residual=residuals[1] if turned else residuals[0],
                residual_turned=residuals[1],
            ),
        )
    except Exception as exc:  # noqa: BLE001 - one bad image must not sink a batch
        expected = (
            EcgprepError,
            ValueError,
            MemoryError,
            ArithmeticError,
            IndexError,
            KeyError,
            TypeError,
        )
        if isinstance(exc, expected):
            why = f"{stage} failed: {_without_name(str(exc), source)}"
        else:
            why = f"{stage} failed unexpectedly: {type(exc).__name__}: {exc}"
        return ImageResult(
            image_id=iid,
            source=source,
            ok=False,
            error=f"{source}: {why}",
            failed_stage=stage,
            stages=tuple(records),
            shape=tuple(state.get("shape", ())),
        )
    return ImageResult(
        image_id=iid,
        source=source,
        ok=True,
        stages=tuple(records),
        signals=dict(dig.leads),
        shape=tuple(state["shape"]),
    )


def _without_name(message: str, source: str) -> str:
    """The message without a leading ``'<source>: '`` (the result's error names the image once)."""
    prefix = f"{source}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


@dataclass(frozen=True)
class LoadResult:
    """The loaded image's size in pixels."""

    height: int
    width: int


def _loaded(image: Any, opts: Options):
    img = load_image(image, max_pixels=opts.max_pixels)
    return img, LoadResult(int(img.shape[0]), int(img.shape[1]))


def _quality(work: np.ndarray, g: Any, opts: Options):
    """The quality gates on the page's luma; returns ``(luma, QualityResult)``.

    Quality and digitization read the luma only: it is computed once here and
    the colour image is dropped from then on.
    """
    from . import quality
    from ._validate import to_gray

    gray = to_gray(work)
    result = quality.assess_quality(
        gray,
        px_per_mm=0.5 * (g.px_per_mm_x + g.px_per_mm_y),
        min_dpi=opts.min_dpi,
        min_sharpness=opts.min_sharpness,
        min_contrast=opts.min_contrast,
    )
    return gray, result


def _with_summary(col):
    return col, col.summary()


def _update_record(records: list[StageRecord], name: str, result: Any) -> None:
    for i, rec in enumerate(records):
        if rec.name == name:
            records[i] = dataclasses.replace(rec, result=result)


def _turn_deskew_record(records: list[StageRecord], k: int) -> None:
    """Fold ``k`` more quarter turns of the working image into the deskew record's map."""
    for rec in records:
        if rec.name == "deskew" and rec.result is not None:
            d = rec.result
            m = _rot90_matrix(d.shape, k) @ np.asarray(d.homography, dtype=np.float64)
            shape = d.shape if k % 2 == 0 else (d.shape[1], d.shape[0])
            turned = dataclasses.replace(
                d,
                homography=tuple(map(tuple, m)),
                shape=shape,
                quarter_turns=(d.quarter_turns + k) % 4,
            )
            _update_record(records, "deskew", turned)


def _digitize_upright(work: np.ndarray, trace_mask: np.ndarray, g: Any, opts: Options):
    """Digitize; if the limb leads break Einthoven's law, read the page turned by 180 degrees too.

    Returns ``((dig, turned, (residual, residual_turned)), small_summary)``. The
    turned reading is kept when its residual is under :data:`_EINTHOVEN_SUSPECT`
    and at most half the first one's; when the first reading fails outright the
    turned one is tried as well and kept only on the same terms.
    """

    def read(img, mask):
        return digitize(
            img,
            mask,
            px_per_mm_x=g.px_per_mm_x,
            px_per_mm_y=g.px_per_mm_y,
            layout=opts.layout,
            paper_speed=opts.paper_speed,
            gain=opts.gain,
            signal_fs=opts.signal_fs,
        )

    first_error: EcgprepError | None = None
    try:
        dig = read(work, trace_mask)
        r0 = einthoven_residual(dig.leads)
    except EcgprepError as exc:
        dig, r0, first_error = None, float("inf"), exc
    r1 = float("nan")
    if first_error is not None or r0 > _EINTHOVEN_SUSPECT:
        try:
            turned_work = np.ascontiguousarray(np.rot90(work, 2))
            dig1 = read(turned_work, np.ascontiguousarray(np.rot90(trace_mask, 2)))
        except EcgprepError:
            dig1 = None
        if dig1 is not None:
            r1 = einthoven_residual(dig1.leads)
            if r1 <= _EINTHOVEN_SUSPECT and r1 <= 0.5 * r0:
                return _dig_summary((dig1, True, (r0, r1)))
    if first_error is not None:
        raise first_error
    return _dig_summary((dig, False, (r0, r1)))


def _dig_summary(out):
    dig = out[0]
    small = Digitization(
        leads={},
        layout=dig.layout,
        pulses=dig.pulses,
        baselines=dig.baselines,
        line_width_px=dig.line_width_px,
        coverage=dig.coverage,
    )
    return out, small
