"""Black boxes (plain callables, BlackBox problems) through ``cutslack.solve``: counting, history,
determinism, constraints, bad input; FMQA and BOCS on small hidden objectives."""

import itertools

import numpy as np
import pytest

import cutslack
from cutslack.errors import InvalidInstanceError, SolverError
from cutslack.result import Status
from cutslack.surrogates.blackbox import BlackBox
from cutslack.surrogates.bocs import horseshoe_gibbs, quadratic_features

METHODS = ["fmqa", "bocs", "random-search", "blackbox-anneal"]


class Recorder:
    """A hidden quadratic on bits that records every point it is asked about."""

    def __init__(self, n, seed):
        g = np.random.default_rng(seed)
        self.U = np.triu(g.normal(size=(n, n)))
        self.points = []

    def __call__(self, bits):
        x = np.asarray(bits, dtype=float)
        self.points.append(tuple(int(b) for b in bits))
        return float(x @ self.U @ x)


def brute_force(f, n, sense="min", feasible=lambda x: True):
    vals = [f(np.array(x)) for x in itertools.product((0, 1), repeat=n) if feasible(np.array(x))]
    return max(vals) if sense == "max" else min(vals)


@pytest.mark.parametrize("method", METHODS)
def test_callable_through_solve_counts_and_rescores(method):
    f = Recorder(8, 0)
    res = cutslack.solve(f, method=method, n=8, budget=30, rng=1)
    assert res.info["evaluations"] == 30 and res.info["rescoring_evaluations"] == 1
    assert len(f.points) == 31  # 30 charged evaluations + the one re-scoring call of the returned point
    evaluated = f.points[:30]
    assert len(set(evaluated)) == 30  # never the same point twice
    assert f.points[30] == tuple(res.x) and res.objective == pytest.approx(f.__call__(res.x))
    assert res.feasible and res.status is Status.FEASIBLE


@pytest.mark.parametrize("method", METHODS)
def test_history_is_best_so_far_of_the_evaluations(method):
    f = Recorder(8, 2)
    res = cutslack.solve(BlackBox(f, 8, sense="max", budget=25), method=method, rng=3)
    values = [h["value"] for h in res.history]
    best = [h["best"] for h in res.history]
    assert [h["evaluation"] for h in res.history] == list(range(1, 26))
    assert values == pytest.approx([float(np.array(p) @ f.U @ np.array(p)) for p in f.points[:25]])
    assert best == pytest.approx(list(np.maximum.accumulate(values)))
    assert np.all(np.diff(best) >= 0)
    assert res.objective == pytest.approx(best[-1])


@pytest.mark.parametrize("method", ["fmqa", "bocs", "blackbox-anneal"])
def test_same_rng_same_run(method):
    a = cutslack.solve(Recorder(8, 4), method=method, n=8, budget=20, rng=7)
    b = cutslack.solve(Recorder(8, 4), method=method, n=8, budget=20, rng=7)
    assert [h["value"] for h in a.history] == [h["value"] for h in b.history]
    assert np.array_equal(a.x, b.x)


def test_fmqa_finds_brute_force_optimum_of_n8_objective():
    f = Recorder(8, 5)
    opt = brute_force(f, 8)
    res = cutslack.solve(f, method="fmqa", n=8, budget=40, rng=0)
    assert res.objective == pytest.approx(opt)
    assert res.info["evaluations"] <= 40


def test_bocs_finds_brute_force_optimum_of_n8_objective():
    f = Recorder(8, 6)
    opt = brute_force(f, 8)
    res = cutslack.solve(f, method="bocs", n=8, budget=40, rng=0, burn_in=50, gibbs_steps=10)
    assert res.objective == pytest.approx(opt)


@pytest.mark.parametrize("method", METHODS)
def test_explicit_constraints_hold_at_every_evaluation(method):
    n = 8
    f = Recorder(n, 8)
    A_le, b_le = np.ones((1, n)), [5]
    A_eq, b_eq = np.array([[1, 1, 0, 0, 0, 0, 0, 0]]), [1]
    bb = BlackBox(f, n, A_le=A_le, b_le=b_le, A_eq=A_eq, b_eq=b_eq, budget=20)
    res = cutslack.solve(bb, method=method, rng=0)
    X = np.array(f.points)
    assert np.all(X.sum(axis=1) <= 5) and np.all(X[:, 0] + X[:, 1] == 1)
    assert res.feasible and res.info["evaluations"] == len(f.points) - 1 <= 20
    assert bb.violation(res.x).max() == 0 and bb.is_feasible(res.x)


def test_blackbox_is_a_problem():
    bb = BlackBox(lambda x: float(x.sum()), 5, sense="max", A_le=np.ones((1, 5)), b_le=[2], name="count")
    assert bb.sense == "max" and bb.name == "count" and bb.size == {"n": 5, "constraints": 1}
    assert bb.evaluate(np.ones(5)) == 5.0 and bb.evaluations == 0 and bb.rescoring_evaluations == 1
    assert not bb.is_feasible(np.ones(5)) and bb.violation(np.ones(5)).tolist() == [3.0]


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"budget": 10}, InvalidInstanceError, "needs the number of bits"),
    ({"n": 0}, InvalidInstanceError, "n"),
    ({"n": 6, "budget": 0}, InvalidInstanceError, "budget"),
    ({"n": 6}, InvalidInstanceError, "budget"),
    ({"n": 6, "budget": 10, "sense": "maximise"}, InvalidInstanceError, "sense"),
])
def test_bad_callable_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cutslack.solve(lambda x: float(x.sum()), method="fmqa", **kwargs)


def test_bad_blackbox_input():
    with pytest.raises(InvalidInstanceError, match="A_le"):
        BlackBox(lambda x: 0.0, 4, A_le=np.ones((1, 5)), b_le=[1])
    q = cutslack.binary.QUBO(np.eye(4))
    with pytest.raises(InvalidInstanceError, match="has 4 bits"):
        BlackBox(q, 5)
    with pytest.raises(SolverError, match="one number"):
        cutslack.solve(lambda x: np.asarray(x, dtype=float), method="random-search", n=4, budget=5)
    with pytest.raises(InvalidInstanceError, match="expected 4 bits"):
        BlackBox(lambda x: 0.0, 4)(np.zeros(3))


@pytest.mark.parametrize("method", METHODS)
def test_nan_answer_is_a_clear_error(method):
    calls = []

    def f(bits):
        calls.append(1)
        return np.nan if len(calls) == 12 else float(np.sum(bits))

    res = cutslack.solve(f, method=method, n=6, budget=30, rng=0)
    assert res.status is Status.ERROR and "NaN" in res.info["message"] and "evaluation 12" in res.info["message"]
    assert res.info["evaluations"] == 12


def test_horseshoe_posterior_recovers_a_sparse_quadratic():
    g = np.random.default_rng(0)
    n = 10
    Z = quadratic_features(g.integers(0, 2, size=(120, n)))
    beta = np.zeros(Z.shape[1])
    beta[[0, 3, 12, 40]] = [2.0, -1.5, 3.0, -2.5]
    state = horseshoe_gibbs(Z, Z @ beta + 0.01 * g.normal(size=120), 300, g)
    assert np.max(np.abs(state.beta - beta)) < 0.1
