"""Outputs are written whole or not at all, and never through a planted link."""

import os

import pandas as pd
import pytest

from ecgprep._atomic import atomic_output, write_atomic
from ecgprep.submission import write_submission


def _frame():
    return pd.DataFrame({"id": ["7_0_II", "7_1_II"], "value": [0.1, 0.2]})


@pytest.mark.skipif(os.name != "posix", reason="symlinks need privileges on Windows")
def test_planted_symlink_at_old_temp_name_is_never_followed(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("precious")
    out = tmp_path / "submission.csv"
    (tmp_path / "submission.csv.tmp").symlink_to(precious)
    write_submission(_frame(), out)
    assert precious.read_text() == "precious"
    assert not out.is_symlink()
    assert out.read_text().startswith("id,value\n7_0_II,0.1000\n")
    assert (tmp_path / "submission.csv.tmp").is_symlink()  # left as it was


@pytest.mark.parametrize("exc", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failure_while_writing_keeps_previous_file_and_no_temp(tmp_path, exc):
    out = tmp_path / "out.csv"
    out.write_text("previous")

    def write(tmp):
        tmp.write_text("half")
        raise exc

    with pytest.raises(type(exc)):
        write_atomic(out, write)
    assert out.read_text() == "previous"
    assert sorted(os.listdir(tmp_path)) == ["out.csv"]


def test_write_submission_failure_keeps_previous_submission(tmp_path, monkeypatch):
    out = tmp_path / "submission.csv"
    write_submission(_frame(), out)
    before = out.read_text()

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="No space"):
        write_submission(_frame().assign(value=[9.0, 9.0]), out)
    assert out.read_text() == before
    assert sorted(os.listdir(tmp_path)) == ["submission.csv"]


def test_temp_name_is_fresh_in_the_destination_folder(tmp_path):
    seen = []
    with atomic_output(tmp_path / "a.csv") as tmp:
        seen.append(tmp)
        assert tmp.parent == tmp_path and tmp.name.startswith(".a.csv.") and tmp.exists()
    with atomic_output(tmp_path / "a.csv") as tmp:
        seen.append(tmp)
    assert seen[0] != seen[1]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_new_file_gets_the_usual_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        p = write_atomic(tmp_path / "x.txt", lambda t: t.write_text("x"))
    finally:
        os.umask(old)
    assert (p.stat().st_mode & 0o777) == 0o640  # mkstemp alone would give 0o600
