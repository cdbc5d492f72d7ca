"""Two-stage robust knapsack: exact CCG vs Neur2RO-style learned CCG on the public instances.

For each instance (Arslan & Detienne's files, a spread over correlation types and n), both
methods run in this script one after the other; each returned first-stage decision is scored
by the **exact** worst case (row generation, never the network).  Columns: the published
branch-and-price value (proven or best known), our exact worst-case profit, the relative error
``(published - ours) / published`` in per cent (negative = better than the published value),
the solve time (the method's loop; the exact scoring of the answer is timed separately), and
CCG's upper bound.  Writes ``benchmarks/results/robust.md`` and ``robust.png``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/robust.py [--n 20 50 80] [--corr UN WC ASC SC]
        [--ccg-limit 10] [--neur2ro-limit 30]

Timings on the shared 2-core machine are noisy (other jobs run at the same time).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cutslack  # noqa: E402
from cutslack.problems.library import read_robust_knapsack  # noqa: E402
from cutslack.problems.robust import worst_case_profit  # noqa: E402
from cutslack.surrogates.robust_value import load_value_network  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(os.environ.get("CUTSLACK_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))
FOLDER = BENCHMARKS / "ro" / "TwoStageRobustKnapsackInstances"
RESULTS = REPO / "benchmarks" / "results" / "robust.md"
PLOT = REPO / "benchmarks" / "results" / "robust.png"


def relative_error(value, published):
    return 100.0 * (published - value) / abs(published)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20, 50, 80])
    parser.add_argument("--corr", nargs="+", default=["UN", "WC", "ASC", "SC"])
    parser.add_argument("--variant", default="h40_dev0.1_d0.5", help="the h / budget factor / delta part of the names")
    parser.add_argument("--ccg-limit", type=float, default=10.0)
    parser.add_argument("--neur2ro-limit", type=float, default=30.0)
    args = parser.parse_args(argv)
    network = load_value_network()
    warm = read_robust_knapsack(FOLDER / f"RKP_UN_n20_R1000_H100_{args.variant}")  # compile and import first
    cutslack.solve(warm, method="neur2ro", model=network, time_limit=5, max_iterations=1)
    rows = []
    for n in args.n:
        for corr in args.corr:
            path = FOLDER / f"RKP_{corr}_n{n}_R1000_H100_{args.variant}"
            if not path.is_file():
                print(f"skip {path.name}: not in the public set")
                continue
            problem = read_robust_knapsack(path)
            published = problem.known_optimum
            row = {"name": path.name, "n": n, "corr": corr, "published": published.value, "proven": published.proven}
            for method, limit in (("ccg", args.ccg_limit), ("neur2ro", args.neur2ro_limit)):
                start = time.perf_counter()
                result = cutslack.solve(problem, method=method, rng=0, time_limit=limit,
                                        **({"model": network} if method == "neur2ro" else {}))
                total = time.perf_counter() - start
                loop = result.info.get("loop_seconds", result.wall_time)
                row[method] = {"value": result.objective, "err": relative_error(result.objective, published.value),
                               "time": loop, "total": total, "status": result.status.name, "bound": result.bound,
                               "iterations": result.nit, "x": result.x}
            # the exact scoring of Neur2RO's decision, timed on its own (a fresh read: no memo)
            fresh = read_robust_knapsack(path)
            start = time.perf_counter()
            worst_case_profit(fresh, row["neur2ro"]["x"])
            row["neur2ro"]["scoring"] = time.perf_counter() - start
            rows.append(row)
            print(f"{path.name}: published {published.value} | ccg {row['ccg']['value']:.2f} "
                  f"({row['ccg']['err']:+.2f}%, {row['ccg']['time']:.1f}s, {row['ccg']['status']}) | "
                  f"neur2ro {row['neur2ro']['value']:.2f} ({row['neur2ro']['err']:+.2f}%, "
                  f"{row['neur2ro']['time']:.1f}s)", flush=True)
    write(rows, args, network)


def write(rows, args, network) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    versions = f"cutslack {getattr(cutslack, '__version__', '0.1.0')}, numpy {np.__version__}, python {platform.python_version()}"
    import highspy  # noqa: F401
    import pyomo

    lines = ["# Two-stage robust knapsack: exact CCG vs Neur2RO-style learned CCG", "",
             f"Command: `OMP_NUM_THREADS=1 python benchmarks/robust.py {' '.join(sys.argv[1:])}`  ",
             f"Threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, HiGHS threads=1  ",
             f"Versions: {versions}, pyomo {pyomo.__version__}  ",
             f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  ",
             f"Machine: shared 2-core CPU, other jobs running: times are noisy.  ",
             f"Model: `{SHIPPED}` (validation relative MAE {network.info.get('val_relative_mae', float('nan')):.4f}, "
             f"{network.info.get('samples')} samples, seed {network.info.get('seed')})", "",
             "Relative error = (published − ours) / published, in %, of the EXACT worst-case profit of each method's "
             "decision (negative = better than the published value). Time = the method's loop; Neur2RO's exact "
             "scoring of its answer is listed separately. Published = Arslan & Detienne branch-and-price "
             "(proven optimum, or best known when not solved within their 3 h).", "",
             f"CCG time limit {args.ccg_limit:g} s, Neur2RO time limit {args.neur2ro_limit:g} s.", "",
             "| instance | published | proven | CCG value | CCG err % | CCG time s | CCG status | CCG bound | "
             "Neur2RO value | Neur2RO err % | Neur2RO time s | scoring s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c, m = r["ccg"], r["neur2ro"]
        bound = f"{c['bound']:.2f}" if c["bound"] is not None else "-"
        lines.append(f"| {r['name']} | {r['published']:.2f} | {'yes' if r['proven'] else 'no'} | {c['value']:.2f} | "
                     f"{c['err']:+.3f} | {c['time']:.1f} | {c['status']} | {bound} | {m['value']:.2f} | "
                     f"{m['err']:+.3f} | {m['time']:.1f} | {m['scoring']:.1f} |")
    if rows:
        ce = np.array([r["ccg"]["err"] for r in rows])
        me = np.array([r["neur2ro"]["err"] for r in rows])
        ct = np.array([r["ccg"]["time"] for r in rows])
        mt = np.array([r["neur2ro"]["time"] for r in rows])
        lines += ["", "| method | median err % | mean err % | max err % | median time s | max time s |",
                  "|---|---|---|---|---|---|",
                  f"| CCG | {np.median(ce):+.3f} | {ce.mean():+.3f} | {ce.max():+.3f} | {np.median(ct):.1f} | {ct.max():.1f} |",
                  f"| Neur2RO | {np.median(me):+.3f} | {me.mean():+.3f} | {me.max():+.3f} | {np.median(mt):.1f} | "
                  f"{mt.max():.1f} |",
                  "", f"Neur2RO time / CCG time (median of per-instance ratios): {np.median(mt / ct):.2f}"]
        fig, ax = plt.subplots(figsize=(6, 4))
        for key, marker in (("ccg", "o"), ("neur2ro", "s")):
            ax.scatter([r[key]["time"] for r in rows], [r[key]["err"] for r in rows], marker=marker,
                       label={"ccg": "exact CCG", "neur2ro": "Neur2RO (learned)"}[key])
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("relative error vs published (%)")
        ax.set_title("two-stage robust knapsack, public instances")
        ax.legend()
        fig.tight_layout()
        fig.savefig(PLOT, dpi=110)
        lines += ["", f"![error vs time]({PLOT.name})"]
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


SHIPPED = "cutslack/surrogates/models/robust_knapsack_value.npz"

if __name__ == "__main__":
    main()
