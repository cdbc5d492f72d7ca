"""``cutslack solve`` on the user's own MPS / LP files (plain and gzipped): output, JSON and exit codes."""

from __future__ import annotations

import gzip
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cutslack.binary import BinaryProgram
from cutslack.cli import ERROR_PREFIX, EXIT_BAD_INPUT, EXIT_FAILED, detect_format, main
from cutslack.models import write_model

REPO = Path(__file__).resolve().parents[1]
PROFITS, WEIGHTS, CAPACITIES = [10, 7, 4, 9, 3, 11], [[5, 4, 3, 6, 2, 7], [2, 6, 3, 1, 5, 4]], [12, 11]


def best():
    return max(np.dot(PROFITS, x) for x in itertools.product([0, 1], repeat=6)
               if np.all(np.asarray(WEIGHTS) @ x <= CAPACITIES))


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    program = BinaryProgram(c=PROFITS, sense="max", A_le=WEIGHTS, b_le=CAPACITIES)
    return {ending: write_model(program, folder / f"knap{ending}") for ending in (".mps", ".lp", ".mps.gz", ".lp.gz")}


@pytest.mark.parametrize("ending", [".mps", ".lp", ".mps.gz", ".lp.gz"])
def test_detect_format_of_model_files(model_files, ending):
    assert detect_format(model_files[ending]) == ("lp" if ending.startswith(".lp") else "mps")


@pytest.mark.parametrize("ending", [".mps", ".lp", ".mps.gz", ".lp.gz"])
def test_solve_model_file_json(model_files, ending, capsys):
    assert main(["solve", str(model_files[ending]), "--method", "milp", "--json"]) == 0
    out = capsys.readouterr().out
    payload = json.loads(out)  # nothing but the JSON on stdout (no HiGHS banner)
    assert payload["family"] == "model" and payload["instance"] == "knap"
    assert payload["status"] == "optimal" and payload["objective"] == best()
    assert payload["size"] == {"n": 6, "m_le": 2, "m_eq": 0}
    assert payload["model_solution"] == dict(zip([f"x{i}" for i in range(6)], payload["x"]))


@pytest.mark.parametrize("ending", [".mps", ".lp.gz"])
def test_solve_model_file_lagrangian(model_files, ending, capsys):
    assert main(["solve", str(model_files[ending]), "--method", "lagrangian", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("model knap (n=6 m_le=2 m_eq=0)")
    assert "lagrangian:" in out and "solution:" in out


def test_infeasible_model_exits_one(tmp_path, capsys):
    path = write_model(BinaryProgram(c=[1, 1], A_le=[[-1, -1]], b_le=[-3]), tmp_path / "none.mps")
    assert main(["solve", str(path), "-m", "milp", "--json"]) == EXIT_FAILED
    assert json.loads(capsys.readouterr().out)["status"] == "infeasible"


@pytest.mark.parametrize("text, ending, expected", [
    ("Minimize\n obj: x + y\nSubject To\n c1: x + + <= 1 2\nBinary\n x y\nEnd\n", ".lp",
     "bad.lp:4: HiGHS could not read it"),
    ("Minimize\n obj: x + [ x * y ]\nSubject To\n c1: x + y + [ x * y ] <= 1\nBinary\n x y\nEnd\n", ".lp",
     "quadratic constraints are not supported"),
    ("Maximize\n obj: x + k\nSubject To\n c: x + k <= 3\nBounds\n 0 <= k <= 4\nGeneral\n k\nBinary\n x\nEnd\n",
     ".lp", "general-integer variables 'k'"),
    ("Maximize\n obj: x + f\nSubject To\n c: x + f <= 3\nBounds\n f <= 2\nBinary\n x\nEnd\n", ".lp",
     "continuous variables 'f'"),
    ("NAME junk\nROWS\n nonsense here\n", ".mps.gz", "bad.mps.gz"),
])
def test_bad_model_files_exit_two_without_traceback(tmp_path, capsys, text, ending, expected):
    path = tmp_path / f"bad{ending}"
    if ending.endswith(".gz"):
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    assert main(["solve", str(path), "-m", "milp"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith(ERROR_PREFIX) and expected in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_entry_point_prints_clean_json(model_files):
    done = subprocess.run([sys.executable, "-m", "cutslack", "solve", str(model_files[".mps.gz"]), "-m", "milp",
                           "--json"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode == 0
    assert json.loads(done.stdout)["objective"] == best()


def test_binary_expansion_flag(tmp_path, capsys):
    path = tmp_path / "int.lp"
    path.write_text("Maximize\n obj: x + k\nSubject To\n c: x + k <= 3\nBounds\n 0 <= k <= 4\nGeneral\n k\n"
                    "Binary\n x\nEnd\n")
    assert main(["solve", str(path), "-m", "milp"]) == EXIT_BAD_INPUT
    assert "--binary-expansion" in capsys.readouterr().err
    assert main(["solve", str(path), "-m", "milp", "--binary-expansion", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["objective"] == 3.0 and payload["size"]["n"] == 4  # x plus 3 bits for k in [0, 4]
    assert payload["model_solution"]["x"] + payload["model_solution"]["k"] == 3
