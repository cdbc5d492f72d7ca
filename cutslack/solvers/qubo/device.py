"""The device paths of the QUBO samplers (``backend="cupy"``): annealing, tempering, exhaustive search.

Each function takes the arguments of its sampler in :mod:`cutslack.solvers.qubo.samplers`,
draws the same starting states and per-read seeds from ``rng`` in the same order, and runs
the Numba-CUDA twin of the CPU kernel (:mod:`cutslack.gpu.kernels`) on device arrays; the
kernels use the same random streams and arithmetic, so a seed gives the same SampleSet on
either path (up to the last bit of the device's ``exp``, which can flip a Metropolis test
that lands within one rounding of its threshold).  ``time_limit`` and ``callback`` are
served chunk by chunk as on the CPU (the device is synchronised after each chunk).

The couplings go to the device dense, or as symmetric CSR without diagonal for sparse QUBOs
(``coupling_format="auto"``: CSR when the QUBO is stored sparse and under 10 % dense).
Device memory is checked before anything is allocated there
(:class:`~cutslack.errors.ProblemTooLargeError`).  Under Numba's CUDA simulator the same
code runs on NumPy arrays on the CPU (slowly: small problems only).

This module imports neither CuPy nor :mod:`numba.cuda`; :mod:`cutslack.gpu` does.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cutslack.api import Run
from cutslack.binary import QUBO
from cutslack.errors import ProblemTooLargeError
from cutslack.gpu.backend import asnumpy, check_device_memory, cuda_simulator_enabled, device_array_module, synchronize, to_device
from cutslack.result import SampleSet
from cutslack.solvers.qubo import samplers as host

__all__ = ["anneal_sampler_device", "tempering_sampler_device", "exhaustive_sampler_device", "device_couplings",
           "MAX_DEVICE_EXHAUSTIVE_BITS", "DEVICE_PREFIX_BITS", "SIMULATOR_PREFIX_BITS"]

#: exhaustive enumeration on the device refuses QUBOs with more variables than this
MAX_DEVICE_EXHAUSTIVE_BITS = 40
#: default prefix bits of device enumeration: 2^18 threads, about one per resident thread slot of a large GPU
DEVICE_PREFIX_BITS = 18
#: a launch of the enumeration covers at least this many prefixes (threads) when time limits split the work
MIN_PREFIXES_PER_LAUNCH = 1 << 15
#: default prefix bits under the CUDA simulator
SIMULATOR_PREFIX_BITS = 4
#: couplings are sent as CSR when the QUBO is sparse and has fewer nonzeros than this fraction of n^2
CSR_DENSITY = 0.1


def _kernels():
    from cutslack.gpu import kernels

    return kernels


def _backend_label() -> str:
    return "cuda-simulator" if cuda_simulator_enabled() else "cupy"


def device_couplings(qubo: QUBO, dtype=np.float64, coupling_format: str = "auto"):
    """Return ``(W, h, fmt)``: the host couplings (dense array or a CSR matrix), float64 linear part and the format.

    ``W`` is symmetric with zero diagonal (``E = h'x + x'Wx/2 + offset``); ``fmt`` is
    ``"dense"`` or ``"csr"``.  Dense matrices past the samplers' ``MAX_DENSE_BYTES`` are refused.
    """
    if not isinstance(qubo, QUBO):
        raise TypeError(f"samplers take a cutslack QUBO, got {type(qubo).__name__}")
    fmt = str(coupling_format).lower()
    if fmt not in ("auto", "dense", "csr"):
        raise ValueError(f"coupling_format must be 'auto', 'dense' or 'csr', got {coupling_format!r}")
    n = qubo.n
    if fmt == "auto":
        sparse_enough = qubo.is_sparse and qubo.U.nnz < CSR_DENSITY * max(n, 1) ** 2
        fmt = "csr" if sparse_enough else "dense"
    if fmt == "dense":
        C = host._couplings(qubo, dtype, layout="dense")
        return C.args[0], C.h, fmt
    upper = sp.triu(sp.csr_matrix(qubo.U), 1)
    W = (upper + upper.T).tocsr().astype(dtype)
    W.eliminate_zeros()
    W.sort_indices()
    return W, np.ascontiguousarray(qubo.linear, dtype=np.float64), fmt


def _coupling_bytes(W) -> int:
    if sp.issparse(W):
        return (W.shape[0] + 1) * 8 + W.nnz * (8 + W.data.itemsize)
    return W.nbytes


def _to_device_couplings(W):
    """Return the kernels' coupling argument on the device: a dense array or ``(indptr, indices, data)``."""
    if sp.issparse(W):
        return (to_device(W.indptr, np.int64), to_device(W.indices, np.int64), to_device(W.data))
    return to_device(W)


def _initial_fields(W, h, X) -> np.ndarray:
    """Return the float64 local fields ``h + W x`` of every row of ``X`` (host; the samplers' ``_fields``)."""
    if sp.issparse(W):
        return np.ascontiguousarray(h + np.asarray((W.astype(np.float64) @ X.T.astype(np.float64)).T))
    F = np.empty(X.shape, dtype=np.float64)
    host.kernels.local_fields_dense(W, h, X, F)
    return F


def _beta_pair(qubo, beta_range) -> tuple[float, float]:
    """The validated ``beta_range``, or the samplers' default rule for ``qubo``."""
    given = host._beta_range(beta_range)
    return given if given is not None else host.default_beta_range(qubo)


def _check_memory(what: str, W, *arrays_bytes) -> None:
    check_device_memory(what, _coupling_bytes(W) + sum(int(b) for b in arrays_bytes))


class _DeviceChunks(host._Chunks):
    """The samplers' chunking with a floor: a chunk of fewer than ``min_units`` would leave most of the device idle."""

    def __init__(self, total: int, run: Run, *, min_units: int):
        super().__init__(total, run)
        self.min_units = max(1, int(min_units))

    def next_size(self) -> int:
        return min(self.total - self.done, max(super().next_size(), self.min_units))


def _schedule(hot: float, cold: float, num_sweeps: int, beta_schedule: str) -> np.ndarray:
    if beta_schedule == "geometric":
        return np.geomspace(hot, cold, num_sweeps)
    if beta_schedule == "linear":
        return np.linspace(hot, cold, num_sweeps)
    raise ValueError(f"beta_schedule must be 'geometric' or 'linear', got {beta_schedule!r}")


def anneal_sampler_device(qubo: QUBO, *, num_reads: int = 100, num_sweeps: int = 1000, beta_range=None,
                          beta_schedule: str = "geometric", rng=None, time_limit=None, initial_states=None,
                          callback=None, dtype=np.float32, coupling_format: str = "auto",
                          threads_per_chain: int | None = None) -> SampleSet:
    """Device twin of :func:`~cutslack.solvers.qubo.samplers.anneal_sampler`: one thread block per read."""
    G = _kernels()
    num_reads = host._positive_int(num_reads, "num_reads")
    num_sweeps = host._positive_int(num_sweeps, "num_sweeps")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    hot, cold = _beta_pair(qubo, beta_range)
    betas = _schedule(hot, cold, num_sweeps, beta_schedule)
    W, h, fmt = device_couplings(qubo, dtype, coupling_format)
    n = qubo.n
    _check_memory("annealing (couplings, states, fields)", W, num_reads * n * 9, num_sweeps * 8, num_reads * 8)
    X = host._start_states(run.rng, initial_states, num_reads, n)
    states = host._seeds(run.rng, num_reads)
    F = _initial_fields(W, h, X)
    Wd, Xd, Fd, betas_d, states_d = _to_device_couplings(W), to_device(X), to_device(F), to_device(betas), to_device(states)
    def step(start, size):
        G.anneal_reads(Wd, Xd, Fd, betas_d[start:start + size], states_d, threads_per_chain=threads_per_chain)
        synchronize()

    chunks = host._Chunks(num_sweeps, run)
    chunks.run_all(step, lambda: host._sample_set(qubo, asnumpy(Xd), "anneal", run, {"num_sweeps": chunks.done}))
    return host._sample_set(qubo, asnumpy(Xd), "anneal", run, {
        "num_reads": num_reads, "num_sweeps": chunks.done, "beta_range": (hot, cold), "backend": _backend_label(),
        "coupling_format": fmt, "spin_flip_attempts": int(num_reads) * int(chunks.done) * n})


def tempering_sampler_device(qubo: QUBO, *, num_reads: int = 4, num_replicas: int = 16, num_sweeps: int = 1000,
                             beta_range=None, rng=None, time_limit=None, initial_states=None, callback=None,
                             coupling_format: str = "auto", threads_per_replica: int | None = None) -> SampleSet:
    """Device twin of :func:`~cutslack.solvers.qubo.samplers.tempering_sampler`: one thread block per chain."""
    G = _kernels()
    num_reads = host._positive_int(num_reads, "num_reads")
    K = host._positive_int(num_replicas, "num_replicas")
    num_sweeps = host._positive_int(num_sweeps, "num_sweeps")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    hot, cold = _beta_pair(qubo, beta_range)
    betas = np.geomspace(hot, cold, K) if K > 1 else np.array([cold])
    W, h, fmt = device_couplings(qubo, np.float64, coupling_format)
    n = qubo.n
    R = num_reads * K
    _check_memory("parallel tempering (couplings, replicas, fields)", W, R * n * 9, R * 16, num_reads * (n + 16 + 4 * K))
    X = host._start_states(run.rng, initial_states, R, n)
    F = _initial_fields(W, h, X)
    E = qubo.energy(X) - qubo.offset
    states = host._seeds(run.rng, R)
    chain_states = host._seeds(run.rng, num_reads)
    best_E = E.reshape(num_reads, K).min(axis=1).copy()
    best_X = X[np.arange(num_reads) * K + E.reshape(num_reads, K).argmin(axis=1)].copy()
    Wd = _to_device_couplings(W)
    Xd, Fd, Ed, betas_d = to_device(X), to_device(F), to_device(E), to_device(betas)
    states_d, chain_d, bXd, bEd = to_device(states), to_device(chain_states), to_device(best_X), to_device(best_E)

    def step(start, size):
        G.tempering_sweeps(Wd, Xd, Fd, Ed, betas_d, states_d, chain_d, size, start, bXd, bEd,
                           threads_per_replica=threads_per_replica)
        synchronize()

    chunks = host._Chunks(num_sweeps, run)
    chunks.run_all(step, lambda: host._sample_set(qubo, asnumpy(bXd), "tempering", run, {"num_sweeps": chunks.done}))
    return host._sample_set(qubo, asnumpy(bXd), "tempering", run, {
        "num_reads": num_reads, "num_replicas": K, "num_sweeps": chunks.done, "betas": betas.tolist(),
        "backend": _backend_label(), "coupling_format": fmt, "spin_flip_attempts": int(R) * int(chunks.done) * n})


def exhaustive_sampler_device(qubo: QUBO, *, num_best: int | None = None, rng=None, time_limit=None,
                              initial_states=None, callback=None, prefix_bits: int | None = None,
                              tolerance: float = 1e-9) -> SampleSet:
    """Device twin of :func:`~cutslack.solvers.qubo.samplers.exhaustive_sampler`: one thread per prefix.

    Takes up to :data:`MAX_DEVICE_EXHAUSTIVE_BITS` (40) variables; each of the ``2^prefix_bits``
    threads walks ``2^(n - prefix_bits)`` states in Gray-code order and keeps its ``k`` lowest.
    ``prefix_bits`` defaults to :data:`DEVICE_PREFIX_BITS` on a device and to
    :data:`SIMULATOR_PREFIX_BITS` under the CUDA simulator (each simulated thread is a Python thread).

    Raises
    ------
    ProblemTooLargeError
        When ``n > MAX_DEVICE_EXHAUSTIVE_BITS``, or the per-thread lists of lowest states would
        not fit the device, before allocating anything.
    """
    G = _kernels()
    n = qubo.n
    if n > MAX_DEVICE_EXHAUSTIVE_BITS:
        raise ProblemTooLargeError("exhaustive enumeration on the device (variables)", n, MAX_DEVICE_EXHAUSTIVE_BITS)
    if num_best is not None:
        num_best = host._positive_int(num_best, "num_best")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    if n == 0:
        return host._sample_set(qubo, np.zeros((1, 0)), "exhaustive", run, {"complete": True, "states": 1})
    C = host._couplings(qubo, layout="dense")
    W, h = C.args[0], C.h
    if prefix_bits is None:
        prefix_bits = SIMULATOR_PREFIX_BITS if cuda_simulator_enabled() else DEVICE_PREFIX_BITS
    high = min(n, max(0, int(prefix_bits)))
    low = n - high
    K = min(host.MAX_BEST, num_best if num_best is not None else 64, 1 << n)
    count = 1 << high
    check_device_memory("exhaustive enumeration (lowest states per thread)", count * (K * 16 + 8) + W.nbytes + n * 8)
    xp = device_array_module()
    Wd, hd = to_device(W), to_device(h)
    prefixes = xp.arange(count, dtype=np.int64)
    top_E = xp.full((count, K), np.inf)
    top_code = xp.full((count, K), -1, dtype=np.int64)

    def collect() -> np.ndarray:
        flat_E, flat_code = top_E.reshape(-1), top_code.reshape(-1)
        finite = xp.isfinite(flat_E)
        limit = max(4 * K, host.MAX_BEST)  # a margin over K: the exact energies below may reorder near-ties
        codes = flat_code[finite][xp.argsort(flat_E[finite], kind="stable")[:limit]]
        codes = asnumpy(codes)
        return ((codes[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.uint8)

    def step(start, size):
        sl = slice(start, start + size)
        G.gray_code_search(Wd, hd, prefixes[sl], low, top_E[sl], top_code[sl])
        synchronize()

    def snapshot():
        return host._sample_set(qubo, collect()[:K], "exhaustive", run, {"complete": False})

    chunks = _DeviceChunks(count, run, min_units=min(count, MIN_PREFIXES_PER_LAUNCH))
    chunks.run_all(step, snapshot)
    X = host.lowest_states(qubo, collect(), num_best, tolerance)
    searched = int(chunks.done) << low
    return host._sample_set(qubo, X, "exhaustive", run, {"complete": chunks.finished, "states": searched,
                                                         "backend": _backend_label(), "spin_flip_attempts": searched})
