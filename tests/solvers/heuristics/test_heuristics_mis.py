"""MIS heuristics: DIMACS / Sloane optima, maximality, weights, trivial graphs, bad input."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

import cutslack
from cutslack.errors import InvalidInstanceError
from cutslack.problems.library import load_instance
from cutslack.problems.mis import MaximumIndependentSet, random_mis
from cutslack.result import Status


@pytest.mark.parametrize("name", ["1dc.64", "1et.64", "johnson8-4-4", "hamming6-4", "MANN_a9"])
def test_ils_reaches_known_optimum(benchmarks, name):
    problem = load_instance("mis", name, benchmarks)
    res = cutslack.solve(problem, method="mis-ils", rng=0, max_iter=50_000, target=problem.known_optimum.value)
    assert res.feasible
    assert res.objective == problem.known_optimum.value


def test_greedy_is_maximal():
    problem = random_mis(120, 0.05, rng=3)
    x = cutslack.solve(problem, method="mis-greedy").x
    assert problem.is_feasible(x)
    for v in np.flatnonzero(x == 0):
        y = x.copy()
        y[v] = 1
        assert not problem.is_feasible(y)


def test_weighted_small_graph_matches_brute_force():
    problem = random_mis(14, 0.3, weighted=True, rng=7)
    best = max(problem.evaluate(np.array(b)) for b in itertools.product([0, 1], repeat=14)
               if problem.is_feasible(np.array(b)))
    res = cutslack.solve(problem, method="mis-ils", rng=0, max_iter=2000)
    assert res.objective == best


def test_determinism_time_limit_and_callback():
    problem = random_mis(300, 0.05, rng=1)
    a = cutslack.solve(problem, method="mis-ils", rng=4, max_iter=3000)
    b = cutslack.solve(problem, method="mis-ils", rng=4, max_iter=3000)
    assert np.array_equal(a.x, b.x)
    assert a.objective >= cutslack.solve(problem, method="mis-greedy").objective
    res = cutslack.solve(problem, method="mis-ils", rng=0, time_limit=0.3, max_no_improve=float("inf"))
    assert res.status is Status.TIME_LIMIT and res.feasible and res.wall_time < 1.5

    def stop(_):
        raise StopIteration

    assert cutslack.solve(problem, method="mis-ils", rng=0, callback=stop).status is Status.STOPPED


@pytest.mark.parametrize("graph,size", [(nx.empty_graph(0), 0), (nx.empty_graph(3), 3), (nx.path_graph(2), 1),
                                        (nx.complete_graph(3), 1), (nx.path_graph(3), 2)])
def test_trivial_graphs(graph, size):
    problem = MaximumIndependentSet(graph)
    for method in ("mis-greedy", "mis-ils"):
        res = cutslack.solve(problem, method=method, rng=0)
        assert res.feasible and res.objective == size


def test_self_loop_is_rejected():
    G = nx.path_graph(4)
    G.add_edge(2, 2)
    with pytest.raises(InvalidInstanceError, match="graph"):
        MaximumIndependentSet(G)


def test_heuristic_dispatch_picks_the_flagship():
    res = cutslack.solve(random_mis(30, 0.2, rng=0), method="heuristic", rng=0, max_iter=500)
    assert res.method == "mis-ils" and res.feasible
