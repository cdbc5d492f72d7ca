"""Slack-bit vs slack-free vs unbalanced QUBOs under QAOA, VQE and CVaR-VQE on small instances.

Instances: knapsack pet2 (OR-Library mknap1 #2: 10 items, 10 constraints) and generated
knapsacks with n <= 16; MIS on "1tc-style" graphs (the hypercubes Q3 and Q4: binary words of
length 3 and 4, edges at Hamming distance 1 — the exact 1tc codes are not in the benchmark
library); TSP with 4 cities (16 qubits, position encoding); QAP with n = 4 (16 qubits).
Formulations: ``penalty`` (slack bits), ``lagrangian`` (slack-free augmented Lagrangian at zero
multipliers) and ``unbalanced`` (slack-free unbalanced penalization).  Every run goes through
``cutslack.solve(problem, method=..., formulation=...)`` on the fast statevector simulator, so
raw samples are mapped back and repaired by the same code as in the library.

Per run: qubits, the feasible fraction of raw samples, the best feasible objective after
repair, its gap to the optimum (brute force, ``cutslack.testing.brute_force``) and the wall
time.  A QUBO with more qubits than ``--max-qubits`` (default 22: a parameter optimisation
beyond that takes minutes per run on two cores) or than the simulator can hold is reported
"too large" — slack bits cost qubits.  Writes ``benchmarks/results/quantum_formulations.md``.

Usage: python benchmarks/quantum_formulations.py [--max-qubits 22] [--seed 0] [--quick]
Targets (issue 4): slack-free uses fewer qubits than slack-bit on every knapsack; the best
feasible objective after repair is at least as good as slack-bit's on >= 80% of the runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
FORMULATIONS = ("penalty", "lagrangian", "unbalanced")
METHODS = {
    "qaoa": {"p": 2, "maxiter": 60, "num_reads": 512},
    "vqe": {"reps": 1, "maxiter": 60, "num_reads": 512},
    "cvar-vqe": {"reps": 1, "maxiter": 60, "num_reads": 512, "alpha": 0.25},
}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-qubits", type=int, default=22)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=8.0, help="seconds per run")
    ap.add_argument("--quick", action="store_true", help="QAOA only, fewer instances")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "quantum_formulations.md"))
    return ap.parse_args()


def hypercube_mis(dim: int):
    """Return the MIS instance on the hypercube Q_dim (a 1tc-style Hamming-distance-1 graph)."""
    import networkx as nx

    from cutslack.problems import MaximumIndependentSet

    graph = nx.convert_node_labels_to_integers(nx.hypercube_graph(dim), ordering="sorted")
    return MaximumIndependentSet(graph, name=f"Q{dim} (1tc-style, {2 ** dim} nodes)")


def instances(quick: bool):
    """Return ``[(family, name, problem)]`` for the benchmark."""
    from cutslack.problems import random_knapsack, random_qap, random_tsp
    from cutslack.problems.library import load_instance

    out = [("knapsack", "pet2 (mknap1#2)", load_instance("mdkp", "mknap1#2")),
           ("knapsack", "gen n=8", random_knapsack(8, R=30, rng=1)),
           ("knapsack", "gen n=12", random_knapsack(12, R=20, rng=2))]
    if not quick:
        out.append(("knapsack", "gen n=16", random_knapsack(16, R=10, rng=3)))
    out.append(("mis", "Q3", hypercube_mis(3)))
    if not quick:
        out.append(("mis", "Q4", hypercube_mis(4)))
    out += [("tsp", "gen 4 cities", random_tsp(4, rng=5)), ("qap", "gen n=4", random_qap(4, rng=6))]
    return out


def run_one(problem, method, formulation, args):
    """Return a row dict for one (problem, method, formulation) run."""
    import cutslack
    from cutslack.errors import ProblemTooLargeError
    from cutslack.quantum.driver import formulate

    qubits = formulate(problem, formulation)[0].n
    row = {"method": method, "formulation": formulation, "qubits": qubits}
    if qubits > args.max_qubits:
        row["status"] = f"too large ({qubits} > {args.max_qubits} qubits)"
        return row
    t = time.perf_counter()
    try:
        res = cutslack.solve(problem, method=method, formulation=formulation, rng=args.seed,
                             time_limit=args.time_limit, **METHODS[method])
    except ProblemTooLargeError as exc:
        row["status"] = f"too large ({exc})"
        return row
    row.update(status=str(res.status), time=time.perf_counter() - t, n_qubits=res.n_qubits,
               feasible_fraction=res.info.get("feasible_fraction"),
               best=res.objective if res.feasible else None)
    return row


def better_or_equal(a, b, sense):
    """True when objective ``a`` is at least as good as ``b`` (None is worst)."""
    if a is None:
        return b is None
    if b is None:
        return True
    return a >= b - 1e-9 if sense == "max" else a <= b + 1e-9


def main():
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    from cutslack.testing import brute_force

    rows = []
    header = (f"{'family':<9}{'instance':<18}{'method':<10}{'formulation':<12}{'qubits':>7}{'feasible':>10}"
              f"{'best':>12}{'optimum':>12}{'gap %':>8}{'time s':>8}  status")
    print(header, flush=True)
    t0 = time.perf_counter()
    for family, name, problem in instances(args.quick):
        optimum = brute_force(problem)[1]
        for method in (("qaoa",) if args.quick else METHODS):
            for formulation in FORMULATIONS:
                row = run_one(problem, method, formulation, args)
                row.update(family=family, instance=name, optimum=optimum, sense=problem.sense)
                if row.get("best") is not None:
                    row["gap"] = 100 * abs(optimum - row["best"]) / max(abs(optimum), 1e-9)
                rows.append(row)
                print(format_row(row), flush=True)
    total = time.perf_counter() - t0
    summary = summarise(rows)
    for line in summary:
        print(line)
    print(f"total time {total:.0f} s")
    write_markdown(rows, summary, total, args)


def _fmt(value, spec):
    return "—" if value is None else format(value, spec)


def format_row(r):
    return (f"{r['family']:<9}{r['instance']:<18}{r['method']:<10}{r['formulation']:<12}{r['qubits']:>7}"
            f"{_fmt(r.get('feasible_fraction'), '.3f'):>10}{_fmt(r.get('best'), '.6g'):>12}"
            f"{r['optimum']:>12.6g}{_fmt(r.get('gap'), '.2f'):>8}{_fmt(r.get('time'), '.1f'):>8}  {r['status']}")


def summarise(rows):
    """Return the target checks as lines of text."""
    lines = []
    knap = {}
    for r in rows:
        if r["family"] == "knapsack":
            knap.setdefault(r["instance"], {})[r["formulation"]] = r["qubits"]
    fewer = [name for name, q in knap.items() if q["lagrangian"] < q["penalty"] and q["unbalanced"] < q["penalty"]]
    lines.append(f"- slack-free (lagrangian, unbalanced) uses fewer qubits than slack-bit on {len(fewer)}/{len(knap)} "
                 f"knapsack instances: " + ", ".join(f"{n}: {q['penalty']} vs {q['lagrangian']}" for n, q in knap.items()))
    by_key = {(r["instance"], r["method"], r["formulation"]): r for r in rows}
    for free in ("lagrangian", "unbalanced"):
        pairs = [(by_key[(i, m, free)], by_key[(i, m, "penalty")]) for (i, m, f) in by_key if f == "penalty"]
        wins = sum(better_or_equal(a.get("best"), b.get("best"), a["sense"]) for a, b in pairs)
        too_large = sum(b["status"].startswith("too large") for a, b in pairs)
        lines.append(f"- {free}: best feasible after repair at least as good as slack-bit on {wins}/{len(pairs)} runs "
                     f"({100 * wins / max(len(pairs), 1):.0f}%; {too_large} of them have slack-bit too large to run)")
    return lines


def write_markdown(rows, summary, total, args):
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Slack-bit vs slack-free QUBOs under QAOA / VQE / CVaR-VQE", "",
             f"Fast statevector simulator, seed {args.seed}, time limit {args.time_limit:g} s per run, qubit cap "
             f"{args.max_qubits}; options per method: " + "; ".join(f"{m} {o}" for m, o in METHODS.items()) + ".  "
             "`feasible` is the fraction of raw samples (before repair) satisfying every constraint; `best` the best "
             "feasible objective after repair; MIS graphs are the hypercubes Q3/Q4 (1tc-style).", "",
             "| family | instance | method | formulation | qubits | feasible | best | optimum | gap % | time s | status |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['family']} | {r['instance']} | {r['method']} | {r['formulation']} | {r['qubits']} | "
                     f"{_fmt(r.get('feasible_fraction'), '.3f')} | {_fmt(r.get('best'), '.6g')} | {r['optimum']:.6g} | "
                     f"{_fmt(r.get('gap'), '.2f')} | {_fmt(r.get('time'), '.1f')} | {r['status']} |")
    lines += ["", "## Target checks", *summary, f"- total time {total:.0f} s", ""]
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
