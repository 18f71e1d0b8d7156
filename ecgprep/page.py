"""The page as it travels the road: what one station hands the next.

Each station of :mod:`ecgprep.pipeline` is a function
``station(page, options) -> (page, result)``: it reads the fields it needs from
:class:`Page`, returns a new page (:func:`dataclasses.replace`) and its own small,
frozen result, which the pipeline records. The page holds full-size arrays and
never leaves the process; the results are small and do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Page"]


@dataclass(frozen=True)
class Page:
    """The state one image's stations share.

    Attributes
    ----------
    source : object
        What the caller gave: a path, bytes, a PIL image or an array.
    image : (M, N, 3) or (M, N) uint8 ndarray or None
        The working image: RGB until the quality station, its luma after (the
        stations after it read only the luma). None before loading.
    trace_mask : (M, N) bool ndarray or None
        Trace ink of ``image`` (from the colours station on).
    grid : GridResult or None
        A grid measured on ``image`` as it is now; None when none was measured or
        the image has been resampled since.
    px_per_mm : float
        The grid's mean scale as first seen (NaN when unknown).
    paper_warped : bool
        The paper's outline was already warped to a rectangle.
    lines_removed : bool
        The grid's lines were taken out of ``trace_mask`` (the degrid station,
        black-and-white pages), or painted lighter before the page was turned
        upright (the fade station).
    leads : dict of str to LeadSignal
        The digitized leads (after the digitize station).
    """

    source: Any = field(default=None, repr=False)
    image: np.ndarray | None = field(default=None, repr=False)
    trace_mask: np.ndarray | None = field(default=None, repr=False)
    grid: Any = None
    px_per_mm: float = float("nan")
    paper_warped: bool = False
    lines_removed: bool = False
    leads: dict = field(default_factory=dict, repr=False)
