"""Neur2RO-style ML-assisted column-and-constraint generation (``method="neur2ro"``).

Dumouchelle, Julien, Kurtz & Khalil (ICLR 2024): replace the second stage in CCG by a learned
value ``Q̂(x, ξ)`` (:class:`~cutslack.surrogates.robust_value.ValueNetwork`) embedded exactly in
MILPs (:mod:`cutslack.surrogates.embedding`):

* **main problem** over the scenarios ``ξ^1..ξ^K`` found so far:
  ``max Σ (p̄ - f) x + η`` s.t. ``η <= Q̂(x, ξ^k)`` for each ``k`` and valid caps on the true
  second stage (the nominal knapsack's LP dual bounds, linear in ``x``).  For a fixed scenario the item
  encoder takes two values per item (``x_i ∈ {0, 1}``), so the aggregated embedding is linear
  in ``x`` and only the value head is embedded per scenario;
* **adversarial problem** for the main problem's ``x``: ``min_{ξ ∈ Ξ} Q̂(x, ξ)``.  For a picked
  item the encoder is a piecewise-linear function of the one input ``ξ_i`` (kinks where a hidden
  neuron switches), embedded with the incremental formulation (exact and sharp: one binary per
  kink); an unpicked item's degradation cannot change the true second stage, so it is fixed at
  0; the value head's ReLUs use big-M with bounds from the items' exact ranges.

Stopping rules (as published): the adversary cannot push ``Q̂`` below the main problem's ``η``
by more than ``rel_tol`` (relative), the adversary returns a scenario already in the main
problem, or the time limit.  Both MILPs are solved by HiGHS (appsi) with ``mip_gap``.

The returned ``x`` (the last main problem's) is scored by the **exact** worst case
(:func:`cutslack.problems.robust.worst_case_profit`) in ``Result.objective``; the network's own
estimate is only reported in ``info["predicted_objective"]``.  No bound is claimed.
"""

from __future__ import annotations

import numpy as np

from cutslack.api import Run, make_result, register_solver
from cutslack.errors import BackendUnavailableError, SolverError
from cutslack.problems.robust import TwoStageRobustKnapsack
from cutslack.result import Result, Status
from cutslack.surrogates.embedding import _Counter, add_relu_network
from cutslack.surrogates.robust_value import (ValueNetwork, instance_scale, item_features, load_value_network)

__all__ = ["solve_neur2ro", "learned_main_problem", "learned_adversary"]


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


class learned_main_problem:
    """The Neur2RO main problem (persistent Pyomo model; :meth:`add_scenario` adds one embedded value head)."""

    def __init__(self, problem: TwoStageRobustKnapsack, network: ValueNetwork, *, mip_gap: float, seed: int):
        import pyomo.environ as pyo

        self.pyo, self.problem, self.network = pyo, problem, network
        self.features = item_features(problem)
        self.factor = problem.n * instance_scale(problem)
        model = pyo.ConcreteModel()
        model.I = pyo.RangeSet(0, problem.n - 1)
        model.x = pyo.Var(model.I, domain=pyo.Binary)
        model.eta = pyo.Var()
        gain = problem.profits - problem.outsourcing_costs
        model.objective = pyo.Objective(expr=sum(float(gain[i]) * model.x[i] for i in model.I) + model.eta,
                                        sense=pyo.maximize)
        model.scenarios = pyo.Block(pyo.Any)
        # valid caps on the true second stage, whatever the network says: Q(x, ξ) is at most the
        # nominal knapsack max {f'y : c'y <= C, y <= x}, hence at most its LP dual value
        # λC + Σ_i x_i max(0, f_i - λ c_i) for every λ >= 0 (λ = 0 gives Σ f x).  They keep the
        # main problem from exploiting the network's extrapolation on loads far past the capacity.
        ratios = problem.outsourcing_costs / np.maximum(problem.weights, 1e-9)
        lambdas = np.unique(np.concatenate([[0.0], np.quantile(ratios, np.linspace(0, 1, 21))]))
        f, c = problem.outsourcing_costs, problem.weights
        model.caps = pyo.Constraint(range(lambdas.size), rule=lambda m, j: m.eta <= float(lambdas[j]) * problem.capacity
                                    + sum(float(max(0.0, f[i] - lambdas[j] * c[i])) * m.x[i] for i in m.I))
        self.model = model
        self.mip_gap, self.seed = mip_gap, seed
        self.scenarios: list[np.ndarray] = []
        self.counter = _Counter()
        self.solver = None

    def add_scenario(self, xi) -> None:
        xi = np.asarray(xi, dtype=float)
        n, net, model = self.problem.n, self.network, self.model
        zeros, ones = np.zeros((1, n)), np.ones((1, n))
        phi0 = net.encode_items(net.item_inputs(self.features, zeros, xi[None]))[0]   # (n, d) with x_i = 0
        phi1 = net.encode_items(net.item_inputs(self.features, ones, xi[None]))[0]    # x_i = 1
        delta = (phi1 - phi0) / n          # z = base + delta' x, linear in the binary x
        base = phi0.sum(axis=0) / n
        (W, b), rest = net.value_layers[0], net.value_layers[1:]
        # fold z into the value head's first layer, so interval arithmetic runs over x's box
        # (exact per neuron) instead of over z's looser box
        first = (W @ delta.T, W @ base + b)
        block = model.scenarios[len(self.scenarios)]
        out, _, _ = add_relu_network(block, [model.x[i] for i in range(n)], np.zeros(n), np.ones(n),
                                     [first, *rest], self.counter)
        f = self.problem.outsourcing_costs
        block.cut = self.pyo.Constraint(expr=model.eta <= sum(float(f[i]) * model.x[i] for i in range(n))
                                        - self.factor * out[0])
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
                  max_iterations: int = 50) -> Result:
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
    main = learned_main_problem(problem, network, mip_gap=mip_gap, seed=seed)
    main.add_scenario(np.zeros(problem.n))
    x_best, predicted, reason = np.zeros(problem.n), None, "max_iterations"
    adversary = _Counter()
    history = []
    iteration = 0
    for iteration in range(1, max_iterations + 1):
        if run.expired():
            reason, iteration = "time_limit", iteration - 1
            break
        x, timed_out = main.solve(run.time_left())
        if x is None:
            reason = "time_limit"
            break
        x_best = x
        S = np.array(main.scenarios)
        eta = float(network.predict(problem, np.repeat(x[None], len(S), 0), S).min())
        predicted = problem.first_stage_profit(x) + eta
        history.append({"iteration": iteration, "predicted": predicted, "scenarios": len(S), "time": run.elapsed()})
        if timed_out or run.expired():
            reason = "time_limit"
            break
        cap = adversary_time if adversary_time is not None else (
            max(1.0, 0.25 * time_limit) if time_limit is not None else np.inf)
        xi, value, proven = learned_adversary(problem, network, x, time_left=min(run.time_left(), cap),
                                              mip_gap=mip_gap, seed=seed, counter=adversary)
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
            "loop_seconds": loop_time, "main_binaries": main.counter.binaries + problem.n,
            "adversary_binaries_total": adversary.binaries, "model": network.info.get("command", "custom"),
            "model_val_relative_mae": network.info.get("val_relative_mae")}
    status = Status.FEASIBLE
    return make_result(problem, x_best, method="neur2ro", run=run, status=status, nit=iteration, history=history,
                       info=info, n_vars=main.model.nvariables())
