"""Fingerprints of stage outputs on fixed synthetic inputs: the regression record.

Speed work on :mod:`ecgprep.colors`, :mod:`ecgprep.grid` and :mod:`ecgprep.digitize.trace`
claims "same masks", "same summaries", "same grids", "same chains". This module
makes those claims checkable: it computes small fingerprints of

* :func:`ecgprep.colors.separate_colors` (trace and grid masks, summary colours
  and thresholds) and :func:`ecgprep.grid.detect_grid` (scale, angle, phase,
  line counts) on seeded renders of :mod:`ecgprep.synth`, some spoiled by
  :func:`ecgprep.synth.distort`, in both colour spaces;
* :func:`ecgprep.digitize.trace.follow_trace` chains on seeded random bands of ink;

and ``tests/test_fingerprints.py`` compares them with ``tests/data/fingerprints.json``.

A change that *should* alter the outputs (a better threshold, a new feature)
regenerates the file, from the repository root::

    python tests/regen_fingerprints.py

and says so in its commit message; the diff of the JSON shows which cases moved.

Masks are recorded three ways: the pixel count, a byte hash (exact), and the
ink fraction in each cell of a coarse 8 x 8 grid. Floats are rounded to 1e-6.
The file also records the numpy and OpenCV versions that made it: on the same
versions the comparison is exact (hashes and rounded floats); on others (CI
runs older releases too) it allows the differences their arithmetic makes
(mask counts within 3 %, cells within 0.015, colours within 6 levels,
thresholds within 5 %, scales within 0.1 %: twice what numpy 1.26 / OpenCV 4.8
differ by). Trace chains are integer arithmetic and are always compared exactly.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "fingerprints.json"

#: name -> (render_ecg kwargs, distort kwargs or None). 100 dpi pages, the ones
#: the test files share (tests/conftest.py), so the full suite renders them once.
IMAGE_CASES: dict[str, tuple[dict, dict | None]] = {
    "red": ({"seed": 3, "dpi": 100}, None),
    "bw": ({"seed": 3, "dpi": 100, "grid_color": "bw"}, None),
    "pink": ({"seed": 3, "dpi": 100, "grid_color": "pink"}, None),
    "red-seed4": ({"seed": 4, "dpi": 100}, None),
    "noise": ({"seed": 3, "dpi": 100}, {"noise_std": 6.0, "seed": 1}),
    "cast-shading": (
        {"seed": 3, "dpi": 100},
        {"color_cast": (1.0, 0.9, 0.75), "shading": 0.7, "seed": 2},
    ),
    "rotated": ({"seed": 3, "dpi": 100}, {"rotate_deg": 3.0, "seed": 3}),
    "blur": ({"seed": 4, "dpi": 100}, {"blur_sigma": 1.0, "seed": 4}),
}
SPACES = ("lab", "hsv")
N_BANDS = 300
BAND_SEED = 20261203
FLOAT_DIGITS = 6


def case_image(name: str, render=None) -> np.ndarray:
    """The RGB image of case ``name``; ``render`` is ``render_ecg`` or a cached
    equivalent (the tests pass the session's shared one)."""
    from ecgprep.synth import distort, render_ecg

    render = render or render_ecg
    render_kw, distort_kw = IMAGE_CASES[name]
    r = render(**render_kw)
    return (distort(r, **distort_kw) if distort_kw else r).image


def _round(x: float) -> float:
    return round(float(x), FLOAT_DIGITS)


def mask_fingerprint(mask: np.ndarray, cells: int = 8) -> dict:
    """Pixel count, exact hash and the ink fraction of each cell of a coarse grid."""
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    ys = np.linspace(0, h, cells + 1).astype(int)
    xs = np.linspace(0, w, cells + 1).astype(int)
    coarse = [
        round(float(mask[ys[i] : ys[i + 1], xs[j] : xs[j + 1]].mean()), 4)
        for i in range(cells)
        for j in range(cells)
    ]
    digest = hashlib.sha256(np.packbits(mask).tobytes() + repr(mask.shape).encode())
    return {"count": int(mask.sum()), "sha256": digest.hexdigest()[:32], "coarse": coarse}


def colors_fingerprint(image: np.ndarray, space: str) -> dict:
    from ecgprep.colors import separate_colors

    res = separate_colors(image, space=space)
    s = res.summary()
    return {
        "trace_mask": mask_fingerprint(res.trace_mask),
        "grid_mask": mask_fingerprint(res.grid_mask),
        "rgb": {
            k: [_round(v) for v in getattr(s, k)] for k in ("paper_rgb", "grid_rgb", "trace_rgb")
        },
        "numbers": {
            k: _round(getattr(s, k))
            for k in (
                "trace_fraction",
                "grid_fraction",
                "trace_threshold",
                "edge_threshold",
                "chroma_threshold",
                "grid_threshold",
                "grid_darkness",
                "noise",
            )
        },
        "neutral_grid": bool(s.neutral_grid),
    }


def grid_fingerprint(image: np.ndarray) -> dict:
    from ecgprep.grid import detect_grid

    g = detect_grid(image)
    return {
        "flags": {k: bool(getattr(g, k)) for k in ("found", "major_found", "minor_found")},
        "lines": [int(g.n_lines_x), int(g.n_lines_y)],
        "numbers": {
            k: _round(getattr(g, k))
            for k in (
                "px_per_mm_x",
                "px_per_mm_y",
                "angle_deg",
                "skew_deg",
                "phase_x",
                "phase_y",
                "confidence",
            )
        },
    }


def random_band(rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A wavy trace of random size and thickness, with specks, strokes of another
    row and gaps (as in test_digitize): every situation of the tracker."""
    h, w = int(rng.integers(8, 120)), int(rng.integers(30, 400))
    m = np.zeros((h, w), bool)
    y0 = rng.uniform(0.2, 0.8) * h
    y = y0 + rng.uniform(0, h / 3) * np.sin(2 * np.pi * np.arange(w) / rng.uniform(20, 300))
    thick = int(rng.integers(1, 4))
    last = None
    for x in range(w):
        if rng.random() < 0.01:
            continue
        yi = int(round(y[x]))
        lo, hi = (yi, yi + thick) if last is None else (min(yi, last), max(yi, last) + thick)
        m[max(0, lo) : max(0, min(h, hi)), x] = True
        last = yi
    for _ in range(int(rng.integers(0, 20))):
        yy, xx = rng.integers(0, h), rng.integers(0, w)
        m[yy : yy + rng.integers(1, 4), xx : xx + rng.integers(1, 6)] = True
    for _ in range(int(rng.integers(0, 4))):
        yy, xx = rng.integers(0, h), rng.integers(0, w)
        m[yy : yy + thick, xx : xx + rng.integers(10, 80)] = True
    for _ in range(int(rng.integers(0, 3))):
        xx = rng.integers(0, w)
        m[:, xx : xx + rng.integers(1, 30)] = False
    return m, float(y0)


def random_bands(n: int = N_BANDS, seed: int = BAND_SEED) -> list[tuple[np.ndarray, float]]:
    rng = np.random.default_rng(seed)
    return [random_band(rng) for _ in range(n)]


def chain_fingerprint(mask: np.ndarray, y_ref: float) -> list[int]:
    """``[K, sum(x), sum(top), sum(bottom), crc32]`` of the chosen runs."""
    from ecgprep.digitize.trace import follow_trace

    x, top, bottom = (np.asarray(a, dtype=np.int64) for a in follow_trace(mask, y_ref=y_ref))
    crc = zlib.crc32(np.concatenate([x, top, bottom]).tobytes())
    return [int(x.size), int(x.sum()), int(top.sum()), int(bottom.sum()), crc]


def environment() -> dict:
    import cv2

    return {"numpy": np.__version__, "opencv": cv2.__version__}


def compute(render=None) -> dict:
    """Every fingerprint, as stored in ``tests/data/fingerprints.json``."""
    images = {name: case_image(name, render) for name in IMAGE_CASES}
    return {
        "environment": environment(),
        "colors": {
            f"{name}/{space}": colors_fingerprint(img, space)
            for name, img in images.items()
            for space in SPACES
        },
        "grid": {name: grid_fingerprint(img) for name, img in images.items()},
        "trace": {
            "seed": BAND_SEED,
            "chains": [chain_fingerprint(m, y) for m, y in random_bands()],
        },
    }


def _dump(obj, indent: int = 0) -> str:
    """JSON with one line per case field (lists of numbers stay on one line)."""
    pad = " " * indent
    if isinstance(obj, dict):
        inner = ",\n".join(
            f"{pad} {json.dumps(k)}: {_dump(v, indent + 1).lstrip()}" for k, v in obj.items()
        )
        return f"{pad}{{\n{inner}\n{pad}}}"
    if isinstance(obj, list) and obj and isinstance(obj[0], list):
        inner = ",\n".join(f"{pad} {json.dumps(v)}" for v in obj)
        return f"{pad}[\n{inner}\n{pad}]"
    return pad + json.dumps(obj)


def main() -> int:
    fp = compute()
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(_dump(fp) + "\n")
    print(f"wrote {DATA} ({DATA.stat().st_size:,} bytes) with {environment()}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))  # the checkout's ecgprep, run from anywhere
    sys.exit(main())
