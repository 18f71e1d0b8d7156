"""Shared by the benchmarks that read pages of one ``ecgprep.synth`` dataset kind."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from ecgprep.evaluate import Evaluation, evaluate_folder
from ecgprep.synth import write_dataset


def arguments(doc: str, *, n: int, seed: int, n_help: str = "pages") -> argparse.ArgumentParser:
    """The options every such benchmark takes: ``--n``, ``--jobs``, ``--seed``, ``--out``."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--n", type=int, default=n, help=n_help)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--out", type=Path, default=None, help="keep the pages (and a table) here")
    return ap


def read_kind(kind: str, args: argparse.Namespace) -> tuple[Evaluation, pd.DataFrame]:
    """Write ``args.n`` pages of ``kind`` (into ``args.out``, else a temporary folder),
    read them with the default options; the evaluation and the manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        write_dataset(folder, args.n, seed=args.seed, kinds=(kind,))
        ev = evaluate_folder(folder, n_jobs=args.jobs, progress=False)
        manifest = pd.read_csv(folder / "manifest.csv", dtype={"id": str})
    return ev, manifest
