"""QAOA, MA-QAOA and WS-QAOA samplers and methods on small QUBOs and a small knapsack."""

from __future__ import annotations

import numpy as np
import pytest

import cutslack
from cutslack.problems import Knapsack
from cutslack.quantum.qaoa import interpolate_angles, qaoa_sampler, warm_start_angles
from cutslack.result import Status

from .conftest import all_bits


def test_interpolation_keeps_the_schedule_shape():
    assert np.allclose(interpolate_angles([1.0]), [1.0, 1.0])
    assert np.allclose(interpolate_angles([1.0, 2.0]), [1.0, 1.5, 2.0])
    assert interpolate_angles(np.ones((2, 3))).shape == (3, 3)


@pytest.mark.parametrize("variant", ["standard", "multi-angle", "warm-start"])
def test_qaoa_variants_find_the_ground_state_of_a_small_qubo(variant, dense_qubo):
    samples = qaoa_sampler(dense_qubo, p=2, num_reads=256, rng=4, variant=variant, maxiter=60)
    ground = dense_qubo.energy(all_bits(dense_qubo.n)).min()
    assert samples.best_energy == pytest.approx(ground)
    assert samples.info["expectation"] < dense_qubo.energy(all_bits(dense_qubo.n)).mean()
    assert samples.num_reads == 256 and samples.info["n_qubits"] == 6
    assert np.allclose(samples.energies, dense_qubo.energy(samples.X))


def test_same_seed_gives_the_same_samples(sparse_qubo):
    a = qaoa_sampler(sparse_qubo, p=1, num_reads=100, rng=9, maxiter=30)
    b = qaoa_sampler(sparse_qubo, p=1, num_reads=100, rng=9, maxiter=30)
    assert np.array_equal(a.X, b.X) and a.info["parameters"] == b.info["parameters"]


def test_warm_start_angles_follow_initial_states(dense_qubo):
    best = all_bits(6)[np.argmin(dense_qubo.energy(all_bits(6)))]
    thetas = warm_start_angles(dense_qubo, epsilon=0.1, initial_states=best[None])
    assert np.allclose(np.sin(thetas / 2) ** 2, np.where(best == 1, 0.9, 0.1))


@pytest.mark.quantum
def test_aer_backend_runs_the_same_algorithm(sparse_qubo):
    from cutslack.quantum.statevector import StatevectorSimulator

    aer = qaoa_sampler(sparse_qubo, p=1, num_reads=200, rng=2, maxiter=25, backend="aer")
    assert aer.info["backend"] == "aer" and aer.num_reads == 200
    sim = StatevectorSimulator(sparse_qubo)
    gamma, beta = aer.info["parameters"]
    assert sim.expectation(sim.qaoa_state([gamma], [beta])) == pytest.approx(aer.info["expectation"], abs=1e-8)
    assert np.allclose(aer.energies, sparse_qubo.energy(aer.X))


def test_solve_on_a_qubo_reports_qubits_and_rescored_energy(dense_qubo):
    res = cutslack.solve(dense_qubo, method="qaoa", rng=1, p=1, maxiter=30)
    assert res.feasible and res.n_qubits == 6
    assert res.objective == pytest.approx(dense_qubo.energy(res.x))


def test_optimizer_failure_ends_with_a_status(dense_qubo):
    res = cutslack.solve(dense_qubo, method="qaoa", rng=1, optimizer="no-such-method")
    assert res.status is Status.ERROR and "no-such-method" in res.info["message"]


def test_time_limit_and_callback_stop(dense_qubo):
    res = cutslack.solve(dense_qubo, method="ma-qaoa", rng=1, p=3, time_limit=0.05)
    assert res.status is Status.TIME_LIMIT and res.x is not None

    def stop(intermediate):
        raise StopIteration

    res = cutslack.solve(dense_qubo, method="qaoa", rng=1, p=3, maxiter=20, callback=stop)
    assert res.status is Status.STOPPED and res.nit == 1


@pytest.mark.parametrize("formulation", ["penalty", "unbalanced", "lagrangian"])
def test_constrained_knapsack_through_a_formulation_is_repaired(formulation):
    problem = Knapsack([10, 7, 4, 3], [[5, 4, 3, 2]], [7])
    res = cutslack.solve(problem, method="ws-qaoa", rng=3, p=1, maxiter=40, formulation=formulation)
    assert res.feasible and res.objective == pytest.approx(problem.evaluate(res.x))
    assert res.objective >= 11  # optimum is 13 (items 0 and 3); repair keeps it near
    assert res.info["formulation"] == formulation
    assert (res.n_qubits > 4) == (formulation == "penalty")
