"""Batched QUBO energies ``x'Ux + offset`` for a large set of samples, one GEMM per batch of rows.

Array code written once against the array namespace of its input: NumPy arrays run it on the
CPU (BLAS), CuPy arrays on the device (cuBLAS), so the path CI runs is the code the GPU runs.
"""

from __future__ import annotations

import numpy as np

from cutslack.gpu.backend import get_array_module

__all__ = ["qubo_energies", "DEFAULT_BATCH_BYTES"]

#: the rows of a batch are sized so that its ``(rows, n)`` float64 product takes about this much memory
DEFAULT_BATCH_BYTES = 1 << 30


def qubo_energies(U, X, offset: float = 0.0, *, dtype=np.float64, batch_bytes: int = DEFAULT_BATCH_BYTES):
    """Return ``x'Ux + offset`` for every row ``x`` of the ``(k, n)`` batch ``X`` (an array of ``X``'s module).

    ``U`` is the QUBO's matrix (upper triangular or any square matrix: ``x'Ux`` is what is
    computed): dense, SciPy sparse (host) or CuPy sparse (device); a host matrix with a
    device ``X`` is copied to the device.  Each batch of rows costs one matrix product
    ``X_b U`` (a GEMM for dense ``U``) and one fused row-wise dot product; ``dtype`` is the
    arithmetic type (float64: exact for integer coefficients below 2^53).
    """
    xp = get_array_module(X)
    X = xp.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a (k, n) batch, got shape {X.shape}")
    k, n = X.shape
    if U.shape != (n, n):
        raise ValueError(f"U has shape {U.shape}, expected {(n, n)} for samples of length {n}")
    Ux, sparse = _as_module_matrix(U, xp, dtype)
    out = xp.empty(k, dtype=dtype)
    rows = max(1, int(batch_bytes) // max(1, n * np.dtype(dtype).itemsize))
    for start in range(0, k, rows):
        Xb = X[start:start + rows].astype(dtype)
        XU = (Ux @ Xb.T).T if sparse else Xb @ Ux  # rows (Ux)' or x'U: either dotted with x gives x'Ux
        out[start:start + rows] = (XU * Xb).sum(axis=1)
    return out + offset


def _as_module_matrix(U, xp, dtype):
    """Return ``(U as a matrix of module xp of dtype, whether it is sparse)``; sparse stays sparse."""
    import scipy.sparse as sp

    if type(U).__module__.startswith("cupyx"):  # already a device sparse matrix
        return U.astype(dtype), True
    if xp is np:
        return (sp.csr_matrix(U, dtype=dtype), True) if sp.issparse(U) else (np.asarray(U, dtype=dtype), False)
    if sp.issparse(U):
        import cupyx.scipy.sparse as csp

        return csp.csr_matrix(sp.csr_matrix(U, dtype=dtype)), True
    return xp.asarray(U, dtype=dtype), False
