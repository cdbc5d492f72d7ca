"""Randomized iterative sketching solvers for a square sparse system A d = b.

Three sketch-and-project methods (Gower & Richtárik 2015), each run in chunks so the caller
can test its accuracy condition between chunks:

* ``"kaczmarz"`` — randomized Kaczmarz (Strohmer & Vershynin 2009): one row per step,
  sampled with probability ‖a_i‖²/‖A‖_F², ``d ← d + (b_i − a_iᵀd)/‖a_i‖² a_i``;
* ``"block-kaczmarz"`` — randomized block Kaczmarz (Needell & Tropp 2014): a random block of
  rows per step, ``d ← d + A_Bᵀ (A_B A_Bᵀ)⁻¹ (b_B − A_B d)``;
* ``"gaussian"`` — Gaussian sketch-and-project: ``S`` an m×s Gaussian matrix per step,
  ``d ← d + AᵀS (SᵀA AᵀS)⁻¹ Sᵀ(b − A d)``.

A may be sparse (the full KKT matrix) or dense (the reduced Hessian).  The row-action loops
are compiled with Numba: each step touches only the few nonzeros
of its rows (≈ 5–7 on these PDE systems), so in Python the interpreter's overhead per step
would exceed the step's own flops a hundredfold and the method's cost would be Python's.
The Gaussian sketch is dense linear algebra and stays in NumPy (BLAS).

Every function returns the flops it spent (multiply-adds counted as two), the figure
AdaSketch reports per iteration.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

__all__ = ["SketchSolver", "SKETCHES"]

#: the sketch kinds
SKETCHES = ("kaczmarz", "block-kaczmarz", "gaussian")


@numba.njit(cache=True, inline="always")
def _pick_row(cumulative, total, m):  # pragma: no cover - compiled
    """Draw a row with probability proportional to its squared norm (``cumulative``: their running sum)."""
    i = np.searchsorted(cumulative, np.random.random() * total, side="right")
    return m - 1 if i >= m else i


@numba.njit(cache=True)
def _kaczmarz_steps(indptr, indices, data, row_norm2, cumulative, b, d, steps, seed):  # pragma: no cover - compiled
    np.random.seed(seed)
    m = b.shape[0]
    total = cumulative[m - 1]
    for _ in range(steps):
        i = _pick_row(cumulative, total, m)
        s = b[i]
        for k in range(indptr[i], indptr[i + 1]):
            s -= data[k] * d[indices[k]]
        s /= row_norm2[i]
        for k in range(indptr[i], indptr[i + 1]):
            d[indices[k]] += s * data[k]


@numba.njit(cache=True)
def _sparse_row_dot(indptr, indices, data, i, j):  # pragma: no cover - compiled
    a, a_end, c, c_end = indptr[i], indptr[i + 1], indptr[j], indptr[j + 1]
    s = 0.0
    while a < a_end and c < c_end:
        if indices[a] == indices[c]:
            s += data[a] * data[c]
            a += 1
            c += 1
        elif indices[a] < indices[c]:
            a += 1
        else:
            c += 1
    return s


@numba.njit(cache=True)
def _draw_block(perm, block_size):  # pragma: no cover - compiled
    # partial Fisher-Yates: the first block_size entries of perm become a uniform random subset
    m = perm.shape[0]
    for a in range(block_size):
        j = a + np.random.randint(m - a)
        perm[a], perm[j] = perm[j], perm[a]
    return np.sort(perm[:block_size])


@numba.njit(cache=True)
def _block_kaczmarz_steps(indptr, indices, data, b, d, block_size, steps, seed):  # pragma: no cover - compiled
    np.random.seed(seed)
    m = b.shape[0]
    perm = np.arange(m)
    G = np.empty((block_size, block_size))
    r = np.empty(block_size)
    for _ in range(steps):
        rows = _draw_block(perm, block_size)
        for a in range(block_size):
            i = rows[a]
            s = b[i]
            for k in range(indptr[i], indptr[i + 1]):
                s -= data[k] * d[indices[k]]
            r[a] = s
            for c in range(a + 1):
                g = _sparse_row_dot(indptr, indices, data, i, rows[c])
                G[a, c] = g
                G[c, a] = g
        # rows of a nonsingular A are independent, so G is SPD; a tiny shift guards round-off
        for a in range(block_size):
            G[a, a] *= 1.0 + 1e-12
        w = np.linalg.solve(G, r)
        for a in range(block_size):
            i = rows[a]
            for k in range(indptr[i], indptr[i + 1]):
                d[indices[k]] += w[a] * data[k]


@numba.njit(cache=True)
def _dense_kaczmarz_steps(A, row_norm2, cumulative, b, d, steps, seed):  # pragma: no cover - compiled
    np.random.seed(seed)
    m, n = A.shape
    total = cumulative[m - 1]
    for _ in range(steps):
        i = _pick_row(cumulative, total, m)
        s = b[i]
        for j in range(n):
            s -= A[i, j] * d[j]
        s /= row_norm2[i]
        for j in range(n):
            d[j] += s * A[i, j]


@numba.njit(cache=True)
def _dense_block_kaczmarz_steps(A, b, d, block_size, steps, seed):  # pragma: no cover - compiled
    np.random.seed(seed)
    m, n = A.shape
    perm = np.arange(m)
    for _ in range(steps):
        rows = _draw_block(perm, block_size)
        AB = np.empty((block_size, n))
        for a in range(block_size):
            AB[a] = A[rows[a]]
        r = b[rows] - AB @ d
        G = AB @ AB.T
        for a in range(block_size):
            G[a, a] *= 1.0 + 1e-12
        d += AB.T @ np.linalg.solve(G, r)


class SketchSolver:
    """Solve ``A d = b`` for one sparse A by randomized sketching, in chunks, warm-startable.

    Parameters
    ----------
    A : sparse or dense (m, m)
    sketch : {"kaczmarz", "block-kaczmarz", "gaussian"}
    block_size : int
        Rows per block (block Kaczmarz) or columns of S (Gaussian).
    rng : numpy.random.Generator
        The only source of randomness (the compiled loops are seeded from it).
    """

    def __init__(self, A, *, sketch: str = "kaczmarz", block_size: int = 8, rng=None):
        if sketch not in SKETCHES:
            raise ValueError(f"sketch must be one of {SKETCHES}, got {sketch!r}")
        self.dense = not sp.issparse(A)
        if self.dense:
            self.A = np.ascontiguousarray(A, dtype=float)
        else:
            self.A = sp.csr_matrix(A)
            self.A.sort_indices()
        self.m = self.A.shape[0]
        self.sketch = sketch
        self.block_size = int(min(max(block_size, 1), self.m))
        self.rng = np.random.default_rng(rng)
        if self.dense:
            self.row_norm2 = np.einsum("ij,ij->i", self.A, self.A)
            self.nnz = self.A.size
        else:
            self.row_norm2 = np.asarray(self.A.multiply(self.A).sum(axis=1)).ravel()
            self.nnz = self.A.nnz
        self.cumulative = np.cumsum(self.row_norm2)
        self.nnz_per_row = self.nnz / self.m

    def residual(self, d, b) -> np.ndarray:
        """Return ``A d − b``."""
        return self.A @ d - b

    def steps_flops(self, steps: int) -> float:
        """Return the flops of ``steps`` sketch steps (excluding residual checks)."""
        s, z = self.block_size, self.nnz_per_row
        if self.sketch == "kaczmarz":
            return steps * (4.0 * z + 2.0 * np.log2(self.m))
        if self.sketch == "block-kaczmarz":
            return steps * (4.0 * s * z + s * s * z + s ** 3 / 3.0)
        return steps * (2.0 * s * self.nnz + 2.0 * s * self.m + 2.0 * s * s * self.m + s ** 3 / 3.0)

    def run(self, d, b, steps: int) -> float:
        """Advance ``d`` (in place) by ``steps`` sketch steps; return the flops spent."""
        A = self.A
        if steps <= 0:
            return 0.0
        seed = int(self.rng.integers(0, 2 ** 31 - 1))
        if self.dense and self.sketch == "kaczmarz":
            _dense_kaczmarz_steps(A, self.row_norm2, self.cumulative, b, d, int(steps), seed)
        elif self.dense and self.sketch == "block-kaczmarz":
            _dense_block_kaczmarz_steps(A, b, d, self.block_size, int(steps), seed)
        elif self.sketch == "kaczmarz":
            _kaczmarz_steps(A.indptr, A.indices, A.data, self.row_norm2, self.cumulative, b, d, int(steps), seed)
        elif self.sketch == "block-kaczmarz":
            _block_kaczmarz_steps(A.indptr, A.indices, A.data, b, d, self.block_size, int(steps), seed)
        else:
            At = A.T if self.dense else A.T.tocsr()
            for _ in range(int(steps)):
                S = self.rng.standard_normal((self.m, self.block_size))
                SA = np.ascontiguousarray((At @ S).T)  # s × m
                r = S.T @ (b - A @ d)
                w = np.linalg.solve(SA @ SA.T, r)
                d += SA.T @ w
        return self.steps_flops(steps)
