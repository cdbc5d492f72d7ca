"""The main job (``make demo``): why cutslack exists, on public library instances.

Runs the shipped ``demo`` suite (``cutslack/bench/suites/demo.toml``) block by block into a
local SQLite store and prints, for each block, a table with a one-line legend under it:

(a) SAC-94 / OR-Library knapsacks (mknap1, PB, HP, WEING, WEISH) and OR-Library mknapcb1
    instances (n = 100, where the methods differ): qubits of the slack-bit encoding (Qiskit's
    rule) against the slack-free QUBO, and the gap each reaches under the same sampler and
    budget, next to the closed-form Lagrangian heuristic, HiGHS and the flagship heuristic;
(b) QAOA on the fast simulator for the smallest of those knapsacks: slack-free (n qubits)
    against slack-bit (too large to simulate: its qubit count and the memory it would need),
    with what the circuit itself achieved (probability of sampling an optimum, raw feasible
    fraction, best raw sample) beside the best after repair;
(c) MIS on Sloane and DIMACS graphs and QAPLIB n = 12: slack-free next to the heuristics
    and HiGHS with its bound;
(d) the classical heuristics against the library optima (TSPLIB included);
(e), ... one block per other library family of the suite (GAP, SCP: :func:`demo_blocks`),
    with the tables of block (a).

Every QUBO method's gap is shown with the raw samples' quality beside it (best raw sample's
gap, share of raw samples feasible), so an answer that repair alone made feasible reads as
such (:func:`quality_cell`).  Each block's worker processes first run untimed, unstored
warm-up runs (:func:`warm_up_tasks`), so no stored run carries Numba compile time.

Then it writes ``report.md`` and ``report.html`` (tables and plots) and prints their path.
A line is printed per finished block, so a log never stays silent for long; rerunning
resumes (runs already stored are skipped).

Run as ``python -m cutslack.demo [--out reports] [--workers 2] [--skip-quantum]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["BLOCKS", "FAMILY_TITLES", "QAOA_SETTINGS", "WARM_TIME_LIMIT", "demo_blocks", "warm_up_tasks",
           "run_demo_suite", "qaoa_block", "block_tables", "heuristic_table", "quality_cell", "main"]

#: block title -> families of the demo suite's instances it runs
BLOCKS = {
    "(a) SAC-94 / OR-Library knapsacks: slack-bit vs slack-free": ("mdkp",),
    "(c) MIS (Sloane, DIMACS) and QAPLIB n = 12": ("mis", "qap"),
    "(d) TSPLIB: heuristics against the library optimum": ("tsp",),
}

#: names for the blocks a suite family without one in :data:`BLOCKS` gets (see :func:`demo_blocks`)
FAMILY_TITLES = {"gap": "Generalized assignment (GAP, OR-Library)", "setcover": "Set covering (SCP, OR-Library)"}

#: QAOA of block (b): instances (the smallest knapsacks first), depth, shots
QAOA_SETTINGS = {"instances": ("mknap1#1", "mknap1#2"), "p": 2, "num_reads": 2048, "max_qubits": 26}

#: time limit (s) of each warm-up run: enough to reach the compiled kernels, not to solve anything
WARM_TIME_LIMIT = 0.2


def _say(text: str = "") -> None:
    print(text, flush=True)


def _warm_up(skip_quantum: bool) -> float:
    """Load the kernels this process runs itself (block (b)'s QAOA and repair) on a 6-item knapsack; return seconds.

    The suite's runs happen in worker processes, which warm up on their own
    (:func:`warm_up_tasks`).
    """
    import cutslack
    from cutslack.problems import random_knapsack

    start = time.perf_counter()
    if not skip_quantum:
        cutslack.solve(random_knapsack(6, rng=0), method="qaoa", rng=0, p=1, num_reads=16)
    return time.perf_counter() - start


def demo_blocks(families) -> dict:
    """Return ``{title: families}``: :data:`BLOCKS` (those present), then one block per other family, in order.

    A library family the fixed blocks do not name (GAP, SCP, ...) gets its own block, titled
    from :data:`FAMILY_TITLES` (else the family name), with the same tables as block (a).
    """
    families = list(dict.fromkeys(families))
    blocks = {title: fams for title, fams in BLOCKS.items() if any(f in families for f in fams)}
    known = {f for fams in BLOCKS.values() for f in fams}
    letter = ord("e")
    for family in families:
        if family not in known:
            blocks[f"({chr(letter)}) {FAMILY_TITLES.get(family, family + ' library instances')}"] = (family,)
            letter += 1
    return blocks


def warm_up_tasks(suite) -> list:
    """Return the untimed warm-up runs of a suite (or block): every solver on its smallest and largest instance
    of each family, with a :data:`WARM_TIME_LIMIT` time limit.

    Run once in each worker before the timed runs, they load (or compile) every Numba kernel the
    timed runs call, so no stored run carries compile time.  The largest instance is there
    because the samplers compile a second (float32-field) variant for QUBOs of 128 variables or
    more; the time limit keeps each warm-up run short, since the kernels load on the first call.
    """
    from cutslack.bench.suite import RunTask

    chosen = []
    for family in dict.fromkeys(i.family for i in suite.instances):
        mine = sorted((i for i in suite.instances if i.family == family), key=lambda i: _size_of(i.problem))
        chosen += [mine[0]] + ([mine[-1]] if len(mine) > 1 else [])
    full = {(t.instance.instance_id, t.solver.label) for t in suite.tasks()}
    return [RunTask(f"{suite.name}-warm-up", inst, cfg, 0, WARM_TIME_LIMIT, suite.hard_timeout, suite.imports)
            for inst in chosen for cfg in suite.solvers if (inst.instance_id, cfg.label) in full]


def _size_of(problem) -> int:
    size = getattr(problem, "size", None) or {}
    return int(next(iter(size.values()), 0)) if isinstance(size, dict) else 0


def _warmed_executor(workers: int, warm_tasks: list):
    """Return a :class:`~cutslack.bench.executors.LocalExecutor` whose workers run ``warm_tasks`` as they start.

    The warm-up runs go to each worker directly (every worker loads every kernel) and their
    results are dropped: they are neither timed nor stored.
    """
    from multiprocessing.connection import wait as wait_connections

    from cutslack.bench.executors import LocalExecutor

    class WarmedExecutor(LocalExecutor):
        def _start(self, n_slots, imports):
            super()._start(n_slots, imports)
            workers = {w.conn: w for w in self.idle}
            queues = {conn: list(warm_tasks) for conn in workers}
            busy = []
            for conn, queue in queues.items():
                if queue:
                    conn.send(queue.pop(0))
                    busy.append(conn)
            limit = 2.0 * max((t.hard_timeout for t in warm_tasks), default=0.0)   # room for a cold compile
            while busy:
                ready = wait_connections(busy, limit)
                if not ready:   # a warm-up run hung: drop its worker; the runs start fresh ones as needed
                    self._drop([workers[c] for c in busy])
                    return
                for conn in ready:
                    try:
                        conn.recv()
                    except (EOFError, OSError):   # it died warming up: the runs start a fresh worker
                        self._drop([workers[conn]])
                        busy.remove(conn)
                        continue
                    if queues[conn]:
                        conn.send(queues[conn].pop(0))
                    else:
                        busy.remove(conn)

        def _drop(self, dead):
            for worker in dead:
                worker.kill()
            self.idle = [w for w in self.idle if w not in dead]

    return WarmedExecutor(workers)


def run_demo_suite(db: Path, *, workers: int = 2, suite_name: str = "demo", benchmark_dir=None) -> list:
    """Run the demo suite block by block into ``db``; print one line per finished block; return the summaries.

    Each block's workers first run :func:`warm_up_tasks` (not timed, not stored), so the
    first stored runs do not carry the kernels' compile or load time.
    """
    from cutslack.bench.runner import run_suite
    from cutslack.bench.store import Store
    from cutslack.bench.suite import load_suite

    suite = load_suite(suite_name, benchmark_dir=benchmark_dir)
    for skipped in suite.skipped_solvers:
        _say(f"  note: solver {skipped} skipped")
    summaries = []
    with Store(db) as store:
        for title, families in demo_blocks(i.family for i in suite.instances).items():
            block = dataclasses.replace(suite, instances=[i for i in suite.instances if i.family in families])
            start = time.perf_counter()
            warm = warm_up_tasks(block)   # the executor starts no worker when every run is stored already
            summary = run_suite(block, store, executor=_warmed_executor(workers, warm), progress=None, log=_say)
            statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items()))
            _say(f"  finished {title}: {summary.stored} runs ({statuses or 'all stored before'}), "
                 f"{summary.skipped} already stored, {time.perf_counter() - start:.1f} s"
                 + (f" (each worker first ran {len(warm)} untimed warm-up runs)" if summary.stored else ""))
            summaries.append(summary)
    return summaries


def _fmt(value, spec: str = ".4g") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def _gap_cell(run: dict | None) -> str:
    if run is None:
        return "-"
    if not run["feasible"]:
        return "infeasible" if run["status"] != "error" else "error"
    gap = run["report_gap"]
    mark = "*" if run["status"] == "optimal" else ("†" if run["status"] == "time_limit" else "")
    return f"{100 * gap:.2f}{mark}" if gap is not None else "-"


def _pct(fraction: float) -> str:
    """Return a share as a whole percentage, ``<1 %`` for a share that is small but not zero."""
    if 0.0 < fraction < 0.005:
        return "<1 %"
    return f"{100 * fraction:.0f} %"


def quality_cell(run: dict | None) -> str:
    """Return the gap cell of a run; for a QUBO method, the raw samples' quality beside the repaired answer.

    ``"0.00 (raw: none feasible, repaired)"`` says the answer came from repair alone;
    ``"0.23 (raw 1.20, 4 % feasible)"`` gives the best raw sample's gap and the share of raw
    samples that were feasible (``Result.info``'s ``raw_feasible_fraction`` and
    ``best_raw_objective``).  Other methods get the plain gap cell.
    """
    from cutslack.bench.report import raw_quality

    cell = _gap_cell(run)
    if run is None:
        return cell
    fraction, raw_gap = raw_quality(run)
    if fraction is None:
        return cell
    if fraction == 0.0 or "best_raw_objective" not in run["info"]:
        return f"{cell} (raw: none feasible, repaired)"
    raw = "-" if raw_gap is None else f"{100 * raw_gap:.2f}"
    return f"{cell} (raw {raw}, {_pct(fraction)} feasible)"


def _qubit_columns(mine: list, qubo_solvers: list) -> tuple[list, list]:
    """Split the QUBO solvers into those that add slack qubits on some instance and those that do not."""
    slack_bit = [s for s in qubo_solvers if any(r["solver"] == s and r["n_qubits"] > (r["n_vars"] or 0) for r in mine
                                                 if r["n_qubits"] is not None)]
    return slack_bit, [s for s in qubo_solvers if s not in slack_bit]


def block_tables(runs: list, families, title: str):
    """Return the :class:`~cutslack.bench.report.ReportSection` tables of one block from annotated runs.

    The main table has one gap column per solver label (QUBO methods with their raw samples'
    quality beside, :func:`quality_cell`); the detail table lists every QUBO run with raw and
    repaired quality side by side.
    """
    from cutslack.bench.report import ReportSection

    mine = [r for r in runs if r["family"] in families]
    if not mine:
        return []
    # a stable order whatever order the runs finished in: instances by size, classical solvers then QUBO ones
    instances = sorted({r["instance_id"]: r["size"] for r in mine}.items(), key=lambda kv: (kv[1], kv[0]))
    instances = [iid for iid, _ in instances]
    qubo = {r["solver"] for r in mine if r["n_qubits"] is not None}
    solvers = sorted({r["solver"] for r in mine}, key=lambda s: (s in qubo, s))
    by = {(r["instance_id"], r["solver"]): r for r in mine if r["seed"] == min(x["seed"] for x in mine)}
    qubo_solvers = [s for s in solvers if s in qubo]
    slack_bit, slack_free = _qubit_columns(mine, qubo_solvers)
    columns = ["instance", "n", "optimum"] + (["qubits slack-bit", "qubits slack-free"] if slack_bit else [])
    columns += [f"gap % {s}" for s in solvers]
    has_milp = any(r["method"] == "milp" for r in mine)
    columns += ["milp bound"] if has_milp else []
    rows = []
    for iid in instances:
        any_run = next(r for r in mine if r["instance_id"] == iid)
        row = [iid.split("/")[-1], any_run["size"], _fmt(any_run["known_optimum"], "g")]
        if slack_bit:
            bits = [by[(iid, s)]["n_qubits"] for s in slack_bit if (iid, s) in by and by[(iid, s)]["n_qubits"]]
            free = [by[(iid, s)]["n_qubits"] for s in slack_free if (iid, s) in by and by[(iid, s)]["n_qubits"]]
            row += [_fmt(max(bits) if bits else None), _fmt(min(free) if free else None)]
        row += [quality_cell(by.get((iid, s))) for s in solvers]
        if has_milp:
            milp = next((by[(iid, s)] for s in solvers if (iid, s) in by and by[(iid, s)]["method"] == "milp"), None)
            row.append(_fmt(None if milp is None else milp["bound"], ".6g"))
        rows.append(row)
    legend = ("gap %: to the library optimum, per solver label of the demo suite (* proven optimal by the "
              "method's own bound, † stopped at its time limit with a feasible answer); "
              + ("for QUBO methods, in brackets: the best raw sample's gap before repair and the share of raw "
                 "samples that were feasible, or 'raw: none feasible, repaired' when every feasible answer came "
                 "from repair; " if qubo_solvers else "")
              + ("qubits: the slack-bit QUBO (Qiskit's rule, floor(log2 C)+1 slack bits per inequality) vs the "
                 "slack-free one (n); " if slack_bit else "")
              + ("milp bound: HiGHS's dual bound at its end." if has_milp else ""))
    sections = [ReportSection(title, columns=columns, rows=rows, legend=legend)]
    if qubo_solvers:
        sections.append(_detail_table(title, instances, qubo_solvers, by))
    return sections


def _detail_table(title: str, instances: list, qubo_solvers: list, by: dict):
    """Return the "QUBO runs in detail" section: raw and repaired quality side by side per run."""
    from cutslack.bench.report import ReportSection, raw_quality

    columns = ["instance", "solver", "qubits", "subproblem", "raw feasible fraction", "raw gap %",
               "repaired gap %", "best raw objective", "best repaired objective", "time s", "stop"]
    rows = []
    for iid in instances:
        for s in qubo_solvers:
            r = by.get((iid, s))
            if r is None:
                continue
            info = r["info"]
            fraction, raw_gap = raw_quality(r)
            raw_cell = ("none feasible" if fraction == 0.0 else
                        _fmt(None if raw_gap is None else 100 * raw_gap, ".2f"))
            rows.append([iid.split("/")[-1], s, _fmt(r["n_qubits"]), _fmt(info.get("subproblem")),
                         _fmt(fraction, ".3f"), raw_cell, _gap_cell(r), _fmt(info.get("best_raw_objective"), "g"),
                         _fmt(info.get("best_repaired_objective", r["objective"] if r["feasible"] else None), "g"),
                         _fmt(r["solver_time"], ".2f"), _fmt(info.get("stop", info.get("message")))])
    return ReportSection(title.split(" ")[0] + " QUBO runs in detail: raw samples vs repaired answer",
                         columns=columns, rows=rows, level=3, legend=(
        "subproblem: how the QUBO was solved (closed form / exhaustive / sampled by <sampler>); raw feasible "
        "fraction: share of samples feasible before repair; raw gap %: gap of the best feasible sample before "
        "repair ('none feasible': the answer comes from repair alone); repaired gap %: the method's answer after "
        "repair and local improvement; '-' where the method does not report it."))


def heuristic_table(runs: list):
    """Return the (d) section: every flagship-heuristic run against the library optimum."""
    from cutslack.bench.report import ReportSection

    rows = []
    for r in runs:
        if r["method"] != "heuristic":
            continue
        rows.append([r["instance_id"], r["family"], r["size"], _fmt(r["objective"], "g"),
                     _fmt(r["known_optimum"], "g"), _gap_cell(r), r["status"], _fmt(r["info"].get("bound_kind")),
                     _fmt(r["info"].get("stop")), _fmt(r["solver_time"], ".3f"),
                     _fmt(r["ttt"] if np.isfinite(r["ttt"]) else None, ".3f")])
    return ReportSection("(d) Classical heuristics against the library optima", rows=rows, columns=[
        "instance", "family", "n", "objective", "optimum", "gap %", "status", "bound used", "stopped by", "time s",
        "time to 1 % s"], legend=(
        "The family's flagship heuristic (tsp-ils, qap-tabu, mdkp-tabu, mis-ils); it stops when it reaches the "
        "cheap bound named (status optimal) or after max_no_improve iterations without progress (stagnation); "
        "time to 1 %: first incumbent within 1 % of the optimum."))


def qaoa_block(benchmark_dir=None):
    """Run block (b) and return its ReportSection: QAOA on the smallest knapsacks, slack-free vs slack-bit."""
    import cutslack
    from cutslack.bench.report import ReportSection
    from cutslack.problems.library import load_instance
    from cutslack.quantum.driver import formulate

    rows = []
    for name in QAOA_SETTINGS["instances"]:
        problem = load_instance("mdkp", name, benchmark_dir)
        opt = problem.known_optimum.value if problem.known_optimum else None
        for label, formulation, options in (("slack-free", "lagrangian", {}), ("slack-bit", "penalty",
                                                                               {"rule": "qiskit"})):
            qubo, _, _ = formulate(problem, formulation, **options)
            nq = qubo.n
            if nq > QAOA_SETTINGS["max_qubits"]:
                rows.append([name, problem.n, label, nq, "-", "-", "-", "-", "-",
                             f"too large to simulate: 2^{nq} amplitudes need {_bytes(16.0 * 2.0 ** nq)} "
                             f"(complex128 statevector)"])
                continue
            start = time.perf_counter()
            res = cutslack.solve(problem, method="qaoa", formulation=formulation, formulation_options=options,
                                 rng=0, p=QAOA_SETTINGS["p"], num_reads=QAOA_SETTINGS["num_reads"])
            stats = _sample_statistics(problem, res.samples, opt, n_original=problem.n)
            rows.append([name, problem.n, label, nq, _fmt(stats["p_opt"], ".4f"), _fmt(stats["raw_feasible"], ".3f"),
                         _fmt(stats["best_raw"], "g"), _fmt(res.objective, "g"),
                         _fmt(None if res.gap is None else 100 * res.gap, ".2f"),
                         f"p={QAOA_SETTINGS['p']}, {QAOA_SETTINGS['num_reads']} shots, {time.perf_counter() - start:.1f} s"])
    return ReportSection("(b) QAOA where the qubit count decides", rows=rows, columns=[
        "instance", "n", "formulation", "qubits", "P(optimum)", "raw feasible fraction", "best raw objective",
        "best after repair", "gap % after repair", "note"], legend=(
        "QAOA on the fast statevector simulator. P(optimum): probability the circuit's measured distribution gives "
        "an optimal solution (before repair); raw feasible fraction: share of shots feasible as measured; best "
        "raw objective: best feasible shot before repair; on knapsacks this small repair alone can reach the "
        "optimum, so the after-repair column says little about the circuit."))


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024 or unit == "EiB":
            return f"{n:.3g} {unit}" if n < 1024 else f"{n / 1024:.3g} ZiB or more"
        n /= 1024.0
    return f"{n:.3g} EiB"


def _sample_statistics(problem, samples, optimum, *, n_original: int) -> dict:
    """Return P(optimum), raw feasible fraction and best raw objective of the measured shots (before repair)."""
    X = samples.X[:, :n_original]
    counts = samples.counts.astype(float)
    feasible = np.array([problem.is_feasible(x) for x in X], dtype=bool)
    values = np.array([problem.evaluate(x) for x in X], dtype=float)
    total = counts.sum()
    hit = feasible & (np.isclose(values, optimum, rtol=1e-9, atol=1e-9) if optimum is not None else False)
    best_raw = None
    if feasible.any():
        best_raw = float(values[feasible].max() if problem.sense == "max" else values[feasible].min())
    return {"p_opt": float(counts[hit].sum() / total) if optimum is not None else None,
            "raw_feasible": float(counts[feasible].sum() / total), "best_raw": best_raw}


def _print_section(section) -> None:
    from cutslack.bench.report import _markdown

    _say()
    _say(_markdown([dataclasses.replace(section, level=min(section.level, 3))]).rstrip())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="cutslack main job: the demo suite on library instances, "
                                                 "QAOA where qubits decide, and an HTML report")
    parser.add_argument("--out", default="reports", help="folder for the demo database and report")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for the suite")
    parser.add_argument("--suite", default="demo", help="suite name or TOML file (default: the shipped demo)")
    parser.add_argument("--benchmarks", default=None, help="benchmark library folder (default: CUTSLACK_BENCHMARKS "
                                                            "or ../shared/benchmarks)")
    parser.add_argument("--skip-quantum", action="store_true", help="leave out block (b), the QAOA runs")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.db"
    _say(f"cutslack demo -> {db.resolve()}  (rerun resumes)")
    _say(f"  compiled kernels of this process ready in {_warm_up(args.skip_quantum):.1f} s")
    summaries = run_demo_suite(db, workers=args.workers, suite_name=args.suite, benchmark_dir=args.benchmarks)
    from cutslack.bench.report import load_runs, write_report
    from cutslack.bench.store import Store

    with Store(db, readonly=True) as store:
        runs = load_runs(store, summaries[0].suite if summaries else "demo")
    sections = []
    for title, families in demo_blocks(r["family"] for r in runs).items():
        if families == ("tsp",):
            continue
        mine = block_tables(runs, families, title)
        for s in mine:
            _print_section(s)
        sections += mine
        if families == ("mdkp",) and not args.skip_quantum:
            start = time.perf_counter()
            qaoa = qaoa_block(args.benchmarks)
            _say(f"  finished (b) QAOA: {len(qaoa.rows)} rows, {time.perf_counter() - start:.1f} s")
            sections.append(qaoa)
            _print_section(qaoa)
    sections.append(heuristic_table(runs))
    _print_section(sections[-1])
    path = write_report(db, out / "demo", suite=summaries[0].suite if summaries else "demo", extra_sections=sections)
    failed = sum(s.errors for s in summaries)
    _say()
    _say(f"report: {path.resolve()}")
    _say(f"report (HTML): {(path.parent / 'report.html').resolve()}")
    _say(f"demo finished in {time.perf_counter() - t0:.0f} s; {failed} runs failed with an error")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
