"""Numba-CUDA twins of the QUBO sampler kernels of :mod:`cutslack.solvers.qubo.kernels`.

Why hand-written: the samplers' work is sequential single-bit Metropolis moves with
incrementally kept local fields — no array library expresses that.  Each kernel is the CPU
kernel's loop nest with the parallel loop (over reads, chains or prefixes) mapped to CUDA
blocks or threads, so the two give the same states for the same seeds:

* :func:`anneal_reads` — one thread block per read.  All threads of the block make the same
  accept/reject decision (each advances the read's SplitMix64 stream identically, so no
  broadcast is needed); an accepted flip's O(n) field update is split across the threads.
  One ``syncthreads`` per attempted flip.
* :func:`tempering_sweeps` — one block per chain, a row of threads (``threadIdx.y``) per
  replica sweeping concurrently; after each sweep one thread makes the chain's replica-swap
  decisions with the chain's stream and the rows are exchanged by the replicas' threads.
* :func:`gray_code_search` — one thread per prefix, each walking its ``2^low_bits`` states in
  Gray-code order with its fields in thread-local memory and its ``k`` best in its row of
  ``top_E``/``top_code``.

The couplings come dense (a 2-D array ``W``) or as symmetric CSR without the diagonal
(a tuple ``(indptr, indices, data)``); the flip update is then a loop over the row's
nonzeros.  The arithmetic (SplitMix64, ``EXP_CUTOFF``, the order of the float64 field
updates) is that of the CPU kernels, whose constants are imported from there; the SplitMix64
step and the k-best insertion are the CPU functions' own Python source compiled for the device.

The arrays are CuPy arrays on a device; under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``) the same kernels run on NumPy arrays on the CPU, which is how
the tests compare them with the CPU kernels without a GPU.
"""

from __future__ import annotations

import math
import sys
import threading
import warnings

import numpy as np
from numba import cuda

from cutslack.gpu.backend import cuda_simulator_enabled
from cutslack.solvers.qubo.kernels import _insert_lowest as _cpu_insert_lowest
from cutslack.solvers.qubo.kernels import _splitmix as _cpu_splitmix
from cutslack.solvers.qubo.kernels import _INV24, _INV53, _S11, _S40, EXP_CUTOFF

__all__ = ["anneal_reads", "tempering_sweeps", "gray_code_search", "MAX_GRAY_BITS", "THREADS_PER_CHAIN",
           "as_couplings", "simulator_launch", "default_threads_per_chain", "SIMULATOR_THREADS_PER_CHAIN"]

#: largest ``n`` the Gray-code kernel takes (its thread-local state arrays have this length)
MAX_GRAY_BITS = 64
#: threads that share one read's field updates on a device (one warp)
THREADS_PER_CHAIN = 32
#: the same under the CUDA simulator, where every thread is a Python thread
SIMULATOR_THREADS_PER_CHAIN = 2
#: threads per block of the one-thread-per-prefix Gray-code kernel
GRAY_BLOCK = 128


# one SplitMix64 step, compiled for the device from the CPU kernels' Python source (it calls
# nothing, so the same source serves both targets)
_splitmix = cuda.jit(device=True)(_cpu_splitmix.py_func)


@cuda.jit(device=True)
def _next_uniform(state):
    """Return ``(new_state, u)`` with ``u`` uniform in [0, 1) (SplitMix64, as on the CPU)."""
    state, z = _splitmix(state)
    return state, float(z >> _S11) * _INV53


@cuda.jit(device=True)
def _next_uniform32(state):
    """Return ``(new_state, u)`` with ``u`` a float32 uniform on the 2^24 grid (the CPU anneal's draw)."""
    state, z = _splitmix(state)
    return state, np.float32(np.int64(z >> _S40)) * _INV24


@cuda.jit(device=True)
def _decide(fi, xi, beta, state):
    """Return ``(state, accept, dE)`` of the Metropolis test of one flip (the CPU sweep's test)."""
    de = fi if xi == 0 else -fi
    accept = True
    if de > 0.0:
        t = de * beta
        if t > EXP_CUTOFF:
            accept = False
        else:
            state, u = _next_uniform32(state)   # float32 test, as the CPU anneal sweep
            if u >= math.exp(np.float32(-t)):
                accept = False
    return state, accept, de


@cuda.jit(device=True)
def _flip_fields(W, indptr, indices, data, sparse, f, i, sign, lane, lanes):
    """Add ``sign * W[i, :]`` to ``f`` (the entries ``lane, lane + lanes, ...`` of the row), dense or CSR."""
    if sparse:
        for k in range(indptr[i] + lane, indptr[i + 1], lanes):
            f[indices[k]] += sign * data[k]
    else:
        for j in range(lane, f.shape[0], lanes):
            if j != i:
                f[j] += sign * W[i, j]


@cuda.jit(device=True)
def _sweep(W, indptr, indices, data, sparse, x, f, beta, state, lane, lanes):
    """One sequential Metropolis sweep of one read by the ``lanes`` threads that share it.

    Every thread reads ``x[i]``, ``f[i]`` and decides identically; the fields are updated
    before the barrier and ``x[i]`` by lane 0 after it, when every thread has read it.
    """
    n = x.shape[0]
    delta = 0.0
    for i in range(n):
        xi = x[i]
        state, accept, de = _decide(f[i], xi, beta, state)
        if accept:
            _flip_fields(W, indptr, indices, data, sparse, f, i, 1.0 if xi == 0 else -1.0, lane, lanes)
            delta += de
        cuda.syncthreads()
        if accept and lane == 0:
            x[i] = 1 - xi
        if n == 1:  # the next attempt reads the same bit
            cuda.syncthreads()
    return state, delta


@cuda.jit
def _anneal_kernel(W, indptr, indices, data, sparse, X, F, betas, states):
    r = cuda.blockIdx.x
    if r >= X.shape[0]:
        return
    lane = cuda.threadIdx.x
    lanes = cuda.blockDim.x
    s = states[r]
    x = X[r]
    f = F[r]
    for k in range(betas.shape[0]):
        s, _d = _sweep(W, indptr, indices, data, sparse, x, f, betas[k], s, lane, lanes)
    cuda.syncthreads()
    if lane == 0:
        states[r] = s


@cuda.jit
def _tempering_kernel(W, indptr, indices, data, sparse, X, F, E, betas, states, chain_states, num_sweeps,
                      sweep_offset, best_X, best_E, flags):
    c = cuda.blockIdx.x
    K = betas.shape[0]
    if c * K >= X.shape[0]:
        return
    lane = cuda.threadIdx.x
    lanes = cuda.blockDim.x
    k = cuda.threadIdx.y
    tid = k * lanes + lane
    nthreads = lanes * cuda.blockDim.y
    n = X.shape[1]
    base = c * K
    r = base + k
    for sweep in range(num_sweeps):
        s, d = _sweep(W, indptr, indices, data, sparse, X[r], F[r], betas[k], states[r], lane, lanes)
        if lane == 0:
            states[r] = s
            E[r] += d
        cuda.syncthreads()
        if tid == 0:  # the chain's swap decisions, in the CPU kernel's order
            cs = chain_states[c]
            for kk in range(K):
                flags[c, kk] = 0
            for kk in range((sweep_offset + sweep) % 2, K - 1, 2):
                a = base + kk
                b = a + 1
                arg = (betas[kk] - betas[kk + 1]) * (E[a] - E[b])
                accept = arg >= 0.0
                if not accept:
                    cs, u = _next_uniform(cs)
                    accept = u < math.exp(arg)
                if accept:
                    flags[c, kk] = 1
                    t = E[a]
                    E[a] = E[b]
                    E[b] = t
            chain_states[c] = cs
        cuda.syncthreads()
        if flags[c, k] == 1:  # replica k's threads exchange rows k and k + 1
            a = base + k
            for j in range(lane, n, lanes):
                tx = X[a, j]
                X[a, j] = X[a + 1, j]
                X[a + 1, j] = tx
                tf = F[a, j]
                F[a, j] = F[a + 1, j]
                F[a + 1, j] = tf
        cuda.syncthreads()
        if tid == 0:  # the first replica with the lowest energy, if below the chain's best
            kb = -1
            eb = best_E[c]
            for kk in range(K):
                if E[base + kk] < eb:
                    eb = E[base + kk]
                    kb = kk
            if kb >= 0:
                best_E[c] = eb
            flags[c, K] = kb
        cuda.syncthreads()
        kb = flags[c, K]
        if kb >= 0:
            for j in range(tid, n, nthreads):
                best_X[c, j] = X[base + kb, j]
        cuda.syncthreads()


# the CPU enumeration's insertion, compiled for the device from the same Python source (no calls)
_insert_lowest = cuda.jit(device=True)(_cpu_insert_lowest.py_func)


@cuda.jit
def _gray_kernel(W, h, prefixes, low_bits, top_E, top_code):
    q = cuda.grid(1)
    if q >= prefixes.shape[0]:
        return
    n = h.shape[0]
    x = cuda.local.array(MAX_GRAY_BITS, np.uint8)
    f = cuda.local.array(MAX_GRAY_BITS, np.float64)
    p = prefixes[q]
    for i in range(n):
        x[i] = 0
        f[i] = h[i]
    for i in range(low_bits, n):
        x[i] = (p >> (i - low_bits)) & 1
    for i in range(n):  # local fields h + W x, row by row as on the CPU
        if x[i]:
            for j in range(n):
                f[j] += W[i, j]
    e = 0.0
    for i in range(n):
        if x[i]:
            e += h[i] + 0.5 * (f[i] - h[i])
    code = p << low_bits
    te = top_E[q]
    tc = top_code[q]
    worst = te[te.shape[0] - 1]
    if e < worst:
        _insert_lowest(te, tc, e, code)
        worst = te[te.shape[0] - 1]
    count = 1 << low_bits
    for t in range(1, count):
        b = 0
        while ((t >> b) & 1) == 0:
            b += 1
        if x[b] == 0:
            e += f[b]
            x[b] = 1
            for j in range(n):
                f[j] += W[b, j]
        else:
            e -= f[b]
            x[b] = 0
            for j in range(n):
                f[j] -= W[b, j]
        code ^= 1 << b
        if e < worst:
            _insert_lowest(te, tc, e, code)
            worst = te[te.shape[0] - 1]


# --- launchers (the public functions, with the CPU kernels' signatures) ----------------------------

def as_couplings(W):
    """Return ``(W_dense, indptr, indices, data, sparse)`` for a dense matrix or a CSR tuple ``(indptr, indices, data)``.

    The unused format gets one-element placeholders of the right types, so one compiled
    kernel per dtype serves both formats.
    """
    xp = _xp_of(W[0] if isinstance(W, tuple) else W)
    if isinstance(W, tuple):
        indptr, indices, data = W
        return xp.zeros((1, 1), dtype=data.dtype), indptr, indices, data, True
    return W, xp.zeros(2, dtype=np.int64), xp.zeros(1, dtype=np.int64), xp.zeros(1, dtype=W.dtype), False


def _xp_of(a):
    from cutslack.gpu.backend import get_array_module

    return get_array_module(a)


_SHARED_LOCK = threading.Lock()


def _thread_safe_simulator_shared_arrays() -> None:
    """Make the CUDA simulator's ``cuda.shared.array`` allocation thread-safe (once per process).

    The simulator gives a block's threads one array per source line by looking the line up in
    a dict and inserting a new array when it is missing; that check-then-insert is not locked,
    so two threads switched between the two steps each get their own array, the block no
    longer shares memory, and a correct kernel computes garbage (seen as rare wrong simulated
    QAOA expectations on a busy machine; ``tests/gpu/test_simulator.py`` makes the allocation
    slow to show the race).  The replacement keeps the simulator's keying (the caller's file
    and line) under a lock.
    """
    from numba.cuda.simulator import kernelapi

    shared = kernelapi.FakeCUDAShared
    if getattr(shared, "_cutslack_thread_safe", False):
        return
    original = shared.array

    def array(self, shape, dtype, alignment=None):
        if shape == 0 or alignment is not None:
            return original(self, shape, dtype, alignment)  # dynamic shared memory, or the simulator's refusal
        if isinstance(dtype, kernelapi.types.Type):   # the simulator's own dtype conversion
            dtype = kernelapi.numpy_support.as_dtype(dtype)
        frame = sys._getframe(1)
        caller = (frame.f_code.co_filename, frame.f_lineno)
        with _SHARED_LOCK:
            res = self._allocations.get(caller)
            if res is None:
                res = self._allocations[caller] = np.empty(shape, dtype)
        return res

    shared.array = array
    shared._cutslack_thread_safe = True


class simulator_launch:
    """Context for a kernel launch; under the CUDA simulator it makes the launch fast, quiet and safe.

    The simulator runs each CUDA thread as a Python thread and releases a ``syncthreads``
    barrier from a polling loop, so every barrier costs one interpreter switch interval
    (5 ms by default): the interval is shortened for the launch.  NumPy's uint64
    wrap-around warnings (the device wraps silently) are silenced, and the simulator's
    shared-array allocation is made thread-safe (:func:`_thread_safe_simulator_shared_arrays`).
    On a device: no-op.
    """

    def __enter__(self):
        self._active = cuda_simulator_enabled()
        if self._active:
            _thread_safe_simulator_shared_arrays()
            self._interval = sys.getswitchinterval()
            sys.setswitchinterval(2e-5)
            self._ctx = warnings.catch_warnings()
            self._ctx.__enter__()
            warnings.filterwarnings("ignore", message="overflow encountered", category=RuntimeWarning)
        return self

    def __exit__(self, *exc):
        if self._active:
            self._ctx.__exit__(*exc)
            sys.setswitchinterval(self._interval)
        return False


def default_threads_per_chain() -> int:
    """Return :data:`THREADS_PER_CHAIN` on a device, :data:`SIMULATOR_THREADS_PER_CHAIN` under the simulator."""
    return SIMULATOR_THREADS_PER_CHAIN if cuda_simulator_enabled() else THREADS_PER_CHAIN


def anneal_reads(W, X, F, betas, states, *, threads_per_chain: int | None = None) -> None:
    """Run every read (row of ``X``) through the sweep schedule ``betas``, in place, one block per read.

    The twin of :func:`cutslack.solvers.qubo.kernels.anneal_reads`; ``W`` is the dense
    symmetric zero-diagonal coupling matrix or a symmetric CSR tuple ``(indptr, indices,
    data)`` without diagonal entries.  ``X`` (uint8), ``F`` (float64), ``betas``, ``states``
    (uint64) are device arrays (NumPy under the simulator).  ``threads_per_chain`` defaults to
    :func:`default_threads_per_chain`.
    """
    if X.shape[0] == 0 or betas.shape[0] == 0:
        return
    if threads_per_chain is None:
        threads_per_chain = default_threads_per_chain()
    Wd, indptr, indices, data, sparse = as_couplings(W)
    with simulator_launch():
        _anneal_kernel[X.shape[0], int(threads_per_chain)](Wd, indptr, indices, data, sparse, X, F, betas, states)


def tempering_sweeps(W, X, F, E, betas, states, chain_states, num_sweeps, sweep_offset, best_X, best_E, *,
                     threads_per_replica: int | None = None) -> None:
    """Advance every parallel-tempering chain by ``num_sweeps`` sweeps, in place, one block per chain.

    The twin of :func:`cutslack.solvers.qubo.kernels.tempering_sweeps` (same arrays, same
    meaning); ``W`` dense or a CSR tuple as for :func:`anneal_reads`.  A block holds one row of
    ``threads_per_replica`` threads per replica (default: a warp, fewer when the replicas
    would exceed 1,024 threads).
    """
    K = betas.shape[0]
    n_chains = X.shape[0] // K
    if n_chains == 0 or num_sweeps <= 0:
        return
    if threads_per_replica is None:
        threads_per_replica = max(1, min(default_threads_per_chain(), 1024 // K))
    if K * threads_per_replica > 1024:
        from cutslack.errors import SolverError

        raise SolverError(f"{K} replicas do not fit one thread block of 1024 threads on the device")
    xp = _xp_of(X)
    flags = xp.zeros((n_chains, K + 1), dtype=np.int32)
    Wd, indptr, indices, data, sparse = as_couplings(W)
    with simulator_launch():
        _tempering_kernel[n_chains, (int(threads_per_replica), K)](Wd, indptr, indices, data, sparse, X, F, E, betas,
                                                                   states, chain_states, int(num_sweeps),
                                                                   int(sweep_offset), best_X, best_E, flags)


def gray_code_search(W, h, prefixes, low_bits, top_E, top_code, *, block: int = GRAY_BLOCK) -> None:
    """Enumerate ``2^low_bits`` states under each prefix in Gray-code order, one thread per prefix.

    The twin of :func:`cutslack.solvers.qubo.kernels.gray_code_search` (same arrays, same
    result: row ``q`` of ``top_E``/``top_code``, pre-filled with ``inf``, receives the lowest
    energies under prefix ``q``); ``n`` at most :data:`MAX_GRAY_BITS`.
    """
    n = h.shape[0]
    if n > MAX_GRAY_BITS:
        from cutslack.errors import ProblemTooLargeError

        raise ProblemTooLargeError("Gray-code enumeration on the device (variables)", n, MAX_GRAY_BITS)
    count = prefixes.shape[0]
    if count == 0:
        return
    threads = max(1, min(int(block), count))
    with simulator_launch():
        _gray_kernel[(count + threads - 1) // threads, threads](W, h, prefixes, np.int64(low_bits), top_E, top_code)
