"""Exact branch-and-price (method="branch_and_price") for the two-stage robust knapsack."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import cutslack
from cutslack.api import Run
from cutslack.problems import random_robust_knapsack
from cutslack.problems.library import read_robust_knapsack
from cutslack.problems.robust import TwoStageRobustKnapsack, worst_case_profit
from cutslack.result import Status
from cutslack.solvers.robust.branch_price import RobustKnapsackMaster, column_generation
from cutslack.testing import check_result

RO = "ro/TwoStageRobustKnapsackInstances"


def brute_force_robust_optimum(problem) -> float:
    """Independent reference: the exact worst case of every first-stage vector."""
    X = np.array(list(itertools.product((0.0, 1.0), repeat=problem.n)))
    return float(problem.evaluate(X).max())


def shared_sub_instance(benchmarks, name: str, items: int) -> TwoStageRobustKnapsack:
    """The first ``items`` items of a public instance, with the capacity and budget of the
    published grid recomputed for them (``C = floor(h / 101 Σ c)``, ``Γ = items × dev``)."""
    full = read_robust_knapsack(benchmarks / RO / name)
    h = float(name.split("_h")[1].split("_")[0])
    dev = float(name.split("_dev")[1].split("_")[0])
    keep = slice(0, items)
    return TwoStageRobustKnapsack(full.profits[keep], full.degradations[keep], full.repair_weights[keep],
                                  full.weights[keep], full.outsourcing_costs[keep],
                                  np.floor(h / 101 * full.weights[keep].sum()), items * dev,
                                  name=f"{name}-first{items}")


@pytest.mark.parametrize("seed, correlation, budget_factor, delta", [(0, "UN", 0.3, 1.0), (1, "WC", 0.2, 0.5),
                                                                     (2, "ASC", 0.1, 0.1), (3, "SC", 0.3, 0.5),
                                                                     (9, "WC", 0.2, 1.0)])
def test_branch_and_price_matches_brute_force(seed, correlation, budget_factor, delta):
    problem = random_robust_knapsack(9, correlation=correlation, budget_factor=budget_factor, delta=delta, rng=seed)
    result = cutslack.solve(problem, method="branch_and_price", rng=0)
    assert result.status is Status.OPTIMAL
    check_result(problem, result, optimum=brute_force_robust_optimum(problem), rel_tol=1e-7)
    assert result.bound >= result.objective - 1e-6
    assert result.info["nodes"] >= 1 and result.info["columns"] >= 2


@pytest.mark.parametrize("name", ["RKP_WC_n20_R1000_H100_h40_dev0.15_d0.1", "RKP_SC_n20_R1000_H100_h80_dev0.2_d1"])
def test_branch_and_price_matches_brute_force_on_shared_sub_instances(benchmarks, name):
    problem = shared_sub_instance(benchmarks, name, 10)
    result = cutslack.solve(problem, method="branch_and_price", rng=0)
    assert result.status is Status.OPTIMAL
    check_result(problem, result, optimum=brute_force_robust_optimum(problem), rel_tol=1e-7)


@pytest.mark.parametrize("seed", [4, 5])
def test_branch_and_price_agrees_with_ccg(seed):
    problem = random_robust_knapsack(7, correlation="ASC", budget_factor=0.3, delta=0.5, rng=seed)
    bp = cutslack.solve(problem, method="branch_and_price", rng=0)
    ccg = cutslack.solve(problem, method="ccg", rng=0, time_limit=120)
    assert bp.status is Status.OPTIMAL and ccg.status is Status.OPTIMAL
    assert bp.objective == pytest.approx(ccg.objective, rel=1e-7)


def test_master_lp_with_fixed_first_stage_is_the_exact_worst_case(benchmarks):
    """With x fixed, the reformulation's LP (column generation to the end) is the worst case
    found by the independent row generation over scenarios."""
    problem = read_robust_knapsack(benchmarks / RO / "RKP_ASC_n20_R1000_H100_h40_dev0.15_d0.5")
    master = RobustKnapsackMaster(problem)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = (rng.random(problem.n) < 0.6).astype(float)
        value, _, state = column_generation(master, x, x, Run(), -np.inf, 0.0)
        assert state == "converged"
        assert value == pytest.approx(worst_case_profit(problem, x).value, rel=1e-8)


def test_branch_and_price_bound_is_valid_and_time_limit_honoured(benchmarks):
    """A hard public instance (published 225 s): stopped at 3 s, the bound stays at least the
    published optimum and the value at most it."""
    problem = read_robust_knapsack(benchmarks / RO / "RKP_WC_n20_R1000_H100_h40_dev0.15_d0.1")
    limit = 3.0
    result = cutslack.solve(problem, method="branch_and_price", rng=0, time_limit=limit)
    assert result.status is Status.TIME_LIMIT
    assert result.wall_time <= limit + max(0.1 * limit, 1.0)
    check_result(problem, result, rel_tol=1e-5, reach_known=False)
    published = problem.known_optimum.value          # proven optimal, printed with 6 significant digits
    assert result.bound >= published - 0.005
    assert result.objective <= published + 0.005
    assert result.bound > result.objective


def test_branch_and_price_same_seed_same_result():
    problem = random_robust_knapsack(10, correlation="SC", budget_factor=0.2, rng=4)
    a = cutslack.solve(problem, method="branch_and_price", rng=3)
    b = cutslack.solve(problem, method="branch_and_price", rng=3)
    assert np.array_equal(a.x, b.x) and a.objective == b.objective and a.nit == b.nit
    assert a.info["columns"] == b.info["columns"]


def test_branch_and_price_callback_stops_and_options_are_checked():
    problem = random_robust_knapsack(10, correlation="WC", rng=2)

    def stop(intermediate):
        raise StopIteration

    result = cutslack.solve(problem, method="branch_and_price", callback=stop)
    assert result.status is Status.STOPPED and result.nit == 1 and result.feasible
    with pytest.raises(ValueError, match="rel_gap"):
        cutslack.solve(problem, method="branch_and_price", rel_gap=2.0)
    with pytest.raises(ValueError, match="max_nodes"):
        cutslack.solve(problem, method="branch_and_price", max_nodes=0)


def test_branch_and_price_fractional_weights_use_the_milp_pricing():
    """Non-integral weights: pricing by the HiGHS MILP instead of the DP, same optimum as brute force."""
    base = random_robust_knapsack(7, correlation="UN", budget_factor=0.3, rng=6)
    problem = TwoStageRobustKnapsack(base.profits, base.degradations, base.repair_weights + 0.25,
                                     base.weights + 0.5, base.outsourcing_costs, base.capacity + 0.3, base.budget)
    result = cutslack.solve(problem, method="branch_and_price", rng=0)
    assert result.status is Status.OPTIMAL
    check_result(problem, result, optimum=brute_force_robust_optimum(problem), rel_tol=1e-7)


@pytest.mark.parametrize("name", ["RKP_UN_n20_R1000_H100_h40_dev0.15_d1", "RKP_ASC_n20_R1000_H100_h40_dev0.1_d0.5"])
def test_branch_and_price_certifies_the_published_optimum(benchmarks, name):
    """Public n = 20 instances proven in about a second here (benchmarks/results/robust_bp_n20_30s.md):
    the proven value is the published optimum (the CSV prints 6 significant digits)."""
    problem = read_robust_knapsack(benchmarks / RO / name)
    result = cutslack.solve(problem, method="branch_and_price", rng=0, time_limit=300)
    assert result.status is Status.OPTIMAL
    check_result(problem, result, rel_tol=1e-5)
    assert result.objective == pytest.approx(problem.known_optimum.value, abs=0.005 + 1e-9)
    assert result.bound == pytest.approx(result.objective, rel=1e-6)
