"""Reports: the markdown file and its plots, performance profiles, head-to-head comparison."""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.bench.report import compare, load_runs, performance_profile, summarise, write_report
from cutslack.bench.store import Store

PLOTS = ["gap_vs_qubits.png", "feasible_fraction.png", "time_to_target.png", "scaling.png",
         "performance_profile.png"]


def test_report_writes_markdown_and_every_plot(small_store, tmp_path):
    db, _ = small_store
    path = write_report(db, tmp_path / "out")
    text = path.read_text()
    for name in PLOTS:
        assert (tmp_path / "out" / name).stat().st_size > 1000
        assert f"]({name})" in text
    assert "| knapsack | dp | 8 | 100 % | 100 % | 0 [0, 0]" in text
    assert "deliberate crash on n=9" in text


def test_summary_and_reference(small_store):
    db, _ = small_store
    with Store(db) as store:
        runs = load_runs(store)
    by_solver = {row["solver"]: row for row in summarise(runs, by=("solver",))}
    assert by_solver["dp"]["hit"] == 1.0 and by_solver["test-crash"]["feasible"] == 0.0
    assert by_solver["test-crash"]["errors"] == 2
    for r in runs:
        if r["feasible"]:
            assert r["report_gap"] >= 0.0


def test_performance_profile_is_a_monotone_share(small_store):
    db, _ = small_store
    with Store(db) as store:
        runs = load_runs(store)
    taus, profile = performance_profile(runs)
    assert taus[0] == 1.0
    for rho in profile.values():
        assert np.all(np.diff(rho) >= 0) and 0.0 <= rho[0] <= rho[-1] <= 1.0
    assert profile["test-crash"][-1] == 0.0
    # at tau = 1 the shares sum to at least the share of problems some solver hit (ties count twice)
    problems = {(r["instance_id"], r["seed"]) for r in runs}
    solved = {(r["instance_id"], r["seed"]) for r in runs if r["hit"]}
    assert sum(rho[0] for rho in profile.values()) >= len(solved) / len(problems) - 1e-12


def test_compare_counts_and_rejects_unknown_solvers(small_store):
    db, _ = small_store
    with Store(db) as store:
        result = compare(store, "greedy", "dp")
        assert result["pairs"] == 8 and result["wins"] == 0
        assert result["median_objective_ratio"] <= 1.0
        with pytest.raises(ValueError, match="no runs of solver"):
            compare(store, "greedy", "nobody")


def test_empty_store_has_no_report(tmp_path):
    Store(tmp_path / "empty.db").close()
    with pytest.raises(ValueError, match="no runs"):
        write_report(tmp_path / "empty.db", tmp_path / "out")


def test_html_report_is_self_contained_and_names_what_is_there(small_store, tmp_path):
    db, _ = small_store
    path = write_report(db, tmp_path / "out")
    html = (path.parent / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5 and "<table>" in html and 'src="gap' not in html
    with pytest.raises(ValueError, match="suites there: small"):
        write_report(db, tmp_path / "other", suite="nope")


def test_time_to_target_reads_the_incumbent_history_and_falls_back_to_the_run_end(small_store):
    from cutslack.bench.report import is_failure, time_to_target

    db, _ = small_store
    with Store(db) as store:
        runs = load_runs(store)
        dp = next(r for r in runs if r["solver"] == "dp")
        stored = store.incumbents(dp["id"])
    assert stored and stored[-1][1] == dp["objective"] and dp["ttt_source"] == "history"
    run = {"hit": True, "reference": 100.0, "sense": "max", "solver_time": 5.0,
           "incumbents": [(0.1, 90.0), (0.4, 99.5), (2.0, 100.0)]}
    assert time_to_target(run, 0.01) == (0.4, "history")
    assert time_to_target(dict(run, incumbents=None), 0.01) == (5.0, "run end")
    assert not is_failure({"status": "time_limit", "feasible": 1})
    assert is_failure({"status": "time_limit", "feasible": 0}) and is_failure({"status": "error", "feasible": 0})
