"""Compile (or load from Numba's cache) every method's kernels once: ``python -m cutslack.warmup``.

The hot loops are Numba functions with ``cache=True``: the first call of each compiles it and
writes the machine code beside the module (or under ``$NUMBA_CACHE_DIR``); later processes
load it.  ``solve``'s clock includes that first compile, so run this once after installing
and first calls are no longer
dominated by compiling.  It solves one small instance of every type each registered method
accepts and prints the seconds each took.
"""

from __future__ import annotations

import sys
import time

__all__ = ["warm_up", "small_instances_by_type", "main"]


def small_instances_by_type() -> list:
    """Return one small instance of every type the built-in methods accept."""
    from cutslack.problems import (random_gap, random_knapsack, random_mdkp, random_mis, random_qap, random_set_cover,
                                   random_tsp)
    from cutslack.reliability import dense_qubo

    return [dense_qubo(6, seed=1), random_knapsack(12, rng=1), random_mdkp(12, 2, rng=1), random_tsp(12, rng=1),
            random_qap(6, rng=1), random_mis(14, 0.3, rng=1), random_gap(3, 12, rng=1),
            random_set_cover(20, 60, 0.1, rng=1)]


def warm_up(methods=None, *, log=None) -> dict:
    """Solve a small instance of each accepted type with every method; return ``{method: seconds}``.

    A method that refuses an instance (``CutslackError``) is skipped for it; nothing is raised.
    """
    import cutslack
    from cutslack.api import SOLVERS
    from cutslack.errors import CutslackError

    seconds = {}
    for method in methods or cutslack.available_methods():
        start = time.perf_counter()
        for problem in small_instances_by_type():
            if not isinstance(problem, SOLVERS[method].accepts):
                continue
            try:
                cutslack.solve(problem, method=method, rng=0, time_limit=60.0)
            except CutslackError:
                continue
        seconds[method] = time.perf_counter() - start
        if log is not None:
            log(f"{method:<14} {seconds[method]:6.1f} s")
    return seconds


def main(argv=None) -> int:  # pragma: no cover - a command
    """Warm every method (or those named on the command line)."""
    args = list(sys.argv[1:] if argv is None else argv)
    total = time.perf_counter()
    warm_up(args or None, log=print)
    print(f"warmed in {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
