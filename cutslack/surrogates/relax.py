"""Learning to relax: choose the SOR relaxation ω per linear system with a bandit.

Khodak, Chow, Balcan and Talwalkar, "Learning to Relax: Setting Solver Parameters Across a
Sequence of Linear System Instances", ICLR 2024 (arXiv:2310.02246), show that when many
related systems ``A_t x = b_t`` are solved one after another, an adversarial bandit that sees
only the iteration count of each solve picks relaxation parameters whose total cost
approaches that of the best fixed ω in hindsight (Tsallis-INF), and that a contextual bandit
given a scalar feature of each system (the diagonal shift ``c`` of ``A = -Δ + c I``)
approaches the *instance-optimal* ω.  This module has

* the solvers: :func:`sor` (successive over-relaxation) and :func:`ssor_pcg` (conjugate
  gradients preconditioned by symmetric SOR), on ``scipy.sparse`` CSR, stopping at relative
  residual ``‖b - A x‖ / ‖b‖ < tol`` with an iteration cap; a :class:`LinearSolve` says
  whether the tolerance was reached and why not (cap, divergence, CG breakdown);
* the learners: :class:`TsallisINF` (α = 1/2, learning rate ``η_t = 2/√t``, importance-weighted
  loss estimates; Zimmert & Seldin, JMLR 2021) over a grid of ω, and
  :class:`ContextualTsallisINF`, which discretises a scalar context into bins and runs one
  Tsallis-INF per bin (the paper's Tsallis-INF-CB);
* the published setting: :func:`shifted_laplacian` and :func:`random_shifted_laplacians`,
  a sequence of five-point Laplacians on an N×N interior grid plus ``c I`` with
  ``c = -0.15 + 0.6 Beta(a, b)`` and radially truncated Gaussian right-hand sides;
* the glue: :class:`LearnedRelaxation` (and its convenience form :class:`SSORPCG`), a solver
  object whose ``.solve(A, b[, context])`` learns ω across calls; :func:`solve_sequence`,
  which runs any iterable of ``(A, b[, context])`` through it (this is how the Newton solvers'
  inner systems are fed); :func:`grid_costs` and :func:`hindsight_baselines` for the
  comparators (best fixed ω in hindsight, instance-optimal ω over the grid).

Defaults follow the authors' reference code (github.com/mkhodak/learning-to-relax,
``scripts/learning.m``, ``scripts/contextual.m``, ``learners/TsallisINF*.m``): the ω grid
``linspace(1, 1.95, 20)``, tolerance ``1e-8``, iteration cap 10,000, shift distributions
Beta(0.5, 1.5) ("high-variance") and Beta(2, 6) ("low-variance") on ``[-0.15, 0.45]``, the
unscaled ``delsq`` Laplacian (4 on the diagonal) of a 10×10 interior grid, five context bins
on ``[-0.15, 0.65]``.  The loss the learner sees is the normalised iteration count
``(k - 1) / s``, where ``s`` is the running mean of ``k - 1`` over the rounds so far (as the
reference code normalises); pass ``loss_scale`` (e.g. the iteration cap, as in the paper's
analysis, which needs losses in ``[0, 1]``) to divide by a fixed number instead.

The sweeps and triangular solves are Numba kernels: SOR and the SSOR preconditioner are
sequential Gauss–Seidel-type recurrences (each unknown uses the ones just updated), which
neither NumPy nor SciPy vectorises (``scipy.sparse.linalg.spsolve_triangular`` costs a Python
call and a CSR conversion per sweep, which dominates for the thousands of small solves a
sequence needs); each whole solve (all iterations and the residual checks) runs inside one
compiled call.

Measured (``benchmarks/relax.py``, 1,000 systems, N = 10, results in
``benchmarks/results/relax.md``): with SSOR-PCG, whose iteration count varies mildly with ω,
Tsallis-INF ends within 10 % of the best fixed ω in hindsight and well below ω = 1.8; with
plain SOR, where a poor ω costs several times the best one, 1,000 systems are not enough
for the bandit's exploration to pay off against the best fixed ω (it still beats ω = 1.8
when 1.8 is not near-optimal); at the paper's horizon of 5,000 systems
(``benchmarks/results/relax_long.md``) Tsallis-INF is 13–18 % and the contextual bandit
1–8 % above the best fixed ω.

Example
-------
>>> from cutslack.surrogates.relax import random_shifted_laplacians, solve_sequence
>>> systems = list(random_shifted_laplacians(10, 50, rng=0))
>>> learned = solve_sequence(systems, policy="bandit", rng=1)
>>> fixed = solve_sequence(systems, policy=1.0)           # Gauss–Seidel
>>> bool(learned.total < fixed.total), bool(learned.converged.all())
(True, True)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numba
import numpy as np
import scipy.sparse as sp

from cutslack.errors import InvalidInstanceError
from cutslack.problems.base import as_rng

__all__ = [
    "DEFAULT_OMEGAS", "SHIFT_DISTRIBUTIONS", "LinearSolve", "sor", "ssor_pcg",
    "tsallis_inf_probabilities", "TsallisINF", "ContextualTsallisINF",
    "shifted_laplacian", "random_shifted_laplacians",
    "LearnedRelaxation", "SSORPCG", "SequenceResult", "solve_sequence",
    "grid_costs", "hindsight_baselines",
]

DEFAULT_OMEGAS = np.linspace(1.0, 1.95, 20)
"""The ω grid of the reference experiments: 20 points from 1 to 1.95 (read-only)."""
DEFAULT_OMEGAS.setflags(write=False)

SHIFT_DISTRIBUTIONS = {"high-variance": (0.5, 1.5), "low-variance": (2.0, 6.0)}
"""Beta parameters of the diagonal shift ``c = -0.15 + 0.6 Beta(a, b)`` of the published setting."""

_METHODS = ("sor", "ssor-pcg")
_REASONS = ("converged", "max_iter", "diverged", "breakdown")


# --- solvers -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LinearSolve:
    """The outcome of one solve of ``A x = b``.

    ``iterations`` counts SOR sweeps or CG iterations; ``residual`` is the true relative
    residual ``‖b - A x‖ / ‖b‖`` of the returned ``x``; ``converged`` says whether it fell
    below ``tol``; ``reason`` is ``"converged"``, ``"max_iter"`` (cap reached),
    ``"diverged"`` (non-finite iterate) or ``"breakdown"`` (CG met ``pᵀAp ≤ 0`` or
    ``rᵀM⁻¹r ≤ 0``: ``A`` is not positive definite).  ``cost`` is what a learner is charged:
    the iterations if converged, else the cap.
    """

    x: np.ndarray
    iterations: int
    converged: bool
    residual: float
    omega: float
    method: str
    reason: str
    max_iter: int

    @property
    def cost(self) -> int:
        return self.iterations if self.converged else self.max_iter


def _check_omega(omega) -> float:
    if isinstance(omega, bool) or not isinstance(omega, numbers.Real) or not math.isfinite(omega) \
            or not 0.0 < omega < 2.0:
        raise ValueError(f"omega must be a real number in the open interval (0, 2), got {omega!r}")
    return float(omega)


def _check_controls(tol, max_iter) -> tuple[float, int]:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not (tol > 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    return float(tol), int(max_iter)


def _check_system(A, b, x0=None, *, symmetric=False):
    """Return ``(csr, diag, b, x0)`` as float64 arrays after validating shapes and values.

    A canonical float64 CSR matrix is used as is (never written to); anything else is
    converted once.
    """
    if not sp.issparse(A):
        try:
            A = np.asarray(A, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InvalidInstanceError("A", f"must be a numeric matrix ({exc})") from None
        if A.ndim != 2:
            raise InvalidInstanceError("A", f"must be 2-dimensional, got shape {A.shape}")
    if A.shape[0] != A.shape[1]:
        raise InvalidInstanceError("A", f"must be square, got shape {A.shape}")
    if not (sp.issparse(A) and A.format == "csr" and A.dtype == np.float64 and A.has_canonical_format):
        A = sp.csr_matrix(A, dtype=np.float64, copy=True)
        A.sum_duplicates()
        A.sort_indices()
    n = A.shape[0]
    if n == 0:
        raise InvalidInstanceError("A", "must have at least one row")
    if not np.all(np.isfinite(A.data)):
        raise InvalidInstanceError("A", "contains NaN or infinite entries")
    diag = _diagonal(A.indptr, A.indices, A.data, n)
    if np.any(diag == 0):
        raise InvalidInstanceError("A", f"diagonal entry {int(np.flatnonzero(diag == 0)[0])} is zero "
                                        "(SOR divides by the diagonal)")
    if symmetric:
        if np.any(diag < 0):
            raise InvalidInstanceError("A", "SSOR-PCG needs a positive diagonal (A symmetric positive definite)")
        asym = _asymmetry(A.indptr, A.indices, A.data)
        if asym > 1e-12 * max(float(np.abs(A.data).max()), 1.0):
            raise InvalidInstanceError("A", f"must be symmetric for SSOR-PCG (max |A - Aᵀ| = {asym:.3g})")
    b = None if sp.issparse(b) else np.array(b, dtype=np.float64, copy=True)
    if b is None or b.shape != (n,):
        shape = None if b is None else b.shape
        raise InvalidInstanceError("b", f"must be a vector of length {n} (the order of A), got shape {shape}")
    if not np.all(np.isfinite(b)):
        raise InvalidInstanceError("b", "contains NaN or infinite entries")
    if x0 is None:
        x = np.zeros(n)
    else:
        x = np.array(x0, dtype=np.float64, copy=True)
        if x.shape != (n,) or not np.all(np.isfinite(x)):
            raise InvalidInstanceError("x0", f"must be a finite vector of length {n}, got shape {x.shape}")
    return A, diag, b, x


@numba.njit(cache=True)
def _diagonal(indptr, indices, data, n):
    diag = np.zeros(n)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            if indices[p] == i:
                diag[i] = data[p]
    return diag


@numba.njit(cache=True)
def _asymmetry(indptr, indices, data):
    """``max |a_ij - a_ji|`` of a CSR matrix with sorted indices (binary search for ``a_ji``)."""
    worst = 0.0
    for i in range(indptr.shape[0] - 1):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            lo, hi = indptr[j], indptr[j + 1]
            while lo < hi:
                mid = (lo + hi) // 2
                if indices[mid] < i:
                    lo = mid + 1
                else:
                    hi = mid
            mirror = data[lo] if lo < indptr[j + 1] and indices[lo] == i else 0.0
            worst = max(worst, abs(data[p] - mirror))
    return worst


@numba.njit(cache=True)
def _residual_norm(indptr, indices, data, b, x):
    total = 0.0
    for i in range(b.shape[0]):
        s = b[i]
        for p in range(indptr[i], indptr[i + 1]):
            s -= data[p] * x[indices[p]]
        total += s * s
    return math.sqrt(total)


@numba.njit(cache=True)
def _sor_kernel(indptr, indices, data, diag, b, x, omega, tol, max_iter, scale):
    """SOR sweeps in place on ``x``; returns (iterations, relative residual, reason code)."""
    n = b.shape[0]
    res = _residual_norm(indptr, indices, data, b, x) / scale
    if res < tol:
        return 0, res, 0
    for k in range(1, max_iter + 1):
        for i in range(n):
            # x_i + ω r_i / a_ii (r_i the current residual) = (1 - ω) x_i + ω (b_i - Σ_{j≠i} a_ij x_j) / a_ii
            s = b[i]
            for p in range(indptr[i], indptr[i + 1]):
                s -= data[p] * x[indices[p]]
            x[i] += omega * s / diag[i]
        res = _residual_norm(indptr, indices, data, b, x) / scale
        if not math.isfinite(res):
            return k, res, 2
        if res < tol:
            return k, res, 0
    return max_iter, res, 1


@numba.njit(cache=True)
def _ssor_apply(indptr, indices, data, diag, omega, r, out):
    """``out = M⁻¹ r`` for ``M = (D + ωL) D⁻¹ (D + ωU) / (ω(2 - ω))``: a forward then a backward sweep."""
    n = r.shape[0]
    for i in range(n):
        s = r[i]
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j < i:
                s -= omega * data[p] * out[j]
        out[i] = s / diag[i]
    factor = omega * (2.0 - omega)
    for i in range(n - 1, -1, -1):
        s = diag[i] * out[i]
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j > i:
                s -= omega * data[p] * out[j]
        out[i] = s / diag[i]
    for i in range(n):
        out[i] *= factor


@numba.njit(cache=True)
def _matvec(indptr, indices, data, v, out):
    for i in range(v.shape[0]):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * v[indices[p]]
        out[i] = s


@numba.njit(cache=True)
def _pcg_kernel(indptr, indices, data, diag, b, x, omega, tol, max_iter, scale):
    """SSOR-preconditioned CG in place on ``x``; returns (iterations, relative residual, reason code).

    Convergence is checked on the recursive residual and confirmed on the true one (as
    MATLAB's ``pcg`` does); if the true residual disagrees, the recursion restarts from it.
    """
    n = b.shape[0]
    r = np.empty(n)
    _matvec(indptr, indices, data, x, r)
    for i in range(n):
        r[i] = b[i] - r[i]
    res = math.sqrt(np.dot(r, r)) / scale
    if res < tol:
        return 0, res, 0
    z = np.empty(n)
    q = np.empty(n)
    _ssor_apply(indptr, indices, data, diag, omega, r, z)
    p = z.copy()
    rz = np.dot(r, z)
    if not rz > 0.0:
        return 0, res, 3
    for k in range(1, max_iter + 1):
        _matvec(indptr, indices, data, p, q)
        pq = np.dot(p, q)
        if not pq > 0.0:
            return k, res, 3
        alpha = rz / pq
        for i in range(n):
            x[i] += alpha * p[i]
            r[i] -= alpha * q[i]
        res = math.sqrt(np.dot(r, r)) / scale
        if not math.isfinite(res):
            return k, res, 2
        restart = False
        if res < tol:
            true_res = _residual_norm(indptr, indices, data, b, x) / scale
            if true_res < tol:
                return k, true_res, 0
            _matvec(indptr, indices, data, x, r)
            for i in range(n):
                r[i] = b[i] - r[i]
            res = true_res
            restart = True
        _ssor_apply(indptr, indices, data, diag, omega, r, z)
        rz_new = np.dot(r, z)
        if not rz_new > 0.0:
            return k, res, 3
        beta = 0.0 if restart else rz_new / rz
        for i in range(n):
            p[i] = z[i] + beta * p[i]
        rz = rz_new
    return max_iter, res, 1


def _run(kernel, method, A, b, omega, x0, tol, max_iter, symmetric) -> LinearSolve:
    omega = _check_omega(omega)
    tol, max_iter = _check_controls(tol, max_iter)
    return _solve_checked(kernel, method, *_check_system(A, b, x0, symmetric=symmetric), omega, tol, max_iter)


def _solve_checked(kernel, method, A, diag, b, x, omega, tol, max_iter) -> LinearSolve:
    """Run a kernel on validated data (``x`` is overwritten)."""
    bnorm = float(np.linalg.norm(b))
    scale = bnorm if bnorm > 0 else 1.0
    k, _, code = kernel(A.indptr, A.indices, A.data, diag, b, x, omega, tol, max_iter, scale)
    finite = bool(np.all(np.isfinite(x)))
    residual = _residual_norm(A.indptr, A.indices, A.data, b, x) / scale if finite else math.inf
    return LinearSolve(x=x, iterations=int(k), converged=code == 0, residual=float(residual), omega=omega,
                       method=method, reason=_REASONS[code], max_iter=max_iter)


def sor(A, b, omega: float, *, x0=None, tol: float = 1e-8, max_iter: int = 10_000) -> LinearSolve:
    """Solve ``A x = b`` by successive over-relaxation (forward sweeps).

    Each sweep updates ``x_i ← (1 - ω) x_i + ω (b_i - Σ_{j≠i} a_ij x_j) / a_ii`` in index
    order; ω = 1 is Gauss–Seidel.  Stops when ``‖b - A x‖ / ‖b‖ < tol`` (checked after every
    sweep) or after ``max_iter`` sweeps.  Converges for every ω in (0, 2) when ``A`` is
    symmetric positive definite (Ostrowski–Reich).

    Parameters
    ----------
    A : scipy.sparse matrix or array_like, shape (n, n)
        Square with a non-zero diagonal.
    b : array_like, shape (n,)
    omega : float
        Relaxation in the open interval (0, 2).
    x0 : array_like, optional
        Starting point (zeros by default).
    tol, max_iter
        Relative residual tolerance and sweep cap.

    Returns
    -------
    LinearSolve

    Raises
    ------
    InvalidInstanceError
        ``A`` not square, zero diagonal, NaN; ``b`` or ``x0`` of the wrong length.
    ValueError
        ω outside (0, 2), non-positive ``tol`` or ``max_iter``.
    """
    return _run(_sor_kernel, "sor", A, b, omega, x0, tol, max_iter, symmetric=False)


def ssor_pcg(A, b, omega: float, *, x0=None, tol: float = 1e-8, max_iter: int = 10_000) -> LinearSolve:
    """Solve symmetric positive definite ``A x = b`` by conjugate gradients with an SSOR preconditioner.

    The preconditioner is ``M = (D + ωL) D⁻¹ (D + ωU) / (ω(2 - ω))`` (``D``, ``L``, ``U`` the
    diagonal, strict lower and strict upper parts of ``A``), applied by one forward and one
    backward sweep.  Stops when ``‖b - A x‖ / ‖b‖ < tol`` or after ``max_iter`` iterations;
    a ``pᵀAp ≤ 0`` breakdown (``A`` not positive definite) ends the solve with
    ``reason="breakdown"``.  Parameters, returns and errors as :func:`sor`; ``A`` must also
    be symmetric with a positive diagonal (:class:`InvalidInstanceError` otherwise).
    """
    return _run(_pcg_kernel, "ssor-pcg", A, b, omega, x0, tol, max_iter, symmetric=True)


_SOLVERS = {"sor": sor, "ssor-pcg": ssor_pcg}
_KERNELS = {"sor": (_sor_kernel, False), "ssor-pcg": (_pcg_kernel, True)}


def _check_method(method: str) -> str:
    key = str(method).lower()
    if key not in _SOLVERS:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(_METHODS)}")
    return key


# --- bandits -----------------------------------------------------------------------------

def _check_grid(omegas) -> np.ndarray:
    grid = np.array(omegas, dtype=float).reshape(-1) if np.ndim(omegas) <= 1 else None
    if grid is None or grid.size == 0:
        raise ValueError("omegas must be a non-empty 1-D grid of relaxation parameters")
    if not np.all(np.isfinite(grid)) or np.any(grid <= 0) or np.any(grid >= 2):
        raise ValueError(f"every omega in the grid must lie in the open interval (0, 2), got {grid}")
    grid.setflags(write=False)
    return grid


def tsallis_inf_probabilities(cumulative_losses, eta: float) -> np.ndarray:
    """The Tsallis-INF (α = 1/2) sampling distribution for estimated cumulative losses ``L``.

    ``p_i = 4 / (η (L_i - x))²`` with the normaliser ``x < min L`` fixed by ``Σ p_i = 1``,
    found by Newton's method started to the right of the root (``x = min L - 2/η``, where the
    sum is ≥ 1), from which the iterates decrease monotonically to it.
    """
    L = np.asarray(cumulative_losses, dtype=float)
    L = L - L.min()
    x = -2.0 / eta
    for _ in range(100):
        w = 4.0 / (eta * (L - x)) ** 2
        excess = w.sum() - 1.0
        if abs(excess) < 1e-12:
            break
        x -= excess / (eta * np.sum(w ** 1.5))
    return w / w.sum()


class TsallisINF:
    """Tsallis-INF bandit (α = 1/2) over a grid of relaxation parameters.

    Round ``t`` (1-based) samples an index from :func:`tsallis_inf_probabilities` with
    ``η_t = 2/√t`` and the importance-weighted cumulative loss estimates; :meth:`update`
    adds ``ℓ / p`` to the chosen arm, where ``ℓ = (k - 1)`` is the iteration count minus one
    and all estimates are divided by the loss scale when the distribution is formed (the
    running mean of ``k - 1``, or ``loss_scale`` when given).

    Parameters
    ----------
    omegas : array_like
        The grid of ω, each in (0, 2).
    rng : None, int or numpy.random.Generator
        All sampling goes through it: same seed and same costs → same choices.
    loss_scale : float, optional
        Fixed divisor of ``k - 1`` (e.g. the iteration cap); default the running mean.
    """

    def __init__(self, omegas=DEFAULT_OMEGAS, *, rng=None, loss_scale: float | None = None):
        self.omegas = _check_grid(omegas)
        if loss_scale is not None and not (isinstance(loss_scale, numbers.Real) and loss_scale > 0
                                           and math.isfinite(loss_scale)):
            raise ValueError(f"loss_scale must be a positive finite number, got {loss_scale!r}")
        self.loss_scale = loss_scale
        self._rng = as_rng(rng)
        self._estimates = np.zeros(self.omegas.size)
        self._raw_sum = 0.0
        self.rounds = 0
        self._pending: tuple[int, float] | None = None
        self.choices: list[int] = []
        self.costs: list[float] = []

    def _scale(self) -> float:
        if self.loss_scale is not None:
            return float(self.loss_scale)
        mean = self._raw_sum / self.rounds if self.rounds else 0.0
        return mean if mean > 0 else 1.0

    def probabilities(self) -> np.ndarray:
        """The distribution the next :meth:`select` samples from."""
        eta = 2.0 / math.sqrt(self.rounds + 1)
        return tsallis_inf_probabilities(self._estimates / self._scale(), eta)

    def select(self) -> float:
        """Sample the ω for the next system (call :meth:`update` with its cost before the next)."""
        probs = self.probabilities()
        index = int(self._rng.choice(probs.size, p=probs))
        self._pending = (index, float(probs[index]))
        return float(self.omegas[index])

    def update(self, iterations: float) -> None:
        """Charge the ω last selected with ``iterations`` (the solve's cost, ≥ 1 when it iterated)."""
        if self._pending is None:
            raise RuntimeError("update() called without a preceding select()")
        if not (isinstance(iterations, numbers.Real) and math.isfinite(iterations) and iterations >= 0):
            raise ValueError(f"iterations must be a finite non-negative number, got {iterations!r}")
        index, prob = self._pending
        raw = max(float(iterations) - 1.0, 0.0)
        self._estimates[index] += raw / prob
        self._raw_sum += raw
        self.rounds += 1
        self.choices.append(index)
        self.costs.append(float(iterations))
        self._pending = None


class ContextualTsallisINF:
    """Tsallis-INF-CB: the context range cut into ``bins`` equal bins, one :class:`TsallisINF` each.

    A context is assigned to the bin whose centre is nearest (contexts outside the range go
    to the end bins).  All bins draw from one generator, so a seed fixes every choice.

    Parameters
    ----------
    omegas : array_like
        The grid of ω.
    bins : int
        Number of context bins (reference: 5).
    context_range : (float, float)
        The interval the bins cover (reference: the shift range ``(-0.15, 0.65)``).
    rng, loss_scale
        As :class:`TsallisINF`.
    """

    def __init__(self, omegas=DEFAULT_OMEGAS, *, bins: int = 5, context_range=(-0.15, 0.65), rng=None,
                 loss_scale: float | None = None):
        if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 1:
            raise ValueError(f"bins must be a positive integer, got {bins!r}")
        lo, hi = (float(v) for v in context_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"context_range must be a finite interval (lo, hi) with lo < hi, got {context_range!r}")
        rng = as_rng(rng)
        self.omegas = _check_grid(omegas)
        self.centres = lo + (hi - lo) * (np.arange(bins) + 0.5) / bins
        self.learners = [TsallisINF(self.omegas, rng=rng, loss_scale=loss_scale) for _ in range(bins)]
        self._active: int | None = None

    def bin_of(self, context: float) -> int:
        """Index of the bin a context falls in."""
        if not (isinstance(context, numbers.Real) and math.isfinite(context)):
            raise ValueError(f"context must be a finite real number, got {context!r}")
        return int(np.argmin(np.abs(self.centres - float(context))))

    def select(self, context: float) -> float:
        """Sample the ω for a system with this context."""
        self._active = self.bin_of(context)
        return self.learners[self._active].select()

    def update(self, iterations: float) -> None:
        """Charge the bin and ω last selected."""
        if self._active is None:
            raise RuntimeError("update() called without a preceding select()")
        self.learners[self._active].update(iterations)
        self._active = None


# --- the published setting -------------------------------------------------------------

def shifted_laplacian(n: int, shift: float = 0.0) -> sp.csr_matrix:
    """The five-point Laplacian on an ``n × n`` interior grid plus ``shift · I`` (CSR, order n²).

    Unscaled, as MATLAB's ``delsq(numgrid('S', n + 2))``: 4 on the diagonal, -1 for each of
    the four neighbours, homogeneous Dirichlet boundary.  Positive definite for
    ``shift > -8 sin²(π / (2(n + 1)))``.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise InvalidInstanceError("n", f"must be a positive integer grid size, got {n!r}")
    if not (isinstance(shift, numbers.Real) and math.isfinite(shift)):
        raise InvalidInstanceError("shift", f"must be a finite real number, got {shift!r}")
    n = int(n)
    T = sp.diags([-np.ones(n - 1), 2.0 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    eye = sp.identity(n)
    A = sp.kron(eye, T) + sp.kron(T, eye) + float(shift) * sp.identity(n * n)
    return sp.csr_matrix(A)


def _truncated_gaussian(size: int, rng: np.random.Generator) -> np.ndarray:
    """A standard Gaussian vector conditioned on ``‖b‖ ≤ √size`` (rejection sampling)."""
    while True:
        b = rng.standard_normal(size)
        if b @ b <= size:
            return b


def random_shifted_laplacians(n: int, count: int, *, shift="high-variance",
                              rng=None) -> Iterator[tuple[sp.csr_matrix, np.ndarray, float]]:
    """Yield ``count`` systems ``(A, b, c)`` of the published setting, lazily.

    ``A = shifted_laplacian(n, c)`` with ``c = -0.15 + 0.6 Beta(a, b)``, ``(a, b)`` from
    :data:`SHIFT_DISTRIBUTIONS` (``"high-variance"``: Beta(0.5, 1.5), ``"low-variance"``:
    Beta(2, 6)) or given as a pair; ``b`` a radially truncated standard Gaussian
    (``‖b‖ ≤ √n²``); the context is ``c``.  Arguments are checked on the call.
    """
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
        raise InvalidInstanceError("count", f"must be a non-negative integer, got {count!r}")
    base = shifted_laplacian(n)
    if isinstance(shift, str):
        if shift not in SHIFT_DISTRIBUTIONS:
            raise ValueError(f"unknown shift distribution {shift!r}; valid: {', '.join(SHIFT_DISTRIBUTIONS)}")
        a, b_param = SHIFT_DISTRIBUTIONS[shift]
    else:
        a, b_param = (float(v) for v in shift)
        if not (a > 0 and b_param > 0):
            raise ValueError(f"Beta parameters of the shift must be positive, got {shift!r}")
    gen = as_rng(rng)
    size = base.shape[0]
    identity = sp.identity(size, format="csr")

    def systems():
        for _ in range(int(count)):
            c = -0.15 + 0.6 * float(gen.beta(a, b_param))
            yield sp.csr_matrix(base + c * identity), _truncated_gaussian(size, gen), c

    return systems()


# --- learned solvers and sequences ---------------------------------------------------------

class LearnedRelaxation:
    """A linear solver whose ω is chosen per call by a learner fed the iteration counts.

    Parameters
    ----------
    method : {"sor", "ssor-pcg"}
    policy : "bandit", "contextual", float, or an object with ``select``/``update``
        ``"bandit"``: :class:`TsallisINF`; ``"contextual"``: :class:`ContextualTsallisINF`
        (each :meth:`solve` then needs a ``context``); a float: that fixed ω; an object: a
        learner of your own with ``select()`` (or ``select(context)``) returning ω and
        ``update(cost)``.
    omegas, rng, loss_scale, bins, context_range
        Passed to the learner.
    tol, max_iter
        Passed to the solver.

    Attributes
    ----------
    history : list of LinearSolve
        Every solve so far, with the ω it used (solutions are not kept).
    """

    def __init__(self, method: str = "sor", *, policy="bandit", omegas=DEFAULT_OMEGAS, rng=None,
                 tol: float = 1e-8, max_iter: int = 10_000, loss_scale: float | None = None,
                 bins: int = 5, context_range=(-0.15, 0.65)):
        self.method = _check_method(method)
        self.tol, self.max_iter = _check_controls(tol, max_iter)
        self.contextual = False
        self.learner = None
        self.fixed_omega: float | None = None
        if isinstance(policy, str):
            key = policy.lower()
            if key == "bandit":
                self.learner = TsallisINF(omegas, rng=rng, loss_scale=loss_scale)
            elif key == "contextual":
                self.learner = ContextualTsallisINF(omegas, bins=bins, context_range=context_range, rng=rng,
                                                    loss_scale=loss_scale)
                self.contextual = True
            else:
                raise ValueError(f"unknown policy {policy!r}; valid: 'bandit', 'contextual', a float ω, "
                                 "or a learner with select/update")
            self.policy = key
        elif isinstance(policy, numbers.Real) and not isinstance(policy, bool):
            self.fixed_omega = _check_omega(policy)
            self.policy = f"fixed ω={self.fixed_omega:g}"
        elif callable(getattr(policy, "select", None)) and callable(getattr(policy, "update", None)):
            self.learner = policy
            self.contextual = isinstance(policy, ContextualTsallisINF)
            self.policy = type(policy).__name__
        else:
            raise ValueError(f"policy must be 'bandit', 'contextual', a float ω or a learner, got {policy!r}")
        self.history: list[LinearSolve] = []

    def solve(self, A, b, context: float | None = None, *, x0=None) -> LinearSolve:
        """Solve ``A x = b`` with the ω the policy picks, then report the cost to the learner."""
        if self.contextual and context is None:
            raise ValueError("the contextual policy needs a context for every system")
        if self.fixed_omega is not None:
            omega = self.fixed_omega
        elif self.contextual:
            omega = self.learner.select(context)
        else:
            omega = self.learner.select()
        # a solve that raises (bad input) charges nothing; the next select() replaces the pending choice
        out = _SOLVERS[self.method](A, b, omega, x0=x0, tol=self.tol, max_iter=self.max_iter)
        if self.learner is not None:
            self.learner.update(out.cost)
        self.history.append(LinearSolve(x=np.empty(0), iterations=out.iterations, converged=out.converged,
                                        residual=out.residual, omega=out.omega, method=out.method,
                                        reason=out.reason, max_iter=out.max_iter))
        return out


class SSORPCG(LearnedRelaxation):
    """SSOR-preconditioned CG that learns ω across its ``solve`` calls (Tsallis-INF by default).

    >>> from cutslack.surrogates.relax import SSORPCG, random_shifted_laplacians
    >>> solver = SSORPCG(rng=0)
    >>> outs = [solver.solve(A, b) for A, b, _ in random_shifted_laplacians(8, 20, rng=1)]
    >>> all(o.converged for o in outs), len(solver.history)
    (True, 20)
    """

    def __init__(self, *, policy="bandit", **options):
        super().__init__("ssor-pcg", policy=policy, **options)


@dataclass(frozen=True)
class SequenceResult:
    """Per-system record of a sequence solved by :func:`solve_sequence`.

    ``costs`` are the iterations charged (the cap for a system that did not converge);
    ``total`` is their sum; ``failures`` counts systems that did not converge.
    """

    method: str
    policy: str
    omegas: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    costs: np.ndarray
    residuals: np.ndarray
    contexts: np.ndarray | None
    solutions: list = field(default_factory=list, repr=False)

    @property
    def total(self) -> int:
        return int(self.costs.sum())

    @property
    def failures(self) -> int:
        return int((~self.converged).sum())

    def __len__(self) -> int:
        return int(self.costs.size)


def _unpack(system, index: int):
    if not isinstance(system, (tuple, list)) or len(system) not in (2, 3):
        raise ValueError(f"system {index} must be a tuple (A, b) or (A, b, context), got {type(system).__name__}")
    A, b = system[0], system[1]
    context = system[2] if len(system) == 3 else None
    return A, b, context


def solve_sequence(systems: Iterable, *, method: str = "sor", policy="bandit", omegas=DEFAULT_OMEGAS, rng=None,
                   tol: float = 1e-8, max_iter: int = 10_000, loss_scale: float | None = None, bins: int = 5,
                   context_range=(-0.15, 0.65), keep_solutions: bool = False) -> SequenceResult:
    """Solve a sequence of systems in order, choosing ω for each by ``policy``.

    Parameters
    ----------
    systems : iterable of (A, b) or (A, b, context)
        Any iterable, consumed once (a generator is fine): the shifted Laplacians of
        :func:`random_shifted_laplacians`, or the Newton systems of a PDE solver.
    method, policy, omegas, rng, tol, max_iter, loss_scale, bins, context_range
        As :class:`LearnedRelaxation`.
    keep_solutions : bool
        Keep every solution vector in ``.solutions``.

    Returns
    -------
    SequenceResult
    """
    solver = LearnedRelaxation(method, policy=policy, omegas=omegas, rng=rng, tol=tol, max_iter=max_iter,
                               loss_scale=loss_scale, bins=bins, context_range=context_range)
    contexts, solutions, have_context = [], [], False
    for index, system in enumerate(systems):
        A, b, context = _unpack(system, index)
        out = solver.solve(A, b, context)
        contexts.append(np.nan if context is None else float(context))
        have_context |= context is not None
        if keep_solutions:
            solutions.append(out.x)
    hist = solver.history
    return SequenceResult(
        method=solver.method, policy=solver.policy,
        omegas=np.array([h.omega for h in hist]), iterations=np.array([h.iterations for h in hist], dtype=np.int64),
        converged=np.array([h.converged for h in hist], dtype=bool),
        costs=np.array([h.cost for h in hist], dtype=np.int64), residuals=np.array([h.residual for h in hist]),
        contexts=np.array(contexts) if have_context else None, solutions=solutions)


def grid_costs(systems: Iterable, omegas=DEFAULT_OMEGAS, *, method: str = "sor", tol: float = 1e-8,
               max_iter: int = 10_000) -> np.ndarray:
    """The cost (iterations, the cap if not converged) of every system at every ω of the grid, shape (T, K)."""
    grid = _check_grid(omegas)
    method = _check_method(method)
    tol, max_iter = _check_controls(tol, max_iter)
    kernel, symmetric = _KERNELS[method]
    rows = []
    for index, system in enumerate(systems):
        A, b, _ = _unpack(system, index)
        A, diag, b, x0 = _check_system(A, b, symmetric=symmetric)  # validated once for the whole grid
        rows.append([_solve_checked(kernel, method, A, diag, b, x0.copy(), float(w), tol, max_iter).cost
                     for w in grid])
    return np.array(rows, dtype=np.int64).reshape(len(rows), grid.size)


def hindsight_baselines(costs, omegas=DEFAULT_OMEGAS) -> dict:
    """The comparators of a cost table from :func:`grid_costs`.

    Returns a dict with ``best_fixed_omega`` and ``best_fixed_total`` (the single grid ω with
    the least total over the sequence, chosen in hindsight), ``instance_optimal_total`` and
    ``instance_optimal_omegas`` (each system's best grid ω), and ``totals`` per grid ω.
    """
    grid = _check_grid(omegas)
    table = np.asarray(costs)
    if table.ndim != 2 or table.shape[1] != grid.size:
        raise ValueError(f"costs must have shape (T, {grid.size}), got {table.shape}")
    totals = table.sum(axis=0)
    best = int(np.argmin(totals))
    return {"best_fixed_omega": float(grid[best]), "best_fixed_total": int(totals[best]),
            "instance_optimal_total": int(table.min(axis=1).sum()),
            "instance_optimal_omegas": grid[np.argmin(table, axis=1)], "totals": totals}
