"""Travelling salesman: a closed tour through all n cities of minimum length.

Native solutions are tours: permutations of ``0..n-1`` (the city visited at each step; the
tour returns to its start).  Two binary forms (:meth:`TravelingSalesman.to_binary`):

* ``encoding="position"`` — ``x[c*n + t] = 1`` iff city c is visited at step t; n²
  variables, objective ``x' kron(D, S) x`` with S the cyclic shift, one-hot equalities.
  Works for asymmetric distances too.
* ``encoding="edge"`` — one variable per undirected edge ``(i, j), i < j``, linear objective,
  degree-2 equalities.  This is a *relaxation*: degree constraints admit subtours, which the
  exact MILP removes by cuts; a bit vector made of subtours decodes to an infeasible tour.

Generators: :func:`random_tsp` (uniform or clustered Euclidean).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import scipy.sparse as sp

from cutslack.binary import BinaryProgram
from cutslack.errors import InvalidInstanceError
from cutslack.problems.base import KnownOptimum, Problem, as_rng, check_array, check_square
from cutslack.problems.permutation import (as_permutations, assignment_constraints, decode_assignment,
                                           permutation_violation)

__all__ = ["TravelingSalesman", "random_tsp", "tour_from_edges"]


@dataclass(frozen=True, eq=False)
class TravelingSalesman(Problem):
    """TSP on a distance matrix (optionally with city coordinates).

    Parameters
    ----------
    distance : (n, n) non-negative array
        ``distance[i, j]`` is the cost of going from i to j; the diagonal is ignored.  It may be
        asymmetric; methods that need symmetry say so.
    coordinates : (n, 2) array, optional
        City coordinates (for plots and geometric heuristics); distances are never recomputed
        from them here.
    """

    distance: np.ndarray
    coordinates: np.ndarray | None = None
    name: str = "tsp"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)

    sense = "min"
    family = "tsp"

    def __post_init__(self):
        D = np.array(check_square(self.distance, "distance"), dtype=float)
        off = ~np.eye(D.shape[0], dtype=bool)
        if np.any(D[off] < 0):
            raise InvalidInstanceError("distance", "must be non-negative")
        np.fill_diagonal(D, 0.0)
        D.setflags(write=False)
        object.__setattr__(self, "distance", D)
        if self.coordinates is not None:
            C = check_array(self.coordinates, "coordinates", ndim=2)
            if C.shape[0] != D.shape[0] or C.shape[1] < 2:
                raise InvalidInstanceError("coordinates", f"must have shape ({D.shape[0]}, 2), got {C.shape}")
            object.__setattr__(self, "coordinates", C)

    @property
    def symmetric(self) -> bool:
        return bool(np.array_equal(self.distance, self.distance.T))

    @property
    def size(self) -> dict:
        return {"n": int(self.distance.shape[0])}

    def evaluate(self, solution):
        """Return the length of the closed tour (per row for a batch)."""
        n = self.size["n"]
        P, single = as_permutations(solution, n)
        if np.any((P < 0) | (P >= n)):
            raise ValueError(f"solution: city indices must lie in [0, {n})")
        v = self.distance[P, np.roll(P, -1, axis=1)].sum(axis=1) if n else np.zeros(P.shape[0])
        return float(v[0]) if single else v

    def violation(self, solution):
        """Return ``|visits(c) - 1|`` per city (0 everywhere for a tour)."""
        n = self.size["n"]
        P, single = as_permutations(solution, n)
        V = permutation_violation(P, n)
        return V[0] if single else V

    def to_binary(self, encoding: str = "position") -> BinaryProgram:
        """Return the position (n² variables) or edge (n(n-1)/2 variables) binary form."""
        n = self.size["n"]
        if encoding == "position":
            S = np.roll(np.eye(n), 1, axis=1)  # S[t, t+1] = 1 (cyclic)
            A, b = assignment_constraints(n)
            Q = sp.kron(sp.csr_matrix(self.distance), sp.csr_matrix(S), format="csr") if n > 12 else np.kron(self.distance, S)
            names = [f"x{c}_{t}" for c in range(n) for t in range(n)]
            return BinaryProgram(c=np.zeros(n * n), Q=Q, sense="min", A_eq=A, b_eq=b, names=names,
                                 decode=partial(_decode_position, n=n),
                                 info={"family": "tsp", "encoding": "position"})
        if encoding == "edge":
            if not self.symmetric:
                raise InvalidInstanceError("distance", "the edge encoding needs a symmetric distance matrix")
            I, J = np.triu_indices(n, 1)
            m = I.shape[0]
            A = sp.csr_matrix((np.ones(2 * m), (np.r_[I, J], np.r_[np.arange(m), np.arange(m)])), shape=(n, m))
            names = [f"e{i}_{j}" for i, j in zip(I, J)]
            return BinaryProgram(c=self.distance[I, J], sense="min", A_eq=A, b_eq=np.full(n, 2.0), names=names,
                                 decode=partial(_decode_edges, n=n),
                                 info={"family": "tsp", "encoding": "edge", "relaxation": "subtours allowed"})
        raise ValueError(f"unknown encoding {encoding!r}; expected 'position' or 'edge'")


def _decode_position(bits, n: int) -> np.ndarray:
    # rows are cities, columns steps: the tour is the inverse of the city -> step assignment
    step_of_city = decode_assignment(bits, n)
    tour = np.full(n, -1, dtype=np.int64)
    ok = step_of_city >= 0
    tour[step_of_city[ok]] = np.flatnonzero(ok)
    if len(set(step_of_city[ok].tolist())) != ok.sum():
        tour[:] = -1
    return tour


def tour_from_edges(edges, n: int) -> np.ndarray | None:
    """Return the tour (starting at city 0) formed by undirected edges, or None when they
    do not form one Hamiltonian cycle through all ``n`` cities."""
    if n < 3:
        return np.arange(n, dtype=np.int64)
    adj = [[] for _ in range(n)]
    for i, j in edges:
        adj[int(i)].append(int(j))
        adj[int(j)].append(int(i))
    if any(len(a) != 2 for a in adj):
        return None
    tour, prev, cur = [0], -1, 0
    for _ in range(n - 1):
        cur, prev = (adj[cur][0] if adj[cur][0] != prev else adj[cur][1]), cur
        if cur == 0:
            return None  # closed a subtour early
        tour.append(cur)
    return np.array(tour, dtype=np.int64)


def _decode_edges(bits, n: int) -> np.ndarray:
    I, J = np.triu_indices(n, 1)
    on = np.flatnonzero(np.asarray(bits))
    if on.shape[0] != n:
        return np.full(n, -1, dtype=np.int64)
    tour = tour_from_edges(zip(I[on], J[on]), n)
    return np.full(n, -1, dtype=np.int64) if tour is None else tour


def random_tsp(n: int, *, kind: str = "uniform", scale: float = 1000.0, n_clusters: int | None = None,
               rounding: str = "none", rng=None) -> TravelingSalesman:
    """Return a Euclidean TSP on random points in ``[0, scale]²``.

    ``kind="uniform"``: points uniform in the square.  ``kind="clustered"``: ``n_clusters``
    (default ``max(2, n // 25)``) centres, points normally spread around them (DIMACS
    challenge style).  ``rounding="nint"`` rounds distances to integers as TSPLIB's EUC_2D.
    """
    if n < 1:
        raise InvalidInstanceError("n", "must be at least 1")
    g = as_rng(rng)
    if kind == "uniform":
        C = g.random((n, 2)) * scale
    elif kind == "clustered":
        k = n_clusters or max(2, n // 25)
        centres = g.random((k, 2)) * scale
        which = g.integers(0, k, size=n)
        C = np.clip(centres[which] + g.normal(0.0, scale / (4.0 * np.sqrt(k)), size=(n, 2)), 0, scale)
    else:
        raise ValueError(f"unknown kind {kind!r}; expected 'uniform' or 'clustered'")
    D = np.sqrt(((C[:, None, :] - C[None, :, :]) ** 2).sum(axis=2))
    if rounding == "nint":
        D = np.floor(D + 0.5)
    elif rounding != "none":
        raise ValueError(f"unknown rounding {rounding!r}; expected 'none' or 'nint'")
    return TravelingSalesman(D, C, name=f"tsp-{kind}-n{n}")
