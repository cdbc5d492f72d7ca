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
           "time_to_target", "FAILED", "ReportSection", "GAP_ZERO", "raw_quality", "flat_series", "palette",
           "SAMPLED_LAGRANGIAN_LABEL", "MARKER_CYCLE"]

#: statuses that make a run a failure whatever its answer (runs without a feasible answer fail too)
FAILED = ("error",)
#: relative gaps below this are drawn and tabulated as 0 (float noise, not a gap)
GAP_ZERO = 1e-9
#: how the Lagrangian plot labels a dual value from a sampled (not exactly solved) subproblem
SAMPLED_LAGRANGIAN_LABEL = "sampled Lagrangian value — not a bound"


def is_failure(run: dict) -> bool:
    """True for an error or a run that ended without a feasible answer (a time-limited feasible run is no failure)."""
    return run["status"] in FAILED or not run["feasible"]


def raw_quality(run: dict) -> tuple[float | None, float | None]:
    """Return ``(raw feasible fraction, raw gap)`` of a QUBO run, read from its stored ``info``.

    ``raw_feasible_fraction`` is the share of samples feasible before repair and the raw gap
    is the gap of ``best_raw_objective`` (the best raw feasible sample) to the run's reference
    (its known optimum where it has no ``reference``).  ``(None, None)`` for a run that does
    not report raw samples (classical methods); the gap is None when no raw sample was feasible.
    """
    info = run.get("info") or {}
    fraction = info.get("raw_feasible_fraction")
    if fraction is None:
        return None, None
    raw, reference = info.get("best_raw_objective"), run.get("reference", run.get("known_optimum"))
    if raw is None or reference is None or run.get("sense") is None:
        return float(fraction), None
    gap = relative_gap(raw, reference, run["sense"])
    return float(fraction), None if gap is None else (0.0 if gap < GAP_ZERO else gap)


def flat_series(values, *, atol: float = 1e-12) -> bool:
    """True when a series carries no information on a plot: no finite value, or every finite value equal."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    return v.size == 0 or bool(np.all(np.abs(v - v[0]) <= atol * max(1.0, abs(v[0]))))


def palette(n: int) -> list:
    """Return ``n`` distinct qualitative colours (tab10; tab20's dark then light shades past 10; repeats past 20)."""
    import matplotlib

    if n <= 10:
        colors = list(matplotlib.colormaps["tab10"].colors)
    else:
        tab20 = list(matplotlib.colormaps["tab20"].colors)
        colors = tab20[0::2] + tab20[1::2]
    return [colors[i % len(colors)] for i in range(n)]


#: markers cycled with :func:`palette`, so series stay apart in grey print and past 20 colours
MARKER_CYCLE = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")


def _not_drawn(dropped: dict) -> str:
    """Return the caption sentence naming dropped series: ``{why: [series, ...]}`` -> "Not drawn: a, b (why)."."""
    parts = [f"{', '.join(names)} ({why})" for why, names in dropped.items() if names]
    return f" Not drawn (no information): {'; '.join(parts)}." if parts else ""


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
        r["raw_feasible"], r["raw_gap"] = raw_quality(r)
    return runs


def _spread(values) -> str:
    """Return ``median [q25, q75]`` of the finite values, or ``-``."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return "-"
    q25, med, q75 = np.percentile(v, [25, 50, 75])
    return f"{med:.3g} [{q25:.3g}, {q75:.3g}]"


def summarise(runs: list[dict], by=("family", "solver")) -> list[dict]:
    """Return one row per group: runs, feasible and hit shares, gap and time medians with spreads.

    For QUBO methods also the raw samples' quality before repair: ``raw_gap_pct`` (gap of the
    best raw feasible sample, runs that had one) and ``raw_feasible_pct`` (share of raw samples
    feasible, in %); ``-`` for methods that do not report raw samples.
    """
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
            "raw_gap_pct": _spread([100 * r["raw_gap"] for r in g if r.get("raw_gap") is not None]),
            "raw_feasible_pct": _spread([100 * r["raw_feasible"] for r in g if r.get("raw_feasible") is not None]),
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
    """Return ``(figure or None, note)``: gap against qubits per family.

    A family panel whose every gap is equal (all 0 %, say) is dropped, then every solver whose
    remaining gaps are all equal; ``note`` names what was dropped and why.
    """
    pts = [r for r in runs if r["qubits"] is not None and r["report_gap"] is not None]
    dropped = defaultdict(list)
    flat_panels = set()
    for family in sorted({r["family"] for r in pts}):
        gaps = [100 * r["report_gap"] for r in pts if r["family"] == family]
        if flat_series(gaps):
            flat_panels.add(family)
            dropped[f"every gap {gaps[0]:.2g} %"].append(f"the {family} panel")
    pts = [r for r in pts if r["family"] not in flat_panels]
    for s in sorted({r["solver"] for r in pts}):
        gaps = [100 * r["report_gap"] for r in pts if r["solver"] == s]
        if flat_series(gaps):
            dropped[f"every gap {gaps[0]:.2g} %"].append(s)
    drop = {s for names in dropped.values() for s in names}
    pts = [r for r in pts if r["solver"] not in drop]
    families = sorted({r["family"] for r in pts})
    if not families:
        return None, _not_drawn(dropped)
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
                               marker=_MARKERS[kind], s=30, alpha=0.8, edgecolor="none")
        ax.set_xscale("log")
        values = np.unique([r["qubits"] for r in mine])
        candidates = values if values.size <= 6 else np.unique(np.round(np.geomspace(values[0], values[-1], 5)))
        ticks = [candidates[0]]
        for tick in candidates[1:]:   # labels closer than a factor 1.25 on the log axis would overlap
            if tick >= 1.25 * ticks[-1]:
                ticks.append(tick)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(FixedFormatter([f"{tick:g}" for tick in ticks]))
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
    return fig, _not_drawn(dropped)


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


def _lagrangian_panels(store, runs, instances: int = 2) -> list:
    """Return the ``(run, history)`` pairs to plot: the sampled and the closed-form Lagrangian run side by side
    on the largest instances both ran (up to ``instances``), else up to two runs of each, largest first."""
    def usable(r):
        return r["method"] in ("lagrangian", "lagrangian-heuristic") and r["nit"] and r["nit"] > 1

    def size(r):
        return -(r["n_vars"] or 0), r["instance_id"]

    candidates = sorted((r for r in runs if usable(r) and r["seed"] == min(x["seed"] for x in runs)), key=size)
    methods = defaultdict(set)
    for r in candidates:
        methods[r["instance_id"]].add(r["method"])
    both = [iid for iid in dict.fromkeys(r["instance_id"] for r in candidates) if len(methods[iid]) == 2]
    if both:
        order = [r for iid in both[:instances] for r in sorted((r for r in candidates if r["instance_id"] == iid),
                                                               key=lambda r: r["method"] != "lagrangian")]
    else:
        order = [r for m in ("lagrangian", "lagrangian-heuristic") for r in candidates if r["method"] == m]
    chosen, per_method = [], defaultdict(int)
    for r in order:
        if per_method[r["method"]] == instances:
            continue
        hist = store.history(r["id"])
        if sum("dual_value" in h and h.get("best_primal") is not None for h in hist) >= 3:
            chosen.append((r, hist))
            per_method[r["method"]] += 1
    return chosen


def _settled(values: np.ndarray) -> np.ndarray:
    """Return the values after the first fifth of the iterations (the start's multipliers may be far off)."""
    return values[len(values) // 5:]


def _plot_lagrangian(plt, store, runs):
    """Return the Lagrangian convergence figure (or None): best feasible value, valid bounds, sampled values.

    A dual value is drawn as a bound (green, on the objective axis) only where the driver marks
    it exact (``dual_exact``: closed form, or an exhaustive search, and no quadratic inequality
    term).  A sampled value is no bound and need not be near the objective's scale, so it goes
    on its own right-hand axis, grey and labelled :data:`SAMPLED_LAGRANGIAN_LABEL`.
    ``Result.bound`` (``bound``) is drawn as a dashed line where the run has one.
    """
    chosen = _lagrangian_panels(store, runs)
    if not chosen:
        return None
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, len(chosen), figsize=(4.6 * len(chosen) + 0.6, 3.6), squeeze=False)
    for ax, (r, hist) in zip(axes.flat, chosen):
        it = np.array([h.get("iteration", i + 1) for i, h in enumerate(hist)], dtype=float)
        primal = np.array([np.nan if h.get("best_primal") is None else h["best_primal"] for h in hist], dtype=float)
        dual = np.array([np.nan if h.get("dual_value") is None else h["dual_value"] for h in hist], dtype=float)
        exact = np.array([bool(h.get("dual_exact", False)) for h in hist])
        bound_line = np.where(exact, dual, np.nan)
        ax.plot(it, primal, "-o", markersize=3, color="tab:blue")
        ax.plot(it, bound_line, "-", marker="v", markersize=3, color="tab:green")
        if r["bound"] is not None:
            ax.axhline(r["bound"], color="tab:green", linestyle="--", linewidth=1)
        if r["reference"] is not None:
            ax.axhline(r["reference"], color="0.2", linestyle=":", linewidth=1)
        kind = "bound valid" if (r["info"].get("bound_valid") or r["bound"] is not None) else "sampled: no bound"
        ax.set(title=f"{_short(r['instance_id'], 24)}\n{r['solver']} ({kind})", xlabel="iteration",
               ylabel="objective value")
        # the window leaves out the first fifth of the dual values, which may lie orders of magnitude away
        shown = [*primal, *_settled(bound_line), *([r["bound"]] if r["bound"] is not None else []),
                 *([r["reference"]] if r["reference"] is not None else [])]
        _y_from_data(ax, shown, floor=np.inf)
        sampled = np.where(exact, np.nan, dual)
        if np.isfinite(sampled).any():
            side = ax.twinx()
            side.plot(it, sampled, ":", marker="x", markersize=3, linewidth=0.8, color="0.55")
            side.set_ylabel(SAMPLED_LAGRANGIAN_LABEL, color="0.45", fontsize=7)
            side.tick_params(axis="y", colors="0.45", labelsize=7)
            _y_from_data(side, _settled(sampled), floor=np.inf)
    handles = [Line2D([], [], color="tab:blue", marker="o", markersize=3, label="best feasible (repaired)"),
               Line2D([], [], color="tab:green", marker="v", markersize=3,
                      label="Lagrangian dual bound (subproblem exact)"),
               Line2D([], [], color="tab:green", linestyle="--", label="best valid bound (Result.bound)"),
               Line2D([], [], color="0.55", linestyle=":", marker="x", markersize=3,
                      label=SAMPLED_LAGRANGIAN_LABEL + " (right axis)"),
               Line2D([], [], color="0.2", linestyle=":", label="reference optimum")]
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8, frameon=False)
    fig.suptitle("Lagrangian runs: best feasible value per iteration, and the dual value where it is a bound")
    return fig


def _plot_feasibility(plt, runs, solvers, colors):
    """Return ``(figure or None, note)``: share of runs with a feasible answer and, for QUBO methods, of raw samples.

    A series whose bars are all equal (every configuration always feasible, say) is dropped.
    """
    returned = {s: float(np.mean([bool(r["feasible"]) for r in runs if r["solver"] == s])) for s in solvers}
    raw = {s: [r["raw_feasible"] for r in runs if r["solver"] == s and r.get("raw_feasible") is not None]
           for s in solvers}
    raw = {s: float(np.mean(v)) for s, v in raw.items() if v}
    series, dropped = [], {}
    if flat_series(returned.values()):
        dropped[f"share of runs with a feasible answer, {next(iter(returned.values())):.2g} for every "
                f"configuration"] = ["returned feasible"]
    else:
        series.append(("returned a feasible answer (after repair)", returned, None))
    if raw and flat_series(raw.values()):
        dropped[f"{next(iter(raw.values())):.2g} for every QUBO method"] = ["raw samples feasible"]
    elif raw:
        series.append(("raw samples feasible (before repair, mean share)", raw, "//"))
    if not series:
        return None, _not_drawn(dropped)
    names = [s for s in solvers if any(s in values for _, values, _ in series)]
    fig, ax = plt.subplots(figsize=(7.5, 4))
    width = 0.8 / len(series)
    for k, (label, values, hatch) in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i, s in enumerate(names) if s in values]
        ax.bar(xs, [values[s] for s in names if s in values], width=width * 0.95, label=label,
               color=[colors[s] for s in names if s in values], hatch=hatch, edgecolor="0.25", linewidth=0.5,
               alpha=1.0 if hatch is None else 0.55)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set(ylabel="share", ylim=(0, 1.05), xlabel="solver configuration", title="Feasibility by method")
    _legend_outside(ax)
    return fig, _not_drawn(dropped)


def _plot_time_to_target(plt, runs, solvers, colors, target):
    """Return ``(figure or None, note)``: share of runs within target by time t; solvers never within are named."""
    fig, ax = plt.subplots(figsize=(7.5, 4))
    never = []
    for k, s in enumerate(solvers):
        mine = [r for r in runs if r["solver"] == s]
        times = np.sort([r["ttt"] for r in mine if r["hit"]])
        if not times.size:
            never.append(s)
            continue
        ax.step(np.concatenate([[times[0]], times]), np.arange(0, times.size + 1) / len(mine), where="post",
                color=colors[s], label=s, marker=MARKER_CYCLE[k % len(MARKER_CYCLE)], markevery=[-1], markersize=5)
    note = _not_drawn({f"never within {100 * target:g} %": never})
    if not ax.lines:
        plt.close(fig)
        return None, note
    ax.set(xscale="log", xlabel="time to target (s, log)", ylabel=f"share of runs within {100 * target:g} %",
           ylim=(0, 1.05), title="Time to target (first incumbent within target)")
    _legend_outside(ax)
    return fig, note


def _plot_scaling(plt, runs):
    """Return ``(figure or None, note)``: median solver time by size, one colour and marker per (family, solver)."""
    keys = sorted({(r["family"], r["solver"]) for r in runs})
    colours = palette(len(keys))
    fig, ax = plt.subplots(figsize=(8.5, 4.4))
    for k, (family, s) in enumerate(keys):
        by_size = defaultdict(list)
        for r in runs:
            if r["family"] == family and r["solver"] == s and r["status"] != "error":
                by_size[r["size"]].append(max(r["solver_time"], 1e-6))
        xs = sorted(by_size)
        if xs:
            ax.plot(xs, [np.median(by_size[x]) for x in xs], "-", marker=MARKER_CYCLE[k % len(MARKER_CYCLE)],
                    color=colours[k], label=f"{s} ({family})", alpha=0.85, markersize=5)
    if not ax.lines:
        plt.close(fig)
        return None, ""
    ax.set(xscale="log", yscale="log", xlabel="instance size n (variables of the native problem, log)",
           ylabel="median solver time (s, log)", title="Scaling of time with size")
    _legend_outside(ax, fontsize=7)
    return fig, ""


def _plot_profile(plt, runs, solvers, colors):
    """Return ``(figure or None, note)``: the performance profile; solvers at ρ = 0 throughout are named, not drawn."""
    taus, profile = performance_profile(runs)
    fig, ax = plt.subplots(figsize=(7.5, 4))
    zero = []
    for k, s in enumerate(solvers):
        rho = profile[s]
        if not np.any(rho > 0):
            zero.append(s)
            continue
        ax.step(taus, rho, where="post", color=colors[s], label=s, marker=MARKER_CYCLE[k % len(MARKER_CYCLE)],
                markevery=[0, len(taus) - 1], markersize=5)
    note = _not_drawn({"ρ = 0 at every τ: never within target": zero})
    if not ax.lines:
        plt.close(fig)
        return None, note
    ax.set(xscale="log", xlabel="τ (slowdown vs the fastest configuration to target, log)",
           ylabel="share of problems ρ(τ)", ylim=(0, 1.05), title="Performance profile (time to target)")
    _legend_outside(ax)
    return fig, note


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
        colors = dict(zip(solvers, palette(len(solvers))))
        plots = []

        def save(drawn, name, title, legend):
            fig, note = drawn if isinstance(drawn, tuple) else (drawn, "")
            if fig is None:
                if note:   # say why the plot is missing instead of leaving it out silently
                    plots.append(ReportSection(title, paragraphs=["Plot not drawn." + note]))
                return
            fig.tight_layout()
            fig.savefig(out / name, dpi=90, bbox_inches="tight")
            plt.close(fig)
            plots.append(ReportSection(title, image=name, legend=legend + note))

        save(_plot_gap_vs_qubits(plt, runs, colors, out), "gap_vs_qubits.png", "Gap vs qubits",
             "One panel per family; x: variables or qubits the method used (log scale); squares: slack-bit "
             "encodings, circles: slack-free QUBOs, triangles: classical methods; y: gap to the reference in %.")
        save(_plot_qubits_saved(plt, runs), "qubits_saved.png", "Qubits saved per instance",
             "Bar: qubits of the slack-bit encoding minus the n qubits of the slack-free QUBO on that instance.")
        save(_plot_lagrangian(plt, store, runs), "lagrangian_convergence.png", "Lagrangian convergence",
             "Best feasible (repaired) objective per iteration. The dual value is drawn as a bound (green) only "
             "where every subproblem was solved exactly (closed form, or an exhaustive search); a subproblem "
             f"sampled by a heuristic sampler gives a {SAMPLED_LAGRANGIAN_LABEL}: it is drawn grey and dotted on "
             "its own right-hand axis, since it may fall on either side of the optimum; the dashed green line is "
             "the run's Result.bound where it has one. The y windows leave out the first fifth of the dual values "
             "(the starting multipliers' values may lie far off).")

    save(_plot_feasibility(plt, runs, solvers, colors), "feasible_fraction.png", "Feasibility by method",
         "Solid bars: share of each configuration's runs that returned a feasible answer; hatched bars (QUBO "
         "methods): mean share of raw samples that were feasible before repair.")
    from_end = sum(1 for r in runs if r["hit"] and r["ttt_source"] == "run end")
    save(_plot_time_to_target(plt, runs, solvers, colors, target), "time_to_target.png",
         f"Time to target (gap ≤ {100 * target:g} %)",
         "Share of each configuration's runs whose incumbent came within the target by time t (from the "
         "incumbent histories" + (f"; {from_end} runs without a history counted at their end)." if from_end else ")."))
    save(_plot_scaling(plt, runs), "scaling.png", "Scaling of time with size",
         "Median solver time per configuration, family and size; one colour and marker per series.")
    save(_plot_profile(plt, runs, solvers, colors), "performance_profile.png",
         "Dolan–Moré performance profile on time to target",
         "ρ(τ): share of problems (instance, seed) a configuration brought within target at most τ times slower "
         "than the fastest one; time to target from the incumbent histories.")

    suites = sorted({r["suite"] for r in runs})
    columns = ["family", "solver", "runs", "feasible", "hit", "gap_pct", "raw_gap_pct", "raw_feasible_pct", "time_s",
               "vars_or_qubits", "optimal", "time_limits", "failed"]

    def table(rows, cols):
        return [[(f"{100 * r[c]:.0f} %" if c in ("feasible", "hit") else r[c]) for c in cols] for r in rows]

    legend = ("feasible/hit: share of runs with a feasible answer / within target; gap_pct: median [25th, 75th "
              "percentile] gap to the reference in %, of the answer after repair; raw_gap_pct and raw_feasible_pct "
              "(QUBO methods): the same for the best raw sample before repair (runs that had a feasible one) and "
              "the % of raw samples that were feasible, side by side with gap_pct so an answer made feasible by "
              "repair alone shows (raw_feasible_pct 0 [0, 0], raw_gap_pct -); time_s: solver seconds; optimal: "
              "runs that proved optimality; time_limits: runs stopped by their time limit with a feasible answer (not failures); "
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
