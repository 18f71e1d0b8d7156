"""The benchmark script ``benchmarks/desk_photos.py``: its pages and a tiny run.

The script lives beside the package, not in the wheel; it is imported here from
its file.
"""

import pytest


@pytest.fixture(scope="module")
def desk(load_benchmark):
    return load_benchmark("desk_photos")


def test_the_pages_are_drawn_from_the_seed_within_their_ranges(desk):
    a, b = desk.cases(6, 7), desk.cases(6, 7)
    assert a == b and a != desk.cases(6, 8)
    for c in a:
        assert c["dpi"] in (100.0, 150.0, 200.0)
        assert -3.0 <= c["tilt_deg"] <= 3.0 and 0.0 <= c["perspective"] <= 0.01
        assert 0.4 <= c["margin"] <= 0.9


def test_the_script_runs_and_reports(desk, capsys):
    assert desk.main(["--n", "1", "--seed", "3", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "of 1 read" in out and "inside their gridded part" in out
    assert "under 5 dB and unflagged" in out
