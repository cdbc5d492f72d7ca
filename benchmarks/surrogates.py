"""Learned surrogates for expensive objectives, each against its peer in the same run.

0. Hidden n = 20 black boxes (Max-Cut, Ising with fields, dense QUBO), plain callables through
   ``cutslack.solve``: FMQA vs BOCS vs black-box annealing vs random search at budget 200,
   optimum found (brute force over 2^20) and best-so-far every 25 evaluations, on held-out
   objective seeds (``--hidden-seeds``; FMQA's defaults were chosen on seeds 900-902).
1. FMQA vs random search vs simulated annealing on the true objective, same evaluation
   budget, on hidden random QUBOs (n = 20, 40, 60) and black-box knapsacks: best value after
   50 / 100 / 200 evaluations, median over seeds; how often FMQA reaches the optimum.
2. IGNITE (sharpness-constrained surrogate) vs the same surrogate unregularised on offline
   tasks (negated Ackley, Rosenbrock; datasets from the lower-quality half): 100th / 80th /
   50th percentile of the true objective over the 128 proposed candidates, median over seeds.
3. MAP quadratic surrogates vs the exact weighted-sum sweep of a tracking-vs-cost front:
   hypervolume ratio, scalarised solves and objective evaluations used.
4. SSO (target-space surrogates) vs SGD and Adam on softmax regression: loss against the
   number of expensive-oracle (loss-gradient) calls; step sizes of every method tuned on the
   same-size grid.

Writes ``benchmarks/results/surrogates.md`` and ``surrogates.png``.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/surrogates.py          # a few minutes
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/surrogates.py --full   # the whole grid
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/surrogates.py --only hidden  # section 0
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

import cutslack
from cutslack.binary import QUBO
from cutslack.problems import random_knapsack
from cutslack.solvers.qubo import sample_qubo

RESULTS = Path(__file__).resolve().parent / "results"
CHECKPOINTS = (50, 100, 200)


def pde_module():
    """Return :mod:`cutslack.problems.pde` when this checkout has it (the PDE issue), else None."""
    try:
        from cutslack.problems import pde
    except ImportError:
        return None
    return pde


def hidden_qubo(n: int, seed: int) -> QUBO:
    """A dense random QUBO with standard normal coefficients (the black box hides it)."""
    return QUBO(np.triu(np.random.default_rng(1000 + seed).normal(size=(n, n))))


def qubo_optimum(q: QUBO) -> tuple[float, str]:
    if q.n <= 24:
        return float(sample_qubo(q, "exhaustive").energies[0]), "exhaustive"
    best = min(float(sample_qubo(q, "tempering", num_reads=8, rng=s).energies.min()) for s in range(2))
    best = min(best, float(sample_qubo(q, "tabu", num_reads=32, rng=7).energies.min()))
    return best, "best known (tempering + tabu on the known QUBO)"


def at(trace, k):
    return trace[min(k, len(trace)) - 1]


def fmqa_section(args, plots):
    sizes = [20, 40, 60] if args.full else [20]
    seeds = range(args.seeds)
    rows, hits, beats, curves = [], {}, [], {}
    instances = [("qubo", n) for n in sizes] + [("knapsack", n) for n in ([30, 50] if args.full else [30])]
    for family, n in instances:
        traces = {m: [] for m in ("fmqa", "random-search", "blackbox-anneal")}
        secs = {m: 0.0 for m in traces}
        opts, hit = [], 0
        for s in seeds:
            if family == "qubo":
                p = hidden_qubo(n, s)
                opt, how = qubo_optimum(p)
            else:
                p = random_knapsack(n, rng=2000 + s)
                opt, how = float(cutslack.solve(p, method="dp").objective), "dp"
            opts.append(opt)
            for m in traces:
                t = time.perf_counter()
                r = cutslack.solve(p, method=m, budget=200, rng=s)
                secs[m] += time.perf_counter() - t
                tr = np.asarray(r.info["trace"], dtype=float)
                assert r.info["evaluations"] == 200, (m, r.info["evaluations"], r.info["message"])
                traces[m].append(tr)
            best = traces["fmqa"][-1][-1]
            hit += bool(abs(best - opt) <= 1e-9 * max(1.0, abs(opt)))
        name = f"{family} n={n}"
        hits[name] = (hit, len(opts), how)
        sign = -1 if family == "knapsack" else 1  # "better" = lower for QUBOs, higher for knapsacks
        for m, trs in traces.items():
            med = [float(np.median([at(tr, k) for tr in trs])) for k in CHECKPOINTS]
            rows.append((name, m, *med, float(np.median(opts)), secs[m] / len(opts)))
        for k in CHECKPOINTS:
            for i in range(len(opts)):
                beats.append(sign * at(traces["fmqa"][i], k) < sign * at(traces["random-search"][i], k))
        curves[name] = {m: np.median(np.array([tr[:200] for tr in trs]), axis=0) for m, trs in traces.items()}
        print(f"  {name}: FMQA optimum {hit}/{len(opts)}", flush=True)
    plots["fmqa"] = curves
    lines = ["## 1. FMQA vs random search vs simulated annealing (same evaluation budget)", "",
             f"Median over {args.seeds} seeds of the best true objective after k evaluations (hidden QUBOs: "
             "minimise; knapsacks: maximise, capacity explicit, every evaluated point feasible).  FMQA: "
             "rank-16 factorization machine, `anneal` sampler (20 reads × 200 sweeps), one new point per "
             "round; constrained rounds solved by the slack-free Lagrangian driver (5 dual iterations).  "
             "Time is the mean wall time of one 200-evaluation run (the black boxes here are instant, so "
             "this is pure method overhead).", "",
             "| instance | method | best@50 | best@100 | best@200 | optimum (median) | s / run |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.1f} |")
    lines.append("")
    for name, (h, k, how) in hits.items():
        lines.append(f"- {name}: FMQA reached the optimum ({how}) within 200 evaluations in {h}/{k} seeds")
    lines.append(f"- FMQA strictly better than random search at {sum(beats)}/{len(beats)} (instance, seed, budget) "
                 "checkpoints")
    return lines, hits, beats


#: objective seeds used while choosing FMQA's defaults (exploration, rank); the report uses others
TUNING_SEEDS = (900, 901, 902)
HIDDEN_CHECKPOINTS = tuple(range(25, 201, 25))
HIDDEN_METHODS = ("fmqa", "bocs", "blackbox-anneal", "random-search")


def hidden_maxcut(n: int, seed: int):
    """Max-Cut on G(n, 1/2): the black box counts cut edges (maximise); returns (f, sense, QUBO of −cut)."""
    g = np.random.default_rng(seed)
    W = np.triu((g.random((n, n)) < 0.5).astype(float), 1)
    i, j = np.nonzero(W)

    def cut(x):
        return float(np.sum(x[i] != x[j]))

    return cut, "max", QUBO(2 * W - np.diag(W.sum(0) + W.sum(1)))


def hidden_ising(n: int, seed: int):
    """Ising energy with fields on G(n, 0.3), J, h ~ N(0, 1), spins s = 2x − 1 (minimise)."""
    g = np.random.default_rng(seed)
    J = np.triu(g.normal(size=(n, n)) * (g.random((n, n)) < 0.3), 1)
    h = g.normal(size=n)

    def energy(x):
        s = 2.0 * np.asarray(x, dtype=float) - 1.0
        return float(s @ J @ s + h @ s)

    # s_i s_j = 4 x_i x_j − 2 x_i − 2 x_j + 1: the same energy as a QUBO, for the brute force
    qubo = QUBO(4 * J + np.diag(2 * h - 2 * (J.sum(0) + J.sum(1))), float(J.sum() - h.sum()))
    return energy, "min", qubo


def hidden_dense(n: int, seed: int):
    """A dense QUBO with N(0, 1) coefficients (minimise)."""
    q = QUBO(np.triu(np.random.default_rng(seed).normal(size=(n, n))))
    return (lambda x: float(q.energy(x))), "min", q


HIDDEN_KINDS = {"maxcut": hidden_maxcut, "ising": hidden_ising, "dense-qubo": hidden_dense}


def hidden_section(args, plots):
    """FMQA vs BOCS vs black-box annealing vs random search on hidden n = 20 objectives, plain callables
    through ``cutslack.solve``; optimum by brute force over all 2^20 points."""
    seeds = [int(s) for s in args.hidden_seeds.split(",")]
    budget = HIDDEN_CHECKPOINTS[-1]
    hits = {m: {} for m in HIDDEN_METHODS}
    wins = {m: [0, 0] for m in HIDDEN_METHODS if m != "fmqa"}
    rows, curves, secs = [], {}, {m: 0.0 for m in HIDDEN_METHODS}
    for kind, make in HIDDEN_KINDS.items():
        traces = {m: [] for m in HIDDEN_METHODS}
        for s in seeds:
            f, sense, qubo = make(20, s)
            sign = -1.0 if sense == "max" else 1.0
            opt = sign * float(sample_qubo(qubo, "exhaustive").energies[0])
            for m in HIDDEN_METHODS:
                t = time.perf_counter()
                r = cutslack.solve(f, method=m, n=20, sense=sense, budget=budget, rng=s)
                secs[m] += time.perf_counter() - t
                assert r.info["evaluations"] == budget and len(r.history) == budget, (m, r.info["message"])
                best = np.array([h["best"] for h in r.history])
                traces[m].append(sign * best)  # minimisation form: lower is better
                hits[m].setdefault(kind, []).append(abs(r.objective - opt) <= 1e-9 * max(1.0, abs(opt)))
            for m in wins:
                for k in HIDDEN_CHECKPOINTS:
                    wins[m][0] += traces["fmqa"][-1][k - 1] <= traces[m][-1][k - 1] + 1e-9
                    wins[m][1] += 1
            print(f"  {kind} seed {s}: optimum {opt:g}; " + ", ".join(
                f"{m} {sign * traces[m][-1][-1]:g}" for m in HIDDEN_METHODS), flush=True)
        for m in HIDDEN_METHODS:
            med = np.median(np.array(traces[m]), axis=0)
            rows.append((kind, m, [float(med[k - 1]) for k in HIDDEN_CHECKPOINTS], sum(hits[m][kind])))
        curves[kind] = {m: np.median(np.array(trs), axis=0) for m, trs in traces.items()}
    plots["hidden"] = curves
    cps = " | ".join(f"@{k}" for k in HIDDEN_CHECKPOINTS)
    lines = ["## Hidden n = 20 black boxes: FMQA vs BOCS vs annealing vs random search", "",
             f"Plain callables through `cutslack.solve(f, method=..., n=20, sense=..., budget={budget}, rng=seed)`; "
             f"objective seeds {args.hidden_seeds} (held out: FMQA's defaults were chosen on seeds "
             f"{', '.join(map(str, TUNING_SEEDS))}).  Max-Cut on G(20, 1/2) (cut size, maximised), Ising energy "
             "with fields on G(20, 0.3) (J, h ~ N(0, 1)), dense N(0, 1) QUBO; the true optimum by brute force "
             "over all 2^20 points.  Table: median over seeds of the best value after k evaluations in "
             "minimisation form (Max-Cut negated; lower is better).  FMQA: defaults (full-rank machine, "
             "fresh refit every round, bootstrap refit after a stalled round, duplicate avoidance); BOCS: horseshoe Gibbs, Thompson draw; both "
             "minimise their surrogate with `anneal` (20 reads × 200 sweeps).", "",
             f"| kind | method | {cps} | optimum found |", "|---|---|" + "---|" * len(HIDDEN_CHECKPOINTS) + "---|"]
    for kind, m, med, h in rows:
        lines.append(f"| {kind} | {m} | " + " | ".join(f"{v:.3f}" for v in med) + f" | {h}/{len(seeds)} |")
    lines.append("")
    for m in HIDDEN_METHODS:
        lines.append(f"- {m}: optimum found in " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in hits[m].items())
                     + f"; mean wall time {secs[m] / (len(seeds) * len(HIDDEN_KINDS)):.1f} s per run")
    for m, (w, tot) in wins.items():
        lines.append(f"- FMQA at least as good as {m} at {w}/{tot} = {w / tot:.0%} of the (kind, seed, "
                     "checkpoint) pairs")
    return lines, hits, wins


def pde_offline_task(pde, n_points, seed):
    """IGNITE on the PDE control: θ (16 sine coefficients) -> −j(Bθ) on a random linear 16×16 grid problem (α = 1e-4).

    The box is ±3·max|θ*| around zero, θ* the best parameterised control (L-BFGS on θ).
    """
    from scipy.optimize import minimize

    from cutslack.surrogates.ignite import offline_task
    from cutslack.surrogates.pde_tasks import pde_offline_objective, sine_basis

    problem = pde.random_elliptic_control(16, nonlinearity="linear", alpha=1e-4, rng=seed)
    objective, dim = pde_offline_objective(problem, modes=4)
    B = sine_basis(problem, 4)

    def fun(theta):
        j, g, _, _ = problem.reduced_gradient(B @ theta)
        return j, B.T @ g

    best = minimize(fun, np.zeros(dim), jac=True, method="L-BFGS-B").x
    bound = 3 * np.abs(best).max()
    return offline_task("pde-control", dim, n_points=n_points, rng=seed, objective=objective,
                        lower=np.full(dim, -bound), upper=np.full(dim, bound))


def ignite_section(args):
    import torch

    from cutslack.surrogates.ignite import IgniteSettings, offline_optimise, offline_task

    torch.set_num_threads(1)
    tasks = [("ackley", 20), ("rosenbrock", 20), ("ackley", 50)]
    if args.full:
        tasks += [("rosenbrock", 50)]
    pde = pde_module()
    if pde is not None:
        tasks.append(("pde-control", 16))
    seeds = range(args.ignite_seeds)
    base = IgniteSettings(epochs=args.ignite_epochs)
    lines = ["## 2. IGNITE vs the unregularised surrogate (offline, no new evaluations)", "",
             f"{args.ignite_points} points from the lower-quality half, {args.ignite_epochs} epochs, MLP "
             f"{base.hidden}, the authors' defaults otherwise (ε = {base.epsilon}, λ₀ = {base.lambda0}, "
             f"η_λ = {base.eta_lambda}, ρ = {base.rho}, r = {base.r}; 128 starts, 200 ascent steps of "
             "0.01·√d).  Scores are the true objective (negated function: higher is better), median over "
             f"{args.ignite_seeds} seeds.", "",
             "| task | d | data max | variant | p100 | p80 | p50 | final λ | s |", "|---|---|---|---|---|---|---|---|---|"]
    wins = []
    cache = {}
    for name, d in tasks:
        res = {}
        variants = [("plain", dataclasses.replace(base, sharpness=False)), ("IGNITE", base)]
        if args.full:
            variants.append(("IGNITE η_λ=0.1", dataclasses.replace(base, eta_lambda=0.1)))
        for variant, settings in variants:
            ps, lams, secs, dmax = [], [], 0.0, []
            for s in seeds:
                if (name, d, s) not in cache:
                    cache[(name, d, s)] = (pde_offline_task(pde, args.ignite_points, s) if name == "pde-control"
                                           else offline_task(name, d, n_points=args.ignite_points, rng=s))
                task = cache[(name, d, s)]
                t = time.perf_counter()
                out = offline_optimise(task.X, task.y, settings=settings,
                                       objective=task.objective, lower=task.lower, upper=task.upper, rng=s)
                secs += time.perf_counter() - t
                ps.append(out.percentiles)
                lams.append(out.stats["lambda"])
                dmax.append(task.y.max())
            med = {k: float(np.median([p[k] for p in ps])) for k in ("p100", "p80", "p50")}
            res[variant] = med
            lines.append(f"| {name} | {d} | {np.median(dmax):.3f} | {variant} | {med['p100']:.3f} | {med['p80']:.3f} | "
                         f"{med['p50']:.3f} | {np.median(lams):.2e} | {secs / len(ps):.1f} |")
        gain = (res["IGNITE"]["p100"] - res["plain"]["p100"]) / abs(res["plain"]["p100"])
        wins.append((f"{name} d={d}", gain))
        print(f"  ignite {name} d={d}: p100 gain {100 * gain:+.2f}%", flush=True)
    lines.append("")
    lines.append("- 100th-percentile change with IGNITE (authors' defaults): " + ", ".join(f"{n} {100 * g:+.2f}%" for n, g in wins)
                 + f" (improved on {sum(g > 0 for _, g in wins)}/{len(wins)} tasks)")
    return lines, wins


def map_section(args):
    from cutslack.surrogates.pareto_surrogate import map_front, poisson_tracking_1d, weighted_sum_front

    lines = ["## 3. MAP quadratic surrogates vs the exact weighted-sum front", "",
             "1-D Poisson tracking (J1 = h/2‖y − y_d‖²) vs control cost (J2 = h/2‖u‖²), 64 nodes, random "
             "targets; exact front: 50 weights `w = 1/(1+α)`, α log-spaced in [1e-7, 1e-1], one exact "
             "scalarised solve and one evaluation each.  MAP: 5 anchors at log-spaced α, quadratic "
             "interpolation on their 4-D affine hull (10 midpoint evaluations), 6 proposals.  Reference "
             "point: 1.1 × the exact front's worst values.", "",
             "| seed | HV ratio | MAP solves | exact solves | MAP evaluations | exact evaluations |",
             "|---|---|---|---|---|---|"]
    ratios = []
    for s in range(5):
        obj, solve, _ = poisson_tracking_1d(64, rng=s)
        exact = weighted_sum_front(obj, solve, 1 / (1 + np.geomspace(1e-7, 1e-1, 50)))
        ref = exact.F.max(axis=0) * 1.1
        front = map_front(obj, solve, anchor_weights=1 / (1 + np.geomspace(1e-7, 1e-1, 5)), n_proposals=6)
        ratio = front.hypervolume(ref) / exact.hypervolume(ref)
        ratios.append((ratio, front.scalarised_solves, exact.scalarised_solves, front.evaluations, exact.evaluations))
        lines.append(f"| {s} | {ratio:.4f} | {front.scalarised_solves} | {exact.scalarised_solves} | "
                     f"{front.evaluations} | {exact.evaluations} |")
    pde = pde_module()
    if pde is not None:
        from cutslack.surrogates.pde_tasks import SolveCounter, pde_objectives, pde_scalarised_solver

        lines += ["", "PDE control (`cutslack.problems.pde`, 16×16 grid, random smooth target): tracking vs "
                  "control cost; exact front: 30 weights, α log-spaced in [1e-6, 1], each an L-BFGS solve on "
                  "the reduced objective (adjoint gradients); MAP: 5 anchors at log-spaced α.  PDE solves "
                  "counted inside every solve and evaluation.", "",
                  "| problem | HV ratio | MAP solves | exact solves | MAP evaluations | exact evaluations | "
                  "MAP PDE solves | exact PDE solves |", "|---|---|---|---|---|---|---|---|"]
        for nl in ("linear", "semilinear"):
            problem = pde.random_elliptic_control(16, nonlinearity=nl, rng=0)
            ce, cm = SolveCounter(), SolveCounter()
            exact = weighted_sum_front(pde_objectives(problem, ce), pde_scalarised_solver(problem, ce),
                                       1 / (1 + np.geomspace(1e-6, 1.0, 30)))
            ref = exact.F.max(axis=0) * 1.1
            front = map_front(pde_objectives(problem, cm), pde_scalarised_solver(problem, cm),
                              anchor_weights=1 / (1 + np.geomspace(1e-6, 1.0, 5)), n_proposals=6)
            ratio = front.hypervolume(ref) / exact.hypervolume(ref)
            pde_rows = (ratio, front.scalarised_solves, exact.scalarised_solves, front.evaluations,
                        exact.evaluations, cm.solves, ce.solves)
            lines.append(f"| {problem.name} | {ratio:.4f} | " + " | ".join(str(v) for v in pde_rows[1:]) + " |")
            print(f"  map {problem.name}: HV ratio {ratio:.4f}, PDE solves {cm.solves} vs {ce.solves}", flush=True)
    else:
        lines += ["", "PDE control front: not run (`cutslack.problems.pde` is not in this checkout)."]
    r = np.array(ratios)
    lines += ["", f"- 1-D Poisson: median HV ratio {np.median(r[:, 0]):.4f} (min {r[:, 0].min():.4f}) with "
              f"{int(r[0, 1])}/{int(r[0, 2])} = {r[0, 1] / r[0, 2]:.0%} of the scalarised solves and "
              f"{int(np.median(r[:, 3]))}/{int(r[0, 4])} = {np.median(r[:, 3]) / r[0, 4]:.0%} of the objective evaluations"]
    print(f"  map: median HV ratio {np.median(r[:, 0]):.4f}", flush=True)
    return lines, ratios


def sso_section(args, plots):
    from cutslack.surrogates.sso import gradient_method, softmax_regression, target_surrogate_descent

    g = np.random.default_rng(0)
    N, d, K = args.sso_examples, 40, 5
    scales = np.geomspace(0.1, 3.0, d)
    X = g.normal(size=(N, d)) * scales
    y = np.argmax(X @ g.normal(size=(d, K)) / scales.mean() + g.gumbel(size=(N, K)), axis=1)
    p = softmax_regression(X, y, K)
    B = args.sso_budget
    lines = ["## 4. SSO (target-space surrogates) vs SGD and Adam", "",
             f"Softmax regression, N = {N}, d = {d}, K = {K}, feature scales log-spaced in [0.1, 3] "
             f"(ill-conditioned); {B} expensive-oracle calls (one loss-gradient call in target space each, "
             "on the full data or one mini-batch of 100).  Each method's step is the best of a 4-point grid "
             "by final loss: SGD lr ∈ {0.3, 1, 3, 10}, Adam lr ∈ {0.01, 0.03, 0.1, 0.3}, SSO η ∈ {1, 3, 10, 30} × "
             "the majorising η = b/smoothness; SSO takes 20 inner Armijo steps per call (cheap: only the "
             "linear model and its transpose).", "",
             "| batch | method | best step | final loss | SSO calls to reach it | ratio |", "|---|---|---|---|---|---|"]
    summary = []
    for bs in (None, 100):
        label = "full" if bs is None else str(bs)
        best = {}
        for method, grid in (("sgd", (0.3, 1.0, 3.0, 10.0)), ("adam", (0.01, 0.03, 0.1, 0.3))):
            trs = [gradient_method(p, method=method, lr=lr, oracle_budget=B, batch_size=bs, rng=0) for lr in grid]
            best[method] = min(trs, key=lambda t: t.loss[-1])
        sso_trs = [target_surrogate_descent(p, oracle_budget=B, inner_steps=20, batch_size=bs, rng=0,
                                            eta=m * (N if bs is None else bs) / p.smoothness) for m in (1, 3, 10, 30)]
        sso = min(sso_trs, key=lambda t: t.loss[-1])
        sso_default = sso_trs[0]
        plots.setdefault("sso", {})[label] = {"SGD": best["sgd"], "Adam": best["adam"], "SSO": sso}
        for method, tr in best.items():
            c = sso.calls_to_reach(tr.loss[-1])
            ratio = f"{B / c:.1f}×" if c else "not reached"
            lines.append(f"| {label} | {method} | lr {tr.info['lr']} | {tr.loss[-1]:.4f} | {c} | {ratio} |")
            summary.append((label, method, c, B))
            c0 = sso_default.calls_to_reach(tr.loss[-1])
            lines.append(f"| {label} | (SSO at the majorising η vs {method}) | — | {sso_default.loss[-1]:.4f} | {c0} | "
                         f"{f'{B / c0:.1f}×' if c0 else 'not reached'} |")
        lines.append(f"| {label} | sso | η × {sso.info['eta'] * p.smoothness / (N if bs is None else bs):g} | "
                     f"{sso.loss[-1]:.4f} | — | — |")
        print(f"  sso batch={label}: " + ", ".join(f"{m} reached at {c}/{B}" for lab, m, c, _ in summary if lab == label),
              flush=True)
    pde = pde_module()
    if pde is not None:
        from cutslack.surrogates.pde_tasks import pde_target_problem

        from cutslack.errors import SolverError

        problem = pde.random_elliptic_control(16, nonlinearity="semilinear", alpha=1e-4, rng=0)
        tp = pde_target_problem(problem, modes=4)
        B2 = max(20, B // 4)
        lam, lam_theta = tp.smoothness, tp.parameter_smoothness

        def runs(make, grid):
            out = []
            for v in grid:
                try:
                    out.append(make(v))
                except SolverError:  # a step so large that the state equation's Newton solve diverged
                    pass
            return min(out, key=lambda t: t.loss[-1])

        sgd = runs(lambda c: gradient_method(tp, method="sgd", lr=c / lam_theta, oracle_budget=B2), (0.3, 1.0, 1.9))
        adam = runs(lambda lr: gradient_method(tp, method="adam", lr=lr, oracle_budget=B2), (0.3, 1.0, 3.0, 10.0))
        sso = runs(lambda m: target_surrogate_descent(tp, oracle_budget=B2, inner_steps=20, eta=m / lam),
                   (1, 3, 10, 30))
        lines += ["", f"PDE control `{problem.name}` (16×16 grid, semilinear): θ = 16 sine coefficients, target the "
                  "control field u = Bθ, expensive oracle the reduced gradient (one state and one adjoint PDE "
                  f"solve); α = 1e-4; {B2} calls; SGD lr ∈ {{0.3, 1, 1.9}}/L_θ, Adam lr ∈ {{0.3, 1, 3, 10}}, SSO η ∈ "
                  "{1, 3, 10, 30}/L_u, with L_u and L_θ the largest eigenvalues of the reduced Hessian in u and "
                  "of BᵀHB in θ at u = 0 (runs whose state solve diverged are dropped from the grid).", "",
                  "| method | best step | final loss | SSO calls to reach it | ratio |", "|---|---|---|---|---|"]
        for name, tr in (("sgd", sgd), ("adam", adam)):
            c = sso.calls_to_reach(tr.loss[-1])
            lines.append(f"| {name} | {tr.info['lr']:.3g} | {tr.loss[-1]:.5g} | {c} | "
                         f"{f'{B2 / c:.1f}×' if c else 'not reached'} |")
            summary.append(("pde", name, c, B2))
        lines.append(f"| sso | η·L = {sso.info['eta'] * lam:g} | {sso.loss[-1]:.5g} | — | — |")
        print(f"  sso pde: SGD final reached at {sso.calls_to_reach(sgd.loss[-1])}/{B2}", flush=True)
    else:
        lines += ["", "PDE-control SSO task: not run (`cutslack.problems.pde` is not in this checkout)."]
    return lines, summary


def plot(plots, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = {**plots.get("hidden", {}), **plots.get("fmqa", {})}
    n = len(curves) + len(plots.get("sso", {}))
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4))
    axes = np.atleast_1d(axes)
    for ax, (name, cs) in zip(axes, curves.items()):
        for m, c in cs.items():
            ax.plot(np.arange(1, len(c) + 1), c, label=m)
        ax.set_title(name)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("median best")
        ax.legend(fontsize=7)
    for ax, (label, trs) in zip(axes[len(curves):], plots.get("sso", {}).items()):
        for m, tr in trs.items():
            ax.plot(tr.oracle_calls, tr.loss, label=m)
        ax.set_yscale("log")
        ax.set_title(f"softmax regression, batch {label}")
        ax.set_xlabel("expensive-oracle calls")
        ax.set_ylabel("full loss")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def header(argv):
    """The title and the provenance block (:func:`provenance.results_header`)."""
    from provenance import results_header

    return ["# Learned surrogates: FMQA, BOCS, IGNITE, MAP, SSO", "",
            results_header(__file__, argv, extra="torch threads 1 (IGNITE); NumPy training for FMQA"), ""]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--full", action="store_true", help="n = 20, 40, 60 QUBOs, two knapsack sizes, a fourth IGNITE task")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--ignite-seeds", type=int, default=3)
    ap.add_argument("--ignite-epochs", type=int, default=100)
    ap.add_argument("--ignite-points", type=int, default=1000)
    ap.add_argument("--sso-examples", type=int, default=1000)
    ap.add_argument("--sso-budget", type=int, default=200)
    ap.add_argument("--hidden-seeds", default="0,1,2,3,4",
                    help="objective seeds of the hidden n = 20 black boxes (tuning used 900-902)")
    ap.add_argument("--only", choices=["hidden", "fmqa", "ignite", "map", "sso"], action="append")
    args = ap.parse_args(argv)
    only = set(args.only or ["hidden", "fmqa", "ignite", "map", "sso"])
    out, plots = header(argv), {}
    t0 = time.perf_counter()
    if "hidden" in only:
        lines, *_ = hidden_section(args, plots)
        out += lines + [""]
    if "fmqa" in only:
        lines, *_ = fmqa_section(args, plots)
        out += lines + [""]
    if "ignite" in only:
        lines, _ = ignite_section(args)
        out += lines + [""]
    if "map" in only:
        lines, _ = map_section(args)
        out += lines + [""]
    if "sso" in only:
        lines, _ = sso_section(args, plots)
        out += lines + [""]
    out.append(f"Total wall time {time.perf_counter() - t0:.0f} s.")
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if only == {"hidden", "fmqa", "ignite", "map", "sso"} else "_" + "_".join(sorted(only))
    (RESULTS / f"surrogates{suffix}.md").write_text("\n".join(out) + "\n")
    if plots:
        plot(plots, RESULTS / f"surrogates{suffix}.png")
    print("\n".join(out))
    print(f"wrote {RESULTS / f'surrogates{suffix}.md'}")


if __name__ == "__main__":
    main()
