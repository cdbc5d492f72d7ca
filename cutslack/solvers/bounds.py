"""Cheap valid bounds a heuristic can stop on, and the stopping rule that uses them.

A heuristic that reaches a valid bound has proven its solution optimal and should stop
there instead of running to its time limit.  Each bound here costs far less than the search
it ends:

* knapsack — the exact dynamic-programming value for one integer constraint with a small
  capacity (value row only, O(n·C)), else the LP relaxation (Dantzig's bound for one row,
  HiGHS's interior point within the time left for several), floored for integer profits;
* QAP — the Gilmore–Lawler bound (one linear assignment over minimal scalar products);
* MIS — a greedy clique cover (every independent set takes at most one vertex per clique);
* symmetric TSP — the Held–Karp 1-tree bound after a short subgradient ascent;
* generalized assignment and set covering — the LP relaxation (HiGHS through
  :func:`scipy.optimize.linprog`, given the time left as its limit), rounded for integer data.

:func:`cheap_bound` dispatches on the problem's family; :class:`StopRule` turns a bound and a
stagnation budget into a stop decision shared by the heuristics and the sampler-driven
methods.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = ["Bound", "cheap_bound", "knapsack_bound", "knapsack_lp_relaxation", "knapsack_dp_bound",
           "qap_gilmore_lawler_bound", "mis_clique_cover_bound", "tsp_held_karp_bound", "gap_lp_bound",
           "set_cover_lp_bound", "highs_time_options", "reaches_bound", "StopRule", "descending_order", "stagnation_budget"]

#: largest n·(C+1) value row the knapsack bound fills by dynamic programming
DP_BOUND_MAX_CELLS = 5_000_000
#: most items the knapsack DP bound loops over (one NumPy row operation each)
DP_BOUND_MAX_ITEMS = 20_000
#: above this many values :func:`descending_order` sorts by 65,536 logarithmic buckets (O(n))
EXACT_ORDER_MAX_N = 1 << 17
#: largest TSP (cities) whose Held–Karp bound is computed on a dense matrix
HELD_KARP_MAX_N = 200
#: largest QAP whose Gilmore–Lawler bound is computed
GILMORE_LAWLER_MAX_N = 60
#: largest MIS graph (vertices) whose greedy clique cover is computed
CLIQUE_COVER_MAX_N = 5_000


@dataclass(frozen=True)
class Bound:
    """A valid bound in the problem's sense (upper for ``max``, lower for ``min``) and how it was found.

    ``integral`` is True when every feasible objective value is an integer, so the bound may
    be rounded (floored for ``max``, ceiled for ``min``) before comparing.
    """

    value: float
    kind: str
    sense: str
    integral: bool = False

    @property
    def effective(self) -> float:
        """The bound rounded to the nearest achievable value when objectives are integral."""
        if not self.integral:
            return self.value
        return float(np.floor(self.value + 1e-6)) if self.sense == "max" else float(np.ceil(self.value - 1e-6))


def reaches_bound(value: float | None, bound: Bound | None, *, rtol: float = 1e-9) -> bool:
    """Return True when ``value`` (feasible) is at least as good as ``bound`` (so it is optimal)."""
    if value is None or bound is None or not np.isfinite(bound.value):
        return False
    tol = rtol * max(1.0, abs(bound.value))
    return value >= bound.effective - tol if bound.sense == "max" else value <= bound.effective + tol


def _integral(*arrays) -> bool:
    return all(np.all(np.asarray(a) == np.round(np.asarray(a))) for a in arrays)


def knapsack_lp_relaxation(problem, time_limit: float | None = None):
    """Return ``(bound, duals)``: an upper bound on the LP relaxation of a knapsack and row duals (>= 0).

    One row: Dantzig's bound (items by profit/weight, the critical item taken fractionally),
    exact for the LP, its dual the critical ratio; O(n log n), no solver.  Several rows: HiGHS's
    interior-point method (``highspy``, it honours ``time_limit`` seconds) gives the duals ``u``
    and the bound is the Lagrangian value ``u'c + sum_j max(0, p_j - u'W_j)``, valid for any
    ``u >= 0`` (equal to the LP optimum at the optimal duals).  When HiGHS stops on the limit,
    the smaller of that value and the best single-row Dantzig bound is returned.
    """
    p = np.asarray(problem.profits, dtype=float)
    W = np.asarray(problem.weights, dtype=float)
    cap = np.asarray(problem.capacities, dtype=float)
    if problem.m == 0:  # no rows: every item with a positive profit fits
        return float(np.maximum(p, 0.0).sum()), np.zeros(0)
    candidates = []
    if problem.m > 1:
        duals, optimal = _highs_lp_duals(p, W, cap, time_limit)
        if duals is not None:
            candidates.append((float(duals @ cap + np.maximum(p - duals @ W, 0.0).sum()), duals))
            if optimal:
                return candidates[0]
    for i in range(problem.m):
        value, critical = _dantzig(p, W[i], cap[i])
        duals = np.zeros(problem.m)
        duals[i] = critical
        candidates.append((value, duals))
    return min(candidates, key=lambda pair: pair[0])


def descending_order(values) -> np.ndarray:
    """Return the indices that order ``values`` from largest to smallest (ties by index).

    Exact (a stable sort) up to :data:`EXACT_ORDER_MAX_N` values; beyond, by 65,536 buckets of
    ``sign(v) log(1 + |v|)`` (a radix sort, O(n): a float sort of 10^7 values takes seconds),
    so values closer than a bucket may come out of order.  Infinite values go first or last.
    """
    v = np.asarray(values, dtype=float)
    if v.shape[0] <= EXACT_ORDER_MAX_N:
        return np.argsort(-v, kind="stable")
    finite = np.isfinite(v)
    every = bool(finite.all())
    t = np.log1p(np.abs(v if every else np.where(finite, v, 0.0)))
    t *= np.sign(v if every else np.where(finite, v, 0.0))
    lo, hi = (float(t[finite].min()), float(t[finite].max())) if finite.any() else (0.0, 0.0)
    # finite values in buckets 1..65534 (largest first); +inf in 0, -inf and NaN in 65535
    key = 1.0 + (hi - t) * (65533.0 / (hi - lo)) if hi > lo else np.ones_like(t)
    if not every:
        key = np.where(finite, key, np.where(v == np.inf, 0.0, 65535.0))
    key = key.astype(np.uint16)
    return np.argsort(key, kind="stable")


def _dantzig(p: np.ndarray, w: np.ndarray, cap: float) -> tuple[float, float]:
    # the LP optimum of one row: weightless positive items in full, the others by ratio until
    # the critical one (its ratio u), which fills the rest of the capacity.  The value returned
    # is the Lagrangian bound u cap + sum max(0, p - u w): the LP optimum when the order is
    # exact, and still a valid bound when descending_order buckets a huge row
    free = p > 0
    use = free & (w > 0)
    if not use.all():   # (masks copy; a huge row usually needs none)
        p, w = p[free], w[free]
        ratio = p[w > 0] / w[w > 0]
        w_use = w[w > 0]
    else:
        ratio, w_use = p / w, w
    order = descending_order(ratio)
    loads = np.cumsum(w_use[order])
    k = int(np.searchsorted(loads, cap, side="right"))
    if k >= order.shape[0]:
        return float(p.sum()), 0.0
    critical = float(ratio[order[k]])
    return float(critical * cap + np.maximum(p - critical * w, 0.0).sum()), critical


def _highs_lp_duals(p, W, cap, time_limit):
    # max p'x, W x <= cap, 0 <= x <= 1 as min -p'x by HiGHS's interior-point method (which,
    # unlike its simplex on wide LPs, stops on time); returns (row duals >= 0 or None, optimal)
    import highspy
    from cutslack.models.files import silent_highs

    m, n = W.shape
    h = silent_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("solver", "ipm")
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 1e-3))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_ = -p
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.full(m, -highspy.kHighsInf), cap.astype(float)
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kRowwise
    nz = W != 0
    matrix.start_ = np.concatenate([[0], np.cumsum(nz.sum(axis=1))]).astype(np.int32)
    matrix.index_ = np.nonzero(nz)[1].astype(np.int32)
    matrix.value_ = W[nz]
    h.passModel(lp)
    h.run()
    duals = np.asarray(h.getSolution().row_dual, dtype=float)
    if duals.shape != (m,) or not np.all(np.isfinite(duals)):
        return None, False
    return np.maximum(-duals, 0.0), h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def knapsack_dp_bound(problem, deadline: float | None = None) -> Bound | None:
    """Return the exact DP value of a one-row knapsack with integer data and a small table, else None.

    None too when ``deadline`` (a ``time.perf_counter()`` value) passes while filling the row.
    """
    if problem.m != 1:
        return None
    p = np.asarray(problem.profits, dtype=float)
    w, cap = problem.weights[0], problem.capacities[0]
    if not (_integral(w, cap) and problem.n * (cap + 1) <= DP_BOUND_MAX_CELLS and problem.n <= DP_BOUND_MAX_ITEMS):
        return None
    best = np.zeros(int(cap) + 1)
    for j, (wj, pj) in enumerate(zip(w.astype(np.int64), p)):
        if deadline is not None and j % 256 == 0 and time.perf_counter() > deadline:
            return None
        if pj <= 0 or wj > cap:
            continue
        if wj == 0:
            best += pj
        else:
            best[wj:] = np.maximum(best[wj:], best[:-wj] + pj)
    return Bound(float(best[-1]), "dynamic programming (exact)", "max", _integral(p))


def knapsack_bound(problem, time_limit: float | None = None) -> Bound:
    """Return the DP value (one integer constraint, small table) or the LP-relaxation bound of a knapsack.

    ``time_limit`` (seconds) caps the DP and the LP solve; past it the bound is a weaker valid one.
    """
    deadline = None if time_limit is None else time.perf_counter() + float(time_limit)
    exact = knapsack_dp_bound(problem, deadline)
    if exact is not None:
        return exact
    left = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
    return Bound(knapsack_lp_relaxation(problem, left)[0], "LP relaxation", "max", _integral(problem.profits))


def qap_gilmore_lawler_bound(problem) -> Bound:
    """Return the Gilmore–Lawler lower bound of a QAP (``sum F[i,j] D[p_i,p_j]``).

    Facility ``i`` at location ``k`` costs at least ``F[i,i] D[k,k]`` plus the minimal scalar
    product of row ``i`` of ``F`` and row ``k`` of ``D`` without their diagonals
    (rearrangement inequality); a linear assignment over those costs bounds the whole.
    """
    from scipy.optimize import linear_sum_assignment

    F, D = np.asarray(problem.flow, dtype=float), np.asarray(problem.distance, dtype=float)
    n = F.shape[0]
    if n <= 1:
        return Bound(float(F.sum() * D.sum()), "Gilmore-Lawler", "min", _integral(F, D))
    off = ~np.eye(n, dtype=bool)
    F_rows = np.sort(F[off].reshape(n, n - 1), axis=1)
    D_rows = -np.sort(-D[off].reshape(n, n - 1), axis=1)
    cost = np.outer(np.diag(F), np.diag(D)) + F_rows @ D_rows.T
    rows, cols = linear_sum_assignment(cost)
    return Bound(float(cost[rows, cols].sum()), "Gilmore-Lawler", "min", _integral(F, D))


def mis_clique_cover_bound(problem) -> Bound:
    """Return the greedy clique-cover bound of a maximum (weighted) independent set.

    Vertices, heaviest first, join the first clique they are adjacent to in full (bit masks
    as Python integers); an independent set holds at most one vertex of each clique, so the
    sum of each clique's heaviest weight bounds it.
    """
    w = np.asarray(problem.weights, dtype=float)
    n = w.shape[0]
    neighbours = [0] * n
    for a, b in np.asarray(problem.edges, dtype=np.int64).reshape(-1, 2):
        neighbours[a] |= 1 << int(b)
        neighbours[b] |= 1 << int(a)
    cliques: list[list[int]] = []   # [member mask, common-neighbour mask, heaviest weight]
    for v in np.argsort(-w, kind="stable"):
        v = int(v)
        for clique in cliques:
            if clique[1] >> v & 1:
                clique[0] |= 1 << v
                clique[1] &= neighbours[v]
                break
        else:
            cliques.append([1 << v, neighbours[v], float(w[v])])
    return Bound(float(sum(c[2] for c in cliques)), f"clique cover ({len(cliques)} cliques)", "max", _integral(w))


def tsp_held_karp_bound(problem, upper: float | None = None, iterations: int = 100) -> Bound:
    """Return the Held–Karp 1-tree lower bound of a symmetric TSP after a subgradient ascent.

    Node potentials ``pi`` shift every edge ``(i, j)`` by ``pi_i + pi_j``; the minimum 1-tree
    under the shifted costs minus ``2 sum(pi)`` bounds every tour.  ``iterations`` Polyak steps
    towards ``upper`` (a tour length; default the nearest-neighbour tour's) raise it.
    """
    D = np.asarray(problem.distance_matrix(), dtype=float)
    n = D.shape[0]
    integral = _integral(D)
    if n < 3:
        return Bound(float(D.sum()), "Held-Karp 1-tree", "min", integral)
    if upper is None:
        upper = _nearest_neighbour_length(D)
    pi = np.zeros(n)
    best = -np.inf
    step_scale = 2.0
    stale = 0
    for _ in range(int(iterations)):
        W = D + pi[:, None] + pi[None, :]
        length, degree = _prim_tree(W)
        two = np.argpartition(W[0, 1:], 1)[:2] + 1
        length += float(W[0, two].sum())
        degree[0] = 2
        degree[two] += 1
        value = length - 2.0 * pi.sum()
        if not np.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 5:
                step_scale, stale = step_scale / 2.0, 0
        g = degree - 2.0
        norm = float(g @ g)
        if norm == 0.0 or step_scale < 1e-4:
            break   # the 1-tree is a tour: the bound is exact
        pi += step_scale * max(upper - value, 1e-9 * max(1.0, abs(upper))) / norm * g
    return Bound(float(best), "Held-Karp 1-tree", "min", integral)


@njit(cache=True)
def _prim_tree(W):
    """Return the length of a minimum spanning tree on cities 1..n-1 of the dense matrix ``W`` and the degrees.

    Prim's algorithm in O(n²), compiled with Numba: the Held–Karp ascent calls it a hundred
    times per bound, where a sparse-graph library's per-call overhead would dominate.
    """
    n = W.shape[0]
    degree = np.zeros(n)
    in_tree = np.zeros(n, dtype=np.bool_)
    in_tree[0] = True   # city 0 is left out of the tree (it closes the 1-tree)
    in_tree[1] = True
    dist = np.full(n, np.inf)
    parent = np.ones(n, dtype=np.int64)
    for j in range(2, n):
        dist[j] = W[1, j]
    total = 0.0
    for _ in range(n - 2):
        v = -1
        best = np.inf
        for j in range(n):
            if not in_tree[j] and dist[j] < best:
                best, v = dist[j], j
        total += best
        degree[v] += 1
        degree[parent[v]] += 1
        in_tree[v] = True
        for j in range(n):
            if not in_tree[j] and W[v, j] < dist[j]:
                dist[j] = W[v, j]
                parent[j] = v
    return total, degree


def _nearest_neighbour_length(D: np.ndarray) -> float:
    n = D.shape[0]
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    city, total = 0, 0.0
    for _ in range(n - 1):
        row = np.where(seen, np.inf, D[city])
        nxt = int(np.argmin(row))
        total += D[city, nxt]
        seen[nxt] = True
        city = nxt
    return float(total + D[city, 0])


def highs_time_options(time_limit: float | None) -> dict:
    """Return the :func:`scipy.optimize.linprog` options giving HiGHS ``time_limit`` seconds (none: no limit)."""
    if time_limit is None or not np.isfinite(time_limit):
        return {}
    # HiGHS's dual simplex overran its limit several-fold on a 10^5-column LP; the interior-point
    # method checks the clock between iterations
    return {"options": {"time_limit": max(float(time_limit), 1e-3)}, "method": "highs-ipm"}


def _lp_bound(c, *, A_ub=None, b_ub=None, A_eq=None, b_eq=None, time_limit=None, duals: bool = False):
    """Return the optimum of ``min c'x`` over ``0 <= x <= 1`` and the rows, or None (infeasible, timed out);
    with ``duals`` a pair ``(optimum, inequality duals >= 0)``."""
    from scipy.optimize import linprog

    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=(0.0, 1.0),
                  **{"method": "highs", **highs_time_options(time_limit)})
    value = float(res.fun) if res.status == 0 else None
    if not duals:
        return value
    return value, (None if value is None else np.maximum(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0))


def gap_lp_bound(problem, time_limit: float | None = None) -> Bound | None:
    """Return the LP-relaxation bound of a generalized assignment (None when the LP is infeasible or timed out).

    An infeasible LP proves the GAP infeasible; the heuristics then have no bound to stop on.
    """
    program = problem.to_binary()
    sign = -1.0 if problem.sense == "max" else 1.0
    value = _lp_bound(sign * program.c, A_ub=program.A_le, b_ub=program.b_le, A_eq=program.A_eq, b_eq=program.b_eq,
                      time_limit=time_limit)
    if value is None:
        return None
    return Bound(sign * value, "LP relaxation", problem.sense, _integral(problem.profits))


def set_cover_lp_bound(problem, time_limit: float | None = None, *, duals: bool = False):
    """Return the LP-relaxation lower bound of a set cover (None when HiGHS ran out of time).

    With ``duals=True`` return ``(bound, row duals)`` (the duals price each row; None with the bound).
    """
    value, prices = _lp_bound(np.asarray(problem.costs, dtype=float), A_ub=-problem.cover, b_ub=-np.ones(problem.m),
                              time_limit=time_limit, duals=True)
    bound = None if value is None else Bound(value, "LP relaxation", "min", _integral(problem.costs))
    return (bound, prices) if duals else bound


def cheap_bound(problem, *, time_limit: float | None = None, **options) -> Bound | None:
    """Return a cheap valid bound for ``problem`` (see the module docstring), or None when none applies.

    ``time_limit`` (seconds) caps the knapsack bound's DP and LP (a weaker valid bound past it).
    """
    family = getattr(problem, "family", None)
    size = problem.size.get("n", 0) if hasattr(problem, "size") else 0
    if family == "knapsack":
        return knapsack_bound(problem, time_limit)
    if family == "qap" and size <= GILMORE_LAWLER_MAX_N:
        return qap_gilmore_lawler_bound(problem)
    if family == "mis" and len(problem.nodes) <= CLIQUE_COVER_MAX_N:
        return mis_clique_cover_bound(problem)
    if family == "tsp" and size <= HELD_KARP_MAX_N and problem.symmetric:
        return tsp_held_karp_bound(problem, **options)
    if family == "gap":
        return gap_lp_bound(problem, time_limit)
    if family == "setcover":
        return set_cover_lp_bound(problem, time_limit)
    return None


def stagnation_budget(max_no_improve: float | None, default: float, time_limit: float | None) -> float:
    """Return how much work without a better incumbent ends a search (``inf``: never).

    The one rule every improving search follows: a budget the user sets (``max_no_improve``)
    always applies; otherwise ``default`` applies only when there is no ``time_limit``, since
    a search given time keeps searching (restarts, perturbations) until the limit or a bound.

    >>> stagnation_budget(None, 100, None), stagnation_budget(None, 100, 5.0), stagnation_budget(7, 100, 5.0)
    (100.0, inf, 7.0)
    """
    if max_no_improve is not None:
        return float(max_no_improve)
    return float(default) if time_limit is None else float("inf")


class StopRule:
    """Decide when an improving search is done: its incumbent reached a valid bound, or stagnated.

    Parameters
    ----------
    bound : Bound or None
        Reaching it proves optimality (``reason == "bound"``).
    max_no_improve : int, float or None
        Work units (iterations, kicks, rounds) without a better incumbent before stopping;
        None or ``inf`` never stops on stagnation.

    >>> rule = StopRule(Bound(10.0, "trivial", "max"), max_no_improve=3)
    >>> rule.update(8.0, work=2), rule.update(8.0, work=2), rule.reason
    (False, True, 'stagnation')
    >>> StopRule(Bound(10.0, "trivial", "max")).update(10.0)
    True
    """

    def __init__(self, bound: Bound | None = None, max_no_improve: float | None = None, sense: str | None = None):
        self.bound = bound
        self.max_no_improve = np.inf if max_no_improve is None else float(max_no_improve)
        self.sense = sense or (bound.sense if bound is not None else "min")
        self.best: float | None = None
        self.stale = 0.0
        self.reason: str | None = None

    @property
    def optimal(self) -> bool:
        return self.reason == "bound"

    def update(self, value: float | None, work: float = 1) -> bool:
        """Feed the incumbent after ``work`` more units; return True when the search should stop."""
        better = value is not None and (self.best is None or (value > self.best + 1e-12 * max(1.0, abs(self.best))
                                                              if self.sense == "max" else
                                                              value < self.best - 1e-12 * max(1.0, abs(self.best))))
        if better:
            self.best, self.stale = float(value), 0.0
        else:
            self.stale += work
        if reaches_bound(self.best, self.bound):
            self.reason = "bound"
        elif self.stale >= self.max_no_improve:
            self.reason = "stagnation"
        return self.reason is not None
