"""Time limits: the clock starts when ``solve`` has loaded the method and run its warm-up hook
(compiling its kernels; ``info["compile_s"]`` says how long that took), ``Result.wall_time``
is the call from there, and every registered method -- read from the registry,
so new ones are included -- returns within ``time_limit + max(10 %, 1 s)`` with its best
solution so far and ``Status.TIME_LIMIT`` on an instance it cannot finish."""

from __future__ import annotations

import time

import numpy as np
import pytest

import cutslack
from cutslack.api import Run, make_result, register_solver
from cutslack.problems import Knapsack, random_knapsack
from cutslack.reliability import TIME_LIMIT_CASES, allowed_overshoot, measure_time_limit, time_limit_case
from cutslack.result import Status

# methods registered by other test modules in the same process ("test-...") are not the library's
METHODS = [m for m in cutslack.available_methods() if not m.startswith("test-")]

#: a few representative methods measured in the default run (all of them under -m slow)
DEFAULT_METHODS = ["dp", "tsp-ils", "anneal", "qap-tabu"]


def test_every_registered_method_has_a_time_limit_case():
    missing = [m for m in METHODS if m not in TIME_LIMIT_CASES]
    assert not missing, (f"add an entry to cutslack.reliability.TIME_LIMIT_CASES for {', '.join(missing)}: an "
                         f"instance the method cannot finish within a second")


def test_a_method_without_a_case_fails_loudly():
    with pytest.raises(KeyError, match="add an instance it cannot finish"):
        time_limit_case("no-such-method")


@register_solver("test-slow-start", accepts=(Knapsack,), description="sleeps before it starts its Run")
def _slow_start(problem, *, rng=None, time_limit=None, callback=None, delay: float = 0.3):
    time.sleep(delay)  # stands for module loading or kernel compiling before the solver's own clock
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    expired = run.expired()
    return make_result(problem, np.zeros(problem.n, dtype=np.int8), method="test-slow-start", run=run,
                       info={"expired_at_start": expired})


def test_the_clock_starts_when_solve_is_called():
    problem = random_knapsack(5, rng=0)
    start = time.perf_counter()
    res = cutslack.solve(problem, method="test-slow-start", time_limit=0.2, delay=0.3)
    wall = time.perf_counter() - start
    assert res.info["expired_at_start"] and res.status is Status.TIME_LIMIT
    assert 0.3 <= res.wall_time <= wall
    # a Run made inside the solver after the first one (a sub-solver's) starts its own clock
    res = cutslack.solve(problem, method="test-slow-start", time_limit=5.0, delay=0.0)
    assert not res.info["expired_at_start"]


def _check(measurement):
    res = measurement.result
    assert measurement.within, (f"{measurement.method}: {measurement.wall:.2f} s for a {measurement.time_limit} s "
                                f"limit (allowed {allowed_overshoot(measurement.time_limit):.1f} s more)")
    assert res.wall_time <= measurement.wall + 1e-6
    assert measurement.honest_status, f"{measurement.method}: status {res.status} after {measurement.wall:.2f} s"
    assert res.x is not None, f"{measurement.method} returned no best-so-far solution"


@pytest.mark.parametrize("method", DEFAULT_METHODS)
def test_time_limit_is_honoured(method):
    _check(measure_time_limit(method, 1.0))


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_time_limit_is_honoured_by_every_registered_method(method):
    _check(measure_time_limit(method, 2.0))


def test_warm_up_solves_a_small_instance_per_accepted_type():
    from cutslack.warmup import warm_up

    seconds = warm_up(["dp", "tsp-nn"])
    assert set(seconds) == {"dp", "tsp-nn"} and all(s >= 0 for s in seconds.values())


def test_warmup_command_has_help_progress_lines_and_refuses_unknown_methods(capsys):
    from cutslack.warmup import default_methods, main

    with pytest.raises(SystemExit) as exit_help:
        main(["--help"])
    assert exit_help.value.code == 0 and "usage: python -m cutslack.warmup" in capsys.readouterr().out
    assert main(["tsp-nn", "mis-greedy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[ 1/2] tsp-nn") and lines[1].startswith("[ 2/2] mis-greedy")
    assert lines[-1].startswith("warmed in")
    with pytest.raises(SystemExit) as exit_bad:
        main(["no-such-method"])
    assert exit_bad.value.code == 2 and "unknown method" in capsys.readouterr().err
    assert {"tsp-ils", "qap-tabu", "mis-ils", "mdkp-tabu", "anneal"} <= set(default_methods())
    assert "qaoa" not in default_methods()


def test_a_first_call_imports_only_its_methods_module():
    import subprocess
    import sys

    code = ("import sys, cutslack; from cutslack.problems import random_tsp; "
            "cutslack.solve(random_tsp(30, rng=0), method='tsp-ils', rng=0, time_limit=1); "
            "from cutslack.api import SOLVER_MODULES; print([m for m in SOLVER_MODULES if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "['cutslack.solvers.classical.heuristics']"


_WARMED_UP = []


def _sleepy_warm_up(problem):
    time.sleep(0.3)   # stands for compiling the method's kernels
    _WARMED_UP.append(type(problem))


@register_solver("test-warm-start", accepts=(Knapsack,), warmup=_sleepy_warm_up, description="warms up slowly")
def _warm_start(problem, *, rng=None, time_limit=None, callback=None):
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    expired = run.expired()
    return make_result(problem, np.zeros(problem.n, dtype=np.int8), method="test-warm-start", run=run,
                       info={"expired_at_start": expired})


def test_the_warm_up_hook_runs_once_before_the_clock():
    problem = random_knapsack(5, rng=0)
    first = cutslack.solve(problem, method="test-warm-start", time_limit=0.2)
    assert not first.info["expired_at_start"] and first.status is Status.FEASIBLE
    assert first.info["compile_s"] >= 0.3 and first.wall_time < 0.3
    second = cutslack.solve(problem, method="test-warm-start", time_limit=0.2)
    assert second.info["compile_s"] < 0.3 and _WARMED_UP == [Knapsack]


_FRESH_PROCESS = (
    "import json, time, cutslack; from cutslack.problems import random_tsp; p = random_tsp(130, rng=3); "
    "t = time.perf_counter(); r = cutslack.solve(p, method='tsp-ils', rng=0, time_limit=1.0); "
    "print(json.dumps([time.perf_counter() - t, r.info['compile_s'], r.status.value, r.wall_time]))")


def _fresh_tsp_ils(env_changes: dict) -> tuple[float, float, str, float]:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, **env_changes}
    out = subprocess.run([sys.executable, "-c", _FRESH_PROCESS], capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stderr
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


def _check_fresh(wall, compile_s, status, wall_time):
    assert status == "time_limit"   # 130 cities: no Held-Karp proof in a second, so the search uses it
    assert 1.0 <= wall_time <= 1.0 + allowed_overshoot(1.0)
    assert wall - compile_s <= 1.0 + allowed_overshoot(1.0), f"{wall:.2f} s in all, {compile_s:.2f} s compiling"


def test_a_first_call_in_a_fresh_process_honours_its_limit():
    _check_fresh(*_fresh_tsp_ils({}))


@pytest.mark.slow
def test_a_first_call_with_an_empty_numba_cache_honours_its_limit(tmp_path):
    wall, compile_s, status, wall_time = _fresh_tsp_ils({"NUMBA_CACHE_DIR": str(tmp_path)})
    _check_fresh(wall, compile_s, status, wall_time)
    assert any(tmp_path.rglob("*.nbi")), "the warm-up should have written Numba's cache"


def test_method_modules_name_where_each_method_is_registered():
    from cutslack.api import METHOD_MODULES, SOLVER_MODULES, SOLVERS

    assert set(METHOD_MODULES.values()) <= set(SOLVER_MODULES)
    unknown = sorted(set(METHOD_MODULES) - set(SOLVERS))
    assert not unknown, f"METHOD_MODULES names methods nobody registers: {unknown}"
    for name, module in METHOD_MODULES.items():
        # registered by the module itself or by one of its submodules (the quantum samplers share a factory)
        defined = SOLVERS[name].function.__module__
        package = module.rsplit(".", 1)[0] if module.endswith(".methods") else module
        assert defined.startswith(package), f"{name}: registered in {defined}, METHOD_MODULES says {module}"


KNAPSACK_METHODS = ["milp", "mdkp-greedy", "mdkp-tabu", "heuristic"]


@pytest.mark.parametrize("method", KNAPSACK_METHODS)
def test_a_large_knapsack_ends_in_time_with_a_feasible_answer(method):
    problem = random_knapsack(100_000, rng=1)
    res = cutslack.solve(problem, method=method, rng=0, time_limit=1.0)
    assert res.wall_time <= 1.0 + allowed_overshoot(1.0)
    assert res.feasible and res.objective > 0


@pytest.mark.slow
@pytest.mark.parametrize("method", KNAPSACK_METHODS)
@pytest.mark.parametrize("n, m", [(1_000_000, 1), (100_000, 5)])
def test_a_huge_knapsack_or_mdkp_ends_in_time_with_a_feasible_answer(method, n, m):
    from cutslack.problems import random_mdkp

    problem = random_knapsack(n, rng=1) if m == 1 else random_mdkp(n, m, rng=1)
    res = cutslack.solve(problem, method=method, rng=0, time_limit=2.0)
    assert res.wall_time <= 2.0 + allowed_overshoot(2.0)
    assert res.feasible and res.objective > 0
