"""The command line end to end on a small rendered set with truth."""

import pandas as pd
import pytest

from ecgprep.cli import main


@pytest.fixture(scope="module")
def folder(synth_dataset):
    return synth_dataset


@pytest.mark.slow
def test_submit_then_score(folder, tmp_path, capsys):
    sub = tmp_path / "submission.csv"
    summ = tmp_path / "summary.csv"
    rc = main(
        [
            "submit",
            str(folder / "images"),
            "--test-csv",
            str(folder / "test.csv"),
            "--out",
            str(sub),
            "--summary",
            str(summ),
            "--jobs",
            "1",
            "--quiet",
        ]
    )
    assert rc == 0
    test = pd.read_csv(folder / "test.csv", dtype={"id": str})
    df = pd.read_csv(sub, dtype={"id": str})
    assert len(df) == test["number_of_rows"].sum() and df["id"].is_unique
    assert len(pd.read_csv(summ)) == test["id"].nunique()
    capsys.readouterr()
    rc = main(
        ["score", str(folder / "solution.csv"), str(sub), "--test-csv", str(folder / "test.csv")]
    )
    assert rc == 0
    out = capsys.readouterr().out
    score = float(out.strip().splitlines()[-1].split()[1])
    assert score > 12.0


@pytest.mark.slow
def test_eval_writes_tables_and_gallery(folder, tmp_path, capsys):
    out = tmp_path / "ev"
    assert main(["eval", str(folder), "--jobs", "1", "--quiet", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "by difficulty" in text and "per lead" in text
    for name in (
        "per_record.csv",
        "by_difficulty.csv",
        "per_lead.csv",
        "summary.csv",
        "gallery.html",
    ):
        assert (out / name).is_file()
    assert "<img" in (out / "gallery.html").read_text()


def test_bad_option_is_a_clear_error(folder, capsys):
    rc = main(["eval", str(folder), "--quiet", "--option", "edge_methd=canny"])
    assert rc == 2
    assert "edge_methd" in capsys.readouterr().err
