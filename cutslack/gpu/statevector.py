"""Device twins of the statevector kernels in :mod:`cutslack.quantum.statevector`.

Same names and signatures as the Numba CPU versions; the state is a ``complex128`` or
``complex64`` device array (CuPy; NumPy under Numba's CUDA simulator).

The QAOA layer — the cost phase ``exp(-i gamma diag)`` and ``RX`` on every qubit — is two
Numba-CUDA kernels (hand-written because a layer is a stream of 2×2 butterflies that an
array library runs as one pass per qubit with temporaries):

* :func:`_low_qubits_kernel`: one thread block per tile of ``2^block_bits`` consecutive
  amplitudes, loaded once into shared memory (float64 real and imaginary parts), where it
  takes the phase (from a phase array, or from the diagonal with one ``sincos`` per
  amplitude) and the mixers of the qubits ``0 .. block_bits - 1``, then is written back;
* :func:`_high_pair_kernel`: the mixers of two higher qubits per pass (four amplitudes per
  thread),

so a layer streams the state ``1 + ceil((n - block_bits) / 2)`` times.  The other gates
(warm-start mixers, CNOTs, Pauli expectations) are plain CuPy array code: the single-qubit
ones view the state as ``(2^(n-q-1), 2, 2^q)`` so one vectorised update handles every
amplitude pair of qubit ``q``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

from cutslack.gpu.backend import cuda_simulator_enabled, device_array_module, get_array_module
from cutslack.gpu.backend import device_free_memory as _device_free_memory
from cutslack.gpu.kernels import simulator_launch

__all__ = ["cupy_module", "device_free_memory", "apply_phase", "apply_single_qubit_gates", "apply_mixer_layer", "apply_cx",
           "expectation_diagonal", "pauli_expectations_raw", "x_mixer_layer", "qaoa_state", "BLOCK_QUBITS"]

#: qubits whose mixers one thread block applies in shared memory (2^10 amplitudes = 16 KiB of float64 pairs)
BLOCK_QUBITS = 10
_TILE = 1 << BLOCK_QUBITS
#: the same under the CUDA simulator (each simulated thread is a Python thread; both kernels then run)
SIMULATOR_BLOCK_QUBITS = 3
#: threads per block of the element-wise and high-qubit kernels
THREADS = 256


def cupy_module():
    """Return the array module of device states: :mod:`cupy` (NumPy under the CUDA simulator)."""
    return device_array_module()


def device_free_memory() -> int:
    """Return the free bytes on the current CUDA device."""
    return _device_free_memory()


@cuda.jit
def _phase_kernel(psi, diag, gamma):
    i = cuda.grid(1)
    if i < psi.shape[0]:
        a = gamma * diag[i]
        c = math.cos(a)
        s = math.sin(a)
        re = psi[i].real
        im = psi[i].imag
        psi[i] = complex(re * c + im * s, im * c - re * s)


@cuda.jit
def _low_qubits_kernel(psi, phase, diag, gamma, phase_mode, cs, block_bits):
    # phase_mode 0: none, 1: multiply by phase[i], 2: by exp(-i gamma diag[i]); then RX on qubits 0..block_bits-1
    sr = cuda.shared.array(_TILE, np.float64)
    si = cuda.shared.array(_TILE, np.float64)
    size = 1 << block_bits
    base = cuda.blockIdx.x * size
    t = cuda.threadIdx.x
    T = cuda.blockDim.x
    for j in range(t, size, T):
        v = psi[base + j]
        re = v.real
        im = v.imag
        if phase_mode == 1:
            pr = phase[base + j].real
            pi = phase[base + j].imag
            re, im = re * pr - im * pi, re * pi + im * pr
        elif phase_mode == 2:
            a = gamma * diag[base + j]
            c = math.cos(a)
            s = math.sin(a)
            re, im = re * c + im * s, im * c - re * s
        sr[j] = re
        si[j] = im
    cuda.syncthreads()
    for q in range(block_bits):
        c = cs[q, 0]
        s = cs[q, 1]
        low = (1 << q) - 1
        for k in range(t, size >> 1, T):
            i0 = ((k >> q) << (q + 1)) | (k & low)
            i1 = i0 | (1 << q)
            ar = sr[i0]
            ai = si[i0]
            br = sr[i1]
            bi = si[i1]
            sr[i0] = c * ar + s * bi  # a' = c a - i s b
            si[i0] = c * ai - s * br
            sr[i1] = c * br + s * ai  # b' = c b - i s a
            si[i1] = c * bi - s * ar
        cuda.syncthreads()
    for j in range(t, size, T):
        psi[base + j] = complex(sr[j], si[j])


@cuda.jit(device=True)
def _rx_pair(psi, i0, i1, c, s):
    a = psi[i0]
    b = psi[i1]
    psi[i0] = complex(c * a.real + s * b.imag, c * a.imag - s * b.real)
    psi[i1] = complex(c * b.real + s * a.imag, c * b.imag - s * a.real)


@cuda.jit
def _high_pair_kernel(psi, q1, q2, c1, s1, c2, s2):
    # RX on qubits q1 < q2 (q2 == q1 when only one is left): four amplitudes per thread
    k = cuda.grid(1)
    if q2 == q1:
        if k < psi.shape[0] >> 1:
            i0 = ((k >> q1) << (q1 + 1)) | (k & ((1 << q1) - 1))
            _rx_pair(psi, i0, i0 | (1 << q1), c1, s1)
        return
    if k < psi.shape[0] >> 2:
        t = ((k >> q1) << (q1 + 1)) | (k & ((1 << q1) - 1))
        i00 = ((t >> q2) << (q2 + 1)) | (t & ((1 << q2) - 1))
        f1 = 1 << q1
        f2 = 1 << q2
        _rx_pair(psi, i00, i00 + f1, c1, s1)
        _rx_pair(psi, i00 + f2, i00 + f2 + f1, c1, s1)
        _rx_pair(psi, i00, i00 + f2, c2, s2)
        _rx_pair(psi, i00 + f1, i00 + f1 + f2, c2, s2)


def _blocks(count: int, threads: int = THREADS):
    threads = max(1, min(threads, count))
    return (count + threads - 1) // threads, threads


def _rx_cos_sin(mats):
    """Return the ``(n, 2)`` cos/sin table when every ``mats[q]`` is ``RX`` (``[[c, -is], [-is, c]]``), else None."""
    mats = np.asarray(mats, dtype=np.complex128)
    is_rx = bool(np.all(mats[:, 0, 0].imag == 0) and np.all(mats[:, 0, 1].real == 0)
                 and np.array_equal(mats[:, 1, 1], mats[:, 0, 0]) and np.array_equal(mats[:, 0, 1], mats[:, 1, 0]))
    return np.ascontiguousarray(np.stack([mats[:, 0, 0].real, -mats[:, 0, 1].imag], axis=1)) if is_rx else None


def _x_mixer(psi, cos_sin, *, phase=None, diag=None, gamma=0.0, block_bits=None) -> None:
    """Phase (from ``phase``, or ``diag`` and ``gamma``, or none) then ``RX`` on every qubit, in place, on the device."""
    xp = device_array_module()
    n_amp = psi.shape[0]
    n = n_amp.bit_length() - 1
    cs = xp.asarray(np.ascontiguousarray(cos_sin, dtype=np.float64))
    if block_bits is None:
        block_bits = SIMULATOR_BLOCK_QUBITS if cuda_simulator_enabled() else BLOCK_QUBITS
    block = max(1, min(int(block_bits), BLOCK_QUBITS, n))
    mode = 1 if phase is not None else (2 if diag is not None else 0)
    dummy_c = xp.ones(1, dtype=np.complex128)
    dummy_f = xp.zeros(1, dtype=np.float64)
    with simulator_launch():
        _low_qubits_kernel[n_amp >> block, max(1, min(THREADS, 1 << max(block - 1, 0)))](
            psi, phase if phase is not None else dummy_c, diag if diag is not None else dummy_f, float(gamma), mode,
            cs, block)
        q = block
        while q < n:
            q2 = q + 1 if q + 1 < n else q
            count = n_amp >> (2 if q2 != q else 1)
            _high_pair_kernel[_blocks(count)](psi, q, q2, float(cos_sin[q][0]), float(cos_sin[q][1]),
                                              float(cos_sin[q2][0]), float(cos_sin[q2][1]))
            q += 2


def x_mixer_layer(psi, diag, gamma: float, betas, *, block_bits=None) -> None:
    """One QAOA layer in place: multiply by ``exp(-i gamma diag)``, then ``exp(-i beta_q X)`` on every qubit.

    ``betas`` is a scalar or one angle per qubit.  The CPU twin is
    :func:`cutslack.quantum.statevector.apply_phase` followed by
    :func:`~cutslack.quantum.statevector.apply_mixer_layer` with
    :func:`~cutslack.quantum.statevector.x_mixer_matrices`.
    """
    n = psi.shape[0].bit_length() - 1
    b = np.broadcast_to(np.asarray(betas, dtype=np.float64), (n,))
    _x_mixer(psi, np.stack([np.cos(b), np.sin(b)], axis=1), diag=diag, gamma=gamma, block_bits=block_bits)


def qaoa_state(diag, gammas, betas, *, dtype=np.complex128, block_bits=None):
    """Return the ``p``-layer QAOA state with ``exp(-i beta X)`` mixers from the ``|+>^n`` state, on the device.

    ``diag`` is the cost diagonal on the device, of any real dtype (one per layer for multi-angle
    costs: a sequence of ``p`` diagonals); the host simulator passes its compact diagonal
    (:func:`cutslack.quantum.statevector.compact_diagonal`: int8/16/32 or float32 where exact)
    with the angles divided by its scale, so the device holds no float64 copy.
    ``gammas`` ``(p,)`` and ``betas`` ``(p,)`` or ``(p, n)``;
    ``dtype`` ``complex128`` or ``complex64`` (the arithmetic is float64 either way; the
    state is stored in ``dtype``).
    """
    xp = device_array_module()
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.complex64), np.dtype(np.complex128)):
        raise ValueError(f"dtype must be complex64 or complex128, got {dtype}")
    diags = diag if isinstance(diag, (list, tuple)) else None
    n_amp = (diags[0] if diags is not None else diag).shape[0]
    n = n_amp.bit_length() - 1
    psi = xp.full(n_amp, (2.0 ** -0.5) ** n, dtype=dtype)
    for layer in range(len(gammas)):
        d = diags[layer] if diags is not None else diag
        x_mixer_layer(psi, d, float(gammas[layer]), betas[layer], block_bits=block_bits)
    return psi


def _pairs(psi, q: int):
    n_amp = psi.shape[0]
    v = psi.reshape(n_amp >> (q + 1), 2, 1 << q)
    return v[:, 0, :], v[:, 1, :]


def apply_phase(psi, diag, gamma: float) -> None:
    """Multiply ``psi`` in place by ``exp(-i gamma diag)`` (one ``sincos`` per amplitude)."""
    with simulator_launch():
        _phase_kernel[_blocks(psi.shape[0])](psi, diag, float(gamma))


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
    """Multiply by ``phase`` (when given) then apply ``mats[q]`` on every qubit ``q``, in place.

    ``RX`` mixers (the standard and multi-angle QAOA layers) run the shared-memory kernels;
    other unitaries the CuPy array code.
    """
    cos_sin = _rx_cos_sin(mats)
    if cos_sin is not None:
        return _x_mixer(psi, cos_sin, phase=phase)
    if phase is not None:
        psi *= phase
    apply_single_qubit_gates(psi, np.arange(len(mats)), mats)


def apply_cx(psi, control: int, target: int) -> None:
    """Apply a CNOT (``control`` → ``target``) in place."""
    cp = get_array_module(psi)
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
    cp = get_array_module(psi)
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
