"""Exact MILP solver (``method="milp"``): Pyomo models solved by HiGHS.

The models are in :mod:`cutslack.solvers.classical.milp_models` (knapsack, MIS with clique
constraints, QAP by the Adams–Johnson RLT-1 linearisation, TSP with subtour-elimination
cuts, generalized assignment, set covering, and any :class:`~cutslack.binary.BinaryProgram` by McCormick products).  HiGHS is
reached through Pyomo's persistent ``appsi`` interface, so the TSP loop adds its cuts to the
loaded model and re-solves without rebuilding it.

Optimality: by default ``mip_rel_gap=0`` and HiGHS's absolute gap (``1e-6``), so
``Status.OPTIMAL`` means the incumbent matches HiGHS's dual bound to within ``1e-6`` —
optimal, not merely within 0.01 %, and exact for integer data.  ``Result.bound`` is HiGHS's
dual bound (for the TSP, the best bound of any relaxation solved so far, each valid for the
full problem because cuts only remove non-tours).  Every run starts from a heuristic
solution (greedy, nearest neighbour, identity) handed to HiGHS as a MIP start, so a run
stopped by ``time_limit`` still returns a feasible answer.
"""

from __future__ import annotations

import numpy as np

from cutslack.api import Run, make_result, register_solver
from cutslack.binary import BinaryProgram
from cutslack.errors import BackendUnavailableError, SolverError
from cutslack.problems.generalized_assignment import GeneralizedAssignment
from cutslack.problems.knapsack import Knapsack
from cutslack.problems.mis import MaximumIndependentSet
from cutslack.problems.qap import QuadraticAssignment
from cutslack.problems.set_cover import SetCover
from cutslack.problems.tsp import TravelingSalesman
from cutslack.result import Result, Status

#: model terms (variables + coefficients) Pyomo builds and HiGHS loads per second, kept low on
#: purpose: a knapsack whose model would not be built in about the time left is not built
MILP_BUILD_TERMS_PER_SECOND = 10_000
from cutslack.solvers.classical.milp_models import TspModel, _model_terms, build_model, patch_cycles

__all__ = ["solve_milp", "HighsSession", "HighsOutcome"]


class HighsOutcome:
    """What one HiGHS run returned: its status name, whether it proved optimality or hit the
    time limit, and the incumbent objective and dual bound (``None`` when absent)."""

    __slots__ = ("status", "optimal", "timed_out", "objective", "bound")

    def __init__(self, status: str, optimal: bool, timed_out: bool, objective, bound):
        self.status = status
        self.optimal = optimal
        self.timed_out = timed_out
        self.objective = objective
        self.bound = None if bound is None or not np.isfinite(bound) else float(bound)

    @property
    def has_solution(self) -> bool:
        return self.objective is not None


class HighsSession:
    """A Pyomo model loaded once into HiGHS (persistent), solved as often as needed.

    Parameters
    ----------
    model : pyomo ConcreteModel
    threads, mip_rel_gap, mip_abs_gap, verbose : HiGHS settings (see :func:`solve_milp`).
    seed : int
        HiGHS's ``random_seed``.
    options : dict, optional
        Further HiGHS options (a formulation's own, such as the LP solver).
    """

    def __init__(self, model, *, threads: int, mip_rel_gap: float, mip_abs_gap: float | None,
                 verbose: bool, seed: int, options: dict | None = None):
        from pyomo.contrib.appsi.solvers import Highs

        solver = Highs()
        if not solver.available():
            raise BackendUnavailableError("the HiGHS solver (highspy)", "pip install highspy")
        solver.config.load_solution = False
        solver.config.stream_solver = bool(verbose)
        options = {**(options or {}), "threads": int(threads), "mip_rel_gap": float(mip_rel_gap),
                   "random_seed": int(seed)}
        if mip_abs_gap is not None:
            options["mip_abs_gap"] = float(mip_abs_gap)
        solver.highs_options = options
        # only new constraints (cuts) change between solves; skipping the other checks saves
        # a scan of the whole model per solve (0.2 s on a 200-city TSP)
        updates = solver.update_config
        for check in ("check_for_new_or_removed_vars", "check_for_new_or_removed_params", "check_for_new_objective",
                      "update_constraints", "update_vars", "update_params", "update_named_expressions",
                      "update_objective"):
            setattr(updates, check, False)
        solver.set_instance(model)  # load now, so that the time limit of each solve is HiGHS's own time
        self.solver = solver
        self.model = model
        # seconds kept back from each time limit for passing the MIP start in and the solution
        # back through Pyomo (about 7 microseconds per variable, measured on a 20 000-variable TSP)
        self.reserve = 1e-5 * model.nvariables()
        self.version = ".".join(map(str, solver.version()))

    def solve(self, time_left: float, *, warm_start: bool) -> HighsOutcome:
        """Solve the model as it is now (cuts included) within ``time_left`` seconds; when the
        outcome has a solution, its values are loaded into the model's variables."""
        from pyomo.contrib.appsi.base import TerminationCondition

        limit = time_left - self.reserve
        self.solver.config.time_limit = None if not np.isfinite(limit) else max(float(limit), 1e-3)
        self.solver.config.warmstart = bool(warm_start)
        results = self.solver.solve(self.model)
        condition = results.termination_condition
        objective = results.best_feasible_objective
        if objective is not None:
            self.solver.load_vars()
        if condition in (TerminationCondition.error, TerminationCondition.unbounded,
                         TerminationCondition.infeasibleOrUnbounded):
            raise SolverError(f"HiGHS ended with status {condition.name} on a model that should be bounded and "
                              "feasible")
        return HighsOutcome(condition.name, condition is TerminationCondition.optimal,
                            condition is TerminationCondition.maxTimeLimit, objective, results.best_objective_bound)


def _check_options(threads, mip_rel_gap, mip_abs_gap, max_cut_rounds) -> None:
    if not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    if not (0 <= mip_rel_gap < 1):
        raise ValueError(f"mip_rel_gap must lie in [0, 1), got {mip_rel_gap!r}")
    if mip_abs_gap is not None and not mip_abs_gap >= 0:
        raise ValueError(f"mip_abs_gap must be non-negative, got {mip_abs_gap!r}")
    if not isinstance(max_cut_rounds, (int, np.integer)) or max_cut_rounds < 1:
        raise ValueError(f"max_cut_rounds must be a positive integer, got {max_cut_rounds!r}")


def _better_start(scorer, first, second):
    """Return the better of two feasible native solutions (either may be None)."""
    if first is None:
        return second
    if second is None:
        return first
    a, b = scorer.evaluate(first), scorer.evaluate(second)
    return second if (b > a if scorer.sense == "max" else b < a) else first


def _proved_optimal(outcome: HighsOutcome, mip_rel_gap: float, mip_abs_gap: float | None) -> bool:
    """True when HiGHS proved optimality to the requested absolute tolerance, not just a relative gap."""
    if not outcome.optimal:
        return False
    if mip_rel_gap == 0:
        return True
    tolerance = 1e-6 if mip_abs_gap is None else mip_abs_gap
    return outcome.bound is not None and abs(outcome.objective - outcome.bound) <= tolerance


def _warm_up(problem) -> None:
    """Compile the knapsack tabu kernels a knapsack too large to model in time falls back on."""
    if isinstance(problem, Knapsack):
        from cutslack.solvers.classical.heuristics.mdkp import _warm_up as warm_knapsack_heuristics

        warm_knapsack_heuristics()


@register_solver("milp", accepts=(Knapsack, MaximumIndependentSet, QuadraticAssignment, TravelingSalesman,
                                  GeneralizedAssignment, SetCover, BinaryProgram), warmup=_warm_up,
                 description="exact MILP: Pyomo models solved by HiGHS, with its dual bound")
def solve_milp(problem, *, rng=None, time_limit=None, callback=None, threads: int = 1, mip_rel_gap: float = 0.0,
               mip_abs_gap: float | None = None, verbose: bool = False, warm_start=None, cliques: bool = False,
               max_cut_rounds: int = 10_000) -> Result:
    """Return an optimal solution of a knapsack, MIS, QAP, TSP, GAP, set cover or BinaryProgram (a HiGHS MILP).

    Parameters
    ----------
    problem : Knapsack, MaximumIndependentSet, QuadraticAssignment, TravelingSalesman, GeneralizedAssignment,
        SetCover or BinaryProgram
    rng : seed or Generator
        Draws HiGHS's ``random_seed`` (HiGHS with one thread is deterministic for a seed).
    time_limit : float, optional
        Seconds for the whole run (model building and every cut round included).  A knapsack
        whose model has more than ``MILP_BUILD_TERMS_PER_SECOND`` terms per second of the limit
        is not built: the knapsack tabu search runs for the time instead (TIME_LIMIT).
    callback : callable, optional
        Called with the intermediate Result after each HiGHS run (each cut round for the TSP).
    threads : int
        HiGHS threads (1 by default: on two cores it was 1.6x faster than HiGHS's default).
    mip_rel_gap, mip_abs_gap : float
        HiGHS's stopping gaps; the defaults (0 and HiGHS's ``1e-6``) prove optimality.  With a
        positive ``mip_rel_gap`` the status is OPTIMAL only if the gap actually closed.
    verbose : bool
        Print HiGHS's log.
    warm_start : native solution, optional
        A feasible solution (bit vector for a BinaryProgram) used as MIP start when it beats
        the built-in heuristic start.
    cliques : bool
        MIS only: clique constraints from a greedy edge clique cover instead of one row per edge.
        Off by default: HiGHS's presolve finds the cliques of edge rows itself, and on dense
        graphs (c-fat200-1) the cover's many overlapping cliques made presolve run for tens of
        seconds, past ``time_limit`` (HiGHS does not check the clock inside presolve).
    max_cut_rounds : int
        TSP only: the most HiGHS runs of the subtour-elimination loop.

    Returns
    -------
    Result
        ``x`` the native solution (a 0/1 vector, a permutation or a tour; bits for a
        BinaryProgram), ``bound`` HiGHS's dual bound, ``n_vars`` the MILP's variables, ``nit``
        the HiGHS runs, ``info`` the solver, its status, the formulation and the model size.

    Raises
    ------
    ProblemTooLargeError
        QAP with more than ``MAX_QAP_PAIR_VARIABLES`` RLT variables (n > 20) or a TSP over
        ``MAX_TSP_VARIABLES`` edges, before the model is built.
    ValueError
        A ``warm_start`` that is not a feasible solution of the instance, or a bad option value.

    Examples
    --------
    >>> import cutslack
    >>> from cutslack.problems import random_tsp
    >>> res = cutslack.solve(random_tsp(12, rounding="nint", rng=1), method="milp", rng=0)
    >>> res.status.value, res.objective == res.bound
    ('optimal', True)
    """
    _check_options(threads, mip_rel_gap, mip_abs_gap, max_cut_rounds)
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    scorer = problem  # a BinaryProgram scores its own bit vectors
    if warm_start is not None:
        if isinstance(problem, BinaryProgram):
            warm_start = np.asarray(warm_start, dtype=np.int64).reshape(-1)
        if not scorer.is_feasible(warm_start, atol=1e-6):
            raise ValueError("warm_start is not a feasible solution of this instance")
    if isinstance(problem, Knapsack) and run.deadline is not None \
            and _model_terms(problem) > MILP_BUILD_TERMS_PER_SECOND * run.time_left():
        return _knapsack_too_large(problem, run)
    if isinstance(problem, TravelingSalesman) and problem.size["n"] < 3:
        tour = np.arange(problem.size["n"], dtype=np.int64)  # every tour of 1 or 2 cities is the same
        return _finish(problem, tour, run, Status.OPTIMAL, problem.evaluate(tour), 0, 0, [],
                       {"solver": "none (trivial instance)"})
    built = build_model(problem, cliques=cliques)
    session = HighsSession(built.model, threads=threads, mip_rel_gap=mip_rel_gap, mip_abs_gap=mip_abs_gap,
                           verbose=verbose, seed=int(run.rng.integers(0, 2**31 - 1)), options=built.highs_options)
    incumbent = _better_start(scorer, built.initial, warm_start)
    if isinstance(built, TspModel):
        return _solve_tsp(problem, built, session, run, incumbent, mip_rel_gap, mip_abs_gap, max_cut_rounds)
    info = {"solver": f"HiGHS {session.version} (Pyomo appsi)", "formulation": built.formulation,
            "n_constraints": built.n_constraints, **built.info}
    outcome = None
    if not run.expired():
        if incumbent is not None:
            built.start(incumbent)
        outcome = session.solve(run.time_left(), warm_start=incumbent is not None)
        if outcome.has_solution:
            incumbent = _better_start(scorer, incumbent, built.read())
        info["highs_status"] = outcome.status
    status = _final_status(outcome, run, mip_rel_gap, mip_abs_gap)
    return _finish(scorer, incumbent, run, status, None if outcome is None else outcome.bound, built.n_vars,
                   0 if outcome is None else 1, [], info)


def _knapsack_too_large(problem: Knapsack, run: Run) -> Result:
    """Return the best solution of the knapsack tabu search run for the time left (TIME_LIMIT): the
    model would not be built and solved in time, so no proof is attempted."""
    from cutslack.solvers.classical.heuristics.mdkp import mdkp_tabu

    found = mdkp_tabu(problem, rng=run.rng, time_limit=max(run.time_left(), 1e-3))
    run.timed_out = True
    return _finish(problem, found.x, run, Status.TIME_LIMIT, found.bound, 0, 0, [],
                   {"solver": "none",
                    "message": f"a {problem.n}-item model would not be built and solved within time_limit; the best "
                               f"solution of mdkp-tabu in that time is returned"})


def _final_status(outcome: HighsOutcome | None, run: Run, mip_rel_gap, mip_abs_gap) -> Status | None:
    if outcome is None or outcome.timed_out:
        return Status.TIME_LIMIT
    if _proved_optimal(outcome, mip_rel_gap, mip_abs_gap):
        return Status.OPTIMAL
    return None


def _finish(scorer, x, run: Run, status, bound, n_vars: int, nit: int, history: list, info: dict) -> Result:
    """Build the final result and report it to the callback (STOPPED when the callback asks)."""
    result = make_result(scorer, x, method="milp", run=run, status=status, bound=bound, n_vars=n_vars, nit=nit,
                         history=history, info=info)
    if not run.stopped and run.report(result):
        result = result.replace(status=Status.STOPPED)
    return result


def _solve_tsp(problem: TravelingSalesman, tsp: TspModel, session: HighsSession, run: Run, tour, mip_rel_gap,
               mip_abs_gap, max_cut_rounds) -> Result:
    """Run the subtour-elimination loop: solve, cut every cycle of a non-tour solution, repeat.

    Each round starts HiGHS from the best tour so far (it satisfies every cut) and gets the
    time left; the bound kept is the best dual bound of any round, a valid lower bound of the
    TSP because each round's model is a relaxation of it.
    """
    best_length = problem.evaluate(tour)
    bound, n_cuts, history, outcome, proved = None, 0, [], None, False
    for round_number in range(1, max_cut_rounds + 1):
        if run.expired():
            break
        tsp.start(tour)
        outcome = session.solve(run.time_left(), warm_start=True)
        if outcome.bound is not None:
            bound = outcome.bound if bound is None else max(bound, outcome.bound)
        if not outcome.has_solution:
            break
        cycles = tsp.cycles()
        candidate = np.array(cycles[0], dtype=np.int64) if len(cycles) == 1 else \
            patch_cycles(cycles, problem.distance, tsp.symmetric)
        if problem.evaluate(candidate) < best_length:
            tour, best_length = candidate, problem.evaluate(candidate)
        if len(cycles) == 1:
            proved = _proved_optimal(outcome, mip_rel_gap, mip_abs_gap)
        else:
            for cycle in cycles:
                tsp.add_subtour_cut(cycle)
            n_cuts += len(cycles)
        history.append({"round": round_number, "cycles": len(cycles), "relaxation_bound": outcome.bound,
                        "best_length": best_length, "cuts": n_cuts, "highs_status": outcome.status})
        if len(cycles) == 1 or outcome.timed_out:
            break
        intermediate = make_result(problem, tour, method="milp", run=run, bound=bound, n_vars=tsp.n_vars,
                                   nit=round_number, history=history)
        if run.report(intermediate):
            break
    info = {"solver": f"HiGHS {session.version} (Pyomo appsi)", "formulation": tsp.formulation,
            "n_constraints": tsp.n_constraints, "subtour_cuts": n_cuts,
            "highs_status": None if outcome is None else outcome.status}
    if proved:
        status = Status.OPTIMAL
    elif outcome is None or outcome.timed_out or run.expired():
        status = Status.TIME_LIMIT
    else:
        status = None
    return _finish(problem, tour, run, status, bound, tsp.n_vars, len(history), history, info)
