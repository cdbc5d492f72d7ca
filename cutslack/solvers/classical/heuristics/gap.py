"""Generalized assignment heuristics: regret greedy with local search (``gap-greedy``) and an
iterated local search (``gap-ils``).

Construction (Martello & Toth's MTHG, "An algorithm for the generalized assignment problem",
Operational Research '81, 1981): while a job is unassigned, every unassigned job's best and
second-best agent that still has room are found under a desirability measure, and the job
with the largest regret (best minus second best; infinite when one agent is left) goes to its
best agent.  ``gap-greedy`` runs it under four measures (the profit, minus the weight, minus
the weight over the capacity, the profit per unit of weight) and keeps the best.  A job no
agent has room for goes to the agent it overloads least, so every job is assigned and the
local search can work on the overload.

Local search: shift (one job to another agent) and swap (two jobs of different agents trade
agents) moves, first improvement, lexicographic in (total capacity excess, objective): a move
that lowers the excess is taken, and one that keeps it and improves the objective.

``gap-ils``: iterated local search (Lourenço, Martin & Stützle, "Iterated local search", 2003):
kick the current solution by moving a few random jobs to random agents, descend, keep the
result when it is no worse than the current one, return to the best after a run of kicks
without progress.

Both stop once the incumbent reaches the LP-relaxation bound (HiGHS; rounded for integer
profits); ``gap-ils`` also stops after ``max_no_improve`` kicks without a better incumbent, or
at ``time_limit``.  The loops are Numba (``cache=True``): each kick scans ``O(n m + n²)`` moves
until none improves, which Python would slow a hundredfold.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from cutslack.api import Run, make_result, register_solver
from cutslack.problems.generalized_assignment import GeneralizedAssignment
from cutslack.result import Status
from cutslack.solvers.bounds import StopRule, gap_lp_bound, reaches_bound
from cutslack.solvers.classical.heuristics._common import kernel_seed, run_chunks, stop_reason

__all__ = ["gap_greedy", "gap_ils", "greedy_assignment", "desirabilities", "complete_by_regret",
           "assignment_local_search"]

_EPS = 1e-9


@njit(cache=True)
def _over(load, cap):
    return load - cap if load > cap + _EPS else 0.0


@njit(cache=True)
def complete_by_regret(agent, load, W, cap, desir):
    """Assign every job with ``agent[j] < 0`` in place: largest regret first among the agents
    with room, then (no room anywhere) to the agent it overloads least; ``load`` follows."""
    m, n = W.shape
    while True:
        pick, pick_agent, pick_regret = -1, -1, -np.inf
        for j in range(n):
            if agent[j] >= 0:
                continue
            b1, b2, a1 = -np.inf, -np.inf, -1
            for i in range(m):
                if load[i] + W[i, j] <= cap[i] + _EPS:
                    d = desir[i, j]
                    if d > b1:
                        b2, b1, a1 = b1, d, i
                    elif d > b2:
                        b2 = d
            if a1 < 0:
                continue
            regret = b1 - b2 if b2 > -np.inf else 1e300
            if regret > pick_regret:
                pick, pick_agent, pick_regret = j, a1, regret
        if pick < 0:
            break
        agent[pick] = pick_agent
        load[pick_agent] += W[pick_agent, pick]
    for j in range(n):
        if agent[j] < 0:
            best, least = 0, np.inf
            for i in range(m):
                excess = load[i] + W[i, j] - cap[i]
                if excess < least:
                    best, least = i, excess
            agent[j] = best
            load[best] += W[best, j]


@njit(cache=True)
def _accept(d_excess, gain):
    return d_excess < -_EPS or (d_excess <= _EPS and gain > _EPS)


@njit(cache=True)
def _shift_pass(agent, load, score, W, cap):
    m, n = W.shape
    improved = False
    for j in range(n):
        a = agent[j]
        drop = _over(load[a] - W[a, j], cap[a]) - _over(load[a], cap[a])
        for i in range(m):
            if i == a:
                continue
            d_excess = drop + _over(load[i] + W[i, j], cap[i]) - _over(load[i], cap[i])
            if _accept(d_excess, score[i, j] - score[a, j]):
                load[a] -= W[a, j]
                load[i] += W[i, j]
                agent[j] = i
                improved = True
                break
    return improved


@njit(cache=True)
def _swap_pass(agent, load, score, W, cap):
    n = W.shape[1]
    improved = False
    for j1 in range(n - 1):
        for j2 in range(j1 + 1, n):
            a1, a2 = agent[j1], agent[j2]
            if a1 == a2:
                continue
            new1 = load[a1] - W[a1, j1] + W[a1, j2]
            new2 = load[a2] - W[a2, j2] + W[a2, j1]
            d_excess = (_over(new1, cap[a1]) + _over(new2, cap[a2]) - _over(load[a1], cap[a1])
                        - _over(load[a2], cap[a2]))
            gain = score[a2, j1] + score[a1, j2] - score[a1, j1] - score[a2, j2]
            if _accept(d_excess, gain):
                load[a1], load[a2] = new1, new2
                agent[j1], agent[j2] = a2, a1
                improved = True
    return improved


@njit(cache=True)
def assignment_local_search(agent, load, score, W, cap):
    """Improve a complete assignment in place by shift and swap moves until none helps
    (lexicographic in capacity excess, then ``score`` maximised)."""
    while True:
        if _shift_pass(agent, load, score, W, cap):
            continue
        if not _swap_pass(agent, load, score, W, cap):
            break


@njit(cache=True)
def _measure(agent, load, score, cap):
    excess, value = 0.0, 0.0
    for i in range(load.shape[0]):
        excess += _over(load[i], cap[i])
    for j in range(agent.shape[0]):
        value += score[agent[j], j]
    return excess, value


@njit(cache=True)
def _better(ex1, v1, ex2, v2):
    return ex1 < ex2 - _EPS or (ex1 <= ex2 + _EPS and v1 > v2 + _EPS)


@njit(cache=True)
def _ils_chunk(best, best_load, cur, cur_load, score, W, cap, n_kicks, kick_max, restart_after, stale, target,
               seed):
    np.random.seed(seed)
    m, n = W.shape
    best_ex, best_val = _measure(best, best_load, score, cap)
    cur_ex, cur_val = _measure(cur, cur_load, score, cap)
    trial = np.empty(n, dtype=np.int64)
    trial_load = np.empty(m)
    kicks = 0
    for _ in range(n_kicks):
        if best_ex <= _EPS and best_val >= target - _EPS:
            break
        kicks += 1
        trial[:] = cur
        trial_load[:] = cur_load
        for _t in range(2 + np.random.randint(kick_max)):
            j = np.random.randint(n)
            i = np.random.randint(m)
            if i != trial[j]:
                trial_load[trial[j]] -= W[trial[j], j]
                trial_load[i] += W[i, j]
                trial[j] = i
        assignment_local_search(trial, trial_load, score, W, cap)
        ex, val = _measure(trial, trial_load, score, cap)
        if _better(ex, val, best_ex, best_val):
            best[:] = trial
            best_load[:] = trial_load
            best_ex, best_val = ex, val
            stale = 0
        else:
            stale += 1
        if not _better(cur_ex, cur_val, ex, val):
            cur[:] = trial
            cur_load[:] = trial_load
            cur_ex, cur_val = ex, val
        if stale > 0 and stale % restart_after == 0:
            cur[:] = best
            cur_load[:] = best_load
            cur_ex, cur_val = best_ex, best_val
    return kicks, stale


def _score(problem: GeneralizedAssignment) -> np.ndarray:
    """The objective coefficients as a maximisation score."""
    P = np.asarray(problem.profits, dtype=float)
    return np.ascontiguousarray(P if problem.sense == "max" else -P)


def desirabilities(problem: GeneralizedAssignment) -> list[np.ndarray]:
    """Return MTHG's desirability matrices: the score, ``-w``, ``-w / c`` and score per weight."""
    score = _score(problem)
    W = np.asarray(problem.weights, dtype=float)
    cap = np.maximum(np.asarray(problem.capacities, dtype=float), 1e-9)
    shifted = score - score.min() + 1.0
    return [score, -W, -W / cap[:, None], shifted / np.maximum(W, 1e-9)]


def _loads(problem: GeneralizedAssignment, agent: np.ndarray) -> np.ndarray:
    load = np.zeros(problem.m)
    done = agent >= 0
    np.add.at(load, agent[done], problem.weights[agent[done], np.flatnonzero(done)])
    return load


def greedy_assignment(problem: GeneralizedAssignment, start=None) -> np.ndarray:
    """Return the best regret-greedy assignment (plus local search) over MTHG's four measures.

    ``start`` (an agent vector, ``-1`` = free) fixes the jobs it assigns before completion.
    Every job is assigned; the result is infeasible only when no completion fitting every
    capacity was found.
    """
    score = _score(problem)
    W = np.ascontiguousarray(problem.weights, dtype=float)
    cap = np.asarray(problem.capacities, dtype=float)
    base = np.full(problem.n, -1, dtype=np.int64) if start is None else np.asarray(start, dtype=np.int64).copy()
    best, best_key = None, None
    for desir in desirabilities(problem):
        agent = base.copy()
        load = _loads(problem, agent)
        complete_by_regret(agent, load, W, cap, np.ascontiguousarray(desir))
        assignment_local_search(agent, load, score, W, cap)
        excess, value = _measure(agent, load, score, cap)
        if best is None or _better(excess, value, *best_key):
            best, best_key = agent, (excess, value)
    return best


@register_solver("gap-greedy", accepts=(GeneralizedAssignment,),
                 description="regret greedy (MTHG) + shift/swap local search")
def gap_greedy(problem: GeneralizedAssignment, *, rng=None, time_limit=None, callback=None):
    """Return the best MTHG regret-greedy assignment after shift/swap local search.

    ``bound`` is the LP relaxation (HiGHS); the status is OPTIMAL when the solution reaches it.
    Deterministic (``rng`` unused).  The answer is infeasible only when the greedy found no
    completion within the capacities.
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    bound = gap_lp_bound(problem, time_limit=run.time_left())
    agent = greedy_assignment(problem)
    status = Status.OPTIMAL if problem.is_feasible(agent) and reaches_bound(problem.evaluate(agent), bound) else None
    return make_result(problem, agent, method="gap-greedy", run=run, status=status,
                       bound=None if bound is None else bound.effective, n_vars=problem.m * problem.n, nit=1,
                       info={"bound_kind": None if bound is None else bound.kind})


@register_solver("gap-ils", accepts=(GeneralizedAssignment,),
                 description="iterated local search (random kicks, shift/swap descent)")
def gap_ils(problem: GeneralizedAssignment, *, rng=None, time_limit=None, callback=None,
            max_no_improve: float | None = None, restart_after: int | None = None, kick_size: int | None = None):
    """Return the best assignment of an iterated local search started from ``gap-greedy``.

    Parameters
    ----------
    max_no_improve : float, optional
        Kicks without a better incumbent before stopping (default ``max(2000, 50 n)``;
        ``float("inf")`` runs to ``time_limit``).
    restart_after : int, optional
        Kicks without a better incumbent before the walk returns to the best (default ``10 + n``).
    kick_size : int, optional
        Largest number of extra jobs a kick moves (each kick moves ``2 + U{0..kick_size-1}``;
        default ``max(2, n // 10)``).

    With a ``time_limit`` the search keeps kicking until the limit unless it proves
    optimality (LP bound reached) or ``max_no_improve`` is set and reached.
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    n, m = problem.n, problem.m
    bound = gap_lp_bound(problem, time_limit=run.time_left())
    score = _score(problem)
    W = np.ascontiguousarray(problem.weights, dtype=float)
    cap = np.asarray(problem.capacities, dtype=float)
    best = greedy_assignment(problem)
    best_load = _loads(problem, best)
    cur, cur_load = best.copy(), best_load.copy()
    sign = 1.0 if problem.sense == "max" else -1.0
    target = np.inf if bound is None else sign * bound.effective
    restart_after = 10 + n if restart_after is None else max(1, int(restart_after))
    kick_max = max(2, n // 10) if kick_size is None else max(1, int(kick_size))
    if max_no_improve is None:
        max_no_improve = np.inf if time_limit is not None else max(2000, 50 * n)
    chunk = max(10, 200_000 // (n * n + n * m))
    state = {"kicks": 0, "stale": 0}

    def incumbent():
        return problem.evaluate(best) if problem.is_feasible(best) else None

    def step() -> bool:
        kicks, state["stale"] = _ils_chunk(best, best_load, cur, cur_load, score, W, cap, chunk, kick_max,
                                           restart_after, state["stale"], target, kernel_seed(run))
        state["kicks"] += kicks
        return kicks == chunk

    def intermediate():
        return make_result(problem, best.copy(), method="gap-ils", run=run, bound=_value(bound), nit=state["kicks"],
                           n_vars=m * n)

    stop = StopRule(bound, max_no_improve, sense=problem.sense)
    run_chunks(run, step, intermediate, incumbent=incumbent, sense=problem.sense, stop=stop, work_per_chunk=chunk)
    value = incumbent()
    status = Status.OPTIMAL if reaches_bound(value, bound) else None
    return make_result(problem, best.copy(), method="gap-ils", run=run, status=status, bound=_value(bound),
                       nit=state["kicks"], n_vars=m * n,
                       info={"kicks": state["kicks"], "bound_kind": None if bound is None else bound.kind,
                             "stop": stop_reason(run, stop)})


def _value(bound):
    return None if bound is None else bound.effective
