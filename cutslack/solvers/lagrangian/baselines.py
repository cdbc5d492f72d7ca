"""``method="penalty"`` (slack-bit penalty QUBO) and ``method="unbalanced"`` (unbalanced
penalization): the fixed-weight baselines of the Lagrangian method.

Both build their QUBO once (:func:`~cutslack.solvers.qubo.penalty_qubo`,
:func:`~cutslack.solvers.qubo.unbalanced_qubo`), then draw ``rounds`` batches of
``num_reads`` samples with the same samplers, and score and repair every sample exactly as
``method="lagrangian"`` does, so the three compare on the same sample budget.  No bound is
reported: the penalised QUBO's minimum bounds nothing.
"""

from __future__ import annotations

from cutslack.api import Run, make_result, register_solver
from cutslack.binary import BinaryProgram
from cutslack.problems.base import Problem
from cutslack.result import Status
from cutslack.solvers.bounds import StopRule, cheap_bound, stagnation_budget
from cutslack.solvers.lagrangian.scoring import (SampleScorer, check_sampler, infeasible_relaxation, program_of,
                                                sample_subproblem, sampled_by)

__all__ = ["solve_penalty", "solve_unbalanced", "sample_formulation"]


def sample_formulation(problem, formulation, *, method: str, run: Run, sampler, num_reads: int, rounds: int,
                       sampler_options: dict | None, use_repair: bool, formulation_options: dict,
                       max_no_improve: float | None = None):
    """Return the Result of sampling ``formulation(program, **formulation_options)`` for up to ``rounds`` rounds.

    Stops early (:class:`~cutslack.solvers.bounds.StopRule`) once the best repaired solution
    reaches the problem's cheap valid bound (status OPTIMAL) or after ``max_no_improve``
    rounds without a better one (default 5 without a time limit, none with one:
    :class:`cutslack.result.Status`).  A program whose LP relaxation HiGHS proves infeasible ends
    at once with ``Status.INFEASIBLE`` (:func:`~cutslack.solvers.lagrangian.scoring.infeasible_relaxation`).
    """
    check_sampler(sampler)
    scored, program = program_of(problem)
    if (why := infeasible_relaxation(program, run.time_left())) is not None:
        return make_result(scored, None, method=method, run=run, status=Status.INFEASIBLE, n_vars=program.n,
                           info={"message": why, "sampler": check_sampler(sampler)})
    bound = cheap_bound(scored, time_limit=run.time_left() if run.deadline is not None else None) \
        if isinstance(scored, Problem) else None
    stop = StopRule(bound, stagnation_budget(max_no_improve, 5, run.time_limit), sense=program.sense)
    qubo, inverse = formulation(program, **formulation_options)
    scorer = SampleScorer(scored, program, use_repair=use_repair)
    history = []
    it = 0
    for it in range(1, int(rounds) + 1):
        if run.expired():
            break
        ss, complete = sample_subproblem(qubo, sampler, num_reads=int(num_reads), rng=run.rng,
                                  time_limit=run.time_left() if run.deadline is not None else None,
                                  options=dict(sampler_options or {}))
        bits = inverse.original_bits(ss.X)
        stats = scorer.score(bits, rng=run.rng, counts=ss.counts)
        history.append({"iteration": it, "best_primal": scorer.best_primal(), "lowest_energy": ss.best_energy,
                        "feasible_fraction": stats["feasible_fraction"], "complete": bool(complete)})
        if run.report(make_result(scored, scorer.native_best(), method=method, run=run, nit=it,
                                  n_vars=program.n, n_qubits=qubo.n, history=history)):
            break
        if stop.update(scorer.best_primal()):
            break
    complete = all(h.get("complete", False) for h in history) and bool(history)
    info = {"formulation": dict(inverse.info), "n_slack": inverse.n_qubo - inverse.n_original,
            "feasible_fraction": scorer.overall_feasible_fraction, "repaired": scorer.repairable,
            "repair": scorer.repair_kind,
            "sampler": check_sampler(sampler), "subproblem": sampled_by(sampler, complete=complete)}
    info.update(scorer.raw_quality())
    if scorer.best_bits is None:
        info["message"] = "no feasible solution found among the samples"
    info["stop"] = stop.reason or ("time_limit" if run.timed_out else "rounds")
    return make_result(scored, scorer.native_best(), method=method, run=run, n_vars=program.n, n_qubits=qubo.n,
                       nit=it, history=history, info=info, status=Status.OPTIMAL if stop.optimal else None,
                       bound=bound.effective if stop.optimal else None)


@register_solver("penalty", accepts=(Problem, BinaryProgram),
                 description="slack-bit penalty QUBO, sampled and repaired (baseline)")
def solve_penalty(problem, *, rng=None, time_limit=None, callback=None, sampler="anneal", num_reads: int = 32,
                  rounds: int = 10, penalty="auto", rule: str = "cutslack", sampler_options: dict | None = None,
                  use_repair: bool = True, max_no_improve: float | None = None):
    """Return the best feasible solution among samples of the slack-bit penalty QUBO.

    Each inequality gets ``⌊log₂ C⌋ + 1`` slack bits (``n_qubits`` counts them); the sample
    budget is at most ``rounds × num_reads``: the run stops early when its best solution
    reaches the problem's cheap valid bound (OPTIMAL) or after ``max_no_improve`` rounds
    without a better one (None: never).
    """
    from cutslack.solvers.qubo import penalty_qubo

    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    return sample_formulation(problem, penalty_qubo, method="penalty", run=run, sampler=sampler, num_reads=num_reads,
                              rounds=rounds, sampler_options=sampler_options, use_repair=use_repair,
                              formulation_options={"penalty": penalty, "rule": rule}, max_no_improve=max_no_improve)


@register_solver("unbalanced", accepts=(Problem, BinaryProgram),
                 description="unbalanced penalization QUBO (no slack bits), sampled and repaired (baseline)")
def solve_unbalanced(problem, *, rng=None, time_limit=None, callback=None, sampler="anneal", num_reads: int = 32,
                     rounds: int = 10, lambdas="auto", sampler_options: dict | None = None, use_repair: bool = True,
                     max_no_improve: float | None = None):
    """Return the best feasible solution among samples of the unbalanced-penalization QUBO.

    Fixed ``lambdas`` (see :func:`~cutslack.solvers.qubo.unbalanced_qubo`); ``method="lagrangian"``
    with ``augment_inequalities="unbalanced"`` drives the linear ones by a dual method instead.
    Stops early on the cheap bound or ``max_no_improve`` rounds, as ``method="penalty"``.
    """
    from cutslack.solvers.qubo import unbalanced_qubo

    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    return sample_formulation(problem, unbalanced_qubo, method="unbalanced", run=run, sampler=sampler,
                              num_reads=num_reads, rounds=rounds, sampler_options=sampler_options,
                              use_repair=use_repair, formulation_options={"lambdas": lambdas},
                              max_no_improve=max_no_improve)
