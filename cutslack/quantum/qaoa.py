"""QAOA, multi-angle QAOA and warm-start QAOA as QUBO samplers and as solve() methods.

One driver serves the three variants; they differ only in their parameters:

* ``"standard"`` (Farhi et al.): one cost angle ``gamma`` and one mixer angle ``beta`` per layer;
* ``"multi-angle"`` (Herrman et al.): one ``gamma`` per Ising term and one ``beta`` per qubit;
* ``"warm-start"`` (Egger et al.): start in ``⊗ RY(theta_q)|0>`` with ``sin²(theta_q/2) = c_q``, ``c``
  a continuous relaxation regularised to ``[eps, 1 - eps]`` (or the best of ``initial_states``),
  and mix with ``RY(theta) RZ(-2 beta) RY(-theta)``.

Angles are optimised by SciPy (COBYLA by default).  Depth grows ``1, 2, ..., p``, each depth
started from the previous optimum by linear interpolation (Zhou et al., INTERP); depth 1
starts from the best point of a small grid.  Every depth is one outer iteration (callback).
``backend="statevector"`` runs the fast simulator; ``backend="aer"`` the same circuits on
Qiskit Aer (exact Estimator, or ``shots`` and a ``noise_model``), sampled with SamplerV2.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from cutslack.api import Run, register_solver
from cutslack.binary import QUBO
from cutslack.errors import SolverError
from cutslack.problems.base import Problem
from cutslack.quantum.driver import (ParameterSearch, minimize_parameters, out_of_time, report_progress,
                                     solve_with_sampler)
from cutslack.quantum.ising import ising_terms, qubo_to_pauli, require_qiskit
from cutslack.quantum.statevector import StatevectorSimulator
from cutslack.result import SampleSet

__all__ = ["qaoa_sampler", "ma_qaoa_sampler", "ws_qaoa_sampler", "interpolate_angles", "warm_start_angles",
           "QAOA_VARIANTS", "QUANTUM_BACKENDS"]

QAOA_VARIANTS = ("standard", "multi-angle", "warm-start")
QUANTUM_BACKENDS = ("statevector", "aer")


def interpolate_angles(angles) -> np.ndarray:
    """Return depth ``p + 1`` angles from depth-``p`` ones (INTERP, along the first axis)."""
    a = np.asarray(angles, dtype=float)
    p = a.shape[0]
    padded = np.concatenate([np.zeros_like(a[:1]), a, np.zeros_like(a[:1])])
    i = np.arange(1, p + 2).reshape((-1,) + (1,) * (a.ndim - 1))
    return (i - 1) / p * padded[i.reshape(-1) - 1] + (p - i + 1) / p * padded[i.reshape(-1)]


def warm_start_angles(qubo: QUBO, *, epsilon: float = 0.25, initial_states=None) -> np.ndarray:
    """Return the warm-start ``RY`` angles ``theta_q = 2 arcsin(sqrt(c_q))``.

    ``c`` is the lowest-energy row of ``initial_states`` when given, else a local minimiser of the
    box relaxation ``min x'Ux + offset over [0, 1]^n`` (L-BFGS-B from the centre); it is clipped to
    ``[epsilon, 1 - epsilon]`` so that every bit can still flip.
    """
    if initial_states is not None and len(initial_states):
        X0 = np.atleast_2d(np.asarray(initial_states, dtype=float))
        c = X0[int(np.argmin(qubo.energy(X0)))]
    else:
        U = qubo.to_dense()
        S = U + U.T

        def value_grad(x):
            return float(x @ U @ x), S @ x

        c = minimize(value_grad, np.full(qubo.n, 0.5), jac=True, method="L-BFGS-B",
                     bounds=[(0.0, 1.0)] * qubo.n).x
    c = np.clip(c, epsilon, 1.0 - epsilon)
    return 2.0 * np.arcsin(np.sqrt(c))


class _QAOAModel:
    """Expectation and sampling of one QAOA variant at flat parameters ``[gammas..., betas...]``."""

    def __init__(self, qubo, variant, *, backend, thetas, shots, noise_model, seed, array_backend):
        self.qubo, self.variant, self.thetas = qubo, variant, thetas
        self.n = qubo.n
        self.n_terms = self.n + len(ising_terms(qubo)[3])
        self.backend = backend
        self.shots, self.noise_model, self.seed = shots, noise_model, seed
        self.sim = StatevectorSimulator(qubo, backend=array_backend) if backend == "statevector" else None
        self._aer = {}
        # scale the angles to the cost: gamma ~ 1 / (typical |coefficient| * sqrt(terms per qubit))
        h, _, _, J, _ = ising_terms(qubo)
        coeffs = np.abs(np.concatenate([h, J]))
        coeffs = coeffs[coeffs > 0]
        self.gamma_scale = 1.0 / (np.median(coeffs) * np.sqrt(max(1.0, 2 * len(J) / max(self.n, 1)))) if coeffs.size else 1.0

    def gamma_width(self) -> int:
        return self.n_terms if self.variant == "multi-angle" else 1

    def beta_width(self) -> int:
        return self.n if self.variant == "multi-angle" else 1

    def split(self, x, p):
        g = np.asarray(x[: p * self.gamma_width()]).reshape(p, -1)
        b = np.asarray(x[p * self.gamma_width():]).reshape(p, -1)
        if self.variant != "multi-angle":
            g, b = g[:, 0], b[:, 0]
        return g, b

    def state(self, x, p):
        g, b = self.split(x, p)
        return self.sim.qaoa_state(g, b, thetas=self.thetas)

    def aer(self, p):
        if p not in self._aer:
            require_qiskit(aer=True)
            from cutslack.quantum.circuits import AerEvaluator, qaoa_circuit

            circ, params = qaoa_circuit(self.qubo, p, multi_angle=self.variant == "multi-angle", thetas=self.thetas)
            op, offset = qubo_to_pauli(self.qubo)
            self._aer[p] = AerEvaluator(circ, params, op, offset=offset, shots=self.shots,
                                        noise_model=self.noise_model, seed=self.seed)
        return self._aer[p]

    def expectation(self, x, p) -> float:
        if self.sim is not None:
            return self.sim.expectation(self.state(x, p))
        return self.aer(p).expectation(x)

    def sample(self, x, p, num_reads, rng) -> SampleSet:
        if self.sim is not None:
            return self.sim.sample(self.state(x, p), num_reads, rng)
        return self.aer(p).sample(x, num_reads, self.qubo)


def _grid_start(model: _QAOAModel, run: Run):
    """Return the best ``(gamma, beta)`` of a 6 × 4 grid at depth 1 (standard angles)."""
    best, best_val = (0.1 * model.gamma_scale, 0.3), np.inf
    for g in np.linspace(0.1, 1.0, 6) * model.gamma_scale:
        for b in (0.15, 0.35, 0.55, 0.75):
            if run.expired():
                return best
            x = np.concatenate([np.full(model.gamma_width(), g), np.full(model.beta_width(), b)])
            val = model.expectation(x, 1)
            if val < best_val:
                best, best_val = (g, b), val
    return best


def qaoa_sampler(qubo: QUBO, *, p: int = 1, num_reads: int = 1024, rng=None, time_limit=None, initial_states=None,
                 backend: str = "statevector", variant: str = "standard", optimizer: str = "COBYLA",
                 maxiter: int = 200, shots: int | None = None, noise_model=None, warm_start_epsilon: float = 0.25,
                 array_backend: str = "numpy", run: Run | None = None) -> SampleSet:
    """Return ``num_reads`` samples of the optimised QAOA state of ``qubo``.

    Parameters
    ----------
    qubo : QUBO
    p : int
        Final depth; depths ``1..p`` are optimised in turn, each started by interpolation.
    num_reads : int
        Measurements drawn from the final state.
    rng, time_limit : the usual; at the deadline the best angles so far are sampled.
    initial_states : (k, n) bits, optional
        Warm-start source for ``variant="warm-start"`` (the lowest-energy row).
    backend : {"statevector", "aer"}
    variant : {"standard", "multi-angle", "warm-start"}
    optimizer, maxiter : SciPy method and iteration cap per depth.
    shots, noise_model : Aer only: Estimator precision ``1/sqrt(shots)`` and a noise model.
    array_backend : {"numpy", "cupy", "auto"}: where the fast simulator runs.
    run : Run, optional
        The registered method's run (clock and callback); a new one is made otherwise.

    ``info`` holds ``n_qubits``, ``p``, the final ``parameters``, ``expectation``, ``nfev``,
    ``optimizer_ok`` and ``message``.
    """
    run = run or Run(rng=rng, time_limit=time_limit)
    if variant not in QAOA_VARIANTS:
        raise ValueError(f"unknown QAOA variant {variant!r}; expected one of {', '.join(QAOA_VARIANTS)}")
    if backend not in QUANTUM_BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(QUANTUM_BACKENDS)}")
    if int(p) < 1:
        raise ValueError(f"p must be a positive depth, got {p!r}")
    if qubo.n == 0:
        raise SolverError("QAOA needs at least one variable; the QUBO is empty")
    thetas = (warm_start_angles(qubo, epsilon=warm_start_epsilon, initial_states=initial_states)
              if variant == "warm-start" else None)
    model = _QAOAModel(qubo, variant, backend=backend, thetas=thetas, shots=shots, noise_model=noise_model,
                       seed=int(run.rng.integers(2**31)), array_backend=array_backend)
    g0, b0 = _grid_start(model, run)
    gammas = np.full((1, model.gamma_width()), g0)
    betas = np.full((1, model.beta_width()), b0)
    messages, nfev, ok, value, depth, step = [], 0, True, np.inf, 0, 0.0
    for depth in range(1, int(p) + 1):
        if depth > 1:
            gammas, betas = interpolate_angles(gammas), interpolate_angles(betas)
        x0 = np.concatenate([gammas.reshape(-1), betas.reshape(-1)])
        # a deeper circuit's step takes about depth / (depth - 1) times the last one's
        search = minimize_parameters(lambda x, d=depth: model.expectation(x, d), x0, run=run, method=optimizer,
                                     maxiter=maxiter, search=ParameterSearch(step * depth / max(depth - 1, 1)))
        step = search.step_seconds
        nfev += search.nfev
        ok &= search.ok
        messages.append(search.message)
        gammas = search.best_x[: depth * model.gamma_width()].reshape(depth, -1)
        betas = search.best_x[depth * model.gamma_width():].reshape(depth, -1)
        value = search.best_value
        if out_of_time(run) or not search.ok:
            break
        x_best = np.concatenate([gammas.reshape(-1), betas.reshape(-1)])
        preview = model.sample(x_best, depth, 64, run.rng)
        if report_progress(run, qubo, preview.best, method=f"qaoa[{variant}]", nit=depth,
                           info={"p": depth, "expectation": value}):
            break
    x_best = np.concatenate([gammas.reshape(-1), betas.reshape(-1)])
    samples = model.sample(x_best, depth, num_reads, run.rng)
    info = {"n_qubits": qubo.n, "p": depth, "variant": variant, "backend": backend, "parameters": x_best.tolist(),
            "expectation": float(value), "nfev": nfev, "optimizer_ok": bool(ok), "message": "; ".join(messages),
            "nit": depth}
    return SampleSet(samples.X, samples.energies, samples.counts, info=info)


def ma_qaoa_sampler(qubo: QUBO, **options) -> SampleSet:
    """Return samples of multi-angle QAOA (:func:`qaoa_sampler` with ``variant="multi-angle"``)."""
    return qaoa_sampler(qubo, variant="multi-angle", **options)


def ws_qaoa_sampler(qubo: QUBO, **options) -> SampleSet:
    """Return samples of warm-start QAOA (:func:`qaoa_sampler` with ``variant="warm-start"``)."""
    return qaoa_sampler(qubo, variant="warm-start", **options)


def _register(name: str, sampler, description: str):
    @register_solver(name, accepts=(QUBO, Problem), description=description)
    def method(problem, *, rng=None, time_limit=None, callback=None, formulation="penalty",
               formulation_options=None, **options):
        return solve_with_sampler(problem, sampler, method=name, rng=rng, time_limit=time_limit, callback=callback,
                                  formulation=formulation, formulation_options=formulation_options, **options)

    method.__name__ = f"solve_{name.replace('-', '_')}"
    method.__doc__ = (f"Return the best sample of {description} (QUBO, or a Problem through "
                      f"``formulation``), repaired when constrained.")
    return method


solve_qaoa = _register("qaoa", qaoa_sampler, "QAOA with interpolated depth schedule")
solve_ma_qaoa = _register("ma-qaoa", ma_qaoa_sampler, "multi-angle QAOA")
solve_ws_qaoa = _register("ws-qaoa", ws_qaoa_sampler, "warm-start QAOA from a continuous relaxation")
