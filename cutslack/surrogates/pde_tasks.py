"""The PDE-control problem (:class:`~cutslack.problems.pde.EllipticControl`) as a surrogate task.

Three views of one elliptic control problem ``min ½‖y(u) − y_d‖² + α/2 ‖u‖²``:

* **Pareto** (for MAP): :func:`pde_objectives` ``u -> (tracking, control cost)`` (one PDE
  solve per evaluation) and :func:`pde_scalarised_solver` ``w -> u(w)`` minimising
  ``w·tracking + (1 − w)·cost`` by L-BFGS on the reduced objective (adjoint gradients; it
  counts the PDE solves it uses);
* **target space** (for SSO): :func:`pde_target_problem` — a smooth low-dimensional
  parameterisation ``u = B θ`` (sine modes on the grid: cheap), with the control ``u`` as the
  target and the reduced gradient (a state and an adjoint PDE solve) as the expensive oracle;
* **offline** (for IGNITE): :func:`pde_offline_objective` ``θ -> −j(B θ)`` (maximised).

Only grid problems (``meta["discretisation"] == "fd"``) get the sine basis.  The functions
use the problem's own methods (``solve_state``, ``reduced_gradient``, ``objectives``) and
import nothing from :mod:`cutslack.problems.pde`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import minimize

from cutslack.errors import InvalidInstanceError, SolverError
from cutslack.surrogates.sso import TargetProblem

__all__ = ["sine_basis", "pde_objectives", "pde_scalarised_solver", "pde_target_problem", "pde_offline_objective",
           "SolveCounter"]


class SolveCounter:
    """Counts PDE solves (state and adjoint) made through the wrappers of this module."""

    def __init__(self):
        self.solves = 0


def sine_basis(problem, modes: int) -> np.ndarray:
    """Return the ``(n, modes²)`` basis ``sin(kπx₁) sin(lπx₂)`` at the problem's interior nodes."""
    if problem.nodes is None:
        raise InvalidInstanceError("nodes", "the sine parameterisation needs the problem's node coordinates")
    if int(modes) < 1:
        raise InvalidInstanceError("modes", "must be at least 1")
    x1, x2 = problem.nodes[:, 0], problem.nodes[:, 1]
    cols = [np.sin(k * np.pi * x1) * np.sin(l * np.pi * x2) for k in range(1, modes + 1) for l in range(1, modes + 1)]
    return np.stack(cols, axis=1)


def pde_objectives(problem, counter: SolveCounter | None = None):
    """Return ``u -> (tracking, control cost)``: one state solve per call."""

    def objectives(u):
        u = np.asarray(u, dtype=float)
        y = problem.solve_state(u)
        if counter is not None:
            counter.solves += 1
        tracking, control, _ = problem.objectives(np.concatenate([y, u]))
        return tracking, control

    return objectives


def pde_scalarised_solver(problem, counter: SolveCounter | None = None, *, gtol: float = 1e-10, maxiter: int = 500):
    """Return ``w -> u(w)`` minimising ``w·tracking + (1 − w)·control cost`` (``0 < w ≤ 1``, smooth problems).

    It is the problem with ``α = (1 − w)/w`` (the objective divided by ``w``), solved by
    L-BFGS on the reduced objective with adjoint gradients, warm-started from the previous
    solution; ``counter`` collects the PDE solves (two per gradient).
    """
    if problem.beta != 0 or problem.lower is not None or problem.upper is not None:
        raise SolverError("the scalarised PDE solver here takes smooth problems (no l1 term, no control bounds)")
    state = {"u": np.zeros(problem.n_nodes)}

    def solve(w):
        if not 0 < w <= 1:
            raise InvalidInstanceError("w", f"the weight of the tracking term must lie in (0, 1], got {w}")
        p = dataclasses.replace(problem, alpha=max((1 - w) / w, 1e-14))

        def fun(u):
            j, g, _, _ = p.reduced_gradient(u)
            if counter is not None:
                counter.solves += 2
            return j, g

        res = minimize(fun, state["u"], jac=True, method="L-BFGS-B", options={"gtol": gtol, "maxiter": maxiter})
        state["u"] = res.x
        return res.x

    return solve


def pde_target_problem(problem, modes: int = 4, *, counter: SolveCounter | None = None) -> TargetProblem:
    """Return the SSO view: ``θ`` sine coefficients, target ``u = B θ``, loss the reduced objective ``j(u)``.

    The expensive oracle ``(j, ∇j)`` is one state and one adjoint solve; ``smoothness`` is the
    largest eigenvalue of the reduced Hessian at ``u = 0`` and ``parameter_smoothness`` that of
    ``BᵀHB`` (power iterations, 30 Hessian-vector products each, not counted as oracle calls;
    exact bounds for the linear problem, local ones for the semilinear).
    """
    B = sine_basis(problem, modes)

    def model(theta, idx):
        return B @ theta

    def model_vjp(theta, idx, v):
        return B.T @ v

    def loss(u, idx):
        return problem.reduced_objective(u)[0]

    def loss_and_grad(u, idx):
        j, g, _, _ = problem.reduced_gradient(u)
        if counter is not None:
            counter.solves += 2
        return j, g

    u0 = np.zeros(problem.n_nodes)

    def top_eigenvalue(apply, size):
        v = np.random.default_rng(0).normal(size=size)
        lam = 1.0
        for _ in range(30):
            hv = apply(v)
            lam = float(np.linalg.norm(hv) / np.linalg.norm(v))
            v = hv / np.linalg.norm(hv)
        return lam

    lam_u = top_eigenvalue(lambda v: problem.reduced_hessian_vector(u0, v), problem.n_nodes)
    lam_theta = top_eigenvalue(lambda t: B.T @ problem.reduced_hessian_vector(u0, B @ t), B.shape[1])
    # the mean-loss convention of TargetProblem: eta = b / smoothness with b = 1 (one "example")
    return TargetProblem(model, model_vjp, loss_and_grad, loss, lam_u, 1, np.zeros(B.shape[1]), f"{problem.name}-sso",
                         parameter_smoothness=lam_theta)


def pde_offline_objective(problem, modes: int = 3):
    """Return ``(objective, dimension)``: ``θ -> −j(B θ)`` per row (maximised), one state solve each."""
    B = sine_basis(problem, modes)

    def objective(Theta):
        Theta = np.atleast_2d(Theta)
        return np.array([-problem.reduced_objective(B @ t)[0] for t in Theta])

    return objective, B.shape[1]
