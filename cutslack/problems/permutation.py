"""Helpers shared by the permutation families (QAP, TSP): batched permutation checks and
the one-hot assignment encoding ``x[i * n + k] = 1  <=>  p[i] == k``."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["as_permutations", "permutation_violation", "assignment_constraints",
           "encode_assignment", "decode_assignment"]


def as_permutations(P, n: int):
    """Return ``P`` as a ``(k, n)`` int array and whether it was one vector (entries may be -1)."""
    P = np.asarray(P)
    single = P.ndim == 1
    P2 = P.reshape(1, -1) if single else P
    if P2.ndim != 2 or P2.shape[1] != n:
        raise ValueError(f"solution: expected a permutation of length {n} (or a batch), got shape {P.shape}")
    if P2.dtype.kind == "f":
        if np.any(P2 != np.round(P2)):
            raise ValueError("solution: permutation entries must be integers")
    return P2.astype(np.int64), single


def permutation_violation(P2: np.ndarray, n: int) -> np.ndarray:
    """Return, per row, ``|count(k) - 1|`` for every value ``k`` (out-of-range entries count as missing)."""
    k = P2.shape[0]
    valid = (P2 >= 0) & (P2 < n)
    counts = np.zeros((k, n), dtype=float)
    rows = np.repeat(np.arange(k), n).reshape(k, n)
    np.add.at(counts, (rows[valid], P2[valid]), 1.0)
    return np.abs(counts - 1.0)


def assignment_constraints(n: int):
    """Return ``(A_eq, b_eq)`` of the one-hot rows and columns of an ``n x n`` bit matrix (sparse)."""
    eye = sp.identity(n, format="csr")
    ones = sp.csr_matrix(np.ones((1, n)))
    rows = sp.kron(eye, ones)   # sum_k x[i, k] = 1
    cols = sp.kron(ones, eye)   # sum_i x[i, k] = 1
    return sp.vstack([rows, cols]).tocsr(), np.ones(2 * n)


def encode_assignment(p, n: int) -> np.ndarray:
    """Return the ``n*n`` bit vector of a permutation ``p`` (``x[i*n + p[i]] = 1``)."""
    x = np.zeros((n, n), dtype=np.int64)
    x[np.arange(n), np.asarray(p, dtype=np.int64)] = 1
    return x.reshape(-1)


def decode_assignment(bits, n: int) -> np.ndarray:
    """Return ``p`` with ``p[i] = k`` where row ``i`` of the bit matrix has its single 1, else -1.

    A bit vector that is not a permutation matrix decodes to an array the native problem
    scores as infeasible (a -1 or a repeated value).
    """
    X = np.asarray(bits).reshape(n, n)
    p = np.full(n, -1, dtype=np.int64)
    one = X.sum(axis=1) == 1
    p[one] = np.argmax(X[one], axis=1)
    return p
