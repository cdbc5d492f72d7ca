"""Small synthetic BinaryPrograms with every row type, in the canonical form (fixture ``rowtypes``).

GAP-like (one-hot equalities plus ``≤`` capacities), SCP-like (``≥ 1`` rows stored negated),
ranged (``L ≤ a'x ≤ U`` as two ``≤`` rows) and mixed-sign rows; and a brute-force optimum.
"""

import itertools

import numpy as np
import pytest
from types import SimpleNamespace

from cutslack.binary import BinaryProgram


def gap_like(agents, jobs, seed, *, slack=0.8):
    """Maximise profit, each job to exactly one agent, agent loads within capacity; ``x[i*jobs + j]``."""
    g = np.random.default_rng(seed)
    profit = g.integers(5, 30, size=(agents, jobs)).astype(float)
    weight = g.integers(3, 15, size=(agents, jobs)).astype(float)
    cap = np.floor(slack * weight.sum(axis=1) / agents) + weight.max()
    A_le = np.zeros((agents, agents * jobs))
    for i in range(agents):
        A_le[i, i * jobs:(i + 1) * jobs] = weight[i]
    A_eq = np.zeros((jobs, agents * jobs))
    for j in range(jobs):
        A_eq[j, j::jobs] = 1.0
    return BinaryProgram(c=profit.reshape(-1), sense="max", A_le=A_le, b_le=cap, A_eq=A_eq, b_eq=np.ones(jobs))


def scp_like(rows, cols, seed, *, density=0.3):
    """Minimise cost so that every row is covered: ``A x ≥ 1`` stored as ``−A x ≤ −1``."""
    g = np.random.default_rng(seed)
    A = (g.random((rows, cols)) < density).astype(float)
    for i in range(rows):
        A[i, g.choice(cols, 2, replace=False)] = 1.0
    cost = g.integers(1, 10, size=cols).astype(float)
    return BinaryProgram(c=cost, sense="min", A_le=-A, b_le=-np.ones(rows))


def ranged(n, seed):
    """Maximise profit with weights in a band ``L ≤ w'x ≤ U`` (two ``≤`` rows) and a second ``≤`` row."""
    g = np.random.default_rng(seed)
    w = g.integers(2, 12, size=n).astype(float)
    v = g.integers(1, 8, size=n).astype(float)
    L, U = 0.35 * w.sum(), 0.5 * w.sum()
    A_le = np.vstack([w, -w, v])
    b_le = np.array([np.floor(U), -np.ceil(L), np.floor(0.4 * v.sum())])
    c = g.integers(-5, 20, size=n).astype(float)
    return BinaryProgram(c=c, sense="max", A_le=A_le, b_le=b_le)


def mixed_sign(n, seed):
    """Minimise a cost with rows mixing positive and negative coefficients and one equality."""
    g = np.random.default_rng(seed)
    while True:
        A = g.integers(-4, 6, size=(3, n)).astype(float)
        x0 = g.integers(0, 2, size=n).astype(float)      # a planted feasible point
        b = A @ x0 + g.integers(0, 3, size=3)
        a_eq = g.integers(0, 3, size=(1, n)).astype(float)
        c = g.integers(-9, 9, size=n).astype(float)
        bp = BinaryProgram(c=c, sense="min", A_le=A, b_le=b, A_eq=a_eq, b_eq=a_eq @ x0)
        if bp.is_feasible(x0.astype(np.uint8)):
            return bp


def brute_force_program(bp):
    """Return ``(bits, value)``: an optimum of a BinaryProgram with ``n ≤ 20`` by enumeration."""
    X = np.array(list(itertools.product([0, 1], repeat=bp.n)), dtype=np.uint8)
    ok = np.atleast_1d(bp.is_feasible(X, atol=1e-9))
    vals = np.atleast_1d(bp.objective(X[ok]))
    i = int(np.argmax(vals) if bp.sense == "max" else np.argmin(vals))
    return X[ok][i], float(vals[i])


@pytest.fixture
def rowtypes():
    """The builders of this module: ``gap_like``, ``scp_like``, ``ranged``, ``mixed_sign``, ``brute_force_program``."""
    return SimpleNamespace(gap_like=gap_like, scp_like=scp_like, ranged=ranged, mixed_sign=mixed_sign,
                           brute_force_program=brute_force_program)
