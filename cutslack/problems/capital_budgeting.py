"""Two-stage robust capital budgeting (Subramanyam, Gounaris & Wiesemann 2020; the ``cb`` setting of Neur2RO).

A company chooses which of ``N`` projects to start now (``x``) and, after the risk factors
``ξ ∈ Ξ = [-1, 1]^k`` are revealed, which of the remaining ones to start late (``y``, earning only
a fraction ``f`` of the revenue).  Costs and revenues follow a factor model::

    c_i(ξ) = (1 + φ_i·ξ / 2) c̄_i,      r_i(ξ) = (1 + ψ_i·ξ / 2) r̄_i,

and every investment must fit the budget ``B`` in the realised scenario::

    max_x  min_{ξ ∈ Ξ}  max_y  r(ξ)·(x + f y)
           s.t.  c(ξ)·(x + y) <= B,   x + y <= 1,   x, y binary.

``y = 0`` must be affordable in every scenario, so a first-stage decision is feasible exactly when
``max_ξ c(ξ)·x <= B``, i.e. ``c̄·x + ½ ‖Φᵀ(c̄ ∘ x)‖₁ <= B`` (:meth:`CapitalBudgeting.violation`).

Reference: Neur2RO (github.com/khalil-research/Neur2RO @88a0896), ``ro/two_ro/cb.py``
(``solve_second_stage``, ``sample_new_inst``, ``cost_fun``/``rev_fun``) and ``ro/params.py``
(``cb``: late revenue factor ``k = 0.8``, ``loans = 0``, ``xi_dim = 4``, ``n_items`` 10-50).
Paraphrased, no code copied.  That file also carries the loan variant of Subramanyam et al.
(first-stage loan ``x0``, second-stage loan ``y0`` at rates ``λ`` and ``λμ``), but the
Neur2RO ``cb`` experiments switch it off (``loans = 0``), and so does this model: the loan
variant is not implemented here.  Neur2RO minimises the negative revenue; this module maximises
the revenue, so its values are the negatives of the reference's objective.

Exact evaluation of a first-stage decision (:func:`worst_case_revenue`)
----------------------------------------------------------------------
Here the uncertainty sits in the *constraint*: a scenario can make a late investment ``y``
unaffordable, so the adversary's problem is bilevel with an integer follower and cannot be
dualised.  For fixed ``x`` every second-stage plan ``y`` gives two affine functions of ``ξ``, its
revenue ``g_y(ξ)`` and its cost ``c_y(ξ) = c(ξ)·(x + y)``, and the worst case is::

    min_{ξ ∈ Ξ, t}  t   s.t.  for every y:  t >= g_y(ξ)   or   c_y(ξ) > B   (y unaffordable at ξ).

The disjunction is written with one binary ``z_y`` per plan and big-M constants computed from the
box (``t >= g_y(ξ) - M_y (1 - z_y)``, ``c_y(ξ) >= B + ε - M'_y z_y``); ``y = 0`` needs no binary.
We solve it by **row generation over plans**.  ``Q(ξ)``, the best affordable plan's revenue at a
scenario (a 0/1 knapsack, HiGHS), is what the decision earns in an actual scenario, so the least
``Q`` seen is an **upper bound** ``U`` on the worst case.  Each round asks the adversary MILP over
the plans found so far (HiGHS, ``mip_rel_gap = 0``, rebuilt per round with big-Ms tightened by the
last round's value) for its optimum ``t*`` with ``t <= U - tol``; ``t*`` is a **lower bound**
(fewer plans only help the adversary).  If no such scenario exists, ``U`` is the worst case.
Otherwise the knapsack at the adversary's ``ξ*`` either lowers ``U`` or returns a plan the
adversary has not seen (a seen plan affordable at ``ξ*`` would force ``t* >= g_y(ξ*)``), which is
added together with a few plans that keep 2-20 % of the free budget spare (they survive small
cost increases, which cuts the rounds about fourfold).  There are at most ``2^(N - |x|)`` plans, so
the loop terminates, and when the bounds meet the value is exact.  Two tolerances remain: a plan
counts as unaffordable when it overshoots the budget by more than ``ε = 1e-5 max(1, B)`` (the
infimum over scenarios sits on a budget boundary and is approached, not attained), and HiGHS's
feasibility tolerances (1e-6; tightening them to 1e-10 made HiGHS 1.16 return wrong knapsack
optima here).  The reported value is ``Q`` at a real scenario, so it overstates what the decision
guarantees by at most the effect of the ``ε`` budget change (about 1e-5 relative in the tests).
The tests check it against the same disjunctive MILP over *all* plans and, for ``k = 1``, against
brute force over a fine grid of scenarios.  Cost: the adversary is a MILP with one binary per
plan; on this machine a worst case takes 0.1-1 s at N = 6, 3-20 s at N = 10 and 40-260 s at
N = 20 (hundreds of plans), so :meth:`CapitalBudgeting.evaluate` is exact but not cheap for large
``N``; ``worst_case_revenue(..., time_limit=)`` bounds it.

Generator: :func:`random_capital_budgeting` follows the reference's ``sample_new_inst``.
Neur2RO's learned method (``method="neur2ro"``) handles only the robust knapsack; the exact
``method="ccg"`` (:mod:`cutslack.solvers.robust.ccg_cb`) solves this family.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from cutslack.config import check_memory
from cutslack.errors import InvalidInstanceError, SolverError
from cutslack.problems.base import (KnownOptimum, Problem, as_rng, check_array, check_count, check_number,
                                    first_stage_bits)

__all__ = ["CapitalBudgeting", "random_capital_budgeting", "CapitalBudgetingWorstCase", "worst_case_revenue",
           "second_stage_revenue", "worst_case_revenue_enumerated", "WorstCaseTimeout"]

#: relative gap at which the worst-case row generation stops
WORST_CASE_TOLERANCE = 1e-7

#: a plan is unaffordable when it overshoots the budget by more than this times max(1, B); well
#: above HiGHS's default feasibility tolerances (1e-6 / 1e-7), which we keep: tightening them to
#: 1e-10 made HiGHS 1.16 return suboptimal knapsack solutions here
BUDGET_MARGIN = 1e-5

_WORST_CASE_MEMO_SIZE = 256
_MEMO: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class WorstCaseTimeout(SolverError):
    """The exact worst case was not finished within the time it was given."""


@dataclass(frozen=True, eq=False)
class CapitalBudgeting(Problem):
    """Two-stage robust capital budgeting (maximise the worst-case revenue).

    Parameters
    ----------
    costs : (N,) non-negative array
        Nominal project costs ``c̄``.
    revenues : (N,) non-negative array
        Nominal project revenues ``r̄``.
    cost_loadings : (N, k) array
        Factor loadings ``Φ`` of the costs (rows with ``‖φ_i‖₁ <= 2``, so costs stay non-negative).
    revenue_loadings : (N, k) array
        Factor loadings ``Ψ`` of the revenues (same rule).
    budget : float
        ``B >= 0``.
    late_revenue_factor : float
        ``f`` in ``[0, 1]``: a project started in the second stage earns ``f r_i(ξ)`` (0.8 in Neur2RO).
    name : str
    known_optimum : KnownOptimum, optional

    Notes
    -----
    ``evaluate(x)`` is the exact worst-case revenue of first-stage ``x`` (module docstring).  A
    decision that exceeds the budget in some scenario is infeasible (``violation`` > 0); its
    ``evaluate`` is then the worst-case revenue of ``x`` alone, ``min_ξ r(ξ)·x``, which it does
    not guarantee.

    Examples
    --------
    >>> p = CapitalBudgeting([2, 2], [1, 1], [[1.0], [1.0]], [[1.0], [1.0]], budget=3)
    >>> p.is_feasible([1, 0]), p.is_feasible([1, 1])
    (True, False)
    >>> round(p.evaluate([1, 0]), 4)   # the late project fits only while ξ <= -1/2: inf at ξ -> -1/2
    0.75
    """

    costs: np.ndarray
    revenues: np.ndarray
    cost_loadings: np.ndarray
    revenue_loadings: np.ndarray
    budget: float
    late_revenue_factor: float = 0.8
    name: str = "capital-budgeting"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)

    sense = "max"
    family = "robust"

    def __post_init__(self):
        costs = check_array(self.costs, "costs", ndim=1, nonneg=True)
        n = costs.shape[0]
        if n < 1:
            raise InvalidInstanceError("costs", "must have at least one project")
        revenues = check_array(self.revenues, "revenues", ndim=1, nonneg=True)
        if revenues.shape[0] != n:
            raise InvalidInstanceError("revenues", f"must have {n} entries (one per project, as costs), "
                                                   f"got {revenues.shape[0]}")
        Phi = check_array(self.cost_loadings, "cost_loadings", ndim=2)
        if Phi.shape[0] != n or Phi.shape[1] < 1:
            raise InvalidInstanceError("cost_loadings", f"must have shape ({n}, k) with k >= 1, got {Phi.shape}")
        Psi = check_array(self.revenue_loadings, "revenue_loadings", ndim=2)
        if Psi.shape != Phi.shape:
            raise InvalidInstanceError("revenue_loadings", f"must have the shape of cost_loadings {Phi.shape}, "
                                                           f"got {Psi.shape}")
        for name, M in (("cost_loadings", Phi), ("revenue_loadings", Psi)):
            if np.any(np.abs(M).sum(axis=1) > 2 + 1e-12):
                raise InvalidInstanceError(name, "every row must have 1-norm <= 2 (else a cost or revenue turns "
                                                 "negative in some scenario)")
        object.__setattr__(self, "costs", costs)
        object.__setattr__(self, "revenues", revenues)
        object.__setattr__(self, "cost_loadings", Phi)
        object.__setattr__(self, "revenue_loadings", Psi)
        object.__setattr__(self, "budget", check_number(self.budget, "budget", low=0.0))
        object.__setattr__(self, "late_revenue_factor",
                           check_number(self.late_revenue_factor, "late_revenue_factor", low=0.0, high=1.0))

    @property
    def size(self) -> dict:
        return {"n": int(self.costs.shape[0]), "k": int(self.cost_loadings.shape[1])}

    @property
    def k(self) -> int:
        """Number of risk factors (the dimension of ``ξ``)."""
        return int(self.cost_loadings.shape[1])

    def scenario_costs(self, xi) -> np.ndarray:
        """Return ``c(ξ)`` (``(N,)``), or ``(m, N)`` for an ``(m, k)`` batch of scenarios."""
        return (1.0 + np.asarray(xi, dtype=float) @ self.cost_loadings.T / 2.0) * self.costs

    def scenario_revenues(self, xi) -> np.ndarray:
        """Return ``r(ξ)`` (``(N,)``), or ``(m, N)`` for an ``(m, k)`` batch of scenarios."""
        return (1.0 + np.asarray(xi, dtype=float) @ self.revenue_loadings.T / 2.0) * self.revenues

    def _bits(self, solution):
        return first_stage_bits(solution, self.n)

    def worst_first_stage_cost(self, solution):
        """Return ``max_ξ c(ξ)·x = c̄·x + ½ ‖Φᵀ(c̄ ∘ x)‖₁`` (closed form over the box)."""
        X, single = self._bits(solution)
        weighted = X * self.costs
        v = weighted.sum(axis=1) + 0.5 * np.abs(weighted @ self.cost_loadings).sum(axis=1)
        return float(v[0]) if single else v

    def evaluate(self, solution):
        """Return the exact worst-case revenue of a first-stage 0/1 vector (or of each row of a batch)."""
        X, single = self._bits(solution)
        feasible = np.atleast_1d(self.is_feasible(X))
        values = np.empty(X.shape[0])
        for row, (x, ok) in enumerate(zip(X, feasible)):
            if ok:
                values[row] = worst_case_revenue(self, x).value
            else:
                weighted = x * self.revenues
                values[row] = weighted.sum() - 0.5 * np.abs(weighted @ self.revenue_loadings).sum()
        return float(values[0]) if single else values

    def violation(self, solution):
        """Return, per solution, the overshoot of the budget in the costliest scenario (one entry, >= 0)."""
        X, single = self._bits(solution)
        V = np.maximum(np.atleast_1d(self.worst_first_stage_cost(X)) - self.budget, 0.0)[:, None]
        return V[0] if single else V


# --------------------------------------------------------------------------------------------
# second stage and exact worst case (HiGHS through highspy: many small solves)

def _highs():
    from cutslack.problems.robust import _highs as robust_highs

    highspy, h = robust_highs()
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 0.0)
    return highspy, h


def _check_x(problem: CapitalBudgeting, x) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    if x.shape[0] != problem.n:
        raise ValueError(f"x must have {problem.n} entries, got {x.shape[0]}")
    return np.round(x)


def second_stage_revenue(problem: CapitalBudgeting, x, xi) -> tuple[float, np.ndarray]:
    """Return ``(value, y)``: the best total revenue ``r(ξ)·(x + f y)`` and late plan ``y`` for ``x`` at ``ξ``.

    A 0/1 knapsack over the projects not started (weights ``c(ξ)``, capacity ``B - c(ξ)·x``),
    solved exactly by HiGHS (``mip_rel_gap = 0``).  Returns ``(-inf, zeros)`` when ``x`` itself
    does not fit the budget at ``ξ``.
    """
    x = _check_x(problem, x)
    xi = np.asarray(xi, dtype=float).ravel()
    if xi.shape[0] != problem.k:
        raise ValueError(f"xi must have k = {problem.k} entries, got {xi.shape[0]}")
    cost, revenue = problem.scenario_costs(xi), problem.scenario_revenues(xi)
    capacity = problem.budget - float(cost @ x)
    y = np.zeros(problem.n)
    if capacity < -BUDGET_MARGIN * max(1.0, problem.budget):
        return -np.inf, y
    base = float(revenue @ x)
    free = np.flatnonzero((x < 0.5) & (cost <= capacity + 1e-12) & (revenue > 0))
    if free.size == 0:
        return base, y
    profit = problem.late_revenue_factor * revenue[free]
    if float(cost[free].sum()) <= capacity:        # every remaining project fits
        y[free] = 1.0
        return base + float(profit.sum()), y
    chosen = _knapsack(profit, cost[free], capacity)
    # HiGHS may overshoot the capacity within its feasibility tolerance (about 1e-6): shrink it until
    # the plan fits (a plan within that tolerance of the budget may then be missed, as with BUDGET_MARGIN)
    for attempt in range(8):
        overshoot = float(cost[free[chosen]].sum()) - capacity
        if overshoot <= 0:
            break
        shrink = overshoot + 1e-7 * 4 ** attempt * max(1.0, problem.budget)
        chosen = _knapsack(profit, cost[free], capacity - shrink)
    else:
        raise SolverError("HiGHS kept returning second-stage plans over the budget")
    y[free[chosen]] = 1.0
    return base + float(profit[chosen].sum()), y


def _knapsack(profit, weight, capacity) -> np.ndarray:
    """Return the chosen items (bool mask) of a 0/1 knapsack solved by HiGHS (``mip_rel_gap = 0``)."""
    highspy, h = _highs()
    m = profit.shape[0]
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m, 1
    lp.col_cost_ = profit
    lp.col_lower_, lp.col_upper_ = np.zeros(m), np.ones(m)
    lp.row_lower_, lp.row_upper_ = np.array([-highspy.kHighsInf]), np.array([capacity])
    lp.sense_ = highspy.ObjSense.kMaximize
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.start_ = np.arange(m + 1, dtype=np.int32)
    matrix.index_ = np.zeros(m, dtype=np.int32)
    matrix.value_ = weight
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SolverError(f"HiGHS ended the second-stage knapsack with status {h.modelStatusToString(h.getModelStatus())}")
    return np.round(np.asarray(h.getSolution().col_value)) > 0.5


@dataclass(frozen=True)
class CapitalBudgetingWorstCase:
    """The exact worst case of a first-stage decision.

    ``value`` the worst-case revenue (``Q`` at ``scenario``); ``scenario`` a worst ``ξ``;
    ``plan`` the best late plan ``y`` there; ``lower`` the adversary MILP's last value (equal to
    ``value`` up to the tolerance); ``rounds`` adversary MILPs solved; ``plans`` the plans generated.
    """

    value: float
    scenario: np.ndarray
    plan: np.ndarray
    lower: float
    rounds: int
    plans: list = field(repr=False, default_factory=list)


class _Adversary:
    """The disjunctive adversary MILP over the plans added so far.

    Columns: ``ξ`` (k), ``t``, then one binary ``z`` per plan that some scenario makes
    unaffordable.  The model is rebuilt for every HiGHS run (cheap at these sizes): re-running a
    modified model in place made HiGHS 1.16 report a feasible MILP infeasible here.
    """

    def __init__(self, problem: CapitalBudgeting, x: np.ndarray, deadline: float | None = None):
        self.problem, self.x = problem, x
        self.deadline = deadline
        self.k = problem.k
        self.threshold = problem.budget + BUDGET_MARGIN * max(1.0, problem.budget)
        # y = 0 is affordable everywhere (x is feasible), so t >= g_0(xi) always holds: t's lower bound
        a0, b0 = self._revenue(np.zeros(problem.n))
        self.t_lower = a0 - np.abs(b0).sum()
        self.plans: list[np.ndarray] = []
        self.kill_columns: list[int | None] = []
        self.add(np.zeros(problem.n))

    def _revenue(self, y):
        """``g_y(ξ) = a + b·ξ``."""
        w = self.problem.revenues * (self.x + self.problem.late_revenue_factor * y)
        return float(w.sum()), 0.5 * (w @ self.problem.revenue_loadings)

    def _cost(self, y):
        """``c_y(ξ) = α + β·ξ``."""
        w = self.problem.costs * (self.x + y)
        return float(w.sum()), 0.5 * (w @ self.problem.cost_loadings)

    def add(self, y) -> None:
        """Add plan ``y``: ``t >= g_y(ξ)`` unless ``ξ`` makes it unaffordable."""
        y = np.asarray(y, dtype=float).copy()
        alpha, beta = self._cost(y)
        self.plans.append(y)
        self.kill_columns.append(None if alpha + np.abs(beta).sum() <= self.problem.budget else -1)

    def _rows(self, t_lower: float):
        """The rows ``(lower, columns, values)`` (upper = inf) and the number of binaries, big-Ms from ``t_lower``."""
        rows = []
        xi_cols = np.arange(self.k)
        t_col = self.k
        z_col = self.k + 1
        kill_columns = []
        for y, killable in zip(self.plans, self.kill_columns):
            a, b = self._revenue(y)
            if killable is None:                                   # affordable in every scenario
                rows.append((a, np.append(xi_cols, t_col), np.append(-b, 1.0)))
                kill_columns.append(None)
                continue
            alpha, beta = self._cost(y)
            big_revenue = max(a + np.abs(b).sum() - t_lower, 0.0)
            big_cost = max(self.threshold - (alpha - np.abs(beta).sum()), 0.0)
            # t - b xi - M z >= a - M          (z = 1: the plan may be affordable and bounds t)
            rows.append((a - big_revenue, np.concatenate([xi_cols, [t_col, z_col]]),
                         np.concatenate([-b, [1.0, -big_revenue]])))
            # beta xi + M' z >= threshold - alpha   (z = 0: the plan overshoots the budget)
            rows.append((self.threshold - alpha, np.append(xi_cols, z_col), np.append(beta, big_cost)))
            kill_columns.append(z_col)
            z_col += 1
        return rows, z_col - self.k - 1

    def _run(self, t_lower: float, t_upper: float):
        highspy, h = _highs()
        if self.deadline is not None:
            left = self.deadline - time.perf_counter()
            if left <= 0:
                raise WorstCaseTimeout("the worst-case row generation ran out of time")
            h.setOptionValue("time_limit", float(left))
        inf = highspy.kHighsInf
        rows, n_z = self._rows(t_lower)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.k + 1 + n_z, len(rows)
        lp.col_cost_ = np.concatenate([np.zeros(self.k), [1.0], np.zeros(n_z)])
        lp.col_lower_ = np.concatenate([-np.ones(self.k), [t_lower], np.zeros(n_z)])
        lp.col_upper_ = np.concatenate([np.ones(self.k), [min(t_upper, inf)], np.ones(n_z)])
        lp.row_lower_ = np.array([row[0] for row in rows])
        lp.row_upper_ = np.full(len(rows), inf)
        matrix = lp.a_matrix_
        matrix.format_ = highspy.MatrixFormat.kRowwise
        matrix.start_ = np.concatenate([[0], np.cumsum([row[1].size for row in rows])]).astype(np.int32)
        matrix.index_ = np.concatenate([row[1] for row in rows]).astype(np.int32)
        matrix.value_ = np.concatenate([row[2] for row in rows]).astype(float)
        lp.integrality_ = [highspy.HighsVarType.kContinuous] * (self.k + 1) + [highspy.HighsVarType.kInteger] * n_z
        h.passModel(lp)
        h.run()
        return highspy, h

    def solve(self, t_lower: float | None = None, t_upper: float = np.inf):
        """Return ``(t*, ξ*)``, the adversary's optimum over the plans so far, or None when no
        scenario has ``t <= t_upper``.

        ``t_lower`` must be a valid lower bound on the optimum (an earlier round's value: more
        plans only raise it); it tightens the big-Ms.
        """
        t_lower = self.t_lower if t_lower is None else max(self.t_lower, t_lower)
        if t_upper < t_lower:
            return None
        highspy, h = self._run(t_lower, t_upper)
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise WorstCaseTimeout("the worst-case adversary MILP ran out of time")
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverError(f"HiGHS did not solve the capital-budgeting adversary MILP to optimality "
                              f"({h.modelStatusToString(status)})")
        col = np.asarray(h.getSolution().col_value)
        lower = float(h.getInfo().mip_dual_bound) if col.size > self.k + 1 else float(col[self.k])
        return min(lower, float(col[self.k])), np.clip(col[:self.k], -1.0, 1.0)


def _initial_scenarios(k: int):
    """All-zero, cheapest-revenue and costliest scenarios (good first guesses for the adversary)."""
    return [np.zeros(k), -np.ones(k), np.ones(k)]


def worst_case_revenue(problem: CapitalBudgeting, x, *, initial_scenarios=(), max_rounds: int = 10_000,
                       time_limit: float | None = None) -> CapitalBudgetingWorstCase:
    """Return the exact worst-case revenue of feasible first-stage ``x`` (row generation, module docstring).

    Parameters
    ----------
    problem : CapitalBudgeting
    x : (N,) 0/1 array
        Must be feasible (``problem.is_feasible(x)``); else :class:`ValueError`.
    initial_scenarios : iterable of (k,) arrays
        Scenarios whose best plans seed the adversary (``0``, ``-1`` and ``+1`` are always used).
    max_rounds : int
        Safety cap on the adversary MILPs; reaching it raises :class:`SolverError`.
    time_limit : float, optional
        Seconds; past them :class:`WorstCaseTimeout` is raised (nothing is remembered).
    """
    x = _check_x(problem, x)
    if not problem.is_feasible(x):
        raise ValueError("x exceeds the budget in some scenario: its worst case is unbounded (see violation)")
    memo = _MEMO.setdefault(problem, OrderedDict())
    key = (x > 0.5).tobytes()
    if key in memo:
        memo.move_to_end(key)
        return memo[key]
    deadline = None if time_limit is None else time.perf_counter() + float(time_limit)
    result = _worst_case(problem, x, initial_scenarios, max_rounds, deadline)
    memo[key] = result
    if len(memo) > _WORST_CASE_MEMO_SIZE:
        memo.popitem(last=False)
    return result


#: fractions of the free budget held back when collecting extra late plans at a scenario
_SLACK_FRACTIONS = (0.02, 0.05, 0.1, 0.2)


def _check_deadline(deadline) -> None:
    if deadline is not None and time.perf_counter() >= deadline:
        raise WorstCaseTimeout("the worst-case row generation ran out of time")


def _plans_at(problem, x, xi, deadline=None):
    """Return ``(Q(ξ), best plan, [extra plans])``: the best plan and plans that keep some budget spare.

    The spare-budget plans stay affordable when the adversary raises costs a little, which the
    next adversary round would otherwise exploit one plan at a time.
    """
    value, y = second_stage_revenue(problem, x, xi)
    cost = problem.scenario_costs(xi)
    spare = problem.budget - float(cost @ (x + y))
    free_budget = problem.budget - float(cost @ x)
    extra = []
    for fraction in _SLACK_FRACTIONS:
        _check_deadline(deadline)
        reserve = fraction * free_budget
        if reserve <= spare:
            continue
        shifted = CapitalBudgeting(problem.costs, problem.revenues, problem.cost_loadings, problem.revenue_loadings,
                                   budget=problem.budget - reserve, late_revenue_factor=problem.late_revenue_factor)
        if shifted.is_feasible(x) or float(cost @ x) <= shifted.budget:
            extra.append(second_stage_revenue(shifted, x, xi)[1])
    return value, y, extra


def _worst_case(problem, x, initial_scenarios, max_rounds, deadline) -> CapitalBudgetingWorstCase:
    adversary = _Adversary(problem, x, deadline)
    seen = {np.zeros(problem.n).tobytes()}
    best = (np.inf, None, None)

    def add_plans(xi, y, extra):
        for plan in (y, *extra):
            if plan.tobytes() not in seen:
                seen.add(plan.tobytes())
                adversary.add(plan)

    for scenario in [*_initial_scenarios(problem.k), *initial_scenarios]:
        scenario = np.asarray(scenario, dtype=float)
        _check_deadline(deadline)
        value, y, extra = _plans_at(problem, x, scenario, deadline)
        if value < best[0]:
            best = (value, scenario, y)
        add_plans(scenario, y, extra)
    lower = None
    for rounds in range(1, max_rounds + 1):
        tolerance = WORST_CASE_TOLERANCE * max(1.0, abs(best[0]))
        found = adversary.solve(lower, best[0] - tolerance)
        if found is None:
            # no scenario brings the plans so far below best - tolerance: best is the worst case
            return CapitalBudgetingWorstCase(best[0], best[1], best[2], best[0] - tolerance, rounds, adversary.plans)
        lower, xi = found
        value, y, extra = _plans_at(problem, x, xi, deadline)
        if value < best[0]:
            best = (value, xi, y)
        if best[0] - lower <= tolerance or y.tobytes() in seen:
            # a known best plan at xi* means the adversary already prices xi*: the bounds agree up to
            # HiGHS's tolerances (integrality 1e-6 times a big-M)
            return CapitalBudgetingWorstCase(best[0], best[1], best[2], min(lower, best[0]), rounds, adversary.plans)
        add_plans(xi, y, extra)
    raise SolverError(f"capital-budgeting worst-case row generation did not converge in {max_rounds} rounds")


def worst_case_revenue_enumerated(problem: CapitalBudgeting, x) -> float:
    """Return the worst-case revenue of ``x`` from the adversary MILP over *every* late plan at once.

    An independent check of :func:`worst_case_revenue` (no row generation, no second-stage
    solves): ``2^(N - |x|)`` plans, so only for tiny instances (at most 14 free projects).
    """
    x = _check_x(problem, x)
    free = np.flatnonzero(x < 0.5)
    if free.size > 14:
        raise ValueError(f"{free.size} free projects: enumerating 2^{free.size} plans is too many (at most 14)")
    if not problem.is_feasible(x):
        raise ValueError("x exceeds the budget in some scenario: its worst case is unbounded (see violation)")
    adversary = _Adversary(problem, x)
    for mask in range(1, 2 ** free.size):
        y = np.zeros(problem.n)
        y[free[[(mask >> b) & 1 == 1 for b in range(free.size)]]] = 1.0
        alpha, beta = adversary._cost(y)
        if alpha - np.abs(beta).sum() <= problem.budget:       # affordable in some scenario
            adversary.add(y)
    return adversary.solve()[0]


# --------------------------------------------------------------------------------------------
# generator

def random_capital_budgeting(n: int, *, k: int = 4, late_revenue_factor: float = 0.8, rng=None) -> CapitalBudgeting:
    """Return a random capital-budgeting instance drawn as in Neur2RO's ``sample_new_inst``.

    ``c̄ ~ U(1, 10)``, ``r̄ = c̄ / 5``, ``B = Σ c̄ / 2``; each project's cost and revenue
    loadings are independent uniform points of the unit simplex in ``R^k`` (the gaps between
    ``k - 1`` sorted ``U(0, 1)`` draws and the ends 0 and 1), so ``c_i(ξ) ∈ [c̄_i / 2, 3 c̄_i / 2]``.
    Neur2RO uses ``k = 4``, ``f = 0.8`` and ``n`` from 10 to 50 (evaluation up to 100).
    """
    n = check_count(n, "n", minimum=1)
    k = check_count(k, "k", minimum=1)
    # the two (n, k) loading matrices with their (n, k + 1) temporaries, plus the n-vectors
    check_memory("random_capital_budgeting (loadings n x k)", f"n={n}, k={k}", 48.0 * n * (k + 1) + 64.0 * n)
    g = as_rng(rng)
    costs = g.uniform(1.0, 10.0, n)

    def simplex_rows():
        cuts = np.sort(g.uniform(0.0, 1.0, (n, k - 1)), axis=1)
        return np.diff(np.concatenate([np.zeros((n, 1)), cuts, np.ones((n, 1))], axis=1), axis=1)

    Phi, Psi = simplex_rows(), simplex_rows()
    return CapitalBudgeting(costs, costs / 5.0, Phi, Psi, budget=float(costs.sum() / 2.0),
                            late_revenue_factor=late_revenue_factor, name=f"capital-budgeting-n{n}-k{k}",
                            meta={"k": k})
