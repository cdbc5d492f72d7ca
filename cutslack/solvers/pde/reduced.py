"""Reduced-space methods: L-BFGS-B on the adjoint gradient (``method="reduced-lbfgs"``) and the
cvxpy reference for the linear-quadratic case (``method="pde-cvxpy"``).

``reduced-lbfgs`` eliminates the state, y = y(u) (one PDE solve per evaluation, warm-started
Newton for the nonlinear states), and hands j(u) and ∇j(u) = αMu − Mp (one adjoint solve)
to SciPy's L-BFGS-B, whose native box constraints take the control bounds.  The ℓ₁ term
is not smooth, so β > 0 is refused (use ``newton-kkt``).

``pde-cvxpy`` states the linear-quadratic problem (linear state equation, bounds and ℓ₁
term allowed) as a convex QP in (y, u) for cvxpy (Clarabel by default) — a cross-check of
the Newton methods at small sizes, not a fast solver.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.optimize as so

from cutslack.api import Run, register_solver
from cutslack.errors import ProblemTooLargeError, SolverError
from cutslack.problems.pde import EllipticControl
from cutslack.result import Result
from cutslack.solvers.pde.common import finish, iteration_record, start_point

__all__ = ["reduced_lbfgs", "pde_cvxpy", "CVXPY_MAX_NODES"]

#: the cvxpy reference refuses larger grids (it is a cross-check, not a production path)
CVXPY_MAX_NODES = 20_000


@register_solver("reduced-lbfgs", accepts=(EllipticControl,),
                 description="L-BFGS-B on the reduced objective with adjoint gradients (bounds native)")
def reduced_lbfgs(problem: EllipticControl, *, rng=None, time_limit=None, callback=None, tol: float = 1e-8,
                  maxiter: int = 2000, memory: int = 20, x0=None) -> Result:
    """Return the control minimising the reduced objective j(u) = J(y(u), u) by L-BFGS-B.

    Stops when the projected gradient, measured in the M⁻¹-norm relative to its value at
    the start, falls below ``tol`` (SciPy's ``pgtol`` is set accordingly), or after
    ``maxiter`` iterations.  History rows: relative KKT residual (with p the adjoint of the
    current control), objective, constraint residual, and gradient evaluations.
    """
    if problem.beta > 0:
        raise SolverError("reduced-lbfgs needs a smooth objective; the l1 term (beta > 0) is handled by newton-kkt")
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    _, u0, _ = start_point(problem, x0)
    state = {"y": None, "p": None, "u": None, "evals": 0, "best": None, "eval_seconds": 0.0}
    history = []

    class _Deadline(Exception):
        """Raised inside an evaluation once the time limit has passed (L-BFGS-B's line search can
        evaluate many times between two callbacks, each a PDE solve)."""

    def out_of_time() -> bool:
        # no evaluation is started that would end past the deadline together with the final
        # state and adjoint solves (about one more evaluation)
        if run.deadline is not None and run.time_left() < 2.0 * state["eval_seconds"]:
            run.timed_out = True
        return run.expired()

    def fun(u):
        if state["best"] is not None and out_of_time():
            raise _Deadline
        started = time.perf_counter()
        j, g, y, p = problem.reduced_gradient(u, y0=state["y"])
        state.update(y=y, p=p, u=u.copy(), evals=state["evals"] + 1, eval_seconds=time.perf_counter() - started)
        if state["best"] is None or j < state["best"][0]:
            state["best"] = (j, u.copy())
        return j, g

    j0, g0 = fun(u0)
    scale = max(np.max(np.abs(g0) / problem.mass), 1e-300)
    mass_min = float(problem.mass.min())
    bounds = None
    if problem.has_bounds:
        lo = problem.lower if problem.lower is not None else np.full(problem.n_nodes, -np.inf)
        hi = problem.upper if problem.upper is not None else np.full(problem.n_nodes, np.inf)
        bounds = so.Bounds(lo, hi)
        u0 = np.clip(u0, lo, hi)

    def record(u):
        y = state["y"] if state["u"] is not None and np.array_equal(state["u"], u) else problem.solve_state(u)
        p = problem.solve_adjoint(y)
        history.append(iteration_record(problem, len(history), y, u, p, evaluations=state["evals"]))
        return y, p

    def cb(intermediate_result):
        u = intermediate_result.x
        y, p = record(u)
        if out_of_time():
            raise StopIteration
        if run.report(finish(problem, y, u, p, method="reduced-lbfgs", run=run, converged=False,
                             history=history, nit=len(history))):
            raise StopIteration

    record(u0)
    try:
        res = so.minimize(fun, u0, jac=True, method="L-BFGS-B", bounds=bounds, callback=cb,
                          options={"maxiter": maxiter, "maxcor": memory, "ftol": 1e-16,
                                   "gtol": tol * scale * mass_min, "maxfun": 10 * maxiter})
        u, nit, message, success = res.x, int(res.nit), str(res.message), bool(res.success)
    except _Deadline:
        u, nit, message, success = state["best"][1], len(history), "time limit reached inside a line search", False
    y, p = record(u)
    converged = success and not run.stopped and not run.timed_out
    return finish(problem, y, u, p, method="reduced-lbfgs", run=run, converged=converged, history=history,
                  nit=nit, info={"message": message, "evaluations": state["evals"]})


@register_solver("pde-cvxpy", accepts=(EllipticControl,),
                 description="cvxpy QP reference for the linear-quadratic control problem (small grids)")
def pde_cvxpy(problem: EllipticControl, *, rng=None, time_limit=None, callback=None, solver: str = "CLARABEL",
              eps: float = 1e-10) -> Result:
    """Return the optimum of the linear-quadratic control problem from cvxpy (a cross-check).

    The QP ``min ½Σm(y−y_d)² + α/2 Σm u² + βΣm|u|  s.t.  K y − M u = M f, u_a ≤ u ≤ u_b``.
    The adjoint p is read from the equality constraint's dual values.  Refuses nonlinear
    states (:class:`SolverError`) and more than :data:`CVXPY_MAX_NODES` nodes.
    """
    if problem.nonlinearity != "linear":
        raise SolverError(f"pde-cvxpy takes the linear state equation only (this one is {problem.nonlinearity!r})")
    n = problem.n_nodes
    if n > CVXPY_MAX_NODES:
        raise ProblemTooLargeError("pde-cvxpy reference (interior nodes)", n, CVXPY_MAX_NODES)
    import cvxpy as cp

    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    m = problem.mass
    y, u = cp.Variable(n), cp.Variable(n)
    sq = np.sqrt(m)
    objective = 0.5 * cp.sum_squares(cp.multiply(sq, y - problem.target)) \
        + 0.5 * problem.alpha * cp.sum_squares(cp.multiply(sq, u))
    if problem.beta > 0:
        objective = objective + problem.beta * cp.sum(cp.multiply(m, cp.abs(u)))
    state = problem.stiffness @ y - cp.multiply(m, u) == m * problem.source
    cons = [state]
    if problem.lower is not None:
        cons.append(u >= problem.lower)
    if problem.upper is not None:
        cons.append(u <= problem.upper)
    qp = cp.Problem(cp.Minimize(objective), cons)
    options = {}
    if solver.upper() == "CLARABEL":
        options = {"tol_gap_abs": eps, "tol_gap_rel": eps, "tol_feas": eps}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
    try:
        qp.solve(solver=solver.upper(), **options)
    except cp.error.SolverError as exc:
        raise SolverError(f"pde-cvxpy: {solver} failed: {exc}") from None
    if y.value is None:
        raise SolverError(f"pde-cvxpy: {solver} returned no solution (status {qp.status})")
    # cvxpy's dual value of "K y − M u = M f" is p of ℒ = J + pᵀ(K y − M u − M f)
    p = np.asarray(state.dual_value, dtype=float) if state.dual_value is not None else np.zeros(n)
    yv, uv = np.asarray(y.value, dtype=float), np.asarray(u.value, dtype=float)
    history = [iteration_record(problem, 0, yv, uv, p)]
    return finish(problem, yv, uv, p, method="pde-cvxpy", run=run, converged=qp.status == cp.OPTIMAL,
                  history=history, nit=int(qp.solver_stats.num_iters or 0),
                  info={"cvxpy_status": qp.status, "solver": solver.upper()})
