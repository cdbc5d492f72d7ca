"""newton-kkt by MINRES + AMG against the direct solve, AdaSketch on the non-smooth problem,
and the ω bandit fed the systems of Newton runs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse.linalg as spla

import cutslack
from cutslack.problems import elliptic_control_fd, elliptic_control_fem
from cutslack.solvers.pde import newton as newton_module
from cutslack.solvers.pde.common import direct_solve
from cutslack.solvers.pde.krylov import KKTKrylov
from cutslack.solvers.pde.systems import bandit_on_newton_systems, newton_systems
from cutslack.testing import check_result


def _problems():
    return {"grid N=32 semilinear, bounds": elliptic_control_fd(32, nonlinearity="semilinear", lower=-20, upper=20),
            "grid N=32 nonsmooth, l1 + bounds": elliptic_control_fd(32, nonlinearity="nonsmooth", beta=0.05,
                                                                     lower=-10, upper=30),
            "P1 L-shape r3 semilinear": elliptic_control_fem(refine=3, nonlinearity="semilinear", lower=-15,
                                                             upper=15)}


@pytest.mark.parametrize("name", list(_problems()))
def test_krylov_newton_agrees_with_direct(name):
    prob = _problems()[name]
    n = prob.n_nodes
    direct = cutslack.solve(prob, "newton-kkt", linear_solver="direct", tol=1e-12)
    krylov = cutslack.solve(prob, "newton-kkt", linear_solver="krylov", tol=1e-12)
    check_result(prob, krylov)
    assert krylov.info["linear_solver"] == "krylov" and krylov.info["krylov_iterations"] > 0
    assert direct.info["converged"] and krylov.info["converged"]
    assert krylov.info["kkt_residual"] <= 1e-8
    for part in (slice(0, n), slice(n, 2 * n)):
        diff = np.linalg.norm(krylov.x[part] - direct.x[part]) / np.linalg.norm(direct.x[part])
        assert diff <= 1e-8, (name, diff)
    p_diff = np.linalg.norm(krylov.info["adjoint"] - direct.info["adjoint"]) / np.linalg.norm(direct.info["adjoint"])
    assert p_diff <= 1e-8


def test_krylov_direction_matches_direct_direction():
    """One Newton system at a point with active bounds, MINRES + AMG vs sparse LU, same right-hand side."""
    prob = elliptic_control_fd(24, nonlinearity="semilinear", lower=-20, upper=20)
    n = prob.n_nodes
    rng = np.random.default_rng(0)
    y, u, p = rng.normal(0, 3, n), rng.normal(0, 30, n), rng.normal(0, 0.5, n)
    F = prob.kkt_residual(y, u, p)
    _, chi = prob.optimal_control_map(p)
    assert 0 < chi.sum() < n  # bounds active at part of the nodes: the unsymmetric semismooth case
    d_ref = spla.splu(prob.kkt_matrix(y, u, p).tocsc()).solve(-F)
    out = KKTKrylov(prob, y, u, p).solve(F, 1e-11)
    assert out.residual <= 1e-11
    assert np.linalg.norm(out.direction - d_ref) <= 1e-8 * np.linalg.norm(d_ref)
    assert np.allclose(direct_solve(prob.kkt_matrix(y, u, p), -F), d_ref)


def test_linear_solver_choice(monkeypatch):
    prob = elliptic_control_fd(12, nonlinearity="semilinear")
    with pytest.raises(ValueError, match="linear_solver"):
        cutslack.solve(prob, "newton-kkt", linear_solver="cholesky")
    assert cutslack.solve(prob, "newton-kkt").info["linear_solver"] == "direct"
    monkeypatch.setattr(newton_module, "KRYLOV_MIN_NODES", 100)
    res = cutslack.solve(prob, "newton-kkt")
    assert res.info["linear_solver"] == "krylov" and res.info["kkt_residual"] <= 1e-10


def test_adasketch_converges_on_nonsmooth_n32():
    prob = elliptic_control_fd(32, nonlinearity="nonsmooth")
    res = cutslack.solve(prob, "adasketch", rng=0, tol=1e-6, maxiter=60)
    check_result(prob, res)
    assert res.info["converged"] and res.info["kkt_residual"] <= 1e-6
    assert res.nit <= 15


@pytest.mark.slow
def test_adasketch_converges_on_semilinear_n64():
    prob = elliptic_control_fd(64, nonlinearity="semilinear")
    res = cutslack.solve(prob, "adasketch", rng=0, tol=1e-6, maxiter=60)
    assert res.info["converged"] and res.info["kkt_residual"] <= 1e-6
    ref = cutslack.solve(prob, "newton-kkt", tol=1e-10)
    assert abs(res.objective - ref.objective) <= 1e-6 * abs(ref.objective)


@pytest.mark.parametrize("N", [12, pytest.param(64, marks=pytest.mark.slow)])
def test_nonsmooth_stall_is_an_optimum_on_the_kink(N):
    """The non-smooth stalls (N = 12, 64) are the problem's: exact Newton stalls too, a grid line at y = 0."""
    prob = elliptic_control_fd(N, nonlinearity="nonsmooth")
    res = cutslack.solve(prob, "newton-kkt", tol=1e-10, maxiter=40)
    assert not res.info["converged"] and res.info["kkt_residual"] > 1e-5
    assert np.sum(np.abs(res.x[:prob.n_nodes]) < 1e-8) >= prob.meta["N"]


def test_newton_systems_feed_the_bandit():
    prob = elliptic_control_fd(8, nonlinearity="semilinear")
    alphas = (1e-1, 1e-2)
    systems = newton_systems(prob, alphas=alphas)
    first = cutslack.solve(dataclasses.replace(prob, alpha=alphas[0]), "newton-kkt", tol=1e-8, maxiter=30)
    assert len(systems) >= 2 * first.nit  # two systems per iterate of the first run alone
    for A, b in systems[:4]:
        assert A.shape == (prob.n_nodes, prob.n_nodes) and b.shape == (prob.n_nodes,)
        assert abs(A - A.T).max() <= 1e-12
        assert np.linalg.eigvalsh(A.toarray()).min() > 0
    reference = newton_systems(elliptic_control_fd(8, nonlinearity="linear"), alphas=alphas)
    out = bandit_on_newton_systems(systems, reference, method="ssor-pcg", rng=0)
    assert out["systems"] == len(systems) and out["bandit_failures"] == 0
    assert out["instance_optimal_total"] <= out["hindsight_total"] <= out["advance_total"]
    assert out["bandit_total"] >= out["instance_optimal_total"]
    assert out["totals"].min() == out["hindsight_total"]


def test_bandit_without_hindsight_table_matches_fixed_sequence():
    prob = elliptic_control_fd(6, nonlinearity="semilinear")
    systems = newton_systems(prob, alphas=(1e-2,))
    reference = newton_systems(elliptic_control_fd(6, nonlinearity="linear"), alphas=(1e-2,))
    full = bandit_on_newton_systems(systems, reference, method="sor", rng=3)
    quick = bandit_on_newton_systems(systems, reference, method="sor", rng=3, hindsight=False)
    assert quick["totals"] is None and quick["hindsight_total"] is None
    # the fixed-ω total by one pass equals the hindsight table's column, the bandit is seeded alike
    assert quick["advance_total"] == full["advance_total"] and quick["bandit_total"] == full["bandit_total"]
