"""One QAOA expectation: cutslack's statevector simulator vs Qiskit Aer's statevector simulator.

For n in --sizes and p in --depths, on a sparse MaxCut (random 3-regular graph) and on a
dense QUBO (the augmented-Lagrangian QUBO of a random knapsack), both simulators evaluate
the same QAOA circuit at the same random angles.  Printed per row: both values, |diff|,
the time of one evaluation on each (Aer: EstimatorV2, exact, circuit transpiled once, gate fusion on
as by default; ours: state + expectation, with the one-off cost diagonal timed separately), and
the ratio.  Timing follows ``benchmarks/timing.py``: each side's cold first call is printed apart,
then ``--rounds`` (>= 5) interleaved rounds with the order alternating; the ratio is the median of
the per-round ratios, with its spread, by wall time.  Threads are pinned to --threads for both
(set before NumPy, Numba and Aer load).

Usage: python benchmarks/qaoa_simulator.py [--sizes 12 16 20 22 24] [--depths 1 3] [--threads 1]
       [--rounds 5] [--out benchmarks/results/qaoa_simulator.txt]   (also write the table, with a provenance header)
Targets (issue 4): ratio >= 10 at n = 20, p = 3 on MaxCut, >= 50 on the dense QUBO; |diff| <= 1e-8.
"""

from __future__ import annotations

import argparse
import builtins
import os
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[12, 16, 20, 22, 24])
    ap.add_argument("--depths", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (>= 5; benchmarks/timing.py)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="also write the printed table, with a provenance header, to this file")
    return ap.parse_args()


def maxcut_qubo(n: int, seed: int):
    """Return the MaxCut QUBO (minimise minus the cut) of a random 3-regular graph."""
    import networkx as nx
    import numpy as np

    from cutslack.binary import QUBO

    g = nx.random_regular_graph(3, n, seed=seed)
    Q = np.zeros((n, n))
    for i, j in g.edges:
        Q[i, i] -= 1
        Q[j, j] -= 1
        Q[min(i, j), max(i, j)] += 2
    return QUBO(Q)


def knapsack_qubo(n: int, seed: int):
    """Return the dense augmented-Lagrangian QUBO of a random knapsack with n items."""
    from cutslack.problems import random_knapsack
    from cutslack.solvers.qubo.lagrangian import lagrangian_qubo

    program = random_knapsack(n, rng=seed, R=100).to_binary()
    qubo, _ = lagrangian_qubo(program, [0.5], rho=0.05, augment_inequalities=True)
    return qubo


def main():
    args = parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    from timing import compare, pin_threads, thread_report

    pin_threads(args.threads)
    sys.path.insert(0, os.path.join(here, ".."))
    import numpy as np

    from cutslack.quantum.circuits import AerEvaluator, qaoa_circuit
    from cutslack.quantum.ising import qubo_to_pauli
    from cutslack.quantum.statevector import StatevectorSimulator

    StatevectorSimulator(maxcut_qubo(6, 0)).expectation(StatevectorSimulator(maxcut_qubo(6, 0)).qaoa_state([0.1], [0.2]))
    rng = np.random.default_rng(args.seed)
    lines = []

    def print(line, **_kw):  # noqa: A001 - tee to stdout and the results file
        lines.append(line)
        builtins.print(line, flush=True)

    print(f"threads={args.threads} for both (Numba threads; Aer max_parallel_threads, fusion on, its default); "
          f"loaded: {thread_report()}")
    print(f"times in seconds: cold = first call; t_ours, t_aer = medians of {args.rounds} interleaved rounds (order "
          "alternating); ratio = median of per-round t_aer/t_ours [min-max]; ratio+diag adds the one-off diagonal")
    header = (f"{'instance':>9} {'n':>3} {'p':>2} {'ours':>20} {'aer':>20} {'|diff|':>9} {'t_diag':>8} "
              f"{'cold_ours':>9} {'cold_aer':>9} {'t_ours':>9} {'t_aer':>9} {'ratio':>8} {'[min-max]':>13} "
              f"{'ratio+diag':>10} {'load':>11}")
    print(header)
    for kind, build in (("maxcut", maxcut_qubo), ("knapsack", knapsack_qubo)):
        for n in args.sizes:
            qubo = build(n, args.seed)
            t0 = time.perf_counter()
            sim = StatevectorSimulator(qubo)
            t_diag = time.perf_counter() - t0
            op, offset = qubo_to_pauli(qubo)
            for p in args.depths:
                gammas, betas = rng.uniform(-0.5, 0.5, p) / max(1.0, qubo.max_abs_coefficient()), rng.uniform(-1, 1, p)
                circ, params = qaoa_circuit(qubo, p)
                aer = AerEvaluator(circ, params, op, offset=offset, method="statevector",
                                   backend_options={"max_parallel_threads": args.threads})
                x = np.concatenate([gammas, betas])
                values = {}
                cmp = compare({"ours": lambda: sim.expectation(sim.qaoa_state(gammas, betas)),
                               "aer": lambda: aer.expectation(x)}, rounds=args.rounds,
                              on_result=lambda name, _r, value: values.setdefault(name, value))
                ours, theirs = values["ours"], values["aer"]
                t_ours, t_aer = cmp.sides["ours"].median(), cmp.sides["aer"].median()
                ratio, lo, hi = cmp.ratio("aer", "ours")
                print(f"{kind:>9} {n:>3} {p:>2} {ours:>20.12f} {theirs:>20.12f} {abs(ours - theirs):>9.1e} "
                      f"{t_diag:>8.4f} {cmp.sides['ours'].cold_wall:>9.4f} {cmp.sides['aer'].cold_wall:>9.4f} "
                      f"{t_ours:>9.5f} {t_aer:>9.4f} {ratio:>8.1f} {f'[{lo:.1f}-{hi:.1f}]':>13} "
                      f"{t_aer / (t_ours + t_diag):>10.1f} {f'{cmp.load_start:.2f}->{cmp.load_end:.2f}':>11}")
    if args.out:
        from provenance import text_header

        with open(args.out, "w") as fh:
            fh.write(text_header(__file__) + "\n".join(lines) + "\n")
        builtins.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
