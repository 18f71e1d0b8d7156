"""How well are black-and-white scans read? (issue 10)

Renders ``ecgprep.synth``'s ``bwscan`` pages (a scanner's black-and-white mode:
the grid, or its 5 mm lines, as black as the trace; pens of 0.15-0.35 mm; 200
and 300 dpi), reads them with the default options, and prints per page the grid,
pen and resolution against the score and the verdict. ``--turned`` renders
``bwscan_turned`` pages instead: the same pages turned by 0.2-2.5 degrees on the
scanner's glass, binarised as they lie.

Usage::

    python benchmarks/bw_scans.py [--n 16] [--seed 7] [--jobs 2] [--out DIR] [--turned]
"""

from __future__ import annotations

import json

import pandas as pd
from _synthetic import arguments, read_kind


def main(argv: list[str] | None = None) -> int:
    ap = arguments(__doc__, n=16, seed=7)
    ap.add_argument("--turned", action="store_true", help="pages turned on the glass")
    args = ap.parse_args(argv)
    ev, manifest = read_kind("bwscan_turned" if args.turned else "bwscan", args)
    options = [json.loads(o) for o in manifest["options"]]
    manifest["grid"] = [o["render"]["grid_color"] for o in options]
    manifest["pen_mm"] = [round(o["render"]["line_width_mm"], 2) for o in options]
    columns = ["id", "grid", "pen_mm", "dpi"]
    if args.turned:
        manifest["turn_deg"] = [round(o["distort"]["rotate_deg"], 2) for o in options]
        columns.append("turn_deg")
    df = manifest[columns].merge(ev.per_record[["id", "snr_db"]], on="id", how="left")
    df = df.merge(ev.summary[["id", "suspect", "suspect_reasons"]], on="id", how="left")
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(df.sort_values(["grid", "id"]).round(2).to_string(index=False))
    by = df.groupby("grid")["snr_db"].median().round(2).to_dict()
    low = df["snr_db"] < 5.0
    print(
        f"\nscore {ev.score_db:.2f} dB; median by grid {by}; under 5 dB: {int(low.sum())}, "
        f"of them unflagged: {int((low & ~df['suspect'].astype(bool)).sum())}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
