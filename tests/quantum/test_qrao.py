"""QRAO: the colouring-based encoding, the relaxation identity, rounding, and the sampler."""

from __future__ import annotations

import numpy as np
import pytest

import cutslack
from cutslack.binary import QUBO
from cutslack.quantum.ising import ising_terms
from cutslack.quantum.qrao import (MAGIC_AXES, _encoded_terms, _magic_rotation, magic_rounding_bits, qrao_encoding,
                                   qrao_sampler)
from cutslack.quantum.statevector import apply_single_qubit_gates, pauli_expectations, pauli_masks

from .conftest import all_bits


def random_sparse_qubo(n, density, seed):
    rng = np.random.default_rng(seed)
    return QUBO(np.triu(rng.normal(size=(n, n))) * (rng.random((n, n)) < density) + np.diag(rng.normal(size=n)), 1.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coupled_variables_never_share_a_qubit(seed):
    qubo = random_sparse_qubo(15, 0.2, seed)
    qubit, slot, q = qrao_encoding(qubo)
    _, rows, cols, _, _ = ising_terms(qubo)
    assert not np.any(qubit[rows] == qubit[cols])
    assert len({(a, s) for a, s in zip(qubit, slot)}) == 15 and slot.max() <= 2
    assert 5 <= q < 15


def test_ring_uses_a_third_of_the_qubits(sparse_qubo):
    assert qrao_encoding(sparse_qubo)[2] == 3


def magic_product_state(x, qubit, slot, q):
    """The (3,1) QRAC product state of bits x (unused slots point to +)."""
    mats = []
    for a in range(q):
        v = np.ones(3)
        for i in np.flatnonzero(qubit == a):
            v[slot[i]] = 1 - 2 * int(x[i])
        mats.append(_magic_rotation(v / np.sqrt(3)).conj().T)
    psi = np.zeros(1 << q, dtype=complex)
    psi[0] = 1.0
    apply_single_qubit_gates(psi, np.arange(q), np.array(mats))
    return psi


def test_encoded_hamiltonian_reproduces_every_energy_on_magic_states():
    qubo = random_sparse_qubo(7, 0.3, 0)
    qubit, slot, q = qrao_encoding(qubo)
    terms, coeffs = _encoded_terms(qubo, qubit, slot)
    offset = ising_terms(qubo)[4]
    for x in all_bits(7):
        psi = magic_product_state(x, qubit, slot, q)
        assert coeffs @ pauli_expectations(psi, *pauli_masks(terms, q)) + offset == pytest.approx(qubo.energy(x))


def test_magic_rounding_reads_the_basis_signs():
    qubit, slot = np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0])
    bases, outcomes = np.array([[0, 1], [1, 3]]), np.array([[0, 0], [1, 1]])
    X = magic_rounding_bits(bases, outcomes, qubit, slot)
    assert X.tolist() == [[0, 0, 0, 0], [1, 0, 0, 0]]  # basis 1 is (+,-,-); "-" flips it
    assert np.allclose(np.abs(MAGIC_AXES).sum(axis=1), np.sqrt(3))


def test_qrao_finds_the_ground_state_on_a_third_of_the_qubits(sparse_qubo):
    a = qrao_sampler(sparse_qubo, rng=2, num_reads=128, maxiter=150)
    b = qrao_sampler(sparse_qubo, rng=2, num_reads=128, maxiter=150)
    assert a.info["n_qubits"] == 3 and np.array_equal(a.X, b.X)
    assert a.best_energy == pytest.approx(sparse_qubo.energy(all_bits(7)).min())
    assert a.num_reads == 129  # magic shots plus the Pauli-rounded vector
    assert np.allclose(a.energies, sparse_qubo.energy(a.X))


@pytest.mark.quantum
def test_qrao_on_aer_through_solve(sparse_qubo):
    res = cutslack.solve(sparse_qubo, method="qrao", rng=0, backend="aer", maxiter=20, restarts=1, num_reads=32)
    assert res.n_qubits == 3 and res.samples.info["backend"] == "aer" and res.samples.num_reads == 33
    assert res.objective == pytest.approx(sparse_qubo.energy(res.x))
