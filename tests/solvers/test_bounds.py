"""Cheap valid bounds and the stop rule: bounds hold against exact optima, heuristics stop when done."""

from __future__ import annotations

import numpy as np
import pytest

import cutslack
from cutslack.problems import random_knapsack, random_mdkp, random_mis, random_qap, random_tsp
from cutslack.solvers.bounds import Bound, StopRule, cheap_bound, reaches_bound
from cutslack.testing import brute_force


@pytest.mark.parametrize("make", [lambda: random_knapsack(12, kind="strongly", rng=2), lambda: random_mdkp(10, 3, rng=1),
                                  lambda: random_mis(12, 0.3, rng=4), lambda: random_qap(6, rng=3),
                                  lambda: random_tsp(8, rng=5)])
def test_cheap_bound_is_valid_against_brute_force(make):
    problem = make()
    _, optimum = brute_force(problem)
    bound = cheap_bound(problem)
    assert bound.sense == problem.sense
    if problem.sense == "max":
        assert bound.effective >= optimum - 1e-6
    else:
        assert bound.effective <= optimum + 1e-6


def test_knapsack_dp_bound_is_the_optimum():
    problem = random_knapsack(25, kind="strongly", rng=7)
    exact = cutslack.solve(problem, method="dp")
    bound = cheap_bound(problem)
    assert bound.kind.startswith("dynamic programming") and bound.value == exact.objective


def test_stop_rule_bound_then_stagnation():
    rule = StopRule(Bound(10.0, "trivial", "min", integral=True), max_no_improve=5)
    assert not rule.update(12.0, work=3)          # the first incumbent is an improvement
    assert not rule.update(12.0, work=4) and rule.reason is None
    assert rule.update(12.0, work=1) and rule.reason == "stagnation"
    assert StopRule(Bound(9.6, "lp", "min", integral=True)).update(10.0)   # ceil(9.6) = 10 proves it
    assert not reaches_bound(10.5, Bound(9.6, "lp", "min", integral=True))


@pytest.mark.parametrize("method", ["heuristic", "mdkp-tabu", "mis-ils", "qap-tabu", "tsp-ils"])
def test_quick_suite_heuristics_stop_before_their_time_limit(method):
    """On the quick suite's instances a heuristic ends on its bound or on stagnation, never at the limit."""
    from cutslack.bench.suite import load_suite

    suite = load_suite("quick")
    ran = 0
    for inst in suite.instances:
        if method != "heuristic" and not isinstance(inst.problem, cutslack.SOLVERS[method].accepts):
            continue
        res = cutslack.solve(inst.problem, method=method, rng=0, time_limit=60)
        ran += 1
        assert res.status.value in ("optimal", "feasible"), (inst.instance_id, res.summary())
        assert res.info.get("stop", "bound") in ("bound", "stagnation") or res.info.get("exact")
        if inst.family == "knapsack":   # one small integer constraint: the DP bound proves the optimum
            assert res.status.value == "optimal" and res.gap == 0.0
        incumbents = res.info["incumbents"]
        assert incumbents[-1][1] == pytest.approx(res.objective)
        assert all(a[0] <= b[0] for a, b in zip(incumbents, incumbents[1:]))
    assert ran


def test_same_seed_same_result_with_stagnation_stop():
    problem = random_mis(60, 0.1, rng=3)
    a = cutslack.solve(problem, method="mis-ils", rng=5, time_limit=30)
    b = cutslack.solve(problem, method="mis-ils", rng=5, time_limit=30)
    assert np.array_equal(a.x, b.x) and a.nit == b.nit
