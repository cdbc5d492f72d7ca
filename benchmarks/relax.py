"""Learned SOR relaxation: Tsallis-INF bandits vs fixed ω over a sequence of shifted Laplacians.

The published setting of Khodak et al. (ICLR 2024, "Learning to Relax"): ``--count`` systems
``(-Δ + c I) x = b`` on an N×N interior grid (default N = 10, the paper's 100 unknowns),
``c = -0.15 + 0.6 Beta(a, b)`` (high-variance Beta(0.5, 1.5) and low-variance Beta(2, 6)),
radially truncated Gaussian ``b``, tolerance 1e-8, ω grid ``linspace(1, 1.95, 20)``.  For SOR
and SSOR-preconditioned CG, on the same sequence, it runs

* Tsallis-INF (one run per bandit seed) and the contextual Tsallis-INF-CB (context ``c``,
  5 bins on [-0.15, 0.65]), each choosing ω online from the iteration counts alone;
* ω = 1.8 (a common fixed choice);
* the best fixed ω of the grid in hindsight and the instance-optimal ω (each system's best
  grid ω), both read from the full (systems × grid) table of iteration counts, which this
  script computes by solving every system at every grid ω;

and prints total iterations and ratios, writing ``benchmarks/results/relax.md`` and a
cumulative-iterations plot ``benchmarks/results/relax.png``.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/relax.py               # 1,000 systems, N = 10
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/relax.py --quick       # 200 systems, 2 seeds
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/relax.py --methods sor --count 5000 --seeds 2 \
        --out relax_long                                                           # the paper's horizon
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from cutslack.surrogates.relax import (DEFAULT_OMEGAS, grid_costs, hindsight_baselines, random_shifted_laplacians,
                                       solve_sequence)

RESULTS = Path(__file__).resolve().parent / "results"
FIXED_OMEGA = 1.8
LATE = 200  # the window at the end of the sequence over which the learned policy is also compared


def versions() -> str:
    import numba
    import scipy
    return (f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
            f"Numba {numba.__version__}")


def run_setting(method: str, shift: str, *, n: int, count: int, seeds: list[int], sequence_seed: int) -> dict:
    """Every policy on one sequence; returns totals, per-system costs and timings."""
    systems = list(random_shifted_laplacians(n, count, shift=shift, rng=sequence_seed))
    start = time.perf_counter()
    table = grid_costs(systems, DEFAULT_OMEGAS, method=method)
    grid_time = time.perf_counter() - start
    base = hindsight_baselines(table, DEFAULT_OMEGAS)
    best_col = int(np.argmin(table.sum(axis=0)))
    fixed = solve_sequence(systems, method=method, policy=FIXED_OMEGA)
    learned = {"Tsallis-INF": [], "Tsallis-INF-CB (context c)": []}
    times = {}
    for label, policy in (("Tsallis-INF", "bandit"), ("Tsallis-INF-CB (context c)", "contextual")):
        start = time.perf_counter()
        for seed in seeds:
            learned[label].append(solve_sequence(systems, method=method, policy=policy, rng=seed))
        times[label] = (time.perf_counter() - start) / len(seeds)
    return {"method": method, "shift": shift, "table": table, "base": base, "best_col": best_col, "fixed": fixed,
            "learned": learned, "grid_time": grid_time, "times": times}


def summarise(res: dict) -> list[dict]:
    """One row per policy: mean / min / max total over seeds and ratios to the comparators."""
    base, table = res["base"], res["table"]
    best_total, fixed_total = base["best_fixed_total"], res["fixed"].total
    late_best = table[-LATE:].sum(axis=0).min()
    rows = []

    def row(policy, totals, late, failures):
        totals = np.asarray(totals, dtype=float)
        rows.append({"policy": policy, "mean": totals.mean(), "min": totals.min(), "max": totals.max(),
                     "vs_best": totals.mean() / best_total, "vs_fixed": totals.mean() / fixed_total,
                     "late": float(np.mean(late)) / late_best, "failures": failures})

    for label, runs in res["learned"].items():
        row(label, [r.total for r in runs], [r.costs[-LATE:].sum() for r in runs], sum(r.failures for r in runs))
    row(f"ω = {FIXED_OMEGA}", [fixed_total], [res["fixed"].costs[-LATE:].sum()], res["fixed"].failures)
    row(f"best fixed ω in hindsight (ω = {base['best_fixed_omega']:.2f})", [best_total],
        [table[-LATE:, res["best_col"]].sum()], 0)
    row("instance-optimal ω (grid)", [base["instance_optimal_total"]], [table[-LATE:].min(axis=1).sum()], 0)
    return rows


def plot(results: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.6), squeeze=False)
    for ax, res in zip(axes[0], results):
        table, base = res["table"], res["base"]
        x = np.arange(1, table.shape[0] + 1)
        for label, runs in res["learned"].items():
            ax.plot(x, np.mean([np.cumsum(r.costs) for r in runs], axis=0), label=label.split(" (")[0], lw=2)
        ax.plot(x, np.cumsum(res["fixed"].costs), "--", label=f"ω = {FIXED_OMEGA}")
        ax.plot(x, np.cumsum(table[:, res["best_col"]]), ":", label=f"best fixed ω = {base['best_fixed_omega']:.2f}")
        ax.plot(x, np.cumsum(table.min(axis=1)), "-.", label="instance-optimal")
        ax.set_title(f"{res['method']}, {res['shift']} shifts", fontsize=10)
        ax.set_xlabel("systems solved")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("cumulative iterations")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10, help="interior grid size N (N² unknowns); the paper's is 10")
    ap.add_argument("--count", type=int, default=1000, help="systems in the sequence")
    ap.add_argument("--seeds", type=int, default=5, help="bandit seeds per setting (same sequence)")
    ap.add_argument("--sequence-seed", type=int, default=0)
    ap.add_argument("--methods", nargs="+", default=["sor", "ssor-pcg"], choices=["sor", "ssor-pcg"])
    ap.add_argument("--quick", action="store_true", help="200 systems, 2 seeds")
    ap.add_argument("--out", default="relax", help="results file stem in benchmarks/results/ (.md and .png)")
    args = ap.parse_args(argv)
    if args.quick:
        args.count, args.seeds = 200, 2
    seeds = list(range(args.seeds))
    wall = time.perf_counter()
    results = []
    for method in args.methods:
        for shift in ("high-variance", "low-variance"):
            res = run_setting(method, shift, n=args.n, count=args.count, seeds=seeds, sequence_seed=args.sequence_seed)
            results.append(res)
            print(f"\n{method}, {shift} shifts, N = {args.n} ({args.n ** 2} unknowns), {args.count} systems, "
                  f"{len(seeds)} bandit seeds (grid table {res['grid_time']:.1f} s)")
            for r in summarise(res):
                print(f"  {r['policy']:<45} total {r['mean']:>10.0f}  x best-fixed {r['vs_best']:.3f}  "
                      f"x ω=1.8 {r['vs_fixed']:.3f}  last-{LATE} x best-fixed {r['late']:.3f}")
    wall = time.perf_counter() - wall

    lines = ["# Learned SOR relaxation (Tsallis-INF bandits) vs fixed ω", "",
             f"Written by `benchmarks/relax.py`: `python benchmarks/relax.py {' '.join(sys.argv[1:])}`; "
             f"threads OMP={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
             f"NUMBA={os.environ.get('NUMBA_NUM_THREADS', 'unset')}; {versions()}; "
             f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; whole run {wall:.0f} s "
             "(wall times on a shared 2-core machine, noisy; iteration counts are exact and deterministic).", "",
             f"Setting (Khodak et al., ICLR 2024): {args.count} systems `(-Δ + c I) x = b`, five-point Laplacian on a "
             f"{args.n}×{args.n} interior grid ({args.n ** 2} unknowns, unscaled: 4 on the diagonal), "
             "`c = -0.15 + 0.6 Beta(a, b)`, b radially truncated Gaussian, relative residual 1e-8, cap 10,000; "
             f"ω grid linspace(1, 1.95, 20); sequence seed {args.sequence_seed}; bandit seeds {seeds} on the same "
             "sequence (totals: mean over seeds, [min, max]). Best fixed ω and instance-optimal ω are minima over "
             "the grid from the full table of iteration counts (every system solved at every grid ω). "
             f"`last {LATE}`: total over the final {LATE} systems relative to the best fixed ω in hindsight for that "
             "window (how good the learned policy has become).", ""]
    for res in results:
        lines += [f"## {res['method']}, {res['shift']} shifts", "",
                  "| policy | total iterations | [min, max] over seeds | × best fixed | × ω = 1.8 | last "
                  f"{LATE} × best fixed | not converged |", "|---|---|---|---|---|---|---|"]
        for r in summarise(res):
            lines.append(f"| {r['policy']} | {r['mean']:.0f} | [{r['min']:.0f}, {r['max']:.0f}] | {r['vs_best']:.3f} "
                         f"| {r['vs_fixed']:.3f} | {r['late']:.3f} | {r['failures']} |")
        rows = summarise(res)
        bandit = rows[0]
        lines += ["", f"Target (bandit total within 10 % of the best fixed ω in hindsight, and below ω = 1.8): "
                      f"Tsallis-INF × best fixed = {bandit['vs_best']:.3f} "
                      f"({'met' if bandit['vs_best'] <= 1.10 else 'NOT met'}), × ω = 1.8 = {bandit['vs_fixed']:.3f} "
                      f"({'below' if bandit['vs_fixed'] < 1 else 'NOT below'}); contextual × best fixed = "
                      f"{rows[1]['vs_best']:.3f}, × ω = 1.8 = {rows[1]['vs_fixed']:.3f}. "
                      f"Time per bandit run {res['times']['Tsallis-INF']:.1f} s; grid table {res['grid_time']:.1f} s.",
                  ""]
    lines += [f"![cumulative iterations]({args.out}.png)", ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines))
    plot(results, RESULTS / f"{args.out}.png")
    print(f"\nwrote {RESULTS / args.out}.md and .png ({wall:.0f} s)")


if __name__ == "__main__":
    main()
