"""The main job (``cutslack.demo``): its shipped suite, its tables, the QAOA block."""

from __future__ import annotations

import pytest

from cutslack.bench.suite import load_suite
from cutslack.demo import BLOCKS, block_tables, qaoa_block


def test_demo_suite_covers_every_block_on_library_instances(benchmarks):
    suite = load_suite("demo", benchmark_dir=benchmarks)
    families = {i.family for i in suite.instances}
    assert families == {f for fams in BLOCKS.values() for f in fams}
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
    assert free["qubits"] == 6 and 0.0 <= float(free["P(optimum)"]) <= 1.0
    assert bit["qubits"] > 26 and "too large to simulate" in bit["note"] and "EiB" in bit["note"]
