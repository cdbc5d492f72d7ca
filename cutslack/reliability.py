"""Reliability checks shared by the test suite and ``docs/reliability.md``.

* :data:`TIME_LIMIT_CASES` -- for every registered method, an instance it cannot finish
  within a short time limit; :func:`measure_time_limit` runs one and reports the overshoot.
  A method registered without an entry fails :func:`time_limit_case` loudly, naming this
  table (add an entry when you register a method).
* :func:`kill_and_resume` -- SIGKILL a running ``cutslack bench run`` at random moments,
  resume it each time, and check the store holds every run exactly once.

``python -m cutslack.reliability`` runs them all (and the slow fuzzing profile of
:mod:`cutslack.fuzzing`) and rewrites ``docs/reliability.md``; see :func:`main`.
"""

from __future__ import annotations

import time
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["TimeLimitCase", "TIME_LIMIT_CASES", "time_limit_case", "small_like", "dense_qubo", "measure_time_limit", "allowed_overshoot",
           "TimeLimitMeasurement", "kill_and_resume", "KillReport", "main"]


def allowed_overshoot(time_limit: float) -> float:
    """Return the seconds a run may exceed ``time_limit``: max(10 %, 1 s)."""
    return max(0.1 * time_limit, 1.0)


class TimeLimitCase(NamedTuple):
    """An instance a method cannot finish within the time limit, with the options to use.

    ``may_finish``: a one-pass construction (nearest neighbour, greedy) has no partial
    answer to return, so it may instead finish inside the limit -- it must still return in
    time, and say FEASIBLE/OPTIMAL only when it did finish.
    """

    factory: Callable[[], object]
    options: dict = {}
    note: str = ""
    may_finish: bool = False


# ----------------------------------------------------------------- instance factories (per type)

def dense_qubo(n: int, seed: int = 0):
    """Return a QUBO with ``n`` variables and dense normal couplings."""
    from cutslack.binary import QUBO

    rng = np.random.default_rng(seed)
    return QUBO(np.triu(rng.normal(size=(n, n))))


def large_mdkp(n: int = 400, m: int = 30):
    from cutslack.problems import random_mdkp

    return random_mdkp(n, m, rng=0)


def large_dp_knapsack(n: int = 4000, capacity: int = 90_000):
    """A one-constraint knapsack whose DP table (n x capacity) takes seconds to fill."""
    from cutslack.problems import Knapsack

    rng = np.random.default_rng(0)
    weights = rng.integers(1, 100, size=n).astype(float)
    return Knapsack(weights + rng.integers(0, 20, size=n), weights[None, :], np.array([float(capacity)]),
                    name="dp-large")


def large_tsp(n: int = 20_000):
    from cutslack.problems import random_tsp

    return random_tsp(n, rng=0)


def large_qap(n: int = 150):
    from cutslack.problems import random_qap

    return random_qap(n, rng=0)


def large_mis(n: int = 20_000, radius: float = 0.012):
    """A unit-disk MIS (built with a KD-tree, so large n stays quick to generate)."""
    from cutslack.problems import random_unit_disk_mis

    return random_unit_disk_mis(n, radius, rng=0)


def small_like(problem):
    """Return a small instance of the same type as ``problem`` (to compile a method's kernels)."""
    from cutslack.binary import QUBO
    from cutslack.problems import (Knapsack, MaximumIndependentSet, QuadraticAssignment, TravelingSalesman,
                                   random_knapsack, random_mdkp, random_mis, random_qap, random_tsp)

    if isinstance(problem, QUBO):
        return dense_qubo(6, seed=1)
    if isinstance(problem, Knapsack):
        return random_knapsack(12, rng=1) if problem.m == 1 else random_mdkp(12, 2, rng=1)
    if isinstance(problem, TravelingSalesman):
        return random_tsp(12, rng=1)
    if isinstance(problem, QuadraticAssignment):
        return random_qap(6, rng=1)
    if isinstance(problem, MaximumIndependentSet):
        return random_mis(14, 0.3, rng=1)
    raise TypeError(f"no small instance of type {type(problem).__name__}: extend small_like")


_QUANTUM = "QUBO n=16, 10^6 optimiser iterations"
_ITERATIONS = {"maxiter": 10**6}

#: method -> an instance that method cannot finish in a second or two.  Every registered
#: method needs an entry: add yours when you register a method (reuse a factory above, or add
#: one for your type, and extend :func:`small_like`).
TIME_LIMIT_CASES: dict[str, TimeLimitCase] = {
    "milp": TimeLimitCase(large_mdkp, note="MDKP n=400 m=30 (HiGHS cannot close the gap)"),
    "dp": TimeLimitCase(large_dp_knapsack, note="knapsack n=4000, capacity 90000 (DP table 3.6e8)"),
    "mdkp-greedy": TimeLimitCase(lambda: large_mdkp(5_000, 20), note="MDKP n=5000 m=20 (LP pseudo-utilities)",
                                 may_finish=True),
    "mdkp-tabu": TimeLimitCase(large_mdkp, note="MDKP n=400 m=30"),
    "heuristic": TimeLimitCase(large_qap, note="QAP n=150 (robust tabu)"),
    "tsp-nn": TimeLimitCase(lambda: large_tsp(200_000), note="TSP n=200000", may_finish=True),
    "tsp-greedy": TimeLimitCase(lambda: large_tsp(200_000), note="TSP n=200000", may_finish=True),
    "tsp-sfc": TimeLimitCase(lambda: large_tsp(200_000), note="TSP n=200000", may_finish=True),
    "tsp-2opt": TimeLimitCase(lambda: large_tsp(200_000), note="TSP n=200000"),
    "tsp-oropt": TimeLimitCase(lambda: large_tsp(200_000), note="TSP n=200000"),
    "tsp-ils": TimeLimitCase(large_tsp, note="TSP n=20000"),
    "qap-tabu": TimeLimitCase(large_qap, note="QAP n=150"),
    "qap-anneal": TimeLimitCase(large_qap, note="QAP n=150"),
    "mis-greedy": TimeLimitCase(lambda: large_mis(200_000, 0.003), note="unit-disk MIS n=200000",
                                may_finish=True),
    "mis-ils": TimeLimitCase(large_mis, note="unit-disk MIS n=20000"),
    "anneal": TimeLimitCase(lambda: dense_qubo(1000), {"num_sweeps": 10**6}, note="dense QUBO n=1000, 1e6 sweeps"),
    "tempering": TimeLimitCase(lambda: dense_qubo(1000), {"num_sweeps": 10**6}, note="dense QUBO n=1000, 1e6 sweeps"),
    "tabu": TimeLimitCase(lambda: dense_qubo(1000), {"num_iterations": 10**8}, note="dense QUBO n=1000"),
    "exhaustive": TimeLimitCase(lambda: dense_qubo(30), note="QUBO n=30 (2^30 states)"),
    "lagrangian": TimeLimitCase(lambda: large_mdkp(300, 10), {"maxiter": 10**6, "patience": 10**6},
                                note="MDKP n=300 m=10, annealed subproblems"),
    "penalty": TimeLimitCase(lambda: large_mdkp(300, 10), {"rounds": 10**6}, note="MDKP n=300 m=10, slack bits"),
    "unbalanced": TimeLimitCase(lambda: large_mdkp(300, 10), {"rounds": 10**6}, note="MDKP n=300 m=10"),
    "qaoa": TimeLimitCase(lambda: dense_qubo(16), _ITERATIONS, note=_QUANTUM),
    "ma-qaoa": TimeLimitCase(lambda: dense_qubo(16), _ITERATIONS, note=_QUANTUM),
    "ws-qaoa": TimeLimitCase(lambda: dense_qubo(16), _ITERATIONS, note=_QUANTUM),
    "vqe": TimeLimitCase(lambda: dense_qubo(16), _ITERATIONS, note=_QUANTUM),
    "cvar-vqe": TimeLimitCase(lambda: dense_qubo(16), _ITERATIONS, note=_QUANTUM),
    "pce": TimeLimitCase(lambda: dense_qubo(400), _ITERATIONS, note="QUBO n=400 compressed into qubits"),
    "qrao": TimeLimitCase(lambda: dense_qubo(40), _ITERATIONS, note="QUBO n=40"),
    "shrink": TimeLimitCase(lambda: dense_qubo(60), note="QUBO n=60 shrunk to a qubit budget"),
}


def time_limit_case(method: str) -> TimeLimitCase:
    """Return the :class:`TimeLimitCase` of ``method``; fail loudly when it has none."""
    case = TIME_LIMIT_CASES.get(method.lower())
    if case is None:
        raise KeyError(f"method {method!r} has no entry in cutslack.reliability.TIME_LIMIT_CASES: add an instance "
                       f"it cannot finish within a second (and the options to use), so its time limit is tested")
    return case


class TimeLimitMeasurement(NamedTuple):
    """One timed run: the limit, the wall time seen by the caller and the result."""

    method: str
    time_limit: float
    wall: float
    result: object

    @property
    def overshoot(self) -> float:
        return self.wall - self.time_limit

    @property
    def within(self) -> bool:
        return self.wall <= self.time_limit + allowed_overshoot(self.time_limit)

    @property
    def honest_status(self) -> bool:
        """TIME_LIMIT, or (for a construction allowed to finish) a finished status reached inside the limit."""
        from cutslack.result import Status

        status = self.result.status
        if status is Status.TIME_LIMIT:
            return self.result.x is not None
        return time_limit_case(self.method).may_finish and status in (Status.FEASIBLE, Status.OPTIMAL) \
            and self.result.wall_time <= self.time_limit + allowed_overshoot(self.time_limit)


def measure_time_limit(method: str, time_limit: float = 1.0, *, seed: int = 0, warm: bool = True
                       ) -> TimeLimitMeasurement:
    """Build the method's case (outside the clock), solve it with ``time_limit`` and time the call.

    ``warm`` first solves a small instance of the same type, so Numba kernels are compiled
    (or loaded from their cache) as they are after the first use; the cold first call is
    measured separately (``warm=False`` in a fresh process).
    """
    import cutslack

    case = time_limit_case(method)
    problem = case.factory()
    if warm:
        cutslack.solve(small_like(problem), method=method, rng=seed, time_limit=30.0)
    start = time.perf_counter()
    result = cutslack.solve(problem, method=method, rng=seed, time_limit=time_limit, **case.options)
    wall = time.perf_counter() - start
    return TimeLimitMeasurement(method, time_limit, wall, result)


# ----------------------------------------------------------------- crash safety


class KillReport(NamedTuple):
    """What :func:`kill_and_resume` saw."""

    kills: int
    expected_runs: int
    stored_runs: int
    distinct_keys: int
    integrity: str
    stored_after_each_kill: list

    @property
    def ok(self) -> bool:
        return (self.stored_runs == self.distinct_keys == self.expected_runs) and self.integrity == "ok"


def kill_and_resume(suite_file, db, *, kills: int = 20, seed: int = 0, workers: int = 2,
                    max_wait: float = 4.0, env: dict | None = None, cwd=None) -> KillReport:
    """SIGKILL ``cutslack bench run SUITE --db DB`` ``kills`` times at random moments, resuming
    each time, then run it to the end; return the counts and ``PRAGMA integrity_check``.

    Each round starts the suite (it resumes from the store), waits a random time up to
    ``max_wait`` seconds (after the process has started working) and sends SIGKILL.
    """
    import os
    import sqlite3
    import subprocess
    import sys

    from cutslack.bench.suite import load_suite

    rng = np.random.default_rng(seed)
    expected = len(load_suite(suite_file).tasks())
    command = [sys.executable, "-m", "cutslack", "bench", "run", str(suite_file), "--db", str(db), "--quiet",
               "--workers", str(workers)]
    env = dict(os.environ if env is None else env)
    counts = []

    def stored() -> int:
        if not os.path.exists(db):
            return 0
        with sqlite3.connect(db, timeout=30) as conn:
            try:
                return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
            except sqlite3.OperationalError:
                return 0

    for _ in range(kills):
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(float(rng.uniform(0.05, max_wait)))
        proc.kill()  # SIGKILL: no handler runs, no clean-up
        proc.wait(30)
        counts.append(stored())
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"the final resume failed (exit {proc.returncode}): {proc.stderr.strip()}")
    with sqlite3.connect(db, timeout=30) as conn:
        total = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        distinct = conn.execute("SELECT COUNT(DISTINCT run_key) FROM runs").fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return KillReport(kills, expected, total, distinct, integrity, counts)


def main(argv=None) -> int:  # pragma: no cover - exercised by the report command itself
    from cutslack.reliability_report import main as report_main

    return report_main(argv)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


