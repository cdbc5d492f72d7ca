"""Running suites on the local process pool: storing, resuming, crashes and hangs, determinism."""

from __future__ import annotations

import pytest

from cutslack.bench import LocalExecutor, Store, load_suite, run_suite


def test_small_suite_stores_every_run_once(small_store):
    db, summary = small_store
    assert summary.planned == 20 and summary.stored == 20 and summary.complete
    assert summary.errors == 2
    with Store(db) as store:
        runs = store.runs("small")
        assert len(runs) == len({r["run_key"] for r in runs}) == 20
        crashed = [r for r in runs if r["solver"] == "test-crash"]
        assert {r["status"] for r in crashed} == {"error"}
        assert all("deliberate crash on n=9" in r["message"] for r in crashed)
        dp = [r for r in runs if r["solver"] == "dp"]
        assert {r["status"] for r in dp} == {"optimal"} and all(r["feasible"] == 1 for r in dp)
        greedy = [r for r in runs if r["solver"] == "greedy"]
        assert all(store.history(r["id"])[0]["best"] == r["objective"] for r in greedy)
        assert all(r["versions"] and r["host"] and r["instance_hash"] for r in runs)


def test_dp_beats_or_ties_greedy_on_every_instance(small_store):
    db, _ = small_store
    with Store(db) as store:
        best = {(r["instance_id"], r["seed"]): r["objective"] for r in store.runs(where="solver = 'dp'")}
        for r in store.runs(where="solver = 'greedy' AND family = 'knapsack'"):
            assert r["objective"] <= best[(r["instance_id"], r["seed"])]


def test_resume_skips_and_rerun_replaces(small_store):
    db, _ = small_store
    suite_file = db.parent / "small.toml"
    with Store(db) as store:
        again = run_suite(load_suite(suite_file), store, executor=LocalExecutor(1), progress=False)
        assert again.skipped == 20 and again.stored == 0
        ids_before = {r["run_key"]: r["id"] for r in store.runs()}
        only_crash = load_suite(suite_file)
        only_crash.solvers = [s for s in only_crash.solvers if s.label == "test-crash"]
        redo = run_suite(only_crash, store, executor=LocalExecutor(1), rerun=True, progress=False)
        assert redo.stored == 2 and redo.errors == 2
        after = {r["run_key"]: r["id"] for r in store.runs()}
    assert set(after) == set(ids_before)
    assert sum(after[k] != ids_before[k] for k in after) == 2


HANG = """
[suite]
name = "hang"
seeds = [0]
time_limit = 0.2
hard_timeout = 1.5
imports = ["{crashy}"]

[[instances]]
generator = "random_knapsack"
params = {{ n = [6, 8, 10] }}

[[solvers]]
method = "test-hang"
options = {{ seconds = 60.0 }}
families = ["knapsack"]

[[solvers]]
method = "dp"
"""


def test_hung_run_is_killed_recorded_and_the_suite_goes_on(write_suite, tmp_path):
    suite = load_suite(write_suite(HANG))
    with Store(tmp_path / "hang.db") as store:
        summary = run_suite(suite, store, executor=LocalExecutor(2), progress=False)
        runs = store.runs()
    assert summary.stored == 6 and summary.complete
    hung = [r for r in runs if r["solver"] == "test-hang"]
    assert {r["status"] for r in hung} == {"time_limit"}
    assert all("hard timeout of 1.5 s" in r["message"] and "killed" in r["message"] for r in hung)
    assert {r["status"] for r in runs if r["solver"] == "dp"} == {"optimal"}


def test_same_seed_gives_the_same_stored_results(write_suite, tmp_path):
    text = HANG.replace("test-hang", "test-slow").replace("seconds = 60.0", "delay = 0.0")
    results = []
    for name in ("a.db", "b.db"):
        with Store(tmp_path / name) as store:
            run_suite(load_suite(write_suite(text)), store, executor=LocalExecutor(2), progress=False)
            results.append(sorted((r["run_key"], r["objective"], r["status"]) for r in store.runs()))
    assert results[0] == results[1]


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        LocalExecutor(0)
