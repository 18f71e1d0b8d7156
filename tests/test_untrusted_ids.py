"""Ids and sizes in ``test.csv`` are untrusted: each hostile case is refused by name.

An id is a file-name stem inside the images folder and the head of every
``submission.csv`` row id, so what could escape the folder, fail as a file name or
need CSV quoting is refused in :func:`read_test_csv`, with the row, the id and the
cause. Ids that only look like missing values (``NA``, ``null``) are kept as text.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ecgprep.errors import ImageLoadError, TestCsvError
from ecgprep.io import IMAGE_SUFFIXES
from ecgprep.metrics import split_ids
from ecgprep.submission import (
    LEADS,
    MAX_RECORD_S,
    LeadSignal,
    images_for_test,
    read_test_csv,
    submission_frame,
    write_submission,
)

COLUMNS = ["id", "lead", "fs", "number_of_rows"]
MAX_ID_BYTES = 255 - max(len(s.encode()) for s in IMAGE_SUFFIXES)

SEPARATOR = "path separator"
ABSOLUTE = "absolute path or starts with a drive"
DOTS = r"id '\.' or '\.\.' \(not a file name\)"
CONTROL = "NUL, line break or other control character"
QUOTING = "comma or quote"
LONG = f"id longer than {MAX_ID_BYTES} bytes in UTF-8"
EMPTY = "empty id"


@dataclass
class Result:
    image_id: str
    ok: bool = True
    error: str | None = None
    signals: dict[str, Any] | None = field(default_factory=dict)


def rows_for(ids, fs=500.0, leads=LEADS):
    return [(i, lead, fs, int((10.0 if lead == "II" else 2.5) * fs)) for i in ids for lead in leads]


def write_csv(tmp_path, rows, name="test.csv"):
    """test.csv as a careful writer makes it: fields quoted where needed (a lone CR too,
    which pandas' writer leaves bare), so the hostile id reaches the reader whole."""
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def full_signals(fs: float = 500.0) -> dict[str, LeadSignal]:
    t = np.arange(int(10 * fs)) / fs
    return {
        lead: LeadSignal(lead, np.sin(2 * np.pi * (1 + 0.1 * k) * t), fs, 0.0)
        for k, lead in enumerate(LEADS)
    }


# ------------------------------------------------------------------ refused ids

REFUSED = [
    ("../elsewhere/x", SEPARATOR),
    ("a/b", SEPARATOR),
    ("N/A", SEPARATOR),  # refused for its slash, not read as missing
    ("a\\b", SEPARATOR),
    ("..\\x", SEPARATOR),
    ("/abs/path/x", ABSOLUTE),
    ("\\\\server\\share\\x", ABSOLUTE),
    ("C:x", ABSOLUTE),
    ("c:\\x", ABSOLUTE),
    (".", DOTS),
    ("..", DOTS),
    ("a\x00b", CONTROL),
    ("a\nb", CONTROL),
    ("a\rb", CONTROL),
    ("a\tb", CONTROL),
    ("a\x7fb", CONTROL),
    ("a\u2028b", CONTROL),
    ("a,b", QUOTING),
    ('a"b', QUOTING),
    ("a'b", QUOTING),
    ("x" * (MAX_ID_BYTES + 1), LONG),
    ("\u00e9" * (MAX_ID_BYTES // 2 + 1), LONG),  # few characters, too many bytes
    ("", EMPTY),
    ("   ", EMPTY),
]


@pytest.mark.parametrize("source", ["file", "frame"])
@pytest.mark.parametrize(("bad", "cause"), REFUSED, ids=[repr(b)[:24] for b, _ in REFUSED])
def test_hostile_id_is_refused_by_name(tmp_path, source, bad, cause):
    rows = rows_for(["11", "12"])
    rows[13] = (bad, *rows[13][1:])
    test = write_csv(tmp_path, rows) if source == "file" else pd.DataFrame(rows, columns=COLUMNS)
    with pytest.raises(TestCsvError, match=cause) as info:
        read_test_csv(test)
    msg = str(info.value)
    assert "row 13 (id=" in msg and "row 12 " not in msg
    shown = repr(bad.strip()) if len(bad) <= 60 else repr(bad[:60])
    assert shown in msg  # the id as read, escaped
    assert "\n" not in msg  # a hostile id can't break the message into lines
    assert "np." not in msg  # values shown as written: fs=500, not fs=np.int64(500)


def test_every_path_that_reads_test_csv_refuses_a_hostile_id(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "x.png").write_bytes(b"outside the images folder")
    rows = rows_for(["../x"])
    with pytest.raises(TestCsvError, match=SEPARATOR):
        images_for_test(pd.DataFrame(rows, columns=COLUMNS), tmp_path / "images")
    with pytest.raises(TestCsvError, match=SEPARATOR):
        submission_frame([], write_csv(tmp_path, rows))


def test_nan_and_lone_surrogate_ids_in_a_frame_are_refused():
    rows = rows_for(["1", "2", "3"])
    df = pd.DataFrame(rows, columns=COLUMNS).astype({"id": object})
    df.loc[12:23, "id"] = np.nan
    df.loc[24:, "id"] = "a\udc80"  # what surrogateescape makes of undecodable bytes
    with pytest.raises(TestCsvError) as info:
        read_test_csv(df)
    msg = str(info.value)
    assert re.search(r"empty id: row 12 \(id=None", msg)
    assert re.search(r"not valid Unicode text \(a lone surrogate\): row 24 ", msg)


def test_many_bad_rows_are_counted_and_long_ids_shortened():
    long_id = "y" * 5000
    df = pd.DataFrame(rows_for([long_id]), columns=COLUMNS)
    with pytest.raises(TestCsvError, match=LONG) as info:
        read_test_csv(df)
    msg = str(info.value)
    assert "and 2 more" in msg and "(5000 characters)" in msg
    assert len(msg) < 2000  # ten rows shown, each id cut to 60 characters


# ----------------------------------------------------------------- accepted ids

ACCEPTED = [
    "NA",
    "<NA>",
    "null",
    "NULL",
    "nan",
    "-NaN",
    "None",
    "#NA",
    "00123",
    "0",
    "a b-c",
    "a_b",
    "1_2_3",
    "...",
    "a.b",
    "\u00e9t\u00e9",
    "x" * MAX_ID_BYTES,
    "\u00e9" * (MAX_ID_BYTES // 2),
]


def test_accepted_ids_are_read_back_exactly(tmp_path):
    rows = rows_for(ACCEPTED, leads=("I", "II"))
    t = read_test_csv(write_csv(tmp_path, rows))
    assert t["id"].tolist() == [r[0] for r in rows]
    assert t["fs"].dtype == np.float64 and t["number_of_rows"].dtype == np.int64
    assert t["number_of_rows"].tolist() == [r[3] for r in rows]
    # the same ids given as a frame
    t2 = read_test_csv(pd.DataFrame(rows, columns=COLUMNS))
    pd.testing.assert_frame_equal(t, t2)


def test_na_like_ids_in_a_hand_written_file(tmp_path):
    p = tmp_path / "test.csv"
    p.write_text(
        "id,lead,fs,number_of_rows\n"
        "NA,I,500,1250\nnull,I,500,1250\n00123,II,500,5000\nnan,I,250,625\n"
    )
    t = read_test_csv(p)
    assert t["id"].tolist() == ["NA", "null", "00123", "nan"]
    assert t["fs"].tolist() == [500.0, 500.0, 500.0, 250.0]


def test_an_empty_field_is_an_empty_id_not_nan(tmp_path):
    p = tmp_path / "test.csv"
    p.write_text("id,lead,fs,number_of_rows\n1,I,500,1250\n,II,500,5000\n")
    with pytest.raises(TestCsvError, match=r"empty id: row 1 \(id='', lead='II'"):
        read_test_csv(p)


def test_accepted_ids_find_their_images(tmp_path):
    d = tmp_path / "images"
    d.mkdir()
    ids = ["NA", "00123", "a b-c", "a_b"]
    for i in ids:
        (d / f"{i}.png").write_bytes(b"x")
    present, paths, missing = images_for_test(
        pd.DataFrame(rows_for([*ids, "nan"]), columns=COLUMNS), d
    )
    assert present == ids and missing == ["nan"]
    assert [p.name for p in paths] == [f"{i}.png" for i in ids]


def test_submission_with_spaced_and_dashed_ids_reads_back_row_for_row(tmp_path):
    ids = ["a b-c", "NA", "00123", "x_y z", "-1"]
    t = read_test_csv(write_csv(tmp_path, rows_for(ids)))
    sub = submission_frame([Result(i, signals=full_signals()) for i in ids], t)
    path = write_submission(sub, tmp_path / "submission.csv")
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) - 2 == len(sub)  # header, rows, final newline
    assert all(line.count(",") == 1 and '"' not in line for line in lines[:-1])
    back = pd.read_csv(path, dtype={"id": str}, keep_default_na=False)
    assert back["id"].tolist() == sub["id"].tolist()
    assert np.max(np.abs(back["value"].to_numpy() - sub["value"].to_numpy())) <= 5e-5 + 1e-12
    img, row, lead = split_ids(back["id"])
    heads = [
        i for i, _, n in zip(t["id"], t["lead"], t["number_of_rows"], strict=True) for _ in range(n)
    ]
    assert img.tolist() == heads
    assert set(lead.tolist()) == set(LEADS) and row.min() == 0


@pytest.mark.parametrize("bad", ["1,2_0_II", '1"_0_II', "1\n2_0_II", "1\r_0_II"])
def test_write_submission_refuses_ids_that_need_quoting(tmp_path, bad):
    df = pd.DataFrame({"id": ["7_0_II", bad], "value": [0.0, 1.0]})
    with pytest.raises(
        ValueError, match="comma, a double quote or a line break; found 1 in rows 0..1"
    ):
        write_submission(df, tmp_path / "submission.csv")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- number_of_rows


@pytest.mark.parametrize("fs", [250, 256, 500, 512, 1000, 1025])
def test_competition_rates_and_sizes_are_accepted(fs):
    t = read_test_csv(pd.DataFrame(rows_for(["1"], fs=fs), columns=COLUMNS))
    assert t["number_of_rows"].tolist() == [
        int((10 if lead == "II" else 2.5) * fs) for lead in LEADS
    ]


def test_ten_minutes_is_the_limit():
    rows = rows_for(["1"])
    rows[1] = ("1", "II", 500.0, int(MAX_RECORD_S * 500))
    assert read_test_csv(pd.DataFrame(rows, columns=COLUMNS))["number_of_rows"].iat[1] == 300_000


@pytest.mark.parametrize(
    ("value", "fs", "cause"),
    [
        (10**9, 500, r"number_of_rows more than 600 s of signal at the row's fs \(> 600 \* fs\)"),
        (300_001, 500, r"more than 600 s of signal"),
        (153_601, 256, r"more than 600 s of signal"),
        (0, 500, "number_of_rows not an integer >= 1"),
        (-5000, 500, "number_of_rows not an integer >= 1"),
        (5000.5, 500, "number_of_rows not an integer >= 1"),
        ("many", 500, "number_of_rows not an integer >= 1"),
        ("", 500, "number_of_rows not an integer >= 1"),
        (10**9, 10**9, "fs above 10000 Hz"),
    ],
)
def test_absurd_number_of_rows_is_refused_by_row(tmp_path, value, fs, cause):
    rows = rows_for(["5", "6"])
    rows[20] = ("6", rows[20][1], fs, value)
    with pytest.raises(TestCsvError, match=cause) as info:
        read_test_csv(write_csv(tmp_path, rows))
    assert "row 20 (id='6'" in str(info.value)
    assert "row 19 " not in str(info.value)


def test_absurd_number_of_rows_fails_before_the_submission_is_sized(monkeypatch):
    import ecgprep.submission as submission

    def empty(shape, *args, **kwargs):
        if np.prod(shape, dtype=np.float64) > 10**7:
            pytest.fail(f"an array of {shape} was sized before number_of_rows was checked")
        return np.empty(shape, *args, **kwargs)

    class NoEmpty:  # numpy as the module sees it, with a large np.empty failing the test
        def __getattr__(self, name):
            return empty if name == "empty" else getattr(np, name)

    rows = rows_for(["1"])
    rows[0] = ("1", "I", 500.0, 10**9)
    monkeypatch.setattr(submission, "np", NoEmpty())
    with pytest.raises(TestCsvError, match="row 0 "):
        submission_frame([], pd.DataFrame(rows, columns=COLUMNS))


# --------------------------------------------------------- files outside the folder


def _symlink(link, target):
    try:
        os.symlink(target, link)
    except (OSError, NotImplementedError) as exc:  # e.g. Windows without the privilege
        pytest.skip(f"symbolic links unavailable: {exc}")


def test_a_link_to_a_file_outside_the_folder_is_refused(tmp_path):
    d = tmp_path / "images"
    d.mkdir()
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"precious")
    (d / "1.png").write_bytes(b"x")
    _symlink(d / "2.png", secret)
    test = pd.DataFrame(rows_for(["1", "2"]), columns=COLUMNS)
    with pytest.raises(
        ImageLoadError, match="image of id '2' leads to .*secret.png.*outside the images folder"
    ):
        images_for_test(test, d)


def test_links_inside_the_folder_and_a_linked_folder_are_accepted(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "1.png").write_bytes(b"x")
    _symlink(real / "2.png", real / "1.png")
    linked = tmp_path / "linked"
    _symlink(linked, real)
    test = pd.DataFrame(rows_for(["1", "2"]), columns=COLUMNS)
    for folder in (real, linked):
        present, paths, missing = images_for_test(test, folder)
        assert present == ["1", "2"] and missing == []
        assert [p.name for p in paths] == ["1.png", "2.png"]
        assert all(p.resolve().parent == real.resolve() for p in paths)


# ------------------------------------------ the same ids and sizes given to `ecgprep submit`

SUBMIT_REFUSED = [
    ("../elsewhere/x", SEPARATOR),
    ("/abs/path/x", ABSOLUTE),
    ("a,b", QUOTING),
    ('a"b', QUOTING),
    ("a\nb", CONTROL),
    ("x" * 300, LONG),  # no file name can be that long: was an OSError traceback
]


def _submit(tmp_path, monkeypatch, rows):
    """``ecgprep submit`` on ``rows``, with the batch made to fail the test if it starts;
    returns the exit code, the stderr text and the output path."""
    from ecgprep import batch
    from ecgprep.cli import main

    def refuse(*args, **kwargs):
        raise AssertionError("the batch ran before the hostile test.csv was refused")

    monkeypatch.setattr(batch, "process_batch_for_submission", refuse)
    images = tmp_path / "images"
    images.mkdir()
    (images / "11.png").write_bytes(b"x")
    # the file an id "../elsewhere/x" joined onto the folder as it is would reach
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.png").write_bytes(b"outside the images folder")
    out = tmp_path / "submission.csv"
    test = write_csv(tmp_path, rows)
    args = ["submit", str(images), "--test-csv", str(test), "--out", str(out), "--quiet"]
    return main([*args, "--jobs", "1"]), out


@pytest.mark.parametrize(
    ("bad", "cause"), SUBMIT_REFUSED, ids=[repr(b)[:20] for b, _ in SUBMIT_REFUSED]
)
def test_submit_refuses_a_hostile_id_before_reading_any_image(
    tmp_path, monkeypatch, capsys, bad, cause
):
    rc, out = _submit(tmp_path, monkeypatch, rows_for(["11", bad]))
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    shown = repr(bad) if len(bad) <= 60 else f"{bad[:60]!r}... ({len(bad)} characters)"
    # "test.csv: <cause>: row 12 (id=<the id, escaped>, lead='I', ...), ... and 2 more"
    head, _, rows = err.partition(": row 12 (")
    assert head.startswith("ecgprep submit: error: test.csv: ") and cause in head, err
    assert rows.startswith(f"id={shown}, lead='I', ") and "row 11 " not in err, err
    assert not out.exists()


def test_submit_refuses_an_absurd_number_of_rows_before_any_work(tmp_path, monkeypatch, capsys):
    rows = rows_for(["11", "12"])
    rows[20] = ("12", rows[20][1], 500.0, 10**9)  # was "Unable to allocate 7.45 GiB"
    rc, out = _submit(tmp_path, monkeypatch, rows)
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith(
        "ecgprep submit: error: test.csv: number_of_rows more than 600 s of signal at the "
        "row's fs (> 600 * fs): row 20 (id='12', lead='V3', "
    ), err
    assert "1000000000" in err
    assert not out.exists()
