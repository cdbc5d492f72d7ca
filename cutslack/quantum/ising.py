"""QUBO ↔ Ising operators in Qiskit's conventions: the one place the bit order is written down.

Conventions (used by every module of :mod:`cutslack.quantum`)
-------------------------------------------------------------
* Variable ``i`` of a QUBO lives on qubit ``i``.
* Qiskit is little-endian: qubit 0 is the *rightmost* character of a bitstring such as
  ``"0101"`` and of a Pauli label such as ``"IIZZ"``; the statevector amplitude at index
  ``k`` belongs to the basis state whose qubit ``q`` holds the bit ``(k >> q) & 1``.
* A qubit measured in ``|0>`` (Z eigenvalue ``z = +1``) means ``x = 0``, ``|1>`` (``z = -1``)
  means ``x = 1``:  ``x = (1 - z) / 2``.  (dimod's spins use the opposite sign,
  ``x = (1 + s) / 2``, so ``z = -s``; :meth:`cutslack.binary.QUBO.to_ising` is dimod's.)

With these, the QUBO energy ``x'Ux + offset`` of the basis state ``k`` equals the diagonal
entry ``k`` of ``H + offset_ising`` where ``H = sum_i h_i Z_i + sum_{i<j} J_ij Z_i Z_j`` is the
operator returned by :func:`qubo_to_pauli`; the tests check this against exhaustive
enumeration.  Only :func:`qubo_to_pauli` and :func:`pauli_to_qubo` import qiskit (lazily).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cutslack.binary import QUBO
from cutslack.errors import BackendUnavailableError, InvalidInstanceError

__all__ = ["QISKIT_INSTALL", "require_qiskit", "ising_terms", "qubo_to_pauli", "pauli_to_qubo",
           "bits_from_indices", "indices_from_bits", "bits_from_bitstrings"]

#: the install line shown when qiskit or qiskit-aer is missing
QISKIT_INSTALL = "pip install 'cutslack[quantum]'  (qiskit, qiskit-aer)"


def require_qiskit(aer: bool = False) -> None:
    """Raise :class:`BackendUnavailableError` with the install line unless qiskit (and Aer) import."""
    try:
        import qiskit  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError("qiskit", QISKIT_INSTALL) from exc
    if aer:
        try:
            import qiskit_aer  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailableError("qiskit-aer", QISKIT_INSTALL) from exc


def ising_terms(qubo: QUBO):
    """Return ``(h, rows, cols, J, offset)``: the Z-Ising form of ``qubo`` in Qiskit's convention.

    ``E(x) = sum_i h_i z_i + sum_t J_t z_{rows_t} z_{cols_t} + offset`` with ``x = (1 - z)/2``;
    the couplings are listed sparsely (``rows < cols``, zeros dropped).
    """
    h_spin, J, offset = qubo.to_ising()          # dimod: x = (1 + s)/2, s = -z
    Jc = sp.coo_matrix(J)
    keep = Jc.data != 0
    rows, cols, vals = Jc.row[keep].astype(np.int64), Jc.col[keep].astype(np.int64), Jc.data[keep].astype(float)
    return -np.asarray(h_spin, dtype=float), rows, cols, vals, float(offset)


def qubo_to_pauli(qubo: QUBO):
    """Return ``(SparsePauliOp, offset)`` whose diagonal plus ``offset`` is the QUBO energy.

    The operator holds one ``Z_i`` term per nonzero linear coefficient and one ``Z_i Z_j`` term
    per nonzero coupling (in that order); the constant goes to ``offset``, not into the operator.
    """
    require_qiskit()
    from qiskit.quantum_info import SparsePauliOp

    h, rows, cols, J, offset = ising_terms(qubo)
    terms = [("Z", [i], h[i]) for i in np.flatnonzero(h)]
    terms += [("ZZ", [int(i), int(j)], v) for i, j, v in zip(rows, cols, J)]
    if not terms:
        terms = [("I", [0], 0.0)]
    return SparsePauliOp.from_sparse_list(terms, num_qubits=max(qubo.n, 1)).simplify(atol=0.0), offset


def pauli_to_qubo(operator, offset: float = 0.0) -> QUBO:
    """Return the QUBO of a diagonal operator made of ``I``, ``Z_i`` and ``Z_i Z_j`` terms (plus ``offset``).

    Raises :class:`InvalidInstanceError` when a term has an X or Y factor, acts on more than two
    qubits, or has an imaginary coefficient.
    """
    n = operator.num_qubits
    h = np.zeros(n)
    J = np.zeros((n, n))
    const = float(offset)
    for label, coeff in operator.to_list():
        if abs(np.imag(coeff)) > 1e-12:
            raise InvalidInstanceError("operator", f"term {label} has an imaginary coefficient {coeff}")
        c = float(np.real(coeff))
        if set(label) - {"I", "Z"}:
            raise InvalidInstanceError("operator", f"term {label} is not diagonal (only I and Z are allowed)")
        qubits = [n - 1 - k for k, ch in enumerate(label) if ch == "Z"]  # little-endian labels
        if len(qubits) == 0:
            const += c
        elif len(qubits) == 1:
            h[qubits[0]] += c
        elif len(qubits) == 2:
            i, j = sorted(qubits)
            J[i, j] += c
        else:
            raise InvalidInstanceError("operator", f"term {label} acts on {len(qubits)} qubits; a QUBO allows two")
    return QUBO.from_ising(-h, J, const)  # z = -s


def bits_from_indices(indices, n: int) -> np.ndarray:
    """Return the ``(k, n)`` uint8 bit matrix of basis-state indices (bit ``q`` = qubit ``q``)."""
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    return ((idx[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.uint8)


def indices_from_bits(X) -> np.ndarray:
    """Return the basis-state index of each bit vector (row) of ``X``: ``sum_q x_q 2^q``."""
    X = np.atleast_2d(np.asarray(X, dtype=np.int64))
    return (X << np.arange(X.shape[1], dtype=np.int64)).sum(axis=1)


def bits_from_bitstrings(bitstrings, n: int) -> np.ndarray:
    """Return the bit matrix of Qiskit bitstrings (``"q_{n-1} ... q_1 q_0"``, qubit 0 rightmost)."""
    return bits_from_indices([int(s, 2) for s in bitstrings], n)
