"""Preconditioned Krylov solve of the (semismooth) Newton/KKT system, blocks by algebraic multigrid.

The 3n×3n Newton system of :meth:`EllipticControl.kkt_matrix`,
``[[H_yy, 0, A_yᵀ], [0, αM, −Mχ], [A_y, −M, 0]] (dy, du, dp) = −(F_y, F_u, F_c)``, has a
diagonal control row, which is eliminated exactly: ``du = −F_u/(αm) + (χ/α) dp``.  What is
left is the symmetric saddle-point system in (y, p)

    [[H_yy, A_yᵀ], [A_y, −Mχ/α]] (dy, dp) = −(F_y, F_c + F_u/α),

symmetric even with control bounds and the ℓ₁ term (χ, the inactive-set indicator of the
semismooth step, is diagonal); A_y = K + M diag N'(y) is symmetric positive definite.  It is
solved by MINRES (SciPy) with the block-diagonal preconditioner

    P = blkdiag(Ĥ, Ŝ),   Ŝ = (A_y + D) Ĥ⁻¹ (A_y + D),   D = diag(m √(χ ĥ / α)),

Ĥ = M diag(ĥ), ĥ = max(|1 + N''(y) p|, 10⁻²) (H_yy itself, its absolute value where the
semilinear term N''(y)p = 6yp makes it indefinite: flooring those entries instead left MINRES
hundreds of times slower at points where half of H_yy is negative).  This is the Schur-complement approximation of
Pearson & Wathen, "A new approximation of the Schur complement in preconditioners for
PDE-constrained optimization", Numer. Linear Algebra Appl. 19 (2012), with the
active-set extension D ∝ √χ of Porcelli, Simoncini & Tani, "Preconditioning of active-set
Newton methods for PDE-constrained optimal control problems", SIAM J. Sci. Comput. 37 (2015);
for H_yy = M and χ ≡ 1 the eigenvalues of Ŝ⁻¹S lie in [½, 1] independently of h and α.  The
block solver framework (MINRES, block-diagonal preconditioner, multigrid for the blocks) is
that of Rees, Dollar & Wathen, "Optimal solvers for PDE-constrained optimization", SIAM J.
Sci. Comput. 32 (2010).  Ŝ⁻¹ applies one algebraic-multigrid V-cycle (PyAMG classical
Ruge–Stüben, symmetric Gauss–Seidel smoothing, so the cycle is a fixed symmetric operator as
MINRES requires) to A_y + D twice, with Ĥ between.

Each Newton iteration sets up one AMG hierarchy; the system is solved to the relative
accuracy the Newton loop asks for (an inexact Newton forcing term), measured as the true
residual in the M⁻¹-norm of the full KKT system (the reduced residual *is* the full one, the
control row being solved exactly).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cutslack.errors import BackendUnavailableError, SolverError
from cutslack.problems.pde import EllipticControl

__all__ = ["KKTKrylov", "KrylovSolve", "H_FLOOR"]

#: lower bound on the ratio ĥ = |H_yy| / M used in the preconditioner (H_yy may be indefinite)
H_FLOOR = 1e-2


def _pyamg():
    try:
        import pyamg
    except ImportError:  # pragma: no cover - pyamg is a core dependency
        raise BackendUnavailableError("pyamg (algebraic multigrid)", "pip install pyamg") from None
    return pyamg


class KrylovSolve:
    """Outcome of one Krylov KKT solve: the direction, MINRES iterations and the relative true residual."""

    __slots__ = ("direction", "iterations", "residual", "cycles")

    def __init__(self, direction, iterations, residual, cycles):
        self.direction = direction
        self.iterations = int(iterations)
        self.residual = float(residual)
        self.cycles = int(cycles)


class KKTKrylov:
    """The Newton system at one point (y, u, p), solved by block-preconditioned MINRES with AMG.

    Parameters
    ----------
    problem : EllipticControl
    y, u, p : arrays
        The Newton iterate.
    """

    def __init__(self, problem: EllipticControl, y, u, p):
        pyamg = _pyamg()
        self.problem = problem
        m = problem.mass
        Ay, _ = problem.constraint_jacobian(y)
        _, chi = problem.optimal_control_map(p)
        hfac = 1.0 + problem.nonlinear_second_derivative(y) * p
        self.hyy = m * hfac
        self.chi_alpha = m * chi / problem.alpha
        self.Ay = Ay
        self.h_hat = m * np.maximum(np.abs(hfac), H_FLOOR)
        shifted = (Ay + sp.diags(m * np.sqrt(chi * np.maximum(np.abs(hfac), H_FLOOR) / problem.alpha))).tocsr()
        # forward Gauss-Seidel before, backward after: the V-cycle is a symmetric operator
        self.amg = pyamg.ruge_stuben_solver(shifted, max_coarse=500,
                                            presmoother=("gauss_seidel", {"sweep": "forward"}),
                                            postsmoother=("gauss_seidel", {"sweep": "backward"}))
        n = problem.n_nodes
        self.n = n
        self.minv = 1.0 / m
        self.operator = spla.LinearOperator((2 * n, 2 * n), matvec=self._matvec, dtype=float)
        self.preconditioner = spla.LinearOperator((2 * n, 2 * n), matvec=self._precondition, dtype=float)
        self.cycles = 0

    def _matvec(self, v):
        n = self.n
        vy, vp = v[:n], v[n:]
        return np.concatenate([self.hyy * vy + self.Ay.T @ vp, self.Ay @ vy - self.chi_alpha * vp])

    def _cycle(self, r):
        """One V-cycle from zero on (A_y + D) x = r (PyAMG's levels; its ``solve`` adds two
        residual evaluations per call that a preconditioner does not need)."""
        self.cycles += 1
        return self._vcycle(0, r)

    def _vcycle(self, lvl, b):
        levels = self.amg.levels
        level = levels[lvl]
        if lvl == len(levels) - 1:
            return np.asarray(self.amg.coarse_solver(level.A, b)).ravel()
        x = np.zeros_like(b)
        level.presmoother(level.A, x, b)
        x += level.P @ self._vcycle(lvl + 1, level.R @ (b - level.A @ x))
        level.postsmoother(level.A, x, b)
        return x

    def _precondition(self, r):
        n = self.n
        ry, rp = r[:n], r[n:]
        zp = self._cycle(self.h_hat * self._cycle(rp))
        return np.concatenate([ry / self.h_hat, zp])

    def _residual_norm(self, v, rhs) -> float:
        r = self._matvec(v) - rhs
        minv = np.tile(self.minv, 2)
        return float(np.sqrt(np.dot(r * minv, r)))

    def solve(self, F, rtol: float, *, maxiter: int = 500, restarts: int = 4) -> KrylovSolve:
        """Return the Newton direction for residual ``F`` with ‖J d + F‖_{M⁻¹} ≤ rtol·‖F‖_{M⁻¹}.

        MINRES stops on its preconditioned residual; the true residual is checked after
        and MINRES restarted from its answer with a tighter target while it is too large.

        Raises
        ------
        SolverError
            When the target is not met after ``restarts`` restarts (a singular or badly
            conditioned system).
        """
        n = self.n
        m, alpha = self.problem.mass, self.problem.alpha
        Fy, Fu, Fc = F[:n], F[n:2 * n], F[2 * n:]
        rhs = -np.concatenate([Fy, Fc + Fu / alpha])
        f_norm = float(np.sqrt(np.dot(F * np.tile(self.minv, 3), F)))
        target = rtol * f_norm
        x = np.zeros(2 * n)
        # MINRES measures its residual in the P⁻¹-norm, the target is in the M⁻¹-norm: aim lower
        iterations, inner_rtol, res = 0, 0.3 * rtol, np.inf
        for _ in range(restarts + 1):
            counter = {"k": 0}

            def count(_xk, counter=counter):
                counter["k"] += 1

            x, _info = spla.minres(self.operator, rhs, x0=x, M=self.preconditioner, rtol=inner_rtol,
                                   maxiter=maxiter, callback=count)
            iterations += counter["k"]
            res = self._residual_norm(x, rhs)
            if res <= target:
                break
            inner_rtol *= max(min(target / max(res, 1e-300), 0.5), 1e-3)
        else:
            raise SolverError(f"MINRES on the KKT system reached relative residual {res / f_norm:.2e}, "
                              f"not {rtol:.1e}, in {iterations} iterations")
        dy, dp = x[:n], x[n:]
        du = -Fu / (alpha * m) + self.chi_alpha / m * dp
        return KrylovSolve(np.concatenate([dy, du, dp]), iterations, res / max(f_norm, 1e-300), self.cycles)
