"""Simulated annealing speed: ``cutslack.solve(method="anneal")`` and its raw Numba kernel against
dwave-samplers' SimulatedAnnealingSampler, both on one thread, timed by ``benchmarks/timing.py``.

Instances: dense random QUBOs (``U_ij ~ N(0, 1)`` for ``i <= j``; cutslack's dense kernel) and
sparse MIS QUBOs on random 3-regular graphs (``-sum x_i + 2 sum_edges x_i x_j``; its CSR kernel,
chosen by density).  Both sides get the same reads, sweeps, geometric schedule and beta range
(``default_beta_range``, dwave's own rule).

Sides, all in this process on one thread (``pin_threads(1)`` before NumPy, Numba or dwave load;
dwave-samplers is single-threaded):

* **dwave sample** — ``SimulatedAnnealingSampler().sample(bqm, ...)`` on a BQM built beforehand;
* **cutslack solve** — ``cutslack.solve(qubo, method="anneal", ...)``, the call users make, end to
  end (couplings, schedule, start states, kernel, exact energies, re-scored Result);
* **cutslack kernel** — the kernel call alone (``kernels.anneal_reads``/``anneal_reads_csr``), its
  inputs prepared beforehand as ``anneal_sampler`` prepares them (:func:`kernel_call`);
* **solve f64 fields** (dense instances) — ``solve`` with ``field_dtype=np.float64``, what the
  default float32 fields buy.

:func:`timing.compare` times them: the cold first call apart, then ``--rounds`` (>= 5) interleaved
rounds with the order alternating; round ``r`` runs every side with seed ``r`` (so the energy check
pools ``--rounds`` seeds of ``--reads`` reads each).  Printed per instance: each side's cold call
and median [min-max] wall and CPU seconds, the median of the per-round ratios ``dwave / solve``,
``dwave / kernel`` and ``solve / kernel`` with their spread (wall and CPU), the load before and
after, and the mean energies with a paired test of their difference (``equal`` within two
standard errors).  Writes ``benchmarks/results/sampler_speed.txt`` with the provenance header.

Usage::

    python benchmarks/sampler_speed.py [--dense 1000] [--sparse 2000] [--reads 16] [--sweeps 1000] [--rounds 5]
    python benchmarks/sampler_speed.py --field-dtypes   # float64 vs float32 fields by size and layout
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # one thread for both sides, set before NumPy, Numba or dwave-samplers load
    sys.path.insert(0, str(HERE))
    from timing import pin_threads

    pin_threads(1)

import numpy as np  # noqa: E402

ROOT = HERE.parent
for _path in (str(ROOT), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
RESULTS = ROOT / "benchmarks" / "results" / "sampler_speed.txt"


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dense", type=int, nargs="*", default=[1000], help="sizes of dense random QUBOs")
    parser.add_argument("--sparse", type=int, nargs="*", default=[2000], help="sizes of sparse 3-regular MIS QUBOs")
    parser.add_argument("--reads", type=int, default=16)
    parser.add_argument("--sweeps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (>= 5), round r on seed r")
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

    from sparse import mis_qubo_arrays, regular_edges
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


def dwave_sample(bqm, reads: int, sweeps: int, beta_range, seed: int) -> np.ndarray:
    """Return the energies of dwave-samplers' anneal of ``bqm`` (in this process)."""
    from dwave.samplers import SimulatedAnnealingSampler

    res = SimulatedAnnealingSampler().sample(bqm, num_reads=reads, num_sweeps=sweeps, beta_range=beta_range,
                                             beta_schedule_type="geometric", seed=seed)
    return np.asarray(res.record.energy, dtype=float)


def solve_energies(qubo, reads: int, sweeps: int, beta_range, seed: int, field_dtype=None) -> np.ndarray:
    """Return the energies of ``cutslack.solve(qubo, method="anneal", ...)``, the call users make."""
    import cutslack

    res = cutslack.solve(qubo, method="anneal", num_reads=reads, num_sweeps=sweeps, rng=seed, beta_range=beta_range,
                         field_dtype=field_dtype)
    return np.asarray(res.samples.energies)


def kernel_call(qubo, reads: int, sweeps: int, beta_range, seed: int) -> tuple[float, float, np.ndarray]:
    """Return ``(wall, cpu, energies)`` of the anneal kernel call alone, its inputs prepared as ``anneal_sampler``
    prepares them (float32 couplings, its field dtype and refresh rule, hot sweeps)."""
    from cutslack.solvers.qubo import kernels
    from cutslack.solvers.qubo import samplers as S

    rng = np.random.default_rng(seed)
    C = S._couplings(qubo, np.float32)
    betas = np.geomspace(beta_range[0], beta_range[1], sweeps)
    X = C.to_internal(S._start_states(rng, None, reads, qubo.n))
    states = S._seeds(rng, reads)
    F = np.empty(X.shape, dtype=C.field_dtype())
    refresh = C.refresh_flips() if F.dtype == np.float32 else 0
    options = {"hot_fraction": kernels.HOT_FLIP_FRACTION if C.sparse and qubo.n >= S.HOT_SWEEP_MIN_VARIABLES else 0.0,
               "integer_range": C.integer_range() if C.sparse else 0}
    kernel = C.kernel("anneal_reads")
    t0, c0 = time.perf_counter(), time.process_time()
    kernel(*C.args, X, F, betas, states, C.h, np.zeros(reads, dtype=np.int64), refresh, init_fields=True, **options)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, qubo.energy(C.to_caller(X))


def anneal_comparison(qubo, bqm, reads: int, sweeps: int, rounds: int, *, f64_side: bool = False):
    """Time dwave's sample, our solve and our kernel on one instance by :func:`timing.compare`.

    Round ``r`` (and the cold call, seed 0) runs every side with seed ``r``; returns
    ``(comparison, energies)`` with ``energies[side]`` the list of per-seed energy arrays.
    """
    from timing import compare

    from cutslack.solvers.qubo.samplers import default_beta_range

    br = default_beta_range(qubo)
    seed = {"r": 0}
    sides = {"dwave sample": lambda: dwave_sample(bqm, reads, sweeps, br, seed["r"]),
             "cutslack solve": lambda: solve_energies(qubo, reads, sweeps, br, seed["r"]),
             "cutslack kernel": lambda: kernel_call(qubo, reads, sweeps, br, seed["r"])}
    if f64_side:
        sides["solve f64 fields"] = lambda: solve_energies(qubo, reads, sweeps, br, seed["r"], np.float64)
    energies = {name: [] for name in sides}
    calls = {"n": 0}

    def on_result(name, round_index, result):
        if round_index >= 0:
            energies[name].append(np.asarray(result))
        calls["n"] += 1
        if calls["n"] % len(sides) == 0:  # every side has run this round: the next one takes the next seed
            seed["r"] = calls["n"] // len(sides) - 1

    cmp = compare(sides, rounds=rounds, timed={"cutslack kernel"}, on_result=on_result)
    return cmp, energies


def energy_line(energies, ours: str, theirs: str = "dwave sample") -> str:
    """Return the energy check of ``ours`` against ``theirs``: means, paired difference, SE and verdict."""
    diff, se = paired_difference(energies[ours], energies[theirs])
    verdict = "equal" if abs(diff) <= 2 * se else ("lower" if diff < 0 else "HIGHER")
    a = float(np.mean([e.mean() for e in energies[ours]]))
    b = float(np.mean([e.mean() for e in energies[theirs]]))
    seeds, reads = len(energies[ours]), energies[ours][0].size
    return (f"energy {ours} {a:.2f} vs {theirs} {b:.2f}: diff {diff:+.2f} ± {se:.2f} (SE, paired over {seeds} seeds "
            f"x {reads} reads) -> {verdict}")


def comparison_lines(label: str, cmp, energies) -> list[str]:
    """Return the printed block of one instance: sides, ratios (labelled), energy checks."""
    lines = [f"## {label}"]
    lines += ["  " + cmp.side_line(name) for name in cmp.sides]
    lines.append("  " + cmp.summary("dwave sample", "cutslack solve"))
    lines.append("  " + cmp.summary("dwave sample", "cutslack kernel"))
    lines.append("  " + cmp.summary("cutslack solve", "cutslack kernel").replace(
        "cutslack solve / cutslack kernel", "solve overhead: cutslack solve / cutslack kernel"))
    if "solve f64 fields" in cmp.sides:
        lines.append("  " + cmp.summary("solve f64 fields", "cutslack solve"))
    lines += ["  " + energy_line(energies, name) for name in cmp.sides if name != "dwave sample"]
    return lines


def main(argv=None) -> list[str]:
    args = parse(argv)
    sys.path.insert(0, str(HERE))
    from timing import thread_report

    import numba

    # run as a script the thread variables were pinned before any import; imported (tests), only Numba's
    # pool is limited here and restored after (changing the variables once Numba's threads run is refused)
    saved_threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        if args.field_dtypes:
            field_dtypes(args)
            return []
        return run(args, argv, thread_report())
    finally:
        numba.set_num_threads(saved_threads)


def run(args, argv, threads: str) -> list[str]:
    """Run every instance, print its block and write the results file (unless ``--no-write``)."""
    import provenance  # noqa: F401  (imported now, it records the load and git revision at the start)

    instances = [(f"dense N(0,1) QUBO, n = {n}", dense_qubo(n, 0), True) for n in args.dense]
    instances += [(f"sparse 3-regular MIS QUBO, n = {n}", sparse_qubo(n, 0), False) for n in args.sparse]
    lines = [f"threads: {threads} (both sides on 1 thread; dwave-samplers is single-threaded)",
             f"work per call: {args.reads} reads x {args.sweeps} sweeps, the same geometric schedule and beta range "
             f"(dwave's rule) on both sides; round r uses seed r on every side",
             "ratios: median of the per-round ratios [min-max] over interleaved rounds (order alternating), by wall "
             "and by process CPU time; cold = first call, apart"]
    for line in lines:
        print(line, flush=True)
    for label, qubo, dense in instances:
        cmp, energies = anneal_comparison(qubo, to_bqm(qubo), args.reads, args.sweeps, args.rounds, f64_side=dense)
        block = comparison_lines(label, cmp, energies)
        print("\n".join(block), flush=True)
        lines += block
    if not args.no_write:
        from provenance import text_header

        RESULTS.write_text(text_header(__file__, argv) + "\n".join(lines) + "\n")
        print(f"wrote {RESULTS}")
    return lines


if __name__ == "__main__":
    main()
