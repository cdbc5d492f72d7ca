"""VQE and CVaR-VQE on the efficient_su2 ansatz."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import cutslack
from cutslack.quantum.statevector import StatevectorSimulator
from cutslack.quantum.vqe import cvar, cvar_vqe_sampler, efficient_su2_state, entanglement_pairs, vqe_sampler

from .conftest import all_bits


def test_cvar_averages_the_best_fraction():
    assert cvar([3.0, 1.0, 2.0, 4.0], [1, 1, 1, 1], 0.5) == pytest.approx(1.5)
    assert cvar([1.0, 5.0], [1, 3], 0.5) == pytest.approx((0.25 * 1 + 0.25 * 5) / 0.5)
    assert cvar([2.0, 6.0], [1, 1], 1.0) == pytest.approx(4.0)


def test_entanglement_pairs_follow_qiskit():
    assert entanglement_pairs(4, "circular") == [(3, 0), (0, 1), (1, 2), (2, 3)]
    assert entanglement_pairs(2, "circular") == [(0, 1)]
    with pytest.raises(ValueError, match="entanglement"):
        entanglement_pairs(3, "ring")


@pytest.mark.quantum
@pytest.mark.parametrize("entanglement", ["circular", "linear", "full"])
def test_efficient_su2_state_equals_qiskit_aer(entanglement, dense_qubo):
    from cutslack.quantum.circuits import AerEvaluator, vqe_circuit
    from cutslack.quantum.ising import qubo_to_pauli

    circ, params = vqe_circuit(6, 2, entanglement)
    op, offset = qubo_to_pauli(dense_qubo)
    x = np.random.default_rng(1).uniform(-np.pi, np.pi, len(params))
    sim = StatevectorSimulator(dense_qubo)
    ours = sim.expectation(efficient_su2_state(sim, x, reps=2, entanglement=entanglement))
    assert abs(ours - AerEvaluator(circ, params, op, offset=offset).expectation(x)) < 1e-8


def test_cvar_vqe_reaches_the_ground_state_and_is_seeded(dense_qubo):
    a = cvar_vqe_sampler(dense_qubo, rng=6, num_reads=128, maxiter=80, reps=2)
    b = cvar_vqe_sampler(dense_qubo, rng=6, num_reads=128, maxiter=80, reps=2)
    assert a.info["alpha"] == 0.25 and np.array_equal(a.X, b.X)
    assert a.best_energy == pytest.approx(dense_qubo.energy(all_bits(6)).min())


def test_vqe_objective_is_the_expectation(sparse_qubo):
    s = vqe_sampler(sparse_qubo, rng=0, num_reads=64, maxiter=40, reps=1)
    assert s.info["objective"] >= sparse_qubo.energy(all_bits(7)).min() - 1e-9
    assert len(s.info["parameters"]) == 2 * 7 * 2
    # recompute <psi(theta)|H|psi(theta)> from the returned parameters by brute force
    sim = StatevectorSimulator(sparse_qubo)
    state = efficient_su2_state(sim, np.asarray(s.info["parameters"]), reps=1, entanglement=s.info["entanglement"])
    probs = np.abs(np.asarray(state)) ** 2
    energies = sparse_qubo.energy(all_bits(7))   # little-endian: bit i of the index is x_i
    assert s.info["objective"] == pytest.approx(float(probs @ energies), abs=1e-8)
    # the samples are drawn from that state and carry their exact energies
    assert np.allclose(s.energies, sparse_qubo.energy(s.X))


@pytest.mark.quantum
def test_cvar_vqe_on_aer_samples_energies(sparse_qubo):
    res = cutslack.solve(sparse_qubo, method="cvar-vqe", rng=0, backend="aer", reps=1, maxiter=15, shots=256)
    assert res.samples.info["backend"] == "aer" and res.n_qubits == 7
    assert np.allclose(res.samples.energies, sparse_qubo.energy(res.samples.X))
    assert res.objective == pytest.approx(float(res.samples.energies.min()))


def test_importing_cutslack_quantum_does_not_import_qiskit():
    code = ("import sys, cutslack, cutslack.quantum, cutslack.quantum.qaoa, cutslack.quantum.vqe, "
            "cutslack.quantum.pce, cutslack.quantum.qrao, cutslack.quantum.methods; "
            "assert 'qiskit' not in sys.modules, 'qiskit imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_samplers_dict_lists_every_quantum_sampler():
    from cutslack.quantum import SAMPLERS

    assert set(SAMPLERS) == {"qaoa", "ma-qaoa", "ws-qaoa", "vqe", "cvar-vqe", "pce", "qrao", "shrink"}
    assert all(callable(f) for f in SAMPLERS.values())
