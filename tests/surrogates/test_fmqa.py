"""FMQA, the black box and the equal-budget baselines."""

import numpy as np
import pytest

import cutslack
from cutslack.binary import QUBO
from cutslack.errors import InvalidInstanceError
from cutslack.problems import random_knapsack
from cutslack.result import Status
from cutslack.solvers.qubo import sample_qubo
from cutslack.surrogates.blackbox import BlackBox, BudgetExhaustedError, random_feasible_bits
from cutslack.surrogates.fmqa import (FactorizationMachine, fm_to_qubo, fmqa, train_factorization_machine)
from cutslack.testing import check_result


def hidden_qubo(n, seed):
    return QUBO(np.triu(np.random.default_rng(seed).normal(size=(n, n))))


def test_fm_prediction_equals_qubo_energy():
    g = np.random.default_rng(3)
    fm = FactorizationMachine(0.7, g.normal(size=12), g.normal(size=(12, 5)), shift=-2.0, scale=3.5)
    X = g.integers(0, 2, size=(200, 12))
    assert np.allclose(fm.predict(X), fm_to_qubo(fm).energy(X), atol=1e-10)


def test_fm_gradients_numpy_match_torch():
    pytest.importorskip("torch")
    g = np.random.default_rng(5)
    X = g.integers(0, 2, size=(40, 8)).astype(float)
    y = g.normal(size=40)
    a = train_factorization_machine(X, y, rank=3, epochs=50, backend="numpy", rng=1)
    b = train_factorization_machine(X, y, rank=3, epochs=50, backend="torch", rng=1)
    assert np.allclose(a.predict(X), b.predict(X), atol=1e-6)


def test_fm_learns_a_quadratic_exactly_representable():
    q = hidden_qubo(8, 0)
    X = np.array([[(k >> i) & 1 for i in range(8)] for k in range(256)])
    fm = train_factorization_machine(X, q.energy(X), rank=8, epochs=3000, lr=0.02, weight_decay=0.0, rng=0)
    resid = fm.predict(X) - q.energy(X)
    assert np.sqrt(np.mean(resid ** 2)) < 0.05 * q.energy(X).std()


def test_blackbox_counts_and_refuses_past_budget():
    bb = BlackBox(hidden_qubo(5, 1), budget=3)
    for _ in range(3):
        bb(np.zeros(5))
    with pytest.raises(BudgetExhaustedError, match="budget of 3"):
        bb(np.zeros(5))
    assert bb.evaluations == 3


@pytest.mark.parametrize("sampler", ["anneal", "exhaustive", pytest.param("tabu", marks=pytest.mark.slow)])
def test_fmqa_reaches_optimum_of_small_hidden_qubo(sampler):
    q = hidden_qubo(10, 2)
    opt = sample_qubo(q, "exhaustive").energies[0]
    res = cutslack.solve(q, method="fmqa", budget=60, sampler=sampler, rng=0)
    check_result(q, res)
    assert res.info["evaluations"] == 60
    assert res.objective == pytest.approx(opt)
    assert len(res.info["trace"]) == 60 and np.all(np.diff(res.info["trace"]) <= 0)


def test_fmqa_same_seed_same_result():
    q = hidden_qubo(10, 4)
    a = cutslack.solve(q, method="fmqa", budget=30, rng=7)
    b = cutslack.solve(q, method="fmqa", budget=30, rng=7)
    assert a.info["trace"] == b.info["trace"] and np.array_equal(a.x, b.x)


def test_fmqa_keeps_knapsack_constraints_explicit():
    p = random_knapsack(14, rng=3)
    res = cutslack.solve(p, method="fmqa", budget=40, rng=1)
    check_result(p, res)
    rs = cutslack.solve(p, method="random-search", budget=40, rng=1)
    assert res.objective >= rs.objective
    assert res.info["evaluations"] == 40


def test_random_feasible_bits_are_feasible_and_distinct():
    p = random_knapsack(20, m=2, rng=0)
    X = random_feasible_bits(20, 30, 0, p.to_binary())
    assert len({x.tobytes() for x in X}) == 30 and np.all(p.is_feasible(X))


@pytest.mark.parametrize("method", ["random-search", "blackbox-anneal"])
def test_baselines_use_exactly_the_budget(method):
    p = random_knapsack(12, rng=2)
    res = cutslack.solve(p, method=method, budget=25, rng=0)
    check_result(p, res)
    assert res.info["evaluations"] == 25


def test_budget_smaller_than_initial_design():
    with pytest.raises(InvalidInstanceError, match="smaller than the initial design"):
        cutslack.solve(hidden_qubo(10, 0), method="fmqa", budget=5, initial_points=8)


def test_constant_objective_stops_with_message():
    bb = BlackBox(lambda bits: 4.0, n=6, budget=50)
    out = fmqa(bb, rng=0)
    assert "constant" in out.message and bb.evaluations == out.incumbent.trace.__len__() < 50


def test_nan_from_blackbox_gives_error_status():
    calls = []

    def f(bits):
        calls.append(1)
        return np.nan if len(calls) == 15 else float(bits.sum())

    bb = BlackBox(f, n=8, budget=40)
    out = fmqa(bb, rng=0, initial_points=10)
    assert out.error and "NaN" in out.message and "evaluation 15" in out.message
    assert bb.evaluations == 15

    q = hidden_qubo(6, 0)
    wrapped = BlackBox(lambda bits: np.nan, n=6, budget=10)
    assert wrapped.scored_problem() is wrapped  # a callable box re-scores by itself (uncounted)
    nan_q = BlackBox(q, budget=10)
    nan_q._f = lambda bits: np.nan
    res = cutslack.solve(nan_q, method="fmqa")
    assert res.status is Status.ERROR and "NaN" in res.info["message"] and res.x is None


def test_fmqa_callback_stops():
    def cb(r):
        raise StopIteration

    res = cutslack.solve(hidden_qubo(8, 1), method="fmqa", budget=30, rng=0, callback=cb)
    assert res.status is Status.STOPPED and res.info["evaluations"] < 30


def test_fmqa_time_limit():
    res = cutslack.solve(hidden_qubo(12, 1), method="fmqa", budget=10_000, rng=0, time_limit=0.5)
    assert res.status is Status.TIME_LIMIT and res.feasible


def test_surrogates_suite_loads_with_budgets():
    from cutslack.bench.suite import load_suite

    suite = load_suite("surrogates")
    methods = {s.method for s in suite.solvers}
    assert {"fmqa", "random-search", "blackbox-anneal"} <= methods
    assert all(s.options.get("budget") == 60 for s in suite.solvers if s.method != "milp")


def test_registry_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, cutslack; m = cutslack.available_methods(); "
            "assert {'fmqa', 'random-search', 'blackbox-anneal'} <= set(m); "
            "import cutslack.surrogates.fmqa, cutslack.surrogates.sso, cutslack.surrogates.pareto_surrogate; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_torch_raises_backend_unavailable(monkeypatch):
    import builtins

    from cutslack.errors import BackendUnavailableError
    from cutslack.surrogates.torch_support import require_torch

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "torch":
            raise ImportError("no torch")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(BackendUnavailableError, match="pip install"):
        require_torch()


@pytest.mark.slow
@pytest.mark.quantum
def test_fmqa_with_a_quantum_sampler():
    pytest.importorskip("qiskit")
    q = hidden_qubo(6, 0)
    res = cutslack.solve(q, method="fmqa", budget=14, sampler="qaoa", initial_points=8, num_reads=8, rng=0)
    check_result(q, res)
    assert res.info["evaluations"] == 14 and res.info["sampler"] == "qaoa"
