"""Decide once whether CuPy and a CUDA device are usable, and pick the array module.

Library code never imports :mod:`cupy` itself: it calls :func:`get_array_module` on its
inputs (SigPy's habit) so that NumPy arrays in give NumPy out and CuPy arrays in give CuPy out.
"""

from __future__ import annotations

import functools

import numpy as np

from cutslack.errors import BackendUnavailableError

__all__ = ["cupy_available", "get_array_module", "asnumpy", "resolve_backend", "device_quadratic_form"]

_INSTALL = "pip install 'cutslack[gpu]'  (cupy-cuda12x; needs an NVIDIA GPU and driver)"


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
    :class:`BackendUnavailableError` with the install line when it is not.
    """
    b = str(backend).lower()
    if b == "auto":
        return "cupy" if cupy_available() else "numpy"
    if b == "numpy":
        return "numpy"
    if b == "cupy":
        if not cupy_available():
            raise BackendUnavailableError("CuPy with a CUDA device", _INSTALL)
        return "cupy"
    raise ValueError(f"unknown backend {backend!r}; expected 'auto', 'numpy' or 'cupy'")


def device_quadratic_form(U, X):
    """Return row-wise ``x'Ux`` of a CuPy ``(k, n)`` batch ``X`` on the device (CuPy array out).

    ``U`` is a host matrix (dense NumPy or SciPy sparse); it is copied to the device.  The
    NumPy twin is :meth:`cutslack.binary.QUBO.energy` on NumPy input.
    """
    cp = _cupy()
    import cupyx.scipy.sparse as csp
    import scipy.sparse as sp

    X = X.astype(cp.float64)
    Ud = csp.csr_matrix(U) if sp.issparse(U) else cp.asarray(U)
    return ((Ud @ X.T).T * X).sum(axis=1)
