"""The main job (``make demo``): solve generated and library instances of every family exactly
and print one table (instance, size, objective, known optimum, gap, feasible, time).

Run as ``python -m cutslack.demo``.
"""

from __future__ import annotations

import argparse
import sys
import time

import cutslack
from cutslack.problems import random_knapsack, random_mdkp, random_mis, random_qap, random_tsp

__all__ = ["demo_instances", "run_demo", "main"]


def demo_instances():
    """Return ``(problem, method)`` pairs: small generated instances and the shipped library ones."""
    from cutslack.problems.library import load_shipped

    pairs = [
        (random_knapsack(60, kind="strongly", rng=1), "dp"),
        (random_mdkp(40, 5, rng=1), "milp"),
        (random_mis(40, 0.15, rng=1), "milp"),
        (random_qap(6, rng=1), "milp"),
        (random_tsp(15, rng=1), "milp"),
    ]
    for name in ("burma14", "ulysses16", "mknap1#3", "mknap1#4", "johnson8-2-4", "1dc.64", "chr12a"):
        try:
            pairs.append((load_shipped(name), "milp"))
        except KeyError:
            continue
    return pairs


def run_demo(time_limit: float = 60.0, out=sys.stdout) -> list:
    """Solve every demo instance and print the table; return the results."""
    header = f"{'instance':<28} {'family':<9} {'size':<16} {'method':<6} {'objective':>12} {'optimum':>12} {'gap %':>7} {'feasible':>8} {'time s':>7}"
    print(header, file=out)
    print("-" * len(header), file=out)
    results = []
    t0 = time.perf_counter()
    for problem, method in demo_instances():
        res = cutslack.solve(problem, method=method, time_limit=time_limit)
        known = problem.known_optimum
        opt = f"{known.value:g}" if known is not None else (f"{res.bound:g}*" if res.status.value == "optimal" else "-")
        gap = "-" if res.gap is None else f"{100 * res.gap:.2f}"
        size = " ".join(f"{k}={v}" for k, v in problem.size.items())
        obj = "-" if res.objective is None else f"{res.objective:g}"
        print(f"{problem.name[:28]:<28} {problem.family:<9} {size[:16]:<16} {method:<6} {obj:>12} {opt:>12} {gap:>7} "
              f"{str(res.feasible):>8} {res.wall_time:>7.2f}", file=out)
        results.append(res)
    print("-" * len(header), file=out)
    print(f"{len(results)} instances, total {time.perf_counter() - t0:.1f} s   (* = optimum proven by the solver's own bound)",
          file=out)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="cutslack main job: exact solves of generated and library instances")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance")
    args = parser.parse_args(argv)
    results = run_demo(args.time_limit)
    return 0 if all(r.feasible for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
