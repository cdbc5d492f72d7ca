"""Every device kernel's logic under Numba's CUDA simulator, compared with its CPU twin.

Small inputs only (each simulated thread is a Python thread).  The kernels share the CPU
kernels' random streams and arithmetic, so the comparisons are exact: equal states, fields,
energies and random-stream positions; equal best solutions; expectation values to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cutslack.binary import QUBO
from cutslack.errors import ProblemTooLargeError, SolverError
from cutslack.solvers.qubo import kernels as cpu
from cutslack.solvers.qubo.samplers import anneal_sampler, exhaustive_sampler, tabu_sampler, tempering_sampler
from tests.gpu.conftest import random_qubo

pytestmark = pytest.mark.usefixtures("cuda_simulator")


def _problem(n: int, reads: int, seed: int):
    rng = np.random.default_rng(seed)
    qubo = random_qubo(n, seed, density=0.5)
    W = qubo.symmetric()
    h = qubo.linear
    X = rng.integers(0, 2, size=(reads, n), dtype=np.uint8)
    F = h + X.astype(float) @ W
    states = rng.integers(0, 2**63 - 1, size=reads, dtype=np.int64).astype(np.uint64)
    return qubo, W, h, X, F, states


def _csr(W, dtype):
    S = sp.csr_matrix(W.astype(dtype))
    S.sort_indices()
    return S.indptr.astype(np.int64), S.indices.astype(np.int64), S.data


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_anneal_kernel_matches_cpu_twin(fmt):
    from cutslack.gpu import kernels as dev

    qubo, W, h, X, F, states = _problem(9, 3, 5)
    betas = np.geomspace(0.05, 3.0, 12)
    W32 = W.astype(np.float32)
    Xc, Fc, sc = X.copy(), F.copy(), states.copy()
    cpu.anneal_reads(W32, Xc, Fc, betas, sc)
    Xd, Fd, sd = X.copy(), F.copy(), states.copy()
    couplings = W32 if fmt == "dense" else _csr(W, np.float32)
    dev.anneal_reads(couplings, Xd, Fd, betas, sd, threads_per_chain=3)
    assert np.array_equal(Xc, Xd)
    assert np.array_equal(Fc, Fd)
    assert np.array_equal(sc, sd)
    assert not np.array_equal(Xc, X)  # the anneal moved
    np.testing.assert_array_equal(qubo.energy(Xd), qubo.energy(Xc))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_tempering_kernel_matches_cpu_twin(fmt):
    from cutslack.gpu import kernels as dev

    K, chains = 3, 2
    qubo, W, h, X, F, states = _problem(8, K * chains, 7)
    E = qubo.energy(X) - qubo.offset
    betas = np.geomspace(0.1, 2.0, K)
    chain_states = np.array([11, 12], dtype=np.uint64)
    best_E = E.reshape(chains, K).min(axis=1).copy()
    best_X = X[np.arange(chains) * K + E.reshape(chains, K).argmin(axis=1)].copy()
    host = [a.copy() for a in (X, F, E, states, chain_states, best_X, best_E)]
    cpu.tempering_sweeps(W, host[0], host[1], host[2], betas, host[3], host[4], 6, 1, host[5], host[6])
    devs = [a.copy() for a in (X, F, E, states, chain_states, best_X, best_E)]
    couplings = W if fmt == "dense" else _csr(W, np.float64)
    dev.tempering_sweeps(couplings, devs[0], devs[1], devs[2], betas, devs[3], devs[4], 6, 1, devs[5], devs[6],
                         threads_per_replica=2)
    for a, b in zip(host, devs):
        assert np.array_equal(a, b)
    np.testing.assert_allclose(devs[6], qubo.energy(devs[5]) - qubo.offset, atol=1e-9)


def test_gray_code_kernel_matches_cpu_twin():
    from cutslack.gpu import kernels as dev

    qubo = random_qubo(11, 3)
    W, h = qubo.symmetric(), qubo.linear
    low, K = 7, 5
    prefixes = np.arange(1 << (11 - low), dtype=np.int64)
    tops = [(np.full((prefixes.size, K), np.inf), np.full((prefixes.size, K), -1, dtype=np.int64)) for _ in range(2)]
    cpu.gray_code_search(W, h, prefixes, low, *tops[0])
    dev.gray_code_search(W, h, prefixes, low, *tops[1], block=4)
    assert np.array_equal(tops[0][0], tops[1][0])
    assert np.array_equal(tops[0][1], tops[1][1])


def test_samplers_on_the_simulated_device_match_the_cpu():
    qubo = random_qubo(10, 2)
    kw = dict(num_reads=3, num_sweeps=15, rng=4)
    a, b = anneal_sampler(qubo, **kw), anneal_sampler(qubo, backend="cupy", **kw)
    assert b.info["backend"] == "cuda-simulator"
    assert np.array_equal(a.X, b.X) and np.array_equal(a.energies, b.energies)
    kw = dict(num_reads=2, num_replicas=3, num_sweeps=5, rng=9)
    a, b = tempering_sampler(qubo, **kw), tempering_sampler(qubo, backend="cupy", **kw)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.energies, b.energies)


def test_sparse_qubo_anneals_through_csr_like_dense():
    Q = sp.random(12, 12, density=0.08, random_state=3, data_rvs=lambda k: np.round(np.random.default_rng(1).normal(size=k) * 4))
    qubo = QUBO(sp.triu(Q).tocsr())
    kw = dict(num_reads=2, num_sweeps=10, rng=1)
    a = anneal_sampler(qubo, **kw)
    b = anneal_sampler(qubo, backend="cupy", **kw)
    assert b.info["coupling_format"] == "csr"
    assert np.array_equal(a.X, b.X)


def test_exhaustive_on_the_simulated_device_finds_the_cpu_minimum():
    for seed in (1, 2):
        qubo = random_qubo(9, seed)
        for num_best in (None, 6):
            a = exhaustive_sampler(qubo, num_best=num_best)
            b = exhaustive_sampler(qubo, num_best=num_best, backend="cupy")
            assert b.info["complete"] and b.info["states"] == 2**9
            assert np.array_equal(a.energies, b.energies)
            assert {x.tobytes() for x in a.X} == {x.tobytes() for x in b.X}


def test_device_paths_refuse_what_they_cannot_do():
    with pytest.raises(ProblemTooLargeError, match="variables"):
        exhaustive_sampler(QUBO(np.zeros((41, 41))), backend="cupy")
    with pytest.raises(SolverError, match="no GPU kernel"):
        tabu_sampler(random_qubo(4, 1), backend="cupy")
    from cutslack.gpu.backend import check_device_memory

    with pytest.raises(ProblemTooLargeError, match="device"):
        check_device_memory("a test array", 1 << 62)


def test_batched_energies_are_the_qubo_energies():
    from cutslack.gpu.energy import qubo_energies

    rng = np.random.default_rng(0)
    for qubo in (random_qubo(30, 1, integer=False), QUBO(sp.random(30, 30, density=0.1, random_state=2), -1.0)):
        X = rng.integers(0, 2, size=(200, 30), dtype=np.uint8)
        np.testing.assert_allclose(qubo_energies(qubo.U, X, qubo.offset, batch_bytes=30 * 8 * 64), qubo.energy(X),
                                   rtol=0, atol=1e-10)


def test_qaoa_layers_match_the_cpu_simulator():
    from cutslack.gpu import statevector as dev
    from cutslack.quantum import statevector as host

    qubo = random_qubo(7, 4, integer=False)
    cpu_sim = host.StatevectorSimulator(qubo)
    dev_sim = host.StatevectorSimulator(qubo, backend="cupy")
    gammas, betas = [0.3, -0.7, 0.2], [0.5, 0.4, -0.1]
    want = cpu_sim.qaoa_state(gammas, betas)
    psi = np.full(1 << 7, 2 ** -3.5, dtype=np.complex128)
    for g, b in zip(gammas, betas):  # tiles of 2^3 amplitudes: the shared-memory and the high-qubit kernels both run
        dev.x_mixer_layer(psi, cpu_sim.diagonal, g, b, block_bits=3)
    np.testing.assert_allclose(psi, want, rtol=0, atol=1e-12)
    got = dev_sim.qaoa_state(gammas, betas)
    assert abs(dev_sim.expectation(got) - cpu_sim.expectation(want)) < 1e-10
    assert np.array_equal(dev_sim.sample_indices(got, 64, 3), cpu_sim.sample_indices(want, 64, 3))
    multi_g = np.random.default_rng(1).normal(size=(2, cpu_sim.n_terms))
    multi_b = np.random.default_rng(2).normal(size=(2, 7))
    assert abs(dev_sim.expectation(dev_sim.qaoa_state(multi_g, multi_b))
               - cpu_sim.expectation(cpu_sim.qaoa_state(multi_g, multi_b))) < 1e-10
    single = host.StatevectorSimulator(qubo, backend="cupy", dtype=np.complex64).qaoa_state(gammas, betas)
    assert single.dtype == np.complex64
    np.testing.assert_allclose(single, want, rtol=0, atol=1e-6)


def test_phase_and_general_mixer_kernels_match_the_cpu():
    from cutslack.gpu import statevector as dev
    from cutslack.quantum import statevector as host

    qubo = random_qubo(6, 8, integer=False)
    sim = host.StatevectorSimulator(qubo)
    psi = sim.qaoa_state([0.4], [0.3])
    mats = host.x_mixer_matrices(0.3, 6)
    phase = host.ising_phase(sim.h, sim.rows, sim.cols, sim.J, 6, 0.4)
    for fn_args in ((host.apply_phase, dev.apply_phase, (sim.diagonal, 0.4)),
                    (host.apply_mixer_layer, dev.apply_mixer_layer, (mats, phase)),
                    (host.apply_mixer_layer, dev.apply_mixer_layer, (host.x_mixer_matrices(0.3, 6, np.full(6, 0.5)), phase))):
        a, b = psi.copy(), psi.copy()
        fn_args[0](a, *fn_args[2])
        fn_args[1](b, *fn_args[2])
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_solve_reaches_the_device_path_and_honours_callbacks():
    import cutslack

    qubo = random_qubo(8, 6)
    kw = dict(num_reads=2, num_sweeps=6, rng=2)
    on_device = cutslack.solve(qubo, method="anneal", backend="cupy", **kw)
    assert on_device.samples.info["backend"] == "cuda-simulator"
    assert np.array_equal(on_device.x, cutslack.solve(qubo, method="anneal", **kw).x)
    seen = []

    def stop(intermediate):
        seen.append(intermediate)
        raise StopIteration

    s = anneal_sampler(qubo, backend="cupy", callback=stop, num_reads=2, num_sweeps=40, rng=1)
    assert s.info["stopped"] and s.info["num_sweeps"] < 40 and len(seen) == 1


def test_simulated_shared_arrays_are_shared_by_every_thread_of_a_block(monkeypatch):
    # the simulator's own allocation checks for the line's array and inserts a new one unlocked:
    # with a slow allocation every thread would get its own array; launches patch it (simulator_launch)
    import threading
    import time

    from numba.cuda.simulator import kernelapi

    from cutslack.gpu.kernels import simulator_launch

    with simulator_launch():
        pass
    shared = kernelapi.FakeCUDAShared(0)
    real_empty = np.empty

    def slow_empty(*args, **kwargs):
        time.sleep(0.002)
        return real_empty(*args, **kwargs)

    monkeypatch.setattr(np, "empty", slow_empty)
    start = threading.Barrier(8)
    got = []

    def thread():
        start.wait()
        got.append(shared.array(16, np.float64))  # one source line, as in a kernel

    threads = [threading.Thread(target=thread) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and all(a is got[0] for a in got)
    other = shared.array(16, np.float64)  # another line: another array
    assert other is not got[0]
