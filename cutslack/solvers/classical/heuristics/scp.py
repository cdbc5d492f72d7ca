"""Set-covering heuristics: Chvátal's greedy with redundancy elimination and 1-swaps
(``scp-greedy``) and an iterated greedy in the manner of Jacobs & Brusco (``scp-ils``).

* Greedy (Chvátal, "A greedy heuristic for the set-covering problem", Math. Oper. Res. 4
  (1979)): add the column of least cost per newly covered row until every row is covered.
* Redundancy elimination: drop chosen columns whose rows are all covered twice, most
  expensive first.
* 1-swap: a chosen column ``j`` is replaced by the cheapest unchosen column that alone covers
  every row only ``j`` covers, when that column is cheaper; repeated until none is.
* ``scp-ils`` — two kicks, taken at random: the local search of Jacobs & Brusco ("Note: A
  local-search heuristic for large set-covering problems", Naval Research Logistics 42 (1995)
  1129-1140) removes a random handful of the chosen columns and re-covers greedily with randomly
  perturbed costs; the dual-guided restart builds a cover from scratch, greedily by the
  Lagrangian reduced cost ``c_j - λ sum_{r in j} u_r ξ_r`` (``u`` the LP duals, ``λ ~ U[0, 1)``,
  ``ξ_r ~ U[0.5, 1.5)``; floored at ``10^-3``), which prices columns as Beasley's Lagrangian
  heuristic does ("A Lagrangian heuristic for set-covering problems", Naval Research Logistics
  37 (1990) 151-164) with the LP duals in place of subgradient multipliers.  Either way
  redundancy is eliminated and 1-swaps applied; the result replaces the current cover when it
  costs no more, and the walk returns to the best after a run of kicks without progress.

Both stop once the incumbent reaches the LP-relaxation bound (HiGHS, ceiled for integer
costs); ``scp-ils`` also stops after ``max_no_improve`` kicks without a better cover, or at
``time_limit``.  Kernels are Numba (``cache=True``) over the CSR (row -> columns) and CSC
(column -> rows) index arrays: every kick re-covers and scans every column, which Python would
slow a hundredfold.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from cutslack.api import Run, make_result, register_solver
from cutslack.problems.set_cover import SetCover
from cutslack.result import Status
from cutslack.solvers.bounds import StopRule, reaches_bound, set_cover_lp_bound
from cutslack.solvers.classical.heuristics._common import kernel_seed, run_chunks, stop_reason

__all__ = ["scp_greedy", "scp_ils", "CoverIndex", "improve_covers"]


class CoverIndex:
    """The index arrays the kernels use: row -> columns (CSR) and column -> rows (CSC), costs, and
    the columns in order of decreasing cost."""

    def __init__(self, problem: SetCover):
        A = problem.cover.tocsr()
        C = A.tocsc()
        C.sort_indices()
        self.rptr, self.ridx = A.indptr.astype(np.int64), A.indices.astype(np.int64)
        self.cptr, self.cidx = C.indptr.astype(np.int64), C.indices.astype(np.int64)
        self.costs = np.asarray(problem.costs, dtype=float)
        self.by_cost = np.argsort(-self.costs, kind="stable").astype(np.int64)
        self.m = problem.m


@njit(cache=True)
def _coverage(x, m, cptr, cidx):
    cov = np.zeros(m, dtype=np.int64)
    for j in range(x.shape[0]):
        if x[j]:
            for e in range(cptr[j], cptr[j + 1]):
                cov[cidx[e]] += 1
    return cov


@njit(cache=True)
def _greedy_cover(x, cov, weight, rptr, ridx, cptr, cidx):
    # add the column of least weight per newly covered row until every row is covered
    n = x.shape[0]
    fresh = np.zeros(n, dtype=np.int64)
    uncovered = 0
    for r in range(cov.shape[0]):
        if cov[r] == 0:
            uncovered += 1
    if uncovered == 0:
        return
    for j in range(n):
        if x[j] == 0:
            for e in range(cptr[j], cptr[j + 1]):
                if cov[cidx[e]] == 0:
                    fresh[j] += 1
    while uncovered > 0:
        best, best_ratio = -1, np.inf
        for j in range(n):
            if x[j] == 0 and fresh[j] > 0:
                ratio = weight[j] / fresh[j]
                if ratio < best_ratio:
                    best, best_ratio = j, ratio
        x[best] = 1
        for e in range(cptr[best], cptr[best + 1]):
            r = cidx[e]
            if cov[r] == 0:
                uncovered -= 1
                for f in range(rptr[r], rptr[r + 1]):
                    fresh[ridx[f]] -= 1
            cov[r] += 1


@njit(cache=True)
def _drop_redundant(x, cov, by_cost, cptr, cidx):
    for t in range(by_cost.shape[0]):
        j = by_cost[t]
        if x[j] == 0:
            continue
        redundant = True
        for e in range(cptr[j], cptr[j + 1]):
            if cov[cidx[e]] < 2:
                redundant = False
                break
        if redundant:
            x[j] = 0
            for e in range(cptr[j], cptr[j + 1]):
                cov[cidx[e]] -= 1


@njit(cache=True)
def _one_swaps(x, cov, costs, by_cost, rptr, ridx, cptr, cidx, mark):
    # replace a chosen column by a cheaper unchosen one covering every row only it covers
    improved = False
    stamp = mark.max()
    for t in range(by_cost.shape[0]):
        j = by_cost[t]
        if x[j] == 0:
            continue
        stamp += 1
        need, first = 0, -1
        for e in range(cptr[j], cptr[j + 1]):
            r = cidx[e]
            if cov[r] == 1:
                mark[r] = stamp
                need += 1
                if first < 0:
                    first = r
        if need == 0:
            continue  # redundant: left to _drop_redundant
        best, best_cost = -1, costs[j] - 1e-9
        for f in range(rptr[first], rptr[first + 1]):
            k = ridx[f]
            if x[k] or costs[k] >= best_cost:
                continue
            hit = 0
            for e in range(cptr[k], cptr[k + 1]):
                if mark[cidx[e]] == stamp:
                    hit += 1
            if hit == need:
                best, best_cost = k, costs[k]
        if best >= 0:
            x[j] = 0
            for e in range(cptr[j], cptr[j + 1]):
                cov[cidx[e]] -= 1
            x[best] = 1
            for e in range(cptr[best], cptr[best + 1]):
                cov[cidx[e]] += 1
            improved = True
    return improved


@njit(cache=True)
def _improve(x, cov, weight, costs, by_cost, rptr, ridx, cptr, cidx, mark):
    _greedy_cover(x, cov, weight, rptr, ridx, cptr, cidx)
    _drop_redundant(x, cov, by_cost, cptr, cidx)
    while _one_swaps(x, cov, costs, by_cost, rptr, ridx, cptr, cidx, mark):
        _drop_redundant(x, cov, by_cost, cptr, cidx)


@njit(cache=True)
def _improve_all(X, costs, by_cost, rptr, ridx, cptr, cidx):
    m = rptr.shape[0] - 1
    mark = np.zeros(m, dtype=np.int64)
    for s in range(X.shape[0]):
        cov = _coverage(X[s], m, cptr, cidx)
        _improve(X[s], cov, costs, costs, by_cost, rptr, ridx, cptr, cidx, mark)
    return X


def improve_covers(problem: SetCover, X, index: CoverIndex | None = None) -> np.ndarray:
    """Return covers made from the 0/1 rows of ``X`` (uint8): greedy completion, redundancy
    elimination (most expensive first) and 1-swaps; each row of the result covers every row."""
    index = CoverIndex(problem) if index is None else index
    X2 = np.array(X, dtype=np.uint8, ndmin=2)
    return _improve_all(X2, index.costs, index.by_cost, index.rptr, index.ridx, index.cptr, index.cidx)


@njit(cache=True)
def _dual_weights(weight, costs, duals, rptr, cptr, cidx, noise):
    # reduced costs under randomly scaled LP duals, floored, times a little cost noise
    m = rptr.shape[0] - 1
    price = np.empty(m)
    lam = np.random.random()
    for r in range(m):
        price[r] = lam * duals[r] * (0.5 + np.random.random())
    for j in range(costs.shape[0]):
        reduced = costs[j]
        for e in range(cptr[j], cptr[j + 1]):
            reduced -= price[cidx[e]]
        weight[j] = max(reduced, 1e-3) * (1.0 + 0.3 * noise * np.random.random())


@njit(cache=True)
def _ils_chunk(best, cur, costs, duals, by_cost, rptr, ridx, cptr, cidx, n_kicks, kick_max, noise, restart_after,
               stale, target, seed):
    np.random.seed(seed)
    n = best.shape[0]
    m = rptr.shape[0] - 1
    mark = np.zeros(m, dtype=np.int64)
    best_cost = 0.0
    cur_cost = 0.0
    for j in range(n):
        best_cost += costs[j] * best[j]
        cur_cost += costs[j] * cur[j]
    trial = np.empty(n, dtype=np.uint8)
    weight = np.empty(n)
    kicks = 0
    for _ in range(n_kicks):
        if best_cost <= target + 1e-9:
            break
        kicks += 1
        if np.random.random() < 0.5:
            trial[:] = 0
            _dual_weights(weight, costs, duals, rptr, cptr, cidx, noise)
        else:
            trial[:] = cur
            chosen = np.flatnonzero(trial)
            for _t in range(1 + np.random.randint(kick_max)):
                trial[chosen[np.random.randint(chosen.shape[0])]] = 0
            for j in range(n):
                weight[j] = costs[j] * (1.0 + noise * np.random.random())
        cov = _coverage(trial, m, cptr, cidx)
        _improve(trial, cov, weight, costs, by_cost, rptr, ridx, cptr, cidx, mark)
        value = 0.0
        for j in range(n):
            value += costs[j] * trial[j]
        if value < best_cost - 1e-9:
            best[:] = trial
            best_cost = value
            stale = 0
        else:
            stale += 1
        if value <= cur_cost + 1e-9:
            cur[:] = trial
            cur_cost = value
        if stale > 0 and stale % restart_after == 0:
            cur[:] = best
            cur_cost = best_cost
    return kicks, stale


@register_solver("scp-greedy", accepts=(SetCover,),
                 description="Chvatal greedy + redundancy elimination + 1-swaps")
def scp_greedy(problem: SetCover, *, rng=None, time_limit=None, callback=None):
    """Return Chvátal's greedy cover after redundancy elimination and 1-swaps.

    ``bound`` is the LP relaxation (HiGHS, ceiled for integer costs); the status is OPTIMAL
    when the cover reaches it.  Deterministic (``rng`` unused).
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    bound = set_cover_lp_bound(problem, time_limit=run.time_left())
    x = improve_covers(problem, np.zeros(problem.n))[0].astype(np.int64)
    status = Status.OPTIMAL if reaches_bound(problem.evaluate(x), bound) else None
    return make_result(problem, x, method="scp-greedy", run=run, status=status,
                       bound=None if bound is None else bound.effective, n_vars=problem.n, nit=1,
                       info={"bound_kind": None if bound is None else bound.kind})


@register_solver("scp-ils", accepts=(SetCover,),
                 description="iterated greedy: drop columns, re-cover with noisy costs, 1-swaps")
def scp_ils(problem: SetCover, *, rng=None, time_limit=None, callback=None, max_no_improve: float | None = None,
            restart_after: int | None = None, kick_size: int | None = None, noise: float = 1.0):
    """Return the best cover of an iterated greedy (Jacobs & Brusco 1995) started from ``scp-greedy``.

    Parameters
    ----------
    max_no_improve : float, optional
        Kicks without a better cover before stopping (default 5000 without a time limit;
        with one the search runs to the limit unless this is given).
    restart_after : int, optional
        Kicks without a better cover before the walk returns to the best (default 50).
    kick_size : int, optional
        Most columns a kick removes (``1 + U{0..kick_size-1}``; default a third of the greedy
        cover's columns, at least 2).
    noise : float
        Re-covering weighs column ``j`` by ``c_j (1 + noise U[0, 1))``.

    The defaults were picked on scp41/43/45/47/49 at 0.5 s (kick sizes 3-30, noise 0.1-1.5,
    restarts after 50 or 200 kicks): larger kicks and more noise did better, the restart
    length mattered little.
    """
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    index = CoverIndex(problem)
    bound, duals = set_cover_lp_bound(problem, time_limit=run.time_left(), duals=True)
    duals = np.zeros(problem.m) if duals is None else np.ascontiguousarray(duals, dtype=float)
    best = improve_covers(problem, np.zeros(problem.n), index)[0]
    cur = best.copy()
    target = -np.inf if bound is None else bound.effective
    kick_max = max(2, int(best.sum()) // 3) if kick_size is None else max(1, int(kick_size))
    restart_after = 50 if restart_after is None else max(1, int(restart_after))
    if max_no_improve is None:
        max_no_improve = np.inf if time_limit is not None else 5000
    chunk = max(10, 2_000_000 // (problem.cover.nnz + 10 * problem.n))
    state = {"kicks": 0, "stale": 0}

    def step() -> bool:
        kicks, state["stale"] = _ils_chunk(best, cur, index.costs, duals, index.by_cost, index.rptr, index.ridx, index.cptr,
                                           index.cidx, chunk, kick_max, float(noise), restart_after, state["stale"],
                                           target, kernel_seed(run))
        state["kicks"] += kicks
        return kicks == chunk

    def intermediate():
        return make_result(problem, best.astype(np.int64), method="scp-ils", run=run,
                           bound=None if bound is None else bound.effective, nit=state["kicks"], n_vars=problem.n)

    stop = StopRule(bound, max_no_improve, sense="min")
    run_chunks(run, step, intermediate, incumbent=lambda: float(index.costs @ best), sense="min", stop=stop,
               work_per_chunk=chunk)
    status = Status.OPTIMAL if reaches_bound(float(index.costs @ best), bound) else None
    return make_result(problem, best.astype(np.int64), method="scp-ils", run=run, status=status,
                       bound=None if bound is None else bound.effective, nit=state["kicks"], n_vars=problem.n,
                       info={"kicks": state["kicks"], "bound_kind": None if bound is None else bound.kind,
                             "stop": stop_reason(run, stop)})
