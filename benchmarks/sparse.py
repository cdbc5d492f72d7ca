"""Sparse simulated annealing: ``cutslack.solve(method="anneal")`` (CSR kernel) against dwave-samplers' SimulatedAnnealingSampler.

Instances: MIS QUBOs ``E(x) = -sum_i x_i + 2 sum_(i,j) in edges x_i x_j`` (the slack-free
Lagrangian MIS QUBO at conflict multiplier 2, whose minima are the maximum independent
sets) on random 3-regular graphs and on unit-disk graphs (points uniform in the unit square,
radius set for mean degree 6), n = 10^4 and 10^5 (10^6 with ``--huge``).  The edge lists are
built with NumPy/SciPy (a configuration-model pairing with self-loops and repeated pairs
dropped, so a few vertices have degree 2; a KD-tree for the unit disks), because a networkx
graph of 10^6 nodes alone takes gigabytes.

Each (sampler, instance) runs in a fresh subprocess, one thread each (``NUMBA_NUM_THREADS=1``;
dwave-samplers is single-threaded), which loads the QUBO from a ``.npz`` file, builds its
own input (our :class:`~cutslack.binary.QUBO` in CSR; dwave's BQM from the COO arrays,
which it takes natively) and samples it with the same reads, sweeps, geometric schedule and
beta range (``default_beta_range``, dwave's own rule): ours through ``cutslack.solve``, the
path users call.  Printed: seconds per sweep per read (wall and process CPU time of the
solve/sample call, after a JIT warm-up for ours), mean and best energy, the difference of
the mean energies with its standard error, and the subprocess's peak resident memory
(``ru_maxrss``: everything,
Python and imports included; the idle interpreter with the same imports is printed too).
The machine is shared with other jobs: wall times are noisy, CPU times less so; the ratios
come from the same script.

``--threshold`` instead times the dense and the CSR anneal kernels of this package against
each other on random QUBOs of n = 2,000 at several densities (one thread, this process),
which is how :data:`cutslack.solvers.qubo.samplers.SPARSE_DENSITY` was set; it prints only.
``--lagrangian SECONDS`` runs ``cutslack.solve(random_regular_mis(n, 3), method="lagrangian")``
(CSR QUBOs throughout the Lagrangian loop and repair) at the last ``--sizes`` under that time
limit and prints its iterations, Result and peak memory; it prints only.

Usage::

    python benchmarks/sparse.py [--sizes 10000 100000] [--huge] [--reads 16] [--huge-reads 4] [--sweeps 200]
        [--seed 0]
    python benchmarks/sparse.py --threshold
    python benchmarks/sparse.py --sizes 100000 --lagrangian 180
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(args) -> None:
    """Sample one saved instance with one sampler and print a JSON line of what was measured."""
    data = np.load(args.worker_file)
    n = int(data["n"])
    row, col, val = data["row"], data["col"], data["val"]
    hot, cold = float(data["hot"]), float(data["cold"])
    if args.worker == "idle":
        import cutslack  # noqa: F401  (the imports of our sampling worker)
        from cutslack.binary import QUBO  # noqa: F401
        print(json.dumps({"rss_mib": peak_rss_mib()}))
        return
    if args.worker == "cutslack":
        import cutslack
        from cutslack.binary import QUBO

        cutslack.solve(QUBO(sp.eye(8, format="csr")), method="anneal", num_reads=1, num_sweeps=2, rng=0)  # JIT/cache
        qubo = QUBO(sp.csr_matrix((val, (row, col)), shape=(n, n)))
        del row, col, val, data
        t0, c0 = time.perf_counter(), time.process_time()
        res = cutslack.solve(qubo, method="anneal", num_reads=args.reads, num_sweeps=args.sweeps,
                             beta_range=(hot, cold), rng=args.seed)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        energies = np.asarray(res.samples.energies)
        layout = res.samples.info["layout"]
    else:
        import dimod
        from dwave.samplers import SimulatedAnnealingSampler

        off = row != col
        linear = np.zeros(n)
        np.add.at(linear, row[~off], val[~off])
        bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(linear, (row[off], col[off], val[off]), 0.0, dimod.BINARY)
        del row, col, val, data
        sampler = SimulatedAnnealingSampler()
        t0, c0 = time.perf_counter(), time.process_time()
        res = sampler.sample(bqm, num_reads=args.reads, num_sweeps=args.sweeps, beta_range=(hot, cold),
                             beta_schedule_type="geometric", seed=args.seed)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        energies = np.asarray(res.record.energy, dtype=float)
        layout = "adjacency"
    per = args.reads * args.sweeps
    print(json.dumps({"wall_per_sweep": wall / per, "cpu_per_sweep": cpu / per, "mean": float(energies.mean()),
                      "var_of_mean": float(energies.var(ddof=1) / energies.size) if energies.size > 1 else 0.0,
                      "best": float(energies.min()), "rss_mib": peak_rss_mib(), "layout": layout}))


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
    print(f"status {res.status.name}, feasible {res.feasible}, |set| {res.objective} (independence ratio "
          f"{res.objective / n:.3f}), bound {res.bound}, iterations {res.nit}, variables {res.n_vars}, wall {wall:.1f} s, "
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


def run_worker(kind: str, path: str, args, reads: int) -> dict:
    """Run :func:`worker` with ``reads`` reads in a fresh single-threaded subprocess and return its measurements."""
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    cmd = [sys.executable, __file__, "--worker", kind, "--worker-file", path, "--reads", str(reads),
           "--sweeps", str(args.sweeps), "--seed", str(args.seed)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def versions() -> str:
    import numba

    import cutslack

    try:
        from importlib.metadata import version

        dw = version("dwave-samplers")
    except Exception:  # pragma: no cover - peer missing
        dw = "missing"
    return (f"cutslack {cutslack.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
            f"dwave-samplers {dw}, Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--huge", action="store_true", help="also n = 1,000,000")
    parser.add_argument("--reads", type=int, default=16)
    parser.add_argument("--huge-reads", type=int, default=4, help="reads at n = 1,000,000 (dwave: ~1 s per sweep)")
    parser.add_argument("--sweeps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print only, do not write the results file")
    parser.add_argument("--threshold", action="store_true", help="time dense vs CSR kernels by density, print only")
    parser.add_argument("--lagrangian", type=float, metavar="SECONDS",
                        help="run solve(random_regular_mis(n, 3), method='lagrangian') at the last --sizes under this "
                             "time limit, print only")
    parser.add_argument("--worker", choices=["cutslack", "dwave", "idle"], help=argparse.SUPPRESS)
    parser.add_argument("--worker-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return
    if args.lagrangian:
        lagrangian_demo(args)
        return
    if args.threshold:
        threshold(args)
        return
    from cutslack.binary import QUBO
    from cutslack.solvers.qubo.samplers import default_beta_range

    sizes = list(args.sizes) + ([1_000_000] if args.huge and 1_000_000 not in args.sizes else [])
    header = (f"| instance | n | couplings | reads | sampler | s/sweep wall | s/sweep CPU | CPU ratio | mean energy | "
              f"ours - dwave (± SE) | best energy | peak RSS MiB |")
    lines = [header, "|" + "---|" * 12]
    print(header, flush=True)
    idle = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            for family in ("3-regular", "unit-disk"):
                rng = np.random.default_rng(args.seed)
                edges = regular_edges(n, 3, rng) if family == "3-regular" else unit_disk_edges(n, 6.0, rng)
                row, col, val = mis_qubo_arrays(n, edges)
                hot, cold = default_beta_range(QUBO(sp.csr_matrix((val, (row, col)), shape=(n, n))))
                path = str(Path(tmp) / f"{family}-{n}.npz")
                np.savez(path, n=n, row=row, col=col, val=val, hot=hot, cold=cold)
                reads = args.huge_reads if n >= 1_000_000 else args.reads
                if idle is None:
                    idle = run_worker("idle", path, args, reads)["rss_mib"]
                ours = run_worker("cutslack", path, args, reads)
                theirs = run_worker("dwave", path, args, reads)
                diff = ours["mean"] - theirs["mean"]
                se = float(np.sqrt(ours["var_of_mean"] + theirs["var_of_mean"]))
                verdict = "equal" if abs(diff) <= 2 * se else ("lower" if diff < 0 else "HIGHER")
                for name, r in (("cutslack " + ours["layout"], ours), ("dwave-samplers", theirs)):
                    ratio = theirs["cpu_per_sweep"] / r["cpu_per_sweep"]
                    energy = f"{diff:+.2f} ± {se:.2f} ({verdict})" if r is ours else "-"
                    line = (f"| {family} | {n} | {len(edges)} | {reads} | {name} | {r['wall_per_sweep']:.3e} | "
                            f"{r['cpu_per_sweep']:.3e} | {ratio:.2f} | {r['mean']:.2f} | {energy} | {r['best']:.0f} | "
                            f"{r['rss_mib']:.0f} |")
                    lines.append(line)
                    print(line, flush=True)
    command = "python benchmarks/sparse.py " + " ".join(argv if argv is not None else sys.argv[1:])
    notes = [
        "# Sparse simulated annealing: cutslack.solve(method=\"anneal\") (CSR kernel) vs dwave-samplers",
        "",
        f"Command: `{command.strip()}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  ",
        f"Versions: {versions()}  ",
        f"Threads: 1 each (NUMBA_NUM_THREADS=1 for cutslack; dwave-samplers is single-threaded); every run in "
        f"its own subprocess.  ",
        f"Work: {args.reads} reads ({args.huge_reads} at n = 10^6) x {args.sweeps} sweeps, geometric schedule "
        f"over the same beta range "
        f"(default_beta_range = dwave's rule), seed {args.seed}.",
        "",
        "Ours is timed through `cutslack.solve(qubo, method=\"anneal\", ...)` (the user's path: couplings, "
        "start states, kernel, exact energies, re-scored Result), dwave's through `SimulatedAnnealingSampler().sample` "
        "on a BQM built beforehand.  "
        "s/sweep = seconds per sweep of one read (the solve/sample call, after JIT warm-up); CPU ratio = "
        "dwave-samplers' CPU time per sweep / this row's (above 1: faster than dwave).  Peak RSS is the "
        f"whole subprocess; the interpreter with the same imports and nothing sampled peaks at {idle:.0f} MiB.  "
        "The machine is shared with other sessions (2 cores): wall times are noisy, CPU times less so.  "
        "ours - dwave: difference of the mean energies and its standard error from the read-to-read variances "
        "(equal: within 2 SE).",
        "",
        *lines,
        "",
    ]
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join(notes))
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
