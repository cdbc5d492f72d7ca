"""``method="milp"`` on benchmark-library instances with known optima.

Loads each instance by its MANIFEST.tsv id, solves it with HiGHS (one thread) and prints
instance, known optimum, objective, HiGHS's bound, gap to the bound, status, HiGHS runs
(cut rounds for the TSP) and seconds of the default model.  For MIS the default is the edge
formulation (``cliques=False``, one row per edge); the peer measured in the same run is the
clique formulation (``cliques=True``, one row per clique of a greedy edge-clique cover), and
the last columns give the clique run's status and the time ratio ``edge/clique`` (edge time
over clique time; ">" when only the edge run hit the time limit, so the ratio is a lower
bound, "<" when only the clique run did, so it is an upper bound).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/milp_library.py [--only tsp mis] [--time-limit 120] [--more]
        [--out benchmarks/results/milp_library.md]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

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


def edge_vs_clique(edge, clique) -> str:
    """Return edge time / clique time, marked ">" or "<" when one side stopped at the time limit."""
    edge_cut, clique_cut = edge.status is Status.TIME_LIMIT, clique.status is Status.TIME_LIMIT
    prefix = ">" if edge_cut and not clique_cut else "<" if clique_cut and not edge_cut else ""
    return f"{prefix}{edge.wall_time / max(clique.wall_time, 1e-9):.2f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", choices=sorted(INSTANCES), default=sorted(INSTANCES))
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--more", action="store_true", help="add larger instances (minutes)")
    parser.add_argument("--out", help="also write the table as markdown (with the provenance header) to this file")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    head = (f"{'family':6} {'instance':20} {'optimum':>10} {'objective':>10} {'bound':>12} {'gap%':>8} "
            f"{'status':10} {'runs':>4} {'seconds':>8} {'clique obj':>10} {'clique st':>10} {'clique s':>8} "
            f"{'edge/clique':>11}")
    print(head)
    table = ["| family | instance | optimum | objective | bound | gap % | status | runs | seconds | "
             "MIS clique model: objective | status | seconds | edge/clique time |", "|" + "---|" * 13]
    total, solved = 0.0, 0
    for family in args.only:
        for name in INSTANCES[family] + (MORE[family] if args.more else []):
            problem = load_instance(family, name)
            result = cutslack.solve(problem, "milp", rng=0, time_limit=args.time_limit)  # MIS: edge model
            total += result.wall_time
            solved += result.status is Status.OPTIMAL and result.objective == problem.known_optimum.value
            clique_cells = ["", "", "", ""]
            if family == "mis":
                clique = cutslack.solve(problem, "milp", rng=0, time_limit=args.time_limit, cliques=True)
                clique_cells = [f"{clique.objective:g}", clique.status.value, f"{clique.wall_time:.2f}",
                                edge_vs_clique(result, clique)]
            gap = "" if result.gap is None else f"{100 * result.gap:.3g}"
            bound = "" if result.bound is None else f"{result.bound:.6g}"
            print(f"{family:6} {name:20} {problem.known_optimum.value:>10g} {result.objective:>10g} {bound:>12} "
                  f"{gap:>8} {result.status.value:10} {result.nit:>4} {result.wall_time:>8.2f} "
                  f"{clique_cells[0]:>10} {clique_cells[1]:>10} {clique_cells[2]:>8} {clique_cells[3]:>11}",
                  flush=True)
            table.append(f"| {family} | {name} | {problem.known_optimum.value:g} | {result.objective:g} | {bound} | "
                         f"{gap} | {result.status.value} | {result.nit} | {result.wall_time:.2f} | "
                         + " | ".join(clique_cells) + " |")
    closing = f"optimal and equal to the known optimum: {solved} instances; total solve time {total:.1f} s"
    print(closing)
    if args.out:
        from provenance import results_header

        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(["# method=\"milp\" (HiGHS) on library instances", "",
                                   results_header(__file__, argv), "",
                                   "MIS: the default (first) model is the edge formulation (`cliques=False`); the "
                                   "clique columns are the clique-cover formulation (`cliques=True`) of the same "
                                   "graph, and `edge/clique` is the edge run's time over the clique run's.", "",
                                   *table, "", f"- {closing}", ""]))
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
