"""Models from and to other packages: Pyomo, dimod's CQM and Qiskit's QuadraticProgram.

Each ``from_*`` collects bounds, integrality, objective and rows ``L <= a'x <= U`` with the
package's own tooling (Pyomo's ``generate_standard_repn``, dimod's and Qiskit's coefficient
views) and hands them to :func:`~cutslack.models.canonical.program_from_rows`, so fixed
variables, ranges, free rows and ``binary_expansion`` behave as in
:func:`~cutslack.models.files.read_model`.  A conflict pair of a BinaryProgram is written as
the quadratic constraint ``x_i x_j <= 0`` and that one quadratic pattern is read back as a
conflict; any other quadratic constraint is refused.  The libraries are imported inside the
functions; a missing one raises :class:`~cutslack.errors.BackendUnavailableError` with the
install line.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cutslack.binary import BinaryProgram
from cutslack.errors import BackendUnavailableError, InvalidInstanceError
from cutslack.models.canonical import ModelProgram, program_from_rows, refusal_list

__all__ = ["from_pyomo", "from_cqm", "to_cqm", "from_quadratic_program", "to_quadratic_program"]


def _need(module: str, pip: str):
    """Import ``module`` or raise BackendUnavailableError with the pip line."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(pip, f"pip install {pip}") from exc


class _Rows:
    """Collects rows ``lo <= sum_j a_j x_j <= hi`` by variable index, then the sparse matrix."""

    def __init__(self):
        self.r, self.c, self.v, self.lo, self.hi, self.names = [], [], [], [], [], []

    def add(self, name, cols, vals, lo, hi):
        i = len(self.lo)
        self.r.extend([i] * len(cols))
        self.c.extend(cols)
        self.v.extend(float(a) for a in vals)
        self.lo.append(-np.inf if lo is None else float(lo))
        self.hi.append(np.inf if hi is None else float(hi))
        self.names.append(str(name))

    def matrix(self, n):
        return sp.csr_matrix((self.v, (self.r, self.c)), shape=(len(self.lo), n))


def _conflict_pair(lin_nnz: int, quad: dict, lo, hi):
    """Return ``(i, j)`` when a quadratic row is exactly ``a x_i x_j <= 0`` (or ``== 0``) with ``a > 0``."""
    if lin_nnz or len(quad) != 1:
        return None
    (i, j), a = next(iter(quad.items()))
    if i == j or a <= 0 or hi is None or hi != 0 or (lo is not None and lo not in (0.0, -np.inf)):
        return None
    return (i, j)


def _with_conflicts(program: ModelProgram, pairs, model_index) -> ModelProgram:
    """Return ``program`` with the conflict pairs (model variable indices) added on its bits."""
    if not pairs:
        return program
    T = program.info["model_map"].T.tocsc()
    conf = []
    for i, j in pairs:
        bi, bj = T[:, model_index[i]].indices, T[:, model_index[j]].indices
        if len(bi) != 1 or len(bj) != 1:  # a fixed or expanded variable in a conflict: no pair of bits
            raise InvalidInstanceError("constraints", "a conflict x_i x_j <= 0 must join two binary variables")
        conf.append((int(bi[0]), int(bj[0])))
    return ModelProgram(c=program.c, Q=program.Q, const=program.const, sense=program.sense, A_le=program.A_le,
                        b_le=program.b_le, A_eq=program.A_eq, b_eq=program.b_eq, conflicts=conf,
                        names=program.names, info=program.info)


# --- Pyomo -------------------------------------------------------------------------------------

def _pyomo_objective(pyo, repn_mod, model, index):
    """Return ``(c, Q, const, sense)`` of the one active objective of a Pyomo model."""
    objectives = list(model.component_data_objects(pyo.Objective, active=True, descend_into=True))
    if len(objectives) != 1:
        raise InvalidInstanceError("objective", "a Pyomo model needs exactly one active Objective, "
                                   f"found {len(objectives)}")
    obj = objectives[0]
    repn = repn_mod.generate_standard_repn(obj.expr, quadratic=True)
    if repn.nonlinear_expr is not None:
        raise InvalidInstanceError("objective", f"objective {obj.name!r} is not quadratic")
    n = len(index)
    c = np.zeros(n)
    for v, a in zip(repn.linear_vars, repn.linear_coefs):
        c[index[id(v)]] += float(pyo.value(a))
    rows = [index[id(u)] for u, _ in repn.quadratic_vars]
    cols = [index[id(w)] for _, w in repn.quadratic_vars]
    Q = sp.csr_matrix(([float(pyo.value(a)) for a in repn.quadratic_coefs], (rows, cols)), shape=(n, n))
    sense = "max" if obj.sense == pyo.maximize else "min"
    return c, Q, float(pyo.value(repn.constant)), sense


def from_pyomo(model, *, binary_expansion: bool = False) -> ModelProgram:
    """Return the :class:`~cutslack.models.canonical.ModelProgram` of a Pyomo ``ConcreteModel``.

    The model needs one active Objective (linear or quadratic) and linear constraints (the
    quadratic ``x_i * x_j <= 0`` is read as a conflict pair).  Variables are taken in the
    model's order; fixed ones (``var.fix(v)``) and ones whose bounds meet are substituted out.
    Coefficients come from ``pyomo.repn.generate_standard_repn``.

    Raises
    ------
    InvalidInstanceError
        No or several active objectives, a nonlinear or quadratic constraint, continuous or
        (without ``binary_expansion``) general-integer variables.
    """
    pyo = _need("pyomo.environ", "pyomo")
    repn_mod = _need("pyomo.repn", "pyomo")
    variables = list(model.component_data_objects(pyo.Var, descend_into=True))
    index = {id(v): k for k, v in enumerate(variables)}
    names = [v.name for v in variables]
    lb = np.array([-np.inf if v.lb is None else v.lb for v in variables], dtype=float)
    ub = np.array([np.inf if v.ub is None else v.ub for v in variables], dtype=float)
    for k, v in enumerate(variables):
        if v.fixed:
            lb[k] = ub[k] = float(pyo.value(v))
    integer = np.array([v.is_integer() or v.is_binary() for v in variables], dtype=bool)
    c, Q, const, sense = _pyomo_objective(pyo, repn_mod, model, index)
    rows, pairs, refused = _Rows(), [], []
    for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        repn = repn_mod.generate_standard_repn(con.body, quadratic=True)
        shift = float(pyo.value(repn.constant))
        lo = None if con.lower is None else float(pyo.value(con.lower)) - shift
        hi = None if con.upper is None else float(pyo.value(con.upper)) - shift
        quad = {}
        for (u, w), a in zip(repn.quadratic_vars, repn.quadratic_coefs):
            key = (index[id(u)], index[id(w)])
            quad[key] = quad.get(key, 0.0) + float(pyo.value(a))
        if repn.nonlinear_expr is not None or quad:
            pair = None if repn.nonlinear_expr is not None else _conflict_pair(len(repn.linear_vars), quad, lo, hi)
            if pair is None:
                refused.append(con.name)
            else:
                pairs.append(pair)
            continue
        rows.add(con.name, [index[id(v)] for v in repn.linear_vars],
                 [pyo.value(a) for a in repn.linear_coefs], lo, hi)
    if refused:
        raise InvalidInstanceError("constraints", f"quadratic or nonlinear constraints are not supported: "
                                   f"{refusal_list(refused)}")
    program = program_from_rows(names=names, lb=lb, ub=ub, integer=integer, c=c, A=rows.matrix(len(names)),
                                row_lower=rows.lo, row_upper=rows.hi, Q=Q, const=const, sense=sense,
                                row_names=rows.names, binary_expansion=binary_expansion, source="Pyomo model",
                                model_name=model.name)
    return _with_conflicts(program, pairs, {k: k for k in range(len(names))})


# --- dimod CQM ---------------------------------------------------------------------------------

def from_cqm(cqm, *, binary_expansion: bool = False) -> ModelProgram:
    """Return the :class:`~cutslack.models.canonical.ModelProgram` of a dimod ``ConstrainedQuadraticModel``.

    Binary variables (and, with ``binary_expansion``, bounded Integer ones); ``<=``, ``>=`` and
    ``==`` constraints with linear left-hand sides (a left-hand offset moves to the right);
    ``x_i * x_j <= 0`` (or ``== 0``) becomes a conflict pair.  The objective is minimised (a
    CQM has no sense).

    Raises
    ------
    InvalidInstanceError
        SPIN or REAL variables, soft constraints, or another quadratic constraint.
    """
    dimod = _need("dimod", "dimod")
    labels = list(cqm.variables)
    index = {v: k for k, v in enumerate(labels)}
    kinds = {v: cqm.vartype(v) for v in labels}
    spins = [str(v) for v in labels if kinds[v] is dimod.SPIN]
    if spins:
        raise InvalidInstanceError("variables", f"SPIN variables are not supported (convert them with "
                                   f"cqm.spin_to_binary()): {refusal_list(spins)}")
    if cqm.num_soft_constraints():
        # dimod names soft constraints only through its private view; the count is public
        soft = [str(k) for k in getattr(cqm, "_soft", ())]
        raise InvalidInstanceError("constraints", f"soft constraints are not supported: "
                                   f"{refusal_list(soft) if soft else cqm.num_soft_constraints()}")
    n = len(labels)
    integer = np.array([kinds[v] in (dimod.BINARY, dimod.INTEGER) for v in labels], dtype=bool)
    lb = np.array([cqm.lower_bound(v) for v in labels], dtype=float)
    ub = np.array([cqm.upper_bound(v) for v in labels], dtype=float)
    obj = cqm.objective
    c = np.zeros(n)
    for v, a in obj.linear.items():
        c[index[v]] += a
    quad = [(index[u], index[w], a) for (u, w), a in obj.quadratic.items()]
    Q = sp.csr_matrix(([a for *_, a in quad], ([u for u, *_ in quad], [w for _, w, _ in quad])), shape=(n, n))
    rows, pairs, refused = _Rows(), [], []
    for label, con in cqm.constraints.items():
        lhs, rhs = con.lhs, float(con.rhs) - float(con.lhs.offset)
        lo, hi = {"Le": (None, rhs), "Ge": (rhs, None), "Eq": (rhs, rhs)}[con.sense.name]
        cols = [index[v] for v, a in lhs.linear.items() if a != 0]
        vals = [a for a in lhs.linear.values() if a != 0]
        if not lhs.is_linear():
            q = {(index[u], index[w]): a for (u, w), a in lhs.quadratic.items() if a != 0}
            pair = _conflict_pair(len(cols), q, lo, hi)
            (refused if pair is None else pairs).append(str(label) if pair is None else pair)
            continue
        rows.add(label, cols, vals, lo, hi)
    if refused:
        raise InvalidInstanceError("constraints", f"quadratic constraints are not supported: {refusal_list(refused)}")
    program = program_from_rows(names=[str(v) for v in labels], lb=lb, ub=ub, integer=integer, c=c,
                                A=rows.matrix(n), row_lower=rows.lo, row_upper=rows.hi, Q=Q, const=float(obj.offset),
                                row_names=rows.names, binary_expansion=binary_expansion, source="dimod CQM",
                                model_name="cqm")
    return _with_conflicts(program, pairs, {k: k for k in range(n)})


def _coo_terms(M):
    """Yield ``(i, j, value)`` of the nonzeros of a dense or sparse matrix."""
    C = sp.coo_matrix(M)
    for i, j, a in zip(C.row.tolist(), C.col.tolist(), C.data.tolist()):
        if a != 0:
            yield i, j, a


def to_cqm(program: BinaryProgram):
    """Return a dimod ``ConstrainedQuadraticModel`` with the program's objective and constraints.

    Variables are BINARY and labelled by ``program.names``; a ``max`` program's objective is
    negated (a CQM minimises), so ``cqm.objective.energy(x) == -program.objective(x)`` then.
    Rows are labelled ``le{i}``, ``eq{i}``; conflict pairs become ``x_i * x_j <= 0`` (``conflict{k}``).
    """
    dimod = _need("dimod", "dimod")
    names = program.names
    sign = -1.0 if program.sense == "max" else 1.0
    cqm = dimod.ConstrainedQuadraticModel()
    cqm.add_variables(dimod.BINARY, names)
    obj = dimod.QuadraticModel()
    obj.add_variables_from(dimod.BINARY, names)
    for i, a in enumerate(program.c.tolist()):
        obj.add_linear(names[i], sign * a)
    if program.Q is not None:
        for i, j, a in _coo_terms(program.Q):
            if i == j:
                obj.add_linear(names[i], sign * a)  # x_i^2 = x_i on bits
            else:
                obj.add_quadratic(names[i], names[j], sign * a)
    obj.offset = sign * program.const
    cqm.set_objective(obj)
    for tag, A, b, sense in (("le", program.A_le, program.b_le, "<="), ("eq", program.A_eq, program.b_eq, "==")):
        A = sp.csr_matrix(A)
        for i in range(A.shape[0]):
            lo, hi = A.indptr[i], A.indptr[i + 1]
            terms = [(names[j], float(a)) for j, a in zip(A.indices[lo:hi].tolist(), A.data[lo:hi].tolist())]
            cqm.add_constraint_from_iterable(terms, sense, rhs=float(b[i]), label=f"{tag}{i}")
    for k, (i, j) in enumerate(program.conflicts.tolist()):
        cqm.add_constraint_from_iterable([(names[i], names[j], 1.0)], "<=", rhs=0.0, label=f"conflict{k}")
    return cqm


# --- Qiskit QuadraticProgram -------------------------------------------------------------------

def from_quadratic_program(qp, *, binary_expansion: bool = False) -> ModelProgram:
    """Return the :class:`~cutslack.models.canonical.ModelProgram` of a qiskit-optimization ``QuadraticProgram``.

    Binary variables (bounded integers with ``binary_expansion``), linear constraints of any
    sense, the quadratic constraint ``x_i * x_j <= 0`` as a conflict pair, a linear or quadratic
    objective with its sense and constant.

    Raises
    ------
    InvalidInstanceError
        Continuous or (without ``binary_expansion``) integer variables, another quadratic constraint.
    """
    _need("qiskit_optimization", "qiskit-optimization")
    variables = qp.variables
    n = len(variables)
    names = [v.name for v in variables]
    integer = np.array([v.vartype.name in ("BINARY", "INTEGER") for v in variables], dtype=bool)
    lb = np.array([v.lowerbound for v in variables], dtype=float)
    ub = np.array([v.upperbound for v in variables], dtype=float)
    obj = qp.objective
    # Qiskit's coefficient matrices can be narrower than n when variables were added later
    lin = sp.coo_matrix(obj.linear.coefficients)
    c = np.zeros(n)
    np.add.at(c, lin.col, lin.data)
    quad = sp.coo_matrix(obj.quadratic.coefficients)
    Q = sp.csr_matrix((quad.data, (quad.row, quad.col)), shape=(n, n))
    rows = _Rows()
    for con in qp.linear_constraints:
        M = sp.coo_matrix(con.linear.coefficients)
        rhs = float(con.rhs)
        lo, hi = {"LE": (None, rhs), "GE": (rhs, None), "EQ": (rhs, rhs)}[con.sense.name]
        rows.add(con.name, M.col.tolist(), M.data.tolist(), lo, hi)
    pairs, refused = [], []
    for con in qp.quadratic_constraints:
        rhs = float(con.rhs)
        lo, hi = {"LE": (None, rhs), "GE": (rhs, None), "EQ": (rhs, rhs)}[con.sense.name]
        q = {(i, j): a for i, j, a in _coo_terms(con.quadratic.coefficients)}
        pair = _conflict_pair(sp.coo_matrix(con.linear.coefficients).nnz, q, lo, hi)
        (refused if pair is None else pairs).append(con.name if pair is None else pair)
    if refused:
        raise InvalidInstanceError("constraints", f"quadratic constraints are not supported: {refusal_list(refused)}")
    sense = "max" if obj.sense.name == "MAXIMIZE" else "min"
    program = program_from_rows(names=names, lb=lb, ub=ub, integer=integer, c=c, A=rows.matrix(n), row_lower=rows.lo,
                                row_upper=rows.hi, Q=Q, const=float(obj.constant), sense=sense, row_names=rows.names,
                                binary_expansion=binary_expansion, source="QuadraticProgram",
                                model_name=qp.name or "quadratic-program")
    return _with_conflicts(program, pairs, {k: k for k in range(n)})


def to_quadratic_program(program: BinaryProgram, name: str = "cutslack"):
    """Return a qiskit-optimization ``QuadraticProgram`` with the program's objective, sense and constraints.

    Binary variables named ``program.names``; rows ``le{i}`` (``<=``), ``eq{i}`` (``==``) and the
    quadratic constraints ``conflict{k}: x_i * x_j <= 0``.
    """
    qo = _need("qiskit_optimization", "qiskit-optimization")
    qp = qo.QuadraticProgram(name)
    names = program.names
    for s in names:
        qp.binary_var(s)
    quad = {}
    if program.Q is not None:
        for i, j, a in _coo_terms(program.Q):
            key = (names[min(i, j)], names[max(i, j)])
            quad[key] = quad.get(key, 0.0) + a
    linear = {names[i]: a for i, a in enumerate(program.c.tolist()) if a != 0}
    goal = qp.maximize if program.sense == "max" else qp.minimize
    goal(constant=program.const, linear=linear, quadratic=quad)
    for tag, A, b, sense in (("le", program.A_le, program.b_le, "<="), ("eq", program.A_eq, program.b_eq, "==")):
        A = sp.csr_matrix(A)
        for i in range(A.shape[0]):
            lo, hi = A.indptr[i], A.indptr[i + 1]
            row = {names[j]: float(a) for j, a in zip(A.indices[lo:hi].tolist(), A.data[lo:hi].tolist())}
            qp.linear_constraint(linear=row, sense=sense, rhs=float(b[i]), name=f"{tag}{i}")
    for k, (i, j) in enumerate(program.conflicts.tolist()):
        qp.quadratic_constraint(quadratic={(names[i], names[j]): 1.0}, sense="<=", rhs=0.0, name=f"conflict{k}")
    return qp
