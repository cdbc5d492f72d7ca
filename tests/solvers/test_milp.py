"""Tests of ``method="milp"`` (Pyomo models solved by HiGHS): known optima of the benchmark
library, brute-force cross-checks, bounds, time limits, callbacks, determinism and bad input."""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pytest

import cutslack
from cutslack.errors import ProblemTooLargeError, SolverError
from cutslack.problems import (MaximumIndependentSet, TravelingSalesman, random_knapsack, random_mdkp, random_mis,
                               random_qap, random_tsp)
from cutslack.problems.library import load_instance
from cutslack.result import Status
from cutslack.solvers.classical.milp_models import edge_clique_cover, patch_cycles
from cutslack.testing import brute_force, check_result, small_instances


def solve_to_known_optimum(problem, **options):
    """Solve with milp and assert it proves the problem's known optimum."""
    result = cutslack.solve(problem, "milp", rng=0, **options)
    check_result(problem, result, optimum=problem.known_optimum.value, rel_tol=1e-9)
    assert result.status is Status.OPTIMAL
    assert result.bound == pytest.approx(problem.known_optimum.value, rel=1e-6)
    assert result.gap == pytest.approx(0.0, abs=1e-6)
    return result


# --- benchmark library -----------------------------------------------------------------------

MKNAP2_DEFAULT = ["WEING1", "WEING2", "WEING3", "WEING4", "WEISH01", "WEISH02", "WEISH03", "WEISH04", "WEISH05",
                  "PB1", "PB2", "PB4", "HP1", "HP2"]
MKNAP2_SLOW = ["SENTO1", "SENTO2", "PB5", "PB6", "PB7"] + [f"WEISH{k:02d}" for k in range(6, 16)]


@pytest.mark.parametrize("index", range(1, 8))
def test_mknap1_all_seven_optimal(benchmarks, index):
    solve_to_known_optimum(load_instance("mdkp", f"mknap1#{index}", benchmarks))


@pytest.mark.parametrize("name", MKNAP2_DEFAULT + [pytest.param(n, marks=pytest.mark.slow) for n in MKNAP2_SLOW])
def test_mknap2_sac94_optimal(benchmarks, name):
    solve_to_known_optimum(load_instance("mdkp", f"mknap2#{name}", benchmarks))


TSPLIB = ["burma14", "ulysses16", "gr17", "gr21", "ulysses22", "gr24", "fri26", "bayg29", "dantzig42", "att48",
          "eil51", "berlin52"]


@pytest.mark.parametrize("name", TSPLIB + [pytest.param("kroA100", marks=pytest.mark.slow)])
def test_tsplib_optimal_tour(benchmarks, name):
    problem = load_instance("tsp", name, benchmarks)
    result = solve_to_known_optimum(problem)
    assert sorted(result.x.tolist()) == list(range(problem.n))
    assert result.nit == len(result.history) >= 1
    assert result.info["subtour_cuts"] == result.history[-1]["cuts"]


@pytest.mark.parametrize("name", ["1dc.64", "1dc.128", "1et.64", "johnson8-2-4", "hamming6-4", "MANN_a9",
                                  pytest.param("keller4", marks=pytest.mark.slow)])
def test_mis_library_optimal(benchmarks, name):
    problem = load_instance("mis", name, benchmarks)
    result = solve_to_known_optimum(problem)
    assert result.info["n_edges"] == problem.size["edges"]


@pytest.mark.parametrize("name", ["1dc.64", "hamming6-4", "MANN_a9"])
def test_mis_clique_cover_formulation_optimal(benchmarks, name):
    problem = load_instance("mis", name, benchmarks)
    result = solve_to_known_optimum(problem, cliques=True)
    assert result.info["n_cliques"] <= problem.size["edges"]


def test_mis_dense_complement_honours_time_limit(benchmarks):
    # c-fat200-1's complement has 18,366 edges; HiGHS must stop near the limit (it proves 12 in ~2 s)
    problem = load_instance("mis", "c-fat200-1", benchmarks)
    start = time.perf_counter()
    result = cutslack.solve(problem, "milp", rng=0, time_limit=5)
    assert time.perf_counter() - start < 12
    check_result(problem, result)


@pytest.mark.slow
def test_qaplib_nug12_bounds(benchmarks):
    problem = load_instance("qap", "nug12", benchmarks)
    result = cutslack.solve(problem, "milp", rng=0, time_limit=30)
    check_result(problem, result)
    # the Adams-Johnson bound of nug12 is about 523; the optimum is 578
    assert 500 <= result.bound <= 578 + 1e-6 <= result.objective + 1e-6


# --- brute-force cross-checks ------------------------------------------------------------------


@pytest.mark.parametrize("family", ["knapsack", "mdkp", "mis", "qap", "tsp"])
def test_small_instances_match_brute_force(family):
    problem = small_instances()[family]
    solve_to_known_optimum(problem)


@pytest.mark.parametrize("n, kind, seed", [(3, "uniform", 1), (4, "uniform", 2), (5, "uniform", 3),
                                           (6, "uniform", 4), (7, "uniform", 5), (5, "grid", 6), (6, "grid", 7),
                                           pytest.param(7, "grid", 8, marks=pytest.mark.slow)])
def test_qap_rlt_matches_brute_force(n, kind, seed):
    problem = random_qap(n, kind=kind, rng=seed)
    _, optimum = brute_force(problem)
    result = cutslack.solve(problem, "milp", rng=0)
    check_result(problem, result, optimum=optimum)
    assert result.status is Status.OPTIMAL
    assert result.n_vars == n * n + n * n * (n - 1) * (n - 1) // 2


def test_asymmetric_tsp_matches_brute_force():
    distance = np.random.default_rng(21).integers(1, 100, size=(8, 8)).astype(float)
    problem = TravelingSalesman(distance, name="atsp8")
    assert not problem.symmetric
    _, optimum = brute_force(problem)
    result = cutslack.solve(problem, "milp", rng=0)
    check_result(problem, result, optimum=optimum)
    assert result.status is Status.OPTIMAL
    assert "arc" in result.info["formulation"]


@pytest.mark.parametrize("n", [1, 2])
def test_trivial_tsp(n):
    problem = random_tsp(n, rng=3)
    result = cutslack.solve(problem, "milp")
    assert result.status is Status.OPTIMAL and result.feasible


def test_weighted_mis_edge_and_clique_models_agree():
    problem = random_mis(16, 0.3, weighted=True, rng=31)
    _, optimum = brute_force(problem)
    for cliques in (True, False):
        result = cutslack.solve(problem, "milp", rng=0, cliques=cliques)
        check_result(problem, result, optimum=optimum)


def test_mis_without_edges_takes_every_vertex():
    graph = nx.empty_graph(5)
    result = cutslack.solve(MaximumIndependentSet(graph), "milp")
    assert result.objective == 5 and result.status is Status.OPTIMAL


@pytest.mark.parametrize("family", ["knapsack", "mis", "qap"])
def test_binary_program_matches_native(family):
    problem = {"knapsack": random_knapsack(12, rng=41), "mis": random_mis(12, 0.3, weighted=True, rng=42),
               "qap": random_qap(4, rng=43)}[family]
    program = problem.to_binary()
    result = cutslack.solve(program, "milp", rng=0)
    _, optimum = brute_force(problem)
    assert result.status is Status.OPTIMAL and result.feasible
    assert result.objective == pytest.approx(optimum)
    assert problem.evaluate(program.decode_bits(result.x)) == pytest.approx(optimum)


# --- run control: time limit, callback, determinism, warm start -------------------------------


@pytest.mark.parametrize("problem", [random_mdkp(250, 10, rng=3), random_tsp(150, rounding="nint", rng=5),
                                     random_qap(12, rng=6)], ids=["mdkp", "tsp", "qap"])
def test_time_limit_returns_feasible_best_so_far(problem):
    from cutslack.reliability import allowed_overshoot

    start = time.perf_counter()
    result = cutslack.solve(problem, "milp", rng=0, time_limit=1.0)
    elapsed = time.perf_counter() - start
    # the limit covers model building too (solve()'s clock; compiling kernels is outside it)
    assert result.wall_time <= 1.0 + allowed_overshoot(1.0)
    assert elapsed <= result.wall_time + result.info["compile_s"] + 0.5
    assert result.status is Status.TIME_LIMIT
    check_result(problem, result)


def test_callback_once_per_cut_round_and_stop():
    problem = random_tsp(40, rounding="nint", rng=7)
    seen = []
    full = cutslack.solve(problem, "milp", rng=0, callback=seen.append)
    assert len(seen) == full.nit >= 2
    assert all(r.feasible for r in seen)

    def stop(intermediate):
        raise StopIteration

    stopped = cutslack.solve(problem, "milp", rng=0, callback=stop)
    assert stopped.status is Status.STOPPED and stopped.feasible and stopped.nit == 1


def test_same_rng_same_result():
    problem = random_mdkp(60, 5, rng=8)
    a = cutslack.solve(problem, "milp", rng=123)
    b = cutslack.solve(problem, "milp", rng=123)
    assert np.array_equal(a.x, b.x) and a.objective == b.objective and a.bound == b.bound
    tsp = random_tsp(30, rounding="nint", rng=9)
    c, d = (cutslack.solve(tsp, "milp", rng=5) for _ in range(2))
    assert np.array_equal(c.x, d.x) and c.nit == d.nit


def test_warm_start_and_relative_gap():
    problem = random_mdkp(40, 5, rng=10)
    exact = cutslack.solve(problem, "milp", rng=0)
    warm = cutslack.solve(problem, "milp", rng=0, warm_start=exact.x)
    assert warm.status is Status.OPTIMAL and warm.objective == exact.objective
    loose = cutslack.solve(problem, "milp", rng=0, mip_rel_gap=0.05)
    check_result(problem, loose)
    assert loose.objective >= (1 - 0.05) * exact.objective
    if loose.status is Status.OPTIMAL:
        assert loose.objective == pytest.approx(loose.bound, abs=1e-6)


# --- helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_edge_clique_cover_covers_every_edge_with_cliques(seed):
    graph = nx.gnp_random_graph(30, 0.5, seed=seed)
    cliques = edge_clique_cover(30, list(graph.edges))
    covered = set()
    for clique in cliques:
        for a in clique:
            for b in clique:
                if a < b:
                    assert graph.has_edge(a, b)
                    covered.add((a, b))
    assert covered == {(min(u, v), max(u, v)) for u, v in graph.edges}


@pytest.mark.parametrize("symmetric", [True, False])
def test_patch_cycles_makes_one_tour(symmetric):
    distance = np.random.default_rng(11).random((9, 9))
    if symmetric:
        distance = distance + distance.T
    tour = patch_cycles([[0, 3, 5], [1, 2], [4, 6, 7, 8]], distance, symmetric)
    assert sorted(tour.tolist()) == list(range(9))


# --- bad input ------------------------------------------------------------------------------


def test_unsupported_problem_says_why():
    with pytest.raises(SolverError, match="milp.*cannot take"):
        cutslack.solve(small_instances()["knapsack"].to_binary().objective_qubo(), "milp")


def test_bad_options_and_warm_start():
    problem = random_knapsack(10, rng=12)
    with pytest.raises(TypeError, match="gap"):
        cutslack.solve(problem, "milp", gap=0.1)
    with pytest.raises(ValueError, match="threads"):
        cutslack.solve(problem, "milp", threads=0)
    with pytest.raises(ValueError, match="warm_start"):
        cutslack.solve(problem, "milp", warm_start=np.ones(10, dtype=int))


def test_large_qap_refused_before_building():
    with pytest.raises(ProblemTooLargeError, match="RLT"):
        cutslack.solve(random_qap(25, rng=13), "milp")
