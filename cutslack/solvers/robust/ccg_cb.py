"""Exact column-and-constraint generation for two-stage robust capital budgeting (``method="ccg"``).

The same Zeng & Zhao loop as :mod:`cutslack.solvers.robust.ccg` (which dispatches here for a
:class:`~cutslack.problems.capital_budgeting.CapitalBudgeting`).  The *main* problem holds one
late-investment copy ``y^s`` per scenario ``ξ^s`` found so far::

    max_{x, η}  η
    s.t.        c̄·x + ½ ‖Φᵀ(c̄ ∘ x)‖₁ <= B                 (x affordable in every scenario; linearised)
                η <= r(ξ^s)·(x + f y^s),  c(ξ^s)·(x + y^s) <= B,  x + y^s <= 1     (each s)

(Pyomo + HiGHS through the persistent ``appsi`` interface).  With fewer scenarios than the full
problem its optimum — or HiGHS's dual bound when the time limit stops it — is a valid **upper
bound**.  The *adversarial* step is the exact worst case of the main problem's ``x``
(:func:`~cutslack.problems.capital_budgeting.worst_case_revenue`, row generation over late
plans): a **lower bound**, and its worst scenario is added next.  The loop stops when the bounds
meet (``rel_gap``), when the worst scenario is already in the main problem, or at the time
limit; a worst case cut short by the time limit is discarded (its ``x`` is not scored).

The learned ``method="neur2ro"`` stays knapsack-only: on a capital-budgeting instance it raises
:class:`~cutslack.errors.SolverError` (its registration does not accept this type).
"""

from __future__ import annotations

import numpy as np

from cutslack.problems.capital_budgeting import CapitalBudgeting, WorstCaseTimeout, worst_case_revenue
from cutslack.result import Result
from cutslack.solvers.robust.ccg import HighsMainProblem, ccg_loop

__all__ = ["solve_ccg_capital_budgeting", "CapitalBudgetingMainProblem"]


class CapitalBudgetingMainProblem(HighsMainProblem):
    """The CCG main problem (Pyomo + HiGHS appsi, persistent): first stage ``x``, one late plan per
    scenario added with :meth:`add_scenario`.  Takes a :class:`CapitalBudgeting` and the options of
    :class:`~cutslack.solvers.robust.ccg.RecourseMainProblem` (``threads``, ``seed``, ``verbose``).
    """

    def __init__(self, problem: CapitalBudgeting, *, threads: int = 1, seed: int = 0, verbose: bool = False):
        import pyomo.environ as pyo

        self.pyo = pyo
        self.problem = problem
        p = problem
        model = pyo.ConcreteModel()
        model.I = pyo.RangeSet(0, p.n - 1)
        model.J = pyo.RangeSet(0, p.k - 1)
        model.x = pyo.Var(model.I, domain=pyo.Binary)
        # eta is at most every project's largest revenue
        model.eta = pyo.Var(bounds=(0.0, float(1.5 * p.revenues.sum())))
        model.objective = pyo.Objective(expr=model.eta, sense=pyo.maximize)
        # |sum_i Phi_ij cbar_i x_i| <= u_j: the costliest scenario of x, linearised
        model.u = pyo.Var(model.J, domain=pyo.NonNegativeReals)
        loading = p.cost_loadings * p.costs[:, None]

        def factor(j):
            return sum(float(loading[i, j]) * model.x[i] for i in model.I)

        model.u_plus = pyo.Constraint(model.J, rule=lambda m, j: m.u[j] >= factor(j))
        model.u_minus = pyo.Constraint(model.J, rule=lambda m, j: m.u[j] >= -factor(j))
        model.robust_budget = pyo.Constraint(expr=sum(float(p.costs[i]) * model.x[i] for i in model.I)
                                             + 0.5 * sum(model.u[j] for j in model.J) <= p.budget)
        self._attach_solver(model, threads, seed, verbose)

    def add_scenario(self, xi) -> None:
        """Add a late-plan copy for scenario ``ξ`` and its cut on ``η``."""
        pyo, p, model = self.pyo, self.problem, self.model
        xi = np.asarray(xi, dtype=float)
        cost, revenue = p.scenario_costs(xi), p.scenario_revenues(xi)
        block = model.scenarios[len(self.scenarios)]
        block.late = pyo.Var(model.I, domain=pyo.Binary)
        block.once = pyo.Constraint(model.I, rule=lambda b, i: model.x[i] + b.late[i] <= 1)
        block.budget = pyo.Constraint(expr=sum(float(cost[i]) * (model.x[i] + block.late[i]) for i in model.I)
                                      <= p.budget)
        block.value = pyo.Constraint(expr=model.eta <= sum(float(revenue[i]) * model.x[i]
                                                           + float(p.late_revenue_factor * revenue[i]) * block.late[i]
                                                           for i in model.I))
        self.scenarios.append(xi)


def solve_ccg_capital_budgeting(problem: CapitalBudgeting, *, rng=None, time_limit=None, callback=None,
                                rel_gap: float = 1e-6, threads: int = 1, max_iterations: int = 10_000,
                                main_gap_factor: float = 0.0, verbose: bool = False) -> Result:
    """Return the robust first-stage decision found by exact column-and-constraint generation.

    Takes the options of :func:`cutslack.solvers.robust.ccg.solve_ccg` (``rng`` draws HiGHS's
    ``random_seed``; ``time_limit`` covers the whole run; ``callback`` gets the intermediate
    Result after each iteration; ``rel_gap``; ``threads``; ``max_iterations``; ``main_gap_factor``;
    ``verbose``) and runs its loop (:func:`~cutslack.solvers.robust.ccg.ccg_loop`).

    Returns
    -------
    Result
        ``x`` the best first-stage decision whose exact worst case was computed (None when the
        time limit struck before the first one finished), ``objective`` that worst-case revenue,
        ``bound`` the main problem's upper bound, ``status`` OPTIMAL when the bounds met
        (TIME_LIMIT when the clock stopped it first), ``history`` one record per iteration,
        ``info`` the scenarios and worst-case rounds.

    Examples
    --------
    >>> import cutslack
    >>> from cutslack.problems import random_capital_budgeting
    >>> res = cutslack.solve(random_capital_budgeting(5, rng=0), method="ccg")
    >>> res.status.name, res.objective <= res.bound + 1e-6
    ('OPTIMAL', True)
    """

    def worst_case(x, recent, run):
        left = run.time_left()
        return worst_case_revenue(problem, x, initial_scenarios=recent, time_limit=left if np.isfinite(left) else None)

    # no incumbent until an exact worst case has finished (x = 0 is affordable, but its worst case is
    # the most expensive one to compute: every project is free for the late stage)
    result = ccg_loop(problem, CapitalBudgetingMainProblem,
                      [np.zeros(problem.k), -np.ones(problem.k), np.ones(problem.k)], worst_case,
                      rng=rng, time_limit=time_limit, callback=callback, rel_gap=rel_gap,
                      max_iterations=max_iterations, main_gap_factor=main_gap_factor, threads=threads,
                      verbose=verbose, scenario_atol=1e-9, interrupted=(WorstCaseTimeout,),
                      solver="HiGHS (appsi) main + exact row-generation adversary over late plans")
    if result.x is not None:
        worst_case_revenue(problem, result.x)     # keep the incumbent's worst case at the front of the memo
    return result
