"""The generic repair of a bare BinaryProgram (cutslack.solvers.repair.repair_program)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutslack.binary import BinaryProgram
from cutslack.solvers.repair import repair_program

BUILDERS = ["gap_like", "scp_like", "ranged", "mixed_sign"]


def _program(rowtypes, kind, seed):
    return {"gap_like": lambda: rowtypes.gap_like(3, 5, seed), "scp_like": lambda: rowtypes.scp_like(8, 12, seed),
            "ranged": lambda: rowtypes.ranged(12, seed), "mixed_sign": lambda: rowtypes.mixed_sign(10, seed)}[kind]()


@pytest.mark.parametrize("kind", BUILDERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_success_means_feasible_and_feasible_input_never_worsens(rowtypes, kind, seed):
    bp = _program(rowtypes, kind, seed)
    X = np.random.default_rng(seed + 10).integers(0, 2, size=(60, bp.n)).astype(np.uint8)
    R, ok = repair_program(bp, X)
    assert R.shape == X.shape and ok.shape == (60,)
    assert np.all(np.atleast_1d(bp.is_feasible(R[ok], atol=1e-9)))
    # the kernel reports failure exactly where the result is infeasible
    np.testing.assert_array_equal(np.atleast_1d(bp.is_feasible(R, atol=1e-6)), ok)
    was = np.atleast_1d(bp.is_feasible(X, atol=1e-9))
    sign = -1.0 if bp.sense == "max" else 1.0
    if was.any():
        before, after = sign * np.atleast_1d(bp.objective(X[was])), sign * np.atleast_1d(bp.objective(R[was]))
        assert np.all(after <= before + 1e-9) and ok[was].all()
    assert ok.mean() >= 0.5          # most random starts of these programs are repaired


def test_cover_rows_are_covered_greedily_by_cost_per_row():
    # x0 covers both rows at 3, x1 and x2 one each at 2: the cheaper cover is {x0}
    cover = BinaryProgram(c=[3.0, 2.0, 2.0], A_le=-np.array([[1, 1, 0], [1, 0, 1]]), b_le=[-1, -1])
    R, ok = repair_program(cover, np.zeros((1, 3), dtype=np.uint8))
    assert ok[0] and R[0].tolist() == [1, 0, 0]
    # a feasible but redundant cover loses its redundant columns: the most expensive first,
    # then nothing can be dropped (a 1-flip local optimum, not the global one)
    R, ok = repair_program(cover, np.ones((1, 3), dtype=np.uint8))
    assert ok[0] and R[0].tolist() == [0, 1, 1]


def test_one_hot_swaps_move_a_job_to_the_better_agent():
    # two agents, one job: x0 (profit 1) to x1 (profit 5), both fit
    bp = BinaryProgram(c=[1.0, 5.0], sense="max", A_eq=[[1, 1]], b_eq=[1], A_le=[[2, 0], [0, 2]], b_le=[3, 3])
    R, ok = repair_program(bp, np.array([[1, 0], [1, 1], [0, 0]], dtype=np.uint8))
    assert ok.all() and (R == [0, 1]).all()


def test_quadratic_objective_gains_are_exact():
    # minimise x0 + x1 - 4 x0 x1 subject to x0 + x1 + x2 >= 1: the optimum {x0, x1} (value -2)
    Q = np.array([[0.0, -4.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    bp = BinaryProgram(c=[1.0, 1.0, 0.5], Q=Q, A_le=-np.ones((1, 3)), b_le=[-1])
    R, ok = repair_program(bp, np.array([[1, 1, 1]], dtype=np.uint8))
    assert ok[0] and float(bp.objective(R[0])) == pytest.approx(-2.0)


def test_conflict_pairs_are_repaired():
    bp = BinaryProgram(c=[3.0, 2.0, 2.0], sense="max", conflicts=[(0, 1), (0, 2)])
    R, ok = repair_program(bp, np.ones((1, 3), dtype=np.uint8))
    assert ok[0] and R[0].tolist() == [0, 1, 1]


def test_unsatisfiable_sample_is_reported_not_hidden():
    bp = BinaryProgram(c=[1.0, 1.0], A_eq=[[2, 2]], b_eq=[3])      # no bit vector satisfies it
    R, ok = repair_program(bp, np.zeros((2, 2), dtype=np.uint8))
    assert not ok.any() and not np.any(bp.is_feasible(R))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_property_on_random_programs(data):
    n = data.draw(st.integers(2, 8))
    g = np.random.default_rng(data.draw(st.integers(0, 10_000)))
    A = g.integers(-3, 5, size=(data.draw(st.integers(1, 3)), n)).astype(float)
    x0 = g.integers(0, 2, size=n)
    b = A @ x0 + g.integers(0, 2, size=A.shape[0])
    eq = data.draw(st.booleans())
    bp = BinaryProgram(c=g.integers(-5, 6, size=n).astype(float), Q=g.integers(-2, 3, size=(n, n)).astype(float),
                       sense=data.draw(st.sampled_from(["min", "max"])), A_le=A, b_le=b,
                       A_eq=np.ones((1, n)) if eq else None, b_eq=[x0.sum()] if eq else None)
    X = g.integers(0, 2, size=(20, n)).astype(np.uint8)
    R, ok = repair_program(bp, X)
    assert np.all(np.atleast_1d(bp.is_feasible(R[ok], atol=1e-9)))
    was = np.atleast_1d(bp.is_feasible(X, atol=1e-9))
    sign = -1.0 if bp.sense == "max" else 1.0
    assert np.all(sign * np.atleast_1d(bp.objective(R[was])) <= sign * np.atleast_1d(bp.objective(X[was])) + 1e-9)
