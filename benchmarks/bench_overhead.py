"""Harness overhead per run: 200 short runs (a 1 ms test solver) on 2 local workers.

Prints the median per-run overhead (submitted to stored, minus the solver's own time), the
amortised overhead (suite wall time x workers / runs - mean solver time, which includes
pool start-up), the time to write the report, and the same median for a ``dp`` peer suite
run in this script, as a ratio.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_overhead.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from cutslack.bench import LocalExecutor, Store, load_suite, run_suite
from cutslack.bench.report import write_report

SOLVERS = Path(__file__).resolve().parents[1] / "tests" / "bench" / "crashy_solvers.py"

SUITE = """
[suite]
name = "overhead-{method}"
seeds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
time_limit = 5.0
imports = ["{solvers}"]

[[instances]]
generator = "random_knapsack"
params = {{ n = [10, 12, 14, 16, 18] }}
seeds = [0, 1, 2, 3]

[[solvers]]
method = "{method}"
{options}
"""


def measure(method: str, options: str, folder: Path) -> dict:
    """Return the overhead figures of one 200-run suite of ``method``."""
    path = folder / f"{method}.toml"
    path.write_text(SUITE.format(method=method, options=options, solvers=SOLVERS.as_posix()))
    suite = load_suite(path)
    db = folder / f"{method}.db"
    start = time.perf_counter()
    with Store(db) as store:
        summary = run_suite(suite, store, executor=LocalExecutor(2), progress=False)
        solver_times = [r["solver_time"] for r in store.runs()]
    wall = time.perf_counter() - start
    t0 = time.perf_counter()
    write_report(db, folder / f"report-{method}")
    report = time.perf_counter() - t0
    assert summary.stored == 200 and summary.errors == 0, summary.as_dict()
    return {"runs": summary.stored, "median_ms": 1000 * statistics.median(summary.overheads),
            "amortised_ms": 1000 * (wall * 2 / summary.stored - statistics.mean(solver_times)),
            "report_s": report, "wall_s": wall}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        slow = measure("test-slow", "options = { delay = 0.001 }", folder)
        dp = measure("dp", "", folder)
    for name, m in (("test-slow (1 ms)", slow), ("dp", dp)):
        print(f"{name:>16}: {m['runs']} runs in {m['wall_s']:.2f} s on 2 workers; harness overhead per run: "
              f"median {m['median_ms']:.2f} ms, amortised {m['amortised_ms']:.2f} ms; report {m['report_s']:.2f} s")
    print(f"median overhead ratio test-slow / dp: {slow['median_ms'] / dp['median_ms']:.2f}")
    ok = slow["median_ms"] < 50
    print(f"target: median overhead < 50 ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
