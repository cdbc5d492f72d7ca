"""The PDE solvers: newton-kkt, reduced-lbfgs, pde-cvxpy, adasketch."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

import cutslack
from cutslack.errors import SolverError
from cutslack.problems import elliptic_control_fd, elliptic_control_fem
from cutslack.result import Status
from cutslack.solvers.pde.common import direct_solve
from cutslack.testing import check_result


@pytest.mark.parametrize("N", [16, 32])
def test_linear_case_agrees_with_cvxpy(N):
    prob = elliptic_control_fd(N)
    ref = cutslack.solve(prob, "pde-cvxpy")
    n = prob.n_nodes
    for method in ("newton-kkt", "reduced-lbfgs"):
        res = cutslack.solve(prob, method, tol=1e-10)
        check_result(prob, res)
        assert res.status is Status.OPTIMAL
        rel = np.linalg.norm(res.x[n:] - ref.x[n:]) / np.linalg.norm(ref.x[n:])
        print(f"N={N} {method}: relative control difference to cvxpy {rel:.2e}")
        assert rel <= 1e-6
        assert abs(res.objective - ref.objective) <= 1e-8 * abs(ref.objective)
    # cvxpy's dual of the state equation is the adjoint
    newton = cutslack.solve(prob, "newton-kkt")
    assert np.allclose(ref.info["adjoint"], newton.info["adjoint"], rtol=1e-5, atol=1e-8 * np.abs(newton.info["adjoint"]).max())


def test_cvxpy_agrees_with_bounds_and_l1():
    prob = elliptic_control_fd(12, lower=-4.0, upper=6.0, beta=0.05)
    ref = cutslack.solve(prob, "pde-cvxpy")
    res = cutslack.solve(prob, "newton-kkt")
    n = prob.n_nodes
    assert res.info["converged"]
    assert np.linalg.norm(res.x[n:] - ref.x[n:]) <= 1e-6 * np.linalg.norm(ref.x[n:])


@pytest.mark.parametrize("nonlinearity", ["semilinear", "nonsmooth"])
def test_newton_reaches_tight_kkt_residual_and_matches_lbfgs(nonlinearity):
    prob = elliptic_control_fd(24, nonlinearity=nonlinearity)
    res = cutslack.solve(prob, "newton-kkt", tol=1e-10)
    check_result(prob, res)
    assert res.info["converged"] and res.history[-1]["kkt_residual"] <= 1e-10
    assert res.nit <= 10  # locally (semismooth) Newton: a handful of steps
    lb = cutslack.solve(prob, "reduced-lbfgs", tol=1e-9)
    assert lb.objective == pytest.approx(res.objective, rel=1e-8)


def test_newton_on_an_lshape_mesh_with_bounds():
    prob = elliptic_control_fem(refine=2, nonlinearity="semilinear", lower=-50.0, upper=50.0)
    res = cutslack.solve(prob, "newton-kkt")
    check_result(prob, res)
    assert res.info["converged"]
    lb = cutslack.solve(prob, "reduced-lbfgs", tol=1e-9)
    assert lb.objective == pytest.approx(res.objective, rel=1e-7)


@pytest.mark.parametrize("nonlinearity", ["linear", "semilinear", "nonsmooth"])
def test_adasketch_converges_with_the_published_defaults(nonlinearity):
    # N = 16: at N = 12 the non-smooth problem stalls near 5e-4 (a kink of max(0, y) at the
    # solution; see benchmarks/results/pde.md)
    prob = elliptic_control_fd(16, nonlinearity=nonlinearity)
    res = cutslack.solve(prob, "adasketch", rng=0, tol=1e-6)
    check_result(prob, res)
    assert res.info["converged"] and res.history[-1]["kkt_residual"] <= 1e-6
    for key in ("kkt_residual", "merit", "step", "inner_iterations", "flops"):
        assert key in res.history[-1]
    ref = cutslack.solve(prob, "newton-kkt")
    assert res.objective == pytest.approx(ref.objective, rel=1e-5)
    # the superlinear variant: the last steps contract faster than the first
    kkt = [h["kkt_residual"] for h in res.history]
    assert kkt[-1] / kkt[-2] < kkt[1] / kkt[0]


def test_adasketch_is_deterministic_and_takes_the_gaussian_sketch():
    prob = elliptic_control_fd(8, nonlinearity="semilinear")
    a = cutslack.solve(prob, "adasketch", rng=3)
    b = cutslack.solve(prob, "adasketch", rng=3)
    assert np.array_equal(a.x, b.x) and a.info["inner_iterations"] == b.info["inner_iterations"]
    g = cutslack.solve(prob, "adasketch", rng=3, sketch="gaussian", block_size=16)
    assert g.info["converged"]


@pytest.mark.slow
@pytest.mark.parametrize("system", ["reduced", "full"])
def test_adasketch_block_kaczmarz_and_the_full_system(system):
    prob = elliptic_control_fd(6)
    res = cutslack.solve(prob, "adasketch", rng=1, sketch="block-kaczmarz", system=system, time_limit=120)
    assert res.info["converged"]


def test_adasketch_refuses_bounds():
    with pytest.raises(SolverError, match="bounds"):
        cutslack.solve(elliptic_control_fd(6, upper=1.0), "adasketch")


def _reported_singular_value(error) -> float:
    """The smallest-singular-value estimate a SolverError message reports."""
    match = re.search(r"smallest singular value ≈ ([-+0-9.e]+)", str(error))
    assert match, str(error)
    return float(match.group(1))


def test_singular_jacobian_raises_with_a_singular_value_estimate():
    A = sp.csc_matrix(np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]]))
    with pytest.raises(SolverError, match="smallest singular value") as err:
        direct_solve(A, np.ones(3))
    # A has rank 2, so its smallest singular value is exactly 0: the estimate must be ~0, not any number
    assert _reported_singular_value(err.value) <= 1e-12 * np.linalg.norm(A.toarray(), 2)
    # nearly singular: the solve "succeeds" in floating point, but its residual gives it away
    B = sp.csc_matrix(np.array([[1.0, 1.0], [1.0, 1.0 + 1e-17]]))
    with pytest.raises(SolverError, match="smallest singular value") as err:
        direct_solve(B, np.array([1.0, 0.0]))
    # 1 + 1e-17 rounds to 1 in double precision: B's singular values are 2 and 0
    assert _reported_singular_value(err.value) <= 1e-12


@pytest.mark.parametrize("method", ["newton-kkt", "adasketch", "reduced-lbfgs"])
def test_time_limit_and_callback(method):
    prob = elliptic_control_fd(20, nonlinearity="semilinear")
    seen = []

    def stop(intermediate):
        seen.append(intermediate.nit)
        raise StopIteration

    res = cutslack.solve(prob, method, rng=0, callback=stop)
    assert res.status is Status.STOPPED and seen
    res = cutslack.solve(prob, method, rng=0, time_limit=1e-3)
    assert res.status is Status.TIME_LIMIT and res.x is not None
