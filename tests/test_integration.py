"""Cross-family integration: quantum samplers inside the Lagrangian loop, coordinates-only TSP."""

import pytest

import cutslack
from cutslack.problems import random_mis
from cutslack.solvers.qubo import sampler_names
from cutslack.testing import brute_force, check_result


def test_quantum_samplers_are_listed_with_the_classical_ones():
    names = sampler_names()
    assert {"anneal", "tabu", "exhaustive", "qaoa", "vqe", "cvar-vqe"} <= set(names)
    with pytest.raises(ValueError, match="unknown sampler .*qaoa"):
        cutslack.solve(random_mis(5, 0.5, rng=0), method="lagrangian", sampler="nope")


@pytest.mark.quantum
def test_lagrangian_loop_with_qaoa_sampler_reaches_the_optimum():
    p = random_mis(8, 0.4, weighted=True, rng=3)
    _, optimum = brute_force(p)
    res = cutslack.solve(p, method="lagrangian", sampler="qaoa", maxiter=4, rng=0, sampler_options={"p": 1})
    check_result(p, res, optimum=optimum)
    assert res.n_qubits == 8 and res.info["sampler"] == "qaoa"


def test_tsp_heuristic_on_a_coordinates_only_instance_builds_no_matrix():
    from cutslack.problems import random_tsp

    p = random_tsp(6000, rng=4)
    assert p.distance is None  # beyond the eager-matrix limit
    res = cutslack.solve(p, method="tsp-2opt", rng=0, time_limit=10)
    check_result(p, res)
    assert res.info["distance_mode"] == "coordinates"
    start = cutslack.solve(p, method="tsp-greedy", rng=0)
    assert res.objective <= start.objective
