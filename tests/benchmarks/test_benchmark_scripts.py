"""The benchmark scripts label every row by the path that produced it and never count a
closed-form or a not-simulated run as a sampled slack-free win."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    """Import ``benchmarks/<name>.py`` as a module (its folder first on sys.path, as when run)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # dataclasses look their module up there
    saved = dict(os.environ)   # the scripts pin thread variables at import: keep them out of this process
    try:
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return module


def test_slack_vs_slackfree_labels_closed_form_row(benchmarks, tmp_path):
    svs = _load("slack_vs_slackfree")
    out = tmp_path / "svs.md"
    knap, same = svs.main(["--instances", "mknap1#1", "mknap1#2", "--rounds", "1", "--reads", "4", "--sweeps", "20",
                           "--no-same-qubits", "--no-plot", "--out", str(out)])
    assert same == []
    assert {r["method"] for r in knap} == {"lagrangian", "penalty", "unbalanced", "lagrangian-heuristic"}
    for r in knap:
        if r["method"] == "lagrangian-heuristic":
            assert r["subproblem"] == "closed form" and not r["sampled"]
        else:
            assert r["subproblem"] == "sampled by anneal" and r["sampled"]
    by = {(r["instance"], r["method"]): r for r in knap}
    for inst in ("mknap1#1", "mknap1#2"):
        assert by[(inst, "lagrangian")]["qubits"] == by[(inst, "lagrangian")]["n"]
        assert by[(inst, "penalty")]["qubits"] > by[(inst, "penalty")]["n"]
        assert by[(inst, "penalty")]["qubits_qiskit"] >= by[(inst, "penalty")]["qubits"]
    text = out.read_text()
    assert "- command: `" in text and "- threads: OMP_NUM_THREADS=" in text and "(git " in text
    heuristic_lines = [line for line in text.splitlines() if line.startswith("| mdkp |") and "lagrangian-heuristic" in line]
    assert len(heuristic_lines) == 2
    assert all("| closed form |" in line and "sampled by" not in line for line in heuristic_lines)
    assert "slack-free gap <= slack-bit gap on" in text


def test_slack_vs_slackfree_comparison_counts_ties_and_infeasible():
    svs = _load("slack_vs_slackfree")

    def row(inst, method, gap):
        return {"instance": inst, "seed": 0, "method": method, "gap": gap, "qubits": 1, "time": 0.0,
                "subproblem": "sampled by anneal"}

    rows = [row("a", "penalty", 0.01), row("a", "lagrangian", 0.01),    # tie: no worse
            row("b", "penalty", 0.0), row("b", "lagrangian", 0.02),     # worse
            row("c", "penalty", None), row("c", "lagrangian", 0.5)]     # penalty infeasible (100 %)
    assert svs.no_worse_count(rows, "lagrangian") == (2, 3)
    stats = svs.method_stats(rows, "penalty")
    assert stats["infeasible"] == 1 and stats["worst"] == pytest.approx(1.0) and stats["at_optimum"] == 1


def test_quantum_formulations_too_large_is_nobodys_win():
    qf = _load("quantum_formulations")
    base = {"family": "knapsack", "method": "qaoa", "sense": "max"}
    rows = [{**base, "instance": "big", "formulation": "penalty", "qubits": 99, "outcome": qf.TOO_LARGE},
            {**base, "instance": "big", "formulation": "lagrangian", "qubits": 10, "outcome": "ran", "best": 5.0,
             "p_near": 0.1},
            {**base, "instance": "big", "formulation": "unbalanced", "qubits": 10, "outcome": "ran", "best": 5.0,
             "p_near": 0.0},
            {**base, "instance": "small", "formulation": "penalty", "qubits": 15, "outcome": "ran", "best": 6.0,
             "p_near": 0.2},
            {**base, "instance": "small", "formulation": "lagrangian", "qubits": 8, "outcome": "ran", "best": 5.0,
             "p_near": 0.3},
            {**base, "instance": "small", "formulation": "unbalanced", "qubits": 8, "outcome": "ran", "best": 6.0,
             "p_near": 0.0}]
    lines = qf.summarise(rows)
    lagr = next(line for line in lines if line.startswith("- lagrangian vs"))
    assert "(1 runs)" in lagr and "as good on 0/1" in lagr and "at least as high on 1/1" in lagr
    assert "too large to simulate on 1 runs" in lagr
    unb = next(line for line in lines if line.startswith("- unbalanced vs"))
    assert "as good on 1/1" in unb and "at least as high on 0/1" in unb
    assert qf.statevector_bytes(30) > qf.statevector_bytes(20) > 0
    assert qf.format_bytes(1 << 30) == "1 GiB"


def test_milp_library_ratio_marks_time_limited_side():
    ml = _load("milp_library")
    from types import SimpleNamespace

    from cutslack.result import Status

    edge = SimpleNamespace(status=Status.TIME_LIMIT, wall_time=10.0)
    clique = SimpleNamespace(status=Status.OPTIMAL, wall_time=2.0)
    assert ml.edge_vs_clique(edge, clique) == ">5.00"
    assert ml.edge_vs_clique(clique, edge) == "<0.20"
    assert ml.edge_vs_clique(clique, clique) == "1.00"


def test_sampler_speed_energy_test_is_paired_by_instance():
    import numpy as np

    paired_difference = _load("sampler_speed").paired_difference
    # two instances whose energies differ by 1000: pairing removes that, reads give the error
    ours = [np.array([-10.0, -12.0, -11.0, -11.0]), np.array([-1010.0, -1012.0, -1011.0, -1011.0])]
    theirs = [np.array([-11.0, -11.0, -11.0, -11.0]), np.array([-1011.0, -1013.0, -1009.0, -1011.0])]
    diff, se = paired_difference(ours, theirs)
    assert diff == pytest.approx(0.0)
    assert se == pytest.approx(np.sqrt((2 / 3) / 4 + 0 + (2 / 3) / 4 + (8 / 3) / 4) / 2)
    shifted = [a - 5.0 for a in ours]
    diff, se = paired_difference(shifted, theirs)
    assert diff == pytest.approx(-5.0) and abs(diff) > 2 * se


def test_sampler_speed_times_solve_and_kernel_against_dwave_interleaved(capsys):
    pytest.importorskip("dwave.samplers")
    lines = _load("sampler_speed").main(["--dense", "40", "--sparse", "60", "--reads", "4", "--sweeps", "10",
                                         "--no-write"])
    text = "\n".join(lines)
    assert "## dense N(0,1) QUBO, n = 40" in text and "## sparse 3-regular MIS QUBO, n = 60" in text
    for label in ("dwave sample / cutslack solve:", "dwave sample / cutslack kernel:",
                  "solve overhead: cutslack solve / cutslack kernel:", "solve f64 fields / cutslack solve:"):
        assert label in text
    assert text.count("median of 5 interleaved rounds") == 7  # three ratios per instance, one f64 row (dense)
    # the kernel side runs the inputs the sampler prepares: the same seeds give the same samples
    energy = [line for line in lines if line.strip().startswith("energy cutslack")]
    assert len(energy) == 4 and all("paired over 5 seeds x 4 reads" in line for line in energy)
    means = [line.split(" vs ")[0].split()[-1] for line in energy]
    assert means[0] == means[1] and means[2] == means[3]


def test_sparse_compares_in_one_process_with_labelled_sides():
    pytest.importorskip("dwave.samplers")
    lines = _load("sparse").main(["--sizes", "300", "--reads", "4", "--sweeps", "10", "--no-write"])
    rows = [line for line in lines[2:] if line.startswith("| ")]
    assert len(rows) == 6  # two families x three sides
    assert [row.split(" | ")[4] for row in rows[:3]] == ["dwave sample", "cutslack solve", "cutslack kernel"]
    assert rows[0].split(" | ")[8] == "1 (peer)"
    for row in rows[1:3]:
        cells = row.split(" | ")
        assert cells[8].count("[") == 2 and cells[10].endswith(")")  # ratio spreads; energy check with verdict
    # solve and kernel: the same seeds, the same mean energy
    assert rows[1].split(" | ")[9] == rows[2].split(" | ")[9]


def test_sparse_lagrangian_demo_runs_the_issue_example_under_its_time_limit(capsys):
    sparse = _load("sparse")
    # 5 s: a first feasible set takes well under a second of CPU; the margin is for a shared machine
    sparse.main(["--sizes", "2000", "--lagrangian", "5"])
    out = capsys.readouterr().out
    assert "random_regular_mis(2000, 3)" in out and "feasible True" in out
    assert "report 1:" in out


def test_slack_vs_slackfree_runs_gap_setcover_and_a_models_folder(benchmarks, tmp_path):
    svs = _load("slack_vs_slackfree")
    from cutslack.binary import BinaryProgram
    from cutslack.models import write_model

    folder = tmp_path / "models"
    folder.mkdir()
    # max 5a + 4b + 3c + 2d  s.t.  a + b + c + d = 2,  2a + 3b + c <= 4,  b + c + d >= 1
    program = BinaryProgram(c=[5, 4, 3, 2], sense="max", A_le=[[2, 3, 1, 0], [0, -1, -1, -1]], b_le=[4, -1],
                            A_eq=[[1, 1, 1, 1]], b_eq=[2])
    write_model(program, folder / "tiny.lp")
    args = svs.parse_args(["--families", "gap", "--gap-instances", "gap1#1", "--rounds", "1", "--reads", "4",
                           "--sweeps", "20", "--models", str(folder), "--no-plot", "--milp-time", "10"])
    blocks, same = svs.run_blocks(args, log=lambda s: None)
    assert same == [] and set(blocks) == {"gap", "models"}
    gap_rows = {r["method"]: r for r in blocks["gap"]}
    assert gap_rows["lagrangian"]["qubits"] == gap_rows["lagrangian"]["n"] == 75
    assert gap_rows["penalty"]["qubits"] > 75 and gap_rows["penalty"]["qubits_qiskit"] >= gap_rows["penalty"]["qubits"]
    assert gap_rows["lagrangian"]["optimum"] == 336 and gap_rows["lagrangian"]["reference"] == "known optimum"
    model_rows = {r["method"]: r for r in blocks["models"]}
    # the reference of a model file is HiGHS: 5 + 3 (a, c) is the optimum
    assert model_rows["lagrangian"]["optimum"] == 8 and model_rows["lagrangian"]["reference"] == "HiGHS, proven"
    assert model_rows["lagrangian"]["instance"] == "tiny.lp" and model_rows["lagrangian"]["qubits"] == 4
    text = svs.markdown(blocks, same, args, [], 1.0)
    assert "## Generalized assignment" in text and "## Models read from files" in text
    assert "(target <= 1 %)" in text and "HiGHS, proven" in text


def test_slack_vs_slackfree_lists_every_loss_with_its_difference():
    svs = _load("slack_vs_slackfree")

    def row(inst, method, gap):
        return {"instance": inst, "seed": 0, "method": method, "gap": gap}

    rows = [row("a", "penalty", 0.0), row("a", "lagrangian", 0.02), row("b", "penalty", 0.05),
            row("b", "lagrangian", 0.01), row("c", "penalty", None), row("c", "lagrangian", None)]
    lines = svs.loss_lines(rows)
    assert lines[0] == "Where slack-free ends worse than slack bits (1 runs):"
    assert lines[-1] == "| a | 0 | 2.00 | 0.00 | 2.00 |"
    assert svs.loss_lines(rows[2:]) == ["Slack-free ends worse than slack bits on no run."]
