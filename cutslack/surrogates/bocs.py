"""BOCS: Bayesian optimisation of combinatorial structures, the peer FMQA is measured against.

Baptista & Poloczek, *Bayesian Optimization of Combinatorial Structures*, ICML 2018: the
black box is modelled as a quadratic in the bits, ::

    f(x) ≈ α0 + Σ_i α_i x_i + Σ_{i<j} α_ij x_i x_j,

a sparse Bayesian linear regression on those ``n + n(n−1)/2`` features with the horseshoe
prior (Carvalho, Polson & Scott 2010) on ``α``.  Each round draws *one* ``α`` from the
posterior (Thompson sampling) and minimises that quadratic — a QUBO — with the same samplers
(and, under explicit constraints, the same slack-free Lagrangian proposals) as FMQA
(:func:`~cutslack.surrogates.fmqa.qubo_surrogate_search`), then evaluates the best point not
evaluated before.

The posterior is sampled by the auxiliary-variable Gibbs sampler of Makalic & Schmidt
(*A simple sampler for the horseshoe estimator*, IEEE SPL 2016), the one the BOCS code uses:
``λ_j² | ν_j ~ IG(1/2, 1/ν_j)``, ``τ² | ξ ~ IG(1/2, 1/ξ)`` make every conditional an
inverse-gamma or a Gaussian.  Values are standardised (centred, unit variance) and ``α0`` is
the mean, as in BOCS.  The chain is kept across rounds: ``burn_in`` sweeps on the initial
design, then ``gibbs_steps`` more per round on the grown data set, and the last state is the
round's Thompson draw.  BOCS's optional ``λ‖x‖₁`` acquisition term is left out (λ = 0).
Differences from the paper: no SDP relaxation (the QUBO samplers stand in for its SA and SDP
acquisition solvers).  The Gaussian conditional is drawn in ``m × m`` while there are fewer
evaluations ``m`` than features ``p = n(n+1)/2`` (Bhattacharya et al. 2016, as BOCS does),
then through a Cholesky factor of the ``p × p`` precision; instances whose features would not
fit in memory are refused (:class:`~cutslack.errors.ProblemTooLargeError`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular

from cutslack.binary import QUBO
from cutslack.config import check_memory
from cutslack.problems.base import check_count
from cutslack.surrogates.blackbox import BlackBox
from cutslack.surrogates.fmqa import SurrogateOutcome, qubo_surrogate_search

__all__ = ["quadratic_features", "HorseshoeState", "horseshoe_gibbs", "bocs"]


def quadratic_features(X) -> np.ndarray:
    """Return ``[x_1..x_n, x_i x_j (i < j, row-major)]`` for each row of the bit matrix ``X``."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    i, j = np.triu_indices(X.shape[1], 1)
    return np.hstack([X, X[:, i] * X[:, j]])


@dataclass
class HorseshoeState:
    """One state of the horseshoe Gibbs chain: coefficients and the (auxiliary) scale variables."""

    beta: np.ndarray
    sigma2: float
    lam2: np.ndarray
    tau2: float
    nu: np.ndarray
    xi: float

    @classmethod
    def start(cls, p: int) -> HorseshoeState:
        return cls(np.zeros(p), 1.0, np.ones(p), 1.0, np.ones(p), 1.0)


def _inv_gamma(shape, scale, rng):
    """Draw from IG(shape, scale) (density ∝ x^(−shape−1) e^(−scale/x))."""
    return scale / rng.gamma(shape, 1.0, size=np.shape(scale) or None)


def _draw_coefficients(Z, y, ZtZ, Zty, d, sigma2, rng):
    """Draw ``β ~ N(A⁻¹Z'y, σ²A⁻¹)``, ``A = Z'Z + diag(1/d)``.

    With fewer rows than features (``m < p``) the exact sampler of Bhattacharya, Chakraborty
    & Mallick (*Fast sampling with Gaussian scale-mixture priors*, Biometrika 2016) works in
    ``m × m`` (``O(m²p)``); otherwise a Cholesky factor of the ``p × p`` precision.
    """
    m, p = Z.shape
    if m < p:
        u = np.sqrt(sigma2 * d) * rng.normal(size=p)
        v = Z @ u / np.sqrt(sigma2) + rng.normal(size=m)
        M = (Z * d) @ Z.T + np.eye(m)
        w = cho_solve((cholesky(M, lower=True), True), y / np.sqrt(sigma2) - v)
        return u + np.sqrt(sigma2) * d * (Z.T @ w)
    L = cholesky(ZtZ + np.diag(1.0 / d), lower=True)
    mean = cho_solve((L, True), Zty)
    return mean + np.sqrt(sigma2) * solve_triangular(L.T, rng.normal(size=p), lower=False)


def horseshoe_gibbs(Z, y, steps: int, rng, state: HorseshoeState | None = None, *,
                    deadline=None) -> HorseshoeState:
    """Return the state after ``steps`` Gibbs sweeps of ``y = Zβ + ε`` under the horseshoe prior.

    ``ε ~ N(0, σ²)``, ``β_j ~ N(0, σ² τ² λ_j²)``, ``λ_j, τ ~ C⁺(0, 1)``, ``p(σ²) ∝ 1/σ²``;
    the conditionals of Makalic & Schmidt (2016).  ``state`` continues a chain (its ``p`` must
    match ``Z``'s columns); ``deadline()`` returning True ends the sweeps early.
    """
    Z = np.asarray(Z, dtype=float)
    y = np.asarray(y, dtype=float)
    m, p = Z.shape
    s = HorseshoeState.start(p) if state is None or state.beta.shape[0] != p else state
    ZtZ, Zty = (None, None) if m < p else (Z.T @ Z, Z.T @ y)
    beta, sigma2, lam2, tau2, nu, xi = s.beta, s.sigma2, s.lam2, s.tau2, s.nu, s.xi
    for _ in range(int(steps)):
        if deadline is not None and deadline():
            break
        # prior variances clipped: a collapsing λ_j²τ² must not make the precision infinite
        d = np.clip(tau2 * lam2, 1e-10, 1e10)
        beta = _draw_coefficients(Z, y, ZtZ, Zty, d, sigma2, rng)
        resid = y - Z @ beta
        sigma2 = float(_inv_gamma((m + p) / 2, (resid @ resid + beta @ (beta / d)) / 2, rng))
        lam2 = _inv_gamma(1.0, 1.0 / nu + beta ** 2 / (2 * tau2 * sigma2), rng)
        tau2 = float(_inv_gamma((p + 1) / 2, 1.0 / xi + np.sum(beta ** 2 / lam2) / (2 * sigma2), rng))
        nu = _inv_gamma(1.0, 1.0 + 1.0 / lam2, rng)
        xi = float(_inv_gamma(1.0, 1.0 + 1.0 / tau2, rng))
    return HorseshoeState(beta, sigma2, lam2, tau2, nu, xi)


def _coefficients_to_qubo(beta, n: int, shift: float, scale: float, names=None) -> QUBO:
    """The QUBO whose energy is ``scale · (β·features(x)) + shift``."""
    U = np.diag(beta[:n])
    i, j = np.triu_indices(n, 1)
    U[i, j] = beta[n:]
    return QUBO(scale * U, shift, names=names)


def bocs(bb: BlackBox, *, rng=None, sampler="anneal", initial_points: int | None = None, gibbs_steps: int = 30,
         burn_in: int = 200, batch_size: int = 1, num_reads: int = 20, sampler_options: dict | None = None,
         dual_iterations: int = 5, deadline=None, on_round=None) -> SurrogateOutcome:
    """Return the :class:`~cutslack.surrogates.fmqa.SurrogateOutcome` of BOCS on ``bb`` until its budget is used.

    Parameters
    ----------
    bb : BlackBox
        With a budget; explicit constraints are kept by every proposal.
    gibbs_steps, burn_in : int
        Gibbs sweeps per round, and on the initial design before the first draw.
    sampler, initial_points, batch_size, num_reads, sampler_options, dual_iterations, deadline, on_round
        As for :func:`~cutslack.surrogates.fmqa.fmqa` (the acquisition is minimised the same way).
    """
    rng = np.random.default_rng(rng)
    gibbs_steps = check_count(gibbs_steps, "gibbs_steps", minimum=1)
    burn_in = check_count(burn_in, "burn_in", minimum=0)
    p = bb.n * (bb.n + 1) // 2
    m = int(min(bb.remaining, p))
    # the m × m (or p × p) system of every Gibbs sweep; the feature matrix is checked as it grows
    check_memory(f"BOCS with {p} quadratic features", bb.n, 8.0 * 3 * m * m)
    names = None if bb.program is None else bb.program.names

    def fit(X, y, state, g, stalled):
        shift = float(y.mean())
        scale = float(y.std()) or 1.0
        steps = gibbs_steps if state is not None else burn_in + gibbs_steps
        check_memory(f"BOCS features of {len(y)} points", bb.n, 8.0 * 2 * len(y) * p)
        state = horseshoe_gibbs(quadratic_features(X), (y - shift) / scale, steps, g, state, deadline=deadline)
        return _coefficients_to_qubo(state.beta, bb.n, shift, scale, names), state

    return qubo_surrogate_search(bb, fit, rng=rng, sampler=sampler, initial_points=initial_points,
                                 batch_size=batch_size, num_reads=num_reads, sampler_options=sampler_options,
                                 dual_iterations=dual_iterations, deadline=deadline, on_round=on_round)
