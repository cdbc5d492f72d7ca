"""Suites: parsing, grids, validation messages that name the place, shipped suites."""

from __future__ import annotations

import pytest

from cutslack.bench.suite import SuiteError, instance_hash, load_suite, shipped_suites
from cutslack.problems import random_knapsack

BASE = """
[suite]
name = "t"
seeds = [0, 1, 2]
time_limit = 2.0

[[instances]]
generator = "random_knapsack"
params = { n = [5, 6, 7], kind = ["uncorrelated", "strongly"] }
seeds = [0, 1]

[[solvers]]
method = "dp"
"""


def test_grid_expands_parameters_and_seeds(write_suite):
    suite = load_suite(write_suite(BASE))
    assert len(suite.instances) == 3 * 2 * 2
    assert len(suite.tasks()) == 12 * 3
    assert len({t.key for t in suite.tasks()}) == 36
    assert suite.hard_timeout == pytest.approx(3 * 2.0 + 10)
    assert {i.family for i in suite.instances} == {"knapsack"}


def test_overrides_of_seeds_and_time_limit(write_suite):
    suite = load_suite(write_suite(BASE), seeds=[7], time_limit=0.5)
    assert {t.seed for t in suite.tasks()} == {7}
    assert {t.time_limit for t in suite.tasks()} == {0.5}


def test_instance_hash_is_stable_and_tells_data_apart():
    assert instance_hash(random_knapsack(10, rng=1)) == instance_hash(random_knapsack(10, rng=1))
    assert instance_hash(random_knapsack(10, rng=1)) != instance_hash(random_knapsack(10, rng=2))


@pytest.mark.parametrize("edit, place", [
    (('method = "dp"', 'method = "no-such-method"'), "solvers[0].method"),
    (('method = "dp"', 'method = "dp"\noptions = { sweeps = 3 }'), "solvers[0].options.sweeps"),
    (('generator = "random_knapsack"', 'generator = "random_cake"'), "instances[0].generator"),
    (("kind = [", "colour = ["), "instances[0].params.colour"),
    (("seeds = [0, 1, 2]", "seeds = []"), "suite.seeds"),
    (("time_limit = 2.0", "time_limit = -1"), "suite.time_limit"),
    (('[suite]', '[suite]\nworkers = 3'), "suite"),
    (("n = [5, 6, 7]", "n = [5, 0]"), "instances[0].params"),
])
def test_bad_suite_names_the_place(write_suite, edit, place):
    path = write_suite(BASE.replace(*edit))
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    assert info.value.place == place
    assert str(path) in str(info.value)


def test_malformed_toml_gives_the_line(write_suite):
    path = write_suite(BASE.replace('name = "t"', 'name = "t'))
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    assert info.value.line == 3
    assert "malformed TOML" in str(info.value)


def test_missing_file_and_unknown_shipped_name(tmp_path):
    with pytest.raises(SuiteError, match="no such suite file"):
        load_suite(tmp_path / "absent.toml")
    with pytest.raises(SuiteError, match="shipped suites: .*quick"):
        load_suite("no-such-suite")


def test_missing_benchmark_library_is_reported(write_suite, tmp_path):
    path = write_suite(BASE + '\n[[instances]]\nlibrary = "qap"\nnames = ["nug12"]\n')
    with pytest.raises(SuiteError, match="benchmark library not found") as info:
        load_suite(path, benchmark_dir=tmp_path)
    assert info.value.place == "instances[1].library"


def test_optional_solver_is_skipped_with_a_note(write_suite):
    suite = load_suite(write_suite(BASE + '\n[[solvers]]\nmethod = "not-yet"\nrequired = false\n'))
    assert [s.label for s in suite.solvers] == ["dp"]
    assert "not-yet" in suite.skipped_solvers[0]


def test_solver_applying_to_nothing_is_an_error(write_suite):
    with pytest.raises(SuiteError, match="applies to no instance"):
        load_suite(write_suite(BASE.replace('method = "dp"', 'method = "dp"\nfamilies = ["tsp"]')))


def test_library_patterns(write_suite, benchmarks):
    import cutslack.problems.library  # noqa: F401  (our own module: a failure to import is a failure)
    path = write_suite(BASE.replace("generator", "# generator").replace("params", "# params")
                       .replace("seeds = [0, 1]\n", "").replace("[[instances]]", '[[instances]]\nlibrary = "mdkp"\n'
                       'names = ["mknapcb1*"]\nmax_n = 100').replace('method = "dp"', 'method = "milp"'))
    suite = load_suite(path, benchmark_dir=benchmarks)
    assert suite.instances and all(i.instance_id.startswith("mdkp/") for i in suite.instances)
    assert all(i.problem.known_optimum is not None for i in suite.instances)


def test_shipped_suites_are_valid_toml_and_quick_loads():
    import tomllib

    names = shipped_suites()
    assert {"quick", "slackfree", "classical", "quantum-small"} <= set(names)
    for path in names.values():
        data = tomllib.loads(path.read_text())
        assert data["suite"]["description"] and data["solvers"] and data["instances"]
    quick = load_suite("quick")
    assert len(quick.tasks()) >= 20


def test_a_solver_may_set_its_own_time_limit(tmp_path):
    from cutslack.bench.suite import SuiteError, load_suite

    text = """
[suite]
name = "own-limit"
time_limit = 5.0
[[instances]]
generator = "random_knapsack"
params = { n = [6] }
[[solvers]]
label = "quick"
method = "heuristic"
time_limit = 0.5
[[solvers]]
method = "dp"
"""
    path = tmp_path / "s.toml"
    path.write_text(text)
    limits = {t.solver.label: t.time_limit for t in load_suite(path).tasks()}
    assert limits == {"quick": 0.5, "dp": 5.0}
    path.write_text(text.replace("time_limit = 0.5", "time_limit = -1"))
    with pytest.raises(SuiteError, match="solvers\\[0\\].time_limit"):
        load_suite(path)
