"""One frozen, validated set of options shared by every entry point.

``Options`` is accepted everywhere an ``options`` argument appears; so is a plain
``dict`` with the same keys (or ``None`` for the defaults). Unknown keys and bad
values raise :class:`~ecgprep.errors.OptionsError` (a ``ValueError``) naming them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .colors import COLOR_BACKENDS, COLOR_SPACES
from .edges import EDGE_METHODS
from .errors import OptionsError
from .standards import AUTO, layout_rows
from .standards import LAYOUTS as _LAYOUT_TABLE
from .submission import FALLBACKS

__all__ = ["Options", "as_options", "EDGE_METHODS", "COLOR_SPACES", "COLOR_BACKENDS", "LAYOUTS"]

#: Layout names (:data:`ecgprep.standards.LAYOUTS`), and ``"auto"``.
LAYOUTS = (AUTO, *_LAYOUT_TABLE)


@dataclass(frozen=True)
class Options:
    """Options of the whole pipeline.

    Parameters
    ----------
    edge_method : {'canny', 'sobel', 'laplacian', 'contour'}
        Edge detector used to find the paper.
    crop : bool
        Crop the image to the paper before the other stages.
    rectify : bool
        Undo perspective and rotation (from the paper outline and the grid lines).
    color_space : {'lab', 'hsv'}
        Colour space in which traces are separated from the grid.
    color_backend : {'opencv', 'pillow', 'skimage'}
        Library that converts colours (they agree to IoU >= 0.9).
    min_dpi : float
        Quality gate: effective resolution (grid px/mm x 25.4) below this fails.
    min_sharpness : float
        Quality gate: sharpness (see :func:`ecgprep.quality.measure_sharpness`) below this fails.
    min_contrast : float
        Quality gate: trace/paper contrast (0-1) below this fails.
    max_pixels : int
        Images claiming more pixels than this are refused before decoding.
    layout : {'auto', '3x4+1', '3x4+2', '3x4+3', '3x4', '6x2', '6x2+1', '12x1'}
        Lead layout printed on the page. ``'auto'`` (default) reads every layout
        printing as many trace rows as the page holds and keeps the reading that
        best obeys Einthoven's law; a named layout is read as named (a ``+N``
        layout may name its rhythm strips' leads, ``'3x4+3:V1,II,V5'``; without
        them each strip is named after the short panel it repeats).
    paper_speed : float or 'auto'
        Paper speed in mm/s; ``'auto'`` (default): 10, 25 or 50 mm/s, whichever
        makes the rows 10 s long (25 when none does).
    gain : float or 'auto'
        Voltage scale in mm/mV; ``'auto'`` (default): 5, 10 or 20 mm/mV from each
        row's calibration pulse (10 where the page has none).
    signal_fs : float
        Sampling rate (Hz) of the signals kept in each result; the submission
        resamples them to the rate ``test.csv`` requests.
    law_mend : bool
        Re-read limb-lead samples the ink left in doubt (bridged over a gap, or
        on a stroke shared with the neighbouring row's wave) from the other limb
        leads printed at the same times, where they outvote the reading
        (:func:`ecgprep.digitize.law.mend_by_law`); the digitize record lists the
        leads mended (``mended``), and its Einthoven residual is the reading's
        before. ``False`` keeps every sample as read from the ink.
    fallback : {'zeros'}
        What the submission holds for an image that could not be digitized.
    opencv_threads : int
        Threads OpenCV may use inside one worker (1 keeps parallel batches efficient).
    reuse_memory : bool
        In the worker processes of a loky batch (joblib's default backend), ask
        the C allocator (glibc; elsewhere nothing happens) to keep freed memory
        for the next image instead of giving it back to the system: about 10 %
        more images per second, and each worker holds its peak memory (about
        200 MB) until it exits. The setting belongs to the worker process: loky
        reuses its workers for the session's later joblib work (another batch,
        even with ``reuse_memory=False``, or other libraries' jobs) until it
        ends them (after 5 idle minutes, or
        ``joblib.externals.loky.get_reusable_executor().shutdown()``). Never done
        in the caller's own process, nor on Dask or Ray workers.
    """

    edge_method: str = "canny"
    crop: bool = True
    rectify: bool = True
    color_space: str = "lab"
    color_backend: str = "opencv"
    min_dpi: float = 150.0
    min_sharpness: float = 0.35
    min_contrast: float = 0.25
    max_pixels: int = 100_000_000
    layout: str = AUTO
    paper_speed: float | str = AUTO
    gain: float | str = AUTO
    signal_fs: float = 500.0
    law_mend: bool = True
    fallback: str = "zeros"
    opencv_threads: int = 1
    reuse_memory: bool = True

    def __post_init__(self) -> None:
        choices = {
            "edge_method": EDGE_METHODS,
            "color_space": COLOR_SPACES,
            "color_backend": COLOR_BACKENDS,
            "fallback": FALLBACKS,
        }
        for name, valid in choices.items():
            value = getattr(self, name)
            if value not in valid:
                raise OptionsError(
                    f"option {name}={value!r} is not valid; valid: {', '.join(map(repr, valid))}"
                )
        if self.layout != AUTO:
            try:
                layout_rows(self.layout)
            except ValueError:
                raise OptionsError(
                    f"option layout={self.layout!r} is not valid; valid: "
                    f"{', '.join(map(repr, LAYOUTS))}, or a '+N' layout with its rhythm "
                    "leads after a colon ('3x4+3:V1,II,V5')"
                ) from None
        for name in ("crop", "rectify", "law_mend", "reuse_memory"):
            if not isinstance(getattr(self, name), bool):
                raise OptionsError(
                    f"option {name} must be True or False, got {getattr(self, name)!r}"
                )
        positive = ("min_dpi", "paper_speed", "gain", "signal_fs", "max_pixels", "opencv_threads")
        nonneg = ("min_sharpness", "min_contrast")
        for name in positive + nonneg:
            value = getattr(self, name)
            if name in ("paper_speed", "gain") and value == AUTO:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                what = "a number or 'auto'" if name in ("paper_speed", "gain") else "a number"
                raise OptionsError(f"option {name} must be {what}, got {value!r}")
            if not math.isfinite(value):
                raise OptionsError(f"option {name} must be finite, got {value!r}")
            if name in positive and value <= 0:
                raise OptionsError(f"option {name} must be > 0, got {value!r}")
            if name in nonneg and value < 0:
                raise OptionsError(f"option {name} must be >= 0, got {value!r}")
        for name in ("max_pixels", "opencv_threads"):
            if int(getattr(self, name)) != getattr(self, name):
                raise OptionsError(
                    f"option {name} must be a whole number, got {getattr(self, name)!r}"
                )
        if self.signal_fs > 100_000:
            raise OptionsError(
                f"option signal_fs must be at most 100000 Hz, got {self.signal_fs!r}"
            )
        if self.min_contrast > 1:
            raise OptionsError(f"option min_contrast must be in [0, 1], got {self.min_contrast!r}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The valid option names."""
        return tuple(f.name for f in dataclasses.fields(cls) if not f.name.startswith("_"))

    def replace(self, **changes: Any) -> Options:
        """A copy with some options changed (validated)."""
        _check_keys(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The options as a plain dict (JSON-friendly)."""
        return {name: getattr(self, name) for name in self.names()}


def _refuse_unknown(init):
    """Wrap the dataclass ``__init__`` so that ``Options(bad=1)`` raises :class:`OptionsError`."""

    @functools.wraps(init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            raise OptionsError(
                f"options are given by name (Options(layout='3x4+1')), got {len(args)} "
                "positional value(s)"
            )
        _check_keys(kwargs)
        init(self, **kwargs)

    return __init__


Options.__init__ = _refuse_unknown(Options.__init__)  # type: ignore[method-assign]


def _check_keys(keys) -> None:
    valid = Options.names()
    unknown = sorted(str(k) for k in keys if k not in valid)
    if unknown:
        raise OptionsError(f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(valid)}")


def as_options(options: Options | Mapping[str, Any] | None = None, **overrides: Any) -> Options:
    """Turn ``None``, a dict or an :class:`Options` into a validated :class:`Options`.

    Parameters
    ----------
    options : Options or dict or None
        ``None`` gives the defaults; a dict must use the names of :class:`Options`.
    **overrides
        Further options that take precedence.

    Raises
    ------
    OptionsError
        Unknown names or bad values, naming them.
    """
    if options is None:
        base = Options()
    elif isinstance(options, Options):
        base = options
    elif isinstance(options, Mapping):
        _check_keys(options.keys())
        base = Options(**dict(options))
    else:
        raise OptionsError(
            f"options must be an Options, a dict or None, got {type(options).__name__}"
        )
    return base.replace(**overrides) if overrides else base
