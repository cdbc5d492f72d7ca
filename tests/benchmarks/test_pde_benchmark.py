"""benchmarks/pde.py: the observed order of the discretisation error uses the real grid spacings."""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.problems.pde import manufactured_control
from test_benchmark_scripts import _load


@pytest.fixture(scope="module")
def pde_script():
    return _load("pde")


def test_observed_order_uses_the_grid_spacings(pde_script):
    # h = 1/(N+1) on N x N interior nodes: doubling N does not halve h
    for order in (1.0, 2.0, 3.5):
        h1, h2 = 1 / 9, 1 / 17
        assert pde_script.observed_order(4.2 * h1**order, 4.2 * h2**order, h1, h2) == pytest.approx(order, rel=1e-12)
    assert np.log2((1 / 9) ** 2 / (1 / 17) ** 2) == pytest.approx(1.835, abs=1e-3)   # what log2 used to report


def test_manufactured_solution_converges_at_order_two(pde_script):
    """The benchmark's error measure on N = 8, 16, 32 (newton-kkt, linear manufactured solution):
    the five-point Laplacian is second order, and the helper reports it."""
    import cutslack

    errors, spacings = [], []
    for N in (8, 16, 32):
        prob, exact = manufactured_control(N)
        res = cutslack.solve(prob, "newton-kkt")
        n = prob.n_nodes
        errors.append(float(np.sqrt(prob.mass @ (res.x[n:] - exact["u"]) ** 2)))
        spacings.append(1.0 / (N + 1))
        assert prob.meta["h"] == pytest.approx(spacings[-1])
    orders = [pde_script.observed_order(errors[i], errors[i + 1], spacings[i], spacings[i + 1]) for i in range(2)]
    assert orders == pytest.approx([2.0, 2.0], abs=0.05)
