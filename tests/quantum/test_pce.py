"""Pauli correlation encoding: qubit counts, correlators, the loss, and the sampler on both backends."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cutslack
from cutslack.quantum.pce import correlator_function, pce_correlators, pce_loss, pce_qubits, pce_sampler
from cutslack.quantum.statevector import pauli_expectations, pauli_masks

from .conftest import all_bits


@pytest.mark.parametrize("n, q", [(1, 2), (3, 2), (4, 3), (9, 3), (10, 4), (18, 4), (19, 5), (100, 9)])
def test_fewest_qubits_hold_the_correlators(n, q):
    assert pce_qubits(n) == q
    assert 3 * math.comb(q, 2) >= n > 3 * math.comb(q - 1, 2) or q == 2


def test_correlators_are_distinct_two_body_paulis():
    terms = pce_correlators(18, 4)
    keys = {tuple(sorted(t.items())) for t in terms}
    assert len(keys) == 18 and all(len(t) == 2 and len(set(t.values())) == 1 for t in terms)
    with pytest.raises(cutslack.SolverError, match="holds 9 variables"):
        pce_correlators(10, 3)


@pytest.mark.quantum
def test_pauli_expectations_equal_qiskit():
    from qiskit.quantum_info import SparsePauliOp, Statevector

    rng = np.random.default_rng(5)
    psi = rng.normal(size=32) + 1j * rng.normal(size=32)
    psi /= np.linalg.norm(psi)
    terms = pce_correlators(30, 5) + [{0: "Y"}, {1: "X", 3: "Y", 4: "Z"}]
    ours = pauli_expectations(psi, *pauli_masks(terms, 5))
    ref = [Statevector(psi).expectation_value(
        SparsePauliOp.from_sparse_list([("".join(t.values()), list(t), 1.0)], num_qubits=5)).real for t in terms]
    assert np.allclose(ours, ref, atol=1e-12)


def test_loss_is_the_ising_energy_of_saturated_signs_plus_the_regulariser():
    h, rows, cols, J = np.array([1.0, -2.0]), np.array([0]), np.array([1]), np.array([0.5])
    c = np.array([10.0, -10.0])  # tanh saturates: z = (+1, -1)
    assert pce_loss(c, h, rows, cols, J, alpha=5.0, beta=0.0) == pytest.approx(1.0 + 2.0 - 0.5)
    nu = 0.5 * 0.5 + 0.5 * 3.0 + 0.25
    assert pce_loss(c, h, rows, cols, J, alpha=5.0) == pytest.approx(2.5 + 0.5 * nu)


def test_pce_finds_the_ground_state_on_fewer_qubits_and_is_seeded(dense_qubo):
    a = pce_sampler(dense_qubo, rng=3, maxiter=120, restarts=2)
    b = pce_sampler(dense_qubo, rng=3, maxiter=120, restarts=2)
    assert a.info["n_qubits"] == 3 < dense_qubo.n
    assert np.array_equal(a.X, b.X) and a.info["parameters"] == b.info["parameters"]
    assert a.best_energy == pytest.approx(dense_qubo.energy(all_bits(6)).min())
    assert a.best_energy <= a.info["rounded_energy"]
    assert np.allclose(a.energies, dense_qubo.energy(a.X))


def test_pce_method_reports_its_qubits(sparse_qubo):
    res = cutslack.solve(sparse_qubo, method="pce", rng=0, maxiter=60, restarts=1, local_search=False)
    assert res.n_qubits == 3 and res.objective == pytest.approx(sparse_qubo.energy(res.x))
    assert res.info["local_search"] is False


@pytest.mark.quantum
def test_aer_correlators_equal_the_fast_simulator(sparse_qubo):
    terms = pce_correlators(7, 3)
    x = np.random.default_rng(4).uniform(-np.pi, np.pi, 2 * 3 * 3)
    ours = correlator_function(terms, 3, reps=2)(x)
    assert np.allclose(correlator_function(terms, 3, reps=2, backend="aer")(x), ours, atol=1e-8)
    aer = pce_sampler(sparse_qubo, rng=1, maxiter=25, restarts=1, backend="aer")
    assert aer.info["backend"] == "aer" and aer.info["n_qubits"] == 3


def test_missing_qiskit_raises_with_the_install_line(sparse_qubo, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "qiskit", None)
    with pytest.raises(cutslack.BackendUnavailableError, match="pip install"):
        pce_sampler(sparse_qubo, backend="aer", maxiter=5)


def test_too_many_qubits_are_refused_before_allocation(sparse_qubo):
    with pytest.raises(cutslack.ProblemTooLargeError, match="2\\^45"):
        pce_sampler(sparse_qubo, n_qubits=45)


def test_optimizer_failure_ends_with_a_status(sparse_qubo):
    res = cutslack.solve(sparse_qubo, method="pce", rng=0, optimizer="no-such-method", restarts=1)
    assert res.status is cutslack.Status.ERROR and "no-such-method" in res.info["message"]
    assert res.x is not None and res.n_qubits == 3


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("cutslack.gpu.backend", fromlist=["x"]).cupy_available(),
                    reason="CuPy with a CUDA device is not available")
def test_cupy_pauli_expectations_match_numba():
    import cupy as cp

    rng = np.random.default_rng(2)
    psi = rng.normal(size=64) + 1j * rng.normal(size=64)
    psi /= np.linalg.norm(psi)
    masks = pauli_masks(pce_correlators(40, 6) + [{2: "Y"}], 6)
    assert np.allclose(pauli_expectations(cp.asarray(psi), *masks), pauli_expectations(psi, *masks), atol=1e-12)
