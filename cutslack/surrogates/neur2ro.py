"""Neur2RO-style ML-assisted column-and-constraint generation (``method="neur2ro"``).

Dumouchelle, Julien, Kurtz & Khalil (ICLR 2024): replace the second stage in CCG by a learned
value ``Q̂(x, ξ)`` (:class:`~cutslack.surrogates.robust_value.ValueNetwork`) embedded exactly in
MILPs (:mod:`cutslack.surrogates.embedding`):

* **main problem** over the scenarios ``ξ^1..ξ^K`` found so far (:class:`learned_main_problem`).
  The default is the published ``argmax`` form: binaries select the scenario the network
  predicts worst for ``x`` (``Q̂(x, ξ^k)`` minimal), and ``η`` is the **exact** second stage at
  that scenario, optimised over one copy of the recourse ``(y, r)`` in the same MILP, so the
  network ranks scenarios but never sets the value.  The ``value`` form instead takes
  ``η <= Q̂(x, ξ^k)`` for each ``k``.  Both carry valid caps on the true second stage (LP-dual
  bounds of the second stage at ``ξ = 0`` and, by default, at each added scenario, linear in
  ``x``).  For a fixed scenario the item encoder takes two values per item (``x_i ∈ {0, 1}``),
  so the aggregated embedding is linear in ``x`` and only the value head is embedded per
  scenario;
* **adversarial problem** for the main problem's ``x``: ``min_{ξ ∈ Ξ} Q̂(x, ξ)``.  For a picked
  item the encoder is a piecewise-linear function of the one input ``ξ_i`` (kinks where a hidden
  neuron switches), embedded with the incremental formulation (exact and sharp: one binary per
  kink); an unpicked item's degradation cannot change the true second stage, so it is fixed at
  0; the value head's ReLUs use big-M with bounds from the items' exact ranges.

Stopping rules (as published): the adversary cannot push ``Q̂`` below the network's value of
the main problem's predicted-worst scenario by more than ``rel_tol`` (relative), the adversary
returns a scenario already in the main problem, or the time limit; a main problem cut short
by the time limit does not replace the last completed one's decision.  Both MILPs are solved
by HiGHS (appsi) with ``mip_gap``.

The returned ``x`` (the last main problem's) is scored by the **exact** worst case
(:func:`cutslack.problems.robust.worst_case_profit`) in ``Result.objective``; the network's own
estimate is only reported in ``info["predicted_objective"]``.  No bound is claimed.  The opt-in
``exact_selection`` (not part of Neur2RO, off by default) scores every main problem's decision
exactly and returns the best; ``info["exact_selection"]`` says whether it was on.
"""

from __future__ import annotations

import numpy as np

from cutslack.api import Run, make_result, register_solver
from cutslack.errors import BackendUnavailableError, SolverError
from cutslack.problems.robust import TwoStageRobustKnapsack, worst_case_profit
from cutslack.result import Result, Status
from cutslack.surrogates.embedding import _Counter, add_relu_network
from cutslack.surrogates.robust_value import (ValueNetwork, instance_scale, item_features, load_value_network)

__all__ = ["solve_neur2ro", "learned_main_problem", "learned_adversary", "FORMULATIONS"]


def _solver(time_left: float, mip_gap: float, seed: int):
    from pyomo.contrib.appsi.solvers import Highs

    solver = Highs()
    if not solver.available():
        raise BackendUnavailableError("the HiGHS solver (highspy)", "pip install highspy")
    solver.config.load_solution = False
    solver.config.stream_solver = False
    solver.highs_options = {"threads": 1, "mip_rel_gap": float(mip_gap), "random_seed": int(seed)}
    solver.config.time_limit = None if not np.isfinite(time_left) else max(float(time_left), 1e-2)
    return solver


def _solve(solver, model):
    from pyomo.contrib.appsi.base import TerminationCondition

    results = solver.solve(model)
    condition = results.termination_condition
    if condition in (TerminationCondition.error, TerminationCondition.unbounded, TerminationCondition.infeasible,
                     TerminationCondition.infeasibleOrUnbounded):
        raise SolverError(f"HiGHS ended a Neur2RO MILP with status {condition.name}")
    has = results.best_feasible_objective is not None
    if has:
        solver.load_vars()
    return has, condition is TerminationCondition.maxTimeLimit


#: the main-problem formulations (see :class:`learned_main_problem`)
FORMULATIONS = ("argmax", "value")


class learned_main_problem:
    """The Neur2RO main problem (persistent Pyomo model; :meth:`add_scenario` adds one embedded value head).

    Two formulations over the scenarios ``ξ^1..ξ^K`` added so far:

    * ``"argmax"`` (the published one, Neur2RO's ``obj_type="argmax"``): the network only
      **selects** the scenario it predicts worst for ``x`` (binaries ``s_k``, ``Σ s_k = 1``,
      ``Q̂(x, ξ^k) <= Q̂(x, ξ^j)`` for all ``j`` when ``s_k = 1``, big-M from the heads' interval
      bounds), and the objective is the **exact** second stage at that scenario: one copy of
      ``(y, r)`` with ``r <= y <= x`` and the capacity, and ``η <= Σ f y - Σ p̂ ξ^k (y - r)``
      when ``s_k = 1``.  Prediction errors can only mis-rank scenarios, not inflate the value.
    * ``"value"``: ``η <= Q̂(x, ξ^k)`` for every ``k`` (the network's value is the objective).

    Both keep valid caps on ``η`` (LP-dual bounds of the second stage, linear in ``x``; see
    :meth:`_add_caps`): they bound the true worst case, so they never cut off a decision's true
    value.
    """

    def __init__(self, problem: TwoStageRobustKnapsack, network: ValueNetwork, *, mip_gap: float, seed: int,
                 formulation: str = "argmax", scenario_caps: bool = True):
        import pyomo.environ as pyo

        if formulation not in FORMULATIONS:
            raise ValueError(f"formulation must be one of {FORMULATIONS}, got {formulation!r}")
        self.pyo, self.problem, self.network, self.formulation = pyo, problem, network, formulation
        self.features = item_features(problem)
        self.factor = problem.n * instance_scale(problem)
        model = pyo.ConcreteModel()
        model.I = pyo.RangeSet(0, problem.n - 1)
        model.x = pyo.Var(model.I, domain=pyo.Binary)
        model.eta = pyo.Var(bounds=(None, float(problem.outsourcing_costs.sum())))
        gain = problem.profits - problem.outsourcing_costs
        model.objective = pyo.Objective(expr=sum(float(gain[i]) * model.x[i] for i in model.I) + model.eta,
                                        sense=pyo.maximize)
        model.scenarios = pyo.Block(pyo.Any)
        self.model = model
        self.scenario_caps = scenario_caps
        # valid caps on the true second stage, whatever the network says (see :meth:`_add_caps`);
        # at ξ = 0 they cap every scenario's value
        self._add_caps(model, np.zeros(problem.n))
        f, c = problem.outsourcing_costs, problem.weights
        if formulation == "argmax":
            # one exact recourse copy, valued at the selected scenario
            model.y = pyo.Var(model.I, domain=pyo.Binary)      # produced
            model.r = pyo.Var(model.I, domain=pyo.Binary)      # produced and repaired
            model.produce = pyo.Constraint(model.I, rule=lambda m, i: m.y[i] <= m.x[i])
            model.repair = pyo.Constraint(model.I, rule=lambda m, i: m.r[i] <= m.y[i])
            model.capacity = pyo.Constraint(expr=sum(float(c[i]) * model.y[i]
                                                     + float(problem.repair_weights[i]) * model.r[i]
                                                     for i in model.I) <= problem.capacity)
            model.nominal = pyo.Constraint(expr=model.eta <= sum(float(f[i]) * model.y[i] for i in model.I))
        self.mip_gap, self.seed = mip_gap, seed
        self.scenarios: list[np.ndarray] = []
        self._heads: list[tuple] = []      # (Q̂ expression, lower, upper) per scenario
        self.counter = _Counter()
        self.solver = None

    def _add_caps(self, block, xi) -> None:
        """Add ``η <= λ C + Σ_i x_i max(0, f_i - p̂_i ξ_i - λ c_i, f_i - λ (c_i + t_i))`` for a grid of ``λ >= 0``.

        Each is the value of a dual-feasible point of the LP relaxation of the second stage at
        ``ξ`` (keep an item unrepaired: profit ``f - p̂ ξ``, weight ``c``; repaired: ``f``,
        ``c + t``), so it bounds the true ``Q(x, ξ)`` from above for every ``x``: linear in
        ``x``, exact information that keeps the main problem from exploiting the network where
        it overestimates (loads past the capacity).  ``λ`` runs over quantiles of the items'
        profit-per-weight ratios (and 0).
        """
        p, model = self.problem, self.model
        f, c, t = p.outsourcing_costs, p.weights, p.repair_weights
        keep = f - p.degradations * xi
        ratios = np.concatenate([keep / np.maximum(c, 1e-9), f / np.maximum(c + t, 1e-9)])
        lambdas = np.unique(np.concatenate([[0.0], np.quantile(ratios, np.linspace(0, 1, 21))]))
        slopes = np.maximum(0.0, np.maximum(keep[None] - lambdas[:, None] * c[None],
                                            f[None] - lambdas[:, None] * (c + t)[None]))
        block.caps = self.pyo.Constraint(range(lambdas.size), rule=lambda b, j: model.eta <= float(lambdas[j]) * p.capacity
                                         + sum(float(slopes[j, i]) * model.x[i] for i in range(p.n) if slopes[j, i] != 0))

    def add_scenario(self, xi) -> None:
        xi = np.asarray(xi, dtype=float)
        pyo, p = self.pyo, self.problem
        n, net, model = p.n, self.network, self.model
        zeros, ones = np.zeros((1, n)), np.ones((1, n))
        phi0 = net.encode_items(net.item_inputs(self.features, zeros, xi[None]))[0]   # (n, d) with x_i = 0
        phi1 = net.encode_items(net.item_inputs(self.features, ones, xi[None]))[0]    # x_i = 1
        delta = (phi1 - phi0) / n          # z = base + delta' x, linear in the binary x
        base = phi0.sum(axis=0) / n
        (W, b), rest = net.value_layers[0], net.value_layers[1:]
        # fold z into the value head's first layer, so interval arithmetic runs over x's box
        # (exact per neuron) instead of over z's looser box
        first = (W @ delta.T, W @ base + b)
        k = len(self.scenarios)
        block = model.scenarios[k]
        if self.scenario_caps and xi.any():
            self._add_caps(block, xi)
        out, out_lo, out_hi = add_relu_network(block, [model.x[i] for i in range(n)], np.zeros(n), np.ones(n),
                                               [first, *rest], self.counter)
        f = p.outsourcing_costs
        q_hat = sum(float(f[i]) * model.x[i] for i in range(n)) - self.factor * out[0]
        q_lo, q_hi = -self.factor * float(out_hi[0]), float(f.sum()) - self.factor * float(out_lo[0])
        if self.formulation == "value":
            block.cut = pyo.Constraint(expr=model.eta <= q_hat)
        else:
            block.select = pyo.Var(domain=pyo.Binary)
            # selected => predicted worst: Q̂_k <= Q̂_j for every other j (big-M from the heads' bounds)
            block.worst = pyo.ConstraintList()
            for j, (q_j, lo_j, hi_j) in enumerate(self._heads):
                other = model.scenarios[j]
                block.worst.add(q_hat - q_j <= (q_hi - lo_j) * (1 - block.select))
                block.worst.add(q_j - q_hat <= (hi_j - q_lo) * (1 - other.select))
            # selected => η is at most the exact second stage of (y, r) at ξ^k (Σ f - 0 >= any η)
            unrepaired = f - p.degradations * xi
            block.value = pyo.Constraint(expr=model.eta <= sum(float(unrepaired[i]) * (model.y[i] - model.r[i])
                                                               + float(f[i]) * model.r[i] for i in range(n))
                                         + float(f.sum()) * (1 - block.select))
            if model.component("one_selected") is not None:
                model.del_component(model.one_selected)
            model.one_selected = pyo.Constraint(expr=sum(model.scenarios[j].select for j in range(k + 1)) == 1)
            self.counter.binaries += 1
        self._heads.append((q_hat, q_lo, q_hi))
        self.scenarios.append(xi)

    def solve(self, time_left: float):
        """Return ``(x or None, timed_out)``."""
        if self.solver is None:
            self.solver = _solver(time_left, self.mip_gap, self.seed)
        self.solver.config.time_limit = None if not np.isfinite(time_left) else max(float(time_left), 1e-2)
        has, timed_out = _solve(self.solver, self.model)
        if not has:
            return None, timed_out
        return np.round([self.model.x[i].value or 0.0 for i in self.model.I]).astype(float), timed_out


def learned_adversary(problem: TwoStageRobustKnapsack, network: ValueNetwork, x, *, time_left: float = np.inf,
                      mip_gap: float = 1e-4, seed: int = 0, counter=None):
    """Return ``(ξ, Q̂(x, ξ), proven)``: a scenario minimising the learned second-stage value over
    the budget set (an exact MILP over the embedded network), ``proven`` False when the time
    limit stopped HiGHS at an incumbent; ``(None, None, False)`` when it found none."""
    import pyomo.environ as pyo

    x = np.asarray(x, dtype=float)
    n, net = problem.n, network
    F = item_features(problem)
    picked = np.flatnonzero(x > 0.5)
    if picked.size == 0:
        xi = np.zeros(n)
        return xi, float(net.predict(problem, x[None], xi[None])[0]), True
    if len(net.item_layers) != 2:
        raise SolverError("the adversary embeds item encoders with one hidden layer; this network has "
                          f"{len(net.item_layers) - 1}")
    (W1, b1) = net.item_layers[0]
    k = F.shape[1]
    W_head, b_head = net.value_layers[0]
    model = pyo.ConcreteModel()
    model.P = pyo.RangeSet(0, picked.size - 1)
    model.xi = pyo.Var(model.P, bounds=(0.0, 1.0))
    model.budget = pyo.Constraint(expr=sum(model.xi[j] for j in model.P) <= problem.budget)
    model.item_nets = pyo.Block(model.P)
    counter = counter if counter is not None else _Counter()
    total = net.encode_items(net.item_inputs(F, x[None], np.zeros((1, n))))[0]  # ξ = 0 everywhere
    z_const = np.delete(total, picked, axis=0).sum(axis=0)
    z_terms = [[] for _ in range(net.embedding_size)]
    a_lo = a_hi = W_head @ z_const / n + b_head
    for j, i in enumerate(picked):
        # a picked item's encoder output is piecewise linear in xi_i, with kinks where a hidden
        # neuron's pre-activation (bias + slope xi_i) changes sign: the incremental formulation
        # of that function is exact and sharp (one binary per kink inside (0, 1))
        bias = W1[:, :k] @ F[i] + W1[:, k] + b1
        slope = W1[:, k + 1] + W1[:, k + 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            kinks = -bias / slope
        inner = np.unique(kinks[np.isfinite(kinks) & (kinks > 1e-9) & (kinks < 1 - 1e-9)])
        t = np.concatenate([[0.0], inner, [1.0]])
        inputs = np.concatenate([np.broadcast_to(F[i], (t.size, k)), np.ones((t.size, 1)), t[:, None], t[:, None]],
                                axis=1)
        V = net.encode_items(inputs)                       # (K + 1, d) at the breakpoints
        terms = V @ W_head.T / n                           # its contribution to the head's pre-activations
        a_lo, a_hi = a_lo + terms.min(axis=0), a_hi + terms.max(axis=0)
        K = t.size - 1
        blk = model.item_nets[j]
        blk.fill = pyo.Var(range(K), bounds=(0.0, 1.0))   # how much of segment p is used
        if K > 1:
            blk.on = pyo.Var(range(K - 1), domain=pyo.Binary)
            counter.binaries += K - 1
            blk.order_hi = pyo.Constraint(range(K - 1), rule=lambda b, p: b.fill[p + 1] <= b.on[p])
            blk.order_lo = pyo.Constraint(range(K - 1), rule=lambda b, p: b.on[p] <= b.fill[p])
        blk.link = pyo.Constraint(expr=model.xi[j] == sum(float(t[p + 1] - t[p]) * blk.fill[p] for p in range(K)))
        steps = np.diff(V, axis=0)
        for d in range(net.embedding_size):
            z_terms[d].append(float(V[0, d]) + sum(float(steps[p, d]) * blk.fill[p] for p in range(K)
                                                   if steps[p, d] != 0))
        counter.neurons += W1.shape[0]
    z = [(float(z_const[d]) + sum(z_terms[d])) / n for d in range(net.embedding_size)]
    # the head's first layer gets the exact per-item ranges (z's own box is not needed then)
    big = np.full(net.embedding_size, 1e6)
    out, _, _ = add_relu_network(model, z, -big, big, net.value_layers, counter,
                                 first_bounds=(a_lo - 1e-9, a_hi + 1e-9))
    # Q̂ = Σ f x - n s · head: the adversary maximises the predicted shortfall
    model.objective = pyo.Objective(expr=out[0], sense=pyo.maximize)
    solver = _solver(time_left, mip_gap, seed)
    has, timed_out = _solve(solver, model)
    if not has:
        return None, None, False
    xi = np.zeros(n)
    xi[picked] = np.clip([model.xi[j].value or 0.0 for j in model.P], 0.0, 1.0)
    return xi, float(net.predict(problem, x[None], xi[None])[0]), not timed_out


@register_solver("neur2ro", accepts=(TwoStageRobustKnapsack,),
                 description="Neur2RO: CCG over a learned second-stage value embedded in MILPs (exactly re-scored)")
def solve_neur2ro(problem: TwoStageRobustKnapsack, *, rng=None, time_limit=None, callback=None, model=None,
                  rel_tol: float = 1e-4, mip_gap: float = 1e-3, adversary_time: float | None = None,
                  max_iterations: int = 50, formulation: str = "argmax", scenario_caps: bool = True,
                  exact_selection: bool = False) -> Result:
    """Return the first-stage decision of ML-assisted CCG over the learned value function.

    Parameters
    ----------
    problem : TwoStageRobustKnapsack
    rng : seed or Generator
        Draws HiGHS's ``random_seed``.
    time_limit : float, optional
        Seconds for the CCG loop (the exact scoring of the answer comes after it).
    callback : callable, optional
        Called with the intermediate Result after each iteration (scored exactly: slow on large n).
    model : path or ValueNetwork, optional
        The value network (default: the shipped model, ``robust_value.SHIPPED_MODEL``).
    rel_tol : float
        Stop when the adversary lowers the predicted value by less than ``rel_tol`` (relative).
    mip_gap : float
        HiGHS's relative MIP gap for the main and adversarial MILPs.
    adversary_time : float, optional
        Seconds per adversarial MILP (default: a quarter of ``time_limit``, at least 1 s); when
        it stops HiGHS, its incumbent scenario is used, and if that does not cut the main
        problem's value the loop ends (``info["stop"] = "adversary_time_limit"``).
    max_iterations : int
        Most CCG iterations.
    formulation : {"argmax", "value"}
        The main problem (:class:`learned_main_problem`): ``"argmax"`` (published; the network
        picks the worst scenario, the exact second stage values it) or ``"value"`` (the
        network's prediction is the value).
    scenario_caps : bool
        Add, with every scenario, valid LP-dual caps on the true second stage at it
        (:meth:`learned_main_problem._add_caps`); the caps at ``ξ = 0`` are always there.
    exact_selection : bool
        Opt-in exact post-processing, **not part of Neur2RO**: score every main problem's
        decision by the exact worst case (inside the time limit) and return the best one instead
        of the last.  Reported as ``info["exact_selection"]`` with the decisions scored.

    Returns
    -------
    Result
        ``objective`` the **exact** worst-case profit of ``x``; no ``bound``; ``info`` the
        predicted objective, the scenarios, the stopping reason and the embedding size.
    """
    if not 0 <= rel_tol < 1:
        raise ValueError(f"rel_tol must lie in [0, 1), got {rel_tol!r}")
    network = model if isinstance(model, ValueNetwork) else load_value_network(model)
    run = Run(rng=rng, time_limit=time_limit, callback=callback)
    seed = int(run.rng.integers(0, 2**31 - 1))
    main = learned_main_problem(problem, network, mip_gap=mip_gap, seed=seed, formulation=formulation,
                                scenario_caps=scenario_caps)
    main.add_scenario(np.zeros(problem.n))
    x_best, predicted, reason = np.zeros(problem.n), None, "max_iterations"
    adversary = _Counter()
    selected, scored = (-np.inf, None), 0     # exact_selection: the best decision by exact worst case
    history = []
    iteration = 0
    for iteration in range(1, max_iterations + 1):
        if run.expired():
            reason, iteration = "time_limit", iteration - 1
            break
        started = run.elapsed()
        x, timed_out = main.solve(run.time_left())
        main_seconds = run.elapsed() - started
        if x is None:
            reason = "time_limit"
            break
        if timed_out and iteration > 1:
            # the published rule: a main problem cut short by the time limit does not replace the
            # last completed one's decision (its incumbent can be far from its optimum)
            reason = "time_limit"
            break
        x_best = x
        if exact_selection:
            exact = worst_case_profit(problem, x).value
            scored += 1
            if exact > selected[0]:
                selected = (exact, x)
        S = np.array(main.scenarios)
        eta = float(network.predict(problem, np.repeat(x[None], len(S), 0), S).min())
        predicted = problem.first_stage_profit(x) + eta
        record = {"iteration": iteration, "predicted": predicted, "scenarios": len(S), "main_seconds": main_seconds,
                  "time": run.elapsed(), "x": x.astype(np.int8).tolist()}
        history.append(record)
        if timed_out or run.expired():
            reason = "time_limit"
            break
        cap = adversary_time if adversary_time is not None else (
            max(1.0, 0.25 * time_limit) if time_limit is not None else np.inf)
        started = run.elapsed()
        xi, value, proven = learned_adversary(problem, network, x, time_left=min(run.time_left(), cap),
                                              mip_gap=mip_gap, seed=seed, counter=adversary)
        record.update(adversary_seconds=run.elapsed() - started, adversary_proven=proven)
        if xi is None:
            reason = "time_limit"
            break
        if run.callback is not None and run.report(make_result(problem, x, method="neur2ro", run=run,
                                                               nit=iteration, history=history)):
            reason = "callback"
            break
        if value >= eta - rel_tol * max(1.0, abs(eta)):
            reason = "tolerance" if proven else "adversary_time_limit"
            break
        if any(np.allclose(s, xi, atol=1e-6, rtol=0) for s in main.scenarios):
            reason = "repeated_scenario"
            break
        main.add_scenario(xi)
    run.expired()
    loop_time = run.elapsed()
    info = {"predicted_objective": predicted, "scenarios": len(main.scenarios), "stop": reason,
            "loop_seconds": loop_time, "formulation": formulation,
            "main_binaries": main.counter.binaries + problem.n * (3 if formulation == "argmax" else 1),
            "adversary_binaries_total": adversary.binaries, "model": network.info.get("command", "custom"),
            "model_val_relative_mae": network.info.get("val_relative_mae"), "exact_selection": bool(exact_selection)}
    if exact_selection:
        info["exact_selection_scored"] = scored
        if selected[1] is not None:
            info["last_decision_objective"] = worst_case_profit(problem, x_best).value
            x_best = selected[1]
    status = Status.FEASIBLE
    return make_result(problem, x_best, method="neur2ro", run=run, status=status, nit=iteration, history=history,
                       info=info, n_vars=main.model.nvariables())
