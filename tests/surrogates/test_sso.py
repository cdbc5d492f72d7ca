"""Target-space surrogates (SSO) against SGD/Adam on the same expensive-oracle count."""

import numpy as np
import pytest
from scipy.optimize import minimize

from cutslack.errors import InvalidInstanceError
from cutslack.surrogates.sso import gradient_method, logistic_regression, softmax_regression, target_surrogate_descent


def data(seed=0, N=400, d=10, K=3):
    g = np.random.default_rng(seed)
    X = g.normal(size=(N, d)) * np.geomspace(0.2, 2.0, d)
    y = np.argmax(X @ g.normal(size=(d, K)) + g.gumbel(size=(N, K)), axis=1)
    return X, y


def test_softmax_gradient_matches_finite_differences():
    X, y = data()
    p = softmax_regression(X, y)
    theta = np.random.default_rng(1).normal(size=p.theta0.shape) * 0.1
    Z = p.model(theta, None)
    _, G = p.loss_and_grad(Z, None)
    grad = p.model_vjp(theta, None, G)
    e = np.zeros_like(theta)
    e[4] = 1e-6
    fd = (p.value(theta + e) - p.value(theta - e)) / 2e-6
    assert grad[4] == pytest.approx(fd, rel=1e-5)


def test_surrogate_step_majorises_full_batch_loss_monotone():
    X, y = data()
    tr = target_surrogate_descent(softmax_regression(X, y), oracle_budget=15, inner_steps=10)
    assert np.all(np.diff(tr.loss) <= 1e-12)  # a majorisation-minimisation method never goes up


def test_sso_beats_sgd_at_equal_oracle_calls():
    X, y = data(2)
    p = softmax_regression(X, y)
    sgd = min((gradient_method(p, method="sgd", lr=lr, oracle_budget=60) for lr in (0.3, 1.0, 3.0)),
              key=lambda t: t.loss[-1])
    sso = target_surrogate_descent(p, oracle_budget=60, inner_steps=20)
    calls = sso.calls_to_reach(sgd.loss[-1])
    assert calls is not None and calls <= 30


def test_stochastic_variant_and_logistic_run_and_are_seeded():
    X, y = data(3, K=2)
    p = logistic_regression(X, y)
    # independent reference: the logistic loss written out here, minimised by SciPy's BFGS
    signs = np.where(y > 0, 1.0, -1.0)

    def loss(theta):
        return float(np.logaddexp(0.0, -signs * (X @ theta)).mean())

    best = minimize(loss, np.zeros(X.shape[1]), method="BFGS", options={"gtol": 1e-10}).fun
    a, b, c = (target_surrogate_descent(p, oracle_budget=20, batch_size=50, rng=seed) for seed in (4, 4, 5))
    assert a.loss == b.loss      # same seed, same mini-batches
    assert a.loss != c.loss      # another seed, other mini-batches: the seed is used
    assert a.loss[0] == pytest.approx(np.log(2.0)) and a.loss[-1] == pytest.approx(loss(a.theta))
    # 20 calls on 50 of 400 examples close most of the gap to the optimum (measured: 95 % and
    # 96 % for seeds 4 and 5; Adam 87 %)
    for trace in (a, c):
        assert trace.loss[0] - trace.loss[-1] >= 0.8 * (trace.loss[0] - best)
    adam = gradient_method(p, method="adam", lr=0.05, oracle_budget=20, batch_size=50, rng=4)
    assert adam.loss[-1] == pytest.approx(loss(adam.theta))
    assert adam.loss[0] - adam.loss[-1] >= 0.7 * (adam.loss[0] - best)


def test_mismatched_shapes():
    with pytest.raises(InvalidInstanceError, match="'X'"):
        softmax_regression(np.zeros((5, 2)), np.zeros(4, dtype=int))
