"""PDE-constrained control: newton-kkt vs AdaSketch-Newton vs SciPy ``trust-constr``.

For the semilinear problem (−Δy + y³ = u, the default target, α = 10⁻²) on N×N grids,
each method is run to the same relative KKT residual (``--tol``, default 1e-8) through the
path a user calls (``cutslack.solve``; trust-constr through ``scipy.optimize.minimize`` on
the full-space problem in (y, u) with exact sparse derivatives and Hessians), one after
the other in this script, with the same pinned threads.  AdaSketch's ``time_limit`` is
checked between sketch chunks and Newton iterations, so one dense reduced-system set-up
(minutes at N = 64 on a loaded machine) can overrun it.  Printed and written into
``benchmarks/results/pde.md``: time, iterations, objective, relative KKT residual,
constraint residual, and time ratios against newton-kkt.  Also: the observed order of the
discretisation error on the manufactured solution, the cvxpy cross-check, AdaSketch's
convergence history (KKT residual per iteration, showing the linear-then-superlinear
rate) and a Pareto front; plots beside the results file.

trust-constr's KKT residual is measured with the adjoint of its final state (so it is the
residual of the optimality system at its (y, u)), and it is stopped after ``--peer-limit``
seconds.  AdaSketch's reduced Newton system is dense, refused beyond N = 64.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/pde.py [--sizes 32 64 128] [--tol 1e-8] [--peer-limit 300]
    OMP_NUM_THREADS=1 python benchmarks/pde.py --scale --bandit   # benchmarks/results/pde_scale.md

``--scale`` writes only the large-problem sections to ``--scale-out``: newton-kkt with the
sparse direct solve against MINRES + AMG on N = 64…512 grids (semilinear, control bounds)
and P1 meshes of about 10⁵ nodes, and AdaSketch's convergence per problem; ``--bandit`` the
Tsallis-INF ω bandit on the SPD systems of Newton runs against a fixed ω chosen in advance
on a different problem (:mod:`cutslack.solvers.pde.systems`).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.optimize as so  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cutslack  # noqa: E402
from cutslack.errors import CutslackError  # noqa: E402
from cutslack.problems.pde import elliptic_control_fd, manufactured_control  # noqa: E402
from cutslack.solvers.pde import pareto_front  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def trust_constr(problem, tol, limit):
    """Solve the full-space problem with SciPy's trust-constr; return a row of measurements."""
    n = problem.n_nodes
    m = problem.mass
    a = problem.alpha

    def fun(x):
        return problem.evaluate(x)

    def grad(x):
        y, u = x[:n], x[n:]
        return np.concatenate([m * (y - problem.target), a * m * u])

    hess = sp.diags(np.concatenate([m, a * m])).tocsr()

    def cons(x):
        return problem.state_residual(x[:n], x[n:])

    def cjac(x):
        Ay, Au = problem.constraint_jacobian(x[:n])
        return sp.hstack([Ay, Au]).tocsr()

    def chess(x, v):
        d = m * problem.nonlinear_second_derivative(x[:n]) * v
        return sp.diags(np.concatenate([d, np.zeros(n)])).tocsr()

    scale = problem.kkt_scale
    start = time.perf_counter()
    state = {"timed_out": False}

    def stop(xk, info):
        if time.perf_counter() - start > limit:
            state["timed_out"] = True
            return True
        return False

    res = so.minimize(fun, np.zeros(2 * n), jac=grad, hess=lambda x: hess, method="trust-constr",
                      constraints=[so.NonlinearConstraint(cons, 0.0, 0.0, jac=cjac, hess=chess)],
                      callback=stop, options={"gtol": tol * scale * np.sqrt(m.min() / (3 * n)), "xtol": 1e-14,
                                              "maxiter": 100000})
    wall = time.perf_counter() - start
    y, u = res.x[:n], res.x[n:]
    p = problem.solve_adjoint(y)
    return {"method": "trust-constr", "time": wall, "nit": int(res.nit), "objective": problem.evaluate(res.x),
            "kkt": problem.kkt_norm(y, u, p) / scale, "violation": float(np.max(problem.violation(res.x))),
            "note": "stopped at the time limit" if state["timed_out"] else str(res.message)[:40]}


def ours(problem, method, tol, **options):
    start = time.perf_counter()
    try:
        res = cutslack.solve(problem, method, rng=0, tol=tol, **options)
    except CutslackError as exc:
        return {"method": method, "time": time.perf_counter() - start, "nit": None, "objective": None,
                "kkt": None, "violation": None, "note": f"{type(exc).__name__}: {str(exc)[:60]}"}, None
    wall = time.perf_counter() - start
    row = {"method": method, "time": wall, "nit": res.nit, "objective": res.objective,
           "kkt": res.info["kkt_residual"], "violation": float(np.max(problem.violation(res.x))),
           "note": str(res.status)}
    return row, res


def observed_order(error_coarse: float, error_fine: float, h_coarse: float, h_fine: float) -> float:
    """Return the observed order of convergence ``log(e1 / e2) / log(h1 / h2)`` between two grids.

    The grid spacings enter as they are: on N x N interior nodes ``h = 1 / (N + 1)``, so doubling
    N does not halve h, and ``log2(e1 / e2)`` would understate a second-order method (1.83 for
    N = 8 -> 16 instead of 2).
    """
    return float(np.log(error_coarse / error_fine) / np.log(h_coarse / h_fine))


def fmt(v, spec=".3g"):
    return "—" if v is None else format(v, spec)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--tol", type=float, default=1e-8)
    parser.add_argument("--peer-limit", type=float, default=300.0)
    parser.add_argument("--adasketch-limit", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "pde.md")
    parser.add_argument("--scale", action="store_true",
                        help="only the scale sections (newton-kkt direct vs MINRES+AMG, P1 mesh, AdaSketch per "
                             "problem), written to --scale-out")
    parser.add_argument("--bandit", action="store_true",
                        help="only the SOR/SSOR bandit on Newton systems (with --scale: both), written to --scale-out")
    parser.add_argument("--scale-sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--direct-max", type=int, default=256, help="largest N given the direct solve in --scale")
    parser.add_argument("--mesh-points", type=int, default=317,
                        help="points per side of the P1 unit-square mesh of --scale (317: about 1e5 nodes)")
    parser.add_argument("--adasketch-sizes", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--scale-out", type=Path, default=RESULTS / "pde_scale.md")
    parser.add_argument("--bandit-n", type=int, default=24, help="grid of the bandit's Newton systems")
    parser.add_argument("--bandit-problems", type=int, default=8, help="random targets in the bandit's sequence")
    parser.add_argument("--no-hindsight", action="store_true",
                        help="skip the bandit's per-ω hindsight table (every system at every ω: the dear part)")
    args = parser.parse_args(argv)
    if args.scale or args.bandit:
        return scale_report(args, argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = ["# PDE-constrained control: newton-kkt vs AdaSketch-Newton vs trust-constr", "",
             f"Written by `python benchmarks/pde.py {' '.join(argv or sys.argv[1:])}` on "
             f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.  Threads pinned to 1 "
             f"(OMP/OPENBLAS/MKL/NUMBA); Python {platform.python_version()}, numpy {np.__version__}, "
             f"scipy {scipy.__version__}, cutslack {cutslack.__version__ if hasattr(cutslack, '__version__') else ''}.",
             "Timings are from a shared 2-core machine with other jobs running (load varies during the "
             "run); compare the ratios measured in the same run, not absolute seconds.", ""]
    cutslack.solve(elliptic_control_fd(6, nonlinearity="semilinear"), "adasketch", rng=0)  # compile kernels

    # 1. discretisation error on the manufactured solution
    lines += ["## Discretisation error (manufactured linear solution, newton-kkt)", "",
              "| N | h | L2 error of u | observed order |", "|---|---|---|---|"]
    prev = None
    for N in (8, 16, 32, 64, 128):
        prob, exact = manufactured_control(N)
        res = cutslack.solve(prob, "newton-kkt")
        n = prob.n_nodes
        err = float(np.sqrt(prob.mass @ (res.x[n:] - exact["u"]) ** 2))
        h = float(prob.meta["h"])
        order = None if prev is None else observed_order(prev[0], err, prev[1], h)
        lines.append(f"| {N} | {h:.4f} | {err:.3e} | {fmt(order, '.3f')} |")
        print(f"manufactured N={N}: error {err:.3e} order {fmt(order, '.3f')}")
        prev = (err, h)
    lines.append("")

    # 2. cvxpy cross-check
    lines += ["## Linear case against cvxpy (Clarabel)", "", "| N | relative control difference | objective difference |",
              "|---|---|---|"]
    for N in (16, 32):
        prob = elliptic_control_fd(N)
        ref = cutslack.solve(prob, "pde-cvxpy")
        res = cutslack.solve(prob, "newton-kkt")
        n = prob.n_nodes
        rel = np.linalg.norm(res.x[n:] - ref.x[n:]) / np.linalg.norm(ref.x[n:])
        lines.append(f"| {N} | {rel:.2e} | {abs(res.objective - ref.objective):.2e} |")
        print(f"cvxpy N={N}: relative control difference {rel:.2e}")
    lines.append("")

    # 3. the three methods
    lines += [f"## Semilinear problem (−Δy + y³ = u, α = 1e-2), relative KKT tolerance {args.tol:g}", "",
              "| N | method | time s | iterations | objective | rel. KKT residual | constraint residual | "
              "time / newton-kkt | status |", "|---|---|---|---|---|---|---|---|---|"]
    timing = {}
    histories = {}
    for N in args.sizes:
        prob = elliptic_control_fd(N, nonlinearity="semilinear")
        rows = []
        row, res = ours(prob, "newton-kkt", args.tol)
        rows.append(row)
        base = row["time"]
        if N <= 64:
            row, res = ours(prob, "adasketch", args.tol, time_limit=args.adasketch_limit)
            if res is not None:
                histories[N] = res.history
        else:
            row = {"method": "adasketch", "time": None, "nit": None, "objective": None, "kkt": None,
                   "violation": None, "note": "not run: dense reduced system above N = 64"}
        rows.append(row)
        rows.append(trust_constr(prob, args.tol, args.peer_limit))
        for r in rows:
            ratio = None if r["time"] is None or base is None else r["time"] / base
            timing[(N, r["method"])] = r["time"]
            lines.append(f"| {N} | {r['method']} | {fmt(r['time'])} | {fmt(r['nit'], '')} | {fmt(r['objective'], '.8g')} | "
                         f"{fmt(r['kkt'], '.2e')} | {fmt(r['violation'], '.2e')} | {fmt(ratio, '.2f')} | {r['note']} |")
            print(f"N={N} {r['method']}: time {fmt(r['time'])} s, nit {r['nit']}, objective {fmt(r['objective'], '.8g')}, "
                  f"kkt {fmt(r['kkt'], '.2e')}, ratio {fmt(ratio, '.2f')} ({r['note']})", flush=True)
    lines.append("")

    # 4. adasketch on every nonlinearity at small N (the converge-on-every-problem target)
    lines += ["## AdaSketch-Newton on every problem at N ≤ 32 (randomized Kaczmarz, tol 1e-6)", "",
              "| N | nonlinearity | converged | iterations | rel. KKT residual | inner (Kaczmarz) steps | flops | time s |",
              "|---|---|---|---|---|---|---|---|"]
    for N in (8, 12, 16, 24, 32):
        for nl in ("linear", "semilinear", "nonsmooth"):
            prob = elliptic_control_fd(N, nonlinearity=nl)
            start = time.perf_counter()
            res = cutslack.solve(prob, "adasketch", rng=0, tol=1e-6, maxiter=60)
            lines.append(f"| {N} | {nl} | {res.info['converged']} | {res.nit} | {res.info['kkt_residual']:.2e} | "
                         f"{res.info['inner_iterations']} | {res.info['flops']:.2e} | {time.perf_counter() - start:.2f} |")
            print(f"adasketch N={N} {nl}: converged {res.info['converged']} kkt {res.info['kkt_residual']:.2e}", flush=True)
    lines.append("")

    # 5. convergence history and plots
    fig, ax = plt.subplots(figsize=(6, 4))
    for N, hist in histories.items():
        ax.semilogy([h["kkt_residual"] for h in hist], "o-", label=f"adasketch N={N}")
        lines += [f"AdaSketch history at N = {N} (KKT residual, contraction factor per iteration, inner steps):", "",
                  "| iteration | rel. KKT residual | factor | step | inner steps | merit |", "|---|---|---|---|---|---|"]
        for i, h in enumerate(hist):
            factor = None if i == 0 else h["kkt_residual"] / hist[i - 1]["kkt_residual"]
            lines.append(f"| {h['iteration']} | {h['kkt_residual']:.2e} | {fmt(factor, '.2e')} | {h['step']:.3g} | "
                         f"{h['inner_iterations']} | {h['merit']:.6g} |")
        lines.append("")
    newton = cutslack.solve(elliptic_control_fd(args.sizes[0], nonlinearity="semilinear"), "newton-kkt", tol=args.tol)
    ax.semilogy([h["kkt_residual"] for h in newton.history], "s--", label=f"newton-kkt N={args.sizes[0]}")
    ax.set_xlabel("outer iteration")
    ax.set_ylabel("relative KKT residual")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "pde_convergence.png", dpi=110)
    plt.close(fig)

    prob = elliptic_control_fd(32, nonlinearity="semilinear")
    fig, ax = plt.subplots(figsize=(6, 4))
    lines += ["## Pareto front (semilinear, N = 32, tracking vs control cost)", "",
              "| scalarisation | points | solver calls | hypervolume (ref 1.1 × max) | time s |", "|---|---|---|---|---|"]
    fronts = {}
    for method in ("weighted-sum", "epsilon-constraint"):
        start = time.perf_counter()
        fronts[method] = pareto_front(prob, method=method, n_points=9)
        fronts[method].plot(ax)
        fronts[method] = (fronts[method], time.perf_counter() - start)
    ref = 1.1 * np.max(np.vstack([f.objectives for f, _ in fronts.values()]), axis=0)
    for method, (front, wall) in fronts.items():
        lines.append(f"| {method} | {len(front.objectives)} | {front.solves} | {front.hypervolume(ref):.6g} | {wall:.1f} |")
    ax.set_xscale("symlog", linthresh=1.0)
    fig.tight_layout()
    fig.savefig(RESULTS / "pde_pareto.png", dpi=110)
    plt.close(fig)
    lines += ["", "Plots: `pde_convergence.png` (KKT residual per iteration), `pde_pareto.png` (fronts).", ""]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


# ---------------------------------------------------------------------------------------- --scale / --bandit

def _newton_row(prob, linear_solver, tol):
    start, cpu = time.perf_counter(), time.process_time()
    res = cutslack.solve(prob, "newton-kkt", tol=tol, linear_solver=linear_solver)
    return {"time": time.perf_counter() - start, "cpu": time.process_time() - cpu, "nit": res.nit,
            "kkt": res.info["kkt_residual"],
            "minres": res.info.get("krylov_iterations"), "objective": res.objective,
            "converged": res.info["converged"]}


def scale_newton(args) -> list:
    """newton-kkt direct vs MINRES + AMG on semilinear grids with bounds, and on a P1 mesh."""
    from cutslack.problems.pde import elliptic_control_fem

    lines = ["## newton-kkt at scale: sparse direct vs MINRES + AMG block preconditioner", "",
             "Semilinear state (−Δy + y³ = u), α = 1e-2, control bounds −20 ≤ u ≤ 20, relative KKT "
             f"tolerance {args.tol:g}; one thread.  CPU s is the process's CPU time (one thread: what the "
             "solve costs on an idle core), wall s the elapsed time on the shared machine.", "",
             "| problem | nodes | linear solver | CPU s | wall s | Newton its | MINRES its | rel. KKT residual | "
             "objective |", "|---|---|---|---|---|---|---|---|---|"]
    cases = [(f"grid N = {N}", N, lambda N=N: elliptic_control_fd(N, nonlinearity="semilinear", lower=-20,
                                                                   upper=20)) for N in args.scale_sizes]
    import skfem

    g = np.linspace(0.0, 1.0, args.mesh_points)
    cases.append((f"P1 unit square {args.mesh_points}² points", None,
                  lambda: elliptic_control_fem(skfem.MeshTri.init_tensor(g, g), nonlinearity="semilinear",
                                               lower=-20, upper=20)))
    cases.append(("P1 L-shape, refine 7", None,
                  lambda: elliptic_control_fem(refine=7, nonlinearity="semilinear", lower=-20, upper=20)))
    for name, N, build in cases:
        prob = build()
        solvers = ["krylov"] if (N is not None and N > args.direct_max) or (N is None and prob.n_nodes > 60000) \
            else ["direct", "krylov"]
        for ls in solvers:
            r = _newton_row(prob, ls, args.tol)
            lines.append(f"| {name} | {prob.n_nodes} | {ls} | {r['cpu']:.2f} | {r['time']:.2f} | {r['nit']} | "
                         f"{fmt(r['minres'], '')} | {r['kkt']:.2e} | {r['objective']:.8g} |")
            print(f"{name} ({prob.n_nodes} nodes) {ls}: CPU {r['cpu']:.2f} s, wall {r['time']:.2f} s, {r['nit']} "
                  f"Newton, MINRES {r['minres']}, kkt {r['kkt']:.2e}", flush=True)
    return lines + ["", "Direct solves above N = "
                    f"{args.direct_max} (and on meshes above 60,000 nodes) are not run.", ""]


def scale_adasketch(args) -> list:
    """AdaSketch convergence per problem, and the N = 12 non-smooth case next to newton-kkt."""
    lines = ["## AdaSketch-Newton per problem (randomized Kaczmarz on the reduced system, tol 1e-6)", "",
             f"Time limit {args.adasketch_limit:g} s per run, maxiter 60.", "",
             "| N | nonlinearity | converged | iterations | rel. KKT residual | inner steps | escapes | CPU s | wall s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for N in args.adasketch_sizes:
        for nl in ("linear", "semilinear", "nonsmooth"):
            prob = elliptic_control_fd(N, nonlinearity=nl)
            start, cpu = time.perf_counter(), time.process_time()
            res = cutslack.solve(prob, "adasketch", rng=0, tol=1e-6, maxiter=60, time_limit=args.adasketch_limit)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            lines.append(f"| {N} | {nl} | {res.info['converged']} | {res.nit} | {res.info['kkt_residual']:.2e} | "
                         f"{res.info['inner_iterations']} | {res.info['escapes']} | {cpu:.1f} | {wall:.1f} |")
            print(f"adasketch N={N} {nl}: converged {res.info['converged']} nit {res.nit} "
                  f"kkt {res.info['kkt_residual']:.2e} {wall:.1f} s", flush=True)
    prob = elliptic_control_fd(12, nonlinearity="nonsmooth")
    ada = cutslack.solve(prob, "adasketch", rng=0, tol=1e-6, maxiter=60)
    newton = cutslack.solve(prob, "newton-kkt", tol=1e-10, maxiter=60)
    y = newton.x[:prob.n_nodes]
    on_kink = int(np.sum(np.abs(y) < 1e-8))
    lines += ["", f"N = 12, non-smooth: AdaSketch stops at KKT {ada.info['kkt_residual']:.2e}, newton-kkt (exact "
              f"directions) at {newton.info['kkt_residual']:.2e}; at newton-kkt's answer {on_kink} nodes have "
              f"|y| < 1e-8: the discrete optimum lies on the kink of max(0, y), where the KKT system with the "
              f"one-sided derivative N'(0) = 0 has no zero (see the adasketch module docstring).", ""]
    return lines


def scale_bandit(args) -> list:
    """The Tsallis-INF ω bandit on the SPD systems of Newton runs, against a fixed ω chosen in advance."""
    from cutslack.problems.pde import random_elliptic_control
    from cutslack.solvers.pde.systems import bandit_on_newton_systems, newton_systems

    systems = []
    for seed in range(args.bandit_problems):
        systems += newton_systems(random_elliptic_control(args.bandit_n, nonlinearity="semilinear", rng=seed))
    reference = newton_systems(elliptic_control_fd(args.bandit_n // 2, nonlinearity="linear"))
    lines = ["## SOR / SSOR-PCG ω bandit on the systems of Newton runs", "",
             f"Sequence: the state-Jacobian systems A_k δy = −c_k and A_k δp = −∇_yℒ_k of every newton-kkt iterate "
             f"along an α-continuation (12 values, 1e-1 → 1e-3) on {args.bandit_problems} random semilinear "
             f"targets, N = {args.bandit_n}: {len(systems)} systems.  The fixed ω \"chosen in advance\" is the best "
             f"fixed ω in hindsight on a different problem: the linear problem on the N = {args.bandit_n // 2} grid "
             f"({len(reference)} systems, same continuation).  Tolerance 1e-8, ω grid 1.0:0.05:1.95.", "",
             "| method | bandit total | ω in advance | its total | saving vs advance | best fixed ω in hindsight | "
             "its total | instance-optimal total |", "|---|---|---|---|---|---|---|---|"]
    totals = []
    for method in ("sor", "ssor-pcg"):
        out = bandit_on_newton_systems(systems, reference, method=method, rng=0, hindsight=not args.no_hindsight)
        lines.append(f"| {method} | {out['bandit_total']} | {out['advance_omega']:.2f} | {out['advance_total']} | "
                     f"{100 * out['saving_vs_advance']:.1f} % | {fmt(out['hindsight_omega'], '.2f')} | "
                     f"{fmt(out['hindsight_total'], '')} | {fmt(out['instance_optimal_total'], '')} |")
        print(f"bandit {method}: {out['bandit_total']} vs advance ω={out['advance_omega']:.2f} {out['advance_total']} "
              f"(saving {100 * out['saving_vs_advance']:.1f} %), hindsight {out['hindsight_total']}", flush=True)
        if out["totals"] is not None:
            totals.append(f"- {method}, total per fixed ω 1.00…1.95: " + ", ".join(str(int(t)) for t in out["totals"]))
    return lines + [""] + totals + [""]


def scale_report(args, argv=None):
    """Write ``--scale-out`` (benchmarks/results/pde_scale.md) with the requested sections."""
    from provenance import results_header

    cutslack.solve(elliptic_control_fd(6, nonlinearity="semilinear"), "adasketch", rng=0)  # compile kernels
    lines = ["# PDE control at scale: Krylov + AMG Newton, AdaSketch per problem, ω bandit on Newton systems", "",
             results_header(__file__, argv), ""]
    if args.scale:
        lines += scale_newton(args)
        lines += scale_adasketch(args)
    if args.bandit:
        lines += scale_bandit(args)
    args.scale_out.write_text("\n".join(lines))
    print(f"wrote {args.scale_out}")


if __name__ == "__main__":
    main()
