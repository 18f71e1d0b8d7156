"""Pages photographed among other papers on a light desk: are they read? (issue 10)

A strip of thermal roll or a page photographed on a light desk, beside a ruled
sheet, stands out from nothing by its brightness: the paper finder sees no page
(or one that takes in the sheet), the grid is a small part of the frame, and the
sheet's lines look like rows. Renders pages (``ecgprep.synth``, exact truth) at
100-200 dpi on the ``'clutter'`` background, a fifth to a half of the frame,
turned up to 3 degrees with a little perspective, lightly blurred, noisy and
JPEG-compressed; reads them with the default options, and prints per page the
score against the truth, the verdict and whether the page was read again inside
its gridded part (``ecgprep.edges.find_grid_region``), then the pages read, the
mean score (a failed page counting 0 dB), the median, and the readings under
5 dB left unflagged. ``--whole`` reads the whole picture only (the retry left
out), to measure what it brings.

Usage::

    python benchmarks/desk_photos.py [--n 12] [--seed 7] [--jobs 2] [--whole]

Every reading under 5 dB must be flagged suspect.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from joblib import Parallel, delayed


def cases(n: int, seed: int) -> list[dict]:
    """The pages' parameters, drawn from ``seed`` in order (the same ``n`` and
    ``seed`` give the same pages)."""
    rng = np.random.default_rng(seed)
    return [
        {
            "page": i,
            "render_seed": int(rng.integers(100)),
            "dpi": float(rng.choice([100, 150, 200])),
            "tilt_deg": float(rng.uniform(-3, 3)),
            "perspective": float(rng.uniform(0.0, 0.01)),
            "margin": float(rng.uniform(0.4, 0.9)),
        }
        for i in range(n)
    ]


def _one(case: dict, whole: bool = False) -> dict:
    from ecgprep import pipeline, process_image_for_submission
    from ecgprep.metrics import score_leads
    from ecgprep.synth import distort, render_ecg

    if whole:  # in this worker only
        pipeline._read_in_grid_region = lambda *a, **k: None
    r = render_ecg(seed=case["render_seed"], dpi=case["dpi"], frame=False)
    photo = distort(
        r,
        rotate_deg=case["tilt_deg"],
        perspective=case["perspective"],
        background="clutter",
        background_margin=case["margin"],
        blur_sigma=0.5,
        noise_std=3.0,
        jpeg_quality=85,
        seed=case["page"],
    )
    res = process_image_for_submission(photo.image)
    row = {k: case[k] for k in ("page", "dpi", "margin")}
    row["margin"] = round(row["margin"], 2)
    if not res.ok:
        return {**row, "ok": False, "snr_db": float("nan"), "suspect": True, "why": res.error}
    edges = next(rec for rec in res.stages if rec.name == "edges")
    return {
        **row,
        "ok": True,
        "snr_db": round(score_leads(res.signals, r.truth.signals, r.truth.fs), 2),
        "suspect": res.suspect,
        "region": any("gridded part" in w for w in edges.warnings),
        "why": "; ".join(res.suspect_reasons),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--whole", action="store_true", help="read the whole picture only")
    args = ap.parse_args(argv)
    rows = Parallel(n_jobs=args.jobs)(
        delayed(_one)(c, args.whole) for c in cases(args.n, args.seed)
    )
    df = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_colwidth", 90):
        print(df.to_string(index=False))
    snr = df["snr_db"].to_numpy(float)
    low = df["ok"] & (df["snr_db"] < 5.0) & ~df["suspect"].astype(bool)
    region = int(df["region"].fillna(False).astype(bool).sum()) if "region" in df else 0
    print(
        f"\n{int(df['ok'].sum())} of {len(df)} read ({region} inside their gridded part); "
        f"mean {np.nan_to_num(snr).mean():.2f} dB (a failed page 0); median of those read "
        f"{np.nanmedian(snr) if np.isfinite(snr).any() else float('nan'):.2f} dB; "
        f"under 5 dB and unflagged: {int(low.sum())}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
