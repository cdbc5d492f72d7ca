"""Numba kernels of the QUBO samplers (hand-written: these are the hot loops).

Why by hand: the samplers spend all their time in single-bit moves with incrementally
maintained local fields — an O(1) test per attempted flip and an O(n) contiguous row
update per accepted one.  No library offers that on a dense coupling matrix with
``numba.prange`` parallelism over reads and a per-read random stream, and a NumPy version
would pay Python overhead per flip.

Conventions shared by every kernel:

* ``W`` is the symmetric coupling matrix with zero diagonal and ``h`` the linear part, so
  ``E(x) = h'x + x'Wx / 2`` (plus the QUBO offset) and the local field of bit ``i`` is
  ``f_i = h_i + (W x)_i``; flipping ``i`` changes the energy by ``(1 - 2 x_i) f_i``.
* Each read (replica, restart) owns a SplitMix64 random stream seeded from the caller's
  ``numpy.random.Generator``, so results do not depend on thread scheduling.
* Kernels advance state arrays in place, so a caller can run them in chunks and check the
  clock in between (Numba cannot read the clock cheaply).
* Annealing, tempering and tabu come in two layouts: ``W`` dense (``anneal_reads``, ...) or
  in CSR (``anneal_reads_csr(indptr, indices, data, ...)``, symmetric, zero diagonal, sorted
  indices), where a flip updates only the O(degree) fields of its neighbours.  Both run the
  same loop (``_anneal_read``, ``_tempering_chain``, ``_tabu_read``) on a coupling tuple,
  ``(W,)`` or ``(indptr, indices, data)`` (Numba compiles one copy per layout), so they make
  the same moves with the same random draws: the same samples for the same seeds.  The anneal's
  optional branch-free hot sweeps (``hot_fraction``) draw another stream, the same in both layouts.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numba.extending import overload

__all__ = ["anneal_reads", "tempering_sweeps", "tabu_reads", "gray_code_search", "local_fields",
           "anneal_reads_csr", "tempering_sweeps_csr", "tabu_reads_csr", "local_fields_csr", "local_fields_dense",
           "symmetric_from_upper", "csr_row_stats", "all_integral", "EXP_CUTOFF", "HOT_FLIP_FRACTION"]

#: Metropolis moves with ``beta * dE`` above this are rejected without drawing: their
#: probability ``exp(-17) < 4.2e-8`` is below the resolution ``2^-24`` of the float32
#: uniform the test draws, so they would be taken only when that uniform is exactly 0
EXP_CUTOFF = 17.0

#: the CSR anneal of :func:`cutslack.solvers.qubo.samplers.anneal_sampler` runs a sweep branch-free when the
#: sweep before it flipped at least this fraction of the bits.  Measured on a 3-regular MIS QUBO, n = 10^4,
#: 1 thread (ns per bit, branchy / branch-free): 16 / 10 at flip fractions 0.85-0.5, 12.7 / 10.6 at 0.4,
#: 10.7 / 10.5 at 0.3, 10.6 / 13.3 at 0.23, 7 / 16 at 0.1 and below
HOT_FLIP_FRACTION = 0.3

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0
_S40 = np.uint64(40)
_INV24 = np.float32(1.0 / 16777216.0)


@njit(cache=True, inline="always")
def _splitmix(state):
    """Return ``(new_state, z)``: one SplitMix64 step."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return state, z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _next_uniform(state):
    """Return ``(new_state, u)`` with ``u`` uniform in [0, 1) (SplitMix64)."""
    state, z = _splitmix(state)
    return state, float(z >> _S11) * _INV53


@njit(cache=True, inline="always")
def _next_uniform32(state):
    """Return ``(new_state, u)`` with ``u`` a float32 uniform on the 2^24 grid of [0, 1) (SplitMix64's top bits).

    The Metropolis test needs no more resolution, and an int64 -> float32 conversion is far
    cheaper than the uint64 -> float64 one of :func:`_next_uniform`.
    """
    state, z = _splitmix(state)
    return state, np.float32(np.int64(z >> _S40)) * _INV24


@njit(cache=True, inline="always")
def _flip(W, x, f, i):
    """Flip bit ``i`` and update every local field (O(n), contiguous row of ``W``)."""
    row = W[i]
    if x[i] == 0:
        x[i] = 1
        for j in range(f.shape[0]):
            f[j] += row[j]
    else:
        x[i] = 0
        for j in range(f.shape[0]):
            f[j] -= row[j]


@njit(cache=True, inline="always")
def _flip_csr(indptr, indices, data, x, f, i):
    """Flip bit ``i`` and update the local fields of its neighbours (O(degree), one CSR row)."""
    lo, hi = indptr[i], indptr[i + 1]
    if x[i] == 0:
        x[i] = 1
        for k in range(lo, hi):
            f[indices[k]] += data[k]
    else:
        x[i] = 0
        for k in range(lo, hi):
            f[indices[k]] -= data[k]


def _flip_any(C, x, f, i):
    """Flip bit ``i`` under the couplings ``C``: ``(W,)`` dense or ``(indptr, indices, data)`` CSR.

    One tuple for both layouts keeps a single copy of every sampler loop below; the layout is
    read from the tuple's length when Numba compiles the caller (the overload below), so each
    compiled loop holds only its own update.
    """
    if len(C) == 1:
        _flip.py_func(C[0], x, f, i)
    else:
        _flip_csr.py_func(C[0], C[1], C[2], x, f, i)


@overload(_flip_any)
def _flip_any_overload(C, x, f, i):
    if len(C) == 1:
        return lambda C, x, f, i: _flip(C[0], x, f, i)
    return lambda C, x, f, i: _flip_csr(C[0], C[1], C[2], x, f, i)


@njit(cache=True, inline="always")
def _uphill_accepted(u, t):
    """Return ``u < expf(-t)`` for ``0 < t <= EXP_CUTOFF``, calling ``exp`` only when cheap bounds leave it open.

    ``1 - t + t^2/2 - ... - t^5/120 <= exp(-t) <= 1 / (1 + t + ... + t^4/24)`` (Taylor, ``t >= 0``);
    with margins of 1e-6 (far above the float32 ``expf``'s error and the float64 rounding of
    the polynomials) a ``u`` outside the bounds gets the same answer as the full test, which
    then runs for a few per cent of the draws.  Same decisions; a CSR sweep measured about a
    quarter faster.
    """
    upper = 1.0 + t * (1.0 + t * (0.5 + t * (1.0 / 6.0 + t * (1.0 / 24.0))))
    if u * upper >= 1.000001:
        return False
    lower = 1.0 - t * (1.0 - t * (0.5 - t * (1.0 / 6.0 - t * (1.0 / 24.0 - t * (1.0 / 120.0)))))
    if u < lower - 1e-6:
        return True
    return u < math.exp(np.float32(-t))


@njit(cache=True, inline="always")
def _metropolis_test(de, beta, state):
    """Return ``(state, accepted)`` for a proposed flip changing the energy by ``de`` at inverse temperature ``beta``.

    dwave-samplers' rule: a flip with ``dE <= 0`` is taken, an uphill one with probability
    ``exp(-beta dE)`` (one uniform drawn per uphill proposal; those with ``beta dE`` above
    :data:`EXP_CUTOFF` are refused without a draw).  The test ``u < exp(-beta dE)`` compares a
    24-bit float32 uniform with float32 ``expf`` (their 6e-8 resolution moves an acceptance
    probability by as much, far below the sampling noise); ``dE`` and ``beta dE`` are float64
    whatever the dtype of the fields.
    """
    if de <= 0.0:
        return state, True
    t = de * beta
    if t > EXP_CUTOFF:
        return state, False
    state, u = _next_uniform32(state)
    return state, _uphill_accepted(u, t)


@njit(cache=True, fastmath=True)
def _metropolis_sweep(C, x, f, beta, state):
    """One sequential Metropolis sweep (:func:`_metropolis_test`); return ``(state, energy change, flips)``.

    The field update of an accepted flip is :func:`_flip` / :func:`_flip_csr` written out
    (the branch on the layout is resolved when Numba compiles): inlining those functions
    instead measured about 40 % slower on a CSR sweep, the loop having lost its shape.
    """
    delta = 0.0
    flips = 0
    n = x.shape[0]
    for i in range(n):
        de = f[i] * (1.0 - 2.0 * x[i])  # (1 - 2 x_i) f_i without a branch on x_i (exact: a sign)
        state, accepted = _metropolis_test(de, beta, state)
        if not accepted:
            continue
        delta += de
        flips += 1
        if len(C) == 1:
            row = C[0][i]
            if x[i] == 0:
                x[i] = 1
                for j in range(n):
                    f[j] += row[j]
            else:
                x[i] = 0
                for j in range(n):
                    f[j] -= row[j]
        else:
            indptr, indices, data = C[0], C[1], C[2]
            lo, hi = indptr[i], indptr[i + 1]
            if x[i] == 0:
                x[i] = 1
                for k in range(lo, hi):
                    f[indices[k]] += data[k]
            else:
                x[i] = 0
                for k in range(lo, hi):
                    f[indices[k]] -= data[k]
    return state, delta, flips


@njit(cache=True, fastmath=True)
def _metropolis_sweep_hot(C, x, f, beta, state, table):
    """One Metropolis sweep without data-dependent branches; return ``(state, energy change, flips)`` as
    :func:`_metropolis_sweep` does.

    Every bit draws a uniform ``u`` and flips when ``u < expf(min(0, -beta dE))`` (``beta dE`` in float64,
    rounded to float32 for ``expf`` as in :func:`_metropolis_test`; a downhill or
    level move always: ``u < 1``); on CSR couplings the neighbours' fields are updated with a
    multiplier that is 0 for a refused flip.  A valid Metropolis sweep (a uniform drawn and
    ignored changes no probability) with another random stream than :func:`_metropolis_sweep`.
    Why: while most proposals are taken (hot sweeps), the branchy sweep mispredicts about every
    other test; without branches a sweep of a degree-3 CSR QUBO measured 10 ns per bit against
    16 ns, and slower (16 against 4 ns) once few bits flip, hence the switch in
    :func:`_anneal_read`.  ``table`` (non-empty when every ``dE`` is an integer in
    ``[-len + 1, len - 1]``) holds ``expf(-beta d)`` for ``d = 0, 1, ...``: a load instead of the ``expf``.
    """
    delta = 0.0
    flips = 0
    n = x.shape[0]
    for i in range(n):
        xi = x[i]
        sign = np.float32(1.0) - np.float32(2.0) * np.float32(xi)
        de = f[i] * (1.0 - 2.0 * xi)  # float64, as in _metropolis_test, whatever the fields' dtype
        state, u = _next_uniform32(state)
        if table.shape[0]:
            accepted = u < table[min(max(np.int64(de), 0), table.shape[0] - 1)]
        else:
            accepted = u < math.exp(np.float32(min(-de * beta, 0.0)))
        delta += de * accepted
        flips += accepted
        if len(C) == 1:
            if accepted:
                row = C[0][i]
                x[i] = 1 - xi
                for j in range(n):
                    f[j] += sign * row[j]
        else:
            indptr, indices, data = C[0], C[1], C[2]
            x[i] = xi ^ np.uint8(accepted)
            step = sign * np.float32(accepted)
            for k in range(indptr[i], indptr[i + 1]):
                f[indices[k]] += step * data[k]
    return state, delta, flips


@njit(cache=True)
def _exact_fields(C, h, x, f, acc):
    """Refill ``f`` with ``h + W x`` accumulated in float64 (``acc``: a float64 scratch row), then rounded to ``f``'s dtype."""
    for j in range(x.shape[0]):
        acc[j] = h[j]
    for i in range(x.shape[0]):
        if x[i]:
            x[i] = 0
            _flip_any(C, x, acc, i)  # from 0 to 1: adds row i of W to acc
    for j in range(x.shape[0]):
        f[j] = acc[j]


@njit(cache=True)
def all_integral(a, limit):
    """Return True when every entry of the 1-d array ``a`` is an integer of magnitude at most ``limit``
    (serial: it stops at the first entry that is not, usually the first one)."""
    for k in range(a.shape[0]):
        v = a[k]
        if v != math.floor(v) or abs(v) > limit:
            return False
    return True


@njit(cache=True)
def local_fields(W, h, x, f):
    """Fill ``f`` with ``h + W x`` for one bit vector ``x``."""
    n = x.shape[0]
    for j in range(n):
        f[j] = h[j]
    for i in range(n):
        if x[i]:
            row = W[i]
            for j in range(n):
                f[j] += row[j]


@njit(cache=True, parallel=True)
def local_fields_dense(W, h, X, F):
    """Fill each row of ``F`` with ``h + W x`` for the matching row ``x`` of ``X``, in parallel over rows.

    Accumulates in float64 whatever the dtype of ``W``, like the flips that update it later.
    """
    for r in prange(X.shape[0]):
        local_fields(W, h, X[r], F[r])


#: tile edge of :func:`symmetric_from_upper` (two 64 x 64 float64/float32 tiles stay in L1)
_TILE = 64


@njit(cache=True)
def symmetric_from_upper(U, W, row_sum, abs_sum, min_abs):
    """Fill ``W`` with the symmetric zero-diagonal coupling of the upper-triangular ``U`` (one pass).

    Also fills, from the float64 values of ``U``, each row's signed sum ``sum_j W_ij``, absolute
    sum ``sum_j |W_ij|`` and smallest nonzero ``|W_ij|`` (``inf`` if none): what the default
    beta range needs, without another pass over an ``n x n`` matrix.  Each ``U_ij`` (i < j) is
    read once and written to ``W_ij`` and ``W_ji`` tile by tile, so the transposed writes stay
    in cache (a row-by-row pass reading ``U``'s columns took three times as long at n = 1,000).
    """
    n = U.shape[0]
    for i in range(n):
        row_sum[i] = 0.0
        abs_sum[i] = 0.0
        min_abs[i] = np.inf
        W[i, i] = 0.0
    for i0 in range(0, n, _TILE):
        i1 = min(n, i0 + _TILE)
        for j0 in range(i0, n, _TILE):
            j1 = min(n, j0 + _TILE)
            for i in range(i0, i1):
                s, a, m = row_sum[i], abs_sum[i], min_abs[i]
                for j in range(max(j0, i + 1), j1):
                    v = U[i, j]
                    W[i, j] = v
                    W[j, i] = v
                    s, a, m = _add_to_row_stats(v, s, a, m)
                    row_sum[j], abs_sum[j], min_abs[j] = _add_to_row_stats(v, row_sum[j], abs_sum[j], min_abs[j])
                row_sum[i], abs_sum[i], min_abs[i] = s, a, m


@njit(cache=True, inline="always")
def _add_to_row_stats(v, s, a, m):
    """Return the running (signed sum, absolute sum, smallest nonzero magnitude) after coupling ``v``."""
    s += v
    if v != 0.0:
        av = abs(v)
        a += av
        if av < m:
            m = av
    return s, a, m


@njit(cache=True, parallel=True)
def csr_row_stats(indptr, data, row_sum, abs_sum, min_abs):
    """Fill the row statistics of :func:`symmetric_from_upper` for a CSR matrix."""
    for i in prange(indptr.shape[0] - 1):
        s = 0.0
        a = 0.0
        m = np.inf
        for k in range(indptr[i], indptr[i + 1]):
            s, a, m = _add_to_row_stats(data[k], s, a, m)
        row_sum[i] = s
        abs_sum[i] = a
        min_abs[i] = m


@njit(cache=True, parallel=True)
def local_fields_csr(indptr, indices, data, h, X, F):
    """Fill each row of ``F`` with ``h + W x`` for the matching row ``x`` of ``X`` (``W`` in CSR), in parallel over rows."""
    n = X.shape[1]
    for r in prange(X.shape[0]):
        x = X[r]
        f = F[r]
        for j in range(n):
            f[j] = h[j]
        for i in range(n):
            if x[i]:
                for k in range(indptr[i], indptr[i + 1]):
                    f[indices[k]] += data[k]


@njit(cache=True)
def _anneal_read(C, x, f, betas, state, h, since, refresh_flips, init_fields, hot_fraction, last_flips,
                 integer_range):
    """Run one read through ``betas``; return ``(state, flips since the last field refresh, flips of the last sweep)``.

    With ``init_fields`` the read first fills ``f`` with ``h + W x`` (float64 sums, rounded to
    ``f``'s dtype).  With ``refresh_flips > 0`` it recomputes them the same way whenever that
    many flips have been added since the last refresh: float32 fields then never drift by more than the
    rounding of a few ``n`` adds.  With ``hot_fraction > 0`` a sweep follows a sweep that flipped at
    least that fraction of the bits (``last_flips``, carried across calls) runs branch-free
    (:func:`_metropolis_sweep_hot`); the choice depends only on the walk, so a seed still gives one
    result whatever the chunking.  ``integer_range > 0`` promises that every ``|dE|`` is an integer of at
    most that size (integer QUBO, exact fields): hot sweeps then look their acceptance up in a table.
    """
    acc = np.empty(x.shape[0] if refresh_flips > 0 or init_fields else 0, dtype=np.float64)
    if init_fields:
        _exact_fields(C, h, x, f, acc)
    hot_flips = hot_fraction * x.shape[0]
    table = np.empty(integer_range + 1 if integer_range > 0 else 0, dtype=np.float32)
    for k in range(betas.shape[0]):
        if hot_fraction > 0.0 and last_flips >= hot_flips:
            for d in range(table.shape[0]):
                table[d] = math.exp(np.float32(-(d * betas[k])))  # the expf of the untabulated test, bit for bit
            state, _, flips = _metropolis_sweep_hot(C, x, f, betas[k], state, table)
        else:
            state, _, flips = _metropolis_sweep(C, x, f, betas[k], state)
        last_flips = flips
        since += flips
        if refresh_flips > 0 and since >= refresh_flips:
            _exact_fields(C, h, x, f, acc)
            since = 0
    return state, since, last_flips


@njit(cache=True, parallel=True)
def _anneal_reads_any(C, X, F, betas, states, h, flips_since, refresh_flips, init_fields, hot_fraction, last_flips,
                      integer_range):
    for r in prange(X.shape[0]):
        states[r], flips_since[r], last_flips[r] = _anneal_read(C, X[r], F[r], betas, states[r], h, flips_since[r],
                                                                refresh_flips, init_fields, hot_fraction,
                                                                last_flips[r], integer_range)


def _anneal_options(X, h, flips_since, refresh_flips, init_fields, hot_fraction, last_flips, integer_range):
    """Validate the optional arguments of :func:`anneal_reads` (defaults: no refresh, fields given, no hot sweeps)."""
    if (refresh_flips > 0 or init_fields) and h is None:
        raise ValueError("anneal_reads: refresh_flips > 0 and init_fields need the linear part h")
    h = np.zeros(0) if h is None else np.ascontiguousarray(h, dtype=np.float64)
    if flips_since is None:
        flips_since = np.zeros(X.shape[0], dtype=np.int64)
    if last_flips is None:
        last_flips = np.zeros(X.shape[0], dtype=np.int64)
    return (h, flips_since, max(0, int(refresh_flips)), bool(init_fields), float(hot_fraction), last_flips,
            max(0, int(integer_range)))


def anneal_reads(W, X, F, betas, states, h=None, flips_since=None, refresh_flips=0, init_fields=False,
                 hot_fraction=0.0, last_flips=None, integer_range=0):
    """Run every read (row of ``X``) through the sweep schedule ``betas``, in parallel over reads.

    ``F`` holds the local fields in float64 or float32 (updated in its own dtype, like ``W``'s
    rows added to it); with ``init_fields`` each read first fills its row of ``F`` from ``h``
    (inside the parallel loop, so preparing a run costs no extra pass).  With
    ``refresh_flips > 0`` each read recomputes its fields exactly from ``h`` after every
    ``refresh_flips`` accepted flips, counted in ``flips_since`` (one int64 per read, kept
    across calls so a run split into chunks makes the same moves).  With ``hot_fraction > 0``
    a sweep after one that flipped at least that fraction of the bits (``last_flips``, one
    int64 per read, kept across calls likewise) runs branch-free, with its own random stream
    (:func:`_metropolis_sweep_hot`); the default 0 keeps every sweep on the stream of the GPU twin.
    ``integer_range > 0``: every ``|dE|`` is an integer of at most that size (see :func:`_anneal_read`).
    """
    _anneal_reads_any((W,), X, F, betas, states,
                      *_anneal_options(X, h, flips_since, refresh_flips, init_fields, hot_fraction, last_flips,
                                      integer_range))


def anneal_reads_csr(indptr, indices, data, X, F, betas, states, h=None, flips_since=None, refresh_flips=0,
                     init_fields=False, hot_fraction=0.0, last_flips=None, integer_range=0):
    """:func:`anneal_reads` on CSR couplings: O(degree) field updates, same moves and random draws."""
    _anneal_reads_any((indptr, indices, data), X, F, betas, states,
                      *_anneal_options(X, h, flips_since, refresh_flips, init_fields, hot_fraction, last_flips,
                                      integer_range))


@njit(cache=True)
def _swap_rows(A, a, b):
    for j in range(A.shape[1]):
        t = A[a, j]
        A[a, j] = A[b, j]
        A[b, j] = t


@njit(cache=True)
def _tempering_chain(C, X, F, E, betas, states, cs, c, num_sweeps, sweep_offset, best_X, best_E):
    """Advance chain ``c`` of :func:`tempering_sweeps` by ``num_sweeps``; return its swap stream's state."""
    K = betas.shape[0]
    base = c * K
    for sweep in range(num_sweeps):
        for k in range(K):
            r = base + k
            s, d, _ = _metropolis_sweep(C, X[r], F[r], betas[k], states[r])
            states[r] = s
            E[r] += d
        for k in range((sweep_offset + sweep) % 2, K - 1, 2):
            a = base + k
            b = a + 1
            arg = (betas[k] - betas[k + 1]) * (E[a] - E[b])
            accept = arg >= 0.0
            if not accept:
                cs, u = _next_uniform(cs)
                accept = u < math.exp(arg)
            if accept:
                _swap_rows(X, a, b)
                _swap_rows(F, a, b)
                t = E[a]
                E[a] = E[b]
                E[b] = t
        for k in range(K):
            if E[base + k] < best_E[c]:
                best_E[c] = E[base + k]
                best_X[c, :] = X[base + k, :]
    return cs


@njit(cache=True, parallel=True)
def tempering_sweeps(W, X, F, E, betas, states, chain_states, num_sweeps, sweep_offset, best_X, best_E):
    """Advance every parallel-tempering chain by ``num_sweeps`` sweeps, in parallel over chains.

    ``X`` holds ``n_chains * K`` replicas, chain ``c`` owning rows ``c*K .. c*K + K - 1`` at
    inverse temperatures ``betas[0..K-1]`` (row ``c*K + k`` always sits at ``betas[k]``: swaps
    exchange states, not temperatures).  After each sweep of its replicas, a chain lets
    neighbours ``(k, k+1)`` with ``k`` of the sweep's parity swap with probability
    ``min(1, exp((beta_k - beta_{k+1}) (E_k - E_{k+1})))``.  ``best_X``/``best_E`` keep each
    chain's lowest-energy state seen.  One thread runs a whole chain, so a single parallel
    region covers the chunk.
    """
    C = (W,)
    for c in prange(X.shape[0] // betas.shape[0]):
        chain_states[c] = _tempering_chain(C, X, F, E, betas, states, chain_states[c], c, num_sweeps, sweep_offset,
                                           best_X, best_E)


@njit(cache=True, parallel=True)
def tempering_sweeps_csr(indptr, indices, data, X, F, E, betas, states, chain_states, num_sweeps, sweep_offset,
                         best_X, best_E):
    """:func:`tempering_sweeps` on CSR couplings: O(degree) field updates, same moves and random draws."""
    C = (indptr, indices, data)
    for c in prange(X.shape[0] // betas.shape[0]):
        chain_states[c] = _tempering_chain(C, X, F, E, betas, states, chain_states[c], c, num_sweeps, sweep_offset,
                                           best_X, best_E)


@njit(cache=True)
def _tabu_read(C, r, X, F, E, best_X, best_E, tabu_until, stall, states, iteration_offset, num_iterations,
               tenure, tenure_spread, stall_limit, perturb):
    """Advance read ``r`` of :func:`tabu_reads` by ``num_iterations`` moves."""
    n = X.shape[1]
    s = states[r]
    x = X[r]
    f = F[r]
    e = E[r]
    tb = tabu_until[r]
    for step in range(num_iterations):
        it = iteration_offset + step
        best_i = -1
        best_d = np.inf
        ties = 0
        for i in range(n):
            d = f[i] if x[i] == 0 else -f[i]
            if tb[i] > it and not (e + d < best_E[r] - 1e-12):
                continue
            if d < best_d - 1e-12:
                best_d = d
                best_i = i
                ties = 1
            elif d <= best_d + 1e-12:
                ties += 1
                s, u = _next_uniform(s)
                if u * ties < 1.0:
                    best_i = i
        if best_i < 0:
            continue
        _flip_any(C, x, f, best_i)
        e += best_d
        s, u = _next_uniform(s)
        tb[best_i] = it + tenure + int(u * (tenure_spread + 1))
        if e < best_E[r] - 1e-12:
            best_E[r] = e
            best_X[r, :] = x
            stall[r] = 0
        else:
            stall[r] += 1
        if stall[r] >= stall_limit:
            for j in range(n):
                if x[j] != best_X[r, j]:
                    _flip_any(C, x, f, j)
            e = best_E[r]
            for _ in range(perturb):
                s, u = _next_uniform(s)
                j = int(u * n)
                e += f[j] if x[j] == 0 else -f[j]
                _flip_any(C, x, f, j)
            for j in range(n):
                tb[j] = 0
            stall[r] = 0
    E[r] = e
    states[r] = s


@njit(cache=True, parallel=True)
def tabu_reads(W, X, F, E, best_X, best_E, tabu_until, stall, states, iteration_offset, num_iterations,
               tenure, tenure_spread, stall_limit, perturb):
    """Advance one-flip tabu search on every read by ``num_iterations`` moves, in parallel over reads.

    Each move flips the bit with the lowest energy change among the non-tabu bits, or a
    tabu bit whose flip reaches a new best energy (aspiration); ties are broken at random.
    A flipped bit stays tabu for ``tenure + randint(0, tenure_spread)`` moves.  After
    ``stall_limit`` moves without a new best, the read restarts from its best state with
    ``perturb`` random bits flipped.
    """
    C = (W,)
    for r in prange(X.shape[0]):
        _tabu_read(C, r, X, F, E, best_X, best_E, tabu_until, stall, states, iteration_offset, num_iterations,
                   tenure, tenure_spread, stall_limit, perturb)


@njit(cache=True, parallel=True)
def tabu_reads_csr(indptr, indices, data, X, F, E, best_X, best_E, tabu_until, stall, states, iteration_offset,
                   num_iterations, tenure, tenure_spread, stall_limit, perturb):
    """:func:`tabu_reads` on CSR couplings: the same moves and random draws, O(degree) field updates
    (each move still scans all ``n`` flips to pick the best)."""
    C = (indptr, indices, data)
    for r in prange(X.shape[0]):
        _tabu_read(C, r, X, F, E, best_X, best_E, tabu_until, stall, states, iteration_offset, num_iterations,
                   tenure, tenure_spread, stall_limit, perturb)


@njit(cache=True)
def _insert_lowest(top_E, top_code, e, code):
    """Insert ``(e, code)`` into the ascending arrays ``top_E``/``top_code`` if it ranks."""
    K = top_E.shape[0]
    if e >= top_E[K - 1]:
        return
    k = K - 1
    while k > 0 and top_E[k - 1] > e:
        top_E[k] = top_E[k - 1]
        top_code[k] = top_code[k - 1]
        k -= 1
    top_E[k] = e
    top_code[k] = code


@njit(cache=True, parallel=True)
def gray_code_search(W, h, prefixes, low_bits, top_E, top_code):
    """Enumerate ``2^low_bits`` states under each prefix in Gray-code order, in parallel over prefixes.

    Prefix ``p`` fixes bits ``low_bits..n-1`` to the binary digits of ``p``; the low bits run
    through the reflected Gray code, one flip (and one O(n) field update) per state.  Row
    ``q`` of ``top_E``/``top_code`` (pre-filled with ``inf``) receives the lowest energies
    under prefix ``q`` and their states as integers (bit ``i`` of the code is ``x_i``).
    """
    n = h.shape[0]
    count = np.int64(1) << np.int64(low_bits)
    for q in prange(prefixes.shape[0]):
        x = np.zeros(n, dtype=np.uint8)
        f = np.empty(n, dtype=np.float64)
        p = prefixes[q]
        for i in range(low_bits, n):
            x[i] = (p >> np.int64(i - low_bits)) & np.int64(1)
        local_fields(W, h, x, f)
        e = 0.0
        for i in range(n):
            if x[i]:
                e += h[i] + 0.5 * (f[i] - h[i])
        code = p << np.int64(low_bits)
        _insert_lowest(top_E[q], top_code[q], e, code)
        for t in range(1, count):
            b = 0
            while ((t >> np.int64(b)) & np.int64(1)) == 0:
                b += 1
            e += f[b] if x[b] == 0 else -f[b]
            _flip(W, x, f, b)
            code ^= np.int64(1) << np.int64(b)
            _insert_lowest(top_E[q], top_code[q], e, code)
