"""One benchmark run, executed wherever the executor puts it: solve, time, turn the Result
into a flat record for the store.  A solver that raises is recorded as ERROR with its
message; nothing a solver does ends the worker."""

from __future__ import annotations

import datetime
import functools
import json
import math
import platform
import socket
import sys
import time
from importlib import metadata

import numpy as np

from cutslack.result import Status

__all__ = ["execute_run", "failed_record", "versions", "jsonable"]

_VERSIONED = ("numpy", "scipy", "numba", "highspy", "pyomo", "networkx", "qiskit", "qiskit-aer", "torch", "cupy",
              "dimod", "dwave-samplers")


@functools.cache
def versions() -> tuple[str, str, str]:
    """Return (cutslack version, JSON of the versions of the installed dependencies, host name)."""
    import cutslack

    found = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return cutslack.__version__, json.dumps(found, sort_keys=True), socket.gethostname()


def jsonable(value, *, max_len: int = 10_000):
    """Return ``value`` with NumPy arrays and scalars turned into lists and numbers (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v, max_len=max_len) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, max_len=max_len) for v in value[:max_len]]
    if isinstance(value, np.ndarray):
        return jsonable(value.reshape(-1)[:max_len].tolist() if value.size > max_len else value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Status):
        return value.value
    return repr(value)


def _base_record(task) -> dict:
    problem = task.instance.problem
    known = getattr(problem, "known_optimum", None)
    version, deps, host = versions()
    size = problem.size
    return {
        "run_key": task.key, "suite": task.suite, "instance_id": task.instance.instance_id,
        "instance_hash": task.instance.instance_hash, "family": task.instance.family,
        "size": int(size.get("n", 0)), "size_json": json.dumps(jsonable(size)), "source": task.instance.source,
        "sense": getattr(problem, "sense", "min"), "solver": task.solver.label, "method": task.solver.method,
        "options": task.solver.options_json(), "seed": task.seed, "time_limit": task.time_limit,
        "known_optimum": None if known is None else float(known.value),
        "known_proven": None if known is None else int(bool(known.proven)),
        "cutslack_version": version, "versions": deps, "host": host,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def failed_record(task, status: Status, message: str, wall_time: float) -> dict:
    """Return the record of a run that produced no Result (crashed, killed after its hard timeout)."""
    rec = _base_record(task)
    rec.update(status=status.value, feasible=0, message=message, wall_time=wall_time, solver_time=wall_time)
    return rec


def execute_run(task) -> tuple[dict, list]:
    """Run one task; return (record for the store, history records).

    The record's ``wall_time`` is the time around ``cutslack.solve`` as seen here and
    ``solver_time`` the Result's own ``wall_time``.
    """
    import cutslack

    start = time.perf_counter()
    try:
        result = cutslack.solve(task.instance.problem, method=task.solver.method, rng=task.seed,
                                time_limit=task.time_limit, **task.solver.options)
    except Exception as exc:  # noqa: BLE001 - any solver failure is recorded, the suite goes on
        wall = time.perf_counter() - start
        return failed_record(task, Status.ERROR, f"{type(exc).__name__}: {exc}"[:2000], wall), []
    wall = time.perf_counter() - start
    rec = _base_record(task)
    rec.update(status=result.status.value, objective=result.objective, feasible=int(bool(result.feasible)),
               bound=result.bound, gap=result.gap, n_vars=result.n_vars, n_qubits=result.n_qubits, nit=result.nit,
               solver_time=float(result.wall_time), wall_time=wall,
               message=str(result.info.get("message", "")) or None)
    history = [jsonable(h) if isinstance(h, dict) else {"value": jsonable(h)} for h in result.history]
    history += result_events(result)
    return rec, history


def result_events(result) -> list[dict]:
    """Return the extra history rows of a run: each incumbent improvement and the result's scalar info.

    ``{"event": "incumbent", "elapsed": s, "objective": v}`` per improvement of the best
    feasible objective (time to target), then one ``{"event": "info", ...}`` with the
    ``info`` entries that are numbers, strings or booleans (``subproblem``,
    ``raw_feasible_fraction``, ``best_raw_objective``...).
    """
    events = [{"event": "incumbent", "elapsed": float(t), "objective": float(v)}
              for t, v in result.info.get("incumbents", [])]
    scalars = {k: v for k, v in result.info.items()
               if isinstance(v, (bool, int, float, str)) and k != "event" and not (isinstance(v, str) and len(v) > 500)}
    events.append({"event": "info", **jsonable(scalars)})
    return events


def worker_init(imports=()) -> None:
    """Prepare a worker process: ignore Ctrl-C (the parent stops cleanly), load solvers and extra modules."""
    import signal

    from cutslack.api import available_methods
    from cutslack.bench.suite import import_extra_modules

    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    available_methods()
    import_extra_modules(imports)
    versions()
    sys.stdout.flush()
