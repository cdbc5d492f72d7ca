"""``method="lagrangian"`` (the slack-free QUBO, sampled) and ``method="lagrangian-heuristic"``
(the classical Lagrangian heuristic, subproblem in closed form), both driven by a dual method.

One loop for both: build the Lagrangian QUBO for the current multipliers
(:class:`~cutslack.solvers.qubo.lagrangian.LagrangianForm`), solve the subproblem, score and
repair every sample (:mod:`cutslack.solvers.repair`), hand the dual method a subgradient,
and record the iteration.  It stops on a relative duality gap below ``tol`` (only with a
valid bound), on ``patience`` iterations without progress, on ``maxiter`` or on
``time_limit``.  Which path solved the subproblem is recorded in ``info["subproblem"]``:

``"closed form"`` (``method="lagrangian-heuristic"``)
    The pure Lagrangian of a linear objective with linear constraints (the knapsack's) is a
    diagonal QUBO: ``x_j = 1`` iff its reduced cost is negative, plus exact Boltzmann samples
    around it for repair to start from.  No sampler runs; the dual value is a valid bound.
``"sampled by NAME"`` / ``"exhaustive"`` (``method="lagrangian"``)
    The QUBO is handed to the sampler the user names (annealing, tempering, tabu, exhaustive
    search, QAOA, VQE, ...).  On a program with ``≤`` rows (``≥`` and ranged rows arrive as
    negated ``≤`` rows), or with equality rows and a linear objective, the QUBO is the slack-free
    augmented Lagrangian of :mod:`cutslack.solvers.qubo.augmented` (scaled rows, LP-dual warm
    start, a ``ρ`` schedule per row kind, multipliers moved by the expected residual over all
    reads), so the sampler has a real quadratic problem of exactly ``n`` variables.  For conflict pairs (MIS) and
    one-hot equalities (QAP, TSP) the quadratic structure comes from the problem itself.

The dual value ``min_x L(x, λ)`` is a bound only when every subproblem was solved exactly
(closed form, or an exhaustive search that finished) and no inequality carries a quadratic
term; otherwise ``Result.bound`` is None, ``info["bound_valid"]`` is False and the estimates
stay in the history.  A program whose LP relaxation HiGHS proves infeasible ends at once with ``Status.INFEASIBLE``
and the reason in ``info["message"]``.  Every sampled result also reports what the samples achieved before
repair (``info["raw_feasible_fraction"]``, ``info["best_raw_objective"]``) beside the best after
repair (``info["best_repaired_objective"]``).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from cutslack.api import Run, make_result, register_solver
from cutslack.binary import BinaryProgram
from cutslack.errors import InvalidInstanceError, SolverError
from cutslack.problems.base import Problem
from cutslack.result import SampleSet, Status
from cutslack.solvers.bounds import StopRule, cheap_bound, stagnation_budget
from cutslack.solvers.lagrangian.dual import DUAL_METHODS, make_dual_method
from cutslack.solvers.lagrangian.scoring import (SampleScorer, check_sampler, infeasible_relaxation, program_of,
                                                sample_subproblem, sampled_by)
from cutslack.solvers.qubo.augmented import (DEFAULT_RHO, DEFAULT_RHO_EQUALITY, RHO_EQUALITY_RANGE, RHO_GROWTH,
                                             RHO_RANGE, augmented_start)
from cutslack.solvers.qubo.formulations import check_squared_rows
from cutslack.solvers.qubo.lagrangian import LagrangianForm, Multipliers, constraint_residuals

__all__ = ["solve_lagrangian", "solve_lagrangian_heuristic", "multiplier_scale"]

def multiplier_scale(program: BinaryProgram) -> tuple[float, float]:
    """Return ``(scale, box)``: the typical size of a multiplier and the bound ``|λ| ≤ box``.

    A multiplier prices one unit of a constraint in objective units: per variable, the
    objective change of setting it (``|c_j|`` plus its quadratic row over about ``√n`` partners)
    divided by its total constraint coefficient; ``scale`` is the median of those prices and
    ``box`` fifty times their maximum.
    """
    n = max(program.n, 1)
    obj = np.abs(program.c).copy()
    if program.Q is not None:
        Qa = abs(program.Q)
        obj = obj + (np.asarray(Qa.sum(axis=0)).reshape(-1) + np.asarray(Qa.sum(axis=1)).reshape(-1)) / np.sqrt(n)
    A_le, _, A_eq, _ = program.dense_constraints()
    use = np.abs(A_le).sum(axis=0) + np.abs(A_eq).sum(axis=0)
    conf = program.conflicts
    # a conflict multiplier prices one pair: a variable in any conflict counts one unit
    use = use + (np.bincount(conf.reshape(-1), minlength=program.n) > 0)
    price = obj[use > 0] / use[use > 0]
    if price.size == 0 or not np.any(price > 0):
        return 1.0, 50.0
    scale = float(np.median(price[price > 0]))
    return scale, 50.0 * float(price.max())


def _constraint_unit(program: BinaryProgram) -> float:
    """The typical right-hand side (1 for one-hot rows and conflicts): residuals are in these units."""
    b = np.abs(np.concatenate([program.b_le, program.b_eq]))
    b = b[b > 0]
    return float(np.median(b)) if b.size else 1.0


def _objective_integral(program: BinaryProgram) -> bool:
    vals = [program.c, np.atleast_1d(program.const)]
    if program.Q is not None:
        vals.append(program.Q.data if hasattr(program.Q, "data") and not isinstance(program.Q, np.ndarray)
                    else np.asarray(program.Q))
    return all(np.all(v == np.round(v)) for v in vals)



#: ``augment_inequalities`` values that are strings
_AUGMENT_MODES = ("auto", "augmented", "unbalanced")


def _resolve_augment(augment_inequalities, program: BinaryProgram, sampled: bool):
    """Return the inequality mode: ``"augmented"``, ``"unbalanced"``, ``None`` (pure) or a weight."""
    if isinstance(augment_inequalities, str):
        key = augment_inequalities.lower()
        if key not in _AUGMENT_MODES:
            raise ValueError(f"augment_inequalities must be a bool, a weight or one of {', '.join(_AUGMENT_MODES)}; "
                             f"got {augment_inequalities!r}")
        linear = program.Q is None or not (abs(sp.csr_matrix(program.Q)).sum() > 0)
        if key == "auto":
            # equality-only programs take the augmented form when the objective is linear (set
            # partitioning, assignment): with a quadratic one (QAP, TSP) the problem itself
            # already gives the sampler a quadratic landscape
            return "augmented" if sampled and (program.m_le or (program.m_eq and linear)) else None
        if key == "augmented":
            return key if program.m_le or program.m_eq else None
        return key if program.m_le else None
    if augment_inequalities is False or augment_inequalities is None:
        return None
    return augment_inequalities


@register_solver("lagrangian", accepts=(Problem, BinaryProgram),
                 description="slack-free Lagrangian QUBO sampled by a QUBO sampler, driven by a dual method, repaired")
def solve_lagrangian(problem, *, rng=None, time_limit=None, callback=None, dual: str = "auto",
                     sampler="anneal", num_reads: int = 32, maxiter: int = 100, tol: float = 1e-6,
                     patience: int | None = None, rho: float | str = "auto", augment_inequalities="auto",
                     initial_multipliers=None, dual_options: dict | None = None,
                     sampler_options: dict | None = None, use_repair: bool = True, keep_samples: bool = False,
                     rho_equality: float | str = "auto"):
    """Return the best feasible solution found by sampling the slack-free Lagrangian QUBO.

    Parameters
    ----------
    problem : Problem with ``to_binary()`` (knapsack, MIS, QAP, TSP) or a BinaryProgram
        Problems of a family with a repair get every sample repaired and locally improved by it;
        any other program (a bare BinaryProgram, a user's model) by the generic
        :func:`~cutslack.solvers.repair.repair_program`.
    dual : {"auto", "subgradient", "averaging", "cutting-plane", "bundle", "augmented"}
        The dual method; ``dual_options`` go to its class (e.g. ``steps="sqrt"`` for the
        subgradient method, ``growth`` for the augmented one).  ``"auto"`` is ``"augmented"``
        when inequalities carry the augmented term, else ``"subgradient"``.
    sampler : {"anneal", "tabu", "tempering", "exhaustive", "qaoa", "vqe", ...} or callable
        Samples every subproblem (``sampler_options`` go to it).  An unknown name raises
        ``ValueError`` before anything runs.
    num_reads : int
        Samples per iteration (the sample budget is ``num_reads × iterations``).
    rho : float or "auto"
        Starting weight of the quadratic terms.  With the augmented inequality form it is in
        scaled units (default :data:`~cutslack.solvers.qubo.augmented.DEFAULT_RHO`) and follows
        a schedule (see :mod:`cutslack.solvers.qubo.augmented`); otherwise it weights
        ``ρ/2‖A_eq x − b_eq‖²`` ("auto": 0, or the multiplier scale for ``dual="augmented"``).
    rho_equality : float or "auto"
        With the augmented form only: starting weight of the equality rows' quadratic term in
        scaled units (default :data:`~cutslack.solvers.qubo.augmented.DEFAULT_RHO_EQUALITY`); it
        follows its own geometric schedule, up to ``RHO_EQUALITY_RANGE`` times its start.
    augment_inequalities : "auto", "augmented", "unbalanced", bool, float or array
        How ``≤`` rows enter the QUBO.  ``"auto"`` (default) and ``"augmented"``: the slack-free
        augmented Lagrangian of :mod:`cutslack.solvers.qubo.augmented` (the form that makes a
        knapsack worth sampling).  ``"unbalanced"``: the quadratic term with the fixed weights of
        :func:`~cutslack.solvers.qubo.formulations.unbalanced_lambdas`, multipliers starting at
        its ``λ1``.  ``True``/a weight: ``ρ_le/2 (A_le x − b_le)²`` unscaled.  ``False``: the pure
        Lagrangian (a diagonal QUBO on a linear objective — sampling it is then not needed, and
        ``info["note"]`` says so).
    initial_multipliers : flat array, optional
        Inequality, equality, then conflict multipliers in the problem's units (default: the
        LP duals with the augmented form, else zero).
    tol, patience, maxiter
        Stop when the relative gap to a valid bound is at most ``tol``, after ``patience``
        iterations with neither a better primal nor a better dual value (default 25 without a
        time limit, none with one: :class:`cutslack.result.Status`), or after ``maxiter``.

    Returns
    -------
    Result
        ``x`` the best feasible native solution (re-scored by the problem), ``bound`` the best
        dual value when every subproblem was exact and no inequality is augmented, ``n_qubits``
        the variables of the QUBO built (the program's own: no slack), ``history`` one record
        per iteration, ``info["subproblem"]`` the path (``"sampled by anneal"``, ``"exhaustive"``)
        and the raw-versus-repaired quality of the samples.
    """
    check_sampler(sampler)
    return _lagrangian_loop(problem, method_name="lagrangian", closed_form=False, rng=rng, time_limit=time_limit,
                            callback=callback, dual=dual, sampler=sampler, num_reads=num_reads, maxiter=maxiter,
                            tol=tol, patience=patience, rho=rho, augment_inequalities=augment_inequalities,
                            initial_multipliers=initial_multipliers, dual_options=dual_options,
                            sampler_options=sampler_options, use_repair=use_repair, keep_samples=keep_samples,
                            rho_equality=rho_equality)


@register_solver("lagrangian-heuristic", accepts=(Problem, BinaryProgram),
                 description="classical Lagrangian heuristic: separable subproblem in closed form, repaired, with a bound")
def solve_lagrangian_heuristic(problem, *, rng=None, time_limit=None, callback=None, dual: str = "subgradient",
                               num_reads: int = 32, maxiter: int = 100, tol: float = 1e-6, patience: int | None = None,
                               initial_multipliers=None, dual_options: dict | None = None, use_repair: bool = True):
    """Return the best feasible solution of the classical Lagrangian heuristic, and its dual bound.

    For programs whose Lagrangian subproblem is separable — a linear objective with linear
    constraints, such as the (multi-dimensional) knapsack — the subproblem ``min_x L(x, λ)`` is
    solved exactly in closed form (``x_j = 1`` iff its reduced cost is negative); ``num_reads − 1``
    exact Boltzmann samples of the diagonal QUBO give repair varied starting points.  No QUBO
    sampler runs (``info["subproblem"] = "closed form"``), and the best dual value is a valid
    bound (``Result.bound``).  Programs with a quadratic objective or conflict pairs are refused
    with a :class:`~cutslack.errors.SolverError`: use ``method="lagrangian"`` with a sampler.

    Options as for :func:`solve_lagrangian` (``dual``, ``num_reads``, ``maxiter``, ``tol``,
    ``patience``, ``initial_multipliers``, ``dual_options``, ``use_repair``).
    """
    return _lagrangian_loop(problem, method_name="lagrangian-heuristic", closed_form=True, rng=rng,
                            time_limit=time_limit, callback=callback, dual=dual, sampler=None, num_reads=num_reads,
                            maxiter=maxiter, tol=tol, patience=patience, rho="auto", augment_inequalities=False,
                            initial_multipliers=initial_multipliers, dual_options=dual_options,
                            sampler_options=None, use_repair=use_repair, keep_samples=False)


def _lagrangian_loop(problem, *, method_name, closed_form, rng, time_limit, callback, dual, sampler, num_reads,
                     maxiter, tol, patience, rho, augment_inequalities, initial_multipliers, dual_options,
                     sampler_options, use_repair, keep_samples, rho_equality="auto"):
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    dual_key = str(dual).lower()
    if dual_key not in DUAL_METHODS and not (dual_key == "auto" and not closed_form):
        raise ValueError(f"unknown dual method {dual!r}; valid: {', '.join(('auto',) + tuple(DUAL_METHODS))}")
    if int(num_reads) < 1 or int(maxiter) < 1:
        raise ValueError("num_reads and maxiter must be at least 1")
    scored, program = program_of(problem)
    if getattr(scored, "family", None) == "tsp" and program.info.get("encoding") != "position":
        raise SolverError(f"method {method_name!r} needs the TSP position encoding")
    if (why := infeasible_relaxation(program, run.time_left())) is not None:
        return make_result(scored, None, method=method_name, run=run, status=Status.INFEASIBLE, n_vars=program.n,
                           info={"message": why})
    mode = _resolve_augment(augment_inequalities, program, sampled=not closed_form)
    n, m_le, m_eq = program.n, program.m_le, program.m_eq
    scaling, active = None, np.ones(m_le, dtype=bool)
    if mode == "augmented":
        if isinstance(rho, str):
            if rho != "auto":
                raise ValueError(f"rho must be a positive number or 'auto', got {rho!r}")
            rho = DEFAULT_RHO
        if not (np.isfinite(rho) and rho > 0):
            raise InvalidInstanceError("rho", "must be finite and positive for the augmented inequality form")
        # every row may carry the quadratic term (a violated row switches it on): refuse up front
        # what could not be built, before any LP runs
        check_squared_rows(sp.vstack([sp.csr_matrix(program.A_le), sp.csr_matrix(program.A_eq)]), 1.0)
        start = augmented_start(program, rho=float(rho), initial_multipliers=initial_multipliers,
                               time_limit=run.time_left())
        rho_eq0 = DEFAULT_RHO_EQUALITY if isinstance(rho_equality, str) and rho_equality == "auto" else rho_equality
        if not (np.isfinite(rho_eq0) and rho_eq0 > 0):
            raise InvalidInstanceError("rho_equality", "must be finite and positive (or 'auto')")
        schedule_rho_eq = float(rho_eq0)
        scaling, work, lam, active = start.scaling, start.scaling.scaled, start.multipliers.copy(), start.active.copy()
        warm_start = start.warm_start
    else:
        work = program
        warm_start = "given multipliers" if initial_multipliers is not None else "zero"
        if initial_multipliers is None:
            lam = np.zeros(program.n_constraints)
        else:
            lam = Multipliers.from_flat(program, initial_multipliers, field_name="initial_multipliers").flat()
    obj_unit = scaling.objective_unit if scaling is not None else 1.0
    scale, box = multiplier_scale(work)
    lower = np.concatenate([np.zeros(m_le), np.full(m_eq, -box), np.zeros(program.n_conflicts)])
    upper = np.full(program.n_constraints, box)
    if mode == "augmented":
        lam = np.clip(lam, lower, upper)
    if dual_key == "auto":
        dual_key = "augmented" if mode == "augmented" else "subgradient"
    rho_le = 0.0
    if mode == "unbalanced":
        from cutslack.solvers.qubo.formulations import unbalanced_lambdas

        l1, l2 = unbalanced_lambdas(program)
        rho_le = 2.0 * np.asarray(l2, dtype=float)
        if initial_multipliers is None:
            lam[:m_le] = l1
    if mode != "augmented":
        if isinstance(rho, str):
            if rho != "auto":
                raise ValueError(f"rho must be a non-negative number or 'auto', got {rho!r}")
            rho = scale / _constraint_unit(program) if dual_key == "augmented" else 0.0
        if not (np.isfinite(rho) and rho >= 0):
            raise InvalidInstanceError("rho", "must be finite and non-negative")
        if mode is not None and mode != "unbalanced":
            rho_le = None if mode is True else mode  # None: follows rho
    options = dict(dual_options or {})
    if dual_key == "augmented":
        options.setdefault("rho", float(rho) if rho > 0 else scale)
        if mode == "augmented":
            # the expected violation of sampled states is too noisy for a sufficient-decrease
            # test: rho sweeps geometrically from weak to stiff coupling
            options.setdefault("growth", RHO_GROWTH)
            options.setdefault("schedule", "geometric")
            options.setdefault("rho_max", RHO_RANGE * float(rho))
    method = make_dual_method(dual_key, lower, upper, scale, **options)
    if dual_key == "augmented" and m_eq == 0 and mode is None:
        # no augmented term in the QUBO: rho is only the step size (growing it would make
        # the multipliers oscillate instead of adding curvature)
        method.curvature = False
    if dual_key != "augmented":
        method.rho = float(rho)
    schedule_rho = float(rho) if mode == "augmented" else None   # the ρ schedule of non-ALM duals
    scorer = SampleScorer(scored, program, use_repair=use_repair)
    # where sampled subproblems leave the dual value an estimate, a cheap valid bound of the problem itself
    # (DP/LP, Gilmore-Lawler, clique cover, Held-Karp) ends the run once the best repaired solution reaches it
    stop = StopRule(cheap_bound(scored, time_limit=run.time_left() if run.deadline is not None else None)
                    if isinstance(scored, Problem) else None, sense=program.sense)
    patience = stagnation_budget(patience, 25, time_limit)
    integral = _objective_integral(program)
    exact_all = True
    best_bound = -np.inf          # best dual value (minimisation form, original units), valid only if exact_all
    best_estimate = -np.inf
    history, samples_kept = [], []
    since_progress, message, status = 0, "", None
    form, form_key, qubo = None, None, None
    n_qubits = None
    sampler_options = dict(sampler_options or {})
    complete_all = True
    # the sampler stops early enough for the scoring after it (repair, residuals) to end by the
    # deadline: 1.5 x the last iteration's scoring time, 10 % of the time left before the first
    scoring_seconds = None
    it = 0
    for it in range(1, int(maxiter) + 1):
        if run.expired():
            break
        if mode == "augmented":
            current_rho = method.rho if dual_key == "augmented" else schedule_rho
            rho_ineq = np.where(active, current_rho, 0.0)
            rho_eq = schedule_rho_eq if m_eq else 0.0
        else:
            rho_ineq = method.rho if rho_le is None else rho_le
            rho_eq = method.rho
        key = (rho_eq, np.asarray(rho_ineq, dtype=float).tobytes())
        if form is None or key != form_key:
            form = LagrangianForm(work, rho=rho_eq, rho_inequality=rho_ineq)
            form_key = key
        if closed_form and not form.separable:
            raise SolverError(f"method {method_name!r} needs a separable Lagrangian subproblem (a linear objective and "
                              "linear constraints); this problem has quadratic terms or conflict pairs: use "
                              "method='lagrangian' with a sampler")
        mult = Multipliers.from_flat(work, lam)
        qubo = form.qubo(mult)
        n_qubits = qubo.n
        if closed_form:
            X, energies = form.sample_separable(mult, int(num_reads), run.rng)
            counts, exact = None, True
        else:
            budget = None
            if time_limit is not None:
                reserve = 0.1 * run.time_left() if scoring_seconds is None else 1.5 * scoring_seconds
                budget = max(run.time_left() - reserve, 1e-3)
            ss, exact = sample_subproblem(qubo, sampler, num_reads=int(num_reads), rng=run.rng, time_limit=budget,
                                          options=sampler_options)
            X, energies, counts = ss.X, ss.energies, ss.counts
            complete_all = complete_all and exact
            if keep_samples:
                samples_kept.append(ss)
        scoring_started = time.perf_counter()
        i = int(np.argmin(energies))
        value = float(energies[i]) * obj_unit           # original units, minimisation form
        G = constraint_residuals(work, X)
        if mode == "augmented":
            w = np.ones(len(X)) if counts is None else np.asarray(counts, dtype=float)
            g = (w @ G) / w.sum()                        # expected residual over the reads
            active |= g[:m_le] > 0
        else:
            g = G[i]
        augmented_ineq = bool(np.any(np.asarray(rho_ineq) > 0))
        exact_all = exact_all and exact and not augmented_ineq
        if exact_all:
            best_bound = max(best_bound, value)
        improved_dual = value > best_estimate + 1e-9 * max(1.0, abs(best_estimate))
        best_estimate = max(best_estimate, value)
        lam_original = scaling.multipliers_to_original(lam) if scaling is not None else lam
        repair_opts = ({"multipliers": lam_original[:m_le]} if getattr(scored, "family", None) == "knapsack" else {})
        stats = scorer.score(X, rng=run.rng, counts=counts, **repair_opts)
        g_orig = constraint_residuals(program, X[i])
        scoring_seconds = time.perf_counter() - scoring_started
        viol = np.concatenate([np.maximum(g_orig[:m_le], 0), np.abs(g_orig[m_le:m_le + m_eq]), g_orig[m_le + m_eq:]])
        record = {"iteration": it, "multipliers": np.array(lam_original, dtype=float), "dual_value": scorer.sign * value,
                  "dual_exact": bool(exact and not augmented_ineq), "best_primal": scorer.best_primal(),
                  "max_violation": float(viol.max()) if viol.size else 0.0,
                  "feasible_fraction": stats["feasible_fraction"],
                  "rho": (float(np.max(rho_ineq, initial=0.0)) if mode == "augmented" else float(method.rho)),
                  "rho_equality": float(rho_eq)}
        if mode == "augmented":
            record["active"] = active.copy()   # ≤ rows carrying the quadratic term after this iteration
        history.append(record)
        since_progress = 0 if (stats["improved"] or improved_dual) else since_progress + 1
        if run.report(make_result(scored, scorer.native_best(), method=method_name, run=run, nit=it,
                                  n_vars=n, n_qubits=n_qubits, history=history)):
            break
        if program.n_constraints == 0:
            message = "no constraints: the Lagrangian is the objective itself, solved once"
            if exact_all and scorer.best_bits is not None:
                status = Status.OPTIMAL
            break
        if exact_all and scorer.best_bits is not None:
            bound_eff = np.ceil(best_bound - 1e-9) if integral else best_bound
            if scorer.best_min - bound_eff <= tol * max(1.0, abs(scorer.best_min)):
                status, message = Status.OPTIMAL, "duality gap closed"
                break
        if not exact_all and stop.update(scorer.best_primal()):
            status, message = Status.OPTIMAL, f"reached the problem's {stop.bound.kind} bound"
            break
        if since_progress >= patience:
            message = f"no progress in {patience:g} iterations"
            break
        target = scorer.best_min / obj_unit if scorer.best_bits is not None else None
        if mode == "augmented" and m_eq and dual_key == "augmented":
            # the method moves every multiplier by its own ρ times the residual: equality rows
            # follow their own schedule, so their residual is rescaled to step by ρ_eq
            g = g.copy()
            g[m_le:m_le + m_eq] *= rho_eq / max(float(method.rho), 1e-300)
        new = method.next_point(lam, value / obj_unit, g, target)
        if not np.all(np.isfinite(new)):
            status, message = Status.ERROR, f"the multipliers diverged (non-finite) at iteration {it}"
            break
        lam = new
        if schedule_rho is not None:
            schedule_rho = min(schedule_rho * RHO_GROWTH, RHO_RANGE * float(rho))
        if mode == "augmented":
            schedule_rho_eq = min(schedule_rho_eq * RHO_GROWTH, RHO_EQUALITY_RANGE * float(rho_eq0))
    else:
        message = f"maxiter={maxiter} reached"
    if run.timed_out and not message:
        message = "time limit reached"
    at_box = bool(np.any(np.isclose(np.abs(lam), box))) if lam.size else False
    if scorer.best_bits is None and status is not Status.ERROR:
        message = ("no feasible solution found" + ("; multipliers reached their box (diverging), so the "
                   "constraints may admit no solution" if at_box else "") + f" ({message})")
    bound_valid = exact_all and np.isfinite(best_bound)
    if closed_form:
        path = "closed form"
    else:
        path = sampled_by(sampler, complete=complete_all)
    formulation = {"augmented": "augmented slack-free (scaled rows, LP-dual warm start, rho schedule)",
                   "unbalanced": "Lagrangian with unbalanced-penalization weights",
                   None: "pure Lagrangian"}.get(mode if isinstance(mode, str) or mode is None else "weighted",
                                                "Lagrangian with a quadratic inequality term")
    info = {"message": message, "dual": method.name, "sampler": None if closed_form else check_sampler(sampler),
            "subproblem": path, "formulation": formulation, "warm_start": warm_start,
            "bound_valid": bool(bound_valid),
            "bound_note": ("every subproblem solved exactly (closed form or exhaustive): the dual value is a bound"
                           if bound_valid else "subproblems sampled by a heuristic sampler, or an inequality carries "
                           "a quadratic term: the dual values in history are estimates, not bounds"),
            "dual_estimate": scorer.sign * best_estimate if np.isfinite(best_estimate) else None,
            "feasible_fraction": scorer.overall_feasible_fraction,
            "multipliers": (scaling.multipliers_to_original(lam) if scaling is not None else lam).tolist(),
            "rho": history[-1]["rho"] if history else float(method.rho), "multiplier_box": box * obj_unit,
            "repaired": scorer.repairable, "repair": scorer.repair_kind}
    info.update(scorer.raw_quality())
    if not closed_form and form is not None and form.separable:
        info["note"] = ("the Lagrangian QUBO is diagonal (separable), so sampling it was not needed: "
                        "method='lagrangian-heuristic' solves it in closed form")
    if isinstance(method, DUAL_METHODS["bundle"]):
        info.update(serious_steps=method.serious_steps, null_steps=method.null_steps)
    return make_result(scored, scorer.native_best(), method=method_name, run=run, status=status,
                       bound=(stop.bound.effective if stop.optimal else
                              scorer.sign * best_bound if bound_valid else None), n_vars=n, n_qubits=n_qubits, nit=it,
                       history=history, samples=SampleSet.concatenate(samples_kept) if samples_kept else None,
                       info=info)
