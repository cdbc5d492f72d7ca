"""Memory guards: methods estimate their memory first and raise ProblemTooLargeError (size,
estimate, limit) under the one configurable limit (``cutslack.config``), before allocating."""

from __future__ import annotations

import pytest

import cutslack
from cutslack.config import MEMORY_LIMIT_ENV, check_memory, memory_limit, parse_bytes, set_memory_limit
from cutslack.errors import InvalidInstanceError, ProblemTooLargeError
from cutslack.problems import Knapsack, random_mdkp
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
