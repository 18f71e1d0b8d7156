"""One image through the whole road: load, crop, deskew, colours, grid, quality, digitize.

:func:`process_image_for_submission` never raises for a bad image: a failure in a
stage is recorded in the returned :class:`ImageResult` with the stage's name and
the cause. The result is small (numbers and the 12 signals) so that it crosses
process boundaries cheaply.
"""

from __future__ import annotations

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
    "process_image_for_submission",
    "STAGES",
]

#: Stage names in the order they run.
STAGES = ("load", "edges", "deskew", "colors", "grid", "quality", "digitize")


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
    """

    image_id: str
    source: str
    ok: bool
    error: str | None = None
    failed_stage: str | None = None
    stages: tuple[StageRecord, ...] = ()
    signals: Mapping[str, LeadSignal] | None = field(default=None, repr=False)
    shape: tuple[int, ...] = ()

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


@dataclass(frozen=True)
class DeskewResult:
    """Rotation undone before the colour, grid and trace stages.

    ``angle_deg`` is the grid's rotation as found (counter-clockwise on screen);
    ``homography`` maps the cropped image's pixels to the deskewed image's.
    """

    angle_deg: float
    homography: tuple
    shape: tuple[int, int]


def _rotate(image: np.ndarray, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate about the centre by ``angle_deg`` (counter-clockwise, on screen), white border."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle_deg, 1.0)
    out = cv2.warpAffine(
        image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255)
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


def _deskew(image: np.ndarray, opts: Options) -> tuple[np.ndarray, DeskewResult, Any]:
    """Undo the rotation of the grid's lines (when ``opts.rectify``).

    Returns the working image, the stage's result and the grid found on the image
    before any rotation (reused by the grid stage when nothing was rotated).
    """
    from . import grid

    g = grid.detect_grid(image)
    angle = float(g.angle_deg) if g.found else 0.0
    hmat = np.eye(3)
    rotated = opts.rectify and g.found and abs(angle) > 0.05
    if rotated:
        image, hmat = _rotate(image, -angle)
    res = DeskewResult(angle, tuple(map(tuple, hmat)), image.shape[:2])
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
            StageRecord(name, time.perf_counter() - t0, out[1] if isinstance(out, tuple) else out, msgs)
        )
        return out

    stage = "load"
    try:
        img = run("load", lambda: _loaded(image, opts))[0]
        state["shape"] = img.shape[:2]
        stage = "edges"
        work = run("edges", lambda: _crop(img, opts))[0]
        del img
        stage = "deskew"
        work, _, grid_before = run("deskew", lambda: _deskew(work, opts))
        stage = "colors"
        from . import colors, grid, quality

        col = run(
            "colors",
            lambda: _with_summary(colors.separate_colors(work, space=opts.color_space, backend=opts.color_backend)),
        )[0]
        stage = "grid"
        # The deskew stage's grid stands when it rotated nothing.
        g = run("grid", lambda: grid_before if grid_before is not None else grid.detect_grid(work))
        if not g.found:
            from .errors import GridNotFoundError

            raise GridNotFoundError(f"no ECG grid found (confidence {g.confidence:.2f}); cannot set the scale")
        stage = "quality"
        run(
            "quality",
            lambda: quality.assess_quality(
                work,
                px_per_mm=0.5 * (g.px_per_mm_x + g.px_per_mm_y),
                min_dpi=opts.min_dpi,
                min_sharpness=opts.min_sharpness,
                min_contrast=opts.min_contrast,
            ),
        )
        stage = "digitize"
        dig = run(
            "digitize",
            lambda: _dig_summary(
                digitize(
                    work,
                    col.trace_mask,
                    px_per_mm_x=g.px_per_mm_x,
                    px_per_mm_y=g.px_per_mm_y,
                    layout=opts.layout,
                    paper_speed=opts.paper_speed,
                    gain=opts.gain,
                    signal_fs=opts.signal_fs,
                )
            ),
        )[0]
    except (EcgprepError, ValueError, MemoryError, ArithmeticError, IndexError, KeyError, TypeError) as exc:
        return ImageResult(
            image_id=iid,
            source=source,
            ok=False,
            error=f"{source}: {stage} failed: {exc}",
            failed_stage=stage,
            stages=tuple(records),
            shape=tuple(state.get("shape", ())),
        )
    except Exception as exc:  # noqa: BLE001 - one bad image must not sink a batch
        return ImageResult(
            image_id=iid,
            source=source,
            ok=False,
            error=f"{source}: {stage} failed unexpectedly: {type(exc).__name__}: {exc}",
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


@dataclass(frozen=True)
class LoadResult:
    """The loaded image's size in pixels."""

    height: int
    width: int


def _loaded(image: Any, opts: Options):
    img = load_image(image, max_pixels=opts.max_pixels)
    return img, LoadResult(int(img.shape[0]), int(img.shape[1]))


def _with_summary(col):
    return col, col.summary()


def _dig_summary(dig: Digitization):
    small = Digitization(
        leads={},
        layout=dig.layout,
        pulses=dig.pulses,
        baselines=dig.baselines,
        line_width_px=dig.line_width_px,
        coverage=dig.coverage,
    )
    return dig, small
