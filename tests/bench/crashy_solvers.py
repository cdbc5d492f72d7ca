"""Solvers for the harness tests only: one that crashes, one that hangs past its time limit,
one that takes a set time.  Suites import this file through ``imports = [...]`` so that
worker processes register them too."""

import time

import numpy as np

from cutslack.api import Run, make_result, register_solver
from cutslack.problems import Knapsack
from cutslack.result import Status

__all__ = ["crash", "hang", "slow_greedy"]


@register_solver("test-crash", accepts=(Knapsack,), description="raises on instances with an odd item count")
def crash(problem, *, rng=None, time_limit=None, callback=None):
    """Return nothing: raise a RuntimeError on odd n, else the empty (feasible) solution."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    if problem.n % 2:
        raise RuntimeError(f"deliberate crash on n={problem.n}")
    return make_result(problem, np.zeros(problem.n, dtype=np.int8), method="test-crash", run=run)


@register_solver("test-hang", accepts=(Knapsack,), description="ignores its time limit and sleeps")
def hang(problem, *, rng=None, time_limit=None, callback=None, seconds=60.0):
    """Return the empty solution after sleeping ``seconds``, ignoring ``time_limit``."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    time.sleep(seconds)
    return make_result(problem, np.zeros(problem.n, dtype=np.int8), method="test-hang", run=run)


@register_solver("test-slow", accepts=(Knapsack,), description="greedy by ratio after a set delay")
def slow_greedy(problem, *, rng=None, time_limit=None, callback=None, delay=0.1):
    """Return the greedy-by-ratio solution after sleeping ``delay`` seconds (one history record)."""
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    time.sleep(delay)
    order = np.argsort(-problem.profits / np.maximum(problem.weights.sum(axis=0), 1e-9))
    x = np.zeros(problem.n, dtype=np.int8)
    load = np.zeros(problem.m)
    for j in order:
        if np.all(load + problem.weights[:, j] <= problem.capacities):
            x[j] = 1
            load += problem.weights[:, j]
    history = [{"iteration": 0, "best": float(problem.evaluate(x)), "load": load}]
    run.report(make_result(problem, x, method="test-slow", run=run))
    return make_result(problem, x, method="test-slow", run=run, status=Status.FEASIBLE, nit=1, history=history)
