"""GPU backend selection (and, as later issues add them, CuPy kernels with NumPy twins).

Only this subpackage imports :mod:`cupy`, and only lazily.
"""

from cutslack.gpu.backend import asnumpy, cupy_available, get_array_module, resolve_backend

__all__ = ["asnumpy", "cupy_available", "get_array_module", "resolve_backend"]
