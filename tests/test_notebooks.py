"""The notebooks run end to end (nbclient, python3 kernel) on data rendered in a tmp dir."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
# A hang guard, not a speed check (speed belongs to the benchmark): a cell that
# runs this long is stuck.
CELL_TIMEOUT_S = 600


def _kernel_env(**extra: str) -> dict[str, str]:
    """The test's environment for the kernel, with Agg plots and ecgprep importable."""
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's frozen-modules note
    env.update(extra)
    return env


def _run(name: str, cwd: Path, extra_cell: str | None = None, **env: str):
    """Execute notebook ``name`` in a fresh python3 kernel (the test's interpreter)."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    if extra_cell:
        nb.cells.append(nbformat.v4.new_code_cell(extra_cell))
    client.execute(env=_kernel_env(**env))
    return nb


def _errors(nb) -> list[str]:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(f"{o['ename']}: {o['evalue']}")
    return out


@pytest.fixture(scope="module")
def dataset(synth_dataset):
    return synth_dataset


def test_committed_notebooks_have_no_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name}: a code cell has outputs"
                assert cell.execution_count is None, (
                    f"{path.name}: a code cell has an execution count"
                )
        assert path.stat().st_size < 50_000, f"{path.name} is {path.stat().st_size} bytes"
    assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} >= {
        "kaggle_submission.ipynb",
        "pipeline_tour.ipynb",
    }


@pytest.mark.slow
def test_kaggle_submission_notebook(dataset, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    nb = _run(
        "kaggle_submission.ipynb",
        tmp_path,
        ECGPREP_TEST_CSV=str(dataset / "test.csv"),
        ECGPREP_IMAGES_DIR=str(dataset / "images"),
        ECGPREP_OUT=str(out),
        ECGPREP_SOLUTION_CSV=str(dataset / "solution.csv"),
        ECGPREP_JOBS="1",
    )
    assert _errors(nb) == []
    test = pd.read_csv(dataset / "test.csv", dtype={"id": str})
    sub = pd.read_csv(out / "submission.csv", dtype={"id": str})
    assert list(sub.columns) == ["id", "value"]
    assert len(sub) == int(test["number_of_rows"].sum()) == 2 * 18_750
    assert sub["id"].is_unique
    assert np.isfinite(sub["value"].to_numpy(dtype=float)).all()
    # The rendered prints are easy: something was digitized, not only the zero fallback.
    assert float(sub["value"].abs().max()) > 0.1
    text = "\n".join(
        o.get("text", "")
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream"
    )
    assert "score:" in text, "the notebook did not score against ECGPREP_SOLUTION_CSV"


# With the Agg backend plt.show() draws nothing and closes nothing: draw every figure
# the notebook made (pyplot's, and the overlay's, made without pyplot), so that a
# plotting mistake fails the test.
_DRAW_ALL = """
import io
import matplotlib.pyplot as plt
_figs = [plt.figure(_n) for _n in plt.get_fignums()]
if "overlay_fig" in globals():
    _figs.append(overlay_fig)
for _f in _figs:
    _f.savefig(io.BytesIO(), format="png", dpi=30)
print("FIGURES", len(_figs))
"""


@pytest.mark.slow
def test_pipeline_tour_notebook(tmp_path):
    # TMPDIR: the tour's tempfile.mkdtemp() lands in pytest's tmp dir, cleaned up by pytest.
    nb = _run("pipeline_tour.ipynb", tmp_path, extra_cell=_DRAW_ALL, TMPDIR=str(tmp_path))
    assert _errors(nb) == []
    last = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    n_figures = int(last.split("FIGURES")[1])
    assert n_figures >= 6, last
    tables = sum(
        1
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "execute_result" and "text/html" in o.get("data", {})
    )
    assert tables >= 4, json.dumps([c.get("outputs") for c in nb.cells])[:2000]
