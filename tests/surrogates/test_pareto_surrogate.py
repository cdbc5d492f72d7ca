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
    """When the whole front lies in the anchors' affine hull (here a 2-D subspace of R^6, the front
    curved in it), the quadratic models are the objectives there, so every proposal taken from
    the surrogate front is exactly Pareto-stationary for the true objectives:
    ``w ∇J1 + (1 − w) ∇J2 = 0`` for some ``w`` in [0, 1] (checked here, held out of the fit)."""
    g = np.random.default_rng(0)
    V = np.linalg.qr(g.normal(size=(6, 6)))[0]
    a, c = g.uniform(1, 5, 6), g.uniform(1, 5, 6)
    a[:2], c[:2] = [1.0, 6.0], [6.0, 1.0]
    H1, H2 = V @ np.diag(a) @ V.T, V @ np.diag(c) @ V.T
    b = V[:, :2] @ np.array([2.0, -1.5])    # u(w) = (w H1 + (1-w) H2)^-1 w b stays in span V[:, :2]

    def obj(u):
        return 0.5 * u @ H1 @ u - b @ u, 0.5 * u @ H2 @ u

    def solve(w):
        return np.linalg.solve(w * H1 + (1 - w) * H2, w * b)

    weights = np.array([0.0, 0.5, 1.0])
    front = map_front(obj, solve, anchor_weights=weights, n_proposals=5)
    assert front.info["subspace_dimension"] == 2
    assert front.evaluations == 3 + 3 + front.info["proposals"]   # anchors, midpoints, proposals
    anchors = [solve(w) for w in weights]
    fitted = anchors + [(anchors[i] + anchors[j]) / 2 for i in range(3) for j in range(i + 1, 3)]
    proposals = [u for u in front.U if not any(np.allclose(u, v, atol=1e-12) for v in fitted)]
    assert len(proposals) >= 3
    for u in proposals:
        g1, g2 = H1 @ u - b, H2 @ u
        w = float(np.clip(-(g2 @ (g1 - g2)) / ((g1 - g2) @ (g1 - g2)), 0.0, 1.0))
        residual = np.linalg.norm(w * g1 + (1 - w) * g2) / max(np.linalg.norm(g1), np.linalg.norm(g2))
        assert residual <= 1e-10, (w, residual)
        np.testing.assert_allclose(front.F[[np.array_equal(u, v) for v in front.U]][0], obj(u))


def test_bad_anchor_weights():
    obj, solve, _ = poisson_tracking_1d(8)
    with pytest.raises(InvalidInstanceError, match="anchor"):
        map_front(obj, solve, anchor_weights=[0.5, 1.5])
