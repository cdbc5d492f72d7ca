"""Full-space Newton (SQP) on the KKT system of the elliptic control problem (``method="newton-kkt"``).

Each iteration assembles the (generalised) Jacobian of the optimality residual
F(y, u, p) = [∇_yℒ; αM(u − u*(p)); c] (:meth:`EllipticControl.kkt_matrix`) and solves the
3n×3n sparse system directly (QDLDL's LDLᵀ when it is symmetric, SuperLU's LU
otherwise) or, from :data:`KRYLOV_MIN_NODES` interior nodes on, by MINRES with an
algebraic-multigrid block preconditioner on the symmetric (y, p) system left after the
control row is eliminated (:mod:`.krylov`), inexactly: to the forcing term of
:func:`_forcing`.  For the smooth problems this is SQP with the exact
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
from cutslack.solvers.pde.krylov import KKTKrylov

__all__ = ["newton_kkt", "KRYLOV_MIN_NODES", "LINEAR_SOLVERS"]

#: ``linear_solver="auto"`` uses the sparse direct solve below this many interior nodes and
#: MINRES + AMG from it on.  Measured (``benchmarks/pde.py --scale``, semilinear with bounds,
#: one thread): N = 32 direct 0.14 s vs Krylov 0.25 s; N = 64 direct 3.8 s vs Krylov 2.7 s;
#: N = 128 direct 20 s vs Krylov 5.9 s
KRYLOV_MIN_NODES = 64 * 64

#: the Newton-system solvers
LINEAR_SOLVERS = ("auto", "direct", "krylov")


def _merit(problem, y, u, p) -> float:
    return 0.5 * (problem.kkt_norm(y, u, p) / problem.kkt_scale) ** 2


def _restore(problem, u, y_guess):
    """Return ``(y(u), u, p(y(u)))``: the point with state and adjoint solved for ``u``, or None."""
    try:
        y = problem.solve_state(u, y0=y_guess)
    except SolverError:
        return None
    return y, u, problem.solve_adjoint(y)


def _forcing(problem, relative: float, tol: float) -> float:
    """Relative accuracy asked of the Krylov solve at relative KKT residual ``relative``.

    Enough to finish in this step (half of ``tol/relative``) for the linear-quadratic problem
    without bounds (one Newton step is exact there); otherwise the superlinear forcing term
    min(0.1, relative) of inexact Newton (Eisenstat & Walker 1996, choice "‖F‖"), never
    tighter than this step needs.
    """
    finishing = 0.5 * tol / max(relative, 1e-300)
    if problem.is_linear_quadratic and not problem.has_bounds:
        return min(finishing, 0.1)
    return min(max(finishing, min(0.1, relative)), 0.1)


def _direction(problem, y, u, p, F, linear_solver, relative, tol, stats):
    """Return the Newton direction by the chosen linear solver (updating ``stats``)."""
    if linear_solver == "krylov":
        out = KKTKrylov(problem, y, u, p).solve(F, _forcing(problem, relative, tol))
        stats["krylov_iterations"] += out.iterations
        stats["amg_cycles"] += out.cycles
        return out.direction
    symmetric = not problem.has_bounds and problem.beta == 0.0
    return direct_solve(problem.kkt_matrix(y, u, p), -F, what="KKT Jacobian", symmetric=symmetric)


@register_solver("newton-kkt", accepts=(EllipticControl,),
                 description="full-space (semismooth) Newton on the KKT system, sparse direct or MINRES + AMG")
def newton_kkt(problem: EllipticControl, *, rng=None, time_limit=None, callback=None, tol: float = 1e-10,
               maxiter: int = 100, linear_solver: str = "auto", x0=None, p0=None) -> Result:
    """Return a KKT point of the control problem by Newton's method on the full KKT system.

    Parameters
    ----------
    tol : float
        Stop at relative KKT residual ‖F(y, u, p)‖ / ‖F(0)‖ ≤ tol.
    maxiter : int
        Newton iterations at most.
    linear_solver : {"auto", "direct", "krylov"}
        ``"direct"``: sparse LDLᵀ/LU of the 3n×3n Jacobian; ``"krylov"``: MINRES with the
        AMG block preconditioner of :mod:`.krylov`, solved inexactly (:func:`_forcing`);
        ``"auto"``: direct below :data:`KRYLOV_MIN_NODES` interior nodes, Krylov from there.
    x0, p0 : arrays, optional
        Warm start: ``[y, u]`` and the adjoint p (e.g. from a previous Result's ``x`` and
        ``info["adjoint"]``).

    History rows carry ``kkt_residual``, ``objective``, ``constraint_residual`` and the
    accepted ``step``.  A singular Jacobian raises :class:`SolverError` with an estimate of
    its smallest singular value.  ``info`` carries ``linear_solver`` and, for Krylov,
    ``krylov_iterations`` (MINRES, all Newton steps) and ``amg_cycles``.
    """
    if linear_solver not in LINEAR_SOLVERS:
        raise ValueError(f"linear_solver must be one of {LINEAR_SOLVERS}, got {linear_solver!r}")
    if linear_solver == "auto":
        linear_solver = "krylov" if problem.n_nodes >= KRYLOV_MIN_NODES else "direct"
    stats = {"krylov_iterations": 0, "amg_cycles": 0}
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
        d = _direction(problem, y, u, p, F, linear_solver, row["kkt_residual"], tol, stats)
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
                  info={"restorations": restorations, "linear_solver": linear_solver,
                        **(stats if linear_solver == "krylov" else {})})
