"""Reports: the markdown file and its plots, performance profiles, head-to-head comparison."""

from __future__ import annotations

import numpy as np
import pytest

from cutslack.bench.report import compare, load_runs, performance_profile, summarise, write_report
from cutslack.bench.store import Store

PLOTS = ["feasible_fraction.png", "time_to_target.png", "scaling.png", "performance_profile.png"]


def test_report_writes_markdown_and_every_plot(small_store, tmp_path):
    db, _ = small_store
    path = write_report(db, tmp_path / "out")
    text = path.read_text()
    for name in PLOTS:
        assert (tmp_path / "out" / name).stat().st_size > 1000
        assert f"]({name})" in text
    assert "| knapsack | dp | 8 | 100 % | 100 % | 0 [0, 0] | - | - |" in text
    assert "deliberate crash on n=9" in text


def test_a_plot_whose_only_series_is_flat_is_not_drawn_and_the_caption_says_why(small_store, tmp_path):
    # dp is the only solver of the small suite that reports its variables, and every dp gap (knapsack) is 0
    db, _ = small_store
    text = write_report(db, tmp_path / "out").read_text()
    assert not (tmp_path / "out" / "gap_vs_qubits.png").exists()
    section = text.split("## Gap vs qubits", 1)[1].split("## ", 1)[0]
    assert "Plot not drawn. Not drawn (no information): the knapsack panel (every gap 0 %)." in section


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
    assert html.count("data:image/png;base64,") >= len(PLOTS) and "<table>" in html and 'src="gap' not in html
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


def test_flat_series_and_palette():
    from cutslack.bench.report import MARKER_CYCLE, flat_series, palette

    assert flat_series([0.0, 0.0, None, float("nan")]) and flat_series([]) and flat_series([1.0, 1.0])
    assert not flat_series([0.0, 0.002])
    for n in (6, 13, 20):
        assert len(set(palette(n))) == n
    assert len(set(MARKER_CYCLE)) == len(MARKER_CYCLE) >= 10


def test_raw_quality_reads_the_raw_samples_beside_the_repaired_answer():
    from cutslack.bench.report import raw_quality

    run = {"sense": "max", "reference": 200.0, "info": {"raw_feasible_fraction": 0.25, "best_raw_objective": 190.0}}
    assert raw_quality(run) == (0.25, pytest.approx(0.05))
    assert raw_quality({"sense": "max", "reference": 200.0, "info": {"raw_feasible_fraction": 0.0}}) == (0.0, None)
    assert raw_quality({"sense": "max", "reference": 200.0, "info": {}}) == (None, None)


LAGRANGIAN_SUITE = """
[suite]
name = "lagr"
seeds = [0]
time_limit = 20.0

[[instances]]
generator = "random_mdkp"
params = { n = [10, 14], m = 2 }
seeds = [1]

[[solvers]]
label = "sampled"
method = "lagrangian"
options = { sampler = "anneal", num_reads = 8, maxiter = 6, patience = 50 }

[[solvers]]
label = "closed-form"
method = "lagrangian-heuristic"
options = { maxiter = 6, patience = 50 }
"""


@pytest.fixture(scope="module")
def lagrangian_store(tmp_path_factory):
    """Return the database of a sampled and a closed-form Lagrangian run on two small MDKPs."""
    from cutslack.bench import LocalExecutor, load_suite, run_suite

    folder = tmp_path_factory.mktemp("lagr")
    (folder / "lagr.toml").write_text(LAGRANGIAN_SUITE)
    db = folder / "runs.db"
    with Store(db) as store:
        run_suite(load_suite(folder / "lagr.toml"), store, executor=LocalExecutor(1), progress=False)
    return db


def test_sampled_lagrangian_value_is_labelled_not_a_bound_and_valid_bounds_are_drawn(lagrangian_store):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cutslack.bench.report import SAMPLED_LAGRANGIAN_LABEL, _plot_lagrangian

    with Store(lagrangian_store) as store:
        runs = load_runs(store)
        fig = _plot_lagrangian(plt, store, runs)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert SAMPLED_LAGRANGIAN_LABEL + " (right axis)" in labels and "not a bound" in SAMPLED_LAGRANGIAN_LABEL
    sampled = [ax for ax in fig.axes if "(sampled: no bound)" in ax.get_title()]
    exact = [ax for ax in fig.axes if "(bound valid)" in ax.get_title()]
    assert sampled and exact
    # the sampled values sit on their own axis, labelled not a bound; the objective axis has no bound points
    side = [ax for ax in fig.axes if ax.get_ylabel() == SAMPLED_LAGRANGIAN_LABEL]
    assert len(side) == len(sampled) and all(np.isfinite(ax.lines[0].get_ydata()).any() for ax in side)
    for ax in sampled:   # line 0: best feasible, line 1: the dual bound (green)
        assert np.isfinite(ax.lines[0].get_ydata()).any() and np.all(np.isnan(ax.lines[1].get_ydata()))
    for ax in exact:
        assert np.isfinite(ax.lines[1].get_ydata()).any()
    plt.close(fig)


def test_report_puts_raw_beside_repaired_and_drops_the_all_feasible_series(lagrangian_store, tmp_path):
    path = write_report(lagrangian_store, tmp_path / "out")
    text = path.read_text()
    header = next(line for line in text.splitlines() if line.startswith("| family | solver |"))
    cols = [c.strip() for c in header.strip("|").split("|")]
    assert cols.index("raw_gap_pct") == cols.index("gap_pct") + 1 and "raw_feasible_pct" in cols
    sampled_row = next(line for line in text.splitlines() if line.startswith("| mdkp | sampled |"))
    raw_feasible = [c.strip() for c in sampled_row.strip("|").split("|")][cols.index("raw_feasible_pct")]
    assert raw_feasible != "-"
    # every run of this suite returns a feasible answer: that series is flat and named in the caption
    section = text.split("## Feasibility by method", 1)[1].split("## ", 1)[0]
    assert "Not drawn (no information): returned feasible (share of runs with a feasible answer, 1 for every " \
           "configuration)." in section
    assert "sampled Lagrangian value — not a bound" in text.split("## Lagrangian convergence", 1)[1]
