"""The run store: one SQLite file (standard :mod:`sqlite3`, WAL mode) with a table of runs
and a table of per-iteration histories.

Each finished run is written in its own transaction together with its history, so an
interrupted suite loses nothing that finished; ``run_key`` is unique, so a resumed suite
can neither lose nor duplicate a run.  The schema version lives in ``PRAGMA user_version``;
a database written by a newer cutslack is refused with a clear message before anything
is written, and so is a damaged one (``PRAGMA quick_check`` when the store is opened).

Several processes may run suites into one store at once: a process *claims* the runs it is
about to do (:meth:`Store.claim`, one ``BEGIN IMMEDIATE`` transaction over the ``claims``
table, owner ``host:pid`` and time), so each run is done once.  Storing a run drops its
claim; a claim whose owner process is gone (same host, pid not alive) or that is older than
:data:`CLAIM_LEASE_S` (another host) is taken over.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import time
from pathlib import Path

from cutslack.errors import CutslackError

__all__ = ["Store", "StoreError", "SCHEMA_VERSION", "RUN_COLUMNS", "CLAIM_LEASE_S", "claim_owner"]

SCHEMA_VERSION = 1

#: seconds after which a claim by a process on another host (whose liveness cannot be checked) lapses
CLAIM_LEASE_S = 6 * 3600.0

_DAMAGED = "move it aside (or delete it) and run again, or give a new --db"

#: column name -> SQL type of the ``runs`` table (besides ``id``)
RUN_COLUMNS = {
    "run_key": "TEXT NOT NULL UNIQUE",
    "suite": "TEXT NOT NULL",
    "instance_id": "TEXT NOT NULL",
    "instance_hash": "TEXT",
    "family": "TEXT",
    "size": "INTEGER",
    "size_json": "TEXT",
    "source": "TEXT",
    "sense": "TEXT",
    "solver": "TEXT NOT NULL",
    "method": "TEXT NOT NULL",
    "options": "TEXT",
    "seed": "INTEGER",
    "time_limit": "REAL",
    "status": "TEXT NOT NULL",
    "objective": "REAL",
    "feasible": "INTEGER",
    "bound": "REAL",
    "gap": "REAL",
    "known_optimum": "REAL",
    "known_proven": "INTEGER",
    "n_vars": "INTEGER",
    "n_qubits": "INTEGER",
    "nit": "INTEGER",
    "solver_time": "REAL",
    "wall_time": "REAL",
    "message": "TEXT",
    "cutslack_version": "TEXT",
    "versions": "TEXT",
    "host": "TEXT",
    "timestamp": "TEXT",
}

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(f"{k} {v}" for k, v in RUN_COLUMNS.items())}
);
CREATE INDEX IF NOT EXISTS runs_suite ON runs (suite);
CREATE TABLE IF NOT EXISTS claims (
    run_key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    claimed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    iteration INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, iteration)
);
"""


class StoreError(CutslackError, ValueError):
    """The database cannot be used (newer schema, not a cutslack store, unreadable)."""


def claim_owner() -> str:
    """Return this process's claim owner, ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_is_live(owner: str, claimed_at: float, now: float) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return now - claimed_at < CLAIM_LEASE_S
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True  # it exists under another user, or the owner is not ours to judge
    return True


def _clean(value):
    """Return a value SQLite stores: NaN/inf floats become NULL."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class Store:
    """A cutslack run store in one SQLite file.

    >>> import tempfile, os
    >>> with Store(os.path.join(tempfile.mkdtemp(), "runs.db")) as store:
    ...     store.count()
    0
    """

    def __init__(self, path, *, readonly: bool = False):
        self.path = Path(path)
        if readonly and not self.path.exists():
            raise StoreError(f"{self.path}: no such database")
        try:
            self.conn = sqlite3.connect(str(self.path), timeout=30.0)
            self.conn.row_factory = sqlite3.Row
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            problems = [r[0] for r in self.conn.execute("PRAGMA quick_check(5)")]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a readable SQLite database ({exc}); {_DAMAGED}") from None
        if problems != ["ok"]:
            self.conn.close()
            raise StoreError(f"{self.path}: the store is damaged (SQLite quick_check: {'; '.join(problems)[:300]}); "
                             f"{_DAMAGED}")
        if version > SCHEMA_VERSION:
            self.conn.close()
            raise StoreError(f"{self.path}: database schema version {version} is newer than this cutslack's "
                             f"({SCHEMA_VERSION}); upgrade cutslack or use another --db")
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and tables - {"runs", "history", "claims", "sqlite_sequence"}:
            self.conn.close()
            raise StoreError(f"{self.path}: an SQLite database that is not a cutslack run store")
        if not readonly:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            with self.conn:
                self.conn.executescript(_SCHEMA)
                self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.conn.close()

    def done_keys(self, suite: str | None = None) -> set[str]:
        """Return the run keys already stored (of one suite, or all)."""
        if suite is None:
            rows = self.conn.execute("SELECT run_key FROM runs")
        else:
            rows = self.conn.execute("SELECT run_key FROM runs WHERE suite = ?", (suite,))
        return {r[0] for r in rows}

    def write_run(self, record: dict, history: list | None = None) -> int:
        """Store one run and its history in one transaction (replacing a run of the same key); return its id."""
        cols = [c for c in RUN_COLUMNS if c in record]
        values = [_clean(record[c]) for c in cols]
        try:
            return self._write_run(record, cols, values, history)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            raise StoreError(f"{self.path}: cannot store run {record['run_key']} ({exc}); {_DAMAGED}") from None

    def _write_run(self, record: dict, cols: list, values: list, history) -> int:
        with self.conn:
            self.conn.execute("DELETE FROM claims WHERE run_key = ?", (record["run_key"],))
            self.conn.execute("DELETE FROM history WHERE run_id IN (SELECT id FROM runs WHERE run_key = ?)",
                              (record["run_key"],))
            self.conn.execute("DELETE FROM runs WHERE run_key = ?", (record["run_key"],))
            cur = self.conn.execute(f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                    values)
            run_id = cur.lastrowid
            if history:
                self.conn.executemany("INSERT INTO history (run_id, iteration, data) VALUES (?, ?, ?)",
                                      [(run_id, i, json.dumps(h)) for i, h in enumerate(history)])
        return run_id

    def claim(self, keys, *, rerun: bool = False) -> tuple[list[str], dict[str, str]]:
        """Claim the runs of ``keys`` for this process; return ``(claimed, held)``.

        One ``BEGIN IMMEDIATE`` transaction: a key is claimed when it is not stored yet (or
        ``rerun``) and nobody else holds a live claim on it; ``held`` maps each key left to
        another live process to its owner.  Stored keys are in neither.
        """
        owner, now = claim_owner(), time.time()
        keys = list(dict.fromkeys(keys))
        claimed, held = [], {}
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            done = set() if rerun else {r[0] for r in self.conn.execute("SELECT run_key FROM runs")}
            current = {r[0]: (r[1], r[2]) for r in self.conn.execute("SELECT run_key, owner, claimed_at FROM claims")}
            for key in keys:
                if key in done:
                    continue
                if key in current and current[key][0] != owner and _claim_is_live(*current[key], now):
                    held[key] = current[key][0]
                    continue
                claimed.append(key)
            self.conn.executemany("INSERT OR REPLACE INTO claims (run_key, owner, claimed_at) VALUES (?, ?, ?)",
                                  [(key, owner, now) for key in claimed])
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return claimed, held

    def release(self, keys=None) -> None:
        """Drop this process's claims (on ``keys``, or all of them): runs it will not do after all."""
        owner = claim_owner()
        with self.conn:
            if keys is None:
                self.conn.execute("DELETE FROM claims WHERE owner = ?", (owner,))
            else:
                self.conn.executemany("DELETE FROM claims WHERE run_key = ? AND owner = ?",
                                      [(key, owner) for key in keys])

    def runs(self, suite: str | None = None, *, where: str = "", params=()) -> list[dict]:
        """Return the stored runs as dicts (of one suite, or all), in insertion order."""
        sql, args = "SELECT * FROM runs", list(params)
        clauses = []
        if suite is not None:
            clauses.append("suite = ?")
            args.insert(0, suite)
        if where:
            clauses.append(f"({where})")
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def _history_rows(self, run_id: int) -> list[dict]:
        rows = self.conn.execute("SELECT data FROM history WHERE run_id = ? ORDER BY iteration", (run_id,))
        return [json.loads(r[0]) for r in rows]

    def history(self, run_id: int) -> list[dict]:
        """Return the per-iteration records of one run (without the incumbent and info events)."""
        return [h for h in self._history_rows(run_id) if "event" not in h]

    def incumbents(self, run_id: int) -> list[tuple[float, float]] | None:
        """Return ``[(elapsed s, best feasible objective), ...]`` each time the run's incumbent improved.

        None for a run stored without this record (written by an older cutslack, or one that
        crashed), so a report can fall back to the run's end and say so.
        """
        rows = self._history_rows(run_id)
        if not any(h.get("event") == "info" for h in rows):
            return None
        return [(h["elapsed"], h["objective"]) for h in rows if h.get("event") == "incumbent"]

    def run_info(self, run_id: int) -> dict:
        """Return the scalar ``Result.info`` entries stored with a run ({} when none were)."""
        for h in self._history_rows(run_id):
            if h.get("event") == "info":
                return {k: v for k, v in h.items() if k != "event"}
        return {}

    def all_events(self, suite: str | None = None) -> dict[int, dict]:
        """Return ``{run_id: {"incumbents": [...] or None, "info": {...}}}`` in one query (for reports)."""
        sql = "SELECT h.run_id, h.data FROM history h"
        args = ()
        if suite is not None:
            sql += " JOIN runs r ON r.id = h.run_id WHERE r.suite = ?"
            args = (suite,)
        out: dict[int, dict] = {}
        for run_id, data in self.conn.execute(sql + " ORDER BY h.run_id, h.iteration", args):
            if '"event"' not in data:
                continue
            h = json.loads(data)
            entry = out.setdefault(run_id, {"incumbents": [], "info": None})
            if h.get("event") == "incumbent":
                entry["incumbents"].append((h["elapsed"], h["objective"]))
            elif h.get("event") == "info":
                entry["info"] = {k: v for k, v in h.items() if k != "event"}
        for entry in out.values():
            if entry["info"] is None:
                entry["incumbents"], entry["info"] = None, {}
        return out

    def suites(self) -> list[str]:
        """Return the names of the suites in the store."""
        return [r[0] for r in self.conn.execute("SELECT DISTINCT suite FROM runs ORDER BY suite")]

    def count(self, suite: str | None = None) -> int:
        """Return the number of stored runs (of one suite, or all)."""
        if suite is None:
            return self.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM runs WHERE suite = ?", (suite,)).fetchone()[0]
