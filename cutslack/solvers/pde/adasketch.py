"""AdaSketch-Newton (``method="adasketch"``): an adaptive inexact Newton method on the exact
augmented Lagrangian, its Newton systems solved by randomized iterative sketching.

Hong, Na, Mahoney, Kolar, "Constrained Optimization via Exact Augmented Lagrangian and
Randomized Iterative Sketching", ICML 2023 (arXiv:2305.18379).  For min f(x) s.t. c(x) = 0
with Lagrangian ℒ = f + λᵀc, each iteration

1. forms the Newton (KKT) system ``K [Δx; Δλ] = −b``, ``b = (∇ₓℒ, c)``;
2. solves it *inexactly* by a randomized sketching solver (:mod:`.sketch`: randomized
   Kaczmarz, block Kaczmarz or Gaussian sketch-and-project), warm-started from the
   current inexact direction, until ``‖K d + b‖ ≤ θ_k δ ‖b‖`` (the adaptive accuracy);
3. tests that d is a descent direction of the exact augmented Lagrangian
   ``𝓛 = f + λᵀc + η₁/2‖c‖² + η₂/2‖∇ₓℒ‖²``, i.e. ``∇𝓛ᵀd ≤ −(η₂/2)‖b‖²``; if not, it raises
   ``η₁ ← ν²η₁``, lowers ``η₂ ← η₂/ν``, tightens ``δ ← δ/ν⁴`` and resumes the inner solve;
4. takes an Armijo backtracking step on 𝓛 (``𝓛(z + t d) ≤ 𝓛(z) + β t ∇𝓛ᵀd``, t halved).

``superlinear=True`` is the paper's superlinear variant: the accuracy ``θ_k`` is driven to
zero, here ``θ_k = min(1, ‖b_k‖/‖b_0‖)^{1/2}``; otherwise ``θ_k = 1`` and the local rate is
linear (about δ per step).

Defaults as published: η₁ = 1, η₂ = 0.1, δ = 0.1, β = 0.1, ν = 1.5 — the paper's
experiment section and the authors' code (``PDE/Parameter/Param.jl`` of
github.com/IlgeeHong/AdaSketch-Newton); the safeguards η₁ ≤ 10⁸, η₂ ≥ 10⁻⁸ and δ ≥ 10⁻⁶
are the authors' code's too.  One deviation, stated: the paper's accuracy condition
carries a factor ‖K‖·Ψ (Ψ from bounds on the Hessian and on the smallest singular value
of the constraint Jacobian) which, on discretised PDEs, makes the tolerance many orders
smaller than the descent test needs; we use the relative residual ``θ_k δ ‖b‖`` and let
the descent test tighten δ when a direction fails.

The problem is posed in mass-scaled variables (x̃ = M^{1/2}x, λ̃ = M^{1/2}p, c̃ = M^{-1/2}c),
so every Euclidean norm above is the discrete L2 norm, K̃ = M^{-1/2} K M^{-1/2} is
symmetric, and ‖b̃‖ is :meth:`EllipticControl.kkt_norm`.  Equality constraints only:
control bounds and the ℓ₁ term are refused (use ``newton-kkt``).  The non-smooth state
max(0, y) takes its generalised derivative; its merit jumps where y changes sign, so
there a step that fails Armijo but reduces the KKT residual is accepted, and when no step
length does either, the full step is taken (a non-monotone escape, counted in
``info["escapes"]``).

What changed against the paper, and why (this round): none of the published parameter
defaults (η₁, η₂, δ, β, ν and the safeguards are as above; the step rule, the descent test
and the δ/η updates are the paper's).  The failures had two other causes:

* N = 64 did not converge within the benchmark's limit because one set-up of the dense
  reduced system took minutes: a dense Cholesky of A_y and n³ back-substitutions.  G = A_y⁻¹M
  is now formed with the sparse LU of A_y (n sparse triangular solve pairs, fill ≪ n²) and
  Gᵀ diag(h) G by two symmetric rank-k updates (BLAS syrk, h split into its signs): about
  n³ instead of 4⅓ n³ flops.  The linear and semilinear problems at N = 64 now converge in
  3 and 5 iterations (12 s and 20 s of CPU, ``benchmarks/results/pde_scale.md``).
* The non-smooth problem at N = 12, 48 and 64 (not 16, 24, 32): the discrete optimum lies
  *on the kink* of max(0, y) — a whole grid line of N nodes has |y| < 10⁻⁸ — and there the
  KKT system with the one-sided derivative N'(0) = 0 that
  :meth:`EllipticControl.kkt_residual` measures has no zero.  Newton with exact directions
  (``newton-kkt``) stops at the same level (1.4·10⁻⁴ at N = 12, 4.5·10⁻⁵ at N = 48,
  1.0·10⁻⁴ at N = 64); no step rule, sketch size or merit parameter changes that, and the
  escapes and the KKT-decrease acceptance above only keep AdaSketch from stalling at a
  worse point.  Converging there needs a different stationarity system — the Clarke
  multiplier ξ ∈ [0, κ] of N'(y) as an extra unknown on the kink set, y = 0 imposed there —
  which neither solver implements yet.  Off the kink (N = 8, 16, 24, 32) AdaSketch converges.

Randomized sketching on these systems is the method's honest cost: the KKT matrices of a
discretised PDE have condition numbers growing like h⁻²/α, and the sketching solvers'
step counts grow with them (see ``benchmarks/results/pde.md``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cutslack.api import Run, register_solver
from cutslack.errors import ProblemTooLargeError, SolverError
from cutslack.problems.pde import EllipticControl
from cutslack.result import Result
from cutslack.solvers.pde.common import finish, iteration_record, start_point
from cutslack.solvers.pde.sketch import SKETCHES, SketchSolver

__all__ = ["adasketch_newton", "PUBLISHED_DEFAULTS", "REDUCED_MAX_NODES"]

#: the reduced system is dense (n × n): refused beyond this many interior nodes (N = 64 grids)
REDUCED_MAX_NODES = 4096

#: parameter defaults of Hong et al. (2023), from the authors' PDE/Parameter/Param.jl
PUBLISHED_DEFAULTS = {"eta1": 1.0, "eta2": 0.1, "delta": 0.1, "armijo": 0.1, "nu": 1.5}


class _Scaled:
    """The control problem in mass-scaled coordinates z̃ = M^{1/2}(y, u, p)."""

    def __init__(self, problem: EllipticControl):
        self.problem = problem
        self.n = problem.n_nodes
        self.sqrt_m = np.sqrt(problem.mass)
        self.s3 = np.tile(self.sqrt_m, 3)

    def unpack(self, z):
        n = self.n
        w = z / self.s3
        return w[:n], w[n:2 * n], w[2 * n:]

    def residual(self, z) -> np.ndarray:
        """b̃ = M^{-1/2} F(y, u, p) = (∇ₓ̃ℒ, c̃)."""
        return self.problem.kkt_residual(*self.unpack(z)) / self.s3

    def matrix(self, z) -> sp.csr_matrix:
        """K̃ = M^{-1/2} J M^{-1/2}: symmetric Newton matrix in scaled coordinates."""
        D = sp.diags(1.0 / self.s3)
        return (D @ self.problem.kkt_matrix(*self.unpack(z)) @ D).tocsr()

    def merit(self, z, eta1, eta2) -> tuple:
        """Return ``(𝓛, b̃)`` at z."""
        y, u, p = self.unpack(z)
        b = self.residual(z)
        n = self.n
        f = self.problem.evaluate(self.problem.join(y, u))
        c = b[2 * n:]
        value = f + np.dot(p * self.sqrt_m, c) + 0.5 * eta1 * np.dot(c, c) + 0.5 * eta2 * np.dot(b[:2 * n], b[:2 * n])
        return float(value), b


class _FullSystem:
    """The full Newton system K̃ d = −b̃ (3n unknowns), sketched as it stands (the paper's setting)."""

    def __init__(self, scaled: _Scaled, z, b):
        self.matrix = scaled.matrix(z)
        self.rhs = -b
        self.setup_flops = 0.0

    def direction(self, w):
        return w


_SETUP_BLOCK = 256  # columns of the reduced Hessian per BLAS call between two reads of the clock


class _OutOfTime(Exception):
    """The deadline passed while a Newton system was being set up."""


class _ReducedSystem:
    """The same Newton system with state and adjoint rows eliminated by sparse LU of the state Jacobian.

    The state row gives dy = A_y⁻¹(M du − c), the adjoint row dp = A_y⁻ᵀ(−g_y − H_yy dy), and
    what is left for the sketching solver is the reduced Hessian system
    ``(αM + M A_y⁻ᵀ H_yy A_y⁻¹ M) du = −g_u − M A_y⁻ᵀ(g_y − H_yy A_y⁻¹ c)`` (n unknowns, dense,
    condition number ≈ 1 + 1/(α λ_min(−Δ)²) instead of the full system's h⁻²/α).  The
    residual of the full system of a direction built this way lies in its u-rows only and
    equals the reduced residual, so the accuracy test is the same test.
    """

    def __init__(self, scaled: _Scaled, z, b, run: Run | None = None):
        import scipy.linalg as sla
        import scipy.sparse.linalg as spla

        prob = scaled.problem
        if scaled.n > REDUCED_MAX_NODES:
            raise ProblemTooLargeError("adasketch reduced Hessian (dense n x n, interior nodes)", scaled.n,
                                       REDUCED_MAX_NODES)
        y, u, p = scaled.unpack(z)
        n, m, sm = scaled.n, prob.mass, scaled.sqrt_m
        F = b * scaled.s3
        gy, gu, c = F[:n], F[n:2 * n], F[2 * n:]
        Ay, _ = prob.constraint_jacobian(y)
        self.lu = spla.splu(Ay.tocsc())
        self.h = m * (1.0 + prob.nonlinear_second_derivative(y) * p)
        # G = A_y⁻¹M by the sparse LU (n right-hand sides, each two sparse triangular solves:
        # about 8× cheaper at N = 64 than a dense Cholesky of A_y and its n³ back-substitution),
        # then one GEMM for Gᵀ diag(h) G; both run in column blocks with the clock read between
        # blocks (``run``'s deadline raises _OutOfTime: the caller keeps its current point)
        blocks = [slice(lo, min(lo + _SETUP_BLOCK, n)) for lo in range(0, n, _SETUP_BLOCK)]

        def check_clock():
            if run is not None and run.expired():
                raise _OutOfTime

        G = np.empty((n, n))
        for J in blocks:
            check_clock()
            rhs_block = np.zeros((n, J.stop - J.start))
            rhs_block[np.arange(J.start, J.stop), np.arange(J.stop - J.start)] = m[J]
            G[:, J] = self.lu.solve(rhs_block)
        # Gᵀ diag(h) G = W₊ᵀW₊ − W₋ᵀW₋ with W± = √(h±) G: symmetric rank-k updates (BLAS syrk,
        # half the flops of a GEMM), accumulated over row blocks of G between clock reads
        H = np.zeros((n, n), order="F")
        for J in blocks:
            for sign in (1.0, -1.0):
                w = np.sqrt(np.maximum(sign * self.h[J], 0.0))
                if not w.any():
                    continue
                check_clock()
                H = sla.blas.dsyrk(sign, w[:, None] * G[J], beta=1.0, c=H, trans=1, lower=0, overwrite_c=1)
        H = np.triu(H) + np.triu(H, 1).T
        H[np.diag_indices(n)] += prob.alpha * m
        self.matrix = H / np.outer(sm, sm)
        rhs = -gu - m * self.lu.solve(gy - self.h * self.lu.solve(c), trans="T")
        self.rhs = rhs / sm
        self.gy, self.c, self.scaled = gy, c, scaled
        self.setup_flops = float(n) ** 3 + 4.0 * n * (self.lu.L.nnz + self.lu.U.nnz)

    def direction(self, w):
        sm = self.scaled.sqrt_m
        m = self.scaled.problem.mass
        du = w / sm
        dy = self.lu.solve(m * du - self.c)
        dp = self.lu.solve(-self.gy - self.h * dy, trans="T")
        return np.concatenate([dy, du, dp]) * self.scaled.s3


@register_solver("adasketch", accepts=(EllipticControl,),
                 description="AdaSketch-Newton: exact augmented Lagrangian + randomized sketching (Hong et al. 2023)")
def adasketch_newton(problem: EllipticControl, *, rng=None, time_limit=None, callback=None, tol: float = 1e-6,
                     maxiter: int = 200, sketch: str = "kaczmarz", block_size: int = 8, superlinear: bool = True,
                     system: str = "reduced",
                     eta1: float = PUBLISHED_DEFAULTS["eta1"], eta2: float = PUBLISHED_DEFAULTS["eta2"],
                     delta: float = PUBLISHED_DEFAULTS["delta"], armijo: float = PUBLISHED_DEFAULTS["armijo"],
                     nu: float = PUBLISHED_DEFAULTS["nu"], max_inner: int = 50_000_000, x0=None, p0=None) -> Result:
    """Return a KKT point of the control problem by AdaSketch-Newton.

    Parameters
    ----------
    tol : float
        Stop at relative KKT residual ‖b‖/‖b(0)‖ ≤ tol.
    sketch : {"kaczmarz", "block-kaczmarz", "gaussian"}
        The randomized solver of the Newton systems.
    block_size : int
        Rows per block (block Kaczmarz) or sketch columns (Gaussian).
    superlinear : bool
        Drive the inner accuracy to zero (the paper's superlinear variant).
    system : {"reduced", "full"}
        ``"full"`` sketches the 3n×3n KKT matrix itself, as the paper does on its small
        problems; its condition number grows like h⁻²/α and Kaczmarz stalls beyond tiny
        grids.  ``"reduced"`` (default) first eliminates the state and adjoint rows by a
        sparse LU of the state Jacobian and sketches the dense reduced-Hessian system
        (see :class:`_ReducedSystem`); the direction, merit, tests and line search are the
        full-space ones either way.
    eta1, eta2, delta, armijo, nu : float
        Penalty parameters, initial accuracy, Armijo constant and update factor (published defaults).
    max_inner : int
        Sketch steps allowed per Newton system; beyond it the step is taken with the
        direction reached (``info["inner_capped"]`` counts such iterations).

    History rows: ``kkt_residual``, ``merit``, ``step``, ``inner_iterations``, ``flops``
    (cumulative), ``eta1``, ``eta2``, ``delta``.
    """
    if problem.has_bounds or problem.beta > 0:
        raise SolverError("adasketch solves equality-constrained problems; control bounds and the l1 term "
                          "need newton-kkt")
    if sketch not in SKETCHES:
        raise ValueError(f"sketch must be one of {SKETCHES}, got {sketch!r}")
    if system not in ("reduced", "full"):
        raise ValueError(f"system must be 'reduced' or 'full', got {system!r}")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    scaled = _Scaled(problem)
    y, u, p = start_point(problem, x0, p0)
    z = np.concatenate([y, u, p]) * scaled.s3
    n2 = 2 * scaled.n
    history, converged, step, flops, inner_total, capped, escapes = [], False, 0.0, 0.0, 0, 0, 0
    b0_norm = problem.kkt_scale
    inner = 0
    k = 0
    for k in range(maxiter + 1):
        merit, b = scaled.merit(z, eta1, eta2)
        b_norm = float(np.linalg.norm(b))
        history.append(iteration_record(problem, k, *scaled.unpack(z), merit=merit, step=step,
                                        inner_iterations=inner, flops=flops, eta1=eta1, eta2=eta2, delta=delta))
        if b_norm <= tol * b0_norm:
            converged = True
            break
        if k == maxiter or run.expired():
            break
        if run.report(finish(problem, *scaled.unpack(z), method="adasketch", run=run, converged=False,
                             history=history, nit=k)):
            break
        try:
            newton = _ReducedSystem(scaled, z, b, run) if system == "reduced" else _FullSystem(scaled, z, b)
        except _OutOfTime:  # no direction by the deadline: the current point is the answer
            break
        flops += newton.setup_flops
        solver = SketchSolver(newton.matrix, sketch=sketch, block_size=block_size, rng=run.rng)
        K = scaled.matrix(z)
        theta = min(1.0, np.sqrt(b_norm / b0_norm)) if superlinear else 1.0
        w = np.zeros(solver.m)
        rhs = newton.rhs
        chunk = max(solver.m // (solver.block_size if sketch != "kaczmarz" else 1), 1)
        if sketch == "gaussian":
            chunk = max(1, min(chunk, 10))
        inner = 0
        while True:
            # the adaptive accuracy condition, checked every `chunk` sketch steps
            residual = np.linalg.norm(solver.residual(w, rhs))
            flops += 2.0 * solver.nnz
            while residual > theta * delta * b_norm and inner < max_inner and not run.expired():
                flops += solver.run(w, rhs, chunk)
                inner += chunk
                residual = np.linalg.norm(solver.residual(w, rhs))
                flops += 2.0 * solver.nnz
            if inner >= max_inner:
                capped += 1
            d = newton.direction(w)
            grad_merit = b + eta2 * (K @ np.concatenate([b[:n2], np.zeros(scaled.n)])) \
                + eta1 * (K @ np.concatenate([np.zeros(n2), b[n2:]]))
            slope = float(grad_merit @ d)
            if slope <= -0.5 * eta2 * b_norm ** 2 or eta1 > 1e8 or eta2 < 1e-8 or run.expired() \
                    or inner >= max_inner:
                break
            eta1 *= nu ** 2
            eta2 /= nu
            delta = max(delta / nu ** 4, 1e-6)
        inner_total += inner
        if run.expired():
            break
        merit, _ = scaled.merit(z, eta1, eta2)  # η may have changed
        step = 1.0
        kinked = problem.nonlinearity == "nonsmooth"
        while True:
            trial = z + step * d
            value, b_trial = scaled.merit(trial, eta1, eta2)
            if np.isfinite(value) and value <= merit + armijo * step * min(slope, 0.0):
                break
            # max(0, y) makes N'(y), hence the ‖∇ₓℒ‖² term of the merit, jump where y changes
            # sign, and Armijo can fail at any step length there; a step that reduces the KKT
            # residual is then accepted instead (the semismooth-Newton safeguard)
            if kinked and np.linalg.norm(b_trial) <= (1.0 - 1e-4 * step) * b_norm:
                break
            if step < 1e-12:
                if kinked:
                    # no step length helps at a kink: take the full step (a non-monotone escape)
                    trial, step = z + d, 1.0
                    escapes += 1
                break
            step *= 0.5
        z = trial
    y, u, p = scaled.unpack(z)
    return finish(problem, y, u, p, method="adasketch", run=run, converged=converged, history=history, nit=k,
                  info={"sketch": sketch, "inner_iterations": inner_total, "flops": flops, "inner_capped": capped, "escapes": escapes,
                        "eta1": eta1, "eta2": eta2, "delta": delta})
