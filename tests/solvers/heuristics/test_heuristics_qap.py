"""QAP heuristics: robust tabu search and annealing on QAPLIB, swap deltas, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import cutslack
from cutslack.errors import InvalidInstanceError
from cutslack.problems.library import load_instance
from cutslack.problems.qap import QuadraticAssignment, random_qap
from cutslack.result import Status
from cutslack.solvers.classical.heuristics.qap import swap_delta


@pytest.mark.parametrize("name", ["nug12", "chr12a", "had12"])
def test_tabu_reaches_qaplib_optimum(benchmarks, name):
    problem = load_instance("qap", name, benchmarks)
    res = cutslack.solve(problem, method="qap-tabu", rng=1, max_iter=100_000,
                         target=problem.known_optimum.value)
    assert res.feasible
    assert res.objective == problem.known_optimum.value


def test_anneal_is_close_on_nug12(benchmarks):
    problem = load_instance("qap", "nug12", benchmarks)
    res = cutslack.solve(problem, method="qap-anneal", rng=0, restarts=3)
    assert res.feasible
    assert res.objective <= 1.03 * problem.known_optimum.value


def test_swap_delta_matches_rescoring_on_asymmetric_data():
    g = np.random.default_rng(0)
    problem = QuadraticAssignment(g.integers(0, 9, (9, 9)), g.integers(0, 9, (9, 9)))
    A, B = np.array(problem.flow, float), np.array(problem.distance, float)
    p = g.permutation(9)
    for r, s in itertools.combinations(range(9), 2):
        q = p.copy()
        q[r], q[s] = q[s], q[r]
        assert swap_delta(A, B, p, r, s) == pytest.approx(problem.evaluate(q) - problem.evaluate(p))


def test_tabu_beats_random_and_is_deterministic():
    problem = random_qap(20, rng=3)
    a = cutslack.solve(problem, method="qap-tabu", rng=5, max_iter=3000)
    b = cutslack.solve(problem, method="qap-tabu", rng=5, max_iter=3000)
    assert np.array_equal(a.x, b.x)
    rand = problem.evaluate(np.random.default_rng(0).permutation(20))
    assert a.objective < 0.9 * rand


def test_time_limit_and_callback():
    problem = random_qap(30, rng=1)
    res = cutslack.solve(problem, method="qap-tabu", rng=0, time_limit=0.3)
    assert res.status is Status.TIME_LIMIT and res.feasible and res.wall_time < 1.5

    def stop(_):
        raise StopIteration

    assert cutslack.solve(problem, method="qap-anneal", rng=0, callback=stop).status is Status.STOPPED


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_instances_are_exact(n):
    problem = random_qap(n, rng=n)
    best = min(problem.evaluate(np.array(p)) for p in itertools.permutations(range(n)))
    for method in ("qap-tabu", "qap-anneal"):
        res = cutslack.solve(problem, method=method, rng=0)
        assert res.status is Status.OPTIMAL and res.objective == best


def test_matrices_of_different_sizes_are_rejected():
    with pytest.raises(InvalidInstanceError, match="distance"):
        QuadraticAssignment(np.ones((3, 3)), np.ones((4, 4)))
    with pytest.raises(InvalidInstanceError, match="flow"):
        QuadraticAssignment(np.full((3, 3), np.nan), np.ones((3, 3)))


def test_bad_initial_permutation():
    with pytest.raises(InvalidInstanceError, match="initial"):
        cutslack.solve(random_qap(10, rng=0), method="qap-tabu", initial=[0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
