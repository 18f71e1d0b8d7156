"""Pages turned a quarter: are they turned back and read as well as upright? (issue 10)

Renders ``ecgprep.synth`` pages with exact truth (6x2, 3x4+1 and 12x1 layouts at
10 and 20 mm/mV: tall QRS complexes give a turned page columns of ink nearly as
strong as its rows), reads each upright and turned by 90 degrees either way with
the default options, and prints per page and turn: the orient station's column /
row contrast ratio, whether the page was put back upright (and whether by
Einthoven's law, ``OrientResult.by_law``), the layout read, the score against
the truth and the verdict.

Usage::

    python benchmarks/quarter_turns.py [--n 3] [--seed 1] [--jobs 2]
        [--layouts 6x2,3x4+1,12x1] [--gains 10,20]

``--n`` is the number of seeds per layout and gain.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

LAYOUTS = ("6x2", "3x4+1", "12x1")
GAINS = (10.0, 20.0)
#: np.rot90's k for each turn, and the quarter turns that put such a page upright.
TURNS = {"upright": (0, 0), "rot90": (1, 3), "rot-90": (3, 1)}


def _read(layout: str, gain: float, seed: int) -> list[dict]:
    from ecgprep import process_image_for_submission
    from ecgprep.metrics import score_leads
    from ecgprep.synth import render_ecg

    r = render_ecg(seed=seed, layout=layout, gain=gain, calibration_pulse=True)
    rows = []
    for name, (k, back) in TURNS.items():
        res = process_image_for_submission(np.ascontiguousarray(np.rot90(r.image, k)))
        o = res.stage("orient")
        rows.append(
            {
                "layout": layout,
                "gain": gain,
                "seed": seed,
                "turn": name,
                "ratio": o.column_contrast / o.row_contrast if o is not None else np.nan,
                "upright": res.quarter_turns == back,
                "by_law": bool(getattr(o, "by_law", False)),
                "read_as": res.verdict.layout if res.ok else "failed",
                "db": score_leads(res.signals, r.truth.signals, r.truth.fs) if res.ok else np.nan,
                "suspect": bool(res.suspect),
                "seconds": sum(s.seconds for s in res.stages),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3, help="seeds per layout and gain")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--layouts", default=",".join(LAYOUTS))
    ap.add_argument("--gains", default=",".join(f"{g:g}" for g in GAINS), help="mm/mV")
    args = ap.parse_args(argv)
    layouts = args.layouts.split(",")
    gains = [float(g) for g in args.gains.split(",")]
    cases = itertools.product(layouts, gains, range(args.seed, args.seed + args.n))
    found = Parallel(n_jobs=args.jobs)(delayed(_read)(*c) for c in cases)
    df = pd.DataFrame([row for rows in found for row in rows])
    with pd.option_context("display.width", 200):
        print(df.round(2).to_string(index=False))
    turned = df[df["turn"] != "upright"]
    up = df[df["turn"] == "upright"].set_index(["layout", "gain", "seed"])["db"]
    loss = up.reindex(turned.set_index(["layout", "gain", "seed"]).index).to_numpy() - turned["db"]
    wrong = (loss > 3.0) & ~turned["suspect"]
    print(
        f"\nturned pages put upright: {int(turned['upright'].sum())} of {len(turned)} "
        f"({int(turned['by_law'].sum())} by Einthoven's law); median dB upright "
        f"{df.loc[df['turn'] == 'upright', 'db'].median():.2f}, turned "
        f"{turned['db'].median():.2f}; turned readings over 3 dB under upright and "
        f"unflagged: {int(wrong.sum())}; median seconds upright "
        f"{df.loc[df['turn'] == 'upright', 'seconds'].median():.2f}, turned "
        f"{turned['seconds'].median():.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
