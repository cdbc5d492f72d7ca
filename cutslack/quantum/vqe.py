"""VQE and CVaR-VQE on Qiskit's ``efficient_su2`` ansatz, as QUBO samplers and solve() methods.

The ansatz is RY and RZ rotation layers with CX entanglers (``reps=3``, ``"circular"`` by
default), exactly Qiskit's :func:`~qiskit.circuit.library.efficient_su2` parameter order; the
fast backend replays it with the simulator's kernels (tested equal to Aer).  VQE minimises
the energy expectation; CVaR-VQE (Barkoutsos et al.) minimises the mean of the best
``alpha`` fraction of energies — on the fast backend of the exact output distribution, on
Aer of ``shots`` sampled energies.  The optimiser is SciPy's (COBYLA by default); each
restart is one outer iteration.
"""

from __future__ import annotations

import numpy as np

from cutslack.api import Run
from cutslack.binary import QUBO
from cutslack.errors import SolverError
from cutslack.gpu.backend import asnumpy
from cutslack.quantum.driver import report_progress, search_with_restarts
from cutslack.quantum.ising import qubo_to_pauli, require_qiskit
from cutslack.quantum.qaoa import QUANTUM_BACKENDS, _register
from cutslack.quantum.statevector import (StatevectorSimulator, apply_cx, apply_single_qubit_gates, probabilities,
                                          ry_matrix, rz_matrix)
from cutslack.result import SampleSet

__all__ = ["vqe_sampler", "cvar_vqe_sampler", "entanglement_pairs", "efficient_su2_state", "efficient_su2_statevector",
           "cvar",
           "efficient_su2_parameter_count"]


def entanglement_pairs(n: int, entanglement: str = "circular") -> list[tuple[int, int]]:
    """Return the CX ``(control, target)`` pairs of one entangling layer, in Qiskit's order."""
    linear = [(i, i + 1) for i in range(n - 1)]
    if entanglement == "linear":
        return linear
    if entanglement == "reverse_linear":
        return linear[::-1]
    if entanglement == "circular":
        return ([(n - 1, 0)] if n > 2 else []) + linear
    if entanglement == "full":
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    raise ValueError(f"unknown entanglement {entanglement!r}; expected linear, reverse_linear, circular or full")


def efficient_su2_parameter_count(n: int, reps: int = 3) -> int:
    """Return the number of angles of ``efficient_su2(n, reps)``: ``2 n (reps + 1)``."""
    return 2 * n * (reps + 1)


def efficient_su2_state(sim: StatevectorSimulator, params, *, reps: int = 3, entanglement: str = "circular",
                        n: int | None = None):
    """Return the ``efficient_su2`` state at ``params`` (Qiskit's order) on the simulator's device."""
    return efficient_su2_statevector(sim.n if n is None else n, params, reps=reps, entanglement=entanglement,
                                     xp=sim.xp)


def efficient_su2_statevector(n: int, params, *, reps: int = 3, entanglement: str = "circular", xp=np):
    """Return the ``n``-qubit ``efficient_su2`` state at ``params`` (Qiskit's order) as an ``xp`` array."""
    params = np.asarray(params, dtype=float)
    psi = xp.zeros(1 << n, dtype=xp.complex128)
    psi[0] = 1.0
    qubits = np.concatenate([np.arange(n), np.arange(n)])
    pairs = entanglement_pairs(n, entanglement)
    for layer in range(reps + 1):
        block = params[2 * n * layer: 2 * n * (layer + 1)]
        apply_single_qubit_gates(psi, qubits, np.concatenate([ry_matrix(block[:n]), rz_matrix(block[n:])]))
        if layer < reps:
            for c, t in pairs:
                apply_cx(psi, c, t)
    return psi


def cvar(energies, weights, alpha: float) -> float:
    """Return the mean of the lowest ``alpha`` fraction of ``energies`` weighted by ``weights``."""
    e = np.asarray(energies, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(e, kind="stable")
    e, w = e[order], w[order] / w.sum()
    cum = np.cumsum(w)
    take = np.minimum(w, np.maximum(alpha - (cum - w), 0.0))
    return float((take * e).sum() / alpha)


def vqe_sampler(qubo: QUBO, *, num_reads: int = 1024, rng=None, time_limit=None, initial_states=None,
                backend: str = "statevector", reps: int = 3, entanglement: str = "circular", alpha: float = 1.0,
                optimizer: str = "COBYLA", maxiter: int = 300, restarts: int = 1, shots: int | None = None,
                noise_model=None, array_backend: str = "numpy", run: Run | None = None) -> SampleSet:
    """Return ``num_reads`` samples of the optimised ``efficient_su2`` state of ``qubo``.

    ``alpha < 1`` gives CVaR-VQE (objective: mean of the best ``alpha`` fraction of energies);
    ``alpha = 1`` is plain VQE.  ``initial_states`` (bits) start the first restart at the
    basis state of the lowest-energy row (RY angles 0 or π); other restarts draw angles from
    ``rng``.  ``shots`` (Aer): CVaR is computed from that many samples per evaluation
    (default 1024), and the plain expectation with Estimator precision ``1/sqrt(shots)``.
    ``info`` holds ``n_qubits``, ``parameters``, ``objective``, ``nfev``, ``optimizer_ok``, ``message``.
    """
    run = run or Run(rng=rng, time_limit=time_limit)
    if backend not in QUANTUM_BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(QUANTUM_BACKENDS)}")
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha!r}")
    if qubo.n == 0:
        raise SolverError("VQE needs at least one variable; the QUBO is empty")
    n = qubo.n
    n_params = efficient_su2_parameter_count(n, reps)
    seed = int(run.rng.integers(2**31))
    if backend == "statevector":
        sim = StatevectorSimulator(qubo, backend=array_backend)
        energies = asnumpy(sim.diagonal) + sim.offset

        def objective(x):
            psi = efficient_su2_state(sim, x, reps=reps, entanglement=entanglement)
            if alpha >= 1.0:
                return sim.expectation(psi)
            return cvar(energies, probabilities(psi), alpha)

        def draw(x, shots):
            return sim.sample(efficient_su2_state(sim, x, reps=reps, entanglement=entanglement), shots, run.rng)
    else:
        require_qiskit(aer=True)
        from cutslack.quantum.circuits import AerEvaluator, vqe_circuit

        circ, params = vqe_circuit(n, reps, entanglement)
        op, offset = qubo_to_pauli(qubo)
        aer = AerEvaluator(circ, params, op, offset=offset, shots=shots, noise_model=noise_model, seed=seed)
        cvar_shots = int(shots or 1024)

        def objective(x):
            if alpha >= 1.0:
                return aer.expectation(x)
            s = aer.sample(x, cvar_shots, qubo)
            return cvar(s.energies, s.counts, alpha)

        def draw(x, shots_):
            return aer.sample(x, shots_, qubo)

    first_start = None
    if initial_states is not None and len(initial_states):
        X0 = np.atleast_2d(np.asarray(initial_states, dtype=float))
        first_start = run.rng.uniform(-0.1, 0.1, n_params)
        first_start[:n] += np.pi * X0[int(np.argmin(qubo.energy(X0)))]
    name = "vqe" if alpha >= 1 else "cvar-vqe"
    best_x, best_val, nfev, ok, messages = search_with_restarts(
        objective, n_params, run=run, restarts=restarts, optimizer=optimizer, maxiter=maxiter,
        first_start=first_start,
        on_restart=lambda _search, x, v, r: report_progress(run, qubo, draw(x, 64).best, method=name, nit=r + 1,
                                                   info={"objective": v}))
    samples = draw(best_x, num_reads)
    info = {"n_qubits": n, "alpha": alpha, "reps": reps, "entanglement": entanglement, "backend": backend,
            "parameters": best_x.tolist(), "objective": float(best_val), "nfev": nfev, "optimizer_ok": bool(ok),
            "message": "; ".join(messages), "nit": len(messages)}
    return SampleSet(samples.X, samples.energies, samples.counts, info=info)


def cvar_vqe_sampler(qubo: QUBO, *, alpha: float = 0.25, **options) -> SampleSet:
    """Return samples of CVaR-VQE (:func:`vqe_sampler` with ``alpha = 0.25`` by default)."""
    return vqe_sampler(qubo, alpha=alpha, **options)


solve_vqe = _register("vqe", vqe_sampler, "VQE on an efficient_su2 ansatz")
solve_cvar_vqe = _register("cvar-vqe", cvar_vqe_sampler, "CVaR-VQE (alpha = 0.25) on an efficient_su2 ansatz")
