"""The sampled slack-free QUBO on every row type: ``=`` (one-hot and general), ``≥`` (negated ``≤``),
ranged pairs and mixed-sign rows; scaling, warm start, active rows, schedules, INFEASIBLE status."""

import itertools

import numpy as np
import pytest

import cutslack
from cutslack.binary import BinaryProgram
from cutslack.result import Status
from cutslack.solvers.qubo import penalty_qubo
from cutslack.solvers.qubo.augmented import (DEFAULT_RHO_EQUALITY, RHO_EQUALITY_RANGE, augmented_slackfree_qubo,
                                             augmented_start, lp_relaxation_duals, scale_program)
from cutslack.solvers.qubo.lagrangian import Multipliers, lagrangian_energy


def _all_bits(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.uint8)


def test_equality_rows_are_scaled_like_inequality_rows(rowtypes):
    bp = rowtypes.gap_like(2, 4, 3)
    bp = BinaryProgram(c=bp.c, sense="max", A_le=bp.A_le, b_le=bp.b_le, A_eq=3.0 * bp.A_eq, b_eq=3.0 * bp.b_eq)
    sc = scale_program(bp)
    assert sc.row_unit.shape == (bp.m_le + bp.m_eq,)
    np.testing.assert_allclose(sc.row_unit[bp.m_le:], 3.0)                 # mean |a_ij| of each equality row
    np.testing.assert_allclose(sc.scaled.b_eq, 1.0)
    X = _all_bits(bp.n)
    np.testing.assert_array_equal(bp.is_feasible(X), sc.scaled.is_feasible(X))
    lam = np.arange(1.0, bp.n_constraints + 1.0) * np.where(np.arange(bp.n_constraints) < bp.m_le, 1.0, -1.0)
    np.testing.assert_allclose(sc.multipliers_to_original(sc.multipliers_to_scaled(lam)), lam)


def test_lp_duals_of_negated_cover_rows_are_nonnegative_and_price_only_binding_rows(rowtypes):
    bp = rowtypes.scp_like(8, 12, 4)
    x, duals = lp_relaxation_duals(bp)
    slack = bp.b_le - np.asarray(bp.A_le @ x).reshape(-1)
    assert np.all(duals >= 0) and np.all(duals * slack <= 1e-7)
    start = augmented_start(bp)
    np.testing.assert_array_equal(start.active, start.multipliers[:bp.m_le] > 1e-9)
    assert start.active.any() and np.all(slack[start.active] <= 1e-7)


def test_equality_lp_duals_are_free_and_reproduce_the_lp_value(rowtypes):
    bp = rowtypes.gap_like(3, 4, 5)
    x, duals = lp_relaxation_duals(bp)
    lam, nu = duals[:bp.m_le], duals[bp.m_le:bp.m_le + bp.m_eq]
    assert np.all(lam >= 0) and np.any(nu != 0)
    # LP duality in minimisation form: min (-c + A_le'λ + A_eq'ν)'x over the box, minus λ'b - ν'b
    reduced = -bp.c + np.asarray(bp.A_le).T @ lam + np.asarray(bp.A_eq).T @ nu
    dual_value = np.minimum(reduced, 0).sum() - lam @ bp.b_le - nu @ bp.b_eq
    assert dual_value == pytest.approx(-bp.c @ x, rel=1e-7)


def test_only_one_side_of_a_ranged_pair_starts_active(rowtypes):
    for seed in range(6):
        bp = rowtypes.ranged(12, seed)
        start = augmented_start(bp)
        assert not (start.active[0] and start.active[1])


def test_a_violated_ranged_side_switches_its_quadratic_term_on():
    # minimise a positive cost with 6 <= w'x <= 12: samples at the all-zero corner violate the
    # lower side; it starts inactive (zero multiplier) and must switch on after one iteration
    w = np.array([3.0, 4.0, 2.0, 5.0, 3.0, 4.0])
    bp = BinaryProgram(c=[2.0, 3.0, 1.0, 4.0, 2.0, 3.0], A_le=np.vstack([w, -w, np.ones(6)]), b_le=[12.0, -6.0, 4.0])
    start = augmented_start(bp, initial_multipliers=[0.0, 0.0, 1.0])
    assert start.active.tolist() == [False, False, True]
    res = cutslack.solve(bp, method="lagrangian", rng=0, num_reads=16, maxiter=3, patience=3,
                         initial_multipliers=[0.0, 0.0, 1.0])
    assert res.history[0]["active"].tolist() == [False, True, True]


def test_augmented_qubo_energy_with_equalities_is_the_documented_expression(rowtypes):
    bp = rowtypes.gap_like(2, 4, 7)
    q, inv = augmented_slackfree_qubo(bp, rho=0.3, rho_equality=0.9)
    assert q.n == bp.n and inv.n_slack == 0
    start = augmented_start(bp, rho=0.3)
    sc = start.scaling.scaled
    X = _all_bits(bp.n)
    expected = lagrangian_energy(sc, X, Multipliers.from_flat(sc, start.multipliers), rho=0.9,
                                 rho_inequality=start.rho_inequality(0.3))
    np.testing.assert_allclose(q.energy(X), expected)


def test_equality_rows_follow_their_own_rho_schedule(rowtypes):
    bp = rowtypes.gap_like(3, 5, 1)
    res = cutslack.solve(bp, method="lagrangian", rng=0, num_reads=8, maxiter=9, patience=20)
    rhos = [h["rho_equality"] for h in res.history]
    assert rhos[0] == pytest.approx(DEFAULT_RHO_EQUALITY)
    expected = [min(DEFAULT_RHO_EQUALITY * 2.0**k, RHO_EQUALITY_RANGE * DEFAULT_RHO_EQUALITY) for k in range(len(rhos))]
    np.testing.assert_allclose(rhos, expected)
    res2 = cutslack.solve(bp, method="lagrangian", rng=0, num_reads=8, maxiter=2, rho_equality=1.5)
    assert res2.history[0]["rho_equality"] == pytest.approx(1.5)
    with pytest.raises(cutslack.InvalidInstanceError, match="rho_equality"):
        cutslack.solve(bp, method="lagrangian", rng=0, rho_equality=-1.0)


def test_a_linear_equality_only_program_takes_the_augmented_form(rowtypes):
    # set partitioning: each element exactly once
    A = np.array([[1, 1, 0, 0, 1], [0, 1, 1, 0, 0], [0, 0, 1, 1, 1]], dtype=float)
    bp = BinaryProgram(c=[3.0, 2.0, 4.0, 1.0, 6.0], A_eq=A, b_eq=np.ones(3))
    res = cutslack.solve(bp, method="lagrangian", rng=0, num_reads=8, maxiter=4)
    assert res.info["formulation"].startswith("augmented")
    assert rowtypes.brute_force_program(bp)[1] == 3.0                    # {x1, x3}
    assert res.feasible and res.objective == pytest.approx(3.0)
    assert res.info["repair"] == "generic"


CASES = {"gap": lambda rt: rt.gap_like(3, 5, 2), "scp": lambda rt: rt.scp_like(8, 14, 3),
         "ranged": lambda rt: rt.ranged(14, 1), "mixed": lambda rt: rt.mixed_sign(12, 4)}


@pytest.mark.parametrize("case", list(CASES))
def test_sampled_slackfree_reaches_the_brute_force_optimum(rowtypes, case):
    bp = CASES[case](rowtypes)
    _, best = rowtypes.brute_force_program(bp)
    res = cutslack.solve(bp, method="lagrangian", rng=0, num_reads=16, maxiter=10)
    assert res.feasible and res.objective == pytest.approx(best)
    assert res.n_qubits == bp.n                                           # slack-free: the program's own bits
    assert res.info["repair"] == "generic"
    pen = cutslack.solve(bp, method="penalty", rng=0, num_reads=16, rounds=2, rule="qiskit")
    assert pen.n_qubits == penalty_qubo(bp, rule="qiskit")[1].n_qubo > bp.n
    assert pen.info["repair"] == "generic" and pen.feasible


@pytest.mark.parametrize("method", ["lagrangian", "penalty", "unbalanced"])
def test_an_infeasible_relaxation_ends_with_status_infeasible(method):
    # x0 + x1 <= 0.5 and x0 + x1 >= 1.5 (stored negated): no point of the box satisfies both
    bp = BinaryProgram(c=[1.0, 2.0, 3.0], A_le=[[1, 1, 0], [-1, -1, 0]], b_le=[0.5, -1.5], A_eq=[[0, 0, 1]], b_eq=[1])
    res = cutslack.solve(bp, method=method, rng=0, num_reads=4)
    assert res.status is Status.INFEASIBLE and res.x is None and not res.feasible
    assert "LP relaxation is infeasible" in res.info["message"]
