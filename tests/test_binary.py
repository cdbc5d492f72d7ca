"""BinaryProgram and QUBO: energies, Ising form, folding, exchange with dimod."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cutslack import QUBO, BinaryProgram, InvalidInstanceError


def _qubo_and_bits(draw_n=st.integers(1, 8)):
    @st.composite
    def strat(draw):
        n = draw(draw_n)
        Q = draw(arrays(np.float64, (n, n), elements=st.floats(-50, 50, allow_nan=False, width=32)))
        off = draw(st.floats(-10, 10, width=32))
        X = draw(arrays(np.uint8, (draw(st.integers(1, 5)), n), elements=st.integers(0, 1)))
        return Q, off, X
    return strat()


@given(_qubo_and_bits())
@settings(max_examples=60, deadline=None)
def test_energy_equals_quadratic_form_and_ising(data):
    Q, off, X = data
    q = QUBO(Q, off)
    expected = np.einsum("ki,ij,kj->k", X.astype(float), Q, X.astype(float)) + off
    np.testing.assert_allclose(q.energy(X), expected, rtol=1e-9, atol=1e-6)
    h, J, o = q.to_ising()
    S = 2.0 * X - 1.0
    ising = np.einsum("ki,ij,kj->k", S, J, S) + S @ h + o
    np.testing.assert_allclose(ising, expected, rtol=1e-9, atol=1e-6)
    back = QUBO.from_ising(h, J, o)
    np.testing.assert_allclose(back.energy(X), expected, rtol=1e-9, atol=1e-6)
    # one vector gives a float
    assert isinstance(q.energy(X[0]), float)


def test_fold_upper_and_sparse_agree():
    rng = np.random.default_rng(3)
    Q = rng.normal(size=(6, 6))
    dense, sparse = QUBO(Q, 1.5), QUBO(sp.csr_matrix(Q), 1.5)
    assert np.allclose(np.tril(dense.U, -1), 0)
    X = rng.integers(0, 2, size=(10, 6))
    np.testing.assert_allclose(dense.energy(X), sparse.energy(X))
    np.testing.assert_allclose(dense.to_ising()[0], sparse.to_ising()[0])
    assert sparse.is_sparse and not dense.is_sparse


def test_local_fields_are_flip_deltas():
    rng = np.random.default_rng(5)
    q = QUBO(rng.normal(size=(7, 7)))
    x = rng.integers(0, 2, size=7)
    d = q.local_fields(x)
    for i in range(7):
        y = x.copy()
        y[i] ^= 1
        assert d[i] == pytest.approx(q.energy(y) - q.energy(x))


def test_qubo_rejects_bad_input():
    with pytest.raises(InvalidInstanceError, match="NaN"):
        QUBO(np.array([[1.0, np.nan], [0, 1]]))
    with pytest.raises(InvalidInstanceError, match="square"):
        QUBO(np.ones((2, 3)))
    with pytest.raises(ValueError, match="expected 3 variables"):
        QUBO(np.eye(3)).energy([1, 0])


def test_bqm_round_trip():
    dimod = pytest.importorskip("dimod")
    rng = np.random.default_rng(11)
    q = QUBO(rng.integers(-5, 5, size=(5, 5)).astype(float), 2.0)
    bqm = q.to_bqm()
    X = rng.integers(0, 2, size=(8, 5))
    for x in X:
        assert bqm.energy(dict(zip(q.names, x))) == pytest.approx(q.energy(x))
    back = QUBO.from_bqm(bqm)
    np.testing.assert_allclose(back.energy(X), q.energy(X))
    spin = dimod.BinaryQuadraticModel({"a": 1.0}, {("a", "b"): -2.0}, 0.5, dimod.SPIN)
    qs = QUBO.from_bqm(spin)
    for a in (0, 1):
        for b in (0, 1):
            assert qs.energy([a, b]) == pytest.approx(spin.energy({"a": 2 * a - 1, "b": 2 * b - 1}))


def test_quadratic_program_round_trip():
    pytest.importorskip("qiskit_optimization")
    rng = np.random.default_rng(2)
    q = QUBO(rng.integers(-5, 5, size=(4, 4)).astype(float), -1.0)
    qp = q.to_quadratic_program()
    back = QUBO.from_quadratic_program(qp)
    X = rng.integers(0, 2, size=(6, 4))
    np.testing.assert_allclose(back.energy(X), q.energy(X))


def test_binary_program_validation_and_scoring():
    bp = BinaryProgram(c=[1, 2, 3], Q=np.diag([0, 0, 1.0]), A_le=[[1, 1, 1]], b_le=[2], A_eq=[[1, 0, 1]], b_eq=[1],
                       conflicts=[(0, 1)], sense="max")
    x = np.array([1, 1, 0])
    assert bp.objective(x) == 3.0
    np.testing.assert_array_equal(bp.violation(x), [0.0, 0.0, 1.0])
    assert not bp.is_feasible(x)
    assert bp.is_feasible([0, 1, 1])
    q = bp.objective_qubo()
    assert q.energy([0, 1, 1]) == -bp.objective([0, 1, 1])
    with pytest.raises(InvalidInstanceError, match="b_le"):
        BinaryProgram(c=[1, 2], A_le=[[1, 1]], b_le=[np.nan])
    with pytest.raises(InvalidInstanceError, match="A_le"):
        BinaryProgram(c=[1, 2], A_le=[[1, 1, 1]], b_le=[1])
    with pytest.raises(InvalidInstanceError, match="conflicts"):
        BinaryProgram(c=[1, 2], conflicts=[(0, 0)])
    with pytest.raises(InvalidInstanceError, match="sense"):
        BinaryProgram(c=[1, 2], sense="maximize")


@pytest.mark.gpu
@pytest.mark.parametrize("sparse", [False, True])
def test_energy_on_the_device_matches_the_numpy_twin(sparse):
    from cutslack.gpu.backend import cupy_available

    if not cupy_available():
        pytest.skip("CuPy with a CUDA device is not available")
    import cupy

    rng = np.random.default_rng(8)
    Q = rng.normal(size=(12, 12))
    q = QUBO(sp.csr_matrix(Q) if sparse else Q, 0.5)
    X = rng.integers(0, 2, size=(20, 12))
    E = q.energy(cupy.asarray(X))
    assert type(E).__module__.startswith("cupy")
    np.testing.assert_allclose(cupy.asnumpy(E), q.energy(X), rtol=1e-10)
