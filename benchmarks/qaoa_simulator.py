"""One QAOA expectation: cutslack's statevector simulator vs QOKit's C simulator and Qiskit Aer.

For n in --sizes and p in --depths, on a sparse MaxCut (random 3-regular graph), every simulator
evaluates the same QAOA circuit at the same random angles; on a dense QUBO (the
augmented-Lagrangian QUBO of a random knapsack, --dense-sizes) ours is compared with Aer only.

* ours: ``StatevectorSimulator.qaoa_state(..., out=buffer)`` then ``expectation`` (complex128);
* QOKit: its C simulator ``libcsim.so`` (``qokit/fur/c/csim/src`` of github.com/jpmorganchase/QOKit,
  --qokit-src), called through ctypes as QOKit's own ``lib.py`` does (``apply_qaoa_furx`` on split
  real/imaginary float64 arrays and a float64 cost diagonal), then the expectation in NumPy.  It is
  built here twice from the same sources: with its makefile's flags (``make``: ``-fopenmp -fPIC
  -Wall``, no optimisation flag, so gcc's -O0) and with ``make CFLAGS="-O3 -march=native -fopenmp
  -fPIC -Wall"``.  The pip wheel ``qokit`` ships the C sources but no makefile and no library;
* Aer: EstimatorV2, exact, circuit transpiled once, gate fusion on as by default.

Timing follows ``benchmarks/timing.py``: each side's cold first call apart, then ``--rounds``
(>= 5) interleaved rounds with the order alternating; ratios are medians of the per-round ratios
(by wall time, and by CPU time of the process, which the load of other processes disturbs less),
with their spread.  One thread for every side (OMP for QOKit, Numba for ours, Aer's
max_parallel_threads), set before anything loads.  Printed per row: the values and the largest
|difference| from ours, ns per amplitude per layer (median wall / (p 2^n)) for each side, and the
ratios.  The results file is rewritten after every row, so a partial run leaves its rows.

Usage: python benchmarks/qaoa_simulator.py [--sizes 20 22 24 26] [--depths 3] [--dense-sizes 20]
       [--qokit-src PATH/qokit/fur/c/csim] [--aer-max 26] [--qokit-default-max 26] [--threads 1] [--rounds 5]
       [--out benchmarks/results/qaoa_simulator.txt]
Targets (issue 24): ours >= 5x QOKit -O3 and >= 10x Aer at every n from 20 to 26 (MaxCut, p = 3);
|diff| <= 1e-12 against QOKit and 1e-8 against Aer.
"""

from __future__ import annotations

import argparse
import builtins
import os
import shutil
import subprocess
import sys
import time

QOKIT_O3_CFLAGS = "-O3 -march=native -fopenmp -fPIC -Wall"


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[20, 22, 24, 26])
    ap.add_argument("--depths", type=int, nargs="+", default=[3])
    ap.add_argument("--dense-sizes", type=int, nargs="*", default=[20], help="knapsack QUBO sizes (ours vs Aer)")
    ap.add_argument("--qokit-src", help="QOKit's qokit/fur/c/csim folder (with src/makefile); QOKit is skipped without it")
    ap.add_argument("--qokit-build", default="/tmp/cutslack-qokit-build", help="where the two builds are made")
    ap.add_argument("--aer-max", type=int, default=26, help="largest n run on Aer")
    ap.add_argument("--qokit-default-max", type=int, default=26, help="largest n run on the default (-O0) QOKit build")
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


def build_qokit(src: str, build: str) -> tuple[dict, list[str]]:
    """Build QOKit's ``libcsim.so`` twice (makefile defaults, -O3 -march=native); return paths and how."""
    gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    libs, notes = {}, []
    for name, extra in (("qokit", []), ("qokit_O3", [f"CFLAGS={QOKIT_O3_CFLAGS}"])):
        folder = os.path.join(build, name)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(src, folder, ignore=shutil.ignore_patterns("*.o", "*.so", "__pycache__"))
        subprocess.run(["make", "-C", os.path.join(folder, "src"), *extra], check=True, capture_output=True)
        libs[name] = os.path.join(folder, "libcsim.so")
        how = "make" + (f' CFLAGS="{QOKIT_O3_CFLAGS}"' if extra else " (its makefile: CFLAGS = -fopenmp -fPIC -Wall)")
        notes.append(f"{name}: `{how}` in qokit/fur/c/csim/src, {gcc}")
    return libs, notes


def qokit_side(lib_path: str, diag, offset: float, n: int, gammas, betas):
    """Return a callable: QOKit's ``apply_qaoa_furx`` from |+>^n, then the expectation (NumPy)."""
    import ctypes

    import numpy as np
    from numpy.ctypeslib import ndpointer

    vec = ndpointer(ctypes.c_double, flags="C_CONTIGUOUS")
    fn = ctypes.CDLL(lib_path).apply_qaoa_furx  # a private handle per build (RTLD_LOCAL)
    fn.restype = None
    fn.argtypes = [vec, vec, vec, vec, vec, ctypes.c_uint, ctypes.c_size_t, ctypes.c_size_t]
    hc = 2.0 * diag  # QOKit applies exp(-i gamma/2 hc): the same phase exp(-i gamma diag)
    re, im = np.empty(1 << n), np.empty(1 << n)
    g, b = np.ascontiguousarray(gammas, dtype=float), np.ascontiguousarray(betas, dtype=float)

    def run():
        re.fill(2.0 ** (-n / 2))
        im.fill(0.0)
        fn(re, im, g, b, hc, n, 1 << n, len(g))
        return float(np.dot(re * re + im * im, diag)) + offset
    return run


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

    warm = StatevectorSimulator(maxcut_qubo(6, 0))
    warm.expectation(warm.qaoa_state([0.1], [0.2]))
    libs, notes = build_qokit(args.qokit_src, args.qokit_build) if args.qokit_src else ({}, ["QOKit: not run (--qokit-src)"])
    rng = np.random.default_rng(args.seed)
    lines = []

    def print(line, **_kw):  # noqa: A001 - tee to stdout and the results file
        lines.append(line)
        builtins.print(line, flush=True)
        if args.out:
            from provenance import text_header

            with open(args.out, "w") as fh:
                fh.write(text_header(__file__) + "\n".join(lines) + "\n")

    print(f"threads={args.threads} for every side (Numba threads; OMP_NUM_THREADS for QOKit; Aer max_parallel_threads, "
          f"fusion on, its default); loaded: {thread_report()}")
    for note in notes:
        print(note)
    print(f"ns/amp/layer = median wall of {args.rounds} interleaved rounds (order alternating) / (p 2^n), state and "
          "expectation; x = median of per-round time ratios side/ours [min-max], by wall and by CPU time; "
          "|diff| = largest |value - ours|; t_diag = our one-off diagonal (s)")
    names = ["ours", *libs, "aer"]
    print(f"{'instance':>9} {'n':>3} {'p':>2} {'ours':>18} {'|diff|':>8} {'t_diag':>7} "
          + " ".join(f"{'ns:' + k:>12}" for k in names) + " "
          + " ".join(f"{'x' + k + ' wall':>22} {'cpu':>6}" for k in names[1:]) + f" {'load':>11}")
    cases = [("maxcut", maxcut_qubo, n) for n in args.sizes] + [("knapsack", knapsack_qubo, n) for n in args.dense_sizes]
    for kind, build, n in cases:
        qubo = build(n, args.seed)
        t0 = time.perf_counter()
        sim = StatevectorSimulator(qubo)
        t_diag = time.perf_counter() - t0
        diag, buf = sim.diagonal, np.empty(1 << n, dtype=np.complex128)
        for p in args.depths:
            gammas, betas = rng.uniform(-0.5, 0.5, p) / max(1.0, qubo.max_abs_coefficient()), rng.uniform(-1, 1, p)
            sides = {"ours": lambda: sim.expectation(sim.qaoa_state(gammas, betas, out=buf))}
            if kind == "maxcut":
                for name, path in libs.items():
                    if name == "qokit_O3" or n <= args.qokit_default_max:
                        sides[name] = qokit_side(path, diag, sim.offset, n, gammas, betas)
            if n <= args.aer_max:
                op, offset = qubo_to_pauli(qubo)
                circ, params = qaoa_circuit(qubo, p)
                aer = AerEvaluator(circ, params, op, offset=offset, method="statevector",
                                   backend_options={"max_parallel_threads": args.threads})
                x = np.concatenate([gammas, betas])
                sides["aer"] = lambda: aer.expectation(x)
            values = {}
            cmp = compare(sides, rounds=args.rounds, on_result=lambda name, _r, value: values.setdefault(name, value))
            diff = max((abs(v - values["ours"]) for k, v in values.items() if k != "ours"), default=0.0)
            cells = []
            for k in names:
                ok = k in sides
                cells.append(f"{cmp.sides[k].median() / (p << n) * 1e9:>12.1f}" if ok else f"{'-':>12}")
            ratios = []
            for k in names[1:]:
                if k in sides:
                    w, c = cmp.ratio(k, "ours"), cmp.ratio(k, "ours", "cpu")
                    ratios.append(f"{f'{w[0]:.1f} [{w[1]:.1f}-{w[2]:.1f}]':>22} {c[0]:>6.1f}")
                else:
                    ratios.append(f"{'-':>22} {'-':>6}")
            print(f"{kind:>9} {n:>3} {p:>2} {values['ours']:>18.12f} {diff:>8.1e} {t_diag:>7.3f} " + " ".join(cells)
                  + " " + " ".join(ratios) + f" {f'{cmp.load_start:.2f}->{cmp.load_end:.2f}':>11}")
    if args.out:
        builtins.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
