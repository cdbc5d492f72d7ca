"""Small QUBOs shared by the quantum tests."""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.binary import QUBO


def all_bits(n: int) -> np.ndarray:
    """Every bit vector of length ``n`` in basis-index order (bit q = (k >> q) & 1)."""
    return ((np.arange(1 << n)[:, None] >> np.arange(n)) & 1).astype(np.uint8)


@pytest.fixture
def dense_qubo() -> QUBO:
    rng = np.random.default_rng(11)
    return QUBO(rng.normal(size=(6, 6)), 0.75)


@pytest.fixture
def sparse_qubo() -> QUBO:
    """A 7-variable QUBO with isolated and zero-field variables (ring couplings only)."""
    Q = np.zeros((7, 7))
    for i in range(6):
        Q[i, i + 1] = (-1) ** i * (1 + i / 3)
    Q[2, 2] = -1.5
    return QUBO(Q, -2.0)
