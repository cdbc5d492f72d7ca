"""Files that lie: a symmetric TSP with an asymmetric matrix is refused (ATSP reads it), a stated
optimum that a feasible solution beats is reported as wrong, and a closed stdout ends the command
line quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cutslack
from cutslack.cli import main
from cutslack.errors import ParseError
from cutslack.problems import Knapsack
from cutslack.problems.base import KnownOptimum
from cutslack.problems.library import read_tsplib

REPO = Path(__file__).resolve().parents[1]

ASYMMETRIC = """NAME: asym
TYPE: {kind}
DIMENSION: 3
EDGE_WEIGHT_TYPE: EXPLICIT
EDGE_WEIGHT_FORMAT: FULL_MATRIX
EDGE_WEIGHT_SECTION
0 1 10
1 0 2
3 10 0
EOF
"""


def test_a_symmetric_tsp_refuses_an_asymmetric_matrix(tmp_path):
    path = tmp_path / "asym.tsp"
    path.write_text(ASYMMETRIC.format(kind="TSP"))
    with pytest.raises(ParseError) as info:
        read_tsplib(path)
    err = info.value
    assert err.file == str(path) and err.line == 7  # the line holding d(1, 3) = 10; its mirror d(3, 1) = 3
    assert "from city 1 to 3 is 10 and back is 3" in str(err) and "TYPE: ATSP" in str(err)


def test_an_atsp_file_is_read_as_asymmetric_and_solved_as_such():
    problem = read_tsplib(ASYMMETRIC.format(kind="ATSP"))
    assert not problem.symmetric
    result = cutslack.solve(problem, method="milp")
    # the two directed tours: 0->1->2->0 costs 1 + 2 + 3 = 6, 0->2->1->0 costs 10 + 10 + 1 = 21
    assert result.objective == 6.0
    assert problem.evaluate(np.asarray(result.x)[::-1]) == 21.0


def test_the_command_line_refuses_the_asymmetric_tsp_with_exit_2(tmp_path, capsys):
    path = tmp_path / "asym.tsp"
    path.write_text(ASYMMETRIC.format(kind="TSP"))
    assert main(["solve", str(path), "-m", "milp"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:7" in err and "symmetric" in err


def _wrong_optimum() -> Knapsack:
    # the optimum is 12 (items 0 and 2); the "file" claims a proven 5
    return Knapsack([5.0, 6.0, 7.0], [[2.0, 3.0, 4.0]], [6.0], known_optimum=KnownOptimum(5.0, proven=True))


def test_a_beaten_known_optimum_is_flagged_in_the_result():
    result = cutslack.solve(_wrong_optimum(), method="dp")
    assert result.objective == 12.0
    assert result.info["known_optimum_violated"] is True
    honest = Knapsack([5.0, 6.0, 7.0], [[2.0, 3.0, 4.0]], [6.0], known_optimum=KnownOptimum(12.0, proven=True))
    assert "known_optimum_violated" not in cutslack.solve(honest, method="dp").info


def test_the_command_line_says_the_stated_optimum_is_wrong(tmp_path, capsys):
    path = tmp_path / "mknap1.txt"
    path.write_text("1\n3 1 5\n5 6 7\n2 3 4\n6\n")  # OR-Library layout, stated optimum 5
    assert main(["solve", str(path), "--format", "mknap1", "-m", "dp"]) == 0
    out, err = capsys.readouterr()
    assert ("the file's stated optimum 5 is beaten by a feasible solution of 12: the stated value is wrong"
            in err)
    assert "(proven)" not in out


def test_a_closed_stdout_ends_solve_quietly():
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "cutslack", "solve", "--generate", "mdkp n=30 m=2 seed=1",
                             "-m", "mdkp-greedy", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=str(REPO))
    proc.stdout.close()  # the reader is gone before anything is written, as after `| head -c 1`
    err = proc.stderr.read()
    assert proc.wait(timeout=300) == 141
    assert err == ""
