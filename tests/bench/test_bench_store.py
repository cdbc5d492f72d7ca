"""The SQLite store: one transaction per run, unique run keys, schema versions."""

from __future__ import annotations

import sqlite3

import pytest

from cutslack.bench.store import SCHEMA_VERSION, Store, StoreError


def _record(key: str, objective: float) -> dict:
    return {"run_key": key, "suite": "s", "instance_id": "i", "solver": "dp", "method": "dp", "status": "optimal",
            "objective": objective, "feasible": 1, "gap": float("nan")}


def test_write_replace_and_history(tmp_path):
    with Store(tmp_path / "r.db") as store:
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        run_id = store.write_run(_record("k1", 1.0), [{"dual": 1.5}, {"dual": 2.0}])
        assert store.history(run_id) == [{"dual": 1.5}, {"dual": 2.0}]
        store.write_run(_record("k1", 2.0), [])
        store.write_run(_record("k2", 3.0))
        runs = store.runs("s")
        assert [r["objective"] for r in runs] == [2.0, 3.0]
        assert runs[0]["gap"] is None
        assert store.done_keys("s") == {"k1", "k2"} and store.done_keys("other") == set()
        assert store.conn.execute("SELECT COUNT(*) FROM history").fetchone()[0] == 0


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this cutslack"):
        Store(path)


def test_foreign_database_and_missing_file_are_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="not a cutslack run store"):
        Store(path)
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a readable SQLite"):
        Store(tmp_path / "junk.db")
    with pytest.raises(StoreError, match="no such database"):
        Store(tmp_path / "absent.db", readonly=True)
