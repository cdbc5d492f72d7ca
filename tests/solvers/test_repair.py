"""Tests of cutslack.solvers.repair: every family's repair returns feasible, locally improved bit vectors."""

import itertools

import numpy as np
import pytest

from cutslack.errors import SolverError
from cutslack.problems import random_knapsack, random_mdkp, random_mis, random_qap, random_tsp
from cutslack.solvers.classical.heuristics.qap import swap_delta as _qap_swap_delta
from cutslack.solvers.repair import repair, repair_knapsack


@pytest.mark.parametrize("problem", [random_mdkp(25, 4, rng=1), random_knapsack(30, rng=2), random_mis(30, 0.2, rng=3),
                                     random_mis(20, 0.4, weighted=True, rng=4), random_qap(7, rng=5), random_tsp(7, rng=6)],
                         ids=["mdkp", "knapsack", "mis", "mis-weighted", "qap", "tsp"])
def test_repair_returns_feasible_program_bits(problem):
    bp = problem.to_binary()
    X = np.random.default_rng(7).integers(0, 2, size=(40, bp.n))
    R = repair(problem, X, rng=8)
    assert R.shape == X.shape
    assert bp.is_feasible(R).all()
    natives = [bp.decode_bits(r) for r in R]
    assert all(problem.is_feasible(x) for x in natives)


def test_knapsack_repair_is_maximal_and_keeps_feasible_optimum():
    p = random_mdkp(20, 3, rng=9)
    R = repair(p, np.ones((5, 20)))
    load = R @ p.weights.T
    for x, used in zip(R, load):
        free = np.flatnonzero(x == 0)
        fits = np.all(used[:, None] + p.weights[:, free] <= p.capacities[:, None], axis=0)
        assert not fits.any(), "an item that fits was left out"
    # a feasible vector is never made worse
    x0 = repair(p, np.zeros(20))
    again = repair(p, x0)
    assert p.evaluate(again) >= p.evaluate(x0)


def test_knapsack_repair_uses_multipliers_for_ratios():
    p = random_mdkp(15, 2, rng=10)
    a = repair_knapsack(p, np.ones(15), multipliers=[1.0, 0.0], swap_round=False)
    b = repair_knapsack(p, np.ones(15), multipliers=[0.0, 1.0], swap_round=False)
    assert p.is_feasible(a) and p.is_feasible(b)
    assert not np.array_equal(a, b)


def test_mis_repair_removes_most_conflicted_vertex_first():
    import networkx as nx
    from cutslack.problems import MaximumIndependentSet

    star = MaximumIndependentSet(nx.star_graph(5))  # centre 0 conflicts with all leaves
    out = repair(star, np.ones(6))
    assert out.tolist() == [0, 1, 1, 1, 1, 1]


def test_mis_repair_scales_to_large_sparse_graphs_and_returns_maximal_sets():
    from cutslack.problems import random_regular_mis

    p = random_regular_mis(20_000, 3, rng=9)  # the scan it replaced took minutes here
    X = np.random.default_rng(10).integers(0, 2, size=(4, p.n))
    R = repair(p, X)
    assert all(p.is_feasible(r) for r in R)
    u, v = p.edges[:, 0], p.edges[:, 1]
    for r in R:  # maximal: every unchosen vertex has a chosen neighbour
        covered = np.zeros(p.n, dtype=bool)
        covered[u[r[v] == 1]] = True
        covered[v[r[u] == 1]] = True
        assert np.all((r == 1) | covered)


def test_qap_swap_delta_matches_recomputed_cost():
    q = random_qap(7, rng=11)
    perm = np.random.default_rng(12).permutation(7)
    base = q.evaluate(perm)
    for r, s in itertools.combinations(range(7), 2):
        p2 = perm.copy()
        p2[[r, s]] = p2[[s, r]]
        assert np.isclose(q.evaluate(p2) - base, _qap_swap_delta(q.flow, q.distance, perm, r, s))


def test_qap_repair_reaches_a_two_swap_local_optimum():
    q = random_qap(6, rng=13)
    bp = q.to_binary()
    R = repair(q, np.zeros((3, 36)), rng=14)
    for bits in R:
        perm = bp.decode_bits(bits)
        deltas = [_qap_swap_delta(q.flow, q.distance, perm, r, s) for r, s in itertools.combinations(range(6), 2)]
        assert min(deltas) >= -1e-9


def test_tsp_repair_two_opt_finds_small_optimum():
    t = random_tsp(6, rng=15)
    best = min(t.evaluate(np.array((0,) + p)) for p in itertools.permutations(range(1, 6)))
    bp = t.to_binary()
    R = repair(t, np.random.default_rng(16).integers(0, 2, size=(10, 36)), rng=17)
    assert min(t.evaluate(bp.decode_bits(r)) for r in R) == pytest.approx(best)


def test_repair_same_rng_same_output():
    q = random_qap(6, rng=18)
    X = np.zeros((4, 36))
    assert np.array_equal(repair(q, X, rng=3), repair(q, X, rng=3))


def test_repair_unknown_family_raises_solver_error():
    class Other:
        family = "robust"

    with pytest.raises(SolverError, match="no repair for problem family 'robust'"):
        repair(Other(), np.zeros((1, 3)))


@pytest.mark.parametrize("symmetric", [True, False])
def test_tsp_repair_leaves_no_improving_two_opt_move(symmetric):
    from cutslack.problems import TravelingSalesman

    g = np.random.default_rng(21)
    D = g.integers(1, 100, size=(9, 9)).astype(float)
    if symmetric:
        D = np.triu(D, 1) + np.triu(D, 1).T
    t = TravelingSalesman(D)
    X = g.integers(0, 2, size=(5, 81))
    for x in repair(t, X, rng=0):
        tour = t.to_binary().decode_bits(x)
        length = t.evaluate(tour)
        for i in range(1, 8):
            for j in range(i + 1, 9):
                other = tour.copy()
                other[i:j + 1] = other[i:j + 1][::-1]
                assert t.evaluate(other) >= length - 1e-9
