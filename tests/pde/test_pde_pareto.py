"""Pareto fronts and hypervolume; the pde bench suite."""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.bench.suite import load_suite
from cutslack.problems import elliptic_control_fd
from cutslack.solvers.pde import hypervolume_2d, pareto_front


def test_hypervolume_by_hand():
    assert hypervolume_2d([[1, 3], [2, 2], [3, 1]], [4, 4]) == 6.0
    # a dominated point and a point outside the reference change nothing
    assert hypervolume_2d([[1, 3], [2, 2], [3, 1], [3, 3], [5, 0]], [4, 4]) == 6.0
    assert hypervolume_2d([], [1, 1]) == 0.0


@pytest.mark.parametrize("method", ["weighted-sum", "epsilon-constraint"])
def test_control_front_is_monotone(method):
    prob = elliptic_control_fd(10, nonlinearity="semilinear")
    front = pareto_front(prob, method=method, n_points=5)
    F = front.objectives
    order = np.argsort(F[:, 1])
    assert np.all(np.diff(F[order, 0]) < 0)  # more control buys less tracking error
    assert front.hypervolume() > 0
    if method == "epsilon-constraint":
        eps = np.linspace(F[:, 1].min(), F[:, 1].max(), 5)
        assert np.allclose(np.sort(F[:, 1]), eps, rtol=1e-3)


def test_l1_front_of_the_nonsmooth_problem():
    prob = elliptic_control_fd(10, nonlinearity="nonsmooth", alpha=1e-4)
    front = pareto_front(prob, cost="l1", n_points=5)
    F = front.nondominated().objectives
    assert F[0, 1] >= 0 and len(F) >= 4
    assert np.all(np.diff(F[:, 0]) > 0) and np.all(np.diff(F[:, 1]) < 0)
    # the largest weight (beta_max) switches the control off entirely
    assert np.min(front.objectives[:, 1]) == pytest.approx(0.0, abs=1e-10)
    ax = front.plot()
    assert ax.get_xlabel() == "‖u‖₁"


def test_pde_suite_loads():
    suite = load_suite("pde")
    assert {i.family for i in suite.instances} == {"pde"}
    assert len(suite.tasks()) == len(suite.instances) * 3
