"""Reports from a run store: a markdown file with tables and PNG plots, and head-to-head
comparisons of two solver configurations.

Definitions used throughout:

* **reference** of an instance: its known optimum where the library gives one, else the
  best feasible objective any stored run reached on it.
* **gap**: relative gap of a run's objective to the reference (``cutslack.result.relative_gap``),
  for feasible runs; the same yardstick for every solver, unlike the per-run ``gap`` column,
  which a solver may compute against its own bound.
* **hit**: a feasible run whose gap is at most ``target`` (default 1 %).
* **time to target**: the first time the run's incumbent was within the target, read from the
  incumbent history every solver records (``Result.info["incumbents"]``, stored as history
  events); runs stored without one (older cutslack) fall back to the run's end, and the
  report says how many did.
* **failed run**: an error, or a run that ended without a feasible answer.  A run stopped by
  its time limit with a feasible answer is not a failure; the tables count such runs as
  "time-limited".
* **performance profile** (Dolan & Moré 2002): for problem ``p`` (an instance and a seed)
  and solver ``s``, ``t[p, s]`` is the time to target, or infinity when the run missed it;
  the curve of ``s`` is ``ρ_s(τ) = share of problems with t[p, s] <= τ · min_s t[p, s]``.
  A solver above another is faster to the target on more problems at that slowdown ``τ``.

Plots use matplotlib's Agg backend; rendering a few thousand runs takes a few seconds.
:func:`write_report` writes ``report.md`` and a self-contained ``report.html`` (the same
tables, the plots embedded as base64 PNG) side by side.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cutslack.bench.store import Store
from cutslack.result import relative_gap

__all__ = ["load_runs", "summarise", "compare", "write_report", "performance_profile", "is_failure",
           "time_to_target", "FAILED", "ReportSection", "GAP_ZERO"]

#: statuses that make a run a failure whatever its answer (runs without a feasible answer fail too)
FAILED = ("error",)
#: relative gaps below this are drawn and tabulated as 0 (float noise, not a gap)
GAP_ZERO = 1e-9


def is_failure(run: dict) -> bool:
    """True for an error or a run that ended without a feasible answer (a time-limited feasible run is no failure)."""
    return run["status"] in FAILED or not run["feasible"]


def load_runs(store: Store, suite: str | None = None, *, target: float = 0.01) -> list[dict]:
    """Return the runs of a store with ``reference``, ``report_gap``, ``hit``, ``ttt`` (time to target),
    ``ttt_source`` (``"history"`` or ``"run end"``) and ``info`` (the stored scalar ``Result.info``) added."""
    runs = store.runs(suite)
    events = store.all_events(suite)
    for r in runs:
        e = events.get(r["id"], {"incumbents": None, "info": {}})
        r["incumbents"], r["info"] = e["incumbents"], e["info"]
    return _annotate(runs, target)


def time_to_target(run: dict, target: float) -> tuple[float, str]:
    """Return ``(seconds, source)``: when the run's incumbent first came within ``target`` of the reference.

    ``source`` is ``"history"`` when read from the incumbent history, ``"run end"`` when the run
    has none (the run's solver time); ``inf`` when it never did.
    """
    if not run["hit"]:
        return math.inf, "history" if run.get("incumbents") is not None else "run end"
    incumbents = run.get("incumbents")
    if incumbents:
        for elapsed, value in incumbents:
            gap = relative_gap(value, run["reference"], run["sense"] or "min")
            if gap is not None and gap <= target + 1e-12:
                return max(float(elapsed), 1e-6), "history"
    return max(float(run["solver_time"] or 0.0), 1e-6), "run end"


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
        r["report_gap"] = None if gap is None else (0.0 if gap < GAP_ZERO else gap)
        r["hit"] = bool(r["feasible"] and gap is not None and gap <= target + 1e-12)
        r["qubits"] = r["n_qubits"] if r["n_qubits"] is not None else r["n_vars"]
        r.setdefault("incumbents", None)
        r.setdefault("info", {})
        r["ttt"], r["ttt_source"] = time_to_target(r, target)
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
            "failed": sum(is_failure(r) for r in g),
            "errors": sum(r["status"] == "error" for r in g),
            "time_limits": sum(r["status"] == "time_limit" for r in g),
            "optimal": sum(r["status"] == "optimal" for r in g),
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
            ttt = r["ttt"] if "ttt" in r else max(r["solver_time"], 1e-6)
            T[index[(r["suite"], r["instance_id"], r["seed"])], solvers.index(r["solver"])] = ttt
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


@dataclass
class ReportSection:
    """A block of a report: a heading, paragraphs, an optional table (``columns`` + ``rows``) and a legend.

    The same section renders to markdown and to HTML, so ``report.md`` and ``report.html``
    always say the same thing.
    """

    title: str
    paragraphs: list = field(default_factory=list)
    columns: list | None = None
    rows: list | None = None
    legend: str = ""
    image: str | None = None
    level: int = 2


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        return f"{value:.4g}"
    return str(value)


def _markdown(sections: list[ReportSection]) -> str:
    lines = []
    for sec in sections:
        lines += ["#" * sec.level + " " + sec.title, ""]
        for para in sec.paragraphs:
            lines += [para, ""]
        if sec.columns:
            lines.append("| " + " | ".join(sec.columns) + " |")
            lines.append("|" + "---|" * len(sec.columns))
            for row in sec.rows or []:
                lines.append("| " + " | ".join(_cell(v).replace("|", "/") for v in row) + " |")
            lines.append("")
        if sec.image:
            lines += [f"![{sec.title}]({sec.image})", ""]
        if sec.legend:
            lines += [f"*{sec.legend}*", ""]
    return "\n".join(lines)


def _html(sections: list[ReportSection], out: Path, title: str) -> str:
    import base64
    import html

    esc = html.escape
    body = []
    for sec in sections:
        body.append(f"<h{sec.level}>{esc(sec.title)}</h{sec.level}>")
        for para in sec.paragraphs:
            body.append(f"<p>{esc(para)}</p>")
        if sec.columns:
            body.append("<table><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in sec.columns) + "</tr></thead><tbody>")
            for row in sec.rows or []:
                body.append("<tr>" + "".join(f"<td>{esc(_cell(v))}</td>" for v in row) + "</tr>")
            body.append("</tbody></table>")
        if sec.image:
            data = base64.b64encode((out / sec.image).read_bytes()).decode("ascii")
            body.append(f'<img alt="{esc(sec.title)}" src="data:image/png;base64,{data}">')
        if sec.legend:
            body.append(f'<p class="legend">{esc(sec.legend)}</p>')
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0;font-size:.9em}"
             "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
             "th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}"
             "img{max-width:100%;border:1px solid #eee;margin:.5em 0}.legend{color:#555;font-size:.85em;font-style:italic}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _no_runs_message(db, suite) -> str:
    with Store(db, readonly=True) as store:
        suites = store.suites()
        counts = {s: store.count(s) for s in suites}
    if not suites:
        return f"no runs in {db}: the database is empty (run `cutslack bench run SUITE --db {db}` first)"
    there = ", ".join(f"{s} ({counts[s]} runs)" for s in suites)
    return f"no runs of suite {suite!r} in {db}; suites there: {there}"


def _slack_kind(run: dict) -> str:
    if run["n_qubits"] is not None and run["n_vars"] is not None and run["n_qubits"] > run["n_vars"]:
        return "slack-bit"
    if run["n_qubits"] is not None:
        return "slack-free"
    return "classical"


_MARKERS = {"slack-bit": "s", "slack-free": "o", "classical": "^"}


def _legend_outside(ax, handles=None, fontsize=8):
    kwargs = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "fontsize": fontsize, "frameon": False}
    if handles is not None:
        kwargs["handles"] = handles
    ax.legend(**kwargs)


def _y_from_data(ax, values, *, floor=0.0):
    """Set the y range from the data (a small margin; a flat series gets a unit-wide window, not float noise)."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return
    lo, hi = float(min(v.min(), floor)), float(v.max())
    span = hi - lo
    if span <= 1e-9 * max(1.0, abs(hi)):
        span = max(1.0, abs(hi) * 0.1)
        hi = lo + span
    ax.set_ylim(lo - 0.05 * span, hi + 0.08 * span)


def _plot_gap_vs_qubits(plt, runs, colors, out):
    pts = [r for r in runs if r["qubits"] is not None and r["report_gap"] is not None]
    families = sorted({r["family"] for r in pts})
    if not families:
        return None
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

    cols = min(3, len(families))
    rows = -(-len(families) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols + 2.2, 3.4 * rows), squeeze=False)
    for ax, family in zip(axes.flat, families):
        mine = [r for r in pts if r["family"] == family]
        for s in sorted({r["solver"] for r in mine}):
            for kind in ("classical", "slack-free", "slack-bit"):
                sel = [r for r in mine if r["solver"] == s and _slack_kind(r) == kind]
                if sel:
                    ax.scatter([r["qubits"] for r in sel], [100 * r["report_gap"] for r in sel], color=colors[s],
                               marker=_MARKERS[kind], s=28, alpha=0.75, edgecolor="none")
        ax.set_xscale("log")
        values = np.unique([r["qubits"] for r in mine])
        candidates = values if values.size <= 6 else np.unique(np.round(np.geomspace(values[0], values[-1], 5)))
        ticks = [candidates[0]]
        for t in candidates[1:]:   # labels closer than a factor 1.25 on the log axis would overlap
            if t >= 1.25 * ticks[-1]:
                ticks.append(t)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FixedFormatter([f"{t:g}" for t in ticks]))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(values[0] / 1.3, values[-1] * 1.3)
        ax.set(title=family, xlabel="variables / qubits used (log)", ylabel="gap to reference (%)")
        _y_from_data(ax, [100 * r["report_gap"] for r in mine])
    for ax in axes.flat[len(families):]:
        ax.axis("off")
    used = sorted({r["solver"] for r in pts})
    handles = [Line2D([], [], color=colors[s], marker="o", linestyle="", label=s) for s in used]
    handles += [Line2D([], [], color="0.4", marker=_MARKERS[k], linestyle="", label=f"marker: {k}")
                for k in ("slack-bit", "slack-free", "classical")]
    _legend_outside(axes.flat[cols - 1], handles)
    fig.suptitle(f"Gap vs qubits per family (gaps below {GAP_ZERO:g} drawn as 0)")
    return fig


def _short(instance_id: str, width: int = 40) -> str:
    """Return an instance id short enough for an axis label (library prefix and ``random_`` dropped)."""
    name = instance_id.split("/")[-1].replace("random_", "")
    return name if len(name) <= width else name[: width - 1] + "…"


def _plot_qubits_saved(plt, runs):
    per_instance = {}
    for r in runs:
        if r["n_qubits"] is not None and r["n_vars"] is not None and r["n_qubits"] > r["n_vars"]:
            per_instance[r["instance_id"]] = max(per_instance.get(r["instance_id"], 0), r["n_qubits"] - r["n_vars"])
    if not per_instance:
        return None
    names = sorted(per_instance)[:40]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(names) + 2), 4))
    ax.bar(range(len(names)), [per_instance[n] for n in names], color="tab:green")
    ax.set_xticks(range(len(names)), [_short(n) for n in names], rotation=60, ha="right", fontsize=7)
    ax.set(ylabel="slack qubits saved (qubits)", xlabel="instance",
           title="Qubits saved per instance: slack-bit encoding minus slack-free (n)")
    return fig


def _plot_lagrangian(plt, store, runs):
    chosen, seen = [], set()
    for r in sorted(runs, key=lambda r: (r["seed"], r["instance_id"])):
        if r["method"] == "lagrangian" and r["instance_id"] not in seen and r["nit"] and r["nit"] > 1:
            hist = store.history(r["id"])
            if sum("dual_value" in h and h.get("best_primal") is not None for h in hist) >= 3:
                chosen.append((r, hist))
                seen.add(r["instance_id"])
        if len(chosen) == 4:
            break
    if not chosen:
        return None
    fig, axes = plt.subplots(1, len(chosen), figsize=(4.0 * len(chosen) + 1.8, 3.4), squeeze=False)
    for ax, (r, hist) in zip(axes.flat, chosen):
        it = [h.get("iteration", i + 1) for i, h in enumerate(hist)]
        primal = [h.get("best_primal") for h in hist]
        dual = [h.get("dual_value") for h in hist]
        ax.plot(it, [np.nan if v is None else v for v in primal], "-o", markersize=3, color="tab:blue",
                label="best primal (feasible)")
        ax.plot(it, [np.nan if v is None else v for v in dual], "--o", markersize=3, color="tab:orange",
                label="dual value")
        if r["reference"] is not None:
            ax.axhline(r["reference"], color="0.3", linestyle=":", linewidth=1, label="reference optimum")
        ax.set(title=f"{_short(r['instance_id'], 30)} ({r['solver']})", xlabel="iteration",
               ylabel="objective value")
        _y_from_data(ax, [v for v in primal + dual if v is not None] + ([r["reference"]] if r["reference"] else []),
                     floor=np.inf)
    _legend_outside(axes.flat[-1])
    fig.suptitle("Lagrangian: best primal value and dual value over iterations")
    return fig


def write_report(db, out_dir, *, suite: str | None = None, target: float = 0.01,
                 extra_sections: list | None = None) -> Path:
    """Write ``report.md``, ``report.html`` and their PNG plots into ``out_dir``; return the markdown's path.

    ``extra_sections`` (:class:`ReportSection`) go after the summary tables (the demo's
    headline tables).  Raises ``ValueError`` when the store has no runs (of ``suite``),
    naming the suites it does hold.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not Path(db).exists():
        raise ValueError(f"{db}: no such database")
    with Store(db, readonly=True) as store:
        runs = load_runs(store, suite, target=target)
        if not runs:
            raise ValueError(_no_runs_message(db, suite))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        solvers = sorted({r["solver"] for r in runs})
        colors = {s: plt.cm.tab10(i % 10) for i, s in enumerate(solvers)}
        plots = []

        def save(fig, name, title, legend):
            if fig is None:
                return
            fig.tight_layout()
            fig.savefig(out / name, dpi=90, bbox_inches="tight")
            plt.close(fig)
            plots.append(ReportSection(title, image=name, legend=legend))

        save(_plot_gap_vs_qubits(plt, runs, colors, out), "gap_vs_qubits.png", "Gap vs qubits",
             "One panel per family; x: variables or qubits the method used (log scale); squares: slack-bit "
             "encodings, circles: slack-free QUBOs, triangles: classical methods; y: gap to the reference in %.")
        save(_plot_qubits_saved(plt, runs), "qubits_saved.png", "Qubits saved per instance",
             "Bar: qubits of the slack-bit encoding minus the n qubits of the slack-free QUBO on that instance.")
        save(_plot_lagrangian(plt, store, runs), "lagrangian_convergence.png", "Lagrangian convergence",
             "Best feasible (repaired) objective and the dual value per iteration; where every subproblem was "
             "solved exactly the dual value is a bound, else an estimate.")

    fig, ax = plt.subplots(figsize=(7.5, 4))
    shares = [np.mean([bool(r["feasible"]) for r in runs if r["solver"] == s]) for s in solvers]
    ax.bar(range(len(solvers)), shares, color=[colors[s] for s in solvers])
    ax.set_xticks(range(len(solvers)), solvers, rotation=30, ha="right")
    ax.set(ylabel="share of runs with a feasible answer", ylim=(0, 1.05), xlabel="solver configuration",
           title="Feasible fraction by method")
    save(fig, "feasible_fraction.png", "Feasible fraction by method",
         "Share of each configuration's runs that returned a feasible answer.")

    from_end = sum(1 for r in runs if r["hit"] and r["ttt_source"] == "run end")
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for s in solvers:
        mine = [r for r in runs if r["solver"] == s]
        times = np.sort([r["ttt"] for r in mine if r["hit"]])
        if times.size:
            ax.step(np.concatenate([[times[0]], times]), np.arange(0, times.size + 1) / len(mine), where="post",
                    color=colors[s], label=s)
    ax.set(xscale="log", xlabel="time to target (s, log)", ylabel=f"share of runs within {100 * target:g} %",
           ylim=(0, 1.05), title="Time to target (first incumbent within target)")
    if ax.lines:
        _legend_outside(ax)
    save(fig, "time_to_target.png", f"Time to target (gap ≤ {100 * target:g} %)",
         "Share of each configuration's runs whose incumbent came within the target by time t (from the "
         "incumbent histories" + (f"; {from_end} runs without a history counted at their end)" if from_end else ")"))

    fig, ax = plt.subplots(figsize=(7.5, 4))
    sizes = []
    for (family, s) in sorted({(r["family"], r["solver"]) for r in runs}):
        by_size = defaultdict(list)
        for r in runs:
            if r["family"] == family and r["solver"] == s and r["status"] != "error":
                by_size[r["size"]].append(max(r["solver_time"], 1e-6))
        xs = sorted(by_size)
        if xs:
            ax.plot(xs, [np.median(by_size[x]) for x in xs], "o-", color=colors[s], label=f"{s} ({family})",
                    alpha=0.8)
            sizes += xs
    ax.set(yscale="log", xlabel="instance size n (variables of the native problem)", ylabel="median solver time (s)",
           title="Scaling of time with size")
    if ax.lines:
        _legend_outside(ax, fontsize=7)
    save(fig, "scaling.png", "Scaling of time with size", "Median solver time per configuration, family and size.")

    taus, profile = performance_profile(runs)
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for s, rho in profile.items():
        ax.step(taus, rho, where="post", color=colors[s], label=s)
    ax.set(xscale="log", xlabel="τ (slowdown vs the fastest configuration to target, log)",
           ylabel="share of problems ρ(τ)", ylim=(0, 1.05), title="Performance profile (time to target)")
    _legend_outside(ax)
    save(fig, "performance_profile.png", "Dolan–Moré performance profile on time to target",
         "ρ(τ): share of problems (instance, seed) a configuration brought within target at most τ times slower "
         "than the fastest one; time to target from the incumbent histories.")

    suites = sorted({r["suite"] for r in runs})
    columns = ["family", "solver", "runs", "feasible", "hit", "gap_pct", "time_s", "vars_or_qubits", "optimal",
               "time_limits", "failed"]

    def table(rows, cols):
        return [[(f"{100 * r[c]:.0f} %" if c in ("feasible", "hit") else r[c]) for c in cols] for r in rows]

    legend = ("feasible/hit: share of runs with a feasible answer / within target; gap_pct: median [25th, 75th "
              "percentile] gap to the reference in %; time_s: solver seconds; optimal: runs that proved "
              "optimality; time_limits: runs stopped by their time limit with a feasible answer (not failures); "
              "failed: errors and runs without a feasible answer.")
    n_history = sum(1 for r in runs if r["incumbents"] is not None)
    sections = [
        ReportSection(f"Benchmark report: {', '.join(suites)}", level=1, paragraphs=[
            f"{len(runs)} runs, {len({r['instance_id'] for r in runs})} instances, {len(solvers)} solver "
            f"configurations, seeds {sorted({r['seed'] for r in runs})}; database `{Path(db).name}`.",
            f"Gap is relative to the reference (known optimum, else the best feasible objective found by any run); "
            f"'hit' means feasible and within {100 * target:g} % of it. Time to target is read from the incumbent "
            f"histories ({n_history} of {len(runs)} runs have one"
            + (f"; the other {len(runs) - n_history} fall back to the run's end)." if n_history < len(runs) else ").")]),
        ReportSection("By family and method", columns=columns, rows=table(summarise(runs), columns), legend=legend),
        ReportSection("By method", columns=columns[1:], rows=table(summarise(runs, by=("solver",)), columns[1:]),
                      legend=legend),
    ]
    sections += list(extra_sections or [])
    options = {r["solver"]: (r["method"], r["options"]) for r in runs}
    sections.append(ReportSection("Solver configurations", columns=["solver", "method", "options"],
                                  rows=[[s, m, o] for s, (m, o) in sorted(options.items())]))
    sections += plots
    limited = [r for r in runs if r["status"] == "time_limit" and r["feasible"]]
    if limited:
        sections.append(ReportSection("Time-limited runs", paragraphs=[
            f"{len(limited)} runs reached their time limit and returned their best feasible answer (listed in the "
            "tables as time_limits, not as failures): " + ", ".join(sorted({r['solver'] for r in limited})) + "."]))
    failures = [r for r in runs if is_failure(r)]
    if failures:
        rows = [[r["solver"], r["instance_id"], r["seed"], r["status"],
                 (r["message"] or "").replace("\n", " ")[:160]] for r in failures[:50]]
        sections.append(ReportSection("Failed runs", columns=["solver", "instance", "seed", "status", "message"],
                                      rows=rows, paragraphs=[f"... and {len(failures) - 50} more."]
                                      if len(failures) > 50 else [],
                                      legend="Errors and runs that ended without a feasible answer."))
    versions = {r["cutslack_version"] for r in runs}
    hosts = {r["host"] for r in runs}
    sections.append(ReportSection("Environment", paragraphs=[
        f"cutslack {', '.join(sorted(versions))} on {', '.join(sorted(hosts))}; dependencies: "
        f"`{json.loads(runs[-1]['versions'] or '{}')}`"]))
    path = out / "report.md"
    path.write_text(_markdown(sections))
    (out / "report.html").write_text(_html(sections, out, f"cutslack report: {', '.join(suites)}"))
    return path
