"""Sampled slack-free vs slack-bit QUBOs on knapsacks, generalized assignment, set covering and
any folder of MPS/LP models, under the same sampler and budget.

Every sampled method gets the same sampler (``--sampler``, default ``anneal``) and the same
budget: ``--rounds`` rounds (dual iterations for the Lagrangian) of ``--reads`` reads of
``--sweeps`` sweeps each, so ``rounds × reads`` samples per run (default 10 × 32 × 1000).
Every sample is repaired the same way; the table shows the raw samples and the repaired
best side by side.  Rows per instance:

* ``lagrangian`` — the slack-free augmented Lagrangian QUBO (n qubits), **sampled** by the
  sampler (``method="lagrangian"``; multipliers and ρ moved between rounds).
* ``penalty`` — the slack-bit penalty QUBO, sampled (cutslack's slack-bit rule; the qubit
  count under Qiskit Optimization's rule is shown beside it; ``--penalty-rules`` samples more rules).
* ``unbalanced`` — the slack-free unbalanced-penalization QUBO with fixed weights, sampled.
* ``lagrangian-heuristic`` — the classical Lagrangian heuristic: the separable subproblem is
  solved in **closed form**, no sampler runs.  Listed for reference, not part of the
  sampled comparison.

Row shapes and instance sets (``--families``, default all of them):

* ``knapsack`` — ``≤`` rows: the public SAC-94 sets (mknap1 #1–7, mknap2 SENTO, WEING1–4,
  WEISH01–15, PB, HP) and mknapcb1 5.100-00..14 from the benchmark library;
* ``gap`` — one-hot ``=`` rows plus ``≤`` capacities: OR-Library gap1–gap6 (30 problems, proven
  optima) and, with ``--generated-gap K``, K larger generated GAPs (Chu–Beasley types C and D)
  whose reference is HiGHS with its bound;
* ``setcover`` — ``≥`` covering rows: OR-Library scp41–scp49 (published optima);
* ``--models DIR`` — every ``.mps``/``.lp`` (plain or ``.gz``) file in DIR through
  :func:`cutslack.models.read_model`; the reference is HiGHS (``method="milp"``, ``--milp-time``
  seconds) with its bound, so a row says whether the reference is proven;
* ``same`` — MIS (DIMACS/Sloane) and QAP one-hot instances, where both encodings use the same
  qubits (no slack bits exist): a separate table, not counted in the slack-free vs slack-bit
  comparison.

Targets: knapsacks (issue 15) — the sampled slack-free QUBO no worse than the slack-bit QUBO on
>= 80 % of the runs, mean gap <= 0.5 %, worst <= 2 %; GAP (issue 20) — feasible on every
instance, mean <= 1 %, worst <= 3 %, no worse than slack bits on >= 80 %; set covering — mean
<= 2 %, worst <= 5 %, no worse on >= 80 %.  Every instance where slack-free loses to slack bits
is listed with the difference.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/slack_vs_slackfree.py              # all, seed 0
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/slack_vs_slackfree.py --seeds 0 1 2
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/slack_vs_slackfree.py --quick      # a subset
    ... --families gap setcover --generated-gap 6                                              # new row shapes
    ... --families --models path/to/models                                                     # your own files
    ... --sampler tabu                                                                         # another sampler

Writes ``benchmarks/results/slack_vs_slackfree.md`` and ``.png`` (``--out`` to put them elsewhere).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cutslack  # noqa: E402
from cutslack.problems.library import load_instance  # noqa: E402
from cutslack.result import relative_gap  # noqa: E402
from provenance import results_header  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

KNAPSACK = ([f"mknap1#{k}" for k in range(1, 8)]
            + [f"mknap2#{name}" for name in ("SENTO1", "SENTO2", "WEING1", "WEING2", "WEING3", "WEING4")]
            + [f"mknap2#WEISH{k:02d}" for k in range(1, 16)]
            + [f"mknap2#{name}" for name in ("PB1", "PB2", "PB4", "PB5", "PB6", "PB7", "HP1", "HP2")]
            + [f"mknapcb1#5.100-{k:02d}" for k in range(15)])
QUICK_KNAPSACK = ["mknap1#2", "mknap1#4", "mknap2#WEING1", "mknap2#WEISH06", "mknap2#PB5", "mknapcb1#5.100-00"]
SAME_QUBITS = [("mis", "1dc.64"), ("mis", "1et.64"), ("mis", "johnson8-4-4"), ("mis", "hamming6-4"),
               ("qap", "chr12a"), ("qap", "nug12")]
QUICK_SAME_QUBITS = [("mis", "johnson8-4-4"), ("qap", "chr12a")]
QUICK_GAP = ["gap1#1", "gap4#1", "gap6#5"]
GAP = [f"gap{f}#{k}" for f in range(1, 7) for k in range(1, 6)]
SETCOVER = [f"scp4{k}" for k in range(1, 10)]
QUICK_SETCOVER = ["scp41", "scp45"]
FAMILIES = ("knapsack", "gap", "setcover", "same")
MODEL_SUFFIXES = (".mps", ".lp", ".mps.gz", ".lp.gz")
SAMPLED = ("lagrangian", "penalty", "unbalanced")
CLOSED_FORM = "lagrangian-heuristic"
SWEEP_SAMPLERS = ("anneal", "tempering")   # samplers whose budget is counted in sweeps
TARGET_SHARE, TARGET_MEAN, TARGET_WORST = 0.80, 0.005, 0.02
#: (share no worse than slack bits, mean gap, worst gap) per family; knapsack as above
TARGETS = {"knapsack": (TARGET_SHARE, TARGET_MEAN, TARGET_WORST), "gap": (0.80, 0.01, 0.03),
           "setcover": (0.80, 0.02, 0.05)}
INFEASIBLE_GAP = 1.0                       # an infeasible result counts as a 100 % gap


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sampler", default="anneal", help="sampler for every sampled QUBO (anneal, tabu, ...)")
    ap.add_argument("--reads", type=int, default=32, help="reads per round / dual iteration")
    ap.add_argument("--rounds", type=int, default=10, help="rounds (penalty, unbalanced) = dual iterations")
    ap.add_argument("--sweeps", type=int, default=1000, help="sweeps per read (anneal, tempering)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--penalty-rules", nargs="+", default=["cutslack"], choices=["cutslack", "qiskit", "dimod"],
                    help="slack-bit rules to sample (the first is the one compared)")
    ap.add_argument("--quick", action="store_true", help="a subset of the instances")
    ap.add_argument("--instances", nargs="+", help="knapsack ids to run instead of the default list")
    ap.add_argument("--no-same-qubits", action="store_true", help="skip the MIS/QAP table")
    ap.add_argument("--families", nargs="*", default=list(FAMILIES), choices=FAMILIES,
                    help="instance sets to run (default: all); give none to run only --models")
    ap.add_argument("--gap-instances", nargs="+", help="GAP ids (gap1#1 ...) to run instead of the default list")
    ap.add_argument("--setcover-instances", nargs="+", help="set-covering ids (scp41 ...) instead of the default")
    ap.add_argument("--generated-gap", type=int, default=0, metavar="K",
                    help="also K generated GAPs (m=10, n=60/100, types C and D) against HiGHS with its bound")
    ap.add_argument("--models", metavar="DIR", help="also every .mps/.lp(.gz) file in DIR (read_model)")
    ap.add_argument("--milp-time", type=float, default=60.0,
                    help="seconds HiGHS gets for the reference of instances without a known optimum")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--out", default=str(RESULTS / "slack_vs_slackfree.md"))
    return ap.parse_args(argv)


def knapsack_ids(args) -> list[str]:
    """Return the knapsack instance ids of this run."""
    if args.instances:
        return list(args.instances)
    return QUICK_KNAPSACK if args.quick else KNAPSACK


def method_specs(args, *, knapsack: bool):
    """Return ``[(label, method, options)]``: the sampled methods, then the closed-form heuristic."""
    specs = [("lagrangian", "lagrangian", {})]
    rules = args.penalty_rules if knapsack else args.penalty_rules[:1]
    for k, rule in enumerate(rules):
        specs.append(("penalty" if k == 0 else f"penalty-{rule}", "penalty", {"rule": rule}))
    specs.append(("unbalanced", "unbalanced", {}))
    if knapsack:
        specs.append((CLOSED_FORM, CLOSED_FORM, {}))
    return specs


def run_one(problem, method, options, args, seed):
    """Return ``(Result, seconds)`` of one method under the common budget."""
    if method in ("lagrangian", CLOSED_FORM):
        budget = {"maxiter": args.rounds, "patience": args.rounds}
    else:
        budget = {"rounds": args.rounds, "max_no_improve": None}   # the full budget: no stagnation stop
    if method != CLOSED_FORM:
        budget["sampler"] = args.sampler
        if args.sampler in SWEEP_SAMPLERS:
            budget["sampler_options"] = {"num_sweeps": args.sweeps}
    start = time.perf_counter()
    res = cutslack.solve(problem, method=method, num_reads=args.reads, rng=seed, **budget, **options)
    return res, time.perf_counter() - start


def qubits_by_rule(problem) -> dict:
    """Return the slack-bit QUBO size under cutslack's, Qiskit Optimization's and dimod's rule."""
    from cutslack.solvers.qubo import penalty_qubo

    program = problem.to_binary() if hasattr(problem, "to_binary") else problem
    return {rule: penalty_qubo(program, rule=rule)[0].n for rule in ("cutslack", "qiskit", "dimod")}


def reference_of(problem, args) -> dict:
    """Return the value the gaps are taken to: the known optimum, else HiGHS's answer with its bound."""
    known = getattr(problem, "known_optimum", None)
    if known is not None:
        return {"value": float(known.value), "proven": bool(known.proven), "bound": None,
                "source": "known optimum" if known.proven else "best known"}
    res = cutslack.solve(problem, method="milp", time_limit=args.milp_time, threads=1)
    if not res.feasible:
        return {"value": None, "proven": False, "bound": res.bound, "source": f"HiGHS {res.status.value}"}
    proven = res.status.name == "OPTIMAL"
    return {"value": float(res.objective), "proven": proven, "bound": res.bound,
            "source": "HiGHS, proven" if proven else f"HiGHS at {args.milp_time:g} s, bound {res.bound:.6g}"}


def make_row(family, name, problem, label, method, res, seconds, seed, reference=None):
    """Return the table row of one run (gap to ``reference["value"]``, the known optimum by default)."""
    if reference is None:
        reference = {"value": problem.known_optimum.value}
    opt = reference["value"]
    gap = relative_gap(res.objective, opt, problem.sense) if res.feasible and opt is not None else None
    info = res.info
    path = info.get("subproblem", "?")
    if method == CLOSED_FORM and path != "closed form":
        raise RuntimeError(f"{CLOSED_FORM} reported subproblem {path!r}, expected 'closed form'")
    n = problem.to_binary().n if hasattr(problem, "to_binary") else problem.n
    return {"family": family, "instance": name, "n": n, "seed": seed, "method": label,
            "sampled": method != CLOSED_FORM, "qubits": int(res.n_qubits), "subproblem": path,
            "raw_feasible": info.get("raw_feasible_fraction"), "best_raw": info.get("best_raw_objective"),
            "best_repaired": info.get("best_repaired_objective"), "objective": res.objective if res.feasible else None,
            "optimum": opt, "reference": reference.get("source", "known optimum"), "gap": gap, "time": seconds}


def run_family(items, args, *, knapsack: bool, slack_bits: bool | None = None, log=print):
    """Run every method on every item and seed; return the rows.

    An item is ``(family, name)`` of the benchmark library or ``(family, name, problem)``.  With
    ``slack_bits`` (default: ``knapsack``) the penalty row also gets the Qiskit-rule qubit count.
    """
    slack_bits = knapsack if slack_bits is None else slack_bits
    rows = []
    for item in items:
        family, name = item[:2]
        problem = item[2] if len(item) > 2 else load_instance(family, name)
        reference = reference_of(problem, args)
        counts = qubits_by_rule(problem) if slack_bits else None
        for seed in args.seeds:
            for label, method, options in method_specs(args, knapsack=knapsack):
                res, seconds = run_one(problem, method, options, args, seed)
                row = make_row(family, name, problem, label, method, res, seconds, seed, reference)
                if label.startswith("penalty") and counts is not None:
                    row["qubits_qiskit"] = counts["qiskit"]
                rows.append(row)
                log(format_line(row))
    return rows


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def _pct(gap):
    return "-" if gap is None else f"{100 * gap:.2f}"


def format_line(r) -> str:
    return (f"{r['instance']:20s} s{r['seed']:<2d} {r['method']:21s} q={r['qubits']:4d} {r['subproblem']:17s} "
            f"rawfeas={_fmt(r['raw_feasible'], '.3f'):>6s} raw={_fmt(r['best_raw'], '.6g'):>9s} "
            f"rep={_fmt(r['best_repaired'], '.6g'):>9s} ref={_fmt(r['optimum'], '<9g')} gap={_pct(r['gap']):>6s}% "
            f"t={r['time']:.1f}s")


def _gap_value(row) -> float:
    return INFEASIBLE_GAP if row["gap"] is None else max(row["gap"], 0.0)


def method_stats(rows, label) -> dict:
    """Return mean/worst gap, at-optimum and infeasible counts of one method's runs."""
    mine = [r for r in rows if r["method"] == label]
    gaps = np.array([_gap_value(r) for r in mine])
    return {"runs": len(mine), "mean": float(gaps.mean()) if len(mine) else float("nan"),
            "worst": float(gaps.max()) if len(mine) else float("nan"),
            "at_optimum": int(sum(r["gap"] is not None and r["gap"] <= 1e-9 for r in mine)),
            "infeasible": int(sum(r["gap"] is None for r in mine)),
            "time": float(sum(r["time"] for r in mine)),
            "qubits": (min(r["qubits"] for r in mine), max(r["qubits"] for r in mine)) if mine else (0, 0)}


def no_worse_count(rows, label, peer="penalty") -> tuple[int, int]:
    """Return ``(k, N)``: on k of N (instance, seed) runs ``label``'s gap is <= ``peer``'s."""
    by = {(r["instance"], r["seed"], r["method"]): r for r in rows}
    pairs = [(by[(i, s, label)], by[(i, s, peer)]) for (i, s, m) in by if m == peer and (i, s, label) in by]
    k = sum(_gap_value(a) <= _gap_value(b) + 1e-12 for a, b in pairs)
    return k, len(pairs)


def _labels(rows):
    return list(dict.fromkeys(r["method"] for r in rows))


def summary_lines(rows, *, headline: bool, family: str = "knapsack", what: str = "knapsacks") -> list[str]:
    """Return the per-method summary and, with ``headline``, the family's target checks as markdown lines."""
    peer = "slack-bit gap" if headline else "penalty gap (no slack bits here)"
    lines = ["| method | runs | qubits | subproblem | mean gap % | worst gap % | at optimum | infeasible | "
             f"gap <= {peer} | time s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for label in _labels(rows):
        st = method_stats(rows, label)
        paths = ", ".join(sorted({r["subproblem"] for r in rows if r["method"] == label}))
        cmp = "-"
        if label != "penalty" and any(r["method"] == "penalty" for r in rows):
            k, n = no_worse_count(rows, label)
            cmp = f"{k}/{n} ({100 * k / max(n, 1):.0f} %)"
        q = st["qubits"]
        lines.append(f"| {label} | {st['runs']} | {q[0]}–{q[1]} | {paths} | {100 * st['mean']:.3f} | "
                     f"{100 * st['worst']:.2f} | {st['at_optimum']}/{st['runs']} | {st['infeasible']} | {cmp} | "
                     f"{st['time']:.0f} |")
    lines += ["", f"An infeasible result counts as a 100 % gap.  `gap <= {peer}` compares, per instance and seed, the "
              "method's gap to the reference with the sampled `penalty` QUBO's."]
    if headline and any(r["method"] == "lagrangian" for r in rows) and any(r["method"] == "penalty" for r in rows):
        lines += ["", *target_lines(rows, family, what), "", *loss_lines(rows)]
    return lines


def _verdict(ok) -> str:
    return "**met**" if ok else "**NOT met**"


def target_lines(rows, family: str, what: str) -> list[str]:
    """Return the target checks of the sampled slack-free rows against the sampled slack-bit rows."""
    share_t, mean_t, worst_t = TARGETS.get(family, TARGETS["knapsack"])
    st = method_stats(rows, "lagrangian")
    k, n = no_worse_count(rows, "lagrangian")
    share = k / max(n, 1)
    seeds = sorted({r["seed"] for r in rows})
    lines = [f"### Targets (sampled slack-free `lagrangian` vs sampled slack-bit `penalty`, "
             f"{len({r['instance'] for r in rows})} {what} × seeds {seeds})", "",
             f"- slack-free gap <= slack-bit gap on {k}/{n} runs ({100 * share:.0f} %; target >= "
             f"{100 * share_t:.0f} %): {_verdict(share >= share_t)}",
             f"- mean gap {100 * st['mean']:.3f} % (target <= {100 * mean_t:g} %): {_verdict(st['mean'] <= mean_t)}",
             f"- worst gap {100 * st['worst']:.2f} % (target <= {100 * worst_t:g} %): "
             f"{_verdict(st['worst'] <= worst_t)}",
             f"- feasible on {st['runs'] - st['infeasible']}/{st['runs']} runs; at the reference on "
             f"{st['at_optimum']}/{st['runs']}"]
    if len(seeds) > 1:
        for seed in seeds:
            mine = [r for r in rows if r["seed"] == seed]
            ks, ns = no_worse_count(mine, "lagrangian")
            ss = method_stats(mine, "lagrangian")
            lines.append(f"- seed {seed}: <= slack-bit on {ks}/{ns}, mean gap {100 * ss['mean']:.3f} %, "
                         f"worst {100 * ss['worst']:.2f} %")
    return lines


def loss_lines(rows, label: str = "lagrangian", peer: str = "penalty") -> list[str]:
    """Return where ``label`` ends worse than ``peer`` (instance, seed, both gaps, the difference)."""
    by = {(r["instance"], r["seed"], r["method"]): r for r in rows}
    losses = []
    for (inst, seed, method), row in by.items():
        other = by.get((inst, seed, peer))
        if method == label and other is not None and _gap_value(row) > _gap_value(other) + 1e-12:
            losses.append((inst, seed, _gap_value(row), _gap_value(other)))
    if not losses:
        return [f"Slack-free ends worse than slack bits on no run."]
    lines = [f"Where slack-free ends worse than slack bits ({len(losses)} runs):", "",
             "| instance | seed | slack-free gap % | slack-bit gap % | worse by (points) |", "|---|---|---|---|---|"]
    for inst, seed, a, b in sorted(losses, key=lambda t: t[3] - t[2]):
        lines.append(f"| {inst} | {seed} | {100 * a:.2f} | {100 * b:.2f} | {100 * (a - b):.2f} |")
    return lines


def table_lines(rows, *, qiskit_column: bool) -> list[str]:
    """Return the per-run markdown table."""
    head = ["family", "instance", "n", "seed", "method", "qubits"] + (["qubits (Qiskit rule)"] if qiskit_column else [])
    head += ["subproblem", "raw feasible", "best raw", "best repaired", "reference", "gap %", "time s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["family"], r["instance"], r["n"], r["seed"], r["method"], r["qubits"]]
        if qiskit_column:
            cells.append(r.get("qubits_qiskit", "-"))
        cells += [r["subproblem"], _fmt(r["raw_feasible"], ".3f"), _fmt(r["best_raw"], ".6g"),
                  _fmt(r["best_repaired"], ".6g"), _reference_cell(r), _pct(r["gap"]), f"{r['time']:.1f}"]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


def _reference_cell(row) -> str:
    value = "-" if row["optimum"] is None else f"{row['optimum']:g}"
    source = row.get("reference", "known optimum")
    return value if source == "known optimum" else f"{value} ({source})"


def budget_text(args) -> str:
    sweeps = f"{args.sweeps} sweeps" if args.sampler in SWEEP_SAMPLERS else "the sampler's default moves"
    return (f"sampler `{args.sampler}`, {args.rounds} rounds/dual iterations × {args.reads} reads × {sweeps} per "
            f"read for every sampled method; seeds {args.seeds}")


#: (family, heading, plural noun) of the compared blocks, in report order
BLOCKS = (("knapsack", "Knapsacks (`≤` rows)", "knapsacks"),
          ("gap", "Generalized assignment (one-hot `=` rows and `≤` capacities)", "GAP instances"),
          ("setcover", "Set covering (`≥` rows)", "set-covering instances"),
          ("models", "Models read from files", "models"))


def markdown(blocks: dict, same_rows, args, argv, total) -> str:
    """Return the results file: provenance, budget, then per family a summary with targets and losses."""
    parts = ["# Sampled slack-free vs slack-bit QUBOs (same sampler, same budget)", "",
             results_header(__file__, argv, extra=f"whole run {total:.0f} s"), "",
             f"Budget: {budget_text(args)}.  Every sample is repaired the same way (the family's repair; the generic "
             "BinaryProgram repair for models read from files).  `subproblem` is the path that "
             "produced the row: `sampled by <sampler>` for a sampled QUBO, `closed form` for the classical "
             "Lagrangian heuristic (no sampler runs; listed for reference, not part of the sampled comparison).  "
             "`raw feasible` is the fraction of raw samples (before repair) satisfying every constraint, `best raw` "
             "the best raw feasible objective before repair, `best repaired` the best after repair.  Gaps are to "
             "the reference: the known optimum, or HiGHS's answer (with its bound) where none is known.", ""]
    for family, heading, what in BLOCKS:
        rows = blocks.get(family)
        if rows:
            parts += [f"## {heading}: summary", "", *summary_lines(rows, headline=True, family=family, what=what), ""]
    if same_rows:
        parts += ["## Same qubits on both sides (MIS, QAP one-hot): not counted as slack-free wins", "",
                  "MIS conflicts and QAP one-hot equalities need no slack bits, so the slack-free and the penalty "
                  "QUBO have the same n qubits; the closed-form heuristic does not apply (non-separable).", "",
                  *summary_lines(same_rows, headline=False), ""]
    for family, heading, _what in BLOCKS:
        rows = blocks.get(family)
        if rows:
            parts += [f"## {heading}: every run", "", *table_lines(rows, qiskit_column=True), ""]
    if same_rows:
        parts += ["## MIS / QAP: every run", "", *table_lines(same_rows, qiskit_column=False), ""]
    return "\n".join(parts)


def plot(rows, path: Path, what: str = "Knapsacks") -> None:
    """Gap to the reference per instance and method (mean over seeds, bars min–max) and qubits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    insts = list(dict.fromkeys(r["instance"] for r in rows))
    labels = _labels(rows)
    x = np.arange(len(insts))
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(9.0, 0.32 * len(insts) + 3), 8.5), sharex=True,
                                   gridspec_kw={"height_ratios": [2, 1]})
    markers = ["o", "s", "^", "D", "v", "P"]
    offsets = np.linspace(-0.3, 0.3, len(labels)) if len(labels) > 1 else [0.0]
    for k, label in enumerate(labels):
        gaps = [[100 * _gap_value(r) for r in rows if r["instance"] == i and r["method"] == label] for i in insts]
        mean = np.array([np.mean(g) if g else np.nan for g in gaps])
        lo = mean - np.array([np.min(g) if g else np.nan for g in gaps])
        hi = np.array([np.max(g) if g else np.nan for g in gaps]) - mean
        name = label + (" (closed form, not sampled)" if label == CLOSED_FORM else " (sampled)")
        ax1.errorbar(x + offsets[k], mean, yerr=[lo, hi], fmt=markers[k % len(markers)], ms=4, lw=0.8,
                     capsize=1.5, label=name)
        qubits = [next((r["qubits"] for r in rows if r["instance"] == i and r["method"] == label), np.nan)
                  for i in insts]
        ax2.plot(x + offsets[k], qubits, markers[k % len(markers)], ms=4, label=label)
    ax1.axhline(100 * TARGET_WORST, color="grey", ls="--", lw=0.8)
    ax1.text(x[-1] + 0.5, 100 * TARGET_WORST, "2 %", va="bottom", ha="right", fontsize=7, color="grey")
    ax1.set_ylabel("gap to the reference (%)")
    ax1.set_title(f"{what}: gap per instance and method (marker: mean over seeds; bar: min–max)")
    ax1.grid(axis="y", alpha=0.3)
    ax1.legend(fontsize=8, ncol=2)
    ax2.set_ylabel("qubits")
    ax2.set_yscale("log")
    ax2.grid(axis="y", alpha=0.3)
    ax2.set_xticks(x, [i.split("#")[-1] for i in insts], rotation=70, ha="right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def warm_up(args) -> None:
    """Compile the sampler kernels once on a tiny knapsack so no timed run pays for the JIT."""
    problem = load_instance("mdkp", "mknap1#1")
    tiny = argparse.Namespace(**{**vars(args), "rounds": 1, "reads": 2, "sweeps": 10})
    for _label, method, options in method_specs(tiny, knapsack=True):
        run_one(problem, method, options, tiny, 0)


def gap_ids(args) -> list[str]:
    if args.gap_instances:
        return list(args.gap_instances)
    return QUICK_GAP if args.quick else GAP


def setcover_ids(args) -> list[str]:
    if args.setcover_instances:
        return list(args.setcover_instances)
    return QUICK_SETCOVER if args.quick else SETCOVER


def generated_gaps(count: int) -> list:
    """Return ``count`` generated GAPs: m = 10 agents, n = 60 or 100 jobs, types C and D, seeds 0, 1, ..."""
    from cutslack.problems import random_gap

    items = []
    for k in range(count):
        n, kind = (60, 100)[k % 2], "cd"[(k // 2) % 2]
        items.append(("gap", f"random_gap(10, {n}, kind={kind!r}, rng={k})", random_gap(10, n, kind=kind, rng=k)))
    return items


def model_items(folder) -> list:
    """Return ``("models", file name, program)`` for every MPS/LP file in ``folder`` (sorted by name)."""
    from cutslack.models import read_model

    files = sorted(f for f in Path(folder).iterdir() if f.name.lower().endswith(MODEL_SUFFIXES))
    if not files:
        raise SystemExit(f"--models {folder}: no .mps/.lp(.gz) files there")
    return [("models", f.name, read_model(f)) for f in files]


def run_blocks(args, log) -> tuple[dict, list]:
    """Run every selected family; return ``({family: rows}, same-qubit rows)``."""
    families = set(args.families)
    blocks = {}
    if "knapsack" in families:
        blocks["knapsack"] = run_family([("mdkp", name) for name in knapsack_ids(args)], args, knapsack=True, log=log)
    if "gap" in families or args.generated_gap:
        items = [("gap", name) for name in gap_ids(args)] if "gap" in families else []
        blocks["gap"] = run_family(items + generated_gaps(args.generated_gap), args, knapsack=False,
                                   slack_bits=True, log=log)
    if "setcover" in families:
        blocks["setcover"] = run_family([("setcover", name) for name in setcover_ids(args)], args, knapsack=False,
                                        slack_bits=True, log=log)
    if args.models:
        blocks["models"] = run_family(model_items(args.models), args, knapsack=False, slack_bits=True, log=log)
    same_rows = []
    if "same" in families and not args.no_same_qubits:
        items = QUICK_SAME_QUBITS if (args.quick or args.instances) else SAME_QUBITS
        same_rows = run_family(items, args, knapsack=False, log=log)
    return blocks, same_rows


def main(argv=None):
    args = parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    warm_up(args)
    t0 = time.perf_counter()
    print(f"budget: {budget_text(args)}", flush=True)
    blocks, same_rows = run_blocks(args, log=lambda s: print(s, flush=True))
    total = time.perf_counter() - t0
    for family, _heading, what in BLOCKS:
        if blocks.get(family):
            print("\n".join(["", f"{what}:", *summary_lines(blocks[family], headline=True, family=family,
                                                             what=what)]))
    if same_rows:
        print("\n".join(["", "same qubits (MIS/QAP, not counted):", *summary_lines(same_rows, headline=False)]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(blocks, same_rows, args, argv, total))
    written = [out]
    if not args.no_plot:
        for family, _heading, what in BLOCKS:
            if blocks.get(family):
                path = out.with_suffix(".png") if family == "knapsack" else out.with_name(f"{out.stem}_{family}.png")
                plot(blocks[family], path, what=what[0].upper() + what[1:])
                written.append(path)
    print(f"total {total:.0f} s; wrote " + ", ".join(str(p) for p in written))
    return blocks.get("knapsack", []), same_rows


if __name__ == "__main__":
    main()
