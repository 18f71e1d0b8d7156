"""One error hierarchy for ecgprep.

Every error the library raises on purpose derives from :class:`EcgprepError`.
Where the input is at fault the class also derives from :class:`ValueError`,
so ``except ValueError`` keeps working for callers who do not know ecgprep.
Messages say what was expected and what was found, and name the image when
one is known.
"""

from __future__ import annotations

__all__ = [
    "EcgprepError",
    "ImageLoadError",
    "InvalidImageError",
    "OptionsError",
    "StageError",
    "LayoutError",
    "GridNotFoundError",
    "TestCsvError",
]


class EcgprepError(Exception):
    """Base class of every error raised on purpose by ecgprep."""


class ImageLoadError(EcgprepError, ValueError):
    """The source could not be read as an image (missing, not an image, truncated, too large)."""


class InvalidImageError(EcgprepError, ValueError):
    """An array was given that is not a usable image (wrong shape, dtype, empty, non-finite)."""


class OptionsError(EcgprepError, ValueError):
    """Unknown option name or bad option value."""


class StageError(EcgprepError, ValueError):
    """A pipeline stage could not produce a result from this image."""


class LayoutError(StageError):
    """The lead layout could not be matched on the image."""


class GridNotFoundError(StageError):
    """No ECG grid (and so no scale) could be found on the image."""


class TestCsvError(EcgprepError, ValueError):
    """The competition ``test.csv`` frame is malformed."""

    __test__ = False  # not a pytest test class
