"""Slack-bit penalty vs slack-free (unbalanced, Lagrangian with five dual methods) QUBOs, head to head.

For SAC-94 / mknap1 knapsacks, DIMACS/Sloane MIS graphs, QAPLIB n = 12 and random 5–8 city
TSPs, every method gets the same sampler and the same sample budget (``--reads`` samples per
round, ``--rounds`` rounds or dual iterations), and every sample is repaired the same way.
Prints one table (qubits, feasible fraction of the raw samples, best feasible objective, gap
to the known optimum, time) and a summary against the targets, and writes
``benchmarks/results/slack_vs_slackfree.md`` and ``.png``.

    OMP_NUM_THREADS=1 python benchmarks/slack_vs_slackfree.py            # full run
    OMP_NUM_THREADS=1 python benchmarks/slack_vs_slackfree.py --quick    # a few instances
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import time
from pathlib import Path

import numpy as np

import cutslack
from cutslack.problems import KnownOptimum, random_tsp
from cutslack.problems.library import load_instance

RESULTS = Path(__file__).resolve().parent / "results"

KNAPSACK = ["mknap2#HP1", "mknap2#HP2", "mknap2#PB1", "mknap2#PB2", "mknap2#PB4", "mknap2#PB5",
            *(f"mknap1#{k}" for k in range(2, 8)), *(f"mknap2#WEING{k}" for k in range(1, 5))]
MIS = ["1dc.64", "1et.64", "johnson8-4-4", "hamming6-4"]
QAP = ["chr12a", "had12", "nug12", "rou12", "scr12", "tai12a"]
TSP_SIZES = [5, 6, 7, 8]
DUALS = ["subgradient", "averaging", "cutting-plane", "bundle", "augmented"]
TARGET = {"mdkp": 0.01, "mis": 0.02, "qap": 0.02, "tsp": 0.02}


def tsp_instance(n: int):
    """A random Euclidean TSP with its optimum by enumerating the (n-1)! tours from city 0."""
    p = random_tsp(n, rng=100 + n)
    tours = np.array([(0,) + t for t in itertools.permutations(range(1, n))])
    best = float(p.evaluate(tours).min())
    return dataclasses.replace(p, name=f"tsp{n}", known_optimum=KnownOptimum(best, True, "enumeration"))


def instances(quick: bool):
    """Yield ``(family, name, problem)`` for the listed instances."""
    pick = (lambda xs, k: xs[:k]) if quick else (lambda xs, k: xs)
    for name in pick(KNAPSACK, 3):
        yield "mdkp", name, load_instance("mdkp", name)
    for name in pick(MIS, 2):
        yield "mis", name, load_instance("mis", name)
    for name in pick(QAP, 1):
        yield "qap", name, load_instance("qap", name)
    for n in pick(TSP_SIZES, 1):
        yield "tsp", f"tsp{n}", tsp_instance(n)


def methods():
    """Return ``(label, method, options)`` for every compared method."""
    out = [("penalty", "penalty", {}), ("unbalanced", "unbalanced", {})]
    out += [(f"lagr-{d}", "lagrangian", {"dual": d}) for d in DUALS]
    out.append(("lagr-unbalanced", "lagrangian", {"augment_inequalities": "unbalanced"}))
    return out


def run_one(problem, method, options, *, reads, rounds, sampler, seed):
    budget = {"rounds": rounds} if method != "lagrangian" else {"maxiter": rounds, "patience": rounds}
    start = time.perf_counter()
    res = cutslack.solve(problem, method=method, sampler=sampler, num_reads=reads, rng=seed, **budget, **options)
    return res, time.perf_counter() - start


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reads", type=int, default=32, help="samples per round / dual iteration")
    ap.add_argument("--rounds", type=int, default=20, help="rounds (baselines) = max dual iterations")
    ap.add_argument("--sampler", default="anneal")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a few instances only")
    args = ap.parse_args(argv)
    rows = []
    for family, name, problem in instances(args.quick):
        opt = problem.known_optimum.value
        for label, method, options in methods():
            if family != "mdkp" and label == "lagr-unbalanced":
                continue  # no inequalities to unbalance
            res, seconds = run_one(problem, method, options, reads=args.reads, rounds=args.rounds,
                                   sampler=args.sampler, seed=args.seed)
            gap = cutslack.result.relative_gap(res.objective, opt, problem.sense) if res.feasible else None
            rows.append({"family": family, "instance": name, "n": problem.to_binary().n, "method": label,
                         "qubits": res.n_qubits, "feasible_fraction": res.info.get("feasible_fraction"),
                         "best": res.objective if res.feasible else None, "optimum": opt, "gap": gap,
                         "feasible": res.feasible, "time": seconds})
            if label == "penalty":
                rows[-1]["qubits_by_rule"] = slack_bit_counts(problem)
            r = rows[-1]
            print(f"{family:5s} {name:14s} {label:17s} qubits={r['qubits']:4d} "
                  f"feas={_fmt(r['feasible_fraction'], '.3f'):>6s} best={_fmt(r['best'], '.0f'):>8s} "
                  f"opt={opt:<8g} gap={_fmt(None if gap is None else 100 * gap, '.2f'):>6s}% t={seconds:.1f}s",
                  flush=True)
    summary = summarise(rows)
    print("\n" + summary)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "slack_vs_slackfree.md").write_text(markdown(rows, args) + "\n" + summary + "\n")
    plot(rows, RESULTS / "slack_vs_slackfree.png")
    print(f"wrote {RESULTS / 'slack_vs_slackfree.md'} and .png")


def _fmt(value, spec):
    return "-" if value is None else format(value, spec)


def summarise(rows) -> str:
    """Return the summary lines: targets met, feasibility, and slack-free vs slack-bit per instance."""
    lines = ["## Summary"]
    labels = sorted({r["method"] for r in rows}, key=[m[0] for m in methods()].index)
    by = {(r["instance"], r["method"]): r for r in rows}
    insts = list(dict.fromkeys(r["instance"] for r in rows))
    for label in labels:
        mine = [r for r in rows if r["method"] == label]
        hit = sum(1 for r in mine if r["gap"] is not None and r["gap"] <= TARGET[r["family"]] + 1e-12)
        feas = sum(r["feasible"] for r in mine)
        line = f"- {label}: within target {hit}/{len(mine)}, feasible results {feas}/{len(mine)}"
        if label != "penalty":
            ge = sum(1 for i in insts if (i, label) in by and by[(i, label)]["best"] is not None and
                     (by[(i, "penalty")]["best"] is None or not _worse(by[(i, label)], by[(i, "penalty")])))
            line += f", better or equal to slack-bit penalty on {ge}/{len(mine)} ({100 * ge / len(mine):.0f}%)"
        total = sum(r["time"] for r in mine)
        lines.append(line + f", total time {total:.0f}s")
    best_free = []
    for i in insts:
        free = [by[(i, m)] for m in labels if m != "penalty" and (i, m) in by and by[(i, m)]["best"] is not None]
        pen = by[(i, "penalty")]
        if free:
            sense_max = _sense_max(pen)
            best = max(f["best"] for f in free) if sense_max else min(f["best"] for f in free)
            best_free.append(pen["best"] is None or (best >= pen["best"] if sense_max else best <= pen["best"]))
    lines.append(f"- best slack-free method better or equal to penalty on {sum(best_free)}/{len(best_free)} instances")
    return "\n".join(lines)


def _sense_max(row) -> bool:
    return row["family"] in ("mdkp", "mis")


def _worse(a, b) -> bool:
    """True when row a's best objective is strictly worse than row b's."""
    if b["best"] is None:
        return False
    return a["best"] < b["best"] if _sense_max(a) else a["best"] > b["best"]


def slack_bit_counts(problem) -> dict:
    """Return the slack-bit QUBO size under each rule: ours, Qiskit Optimization's and dimod's."""
    from cutslack.solvers.qubo import penalty_qubo

    bp = problem.to_binary()
    return {rule: penalty_qubo(bp, rule=rule)[0].n for rule in ("cutslack", "qiskit", "dimod")}


def markdown(rows, args) -> str:
    head = (f"# Slack-bit vs slack-free QUBOs\n\nSampler `{args.sampler}`, {args.reads} reads × {args.rounds} "
            f"rounds/iterations per method, seed {args.seed}; every sample repaired.  `feasible` is the "
            "fraction of raw samples (before repair) that satisfy every constraint.\n\n"
            "| family | instance | n | method | qubits | feasible | best | optimum | gap % | time s |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    body = [f"| {r['family']} | {r['instance']} | {r['n']} | {r['method']} | {r['qubits']} | "
            f"{_fmt(r['feasible_fraction'], '.3f')} | {_fmt(r['best'], '.0f')} | {r['optimum']:g} | "
            f"{_fmt(None if r['gap'] is None else 100 * r['gap'], '.2f')} | {r['time']:.1f} |" for r in rows]
    rules = [r for r in rows if r.get("qubits_by_rule")]
    counts = ["", "## Slack-bit qubits by encoding rule", "",
              "`cutslack` drops rows no bit vector can violate and caps each slack range at max a'x; "
              "`qiskit` is QuadraticProgramToQubo's count, `dimod` is cqm_to_bqm's.", "",
              "| instance | n (slack-free) | cutslack | qiskit | dimod |", "|---|---|---|---|---|"]
    counts += [f"| {r['instance']} | {r['n']} | {r['qubits_by_rule']['cutslack']} | {r['qubits_by_rule']['qiskit']} | "
               f"{r['qubits_by_rule']['dimod']} |" for r in rules]
    return "\n".join([head, *body, *counts])


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    insts = list(dict.fromkeys(r["instance"] for r in rows))
    labels = [m[0] for m in methods() if any(r["method"] == m[0] for r in rows)]
    by = {(r["instance"], r["method"]): r for r in rows}
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(8, 0.6 * len(insts)), 8), sharex=True)
    x = np.arange(len(insts))
    width = 0.8 / len(labels)
    for k, label in enumerate(labels):
        gaps = [100 * by[(i, label)]["gap"] if (i, label) in by and by[(i, label)]["gap"] is not None else np.nan
                for i in insts]
        qubits = [by[(i, label)]["qubits"] if (i, label) in by else np.nan for i in insts]
        ax1.bar(x + k * width, gaps, width, label=label)
        ax2.bar(x + k * width, qubits, width, label=label)
    ax1.set_ylabel("gap to optimum (%)")
    ax2.set_ylabel("qubits")
    ax2.set_xticks(x + 0.4, insts, rotation=60, ha="right")
    ax1.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
