"""The benchmark script ``benchmarks/quarter_turns.py``: a tiny run.

The script lives beside the package, not in the wheel; it is imported here from
its file.
"""


def test_a_run_reads_each_turn_and_counts_the_pages_put_upright(load_benchmark, capsys):
    bench = load_benchmark("quarter_turns")
    args = ["--layouts", "6x2", "--gains", "20", "--n", "1", "--seed", "2", "--jobs", "1"]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "rot90" in out and "rot-90" in out and "upright" in out
    # tall QRS complexes: the ink alone leaves this page as it lies, the law turns it
    assert "turned pages put upright: 2 of 2 (2 by Einthoven's law)" in out
    assert "turned readings over 3 dB under upright and unflagged: 0" in out
