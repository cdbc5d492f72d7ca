"""qubo_of for every encoding, the BQM / QuadraticProgram writers and the qbsolv ``.qubo`` file."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from cutslack.binary import QUBO, BinaryProgram
from cutslack.errors import ParseError, UsageError
from cutslack.models import QUBO_ENCODINGS, qubo_of, read_qubo_file, write_qubo_file

dimod = pytest.importorskip("dimod")


def program():
    return BinaryProgram(c=[10, 7, 4, 9], sense="max", A_le=[[5, 4, 3, 6], [1, 1, 1, 1]], b_le=[9, 2],
                         A_eq=[[1, 0, 0, 1]], b_eq=[1], conflicts=[[1, 2]])


def brute_optimum(bp):
    X = np.array(list(itertools.product([0, 1], repeat=bp.n)))
    feasible = bp.is_feasible(X)
    return float(bp.objective(X[feasible]).max())


@pytest.mark.parametrize("encoding", QUBO_ENCODINGS)
def test_every_encoding_exports_to_dimod_and_qiskit_with_equal_energies(encoding):
    qubo, inverse = qubo_of(program(), encoding)
    assert inverse.n_original == 4 and qubo.n == inverse.n_qubo
    rng = np.random.default_rng(5)
    X = rng.integers(0, 2, (64, qubo.n))
    bqm = qubo.to_bqm()
    assert bqm.vartype is dimod.BINARY
    samples = [dict(zip(qubo.names, x.tolist())) for x in X]
    np.testing.assert_allclose(bqm.energies((X, list(qubo.names))), qubo.energy(X), rtol=0, atol=1e-9)
    qp = qubo.to_quadratic_program()
    for sample, x in zip(samples, X):
        assert qp.objective.evaluate(x) == pytest.approx(qubo.energy(x), abs=1e-9)


def test_slack_bits_minimum_is_the_optimum():
    bp = program()
    qubo, inverse = qubo_of(bp, "slack-bits", penalty=200.0)
    X = np.array(list(itertools.product([0, 1], repeat=qubo.n)))
    best = X[np.argmin(qubo.energy(X))]
    bits = inverse.original_bits(best)
    assert bp.is_feasible(bits) and bp.objective(bits) == brute_optimum(bp)


def test_slack_free_has_no_extra_bits_and_takes_multipliers():
    bp = program()
    qubo, inverse = qubo_of(bp, "slack-free", multipliers=[1.0, 2.0, 0.5, 3.0], rho=0.1)
    assert qubo.n == bp.n and inverse.n_slack == 0
    # rows keep the given multipliers; a conflict's is raised to at least the largest profit + 1
    assert inverse.info["multipliers"][:3] == pytest.approx([1.0, 2.0, 0.5])
    with pytest.raises(UsageError, match="unknown: penalty"):
        qubo_of(bp, "slack-free", penalty=3.0)
    with pytest.raises(UsageError, match="valid: slack-free, slack-bits, unbalanced"):
        qubo_of(bp, "one-hot")


@pytest.mark.parametrize("sparse", [False, True])
def test_qubo_file_round_trip(tmp_path, sparse):
    rng = np.random.default_rng(2)
    Q = rng.normal(size=(9, 9)) * (rng.random((9, 9)) < 0.4)
    qubo = QUBO(sp.csr_matrix(Q) if sparse else Q, offset=-3.25, names=[f"n{i}" for i in range(9)])
    path = write_qubo_file(qubo, tmp_path / "model.qubo", comment="from a test")
    lines = path.read_text().splitlines()
    assert lines[0] == "c from a test" and "c offset -3.25" in lines
    header = next(line for line in lines if line.startswith("p "))
    U = qubo.to_dense()
    n_diag, n_off = np.count_nonzero(np.diag(U)), np.count_nonzero(np.triu(U, 1))
    assert header == f"p qubo 0 9 {n_diag} {n_off}"
    back = read_qubo_file(path)
    assert back.names == qubo.names and back.offset == qubo.offset
    X = rng.integers(0, 2, (50, 9))
    np.testing.assert_array_equal(back.energy(X), qubo.energy(X))


def test_qubo_file_in_plain_qbsolv_form(tmp_path):
    path = tmp_path / "plain.qubo"
    path.write_text("c a qbsolv file\np qubo 0 3 2 1\n0 0 -1\n2 2 2.5\n0 2 4\n")
    qubo = read_qubo_file(path)
    assert qubo.names == ("x0", "x1", "x2") and qubo.offset == 0.0
    assert qubo.energy([1, 0, 1]) == 5.5


@pytest.mark.parametrize("text, line, message", [
    ("0 0 1\n", 1, "before the 'p qubo' header"),
    ("p qubo 0 2 1 0\n0 0 one\n", 2, "could not convert"),
    ("p qubo 0 2 1 0\n0 5 1\n", 2, "out of range"),
    ("p qubo 0 2 2 0\n0 0 1\n", 1, "announces 2 diagonal"),
    ("c only a comment\n", None, "no 'p qubo' header"),
])
def test_malformed_qubo_file(tmp_path, text, line, message):
    path = tmp_path / "bad.qubo"
    path.write_text(text)
    with pytest.raises(ParseError, match=message) as info:
        read_qubo_file(path)
    assert info.value.line == line and info.value.file == str(path)


def test_bqm_round_trip_keeps_a_sparse_qubo_sparse():
    n = 3000
    rows = np.arange(n - 1)
    Q = sp.csr_matrix((np.ones(n - 1), (rows, rows + 1)), shape=(n, n)) + sp.diags(-np.ones(n))
    qubo = QUBO(Q, offset=2.0)
    back = QUBO.from_bqm(qubo.to_bqm())
    assert back.is_sparse
    x = np.random.default_rng(0).integers(0, 2, n)
    assert back.energy(x) == qubo.energy(x)


def test_quadratic_program_round_trip_of_a_maximisation():
    qo = pytest.importorskip("qiskit_optimization")
    qp = qo.QuadraticProgram()
    for name in ("a", "b", "c"):
        qp.binary_var(name)
    qp.maximize(constant=1.0, linear={"a": 2.0, "c": -1.0}, quadratic={("a", "b"): -3.0, ("c", "c"): 4.0})
    qubo = QUBO.from_quadratic_program(qp)
    assert qubo.n == 3
    for x in itertools.product([0, 1], repeat=3):
        assert qubo.energy(np.array(x)) == -qp.objective.evaluate(list(x))
    back = qubo.to_quadratic_program()
    for x in itertools.product([0, 1], repeat=3):
        assert back.objective.evaluate(list(x)) == qubo.energy(np.array(x))
