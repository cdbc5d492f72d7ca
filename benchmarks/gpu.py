"""GPU kernels against this project's Numba CPU kernels on the same machine, each checked against its twin.

For every kernel — simulated annealing (dense, and CSR on a sparse MIS QUBO), parallel
tempering, exhaustive Gray-code search, the QAOA statevector, batched energies — this prints
the GPU figure, the CPU figure (this project's Numba kernels, or the same array code on
NumPy, on all the machine's cores), their ratio, the issue's target where it names one, and
a correctness check against the CPU twin (the annealers draw the same random streams, so
their reads must come out equal; exhaustive search the same lowest energies; QAOA the same
expectation).  Exit status 1 when any check fails; a missed speed target is printed, not
an error.  Results go to ``benchmarks/results/gpu.txt`` (``--out``) with a header.

On a GPU machine (< 5 minutes on an H200)::

    pip install -e '.[gpu]' && python benchmarks/gpu.py

On a CPU, tiny sizes under Numba's CUDA simulator (checks the script and the kernels' logic)::

    python benchmarks/gpu.py --simulate
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: sizes on a device (the issue's targets) and under the simulator (logic only)
SIZES = {
    "device": dict(anneal_n=1000, anneal_reads=4096, anneal_sweeps=100, csr_n=2000, csr_reads=1024, csr_sweeps=50,
                   temper_n=500, temper_chains=128, temper_replicas=16, temper_sweeps=50, exhaustive_n=34,
                   exhaustive_time_limit=120,
                   exhaustive_cmp_n=26, qaoa_n=28, qaoa_cmp_n=26, qaoa_big_n=30, qaoa_p=3, energy_k=100_000,
                   energy_n=1000),
    "simulate": dict(anneal_n=12, anneal_reads=3, anneal_sweeps=8, csr_n=40, csr_reads=2, csr_sweeps=4,
                     temper_n=8, temper_chains=2, temper_replicas=3, temper_sweeps=4, exhaustive_n=12,
                     exhaustive_time_limit=60,
                     exhaustive_cmp_n=10, qaoa_n=6, qaoa_cmp_n=5, qaoa_big_n=7, qaoa_p=3, energy_k=2000,
                     energy_n=40),
}


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--simulate", action="store_true",
                        help="run tiny sizes under Numba's CUDA simulator on the CPU (no GPU needed)")
    parser.add_argument("--only", nargs="+", choices=["anneal", "csr", "tempering", "exhaustive", "qaoa", "energies"],
                        help="run only these sections")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="results file (default benchmarks/results/gpu[_simulated].txt)")
    return parser.parse_args(argv)


class Report:
    """Collects the printed rows, the failed checks and the text of the results file."""

    def __init__(self):
        self.lines = []
        self.failures = []

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def row(self, kernel, size, gpu, cpu, unit, target, ok, detail, *, higher_is_better=True):
        ratio = f"{(gpu / cpu if higher_is_better else cpu / gpu):>8.1f}x" if gpu and cpu else f"{'-':>9}"
        check = "ok" if ok else "MISMATCH"
        if not ok:
            self.failures.append(f"{kernel} {size}: {detail}")
        cpu_text = f"{cpu:.4g}" if cpu is not None else "-"
        self.say(f"{kernel:<22} {size:<30} {gpu:>11.4g} {cpu_text:>11} {unit:<10} {ratio}  {target:<28} "
                 f"{check:<8} {detail}")


def timed(fn, sync):
    """Return ``(result, seconds)`` of ``fn()``, the device synchronised before the clock stops."""
    sync()
    t0 = time.perf_counter()
    out = fn()
    sync()
    return out, time.perf_counter() - t0


def main(argv=None) -> int:
    args = parse(argv)
    if args.simulate:
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"  # before numba.cuda is first imported
    sys.path.insert(0, str(ROOT))
    import numba
    import numpy as np
    import scipy.sparse as sp

    import cutslack
    from cutslack.binary import QUBO
    from cutslack.gpu.backend import cuda_simulator_enabled, missing_gpu_parts, resolve_backend, synchronize, to_device

    if not args.simulate:
        missing = missing_gpu_parts()
        if missing:
            print(f"no GPU here (missing: {', '.join(missing)}); install with pip install -e '.[gpu]' on a GPU "
                  "machine, or run with --simulate", file=sys.stderr)
            return 2
    resolve_backend("cupy")
    from cutslack.gpu import kernels as gk
    from cutslack.gpu.energy import qubo_energies
    from cutslack.quantum.statevector import StatevectorSimulator
    from cutslack.solvers.qubo import kernels as ck
    from cutslack.solvers.qubo.samplers import anneal_sampler, exhaustive_sampler, tempering_sampler

    S = SIZES["simulate" if args.simulate else "device"]
    sections = set(args.only or ["anneal", "csr", "tempering", "exhaustive", "qaoa", "energies"])
    seed = args.seed
    rep = Report()
    device = "Numba CUDA simulator (CPU)" if cuda_simulator_enabled() else _device_name()
    rep.say(f"# python benchmarks/gpu.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    rep.say(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; device: {device}; "
            f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Numba threads "
            f"{numba.get_num_threads()}; cutslack {cutslack.__version__}, numpy {np.__version__}, numba "
            f"{numba.__version__}{_cupy_version()}")
    rep.say("# GPU = cutslack/gpu kernels; CPU = this project's Numba kernels (all Numba threads) or the same array "
            "code on NumPy; ratio = GPU speed / CPU speed")
    if cuda_simulator_enabled():
        rep.say("# --simulate: the 'GPU' kernels ran under Numba's CUDA simulator on the CPU at tiny sizes; its figures "
                "time the simulator, not a device: only the checks mean something here")
    rep.say(f"{'kernel':<22} {'size':<30} {'GPU':>11} {'CPU':>11} {'unit':<10} {'ratio':>9}  {'target':<28} "
            f"{'check':<8} detail")
    rng = np.random.default_rng(seed)
    dense = lambda n: QUBO(np.triu(np.random.default_rng(seed + n).normal(size=(n, n))))  # noqa: E731

    if "anneal" in sections:
        n, R, T = S["anneal_n"], S["anneal_reads"], S["anneal_sweeps"]
        q = dense(n)
        for backend in ("numpy", "cupy"):  # compile both
            anneal_sampler(dense(8), num_reads=2, num_sweeps=2, rng=0, backend=backend)
        kw = dict(num_reads=R, num_sweeps=T, rng=seed)
        g, tg = timed(lambda: anneal_sampler(q, backend="cupy", **kw), synchronize)
        c, tc = timed(lambda: anneal_sampler(q, **kw), synchronize)   # the CPU default (float32 fields at n >= 128)
        # the device keeps float64 fields: its twin for the sample-by-sample check is the CPU run with float64 fields
        twin = anneal_sampler(q, field_dtype=np.float64, **kw)
        same = float(np.mean(np.all(g.X == twin.X, axis=1)))
        attempts = R * T * n
        rep.row("anneal (sampler)", f"dense n={n}, {R} reads x {T} sw", attempts / tg, attempts / tc, "flips/s", "",
                same >= 0.99, f"identical reads vs CPU float64 fields {same:.3f}; mean E {g.energies.mean():.6g} vs "
                f"{twin.energies.mean():.6g} (CPU default {c.energies.mean():.6g})")
        # the kernels alone: same arrays, same streams
        W = q.symmetric().astype(np.float32)
        X = rng.integers(0, 2, size=(R, n), dtype=np.uint8)
        F = np.ascontiguousarray(q.linear + X.astype(np.float64) @ W.astype(np.float64))
        betas = np.geomspace(0.01, 3.0, T)
        states = rng.integers(0, 2**63 - 1, size=R, dtype=np.int64).astype(np.uint64)
        dev = [to_device(a) for a in (W, X, F, betas, states)]
        _, tg = timed(lambda: gk.anneal_reads(*dev), synchronize)
        host = [a.copy() for a in (X, F, states)]
        _, tc = timed(lambda: ck.anneal_reads(W, host[0], host[1], betas, host[2]), synchronize)
        same = float(np.mean(np.all(_host(dev[1]) == host[0], axis=1)))
        rep.row("anneal (kernel)", f"dense n={n}, {R} chains x {T} sw", attempts / tg, attempts / tc, "flips/s",
                ">= 100x CPU flips/s", same >= 0.99, f"identical chains {same:.3f}")

    if "csr" in sections:
        import networkx as nx

        n, R, T = S["csr_n"], S["csr_reads"], S["csr_sweeps"]
        graph = nx.random_regular_graph(3, n, seed=seed)
        rows, cols = np.array(graph.edges()).T
        U = sp.coo_matrix((np.full(len(rows), 2.0), (np.minimum(rows, cols), np.maximum(rows, cols))), shape=(n, n))
        q = QUBO((U + sp.diags(np.full(n, -1.0))).tocsr())
        anneal_sampler(QUBO(sp.csr_matrix(np.triu(np.ones((8, 8))) - 2 * np.eye(8))), num_reads=2, num_sweeps=2,
                       rng=0, backend="cupy")
        kw = dict(num_reads=R, num_sweeps=T, rng=seed)
        g, tg = timed(lambda: anneal_sampler(q, backend="cupy", **kw), synchronize)
        c, tc = timed(lambda: anneal_sampler(q, **kw), synchronize)
        same = float(np.mean(np.all(g.X == c.X, axis=1)))
        attempts = R * T * n
        rep.row("anneal CSR (sampler)", f"3-reg MIS n={n}, {R} x {T} sw", attempts / tg, attempts / tc, "flips/s",
                "", same >= 0.99 and g.info["coupling_format"] == "csr",
                f"GPU {g.info['coupling_format']}, CPU {c.info.get('coupling_format', 'its default')} kernel; "
                f"identical reads {same:.3f}")

    if "tempering" in sections:
        n, C, K, T = S["temper_n"], S["temper_chains"], S["temper_replicas"], S["temper_sweeps"]
        q = dense(n)
        for backend in ("numpy", "cupy"):
            tempering_sampler(dense(8), num_reads=2, num_replicas=2, num_sweeps=2, rng=0, backend=backend)
        kw = dict(num_reads=C, num_replicas=K, num_sweeps=T, rng=seed)
        g, tg = timed(lambda: tempering_sampler(q, backend="cupy", **kw), synchronize)
        c, tc = timed(lambda: tempering_sampler(q, **kw), synchronize)
        same = float(np.mean(np.all(g.X == c.X, axis=1)))
        attempts = C * K * T * n
        rep.row("tempering (sampler)", f"dense n={n}, {C} ch x {K} rep x {T}", attempts / tg, attempts / tc,
                "flips/s", "", same >= 0.9, f"identical chain bests {same:.3f}")

    if "exhaustive" in sections:
        n = S["exhaustive_cmp_n"]
        q = QUBO(np.triu(np.random.default_rng(seed + 1).integers(-9, 10, size=(n, n)).astype(float)))
        exhaustive_sampler(dense(6), num_best=2, backend="cupy")
        exhaustive_sampler(dense(6), num_best=2)
        g, tg = timed(lambda: exhaustive_sampler(q, num_best=8, backend="cupy"), synchronize)
        c, tc = timed(lambda: exhaustive_sampler(q, num_best=8), synchronize)
        ok = np.array_equal(g.energies, c.energies) and g.info["complete"]
        rep.row("exhaustive (sampler)", f"n={n}, 8 best", 2.0**n / tg, 2.0**n / tc, "states/s", "", ok,
                f"8 lowest energies equal: {ok}; best {g.energies[0]:.6g} vs {c.energies[0]:.6g}")
        n = S["exhaustive_n"]
        q = QUBO(np.triu(np.random.default_rng(seed + 2).integers(-9, 10, size=(n, n)).astype(float)))
        limit = S["exhaustive_time_limit"]
        g, tg = timed(lambda: exhaustive_sampler(q, num_best=8, backend="cupy", time_limit=limit), synchronize)
        best = g.X[0]
        local = bool(np.all(q.local_fields(best) >= -1e-9))
        ok = local and bool(np.all(np.diff(g.energies) >= 0))
        detail = f"{g.info['states']} states; best {g.energies[0]:.6g} is a 1-flip local minimum: {local}"
        if not g.info["complete"]:  # cut by the time limit: the full search's time at the measured rate
            detail += f"; stopped at the {limit} s limit, full search projected {tg * 2.0**n / g.info['states']:.1f} s"
        rep.row("exhaustive (sampler)", f"n={n}, 8 best (GPU only)", tg, None, "seconds", "<= 30 s (n = 34)",
                ok, detail, higher_is_better=False)

    if "qaoa" in sections:
        p = S["qaoa_p"]
        gammas = np.linspace(0.1, 0.4, p)
        betas = np.linspace(0.5, 0.2, p)
        small = dense(6)
        StatevectorSimulator(small, backend="cupy").qaoa_state(gammas, betas)
        StatevectorSimulator(small).qaoa_state(gammas, betas)
        n = S["qaoa_cmp_n"]
        q = dense(n)
        gs, cs = StatevectorSimulator(q, backend="cupy"), StatevectorSimulator(q)
        cs.expectation(cs.qaoa_state(gammas, betas))  # first touch of the host buffers
        eg, tg = timed(lambda: gs.expectation(gs.qaoa_state(gammas, betas)), synchronize)
        ec, tc = timed(lambda: cs.expectation(cs.qaoa_state(gammas, betas)), synchronize)
        tol = 1e-10 * max(1.0, abs(ec))
        rep.row("QAOA expectation c128", f"n={n}, p={p}", 1 / tg, 1 / tc, "expect./s", ">= 30x CPU (n = 26)",
                abs(eg - ec) <= tol, f"|dE| = {abs(eg - ec):.2e} (tol {tol:.1e}); GPU {tg:.4f} s, CPU {tc:.4f} s")
        del gs, cs
        for n, dtype in ((S["qaoa_n"], np.complex128), (S["qaoa_n"], np.complex64), (S["qaoa_big_n"], np.complex64)):
            try:
                sim, t_diag = timed(lambda: StatevectorSimulator(dense(n), backend="cupy", dtype=dtype), synchronize)
            except cutslack.ProblemTooLargeError as exc:
                rep.say(f"QAOA n={n} {np.dtype(dtype).name}: refused before allocation: {exc}")
                continue
            e, tg = timed(lambda: sim.expectation(sim.qaoa_state(gammas, betas)), synchronize)
            ref = None
            if dtype == np.complex64 and n == S["qaoa_n"]:
                ref = StatevectorSimulator(dense(n), backend="cupy")
                ref = ref.expectation(ref.qaoa_state(gammas, betas))
            ok = np.isfinite(e) and (ref is None or abs(e - ref) <= 1e-4 * max(1.0, abs(ref)))
            detail = f"<H> = {e:.10g}; diagonal built in {t_diag:.3f} s"
            if ref is not None:
                detail += f"; |dE| vs complex128 = {abs(e - ref):.2e}"
            rep.row(f"QAOA expectation {'c128' if dtype == np.complex128 else 'c64'}", f"n={n}, p={p} (GPU only)",
                    tg, None, "seconds", "<= 0.5 s (n = 28, p = 3)" if n == S["qaoa_n"] else "", ok, detail,
                    higher_is_better=False)
            del sim

    if "energies" in sections:
        k, n = S["energy_k"], S["energy_n"]
        q = dense(n)
        X = np.random.default_rng(seed).integers(0, 2, size=(k, n), dtype=np.uint8)
        Xd, Ud = to_device(X), to_device(q.U)
        qubo_energies(Ud, Xd[:16])
        Xf = Xd.astype(np.float64)
        _, t_gemm = timed(lambda: Xf @ Ud, synchronize)
        _, t_gemm = timed(lambda: Xf @ Ud, synchronize)  # second call: cuBLAS warmed up
        del Xf
        eg, tg = timed(lambda: qubo_energies(Ud, Xd, q.offset), synchronize)
        ec, tc = timed(lambda: qubo_energies(q.U, X, q.offset), lambda: None)
        err = float(np.abs(_host(eg) - ec).max())
        ref = q.energy(X[:1000])
        err_ref = float(np.abs(_host(eg)[:1000] - ref).max())
        flops = 2.0 * k * n * n
        fraction = t_gemm / tg
        rep.row("batched energies f64", f"{k} x n={n}", flops / tg, flops / tc, "flop/s", ">= 50% of device GEMM",
                err <= 1e-9 * max(1.0, float(np.abs(ec).max())) and err_ref <= 1e-8 * max(1.0, float(np.abs(ref).max())),
                f"{fraction:.0%} of a bare {k}x{n}x{n} f64 GEMM ({flops / t_gemm:.3g} flop/s); max |dE| {err:.1e}")

    rep.say(f"# checks: {'all passed' if not rep.failures else 'FAILED: ' + '; '.join(rep.failures)}")
    out = args.out or ROOT / "benchmarks" / "results" / ("gpu_simulated.txt" if args.simulate else "gpu.txt")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(rep.lines) + "\n")
    print(f"wrote {out}")
    return 1 if rep.failures else 0


def _host(a):
    from cutslack.gpu.backend import asnumpy

    return asnumpy(a)


def _device_name() -> str:
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return f"{name} ({props['totalGlobalMem'] / 2**30:.0f} GiB)"


def _cupy_version() -> str:
    try:
        import cupy

        return f", cupy {cupy.__version__}"
    except ImportError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
