"""The device paths on a real GPU (``gpu`` marker; skipped without CuPy, numba-cuda and a device).

Same assertions as the simulator tests, at sizes where the device is the point.  The
annealers' comparison allows a read in a hundred to differ: the device's ``exp`` may differ
from the host's in the last bit, which flips a Metropolis test landing within one rounding
of its threshold and sends that read down another path.
"""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.solvers.qubo.samplers import anneal_sampler, exhaustive_sampler, tempering_sampler
from tests.gpu.conftest import random_qubo

pytestmark = [pytest.mark.gpu, pytest.mark.usefixtures("device")]


def test_anneal_on_the_device_matches_the_cpu():
    qubo = random_qubo(200, 1)
    kw = dict(num_reads=256, num_sweeps=200, rng=3)
    a, b = anneal_sampler(qubo, **kw), anneal_sampler(qubo, backend="cupy", **kw)
    assert b.info["backend"] == "cupy"
    assert np.mean(np.all(a.X == b.X, axis=1)) >= 0.99


def test_tempering_on_the_device_matches_the_cpu():
    qubo = random_qubo(100, 2)
    kw = dict(num_reads=32, num_replicas=8, num_sweeps=100, rng=5)
    a, b = tempering_sampler(qubo, **kw), tempering_sampler(qubo, backend="cupy", **kw)
    assert np.mean(np.all(a.X == b.X, axis=1)) >= 0.9


def test_exhaustive_on_the_device_matches_the_cpu():
    qubo = random_qubo(22, 4)
    a, b = exhaustive_sampler(qubo, num_best=8), exhaustive_sampler(qubo, num_best=8, backend="cupy")
    np.testing.assert_array_equal(a.energies, b.energies)


def test_batched_energies_on_the_device():
    import cupy as cp

    from cutslack.gpu.energy import qubo_energies

    qubo = random_qubo(300, 5, integer=False)
    X = np.random.default_rng(0).integers(0, 2, size=(5000, 300), dtype=np.uint8)
    got = qubo_energies(qubo.U, cp.asarray(X), qubo.offset)
    np.testing.assert_allclose(cp.asnumpy(got), qubo.energy(X), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(cp.asnumpy(qubo.energy(cp.asarray(X))), qubo.energy(X), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("dtype,tol", [(np.complex128, 1e-10), (np.complex64, 1e-4)])
def test_qaoa_on_the_device_matches_the_cpu(dtype, tol):
    from cutslack.quantum.statevector import StatevectorSimulator

    qubo = random_qubo(16, 6, integer=False)
    cpu, dev = StatevectorSimulator(qubo), StatevectorSimulator(qubo, backend="cupy", dtype=dtype)
    g, b = [0.2, -0.4, 0.3], [0.6, 0.3, 0.1]
    want = cpu.expectation(cpu.qaoa_state(g, b))
    assert abs(dev.expectation(dev.qaoa_state(g, b)) - want) <= tol * max(1.0, abs(want))
