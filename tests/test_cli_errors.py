"""Bad command lines: every one gives exit code 2 and one ``cutslack: error:`` line naming the
thing and what to do -- never a traceback; an internal error gives exit 3 and names the file
holding the traceback.  The table runs in-process through ``main(argv)``; a few lines run
through a real ``python -m cutslack`` process to check the entry points themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cutslack
from cutslack.cli import ERROR_PREFIX, EXIT_BAD_INPUT, EXIT_INTERNAL, main
from cutslack.problems.library import shipped_path

REPO = Path(__file__).resolve().parents[1]

#: (command line with {placeholders}, text the error line must contain)
BAD_COMMAND_LINES = [
    # paths
    (["solve", "{dir}"], "is a directory"),
    (["solve", "{missing}"], "no such file"),
    (["solve", "{missing_dir}/x.tsp"], "does not exist either"),
    (["solve", "{hello}"], "cannot tell the format of"),
    (["solve", "{hello_noext}"], "use --format one of tsplib"),
    (["solve", "{empty}"], "cannot tell the format of"),
    (["solve", "{junk}"], "cannot tell the format of"),
    (["solve", "{junk_tsp}"], "junk.tsp:"),
    (["solve", "{burma}", "--format", "bogus"], "invalid choice: 'bogus'"),
    (["solve", "{burma}", "--format", "qaplib"], "burma14.tsp:1: expected an integer"),
    (["solve", "{hello}", "--format", "mknap1"], "hello.txt:1: expected an integer"),
    (["solve", "{burma}", "extra"], "unrecognized arguments: extra"),
    # --generate
    (["solve", "--generate", "mdkp n=5 m=2 foo=3"], "unknown key(s) foo; valid keys: n, m, tightness, seed"),
    (["solve", "--generate", ""], "empty spec"),
    (["solve", "--generate", "nothing n=3"], "unknown family 'nothing'"),
    (["solve", "--generate", "qap"], "missing parameter(s) n; valid keys"),
    (["solve", "--generate", "knapsack n=abc"], "--generate knapsack"),
    (["solve", "--generate", "knapsack n=-3"], "--generate knapsack"),
    (["solve", "--generate", "knapsack n=2.5"], "--generate knapsack"),
    (["solve", "--generate", "knapsack n"], "expected key=value, got 'n'"),
    (["solve", "--generate", "knapsack =5"], "expected key=value"),
    (["solve", "--generate", "knapsack n=5 seed=-1"], "seed must be a non-negative integer"),
    (["solve", "--generate", "mis n=10 p=1.5"], "--generate mis"),
    (["solve", "{burma}", "--generate", "knapsack n=5"], "not both"),
    (["solve"], "either a FILE or --generate"),
    # method, options, limits
    (["solve", "--generate", "knapsack n=5", "-m", "nope"], "unknown method 'nope'"),
    (["solve", "--generate", "knapsack n=5", "-m", "dp", "-o", "colour=red"], "unknown option 'colour'"),
    (["solve", "--generate", "knapsack n=5", "-m", "dp", "-o", "novalue"], "--option: expected key=value"),
    (["solve", "--generate", "tsp n=5", "-m", "dp"], "cannot take a TravelingSalesman"),
    (["solve", "--generate", "knapsack n=5", "--time-limit", "-1"], "--time-limit must be a positive"),
    (["solve", "--generate", "knapsack n=5", "--time-limit", "0"], "--time-limit must be a positive"),
    (["solve", "--generate", "knapsack n=5", "--time-limit", "nan"], "--time-limit must be a positive"),
    (["solve", "--generate", "knapsack n=5", "--time-limit", "abc"], "invalid float value: 'abc'"),
    (["solve", "--generate", "knapsack n=5", "--seed", "abc"], "invalid int value: 'abc'"),
    (["solve", "--generate", "knapsack n=5", "--seed", "-4"], "--seed must be a non-negative"),
    (["solve", "--generate", "knapsack n=5", "--index", "1"], "does not go with --generate"),
    (["solve", "{mknap1}"], "pick one with --index"),
    (["solve", "{mknap1}", "--index", "99"], "--index 99 out of range"),
    (["solve", "{mknap1}", "--index", "-1"], "--index -1 out of range"),
    (["solve", "{mknap1}", "--index", "0", "-m", "dp"], "one-constraint"),
    (["solve", "{burma}", "--index", "3"], "holds one problem"),
    (["solve", "--bogus"], "unrecognized arguments: --bogus"),
    # top level
    ([], "give a command"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["info", "--bogus"], "unrecognized arguments"),
    # bench run
    (["bench"], "the following arguments are required"),
    (["bench", "frobnicate"], "invalid choice"),
    (["bench", "run", "no-such-suite"], "no shipped suite named"),
    (["bench", "run", "{missing_dir}/suite.toml"], "no such suite file"),
    (["bench", "run", "{bad_toml}"], "malformed TOML"),
    (["bench", "run", "quick", "--workers", "0"], "--workers must be at least 1"),
    (["bench", "run", "quick", "--dask-local", "0"], "--dask-local must be at least 1"),
    (["bench", "run", "quick", "--db", "{missing_dir}/x.db"], "the folder of --db"),
    (["bench", "run", "quick", "--db", "{missing_dir}/x.db", "--dry-run"], "does not exist: "),
    (["bench", "run", "quick", "--db", "{dir}"], "is a directory"),
    (["bench", "run", "quick", "--db", "{hello}"], "not a readable SQLite database"),
    (["bench", "run", "quick", "--seeds", "abc"], "invalid int value"),
    (["bench", "run", "quick", "--time-limit", "-1"], "--time-limit must be a positive"),
    (["bench", "run", "quick", "--benchmarks", "{missing_dir}"], "no such folder"),
    (["bench", "run", "quick", "--workers", "3", "--scheduler", "tcp://x:1"], "not allowed with"),
    # bench report / compare / list
    (["bench", "report", "--db", "{missing}", "--out", "{tmp}/rep"], "no such database"),
    (["bench", "report", "--db", "{dir}", "--out", "{tmp}/rep"], "is a directory"),
    (["bench", "report", "--db", "{hello}", "--out", "{hello_noext}"], "exists and is not a folder"),
    (["bench", "report", "--db", "{hello}", "--out", "{tmp}/rep"], "not a readable SQLite database"),
    (["bench", "report", "--db", "{hello}"], "required: --out"),
    (["bench", "compare", "a", "b", "--db", "{missing}"], "no such database"),
    (["bench", "compare", "a", "b", "--db", "{hello}"], "not a readable SQLite database"),
    (["bench", "list", "--db", "{missing}"], "no such database"),
]


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict[str, str]:
    """Files and folders the bad command lines point at."""
    tmp = tmp_path_factory.mktemp("badcli")
    (tmp / "adir").mkdir()
    (tmp / "hello.txt").write_text("hello\n")
    (tmp / "hello").write_text("hello\n")
    (tmp / "empty.txt").write_text("")
    junk = bytes(range(256)) * 8
    (tmp / "junk.bin").write_bytes(junk)
    (tmp / "junk.tsp").write_bytes(junk)
    (tmp / "bad.toml").write_text("[suite\nname = 'x'\n")
    shutil.copy(shipped_path("burma14.tsp"), tmp / "burma14.tsp")
    shutil.copy(shipped_path("mknap1.txt"), tmp / "mknap1.txt")
    return {"tmp": str(tmp), "dir": str(tmp / "adir"), "missing": str(tmp / "missing.tsp"),
            "missing_dir": str(tmp / "no_such_dir"), "hello": str(tmp / "hello.txt"),
            "hello_noext": str(tmp / "hello"), "empty": str(tmp / "empty.txt"), "junk": str(tmp / "junk.bin"),
            "junk_tsp": str(tmp / "junk.tsp"), "bad_toml": str(tmp / "bad.toml"),
            "burma": str(tmp / "burma14.tsp"), "mknap1": str(tmp / "mknap1.txt")}


def test_the_table_is_large():
    assert len(BAD_COMMAND_LINES) >= 40


@pytest.mark.parametrize("argv, message", BAD_COMMAND_LINES, ids=[" ".join(a)[:60] for a, _ in BAD_COMMAND_LINES])
def test_bad_command_line_exits_2_with_one_error_line(paths, argv, message, capsys, monkeypatch):
    monkeypatch.chdir(paths["tmp"])
    code = main([arg.format(**paths) for arg in argv])
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]
    assert code == EXIT_BAD_INPUT, err
    assert len(errors) == 1 and err.rstrip().splitlines()[-1] == errors[0], err
    assert message in errors[0]
    assert "Traceback" not in out + err
    assert not list(Path(paths["tmp"]).glob("*.db")), "a bad command line must not create a database"


def test_format_detection_by_content_and_refusal(paths, tmp_path):
    from cutslack.cli import detect_format

    renamed = tmp_path / "burma.txt"
    shutil.copy(paths["burma"], renamed)
    assert detect_format(renamed) == "tsplib"
    assert detect_format(Path(paths["mknap1"])) == "mknap1"
    qap = tmp_path / "qap.txt"
    qap.write_text("2\n0 1\n1 0\n0 5\n5 0\n")
    assert detect_format(qap) == "qaplib"
    graph = tmp_path / "graph.txt"
    graph.write_text("c a path\np edge 3 2\ne 1 2\ne 2 3\n")
    assert detect_format(graph) == "dimacs"
    # numbers that fit no format's count are refused, not guessed
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("1 2 3 4 5\n")
    with pytest.raises(cutslack.errors.UsageError, match="cannot tell the format of .*numbers.txt"):
        detect_format(numbers)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cutslack {cutslack.__version__}"


def test_internal_error_exits_3_and_writes_the_traceback(monkeypatch, capsys):
    import cutslack.cli as cli

    def broken(args):
        return 1 / 0

    monkeypatch.setattr(cli, "_cmd_info", broken)
    assert main(["info"]) == EXIT_INTERNAL
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and len(err.splitlines()) == 1
    assert err.startswith(ERROR_PREFIX + "internal error ZeroDivisionError")
    path = err.split("the full traceback is in ")[1].split(" ")[0]
    try:
        text = Path(path).read_text()
        assert "Traceback" in text and "1 / 0" in text
    finally:
        os.unlink(path)


@pytest.mark.parametrize("argv, code, message", [
    (["-m", "cutslack", "solve", "."], EXIT_BAD_INPUT, "is a directory"),
    (["-m", "cutslack.bench", "run", "quick", "--db", "no_such_dir/x.db", "--dry-run"], EXIT_BAD_INPUT,
     "the folder of --db no_such_dir/x.db does not exist"),
])
def test_entry_points_in_a_real_process(tmp_path, argv, code, message):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == code
    assert proc.stderr.startswith(ERROR_PREFIX) and message in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert "Traceback" not in proc.stdout + proc.stderr
