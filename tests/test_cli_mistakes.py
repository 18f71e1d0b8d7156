"""Caller mistakes on the command line: one line on stderr, exit 2, before any work;
outputs never half-written, hijacked or written by two runs at once (issue 12)."""

import contextlib
import os
import shutil

import pandas as pd
import pytest

from ecgprep import batch
from ecgprep.cli import main


@pytest.fixture
def data(synth_dataset, tmp_path):
    """A private copy of the two-image set (tests here write beside it)."""
    d = tmp_path / "data"
    shutil.copytree(synth_dataset, d)
    return d


@pytest.fixture
def no_batch(monkeypatch):
    """Fails the test if the batch is started: refusals come before any work."""

    def refuse(*args, **kwargs):
        raise AssertionError("the batch ran before the mistake was reported")

    monkeypatch.setattr(batch, "process_batch_for_submission", refuse)


def _submit(data, *extra, out=None):
    return [
        "submit",
        str(data / "images"),
        "--test-csv",
        str(data / "test.csv"),
        "--out",
        str(out if out is not None else data / "out" / "submission.csv"),
        "--quiet",
        *extra,
    ]


def _one_line_exit_2(rc, capsys, *words):
    cap = capsys.readouterr()
    err = cap.err.strip()
    assert rc == 2, cap
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    return err


def test_jobs_0_is_refused(data, no_batch, capsys):
    rc = main(_submit(data, "--jobs", "0", out=data / "sub.csv"))
    _one_line_exit_2(rc, capsys, "--jobs", "got 0")
    assert not (data / "sub.csv").exists()


def test_out_in_a_missing_folder_is_refused_before_any_work(data, no_batch, capsys):
    rc = main(_submit(data, out=data / "missing" / "sub.csv"))
    _one_line_exit_2(rc, capsys, "--out", "does not exist")


def test_out_that_is_a_folder_is_refused(data, no_batch, capsys):
    rc = main(_submit(data, out=data))
    _one_line_exit_2(rc, capsys, "--out", "folder")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_out_in_a_read_only_folder_is_refused(data, no_batch, capsys):
    ro = data / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        rc = main(_submit(data, out=ro / "sub.csv"))
    finally:
        ro.chmod(0o755)
    _one_line_exit_2(rc, capsys, "--out", "not writable")


def test_out_equal_to_test_csv_is_refused(data, no_batch, capsys):
    before = (data / "test.csv").read_bytes()
    rc = main(_submit(data, out=data / "test.csv"))
    _one_line_exit_2(rc, capsys, "--out", "--test-csv", "overwrite")
    # and by another spelling of the same path
    rc = main(_submit(data, out=data / "images" / ".." / "test.csv"))
    _one_line_exit_2(rc, capsys, "overwrite")
    assert (data / "test.csv").read_bytes() == before


def test_summary_equal_to_out_is_refused(data, no_batch, capsys):
    out = data / "sub.csv"
    rc = main(_submit(data, "--summary", str(out), out=out))
    _one_line_exit_2(rc, capsys, "--summary", "--out")
    assert not out.exists()


def test_summary_in_a_missing_folder_is_refused(data, no_batch, capsys):
    rc = main(_submit(data, "--summary", str(data / "nope" / "s.csv"), out=data / "sub.csv"))
    _one_line_exit_2(rc, capsys, "--summary", "does not exist")


def test_no_image_for_any_id_is_refused_unless_allowed(data, monkeypatch, capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    args = _submit(data, "--jobs", "1", out=data / "sub.csv")
    args[1] = str(empty)
    with monkeypatch.context() as m:
        m.setattr(batch, "process_batch_for_submission", lambda *a, **k: 1 / 0)
        rc = main(args)
    _one_line_exit_2(rc, capsys, str(empty), "--allow-missing")
    assert not (data / "sub.csv").exists()
    rc = main([*args, "--allow-missing"])
    assert rc == 0, capsys.readouterr()
    sub = pd.read_csv(data / "sub.csv")
    assert len(sub) > 0 and (sub["value"] == 0).all()


def test_missing_images_folder_is_refused(data, no_batch, capsys, tmp_path):
    args = _submit(data, out=data / "sub.csv")
    args[1] = str(tmp_path / "nowhere")
    _one_line_exit_2(main(args), capsys, "IMAGES_DIR", "not a folder")


@pytest.mark.parametrize("command", ["submit", "demo", "eval", "inspect"])
@pytest.mark.parametrize(
    "pair, word",
    [("totally_bogus=1", "totally_bogus"), ("layout=9x9", "layout"), ("gain", "NAME=VALUE")],
)
def test_bad_option_is_refused_on_every_command(
    data, no_batch, monkeypatch, command, pair, word, capsys
):
    import ecgprep.demo
    import ecgprep.pipeline

    def refuse(*args, **kwargs):
        raise AssertionError("the command ran before the mistake was reported")

    monkeypatch.setattr(ecgprep.demo, "run_demo", refuse)
    monkeypatch.setattr(ecgprep.pipeline, "process_image_for_submission", refuse)

    args = {
        "submit": _submit(data, out=data / "sub.csv"),
        "demo": ["demo", "--out", str(data / "demo"), "--n", "1", "--quiet"],
        "eval": ["eval", str(data), "--quiet"],
        "inspect": ["inspect", str(next((data / "images").iterdir()))],
    }[command]
    rc = main([*args, "--option", pair])
    _one_line_exit_2(rc, capsys, word)
    assert not (data / "demo").exists()


@pytest.mark.parametrize(
    "pair, options",
    [("gain=5", {"gain": 5}), ("layout=12x1", {"layout": "12x1"})],  # issue 12: was ignored
    ids=["gain=5", "layout=12x1"],
)
def test_demo_passes_its_options_on(monkeypatch, tmp_path, pair, options):
    import ecgprep.demo

    seen = {}
    monkeypatch.setattr(ecgprep.demo, "run_demo", lambda **kw: seen.update(kw) or 0)
    assert main(["demo", "--out", str(tmp_path / "d"), "--quiet", "--option", pair]) == 0
    assert seen["options"] == options


def test_parquet_out_without_an_engine_is_refused_before_any_work(
    data, no_batch, monkeypatch, capsys
):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    engines = ("pyarrow", "fastparquet")
    monkeypatch.setattr(  # as on a machine with neither installed
        importlib.util,
        "find_spec",
        lambda name, *a, **k: None if name in engines else real_find_spec(name, *a, **k),
    )
    out = data / "sub.parquet"
    rc = main(_submit(data, out=out))
    _one_line_exit_2(rc, capsys, f"--out {out} is a .parquet file", "pyarrow or fastparquet")
    assert not out.exists()


def test_second_submit_on_one_out_fails_at_once(data, no_batch, capsys):
    fcntl = pytest.importorskip("fcntl")
    out = data / "sub.csv"
    lock = data / ".sub.csv.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run holds it
        rc = main(_submit(data, out=out))
    finally:
        os.close(fd)
    _one_line_exit_2(rc, capsys, "another ecgprep submit is writing", str(out))
    assert not out.exists()


@pytest.mark.skipif(os.name != "posix", reason="symlinks need privileges on Windows")
def test_submit_never_follows_a_link_planted_at_the_old_temp_name(data, capsys):
    precious = data / "precious.txt"
    precious.write_text("precious")
    out = data / "sub.csv"
    (data / "sub.csv.tmp").symlink_to(precious)
    rc = main(_submit(data, "--jobs", "1", "--summary", str(data / "summ.csv"), out=out))
    assert rc == 0, capsys.readouterr()
    assert precious.read_text() == "precious"
    assert not out.is_symlink() and out.read_text().startswith("id,value\n")
    assert not [p for p in os.listdir(data) if p.endswith(".tmp") and p != "sub.csv.tmp"]


def test_a_full_disk_while_writing_is_one_line_and_keeps_the_previous_file(
    data, monkeypatch, capsys
):
    import ecgprep.submission

    out = data / "sub.csv"
    out.write_text("previous")
    monkeypatch.setattr(batch, "process_batch_for_submission", lambda *a, **k: batch.BatchResults())

    def full_disk(df, path, **kw):
        def boom(tmp):
            raise OSError(28, "No space left on device")

        from ecgprep._atomic import write_atomic

        write_atomic(path, boom)

    monkeypatch.setattr(ecgprep.submission, "write_submission", full_disk)
    rc = main(_submit(data, out=out))
    _one_line_exit_2(rc, capsys, "No space left")
    assert out.read_text() == "previous"
    assert not [p for p in os.listdir(data) if p.endswith(".tmp")]


# -- score ---------------------------------------------------------------------


def _write(df, path):
    df.to_csv(path, index=False)
    return str(path)


def test_score_swapped_arguments_are_refused(data, capsys):
    sol = pd.read_csv(data / "solution.csv", dtype={"id": str})
    first = sol["id"].str.split("_").str[0].iloc[0]
    partial = sol[sol["id"].str.startswith(first + "_")]  # a submission of one record
    sub = _write(partial, data / "partial.csv")
    # the right order: a partial submission is refused by the metric, one line
    rc = main(["score", str(data / "solution.csv"), sub])
    _one_line_exit_2(rc, capsys, "lacks")
    # swapped: the "solution" is a strict part of the "submission"
    rc = main(["score", sub, str(data / "solution.csv")])
    _one_line_exit_2(rc, capsys, "swapped")


def test_score_swapped_full_submission_is_refused_by_test_csv(data, capsys):
    sol = pd.read_csv(data / "solution.csv", dtype={"id": str})
    first = sol["id"].str.split("_").str[0].iloc[0]
    partial = _write(sol[sol["id"].str.startswith(first + "_")], data / "partial.csv")
    rc = main(["score", partial, str(data / "solution.csv"), "--test-csv", str(data / "test.csv")])
    _one_line_exit_2(rc, capsys, "--test-csv", "swapped")


def test_score_test_csv_disagreeing_with_solution_is_refused(data, capsys):
    test = pd.read_csv(data / "test.csv", dtype={"id": str})
    test["number_of_rows"] = test["number_of_rows"] + 1
    other = _write(test, data / "other_test.csv")
    sol = str(data / "solution.csv")
    rc = main(["score", sol, sol, "--test-csv", other])
    _one_line_exit_2(rc, capsys, "--test-csv", "lacks")


def test_score_right_way_round_still_scores(data, capsys):
    sol = str(data / "solution.csv")
    assert main(["score", sol, sol, "--test-csv", str(data / "test.csv")]) == 0
    assert "score:" in capsys.readouterr().out


def test_score_swapped_with_a_fallback_record_is_refused(data, capsys):
    sol = pd.read_csv(data / "solution.csv", dtype={"id": str})
    first = sol["id"].str.split("_").str[0].iloc[0]
    sub = sol.assign(value=sol["value"].where(~sol["id"].str.startswith(first + "_"), 0.0))
    sub_path = _write(sub, data / "sub.csv")
    rc = main(["score", sub_path, str(data / "solution.csv")])
    _one_line_exit_2(rc, capsys, "only zeros", first, "swapped")
    assert main(["score", str(data / "solution.csv"), sub_path]) == 0  # the right way round


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="SIGTERM and loky's posix workers")
def test_sigterm_during_submit_leaves_no_worker_and_no_partial_output(data, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    # Forty images (twenty copies of each): the batch runs for seconds after its
    # workers appear, so the signal comes mid-batch (with eight, an idle machine
    # could finish the batch between the workers showing and the signal).
    test = pd.read_csv(data / "test.csv", dtype={"id": str})
    rows = []
    for k in range(20):
        for image_id in test["id"].unique():
            src = next((data / "images").glob(f"{image_id}.*"))
            shutil.copy(src, data / "images" / f"{image_id}{k}{src.suffix}")
        rows.append(test.assign(id=test["id"] + str(k)))
    pd.concat(rows).to_csv(data / "test.csv", index=False)
    out = tmp_path / "sub.csv"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    cmd = [sys.executable, "-m", "ecgprep", *_submit(data, "--jobs", "2", out=out)]
    with open(tmp_path / "stderr.txt", "w") as err:  # not a pipe: orphans would hold it open
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    me = psutil.Process(proc.pid)
    seen = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                seen = me.children(recursive=True)
                workers = [p for p in seen if "loky" in " ".join(p.cmdline())]
            except psutil.Error:
                workers = []
            if len(workers) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the batch ended before the signal could be sent"
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        _, alive = psutil.wait_procs(seen, timeout=15)
        assert not alive, f"left running: {alive}"
    finally:
        for p in seen:  # only the processes this test started
            with contextlib.suppress(psutil.Error):
                p.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 128 + signal.SIGTERM
    assert "SIGTERM" in (tmp_path / "stderr.txt").read_text()
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM sent to this process")
def test_sigterm_whose_interrupt_is_lost_still_writes_nothing(data, monkeypatch, capsys):
    """The handler's KeyboardInterrupt can be caught on its way (a parallel backend
    that reports a dead worker instead, a finaliser): the batch then ends as if
    nothing came. submit must still leave no output and exit 143."""
    import signal

    real = batch.process_batch_for_submission
    lost = []

    def swallowing(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100):  # the handler runs at the next bytecode check, in here
                pass
        except KeyboardInterrupt as exc:
            lost.append(exc)  # what a backend that retries its workers does with it
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "process_batch_for_submission", swallowing)
    out = data / "sub.csv"
    rc = main(_submit(data, "--jobs", "1", out=out))
    assert len(lost) == 1, "the interrupt was not lost: this test tests nothing"
    assert rc == 128 + signal.SIGTERM
    assert "SIGTERM" in capsys.readouterr().err
    assert not out.exists()
    # The next run in this process is not taken for a terminated one.
    monkeypatch.setattr(batch, "process_batch_for_submission", real)
    assert main(_submit(data, "--jobs", "1", out=out)) == 0
    assert out.exists()
