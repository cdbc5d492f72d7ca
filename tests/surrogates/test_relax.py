"""Learned SOR relaxation: solvers against SciPy, iteration counts, bandits, sequences, bad input."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sla

from cutslack.errors import InvalidInstanceError
from cutslack.surrogates import relax
from cutslack.surrogates.relax import (DEFAULT_OMEGAS, SSORPCG, ContextualTsallisINF, LearnedRelaxation,
                                       TsallisINF, grid_costs, hindsight_baselines, random_shifted_laplacians,
                                       shifted_laplacian, solve_sequence, sor, ssor_pcg,
                                       tsallis_inf_probabilities)


@pytest.fixture(scope="module")
def system():
    A, b, c = next(iter(random_shifted_laplacians(8, 1, rng=3)))
    return A, b, c


@pytest.fixture(scope="module")
def sequence():
    return list(random_shifted_laplacians(6, 150, rng=11))


# --- solvers -----------------------------------------------------------------------------

@pytest.mark.parametrize("solver", [sor, ssor_pcg])
@pytest.mark.parametrize("omega", [0.7, 1.0, 1.5, 1.9])
def test_solution_matches_spsolve(system, solver, omega):
    A, b, _ = system
    out = solver(A, b, omega, tol=1e-10)
    exact = sla.spsolve(A.tocsc(), b)
    assert out.converged and out.reason == "converged"
    assert np.linalg.norm(b - A @ out.x) / np.linalg.norm(b) < 1e-10
    assert out.residual == pytest.approx(np.linalg.norm(b - A @ out.x) / np.linalg.norm(b))
    assert np.linalg.norm(out.x - exact) <= 1e-8 * np.linalg.norm(exact)
    assert out.omega == omega and out.cost == out.iterations > 0


def test_sor_omega_one_is_gauss_seidel(system):
    A, b, _ = system
    lower = sp.tril(A, format="csr")
    x = np.zeros_like(b)
    gs_iterations = 0
    while np.linalg.norm(b - A @ x) >= 1e-8 * np.linalg.norm(b):
        x = x + sla.spsolve_triangular(lower, b - A @ x, lower=True)
        gs_iterations += 1
    out = sor(A, b, 1.0)
    assert out.iterations == gs_iterations
    np.testing.assert_allclose(out.x, x, rtol=1e-10, atol=1e-12)


def test_ssor_pcg_matches_scipy_cg_with_the_same_preconditioner(system):
    A, b, _ = system
    omega = 1.4
    D = sp.diags(A.diagonal())
    lower = sp.csr_matrix(D + omega * sp.tril(A, -1))
    upper = sp.csr_matrix(D + omega * sp.triu(A, 1))

    def apply(r):
        y = sla.spsolve_triangular(lower, r, lower=True)
        return omega * (2 - omega) * sla.spsolve_triangular(upper, D @ y, lower=False)

    M = sla.LinearOperator(A.shape, matvec=apply)
    count = []
    x, info = sla.cg(A, b, rtol=1e-8, atol=0.0, M=M, callback=lambda xk: count.append(1))
    out = ssor_pcg(A, b, omega)
    assert info == 0 and abs(out.iterations - len(count)) <= 1
    assert out.iterations < sor(A, b, omega).iterations  # CG is much faster than plain SOR here


def test_sor_iterations_fall_then_rise_in_omega(system):
    A, b, _ = system
    its = [sor(A, b, w).iterations for w in (1.0, 1.3, 1.6, 1.99)]
    assert its[0] > its[1] > its[2] and its[3] > its[2]


def test_non_convergence_is_reported(system):
    A, b, _ = system
    capped = sor(A, b, 1.0, max_iter=3)
    assert not capped.converged and capped.reason == "max_iter" and capped.iterations == 3 and capped.cost == 3
    assert capped.residual > 1e-8
    # symmetric indefinite: SOR diverges, CG breaks down -- said so, not a silent wrong answer
    indefinite = sp.csr_matrix(np.array([[1.0, 3.0], [3.0, 1.0]]))
    diverged = sor(indefinite, np.ones(2), 1.0)
    assert not diverged.converged and diverged.reason == "diverged" and diverged.cost == 10_000
    broken = ssor_pcg(shifted_laplacian(4, -3.0), np.ones(16), 1.0)
    assert not broken.converged and broken.reason == "breakdown"


def test_dense_input_and_zero_rhs(system):
    A, b, _ = system
    dense = sor(A.toarray(), b, 1.5)
    assert dense.converged and dense.iterations == sor(A, b, 1.5).iterations
    zero = ssor_pcg(A, np.zeros(A.shape[0]), 1.5)
    assert zero.converged and zero.iterations == 0 and not np.any(zero.x)


# --- bad input -----------------------------------------------------------------------------

def test_bad_input_raises_clear_errors(system):
    A, b, _ = system
    with pytest.raises(InvalidInstanceError, match="'A'.*square"):
        sor(sp.random(4, 5, density=0.5, format="csr", random_state=0), np.ones(4), 1.0)
    with pytest.raises(InvalidInstanceError, match="'b'.*length 64"):
        sor(A, np.ones(63), 1.0)
    with pytest.raises(InvalidInstanceError, match="'b'"):
        ssor_pcg(A, np.ones((64, 2)), 1.0)
    for omega in (0.0, 2.0, -1.0, 2.5, float("nan"), "1.2"):
        with pytest.raises(ValueError, match="omega"):
            sor(A, b, omega)
    with pytest.raises(InvalidInstanceError, match="diagonal"):
        sor(sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 2.0]])), np.ones(2), 1.0)
    with pytest.raises(InvalidInstanceError, match="symmetric"):
        ssor_pcg(sp.csr_matrix(np.array([[2.0, 1.0], [0.0, 2.0]])), np.ones(2), 1.0)
    with pytest.raises(InvalidInstanceError, match="NaN"):
        sor(A, np.full(64, np.nan), 1.0)
    with pytest.raises(ValueError, match="tol"):
        sor(A, b, 1.0, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        sor(A, b, 1.0, max_iter=0)
    with pytest.raises(ValueError, match="grid"):
        TsallisINF([0.5, 2.0])
    with pytest.raises(ValueError, match="method"):
        solve_sequence([(A, b)], method="jacobi")
    with pytest.raises(ValueError, match="context"):
        solve_sequence([(A, b)], policy="contextual")
    with pytest.raises(ValueError, match="system 0"):
        solve_sequence([A])
    with pytest.raises(RuntimeError):
        TsallisINF().update(10)
    with pytest.raises(InvalidInstanceError, match="'n'"):
        random_shifted_laplacians(0, 5)
    with pytest.raises(ValueError, match="shift distribution"):
        random_shifted_laplacians(4, 5, shift="uniform")


# --- generators --------------------------------------------------------------------------

def test_shifted_laplacian_structure():
    A = shifted_laplacian(5, 0.25)
    assert A.shape == (25, 25) and A.format == "csr"
    np.testing.assert_allclose(A.diagonal(), 4.25)
    assert (A != A.T).nnz == 0
    # row sums: 4 + c minus one per interior neighbour (corners 2, edges 3, interior 4 neighbours)
    sums = np.asarray(A.sum(axis=1)).ravel().reshape(5, 5)
    assert sums[0, 0] == pytest.approx(2.25) and sums[0, 2] == pytest.approx(1.25) and sums[2, 2] == pytest.approx(0.25)


def test_random_shifted_laplacians_are_seeded_and_in_range():
    first = list(random_shifted_laplacians(4, 30, shift="low-variance", rng=5))
    again = list(random_shifted_laplacians(4, 30, shift="low-variance", rng=5))
    assert len(first) == 30
    for (A, b, c), (A2, b2, c2) in zip(first, again):
        assert c == c2 and np.array_equal(b, b2) and (A != A2).nnz == 0
        assert -0.15 <= c <= 0.45 and np.linalg.norm(b) <= 4.0
        np.testing.assert_allclose(A.diagonal(), 4.0 + c)


# --- bandits -----------------------------------------------------------------------------

def test_tsallis_probabilities_normalised_and_ordered():
    p = tsallis_inf_probabilities(np.zeros(7), 1.0)
    np.testing.assert_allclose(p, 1 / 7)
    losses = np.array([5.0, 0.0, 2.0, 40.0])
    for eta in (2.0, 0.3, 0.01):
        p = tsallis_inf_probabilities(losses, eta)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert p[1] > p[2] > p[0] > p[3] > 0


def test_tsallis_inf_concentrates_on_the_cheapest_arm():
    grid = np.linspace(1.0, 1.9, 6)
    cost = np.array([60, 45, 30, 20, 35, 80])
    bandit = TsallisINF(grid, rng=0)
    for _ in range(1500):
        w = bandit.select()
        bandit.update(float(cost[np.flatnonzero(grid == w)[0]]))
    assert np.argmax(bandit.probabilities()) == 3 and bandit.probabilities()[3] > 0.7
    assert np.bincount(bandit.choices, minlength=6).argmax() == 3


def test_bandit_is_deterministic_per_seed(sequence):
    a = solve_sequence(sequence[:40], rng=7)
    b = solve_sequence(sequence[:40], rng=7)
    c = solve_sequence(sequence[:40], rng=8)
    np.testing.assert_array_equal(a.omegas, b.omegas)
    np.testing.assert_array_equal(a.iterations, b.iterations)
    assert not np.array_equal(a.omegas, c.omegas)
    ca = solve_sequence(sequence[:40], policy="contextual", rng=7)
    cb = solve_sequence(sequence[:40], policy="contextual", rng=7)
    np.testing.assert_array_equal(ca.omegas, cb.omegas)


@pytest.mark.parametrize("policy", ["bandit", "contextual"])
def test_bandit_beats_a_bad_fixed_omega(sequence, policy):
    learned = solve_sequence(sequence, policy=policy, rng=2)
    gauss_seidel = solve_sequence(sequence, policy=1.0)
    assert learned.converged.all() and learned.failures == 0
    assert learned.total < 0.8 * gauss_seidel.total
    assert learned.contexts is not None and len(learned) == len(sequence)


def test_contextual_bins_are_separate_learners():
    cb = ContextualTsallisINF(bins=4, context_range=(0.0, 1.0), rng=0)
    np.testing.assert_allclose(cb.centres, [0.125, 0.375, 0.625, 0.875])
    assert cb.bin_of(-5.0) == 0 and cb.bin_of(0.3) == 1 and cb.bin_of(0.9) == 3
    cb.select(0.3)
    cb.update(12)
    assert cb.learners[1].rounds == 1 and all(l.rounds == 0 for i, l in enumerate(cb.learners) if i != 1)


def test_grid_costs_and_baselines(sequence):
    systems = sequence[:25]
    costs = grid_costs(systems)
    assert costs.shape == (25, DEFAULT_OMEGAS.size)
    base = hindsight_baselines(costs)
    assert base["instance_optimal_total"] <= base["best_fixed_total"] == costs.sum(axis=0).min()
    fixed = solve_sequence(systems, policy=float(DEFAULT_OMEGAS[16]))
    np.testing.assert_array_equal(fixed.costs, costs[:, 16])
    with pytest.raises(ValueError, match="shape"):
        hindsight_baselines(costs[:, :5])


def test_ssorpcg_object_learns_across_calls_and_feeds_arbitrary_systems():
    solver = SSORPCG(rng=4)
    rng = np.random.default_rng(0)
    for k in range(15):  # systems that are not Laplacians: random SPD matrices
        B = sp.random(30, 30, density=0.1, random_state=k, format="csr")
        A = sp.csr_matrix(B @ B.T + 3 * sp.identity(30))
        out = solver.solve(A, rng.standard_normal(30))
        assert out.converged and out.method == "ssor-pcg"
    assert len(solver.history) == 15 and solver.learner.rounds == 15
    fixed = LearnedRelaxation("sor", policy=1.3)
    out = fixed.solve(shifted_laplacian(3, 0.0), np.ones(9))
    assert out.omega == 1.3 and out.converged and fixed.policy == "fixed ω=1.3"


def test_learned_solver_inside_a_newton_iteration():
    # Newton on -Δy + y³ = f: every Jacobian A + diag(3y²) is SPD, solved by the learning solver
    A = shifted_laplacian(8)
    f = np.random.default_rng(0).uniform(0.5, 3.0, 64)
    solver = SSORPCG(policy="contextual", rng=0, tol=1e-11, context_range=(0.0, 3.0))
    y = np.zeros(64)
    for _ in range(12):
        residual = A @ y + y ** 3 - f
        if np.linalg.norm(residual) < 1e-9 * np.linalg.norm(f):
            break
        jacobian = sp.csr_matrix(A + sp.diags(3 * y ** 2))
        y = y - solver.solve(jacobian, residual, context=float(np.mean(3 * y ** 2))).x
    assert np.linalg.norm(A @ y + y ** 3 - f) < 1e-9 * np.linalg.norm(f)
    assert 3 <= len(solver.history) <= 12 and all(h.converged for h in solver.history)


def test_module_docstring_examples():
    failures, _ = doctest.testmod(relax, verbose=False)
    assert failures == 0
