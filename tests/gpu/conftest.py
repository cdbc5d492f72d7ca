"""Fixtures of the GPU tests: Numba's CUDA simulator (everywhere) or a real device (``gpu`` marker).

The simulator must be chosen before :mod:`numba.cuda` is first imported, and one process
holds one or the other.  Only :mod:`cutslack.gpu` imports :mod:`numba.cuda`, and nothing
outside these tests does so on a machine without a device, so the ``cuda_simulator``
fixture switches the simulator on for its module (``NUMBA_ENABLE_CUDASIM=1`` and a reload
of Numba's configuration, which leaves the CPU kernels alone) and off again after it;
``backend="cupy"`` resolves to the simulator only while it is on.  On a GPU machine run the
device tests and the simulator tests in separate processes (``pytest tests/gpu -m gpu`` and
``pytest tests/gpu -m "not gpu"``): whichever imports :mod:`numba.cuda` first wins, and the
other skips with a message saying so.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from numba.core import config

from cutslack.binary import QUBO


def _imported_cuda() -> str | None:
    """Return ``"simulator"``, ``"device"`` or None: what this process imported as :mod:`numba.cuda`."""
    if "numba.cuda" not in sys.modules:
        return None
    return "simulator" if "numba.cuda.simulator_init" in sys.modules else "device"


@pytest.fixture(scope="module")
def cuda_simulator():
    """Run the module's tests with Numba's CUDA simulator on (skip when a device import already happened)."""
    pytest.importorskip("numba_cuda", reason="numba-cuda (the test extra) runs the CUDA simulator")
    if _imported_cuda() == "device":
        pytest.skip("numba.cuda was imported for a device in this process; run the simulator tests on their own")
    old = os.environ.get("NUMBA_ENABLE_CUDASIM")
    old_threads = os.environ.get("NUMBA_NUM_THREADS")
    # reload_config re-reads every NUMBA_* variable: pin the thread count to the pool already
    # running (another test may have changed the variable since), or numba refuses to reload
    os.environ["NUMBA_NUM_THREADS"] = str(config.NUMBA_NUM_THREADS)
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    config.reload_config()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("NUMBA_ENABLE_CUDASIM", None)
        else:
            os.environ["NUMBA_ENABLE_CUDASIM"] = old
        config.reload_config()
        if old_threads is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = old_threads


@pytest.fixture(scope="module")
def device():
    """Skip unless CuPy sees a CUDA device and this process has not imported the simulator."""
    from cutslack.gpu.backend import cupy_available, missing_gpu_parts

    if not cupy_available() or missing_gpu_parts():
        pytest.skip("needs CuPy, numba-cuda and a CUDA device")
    if _imported_cuda() == "simulator" or config.ENABLE_CUDASIM:
        pytest.skip("this process runs the CUDA simulator; run the device tests on their own (pytest -m gpu)")


def random_qubo(n: int, seed: int, *, integer: bool = True, density: float = 1.0) -> QUBO:
    """A random upper-triangular QUBO (integer coefficients in [-5, 5] by default)."""
    rng = np.random.default_rng(seed)
    Q = rng.integers(-5, 6, size=(n, n)).astype(float) if integer else rng.normal(size=(n, n))
    Q *= rng.random((n, n)) < density
    return QUBO(np.triu(Q), 1.5)
