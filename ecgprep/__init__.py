"""ecgprep: turn pictures of paper 12-lead ECGs into signals.

Stages (each a plain function over numpy arrays): :mod:`ecgprep.edges` (paper and
crop), :mod:`ecgprep.rectify` (perspective), :mod:`ecgprep.dewarp` (a page's
curl), :mod:`ecgprep.colors` (traces vs grid), :mod:`ecgprep.orient` (upright),
:mod:`ecgprep.grid` (px/mm and rotation),
:mod:`ecgprep.quality` (gates), :mod:`ecgprep.digitize` (layout, calibration,
traces, mV); :mod:`ecgprep.pipeline` runs them in order. Entry points:
:func:`process_image_for_submission`, :func:`process_batch_for_submission`,
:func:`submission_frame`. Every submodule is reachable as an attribute
(``ecgprep.viz``, ``ecgprep.synth``, ...), imported on first use.
"""

__version__ = "0.1.0"

from .batch import BatchResults, notebook_process_batch, process_batch_for_submission, summary_frame
from .errors import (
    EcgprepError,
    GridNotFoundError,
    ImageLoadError,
    InvalidImageError,
    LayoutError,
    OptionsError,
    StageError,
    TestCsvError,
)
from .io import find_image, load_image
from .options import Options, as_options
from .pipeline import ImageResult, process_image_for_submission
from .signals import LeadSignal
from .submission import (
    images_for_test,
    read_test_csv,
    submission_frame,
    submission_with_report,
    write_submission,
)

__all__ = [
    "__version__",
    "BatchResults",
    "EcgprepError",
    "GridNotFoundError",
    "ImageLoadError",
    "ImageResult",
    "InvalidImageError",
    "LayoutError",
    "LeadSignal",
    "Options",
    "OptionsError",
    "StageError",
    "TestCsvError",
    "as_options",
    "find_image",
    "images_for_test",
    "load_image",
    "read_test_csv",
    "submission_with_report",
    "write_submission",
    "notebook_process_batch",
    "process_batch_for_submission",
    "process_image_for_submission",
    "submission_frame",
    "summary_frame",
]

#: Submodules reachable as attributes of the package, imported on first use.
_SUBMODULES = frozenset(
    {
        "batch",
        "colors",
        "compare",
        "degrid",
        "demo",
        "dewarp",
        "digitize",
        "edges",
        "errors",
        "evaluate",
        "grid",
        "io",
        "metrics",
        "options",
        "orient",
        "page",
        "pipeline",
        "quality",
        "rectify",
        "result",
        "signals",
        "standards",
        "submission",
        "synth",
        "verdict",
        "viz",
    }
)


def __getattr__(name: str):
    if name in _SUBMODULES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'ecgprep' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
