"""The slack-bit baseline (``method="penalty"``) on every row type: slack ranges of negated ``≥`` rows
count the negative coefficients, equality rows take no slack, and the QUBO energy is the objective plus
the documented penalty on seeded random bit vectors."""

import numpy as np
import pytest

from cutslack.solvers.qubo import penalty_qubo, sample_qubo


def _documented_energy(bp, inv, bits):
    """``σ f(x) + P Σ_i (a_i'x + c_i'y_i − t_i)² + P Σ_eq (a'x − b)²`` plus Qiskit's slack-free patterns."""
    P, n = inv.info["penalty"], bp.n
    x, y = bits[:n].astype(float), bits[n:].astype(float)
    A, _, A_eq, b_eq = bp.dense_constraints()
    total = (-1.0 if bp.sense == "max" else 1.0) * float(bp.objective(bits[:n]))
    for i, kind in enumerate(inv.info["row_kinds"]):
        cols = np.flatnonzero(A[i])
        if kind in ("slack", "equality"):
            s, t = inv.slack_slices[i]
            coeffs = np.array(inv.info["slack_coefficients"][i], dtype=float)
            total += P * (A[i] @ x + coeffs @ y[s - n:t - n] - inv.info["targets"][i]) ** 2
        elif kind == "sum>=n-1":
            total += P * sum((1 - x[p]) * (1 - x[q]) for k, p in enumerate(cols) for q in cols[k + 1:])
        else:
            assert kind == "dropped"
    return total + P * float(np.sum((A_eq @ x - b_eq) ** 2))


CASES = {"gap": lambda rt: rt.gap_like(3, 4, 1), "scp": lambda rt: rt.scp_like(6, 10, 2),
         "ranged": lambda rt: rt.ranged(10, 3), "mixed": lambda rt: rt.mixed_sign(9, 4)}


@pytest.mark.parametrize("rule", ["cutslack", "qiskit"])
@pytest.mark.parametrize("case", list(CASES))
def test_energy_is_objective_plus_documented_penalty(rowtypes, case, rule):
    bp = CASES[case](rowtypes)
    qubo, inv = penalty_qubo(bp, rule=rule)
    bits = np.random.default_rng(17).integers(0, 2, size=(50, qubo.n)).astype(np.uint8)
    expected = [_documented_energy(bp, inv, b) for b in bits]
    np.testing.assert_allclose(qubo.energy(bits), expected, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("rule", ["cutslack", "qiskit"])
def test_negated_cover_rows_get_slack_for_b_minus_min_ax(rowtypes, rule):
    bp = rowtypes.scp_like(6, 10, 5)
    _, inv = penalty_qubo(bp, rule=rule)
    A = bp.dense_constraints()[0]
    for i, coeffs in enumerate(inv.info["slack_coefficients"]):
        k = int((A[i] < 0).sum())                     # min a'x = −k: the slack range is −1 − (−k) = k − 1
        if inv.info["row_kinds"][i] == "sum>=n-1":    # Qiskit's slack-free pattern (k = 2)
            assert k == 2 and not coeffs
            continue
        assert sum(coeffs) == k - 1 and len(coeffs) == (int(np.floor(np.log2(k - 1))) + 1 if k > 1 else 0)


def test_equality_rows_take_no_slack_and_capacities_do(rowtypes):
    bp = rowtypes.gap_like(3, 4, 6)
    qubo, inv = penalty_qubo(bp, rule="qiskit")
    caps = bp.b_le
    n_slack = sum(int(np.floor(np.log2(c))) + 1 for c in caps)
    assert len(inv.slack_slices) == bp.m_le and qubo.n == bp.n + n_slack


def test_penalty_minimum_is_the_optimum_of_a_small_assignment(rowtypes):
    from cutslack.binary import BinaryProgram

    # 2 agents x 3 jobs, small capacities so the slack registers stay short
    bp = BinaryProgram(c=[6.0, 4.0, 5.0, 3.0, 7.0, 2.0], sense="max", A_le=[[2, 3, 1, 0, 0, 0], [0, 0, 0, 2, 1, 3]],
                       b_le=[4, 4], A_eq=[[1, 0, 0, 1, 0, 0], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 0, 1]], b_eq=[1, 1, 1])
    qubo, inv = penalty_qubo(bp, rule="qiskit")
    best = sample_qubo(qubo, "exhaustive")
    x = inv.original_bits(best.best)
    assert bp.is_feasible(x) and float(bp.objective(x)) == pytest.approx(rowtypes.brute_force_program(bp)[1])
