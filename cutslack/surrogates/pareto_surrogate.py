"""MAP: quadratic surrogates that sweep a bi-objective Pareto front with few true evaluations.

For two objectives ``J1(u), J2(u)`` of a decision vector ``u`` (a discretised control, say) and
a *scalarised solver* ``u(w) = argmin_u w J1(u) + (1 − w) J2(u)`` (each call an optimisation,
e.g. many PDE solves), the exact front is swept by calling the solver on a fine grid of weights
(:func:`weighted_sum_front`).  :func:`map_front` spends far fewer solves:

1. solve at ``n_anchors`` weights (the anchors ``u_k``, including both ends of the front);
2. on the affine hull ``u = u_c + D α`` of the anchors, fit a quadratic model of each
   objective through the anchors and the midpoints of every pair of anchors — the quadratic
   Lagrange nodes of a simplex, so the fit is an interpolation (one objective evaluation per
   midpoint, no solve);
3. sweep the front of the two quadratic models in closed form
   (``α(w) = −(w H1 + (1−w) H2)⁻¹ (w g1 + (1−w) g2)``, kept in the hull's bounding box);
4. evaluate ``n_proposals`` points spread along the surrogate front on the true objectives,
   and return the non-dominated set of every evaluated point.

Costs are counted separately and honestly: scalarised solves, and objective evaluations
(one ``J`` vector per evaluation; a scalarised solve's own evaluations are its business, and
the solver may report them).  :func:`hypervolume_2d` scores a front against a reference point.

This construction — reduced subspace from a few scalarised solutions, exact quadratic
interpolation there, closed-form sweep — is this module's; for linear-quadratic problems the
quadratic models are exact on the subspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable

import numpy as np

from cutslack.errors import InvalidInstanceError

__all__ = ["ParetoFront", "weighted_sum_front", "map_front", "hypervolume_2d", "nondominated",
           "poisson_tracking_1d"]


@dataclass
class ParetoFront:
    """Evaluated points ``F (k, 2)`` with their decisions ``U (k, d)``, non-dominated, sorted by ``F[:, 0]``."""

    F: np.ndarray
    U: np.ndarray
    scalarised_solves: int
    evaluations: int
    info: dict = field(default_factory=dict)

    def hypervolume(self, reference) -> float:
        return hypervolume_2d(self.F, reference)


def nondominated(F) -> np.ndarray:
    """Return the indices of the non-dominated rows of ``F`` (minimisation of both columns), sorted by column 0."""
    F = np.asarray(F, dtype=float)
    order = np.lexsort((F[:, 1], F[:, 0]))
    keep, best2 = [], np.inf
    for i in order:
        if not np.isfinite(best2) or F[i, 1] < best2 - 1e-12 * max(1.0, abs(best2)):
            keep.append(i)
            best2 = F[i, 1]
    return np.array(keep, dtype=np.int64)


def hypervolume_2d(F, reference) -> float:
    """Return the area dominated by the points ``F`` (minimisation) and bounded by ``reference``."""
    F = np.asarray(F, dtype=float).reshape(-1, 2)
    ref = np.asarray(reference, dtype=float)
    F = F[np.all(F < ref, axis=1)]
    if F.size == 0:
        return 0.0
    F = F[nondominated(F)]
    area, prev2 = 0.0, ref[1]
    for f1, f2 in F:
        area += (ref[0] - f1) * (prev2 - f2)
        prev2 = f2
    return float(area)


def _objectives(objectives, u):
    J = np.asarray(objectives(u), dtype=float).reshape(-1)
    if J.shape[0] != 2 or not np.all(np.isfinite(J)):
        raise InvalidInstanceError("objectives", f"must return two finite values, got {J}")
    return J


def weighted_sum_front(objectives: Callable, solve_scalarised: Callable, weights) -> ParetoFront:
    """Return the front of ``solve_scalarised(w)`` over ``weights`` (one solve and one evaluation each)."""
    U, F = [], []
    for w in np.asarray(weights, dtype=float):
        u = np.asarray(solve_scalarised(float(w)), dtype=float)
        U.append(u)
        F.append(_objectives(objectives, u))
    U, F = np.array(U), np.array(F)
    keep = nondominated(F)
    return ParetoFront(F[keep], U[keep], len(U), len(U), {"weights": np.asarray(weights, dtype=float)[keep]})


def _quadratic_features(A):
    """Rows ``[1, α, α_i α_j (i ≤ j)]`` of the full quadratic basis in ``p`` variables."""
    A = np.atleast_2d(A)
    p = A.shape[1]
    cols = [np.ones(len(A))] + [A[:, i] for i in range(p)]
    cols += [A[:, i] * A[:, j] for i in range(p) for j in range(i, p)]
    return np.stack(cols, axis=1)


def _unpack(coef, p):
    c, g = coef[0], coef[1:1 + p]
    H = np.zeros((p, p))
    k = 1 + p
    for i in range(p):
        for j in range(i, p):
            if i == j:
                H[i, i] = 2 * coef[k]
            else:
                H[i, j] = H[j, i] = coef[k]
            k += 1
    return c, g, H


def map_front(objectives: Callable, solve_scalarised: Callable, *, n_anchors: int = 3, n_proposals: int = 6,
              n_sweep: int = 200, anchor_weights=None) -> ParetoFront:
    """Return the front found by quadratic surrogates on the anchors' subspace (see the module docstring).

    Parameters
    ----------
    objectives : callable ``u -> (J1, J2)``
        One true evaluation per call (counted).
    solve_scalarised : callable ``w -> u``
        Minimiser of ``w J1 + (1 − w) J2`` (counted as a scalarised solve).
    n_anchors : int
        Weights solved exactly, evenly spaced in ``[0, 1]`` (at least 2).
    anchor_weights : array, optional
        The anchor weights themselves (overrides ``n_anchors``), e.g. ``1 / (1 + α)`` for
        log-spaced regularisation weights ``α``.
    n_proposals : int
        Surrogate-front points evaluated on the true objectives.
    n_sweep : int
        Weights of the closed-form sweep on the surrogates (free: no evaluation).
    """
    weights = (np.linspace(0.0, 1.0, int(n_anchors)) if anchor_weights is None
               else np.asarray(anchor_weights, dtype=float).reshape(-1))
    if weights.shape[0] < 2:
        raise InvalidInstanceError("n_anchors", "at least 2 anchors are needed to span a front")
    if np.any(weights < 0) or np.any(weights > 1):
        raise InvalidInstanceError("anchor_weights", "weights must lie in [0, 1]")
    U = np.array([np.asarray(solve_scalarised(float(w)), dtype=float) for w in weights])
    F = [_objectives(objectives, u) for u in U]
    evaluations = len(U)
    center = U.mean(axis=0)
    # orthonormal basis of the anchors' affine hull
    Q, R = np.linalg.qr((U - center).T)
    rank = int(np.sum(np.abs(np.diag(R)) > 1e-10 * max(1.0, np.abs(R).max())))
    D = Q[:, :rank]
    A_anchor = (U - center) @ D
    nodes = [A_anchor[i] for i in range(len(U))]
    values = list(F)
    for i, j in combinations(range(len(U)), 2):
        a = 0.5 * (A_anchor[i] + A_anchor[j])
        nodes.append(a)
        values.append(_objectives(objectives, center + D @ a))
        evaluations += 1
    nodes, values = np.array(nodes), np.array(values)
    # fit in coordinates scaled to O(1) (the raw ones can be large; the quadratic columns square them)
    unit = np.abs(nodes).max(axis=0) + 1e-300
    Phi = _quadratic_features(nodes / unit)
    models = []
    for k in range(2):
        c, g, H = _unpack(np.linalg.lstsq(Phi, values[:, k], rcond=None)[0], rank)
        models.append((c, g / unit, H / np.outer(unit, unit)))
    lo, hi = A_anchor.min(axis=0), A_anchor.max(axis=0)
    span = hi - lo
    lo, hi = lo - 0.1 * span, hi + 0.1 * span
    sweep_A, sweep_F = [], []
    for w in np.linspace(0.0, 1.0, int(n_sweep)):
        H = w * models[0][2] + (1 - w) * models[1][2]
        g = w * models[0][1] + (1 - w) * models[1][1]
        try:
            a = np.linalg.solve(H, -g) if np.all(np.linalg.eigvalsh(H) > 1e-12) else None
        except np.linalg.LinAlgError:
            a = None
        if a is None:
            continue
        a = np.clip(a, lo, hi)
        sweep_A.append(a)
        sweep_F.append([m[0] + m[1] @ a + 0.5 * a @ m[2] @ a for m in models])
    proposals = []
    if sweep_A:
        sweep_A, sweep_F = np.array(sweep_A), np.array(sweep_F)
        # spread the proposals evenly along the surrogate front's arc length (normalised axes)
        scale = np.ptp(sweep_F, axis=0) + 1e-300
        arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(sweep_F / scale, axis=0), axis=1))])
        targets = np.linspace(0, arc[-1], int(n_proposals) + 2)[1:-1]
        picks = sorted({int(np.argmin(np.abs(arc - t))) for t in targets})
        proposals = [sweep_A[i] for i in picks]
    allU = list(U) + [center + D @ a for a in nodes[len(U):]]
    allF = list(F) + list(values[len(U):])
    for a in proposals:
        u = center + D @ a
        allU.append(u)
        allF.append(_objectives(objectives, u))
        evaluations += 1
    allU, allF = np.array(allU), np.array(allF)
    keep = nondominated(allF)
    return ParetoFront(allF[keep], allU[keep], len(U), evaluations,
                       {"subspace_dimension": rank, "anchor_weights": weights, "proposals": len(proposals)})


def poisson_tracking_1d(m: int = 64, *, rng=None):
    """Return ``(objectives, solve_scalarised, dimension)`` of a 1-D Poisson tracking-vs-cost problem.

    ``−y'' = u`` on ``(0, 1)``, ``y(0) = y(1) = 0``, ``m`` interior finite-difference nodes;
    ``J1 = h/2 ‖y(u) − y_d‖²`` (tracking), ``J2 = h/2 ‖u‖²`` (control cost).  The scalarised
    solve is exact (one dense linear solve); a small analytic check of the Pareto machinery.
    """
    rng = np.random.default_rng(rng)
    h = 1.0 / (m + 1)
    x = np.linspace(h, 1 - h, m)
    A = (np.diag(np.full(m, 2.0)) - np.diag(np.ones(m - 1), 1) - np.diag(np.ones(m - 1), -1)) / h ** 2
    S = np.linalg.inv(A)
    amp = rng.uniform(0.5, 1.5, size=3)
    y_d = amp[0] * np.sin(np.pi * x) + amp[1] * np.sin(3 * np.pi * x) + amp[2] * (x > 0.5) * 0.5

    def objectives(u):
        y = S @ u
        return 0.5 * h * float((y - y_d) @ (y - y_d)), 0.5 * h * float(u @ u)

    def solve_scalarised(w):
        return np.linalg.solve(w * S.T @ S + (1 - w) * np.eye(m), w * S.T @ y_d)

    return objectives, solve_scalarised, m
