"""The main job (``make demo``).

1. Solve generated and library instances of every family exactly and print one table
   (instance, size, objective, known optimum, gap, feasible, time).
2. Run the ``quick`` benchmark suite (exact methods next to slack-free and slack-bit QUBO
   methods) into a local SQLite store, write its markdown report with plots, and print
   where the report is.  Rerunning resumes: runs already stored are skipped.

Run as ``python -m cutslack.demo [--skip-suite] [--out reports]``.
"""

from __future__ import annotations

import argparse
import sys
import time

import cutslack
from cutslack.problems import random_knapsack, random_mdkp, random_mis, random_qap, random_tsp

__all__ = ["demo_instances", "run_demo", "run_quick_suite", "main"]


def demo_instances():
    """Return ``(problem, method)`` pairs: small generated instances and the shipped library ones.

    Every pair is solved exactly (``dp``/``milp``) except QAPLIB n = 12, solved by ``qap-tabu``.
    """
    from cutslack.problems.library import load_shipped

    pairs = [
        (random_knapsack(60, kind="strongly", rng=1), "dp"),
        (random_mdkp(40, 5, rng=1), "milp"),
        (random_mis(40, 0.15, rng=1), "milp"),
        (random_qap(6, rng=1), "milp"),
        (random_tsp(15, rng=1), "milp"),
    ]
    for name in ("burma14", "ulysses16", "gr17", "mknap1#2", "mknap1#4", "mknap1#7", "johnson8-2-4", "hamming6-4", "1dc.64"):
        pairs.append((load_shipped(name), "milp"))
    # QAPLIB n = 12 is beyond a plain MILP in demo time (its RLT root bound is far from the
    # optimum); the robust tabu search reaches the known optimum instead, with no proof.
    for name in ("chr12a", "nug12"):
        pairs.append((load_shipped(name), "qap-tabu"))
    return pairs


#: per-method time limits (seconds) in the demo; heuristics run until their budget
HEURISTIC_BUDGET = {"qap-tabu": 3.0}


def run_demo(time_limit: float = 60.0, out=sys.stdout) -> list:
    """Solve every demo instance and print the table; return the results."""
    header = f"{'instance':<28} {'family':<9} {'size':<16} {'method':<8} {'objective':>12} {'optimum':>12} {'gap %':>7} {'feasible':>8} {'time s':>7}"
    print(header, file=out)
    print("-" * len(header), file=out)
    results = []
    t0 = time.perf_counter()
    for problem, method in demo_instances():
        res = cutslack.solve(problem, method=method, rng=0, time_limit=min(time_limit, HEURISTIC_BUDGET.get(method, time_limit)))
        known = problem.known_optimum
        opt = f"{known.value:g}" if known is not None else (f"{res.bound:g}*" if res.status.value == "optimal" else "-")
        gap = "-" if res.gap is None else f"{100 * res.gap:.2f}"
        size = " ".join(f"{k}={v}" for k, v in problem.size.items())
        obj = "-" if res.objective is None else f"{res.objective:g}"
        print(f"{problem.name[:28]:<28} {problem.family:<9} {size[:16]:<16} {method:<8} {obj:>12} {opt:>12} {gap:>7} "
              f"{str(res.feasible):>8} {res.wall_time:>7.2f}", file=out)
        results.append(res)
    print("-" * len(header), file=out)
    print(f"{len(results)} instances, total {time.perf_counter() - t0:.1f} s   (* = optimum proven by the solver's own bound)",
          file=out)
    return results


def run_quick_suite(out_dir: str = "reports", workers: int = 2) -> int:
    """Run the shipped ``quick`` suite into ``out_dir/quick.db`` and write ``out_dir/quick/report.md``."""
    from pathlib import Path

    from cutslack.bench.cli import main as bench_main

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "quick.db"
    print(f"\nquick suite -> {db}  (rerun resumes; add --rerun to `cutslack bench run` to force)", flush=True)
    rc = bench_main(["run", "quick", "--db", str(db), "--workers", str(workers)])
    if rc not in (0, 1):
        return rc
    rc_report = bench_main(["report", "--db", str(db), "--out", str(out / "quick")])
    print(f"report: {(out / 'quick' / 'report.md').resolve()}")
    return rc or rc_report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="cutslack main job: exact solves of generated and library instances, "
                                                 "then the quick benchmark suite and its report")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance in the table")
    parser.add_argument("--skip-suite", action="store_true", help="print the table only")
    parser.add_argument("--out", default="reports", help="folder for the suite's database and report")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the suite")
    args = parser.parse_args(argv)
    results = run_demo(args.time_limit)
    rc = 0 if all(r.feasible for r in results) else 1
    if not args.skip_suite:
        rc = max(rc, run_quick_suite(args.out, args.workers))
    return rc


if __name__ == "__main__":
    sys.exit(main())
