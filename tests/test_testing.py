"""The conformance kit: brute force agrees with the exact DP, check_result catches broken results."""

import dataclasses

import numpy as np
import pytest

import cutslack
from cutslack.problems import random_knapsack
from cutslack.testing import brute_force, check_result, small_instances


def test_brute_force_matches_dp():
    for seed in range(5):
        p = random_knapsack(12, kind="strongly", rng=seed)
        assert brute_force(p)[1] == cutslack.solve(p, method="dp").objective


def test_small_instances_have_proven_optima():
    inst = small_instances()
    assert set(inst) == {"knapsack", "mdkp", "mis", "qap", "tsp"}
    for p in inst.values():
        assert p.known_optimum.proven


def test_check_result_rejects_a_wrong_objective():
    p = small_instances()["knapsack"]
    res = cutslack.solve(p, method="dp")
    check_result(p, res, optimum=p.known_optimum.value)
    with pytest.raises(AssertionError, match="own evaluation"):
        check_result(p, dataclasses.replace(res, objective=res.objective + 1))
    with pytest.raises(AssertionError, match="differs from optimum"):
        check_result(p, dataclasses.replace(res, bound=None), optimum=res.objective + 5)
    with pytest.raises(AssertionError, match="below the optimum"):
        check_result(p, res, optimum=res.objective + 5)   # dp's bound cannot lie below a true optimum
    with pytest.raises(AssertionError, match="beats the optimum"):
        check_result(p, dataclasses.replace(res, bound=None), optimum=res.objective - 5, reach_known=False)
    with pytest.raises(AssertionError, match="infeasible"):
        bad = np.ones(p.n, dtype=int)
        check_result(p, dataclasses.replace(res, x=bad, objective=p.evaluate(bad), feasible=False))
