"""A fast statevector simulator for diagonal-cost circuits (QAOA) and hardware-efficient ansätze.

Why hand-written: a QAOA layer on a QUBO is an element-wise phase by the cost diagonal
followed by one 2×2 rotation per qubit.  A general-purpose simulator (Qiskit Aer) applies
one gate per Ising term instead — ``n(n-1)/2`` two-qubit gates per layer on a dense QUBO —
so precomputing the diagonal once and streaming the state ``n + 1`` times per layer is
much faster.  The streaming loops are Numba kernels (``parallel=True, cache=True``); their
CuPy twins with the same signatures live in :mod:`cutslack.gpu.statevector`.

Bit order is Qiskit's (see :mod:`cutslack.quantum.ising`): amplitude ``k`` has qubit ``q``
in state ``(k >> q) & 1`` and qubit ``q`` carries variable ``q``.

The cost diagonal is built by doubling: the diagonal over the first ``k`` qubits is copied
into the half with qubit ``k`` set and both halves are shifted by ``±(h_k + f_k)``, where
the field ``f_k`` (couplings to lower qubits) is itself built by doubling.  That is
``O(2^n)`` work per qubit at most, fully vectorised, and the same code runs on CuPy.
"""

from __future__ import annotations

import os

import numba
import numpy as np

from cutslack.binary import QUBO
from cutslack.errors import ProblemTooLargeError
from cutslack.gpu.backend import asnumpy, get_array_module, resolve_backend
from cutslack.quantum.ising import bits_from_indices, ising_terms
from cutslack.result import SampleSet

__all__ = ["StatevectorSimulator", "ising_diagonal", "check_statevector_size", "apply_phase",
           "apply_single_qubit_gates", "apply_cx", "expectation_diagonal", "probabilities",
           "x_mixer_matrices", "ry_matrix", "rz_matrix", "MAX_QUBITS"]

#: hard cap on qubits, whatever the memory (index arithmetic stays in int64 far below this)
MAX_QUBITS = 40
#: bytes the simulator holds per amplitude: complex128 state + float64 diagonal + temporaries
BYTES_PER_AMPLITUDE = 16 + 8 + 16


def _available_memory(backend: str) -> int:
    """Return the bytes of free host (or device) memory."""
    if backend == "cupy":
        from cutslack.gpu.statevector import device_free_memory

        return device_free_memory()
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


def check_statevector_size(n: int, *, backend: str = "numpy", memory_fraction: float = 0.5) -> int:
    """Return the bytes a simulation of ``n`` qubits needs, or raise ``ProblemTooLargeError``.

    Refuses (before anything is allocated) when the state, the diagonal and the temporaries
    need more than ``memory_fraction`` of the free host (or device) memory.
    """
    if n > MAX_QUBITS:
        raise ProblemTooLargeError(f"statevector of 2^{n} amplitudes", f"{n} qubits", f"{MAX_QUBITS} qubits")
    need = BYTES_PER_AMPLITUDE << n
    limit = int(memory_fraction * _available_memory(backend))
    if need > limit:
        raise ProblemTooLargeError(f"statevector of 2^{n} amplitudes ({n} qubits, {backend})",
                                   f"{need} bytes", f"{limit} bytes ({memory_fraction:.0%} of free memory)")
    return need


def ising_diagonal(h, rows, cols, J, n: int, xp=np):
    """Return the ``2^n`` diagonal of ``sum_i h_i Z_i + sum_t J_t Z_{rows_t} Z_{cols_t}`` (float64).

    Entry ``k`` is the value at ``z_q = 1 - 2 ((k >> q) & 1)``; built by doubling (module docstring).
    """
    h = np.asarray(h, dtype=float)
    Jd = np.zeros((n, n))
    np.add.at(Jd, (np.minimum(rows, cols), np.maximum(rows, cols)), J)
    out = xp.zeros(1 << n, dtype=xp.float64)
    field = xp.empty(1 << max(n - 1, 0), dtype=xp.float64)
    for k in range(n):
        size = 1 << k
        f = field[:size]
        f[0] = 0.0
        for j in range(k):  # field of qubit k from lower qubits, by doubling over j
            half = 1 << j
            f[half:2 * half] = f[:half] - Jd[j, k]
            f[:half] += Jd[j, k]
        f += h[k]
        out[size:2 * size] = out[:size] - f
        out[:size] += f
    return out


# --- Numba kernels (the NumPy twins of cutslack.gpu.statevector) ---------------------------

@numba.njit(parallel=True, cache=True)
def _phase_kernel(psi, diag, gamma):
    for i in numba.prange(psi.shape[0]):
        a = gamma * diag[i]
        psi[i] *= complex(np.cos(a), -np.sin(a))


@numba.njit(parallel=True, cache=True)
def _gates_kernel(psi, qubits, mats):
    half = psi.shape[0] >> 1
    for g in range(qubits.shape[0]):
        q = qubits[g]
        u00, u01, u10, u11 = mats[g, 0, 0], mats[g, 0, 1], mats[g, 1, 0], mats[g, 1, 1]
        low = (1 << q) - 1
        step = 1 << q
        for k in numba.prange(half):
            i0 = ((k >> q) << (q + 1)) | (k & low)
            i1 = i0 | step
            a = psi[i0]
            b = psi[i1]
            psi[i0] = u00 * a + u01 * b
            psi[i1] = u10 * a + u11 * b


@numba.njit(parallel=True, cache=True)
def _cx_kernel(psi, control, target):
    half = psi.shape[0] >> 1
    low = (1 << target) - 1
    step = 1 << target
    cbit = 1 << control
    for k in numba.prange(half):
        i0 = ((k >> target) << (target + 1)) | (k & low)
        if i0 & cbit:
            i1 = i0 | step
            a = psi[i0]
            psi[i0] = psi[i1]
            psi[i1] = a


@numba.njit(parallel=True, cache=True)
def _expectation_kernel(psi, diag):
    total = 0.0
    for i in numba.prange(psi.shape[0]):
        total += (psi[i].real * psi[i].real + psi[i].imag * psi[i].imag) * diag[i]
    return total


def _gpu():
    from cutslack.gpu import statevector as gpu_statevector

    return gpu_statevector


def apply_phase(psi, diag, gamma: float) -> None:
    """Multiply ``psi`` in place by ``exp(-i gamma diag)`` (returns nothing)."""
    if get_array_module(psi) is not np:
        return _gpu().apply_phase(psi, diag, gamma)
    _phase_kernel(psi, diag, float(gamma))


def apply_single_qubit_gates(psi, qubits, mats) -> None:
    """Apply the 2×2 unitaries ``mats[g]`` to qubits ``qubits[g]`` in order, in place."""
    if get_array_module(psi) is not np:
        return _gpu().apply_single_qubit_gates(psi, qubits, mats)
    _gates_kernel(psi, np.ascontiguousarray(qubits, dtype=np.int64), np.ascontiguousarray(mats, dtype=np.complex128))


def apply_cx(psi, control: int, target: int) -> None:
    """Apply a CNOT (``control`` → ``target``) to ``psi`` in place."""
    if get_array_module(psi) is not np:
        return _gpu().apply_cx(psi, control, target)
    _cx_kernel(psi, int(control), int(target))


def expectation_diagonal(psi, diag) -> float:
    """Return ``sum_k |psi_k|^2 diag_k`` as a float."""
    if get_array_module(psi) is not np:
        return _gpu().expectation_diagonal(psi, diag)
    return float(_expectation_kernel(psi, diag))


def probabilities(psi) -> np.ndarray:
    """Return ``|psi_k|^2`` as a NumPy array (copied from the device for CuPy input)."""
    return asnumpy(psi.real ** 2 + psi.imag ** 2)


def rx_matrix(theta):
    """Return the ``RX(theta) = exp(-i theta X / 2)`` matrices, shape ``(..., 2, 2)``."""
    c, s = np.cos(np.asarray(theta) / 2), np.sin(np.asarray(theta) / 2)
    return np.stack([np.stack([c, -1j * s], -1), np.stack([-1j * s, c], -1)], -2).astype(np.complex128)


def ry_matrix(theta):
    """Return the ``RY(theta)`` matrices, shape ``(..., 2, 2)``."""
    c, s = np.cos(np.asarray(theta) / 2), np.sin(np.asarray(theta) / 2)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2).astype(np.complex128)


def rz_matrix(theta):
    """Return the ``RZ(theta)`` matrices, shape ``(..., 2, 2)``."""
    e = np.exp(-0.5j * np.asarray(theta))
    z = np.zeros_like(e)
    return np.stack([np.stack([e, z], -1), np.stack([z, np.conj(e)], -1)], -2)


def x_mixer_matrices(betas, n: int, thetas=None) -> np.ndarray:
    """Return the ``(n, 2, 2)`` mixer unitaries of one layer.

    Standard: ``exp(-i beta_q X)``.  Warm start (``thetas`` given): ``RY(theta_q) RZ(-2 beta_q)
    RY(-theta_q)``, whose ground state is the warm-start state ``RY(theta_q)|0>``.
    ``betas`` is a scalar or one angle per qubit.
    """
    b = np.broadcast_to(np.asarray(betas, dtype=float), (n,))
    if thetas is None:
        return rx_matrix(2 * b)
    t = np.asarray(thetas, dtype=float)
    return ry_matrix(t) @ rz_matrix(-2 * b) @ ry_matrix(-t)


class StatevectorSimulator:
    """Exact statevector simulation of QAOA-type circuits for one QUBO.

    Parameters
    ----------
    qubo : QUBO
        The cost; its diagonal (Ising form, without the constant) is computed once.
    backend : {"auto", "numpy", "cupy"}
        ``"numpy"`` runs the Numba kernels; ``"cupy"`` their CuPy twins on a device.
    memory_fraction : float
        Refuse with :class:`ProblemTooLargeError` above this fraction of free memory.

    Attributes
    ----------
    diagonal : the Ising diagonal (``E(x) - offset``) on the chosen device.
    offset : the constant, so that ``diagonal + offset`` are the QUBO energies.
    """

    def __init__(self, qubo: QUBO, *, backend: str = "numpy", memory_fraction: float = 0.5):
        self.backend = resolve_backend(backend)
        self.n = qubo.n
        self.bytes_needed = check_statevector_size(self.n, backend=self.backend, memory_fraction=memory_fraction)
        self.qubo = qubo
        self.xp = _gpu().cupy_module() if self.backend == "cupy" else np
        self.h, self.rows, self.cols, self.J, self.offset = ising_terms(qubo)
        self.diagonal = ising_diagonal(self.h, self.rows, self.cols, self.J, self.n, self.xp)

    @property
    def n_terms(self) -> int:
        """Number of Ising terms (one per qubit, then one per coupling): the multi-angle cost angles per layer."""
        return self.n + len(self.J)

    def product_state(self, thetas=None):
        """Return ``⊗_q RY(theta_q)|0>``; ``|+>^n`` when ``thetas`` is None."""
        xp = self.xp
        if thetas is None:
            return xp.full(1 << self.n, (2.0 ** -0.5) ** self.n, dtype=xp.complex128)
        psi = xp.zeros(1 << self.n, dtype=xp.complex128)
        psi[0] = 1.0
        apply_single_qubit_gates(psi, np.arange(self.n), ry_matrix(np.asarray(thetas, dtype=float)))
        return psi

    def qaoa_state(self, gammas, betas, *, thetas=None):
        """Return the QAOA state for ``p`` layers.

        ``gammas``: ``(p,)`` (one angle per layer) or ``(p, n_terms)`` (multi-angle, one per Ising
        term); ``betas``: ``(p,)`` or ``(p, n)``.  ``thetas`` (warm start): initial ``RY`` angles,
        with the matching warm-start mixer.
        """
        gammas = np.asarray(gammas, dtype=float)
        betas = np.asarray(betas, dtype=float)
        psi = self.product_state(thetas)
        qubits = np.arange(self.n)
        for layer in range(gammas.shape[0]):
            g = gammas[layer]
            if g.ndim == 0:
                apply_phase(psi, self.diagonal, float(g))
            else:
                diag = ising_diagonal(g[:self.n] * self.h, self.rows, self.cols, g[self.n:] * self.J, self.n, self.xp)
                apply_phase(psi, diag, 1.0)
            apply_single_qubit_gates(psi, qubits, x_mixer_matrices(betas[layer], self.n, thetas))
        return psi

    def expectation(self, psi) -> float:
        """Return the QUBO energy expectation ``<psi| H |psi> + offset``."""
        return expectation_diagonal(psi, self.diagonal) + self.offset

    def energies(self, indices) -> np.ndarray:
        """Return the QUBO energies of basis states ``indices`` (read off the diagonal)."""
        return asnumpy(self.diagonal[self.xp.asarray(indices)]) + self.offset

    def sample_indices(self, psi, shots: int, rng) -> np.ndarray:
        """Return ``shots`` basis-state indices drawn from ``|psi|^2`` with ``rng``."""
        p = probabilities(psi)
        cdf = np.cumsum(p)
        u = np.random.default_rng(rng).random(int(shots)) * cdf[-1]
        return np.minimum(np.searchsorted(cdf, u, side="right"), len(p) - 1)

    def sample(self, psi, shots: int, rng=None) -> SampleSet:
        """Return a SampleSet of ``shots`` measurements of ``psi`` (duplicates merged into counts)."""
        idx, counts = np.unique(self.sample_indices(psi, shots, rng), return_counts=True)
        return SampleSet(bits_from_indices(idx, self.n), self.energies(idx), counts).lowest()
