"""The linear systems of Newton runs on the control problem, fed to the learned-relaxation bandit.

Every Newton iterate (y_k, u_k, p_k) of ``newton-kkt`` linearises the state equation at y_k,
and a reduced-space Newton step (and the restoration y ← y(u), p ← p(y) of
:mod:`.newton`) solves two systems with the state Jacobian ``A_k = K + M diag N'(y_k)``
(symmetric positive definite, N' ≥ 0):

* the linearised state correction ``A_k δy = −c(y_k, u_k)``;
* the adjoint correction ``A_k δp = −∇_yℒ(y_k, u_k, p_k)``.

:func:`newton_systems` runs ``newton-kkt`` along a continuation in the control cost α (the
natural sequence of a Pareto sweep, each run warm-started from the last) and returns these
systems in the order the runs meet them.  :func:`bandit_on_newton_systems` feeds one such
sequence to :func:`cutslack.surrogates.relax.solve_sequence` with the Tsallis-INF bandit
over ω (Khodak et al., ICLR 2024), and compares its total inner (SOR or SSOR-PCG)
iterations with a fixed ω chosen *in advance* as the best fixed ω in hindsight on the
systems of a different (reference) problem, and with the best fixed ω in hindsight on the
sequence itself (the bandit's regret comparator).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from cutslack.problems.pde import EllipticControl
from cutslack.surrogates.relax import DEFAULT_OMEGAS, grid_costs, hindsight_baselines, solve_sequence

__all__ = ["newton_systems", "bandit_on_newton_systems", "DEFAULT_ALPHAS"]

#: the control costs of the continuation (a geometric sweep, large α first)
DEFAULT_ALPHAS = tuple(np.geomspace(1e-1, 1e-3, 12))


def newton_systems(problem: EllipticControl, *, alphas=DEFAULT_ALPHAS, tol: float = 1e-8,
                   maxiter: int = 30) -> list:
    """Return the SPD systems ``(A_k, b)`` met by ``newton-kkt`` runs along a continuation in α.

    Parameters
    ----------
    problem : EllipticControl
        The problem; its α is replaced by each value of ``alphas`` in turn.
    alphas : sequence of float
        Control costs, solved in this order, each run warm-started from the previous answer.
    tol, maxiter
        Passed to ``newton-kkt``.

    Returns
    -------
    list of (scipy.sparse.csr_matrix, numpy.ndarray)
        Two systems per Newton iterate (state correction, adjoint correction); an iterate
        whose right-hand side is zero contributes nothing for it.
    """
    from cutslack.solvers.pde.newton import newton_kkt

    systems, x0, p0 = [], None, None
    for alpha in alphas:
        prob = dataclasses.replace(problem, alpha=float(alpha))
        iterates = []

        def record(res, iterates=iterates):
            iterates.append((np.array(res.x), np.array(res.info["adjoint"])))

        res = newton_kkt(prob, tol=tol, maxiter=maxiter, x0=x0, p0=p0, callback=record)
        for x, p in iterates:
            y, u = prob.split(x)
            A, _ = prob.constraint_jacobian(y)
            gy, _ = prob.lagrangian_gradient(y, u, p)
            for rhs in (-prob.state_residual(y, u), -gy):
                if np.linalg.norm(rhs) > 0:
                    systems.append((A.tocsr(), rhs))
        x0, p0 = res.x, res.info["adjoint"]
    return systems


def bandit_on_newton_systems(systems, reference_systems, *, method: str = "sor", omegas=DEFAULT_OMEGAS,
                             rng=None, tol: float = 1e-8, max_iter: int = 10_000, hindsight: bool = True) -> dict:
    """Compare the bandit's inner iterations on ``systems`` with fixed ω chosen on ``reference_systems``.

    Returns a dict: ``bandit_total`` (Tsallis-INF), ``bandit_failures``, ``advance_omega``
    (best fixed ω in hindsight on the reference sequence) and ``advance_total`` (its cost on
    ``systems``), ``saving_vs_advance`` (1 − bandit/advance), the number of systems, and with
    ``hindsight=True`` (every system solved at every ω of the grid: by far the dearest part)
    ``hindsight_omega`` / ``hindsight_total`` (best fixed ω on ``systems`` itself),
    ``instance_optimal_total`` and the per-ω ``totals`` on ``systems`` (None without).
    """
    systems = list(systems)
    grid = np.asarray(omegas, dtype=float)
    reference = hindsight_baselines(grid_costs(reference_systems, grid, method=method, tol=tol, max_iter=max_iter),
                                    grid)
    omega_advance = float(grid[int(np.argmin(np.abs(grid - reference["best_fixed_omega"])))])
    own = {"best_fixed_omega": None, "best_fixed_total": None, "instance_optimal_total": None, "totals": None}
    if hindsight:
        table = grid_costs(systems, grid, method=method, tol=tol, max_iter=max_iter)
        own = hindsight_baselines(table, grid)
        advance = int(table[:, int(np.argmin(np.abs(grid - omega_advance)))].sum())
    else:
        advance = solve_sequence(systems, method=method, policy=omega_advance, tol=tol, max_iter=max_iter).total
    learned = solve_sequence(systems, method=method, policy="bandit", omegas=grid, rng=rng, tol=tol,
                             max_iter=max_iter)
    return {"systems": len(systems), "method": method, "bandit_total": learned.total,
            "bandit_failures": learned.failures, "advance_omega": omega_advance,
            "advance_total": advance, "hindsight_omega": own["best_fixed_omega"],
            "hindsight_total": own["best_fixed_total"], "instance_optimal_total": own["instance_optimal_total"],
            "saving_vs_advance": 1.0 - learned.total / max(advance, 1), "totals": own["totals"],
            "bandit_omegas": learned.omegas}
