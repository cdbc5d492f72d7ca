"""Knapsack with m >= 1 constraints: the 0/1 knapsack (m = 1) and the multi-dimensional
knapsack (MDKP), one class.

    max p'x   s.t.  W x <= c,   x in {0,1}^n

Generators: :func:`random_knapsack` (uncorrelated, weakly and strongly correlated, as in
Pisinger's and Martello-Toth's classes) and :func:`random_mdkp` (Chu & Beasley 1998).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cutslack.binary import BinaryProgram, as_bit_matrix
from cutslack.config import check_memory
from cutslack.errors import InvalidInstanceError
from cutslack.problems.base import KnownOptimum, Problem, as_rng, check_array, check_choice, check_count, check_number

__all__ = ["Knapsack", "random_knapsack", "random_mdkp"]


@dataclass(frozen=True, eq=False)
class Knapsack(Problem):
    """0/1 knapsack with one or more capacity constraints (maximise profit).

    Parameters
    ----------
    profits : (n,) non-negative array
    weights : (m, n) or (n,) non-negative array (a vector means m = 1)
    capacities : (m,) non-negative array (a scalar when m = 1)
    name : str
    known_optimum : KnownOptimum, optional

    Examples
    --------
    >>> p = Knapsack([10, 7, 4], [[5, 4, 3]], [7])
    >>> p.evaluate([1, 0, 0]), p.is_feasible([1, 1, 0])
    (10.0, False)
    """

    profits: np.ndarray
    weights: np.ndarray
    capacities: np.ndarray
    name: str = "knapsack"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)

    sense = "max"
    family = "knapsack"

    def __post_init__(self):
        p = check_array(self.profits, "profits", ndim=1, nonneg=True)
        W = np.array(self.weights, dtype=float) if not isinstance(self.weights, np.ndarray) else self.weights
        W = check_array(np.atleast_2d(W), "weights", ndim=2, nonneg=True)
        if W.shape[1] != p.shape[0]:
            raise InvalidInstanceError("weights", f"must have {p.shape[0]} columns (one per item), got shape {W.shape}")
        c = check_array(np.atleast_1d(np.asarray(self.capacities, dtype=float)), "capacities", ndim=1, nonneg=True)
        if c.shape[0] != W.shape[0]:
            raise InvalidInstanceError("capacities", f"must have {W.shape[0]} entries (one per weight row), got {c.shape[0]}")
        object.__setattr__(self, "profits", p)
        object.__setattr__(self, "weights", W)
        object.__setattr__(self, "capacities", c)

    @property
    def m(self) -> int:
        return self.weights.shape[0]

    @property
    def size(self) -> dict:
        return {"n": int(self.profits.shape[0]), "m": int(self.m)}

    def _bits(self, x):
        X, single = as_bit_matrix(x, self.profits.shape[0], field_name="solution")
        X = np.asarray(X, dtype=float)
        if np.any((X != 0) & (X != 1)):
            raise ValueError("solution: knapsack solutions are 0/1 vectors")
        return X, single

    def evaluate(self, solution):
        """Return the total profit of a 0/1 vector (or of each row of a batch)."""
        X, single = self._bits(solution)
        v = X @ self.profits
        return float(v[0]) if single else v

    def violation(self, solution):
        """Return ``max(W x - c, 0)`` per constraint."""
        X, single = self._bits(solution)
        V = np.maximum(X @ self.weights.T - self.capacities, 0.0)
        return V[0] if single else V

    def to_binary(self) -> BinaryProgram:
        """Return ``max p'x s.t. W x <= c`` with one variable per item (decode is the identity)."""
        return BinaryProgram(c=self.profits, sense="max", A_le=self.weights, b_le=self.capacities,
                             names=[f"x{i}" for i in range(self.size["n"])], info={"family": "knapsack"})


def _check_generator_memory(what: str, n: int, m: int) -> None:
    # peak: the integer draw, its float copy and the validated weights (m x n each), plus a few n-vectors
    check_memory(f"{what} (weights m x n)", f"n={n}, m={m}", 24.0 * m * n + 64.0 * n)


def random_knapsack(n: int, m: int = 1, *, kind: str = "uncorrelated", R: int = 1000,
                    tightness: float = 0.5, rng=None) -> Knapsack:
    """Return a random knapsack with integer data.

    Weights are uniform on ``[1, R]``; profits are ``uncorrelated`` (uniform on ``[1, R]``),
    ``weakly`` correlated (``w̄_j + U[-R/10, R/10]``, at least 1) or ``strongly`` correlated
    (``w̄_j + R/10``), where ``w̄_j`` is item ``j``'s mean weight over the ``m`` rows.  Each
    capacity is ``tightness`` times its row sum.
    """
    n, m = check_count(n, "n", 1), check_count(m, "m", 1)
    R = check_count(R, "R", 1)
    check_choice(kind, "kind", ("uncorrelated", "weakly", "weakly_correlated", "strongly", "strongly_correlated"))
    tightness = check_number(tightness, "tightness", low=0.0, high=1.0, low_open=True)
    _check_generator_memory("random_knapsack", n, m)
    g = as_rng(rng)
    W = g.integers(1, R + 1, size=(m, n)).astype(float)
    wbar = W.mean(axis=0)
    if kind == "uncorrelated":
        p = g.integers(1, R + 1, size=n).astype(float)
    elif kind in ("weakly", "weakly_correlated"):
        p = np.maximum(1.0, np.round(wbar + g.integers(-R // 10, R // 10 + 1, size=n)))
    elif kind in ("strongly", "strongly_correlated"):
        p = np.round(wbar + R / 10)
    else:
        raise ValueError(f"unknown kind {kind!r}; expected 'uncorrelated', 'weakly' or 'strongly'")
    c = np.floor(tightness * W.sum(axis=1))
    return Knapsack(p, W, c, name=f"knapsack-{kind}-n{n}-m{m}")


def random_mdkp(n: int, m: int, *, tightness: float = 0.25, rng=None) -> Knapsack:
    """Return a Chu & Beasley multi-dimensional knapsack.

    ``w_ij ~ U{0..1000}``, ``c_i = floor(tightness * sum_j w_ij)`` and
    ``p_j = sum_i w_ij / m + 500 q_j`` with ``q_j ~ U(0, 1)`` (rounded), as in OR-Library's
    mknapcb sets (tightness 0.25, 0.5, 0.75).
    """
    n, m = check_count(n, "n", 1), check_count(m, "m", 1)
    tightness = check_number(tightness, "tightness", low=0.0, high=1.0, low_open=True)
    _check_generator_memory("random_mdkp", n, m)
    g = as_rng(rng)
    W = g.integers(0, 1001, size=(m, n)).astype(float)
    c = np.floor(tightness * W.sum(axis=1))
    p = np.round(W.sum(axis=0) / m + 500.0 * g.random(n))
    return Knapsack(p, W, c, name=f"mdkp-n{n}-m{m}-t{tightness:g}")
