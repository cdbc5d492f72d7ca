"""``method="milp"`` on benchmark-library instances with known optima.

Loads each instance by its MANIFEST.tsv id, solves it with HiGHS (one thread) and prints
instance, known optimum, objective, HiGHS's bound, gap to the bound, status, HiGHS runs
(cut rounds for the TSP) and seconds.  The peer measured in the same run is the MIS edge
formulation (``cliques=False``): for MIS rows the last column is its time over the clique
formulation's (``edge/clique``; a time-limited edge run makes the ratio a lower bound, ">").

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/milp_library.py [--only tsp mis] [--time-limit 120] [--more]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cutslack  # noqa: E402
from cutslack.problems.library import load_instance  # noqa: E402
from cutslack.result import Status  # noqa: E402

INSTANCES = {
    "mdkp": [f"mknap1#{k}" for k in range(1, 8)]
    + [f"mknap2#{name}" for name in ["PB1", "PB2", "PB4", "PB5", "PB6", "PB7", "HP1", "HP2", "SENTO1", "SENTO2"]
       + [f"WEING{k}" for k in range(1, 5)] + [f"WEISH{k:02d}" for k in range(1, 16)]],
    "tsp": ["burma14", "ulysses16", "gr17", "gr21", "ulysses22", "gr24", "fri26", "bayg29", "dantzig42", "att48",
            "eil51", "berlin52"],
    "mis": ["1dc.64", "1dc.128", "1et.64", "johnson8-2-4", "hamming6-4", "MANN_a9", "hamming6-2", "johnson8-4-4"],
    "qap": [],
}
MORE = {"mdkp": [f"mknapcb1#5.100-{k:02d}" for k in range(3)], "tsp": ["kroA100", "eil101", "ch150"],
        "mis": ["keller4", "c-fat200-1"], "qap": ["nug12"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(INSTANCES), default=sorted(INSTANCES))
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--more", action="store_true", help="add larger instances (minutes)")
    args = parser.parse_args()
    print(f"{'family':6} {'instance':20} {'optimum':>10} {'objective':>10} {'bound':>12} {'gap%':>8} "
          f"{'status':10} {'runs':>4} {'seconds':>8} {'edge/clique':>11}")
    total, solved = 0.0, 0
    for family in args.only:
        for name in INSTANCES[family] + (MORE[family] if args.more else []):
            problem = load_instance(family, name)
            result = cutslack.solve(problem, "milp", rng=0, time_limit=args.time_limit)
            total += result.wall_time
            solved += result.status is Status.OPTIMAL and result.objective == problem.known_optimum.value
            ratio = ""
            if family == "mis":
                edge = cutslack.solve(problem, "milp", rng=0, time_limit=args.time_limit, cliques=False)
                prefix = ">" if edge.status is Status.TIME_LIMIT else ""
                ratio = f"{prefix}{edge.wall_time / max(result.wall_time, 1e-9):.1f}"
            gap = "" if result.gap is None else f"{100 * result.gap:.3g}"
            bound = "" if result.bound is None else f"{result.bound:.6g}"
            print(f"{family:6} {name:20} {problem.known_optimum.value:>10g} {result.objective:>10g} {bound:>12} "
                  f"{gap:>8} {result.status.value:10} {result.nit:>4} {result.wall_time:>8.2f} {ratio:>11}",
                  flush=True)
    print(f"optimal and equal to the known optimum: {solved} instances; total solve time {total:.1f} s")


if __name__ == "__main__":
    main()
