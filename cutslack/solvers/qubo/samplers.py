"""QUBO samplers: exhaustive enumeration, simulated annealing, parallel tempering and tabu search.

Every sampler has the same calling convention::

    sampler(qubo, *, num_reads=..., rng=None, time_limit=None, initial_states=None,
            callback=None, **its options) -> SampleSet

and returns a :class:`~cutslack.result.SampleSet` over the QUBO's variables whose
``energies`` are the QUBO's own energies (recomputed from the returned bits).  ``rng`` is
the only source of randomness (each read gets a seed drawn from it, so the same seed gives
the same SampleSet whatever the thread count); ``time_limit`` is checked between chunks of
work and a run that hits it returns its current states with ``info["timed_out"] = True``;
``callback(intermediate: SampleSet)`` is called after each chunk and may raise
``StopIteration`` to end the run (``info["stopped"] = True``).  ``initial_states`` — one bit
vector or a ``(k, n)`` batch, cycled over the reads — warm-starts the run.

``backend`` (``"numpy"`` by default, ``"cupy"``, or ``"auto"`` for the GPU when one is
usable) picks the device path of :mod:`cutslack.solvers.qubo.device` for annealing,
tempering and exhaustive search.

``info`` records the sampler's name, its sweep or iteration count, the wall time and the
number of single-bit flip attempts (what :mod:`benchmarks.sampler_speed` counts).

Annealing, tempering and tabu run on the dense symmetric coupling matrix or on the same
matrix in CSR, chosen by density (``layout="auto"``: CSR below :data:`SPARSE_DENSITY`
nonzero couplings, or whenever the dense matrix would pass :data:`MAX_DENSE_BYTES`), so a
sparse QUBO of a million variables is never densified.  Given the same options, both layouts'
kernels make the same moves with the same random draws; the CSR anneal also runs its hot sweeps
branch-free (another random stream) and, asked to (``reorder=True``), renumbers the variables for
locality, returning the samples in the caller's variable order.  The loops are the Numba kernels of
:mod:`cutslack.solvers.qubo.kernels`.  Exhaustive enumeration is dense (n <= 30).
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Callable

import numba
import numpy as np

from cutslack.api import Run
from cutslack.binary import QUBO
from cutslack.config import check_memory
from cutslack.errors import InvalidInstanceError, ProblemTooLargeError, SolverError
from cutslack.gpu.backend import resolve_backend
from cutslack.result import SampleSet
from cutslack.solvers.qubo import kernels

__all__ = ["SAMPLERS", "sample_qubo", "sampler_names", "resolve_sampler", "exhaustive_sampler", "anneal_sampler", "tempering_sampler", "tabu_sampler",
           "default_beta_range", "REFRESH_FLIPS_PER_VARIABLE", "FLOAT32_FIELD_RANGE", "FLOAT32_FIELD_MIN_VARIABLES", "HOT_SWEEP_MIN_VARIABLES", "PARALLEL_WORK", "MAX_EXHAUSTIVE_BITS", "MAX_DENSE_BYTES", "MAX_STATE_BYTES", "SPARSE_DENSITY"]

#: exhaustive enumeration refuses QUBOs with more variables than this
MAX_EXHAUSTIVE_BITS = 30
#: largest dense coupling matrix the samplers allocate
MAX_DENSE_BYTES = 4 * 2**30
#: largest sampler state (bits plus float64 local fields of every read or replica) allocated
MAX_STATE_BYTES = 8 * 2**30
#: below this fraction of nonzero off-diagonal couplings the samplers use the CSR kernels.
#: Measured with ``benchmarks/sparse.py --threshold`` (random N(0, 1) couplings, n = 2,000,
#: 1 thread, CPU time dense / CSR): 4.1x at density 0.01, 2.0x at 0.03, 1.2-1.5x at 0.05-0.1,
#: 0.83x at 0.2, 0.76x at 0.3; the crossover lies between 0.1 and 0.2
SPARSE_DENSITY = 0.1
#: float32 anneal fields are recomputed exactly after this many accepted flips per variable
#: (unless they accumulate exactly: integer coefficients, fields below 2^24).  Costs about
#: 1/(2 x this) of the flip work on a dense QUBO
REFRESH_FLIPS_PER_VARIABLE = 16
#: float32 anneal fields for non-integer QUBOs only when the largest field is at most this many
#: typical couplings: the float32 rounding of a field then stays below 1e-3 of a typical coupling
#: (``2^24 * 1e-3``).  Wider-range QUBOs (penalty forms with a heavy weight) keep float64 fields
FLOAT32_FIELD_RANGE = 2**24 * 1e-3
#: ... and only from this many variables, on the dense layout: float32 fields change the walks of
#: real-valued QUBOs (statistically alike, sample by sample different) and pay only where the O(n)
#: field update dominates.  ``python benchmarks/sampler_speed.py --field-dtypes`` (solve's time with
#: float64 / float32 fields, 1 thread) measured: dense N(0, 1) QUBOs 0.95x at n = 16, 0.97x at 32,
#: 0.95x at 64, 1.05x at 128, 1.28x at 256, 1.21x at 512, 1.24x at 1,000, 1.39x at 2,000; CSR
#: QUBOs of mean degree 6 (scattered O(degree) updates) 0.89x at n = 2,000, 0.92x at 20,000,
#: 0.98x at 200,000, so CSR keeps float64 fields
FLOAT32_FIELD_MIN_VARIABLES = 128
#: the CSR anneal runs branch-free hot sweeps (:data:`~cutslack.solvers.qubo.kernels.HOT_FLIP_FRACTION`)
#: from this many variables.  Below it, it keeps the random stream of the device twin
#: (:mod:`cutslack.gpu.kernels`, which has no branch-free sweep), so CPU and GPU samples of a small CSR
#: QUBO agree one by one; above it they agree in distribution.  Small QUBOs lose little: the sweeps
#: of a 3-regular MIS QUBO took 6-7 instead of 10-11 ns per bit at n = 10^4, 2.2x dwave's at n = 2,000
HOT_SWEEP_MIN_VARIABLES = 1024
#: largest number of lowest states exhaustive enumeration keeps
MAX_BEST = 4096


# --- shared preparation ----------------------------------------------------------------------------

class _Couplings:
    """The couplings a sampler kernel runs on: dense symmetric ``W``, or the same matrix in CSR.

    ``args`` is what the kernels take first (``(W,)`` or ``(indptr, indices, data)``), ``h`` the
    float64 linear part, ``layout`` ``"dense"`` or ``"sparse"`` (reported in the SampleSet's
    ``info``), ``density`` the fraction of nonzero off-diagonal couplings, and ``row_stats``
    each row's signed sum, absolute sum and smallest nonzero magnitude of ``W`` (float64,
    computed in the same pass that builds ``W``; the default beta range comes from them).
    """

    def __init__(self, layout: str, args: tuple, h: np.ndarray, density: float, row_stats: tuple, order=None):
        self.layout = layout
        self.args = args
        self.h = h
        self.density = density
        self.row_stats = row_stats
        self.order = order
        self._refresh = None

    def to_internal(self, X: np.ndarray) -> np.ndarray:
        """Return the rows of ``X`` (the caller's variable order) in the kernels' order (:attr:`order`)."""
        return X if self.order is None else np.ascontiguousarray(X[:, self.order])

    def to_caller(self, X: np.ndarray) -> np.ndarray:
        """Return the rows of ``X`` (the kernels' order) in the caller's variable order: undoes :meth:`to_internal`."""
        if self.order is None:
            return X
        out = np.empty_like(X)
        out[:, self.order] = X
        return out

    @property
    def sparse(self) -> bool:
        return self.layout == "sparse"

    def kernel(self, name: str):
        """Return the kernel ``name`` of :mod:`kernels` for this layout (its ``_csr`` twin when sparse)."""
        return getattr(kernels, name + "_csr" if self.sparse else name)

    @property
    def dtype(self) -> np.dtype:
        """The dtype the couplings are stored in (and the anneal's local fields kept in)."""
        return self.args[-1].dtype

    def fields(self, X, dtype=np.float64) -> np.ndarray:
        """Return the local fields ``h + W x`` of every row of ``X``, accumulated in float64 and stored as ``dtype``."""
        F = np.empty(X.shape, dtype=np.float64)
        work = X.shape[0] * (self.args[-1].size if self.sparse else self.args[0].size) / 2
        with _threads_for(work):
            (kernels.local_fields_csr if self.sparse else kernels.local_fields_dense)(*self.args, self.h, X, F)
        return F if np.dtype(dtype) == np.float64 else F.astype(dtype)

    def field_dtype(self) -> np.dtype:
        """The dtype the anneal keeps its local fields in: the couplings' float32 when that resolves them well.

        Float32 when the fields accumulate exactly (integer coefficients, fields below 2^24) or
        when the couplings are dense, the QUBO has at least :data:`FLOAT32_FIELD_MIN_VARIABLES`
        variables and its largest possible field ``max_i |h_i| + sum_j |W_ij|`` is at most
        :data:`FLOAT32_FIELD_RANGE` times a typical nonzero ``|W_ij|`` (the median row's mean; a
        field's float32 rounding then stays below 1e-3 of a typical coupling); float64
        otherwise: smaller or CSR QUBOs, where float32 buys no time, and wide-range QUBOs
        (penalty forms with a heavy weight), whose walks would otherwise see the rounding of
        their largest terms.
        """
        if self.dtype == np.float64 or self.h.shape[0] < 2:
            return self.dtype
        n = self.h.shape[0]
        if self.density == 0 or self.refresh_flips() == 0:
            return self.dtype  # exact float32 sums
        if n < FLOAT32_FIELD_MIN_VARIABLES or self.sparse:
            return np.dtype(np.float64)
        bound = self.max_field()
        # a typical coupling: the median over rows of each row's absolute sum, over the mean number of
        # nonzeros per row (a few rows of outsized couplings cannot pass for typical, as they would in
        # the mean of all couplings)
        typical = float(np.median(self.row_stats[1])) / (self.density * (n - 1))
        return self.dtype if bound <= FLOAT32_FIELD_RANGE * typical else np.dtype(np.float64)

    def refresh_flips(self) -> int:
        """Return how many accepted flips float32 fields may take between exact recomputations (0: never).

        Float32 fields accumulate exactly when ``h`` and the stored couplings are integers and no
        field can pass ``2^24`` in magnitude (``|h_i| + sum_j |W_ij|``); otherwise each add
        rounds, and a refresh every :data:`REFRESH_FLIPS_PER_VARIABLE` ``n`` flips keeps the
        accumulated rounding at that of a few thousand adds (a few 1e-6 of a field's size).
        """
        if self._refresh is None:  # computed once: on an integer QUBO it is a pass over every coupling
            n = self.h.shape[0]
            limit = float(2**24)
            exact = self.dtype == np.float64 or n == 0 or (
                self.max_field() <= limit and kernels.all_integral(self.h, limit)
                and kernels.all_integral(self.args[-1].reshape(-1), limit))
            self._refresh = 0 if exact else REFRESH_FLIPS_PER_VARIABLE * n
        return self._refresh

    def integer_range(self) -> int:
        """Return the largest ``|dE|`` of a flip when every one is an integer the kernels can tabulate, else 0.

        Integer ``h`` and couplings with every field below ``2^24`` (exact sums in float32 and
        float64) and a range of at most ``n / 8`` (a table of ``exp(-beta d)`` per hot sweep costs
        less than an eighth of the sweep's ``expf`` calls).
        """
        n = self.h.shape[0]
        bound = self.max_field() if n else 0.0
        if n == 0 or bound > min(n / 8.0, 2.0**24):
            return 0
        integral = kernels.all_integral(self.h, 2.0**24) and kernels.all_integral(self.args[-1].reshape(-1), 2.0**24)
        return int(bound) if integral else 0

    def max_field(self) -> float:
        """Return the largest possible local field ``max_i |h_i| + sum_j |W_ij|`` (from the row statistics)."""
        return float(np.max(np.abs(self.h) + self.row_stats[1]))

    def default_beta_range(self) -> tuple[float, float]:
        """Return :func:`default_beta_range` from the row statistics (no pass over the matrix)."""
        row_sum, abs_sum, min_abs = self.row_stats
        if self.h.shape[0] == 0:
            return 0.1, 1.0
        # Ising form (s = 2x - 1): h_i = d_i / 2 + sum_j W_ij / 4 and |J_ij| + |J_ji| = |W_ij| / 4
        h = self.h / 2.0 + row_sum / 4.0
        absh = np.abs(h)
        total = absh + abs_sum / 4.0
        smallest = np.minimum(np.where(absh > 0, absh, np.inf), min_abs / 4.0)
        finite = smallest[np.isfinite(smallest)]
        if finite.size == 0:
            return 0.1, 1.0
        hot = math.log(2.0) / (2.0 * float(total.max()))
        least = float(finite.min())
        cold = math.log(np.count_nonzero(finite == least) / 0.01) / (2.0 * least)
        return hot, max(cold, hot)


#: below this many multiply-adds, the preparation kernels (CSR row statistics, local fields of
#: tempering and tabu) run on one thread: a parallel region has to wait for every Numba thread
#: to be scheduled, which on a busy machine costs more than such a pass itself (the dense
#: symmetric matrix is built by one serial tiled pass; the anneal fills its fields in its kernel)
PARALLEL_WORK = 2**24


@contextlib.contextmanager
def _threads_for(work: float):
    """Run the block's Numba kernels on one thread when ``work`` (multiply-adds) is below :data:`PARALLEL_WORK`."""
    if work >= PARALLEL_WORK:
        yield
        return
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def _couplings(qubo: QUBO, dtype=np.float64, layout: str = "auto", reorder: bool = False) -> _Couplings:
    """Return the :class:`_Couplings` of ``qubo`` stored as ``dtype``, dense or CSR.

    ``layout="auto"`` takes CSR when fewer than :data:`SPARSE_DENSITY` of the off-diagonal
    couplings are nonzero or when the dense matrix would exceed :data:`MAX_DENSE_BYTES`;
    ``"dense"`` and ``"sparse"`` force one (``"dense"`` refuses what does not fit).  With
    ``reorder`` a CSR layout renumbers the variables by reverse Cuthill-McKee
    (:func:`scipy.sparse.csgraph.reverse_cuthill_mckee`), so a flip's neighbours lie near each
    other in the fields array; ``order`` then maps kernel positions to the caller's variables.
    """
    if not isinstance(qubo, QUBO):
        raise TypeError(f"samplers take a cutslack QUBO, got {type(qubo).__name__}")
    if layout not in ("auto", "dense", "sparse"):
        raise ValueError(f"layout must be 'auto', 'dense' or 'sparse', got {layout!r}")
    n = qubo.n
    dense_bytes = n * n * np.dtype(dtype).itemsize
    density = qubo.density
    use_sparse = layout == "sparse" or (layout == "auto" and (density < SPARSE_DENSITY or dense_bytes > MAX_DENSE_BYTES))
    h = np.ascontiguousarray(qubo.linear, dtype=np.float64)
    stats = (np.empty(n), np.empty(n), np.empty(n))
    if use_sparse:
        W = qubo.symmetric_csr()
        order = None
        if reorder and n > 1:
            from scipy.sparse.csgraph import reverse_cuthill_mckee

            order = reverse_cuthill_mckee(W, symmetric_mode=True).astype(np.int64)
            W = W[order][:, order].tocsr()
            W.sort_indices()
            h = np.ascontiguousarray(h[order])
        with _threads_for(W.nnz):
            kernels.csr_row_stats(W.indptr, W.data, *stats)
        args = (W.indptr.astype(np.int64), W.indices.astype(np.int32), W.data.astype(dtype))
        return _Couplings("sparse", args, h, density, stats, order)
    if dense_bytes > MAX_DENSE_BYTES:
        raise ProblemTooLargeError("dense QUBO coupling matrix (bytes)", dense_bytes, MAX_DENSE_BYTES)
    check_memory("dense QUBO couplings", f"{n} variables", 2 * dense_bytes)
    W = np.empty((n, n), dtype=dtype)
    if n:
        kernels.symmetric_from_upper(np.ascontiguousarray(qubo.to_dense(), dtype=np.float64), W, *stats)
    return _Couplings("dense", (W,), h, density, stats)


#: reads per Numba thread handed to one kernel call when a deadline is set (see ``anneal_sampler``)
READ_BLOCK_PER_THREAD = 16


def _seeds(rng: np.random.Generator, k: int) -> np.ndarray:
    """Return ``k`` independent 64-bit seeds drawn from ``rng``."""
    return rng.integers(0, 2**63 - 1, size=k, dtype=np.int64).astype(np.uint64)


def _start_states(rng: np.random.Generator, initial_states, k: int, n: int) -> np.ndarray:
    """Return ``(k, n)`` uint8 starting states: the given ones cycled over the reads, else random."""
    if k * n * 9 > MAX_STATE_BYTES:
        raise ProblemTooLargeError("sampler state: reads x variables x 9 bytes (bits and fields)", k * n * 9,
                                   MAX_STATE_BYTES)
    if initial_states is None:
        return rng.integers(0, 2, size=(k, n), dtype=np.uint8)
    S = np.asarray(initial_states)
    S = S.reshape(1, -1) if S.ndim == 1 else S
    if S.ndim != 2 or S.shape[1] != n or S.shape[0] == 0:
        raise InvalidInstanceError("initial_states", f"expected a bit vector of length {n} or a (k, {n}) batch, "
                                                     f"got shape {np.shape(initial_states)}")
    if np.any((S != 0) & (S != 1)):
        raise InvalidInstanceError("initial_states", "entries must be 0 or 1")
    return np.ascontiguousarray(S[np.arange(k) % S.shape[0]], dtype=np.uint8)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def default_beta_range(qubo: QUBO) -> tuple[float, float]:
    """Return the ``(beta_hot, beta_cold)`` the annealers use by default.

    dwave-samplers' rule (``_default_ising_beta_range``) on the QUBO's Ising form
    ``(h, J)``: with ``S_i = |h_i| + sum_j |J_ij|`` and ``m_i`` the smallest nonzero
    ``|h_i|`` or ``|J_ij|`` of spin ``i``, ``beta_hot = log(2) / (2 max_i S_i)`` (the largest
    possible flip is accepted with probability 1/2) and ``beta_cold =
    log(count / 0.01) / (2 min_i m_i)``, ``count`` the number of spins attaining that minimum
    (the smallest uphill flips are taken with probability about 1/100 per sweep).  Same rule,
    same schedule: equal sweeps compare like with like.
    """
    return _couplings(qubo, np.float64).default_beta_range()


def _beta_range(beta_range):
    """Return the validated ``(beta_hot, beta_cold)`` pair, or None for the default rule."""
    if beta_range is None:
        return None
    try:
        hot, cold = (float(b) for b in beta_range)
    except (TypeError, ValueError):
        raise ValueError(f"beta_range must be a pair (beta_hot, beta_cold), got {beta_range!r}") from None
    if not (0 < hot <= cold < math.inf):
        raise ValueError(f"beta_range must satisfy 0 < beta_hot <= beta_cold < inf, got {beta_range!r}")
    return hot, cold


class _Chunks:
    """Splits ``total`` units of work into chunks sized to meet a deadline and feed a callback.

    Without a time limit or callback, one chunk; otherwise about ``target`` seconds of work per
    chunk (estimated from the chunks already run), at least one unit, at most a tenth of the
    total when a callback wants regular reports.
    """

    def __init__(self, total: int, run: Run, *, target: float = 0.05):
        self.total = total
        self.done = 0
        self.run = run
        self.target = target
        self.seconds_per_unit = None
        self.wants_chunks = run.deadline is not None or run.callback is not None

    def next_size(self) -> int:
        left = self.total - self.done
        if not self.wants_chunks:
            return left
        cap = max(1, self.total // 10) if self.run.callback is not None else left
        if self.seconds_per_unit is None:
            return 1
        budget = self.target
        if self.run.deadline is not None:
            budget = min(budget, max(self.run.time_left(), 1e-3))
        return int(max(1, min(left, cap, budget / max(self.seconds_per_unit, 1e-9))))

    def record(self, units: int, seconds: float) -> None:
        self.done += units
        per_unit = seconds / max(units, 1)
        self.seconds_per_unit = per_unit if self.seconds_per_unit is None else max(per_unit, 0.5 * self.seconds_per_unit)

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def run_all(self, step: Callable[[int, int], None], snapshot: Callable[[], SampleSet]) -> None:
        """Call ``step(start, size)`` chunk by chunk until done, the deadline passes or the callback stops."""
        while not self.finished:
            size = self.next_size()
            t0 = time.perf_counter()
            step(self.done, size)
            self.record(size, time.perf_counter() - t0)
            if self.finished:
                break
            if self.run.callback is not None and self.run.report(snapshot()):
                break
            if self.run.expired():
                break


def _sample_set(qubo: QUBO, X, name: str, run: Run, info: dict) -> SampleSet:
    """Return the SampleSet of ``X`` with exact QUBO energies and the sampler's bookkeeping."""
    X = np.ascontiguousarray(X, dtype=np.uint8)
    energies = qubo.energy(X) if X.shape[0] else np.zeros(0)
    meta = {"sampler": name, "wall_time": run.elapsed(), "timed_out": run.timed_out, "stopped": run.stopped}
    meta.update(info)
    return SampleSet(X, energies, info=meta)


def _on_device(backend: str) -> bool:
    """Return True when ``backend`` resolves to the device (``BackendUnavailableError`` for an unusable ``"cupy"``)."""
    return backend != "numpy" and resolve_backend(backend) == "cupy"


def lowest_states(qubo: QUBO, X, num_best, tolerance: float) -> np.ndarray:
    """Return the rows of ``X`` sorted by exact energy: the ``num_best`` lowest, or (``None``) all tied
    with the minimum within ``tolerance`` relative to the energy scale (shared by the CPU and GPU searches)."""
    energies = qubo.energy(X)
    order = np.argsort(energies, kind="stable")
    X, energies = X[order], energies[order]
    if num_best is None:
        scale = max(1.0, float(np.abs(energies).max()))
        return X[energies <= energies[0] + tolerance * scale]
    return X[:num_best]


# --- exhaustive --------------------------------------------------------------------------------------

def exhaustive_sampler(qubo: QUBO, *, num_best: int | None = None, rng=None, time_limit=None, initial_states=None,
                       callback=None, prefix_bits: int = 8, tolerance: float = 1e-9, backend: str = "numpy") -> SampleSet:
    """Return the lowest-energy states of ``qubo`` found by enumerating all ``2^n`` bit vectors.

    Gray-code enumeration (one bit flip and one O(n) field update per state), parallel over
    ``2^prefix_bits`` blocks of states.  With ``num_best=None`` the SampleSet holds every
    state tied with the minimum (within ``tolerance`` relative to the energy scale, at most
    :data:`MAX_BEST`); otherwise the ``num_best`` lowest states.  ``info["complete"]`` says
    whether the whole space was searched (False only when ``time_limit`` cut it short, and
    then the minimum is only over the blocks searched).  ``rng`` and ``initial_states`` are
    accepted for a uniform interface and unused: the result is deterministic.

    ``backend="cupy"`` (or ``"auto"`` with a GPU) runs the device kernel instead, up to 40
    variables (:func:`cutslack.solvers.qubo.device.exhaustive_sampler_device`).

    Raises
    ------
    ProblemTooLargeError
        When ``n > MAX_EXHAUSTIVE_BITS`` (30), before allocating anything.
    """
    if _on_device(backend):
        from cutslack.solvers.qubo.device import exhaustive_sampler_device

        return exhaustive_sampler_device(qubo, num_best=num_best, rng=rng, time_limit=time_limit, callback=callback,
                                         initial_states=initial_states, tolerance=tolerance)
    if qubo.n > MAX_EXHAUSTIVE_BITS:
        raise ProblemTooLargeError("exhaustive enumeration (variables)", qubo.n, MAX_EXHAUSTIVE_BITS)
    if num_best is not None:
        num_best = _positive_int(num_best, "num_best")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    n = qubo.n
    if n == 0:
        return _sample_set(qubo, np.zeros((1, 0)), "exhaustive", run, {"complete": True, "states": 1})
    C = _couplings(qubo, layout="dense")
    W, h = C.args[0], C.h
    high = min(n, max(0, int(prefix_bits)))
    low = n - high
    K = min(MAX_BEST, num_best if num_best is not None else 64, 1 << n)
    prefixes = np.arange(1 << high, dtype=np.int64)
    top_E = np.full((prefixes.size, K), np.inf)
    top_code = np.full((prefixes.size, K), -1, dtype=np.int64)

    def collect() -> np.ndarray:
        codes = top_code[np.isfinite(top_E)]
        order = np.argsort(top_E[np.isfinite(top_E)], kind="stable")
        codes = codes[order]
        return ((codes[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(np.uint8)

    def step(start, size):
        sl = slice(start, start + size)
        kernels.gray_code_search(W, h, prefixes[sl], low, top_E[sl], top_code[sl])

    def snapshot():
        return _sample_set(qubo, collect()[:K], "exhaustive", run, {"complete": False})

    chunks = _Chunks(prefixes.size, run)
    chunks.run_all(step, snapshot)
    X = lowest_states(qubo, collect(), num_best, tolerance)
    searched = int(chunks.done) << low
    return _sample_set(qubo, X, "exhaustive", run, {"complete": chunks.finished, "states": searched,
                                                    "spin_flip_attempts": searched})


# --- simulated annealing -----------------------------------------------------------------------------

def anneal_sampler(qubo: QUBO, *, num_reads: int = 100, num_sweeps: int = 1000, beta_range=None,
                   beta_schedule: str = "geometric", rng=None, time_limit=None, initial_states=None,
                   callback=None, dtype=np.float32, layout: str = "auto", backend: str = "numpy",
                   field_dtype=None, reorder: bool = False) -> SampleSet:
    """Return ``num_reads`` final states of independent simulated-annealing runs on ``qubo``.

    Each read does ``num_sweeps`` sequential Metropolis sweeps, one per inverse temperature of
    a geometric (or ``"linear"``) schedule over ``beta_range`` (default
    :func:`default_beta_range`), with local fields updated incrementally on each accepted
    flip.  Reads run in parallel (``numba.prange``).  For a warm start from good states,
    pass ``initial_states`` and a cold ``beta_range`` so the anneal does not melt them.
    The couplings are stored as ``dtype``, and so are the local fields when float32 resolves
    them well (:meth:`_Couplings.field_dtype`: exact integer sums, or dense couplings, at least
    :data:`FLOAT32_FIELD_MIN_VARIABLES` variables and a field range of at most
    :data:`FLOAT32_FIELD_RANGE` typical couplings; float64 fields otherwise, e.g. for small,
    CSR or penalty QUBOs).  Float32 halves the memory traffic of the O(n) (dense) or
    O(degree) (CSR) field update of each accepted flip, which dominates the run, and on a
    dense QUBO lets it use twice the SIMD lanes; the Metropolis test still computes ``beta dE``
    in float64.  Float32 fields
    that do not sum exactly are recomputed in float64 every
    :data:`REFRESH_FLIPS_PER_VARIABLE` ``n`` flips, so the walk sees the couplings rounded by
    6e-8 relative plus a few 1e-6 of a field's size, never a growing drift.  ``field_dtype``
    (``np.float32`` or ``np.float64``) overrides that choice (float32 fields need float32
    couplings).  The returned
    energies are recomputed exactly (float64, from the QUBO).  Pass ``dtype=np.float64`` for
    unrounded couplings and fields.  ``backend="cupy"`` (or ``"auto"`` with a GPU) runs one
    thread block per read on the device, with the same random streams
    (:func:`cutslack.solvers.qubo.device.anneal_sampler_device`; float64 fields there).
    ``layout`` picks the dense or CSR kernel (default: by density, see :func:`_couplings`);
    the kernels of both make the same moves with the same random draws.  The CSR anneal differs
    from :data:`HOT_SWEEP_MIN_VARIABLES` variables in a way that changes the walk, not its statistics: a
    sweep after one that flipped at least
    :data:`~cutslack.solvers.qubo.kernels.HOT_FLIP_FRACTION` of the bits runs branch-free, drawing a
    uniform for every bit (with the acceptance looked up in a table of ``exp(-beta d)`` for integer
    QUBOs of a small field range).  ``reorder=True`` (CSR only) renumbers the variables by reverse
    Cuthill-McKee so a flip's neighbours lie near in memory (``info["reordered"]``; samples still
    come back in the QUBO's variable order): measured on 3-regular MIS QUBOs, 1 thread, 13.0 ->
    11.6 ns per bit and sweep at n = 10^5 and 38 -> 19 ns at 10^6, plus the ordering (about 1.3-2 us
    per variable).  Not the default, because the sweep then visits the variables in that order,
    which changes the dynamics: on a unit-disk MIS QUBO of 10^5 variables (16 reads x 200 sweeps,
    8 seeds) the mean energy came out 11.6 +- 3.8 higher (0.04 %) than in the given (random) order.
    """
    if _on_device(backend):
        from cutslack.solvers.qubo.device import anneal_sampler_device

        return anneal_sampler_device(qubo, num_reads=num_reads, num_sweeps=num_sweeps, beta_range=beta_range,
                                     beta_schedule=beta_schedule, rng=rng, time_limit=time_limit,
                                     initial_states=initial_states, callback=callback, dtype=dtype)
    num_reads = _positive_int(num_reads, "num_reads")
    num_sweeps = _positive_int(num_sweeps, "num_sweeps")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    given = _beta_range(beta_range)
    if beta_schedule not in ("geometric", "linear"):
        raise ValueError(f"beta_schedule must be 'geometric' or 'linear', got {beta_schedule!r}")
    C = _couplings(qubo, dtype, layout, reorder=bool(reorder))
    hot, cold = given if given is not None else C.default_beta_range()
    betas = (np.geomspace if beta_schedule == "geometric" else np.linspace)(hot, cold, num_sweeps)
    X = C.to_internal(_start_states(run.rng, initial_states, num_reads, qubo.n))
    states = _seeds(run.rng, num_reads)
    if field_dtype is not None and np.dtype(field_dtype) not in (np.float32, np.float64):
        raise ValueError(f"field_dtype must be None, float32 or float64, got {field_dtype!r}")
    fdt = C.field_dtype() if field_dtype is None else np.promote_types(C.dtype, field_dtype)
    F = np.empty(X.shape, dtype=fdt)  # filled by the kernel's first call, in its parallel loop
    kernel = C.kernel("anneal_reads")
    flips_since = np.zeros(num_reads, dtype=np.int64)
    refresh = C.refresh_flips() if F.dtype == np.float32 else 0
    # branch-free hot sweeps on CSR only: on a dense QUBO the O(n) flip outweighs a mispredicted test, and
    # the dense walk stays the GPU twin's (cutslack.gpu.kernels.anneal_reads); small CSR QUBOs keep it too
    hot_fraction = kernels.HOT_FLIP_FRACTION if C.sparse and qubo.n >= HOT_SWEEP_MIN_VARIABLES else 0.0
    last_flips = np.zeros(num_reads, dtype=np.int64)
    integer_range = C.integer_range() if C.sparse else 0

    sweeps_done = np.zeros(num_reads, dtype=np.int64)
    # Under a deadline the reads go through the kernel in blocks, the clock checked between them, so
    # one sweep over many reads of a big QUBO (seconds) cannot overrun the limit; reads are
    # independent streams, so blocking does not change any read's walk.
    block = num_reads if run.deadline is None else max(1, READ_BLOCK_PER_THREAD * numba.get_num_threads())

    def step(start, size):
        for a in range(0, num_reads, block):
            b = min(num_reads, a + block)
            kernel(*C.args, X[a:b], F[a:b], betas[start:start + size], states[a:b], C.h, flips_since[a:b], refresh,
                   init_fields=start == 0, hot_fraction=hot_fraction, last_flips=last_flips[a:b],
                   integer_range=integer_range)
            sweeps_done[a:b] += size
            if b < num_reads and run.expired():
                break

    chunks = _Chunks(num_sweeps, run)
    chunks.run_all(step, lambda: _sample_set(qubo, C.to_caller(X), "anneal", run, {"num_sweeps": chunks.done}))
    return _sample_set(qubo, C.to_caller(X), "anneal", run, {
        "num_reads": num_reads, "num_sweeps": int(sweeps_done.min()), "beta_range": (hot, cold), "layout": C.layout,
        "reordered": C.order is not None,
        "spin_flip_attempts": int(sweeps_done.sum()) * qubo.n})


# --- parallel tempering --------------------------------------------------------------------------------

def tempering_sampler(qubo: QUBO, *, num_reads: int = 4, num_replicas: int = 16, num_sweeps: int = 1000,
                      beta_range=None, rng=None, time_limit=None, initial_states=None, callback=None,
                      layout: str = "auto", backend: str = "numpy") -> SampleSet:
    """Return the best state of each of ``num_reads`` independent parallel-tempering chains.

    Each chain holds ``num_replicas`` replicas at inverse temperatures geometrically spaced
    over ``beta_range`` (default :func:`default_beta_range`); after every Metropolis sweep of
    all replicas (in parallel), neighbouring temperatures try to exchange their states
    (even pairs on even sweeps, odd pairs on odd ones).  A chain reports the lowest-energy
    state any of its replicas visited.  ``backend="cupy"`` (or ``"auto"`` with a GPU) runs one
    thread block per chain on the device
    (:func:`cutslack.solvers.qubo.device.tempering_sampler_device`).
    state any of its replicas visited.  ``layout`` as in :func:`anneal_sampler`.
    """
    if _on_device(backend):
        from cutslack.solvers.qubo.device import tempering_sampler_device

        return tempering_sampler_device(qubo, num_reads=num_reads, num_replicas=num_replicas, num_sweeps=num_sweeps,
                                        beta_range=beta_range, rng=rng, time_limit=time_limit,
                                        initial_states=initial_states, callback=callback)
    num_reads = _positive_int(num_reads, "num_reads")
    K = _positive_int(num_replicas, "num_replicas")
    num_sweeps = _positive_int(num_sweeps, "num_sweeps")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    given = _beta_range(beta_range)
    C = _couplings(qubo, np.float64, layout)
    hot, cold = given if given is not None else C.default_beta_range()
    betas = np.geomspace(hot, cold, K) if K > 1 else np.array([cold])
    R = num_reads * K
    X = _start_states(run.rng, initial_states, R, qubo.n)
    F = C.fields(X)
    E = qubo.energy(X) - qubo.offset
    states = _seeds(run.rng, R)
    chain_states = _seeds(run.rng, num_reads)
    best_E = E.reshape(num_reads, K).min(axis=1).copy()
    best_X = X[np.arange(num_reads) * K + E.reshape(num_reads, K).argmin(axis=1)].copy()

    def step(start, size):
        C.kernel("tempering_sweeps")(*C.args, X, F, E, betas, states, chain_states, size, start, best_X, best_E)

    chunks = _Chunks(num_sweeps, run)
    chunks.run_all(step, lambda: _sample_set(qubo, best_X, "tempering", run, {"num_sweeps": chunks.done}))
    return _sample_set(qubo, best_X, "tempering", run, {
        "num_reads": num_reads, "num_replicas": K, "num_sweeps": chunks.done, "betas": betas.tolist(),
        "layout": C.layout,
        "spin_flip_attempts": int(R) * int(chunks.done) * qubo.n})


# --- tabu search ---------------------------------------------------------------------------------------

def tabu_sampler(qubo: QUBO, *, num_reads: int = 8, num_iterations: int | None = None, tenure: int | None = None,
                 tenure_spread: int | None = None, stall_limit: int | None = None, perturb: int | None = None,
                 rng=None, time_limit=None, initial_states=None, callback=None, layout: str = "auto",
                 backend: str = "numpy") -> SampleSet:
    """Return the best state of each of ``num_reads`` independent one-flip tabu searches.

    Each move evaluates all ``n`` flips from the incrementally kept local fields and takes
    the best non-tabu one (or a tabu one that reaches a new best: aspiration); the flipped
    bit stays tabu for ``tenure + randint(0, tenure_spread)`` moves.  After ``stall_limit``
    moves without improvement a read restarts from its best state with ``perturb`` random
    flips.  Defaults: ``num_iterations = 100 n``, ``tenure = max(1, min(20, n // 4))``,
    ``tenure_spread = tenure // 2``, ``stall_limit = 10 n``, ``perturb = max(2, n // 10)``.
    Tabu search has no device kernel: ``backend="auto"`` runs it here, ``"cupy"`` raises
    :class:`~cutslack.errors.SolverError`.
    ``layout`` as in :func:`anneal_sampler` (the CSR kernel still scans all ``n`` flips per
    move; only the field update is O(degree)).
    """
    if _on_device(backend):
        raise SolverError("tabu search has no GPU kernel; use backend='numpy' or 'auto' "
                          "(the GPU samplers are anneal, tempering and exhaustive)")
    n = qubo.n
    num_reads = _positive_int(num_reads, "num_reads")
    num_iterations = _positive_int(num_iterations if num_iterations is not None else 100 * max(n, 1), "num_iterations")
    tenure = max(1, min(20, n // 4)) if tenure is None else int(tenure)
    tenure_spread = tenure // 2 if tenure_spread is None else int(tenure_spread)
    stall_limit = _positive_int(stall_limit if stall_limit is not None else 10 * max(n, 1), "stall_limit")
    perturb = max(2, n // 10) if perturb is None else int(perturb)
    if tenure < 0 or tenure_spread < 0 or perturb < 0:
        raise ValueError("tenure, tenure_spread and perturb must be non-negative")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    C = _couplings(qubo, np.float64, layout)
    X = _start_states(run.rng, initial_states, num_reads, n)
    F = C.fields(X)
    E = qubo.energy(X) - qubo.offset if n else np.zeros(num_reads)
    best_X, best_E = X.copy(), E.copy()
    tabu_until = np.zeros((num_reads, n), dtype=np.int64)
    stall = np.zeros(num_reads, dtype=np.int64)
    states = _seeds(run.rng, num_reads)

    def step(start, size):
        C.kernel("tabu_reads")(*C.args, X, F, E, best_X, best_E, tabu_until, stall, states, start, size,
                               tenure, tenure_spread, stall_limit, perturb)

    chunks = _Chunks(num_iterations, run)
    chunks.run_all(step, lambda: _sample_set(qubo, best_X, "tabu", run, {"num_iterations": chunks.done}))
    return _sample_set(qubo, best_X, "tabu", run, {
        "num_reads": num_reads, "num_iterations": chunks.done, "tenure": tenure, "layout": C.layout,
        "spin_flip_attempts": int(num_reads) * int(chunks.done) * n})


# --- dispatch -----------------------------------------------------------------------------------------

#: sampler name -> function
SAMPLERS: dict[str, Callable] = {
    "exhaustive": exhaustive_sampler,
    "anneal": anneal_sampler,
    "tempering": tempering_sampler,
    "tabu": tabu_sampler,
}


def sampler_names() -> tuple:
    """Return every sampler name :func:`sample_qubo` understands: the classical ones here and the
    quantum ones of :mod:`cutslack.quantum` (resolved lazily, so qiskit is imported only when used)."""
    from cutslack.quantum import SAMPLER_LOCATIONS

    return tuple(sorted(SAMPLERS)) + tuple(k for k in SAMPLER_LOCATIONS if k not in SAMPLERS)


def resolve_sampler(sampler: str | Callable) -> Callable:
    """Return the sampler function for a name (case-insensitive) or a callable."""
    if callable(sampler):
        return sampler
    key = sampler.lower() if isinstance(sampler, str) else None
    if key in SAMPLERS:
        return SAMPLERS[key]
    from cutslack.quantum import SAMPLER_LOCATIONS

    if key in SAMPLER_LOCATIONS:
        import importlib

        module, function = SAMPLER_LOCATIONS[key]
        return getattr(importlib.import_module(module), function)
    raise ValueError(f"unknown sampler {sampler!r}; valid samplers: {', '.join(sampler_names())}")


def sample_qubo(qubo: QUBO, sampler: str | Callable = "anneal", **options) -> SampleSet:
    """Return the SampleSet of ``qubo`` drawn by ``sampler`` (a name in :func:`sampler_names` or a callable).

    Names resolve case-insensitively: the classical samplers of :data:`SAMPLERS` and the quantum
    ones (``qaoa``, ``vqe``, ``cvar-vqe``, ...); an unknown one raises ``ValueError`` listing the
    valid names.

    >>> import numpy as np
    >>> from cutslack.binary import QUBO
    >>> sample_qubo(QUBO(np.array([[1.0, -3.0], [0.0, 1.0]])), "exhaustive").best.tolist()
    [1, 1]
    """
    return resolve_sampler(sampler)(qubo, **options)
