"""read_model: MPS / LP files (plain and gzip) written by HiGHS itself, read back through HiGHS."""

from __future__ import annotations

import gzip
import itertools
import pickle
import shutil

import highspy
import numpy as np
import pytest
import scipy.sparse as sp

import cutslack
from cutslack.binary import BinaryProgram
from cutslack.errors import InvalidInstanceError, ParseError, UsageError
from cutslack.models import model_solution, read_model, write_model
from cutslack.result import Status

INF = highspy.kHighsInf


def highs_file(path, *, cost, lb, ub, integer, A, row_lower, row_upper, sense="min", offset=0.0, hessian=None,
               names=None, row_names=None):
    """Write a model with highspy (passModel + writeModel) and return the path (gzipped for ``.gz``)."""
    A = sp.csc_matrix(np.asarray(A, dtype=float).reshape(len(row_lower), len(cost)))
    n, m = len(cost), len(row_lower)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_, lp.col_upper_ = np.asarray(lb, dtype=float), np.asarray(ub, dtype=float)
    lp.row_lower_, lp.row_upper_ = np.asarray(row_lower, dtype=float), np.asarray(row_upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_ = A.indptr.astype(np.int32), A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    lp.integrality_ = np.array([highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous
                                for k in integer])
    lp.sense_ = highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize
    lp.offset_ = offset
    lp.col_names_ = names or [f"v{j}" for j in range(n)]
    lp.row_names_ = row_names or [f"row{i}" for i in range(m)]
    assert h.passModel(lp) == highspy.HighsStatus.kOk
    if hessian is not None:
        H = sp.tril(sp.csc_matrix(np.asarray(hessian, dtype=float)), format="csc")
        assert h.passHessian(n, H.nnz, highspy.HessianFormat.kTriangular, H.indptr.astype(np.int32),
                             H.indices.astype(np.int32), H.data) == highspy.HighsStatus.kOk
    path = str(path)
    plain = path[:-3] if path.endswith(".gz") else path
    assert h.writeModel(plain) == highspy.HighsStatus.kOk
    if path.endswith(".gz"):
        with open(plain, "rb") as src, gzip.open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return path


# one model with every row kind, a fixed column, a quadratic objective and a constant
COST = [3.0, -2.0, 4.0, 1.0, 5.0]
LB, UB = [0, 0, 0, 1, 0], [1, 1, 1, 1, 1]  # v3 is fixed at 1
A_ROWS = [[2, 1, 3, 0, 1],      # le
          [1, 1, 0, 0, 1],      # ge
          [1, 0, 1, 1, 1],      # range
          [1, 1, 1, 1, 0],      # eq
          [1, 1, 1, 1, 1]]      # free
ROW_LOWER = [-INF, 1, 2, 2, -INF]
ROW_UPPER = [5, INF, 3, 2, INF]
HESSIAN = [[0, 0, 0, 0, 0], [2, 0, 0, 0, 0], [0, 0, -4, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]]


def reference(values, hessian):
    """The model's own objective and feasibility at the model variables' values (no cutslack code)."""
    x = np.array([values[f"v{j}"] for j in range(5)], dtype=float)
    H = np.asarray(hessian if hessian is not None else np.zeros((5, 5)), dtype=float)
    Hs = H + H.T - np.diag(np.diag(H))
    objective = float(np.dot(COST, x) + 0.5 * x @ Hs @ x + 7.5)
    ax = np.asarray(A_ROWS, dtype=float) @ x
    feasible = bool(np.all(ax >= np.asarray(ROW_LOWER) - 1e-9) and np.all(ax <= np.asarray(ROW_UPPER) + 1e-9))
    return objective, feasible


@pytest.mark.parametrize("ending", [".mps", ".mps.gz", ".lp", ".lp.gz"])
@pytest.mark.parametrize("sense", ["min", "max"])
@pytest.mark.parametrize("quadratic", [False, True])
def test_every_point_scores_as_the_model_says(tmp_path, ending, sense, quadratic):
    hessian = HESSIAN if quadratic else None
    path = highs_file(tmp_path / f"m{ending}", cost=COST, lb=LB, ub=UB, integer=[1] * 5, A=A_ROWS,
                      row_lower=ROW_LOWER, row_upper=ROW_UPPER, sense=sense, offset=7.5, hessian=hessian)
    program = read_model(path)
    assert program.sense == sense
    assert program.names == ("v0", "v1", "v2", "v4")  # v3 is substituted out
    assert program.info["fixed"] == {"v3": 1.0}
    assert sp.issparse(program.A_le) and sp.issparse(program.A_eq)
    assert (program.Q is not None) == quadratic
    for bits in itertools.product([0, 1], repeat=program.n):
        values = model_solution(program, bits)
        assert values["v3"] == 1
        objective, feasible = reference(values, hessian)
        assert program.objective(np.array(bits)) == pytest.approx(objective, abs=1e-12)
        assert program.is_feasible(np.array(bits)) == feasible


def test_row_kinds_are_recorded(tmp_path):
    path = highs_file(tmp_path / "m.mps", cost=COST, lb=LB, ub=UB, integer=[1] * 5, A=A_ROWS,
                      row_lower=ROW_LOWER, row_upper=ROW_UPPER, row_names=["cap", "cover", "band", "pick", "spare"])
    program = read_model(path)
    by_name = {r["name"]: r for r in program.info["constraints"]}
    # HiGHS reads the free row of an MPS file as an extra objective row and drops it itself,
    # or keeps it with infinite bounds; either way it never becomes a constraint
    assert [by_name[k]["kind"] for k in ("cap", "cover", "band", "pick")] == ["le", "ge", "range", "eq"]
    assert by_name["cap"]["rows"] == [("le", 0, 1)]
    assert by_name["cover"]["rows"] == [("le", 1, -1)]
    assert by_name["band"]["rows"] == [("le", 2, 1), ("le", 3, -1)]
    assert by_name["pick"]["rows"] == [("eq", 0, 1)]
    assert "spare" not in by_name or by_name["spare"]["kind"] == "free"
    assert program.m_le == 4 and program.m_eq == 1
    # v3 = 1 is fixed: rhs moved by its column (1 in the band and pick rows)
    np.testing.assert_array_equal(program.b_le, [5, -1, 2, -1])
    np.testing.assert_array_equal(program.b_eq, [1])
    copy = pickle.loads(pickle.dumps(program))  # programs travel to worker processes
    assert copy.name == "m" and copy.info["constraints"] == program.info["constraints"]
    assert model_solution(copy, [1, 0, 0, 1]) == model_solution(program, [1, 0, 0, 1])


def test_free_row_is_dropped_and_recorded():
    program = cutslack.models.program_from_rows(
        names=["a", "b"], lb=[0, 0], ub=[1, 1], integer=[True, True], c=[1, 1], A=[[1, 1], [1, -1]],
        row_lower=[-np.inf, -np.inf], row_upper=[1, np.inf], row_names=["cap", "free"])
    assert program.info["dropped_rows"] == ["free"]
    assert program.m_le == 1 and program.info["constraints"][1] == {"name": "free", "kind": "free", "rows": []}


def test_model_without_constraints(tmp_path):
    path = highs_file(tmp_path / "none.lp", cost=[1, -3, 2], lb=[0] * 3, ub=[1] * 3, integer=[1] * 3,
                      A=np.zeros((0, 3)), row_lower=[], row_upper=[], sense="min", offset=-1.0)
    program = read_model(path)
    assert (program.n, program.m_le, program.m_eq) == (3, 0, 0)
    result = cutslack.solve(program, method="milp")
    assert result.status is Status.OPTIMAL
    assert result.objective == -4.0
    assert model_solution(program, result.x) == {"v0": 0, "v1": 1, "v2": 0}


def test_program_written_by_highs_reads_back_equal(tmp_path):
    rng = np.random.default_rng(3)
    n = 6
    Q = rng.integers(-3, 4, (n, n)).astype(float)
    program = BinaryProgram(c=rng.integers(-5, 6, n), Q=Q, const=2.5, sense="max",
                            A_le=rng.integers(0, 4, (2, n)), b_le=[5, 6], A_eq=[[1, 1, 0, 0, 1, 0]], b_eq=[1],
                            conflicts=[[0, 3], [2, 5]])
    X = np.array(list(itertools.product([0, 1], repeat=n)))
    for ending in (".mps", ".lp", ".mps.gz", ".lp.gz"):
        back = read_model(write_model(program, tmp_path / f"p{ending}"))
        assert back.names == program.names and back.sense == "max"
        np.testing.assert_array_equal(back.objective(X), program.objective(X))
        np.testing.assert_array_equal(back.is_feasible(X), program.is_feasible(X))
    with gzip.open(tmp_path / "p.mps.gz") as handle:
        assert handle.read(4) == b"NAME"


def test_general_integers_are_refused_by_name_unless_expanded(tmp_path):
    path = highs_file(tmp_path / "int.mps", cost=[1, 2, 1], lb=[0, 2, 0], ub=[1, 12, 1], integer=[1, 1, 1],
                      A=[[1, 1, 1]], row_lower=[-INF], row_upper=[9], sense="max", names=["a", "count", "b"])
    with pytest.raises(InvalidInstanceError, match=r"general-integer variables 'count'.*binary_expansion=True"):
        read_model(path)
    program = read_model(path, binary_expansion=True)
    bits = program.info["binary_expansion"]["count"]
    assert len(bits) == 4 and program.n == 6  # floor(log2(12 - 2)) + 1 bits
    reached = set()
    for combo in itertools.product([0, 1], repeat=4):
        x = np.zeros(program.n, dtype=int)
        x[[program.names.index(b) for b in bits]] = combo
        reached.add(model_solution(program, x)["count"])
    assert reached == set(range(2, 13))  # exactly [l, u]: the last coefficient is capped
    result = cutslack.solve(program, method="milp")
    best = max(a + 2 * k + b for a in (0, 1) for b in (0, 1) for k in range(2, 13) if a + k + b <= 9)
    assert result.objective == best


def test_continuous_variables_are_always_refused(tmp_path):
    path = highs_file(tmp_path / "cont.lp", cost=[1, 1, 1], lb=[0, 0, 0], ub=[1, 4.5, 1], integer=[1, 0, 0],
                      A=[[1, 1, 1]], row_lower=[-INF], row_upper=[2], names=["x", "flow", "level"])
    for expand in (False, True):
        with pytest.raises(InvalidInstanceError, match=r"continuous variables 'flow', 'level'"):
            read_model(path, binary_expansion=expand)


def test_quadratic_constraint_is_refused(tmp_path):
    path = tmp_path / "qc.lp"
    path.write_text("Minimize\n obj: x + y\nSubject To\n c1: x + y + [ x * y ] <= 1\nBinary\n x y\nEnd\n")
    with pytest.raises(ParseError, match="quadratic constraints are not supported") as info:
        read_model(path)
    assert info.value.file == str(path) and info.value.line == 4


def test_malformed_file_names_file_and_line(tmp_path):
    path = tmp_path / "bad.lp"
    path.write_text("Minimize\n obj: x + y\nSubject To\n c1: x + + <= 1 2 3\nBinary\n x y\nEnd\n")
    with pytest.raises(ParseError) as info:
        read_model(path)
    assert info.value.file == str(path)
    assert str(path) in str(info.value) and "HiGHS" in str(info.value)
    garbage = tmp_path / "bad.mps"
    garbage.write_text("this is not\nan MPS file at all\n")
    with pytest.raises(ParseError, match="bad.mps"):
        read_model(garbage)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(UsageError, match="no such model file"):
        read_model(tmp_path / "absent.mps")


@pytest.mark.parametrize("method", ["milp", "lagrangian", "penalty", "unbalanced"])
def test_every_method_solves_a_file(tmp_path, method):
    weights = [[5, 4, 3, 6, 2, 7], [2, 6, 3, 1, 5, 4]]
    path = highs_file(tmp_path / "knap.mps", cost=[10, 7, 4, 9, 3, 11], lb=[0] * 6, ub=[1] * 6, integer=[1] * 6,
                      A=weights, row_lower=[-INF, -INF], row_upper=[12, 11], sense="max")
    program = read_model(path)
    best = max(np.dot([10, 7, 4, 9, 3, 11], x) for x in itertools.product([0, 1], repeat=6)
               if np.all(np.asarray(weights) @ x <= [12, 11]))
    result = cutslack.solve(program, method=method, rng=0)
    assert result.feasible
    assert result.objective <= best
    if method == "milp":
        assert result.status is Status.OPTIMAL and result.objective == best


def test_milp_reports_an_infeasible_model(tmp_path):
    path = highs_file(tmp_path / "infeasible.mps", cost=[1, 1], lb=[0, 0], ub=[1, 1], integer=[1, 1],
                      A=[[1, 1], [1, -1]], row_lower=[3, -INF], row_upper=[INF, 0])
    result = cutslack.solve(read_model(path), method="milp")
    assert result.status is Status.INFEASIBLE
    assert not result.feasible


@pytest.mark.slow
def test_hundred_thousand_columns_stay_sparse(tmp_path):
    n, m, per_column = 100_000, 2_000, 5
    rows = (np.arange(n)[:, None] * 7 + np.arange(per_column)[None, :] * 397) % m
    A = sp.csc_matrix((np.ones(n * per_column), rows.reshape(-1), np.arange(0, n * per_column + 1, per_column)),
                      shape=(m, n))
    big = BinaryProgram(c=np.arange(n) % 13 + 1.0, sense="max", A_le=A.tocsr(), b_le=np.full(m, 40.0))
    program = read_model(write_model(big, tmp_path / "big.mps"))
    assert program.n == 100_000 and program.m_le == 2_000
    assert sp.issparse(program.A_le) and program.A_le.nnz == 500_000


def test_fixed_and_expanded_columns_together():
    # one fixed column and one 2-bit integer: as many bits as columns, yet not the identity map
    program = cutslack.models.program_from_rows(
        names=["a", "f", "k"], lb=[0, 2, 0], ub=[1, 2, 2], integer=[True, True, True], c=[1, 10, 3],
        A=[[1, 1, 1]], row_lower=[-np.inf], row_upper=[4], binary_expansion=True)
    assert program.names == ("a", "k_bit0", "k_bit1")
    for bits in itertools.product([0, 1], repeat=3):
        v = model_solution(program, bits)
        assert program.objective(np.array(bits)) == v["a"] + 10 * v["f"] + 3 * v["k"]
        assert program.is_feasible(np.array(bits)) == (v["a"] + v["f"] + v["k"] <= 4)


def test_free_mps_with_long_names_and_ranges(tmp_path):
    # free MPS: names longer than 8 characters; RANGES on a G row ([rhs, rhs + |R|]) and on an
    # E row with negative R ([rhs + R, rhs]), OBJSENSE MAX and an objective constant (-RHS)
    text = """NAME long_names_model
OBJSENSE
    MAX
ROWS
 N profit
 G cover_constraint
 E balance_row
 L capacity_row
COLUMNS
 MARKER_A 'MARKER' 'INTORG'
 first_item profit 4 cover_constraint 1
 first_item balance_row 1 capacity_row 3
 second_item profit 3 cover_constraint 1
 second_item balance_row 1 capacity_row 2
 third_item profit 5 balance_row 1
 third_item capacity_row 4
 MARKER_B 'MARKER' 'INTEND'
RHS
 RHS profit -1.5 cover_constraint 1
 RHS balance_row 2 capacity_row 6
RANGES
 RNG cover_constraint 1 balance_row -1
BOUNDS
 UP BND first_item 1
 UP BND second_item 1
 UP BND third_item 1
ENDATA
"""
    path = tmp_path / "free.mps.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    program = read_model(path)
    assert program.names == ("first_item", "second_item", "third_item") and program.sense == "max"
    kinds = {r["name"]: r["kind"] for r in program.info["constraints"]}
    assert kinds == {"cover_constraint": "range", "balance_row": "range", "capacity_row": "le"}
    for bits in itertools.product([0, 1], repeat=3):
        a, b, c = bits
        feasible = 1 <= a + b <= 2 and 1 <= a + b + c <= 2 and 3 * a + 2 * b + 4 * c <= 6
        assert program.is_feasible(np.array(bits)) == feasible
        assert program.objective(np.array(bits)) == 4 * a + 3 * b + 5 * c + 1.5
