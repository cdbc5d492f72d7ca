"""Compile (or load from Numba's cache) the methods' kernels once: ``python -m cutslack.warmup``.

The hot loops are Numba functions with ``cache=True``: the first call of each compiles it and
writes the machine code beside the module (or under ``$NUMBA_CACHE_DIR``); later processes
load it.  ``solve`` runs a method's warm-up hook before starting its clock, so a first call
keeps its time limit either way, but compiling still costs that first call seconds to minutes
(``info["compile_s"]``); running this once after installing (``make demo`` and ``make test``
do) moves that cost out of every later process.

By default it warms every method that has a warm-up hook (the heuristics) and the QUBO
samplers (Numba kernels without a hook: one small solve each, with a short time limit); name
methods on the command line to warm those instead.  It prints one progress line per method.
"""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["warm_up", "default_methods", "small_instances_by_type", "main"]

#: the time limit of the small solve that warms a method without a hook
SMALL_SOLVE_SECONDS = 5.0


def small_instances_by_type() -> list:
    """Return one small instance of every type the built-in methods accept."""
    from cutslack.problems import (random_gap, random_knapsack, random_mdkp, random_mis, random_qap, random_set_cover,
                                   random_tsp)
    from cutslack.reliability import dense_qubo

    return [dense_qubo(6, seed=1), random_knapsack(12, rng=1), random_mdkp(12, 2, rng=1), random_tsp(12, rng=1),
            random_qap(6, rng=1), random_mis(14, 0.3, rng=1), random_gap(3, 12, rng=1),
            random_set_cover(20, 60, 0.1, rng=1)]


def default_methods() -> list[str]:
    """Return the methods warmed by default: those with a warm-up hook and the QUBO samplers."""
    import cutslack
    from cutslack.api import METHOD_MODULES, SOLVERS

    samplers = {name for name, module in METHOD_MODULES.items() if module == "cutslack.solvers.qubo.methods"}
    return [m for m in cutslack.available_methods() if SOLVERS[m].warmup is not None or m in samplers]


def _warm_one(method: str, instances: list) -> None:
    import cutslack
    from cutslack.api import SOLVERS, warm_up_method
    from cutslack.errors import CutslackError

    spec = SOLVERS[method]
    for problem in instances:
        if not isinstance(problem, spec.accepts):
            continue
        if spec.warmup is not None:   # the hook compiles every kernel of the method; one type is enough
            warm_up_method(spec, problem)
            return
        try:
            cutslack.solve(problem, method=method, rng=0, time_limit=SMALL_SOLVE_SECONDS)
        except CutslackError:
            continue


def warm_up(methods=None, *, log=None) -> dict:
    """Warm each method (default :func:`default_methods`); return ``{method: seconds}``.

    A method with a warm-up hook runs it (once per hook and problem type); any other solves a
    small instance of each type it accepts with a short time limit.  A method that refuses an
    instance (``CutslackError``) is skipped for it; nothing is raised.  ``log(line)`` gets one
    progress line per method.
    """
    import cutslack

    names = list(methods) if methods else default_methods()
    unknown = sorted(set(names) - set(cutslack.available_methods()))
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; valid methods: "
                         f"{', '.join(cutslack.available_methods())}")
    instances = small_instances_by_type()
    seconds = {}
    for k, method in enumerate(names, 1):
        start = time.perf_counter()
        _warm_one(method, instances)
        seconds[method] = time.perf_counter() - start
        if log is not None:
            log(f"[{k:>2}/{len(names)}] {method:<22} {seconds[method]:6.1f} s")
    return seconds


def main(argv=None) -> int:
    """Warm the default methods (or those named on the command line); return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m cutslack.warmup",
                                     description="Compile (or load from Numba's cache) the kernels of cutslack's "
                                                 "methods, so that later processes start at once.")
    parser.add_argument("methods", nargs="*", help="methods to warm (default: the heuristics and QUBO samplers)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    total = time.perf_counter()
    try:
        warm_up(args.methods or None, log=lambda line: print(line, flush=True))
    except ValueError as exc:
        parser.error(str(exc))
    print(f"warmed in {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
