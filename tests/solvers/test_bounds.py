"""Cheap valid bounds and the stop rule: bounds hold against exact optima, heuristics stop when done."""

from __future__ import annotations

import numpy as np
import pytest

import cutslack
from cutslack.problems import random_knapsack, random_mdkp, random_mis, random_qap, random_tsp
from cutslack.solvers.bounds import Bound, StopRule, cheap_bound, reaches_bound, stagnation_budget
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
def test_quick_suite_heuristics_stop_when_done_without_a_time_limit(method):
    """Without a time limit a heuristic on the quick suite's instances ends on its bound or on stagnation."""
    from cutslack.bench.suite import load_suite

    suite = load_suite("quick")
    ran = 0
    for inst in suite.instances:
        if method != "heuristic" and not isinstance(inst.problem, cutslack.SOLVERS[method].accepts):
            continue
        res = cutslack.solve(inst.problem, method=method, rng=0)
        ran += 1
        assert res.status.value in ("optimal", "feasible"), (inst.instance_id, res.summary())
        if not res.info.get("exact"):
            assert res.info.get("stop", "bound") in ("bound", "stagnation", "iteration limit")
        if inst.family == "knapsack":   # one small integer constraint: the DP bound proves the optimum
            assert res.status.value == "optimal" and res.gap == 0.0
        incumbents = res.info["incumbents"]
        assert incumbents[-1][1] == pytest.approx(res.objective)
        assert all(a[0] <= b[0] for a, b in zip(incumbents, incumbents[1:]))
    assert ran


def test_same_seed_same_result_with_stagnation_stop():
    problem = random_mis(60, 0.1, rng=3)
    a = cutslack.solve(problem, method="mis-ils", rng=5)
    b = cutslack.solve(problem, method="mis-ils", rng=5)
    assert a.info["stop"] == "stagnation"
    assert np.array_equal(a.x, b.x) and a.nit == b.nit


def test_stagnation_budget_applies_without_a_time_limit_or_when_set():
    assert stagnation_budget(None, 50, None) == 50
    assert stagnation_budget(None, 50, 2.0) == np.inf
    assert stagnation_budget(7, 50, 2.0) == 7


@pytest.mark.parametrize("method, make", [("mis-ils", lambda: random_mis(60, 0.1, rng=3)),
                                          ("qap-tabu", lambda: random_qap(12, rng=3)),
                                          ("mdkp-tabu", lambda: random_mdkp(60, 5, rng=3)),
                                          ("tsp-ils", lambda: random_tsp(300, rng=3))])
def test_a_heuristic_given_time_uses_it_unless_told_to_stop_on_stagnation(method, make):
    """With a time limit, no stagnation stop: the run ends at the limit (TIME_LIMIT), unless the
    user sets ``max_no_improve`` (then it ends early on stagnation, FEASIBLE)."""
    problem = make()
    free = cutslack.solve(problem, method=method, rng=0)
    assert free.status.value == "feasible"          # no bound proves it, so nothing ends a timed run early
    timed = cutslack.solve(problem, method=method, rng=0, time_limit=0.4)
    assert timed.status.value == "time_limit" and timed.info["stop"] == "time_limit"
    assert timed.wall_time >= 0.4
    capped = cutslack.solve(problem, method=method, rng=0, time_limit=600, max_no_improve=100)
    assert capped.info["stop"] == "stagnation" and capped.status.value == "feasible"


@pytest.mark.parametrize("make", [lambda: random_knapsack(300, kind="strongly", rng=2),
                                  lambda: random_mdkp(80, 5, rng=4),
                                  lambda: random_knapsack(60, 3, kind="weakly", rng=6)])
def test_knapsack_lp_relaxation_matches_scipy_linprog(make):
    from scipy.optimize import linprog

    from cutslack.solvers.bounds import knapsack_lp_relaxation

    problem = make()
    reference = linprog(-problem.profits, A_ub=problem.weights, b_ub=problem.capacities, bounds=(0, 1), method="highs")
    value, duals = knapsack_lp_relaxation(problem)
    assert value == pytest.approx(-reference.fun, rel=1e-9)
    assert duals == pytest.approx(np.maximum(-reference.ineqlin.marginals, 0.0), abs=1e-6)


def test_a_cut_short_lp_still_gives_a_valid_bound():
    from scipy.optimize import linprog

    from cutslack.solvers.bounds import knapsack_lp_relaxation

    problem = random_mdkp(400, 10, rng=8)
    reference = -linprog(-problem.profits, A_ub=problem.weights, b_ub=problem.capacities, bounds=(0, 1),
                         method="highs").fun
    value, duals = knapsack_lp_relaxation(problem, time_limit=1e-6)
    assert value >= reference - 1e-6 * reference and np.all(duals >= 0)


def test_descending_order_buckets_a_huge_array_nearly_in_order(monkeypatch):
    from cutslack.solvers import bounds

    values = np.random.default_rng(3).lognormal(size=5000)
    values[[7, 11]] = np.inf, -np.inf
    exact = bounds.descending_order(values)
    assert np.array_equal(exact, np.argsort(-values, kind="stable"))
    monkeypatch.setattr(bounds, "EXACT_ORDER_MAX_N", 100)
    bucketed = bounds.descending_order(values)
    assert sorted(bucketed) == list(range(5000)) and bucketed[0] == 7 and bucketed[-1] == 11
    # out of order only within a bucket: about 1/65536 of the log range
    ordered = values[bucketed][1:-1]
    assert np.all(np.diff(np.log1p(ordered)) <= 1e-3)
