"""Evaluation over a folder of images with truth: where is accuracy lost?

A folder holds ``test.csv`` and ``solution.csv`` (Kaggle style), the images as
``images/<id>.png`` (or ``.jpg``/``.jpeg``, or directly in the folder), and
optionally ``manifest.csv`` with a ``difficulty`` column. :func:`evaluate_folder`
runs the batch, builds the submission exactly as ``ecgprep submit`` does, scores
it with the competition metric and breaks the score down by difficulty and by
lead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .batch import BatchResults, process_batch_for_submission
from .options import Options

__all__ = ["Evaluation", "evaluate_folder"]


def _db(lin: pd.Series | np.ndarray) -> float:
    m = float(np.mean(lin)) if len(lin) else float("nan")
    return 10.0 * np.log10(m) if m > 0 else float("-inf")


@dataclass(frozen=True)
class Evaluation:
    """Scores of a folder evaluation.

    Attributes
    ----------
    score_db : float
        The competition score over all records.
    per_record : DataFrame
        ``id, difficulty, snr_db, ok, quality_pass, failed_stage, error, seconds``.
    by_difficulty : DataFrame
        ``difficulty, n, score_db`` (the metric restricted to those records) and
        ``failed`` (images that fell back).
    per_lead : DataFrame
        ``lead, mean_db, median_db, min_db`` of the per-lead SNRs over records.
    summary : DataFrame
        The batch's :func:`~ecgprep.batch.summary_frame`.
    diagnostics : DataFrame
        One row per scored lead (:func:`ecgprep.diagnostics.diagnose_frames`,
        with ``difficulty``): lag, scale, edge errors and SNR with each removed.
    by_fs : DataFrame
        The error components pooled by sampling rate (as ``errors_by_difficulty``).
    errors_by_difficulty : DataFrame
        ``n, score_db, score_db_lag, score_db_lag_scale`` (the score as read, with
        the fractional lag removed, and with lag and scale removed), the median and
        spread of ``lag_ms`` and ``scale``, the median RMS error at panel
        starts, middles and ends (mV), and ``offset_mv``, the median error of the
        leads' 0 mV (mV; the metric removes it).
    submission : DataFrame
        The ``id,value`` submission that was scored.
    results : BatchResults
        The pipeline's results, in ``test.csv`` order of the images found.
    solution : DataFrame
        The ``id,value`` truth the submission was scored against.
    """

    score_db: float
    per_record: pd.DataFrame
    by_difficulty: pd.DataFrame
    per_lead: pd.DataFrame
    summary: pd.DataFrame
    submission: pd.DataFrame
    results: BatchResults
    diagnostics: pd.DataFrame = field(default_factory=pd.DataFrame)
    errors_by_difficulty: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_fs: pd.DataFrame = field(default_factory=pd.DataFrame)
    solution: pd.DataFrame = field(default_factory=pd.DataFrame)

    def lead(self, image_id: str, lead: str) -> tuple[np.ndarray, np.ndarray, float]:
        """Truth and reading of one scored lead: ``(truth, reading, fs)`` in row order."""
        from .metrics import split_ids

        prefix = f"{image_id}_"
        sol = self.solution[self.solution["id"].str.startswith(prefix)]
        img, row, ld = split_ids(sol["id"].to_numpy(dtype=object))
        keep = (img == image_id) & (ld == lead)
        if not keep.any():
            raise KeyError(f"no scored lead {lead!r} of image {image_id!r}")
        sol = sol[keep].iloc[np.argsort(row[keep], kind="stable")]
        sub = self.submission.set_index("id")["value"].reindex(sol["id"])
        fs = float(
            self.diagnostics.loc[
                (self.diagnostics["id"] == image_id) & (self.diagnostics["lead"] == lead), "fs"
            ].iloc[0]
        )
        return sol["value"].to_numpy(np.float64), sub.to_numpy(np.float64), fs

    def worst_leads(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` leads with the lowest SNR, with their error components."""
        cols = ["id", "lead", "difficulty", "fs", "snr_db", "snr_db_lag_scale", "lag_ms", "scale"]
        cols += ["rmse_start_mv", "rmse_mid_mv", "rmse_end_mv"]
        if not len(self.diagnostics):
            return pd.DataFrame(columns=cols)
        return self.diagnostics.nsmallest(n, "snr_db")[cols].reset_index(drop=True)

    def report(self) -> str:
        """A plain-text report (what ``ecgprep eval`` prints)."""
        with pd.option_context("display.width", 160, "display.max_columns", 30):
            lines = [
                f"score: {self.score_db:.2f} dB over {len(self.per_record)} images",
                "",
                "by difficulty:",
                self.by_difficulty.to_string(index=False, float_format=lambda v: f"{v:.2f}"),
                "",
                "per lead (dB over records):",
                self.per_lead.to_string(index=False, float_format=lambda v: f"{v:.2f}"),
                "",
                "error components by difficulty (lag: reading later than truth, ms; "
                "scale: truth / reading; rmse: mV at panel start, middle, end; "
                "offset: mV off 0, which the metric forgives):",
                self.errors_by_difficulty.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
                "",
                "error components by fs:",
                self.by_fs.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
                "",
                "worst leads:",
                self.worst_leads().to_string(index=False, float_format=lambda v: f"{v:.2f}"),
                "",
                "per image:",
                self.per_record.drop(columns=["error"]).to_string(
                    index=False, float_format=lambda v: f"{v:.2f}"
                ),
            ]
            failed = self.per_record[~self.per_record.ok]
            if len(failed):
                lines += ["", "failures:"] + [f"  {r.id}: {r.error}" for r in failed.itertuples()]
        return "\n".join(lines)


def _error_table(diag: pd.DataFrame, by: str) -> pd.DataFrame:
    """Error components of ``diag`` pooled per value of column ``by`` and over all."""
    from .diagnostics import pooled_scores

    groups = [(k, g) for k, g in diag.groupby(by, sort=True)] if len(diag) else []
    groups.append(("ALL", diag))
    rows = []
    for key, g in groups:
        row = {by: key, "n": int(g["id"].nunique()) if len(g) else 0, **pooled_scores(g)}
        for col, name in (("lag_ms", "lag_ms"), ("scale", "scale")):
            row[f"{name}_median"] = float(g[col].median()) if len(g) else float("nan")
            row[f"{name}_sd"] = float(g[col].std()) if len(g) > 1 else float("nan")
        for col in ("rmse_start_mv", "rmse_mid_mv", "rmse_end_mv"):
            row[col] = float(g[col].median()) if len(g) else float("nan")
        row["offset_mv"] = float(g["offset_mv"].abs().median()) if len(g) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def evaluate_folder(
    folder: str | Path,
    options: Options | Mapping[str, Any] | None = None,
    *,
    n_jobs: int | None = -1,
    progress: bool = True,
    limit: int | None = None,
) -> Evaluation:
    """Digitize every image of ``folder`` and score it against its truth.

    Parameters
    ----------
    folder : str or Path
        Holds ``test.csv``, ``solution.csv``, the images (``images/`` or the folder
        itself) and optionally ``manifest.csv`` (``id, difficulty``).
    options : Options or dict, optional
    n_jobs : int or None
    progress : bool
    limit : int, optional
        Only the first ``limit`` images of ``test.csv``.

    Returns
    -------
    Evaluation
    """
    from .metrics import score_frames
    from .submission import images_for_test, read_test_csv, submission_with_report

    folder = Path(folder)
    for name in ("test.csv", "solution.csv"):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder}: missing {name} (an evaluation folder needs test.csv and solution.csv)"
            )
    test = read_test_csv(folder / "test.csv")
    ids = list(dict.fromkeys(test["id"].tolist()))
    if limit is not None:
        ids = ids[: int(limit)]
        test = test[test["id"].isin(ids)].reset_index(drop=True)
    images_dir = folder / "images" if (folder / "images").is_dir() else folder
    present, paths, _missing = images_for_test(test, images_dir)
    results: BatchResults = process_batch_for_submission(
        paths, options, n_jobs=n_jobs, progress=progress, ids=present
    )
    submission, status = submission_with_report(results, test)
    solution = pd.read_csv(folder / "solution.csv", dtype={"id": str})
    ids_wanted = set(submission["id"])
    solution = solution[solution["id"].isin(ids_wanted)]
    scored = score_frames(solution, submission, test)
    per_record = scored.per_record[["id", "snr", "snr_db"]].copy()
    man = folder / "manifest.csv"
    if man.is_file():
        manifest = pd.read_csv(man, dtype={"id": str})
        diff = dict(
            zip(
                manifest["id"],
                manifest.get("difficulty", pd.Series(["-"] * len(manifest))),
                strict=True,
            )
        )
    else:
        diff = {}
    per_record.insert(1, "difficulty", [diff.get(i, "-") for i in per_record["id"]])
    summ = results.summary.set_index("id") if len(results) else pd.DataFrame()
    per_record["ok"] = [
        bool(summ.loc[i, "ok"]) if i in summ.index else False for i in per_record["id"]
    ]
    per_record["quality_pass"] = [
        summ.loc[i, "quality_pass"] if i in summ.index else None for i in per_record["id"]
    ]
    per_record["failed_stage"] = [
        summ.loc[i, "failed_stage"] if i in summ.index else "missing" for i in per_record["id"]
    ]
    per_record["error"] = [
        summ.loc[i, "error"] if i in summ.index else "no image file" for i in per_record["id"]
    ]
    per_record["seconds"] = [
        float(summ.loc[i, "seconds"]) if i in summ.index else np.nan for i in per_record["id"]
    ]
    groups = []
    for d, g in per_record.groupby("difficulty", sort=True):
        groups.append(
            {
                "difficulty": d,
                "n": len(g),
                "score_db": _db(g["snr"]),
                "failed": int((~g["ok"]).sum()),
            }
        )
    groups.append(
        {
            "difficulty": "ALL",
            "n": len(per_record),
            "score_db": _db(per_record["snr"]),
            "failed": int((~per_record["ok"]).sum()),
        }
    )
    by_diff = pd.DataFrame(groups)
    lead_cols = [c for c in scored.per_lead.columns if c != "id"]
    per_lead = pd.DataFrame(
        {
            "lead": lead_cols,
            "mean_db": [float(scored.per_lead[c].mean()) for c in lead_cols],
            "median_db": [float(scored.per_lead[c].median()) for c in lead_cols],
            "min_db": [float(scored.per_lead[c].min()) for c in lead_cols],
        }
    )
    from .diagnostics import diagnose_frames

    diag = diagnose_frames(solution, submission, test)
    if len(diag):
        diag.insert(2, "difficulty", [diff.get(i, "-") for i in diag["id"]])
    else:
        diag["difficulty"] = []
    return Evaluation(
        score_db=float(scored.score_db),
        per_record=per_record.drop(columns=["snr"]),
        by_difficulty=by_diff,
        per_lead=per_lead,
        summary=results.summary,
        submission=submission,
        results=results,
        diagnostics=diag,
        solution=solution.reset_index(drop=True),
        errors_by_difficulty=_error_table(diag, "difficulty"),
        by_fs=_error_table(diag, "fs"),
    )
