"""Registers the black-box surrogate methods with :func:`cutslack.solve`.

* ``method="fmqa"``: factorization-machine QUBO surrogates (:mod:`cutslack.surrogates.fmqa`);
* ``method="bocs"``: Bayesian optimisation of combinatorial structures (:mod:`cutslack.surrogates.bocs`);
* ``method="random-search"`` and ``method="blackbox-anneal"``: the baselines every surrogate is
  compared with at the same evaluation budget (:mod:`cutslack.surrogates.blackbox`).

Each takes a Problem with ``to_binary()``, a BinaryProgram, a QUBO, a
:class:`~cutslack.surrogates.blackbox.BlackBox` or a plain callable ``f(bits) -> float``
(with ``n=`` and ``sense=``), and an evaluation ``budget``; the objective is only called
through the counting black box, the constraints stay explicit.  The Result is re-scored by
the wrapped problem, or for a callable by one more call of it that is not charged to the
budget (``info["rescoring_evaluations"]``); ``info["evaluations"]`` is the count the method
used, ``history`` one record per evaluation with the best value so far, and
``info["trace"]`` that best value alone.

This module imports no torch (FMQA's default NumPy training needs none).
"""

from __future__ import annotations

from collections.abc import Callable

from cutslack.api import Run, make_result, register_solver
from cutslack.binary import QUBO, BinaryProgram
from cutslack.problems.base import Problem
from cutslack.result import Status
from cutslack.surrogates.blackbox import BlackBox, as_blackbox, blackbox_anneal, random_search
from cutslack.surrogates.fmqa import DEFAULT_MAX_RANK, fmqa

__all__ = ["solve_fmqa", "solve_bocs", "solve_random_search", "solve_blackbox_anneal", "evaluation_history"]

#: what the black-box methods take: a plain callable ``f(bits) -> float`` (with ``n=``) included
_ACCEPTS = (Problem, BinaryProgram, QUBO, BlackBox, Callable)


def evaluation_history(inc) -> list[dict]:
    """Return one record per counted evaluation: ``{"evaluation", "value", "best"}`` (black box's sense).

    ``best`` is the best finite value up to and including that evaluation (NaN before the first).
    """
    return [{"evaluation": k + 1, "value": float(v), "best": float(b)}
            for k, (v, b) in enumerate(zip(inc.values, inc.trace))]


def _result(bb: BlackBox, inc, *, method: str, run: Run, message: str, error: bool = False, nit: int = 0,
            extra: dict | None = None):
    """Re-score the incumbent by the wrapped problem (or the callable, uncounted) and build the Result."""
    problem = bb.scored_problem()
    x = None if inc.bits is None else bb.native(inc.bits)
    before = bb.rescoring_evaluations
    info = {"message": message, "evaluations": bb.evaluations, "budget": bb.budget, "trace": list(inc.trace),
            "best_value": inc.best_value}
    info.update(extra or {})
    res = make_result(problem, x, method=method, run=run, status=Status.ERROR if error else None, n_vars=bb.n,
                      nit=nit, history=evaluation_history(inc), info=info)
    res.info["rescoring_evaluations"] = bb.rescoring_evaluations - before if problem is bb else 0
    return res


def _blackbox(problem, budget, n, sense) -> BlackBox:
    return as_blackbox(problem, budget, n=n, sense=sense)


def _surrogate_result(bb, outcome, *, method: str, run: Run, sampler, extra: dict):
    evaluated_by_rounds = sum(len(h["observed_min"]) for h in outcome.history)
    info = {"sampler": sampler if isinstance(sampler, str) else "callable", "rounds": outcome.history,
            "initial_points": len(outcome.incumbent.values) - evaluated_by_rounds, **extra}
    return _result(bb, outcome.incumbent, method=method, run=run, message=outcome.message, error=outcome.error,
                   nit=len(outcome.history), extra=info)


def _on_round(bb, run: Run, method: str, callback):
    if callback is None:
        return None

    def on_round(record, incumbent) -> bool:
        return run.report(_result(bb, incumbent, method=method, run=run, message="running", nit=record["round"]))

    return on_round


@register_solver("fmqa", accepts=_ACCEPTS,
                 description="factorization-machine surrogate of a black-box objective, minimised as a QUBO")
def solve_fmqa(problem, *, rng=None, time_limit=None, callback=None, budget: int | None = None,
               n: int | None = None, sense: str | None = None, sampler="anneal", initial_points: int | None = None,
               rank: int | None = None, batch_size: int = 1, epochs: int = 300, warm_epochs: int = 100, lr: float = 0.02,
               weight_decay: float = 1e-4, num_reads: int = 20, sampler_options: dict | None = None,
               dual_iterations: int = 5, exploration: str = "auto", backend: str = "numpy"):
    """Return the best point FMQA finds within ``budget`` black-box evaluations (see :func:`~cutslack.surrogates.fmqa.fmqa`).

    ``problem`` may be a plain callable ``f(bits) -> float`` with ``n=`` (and ``sense=``).
    ``history`` holds one record per evaluation (``best`` is best-so-far), ``info["rounds"]`` the
    per-round records.  ``callback`` receives an intermediate Result once per round;
    ``StopIteration`` stops.
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    bb = _blackbox(problem, budget, n, sense)
    outcome = fmqa(bb, rng=run.rng, sampler=sampler, initial_points=initial_points, rank=rank,
                   batch_size=batch_size, epochs=epochs, warm_epochs=warm_epochs, lr=lr,
                   weight_decay=weight_decay, num_reads=num_reads, sampler_options=sampler_options,
                   dual_iterations=dual_iterations, exploration=exploration, backend=backend, deadline=run.expired,
                   on_round=_on_round(bb, run, "fmqa", callback))
    return _surrogate_result(bb, outcome, method="fmqa", run=run, sampler=sampler,
                             extra={"rank": min(bb.n, DEFAULT_MAX_RANK) if rank is None else min(rank, bb.n),
                                    "exploration": exploration})


@register_solver("bocs", accepts=_ACCEPTS,
                 description="BOCS: sparse Bayesian quadratic model (horseshoe, Gibbs) with Thompson sampling")
def solve_bocs(problem, *, rng=None, time_limit=None, callback=None, budget: int | None = None,
               n: int | None = None, sense: str | None = None, sampler="anneal", initial_points: int | None = None,
               gibbs_steps: int = 30, burn_in: int = 200, batch_size: int = 1, num_reads: int = 20,
               sampler_options: dict | None = None, dual_iterations: int = 5):
    """Return the best point BOCS finds within ``budget`` evaluations (see :func:`~cutslack.surrogates.bocs.bocs`)."""
    from cutslack.surrogates.bocs import bocs

    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    bb = _blackbox(problem, budget, n, sense)
    outcome = bocs(bb, rng=run.rng, sampler=sampler, initial_points=initial_points, gibbs_steps=gibbs_steps,
                   burn_in=burn_in, batch_size=batch_size, num_reads=num_reads, sampler_options=sampler_options,
                   dual_iterations=dual_iterations, deadline=run.expired, on_round=_on_round(bb, run, "bocs", callback))
    return _surrogate_result(bb, outcome, method="bocs", run=run, sampler=sampler, extra={})


@register_solver("random-search", accepts=_ACCEPTS,
                 description="random feasible points on a black-box objective (baseline at equal budget)")
def solve_random_search(problem, *, rng=None, time_limit=None, callback=None, budget: int | None = None,
                        n: int | None = None, sense: str | None = None, density: float = 0.5):
    """Return the best of ``budget`` distinct random feasible points, each one black-box evaluation."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    bb = _blackbox(problem, budget, n, sense)
    inc = random_search(bb, rng=run.rng, deadline=run.expired, density=density)
    msg = inc.nan_message() if inc.nan_at else "evaluation budget used up"
    return _result(bb, inc, method="random-search", run=run, message=msg, error=inc.nan_at is not None)


@register_solver("blackbox-anneal", accepts=_ACCEPTS,
                 description="simulated annealing on a black-box objective, one evaluation per proposal")
def solve_blackbox_anneal(problem, *, rng=None, time_limit=None, callback=None, budget: int | None = None,
                          n: int | None = None, sense: str | None = None, initial_points: int = 10,
                          final_temperature_ratio: float = 1e-3):
    """Return the best point of simulated annealing where every new proposal costs one evaluation."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    bb = _blackbox(problem, budget, n, sense)
    inc = blackbox_anneal(bb, rng=run.rng, deadline=run.expired, initial_points=initial_points,
                          final_temperature_ratio=final_temperature_ratio)
    msg = inc.nan_message() if inc.nan_at else "evaluation budget used up"
    return _result(bb, inc, method="blackbox-anneal", run=run, message=msg, error=inc.nan_at is not None)
