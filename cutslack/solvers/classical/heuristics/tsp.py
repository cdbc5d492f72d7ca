"""TSP heuristics: constructions, 2-opt / Or-opt local search and iterated local search.

Methods (``cutslack.solve(problem, method=...)``):

* ``tsp-nn`` — nearest neighbour; ``tsp-greedy`` — greedy edge (Christofides' cheap
  cousin: shortest edges first, fragments joined by nearest free ends); ``tsp-sfc`` —
  Hilbert space-filling-curve order (needs coordinates).
* ``tsp-2opt`` — 2-opt to a local optimum; ``tsp-oropt`` — 2-opt plus Or-opt (moving a
  segment of 1–3 cities, either orientation, next to a neighbour: an Or-3opt move).
Common options: ``neighbours`` (k of the candidate lists, default 10), ``distance_mode``
(``"auto"``, ``"matrix"`` or ``"coordinates"``, see :func:`tsp_distances`); the improving
methods also take ``initial`` (a tour) and ``start`` (``"greedy"``, ``"nn"`` or ``"sfc"``).

* ``tsp-ils`` — the flagship: iterated local search, 2-opt + Or-opt descents between
  double-bridge kicks (mostly segment-local, one in ten classic), accepting a kicked tour when
  it is no longer than the current one or within 0.1 % of the best (record-to-record travel).

The local searches scan candidate moves through k-nearest-neighbour lists and keep a queue
of "active" cities (don't-look bits): only the endpoints of changed edges are looked at
again.  Tours are arrays with a city -> position index; a 2-opt move reverses the shorter
side, an Or-opt move is two or three such reversals.

Distances come from the instance's matrix, or — when the instance has coordinates whose
metric (Euclidean, TSPLIB EUC_2D, CEIL_2D, ATT or GEO, from ``meta["edge_weight_type"]``
or checked on sample pairs) reproduces the matrix and n is large — are computed on the fly
from the coordinates, with neighbour lists from a KD-tree (scipy.spatial.cKDTree); then
nothing of size n² is touched.

The hot loops are hand-written Numba (``cache=True``): no maintained Python library offers
neighbour-list 2-opt/Or-opt with don't-look bits on a caller's distance function, and the
per-move work is a few array reads that Python would slow down a hundredfold.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from numba import njit

from cutslack.api import Run, make_result, register_solver
from cutslack.errors import InvalidInstanceError, SolverError
from cutslack.problems.tsp import TravelingSalesman
from cutslack.result import Status
from cutslack.solvers.bounds import HELD_KARP_MAX_N, StopRule, reaches_bound, stagnation_budget, tsp_held_karp_bound
from cutslack.solvers.classical.heuristics._common import kernel_seed, require_symmetric, run_chunks, stop_reason

__all__ = ["tsp_nearest_neighbour", "tsp_greedy_edge", "tsp_space_filling_curve", "tsp_two_opt", "tsp_or_opt",
           "tsp_iterated_local_search", "TspDistances", "tsp_distances"]

#: metric codes understood by the kernels
MATRIX, EUCLIDEAN, EUC_2D, CEIL_2D, ATT, GEO = range(6)
_TSPLIB_KINDS = {"EUC_2D": EUC_2D, "CEIL_2D": CEIL_2D, "ATT": ATT, "GEO": GEO}
#: above this many cities a consistent coordinate metric replaces matrix look-ups
COORDINATE_MODE_MIN_N = 2500
#: tsp-ils keeps a kicked tour within this fraction of the best length (record-to-record travel):
#: plateaus of equal-length tours on rounded TSPLIB distances otherwise trap a strict descent
ILS_ACCEPT_SLACK = 1e-3
#: candidate-list length of tsp-ils (16, not the local searches' 10: on a280's grid of equal
#: distances ten neighbours miss the moves to the optimum)
ILS_NEIGHBOURS = 16
#: share of tsp-ils kicks that are classic double bridges (segments up to n / 3) rather than local ones
ILS_GLOBAL_KICK_RATE = 0.1
#: instances up to this size are solved exactly by enumeration
EXACT_MAX_N = 8
_EPS = 1e-9


@njit(inline="always", cache=True)
def _dist(D, C, kind, i, j):
    if kind == 0:
        return D[i, j]
    dx = C[i, 0] - C[j, 0]
    dy = C[i, 1] - C[j, 1]
    if kind == 1:
        return np.sqrt(dx * dx + dy * dy)
    if kind == 2:
        return np.floor(np.sqrt(dx * dx + dy * dy) + 0.5)
    if kind == 3:
        return np.ceil(np.sqrt(dx * dx + dy * dy))
    if kind == 4:
        r = np.sqrt((dx * dx + dy * dy) / 10.0)
        t = np.floor(r + 0.5)
        return t + 1.0 if t < r else t
    # GEO: C holds (latitude, longitude) in radians (TSPLIB95 definition)
    q1 = np.cos(C[i, 1] - C[j, 1])
    q2 = np.cos(C[i, 0] - C[j, 0])
    q3 = np.cos(C[i, 0] + C[j, 0])
    arg = min(1.0, max(-1.0, 0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)))
    return float(int(6378.388 * np.arccos(arg) + 1.0))


@njit(cache=True)
def _tour_length(tour, D, C, kind):
    n = tour.shape[0]
    total = 0.0
    for i in range(n):
        total += _dist(D, C, kind, tour[i], tour[(i + 1) % n])
    return total


@njit(cache=True)
def _reverse(tour, pos, i, j):
    # reverse the cyclic forward path tour[i..j]; reversing the complement instead gives the
    # same cycle, so the shorter side is reversed
    n = tour.shape[0]
    length = (j - i + n) % n + 1
    if 2 * length > n:
        i, j = (j + 1) % n, (i - 1 + n) % n
        length = n - length
    for _ in range(length // 2):
        a = tour[i]
        b = tour[j]
        tour[i] = b
        pos[b] = i
        tour[j] = a
        pos[a] = j
        i += 1
        if i == n:
            i = 0
        j -= 1
        if j < 0:
            j = n - 1


@njit(cache=True)
def _exchange(tour, pos, a, b, c, d):
    # replace edges {a,b}, {c,d} by {a,c}, {b,d}; b = succ(a) and d = succ(c), or both preds
    n = tour.shape[0]
    if tour[(pos[a] + 1) % n] == b:
        _reverse(tour, pos, pos[b], pos[c])
    else:
        _reverse(tour, pos, pos[c], pos[b])


@njit(cache=True)
def _push(queue, in_queue, qs, c):
    if not in_queue[c]:
        n = queue.shape[0]
        queue[(qs[0] + qs[1]) % n] = c
        qs[1] += 1
        in_queue[c] = True


@njit(cache=True)
def _two_opt_move(tour, pos, D, C, kind, neigh, a, queue, in_queue, qs):
    n = tour.shape[0]
    for direction in range(2):
        b = tour[(pos[a] + 1) % n] if direction == 0 else tour[(pos[a] - 1 + n) % n]
        dab = _dist(D, C, kind, a, b)
        for k in range(neigh.shape[1]):
            c = neigh[a, k]
            g1 = dab - _dist(D, C, kind, a, c)
            if g1 <= _EPS:
                break
            d = tour[(pos[c] + 1) % n] if direction == 0 else tour[(pos[c] - 1 + n) % n]
            if c == b or d == a:
                continue
            gain = g1 + _dist(D, C, kind, c, d) - _dist(D, C, kind, b, d)
            if gain > _EPS:
                _exchange(tour, pos, a, b, c, d)
                _push(queue, in_queue, qs, a)
                _push(queue, in_queue, qs, b)
                _push(queue, in_queue, qs, c)
                _push(queue, in_queue, qs, d)
                return gain
    return 0.0


@njit(cache=True)
def _or_opt_move(tour, pos, D, C, kind, neigh, a, queue, in_queue, qs):
    # move a segment of 1..3 cities with `a` at one end between a neighbour c and c's succ/pred
    n = tour.shape[0]
    for seg_len in range(1, 4):
        if n < seg_len + 4:
            break
        for anchor in range(2):
            p1 = pos[a] if anchor == 0 else (pos[a] - seg_len + 1 + n) % n
            s1 = tour[p1]
            s2 = tour[(p1 + seg_len - 1) % n]
            A = tour[(p1 - 1 + n) % n]
            B = tour[(p1 + seg_len) % n]
            g1 = _dist(D, C, kind, A, s1) + _dist(D, C, kind, s2, B) - _dist(D, C, kind, A, B)
            if g1 <= _EPS:
                continue
            for end in range(2):
                s = s1 if end == 0 else s2
                other = s2 if end == 0 else s1
                for k in range(neigh.shape[1]):
                    c = neigh[s, k]
                    g2 = g1 - _dist(D, C, kind, s, c)
                    if g2 <= _EPS:
                        break
                    if (pos[c] - p1 + n) % n < seg_len:
                        continue
                    for side in range(2):
                        e = tour[(pos[c] + 1) % n] if side == 0 else tour[(pos[c] - 1 + n) % n]
                        if (pos[e] - p1 + n) % n < seg_len:
                            continue
                        x = c if side == 0 else e
                        y = e if side == 0 else c
                        if x == B or y == A:
                            continue
                        gain = g2 + _dist(D, C, kind, c, e) - _dist(D, C, kind, e, other)
                        if gain > _EPS:
                            # two reversals give {x,s2},{s1,y}; a third flips the segment
                            _exchange(tour, pos, A, s1, x, y)
                            _exchange(tour, pos, A, x, B, s2)
                            want_x_s1 = (x == c) == (s == s1)
                            if want_x_s1:
                                _exchange(tour, pos, x, s2, s1, y)
                            for city in (A, B, s1, s2, x, y):
                                _push(queue, in_queue, qs, city)
                            return gain
    return 0.0


@njit(cache=True)
def _local_search(tour, pos, D, C, kind, neigh, use_or, queue, in_queue, qs, max_moves):
    # descend until the active-city queue is empty (or max_moves improving moves were made)
    n = tour.shape[0]
    total = 0.0
    moves = 0
    while qs[1] > 0 and moves < max_moves:
        a = queue[qs[0]]
        qs[0] = (qs[0] + 1) % n
        qs[1] -= 1
        in_queue[a] = False
        g = _two_opt_move(tour, pos, D, C, kind, neigh, a, queue, in_queue, qs)
        if g <= 0.0 and use_or:
            g = _or_opt_move(tour, pos, D, C, kind, neigh, a, queue, in_queue, qs)
        if g > 0.0:
            total += g
            moves += 1
    return total


@njit(cache=True)
def _ils_chunk(tour, pos, saved, best, length, D, C, kind, neigh, use_or, n_kicks, max_seg, seed,
               queue, in_queue, qs, slack, global_rate):
    # n_kicks double bridges, each followed by a descent: segment-local ones (segments of at
    # most max_seg cities), and with probability global_rate classic ones (segments up to n/3,
    # which move whole stretches of the tour: a local kick cannot undo a wrong order of clusters,
    # as a greedy-edge start leaves on pr264); a kicked tour is kept
    # when it is no longer than the current one or within `slack` (relative) of the best one
    # (record-to-record travel); the chunk ends on the best tour, which `tour` then holds
    np.random.seed(seed)
    n = tour.shape[0]
    big = max(1, (n - 2) // 3)
    buf = np.empty(2 * max(max_seg, big), dtype=tour.dtype)
    cur = length
    best_len = length
    best[:] = tour
    for _ in range(n_kicks):
        p0 = np.random.randint(n)
        span = big if np.random.random() < global_rate else max_seg
        l1 = 1 + np.random.randint(span)
        l2 = 1 + np.random.randint(span)
        a0 = tour[p0]
        b0 = tour[(p0 + 1) % n]
        b1 = tour[(p0 + l1) % n]
        c0 = tour[(p0 + l1 + 1) % n]
        c1 = tour[(p0 + l1 + l2) % n]
        d0 = tour[(p0 + l1 + l2 + 1) % n]
        delta = (_dist(D, C, kind, a0, c0) + _dist(D, C, kind, c1, b0) + _dist(D, C, kind, b1, d0)
                 - _dist(D, C, kind, a0, b0) - _dist(D, C, kind, b1, c0) - _dist(D, C, kind, c1, d0))
        for k in range(l2):
            buf[k] = tour[(p0 + l1 + 1 + k) % n]
        for k in range(l1):
            buf[l2 + k] = tour[(p0 + 1 + k) % n]
        for k in range(l1 + l2):
            q = (p0 + 1 + k) % n
            tour[q] = buf[k]
            pos[buf[k]] = q
        for city in (a0, b0, b1, c0, c1, d0):
            _push(queue, in_queue, qs, city)
        gain = _local_search(tour, pos, D, C, kind, neigh, use_or, queue, in_queue, qs, 1 << 60)
        new = cur + delta - gain
        if new <= cur + _EPS or new <= best_len * (1.0 + slack):
            cur = new
            saved[:] = tour
            if new < best_len - _EPS:
                best_len = new
                best[:] = tour
        else:
            tour[:] = saved
            for i in range(n):
                pos[tour[i]] = i
    if cur > best_len + _EPS:
        tour[:] = best
        saved[:] = best
        for i in range(n):
            pos[tour[i]] = i
    return best_len


@njit(cache=True)
def _nearest_neighbour_steps(D, C, kind, neigh, tour, visited, t0, steps):
    # extend the partial tour tour[:t0] by up to `steps` nearest-neighbour steps; return its new length
    n = neigh.shape[0]
    cur = tour[t0 - 1]
    t_end = min(n, t0 + steps)
    for t in range(t0, t_end):
        nxt = -1
        for k in range(neigh.shape[1]):
            if not visited[neigh[cur, k]]:
                nxt = neigh[cur, k]
                break
        if nxt < 0:
            best = np.inf
            for c in range(n):
                if not visited[c]:
                    dc = _dist(D, C, kind, cur, c)
                    if dc < best:
                        best = dc
                        nxt = c
        tour[t] = nxt
        visited[nxt] = True
        cur = nxt
    return t_end


@njit(cache=True)
def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True)
def _chain_end(adj, start, came_from):
    # walk a path fragment from `start` (arriving from `came_from`) to its other end
    prev, cur = came_from, start
    while True:
        nxt = adj[cur, 0] if adj[cur, 0] != prev else adj[cur, 1]
        if nxt < 0 or nxt == prev:
            return cur
        prev, cur = cur, nxt


@njit(cache=True)
def _greedy_edge(D, C, kind, neigh):
    n, k = neigh.shape
    m = n * k
    eu = np.empty(m, dtype=np.int64)
    ev = np.empty(m, dtype=np.int64)
    ew = np.empty(m)
    for i in range(n):
        for j in range(k):
            eu[i * k + j] = i
            ev[i * k + j] = neigh[i, j]
            ew[i * k + j] = _dist(D, C, kind, i, neigh[i, j])
    order = np.argsort(ew, kind="mergesort")
    adj = -np.ones((n, 2), dtype=np.int64)
    deg = np.zeros(n, dtype=np.int64)
    parent = np.arange(n)
    added = 0
    for e in order:
        u, v = eu[e], ev[e]
        if deg[u] < 2 and deg[v] < 2:
            ru, rv = _find(parent, u), _find(parent, v)
            if ru != rv:
                parent[ru] = rv
                adj[u, deg[u]] = v
                adj[v, deg[v]] = u
                deg[u] += 1
                deg[v] += 1
                added += 1
                if added == n - 1:
                    break
    return adj, deg, parent, added


@njit(cache=True)
def _greedy_join(D, C, kind, adj, deg, parent, end, added, max_joins):
    # join up to `max_joins` fragments to the chain's free end `end`, each time the nearest
    # free endpoint of another fragment (a scan over all cities); return the new end and count
    n = adj.shape[0]
    joins = 0
    while added < n - 1 and joins < max_joins:
        joins += 1
        best = np.inf
        nxt = -1
        rend = _find(parent, end)
        for v in range(n):
            if deg[v] < 2 and _find(parent, v) != rend:
                dv = _dist(D, C, kind, end, v)
                if dv < best:
                    best = dv
                    nxt = v
        end = _join_to_end(adj, deg, parent, end, nxt)
        added += 1
    return end, added


@njit(cache=True, inline="always")
def _join_to_end(adj, deg, parent, end, v):
    # link the fragment holding v to the chain's free end (an edge end-v, the sets merged); return the
    # chain's new free end: the far end of v's fragment, or v itself when it was alone
    new_end = _chain_end(adj, v, -1) if deg[v] == 1 else v
    parent[_find(parent, v)] = _find(parent, end)
    adj[end, deg[end]] = v
    adj[v, deg[v]] = end
    deg[end] += 1
    deg[v] += 1
    return new_end


@njit(cache=True)
def _join_in_order(adj, deg, parent, end, added, order):
    # join the remaining fragments to the chain's free end in the given city order (linear time)
    n = adj.shape[0]
    for v in order:
        if added >= n - 1:
            break
        if deg[v] < 2 and _find(parent, v) != _find(parent, end):
            end = _join_to_end(adj, deg, parent, end, v)
            added += 1
    return end, added


@njit(cache=True)
def _walk_chain(adj, start):
    n = adj.shape[0]
    tour = np.empty(n, dtype=np.int64)
    prev, cur = -1, start
    for t in range(n):
        tour[t] = cur
        nxt = adj[cur, 0] if adj[cur, 0] != prev else adj[cur, 1]
        prev, cur = cur, nxt
    return tour


class TspDistances:
    """How the kernels read distances: ``(D, C, kind)`` plus the k-nearest-neighbour lists.

    ``kind`` is MATRIX (``D`` is the n×n matrix) or a coordinate metric (``C`` holds the
    coordinates, GEO ones in radians, and ``D`` is a 1×1 placeholder).
    """

    def __init__(self, D, C, kind, neighbours):
        self.D, self.C, self.kind, self.neighbours = D, C, int(kind), neighbours

    @property
    def mode(self) -> str:
        return "matrix" if self.kind == MATRIX else "coordinates"

    def args(self):
        return self.D, self.C, self.kind

    def length(self, tour) -> float:
        return float(_tour_length(tour, self.D, self.C, self.kind))


def _geo_radians(coords: np.ndarray) -> np.ndarray:
    # TSPLIB95 GEO: DDD.MM degrees.minutes, truncated degrees as in Concorde, PI = 3.141592
    deg = np.trunc(coords[:, :2])
    return 3.141592 * (deg + 5.0 * (coords[:, :2] - deg) / 3.0) / 180.0


def _coordinate_kind(problem: TravelingSalesman):
    """Return (kind, kernel coordinates) of a coordinate metric that reproduces the matrix, or None."""
    if problem.coordinates is None:
        return None
    if problem.metric is not None:
        # the instance declares the metric its distances come from: no consistency check needed
        kind = EUCLIDEAN if problem.metric == "euclidean" else _TSPLIB_KINDS[problem.metric]
        C = np.array(_geo_radians(problem.coordinates) if kind == GEO else problem.coordinates[:, :2], dtype=float)
        return kind, C
    declared = problem.meta.get("edge_weight_type")
    candidates = [_TSPLIB_KINDS[declared]] if declared in _TSPLIB_KINDS else [EUCLIDEAN, EUC_2D]
    n = problem.n
    check = np.random.default_rng(0)  # fixed sample of pairs: a consistency test, not search randomness
    I = check.integers(0, n, size=min(256, n * n))
    J = check.integers(0, n, size=I.shape[0])
    keep = I != J
    I, J = I[keep], J[keep]
    dummy = np.zeros((1, 1))
    for kind in candidates:
        # a writable copy: Numba compiles read-only arrays as a separate type
        C = np.array(_geo_radians(problem.coordinates) if kind == GEO else problem.coordinates[:, :2], dtype=float)
        got = np.array([_dist(dummy, C, kind, i, j) for i, j in zip(I, J)])
        if np.allclose(got, problem.distance[I, J], rtol=1e-9, atol=1e-6):
            return kind, C
    return None


_QUERY_BLOCK = 16_384  # cities per KD-tree query between two reads of the clock


def _neighbours_from_points(points: np.ndarray, k: int, run: Run | None = None) -> np.ndarray | None:
    """Return each city's ``k`` nearest other cities (KD-tree), or None when ``run``'s deadline
    passes while querying (in blocks of cities)."""
    from scipy.spatial import cKDTree

    n = points.shape[0]
    tree = cKDTree(points)
    blocks = []
    for lo in range(0, n, _QUERY_BLOCK):
        if run is not None and run.expired():
            return None
        blocks.append(np.atleast_2d(tree.query(points[lo:lo + _QUERY_BLOCK], k=min(n, k + 1))[1]))
    idx = np.vstack(blocks).astype(np.int64)
    # drop each city from its own list: usually the first entry, anywhere among duplicate points
    cities = np.arange(n)
    out = np.ascontiguousarray(idx[:, 1:k + 1])
    odd = np.flatnonzero(idx[:, 0] != cities)
    if odd.size:
        others = idx[odd] != cities[odd, None]
        first = np.argsort(~others, axis=1, kind="stable")[:, :k]
        out[odd] = np.take_along_axis(idx[odd], first, axis=1)
    return out


def _neighbours_from_matrix(D: np.ndarray, k: int) -> np.ndarray:
    M = np.array(D, dtype=float)
    np.fill_diagonal(M, np.inf)
    idx = np.argpartition(M, k - 1, axis=1)[:, :k] if k < M.shape[0] else np.argsort(M, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(M, idx, axis=1), axis=1, kind="stable")
    return np.ascontiguousarray(np.take_along_axis(idx, order, axis=1).astype(np.int64))


def tsp_distances(problem: TravelingSalesman, neighbours: int = 10, mode: str = "auto",
                  run: Run | None = None) -> TspDistances | None:
    """Return the distance source and k-nearest-neighbour lists the TSP kernels use (None when
    ``run``'s deadline passes while the KD-tree is queried).

    ``mode="auto"``: coordinates replace the matrix when their metric reproduces it and n is
    at least :data:`COORDINATE_MODE_MIN_N`; ``"matrix"`` or ``"coordinates"`` force one
    (the latter raises SolverError without a consistent coordinate metric).  Neighbour lists
    come from a KD-tree whenever the metric is a coordinate one (GEO cities are placed on the
    unit sphere for the tree), else from the matrix rows.
    """
    if mode not in ("auto", "matrix", "coordinates"):
        raise ValueError(f"unknown distance mode {mode!r}; expected 'auto', 'matrix' or 'coordinates'")
    n = problem.n
    k = max(1, min(int(neighbours), n - 1))
    found = None if mode == "matrix" else _coordinate_kind(problem)
    if found is None and mode == "coordinates":
        raise SolverError("coordinate distances need coordinates whose metric reproduces the distance matrix")
    if found is None:
        D = np.array(problem.distance, dtype=float)
        return TspDistances(D, np.zeros((1, 2)), MATRIX, _neighbours_from_matrix(D, k))
    kind, C = found
    if kind == GEO:
        lat, lon = C[:, 0], C[:, 1]
        points = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    else:
        points = C
    neigh = _neighbours_from_points(points, k, run)
    if neigh is None:
        return None
    # re-sort each list by the instance's own metric (rounding can reorder ties)
    dummy = np.zeros((1, 1))
    dist = np.array([[_dist(dummy, C, kind, i, j) for j in row] for i, row in enumerate(neigh)]) if n < 5000 else None
    if dist is not None:
        neigh = np.ascontiguousarray(np.take_along_axis(neigh, np.argsort(dist, axis=1, kind="stable"), axis=1))
    if mode == "coordinates" or n >= COORDINATE_MODE_MIN_N or problem.distance is None:
        return TspDistances(np.zeros((1, 1)), C, kind, neigh)
    return TspDistances(np.array(problem.distance, dtype=float), np.zeros((1, 2)), MATRIX, neigh)


def _hilbert_order(points: np.ndarray, bits: int = 16) -> np.ndarray:
    lo = points.min(axis=0)
    span = max(float((points.max(axis=0) - lo).max()), 1e-12)
    side = 1 << bits
    x = np.minimum((points[:, 0] - lo[0]) / span * (side - 1), side - 1).astype(np.int64)
    y = np.minimum((points[:, 1] - lo[1]) / span * (side - 1), side - 1).astype(np.int64)
    d = np.zeros(points.shape[0], dtype=np.int64)
    s = side >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        x = np.where(flip, side - 1 - x, x)
        y = np.where(flip, side - 1 - y, y)
        swap = ~ry
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        s >>= 1
    return np.argsort(d, kind="stable")


def _exact_tour(problem: TravelingSalesman) -> np.ndarray:
    # enumerate the (n-1)! tours through city 0 (n <= EXACT_MAX_N)
    n = problem.n
    if n <= 2:
        return np.arange(n, dtype=np.int64)
    rest = np.array(list(itertools.permutations(range(1, n))), dtype=np.int64)
    tours = np.hstack([np.zeros((rest.shape[0], 1), dtype=np.int64), rest])
    return tours[int(np.argmin(problem.evaluate(tours)))]


def _require_symmetric_tsp(problem: TravelingSalesman, method: str) -> None:
    # coordinate metrics are symmetric by construction; a stored matrix is checked
    if problem.distance is not None:
        require_symmetric(problem.distance, "distance", method)


def _check_tour(problem: TravelingSalesman, tour) -> np.ndarray:
    t = np.asarray(tour)
    n = problem.n
    if t.shape != (n,) or not np.array_equal(np.sort(t), np.arange(n)):
        raise InvalidInstanceError("initial", f"must be a permutation of 0..{n - 1}")
    return t.astype(np.int64)


#: scans of all cities (one nearest-neighbour dead end, one greedy fragment join) per compiled
#: chunk are about this many distance evaluations over n; the clock is read between chunks
_CONSTRUCTION_WORK_PER_CHUNK = 20_000_000


def _fallback_order(problem) -> np.ndarray:
    """Cities in Hilbert-curve order (index order without coordinates): how a construction cut
    short by the deadline places the cities it has not reached."""
    if problem.coordinates is None:
        return np.arange(problem.n, dtype=np.int64)
    return _hilbert_order(np.asarray(problem.coordinates[:, :2], dtype=float)).astype(np.int64)


def _construct(problem, dist: TspDistances, how: str, run: Run) -> np.ndarray:
    """Return a tour built by ``how``; the greedy and nearest-neighbour constructions run in
    compiled chunks of fixed size and, at the deadline, place the remaining cities in
    Hilbert-curve order (the run then says TIME_LIMIT)."""
    if how == "sfc" or dist is None:  # dist None: the deadline came while building the neighbour lists
        how, dist = "sfc", None
    else:
        D, C, kind = dist.args()
    n = problem.n
    per_chunk = max(16, _CONSTRUCTION_WORK_PER_CHUNK // max(n, 1))
    if how == "greedy":
        adj, deg, parent, added = _greedy_edge(D, C, kind, dist.neighbours)
        start = int(np.flatnonzero(deg < 2)[0])  # a chain end: the tour is walked from it
        end = int(_chain_end(adj, start, -1)) if deg[start] == 1 else start
        while added < n - 1 and not run.expired():
            end, added = _greedy_join(D, C, kind, adj, deg, parent, end, added, per_chunk)
        if added < n - 1:
            end, added = _join_in_order(adj, deg, parent, end, added, _fallback_order(problem))
        return _walk_chain(adj, start)
    if how == "nn":
        tour = np.empty(n, dtype=np.int64)
        visited = np.zeros(n, dtype=np.bool_)
        tour[0] = int(run.rng.integers(n))
        visited[tour[0]] = True
        t = 1
        while t < n and not run.expired():
            t = int(_nearest_neighbour_steps(D, C, kind, dist.neighbours, tour, visited, t, per_chunk))
        if t < n:
            order = _fallback_order(problem)
            tour[t:] = order[~visited[order]]
        return tour
    if how == "sfc":
        if problem.coordinates is None:
            raise SolverError("the space-filling-curve construction needs city coordinates, and this instance has none")
        return _hilbert_order(np.asarray(problem.coordinates[:, :2], dtype=float)).astype(np.int64)
    raise ValueError(f"unknown construction {how!r}; expected 'greedy', 'nn' or 'sfc'")


def _constructive(problem, method, how, rng, time_limit, callback, neighbours, distance_mode):
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    n = problem.n
    if how != "nn":
        _require_symmetric_tsp(problem, method)
    if n <= 3:
        tour = np.arange(n, dtype=np.int64)
        info = {}
    elif how == "sfc":  # coordinates only: no neighbour lists to build
        tour = _construct(problem, None, how, run)
        info = {"distance_mode": "coordinates"}
    else:
        dist = _distances_in_time(problem, neighbours, distance_mode, run)
        tour = _construct(problem, dist, how, run)
        info = {"distance_mode": "coordinates" if dist is None else dist.mode}
    return make_result(problem, tour, method=method, run=run, n_vars=n, nit=1, info=info)


def _distances_in_time(problem, neighbours, distance_mode, run: Run) -> TspDistances | None:
    """:func:`tsp_distances`, or None when the deadline passed while building the neighbour lists
    (or is too near for the greedy edge phase, about as long as the queries): the caller then
    takes the space-filling-curve tour."""
    started = time.perf_counter()
    large = problem.coordinates is not None and problem.n >= COORDINATE_MODE_MIN_N
    dist = tsp_distances(problem, neighbours, distance_mode, run=run if large else None)
    # (below COORDINATE_MODE_MIN_N cities the whole construction takes milliseconds: always done)
    if dist is not None and run.deadline is not None \
            and large and run.time_left() < time.perf_counter() - started:
        run.timed_out = True
        return None
    return dist


def _improve(problem, method, *, rng, time_limit, callback, initial, start, neighbours, distance_mode, use_or,
             kicks, max_kicks=None, max_no_improve=None):
    """Shared driver of tsp-2opt / tsp-oropt (kicks=False) and tsp-ils (kicks=True)."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    n = problem.n
    _require_symmetric_tsp(problem, method)
    if initial is not None:
        initial = _check_tour(problem, initial)
    if n <= EXACT_MAX_N:
        return make_result(problem, _exact_tour(problem), method=method, run=run, status=Status.OPTIMAL,
                           n_vars=n, info={"exact": "enumeration"})
    dist = _distances_in_time(problem, neighbours, distance_mode, run)
    if dist is None:  # the deadline came before any neighbour list: the given or space-filling-curve tour
        tour = initial.copy() if initial is not None else _construct(problem, None, "sfc", run)
        return make_result(problem, tour, method=method, run=run, n_vars=n,
                           info={"distance_mode": "coordinates", "kicks": 0,
                                 "start": "initial" if initial is not None else "sfc (deadline)"})
    D, C, kind = dist.args()
    tour = initial.copy() if initial is not None else _construct(problem, dist, start, run)
    pos = np.empty(n, dtype=np.int64)
    pos[tour] = np.arange(n)
    queue = tour.copy()
    in_queue = np.ones(n, dtype=np.bool_)
    qs = np.array([0, n], dtype=np.int64)
    state = {"length": dist.length(tour), "kicks": 0, "stale": 0}
    # an improving move reverses up to n / 2 cities: chunks of ~2e7 / n moves keep each compiled
    # call short on large instances (the moves made do not depend on the chunking)
    moves_per_chunk = max(100, 20_000_000 // n)

    def descend() -> bool:
        _local_search(tour, pos, D, C, kind, dist.neighbours, use_or, queue, in_queue, qs, moves_per_chunk)
        return bool(qs[1] > 0)

    def intermediate():
        return make_result(problem, tour.copy(), method=method, run=run, nit=state["kicks"], n_vars=n)

    run_chunks(run, descend, intermediate)
    state["length"] = dist.length(tour)
    run.record_incumbent(state["length"], "min")
    bound, stop = None, None
    if kicks and not run.expired() and not run.stopped:
        if n <= HELD_KARP_MAX_N:
            bound = tsp_held_karp_bound(problem, upper=state["length"])
        saved, best = tour.copy(), tour.copy()
        max_seg = max(1, min(50, (n - 2) // 3))
        kicks_per_chunk = 1000
        stop = StopRule(bound, stagnation_budget(max_no_improve, max(3_000, 10 * n), time_limit), sense="min")

        def kick() -> bool:
            state["length"] = _ils_chunk(tour, pos, saved, best, state["length"], D, C, kind, dist.neighbours, use_or,
                                         kicks_per_chunk, max_seg, kernel_seed(run), queue, in_queue, qs,
                                         ILS_ACCEPT_SLACK, ILS_GLOBAL_KICK_RATE)
            state["kicks"] += kicks_per_chunk
            return max_kicks is None or state["kicks"] < max_kicks

        run_chunks(run, kick, intermediate, incumbent=lambda: state["length"], sense="min", stop=stop,
                   work_per_chunk=kicks_per_chunk)
    status = Status.OPTIMAL if reaches_bound(float(problem.evaluate(tour)), bound) else None
    info = {"tracked_length": state["length"], "distance_mode": dist.mode, "kicks": state["kicks"],
            "start": "initial" if initial is not None else start}
    if kicks:
        info.update(stop=stop_reason(run, stop), bound_kind=None if bound is None else bound.kind)
    return make_result(problem, tour.copy(), method=method, run=run, n_vars=n, nit=state["kicks"], status=status,
                       bound=None if bound is None else bound.effective, info=info)



def _warm_up(problem=None) -> None:
    """Compile (or load from Numba's cache) the TSP kernels, before the caller's clock.

    Every kernel takes the same argument types in matrix and coordinate mode, so this covers
    the constructions, 2-opt, Or-opt, the kicks and the Held-Karp bound at any size.  The ILS
    runs on more cities than the Held-Karp bound takes, so no bound can end it before a kick.
    """
    from cutslack.problems import random_tsp

    tsp_iterated_local_search(random_tsp(HELD_KARP_MAX_N + 1, rng=0), rng=0, max_kicks=1)
    tiny = random_tsp(12, rng=0)
    tsp_nearest_neighbour(tiny, rng=0)
    tsp_held_karp_bound(tiny, iterations=2)


@register_solver("tsp-nn", accepts=(TravelingSalesman,), warmup=_warm_up,
                 description="nearest-neighbour tour construction")
def tsp_nearest_neighbour(problem: TravelingSalesman, *, rng=None, time_limit=None, callback=None, neighbours: int = 10,
                          distance_mode: str = "auto"):
    """Return the nearest-neighbour tour from a random start city (asymmetric distances allowed)."""
    return _constructive(problem, "tsp-nn", "nn", rng, time_limit, callback, neighbours, distance_mode)


@register_solver("tsp-greedy", accepts=(TravelingSalesman,), warmup=_warm_up,
                 description="greedy-edge tour construction")
def tsp_greedy_edge(problem: TravelingSalesman, *, rng=None, time_limit=None, callback=None, neighbours: int = 10,
                    distance_mode: str = "auto"):
    """Return the greedy-edge tour (shortest candidate edges first, fragments joined greedily)."""
    return _constructive(problem, "tsp-greedy", "greedy", rng, time_limit, callback, neighbours, distance_mode)


@register_solver("tsp-sfc", accepts=(TravelingSalesman,), warmup=_warm_up,
                 description="Hilbert space-filling-curve tour")
def tsp_space_filling_curve(problem: TravelingSalesman, *, rng=None, time_limit=None, callback=None, neighbours: int = 10,
                            distance_mode: str = "auto"):
    """Return the tour visiting cities in Hilbert-curve order of their coordinates (needs coordinates)."""
    return _constructive(problem, "tsp-sfc", "sfc", rng, time_limit, callback, neighbours, distance_mode)


@register_solver("tsp-2opt", accepts=(TravelingSalesman,), warmup=_warm_up,
                 description="2-opt local search with neighbour lists")
def tsp_two_opt(problem: TravelingSalesman, *, rng=None, time_limit=None, callback=None, initial=None,
                start: str = "greedy", neighbours: int = 10, distance_mode: str = "auto"):
    """Return a 2-opt local optimum (neighbour lists, don't-look bits) from ``initial`` or a construction.

    A local optimum, not a global one; instances with at most 8 cities are enumerated exactly.
    """
    return _improve(problem, "tsp-2opt", rng=rng, time_limit=time_limit, callback=callback, initial=initial,
                    start=start, neighbours=neighbours, distance_mode=distance_mode, use_or=False, kicks=False)


@register_solver("tsp-oropt", accepts=(TravelingSalesman,), warmup=_warm_up,
                 description="2-opt + Or-opt local search")
def tsp_or_opt(problem: TravelingSalesman, *, rng=None, time_limit=None, callback=None, initial=None,
               start: str = "greedy", neighbours: int = 10, distance_mode: str = "auto"):
    """Return a local optimum for 2-opt and Or-opt (segments of 1-3 cities, both orientations)."""
    return _improve(problem, "tsp-oropt", rng=rng, time_limit=time_limit, callback=callback, initial=initial,
                    start=start, neighbours=neighbours, distance_mode=distance_mode, use_or=True, kicks=False)


@register_solver("tsp-ils", accepts=(TravelingSalesman,), warmup=_warm_up,
                 description="iterated 2-opt/Or-opt with double-bridge kicks")
def tsp_iterated_local_search(problem: TravelingSalesman, *, rng=None, time_limit=None, callback=None, initial=None,
                              start: str = "greedy", neighbours: int = ILS_NEIGHBOURS, distance_mode: str = "auto",
                              max_kicks: int | None = None,
                              max_no_improve: int | None = None):
    """Return the best tour of an iterated local search (2-opt + Or-opt descents between double bridges).

    Kicks are segment-local double bridges and, one in ten (``ILS_GLOBAL_KICK_RATE``), classic
    ones; a kicked tour is kept when no longer than the current one or within 0.1 % of the best
    (``ILS_ACCEPT_SLACK``, record-to-record travel), and each chunk of kicks restarts from the
    best tour.  ``neighbours`` defaults to 16 here.

    Runs until the tour reaches the Held–Karp 1-tree bound (symmetric, n <= 200: status
    OPTIMAL), ``max_kicks`` kicks, ``time_limit`` or ``max_no_improve`` kicks without a shorter
    tour (default ``max(3000, 10 n)`` without a time limit; with one, none: the search uses the
    whole limit, see :class:`cutslack.result.Status`).  At most 8 cities are enumerated exactly.
    """
    return _improve(problem, "tsp-ils", rng=rng, time_limit=time_limit, callback=callback, initial=initial,
                    start=start, neighbours=neighbours, distance_mode=distance_mode, use_or=True, kicks=True, max_kicks=max_kicks,
                    max_no_improve=max_no_improve)
