"""Decide once whether CuPy and a CUDA device are usable, and pick the array module.

Library code never imports :mod:`cupy` itself: it calls :func:`get_array_module` on its
inputs (SigPy's habit) so that NumPy arrays in give NumPy out and CuPy arrays in give CuPy out.

The custom kernels (:mod:`cutslack.gpu.kernels`, :mod:`cutslack.gpu.statevector`) are
Numba-CUDA kernels.  With ``NUMBA_ENABLE_CUDASIM=1`` set before :mod:`numba.cuda` is first
imported, Numba's CUDA simulator runs them on the CPU over NumPy arrays: an explicit
``backend="cupy"`` then resolves to the simulator (:func:`device_array_module` is NumPy),
which is how CI checks the kernels' logic without a device.  ``"auto"`` never picks the
simulator.
"""

from __future__ import annotations

import functools

import numpy as np

from cutslack.errors import BackendUnavailableError

__all__ = ["cupy_available", "get_array_module", "asnumpy", "resolve_backend", "device_quadratic_form",
           "cuda_simulator_enabled", "device_array_module", "numba_cuda", "to_device", "synchronize",
           "device_free_memory", "check_device_memory", "missing_gpu_parts"]

_INSTALL = "pip install 'cutslack[gpu]'  (cupy-cuda12x and numba-cuda; needs an NVIDIA GPU and driver)"


@functools.lru_cache(maxsize=1)
def cupy_available() -> bool:
    """Return True when CuPy imports and sees at least one CUDA device (checked once)."""
    try:
        import cupy  # noqa: F401

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def _cupy():
    import cupy

    return cupy


def cuda_simulator_enabled() -> bool:
    """Return True when Numba's CUDA simulator is switched on (``NUMBA_ENABLE_CUDASIM=1``).

    Reads Numba's configuration (it does not import :mod:`numba.cuda`); once :mod:`numba.cuda`
    is imported, the simulator is on only if that import was the simulator's.
    """
    import sys

    from numba.core import config

    if not config.ENABLE_CUDASIM:
        return False
    return "numba.cuda" not in sys.modules or "numba.cuda.simulator_init" in sys.modules


def missing_gpu_parts() -> list:
    """Return what a GPU run lacks here, in words (empty when CuPy, numba-cuda and a device are usable)."""
    missing = []
    try:
        import cupy  # noqa: F401
    except Exception:
        missing.append("CuPy (cupy-cuda12x)")
    else:
        if not cupy_available():
            missing.append("a CUDA device (CuPy sees none)")
    try:
        import importlib.util

        if importlib.util.find_spec("numba_cuda") is None:
            missing.append("numba-cuda")
    except (ImportError, ValueError):
        missing.append("numba-cuda")
    return missing


def numba_cuda():
    """Return :mod:`numba.cuda` (imported lazily; the simulator when ``NUMBA_ENABLE_CUDASIM=1``)."""
    try:
        from numba import cuda
    except ImportError as exc:  # pragma: no cover - numba-cuda missing
        raise BackendUnavailableError(f"numba-cuda ({exc})", _INSTALL) from None
    return cuda


def device_array_module():
    """Return the array module device kernels take: CuPy on a device, NumPy under the CUDA simulator."""
    return np if cuda_simulator_enabled() else _cupy()


def to_device(a, dtype=None):
    """Return a C-contiguous copy of ``a`` in :func:`device_array_module` (on the device; a copy under the simulator too)."""
    xp = device_array_module()
    return xp.array(a, dtype=dtype, order="C", copy=True)


def synchronize() -> None:
    """Wait for the device to finish its queued work (no-op under the simulator)."""
    if not cuda_simulator_enabled():
        _cupy().cuda.Device().synchronize()


def device_free_memory() -> int:
    """Return the free bytes on the current CUDA device (free host memory under the simulator)."""
    if cuda_simulator_enabled():
        import os

        try:
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
            return 8 << 30
    free, _total = _cupy().cuda.Device().mem_info
    return int(free)


def check_device_memory(what: str, nbytes: int, *, memory_fraction: float = 0.8) -> int:
    """Return ``nbytes`` or raise :class:`ProblemTooLargeError` when it exceeds ``memory_fraction`` of free device memory.

    Called before a kernel's arrays are allocated.
    """
    from cutslack.errors import ProblemTooLargeError

    limit = int(memory_fraction * device_free_memory())
    if nbytes > limit:
        raise ProblemTooLargeError(f"{what} on the device", f"{int(nbytes)} bytes",
                                   f"{limit} bytes ({memory_fraction:.0%} of free device memory)")
    return int(nbytes)


def get_array_module(*arrays):
    """Return :mod:`cupy` if any argument is a CuPy array, else :mod:`numpy`."""
    for a in arrays:
        mod = type(a).__module__
        if mod.startswith("cupy"):
            return _cupy()
    return np


def asnumpy(a):
    """Return ``a`` as a NumPy array (copying from the device when it is a CuPy array)."""
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)


def resolve_backend(backend: str = "auto") -> str:
    """Return ``"numpy"`` or ``"cupy"`` for a requested backend.

    ``"auto"`` picks CuPy when a device is usable, else NumPy; ``"cupy"`` raises
    :class:`BackendUnavailableError` naming what is missing (CuPy, numba-cuda, a device) and
    the install line when it is not — unless Numba's CUDA simulator is on, which stands in
    for the device (module docstring).
    """
    b = str(backend).lower()
    if b == "auto":
        return "cupy" if cupy_available() else "numpy"
    if b == "numpy":
        return "numpy"
    if b == "cupy":
        if cuda_simulator_enabled():
            return "cupy"
        missing = missing_gpu_parts()
        if missing:
            raise BackendUnavailableError("GPU backend (missing: " + ", ".join(missing) + ")", _INSTALL)
        return "cupy"
    raise ValueError(f"unknown backend {backend!r}; expected 'auto', 'numpy' or 'cupy'")


def device_quadratic_form(U, X):
    """Return row-wise ``x'Ux`` of a CuPy ``(k, n)`` batch ``X`` on the device (CuPy array out).

    ``U`` is a host matrix (dense NumPy or SciPy sparse); it is copied to the device.  The
    NumPy twin is :meth:`cutslack.binary.QUBO.energy` on NumPy input.
    """
    from cutslack.gpu.energy import qubo_energies

    return qubo_energies(U, X)
