"""IGNITE: offline optimisation with a sharpness-regularised neural surrogate.

From a fixed dataset ``(x_i, f(x_i))`` (no further evaluations allowed), train a network
``h_w`` and climb it by gradient ascent from the best data points.  Outside the data the
surrogate overestimates; IGNITE (Dao, Nguyen, Truong, Hoang, *Incorporating Surrogate Gradient
Norm to Improve Offline Optimization Techniques*, NeurIPS 2024, arXiv:2503.04242) limits its
*sharpness* — how much the prediction moves under a small perturbation of the weights — via
the constraint ``ρ ‖∇_w G(w)‖ ≤ ε`` on the mean prediction ``G(w) = mean_i h_w(x_i)`` of a batch,
handled by a Lagrange multiplier ``λ ≥ 0`` updated by dual ascent
``λ ← max(0, λ + η_λ (ρ‖∇_w G‖ − ε))``.  The gradient of ``‖∇_w G‖`` is a Hessian–vector
product, taken by a finite difference of two gradients::

    ∇_w ‖∇G‖ ≈ (∇G(w + r ∇G/‖∇G‖) − ∇G(w)) / r

and added to the loss gradient with weight ``λρ``.

Defaults are the authors' (reference code github.com/cuong-dm/IGNITE, the gradient-ascent
runs ``scripts/IGNITE/ga.py`` and ``design_baselines/gradient_ascent_IGNITE``): ``ε = 0.1``,
``λ₀ = 1e-3``, ``η_λ = 1e-3``, ``ρ = 0.05``, ``r = 0.05``; surrogate Adam ``lr = 3e-4``, batch 128,
100 epochs, two leaky-ReLU hidden layers, normalised ``x`` and ``y``; search from the 128 best
points, 200 gradient-ascent steps of ``0.01·√d`` in normalised units.  One departure, for the
CPU: hidden layers of 64 units (the paper's 2048 is an option), and ``λ`` is kept
non-negative (the reference code lets it go below zero).

The tasks here (:func:`offline_task`) negate Ackley and Rosenbrock (maximised) and draw the
dataset from the lower-quality half of the range, as in design-bench.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cutslack.errors import InvalidInstanceError
from cutslack.surrogates.torch_support import require_torch

__all__ = ["IgniteSettings", "OfflineTask", "offline_task", "ackley", "rosenbrock", "train_surrogate",
           "gradient_ascent", "offline_optimise", "OfflineOutcome", "score_percentiles"]


@dataclass(frozen=True)
class IgniteSettings:
    """Training and search settings; the defaults are the IGNITE authors' (see the module docstring)."""

    sharpness: bool = True
    epsilon: float = 0.1
    lambda0: float = 1e-3
    eta_lambda: float = 1e-3
    rho: float = 0.05
    r: float = 0.05
    lr: float = 3e-4
    batch_size: int = 128
    epochs: int = 100
    hidden: tuple = (64, 64)
    solver_samples: int = 128
    solver_steps: int = 200
    solver_lr: float = 0.01


def ackley(X) -> np.ndarray:
    """Return the Ackley function of each row (minimum 0 at the origin)."""
    X = np.atleast_2d(X)
    d = X.shape[1]
    return (-20 * np.exp(-0.2 * np.sqrt((X ** 2).sum(axis=1) / d)) - np.exp(np.cos(2 * np.pi * X).sum(axis=1) / d)
            + 20 + np.e)


def rosenbrock(X) -> np.ndarray:
    """Return the Rosenbrock function of each row (minimum 0 at all-ones)."""
    X = np.atleast_2d(X)
    return (100 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1 - X[:, :-1]) ** 2).sum(axis=1)


@dataclass
class OfflineTask:
    """A maximisation task: ``objective(X)`` (the hidden truth), the box and the offline dataset."""

    name: str
    objective: Callable
    lower: np.ndarray
    upper: np.ndarray
    X: np.ndarray
    y: np.ndarray


def offline_task(name: str, dim: int, *, n_points: int = 2000, rng=None, objective: Callable | None = None,
                 lower=None, upper=None) -> OfflineTask:
    """Return an offline task: ``-ackley`` (box ±5), ``-rosenbrock`` (box [-2, 2]) or a given objective.

    ``2 n_points`` uniform points are drawn and the ``n_points`` worst (the lower-quality half
    of the range) form the dataset.
    """
    rng = np.random.default_rng(rng)
    if objective is None:
        if name == "ackley":
            objective, lo, hi = (lambda X: -ackley(X)), -5.0, 5.0
        elif name == "rosenbrock":
            objective, lo, hi = (lambda X: -rosenbrock(X)), -2.0, 2.0
        else:
            raise ValueError(f"unknown task {name!r}; give 'ackley', 'rosenbrock' or an objective with bounds")
        lower, upper = np.full(dim, lo), np.full(dim, hi)
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    X = rng.uniform(lower, upper, size=(2 * n_points, dim))
    y = objective(X)
    keep = np.argsort(y)[:n_points]
    return OfflineTask(name, objective, lower, upper, X[keep], y[keep])


def _validate(X, y):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise InvalidInstanceError("X", f"expected an (N, d) matrix with one row per value; got X {X.shape}, "
                                   f"y {y.shape}")
    if X.shape[0] < 2:
        raise InvalidInstanceError("X", "an offline dataset needs at least 2 points")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise InvalidInstanceError("y" if np.all(np.isfinite(X)) else "X", "contains NaN or infinite entries")
    if np.ptp(y) == 0:
        raise InvalidInstanceError("y", "is constant: a surrogate learns nothing to climb")
    return X, y


def _mlp(torch, d, hidden, seed):
    torch.manual_seed(seed)
    layers, width = [], d
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.LeakyReLU()]
        width = h
    layers.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*layers).double()


def train_surrogate(X, y, settings: IgniteSettings = IgniteSettings(), *, rng=None):
    """Return ``(model, stats)``: an MLP fitted to normalised ``(X, y)``, with the sharpness constraint when asked.

    ``stats`` holds the final multiplier ``lambda``, the last ``rho‖∇G‖`` and the training loss.
    """
    torch = require_torch()
    X, y = _validate(X, y)
    rng = np.random.default_rng(rng)
    model = _mlp(torch, X.shape[1], settings.hidden, int(rng.integers(2 ** 31)))
    params = [p for p in model.parameters()]
    opt = torch.optim.Adam(params, lr=settings.lr)
    Xt = torch.as_tensor(X)
    yt = torch.as_tensor(y).reshape(-1, 1)
    lam = settings.lambda0
    sharp = float("nan")
    loss_value = float("nan")
    N = X.shape[0]
    for _ in range(settings.epochs):
        order = rng.permutation(N)
        for start in range(0, N, settings.batch_size):
            idx = torch.as_tensor(order[start:start + settings.batch_size])
            xb, yb = Xt[idx], yt[idx]
            loss = ((model(xb) - yb) ** 2).mean()
            grads = torch.autograd.grad(loss, params)
            if settings.sharpness:
                g0 = torch.autograd.grad(model(xb).mean(), params)
                norm = torch.sqrt(sum((g * g).sum() for g in g0)) + 1e-12
                with torch.no_grad():
                    for p, g in zip(params, g0):
                        p.add_(settings.r * g / norm)
                g1 = torch.autograd.grad(model(xb).mean(), params)
                with torch.no_grad():
                    for p, g in zip(params, g0):
                        p.sub_(settings.r * g / norm)
                grads = [g + lam * settings.rho / settings.r * (b - a) for g, a, b in zip(grads, g0, g1)]
                sharp = float(settings.rho * norm)
                lam = max(0.0, lam + settings.eta_lambda * (sharp - settings.epsilon))
            opt.zero_grad()
            for p, g in zip(params, grads):
                p.grad = g.detach()
            opt.step()
            loss_value = float(loss.detach())
    return model, {"lambda": lam, "sharpness": sharp, "train_mse": loss_value}


def gradient_ascent(model, X0, *, steps: int, lr: float, lower=None, upper=None) -> np.ndarray:
    """Return ``X0`` moved ``steps`` times by ``lr ·∇h(x)`` (clipped to ``[lower, upper]`` when given)."""
    torch = require_torch()
    x = torch.as_tensor(np.array(X0, dtype=float)).requires_grad_(True)
    lo = None if lower is None else torch.as_tensor(lower)
    hi = None if upper is None else torch.as_tensor(upper)
    for _ in range(int(steps)):
        (g,) = torch.autograd.grad(model(x).sum(), x)
        with torch.no_grad():
            x += lr * g
            if lo is not None:
                x.copy_(torch.maximum(torch.minimum(x, hi), lo))
    return x.detach().numpy()


def score_percentiles(values) -> dict:
    """Return the 100th, 80th and 50th percentiles of ``values`` (design-bench's report)."""
    v = np.asarray(values, dtype=float)
    return {"p100": float(np.max(v)), "p80": float(np.percentile(v, 80)), "p50": float(np.percentile(v, 50))}


@dataclass
class OfflineOutcome:
    """Candidates proposed by offline optimisation, their true scores (when known) and the training stats."""

    candidates: np.ndarray
    scores: np.ndarray | None
    percentiles: dict | None
    stats: dict = field(default_factory=dict)


def offline_optimise(X, y, *, settings: IgniteSettings = IgniteSettings(), objective: Callable | None = None,
                     lower=None, upper=None, rng=None) -> OfflineOutcome:
    """Return the :class:`OfflineOutcome` of training a surrogate on ``(X, y)`` and climbing it.

    ``x`` and ``y`` are normalised (z-scores) for training and search; the search starts from
    the ``solver_samples`` best data points and takes ``solver_steps`` steps of
    ``solver_lr·√d`` (normalised units), kept inside the box when bounds are given.  With the
    true ``objective`` the candidates are scored (offline: the search itself never calls it).
    """
    X, y = _validate(X, y)
    mx, sx = X.mean(axis=0), X.std(axis=0) + 1e-12
    my, sy = y.mean(), y.std()
    model, stats = train_surrogate((X - mx) / sx, (y - my) / sy, settings, rng=rng)
    top = np.argsort(y)[::-1][:settings.solver_samples]
    lo = None if lower is None else (np.asarray(lower) - mx) / sx
    hi = None if upper is None else (np.asarray(upper) - mx) / sx
    Z = gradient_ascent(model, (X[top] - mx) / sx, steps=settings.solver_steps,
                        lr=settings.solver_lr * np.sqrt(X.shape[1]), lower=lo, upper=hi)
    cand = Z * sx + mx
    scores = None if objective is None else np.asarray(objective(cand), dtype=float)
    return OfflineOutcome(cand, scores, None if scores is None else score_percentiles(scores), stats)
