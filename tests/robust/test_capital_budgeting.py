"""Two-stage robust capital budgeting: validation, generator, exact worst case against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from cutslack.errors import InvalidInstanceError
from cutslack.problems import CapitalBudgeting, random_capital_budgeting
from cutslack.problems.capital_budgeting import BUDGET_MARGIN, second_stage_revenue, worst_case_revenue


def all_plans(n: int) -> np.ndarray:
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def brute_force_second_stage(problem, x, xi) -> float:
    """Best total revenue at ``xi`` by enumerating every late plan (NumPy only)."""
    Y = all_plans(problem.n)
    Y = Y[np.all(Y + x <= 1, axis=1)]
    cost, revenue = problem.scenario_costs(xi), problem.scenario_revenues(xi)
    affordable = (x + Y) @ cost <= problem.budget
    return float(((x + problem.late_revenue_factor * Y) @ revenue)[affordable].max())


def feasible_decisions(problem):
    X = all_plans(problem.n)
    return X[problem.is_feasible(X)]


# ------------------------------------------------------------------ validation


def _valid(**overrides):
    fields = dict(costs=[2.0, 3.0], revenues=[0.4, 0.6], cost_loadings=[[0.5, 0.5], [1.0, 0.0]],
                  revenue_loadings=[[0.2, 0.8], [0.5, 0.5]], budget=2.5)
    fields.update(overrides)
    return fields


@pytest.mark.parametrize("overrides, field", [
    ({"costs": [-1.0, 3.0]}, "costs"),
    ({"revenues": [0.4]}, "revenues"),
    ({"revenues": [0.4, -0.6]}, "revenues"),
    ({"cost_loadings": [[0.5, 0.5]]}, "cost_loadings"),
    ({"cost_loadings": np.zeros((2, 0)), "revenue_loadings": np.zeros((2, 0))}, "cost_loadings"),
    ({"revenue_loadings": [[0.5], [0.5]]}, "revenue_loadings"),
    ({"cost_loadings": [[2.0, 0.5], [1.0, 0.0]]}, "cost_loadings"),
    ({"revenue_loadings": [[0.2, np.nan], [0.5, 0.5]]}, "revenue_loadings"),
    ({"budget": -1.0}, "budget"),
    ({"late_revenue_factor": 1.5}, "late_revenue_factor"),
    ({"costs": []}, "costs"),
])
def test_bad_fields_are_named(overrides, field):
    with pytest.raises(InvalidInstanceError, match=field):
        CapitalBudgeting(**_valid(**overrides))


@pytest.mark.parametrize("kwargs, field", [({"n": 0}, "n"), ({"n": 5, "k": 0}, "k"), ({"n": 2.5}, "n")])
def test_generator_rejects_bad_sizes(kwargs, field):
    with pytest.raises(InvalidInstanceError, match=field):
        random_capital_budgeting(**kwargs)


def test_generator_follows_the_reference_distribution():
    p = random_capital_budgeting(40, rng=7)
    assert p.size == {"n": 40, "k": 4} and p.sense == "max" and p.late_revenue_factor == 0.8
    assert np.all((p.costs >= 1) & (p.costs <= 10))
    np.testing.assert_allclose(p.revenues, p.costs / 5)
    assert p.budget == pytest.approx(p.costs.sum() / 2)
    for loadings in (p.cost_loadings, p.revenue_loadings):
        assert np.all(loadings >= 0)
        np.testing.assert_allclose(loadings.sum(axis=1), 1.0)
    again = random_capital_budgeting(40, rng=7)
    np.testing.assert_array_equal(p.cost_loadings, again.cost_loadings)
    assert not np.array_equal(p.costs, random_capital_budgeting(40, rng=8).costs)


def test_costliest_scenario_is_the_closed_form_over_the_box_vertices():
    p = random_capital_budgeting(7, k=3, rng=1)
    vertices = all_plans(3) * 2 - 1
    for x in all_plans(7)[::9]:
        brute = max(p.scenario_costs(v) @ x for v in vertices)
        assert p.worst_first_stage_cost(x) == pytest.approx(brute)
        assert p.is_feasible(x) == (brute <= p.budget + 1e-9)


def test_an_unaffordable_first_stage_is_infeasible_and_still_scored():
    p = random_capital_budgeting(6, rng=0)
    x = np.ones(6)
    assert not p.is_feasible(x) and p.violation(x)[0] == pytest.approx(p.worst_first_stage_cost(x) - p.budget)
    assert np.isfinite(p.evaluate(x))
    with pytest.raises(ValueError, match="exceeds the budget"):
        worst_case_revenue(p, x)
    with pytest.raises(ValueError, match="0/1"):
        p.evaluate(np.full(6, 0.5))


# ------------------------------------------------------------------ exact worst case


def test_second_stage_matches_enumeration():
    p = random_capital_budgeting(8, rng=3)
    rng = np.random.default_rng(0)
    for x in feasible_decisions(p)[::11]:
        xi = rng.uniform(-1, 1, p.k)
        value, y = second_stage_revenue(p, x, xi)
        assert value == pytest.approx(brute_force_second_stage(p, x, xi), rel=1e-9)
        assert p.scenario_costs(xi) @ (x + y) <= p.budget and np.all(x + y <= 1)


def adversary_milp_by_hand(problem, x, margin: float) -> float:
    """The worst case of ``x`` from the paper's model, written here with SciPy's ``milp``.

    ``min t`` over ``ξ ∈ [-1, 1]^k`` such that every late plan ``y`` either bounds ``t`` from below
    by its revenue ``r(ξ)·(x + f y)`` (``z_y = 1``) or overshoots the budget,
    ``c(ξ)·(x + y) >= B + margin`` (``z_y = 0``); big-M constants from the box.  Every plan
    of the free projects is listed (no row generation), so only for tiny instances.
    """
    k, B = problem.k, problem.budget
    free = np.flatnonzero(x < 0.5)
    plans = [np.zeros(problem.n)]
    for bits in itertools.product((0.0, 1.0), repeat=free.size):
        if any(bits):
            y = np.zeros(problem.n)
            y[free] = bits
            plans.append(y)
    # revenue a + b·ξ and cost alpha + beta·ξ of each plan (r_i(ξ) = (1 + ψ_i·ξ/2) r̄_i, same for c)
    revenue_w = [problem.revenues * (x + problem.late_revenue_factor * y) for y in plans]
    cost_w = [problem.costs * (x + y) for y in plans]
    a = np.array([w.sum() for w in revenue_w])
    b = np.array([0.5 * w @ problem.revenue_loadings for w in revenue_w])
    alpha = np.array([w.sum() for w in cost_w])
    beta = np.array([0.5 * w @ problem.cost_loadings for w in cost_w])
    t_low = a[0] - np.abs(b[0]).sum()          # y = 0 is affordable everywhere (x is feasible)
    always = alpha + np.abs(beta).sum() <= B    # affordable in every scenario: no binary
    never = alpha - np.abs(beta).sum() > B      # affordable in no scenario: no constraint
    optional = np.flatnonzero(~always & ~never)
    nv = k + 1 + optional.size                  # columns: ξ, t, z
    rows, lower, upper = [], [], []
    for i in np.flatnonzero(always):            # t - b ξ >= a
        row = np.zeros(nv)
        row[:k], row[k] = -b[i], 1.0
        rows.append(row), lower.append(a[i]), upper.append(np.inf)
    for j, i in enumerate(optional):
        big_revenue = a[i] + np.abs(b[i]).sum() - t_low
        big_cost = B + margin - (alpha[i] - np.abs(beta[i]).sum())
        row = np.zeros(nv)                      # t - b ξ - M z >= a - M
        row[:k], row[k], row[k + 1 + j] = -b[i], 1.0, -big_revenue
        rows.append(row), lower.append(a[i] - big_revenue), upper.append(np.inf)
        row = np.zeros(nv)                      # beta ξ + M' z >= B + margin - alpha
        row[:k], row[k + 1 + j] = beta[i], big_cost
        rows.append(row), lower.append(B + margin - alpha[i]), upper.append(np.inf)
    cost = np.zeros(nv)
    cost[k] = 1.0
    res = milp(cost, constraints=LinearConstraint(np.array(rows), lower, upper),
               integrality=np.r_[np.zeros(k + 1), np.ones(optional.size)],
               bounds=Bounds(np.r_[-np.ones(k), t_low, np.zeros(optional.size)],
                             np.r_[np.ones(k), np.inf, np.ones(optional.size)]),
               options={"mip_rel_gap": 0.0})
    assert res.status == 0, res.message
    return float(res.fun)


@pytest.mark.parametrize("seed", [0, pytest.param(4, marks=pytest.mark.slow)])
def test_worst_case_matches_the_milp_over_every_plan(seed):
    """The default (Neur2RO ``cb``) setting k = 4 against two references written in this test: the
    paper's disjunctive model over every plan (SciPy ``milp``), and brute force over sampled
    scenarios and the box's vertices (NumPy only; it can only overstate the worst case)."""
    p = random_capital_budgeting(6, rng=seed)
    assert p.k == 4
    margin = BUDGET_MARGIN * max(1.0, p.budget)
    scenarios = np.vstack([all_plans(4) * 2 - 1, np.random.default_rng(seed).uniform(-1, 1, (300, 4))])
    for x in feasible_decisions(p):
        worst = worst_case_revenue(p, x)
        assert worst.value == pytest.approx(adversary_milp_by_hand(p, x, margin), rel=1e-7, abs=1e-7)
        assert worst.value <= min(brute_force_second_stage(p, x, xi) for xi in scenarios) + 1e-9
        # the value is attained: the reported scenario really earns it
        assert second_stage_revenue(p, x, worst.scenario)[0] == pytest.approx(worst.value, rel=1e-9)
        assert worst.lower <= worst.value + 1e-9


def test_worst_case_matches_a_fine_scenario_grid_with_one_factor():
    """k = 1: the worst case over a 4001-point grid of [-1, 1] (brute force over plans, NumPy only)."""
    p = random_capital_budgeting(5, k=1, rng=2)
    grid = np.linspace(-1, 1, 4001)
    for x in feasible_decisions(p):
        on_grid = min(brute_force_second_stage(p, x, np.array([xi])) for xi in grid)
        value = worst_case_revenue(p, x).value
        # the infimum may sit just past a budget boundary between grid points (within one grid
        # step), and the adversary must overshoot the budget by BUDGET_MARGIN to drop a plan
        lipschitz = 0.5 * p.revenues.sum() * (1 + p.late_revenue_factor)
        assert value <= on_grid + 10 * BUDGET_MARGIN * max(1.0, value)
        assert value >= on_grid - lipschitz * (grid[1] - grid[0])


def test_the_example_with_a_jump_at_the_budget_boundary():
    # one project now; the other fits late only while xi <= -1/2, so the worst case approaches
    # 0.75 from the side where the late project is unaffordable
    p = CapitalBudgeting([2, 2], [1, 1], [[1.0], [1.0]], [[1.0], [1.0]], budget=3)
    assert p.evaluate([1, 0]) == pytest.approx(0.75, abs=1e-4)
    assert p.evaluate([0, 0]) == pytest.approx(0.8 * 0.75, abs=1e-4)  # one late project, just past -1/2
