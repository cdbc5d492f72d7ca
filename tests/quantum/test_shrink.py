"""Adaptive graph shrinking: exact reduction, constraint vetoes, and the method on QUBOs and problems."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import cutslack
from cutslack.binary import QUBO
from cutslack.problems import Knapsack, MaximumIndependentSet, random_knapsack, random_mis
from cutslack.quantum.shrink import Shrinking, gw_correlations, sample_correlations, shrink_sampler
from cutslack.testing import brute_force

from .conftest import all_bits


def test_reduced_qubo_energy_equals_the_expanded_energy(dense_qubo):
    shrinking = Shrinking(dense_qubo)
    assert shrinking.try_merge(0, 3, True) and shrinking.try_merge(-1, 0, False) and shrinking.try_merge(1, 2, False)
    reduced = shrinking.reduced_qubo()
    assert reduced.n == 3
    Y = all_bits(3)
    X = shrinking.expand(Y)
    assert np.allclose(reduced.energy(Y), dense_qubo.energy(X))
    assert np.all(X[:, 0] == 0) and np.all(X[:, 3] == 1)  # x3 = 1 - x0, and that group fixed at y = 0


def test_mis_merge_of_neighbours_is_vetoed_but_opposite_merge_is_not():
    program = MaximumIndependentSet(nx.path_graph(3)).to_binary()
    shrinking = Shrinking(program.objective_qubo(), program)
    assert not shrinking.try_merge(0, 1, False)
    assert shrinking.try_merge(0, 1, True) and shrinking.vetoed == 1


def test_knapsack_group_over_capacity_is_vetoed():
    program = Knapsack([1, 1, 1], [[5, 4, 3]], [7]).to_binary()
    shrinking = Shrinking(program.objective_qubo(), program)
    assert not shrinking.try_merge(0, 1, False)      # 5 + 4 > 7
    assert shrinking.try_merge(1, 2, False)          # 4 + 3 = 7
    assert not shrinking.try_merge(-1, 0, True)      # fixing x0 = 1 next to the {1, 2} group: 12 > 7


@pytest.mark.parametrize("method", [gw_correlations, lambda q: sample_correlations(q, rng=0)])
def test_correlations_are_unit_diagonal_and_sign_the_ground_state(method):
    qubo = QUBO(np.array([[-1.0, -4.0], [0.0, -1.0]]))  # both 1: z0 = z1 = -1
    C = method(qubo)
    assert np.allclose(np.diag(C), 1.0, atol=1e-5) and C[1, 2] > 0.5 and C[0, 1] < -0.5


@pytest.mark.parametrize("correlations", ["sdp", "samples"])
def test_shrinking_to_a_budget_keeps_the_ground_state_of_a_small_qubo(correlations, dense_qubo):
    s = shrink_sampler(dense_qubo, budget=3, correlations=correlations, rng=1)
    assert s.info["n_qubits"] == 3 and s.info["merges"] == 3
    assert s.best_energy == pytest.approx(dense_qubo.energy(all_bits(6)).min())
    assert np.allclose(s.energies, dense_qubo.energy(s.X))


@pytest.mark.parametrize("problem", [random_knapsack(14, rng=2), random_mis(14, 0.3, rng=2)],
                         ids=["knapsack", "mis"])
def test_shrink_method_on_constrained_problems_is_feasible_and_near_optimal(problem):
    res = cutslack.solve(problem, method="shrink", rng=0, budget=8, formulation="unbalanced")
    _, optimum = brute_force(problem)
    assert res.feasible and res.n_qubits == 8 and res.objective == pytest.approx(problem.evaluate(res.x))
    assert res.objective >= 0.9 * optimum


def test_shrink_uses_a_quantum_sampler_for_the_reduced_qubo(dense_qubo):
    res = cutslack.solve(dense_qubo, method="shrink", rng=0, budget=4, solver="qaoa",
                         solver_options={"p": 1, "maxiter": 20}, num_reads=32)
    assert res.n_qubits == 4 and res.samples.info["solver"] == "qaoa"
    # every returned state is a full-size assignment with its exact energy, and the best is the ground state
    assert res.samples.X.shape[1] == dense_qubo.n
    assert np.allclose(res.samples.energies, dense_qubo.energy(res.samples.X))
    assert res.objective == pytest.approx(dense_qubo.energy(all_bits(6)).min())
