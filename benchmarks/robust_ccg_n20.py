"""Exact methods on the public n = 20 two-stage robust knapsack instances vs the published branch-and-price.

For each public instance with 20 items (Arslan & Detienne's files; the branch-and-price CSV
proves every one of them optimal) this runs an exact method (``--method``: ``branch_and_price``,
our branch-and-price on Arslan & Detienne's reformulation, the default; or ``ccg``, HiGHS
``threads=1``) with a time limit (120 s by default), prints per instance our time / status /
value next to the CSV's branch-and-price time / value, and checks:

* a run that **finished** (status OPTIMAL) returns the published optimum: the exact worst-case
  profit of its decision equals the CSV value to ``max(1e-6 relative, half a unit of the 6th
  significant digit)`` — the CSV prints (nearly all) values with C++'s default 6 significant
  digits (``10213.5`` for 10213.47, ``15447.4``, ``4358.41``), so that rounding is allowed on top
  of the 1e-6 relative tolerance;
* every run's upper bound (``Result.bound``) is valid: at least the published optimum (less the
  same rounding allowance).

The summary gives the number certified (OPTIMAL) within the limit and the median of our time
over the published time (an unfinished run counts with the time limit, a lower bound of its
ratio).  The published times are Arslan & Detienne's own machine (C++), ours this shared one.

Instances run in an interleaved order (correlation, then h / budget factor / delta) so that a
partial sweep (``--limit``) still spreads over the grid.  The results file is rewritten after
every instance, so an interrupted sweep leaves an honest partial table (it says how many ran).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/robust_ccg_n20.py [--method branch_and_price] [--time-limit 120]
        [--limit K] [--match SUBSTRING ...] [--out benchmarks/results/robust_bp_n20.md]

Timings on the shared 2-core machine are noisy (other jobs run at the same time), which can
decide whether a run finishes within the limit.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provenance import portable_args, results_header  # noqa: E402
import cutslack  # noqa: E402
from cutslack.problems.library import read_robust_knapsack  # noqa: E402
from cutslack.problems.library.robust_kp import INSTANCE_FOLDER  # noqa: E402
from cutslack.result import Status  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = Path(os.environ.get("CUTSLACK_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))
FOLDER = BENCHMARKS / "ro" / INSTANCE_FOLDER
RESULTS = {"ccg": REPO / "benchmarks" / "results" / "robust_ccg_n20.md",
           "branch_and_price": REPO / "benchmarks" / "results" / "robust_bp_n20.md"}
CSV = BENCHMARKS / "ro" / "ResultsForBranchAndPrice_public.csv"

#: relative tolerance of a match; the CSV's values have 6 significant digits
REL_TOL = 1e-6
SIGNIFICANT_DIGITS = 6
#: the results table prints values with two decimals (a merged sweep re-checks with this added)
PRINT_ROUNDING = 0.005


def instances(matches=()) -> list[Path]:
    """The public n = 20 instance files, interleaved over the correlation types."""
    files = sorted(p for p in FOLDER.glob("RKP_*_n20_*") if p.is_file())
    if matches:
        files = [p for p in files if any(m in p.name for m in matches)]
    by_corr: dict[str, list[Path]] = {}
    for p in files:
        by_corr.setdefault(p.name.split("_")[1], []).append(p)
    order = []
    for j in range(max((len(v) for v in by_corr.values()), default=0)):
        for corr in ("UN", "WC", "ASC", "SC"):
            if j < len(by_corr.get(corr, [])):
                order.append(by_corr[corr][j])
    return order


def published_times(path=CSV) -> dict[str, float]:
    """``{file name: published branch-and-price time in seconds}`` from the results CSV (runs the
    CSV marks ``TIME_LIMIT``, none with 20 items, are left out)."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return {row["File name"].strip(): float(row["Time"]) for row in csv.DictReader(handle)
                if row["Time"].strip() != "TIME_LIMIT"}


def tolerance(published: float) -> float:
    """``max(REL_TOL |published|, half a unit of the published value's last significant digit)``."""
    digit = 10.0 ** (np.floor(np.log10(max(abs(published), 1e-12))) - (SIGNIFICANT_DIGITS - 1))
    return max(REL_TOL * abs(published), 0.5 * digit)


def run_one(path: Path, time_limit: float, threads: int, method: str = "ccg") -> dict:
    problem = read_robust_knapsack(path)
    published = problem.known_optimum
    options = {"threads": threads} if method == "ccg" else {}
    start = time.perf_counter()
    result = cutslack.solve(problem, method=method, rng=0, time_limit=time_limit, **options)
    wall = time.perf_counter() - start
    finished = result.status is Status.OPTIMAL
    tol = tolerance(published.value)
    return {"name": path.name, "published": published.value, "proven": published.proven,
            "value": result.objective, "bound": result.bound, "status": result.status.name, "time": wall,
            "iterations": result.nit, "scenarios": result.info.get("scenarios", result.info.get("columns")),
            "finished": finished, "published_time": published_times().get(path.name, float("nan")),
            "matched": finished and abs(result.objective - published.value) <= tol,
            "bound_valid": result.bound is not None and result.bound >= published.value - tol,
            "value_valid": result.objective <= published.value + tol}


def write(rows, args, total: int, out: Path, complete: bool) -> None:
    """Write the results file (provenance header, per-instance table, summary)."""
    import highspy

    label = {"ccg": "CCG", "branch_and_price": "B&P (ours)"}.get(args.method, args.method)
    extra = (f"method={args.method}, HiGHS {getattr(highspy, '__version__', '?')} (threads=1 "
             f"{'for the LPs' if args.method != 'ccg' else f'main-problem threads={args.threads}'})")
    lines = [f"# Exact {label} on the public n = 20 two-stage robust knapsack instances", "",
             results_header(__file__, args.argv, extra=extra),
             *([f"Rows merged from {len(args.combine)} partial sweeps, whose commands were: "
                + "; ".join(f"`{c}`" for c in partial_commands(args.combine)), ""]
               if getattr(args, "combine", None) else []),
             f"Time limit {args.time_limit:g} s per instance. Published = Arslan & Detienne's branch-and-price "
             "optimum and time (every public n = 20 instance is proven optimal in the CSV; their times are their "
             "C++ code on their machine). A finished run (OPTIMAL) "
             f"matches when |ours − published| ≤ max({REL_TOL:g} × published, half a unit of the published "
             f"value's {SIGNIFICANT_DIGITS}th significant digit) (the CSV prints 6 significant digits, e.g. "
             "10213.5 or 4358.41); a bound is valid when bound ≥ published − the same tolerance. Value = the EXACT "
             "worst-case profit of our decision. Ratio = our time / published time (an unfinished run: the time "
             "limit, so its ratio is a lower bound). `cols/scen` = columns generated (B&P) or scenarios (CCG).", "",
             f"**{'Complete' if complete else 'Partial'} sweep: {len(rows)} of {total} public n = 20 instances run"
             f"{'' if complete else ' (the rest were not run: see the command)'}.**", "",
             f"| instance | published | {label} value | {label} bound | status | time s | published time s | "
             "ratio | iterations / nodes | cols/scen | matched | bound valid |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        bound = f"{r['bound']:.2f}" if r["bound"] is not None else "-"
        lines.append(f"| {r['name']} | {r['published']:.2f} | {r['value']:.2f} | {bound} | {r['status']} | "
                     f"{r['time']:.1f} | {r['published_time']:.3g} | {r['time'] / r['published_time']:.2f} | "
                     f"{r['iterations']} | {r['scenarios']} | "
                     f"{('yes' if r['matched'] else 'NO') if r['finished'] else '-'} | "
                     f"{'yes' if r['bound_valid'] else 'NO'} |")
    if rows:
        lines += ["", *summary(rows, args.time_limit)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


def summary(rows, time_limit: float) -> list[str]:
    """The summary table of the per-instance rows."""
    times = np.array([r["time"] for r in rows])
    ratios = np.array([r["time"] / r["published_time"] for r in rows])
    done = [r for r in rows if r["finished"]]
    done_times = np.array([r["time"] for r in done])
    gaps = np.array([100 * (r["published"] - r["value"]) / r["published"] for r in rows if not r["finished"]])
    lines = ["| summary | value |", "|---|---|",
             f"| instances run | {len(rows)} |",
             f"| certified within {time_limit:g} s (OPTIMAL) | {len(done)} of {len(rows)} |",
             f"| finished and equal to the published optimum | {sum(r['matched'] for r in done)} of {len(done)} |",
             f"| valid upper bound (≥ published) | {sum(r['bound_valid'] for r in rows)} of {len(rows)} |",
             f"| value ≤ published (no value above a proven optimum) | {sum(r['value_valid'] for r in rows)} of "
             f"{len(rows)} |",
             f"| time median / max, all runs (s) | {np.median(times):.1f} / {times.max():.1f} |",
             "| time median / max, finished runs (s) | " + (f"{np.median(done_times):.1f} / "
                                                           f"{done_times.max():.1f} |" if done else "- |"),
             f"| median time ratio ours / published (unfinished at the limit) | {np.median(ratios):.2f} |",
             f"| published time median (same instances, s) | {np.median([r['published_time'] for r in rows]):.2f} |"]
    if gaps.size:
        lines.append(f"| unfinished runs: error of the incumbent vs published, median / max (%) | "
                     f"{np.median(gaps):+.3f} / {gaps.max():+.3f} |")
    return lines


def read_rows(path) -> list[dict]:
    """The per-instance rows of a results file written by :func:`write` (12 columns, or the older 10)."""
    rows = []
    published_time = published_times()
    for line in Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) not in (10, 12) or not cells[0].startswith("RKP_"):
            continue
        if len(cells) == 12:
            del cells[6:8]          # published time and ratio: taken from the CSV again
        name, published, value, bound, status, secs, iterations, scenarios, matched, bound_valid = cells
        published, value = float(published), float(value)
        bound = None if bound == "-" else float(bound)
        tol = tolerance(published)
        finished = status == "OPTIMAL"
        # the file's verdicts, or this tolerance re-applied to the printed values with their
        # rounding counted against them (a file written with an older, stricter tolerance)
        rows.append({"name": name, "published": published, "value": value, "bound": bound, "status": status,
                     "time": float(secs), "iterations": int(iterations), "scenarios": scenarios, "finished": finished,
                     "published_time": published_time.get(name, float("nan")),
                     "matched": matched == "yes" or (finished and abs(value - published) + PRINT_ROUNDING <= tol),
                     "bound_valid": bound_valid == "yes" or (bound is not None
                                                             and bound - PRINT_ROUNDING >= published - tol),
                     "value_valid": value - PRINT_ROUNDING <= published + tol})
    return rows


def partial_commands(paths) -> list[str]:
    """The ``Command:`` lines of results files written by this script."""
    commands = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.startswith("Command: `"):
                commands.append(line.split("`")[1])
    return commands


def combine(paths, order) -> list[dict]:
    """Rows of several partial sweeps, one per instance, in the sweep's order."""
    by_name = {}
    for path in paths:
        for row in read_rows(path):
            by_name.setdefault(row["name"], row)
    return [by_name[p.name] for p in order if p.name in by_name]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--method", default="branch_and_price", choices=("branch_and_price", "ccg"))
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--limit", type=int, default=None, help="run only the first K instances of the order")
    parser.add_argument("--match", nargs="+", default=(), help="only instances whose name contains one of these")
    parser.add_argument("--threads", type=int, default=1, help="HiGHS threads")
    parser.add_argument("--reverse", action="store_true", help="run the order from its end (a second process "
                        "sweeping towards a first one)")
    parser.add_argument("--combine", nargs="+", default=None, metavar="MD",
                        help="run nothing: merge the per-instance rows of these results files (written by this "
                        "script, e.g. a forward and a --reverse sweep) into --out")
    parser.add_argument("--out", default=None, help="results file (default: robust_bp_n20.md for branch_and_price, "
                        "robust_ccg_n20.md for ccg)")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    files = instances(args.match)
    total = len(files)
    out = Path(args.out) if args.out else RESULTS[args.method]
    if args.combine:
        rows = combine(args.combine, files)
        write(rows, args, total, out, complete=len(rows) == total)
        print(f"wrote {out} ({len(rows)} of {total} instances)")
        return
    if args.reverse:
        files = files[::-1]
    if args.limit is not None:
        files = files[:args.limit]
    # one untimed solve first: the first call imports the solver modules and loads Numba's cache
    from cutslack.problems import random_robust_knapsack
    cutslack.solve(random_robust_knapsack(6, rng=0), method=args.method, rng=0, time_limit=30)
    rows = []
    for path in files:
        row = run_one(path, args.time_limit, args.threads, args.method)
        rows.append(row)
        print(f"{row['name']}: published {row['published']:.2f} in {row['published_time']:.3g}s | ours "
              f"{row['value']:.2f} bound {row['bound'] if row['bound'] is None else round(row['bound'], 2)} "
              f"{row['status']} {row['time']:.1f}s (ratio {row['time'] / row['published_time']:.2f}) "
              f"matched={row['matched']} bound_valid={row['bound_valid']}", flush=True)
        write(rows, args, total, out, complete=len(rows) == total)
    print("\n".join(summary(rows, args.time_limit)) if rows else "no instance run")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
