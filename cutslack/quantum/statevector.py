"""A fast statevector simulator for diagonal-cost circuits (QAOA) and hardware-efficient ansätze.

Why hand-written: a QAOA layer on a QUBO is an element-wise phase by the cost diagonal
followed by one 2×2 rotation per qubit.  A general-purpose simulator (Qiskit Aer) applies
one gate per Ising term instead — ``n(n-1)/2`` two-qubit gates per layer on a dense QUBO —
so precomputing the diagonal once and streaming the state ``n + 1`` times per layer is
much faster.  The streaming loops are Numba kernels (``parallel=True, cache=True``); their
CuPy twins with the same signatures live in :mod:`cutslack.gpu.statevector`.
With the standard (and multi-angle) ``exp(-i beta X)`` mixers on the host,
:meth:`StatevectorSimulator.qaoa_state` keeps the state as separate real and imaginary arrays so the
butterflies vectorise (about 2.5x faster at 20 qubits); its kernels are below the complex ones.

Bit order is Qiskit's (see :mod:`cutslack.quantum.ising`): amplitude ``k`` has qubit ``q``
in state ``(k >> q) & 1`` and qubit ``q`` carries variable ``q``.

The cost diagonal and each layer's phase ``exp(-i gamma diag)`` are built by doubling: the diagonal over the first ``k`` qubits is copied
into the half with qubit ``k`` set and both halves are shifted by ``±(h_k + f_k)``, where
the field ``f_k`` (couplings to lower qubits) is itself built by doubling.  That is
``O(2^n)`` work in all, fully vectorised, and the same code runs on CuPy.  For the phase the
shifts are products with scalar exponentials, so no sine or cosine is taken per amplitude.
"""

from __future__ import annotations

import os

import numba
import numpy as np

from cutslack.binary import QUBO
from cutslack.config import check_memory
from cutslack.errors import ProblemTooLargeError
from cutslack.gpu.backend import asnumpy, get_array_module, resolve_backend
from cutslack.quantum.ising import bits_from_indices, ising_terms
from cutslack.result import SampleSet

__all__ = ["StatevectorSimulator", "array_module", "ising_diagonal", "ising_phase", "check_statevector_size", "apply_phase",
           "apply_single_qubit_gates", "apply_mixer_layer", "apply_cx", "expectation_diagonal", "probabilities",
           "x_mixer_matrices", "ry_matrix", "rz_matrix", "MAX_QUBITS", "pauli_masks", "pauli_expectations"]

#: hard cap on qubits, whatever the memory (index arithmetic stays in int64 far below this)
MAX_QUBITS = 40
#: bytes per amplitude: complex128 state + float64 diagonal + the X-mixer work buffers (split state,
#: split phase, half-size complex field)
BYTES_PER_AMPLITUDE = 16 + 8 + 16 + 16 + 8


def _available_memory(backend: str) -> int:
    """Return the bytes of free host (or device) memory."""
    if backend == "cupy":
        from cutslack.gpu.statevector import device_free_memory

        return device_free_memory()
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


def array_module(backend: str = "numpy"):
    """Return the array module (NumPy, or CuPy on a device) a simulation on ``backend`` uses."""
    if resolve_backend(backend) == "cupy":
        return _gpu().cupy_module()
    return np


def check_statevector_size(n: int, *, backend: str = "numpy", memory_fraction: float = 0.5) -> int:
    """Return the bytes a simulation of ``n`` qubits needs, or raise ``ProblemTooLargeError``.

    Refuses (before anything is allocated) when the state, the diagonal and the temporaries
    need more than ``memory_fraction`` of the free host (or device) memory.
    """
    if n > MAX_QUBITS:
        raise ProblemTooLargeError(f"statevector of 2^{n} amplitudes", f"{n} qubits", f"{MAX_QUBITS} qubits")
    need = BYTES_PER_AMPLITUDE << n
    check_memory(f"statevector of 2^{n} amplitudes ({backend})", f"{n} qubits", need)
    limit = int(memory_fraction * _available_memory(backend))
    if need > limit:
        raise ProblemTooLargeError(f"statevector of 2^{n} amplitudes ({n} qubits, {backend})",
                                   f"{need} bytes", f"{limit} bytes ({memory_fraction:.0%} of free memory)")
    return need


def _by_doubling(h, rows, cols, J, n: int, xp, gamma=None):
    """Diagonal (``gamma`` None) or phase ``exp(-i gamma diag)`` of an Ising operator, by doubling.

    The phase is built multiplicatively from ``O(n^2)`` scalar exponentials, so no sine or
    cosine is evaluated per amplitude.
    """
    h = np.asarray(h, dtype=float)
    Jd = np.zeros((n, n))
    np.add.at(Jd, (np.minimum(rows, cols), np.maximum(rows, cols)), J)
    if gamma is None:
        dtype, unit, coef = xp.float64, 0.0, (lambda c: c)
        plus, minus = xp.add, xp.subtract
    else:
        dtype, unit, coef = xp.complex128, 1.0, (lambda c: complex(np.exp(-1j * gamma * c)))
        plus = xp.multiply

        def minus(a, c, out):
            return xp.multiply(a, np.conj(c), out=out)
    out = xp.empty(1 << n, dtype=dtype)
    out[0] = unit
    field = xp.empty(1 << max(n - 1, 0), dtype=dtype)
    for k in range(n):
        size = 1 << k
        f = field[:size]
        f[0] = coef(h[k])
        for j in range(k):  # field of qubit k from the lower qubits, doubled over j
            half = 1 << j
            c = coef(Jd[j, k])
            minus(f[:half], c, out=f[half:2 * half])
            plus(f[:half], c, out=f[:half])
        minus(out[:size], f, out=out[size:2 * size])
        plus(out[:size], f, out=out[:size])
    return out


def ising_diagonal(h, rows, cols, J, n: int, xp=np):
    """Return the ``2^n`` diagonal of ``sum_i h_i Z_i + sum_t J_t Z_{rows_t} Z_{cols_t}`` (float64).

    Entry ``k`` is the value at ``z_q = 1 - 2 ((k >> q) & 1)``; built by doubling (module docstring).
    """
    return _by_doubling(h, rows, cols, J, n, xp)


def _phase_factors(h, rows, cols, J, n: int, gamma: float):
    """Return ``exp(-i gamma h)`` and the upper-triangular ``exp(-i gamma J)`` matrix the phase doubling multiplies by."""
    Jd = np.zeros((n, n))
    np.add.at(Jd, (np.minimum(rows, cols), np.maximum(rows, cols)), J)
    return np.exp(-1j * gamma * np.asarray(h, dtype=float)), np.exp(-1j * gamma * Jd)


def ising_phase(h, rows, cols, J, n: int, gamma: float, xp=np):
    """Return ``exp(-i gamma diag)`` for the diagonal of :func:`ising_diagonal` (complex128)."""
    if xp is not np:
        return _by_doubling(h, rows, cols, J, n, xp, gamma=float(gamma))
    out = np.empty(1 << n, dtype=np.complex128)
    floats = out.view(np.float64)
    _phase_doubling_kernel(*_phase_factors(h, rows, cols, J, n, gamma), floats[0::2], floats[1::2],
                           np.empty(1 << max(n - 1, 0), dtype=np.complex128))
    return out


@numba.njit(cache=True)
def _phase_doubling_kernel(h_exp, J_exp, out_re, out_im, field):
    # the multiplicative doubling of _by_doubling as plain loops (NumPy pays per-call overhead on small
    # slices), writing real and imaginary parts to separate arrays (strided views of a complex array work too)
    n = h_exp.shape[0]
    out_re[0] = 1.0
    out_im[0] = 0.0
    for k in range(n):
        size = 1 << k
        field[0] = h_exp[k]
        for j in range(k):
            half = 1 << j
            c = J_exp[j, k]
            cc = np.conj(c)
            for i in range(half):
                f = field[i]
                field[half + i] = f * cc
                field[i] = f * c
        for i in range(size):
            o_r = out_re[i]
            o_i = out_im[i]
            f_r = field[i].real
            f_i = field[i].imag
            out_re[size + i] = o_r * f_r + o_i * f_i  # o * conj(f)
            out_im[size + i] = o_i * f_r - o_r * f_i
            out_re[i] = o_r * f_r - o_i * f_i  # o * f
            out_im[i] = o_r * f_i + o_i * f_r


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
def _block_kernel(psi, phase, with_phase, mats, block_bits):
    # phase, then the mixers of qubits 0..block_bits-1, block by block while the block is in cache
    size = 1 << block_bits
    for blk in numba.prange(psi.shape[0] >> block_bits):
        base = blk << block_bits
        if with_phase:
            for i in range(base, base + size):
                psi[i] *= phase[i]
        for q in range(block_bits):
            u00, u01, u10, u11 = mats[q, 0, 0], mats[q, 0, 1], mats[q, 1, 0], mats[q, 1, 1]
            step = 1 << q
            for start in range(base, base + size, 2 * step):
                for i0 in range(start, start + step):  # contiguous, so Numba vectorises it
                    a0 = psi[i0]
                    b0 = psi[i0 + step]
                    psi[i0] = u00 * a0 + u01 * b0
                    psi[i0 + step] = u10 * a0 + u11 * b0


@numba.njit(inline="always")
def _rx_pair(v, i, j, c, s):
    # RX on the amplitudes at float offsets i, j of a float64 view: a' = c a - i s b, b' = c b - i s a
    ar = v[i]
    ai = v[i + 1]
    br = v[j]
    bi = v[j + 1]
    v[i] = c * ar + s * bi
    v[i + 1] = c * ai - s * br
    v[j] = c * br + s * ai
    v[j + 1] = c * bi - s * ar


@numba.njit(parallel=True, cache=True)
def _block_kernel_rx(v, phase, with_phase, cs, block_bits):
    # _block_kernel for X mixers (u00 = u11 = c, u01 = u10 = -i s) on float64 views of psi and phase:
    # real arithmetic, 8 multiplications per amplitude pair instead of 16
    size = 1 << block_bits
    for blk in numba.prange((v.shape[0] >> 1) >> block_bits):
        base = blk << block_bits
        if with_phase:
            for i in range(2 * base, 2 * (base + size), 2):
                ar = v[i]
                ai = v[i + 1]
                pr = phase[i]
                pi = phase[i + 1]
                v[i] = ar * pr - ai * pi
                v[i + 1] = ar * pi + ai * pr
        for q in range(block_bits):
            c = cs[q, 0]
            s = cs[q, 1]
            step = 2 << q  # floats between partners
            for start in range(2 * base, 2 * (base + size), 2 * step):
                for i in range(start, start + step, 2):
                    _rx_pair(v, i, i + step, c, s)


@numba.njit(parallel=True, cache=True)
def _pair_kernel_rx(v, q1, q2, c1, s1, c2, s2):
    # _pair_kernel for two X mixers on a float64 view
    f1, f2 = 2 << q1, 2 << q2
    low1 = (1 << q1) - 1
    low2 = (1 << q2) - 1
    for k in numba.prange((v.shape[0] >> 1) >> 2):
        t = ((k >> q1) << (q1 + 1)) | (k & low1)
        i00 = 2 * (((t >> q2) << (q2 + 1)) | (t & low2))
        _rx_pair(v, i00, i00 + f1, c1, s1)
        _rx_pair(v, i00 + f2, i00 + f2 + f1, c1, s1)
        _rx_pair(v, i00, i00 + f2, c2, s2)
        _rx_pair(v, i00 + f1, i00 + f1 + f2, c2, s2)


# --- Structure-of-arrays kernels for X-mixer QAOA (StatevectorSimulator.qaoa_state) -------------
# The state lives as separate real and imaginary float64 arrays while a QAOA circuit runs: the
# butterflies of RX on qubit q >= 3 are then contiguous runs that LLVM vectorises (slices make
# the runs explicit; indexing the halves of one array inside one loop did not vectorise), the
# three lowest qubits are fused into one 8-amplitude kernel, and the high qubits are applied on
# tiles (rows 2^qlo apart × a contiguous chunk) that stay in cache, all of them in one pass.

_FAST = dict(cache=True, fastmath=True, error_model="numpy", boundscheck=False)


@numba.njit(inline="always", fastmath=True, error_model="numpy", boundscheck=False)
def _rx_runs(ra, ia, rb, ib, c, s):
    # RX (cos c, sin s) on the amplitude pairs (a_j, b_j) of two equal runs: a' = c a - i s b, b' = c b - i s a
    for j in range(ra.shape[0]):
        ar = ra[j]
        ai = ia[j]
        br = rb[j]
        bi = ib[j]
        ra[j] = c * ar + s * bi
        ia[j] = c * ai - s * br
        rb[j] = c * br + s * ai
        ib[j] = c * bi - s * ar


@numba.njit(inline="always", fastmath=True, error_model="numpy", boundscheck=False)
def _rx_low3(r, i, cs):
    # RX on qubits 0, 1, 2 of every group of 8 consecutive amplitudes (12 butterflies held in registers)
    c0, s0, c1, s1, c2, s2 = cs[0, 0], cs[0, 1], cs[1, 0], cs[1, 1], cs[2, 0], cs[2, 1]
    for g in range(0, r.shape[0], 8):
        r0, r1, r2, r3, r4, r5, r6, r7 = r[g], r[g + 1], r[g + 2], r[g + 3], r[g + 4], r[g + 5], r[g + 6], r[g + 7]
        i0, i1, i2, i3, i4, i5, i6, i7 = i[g], i[g + 1], i[g + 2], i[g + 3], i[g + 4], i[g + 5], i[g + 6], i[g + 7]
        r0, i0, r1, i1 = c0 * r0 + s0 * i1, c0 * i0 - s0 * r1, c0 * r1 + s0 * i0, c0 * i1 - s0 * r0
        r2, i2, r3, i3 = c0 * r2 + s0 * i3, c0 * i2 - s0 * r3, c0 * r3 + s0 * i2, c0 * i3 - s0 * r2
        r4, i4, r5, i5 = c0 * r4 + s0 * i5, c0 * i4 - s0 * r5, c0 * r5 + s0 * i4, c0 * i5 - s0 * r4
        r6, i6, r7, i7 = c0 * r6 + s0 * i7, c0 * i6 - s0 * r7, c0 * r7 + s0 * i6, c0 * i7 - s0 * r6
        r0, i0, r2, i2 = c1 * r0 + s1 * i2, c1 * i0 - s1 * r2, c1 * r2 + s1 * i0, c1 * i2 - s1 * r0
        r1, i1, r3, i3 = c1 * r1 + s1 * i3, c1 * i1 - s1 * r3, c1 * r3 + s1 * i1, c1 * i3 - s1 * r1
        r4, i4, r6, i6 = c1 * r4 + s1 * i6, c1 * i4 - s1 * r6, c1 * r6 + s1 * i4, c1 * i6 - s1 * r4
        r5, i5, r7, i7 = c1 * r5 + s1 * i7, c1 * i5 - s1 * r7, c1 * r7 + s1 * i5, c1 * i7 - s1 * r5
        r0, i0, r4, i4 = c2 * r0 + s2 * i4, c2 * i0 - s2 * r4, c2 * r4 + s2 * i0, c2 * i4 - s2 * r0
        r1, i1, r5, i5 = c2 * r1 + s2 * i5, c2 * i1 - s2 * r5, c2 * r5 + s2 * i1, c2 * i5 - s2 * r1
        r2, i2, r6, i6 = c2 * r2 + s2 * i6, c2 * i2 - s2 * r6, c2 * r6 + s2 * i2, c2 * i6 - s2 * r2
        r3, i3, r7, i7 = c2 * r3 + s2 * i7, c2 * i3 - s2 * r7, c2 * r7 + s2 * i3, c2 * i7 - s2 * r3
        r[g], r[g + 1], r[g + 2], r[g + 3], r[g + 4], r[g + 5], r[g + 6], r[g + 7] = r0, r1, r2, r3, r4, r5, r6, r7
        i[g], i[g + 1], i[g + 2], i[g + 3], i[g + 4], i[g + 5], i[g + 6], i[g + 7] = i0, i1, i2, i3, i4, i5, i6, i7


@numba.njit(parallel=True, **_FAST)
def _soa_low_kernel(re, im, pre, pim, cs, block_bits):
    # per block of 2^block_bits amplitudes, while it is in cache: the phase, then RX on qubits 0..block_bits-1
    size = 1 << block_bits
    for blk in numba.prange(re.shape[0] >> block_bits):
        lo = blk << block_bits
        r = re[lo:lo + size]
        i = im[lo:lo + size]
        pr = pre[lo:lo + size]
        pi = pim[lo:lo + size]
        for j in range(size):
            ar = r[j]
            ai = i[j]
            r[j] = ar * pr[j] - ai * pi[j]
            i[j] = ar * pi[j] + ai * pr[j]
        _rx_low3(r, i, cs)
        for q in range(3, block_bits):
            c = cs[q, 0]
            s = cs[q, 1]
            step = 1 << q
            for st in range(0, size, 2 * step):
                _rx_runs(r[st:st + step], i[st:st + step], r[st + step:st + 2 * step], i[st + step:st + 2 * step], c, s)


@numba.njit(parallel=True, **_FAST)
def _soa_group_kernel(re, im, cs, qlo, qhi, chunk_bits):
    # RX on qubits qlo..qhi-1, tile by tile: a tile is 2^(qhi-qlo) rows 2^qlo apart of 2^chunk_bits contiguous amplitudes
    rows = qhi - qlo
    chunk = 1 << chunk_bits
    inner = qlo - chunk_bits  # index bits between the chunk and the rows, enumerated by the tile number
    for t in numba.prange(re.shape[0] >> (rows + chunk_bits)):
        base = ((t & ((1 << inner) - 1)) << chunk_bits) | ((t >> inner) << qhi)
        for h in range(rows):
            c = cs[qlo + h, 0]
            s = cs[qlo + h, 1]
            off = 1 << (qlo + h)
            for r in range(1 << (rows - 1)):
                a = base + ((((r >> h) << (h + 1)) | (r & ((1 << h) - 1))) << qlo)
                b = a + off
                _rx_runs(re[a:a + chunk], im[a:a + chunk], re[b:b + chunk], im[b:b + chunk], c, s)


@numba.njit(parallel=True, **_FAST)
def _soa_expectation_kernel(re, im, diag):
    total = 0.0
    for k in numba.prange(re.shape[0]):
        total += (re[k] * re[k] + im[k] * im[k]) * diag[k]
    return total


@numba.njit(parallel=True, cache=True)
def _pair_kernel(psi, q1, q2, m1, m2):
    # the mixers of two high qubits q1 < q2 in one pass over the state (groups of 4 amplitudes)
    s1, s2 = 1 << q1, 1 << q2
    low1 = s1 - 1
    for k in numba.prange(psi.shape[0] >> 2):
        t = ((k >> q1) << (q1 + 1)) | (k & low1)
        i00 = ((t >> q2) << (q2 + 1)) | (t & ((1 << q2) - 1))
        i10 = i00 | s1
        i01 = i00 | s2
        i11 = i01 | s1
        a, b, c, d = psi[i00], psi[i10], psi[i01], psi[i11]
        a, b = m1[0, 0] * a + m1[0, 1] * b, m1[1, 0] * a + m1[1, 1] * b
        c, d = m1[0, 0] * c + m1[0, 1] * d, m1[1, 0] * c + m1[1, 1] * d
        psi[i00] = m2[0, 0] * a + m2[0, 1] * c
        psi[i01] = m2[1, 0] * a + m2[1, 1] * c
        psi[i10] = m2[0, 0] * b + m2[0, 1] * d
        psi[i11] = m2[1, 0] * b + m2[1, 1] * d


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


@numba.njit(cache=True)
def _parity(v):
    v ^= v >> 32
    v ^= v >> 16
    v ^= v >> 8
    v ^= v >> 4
    v ^= v >> 2
    v ^= v >> 1
    return v & 1


@numba.njit(parallel=True, cache=True)
def _pauli_expectation_kernel(psi, xmasks, zmasks, out):
    # <psi|P|psi> for P = i^{#Y} X^x Z^z:  P|k> = i^{#Y} (-1)^{|k & z|} |k ^ x>
    for t in numba.prange(xmasks.shape[0]):
        xm, zm = xmasks[t], zmasks[t]
        acc = 0.0 + 0.0j
        for k in range(psi.shape[0]):
            a = psi[k ^ xm].conjugate() * psi[k]
            if _parity(k & zm):
                acc -= a
            else:
                acc += a
        out[t] = acc


#: states with fewer amplitudes than this run the kernels on one thread: waking a thread team
#: costs more than the work, and far more when the cores are shared (measured ~50x on 4 qubits)
SERIAL_BELOW = 1 << 14


def _serial_when_small(fn):
    """Run ``fn(psi, ...)`` with one Numba thread when ``psi`` is small (see :data:`SERIAL_BELOW`)."""
    import functools

    @functools.wraps(fn)
    def wrapper(psi, *args, **kwargs):
        if psi.shape[0] >= SERIAL_BELOW or get_array_module(psi) is not np:
            return fn(psi, *args, **kwargs)
        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            return fn(psi, *args, **kwargs)
        finally:
            numba.set_num_threads(threads)

    return wrapper


def _gpu():
    from cutslack.gpu import statevector as gpu_statevector

    return gpu_statevector


@_serial_when_small
def apply_phase(psi, diag, gamma: float) -> None:
    """Multiply ``psi`` in place by ``exp(-i gamma diag)`` (returns nothing)."""
    if get_array_module(psi) is not np:
        return _gpu().apply_phase(psi, diag, gamma)
    _phase_kernel(psi, diag, float(gamma))


@_serial_when_small
def apply_single_qubit_gates(psi, qubits, mats) -> None:
    """Apply the 2×2 unitaries ``mats[g]`` to qubits ``qubits[g]`` in order, in place."""
    if get_array_module(psi) is not np:
        return _gpu().apply_single_qubit_gates(psi, qubits, mats)
    _gates_kernel(psi, np.ascontiguousarray(qubits, dtype=np.int64), np.ascontiguousarray(mats, dtype=np.complex128))


#: qubits whose mixers are applied inside one cache-sized block (2^13 amplitudes = 128 KiB)
BLOCK_QUBITS = 13


@_serial_when_small
def apply_mixer_layer(psi, mats, phase=None) -> None:
    """Multiply by ``phase`` (when given) then apply ``mats[q]`` on every qubit ``q``, in place.

    One pass applies the phase and the mixers of the low qubits block by block; the high
    qubits follow two per pass, so a layer streams the state ``1 + ceil((n - 13) / 2)`` times
    instead of ``n + 1``.  X mixers (``RX``, the standard and multi-angle QAOA layers) take a
    real-arithmetic path on float64 views of the state (half the multiplications).
    """
    if get_array_module(psi) is not np:
        return _gpu().apply_mixer_layer(psi, mats, phase)
    mats = np.ascontiguousarray(mats, dtype=np.complex128)
    n = mats.shape[0]
    block = min(BLOCK_QUBITS, n)
    cos, sin = mats[:, 0, 0].real, -mats[:, 0, 1].imag
    is_rx = bool(np.all(mats[:, 0, 0].imag == 0) and np.all(mats[:, 0, 1].real == 0)
                 and np.array_equal(mats[:, 1, 1], mats[:, 0, 0]) and np.array_equal(mats[:, 0, 1], mats[:, 1, 0]))
    with_phase = phase is not None
    phase = phase if with_phase else np.ones(1, dtype=np.complex128)
    if is_rx:  # the standard and multi-angle mixers: real arithmetic on float views
        cs = np.ascontiguousarray(np.stack([cos, sin], axis=1))
        v = psi.view(np.float64)
        _block_kernel_rx(v, phase.view(np.float64), with_phase, cs, block)
        q = block
        while q + 1 < n:
            _pair_kernel_rx(v, q, q + 1, cs[q, 0], cs[q, 1], cs[q + 1, 0], cs[q + 1, 1])
            q += 2
    else:
        _block_kernel(psi, phase, with_phase, mats, block)
        q = block
        while q + 1 < n:
            _pair_kernel(psi, q, q + 1, mats[q], mats[q + 1])
            q += 2
    if q < n:
        _gates_kernel(psi, np.array([q], dtype=np.int64), mats[q:q + 1])


#: each high-qubit tile row is a contiguous run of at least 2^CHUNK_BITS amplitudes (shorter runs did not vectorise)
CHUNK_BITS = 5


def _high_qubit_groups(n: int, block: int) -> list:
    """Return ``(qlo, qhi, chunk_bits)`` per tile pass over the qubits ``block..n-1`` (tiles of ``2^block`` amplitudes)."""
    high = n - block
    if high <= 0:
        return []
    count = -(-high // (block - CHUNK_BITS))
    groups, q = [], block
    for k in range(count):
        rows = high // count + (k < high % count)
        groups.append((q, q + rows, block - rows))
        q += rows
    return groups


@_serial_when_small
def _x_mixer_layer_soa(re, im, phase_re, phase_im, cos_sin) -> None:
    """Multiply the split state ``re + i im`` by the phase, then apply ``RX`` on every qubit, in place (``n >= 3``).

    One pass applies the phase and the low qubits block by block, one more pass per group of
    up to ``BLOCK_QUBITS - CHUNK_BITS`` high qubits (one group for n <= 21).
    """
    n = re.shape[0].bit_length() - 1
    block = min(BLOCK_QUBITS, n)
    _soa_low_kernel(re, im, phase_re, phase_im, cos_sin, block)
    for qlo, qhi, chunk_bits in _high_qubit_groups(n, block):
        _soa_group_kernel(re, im, cos_sin, qlo, qhi, chunk_bits)


def pauli_masks(labels, n: int):
    """Return ``(xmasks, zmasks)`` int64 arrays of Pauli strings given as ``{qubit: "X"|"Y"|"Z"}`` dicts.

    Bit ``q`` of ``xmask`` is set for X or Y on qubit ``q``, of ``zmask`` for Z or Y
    (the symplectic form; ``Y = i X Z``).
    """
    xm = np.zeros(len(labels), dtype=np.int64)
    zm = np.zeros(len(labels), dtype=np.int64)
    for t, term in enumerate(labels):
        for q, ch in term.items():
            if not 0 <= q < n or ch not in "XYZ":
                raise ValueError(f"Pauli term {term!r}: qubits must lie in [0, {n}) and factors be X, Y or Z")
            if ch in "XY":
                xm[t] |= 1 << q
            if ch in "YZ":
                zm[t] |= 1 << q
    return xm, zm


@_serial_when_small
def pauli_expectations(psi, xmasks, zmasks) -> np.ndarray:
    """Return the real expectations ``<psi|P_t|psi>`` of the Pauli strings given by their masks.

    ``P|k> = i^{#Y} (-1)^{popcount(k & z)} |k ^ x>``, so each term is one pass over the state
    (no rotated copies); the ``i^{#Y}`` factor is applied here.
    """
    xm = np.ascontiguousarray(xmasks, dtype=np.int64)
    zm = np.ascontiguousarray(zmasks, dtype=np.int64)
    n_y = np.array([bin(int(v)).count("1") for v in xm & zm], dtype=np.int64)
    phase = (1j) ** (n_y % 4)
    if get_array_module(psi) is not np:
        raw = _gpu().pauli_expectations_raw(psi, xm, zm)
    else:
        raw = np.empty(len(xm), dtype=np.complex128)
        _pauli_expectation_kernel(psi, xm, zm, raw)
    return np.real(phase * raw)


@_serial_when_small
def apply_cx(psi, control: int, target: int) -> None:
    """Apply a CNOT (``control`` → ``target``) to ``psi`` in place."""
    if get_array_module(psi) is not np:
        return _gpu().apply_cx(psi, control, target)
    _cx_kernel(psi, int(control), int(target))


@_serial_when_small
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
        ``"numpy"`` runs the Numba kernels; ``"cupy"`` their device twins
        (:mod:`cutslack.gpu.statevector`; under Numba's CUDA simulator, on NumPy arrays).
    dtype : complex128 or complex64
        Amplitude type of the device states (``"cupy"``); the host path is complex128.
    memory_fraction : float
        Refuse with :class:`ProblemTooLargeError` above this fraction of free memory.

    Attributes
    ----------
    diagonal : the Ising diagonal (``E(x) - offset``) on the chosen device.
    offset : the constant, so that ``diagonal + offset`` are the QUBO energies.
    """

    def __init__(self, qubo: QUBO, *, backend: str = "numpy", memory_fraction: float = 0.5, dtype=np.complex128):
        self.backend = resolve_backend(backend)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.complex128), np.dtype(np.complex64)):
            raise ValueError(f"dtype must be complex128 or complex64, got {self.dtype}")
        if self.dtype == np.complex64 and self.backend != "cupy":
            raise ValueError("complex64 states are simulated on the device backend only (backend='cupy')")
        self.n = qubo.n
        self.bytes_needed = check_statevector_size(self.n, backend=self.backend, memory_fraction=memory_fraction)
        self.qubo = qubo
        self.xp = _gpu().cupy_module() if self.backend == "cupy" else np  # NumPy under the CUDA simulator
        self.h, self.rows, self.cols, self.J, self.offset = ising_terms(qubo)
        self.diagonal = ising_diagonal(self.h, self.rows, self.cols, self.J, self.n, self.xp)
        self._work = None  # the split state, phase and field buffers of _x_mixer_qaoa_state

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
        if thetas is None and self.backend == "cupy":
            return self._device_qaoa_state(gammas, betas)
        if thetas is None and self.xp is np and self.n >= 3:
            return self._x_mixer_qaoa_state(gammas, betas)
        psi = self.product_state(thetas)
        for layer in range(gammas.shape[0]):
            mats = x_mixer_matrices(betas[layer], self.n, thetas)
            h, J, gamma = self._cost_terms(gammas[layer])
            apply_mixer_layer(psi, mats, ising_phase(h, self.rows, self.cols, J, self.n, gamma, self.xp))
        return psi

    def _cost_terms(self, gamma):
        """Return ``(h, J, angle)`` of one layer's cost phase (multi-angle: the angles folded into the terms)."""
        if gamma.ndim == 0:
            return self.h, self.J, float(gamma)
        return gamma[:self.n] * self.h, gamma[self.n:] * self.J, 1.0

    def _device_qaoa_state(self, gammas, betas):
        """Return the QAOA state with ``exp(-i beta X)`` mixers from the device kernels (phase fused from the diagonal)."""
        if gammas.ndim == 1:
            return _gpu().qaoa_state(self.diagonal, gammas, betas, dtype=self.dtype)
        diags = []
        for layer in range(gammas.shape[0]):  # multi-angle: the layer's angles folded into the terms
            h, J, _ = self._cost_terms(gammas[layer])
            diags.append(ising_diagonal(h, self.rows, self.cols, J, self.n, self.xp))
        return _gpu().qaoa_state(diags, np.ones(gammas.shape[0]), betas, dtype=self.dtype)

    def _x_mixer_qaoa_state(self, gammas, betas):
        """Return the QAOA state with ``exp(-i beta X)`` mixers, simulated as split real and imaginary arrays."""
        n = self.n
        if self._work is None:  # kept between calls: fresh pages cost as much as a layer (page faults)
            self._work = (np.empty(1 << n), np.empty(1 << n), np.empty(1 << n), np.empty(1 << n),
                          np.empty(1 << (n - 1), dtype=np.complex128))
        re, im, phase_re, phase_im, field = self._work
        re.fill((2.0 ** -0.5) ** n)
        im.fill(0.0)
        for layer in range(gammas.shape[0]):
            h, J, gamma = self._cost_terms(gammas[layer])
            _phase_doubling_kernel(*_phase_factors(h, self.rows, self.cols, J, n, gamma), phase_re, phase_im, field)
            b = np.broadcast_to(betas[layer], (n,))
            _x_mixer_layer_soa(re, im, phase_re, phase_im, np.ascontiguousarray(np.stack([np.cos(b), np.sin(b)], axis=1)))
        psi = np.empty(1 << n, dtype=np.complex128)
        psi.real = re
        psi.imag = im
        return psi

    def expectation(self, psi) -> float:
        """Return the QUBO energy expectation ``<psi| H |psi> + offset``."""
        return expectation_diagonal(psi, self.diagonal) + self.offset

    def energies(self, indices) -> np.ndarray:
        """Return the QUBO energies of basis states ``indices`` (read off the diagonal)."""
        return asnumpy(self.diagonal[self.xp.asarray(indices)]) + self.offset

    def sample_indices(self, psi, shots: int, rng) -> np.ndarray:
        """Return ``shots`` basis-state indices drawn from ``|psi|^2`` with ``rng`` (a NumPy array).

        Array code for either module: on a device the cumulative distribution and the search
        stay there and only the indices come back; the uniforms come from ``rng`` on the host,
        so both paths draw the same indices.
        """
        xp = get_array_module(psi)
        p = (psi.real ** 2 + psi.imag ** 2).astype(xp.float64)
        cdf = xp.cumsum(p)
        u = xp.asarray(np.random.default_rng(rng).random(int(shots))) * cdf[-1]
        return asnumpy(xp.minimum(xp.searchsorted(cdf, u, side="right"), p.shape[0] - 1))

    def sample(self, psi, shots: int, rng=None) -> SampleSet:
        """Return a SampleSet of ``shots`` measurements of ``psi`` (duplicates merged into counts)."""
        idx, counts = np.unique(self.sample_indices(psi, shots, rng), return_counts=True)
        return SampleSet(bits_from_indices(idx, self.n), self.energies(idx), counts).lowest()
