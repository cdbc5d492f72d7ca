"""Travelling salesman: a closed tour through all n cities of minimum length.

Native solutions are tours: permutations of ``0..n-1`` (the city visited at each step; the
tour returns to its start).  Two binary forms (:meth:`TravelingSalesman.to_binary`):

* ``encoding="position"`` — ``x[c*n + t] = 1`` iff city c is visited at step t; n²
  variables, objective ``x' kron(D, S) x`` with S the cyclic shift, one-hot equalities.
  Works for asymmetric distances too.
* ``encoding="edge"`` — one variable per undirected edge ``(i, j), i < j``, linear objective,
  degree-2 equalities.  This is a *relaxation*: degree constraints admit subtours, which the
  exact MILP removes by cuts; a bit vector made of subtours decodes to an infeasible tour.

Large geometric instances may be given by ``coordinates`` and a ``metric`` alone
(``distance=None``): the matrix is then built eagerly up to :data:`EAGER_MATRIX_LIMIT`
cities and never beyond (``distance`` stays None; :meth:`TravelingSalesman.pair_distance`
and the geometric heuristics compute distances on the fly).  Metrics follow TSPLIB95
exactly (:func:`coordinate_distance`).

Generators: :func:`random_tsp` (uniform or clustered Euclidean).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import scipy.sparse as sp

from cutslack.binary import BinaryProgram
from cutslack.config import check_memory
from cutslack.errors import InvalidInstanceError, ProblemTooLargeError
from cutslack.problems.base import KnownOptimum, Problem, as_rng, check_array, check_choice, check_count, check_number, check_square
from cutslack.problems.permutation import (as_permutations, assignment_constraints, decode_assignment,
                                           permutation_violation)

__all__ = ["TravelingSalesman", "random_tsp", "tour_from_edges", "coordinate_distance", "METRICS",
           "EAGER_MATRIX_LIMIT"]

#: coordinate metrics: plain Euclidean (float) and TSPLIB95's integer ones
METRICS = ("euclidean", "EUC_2D", "CEIL_2D", "ATT", "GEO")
#: coordinates-only instances up to this many cities get their full distance matrix at construction
EAGER_MATRIX_LIMIT = 5000
#: largest distance matrix (bytes) :meth:`TravelingSalesman.distance_matrix` builds on request
MAX_MATRIX_BYTES = 4 * 2**30

_PI = 3.141592  # TSPLIB95's value, not math.pi
_RRR = 6378.388


def _geo_radians(v):
    deg = np.trunc(v)  # TSPLIB: deg = (int) x  (truncation toward zero)
    return _PI * (deg + 5.0 * (v - deg) / 3.0) / 180.0


def coordinate_distance(A, B, metric: str = "euclidean") -> np.ndarray:
    """Return the distances between points ``A[k]`` and ``B[k]`` (broadcasting) under a metric.

    ``"euclidean"``: float Euclidean.  TSPLIB95 (Reinelt 1995, section 2): ``"EUC_2D"``
    ``nint(sqrt(dx² + dy²))``; ``"CEIL_2D"`` its ceiling; ``"ATT"`` pseudo-Euclidean
    ``r = sqrt((dx² + dy²)/10)``, ``t = nint(r)``, ``t + 1 if t < r else t``; ``"GEO"``
    geographical with ``PI = 3.141592``, ``RRR = 6378.388`` and the ``(int)(... + 1.0)`` rounding.
    """
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    if metric == "GEO":
        lat_a, lon_a = _geo_radians(A[..., 0]), _geo_radians(A[..., 1])
        lat_b, lon_b = _geo_radians(B[..., 0]), _geo_radians(B[..., 1])
        q1 = np.cos(lon_a - lon_b)
        q2 = np.cos(lat_a - lat_b)
        q3 = np.cos(lat_a + lat_b)
        arg = np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0)
        return np.trunc(_RRR * np.arccos(arg) + 1.0)
    d2 = ((A[..., :2] - B[..., :2]) ** 2).sum(axis=-1)
    if metric == "euclidean":
        return np.sqrt(d2)
    if metric == "EUC_2D":
        return np.floor(np.sqrt(d2) + 0.5)
    if metric == "CEIL_2D":
        return np.ceil(np.sqrt(d2))
    if metric == "ATT":
        r = np.sqrt(d2 / 10.0)
        t = np.floor(r + 0.5)
        return np.where(t < r, t + 1.0, t)
    raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")


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

    distance: np.ndarray | None = None
    coordinates: np.ndarray | None = None
    name: str = "tsp"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)
    metric: str | None = None

    sense = "min"
    family = "tsp"

    def __post_init__(self):
        if self.metric is not None and self.metric not in METRICS:
            raise InvalidInstanceError("metric", f"must be one of {', '.join(METRICS)}, got {self.metric!r}")
        C = None
        if self.coordinates is not None:
            C = check_array(self.coordinates, "coordinates", ndim=2)
            if C.shape[1] != 2:  # a third column would be ignored by every metric: refuse, don't drop it
                raise InvalidInstanceError("coordinates", f"must have shape (n, 2), got {C.shape}")
            object.__setattr__(self, "coordinates", C)
        if self.distance is None:
            if C is None or self.metric is None:
                raise InvalidInstanceError("distance", "is required unless coordinates and a metric are given")
            if C.shape[0] <= EAGER_MATRIX_LIMIT:
                object.__setattr__(self, "distance", self._matrix_from_coordinates())
            return
        D = np.array(check_square(self.distance, "distance"), dtype=float)
        off = ~np.eye(D.shape[0], dtype=bool)
        if np.any(D[off] < 0):
            raise InvalidInstanceError("distance", "must be non-negative")
        np.fill_diagonal(D, 0.0)
        D.setflags(write=False)
        object.__setattr__(self, "distance", D)
        if C is not None and C.shape[0] != D.shape[0]:
            raise InvalidInstanceError("coordinates", f"must have shape ({D.shape[0]}, 2), got {C.shape}")

    def _matrix_from_coordinates(self) -> np.ndarray:
        n = self.coordinates.shape[0]
        if 8 * n * n > MAX_MATRIX_BYTES:
            raise ProblemTooLargeError("TSP distance matrix (bytes)", 8 * n * n, MAX_MATRIX_BYTES)
        # the matrix plus one block of 512 rows of (n, 2) differences
        check_memory("TSP distance matrix (n x n)", f"{n} cities", 8.0 * n * n + 512 * 24.0 * n)
        C = self.coordinates
        D = np.empty((n, n))
        for start in range(0, n, 512):  # row blocks keep the temporaries small
            D[start:start + 512] = coordinate_distance(C[start:start + 512, None, :], C[None, :, :], self.metric)
        np.fill_diagonal(D, 0.0)
        D.setflags(write=False)
        return D

    def distance_matrix(self) -> np.ndarray:
        """Return the full distance matrix (built from the coordinates when it was not stored)."""
        return self.distance if self.distance is not None else self._matrix_from_coordinates()

    def pair_distance(self, i, j) -> np.ndarray:
        """Return the distances from cities ``i`` to cities ``j`` (arrays broadcast)."""
        if self.distance is not None:
            return self.distance[i, j]
        C = self.coordinates
        d = coordinate_distance(C[i], C[j], self.metric)
        return np.where(np.asarray(i) == np.asarray(j), 0.0, d)

    @property
    def symmetric(self) -> bool:
        if self.distance is None:
            return True  # every coordinate metric is symmetric
        return bool(np.array_equal(self.distance, self.distance.T))

    @property
    def size(self) -> dict:
        n = self.distance.shape[0] if self.distance is not None else self.coordinates.shape[0]
        return {"n": int(n)}

    def evaluate(self, solution):
        """Return the length of the closed tour (per row for a batch)."""
        n = self.size["n"]
        P, single = as_permutations(solution, n)
        if np.any((P < 0) | (P >= n)):
            raise ValueError(f"solution: city indices must lie in [0, {n})")
        v = self.pair_distance(P, np.roll(P, -1, axis=1)).sum(axis=1) if n else np.zeros(P.shape[0])
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
        D = self.distance_matrix()
        if encoding == "position":
            S = np.roll(np.eye(n), 1, axis=1)  # S[t, t+1] = 1 (cyclic)
            A, b = assignment_constraints(n)
            Q = sp.kron(sp.csr_matrix(D), sp.csr_matrix(S), format="csr") if n > 12 else np.kron(D, S)
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
            return BinaryProgram(c=D[I, J], sense="min", A_eq=A, b_eq=np.full(n, 2.0), names=names,
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
    n = check_count(n, "n", 1)
    check_choice(kind, "kind", ("uniform", "clustered"))
    check_choice(rounding, "rounding", ("none", "nint"))
    scale = check_number(scale, "scale", low=0.0, low_open=True)
    if n_clusters is not None:
        check_count(n_clusters, "n_clusters", 1)
    # coordinates and their temporaries; the matrix is built eagerly only up to EAGER_MATRIX_LIMIT cities
    matrix = 8.0 * n * n + 512 * 24.0 * n if n <= EAGER_MATRIX_LIMIT else 0.0
    check_memory("random_tsp (coordinates and distance matrix)", f"n={n}", 64.0 * n + matrix)
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
    if rounding not in ("none", "nint"):
        raise ValueError(f"unknown rounding {rounding!r}; expected 'none' or 'nint'")
    metric = "EUC_2D" if rounding == "nint" else "euclidean"
    return TravelingSalesman(None, C, name=f"tsp-{kind}-n{n}", metric=metric)
