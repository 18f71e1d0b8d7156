"""Repository-level pytest hooks (the package's doctests live outside tests/).

Docstring examples that render pages or run a whole batch take seconds: they get
the ``slow`` mark, so ``pytest -m "not slow"`` stays a fast lane. They are named
by function, not by module path, so moving a function to another module keeps
its mark.
"""

from __future__ import annotations

import pytest

#: Functions whose docstring examples take more than about a second.
SLOW_DOCTESTS = frozenset(
    {
        "measure",  # runs the benchmark on rendered pages
        "process_image_for_submission",
        "judge",  # reads a rendered page
        "rectify_from_grid",
        "overlay",
        "write_dataset",
    }
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        is_doctest = type(item).__name__ == "DoctestItem"
        if is_doctest and item.name.rsplit(".", 1)[-1] in SLOW_DOCTESTS:
            item.add_marker(pytest.mark.slow)
