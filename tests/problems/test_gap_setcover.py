"""Generalized assignment and set covering: scoring against the binary programs, encodings,
generators, validation, the OR-Library readers and the registry of known optima."""

import numpy as np
import pytest
import scipy.sparse as sp

from cutslack.cli import generate_problem
from cutslack.errors import InvalidInstanceError, ParseError
from cutslack.problems import GeneralizedAssignment, SetCover, random_gap, random_set_cover
from cutslack.problems.generalized_assignment import decode_gap_bits, encode_gap_agents
from cutslack.problems.library import (PUBLISHED, load_instance, load_shipped, manifest, read_orlib_gap,
                                       read_orlib_scp, shipped_path)


# --- scoring against the binary program --------------------------------------------------
@pytest.mark.parametrize("seed, m, n, kind", [(1, 3, 6, "c"), (2, 4, 5, "d"), (3, 2, 8, "e")])
def test_gap_binary_agrees_with_native_for_random_bits(seed, m, n, kind):
    p = random_gap(m, n, kind=kind, rng=seed)
    bp = p.to_binary()
    g = np.random.default_rng(seed)
    X = g.integers(0, 2, size=(300, m * n))
    agents = np.array([bp.decode_bits(x) for x in X])
    assert np.array_equal(bp.is_feasible(X), p.is_feasible(agents))
    # one-hot bit vectors: the objective and the capacity rows agree exactly
    A = g.integers(0, m, size=(300, n))
    bits = encode_gap_agents(A, m)
    assert np.allclose(bp.objective(bits), p.evaluate(A))
    assert np.array_equal(bp.is_feasible(bits), p.is_feasible(A))
    assert np.allclose(p.violation(A)[:, :m], bp.violation(bits)[:, :m])


def test_gap_decode_encode_round_trip_and_ambiguous_jobs():
    g = np.random.default_rng(4)
    A = g.integers(-1, 5, size=(50, 9))
    assert np.array_equal(np.array([decode_gap_bits(b, 5, 9) for b in encode_gap_agents(A, 5)]), A)
    bits = np.zeros((3, 4), dtype=int)
    bits[0, 0] = bits[2, 0] = 1  # job 0 at two agents, job 1 at one, jobs 2-3 at none
    bits[1, 1] = 1
    assert decode_gap_bits(bits.reshape(-1), 3, 4).tolist() == [-1, 1, -1, -1]


def test_gap_scoring_by_hand_and_violation_layout():
    p = GeneralizedAssignment([[5, 1, 2], [2, 4, 3]], [[3, 3, 1], [3, 3, 1]], [4, 3])
    assert p.evaluate([0, 1, 0]) == 11.0
    assert p.violation([0, 0, -1]).tolist() == [2.0, 0.0, 0.0, 0.0, 1.0]
    assert p.is_feasible([0, 1, 0]) and not p.is_feasible([0, 1, -1])
    assert p.evaluate(np.array([[0, 1, 0], [1, 0, 1]])).tolist() == [11.0, 6.0]


def test_set_cover_binary_agrees_with_native_for_random_bits():
    p = random_set_cover(30, 60, 0.08, rng=5)
    bp = p.to_binary()
    assert sp.issparse(bp.A_le) and np.all(bp.b_le == -1) and bp.m_eq == 0
    X = np.random.default_rng(6).integers(0, 2, size=(400, p.n))
    X[::4] = (np.random.default_rng(7).random((100, p.n)) < 0.5)  # denser vectors: many covers
    assert np.allclose(bp.objective(X), p.evaluate(X))
    assert np.array_equal(bp.is_feasible(X), p.is_feasible(X))
    assert p.is_feasible(X).any() and not p.is_feasible(X).all()
    assert np.array_equal((bp.violation(X) > 0).sum(axis=1), p.violation(X).sum(axis=1))


def test_set_cover_by_hand():
    p = SetCover([3, 2, 2], [[1, 1, 0], [1, 0, 1]])
    assert p.violation([0, 1, 0]).tolist() == [0.0, 1.0]
    assert p.coverage([1, 1, 1]).tolist() == [2.0, 2.0]
    assert p.evaluate([0, 1, 1]) == 4.0 and p.is_feasible([0, 1, 1])


# --- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("build, field", [
    (lambda: GeneralizedAssignment([[1, 2]], [[1, 2, 3]], [3]), "weights"),
    (lambda: GeneralizedAssignment([[1, 2]], [[1, -2]], [3]), "weights"),
    (lambda: GeneralizedAssignment([[1, np.nan]], [[1, 2]], [3]), "profits"),
    (lambda: GeneralizedAssignment([[1, 2]], [[1, 2]], [3, 4]), "capacities"),
    (lambda: GeneralizedAssignment([[1, 2]], [[1, 2]], [3], sense="maximise"), "sense"),
    (lambda: SetCover([1, 2], [[1, 0], [0, 0]]), "cover"),
    (lambda: SetCover([1, 2], [[1, 2]]), "cover"),
    (lambda: SetCover([1, -2], [[1, 1]]), "costs"),
    (lambda: SetCover([1, 2, 3], [[1, 1]]), "cover"),
])
def test_constructors_name_the_bad_field(build, field):
    with pytest.raises(InvalidInstanceError) as info:
        build()
    assert info.value.field == field


def test_bad_native_solutions_are_rejected():
    p = random_gap(3, 5, rng=1)
    with pytest.raises(ValueError, match="agent indices"):
        p.evaluate([0, 1, 2, 3, 0])
    with pytest.raises(ValueError, match="integer"):
        p.evaluate([0.5, 1, 2, 0, 0])
    with pytest.raises(ValueError, match="0/1"):
        random_set_cover(5, 10, 0.3, rng=1).evaluate([2] * 10)


# --- generators ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["c", "d", "e"])
def test_gap_generator_follows_chu_beasley(kind):
    p = random_gap(5, 40, kind=kind, rng=8)
    W, P = p.weights, p.profits
    assert p.sense == "min" and np.all(W == np.round(W)) and np.all(P == np.round(P))
    assert np.array_equal(p.capacities, np.floor(0.8 * W.sum(axis=1) / 5))
    if kind == "c":
        assert W.min() >= 5 and W.max() <= 25 and P.min() >= 10 and P.max() <= 50
    elif kind == "d":
        assert W.min() >= 1 and W.max() <= 100 and np.all(np.abs(P - (111 - W)) <= 10)
    else:
        assert W.min() >= 1 and np.all(np.abs(P - 1000 / W) <= 10.5)
    again = random_gap(5, 40, kind=kind, rng=8)
    assert np.array_equal(again.profits, P) and np.array_equal(again.weights, W)


def test_set_cover_generator_follows_beasley():
    p = random_set_cover(100, 400, 0.03, rng=9)
    A = p.cover
    assert np.all(np.diff(A.indptr) >= 2)            # every row covered by at least two columns
    assert np.all(np.diff(A.tocsc().indptr) >= 1)    # every column covers a row
    assert A.nnz == round(0.03 * 100 * 400)
    assert p.costs.min() >= 1 and p.costs.max() <= 100 and np.all(p.costs == np.round(p.costs))
    same = random_set_cover(100, 400, 0.03, rng=9)
    assert (same.cover != A).nnz == 0 and np.array_equal(same.costs, p.costs)


def test_generators_are_reachable_from_the_command_line():
    gap = generate_problem("gap m=5 n=20 kind=d seed=1")
    cover = generate_problem("setcover m=200 n=1000 density=0.02 seed=1")
    assert gap.size == {"n": 20, "m": 5} and np.array_equal(gap.profits, random_gap(5, 20, kind="d", rng=1).profits)
    assert cover.size == {"n": 1000, "m": 200} and cover.cover.nnz == 4000


# --- readers and registry --------------------------------------------------------------------
def test_gap_reader_reads_the_library_files(benchmarks):
    ids = sorted(name for family, name in manifest(benchmarks) if family == "gap")
    assert len(ids) == 30
    problems = read_orlib_gap(benchmarks / "gap" / "gap5.txt")
    assert [p.name for p in problems] == [f"gap5#{k}" for k in range(1, 6)]
    assert all(p.size == {"n": 24, "m": 8} and p.sense == "max" for p in problems)
    p = load_instance("gap", "gap1#1", benchmarks)
    assert p.known_optimum.value == 336 and p.known_optimum.proven
    assert p.profits[0, :3].tolist() == [17, 21, 22] and p.capacities.tolist() == [36, 34, 38, 27, 33]


@pytest.mark.parametrize("text, line, match", [
    ("1\n2 2\n5 1\n2 4\n3 3\n3 3\n3\n", 7, "truncated"),
    ("1\n2 2\n5 x\n2 4\n3 3\n3 3\n3 3\n", 3, "'x'"),
    ("1\n2 2\n5 1\n2 4\n3 3\n3 3\n3 3\n9\n", 8, "nothing more"),
    ("1\n2 2\n5 1\n2 4\n3 -3\n3 3\n3 3\n", 2, "weights"),
])
def test_gap_reader_errors_carry_the_line(text, line, match):
    with pytest.raises(ParseError, match=match) as info:
        read_orlib_gap(text)
    assert info.value.line == line


def test_scp_reader_reads_the_shipped_files_and_unicost():
    p = read_orlib_scp(shipped_path("scp/scp41.txt"))
    assert p.name == "scp41" and p.size == {"n": 1000, "m": 200}
    tokens = [int(t) for t in shipped_path("scp/scp41.txt").read_text().split()]
    assert p.costs.tolist() == tokens[2:1002]
    rest, count = tokens[1002:], 0
    while rest:  # the rows as the file lists them: a count, then that many columns
        count, rest = count + rest[0], rest[1 + rest[0]:]
    assert p.cover.nnz == count == 4009 and p.costs.min() >= 1 and p.costs.max() <= 100
    u = read_orlib_scp(shipped_path("scp/scp41.txt"), unicost=True)
    assert np.all(u.costs == 1) and (u.cover != p.cover).nnz == 0
    for name, shipped in PUBLISHED.items():
        q = load_shipped(name)
        assert q.size == {"n": 1000, "m": 200} and q.known_optimum.value == shipped.optimum
        assert q.known_optimum.proven
    assert load_instance("setcover", "scp49").known_optimum.value == 641


@pytest.mark.parametrize("text, line, match", [
    ("2 3\n3 2 2\n2 1 2\n2 1 4\n", 4, "outside 1..3"),
    ("2 3\n3 2 2\n2 1 2\n2 1\n", 4, "truncated"),
    ("2 3\n3 2\n", 2, "truncated"),
    ("2 3\n3 2 2\n2 1 2.5\n2 1 3\n", 3, "integer"),
    ("2 3\n3 2 2\n2 1 2\n2 1 3\n7\n", 5, "nothing more"),
])
def test_scp_reader_errors_carry_the_line(text, line, match):
    with pytest.raises(ParseError, match=match) as info:
        read_orlib_scp(text)
    assert info.value.line == line


def test_scp_reader_refuses_an_uncoverable_row():
    with pytest.raises(ParseError, match="covered by no column"):
        read_orlib_scp("2 3\n3 2 2\n2 1 2\n0\n")
