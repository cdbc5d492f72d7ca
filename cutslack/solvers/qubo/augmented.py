"""The sampled slack-free QUBO for every row type: an augmented Lagrangian with no slack bits.

For an inequality ``a_i'x ≤ b_i`` the pure Lagrangian term ``λ_i (a_i'x − b_i)`` is linear, so
on a linear objective (the knapsack's) the Lagrangian QUBO is diagonal: a sampler has
nothing to sample and the subproblem is solved in closed form (``method="lagrangian-heuristic"``).
The QUBO a sampler or a quantum circuit needs adds, per row, the quadratic term of the
augmented Lagrangian without slack::

    E(x) = s·f(x) + Σ_i [ λ_i (a_i'x − b_i) + ρ_i/2 (a_i'x − b_i)² ]          (s = −1 for max)
         = s·f(x) + Σ_i [ −λ1_i h_i + λ2_i h_i² ],   h_i = b_i − a_i'x,  λ1 = λ,  λ2 = ρ/2,

i.e. unbalanced penalization (Montañez-Barrera, Willsch, Maldonado-Romo, Michielsen,
"Unbalanced penalization: a new approach to encode inequality constraints of combinatorial
problems for quantum optimization algorithms", Quantum Sci. Technol. 9 (2024), arXiv:2211.13914)
whose two coefficients are no longer fixed constants but driven like an augmented
Lagrangian method drives ``λ`` and ``ρ`` (Hestenes 1969, Powell 1969; Bertsekas, *Constrained
Optimization and Lagrange Multiplier Methods*, 1982, ch. 2; for QUBOs sampled by annealers:
Djidjev, "Quantum annealing with inequality constraints: the set cover problem", Adv.
Quantum Technol. 2023, and Yonaga et al., "Quantum optimization with Lagrangian decomposition
for multiple-process scheduling in steel manufacturing", ISIJ Int. 2022, who update the
multipliers from the sampled states).  What this module adds to the plain form, and why:

* **Per-row scaling** (:func:`scale_program`): the objective is divided by the median
  non-zero objective coefficient and row ``i`` by the mean of its non-zero coefficients, so
  one ``ρ`` means "a violation of one typical item costs about ``ρ/2`` typical profits" on
  every row and every instance (rows of the SAC-94 set differ by four orders of magnitude).
* **A warm start from the LP relaxation** (:func:`lp_relaxation_duals`, HiGHS through
  :func:`scipy.optimize.linprog`): ``λ`` starts at the LP duals, and only rows that bind in
  the LP (``λ_i > 0``) get the quadratic term at first.  With ``λ = u`` and ``t = 0`` on binding
  rows the continuous minimiser of ``E`` is the LP optimum for every ``ρ``, so the QUBO's
  low-energy states cluster around it instead of wherever a guessed ``λ`` puts them.
* **Multiplier updates from the sample distribution**: the residual a dual method receives is
  the expected residual over all reads (``counts``-weighted), not the residual of the single
  lowest-energy read — the lowest read of a heuristic sampler is noise, the mean is what the
  multipliers change.  A row that is violated on average switches its quadratic term on.
* **A ``ρ`` schedule that sweeps coupling strength**: ``ρ`` starts weak (``0.05`` in scaled
  units) and doubles every iteration, up to ``1000×`` its start.  Weak ``ρ`` gives a smooth landscape the sampler explores well
  (large instances want it); stiff ``ρ`` pins the load to the capacity (small, tight instances
  want it).  On the 36 public SAC-94/mknap1 and 15 mknapcb1 knapsacks (10 × 32 reads, seed 0)
  the sweep gave a mean gap of 0.07 % (worst 0.42 %); in a prototype of this loop, the classic
  "grow only without sufficient decrease" rule gave 0.18 % (worst 3.4 %, its noisy violation
  estimate stalls it) and a fixed ``ρ = 0.1`` 0.80 % (worst 18 %).  Reproduce the first with
  ``python benchmarks/slack_vs_slackfree.py`` and the others by passing
  ``dual_options={"schedule": "adaptive"}`` or ``dual_options={"growth": 1.0}`` to
  ``cutslack.solve(..., method="lagrangian")`` on the same instances.

**Row types.**  A :class:`~cutslack.binary.BinaryProgram` stores ``≤`` rows and ``=`` rows;
the other kinds arrive in that canonical form, and each is treated as follows.

``a'x ≤ b``
    Scaled by its mean ``|a_ij|``; ``λ ≥ 0`` starts at the LP dual; the quadratic term
    ``ρ/2 (a'x − b)²`` is on from the start only where the row binds in the LP (``λ > 0``),
    and switches on, for good, once the expected residual over the reads is positive; ``ρ``
    follows the geometric schedule above (:data:`DEFAULT_RHO`, ×2, up to :data:`RHO_RANGE`×).
``a'x ≥ b`` (set covering's ``a'x ≥ 1``)
    Stored negated, ``−a'x ≤ −b``: the same ``≤`` treatment applies unchanged — the row unit is
    the mean ``|a_ij|`` (signs do not matter), the LP dual of the negated row is ``≥ 0``, and
    "violated" means ``a'x < b``.  This is the setting of Djidjev (2023), who penalises set
    cover rows on an annealer without slack variables.
``L ≤ a'x ≤ U`` (ranged)
    Two ``≤`` rows, ``a'x ≤ U`` and ``−a'x ≤ −L``.  At most one side binds in the LP (unless
    ``L = U``), so only that side starts with the quadratic term — the other would otherwise
    pull the load to its bound, the middle of the band being feasible; a side the samples
    violate on average switches its term on.
``a'x = b`` (one-hot assignment rows, general equalities)
    Scaled like the ``≤`` rows (row unit = mean ``|a_ij|``, so a one-hot row keeps unit
    coefficients); the multiplier ``ν`` is free in sign and starts at the LP dual; the term
    ``ρ_eq/2 (a'x − b)²`` is always on — an equality is always binding — with its own geometric
    schedule (:data:`DEFAULT_RHO_EQUALITY`, ×2, up to :data:`RHO_EQUALITY_RANGE`×), since the
    sampler must see one-hot rows from the first iteration, unlike slack-side ``≤`` rows.
    ``ν`` moves by ``ρ_eq`` times the expected residual: the method of multipliers for
    equality constraints (Hestenes 1969, Powell 1969; Bertsekas 1982, ch. 2.1–2.2), with the
    residual averaged over the reads as for ``≤`` rows.  On the 30 OR-Library GAP instances
    (gap1–6) a start of 0.25 beat 0.5 and 2 (stiffer one-hot rows freeze the annealer in its
    first assignment).  With the generic repair, GAP gave a mean gap of 0.17 % (worst 1.19 %,
    slack bits 0.50 % / 1.55 %) and scp41–49 0.09 % (worst 0.61 %, slack bits 65 %):
    ``python benchmarks/rowtypes_probe.py gap`` (or ``scp``).
Mixed-sign rows
    Nothing special: scaling uses ``|a_ij|``, and the LP warm start handles either sign.

Equality-only programs with a linear objective (set partitioning) take this form too under
``augment_inequalities="auto"``; with a quadratic objective (QAP, TSP) the problem itself
already gives the sampler a quadratic landscape and the plain Lagrangian is kept.

The QUBO has exactly the program's ``n`` variables.  Because the quadratic term also
penalises unused capacity, its minimum is no bound on the optimum (the driver reports none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cutslack.binary import BinaryProgram
from cutslack.solvers.bounds import highs_time_options

__all__ = ["row_units", "ProgramScaling", "scale_program", "lp_relaxation_duals", "AugmentedStart", "augmented_start",
           "augmented_slackfree_qubo", "DEFAULT_RHO", "RHO_GROWTH", "RHO_RANGE",
           "DEFAULT_RHO_EQUALITY", "RHO_EQUALITY_RANGE"]

#: starting weight of the quadratic term, in scaled units (see the module docstring)
DEFAULT_RHO = 0.05
#: factor by which ρ grows per iteration
RHO_GROWTH = 2.0
#: ρ stops growing at ``RHO_RANGE`` times its start
RHO_RANGE = 1000.0
#: starting weight of the equality rows' quadratic term, in scaled units (see the module docstring)
DEFAULT_RHO_EQUALITY = 0.25
#: the equality weight stops growing at ``RHO_EQUALITY_RANGE`` times its start
RHO_EQUALITY_RANGE = 64.0


def row_units(A) -> np.ndarray:
    """Return the mean absolute non-zero coefficient of each row of ``A`` (1 for an empty row)."""
    A = sp.csr_matrix(A)
    absA = abs(A)
    nnz = np.diff(absA.indptr)
    sums = np.asarray(absA.sum(axis=1)).reshape(-1)
    out = np.ones(A.shape[0])
    ok = (nnz > 0) & (sums > 0)
    out[ok] = sums[ok] / nnz[ok]
    return out


@dataclass(frozen=True)
class ProgramScaling:
    """A program rescaled for the augmented QUBO and the factors that undo it.

    ``scaled`` has objective ``f / objective_unit`` and rows ``a_i / row_unit_i ≤ b_i / row_unit_i``
    (``≤`` rows first, then equality rows ``= b_i / row_unit_i``; conflicts unchanged); it has the
    same feasible set and optimisers.
    """

    scaled: BinaryProgram
    objective_unit: float
    row_unit: np.ndarray

    def multipliers_to_original(self, flat) -> np.ndarray:
        """Return flat multipliers of ``scaled`` in the original program's units."""
        v = np.asarray(flat, dtype=float).copy()
        m = self.row_unit.shape[0]
        v *= self.objective_unit
        v[:m] /= self.row_unit
        return v

    def multipliers_to_scaled(self, flat) -> np.ndarray:
        """Return flat multipliers of the original program in ``scaled``'s units."""
        v = np.asarray(flat, dtype=float).copy()
        m = self.row_unit.shape[0]
        v[:m] *= self.row_unit
        return v / self.objective_unit


def scale_program(program: BinaryProgram) -> ProgramScaling:
    """Return the :class:`ProgramScaling` of ``program`` (objective, ``≤`` and equality rows normalised).

    The objective unit is the median non-zero ``|c_j|`` (or of the quadratic coefficients when
    ``c`` is zero); the unit of each ``≤`` and each equality row is the mean of its non-zero
    ``|a_ij|`` (``row_unit`` holds the ``≤`` units, then the equality units).  Conflict pairs are
    unchanged.
    """
    coeffs = np.abs(np.asarray(program.c, dtype=float))
    coeffs = coeffs[coeffs > 0]
    if coeffs.size == 0 and program.Q is not None:
        Qd = program.Q.data if sp.issparse(program.Q) else np.asarray(program.Q).reshape(-1)
        coeffs = np.abs(Qd[Qd != 0])
    unit = float(np.median(coeffs)) if coeffs.size else 1.0
    le = row_units(program.A_le) if program.m_le else np.zeros(0)
    eq = row_units(program.A_eq) if program.m_eq else np.zeros(0)

    def rows(A, b, units):
        if not units.size:
            return A, b
        return sp.diags(1.0 / units) @ sp.csr_matrix(A), np.asarray(b, dtype=float) / units

    A_le, b_le = rows(program.A_le, program.b_le, le)
    A_eq, b_eq = rows(program.A_eq, program.b_eq, eq)
    Q = None if program.Q is None else program.Q / unit
    scaled = BinaryProgram(Q=Q, c=np.asarray(program.c, dtype=float) / unit, const=float(program.const) / unit,
                           A_le=A_le, b_le=b_le, A_eq=A_eq, b_eq=b_eq, conflicts=program.conflicts,
                           sense=program.sense, names=program.names)
    return ProgramScaling(scaled, unit, np.concatenate([le, eq]))


def lp_relaxation_duals(program: BinaryProgram, time_limit: float | None = None):
    """Return ``(x, duals)`` of the LP relaxation ``0 ≤ x ≤ 1`` of a linear program, or None.

    ``duals`` are the flat multipliers (``≤`` rows ≥ 0, equality rows free, conflicts 0) of the
    minimisation form, from HiGHS (:func:`scipy.optimize.linprog`).  None when the objective is
    quadratic (no LP relaxation), the LP is infeasible or fails, or HiGHS runs out of its
    ``time_limit`` seconds.
    """
    if program.Q is not None and (sp.issparse(program.Q) and program.Q.nnz or
                                  not sp.issparse(program.Q) and np.any(np.asarray(program.Q) != 0)):
        return None
    from scipy.optimize import linprog

    sign = -1.0 if program.sense == "max" else 1.0
    kwargs = {}
    if program.m_le:
        kwargs.update(A_ub=sp.csr_matrix(program.A_le), b_ub=program.b_le)
    if program.m_eq:
        kwargs.update(A_eq=sp.csr_matrix(program.A_eq), b_eq=program.b_eq)
    res = linprog(sign * np.asarray(program.c, dtype=float), bounds=(0, 1), **kwargs,
                  **{"method": "highs", **highs_time_options(time_limit)})
    if res.status != 0 or res.x is None:
        return None
    le = -np.asarray(res.ineqlin.marginals) if program.m_le else np.zeros(0)
    eq = -np.asarray(res.eqlin.marginals) if program.m_eq else np.zeros(0)
    duals = np.concatenate([np.maximum(le, 0.0), eq, np.zeros(program.n_conflicts)])
    return np.asarray(res.x), duals


@dataclass(frozen=True)
class AugmentedStart:
    """Where the sampled augmented form starts: scaling, multipliers (scaled units), active rows, ρ."""

    scaling: ProgramScaling
    multipliers: np.ndarray
    active: np.ndarray
    rho: float
    warm_start: str

    def rho_inequality(self, rho: float, active=None) -> np.ndarray:
        """Per-row quadratic weights: ``rho`` on active rows, 0 elsewhere."""
        mask = self.active if active is None else active
        return np.where(mask, float(rho), 0.0)


def augmented_start(program: BinaryProgram, *, rho: float = DEFAULT_RHO, initial_multipliers=None,
                     time_limit: float | None = None) -> AugmentedStart:
    """Return the :class:`AugmentedStart` of ``program``: scaled, warm-started from the LP duals.

    With ``initial_multipliers`` (original units) those are used instead of the LP duals; rows
    without a positive starting multiplier start inactive.  When there is no LP relaxation
    (quadratic objective), every ``≤`` row starts active at ``λ = 0``.
    """
    scaling = scale_program(program)
    m = program.m_le
    if initial_multipliers is not None:
        from cutslack.solvers.qubo.lagrangian import Multipliers

        given = Multipliers.from_flat(program, initial_multipliers, field_name="initial_multipliers").flat()
        lam = scaling.multipliers_to_scaled(given)
        how = "given multipliers"
        active = lam[:m] > 0
    else:
        lp = lp_relaxation_duals(scaling.scaled, time_limit)
        if lp is None:
            lam = np.zeros(program.n_constraints)
            how = "zero (no LP relaxation: quadratic objective)"
            active = np.ones(m, dtype=bool)
        else:
            lam = lp[1]
            how = "LP relaxation duals (HiGHS)"
            active = lam[:m] > 1e-9
    if m and not active.any():
        active = np.ones(m, dtype=bool)
    return AugmentedStart(scaling, lam, active, float(rho), how)


def augmented_slackfree_qubo(program: BinaryProgram, *, rho: float = DEFAULT_RHO, initial_multipliers=None,
                             rho_equality: float | None = None):
    """Return ``(QUBO, FormulationInverse)``: the slack-free augmented QUBO at its warm start.

    One QUBO of exactly ``program.n`` variables (the first iterate of ``method="lagrangian"`` on
    a program with ``≤`` rows): scaled rows, ``λ`` at the LP duals, ``ρ`` on the rows that bind
    in the LP.  Equality rows get ``rho_equality/2 ‖A_eq x − b_eq‖²`` (default
    :data:`DEFAULT_RHO_EQUALITY` in scaled units, rows scaled like the ``≤`` rows, plus their LP
    duals) and conflict pairs the objective's largest coefficient plus one.
    This is the form quantum methods sample with ``formulation="lagrangian"``.

    Examples
    --------
    >>> from cutslack.problems import Knapsack
    >>> q, inv = augmented_slackfree_qubo(Knapsack([10, 7, 4], [[5, 4, 3]], [7]).to_binary())
    >>> q.n, inv.n_slack
    (3, 0)
    """
    from cutslack.solvers.qubo.formulations import FormulationInverse
    from cutslack.solvers.qubo.lagrangian import LagrangianForm, Multipliers

    start = augmented_start(program, rho=rho, initial_multipliers=initial_multipliers)
    scaled = start.scaling.scaled
    lam = start.multipliers.copy()
    if scaled.n_conflicts:
        top = float(np.abs(scaled.c).max()) if scaled.n else 1.0
        lam[scaled.m_le + scaled.m_eq:] = np.maximum(lam[scaled.m_le + scaled.m_eq:], top + 1.0)
    rho_eq = DEFAULT_RHO_EQUALITY if rho_equality is None else float(rho_equality)
    form = LagrangianForm(scaled, rho=rho_eq if scaled.m_eq else 0.0, rho_inequality=start.rho_inequality(rho))
    qubo = form.qubo(Multipliers.from_flat(scaled, lam))
    info = {"formulation": "augmented slack-free", "rho": float(rho), "warm_start": start.warm_start,
            "objective_unit": start.scaling.objective_unit, "row_unit": start.scaling.row_unit.tolist(),
            "multipliers": start.scaling.multipliers_to_original(lam).tolist()}
    return qubo, FormulationInverse(n_original=program.n, n_qubo=program.n, slack_slices=(), info=info)
