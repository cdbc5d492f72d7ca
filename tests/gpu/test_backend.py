"""Backend selection without a device: a GPU request names what is missing and the install line."""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.errors import BackendUnavailableError
from cutslack.gpu.backend import cupy_available, cuda_simulator_enabled, resolve_backend
from cutslack.quantum.statevector import StatevectorSimulator
from cutslack.solvers.qubo.samplers import anneal_sampler, exhaustive_sampler
from tests.gpu.conftest import random_qubo


@pytest.fixture
def no_device():
    if cupy_available() or cuda_simulator_enabled():
        pytest.skip("a device (or the CUDA simulator) is usable in this process")


def test_gpu_requests_without_a_device_name_what_is_missing(no_device):
    with pytest.raises(BackendUnavailableError, match=r"missing: .*pip install 'cutslack\[gpu\]'"):
        resolve_backend("cupy")
    qubo = random_qubo(5, 1)
    with pytest.raises(BackendUnavailableError, match="missing"):
        anneal_sampler(qubo, backend="cupy")
    with pytest.raises(BackendUnavailableError, match="missing"):
        exhaustive_sampler(qubo, backend="cupy")
    with pytest.raises(BackendUnavailableError, match="missing"):
        StatevectorSimulator(qubo, backend="cupy")


def test_auto_falls_back_to_the_cpu(no_device):
    qubo = random_qubo(6, 2)
    assert resolve_backend("auto") == "numpy"
    a, b = anneal_sampler(qubo, num_reads=3, num_sweeps=20, rng=1, backend="auto"), \
        anneal_sampler(qubo, num_reads=3, num_sweeps=20, rng=1)
    assert "backend" not in a.info and np.array_equal(a.X, b.X)
    assert StatevectorSimulator(qubo, dtype=np.complex64).qaoa_state([0.3], [0.2]).dtype == np.complex64  # host too
    with pytest.raises(ValueError, match="complex64"):
        StatevectorSimulator(qubo, dtype=np.float64)
