"""QUBO ↔ Pauli operators and the bit-order convention, checked by exhaustive enumeration."""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.binary import QUBO
from cutslack.errors import InvalidInstanceError
from cutslack.quantum.ising import (bits_from_bitstrings, bits_from_indices, indices_from_bits, ising_terms,
                                    pauli_to_qubo, qubo_to_pauli)

from .conftest import all_bits

pytestmark = pytest.mark.quantum


@pytest.mark.parametrize("fixture", ["dense_qubo", "sparse_qubo"])
def test_pauli_diagonal_equals_qubo_energy_on_every_basis_state(fixture, request):
    qubo = request.getfixturevalue(fixture)
    op, offset = qubo_to_pauli(qubo)
    diag = np.real(np.diag(op.to_matrix())) + offset
    assert np.allclose(diag, qubo.energy(all_bits(qubo.n)), atol=1e-12)


def test_ising_terms_use_x_equals_one_minus_z_over_two(dense_qubo):
    h, rows, cols, J, offset = ising_terms(dense_qubo)
    X = all_bits(dense_qubo.n).astype(float)
    Z = 1 - 2 * X
    E = Z @ h + (Z[:, rows] * Z[:, cols]) @ J + offset
    assert np.allclose(E, dense_qubo.energy(X))


def test_pauli_round_trip_keeps_energies(dense_qubo):
    back = pauli_to_qubo(*qubo_to_pauli(dense_qubo))
    X = all_bits(dense_qubo.n)
    assert np.allclose(back.energy(X), dense_qubo.energy(X))


def test_bit_order_is_little_endian():
    assert bits_from_bitstrings(["0001", "1000"], 4).tolist() == [[1, 0, 0, 0], [0, 0, 0, 1]]
    X = bits_from_indices([0, 5, 12], 4)
    assert X.tolist()[1] == [1, 0, 1, 0]
    assert indices_from_bits(X).tolist() == [0, 5, 12]


@pytest.mark.parametrize("label", ["XZ", "ZY"])
def test_pauli_to_qubo_refuses_off_diagonal_terms(label):
    from qiskit.quantum_info import SparsePauliOp

    with pytest.raises(InvalidInstanceError, match="not diagonal"):
        pauli_to_qubo(SparsePauliOp([label]))


def test_pauli_to_qubo_refuses_three_body_terms():
    from qiskit.quantum_info import SparsePauliOp

    with pytest.raises(InvalidInstanceError, match="three|3 qubits"):
        pauli_to_qubo(SparsePauliOp(["ZZZ"]))


def test_empty_qubo_gives_an_identity_operator():
    op, offset = qubo_to_pauli(QUBO(np.zeros((2, 2)), 3.0))
    assert offset == 3.0 and np.allclose(op.to_matrix(), 0)
