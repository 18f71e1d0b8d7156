"""Partial pages: are the rows a crop holds named right, and flagged? (issue 10)

A crop, or a photo that left rows out, prints some rows of a layout. Renders
3x4+1, 6x2 and 12x1 pages (``ecgprep.synth``, exact truth), cuts runs of their
rows out (half a row's spacing above and below), reads them with the default
options, and prints per crop the rows found, whether the leads read are the
leads printed, the score against the truth of the leads read, and the verdict.

Usage::

    python benchmarks/partial_pages.py [--seeds 0,1,2] [--jobs 2]

Every reading must be flagged suspect (leads are missing), and every reading
whose leads are not the ones printed too.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

#: (layout, first row, last row), 0-based and inclusive.
CROPS = (
    ("3x4+1", 0, 1),
    ("3x4+1", 1, 2),
    ("3x4+1", 2, 3),
    ("3x4+1", 3, 3),
    ("6x2", 0, 1),
    ("6x2", 0, 2),
    ("6x2", 1, 3),
    ("6x2", 0, 3),
    ("6x2", 2, 5),
    ("12x1", 0, 2),
    ("12x1", 3, 5),
    ("12x1", 2, 7),
)


def _one(layout: str, first: int, last: int, seed: int) -> dict:
    from ecgprep import process_image_for_submission
    from ecgprep.metrics import score_leads
    from ecgprep.synth import render_ecg

    r = render_ecg(layout=layout, seed=seed)
    ys = sorted({round(lead.baseline_y_px) for lead in r.truth.leads})
    half = 0.5 * (ys[1] - ys[0])
    y0 = int(max(0, ys[first] - half))
    y1 = int(min(r.image.shape[0], ys[last] + half))
    res = process_image_for_submission(np.ascontiguousarray(r.image[y0:y1]))
    row = {"layout": layout, "rows": f"{first + 1}-{last + 1}", "seed": seed, "ok": res.ok}
    if not res.ok:
        return {**row, "error": res.error.split(": ", 1)[-1][:90]}
    printed = sorted({lead.name for lead in r.truth.leads if first <= lead.row <= last})
    return {
        **row,
        "found": res.stage("digitize").layout.name,
        "leads_right": sorted(res.signals) == printed,
        "snr_db": round(score_leads(res.signals, r.truth.signals, r.truth.fs), 2),
        "suspect": res.suspect,
        "guess": any("is a guess" in reason for reason in res.suspect_reasons),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    cases = [(*crop, seed) for seed in seeds for crop in CROPS]
    df = pd.DataFrame(Parallel(n_jobs=args.jobs)(delayed(_one)(*case) for case in cases))
    with pd.option_context("display.width", 250, "display.max_colwidth", 90):
        print(df.to_string(index=False))
    read = df[df["ok"]]
    if "leads_right" not in read:
        print(f"\n0 of {len(df)} read")
        return 0
    right = read["leads_right"].astype(bool)
    wrong_unflagged = int((~right & ~read["suspect"].astype(bool)).sum())
    print(
        f"\n{len(read)} of {len(df)} read; leads right {int(right.sum())} "
        f"(median {read.loc[right, 'snr_db'].median():.2f} dB); wrong {int((~right).sum())}, "
        f"of them unflagged {wrong_unflagged}; unflagged at all "
        f"{int((~read['suspect'].astype(bool)).sum())}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
