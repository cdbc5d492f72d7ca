"""GPU backend selection and the device kernels, each with a CPU twin of the same signature.

* :mod:`cutslack.gpu.backend` — whether CuPy, numba-cuda and a device are usable; the array module.
* :mod:`cutslack.gpu.kernels` — Numba-CUDA annealing, parallel tempering (dense and CSR) and
  Gray-code enumeration (twins of :mod:`cutslack.solvers.qubo.kernels`).
* :mod:`cutslack.gpu.statevector` — the QAOA layer kernels and the other statevector twins of
  :mod:`cutslack.quantum.statevector`.
* :mod:`cutslack.gpu.energy` — batched QUBO energies, array code for NumPy and CuPy alike.

Only this subpackage imports :mod:`cupy` and :mod:`numba.cuda`, and only lazily: importing
this package imports neither.
"""

from cutslack.gpu.backend import asnumpy, cupy_available, get_array_module, resolve_backend

__all__ = ["asnumpy", "cupy_available", "get_array_module", "resolve_backend"]
