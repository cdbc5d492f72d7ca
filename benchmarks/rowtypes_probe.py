"""Sampled slack-free QUBO vs slack bits on ``=`` / ``≥`` rows: GAP (OR-Library gap1–6) and SCP (scp41–49).

Both methods get the same sampler (``anneal``) and budget: ``--iters`` dual iterations
(``method="lagrangian"``) or rounds (``method="penalty"``, Qiskit's slack rule) of ``--reads``
reads.  The programs are bare BinaryPrograms in canonical form (GAP: one-hot job rows as
equalities, agent capacities as ``≤`` rows, maximise; SCP: ``A x ≥ 1`` stored as ``−A x ≤ −1``,
minimise), so every sample goes through the generic repair
(:func:`cutslack.solvers.repair.repair_program`) — the path a user's own model takes.

Per instance it prints the optimum, the repaired best and its gap, the raw feasible fraction
and best raw objective of each method, and the qubits of each encoding; then mean / worst gap
and the share of instances where slack-free is no worse than slack bits.

Targets (issue 20): GAP mean gap <= 1 %, worst <= 3 %, feasible everywhere; SCP mean <= 2 %,
worst <= 5 %; slack-free no worse than slack bits on >= 80 % of the instances.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/rowtypes_probe.py gap
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/rowtypes_probe.py scp --scp-dir DIR --reads 16 --iters 8
    (DIR holds scp41.txt ... scp49.txt)

Measured (seed 0, 2-core machine shared by other jobs; GAP with the defaults 12 × 32 reads, SCP
with ``--reads 16 --iters 8``):

    GAP (30)  slack-free mean 0.17 % worst 1.19 % feasible 30/30 | slack bits mean 0.50 % worst 1.55 %
              slack-free no worse on 27/30; qubits 75–256 vs 104–304
    SCP (9)   slack-free mean 0.09 % worst 0.61 % (7/9 optimal)  | slack bits mean 65.4 % worst 93.9 %
              slack-free no worse on 9/9; qubits 1000 vs ~1960

The small readers below are stand-ins until the library readers of the GAP and SCP families
land; GAP optima come from ``benchmarks/MANIFEST.tsv`` (family ``gap``), SCP optima are the
published ones (Beasley 1987).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import cutslack
from cutslack.binary import BinaryProgram

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks"
SCP_OPTIMA = dict(zip([f"scp4{i}" for i in range(1, 10)], [429, 512, 516, 494, 512, 560, 430, 492, 641]))


def read_gap(path):
    """Return the BinaryPrograms of an OR-Library gap file (``x[i*n + j]``: job j to agent i)."""
    tokens = iter(Path(path).read_text().split())
    take = lambda k: np.array([float(next(tokens)) for _ in range(k)])  # noqa: E731
    out = []
    for _ in range(int(take(1)[0])):
        m, n = (int(v) for v in take(2))
        profit, weight, cap = take(m * n).reshape(m, n), take(m * n).reshape(m, n), take(m)
        rows = np.repeat(np.arange(m), n)
        A_le = sp.csr_matrix((weight.reshape(-1), (rows, np.arange(m * n))), shape=(m, m * n))
        A_eq = sp.csr_matrix((np.ones(m * n), (np.tile(np.arange(n), m), np.arange(m * n))), shape=(n, m * n))
        out.append(BinaryProgram(c=profit.reshape(-1), sense="max", A_le=A_le, b_le=cap, A_eq=A_eq, b_eq=np.ones(n)))
    return out


def read_scp(path):
    """Return the BinaryProgram of an OR-Library scp file (``≥ 1`` rows stored negated)."""
    tokens = iter(Path(path).read_text().split())
    m, n = int(next(tokens)), int(next(tokens))
    cost = np.array([float(next(tokens)) for _ in range(n)])
    rows, cols = [], []
    for i in range(m):
        k = int(next(tokens))
        cols.extend(int(next(tokens)) - 1 for _ in range(k))
        rows.extend([i] * k)
    A = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, n))
    return BinaryProgram(c=cost, sense="min", A_le=-A, b_le=-np.ones(m))


def instances(family, scp_dir):
    if family == "gap":
        optima = {}
        for line in (SHARED / "MANIFEST.tsv").read_text().splitlines():
            f = line.split("\t")
            if f[0] == "gap":
                optima[f[1]] = float(f[4])
        for k in range(1, 7):
            for q, bp in enumerate(read_gap(SHARED / "gap" / f"gap{k}.txt"), 1):
                yield f"gap{k}#{q}", bp, optima[f"gap{k}#{q}"]
    else:
        for name, opt in SCP_OPTIMA.items():
            yield name, read_scp(Path(scp_dir) / f"{name}.txt"), float(opt)


def run(bp, method, reads, iters, seed):
    kw = dict(rng=seed, num_reads=reads, sampler="anneal")
    if method == "lagrangian":
        kw.update(maxiter=iters, patience=iters)
    else:
        kw.update(rounds=iters, max_no_improve=None, rule="qiskit")
    t = time.perf_counter()
    res = cutslack.solve(bp, method=method, **kw)
    return res, time.perf_counter() - t


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("family", choices=["gap", "scp"])
    ap.add_argument("--scp-dir", default="/tmp/scp")
    ap.add_argument("--reads", type=int, default=32)
    ap.add_argument("--iters", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", help="instance names to run")
    args = ap.parse_args(argv)
    gaps = {"lagrangian": [], "penalty": []}
    no_worse = 0
    print("instance   opt   | slack-free: best gap% raw_ff best_raw q time "
          "| slack bits: best gap% raw_ff best_raw q time")
    for name, bp, opt in instances(args.family, args.scp_dir):
        if args.only and name not in args.only:
            continue
        line = f"{name:9s} {opt:6.0f} |"
        for method in ("lagrangian", "penalty"):
            res, secs = run(bp, method, args.reads, args.iters, args.seed)
            gap = abs(res.objective - opt) / abs(opt) * 100 if res.feasible else np.inf
            gaps[method].append(gap)
            raw = res.info.get("best_raw_objective")
            line += (f" {res.objective if res.feasible else float('nan'):7.0f} {gap:5.2f} "
                     f"{res.info['raw_feasible_fraction']:.3f} {raw if raw is not None else float('nan'):7.0f} "
                     f"{res.n_qubits:5d} {secs:5.1f}s |")
        no_worse += gaps["lagrangian"][-1] <= gaps["penalty"][-1] + 1e-9
        print(line, flush=True)
    for method, g in gaps.items():
        g = np.array(g)
        print(f"{method:10s} mean gap {g.mean():.2f} %  worst {g.max():.2f} %  feasible {np.isfinite(g).mean():.0%}")
    print(f"slack-free no worse than slack bits on {no_worse}/{len(gaps['penalty'])} instances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
