"""solve(): dispatch, option checking, callback, StopIteration, time limits, determinism."""

import numpy as np
import pytest

import cutslack
from cutslack import SolverError, Status
from cutslack.api import Run, make_result, register_solver
from cutslack.problems import Knapsack, random_knapsack, random_mis


def test_method_names_are_case_insensitive():
    p = random_knapsack(15, rng=1)
    a = cutslack.solve(p, method="dp")
    b = cutslack.solve(p, method="DP")
    assert a.objective == b.objective and a.status is Status.OPTIMAL


def test_unknown_method_lists_valid_ones():
    with pytest.raises(ValueError, match="valid methods: .*dp"):
        cutslack.solve(random_knapsack(5, rng=1), method="nope")


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="unknown option 'colour'"):
        cutslack.solve(random_knapsack(5, rng=1), method="dp", colour="red")


def test_method_refuses_problem_it_cannot_take_in_one_sentence():
    with pytest.raises(SolverError, match="cannot take a MaximumIndependentSet"):
        cutslack.solve(random_mis(6, 0.5, rng=1), method="dp")
    two_rows = Knapsack([1, 2], [[1, 1], [1, 2]], [1, 2])
    with pytest.raises(SolverError, match="one-constraint"):
        cutslack.solve(two_rows, method="dp")


def test_bad_time_limit():
    with pytest.raises(ValueError, match="time_limit"):
        cutslack.solve(random_knapsack(5, rng=1), method="dp", time_limit=-1)


@register_solver("test-counter", accepts=(Knapsack,))
def _counter(problem, *, rng=None, time_limit=None, callback=None, iterations=5):
    """Toy iterative method used to test the callback contract: picks random feasible-ish vectors."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    best = np.zeros(problem.n, dtype=int)
    it = 0
    for it in range(1, iterations + 1):
        x = run.rng.integers(0, 2, problem.n)
        if problem.is_feasible(x) and problem.evaluate(x) > problem.evaluate(best):
            best = x
        if run.report(make_result(problem, best, method="test-counter", run=run, nit=it)) or run.expired():
            break
    return make_result(problem, best, method="test-counter", run=run, nit=it)


def test_callback_and_stop_iteration():
    p = random_knapsack(10, rng=2)
    seen = []

    def cb(res):
        seen.append(res.nit)
        if res.nit == 3:
            raise StopIteration

    r = cutslack.solve(p, method="test-counter", callback=cb, iterations=10)
    assert seen == [1, 2, 3]
    assert r.status is Status.STOPPED and r.nit == 3 and r.feasible


def test_same_rng_same_result():
    p = random_knapsack(12, rng=4)
    a = cutslack.solve(p, method="test-counter", rng=7, iterations=20)
    b = cutslack.solve(p, method="test-counter", rng=7, iterations=20)
    np.testing.assert_array_equal(a.x, b.x)


def test_make_result_rescores_and_computes_gap():
    p = Knapsack([5, 4], [[1, 1]], [1])
    r = make_result(p, np.array([1, 1]), method="x")
    assert not r.feasible and r.status is Status.INFEASIBLE and r.gap is None
    r = make_result(p, np.array([0, 1]), method="x", bound=5.0)
    assert r.feasible and r.objective == 4.0 and r.gap == pytest.approx(0.2)


def test_import_cutslack_imports_no_extra():
    import subprocess
    import sys
    code = ("import sys, cutslack, cutslack.problems; cutslack.available_methods(); "
            "bad=[m for m in ('qiskit','torch','cupy','dask') if m in sys.modules]; print(bad); assert not bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr + out.stdout
