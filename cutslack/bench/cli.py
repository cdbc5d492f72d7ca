"""``cutslack bench`` subcommands: ``run``, ``report``, ``compare`` and ``list``.

:func:`add_bench_parser` adds them to the top-level ``cutslack`` parser; :func:`main` runs
them on their own (``python -m cutslack.bench ...``).

Exit codes: 0 all went well; 1 some runs ended in ERROR (they are stored, the suite went
on); 2 bad input (suite, database, arguments), reported before any run starts; 3 an
internal error (one line names the file holding the traceback); 130 interrupted by Ctrl-C
(finished runs are stored; the same command resumes).  Every error is one line starting
``cutslack: error:``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from cutslack.errors import CutslackError

__all__ = ["add_bench_parser", "main", "EXIT_OK", "EXIT_FAILED_RUNS", "EXIT_BAD_INPUT", "EXIT_INTERRUPTED"]

EXIT_OK, EXIT_FAILED_RUNS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

_EPILOG = ("exit codes: 0 ok, 1 some runs ended in ERROR, 2 bad input (nothing was run), 3 internal error, "
           "130 interrupted (run the same command again to resume)")
_RESUME = "interrupted; finished runs are stored, run the same command again to resume"


def add_bench_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``bench`` command and its subcommands to ``subparsers``; return the ``bench`` parser.

    Each subcommand sets ``handler`` (what the top-level ``cutslack`` command calls):
    ``args.handler(args)`` runs it and returns the exit code
    (cutslack errors are printed as one line and give exit code 2).
    """
    bench = subparsers.add_parser("bench", help="run benchmark suites, store runs, write reports",
                                  description="Benchmark suites: run them into an SQLite store, report, compare.",
                                  epilog=_EPILOG)
    sub = bench.add_subparsers(dest="bench_command", metavar="{run,report,compare,list}", required=True)

    run = sub.add_parser("run", help="run a suite into a database (resumes; skips stored runs)",
                         description="Run a suite (a shipped name such as 'quick', or a TOML file) and store every "
                                     "run in the database; runs already stored are skipped unless --rerun.",
                         epilog=_EPILOG)
    run.add_argument("suite", help="shipped suite name (see 'bench list') or path to a suite TOML file")
    run.add_argument("--db", default="cutslack-bench.db", help="SQLite database (default: %(default)s)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=2, help="local worker processes (default: %(default)s)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask scheduler, e.g. tcp://HOST:8786")
    where.add_argument("--dask-local", type=int, metavar="N", help="start a Dask LocalCluster with N workers")
    run.add_argument("--rerun", action="store_true", help="run again (and replace) runs already stored")
    run.add_argument("--benchmarks", metavar="DIR", help="benchmark library folder for library instance sets")
    run.add_argument("--seeds", type=int, nargs="+", metavar="SEED", help="override the suite's solver seeds")
    run.add_argument("--time-limit", type=float, metavar="SECONDS", help="override the suite's per-run time limit")
    run.add_argument("--dry-run", action="store_true", help="validate the suite and count its runs; run nothing")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no messages")
    run.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    run.set_defaults(handler=_guarded(_cmd_run))

    report = sub.add_parser("report", help="write a markdown report with plots from a database",
                            description="Write report.md and PNG plots (gap vs qubits, feasible fraction, time to "
                                        "target, scaling, performance profiles) into --out.", epilog=_EPILOG)
    report.add_argument("--db", required=True, help="SQLite database written by 'bench run'")
    report.add_argument("--out", required=True, help="output folder")
    report.add_argument("--suite", help="only the runs of this suite")
    report.add_argument("--target", type=float, default=0.01, help="relative gap counted as a hit (default 0.01)")
    report.add_argument("--json", action="store_true", help="print the report path and summary rows as JSON")
    report.set_defaults(handler=_guarded(_cmd_report))

    compare = sub.add_parser("compare", help="two solvers head to head: wins, ties, losses, median ratios",
                             description="Compare solver A with solver B on the runs they share (same instance "
                                         "and seed).", epilog=_EPILOG)
    compare.add_argument("a", help="solver label A")
    compare.add_argument("b", help="solver label B")
    compare.add_argument("--db", required=True, help="SQLite database written by 'bench run'")
    compare.add_argument("--suite", help="only the runs of this suite")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    compare.set_defaults(handler=_guarded(_cmd_compare))

    lister = sub.add_parser("list", help="list the shipped suites, or the suites and solvers in a database",
                            description="Without --db: the shipped suites. With --db: run counts per suite and "
                                        "solver.", epilog=_EPILOG)
    lister.add_argument("--db", help="SQLite database written by 'bench run'")
    lister.add_argument("--json", action="store_true", help="print as JSON")
    lister.set_defaults(handler=_guarded(_cmd_list))
    return bench


def _say(args, message: str) -> None:
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def _make_executor(args):
    from cutslack.bench.executors import DaskExecutor, LocalExecutor

    if args.scheduler:
        return DaskExecutor(args.scheduler)
    if args.dask_local:
        return DaskExecutor(local_workers=args.dask_local)
    return LocalExecutor(args.workers)


def _cmd_run(args) -> int:
    from cutslack.bench.runner import run_suite
    from cutslack.bench.store import Store
    from cutslack.bench.suite import load_suite

    from cutslack.cli import check_output_path

    if args.workers is not None and args.workers < 1:
        raise CutslackError(f"--workers must be at least 1, got {args.workers}")
    if args.dask_local is not None and args.dask_local < 1:
        raise CutslackError(f"--dask-local must be at least 1, got {args.dask_local}")
    if args.time_limit is not None and not (0 < args.time_limit < float("inf")):
        raise CutslackError(f"--time-limit must be a positive number of seconds, got {args.time_limit}")
    if args.benchmarks is not None and not Path(args.benchmarks).is_dir():
        raise CutslackError(f"--benchmarks {args.benchmarks}: no such folder; give the benchmark library's folder")
    check_output_path(args.db, "--db")  # before the suite runs, and under --dry-run too
    seeds = None if args.seeds is None else list(dict.fromkeys(args.seeds))
    if seeds is not None and len(seeds) < len(args.seeds):
        _say(args, f"note: --seeds {' '.join(map(str, args.seeds))}: repeated seeds collapsed to "
                   f"{' '.join(map(str, seeds))}")
    suite = load_suite(args.suite, benchmark_dir=args.benchmarks, seeds=seeds, time_limit=args.time_limit)
    for note in suite.skipped_solvers:
        _say(args, f"note: skipping solver {note}")
    tasks = suite.tasks()
    if args.dry_run:
        info = {"suite": suite.name, "runs": len(tasks), "instances": len(suite.instances),
                "solvers": [s.label for s in suite.solvers], "seeds": suite.seeds}
        print(json.dumps(info) if args.json else f"suite {suite.name}: {len(tasks)} runs "
              f"({len(suite.instances)} instances, solvers {', '.join(info['solvers'])}, seeds {suite.seeds})")
        return EXIT_OK
    executor = _make_executor(args)
    with Store(args.db) as store:
        summary = run_suite(suite, store, executor=executor, rerun=args.rerun,
                            progress=False if args.quiet else None, log=lambda m: _say(args, m))
    info = summary.as_dict()
    info["db"] = str(args.db)
    if summary.overheads:
        info["median_overhead_ms"] = round(1000 * statistics.median(summary.overheads), 3)
    if args.json:
        print(json.dumps(info))
    else:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items())) or "nothing new"
        elsewhere = f", {summary.elsewhere} done by another process" if summary.elsewhere else ""
        _say(args, f"suite {suite.name}: {summary.stored} runs stored ({counts}), {summary.skipped} already in "
                   f"{args.db}{elsewhere}; {summary.elapsed:.1f} s")
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED_RUNS if summary.errors else EXIT_OK


def _cmd_report(args) -> int:
    from cutslack.bench.report import load_runs, summarise, write_report
    from cutslack.bench.store import Store

    from cutslack.cli import check_input_file, check_output_path

    check_input_file(args.db, "database")
    check_output_path(args.out, "--out", folder=True)
    if not (0 <= args.target < float("inf")):
        raise CutslackError(f"--target must be a non-negative relative gap, got {args.target}")
    try:
        path = write_report(args.db, args.out, suite=args.suite, target=args.target)
    except ValueError as exc:
        raise CutslackError(str(exc)) from None
    if args.json:
        with Store(args.db, readonly=True) as store:
            rows = summarise(load_runs(store, args.suite))
        print(json.dumps({"report": str(path), "html": str(path.parent / "report.html"), "summary": rows}))
    else:
        print(f"report written to {path}")
        print(f"open in a browser: {(path.parent / 'report.html').resolve()}")
    return EXIT_OK


def _cmd_compare(args) -> int:
    from cutslack.bench.report import compare
    from cutslack.bench.store import Store
    from cutslack.cli import check_input_file

    check_input_file(args.db, "database")
    with Store(args.db, readonly=True) as store:
        try:
            result = compare(store, args.a, args.b, suite=args.suite)
        except ValueError as exc:
            raise CutslackError(str(exc)) from None
    if args.json:
        print(json.dumps(result))
        return EXIT_OK

    def ratio(v):
        return "-" if v is None else f"{v:.3g}"

    print(f"{args.a} vs {args.b} on {result['pairs']} shared runs: {result['wins']} wins, {result['ties']} ties, "
          f"{result['losses']} losses; median time ratio {ratio(result['median_time_ratio'])}, median objective "
          f"ratio {ratio(result['median_objective_ratio'])}")
    return EXIT_OK


def _cmd_list(args) -> int:
    import tomllib

    from cutslack.bench.store import Store
    from cutslack.bench.suite import shipped_suites

    if args.db:
        from cutslack.cli import check_input_file

        check_input_file(args.db, "database")
        with Store(args.db, readonly=True) as store:
            rows = [dict(r) for r in store.conn.execute(
                "SELECT suite, solver, COUNT(*) AS runs, SUM(status = 'error') AS errors FROM runs "
                "GROUP BY suite, solver ORDER BY suite, solver")]
        if args.json:
            print(json.dumps(rows))
        else:
            for r in rows:
                print(f"{r['suite']:<16} {r['solver']:<24} {r['runs']:>6} runs  {r['errors']} errors")
        return EXIT_OK
    suites = {}
    for name, path in shipped_suites().items():
        head = tomllib.loads(path.read_text()).get("suite", {})
        suites[name] = head.get("description", "")
    if args.json:
        print(json.dumps(suites))
    else:
        for name, text in suites.items():
            print(f"{name:<16} {text}")
    return EXIT_OK


def _guarded(command):
    """Wrap a command so every error becomes one ``cutslack: error:`` line: exit 2 for bad input,
    3 (with the traceback's file) for an internal error, 130 for Ctrl-C."""

    def run(args) -> int:
        from cutslack.cli import run_guarded

        return run_guarded(command, args, interrupted=_RESUME)

    run.__doc__ = command.__doc__
    return run


def main(argv=None) -> int:
    """Entry point of ``python -m cutslack.bench``; return the exit code."""
    from cutslack.cli import main as cutslack_main

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["bench"] and argv[:1] not in (["--version"], ["-h"], ["--help"]):
        argv = ["bench", *argv]
    return cutslack_main(argv)
