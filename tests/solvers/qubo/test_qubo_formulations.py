"""Slack-bit penalty and unbalanced formulations: energies equal the documented expressions,
optima survive the penalty, and slack counts match Qiskit Optimization and dimod."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutslack.binary import BinaryProgram
from cutslack.errors import InvalidInstanceError
from cutslack.problems import Knapsack, random_knapsack, random_mis
from cutslack.solvers.qubo import FormulationInverse, penalty_qubo, sample_qubo, unbalanced_qubo
from cutslack.solvers.qubo.formulations import slack_coefficients
from cutslack.testing import brute_force


@st.composite
def binary_programs(draw, *, with_patterns=False):
    """Small BinaryPrograms with integer data: quadratic objective, <= rows (some with negative
    coefficients), an optional equality, conflicts, and (optionally) Qiskit's slack-free patterns."""
    n = draw(st.integers(2, 6))
    ints = lambda lo, hi, size: np.array(draw(st.lists(st.integers(lo, hi), min_size=size, max_size=size)), float)  # noqa: E731
    c = ints(-9, 9, n)
    Q = ints(-5, 5, n * n).reshape(n, n) if draw(st.booleans()) else None
    m = draw(st.integers(0, 3))
    A = ints(-4, 9, m * n).reshape(m, n)
    b = ints(-3, 25, m)
    if with_patterns and n >= 3:
        A = np.vstack([A, [1, 1, 1] + [0] * (n - 3), [1, -1] + [0] * (n - 2), [-1, -1, -1] + [0] * (n - 3)])
        b = np.concatenate([b, [1, 0, -2]])
    lo = np.minimum(A, 0).sum(axis=1)
    b = np.maximum(b, lo)  # every row satisfiable by some vector
    A_eq = b_eq = None
    if draw(st.booleans()):
        A_eq = ints(0, 3, n).reshape(1, n)
        b_eq = ints(0, 4, 1)
    conflicts = [(0, 1)] if draw(st.booleans()) else None
    sense = draw(st.sampled_from(["min", "max"]))
    return BinaryProgram(c=c, Q=Q, const=draw(st.integers(-3, 3)), sense=sense, A_le=A if m or with_patterns else None,
                         b_le=b if m or with_patterns else None, A_eq=A_eq, b_eq=b_eq, conflicts=conflicts)


def documented_penalty_energy(bp: BinaryProgram, inv: FormulationInverse, x, y) -> float:
    """The energy penalty_qubo documents, computed term by term."""
    P = inv.info["penalty"]
    sigma = -1.0 if bp.sense == "max" else 1.0
    A, b, A_eq, b_eq = bp.dense_constraints()
    total = sigma * bp.objective(x)
    for i, kind in enumerate(inv.info["row_kinds"]):
        cols = np.flatnonzero(A[i])
        if kind in ("slack", "equality"):
            start, stop = inv.slack_slices[i]
            coeffs = np.array(inv.info["slack_coefficients"][i], dtype=float)
            total += P * (A[i] @ x + coeffs @ y[start - bp.n:stop - bp.n] - inv.info["targets"][i]) ** 2
        elif kind == "sum<=1":
            total += P * sum(x[p] * x[q] for p, q in itertools.combinations(cols, 2))
        elif kind == "sum>=n-1":
            total += P * sum((1 - x[p]) * (1 - x[q]) for p, q in itertools.combinations(cols, 2))
        elif kind == "x<=y":
            xi, yi = cols[A[i, cols] > 0][0], cols[A[i, cols] < 0][0]
            total += P * (x[xi] - x[xi] * x[yi])
        else:
            assert kind == "dropped" and b[i] >= np.maximum(A[i], 0).sum()
    total += P * np.sum((A_eq @ x - b_eq) ** 2)
    total += P * sum(x[p] * x[q] for p, q in bp.conflicts)
    return float(total)


@pytest.mark.parametrize("rule", ["cutslack", "qiskit", "dimod"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_penalty_energy_matches_documented_expression(rule, data):
    bp = data.draw(binary_programs(with_patterns=(rule == "qiskit")))
    qubo, inv = penalty_qubo(bp, rule=rule)
    assert qubo.n == inv.n_qubo and inv.n_original == bp.n
    bits = np.array(data.draw(st.lists(st.integers(0, 1), min_size=qubo.n, max_size=qubo.n)), dtype=np.uint8)
    x, y = bits[:bp.n].astype(float), bits[bp.n:].astype(float)
    assert qubo.energy(bits) == pytest.approx(documented_penalty_energy(bp, inv, x, y), rel=1e-9, abs=1e-6)
    np.testing.assert_array_equal(inv.original_bits(bits), bits[:bp.n])


@pytest.mark.parametrize("rule", ["cutslack", "qiskit", "dimod"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_slack_ranges_follow_the_rule(rule, data):
    bp = data.draw(binary_programs())
    _, inv = penalty_qubo(bp, rule=rule)
    A, b, _, _ = bp.dense_constraints()
    for i, (start, stop) in enumerate(inv.slack_slices):
        lo, hi = np.minimum(A[i], 0).sum(), np.maximum(A[i], 0).sum()
        coeffs = inv.info["slack_coefficients"][i]
        assert stop - start == len(coeffs)
        if rule in ("cutslack", "dimod") and b[i] >= hi:
            assert inv.info["row_kinds"][i] == "dropped" and not coeffs
            continue
        if inv.info["row_kinds"][i] in ("x<=y", "sum<=1", "sum>=n-1"):
            # Qiskit's LinearInequalityToPenalty writes these rows as a penalty without slack bits
            assert rule == "qiskit" and not coeffs
            continue
        upper = int(np.floor(b[i]) - lo)
        assert sum(coeffs) == max(upper, 0)
        assert len(coeffs) == (int(np.floor(np.log2(upper))) + 1 if upper > 0 else 0)


def test_slack_encoding_covers_the_range_exactly():
    for upper in range(1, 70):
        coeffs = slack_coefficients(upper)
        sums = {int(np.dot(coeffs, bits)) for bits in itertools.product([0, 1], repeat=len(coeffs))}
        assert sums == set(range(upper + 1))
        assert len(coeffs) == int(np.floor(np.log2(upper))) + 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_penalty_qubo_minimum_is_the_optimum(seed):
    problem = random_knapsack(8, 2, R=40, rng=seed)
    qubo, inv = penalty_qubo(problem.to_binary())
    assert qubo.n <= 24
    best = sample_qubo(qubo, "exhaustive")
    x = inv.original_bits(best.best)
    assert problem.is_feasible(x)
    assert problem.evaluate(x) == pytest.approx(brute_force(problem)[1])
    assert best.best_energy == pytest.approx(-brute_force(problem)[1])


def test_mis_conflicts_take_no_slack():
    problem = random_mis(10, 0.4, rng=4)
    qubo, inv = penalty_qubo(problem.to_binary())
    assert inv.n_qubo == problem.to_binary().n and inv.n_slack == 0
    x = inv.original_bits(sample_qubo(qubo, "exhaustive").best)
    assert problem.is_feasible(x) and problem.evaluate(x) == pytest.approx(brute_force(problem)[1])


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_unbalanced_energy_matches_documented_expression(data):
    bp = data.draw(binary_programs())
    m = bp.m_le
    lam = data.draw(st.sampled_from(["auto", "scalars", "arrays"]))
    if lam == "auto":
        qubo, inv = unbalanced_qubo(bp)
    elif lam == "scalars":
        qubo, inv = unbalanced_qubo(bp, lambdas=(0.7, 0.2), penalty_eq=3.0, penalty_conflict=5.0)
    else:
        qubo, inv = unbalanced_qubo(bp, lambda1=np.arange(m) + 0.5, lambda2=np.full(m, 0.25))
    assert qubo.n == bp.n == inv.n_qubo and inv.n_slack == 0
    x = np.array(data.draw(st.lists(st.integers(0, 1), min_size=bp.n, max_size=bp.n)), dtype=float)
    A, b, A_eq, b_eq = bp.dense_constraints()
    h = b - A @ x
    sigma = -1.0 if bp.sense == "max" else 1.0
    expected = (sigma * bp.objective(x) + np.sum(-inv.info["lambda1"] * h + inv.info["lambda2"] * h ** 2)
                + inv.info["penalty_eq"] * np.sum((A_eq @ x - b_eq) ** 2)
                + inv.info["penalty_conflict"] * sum(x[p] * x[q] for p, q in bp.conflicts))
    assert qubo.energy(x) == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_unbalanced_default_solves_a_small_knapsack():
    problem = random_knapsack(12, rng=5)
    qubo, inv = unbalanced_qubo(problem.to_binary())
    assert inv.n_qubo == 12
    x = inv.original_bits(sample_qubo(qubo, "exhaustive").best)
    assert problem.is_feasible(x)
    assert problem.evaluate(x) >= 0.9 * brute_force(problem)[1]


def _quadratic_program(problem: Knapsack):
    from qiskit_optimization import QuadraticProgram

    qp = QuadraticProgram("knapsack")
    names = [f"x{j}" for j in range(len(problem.profits))]
    for name in names:
        qp.binary_var(name)
    qp.maximize(linear=dict(zip(names, problem.profits.tolist())))
    for i in range(problem.m):
        qp.linear_constraint(dict(zip(names, problem.weights[i].tolist())), "<=", float(problem.capacities[i]), f"c{i}")
    return qp


@pytest.mark.parametrize("seed,m", [(1, 1), (2, 2), (3, 3)])
def test_qiskit_rule_matches_quadratic_program_to_qubo(seed, m):
    pytest.importorskip("qiskit_optimization")
    from qiskit_optimization.converters import QuadraticProgramToQubo

    from cutslack.binary import QUBO

    problem = random_knapsack(10, m, rng=seed)
    converter = QuadraticProgramToQubo()
    theirs = QUBO.from_quadratic_program(converter.convert(_quadratic_program(problem)))
    ours, inv = penalty_qubo(problem.to_binary(), rule="qiskit")
    assert inv.n_qubo == theirs.n
    assert inv.info["penalty"] == pytest.approx(converter.penalty)
    X = np.random.default_rng(seed).integers(0, 2, size=(50, ours.n))
    np.testing.assert_allclose(ours.energy(X), theirs.energy(X), rtol=1e-12)


@pytest.mark.parametrize("seed,m", [(1, 1), (4, 2)])
def test_dimod_rule_matches_cqm_to_bqm(seed, m):
    dimod = pytest.importorskip("dimod")
    problem = random_knapsack(8, m, R=40, rng=seed)
    x = [dimod.Binary(f"x{j}") for j in range(8)]
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(-sum(float(p) * v for p, v in zip(problem.profits, x)))
    for i in range(m):
        cqm.add_constraint(sum(float(w) * v for w, v in zip(problem.weights[i], x)) <= float(problem.capacities[i]))
    bqm, _ = dimod.cqm_to_bqm(cqm)
    ours, inv = penalty_qubo(problem.to_binary(), rule="dimod")
    assert inv.n_qubo == bqm.num_variables
    assert inv.info["penalty"] == pytest.approx(10 * problem.profits.max())
    # same energy on the program's bits once each QUBO minimises over its own slack bits
    slacks = np.array(list(itertools.product([0, 1], repeat=inv.n_slack)), dtype=np.uint8)
    for bits in np.random.default_rng(seed).integers(0, 2, size=(3, 8)):
        ours_min = ours.energy(np.hstack([np.tile(bits, (len(slacks), 1)), slacks])).min()
        theirs_min = _min_over_slack(dimod, bqm, bits)
        assert ours_min == pytest.approx(theirs_min)


def _min_over_slack(dimod, bqm, bits) -> float:
    fixed = bqm.copy()
    for i, b in enumerate(bits):
        fixed.fix_variable(f"x{i}", int(b))
    return float(dimod.ExactSolver().sample(fixed).first.energy)


def test_bad_input_is_refused_with_named_fields():
    bp = Knapsack([3, 2], [[1, 1]], [1]).to_binary()
    with pytest.raises(ValueError, match="valid rules"):
        penalty_qubo(bp, rule="neal")
    with pytest.raises(InvalidInstanceError, match="penalty"):
        penalty_qubo(bp, penalty=float("nan"))
    with pytest.raises(InvalidInstanceError, match="lambda1"):
        unbalanced_qubo(bp, lambda1=[1.0, 2.0])
    impossible = BinaryProgram(c=[1.0, 1.0], A_le=[[1.0, 1.0]], b_le=[-1.0])
    with pytest.raises(InvalidInstanceError, match="b_le"):
        penalty_qubo(impossible)
