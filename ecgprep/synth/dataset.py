"""Whole synthetic data sets in the competition's format, with their truth.

:func:`write_dataset` writes images, ``test.csv``, ``solution.csv``, a manifest
and per-image truth, cycling through the kinds of :data:`~ecgprep.synth.DATASET_KINDS`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from .._validate import check_number, pick
from ..standards import RECORD_SECONDS
from .distort import bend, distort
from .render import _ROWS_3X4, LEAD_NAMES, LeadTruth, RenderTruth, render_ecg
from .signals import synthetic_signals

__all__ = ["DATASET_KINDS", "write_dataset"]


def _kind_clean(rng):
    return {"calibration_pulse": False}, None


def _kind_pulse(rng):
    return {"calibration_pulse": True}, None


def _kind_header(rng):
    return {"calibration_pulse": True, "header_text": True}, None


def _grid_kind(color):
    def make(rng):
        return {"calibration_pulse": bool(rng.random() < 0.8), "grid_color": color}, None

    make.__name__ = f"_kind_{color}"
    return make


def _kind_lowres(rng):
    return {"calibration_pulse": True, "dpi": float(rng.choice([100.0, 130.0]))}, None


def _kind_rotated(rng):
    angle = float(rng.uniform(1.0, 5.0) * rng.choice([-1.0, 1.0]))
    return {"calibration_pulse": bool(rng.random() < 0.7)}, {
        "rotate_deg": angle,
        "noise_std": float(rng.uniform(1.0, 5.0)),
        "color_cast": tuple(float(c) for c in rng.uniform(0.85, 1.0, 3)),
    }


def _kind_blur(rng):
    return {"calibration_pulse": True}, {"blur_sigma": float(rng.choice([1.2, 2.0]))}


def _kind_noisy(rng):
    return {"calibration_pulse": True}, {
        "noise_std": float(rng.uniform(8.0, 20.0)),
        "jpeg_quality": 75,
    }


def _kind_scan(rng):
    color = str(rng.choice(["red", "bw", "pink"]))
    return {"calibration_pulse": True, "grid_color": color}, {
        "rotate_deg": float(rng.uniform(-2.0, 2.0)),
        "blur_sigma": 0.7,
        "noise_std": 3.0,
        "color_cast": (1.0, float(rng.uniform(0.93, 1.0)), float(rng.uniform(0.82, 0.95))),
        "jpeg_quality": 90,
    }


#: Backgrounds of the ``photo`` kind: a phone's view of a page on a table (the
#: scanner's lid, as light as the paper, is a scan's; and the datasets written
#: before it was added stay as they were).
PHOTO_BACKGROUNDS = ("dark", "wood", "desk")


def _kind_photo(rng):
    return {"calibration_pulse": bool(rng.random() < 0.8)}, {
        "rotate_deg": float(rng.uniform(-4.0, 4.0)),
        "perspective": float(rng.uniform(0.01, 0.03)),
        "background": str(rng.choice(PHOTO_BACKGROUNDS)),
        "background_margin": float(rng.uniform(0.06, 0.14)),
        "shading": float(rng.uniform(0.2, 0.6)),
        "color_cast": (1.0, float(rng.uniform(0.9, 1.0)), float(rng.uniform(0.78, 0.95))),
        "blur_sigma": float(rng.uniform(0.5, 1.0)),
        "noise_std": float(rng.uniform(2.0, 6.0)),
        "jpeg_quality": 85,
    }


def _kind_curled(rng):
    # a phone photo of a page that does not lie flat: its grid lines bend
    _, photo = _kind_photo(rng)
    return {"calibration_pulse": bool(rng.random() < 0.8)}, {
        **photo,
        "bend_mm": float(rng.uniform(1.5, 4.0)),
    }


def _kind_bwscan(rng):
    # a scanner's black-and-white mode: a fixed threshold keeps the grid lines dark
    # enough (every line of a black grid, the 5 mm lines of a red or gray one) as
    # black as the trace
    return {
        "calibration_pulse": True,
        "grid_color": str(rng.choice(["mono", "mono", "red", "bw"])),
        "binarize": True,
        "line_width_mm": float(rng.uniform(0.15, 0.35)),
        "dpi": float(rng.choice([200.0, 300.0])),
    }, None


def _kind_bwscan_turned(rng):
    # ... of a page lying turned on the glass: binarised as it lies, after the turn
    render, _ = _kind_bwscan(rng)
    angle = float(rng.uniform(0.2, 2.5)) * float(rng.choice([-1.0, 1.0]))
    return {**render, "binarize": False}, {"rotate_deg": angle, "binarize": True}


def _kind_realistic(rng):
    return {"calibration_pulse": bool(rng.random() < 0.8)}, None


def _ge_header(rng) -> str:
    """A GE-like header block: patient line, rates, intervals, axes, statements."""
    pr, qrs = int(rng.integers(120, 200)), int(rng.integers(70, 110))
    qt = int(rng.integers(340, 440))
    return "\n".join(
        [
            f"ID: {rng.integers(1000000, 10000000)}   {rng.integers(18, 95)} yrs   "
            + str(rng.choice(["Male", "Female"])),
            f"Vent. rate {rng.integers(50, 130)} BPM",
            f"PR interval {pr} ms",
            f"QRS duration {qrs} ms",
            f"QT/QTc {qt}/{qt + int(rng.integers(0, 40))} ms",
            f"P-R-T axes {rng.integers(-30, 90)} {rng.integers(-30, 90)} {rng.integers(-30, 90)}",
        ]
    )


_INTERPRETATIONS = (
    "Normal sinus rhythm\nNormal ECG",
    "Sinus rhythm\nLeft axis deviation\nBorderline ECG",
    "Sinus bradycardia\nOtherwise normal ECG\nUnconfirmed report",
)
#: Orange of plain-paper printouts with a dotted grid (as paper-ecg's scan).
_ORANGE = (240, 130, 40)

# The real-printout cases of issue 10, in the order real_cases cycles through them.
# Every case prints lead II for 10 s, so the competition's solution is on the page.
_REAL_CASES = (
    {"layout": "3x4+2", "header": True, "interpretation": True},  # GE: V1, II strips
    {"layout": "3x4+3", "grid_style": "dotted", "grid_color": "gray"},
    {"layout": "3x4+3:V1,II,V5", "grid_style": "major_only"},
    {"layout": "6x2+1", "grid_style": "dotted", "grid_color": _ORANGE},
    {"layout": "3x4+1", "paper_speed": 50.0},
    {"layout": "3x4+1", "gain": 20.0},
    {"layout": "6x2+1", "gain": 5.0},
    {"layout": "3x4+1", "grid_color": "mono", "binarize": True},
    {"layout": "3x4+2", "grid_color": "mono", "grid_style": "dotted", "header": True},
    {"layout": "3x4+3", "grid_color": "gray", "thin_trace": True},
    {"layout": "3x4+2:II,V1", "paper_speed": 50.0, "gain": 5.0, "grid_style": "dotted"},
    {"layout": "3x4+1", "gain": 20.0, "grid_color": "mono", "binarize": True, "thin_trace": True},
    # GE's plain-paper PDF at 300 dpi: 5 mm lines as dots, baselines on them, names above
    {
        "layout": "3x4+1",
        "grid_style": "dotted_lines",
        "grid_color": "mono",
        "baselines_on_lines": True,
        "labels": "above",
        "dpi": 300.0,
    },
)


def _kind_real_cases(rng, index):
    case = dict(_REAL_CASES[index % len(_REAL_CASES)])
    kw = {"calibration_pulse": True}
    if case.pop("header", False):
        kw["header_text"] = _ge_header(rng)
    if case.pop("interpretation", False):
        kw["footer_text"] = str(rng.choice(_INTERPRETATIONS))
    if case.pop("thin_trace", False):
        kw["line_width_mm"] = 25.4 / 200.0  # one pixel at 200 dpi
    return {**kw, **case}, None


# kind -> function(rng) -> (render_ecg keywords, distort keywords or None)
_KINDS = {
    "clean": _kind_clean,
    "pulse": _kind_pulse,
    "header": _kind_header,
    "pink": _grid_kind("pink"),
    "blue": _grid_kind("blue"),
    "green": _grid_kind("green"),
    "brown": _grid_kind("brown"),
    "bw": _grid_kind("bw"),
    "lowres": _kind_lowres,
    "rotated": _kind_rotated,
    "blur": _kind_blur,
    "noisy": _kind_noisy,
    "scan": _kind_scan,
    "photo": _kind_photo,
    "curled": _kind_curled,
    "realistic": _kind_realistic,
    "bwscan": _kind_bwscan,
    "bwscan_turned": _kind_bwscan_turned,
    "real_cases": _kind_real_cases,
}
DATASET_KINDS = tuple(_KINDS)
# Kinds whose maker takes the image's number among the images of its kind too
# (to cycle through cases rather than draw them).
_CYCLING_KINDS = {"real_cases"}
# Kinds printing other pages than ecg-image-kit's 3x4+1 at 25 mm/s and 10 mm/mV: a
# set holding one gets the page columns in manifest.csv and the page keys in its
# truth JSON.
_PAGE_KINDS = {"real_cases"}
# kind -> keywords of synthetic_signals (default: the textbook signals)
_KIND_SIGNALS = {"realistic": {"style": "realistic"}}


def _pixel_affine(truth: RenderTruth, lt: LeadTruth) -> dict | None:
    """row/col = a0*k + a1*v + a2 of a panel for an affine homography and a flat page, else None."""
    if truth.bend:
        return None
    hm = truth.homography / truth.homography[2, 2]
    if not np.allclose(hm[2, :2], 0.0, atol=1e-12):
        return None
    sx = truth.paper_speed * truth.px_per_mm / truth.fs  # px per sample
    sy = -truth.gain * truth.px_per_mm  # px per mV
    # x = x0 + sx*k, y = b + sy*v  ->  image = hm @ (x, y, 1)
    col = [
        hm[0, 0] * sx,
        hm[0, 1] * sy,
        hm[0, 0] * lt.x0_px + hm[0, 1] * lt.baseline_y_px + hm[0, 2],
    ]
    row = [
        hm[1, 0] * sx,
        hm[1, 1] * sy,
        hm[1, 0] * lt.x0_px + hm[1, 1] * lt.baseline_y_px + hm[1, 2],
    ]
    return {"row": [float(v) for v in row], "col": [float(v) for v in col]}


def _page_columns(truth: RenderTruth, render_kw: dict) -> dict:
    """The manifest's page columns of one image (see :func:`write_dataset`)."""
    grid = render_kw.get("grid_color", "red")
    return {
        "layout": truth.layout,
        "rhythm_leads": ",".join(truth.rhythm_leads),
        "paper_speed": truth.paper_speed,
        "gain": truth.gain,
        "grid_style": truth.grid_style,
        "grid_color": grid if isinstance(grid, str) else "#{:02x}{:02x}{:02x}".format(*grid),
        "binarize": truth.binarized,
    }


def write_dataset(
    out_dir: str | Path,
    n: int = 8,
    *,
    seed: int = 0,
    fs: float = 500,
    kinds: Sequence[str] = ("clean", "pulse", "blue", "bw", "rotated", "blur", "photo", "lowres"),
):
    """Write a synthetic data set in the format of the competition (and of ecg-dev).

    Image ``i`` gets kind ``kinds[i % len(kinds)]``, a heart rate spread evenly over
    50-130 bpm, its own seed and a dark-gray trace (0-50, black for ``bw``). Kinds
    (:data:`~ecgprep.synth.DATASET_KINDS`), all in the 3x4+1 layout at 200 dpi unless said:

    - ``clean``: red grid, no calibration pulse; ``pulse``: with pulses;
      ``header``: pulses and printed patient header;
    - ``pink``, ``blue``, ``green``, ``brown``, ``bw``: grid styles (pulse 80 %);
    - ``lowres``: 100 or 130 dpi;
    - ``rotated``: 1-5 degrees either way, light noise and colour cast, black corners;
    - ``blur``: Gaussian blur sigma 1.2 or 2.0 px;
    - ``noisy``: noise sigma 8-20, JPEG quality 75;
    - ``scan``: red, pink or bw grid, +-2 degrees, slight blur, noise, yellowish
      cast, JPEG 90;
    - ``photo``: on a dark, wood or desk background with perspective, rotation,
      uneven shading, warm cast, blur, noise, JPEG 85;
    - ``curled``: a ``photo`` of a page that does not lie flat: bent by 1.5-4 mm
      first (:func:`~ecgprep.synth.bend`; the truth JSON keeps ``bend``);
    - ``bwscan``: a scanner's black-and-white mode (binarised at mid-grey): a black
      grid (half the pages), or a red or gray one of which the 5 mm lines stay
      black; pulses, pen 0.15-0.35 mm, 200 or 300 dpi; ``bwscan_turned``: the same
      pages lying turned by 0.2-2.5 degrees either way on the glass, binarised
      after the turn (black corners);
    - ``realistic``: a clean red-grid print (pulse 80 %) of signals as recorded
      ECGs are (``synthetic_signals(style="realistic")``: muscle noise, wander,
      mains hum, large amplitudes, now and then a wide QRS or pacing spikes);
    - ``real_cases``: the real printouts of issue 10, clean and with exact truth,
      cycling through (the n-th real_cases image gets case ``n % 13``): a GE page
      (3x4+2 with V1, II strips, header block, interpretation), 3x4+3 on a dotted
      gray grid, 3x4+3 with strips V1, II, V5 on a major-only grid, 6x2+1 on a
      dotted orange grid, 3x4+1 at 50 mm/s, 3x4+1 at 20 mm/mV, 6x2+1 at 5 mm/mV,
      a binarised black-and-white scan (grid as dark as the trace), a mono dotted
      3x4+2 with a header, a one-pixel trace, 3x4+2 with strips II, V1 at 50 mm/s
      and 5 mm/mV on a dotted grid, a binarised 20 mm/mV page with a
      one-pixel trace, and a GE PDF page at 300 dpi (5 mm lines printed as dots
      with the baselines on them, lead names above the trace). Every case prints
      lead II for 10 s.

    Files written under ``out_dir``:

    - ``images/<id>.png`` (``.jpg`` for kinds re-encoded as JPEG: noisy, scan, photo,
      curled);
    - ``truth/<id>.csv``: columns ``I,II,III,aVR,aVL,aVF,V1..V6``, 10 s at ``fs``, mV
      with 1 uV resolution (exactly what was plotted);
    - ``truth/<id>.json``: image size, dpi, layout, pulse, ``homography``,
      ``paper_quad`` and per printed lead ``lead_name``, ``start_sample``,
      ``end_sample``, ``is_rhythm_strip``, ``baseline_y_px``, ``x0_px`` and (when
      the homography is affine) ``pixel_affine`` as in ecg-dev
      (``row = a0*k + a1*v + a2``, ``col = b0*k + b1*v + b2``, ``k`` = sample index
      minus ``start_sample``, ``v`` in mV);
    - ``manifest.csv``: ``id,fs,sig_len,width_px,height_px,dpi,difficulty,options,image_file``
      and, when ``kinds`` holds ``real_cases``, for every image the page it prints:
      ``layout`` (e.g. ``3x4+2``), ``rhythm_leads`` (top to bottom, e.g. ``V1,II``;
      empty when none), ``paper_speed`` (mm/s), ``gain`` (mm/mV), ``grid_style``
      (:data:`~ecgprep.synth.GRID_STYLES`), ``grid_color`` (a name or ``#rrggbb``)
      and ``binarize``; the truth JSON then also holds ``layout_spec`` (e.g.
      ``3x4+2:V1,II``, the name :data:`ecgprep.standards.LAYOUTS` spells),
      ``rhythm_leads``, ``paper_speed``, ``gain``, ``grid_style`` and ``binarized``;
    - ``test.csv``: ``id,lead,fs,number_of_rows`` (lead II: the 10 s strip, others
      one 2.5 s column);
    - ``solution.csv``: ``id,value`` with ``id = f"{image_id}_{row}_{lead}"``; lead II
      row ``r`` is truth sample ``r``, another lead's row ``r`` is truth sample
      ``window_start + r`` of its 3x4 column (I-III: 0 s, aVR-aVF: 2.5 s,
      V1-V3: 5 s, V4-V6: 7.5 s).

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created if missing; existing files of the same names are replaced).
    n : int
        Number of images (1-100000).
    seed : int
        Seed of everything; the same arguments write the same files.
    fs : float
        Sampling rate of the signals and of ``test.csv``.
    kinds : sequence of str
        Kinds to cycle through, from :data:`~ecgprep.synth.DATASET_KINDS`.

    Returns
    -------
    manifest : pandas.DataFrame
        The manifest (``id`` as 5-digit strings), in image order.

    Raises
    ------
    ValueError
        Unknown kind or bad ``n`` / ``fs``.

    Example
    -------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     m = write_dataset(d, n=1, kinds=("lowres",))
    ...     list(m.columns)[:3]
    ['id', 'fs', 'sig_len']
    """
    import pandas as pd

    n = int(check_number(n, "n", lo=1, hi=100_000))
    fs = check_number(fs, "fs", lo=1.0, hi=100_000.0)
    if isinstance(kinds, str) or not len(kinds):
        raise ValueError(f"kinds must be a non-empty sequence of kind names, got {kinds!r}")
    makers = [pick(_KINDS, k, "dataset kind") for k in kinds]
    out = Path(out_dir)
    for sub in ("images", "truth"):
        (out / sub).mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(seed)
    ids = [f"{v:05d}" for v in rng.choice(np.arange(10000, 100000), size=n, replace=False)]
    seeds = rng.integers(0, 2**31 - 1, size=n)
    rates = np.linspace(50.0, 130.0, n) if n > 1 else np.array([75.0])
    rates = rates[rng.permutation(n)]
    sig_len = int(round(RECORD_SECONDS * fs))
    fs_out = int(fs) if float(fs).is_integer() else fs
    n_short = sig_len // 4
    short_start = {}
    for c, names in enumerate(zip(*_ROWS_3X4, strict=True)):
        for name in names:
            short_start[name] = c * sig_len // 4

    pages = any(k in _PAGE_KINDS for k in kinds)
    seen = dict.fromkeys(kinds, 0)
    manifest, tests, sol_ids, sol_vals = [], [], [], []
    for i, image_id in enumerate(ids):
        kind = kinds[i % len(kinds)]
        krng = np.random.default_rng(int(seeds[i]))
        maker = makers[i % len(kinds)]
        if kind in _CYCLING_KINDS:
            render_kw, distort_kw = maker(krng, seen[kind])
        else:
            render_kw, distort_kw = maker(krng)
        seen[kind] += 1
        if render_kw.get("grid_color") not in ("bw", "mono"):
            # ecg-image-kit prints traces in a random dark gray (0-50).
            g = int(krng.integers(0, 51))
            render_kw = {**render_kw, "trace_color": (g, g, g)}
        signal_kw = _KIND_SIGNALS.get(kind, {})
        raw = synthetic_signals(
            fs=fs,
            duration=sig_len / fs,
            heart_rate=float(rates[i]),
            seed=int(seeds[i]),
            **signal_kw,
        )
        # 1 uV resolution, as a 16-bit WFDB record at gain 1000 would store it.
        sig = {name: np.round(raw[name], 3) for name in LEAD_NAMES}
        render = render_ecg(sig, fs=fs, seed=int(seeds[i]), **render_kw)
        quality = None
        if distort_kw is not None:
            # JPEG happens once, when the file is written.
            quality = distort_kw.get("jpeg_quality")
            kw = {k: v for k, v in distort_kw.items() if k not in ("jpeg_quality", "bend_mm")}
            if "bend_mm" in distort_kw:
                render = bend(render, amount_mm=distort_kw["bend_mm"], seed=int(seeds[i]) + 2)
            render = distort(render, seed=int(seeds[i]) + 1, **kw)
        ext = "jpg" if quality else "png"
        image_file = f"images/{image_id}.{ext}"
        bgr = cv2.cvtColor(render.image, cv2.COLOR_RGB2BGR)
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)] if quality else []
        if not cv2.imwrite(str(out / image_file), bgr, params):
            raise OSError(f"could not write {out / image_file}")

        frame = pd.DataFrame({name: sig[name] for name in LEAD_NAMES})
        frame.to_csv(out / "truth" / f"{image_id}.csv", index=False, float_format="%.3f")
        t = render.truth
        meta = {
            "image_id": image_id,
            "image_file": image_file,
            "image_width_px": int(render.image.shape[1]),
            "image_height_px": int(render.image.shape[0]),
            "resolution": t.dpi,
            "px_per_mm": t.px_per_mm,
            "sampling_frequency": fs,
            "layout": t.layout,
            "dc_pulse": t.calibration_pulse,
            "difficulty": kind,
            **({"signals": signal_kw} if signal_kw else {}),
            "render": render_kw,
            "distort": distort_kw,
            "angle_deg": t.angle_deg,
            "homography": t.homography.tolist(),
            **({"bend": list(t.bend)} if t.bend else {}),
            "paper_quad": t.paper_quad.tolist(),
            "grid_line_color_major": list(t.grid_rgb),
            "grid_line_color_minor": list(t.grid_minor_rgb),
            "ecg_plot_color": list(t.trace_rgb),
            "geometry_valid": _pixel_affine(t, t.leads[0]) is not None,
            **(
                {
                    "layout_spec": t.layout_spec,
                    "rhythm_leads": list(t.rhythm_leads),
                    "paper_speed": t.paper_speed,
                    "gain": t.gain,
                    "grid_style": t.grid_style,
                    "binarized": t.binarized,
                }
                if pages
                else {}
            ),
            "leads": [
                {
                    "lead_name": lt.name,
                    "start_sample": lt.start_sample,
                    "end_sample": lt.start_sample + lt.n_samples,
                    "is_rhythm_strip": lt.is_rhythm,
                    "baseline_y_px": lt.baseline_y_px,
                    "x0_px": lt.x0_px,
                    "pixel_affine": _pixel_affine(t, lt),
                }
                for lt in t.leads
            ],
        }
        with open(out / "truth" / f"{image_id}.json", "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=1)

        options = json.dumps(
            {
                "kind": kind,
                "seed": int(seeds[i]),
                "heart_rate": round(float(rates[i]), 1),
                **({"signals": signal_kw} if signal_kw else {}),
                "render": render_kw,
                "distort": distort_kw,
            },
            separators=(",", ":"),
        )
        manifest.append(
            {
                "id": image_id,
                "fs": fs_out,
                "sig_len": sig_len,
                "width_px": int(render.image.shape[1]),
                "height_px": int(render.image.shape[0]),
                "dpi": int(t.dpi) if float(t.dpi).is_integer() else t.dpi,
                "difficulty": kind,
                "options": options,
                "image_file": image_file,
                **(_page_columns(t, render_kw) if pages else {}),
            }
        )
        for name in LEAD_NAMES:
            if name == "II":
                rows, start = sig_len, 0
            else:
                rows, start = n_short, short_start[name]
            tests.append({"id": image_id, "lead": name, "fs": fs_out, "number_of_rows": rows})
            sol_ids.append(
                np.char.add(np.char.add(f"{image_id}_", np.arange(rows).astype(str)), f"_{name}")
            )
            sol_vals.append(sig[name][start : start + rows])

    manifest_df = pd.DataFrame(manifest)
    manifest_df.to_csv(out / "manifest.csv", index=False)
    pd.DataFrame(tests).to_csv(out / "test.csv", index=False)
    pd.DataFrame({"id": np.concatenate(sol_ids), "value": np.concatenate(sol_vals)}).to_csv(
        out / "solution.csv", index=False, float_format="%.3f"
    )
    return manifest_df
