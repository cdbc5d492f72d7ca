"""Exact branch-and-price (``method="branch_and_price"``) for the two-stage robust knapsack.

Arslan & Detienne ("Decomposition-based approaches for a class of two-stage robust binary
optimization problems", INFORMS J. Computing 34(2), 2022, Sections 2-3) observe that with the
uncertainty only in the objective the inner ``min_ξ max_{(y, r)}`` may be taken over the convex
hull of the second-stage solutions (minimax theorem), and that the budgeted ``min_ξ`` of a fixed
convex combination can then be dualised.  Our own implementation of that reformulation: with a
column ``k`` per second-stage solution ``(y^k, r^k)`` (``Σ c y + t r <= C``), ``F_k = Σ f y^k``,
``K^k = y^k - r^k`` (produced, not repaired)::

    max  Σ (p̄ - f) x + Σ_k F_k λ_k - Γ α - Σ_i β_i
    s.t. Σ_k λ_k = 1                                   (convexity, dual σ)
         Σ_k y^k_i λ_k <= x_i                          (item i produced only if picked, dual μ_i)
         p̂_i Σ_k K^k_i λ_k <= α + β_i                  (dual of the budgeted adversary, dual π_i)
         x ∈ {0, 1}^n,  λ, α, β >= 0.

For a 0/1 ``x`` its LP optimum over ``(λ, α, β)`` is exactly the worst-case profit of ``x``, so
the LP relaxation (``x ∈ [0, 1]``) is an upper bound.  Columns are priced by the second stage's
own multiple-choice knapsack (:func:`cutslack.problems._robust_kernels.multiple_choice_knapsack_dp`,
or the HiGHS MILP for fractional weights) with the profits ``f_i - μ_i - p̂_i π_i`` (keep)
and ``f_i - μ_i`` (keep and repair): the duals ``π`` play the adversary's ``ξ``.  We branch on
the ``x_i`` of largest fractionality × (``f_i - p̄_i + p̂_i``) (best-bound node order, one
HiGHS LP kept and warm-started across nodes; the column pool is global, branching ``x_i = 0``
removes item ``i`` from pricing), as the paper's branch-and-price branches on the first stage, and
stop a node's column generation early when its Lagrangian bound (LP value plus the largest
reduced cost, valid thanks to the convexity row) falls to the incumbent.  Incumbents come from
integral node LPs, from rounding the node LP's ``x`` and from the root's restricted master solved
as a MIP (price-and-branch); each is scored by the exact worst case
(:func:`cutslack.problems.robust.worst_case_profit`).
"""

from __future__ import annotations

import heapq
import itertools

import numpy as np

from cutslack.api import Run, make_result, register_solver
from cutslack.errors import BackendUnavailableError, SolverError
from cutslack.problems.robust import (TwoStageRobustKnapsack, _integral_weights, _multiple_choice_knapsack,
                                      _second_stage_milp, worst_case_profit)
from cutslack.result import Result, Status

__all__ = ["solve_branch_and_price", "RobustKnapsackMaster"]

#: x_i within this of 0 or 1 counts as integral
INTEGRALITY_TOLERANCE = 1e-6
#: the rounded node LP's x is scored (exact worst case, ~30 ms at n = 20) at the first this
#: many nodes, then at every this-many-th node (scoring every node took a third of the time)
ROUNDING_NODES = 10
#: most seconds for the root's restricted master MIP (well under a second at n = 20)
ROOT_MIP_SECONDS = 5.0
#: a column prices out when its reduced cost exceeds this times max(1, |LP value|)
PRICING_TOLERANCE = 1e-9


class RobustKnapsackMaster:
    """The restricted master LP of the reformulation (one HiGHS model, columns added in place).

    Variables: ``x`` (``0..n-1``), ``α`` (``n``), ``β`` (``n+1..2n``), then one ``λ`` per column.
    Rows: convexity (``0``), linking (``1..n``), robustness (``n+1..2n``).  HiGHS minimises the
    negated objective; :meth:`solve` returns the maximisation value.
    """

    def __init__(self, problem: TwoStageRobustKnapsack, *, seed: int = 0):
        try:
            import highspy
            from cutslack.models.files import silent_highs
        except ImportError:  # pragma: no cover - highspy is a core dependency
            raise BackendUnavailableError("the HiGHS solver (highspy)", "pip install highspy") from None
        self.highspy = highspy
        self.problem = p = problem
        n = self.n = problem.n
        h = self.highs = silent_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", int(seed))
        h.setOptionValue("presolve", "off")    # re-solves start from the last basis
        inf = highspy.kHighsInf
        gain = p.profits - p.outsourcing_costs
        h.addVars(2 * n + 1, np.zeros(2 * n + 1), np.concatenate([np.ones(n), np.full(n + 1, inf)]))
        h.changeColsCost(2 * n + 1, np.arange(2 * n + 1, dtype=np.int32),
                         np.concatenate([-gain, [p.budget], np.ones(n)]))
        h.addRow(1.0, 1.0, 0, np.zeros(0, np.int32), np.zeros(0))
        for i in range(n):   # y-sum - x_i <= 0
            h.addRow(-inf, 0.0, 1, np.array([i], np.int32), np.array([-1.0]))
        for i in range(n):   # p̂ K-sum - α - β_i <= 0
            h.addRow(-inf, 0.0, 2, np.array([n, n + 1 + i], np.int32), np.array([-1.0, -1.0]))
        self.columns: list[np.ndarray] = []     # per column the choice per item: 0 drop, 1 keep, 2 repair
        self._keys: set[bytes] = set()
        self.integral = _integral_weights(p)
        self.add_column(np.zeros(n, dtype=np.int8))   # producing nothing: the master is always feasible

    def add_column(self, choice) -> bool:
        """Add the second-stage solution ``choice`` (per item 0/1/2); False when already there."""
        choice = np.asarray(choice, dtype=np.int8)
        key = choice.tobytes()
        if key in self._keys:
            return False
        self._keys.add(key)
        p, n = self.problem, self.n
        produced = np.flatnonzero(choice > 0)
        kept = np.flatnonzero(choice == 1)
        rows = np.concatenate([[0], 1 + produced, n + 1 + kept]).astype(np.int32)
        values = np.concatenate([[1.0], np.ones(produced.size), p.degradations[kept]])
        self.highs.addCol(-float(p.outsourcing_costs[produced].sum()), 0.0, self.highspy.kHighsInf,
                          rows.size, rows, values)
        self.columns.append(choice)
        return True

    def set_bounds(self, lower, upper) -> None:
        """Bound the first stage: ``lower <= x <= upper``."""
        self.highs.changeColsBounds(self.n, np.arange(self.n, dtype=np.int32), np.asarray(lower, float),
                                    np.asarray(upper, float))

    def solve(self, time_left: float):
        """Solve the LP; return ``(value, x, duals)`` or None when the time limit stopped HiGHS."""
        h, hs = self.highs, self.highspy
        # HiGHS's time_limit counts the object's run time since it was made: add what has passed
        h.setOptionValue("time_limit", h.getRunTime() + float(time_left) if np.isfinite(time_left) else hs.kHighsInf)
        h.run()
        status = h.getModelStatus()
        if status == hs.HighsModelStatus.kTimeLimit:
            return None
        if status != hs.HighsModelStatus.kOptimal:
            raise SolverError(f"HiGHS ended the branch-and-price master LP with status {h.modelStatusToString(status)}")
        sol = h.getSolution()
        return -h.getInfo().objective_function_value, np.asarray(sol.col_value[:self.n]), np.asarray(sol.row_dual)

    def price(self, duals, upper) -> tuple[float, np.ndarray]:
        """Return ``(largest reduced cost, its column)`` for the duals; items with ``upper`` 0 are left out."""
        p, n = self.problem, self.n
        sigma, mu, pi = duals[0], duals[1:n + 1], duals[n + 1:]
        repair = p.outsourcing_costs + mu           # HiGHS duals of <= rows of a minimisation are <= 0
        keep = repair + p.degradations * pi
        out = np.asarray(upper) < 0.5
        keep[out] = -1.0
        repair[out] = -1.0
        if self.integral:
            u, v = _multiple_choice_knapsack(p.weights.astype(np.int64),
                                             (p.weights + p.repair_weights).astype(np.int64),
                                             keep, repair, int(np.floor(p.capacity + 1e-9)))
        else:
            u, v = _second_stage_milp(p.weights, p.weights + p.repair_weights, keep, repair, p.capacity)
        choice = (u + 2 * v).astype(np.int8)
        return float(keep @ u + repair @ v + sigma), choice

    def restricted_mip(self, time_left: float):
        """Solve the restricted master with binary ``x`` (the columns so far); return ``x`` or None."""
        hs = self.highspy
        mip = hs.Highs()
        mip.setOptionValue("output_flag", False)
        mip.setOptionValue("threads", 1)
        lp = self.highs.getLp()
        lp.col_lower_ = np.concatenate([np.zeros(self.n), np.asarray(lp.col_lower_)[self.n:]])
        lp.col_upper_ = np.concatenate([np.ones(self.n), np.asarray(lp.col_upper_)[self.n:]])
        lp.integrality_ = [hs.HighsVarType.kInteger] * self.n + [hs.HighsVarType.kContinuous] * (lp.num_col_ - self.n)
        mip.passModel(lp)
        mip.setOptionValue("time_limit", max(1e-3, float(time_left)))
        mip.run()
        if mip.getInfo().primal_solution_status != 2:   # no feasible solution
            return None
        return np.round(np.asarray(mip.getSolution().col_value[:self.n]))

    @property
    def n_vars(self) -> int:
        return self.highs.getNumCol()


def column_generation(master: RobustKnapsackMaster, lower, upper, run: Run, cutoff: float, tol: float):
    """Column generation at one node (``lower <= x <= upper``).

    Returns ``(bound, x, state)``: ``bound`` a valid upper bound of the node (the LP value when
    converged, else the best Lagrangian bound seen, ``inf`` when none), ``x`` the last LP's first
    stage (None when no LP finished), ``state`` ``"converged"`` (pricing found no improving
    column), ``"pruned"`` (stopped once the Lagrangian bound fell to ``cutoff + tol``) or
    ``"timeout"``.
    """
    master.set_bounds(lower, upper)
    bound, x = np.inf, None
    while not run.expired():
        solved = master.solve(run.time_left())
        if solved is None:       # HiGHS hit the time limit
            break
        value, x, duals = solved
        reduced, choice = master.price(duals, upper)
        if reduced <= PRICING_TOLERANCE * max(1.0, abs(value)):
            return value, x, "converged"
        bound = min(bound, value + reduced)      # Σ λ = 1: no column set can add more
        if bound <= cutoff + tol:
            return bound, x, "pruned"
        if not master.add_column(choice):
            raise SolverError("branch-and-price pricing returned a column already in the master "
                              f"with reduced cost {reduced:g}")
    return bound, x, "timeout"


class _Search:
    """Best-bound branch-and-price over the first stage (state of one run)."""

    def __init__(self, problem, master, run, rel_gap):
        self.problem, self.master, self.run, self.rel_gap = problem, master, run, rel_gap
        self.best_x, self.lower = np.zeros(problem.n), 0.0     # picking nothing earns 0 in every scenario
        self.scored: set[bytes] = set()
        self.closed_bound = -np.inf     # largest LP value of a node closed with an integral x
        self.heap: list = []
        self.counter = itertools.count()
        self.nodes = 0
        # branching weights, positive (so that a fractional x_i always scores above an integral one)
        self.weights = np.maximum(problem.outsourcing_costs - problem.profits + problem.degradations, 0.0) + 1.0

    def tol(self, bound: float) -> float:
        """The absolute pruning tolerance at ``bound`` (0 for an infinite bound)."""
        return self.rel_gap * max(1.0, abs(bound)) if np.isfinite(bound) else 0.0

    def score(self, x) -> None:
        """Make ``x`` the incumbent when its exact worst case beats it."""
        x = (np.asarray(x) > 0.5).astype(float)
        key = x.tobytes()
        if key in self.scored:
            return
        self.scored.add(key)
        value = worst_case_profit(self.problem, x).value
        if value > self.lower:
            self.best_x, self.lower = x, value
            self.run.record_incumbent(value, "max")

    def push(self, bound, lower, upper) -> None:
        heapq.heappush(self.heap, (-bound, next(self.counter), lower, upper))

    def upper(self) -> float:
        """The valid upper bound: the best open node, a closed integral node, or the incumbent."""
        open_bound = -self.heap[0][0] if self.heap else -np.inf
        return max(open_bound, self.closed_bound, self.lower)

    def node(self, bound, lower, upper) -> bool:
        """Process one node; return False when the time ran out in it (the node is pushed back)."""
        if bound <= self.lower + self.tol(bound):
            return True
        self.nodes += 1
        value, x, state = column_generation(self.master, lower, upper, self.run, self.lower, self.tol(bound))
        value = min(value, bound)
        if x is not None and (self.nodes <= ROUNDING_NODES or self.nodes % ROUNDING_NODES == 0):
            self.score(np.clip(np.where(x > 0.5, 1.0, 0.0), lower, upper))
        if state == "timeout":
            self.run.timed_out = True
            self.push(value, lower, upper)
            return False
        if state == "pruned":        # Lagrangian bound at most the incumbent
            return True
        if value <= self.lower + self.tol(value):
            return True
        frac = np.abs(x - np.round(x))
        # fractionality weighted by the item's stake: its outsourcing loss f - p̄ plus its exposure
        # p̂ (on two public n = 20 instances, ASC and SC h40 dev0.15: 656 nodes in all where the
        # most fractional x_i took 1244)
        score = np.minimum(x, 1 - x) * self.weights
        i = int(np.argmax(score))
        if frac.max() <= INTEGRALITY_TOLERANCE:       # integral: the LP value is x's exact worst case
            self.score(np.round(x))
            self.closed_bound = max(self.closed_bound, value)
            return True
        for side in (1.0, 0.0) if x[i] >= 0.5 else (0.0, 1.0):
            lo, up = lower.copy(), upper.copy()
            lo[i] = up[i] = side
            self.push(value, lo, up)
        return True


@register_solver("branch_and_price", accepts=(TwoStageRobustKnapsack,),
                 description="exact branch-and-price on Arslan & Detienne's reformulation (HiGHS LP, DP pricing)")
def solve_branch_and_price(problem: TwoStageRobustKnapsack, *, rng=None, time_limit=None, callback=None,
                           rel_gap: float = 1e-6, root_mip: bool = True, max_nodes: int = 1_000_000) -> Result:
    """Return the robust first-stage decision found by exact branch-and-price.

    Parameters
    ----------
    problem : TwoStageRobustKnapsack
    rng : seed or Generator
        Draws HiGHS's ``random_seed``.
    time_limit : float, optional
        Seconds for the whole run.
    callback : callable, optional
        Called with the intermediate Result after the root and then every 50 nodes.
    rel_gap : float
        Prune a node whose bound is within ``rel_gap × max(1, |bound|)`` of the incumbent.
    root_mip : bool
        Solve the root's restricted master with binary ``x`` (price-and-branch, at most
        ``ROOT_MIP_SECONDS``) for an incumbent.
    max_nodes : int
        Most nodes; the run stops (FEASIBLE, with a valid bound) when they are used up.

    Returns
    -------
    Result
        ``x`` the best first-stage decision (exact worst case in ``objective``), ``bound`` a valid
        upper bound, ``status`` OPTIMAL when the tree was exhausted, ``info`` nodes, columns and
        the root bound.

    Examples
    --------
    >>> import cutslack
    >>> from cutslack.problems import random_robust_knapsack
    >>> res = cutslack.solve(random_robust_knapsack(8, rng=3), method="branch_and_price")
    >>> res.status.name, res.objective <= res.bound + 1e-6
    ('OPTIMAL', True)
    """
    if not 0 <= rel_gap < 1:
        raise ValueError(f"rel_gap must lie in [0, 1), got {rel_gap!r}")
    if not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    master = RobustKnapsackMaster(problem, seed=int(run.rng.integers(0, 2**31 - 1)))
    search = _Search(problem, master, run, rel_gap)
    n = problem.n
    search.push(np.inf, np.zeros(n), np.ones(n))
    root_bound = None
    history = []
    while search.heap and search.nodes < max_nodes and not run.expired():
        bound, _, lower, upper = heapq.heappop(search.heap)
        if not search.node(-bound, lower, upper):
            break
        if search.nodes == 1:
            root_bound = search.upper()
            if root_mip and not run.expired():
                x = master.restricted_mip(min(run.time_left(), ROOT_MIP_SECONDS))
                if x is not None:
                    search.score(x)
        if search.nodes == 1 or search.nodes % 50 == 0:
            history.append({"nodes": search.nodes, "lower": search.lower, "upper": search.upper(),
                            "columns": len(master.columns), "time": run.elapsed()})
            if run.report(make_result(problem, search.best_x, method="branch_and_price", run=run,
                                      bound=search.upper(), nit=search.nodes, history=history)):
                break
    upper = search.upper()
    status = Status.OPTIMAL if upper - search.lower <= search.tol(upper) and not run.stopped else Status.FEASIBLE
    info = {"nodes": search.nodes, "columns": len(master.columns), "root_bound": root_bound,
            "lower": search.lower, "upper": upper, "open_nodes": len(search.heap),
            "solver": "HiGHS LP master + multiple-choice knapsack pricing"}
    return make_result(problem, search.best_x, method="branch_and_price", run=run,
                       status=None if status is Status.FEASIBLE else status, bound=upper, n_vars=master.n_vars,
                       nit=search.nodes, history=history, info=info)
