#!/usr/bin/env python3
"""Calibrate and check the verdict (``ecgprep.verdict``) against scored readings.

Run from the repository root, with ecgprep importable::

    python benchmarks/verdict_calibration.py --out /tmp/verdict.pkl          # synthetic only
    python benchmarks/verdict_calibration.py --dev ../shared/data/ecg-dev \\
        --real ../shared/data/real-dev --out /tmp/verdict.pkl
    python benchmarks/verdict_calibration.py --load /tmp/verdict.pkl         # re-judge only

Three sources of readings, all read with ``n_jobs=1``:

synthetic
    pages rendered by :mod:`ecgprep.synth` with exact truth, read as they are
    (clean, photo-like, low resolution, other grids) and spoiled into readings
    that go wrong: colour-inverted, mirrored, two pages side by side, bilevel
    (fax-style), heavy blur, a layout or gain option that does not match the
    page. Each reading is scored with :func:`ecgprep.metrics.score_leads` (leads
    the reading lacks count as a flat line).
``--dev``
    a folder with truth (``ecgprep eval`` format); per-record SNR from
    :func:`ecgprep.evaluate.evaluate_folder`.
``--real``
    real printouts without truth (``images/`` and ``manifest.csv``); no SNR.

It prints one line per reading (SNR, the features the verdict reads, the
verdict) and the confusion table of ``suspect`` against SNR bins. The results
are pickled (``--out``) so that thresholds can be tried again without reading
the images again (``--load``).
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
from pathlib import Path

import numpy as np

from ecgprep.metrics import score_leads
from ecgprep.options import Options
from ecgprep.pipeline import process_image_for_submission
from ecgprep.signals import LeadSignal
from ecgprep.standards import LEADS

FS = 500.0
#: SNR bins of the confusion table, dB (lower edges).
BINS = ((-math.inf, 5.0, "< 5 dB"), (5.0, 15.0, "5-15 dB"), (15.0, math.inf, "> 15 dB"))


def _bilevel(img: np.ndarray) -> np.ndarray:
    """Fax-style black and white: a fixed threshold on the luma, saved as 1-bit TIFF."""
    import io

    from PIL import Image

    gray = img.mean(axis=2) if img.ndim == 3 else img
    bw = Image.fromarray((gray > 160).astype(np.uint8) * 255).convert("1")
    buf = io.BytesIO()
    bw.save(buf, format="TIFF", compression="group4")
    return buf.getvalue()


def synthetic_cases():
    """``(name, group, image, options, truth_signals)`` of every synthetic case."""
    from ecgprep.synth import distort, render_ecg

    for seed in range(4):
        r = render_ecg(seed=seed)
        t = r.truth.signals
        yield f"clean-s{seed}", "good", r.image, {}, t
        if seed < 2:
            yield f"inverted-s{seed}", "bad", 255 - r.image, {}, t
            yield f"mirrored-s{seed}", "bad", np.ascontiguousarray(np.fliplr(r.image)), {}, t
            yield f"upside-down-s{seed}", "turn", np.ascontiguousarray(r.image[::-1, ::-1]), {}, t
            r2 = render_ecg(seed=seed + 10)
            yield f"side-by-side-s{seed}", "bad", np.hstack([r.image, r2.image]), {}, t
            yield f"stacked-s{seed}", "bad", np.vstack([r.image, r2.image]), {}, t
            yield f"bilevel-s{seed}", "bad", _bilevel(r.image), {}, t
            yield f"blur6-s{seed}", "bad", distort(r, blur_sigma=6.0, seed=seed).image, {}, t
            yield f"blur3-s{seed}", "bad", distort(r, blur_sigma=3.0, seed=seed).image, {}, t
            yield f"gain5-s{seed}", "bad", r.image, {"gain": 5.0}, t
            yield f"gain20-s{seed}", "bad", r.image, {"gain": 20.0}, t
            yield f"as-6x2-s{seed}", "bad", r.image, {"layout": "6x2"}, t
            yield f"as-12x1-s{seed}", "bad", r.image, {"layout": "12x1"}, t
        if seed < 3:
            yield (
                f"photo-s{seed}",
                "good",
                distort(r, perspective=0.03, background="desk", shading=0.4, seed=seed).image,
                {},
                t,
            )
            yield f"rot2-s{seed}", "good", distort(r, rotate_deg=2.0, seed=seed).image, {}, t
            yield f"noise-s{seed}", "good", distort(r, noise_std=8.0, seed=seed).image, {}, t
            yield f"blur1-s{seed}", "good", distort(r, blur_sigma=1.0, seed=seed).image, {}, t
            yield f"rot15-s{seed}", "bad", distort(r, rotate_deg=15.0, seed=seed).image, {}, t
    for seed, kw in enumerate(
        (
            {"grid_color": "bw"},
            {"grid_color": "pink"},
            {"dpi": 100},
            {"calibration_pulse": False},
            {"header_text": True},
            {"layout": "3x4"},
        )
    ):
        r = render_ecg(seed=20 + seed, **kw)
        name = "-".join(f"{k}={v}" for k, v in kw.items())
        opts = {"layout": "3x4"} if kw.get("layout") == "3x4" else {}
        yield name, "good", r.image, opts, r.truth.signals
    r = render_ecg(seed=40)
    t = r.truth.signals
    img = r.image
    yield (
        "white-border",
        "good",
        np.pad(img, ((500, 500), (700, 700), (0, 0)), constant_values=255),
        {},
        t,
    )
    yield "quarter-turn", "turn", np.ascontiguousarray(np.rot90(img)), {}, t
    yield "rot45", "bad", distort(r, rotate_deg=45.0, seed=1).image, {}, t
    yield "jpeg10-noise", "bad", distort(r, noise_std=20.0, jpeg_quality=10, seed=1).image, {}, t
    yield "blur2", "bad", distort(r, blur_sigma=2.0, seed=1).image, {}, t
    yield (
        "dpi75",
        "bad",
        render_ecg(seed=41, dpi=75).image,
        {},
        render_ecg(seed=41, dpi=75).truth.signals,
    )
    thin = render_ecg(seed=42, line_width_mm=0.1)
    yield "thin-trace", "good", thin.image, {}, thin.truth.signals
    dark = render_ecg(seed=43, grid_color=(40, 40, 40))
    yield "grid-as-dark-as-trace", "bad", dark.image, {}, dark.truth.signals
    yield "grid-dark-bilevel", "bad", _bilevel(dark.image), {}, dark.truth.signals
    for layout in ("6x2", "12x1", "3x4+3"):
        r = render_ecg(seed=30, layout=layout)
        yield f"{layout}-as-3x4+1", "bad", r.image, {}, r.truth.signals
        yield f"{layout}-as-{layout}", "good", r.image, {"layout": layout}, r.truth.signals


def score(signals, truth) -> float:
    """SNR (dB) of a reading; a lead the reading lacks counts as a flat 2.5 s line."""
    leads = dict(signals)
    for lead in LEADS:
        if lead not in leads:
            leads[lead] = LeadSignal(lead, np.zeros(int(2.5 * FS)), FS, 0.0)
    return score_leads(leads, truth, FS)


def run_synthetic(rows: list) -> None:
    for name, group, image, opts, truth in synthetic_cases():
        res = process_image_for_submission(image, Options(**opts), image_id=name)
        snr = score(res.signals, truth) if res.ok else -math.inf
        rows.append({"source": "synth", "name": name, "group": group, "snr_db": snr, "res": res})
        print(f"  {name:28s} {snr:6.1f} dB  {res!r}"[:160], file=sys.stderr, flush=True)


def run_dev(folder: Path, rows: list) -> None:
    from ecgprep.evaluate import evaluate_folder

    ev = evaluate_folder(folder, None, n_jobs=1, progress=False)
    snr = dict(zip(ev.per_record["id"].astype(str), ev.per_record["snr_db"], strict=True))
    diff = dict(zip(ev.per_record["id"].astype(str), ev.per_record["difficulty"], strict=True))
    for res in ev.results:
        iid = str(res.image_id)
        rows.append(
            {
                "source": "ecg-dev",
                "name": f"{iid}:{diff.get(iid, '')}",
                "group": "dev",
                "snr_db": float(snr.get(iid, math.nan)),
                "res": res,
            }
        )


def run_real(folder: Path, rows: list) -> None:
    images = sorted(p for p in (folder / "images").iterdir() if p.is_file())
    for p in images:
        res = process_image_for_submission(p, None)
        rows.append(
            {"source": "real-dev", "name": p.stem, "group": "real", "snr_db": math.nan, "res": res}
        )
        print(f"  {p.stem:28s} {res!r}"[:160], file=sys.stderr, flush=True)


def features(res) -> str:
    """The numbers the verdict reads, in one short string."""
    if not res.ok:
        return "failed"
    dig = res.stage("digitize")
    g = res.stage("grid")
    q = res.stage("quality")
    cov = min(dig.coverage) if dig.coverage else math.nan
    pulses = sum(bool(p.found) for p in dig.pulses)
    width = res.working_map()[1][1]
    span = (dig.layout.rows[0].x_end - dig.layout.rows[0].x_start) / width
    # The Einthoven consistency: summed squared terms over squared residual, dB.
    consistency = -20.0 * math.log10(dig.einthoven) if dig.einthoven > 0 else math.nan
    return (
        f"ein {dig.einthoven:4.2f} ({consistency:5.1f} dB) grid {g.confidence:4.2f} "
        f"cov {cov:4.2f} span {span:4.2f} lay {dig.layout.confidence:4.2f} "
        f"pulses {pulses}/{len(dig.pulses)} q {'ok' if q.passed else 'FAIL'}"
    )


def judged(res):
    """The verdict of the current rules (pickled results carry the rules of their day)."""
    from ecgprep import verdict as vd

    old = getattr(res, "verdict", None)
    gain = old.gain if old is not None and math.isfinite(old.gain) else 10.0
    return vd.judge_result(res, gain=gain)


def report(rows: list) -> None:
    print(f"{'source':9s} {'reading':34s} {'SNR dB':>7s}  {'features':86s} verdict")
    for row in rows:
        res = row["res"]
        v = judged(res)
        flag = "SUSPECT" if v.suspect else "ok"
        print(
            f"{row['source']:9s} {row['name'][:34]:34s} {row['snr_db']:7.1f}  "
            f"{features(res):86s} {flag:7s} {v.confidence:4.2f} {'; '.join(v.reasons)}"
        )
    print()
    print("confusion (readings with truth): suspect vs SNR (a failed image counts as below 5 dB)")
    print(f"{'':10s} {'suspect':>8s} {'(failed)':>9s} {'not':>5s}")
    for lo, hi, label in BINS:
        sel = [r for r in rows if lo <= r["snr_db"] < hi]
        n_s = sum(judged(r["res"]).suspect for r in sel)
        n_f = sum(not r["res"].ok for r in sel)
        print(f"{label:10s} {n_s:8d} {f'({n_f})':>9s} {len(sel) - n_s:5d}")
    real = [r for r in rows if r["source"] == "real-dev"]
    if real:
        n_ok = sum(r["res"].ok for r in real)
        n_flag = sum(r["res"].ok and judged(r["res"]).suspect for r in real)
        print(f"real-dev: {len(real)} images, {n_ok} ok, {n_flag} of those suspect")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", type=Path, help="folder with truth (ecgprep eval format)")
    ap.add_argument("--real", type=Path, help="folder of real printouts (images/)")
    ap.add_argument("--no-synth", action="store_true", help="skip the synthetic cases")
    ap.add_argument("--out", type=Path, help="pickle the readings here")
    ap.add_argument("--load", type=Path, help="re-judge pickled readings, read nothing")
    args = ap.parse_args(argv)
    if args.load:
        rows = pickle.loads(args.load.read_bytes())
    else:
        rows = []
        if not args.no_synth:
            run_synthetic(rows)
        if args.dev:
            run_dev(args.dev, rows)
        if args.real:
            run_real(args.real, rows)
        if args.out:
            args.out.write_bytes(pickle.dumps(rows))
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
