"""Reliability checks shared by the test suite and ``docs/reliability.md``.

* :data:`TIME_LIMIT_CASES` -- for every registered method, an instance it cannot finish
  within a short time limit; :func:`measure_time_limit` runs one and reports the overshoot.
  A method registered without an entry fails :func:`time_limit_case` loudly, naming this
  table (add an entry when you register a method).
* :func:`kill_and_resume` -- SIGKILL a running ``cutslack bench run`` at random moments,
  resume it each time, and check the store holds every run exactly once;
  :func:`run_concurrently` -- several ``bench run`` processes on one store at once.
* :data:`DEGENERATE_CASES` -- zero-size and degenerate instances with their optima;
  :func:`degenerate_outcome` says whether a method solves one, refuses it cleanly, or fails.
* :data:`HUGE_GENERATOR_CALLS` -- a generator call per family far over any memory limit;
  :func:`memory_guard_outcomes` checks each is refused before allocating.

``python -m cutslack.reliability`` runs them all (and the slow fuzzing profile of
:mod:`cutslack.fuzzing`) and rewrites ``docs/reliability.md``; see :func:`main`.
"""

from __future__ import annotations

import time
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["TimeLimitCase", "TIME_LIMIT_CASES", "time_limit_case", "small_like", "dense_qubo", "measure_time_limit",
           "allowed_overshoot", "TimeLimitMeasurement", "kill_and_resume", "KillReport", "LargeCase", "LARGE_CASES",
           "first_call", "DEGENERATE_CASES", "degenerate_outcome", "ConcurrencyReport", "run_concurrently",
           "HUGE_GENERATOR_CALLS", "memory_guard_outcomes", "main"]


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
    warm_options: dict = {}   # options the small warm-up call needs (e.g. a black box's budget)


# ----------------------------------------------------------------- instance factories (per type)

def dense_qubo(n: int, seed: int = 0):
    """Return a QUBO with ``n`` variables and dense normal couplings."""
    from cutslack.binary import QUBO

    rng = np.random.default_rng(seed)
    return QUBO(np.triu(rng.normal(size=(n, n))))


def ring_qubo(n: int, seed: int = 0):
    """Return a QUBO whose couplings form a ring (a sparse graph QRAO packs three variables per qubit)."""
    from cutslack.binary import QUBO

    rng = np.random.default_rng(seed)
    Q = np.diag(rng.normal(size=n))
    for i in range(n):
        a, b = sorted((i, (i + 1) % n))
        Q[a, b] += rng.normal()
    return QUBO(Q)


def large_mdkp(n: int = 400, m: int = 30):
    from cutslack.problems import random_mdkp

    return random_mdkp(n, m, rng=0)


def large_dp_knapsack(n: int = 4000, capacity: int = 99_000):
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
        return random_qap(12, rng=1)  # above the exact-enumeration size, so the tabu kernels compile
    if isinstance(problem, MaximumIndependentSet):
        return random_mis(14, 0.3, rng=1)
    from cutslack.problems.generalized_assignment import GeneralizedAssignment, random_gap
    from cutslack.problems.pde import EllipticControl
    from cutslack.problems.robust import TwoStageRobustKnapsack
    from cutslack.problems.set_cover import SetCover, random_set_cover

    if isinstance(problem, GeneralizedAssignment):
        return random_gap(3, 12, rng=1)
    if isinstance(problem, SetCover):
        return random_set_cover(20, 60, 0.1, rng=1)
    if isinstance(problem, TwoStageRobustKnapsack):
        return large_robust_knapsack(10)
    if isinstance(problem, EllipticControl):
        return large_control(8, problem.nonlinearity)
    raise TypeError(f"no small instance of type {type(problem).__name__}: extend small_like")


def large_gap(m: int = 20, n: int = 400):
    """A Chu & Beasley type-D generalized assignment (costs inversely correlated with weights)."""
    from cutslack.problems.generalized_assignment import random_gap

    return random_gap(m, n, kind="d", rng=3)


def large_set_cover(m: int = 1000, n: int = 10_000, density: float = 0.02):
    """A Beasley-style set cover (OR-Library scpnre size)."""
    from cutslack.problems.set_cover import random_set_cover

    return random_set_cover(m, n, density, rng=3)


def large_robust_knapsack(n: int = 80):
    """A two-stage robust knapsack from the published grid (CCG needs many scenarios)."""
    from cutslack.problems.robust import random_robust_knapsack

    return random_robust_knapsack(n, correlation="WC", rng=3)


def large_control(N: int = 256, nonlinearity: str = "semilinear"):
    """An elliptic control problem on an N x N grid."""
    from cutslack.problems.pde import random_elliptic_control

    return random_elliptic_control(N, nonlinearity=nonlinearity, rng=3)


_QUANTUM = "QUBO n=16, 10^6 optimiser iterations"
_ITERATIONS = {"maxiter": 10**6}
_DEEP = {"maxiter": 10**6, "p": 6}

#: method -> an instance that method cannot finish in a second or two.  Every registered
#: method needs an entry: add yours when you register a method (reuse a factory above, or add
#: one for your type, and extend :func:`small_like`).
TIME_LIMIT_CASES: dict[str, TimeLimitCase] = {
    "milp": TimeLimitCase(large_mdkp, note="MDKP n=400 m=30 (HiGHS cannot close the gap)"),
    "dp": TimeLimitCase(large_dp_knapsack, may_finish=True,
                       note="knapsack n=4000, capacity 99000 (DP table 4.0e8, the largest its guard takes; "
                            "about 2 s on an idle machine)"),
    "mdkp-greedy": TimeLimitCase(lambda: large_mdkp(5_000, 20), note="MDKP n=5000 m=20 (LP pseudo-utilities)",
                                 may_finish=True),
    "mdkp-tabu": TimeLimitCase(large_mdkp, note="MDKP n=400 m=30"),
    "heuristic": TimeLimitCase(large_qap, note="QAP n=150 (robust tabu)"),
    # constructions and local searches stop on their own (a tour, a local optimum); at n = 200000 they
    # meet the limit through chunked constructions (LARGE_CASES, docs/reliability.md)
    "tsp-nn": TimeLimitCase(large_tsp, note="TSP n=20000 (construction)", may_finish=True),
    "tsp-greedy": TimeLimitCase(large_tsp, note="TSP n=20000 (construction)", may_finish=True),
    "tsp-sfc": TimeLimitCase(large_tsp, note="TSP n=20000 (construction)", may_finish=True),
    "tsp-2opt": TimeLimitCase(large_tsp, note="TSP n=20000 (local search to a local optimum)", may_finish=True),
    "tsp-oropt": TimeLimitCase(large_tsp, note="TSP n=20000 (local search to a local optimum)", may_finish=True),
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
    "penalty": TimeLimitCase(lambda: large_mdkp(300, 10), {"rounds": 10**6, "max_no_improve": None},
                             note="MDKP n=300 m=10, slack bits, no stagnation stop"),
    "unbalanced": TimeLimitCase(lambda: large_mdkp(300, 10), {"rounds": 10**6, "max_no_improve": None},
                                note="MDKP n=300 m=10, no stagnation stop"),
    "qaoa": TimeLimitCase(lambda: dense_qubo(16), _DEEP, note=_QUANTUM + ", p = 6"),
    "ma-qaoa": TimeLimitCase(lambda: dense_qubo(16), _DEEP, note=_QUANTUM + ", p = 6"),
    "ws-qaoa": TimeLimitCase(lambda: dense_qubo(16), _DEEP, note=_QUANTUM + ", p = 6"),
    "vqe": TimeLimitCase(lambda: dense_qubo(16), _ITERATIONS, note=_QUANTUM),
    "cvar-vqe": TimeLimitCase(lambda: dense_qubo(16), _ITERATIONS, note=_QUANTUM),
    "pce": TimeLimitCase(lambda: dense_qubo(400), _ITERATIONS, note="QUBO n=400 compressed into qubits"),
    "qrao": TimeLimitCase(lambda: ring_qubo(48), _ITERATIONS, note="ring QUBO n=48 (3 variables per qubit)"),
    "lagrangian-heuristic": TimeLimitCase(lambda: large_mdkp(300, 10), {"maxiter": 10**6, "patience": 10**6},
                                          note="MDKP n=300 m=10, closed-form subproblems"),
    "ccg": TimeLimitCase(large_robust_knapsack, note="two-stage robust knapsack n=80 (WC)"),
    "branch_and_price": TimeLimitCase(large_robust_knapsack, note="two-stage robust knapsack n=80 (WC)"),
    "neur2ro": TimeLimitCase(large_robust_knapsack, note="two-stage robust knapsack n=80 (WC)"),
    "newton-kkt": TimeLimitCase(lambda: large_control(200), note="semilinear control, 200x200 grid (one sparse "
                                "factorisation is not interruptible: on 400x400 a single one outlasts a 2 s limit)"),
    "reduced-lbfgs": TimeLimitCase(lambda: large_control(200), note="semilinear control, 200x200 grid"),
    "pde-cvxpy": TimeLimitCase(lambda: large_control(48, "linear"), note="linear control, 48x48 grid (conic solver)",
                               may_finish=True),
    "adasketch": TimeLimitCase(lambda: large_control(48), note="semilinear control, 48x48 grid (sketched Newton)"),
    "fmqa": TimeLimitCase(lambda: large_mdkp(200, 5), {"budget": 10**6}, warm_options={"budget": 20},
                          note="black-box MDKP n=200, budget 1e6"),
    "bocs": TimeLimitCase(lambda: large_mdkp(60, 5), {"budget": 10**6}, warm_options={"budget": 20},
                          note="black-box MDKP n=60 (1830 quadratic features), budget 1e6"),
    "random-search": TimeLimitCase(lambda: large_mdkp(200, 5), {"budget": 10**9}, warm_options={"budget": 20},
                                   note="black-box MDKP n=200, budget 1e9"),
    "blackbox-anneal": TimeLimitCase(lambda: large_mdkp(200, 5), {"budget": 10**9}, warm_options={"budget": 20},
                                     note="black-box MDKP n=200, budget 1e9"),
    "gap-greedy": TimeLimitCase(lambda: large_gap(20, 400), note="GAP type D, 20 agents x 400 jobs (regret greedy)",
                                may_finish=True),
    "gap-ils": TimeLimitCase(lambda: large_gap(20, 400), note="GAP type D, 20 agents x 400 jobs"),
    "scp-greedy": TimeLimitCase(large_set_cover, note="set cover 1000 x 10000, density 2 % (greedy)",
                                may_finish=True),
    "scp-ils": TimeLimitCase(large_set_cover, note="set cover 1000 x 10000, density 2 %"),
    "shrink": TimeLimitCase(lambda: dense_qubo(150), {"correlations": "samples"},
                            note="QUBO n=150 shrunk to 12 qubits, sampled correlations"),
}


class LargeCase(NamedTuple):
    """A huge instance for one method: construction, post-processing and single sweeps at scale."""

    method: str
    factory: Callable[[], object]
    time_limit: float
    options: dict = {}
    note: str = ""


def _regular_mis(n: int):
    from cutslack.problems import random_regular_mis

    return random_regular_mis(n, 3, rng=0)


#: the time limit at scale: the one-pass TSP constructions at n = 200000 (chunked, with a
#: space-filling-curve completion at the deadline), the Lagrangian loop's repair and scoring
#: on a 100k-vertex MIS, and one annealing sweep batch over 1,000 reads of a dense n = 3000
#: QUBO (a sweep is indivisible: the sampler checks the clock between sweeps)
LARGE_CASES: list[LargeCase] = [
    *(LargeCase(m, lambda: large_tsp(200_000), 2.0, note="TSP n=200000")
      for m in ("tsp-sfc", "tsp-nn", "tsp-greedy", "tsp-2opt", "tsp-oropt", "tsp-ils")),
    LargeCase("anneal", lambda: dense_qubo(3000), 2.0, {"num_reads": 1000},
              note="dense QUBO n=3000, 1000 reads"),
    LargeCase("lagrangian", lambda: _regular_mis(100_000), 120.0, note="3-regular MIS n=100000 (sampled by anneal)"),
]


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
    from cutslack.api import check_call, warm_up_method

    case = time_limit_case(method)
    problem = case.factory()
    if warm:
        spec = check_call(problem, method, case.options, time_limit)
        if spec.warmup is not None:   # its own hook (a heuristic given 30 s would search for 30 s)
            warm_up_method(spec, problem)
        else:
            cutslack.solve(small_like(problem), method=method, rng=seed, time_limit=30.0, **case.warm_options)
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

    Each round starts the suite (it resumes from the store), waits until it has stored a new
    run (so the kill lands mid-suite, not during start-up), then a further random time up to
    ``max_wait`` seconds, and sends SIGKILL.  A round whose process ends by itself (the suite
    is complete) ends the kills early; ``kills`` in the report counts those delivered.
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

    delivered = 0
    for _ in range(kills):
        before = stored()
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        give_up = time.monotonic() + 300
        while proc.poll() is None and stored() <= before and time.monotonic() < give_up:
            time.sleep(0.02)
        time.sleep(float(rng.uniform(0.0, max_wait)))
        if proc.poll() is not None:  # the suite finished before this kill
            counts.append(stored())
            break
        proc.kill()  # SIGKILL: no handler runs, no clean-up
        proc.wait(30)
        delivered += 1
        counts.append(stored())
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"the final resume failed (exit {proc.returncode}): {proc.stderr.strip()}")
    with sqlite3.connect(db, timeout=30) as conn:
        total = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        distinct = conn.execute("SELECT COUNT(DISTINCT run_key) FROM runs").fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return KillReport(delivered, expected, total, distinct, integrity, counts)


class ConcurrencyReport(NamedTuple):
    """What :func:`run_concurrently` saw: the grid size, the runs each process says it stored,
    the rows in the store, their distinct keys, exit codes and ``PRAGMA integrity_check``."""

    expected_runs: int
    stored_by_process: list
    stored_runs: int
    distinct_keys: int
    exit_codes: list
    integrity: str

    @property
    def ok(self) -> bool:
        return (sum(self.stored_by_process) == self.stored_runs == self.distinct_keys == self.expected_runs
                and self.integrity == "ok" and set(self.exit_codes) <= {0})


def run_concurrently(suite_file, db, *, processes: int = 2, env: dict | None = None, cwd=None) -> ConcurrencyReport:
    """Start ``processes`` ``cutslack bench run SUITE --db DB --json`` at once on one store, wait for
    all, and return what each says it stored and what the store holds."""
    import json
    import os
    import sqlite3
    import subprocess
    import sys

    from cutslack.bench.suite import load_suite

    expected = len({t.key for t in load_suite(suite_file).tasks()})
    command = [sys.executable, "-m", "cutslack", "bench", "run", str(suite_file), "--db", str(db), "--quiet",
               "--json", "--workers", "1"]
    env = dict(os.environ if env is None else env)
    procs = [subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    outputs = [p.communicate(timeout=900) for p in procs]
    stored = [json.loads(out)["stored"] if p.returncode == 0 else -1 for p, (out, _) in zip(procs, outputs)]
    with sqlite3.connect(db, timeout=30) as conn:
        total = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        distinct = conn.execute("SELECT COUNT(DISTINCT run_key) FROM runs").fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return ConcurrencyReport(expected, stored, total, distinct, [p.returncode for p in procs], integrity)


# ----------------------------------------------------------------- degenerate instances and memory guards

def _robust_zero_capacity():
    from cutslack.problems.robust import TwoStageRobustKnapsack

    return TwoStageRobustKnapsack(profits=[50.0, 30.0], degradations=[20.0, 10.0], repair_weights=[3.0, 2.0],
                                  weights=[5.0, 4.0], outsourcing_costs=[60.0, 40.0], capacity=0.0, budget=0.0)


def _degenerate_cases() -> dict:
    import networkx as nx

    from cutslack.binary import QUBO, BinaryProgram
    from cutslack.problems import (GeneralizedAssignment, Knapsack, MaximumIndependentSet, QuadraticAssignment,
                                   SetCover, TravelingSalesman)
    from cutslack.problems.pde import elliptic_control_fd

    line = [[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [2.0, 3.0, 0.0]]
    # name -> (factory, optimum worked out by hand)
    return {
        "knapsack-no-items": (lambda: Knapsack(np.zeros(0), np.zeros((1, 0)), [5.0]), 0.0),
        "knapsack-no-rows": (lambda: Knapsack([3.0, 4.0], np.zeros((0, 2)), np.zeros(0)), 7.0),
        "knapsack-zero-weights": (lambda: Knapsack([3.0, 4.0, 1.0], np.zeros((2, 3)), [1.0, 0.0]), 8.0),
        "knapsack-zero-profits": (lambda: Knapsack([0.0, 0.0, 0.0], [[1.0, 2.0, 3.0]], [4.0]), 0.0),
        "mis-no-nodes": (lambda: MaximumIndependentSet(nx.empty_graph(0)), 0.0),
        "mis-zero-weights": (lambda: MaximumIndependentSet(nx.path_graph(3), weights=[0.0, 0.0, 0.0]), 0.0),
        "tsp-n0": (lambda: TravelingSalesman(np.zeros((0, 0))), 0.0),
        "tsp-n1": (lambda: TravelingSalesman([[0.0]]), 0.0),
        "tsp-n2": (lambda: TravelingSalesman([[0.0, 2.0], [2.0, 0.0]]), 4.0),
        "qap-n0": (lambda: QuadraticAssignment(np.zeros((0, 0)), np.zeros((0, 0))), 0.0),
        "qap-zero-flow": (lambda: QuadraticAssignment(np.zeros((3, 3)), line), 0.0),
        "qubo-n0": (lambda: QUBO(np.zeros((0, 0))), 0.0),
        "qubo-all-zero": (lambda: QUBO(np.zeros((4, 4))), 0.0),
        # nothing weighs anything and nothing fits more: each job to its best agent, 3 + 5
        "gap-zero-weights": (lambda: GeneralizedAssignment([[3.0, 1.0], [2.0, 5.0]], np.zeros((2, 2)), [0.0, 0.0]),
                             8.0),
        "setcover-zero-costs": (lambda: SetCover([0.0, 0.0], [[1, 1]]), 0.0),
        "setcover-one-column-covers-all": (lambda: SetCover([3.0, 1.0, 2.0], [[1, 1, 0], [0, 1, 1]]), 1.0),
        "binary-no-constraints": (lambda: BinaryProgram(c=[1.0, -2.0, 3.0], sense="max"), 4.0),
        "binary-n0": (lambda: BinaryProgram(c=np.zeros(0)), 0.0),
        "robust-zero-capacity": (_robust_zero_capacity, 0.0),  # nothing fits: the empty plan earns 0
        "pde-zero-target": (lambda: elliptic_control_fd(3, target=0.0), 0.0),  # y = u = 0 at zero cost
    }


#: zero-size and degenerate instances: name -> (factory, optimum); every method must solve each
#: one it accepts to that optimum or refuse it with a CutslackError saying why
DEGENERATE_CASES = _degenerate_cases()


def degenerate_outcome(method: str, name: str, *, time_limit: float = 20.0) -> tuple[str, str]:
    """Return ``(outcome, detail)`` of ``method`` on the degenerate instance ``name``.

    ``outcome`` is ``"solved"`` (feasible, at the optimum), ``"refused"`` (a CutslackError with a
    reason), ``"wrong"`` (an answer off the optimum or infeasible) or ``"error"`` (any other
    exception: an internal failure).
    """
    import inspect

    import cutslack
    from cutslack.api import SOLVERS
    from cutslack.binary import QUBO
    from cutslack.errors import CutslackError

    factory, optimum = DEGENERATE_CASES[name]
    problem = factory()
    budget = inspect.signature(SOLVERS[method].function).parameters.get("budget")
    options = {"budget": 20} if budget is not None and budget.default is None else {}  # black boxes need one
    try:
        result = cutslack.solve(problem, method=method, rng=0, time_limit=time_limit, **options)
    except CutslackError as exc:
        return ("refused", str(exc)) if len(str(exc)) > 20 else ("error", f"a refusal without a reason: {exc!r}")
    except Exception as exc:  # noqa: BLE001 -- what the check is for
        return "error", f"{type(exc).__name__}: {exc}"
    if isinstance(problem, QUBO):
        x = result.samples.best if result.samples is not None and problem.n else result.x
        value, feasible = float(problem.energy(np.asarray(x))), True
    else:
        value, feasible = result.objective, result.feasible
    if feasible and value is not None and abs(value - optimum) <= 1e-9:
        return "solved", result.summary()
    return "wrong", f"{result.summary()} (optimum {optimum:g})"


def _huge_generator_calls() -> dict:
    from cutslack.problems import (random_knapsack, random_mdkp, random_mis, random_qap, random_regular_mis,
                                   random_tsp, random_unit_disk_mis)
    from cutslack.problems.capital_budgeting import random_capital_budgeting
    from cutslack.problems.pde import elliptic_control_fd
    from cutslack.problems.robust import random_robust_knapsack

    return {
        "random_knapsack(10**12)": lambda: random_knapsack(10**12, rng=0),
        "random_mdkp(10**7, 10**4)": lambda: random_mdkp(10**7, 10**4, rng=0),
        "random_mis(10**7, 0.5)": lambda: random_mis(10**7, 0.5, rng=0),
        "random_regular_mis(10**10, 4)": lambda: random_regular_mis(10**10, 4, rng=0),
        "random_unit_disk_mis(10**7, 0.9)": lambda: random_unit_disk_mis(10**7, 0.9, rng=0),
        "random_qap(10**6)": lambda: random_qap(10**6, rng=0),
        "random_tsp(10**12)": lambda: random_tsp(10**12, rng=0),
        "random_robust_knapsack(10**12)": lambda: random_robust_knapsack(10**12, rng=0),
        "random_capital_budgeting(10**12)": lambda: random_capital_budgeting(10**12, rng=0),
        "elliptic_control_fd(10**6)": lambda: elliptic_control_fd(10**6),
    }


#: one call per generator family, far over any machine's memory (petabytes)
HUGE_GENERATOR_CALLS = _huge_generator_calls()


def memory_guard_outcomes() -> list[dict]:
    """Return, per :data:`HUGE_GENERATOR_CALLS` entry, whether it was refused with
    ProblemTooLargeError under the default limit, the estimate, and the seconds it took."""
    from cutslack.errors import ProblemTooLargeError

    rows = []
    for name, call in HUGE_GENERATOR_CALLS.items():
        start = time.perf_counter()
        try:
            call()
            rows.append({"call": name, "refused": False, "detail": "built (no guard)"})
        except ProblemTooLargeError as exc:
            rows.append({"call": name, "refused": True, "estimate": exc.estimate, "limit": exc.limit,
                         "seconds": time.perf_counter() - start})
        except Exception as exc:  # noqa: BLE001 -- reported in the table
            rows.append({"call": name, "refused": False, "detail": f"{type(exc).__name__}: {exc}"})
    return rows


_SUITE = """
[suite]
name = "kill-resume"
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]
time_limit = 0.1

[[instances]]
generator = "random_mdkp"
params = {{ n = [30, 40, 50, 60, 70, 80], m = [3, 5] }}
seeds = [0, 1]

[[solvers]]
method = "mdkp-tabu"
"""


_SHARED_SUITE = """
[suite]
name = "shared-store"
seeds = [0, 1, 2, 3, 4, 5, 6, 7]
time_limit = 0.1

[[instances]]
generator = "random_mdkp"
params = { n = [30, 60], m = [3, 5] }
seeds = [0]

[[solvers]]
method = "mdkp-tabu"
"""


def _damaged_store_exit(suite, db, env, cwd) -> dict:
    """Damage two pages of a filled store and return the exit code and message of ``bench run`` on it."""
    import sqlite3
    import subprocess
    import sys

    from cutslack.bench.store import Store

    with Store(db) as store:
        for k in range(60):
            store.write_run({"run_key": f"r{k}", "suite": "s", "instance_id": "i", "solver": "s", "method": "m",
                             "status": "feasible", "message": "x" * 2000})
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    data[3 * 4096:5 * 4096] = bytes((7 * i + 13) % 251 for i in range(2 * 4096))
    db.write_bytes(bytes(data))
    proc = subprocess.run([sys.executable, "-m", "cutslack", "bench", "run", str(suite), "--db", str(db), "--quiet"],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    return {"exit": proc.returncode, "message": " ".join(proc.stderr.split())[:400]}


def _degenerate_table(methods) -> dict:
    """Return ``{outcome: [(method, instance, detail), ...]}`` over every method x accepted degenerate instance."""
    from cutslack.api import SOLVERS

    table = {"solved": [], "refused": [], "wrong": [], "error": []}
    for name, (factory, _) in DEGENERATE_CASES.items():
        problem = factory()
        for method in methods:
            if isinstance(problem, SOLVERS[method].accepts):
                outcome, detail = degenerate_outcome(method, name)
                table[outcome].append((method, name, detail))
    return table


def first_call(method: str, time_limit: float, *, cache_dir: str | None = None) -> dict:
    """Time the first ``solve`` of ``method`` in a fresh process: ``import cutslack``, build the
    method's :data:`TIME_LIMIT_CASES` instance, then one call (its solver module is imported and
    its warm-up hook compiles or loads the kernels before the clock starts: ``compile_s``).
    ``cache_dir``: an (empty) Numba cache folder, so the kernels are compiled.  Returns
    ``{"wall", "wall_time", "status", "compile_s"}`` or ``{"error"}``.
    """
    import json
    import os
    import subprocess
    import sys

    code = (f"import time, json; import cutslack; "
            f"from cutslack.reliability import time_limit_case; case = time_limit_case({method!r}); "
            f"p = case.factory(); t = time.perf_counter(); "
            f"r = cutslack.solve(p, method={method!r}, rng=0, time_limit={time_limit}, **case.options); "
            f"print(json.dumps({{'wall': time.perf_counter() - t, 'wall_time': r.wall_time, "
            f"'status': r.status.value, 'compile_s': r.info.get('compile_s', 0.0)}}))")
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _versions() -> str:
    import platform

    import cutslack

    return f"cutslack {cutslack.__version__}, Python {platform.python_version()}, NumPy {np.__version__}"


def main(argv=None) -> int:  # pragma: no cover - it is the report command; its parts are tested
    """Run the reliability checks and write ``docs/reliability.md``; return 0 when every target is met.

    ``python -m cutslack.reliability [--fuzz-cases N] [--fuzz-results FILE] [--kills K] [--time-limit S]
    [--no-large] [--out PATH]``; ``--fuzz-results`` reports a run of ``python -m cutslack.fuzzing``
    (JSON lines) instead of fuzzing again.
    """
    import argparse
    import datetime
    import json
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from cutslack.fuzzing import fuzz_reader, fuzz_targets

    parser = argparse.ArgumentParser(prog="python -m cutslack.reliability", description=main.__doc__)
    parser.add_argument("--fuzz-cases", type=int, default=10_000, help="mutation cases per reader")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the suite run")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds given to each method")
    parser.add_argument("--fuzz-results", help="report these JSON lines of `python -m cutslack.fuzzing` instead of "
                        "fuzzing again")
    parser.add_argument("--methods", nargs="*", help="only these methods (default: every registered one)")
    parser.add_argument("--no-large", action="store_true", help="skip the huge instances (LARGE_CASES)")
    parser.add_argument("--no-time-limits", action="store_true", help="skip the time-limit table (the longest part)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "reliability.md"))
    args = parser.parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731

    # 1. bad command lines (the table of tests/test_cli_errors.py, run through pytest)
    repo = Path(__file__).resolve().parents[1]
    cli_table = repo / "tests" / "test_cli_errors.py"
    cli = {"lines": None, "passed": None}
    if cli_table.exists():
        say("bad command lines ...")
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
                               str(cli_table), "-k", "bad_command_line"], capture_output=True, text=True, cwd=repo)
        tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
        cli = {"summary": tail, "ok": proc.returncode == 0}

    # 2. fuzzing
    fuzz, fuzz_source = [], "run by this command, seed 2026"
    if args.fuzz_results:
        from collections import Counter

        from cutslack.fuzzing import FuzzReport

        rows = {}
        for line in Path(args.fuzz_results).read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["reader"]] = row  # a later line of a reader replaces an earlier one
        missing = [name for name in fuzz_targets() if name not in rows]
        if missing:
            parser.error(f"{args.fuzz_results} has no results for reader(s) {', '.join(missing)}")
        for name in fuzz_targets():
            row = rows[name]
            fuzz.append(FuzzReport(name, row["cases"], Counter(row["outcomes"]), Counter(),
                                   list(row["failure_messages"]), row["files"], row["seconds"]))
        dates = sorted({rows[name].get("date", "?") for name in fuzz_targets()})
        fuzz_source = (f"reported from `python -m cutslack.fuzzing`, seed {rows[next(iter(rows))].get('seed')}, "
                       f"{dates[0]} to {dates[-1]}")
    for name in ([] if args.fuzz_results else fuzz_targets()):
        say(f"fuzzing {name} ({args.fuzz_cases} cases) ...")
        fuzz.append(fuzz_reader(name, args.fuzz_cases, seed=2026))

    # 3. kills
    say(f"{args.kills} SIGKILLs of a suite run ...")
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "kill.toml"
        suite.write_text(_SUITE.format())
        env = dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
        # 480 runs of 0.1 s: the suite is still running at the 20th kill even on an idle machine
        kills = kill_and_resume(suite, Path(tmp) / "kill.db", kills=args.kills, seed=2026, max_wait=0.8, env=env,
                                cwd=tmp)

    # 3b. two processes on one store, a damaged store
    say("two bench run processes on one store ...")
    with tempfile.TemporaryDirectory() as tmp:
        suite = Path(tmp) / "shared.toml"
        suite.write_text(_SHARED_SUITE)
        env = dict(os.environ, PYTHONPATH=str(repo), OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
        shared = run_concurrently(suite, Path(tmp) / "shared.db", processes=2, env=env, cwd=tmp)
        damaged = _damaged_store_exit(suite, Path(tmp) / "damaged.db", env, tmp)

    # 4. time limits
    import cutslack

    say("memory guards and degenerate instances ...")
    guards = memory_guard_outcomes()
    methods = args.methods or cutslack.available_methods()
    degenerate = _degenerate_table([m for m in methods if not m.startswith("test-")])
    timings = []
    for method in ([] if args.no_time_limits else methods):
        say(f"time limit: {method} ...")
        try:
            m = measure_time_limit(method, args.time_limit)
            timings.append({"method": method, "wall": m.wall, "status": m.result.status.value,
                            "within": m.within, "honest": m.honest_status, "note": time_limit_case(method).note})
        except Exception as exc:  # noqa: BLE001 -- reported in the table
            timings.append({"method": method, "error": f"{type(exc).__name__}: {exc}"})
    large = []
    for case in ([] if args.no_large else LARGE_CASES):
        say(f"at scale: {case.method} on {case.note} ...")
        problem = None
        try:
            problem = case.factory()
            start = time.perf_counter()
            result = cutslack.solve(problem, method=case.method, rng=0, time_limit=case.time_limit, **case.options)
            wall = time.perf_counter() - start
            large.append({"case": case, "wall": wall, "status": result.status.value, "objective": result.objective})
        except Exception as exc:  # noqa: BLE001 -- reported in the table
            large.append({"case": case, "error": f"{type(exc).__name__}: {exc}"})
        del problem
    say("first calls in fresh processes ...")
    first = [("tsp-ils", "warm Numba cache", first_call("tsp-ils", 0.5)),
             ("anneal", "warm Numba cache", first_call("anneal", 0.5))]
    with tempfile.TemporaryDirectory() as empty_cache:
        first.append(("tsp-ils", "empty Numba cache", first_call("tsp-ils", 0.5, cache_dir=empty_cache)))

    # 5. the page
    fuzz_total = sum(r.cases for r in fuzz)
    fuzz_failures = sum(len(r.failures) for r in fuzz)
    measured = [t for t in timings if "wall" in t]
    worst = max(measured, key=lambda t: t["wall"] - args.time_limit) if measured else None
    misses = [t["method"] for t in timings if not (t.get("within") and t.get("honest"))]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Reliability: what cutslack guarantees and the figures that show it",
        "",
        f"Generated by `python -m cutslack.reliability` ({' '.join(sys.argv[1:]) or 'defaults'}) on "
        f"{started:%Y-%m-%d %H:%M} UTC, {_versions()}; {os.cpu_count()} CPUs, load average {load:.1f} at the end "
        f"(a shared machine: timings are noisy). Do not edit by hand: rerun the command.",
        "",
        "## Guarantees and how they are tested",
        "",
        "| promise | how it is checked | where |",
        "| --- | --- | --- |",
        "| No traceback reaches a command-line user: bad input is one `cutslack: error: ...` line naming the "
        "thing and what to do (exit 2); an internal error is one line naming the file that holds the "
        "traceback (exit 3); Ctrl-C exits 130 | a table of bad command lines run through `main(argv)` "
        "(exit code, message, no `Traceback`), plus real processes for the entry points | "
        "`tests/test_cli_errors.py` |",
        "| A file whose format is not recognised by name or content is refused: \"cannot tell the format of "
        "FILE; use --format one of ...\" -- never parsed by a guessed reader | same table; content signatures "
        "(exact token counts for the number-stream formats) | `cutslack/cli.py` `detect_format` |",
        "| Each reader returns a valid instance or raises `ParseError` with file and line (or "
        "`ProblemTooLargeError` before a huge allocation) -- never another exception, a hang, or the same "
        "instance from changed data, and exactly the same instance when only line endings, spacing or a "
        "byte-order mark change | mutation fuzzing of the real benchmark files (16 mutations; data tokens found "
        "by probing) and hypothesis tests | `cutslack/fuzzing.py`, `tests/problems/test_reader_fuzz.py` |",
        "| Every invalid constructor field or generator argument raises `InvalidInstanceError` naming it; "
        "extreme valid instances (n = 1, empty graphs, zero capacities, all-equal data, 1e12 and 1e-12 "
        "coefficients) are solved to their brute-force optimum by every method that takes them, or refused "
        "with a reason | table tests over the registry | `tests/test_extremes.py` |",
        "| The clock starts once `solve` has loaded the method and run its warm-up hook (Numba compiling, "
        "reported as `info['compile_s']`), and `Result.wall_time` is the call from there; every registered "
        "method returns within `time_limit + max(10 %, "
        "1 s)` with its best solution so far and `Status.TIME_LIMIT` | one instance per method that it cannot "
        "finish (`cutslack.reliability.TIME_LIMIT_CASES`; a method without one fails the test) | "
        "`tests/test_time_limits.py` |",
        "| Every generator, every reader (its text and token stream, TSPLIB explicit matrices, DIMACS graphs "
        "and complements), exhaustive search, statevector simulation, dense QUBO couplings, the DP table, TSP "
        "distance matrices and MILP model building estimate their memory first and raise "
        "`ProblemTooLargeError` (size, estimate, limit); the limit is one setting: "
        "`cutslack.config.set_memory_limit` or `CUTSLACK_MEMORY_LIMIT` (bytes or a percentage; default: half "
        "of `MemAvailable`); the command line exits 2 with the message | a huge call per generator family, "
        "readers under an 8 MB limit, the command line | `tests/test_memory_guards.py`, `cutslack/config.py` |",
        "| A file that contradicts itself is refused or flagged, never answered silently: `TYPE: TSP` with an "
        "asymmetric `FULL_MATRIX` is a `ParseError` naming the file, the line and the first asymmetric pair "
        "(`TYPE: ATSP` reads it as asymmetric); a stated optimum that a feasible solution beats sets "
        "`Result.info[\"known_optimum_violated\"]` and the command line warns \"the file's stated optimum X is "
        "beaten by a feasible solution of Y: the stated value is wrong\" instead of printing \"(proven)\" | "
        "files written by the tests | `tests/test_file_limits.py` |",
        "| Zero-size and degenerate instances (no items, no constraint rows, all-zero weights or profits, an "
        "empty graph, n = 0, 1, 2 TSPs, an empty or all-zero QUBO, a zero target) are solved to their optimum "
        "or refused with a `CutslackError` by every registered method; a problem with no variables is answered "
        "by `cutslack.solve` with the empty vector | `cutslack.reliability.DEGENERATE_CASES` over the registry "
        "| `tests/test_extremes.py` |",
        "| The run store refuses a damaged file (`PRAGMA quick_check` on opening: exit 2, \"move it aside ... or "
        "give a new --db\"); processes sharing a store claim runs in one `BEGIN IMMEDIATE` transaction (owner "
        "host:pid; a dead owner's claims are taken over), so each run is done once and each process reports "
        "what it stored; a repeated seed is run once, with a note; a closed stdout (`| head -c 1`) ends "
        "`cutslack` and `cutslack bench` quietly with exit 141 | real SQLite files, real processes | "
        "`tests/bench/test_store_limits.py`, `tests/test_file_limits.py` |",
        "| A suite run killed at any moment loses and duplicates nothing: each run is stored with its history "
        "in one transaction, run keys are unique, a rerun resumes; SQL takes values only as parameters | "
        "SIGKILL at random moments then resume; `PRAGMA integrity_check`; an AST audit of every `execute` | "
        "`tests/bench/test_crash_safety.py` |",
        "| Coefficient ranges of 1e9 keep a known optimum and overflow nothing; the statevector stays normalised "
        "to 1e-10 over p = 10 layers; no module unpickles a user path | `tests/test_numerics.py` | |",
        "",
        "## Figures",
        "",
        f"**Bad command lines**: {cli.get('summary', 'not run')}.",
        "",
        f"**Fuzzing** ({fuzz_source}): {fuzz_total:,} mutation cases over {len(fuzz)} readers, {fuzz_failures} "
        f"contract violations.",
        "",
        "| reader | files | cases | same instance | different instance | refused | violations | seconds |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in fuzz:
        lines.append(f"| {r.reader} | {r.files} | {r.cases:,} | {r.outcomes['same']:,} | {r.outcomes['changed']:,} "
                     f"| {r.outcomes['refused']:,} | {len(r.failures)} | {r.seconds:.0f} |")
    for r in fuzz:
        for failure in r.failures[:5]:
            lines.append(f"- {r.reader}: {failure}")
    lines += [
        "",
        f"**Kills**: {kills.kills} SIGKILLs of `cutslack bench run` at random moments, each followed by a "
        f"resume: {kills.stored_runs} runs stored of {kills.expected_runs} expected, {kills.distinct_keys} "
        f"distinct (lost {kills.expected_runs - kills.distinct_keys}, duplicated "
        f"{kills.stored_runs - kills.distinct_keys}); `PRAGMA integrity_check`: {kills.integrity}. Runs stored "
        f"after each kill: {', '.join(map(str, kills.stored_after_each_kill))}.",
        "",
        f"**One store, two processes**: two `cutslack bench run` started together on one store "
        f"({shared.expected_runs} runs): they stored {' + '.join(map(str, shared.stored_by_process))} = "
        f"{sum(shared.stored_by_process)}; the store holds {shared.stored_runs} rows, {shared.distinct_keys} "
        f"distinct; exit codes {shared.exit_codes}; `PRAGMA integrity_check`: {shared.integrity}.",
        "",
        f"**Damaged store** (two pages overwritten): `bench run` exits {damaged['exit']}: `{damaged['message']}`",
        "",
        f"**Memory guards** (default limit): {sum(r['refused'] for r in guards)} of {len(guards)} huge generator "
        f"calls refused before allocating.",
        "",
        "| call | refused | estimate | limit | seconds |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for r in guards:
        lines.append(f"| `{r['call']}` | {'yes' if r['refused'] else '**no**'} | {r.get('estimate', '')} | "
                     f"{r.get('limit', r.get('detail', ''))} | {r.get('seconds', float('nan')):.4f} |")
    counts = {k: len(v) for k, v in degenerate.items()}
    lines += [
        "",
        f"**Degenerate instances**: {sum(counts.values())} pairs of a method and a degenerate instance it accepts "
        f"({len(DEGENERATE_CASES)} instances): {counts['solved']} solved to the optimum, {counts['refused']} "
        f"refused with a reason, {counts['wrong']} wrong, {counts['error']} internal errors.",
        "",
    ]
    for outcome in ("wrong", "error"):
        for method, name, detail in degenerate[outcome][:10]:
            lines.append(f"- {outcome}: {method} on {name}: {detail[:200]}")
    refusals = sorted({(m, n, d.split(";")[0][:110]) for m, n, d in degenerate["refused"]})
    if refusals:
        lines += ["", "| method | refuses | because |", "| --- | --- | --- |"]
        lines += [f"| {m} | {n} | {d} |" for m, n, d in refusals]
    if args.no_time_limits:
        lines += ["", "**Time limits**: not measured in this run (`--no-time-limits`); `tests/test_time_limits.py` "
                  "checks every method."]
    else:
        lines += [
            "",
            f"**Time limits** ({args.time_limit:g} s each, after one small call that compiles the method's "
            f"kernels; allowed: +{allowed_overshoot(args.time_limit):g} s). Worst overshoot: "
            + (f"{worst['method']} {worst['wall'] - args.time_limit:+.2f} s" if worst else "n/a")
            + (f"; over the allowance or without TIME_LIMIT: {', '.join(misses)}." if misses else "; every method "
               "within the allowance."),
            "",
            "| method | instance | wall (s) | overshoot (s) | status | within |",
            "| --- | --- | ---: | ---: | --- | --- |",
        ]
    for t in timings:
        if "wall" in t:
            lines.append(f"| {t['method']} | {t['note']} | {t['wall']:.2f} | {t['wall'] - args.time_limit:+.2f} | "
                         f"{t['status']} | {'yes' if t['within'] and t['honest'] else '**no**'} |")
        else:
            lines.append(f"| {t['method']} | | | | {t['error'][:120]} | **no** |")
    large_misses = [t["case"].method for t in large
                     if "wall" not in t or t["wall"] > t["case"].time_limit + allowed_overshoot(t["case"].time_limit)]
    if large:
        lines += [
            "",
            "**At scale** (one call each, kernels already loaded): "
            + (f"over the allowance: {', '.join(large_misses)}." if large_misses else "every case within the "
               "allowance."),
            "",
            "| method | instance | time limit (s) | wall (s) | overshoot (s) | allowed (s) | status |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for t in large:
            c = t["case"]
            if "wall" in t:
                lines.append(f"| {c.method} | {c.note} | {c.time_limit:g} | {t['wall']:.2f} | "
                             f"{t['wall'] - c.time_limit:+.2f} | {allowed_overshoot(c.time_limit):g} | {t['status']} |")
            else:
                lines.append(f"| {c.method} | {c.note} | {c.time_limit:g} | | | | {t['error'][:120]} |")
    lines += [
        "",
        "**First call** in a fresh process with `time_limit=0.5` (allowed: 1.5 s after `compile_s`: importing the "
        "method's solver module -- only that one, `cutslack.api.METHOD_MODULES` -- and its warm-up hook loading or "
        "compiling its kernels, before the clock): " + "; ".join(
            f"{m}, {k}: " + (f"{v['wall']:.2f} s wall (wall_time {v['wall_time']:.2f} s, compile_s "
                             f"{v.get('compile_s', 0.0):.2f} s), {v['status']}" if "wall" in v else v["error"])
                                  for m, k, v in first)
        + ". Kernels are compiled with Numba's `cache=True`; the first use after installing writes the cache "
        "(`python -m cutslack.warmup` does it for every method).",
        "",
        "## Known limits",
        "",
        "- One unit of work is indivisible: a sampler's sweep over all reads, one objective evaluation of a "
        "quantum optimiser, one HiGHS call, one sparse factorisation. The quantum optimisers time their steps "
        "and do not start one that would end past the deadline (keeping time for the final state and for "
        "rounding); other methods return after the unit that crosses the deadline.",
        "- The nearest-neighbour and greedy TSP constructions run in compiled chunks and, at the deadline, "
        "place the cities not yet reached in space-filling-curve order; building the neighbour lists (a "
        "KD-tree) is one unit.",
        "- The time-limit table is measured after one small call per method; a first call in a fresh process "
        "also pays importing its solver module and Numba's first cache load (the first-call figures above), "
        "and with an empty cache the compiling: run `python -m cutslack.warmup` once after installing. Most of "
        "a warm-cache first call is Numba's own start-up -- `import numba` and, on the first cached kernel, "
        "its typing and target registries (which import `scipy.linalg` for BLAS) -- about 1 to 2 s on this "
        "loaded 2-CPU machine, paid once per process whatever the method.",
        "- A reader cannot tell a file truncated exactly between two mknap2 blocks from a shorter collection; "
        "such a file reads as the blocks it holds (a different instance, never a silently equal one).",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    say(f"wrote {out}")
    ok = (cli.get("ok", True) and not fuzz_failures and kills.ok and not misses and not large_misses and shared.ok
          and damaged["exit"] == 2 and all(r["refused"] for r in guards) and not degenerate["wrong"]
          and not degenerate["error"])
    return 0 if ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
