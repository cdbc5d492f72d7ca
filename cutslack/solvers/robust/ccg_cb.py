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

from cutslack.api import Run, make_result
from cutslack.errors import BackendUnavailableError, SolverError
from cutslack.problems.capital_budgeting import CapitalBudgeting, WorstCaseTimeout, worst_case_revenue
from cutslack.result import Result, Status

__all__ = ["solve_ccg_capital_budgeting", "CapitalBudgetingMainProblem"]


class CapitalBudgetingMainProblem:
    """The CCG main problem (Pyomo + HiGHS appsi, persistent): first stage ``x``, one late plan per
    scenario added with :meth:`add_scenario`.

    Parameters
    ----------
    problem : CapitalBudgeting
    threads : int
        HiGHS threads.
    seed : int
        HiGHS ``random_seed``.
    verbose : bool
        Print HiGHS's log.
    """

    def __init__(self, problem: CapitalBudgeting, *, threads: int = 1, seed: int = 0, verbose: bool = False):
        import pyomo.environ as pyo
        from pyomo.contrib.appsi.solvers import Highs

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
        model.scenarios = pyo.Block(pyo.Any)
        self.model = model
        solver = Highs()
        if not solver.available():
            raise BackendUnavailableError("the HiGHS solver (highspy)", "pip install highspy")
        solver.config.load_solution = False
        solver.config.stream_solver = bool(verbose)
        solver.highs_options = {"threads": int(threads), "mip_rel_gap": 0.0, "random_seed": int(seed)}
        self.solver = solver
        self.scenarios: list[np.ndarray] = []

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

    def solve(self, time_left: float):
        """Solve within ``time_left`` seconds; return ``(x or None, upper bound or None, timed_out)``."""
        from pyomo.contrib.appsi.base import TerminationCondition

        self.solver.config.time_limit = None if not np.isfinite(time_left) else max(float(time_left), 1e-3)
        results = self.solver.solve(self.model)
        condition = results.termination_condition
        if condition in (TerminationCondition.error, TerminationCondition.unbounded,
                         TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
            raise SolverError(f"HiGHS ended the capital-budgeting CCG main problem with status {condition.name}")
        x = None
        if results.best_feasible_objective is not None:
            self.solver.load_vars()
            x = np.round([self.model.x[i].value or 0.0 for i in self.model.I]).astype(float)
        bound = results.best_objective_bound
        bound = float(bound) if bound is not None and np.isfinite(bound) else None
        return x, bound, condition is TerminationCondition.maxTimeLimit

    @property
    def n_vars(self) -> int:
        return self.model.nvariables()


def solve_ccg_capital_budgeting(problem: CapitalBudgeting, *, rng=None, time_limit=None, callback=None,
                                rel_gap: float = 1e-6, threads: int = 1, max_iterations: int = 10_000,
                                verbose: bool = False) -> Result:
    """Return the robust first-stage decision found by exact column-and-constraint generation.

    Takes the options of :func:`cutslack.solvers.robust.ccg.solve_ccg` (``rng`` draws HiGHS's
    ``random_seed``; ``time_limit`` covers the whole run; ``callback`` gets the intermediate
    Result after each iteration; ``rel_gap``; ``threads``; ``max_iterations``; ``verbose``).

    Returns
    -------
    Result
        ``x`` the best first-stage decision whose exact worst case was computed (None when the
        time limit struck before the first one finished), ``objective`` that worst-case revenue, ``bound`` the main problem's upper bound, ``status`` OPTIMAL when
        the bounds met (TIME_LIMIT when the clock stopped it first), ``history`` one record per
        iteration, ``info`` the scenarios and worst-case rounds.

    Examples
    --------
    >>> import cutslack
    >>> from cutslack.problems import random_capital_budgeting
    >>> res = cutslack.solve(random_capital_budgeting(5, rng=0), method="ccg")
    >>> res.status.name, res.objective <= res.bound + 1e-6
    ('OPTIMAL', True)
    """
    if not 0 <= rel_gap < 1:
        raise ValueError(f"rel_gap must lie in [0, 1), got {rel_gap!r}")
    if not isinstance(max_iterations, (int, np.integer)) or max_iterations < 1:
        raise ValueError(f"max_iterations must be a positive integer, got {max_iterations!r}")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    main = CapitalBudgetingMainProblem(problem, threads=threads, seed=int(run.rng.integers(0, 2**31 - 1)),
                                       verbose=verbose)
    for xi in (np.zeros(problem.k), -np.ones(problem.k), np.ones(problem.k)):
        main.add_scenario(xi)
    # no incumbent until an exact worst case has finished (x = 0 is affordable, but its worst case is
    # the most expensive one to compute: every project is free for the late stage)
    best_x, lower = None, -np.inf
    upper = None
    history = []
    status = Status.FEASIBLE
    rounds = 0
    iteration = 0
    for iteration in range(1, max_iterations + 1):
        if run.expired():
            iteration -= 1
            break
        x, bound, timed_out = main.solve(run.time_left())
        if bound is not None:
            upper = bound if upper is None else min(upper, bound)
        worst = None
        if x is not None:
            try:
                worst = worst_case_revenue(problem, x, initial_scenarios=main.scenarios[-3:],
                                           time_limit=run.time_left() if np.isfinite(run.time_left()) else None)
            except WorstCaseTimeout:
                run.expired()
                break
            rounds += worst.rounds
            if best_x is None or worst.value > lower:
                best_x, lower = x, worst.value
        history.append({"iteration": iteration, "lower": None if best_x is None else lower, "upper": upper,
                        "scenarios": len(main.scenarios), "time": run.elapsed()})
        closed = best_x is not None and upper is not None and upper - lower <= rel_gap * max(1.0, abs(upper))
        if closed:
            status = Status.OPTIMAL
        if run.report(make_result(problem, best_x, method="ccg", run=run, bound=upper, nit=iteration,
                                  history=history)):
            break
        if closed:
            break
        if timed_out or worst is None:
            run.expired()
            break
        if any(np.allclose(s, worst.scenario, atol=1e-9, rtol=0) for s in main.scenarios):
            # the main problem already holds x's worst scenario, so its value at x is x's worst case:
            # the bounds agree up to HiGHS's tolerances
            status = Status.OPTIMAL
            break
        main.add_scenario(worst.scenario)
    if best_x is not None:
        worst_case_revenue(problem, best_x)     # keep the incumbent's worst case at the front of the memo
    info = {"scenarios": len(main.scenarios), "worst_case_rounds": rounds,
            "lower": None if best_x is None else lower, "upper": upper,
            "solver": "HiGHS (appsi) main + exact row-generation adversary over late plans"}
    return make_result(problem, best_x, method="ccg", run=run, status=status, bound=upper, n_vars=main.n_vars,
                       nit=iteration, history=history, info=info)
