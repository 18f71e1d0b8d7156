"""ecgprep: turn pictures of paper 12-lead ECGs into signals.

Stages (each a plain function over numpy arrays): :mod:`ecgprep.edges` (paper and
crop), :mod:`ecgprep.colors` (traces vs grid), :mod:`ecgprep.grid` (px/mm and
rotation), :mod:`ecgprep.quality` (gates), :mod:`ecgprep.digitize` (layout,
calibration, traces, mV). Entry points: :func:`process_image_for_submission`,
:func:`process_batch_for_submission`, :func:`submission_frame`.
"""

__version__ = "0.1.0"

from .batch import BatchResults, notebook_process_batch, process_batch_for_submission, summary_frame
from .digitize import LeadSignal
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
from .io import load_image
from .options import Options, as_options
from .pipeline import ImageResult, process_image_for_submission

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
    "load_image",
    "notebook_process_batch",
    "process_batch_for_submission",
    "process_image_for_submission",
    "submission_frame",
    "summary_frame",
]


def __getattr__(name):
    # submission_frame lives with the submission code; imported on first use.
    if name in ("submission_frame", "write_submission", "read_test_csv"):
        from . import submission

        return getattr(submission, name)
    raise AttributeError(f"module 'ecgprep' has no attribute {name!r}")
