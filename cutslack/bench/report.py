"""Reports from a run store: a markdown file with tables and PNG plots, and head-to-head
comparisons of two solver configurations.

Definitions used throughout:

* **reference** of an instance: its known optimum where the library gives one, else the
  best feasible objective any stored run reached on it.
* **gap**: relative gap of a run's objective to the reference (``cutslack.result.relative_gap``),
  for feasible runs; the same yardstick for every solver, unlike the per-run ``gap`` column,
  which a solver may compute against its own bound.
* **hit**: a feasible run whose gap is at most ``target`` (default 1 %).
* **time to target**: the solver time of a run that hit the target (the run's end, as the
  store keeps final results; a history may show an earlier hit).
* **performance profile** (Dolan & Moré 2002): for problem ``p`` (an instance and a seed)
  and solver ``s``, ``t[p, s]`` is the time to target, or infinity when the run missed it;
  the curve of ``s`` is ``ρ_s(τ) = share of problems with t[p, s] <= τ · min_s t[p, s]``.
  A solver above another is faster to the target on more problems at that slowdown ``τ``.

Plots use matplotlib's Agg backend; rendering a few thousand runs takes a few seconds.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from cutslack.bench.store import Store
from cutslack.result import relative_gap

__all__ = ["load_runs", "summarise", "compare", "write_report", "performance_profile", "FAILED"]

FAILED = ("error", "time_limit")


def load_runs(store: Store, suite: str | None = None) -> list[dict]:
    """Return the runs of a store with ``reference``, ``report_gap`` and ``hit`` fields added (target 1 %)."""
    return _annotate(store.runs(suite), target=0.01)


def _annotate(runs: list[dict], target: float) -> list[dict]:
    best = {}
    for r in runs:
        key = (r["suite"], r["instance_id"])
        if r["known_optimum"] is not None:
            best[key] = r["known_optimum"]
    for r in runs:
        key = (r["suite"], r["instance_id"])
        if r["known_optimum"] is not None or not r["feasible"] or r["objective"] is None:
            continue
        cur = best.get(key)
        better = cur is None or (r["objective"] > cur if r["sense"] == "max" else r["objective"] < cur)
        if better:
            best[key] = r["objective"]
    for r in runs:
        r["reference"] = best.get((r["suite"], r["instance_id"]))
        gap = relative_gap(r["objective"], r["reference"], r["sense"] or "min") if r["feasible"] else None
        r["report_gap"] = None if gap is None else max(gap, 0.0)
        r["hit"] = bool(r["feasible"] and gap is not None and gap <= target + 1e-12)
        r["qubits"] = r["n_qubits"] if r["n_qubits"] is not None else r["n_vars"]
    return runs


def _spread(values) -> str:
    """Return ``median [q25, q75]`` of the finite values, or ``-``."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return "-"
    q25, med, q75 = np.percentile(v, [25, 50, 75])
    return f"{med:.3g} [{q25:.3g}, {q75:.3g}]"


def summarise(runs: list[dict], by=("family", "solver")) -> list[dict]:
    """Return one row per group: runs, feasible and hit shares, gap and time medians with spreads."""
    groups = defaultdict(list)
    for r in runs:
        groups[tuple(r[k] for k in by)].append(r)
    rows = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        g = groups[key]
        n = len(g)
        row = dict(zip(by, key))
        row.update({
            "runs": n,
            "feasible": sum(bool(r["feasible"]) for r in g) / n,
            "hit": sum(r["hit"] for r in g) / n,
            "gap_pct": _spread([100 * r["report_gap"] for r in g if r["report_gap"] is not None]),
            "time_s": _spread([r["solver_time"] for r in g]),
            "vars_or_qubits": _spread([r["qubits"] for r in g if r["qubits"] is not None]),
            "errors": sum(r["status"] == "error" for r in g),
            "time_limits": sum(r["status"] == "time_limit" for r in g),
        })
        rows.append(row)
    return rows


def performance_profile(runs: list[dict], taus=None) -> tuple[np.ndarray, dict]:
    """Return ``(taus, {solver: ρ_s(taus)})``, the Dolan–Moré profile on time to target."""
    solvers = sorted({r["solver"] for r in runs})
    problems = sorted({(r["suite"], r["instance_id"], r["seed"]) for r in runs})
    index = {p: i for i, p in enumerate(problems)}
    T = np.full((len(problems), len(solvers)), np.inf)
    for r in runs:
        if r["hit"]:
            T[index[(r["suite"], r["instance_id"], r["seed"])], solvers.index(r["solver"])] = max(r["solver_time"],
                                                                                                 1e-6)
    best = T.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        ratio = np.where(np.isfinite(best), T / best, np.inf)
    if taus is None:
        finite = ratio[np.isfinite(ratio)]
        top = max(2.0, float(finite.max()) * 1.1) if finite.size else 2.0
        taus = np.geomspace(1.0, top, 200)
    taus = np.asarray(taus, dtype=float)
    n = max(len(problems), 1)
    return taus, {s: (ratio[:, j][:, None] <= taus[None, :]).sum(axis=0) / n for j, s in enumerate(solvers)}


def compare(store: Store, a: str, b: str, *, suite: str | None = None, rtol: float = 1e-9) -> dict:
    """Return solver ``a`` against solver ``b`` on the runs they share (same instance and seed).

    A feasible run beats an infeasible one; two feasible runs compare objectives under the
    instance's sense, equal within ``rtol`` being a tie; two infeasible runs tie.  Also the
    median ratio of solver times (a / b) and of objectives (a / b, both feasible).
    """
    runs = store.runs(suite)
    known = {r["solver"] for r in runs}
    for name in (a, b):
        if name not in known:
            raise ValueError(f"no runs of solver {name!r} in {store.path}; solvers there: {', '.join(sorted(known))}")
    by = defaultdict(dict)
    for r in runs:
        by[(r["suite"], r["instance_id"], r["seed"])][r["solver"]] = r
    wins = ties = losses = 0
    time_ratios, objective_ratios = [], []
    for pair in by.values():
        if a not in pair or b not in pair:
            continue
        ra, rb = pair[a], pair[b]
        if ra["feasible"] and rb["feasible"]:
            oa, ob = ra["objective"], rb["objective"]
            if math.isclose(oa, ob, rel_tol=rtol, abs_tol=1e-12):
                ties += 1
            elif (oa > ob) == (ra["sense"] == "max"):
                wins += 1
            else:
                losses += 1
            if ob != 0:
                objective_ratios.append(oa / ob)
        elif ra["feasible"]:
            wins += 1
        elif rb["feasible"]:
            losses += 1
        else:
            ties += 1
        if ra["solver_time"] and rb["solver_time"]:
            time_ratios.append(ra["solver_time"] / rb["solver_time"])
    shared = wins + ties + losses
    if shared == 0:
        raise ValueError(f"solvers {a!r} and {b!r} share no instance and seed in {store.path}")
    return {"a": a, "b": b, "pairs": shared, "wins": wins, "ties": ties, "losses": losses,
            "median_time_ratio": float(np.median(time_ratios)) if time_ratios else None,
            "median_objective_ratio": float(np.median(objective_ratios)) if objective_ratios else None}


def _markdown_table(rows: list[dict], columns: list[str], shares=("feasible", "hit")) -> str:
    def fmt(column, v):
        if column in shares:
            return f"{100 * v:.0f} %"
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(c, r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_report(db, out_dir, *, suite: str | None = None, target: float = 0.01) -> Path:
    """Write ``report.md`` and its PNG plots into ``out_dir`` from the runs in ``db``; return the report's path.

    Raises ``ValueError`` when the store has no runs (of ``suite``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with Store(db, readonly=True) as store:
        runs = _annotate(store.runs(suite), target)
    if not runs:
        raise ValueError(f"no runs{f' of suite {suite!r}' if suite else ''} in {db}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    solvers = sorted({r["solver"] for r in runs})
    colors = {s: plt.cm.tab10(i % 10) for i, s in enumerate(solvers)}
    plots = []

    def save(fig, name, title):
        fig.tight_layout()
        fig.savefig(out / name, dpi=90)
        plt.close(fig)
        plots.append((title, name))

    # gap vs qubits: slack-free methods use n variables, slack-bit ones add slack bits
    fig, ax = plt.subplots(figsize=(6, 4))
    for s in solvers:
        pts = defaultdict(list)
        for r in runs:
            if r["solver"] == s and r["qubits"] is not None and r["report_gap"] is not None:
                pts[r["qubits"]].append(100 * r["report_gap"])
        if pts:
            xs = sorted(pts)
            ax.plot(xs, [np.median(pts[x]) for x in xs], "o-", color=colors[s], label=s, alpha=0.8)
    ax.set(xlabel="variables / qubits used", ylabel="median gap to reference (%)", title="Gap vs qubits")
    if ax.lines:
        ax.legend(fontsize=8)
    save(fig, "gap_vs_qubits.png", "Gap vs qubits (slack-bit methods need more variables than slack-free ones)")

    fig, ax = plt.subplots(figsize=(6, 4))
    shares = [np.mean([bool(r["feasible"]) for r in runs if r["solver"] == s]) for s in solvers]
    ax.bar(range(len(solvers)), shares, color=[colors[s] for s in solvers])
    ax.set_xticks(range(len(solvers)), solvers, rotation=30, ha="right")
    ax.set(ylabel="feasible fraction", ylim=(0, 1.05), title="Feasible fraction by method")
    save(fig, "feasible_fraction.png", "Feasible fraction by method")

    fig, ax = plt.subplots(figsize=(6, 4))
    for s in solvers:
        mine = [r for r in runs if r["solver"] == s]
        times = np.sort([max(r["solver_time"], 1e-6) for r in mine if r["hit"]])
        if times.size:
            ax.step(times, np.arange(1, times.size + 1) / len(mine), where="post", color=colors[s], label=s)
    ax.set(xscale="log", xlabel="solver time (s)", ylabel=f"share of runs within {100 * target:g} % of reference",
           ylim=(0, 1.05), title="Time to target")
    if ax.lines:
        ax.legend(fontsize=8)
    save(fig, "time_to_target.png", f"Time to target (gap ≤ {100 * target:g} %)")

    fig, ax = plt.subplots(figsize=(6, 4))
    for (family, s) in sorted({(r["family"], r["solver"]) for r in runs}):
        by_size = defaultdict(list)
        for r in runs:
            if r["family"] == family and r["solver"] == s and r["status"] != "error":
                by_size[r["size"]].append(max(r["solver_time"], 1e-6))
        xs = sorted(by_size)
        if xs:
            ax.plot(xs, [np.median(by_size[x]) for x in xs], "o-", color=colors[s], label=f"{s} ({family})",
                    alpha=0.8)
    ax.set(yscale="log", xlabel="instance size n", ylabel="median solver time (s)", title="Scaling of time with size")
    if ax.lines:
        ax.legend(fontsize=7)
    save(fig, "scaling.png", "Scaling of time with size")

    taus, profile = performance_profile(runs)
    fig, ax = plt.subplots(figsize=(6, 4))
    for s, rho in profile.items():
        ax.step(taus, rho, where="post", color=colors[s], label=s)
    ax.set(xscale="log", xlabel="τ (slowdown vs the fastest solver to target)", ylabel="ρ(τ)", ylim=(0, 1.05),
           title="Performance profile (time to target)")
    ax.legend(fontsize=8)
    save(fig, "performance_profile.png", "Dolan–Moré performance profile on time to target")

    suites = sorted({r["suite"] for r in runs})
    columns = ["family", "solver", "runs", "feasible", "hit", "gap_pct", "time_s", "vars_or_qubits", "errors",
               "time_limits"]
    lines = [f"# Benchmark report: {', '.join(suites)}", "",
             f"{len(runs)} runs, {len({r['instance_id'] for r in runs})} instances, {len(solvers)} solver "
             f"configurations, seeds {sorted({r['seed'] for r in runs})}; database `{Path(db).name}`.", "",
             f"Gap is relative to the reference (known optimum, else the best feasible objective found by any run); "
             f"'hit' means feasible and within {100 * target:g} % of it. Cells show median [25th, 75th percentile] "
             "over instances and seeds.", "",
             "## By family and method", "", _markdown_table(summarise(runs), columns), "",
             "## By method", "", _markdown_table(summarise(runs, by=("solver",)), columns[1:]), ""]
    options = {r["solver"]: (r["method"], r["options"]) for r in runs}
    lines += ["## Solver configurations", "", "| solver | method | options |", "|---|---|---|"]
    lines += [f"| {s} | {m} | `{o}` |" for s, (m, o) in sorted(options.items())]
    lines += [""]
    for title, name in plots:
        lines += [f"## {title}", "", f"![{title}]({name})", ""]
    failures = [r for r in runs if r["status"] in FAILED]
    if failures:
        lines += ["## Failed runs", "", "| solver | instance | seed | status | message |", "|---|---|---|---|---|"]
        for r in failures[:50]:
            msg = (r["message"] or "").replace("|", "/").replace("\n", " ")[:160]
            lines.append(f"| {r['solver']} | {r['instance_id']} | {r['seed']} | {r['status']} | {msg} |")
        if len(failures) > 50:
            lines.append(f"\n... and {len(failures) - 50} more.")
        lines.append("")
    versions = {r["cutslack_version"] for r in runs}
    hosts = {r["host"] for r in runs}
    lines += ["## Environment", "", f"cutslack {', '.join(sorted(versions))} on {', '.join(sorted(hosts))}; "
              f"dependencies: `{json.loads(runs[-1]['versions'] or '{}')}`", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
