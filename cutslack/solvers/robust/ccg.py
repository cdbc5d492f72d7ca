"""Exact column-and-constraint generation (``method="ccg"``) for the two-stage robust knapsack.

Zeng & Zhao's CCG: the *main* problem is the robust problem restricted to the scenarios found
so far, with a copy of the recourse ``(y^k, r^k)`` per scenario ``ξ^k``::

    max_{x, η}  Σ (p̄ - f) x + η
    s.t.        η <= Σ f y^k - Σ p̂ ξ^k (y^k - r^k),  Σ c y^k + t r^k <= C,  r^k <= y^k <= x   (each k)

(a Pyomo model solved by HiGHS through the persistent ``appsi`` interface; each new scenario
adds a block and HiGHS re-solves).  Because it holds fewer scenarios than the full problem, its
optimum — or HiGHS's dual bound when the time limit stops it — is a valid **upper bound**.  The
*adversarial* step is the exact worst case of the main problem's ``x``
(:func:`cutslack.problems.robust.worst_case_profit`, row generation), a **lower bound** and the
scenario added next.  The loop stops when the bounds meet (``rel_gap``), when the worst scenario
is already in the main problem (then they meet up to solver tolerances), or at the time limit.
The integer recourse makes the number of scenarios finite, so the loop terminates.
"""

from __future__ import annotations

import abc

import numpy as np

from cutslack.api import Run, make_result, register_solver
from cutslack.errors import BackendUnavailableError, SolverError
from cutslack.problems.capital_budgeting import CapitalBudgeting
from cutslack.problems.robust import TwoStageRobustKnapsack, second_stage_profit, worst_case_profit
from cutslack.result import Result, Status

__all__ = ["solve_ccg", "ccg_loop", "HighsMainProblem", "RecourseMainProblem"]


class HighsMainProblem(abc.ABC):
    """A CCG main problem as a persistent Pyomo model solved by HiGHS (``appsi``): what every
    problem family shares.

    A subclass builds a model (first stage ``model.x`` over ``model.I``), hands it to
    :meth:`_attach_solver` (which adds the scenario blocks ``model.scenarios``), and implements
    :meth:`add_scenario` (appending each scenario to ``self.scenarios``); it may define
    ``_set_start(x)`` (set the model's variables to a MIP start from the first-stage ``x``),
    which :meth:`solve` then uses.
    """

    def _attach_solver(self, model, threads: int, seed: int, verbose: bool) -> None:
        """Give ``model`` its scenario blocks (``model.scenarios``), keep it, and set up HiGHS."""
        from pyomo.contrib.appsi.solvers import Highs

        model.scenarios = self.pyo.Block(self.pyo.Any)
        self.model = model

        solver = Highs()
        if not solver.available():
            raise BackendUnavailableError("the HiGHS solver (highspy)", "pip install highspy")
        solver.config.load_solution = False
        solver.config.stream_solver = bool(verbose)
        solver.highs_options = {"threads": int(threads), "mip_rel_gap": 0.0, "random_seed": int(seed)}
        self.solver = solver
        self.scenarios: list[np.ndarray] = []

    @abc.abstractmethod
    def add_scenario(self, xi) -> None:
        """Add the recourse copy of scenario ``ξ`` and its cut on ``η``."""

    def solve(self, time_left: float, *, gap: float = 0.0, start=None):
        """Solve within ``time_left`` seconds to relative MIP gap ``gap``; return ``(x or None, upper bound or
        None, timed_out)``.

        ``start`` (a first-stage 0/1 vector) is handed to HiGHS as a MIP start where the main
        problem supports one (:meth:`_set_start`), and ignored otherwise.
        """
        from pyomo.contrib.appsi.base import TerminationCondition

        self.solver.config.time_limit = None if not np.isfinite(time_left) else max(float(time_left), 1e-3)
        self.solver.highs_options = {**self.solver.highs_options, "mip_rel_gap": float(gap)}
        warm = start is not None and hasattr(self, "_set_start")
        self.solver.config.warmstart = warm
        if warm:
            self._set_start(np.asarray(start, dtype=float))
        results = self.solver.solve(self.model)
        condition = results.termination_condition
        if condition in (TerminationCondition.error, TerminationCondition.unbounded,
                         TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
            raise SolverError(f"HiGHS ended the {type(self).__name__} CCG main problem with status {condition.name}")
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


class RecourseMainProblem(HighsMainProblem):
    """The CCG main problem of the robust knapsack (Pyomo + HiGHS appsi, persistent): first stage
    ``x``, one recourse copy per scenario added with :meth:`add_scenario`.

    Parameters
    ----------
    problem : TwoStageRobustKnapsack
    threads : int
        HiGHS threads.
    seed : int
        HiGHS ``random_seed``.
    verbose : bool
        Print HiGHS's log.
    """

    def __init__(self, problem: TwoStageRobustKnapsack, *, threads: int = 1, seed: int = 0, verbose: bool = False):
        import pyomo.environ as pyo

        self.pyo = pyo
        self.problem = problem
        n = problem.n
        model = pyo.ConcreteModel()
        model.I = pyo.RangeSet(0, n - 1)
        model.x = pyo.Var(model.I, domain=pyo.Binary)
        # eta is at most the best second-stage profit (every item produced)
        model.eta = pyo.Var(bounds=(None, float(problem.outsourcing_costs.sum())))
        gain = problem.profits - problem.outsourcing_costs
        model.objective = pyo.Objective(expr=sum(float(gain[i]) * model.x[i] for i in model.I) + model.eta,
                                        sense=pyo.maximize)
        self._attach_solver(model, threads, seed, verbose)

    def add_scenario(self, xi) -> None:
        """Add a recourse copy for scenario ``ξ`` and its cut on ``η``."""
        pyo, p, model = self.pyo, self.problem, self.model
        xi = np.asarray(xi, dtype=float)
        k = len(self.scenarios)
        block = model.scenarios[k]
        block.keep = pyo.Var(model.I, domain=pyo.Binary)      # produced, not repaired
        block.repair = pyo.Var(model.I, domain=pyo.Binary)    # produced and repaired
        block.choice = pyo.Constraint(model.I, rule=lambda b, i: b.keep[i] + b.repair[i] <= model.x[i])
        block.capacity = pyo.Constraint(expr=sum(float(p.weights[i]) * block.keep[i]
                                                 + float(p.weights[i] + p.repair_weights[i]) * block.repair[i]
                                                 for i in model.I) <= p.capacity)
        unrepaired = p.outsourcing_costs - p.degradations * xi
        block.value = pyo.Constraint(expr=model.eta <= sum(float(unrepaired[i]) * block.keep[i]
                                                           + float(p.outsourcing_costs[i]) * block.repair[i]
                                                           for i in model.I))
        self.scenarios.append(xi)

    def _set_start(self, x) -> None:
        """Set the model's variables to ``x``, its best responses to each scenario (exact second
        stage), and the resulting ``η``."""
        model = self.model
        eta = np.inf
        for i in model.I:
            model.x[i].set_value(float(x[i]))
        for k, xi in enumerate(self.scenarios):
            value, y, r = second_stage_profit(self.problem, x, xi)
            eta = min(eta, value)
            block = model.scenarios[k]
            for i in model.I:
                block.keep[i].set_value(float(y[i] - r[i]))
                block.repair[i].set_value(float(r[i]))
        model.eta.set_value(float(min(eta, model.eta.ub)))


def contains_scenario(scenarios, xi, atol: float = 1e-7) -> bool:
    """Return whether ``xi`` is (to ``atol``) one of ``scenarios``."""
    return any(np.allclose(s, xi, atol=atol, rtol=0) for s in scenarios)


def check_ccg_options(rel_gap: float, max_iterations, main_gap_factor: float = 0.0) -> None:
    """Refuse CCG options out of range with a ``ValueError`` naming the option."""
    if not 0 <= rel_gap < 1:
        raise ValueError(f"rel_gap must lie in [0, 1), got {rel_gap!r}")
    if not 0 <= main_gap_factor < 1:
        raise ValueError(f"main_gap_factor must lie in [0, 1), got {main_gap_factor!r}")
    if not isinstance(max_iterations, (int, np.integer)) or max_iterations < 1:
        raise ValueError(f"max_iterations must be a positive integer, got {max_iterations!r}")


def ccg_loop(problem, make_main, first_scenarios, worst_case, *, rng, time_limit, callback, rel_gap: float,
             max_iterations: int, main_gap_factor: float = 0.0, threads: int = 1, verbose: bool = False,
             incumbent=None, incumbent_value: float = -np.inf, scenario_atol: float = 1e-7, interrupted: tuple = (),
             solver: str = "") -> Result:
    """Zeng & Zhao's loop; return the Result.

    ``make_main(problem, threads=, seed=, verbose=)`` builds the :class:`HighsMainProblem`
    (``seed`` drawn from ``rng``), which first gets ``first_scenarios``.  ``worst_case(x,
    recent_scenarios, run)`` is the exact adversary (an object with ``value``, ``scenario`` and
    ``rounds``; ``run`` tells the time left); an exception of a type in ``interrupted`` from it
    means the clock stopped it, and the loop ends without scoring that ``x``.  ``incumbent``
    (with its exact worst case ``incumbent_value``) is the decision held before the first main
    problem (None: none until a worst case finishes).  The other options: see :func:`solve_ccg`.
    """
    check_ccg_options(rel_gap, max_iterations, main_gap_factor)
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    main = make_main(problem, threads=threads, seed=int(run.rng.integers(0, 2**31 - 1)), verbose=verbose)
    for xi in first_scenarios:
        main.add_scenario(xi)
    best_x, lower = incumbent, incumbent_value
    upper = None
    history = []
    status = Status.FEASIBLE
    rounds = 0
    iteration = 0
    exact_next = False      # the next main problem must be solved to rel_gap (see below)
    for iteration in range(1, max_iterations + 1):
        if run.expired():
            iteration -= 1
            break
        # the main problem only has to be solved as precisely as the CCG gap needs: to a fraction
        # of the current gap (HiGHS's dual bound stays a valid upper bound), exactly near the end
        gap = rel_gap
        if not exact_next and upper is not None and best_x is not None and main_gap_factor > 0:
            gap = max(rel_gap, main_gap_factor * (upper - lower) / max(1.0, abs(upper)))
        x, bound, timed_out = main.solve(run.time_left(), gap=gap, start=best_x if iteration > 1 else None)
        exact_next = False
        if bound is not None:
            upper = bound if upper is None else min(upper, bound)
        worst = None
        if x is not None:
            try:
                worst = worst_case(x, main.scenarios[-3:], run)
            except interrupted:
                run.expired()
                break
            rounds += worst.rounds
            if best_x is None or worst.value > lower:
                best_x, lower = x, worst.value
        history.append({"iteration": iteration, "lower": None if best_x is None else lower, "upper": upper,
                        "scenarios": len(main.scenarios), "main_gap": gap, "time": run.elapsed()})
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
        if contains_scenario(main.scenarios, worst.scenario, scenario_atol):
            if gap > rel_gap:
                # x was only near-optimal for the main problem: solve it to rel_gap before deciding
                exact_next = True
                continue
            # the main problem already holds x's worst scenario, so its value at x is x's worst
            # case: the bounds agree up to HiGHS's tolerances
            status = Status.OPTIMAL
            break
        main.add_scenario(worst.scenario)
    info = {"scenarios": len(main.scenarios), "worst_case_rounds": rounds,
            "lower": None if best_x is None else lower, "upper": upper, "solver": solver}
    return make_result(problem, best_x, method="ccg", run=run, status=status, bound=upper, n_vars=main.n_vars,
                       nit=iteration, history=history, info=info)


@register_solver("ccg", accepts=(TwoStageRobustKnapsack, CapitalBudgeting),
                 description="exact column-and-constraint generation (Pyomo + HiGHS main, exact adversary)")
def solve_ccg(problem: TwoStageRobustKnapsack, *, rng=None, time_limit=None, callback=None, rel_gap: float = 1e-6,
              threads: int = 1, max_iterations: int = 10_000, main_gap_factor: float = 0.0,
              verbose: bool = False) -> Result:
    """Return the robust first-stage decision found by exact column-and-constraint generation.

    Parameters
    ----------
    problem : TwoStageRobustKnapsack
    rng : seed or Generator
        Draws HiGHS's ``random_seed``.
    time_limit : float, optional
        Seconds for the whole run; the main problem's HiGHS run gets what is left.
    callback : callable, optional
        Called with the intermediate Result after each iteration.
    rel_gap : float
        Stop when ``(upper - lower) <= rel_gap * max(1, |upper|)``.
    threads : int
        HiGHS threads for the main problem.
    max_iterations : int
        Most CCG iterations.
    main_gap_factor : float
        Solve each main problem to the relative MIP gap ``max(rel_gap, main_gap_factor × current
        CCG gap)`` (HiGHS's dual bound is still a valid upper bound; a main problem whose
        decision brings no new scenario is re-solved to ``rel_gap``); 0 solves every main
        problem to ``rel_gap`` (the default: on public n = 20 instances a factor of 0.2 made the
        upper bound stall at the looser solves' dual bounds).  Each main problem after the first
        starts from the best decision so far and its best responses (a MIP start).
    verbose : bool
        Print HiGHS's log.

    Returns
    -------
    Result
        ``x`` the best first-stage decision found (by exact worst case), ``objective`` its exact
        worst-case profit, ``bound`` the main problem's upper bound, ``status`` OPTIMAL when the
        bounds met, ``history`` one record per iteration (``lower``, ``upper``, scenarios, time),
        ``info`` the scenarios and the worst-case rounds.

    See Also
    --------
    cutslack.solvers.robust.branch_price.solve_branch_and_price : ``method="branch_and_price"``,
        the faster exact method for the robust knapsack (57 of the 60 public n = 20 instances
        proven within 30 s, where CCG proves 13 within 120 s; benchmarks/results/robust_bp_n20_30s.md).

    Examples
    --------
    >>> import cutslack
    >>> from cutslack.problems import random_robust_knapsack
    >>> res = cutslack.solve(random_robust_knapsack(8, rng=3), method="ccg")
    >>> res.status.name, res.objective <= res.bound + 1e-6
    ('OPTIMAL', True)
    """
    if isinstance(problem, CapitalBudgeting):   # capital budgeting: its own main problem and adversary
        from cutslack.solvers.robust.ccg_cb import solve_ccg_capital_budgeting

        return solve_ccg_capital_budgeting(problem, rng=rng, time_limit=time_limit, callback=callback,
                                           rel_gap=rel_gap, threads=threads, max_iterations=max_iterations,
                                           main_gap_factor=main_gap_factor, verbose=verbose)
    return ccg_loop(problem, RecourseMainProblem, [np.zeros(problem.n)],
                    lambda x, recent, run: worst_case_profit(problem, x, initial_scenarios=recent),
                    rng=rng, time_limit=time_limit, callback=callback, rel_gap=rel_gap, max_iterations=max_iterations,
                    main_gap_factor=main_gap_factor, threads=threads, verbose=verbose,
                    incumbent=np.zeros(problem.n), incumbent_value=0.0,   # picking nothing earns 0 in every scenario
                    solver="HiGHS (appsi) main + exact row-generation adversary")
