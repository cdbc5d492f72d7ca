"""Load the compiled (Numba) kernels of the heuristics and samplers once, in the process that
imports this module (the single-threaded heuristics' kernels: the knapsack heuristics' LP bound would start
HiGHS's thread pool, and the parallel QUBO samplers an OpenMP pool, before the fork).

The local executor's fork server imports it (``set_forkserver_preload``), so every worker,
and every replacement of a killed one, forks with the kernels already loaded from Numba's
cache instead of paying that start-up inside its first run's time and hard timeout (seconds
per worker, far more on a loaded machine).  ``make demo`` calls :func:`warm_kernels` in its
own process for the same reason.  A failure here is never fatal: the runs then load the
kernels themselves.
"""

from __future__ import annotations

import time

__all__ = ["warm_kernels", "WARM_SECONDS"]


def warm_kernels() -> float:
    """Run the warm-up hooks of the single-threaded kernel-backed heuristics; return the seconds it took."""
    from cutslack.api import SOLVERS, check_call, warm_up_method
    from cutslack.problems import random_mis, random_qap, random_tsp

    start = time.perf_counter()
    # only single-threaded kernels: a process that later forks workers must not have started
    # HiGHS's thread pool (the knapsack heuristics' LP bound) or an OpenMP pool (the parallel
    # QUBO samplers; GNU OpenMP aborts a forked child that uses it)
    for problem in (random_mis(12, 0.3, rng=0), random_qap(9, rng=0), random_tsp(20, rng=0)):
        check_call(problem, "heuristic", {})   # loads the heuristics
        warm_up_method(SOLVERS["heuristic"], problem)
    return time.perf_counter() - start


try:
    #: seconds the warm-up took at import (None when it failed)
    WARM_SECONDS: float | None = warm_kernels()
except Exception:  # noqa: BLE001 - a warm-up must never stop a worker from starting
    WARM_SECONDS = None
