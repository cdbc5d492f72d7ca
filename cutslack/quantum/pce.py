"""Pauli correlation encoding (PCE, Sciorilli et al. 2024, k = 2) as a QUBO sampler and a solve() method.

``n`` binary variables live on ``q`` qubits, ``3·C(q, 2) >= n``: variable ``i`` is the sign of
the expectation of a two-body correlator ``Π_i`` — ``X_a X_b`` for every qubit pair ``a < b``,
then ``Y_a Y_b``, then ``Z_a Z_b`` (in that order) — and reads ``x_i = (1 - sgn<Π_i>) / 2``
(Qiskit's convention ``x = (1 - z) / 2``, :mod:`cutslack.quantum.ising`).  The loss is the
QUBO's Ising form evaluated on the relaxation ``t_i = tanh(alpha <Π_i>)``::

    L = sum_i h_i t_i + sum_ij J_ij t_i t_j + beta · nu · [ (1/n) sum_i t_i^2 ]^2

with the paper's regulariser (``beta = 1/2``; ``nu`` the paper's MaxCut scale ``|E|/2 + (n-1)/4``,
here generalised to ``sum|J|/2 + sum|h|/2 + (n-1)/4`` so that it follows the QUBO's weights)
and ``alpha = 1.5 q`` (the paper's ``alpha ≈ 1.5 q^{floor(k/2)}``).  The ansatz is Qiskit's
``efficient_su2`` on ``q`` qubits, optimised with SciPy from several random starts.

After optimisation each start's correlator signs are rounded to a bit vector and — as the
paper does — improved by greedy single-bit-flip descent on the QUBO (``local_search=True``);
the SampleSet holds the rounded vectors and their descended versions, ``info["rounded_energy"]``
the best energy before the descent, and ``n_qubits = q``.

Backends: ``"statevector"`` evaluates every correlator in one pass each over the ``2^q`` state
(:func:`~cutslack.quantum.statevector.pauli_expectations`); ``"aer"`` sends the list of
correlators as one EstimatorV2 pub (exact, or with ``shots`` precision and a noise model).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from cutslack.api import Run
from cutslack.binary import QUBO
from cutslack.errors import SolverError
from cutslack.quantum.driver import one_flip_descent, report_progress, search_with_restarts
from cutslack.quantum.ising import ising_terms, require_qiskit
from cutslack.quantum.qaoa import QUANTUM_BACKENDS, _register
from cutslack.quantum.statevector import array_module, check_statevector_size, pauli_expectations, pauli_masks
from cutslack.quantum.vqe import efficient_su2_parameter_count, efficient_su2_statevector
from cutslack.result import SampleSet

__all__ = ["pce_sampler", "pce_qubits", "pce_correlators", "pce_loss", "correlator_function"]


def pce_qubits(n: int) -> int:
    """Return the fewest qubits ``q >= 2`` with ``3·C(q, 2) >= n`` (k = 2 correlators)."""
    q = 2
    while 3 * math.comb(q, 2) < n:
        q += 1
    return q


def pce_correlators(n: int, q: int) -> list[dict]:
    """Return the ``n`` correlators as ``{qubit: Pauli}`` dicts: all ``XX`` pairs, then ``YY``, then ``ZZ``."""
    if 3 * math.comb(q, 2) < n:
        raise SolverError(f"PCE with k = 2 on {q} qubits holds {3 * math.comb(q, 2)} variables, not {n}")
    pairs = list(itertools.combinations(range(q), 2))
    return [{a: p, b: p} for p in "XYZ" for a, b in pairs][:n]


def pce_loss(correlations, h, rows, cols, J, *, alpha: float, beta: float = 0.5, nu: float | None = None) -> float:
    """Return the PCE loss of correlator expectations (module docstring) for the Ising terms ``h, J``."""
    t = np.tanh(alpha * np.asarray(correlations, dtype=float))
    n = t.shape[0]
    if nu is None:
        nu = 0.5 * np.abs(J).sum() + 0.5 * np.abs(h).sum() + (n - 1) / 4.0
    energy = float(h @ t + (J * t[rows] * t[cols]).sum())
    return energy + beta * nu * float(np.mean(t * t)) ** 2


def correlator_function(correlators, q: int, *, backend: str = "statevector", reps: int = 3,
                        entanglement: str = "circular", shots: int | None = None, noise_model=None, seed: int = 0,
                        array_backend: str = "numpy"):
    """Return ``f(params) -> expectations`` of the Pauli strings ``correlators`` in the ``efficient_su2`` state.

    ``"statevector"``: one pass over the ``2^q`` state per string; ``"aer"``: one EstimatorV2 pub.
    """
    if backend == "statevector":
        check_statevector_size(q, backend=array_backend)
        xp = array_module(array_backend)
        xmasks, zmasks = pauli_masks(correlators, q)

        def correlations(x):
            psi = efficient_su2_statevector(q, x, reps=reps, entanglement=entanglement, xp=xp)
            return pauli_expectations(psi, xmasks, zmasks)

        return correlations
    require_qiskit(aer=True)
    from qiskit.quantum_info import SparsePauliOp

    from cutslack.quantum.circuits import AerEvaluator, vqe_circuit

    circ, params = vqe_circuit(q, reps, entanglement)
    ops = [SparsePauliOp.from_sparse_list([("".join(c.values()), list(c), 1.0)], num_qubits=q) for c in correlators]
    return AerEvaluator(circ, params, ops, shots=shots, noise_model=noise_model, seed=seed).expectations


def _round(correlations) -> np.ndarray:
    """Return ``x = (1 - sgn c) / 2`` (a zero correlator reads as ``x = 0``)."""
    return (np.asarray(correlations) < 0).astype(np.uint8)


def pce_sampler(qubo: QUBO, *, num_reads: int = 1, rng=None, time_limit=None, initial_states=None,
                backend: str = "statevector", n_qubits: int | None = None, reps: int = 3,
                entanglement: str = "circular", alpha: float | None = None, beta: float = 0.5,
                optimizer: str = "COBYLA", maxiter: int = 300, restarts: int = 3, local_search: bool = True,
                shots: int | None = None, noise_model=None, array_backend: str = "numpy",
                run: Run | None = None) -> SampleSet:
    """Return the rounded (and locally improved) bit vectors of PCE runs on ``qubo``.

    Parameters
    ----------
    qubo : QUBO
    num_reads : int
        Accepted for the common sampler signature; PCE returns one rounded vector per restart
        (and its descended version), not measurement samples.
    n_qubits : int, optional
        Qubits to use (default: the fewest that hold ``qubo.n`` correlators).
    reps, entanglement : the ``efficient_su2`` ansatz.
    alpha, beta : tanh sharpness (default ``1.5 q``) and regulariser weight.
    optimizer, maxiter, restarts : SciPy's method, its iteration cap, and random starts.
    local_search : improve each rounded vector by single-bit-flip descent.
    backend, shots, noise_model, array_backend : as for :func:`~cutslack.quantum.vqe.vqe_sampler`.

    ``info`` holds ``n_qubits``, ``alpha``, ``loss``, ``rounded_energy``, ``nfev``, ``optimizer_ok``.
    """
    run = run or Run(rng=rng, time_limit=time_limit)
    if backend not in QUANTUM_BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(QUANTUM_BACKENDS)}")
    if qubo.n == 0:
        raise SolverError("PCE needs at least one variable; the QUBO is empty")
    n = qubo.n
    q = pce_qubits(n) if n_qubits is None else int(n_qubits)
    correlators = pce_correlators(n, q)
    alpha = 1.5 * q if alpha is None else float(alpha)
    h, rows, cols, J, _ = ising_terms(qubo)
    n_params = efficient_su2_parameter_count(q, reps)
    correlations = correlator_function(correlators, q, backend=backend, reps=reps, entanglement=entanglement,
                                       shots=shots, noise_model=noise_model, seed=int(run.rng.integers(2**31)),
                                       array_backend=array_backend)

    # the correlations at the current restart's best point are kept, so rounding it costs no
    # further evaluation (one takes ~0.25 s at q = 17, n = 400): the search may run to its deadline
    restart_best = {"loss": np.inf, "correlations": None}

    def objective(x):
        c = correlations(x)
        loss = pce_loss(c, h, rows, cols, J, alpha=alpha, beta=beta)
        if loss < restart_best["loss"]:
            restart_best.update(loss=loss, correlations=c)
        return loss

    rounded = []

    def round_restart_best(x):
        c = restart_best["correlations"]
        restart_best.update(loss=np.inf, correlations=None)
        return _round(correlations(x) if c is None else c)

    def finish_restart(search, _best_x, value, restart):
        bits = round_restart_best(search.best_x)
        rounded.append(bits)
        return report_progress(run, qubo, bits, method="pce", nit=restart + 1, info={"loss": value})

    best_x, best_val, nfev, ok, messages = search_with_restarts(
        objective, n_params, run=run, restarts=restarts, optimizer=optimizer, maxiter=maxiter, spread=np.pi,
        on_restart=finish_restart, final_steps=0.0)
    if restart_best["correlations"] is not None or not rounded:  # the last restart ended early: round its best
        rounded.append(round_restart_best(best_x))
    X = np.array(rounded, dtype=np.uint8)
    rounded_energy = float(qubo.energy(X).min())
    if local_search:
        X = np.vstack([X, one_flip_descent(qubo, X)])
    info = {"n_qubits": q, "alpha": alpha, "beta": beta, "reps": reps, "backend": backend, "loss": best_val,
            "rounded_energy": rounded_energy, "local_search": bool(local_search), "parameters": best_x.tolist(),
            "nfev": nfev, "optimizer_ok": ok, "message": "; ".join(messages), "nit": len(messages)}
    out = SampleSet(X, qubo.energy(X)).aggregate()
    return SampleSet(out.X, out.energies, out.counts, info=info)


solve_pce = _register("pce", pce_sampler, "Pauli correlation encoding (k = 2) on an efficient_su2 ansatz")
