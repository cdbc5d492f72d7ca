"""The Dask executor on a LocalCluster: the same runs, stored by the same single writer."""

from __future__ import annotations

import pytest

from cutslack.bench import DaskExecutor, Store, load_suite, run_suite

SUITE = """
[suite]
name = "dask"
seeds = [0, 1]
time_limit = 5.0
imports = ["{crashy}"]

[[instances]]
generator = "random_knapsack"
params = {{ n = [7, 10] }}

[[solvers]]
method = "dp"

[[solvers]]
method = "test-crash"
"""


def test_local_cluster_runs_a_small_suite(write_suite, tmp_path):
    pytest.importorskip("dask.distributed")
    suite = load_suite(write_suite(SUITE))
    with Store(tmp_path / "dask.db") as store:
        summary = run_suite(suite, store, executor=DaskExecutor(local_workers=2, processes=False), progress=False)
        runs = store.runs()
    assert summary.stored == 8 and summary.complete
    assert {r["status"] for r in runs if r["solver"] == "dp"} == {"optimal"}
    crashed = sorted((r["instance_id"], r["status"]) for r in runs if r["solver"] == "test-crash")
    assert [status for _, status in crashed] == ["feasible", "feasible", "error", "error"]


def test_scheduler_and_local_workers_are_exclusive():
    pytest.importorskip("dask.distributed")
    with pytest.raises(ValueError, match="exactly one"):
        DaskExecutor("tcp://127.0.0.1:1", local_workers=2)
