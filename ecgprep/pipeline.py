"""The road: one image through its stations, in order.

Each station is a function ``station(page, options) -> (page, result)`` in its own
module: it reads what it needs from the :class:`~ecgprep.page.Page`, hands a new
page on, and returns a small frozen result that is recorded with its time and
warnings. :func:`process_image_for_submission` never raises for a bad image: the
first station that fails ends the road, and the failure is recorded with the
station's name and the cause.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import colors, degrid, digitize, edges, grid, io, orient, quality, rectify
from .errors import EcgprepError
from .options import Options, as_options
from .page import Page
from .result import ImageResult, StageRecord
from .signals import einthoven_residual
from .standards import LEADS
from .verdict import Verdict, judge_result

__all__ = [
    "STATIONS",
    "STAGES",
    "ImageResult",
    "StageRecord",
    "Verdict",
    "einthoven_residual",
    "process_image_for_submission",
]

Station = Callable[[Page, Options], tuple[Page, Any]]

#: The road, in order: ``(name, station)``.
STATIONS: tuple[tuple[str, Station], ...] = (
    ("load", io.load_station),  # decode into RGB
    ("edges", edges.crop_station),  # find the paper; crop to it, or warp its outline
    ("perspective", rectify.perspective_station),  # undo perspective from the grid's lines
    ("fade", degrid.fade_station),  # grid lines as dark as the trace painted gray before deskew
    ("deskew", grid.deskew_station),  # undo the grid's rotation
    ("colors", colors.colors_station),  # trace ink apart from grid and paper
    ("orient", orient.orient_station),  # a quarter turn when traces run down the page
    ("grid", grid.grid_station),  # px per mm in x and y
    ("degrid", degrid.degrid_station),  # grid lines out of the trace mask (black-and-white pages)
    ("quality", quality.quality_station),  # resolution, sharpness, contrast gates
    ("digitize", digitize.digitize_station),  # layout, pulses, traces, mV (upright by Einthoven)
)
#: Station names in the order they run.
STAGES: tuple[str, ...] = tuple(name for name, _ in STATIONS)

#: Exceptions that mean "this image cannot be read"; any other is a bug of ecgprep's.
IMAGE_ERRORS = (EcgprepError, ValueError, MemoryError)


def process_image_for_submission(
    image: Any,
    options: Options | Mapping[str, Any] | None = None,
    *,
    image_id: str | None = None,
) -> ImageResult:
    """Run every station on one image and digitize its 12 leads.

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
        ``ok`` False with ``error`` and ``failed_stage`` when a station failed;
        ``verdict`` (:class:`~ecgprep.verdict.Verdict`) says how far the reading may
        be trusted.

    Examples
    --------
    >>> from ecgprep.synth import render_ecg
    >>> res = process_image_for_submission(render_ecg(seed=1).image, image_id="demo")
    >>> res.ok, list(res.signals)[:3], res.suspect
    (True, ['I', 'II', 'III'], False)
    """
    opts = as_options(options)
    source = io.describe_source(image)
    iid = image_id if image_id is not None else io.image_id_of(image, 0)
    run = _run(STATIONS, Page(source=image), opts, source)
    result = _result(run, iid, source, opts)
    return _read_turned_a_quarter(run, result, opts, iid, source)


def _result(run: _Run, iid: str, source: str, opts: Options) -> ImageResult:
    """The image's result from its stations' run, with its verdict."""
    records = tuple(run.records)
    if run.error is not None:
        return ImageResult(
            iid,
            source,
            False,
            run.error,
            run.failed,
            records,
            shape=_loaded_shape(records),
            verdict=Verdict.failure(run.error),
        )
    page = run.page
    signals = {lead: page.leads[lead] for lead in LEADS if lead in page.leads}
    result = ImageResult(
        iid, source, True, stages=records, signals=signals, shape=_loaded_shape(records)
    )
    # The verdict reads every station's result, so it is given where they are
    # gathered rather than by a station (a station sees only the page).
    return dataclasses.replace(result, verdict=judge_result(result, gain=opts.gain))


@dataclasses.dataclass(frozen=True)
class _Run:
    """Stations run on one image: the records, the page that entered the orient
    station (None if it did not run; kept to read the page turned another way),
    and the end."""

    records: tuple[StageRecord, ...]
    unturned: Page | None
    page: Page
    error: str | None = None
    failed: str | None = None


def _run(stations: Sequence[tuple[str, Station]], page: Page, opts: Options, source: str) -> _Run:
    """Run ``stations`` in order from ``page``; the first that fails ends the run."""
    records: list[StageRecord] = []
    unturned = None
    for name, station in stations:
        unturned = page if name == "orient" else unturned
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                page, result = station(page, opts)
            except Exception as exc:  # noqa: BLE001 - one bad image must not sink a batch
                error = f"{source}: {_failure(name, exc, source)}"
                return _Run(tuple(records), unturned, page, error, name)
        messages = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        records.append(StageRecord(name, time.perf_counter() - t0, result, messages))
    return _Run(tuple(records), unturned, page)


def _read_turned_a_quarter(
    first: _Run, result: ImageResult, opts: Options, iid: str, source: str
) -> ImageResult:
    """The image read again from the orient station with the other quarter turn,
    when the turn was in doubt (:func:`ecgprep.orient.turn_in_doubt`) and the
    reading failed, broke Einthoven's law or was flagged suspect.

    The second reading is kept when it obeys the law and replaces the first by
    :func:`ecgprep.orient.turned_wins`, or when the first was flagged and it is
    not, its residual no larger (a turned page's columns of QRS complexes, read
    as short rows, may obey the law loosely). Its orient record says why, and
    its time holds the first reading's from the orient station on (the image's
    time stays whole).
    """
    names = [r.name for r in first.records]
    if "orient" not in names:
        return result
    at = names.index("orient")
    turn = first.records[at].result
    r0 = orient.law_residual(result.signals) if result.ok else float("inf")
    if not orient.turn_in_doubt(turn) or (r0 <= orient.EINTHOVEN_SUSPECT and not result.suspect):
        return result
    other = functools.partial(orient.orient_station, quarter_turns=1 - turn.quarter_turns)
    stations = [("orient", other), *STATIONS[STAGES.index("orient") + 1 :]]
    again = _run(stations, first.unturned, opts, source)
    if again.error is not None:
        return result
    r1 = orient.law_residual(again.page.leads)
    if not result.ok:
        why = "the reading failed"
    elif math.isnan(r0):
        why = "its limb leads could not be tested by Einthoven's law"
    elif r0 > orient.EINTHOVEN_SUSPECT:
        why = f"its limb leads broke Einthoven's law (residual {r0:.2f})"
    else:
        why = f"the reading was flagged (residual {r0:.2f})"
    note = (
        f"turned a quarter against the ink's column / row contrast "
        f"({turn.contrast_ratio:.2f}): read the other way, {why}; this way the "
        f"residual is {r1:.2f}"
    )
    o = again.records[0]
    seconds = o.seconds + sum(r.seconds for r in first.records[at:])
    o = dataclasses.replace(o, seconds=seconds, warnings=(*o.warnings, note))
    records = (*first.records[:at], o, *again.records[1:])
    second = _result(dataclasses.replace(again, records=records), iid, source, opts)
    read0 = result.stage("digitize") if result.ok else None
    wins = orient.turned_wins(read0, second.stage("digitize"), r0, r1, failed=not result.ok)
    better = result.suspect and not second.suspect and r1 <= r0
    return second if wins or better else result


def _failure(station: str, exc: BaseException, source: str) -> str:
    """Why a station failed: the cause for a bad image, the place in the code for a bug."""
    if isinstance(exc, IMAGE_ERRORS):
        message = str(exc)
        prefix = f"{source}: "  # the result's error names the image once
        return f"{station} failed: {message.removeprefix(prefix)}"
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return (
        f"{station} failed with an internal error (a bug in ecgprep, please report it): "
        f"{type(exc).__name__}: {exc} (at {Path(frame.filename).name}:{frame.lineno} "
        f"in {frame.name})"
    )


def _loaded_shape(records: list[StageRecord]) -> tuple[int, ...]:
    if not records or records[0].name != "load":
        return ()
    loaded = records[0].result
    return (loaded.height, loaded.width)
