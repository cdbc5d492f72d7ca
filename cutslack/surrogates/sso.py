"""Target-space surrogates for expensive gradients (SSO; Lavington et al., ICML 2023).

For ``f(θ) = L(h(θ))`` where the *target* ``z = h(θ)`` (a model's outputs, a control's state)
is cheap but the gradient of the loss ``L`` in target space is expensive (a simulator, a PDE
solve, a large data set), one expensive call at ``z_t = h(θ_t)`` gives the surrogate::

    g_t(θ) = L(z_t) + <∇L(z_t), h(θ) − z_t> + 1/(2η) ‖h(θ) − z_t‖²

which majorises ``f`` when ``L`` is ``1/η``-smooth in ``z`` (Lavington, Vaswani, Babanezhad,
Schmidt, Le Roux, *Target-based Surrogates for Stochastic Optimization*, PMLR 202, 2023).
:func:`target_surrogate_descent` minimises it for ``inner_steps`` cheap steps (gradient descent
with an Armijo line search on ``g_t``: only ``h`` and its vector–Jacobian product are used), then
pays for the next expensive gradient.  With ``batch_size`` the loss and the target are taken on a
random mini-batch per outer step: the stochastic variant (SSO), projected SGD in target space.

The oracle counted is the call of ``∇L`` (on the full data, or one mini-batch);
:func:`gradient_method` runs SGD and Adam on ``f`` with the same oracle and the same count,
for the comparisons in ``benchmarks/surrogates.py``.

Problems: :class:`TargetProblem` with :func:`softmax_regression` and
:func:`logistic_regression` (NumPy: the Jacobian of a linear model is its data matrix).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cutslack.errors import InvalidInstanceError

__all__ = ["TargetProblem", "softmax_regression", "logistic_regression", "target_surrogate_descent",
           "gradient_method", "OptimisationTrace"]


@dataclass
class TargetProblem:
    """``f(θ) = L(h(θ))`` split into a cheap model and an expensive target-space loss.

    Parameters
    ----------
    model : callable ``(θ, idx) -> z``
        The targets of the examples ``idx`` (None: all).
    model_vjp : callable ``(θ, idx, v) -> Jᵀ v``
        Vector–Jacobian product of the model (cheap).
    loss_and_grad : callable ``(z, idx) -> (L, ∇L)``
        The expensive oracle: mean loss over ``idx`` and its gradient in target space.
    loss : callable ``(z, idx) -> L``
        The loss value alone (used to report progress; not counted as an oracle call).
    smoothness : float
        A bound on the curvature of the *mean* loss per example in target space (``η = 1/smoothness``
        scaled by the batch size keeps the surrogate a majoriser).
    n_examples, theta0
    parameter_smoothness : float, optional
        The curvature bound of ``f`` in ``θ`` where known (a safe SGD step is its inverse).
    """

    model: Callable
    model_vjp: Callable
    loss_and_grad: Callable
    loss: Callable
    smoothness: float
    n_examples: int
    theta0: np.ndarray
    name: str = "target-problem"
    parameter_smoothness: float | None = None

    def value(self, theta) -> float:
        """Return the full loss ``f(θ)`` (reporting only: not counted)."""
        return float(self.loss(self.model(theta, None), None))


def _check_data(X, y):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise InvalidInstanceError("X", f"expected an (N, d) matrix with one row per label; got X {X.shape}, "
                                   f"y {y.shape}")
    if not np.all(np.isfinite(X)):
        raise InvalidInstanceError("X", "contains NaN or infinite entries")
    return X, y


def softmax_regression(X, y, n_classes: int | None = None, *, name: str = "softmax-regression") -> TargetProblem:
    """Return multinomial logistic regression ``θ = W (d × K)``, targets the logits ``X W``.

    The mean cross-entropy's Hessian in the logits of one example is at most ``1/2`` (in norm),
    so ``smoothness = 1/2`` per example.
    """
    X, y = _check_data(X, y)
    y = y.astype(np.int64)
    K = int(n_classes if n_classes is not None else y.max() + 1)
    if y.min() < 0 or y.max() >= K:
        raise InvalidInstanceError("y", f"labels must lie in [0, {K})")
    N, d = X.shape
    Y = np.eye(K)[y]

    def rows(idx):
        return slice(None) if idx is None else idx

    def model(theta, idx):
        return X[rows(idx)] @ theta.reshape(d, K)

    def model_vjp(theta, idx, v):
        return (X[rows(idx)].T @ v).reshape(-1)

    def _softmax(Z):
        Z = Z - Z.max(axis=1, keepdims=True)
        E = np.exp(Z)
        return E / E.sum(axis=1, keepdims=True), Z - np.log(E.sum(axis=1, keepdims=True))

    def loss(Z, idx):
        _, logp = _softmax(Z)
        return float(-(Y[rows(idx)] * logp).sum() / Z.shape[0])

    def loss_and_grad(Z, idx):
        P, logp = _softmax(Z)
        Yb = Y[rows(idx)]
        return float(-(Yb * logp).sum() / Z.shape[0]), (P - Yb) / Z.shape[0]

    return TargetProblem(model, model_vjp, loss_and_grad, loss, 0.5, N, np.zeros(d * K), name)


def logistic_regression(X, y, *, name: str = "logistic-regression") -> TargetProblem:
    """Return binary logistic regression with labels in {0, 1} (or ±1); targets the scores ``X θ``.

    ``smoothness = 1/4`` per example (the logistic loss's second derivative is at most 1/4).
    """
    X, y = _check_data(X, y)
    s = np.where(np.asarray(y) > 0, 1.0, -1.0)
    N, d = X.shape

    def rows(idx):
        return slice(None) if idx is None else idx

    def model(theta, idx):
        return X[rows(idx)] @ theta

    def model_vjp(theta, idx, v):
        return X[rows(idx)].T @ v

    def loss(z, idx):
        return float(np.logaddexp(0.0, -s[rows(idx)] * z).mean())

    def loss_and_grad(z, idx):
        sb = s[rows(idx)]
        m = -sb * z
        return float(np.logaddexp(0.0, m).mean()), -sb / (1.0 + np.exp(-m)) / z.shape[0]

    return TargetProblem(model, model_vjp, loss_and_grad, loss, 0.25, N, np.zeros(d), name)


@dataclass
class OptimisationTrace:
    """Loss of the full objective after each expensive-oracle call (``loss[0]`` at the start)."""

    method: str
    oracle_calls: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    theta: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def calls_to_reach(self, target: float) -> int | None:
        """Return the first oracle count at which the loss is at most ``target`` (None if never)."""
        for c, v in zip(self.oracle_calls, self.loss):
            if v <= target:
                return int(c)
        return None


def _batch(rng, N, batch_size):
    if batch_size is None or batch_size >= N:
        return None
    return np.sort(rng.choice(N, size=int(batch_size), replace=False))


def target_surrogate_descent(problem: TargetProblem, *, oracle_budget: int = 100, inner_steps: int = 20,
                             eta: float | None = None, batch_size: int | None = None, rng=None,
                             theta0=None, armijo: float = 1e-4, record_every: int = 1) -> OptimisationTrace:
    """Return the trace of the target-space surrogate method (SSO with ``batch_size``).

    Parameters
    ----------
    oracle_budget : int
        Expensive ``∇L`` calls (one per outer step).
    inner_steps : int
        Cheap steps on each surrogate: gradient descent with Armijo backtracking, starting
        from twice the last accepted step.
    eta : float, optional
        Target-space step; default ``b / smoothness`` with ``b`` the examples per call (the mean
        loss over ``b`` examples is ``smoothness / b``-smooth in their targets, so the surrogate
        majorises it).
    batch_size : int, optional
        Examples per oracle call (None: all, the deterministic method).
    """
    if int(oracle_budget) < 1 or int(inner_steps) < 1:
        raise InvalidInstanceError("oracle_budget", "oracle_budget and inner_steps must be at least 1")
    rng = np.random.default_rng(rng)
    theta = np.array(problem.theta0 if theta0 is None else theta0, dtype=float)
    N = problem.n_examples
    trace = OptimisationTrace("sso" if batch_size else "target-surrogate", [0], [problem.value(theta)])
    step = 1.0
    for call in range(1, int(oracle_budget) + 1):
        idx = _batch(rng, N, batch_size)
        b = N if idx is None else len(idx)
        eta_t = eta if eta is not None else b / problem.smoothness
        z_t = problem.model(theta, idx)
        _, g = problem.loss_and_grad(z_t, idx)          # the one expensive call of this outer step

        def surrogate(th):
            dz = problem.model(th, idx) - z_t
            return float((g * dz).sum() + (dz * dz).sum() / (2 * eta_t)), dz

        s_val, dz = surrogate(theta)
        for _ in range(int(inner_steps)):
            grad = problem.model_vjp(theta, idx, g + dz / eta_t)
            gg = float(grad @ grad)
            if gg <= 1e-30:
                break
            step *= 2.0
            while True:
                cand = theta - step * grad
                c_val, c_dz = surrogate(cand)
                if c_val <= s_val - armijo * step * gg or step < 1e-12:
                    break
                step *= 0.5
            theta, s_val, dz = cand, c_val, c_dz
        if call % record_every == 0 or call == oracle_budget:
            trace.oracle_calls.append(call)
            trace.loss.append(problem.value(theta))
    trace.theta = theta
    trace.info = {"inner_steps": inner_steps, "batch_size": batch_size, "eta": eta}
    return trace


def gradient_method(problem: TargetProblem, *, method: str = "sgd", lr: float = 0.1, oracle_budget: int = 100,
                    batch_size: int | None = None, rng=None, theta0=None, betas=(0.9, 0.999),
                    record_every: int = 1) -> OptimisationTrace:
    """Return the trace of SGD or Adam on ``f(θ) = L(h(θ))``: one expensive ``∇L`` call per step."""
    if method not in ("sgd", "adam"):
        raise ValueError(f"method must be 'sgd' or 'adam', got {method!r}")
    rng = np.random.default_rng(rng)
    theta = np.array(problem.theta0 if theta0 is None else theta0, dtype=float)
    trace = OptimisationTrace(method, [0], [problem.value(theta)])
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for call in range(1, int(oracle_budget) + 1):
        idx = _batch(rng, problem.n_examples, batch_size)
        _, g = problem.loss_and_grad(problem.model(theta, idx), idx)
        grad = problem.model_vjp(theta, idx, g)
        if method == "sgd":
            theta = theta - lr * grad
        else:
            m = betas[0] * m + (1 - betas[0]) * grad
            v = betas[1] * v + (1 - betas[1]) * grad * grad
            theta = theta - lr * (m / (1 - betas[0] ** call)) / (np.sqrt(v / (1 - betas[1] ** call)) + 1e-8)
        if call % record_every == 0 or call == oracle_budget:
            trace.oracle_calls.append(call)
            trace.loss.append(problem.value(theta))
    trace.theta = theta
    trace.info = {"lr": lr, "batch_size": batch_size}
    return trace
