"""Slack-free Lagrangian and augmented-Lagrangian QUBOs of a :class:`~cutslack.binary.BinaryProgram`.

In minimisation form (``s = -1`` for a ``max`` program, ``+1`` for ``min``), with the
multipliers ``λ ≥ 0`` (inequalities), ``ν`` of free sign (equalities) and ``μ ≥ 0`` (conflict
pairs), the QUBO energy of a bit vector ``x`` is exactly::

    E(x) = s·f(x) + λ'(A_le x − b_le) + ν'(A_eq x − b_eq) + Σ_(i,j) μ_ij x_i x_j
           + ρ/2 ‖A_eq x − b_eq‖²                       (the augmented term, ρ ≥ 0)
           + ρ_le/2 ‖A_le x − b_le‖²                    (optional, ``augment_inequalities``)

The Lagrangian terms are linear in the constraint residuals, so the QUBO has exactly the
program's own ``n`` variables: no slack bits.  The quadratic equality term needs no slack
either, because an equality has a zero residual at every feasible point.  The optional
inequality term does *not* vanish on feasible points: it also penalises unused capacity
(``b − A x > 0``), so it pulls feasible solutions towards the constraint boundary and the dual
value is no longer a lower bound.  That form is unbalanced penalization
(``−l1·h(x) + l2·h(x)²`` with ``h = b − A x``, ``l1 = λ``, ``l2 = ρ_le/2``) whose linear
coefficients a dual method may now drive.

For ``λ, μ ≥ 0`` and any ``ν``, ``min_x E(x) ≤ s·f*`` (weak duality) when no inequality is
augmented: the minimum energy is a lower bound on the optimum (in minimisation form), valid
only when the minimum is found exactly (closed form or exhaustive search).  With a linear
objective (knapsack) and no augmented term, ``E`` has no quadratic part at all: the
subproblem is separable and solved in closed form (``x_i = 1`` iff its coefficient is
negative); the quadratic structure a sampler or a quantum circuit needs comes from the
objective (QAP, TSP), the augmented terms, or the conflict pairs (MIS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cutslack.binary import QUBO, BinaryProgram, as_bit_matrix
from cutslack.errors import InvalidInstanceError
from cutslack.solvers.qubo.formulations import FormulationInverse, check_squared_rows

__all__ = ["Multipliers", "LagrangianForm", "lagrangian_qubo", "lagrangian_energy", "constraint_residuals"]

#: above this many variables the QUBO is kept sparse
DENSE_LIMIT = 2000


def _sparse(A) -> sp.csr_matrix:
    return sp.csr_matrix(A, dtype=float)


@dataclass(frozen=True)
class Multipliers:
    """Multipliers of a program's constraints: ``inequality`` (≥ 0), ``equality`` (free), ``conflict`` (≥ 0).

    :meth:`flat` concatenates them in that order (the order of :func:`constraint_residuals`).
    """

    inequality: np.ndarray
    equality: np.ndarray
    conflict: np.ndarray

    @classmethod
    def zeros(cls, program: BinaryProgram) -> "Multipliers":
        """Return all-zero multipliers for ``program``."""
        return cls(np.zeros(program.m_le), np.zeros(program.m_eq), np.zeros(program.n_conflicts))

    @classmethod
    def from_flat(cls, program: BinaryProgram, values, *, field_name: str = "multipliers") -> "Multipliers":
        """Return the multipliers stored in one flat vector (inequalities, equalities, conflicts).

        Raises :class:`InvalidInstanceError` naming ``field_name`` when the length is wrong,
        an entry is not finite, or an inequality/conflict multiplier is negative.
        """
        v = np.asarray(values, dtype=float).reshape(-1)
        sizes = (program.m_le, program.m_eq, program.n_conflicts)
        if v.shape[0] != sum(sizes):
            raise InvalidInstanceError(field_name, f"expected {sum(sizes)} entries "
                                       f"({sizes[0]} inequality, {sizes[1]} equality, {sizes[2]} conflict), got {v.shape[0]}")
        if not np.all(np.isfinite(v)):
            raise InvalidInstanceError(field_name, "contains NaN or infinite entries")
        le, eq, conf = np.split(v, np.cumsum(sizes)[:2])
        if np.any(le < 0) or np.any(conf < 0):
            raise InvalidInstanceError(field_name, "inequality and conflict multipliers must be non-negative")
        return cls(le.copy(), eq.copy(), conf.copy())

    def flat(self) -> np.ndarray:
        """Return one vector: inequality, equality, then conflict multipliers."""
        return np.concatenate([self.inequality, self.equality, self.conflict])


def constraint_residuals(program: BinaryProgram, X) -> np.ndarray:
    """Return the signed residuals ``[A_le x − b_le, A_eq x − b_eq, x_i x_j]`` per bit vector.

    These are the subgradients of the dual function at the subproblem minimiser ``x``;
    shape ``(M,)`` for one vector, ``(k, M)`` for a batch, ``M = program.n_constraints``.
    """
    X2, single = as_bit_matrix(X, program.n)
    X2 = np.asarray(X2, dtype=float)
    conf = program.conflicts
    parts = [
        np.asarray((_sparse(program.A_le) @ X2.T).T) - program.b_le,
        np.asarray((_sparse(program.A_eq) @ X2.T).T) - program.b_eq,
        X2[:, conf[:, 0]] * X2[:, conf[:, 1]],
    ]
    G = np.concatenate(parts, axis=1)
    return G[0] if single else G


def lagrangian_energy(program: BinaryProgram, X, multipliers: Multipliers, *, rho: float = 0.0,
                      rho_inequality: float = 0.0):
    """Return the documented Lagrangian expression evaluated directly (not through a QUBO).

    ``s·f(x) + λ'g_le + ν'g_eq + μ'g_conf + ρ/2 ‖g_eq‖² + Σ_i ρ_le,i/2 g_le,i²`` with the
    residuals ``g`` of :func:`constraint_residuals` (``rho_inequality`` a scalar or one weight
    per inequality); one float, or one value per row of a batch.
    """
    X2, single = as_bit_matrix(X, program.n)
    sign = -1.0 if program.sense == "max" else 1.0
    G = constraint_residuals(program, X2)
    m_le, m_eq = program.m_le, program.m_eq
    g_le, g_eq = G[:, :m_le], G[:, m_le:m_le + m_eq]
    rho_le = np.broadcast_to(np.asarray(rho_inequality, dtype=float), (m_le,))
    val = (sign * np.atleast_1d(program.objective(X2)) + G @ multipliers.flat()
           + 0.5 * rho * (g_eq ** 2).sum(axis=1) + 0.5 * (g_le ** 2) @ rho_le)
    return float(val[0]) if single else val


class LagrangianForm:
    """Builds the Lagrangian QUBO of one program for many multiplier vectors.

    The parts that do not depend on the multipliers (objective, augmented terms) are built
    once; :meth:`qubo` adds the multiplier terms.  :attr:`separable` tells whether the QUBO
    is diagonal (then :meth:`minimise_separable` solves the subproblem exactly).
    """

    def __init__(self, program: BinaryProgram, *, rho: float = 0.0, rho_inequality: float = 0.0):
        rho_le = np.broadcast_to(np.asarray(rho_inequality, dtype=float), (program.m_le,))
        if not (np.isfinite(rho) and rho >= 0) or not np.all(np.isfinite(rho_le) & (rho_le >= 0)):
            raise InvalidInstanceError("rho", "penalty weights must be finite and non-negative")
        self.program = program
        self.rho = float(rho)
        self.rho_inequality = rho_le.copy()
        bp = program
        n = bp.n
        sign = -1.0 if bp.sense == "max" else 1.0
        A_le, A_eq = _sparse(bp.A_le), _sparse(bp.A_eq)
        quad = sp.csr_matrix((n, n)) if bp.Q is None else _sparse(bp.Q) * sign
        linear = sign * bp.c
        offset = sign * bp.const
        rho_eq = np.full(bp.m_eq, self.rho)
        for weight, A, b in ((rho_eq, A_eq, bp.b_eq), (self.rho_inequality, A_le, bp.b_le)):
            if A.shape[0] and np.any(weight > 0):
                check_squared_rows(A, weight)
                # sum_i w_i/2 (a_i'x - b_i)^2 = x'(A'WA/2)x - (A'Wb)'x + b'Wb/2
                quad = quad + 0.5 * (A.T @ sp.diags(weight) @ A)
                linear = linear - np.asarray(A.T @ (weight * b)).reshape(-1)
                offset += 0.5 * float(b @ (weight * b))
        conf = bp.conflicts
        self._conflict_pattern = sp.csr_matrix((np.ones(len(conf)), (conf[:, 0], conf[:, 1])), shape=(n, n))
        self._A_le, self._A_eq = A_le, A_eq
        self._quad = sp.csr_matrix(quad)
        self._linear = linear
        self._offset = offset
        self.separable = (self._quad - sp.diags(self._quad.diagonal())).count_nonzero() == 0 and bp.n_conflicts == 0

    def qubo(self, multipliers: Multipliers) -> QUBO:
        """Return the QUBO whose energy is :func:`lagrangian_energy` at ``multipliers``."""
        bp = self.program
        lam, nu, mu = multipliers.inequality, multipliers.equality, multipliers.conflict
        linear = self._linear + np.asarray(self._A_le.T @ lam).reshape(-1) + np.asarray(self._A_eq.T @ nu).reshape(-1)
        offset = self._offset - float(lam @ bp.b_le) - float(nu @ bp.b_eq)
        conf = bp.conflicts
        pairs = sp.csr_matrix((mu, (conf[:, 0], conf[:, 1])), shape=(bp.n, bp.n))
        Q = self._quad + pairs + sp.diags(linear)
        if bp.n <= DENSE_LIMIT:
            Q = Q.toarray()
        return QUBO(Q, offset, names=bp.names)

    def minimise_separable(self, multipliers: Multipliers):
        """Return ``(x, energy)``: the exact minimiser of a diagonal (separable) Lagrangian QUBO.

        ``x_i = 1`` exactly when its coefficient is negative.  Raises ``ValueError`` when the
        form is not separable.
        """
        if not self.separable:
            raise ValueError("the Lagrangian QUBO has quadratic terms; it is not separable")
        q = self.qubo(multipliers)
        d = q.linear
        x = (d < 0).astype(np.uint8)
        return x, float(d[d < 0].sum() + q.offset)

    def sample_separable(self, multipliers: Multipliers, num_reads: int, rng, *, temperature: float | None = None):
        """Return ``(X, energies)``: the exact minimiser then ``num_reads - 1`` exact Boltzmann samples.

        A separable QUBO's Boltzmann distribution is a product of independent bits,
        ``P(x_i = 1) = 1 / (1 + exp(d_i / T))``, so it is sampled exactly; the default
        temperature ``T`` is half the median ``|d_i|``.  The spread gives repair varied
        starting points near the Lagrangian minimiser.
        """
        x, _ = self.minimise_separable(multipliers)
        q = self.qubo(multipliers)
        d = q.linear
        g = np.random.default_rng(rng)
        if temperature is None:
            nz = np.abs(d[d != 0])
            temperature = 0.5 * float(np.median(nz)) if nz.size else 1.0
        prob = 0.5 * (1.0 - np.tanh(d / (2.0 * max(temperature, 1e-300))))
        X = (g.random((max(int(num_reads), 1) - 1, d.shape[0])) < prob).astype(np.uint8)
        X = np.vstack([x[None, :], X])
        return X, X @ d + q.offset


def lagrangian_qubo(program: BinaryProgram, multipliers: Multipliers | None = None, *, rho: float = 0.0,
                    augment_inequalities: bool | float = False):
    """Return ``(QUBO, FormulationInverse)``: the slack-free Lagrangian QUBO of ``program``.

    Parameters
    ----------
    program : BinaryProgram
    multipliers : Multipliers or flat array, optional
        Default zero.  A flat array is read with :meth:`Multipliers.from_flat`.
    rho : float
        Weight of the augmented term ``ρ/2 ‖A_eq x − b_eq‖²`` (no slack needed).
    augment_inequalities : bool, float or (m_le,) array
        ``True`` adds ``ρ/2 ‖A_le x − b_le‖²`` too; a float (or one per row) gives that term
        its own weight.
        This also penalises unused capacity (see the module docstring): it is unbalanced
        penalization with the multipliers as its linear coefficients.

    The QUBO has exactly ``program.n`` variables; the inverse is the identity on bits.

    Examples
    --------
    >>> from cutslack.problems import Knapsack
    >>> bp = Knapsack([10, 7, 4], [[5, 4, 3]], [7]).to_binary()
    >>> q, inv = lagrangian_qubo(bp, [2.0])
    >>> q.n, q.energy([1, 0, 0])  # -10 + 2 * (5 - 7)
    (3, -14.0)
    """
    if multipliers is None:
        multipliers = Multipliers.zeros(program)
    elif not isinstance(multipliers, Multipliers):
        multipliers = Multipliers.from_flat(program, multipliers)
    if augment_inequalities is True:
        rho_le = rho
    elif augment_inequalities is False or augment_inequalities is None:
        rho_le = 0.0
    else:
        rho_le = augment_inequalities
    form = LagrangianForm(program, rho=rho, rho_inequality=rho_le)
    info = {"formulation": "lagrangian", "rho": float(rho), "rho_inequality": form.rho_inequality.tolist(),
            "separable": form.separable, "multipliers": multipliers.flat().tolist()}
    inverse = FormulationInverse(n_original=program.n, n_qubo=program.n, slack_slices=(), info=info)
    return form.qubo(multipliers), inverse
