"""Exact dynamic programming for the one-constraint 0/1 knapsack (``method="dp"``).

The classical O(n·C) recursion over capacities, vectorised with NumPy one item at a time
(each item is one shifted ``maximum`` over the whole value row, so no Python loop over
capacities); the per-item "take" decisions are kept as a boolean table to rebuild the
solution.  Needs integer weights and capacity.
"""

from __future__ import annotations

import numpy as np

from cutslack.api import Run, make_result, register_solver
from cutslack.config import check_memory
from cutslack.errors import ProblemTooLargeError, SolverError
from cutslack.problems.knapsack import Knapsack
from cutslack.result import Result, Status

__all__ = ["knapsack_dp"]

#: largest decision table (items × (capacity + 1) booleans) the DP allocates
MAX_TABLE = 400_000_000


@register_solver("dp", accepts=(Knapsack,), description="exact dynamic programming, one-constraint knapsack")
def knapsack_dp(problem: Knapsack, *, rng=None, time_limit=None, callback=None) -> Result:
    """Return an optimal solution of a one-constraint knapsack with integer weights.

    Runs in O(n·C) time and n·C bits of memory; refuses with ``ProblemTooLargeError`` when
    that table exceeds :data:`MAX_TABLE`.  Honours ``time_limit`` between items (returning
    the greedy-by-ratio solution then, as no partial DP table yields a solution).
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    if problem.m != 1:
        raise SolverError(f"method 'dp' solves the one-constraint knapsack only; this instance has {problem.m} constraints")
    w = problem.weights[0]
    C = problem.capacities[0]
    if np.any(w != np.round(w)) or C != np.round(C):
        raise SolverError("method 'dp' needs integer weights and capacity")
    n = w.shape[0]
    w = w.astype(np.int64)
    C = int(C)
    check_memory("knapsack DP table", f"{n} items x capacity {C}", n * (C + 1) + 16 * (C + 1))
    if n * (C + 1) > MAX_TABLE:
        raise ProblemTooLargeError("knapsack DP table (items x (capacity + 1))", n * (C + 1), MAX_TABLE)
    p = problem.profits
    value = np.zeros(C + 1)
    take = np.zeros((n, C + 1), dtype=bool)
    for j in range(n):
        if run.expired():
            break
        wj = w[j]
        if wj > C:
            continue
        cand = value[: C + 1 - wj] + p[j]
        better = cand > value[wj:]
        take[j, wj:] = better
        value[wj:] = np.where(better, cand, value[wj:])
    else:
        x = np.zeros(n, dtype=np.int64)
        c = C
        for j in range(n - 1, -1, -1):
            if take[j, c]:
                x[j] = 1
                c -= w[j]
        return make_result(problem, x, method="dp", run=run, status=Status.OPTIMAL, bound=float(value[C]),
                           n_vars=n, nit=n)
    # time limit hit: fall back to greedy by profit/weight ratio
    order = np.argsort(-(p / np.maximum(w, 1e-12)), kind="stable")
    x = np.zeros(n, dtype=np.int64)
    load = 0
    for j in order:
        if load + w[j] <= C:
            x[j] = 1
            load += w[j]
    return make_result(problem, x, method="dp", run=run, n_vars=n, nit=n, info={"message": "time limit: greedy fallback"})
