"""Repair and local improvement of sampled bit vectors, one public function per problem family.

Every sample a QUBO sampler returns goes through :func:`repair`, which maps it to a feasible
bit vector of the family's binary program (``problem.to_binary()``) and improves it locally:

* knapsack — drop items by lowest profit-to-weighted-usage ratio until every capacity holds,
  add items greedily by highest ratio, then one round of 1-for-1 swaps (each chosen item
  exchanged for the most profitable unchosen one that fits), then add greedily again;
* MIS — remove the vertex in most conflicts until the set is independent, then add vertices
  greedily (heaviest, then fewest neighbours, first);
* QAP and TSP (position encoding) — project the ``n × n`` bit matrix to the nearest
  permutation matrix by a linear assignment (:func:`scipy.optimize.linear_sum_assignment`,
  ties broken by tiny ``rng`` noise), then 2-swap (QAP) or 2-opt (TSP) local search to a
  local optimum.

The per-sample loops are Numba kernels (``cache=True``): they run on every sample of every
iteration, their control flow is data-dependent (drop until feasible, improve until no
move helps), and NumPy cannot vectorise them across samples.
"""

from __future__ import annotations

import heapq

import numba
import numpy as np
from scipy.optimize import linear_sum_assignment

from cutslack.binary import as_bit_matrix
from cutslack.errors import SolverError
from cutslack.solvers.classical.heuristics.qap import swap_delta

__all__ = ["repair", "repair_knapsack", "repair_mis", "repair_qap", "repair_tsp", "REPAIRABLE_FAMILIES"]


# --- knapsack ---------------------------------------------------------------------------
@numba.njit(cache=True)
def _knapsack_kernel(X, profits, weights, capacities, ratio_order, swap_round):
    k, n = X.shape
    m = weights.shape[0]
    for s in range(k):
        x = X[s]
        load = np.zeros(m)
        for j in range(n):
            if x[j]:
                for i in range(m):
                    load[i] += weights[i, j]
        # drop the worst-ratio items until every capacity holds
        for t in range(n):
            over = False
            for i in range(m):
                if load[i] > capacities[i] + 1e-9:
                    over = True
                    break
            if not over:
                break
            j = ratio_order[t]
            if x[j]:
                x[j] = 0
                for i in range(m):
                    load[i] -= weights[i, j]
        for rounds in range(2 if swap_round else 1):
            # add the best-ratio items that fit
            for t in range(n - 1, -1, -1):
                j = ratio_order[t]
                if x[j] == 0:
                    fits = True
                    for i in range(m):
                        if load[i] + weights[i, j] > capacities[i] + 1e-9:
                            fits = False
                            break
                    if fits:
                        x[j] = 1
                        for i in range(m):
                            load[i] += weights[i, j]
            if rounds == 1 or not swap_round:
                break
            # one round of swaps: each chosen item against the best unchosen one that fits
            for a in range(n):
                if x[a] == 0:
                    continue
                best_gain = 1e-9
                best_b = -1
                for b in range(n):
                    if x[b] or profits[b] - profits[a] <= best_gain:
                        continue
                    fits = True
                    for i in range(m):
                        if load[i] - weights[i, a] + weights[i, b] > capacities[i] + 1e-9:
                            fits = False
                            break
                    if fits:
                        best_gain = profits[b] - profits[a]
                        best_b = b
                if best_b >= 0:
                    x[a] = 0
                    x[best_b] = 1
                    for i in range(m):
                        load[i] += weights[i, best_b] - weights[i, a]
    return X


def repair_knapsack(problem, X, *, multipliers=None, swap_round: bool = True, rng=None) -> np.ndarray:
    """Return feasible, locally improved copies of knapsack bit vectors (one per row of ``X``).

    The usage weight of constraint ``i`` is its multiplier ``λ_i`` when ``multipliers`` (the
    inequality multipliers of a Lagrangian run) has a positive entry, else ``1 / c_i``; the
    ratio of item ``j`` is ``p_j / Σ_i u_i w_ij``.  Deterministic (``rng`` is accepted for a
    uniform signature and unused).
    """
    X2, single = as_bit_matrix(X, problem.n)
    X2 = np.array(X2, dtype=np.uint8)
    W, c, p = problem.weights, problem.capacities, problem.profits
    usage = 1.0 / np.maximum(c, 1.0)
    if multipliers is not None:
        lam = np.asarray(multipliers, dtype=float).reshape(-1)
        if lam.shape == c.shape and lam.size and np.all(np.isfinite(lam)) and lam.max() > 0:
            usage = lam + 1e-6 * lam.max() * usage / usage.max()
    ratio = p / np.maximum(usage @ W, 1e-12)
    # items heavier than a capacity can never be chosen: give them the lowest ratio
    ratio = np.where(np.any(W > c[:, None], axis=0), -np.inf, ratio)
    order = np.argsort(ratio, kind="stable").astype(np.int64)
    out = _knapsack_kernel(X2, p.astype(float), W.astype(float), c.astype(float), order, bool(swap_round))
    return out[0] if single else out


# --- maximum independent set --------------------------------------------------------------
@numba.njit(cache=True)
def _mis_kernel(X, indptr, indices, weights, add_order):
    k, n = X.shape
    for s in range(k):
        x = X[s]
        conflicts = np.zeros(n, dtype=np.int64)
        for v in range(n):
            if x[v]:
                for e in range(indptr[v], indptr[v + 1]):
                    conflicts[indices[e]] += 1
        # the chosen vertex in most conflicts (lighter, then lower index, first) from a heap
        # with lazy deletion: O((n + m) log n) instead of a scan of all n per removal
        heap = [(0, 0.0, 0)]
        heap.pop()
        for v in range(n):
            if x[v] and conflicts[v] > 0:
                heap.append((-conflicts[v], weights[v], v))
        heapq.heapify(heap)
        while len(heap) > 0:
            neg_count, _, worst = heapq.heappop(heap)
            if x[worst] == 0 or conflicts[worst] != -neg_count:
                continue  # stale entry: removed already, or its count dropped (a newer entry exists)
            x[worst] = 0
            for e in range(indptr[worst], indptr[worst + 1]):
                u = indices[e]
                conflicts[u] -= 1
                if x[u] and conflicts[u] > 0:
                    heapq.heappush(heap, (-conflicts[u], weights[u], u))
        for t in range(n):
            v = add_order[t]
            if x[v] == 0 and conflicts[v] == 0:
                x[v] = 1
                for e in range(indptr[v], indptr[v + 1]):
                    conflicts[indices[e]] += 1
    return X


def repair_mis(problem, X, *, rng=None) -> np.ndarray:
    """Return independent, maximal copies of MIS indicator vectors (one per row of ``X``).

    Removes the chosen vertex in most conflicts (lighter first on ties) until no edge has
    both ends chosen, then adds free vertices by decreasing weight, fewest neighbours first
    among equals.  The result is maximal, not necessarily maximum.  Deterministic.
    """
    X2, single = as_bit_matrix(X, problem.n)
    X2 = np.array(X2, dtype=np.uint8)
    n = problem.n
    E = problem.edges
    import scipy.sparse as sp

    adj = sp.csr_matrix((np.ones(2 * len(E)), (np.r_[E[:, 0], E[:, 1]], np.r_[E[:, 1], E[:, 0]])), shape=(n, n))
    degree = np.diff(adj.indptr)
    add_order = np.lexsort((degree, -problem.weights)).astype(np.int64)
    out = _mis_kernel(X2, adj.indptr.astype(np.int64), adj.indices.astype(np.int64),
                      problem.weights.astype(float), add_order)
    return out[0] if single else out


# --- permutations: projection and local search -------------------------------------------
def _project_permutations(X2: np.ndarray, n: int, rng) -> np.ndarray:
    """Return ``(k, n)`` permutations: row i -> column of the max-weight assignment of each bit matrix."""
    g = np.random.default_rng(rng)
    P = np.empty((X2.shape[0], n), dtype=np.int64)
    noise = g.random((X2.shape[0], n, n)) * 1e-3
    M = X2.reshape(-1, n, n).astype(float) + noise
    for s in range(X2.shape[0]):
        rows, cols = linear_sum_assignment(M[s], maximize=True)
        P[s, rows] = cols
    return P


def _encode_permutations(P: np.ndarray) -> np.ndarray:
    k, n = P.shape
    X = np.zeros((k, n, n), dtype=np.uint8)
    X[np.arange(k)[:, None], np.arange(n)[None, :], P] = 1
    return X.reshape(k, n * n)


@numba.njit(cache=True)
def _qap_local_search(P, F, D):
    k, n = P.shape
    for t in range(k):
        p = P[t]
        while True:
            best, br, bs = -1e-9, -1, -1
            for r in range(n - 1):
                for s in range(r + 1, n):
                    d = swap_delta(F, D, p, r, s)
                    if d < best:
                        best, br, bs = d, r, s
            if br < 0:
                break
            p[br], p[bs] = p[bs], p[br]
    return P


@numba.njit(cache=True)
def _tour_length(D, tour):
    n = tour.shape[0]
    total = 0.0
    for i in range(n):
        total += D[tour[i], tour[(i + 1) % n]]
    return total


@numba.njit(cache=True)
def _tsp_two_opt(T, D, symmetric):
    k, n = T.shape
    for t in range(k):
        tour = T[t]
        length = _tour_length(D, tour)
        improved = True
        while improved:
            improved = False
            for i in range(1, n - 1):
                for j in range(i + 1, n):
                    if symmetric:
                        # reversing tour[i..j] swaps two edges: an O(1) change
                        a, b, c, d = tour[i - 1], tour[i], tour[j], tour[(j + 1) % n]
                        if D[a, c] + D[b, d] - D[a, b] - D[c, d] < -1e-9:
                            tour[i:j + 1] = tour[i:j + 1][::-1].copy()
                            improved = True
                        continue
                    # asymmetric: reversal changes every inner edge's direction, so recompute
                    tour[i:j + 1] = tour[i:j + 1][::-1].copy()
                    new = _tour_length(D, tour)
                    if new < length - 1e-9:
                        length = new
                        improved = True
                    else:
                        tour[i:j + 1] = tour[i:j + 1][::-1].copy()
    return T


def repair_qap(problem, X, *, local_search: bool = True, rng=None) -> np.ndarray:
    """Return permutation bit vectors (``x[i*n + k] = 1`` iff facility i at location k), 2-swap optimal.

    Each ``n²`` bit vector is projected to the permutation matrix sharing most ones with it
    (a linear assignment; ``rng`` noise breaks ties), then improved by best-improvement
    pairwise exchanges until none lowers the cost.
    """
    n = problem.n
    X2, single = as_bit_matrix(X, n * n)
    if n == 0:  # the empty assignment: nothing to project or exchange
        return np.zeros(0, dtype=np.uint8) if single else np.zeros((len(X2), 0), dtype=np.uint8)
    P = _project_permutations(np.asarray(X2), n, rng)
    if local_search:
        P = _qap_local_search(P, np.asarray(problem.flow, dtype=float), np.asarray(problem.distance, dtype=float))
    out = _encode_permutations(P)
    return out[0] if single else out


def repair_tsp(problem, X, *, local_search: bool = True, rng=None) -> np.ndarray:
    """Return position-encoded tour bit vectors (``x[c*n + t] = 1`` iff city c at step t), 2-opt optimal.

    Projection as in :func:`repair_qap` (city -> step), then the tour is improved by 2-opt
    segment reversals (O(1) edge-exchange deltas for symmetric distances; lengths recomputed
    for asymmetric ones).
    """
    n = problem.n
    X2, single = as_bit_matrix(X, n * n)
    step_of_city = _project_permutations(np.asarray(X2), n, rng)
    tours = np.argsort(step_of_city, axis=1).astype(np.int64)
    if local_search and n > 3:
        tours = _tsp_two_opt(tours, np.asarray(problem.distance, dtype=float), problem.symmetric)
    out = _encode_permutations(np.argsort(tours, axis=1))
    return out[0] if single else out


_REPAIRS = {"knapsack": repair_knapsack, "mis": repair_mis, "qap": repair_qap, "tsp": repair_tsp}
#: families :func:`repair` knows
REPAIRABLE_FAMILIES = tuple(_REPAIRS)


def repair(problem, X, *, rng=None, **options) -> np.ndarray:
    """Return repaired, locally improved bit vectors of ``problem.to_binary()`` (one per row of ``X``).

    Dispatches on ``problem.family``; options go to the family's function (for example
    ``multipliers=`` for the knapsack).  TSP samples must use the position encoding.
    Raises :class:`SolverError` for a family without a repair.
    """
    family = getattr(problem, "family", None)
    fn = _REPAIRS.get(family)
    if fn is None:
        raise SolverError(f"no repair for problem family {family!r}; repair knows {', '.join(REPAIRABLE_FAMILIES)}")
    return fn(problem, X, rng=rng, **options)
