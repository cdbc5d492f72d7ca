"""Benchmark harness: suites (TOML) of solver × instance × seed runs, executed on a local
process pool or a Dask cluster, stored in SQLite, and turned into markdown reports and plots.

>>> from cutslack.bench import load_suite
>>> load_suite("quick").name
'quick'

Command line: ``cutslack bench run|report|compare|list`` (also ``python -m cutslack.bench``).
"""

from cutslack.bench.executors import DaskExecutor, Executor, LocalExecutor
from cutslack.bench.runner import RunSummary, run_suite
from cutslack.bench.store import Store, StoreError
from cutslack.bench.suite import Suite, SuiteError, load_suite, shipped_suites

__all__ = ["load_suite", "shipped_suites", "Suite", "SuiteError", "Store", "StoreError", "run_suite",
           "RunSummary", "Executor", "LocalExecutor", "DaskExecutor"]
