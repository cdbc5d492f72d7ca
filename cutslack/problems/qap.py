"""Quadratic assignment (Koopmans–Beckmann): assign n facilities to n locations.

    min  sum_{i,j} F[i, j] * D[p[i], p[j]]   over permutations p

``F`` is the flow matrix (QAPLIB's A) and ``D`` the distance matrix (QAPLIB's B); ``p[i]``
is the location of facility ``i``.  Generators: :func:`random_qap` with Taillard-style
uniform data or grid (Manhattan) distances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np

from cutslack.binary import BinaryProgram
from cutslack.config import check_memory
from cutslack.errors import InvalidInstanceError
from cutslack.problems.base import KnownOptimum, Problem, as_rng, check_choice, check_count, check_square
from cutslack.problems.permutation import (as_permutations, assignment_constraints, decode_assignment,
                                           permutation_violation)

__all__ = ["QuadraticAssignment", "random_qap"]


@dataclass(frozen=True, eq=False)
class QuadraticAssignment(Problem):
    """Koopmans–Beckmann QAP with flow matrix ``flow`` and distance matrix ``distance``.

    Matrices need not be symmetric (several QAPLIB instances are not); they must be square,
    finite and of the same size.  Native solutions are permutations ``p`` (0-based).
    """

    flow: np.ndarray
    distance: np.ndarray
    name: str = "qap"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)

    sense = "min"
    family = "qap"

    def __post_init__(self):
        F = check_square(self.flow, "flow")
        D = check_square(self.distance, "distance")
        if F.shape != D.shape:
            raise InvalidInstanceError("distance", f"must have the shape of flow {F.shape}, got {D.shape}")
        object.__setattr__(self, "flow", F)
        object.__setattr__(self, "distance", D)

    @property
    def size(self) -> dict:
        return {"n": int(self.flow.shape[0])}

    def evaluate(self, solution):
        """Return ``sum F[i,j] D[p[i],p[j]]`` of a permutation (per row for a batch).

        A row that is not a permutation is still scored where its entries are valid
        locations; ``violation`` reports it as infeasible.
        """
        n = self.size["n"]
        P, single = as_permutations(solution, n)
        if np.any((P < 0) | (P >= n)):
            raise ValueError(f"solution: locations must lie in [0, {n})")
        Dp = self.distance[P[:, :, None], P[:, None, :]]  # (k, n, n)
        v = np.einsum("ij,kij->k", self.flow, Dp)
        return float(v[0]) if single else v

    def violation(self, solution):
        """Return ``|count(k) - 1|`` per location ``k`` (0 everywhere for a permutation)."""
        n = self.size["n"]
        P, single = as_permutations(solution, n)
        V = permutation_violation(P, n)
        return V[0] if single else V

    def to_binary(self) -> BinaryProgram:
        """Return the n² binary form: ``x[i*n + k] = 1`` iff facility i is at location k,
        objective ``x' kron(F, D) x``, one-hot equalities on rows and columns."""
        n = self.size["n"]
        A, b = assignment_constraints(n)
        names = [f"x{i}_{k}" for i in range(n) for k in range(n)]
        return BinaryProgram(c=np.zeros(n * n), Q=np.kron(self.flow, self.distance), sense="min",
                             A_eq=A, b_eq=b, names=names, decode=partial(decode_assignment, n=n),
                             info={"family": "qap", "encoding": "assignment"})


def random_qap(n: int, *, kind: str = "uniform", rng=None) -> QuadraticAssignment:
    """Return a random QAP.

    ``kind="uniform"``: flows and distances uniform on ``{0..99}`` with zero diagonals (Taillard's
    taiXXa).  ``kind="grid"``: locations on a near-square grid with Manhattan distances, flows
    uniform on ``{0..9}`` with about half the pairs zero (Nugent/Skorin-Kapov style), symmetric.
    """
    n = check_count(n, "n", 1)
    check_choice(kind, "kind", ("uniform", "grid"))
    # peak: two n x n matrices drawn as integers, their float copies and the grid's (n, n, 2) differences
    check_memory("random_qap (flow and distance n x n)", f"n={n}", 48.0 * n * n)
    g = as_rng(rng)
    if kind == "uniform":
        F = g.integers(0, 100, size=(n, n)).astype(float)
        D = g.integers(0, 100, size=(n, n)).astype(float)
        np.fill_diagonal(F, 0)
        np.fill_diagonal(D, 0)
    elif kind == "grid":
        cols = int(np.ceil(np.sqrt(n)))
        pos = np.array([(i // cols, i % cols) for i in range(n)], dtype=float)
        D = np.abs(pos[:, None, :] - pos[None, :, :]).sum(axis=2)
        F = g.integers(0, 10, size=(n, n)) * (g.random((n, n)) < 0.5)
        F = np.triu(F, 1)
        F = (F + F.T).astype(float)
    else:
        raise ValueError(f"unknown kind {kind!r}; expected 'uniform' or 'grid'")
    return QuadraticAssignment(F, D, name=f"qap-{kind}-n{n}")
