"""The main job (``cutslack.demo``): its shipped suite, its tables, the QAOA block."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import cutslack
from cutslack.bench.suite import load_suite
from cutslack.demo import BLOCKS, block_tables, qaoa_block
from cutslack.problems.library import load_instance


def test_demo_suite_covers_every_block_on_library_instances(benchmarks):
    suite = load_suite("demo", benchmark_dir=benchmarks)
    families = {i.family for i in suite.instances}
    assert {f for fams in BLOCKS.values() for f in fams} <= families
    assert {"gap", "setcover"} <= families   # the row shapes beyond knapsack rows: (e) and (f)
    names = {i.instance_id for i in suite.instances}
    for prefix in ("mdkp/mknap1#", "mdkp/mknap2#PB", "mdkp/mknap2#HP", "mdkp/mknap2#WEING", "mdkp/mknap2#WEISH",
                   "mis/1dc", "mis/johnson", "qap/nug12"):
        assert any(n.startswith(prefix) for n in names), prefix
    assert all(i.problem.known_optimum is not None for i in suite.instances)
    slack_bit = next(s for s in suite.solvers if s.label == "slack-bit")
    assert slack_bit.method == "penalty" and slack_bit.options["rule"] == "qiskit"


def _run(instance, solver, method, *, n_vars, n_qubits=None, objective=90.0, info=None, status="feasible"):
    return {"instance_id": instance, "solver": solver, "method": method, "family": "mdkp", "seed": 0, "size": n_vars,
            "known_optimum": 100.0, "n_vars": n_vars, "n_qubits": n_qubits, "feasible": 1, "status": status,
            "objective": objective, "report_gap": (100.0 - objective) / 100.0, "bound": 101.0 if method == "milp" else None,
            "solver_time": 0.5, "info": info or {}}


def test_block_table_shows_both_qubit_counts_and_dashes_for_missing_info():
    runs = [_run("mdkp/a", "milp", "milp", n_vars=10, objective=100.0, status="optimal"),
            _run("mdkp/a", "slack-free", "lagrangian", n_vars=10, n_qubits=10,
                 info={"subproblem": "sampled by anneal", "raw_feasible_fraction": 0.25, "best_raw_objective": 80.0}),
            _run("mdkp/a", "slack-bit", "penalty", n_vars=10, n_qubits=99)]
    main, detail = block_tables(runs, ("mdkp",), "(a) knapsacks")
    row = dict(zip(main.columns, main.rows[0]))
    assert row["qubits slack-bit"] == "99" and row["qubits slack-free"] == "10"
    assert row["gap % milp"] == "0.00*" and row["gap % slack-bit"] == "10.00" and row["milp bound"] == "101"
    assert main.legend
    by_solver = {r[1]: dict(zip(detail.columns, r)) for r in detail.rows}
    assert by_solver["slack-free"]["subproblem"] == "sampled by anneal"
    assert by_solver["slack-free"]["raw feasible fraction"] == "0.250"
    assert by_solver["slack-bit"]["subproblem"] == "-" and by_solver["slack-bit"]["best raw objective"] == "-"


@pytest.mark.slow
def test_qaoa_block_simulates_slack_free_and_says_slack_bit_is_too_large(benchmarks, monkeypatch):
    import cutslack.demo as demo

    monkeypatch.setitem(demo.QAOA_SETTINGS, "instances", ("mknap1#1",))
    monkeypatch.setitem(demo.QAOA_SETTINGS, "num_reads", 256)
    section = qaoa_block(benchmarks)
    free, bit = (dict(zip(section.columns, r)) for r in section.rows)
    assert free["qubits"] == 6
    # independent recount: the optimal vectors by enumeration, their share of the same run's shots
    problem = load_instance("mdkp", "mknap1#1", benchmarks)
    run = cutslack.solve(problem, method="qaoa", formulation="lagrangian", formulation_options={}, rng=0,
                         p=demo.QAOA_SETTINGS["p"], num_reads=256)
    X = np.array(list(itertools.product((0, 1), repeat=problem.n)))
    feasible, values = problem.is_feasible(X), problem.evaluate(X)
    optimal = {tuple(x) for x in X[feasible & (values == values[feasible].max())]}
    assert values[feasible].max() == problem.known_optimum.value
    hits = np.array([tuple(int(v) for v in x[:problem.n]) in optimal for x in run.samples.X])
    p_optimum = run.samples.counts[hits].sum() / run.samples.counts.sum()
    assert free["P(optimum)"] == f"{p_optimum:.4f}", (free["P(optimum)"], p_optimum)
    # the circuit concentrates on the optimum: measured 0.0859 at seed 0, uniform shots give 1/64
    assert p_optimum > 2 * len(optimal) / 2**problem.n
    assert bit["qubits"] > 26 and "too large to simulate" in bit["note"] and "EiB" in bit["note"]


def test_a_family_without_a_fixed_block_gets_its_own_block():
    from cutslack.demo import FAMILY_TITLES, demo_blocks

    blocks = demo_blocks(["mdkp", "gap", "mis", "setcover", "mystery"])
    titles = list(blocks)
    assert blocks[titles[0]] == ("mdkp",) and blocks[titles[1]] == ("mis", "qap")
    assert blocks[f"(e) {FAMILY_TITLES['gap']}"] == ("gap",)
    assert blocks[f"(f) {FAMILY_TITLES['setcover']}"] == ("setcover",)
    assert blocks["(g) mystery library instances"] == ("mystery",)
    assert not any(fams == ("tsp",) for fams in blocks.values())   # no tsp instance, no (d) block


def test_demo_suite_has_instances_where_the_methods_differ_and_names_gap_for_its_solvers(benchmarks):
    suite = load_suite("demo", benchmark_dir=benchmarks)
    assert sum(i.instance_id.startswith("mdkp/mknapcb1#") and i.problem.n == 100 for i in suite.instances) >= 2
    by_label = {s.label: s for s in suite.solvers}
    for label in ("milp", "slack-free", "slack-bit", "unbalanced"):
        assert "gap" in by_label[label].families and "setcover" in by_label[label].families


def test_warm_up_runs_every_solver_on_the_smallest_and_largest_instance_of_each_family(benchmarks):
    import dataclasses

    from cutslack.demo import WARM_TIME_LIMIT, warm_up_tasks

    suite = load_suite("demo", benchmark_dir=benchmarks)
    block = dataclasses.replace(suite, instances=[i for i in suite.instances if i.family == "mdkp"])
    tasks = warm_up_tasks(block)
    sizes = sorted(i.problem.n for i in block.instances)
    assert {t.instance.problem.n for t in tasks} == {sizes[0], sizes[-1]}
    assert {t.solver.label for t in tasks} == {s.label for s in block.solvers}
    assert all(t.time_limit == WARM_TIME_LIMIT and t.suite != suite.name for t in tasks)
    # the warm-up runs are not runs of the suite: their keys never match a stored run's
    assert not {t.key for t in tasks} & {t.key for t in block.tasks()}


def test_qubo_cells_show_raw_quality_beside_the_repaired_gap():
    from cutslack.demo import quality_cell

    repaired_only = _run("mdkp/a", "slack-free", "lagrangian", n_vars=10, n_qubits=10, objective=100.0,
                         info={"raw_feasible_fraction": 0.0})
    assert quality_cell(repaired_only) == "0.00 (raw: none feasible, repaired)"
    raw = dict(_run("mdkp/a", "slack-bit", "penalty", n_vars=10, n_qubits=30, objective=98.0,
                    info={"raw_feasible_fraction": 0.04, "best_raw_objective": 90.0}), sense="max", reference=100.0)
    assert quality_cell(raw) == "2.00 (raw 10.00, 4 % feasible)"
    assert quality_cell(_run("mdkp/a", "milp", "milp", n_vars=10, objective=100.0)) == "0.00"


def test_detail_table_puts_raw_and_repaired_gaps_side_by_side():
    runs = [_run("mdkp/a", "slack-free", "lagrangian", n_vars=10, n_qubits=10, objective=100.0,
                 info={"raw_feasible_fraction": 0.0, "subproblem": "sampled by anneal"}),
            dict(_run("mdkp/a", "slack-bit", "penalty", n_vars=10, n_qubits=30, objective=98.0,
                      info={"raw_feasible_fraction": 0.5, "best_raw_objective": 95.0}), sense="max", reference=100.0)]
    main, detail = block_tables(runs, ("mdkp",), "(a) knapsacks")
    cols = detail.columns
    assert cols.index("repaired gap %") == cols.index("raw gap %") + 1
    by_solver = {r[1]: dict(zip(cols, r)) for r in detail.rows}
    free = by_solver["slack-free"]
    assert free["raw gap %"] == "none feasible" and free["repaired gap %"] == "0.00"
    assert by_solver["slack-bit"]["raw gap %"] == "5.00" and by_solver["slack-bit"]["repaired gap %"] == "2.00"
    row = dict(zip(main.columns, main.rows[0]))
    assert row["gap % slack-free"] == "0.00 (raw: none feasible, repaired)"
    assert "raw: none feasible, repaired" in main.legend


def test_demo_blocks_store_their_runs_and_not_the_warm_up_runs(tmp_path, capsys):
    from cutslack.bench.store import Store
    from cutslack.demo import run_demo_suite

    suite = tmp_path / "tiny.toml"
    suite.write_text("""
[suite]
name = "tiny"
seeds = [0]
time_limit = 10.0

[[instances]]
generator = "random_knapsack"
params = { n = [8, 12] }
seeds = [0]

[[solvers]]
method = "dp"

[[solvers]]
label = "slack-free"
method = "lagrangian"
options = { num_reads = 4, maxiter = 3 }
""")
    db = tmp_path / "demo.db"
    summaries = run_demo_suite(db, workers=1, suite_name=str(suite))
    assert [s.stored for s in summaries] == [4]
    with Store(db, readonly=True) as store:
        assert store.suites() == ["tiny"] and store.count("tiny") == 4
    out = capsys.readouterr().out
    assert "finished (e) knapsack library instances: 4 runs" in out and "4 untimed warm-up runs" in out


def test_block_table_order_does_not_depend_on_the_order_runs_finished_in():
    runs = [_run("mdkp/big", "slack-free", "lagrangian", n_vars=30, n_qubits=30),
            _run("mdkp/small", "milp", "milp", n_vars=10, objective=100.0),
            _run("mdkp/small", "slack-free", "lagrangian", n_vars=10, n_qubits=10),
            _run("mdkp/big", "milp", "milp", n_vars=30, objective=100.0)]
    first = block_tables(runs, ("mdkp",), "(a) knapsacks")[0]
    second = block_tables(runs[::-1], ("mdkp",), "(a) knapsacks")[0]
    assert first.columns == second.columns and first.rows == second.rows
    assert [row[0] for row in first.rows] == ["small", "big"]
    assert first.columns.index("gap % milp") < first.columns.index("gap % slack-free")
