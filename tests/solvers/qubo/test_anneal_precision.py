"""The anneal kernel's fast paths against their exact references: float32 fields (with their
exact periodic refresh) against float64, the bounded Metropolis test against ``expf``, fields
filled inside the kernel against the separate pass, chunked runs against one call."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
import numba
from numba import njit

import cutslack
from cutslack.binary import QUBO
from cutslack.solvers.qubo import kernels, samplers
from cutslack.solvers.qubo.samplers import anneal_sampler


def integer_qubo(n, density, seed):
    rng = np.random.default_rng(seed)
    return np.triu(rng.integers(-5, 6, size=(n, n)) * (rng.random((n, n)) < density)).astype(float)


def real_qubo(n, seed):
    return np.triu(np.random.default_rng(seed).normal(size=(n, n)))


@njit
def _expf_test(u, t):
    """The plain test the bounds stand in for: ``u < expf(-t)`` (the kernel's libm ``expf``)."""
    return u < math.exp(np.float32(-t))


def test_bounded_metropolis_test_takes_the_same_decisions_as_expf():
    rng = np.random.default_rng(0)
    t = np.concatenate([rng.uniform(0, kernels.EXP_CUTOFF, 6000), rng.uniform(0, 0.05, 2000),
                        np.array([1e-9, 0.5, 1.0, 2.0, 5.0, kernels.EXP_CUTOFF])])
    expf = np.exp(-t.astype(np.float32)).astype(np.float32)
    # uniforms on the 24-bit grid: random ones and the grid points right at each expf(-t)
    grid = np.float32(2.0**-24)
    at = np.floor(expf / grid).astype(np.float32) * grid
    for u in (rng.integers(0, 2**24, t.size).astype(np.float32) * grid, at, at + grid, at - grid):
        u = np.clip(u, 0, 1 - grid).astype(np.float32)
        ours = [kernels._uphill_accepted(np.float32(a), b) for a, b in zip(u, t)]
        assert ours == [_expf_test(np.float32(a), b) for a, b in zip(u, t)]


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_float32_fields_give_the_float64_samples_on_integer_coefficients(layout):
    # integer couplings, fields below 2^24: float32 sums are exact, so the walks are identical
    q = QUBO(integer_qubo(50, 0.3, 1))
    a = anneal_sampler(q, num_reads=4, num_sweeps=150, rng=5, layout=layout)
    b = anneal_sampler(q, num_reads=4, num_sweeps=150, rng=5, layout=layout, dtype=np.float64)
    np.testing.assert_array_equal(a.X, b.X)


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_kernel_fills_the_fields_and_its_refresh_keeps_float32_fields_exact_to_rounding(layout):
    q = QUBO(real_qubo(80, 2))
    C = samplers._couplings(q, np.float32, layout)
    assert C.refresh_flips() == samplers.REFRESH_FLIPS_PER_VARIABLE * q.n  # real coefficients: refreshes
    rng = np.random.default_rng(3)
    X = rng.integers(0, 2, size=(3, q.n), dtype=np.uint8)
    F = np.full(X.shape, np.nan, dtype=np.float32)
    kernel = C.kernel("anneal_reads")
    kernel(*C.args, X, F, np.zeros(0), samplers._seeds(rng, 3), C.h, None, 0, init_fields=True)
    np.testing.assert_array_equal(F, C.fields(X).astype(np.float32))  # zero sweeps: just the filled fields
    betas = np.geomspace(*samplers.default_beta_range(q), 400)
    since = np.zeros(3, dtype=np.int64)
    kernel(*C.args, X, F, betas, samplers._seeds(rng, 3), C.h, since, 5 * q.n)
    exact = C.fields(X)
    assert np.all(since < 5 * q.n)
    assert np.max(np.abs(F - exact)) <= 1e-5 * np.max(np.abs(exact))


def test_float32_and_float64_anneals_reach_the_same_energies_on_real_coefficients():
    q = QUBO(real_qubo(16, 4))
    best = cutslack.solve(q, method="exhaustive").objective
    for dtype in (np.float32, np.float64):
        ss = anneal_sampler(q, num_reads=16, num_sweeps=300, rng=1, dtype=dtype)
        assert ss.best_energy == pytest.approx(best, abs=1e-9)
        assert np.mean(np.isclose(ss.energies, best, atol=1e-9)) >= 0.5


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_a_run_in_chunks_makes_the_moves_of_one_call(monkeypatch, layout):
    # float32 fields refreshed every n flips (often), counted across chunks; a callback splits the run
    monkeypatch.setattr(samplers, "REFRESH_FLIPS_PER_VARIABLE", 1)
    monkeypatch.setattr(samplers, "FLOAT32_FIELD_RANGE", 2**24 * 1e-3)
    q = QUBO(sp.csr_matrix(real_qubo(40, 6) * (np.random.default_rng(7).random((40, 40)) < 0.3)))
    whole = anneal_sampler(q, num_reads=3, num_sweeps=120, rng=2, layout=layout)
    seen = []
    parts = anneal_sampler(q, num_reads=3, num_sweeps=120, rng=2, layout=layout, callback=seen.append)
    assert len(seen) >= 2
    np.testing.assert_array_equal(whole.X, parts.X)


def test_reads_in_blocks_under_a_deadline_walk_as_one_call():
    from cutslack.reliability import dense_qubo
    from cutslack.solvers.qubo.samplers import READ_BLOCK_PER_THREAD, anneal_sampler

    q = dense_qubo(30)
    reads = 3 * READ_BLOCK_PER_THREAD * numba.get_num_threads() + 5  # several blocks and a ragged last one
    free = anneal_sampler(q, num_reads=reads, num_sweeps=50, rng=4)
    timed = anneal_sampler(q, num_reads=reads, num_sweeps=50, rng=4, time_limit=300.0)
    assert np.array_equal(free.X, timed.X) and timed.info["num_sweeps"] == 50


def test_one_sweep_over_many_reads_of_a_big_qubo_keeps_the_deadline():
    import time

    import cutslack
    from cutslack.reliability import allowed_overshoot, dense_qubo
    from cutslack.result import Status

    cutslack.solve(dense_qubo(6), method="anneal", num_reads=4, rng=0)  # compiled outside the clock
    q = dense_qubo(2000)
    start = time.perf_counter()
    res = cutslack.solve(q, method="anneal", num_reads=800, num_sweeps=1000, time_limit=0.5, rng=0)
    wall = time.perf_counter() - start
    assert res.status is Status.TIME_LIMIT and res.x is not None
    # the promise is on solve()'s clock (set-up, sampling, scoring; compile_s apart) ...
    assert res.wall_time <= 0.5 + allowed_overshoot(0.5)
    # ... and the call as a whole adds only what the clock leaves out
    assert wall <= res.wall_time + res.info["compile_s"] + 0.5


def test_float32_fields_only_where_they_pay_and_resolve_the_fields():
    from cutslack.solvers.qubo.samplers import FLOAT32_FIELD_MIN_VARIABLES as small

    def fields(matrix, layout="auto"):
        return samplers._couplings(QUBO(matrix), np.float32, layout).field_dtype()

    assert fields(real_qubo(small - 1, 0)) == np.float64        # real, small: float32 buys no time
    assert fields(real_qubo(small, 0)) == np.float32            # real, large, narrow range
    assert fields(real_qubo(small, 0), "sparse") == np.float64  # ... but CSR: float32 buys no time
    assert fields(integer_qubo(small, 0.05, 0)) == np.float32   # integer CSR: exact float32 sums
    assert fields(integer_qubo(20, 0.5, 0)) == np.float32       # integer sums: exact at any size
    wide = real_qubo(small, 1)
    wide[0, 1] = 1e6 * np.abs(wide).sum()                       # one coupling far above the rest
    assert fields(wide) == np.float64
    q = QUBO(real_qubo(small, 2))
    assert anneal_sampler(q, num_reads=2, num_sweeps=5, rng=0).energies.dtype == np.float64
