"""What the pipeline returns for one image: :class:`ImageResult` and its :class:`StageRecord` s."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._geometry import apply_homography, rot90_matrix, translation

__all__ = ["StageRecord", "ImageResult"]


@dataclass(frozen=True)
class StageRecord:
    """What one station produced.

    Attributes
    ----------
    name : str
        The station (one of :data:`ecgprep.pipeline.STAGES`).
    seconds : float
        Time it took.
    result : object
        Its small, frozen result (None when it failed).
    warnings : tuple of str
        Warnings it raised, kept here rather than printed so that none is lost in
        a worker process.
    """

    name: str
    seconds: float
    result: Any = None
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        kind = type(self.result).__name__ if self.result is not None else "no result"
        extra = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        return f"StageRecord({self.name!r}, {1000 * self.seconds:.1f} ms, {kind}{extra})"


@dataclass(frozen=True, repr=False)
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
        Station that failed (one of :data:`ecgprep.pipeline.STAGES`), or
        ``'worker'`` when the worker process died.
    stages : tuple of StageRecord
        Station results and times, in run order.
    signals : dict of str to LeadSignal
        The digitized leads in the standard order (:data:`ecgprep.standards.LEADS`);
        empty when the image failed.
    shape : tuple of int
        ``(height, width)`` of the loaded image, or ``()``.
    attempts : int
        Times the image was sent for processing: 1, or 2 when a batch retried it
        alone after the worker process holding it died.
    verdict : Verdict or None
        How far the reading may be trusted (:func:`ecgprep.verdict.judge`), set by
        :func:`~ecgprep.pipeline.process_image_for_submission`. Read it through
        :attr:`confidence`, :attr:`suspect`, :attr:`suspect_reasons`,
        :attr:`lead_confidence` and :attr:`lead_reasons`, which also answer for a
        result made without one (a failure recorded by a batch).
    """

    image_id: str
    source: str
    ok: bool
    error: str | None = None
    failed_stage: str | None = None
    stages: tuple[StageRecord, ...] = ()
    signals: Mapping[str, Any] = field(default_factory=dict)
    shape: tuple[int, ...] = ()
    attempts: int = 1
    verdict: Any = field(default=None, compare=False)

    def __repr__(self) -> str:
        if self.ok:
            what = f"ok, {len(self.signals)} leads"
            if self.suspect:
                what += f", suspect: {'; '.join(self.suspect_reasons)}"
                if len(what) > 120:
                    what = what[:117] + "..."
        else:
            what = f"failed at {self.failed_stage}: {self.error}"
            if len(what) > 120:
                what = what[:117] + "..."
        return f"ImageResult({self.image_id!r}, {what}, {self.seconds:.2f} s)"

    def stage(self, name: str) -> Any:
        """The result of station ``name`` (None when it did not run)."""
        for rec in self.stages:
            if rec.name == name:
                return rec.result
        return None

    def _verdict(self) -> Any:
        from .verdict import verdict_of

        return verdict_of(self)

    @property
    def confidence(self) -> float:
        """How far the reading may be trusted, 0-1 (0 when the image failed)."""
        return self._verdict().confidence

    @property
    def suspect(self) -> bool:
        """True when the reading should not be used unchecked (always, when the image failed)."""
        return self._verdict().suspect

    @property
    def suspect_reasons(self) -> tuple[str, ...]:
        """Why the reading is suspect (the error, when the image failed); empty otherwise."""
        return self._verdict().reasons

    @property
    def lead_confidence(self) -> dict[str, float]:
        """Confidence of each of the 12 leads, 0-1 (0 for a lead not read)."""
        return dict(self._verdict().lead_confidence)

    @property
    def lead_reasons(self) -> dict[str, tuple[str, ...]]:
        """Each lead's own reasons to doubt it (empty when none; ``"not read"`` for a
        lead not read; the 12 leads on a judged result). :attr:`suspect_reasons`
        concern every lead."""
        return dict(self._verdict().lead_reasons)

    @property
    def seconds(self) -> float:
        """Total time over the stations that ran."""
        return float(sum(r.seconds for r in self.stages))

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warnings raised by the stations, prefixed with the station's name."""
        return tuple(f"{r.name}: {w}" for r in self.stages for w in r.warnings)

    @property
    def quality_pass(self) -> bool | None:
        """The quality gates' verdict (None when they did not run)."""
        q = self.stage("quality")
        return None if q is None else bool(q.passed)

    @property
    def quarter_turns(self) -> int | None:
        """Quarter turns (counter-clockwise, as :func:`numpy.rot90`) that put the page upright.

        The orient station's turn, plus the half turn of the digitize station
        when the page read upside down obeyed Einthoven's law; None when the
        orient station did not run.
        """
        o = self.stage("orient")
        if o is None:
            return None
        d = self.stage("digitize")
        return (int(o.quarter_turns) + int(getattr(d, "quarter_turns", 0) or 0)) % 4

    def working_map(self) -> tuple[np.ndarray, tuple[int, int]] | None:
        """The map from the loaded image's pixels to the page the leads were read on.

        Returns
        -------
        matrix : (3, 3) ndarray
            Homography of pixel coordinates ``(x, y)`` (see :mod:`ecgprep._geometry`),
            composed over the geometric stations that ran (load's shrink, crop, perspective,
            deskew, quarter and half turns).
        shape : tuple of int
            ``(height, width)`` of that page.

        None when the image was not loaded.
        """
        if not self.shape:
            return None
        m = np.eye(3)
        shape = tuple(int(v) for v in self.shape[:2])
        for name in ("load", "edges", "perspective", "deskew", "orient"):
            r = self.stage(name)
            if r is None:
                break
            m = np.asarray(r.homography, dtype=np.float64) @ m
            # the perspective station's bare margins, trimmed after its curl
            x0, y0 = getattr(r, "offset", (0, 0))
            if x0 or y0:
                m = translation(-x0, -y0) @ m
            shape = tuple(int(v) for v in r.shape)
        d = self.stage("digitize")
        k = int(getattr(d, "quarter_turns", 0) or 0)
        if k:
            m = rot90_matrix(shape, k) @ m
            shape = shape if k % 2 == 0 else (shape[1], shape[0])
        return m, shape

    def working_to_input(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """A function taking points of the page the leads were read on back to the loaded image.

        The inverse of :meth:`working_map`, and of a page's curl where one was
        taken out (:func:`ecgprep.dewarp.uncurl`, which no homography can say):
        the function maps ``(K, 2)`` pixel coordinates ``(x, y)`` to ``(K, 2)``.
        None when the image was not loaded or the map cannot be inverted.
        """
        found = self.working_map()
        if found is None:
            return None
        persp = self.stage("perspective")
        curl = getattr(persp, "curl", None)
        if curl is None or not getattr(curl, "applied", False):
            inv = _inverse(found[0])
            return None if inv is None else (lambda xy: apply_homography(inv, xy))
        # loaded -> (crop, perspective) -> curl -> (deskew, turns) -> working
        before = np.eye(3)
        for name in ("load", "edges", "perspective"):
            before = np.asarray(self.stage(name).homography, dtype=np.float64) @ before
        after = found[0] @ np.linalg.inv(before)
        inv_before, inv_after = _inverse(before), _inverse(after)
        if inv_before is None or inv_after is None:
            return None
        from .dewarp import curl_source

        def to_input(xy: np.ndarray) -> np.ndarray:
            bent = curl_source(apply_homography(inv_after, xy), curl)
            return apply_homography(inv_before, bent)

        return to_input


def _inverse(m: np.ndarray) -> np.ndarray | None:
    """The inverse of a 3 x 3 map, None when it has none (or it is not finite)."""
    try:
        inv = np.linalg.inv(np.asarray(m, dtype=np.float64))
    except np.linalg.LinAlgError:
        return None
    return inv if np.all(np.isfinite(inv)) else None
