"""Generalized assignment (OR-Library gap1-gap6) and set covering (scp41-scp49): heuristics against
the exact MILP on the same instances, in the same run.

For each instance it prints the known optimum; ``milp`` (HiGHS, one thread): objective, status and
seconds; the greedy (``gap-greedy`` / ``scp-greedy``): objective and gap to the optimum in %; the
iterated local search (``gap-ils`` / ``scp-ils``, ``--time-limit`` seconds, seed 0): objective,
gap in %, status and seconds; and the ratio ILS seconds / MILP seconds.  Every method is loaded
and its kernels compiled before the timed runs.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gap_setcover.py [--only gap scp] [--time-limit 1]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cutslack  # noqa: E402
from cutslack.problems.library import load_instance  # noqa: E402

INSTANCES = {
    "gap": [("gap", f"gap{f}#{k}") for f in range(1, 7) for k in range(1, 6)],
    "scp": [("setcover", f"scp4{k}") for k in range(1, 10)],
}
METHODS = {"gap": ("gap-greedy", "gap-ils"), "setcover": ("scp-greedy", "scp-ils")}


def _gap(value: float, optimum: float) -> float:
    return 100.0 * abs(value - optimum) / abs(optimum)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(INSTANCES), default=sorted(INSTANCES))
    parser.add_argument("--time-limit", type=float, default=1.0)
    args = parser.parse_args(argv)
    for family, name in (INSTANCES["gap"][0], INSTANCES["scp"][0]):   # load modules, compile kernels
        warm = load_instance(family, name)
        for method in ("milp", *METHODS[family]):
            cutslack.solve(warm, method=method, rng=0, **({"max_no_improve": 10} if "ils" in method else {}))
    print(f"threads: OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, HiGHS threads=1; ILS limit {args.time_limit} s")
    print(f"{'instance':9} {'optimum':>7} {'milp':>6} {'status':8} {'milp s':>6} {'greedy':>7} {'gap%':>5} "
          f"{'ils':>6} {'gap%':>5} {'ils status':10} {'ils s':>5} {'ils/milp':>8}")
    for key in args.only:
        for family, name in INSTANCES[key]:
            problem = load_instance(family, name)
            optimum = problem.known_optimum.value
            exact = cutslack.solve(problem, method="milp", rng=0)
            greedy_method, ils_method = METHODS[family]
            greedy = cutslack.solve(problem, method=greedy_method)
            ils = cutslack.solve(problem, method=ils_method, rng=0, time_limit=args.time_limit)
            print(f"{name:9} {optimum:7g} {exact.objective:6g} {exact.status.value:8} {exact.wall_time:6.2f} "
                  f"{greedy.objective:7g} {_gap(greedy.objective, optimum):5.2f} {ils.objective:6g} "
                  f"{_gap(ils.objective, optimum):5.2f} {ils.status.value:10} {ils.wall_time:5.2f} "
                  f"{ils.wall_time / max(exact.wall_time, 1e-9):8.2f}", flush=True)


if __name__ == "__main__":
    main()
