"""Conformance kit shared by every solver's tests (dimod's habit): small instances with
optima proven by brute force, and :func:`check_result`, which asserts the :class:`Result`
contract.

>>> from cutslack.testing import small_instances, brute_force
>>> problem = small_instances()["knapsack"]
>>> brute_force(problem)[1] == problem.known_optimum.value
True
"""

from __future__ import annotations

import itertools

import numpy as np

from cutslack.errors import ProblemTooLargeError
from cutslack.problems import (KnownOptimum, random_knapsack, random_mdkp, random_mis, random_qap, random_tsp)
from cutslack.result import Result, Status

__all__ = ["brute_force", "small_instances", "check_result"]

#: brute force refuses beyond this many candidate solutions
MAX_CANDIDATES = 2_000_000


def brute_force(problem):
    """Return ``(solution, value)`` optimal for a small instance by complete enumeration.

    Binary families enumerate all ``2^n`` vectors (vectorised in blocks); permutation families
    all ``n!`` permutations (TSP fixes city 0 first).  Refuses with ``ProblemTooLargeError``
    beyond :data:`MAX_CANDIDATES`.
    """
    n = problem.n
    sense = problem.sense
    if problem.family in ("knapsack", "mis"):
        if 2**n > MAX_CANDIDATES:
            raise ProblemTooLargeError("brute force over 2^n vectors", 2**n, MAX_CANDIDATES)
        best_x, best_v = None, -np.inf if sense == "max" else np.inf
        for start in range(0, 2**n, 1 << 16):
            idx = np.arange(start, min(2**n, start + (1 << 16)))
            X = ((idx[:, None] >> np.arange(n)) & 1).astype(np.int64)
            ok = problem.is_feasible(X)
            if not ok.any():
                continue
            vals = np.where(ok, problem.evaluate(X), -np.inf if sense == "max" else np.inf)
            k = int(np.argmax(vals) if sense == "max" else np.argmin(vals))
            if problem.better(vals[k], best_v):
                best_x, best_v = X[k], float(vals[k])
        return best_x, best_v
    if problem.family in ("qap", "tsp"):
        fixed = problem.family == "tsp" and n > 1
        count = int(np.prod(np.arange(1, n - (1 if fixed else 0) + 1, dtype=float)))
        if count > MAX_CANDIDATES:
            raise ProblemTooLargeError("brute force over permutations", count, MAX_CANDIDATES)
        rest = range(1, n) if fixed else range(n)
        perms = np.array([((0,) if fixed else ()) + p for p in itertools.permutations(rest)], dtype=np.int64)
        vals = problem.evaluate(perms)
        k = int(np.argmin(vals))
        return perms[k], float(vals[k])
    raise ValueError(f"brute_force does not handle family {problem.family!r}")


def small_instances() -> dict:
    """Return one small seeded instance per family, each with ``known_optimum`` set by brute force."""
    out = {
        "knapsack": random_knapsack(14, kind="weakly", rng=11),
        "mdkp": random_mdkp(14, 3, rng=12),
        "mis": random_mis(14, 0.3, weighted=True, rng=13),
        "qap": random_qap(6, rng=14),
        "tsp": random_tsp(7, rng=15),
    }
    done = {}
    for key, p in out.items():
        _, value = brute_force(p)
        done[key] = _with_optimum(p, value)
    return done


def _with_optimum(problem, value):
    import dataclasses

    return dataclasses.replace(problem, known_optimum=KnownOptimum(float(value), True, "brute force"))


def check_result(problem, result: Result, *, optimum: float | None = None, rel_tol: float = 1e-9,
                 require_feasible: bool = True, reach_known: bool = True) -> None:
    """Assert the Result contract: re-scored objective, feasibility, status, bound and gap consistency.

    The reference optimum is ``optimum`` when given, else the problem's ``known_optimum`` when it
    is proven.  Against the reference it asserts that the objective does not beat it (beyond
    ``rel_tol``), that a reported bound is on the right side of it (a bound below a known
    maximum is a bug), and — unless ``reach_known=False`` (for heuristics that may stop short) —
    that the objective is within ``rel_tol`` of it.  A best-known (unproven) value is used only
    for the consistency of ``gap``.
    """
    assert isinstance(result, Result), f"expected a Result, got {type(result).__name__}"
    assert isinstance(result.status, Status)
    assert result.wall_time >= 0
    if result.x is None:
        assert not result.feasible
        assert not require_feasible, "the solver returned no solution"
        return
    value = float(problem.evaluate(result.x))
    assert result.objective is not None and np.isclose(result.objective, value), \
        f"objective {result.objective} is not the problem's own evaluation {value}"
    assert result.feasible == bool(problem.is_feasible(result.x, atol=1e-6))
    if require_feasible:
        assert result.feasible, f"{result.method} returned an infeasible solution ({result.status})"
    if result.status is Status.OPTIMAL:
        assert result.feasible
    maximise = getattr(problem, "sense", "min") == "max"
    if result.bound is not None and result.feasible:
        slack = 1e-6 * max(1.0, abs(result.bound))
        if maximise:
            assert value <= result.bound + slack, f"objective {value} above the claimed upper bound {result.bound}"
        else:
            assert value >= result.bound - slack, f"objective {value} below the claimed lower bound {result.bound}"
    known = getattr(problem, "known_optimum", None)
    target = optimum
    if target is None and known is not None and getattr(known, "proven", False):
        target = float(known.value)
    if target is None:
        return
    tol = rel_tol * max(1.0, abs(target))
    if result.bound is not None:
        if maximise:
            assert result.bound >= target - max(tol, 1e-6 * max(1.0, abs(target))), \
                f"claimed upper bound {result.bound} is below the optimum {target}"
        else:
            assert result.bound <= target + max(tol, 1e-6 * max(1.0, abs(target))), \
                f"claimed lower bound {result.bound} is above the optimum {target}"
    if result.feasible:
        better = value - target if maximise else target - value
        assert better <= tol, f"objective {value} beats the optimum {target}: the optimum or the scoring is wrong"
        if reach_known:
            assert abs(value - target) <= tol, f"objective {value} differs from optimum {target}"
        if result.gap is not None:
            assert result.gap >= -1e-9, f"negative gap {result.gap}"
