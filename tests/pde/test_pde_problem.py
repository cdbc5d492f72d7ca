"""The elliptic control problem: derivatives, discretisations, validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from cutslack.errors import InvalidInstanceError
from cutslack.problems import elliptic_control_fd, elliptic_control_fem, manufactured_control, random_elliptic_control
from cutslack.problems.pde import NONLINEARITIES, EllipticControl


def _random_point(problem, seed):
    g = np.random.default_rng(seed)
    return g.normal(size=(3, problem.n_nodes))


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_lagrangian_gradient_matches_finite_differences(nonlinearity):
    prob = elliptic_control_fd(7, nonlinearity=nonlinearity)
    y, u, p = _random_point(prob, 1)
    d = np.random.default_rng(2).normal(size=prob.n_nodes)

    def lagrangian(y, u):
        return prob.evaluate(prob.join(y, u)) + p @ prob.state_residual(y, u)

    gy, gu = prob.lagrangian_gradient(y, u, p)
    eps = 1e-6
    fd_y = (lagrangian(y + eps * d, u) - lagrangian(y - eps * d, u)) / (2 * eps)
    fd_u = (lagrangian(y, u + eps * d) - lagrangian(y, u - eps * d)) / (2 * eps)
    assert fd_y == pytest.approx(gy @ d, rel=1e-6)
    assert fd_u == pytest.approx(gu @ d, rel=1e-6)


@pytest.mark.parametrize("nonlinearity", ["linear", "semilinear"])
def test_reduced_gradient_and_hessian_vector(nonlinearity):
    prob = elliptic_control_fd(8, nonlinearity=nonlinearity)
    g = np.random.default_rng(3)
    u, d = g.normal(size=(2, prob.n_nodes))
    _, grad, y, p = prob.reduced_gradient(u)
    eps = 1e-6
    jp, _ = prob.reduced_objective(u + eps * d)
    jm, _ = prob.reduced_objective(u - eps * d)
    assert (jp - jm) / (2 * eps) == pytest.approx(grad @ d, rel=1e-6)
    hv = prob.reduced_hessian_vector(u, d, y=y, p=p)
    gp = prob.reduced_gradient(u + eps * d)[1]
    gm = prob.reduced_gradient(u - eps * d)[1]
    assert np.linalg.norm((gp - gm) / (2 * eps) - hv) <= 1e-5 * np.linalg.norm(hv)
    # the full-space Hessian-vector product agrees with the Hessian matrix
    hy, hu = prob.lagrangian_hessian_vector(y, u, p, d, d)
    assert np.allclose(prob.lagrangian_hessian(y, p) @ np.concatenate([d, d]), np.concatenate([hy, hu]))


def test_state_solve_satisfies_the_pde_and_sets_feasibility():
    prob = elliptic_control_fd(10, nonlinearity="semilinear")
    u = 50 * np.random.default_rng(4).normal(size=prob.n_nodes)
    y = prob.solve_state(u)
    x = prob.join(y, u)
    assert np.max(np.abs(prob.constraint_residual(x))) < 1e-8 * (1 + np.abs(u).max())
    assert prob.is_feasible(x)
    assert not prob.is_feasible(prob.join(y + 1e-3, u))


def _newton(prob, tol=1e-11):
    n = prob.n_nodes
    z = np.zeros(3 * n)
    for _ in range(30):
        y, u, p = z[:n], z[n:2 * n], z[2 * n:]
        if prob.kkt_norm(y, u, p) <= tol * prob.kkt_scale:
            break
        z = z + spla.spsolve(prob.kkt_matrix(y, u, p), -prob.kkt_residual(y, u, p))
    return z[:n], z[n:2 * n], z[2 * n:]


@pytest.mark.parametrize("discretisation", ["fd", "fem"])
def test_manufactured_solution_converges_at_second_order(discretisation):
    errors = []
    for N in (8, 16, 32):
        prob, exact = manufactured_control(N, discretisation=discretisation)
        _, u, _ = _newton(prob)
        errors.append(np.sqrt(prob.mass @ (u - exact["u"]) ** 2))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print(f"{discretisation}: L2 control errors {errors}, observed orders {orders}")
    assert np.all(orders > 1.8)


def test_fd_and_structured_fem_agree():
    fd, _ = manufactured_control(6, discretisation="fd")
    fem, _ = manufactured_control(6, discretisation="fem")
    assert np.allclose(fd.mass, fem.mass)
    assert abs(fd.stiffness - fem.stiffness).max() < 1e-12


def test_lshape_fem_and_a_user_mesh():
    prob = elliptic_control_fem(refine=2, nonlinearity="nonsmooth")
    assert prob.meta["discretisation"] == "fem" and prob.n_nodes == prob.nodes.shape[0]
    # L-shape: no interior node in the removed quadrant
    assert not np.any((prob.nodes[:, 0] > 0) & (prob.nodes[:, 1] > 0))
    y, u, _ = _newton(prob)
    assert prob.is_feasible(prob.join(y, u))
    points = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], float)
    tris = np.array([[0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]])
    own = elliptic_control_fem((points, tris), target=1.0)
    assert own.n_nodes == 1


def test_bounds_are_respected_by_the_active_set_map():
    prob = elliptic_control_fd(12, nonlinearity="semilinear", lower=-3.0, upper=3.0)
    y, u, p = _newton(prob)
    assert u.min() >= -3.0 - 1e-12 and u.max() <= 3.0 + 1e-12
    assert np.isclose(u, 3.0).any() and np.isclose(u, -3.0).any()
    assert prob.is_feasible(prob.join(y, u))
    assert not prob.is_feasible(prob.join(y, u + 4.0))


@pytest.mark.parametrize("kwargs, field", [
    ({"N": 2}, "N"),
    ({"N": 8, "alpha": 0.0}, "alpha"),
    ({"N": 8, "alpha": -1.0}, "alpha"),
    ({"N": 8, "target": np.zeros((7, 7))}, "target"),
    ({"N": 8, "nonlinearity": "quartic"}, "nonlinearity"),
    ({"N": 8, "lower": 1.0, "upper": 0.0}, "lower"),
])
def test_bad_input_raises_naming_the_field(kwargs, field):
    N = kwargs.pop("N")
    with pytest.raises(InvalidInstanceError) as err:
        elliptic_control_fd(N, **kwargs)
    assert err.value.field == field


def test_degenerate_meshes_are_refused():
    points = np.array([[0, 0], [1, 0], [2, 0], [0, 1]], float)
    with pytest.raises(InvalidInstanceError, match="degenerate"):
        elliptic_control_fem((points, np.array([[0, 1, 2], [0, 1, 3]])))
    with pytest.raises(InvalidInstanceError, match="interior"):
        elliptic_control_fem((points[[0, 1, 3]], np.array([[0, 1, 2]])))
    with pytest.raises(InvalidInstanceError, match="no triangle"):
        elliptic_control_fem((points, np.array([[0, 1, 3]])))
    with pytest.raises(InvalidInstanceError, match="does not exist"):
        elliptic_control_fem((points, np.array([[0, 1, 9]])))
    with pytest.raises(InvalidInstanceError):
        EllipticControl(np.eye(3), np.ones(2), np.zeros(3))


def test_vectorised_evaluate_and_generator_determinism():
    a = random_elliptic_control(6, rng=5)
    b = random_elliptic_control(6, rng=5)
    assert np.array_equal(a.target, b.target)
    X = np.random.default_rng(6).normal(size=(4, a.n))
    vals = a.evaluate(X)
    assert vals.shape == (4,) and np.allclose(vals, [a.evaluate(x) for x in X])
    assert a.violation(X).shape[0] == 4 and a.is_feasible(X).shape == (4,)
