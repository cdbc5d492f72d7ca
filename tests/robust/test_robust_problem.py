"""The two-stage robust knapsack: validation, reader, generator and the exact worst case."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog

from cutslack.errors import InvalidInstanceError, ParseError
from cutslack.problems import TwoStageRobustKnapsack, random_robust_knapsack
from cutslack.problems.library import load_instance, read_robust_knapsack
from cutslack.problems.robust import second_stage_profit, worst_case_profit, _second_stage_milp

RO = "ro/TwoStageRobustKnapsackInstances"


def brute_force_worst_case(problem, x) -> float:
    """Enumerate every second-stage (y, r) and solve min_{xi in U} max_k g_k(xi) as one LP."""
    n = problem.n
    items = np.flatnonzero(x)
    f, ph, c, t = problem.outsourcing_costs, problem.degradations, problem.weights, problem.repair_weights
    consts, slopes = [], []
    for states in itertools.product((0, 1, 2), repeat=len(items)):  # drop, keep, keep+repair
        s = np.zeros(n)
        s[items] = states
        keep, repair = (s == 1).astype(float), (s == 2).astype(float)
        if c @ (keep + repair) + t @ repair <= problem.capacity + 1e-9:
            consts.append(f @ (keep + repair))
            slopes.append(-ph * keep)
    # variables (xi, theta): min theta s.t. slopes_k xi - theta <= -const_k, sum xi <= Gamma
    A = np.vstack([np.hstack([np.array(slopes), -np.ones((len(slopes), 1))]), np.append(np.ones(n), 0.0)])
    b = np.append(-np.array(consts), problem.budget)
    res = linprog(np.append(np.zeros(n), 1.0), A_ub=A, b_ub=b, bounds=[(0, 1)] * n + [(None, None)],
                  method="highs")
    assert res.status == 0
    return float(x @ (problem.profits - problem.outsourcing_costs) + res.fun)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("correlation", ["UN", "SC"])
def test_worst_case_matches_brute_force(seed, correlation):
    problem = random_robust_knapsack(7, correlation=correlation, budget_factor=0.3, delta=1.0, h=60, rng=seed)
    rng = np.random.default_rng(100 + seed)
    for _ in range(3):
        x = (rng.random(problem.n) < 0.7).astype(float)
        exact = worst_case_profit(problem, x)
        assert exact.value == pytest.approx(brute_force_worst_case(problem, x), rel=1e-7, abs=1e-6)
        assert exact.lower <= exact.value + 1e-6
        # the reported worst scenario is in the uncertainty set and attains the value
        assert exact.scenario.min() >= 0 and exact.scenario.max() <= 1 + 1e-9
        assert exact.scenario.sum() <= problem.budget + 1e-7
        value, *_ = second_stage_profit(problem, x, exact.scenario)
        assert value + problem.first_stage_profit(x) == pytest.approx(exact.value, rel=1e-9)


def test_dynamic_program_matches_highs_milp():
    problem = random_robust_knapsack(30, correlation="WC", rng=5)
    rng = np.random.default_rng(6)
    for _ in range(5):
        x = (rng.random(30) < 0.8).astype(float)
        xi = rng.random(30)
        value, y, r = second_stage_profit(problem, x, xi)
        items = np.flatnonzero(x)
        unrepaired = (problem.outsourcing_costs - problem.degradations * xi)[items]
        u, v = _second_stage_milp(problem.weights[items], (problem.weights + problem.repair_weights)[items],
                                  unrepaired, problem.outsourcing_costs[items], problem.capacity)
        assert value == pytest.approx(unrepaired @ u + problem.outsourcing_costs[items] @ v, rel=1e-9)
        assert np.all(r <= y) and np.all(y <= x)
        assert problem.weights @ y + problem.repair_weights @ r <= problem.capacity


def test_evaluate_contract_and_batch():
    problem = random_robust_knapsack(10, rng=0)
    X = np.array([[0] * 10, [1] * 10, [1, 0] * 5], dtype=float)
    values = problem.evaluate(X)
    assert values.shape == (3,) and values[0] == 0.0
    assert values[2] == pytest.approx(problem.evaluate(X[2]))
    assert np.all(problem.is_feasible(X))
    with pytest.raises(ValueError, match="0/1"):
        problem.evaluate(np.full(10, 0.5))


@pytest.mark.parametrize("field, kwargs", [
    ("budget", {"budget": 4.0}),
    ("budget", {"budget": -0.5}),
    ("weights", {"weights": [1.0, -2.0, 3.0]}),
    ("repair_weights", {"repair_weights": [1.0, 2.0]}),
    ("outsourcing_costs", {"outsourcing_costs": [1.0, np.nan, 1.0]}),
])
def test_invalid_instances_name_the_field(field, kwargs):
    data = dict(profits=[5.0, 6.0, 7.0], degradations=[1.0, 1.0, 1.0], repair_weights=[1.0, 1.0, 1.0],
                weights=[2.0, 2.0, 2.0], outsourcing_costs=[6.0, 7.0, 8.0], capacity=4.0, budget=1.0)
    data.update(kwargs)
    with pytest.raises(InvalidInstanceError) as err:
        TwoStageRobustKnapsack(**data)
    assert err.value.field == field


def test_reader_errors_point_at_the_line():
    good = "2 6 1\n 10 4 1 3 5\n 8 4 1 3 5\n"
    assert read_robust_knapsack(good).n == 2
    with pytest.raises(ParseError, match=r"<text>:3: truncated"):
        read_robust_knapsack("2 6 1\n 10 4 1 3 5\n 8 4 1\n")
    with pytest.raises(ParseError, match=r"<text>:2: expected a finite number"):
        read_robust_knapsack("2 6 1\n 10 x 1 3 5\n 8 4 1 3 5\n")
    with pytest.raises(ParseError, match=r"<text>:1:"):
        read_robust_knapsack("2 6\n 10 4 1 3 5\n 8 4 1 3 5\n")
    with pytest.raises(ParseError, match=r"<text>:4: expected nothing more"):
        read_robust_knapsack(good + "1 2\n")
    with pytest.raises(ParseError, match=r"<text>:1: .*budget"):
        read_robust_knapsack("2 6 3\n 10 4 1 3 5\n 8 4 1 3 5\n")
    with pytest.raises(ParseError, match=r"<text>:3: .*weights"):  # the family's rules, at the item's line
        read_robust_knapsack("2 6 1\n 10 4 1 3 5\n 8 4 1 -3 5\n")


def test_public_files_and_published_values(benchmarks):
    folder = benchmarks / RO
    solved = read_robust_knapsack(folder / "RKP_ASC_n20_R1000_H100_h40_dev0.1_d0.5")
    assert (solved.n, solved.capacity, solved.budget) == (20, 3569.0, 2.0)
    assert solved.known_optimum.value == 4288.67 and solved.known_optimum.proven
    unsolved = read_robust_knapsack(folder / "RKP_ASC_n30_R1000_H100_h40_dev0.15_d0.1")
    assert unsolved.known_optimum.value == 6324 and not unsolved.known_optimum.proven
    assert load_instance("ro", "RKP_ASC_n20_R1000_H100_h40_dev0.1_d0.5", benchmarks).known_optimum.value == 4288.67


def test_generator_reproduces_the_published_grid(benchmarks):
    """Every published rule holds: Γ = n × dev, C = floor(h/(H+1) Σ c), and the correlation shapes."""
    problem = random_robust_knapsack(40, correlation="SC", h=80, delta=0.1, budget_factor=0.15, rng=7)
    assert problem.budget == pytest.approx(6.0)
    assert problem.capacity == np.floor(80 / 101 * problem.weights.sum())
    assert np.allclose(problem.profits, problem.weights + 100, atol=0.5)
    ratio = problem.degradations / problem.profits
    assert ratio.min() >= 0.45 - 1e-2 and ratio.max() <= 0.55 + 1e-2
    f_ratio = problem.outsourcing_costs / problem.profits
    assert f_ratio.min() >= 1.1 - 1e-2 and f_ratio.max() <= 1.5 + 1e-2
    same = random_robust_knapsack(40, correlation="SC", h=80, delta=0.1, budget_factor=0.15, rng=7)
    assert np.array_equal(same.profits, problem.profits)
    # the published SC file of the same grid point obeys the same rules
    public = read_robust_knapsack(benchmarks / RO / "RKP_SC_n40_R1000_H100_h80_dev0.15_d0.1")
    assert public.budget == pytest.approx(6.0)
    assert np.allclose(public.profits, public.weights + 100, atol=0.5)
    with pytest.raises(InvalidInstanceError, match="correlation"):
        random_robust_knapsack(10, correlation="XX")
