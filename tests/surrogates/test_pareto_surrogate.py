"""MAP quadratic surrogates for Pareto fronts and the 2-D hypervolume."""

import numpy as np
import pytest

from cutslack.errors import InvalidInstanceError
from cutslack.surrogates.pareto_surrogate import (hypervolume_2d, map_front, nondominated, poisson_tracking_1d,
                                                  weighted_sum_front)


def test_hypervolume_of_known_staircase():
    F = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [2.5, 2.5]])  # the last is dominated
    assert hypervolume_2d(F, (4.0, 4.0)) == pytest.approx(3 + 2 + 1)
    assert list(nondominated(F)) == [0, 1, 2]


def test_map_reaches_95_percent_with_few_solves():
    obj, solve, _ = poisson_tracking_1d(48, rng=1)
    weights = 1 / (1 + np.geomspace(1e-7, 1e-1, 50))
    exact = weighted_sum_front(obj, solve, weights)
    ref = exact.F.max(axis=0) * 1.1
    front = map_front(obj, solve, anchor_weights=1 / (1 + np.geomspace(1e-7, 1e-1, 5)))
    assert front.scalarised_solves == 5
    assert front.hypervolume(ref) >= 0.95 * exact.hypervolume(ref)
    # every returned point is a true evaluation of its decision
    for f, u in zip(front.F, front.U):
        assert np.allclose(f, obj(u))


def test_quadratic_interpolation_is_exact_for_quadratics():
    g = np.random.default_rng(0)
    M1, M2 = g.normal(size=(6, 6)), g.normal(size=(6, 6))
    H1, H2 = M1 @ M1.T + np.eye(6), M2 @ M2.T + np.eye(6)
    b = g.normal(size=6)

    def obj(u):
        return 0.5 * u @ H1 @ u - b @ u, 0.5 * u @ H2 @ u

    def solve(w):
        return np.linalg.solve(w * H1 + (1 - w) * H2, w * b)

    front = map_front(obj, solve, n_anchors=3, n_proposals=5)
    assert front.evaluations == 3 + 3 + front.info["proposals"]


def test_bad_anchor_weights():
    obj, solve, _ = poisson_tracking_1d(8)
    with pytest.raises(InvalidInstanceError, match="anchor"):
        map_front(obj, solve, anchor_weights=[0.5, 1.5])
