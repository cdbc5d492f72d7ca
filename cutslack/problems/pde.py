"""Elliptic optimal control: distributed control of a (semi)linear Poisson equation.

    minimise    J(y, u) = ½‖y − y_d‖² + α/2 ‖u‖² + β ‖u‖₁
    subject to  −Δy + N(y) = u + f   in Ω,    y = 0 on ∂Ω,    u_a ≤ u ≤ u_b,

with N(y) = 0 (``"linear"``), y³ (``"semilinear"``) or κ·max(0, y) (``"nonsmooth"``).

Discretisation
--------------
Both discretisations reduce to the same algebraic data on the n interior nodes, held by one
class, :class:`EllipticControl`:

* ``stiffness`` K (n×n, sparse SPD): the five-point stencil times h² on an N×N interior
  grid of the unit square (:func:`elliptic_control_fd`), or the P1 finite-element stiffness
  matrix assembled by scikit-fem on a triangle mesh (:func:`elliptic_control_fem`: an
  L-shaped domain by default, or the user's own mesh), restricted to the interior nodes;
* ``mass`` m (n,): lumped (diagonal) mass weights, h² on the grid and the row sums of the
  P1 mass matrix on a mesh.  Every discrete norm is mass-weighted, ``‖v‖² = Σ m_i v_i²``,
  and the nonlinearity is integrated by the same nodal quadrature.

The discrete state equation is ``c(y, u) = K y + M N(y) − M (u + f) = 0`` (M = diag(m)), and
on the grid ``M⁻¹c`` is exactly the five-point residual ``−Δ_h y + N(y) − u − f``.

Native solutions
----------------
A solution is one vector ``x = [y, u]`` of length 2n (state first, then control); a batch
is a 2-D array of such rows.  :meth:`EllipticControl.split` returns the two halves.

Feasibility of a continuous problem
-----------------------------------
:meth:`EllipticControl.violation` returns, per node, the pointwise residual of the discrete
state equation relative to the size of its right-hand side,
``|(M⁻¹c)_i| / (1 + ‖u + f‖_∞)``, followed by the violations of the control bounds.
``Result.feasible`` is therefore "constraint residual ≤ tolerance" (``make_result`` uses
``atol=1e-6``): a state that solves the discrete PDE for the returned control to six
relative digits, and a control inside its bounds to 1e-6.

Derivatives (used by every solver in :mod:`cutslack.solvers.pde`)
-----------------------------------------------------------------
With the Lagrangian ``ℒ = J + pᵀc``:

* full space: :meth:`~EllipticControl.lagrangian_gradient`,
  :meth:`~EllipticControl.lagrangian_hessian_vector`, :meth:`~EllipticControl.constraint_jacobian`,
  :meth:`~EllipticControl.kkt_residual` / :meth:`~EllipticControl.kkt_matrix` (the
  (generalised) Newton system in (y, u, p)), :meth:`~EllipticControl.kkt_norm`;
* reduced space (y = y(u) eliminated): :meth:`~EllipticControl.solve_state` (the cheap PDE
  solve), :meth:`~EllipticControl.solve_adjoint`, :meth:`~EllipticControl.reduced_objective`,
  :meth:`~EllipticControl.reduced_gradient`, :meth:`~EllipticControl.reduced_hessian_vector`;
* the two objectives of the multiobjective view: :meth:`~EllipticControl.objectives`
  (tracking term ½‖y − y_d‖², control cost ½‖u‖², and ‖u‖₁).

Control bounds and the ℓ₁ term enter the optimality system through the projection formula
``u = P_[u_a, u_b](shrink_β(p) / α)`` (shrink = soft thresholding), so the u-block of
:meth:`~EllipticControl.kkt_residual` is ``M(αu − α·P(shrink_β(p)/α))``; without bounds and
ℓ₁ term it is ``∇_uℒ = αMu − Mp``.  Its generalised derivative (semismooth Newton /
primal-dual active set) is what :meth:`~EllipticControl.kkt_matrix` returns.

Generators: :func:`elliptic_control_fd`, :func:`elliptic_control_fem`,
:func:`manufactured_control` (a linear case with a known analytic solution),
:func:`random_elliptic_control` (smooth random targets, for benchmark suites).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cutslack.config import check_memory
from cutslack.errors import BackendUnavailableError, InvalidInstanceError, SolverError
from cutslack.problems.base import KnownOptimum, Problem, as_rng, check_array

__all__ = ["EllipticControl", "elliptic_control_fd", "elliptic_control_fem", "manufactured_control",
           "random_elliptic_control", "NONLINEARITIES", "grid_laplacian"]

#: the state nonlinearities N(y)
NONLINEARITIES = ("linear", "semilinear", "nonsmooth")


def grid_laplacian(N: int) -> sp.csr_matrix:
    """Return h²·(−Δ_h), the five-point Laplacian on an N×N interior grid (x index fastest)."""
    T = sp.diags([-np.ones(N - 1), 2.0 * np.ones(N), -np.ones(N - 1)], [-1, 0, 1], format="csr")
    eye = sp.identity(N, format="csr")
    return (sp.kron(eye, T) + sp.kron(T, eye)).tocsr()


@dataclass(frozen=True, eq=False)
class EllipticControl(Problem):
    """A discretised elliptic optimal-control problem (see the module docstring for the model).

    Parameters
    ----------
    stiffness : (n, n) sparse matrix
        Symmetric positive definite stiffness matrix K on the interior nodes.
    mass : (n,) array
        Positive lumped mass weights m.
    target : (n,) array
        The desired state y_d at the interior nodes.
    alpha : float
        Control cost weight, > 0.
    nonlinearity : {"linear", "semilinear", "nonsmooth"}
        N(y) = 0, y³ or κ·max(0, y).
    kappa : float
        Coefficient κ ≥ 0 of the non-smooth nonlinearity.
    source : (n,) array, optional
        The fixed source f (zero when omitted).
    lower, upper : float or (n,) array, optional
        Box bounds on the control.
    beta : float
        Weight β ≥ 0 of the ℓ₁ term Σ m_i |u_i| (sparse control).
    nodes : (n, 2) array, optional
        Coordinates of the interior nodes (plots, analytic comparisons).
    name : str
    known_optimum : KnownOptimum, optional
    meta : dict
        Discretisation details (``"discretisation"``, ``"h"``, ``"N"``, the mesh).

    Examples
    --------
    >>> p = elliptic_control_fd(8, nonlinearity="semilinear")
    >>> x = np.zeros(p.n)
    >>> round(p.evaluate(x), 6) == round(p.objectives(x)[0], 6)
    True
    """

    stiffness: sp.spmatrix
    mass: np.ndarray
    target: np.ndarray
    alpha: float = 1e-2
    nonlinearity: str = "linear"
    kappa: float = 1.0
    source: np.ndarray | None = None
    lower: object = None
    upper: object = None
    beta: float = 0.0
    nodes: np.ndarray | None = None
    name: str = "elliptic-control"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)

    sense = "min"
    family = "pde"

    def __post_init__(self):
        if not sp.issparse(self.stiffness):
            try:
                K = sp.csr_matrix(np.asarray(self.stiffness, dtype=float))
            except (TypeError, ValueError) as exc:
                raise InvalidInstanceError("stiffness", f"must be a numeric matrix ({exc})") from None
        else:
            K = sp.csr_matrix(self.stiffness, dtype=float)
        if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] < 1:
            raise InvalidInstanceError("stiffness", f"must be a non-empty square matrix, got shape {K.shape}")
        if not np.all(np.isfinite(K.data)):
            raise InvalidInstanceError("stiffness", "contains NaN or infinite entries")
        if abs(K - K.T).max() > 1e-10 * max(1.0, abs(K).max()):
            raise InvalidInstanceError("stiffness", "must be symmetric")
        n = K.shape[0]
        m = check_array(self.mass, "mass", ndim=1, shape=(n,))
        if np.any(m <= 0):
            raise InvalidInstanceError("mass", "lumped mass weights must be positive")
        yd = check_array(self.target, "target", ndim=1, shape=(n,))
        f = check_array(np.zeros(n) if self.source is None else self.source, "source", ndim=1, shape=(n,))
        if not (np.isfinite(self.alpha) and self.alpha > 0):
            raise InvalidInstanceError("alpha", f"must be positive, got {self.alpha!r}")
        if self.nonlinearity not in NONLINEARITIES:
            raise InvalidInstanceError("nonlinearity", f"must be one of {NONLINEARITIES}, got {self.nonlinearity!r}")
        if not (np.isfinite(self.kappa) and self.kappa >= 0):
            raise InvalidInstanceError("kappa", f"must be non-negative, got {self.kappa!r}")
        if not (np.isfinite(self.beta) and self.beta >= 0):
            raise InvalidInstanceError("beta", f"must be non-negative, got {self.beta!r}")
        lo = None if self.lower is None else _bound(self.lower, "lower", n)
        hi = None if self.upper is None else _bound(self.upper, "upper", n)
        if lo is not None and hi is not None and np.any(lo > hi):
            raise InvalidInstanceError("lower", "must not exceed upper")
        if self.nodes is not None:
            object.__setattr__(self, "nodes", check_array(self.nodes, "nodes", ndim=2, shape=(n, 2)))
        K.sort_indices()
        object.__setattr__(self, "stiffness", K)
        object.__setattr__(self, "mass", m)
        object.__setattr__(self, "target", yd)
        object.__setattr__(self, "source", f)
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)
        object.__setattr__(self, "alpha", float(self.alpha))
        object.__setattr__(self, "kappa", float(self.kappa))
        object.__setattr__(self, "beta", float(self.beta))

    # ------------------------------------------------------------------ sizes and layout
    @property
    def n_nodes(self) -> int:
        """Number of interior nodes (unknowns per field)."""
        return self.stiffness.shape[0]

    @property
    def size(self) -> dict:
        return {"n": 2 * self.n_nodes, "nodes": self.n_nodes}

    @property
    def has_bounds(self) -> bool:
        return self.lower is not None or self.upper is not None

    @property
    def is_linear_quadratic(self) -> bool:
        """True for the linear state equation without ℓ₁ term (a convex QP, bounds allowed)."""
        return self.nonlinearity == "linear" and self.beta == 0.0

    def split(self, x):
        """Return ``(y, u)``: the state and control halves of ``x`` (or of each row of a batch)."""
        X = np.asarray(x, dtype=float)
        if X.shape[-1] != 2 * self.n_nodes or X.ndim > 2:
            raise ValueError(f"solution: expected length {2 * self.n_nodes} ([y, u]), got shape {X.shape}")
        n = self.n_nodes
        return X[..., :n], X[..., n:]

    def join(self, y, u) -> np.ndarray:
        """Return the native solution ``[y, u]``."""
        return np.concatenate([np.asarray(y, dtype=float), np.asarray(u, dtype=float)], axis=-1)

    # ------------------------------------------------------------------ the nonlinearity
    def nonlinear(self, y):
        """Return N(y) elementwise."""
        if self.nonlinearity == "semilinear":
            return y * y * y  # a product: NumPy's float power y ** 3 is several times slower
        if self.nonlinearity == "nonsmooth":
            return self.kappa * np.maximum(y, 0.0)
        return np.zeros_like(y)

    def nonlinear_derivative(self, y):
        """Return N'(y) elementwise (for max(0, y), the generalised derivative κ·[y > 0])."""
        if self.nonlinearity == "semilinear":
            return 3.0 * y ** 2
        if self.nonlinearity == "nonsmooth":
            return self.kappa * (y > 0).astype(float)
        return np.zeros_like(y)

    def nonlinear_second_derivative(self, y):
        """Return N''(y) elementwise (zero almost everywhere for the piecewise-linear case)."""
        if self.nonlinearity == "semilinear":
            return 6.0 * y
        return np.zeros_like(y)

    # ------------------------------------------------------------------ objective and constraint
    def objectives(self, x) -> tuple:
        """Return ``(tracking, control_cost, l1)``: ½‖y − y_d‖², ½‖u‖² and ‖u‖₁ (mass-weighted).

        Scalars for one solution, arrays for a batch.
        """
        y, u = self.split(x)
        tracking = 0.5 * ((y - self.target) ** 2) @ self.mass
        control = 0.5 * (u ** 2) @ self.mass
        l1 = np.abs(u) @ self.mass
        if np.ndim(tracking) == 0:
            return float(tracking), float(control), float(l1)
        return tracking, control, l1

    def evaluate(self, solution):
        """Return J(y, u) = tracking + α·control cost + β·‖u‖₁ (per row for a batch)."""
        tracking, control, l1 = self.objectives(solution)
        value = tracking + self.alpha * np.asarray(control) + self.beta * np.asarray(l1)
        return float(value) if np.ndim(value) == 0 else value

    def state_residual(self, y, u):
        """Return c(y, u) = K y + M N(y) − M (u + f) (mass-weighted, per row for a batch)."""
        y = np.asarray(y, dtype=float)
        u = np.asarray(u, dtype=float)
        Ky = (self.stiffness @ y.T).T
        return Ky + self.mass * (self.nonlinear(y) - u - self.source)

    def constraint_residual(self, x):
        """Return the pointwise residual M⁻¹c of the discrete state equation (−Δ_h y + N(y) − u − f on the grid)."""
        y, u = self.split(x)
        return self.state_residual(y, u) / self.mass

    def violation(self, solution):
        """Return, per node, ``|M⁻¹c| / (1 + ‖u + f‖_∞)``, then the control-bound violations.

        This is what ``is_feasible`` (and ``Result.feasible``) compare with the tolerance.
        """
        y, u = self.split(solution)
        res = np.abs(self.constraint_residual(solution))
        scale = 1.0 + np.max(np.abs(u + self.source), axis=-1, keepdims=True)
        parts = [res / scale]
        if self.lower is not None:
            parts.append(np.maximum(self.lower - u, 0.0))
        if self.upper is not None:
            parts.append(np.maximum(u - self.upper, 0.0))
        return np.concatenate(parts, axis=-1)

    # ------------------------------------------------------------------ full space (y, u, p)
    def constraint_jacobian(self, y) -> tuple:
        """Return ``(∂c/∂y, ∂c/∂u)`` = ``(K + M diag N'(y), −M)`` as sparse matrices."""
        Ay = (self.stiffness + sp.diags(self.mass * self.nonlinear_derivative(y))).tocsr()
        return Ay, sp.diags(-self.mass).tocsr()

    def lagrangian_gradient(self, y, u, p) -> tuple:
        """Return ``(∇_yℒ, ∇_uℒ)`` of ℒ = ½‖y−y_d‖² + α/2‖u‖² + pᵀc (the smooth part; no ℓ₁ term)."""
        gy = self.mass * (y - self.target) + self.stiffness.T @ p + self.mass * self.nonlinear_derivative(y) * p
        gu = self.alpha * self.mass * u - self.mass * p
        return gy, gu

    def lagrangian_hessian_vector(self, y, u, p, vy, vu) -> tuple:
        """Return ∇²ℒ·(v_y, v_u) = ``(M v_y + M diag(N''(y) p) v_y, αM v_u)``."""
        hy = self.mass * vy + self.mass * self.nonlinear_second_derivative(y) * p * vy
        return hy, self.alpha * self.mass * vu

    def lagrangian_hessian(self, y, p) -> sp.csr_matrix:
        """Return the (2n×2n) Hessian of ℒ in (y, u) as a sparse matrix."""
        hyy = self.mass * (1.0 + self.nonlinear_second_derivative(y) * p)
        return sp.diags(np.concatenate([hyy, self.alpha * self.mass])).tocsr()

    def optimal_control_map(self, p) -> tuple:
        """Return ``(u*(p), χ)``: u* = P_[u_a,u_b](shrink_β(p)/α) and the indicator χ of its inactive set.

        χ_i = 1 where u* depends on p_i (|p_i| > β and no bound active), the generalised
        derivative du*/dp = χ/α used by the semismooth Newton step.
        """
        shrunk = np.sign(p) * np.maximum(np.abs(p) - self.beta, 0.0) if self.beta > 0 else p
        u = shrunk / self.alpha
        chi = np.ones_like(p) if self.beta == 0 else (np.abs(p) > self.beta).astype(float)
        if self.lower is not None:
            chi = np.where(u < self.lower, 0.0, chi)
            u = np.maximum(u, self.lower)
        if self.upper is not None:
            chi = np.where(u > self.upper, 0.0, chi)
            u = np.minimum(u, self.upper)
        return u, chi

    def kkt_residual(self, y, u, p) -> np.ndarray:
        """Return the optimality residual F(y, u, p) = [∇_yℒ; αM(u − u*(p)); c] (length 3n).

        Without bounds and ℓ₁ term the middle block is ∇_uℒ = αMu − Mp, and F is the
        gradient of the Lagrangian in (y, u, p).
        """
        gy, _ = self.lagrangian_gradient(y, u, p)
        ustar, _ = self.optimal_control_map(p)
        gu = self.alpha * self.mass * (u - ustar)
        return np.concatenate([gy, gu, self.state_residual(y, u)])

    def kkt_matrix(self, y, u, p) -> sp.csc_matrix:
        """Return the (generalised) Jacobian of :meth:`kkt_residual`: the 3n×3n Newton/KKT matrix.

        ``[[H_yy, 0, A_yᵀ], [0, αM, −Mχ], [A_y, −M, 0]]`` with ``A_y = K + M diag N'(y)``;
        symmetric when χ ≡ 1 (no bounds, no ℓ₁ term).
        """
        Ay, Au = self.constraint_jacobian(y)
        Hyy = sp.diags(self.mass * (1.0 + self.nonlinear_second_derivative(y) * p))
        _, chi = self.optimal_control_map(p)
        Huu = sp.diags(self.alpha * self.mass)
        Cup = sp.diags(-self.mass * chi)
        return sp.bmat([[Hyy, None, Ay.T], [None, Huu, Cup], [Ay, Au, None]], format="csc")

    def kkt_norm(self, y, u, p) -> float:
        """Return the discrete L2 norm of the strong-form KKT residual, ``sqrt(Σ_blocks F_bᵀ M⁻¹ F_b)``."""
        F = self.kkt_residual(y, u, p)
        n = self.n_nodes
        minv = np.tile(1.0 / self.mass, 3)
        return float(np.sqrt(np.dot(F * minv, F))) if F.shape[0] == 3 * n else float("nan")

    @functools.cached_property
    def kkt_scale(self) -> float:
        """The KKT norm at the origin (y, u, p) = 0: the reference for relative KKT residuals."""
        z = np.zeros(self.n_nodes)
        return max(self.kkt_norm(z, z, z), 1e-300)

    # ------------------------------------------------------------------ reduced space (u only)
    @functools.cached_property
    def _stiffness_lu(self):
        return spla.splu(self.stiffness.tocsc())

    def solve_state(self, u, *, y0=None, tol: float = 1e-12, maxiter: int = 50) -> np.ndarray:
        """Return the state y(u) solving K y + M N(y) = M (u + f) (the PDE solve).

        Linear: one solve with the cached sparse LU of K.  Semilinear and non-smooth:
        (semismooth) Newton from ``y0`` with backtracking on the residual norm, stopping at
        relative residual ``tol``.  The operator is monotone (N' ≥ 0), so the solution is unique.

        Raises
        ------
        SolverError
            When Newton does not reach ``tol`` in ``maxiter`` steps.
        """
        u = np.asarray(u, dtype=float)
        rhs = self.mass * (u + self.source)
        if self.nonlinearity == "linear":
            return self._stiffness_lu.solve(rhs)
        y = self._stiffness_lu.solve(rhs) if y0 is None else np.array(y0, dtype=float)
        scale = max(np.linalg.norm(rhs), 1e-300)
        r = self.state_residual(y, u)
        for _ in range(maxiter):
            rn = np.linalg.norm(r)
            if rn <= tol * scale:
                return y
            Ay, _ = self.constraint_jacobian(y)
            dy = spla.spsolve(Ay.tocsc(), -r)
            step = 1.0
            while True:
                y_new = y + step * dy
                r_new = self.state_residual(y_new, u)
                if np.linalg.norm(r_new) <= (1 - 1e-4 * step) * rn or step < 1e-8:
                    break
                step *= 0.5
            y, r = y_new, r_new
        if np.linalg.norm(r) <= tol * scale * 1e3:
            return y
        raise SolverError(f"state equation: Newton did not converge in {maxiter} steps "
                          f"(relative residual {np.linalg.norm(r) / scale:.2e})")

    def solve_adjoint(self, y) -> np.ndarray:
        """Return the adjoint p solving (K + M diag N'(y))ᵀ p = −M (y − y_d)."""
        Ay, _ = self.constraint_jacobian(y)
        rhs = -self.mass * (y - self.target)
        if self.nonlinearity == "linear":
            return self._stiffness_lu.solve(rhs, trans="T")
        return spla.spsolve(Ay.T.tocsc(), rhs)

    def reduced_objective(self, u, *, y0=None) -> tuple:
        """Return ``(j(u), y(u))``: the smooth reduced objective (no ℓ₁ term) and the state."""
        y = self.solve_state(u, y0=y0)
        tracking = 0.5 * ((y - self.target) ** 2) @ self.mass
        return float(tracking + 0.5 * self.alpha * (u ** 2) @ self.mass), y

    def reduced_gradient(self, u, *, y0=None) -> tuple:
        """Return ``(j(u), ∇j(u), y, p)`` with ∇j = αMu − Mp (adjoint method; no ℓ₁ term)."""
        j, y = self.reduced_objective(u, y0=y0)
        p = self.solve_adjoint(y)
        return j, self.alpha * self.mass * u - self.mass * p, y, p

    def reduced_hessian_vector(self, u, v, *, y=None, p=None) -> np.ndarray:
        """Return ∇²j(u)·v by the second-order adjoint (two linearised PDE solves)."""
        if y is None:
            y = self.solve_state(u)
        if p is None:
            p = self.solve_adjoint(y)
        Ay, _ = self.constraint_jacobian(y)
        lu = spla.splu(Ay.tocsc())
        dy = lu.solve(self.mass * v)
        w = self.mass * dy + self.mass * self.nonlinear_second_derivative(y) * p * dy
        dp = lu.solve(-w, trans="T")
        return self.alpha * self.mass * v - self.mass * dp


def _bound(value, field_name, n):
    """Return a control bound as a finite (n,) array (a scalar is broadcast)."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(field_name, f"must be numeric ({exc})") from None
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    return check_array(arr, field_name, ndim=1, shape=(n,))


def _nodal(value, field_name, nodes, shape_hint):
    """Evaluate ``value`` (None, scalar, callable f(x1, x2) or array) at the interior nodes."""
    n = nodes.shape[0]
    if value is None:
        return np.zeros(n)
    if callable(value):
        try:
            out = np.asarray(value(nodes[:, 0], nodes[:, 1]), dtype=float)
        except Exception as exc:  # noqa: BLE001 - a user's function failing is an instance error
            raise InvalidInstanceError(field_name, f"evaluating the given function failed: {exc}") from None
        out = np.broadcast_to(out, (n,)) if out.ndim == 0 else out
        return check_array(np.array(out), field_name, ndim=1, shape=(n,))
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if shape_hint is not None and arr.shape == shape_hint:
        arr = arr.reshape(-1)
    if arr.shape != (n,):
        want = f"({n},)" + (f" or {shape_hint}" if shape_hint is not None else "")
        raise InvalidInstanceError(field_name, f"must have shape {want} (one value per interior node), "
                                               f"got {arr.shape}")
    return check_array(arr, field_name, ndim=1, shape=(n,))


def default_target(x1, x2):
    """The default desired state: a smooth field with both signs (so max(0, y) is active on part of Ω)."""
    return 10.0 * np.sin(2 * np.pi * x1) * np.sin(np.pi * x2) * np.exp(x1)


#: bytes per interior node that building an instance takes (sparse stiffness, coordinates, vectors)
PDE_BYTES_PER_NODE = 400.0


def elliptic_control_fd(N: int, *, target=None, alpha: float = 1e-2, nonlinearity: str = "linear",
                        kappa: float = 10.0, source=None, lower=None, upper=None, beta: float = 0.0,
                        name: str | None = None) -> EllipticControl:
    """Return the control problem on the unit square, five-point differences on an N×N interior grid.

    Parameters
    ----------
    N : int
        Interior grid points per direction (h = 1/(N+1)); at least 3.
    target, source : callable ``f(x1, x2)``, scalar, (N, N) or (N²,) array, optional
        Desired state y_d (default :func:`default_target`) and source f (default 0).
        Arrays are indexed ``[j, i]`` = value at ``(x1_i, x2_j)`` (x1 fastest when flattened).
    alpha, nonlinearity, kappa, lower, upper, beta
        As in :class:`EllipticControl`.

    Raises
    ------
    InvalidInstanceError
        N < 3, α ≤ 0, a target or source of the wrong shape, an unknown nonlinearity.
    """
    if not isinstance(N, (int, np.integer)) or N < 3:
        raise InvalidInstanceError("N", f"the grid needs at least 3 interior points per direction, got {N!r}")
    N = int(N)
    # the five-point Laplacian (CSR, 5 entries a node), node coordinates, meshgrids and the nodal vectors
    check_memory("elliptic_control_fd (grid of N x N interior nodes)", f"N={N}", PDE_BYTES_PER_NODE * N * N)
    h = 1.0 / (N + 1)
    g = np.arange(1, N + 1) * h
    X1, X2 = np.meshgrid(g, g, indexing="xy")
    nodes = np.column_stack([X1.ravel(), X2.ravel()])
    yd = _nodal(default_target if target is None else target, "target", nodes, (N, N))
    f = _nodal(source, "source", nodes, (N, N))
    return EllipticControl(grid_laplacian(N), np.full(N * N, h * h), yd, alpha=alpha, nonlinearity=nonlinearity,
                           kappa=kappa, source=f, lower=lower, upper=upper, beta=beta, nodes=nodes,
                           name=name or f"pde-fd-{nonlinearity}-N{N}",
                           meta={"discretisation": "fd", "N": N, "h": h})


def _skfem():
    try:
        import skfem
    except ImportError:  # pragma: no cover - scikit-fem is a core dependency
        raise BackendUnavailableError("scikit-fem (P1 finite elements)", "pip install scikit-fem") from None
    return skfem


def _as_mesh(mesh, skfem):
    """Return a validated skfem MeshTri from a MeshTri or a ``(points, triangles)`` pair."""
    if isinstance(mesh, skfem.MeshTri):
        p, t = np.asarray(mesh.p, dtype=float), np.asarray(mesh.t)
    else:
        try:
            points, triangles = mesh
        except (TypeError, ValueError):
            raise InvalidInstanceError("mesh", "must be a skfem.MeshTri or a (points, triangles) pair") from None
        p = np.asarray(points, dtype=float)
        t = np.asarray(triangles)
        if p.ndim == 2 and p.shape[1] == 2 and p.shape[0] != 2:
            p = p.T
        if t.ndim == 2 and t.shape[1] == 3 and t.shape[0] != 3:
            t = t.T
    if p.ndim != 2 or p.shape[0] != 2 or p.shape[1] < 3:
        raise InvalidInstanceError("mesh", f"points must be (2, P) or (P, 2) with P >= 3, got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise InvalidInstanceError("mesh", "points contain NaN or infinite coordinates")
    if t.ndim != 2 or t.shape[0] != 3 or t.shape[1] < 1 or t.dtype.kind not in "iu":
        raise InvalidInstanceError("mesh", f"triangles must be an integer (3, T) or (T, 3) array, got {t.shape}")
    if t.min() < 0 or t.max() >= p.shape[1]:
        raise InvalidInstanceError("mesh", "a triangle refers to a point that does not exist")
    unused = np.setdiff1d(np.arange(p.shape[1]), t.ravel())
    if unused.size:
        raise InvalidInstanceError("mesh", f"point {int(unused[0])} belongs to no triangle")
    a, b, c = p[:, t[0]], p[:, t[1]], p[:, t[2]]
    area = 0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
    diam = np.ptp(p, axis=1).max()
    if diam <= 0 or np.any(np.abs(area) <= 1e-12 * diam ** 2):
        k = int(np.argmin(np.abs(area)))
        raise InvalidInstanceError("mesh", f"degenerate triangle {k} (area {abs(area[k]):.3g})")
    _, counts = np.unique(np.round(p.T / (diam * 1e-12)), axis=0, return_counts=True)
    if np.any(counts > 1):
        raise InvalidInstanceError("mesh", "two points coincide")
    t = np.where(area < 0, t[[0, 2, 1]], t)  # orient every triangle counter-clockwise
    return skfem.MeshTri(p, t.astype(np.int64))


def elliptic_control_fem(mesh=None, *, refine: int = 3, target=None, alpha: float = 1e-2,
                         nonlinearity: str = "linear", kappa: float = 10.0, source=None, lower=None,
                         upper=None, beta: float = 0.0, name: str | None = None) -> EllipticControl:
    """Return the control problem discretised by P1 finite elements (scikit-fem) on a triangle mesh.

    Parameters
    ----------
    mesh : skfem.MeshTri or (points, triangles), optional
        The user's mesh (points (2, P) or (P, 2), triangles (3, T) or (T, 3)); homogeneous
        Dirichlet data on its boundary nodes.  Default: the L-shaped domain
        (−1, 1)² ∖ [0, 1)² of ``skfem.MeshTri.init_lshaped``, refined ``refine`` times.
    target, source : callable ``f(x1, x2)``, scalar or (n,) array over the interior nodes
    alpha, nonlinearity, kappa, lower, upper, beta
        As in :class:`EllipticControl`.

    Raises
    ------
    InvalidInstanceError
        A degenerate mesh (a zero-area triangle, coincident points, no interior node), α ≤ 0,
        a target of the wrong shape.
    """
    skfem = _skfem()
    from skfem.models.poisson import laplace, mass as mass_form

    if mesh is None:
        if refine < 0 or refine > 8:
            raise InvalidInstanceError("refine", f"must lie in 0..8, got {refine}")
        m = skfem.MeshTri.init_lshaped().refined(int(refine))
        default_name = f"pde-fem-lshape-r{refine}-{nonlinearity}"
    else:
        m = _as_mesh(mesh, skfem)
        default_name = f"pde-fem-mesh{m.p.shape[1]}-{nonlinearity}"
    basis = skfem.Basis(m, skfem.ElementTriP1())
    interior = basis.complement_dofs(basis.get_dofs())
    if interior.size == 0:
        raise InvalidInstanceError("mesh", "has no interior node (every node is on the boundary)")
    K = skfem.asm(laplace, basis).tocsr()[interior][:, interior]
    lumped = np.asarray(skfem.asm(mass_form, basis).sum(axis=1)).ravel()[interior]
    nodes = m.p[:, interior].T.copy()
    yd = _nodal(default_target if target is None else target, "target", nodes, None)
    f = _nodal(source, "source", nodes, None)
    h = float(np.max(np.linalg.norm(m.p[:, m.facets[0]] - m.p[:, m.facets[1]], axis=0)))
    return EllipticControl(K, lumped, yd, alpha=alpha, nonlinearity=nonlinearity, kappa=kappa, source=f,
                           lower=lower, upper=upper, beta=beta, nodes=nodes, name=name or default_name,
                           meta={"discretisation": "fem", "h": h, "mesh": m, "interior": interior})


def manufactured_control(N: int, *, alpha: float = 1e-2, discretisation: str = "fd") -> tuple:
    """Return ``(problem, exact)``: a linear problem on the unit square with a known analytic optimum.

    The optimality system −Δy = u + f, −Δp = y_d − y, αu = p is solved by
    y = sin(πx₁) sin(πx₂), p = α sin(2πx₁) sin(πx₂), u = p/α, with
    f = 2π² y − u and y_d = y + 5π²α sin(2πx₁) sin(πx₂).  ``exact`` holds y, u, p at the
    interior nodes; the discrete optimum approaches them as O(h²).

    ``discretisation="fem"`` uses a structured triangulation of the unit square with N
    interior nodes per direction (P1 elements, lumped mass).
    """
    def y_ex(a, b):
        return np.sin(np.pi * a) * np.sin(np.pi * b)

    def p_ex(a, b):
        return alpha * np.sin(2 * np.pi * a) * np.sin(np.pi * b)

    def target(a, b):
        return y_ex(a, b) + 5 * np.pi ** 2 * p_ex(a, b)

    def source(a, b):
        return 2 * np.pi ** 2 * y_ex(a, b) - p_ex(a, b) / alpha

    if discretisation == "fd":
        prob = elliptic_control_fd(N, target=target, source=source, alpha=alpha, name=f"pde-manufactured-fd-N{N}")
    elif discretisation == "fem":
        if not isinstance(N, (int, np.integer)) or N < 3:
            raise InvalidInstanceError("N", f"the grid needs at least 3 interior points per direction, got {N!r}")
        skfem = _skfem()
        g = np.linspace(0.0, 1.0, N + 2)
        prob = elliptic_control_fem(skfem.MeshTri.init_tensor(g, g), target=target, source=source, alpha=alpha,
                                    name=f"pde-manufactured-fem-N{N}")
    else:
        raise ValueError(f"discretisation must be 'fd' or 'fem', got {discretisation!r}")
    a, b = prob.nodes[:, 0], prob.nodes[:, 1]
    exact = {"y": y_ex(a, b), "p": p_ex(a, b), "u": p_ex(a, b) / alpha}
    return prob, exact


def random_elliptic_control(N: int = 16, *, nonlinearity: str = "semilinear", alpha: float = 1e-2,
                            bounded: bool = False, modes: int = 4, rng=None) -> EllipticControl:
    """Return a grid problem whose target is a random smooth field (a few sine modes).

    ``y_d = Σ_{k,l ≤ modes} a_kl sin(kπx₁) sin(lπx₂) / (k² + l²)`` with ``a_kl ~ N(0, 10²)``;
    ``bounded=True`` adds the control bounds ``−20 ≤ u ≤ 20`` (active for most targets).
    """
    g = as_rng(rng)
    if modes < 1:
        raise InvalidInstanceError("modes", f"must be at least 1, got {modes}")
    coef = g.normal(0.0, 10.0, size=(modes, modes))

    def target(a, b):
        out = np.zeros_like(a)
        for k in range(modes):
            for l in range(modes):
                out += coef[k, l] * np.sin((k + 1) * np.pi * a) * np.sin((l + 1) * np.pi * b) / ((k + 1) ** 2 + (l + 1) ** 2)
        return out

    lo, hi = (-20.0, 20.0) if bounded else (None, None)
    return elliptic_control_fd(N, target=target, alpha=alpha, nonlinearity=nonlinearity, lower=lo, upper=hi,
                               name=f"pde-random-{nonlinearity}-N{N}" + ("-box" if bounded else ""))
