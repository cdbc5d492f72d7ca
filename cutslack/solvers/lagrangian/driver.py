"""``method="lagrangian"``: the slack-free Lagrangian QUBO driven by a dual method.

One loop for every dual method: build the Lagrangian QUBO for the current multipliers
(:class:`~cutslack.solvers.qubo.lagrangian.LagrangianForm`), solve the subproblem — in
closed form when the QUBO is separable (a linear objective such as the knapsack's, no
augmented term), by exhaustive search with ``sampler="exhaustive"``, or by a QUBO sampler —
score and repair every sample (:mod:`cutslack.solvers.repair`), take the residuals of the
lowest-energy sample as the subgradient, let the dual method propose the next multipliers,
and record the iteration.  It stops on a relative duality gap below ``tol`` (only with a
valid bound), on ``patience`` iterations without progress, on ``maxiter`` or on
``time_limit``.

The dual value ``min_x L(x, λ)`` is a bound only when every subproblem was solved exactly;
with a heuristic sampler it is an estimate (at or above the true dual value): then
``Result.bound`` is None, ``info["bound_valid"]`` is False and the estimates stay in the
history.
"""

from __future__ import annotations

import numpy as np

from cutslack.api import Run, make_result, register_solver
from cutslack.binary import BinaryProgram
from cutslack.errors import InvalidInstanceError, SolverError
from cutslack.problems.base import Problem
from cutslack.result import SampleSet, Status
from cutslack.solvers.bounds import StopRule, cheap_bound
from cutslack.solvers.lagrangian.dual import DUAL_METHODS, make_dual_method
from cutslack.solvers.lagrangian.scoring import SampleScorer, program_of, sample_subproblem
from cutslack.solvers.qubo.lagrangian import LagrangianForm, Multipliers, constraint_residuals

__all__ = ["solve_lagrangian", "multiplier_scale"]

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


@register_solver("lagrangian", accepts=(Problem, BinaryProgram),
                 description="slack-free Lagrangian QUBO driven by a dual method, sampled and repaired")
def solve_lagrangian(problem, *, rng=None, time_limit=None, callback=None, dual: str = "subgradient",
                     sampler="anneal", num_reads: int = 32, maxiter: int = 100, tol: float = 1e-6,
                     patience: int = 25, rho: float | str = "auto", augment_inequalities=False,
                     initial_multipliers=None, dual_options: dict | None = None,
                     sampler_options: dict | None = None, use_repair: bool = True, keep_samples: bool = False):
    """Return the best feasible solution found by the Lagrangian (slack-free) QUBO method.

    Parameters
    ----------
    problem : Problem with ``to_binary()`` (knapsack, MIS, QAP, TSP) or a BinaryProgram
        Problems of a family with a repair get every sample repaired and locally improved; a
        bare BinaryProgram only has its feasible samples kept.
    dual : {"subgradient", "averaging", "cutting-plane", "bundle", "augmented"}
        The dual method; ``dual_options`` go to its class (e.g. ``steps="sqrt"`` or
        ``"polyak"`` for the subgradient method, ``growth`` for the augmented one).
    sampler : {"anneal", "tabu", "tempering", "exhaustive"} or callable
        Solves non-separable subproblems; ``sampler_options`` go to it.  Separable
        subproblems are solved in closed form whatever the sampler.
    num_reads : int
        Samples per iteration (the sample budget is ``num_reads × iterations``).
    rho : float or "auto"
        Weight of the augmented term ``ρ/2‖A_eq x − b_eq‖²``; "auto" is 0 except for
        ``dual="augmented"``, where it starts at the multiplier scale and follows the method's
        schedule.
    augment_inequalities : bool, float, array or "unbalanced"
        Add ``ρ_le/2 (A_le x − b_le)²`` (this also penalises unused capacity; the dual value
        is then no bound).  ``"unbalanced"`` takes ``ρ_le`` and the starting multipliers
        from :func:`~cutslack.solvers.qubo.formulations.unbalanced_lambdas`, so the dual method
        drives the linear coefficients of unbalanced penalization.
    initial_multipliers : flat array, optional
        Inequality, equality, then conflict multipliers (default zero).
    tol, patience, maxiter
        Stop when the relative gap to a valid bound is at most ``tol``, after ``patience``
        iterations with neither a better primal nor a better dual value, or after ``maxiter``.

    Returns
    -------
    Result
        ``x`` the best feasible native solution (re-scored by the problem), ``bound`` the best
        dual value in the problem's sense when every subproblem was exact, ``n_qubits`` the
        QUBO's variables (the program's own, no slack), ``history`` one record per iteration
        (multipliers, dual value, best primal, max violation, feasible fraction, rho).
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    if str(dual).lower() not in DUAL_METHODS:
        raise ValueError(f"unknown dual method {dual!r}; valid: {', '.join(DUAL_METHODS)}")
    if int(num_reads) < 1 or int(maxiter) < 1:
        raise ValueError("num_reads and maxiter must be at least 1")
    scored, program = program_of(problem)
    if getattr(scored, "family", None) == "tsp" and program.info.get("encoding") != "position":
        raise SolverError("method 'lagrangian' needs the TSP position encoding")
    n, m_le, m_eq = program.n, program.m_le, program.m_eq
    scale, box = multiplier_scale(program)
    lower = np.concatenate([np.zeros(m_le), np.full(m_eq, -box), np.zeros(program.n_conflicts)])
    upper = np.full(program.n_constraints, box)
    if initial_multipliers is None:
        lam = np.zeros(program.n_constraints)
    else:
        lam = Multipliers.from_flat(program, initial_multipliers, field_name="initial_multipliers").flat()
    rho_le = 0.0
    if isinstance(augment_inequalities, str):
        if augment_inequalities != "unbalanced":
            raise ValueError("augment_inequalities must be a bool, a weight or 'unbalanced'")
        from cutslack.solvers.qubo.formulations import unbalanced_lambdas

        l1, l2 = unbalanced_lambdas(program)
        rho_le = 2.0 * np.asarray(l2, dtype=float)
        if initial_multipliers is None:
            lam[:m_le] = l1
    if isinstance(rho, str):
        if rho != "auto":
            raise ValueError(f"rho must be a non-negative number or 'auto', got {rho!r}")
        rho = scale / _constraint_unit(program) if str(dual).lower() == "augmented" else 0.0
    if not (np.isfinite(rho) and rho >= 0):
        raise InvalidInstanceError("rho", "must be finite and non-negative")
    if augment_inequalities is True:
        rho_le = None  # follows rho
    elif not isinstance(augment_inequalities, str) and augment_inequalities is not False:
        rho_le = augment_inequalities
    options = dict(dual_options or {})
    if str(dual).lower() == "augmented":
        options.setdefault("rho", float(rho) if rho > 0 else scale)
    method = make_dual_method(dual, lower, upper, scale, **options)
    if str(dual).lower() == "augmented" and m_eq == 0 and augment_inequalities is False:
        # no augmented term in the QUBO: rho is only the step size (growing it would make
        # the multipliers oscillate instead of adding curvature)
        method.curvature = False
    if str(dual).lower() != "augmented":
        method.rho = float(rho)
    scorer = SampleScorer(scored, program, use_repair=use_repair)
    # where sampled subproblems leave the dual value an estimate, a cheap valid bound of the problem itself
    # (DP/LP, Gilmore-Lawler, clique cover, Held-Karp) ends the run once the best repaired solution reaches it
    stop = StopRule(cheap_bound(scored) if isinstance(scored, Problem) else None, sense=program.sense)
    integral = _objective_integral(program)
    exact_all = True
    best_bound = -np.inf          # best dual value (minimisation form), valid only if exact_all
    best_estimate = -np.inf
    history, samples_kept = [], []
    since_progress, message, status = 0, "", None
    form, form_key = None, None
    sampler_options = dict(sampler_options or {})
    it = 0
    for it in range(1, int(maxiter) + 1):
        if run.expired():
            break
        key = (method.rho, None if rho_le is None else np.asarray(rho_le).tobytes())
        if form is None or key != form_key:
            form = LagrangianForm(program, rho=method.rho, rho_inequality=method.rho if rho_le is None else rho_le)
            form_key = key
        mult = Multipliers.from_flat(program, lam)
        if form.separable:
            X, energies = form.sample_separable(mult, int(num_reads), run.rng)
            counts, exact = None, True
        else:
            qubo = form.qubo(mult)
            ss, exact = sample_subproblem(qubo, sampler, num_reads=int(num_reads), rng=run.rng,
                                   time_limit=run.time_left() if time_limit is not None else None,
                                   options=sampler_options)
            X, energies, counts = ss.X, ss.energies, ss.counts
            if keep_samples:
                samples_kept.append(ss)
        i = int(np.argmin(energies))
        value = float(energies[i])
        g = constraint_residuals(program, X[i])
        exact_all = exact_all and exact and not np.any(np.asarray(form.rho_inequality) > 0)
        if exact_all:
            best_bound = max(best_bound, value)
        improved_dual = value > best_estimate + 1e-9 * max(1.0, abs(best_estimate))
        best_estimate = max(best_estimate, value)
        repair_opts = {"multipliers": mult.inequality} if getattr(scored, "family", None) == "knapsack" else {}
        stats = scorer.score(X, rng=run.rng, counts=counts, **repair_opts)
        viol = np.concatenate([np.maximum(g[:m_le], 0), np.abs(g[m_le:m_le + m_eq]), g[m_le + m_eq:]])
        record = {"iteration": it, "multipliers": lam.copy(), "dual_value": scorer.sign * value,
                  "dual_exact": bool(exact), "best_primal": scorer.best_primal(),
                  "max_violation": float(viol.max()) if viol.size else 0.0,
                  "feasible_fraction": stats["feasible_fraction"], "rho": float(method.rho)}
        history.append(record)
        since_progress = 0 if (stats["improved"] or improved_dual) else since_progress + 1
        if run.report(make_result(scored, scorer.native_best(), method="lagrangian", run=run, nit=it,
                                  n_vars=n, n_qubits=n, history=history)):
            break
        if exact_all and scorer.best_bits is not None:
            bound_eff = np.ceil(best_bound - 1e-9) if integral else best_bound
            if scorer.best_min - bound_eff <= tol * max(1.0, abs(scorer.best_min)):
                status, message = Status.OPTIMAL, "duality gap closed"
                break
        if not exact_all and stop.update(scorer.best_primal()):
            status, message = Status.OPTIMAL, f"reached the problem's {stop.bound.kind} bound"
            break
        if program.n_constraints == 0:
            message = "no constraints: the Lagrangian is the objective itself, solved once"
            break
        if since_progress >= int(patience):
            message = f"no progress in {patience} iterations"
            break
        new = method.next_point(lam, value, g, scorer.best_min if scorer.best_bits is not None else None)
        if not np.all(np.isfinite(new)):
            status, message = Status.ERROR, f"the multipliers diverged (non-finite) at iteration {it}"
            break
        lam = new
    else:
        message = f"maxiter={maxiter} reached"
    if run.timed_out and not message:
        message = "time limit reached"
    at_box = bool(np.any(np.isclose(np.abs(lam), box))) if lam.size else False
    if scorer.best_bits is None and status is not Status.ERROR:
        message = ("no feasible solution found" + ("; multipliers reached their box (diverging), so the "
                   "constraints may admit no solution" if at_box else "") + f" ({message})")
    bound_valid = exact_all and np.isfinite(best_bound)
    info = {"message": message, "dual": method.name, "sampler": sampler if isinstance(sampler, str) else "callable",
            "bound_valid": bool(bound_valid),
            "bound_note": ("every subproblem solved exactly (closed form or exhaustive): the dual value is a bound"
                           if bound_valid else "subproblems solved by a heuristic sampler (or an inequality was "
                           "augmented): the dual values in history are estimates, not bounds"),
            "dual_estimate": scorer.sign * best_estimate if np.isfinite(best_estimate) else None,
            "feasible_fraction": scorer.overall_feasible_fraction, "multipliers": lam.tolist(),
            "rho": float(method.rho), "multiplier_box": box, "repaired": scorer.repairable,
            "subproblem": "closed form" if form is not None and form.separable else "sampled"}
    if isinstance(method, DUAL_METHODS["bundle"]):
        info.update(serious_steps=method.serious_steps, null_steps=method.null_steps)
    return make_result(scored, scorer.native_best(), method="lagrangian", run=run, status=status,
                       bound=(stop.bound.effective if stop.optimal else
                              scorer.sign * best_bound if bound_valid else None), n_vars=n, n_qubits=n, nit=it,
                       history=history, samples=SampleSet.concatenate(samples_kept) if samples_kept else None,
                       info=info)

