"""Multi-dimensional knapsack heuristics: LP-guided greedy (``mdkp-greedy``) and a tabu search
with strategic oscillation across the feasibility boundary (``mdkp-tabu``).

The LP relaxation (:func:`~cutslack.solvers.bounds.knapsack_lp_relaxation`: Dantzig's bound for
one row, HiGHS within the remaining time for several), gives
surrogate multipliers ``u`` (its duals) and a proven upper bound.  Items are ranked by the
pseudo-utility ``p_j / (u' W_j)`` (Pirkul; Chu & Beasley); the greedy fills by that rank.
The tabu search flips one item per iteration, the best non-tabu flip under the penalised
profit ``p'x - sum_i lambda_i * overload_i``, so it may step into infeasible solutions.
Each row's penalty ``lambda_i`` starts at its LP dual and adapts every iteration (x1.1 while
the row is overloaded, /1.1 down to a floor while it fits), so the search oscillates around
the boundary (Glover & Kochenberger).  Every infeasible point is repaired on a copy (drop the
least useful items until all rows fit, refill by utility) as a candidate best.  A flipped
item stays tabu for a random tenure (aspiration: a tabu flip giving a feasible new best).
A stagnating search restarts, half the time from a greedy fill in a randomly perturbed
utility order, else from the best with a few random items dropped.

With integer profits a solution whose profit reaches ``floor(LP bound)`` is proven optimal
and the search stops there.  The search loop is Numba (``cache=True``): each iteration scans
every flip against every row and repairs a copy, which Python would slow a hundredfold.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from cutslack.api import Run, make_result, register_solver
from cutslack.errors import InvalidInstanceError
from cutslack.problems.knapsack import Knapsack
from cutslack.result import Status
from cutslack.solvers.bounds import (Bound, StopRule, descending_order, knapsack_dp_bound, knapsack_lp_relaxation,
                                     reaches_bound, stagnation_budget)
from cutslack.solvers.classical.heuristics._common import kernel_seed, run_chunks, stop_reason

__all__ = ["mdkp_greedy", "mdkp_tabu"]


def _utility(problem: Knapsack, duals: np.ndarray) -> np.ndarray:
    # pseudo-utility with the LP duals as surrogate multipliers; a small weight on every
    # constraint (scaled by capacity) keeps items that only load non-binding rows ordered
    scale = 1e-6 / np.maximum(problem.capacities, 1.0)
    load = (duals + scale) @ problem.weights
    return problem.profits / np.maximum(load, 1e-300)


@njit(cache=True)
def _fill(W, p, x, slack, order):
    # add items in `order` while they fit
    m = W.shape[0]
    for j in order:
        if x[j] == 0:
            fits = True
            for i in range(m):
                if W[i, j] > slack[i] + 1e-9:
                    fits = False
                    break
            if fits:
                x[j] = 1
                for i in range(m):
                    slack[i] -= W[i, j]


@njit(cache=True)
def _set_slack(W, cap, x, slack):
    m, n = W.shape
    for i in range(m):
        used = 0.0
        for j in range(n):
            used += W[i, j] * x[j]
        slack[i] = cap[i] - used


@njit(cache=True)
def _repaired(W, p, x, slack, order, out, out_slack):
    # copy x into out, drop the least useful items until every row fits, then add the most
    # useful ones that still fit; return the profit of the repaired copy
    n = x.shape[0]
    m = W.shape[0]
    out[:] = x
    out_slack[:] = slack
    for k in range(n - 1, -1, -1):
        feasible = True
        for i in range(m):
            if out_slack[i] < -1e-9:
                feasible = False
                break
        if feasible:
            break
        a = order[k]
        if out[a] == 1:
            out[a] = 0
            for i in range(m):
                out_slack[i] += W[i, a]
    _fill(W, p, out, out_slack, order)
    value = 0.0
    for j in range(n):
        value += p[j] * out[j]
    return value


@njit(cache=True)
def _tabu_chunk(W, p, cap, x, slack, penalty, penalty_floor, tabu, order, utility, best, best_value, it, n_iter, tenure_min,
                tenure_max, restart_after, stale, target, seed):
    np.random.seed(seed)
    m, n = W.shape
    repaired = np.zeros(n, dtype=np.int64)
    repaired_slack = np.zeros(m)
    value = 0.0
    for j in range(n):
        value += p[j] * x[j]
    for _ in range(n_iter):
        it += 1
        stale += 1
        # best non-tabu flip under the penalised profit  p'x - sum_i penalty_i * overload_i;
        # a tabu flip is taken when it gives a feasible new best (aspiration)
        flip = -1
        flip_gain = -np.inf
        start = np.random.randint(n)
        for k in range(n):
            j = (start + k) % n
            sign = 1.0 - 2.0 * x[j]
            penalty_change = 0.0
            feasible_after = True
            for i in range(m):
                after = slack[i] - sign * W[i, j]
                if after < -1e-9:
                    feasible_after = False
                    penalty_change -= penalty[i] * after
                if slack[i] < -1e-9:
                    penalty_change += penalty[i] * slack[i]
            if tabu[j] >= it and not (feasible_after and value + sign * p[j] > best_value + 1e-9):
                continue
            gain = sign * p[j] - penalty_change
            if gain > flip_gain:
                flip, flip_gain = j, gain
        if flip >= 0:
            sign = 1.0 - 2.0 * x[flip]
            x[flip] = 1 - x[flip]
            value += sign * p[flip]
            feasible = True
            for i in range(m):
                slack[i] -= sign * W[i, flip]
                if slack[i] < -1e-9:
                    feasible = False
            tabu[flip] = it + tenure_min + np.random.randint(tenure_max - tenure_min + 1)
            if feasible:
                if value > best_value + 1e-9:
                    best_value = value
                    best[:] = x
                    stale = 0
            elif _repaired(W, p, x, slack, order, repaired, repaired_slack) > best_value + 1e-9:
                best_value = 0.0
                for j in range(n):
                    best_value += p[j] * repaired[j]
                best[:] = repaired
                stale = 0
            if best_value >= target - 1e-9:
                break
            # strategic oscillation: an overloaded row gets dearer, a slack one cheaper
            for i in range(m):
                if slack[i] < -1e-9:
                    penalty[i] *= 1.1
                else:
                    penalty[i] = max(penalty_floor[i], penalty[i] / 1.1)
        if stale >= restart_after:
            # restart, half the time from a fresh greedy fill in a noisy utility order (a
            # randomly perturbed surrogate), else from the best with a few random items
            # dropped (and kept out a while)
            stale = 0
            if np.random.random() < 0.5:
                x[:] = 0
                _set_slack(W, cap, x, slack)
                noisy = np.empty(n)
                for j in range(n):
                    noisy[j] = -utility[j] * np.exp(0.5 * np.random.standard_normal())
                _fill(W, p, x, slack, np.argsort(noisy))
            else:
                x[:] = best
                inside = np.flatnonzero(x)
                n_drop = 2 + np.random.randint(max(2, inside.shape[0] // 3))
                for _ in range(min(inside.shape[0], n_drop)):
                    a = inside[np.random.randint(inside.shape[0])]
                    x[a] = 0
                    tabu[a] = it + tenure_max
                _set_slack(W, cap, x, slack)
            value = 0.0
            for j in range(n):
                value += p[j] * x[j]
    return best_value, it, stale


def _prepare(problem: Knapsack, run: Run):
    # the LP gets half of what is left of the time limit (the search needs the rest); the
    # greedy fill is one O(n m) pass after a sort
    bound, duals = knapsack_lp_relaxation(problem, None if run.deadline is None else 0.5 * run.time_left())
    utility = _utility(problem, duals)
    order = descending_order(utility).astype(np.int64)
    W = np.ascontiguousarray(problem.weights, dtype=float)
    x = np.zeros(problem.n, dtype=np.int64)
    slack = np.array(problem.capacities, dtype=float)
    _fill(W, np.asarray(problem.profits, dtype=float), x, slack, order)
    return bound, order, W, x, slack, duals, utility


def _best_bound(problem: Knapsack, lp_bound: float, run: Run) -> Bound:
    # the DP value where one small integer constraint allows it (and the deadline does not
    # come first), else the (floored) LP bound
    cheap = knapsack_dp_bound(problem, run.deadline)
    if cheap is not None and cheap.value <= lp_bound + 1e-9:
        return cheap
    return Bound(lp_bound, "LP relaxation", "max", bool(np.all(problem.profits == np.round(problem.profits))))



def _warm_up(problem=None) -> None:
    """Compile (or load from Numba's cache) the knapsack kernels before the caller's clock.

    Three items of weight 2 in two rows of capacity 3: the LP bound (3) exceeds the optimum (2),
    so no bound ends the tabu search before its kernel ran.
    """
    weights = np.full((2, 3), 2.0)
    mdkp_tabu(Knapsack(np.full(3, 2.0), weights, np.full(2, 3.0)), rng=0, max_iter=200)


@register_solver("mdkp-greedy", accepts=(Knapsack,), warmup=_warm_up, description="greedy by LP pseudo-utility")
def mdkp_greedy(problem: Knapsack, *, rng=None, time_limit=None, callback=None):
    """Return the greedy solution by pseudo-utility ``p_j / (u' W_j)`` (u: LP duals); the LP value is the bound."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    lp_bound, _, _, x, _, _, _ = _prepare(problem, run)
    bound = _best_bound(problem, lp_bound, run)
    status = Status.OPTIMAL if reaches_bound(float(problem.evaluate(x)), bound) else None
    return make_result(problem, x, method="mdkp-greedy", run=run, status=status, bound=bound.effective, n_vars=problem.n,
                       nit=1, info={"bound_kind": bound.kind})


@register_solver("mdkp-tabu", accepts=(Knapsack,), warmup=_warm_up,
                 description="tabu search with strategic oscillation")
def mdkp_tabu(problem: Knapsack, *, rng=None, time_limit=None, callback=None, initial=None,
              max_iter: int | None = None, restart_after: int | None = None, target: float | None = None,
              max_no_improve: float | None = None):
    """Return the best solution of an LP-guided tabu search that oscillates across feasibility.

    Parameters
    ----------
    initial : 0/1 vector, optional
        A feasible start (default: the LP pseudo-utility greedy).
    max_iter : int, optional
        Tabu iterations (default ``max(20000, 200 n)`` without a time limit, unlimited with one).
    restart_after : int, optional
        Iterations without a new best before restarting from a perturbed best (default ``50 + 5 n``).
    target : float, optional
        Stop once a solution of at least this profit is found.
    max_no_improve : int, optional
        Stop after this many iterations without a better solution.  Default: ``max(20000, 200 n)``
        without a time limit; with one, never (restarts and oscillation run until the limit).

    ``bound`` is the exact DP value (one integer constraint, small capacity) or the LP
    relaxation; the status is OPTIMAL when the best solution reaches it (floored for integer
    profits), else FEASIBLE, TIME_LIMIT or STOPPED (:class:`cutslack.result.Status`).  With a
    ``time_limit`` the search uses all of it unless the bound is reached or ``max_no_improve``
    is set.
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    n = problem.n
    lp_bound, order, W, x, slack, duals, utility = _prepare(problem, run)
    bound = _best_bound(problem, lp_bound, run)
    p = np.asarray(problem.profits, dtype=float)
    cap = np.asarray(problem.capacities, dtype=float)
    if initial is not None:
        x0 = np.asarray(initial).reshape(-1)
        if x0.shape != (n,) or np.any((x0 != 0) & (x0 != 1)) or not problem.is_feasible(x0):
            raise InvalidInstanceError("initial", "must be a feasible 0/1 vector")
        x[:] = x0
        _set_slack(W, cap, x, slack)
    proven = bound.effective
    stop_at = min(proven, np.inf if target is None else float(target))
    if max_iter is None and time_limit is None:
        max_iter = max(20_000, 200 * n)
    restart_after = 50 + 5 * n if restart_after is None else int(restart_after)
    # about 10^6 flip evaluations per compiled call (one iteration at least, on huge instances)
    chunk = max(1, 1_000_000 // (n * (problem.m + 1)))
    # penalties start at the LP duals (profit per unit of capacity); the floor keeps a
    # non-binding row priced at a thousandth of an average item's profit per unit weight
    penalty_floor = 1e-3 * max(float(np.mean(p)), 1e-9) / np.maximum(W.mean(axis=1), 1e-9)
    penalty = np.maximum(duals, penalty_floor)
    tabu = np.zeros(n, dtype=np.int64)
    best = x.copy()
    state = {"best": float(p @ x), "it": 0, "stale": 0}

    def step() -> bool:
        # nothing to do once reached, or when the LP and the greedy used the whole limit (a
        # tabu iteration on 10^7 items takes a good fraction of a second)
        if state["best"] >= stop_at - 1e-9 or run.expired():
            return False
        state["best"], state["it"], state["stale"] = _tabu_chunk(
            W, p, cap, x, slack, penalty, penalty_floor, tabu, order, utility, best, state["best"], state["it"], chunk, 3,
            max(6, n // 10), restart_after, state["stale"], stop_at, kernel_seed(run))
        return state["best"] < stop_at - 1e-9 and (max_iter is None or state["it"] < max_iter)

    def intermediate():
        return make_result(problem, best.copy(), method="mdkp-tabu", run=run, bound=bound.effective, nit=state["it"],
                           n_vars=n)

    stop = StopRule(bound, stagnation_budget(max_no_improve, max(20_000, 200 * n), time_limit))
    run_chunks(run, step, intermediate, incumbent=lambda: state["best"], sense="max", stop=stop, work_per_chunk=chunk)
    status = Status.OPTIMAL if reaches_bound(state["best"], bound) else None
    return make_result(problem, best.copy(), method="mdkp-tabu", run=run, status=status, bound=bound.effective,
                       nit=state["it"], n_vars=n, info={"iterations": state["it"], "lp_bound": lp_bound,
                                                        "bound_kind": bound.kind, "stop": stop_reason(run, stop)})
