"""The wheel Kaggle installs offline: build it, check its contents, install it with
``pip install --no-index --no-deps`` into a fresh environment whose dependencies come
from the current one (as on Kaggle), and run ``ecgprep demo`` from outside the repo."""

from __future__ import annotations

import importlib.util
import os
import site
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAX_WHEEL_BYTES = 1_000_000

pytestmark = pytest.mark.slow


def _run(
    cmd: list, *, cwd: Path, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited with {proc.returncode}\n"
        f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip(
            "hatchling (the build backend in pyproject.toml) is not installed, and the "
            "wheel is built without build isolation (offline): pip install hatchling"
        )
    # Files pyproject.toml names must exist, or hatchling stops with a less direct message.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    named = [project.get("readme"), (project.get("license") or {}).get("file")]
    absent = [f for f in named if isinstance(f, str) and not (REPO / f).is_file()]
    assert not absent, (
        f"pyproject.toml names {absent}, missing from {REPO}: the wheel cannot be built"
    )
    dist = tmp_path_factory.mktemp("dist")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            dist,
            REPO,
        ],
        cwd=dist,
    )
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contents(wheel):
    from ecgprep import __version__

    assert wheel.name == f"ecgprep-{__version__}-py3-none-any.whl"
    size = wheel.stat().st_size
    print(f"{wheel.name}: {size} bytes")
    assert size < MAX_WHEEL_BYTES, f"{wheel.name} is {size} bytes"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "ecgprep/__init__.py" in names
        assert "ecgprep/cli.py" in names
        top = {n.split("/")[0] for n in names}
        assert top == {"ecgprep", f"ecgprep-{__version__}.dist-info"}, top
        assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".ipynb"))]
        assert not [n for n in names if n.startswith(("tests/", "notebooks/")) or "/tests/" in n]
        # Tooling stays beside the library: the benchmark script is not in the wheel.
        assert not [n for n in names if n.startswith("benchmarks/") or n.endswith("bench.py")]
        ep = zf.read(f"ecgprep-{__version__}.dist-info/entry_points.txt").decode()
        assert "[console_scripts]" in ep
        assert "ecgprep = ecgprep.cli:main" in ep
        meta = zf.read(f"ecgprep-{__version__}.dist-info/METADATA").decode()
        assert f"Version: {__version__}" in meta
    # Every module the package ships is in the wheel.
    shipped = {p.relative_to(REPO).as_posix() for p in (REPO / "ecgprep").rglob("*.py")}
    assert shipped <= set(names), sorted(shipped - set(names))


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def test_wheel_installs_offline_and_demo_runs(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv],
        cwd=tmp_path,
    )
    py = _venv_python(venv)
    # --system-site-packages exposes the *base* interpreter's packages; when the tests
    # themselves run in a virtual environment (CI), expose its site-packages too, after
    # the new environment's own (plain paths: its .pth files, such as an editable
    # install of ecgprep, are not processed).
    here = [
        p for p in site.getsitepackages() + [sysconfig.get_paths()["purelib"]] if Path(p).is_dir()
    ]
    target = Path(
        _run(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path
        ).stdout.strip()
    )
    target.mkdir(parents=True, exist_ok=True)
    (target / "zz_outer_env.pth").write_text("\n".join(dict.fromkeys(here)) + "\n")

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
    }
    env["MPLBACKEND"] = "Agg"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    # As the Kaggle notebook does it (pip from the environment, nothing downloaded).
    _run(
        [py, "-m", "pip", "install", "--no-index", "--no-deps", "--force-reinstall", "-q", wheel],
        cwd=outside,
        env=env,
    )
    where = _run(
        [py, "-c", "import ecgprep; print(ecgprep.__file__)"], cwd=outside, env=env
    ).stdout.strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), (
        f"ecgprep imported from {where}, not the venv"
    )

    script = venv / ("Scripts/ecgprep.exe" if os.name == "nt" else "bin/ecgprep")
    assert script.is_file()
    out = tmp_path / "demo-out"
    proc = _run(
        [script, "demo", "--n", "2", "--out", out, "--jobs", "1", "--quiet"], cwd=outside, env=env
    )
    assert (out / "submission.csv").is_file()
    lines = (out / "submission.csv").read_text().splitlines()
    assert lines[0] == "id,value"
    assert len(lines) == 1 + 2 * 18_750
    assert "score against the rendered truth" in proc.stdout
