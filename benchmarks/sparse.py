"""Sparse simulated annealing: ``cutslack.solve(method="anneal")`` (CSR kernel) against dwave-samplers'
SimulatedAnnealingSampler, both on one thread, timed by ``benchmarks/timing.py``.

Instances: MIS QUBOs ``E(x) = -sum_i x_i + 2 sum_(i,j) in edges x_i x_j`` (the slack-free
Lagrangian MIS QUBO at conflict multiplier 2, whose minima are the maximum independent
sets) on random 3-regular graphs and on unit-disk graphs (points uniform in the unit square,
radius set for mean degree 6), n = 10^4 and 10^5 (10^6 with ``--huge``).  The edge lists are
built with NumPy/SciPy (a configuration-model pairing with self-loops and repeated pairs
dropped, so a few vertices have degree 2; a KD-tree for the unit disks), because a networkx
graph of 10^6 nodes alone takes gigabytes.

Both sides run in this process on one thread (``pin_threads(1)`` before NumPy, Numba or dwave
load; dwave-samplers is single-threaded) with the same reads, sweeps, geometric schedule and
beta range (``default_beta_range``, dwave's own rule).  Sides, as in ``sampler_speed.py``
(:func:`sampler_speed.anneal_comparison`): **dwave sample** (on a BQM built beforehand from the
COO arrays), **cutslack solve** (``cutslack.solve``, the call users make: CSR couplings, variable
start states, kernel, exact energies, re-scored Result) and **cutslack kernel** (the
kernel call alone).  :func:`timing.compare`: the cold first call apart, ``--rounds`` (>= 5)
interleaved rounds with the order alternating, round ``r`` on seed ``r`` for every side; the
ratio is the median of the per-round ratios with its spread, by wall and CPU time, with the load
before and after.  The energy check pools the rounds' seeds (``--rounds`` x ``--reads`` reads):
the mean energies' paired difference and its standard error (``equal`` within 2 SE).  Writes
``benchmarks/results/sparse.md`` with the provenance header.

``--threshold`` instead times the dense and the CSR anneal kernels of this package against
each other on random QUBOs of n = 2,000 at several densities (one thread, this process),
which is how :data:`cutslack.solvers.qubo.samplers.SPARSE_DENSITY` was set; it prints only.
``--lagrangian SECONDS`` runs ``cutslack.solve(random_regular_mis(n, 3), method="lagrangian")``
(CSR QUBOs throughout the Lagrangian loop and repair) at the last ``--sizes`` under that time
limit and prints its iterations, Result and peak memory; it prints only.

Usage::

    python benchmarks/sparse.py [--sizes 10000 100000] [--huge] [--reads 16] [--huge-reads 4] [--sweeps 200]
        [--rounds 5]
    python benchmarks/sparse.py --threshold
    python benchmarks/sparse.py --sizes 100000 --lagrangian 180
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # one thread for both sides, set before NumPy, Numba or dwave-samplers load
    sys.path.insert(0, str(HERE))
    from timing import pin_threads

    pin_threads(1)

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

ROOT = HERE.parent
for _path in (str(ROOT), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

RESULTS = ROOT / "benchmarks" / "results" / "sparse.md"


def regular_edges(n: int, degree: int, rng: np.random.Generator) -> np.ndarray:
    """Return the edges ``(m, 2)`` of a configuration-model ``degree``-regular multigraph, loops and repeats dropped."""
    stubs = rng.permutation(np.repeat(np.arange(n, dtype=np.int64), degree))
    e = np.sort(stubs.reshape(-1, 2), axis=1)
    e = e[e[:, 0] != e[:, 1]]
    return np.unique(e, axis=0)


def unit_disk_edges(n: int, mean_degree: float, rng: np.random.Generator) -> np.ndarray:
    """Return the edges of a unit-disk graph on ``n`` uniform points, radius set for ``mean_degree``."""
    from scipy.spatial import cKDTree

    radius = float(np.sqrt(mean_degree / (np.pi * n)))
    points = rng.random((n, 2))
    return cKDTree(points).query_pairs(radius, output_type="ndarray").astype(np.int64)


def mis_qubo_arrays(n: int, edges: np.ndarray):
    """Return the upper-triangular COO arrays ``(row, col, value)`` of the MIS QUBO."""
    diag = np.arange(n, dtype=np.int64)
    row = np.concatenate([diag, edges[:, 0]])
    col = np.concatenate([diag, edges[:, 1]])
    val = np.concatenate([-np.ones(n), 2.0 * np.ones(len(edges))])
    return row, col, val


def lagrangian_demo(args) -> None:
    """Run the issue's example end to end: ``cutslack.solve(random_regular_mis(n, 3), method="lagrangian")``
    under ``--lagrangian`` seconds; print each iteration's time and best set, the Result and the peak memory."""
    from cutslack.problems import random_regular_mis

    import cutslack

    n = args.sizes[-1]
    t0 = time.perf_counter()
    problem = random_regular_mis(n, 3, rng=args.seed)
    built = time.perf_counter() - t0
    seen = []
    t1 = time.perf_counter()
    res = cutslack.solve(problem, method="lagrangian", rng=args.seed, time_limit=args.lagrangian,
                         callback=lambda r: seen.append((time.perf_counter() - t1, r.objective)))
    wall = time.perf_counter() - t1
    print(f"random_regular_mis({n}, 3): built in {built:.1f} s; method='lagrangian', time_limit={args.lagrangian:g} s, "
          f"{os.environ.get('NUMBA_NUM_THREADS', 'all')} Numba threads")
    for k, (t, best) in enumerate(seen, 1):
        print(f"  report {k}: {t:7.1f} s  best independent set {best}")
    ratio = f"{res.objective / n:.3f}" if res.objective is not None else "-"
    print(f"status {res.status.name}, feasible {res.feasible}, |set| {res.objective} (independence ratio "
          f"{ratio}), bound {res.bound}, iterations {res.nit}, variables {res.n_vars}, wall {wall:.1f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def threshold(args) -> None:
    """Print the CPU time of the dense and CSR anneal at n = 2,000 for a range of densities."""
    import numba

    from cutslack.binary import QUBO
    from cutslack.solvers.qubo import anneal_sampler

    numba.set_num_threads(1)
    n = 2000
    for layout in ("dense", "sparse"):
        anneal_sampler(QUBO(np.triu(np.ones((8, 8)))), num_reads=1, num_sweeps=2, rng=0, layout=layout)
    print(f"{'density':>8} {'dense s':>9} {'CSR s':>9} {'dense/CSR':>9}")
    for density in (0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5):
        rng = np.random.default_rng(args.seed)
        Q = np.triu(rng.normal(size=(n, n)) * (rng.random((n, n)) < density))
        qubo = QUBO(Q)
        times = {}
        for layout in ("dense", "sparse"):
            c0 = time.process_time()
            anneal_sampler(qubo, num_reads=args.reads, num_sweeps=args.sweeps, rng=args.seed, layout=layout)
            times[layout] = time.process_time() - c0
        print(f"{density:>8.2f} {times['dense']:>9.3f} {times['sparse']:>9.3f} "
              f"{times['dense'] / times['sparse']:>9.2f}", flush=True)


def mis_qubo_and_bqm(n: int, edges: np.ndarray):
    """Return the MIS QUBO (CSR) and the same model as a dimod BQM built from the COO arrays."""
    import dimod

    from cutslack.binary import QUBO

    row, col, val = mis_qubo_arrays(n, edges)
    qubo = QUBO(sp.csr_matrix((val, (row, col)), shape=(n, n)))
    off = row != col
    linear = np.zeros(n)
    np.add.at(linear, row[~off], val[~off])
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(linear, (row[off], col[off], val[off]), 0.0, dimod.BINARY)
    return qubo, bqm


def compare_rows(family: str, n: int, edges: int, reads: int, cmp, energies) -> list[str]:
    """Return the markdown rows of one instance: one per side, then the labelled ratios and energy checks."""
    from sampler_speed import paired_difference

    rows = []
    for name, side in cmp.sides.items():
        lo, hi = side.spread("wall")
        if name == "dwave sample":
            ratio, energy = "1 (peer)", "-"
        else:
            w, c = cmp.ratio("dwave sample", name, "wall"), cmp.ratio("dwave sample", name, "cpu")
            ratio = f"{w[0]:.2f} [{w[1]:.2f}-{w[2]:.2f}] / {c[0]:.2f} [{c[1]:.2f}-{c[2]:.2f}]"
            diff, se = paired_difference(energies[name], energies["dwave sample"])
            verdict = "equal" if abs(diff) <= 2 * se else ("lower" if diff < 0 else "HIGHER")
            energy = f"{diff:+.2f} ± {se:.2f} ({verdict})"
        mean = float(np.mean([e.mean() for e in energies[name]]))
        rows.append(f"| {family} | {n} | {edges} | {reads} | {name} | {side.cold_wall:.3g} | "
                    f"{side.median('wall'):.3g} [{lo:.3g}-{hi:.3g}] | {side.median('cpu'):.3g} | {ratio} | "
                    f"{mean:.2f} | {energy} | {cmp.load_start:.1f} -> {cmp.load_end:.1f} |")
    return rows


def main(argv=None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--huge", action="store_true", help="also n = 1,000,000")
    parser.add_argument("--families", nargs="+", default=["3-regular", "unit-disk"], choices=["3-regular", "unit-disk"])
    parser.add_argument("--reads", type=int, default=16)
    parser.add_argument("--huge-reads", type=int, default=4, help="reads at n = 1,000,000 (dwave: ~1 s per sweep)")
    parser.add_argument("--sweeps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (>= 5), round r on seed r")
    parser.add_argument("--seed", type=int, default=0, help="seed of the instances (and of --lagrangian)")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write the results file")
    parser.add_argument("--threshold", action="store_true", help="time dense vs CSR kernels by density, print only")
    parser.add_argument("--lagrangian", type=float, metavar="SECONDS",
                        help="run solve(random_regular_mis(n, 3), method='lagrangian') at the last --sizes under this "
                             "time limit, print only")
    args = parser.parse_args(argv)
    if args.lagrangian:
        lagrangian_demo(args)
        return []
    from timing import thread_report

    import numba

    # run as a script the thread variables were pinned before any import; imported (tests), only Numba's
    # pool is limited here and restored after (changing the variables once Numba's threads run is refused)
    saved_threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        if args.threshold:
            threshold(args)
            return []
        return run(args, argv, thread_report())
    finally:
        numba.set_num_threads(saved_threads)


def run(args, argv, threads: str) -> list[str]:
    """Compare both samplers on every instance, print the rows and write the results file (unless ``--no-write``)."""
    import provenance  # noqa: F401  (imported now, it records the load and git revision at the start)

    from sampler_speed import anneal_comparison

    sizes = list(args.sizes) + ([1_000_000] if args.huge and 1_000_000 not in args.sizes else [])
    header = ("| instance | n | couplings | reads | side | cold s | wall s median [min-max] | CPU s median | "
              "dwave / side: wall [rounds] / CPU [rounds] | mean energy | side - dwave (± SE) | load |")
    lines = [header, "|" + "---|" * 12]
    print(header, flush=True)
    for n in sizes:
        for family in args.families:
            rng = np.random.default_rng(args.seed)
            edges = regular_edges(n, 3, rng) if family == "3-regular" else unit_disk_edges(n, 6.0, rng)
            qubo, bqm = mis_qubo_and_bqm(n, edges)
            reads = args.huge_reads if n >= 1_000_000 else args.reads
            cmp, energies = anneal_comparison(qubo, bqm, reads, args.sweeps, args.rounds)
            for line in compare_rows(family, n, len(edges), reads, cmp, energies):
                lines.append(line)
                print(line, flush=True)
    notes = [
        "# Sparse simulated annealing: cutslack.solve(method=\"anneal\") (CSR kernel) vs dwave-samplers", "",
        results_header_text(args, argv, threads), "",
        "Sides, in one process on one thread each: `dwave sample` = `SimulatedAnnealingSampler().sample` on a BQM "
        "built beforehand; `cutslack solve` = `cutslack.solve(qubo, method=\"anneal\", ...)`, the call users make "
        "(CSR couplings, start states, kernel, exact energies, re-scored Result); `cutslack kernel` = "
        "the Numba kernel call alone, inputs prepared as the sampler prepares them.  Timing (benchmarks/timing.py): "
        "cold = first call, apart; then interleaved rounds with the order alternating, round r on seed r for every "
        "side; medians over rounds, `dwave / side` = median [min-max] of the per-round ratios by wall and by process "
        "CPU time (above 1: faster than dwave).  `side - dwave`: paired difference of the mean energies over the "
        "rounds' seeds and its standard error (equal: within 2 SE).  Load = 1-minute load average before -> after.",
        "", *lines, ""]
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(notes))
        print(f"wrote {RESULTS}")
    return lines


def results_header_text(args, argv, threads: str) -> str:
    """Return the provenance header plus this run's threads and work."""
    from provenance import results_header

    return results_header(__file__, argv, extra=(
        f"threads measured: {threads}, both sides on 1 thread (dwave-samplers is single-threaded); work per call: "
        f"{args.reads} reads ({args.huge_reads} at n = 10^6) x {args.sweeps} sweeps, geometric schedule over the same "
        f"beta range (default_beta_range = dwave's rule); {args.rounds} rounds = {args.rounds} seeds; instance seed "
        f"{args.seed}"))


if __name__ == "__main__":
    main()
