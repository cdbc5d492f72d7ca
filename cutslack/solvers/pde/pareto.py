"""Pareto fronts of the control problem: tracking against control cost (or against ‖u‖₁).

Two objectives, both minimised:

* ``cost="control"``: f₁ = ½‖y − y_d‖² (tracking), f₂ = ½‖u‖² (control cost); the weight is α;
* ``cost="l1"``: f₁ = ½‖y − y_d‖² + α/2‖u‖² (the smooth part, α fixed from the problem),
  f₂ = ‖u‖₁ (sparsity); the weight is β.  This is the non-smooth problem's natural front.

Two scalarisations (:func:`pareto_front`):

* ``"weighted-sum"`` — minimise f₁ + w·f₂ over a geometric grid of weights, each solve
  warm-started from the previous solution and adjoint (continuation).  Finds the convex
  hull of the front only, unevenly spaced in the objectives.
* ``"epsilon-constraint"`` — minimise f₁ subject to f₂ ≤ ε over an even grid of ε between
  the front's extremes.  The constraint is active at the optimum, and its multiplier is the
  weight w, so each subproblem is solved as min f₁ + w·f₂ with w found by a safeguarded
  secant search in log w until ``|f₂/ε − 1| ≤ rtol``: evenly spaced points, several solves each.

:func:`hypervolume_2d` measures a front (area dominated up to a reference point), and
:meth:`ParetoFront.plot` draws it.  The functions take any registered method that accepts
the problem (``newton-kkt`` by default), so other methods (surrogates) can be compared
on the same fronts.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field

import numpy as np

from cutslack.errors import SolverError
from cutslack.problems.pde import EllipticControl

__all__ = ["ParetoFront", "pareto_front", "hypervolume_2d", "front_objectives"]


def hypervolume_2d(points, reference) -> float:
    """Return the area dominated by a set of 2-D points (minimisation) and bounded by ``reference``.

    Points not strictly better than the reference in both objectives contribute nothing.

    >>> hypervolume_2d([[1, 3], [2, 2], [3, 1]], [4, 4])
    6.0
    """
    P = np.asarray(points, dtype=float).reshape(-1, 2)
    ref = np.asarray(reference, dtype=float)
    P = P[np.all(P < ref, axis=1)]
    if P.shape[0] == 0:
        return 0.0
    P = P[np.lexsort((P[:, 1], P[:, 0]))]
    area, best2 = 0.0, ref[1]
    for i in range(P.shape[0]):
        if P[i, 1] >= best2:
            continue  # dominated by an earlier point
        nxt = ref[0]
        for j in range(i + 1, P.shape[0]):
            if P[j, 1] < P[i, 1]:
                nxt = P[j, 0]
                break
        area += (nxt - P[i, 0]) * (ref[1] - P[i, 1])
        best2 = P[i, 1]
    return float(area)


def front_objectives(problem: EllipticControl, x, cost: str = "control") -> tuple:
    """Return the two objectives ``(f₁, f₂)`` of a solution for the front of kind ``cost``."""
    tracking, control, l1 = problem.objectives(x)
    if cost == "control":
        return tracking, control
    if cost == "l1":
        return tracking + problem.alpha * control, l1
    raise ValueError(f"cost must be 'control' or 'l1', got {cost!r}")


@dataclass(frozen=True)
class ParetoFront:
    """Points of a Pareto front: ``objectives`` (k, 2), the ``weights`` that produced them, the solutions.

    ``objective_names`` label the two columns; ``solves`` counts the solver calls spent.
    """

    objectives: np.ndarray
    weights: np.ndarray
    solutions: list = field(repr=False)
    method: str
    cost: str
    solves: int
    objective_names: tuple = ("tracking", "control cost")

    def nondominated(self) -> "ParetoFront":
        """Return the front without dominated points, sorted by the first objective."""
        F = self.objectives
        keep = [i for i in range(len(F))
                if not np.any(np.all(F <= F[i], axis=1) & np.any(F < F[i], axis=1))]
        keep = sorted(keep, key=lambda i: F[i, 0])
        return dataclasses.replace(self, objectives=F[keep], weights=self.weights[keep],
                                   solutions=[self.solutions[i] for i in keep])

    def hypervolume(self, reference=None) -> float:
        """Return the hypervolume; ``reference`` defaults to 1.1 × the per-objective maximum."""
        ref = self.default_reference() if reference is None else reference
        return hypervolume_2d(self.objectives, ref)

    def default_reference(self) -> np.ndarray:
        return 1.1 * np.max(self.objectives, axis=0)

    def plot(self, ax=None, **style):
        """Draw the front (f₁ against f₂) on ``ax`` (a new figure when omitted); return the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        F = self.nondominated().objectives
        style = {"marker": "o", "label": self.method, **style}
        ax.plot(F[:, 1], F[:, 0], **style)
        ax.set_xlabel(self.objective_names[1])
        ax.set_ylabel(self.objective_names[0])
        ax.legend()
        return ax


def _solve(problem, weight, cost, method, warm, options):
    import cutslack

    weighted = dataclasses.replace(problem, alpha=weight) if cost == "control" else \
        dataclasses.replace(problem, beta=weight)
    spec = cutslack.api.SOLVERS[method]
    allowed = spec.options
    kwargs = dict(options)
    if warm is not None:
        if "*" in allowed or "x0" in allowed:
            kwargs["x0"] = warm.x
        if "*" in allowed or "p0" in allowed:
            # the adjoint of the warm state (independent of the weight), so that only the
            # control row of the optimality system is off at the start
            kwargs["p0"] = problem.solve_adjoint(problem.split(warm.x)[0])
    res = cutslack.solve(weighted, method=method, **kwargs)
    if res.x is None:
        raise SolverError(f"pareto_front: {method} returned no solution at weight {weight:g}")
    return res


def pareto_front(problem: EllipticControl, *, cost: str = "control", method: str = "weighted-sum",
                 weights=None, n_points: int = 9, solver: str = "newton-kkt", rtol: float = 1e-4,
                 max_search: int = 30, **solver_options) -> ParetoFront:
    """Return the Pareto front of tracking against control cost (or ‖u‖₁) for ``problem``.

    Parameters
    ----------
    cost : {"control", "l1"}
        The second objective (see the module docstring).
    method : {"weighted-sum", "epsilon-constraint"}
    weights : array, optional
        Weights for the weighted sum (α or β values); default a geometric grid
        ``10^linspace(-4, 0, n_points)`` for α and ``10^linspace(-3, 0, n_points) · β_max`` for β,
        where β_max = max|p| at u = 0 makes the control vanish.  For the ε-constraint method
        the grid's two ends fix the extremes of the front and the ε values lie evenly between.
    n_points : int
        Points of the front.
    solver : str
        Registered method solving each scalarised problem (warm-started where it takes x0/p0).
    rtol : float
        ε-constraint: relative accuracy of the active constraint.
    **solver_options
        Passed to the solver (``tol=...``).
    """
    import cutslack

    if cost not in ("control", "l1"):
        raise ValueError(f"cost must be 'control' or 'l1', got {cost!r}")
    if method not in ("weighted-sum", "epsilon-constraint"):
        raise ValueError(f"method must be 'weighted-sum' or 'epsilon-constraint', got {method!r}")
    if n_points < 2:
        raise ValueError("n_points must be at least 2")
    cutslack.available_methods()
    if weights is None:
        if cost == "control":
            weights = np.logspace(0, -4, n_points)
        else:
            zero = np.zeros(problem.n_nodes)
            y0 = problem.solve_state(zero)
            beta_max = float(np.max(np.abs(problem.solve_adjoint(y0))))
            weights = beta_max * np.logspace(0, -3, n_points)
    weights = np.sort(np.asarray(weights, dtype=float))[::-1]  # large weight first: small controls first
    if np.any(weights <= 0):
        raise ValueError("weights must be positive")
    names = ("tracking", "control cost") if cost == "control" else ("tracking + α·control", "‖u‖₁")
    # a continuation sweep over the weights: the weighted-sum front, and for the ε-constraint
    # method the brackets of its multiplier search and the two extremes of the front
    solves = 0
    sweep, warm = [], None
    for w in weights:
        warm = _solve(problem, w, cost, solver, warm, solver_options)
        solves += 1
        sweep.append((w, warm, front_objectives(problem, warm.x, cost)))
    if method == "weighted-sum":
        return ParetoFront(np.array([s[2] for s in sweep]), np.array([s[0] for s in sweep]),
                           [s[1].x for s in sweep], "weighted-sum", cost, solves, names)

    points, used, sols = [], [], []
    (w_hi, res_hi, (_, c_lo)), (w_lo, res_lo, (_, c_hi)) = sweep[0], sweep[-1]
    eps_grid = np.linspace(c_lo, c_hi, n_points)
    log_cache = [(np.log(w), np.log(max(obj[1], 1e-300)), res) for w, res, obj in sweep]
    for k, eps in enumerate(eps_grid):
        if k == 0 or k == n_points - 1:
            res = res_hi if k == 0 else res_lo
            points.append(front_objectives(problem, res.x, cost))
            used.append(w_hi if k == 0 else w_lo)
            sols.append(res.x)
            continue
        target = np.log(eps)
        # bracket (a larger weight gives a smaller cost): the smallest weight with cost <= eps
        # and the largest weight with cost >= eps
        lo = min((e for e in log_cache if e[1] <= target), key=lambda e: e[0], default=None)
        hi = max((e for e in log_cache if e[1] >= target), key=lambda e: e[0], default=None)
        if lo is None or hi is None:
            continue
        best = None
        for _ in range(max_search):
            (a, fa, _), (b, fb, _) = lo, hi
            t = a + (target - fa) * (b - a) / (fb - fa) if fb != fa else 0.5 * (a + b)
            if not (min(a, b) < t < max(a, b)):
                t = 0.5 * (a + b)
            res = _solve(problem, float(np.exp(t)), cost, solver, lo[2], solver_options)
            solves += 1
            c = front_objectives(problem, res.x, cost)[1]
            entry = (t, np.log(max(c, 1e-300)), res)
            log_cache.append(entry)
            best = (t, res, c)
            if abs(c / eps - 1.0) <= rtol:
                break
            if c <= eps:
                lo = entry
            else:
                hi = entry
        if best is not None:
            t, res, _ = best
            points.append(front_objectives(problem, res.x, cost))
            used.append(float(np.exp(t)))
            sols.append(res.x)
    return ParetoFront(np.array(points), np.array(used), sols, "epsilon-constraint", cost, solves, names)
