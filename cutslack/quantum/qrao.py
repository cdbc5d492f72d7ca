"""Quantum random access optimisation (QRAO, Fuller et al. 2021) as a QUBO sampler and a solve() method.

Up to three variables share a qubit through the (3,1,p) quantum random access code: the
variables on qubit ``a`` are assigned the Paulis ``X_a``, ``Y_a``, ``Z_a``, and bits ``m`` are
encoded in the single-qubit "magic" state with Bloch vector ``((-1)^m1, (-1)^m2, (-1)^m3)/√3``.
Variables on one qubit must not interact, so the variables are grouped by a greedy colouring
of the QUBO's interaction graph (:func:`networkx.greedy_color`, largest first) and each colour
class is cut into triples; the qubit count is therefore ``sum_c ceil(|class c| / 3)``,
about ``n / 3`` when the graph needs few colours.

With the Ising form ``E = sum h_i z_i + sum J_ij z_i z_j + offset`` (``x = (1 - z)/2``) the
encoded Hamiltonian is ``H = sum √3 h_i P_i + sum 3 J_ij P_i P_j``: every bit vector's magic
product state has ``Tr(H ρ(x)) = E(x) - offset``, so the ground energy of ``H`` is a lower
bound (a relaxation) of the QUBO minimum.  The ground state is approximated by VQE on
``efficient_su2`` (SciPy, COBYLA by default) and rounded two ways:

* Pauli rounding: ``x_i = 1`` where ``<P_i> < 0`` (one vector, from exact or estimated
  expectations);
* magic rounding: each shot measures every qubit in one of the four magic bases drawn at
  random; the outcome fixes the qubit's three bits.

Every qubit holding fewer than three variables keeps the same (3,1,p) weights
(the unused Paulis are free), which keeps the relaxation valid.
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np

from cutslack.api import Run
from cutslack.binary import QUBO
from cutslack.errors import SolverError
from cutslack.quantum.driver import report_progress, search_with_restarts
from cutslack.quantum.ising import ising_terms, require_qiskit
from cutslack.quantum.qaoa import QUANTUM_BACKENDS, _register
from cutslack.quantum.statevector import (apply_single_qubit_gates, array_module, check_statevector_size,
                                          pauli_expectations, pauli_masks, probabilities, ry_matrix, rz_matrix)
from cutslack.quantum.vqe import efficient_su2_parameter_count, efficient_su2_statevector
from cutslack.result import SampleSet

__all__ = ["qrao_sampler", "qrao_encoding", "MAGIC_AXES", "magic_rounding_bits"]

#: Bloch axes of the four magic measurement bases (the "+" outcome); "-" is the antipode
MAGIC_AXES = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float) / np.sqrt(3.0)
_PAULIS = "XYZ"


def qrao_encoding(qubo: QUBO) -> tuple[np.ndarray, np.ndarray, int]:
    """Return ``(qubit, slot, n_qubits)``: variable ``i`` is Pauli ``"XYZ"[slot[i]]`` on qubit ``qubit[i]``.

    Variables of one colour class (no coupling between them) fill qubits three at a time.
    """
    _, rows, cols, _, _ = ising_terms(qubo)
    graph = nx.Graph()
    graph.add_nodes_from(range(qubo.n))
    graph.add_edges_from(zip(rows.tolist(), cols.tolist()))
    colour = nx.greedy_color(graph, strategy="largest_first")
    qubit = np.empty(qubo.n, dtype=np.int64)
    slot = np.empty(qubo.n, dtype=np.int64)
    next_qubit = 0
    for c in sorted(set(colour.values())):
        members = sorted(v for v, k in colour.items() if k == c)
        for start in range(0, len(members), 3):
            for s, v in enumerate(members[start:start + 3]):
                qubit[v], slot[v] = next_qubit, s
            next_qubit += 1
    return qubit, slot, next_qubit


def _encoded_terms(qubo: QUBO, qubit, slot):
    """Return ``(terms, coefficients)`` of the encoded Hamiltonian as ``{qubit: Pauli}`` dicts."""
    h, rows, cols, J, _ = ising_terms(qubo)
    terms, coeffs = [], []
    for i in np.flatnonzero(h):
        terms.append({int(qubit[i]): _PAULIS[slot[i]]})
        coeffs.append(np.sqrt(3.0) * h[i])
    for i, j, v in zip(rows, cols, J):
        if qubit[i] == qubit[j]:
            raise SolverError("QRAO: two coupled variables share a qubit (the colouring is invalid)")
        terms.append({int(qubit[i]): _PAULIS[slot[i]], int(qubit[j]): _PAULIS[slot[j]]})
        coeffs.append(3.0 * v)
    return terms, np.array(coeffs, dtype=float)


def _magic_rotation(axis) -> np.ndarray:
    """Return the 2×2 unitary taking the Bloch direction ``axis`` to ``|0>`` (``RY(-θ) RZ(-φ)``)."""
    theta = np.arccos(np.clip(axis[2], -1.0, 1.0))
    phi = np.arctan2(axis[1], axis[0])
    return ry_matrix(-theta) @ rz_matrix(-phi)


def magic_rounding_bits(bases, outcomes, qubit, slot) -> np.ndarray:
    """Return the bit vectors decoded from magic measurements.

    ``bases[s, a]`` is the basis (0..3) qubit ``a`` was measured in on shot ``s`` and
    ``outcomes[s, a]`` the result (0 for "+", 1 for "-"); bit ``i`` is read from its qubit's
    Bloch-axis sign on its slot, flipped on a "-" outcome.
    """
    signs = np.sign(MAGIC_AXES)[bases[:, qubit], slot]  # (shots, n): + means x = 0
    flip = outcomes[:, qubit].astype(bool)
    return ((signs < 0) ^ flip).astype(np.uint8)


def qrao_sampler(qubo: QUBO, *, num_reads: int = 256, rng=None, time_limit=None, initial_states=None,
                 backend: str = "statevector", reps: int = 3, entanglement: str = "circular",
                 optimizer: str = "COBYLA", maxiter: int = 300, restarts: int = 2, rounding: str = "both",
                 shots: int | None = None, noise_model=None, array_backend: str = "numpy",
                 run: Run | None = None) -> SampleSet:
    """Return QRAO samples of ``qubo``: Pauli rounding and/or ``num_reads`` magic-rounding shots.

    ``rounding``: ``"magic"``, ``"pauli"`` or ``"both"``.  Other parameters as for
    :func:`~cutslack.quantum.vqe.vqe_sampler`.  With a time limit the search keeps time for
    the rounding (one rotated state per distinct basis assignment, timed once beforehand, at
    most half the time left); shots not measured by the deadline are dropped
    (``info["magic_shots"]`` counts those measured).  ``info`` holds ``n_qubits``, ``relaxed_energy``
    (the VQE energy plus the offset, a lower bound of the minimum only when VQE found the
    ground state), ``pauli_energy``, ``nfev`` and ``optimizer_ok``.
    """
    run = run or Run(rng=rng, time_limit=time_limit)
    if backend not in QUANTUM_BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(QUANTUM_BACKENDS)}")
    if rounding not in ("magic", "pauli", "both"):
        raise ValueError(f"unknown rounding {rounding!r}; expected magic, pauli or both")
    if qubo.n == 0:
        raise SolverError("QRAO needs at least one variable; the QUBO is empty")
    qubit, slot, q = qrao_encoding(qubo)
    terms, coeffs = _encoded_terms(qubo, qubit, slot)
    singles = [{int(a): _PAULIS[s]} for a, s in zip(qubit, slot)]
    offset = ising_terms(qubo)[4]
    n_params = efficient_su2_parameter_count(q, reps)
    if backend == "statevector":
        check_statevector_size(q, backend=array_backend)
        xp = array_module(array_backend)
        t_x, t_z = pauli_masks(terms, q)
        s_x, s_z = pauli_masks(singles, q)

        def state(x):
            return efficient_su2_statevector(q, x, reps=reps, entanglement=entanglement, xp=xp)

        def energy(x):
            return float(coeffs @ pauli_expectations(state(x), t_x, t_z)) + offset

        def single_expectations(x):
            return pauli_expectations(state(x), s_x, s_z)

        def magic_measurer(x):
            psi = state(x)

            def measure(key, shots, rng):  # every shot in ``key``'s bases: one rotated state
                rotated = psi.copy()
                rotations = np.array([_magic_rotation(MAGIC_AXES[b]) for b in key])
                apply_single_qubit_gates(rotated, np.arange(q), rotations)
                p = probabilities(rotated)
                idx = rng.choice(p.shape[0], size=shots, p=p / p.sum())
                return (idx[:, None] >> np.arange(q)) & 1

            return measure
    else:
        require_qiskit(aer=True)
        from qiskit.circuit import ParameterVector
        from qiskit.quantum_info import SparsePauliOp

        from cutslack.quantum.circuits import AerEvaluator, vqe_circuit

        circ, params = vqe_circuit(q, reps, entanglement)

        def op(term, c=1.0):
            return SparsePauliOp.from_sparse_list([("".join(term.values()), list(term), c)], num_qubits=q)

        hamiltonian = sum((op(t, c) for t, c in zip(terms, coeffs)), start=op({}, 0.0)).simplify()
        seed = int(run.rng.integers(2**31))
        aer = AerEvaluator(circ, params, [hamiltonian] + [op(t) for t in singles], offset=offset, shots=shots,
                           noise_model=noise_model, seed=seed)
        angles = ParameterVector("magic", 2 * q)
        measured = circ.copy()
        for a in range(q):
            measured.rz(angles[2 * a], a)
            measured.ry(angles[2 * a + 1], a)
        magic = AerEvaluator(measured, params + list(angles), op({0: "Z"}), noise_model=noise_model, seed=seed)

        def energy(x):
            return aer.expectations(x)[0]

        def single_expectations(x):
            return aer.expectations(x)[1:]

        def magic_measurer(x):
            theta = np.arccos(MAGIC_AXES[:, 2])
            phi = np.arctan2(MAGIC_AXES[:, 1], MAGIC_AXES[:, 0])

            def measure(key, shots, rng):  # one binding per shot (Aer draws with its own seed)
                rot = np.tile(np.stack([-phi[key], -theta[key]], axis=-1).reshape(1, -1), (shots, 1))
                values = np.hstack([np.broadcast_to(x, (shots, len(x))), rot])
                strings = magic.bitstrings_per_binding(values)
                return np.array([[int(s[q - 1 - a]) for a in range(q)] for s in strings], dtype=np.int64)

            return measure

    magic_on = rounding in ("magic", "both") and num_reads > 0
    # time kept for magic rounding after the search: one rotated state per distinct basis
    # assignment, timed once on the all-zero parameters (at most half the time left)
    reserve = 0.0
    if magic_on and run.deadline is not None:
        groups = min(int(num_reads), 4 ** min(q, 16))
        measure = magic_measurer(np.zeros(n_params))
        start = time.perf_counter()
        measure(np.zeros(q, dtype=np.int64), 1, np.random.default_rng(0))
        reserve = min(1.2 * groups * (time.perf_counter() - start), 0.5 * run.time_left())

    best_x, best_val, nfev, ok, messages = search_with_restarts(
        energy, n_params, run=run, restarts=restarts, optimizer=optimizer, maxiter=maxiter, spread=np.pi,
        on_restart=lambda search, x, v, r: report_progress(
            run, qubo, (single_expectations(x) < 0).astype(np.uint8), method="qrao", nit=r + 1,
            info={"relaxed_energy": v}), final_steps=2.0, reserve=reserve)
    sets = []
    pauli_bits = (single_expectations(best_x) < 0).astype(np.uint8)
    if rounding in ("pauli", "both"):
        sets.append(SampleSet(pauli_bits, qubo.energy(pauli_bits[None])))
    magic_shots = 0
    if magic_on:
        bases = run.rng.integers(0, 4, size=(int(num_reads), q))
        keys, inverse = np.unique(bases, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        measure, outcomes, done = magic_measurer(best_x), np.empty_like(bases), np.zeros(len(bases), dtype=bool)
        for k, key in enumerate(keys):  # shots sharing a basis assignment share one rotated state
            shots_k = np.flatnonzero(inverse == k)
            outcomes[shots_k] = measure(key, shots_k.size, run.rng)
            done[shots_k] = True
            if run.deadline is not None and run.time_left() <= 0.0:  # the shots measured so far are the sample
                break
        magic_shots = int(done.sum())
        X = magic_rounding_bits(bases[done], outcomes[done], qubit, slot)
        sets.append(SampleSet(X, qubo.energy(X)))
    out = SampleSet.concatenate(sets).aggregate()
    info = {"n_qubits": q, "n_vars": qubo.n, "reps": reps, "backend": backend, "rounding": rounding,
            "relaxed_energy": float(best_val), "pauli_energy": float(qubo.energy(pauli_bits)),
            "parameters": best_x.tolist(), "nfev": nfev, "optimizer_ok": ok, "message": "; ".join(messages),
            "nit": len(messages), "magic_shots": magic_shots}
    return SampleSet(out.X, out.energies, out.counts, info=info)


solve_qrao = _register("qrao", qrao_sampler, "QRAO (three variables per qubit, magic rounding)")
