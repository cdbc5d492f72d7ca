"""Exact column-and-constraint generation (method="ccg") on two-stage robust capital budgeting."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

import cutslack
from cutslack.errors import SolverError
from cutslack.problems import random_capital_budgeting
from cutslack.result import Status
from cutslack.testing import check_result


def brute_force_robust_optimum(problem) -> float:
    X = np.array(list(itertools.product((0.0, 1.0), repeat=problem.n)))
    X = X[problem.is_feasible(X)]
    return float(problem.evaluate(X).max())


@pytest.mark.parametrize("seed, late_revenue_factor", [(0, 0.8), (1, 0.5)])
def test_ccg_matches_brute_force_over_every_first_stage(seed, late_revenue_factor):
    problem = random_capital_budgeting(5, late_revenue_factor=late_revenue_factor, rng=seed)
    result = cutslack.solve(problem, method="ccg", rng=0, time_limit=60)
    assert result.status is Status.OPTIMAL and result.method == "ccg"
    check_result(problem, result, optimum=brute_force_robust_optimum(problem), rel_tol=1e-7)
    assert result.history and result.history[-1]["upper"] >= result.objective - 1e-6


def test_ccg_is_deterministic_and_reports_to_the_callback():
    problem = random_capital_budgeting(5, rng=3)
    seen = []
    first = cutslack.solve(problem, method="ccg", rng=5, callback=seen.append)
    second = cutslack.solve(problem, method="ccg", rng=5)
    np.testing.assert_array_equal(first.x, second.x)
    assert first.objective == second.objective and len(seen) == first.nit

    def stop(_):
        raise StopIteration

    stopped = cutslack.solve(problem, method="ccg", rng=5, callback=stop)
    assert stopped.status is Status.STOPPED and stopped.feasible


def test_ccg_honours_the_time_limit():
    problem = random_capital_budgeting(30, rng=0)
    start = time.perf_counter()
    result = cutslack.solve(problem, method="ccg", rng=0, time_limit=2.0)
    assert time.perf_counter() - start <= 2.0 + 1.5
    assert result.status is Status.TIME_LIMIT
    # an x is returned only once its exact worst case is known, which at n = 30 may take longer
    check_result(problem, result, require_feasible=False)


def test_neur2ro_says_it_takes_only_the_knapsack():
    with pytest.raises(SolverError, match="cannot take a CapitalBudgeting"):
        cutslack.solve(random_capital_budgeting(5, rng=0), method="neur2ro")
