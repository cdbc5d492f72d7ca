"""Dual methods that drive Lagrange multipliers: one class per method, one common interface.

Each method maximises the concave dual function ``d(λ) = min_x L(x, λ)`` (minimisation form)
over a box ``lower ≤ λ ≤ upper`` (lower is 0 for inequality and conflict multipliers,
``-upper`` for equality ones).  The driver evaluates ``d`` at the point a method proposes
and hands back ``(λ, d(λ), g)``, ``g`` the constraint residuals of the subproblem's minimiser
(a subgradient of ``d`` at ``λ``); :meth:`DualMethod.next_point` returns the next point.

* :class:`SubgradientMethod` — projected steps ``λ + t g``, with ``t = s/√k`` on the
  direction scaled to a unit root-mean-square entry (``steps="sqrt"``) or Polyak's ``t = θ (target − d) / ‖g‖²`` (``steps="polyak"``),
  the target being the best feasible primal value found so far; θ halves after ``patience``
  iterations without dual progress.
* :class:`DualAveraging` — Nesterov's simple dual averaging: ``λ = Π(λ₀ + s/√k Σ ĝ_i)``
  over subgradients scaled to a unit root-mean-square entry.
* :class:`CuttingPlaneMethod` — Kelley: maximise the cutting-plane model
  ``min_i d_i + g_i'(λ − λ_i)`` over the box, an LP solved by HiGHS
  (:func:`scipy.optimize.linprog`, ``method="highs"``).
* :class:`BundleMethod` — proximal bundle: maximise the model minus ``(u/2)‖λ − λ̂‖²`` (a QP
  through cvxpy), a serious step moves the centre ``λ̂`` when the new value achieves an
  ``m``-fraction of the predicted ascent, otherwise a null step adds the cut only; the first
  ``u`` makes the first step move each multiplier by about the multiplier scale.
* :class:`AugmentedLagrangianMethod` — method of multipliers ``λ ← Π(λ + ρ g)`` on the
  augmented Lagrangian; ``ρ`` grows by ``growth`` when the violation did not fall below
  ``decrease`` times the last one (``schedule="adaptive"``) or every iteration up to
  ``rho_max`` (``schedule="geometric"``, used for sampled inequality forms, whose
  expected violation is too noisy for a sufficient-decrease test) (without an augmented term in the QUBO, ``rho`` is just
  a step and shrinks by ``growth`` when the subgradient turns back).  The driver reads
  :attr:`DualMethod.rho` every iteration.
"""

from __future__ import annotations

import numpy as np

from cutslack.errors import SolverError

__all__ = ["DualMethod", "SubgradientMethod", "DualAveraging", "CuttingPlaneMethod", "BundleMethod",
           "AugmentedLagrangianMethod", "DUAL_METHODS", "make_dual_method"]


def _unit_rms(g) -> np.ndarray:
    """``g`` divided by its root-mean-square entry: a direction whose typical entry is 1, so a step
    of ``scale`` moves each multiplier by about ``scale`` however many constraints there are."""
    rms = float(np.sqrt(np.mean(g ** 2))) if g.size else 0.0
    return g / rms if rms > 0 else np.zeros_like(g)


class DualMethod:
    """Base class: holds the box, the step scale and the augmented weight ``rho`` (0 unless augmented).

    Parameters
    ----------
    lower, upper : (M,) arrays, the box of the multipliers.
    scale : float, the typical size of a multiplier (sets the first step length).
    """

    name = "dual"

    def __init__(self, lower, upper, scale: float, *, rho: float = 0.0):
        self.lower = np.asarray(lower, dtype=float)
        self.upper = np.asarray(upper, dtype=float)
        self.scale = float(scale)
        self.rho = float(rho)
        self.k = 0

    def project(self, lam) -> np.ndarray:
        """Return ``lam`` clipped to the box."""
        return np.clip(lam, self.lower, self.upper)

    def next_point(self, lam, value: float, subgradient, target: float | None) -> np.ndarray:
        """Return the next multipliers after evaluating ``d(lam) = value`` with subgradient ``subgradient``.

        ``target`` is the best known primal value (minimisation form), an upper bound on ``d``.
        """
        self.k += 1
        return self.project(self._step(np.asarray(lam, float), float(value), np.asarray(subgradient, float), target))

    def _step(self, lam, value, g, target):  # pragma: no cover - every subclass overrides it
        raise SolverError(f"{type(self).__name__} defines no step")

    @property
    def centre(self) -> np.ndarray | None:
        """The point whose dual value the method vouches for (bundle centre); None for the others."""
        return None


class SubgradientMethod(DualMethod):
    """Projected subgradient ascent with ``1/√k`` or Polyak steps (see the module docstring)."""

    name = "subgradient"

    def __init__(self, lower, upper, scale, *, steps: str = "polyak", theta: float = 1.0, patience: int = 5, **kw):
        super().__init__(lower, upper, scale, **kw)
        if steps not in ("sqrt", "polyak"):
            raise ValueError(f"unknown step rule {steps!r}; expected 'sqrt' or 'polyak'")
        self.steps = steps
        self.theta = float(theta)
        self.patience = int(patience)
        self._best = -np.inf
        self._since = 0

    def _step(self, lam, value, g, target):
        norm = float(np.linalg.norm(g))
        if norm == 0:
            return lam
        if self.steps == "sqrt" or target is None or not np.isfinite(target):
            return lam + (self.scale / np.sqrt(self.k)) * _unit_rms(g)
        if value > self._best + 1e-12 * max(1.0, abs(self._best)):
            self._best, self._since = value, 0
        else:
            self._since += 1
            if self._since >= self.patience:
                self.theta, self._since = max(self.theta / 2, 1e-4), 0
        # a target at or below the dual value (gap closed up to noise) still takes a small step
        gap = max(target - value, 1e-3 * max(1.0, abs(value)))
        return lam + self.theta * gap / norm ** 2 * g


class DualAveraging(DualMethod):
    """Simple dual averaging over normalised subgradients (see the module docstring)."""

    name = "averaging"

    def __init__(self, lower, upper, scale, **kw):
        super().__init__(lower, upper, scale, **kw)
        self._origin = None
        self._sum = None

    def _step(self, lam, value, g, target):
        if self._origin is None:
            self._origin, self._sum = lam.copy(), np.zeros_like(lam)
        self._sum += _unit_rms(g)
        return self._origin + self.scale / np.sqrt(self.k) * self._sum


class _CutModel(DualMethod):
    """Shared store of the cuts ``d(λ) ≤ d_i + g_i'(λ − λ_i)`` (Kelley and bundle)."""

    def __init__(self, lower, upper, scale, *, max_cuts: int = 200, **kw):
        super().__init__(lower, upper, scale, **kw)
        self.max_cuts = int(max_cuts)
        self._G: list = []
        self._h: list = []   # d_i - g_i' λ_i: the cut is t <= h_i + g_i' λ

    def add_cut(self, lam, value, g):
        self._G.append(g.copy())
        self._h.append(value - float(g @ lam))
        if len(self._G) > self.max_cuts:
            self._G.pop(0)
            self._h.pop(0)

    def model(self, lam) -> float:
        """Return the cutting-plane model ``min_i h_i + g_i'λ`` at ``lam``."""
        return float(np.min(np.asarray(self._h) + np.asarray(self._G) @ lam))


class CuttingPlaneMethod(_CutModel):
    """Kelley's cutting planes: the next point maximises the cut model over the box (HiGHS LP)."""

    name = "cutting-plane"

    def _step(self, lam, value, g, target):
        from scipy.optimize import linprog

        self.add_cut(lam, value, g)
        G, h = np.asarray(self._G), np.asarray(self._h)
        M = lam.shape[0]
        # variables (λ, t): maximise t  s.t.  t - G λ <= h
        c = np.zeros(M + 1)
        c[-1] = -1.0
        A = np.hstack([-G, np.ones((G.shape[0], 1))])
        t_upper = target if target is not None and np.isfinite(target) else None
        bounds = list(zip(self.lower, self.upper)) + [(None, t_upper)]
        res = linprog(c, A_ub=A, b_ub=h, bounds=bounds, method="highs")
        if res.status != 0 or res.x is None:
            # the target cap can make the LP infeasible once the model lies above it: drop it
            bounds[-1] = (None, None)
            res = linprog(c, A_ub=A, b_ub=h, bounds=bounds, method="highs")
        if res.x is None:
            raise SolverError(f"the cutting-plane LP failed: {res.message}")
        return res.x[:M]


class BundleMethod(_CutModel):
    """Proximal bundle method with serious and null steps (cvxpy QP master)."""

    name = "bundle"

    def __init__(self, lower, upper, scale, *, u: float | None = None, m: float = 0.1, **kw):
        super().__init__(lower, upper, scale, **kw)
        self.u = u
        self.m = float(m)
        self._centre = None
        self._centre_value = -np.inf
        self._predicted = None
        self.serious_steps = 0
        self.null_steps = 0

    @property
    def centre(self):
        return self._centre

    def _step(self, lam, value, g, target):
        import cvxpy as cp

        self.add_cut(lam, value, g)
        if self._centre is None:
            self._centre, self._centre_value = lam.copy(), value
            if self.u is None:
                # first proximal weight: a step of about `scale` along g
                self.u = max(float(np.linalg.norm(g)), 1e-9) / max(self.scale * np.sqrt(g.size), 1e-12)
        elif value >= self._centre_value + self.m * (self._predicted - self._centre_value):
            self._centre, self._centre_value = lam.copy(), value
            self.serious_steps += 1
        else:
            self.null_steps += 1
        G, h = np.asarray(self._G), np.asarray(self._h)
        x = cp.Variable(lam.shape[0])
        t = cp.Variable()
        objective = cp.Maximize(t - self.u / 2 * cp.sum_squares(x - self._centre))
        lower_finite = np.isfinite(self.lower)
        cons = [t <= h + G @ x, x <= self.upper]
        if lower_finite.any():
            cons.append(x[np.flatnonzero(lower_finite)] >= self.lower[lower_finite])
        problem = cp.Problem(objective, cons)
        try:
            problem.solve()
        except cp.SolverError as exc:
            raise SolverError(f"the bundle QP failed: {exc}") from None
        if x.value is None:
            raise SolverError(f"the bundle QP ended {problem.status}")
        self._predicted = float(t.value)
        return np.asarray(x.value).reshape(-1)


class AugmentedLagrangianMethod(DualMethod):
    """Method of multipliers with a growing penalty ``rho`` (see the module docstring)."""

    name = "augmented"

    def __init__(self, lower, upper, scale, *, rho: float = 1.0, growth: float = 2.0, decrease: float = 0.5,
                 rho_max: float | None = None, schedule: str = "adaptive", **kw):
        super().__init__(lower, upper, scale, rho=rho, **kw)
        if schedule not in ("adaptive", "geometric"):
            raise ValueError(f"schedule must be 'adaptive' or 'geometric', got {schedule!r}")
        self.schedule = schedule
        self.growth = float(growth)
        self.decrease = float(decrease)
        self.rho_max = float(rho_max) if rho_max is not None else 1e3 * max(rho, 1e-12)
        self._last_violation = np.inf
        self._last_g = None

    #: False when the QUBO has no augmented term (inequality-only programs): rho is then only
    #: a step size, so it shrinks when the subgradient turns back instead of growing
    curvature = True

    def _step(self, lam, value, g, target):
        viol = float(np.linalg.norm(np.where(self.lower == 0, np.maximum(g, 0), g)))
        new = lam + self.rho * g
        if not self.curvature:
            if self._last_g is not None and float(g @ self._last_g) < 0:
                self.rho /= self.growth
        elif self.schedule == "geometric" or viol > self.decrease * self._last_violation:
            self.rho = min(self.rho * self.growth, self.rho_max)
        self._last_violation = viol
        self._last_g = g.copy()
        return new


DUAL_METHODS = {"subgradient": SubgradientMethod, "averaging": DualAveraging, "cutting-plane": CuttingPlaneMethod,
                "bundle": BundleMethod, "augmented": AugmentedLagrangianMethod}


def make_dual_method(name: str, lower, upper, scale, **options) -> DualMethod:
    """Return the dual method called ``name`` (one of :data:`DUAL_METHODS`) over the box."""
    cls = DUAL_METHODS.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown dual method {name!r}; valid: {', '.join(DUAL_METHODS)}")
    return cls(lower, upper, scale, **options)
