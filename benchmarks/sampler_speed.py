"""Simulated annealing speed: cutslack's raw anneal kernel and ``cutslack.solve(method="anneal")``
against dwave-samplers' SimulatedAnnealingSampler, with the threads of each side stated.

Instances: dense random QUBOs (``U_ij ~ N(0, 1)`` for ``i <= j``; cutslack's dense kernel)
and sparse MIS QUBOs on random 3-regular graphs (``-sum x_i + 2 sum_edges x_i x_j``;
cutslack's CSR kernel, chosen by density).  Every run: the same reads, sweeps, geometric
schedule and beta range (``default_beta_range``, dwave's own rule) on both sides, over
``--seeds`` seeds.

Per instance and thread count ``T`` (``--threads``, default 1 and 2) three timings:

* **kernel** — the Numba kernel call alone (``kernels.anneal_reads``/``anneal_reads_csr``),
  its inputs prepared beforehand exactly as ``anneal_sampler`` prepares them (the kernel
  fills the initial fields itself in both paths), ``numba.set_num_threads(T)``;
* **solve** — ``cutslack.solve(qubo, method="anneal", ...)`` end to end (couplings, schedule,
  start states, fields, kernel, exact energies, re-scored Result), ``T`` Numba threads;
* **f64 fields** (dense rows) — ``solve`` and kernel with ``field_dtype=np.float64``: float64
  local fields, which the default replaces by float32 ones (refreshed exactly every 16 n
  flips) on real-valued QUBOs of 128 variables or more; the row shows what that choice buys;
* **dwave** — ``SimulatedAnnealingSampler().sample(bqm, ...)`` on a BQM built beforehand;
  it is single-threaded, so for ``T = 2`` the reads are split over two worker processes
  (started and warmed up beforehand) and the wall time of both is taken.

Printed: median wall seconds of each, ``solve / kernel`` (the cost of the user's path over
the raw kernel), ``dwave / solve`` (the speed-up a user sees), for ``T = 1`` also the ratio of
process CPU times (robust against other jobs on a shared machine), and the mean energy of
each side over all reads and seeds with a paired test of their difference (``diff`` within
two standard errors: ``equal``).  ``--tuned-hot F`` adds a row per dense instance where
cutslack starts ``F`` times colder (``beta_range=(F * beta_hot, beta_cold)``), to show what
the schedule buys; dwave keeps its default.  Writes ``benchmarks/results/sampler_speed.txt``.

Usage::

    python benchmarks/sampler_speed.py [--dense 1000] [--sparse 2000] [--reads 16] [--sweeps 1000]
        [--seeds 5] [--threads 1 2] [--tuned-hot 4] [--repeat 3]
    python benchmarks/sampler_speed.py --field-dtypes   # float64 vs float32 fields by size and layout
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "sampler_speed.txt"


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dense", type=int, nargs="*", default=[1000], help="sizes of dense random QUBOs")
    parser.add_argument("--sparse", type=int, nargs="*", default=[2000], help="sizes of sparse 3-regular MIS QUBOs")
    parser.add_argument("--reads", type=int, default=16)
    parser.add_argument("--sweeps", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tuned-hot", type=float, default=4.0, help="0 to skip the tuned-schedule row")
    parser.add_argument("--repeat", type=int, default=3,
                        help="every timing (kernel, solve, dwave) taken this many times per seed, the fastest kept")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--field-dtypes", action="store_true",
                        help="instead: time solve(method='anneal') with float64 and float32 fields by size and layout "
                             "(how FLOAT32_FIELD_MIN_VARIABLES was set); print only")
    return parser.parse_args(argv)


def field_dtypes(args) -> None:
    """Print solve's wall time with float64 and with float32 local fields, one thread, fastest of 3 interleaved
    rounds: dense N(0, 1) QUBOs of 16 to 2,000 variables (16 reads, sweeps scaled to about 200,000 spin flips per
    read), and real-valued CSR QUBOs of mean degree 6 (8 reads, about 4e6 flips per read), n = 2,000 to 200,000."""
    import numba
    import scipy.sparse as sp

    import cutslack
    from cutslack.binary import QUBO

    numba.set_num_threads(1)

    def csr_qubo(n, seed):
        rng = np.random.default_rng(seed)
        i, j = rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n)
        keep = i < j
        U = sp.coo_matrix((rng.normal(size=keep.sum()), (i[keep], j[keep])), shape=(n, n)) + sp.diags(rng.normal(size=n))
        return QUBO(U.tocsr())

    cases = [("dense", n, dense_qubo(n, 0), 16, max(100, 200_000 // n)) for n in (16, 32, 64, 128, 256, 512, 1000, 2000)]
    cases += [("csr", n, csr_qubo(n, 0), 8, max(20, 4_000_000 // n)) for n in (2000, 20_000, 200_000)]
    print("threads: 1 Numba thread, BLAS 1; time of cutslack.solve(method='anneal', field_dtype=...), fastest of 3")
    print(f"{'layout':<6} {'n':>7} {'reads':>5} {'sweeps':>6} {'float64 s':>10} {'float32 s':>10} {'f64/f32':>8}")
    for layout, n, q, reads, sweeps in cases:
        times = {np.float64: [], np.float32: []}
        cutslack.solve(q, method="anneal", num_reads=2, num_sweeps=2, rng=0, field_dtype=np.float32)
        for _ in range(3):
            for fd in times:
                t0 = time.perf_counter()
                cutslack.solve(q, method="anneal", num_reads=reads, num_sweeps=sweeps, rng=0, field_dtype=fd)
                times[fd].append(time.perf_counter() - t0)
        a, b = min(times[np.float64]), min(times[np.float32])
        print(f"{layout:<6} {n:>7} {reads:>5} {sweeps:>6} {a:>10.3f} {b:>10.3f} {a / b:>8.2f}", flush=True)


def dense_qubo(n: int, seed: int):
    from cutslack.binary import QUBO

    return QUBO(np.triu(np.random.default_rng(seed).normal(size=(n, n))))


def sparse_qubo(n: int, seed: int):
    import scipy.sparse as sp

    from benchmarks.sparse import mis_qubo_arrays, regular_edges
    from cutslack.binary import QUBO

    row, col, val = mis_qubo_arrays(n, regular_edges(n, 3, np.random.default_rng(seed)))
    return QUBO(sp.csr_matrix((val, (row, col)), shape=(n, n)))


def to_bqm(qubo):
    """The QUBO as a dimod BQM built from COO arrays (dwave-samplers takes it natively)."""
    import dimod
    import scipy.sparse as sp

    U = sp.coo_matrix(qubo.U)
    off = U.row != U.col
    linear = np.zeros(qubo.n)
    np.add.at(linear, U.row[~off], U.data[~off])
    return dimod.BinaryQuadraticModel.from_numpy_vectors(linear, (U.row[off], U.col[off], U.data[off]),
                                                         qubo.offset, dimod.BINARY)


def dwave_run(bqm, reads: int, sweeps: int, beta_range, seed: int):
    """Sample in this process; return ``(energies, cpu seconds)``."""
    from dwave.samplers import SimulatedAnnealingSampler

    c0 = time.process_time()
    res = SimulatedAnnealingSampler().sample(bqm, num_reads=reads, num_sweeps=sweeps, beta_range=beta_range,
                                             beta_schedule_type="geometric", seed=seed)
    return np.asarray(res.record.energy, dtype=float), time.process_time() - c0


def kernel_seconds(qubo, reads: int, sweeps: int, seed: int, field_dtype=None) -> tuple[float, float]:
    """Wall and process CPU seconds of the anneal kernel call alone, its inputs prepared as ``anneal_sampler``
    prepares them (float32 couplings and fields, the same refresh rule, fields filled in the kernel)."""
    from cutslack.solvers.qubo.samplers import _couplings, _seeds, _start_states, default_beta_range

    rng = np.random.default_rng(seed)
    hot, cold = default_beta_range(qubo)
    betas = np.geomspace(hot, cold, sweeps)
    C = _couplings(qubo, np.float32)
    X = _start_states(rng, None, reads, qubo.n)
    states = _seeds(rng, reads)
    F = np.empty(X.shape, dtype=C.field_dtype() if field_dtype is None else field_dtype)
    flips_since = np.zeros(reads, dtype=np.int64)
    refresh = C.refresh_flips() if F.dtype == np.float32 else 0
    kernel = C.kernel("anneal_reads")
    t0, c0 = time.perf_counter(), time.process_time()
    kernel(*C.args, X, F, betas, states, C.h, flips_since, refresh, init_fields=True)
    return time.perf_counter() - t0, time.process_time() - c0


def paired_difference(ours: list, theirs: list) -> tuple[float, float]:
    """Return the mean over seeds of (our mean energy - dwave's) and its standard error.

    Paired by instance (each seed is its own QUBO, whose optimum moves the energies far more
    than the sampler does); the standard error comes from the read-to-read variances,
    ``sqrt(sum_s (var_ours_s / R + var_dwave_s / R)) / S``.  The two samplers' mean energies are
    called equal when the difference is within two standard errors.
    """
    diffs = [a.mean() - b.mean() for a, b in zip(ours, theirs)]
    var = sum(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size for a, b in zip(ours, theirs))
    return float(np.mean(diffs)), float(np.sqrt(var) / len(diffs))


def versions() -> str:
    from importlib.metadata import version

    import numba

    import cutslack

    return (f"cutslack {cutslack.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
            f"dwave-samplers {version('dwave-samplers')}, Python {platform.python_version()}, "
            f"{platform.machine()}, {os.cpu_count()} cores")


def main(argv=None) -> None:
    args = parse(argv)
    os.environ.setdefault("NUMBA_NUM_THREADS", str(max(args.threads)))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if args.field_dtypes:
        field_dtypes(args)
        return
    import numba

    import cutslack
    from cutslack.solvers.qubo.samplers import default_beta_range

    if numba.config.NUMBA_NUM_THREADS < max(args.threads):
        raise SystemExit(f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS} < {max(args.threads)} threads asked")
    instances = [("dense", n, dense_qubo) for n in args.dense] + [("sparse 3-reg MIS", n, sparse_qubo)
                                                                  for n in args.sparse]
    warm = dense_qubo(8, 0)

    def warm_up():  # JIT compilation (or cache load) and the thread pool, outside every timing
        for layout in ("dense", "sparse"):
            cutslack.solve(warm, method="anneal", num_reads=4, num_sweeps=2, rng=0, layout=layout)
            cutslack.solve(warm, method="anneal", num_reads=4, num_sweeps=2, rng=0, layout=layout,
                           field_dtype=np.float64)
            kernel_seconds(warm if layout == "dense" else sparse_qubo(64, 0), 4, 2, 0)

    pool = ProcessPoolExecutor(2) if max(args.threads) > 1 else None
    if pool is not None:
        list(pool.map(dwave_run, [to_bqm(warm)] * 2, [1, 1], [2, 2], [(0.1, 1.0)] * 2, [0, 1]))
    header = (f"{'instance':<18} {'n':>6} {'thr':>3} {'variant':<14} {'kernel s':>9} {'solve s':>8} {'solve/kern':>10} {'(CPU)':>9} "
              f"{'dwave s':>8} {'dwave/solve':>11} {'CPU ratio':>9} {'ours mean E':>12} {'dwave mean E':>12} "
              f"{'diff':>7} {'SE':>6} {'energy':>7}")
    lines = [header, "-" * len(header)]
    print(header, flush=True)
    for label, n, make in instances:
        qubos = [make(n, seed) for seed in range(args.seeds)]
        bqms = [to_bqm(q) for q in qubos]
        ranges = [default_beta_range(q) for q in qubos]
        for T in args.threads:
            numba.set_num_threads(T)
            warm_up()
            variants = [("default", 1.0)]
            if label == "dense":
                variants.append(("f64 fields", "f64"))
            if args.tuned_hot and label == "dense" and T == min(args.threads):
                variants.append((f"beta_hot x{args.tuned_hot:g}", args.tuned_hot))

            def dwave_timed(bqm, br, seed):
                t0 = time.perf_counter()
                if T == 1:
                    E, cpu = dwave_run(bqm, args.reads, args.sweeps, br, seed)
                else:
                    half = [args.reads // 2, args.reads - args.reads // 2]
                    parts = list(pool.map(dwave_run, [bqm] * 2, half, [args.sweeps] * 2, [br] * 2,
                                          [seed, seed + 10_000]))
                    E, cpu = np.concatenate([p[0] for p in parts]), sum(p[1] for p in parts)
                return E, time.perf_counter() - t0, cpu

            def ours_timed(q, br, seed, factor):
                fields = np.float64 if factor == "f64" else None
                factor = 1.0 if factor == "f64" else factor
                kw, kc = kernel_seconds(q, args.reads, args.sweeps, seed, fields) if factor == 1.0 else (np.nan, np.nan)
                t0, c0 = time.perf_counter(), time.process_time()
                res = cutslack.solve(q, method="anneal", num_reads=args.reads, num_sweeps=args.sweeps, rng=seed,
                                     beta_range=(br[0] * factor, br[1]), field_dtype=fields)
                return np.asarray(res.samples.energies), (kw, kc, time.perf_counter() - t0, time.process_time() - c0)

            # per seed, --repeat rounds of (dwave, then each of our variants: kernel, solve), interleaved so
            # that a busy spell on the shared machine hits both sides; the fastest of each timing is kept
            # (the same seed gives the same samples every round)
            dwave_wall, dwave_cpu, dwave_E = [], [], []  # dwave_E: every read's energy, per seed
            ours = {variant: ([], []) for variant, _ in variants}  # variant -> (energies, timings) per seed
            for seed, (q, bqm, br) in enumerate(zip(qubos, bqms, ranges)):
                rounds = {variant: [] for variant, _ in variants}
                energies = {}
                walls, cpus = [], []
                for _ in range(args.repeat):
                    E, wall, cpu = dwave_timed(bqm, br, seed)
                    walls.append(wall)
                    cpus.append(cpu)
                    for variant, factor in variants:
                        energies[variant], timing = ours_timed(q, br, seed, factor)
                        rounds[variant].append(timing)
                dwave_wall.append(min(walls))
                dwave_cpu.append(min(cpus))
                dwave_E.append(E)
                for variant, _ in variants:
                    ours[variant][0].append(energies[variant])
                    ours[variant][1].append(tuple(min(column) for column in zip(*rounds[variant])))
            for variant, factor in variants:
                ours_E, timings = ours[variant]
                kern, kern_cpu, solve_wall, solve_cpu = (list(column) for column in zip(*timings))
                k, s, d = statistics.median(kern), statistics.median(solve_wall), statistics.median(dwave_wall)
                overhead_cpu = sum(solve_cpu) / sum(kern_cpu)
                cpu_ratio = f"{sum(dwave_cpu) / sum(solve_cpu):9.2f}" if T == 1 else f"{'-':>9}"
                diff, se = paired_difference(ours_E, dwave_E)
                verdict = "equal" if abs(diff) <= 2 * se else ("lower" if diff < 0 else "HIGHER")
                line = (f"{label:<18} {n:>6} {T:>3} {variant:<14} {k:>9.3f} {s:>8.3f} {s / k:>10.3f} "
                        f"{overhead_cpu:>9.3f} {d:>8.3f} "
                        f"{d / s:>11.2f} {cpu_ratio} {np.mean(np.concatenate(ours_E)):>12.2f} "
                        f"{np.mean(np.concatenate(dwave_E)):>12.2f} {diff:>+7.2f} {se:>6.2f} {verdict:>7}")
                lines.append(line)
                print(line, flush=True)
    if pool is not None:
        pool.shutdown()
    command = "python benchmarks/sampler_speed.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n".join([
        f"# {command.strip()}",
        f"# date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {versions()}",
        f"# threads: thr = Numba threads of cutslack (kernel and solve); dwave-samplers is single-threaded: at thr=1 it",
        "#   runs in this process, at thr=2 its reads are split over 2 worker processes.  BLAS/OpenMP threads: 1.",
        f"# work per run: {args.reads} reads x {args.sweeps} sweeps, same geometric schedule and beta range on both "
        f"sides (dwave's rule); {args.seeds} seeds; times are medians over the seeds of wall seconds, each the fastest "
        f"of {args.repeat} interleaved rounds (dwave, our kernel, our solve) per seed; the same samples every round.",
        "# solve/kern: cutslack.solve(method='anneal') over the raw kernel call, median wall seconds and (CPU) process",
        "#   CPU seconds summed over seeds (all threads).  dwave/solve: speed-up over dwave (wall, medians).",
        "# CPU ratio (thr=1 only): dwave's process CPU seconds / solve's, summed over seeds (less sensitive to other jobs).",
        "# 'beta_hot xF': cutslack starts F times colder than dwave's rule (dwave keeps its default).",
        "# diff, SE: mean over seeds of (ours - dwave) mean energy, paired by instance, and its standard error from the",
        "#   read-to-read variances; energy 'equal' when |diff| <= 2 SE ('lower'/'HIGHER': ours below/above by more).",
        "# cutslack's anneal keeps float32 couplings; by default its fields are float32 too (exact sums for integer",
        "#   QUBOs; for real-valued ones of >= 128 variables refreshed exactly every 16 n flips) and float64 in the",
        "#   'f64 fields' rows (field_dtype=np.float64, the default before); energies float64 in both.",
        "#   both sides use the Metropolis rule with one uniform per uphill proposal, sequential sweeps, random starts.",
        "# The machine is shared by several sessions (2 cores): wall times are noisy; ratios come from this one script.",
        *lines,
        "",
    ])
    if not args.no_write:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
