"""CuPy twins of the statevector kernels in :mod:`cutslack.quantum.statevector`.

Same names and signatures as the Numba versions; the state is a CuPy ``complex128`` array on
the device.  The single-qubit kernels view the state as ``(2^(n-q-1), 2, 2^q)`` so that one
vectorised update handles every amplitude pair of qubit ``q``.
"""

from __future__ import annotations

import numpy as np

from cutslack.gpu.backend import _cupy

__all__ = ["cupy_module", "device_free_memory", "apply_phase", "apply_single_qubit_gates", "apply_mixer_layer", "apply_cx",
           "expectation_diagonal", "pauli_expectations_raw"]


def cupy_module():
    """Return the :mod:`cupy` module (imported lazily)."""
    return _cupy()


def device_free_memory() -> int:
    """Return the free bytes on the current CUDA device."""
    free, _total = _cupy().cuda.Device().mem_info
    return int(free)


def _pairs(psi, q: int):
    n_amp = psi.shape[0]
    v = psi.reshape(n_amp >> (q + 1), 2, 1 << q)
    return v[:, 0, :], v[:, 1, :]


def apply_phase(psi, diag, gamma: float) -> None:
    """Multiply ``psi`` in place by ``exp(-i gamma diag)``."""
    cp = _cupy()
    psi *= cp.exp(-1j * float(gamma) * diag)


def apply_single_qubit_gates(psi, qubits, mats) -> None:
    """Apply the 2×2 unitaries ``mats[g]`` to qubits ``qubits[g]`` in order, in place."""
    mats = np.asarray(mats, dtype=np.complex128)
    for q, u in zip(np.asarray(qubits, dtype=np.int64), mats):
        a, b = _pairs(psi, int(q))
        a0 = a.copy()
        a *= complex(u[0, 0])
        a += complex(u[0, 1]) * b
        b *= complex(u[1, 1])
        b += complex(u[1, 0]) * a0


def apply_mixer_layer(psi, mats, phase=None) -> None:
    """Multiply by ``phase`` (when given) then apply ``mats[q]`` on every qubit ``q``, in place."""
    if phase is not None:
        psi *= phase
    apply_single_qubit_gates(psi, np.arange(len(mats)), mats)


def apply_cx(psi, control: int, target: int) -> None:
    """Apply a CNOT (``control`` → ``target``) in place."""
    cp = _cupy()
    n_amp = psi.shape[0]
    idx = cp.arange(n_amp, dtype=cp.int64)
    sel = idx[((idx >> control) & 1 == 1) & ((idx >> target) & 1 == 0)]
    partner = sel | (1 << target)
    tmp = psi[sel].copy()
    psi[sel] = psi[partner]
    psi[partner] = tmp


def expectation_diagonal(psi, diag) -> float:
    """Return ``sum_k |psi_k|^2 diag_k`` as a float."""
    return float(((psi.real ** 2 + psi.imag ** 2) * diag).sum())


def pauli_expectations_raw(psi, xmasks, zmasks) -> np.ndarray:
    """Return ``sum_k conj(psi[k ^ x]) psi[k] (-1)^{popcount(k & z)}`` per term (complex, on the host).

    The twin of the Numba kernel behind :func:`cutslack.quantum.statevector.pauli_expectations`,
    which applies the ``i^{#Y}`` factor.
    """
    cp = _cupy()
    idx = cp.arange(psi.shape[0], dtype=cp.int64)
    out = np.empty(len(xmasks), dtype=np.complex128)
    for t, (xm, zm) in enumerate(zip(np.asarray(xmasks), np.asarray(zmasks))):
        parity = cp.zeros(psi.shape[0], dtype=cp.int64)
        for q in range(int(zm).bit_length()):
            if (int(zm) >> q) & 1:
                parity ^= (idx >> q) & 1
        sign = 1 - 2 * parity
        out[t] = complex((cp.conj(psi[idx ^ int(xm)]) * psi * sign).sum())
    return out
