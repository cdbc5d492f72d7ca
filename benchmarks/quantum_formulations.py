"""Slack-bit vs slack-free vs unbalanced QUBOs under QAOA, VQE and CVaR-VQE on small instances.

Instances: SAC-94 knapsacks with n <= 22 from the benchmark library (OR-Library mknap1 #1–#4
and mknap2 PB5: 6–20 items) and generated knapsacks with n <= 16; MIS on "1tc-style" graphs
(the hypercubes Q3 and Q4: binary words of length 3 and 4, edges at Hamming distance 1 — the
exact 1tc codes are not in the benchmark library); TSP with 4 cities (16 qubits, position
encoding); QAP with n = 4 (16 qubits).  Formulations: ``penalty`` (slack bits),
``lagrangian`` (the slack-free augmented Lagrangian QUBO: on knapsacks the augmented form at
its LP-dual warm start, ``augmented_slackfree_qubo``) and ``unbalanced`` (slack-free
unbalanced penalization).  Every run goes through ``cutslack.solve(problem, method=...,
formulation=...)`` on the fast statevector simulator, so raw samples are mapped back and
repaired by the same code as in the library.

Per run: qubits, the probability that a raw sample (before repair) is optimal
(``p_optimal_raw``) or feasible and within 1 % of the optimum (``p_near_optimal_raw``), the
feasible fraction of raw samples, the best raw feasible objective, the best feasible
objective after repair, its gap to the optimum (known optimum from the library, brute force
for generated instances) and the wall time.  A QUBO with more qubits than ``--max-qubits``
(default 22: a parameter optimisation beyond that takes minutes per run on two cores) or
than the simulator can hold is **not run**: it is reported as its own outcome ("slack-bit
too large to simulate"), with its qubit count and the memory its statevector would need,
and it is never counted as a slack-free win.  Writes ``benchmarks/results/quantum_formulations.md``.

Usage: python benchmarks/quantum_formulations.py [--max-qubits 22] [--seed 0] [--quick]
Targets (issue 15): the slack-free QUBO's probability of sampling an optimal (or feasible,
>= 99 %-of-optimum) bit string before repair is reported beside the slack-bit version's
wherever that fits in memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
FORMULATIONS = ("penalty", "lagrangian", "unbalanced")
SLACK_FREE = ("lagrangian", "unbalanced")
METHODS = {
    "qaoa": {"p": 2, "maxiter": 60, "num_reads": 512},
    "vqe": {"reps": 1, "maxiter": 60, "num_reads": 512},
    "cvar-vqe": {"reps": 1, "maxiter": 60, "num_reads": 512, "alpha": 0.25},
}
TOO_LARGE = "too large to simulate"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-qubits", type=int, default=22)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=8.0, help="seconds per run")
    ap.add_argument("--quick", action="store_true", help="QAOA only, fewer instances")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "quantum_formulations.md"))
    return ap.parse_args(argv)


def hypercube_mis(dim: int):
    """Return the MIS instance on the hypercube Q_dim (a 1tc-style Hamming-distance-1 graph)."""
    import networkx as nx

    from cutslack.problems import MaximumIndependentSet

    graph = nx.convert_node_labels_to_integers(nx.hypercube_graph(dim), ordering="sorted")
    return MaximumIndependentSet(graph, name=f"Q{dim} (1tc-style, {2 ** dim} nodes)")


def with_optimum(problem):
    """Return ``problem`` with a known optimum: its own (library) or one found by brute force."""
    from cutslack.problems import KnownOptimum
    from cutslack.testing import brute_force

    if getattr(problem, "known_optimum", None) is not None:
        return problem
    value = float(brute_force(problem)[1])
    return dataclasses.replace(problem, known_optimum=KnownOptimum(value, True, "brute force"))


def instances(quick: bool):
    """Return ``[(family, name, problem)]`` for the benchmark."""
    from cutslack.problems import random_knapsack, random_qap, random_tsp
    from cutslack.problems.library import load_instance

    library = ["mknap1#1", "mknap1#2", "mknap1#3"] + ([] if quick else ["mknap1#4", "mknap2#PB5"])
    out = [("knapsack", f"{name} (SAC-94)", load_instance("mdkp", name)) for name in library]
    out += [("knapsack", "gen n=8", random_knapsack(8, R=30, rng=1)),
            ("knapsack", "gen n=12", random_knapsack(12, R=20, rng=2))]
    if not quick:
        out.append(("knapsack", "gen n=16", random_knapsack(16, R=10, rng=3)))
    out.append(("mis", "Q3", hypercube_mis(3)))
    if not quick:
        out.append(("mis", "Q4", hypercube_mis(4)))
    out += [("tsp", "gen 4 cities", random_tsp(4, rng=5)), ("qap", "gen n=4", random_qap(4, rng=6))]
    return [(family, name, with_optimum(problem)) for family, name, problem in out]


def statevector_bytes(qubits: int) -> int:
    """Return the bytes the fast simulator needs for ``qubits`` (state, diagonal, temporaries)."""
    from cutslack.quantum.statevector import BYTES_PER_AMPLITUDE

    return BYTES_PER_AMPLITUDE << qubits


def format_bytes(n: int) -> str:
    for unit, size in (("EiB", 1 << 60), ("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            value = n / size
            return f"{value:.3g} {unit}" if value < 1e4 else f"{value:.2e} {unit}"
    return f"{n / 1024:.3g} KiB"


def run_one(problem, method, formulation, args):
    """Return a row dict for one (problem, method, formulation) run."""
    import cutslack
    from cutslack.errors import ProblemTooLargeError
    from cutslack.quantum.driver import formulate

    qubits = formulate(problem, formulation)[0].n
    row = {"method": method, "formulation": formulation, "qubits": qubits}
    memory = format_bytes(statevector_bytes(qubits))
    if qubits > args.max_qubits:
        row.update(outcome=TOO_LARGE, status=f"{TOO_LARGE}: {qubits} qubits > cap {args.max_qubits}; "
                   f"statevector would need {memory}")
        return row
    t = time.perf_counter()
    try:
        res = cutslack.solve(problem, method=method, formulation=formulation, rng=args.seed,
                             time_limit=args.time_limit, **METHODS[method])
    except ProblemTooLargeError as exc:
        row.update(outcome=TOO_LARGE, status=f"{TOO_LARGE}: {qubits} qubits, statevector would need {memory} ({exc})")
        return row
    info = res.info
    row.update(outcome="ran", status=str(res.status.value), time=time.perf_counter() - t, n_qubits=res.n_qubits,
               subproblem=info.get("subproblem"), raw_feasible=info.get("raw_feasible_fraction"),
               best_raw=info.get("best_raw_objective"), best=info.get("best_repaired_objective"),
               p_opt=info.get("p_optimal_raw"), p_near=info.get("p_near_optimal_raw"))
    return row


def better_or_equal(a, b, sense):
    """True when objective ``a`` is at least as good as ``b`` (None is worst)."""
    if a is None:
        return b is None
    if b is None:
        return True
    return a >= b - 1e-9 if sense == "max" else a <= b + 1e-9


def warm_up(problems, methods, max_qubits: int) -> None:
    """Compile the simulator and repair kernels once per family, method and formulation.

    Tiny runs (2 optimiser steps, 8 shots) on the smallest instance where the formulation fits
    under the qubit cap; not timed and not reported.
    """
    import cutslack
    from cutslack.quantum.driver import formulate

    done = set()
    for family, _name, problem in sorted(problems, key=lambda item: item[2].to_binary().n):
        for formulation in FORMULATIONS:
            if (family, formulation) in done or formulate(problem, formulation)[0].n > max_qubits:
                continue
            done.add((family, formulation))
            for method in methods:
                options = {**METHODS[method], "maxiter": 2, "num_reads": 8}
                cutslack.solve(problem, method=method, formulation=formulation, rng=0, time_limit=5.0, **options)


def main(argv=None):
    args = parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    rows = []
    problems = instances(args.quick)
    methods = ("qaoa",) if args.quick else tuple(METHODS)
    warm_up(problems, methods, args.max_qubits)
    print(HEADER, flush=True)
    t0 = time.perf_counter()
    for family, name, problem in problems:
        optimum = float(problem.known_optimum.value)
        for method in methods:
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
    write_markdown(rows, summary, total, args, argv)
    return rows


HEADER = (f"{'family':<9}{'instance':<22}{'method':<10}{'formulation':<12}{'qubits':>7}{'p_opt':>8}{'p_99%':>8}"
          f"{'raw feas':>9}{'best raw':>11}{'best rep':>11}{'optimum':>11}{'gap %':>8}{'time s':>8}  status")


def _fmt(value, spec):
    return "—" if value is None else format(value, spec)


def format_row(r):
    return (f"{r['family']:<9}{r['instance']:<22}{r['method']:<10}{r['formulation']:<12}{r['qubits']:>7}"
            f"{_fmt(r.get('p_opt'), '.4f'):>8}{_fmt(r.get('p_near'), '.4f'):>8}{_fmt(r.get('raw_feasible'), '.3f'):>9}"
            f"{_fmt(r.get('best_raw'), '.6g'):>11}{_fmt(r.get('best'), '.6g'):>11}{r['optimum']:>11.6g}"
            f"{_fmt(r.get('gap'), '.2f'):>8}{_fmt(r.get('time'), '.1f'):>8}  {r['status']}")


def summarise(rows):
    """Return the comparisons as lines of text; a slack-bit run that was not simulated counts for nobody."""
    lines = []
    knap = {}
    for r in rows:
        if r["family"] == "knapsack":
            knap.setdefault(r["instance"], {})[r["formulation"]] = r["qubits"]
    fewer = [name for name, q in knap.items() if q["lagrangian"] < q["penalty"] and q["unbalanced"] < q["penalty"]]
    lines.append(f"- slack-free (lagrangian, unbalanced) uses fewer qubits than slack-bit on {len(fewer)}/{len(knap)} "
                 f"knapsack instances: " + ", ".join(f"{n}: {q['penalty']} vs {q['lagrangian']}" for n, q in knap.items()))
    by_key = {(r["instance"], r["method"], r["formulation"]): r for r in rows}
    for free in SLACK_FREE:
        pairs = [(by_key[(i, m, free)], by_key[(i, m, "penalty")]) for (i, m, f) in by_key if f == "penalty"]
        both = [(a, b) for a, b in pairs if a["outcome"] == "ran" and b["outcome"] == "ran"]
        slack_too_large = sum(b["outcome"] == TOO_LARGE for a, b in pairs)
        free_too_large = sum(a["outcome"] == TOO_LARGE for a, b in pairs)
        wins = sum(better_or_equal(a.get("best"), b.get("best"), a["sense"]) for a, b in both)
        raw_wins = sum((a.get("p_near") or 0.0) >= (b.get("p_near") or 0.0) - 1e-12 for a, b in both)
        lines.append(f"- {free} vs slack-bit, where both were simulated ({len(both)} runs): best after repair at least "
                     f"as good on {wins}/{len(both)}; raw p(>= 99 % of optimum) at least as high on "
                     f"{raw_wins}/{len(both)}.  Not compared (own outcome): slack-bit {TOO_LARGE} on "
                     f"{slack_too_large} runs, {free} {TOO_LARGE} on {free_too_large}.")
    return lines


def raw_table(rows):
    """Return the QAOA knapsack rows: raw-sample quality of each formulation, side by side."""
    lines = ["| instance | formulation | qubits | p optimal (raw) | p >= 99 % of optimum (raw) | raw feasible | "
             "best raw | best after repair | optimum | outcome |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["family"] != "knapsack" or r["method"] != "qaoa":
            continue
        outcome = r["status"] if r["outcome"] != "ran" else f"ran ({r['status']})"
        lines.append(f"| {r['instance']} | {r['formulation']} | {r['qubits']} | {_fmt(r.get('p_opt'), '.4f')} | "
                     f"{_fmt(r.get('p_near'), '.4f')} | {_fmt(r.get('raw_feasible'), '.3f')} | "
                     f"{_fmt(r.get('best_raw'), '.6g')} | {_fmt(r.get('best'), '.6g')} | {r['optimum']:.6g} | {outcome} |")
    return lines


def write_markdown(rows, summary, total, args, argv):
    from provenance import results_header

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    mode = ("QUICK mode (--quick): QAOA only, fewer instances" if args.quick
            else "full mode: QAOA, VQE and CVaR-VQE on every instance")
    lines = ["# Slack-bit vs slack-free QUBOs under QAOA / VQE / CVaR-VQE", "",
             results_header(__file__, argv, extra=f"{mode}; whole run {total:.0f} s"), "",
             f"Fast statevector simulator, seed {args.seed}, time limit {args.time_limit:g} s per run, qubit cap "
             f"{args.max_qubits}; options per method: " + "; ".join(f"{m} {o}" for m, o in METHODS.items()) + ".  "
             "`p opt` / `p 99 %` are the probability mass of raw samples (shots, before repair) that are optimal / "
             "feasible and within 1 % of the optimum; `raw feasible` the fraction of raw samples satisfying every "
             "constraint; `best raw` the best raw feasible objective; `best rep` the best feasible objective after "
             "repair.  A formulation whose statevector does not fit (or exceeds the qubit cap) is not run and is "
             f"reported as `{TOO_LARGE}` with the memory it would need: it is nobody's win.  MIS graphs are the "
             "hypercubes Q3/Q4 (1tc-style).", "",
             "## QAOA on knapsacks: raw samples before repair", "", *raw_table(rows), "",
             "## Comparisons", *summary, f"- total time {total:.0f} s", "",
             "## Every run", "",
             "| family | instance | method | formulation | qubits | p opt | p 99 % | raw feasible | best raw | best rep | "
             "optimum | gap % | time s | outcome |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['family']} | {r['instance']} | {r['method']} | {r['formulation']} | {r['qubits']} | "
                     f"{_fmt(r.get('p_opt'), '.4f')} | {_fmt(r.get('p_near'), '.4f')} | "
                     f"{_fmt(r.get('raw_feasible'), '.3f')} | {_fmt(r.get('best_raw'), '.6g')} | "
                     f"{_fmt(r.get('best'), '.6g')} | {r['optimum']:.6g} | {_fmt(r.get('gap'), '.2f')} | "
                     f"{_fmt(r.get('time'), '.1f')} | {r['status']} |")
    lines.append("")
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
