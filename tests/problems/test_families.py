"""Problem families: validation, vectorised scoring, binary forms agree with native scoring."""

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutslack import InvalidInstanceError
from cutslack.problems import (Knapsack, MaximumIndependentSet, QuadraticAssignment, TravelingSalesman, random_knapsack,
                               random_mdkp, random_mis, random_qap, random_regular_mis, random_tsp,
                               random_unit_disk_mis)
from cutslack.problems.permutation import encode_assignment

seeds = st.integers(0, 2**31 - 1)


def _random_bits(seed, k, n):
    return np.random.default_rng(seed).integers(0, 2, size=(k, n))


@given(seed=seeds, n=st.integers(1, 12), m=st.integers(1, 4), kind=st.sampled_from(["uncorrelated", "weakly", "strongly"]))
@settings(max_examples=40, deadline=None)
def test_knapsack_binary_agrees_with_native(seed, n, m, kind):
    p = random_knapsack(n, m, kind=kind, rng=seed)
    bp = p.to_binary()
    X = _random_bits(seed, 6, n)
    native = np.array([bp.decode_bits(x) for x in X])
    np.testing.assert_allclose(bp.objective(X), p.evaluate(native))
    np.testing.assert_allclose(bp.violation(X), p.violation(native))
    np.testing.assert_array_equal(bp.is_feasible(X), p.is_feasible(native))


@given(seed=seeds, n=st.integers(1, 14), prob=st.floats(0, 1), weighted=st.booleans())
@settings(max_examples=40, deadline=None)
def test_mis_binary_agrees_with_native(seed, n, prob, weighted):
    p = random_mis(n, prob, weighted=weighted, rng=seed)
    bp = p.to_binary()
    X = _random_bits(seed, 6, n)
    np.testing.assert_allclose(bp.objective(X), p.evaluate(X))
    # conflict violation x_i x_j equals the native edge violation max(x_i + x_j - 1, 0)
    np.testing.assert_allclose(bp.violation(X), p.violation(X))


@given(seed=seeds, n=st.integers(1, 6))
@settings(max_examples=30, deadline=None)
def test_qap_binary_agrees_with_native(seed, n):
    p = random_qap(n, kind="uniform" if seed % 2 else "grid", rng=seed)
    bp = p.to_binary()
    g = np.random.default_rng(seed)
    for _ in range(4):
        perm = g.permutation(n)
        bits = encode_assignment(perm, n)
        np.testing.assert_array_equal(bp.decode_bits(bits), perm)
        assert bp.objective(bits) == pytest.approx(p.evaluate(perm))
        assert bp.is_feasible(bits) and p.is_feasible(perm)
    # arbitrary bit vectors: binary feasibility <=> native feasibility after decode
    for x in _random_bits(seed, 8, n * n):
        assert bp.is_feasible(x) == p.is_feasible(bp.decode_bits(x))


@given(seed=seeds, n=st.integers(3, 7))
@settings(max_examples=30, deadline=None)
def test_tsp_position_and_edge_encodings(seed, n):
    p = random_tsp(n, rng=seed)
    pos, edge = p.to_binary("position"), p.to_binary("edge")
    g = np.random.default_rng(seed)
    tour = g.permutation(n)
    bits = np.zeros((n, n), dtype=int)
    bits[tour, np.arange(n)] = 1
    bits = bits.reshape(-1)
    assert pos.is_feasible(bits)
    assert pos.objective(bits) == pytest.approx(p.evaluate(tour))
    np.testing.assert_array_equal(pos.decode_bits(bits), tour)
    # edge encoding of the same tour
    I, J = np.triu_indices(n, 1)
    index = {(i, j): k for k, (i, j) in enumerate(zip(I, J))}
    e = np.zeros(len(I), dtype=int)
    for a, b in zip(tour, np.roll(tour, -1)):
        e[index[(min(a, b), max(a, b))]] = 1
    assert edge.is_feasible(e)
    assert edge.objective(e) == pytest.approx(p.evaluate(tour))
    assert p.evaluate(edge.decode_bits(e)) == pytest.approx(p.evaluate(tour))
    for x in _random_bits(seed, 8, n * n):
        assert pos.is_feasible(x) == p.is_feasible(pos.decode_bits(x))


def test_edge_encoding_subtours_decode_infeasible():
    p = random_tsp(6, rng=0)
    edge = p.to_binary("edge")
    I, J = np.triu_indices(6, 1)
    two_triangles = {(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)}
    e = np.array([(i, j) in two_triangles for i, j in zip(I, J)], dtype=int)
    assert edge.is_feasible(e)  # degree constraints hold: the edge form is a relaxation
    assert not p.is_feasible(edge.decode_bits(e))


def test_vectorised_scoring_matches_loop():
    p = random_qap(5, rng=3)
    perms = np.array([np.random.default_rng(i).permutation(5) for i in range(7)])
    np.testing.assert_allclose(p.evaluate(perms), [p.evaluate(q) for q in perms])
    t = random_tsp(6, kind="clustered", rng=2)
    tours = np.array(list(itertools.islice(itertools.permutations(range(6)), 10)))
    np.testing.assert_allclose(t.evaluate(tours), [t.evaluate(q) for q in tours])


@pytest.mark.parametrize("make", [
    lambda: random_knapsack(20, 3, kind="strongly", rng=5),
    lambda: random_mdkp(30, 5, rng=5),
    lambda: random_mis(20, 0.3, weighted=True, rng=5),
    lambda: random_regular_mis(20, 3, rng=5),
    lambda: random_unit_disk_mis(20, 0.3, rng=5),
    lambda: random_qap(6, kind="grid", rng=5),
    lambda: random_tsp(9, kind="clustered", rng=5),
])
def test_generators_are_deterministic(make):
    a, b = make(), make()
    for field in ("profits", "weights", "capacities", "flow", "distance"):
        if hasattr(a, field):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    if hasattr(a, "edges"):
        np.testing.assert_array_equal(a.edges, b.edges)
        np.testing.assert_array_equal(a.weights, b.weights)


def test_chu_beasley_generator_rules():
    p = random_mdkp(100, 5, tightness=0.5, rng=1)
    assert p.weights.min() >= 0 and p.weights.max() <= 1000
    np.testing.assert_allclose(p.capacities, np.floor(0.5 * p.weights.sum(axis=1)))
    base = p.weights.sum(axis=0) / 5
    assert np.all(p.profits >= np.floor(base)) and np.all(p.profits <= base + 501)


@pytest.mark.parametrize("build, field", [
    (lambda: Knapsack([1, -2], [[1, 1]], [3]), "profits"),
    (lambda: Knapsack([1, 2], [[1, np.nan]], [3]), "weights"),
    (lambda: Knapsack([1, 2], [[1, 1]], [-3]), "capacities"),
    (lambda: Knapsack([1, 2], [[1, 1, 1]], [3]), "weights"),
    (lambda: Knapsack([1, 2], [[1, 1], [1, 1]], [3]), "capacities"),
    (lambda: QuadraticAssignment(np.ones((3, 3)), np.ones((4, 4))), "distance"),
    (lambda: QuadraticAssignment(np.ones((3, 2)), np.ones((3, 2))), "flow"),
    (lambda: TravelingSalesman(-np.ones((3, 3))), "distance"),
    (lambda: TravelingSalesman([[0, np.nan], [1, 0]]), "distance"),
    (lambda: TravelingSalesman(np.ones((3, 3)), coordinates=np.ones((2, 2))), "coordinates"),
    (lambda: MaximumIndependentSet(nx.Graph([(1, 1)])), "graph"),
    (lambda: MaximumIndependentSet(nx.path_graph(3), weights=[1, 2]), "weights"),
    (lambda: MaximumIndependentSet(nx.DiGraph([(0, 1)])), "graph"),
])
def test_constructors_name_the_bad_field(build, field):
    with pytest.raises(InvalidInstanceError) as err:
        build()
    assert err.value.field == field
    assert field in str(err.value)


def test_mis_node_labels_round_trip():
    G = nx.Graph([("a", "b"), ("b", "c")])
    p = MaximumIndependentSet(G)
    x = p.indicator({"a", "c"})
    assert p.is_feasible(x) and p.evaluate(x) == 2 and p.nodes_of(x) == {"a", "c"}
    assert not p.is_feasible(p.indicator({"a", "b"}))


def test_solutions_of_the_wrong_shape_are_rejected():
    with pytest.raises(ValueError, match="expected 3"):
        random_knapsack(3, rng=1).evaluate([1, 0])
    with pytest.raises(ValueError, match="0/1"):
        random_knapsack(3, rng=1).evaluate([1, 0, 2])
    with pytest.raises(ValueError, match="permutation of length 4"):
        random_tsp(4, rng=1).evaluate([0, 1, 2])
