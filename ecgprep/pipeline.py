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

import numpy as np

from . import colors, degrid, digitize, edges, grid, io, orient, quality, rectify
from ._geometry import as_tuple, translation
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
    result = _read_turned_a_quarter(run, _result(run, iid, source, opts), opts, iid, source)
    if result.ok and not result.suspect:
        return result
    inside = _read_in_grid_region(run, result, opts, source)
    if inside is None:
        return result
    again = _read_turned_a_quarter(inside, _result(inside, iid, source, opts), opts, iid, source)
    if again.ok and (not result.ok or not again.suspect):
        return again
    return result


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
    the page the edges station was given (None if it did not run; kept to read
    the page again inside its grid), and the end (``bug``: the station that
    failed raised an error of ecgprep's own, not of the image's)."""

    records: tuple[StageRecord, ...]
    unturned: Page | None
    page: Page
    error: str | None = None
    failed: str | None = None
    loaded: Page | None = None
    bug: bool = False


def _run(stations: Sequence[tuple[str, Station]], page: Page, opts: Options, source: str) -> _Run:
    """Run ``stations`` in order from ``page``; the first that fails ends the run."""
    records: list[StageRecord] = []
    unturned = loaded = None
    for name, station in stations:
        unturned = page if name == "orient" else unturned
        loaded = page if name == "edges" else loaded
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                page, result = station(page, opts)
            except Exception as exc:  # noqa: BLE001 - one bad image must not sink a batch
                error = f"{source}: {_failure(name, exc, source)}"
                bug = not isinstance(exc, IMAGE_ERRORS)
                return _Run(tuple(records), unturned, page, error, name, loaded, bug)
        messages = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        records.append(StageRecord(name, time.perf_counter() - t0, result, messages))
    return _Run(tuple(records), unturned, page, loaded=loaded)


#: A gridded region covering more than this share of the picture is the page
#: itself (a render, a scan): reading inside it would change nothing worth a
#: second run.
REGION_MAX_SHARE = 0.6
#: ... and one whose tiles fill less than this share of their bounds is scattered
#: lines (a dotted grid found in parts, ruled sheets, boxes), not one page.
REGION_MIN_FILL = 0.6


def _read_in_grid_region(
    first: _Run, result: ImageResult, opts: Options, source: str
) -> _Run | None:
    """The image read again inside its gridded region, when its ``result`` failed
    or was flagged on a picture where the grid covers a small part of the frame
    (None when no such region was found).

    A strip of ECG paper photographed among other white sheets on a light desk
    stands out from nothing by its brightness, or with them as one bogus page:
    the grid, a quarter of the frame, is drowned by the desk's speckle, or a
    ruled sheet beside it is read as trace rows.
    :func:`ecgprep.edges.find_grid_region` finds where horizontal and vertical
    lines cross in the loaded picture; the stations from the perspective station
    on run again on that part of it (not the edges station: inside a page, a
    block of text stands out like a page). The second run's edges record maps
    the loaded image into the region, which it gives as the paper, and says why
    in a warning; the caller keeps the second reading where the first failed and
    it got through, or where it is not flagged (turned a quarter if need be,
    :func:`_read_turned_a_quarter`).
    """
    if first.bug or first.loaded is None or len(first.records) < 2:
        return None
    t0 = time.perf_counter()
    image = first.loaded.image
    region = edges.find_grid_region(image)
    if not region.found or region.share > REGION_MAX_SHARE or region.fill < REGION_MIN_FILL:
        return None
    x0, y0, x1, y1 = region.box
    inside = dataclasses.replace(first.loaded, image=np.ascontiguousarray(image[y0:y1, x0:x1]))
    at = STAGES.index("perspective")
    again = _run(STATIONS[at:], inside, opts, source)
    record = first.records[at - 1]
    corners = np.array([[x0, y0], [x1 - 1, y0], [x1 - 1, y1 - 1], [x0, y1 - 1]], np.float64)
    paper = dataclasses.replace(
        record.result.paper, quad=corners, box=region.box, found=True, confidence=region.fill
    )
    if result.ok:
        why = "the reading of the whole picture was flagged: " + "; ".join(result.suspect_reasons)
    else:
        why = str(result.error).removeprefix(source + ": ")
    note = (
        f"{why}; read again inside its gridded part, x {x0}-{x1}, y {y0}-{y1} px "
        f"({region.share:.0%} of it)"
    )
    # the image's time stays whole: the first reading's (turned again or not) from here on
    seconds = sum(r.seconds for r in result.stages[at - 1 :]) + time.perf_counter() - t0
    crop = edges.CropResult(paper, True, False, as_tuple(translation(-x0, -y0)), (y1 - y0, x1 - x0))
    record = dataclasses.replace(record, seconds=seconds, result=crop, warnings=(note,))
    records = (*first.records[: at - 1], record, *again.records)
    return dataclasses.replace(again, records=records, loaded=first.loaded)


def _read_turned_a_quarter(
    first: _Run, result: ImageResult, opts: Options, iid: str, source: str
) -> ImageResult:
    """The image read again from the orient station with the other quarter turn,
    when the turn was in doubt (:func:`ecgprep.orient.turn_in_doubt`) and the
    reading failed, broke Einthoven's law or was flagged suspect.

    The second reading is kept when it obeys the law and replaces the first by
    :func:`ecgprep.orient.turned_wins`, or when the first was flagged and it is
    not, its residual no larger (a turned page's columns of QRS complexes, read
    as short rows, may obey the law loosely). Both are judged by their residual
    as read, as the verdict judges them (:func:`_residual`). Its orient record
    says why, and its time holds the first reading's from the orient station on
    (the image's time stays whole).
    """
    names = [r.name for r in first.records]
    if "orient" not in names:
        return result
    at = names.index("orient")
    turn = first.records[at].result
    r0 = _residual(result.stage("digitize"), result.signals) if result.ok else float("inf")
    if not orient.turn_in_doubt(turn) or (r0 <= orient.EINTHOVEN_SUSPECT and not result.suspect):
        return result
    other = functools.partial(orient.orient_station, quarter_turns=1 - turn.quarter_turns)
    stations = [("orient", other), *STATIONS[STAGES.index("orient") + 1 :]]
    again = _run(stations, first.unturned, opts, source)
    if again.error is not None:
        return result
    r1 = _residual(again.records[-1].result, again.page.leads)
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


def _residual(digitization: Any, leads: Mapping[str, Any]) -> float:
    """A reading's Einthoven residual as the verdict judges it: as read, before the
    law mended any sample (``digitization.einthoven``); on a reading without I, II
    and III, that of the limb leads it has (:func:`ecgprep.orient.law_residual`)."""
    r = float(getattr(digitization, "einthoven", math.nan))
    return r if math.isfinite(r) else orient.law_residual(leads)


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
