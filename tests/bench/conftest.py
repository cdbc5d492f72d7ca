"""Fixtures of the harness tests: suites written into a temporary folder, importing the
test-only solvers of ``crashy_solvers.py``, and one small suite run shared by several tests."""

from __future__ import annotations

from pathlib import Path

import pytest

CRASHY = Path(__file__).resolve().parent / "crashy_solvers.py"

SMALL_SUITE = """
[suite]
name = "small"
seeds = [0, 1]
time_limit = 5.0
hard_timeout = 30.0
imports = ["{crashy}"]

[[instances]]
generator = "random_knapsack"
params = {{ n = [8, 12], kind = ["uncorrelated", "strongly"] }}
seeds = [0]

[[instances]]
generator = "random_mdkp"
params = {{ n = 9, m = 2 }}
seeds = [3]

[[solvers]]
method = "dp"
families = ["knapsack"]

[[solvers]]
label = "greedy"
method = "test-slow"
options = {{ delay = 0.01 }}

[[solvers]]
method = "test-crash"
families = ["mdkp"]
"""


@pytest.fixture
def write_suite(tmp_path):
    """Return a function writing suite text (``{crashy}`` is the test solvers' file) and returning its path."""

    def write(text: str, name: str = "suite.toml") -> Path:
        path = tmp_path / name
        path.write_text(text.format(crashy=CRASHY.as_posix()) if "{crashy}" in text else text)
        return path

    return write


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    """Return (database path, RunSummary) of the small suite run once on 2 local workers."""
    from cutslack.bench import LocalExecutor, Store, load_suite, run_suite

    folder = tmp_path_factory.mktemp("small")
    suite_file = folder / "small.toml"
    suite_file.write_text(SMALL_SUITE.format(crashy=CRASHY.as_posix()))
    db = folder / "runs.db"
    with Store(db) as store:
        summary = run_suite(load_suite(suite_file), store, executor=LocalExecutor(2), progress=False)
    return db, summary
