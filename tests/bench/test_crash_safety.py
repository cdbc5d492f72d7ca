"""Crash safety of the run store: a suite SIGKILLed again and again at random moments, then
resumed, ends with every run stored exactly once and an intact database; and every SQL
statement of the bench package takes its values as parameters."""

from __future__ import annotations

import ast
import os
import sqlite3
from pathlib import Path

import pytest

from cutslack.reliability import kill_and_resume

REPO = Path(__file__).resolve().parents[2]

SUITE = """
[suite]
name = "killme"
seeds = {seeds}
time_limit = 5.0
imports = ["{crashy}"]

[[instances]]
generator = "random_knapsack"
params = {{ n = [6, 8, 10, 12] }}
seeds = [0, 1]

[[solvers]]
label = "greedy"
method = "test-slow"
options = {{ delay = 0.05 }}
"""


def _env():
    return dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")


def _suite(write_suite, seeds: int):
    return write_suite(SUITE.replace("{seeds}", str(list(range(seeds)))))


def test_three_sigkills_then_resume_lose_and_duplicate_nothing(write_suite, tmp_path):
    report = kill_and_resume(_suite(write_suite, 10), tmp_path / "k.db", kills=3, seed=1, max_wait=0.3, env=_env(),
                             cwd=tmp_path)
    assert report.expected_runs == 80 and report.kills == 3
    assert report.ok, report
    assert 0 < report.stored_after_each_kill[0] and report.stored_after_each_kill[-1] < 80  # kills landed mid-suite
    assert report.stored_after_each_kill == sorted(report.stored_after_each_kill)  # nothing stored was lost


@pytest.mark.slow
def test_twenty_sigkills_then_resume_lose_and_duplicate_nothing(write_suite, tmp_path):
    report = kill_and_resume(_suite(write_suite, 30), tmp_path / "k.db", kills=20, seed=20, max_wait=0.3,
                             env=_env(), cwd=tmp_path)
    assert report.kills == 20 and report.ok, report
    assert report.stored_after_each_kill == sorted(report.stored_after_each_kill)
    assert report.stored_after_each_kill[-1] < report.expected_runs  # the kills did land mid-suite


def test_a_run_is_stored_with_its_history_or_not_at_all(tmp_path):
    from cutslack.bench.store import Store

    with Store(tmp_path / "s.db") as store:
        with pytest.raises(TypeError):
            # an unstorable history value aborts the transaction: neither the run nor its history lands
            store.write_run({"run_key": "k", "suite": "s", "instance_id": "i", "solver": "a", "method": "m",
                             "status": "feasible"}, history=[{"ok": 1}, object()])
        assert store.count() == 0
        assert store.conn.execute("SELECT COUNT(*) FROM history").fetchone()[0] == 0


#: names an SQL string may be built from: the store's own column lists and placeholder counts,
#: and ``sql``/``where`` -- SQL text the program writes (``Store.runs(where=...)``), never a value
_SQL_BUILDING_NAMES = {"cols", "RUN_COLUMNS", "SCHEMA_VERSION", "_SCHEMA", "len", "c", "k", "v", "sql", "where"}


def _sql_strings_built_from_values(path: Path) -> list[str]:
    """Return ``file:line`` of each execute() whose SQL is built (f-string, ``+``, ``%``, ``.format``)
    from anything but the names above: such a statement could splice a value into SQL."""
    tree = ast.parse(path.read_text())
    suspicious = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("execute", "executemany",
                                                                                 "executescript") and node.args):
            continue
        sql = node.args[0]
        if isinstance(sql, ast.Constant) or (isinstance(sql, ast.Name) and sql.id in _SQL_BUILDING_NAMES):
            continue
        if isinstance(sql, ast.Call) and getattr(sql.func, "attr", "") == "format":
            suspicious.append(f"{path.name}:{node.lineno}")
            continue
        if isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Mod):
            suspicious.append(f"{path.name}:{node.lineno}")
            continue
        names = {n.id for n in ast.walk(sql) if isinstance(n, ast.Name)}
        if not names <= _SQL_BUILDING_NAMES:
            suspicious.append(f"{path.name}:{node.lineno}: built from {sorted(names - _SQL_BUILDING_NAMES)}")
    return suspicious


def test_sql_is_parameterised_throughout():
    files = sorted((REPO / "cutslack").rglob("*.py"))
    assert not [hit for f in files for hit in _sql_strings_built_from_values(f)]
