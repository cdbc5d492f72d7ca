"""Pieces every PDE solver shares: the start point, a guarded sparse direct solve that turns a
singular or ill-conditioned Jacobian into a :class:`SolverError` carrying an estimate of its
smallest singular value, per-iteration records, and the final :class:`Result`."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cutslack.api import Run, make_result
from cutslack.errors import InvalidInstanceError, SolverError
from cutslack.problems.pde import EllipticControl
from cutslack.result import Result, Status

__all__ = ["start_point", "direct_solve", "smallest_singular_value", "iteration_record", "finish",
           "DENSE_SVD_LIMIT"]

#: systems up to this order get their smallest singular value from a dense SVD
DENSE_SVD_LIMIT = 2500


def start_point(problem: EllipticControl, x0=None, p0=None) -> tuple:
    """Return ``(y, u, p)`` from a warm start ``x0 = [y, u]`` and adjoint ``p0`` (zeros by default)."""
    n = problem.n_nodes
    if x0 is None:
        y, u = np.zeros(n), np.zeros(n)
    else:
        x0 = np.asarray(x0, dtype=float)
        if x0.shape != (2 * n,) or not np.all(np.isfinite(x0)):
            raise InvalidInstanceError("x0", f"must be a finite vector of length {2 * n} ([y, u])")
        y, u = x0[:n].copy(), x0[n:].copy()
    if p0 is None:
        p = np.zeros(n)
    else:
        p = np.asarray(p0, dtype=float).copy()
        if p.shape != (n,) or not np.all(np.isfinite(p)):
            raise InvalidInstanceError("p0", f"must be a finite vector of length {n}")
    return y, u, p


def smallest_singular_value(A) -> float:
    """Return an estimate of the smallest singular value of a sparse square matrix.

    Dense SVD up to :data:`DENSE_SVD_LIMIT`; beyond, ARPACK on AᵀA shifted to zero, falling
    back to 0.0 when that factorisation fails too (the matrix is then numerically singular).
    """
    A = sp.csc_matrix(A)
    if A.shape[0] <= DENSE_SVD_LIMIT:
        return float(np.linalg.svd(A.toarray(), compute_uv=False)[-1])
    try:
        vals = spla.eigsh((A.T @ A).tocsc(), k=1, sigma=0.0, which="LM", return_eigenvectors=False)
        return float(np.sqrt(max(vals[0], 0.0)))
    except (RuntimeError, spla.ArpackError, spla.ArpackNoConvergence):
        return 0.0


def _ldl_solve(A, rhs):
    """Solve a symmetric system by QDLDL (AMD-ordered LDLᵀ; installed with cvxpy), or return None."""
    try:
        import qdldl
    except ImportError:  # pragma: no cover - qdldl comes with cvxpy
        return None
    try:
        return qdldl.Solver(sp.triu(A, format="csc")).solve(rhs)
    except (ValueError, RuntimeError):  # a zero pivot: not quasi-definite; LU takes over
        return None


def direct_solve(A, rhs, *, what: str = "KKT system", rtol: float = 1e-6, symmetric: bool = False) -> np.ndarray:
    """Return the solution of ``A d = rhs`` by a sparse direct factorisation, never a silent NaN.

    A symmetric ``A`` is tried first with QDLDL's LDLᵀ (about as fast as LU on these saddle
    points and half the memory); SuperLU's LU takes every other case and every LDLᵀ result
    whose residual is not within ``rtol``.

    Raises
    ------
    SolverError
        When SuperLU finds ``A`` singular, or the computed solution is not finite, or its
        relative residual exceeds ``rtol`` (ill-conditioning); the message carries an
        estimate of the smallest singular value of ``A``.
    """
    A = sp.csc_matrix(A)
    scale = max(np.linalg.norm(rhs), 1e-300)

    def acceptable(d):
        return d is not None and np.all(np.isfinite(d)) and np.linalg.norm(A @ d - rhs) <= rtol * scale

    d = _ldl_solve(A, rhs) if symmetric else None
    if acceptable(d):
        return d
    try:
        d = spla.splu(A).solve(rhs)
    except RuntimeError:  # SuperLU: "Factor is exactly singular"
        d = None
    if not acceptable(d):
        sigma = smallest_singular_value(A)
        norm = spla.norm(A, 1)
        raise SolverError(f"the {what} is singular or ill-conditioned: smallest singular value ≈ {sigma:.3e} "
                          f"(‖A‖₁ = {norm:.3e}, order {A.shape[0]})")
    return d


def iteration_record(problem: EllipticControl, k: int, y, u, p, **extra) -> dict:
    """Return one history row: iteration, relative KKT residual, objective, constraint residual, extras."""
    x = problem.join(y, u)
    row = {"iteration": int(k),
           "kkt_residual": problem.kkt_norm(y, u, p) / problem.kkt_scale,
           "objective": float(problem.evaluate(x)),
           "constraint_residual": float(np.max(problem.violation(x)))}
    row.update(extra)
    return row


def finish(problem: EllipticControl, y, u, p, *, method: str, run: Run, converged: bool, history: list,
           nit: int, info: dict | None = None) -> Result:
    """Return the Result of a PDE solver (re-scored by the problem).

    ``OPTIMAL`` only for a converged convex (linear-quadratic) instance; a converged
    nonconvex or non-smooth instance is a KKT point and reports ``FEASIBLE`` with
    ``info["converged"] = True``.
    """
    status = Status.OPTIMAL if converged and problem.is_linear_quadratic else None
    data = {"converged": bool(converged), "adjoint": np.asarray(p, dtype=float),
            "kkt_residual": problem.kkt_norm(y, u, p) / problem.kkt_scale}
    data.update(info or {})
    return make_result(problem, problem.join(y, u), method=method, run=run, status=status,
                       n_vars=3 * problem.n_nodes, nit=nit, history=history, info=data)
