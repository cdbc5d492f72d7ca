"""A fast statevector simulator for diagonal-cost circuits (QAOA) and hardware-efficient ansätze.

Why hand-written: a QAOA layer on a QUBO is an element-wise phase by the cost diagonal
followed by one 2×2 rotation per qubit.  A general-purpose simulator (Qiskit Aer) applies
one gate per Ising term instead — ``n(n-1)/2`` two-qubit gates per layer on a dense QUBO —
so precomputing the diagonal once and streaming the state ``n + 1`` times per layer is
much faster.  The streaming loops are Numba kernels (``parallel=True, cache=True``); their
CuPy twins with the same signatures live in :mod:`cutslack.gpu.statevector`.
With the standard (and multi-angle) ``exp(-i beta X)`` mixers on the host,
:meth:`StatevectorSimulator.qaoa_state` updates one complex state in place: each thread copies a
cache-sized block (or a tile of rows of the high qubits) into a small real/imaginary scratch,
where the butterflies vectorise, and writes it back — two passes over the state per layer up to
24 qubits, and no full-size temporary (the previous split-array version kept four float64 work
arrays and a half-size buffer, 60 bytes per amplitude, and fell off a cache cliff at 24 qubits).
The cost diagonal is stored in the smallest exact dtype (:func:`compact_diagonal`); an integer
one gives its phase from small tables instead of a sine per amplitude.

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
           "x_mixer_matrices", "compact_diagonal", "COMPLEX64_AMPLITUDE_ATOL", "COMPLEX64_EXPECTATION_RTOL", "ry_matrix", "rz_matrix", "MAX_QUBITS", "pauli_masks", "pauli_expectations"]

#: hard cap on qubits, whatever the memory (index arithmetic stays in int64 far below this)
MAX_QUBITS = 40
#: bytes per amplitude, at most: the complex128 state and the diagonal (float64 at worst; int8 for MaxCut);
#: a layer makes no other full-size array (multi-angle layers excepted: a complex128 phase array each)
BYTES_PER_AMPLITUDE = 16 + 8


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


def _by_doubling(h, rows, cols, J, n: int, xp, gamma=None, dtype=None):
    """Diagonal (``gamma`` None) or phase ``exp(-i gamma diag)`` of an Ising operator, by doubling.

    The phase is built multiplicatively from ``O(n^2)`` scalar exponentials, so no sine or
    cosine is evaluated per amplitude.  ``dtype`` (diagonal only): an integer type builds the
    diagonal of integer-valued terms exactly in that type (the caller checks the range).
    """
    h = np.asarray(h, dtype=float)
    Jd = np.zeros((n, n))
    np.add.at(Jd, (np.minimum(rows, cols), np.maximum(rows, cols)), J)
    if gamma is None and dtype is not None:
        dtype, unit, coef = dtype, 0, (lambda c: int(c))
        plus, minus = xp.add, xp.subtract
    elif gamma is None:
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


#: an integer diagonal is scaled by at most 2^MAX_SCALE_BITS (an integer QUBO's Ising terms are quarters)
MAX_SCALE_BITS = 30


def compact_diagonal(h, rows, cols, J, n: int, xp=np):
    """Return ``(values, scale)`` with ``values / scale`` exactly the :func:`ising_diagonal`, in the smallest dtype.

    When some ``scale = 2^k`` (``k <= MAX_SCALE_BITS``) makes every Ising term an integer and
    ``scale * (sum |h| + sum |J|)``, which bounds every entry, fits, ``values`` are int8, int16
    or int32 and built exactly in that type (an integer QUBO takes ``scale = 4`` at most).
    Otherwise float32 when every float64 entry survives the round trip, else float64
    (``scale = 1``).  Dividing by a power of two is exact, so ``values / scale`` equals the
    float64 diagonal bit for bit.
    """
    coefs = np.concatenate([np.asarray(h, dtype=float).ravel(), np.asarray(J, dtype=float).ravel()])
    bound = float(np.abs(coefs).sum())
    for k in range(MAX_SCALE_BITS + 1):
        scale = 2.0 ** k
        if scale * bound > np.iinfo(np.int32).max:
            break
        scaled = coefs * scale
        if np.all(scaled == np.round(scaled)):
            top = int(scale * bound)
            dtype = next(t for t in (np.int8, np.int16, np.int32) if top <= np.iinfo(t).max)
            return _by_doubling(np.asarray(h, dtype=float) * scale, rows, cols, np.asarray(J, dtype=float) * scale,
                                n, xp, dtype=dtype), scale
    values = ising_diagonal(h, rows, cols, J, n, xp)
    single = values.astype(xp.float32)
    if bool(xp.array_equal(single.astype(xp.float64), values)):
        return single, 1.0
    return values, 1.0


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


# --- In-place X-mixer QAOA layer (StatevectorSimulator.qaoa_state) -------------------------------
# The state stays one complex array; each thread copies a cache-sized piece of it into its own small
# real/imaginary scratch (structure of arrays, so the butterflies of RX on qubit q >= 3 are contiguous
# runs that LLVM vectorises), applies the work there and writes it back.  Pass 1 takes a block of
# 2^block_bits consecutive amplitudes: the cost phase (looked up in small tables for an integer
# diagonal, one sin/cos per amplitude for a float one, or read from a phase array) and RX on qubits
# 0..block_bits-1.  Each further pass takes a tile of rows 2^qlo apart, each row a contiguous run of
# 2^chunk_bits amplitudes, and applies RX on qubits qlo..qhi-1.  No full-size temporary is made.

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


@numba.njit(inline="always", fastmath=True, error_model="numpy", boundscheck=False)
def _rx_scratch(r, i, cs, q0, first, last):
    # RX with cs[q0 + k] on scratch qubits first..last-1 (scratch qubit first + k is state qubit q0 + k; first >= 3).
    # One sweep per qubit: fusing three qubits per sweep over eight runs did not vectorise (too many possible aliases)
    size = r.shape[0]
    for q in range(first, last):
        c = cs[q0 + q - first, 0]
        s = cs[q0 + q - first, 1]
        m = 1 << q
        for st in range(0, size, 2 * m):
            _rx_runs(r[st:st + m], i[st:st + m], r[st + m:st + 2 * m], i[st + m:st + 2 * m], c, s)


@numba.njit(inline="always", fastmath=True, error_model="numpy", boundscheck=False)
def _load_phased(psi, lo, r, i, diag, d_min, tab_c, tab_s, tab_bits):
    # r + i i = psi[lo:lo+size] exp(-i theta d_k) for an integer diagonal d, from the tables
    # tab[t, j] = exp(-i theta (j 2^(t tab_bits) + [t = 0] d_min)), as d - d_min = sum_t j_t 2^(t tab_bits)
    mask = (1 << tab_bits) - 1
    for j in range(r.shape[0]):
        u = np.int64(diag[lo + j]) - d_min
        pr = tab_c[0, u & mask]
        pi = tab_s[0, u & mask]
        for t in range(1, tab_c.shape[0]):
            u >>= tab_bits
            qr = tab_c[t, u & mask]
            qi = tab_s[t, u & mask]
            pr, pi = pr * qr - pi * qi, pr * qi + pi * qr
        z = psi[lo + j]
        r[j] = z.real * pr - z.imag * pi
        i[j] = z.real * pi + z.imag * pr


@numba.njit(inline="always", fastmath=True, error_model="numpy", boundscheck=False)
def _load_phased_float(psi, lo, r, i, diag, theta, phase, mode):
    # r + i i = psi[lo:lo+size] times exp(-i theta d_k) (mode 1, one sin/cos per amplitude),
    # phase[k] (mode 2) or 1 (mode 3)
    size = r.shape[0]
    if mode == 1:
        for j in range(size):
            a = theta * diag[lo + j]
            pr = np.cos(a)
            pi = -np.sin(a)
            z = psi[lo + j]
            r[j] = z.real * pr - z.imag * pi
            i[j] = z.real * pi + z.imag * pr
    elif mode == 2:
        for j in range(size):
            z = psi[lo + j] * phase[lo + j]
            r[j] = z.real
            i[j] = z.imag
    else:
        for j in range(size):
            z = psi[lo + j]
            r[j] = z.real
            i[j] = z.imag


@numba.njit(parallel=True, **_FAST)
def _qaoa_low_pass(psi, scratch, cs, block_bits, mode, diag, d_min, tab_c, tab_s, tab_bits, theta, phase):
    # pass 1 of a layer, block by block (2^block_bits amplitudes): the cost phase (mode 0: integer diagonal and
    # tables, see _load_phased; 1, 2, 3: _load_phased_float), then RX on qubits 0..block_bits-1
    size = 1 << block_bits
    n_blocks = psi.shape[0] >> block_bits
    n_workers = min(scratch.shape[0], n_blocks)
    for w in numba.prange(n_workers):
        r = scratch[w, 0, :size]
        i = scratch[w, 1, :size]
        for blk in range(w * n_blocks // n_workers, (w + 1) * n_blocks // n_workers):
            lo = blk << block_bits
            if mode == 0:
                _load_phased(psi, lo, r, i, diag, d_min, tab_c, tab_s, tab_bits)
            else:
                _load_phased_float(psi, lo, r, i, diag, theta, phase, mode)
            _rx_low3(r, i, cs)
            _rx_scratch(r, i, cs, 3, 3, block_bits)
            for j in range(size):
                psi[lo + j] = complex(r[j], i[j])


@numba.njit(parallel=True, **_FAST)
def _qaoa_tile_pass(psi, scratch, cs, qlo, qhi, chunk_bits):
    # RX on qubits qlo..qhi-1, tile by tile: a tile is 2^(qhi-qlo) rows 2^qlo apart of 2^chunk_bits contiguous
    # amplitudes, gathered into the scratch (where state qubit qlo + h is scratch qubit chunk_bits + h)
    rows = qhi - qlo
    chunk = 1 << chunk_bits
    inner = qlo - chunk_bits  # index bits between the chunk and the rows, enumerated by the tile number
    n_tiles = psi.shape[0] >> (rows + chunk_bits)
    n_workers = min(scratch.shape[0], n_tiles)
    for w in numba.prange(n_workers):
        r = scratch[w, 0, :chunk << rows]
        i = scratch[w, 1, :chunk << rows]
        for t in range(w * n_tiles // n_workers, (w + 1) * n_tiles // n_workers):
            base = ((t & ((1 << inner) - 1)) << chunk_bits) | ((t >> inner) << qhi)
            for row in range(1 << rows):
                a = base + (row << qlo)
                o = row << chunk_bits
                for j in range(chunk):
                    z = psi[a + j]
                    r[o + j] = z.real
                    i[o + j] = z.imag
            _rx_scratch(r, i, cs, qlo, chunk_bits, chunk_bits + rows)
            for row in range(1 << rows):
                a = base + (row << qlo)
                o = row << chunk_bits
                for j in range(chunk):
                    psi[a + j] = complex(r[o + j], i[o + j])


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


#: qubits whose mixers are applied inside one cache-sized block (2^14 amplitudes: 256 KiB of complex128, in L2)
BLOCK_QUBITS = 14


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


#: amplitudes per tile of the high-qubit passes: 2^TILE_QUBITS (512 KiB of float64 scratch, within L2)
TILE_QUBITS = 15
#: each tile row is a contiguous run of at least 2^CHUNK_BITS amplitudes (512 bytes of complex128: eight cache lines)
CHUNK_BITS = 5


def _high_qubit_groups(n: int, block: int, tile: int | None = None) -> list:
    """Return ``(qlo, qhi, chunk_bits)`` per tile pass over the qubits ``block..n-1`` (tiles of ``2^tile`` amplitudes).

    As few passes as tiles of ``2^tile`` amplitudes with rows of at least ``2^CHUNK_BITS``
    allow (one pass up to ``n = block + tile - CHUNK_BITS``, 24 qubits by default), the rows
    split evenly between them; each row is as long as the tile leaves room for.
    """
    tile = TILE_QUBITS if tile is None else tile
    high = n - block
    if high <= 0:
        return []
    count = -(-high // (tile - CHUNK_BITS))
    groups, q = [], block
    for k in range(count):
        rows = high // count + (k < high % count)
        groups.append((q, q + rows, min(tile - rows, q)))
        q += rows
    return groups


@_serial_when_small
def _qaoa_layer(psi, scratch, cos_sin, block: int, groups, phase_args) -> None:
    """One X-mixer QAOA layer on ``psi`` in place: the low pass (phase and qubits ``< block``), then the tile passes."""
    _qaoa_low_pass(psi, scratch, cos_sin, block, *phase_args)
    for qlo, qhi, chunk_bits in groups:
        _qaoa_tile_pass(psi, scratch, cos_sin, qlo, qhi, chunk_bits)


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


#: table index bits of the integer-diagonal phase (2^11 entries per table: 16-32 KiB, within L1)
PHASE_TABLE_BITS = 11
#: stated complex64 error bounds (measured values in :class:`StatevectorSimulator`): largest amplitude difference
#: from complex128, and expectation difference relative to the largest |diagonal| entry
COMPLEX64_AMPLITUDE_ATOL = 1e-6
COMPLEX64_EXPECTATION_RTOL = 1e-5


class StatevectorSimulator:
    """Exact statevector simulation of QAOA-type circuits for one QUBO.

    Memory: one complex state (16 bytes per amplitude, 8 with complex64) updated in place, and
    the cost diagonal in the smallest dtype that holds it exactly (:func:`compact_diagonal`:
    int8 for MaxCut up to 127 edges, one byte per amplitude).  A standard X-mixer layer makes
    no other full-size array: the phase ``exp(-i gamma d)`` of an integer diagonal is read from
    small tables (no sine per amplitude), of a float one taken with one sin/cos per amplitude,
    and ``RX`` on every qubit is applied in cache-sized blocks (qubits ``< BLOCK_QUBITS`` with
    the phase in one pass) and tiles (the high qubits, one pass up to 24 qubits, two up to 34).

    Parameters
    ----------
    qubo : QUBO
        The cost; its diagonal (Ising form, without the constant) is computed once.
    backend : {"auto", "numpy", "cupy"}
        ``"numpy"`` runs the Numba kernels; ``"cupy"`` their device twins
        (:mod:`cutslack.gpu.statevector`; under Numba's CUDA simulator, on NumPy arrays).
    dtype : complex128 or complex64
        Amplitude type.  complex64 halves the memory and the traffic; its arithmetic is
        float32 on the host, float64 on the device.  Measured on the host against complex128
        (MaxCut, dense normal and knapsack QUBOs, n = 8..22, p = 1, 3, 5): amplitudes within
        ``1.1e-7`` (bound used: ``COMPLEX64_AMPLITUDE_ATOL = 1e-6``), expectations within
        ``6e-7`` times the largest ``|diagonal|`` entry (bound: ``COMPLEX64_EXPECTATION_RTOL =
        1e-5``).  complex128 agrees with a plain NumPy reference to ``1e-12``.
    memory_fraction : float
        Refuse with :class:`ProblemTooLargeError` above this fraction of free memory.

    Attributes
    ----------
    cost_diagonal, cost_scale : the compact diagonal and its power-of-two scale
        (``cost_diagonal / cost_scale`` is the Ising diagonal, exactly).
    offset : the constant, so that ``diagonal + offset`` are the QUBO energies.
    """

    def __init__(self, qubo: QUBO, *, backend: str = "numpy", memory_fraction: float = 0.5, dtype=np.complex128):
        self.backend = resolve_backend(backend)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.complex128), np.dtype(np.complex64)):
            raise ValueError(f"dtype must be complex128 or complex64, got {self.dtype}")
        self.n = qubo.n
        self.bytes_needed = check_statevector_size(self.n, backend=self.backend, memory_fraction=memory_fraction)
        self.qubo = qubo
        self.xp = _gpu().cupy_module() if self.backend == "cupy" else np  # NumPy under the CUDA simulator
        self.h, self.rows, self.cols, self.J, self.offset = ising_terms(qubo)
        self.cost_diagonal, self.cost_scale = compact_diagonal(self.h, self.rows, self.cols, self.J, self.n, self.xp)
        self._scratch = None  # per-thread cache-sized work arrays of the in-place layer kernels

    @property
    def diagonal(self):
        """The Ising diagonal (``E(x) - offset``) as float64 on the simulator's device (a new array each time)."""
        return self.cost_diagonal.astype(self.xp.float64) / self.cost_scale

    @property
    def n_terms(self) -> int:
        """Number of Ising terms (one per qubit, then one per coupling): the multi-angle cost angles per layer."""
        return self.n + len(self.J)

    def product_state(self, thetas=None):
        """Return ``⊗_q RY(theta_q)|0>``; ``|+>^n`` when ``thetas`` is None (complex128)."""
        xp = self.xp
        if thetas is None:
            return xp.full(1 << self.n, (2.0 ** -0.5) ** self.n, dtype=xp.complex128)
        psi = xp.zeros(1 << self.n, dtype=xp.complex128)
        psi[0] = 1.0
        apply_single_qubit_gates(psi, np.arange(self.n), ry_matrix(np.asarray(thetas, dtype=float)))
        return psi

    def qaoa_state(self, gammas, betas, *, thetas=None, out=None):
        """Return the QAOA state for ``p`` layers.

        ``gammas``: ``(p,)`` (one angle per layer) or ``(p, n_terms)`` (multi-angle, one per Ising
        term); ``betas``: ``(p,)`` or ``(p, n)``.  ``thetas`` (warm start): initial ``RY`` angles,
        with the matching warm-start mixer (complex128, general gate kernels).  ``out``: a
        ``2^n`` host array of the simulator's dtype to write the X-mixer state into and return
        (repeated evaluations then touch no fresh memory); by default a new array.
        """
        gammas = np.asarray(gammas, dtype=float)
        betas = np.asarray(betas, dtype=float)
        if thetas is None and self.backend == "cupy":
            return self._device_qaoa_state(gammas, betas)
        if thetas is None and self.n >= 3:
            return self._x_mixer_qaoa_state(gammas, betas, out)
        psi = self.product_state(thetas)
        for layer in range(gammas.shape[0]):
            mats = x_mixer_matrices(betas[layer], self.n, thetas)
            h, J, gamma = self._cost_terms(gammas[layer])
            apply_mixer_layer(psi, mats, ising_phase(h, self.rows, self.cols, J, self.n, gamma, self.xp))
        if thetas is None:  # fewer than 3 qubits: the general kernels, in the simulator's dtype
            psi = psi.astype(self.dtype)
            if out is not None:
                out[:] = psi
                return out
        return psi

    def _cost_terms(self, gamma):
        """Return ``(h, J, angle)`` of one layer's cost phase (multi-angle: the angles folded into the terms)."""
        if gamma.ndim == 0:
            return self.h, self.J, float(gamma)
        return gamma[:self.n] * self.h, gamma[self.n:] * self.J, 1.0

    def _device_qaoa_state(self, gammas, betas):
        """Return the QAOA state with ``exp(-i beta X)`` mixers from the device kernels (phase fused from the diagonal)."""
        if gammas.ndim == 1:  # the compact diagonal with the angles divided by its scale
            return _gpu().qaoa_state(self.cost_diagonal, gammas / self.cost_scale, betas, dtype=self.dtype)
        diags = []
        for layer in range(gammas.shape[0]):  # multi-angle: the layer's angles folded into the terms
            h, J, _ = self._cost_terms(gammas[layer])
            diags.append(ising_diagonal(h, self.rows, self.cols, J, self.n, self.xp))
        return _gpu().qaoa_state(diags, np.ones(gammas.shape[0]), betas, dtype=self.dtype)

    def _layer_phase(self, gamma, real_dtype):
        """Return the cost-phase arguments of :func:`_qaoa_low_pass` for one layer's ``gamma`` (scalar or per term)."""
        values = self.cost_diagonal
        no_table = np.ones((1, 1), dtype=real_dtype)
        no_phase = np.ones(1, dtype=np.complex128)
        if gamma.ndim == 1:  # multi-angle: this layer's own phase array (the one full-size temporary)
            h, J, angle = self._cost_terms(gamma)
            phase = ising_phase(h, self.rows, self.cols, J, self.n, angle)
            return 2, values, 0, no_table, no_table, 1, 0.0, phase
        theta = float(gamma) / self.cost_scale
        if values.dtype.kind == "f":
            return 1, values, 0, no_table, no_table, 1, theta, no_phase
        top = int(self.cost_scale * (np.abs(self.h).sum() + np.abs(self.J).sum()))  # |values| <= top
        span = max(2 * top, 1).bit_length()
        bits = min(PHASE_TABLE_BITS, span)
        count = -(-span // bits)
        j = np.arange(1 << bits, dtype=float)
        angles = np.stack([j * float(1 << (t * bits)) + (-top if t == 0 else 0) for t in range(count)])
        return (0, values, -top, np.cos(theta * angles).astype(real_dtype), (-np.sin(theta * angles)).astype(real_dtype),
                bits, theta, no_phase)

    def _x_mixer_qaoa_state(self, gammas, betas, out=None):
        """Return the QAOA state with ``exp(-i beta X)`` mixers, simulated in place in one complex array."""
        n = self.n
        psi = np.empty(1 << n, dtype=self.dtype) if out is None else out
        if psi.shape != (1 << n,) or psi.dtype != self.dtype:
            raise ValueError(f"out must be a ({1 << n},) {self.dtype} array, got {psi.shape} {psi.dtype}")
        psi.fill((2.0 ** -0.5) ** n)
        real_dtype = np.float32 if self.dtype == np.complex64 else np.float64
        block = min(BLOCK_QUBITS, n)
        groups = _high_qubit_groups(n, block)
        rows = max([block] + [chunk + hi - lo for lo, hi, chunk in groups])
        workers = numba.get_num_threads()
        if self._scratch is None or self._scratch.shape != (workers, 2, 1 << rows) or self._scratch.dtype != real_dtype:
            self._scratch = np.empty((workers, 2, 1 << rows), dtype=real_dtype)
        for layer in range(gammas.shape[0]):
            b = np.broadcast_to(betas[layer], (n,))
            cos_sin = np.ascontiguousarray(np.stack([np.cos(b), np.sin(b)], axis=1), dtype=real_dtype)
            _qaoa_layer(psi, self._scratch, cos_sin, block, groups, self._layer_phase(gammas[layer], real_dtype))
        return psi

    def expectation(self, psi) -> float:
        """Return the QUBO energy expectation ``<psi| H |psi> + offset``."""
        return expectation_diagonal(psi, self.cost_diagonal) / self.cost_scale + self.offset

    def energies(self, indices) -> np.ndarray:
        """Return the QUBO energies of basis states ``indices`` (read off the diagonal)."""
        return asnumpy(self.cost_diagonal[self.xp.asarray(indices)]).astype(float) / self.cost_scale + self.offset

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
