"""Memory guards: methods, generators and readers estimate their memory first and raise
ProblemTooLargeError (size, estimate, limit) under the one configurable limit
(``cutslack.config``: half the available memory by default), before allocating."""

from __future__ import annotations

import pytest

import cutslack
from cutslack.config import MEMORY_LIMIT_ENV, check_memory, memory_limit, parse_bytes, set_memory_limit
from cutslack.errors import InvalidInstanceError, ProblemTooLargeError
from cutslack.problems import (Knapsack, random_knapsack, random_mdkp, random_mis, random_qap, random_regular_mis,
                               random_tsp, random_unit_disk_mis)
from cutslack.reliability import dense_qubo


@pytest.fixture
def tiny_limit():
    set_memory_limit("8kB")
    yield
    set_memory_limit(None)


@pytest.mark.parametrize("method, make", [
    ("exhaustive", lambda: dense_qubo(25)),
    ("anneal", lambda: dense_qubo(200)),
    ("tabu", lambda: dense_qubo(200)),
    ("dp", lambda: Knapsack([1.0] * 10, [[1.0] * 10], [100_000.0])),
    ("milp", lambda: random_mdkp(200, 5, rng=0)),
])
def test_methods_refuse_before_allocating(tiny_limit, method, make):
    with pytest.raises(ProblemTooLargeError) as info:
        cutslack.solve(make(), method=method, rng=0)
    err = info.value
    assert err.estimate is not None and "8 kB" in str(err.limit)
    assert "CUTSLACK_MEMORY_LIMIT" in str(err)


def test_statevector_refuses_before_allocating(tiny_limit):
    pytest.importorskip("numba")
    from cutslack.quantum.statevector import check_statevector_size

    with pytest.raises(ProblemTooLargeError, match="statevector of 2\\^20"):
        check_statevector_size(20)


def test_the_limit_comes_from_the_setting_then_the_environment(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "2GiB")
    assert memory_limit() == 2 * 2**30
    set_memory_limit(12345)
    try:
        assert memory_limit() == 12345
        with pytest.raises(ProblemTooLargeError, match="set_memory_limit"):
            check_memory("thing", "n=5", 20_000)
    finally:
        set_memory_limit(None)
    monkeypatch.delenv(MEMORY_LIMIT_ENV)
    assert memory_limit() > 0
    assert parse_bytes("1.5 GB") == 1_500_000_000
    with pytest.raises(InvalidInstanceError, match="memory_limit"):
        parse_bytes("lots")


# ------------------------------------------------------------ generators, readers, the default limit


def _robust(n):
    from cutslack.problems.robust import random_robust_knapsack

    return random_robust_knapsack(n, rng=0)


def _capital(n):
    from cutslack.problems.capital_budgeting import random_capital_budgeting

    return random_capital_budgeting(n, rng=0)


def _pde(n):
    from cutslack.problems.pde import elliptic_control_fd

    return elliptic_control_fd(n)


#: (generator call of a huge instance, a small one that fits 8 MB): the huge one must be refused
#: before anything is drawn, the small one built
GENERATORS = [
    ("random_knapsack", lambda: random_knapsack(10**9, rng=0), lambda: random_knapsack(50, rng=0)),
    ("random_mdkp", lambda: random_mdkp(10**6, 1000, rng=0), lambda: random_mdkp(50, 5, rng=0)),
    ("random_mis", lambda: random_mis(10**6, 0.5, rng=0), lambda: random_mis(50, 0.2, rng=0)),
    ("random_regular_mis", lambda: random_regular_mis(10**8, 4, rng=0), lambda: random_regular_mis(50, 3, rng=0)),
    ("random_unit_disk_mis", lambda: random_unit_disk_mis(10**6, 0.9, rng=0),
     lambda: random_unit_disk_mis(50, 0.2, rng=0)),
    ("random_qap", lambda: random_qap(10**5, rng=0), lambda: random_qap(20, rng=0)),
    ("random_tsp", lambda: random_tsp(10**9, rng=0), lambda: random_tsp(30, rng=0)),
    ("random_robust_knapsack", lambda: _robust(10**9), lambda: _robust(30)),
    ("random_capital_budgeting", lambda: _capital(10**9), lambda: _capital(30)),
    ("elliptic_control_fd", lambda: _pde(10**5), lambda: _pde(20)),
]


@pytest.fixture
def limit_8mb():
    set_memory_limit("8MB")
    yield
    set_memory_limit(None)


@pytest.mark.parametrize("name, huge, small", GENERATORS, ids=[g[0] for g in GENERATORS])
def test_generators_refuse_huge_instances_before_drawing(limit_8mb, name, huge, small):
    with pytest.raises(ProblemTooLargeError) as info:
        huge()
    assert name in str(info.value) and "8 MB" in str(info.value)
    assert info.value.estimate is not None
    assert small().n > 0


def test_readers_refuse_text_and_matrices_over_the_limit(limit_8mb, tmp_path):
    from cutslack.problems.library import read_dimacs, read_qaplib, read_tsplib

    big = tmp_path / "big.dat"
    big.write_text("3\n" + "1 " * 200_000 + "\n")  # 400 kB of text: about 13 MB of tokens
    with pytest.raises(ProblemTooLargeError, match="reading .*big.dat"):
        read_qaplib(big)
    dense = "NAME: t\nTYPE: TSP\nDIMENSION: 2000\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\n"
    with pytest.raises(ProblemTooLargeError, match="TSPLIB explicit distance matrix"):
        read_tsplib(dense + "EDGE_WEIGHT_SECTION\n1 2 3\nEOF\n")
    with pytest.raises(ProblemTooLargeError, match="DIMACS graph complement"):
        read_dimacs("p edge 3000 1\ne 1 2\n", complement=True)
    assert read_dimacs("p edge 3 1\ne 1 2\n").n == 3


def test_the_default_limit_is_half_the_available_memory(monkeypatch):
    from cutslack.config import DEFAULT_MEMORY_FRACTION, available_memory

    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    with open("/proc/meminfo") as handle:
        lines = dict(line.split(":", 1) for line in handle)
    assert available_memory() == int(lines["MemAvailable"].split()[0]) * 1024
    assert DEFAULT_MEMORY_FRACTION == 0.5
    assert memory_limit() == pytest.approx(0.5 * available_memory(), rel=0.05)  # memory moves between reads
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "10%")
    assert memory_limit() == pytest.approx(0.1 * available_memory(), rel=0.05)
    with pytest.raises(InvalidInstanceError, match="percentage"):
        parse_bytes("150%")


def test_the_command_line_refuses_a_huge_generator_with_exit_2(capsys):
    from cutslack.cli import main

    code = main(["solve", "--generate", "knapsack n=1000000000", "-m", "mdkp-greedy"])
    err = capsys.readouterr().err
    assert code == 2
    assert "random_knapsack" in err and "over the limit" in err and "CUTSLACK_MEMORY_LIMIT" in err
