"""QAP heuristics: Taillard's robust tabu search (``qap-tabu``) and simulated annealing
(``qap-anneal``) over pair swaps.

Robust tabu search (É. Taillard, Parallel Computing 17, 1991) keeps the n×n matrix of swap
gains; after a swap of facilities r and s every entry not involving r or s is updated in
O(1) from its old value (Taillard's formula), the 2n entries involving r or s are
recomputed in O(n), so a whole iteration costs O(n²), the size of the neighbourhood.
A move is tabu when it puts both facilities back on locations they left recently (random
tenure ``U(0,1)³ · 8n``); aspiration by the best cost, and a move is forced when a
facility has not visited a location for ``5 n²`` iterations.  Multi-start: a stagnating
search restarts from a random permutation, keeping the global best.

Both searches are Numba loops (``cache=True``); SciPy's ``quadratic_assignment`` offers FAQ
and 2-opt, but no tabu search or annealing, and the per-iteration work is an O(n²) scan that
Python would slow down a hundredfold.
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from cutslack.api import Run, make_result, register_solver
from cutslack.errors import InvalidInstanceError
from cutslack.problems.qap import QuadraticAssignment
from cutslack.result import Status
from cutslack.solvers.bounds import StopRule, cheap_bound, reaches_bound, stagnation_budget
from cutslack.solvers.classical.heuristics._common import kernel_seed, run_chunks, stop_reason

__all__ = ["qap_tabu", "qap_anneal", "swap_delta"]

#: instances up to this size are solved exactly by enumeration
EXACT_MAX_N = 7


@njit(cache=True)
def swap_delta(A, B, p, r, s):
    """Return the cost change of swapping the locations of facilities r and s (O(n), any A, B)."""
    pr, ps = p[r], p[s]
    d = (A[r, r] - A[s, s]) * (B[ps, ps] - B[pr, pr]) + (A[r, s] - A[s, r]) * (B[ps, pr] - B[pr, ps])
    for k in range(p.shape[0]):
        if k != r and k != s:
            pk = p[k]
            d += (A[k, r] - A[k, s]) * (B[pk, ps] - B[pk, pr]) + (A[r, k] - A[s, k]) * (B[ps, pk] - B[pr, pk])
    return d


@njit(cache=True)
def _delta_matrix(A, B, p):
    n = p.shape[0]
    delta = np.zeros((n, n))
    for i in range(n - 1):
        for j in range(i + 1, n):
            delta[i, j] = swap_delta(A, B, p, i, j)
    return delta


@njit(cache=True)
def _update_delta(A, B, p, delta, r, s):
    # p is already swapped; Taillard's O(1) update for pairs disjoint from {r, s}
    n = p.shape[0]
    pr, ps = p[r], p[s]
    for i in range(n - 1):
        for j in range(i + 1, n):
            if i != r and i != s and j != r and j != s:
                pi, pj = p[i], p[j]
                delta[i, j] += ((A[r, i] - A[r, j] + A[s, j] - A[s, i]) * (B[ps, pi] - B[ps, pj] + B[pr, pj] - B[pr, pi])
                                + (A[i, r] - A[j, r] + A[j, s] - A[i, s]) * (B[pi, ps] - B[pj, ps] + B[pj, pr] - B[pi, pr]))
            else:
                delta[i, j] = swap_delta(A, B, p, i, j)


@njit(cache=True)
def _tabu_chunk(A, B, p, cost, delta, tabu, best_p, best_cost, it, n_iter, tenure, aspiration, seed):
    np.random.seed(seed)
    n = p.shape[0]
    for _ in range(n_iter):
        it += 1
        ri, rj = -1, -1
        min_delta = np.inf
        already_aspired = False
        for i in range(n - 1):
            for j in range(i + 1, n):
                d = delta[i, j]
                authorized = tabu[i, p[j]] < it or tabu[j, p[i]] < it
                aspired = tabu[i, p[j]] < it - aspiration or tabu[j, p[i]] < it - aspiration or cost + d < best_cost - 1e-9
                if ((aspired and not already_aspired) or (aspired and already_aspired and d < min_delta)
                        or (not aspired and not already_aspired and d < min_delta and authorized)):
                    ri, rj = i, j
                    min_delta = d
                    if aspired:
                        already_aspired = True
        if ri < 0:
            continue
        p[ri], p[rj] = p[rj], p[ri]
        cost += delta[ri, rj]
        u = np.random.random()
        tabu[ri, p[rj]] = it + int(u * u * u * tenure)
        u = np.random.random()
        tabu[rj, p[ri]] = it + int(u * u * u * tenure)
        if cost < best_cost - 1e-9:
            best_cost = cost
            best_p[:] = p
        _update_delta(A, B, p, delta, ri, rj)
    return cost, best_cost, it


@njit(cache=True)
def _anneal_chunk(A, B, p, cost, best_p, best_cost, temperature, n_moves, seed):
    np.random.seed(seed)
    n = p.shape[0]
    for _ in range(n_moves):
        r = np.random.randint(n)
        s = np.random.randint(n - 1)
        if s >= r:
            s += 1
        d = swap_delta(A, B, p, r, s)
        if d <= 0.0 or np.random.random() < np.exp(-d / temperature):
            p[r], p[s] = p[s], p[r]
            cost += d
            if cost < best_cost - 1e-9:
                best_cost = cost
                best_p[:] = p
    return cost, best_cost


def _matrices(problem: QuadraticAssignment):
    return (np.ascontiguousarray(problem.flow, dtype=float), np.ascontiguousarray(problem.distance, dtype=float))


def _exact(problem: QuadraticAssignment) -> np.ndarray:
    n = problem.n
    if n <= 1:
        return np.zeros(n, dtype=np.int64)
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64)
    return perms[int(np.argmin(problem.evaluate(perms)))]


def _start(problem, initial, run: Run) -> np.ndarray:
    n = problem.n
    if initial is None:
        return run.rng.permutation(n).astype(np.int64)
    p = np.asarray(initial)
    if p.shape != (n,) or not np.array_equal(np.sort(p), np.arange(n)):
        raise InvalidInstanceError("initial", f"must be a permutation of 0..{n - 1}")
    return p.astype(np.int64)


def _small(problem, method, run):
    return make_result(problem, _exact(problem), method=method, run=run, status=Status.OPTIMAL,
                       n_vars=problem.n, info={"exact": "enumeration"})



def _warm_up(problem=None) -> None:
    """Compile (or load from Numba's cache) the QAP kernels on a 9-facility instance, before the caller's clock."""
    from cutslack.problems import random_qap

    tiny = random_qap(9, rng=0)
    qap_tabu(tiny, rng=0, max_iter=200)
    qap_anneal(tiny, rng=0, levels=2, moves_per_level=10, restarts=0)


@register_solver("qap-tabu", accepts=(QuadraticAssignment,), warmup=_warm_up,
                 description="robust tabu search (Taillard)")
def qap_tabu(problem: QuadraticAssignment, *, rng=None, time_limit=None, callback=None, initial=None,
             max_iter: int | None = None, restart_after: int | None = None, target: float | None = None,
             max_no_improve: float | None = None):
    """Return the best permutation found by multi-start robust tabu search.

    Parameters
    ----------
    initial : permutation, optional
        Start of the first search (default: random).
    max_iter : int, optional
        Total tabu iterations (default ``2000 n`` without a time limit, unlimited with one).
    restart_after : int, optional
        Iterations without a new best of the current start before restarting from a random
        permutation (default ``200 n``... at least 20000).
    target : float, optional
        Stop as soon as a permutation of at most this cost is found.
    max_no_improve : int, optional
        Stop after this many iterations without a better permutation.  Default: without a
        time limit ``4 restart_after`` (a few restarts that found nothing); with one, never
        (the search restarts until the limit).

    ``bound`` is the Gilmore–Lawler bound (n <= 60); reaching it proves optimality (status
    OPTIMAL), which on most instances it never does.  Instances with at most 7 facilities are
    enumerated exactly.  With a ``time_limit`` the search uses all of it unless the bound is reached
    or ``max_no_improve`` is set (Budgets and statuses: :class:`cutslack.result.Status`.)
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    n = problem.n
    if n <= EXACT_MAX_N:
        return _small(problem, "qap-tabu", run)
    A, B = _matrices(problem)
    if max_iter is None and time_limit is None:
        max_iter = 2000 * n
    restart_after = max(20_000, 200 * n) if restart_after is None else int(restart_after)
    chunk = max(50, 200_000 // (n * n))
    bound = cheap_bound(problem)
    stop = StopRule(bound, stagnation_budget(max_no_improve, 4 * restart_after, time_limit), sense="min")
    state = {"p": _start(problem, initial, run), "it": 0, "since": 0, "starts": 0}
    best_p = state["p"].copy()
    best = {"cost": np.inf}

    def new_start(p):
        state["p"] = p
        state["cost"] = float(problem.evaluate(p))
        state["delta"] = _delta_matrix(A, B, p)
        state["tabu"] = -(n * np.arange(n)[:, None] + np.arange(n)[None, :]).astype(np.int64)
        state["start_best"] = state["cost"]
        state["since"] = 0
        state["starts"] += 1
        if state["cost"] < best["cost"]:
            best["cost"] = state["cost"]
            best_p[:] = p

    new_start(state["p"])

    def step() -> bool:
        local_best = best_p.copy()
        cost, local, it = _tabu_chunk(A, B, state["p"], state["cost"], state["delta"], state["tabu"], local_best,
                                      best["cost"], state["it"], chunk, 8 * n, 5 * n * n, kernel_seed(run))
        state["cost"], state["it"] = cost, it
        state["since"] += chunk
        if local < best["cost"] - 1e-9:
            best["cost"] = local
            best_p[:] = local_best
            state["since"] = 0
        if target is not None and best["cost"] <= target + 1e-9:
            return False
        if max_iter is not None and state["it"] >= max_iter:
            return False
        if state["since"] >= restart_after:
            new_start(run.rng.permutation(n).astype(np.int64))
        return True

    def intermediate():
        return make_result(problem, best_p.copy(), method="qap-tabu", run=run, nit=state["it"], n_vars=n)

    run_chunks(run, step, intermediate, incumbent=lambda: best["cost"], sense="min", stop=stop, work_per_chunk=chunk)
    return _finish(problem, best_p, "qap-tabu", run, bound, stop, state["it"],
                   {"starts": state["starts"], "iterations": state["it"]})


def _finish(problem, best_p, method, run, bound, stop, nit, info):
    # OPTIMAL when the best permutation reaches the Gilmore-Lawler bound
    value = float(problem.evaluate(best_p))
    status = Status.OPTIMAL if reaches_bound(value, bound) else None
    info = dict(info, stop=stop_reason(run, stop), bound_kind=None if bound is None else bound.kind)
    return make_result(problem, best_p.copy(), method=method, run=run, status=status, nit=nit, n_vars=problem.n,
                       bound=None if bound is None else bound.effective, info=info)


@register_solver("qap-anneal", accepts=(QuadraticAssignment,), warmup=_warm_up,
                 description="simulated annealing over swaps")
def qap_anneal(problem: QuadraticAssignment, *, rng=None, time_limit=None, callback=None, initial=None,
               levels: int = 100, moves_per_level: int | None = None, cooling: float = 0.93,
               restarts: int | None = None, max_no_improve: int | None = None):
    """Return the best permutation found by simulated annealing with random pair swaps.

    The initial temperature accepts an average uphill swap with probability 1/2 (sampled on
    the start); ``levels`` geometric steps of factor ``cooling``, ``moves_per_level``
    proposals each (default ``n²``).  Each of ``restarts`` further cycles (default 2 without a
    time limit, unlimited with one) re-anneals from the best permutation at a tenth of the
    first temperature; ``max_no_improve`` cycles in a row without a better permutation end
    the run (default 2 without a time limit, never with one).  It stops at once on reaching the
    Gilmore–Lawler bound (OPTIMAL).
    At most 7 facilities are enumerated exactly.
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    n = problem.n
    if n <= EXACT_MAX_N:
        return _small(problem, "qap-anneal", run)
    A, B = _matrices(problem)
    p = _start(problem, initial, run)
    moves = n * n if moves_per_level is None else int(moves_per_level)
    if restarts is None:
        restarts = 2 if time_limit is None else 1 << 30
    samples = [swap_delta(A, B, p, *run.rng.choice(n, size=2, replace=False)) for _ in range(100)]
    uphill = [d for d in samples if d > 0]
    t0 = (np.mean(uphill) / np.log(2.0)) if uphill else 1.0
    state = {"cost": float(problem.evaluate(p)), "level": 0, "cycle": 0, "t": t0}
    best_p = p.copy()
    state["best"] = state["cost"]
    bound = cheap_bound(problem)
    stop = StopRule(bound, stagnation_budget(None if max_no_improve is None else max_no_improve * levels, 2 * levels,
                                             time_limit), sense="min")

    def step() -> bool:
        state["cost"], state["best"] = _anneal_chunk(A, B, p, state["cost"], best_p, state["best"], state["t"],
                                                     moves, kernel_seed(run))
        state["level"] += 1
        state["t"] *= cooling
        if state["level"] % levels == 0:
            state["cycle"] += 1
            if state["cycle"] > restarts:
                return False
            p[:] = best_p
            state["cost"] = state["best"]
            state["t"] = t0 / 10.0
        return True

    def intermediate():
        return make_result(problem, best_p.copy(), method="qap-anneal", run=run, nit=state["level"], n_vars=n)

    run_chunks(run, step, intermediate, incumbent=lambda: state["best"], sense="min", stop=stop)
    return _finish(problem, best_p, "qap-anneal", run, bound, stop, state["level"],
                   {"cycles": state["cycle"], "initial_temperature": float(t0)})
