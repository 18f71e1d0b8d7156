"""Session-wide fixtures: the synthetic pages and data set many test files share.

Rendering a page costs about a second; several files used to render the same
page (same seed, resolution and options) for themselves. Here each distinct
page is rendered once per session and handed out **read-only**: its image, masks
and signals have ``flags.writeable = False``, so a test that modifies a shared
page in place fails loudly instead of spoiling the tests that run after it
(take a ``.copy()`` to edit one).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def freeze(obj):
    """Make every ndarray reachable from ``obj`` (dataclass fields, dicts, lists,
    tuples) read-only, in place; return ``obj``."""
    seen: set[int] = set()

    def walk(x) -> None:
        if id(x) in seen:
            return
        seen.add(id(x))
        if isinstance(x, np.ndarray):
            x.flags.writeable = False
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            for f in dataclasses.fields(x):
                walk(getattr(x, f.name))
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list | tuple):
            for v in x:
                walk(v)

    walk(obj)
    return obj


def _key(fn: Callable, args: tuple, kwargs: dict) -> tuple:
    """The call's arguments with defaults filled in, so ``dpi=100`` and ``dpi=100.0``
    or an explicit default name the same page."""
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    return tuple(
        (name, repr(value) if not isinstance(value, int | float) else float(value))
        for name, value in bound.arguments.items()
    )


@pytest.fixture(scope="session")
def synth_render():
    """``synth_render(**kwargs)``: ``ecgprep.synth.render_ecg(**kwargs)``, rendered once
    per session for each distinct set of arguments, read-only."""
    from ecgprep.synth import render_ecg

    cache: dict[tuple, object] = {}

    def render(**kwargs):
        key = _key(render_ecg, (), kwargs)
        if key not in cache:
            cache[key] = freeze(render_ecg(**kwargs))
        return cache[key]

    return render


@pytest.fixture(scope="session")
def page200(synth_render):
    """The default page (3x4+1, red grid, 200 dpi), seed 11."""
    return synth_render(seed=11)


@pytest.fixture(scope="session")
def page100(synth_render):
    """A 100 dpi page (3x4+1, red grid), seed 3."""
    return synth_render(seed=3, dpi=100)


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory) -> Path:
    """A two-image competition-format data set (``images/``, ``test.csv``,
    ``solution.csv``; kinds clean and pulse, seed 3). Shared: write outputs
    elsewhere, never into it."""
    from ecgprep.synth import write_dataset

    d = tmp_path_factory.mktemp("synth-dataset")
    write_dataset(d, n=2, seed=3, kinds=("clean", "pulse"))
    return d


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark(name)``: the script ``benchmarks/{name}.py`` as a module.

    The scripts live beside the package, not in the wheel: they are imported from
    their files.
    """
    folder = Path(__file__).resolve().parents[1] / "benchmarks"

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
