"""TSPLIB coordinate metrics and coordinates-only TSP instances."""

import numpy as np
import pytest

from cutslack import InvalidInstanceError
from cutslack.problems.tsp import EAGER_MATRIX_LIMIT, TravelingSalesman, coordinate_distance, random_tsp


def test_metric_definitions_on_hand_computed_points():
    a, b = np.array([0.0, 0.0]), np.array([3.0, 4.2])
    assert coordinate_distance(a, b, "euclidean") == pytest.approx(np.hypot(3, 4.2))
    assert coordinate_distance(a, b, "EUC_2D") == 5.0           # nint(5.16)
    assert coordinate_distance(a, b, "CEIL_2D") == 6.0          # ceil(5.16)
    # ATT: r = sqrt(27.64 / 10) = 1.66, t = nint(r) = 2 >= r  -> 2
    assert coordinate_distance(a, b, "ATT") == 2.0
    # ATT rounding up: r = sqrt(12/10) = 1.095, t = 1 < r -> 2
    assert coordinate_distance(a, np.array([2.0, 2.8284271]), "ATT") == 2.0
    # GEO: one degree of latitude along a meridian is about 111 km on RRR = 6378.388
    assert coordinate_distance(np.array([10.0, 20.0]), np.array([11.0, 20.0]), "GEO") == 112.0
    with pytest.raises(ValueError, match="unknown metric"):
        coordinate_distance(a, b, "MAN_3D")


def test_coordinates_only_instance_matches_matrix_instance(monkeypatch):
    import cutslack.problems.tsp as tsp_module

    t = random_tsp(30, rng=3, rounding="nint")
    full = TravelingSalesman(np.asarray(t.distance), t.coordinates)
    assert t.metric == "EUC_2D" and np.all(t.distance == np.round(t.distance))
    # the same cities with no matrix at all: evaluate() must take the coordinates path
    monkeypatch.setattr(tsp_module, "EAGER_MATRIX_LIMIT", 10)
    coords_only = TravelingSalesman(coordinates=t.coordinates, metric="EUC_2D")
    assert coords_only.distance is None
    tours = np.array([np.random.default_rng(i).permutation(30) for i in range(5)])
    np.testing.assert_allclose(coords_only.evaluate(tours), full.evaluate(tours))
    # an independent hand computation of one tour under TSPLIB's nint rounding
    C, tour = t.coordinates, tours[0]
    by_hand = sum(np.floor(np.hypot(*(C[a] - C[b])) + 0.5) for a, b in zip(tour, np.roll(tour, -1)))
    assert coords_only.evaluate(tour) == pytest.approx(by_hand)


def test_large_instance_keeps_no_matrix():
    n = EAGER_MATRIX_LIMIT + 1
    t = random_tsp(n, rng=0)
    assert t.distance is None and t.size == {"n": n} and t.symmetric
    tour = np.arange(n)
    expected = np.linalg.norm(t.coordinates - np.roll(t.coordinates, -1, axis=0), axis=1).sum()
    assert t.evaluate(tour) == pytest.approx(expected)


def test_coordinates_only_needs_a_metric():
    with pytest.raises(InvalidInstanceError, match="distance"):
        TravelingSalesman(None, np.zeros((3, 2)))
    with pytest.raises(InvalidInstanceError, match="metric"):
        TravelingSalesman(None, np.zeros((3, 2)), metric="MANHATTAN")
