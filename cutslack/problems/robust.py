"""Two-stage robust knapsack (Arslan & Detienne 2022; the ``kp`` setting of Neur2RO).

A first stage picks items ``x``; an adversary then degrades profits by ``ξ ∈ Ξ = {ξ ∈ [0,1]^n :
Σ ξ_i ≤ Γ}``; the second stage produces a subset ``y ≤ x`` of the picked items and repairs some of
them (``r ≤ y``) within the capacity::

    max_x  Σ_i (p̄_i - f_i) x_i  +  min_{ξ ∈ Ξ}  max_{y, r}  Σ_i (f_i - p̂_i ξ_i) y_i + Σ_i p̂_i ξ_i r_i
           s.t.  Σ_i (c_i y_i + t_i r_i) <= C,   r <= y <= x,   x, y, r binary.

A picked item earns ``p̄_i`` when produced (minus ``p̂_i ξ_i`` unless repaired) and ``p̄_i - f_i``
when outsourced.  This is the worst-case profit reported by the published branch-and-price
results (``ResultsForBranchAndPrice.csv``) and by Neur2RO (which minimises its negative).

Exact evaluation of a first-stage decision (:func:`worst_case_profit`)
--------------------------------------------------------------------
For fixed ``x`` the uncertainty sits only in the objective and the second stage has finitely
many feasible ``(y, r)``, so the worst case is the LP ``min_{ξ ∈ Ξ, θ} θ`` subject to
``θ >= g_k(ξ)`` for every second-stage solution ``k`` (``g_k`` is affine in ``ξ``).  We solve it
exactly by **row generation**: an LP master over ``(ξ, θ)`` with the cuts found so far (HiGHS,
rows added to the loaded LP and re-solved warm) alternates with the second-stage MILP at the
master's ``ξ`` (HiGHS, ``mip_rel_gap = 0``).  The master value is a lower bound, the MILP value
at the master's ``ξ`` an upper bound; when they meet (to ``1e-9`` relative) the value is exact,
and the loop is finite because each round adds a new solution.  Dualising the inner max is not
possible (it is an integer program), and enumerating the ``3^{|x|}`` solutions is only
practical for tiny instances (the tests do it to check this routine).

Generator: :func:`random_robust_knapsack` reproduces the published grid (correlation
``UN``/``WC``/``ASC``/``SC``, ``h``, ``δ``, budget factor), following the notes in
``shared/benchmarks/ro/NEUR2RO_NOTES.md``.  The reader is
:func:`cutslack.problems.library.robust_kp.read_robust_knapsack`.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from cutslack.config import check_memory
from cutslack.errors import BackendUnavailableError, InvalidInstanceError, SolverError
from cutslack.problems.base import KnownOptimum, Problem, as_rng, check_array, first_stage_bits

__all__ = ["TwoStageRobustKnapsack", "random_robust_knapsack", "WorstCase", "worst_case_profit",
           "second_stage_profit", "CORRELATIONS"]

#: correlation types of the published grid
CORRELATIONS = ("UN", "WC", "ASC", "SC")

#: relative tolerance at which the row generation of the worst case stops
WORST_CASE_TOLERANCE = 1e-9

#: weight of the LP master's point in the in-out query point of the worst-case row generation
IN_OUT_WEIGHT = 0.3

#: worst cases remembered per instance (a solver's incumbent is re-scored by ``evaluate``)
_WORST_CASE_MEMO_SIZE = 64
_MEMO: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class TwoStageRobustKnapsack(Problem):
    """Two-stage robust knapsack with profit degradations and repairs (maximise worst-case profit).

    Parameters
    ----------
    profits : (n,) array
        Nominal profits ``p̄``.
    degradations : (n,) non-negative array
        Largest profit degradations ``p̂``.
    repair_weights : (n,) non-negative array
        Extra capacity ``t`` used by repairing an item.
    weights : (n,) non-negative array
        Capacity ``c`` used by producing an item.
    outsourcing_costs : (n,) non-negative array
        ``f``: an item picked but not produced earns ``p̄ - f``.
    capacity : float
        ``C >= 0``.
    budget : float
        Uncertainty budget ``Γ`` in ``[0, n]``.
    name : str
    known_optimum : KnownOptimum, optional

    Notes
    -----
    ``evaluate(x)`` is the exact worst-case profit of the first-stage decision ``x`` (see the
    module docstring); there are no first-stage constraints (producing nothing is always
    feasible), so every 0/1 vector is feasible.

    Examples
    --------
    >>> p = TwoStageRobustKnapsack([10, 8], [4, 4], [1, 1], [3, 3], [5, 5], capacity=6, budget=1)
    >>> p.evaluate([1, 1])
    14.0
    """

    profits: np.ndarray
    degradations: np.ndarray
    repair_weights: np.ndarray
    weights: np.ndarray
    outsourcing_costs: np.ndarray
    capacity: float
    budget: float
    name: str = "robust-knapsack"
    known_optimum: KnownOptimum | None = None
    meta: dict = field(default_factory=dict, repr=False)

    sense = "max"
    family = "robust"

    def __post_init__(self):
        p = check_array(self.profits, "profits", ndim=1)
        n = p.shape[0]
        if n < 1:
            raise InvalidInstanceError("profits", "must have at least one item")
        for name in ("degradations", "repair_weights", "weights", "outsourcing_costs"):
            arr = check_array(getattr(self, name), name, ndim=1, nonneg=True)
            if arr.shape[0] != n:
                raise InvalidInstanceError(name, f"must have {n} entries (one per item, as profits), got {arr.shape[0]}")
            object.__setattr__(self, name, arr)
        capacity = check_array(self.capacity, "capacity", ndim=0, nonneg=True)
        budget = check_array(self.budget, "budget", ndim=0)
        if not 0 <= float(budget) <= n:
            raise InvalidInstanceError("budget", f"Gamma must lie in [0, n] = [0, {n}], got {float(budget)}")
        object.__setattr__(self, "profits", p)
        object.__setattr__(self, "capacity", float(capacity))
        object.__setattr__(self, "budget", float(budget))

    @property
    def size(self) -> dict:
        return {"n": int(self.profits.shape[0])}

    def _bits(self, solution):
        return first_stage_bits(solution, self.n)

    def first_stage_profit(self, solution):
        """Return ``Σ (p̄ - f) x``, the profit of the picked items if all were outsourced."""
        X, single = self._bits(solution)
        v = X @ (self.profits - self.outsourcing_costs)
        return float(v[0]) if single else v

    def evaluate(self, solution):
        """Return the exact worst-case profit of a first-stage 0/1 vector (or of each row of a batch)."""
        X, single = self._bits(solution)
        values = np.array([worst_case_profit(self, row).value for row in X])
        return float(values[0]) if single else values

    def violation(self, solution):
        """Return an empty array per solution: no first-stage constraint can be violated."""
        X, single = self._bits(solution)
        V = np.zeros((X.shape[0], 0))
        return V[0] if single else V


# --------------------------------------------------------------------------------------------
# second stage and exact worst case (HiGHS through highspy: thousands of small solves, where
# building a Pyomo model per solve would cost more than the solve)

def _highs():
    try:
        import highspy
        from cutslack.models.files import silent_highs
    except ImportError:  # pragma: no cover - highspy is a core dependency
        raise BackendUnavailableError("the HiGHS solver (highspy)", "pip install highspy") from None
    h = silent_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    return highspy, h


def second_stage_profit(problem: TwoStageRobustKnapsack, x, xi) -> tuple[float, np.ndarray, np.ndarray]:
    """Return ``(value, y, r)``: the optimal second-stage profit for first stage ``x`` and scenario ``ξ``.

    ``value = max Σ (f - p̂ ξ) y + Σ p̂ ξ r`` over ``r <= y <= x``, ``Σ c y + t r <= C``.  With
    integral weights (every published and generated instance) it is solved exactly by dynamic
    programming over the capacity (:func:`_multiple_choice_knapsack`, Numba, ``O(|x| C)``: about
    3 ms at n = 80, where a HiGHS MILP took 170-260 ms per solve on this machine, and the exact
    worst case and the training labels need thousands of solves); otherwise as a MILP by HiGHS
    with ``mip_rel_gap = 0``.  Both are exact; the tests check one against the other.  The
    worst-case profit of ``x`` is ``first_stage_profit(x) + min_ξ value``.
    """
    x = np.asarray(x, dtype=float).ravel()
    xi = np.asarray(xi, dtype=float).ravel()
    n = problem.n
    if x.shape[0] != n or xi.shape[0] != n:
        raise ValueError(f"x and xi must have {n} entries, got {x.shape[0]} and {xi.shape[0]}")
    items = np.flatnonzero(x > 0.5)
    y, r = np.zeros(n), np.zeros(n)
    if items.shape[0] == 0:
        return 0.0, y, r
    f, ph, c, t = (problem.outsourcing_costs[items], problem.degradations[items], problem.weights[items],
                   problem.repair_weights[items])
    unrepaired = f - ph * xi[items]
    if _integral_weights(problem):
        u, v = _multiple_choice_knapsack(c.astype(np.int64), (c + t).astype(np.int64), unrepaired, f,
                                         int(np.floor(problem.capacity + 1e-9)))
    else:
        u, v = _second_stage_milp(c, c + t, unrepaired, f, problem.capacity)
    y[items] = u + v
    r[items] = v
    return float(unrepaired @ u + f @ v), y, r


def _memo(problem: TwoStageRobustKnapsack) -> dict:
    """Per-instance memo (integrality flag, recent worst cases), dropped with the instance."""
    return _MEMO.setdefault(problem, {})


def _integral_weights(problem: TwoStageRobustKnapsack) -> bool:
    memo = _memo(problem)
    if "integral" not in memo:
        memo["integral"] = bool(np.all(problem.weights == np.round(problem.weights))
                                and np.all(problem.repair_weights == np.round(problem.repair_weights)))
    return memo["integral"]


def _multiple_choice_knapsack(w_keep, w_repair, p_keep, p_repair, capacity):
    """Return 0/1 arrays ``(u, v)``: per item keep unrepaired (``u``), keep repaired (``v``) or drop,
    maximising ``p_keep u + p_repair v`` within ``capacity`` (integer weights)."""
    from cutslack.problems._robust_kernels import multiple_choice_knapsack_dp

    choice = multiple_choice_knapsack_dp(w_keep, w_repair, np.ascontiguousarray(p_keep, dtype=np.float64),
                                         np.ascontiguousarray(p_repair, dtype=np.float64), capacity)
    return (choice == 1).astype(float), (choice == 2).astype(float)


def _second_stage_milp(w_keep, w_repair, p_keep, p_repair, capacity):
    """The same multiple-choice knapsack as a MILP solved by HiGHS (fractional weights)."""
    highspy, h = _highs()
    m = w_keep.shape[0]
    lp = highspy.HighsLp()
    lp.num_col_ = 2 * m
    lp.num_row_ = 1 + m
    lp.col_cost_ = np.concatenate([p_keep, p_repair])
    lp.col_lower_ = np.zeros(2 * m)
    lp.col_upper_ = np.ones(2 * m)
    lp.row_lower_ = np.full(1 + m, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([[capacity], np.ones(m)])
    lp.sense_ = highspy.ObjSense.kMaximize
    matrix = lp.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.start_ = np.arange(0, 4 * m + 1, 2, dtype=np.int32)
    matrix.index_ = np.tile(np.stack([np.zeros(m, np.int32), 1 + np.arange(m, dtype=np.int32)], 1).ravel(), 2)
    matrix.value_ = np.concatenate([np.stack([w_keep, np.ones(m)], 1).ravel(),
                                    np.stack([w_repair, np.ones(m)], 1).ravel()])
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (2 * m)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SolverError(f"HiGHS ended the second-stage MILP with status {h.modelStatusToString(h.getModelStatus())}")
    sol = np.round(np.asarray(h.getSolution().col_value))
    return sol[:m], sol[m:]


@dataclass(frozen=True)
class WorstCase:
    """The exact worst case of a first-stage decision.

    ``value`` worst-case profit; ``scenario`` a worst ``ξ``; ``second_stage`` the best response
    ``(y, r)`` to it; ``lower`` the row generation's last lower bound (equal to ``value`` up to
    the tolerance); ``rounds`` the second-stage MILPs solved; ``cuts`` the second-stage
    solutions ``(y, r)`` generated.
    """

    value: float
    scenario: np.ndarray
    second_stage: tuple
    lower: float
    rounds: int
    cuts: list = field(repr=False, default_factory=list)


def worst_case_profit(problem: TwoStageRobustKnapsack, x, *, initial_scenarios=(), max_rounds: int = 10_000
                      ) -> WorstCase:
    """Return the exact worst-case profit of first-stage ``x`` (row generation, see the module docstring).

    Parameters
    ----------
    problem : TwoStageRobustKnapsack
    x : (n,) 0/1 array
    initial_scenarios : iterable of (n,) arrays
        Scenarios whose best responses seed the LP master (the all-zero scenario is always used).
    max_rounds : int
        Safety cap on the second-stage MILPs; reaching it raises :class:`SolverError`.
    """
    x = np.asarray(x, dtype=float).ravel()
    if x.shape[0] != problem.n:
        raise ValueError(f"x must have {problem.n} entries, got {x.shape[0]}")
    memo = _memo(problem).setdefault("worst", OrderedDict())
    key = (x > 0.5).tobytes()
    if key in memo:
        memo.move_to_end(key)
        return memo[key]
    result = _worst_case(problem, x, initial_scenarios, max_rounds)
    memo[key] = result
    if len(memo) > _WORST_CASE_MEMO_SIZE:
        memo.popitem(last=False)
    return result


def _worst_case(problem, x, initial_scenarios, max_rounds) -> WorstCase:
    n = problem.n
    base = float(x @ (problem.profits - problem.outsourcing_costs))
    items = np.flatnonzero(x > 0.5)
    if items.size == 0 or problem.budget == 0:
        value, y, r = second_stage_profit(problem, x, np.zeros(n))
        return WorstCase(base + value, np.zeros(n), (y, r), base + value, 1, [(y, r)])
    highspy, master = _highs()
    m = items.size
    ph, f = problem.degradations[items], problem.outsourcing_costs[items]
    # master variables: xi over the picked items (others cannot hurt), then theta; min theta
    inf = highspy.kHighsInf
    master.addVars(m + 1, np.concatenate([np.zeros(m), [-inf]]), np.concatenate([np.ones(m), [inf]]))
    master.changeColCost(m, 1.0)
    master.addRow(-inf, problem.budget, m, np.arange(m, dtype=np.int32), np.ones(m))
    cuts = []

    def add_cut(y, r):
        # theta >= sum f y - sum ph xi (y - r)  <=>  theta + sum ph (y - r) xi >= sum f y
        kept = (y - r)[items]
        idx = np.flatnonzero(kept > 0.5)
        master.addRow(float(f @ y[items]), inf, idx.size + 1, np.append(idx, m).astype(np.int32),
                      np.append(ph[idx], 1.0))
        cuts.append((y, r))

    seen = set()
    best = (np.inf, None, None)
    for scenario in [np.zeros(n), *initial_scenarios]:
        scenario = np.asarray(scenario, dtype=float)
        value, y, r = second_stage_profit(problem, x, scenario)
        if value < best[0]:
            best = (value, scenario, (y, r))
        key = (y.tobytes(), r.tobytes())
        if key not in seen:
            seen.add(key)
            add_cut(y, r)
    lower = -np.inf
    rounds = 0

    def cut_value(y, r, xi):
        return float(f @ y[items] - ph @ (xi[items] * (y - r)[items]))

    while rounds < max_rounds:
        master.run()
        if master.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise SolverError("HiGHS did not solve the worst-case LP master to optimality "
                              f"({master.modelStatusToString(master.getModelStatus())})")
        col = np.asarray(master.getSolution().col_value)
        lower = float(col[m])
        xi_master = np.zeros(n)
        xi_master[items] = np.clip(col[:m], 0.0, 1.0)
        tolerance = WORST_CASE_TOLERANCE * max(1.0, abs(lower))
        # in-out stabilisation (Ben-Ameur & Neto): query between the master point and the best
        # scenario so far; fall back to the master point when that cut does not separate it
        queries = [xi_master] if not best[1].any() else [IN_OUT_WEIGHT * xi_master + (1 - IN_OUT_WEIGHT) * best[1],
                                                       xi_master]
        added = False
        for xi in queries:
            value, y, r = second_stage_profit(problem, x, xi)
            rounds += 1
            if value < best[0]:
                best = (value, xi, (y, r))
            if best[0] - lower <= tolerance:
                return WorstCase(base + best[0], best[1], best[2], base + lower, rounds, cuts)
            key = (y.tobytes(), r.tobytes())
            if key not in seen and cut_value(y, r, xi_master) > lower + tolerance:
                seen.add(key)
                add_cut(y, r)
                added = True
                break
        if not added:  # the master point's own best response is already a cut: exact to LP tolerance
            return WorstCase(base + best[0], best[1], best[2], base + lower, rounds, cuts)
    raise SolverError(f"worst-case row generation did not converge in {max_rounds} rounds")


# --------------------------------------------------------------------------------------------
# generator

def random_robust_knapsack(n: int, *, correlation: str = "UN", h: int = 40, delta: float = 0.5,
                           budget_factor: float = 0.1, R: int = 1000, H: int = 100,
                           rng=None) -> TwoStageRobustKnapsack:
    """Return a random two-stage robust knapsack from the published grid (Arslan & Detienne).

    ``c ~ U(1, R)``; ``C = h / (H + 1) Σ c``; nominal profits by ``correlation``: ``UN``
    ``U(1, R)``, ``WC`` ``U(c - R/20, c + R/20)``, ``ASC`` ``U(c + R/10 - R/1000, c + R/10 + R/1000)``,
    ``SC`` ``c + R/10``; ``p̂ = p̄ U((1-δ)/2, (1+δ)/2)``; ``f = p̄ U(1.1, 1.5)``; repair weights
    ``UN`` ``U(1, c)``, ``WC`` ``U(p̂/2 - R/40, p̂/2 + R/40)``, ``ASC`` ``U(p̂/2 + c/10 - R/1000, … + R/1000)``,
    ``SC`` ``p̂/2 + c/10``; ``Γ = n × budget_factor``.  The published grid is ``n ∈ {20..80}``,
    ``h ∈ {40, 80}``, ``δ ∈ {0.1, 0.5, 1}``, budget factor ``∈ {0.1, 0.15, 0.2}``.

    Every value is rounded to an integer, as in the published files (``C`` rounded down), and
    clipped at 0 so that weights and costs stay non-negative.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidInstanceError("n", f"must be a positive integer, got {n!r}")
    corr = str(correlation).upper()
    if corr not in CORRELATIONS:
        raise InvalidInstanceError("correlation", f"must be one of {', '.join(CORRELATIONS)}, got {correlation!r}")
    if not 0 <= delta <= 1:
        raise InvalidInstanceError("delta", f"must lie in [0, 1], got {delta}")
    if not 0 <= budget_factor <= 1:
        raise InvalidInstanceError("budget_factor", f"must lie in [0, 1], got {budget_factor}")
    if not 0 < h <= H + 1:
        raise InvalidInstanceError("h", f"must lie in (0, H + 1] = (0, {H + 1}], got {h}")
    check_memory("random_robust_knapsack (item vectors)", f"n={n}", 160.0 * n)  # ~20 float n-vectors at once
    g = as_rng(rng)
    c = np.round(g.uniform(1, R, n))
    capacity = np.floor(h / (H + 1) * c.sum())
    if corr == "UN":
        pbar = g.uniform(1, R, n)
    elif corr == "WC":
        pbar = g.uniform(c - R / 20, c + R / 20)
    elif corr == "ASC":
        pbar = g.uniform(c + R / 10 - R / 1000, c + R / 10 + R / 1000)
    else:
        pbar = c + R / 10
    pbar = np.maximum(pbar, 0.0)
    phat = pbar * g.uniform((1 - delta) / 2, (1 + delta) / 2, n)
    f = pbar * g.uniform(1.1, 1.5, n)
    if corr == "UN":
        t = g.uniform(1, c)
    elif corr == "WC":
        t = g.uniform(phat / 2 - R / 40, phat / 2 + R / 40)
    elif corr == "ASC":
        t = g.uniform(phat / 2 + c / 10 - R / 1000, phat / 2 + c / 10 + R / 1000)
    else:
        t = phat / 2 + c / 10
    pbar, phat, f, t = (np.maximum(np.round(v), 0.0) for v in (pbar, phat, f, t))
    return TwoStageRobustKnapsack(pbar, phat, t, c, f, capacity, n * budget_factor,
                                  name=f"robust-kp-{corr}-n{n}-h{h}-dev{budget_factor:g}-d{delta:g}",
                                  meta={"correlation": corr, "h": h, "delta": delta, "budget_factor": budget_factor})
