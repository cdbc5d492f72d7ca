"""Simulated annealing speed: cutslack's ``anneal_sampler`` against dwave-samplers' SimulatedAnnealingSampler.

Both run the same dense random QUBO (``U_ij ~ N(0, 1)`` for ``i <= j``) with the same number
of reads and sweeps and each sampler's own default beta range (the same dwave-neal rule).
Printed per size: spin-flip attempts per second of each (reads x sweeps x n / wall time),
their ratio, and the best and mean energy of each.  cutslack runs its reads in parallel over
the machine's cores (Numba ``prange``); dwave-samplers runs them one after the other.
cutslack stores the couplings in float32 by default (``--dtype float64`` to compare unrounded).  Both
are measured in this process, one after the other, after a warm-up (JIT compile) call.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/sampler_speed.py [--sizes 100 500 1000] [--reads 32]
        [--sweeps 1000] [--seed 0] [--dtype float32|float64] [--out benchmarks/results/sampler_speed.txt]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cutslack.binary import QUBO  # noqa: E402
from cutslack.errors import BackendUnavailableError  # noqa: E402
from cutslack.solvers.qubo import anneal_sampler  # noqa: E402


def random_dense_qubo(n: int, seed: int) -> QUBO:
    """Return a dense QUBO with upper-triangular entries drawn from N(0, 1)."""
    rng = np.random.default_rng(seed)
    return QUBO(np.triu(rng.normal(size=(n, n))))


def dwave_sampler():
    """Return dwave-samplers' SimulatedAnnealingSampler (or raise with the install line)."""
    try:
        from dwave.samplers import SimulatedAnnealingSampler
    except ImportError as exc:
        raise BackendUnavailableError("dwave-samplers", "pip install dwave-samplers") from exc
    return SimulatedAnnealingSampler()


def to_bqm(qubo: QUBO):
    """Return the QUBO as a dimod BQM built from arrays (fast for dense matrices)."""
    import dimod

    U = qubo.to_dense()
    return dimod.BinaryQuadraticModel(np.diag(U).copy(), np.triu(U, 1), qubo.offset, dimod.BINARY)


def measure(n: int, reads: int, sweeps: int, seed: int, dtype) -> dict:
    """Return the throughput and energies of both samplers on one random QUBO of size ``n``."""
    qubo = random_dense_qubo(n, seed)
    attempts = reads * sweeps * n
    t0 = time.perf_counter()
    ours = anneal_sampler(qubo, num_reads=reads, num_sweeps=sweeps, rng=seed, dtype=dtype)
    t_ours = time.perf_counter() - t0
    bqm = to_bqm(qubo)
    t0 = time.perf_counter()
    theirs = dwave_sampler().sample(bqm, num_reads=reads, num_sweeps=sweeps, seed=seed)
    t_theirs = time.perf_counter() - t0
    theirs_energy = np.asarray(theirs.record.energy, dtype=float)
    return {"n": n, "reads": reads, "sweeps": sweeps,
            "ours_rate": attempts / t_ours, "dwave_rate": attempts / t_theirs,
            "ours_best": ours.best_energy, "ours_mean": float(ours.energies.mean()),
            "dwave_best": float(theirs_energy.min()), "dwave_mean": float(theirs_energy.mean())}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--reads", type=int, default=32)
    parser.add_argument("--sweeps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="cutslack's coupling storage (fields are float64 either way); float32 is its default")
    parser.add_argument("--out", help="also write the printed table, with a provenance header, to this file")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else list(argv)
    dtype = np.dtype(args.dtype)
    lines = []
    dwave_sampler()
    anneal_sampler(random_dense_qubo(8, 0), num_reads=2, num_sweeps=2, rng=0, dtype=dtype)  # JIT warm-up
    header = (f"{'n':>5} {'reads':>5} {'sweeps':>6} {'ours flips/s':>13} {'dwave flips/s':>13} {'ratio':>6} "
              f"{'ours best':>11} {'dwave best':>11} {'ours mean':>11} {'dwave mean':>11}")
    lines += [header, "-" * len(header)]
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        r = measure(n, args.reads, args.sweeps, args.seed, dtype)
        lines.append(f"{r['n']:>5} {r['reads']:>5} {r['sweeps']:>6} {r['ours_rate']:>13.4g} {r['dwave_rate']:>13.4g} "
                     f"{r['ours_rate'] / r['dwave_rate']:>6.2f} {r['ours_best']:>11.6g} {r['dwave_best']:>11.6g} "
                     f"{r['ours_mean']:>11.6g} {r['dwave_mean']:>11.6g}")
        print(lines[-1], flush=True)
    if args.out:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from provenance import text_header

        Path(args.out).write_text(text_header(__file__, argv) + "\n".join(lines) + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
