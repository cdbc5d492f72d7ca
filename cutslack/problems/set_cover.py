"""Weighted set covering (SCP): choose columns of least total cost so that every row is covered.

    min c'x   s.t.  A x >= 1,   x in {0,1}^n

``A`` is the ``m × n`` 0/1 incidence matrix (row ``r`` is covered by column ``j`` when
``A[r, j] = 1``), kept sparse (CSR).  The unicost variant is the same problem with unit costs.
:class:`~cutslack.binary.BinaryProgram` has only ``<=`` and ``=`` rows, so ``to_binary()``
writes the covering rows negated: ``-A x <= -1``.

Generator: :func:`random_set_cover` (Beasley's construction for OR-Library's ``scp4``–``scp6``
sets).  Reader: :func:`~cutslack.problems.library.read_orlib_scp`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from cutslack.binary import BinaryProgram, as_bit_matrix
from cutslack.errors import InvalidInstanceError
from cutslack.problems.base import KnownOptimum, Problem, as_rng, check_array, check_count, check_number

__all__ = ["SetCover", "random_set_cover"]


def _incidence(cover) -> sp.csr_matrix:
    try:
        A = sp.csr_matrix(cover, dtype=float) if sp.issparse(cover) else sp.csr_matrix(np.asarray(cover, dtype=float))
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError("cover", f"must be a 2-D 0/1 matrix ({exc})") from None
    if A.ndim != 2:
        raise InvalidInstanceError("cover", f"must be 2-dimensional, got shape {A.shape}")
    A.sum_duplicates()
    A.eliminate_zeros()
    if not np.all(np.isfinite(A.data)) or np.any(A.data != 1.0):
        raise InvalidInstanceError("cover", "entries must be 0 or 1")
    A.sort_indices()
    return A


@dataclass(frozen=True, eq=False)
class SetCover(Problem):
    """Minimum-cost set cover.

    Parameters
    ----------
    costs : (n,) non-negative array
        Cost of each column.
    cover : (m, n) 0/1 matrix, dense or sparse
        ``cover[r, j] = 1`` when column ``j`` covers row ``r``; stored as CSR.  Every row must
        be covered by some column (else no cover exists).
    name : str
    known_optimum : KnownOptimum, optional

    Examples
    --------
    >>> p = SetCover([3, 2, 2], [[1, 1, 0], [1, 0, 1]])
    >>> p.evaluate([1, 0, 0]), p.is_feasible([0, 1, 0]), p.violation([0, 1, 0]).tolist()
    (3.0, False, [0.0, 1.0])
    """

    costs: np.ndarray
    cover: sp.csr_matrix
    name: str = "setcover"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)

    sense = "min"
    family = "setcover"

    def __post_init__(self):
        c = check_array(self.costs, "costs", ndim=1, nonneg=True)
        A = _incidence(self.cover)
        if A.shape[1] != c.shape[0]:
            raise InvalidInstanceError("cover", f"must have {c.shape[0]} columns (one per cost), got shape {A.shape}")
        if A.shape[0] < 1 or c.shape[0] < 1:
            raise InvalidInstanceError("cover", f"needs at least one row and one column, got shape {A.shape}")
        bare = np.flatnonzero(np.diff(A.indptr) == 0)
        if bare.size:
            raise InvalidInstanceError("cover", f"row {int(bare[0])} is covered by no column (no cover exists)")
        object.__setattr__(self, "costs", c)
        object.__setattr__(self, "cover", A)

    @property
    def m(self) -> int:
        """Number of rows to cover."""
        return int(self.cover.shape[0])

    @property
    def size(self) -> dict:
        return {"n": int(self.costs.shape[0]), "m": self.m}

    def _bits(self, x):
        X, single = as_bit_matrix(x, self.n, field_name="solution")
        X = np.asarray(X, dtype=float)
        if np.any((X != 0) & (X != 1)):
            raise ValueError("solution: set-cover solutions are 0/1 vectors over the columns")
        return X, single

    def evaluate(self, solution):
        """Return the total cost of the chosen columns (per row of a batch)."""
        X, single = self._bits(solution)
        v = X @ self.costs
        return float(v[0]) if single else v

    def coverage(self, solution) -> np.ndarray:
        """Return how many chosen columns cover each row (``(m,)`` or ``(k, m)``)."""
        X, single = self._bits(solution)
        C = np.asarray((self.cover @ X.T).T)
        return C[0] if single else C

    def violation(self, solution):
        """Return 1 for each uncovered row, 0 for a covered one."""
        C = self.coverage(solution)
        return (C < 0.5).astype(float)

    def to_binary(self) -> BinaryProgram:
        """Return ``min c'x s.t. -A x <= -1`` (the covering rows negated; sparse), one bit per column."""
        return BinaryProgram(c=self.costs, sense="min", A_le=-self.cover, b_le=-np.ones(self.m),
                             names=[f"x{j}" for j in range(self.n)], info={"family": "setcover"})


def random_set_cover(m: int, n: int, density: float, *, rng=None) -> SetCover:
    """Return a random SCP built as Beasley built OR-Library's ``scp4``–``scp6`` sets.

    Every column covers at least one row and every row is covered by at least two columns:
    each column first covers one random row; each row then gets columns drawn at random until it
    has at least two; further random entries bring the matrix to ``round(density * m * n)``
    non-zeros.  Costs are uniform on ``{1, ..., 100}``.  (Beasley, "An algorithm for set
    covering problem", EJOR 31 (1987) 85-93; Beasley, "A Lagrangian heuristic for set-covering
    problems", Naval Research Logistics 37 (1990) 151-164.)
    """
    m, n = check_count(m, "m", 1), check_count(n, "n", 2)
    density = check_number(density, "density", low=0.0, high=1.0, low_open=True)
    g = as_rng(rng)
    D = np.zeros((m, n), dtype=bool)
    D[g.integers(0, m, size=n), np.arange(n)] = True
    for r in range(m):
        missing = 2 - int(D[r].sum())
        if missing > 0:
            free = np.flatnonzero(~D[r])
            D[r, g.choice(free, size=missing, replace=False)] = True
    target = int(round(density * m * n))
    extra = target - int(D.sum())
    if extra > 0:
        free = np.flatnonzero(~D.reshape(-1))
        D.reshape(-1)[g.choice(free, size=min(extra, free.size), replace=False)] = True
    costs = g.integers(1, 101, size=n).astype(float)
    return SetCover(costs, sp.csr_matrix(D.astype(float)), name=f"setcover-m{m}-n{n}-d{density:g}")
