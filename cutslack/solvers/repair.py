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
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from cutslack.binary import as_bit_matrix
from cutslack.errors import SolverError
from cutslack.problems.generalized_assignment import encode_gap_agents
from cutslack.solvers.classical.heuristics.gap import assignment_local_search, complete_by_regret, desirabilities
from cutslack.solvers.classical.heuristics.qap import swap_delta
from cutslack.solvers.classical.heuristics.scp import improve_covers

__all__ = ["repair", "repair_program", "repair_knapsack", "repair_mis", "repair_qap", "repair_tsp", "repair_gap",
           "repair_set_cover",
           "REPAIRABLE_FAMILIES"]


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


#: the 1-for-1 swap round costs O(n^2 m) per sample: above this many items it is skipped
#: (drop and greedy add, O(n m) per sample, still make every sample feasible)
KNAPSACK_SWAP_MAX_ITEMS = 5_000


def repair_knapsack(problem, X, *, multipliers=None, swap_round: bool = True, rng=None) -> np.ndarray:
    """Return feasible, locally improved copies of knapsack bit vectors (one per row of ``X``).

    The swap round runs only up to :data:`KNAPSACK_SWAP_MAX_ITEMS` items.

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
    swap_round = bool(swap_round) and problem.n <= KNAPSACK_SWAP_MAX_ITEMS
    out = _knapsack_kernel(X2, p.astype(float), W.astype(float), c.astype(float), order, swap_round)
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


# --- generalized assignment and set covering ------------------------------------------------
@numba.njit(cache=True)
def _gap_kernel(X3, ratio, score, desir, W, cap, job_order):
    k, m, n = X3.shape
    agents = np.full((k, n), -1, dtype=np.int64)
    for s in range(k):
        agent = agents[s]
        load = np.zeros(m)
        for t in range(n):
            j = job_order[t]
            best, best_ratio = -1, -np.inf
            for i in range(m):
                if X3[s, i, j] and load[i] + W[i, j] <= cap[i] + 1e-9 and ratio[i, j] > best_ratio:
                    best, best_ratio = i, ratio[i, j]
            if best >= 0:
                agent[j] = best
                load[best] += W[best, j]
        complete_by_regret(agent, load, W, cap, desir)
        assignment_local_search(agent, load, score, W, cap)
    return agents


def repair_gap(problem, X, *, rng=None) -> np.ndarray:
    """Return one-hot ``m*n`` GAP bit vectors (one per row of ``X``), capacity-feasible where a
    completion was found, locally improved.

    Deterministic (``rng`` is accepted for a uniform signature and unused).  A row for which the
    regret completion and the local search leave some capacity exceeded comes back with every
    job assigned but still infeasible (the best effort).
    """
    m, n = problem.m, problem.n
    X2, single = as_bit_matrix(X, m * n)
    X3 = np.asarray(X2).reshape(-1, m, n).astype(np.uint8)
    score, _, _, ratio = desirabilities(problem)
    W = np.ascontiguousarray(problem.weights, dtype=float)
    job_order = np.argsort(-W.mean(axis=0), kind="stable").astype(np.int64)
    agents = _gap_kernel(X3, np.ascontiguousarray(ratio), score, score, W,
                         np.asarray(problem.capacities, dtype=float), job_order)
    out = encode_gap_agents(agents, m)
    return out[0] if single else out


def repair_set_cover(problem, X, *, rng=None) -> np.ndarray:
    """Return covers made from set-cover bit vectors (one per row of ``X``): greedy completion by
    least cost per newly covered row, redundant columns dropped (most expensive first), 1-swaps.

    Deterministic (``rng`` is accepted for a uniform signature and unused).
    """
    X2, single = as_bit_matrix(X, problem.n)
    out = improve_covers(problem, np.asarray(X2))
    return out[0] if single else out


_REPAIRS = {"knapsack": repair_knapsack, "mis": repair_mis, "qap": repair_qap, "tsp": repair_tsp,
            "gap": repair_gap, "setcover": repair_set_cover}
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


# --- generic repair of a bare BinaryProgram ---------------------------------------------------
# Users' own models have no family repair.  The kernel below works on any BinaryProgram from
# its rows alone: ``≤`` rows (``≥`` and ranged rows arrive as negated ``≤`` rows), equality rows
# and conflict pairs (as ``x_i + x_j ≤ 1``).  It is a Numba kernel for the same reason as the
# family kernels: per sample, the number of moves and which rows they touch depend on the data
# (flip until no violation is left, improve until no move helps), so NumPy cannot vectorise
# them across samples, and the loops run on every sample of every iteration.

_FEAS_TOL = 1e-9
#: the two-flip escape is skipped when it would try more pairs than this
_PAIR_BUDGET = 4_000_000


@numba.njit(cache=True)
def _row_violation(r, b, is_eq):
    d = r - b
    if is_eq:
        return abs(d)
    return d if d > 0.0 else 0.0


@numba.njit(cache=True)
def _obj_delta(j, x, c, qdiag, g):
    # change of the minimisation-form objective when x_j flips
    d = c[j] + qdiag[j] + g[j]
    return d if x[j] == 0 else -d


@numba.njit(cache=True)
def _move_effect(a, b2, x, r, rhs, is_eq, colptr, rowidx, colval, tmp, touched):
    # violation change (weighted) of flipping a (and b2 when b2 >= 0); tmp holds row shifts
    nt = 0
    for v in (a, b2):
        if v < 0:
            continue
        sgn = 1.0 if x[v] == 0 else -1.0
        for p in range(colptr[v], colptr[v + 1]):
            i = rowidx[p]
            if tmp[i] == 0.0:
                touched[nt] = i
                nt += 1
            tmp[i] += sgn * colval[p]
            if tmp[i] == 0.0:
                tmp[i] = 1e-300   # keep the row marked as touched
    dv = 0.0
    worst = 0.0
    for t in range(nt):
        i = touched[t]
        new = r[i] + tmp[i]
        dv += _row_violation(new, rhs[i], is_eq[i]) - _row_violation(r[i], rhs[i], is_eq[i])
        d = new - rhs[i]
        if is_eq[i]:
            d = abs(d)
        if d > worst:
            worst = d
        tmp[i] = 0.0
    return dv, worst


@numba.njit(cache=True)
def _apply_flip(j, x, r, g, colptr, rowidx, colval, sptr, sidx, sval):
    sgn = 1.0 if x[j] == 0 else -1.0
    x[j] = 1 - x[j]
    for p in range(colptr[j], colptr[j + 1]):
        r[rowidx[p]] += sgn * colval[p]
    for p in range(sptr[j], sptr[j + 1]):
        g[sidx[p]] += sgn * sval[p]


@numba.njit(cache=True)
def _pair_coupling(a, b2, sptr, sidx, sval):
    for p in range(sptr[a], sptr[a + 1]):
        if sidx[p] == b2:
            return sval[p]
    return 0.0


@numba.njit(cache=True)
def _best_move(x, r, g, rhs, is_eq, colptr, rowidx, colval, sptr, sidx, sval, c, qdiag,
               oh_ptr, oh_idx, tmp, touched, repairing, obj_eps):
    # repairing: the move with the least objective increase per unit of violation removed;
    # improving: the feasibility-keeping move with the most negative objective change
    n = x.shape[0]
    best_key, best_tie, best_a, best_b = np.inf, np.inf, -1, -1
    for a in range(n):
        dv, worst = _move_effect(a, -1, x, r, rhs, is_eq, colptr, rowidx, colval, tmp, touched)
        do = _obj_delta(a, x, c, qdiag, g)
        if repairing:
            if dv < -_FEAS_TOL:
                key = (max(do, 0.0) + obj_eps) / (-dv)
                if key < best_key - 1e-12 * abs(best_key) or (key <= best_key and do < best_tie):
                    best_key, best_tie, best_a, best_b = key, do, a, -1
        elif worst <= _FEAS_TOL and do < -obj_eps and do < best_key:
            best_key, best_a, best_b = do, a, -1
    # 1-swaps inside one-hot equality rows: move the row's 1 to another variable of the row
    for h in range(oh_ptr.shape[0] - 1):
        on = -1
        for p in range(oh_ptr[h], oh_ptr[h + 1]):
            if x[oh_idx[p]]:
                on = oh_idx[p] if on == -1 else -2
        if on < 0:
            continue
        for p in range(oh_ptr[h], oh_ptr[h + 1]):
            b2 = oh_idx[p]
            if b2 == on:
                continue
            dv, worst = _move_effect(on, b2, x, r, rhs, is_eq, colptr, rowidx, colval, tmp, touched)
            do = _obj_delta(on, x, c, qdiag, g) + _obj_delta(b2, x, c, qdiag, g) \
                - _pair_coupling(on, b2, sptr, sidx, sval)
            if repairing:
                if dv < -_FEAS_TOL:
                    key = (max(do, 0.0) + obj_eps) / (-dv)
                    if key < best_key - 1e-12 * abs(best_key) or (key <= best_key and do < best_tie):
                        best_key, best_tie, best_a, best_b = key, do, on, b2
            elif worst <= _FEAS_TOL and do < -obj_eps and do < best_key:
                best_key, best_a, best_b = do, on, b2
    return best_a, best_b


@numba.njit(cache=True)
def _best_pair(x, r, g, rhs, is_eq, colptr, rowidx, colval, rowptr, colidx, sptr, sidx, sval, c, qdiag,
               tmp, touched, obj_eps):
    # when no single flip or one-hot swap lowers the violation: the best two-flip move whose
    # first variable sits in a violated row (same criterion as the single moves)
    n = x.shape[0]
    best_key, best_tie, best_a, best_b = np.inf, np.inf, -1, -1
    candidates = 0
    for i in range(rhs.shape[0]):
        if _row_violation(r[i], rhs[i], is_eq[i]) > _FEAS_TOL:
            candidates += rowptr[i + 1] - rowptr[i]
    if candidates * n > _PAIR_BUDGET:
        return best_a, best_b          # too many pairs to try on every sample: give up on this one
    for i in range(rhs.shape[0]):
        if _row_violation(r[i], rhs[i], is_eq[i]) <= _FEAS_TOL:
            continue
        for q in range(rowptr[i], rowptr[i + 1]):
            a = colidx[q]
            for b2 in range(n):
                if b2 == a:
                    continue
                dv, worst = _move_effect(a, b2, x, r, rhs, is_eq, colptr, rowidx, colval, tmp, touched)
                if dv < -_FEAS_TOL:
                    do = _obj_delta(a, x, c, qdiag, g) + _obj_delta(b2, x, c, qdiag, g)
                    coupling = _pair_coupling(a, b2, sptr, sidx, sval)
                    do += coupling if x[a] == x[b2] else -coupling
                    key = (max(do, 0.0) + obj_eps) / (-dv)
                    if key < best_key - 1e-12 * abs(best_key) or (key <= best_key and do < best_tie):
                        best_key, best_tie, best_a, best_b = key, do, a, b2
    return best_a, best_b


@numba.njit(cache=True)
def _generic_kernel(X, colptr, rowidx, colval, rowptr, colidx, rhs, is_eq, c, qdiag, sptr, sidx, sval, oh_ptr, oh_idx,
                    obj_eps, max_moves):
    k, n = X.shape
    m = rhs.shape[0]
    ok = np.zeros(k, dtype=np.bool_)
    tmp = np.zeros(m)
    touched = np.zeros(m, dtype=np.int64)
    for s in range(k):
        x = X[s]
        r = np.zeros(m)
        g = np.zeros(n)
        for j in range(n):
            if x[j]:
                for p in range(colptr[j], colptr[j + 1]):
                    r[rowidx[p]] += colval[p]
                for p in range(sptr[j], sptr[j + 1]):
                    g[sidx[p]] += sval[p]
        # phase 1: repair, one best move at a time
        for step in range(max_moves):
            viol = 0.0
            for i in range(m):
                viol += _row_violation(r[i], rhs[i], is_eq[i])
            if viol <= _FEAS_TOL:
                break
            a, b2 = _best_move(x, r, g, rhs, is_eq, colptr, rowidx, colval, sptr, sidx, sval, c, qdiag,
                               oh_ptr, oh_idx, tmp, touched, True, obj_eps)
            if a < 0:
                a, b2 = _best_pair(x, r, g, rhs, is_eq, colptr, rowidx, colval, rowptr, colidx, sptr, sidx, sval,
                                   c, qdiag, tmp, touched, obj_eps)
            if a < 0:
                break
            _apply_flip(a, x, r, g, colptr, rowidx, colval, sptr, sidx, sval)
            if b2 >= 0:
                _apply_flip(b2, x, r, g, colptr, rowidx, colval, sptr, sidx, sval)
        feasible = True
        for i in range(m):
            if _row_violation(r[i], rhs[i], is_eq[i]) > _FEAS_TOL:
                feasible = False
                break
        if not feasible:
            continue
        ok[s] = True
        # phase 2: improve; each pass tries the improving flips in order of their gain (re-checked
        # when their turn comes: an earlier flip may have changed them), then the one-hot swaps
        for sweep in range(max_moves):
            gains = np.empty(n)
            for j in range(n):
                gains[j] = _obj_delta(j, x, c, qdiag, g)
            moved = False
            for j in np.argsort(gains):
                if gains[j] >= -obj_eps:
                    break
                if _obj_delta(j, x, c, qdiag, g) >= -obj_eps:
                    continue
                dv, worst = _move_effect(j, -1, x, r, rhs, is_eq, colptr, rowidx, colval, tmp, touched)
                if worst <= _FEAS_TOL:
                    _apply_flip(j, x, r, g, colptr, rowidx, colval, sptr, sidx, sval)
                    moved = True
            if oh_ptr.shape[0] > 1:
                a, b2 = _best_move(x, r, g, rhs, is_eq, colptr, rowidx, colval, sptr, sidx, sval, c, qdiag,
                                   oh_ptr, oh_idx, tmp, touched, False, obj_eps)
                if a >= 0:
                    _apply_flip(a, x, r, g, colptr, rowidx, colval, sptr, sidx, sval)
                    if b2 >= 0:
                        _apply_flip(b2, x, r, g, colptr, rowidx, colval, sptr, sidx, sval)
                    moved = True
            if not moved:
                break
    return ok


def _program_rows(program):
    """Return ``(A, rhs, is_eq)``: every row of ``program`` as CSR, each divided by its mean ``|a_ij|``.

    ``≤`` rows, then equality rows, then conflict pairs as ``x_i + x_j ≤ 1``; scaling makes one
    unit of violation mean "about one typical coefficient" on every row.
    """
    from cutslack.solvers.qubo.augmented import row_units

    n = program.n
    blocks, rhs, kinds = [], [], []
    if program.m_le:
        blocks.append(sp.csr_matrix(program.A_le, dtype=float))
        rhs.append(np.asarray(program.b_le, dtype=float))
        kinds.append(np.zeros(program.m_le, dtype=np.bool_))
    if program.m_eq:
        blocks.append(sp.csr_matrix(program.A_eq, dtype=float))
        rhs.append(np.asarray(program.b_eq, dtype=float))
        kinds.append(np.ones(program.m_eq, dtype=np.bool_))
    if program.n_conflicts:
        k = program.n_conflicts
        conf = np.asarray(program.conflicts, dtype=np.int64)
        blocks.append(sp.csr_matrix((np.ones(2 * k), (np.repeat(np.arange(k), 2), conf.reshape(-1))), shape=(k, n)))
        rhs.append(np.ones(k))
        kinds.append(np.zeros(k, dtype=np.bool_))
    if not blocks:
        return sp.csr_matrix((0, n)), np.zeros(0), np.zeros(0, dtype=np.bool_)
    A = sp.vstack(blocks, format="csr")
    units = row_units(A)
    return sp.diags(1.0 / units) @ A, np.concatenate(rhs) / units, np.concatenate(kinds)


def _one_hot_rows(A, rhs, is_eq):
    """Return ``(ptr, idx)``: the variables of each one-hot equality row (``Σ x_j = 1`` up to scaling)."""
    ptr, idx = [0], []
    for i in np.flatnonzero(is_eq):
        vals = A.data[A.indptr[i]:A.indptr[i + 1]]
        if vals.size >= 2 and np.allclose(vals, vals[0]) and vals[0] > 0 and np.isclose(rhs[i], vals[0]):
            idx.extend(A.indices[A.indptr[i]:A.indptr[i + 1]])
            ptr.append(len(idx))
    return np.asarray(ptr, dtype=np.int64), np.asarray(idx, dtype=np.int64)


def repair_program(program, X, *, rng=None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(bits, ok)``: each sample of a bare BinaryProgram mapped towards a feasible point, improved.

    Works from the program's rows alone, so it serves users' own models (no problem family):

    1. **Repair** — while some row is violated, apply the move that removes violation at the
       least objective cost: minimise ``(max(Δf, 0) + ε) / (−ΔV)`` over single flips and, in
       one-hot equality rows, 1-swaps (the row's 1 moved to another of its variables); ties go
       to the lower ``Δf``.  ``V`` is the total violation over all rows (``≤``, equality,
       conflict pairs), each row scaled by its mean ``|a_ij|``.  When no such move lowers ``V``,
       the best two-flip move whose first variable lies in a violated row is tried (unless that
       means more than ``4·10⁶`` pairs).  Stops when
       ``V = 0`` or nothing lowers it (``ok`` False: the sample stays infeasible).
    2. **Improve** (feasible samples only) — best-improvement 1-flips and one-hot 1-swaps that
       keep every row satisfied, until none lowers the objective.

    ``ok[s]`` True guarantees ``bits[s]`` satisfies every row (to ``1e-9`` in scaled units);
    a feasible input never leaves with a worse objective (phase 1 makes no move on it, and
    phase 2 only takes strictly improving moves).  Quadratic objectives are handled exactly
    (flip gains kept up to date through ``Q + Qᵀ``).  ``rng`` is accepted for a uniform
    signature; the kernel is deterministic.

    Examples
    --------
    >>> import numpy as np
    >>> from cutslack.binary import BinaryProgram
    >>> cover = BinaryProgram(c=[3.0, 2.0, 2.0], A_le=-np.array([[1, 1, 0], [1, 0, 1]]), b_le=[-1, -1])
    >>> bits, ok = repair_program(cover, np.zeros((1, 3), dtype=np.uint8))
    >>> bits[0].tolist(), bool(ok[0])
    ([1, 0, 0], True)
    """
    X = np.array(as_bit_matrix(X, program.n)[0], dtype=np.uint8, copy=True)
    n = program.n
    A, rhs, is_eq = _program_rows(program)
    csc = A.tocsc()
    csc.sort_indices()
    sign = -1.0 if program.sense == "max" else 1.0
    c = sign * np.asarray(program.c, dtype=float)
    if program.Q is not None:
        Q = sp.csr_matrix(program.Q, dtype=float)
        qdiag = sign * Q.diagonal()
        S = sp.csr_matrix(sign * (Q + Q.T))
        S.setdiag(0.0)
        S.eliminate_zeros()
    else:
        qdiag, S = np.zeros(n), sp.csr_matrix((n, n))
    oh_ptr, oh_idx = _one_hot_rows(A, rhs, is_eq)
    nz = np.abs(c[c != 0])
    obj_eps = 1e-9 * (float(np.median(nz)) if nz.size else 1.0)
    A = sp.csr_matrix(A)
    ok = _generic_kernel(X, csc.indptr.astype(np.int64), csc.indices.astype(np.int64), csc.data.astype(float),
                         A.indptr.astype(np.int64), A.indices.astype(np.int64),
                         rhs.astype(float), is_eq, c, qdiag.astype(float), S.indptr.astype(np.int64),
                         S.indices.astype(np.int64), S.data.astype(float), oh_ptr, oh_idx, obj_eps,
                         4 * n + 16)
    return X, ok
