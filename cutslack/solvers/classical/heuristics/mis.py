"""Maximum independent set heuristics: greedy minimum degree (``mis-greedy``) and the
iterated local search of Andrade, Resende and Werneck (``mis-ils``, J. Heuristics 2012).

ARW's local search applies (1,2)-swaps — drop one solution vertex, insert two of its
non-adjacent *1-tight* neighbours (whose only solution neighbour it is) — plus, with vertex
weights, (1,1)-swaps that raise the weight, then fills free vertices.  Each iteration
forces one (sometimes a few) random outside vertices into the solution, drops their
solution neighbours, forbids undoing that in the following descent, and accepts the
result when it is no lighter, else with probability ``1 / (1 + δ·δ*)`` (δ: loss against the
current, δ*: against the best).

networkx is used only to hold the input graph; the search runs on its own CSR arrays in
Numba loops (``cache=True``), because each swap touches a handful of adjacency entries and a
Python loop per vertex would cost a hundredfold.
"""

from __future__ import annotations

import heapq

import numpy as np
from numba import njit

from cutslack.api import Run, make_result, register_solver
from cutslack.errors import InvalidInstanceError
from cutslack.problems.mis import MaximumIndependentSet
from cutslack.result import Status
from cutslack.solvers.bounds import StopRule, cheap_bound, reaches_bound, stagnation_budget
from cutslack.solvers.classical.heuristics._common import kernel_seed, run_chunks, stop_reason

__all__ = ["mis_greedy", "mis_iterated_local_search", "csr_adjacency"]


def csr_adjacency(problem: MaximumIndependentSet):
    """Return ``(indptr, indices)`` of the symmetric adjacency of the problem's graph (node positions)."""
    n = len(problem.nodes)
    E = problem.edges
    if E.shape[0] and np.any(E[:, 0] == E[:, 1]):
        raise InvalidInstanceError("graph", "has a self-loop")
    src = np.concatenate([E[:, 0], E[:, 1]]).astype(np.int64)
    dst = np.concatenate([E[:, 1], E[:, 0]]).astype(np.int64)
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, src + 1, 1)
    return np.cumsum(indptr), np.ascontiguousarray(dst)


@njit(cache=True)
def _greedy(indptr, indices, w):
    # repeatedly take the vertex of least (residual degree + 1) / weight, drop its neighbours
    n = w.shape[0]
    deg = np.diff(indptr)
    alive = np.ones(n, dtype=np.bool_)
    x = np.zeros(n, dtype=np.int64)
    heap = [(0.0, 0) for _ in range(0)]
    for v in range(n):
        heap.append(((deg[v] + 1.0) / max(w[v], 1e-12), v))
    heapq.heapify(heap)
    while len(heap) > 0:
        key, v = heapq.heappop(heap)
        if not alive[v] or key != (deg[v] + 1.0) / max(w[v], 1e-12):
            continue
        x[v] = 1
        alive[v] = False
        for k in range(indptr[v], indptr[v + 1]):
            u = indices[k]
            if alive[u]:
                alive[u] = False
                for t in range(indptr[u], indptr[u + 1]):
                    y = indices[t]
                    if alive[y]:
                        deg[y] -= 1
                        heapq.heappush(heap, ((deg[y] + 1.0) / max(w[y], 1e-12), y))
    return x


@njit(cache=True)
def _insert(indptr, indices, sol, tight, v):
    sol[v] = 1
    for k in range(indptr[v], indptr[v + 1]):
        tight[indices[k]] += 1


@njit(cache=True)
def _remove(indptr, indices, sol, tight, v):
    sol[v] = 0
    for k in range(indptr[v], indptr[v + 1]):
        tight[indices[k]] -= 1


@njit(cache=True)
def _fill_around(indptr, indices, sol, tight, v, queue, qn):
    # insert every free neighbour of v (no solution neighbour); returns the new queue length
    for k in range(indptr[v], indptr[v + 1]):
        u = indices[k]
        if sol[u] == 0 and tight[u] == 0:
            _insert(indptr, indices, sol, tight, u)
            queue[qn] = u
            qn += 1
    return qn


@njit(cache=True)
def _swap_at(indptr, indices, w, sol, tight, x, mark, stamp, cand):
    # try a (1,2)-swap (or a heavier (1,1)-swap) dropping x; returns (u, v) inserted or (-1, -1)
    nc = 0
    for k in range(indptr[x], indptr[x + 1]):
        u = indices[k]
        if sol[u] == 0 and tight[u] == 1:
            cand[nc] = u
            nc += 1
    best_single = -1
    for a in range(nc):
        u = cand[a]
        if w[u] > w[x] + 1e-12 and (best_single < 0 or w[u] > w[best_single]):
            best_single = u
        if nc >= 2:
            stamp[0] += 1
            for k in range(indptr[u], indptr[u + 1]):
                mark[indices[k]] = stamp[0]
            for b in range(a + 1, nc):
                v = cand[b]
                if mark[v] != stamp[0] and w[u] + w[v] > w[x] + 1e-12:
                    return u, v
    return best_single, -1


@njit(cache=True)
def _local_search(indptr, indices, w, sol, tight, queue, qn, forbidden, mark, stamp, cand):
    # process solution vertices from the stack until no swap applies
    while qn > 0:
        qn -= 1
        x = queue[qn]
        if sol[x] == 0 or x == forbidden:
            continue
        u, v = _swap_at(indptr, indices, w, sol, tight, x, mark, stamp, cand)
        if u < 0:
            continue
        _remove(indptr, indices, sol, tight, x)
        _insert(indptr, indices, sol, tight, u)
        queue[qn] = u
        qn += 1
        if v >= 0:
            _insert(indptr, indices, sol, tight, v)
            queue[qn] = v
            qn += 1
        qn = _fill_around(indptr, indices, sol, tight, x, queue, qn)
        # solution vertices that may have gained 1-tight neighbours
        for k in range(indptr[x], indptr[x + 1]):
            y = indices[k]
            if sol[y] == 0 and tight[y] == 1:
                for t in range(indptr[y], indptr[y + 1]):
                    z = indices[t]
                    if sol[z] == 1:
                        queue[qn] = z
                        qn += 1
                        break
    return qn


@njit(cache=True)
def _weight_and_size(sol, w):
    total = 0.0
    size = 0
    for v in range(w.shape[0]):
        if sol[v] == 1:
            total += w[v]
            size += 1
    return total, size


@njit(cache=True)
def _ils_chunk(indptr, indices, w, sol, tight, best, best_weight, n_iter, seed):
    np.random.seed(seed)
    n = w.shape[0]
    queue = np.empty(4 * n + 16 + indices.shape[0], dtype=np.int64)
    mark = np.zeros(n, dtype=np.int64)
    stamp = np.zeros(1, dtype=np.int64)
    cand = np.empty(n, dtype=np.int64)
    saved_sol = sol.copy()
    saved_tight = tight.copy()
    cur, size = _weight_and_size(sol, w)
    for _ in range(n_iter):
        if size == n:
            break
        saved_sol[:] = sol
        saved_tight[:] = tight
        k = 1
        if size > 0 and np.random.random() < 1.0 / (2.0 * size):
            k = 2 + np.random.randint(3)
        qn = 0
        forced = -1
        for _ in range(k):
            v = np.random.randint(n)
            tries = 0
            while sol[v] == 1 and tries < n:
                v = np.random.randint(n)
                tries += 1
            if sol[v] == 1:
                break
            for t in range(indptr[v], indptr[v + 1]):
                u = indices[t]
                if sol[u] == 1:
                    _remove(indptr, indices, sol, tight, u)
            _insert(indptr, indices, sol, tight, v)
            forced = v
            for t in range(indptr[v], indptr[v + 1]):
                qn = _fill_around(indptr, indices, sol, tight, indices[t], queue, qn)
            queue[qn] = v
            qn += 1
        # every solution vertex near the change may now have a swap
        for t in range(indptr[forced], indptr[forced + 1]):
            u = indices[t]
            for s in range(indptr[u], indptr[u + 1]):
                z = indices[s]
                if sol[z] == 1 and qn < queue.shape[0] - n:
                    queue[qn] = z
                    qn += 1
        qn = _local_search(indptr, indices, w, sol, tight, queue, qn, forced, mark, stamp, cand)
        queue[0] = forced
        _local_search(indptr, indices, w, sol, tight, queue, 1, -1, mark, stamp, cand)
        new, size = _weight_and_size(sol, w)
        if new > best_weight + 1e-12:
            best_weight = new
            best[:] = sol
        if new >= cur - 1e-12:
            cur = new
        else:
            delta = cur - new
            delta_best = best_weight - new
            if np.random.random() < 1.0 / (1.0 + delta * delta_best):
                cur = new
            else:
                sol[:] = saved_sol
                tight[:] = saved_tight
                size = 0
                for v in range(n):
                    size += sol[v]
    return best_weight


def _greedy_solution(problem, indptr, indices):
    w = np.ascontiguousarray(problem.weights, dtype=float)
    return _greedy(indptr, indices, w) if w.shape[0] else np.zeros(0, dtype=np.int64)



def _warm_up(problem=None) -> None:
    """Compile (or load from Numba's cache) the MIS kernels, before the caller's clock.

    On three disjoint 5-cycles the clique-cover bound (3 per cycle) exceeds the optimum (2 per
    cycle), so no bound ends the search before its kernels ran.
    """
    import networkx as nx

    graph = nx.disjoint_union_all([nx.cycle_graph(5) for _ in range(3)])
    mis_iterated_local_search(MaximumIndependentSet(graph), rng=0, max_iter=200)


@register_solver("mis-greedy", accepts=(MaximumIndependentSet,), warmup=_warm_up,
                 description="greedy minimum-degree independent set")
def mis_greedy(problem: MaximumIndependentSet, *, rng=None, time_limit=None, callback=None):
    """Return a maximal (not maximum) independent set built by least residual degree (per unit weight) first."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    indptr, indices = csr_adjacency(problem)
    x = _greedy_solution(problem, indptr, indices)
    bound = cheap_bound(problem)
    status = Status.OPTIMAL if reaches_bound(float(problem.evaluate(x)), bound) else None
    return make_result(problem, x, method="mis-greedy", run=run, n_vars=len(problem.nodes), nit=1, status=status,
                       bound=None if bound is None else bound.effective,
                       info={"bound_kind": None if bound is None else bound.kind})


@register_solver("mis-ils", accepts=(MaximumIndependentSet,), warmup=_warm_up,
                 description="ARW iterated local search with (1,2)-swaps")
def mis_iterated_local_search(problem: MaximumIndependentSet, *, rng=None, time_limit=None, callback=None,
                              initial=None, max_iter: int | None = None, target: float | None = None,
                              max_no_improve: float | None = None):
    """Return the best independent set of ARW's iterated local search.

    Parameters
    ----------
    initial : 0/1 vector, optional
        An independent set to start from (default: the greedy one).
    max_iter : int, optional
        Perturbation-descent iterations (default ``max(20000, 100 n)`` without a time limit,
        unlimited with one).
    target : float, optional
        Stop as soon as an independent set of at least this weight is found.
    max_no_improve : int, optional
        Stop after this many iterations without a heavier set.  Default: ``max(10000, 100 n)``
        without a time limit; with one, never (ARW perturbations run until the limit).

    ``bound`` is a greedy clique cover's; a set reaching it is proven maximum (status
    OPTIMAL).  With a ``time_limit`` the search uses all of it unless the bound is reached or
    ``max_no_improve`` is set (Budgets and statuses: :class:`cutslack.result.Status`.)
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    n = len(problem.nodes)
    indptr, indices = csr_adjacency(problem)
    w = np.ascontiguousarray(problem.weights, dtype=float)
    if initial is None:
        sol = _greedy_solution(problem, indptr, indices)
    else:
        sol = np.asarray(initial, dtype=np.int64).reshape(-1)
        if sol.shape != (n,) or not problem.is_feasible(sol):
            raise InvalidInstanceError("initial", "must be a 0/1 indicator vector of an independent set")
        sol = sol.copy()
    if n == 0 or indices.shape[0] == 0:
        x = np.ones(n, dtype=np.int64)
        return make_result(problem, x, method="mis-ils", run=run, n_vars=n, status=Status.OPTIMAL,
                           info={"trivial": "no edges"})
    tight = np.zeros(n, dtype=np.int64)
    np.add.at(tight, indices, np.repeat(sol, np.diff(indptr)))
    best = sol.copy()
    if max_iter is None and time_limit is None:
        max_iter = max(20_000, 100 * n)
    chunk = max(100, min(5000, 2_000_000 // max(1, indices.shape[0])))
    state = {"best": float(w @ best), "it": 0}
    bound = cheap_bound(problem)
    stop = StopRule(bound, stagnation_budget(max_no_improve, max(10_000, 100 * n), time_limit), sense="max")

    def step() -> bool:
        # polish the start (and any initial) with a plain descent first
        if state["it"] == 0:
            queue = np.empty(4 * n + 16 + indices.shape[0], dtype=np.int64)
            sols = np.flatnonzero(sol)
            queue[: sols.shape[0]] = sols
            qn = sols.shape[0]
            for v in range(n):
                if sol[v] == 0 and tight[v] == 0:
                    _insert(indptr, indices, sol, tight, v)
            _local_search(indptr, indices, w, sol, tight, queue, qn, -1, np.zeros(n, dtype=np.int64),
                          np.zeros(1, dtype=np.int64), np.empty(n, dtype=np.int64))
            if w @ sol > state["best"]:
                best[:] = sol
                state["best"] = float(w @ sol)
        state["best"] = float(_ils_chunk(indptr, indices, w, sol, tight, best, state["best"], chunk, kernel_seed(run)))
        state["it"] += chunk
        if target is not None and state["best"] >= target - 1e-9:
            return False
        return max_iter is None or state["it"] < max_iter

    def intermediate():
        return make_result(problem, best.copy(), method="mis-ils", run=run, nit=state["it"], n_vars=n)

    run_chunks(run, step, intermediate, incumbent=lambda: state["best"], sense="max", stop=stop,
               work_per_chunk=chunk)
    status = Status.OPTIMAL if reaches_bound(state["best"], bound) else None
    return make_result(problem, best.copy(), method="mis-ils", run=run, nit=state["it"], n_vars=n, status=status,
                       bound=None if bound is None else bound.effective,
                       info={"iterations": state["it"], "stop": stop_reason(run, stop),
                             "bound_kind": None if bound is None else bound.kind})
