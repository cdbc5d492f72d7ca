"""Adaptive graph shrinking: reduce a QUBO to a qubit budget by merging correlated variables.

Each round estimates spin correlations ``C_ab ≈ <z_a z_b>`` (``z = 1 - 2x``) of the current
reduced QUBO, with an anchor spin ``z_0 = +1`` so that ``C_0a ≈ <z_a>``:

* ``correlations="sdp"``: the Goemans–Williamson relaxation of the Ising form,
  ``min <W, Y>`` over ``Y ⪰ 0, diag(Y) = 1`` (cvxpy, Clarabel or SCS); ``C = Y``;
* ``correlations="samples"``: the empirical ``<z_a z_b>`` of samples drawn by a QUBO sampler
  (simulated annealing by default).

The most correlated pair is merged — ``x_b = x_a`` when ``C_ab > 0``, ``x_b = 1 - x_a`` when
``C_ab < 0``; with the anchor, ``x_b`` is fixed to 0 or 1 — unless the merge is vetoed by a
constraint of the original program: after it, setting the merged group to either value must not
put two conflicting variables (MIS neighbours) both at 1, nor push a row of ``A_le x <= b_le``
or ``A_eq x = b_eq`` above its right-hand side using the group's 1-members and the variables
already fixed to 1 (a knapsack group over capacity, two cities in one tour position).
Correlations are recomputed every ``recompute_every`` merges, until at most ``budget``
variables (qubits) remain.  The reduced QUBO is solved by ``solver`` (exhaustive enumeration
when it has at most 20 variables, else simulated annealing, or any QUBO or quantum sampler by
name), its samples are expanded to the original variables, and — through ``solve`` on a
problem — mapped back, verified and repaired like every quantum method's samples.

The reduced QUBO is exact: with ``x = c + M y`` (``M`` has one ``±1`` per row), its energy at
``y`` equals the original energy at the expanded ``x``.
"""

from __future__ import annotations

import time

import numpy as np

from cutslack.api import Run, register_solver
from cutslack.binary import QUBO, BinaryProgram, fold_upper
from cutslack.errors import SolverError
from cutslack.problems.base import Problem
from cutslack.quantum.driver import report_progress, solve_with_sampler
from cutslack.quantum.ising import ising_terms
from cutslack.result import SampleSet

__all__ = ["shrink_sampler", "solve_shrink", "Shrinking", "gw_correlations", "sample_correlations", "CORRELATION_METHODS"]

CORRELATION_METHODS = ("sdp", "samples")


def gw_correlations(qubo: QUBO) -> np.ndarray:
    """Return the ``(n + 1, n + 1)`` Goemans–Williamson Gram matrix of ``qubo``'s Ising form (index 0: anchor)."""
    import cvxpy as cp

    h, rows, cols, J, _ = ising_terms(qubo)
    n = qubo.n
    W = np.zeros((n + 1, n + 1))
    W[0, 1:] = W[1:, 0] = 0.5 * h
    W[rows + 1, cols + 1] += 0.5 * J
    W[cols + 1, rows + 1] += 0.5 * J
    Y = cp.Variable((n + 1, n + 1), symmetric=True)
    problem = cp.Problem(cp.Minimize(cp.trace(W @ Y)), [Y >> 0, cp.diag(Y) == 1])
    for solver in ("CLARABEL", "SCS"):
        try:
            problem.solve(solver=solver)
        except (cp.error.SolverError, ValueError):
            continue
        if Y.value is not None:
            return np.clip(np.asarray(Y.value), -1.0, 1.0)
    raise SolverError("the Goemans-Williamson SDP failed with both Clarabel and SCS")


def sample_correlations(qubo: QUBO, *, rng, sampler: str = "anneal", num_reads: int = 64, **options) -> np.ndarray:
    """Return the ``(n + 1, n + 1)`` empirical ``<z_a z_b>`` of samples of ``qubo`` (index 0: ``z = +1``)."""
    samples = _sample(qubo, sampler, rng=rng, num_reads=num_reads, **options)
    Z = np.hstack([np.ones((len(samples), 1)), 1.0 - 2.0 * samples.X])
    w = samples.counts / samples.counts.sum()
    return (Z * w[:, None]).T @ Z


def _sample(qubo: QUBO, sampler, **options) -> SampleSet:
    """Return samples of ``qubo`` from a sampler given by name (QUBO or quantum) or as a callable."""
    if callable(sampler):
        return sampler(qubo, **options)
    from cutslack.solvers.qubo.samplers import SAMPLERS as CLASSICAL

    if sampler in CLASSICAL:
        if sampler == "exhaustive":
            options.pop("num_reads", None)
        options.pop("run", None)
        return CLASSICAL[sampler](qubo, **options)
    from cutslack.quantum import SAMPLERS as QUANTUM

    if sampler in QUANTUM:
        return QUANTUM[sampler](qubo, **options)
    raise ValueError(f"unknown sampler {sampler!r}; expected one of {', '.join(sorted(CLASSICAL) + sorted(QUANTUM))}")


class Shrinking:
    """The map ``x = c + M y`` from the reduced variables ``y`` to the original ``x`` and its vetoes.

    ``group[i]`` is the reduced variable of ``x_i`` (``-1`` when fixed), ``flip[i]`` whether
    ``x_i = 1 - y_group``, ``fixed[i]`` the value of a fixed variable.
    """

    def __init__(self, qubo: QUBO, program: BinaryProgram | None = None):
        self.qubo = qubo
        self.n = qubo.n
        self.group = np.arange(self.n)
        self.flip = np.zeros(self.n, dtype=bool)
        self.fixed = np.zeros(self.n, dtype=np.uint8)
        self.n_groups = self.n
        self.vetoed = 0
        self.program = program
        if program is not None:
            m = program.n
            rows = [program.dense_constraints()[k] for k in (0, 2)]
            self._rows_A = np.vstack([r for r in rows if r.size]) if any(r.size for r in rows) else np.zeros((0, m))
            self._rows_b = np.concatenate([program.b_le, program.b_eq])
            self._conflicts = program.conflicts

    def matrix(self):
        """Return ``(M, c)``: the ``(n, groups)`` ±1 matrix and the 0/1 constant with ``x = c + M y``."""
        M = np.zeros((self.n, self.n_groups))
        free = self.group >= 0
        M[np.flatnonzero(free), self.group[free]] = np.where(self.flip[free], -1.0, 1.0)
        c = np.where(free, self.flip.astype(float), self.fixed.astype(float))
        return M, c

    def reduced_qubo(self) -> QUBO:
        """Return the QUBO over the reduced variables whose energy equals the original at ``c + M y``."""
        M, c = self.matrix()
        U = self.qubo.to_dense()
        quadratic = M.T @ U @ M
        linear = c @ (U + U.T) @ M
        return QUBO(fold_upper(quadratic) + np.diag(linear), float(c @ U @ c) + self.qubo.offset)

    def expand(self, Y) -> np.ndarray:
        """Return the original bit vectors of reduced samples ``Y`` (rows)."""
        M, c = self.matrix()
        return np.rint(c + np.atleast_2d(Y) @ M.T).astype(np.uint8)

    def _allowed(self, group, flip, fixed) -> bool:
        """Return True when no group can be set to 0 or 1 in violation of a conflict or a row bound."""
        if self.program is None:
            return True
        m = self.program.n
        ones_fixed = (group[:m] < 0) & (fixed[:m] == 1)
        for g in np.unique(group[:m][group[:m] >= 0]):
            members = group[:m] == g
            for value in (0, 1):
                ones = ones_fixed | (members & (flip[:m] != bool(value)))
                if self._violates(ones):
                    return False
        return not self._violates(ones_fixed)

    def _violates(self, ones) -> bool:
        if self._conflicts.size and np.any(ones[self._conflicts[:, 0]] & ones[self._conflicts[:, 1]]):
            return True
        if self._rows_A.shape[0]:
            lowest_rest = np.minimum(self._rows_A, 0.0) @ (~ones)  # free negative coefficients only help
            if np.any(self._rows_A @ ones + lowest_rest > self._rows_b + 1e-9):
                return True
        return False

    def try_merge(self, a: int, b: int, negative: bool) -> bool:
        """Merge reduced variable ``b`` into ``a`` (``a = -1``: fix ``b``); return False when vetoed."""
        group, flip, fixed = self.group.copy(), self.flip.copy(), self.fixed.copy()
        members = group == b
        if a < 0:
            fixed[members] = np.where(flip[members], 1 - int(negative), int(negative))
            group[members] = -1
        else:
            group[members] = a
            flip[members] ^= negative
        if not self._allowed(group, flip, fixed):
            self.vetoed += 1
            return False
        # renumber the reduced variables above b
        above = group > b
        group[above] -= 1
        self.group, self.flip, self.fixed = group, flip, fixed
        self.n_groups -= 1
        return True


def _merge_round(shrinking: Shrinking, C: np.ndarray, merges: int, budget: int) -> int:
    """Apply up to ``merges`` non-vetoed merges, most correlated first; return how many were made.

    Row/column 0 of ``C`` is the anchor, ``k`` the reduced variable ``k - 1``; a merged variable's
    row and column are dropped, so the indices keep matching the renumbered variables.
    """
    C = np.array(C, dtype=float)
    done = 0
    while done < merges and shrinking.n_groups > budget:
        strength = np.triu(np.abs(C), 1)
        merged = False
        for flat in np.argsort(-strength, axis=None, kind="stable"):
            a, b = divmod(int(flat), C.shape[0])
            if strength[a, b] <= 0.0:
                break
            if shrinking.try_merge(a - 1, b - 1, bool(C[a, b] < 0)):
                C = np.delete(np.delete(C, b, axis=0), b, axis=1)
                merged, done = True, done + 1
                break
        if not merged:
            break
    return done


def shrink_sampler(qubo: QUBO, *, budget: int = 12, correlations: str = "sdp", recompute_every: int = 2,
                   solver: str = "auto", solver_options: dict | None = None, correlation_sampler: str = "anneal",
                   constraints: BinaryProgram | None = None, num_reads: int = 64, rng=None, time_limit=None,
                   initial_states=None, run: Run | None = None) -> SampleSet:
    """Return samples of ``qubo`` found by shrinking it to ``budget`` variables, solving, and expanding.

    Parameters
    ----------
    budget : int
        Qubits (reduced variables) to stop at; fewer remain only when all merges are vetoed earlier.
    correlations : {"sdp", "samples"}
    recompute_every : int
        Merges between two correlation estimates.
    solver : str or callable
        Sampler of the reduced QUBO: ``"auto"`` (exhaustive up to 20 variables, else ``"anneal"``),
        a name in :mod:`cutslack.solvers.qubo` or :data:`cutslack.quantum.SAMPLERS`, or a callable.
    constraints : BinaryProgram, optional
        The program whose conflicts and rows veto merges (its variables are the QUBO's first ones).
    num_reads : samples asked of the reduced solver (and of the correlation sampler).

    ``info`` holds ``n_qubits`` (the reduced size actually solved), ``merges``, ``vetoed``,
    ``correlation_rounds`` and the reduced solver's name.
    """
    run = run or Run(rng=rng, time_limit=time_limit)
    if correlations not in CORRELATION_METHODS:
        raise ValueError(f"unknown correlations {correlations!r}; expected one of {', '.join(CORRELATION_METHODS)}")
    if int(budget) < 1:
        raise ValueError(f"budget must be at least one qubit, got {budget!r}")
    if qubo.n == 0:
        raise SolverError("shrinking needs at least one variable; the QUBO is empty")
    shrinking = Shrinking(qubo, constraints)
    rounds = merges = 0
    round_seconds = 0.0
    while shrinking.n_groups > budget and not run.expired():
        if run.deadline is not None and run.time_left() < 2.0 * round_seconds:
            run.timed_out = True  # the next round and the final sampling would end past the deadline
            break
        started = time.perf_counter()
        reduced = shrinking.reduced_qubo()
        if correlations == "sdp":
            C = gw_correlations(reduced)
        else:
            C = sample_correlations(reduced, rng=run.rng, sampler=correlation_sampler, num_reads=num_reads)
        rounds += 1
        made = _merge_round(shrinking, C, max(1, int(recompute_every)), int(budget))
        merges += made
        round_seconds = time.perf_counter() - started
        if made == 0:
            break
        partial = shrinking.expand(np.zeros(shrinking.n_groups))
        if report_progress(run, qubo, partial, method="shrink", nit=rounds, info={"n_groups": shrinking.n_groups}):
            break
    reduced = shrinking.reduced_qubo()
    name = solver
    if solver == "auto":
        name = "exhaustive" if reduced.n <= 20 else "anneal"
    options = dict(solver_options or {})
    options.setdefault("num_reads", num_reads)
    if name in ("exhaustive",):
        options.setdefault("num_best", num_reads)
    time_left = run.time_left() if time_limit is not None else None
    samples = _sample(reduced, name, rng=run.rng, time_limit=time_left, run=run, **options)
    X = shrinking.expand(samples.X)
    info = {"n_qubits": reduced.n, "n_vars": qubo.n, "budget": int(budget), "merges": merges,
            "vetoed": shrinking.vetoed, "correlations": correlations, "correlation_rounds": rounds,
            "solver": name if isinstance(name, str) else getattr(name, "__name__", "callable"),
            "reduced_energy": float(samples.best_energy), "nit": rounds,
            "optimizer_ok": samples.info.get("optimizer_ok", True)}
    out = SampleSet(X, qubo.energy(X), samples.counts).aggregate()
    return SampleSet(out.X, out.energies, out.counts, info=info)


@register_solver("shrink", accepts=(QUBO, Problem),
                 description="adaptive graph shrinking to a qubit budget (GW-SDP or sample correlations)")
def solve_shrink(problem, *, rng=None, time_limit=None, callback=None, formulation="penalty", formulation_options=None,
                 **options):
    """Return the best sample of graph shrinking (QUBO, or a Problem through ``formulation``), repaired.

    For a Problem the merges are vetoed by its BinaryProgram's conflicts and rows.
    """
    if not isinstance(problem, QUBO) and hasattr(problem, "to_binary"):
        options.setdefault("constraints", problem.to_binary())
    return solve_with_sampler(problem, shrink_sampler, method="shrink", rng=rng, time_limit=time_limit,
                              callback=callback, formulation=formulation, formulation_options=formulation_options,
                              **options)
