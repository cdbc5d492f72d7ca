"""Limits of the run store with real SQLite files and real processes: a damaged store is refused
before anything is written, two ``bench run`` processes on one store do each run once between
them, repeated seeds are run once, and a closed stdout ends ``bench`` quietly."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cutslack.bench.cli import main as bench_main
from cutslack.bench.store import Store, StoreError, claim_owner
from cutslack.reliability import run_concurrently

REPO = Path(__file__).resolve().parents[2]

SUITE = """
[suite]
name = "shared"
seeds = [0, 1, 2, 3]
time_limit = 5.0
imports = ["{crashy}"]

[[instances]]
generator = "random_knapsack"
params = {{ n = [6, 8, 10, 12] }}
seeds = [0]

[[solvers]]
label = "greedy"
method = "test-slow"
options = {{ delay = 0.1 }}
"""
GRID = 16  # 4 instances x 1 solver x 4 seeds


def _env():
    return dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")


def _record(key: str) -> dict:
    return {"run_key": key, "suite": "s", "instance_id": "i", "solver": "greedy", "method": "greedy",
            "status": "feasible", "objective": 1.0, "message": "x" * 2000}


def _damaged_store(path: Path) -> None:
    with Store(path) as store:
        for k in range(60):
            store.write_run(_record(f"run-{k}"), [{"iteration": 0, "best": 1.0}])
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so the damage hits real pages
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    data[3 * page:5 * page] = bytes((7 * i + 13) % 251 for i in range(2 * page))
    path.write_bytes(bytes(data))


def test_a_damaged_store_is_refused_before_writing(tmp_path):
    db = tmp_path / "damaged.db"
    _damaged_store(db)
    before = db.read_bytes()
    with pytest.raises(StoreError, match="damaged|not a readable") as info:
        Store(db)
    assert "move it aside" in str(info.value)
    assert db.read_bytes() == before


def test_bench_run_on_a_damaged_store_exits_2_with_what_to_do(tmp_path, write_suite, capsys):
    db = tmp_path / "damaged.db"
    _damaged_store(db)
    code = bench_main(["run", str(write_suite(SUITE)), "--db", str(db), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "move it aside" in err and "stored" not in err


def test_claims_skip_live_owners_and_take_over_dead_ones(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead_pid = int(finished.stdout)
    host = claim_owner().rpartition(":")[0]
    with Store(tmp_path / "c.db") as store:
        store.write_run(_record("stored"))
        with store.conn:
            store.conn.execute("INSERT INTO claims VALUES (?, ?, ?)", ("live", f"{host}:{os.getppid()}", 0.0))
            store.conn.execute("INSERT INTO claims VALUES (?, ?, ?)", ("dead", f"{host}:{dead_pid}", 0.0))
        claimed, held = store.claim(["stored", "live", "dead", "new", "new"])
        assert claimed == ["dead", "new"]
        assert held == {"live": f"{host}:{os.getppid()}"}
        store.write_run(_record("new"))
        store.release()
        owners = dict(store.conn.execute("SELECT run_key, owner FROM claims").fetchall())
    assert owners == {"live": f"{host}:{os.getppid()}"}


def test_two_processes_on_one_store_do_each_run_once(tmp_path, write_suite):
    db = tmp_path / "shared.db"
    with Store(db):
        pass  # create it first, so both processes open an existing store
    report = run_concurrently(write_suite(SUITE), db, processes=2, env=_env(), cwd=str(REPO))
    assert report.exit_codes == [0, 0]
    assert report.expected_runs == GRID
    assert sum(report.stored_by_process) == report.stored_runs == report.distinct_keys == GRID
    assert report.integrity == "ok" and report.ok
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0


def test_repeated_seeds_are_run_once(tmp_path, write_suite, capsys):
    db = tmp_path / "seeds.db"
    code = bench_main(["run", str(write_suite(SUITE)), "--db", str(db), "--seeds", "0", "0", "--json",
                       "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0
    summary = json.loads(captured.out)
    assert "repeated seeds collapsed" in captured.err
    with Store(db, readonly=True) as store:
        assert summary["stored"] == store.count() == 4


def test_a_closed_stdout_ends_bench_quietly(tmp_path, write_suite):
    suite = write_suite(SUITE)
    proc = subprocess.Popen([sys.executable, "-m", "cutslack", "bench", "run", str(suite), "--db",
                             str(tmp_path / "pipe.db"), "--dry-run", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(), cwd=str(REPO))
    proc.stdout.close()  # the reader is gone before anything is written: every write meets EPIPE
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 141
    assert err == ""
