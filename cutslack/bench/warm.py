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
    """Solve a tiny instance with each single-threaded kernel-backed heuristic; return the seconds it took."""
    import cutslack
    from cutslack.problems import random_mis, random_qap, random_tsp

    start = time.perf_counter()
    # only single-threaded kernels: a process that later forks workers must not have started
    # HiGHS's thread pool (the knapsack heuristics' LP bound) or an OpenMP pool (the parallel
    # QUBO samplers; GNU OpenMP aborts a forked child that uses it)
    runs = [(random_mis(12, 0.3, rng=0), "heuristic", {}), (random_qap(9, rng=0), "heuristic", {}),
            (random_tsp(20, rng=0), "heuristic", {})]
    for problem, method, options in runs:
        cutslack.solve(problem, method=method, rng=0, time_limit=120, **options)
    return time.perf_counter() - start


try:
    #: seconds the warm-up took at import (None when it failed)
    WARM_SECONDS: float | None = warm_kernels()
except Exception:  # noqa: BLE001 - a warm-up must never stop a worker from starting
    WARM_SECONDS = None
