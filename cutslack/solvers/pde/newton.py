"""Full-space Newton (SQP) on the KKT system of the elliptic control problem (``method="newton-kkt"``).

Each iteration assembles the (generalised) Jacobian of the optimality residual
F(y, u, p) = [∇_yℒ; αM(u − u*(p)); c] (:meth:`EllipticControl.kkt_matrix`) and solves the
3n×3n sparse system directly (QDLDL's LDLᵀ when it is symmetric, SuperLU's LU
otherwise).  For the smooth problems this is SQP with the exact
Hessian of the Lagrangian; for max(0, y) and for control bounds / the ℓ₁ term it is the
semismooth Newton method (equivalently the primal-dual active-set strategy: the active set
of u = P(shrink(p)/α) is re-read from p at every step).  Globalisation: backtracking
(Armijo) on the merit φ = ½‖F‖²_{M⁻¹}; for a nonlinear state, a rejected full step is
first retried with the state and adjoint restored onto the new control (y ← y(u),
p ← p(y)), which keeps unit steps where y³ would otherwise force tiny ones.  Converged when the relative KKT residual
‖F‖/‖F(0)‖ ≤ ``tol``; locally quadratic (smooth) or superlinear (semismooth).
"""

from __future__ import annotations

import time

import numpy as np

from cutslack.api import Run, register_solver
from cutslack.errors import SolverError
from cutslack.problems.pde import EllipticControl
from cutslack.result import Result
from cutslack.solvers.pde.common import direct_solve, finish, iteration_record, start_point

__all__ = ["newton_kkt"]


def _merit(problem, y, u, p) -> float:
    return 0.5 * (problem.kkt_norm(y, u, p) / problem.kkt_scale) ** 2


def _restore(problem, u, y_guess):
    """Return ``(y(u), u, p(y(u)))``: the point with state and adjoint solved for ``u``, or None."""
    try:
        y = problem.solve_state(u, y0=y_guess)
    except SolverError:
        return None
    return y, u, problem.solve_adjoint(y)


@register_solver("newton-kkt", accepts=(EllipticControl,),
                 description="full-space (semismooth) Newton on the KKT system, sparse direct solves")
def newton_kkt(problem: EllipticControl, *, rng=None, time_limit=None, callback=None, tol: float = 1e-10,
               maxiter: int = 100, x0=None, p0=None) -> Result:
    """Return a KKT point of the control problem by Newton's method on the full KKT system.

    Parameters
    ----------
    tol : float
        Stop at relative KKT residual ‖F(y, u, p)‖ / ‖F(0)‖ ≤ tol.
    maxiter : int
        Newton iterations at most.
    x0, p0 : arrays, optional
        Warm start: ``[y, u]`` and the adjoint p (e.g. from a previous Result's ``x`` and
        ``info["adjoint"]``).

    History rows carry ``kkt_residual``, ``objective``, ``constraint_residual`` and the
    accepted ``step``.  A singular Jacobian raises :class:`SolverError` with an estimate of
    its smallest singular value.
    """
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    y, u, p = start_point(problem, x0, p0)
    n = problem.n_nodes
    history, converged, step, k, restorations = [], False, 0.0, 0, 0
    iteration_seconds = 0.0  # the last Newton step's duration: a sparse factorisation cannot be cut short
    for k in range(maxiter + 1):
        started = time.perf_counter()
        row = iteration_record(problem, k, y, u, p, step=step)
        history.append(row)
        if row["kkt_residual"] <= tol:
            converged = True
            break
        if k == maxiter or run.expired():
            break
        if run.deadline is not None and run.time_left() < iteration_seconds:
            run.timed_out = True  # the next step would end past the deadline
            break
        if run.report(finish(problem, y, u, p, method="newton-kkt", run=run, converged=False,
                             history=history, nit=k)):
            break
        F = problem.kkt_residual(y, u, p)
        symmetric = not problem.has_bounds and problem.beta == 0.0
        d = direct_solve(problem.kkt_matrix(y, u, p), -F, what="KKT Jacobian", symmetric=symmetric)
        dy, du, dp = d[:n], d[n:2 * n], d[2 * n:]
        phi = 0.5 * row["kkt_residual"] ** 2
        step = 1.0
        trial = (y + dy, u + du, p + dp)
        if problem.nonlinearity != "linear" and _merit(problem, *trial) > (1.0 - 1e-4) * phi:
            # the full step is rejected: try it with the state and adjoint restored onto the
            # control's PDE solution (one nonlinear state solve), which strong state
            # nonlinearities (y³ with large controls) often need
            restored = _restore(problem, u + du, y + dy)
            if restored is not None and _merit(problem, *restored) <= (1.0 - 1e-4) * phi:
                trial = restored
                restorations += 1
        while _merit(problem, *trial) > (1.0 - 1e-4 * step) * phi and step >= 1e-10:
            step *= 0.5
            trial = (y + step * dy, u + step * du, p + step * dp)
        y, u, p = trial
        iteration_seconds = time.perf_counter() - started
    return finish(problem, y, u, p, method="newton-kkt", run=run, converged=converged, history=history, nit=k,
                  info={"restorations": restorations})
