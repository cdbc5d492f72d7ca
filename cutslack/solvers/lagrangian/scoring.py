"""What the Lagrangian driver and the penalty baselines share: the program of a problem, sampling
a QUBO, scoring and repairing samples, and the incumbent.

:class:`~cutslack.binary.BinaryProgram` scores itself like a
Problem (``evaluate``/``is_feasible``), so :func:`~cutslack.api.make_result` re-scores its
solutions.  Problems of a family with a repair (:data:`~cutslack.solvers.repair.REPAIRABLE_FAMILIES`)
get it; every other program — a bare BinaryProgram, a user's own model — gets the generic
repair of :func:`~cutslack.solvers.repair.repair_program` (greedy violation-reducing flips and
one-hot swaps, then feasibility-keeping improvement), and only the samples it makes feasible
are kept.
"""

from __future__ import annotations

import numpy as np

from cutslack.binary import BinaryProgram
from cutslack.errors import SolverError
from cutslack.problems.base import Problem
from cutslack.solvers.qubo.samplers import sampler_names
from cutslack.solvers.repair import REPAIRABLE_FAMILIES, repair, repair_program

__all__ = ["program_of", "infeasible_relaxation", "SampleScorer", "sample_subproblem", "check_sampler", "sampled_by",
           "SAMPLER_NAMES"]

#: sampler names understood by :func:`cutslack.solvers.qubo.sample_qubo` (classical and quantum)
SAMPLER_NAMES = sampler_names()


def program_of(problem):
    """Return ``(scored_problem, program)``: what results are scored by, and the BinaryProgram to relax.

    Raises :class:`SolverError` when the problem has no binary form (or TSP is asked for the
    edge encoding, whose degree constraints admit subtours).
    """
    if isinstance(problem, BinaryProgram):
        return problem, problem  # a BinaryProgram scores its own bit vectors
    to_binary = getattr(type(problem), "to_binary", None)
    if to_binary is None or to_binary is Problem.to_binary:
        raise SolverError(f"a {type(problem).__name__} has no binary form (to_binary) to build a QUBO from")
    return problem, problem.to_binary()


def infeasible_relaxation(program: BinaryProgram, time_limit: float | None = None) -> str | None:
    """Return why ``program`` has no feasible bit vector when its LP relaxation proves it, else None.

    Solves the feasibility LP ``A_le x ≤ b_le, A_eq x = b_eq, x_i + x_j ≤ 1`` (conflicts),
    ``0 ≤ x ≤ 1`` with HiGHS (:func:`scipy.optimize.linprog`); an infeasible relaxation is a
    proof that no bit vector is feasible, so the samplers need not run.  None also when HiGHS
    ends without a verdict, e.g. out of its ``time_limit`` seconds (the samplers then run as usual).
    """
    if program.n_constraints == 0:
        return None
    import scipy.sparse as sp
    from scipy.optimize import linprog

    blocks, rhs = [], []
    if program.m_le:
        blocks.append(sp.csr_matrix(program.A_le, dtype=float))
        rhs.append(np.asarray(program.b_le, dtype=float))
    if program.n_conflicts:
        k, conf = program.n_conflicts, np.asarray(program.conflicts)
        blocks.append(sp.csr_matrix((np.ones(2 * k), (np.repeat(np.arange(k), 2), conf.reshape(-1))),
                                    shape=(k, program.n)))
        rhs.append(np.ones(k))
    kwargs = {}
    if blocks:
        kwargs.update(A_ub=sp.vstack(blocks, format="csr"), b_ub=np.concatenate(rhs))
    if program.m_eq:
        kwargs.update(A_eq=sp.csr_matrix(program.A_eq, dtype=float), b_eq=np.asarray(program.b_eq, dtype=float))
    from cutslack.solvers.bounds import highs_time_options

    res = linprog(np.zeros(program.n), bounds=(0, 1), **kwargs, **{"method": "highs", **highs_time_options(time_limit)})
    if res.status == 2:
        return ("no feasible solution: the LP relaxation is infeasible (proved by HiGHS), so no bit vector "
                "satisfies the constraints")
    return None


def check_sampler(sampler) -> str:
    """Return the sampler's label (its lower-case name, or ``"callable"``); raise for an unknown one.

    Raises ``ValueError`` listing the valid names for an unknown string and ``TypeError`` for
    anything that is neither a name nor a callable, so a mistyped sampler is never silently
    ignored.
    """
    if callable(sampler):
        return getattr(sampler, "__name__", "callable")
    if not isinstance(sampler, str):
        raise TypeError(f"sampler must be a name or a callable, got {type(sampler).__name__}")
    if sampler.lower() not in SAMPLER_NAMES:
        raise ValueError(f"unknown sampler {sampler!r}; valid: {', '.join(SAMPLER_NAMES)} or a callable")
    return sampler.lower()


def sampled_by(sampler, *, complete: bool = False) -> str:
    """Return the path label a result records: ``"exhaustive"`` (complete search) or ``"sampled by NAME"``."""
    label = check_sampler(sampler)
    if label == "exhaustive" and complete:
        return "exhaustive"
    return f"sampled by {label}"


def sample_subproblem(qubo, sampler, *, num_reads: int, rng, time_limit, options: dict):
    """Return ``(SampleSet, exact)``: ``qubo`` sampled by ``sampler`` (a name or a callable).

    ``exact`` is True when the lowest energy is the QUBO's minimum: an exhaustive search
    that covered the whole space.  The exhaustive sampler keeps the ``num_reads`` lowest states.
    """
    from cutslack.solvers.qubo import sample_qubo

    check_sampler(sampler)
    if isinstance(sampler, str) and sampler.lower() == "exhaustive":
        ss = sample_qubo(qubo, sampler, num_best=num_reads, rng=rng, time_limit=time_limit, **options)
        return ss, bool(ss.info.get("complete", False))
    return sample_qubo(qubo, sampler, num_reads=num_reads, rng=rng, time_limit=time_limit, **options), False


class SampleScorer:
    """Scores batches of program bit vectors: raw feasibility, repair, and the best feasible one.

    ``objective_min`` values are in minimisation form (``-f`` for a max problem).
    """

    def __init__(self, problem, program: BinaryProgram, *, use_repair: bool = True):
        self.problem = problem
        self.program = program
        self.sign = -1.0 if program.sense == "max" else 1.0
        family = getattr(problem, "family", None)
        #: "family", "generic" or None: which repair the samples go through
        self.repair_kind = None if not use_repair else ("family" if family in REPAIRABLE_FAMILIES else "generic")
        self.repairable = self.repair_kind is not None
        self.best_bits = None
        self.best_min = np.inf
        self.raw_draws = 0
        self.raw_feasible = 0
        self.best_raw_min = np.inf     # best raw feasible sample (before repair), minimisation form

    def score(self, X, *, rng, counts=None, **repair_options) -> dict:
        """Score one batch; return ``{"feasible_fraction", "best_min", "improved"}``.

        ``feasible_fraction`` is over the raw samples (weighted by ``counts``), before repair.
        """
        X = np.asarray(X, dtype=np.uint8)
        counts = np.ones(len(X), dtype=np.int64) if counts is None else np.asarray(counts)
        raw = np.atleast_1d(self.program.is_feasible(X, atol=1e-6))
        self.raw_draws += int(counts.sum())
        self.raw_feasible += int(counts[raw].sum())
        if raw.any():
            raw_values = self.sign * np.atleast_1d(self.program.objective(X[raw]))
            self.best_raw_min = min(self.best_raw_min, float(raw_values.min()))
        if self.repair_kind == "family":
            candidates = repair(self.problem, X, rng=rng, **repair_options)
        elif self.repair_kind == "generic":
            repaired, ok = repair_program(self.program, X, rng=rng)
            candidates = repaired[ok]
        else:
            candidates = X[raw]
        improved = False
        if len(candidates):
            ok = np.atleast_1d(self.program.is_feasible(candidates, atol=1e-6))
            if ok.any():
                cand = candidates[ok]
                values = self.sign * np.atleast_1d(self.program.objective(cand))
                i = int(np.argmin(values))
                if values[i] < self.best_min - 1e-12 * max(1.0, abs(values[i])):
                    self.best_min, self.best_bits, improved = float(values[i]), cand[i].copy(), True
        fraction = float(counts[raw].sum() / max(counts.sum(), 1))
        return {"feasible_fraction": fraction, "best_min": self.best_min, "improved": improved}

    @property
    def overall_feasible_fraction(self) -> float | None:
        """Feasible fraction of all raw draws scored so far."""
        return self.raw_feasible / self.raw_draws if self.raw_draws else None

    def raw_quality(self) -> dict:
        """Return what the samples achieved before and after repair, in the problem's own sense.

        ``raw_feasible_fraction`` (of all raw draws), ``best_raw_objective`` (best raw sample that
        satisfies every constraint, None when none did) and ``best_repaired_objective`` (best
        after repair and local improvement; equal to the raw best when there is no repair).
        """
        return {"raw_feasible_fraction": self.overall_feasible_fraction,
                "best_raw_objective": None if not np.isfinite(self.best_raw_min) else self.sign * self.best_raw_min,
                "best_repaired_objective": self.best_primal()}

    def best_primal(self) -> float | None:
        """The best feasible objective in the problem's own sense (None before the first)."""
        return None if self.best_bits is None else self.sign * self.best_min

    def native_best(self):
        """The native solution of the best bit vector (None when none is feasible)."""
        if self.best_bits is None:
            return None
        if isinstance(self.problem, BinaryProgram):
            return self.best_bits.astype(np.int64)
        return self.program.decode_bits(self.best_bits)
