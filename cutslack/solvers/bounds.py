"""Cheap valid bounds a heuristic can stop on, and the stopping rule that uses them.

A heuristic that reaches a valid bound has proven its solution optimal and should stop
there instead of running to its time limit.  Each bound here costs far less than the search
it ends:

* knapsack — the exact dynamic-programming value for one integer constraint with a small
  capacity (value row only, O(n·C)), else the LP relaxation (HiGHS), floored for integer
  profits;
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

from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = ["Bound", "cheap_bound", "knapsack_bound", "qap_gilmore_lawler_bound", "mis_clique_cover_bound",
           "tsp_held_karp_bound", "gap_lp_bound", "set_cover_lp_bound", "reaches_bound", "StopRule"]

#: largest n·(C+1) value row the knapsack bound fills by dynamic programming
DP_BOUND_MAX_CELLS = 5_000_000
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


def knapsack_bound(problem) -> Bound:
    """Return the DP value (one integer constraint, small capacity) or the LP-relaxation bound of a knapsack."""
    p = np.asarray(problem.profits, dtype=float)
    integral = _integral(p)
    if problem.m == 1:
        w, cap = problem.weights[0], problem.capacities[0]
        if _integral(w, cap) and problem.n * (cap + 1) <= DP_BOUND_MAX_CELLS:
            best = np.zeros(int(cap) + 1)
            for wj, pj in zip(w.astype(np.int64), p):
                if pj <= 0 or wj > cap:
                    continue
                if wj == 0:
                    best += pj
                else:
                    best[wj:] = np.maximum(best[wj:], best[:-wj] + pj)
            return Bound(float(best[-1]), "dynamic programming (exact)", "max", integral)
    from cutslack.solvers.classical.heuristics.mdkp import lp_relaxation

    return Bound(lp_relaxation(problem)[0], "LP relaxation", "max", integral)


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


def _lp_bound(c, *, A_ub=None, b_ub=None, A_eq=None, b_eq=None, time_limit=None, duals: bool = False):
    """Return the optimum of ``min c'x`` over ``0 <= x <= 1`` and the rows, or None (infeasible, timed out);
    with ``duals`` a pair ``(optimum, inequality duals >= 0)``."""
    from scipy.optimize import linprog

    options = {} if time_limit is None or not np.isfinite(time_limit) else {"time_limit": max(float(time_limit), 1e-3)}
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=(0.0, 1.0), method="highs", options=options)
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


def cheap_bound(problem, **options) -> Bound | None:
    """Return a cheap valid bound for ``problem`` (see the module docstring), or None when none applies."""
    family = getattr(problem, "family", None)
    size = problem.size.get("n", 0) if hasattr(problem, "size") else 0
    if family == "knapsack":
        return knapsack_bound(problem)
    if family == "qap" and size <= GILMORE_LAWLER_MAX_N:
        return qap_gilmore_lawler_bound(problem)
    if family == "mis" and len(problem.nodes) <= CLIQUE_COVER_MAX_N:
        return mis_clique_cover_bound(problem)
    if family == "tsp" and size <= HELD_KARP_MAX_N and problem.symmetric:
        return tsp_held_karp_bound(problem, **options)
    if family == "gap":
        return gap_lp_bound(problem, **options)
    if family == "setcover":
        return set_cover_lp_bound(problem, **options)
    return None


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
