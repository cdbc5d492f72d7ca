"""Solvers on generalized assignment and set covering: the MILP reproduces every known optimum,
the heuristics are feasible, near-optimal and deterministic, repair makes any bit vector
feasible, and the LP bounds are valid."""

import numpy as np
import pytest

import cutslack
from cutslack.problems import random_gap, random_set_cover
from cutslack.problems.library import load_instance, load_shipped
from cutslack.result import Status
from cutslack.solvers.bounds import cheap_bound, gap_lp_bound, set_cover_lp_bound
from cutslack.solvers.repair import REPAIRABLE_FAMILIES, repair
from cutslack.testing import check_result

GAP_IDS = [f"gap{f}#{k}" for f in range(1, 7) for k in range(1, 6)]


@pytest.mark.parametrize("instance", GAP_IDS)
def test_milp_reproduces_every_gap_optimum(benchmarks, instance):
    problem = load_instance("gap", instance, benchmarks)
    result = cutslack.solve(problem, method="milp", rng=0)
    check_result(problem, result)
    assert result.status is Status.OPTIMAL and result.objective == problem.known_optimum.value


@pytest.mark.parametrize("name", ["scp41", pytest.param("scp44", marks=pytest.mark.slow),
                                  pytest.param("scp49", marks=pytest.mark.slow)])
def test_milp_proves_the_published_scp_optimum(name):
    problem = load_shipped(name)
    result = cutslack.solve(problem, method="milp", rng=0)
    check_result(problem, result)
    assert result.status is Status.OPTIMAL and result.objective == problem.known_optimum.value


def test_milp_solves_generated_min_cost_gap_and_unicost_cover():
    gap = random_gap(4, 16, kind="d", rng=3)
    res = cutslack.solve(gap, method="milp", rng=0)
    assert res.status is Status.OPTIMAL and res.feasible and np.isclose(res.objective, res.bound)
    greedy = cutslack.solve(gap, method="gap-greedy")
    assert greedy.objective >= res.objective - 1e-9  # minimisation: no heuristic beats the optimum
    cover = random_set_cover(40, 120, 0.05, rng=4)
    unit = type(cover)(np.ones(cover.n), cover.cover)
    res = cutslack.solve(unit, method="milp", rng=0)
    assert res.status is Status.OPTIMAL and res.objective == res.x.sum()


@pytest.mark.parametrize("instance", ["gap1#1", "gap1#3", "gap1#5", "gap4#2", "gap6#5"])
def test_gap_heuristics_are_feasible_and_near_optimal(benchmarks, instance):
    problem = load_instance("gap", instance, benchmarks)
    greedy = cutslack.solve(problem, method="gap-greedy")
    check_result(problem, greedy, reach_known=False)
    ils = cutslack.solve(problem, method="gap-ils", rng=1, time_limit=1.0)
    check_result(problem, ils, reach_known=False)
    assert ils.objective >= greedy.objective
    assert ils.objective >= 0.98 * problem.known_optimum.value


def test_scp_heuristics_are_feasible_and_near_optimal():
    problem = load_shipped("scp41")
    greedy = cutslack.solve(problem, method="scp-greedy")
    check_result(problem, greedy, reach_known=False)
    assert greedy.bound is not None and greedy.bound <= 429
    ils = cutslack.solve(problem, method="scp-ils", rng=1, time_limit=1.0)
    check_result(problem, ils, reach_known=False)
    assert ils.objective <= greedy.objective
    assert ils.objective <= 1.03 * 429


def test_flagship_heuristic_dispatches_to_the_ils_methods():
    gap, cover = random_gap(3, 12, rng=5), random_set_cover(20, 50, 0.1, rng=6)
    assert cutslack.solve(gap, method="heuristic", rng=0, max_no_improve=50).method == "gap-ils"
    assert cutslack.solve(cover, method="heuristic", rng=0, max_no_improve=50).method == "scp-ils"


@pytest.mark.parametrize("method, make", [
    ("gap-ils", lambda: random_gap(6, 40, kind="d", rng=7)),
    ("scp-ils", lambda: random_set_cover(60, 300, 0.04, rng=8)),
])
def test_ils_is_deterministic_and_stops_on_stagnation(method, make):
    problem = make()
    first = cutslack.solve(problem, method=method, rng=11, max_no_improve=300)
    second = cutslack.solve(problem, method=method, rng=11, max_no_improve=300)
    assert np.array_equal(first.x, second.x) and first.nit == second.nit
    assert first.feasible and first.info["stop"] in ("stagnation", "bound")


def test_ils_honours_the_time_limit():
    problem = random_set_cover(200, 2000, 0.02, rng=9)
    cutslack.solve(problem, method="scp-ils", rng=0, max_no_improve=10)  # Numba kernels loaded before timing
    result = cutslack.solve(problem, method="scp-ils", rng=0, time_limit=0.5)
    assert result.feasible and result.wall_time <= 0.5 + 1.0
    assert result.status in (Status.TIME_LIMIT, Status.OPTIMAL)


def test_lp_bounds_are_valid_and_dispatched(benchmarks):
    gap = load_instance("gap", "gap2#3", benchmarks)
    bound = gap_lp_bound(gap)
    assert bound.sense == "max" and bound.effective >= gap.known_optimum.value
    assert cheap_bound(gap).value == bound.value
    cover = load_shipped("scp45")
    lower = set_cover_lp_bound(cover)
    assert lower.sense == "min" and lower.effective <= cover.known_optimum.value
    assert cheap_bound(cover).value == lower.value


@pytest.mark.parametrize("make", [
    lambda: random_gap(5, 30, kind="c", rng=1), lambda: random_gap(5, 30, kind="d", rng=2),
    lambda: random_gap(8, 40, kind="e", rng=3), lambda: random_set_cover(50, 200, 0.05, rng=4),
], ids=["gap-c", "gap-d", "gap-e", "setcover"])
def test_repair_makes_random_bit_vectors_feasible(make):
    problem = make()
    assert problem.family in REPAIRABLE_FAMILIES
    bp = problem.to_binary()
    X = np.random.default_rng(5).integers(0, 2, size=(30, bp.n))
    R = repair(problem, X)
    assert R.shape == X.shape and bp.is_feasible(R).all()
    assert all(problem.is_feasible(bp.decode_bits(r)) for r in R)
    assert np.array_equal(repair(problem, X), R)


def test_set_cover_repair_leaves_no_redundant_column():
    problem = load_shipped("scp42")
    R = repair(problem, np.random.default_rng(6).integers(0, 2, size=(10, problem.n)))
    for x in R:
        coverage = problem.coverage(x)
        for j in np.flatnonzero(x):
            rows = problem.cover[:, j].nonzero()[0]
            assert np.any(coverage[rows] == 1), f"column {j} is redundant"


def test_gap_repair_never_worsens_a_feasible_assignment(benchmarks):
    from cutslack.problems.generalized_assignment import encode_gap_agents

    problem = load_instance("gap", "gap3#4", benchmarks)
    start = cutslack.solve(problem, method="gap-greedy").x
    bits = encode_gap_agents(start, problem.m)
    out = problem.to_binary().decode_bits(repair(problem, bits))
    assert problem.is_feasible(out) and problem.evaluate(out) >= problem.evaluate(start)


@pytest.mark.parametrize("method, make", [
    ("gap-ils", lambda: random_gap(6, 40, kind="d", rng=12)),
    ("scp-ils", lambda: random_set_cover(200, 2000, 0.02, rng=9)),   # LP bound not reached in two chunks
])
def test_ils_reports_to_the_callback_and_stops_when_asked(method, make):
    problem = make()
    seen = []

    def callback(intermediate):
        seen.append(intermediate.objective)
        if len(seen) == 2:
            raise StopIteration

    result = cutslack.solve(problem, method=method, rng=0, callback=callback, max_no_improve=float("inf"))
    assert len(seen) == 2 and result.status is Status.STOPPED and result.feasible
    assert result.objective == problem.evaluate(result.x)
