"""Registers the black-box surrogate methods with :func:`cutslack.solve`.

* ``method="fmqa"``: factorization-machine QUBO surrogates (:mod:`cutslack.surrogates.fmqa`);
* ``method="random-search"`` and ``method="blackbox-anneal"``: the baselines every surrogate is
  compared with at the same evaluation budget (:mod:`cutslack.surrogates.blackbox`).

Each takes a Problem with ``to_binary()``, a BinaryProgram, a QUBO or a
:class:`~cutslack.surrogates.blackbox.BlackBox` and an evaluation ``budget``; the objective
is only called through the counting black box, the constraints stay explicit.  The Result is
re-scored by the wrapped problem (that re-scoring is the Result contract, not an evaluation
the method used); ``info["evaluations"]`` is the count the method used and
``info["trace"]`` the best value after each evaluation.

This module imports no torch (FMQA's default NumPy training needs none).
"""

from __future__ import annotations

from cutslack.api import Run, make_result, register_solver
from cutslack.binary import QUBO, BinaryProgram
from cutslack.problems.base import Problem
from cutslack.result import Status
from cutslack.surrogates.blackbox import BlackBox, as_blackbox, blackbox_anneal, random_search
from cutslack.surrogates.fmqa import fmqa

__all__ = ["solve_fmqa", "solve_random_search", "solve_blackbox_anneal"]

_ACCEPTS = (Problem, BinaryProgram, QUBO, BlackBox)


def _result(bb: BlackBox, inc, *, method: str, run: Run, message: str, error: bool = False, history=None,
            nit: int = 0, extra: dict | None = None):
    problem = bb.scored_problem()
    x = None if inc.bits is None else bb.native(inc.bits)
    info = {"message": message, "evaluations": bb.evaluations, "budget": bb.budget, "trace": list(inc.trace),
            "best_value": inc.best_value}
    info.update(extra or {})
    if problem is None:
        raise ValueError("a bare callable black box has no problem to score a Result by; call the functions of "
                         "cutslack.surrogates.fmqa / .blackbox directly")
    return make_result(problem, x, method=method, run=run, status=Status.ERROR if error else None, n_vars=bb.n,
                       nit=nit, history=history, info=info)


@register_solver("fmqa", accepts=_ACCEPTS,
                 description="factorization-machine surrogate of a black-box objective, minimised as a QUBO")
def solve_fmqa(problem, *, rng=None, time_limit=None, callback=None, budget: int | None = None,
               sampler="anneal", initial_points: int | None = None, rank: int = 16, batch_size: int = 1,
               epochs: int = 300, warm_epochs: int = 100, lr: float = 0.02, weight_decay: float = 1e-4,
               num_reads: int = 20, sampler_options: dict | None = None, dual_iterations: int = 5,
               backend: str = "numpy"):
    """Return the best point FMQA finds within ``budget`` black-box evaluations (see :func:`~cutslack.surrogates.fmqa.fmqa`).

    ``callback`` receives an intermediate Result once per round; ``StopIteration`` stops.
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    bb = as_blackbox(problem, budget)

    def on_round(record, incumbent) -> bool:
        return run.report(_result(bb, incumbent, method="fmqa", run=run, message="running", nit=record["round"]))

    outcome = fmqa(bb, rng=run.rng, sampler=sampler, initial_points=initial_points, rank=rank,
                   batch_size=batch_size, epochs=epochs, warm_epochs=warm_epochs, lr=lr,
                   weight_decay=weight_decay, num_reads=num_reads, sampler_options=sampler_options,
                   dual_iterations=dual_iterations, backend=backend, deadline=run.expired,
                   on_round=on_round if callback is not None else None)
    return _result(bb, outcome.incumbent, method="fmqa", run=run, message=outcome.message, error=outcome.error,
                   history=outcome.history, nit=len(outcome.history),
                   extra={"sampler": sampler if isinstance(sampler, str) else "callable", "rank": min(rank, bb.n),
                          "initial_points": len(outcome.incumbent.y_min) - sum(len(h["observed_min"])
                                                                               for h in outcome.history)})


@register_solver("random-search", accepts=_ACCEPTS,
                 description="random feasible points on a black-box objective (baseline at equal budget)")
def solve_random_search(problem, *, rng=None, time_limit=None, callback=None, budget: int | None = None,
                        density: float = 0.5):
    """Return the best of ``budget`` distinct random feasible points, each one black-box evaluation."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    bb = as_blackbox(problem, budget)
    inc = random_search(bb, rng=run.rng, deadline=run.expired, density=density)
    msg = inc.nan_message() if inc.nan_at else "evaluation budget used up"
    return _result(bb, inc, method="random-search", run=run, message=msg, error=inc.nan_at is not None)


@register_solver("blackbox-anneal", accepts=_ACCEPTS,
                 description="simulated annealing on a black-box objective, one evaluation per proposal")
def solve_blackbox_anneal(problem, *, rng=None, time_limit=None, callback=None, budget: int | None = None,
                          initial_points: int = 10, final_temperature_ratio: float = 1e-3):
    """Return the best point of simulated annealing where every new proposal costs one evaluation."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    bb = as_blackbox(problem, budget)
    inc = blackbox_anneal(bb, rng=run.rng, deadline=run.expired, initial_points=initial_points,
                          final_temperature_ratio=final_temperature_ratio)
    msg = inc.nan_message() if inc.nan_at else "evaluation budget used up"
    return _result(bb, inc, method="blackbox-anneal", run=run, message=msg, error=inc.nan_at is not None)
