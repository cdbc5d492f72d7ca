"""Generalized assignment (GAP): every job goes to exactly one agent, within each agent's capacity.

    max (or min)  sum_ij p_ij x_ij
    s.t.          sum_i x_ij = 1            for every job j
                  sum_j w_ij x_ij <= c_i    for every agent i,     x_ij in {0,1}

The native solution is the agent of each job (an int vector of ``n`` entries; ``-1`` marks an
unassigned job, which is infeasible).  OR-Library's ``gap1``–``gap12`` *maximise* profit; the
Chu & Beasley (1997) / Laguna et al. (1995) types C, D and E that :func:`random_gap` generates
*minimise* cost, so the generator returns ``sense="min"`` instances whose ``profits`` field holds
those costs (the field is the objective coefficient in either sense).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import numpy as np
import scipy.sparse as sp

from cutslack.binary import BinaryProgram, as_bit_matrix
from cutslack.errors import InvalidInstanceError
from cutslack.problems.base import KnownOptimum, Problem, as_rng, check_array, check_choice, check_count

__all__ = ["GeneralizedAssignment", "random_gap", "decode_gap_bits", "encode_gap_agents"]


@dataclass(frozen=True, eq=False)
class GeneralizedAssignment(Problem):
    """Generalized assignment of ``n`` jobs to ``m`` capacitated agents.

    Parameters
    ----------
    profits : (m, n) array
        Objective coefficient of job ``j`` at agent ``i``: a profit when ``sense="max"``, a cost
        when ``sense="min"``.
    weights : (m, n) non-negative array
        Capacity job ``j`` uses at agent ``i``.
    capacities : (m,) non-negative array
    sense : {"max", "min"}
    name : str
    known_optimum : KnownOptimum, optional

    Examples
    --------
    >>> p = GeneralizedAssignment([[5, 1], [2, 4]], [[3, 3], [3, 3]], [3, 3])
    >>> p.evaluate([0, 1]), p.is_feasible([0, 0]), p.is_feasible([0, -1])
    (9.0, False, False)
    """

    profits: np.ndarray
    weights: np.ndarray
    capacities: np.ndarray
    sense: str = "max"
    name: str = "gap"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)

    family = "gap"

    def __post_init__(self):
        P = check_array(self.profits, "profits", ndim=2)
        W = check_array(self.weights, "weights", ndim=2, nonneg=True)
        if W.shape != P.shape:
            raise InvalidInstanceError("weights", f"must have the shape of profits {P.shape}, got {W.shape}")
        if P.shape[0] < 1 or P.shape[1] < 1:
            raise InvalidInstanceError("profits", f"needs at least one agent and one job, got shape {P.shape}")
        c = check_array(np.atleast_1d(np.asarray(self.capacities, dtype=float)), "capacities", ndim=1, nonneg=True)
        if c.shape[0] != P.shape[0]:
            raise InvalidInstanceError("capacities", f"must have {P.shape[0]} entries (one per agent), got {c.shape[0]}")
        check_choice(self.sense, "sense", ("max", "min"))
        object.__setattr__(self, "profits", P)
        object.__setattr__(self, "weights", W)
        object.__setattr__(self, "capacities", c)

    @property
    def m(self) -> int:
        """Number of agents."""
        return int(self.profits.shape[0])

    @property
    def size(self) -> dict:
        return {"n": int(self.profits.shape[1]), "m": self.m}

    def agents(self, solution):
        """Return ``(A, single)``: the agent vector(s) as an int ``(k, n)`` array, checked in ``-1..m-1``."""
        A = np.asarray(solution)
        if A.dtype.kind == "f":
            if not np.all(np.isfinite(A)) or np.any(A != np.round(A)):
                raise ValueError("solution: a GAP solution holds integer agent indices")
        elif A.dtype.kind not in "iub":
            raise ValueError(f"solution: a GAP solution holds integer agent indices, got dtype {A.dtype}")
        A2, single = as_bit_matrix(A.astype(np.int64), self.n, field_name="solution")
        if np.any((A2 < -1) | (A2 >= self.m)):
            raise ValueError(f"solution: agent indices must lie in -1..{self.m - 1} (-1 = unassigned)")
        return A2, single

    def _loads(self, A):
        k, n = A.shape
        loads = np.zeros((k, self.m))
        rows, jobs = np.nonzero(A >= 0)
        agents = A[rows, jobs]
        np.add.at(loads, (rows, agents), self.weights[agents, jobs])
        return loads

    def evaluate(self, solution):
        """Return the total profit (cost) of the assigned jobs, per solution for a batch."""
        A, single = self.agents(solution)
        safe = np.where(A >= 0, A, 0)
        v = np.where(A >= 0, self.profits[safe, np.arange(self.n)[None, :]], 0.0).sum(axis=1)
        return float(v[0]) if single else v

    def violation(self, solution):
        """Return the capacity excess of each agent (``m`` entries), then 1 per unassigned job (``n``)."""
        A, single = self.agents(solution)
        V = np.concatenate([np.maximum(self._loads(A) - self.capacities, 0.0), (A < 0).astype(float)], axis=1)
        return V[0] if single else V

    def to_binary(self) -> BinaryProgram:
        """Return the binary program over ``x[i, j]`` (bit ``i*n + j``: job ``j`` at agent ``i``).

        One equality row per job (``sum_i x_ij = 1``) and one capacity row per agent, both
        sparse; ``decode`` maps bits to the agent vector (``-1`` for a job with zero or several
        agents).
        """
        m, n = self.m, self.n
        jobs = np.tile(np.arange(n), m)
        cols = np.arange(m * n)
        A_eq = sp.csr_matrix((np.ones(m * n), (jobs, cols)), shape=(n, m * n))
        A_le = sp.csr_matrix((self.weights.reshape(-1), (np.repeat(np.arange(m), n), cols)), shape=(m, m * n))
        A_le.eliminate_zeros()
        names = [f"x{i}_{j}" for i in range(m) for j in range(n)]
        return BinaryProgram(c=self.profits.reshape(-1), sense=self.sense, A_le=A_le, b_le=self.capacities,
                             A_eq=A_eq, b_eq=np.ones(n), names=names, decode=partial(decode_gap_bits, m=m, n=n),
                             info={"family": "gap"})


def decode_gap_bits(bits, m: int, n: int) -> np.ndarray:
    """Return the agent vector of ``m*n`` bits (``-1`` where a job has zero or several agents)."""
    X = np.asarray(bits, dtype=np.int64).reshape(m, n)
    count = X.sum(axis=0)
    return np.where(count == 1, np.argmax(X, axis=0), -1).astype(np.int64)


def encode_gap_agents(agents, m: int) -> np.ndarray:
    """Return the ``m*n`` bits (or a ``(k, m*n)`` batch) of agent vectors; ``-1`` gives an all-zero column."""
    A = np.asarray(agents, dtype=np.int64)
    single = A.ndim == 1
    A2 = A.reshape(1, -1) if single else A
    k, n = A2.shape
    X = np.zeros((k, m, n), dtype=np.uint8)
    rows, jobs = np.nonzero(A2 >= 0)
    X[rows, A2[rows, jobs], jobs] = 1
    X = X.reshape(k, m * n)
    return X[0] if single else X


def random_gap(m: int, n: int, *, kind: str = "c", rng=None) -> GeneralizedAssignment:
    """Return a random GAP of type C, D or E (minimise cost), with integer data.

    Types as in Chu & Beasley, "A genetic algorithm for the generalised assignment problem",
    Computers & Operations Research 24 (1997) 17-23, and Laguna, Kelly, González-Velarde &
    Glover, "Tabu search for the multilevel generalized assignment problem", EJOR 82 (1995)
    (type E); ``w`` are the weights, ``p`` the costs, ``c_i = floor(0.8 * sum_j w_ij / m)``:

    * ``"c"`` — ``w_ij ~ U{5..25}``, ``p_ij ~ U{10..50}``;
    * ``"d"`` — ``w_ij ~ U{1..100}``, ``p_ij = 111 - w_ij + e``, ``e ~ U{-10..10}`` (costs
      inversely correlated with weights: harder);
    * ``"e"`` — ``w_ij = round(1 - 10 ln U(0,1])``, ``p_ij = round(1000 / w_ij - 10 U[0,1))``.

    These types minimise, as in the literature, so the instance has ``sense="min"`` and its
    ``profits`` field holds the costs.  (OR-Library's ``gap1``–``gap12``, read by
    :func:`~cutslack.problems.library.read_orlib_gap`, maximise.)
    """
    m, n = check_count(m, "m", 1), check_count(n, "n", 1)
    kind = check_choice(str(kind).lower(), "kind", ("c", "d", "e"))
    g = as_rng(rng)
    if kind == "c":
        W = g.integers(5, 26, size=(m, n)).astype(float)
        P = g.integers(10, 51, size=(m, n)).astype(float)
    elif kind == "d":
        W = g.integers(1, 101, size=(m, n)).astype(float)
        P = 111.0 - W + g.integers(-10, 11, size=(m, n))
    else:
        W = np.round(1.0 - 10.0 * np.log(1.0 - g.random((m, n))))
        P = np.round(1000.0 / W - 10.0 * g.random((m, n)))
    c = np.floor(0.8 * W.sum(axis=1) / m)
    return GeneralizedAssignment(P, W, c, sense="min", name=f"gap-{kind}-m{m}-n{n}")
