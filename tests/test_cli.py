"""The ``cutslack`` command line: solve (file and --generate), info, errors and exit codes."""

import json

import pytest

from cutslack.cli import generate_problem, main


def test_solve_generated_instance_prints_result(capsys):
    assert main(["solve", "--generate", "knapsack n=30 seed=2", "--method", "dp"]) == 0
    out = capsys.readouterr().out
    assert "dp: optimal" in out and "feasible=True" in out
    assert len(out.splitlines()) <= 25  # fits one screen


def test_solve_json_output(capsys):
    assert main(["solve", "--generate", "knapsack n=12 seed=5", "-m", "dp", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "optimal" and payload["feasible"] is True and len(payload["x"]) == 12


def test_solve_library_file_detects_format(benchmarks, capsys):
    import cutslack.problems.library  # noqa: F401  (our own module: a failure to import is a failure)
    assert main(["solve", str(benchmarks / "mdkp" / "mknap1.txt"), "--index", "0", "-m", "dp"]) == 2  # 10 rows: dp refuses
    assert "one-constraint" in capsys.readouterr().err
    assert main(["solve", str(benchmarks / "mdkp" / "mknap1.txt"), "-m", "dp"]) == 2
    assert "--index" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["solve", "--generate", "nothing n=3"], "unknown family"),
    (["solve", "--generate", "knapsack n=5", "-m", "nope"], "unknown method"),
    (["solve", "--generate", "knapsack n=5", "-m", "dp", "-o", "colour=red"], "unknown option"),
    (["solve", "no/such/file.tsp"], "no such file"),
    (["solve"], "either a FILE or --generate"),
    (["solve", "--generate", "qap"], "missing parameter"),
])
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_info_lists_extras_and_methods(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "extra quantum" in out and "methods" in out and "dp" in out
    assert main(["info", "--json"]) == 0
    assert "dp" in json.loads(capsys.readouterr().out)["methods"]


def test_generate_specs():
    p = generate_problem("mdkp n=20 m=3 seed=4")
    assert p.size == {"n": 20, "m": 3}
    assert generate_problem("tsp n=7 seed=1 kind=clustered").size == {"n": 7}
    assert generate_problem("mis n=10 p=0.3 seed=1").size["n"] == 10


def test_library_files_get_their_known_optimum(benchmarks, capsys):
    from cutslack.cli import read_problem

    berlin = read_problem(str(benchmarks / "tsp" / "berlin52.tsp"))
    assert berlin.known_optimum.value == 7542
    weing2 = read_problem(str(benchmarks / "mdkp" / "mknap2_public.txt"), index=3)
    assert weing2.name == "WEING2" and weing2.known_optimum.value == 130883
    clq = benchmarks / "mis" / "dimacs_clique_weighted_trimble" / "hamming6-4.clq"
    assert read_problem(str(clq)).known_optimum.value == 4  # MIS of the complement
    assert read_problem(str(clq), "dimacs").known_optimum is None  # the graph itself: no listed optimum
    assert main(["solve", str(benchmarks / "tsp" / "burma14.tsp"), "-m", "milp"]) == 0
    assert "known optimum: 3323 (proven)" in capsys.readouterr().out


def test_shipped_file_gets_its_known_optimum():
    from cutslack.cli import read_problem
    from cutslack.problems.library import shipped_path

    assert read_problem(str(shipped_path("nug12.dat"))).known_optimum.value == 578
