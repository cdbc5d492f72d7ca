"""What every quantum algorithm shares: parameter optimisation that ends with a status,
intermediate reports, and turning samples of a formulation back into a problem's Result.

* :func:`minimize_parameters` runs a SciPy optimiser (COBYLA by default) on a circuit
  objective, keeps the best point seen, stops at the run's deadline or when the callback
  asks, and converts any optimiser failure into a message instead of an exception.  It
  does not start an evaluation that would end past the deadline: it times the optimiser's
  steps (an evaluation plus the optimiser's own work) and stops while there is still time
  for the next step, the ``final_steps`` the caller makes afterwards (preparing the final
  state to sample or round) and a ``reserve`` of seconds (rounding shots), so the method
  returns inside its time limit even when one evaluation takes a sizeable part of it.
  :func:`out_of_time` is the test the methods use between searches.
* :func:`solve_with_sampler` is the body of every registered quantum method: formulate a
  constrained problem as a QUBO (``"penalty"``, ``"unbalanced"`` or ``"lagrangian"``), sample
  it, map samples back to the problem's bits, repair them, and return the best.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from cutslack.api import Run, make_result
from cutslack.binary import QUBO
from cutslack.errors import SolverError
from cutslack.result import SampleSet, Status

__all__ = ["ParameterSearch", "minimize_parameters", "out_of_time", "formulate", "solve_with_sampler",
           "FORMULATIONS", "raw_sample_quality", "report_progress", "one_flip_descent", "search_with_restarts"]

#: formulations a constrained problem can be sampled through
FORMULATIONS = ("penalty", "unbalanced", "lagrangian")


class _Interrupted(Exception):
    """Raised inside an objective to leave the optimiser at the deadline or on a callback stop."""


class ParameterSearch:
    """Book-keeping of one optimisation: the best point, evaluation count, how it ended, and
    ``step_seconds``, the median duration of the optimiser's last five steps (one evaluation
    plus its own work; a later search of the same objective may start from it)."""

    def __init__(self, step_seconds: float = 0.0):
        self.best_x = None
        self.best_value = np.inf
        self.nfev = 0
        self.message = ""
        self.ok = True
        self.step_seconds = float(step_seconds)


def out_of_time(run: Run) -> bool:
    """True when ``run`` was stopped by its callback, has passed its deadline, or a search ended
    early because its next step would have passed it (``run.timed_out``)."""
    return run.stopped or run.expired()  # expired() stays True once ``run.timed_out`` is set


def minimize_parameters(objective, x0, *, run: Run, method: str = "COBYLA", maxiter: int = 200,
                        search: ParameterSearch | None = None, final_steps: float = 1.0,
                        reserve: float = 0.0) -> ParameterSearch:
    """Return a :class:`ParameterSearch` holding the best parameters of ``objective`` from ``x0``.

    Stops early (keeping the best point so far) when ``run`` was stopped, or before an
    evaluation when less time is left than ``reserve`` seconds plus ``1 + final_steps`` steps
    (the evaluation itself and what the caller does afterwards, in evaluations; a step's
    duration is the median of the last five); such a stop marks ``run.timed_out``, so the
    result says TIME_LIMIT.  An exception inside SciPy ends the search with ``ok=False`` and
    the reason in ``message``, never propagates.
    """
    search = search or ParameterSearch()
    x0 = np.asarray(x0, dtype=float)
    last_call, steps = [None], []

    def wrapped(x):
        now = time.perf_counter()
        if last_call[0] is not None:
            steps.append(now - last_call[0])
            search.step_seconds = float(np.median(steps[-5:]))  # one slow first step must not end the search
        last_call[0] = now
        if run.stopped or run.expired():
            raise _Interrupted
        if run.deadline is not None and \
                run.time_left() < reserve + (1.0 + final_steps) * search.step_seconds:
            run.timed_out = True  # the next step would end past the deadline
            raise _Interrupted
        value = float(objective(x))
        search.nfev += 1
        if not np.isfinite(value):
            return 1e300
        if value < search.best_value:
            search.best_value, search.best_x = value, np.array(x, dtype=float)
        return value

    try:
        if x0.size == 0:
            wrapped(x0)
            search.message = "no parameters to optimise"
        else:
            res = minimize(wrapped, x0, method=method, options={"maxiter": max(int(maxiter), x0.size + 2)})
            search.message = str(res.message)
    except _Interrupted:
        search.message = "stopped" if run.stopped else "time limit reached during the parameter search"
    except (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError) as exc:
        search.ok = False
        search.message = f"optimizer {method} failed: {exc}"
    if search.best_x is None:
        search.best_x = x0
    return search


def search_with_restarts(objective, n_params: int, *, run: Run, restarts: int = 1, optimizer: str = "COBYLA",
                         maxiter: int = 200, spread: float = 0.1, first_start=None, on_restart=None,
                         final_steps: float = 1.0, reserve: float = 0.0):
    """Return ``(best_x, best_value, nfev, ok, messages)`` of ``restarts`` parameter searches.

    ``final_steps`` and ``reserve``: the time kept for the caller's work after the search
    (:func:`minimize_parameters`); each restart starts knowing the previous one's step time.

    Restart ``r`` starts at ``first_start`` (``r = 0``, when given) or at angles drawn uniformly
    from ``[-spread, spread]`` with ``run.rng``.  After each restart ``on_restart(search, best_x,
    best_value, r)`` (``search``: that restart's :class:`ParameterSearch`) may return True to stop (a callback stop); the deadline and optimiser failures also end it.
    """
    best_x, best_val, nfev, ok, messages = None, np.inf, 0, True, []
    step = 0.0
    for restart in range(max(1, int(restarts))):
        x0 = run.rng.uniform(-spread, spread, n_params)
        if restart == 0 and first_start is not None:
            x0 = np.asarray(first_start, dtype=float)
        search = minimize_parameters(objective, x0, run=run, method=optimizer, maxiter=maxiter,
                                     search=ParameterSearch(step), final_steps=final_steps, reserve=reserve)
        step = search.step_seconds
        nfev += search.nfev
        ok &= search.ok
        messages.append(search.message)
        if best_x is None or search.best_value < best_val:
            best_x, best_val = search.best_x, search.best_value
        if out_of_time(run) or not search.ok:
            break
        if on_restart is not None and on_restart(search, best_x, best_val, restart):
            break
    return best_x, float(best_val), nfev, bool(ok), messages


def one_flip_descent(qubo: QUBO, X) -> np.ndarray:
    """Return each row of ``X`` after greedy single-bit-flip descent on ``qubo`` (a local minimum).

    Each step flips the bit whose flip lowers the energy most, until no flip does; used after
    rounding the relaxed encodings (PCE, QRAO), as their papers do.
    """
    U = qubo.to_dense()
    S = U + U.T
    diag = np.diag(U).copy()
    np.fill_diagonal(S, 0.0)
    out = np.atleast_2d(np.asarray(X, dtype=np.uint8)).copy()
    for row in out:
        x = row.astype(float)
        field = diag + S @ x
        for _ in range(4 * qubo.n + 1):
            delta = (1.0 - 2.0 * x) * field
            i = int(np.argmin(delta))
            if delta[i] >= -1e-12:
                break
            step = 1.0 - 2.0 * x[i]
            x[i] += step
            field += step * S[:, i]
        row[:] = x.astype(np.uint8)
    return out


def report_progress(run: Run, qubo: QUBO, x, *, method: str, nit: int, info: dict | None = None) -> bool:
    """Send the run's callback an intermediate Result for bit vector ``x``; return True to stop."""
    if run.callback is None:
        return False
    return run.report(make_result(qubo, np.asarray(x), method=method, run=run, nit=nit,
                                  n_qubits=qubo.n, info=info))


def formulate(problem, formulation: str = "penalty", **options):
    """Return ``(qubo, inverse, program)`` for a problem with ``to_binary()``.

    ``"penalty"`` is the slack-bit baseline, ``"unbalanced"`` unbalanced penalization, and
    ``"lagrangian"`` the slack-free augmented Lagrangian: for programs with ``≤`` rows the form
    of :func:`~cutslack.solvers.qubo.augmented.augmented_slackfree_qubo` (scaled rows, LP-dual
    warm start), otherwise the Lagrangian at zero multipliers with penalty weight ``rho``
    (default: the largest objective coefficient) on equalities and conflicts; options go to
    the formulation.
    """
    from cutslack.solvers.qubo.formulations import penalty_qubo, unbalanced_qubo

    program = problem.to_binary()
    key = str(formulation).lower()
    if key == "penalty":
        qubo, inverse = penalty_qubo(program, **options)
    elif key == "unbalanced":
        qubo, inverse = unbalanced_qubo(program, **options)
    elif key == "lagrangian":
        if program.m_le:
            from cutslack.solvers.qubo.augmented import augmented_slackfree_qubo

            qubo, inverse = augmented_slackfree_qubo(program, **options)
        else:
            from cutslack.solvers.qubo.lagrangian import lagrangian_qubo

            scale = float(np.abs(program.c).max()) if program.n else 1.0
            if program.Q is not None:
                Qd = program.Q.toarray() if hasattr(program.Q, "toarray") else np.asarray(program.Q)
                scale = max(scale, float(np.abs(Qd).max()))
            options.setdefault("rho", max(scale, 1.0))
            qubo, inverse = lagrangian_qubo(program, **options)
    else:
        raise ValueError(f"unknown formulation {formulation!r}; expected one of {', '.join(FORMULATIONS)}")
    return qubo, inverse, program


def solve_with_sampler(problem, sampler, *, method: str, rng=None, time_limit=None, callback=None,
                       formulation: str = "penalty", formulation_options: dict | None = None, **sampler_options):
    """Return the Result of sampling ``problem`` (a QUBO or a Problem with ``to_binary``) with ``sampler``.

    A constrained problem is formulated, sampled, mapped back (slack bits dropped), repaired
    and decoded; the best repaired sample (by the problem's own objective) is returned.
    ``info`` records the formulation, qubits, the feasible fraction of raw samples and the
    sampler's own information.
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    if isinstance(problem, QUBO):
        samples = sampler(problem, rng=run.rng, time_limit=run.time_left() if time_limit else None,
                          run=run, **sampler_options)
        return make_result(problem, samples.best, method=method, run=run, samples=samples,
                           n_vars=problem.n, n_qubits=samples.info.get("n_qubits", problem.n),
                           nit=samples.info.get("nit", 0), info=_sampler_info(samples),
                           status=_status(samples))
    if not hasattr(problem, "to_binary"):
        raise SolverError(f"method {method!r} needs a QUBO or a problem with to_binary(); got {type(problem).__name__}")
    from cutslack.solvers.repair import repair

    qubo, inverse, program = formulate(problem, formulation, **(formulation_options or {}))
    samples = sampler(qubo, rng=run.rng, time_limit=run.time_left() if time_limit else None, run=run,
                      **sampler_options)
    bits = inverse.original_bits(samples.X)
    raw_feasible = np.asarray(program.is_feasible(bits), dtype=bool).reshape(-1)
    samples = samples.with_feasibility(raw_feasible)
    repaired = np.atleast_2d(repair(problem, bits, rng=run.rng))
    solutions = [program.decode_bits(b) for b in repaired]
    values = np.array([problem.evaluate(s) for s in solutions], dtype=float)
    feasible = np.array([problem.is_feasible(s, atol=1e-6) for s in solutions], dtype=bool)
    sign = -1.0 if problem.sense == "max" else 1.0
    score = np.where(feasible, sign * values, np.inf)
    best = int(np.argmin(score)) if np.isfinite(score).any() else int(np.argmin(sign * values))
    info = _sampler_info(samples)
    info.update(formulation=formulation, n_slack=int(inverse.n_qubo - inverse.n_original),
                feasible_fraction=samples.feasible_fraction(),
                repaired_feasible_fraction=float((samples.counts * feasible).sum() / samples.num_reads),
                subproblem=f"sampled by {method}")
    info.update(raw_sample_quality(problem, program, bits, samples.counts, values, feasible))
    return make_result(problem, solutions[best], method=method, run=run, samples=samples, n_vars=qubo.n,
                       n_qubits=samples.info.get("n_qubits", qubo.n), nit=samples.info.get("nit", 0),
                       info=info, status=None if _status(samples) is None else _status(samples))


def raw_sample_quality(problem, program, bits, counts, repaired_values, repaired_feasible) -> dict:
    """Return the raw (before repair) and repaired quality of sampled program bits.

    ``raw_feasible_fraction`` (weighted by ``counts``), ``best_raw_objective`` (best raw bit
    vector satisfying every constraint), ``best_repaired_objective``, and — when the problem
    has a known optimum — ``p_optimal_raw``: the probability mass of raw samples that are
    feasible and optimal (within 1e-9 relative), ``p_near_optimal_raw`` the mass within 1 %.
    """
    bits = np.atleast_2d(np.asarray(bits))
    counts = np.asarray(counts, dtype=float)
    total = max(float(counts.sum()), 1.0)
    raw_ok = np.asarray(program.is_feasible(bits, atol=1e-6), dtype=bool).reshape(-1)
    sign = -1.0 if problem.sense == "max" else 1.0
    raw_vals = np.asarray(program.objective(bits), dtype=float).reshape(-1)
    out = {"raw_feasible_fraction": float(counts[raw_ok].sum() / total),
           "best_raw_objective": (float(raw_vals[raw_ok].max() if sign < 0 else raw_vals[raw_ok].min())
                                  if raw_ok.any() else None),
           "best_repaired_objective": (float(repaired_values[repaired_feasible].max() if sign < 0 else
                                             repaired_values[repaired_feasible].min())
                                       if np.any(repaired_feasible) else None)}
    known = getattr(problem, "known_optimum", None)
    if known is not None:
        opt = float(known.value)
        rel = sign * (raw_vals - opt) / max(abs(opt), 1e-12)   # >= 0 means worse than the optimum
        out["p_optimal_raw"] = float(counts[raw_ok & (rel <= 1e-9)].sum() / total)
        out["p_near_optimal_raw"] = float(counts[raw_ok & (rel <= 0.01)].sum() / total)
    return out


def _sampler_info(samples: SampleSet) -> dict:
    return {k: v for k, v in samples.info.items() if k not in ("nit",)}


def _status(samples: SampleSet):
    """ERROR when the sampler's optimiser failed, else None (make_result decides)."""
    return Status.ERROR if samples.info.get("optimizer_ok") is False else None
