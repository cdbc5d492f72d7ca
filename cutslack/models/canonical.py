"""One canonical map from a row-bounded model to a :class:`~cutslack.binary.BinaryProgram`.

Every reader in :mod:`cutslack.models` (MPS/LP files, Pyomo, dimod CQM, Qiskit
QuadraticProgram) collects the same record — variable bounds and integrality, an objective
``x'Qx + c'x + const`` with a sense, and rows ``L <= A x <= U`` — and hands it to
:func:`program_from_rows`, so each rule below is written once:

* rows: ``L = -inf`` gives one ``<=`` row; ``U = +inf`` gives the negated ``<=`` row; both
  finite and ``L < U`` (a *range*) gives both; ``L == U`` gives an equality; both infinite (a
  *free* row, e.g. a second objective in an MPS file) is dropped and recorded;
* variables: an integer variable with bounds ``[0, 1]`` is a bit; a variable whose bounds
  meet (``lb == ub``) is *fixed*: substituted out, the objective constant and right-hand sides
  adjusted, and its value restored by :func:`model_solution`; a bounded general integer in
  ``[l, u]`` is refused unless ``binary_expansion=True``, which writes it as
  ``l + sum_k c_k b_k`` with the bounded log coefficients ``c = (1, 2, ..., 2^(p-1),
  u - l - 2^p + 1)``, ``p = floor(log2(u - l))``, so the bits reach exactly ``[l, u]``;
  continuous variables are always refused.

All of it stays sparse: ``A`` is CSR from end to end and nothing ``n x n`` is built densely.
The variable map ``x_model = T b + t0`` travels in ``program.info["model_map"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cutslack.binary import BinaryProgram
from cutslack.errors import InvalidInstanceError

__all__ = ["ModelMap", "ModelProgram", "program_from_rows", "model_solution", "bounded_expansion",
           "refusal_list"]

#: bounds closer than this to an integer count as that integer
_INTEGRAL_TOL = 1e-9


def bounded_expansion(upper: int) -> np.ndarray:
    """Return the bounded log coefficients ``(1, 2, ..., 2^(p-1), upper - 2^p + 1)`` of ``[0, upper]``.

    Every integer in ``[0, upper]`` is the sum of a subset and no subset exceeds ``upper``;
    ``p = floor(log2 upper)``, so ``p + 1`` bits.  Empty for ``upper <= 0``.

    >>> bounded_expansion(10).tolist()
    [1, 2, 4, 3]
    """
    upper = int(upper)
    if upper <= 0:
        return np.zeros(0, dtype=np.int64)
    p = upper.bit_length() - 1
    return np.array([1 << k for k in range(p)] + [upper - (1 << p) + 1], dtype=np.int64)


def refusal_list(names, limit: int = 10) -> str:
    """Return ``names`` as ``'a', 'b', ... (N in all)`` for an error message, at most ``limit`` shown."""
    names = list(names)
    shown = ", ".join(repr(s) for s in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


@dataclass(frozen=True)
class ModelMap:
    """How the model's own variables follow from the program's bits: ``x = T @ bits + t0``.

    Attributes
    ----------
    variables : tuple of str
        The model's variable names, in the model's order (fixed ones included).
    T : (n_model, n_bits) CSR matrix
        Coefficient of each bit in each model variable.
    t0 : (n_model,) array
        Fixed values and lower bounds of expanded integers.
    integer : (n_model,) bool array
        Which model variables are integer (their values are returned as Python ints).
    """

    variables: tuple
    T: sp.csr_matrix
    t0: np.ndarray
    integer: np.ndarray

    def values(self, bits) -> np.ndarray:
        """Return the model variables' values for one bit vector."""
        b = np.asarray(bits, dtype=float).reshape(-1)
        if b.shape[0] != self.T.shape[1]:
            raise ValueError(f"expected {self.T.shape[1]} bits, got {b.shape[0]}")
        return np.asarray(self.T @ b).reshape(-1) + self.t0


@dataclass(frozen=True, eq=False, repr=False)
class ModelProgram(BinaryProgram):
    """A :class:`~cutslack.binary.BinaryProgram` read from a user's model (file, Pyomo, CQM, QP).

    It is a BinaryProgram in every respect (every ``cutslack.solve`` method that takes one takes
    it); it adds a name, a size and a one-line description for the command line, and carries in
    ``info`` the variable map (``"model_map"``), the per-row record (``"constraints"``), dropped
    free rows (``"dropped_rows"``), fixed variables (``"fixed"``) and expanded integers
    (``"binary_expansion"``).
    """

    family = "model"

    @property
    def name(self) -> str:
        return str(self.info.get("model_name") or "model")

    @property
    def size(self) -> dict:
        return {"n": self.n, "m_le": self.m_le, "m_eq": self.m_eq}

    def describe(self) -> str:
        """One line: family, name and size."""
        size = " ".join(f"{k}={v}" for k, v in self.size.items())
        return f"{self.family} {self.name} ({size})"


def model_solution(program: BinaryProgram, bits) -> dict:
    """Return ``{model variable name: value}`` for one bit vector of a program built here.

    Fixed variables get their fixed value, expanded integers ``l + sum_k c_k b_k``, bits 0/1;
    integer variables are Python ints, others floats.  ``bits`` is what ``cutslack.solve``
    returns as ``Result.x``.

    Raises
    ------
    ValueError
        When ``program`` was not built by :mod:`cutslack.models` (it has no model map).
    """
    mm = program.info.get("model_map") if isinstance(program.info, dict) else None
    if not isinstance(mm, ModelMap):
        raise ValueError("this BinaryProgram was not built from a model (no info['model_map']); "
                         "its own bits are its solution")
    vals = mm.values(bits)
    return {name: (int(round(v)) if mm.integer[k] else float(v)) for k, (name, v) in enumerate(zip(mm.variables, vals))}


def _classify_variables(names, lb, ub, integer, binary_expansion: bool, source: str):
    """Return ``(T, t0, bit_names, fixed, expanded)`` or raise naming the refused variables."""
    n = len(names)
    lb = np.asarray(lb, dtype=float)
    ub = np.asarray(ub, dtype=float)
    integer = np.asarray(integer, dtype=bool)
    lo = np.where(integer, np.ceil(lb - _INTEGRAL_TOL), lb)
    hi = np.where(integer, np.floor(ub + _INTEGRAL_TOL), ub)
    empty = np.flatnonzero(lo > hi)
    if empty.size:
        raise InvalidInstanceError("bounds", f"{source}: variables with no allowed value (lower bound above "
                                   f"upper bound): {refusal_list(names[i] for i in empty)}")
    fixed = lo == hi
    binary = integer & ~fixed & (lo == 0) & (hi == 1)
    continuous = ~integer & ~fixed
    general = integer & ~fixed & ~binary
    unbounded = general & ~(np.isfinite(lo) & np.isfinite(hi))
    problems = []
    if continuous.any():
        problems.append(f"continuous variables {refusal_list(names[i] for i in np.flatnonzero(continuous))} "
                        "(only binary and bounded integer variables can be written with bits)")
    if general.any() and not binary_expansion:
        problems.append(f"general-integer variables {refusal_list(names[i] for i in np.flatnonzero(general))} "
                        "(binary_expansion=True, on the command line --binary-expansion, writes each bounded one "
                        "with log2(u - l) + 1 bits)")
    elif unbounded.any():
        problems.append(f"integer variables without a finite lower and upper bound "
                        f"{refusal_list(names[i] for i in np.flatnonzero(unbounded))} (binary_expansion needs both)")
    if problems:
        raise InvalidInstanceError("variables", f"{source}: cutslack takes binary programs; refused: "
                                   + "; ".join(problems))
    t0 = np.where(fixed, lo, 0.0)
    rows, cols, vals, bit_names, expanded = [], [], [], [], {}
    bin_idx = np.flatnonzero(binary)
    gen_idx = set(np.flatnonzero(general).tolist())
    if not gen_idx:  # the common case, vectorised: every non-fixed variable is one bit
        bit_names = [names[i] for i in bin_idx]
        T = sp.csr_matrix((np.ones(bin_idx.size), (bin_idx, np.arange(bin_idx.size))), shape=(n, bin_idx.size))
        return T, t0, bit_names, fixed, expanded
    for i in np.flatnonzero(binary | general):
        if i in gen_idx:
            t0[i] = lo[i]
            coeffs = bounded_expansion(int(hi[i] - lo[i]))
            new = [f"{names[i]}_bit{k}" for k in range(coeffs.size)]
            expanded[names[i]] = new
        else:
            coeffs, new = np.ones(1), [names[i]]
        rows.extend([i] * len(new))
        cols.extend(range(len(bit_names), len(bit_names) + len(new)))
        vals.extend(np.asarray(coeffs, dtype=float).tolist())
        bit_names.extend(new)
    T = sp.csr_matrix((vals, (rows, cols)), shape=(n, len(bit_names)))
    return T, t0, bit_names, fixed, expanded


def _canonical_rows(A, lo, hi, row_names, source: str):
    """Split rows ``lo <= A x <= hi`` into ``(A_le, b_le, A_eq, b_eq, record, dropped)``."""
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    m = lo.shape[0]
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        raise InvalidInstanceError("rows", f"{source}: rows whose lower bound exceeds the upper bound: "
                                   f"{refusal_list(row_names[i] for i in bad)}")
    if np.any(lo == np.inf) or np.any(hi == -np.inf):
        raise InvalidInstanceError("rows", f"{source}: a row bound of +inf below or -inf above cannot hold")
    has_lo, has_hi = np.isfinite(lo), np.isfinite(hi)
    eq = has_lo & has_hi & (lo == hi)
    rng = has_lo & has_hi & ~eq
    le = has_hi & ~has_lo
    ge = has_lo & ~has_hi
    free = ~has_lo & ~has_hi
    # <= rows in the model's row order: a range gives its upper row, then its negated lower row
    n_le = le.astype(np.int64) + ge + 2 * rng
    src = np.repeat(np.arange(m), n_le)
    first = np.concatenate([[0], np.cumsum(n_le)[:-1]]) if m else np.zeros(0, dtype=np.int64)
    second = np.zeros(src.size, dtype=bool)
    second[first[rng] + 1] = True
    sign = np.where(ge[src] | second, -1.0, 1.0)
    b_le = np.where(sign > 0, hi[src], -lo[src])
    A_le = sp.diags(sign) @ A[src] if src.size else sp.csr_matrix((0, A.shape[1]))
    eq_idx = np.flatnonzero(eq)
    eq_pos = np.full(m, -1)
    eq_pos[eq_idx] = np.arange(eq_idx.size)
    kinds = np.select([eq, rng, le, ge], ["eq", "range", "le", "ge"], "free")
    record = []
    for i in range(m):
        k = kinds[i]
        if k == "eq":
            rows = [("eq", int(eq_pos[i]), 1)]
        elif k == "free":
            rows = []
        else:
            f = int(first[i])
            rows = [("le", f, int(sign[f]))] + ([("le", f + 1, -1)] if k == "range" else [])
        record.append({"name": row_names[i], "kind": str(k), "rows": rows})
    dropped = [row_names[i] for i in np.flatnonzero(free)]
    return sp.csr_matrix(A_le), b_le, A[eq_idx], lo[eq_idx], record, dropped


def program_from_rows(*, names, lb, ub, integer, c, A, row_lower, row_upper, Q=None, const: float = 0.0,
                      sense: str = "min", row_names=None, binary_expansion: bool = False,
                      source: str = "model", model_name: str | None = None) -> ModelProgram:
    """Return the :class:`ModelProgram` of ``sense x'Qx + c'x + const`` s.t. ``row_lower <= A x <= row_upper``.

    Parameters
    ----------
    names : sequence of str
        Model variable names (length ``n``).
    lb, ub : (n,) arrays
        Variable bounds (``+-inf`` allowed).
    integer : (n,) bool array
        Which variables are integer (the others are continuous).
    c : (n,) array
    A : (m, n) matrix, dense or sparse (kept sparse)
    row_lower, row_upper : (m,) arrays
    Q : (n, n) matrix, optional
        Quadratic part ``x'Qx`` (any square matrix).
    const : float
    sense : {"min", "max"}
    row_names : sequence of str, optional (default ``r0, r1, ...``)
    binary_expansion : bool
        Write bounded general integers with bits (see the module docstring).
    source : str
        What the model is (a file name, "Pyomo model"...) for error messages.
    model_name : str, optional
        The program's name (``program.name``).

    Raises
    ------
    InvalidInstanceError
        Naming refused variables, empty domains or contradictory row bounds.
    """
    names = [str(s) for s in names]
    n = len(names)
    A = sp.csr_matrix(A, dtype=float) if A is not None else sp.csr_matrix((0, n))
    m = A.shape[0]
    row_names = [f"r{i}" for i in range(m)] if row_names is None else [str(s) for s in row_names]
    T, t0, bit_names, fixed, expanded = _classify_variables(names, lb, ub, integer, binary_expansion, source)
    c = np.asarray(c, dtype=float).reshape(-1)
    Qb = None
    const = float(const) + float(c @ t0)
    identity = not fixed.any() and not expanded  # every column is a bit, in order: T is the identity
    cb = c.copy() if identity else np.asarray(T.T @ c).reshape(-1)
    if Q is not None:
        Q = sp.csr_matrix(Q, dtype=float)
        if Q.nnz:
            Qt0 = np.asarray((Q + Q.T) @ t0).reshape(-1)
            const += float(t0 @ (Q @ t0))
            cb = cb + np.asarray(T.T @ Qt0).reshape(-1)
            Qb = sp.csr_matrix(T.T @ Q @ T)
            Qb.eliminate_zeros()
            if not Qb.nnz:
                Qb = None
    shift = np.asarray(A @ t0).reshape(-1)
    A_le, b_le, A_eq, b_eq, record, dropped = _canonical_rows(A, np.asarray(row_lower, dtype=float) - shift,
                                                              np.asarray(row_upper, dtype=float) - shift,
                                                              row_names, source)
    if not identity:
        A_le, A_eq = sp.csr_matrix(A_le @ T), sp.csr_matrix(A_eq @ T)
    mm = ModelMap(tuple(names), sp.csr_matrix(T), t0, np.asarray(integer, dtype=bool))
    info = {"model_name": model_name or source, "source": source, "model_map": mm, "constraints": record,
            "dropped_rows": dropped, "fixed": {names[i]: float(t0[i]) for i in np.flatnonzero(fixed)},
            "binary_expansion": expanded,
            "n_added_bits": sum(len(v) for v in expanded.values()) - len(expanded)}
    return ModelProgram(c=cb, Q=Qb, const=const, sense=sense, A_le=A_le, b_le=b_le, A_eq=A_eq, b_eq=b_eq,
                        names=tuple(bit_names), info=info)
