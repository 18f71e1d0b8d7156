"""Put the page upright: quarter turns from the trace ink, half turns from Einthoven's law.

Traces run along the page, so a page whose trace ink is organised in columns
rather than rows is turned by 90 degrees (:func:`orient_page`, the orient
station). A page read upside down gives limb leads that break Einthoven's law
(:func:`ecgprep.signals.einthoven_residual`), so when the first reading breaks it,
the page is read again turned by 180 degrees and the reading that obeys the law is
kept (:func:`read_upright`, used by the digitize station). Where the ink's rows
and columns were nearly as strong (:func:`turn_in_doubt`: tall QRS complexes on a
page turned a quarter make columns too) and the reading breaks the law, the
pipeline reads the page turned the other way as well and keeps the reading that
obeys it (:func:`turned_wins`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._geometry import as_tuple, rot90_matrix
from ._profile import smooth
from .errors import EcgprepError
from .signals import einthoven_residual, limb_residual
from .standards import AUTO, LETTER_MM, PAPER_SPEED_MM_S, is_window

if TYPE_CHECKING:
    from .options import Options
    from .page import Page

__all__ = [
    "OrientResult",
    "orient_page",
    "read_upright",
    "orient_station",
    "turn_in_doubt",
    "law_residual",
    "turned_wins",
]

#: Column contrast must exceed row contrast by this factor to turn a page by 90 degrees.
TURN_CONTRAST_RATIO = 1.25
#: The page is not turned, whatever :data:`TURN_CONTRAST_RATIO` says, when over
#: the span its ink covers (:data:`INK_SPAN_TRIM`) the column contrast stays under
#: this share of the row contrast: a page whose rows fill part of its width (10 s
#: at 10 mm/s is 100 mm of a 280 mm page) has its empty columns' contrast, and
#: its QRS complexes, squeezed to vertical strokes, run down the page. Upright
#: synthetic pages the ratio alone turned (6x2, 3x4+3 and 12x1 at 10 mm/s) gave
#: 0.51-0.83 over their ink's span; pages turned a quarter that it turns, 1.02-1.59.
TURN_SPAN_VETO = 0.93
#: Least share of a 10 s row at 25 mm/s that a page turned a quarter must hold
#: across for the turn to stand (with the scale known): a page cut by the frame
#: still shows half its rows' length (a 45 degree photo: 86 %; an A4 scanner on a
#: 50 mm/s page: 5.6 s), a strip of thermal roll 270 px tall at 3.4 px/mm 31 %.
CUT_ROW_SHARE = 0.5
#: Share of a profile's ink left out at each end to find the span the ink covers.
INK_SPAN_TRIM = 0.05
#: Limb-lead readings with an Einthoven residual above this are read again turned by 180 degrees.
EINTHOVEN_SUSPECT = 0.5
#: Column / row contrast ratios between which a page may be either way up: most
#: upright pages measure 0.3-0.7, some up to 1.05 (ecg-dev, real_cases, real-dev)
#: and 12x1 pages at 20 mm/mV 1.25-1.40; pages turned a quarter whose tall QRS
#: complexes run across them down to 0.76 (benchmarks/quarter_turns.py). A
#: reading there that fails, breaks Einthoven's law or is flagged is tried with
#: the other quarter turn.
TURN_DOUBT = (0.75, 1.6)


@dataclass(frozen=True)
class OrientResult:
    """How the page was turned by a quarter turn (or not).

    Attributes
    ----------
    quarter_turns : int
        0 or 1: turns by 90 degrees counter-clockwise (:func:`numpy.rot90`).
    row_contrast, column_contrast : float
        Contrast (std / mean) of the trace ink summed along image rows and along
        columns. Traces run horizontally, so an upright page has row contrast
        well above column contrast; a page turned by 90 degrees the reverse.
    span_row_contrast, span_column_contrast : float
        The same over the span the ink covers (:data:`INK_SPAN_TRIM`), which
        may keep a page upright (:data:`TURN_SPAN_VETO`).
    homography : tuple of tuple of float
        (3, 3) map of the input image's pixel coordinates to the output's.
    shape : tuple of int
        ``(height, width)`` of the output image.
    by_law : bool
        The turn was given, not decided by the contrasts: the page read the other
        way broke Einthoven's law, and turned this way obeyed it (see the module
        docstring).
    """

    quarter_turns: int = 0
    row_contrast: float = float("nan")
    column_contrast: float = float("nan")
    span_row_contrast: float = float("nan")
    span_column_contrast: float = float("nan")
    homography: tuple = field(default=as_tuple(np.eye(3)), repr=False)
    shape: tuple[int, int] = (0, 0)
    by_law: bool = False

    @property
    def contrast_ratio(self) -> float:
        """Column over row contrast (NaN where the rows have none: no ink)."""
        if not self.row_contrast > 0:
            return float("nan")
        return float(self.column_contrast / self.row_contrast)


def _profile_contrast(profile: np.ndarray, sigma: float, *, span: bool = False) -> float:
    """std / mean of a profile smoothed by a Gaussian of ``sigma`` samples, 5 % trimmed
    per end (of its length; with ``span``, of its ink, :data:`INK_SPAN_TRIM`)."""
    p = smooth(profile, sigma)
    if span:
        total = np.cumsum(p)
        if p.size and total[-1] > 0:
            ends = [INK_SPAN_TRIM * total[-1], (1 - INK_SPAN_TRIM) * total[-1]]
            lo, hi = np.searchsorted(total, ends)
            p = p[int(lo) : int(hi) + 1]
    else:
        cut = int(0.05 * p.size)
        p = p[cut : p.size - cut] if p.size - 2 * cut >= 3 else p
    mean = float(p.mean()) if p.size else 0.0
    return float(p.std() / mean) if mean > 0 else 0.0


def orient_page(
    image: np.ndarray,
    trace_mask: np.ndarray,
    *,
    px_per_mm: float = float("nan"),
    paper_speed: float = 25.0,
    quarter_turns: int | None = None,
) -> tuple[np.ndarray, np.ndarray, OrientResult]:
    """Turn the page by 90 degrees when its traces run vertically (cheap: a few ms).

    Parameters
    ----------
    image : (M, N) or (M, N, C) ndarray
        The page.
    trace_mask : (M, N) bool ndarray
        Its trace ink.
    px_per_mm : float
        The grid's scale, if known (NaN otherwise: the page is taken to be
        as long as a letter page).
    paper_speed : float
        mm/s: with a known scale, a 10 s row that only fits across the page turned
        also turns it; with the scale known or not, one of which the page turned
        would not hold half (:data:`CUT_ROW_SHARE`) keeps it as it is (a strip of
        thermal roll, 270 px tall and 1280 wide, whose column contrast is its
        grid's).
    quarter_turns : {None, 0, 1}
        None decides from the ink; 0 or 1 gives the turn (the contrasts are
        still measured, and the result says ``by_law``).

    Returns
    -------
    image, trace_mask : ndarray
        Turned (contiguous copies) or the inputs themselves.
    OrientResult
        The turn and the contrasts that decided it.

    Notes
    -----
    The mask is summed along rows and along columns, each profile smoothed over
    1.5 mm; the page is turned when the column contrast exceeds the row contrast
    by :data:`TURN_CONTRAST_RATIO`, unless over the span its ink covers it does
    not (:data:`TURN_SPAN_VETO`: rows filling part of the width).

    Examples
    --------
    >>> mask = np.zeros((200, 100), bool)
    >>> mask[:, 20] = mask[:, 60] = True          # two "traces" running down the page
    >>> _, turned, res = orient_page(mask.astype(np.uint8), mask)
    >>> res.quarter_turns, turned.shape
    (1, (100, 200))
    """
    h, w = trace_mask.shape
    known = bool(np.isfinite(px_per_mm) and px_per_mm > 0)
    scale = float(px_per_mm) if known else max(h, w) / LETTER_MM[0]
    m = np.ascontiguousarray(trace_mask if trace_mask.dtype == bool else trace_mask > 0)
    m = m.view(np.uint8)
    import cv2

    sigma = 1.5 * scale
    row_profile = cv2.reduce(m, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    col_profile = cv2.reduce(m, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    rows = _profile_contrast(row_profile, sigma)
    cols = _profile_contrast(col_profile, sigma)
    span_rows = _profile_contrast(row_profile, sigma, span=True)
    span_cols = _profile_contrast(col_profile, sigma, span=True)
    turns = 1 if cols > TURN_CONTRAST_RATIO * rows else 0
    if turns and span_cols < TURN_SPAN_VETO * span_rows:
        turns = 0
    # a 10 s row that fits across the page one way only decides; a strip whose
    # height, turned, would not hold half a row stays as it is, also where the
    # scale is unknown (its longer side taken for a letter page's: a strip
    # under 45 % as tall as it is wide)
    row_len = 10.0 * paper_speed * scale
    if known and not turns and w < 0.98 * row_len <= h and rows < TURN_CONTRAST_RATIO * cols:
        turns = 1
    elif turns and h < CUT_ROW_SHARE * row_len <= w:
        turns = 0
    given = quarter_turns is not None
    if given:
        if quarter_turns not in (0, 1):
            raise ValueError(f"quarter_turns must be None, 0 or 1, not {quarter_turns!r}")
        turns = int(quarter_turns)
    hmat = rot90_matrix((h, w), turns)
    if turns:
        image = np.ascontiguousarray(np.rot90(image, turns))
        trace_mask = np.ascontiguousarray(np.rot90(trace_mask, turns))
    return (
        image,
        trace_mask,
        OrientResult(
            turns, rows, cols, span_rows, span_cols, as_tuple(hmat), trace_mask.shape, given
        ),
    )


def turn_in_doubt(res: OrientResult) -> bool:
    """Whether the page might be the other way up by a quarter turn.

    True when its column / row contrast ratio lies within :data:`TURN_DOUBT`
    (a ratio that cannot be measured is no doubt: there was no ink).
    """
    return bool(TURN_DOUBT[0] <= res.contrast_ratio <= TURN_DOUBT[1])


def law_residual(leads: Mapping[str, Any]) -> float:
    """:func:`~ecgprep.signals.einthoven_residual` of a reading; on one without
    I, II and III, that of the limb leads it has printed together
    (:func:`~ecgprep.signals.limb_residual`, times sqrt(3): the same measure on
    I, II and III alone). NaN when fewer than three were read."""
    r = einthoven_residual(leads)
    return r if np.isfinite(r) else float(np.sqrt(3.0) * limb_residual(leads))


def turned_wins(first: Any, turned: Any, r0: float, r1: float, *, failed: bool) -> bool:
    """Whether a turned reading replaces the first one (by Einthoven's law).

    Parameters
    ----------
    first, turned : object
        The readings (objects with a ``layout``, as a
        :class:`~ecgprep.digitize.Digitization`; ``first`` None when it failed).
    r0, r1 : float
        Their :func:`law_residual` (``r0`` inf when the first failed).
    failed : bool
        The first reading failed.

    Returns
    -------
    bool
        The turned reading obeys the law (``r1`` at most :data:`EINTHOVEN_SUSPECT`)
        and: the first failed; or the turned one is a whole layout and the first
        read some rows of one only, or could not be tested; or, a turned row
        window against a row window, or a whole layout against any reading, its
        residual is at most half the first one's (a whole page read upright,
        noisy, is not traded for some of its rows read upside down).
    """
    if not r1 <= EINTHOVEN_SUSPECT:
        return False
    partial = _partial(first)
    window = _partial(turned)
    if failed or (not window and (partial or not np.isfinite(r0))):
        return True
    return (partial or not window) and r1 <= 0.5 * r0


def _partial(reading: Any) -> bool:
    """Whether ``reading`` read some rows of a layout only (a row window)."""
    name = getattr(getattr(reading, "layout", None), "name", None)
    return isinstance(name, str) and is_window(name)


def read_upright(
    read: Callable[[np.ndarray, np.ndarray], Any], image: np.ndarray, trace_mask: np.ndarray
) -> tuple[Any, int, float, float]:
    """Read a page; if its limb leads break Einthoven's law, or it was read as some rows
    of a layout only, read it turned by 180 degrees too.

    Parameters
    ----------
    read : callable
        ``read(image, trace_mask)`` returning an object with a ``leads`` mapping
        (a :class:`~ecgprep.digitize.Digitization`), or raising an
        :class:`~ecgprep.errors.EcgprepError`.
    image, trace_mask : ndarray
        The page and its trace ink.

    Returns
    -------
    reading : object
        The reading kept.
    quarter_turns : int
        0, or 2 when the turned reading was kept.
    residual, residual_turned : float
        Einthoven residuals of the first and the turned reading (inf when the
        first failed, NaN when the turned one was not tried or failed; on a
        reading without I, II and III, that of its limb leads, :func:`law_residual`).

    Raises
    ------
    EcgprepError
        The first reading's error, when it failed and the turned one did not
        obey the law.

    Notes
    -----
    The turned reading is kept when its residual is under
    :data:`EINTHOVEN_SUSPECT` and (:func:`turned_wins`) the first reading failed,
    or the turned one is a whole layout and the first one's residual could not
    be measured (fewer than three limb leads printed together) or the first read
    some rows of a layout only, or else its residual is at most half the first
    one's: an upside-down page's rows may match no whole layout, and some of
    them, turned, obey the law as well as upright ones (the law holds with every
    lead negated and time reversed). A turned row window replaces only a failed
    reading or another row window.
    """
    first_error: EcgprepError | None = None
    try:
        reading = read(image, trace_mask)
        r0 = law_residual(reading.leads)
    except EcgprepError as exc:
        reading, r0, first_error = None, float("inf"), exc
    r1 = float("nan")
    # A first reading of some rows only (a partial page), or one the law cannot
    # test, may be an upside-down page's whose rows matched no whole layout: its
    # limb leads, rows and times turned, may obey the law all the same.
    untested = not np.isfinite(r0)
    partial = _partial(reading)
    if first_error is not None or untested or partial or r0 > EINTHOVEN_SUSPECT:
        try:
            turned = read(
                np.ascontiguousarray(np.rot90(image, 2)),
                np.ascontiguousarray(np.rot90(trace_mask, 2)),
            )
        except EcgprepError:
            turned = None
        if turned is not None:
            r1 = law_residual(turned.leads)
            if turned_wins(reading, turned, r0, r1, failed=first_error is not None):
                return turned, 2, r0, r1
    if first_error is not None:
        raise first_error
    return reading, 0, r0, r1


def orient_station(
    page: Page, opts: Options, *, quarter_turns: int | None = None
) -> tuple[Page, OrientResult]:
    """Orient station: the page and its trace mask turned upright by a quarter turn if needed.

    ``quarter_turns`` (0 or 1) gives the turn instead (see :func:`orient_page`).
    """
    image, mask, res = orient_page(
        page.image,
        page.trace_mask,
        px_per_mm=page.px_per_mm,
        # the speed is found later, on the upright page; 25 mm/s rows are the
        # shortest that may only fit across the page turned
        paper_speed=PAPER_SPEED_MM_S if opts.paper_speed == AUTO else opts.paper_speed,
        quarter_turns=quarter_turns,
    )
    # A grid measured before a turn no longer describes the image.
    grid = page.grid if res.quarter_turns == 0 else None
    return dataclasses.replace(page, image=image, trace_mask=mask, grid=grid), res
