"""Qiskit circuits of the quantum algorithms and their evaluation on Qiskit Aer (V2 primitives).

Circuits come from Qiskit's circuit library where it has them (``qaoa_ansatz`` for standard
QAOA, ``efficient_su2`` for VQE); the multi-angle and warm-start QAOA layers, which the
library does not offer, are written gate by gate with the same angle conventions as the
fast simulator (``RZ(2 gamma h)``, ``RZZ(2 gamma J)``, ``RX(2 beta)``).  Every circuit is
transpiled once for :class:`qiskit_aer.AerSimulator` and run through
:class:`qiskit_aer.primitives.EstimatorV2` (exact expectation unless ``shots`` is given) and
:class:`qiskit_aer.primitives.SamplerV2`.  This module imports qiskit at import time; the rest
of :mod:`cutslack.quantum` imports it only when ``backend="aer"`` is asked for.
"""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.circuit.library import efficient_su2, qaoa_ansatz
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2, SamplerV2

from cutslack.quantum.ising import bits_from_bitstrings, ising_terms, qubo_to_pauli
from cutslack.result import SampleSet

__all__ = ["qaoa_circuit", "vqe_circuit", "AerEvaluator"]


def qaoa_circuit(qubo, p: int, *, multi_angle: bool = False, thetas=None):
    """Return ``(circuit, parameters)``: the QAOA circuit of ``qubo`` and its parameters in the
    simulator's order (all ``gamma`` layer by layer, then all ``beta``).

    Standard QAOA is :func:`qiskit.circuit.library.qaoa_ansatz`; ``multi_angle`` gives one angle per
    Ising term and per qubit in each layer; ``thetas`` starts from ``⊗ RY(theta_q)|0>`` with the
    warm-start mixer ``RY(theta) RZ(-2 beta) RY(-theta)``.
    """
    n = qubo.n
    if not multi_angle and thetas is None:
        op, _ = qubo_to_pauli(qubo)
        circ = qaoa_ansatz(op, reps=p)
        by_name = {par.name: par for par in circ.parameters}
        order = [by_name[f"γ[{k}]"] for k in range(p)] + [by_name[f"β[{k}]"] for k in range(p)]
        return circ, order
    h, rows, cols, J, _ = ising_terms(qubo)
    n_terms = n + len(J)
    gam = ParameterVector("gamma", p * (n_terms if multi_angle else 1))
    bet = ParameterVector("beta", p * (n if multi_angle else 1))
    circ = QuantumCircuit(n)
    if thetas is None:
        circ.h(range(n))
    else:
        for q in range(n):
            circ.ry(float(thetas[q]), q)
    for layer in range(p):
        g = (lambda t: gam[layer * n_terms + t]) if multi_angle else (lambda t: gam[layer])
        b = (lambda q: bet[layer * n + q]) if multi_angle else (lambda q: bet[layer])
        for q in range(n):
            if h[q] != 0:
                circ.rz(2.0 * float(h[q]) * g(q), q)
        for t, (i, j, v) in enumerate(zip(rows, cols, J)):
            circ.rzz(2.0 * float(v) * g(n + t), int(i), int(j))
        for q in range(n):
            if thetas is None:
                circ.rx(2.0 * b(q), q)
            else:
                circ.ry(-float(thetas[q]), q)
                circ.rz(-2.0 * b(q), q)
                circ.ry(float(thetas[q]), q)
    return circ, list(gam) + list(bet)


def vqe_circuit(n: int, reps: int = 3, entanglement: str = "circular"):
    """Return ``(circuit, parameters)``: Qiskit's ``efficient_su2`` (RY, RZ layers, CX entanglers)."""
    circ = efficient_su2(n, su2_gates=["ry", "rz"], entanglement=entanglement, reps=reps)
    return circ, list(circ.parameters)


class AerEvaluator:
    """Expectations and samples of one parametrised circuit on Qiskit Aer.

    Parameters
    ----------
    circuit, parameters : the circuit and its parameters in the caller's order.
    observable : SparsePauliOp or list of them (expectations are returned in that order).
    offset : added to the first observable's expectation (the QUBO constant).
    shots : None for exact expectations; else the Estimator precision is ``1/sqrt(shots)``.
    noise_model : optional :class:`qiskit_aer.noise.NoiseModel`.
    seed : integer seed for Aer's simulator and sampler.
    method : Aer simulation method (``"automatic"``, ``"statevector"``, ``"density_matrix"``...).
    backend_options : further :class:`~qiskit_aer.AerSimulator` options (e.g. ``max_parallel_threads``).
    """

    def __init__(self, circuit, parameters, observable, *, offset: float = 0.0, shots: int | None = None,
                 noise_model=None, seed: int = 0, method: str = "automatic", backend_options: dict | None = None):
        backend_options = {**(backend_options or {}), "method": method}
        if noise_model is not None:
            backend_options["noise_model"] = noise_model
        pm = generate_preset_pass_manager(optimization_level=1, backend=AerSimulator(**backend_options))
        self.isa = pm.run(circuit)
        observables = observable if isinstance(observable, list) else [observable]
        self.observables = [o.apply_layout(self.isa.layout) for o in observables]
        pos = {par: k for k, par in enumerate(parameters)}
        self.order = np.array([pos[par] for par in self.isa.parameters], dtype=np.int64)
        self.offset = float(offset)
        self.n = circuit.num_qubits
        self.seed = int(seed)
        precision = 0.0 if shots is None else 1.0 / np.sqrt(shots)
        self.estimator = EstimatorV2(options={"default_precision": precision, "backend_options": backend_options,
                                              "run_options": {"seed_simulator": self.seed}})
        measured = circuit.copy()
        measured.measure_all()
        self.isa_measured = pm.run(measured)
        pos_m = {par.name: k for k, par in enumerate(parameters)}
        self.order_measured = np.array([pos_m[par.name] for par in self.isa_measured.parameters], dtype=np.int64)
        self.sampler = SamplerV2(seed=self.seed, options={"backend_options": backend_options})

    def expectations(self, values) -> np.ndarray:
        """Return the expectation of every observable at parameter ``values`` (offset added to the first)."""
        vals = np.asarray(values, dtype=float)[self.order]
        # one pub whose observable array broadcasts against one parameter set: one simulation
        evs = np.real(np.asarray(self.estimator.run([(self.isa, self.observables, vals)]).result()[0].data.evs,
                                 dtype=complex)).reshape(-1)
        evs[0] += self.offset
        return evs

    def expectation(self, values) -> float:
        """Return the expectation of the (first) observable plus the offset."""
        return float(self.expectations(values)[0])

    def bitstring_counts(self, values, shots: int) -> dict:
        """Return Aer's ``{bitstring: count}`` for ``shots`` measurements (Qiskit bit order)."""
        vals = np.asarray(values, dtype=float)[self.order_measured]
        res = self.sampler.run([(self.isa_measured, vals)], shots=int(shots)).result()[0]
        return res.data.meas.get_counts()

    def bitstrings_per_binding(self, values_batch) -> list:
        """Return one measured bitstring per row of ``values_batch`` (one shot per parameter binding)."""
        vals = np.atleast_2d(np.asarray(values_batch, dtype=float))[:, self.order_measured]
        res = self.sampler.run([(self.isa_measured, vals)], shots=1).result()[0]
        return res.data.meas.get_bitstrings()

    def sample(self, values, shots: int, qubo) -> SampleSet:
        """Return a SampleSet of ``shots`` measurements scored by ``qubo``."""
        counts = self.bitstring_counts(values, shots)
        X = bits_from_bitstrings(list(counts), self.n)
        return SampleSet(X, qubo.energy(X), np.array(list(counts.values()))).lowest()
