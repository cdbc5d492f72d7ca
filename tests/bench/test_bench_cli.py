"""``python -m cutslack.bench``: exit codes, JSON output, reports, compare, and a suite
killed with SIGKILL (or stopped with Ctrl-C) that a rerun completes with no run lost or
duplicated."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cutslack.bench.cli import EXIT_BAD_INPUT, EXIT_FAILED_RUNS, EXIT_INTERRUPTED, EXIT_OK, main

REPO = Path(__file__).resolve().parents[2]

SLOW = """
[suite]
name = "slow"
seeds = [0, 1, 2, 3]
time_limit = 5.0
imports = ["{crashy}"]

[[instances]]
generator = "random_knapsack"
params = {{ n = [6, 8, 10] }}
seeds = [0, 1]

[[solvers]]
label = "greedy"
method = "test-slow"
options = {{ delay = 0.15 }}
"""


def test_run_json_and_failed_runs_exit_code(small_store, capsys):
    db, _ = small_store
    code = main(["run", str(db.parent / "small.toml"), "--db", str(db), "--json", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and out["skipped"] == 20 and out["complete"]
    code = main(["run", str(db.parent / "small.toml"), "--db", str(db), "--json", "--quiet", "--rerun",
                 "--seeds", "0"])
    out = json.loads(capsys.readouterr().out)
    assert code == EXIT_FAILED_RUNS and out["errors"] == 1 and out["stored"] == 10


@pytest.mark.parametrize("argv, message", [
    (["run", "no-such-suite"], "no shipped suite named"),
    (["run", "quick", "--workers", "0"], "--workers must be at least 1"),
    (["report", "--db", "absent.db", "--out", "x"], "no such database"),
    (["compare", "a", "b", "--db", "absent.db"], "no such database"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unknown_method_is_reported_before_any_run(write_suite, tmp_path, capsys):
    path = write_suite(SLOW.replace('"test-slow"', '"test-slo"'))
    assert main(["run", str(path), "--db", str(tmp_path / "x.db")]) == EXIT_BAD_INPUT
    assert "solvers[0].method: unknown method 'test-slo'" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_report_compare_and_list(small_store, tmp_path, capsys):
    db, _ = small_store
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "rep"), "--json"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert Path(out["report"]).read_text().startswith("# Benchmark report: small")
    assert main(["compare", "dp", "greedy", "--db", str(db), "--json"]) == EXIT_OK
    cmp = json.loads(capsys.readouterr().out)
    assert cmp["pairs"] == 8 and cmp["losses"] == 0 and cmp["wins"] + cmp["ties"] == 8
    assert main(["compare", "dp", "nobody", "--db", str(db)]) == EXIT_BAD_INPUT
    assert "no runs of solver 'nobody'" in capsys.readouterr().err
    assert main(["list", "--json"]) == EXIT_OK
    assert "slackfree" in json.loads(capsys.readouterr().out)
    assert main(["list", "--db", str(db), "--json"]) == EXIT_OK
    assert {r["solver"] for r in json.loads(capsys.readouterr().out)} == {"dp", "greedy", "test-crash"}


def _start(args, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "cutslack.bench", "run", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _wait_for_runs(db: Path, proc, at_least: int, timeout: float = 60.0) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if (n := _stored(db)) >= at_least:
            return n
        time.sleep(0.05)
    pytest.fail(f"only {_stored(db)} runs stored; stderr: {proc.stderr.read() if proc.poll() is not None else ''}")


def test_sigkill_mid_suite_then_rerun_loses_and_duplicates_nothing(write_suite, tmp_path):
    suite, db = write_suite(SLOW), tmp_path / "k.db"
    proc = _start([str(suite), "--db", str(db), "--workers", "2"], tmp_path)
    _wait_for_runs(db, proc, 6)
    proc.kill()
    proc.wait(10)
    before = _stored(db)
    assert 6 <= before < 24
    proc = _start([str(suite), "--db", str(db), "--json", "--quiet"], tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_OK, err
    summary = json.loads(out)
    assert summary["skipped"] == before and summary["stored"] == 24 - before
    with sqlite3.connect(db) as conn:
        keys = [r[0] for r in conn.execute("SELECT run_key FROM runs")]
    assert len(keys) == len(set(keys)) == 24


def test_ctrl_c_stops_after_runs_in_flight_and_says_how_to_resume(write_suite, tmp_path):
    suite, db = write_suite(SLOW), tmp_path / "c.db"
    proc = _start([str(suite), "--db", str(db), "--workers", "2"], tmp_path)
    _wait_for_runs(db, proc, 2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "run the same command again to resume" in err
    assert 2 <= _stored(db) < 24
