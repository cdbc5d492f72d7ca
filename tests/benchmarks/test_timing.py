"""The shared timing method (benchmarks/timing.py): cold call apart, interleaved alternating
rounds, medians of per-round ratios."""

from __future__ import annotations

import time

import pytest

from tests.benchmarks.test_benchmark_scripts import _load


def test_compare_interleaves_alternating_orders_and_keeps_the_cold_call_apart():
    timing = _load("timing")
    calls = []

    def side(name, cold_extra):
        state = {"first": True}

        def fn():
            calls.append(name)
            if state["first"]:
                state["first"] = False
                time.sleep(cold_extra)
            return name
        return fn

    seen = []
    cmp = timing.compare({"a": side("a", 0.05), "b": side("b", 0.0)}, rounds=5,
                         on_result=lambda name, r, res: seen.append((name, r, res)))
    # cold calls first, then rounds alternating a b / b a
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a", "a", "b"]
    assert cmp.orders == [("a", "b"), ("b", "a"), ("a", "b"), ("b", "a"), ("a", "b")]
    assert cmp.sides["a"].cold_wall >= 0.05 and max(cmp.sides["a"].wall) < 0.05
    assert len(cmp.sides["a"].wall) == len(cmp.sides["b"].cpu) == 5
    assert seen[0] == ("a", -1, "a") and seen[-1] == ("b", 4, "b")


def test_ratio_is_the_median_of_per_round_ratios_from_self_timed_sides():
    timing = _load("timing")
    walls = {"slow": iter([9.0, 2.0, 4.0, 6.0, 8.0, 10.0]), "fast": iter([1.0, 1.0, 1.0, 2.0, 2.0, 1.0])}
    sides = {name: (lambda it=it: (next(it), 0.5)) for name, it in walls.items()}
    cmp = timing.compare(sides, rounds=5, timed={"slow", "fast"})
    # rounds (after the cold pair 9/1): 2/1, 4/1, 6/2, 8/2, 10/1 -> ratios 2, 4, 3, 4, 10
    assert cmp.ratio("slow", "fast") == (4.0, 2.0, 10.0)
    assert cmp.sides["slow"].cold_wall == 9.0
    assert cmp.ratio("slow", "fast", "cpu")[0] == 1.0
    assert "median of 5 interleaved rounds" in cmp.summary("slow", "fast")


def test_compare_refuses_too_few_rounds_or_sides():
    timing = _load("timing")
    with pytest.raises(ValueError, match="at least 5"):
        timing.compare({"a": lambda: 0, "b": lambda: 0}, rounds=3)
    with pytest.raises(ValueError, match="two sides"):
        timing.compare({"a": lambda: 0})
