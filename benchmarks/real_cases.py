"""Does the digitizer find each real-printout case on the page? (issue 10)

Renders ``ecgprep.synth``'s ``real_cases`` (GE 3x4+2 with header and
interpretation, dotted and major-only grids, 6x2+1, 50 mm/s, 5 and 20 mm/mV,
binarised black-and-white scans, 1 px traces, rhythm strips in any order), reads
them with the default options (layout, paper speed and gain ``"auto"``), and
prints per page what was printed against what was found, the score against the
truth, and the verdict.

Usage::

    python benchmarks/real_cases.py [--n 13] [--jobs 2] [--out DIR]

Every case should be found right; a reading scoring under 5 dB must be flagged
suspect.
"""

from __future__ import annotations

import pandas as pd
from _synthetic import arguments, read_kind


def main(argv: list[str] | None = None) -> int:
    ap = arguments(__doc__, n=13, seed=0, n_help="pages (13 covers every case once)")
    args = ap.parse_args(argv)
    ev, manifest = read_kind("real_cases", args)
    summary = ev.summary.rename(
        columns={"layout": "found_layout", "paper_speed": "found_speed", "gain": "found_gain"}
    )
    rec = ev.per_record[["id", "snr_db"]]
    df = manifest.merge(summary, on="id", how="left").merge(rec, on="id", how="left")
    printed = df["layout"].astype(str)
    rhythm = df["rhythm_leads"].fillna("").astype(str)
    printed = [
        f"{lay.split(':')[0]}:{r}" if r and ":" not in lay else lay
        for lay, r in zip(printed, rhythm, strict=True)
    ]
    df["printed"] = printed
    df["layout_ok"] = df["printed"] == df["found_layout"].astype(str)
    df["speed_ok"] = df["found_speed"] == df["paper_speed"]
    df["gain_ok"] = df["found_gain"] == df["gain"]
    cols = [
        "id",
        "printed",
        "found_layout",
        "paper_speed",
        "found_speed",
        "gain",
        "found_gain",
        "grid_style",
        "grid_color",
        "snr_db",
        "suspect",
        "suspect_reasons",
    ]
    with pd.option_context("display.width", 250, "display.max_colwidth", 70):
        print(df[cols].round(2).to_string(index=False))
    found = df[["layout_ok", "speed_ok", "gain_ok"]].all(axis=1)
    low = df["snr_db"] < 5.0
    print(
        f"\nfound right (layout, speed and gain): {int(found.sum())} of {len(df)}; "
        f"score {ev.score_db:.2f} dB; under 5 dB: {int(low.sum())}, "
        f"of them unflagged: {int((low & ~df['suspect'].astype(bool)).sum())}"
    )
    if args.out:
        df.to_csv(args.out / "real_cases.csv", index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
