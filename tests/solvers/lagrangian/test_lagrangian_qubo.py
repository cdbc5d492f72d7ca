"""Tests of the slack-free Lagrangian QUBO (cutslack.solvers.qubo.lagrangian): the energy is the documented
expression, no slack bits, weak duality, and the link to unbalanced penalization."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutslack.binary import BinaryProgram
from cutslack.errors import InvalidInstanceError
from cutslack.problems import random_mdkp
from cutslack.solvers.qubo import penalty_qubo, sample_qubo, unbalanced_qubo
from cutslack.solvers.qubo.lagrangian import (LagrangianForm, Multipliers, constraint_residuals,
                                              lagrangian_energy, lagrangian_qubo)
from cutslack.testing import brute_force


@st.composite
def programs_and_multipliers(draw, separable: bool = False):
    n = draw(st.integers(2, 7))
    seed = draw(st.integers(0, 2**31))
    g = np.random.default_rng(seed)
    m_le, m_eq = draw(st.integers(0, 3)), draw(st.integers(0, 2))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    n_conf = 0 if separable else draw(st.integers(0, min(3, len(pairs))))
    conf = [pairs[k] for k in g.choice(len(pairs), size=n_conf, replace=False)]
    quadratic = False if separable else draw(st.booleans())
    bp = BinaryProgram(c=g.integers(-9, 10, n), Q=g.integers(-5, 6, (n, n)) if quadratic else None,
                       const=float(g.integers(-3, 4)), sense=draw(st.sampled_from(["min", "max"])),
                       A_le=g.integers(0, 6, (m_le, n)), b_le=g.integers(0, 10, m_le),
                       A_eq=g.integers(0, 3, (m_eq, n)), b_eq=g.integers(0, 4, m_eq), conflicts=conf or None)
    lam = np.concatenate([g.random(m_le) * 5, g.normal(size=m_eq) * 5, g.random(len(conf)) * 5])
    rho = float(draw(st.sampled_from([0.0, 0.5, 3.0])))
    rho_le = draw(st.sampled_from([0.0, 1.5]))
    X = g.integers(0, 2, (8, n))
    return bp, Multipliers.from_flat(bp, lam), rho, rho_le, X


@settings(max_examples=60, deadline=None)
@given(programs_and_multipliers())
def test_qubo_energy_equals_documented_lagrangian(case):
    bp, mult, rho, rho_le, X = case
    q = LagrangianForm(bp, rho=rho, rho_inequality=rho_le).qubo(mult)
    assert q.n == bp.n  # no slack bits
    sign = -1.0 if bp.sense == "max" else 1.0
    A_le, b_le, A_eq, b_eq = bp.dense_constraints()
    for x in X:
        g_le, g_eq = A_le @ x - b_le, A_eq @ x - b_eq
        g_conf = np.array([x[i] * x[j] for i, j in bp.conflicts])
        expected = (sign * bp.objective(x) + mult.inequality @ g_le + mult.equality @ g_eq
                    + mult.conflict @ g_conf + rho / 2 * g_eq @ g_eq + rho_le / 2 * g_le @ g_le)
        assert q.energy(x) == pytest.approx(expected, abs=1e-8)
        assert lagrangian_energy(bp, x, mult, rho=rho, rho_inequality=rho_le) == pytest.approx(expected, abs=1e-8)


@settings(max_examples=30, deadline=None)
@given(programs_and_multipliers(separable=True))
def test_separable_minimiser_is_exact(case):
    bp, mult, _, _, _ = case
    form = LagrangianForm(bp)
    assert form.separable  # a linear objective without conflict pairs: every example reaches the check
    x, value = form.minimise_separable(mult)
    exhaustive = sample_qubo(form.qubo(mult), "exhaustive")
    assert value == pytest.approx(exhaustive.best_energy, abs=1e-8)
    assert form.qubo(mult).energy(x) == pytest.approx(value, abs=1e-8)


def test_weak_duality_on_small_knapsack():
    p = random_mdkp(10, 2, rng=3)
    _, optimum = brute_force(p)
    bp = p.to_binary()
    form = LagrangianForm(bp)
    for lam in ([0.0, 0.0], [0.5, 1.0], [3.0, 0.1]):
        _, d = form.minimise_separable(Multipliers.from_flat(bp, lam))
        assert -d >= optimum - 1e-9  # max problem: -d(λ) is an upper bound


def test_lagrangian_qubo_returns_identity_inverse_and_doc_example():
    from cutslack.problems import Knapsack

    bp = Knapsack([10, 7, 4], [[5, 4, 3]], [7]).to_binary()
    q, inv = lagrangian_qubo(bp, [2.0])
    assert (q.n, inv.n_original, inv.n_qubo) == (3, 3, 3)
    assert q.energy([1, 0, 0]) == pytest.approx(-14.0)
    assert inv.original_bits(np.array([1, 0, 1])).tolist() == [1, 0, 1]


def test_augmented_inequalities_equal_unbalanced_penalization():
    p = random_mdkp(8, 2, rng=4)
    bp = p.to_binary()
    l1, l2 = np.array([1.5, 0.7]), np.array([0.02, 0.05])
    ub, _ = unbalanced_qubo(bp, lambdas=(l1, l2))
    lq, _ = lagrangian_qubo(bp, l1, augment_inequalities=2 * l2)
    X = np.random.default_rng(5).integers(0, 2, (20, 8))
    assert np.allclose(ub.energy(X), lq.energy(X))


def test_knapsack_has_exactly_n_qubits_against_slack_bits():
    p = random_mdkp(20, 5, rng=6)
    bp = p.to_binary()
    q, _ = lagrangian_qubo(bp)
    qp, inv = penalty_qubo(bp)
    assert q.n == 20 and qp.n > 20 and inv.n_slack == qp.n - 20


def test_residuals_are_signed_and_ordered():
    bp = BinaryProgram(c=[1, 1, 1], A_le=[[1, 1, 0]], b_le=[1], A_eq=[[1, 1, 1]], b_eq=[2], conflicts=[(0, 2)])
    assert constraint_residuals(bp, [1, 0, 1]).tolist() == [0.0, 0.0, 1.0]
    assert constraint_residuals(bp, [0, 0, 0]).tolist() == [-1.0, -2.0, 0.0]


@pytest.mark.parametrize("values, match", [([np.nan, 0, 0], "NaN"), ([-1.0, 0, 0], "non-negative"), ([1.0], "expected 3")])
def test_bad_multipliers_raise_naming_the_field(values, match):
    bp = BinaryProgram(c=[1, 1, 1], A_le=[[1, 1, 0]], b_le=[1], A_eq=[[1, 1, 1]], b_eq=[2], conflicts=[(0, 2)])
    with pytest.raises(InvalidInstanceError, match=match) as info:
        Multipliers.from_flat(bp, values)
    assert info.value.field == "multipliers"
