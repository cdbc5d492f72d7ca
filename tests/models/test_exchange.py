"""Round trips with dimod's CQM, qiskit-optimization's QuadraticProgram and Pyomo, checked by the libraries."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cutslack.binary import BinaryProgram
from cutslack.errors import InvalidInstanceError
from cutslack.models import (from_cqm, from_pyomo, from_quadratic_program, model_solution, to_cqm,
                             to_quadratic_program)

dimod = pytest.importorskip("dimod")
qiskit_optimization = pytest.importorskip("qiskit_optimization")
pyo = pytest.importorskip("pyomo.environ")


def random_program(seed, sense):
    """Integer data, every constraint kind of a BinaryProgram, so every comparison is exact."""
    rng = np.random.default_rng(seed)
    n = 7
    return BinaryProgram(c=rng.integers(-6, 7, n), Q=np.triu(rng.integers(-3, 4, (n, n))), const=3.0, sense=sense,
                         A_le=rng.integers(-2, 5, (3, n)), b_le=[6, 5, 4], A_eq=[[1, 1, 1, 0, 0, 0, 0]], b_eq=[1],
                         conflicts=[[0, 4], [3, 6]])


def all_points(n):
    return np.array(list(itertools.product([0, 1], repeat=n)))


@pytest.mark.parametrize("sense", ["min", "max"])
def test_cqm_agrees_with_the_program(sense):
    program = random_program(1, sense)
    cqm = to_cqm(program)
    sign = -1.0 if sense == "max" else 1.0
    for x in all_points(program.n):
        sample = dict(zip(program.names, x.tolist()))
        assert cqm.objective.energy(sample) == sign * program.objective(x)
        assert cqm.check_feasible(sample) == program.is_feasible(x)
    back = from_cqm(cqm)  # a CQM minimises: the max program comes back as min of -f
    X = all_points(program.n)
    assert back.sense == "min" and back.names == program.names and back.n_conflicts == 2
    np.testing.assert_array_equal(back.objective(X), sign * program.objective(X))
    np.testing.assert_array_equal(back.is_feasible(X), program.is_feasible(X))


def test_cqm_ge_rows_offsets_and_integers():
    x, y, z = dimod.Binary("x"), dimod.Binary("y"), dimod.Binary("z")
    k = dimod.Integer("k", lower_bound=1, upper_bound=6)
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(-3 * x - 2 * y + x * z - k + 4)
    cqm.add_constraint(x + y + 2 >= 3, label="cover")
    cqm.add_constraint(x + z + k <= 5, label="cap")
    with pytest.raises(InvalidInstanceError, match="general-integer variables 'k'"):
        from_cqm(cqm)
    program = from_cqm(cqm, binary_expansion=True)
    assert program.info["binary_expansion"]["k"] == ["k_bit0", "k_bit1", "k_bit2"]
    for bits in all_points(program.n):
        values = model_solution(program, bits)
        assert program.objective(bits) == cqm.objective.energy(values)
        assert program.is_feasible(bits) == cqm.check_feasible(values)


def test_cqm_refusals():
    cqm = dimod.ConstrainedQuadraticModel()
    a, b, r = dimod.Binary("a"), dimod.Binary("b"), dimod.Real("r", upper_bound=2)
    cqm.set_objective(a + b + r)
    with pytest.raises(InvalidInstanceError, match="continuous variables 'r'"):
        from_cqm(cqm)
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.set_objective(a + b)
    cqm.add_constraint(a * b + a <= 1, label="curved")
    with pytest.raises(InvalidInstanceError, match="quadratic constraints are not supported: 'curved'"):
        from_cqm(cqm)
    cqm.remove_constraint("curved")
    cqm.add_constraint(a + b <= 1, label="wish", weight=2.0)
    with pytest.raises(InvalidInstanceError, match="soft constraints are not supported: 'wish'"):
        from_cqm(cqm)
    spins = dimod.ConstrainedQuadraticModel()
    spins.set_objective(dimod.Spin("s") + a)
    with pytest.raises(InvalidInstanceError, match="SPIN variables are not supported"):
        from_cqm(spins)


@pytest.mark.parametrize("sense", ["min", "max"])
def test_quadratic_program_agrees_with_the_program(sense):
    program = random_program(2, sense)
    qp = to_quadratic_program(program)
    for x in all_points(program.n):
        assert qp.objective.evaluate(x) == program.objective(x)
        assert qp.is_feasible(x) == program.is_feasible(x)
    back = from_quadratic_program(qp)
    X = all_points(program.n)
    assert back.sense == sense and back.n_conflicts == 2
    np.testing.assert_array_equal(back.objective(X), program.objective(X))
    np.testing.assert_array_equal(back.is_feasible(X), program.is_feasible(X))


def test_quadratic_program_with_ranges_of_senses_and_refusals():
    qp = qiskit_optimization.QuadraticProgram("mixed")
    for name in "abc":
        qp.binary_var(name)
    qp.maximize(constant=1.5, linear={"a": 2, "b": -1, "c": 3}, quadratic={("a", "c"): -2})
    qp.linear_constraint({"a": 1, "b": 1}, ">=", 1, "cover")
    qp.linear_constraint({"b": 1, "c": 1}, "<=", 1, "cap")
    program = from_quadratic_program(qp)
    assert [r["kind"] for r in program.info["constraints"]] == ["ge", "le"]
    for x in all_points(3):
        assert program.objective(x) == qp.objective.evaluate(x)
        assert program.is_feasible(x) == qp.is_feasible(x)
    qp.continuous_var(0, 1, "flow")
    with pytest.raises(InvalidInstanceError, match="continuous variables 'flow'"):
        from_quadratic_program(qp)


def pyomo_model():
    m = pyo.ConcreteModel(name="plan")
    m.x = pyo.Var(range(5), domain=pyo.Binary)
    m.fixed = pyo.Var(domain=pyo.Binary)
    m.fixed.fix(1)
    m.obj = pyo.Objective(expr=4 * m.x[0] + 3 * m.x[1] - 2 * m.x[2] + m.x[3] * m.x[4] - 3 * m.x[0] * m.x[2]
                          + 2 * m.fixed + 5, sense=pyo.maximize)
    m.le = pyo.Constraint(expr=2 * m.x[0] + m.x[1] + 3 * m.x[2] + m.fixed <= 5)
    m.ge = pyo.Constraint(expr=m.x[1] + m.x[3] >= 1)
    m.band = pyo.Constraint(expr=pyo.inequality(1, m.x[0] + m.x[2] + m.x[4], 2))
    m.eq = pyo.Constraint(expr=m.x[3] + m.x[4] + m.fixed == 2)
    m.conflict = pyo.Constraint(expr=m.x[0] * m.x[1] <= 0)
    return m


def test_pyomo_agrees_with_the_model():
    m = pyomo_model()
    program = from_pyomo(m)
    assert program.sense == "max" and program.n == 5 and program.n_conflicts == 1
    assert program.info["fixed"] == {"fixed": 1.0}
    assert [r["kind"] for r in program.info["constraints"]] == ["le", "ge", "range", "eq"]
    constraints = list(m.component_data_objects(pyo.Constraint, active=True))
    for bits in all_points(program.n):
        values = model_solution(program, bits)
        for k in range(5):
            m.x[k].set_value(values[f"x[{k}]"])
        assert values["fixed"] == 1
        assert program.objective(bits) == pyo.value(m.obj)
        holds = all((c.lower is None or pyo.value(c.lower) <= pyo.value(c.body))
                    and (c.upper is None or pyo.value(c.body) <= pyo.value(c.upper)) for c in constraints)
        assert program.is_feasible(bits) == holds


def test_pyomo_refusals():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(2), domain=pyo.Binary)
    m.level = pyo.Var(bounds=(0, 3))
    m.obj = pyo.Objective(expr=m.x[0] + m.level)
    with pytest.raises(InvalidInstanceError, match="continuous variables 'level'"):
        from_pyomo(m)
    m.level.domain = pyo.Binary
    m.curve = pyo.Constraint(expr=m.x[0] * m.x[1] + m.level <= 1)
    with pytest.raises(InvalidInstanceError, match="'curve'"):
        from_pyomo(m)
    m.curve.deactivate()
    m.second = pyo.Objective(expr=m.x[1])
    with pytest.raises(InvalidInstanceError, match="exactly one active Objective, found 2"):
        from_pyomo(m)
