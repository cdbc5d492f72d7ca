"""TSP heuristics: known optima, move bookkeeping, distance modes, time limit, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import cutslack
from cutslack.errors import InvalidInstanceError, SolverError
from cutslack.problems.library import load_instance
from cutslack.problems.tsp import TravelingSalesman, random_tsp
from cutslack.result import Status
from cutslack.solvers.classical.heuristics.tsp import tsp_distances

CONSTRUCTIONS = ["tsp-nn", "tsp-greedy", "tsp-sfc"]
IMPROVERS = ["tsp-2opt", "tsp-oropt", "tsp-ils"]


@pytest.mark.parametrize("name", ["burma14", "ulysses16", "gr17", "berlin52"])
def test_ils_reaches_tsplib_optimum(benchmarks, name):
    problem = load_instance("tsp", name, benchmarks)
    res = cutslack.solve(problem, method="tsp-ils", rng=3, max_no_improve=20_000)
    assert res.feasible
    assert res.objective == problem.known_optimum.value
    assert res.gap == 0.0


@pytest.mark.parametrize("method", CONSTRUCTIONS + IMPROVERS)
def test_every_method_returns_a_tour(method):
    problem = random_tsp(60, rng=1)
    res = cutslack.solve(problem, method=method, rng=0, **({"max_kicks": 2000} if method == "tsp-ils" else {}))
    assert res.feasible and sorted(res.x.tolist()) == list(range(60))
    assert res.n_vars == 60


def test_improvers_do_not_lose_to_their_start():
    problem = random_tsp(300, rng=2)
    greedy = cutslack.solve(problem, method="tsp-greedy").objective
    two_opt = cutslack.solve(problem, method="tsp-2opt").objective
    ils = cutslack.solve(problem, method="tsp-ils", rng=0, max_kicks=5000)
    assert two_opt < greedy
    assert ils.objective < two_opt
    # the kernel's incremental length bookkeeping matches the re-scored tour
    assert ils.info["tracked_length"] == pytest.approx(ils.objective, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_or_opt_moves_keep_length_bookkeeping_exact(seed):
    # clustered points give many Or-opt moves of both orientations
    problem = random_tsp(150, kind="clustered", rounding="nint", rng=seed)
    res = cutslack.solve(problem, method="tsp-ils", rng=seed, max_kicks=3000, start="sfc")
    assert res.feasible
    assert res.info["tracked_length"] == pytest.approx(res.objective, abs=1e-6)


def test_same_seed_same_tour():
    problem = random_tsp(120, rng=5)
    a = cutslack.solve(problem, method="tsp-ils", rng=11, max_kicks=3000)
    b = cutslack.solve(problem, method="tsp-ils", rng=11, max_kicks=3000)
    assert np.array_equal(a.x, b.x)


@pytest.mark.parametrize("name,kind", [("berlin52", "EUC_2D"), ("att48", "ATT"), ("gr96", "GEO")])
def test_coordinate_metrics_reproduce_tsplib_matrix(benchmarks, name, kind):
    problem = load_instance("tsp", name, benchmarks)
    assert problem.meta.get("edge_weight_type") == kind
    dist = tsp_distances(problem, mode="coordinates")
    assert dist.mode == "coordinates"
    tour = np.random.default_rng(0).permutation(problem.n)
    assert dist.length(tour) == pytest.approx(problem.evaluate(tour))
    res = cutslack.solve(problem, method="tsp-oropt")
    assert res.feasible


def test_large_instance_switches_to_coordinates():
    dist = tsp_distances(random_tsp(2600, rng=4))
    assert dist.mode == "coordinates" and dist.D.size == 1


def test_coordinate_mode_search_matches_its_rescoring():
    problem = random_tsp(400, rng=4)
    res = cutslack.solve(problem, method="tsp-ils", rng=0, max_kicks=3000, distance_mode="coordinates")
    assert res.feasible and res.info["distance_mode"] == "coordinates"
    assert res.info["tracked_length"] == pytest.approx(res.objective, rel=1e-9)
    assert res.objective < cutslack.solve(problem, method="tsp-greedy", distance_mode="coordinates").objective


def test_time_limit_returns_best_so_far():
    problem = random_tsp(1500, rng=6)
    res = cutslack.solve(problem, method="tsp-ils", rng=0, time_limit=0.5)
    assert res.status is Status.TIME_LIMIT and res.feasible
    assert res.wall_time < 1.5


def test_callback_stop_iteration():
    def stop(_):
        raise StopIteration

    res = cutslack.solve(random_tsp(80, rng=1), method="tsp-ils", rng=0, callback=stop)
    assert res.status is Status.STOPPED and res.feasible


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_tiny_instances_are_exact(n):
    problem = random_tsp(n, rng=n)
    for method in CONSTRUCTIONS + IMPROVERS:
        res = cutslack.solve(problem, method=method, rng=0)
        assert res.feasible
    best = min(problem.evaluate(p) for p in __import__("itertools").permutations(range(n)))
    assert cutslack.solve(problem, method="tsp-ils").objective == pytest.approx(best)


def test_asymmetric_matrix_is_rejected_by_symmetric_methods():
    D = np.array(random_tsp(10, rng=0).distance)
    D[0, 1] += 5.0
    problem = TravelingSalesman(D)
    with pytest.raises(InvalidInstanceError, match="distance"):
        cutslack.solve(problem, method="tsp-2opt")
    assert cutslack.solve(problem, method="tsp-nn", rng=0).feasible


def test_nan_and_negative_distances_are_rejected():
    D = np.ones((4, 4))
    D[1, 2] = np.nan
    with pytest.raises(InvalidInstanceError, match="distance"):
        TravelingSalesman(D)
    D[1, 2] = -1.0
    with pytest.raises(InvalidInstanceError, match="distance"):
        TravelingSalesman(D)


def test_space_filling_curve_needs_coordinates():
    problem = TravelingSalesman(np.array(random_tsp(12, rng=0).distance))
    with pytest.raises(SolverError, match="coordinates"):
        cutslack.solve(problem, method="tsp-sfc")


def test_bad_initial_tour():
    with pytest.raises(InvalidInstanceError, match="initial"):
        cutslack.solve(random_tsp(20, rng=0), method="tsp-2opt", initial=[0] * 20)


# ----------------------------------------------------------------- constructions cut short by the deadline


@pytest.mark.parametrize("how", ["nn", "greedy"])
def test_a_construction_cut_short_places_the_remaining_cities_in_curve_order(how):
    from cutslack.api import Run
    from cutslack.solvers.classical.heuristics.tsp import _construct

    problem = random_tsp(3000, rng=4)
    dist = tsp_distances(problem)
    run = Run(rng=0, time_limit=1e-9)
    tour = _construct(problem, dist, how, run)
    assert run.timed_out
    assert np.array_equal(np.sort(tour), np.arange(problem.n))
    full = _construct(problem, dist, how, Run(rng=0))
    assert problem.evaluate(full) < problem.evaluate(tour)  # the completion is a fallback, not the construction


def test_neighbour_lists_cut_short_give_the_curve_tour_with_time_limit():
    from cutslack.api import Run
    from cutslack.solvers.classical.heuristics.tsp import _neighbours_from_points

    problem = random_tsp(40_000, rng=5)
    assert tsp_distances(problem, run=Run(time_limit=1e-9)) is None
    points = problem.coordinates[:, :2]
    neigh = _neighbours_from_points(points, 5)
    assert neigh.shape == (problem.n, 5) and not np.any(neigh == np.arange(problem.n)[:, None])
    for method in ("tsp-nn", "tsp-2opt"):
        res = cutslack.solve(problem, method=method, rng=0, time_limit=1e-6)
        assert res.status is Status.TIME_LIMIT and res.feasible


def test_a_tiny_limit_on_a_small_instance_still_gives_a_descended_tour():
    # below the coordinate-mode size the construction and first descent take milliseconds and
    # always run (within the allowance); only then does the deadline end the search
    problem = random_tsp(300, rng=7)
    res = cutslack.solve(problem, method="tsp-ils", rng=0, time_limit=1e-4)
    assert res.status is Status.TIME_LIMIT and res.info["start"] == "greedy"
    descended = cutslack.solve(problem, method="tsp-oropt", rng=0)
    assert res.objective <= descended.objective
