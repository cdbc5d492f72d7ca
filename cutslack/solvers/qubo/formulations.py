"""Penalty formulations turning a :class:`~cutslack.binary.BinaryProgram` into a :class:`~cutslack.binary.QUBO`.

Two baselines, each returning ``(qubo, inverse)`` where ``inverse`` is a
:class:`FormulationInverse` that maps QUBO bit vectors back to the program's bits:

* :func:`penalty_qubo` — the slack-bit penalty formulation other toolkits use.  Every
  inequality ``a'x <= b`` becomes ``P (a'x + s - b~)^2`` with an integer slack
  ``s = sum_k c_k y_k`` in the bounded-coefficient log encoding ``c = (1, 2, 4, ...,
  2^(p-1), U - 2^p + 1)``, ``p = floor(log2 U)``, i.e. ``floor(log2 U) + 1`` bits for a slack
  range ``[0, U]``.  How ``U``, ``b~`` and the default ``P`` are chosen is the *rule*:

  ``"cutslack"`` (default)
      ``b~ = min(floor(b), max a'x)``, ``U = b~ - min a'x``.  A row with ``b >= max a'x``
      can never be violated and is dropped (no bits, no penalty); ``U == 0`` is penalised
      as the equality ``a'x = b~``; ``U < 0`` (no bit vector satisfies it) raises
      :class:`~cutslack.errors.InvalidInstanceError`.  ``penalty="auto"`` is
      ``P = 1 + sum |U_ij|`` over the objective's QUBO: it exceeds the objective's range,
      so with integer constraint data every infeasible vector has a higher energy than
      every feasible one.
  ``"qiskit"``
      Qiskit Optimization's ``QuadraticProgramToQubo`` bit for bit: rows matching the
      slack-free patterns of ``LinearInequalityToPenalty`` (``x - y <= 0``, ``sum x <= 1``,
      ``-sum x <= -(n-1)``) get ``P (x - xy)``, ``P sum_{i<j} x_i x_j`` and
      ``P sum_{i<j} (1 - x_i)(1 - x_j)``; other rows get ``b~ = floor(b)``,
      ``U = b~ - min a'x`` (no cap, no dropping; ``U <= 0`` is the equality ``a'x = b~``).
      ``penalty="auto"`` is its ``1 + (range of the linear part) + (range of the quadratic
      part)`` of the objective, or ``1e5`` when a constraint has a non-integer coefficient.
  ``"dimod"``
      dimod's ``cqm_to_bqm`` / ``BinaryQuadraticModel.add_linear_inequality_constraint``
      with ``slack_method="log2"``: ``b~ = min(b, sum of positive a)``, rows with
      ``b >= sum of positive a`` dropped, ``U = int(b~ - min a'x)`` (``U == 0``: equality),
      and ``penalty="auto"`` is ``10 * max |bias|`` of the objective (``cqm_to_bqm``'s rule).

  Equalities always get ``P (a'x - b)^2`` and conflict pairs ``P x_i x_j`` (no slack).
  Non-integer constraint data: the slack still takes integer values, so a feasible
  ``x`` with fractional ``b - a'x`` keeps a penalty of at most ``P/4``; scale such rows to
  integers for an exact formulation.

* :func:`unbalanced_qubo` — unbalanced penalization (Montanez-Barrera et al., 2022,
  arXiv:2211.13914): ``a'x <= b`` becomes ``-lambda1 h + lambda2 h^2`` with
  ``h = b - a'x``, no slack bits; equalities and conflicts as above.

The QUBO is always for the minimisation form: a ``max`` objective ``f`` enters as ``-f``.
The first ``n`` QUBO variables are the program's, in order; slack bits follow, row by row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from cutslack.binary import QUBO, BinaryProgram, as_bit_matrix
from cutslack.config import check_memory
from cutslack.errors import InvalidInstanceError

#: bytes per coupling while a squared-row QUBO is assembled (value, row and column index, and the
#: sparse product's intermediate copy)
BYTES_PER_SQUARED_COUPLING = 48

__all__ = ["FormulationInverse", "penalty_qubo", "unbalanced_qubo", "unbalanced_lambdas", "slack_coefficients", "PENALTY_RULES",
           "UNBALANCED_PAPER_LAMBDAS", "UNBALANCED_DEFAULT_LAMBDAS"]

#: names accepted by ``penalty_qubo(rule=...)``
PENALTY_RULES = ("cutslack", "qiskit", "dimod")

#: (lambda1, lambda2) tuned for knapsack in Montanez-Barrera et al. (2022)
UNBALANCED_PAPER_LAMBDAS = (0.96, 0.0371)
#: the normalised (lambda1, lambda2) :func:`unbalanced_lambdas` uses by default
UNBALANCED_DEFAULT_LAMBDAS = (0.96, 0.96)

#: above this many QUBO variables the formulation is assembled as a sparse matrix
DENSE_LIMIT = 3000


@dataclass(frozen=True)
class FormulationInverse:
    """What maps QUBO bit vectors back to the BinaryProgram's bits.

    Attributes
    ----------
    n_original : int
        Variables of the BinaryProgram; they are always the first ``n_original`` QUBO bits.
    n_qubo : int
        Variables of the QUBO (original plus slack bits).
    slack_slices : tuple of (start, stop)
        Per inequality row, the QUBO positions of its slack bits (``start == stop`` when
        the row has none).
    info : dict
        Formulation details.  :func:`penalty_qubo` records ``formulation``, ``rule``, ``penalty``
        and per inequality row its ``slack_coefficients``, ``row_kinds`` (``"slack"``,
        ``"equality"``, ``"dropped"`` or a Qiskit pattern) and ``targets`` (``b~``, or None).
    """

    n_original: int
    n_qubo: int
    slack_slices: tuple = ()
    info: dict = field(default_factory=dict)

    @property
    def n_slack(self) -> int:
        """Number of slack bits."""
        return self.n_qubo - self.n_original

    def original_bits(self, X) -> np.ndarray:
        """Return the program's bits of one QUBO bit vector ``(n_qubo,)`` or a batch ``(k, n_qubo)``."""
        X2, single = as_bit_matrix(np.asarray(X), self.n_qubo, field_name="X")
        out = np.asarray(X2[:, : self.n_original], dtype=np.uint8).copy()
        return out[0] if single else out


def slack_coefficients(upper: int) -> np.ndarray:
    """Return the bounded-coefficient log encoding of an integer slack in ``[0, upper]``.

    ``(1, 2, 4, ..., 2^(p-1), upper - 2^p + 1)`` with ``p = floor(log2 upper)``: every integer in
    ``[0, upper]`` is a sum of a subset, and no subset exceeds ``upper``.  Empty for ``upper <= 0``.

    >>> slack_coefficients(10).tolist()
    [1, 2, 4, 3]
    """
    upper = int(upper)
    if upper <= 0:
        return np.zeros(0, dtype=np.int64)
    p = upper.bit_length() - 1  # floor(log2 upper), exact for big integers
    return np.array([1 << k for k in range(p)] + [upper - (1 << p) + 1], dtype=np.int64)


# --- shared assembly ------------------------------------------------------------------------------

def _rows(A):
    """Yield ``(columns, values)`` of the nonzeros of each row of a dense or sparse matrix."""
    if sp.issparse(A):
        A = sp.csr_matrix(A)
        for i in range(A.shape[0]):
            lo, hi = A.indptr[i], A.indptr[i + 1]
            yield A.indices[lo:hi].copy(), A.data[lo:hi].copy()
    else:
        A = np.asarray(A)
        for i in range(A.shape[0]):
            cols = np.flatnonzero(A[i])
            yield cols, A[i, cols]


def _is_integral(values) -> bool:
    values = np.asarray(values, dtype=float)
    return bool(np.all(values == np.round(values)))


class _QuboBuilder:
    """Accumulates ``x'Qx + c'x + const`` over ``n_qubo`` bits from weighted squared residuals."""

    def __init__(self, bp: BinaryProgram, n_qubo: int):
        self.n_qubo = n_qubo
        self.sparse = n_qubo > DENSE_LIMIT or (bp.Q is not None and sp.issparse(bp.Q))
        obj = bp.objective_qubo()
        U = sp.coo_matrix(obj.U)
        self.objective_U = obj.U
        self.offset = obj.offset
        self.rows, self.cols, self.vals = [U.row], [U.col], [U.data]
        self.linear = np.zeros(n_qubo)

    def add_squares(self, V, rhs, weights):
        """Add ``sum_r weights[r] (V[r] y - rhs[r])^2`` for a (k, n_qubo) coefficient matrix ``V``."""
        if V.shape[0] == 0:
            return
        V = sp.csr_matrix(V)
        w = np.asarray(weights, dtype=float)
        check_squared_rows(V, w)
        WV = sp.diags(w) @ V
        G = sp.coo_matrix(V.T @ WV)
        self.rows.append(G.row)
        self.cols.append(G.col)
        self.vals.append(G.data)
        self.linear -= 2.0 * np.asarray(V.T @ (w * rhs)).reshape(-1)
        self.offset += float(np.sum(w * rhs * rhs))

    def add_linear(self, V, rhs, weights):
        """Add ``sum_r weights[r] (V[r] y - rhs[r])`` for a (k, n_qubo) coefficient matrix ``V``."""
        if V.shape[0] == 0:
            return
        w = np.asarray(weights, dtype=float)
        self.linear += np.asarray(sp.csr_matrix(V).T @ w).reshape(-1)
        self.offset -= float(np.sum(w * rhs))

    def add_pairs(self, pairs, weights, *, complement=False):
        """Add ``w x_i x_j`` per pair (``w (1 - x_i)(1 - x_j)`` with ``complement``)."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if pairs.shape[0] == 0:
            return
        w = np.broadcast_to(np.asarray(weights, dtype=float), (pairs.shape[0],))
        self.rows.append(pairs[:, 0])
        self.cols.append(pairs[:, 1])
        self.vals.append(w)
        if complement:
            np.subtract.at(self.linear, pairs[:, 0], w)
            np.subtract.at(self.linear, pairs[:, 1], w)
            self.offset += float(w.sum())

    def build(self, names) -> QUBO:
        n = self.n_qubo
        rows = np.concatenate(self.rows + [np.arange(n)])
        cols = np.concatenate(self.cols + [np.arange(n)])
        vals = np.concatenate(self.vals + [self.linear])
        M = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
        return QUBO(M if self.sparse else M.toarray(), self.offset, names=names)


def check_squared_rows(A, weights) -> None:
    """Raise ProblemTooLargeError before squaring the rows of ``A`` with a non-zero weight when the
    couplings ``A'WA`` (a row with k non-zeros couples k² pairs) would not fit the memory limit.

    A dense row of 10^5 items squares to 10^10 couplings (tens of GiB): no QUBO sampler can take
    it, so the request is refused up front instead of dying in the sparse product.
    """
    A = sp.csr_matrix(A)
    w = np.broadcast_to(np.asarray(weights, dtype=float), (A.shape[0],))
    nnz = np.diff(A.indptr)[w != 0].astype(np.float64)
    pairs = float(np.sum(nnz * nnz))
    check_memory("QUBO of the squared constraint rows", f"{A.shape[1]:,} variables, {pairs:,.0f} couplings",
                 pairs * BYTES_PER_SQUARED_COUPLING)


def _coefficient_matrix(entries, n_qubo):
    """Sparse (k, n_qubo) matrix from a list of ``(columns, values)`` rows."""
    if not entries:
        return sp.csr_matrix((0, n_qubo))
    indptr = np.cumsum([0] + [len(c) for c, _ in entries])
    cols = np.concatenate([np.asarray(c, dtype=np.int64) for c, _ in entries])
    vals = np.concatenate([np.asarray(v, dtype=float) for _, v in entries])
    return sp.csr_matrix((vals, cols, indptr), shape=(len(entries), n_qubo))


def _objective_scale(bp: BinaryProgram) -> float:
    """Return ``sum |U_ij|`` of the objective's QUBO (an upper bound on its range)."""
    U = bp.objective_qubo().U
    data = U.data if sp.issparse(U) else U
    return float(np.abs(data).sum())


def _auto_penalty(bp: BinaryProgram, rule: str) -> float:
    """Return the default penalty weight of ``rule`` (see the module docstring)."""
    U = bp.objective_qubo().U
    if rule == "dimod":
        Uc = sp.coo_matrix(U)
        diag = Uc.row == Uc.col
        lin, quad = Uc.data[diag], Uc.data[~diag]
        biases = [-lin.min(), lin.max()] if lin.size else [0.0]
        if quad.size:
            biases += [-quad.min(), quad.max()]
        max_bias = max(biases)
        return float(10.0 * max_bias) if max_bias else 1.0
    if rule == "qiskit":
        A_le, b_le, A_eq, b_eq = bp.dense_constraints()
        terms = np.concatenate([A_le.ravel(), b_le, A_eq.ravel(), b_eq])
        if not _is_integral(terms):
            return 1e5
    return 1.0 + _objective_scale(bp)


def _check_penalty(value, name) -> float:
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise InvalidInstanceError(name, f"must be a positive finite number, got {value!r}")
    return value


def _qiskit_pattern(cols, vals, b):
    """Return the slack-free pattern of Qiskit's LinearInequalityToPenalty a row matches, or None."""
    k = len(cols)
    if k == 2 and b == 0 and vals.min() == -1.0 and vals.max() == 1.0:
        return "x<=y"
    if k >= 2 and b == 1 and np.all(vals == 1.0):
        return "sum<=1"
    if k >= 2 and b == -(k - 1) and np.all(vals == -1.0):
        return "sum>=n-1"
    return None


# --- slack-bit penalty ----------------------------------------------------------------------------

def penalty_qubo(bp: BinaryProgram, *, penalty: float | str = "auto", rule: str = "cutslack"):
    """Return ``(QUBO, FormulationInverse)`` of the slack-bit penalty formulation of ``bp``.

    The energy of a QUBO vector ``(x, y)`` (program bits ``x``, slack bits ``y``) is::

        sigma f(x) + P sum_i (a_i'x + c_i'y_i - b~_i)^2 + P sum_eq (a'x - b)^2 + P sum_conflicts x_i x_j

    with ``sigma = -1`` for ``max`` and ``+1`` for ``min``; rows the rule drops or matches with
    a slack-free pattern contribute as described in the module docstring.

    Parameters
    ----------
    bp : BinaryProgram
    penalty : float or "auto"
        The weight ``P``; ``"auto"`` applies the rule's own default.
    rule : {"cutslack", "qiskit", "dimod"}
        Whose slack counting and default penalty to reproduce.

    Examples
    --------
    >>> from cutslack.problems import Knapsack
    >>> qubo, inv = penalty_qubo(Knapsack([10, 7, 4], [[5, 4, 3]], [7]).to_binary())
    >>> inv.n_qubo, inv.slack_slices
    (6, ((3, 6),))
    """
    if rule not in PENALTY_RULES:
        raise ValueError(f"unknown penalty rule {rule!r}; valid rules: {', '.join(PENALTY_RULES)}")
    P = _auto_penalty(bp, rule) if (isinstance(penalty, str) and penalty == "auto") else _check_penalty(penalty, "penalty")
    n = bp.n
    squares, rhs_sq = [], []              # rows penalised as P (v'y - rhs)^2
    pairs, complement_pairs = [], []      # slack-free patterns (qiskit)
    linear_entries, linear_rhs = [], []   # P (v'y - rhs) terms (qiskit x <= y)
    slices, coefficient_log, kinds, targets = [], [], [], []
    next_bit = n
    for i, (cols, vals) in enumerate(_rows(bp.A_le)):
        b = float(bp.b_le[i])
        lo = float(vals[vals < 0].sum())
        hi = float(vals[vals > 0].sum())
        kind, coeffs, target_rhs = "slack", np.zeros(0, dtype=np.int64), None
        if rule == "qiskit" and (pattern := _qiskit_pattern(cols, vals, b)) is not None:
            kind = pattern
            if pattern == "x<=y":
                x_col, y_col = cols[vals > 0][0], cols[vals < 0][0]
                linear_entries.append((np.array([x_col]), np.array([1.0])))
                linear_rhs.append(0.0)
                pairs.append((min(x_col, y_col), max(x_col, y_col), -1.0))
            else:
                iu, ju = np.triu_indices(len(cols), 1)
                target = complement_pairs if pattern == "sum>=n-1" else pairs
                target.extend(zip(cols[iu], cols[ju], np.ones(len(iu))))
        else:
            if rule == "cutslack":
                if b >= hi:
                    kind, target_rhs = "dropped", None
                else:
                    target_rhs = math.floor(b)
                    if target_rhs < lo:
                        raise InvalidInstanceError("b_le", f"row {i}: no bit vector satisfies it "
                                                           f"(b = {b:g} < min a'x = {lo:g})")
                    upper = int(math.floor(target_rhs - lo))
            elif rule == "dimod":
                if b >= hi:
                    kind, target_rhs = "dropped", None
                else:
                    target_rhs = b
                    if target_rhs < lo:
                        raise InvalidInstanceError("b_le", f"row {i}: no bit vector satisfies it "
                                                           f"(b = {b:g} < min a'x = {lo:g})")
                    upper = int(target_rhs - lo)
            else:  # qiskit, general row
                target_rhs = math.floor(b)
                upper = int(math.floor(target_rhs - lo)) if target_rhs - lo > 0 else 0
            if target_rhs is not None:
                coeffs = slack_coefficients(upper)
                kind = "slack" if coeffs.size else "equality"
                squares.append((np.concatenate([cols, np.arange(next_bit, next_bit + coeffs.size)]),
                                np.concatenate([vals, coeffs.astype(float)])))
                rhs_sq.append(float(target_rhs))
        slices.append((next_bit, next_bit + coeffs.size))
        coefficient_log.append(tuple(int(c) for c in coeffs))
        kinds.append(kind)
        targets.append(None if target_rhs is None else float(target_rhs))
        next_bit += coeffs.size
    n_qubo = next_bit
    builder = _QuboBuilder(bp, n_qubo)
    builder.add_squares(_coefficient_matrix(squares, n_qubo), np.array(rhs_sq), np.full(len(squares), P))
    builder.add_linear(_coefficient_matrix(linear_entries, n_qubo), np.array(linear_rhs), np.full(len(linear_entries), P))
    _add_equalities_and_conflicts(builder, bp, P, P)
    if pairs:
        pr = np.array(pairs)
        builder.add_pairs(pr[:, :2].astype(np.int64), P * pr[:, 2])
    if complement_pairs:
        pr = np.array(complement_pairs)
        builder.add_pairs(pr[:, :2].astype(np.int64), P * pr[:, 2], complement=True)
    names = list(bp.names) + [f"slack_le{i}_{k}" for i, (s, t) in enumerate(slices) for k in range(t - s)]
    inverse = FormulationInverse(n, n_qubo, tuple(slices), {
        "formulation": "penalty", "rule": rule, "penalty": P, "slack_coefficients": tuple(coefficient_log),
        "row_kinds": tuple(kinds), "targets": tuple(targets)})
    return builder.build(names), inverse


def _add_equalities_and_conflicts(builder: _QuboBuilder, bp: BinaryProgram, penalty_eq: float, penalty_conflict: float):
    """Add ``penalty_eq (a'x - b)^2`` per equality and ``penalty_conflict x_i x_j`` per conflict pair."""
    eq = [(cols, vals) for cols, vals in _rows(bp.A_eq)]
    builder.add_squares(_coefficient_matrix(eq, builder.n_qubo), bp.b_eq, np.full(len(eq), penalty_eq))
    if bp.n_conflicts:
        c = np.sort(bp.conflicts, axis=1)
        builder.add_pairs(c, penalty_conflict)


# --- unbalanced penalization ----------------------------------------------------------------------

def _per_row(value, m: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=float), (m,)).copy() if np.ndim(value) == 0 else \
        np.asarray(value, dtype=float).reshape(-1)
    if arr.shape != (m,):
        raise InvalidInstanceError(name, f"expected a scalar or {m} values (one per inequality), got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InvalidInstanceError(name, "must be finite and non-negative")
    return arr


def unbalanced_lambdas(bp: BinaryProgram, normalised=None) -> tuple[np.ndarray, np.ndarray]:
    """Return the default ``(lambda1, lambda2)`` per inequality row of :func:`unbalanced_qubo`.

    The lambdas are set in normalised units — the objective divided by
    ``c_max = max_j |objective coefficient_j|`` and row ``i``'s residual ``h_i`` divided by
    ``w_i = mean |a_ij|`` over its nonzeros — and converted back:
    ``lambda1_i = l1 c_max / w_i``, ``lambda2_i = l2 c_max / w_i^2``.  ``normalised = (l1, l2)``
    defaults to :data:`UNBALANCED_DEFAULT_LAMBDAS` ``(0.96, 0.96)``: the paper's
    ``lambda1 = 0.96`` and a ``lambda2`` that puts the penalty's minimum (the slack the form
    prefers, ``l1 / (2 l2)``) at half an average coefficient.  The paper's own pair
    :data:`UNBALANCED_PAPER_LAMBDAS` ``(0.96, 0.0371)`` prefers about 13 average coefficients
    of unused capacity in these units, which leaves knapsacks far from full.
    """
    l1, l2 = UNBALANCED_DEFAULT_LAMBDAS if normalised is None else normalised
    m = bp.m_le
    lin = np.abs(bp.objective_qubo().linear)
    top = float(lin.max()) if lin.size and lin.max() > 0 else 1.0
    unit = np.ones(m)
    for i, (_, vals) in enumerate(_rows(bp.A_le)):
        mean_a = float(np.abs(vals).mean()) if vals.size else 0.0
        unit[i] = mean_a if mean_a > 0 else 1.0
    return l1 * top / unit, l2 * top / unit**2


def unbalanced_qubo(bp: BinaryProgram, *, lambdas="auto", lambda1=None, lambda2=None,
                    penalty_eq: float | str = "auto", penalty_conflict: float | str = "auto"):
    """Return ``(QUBO, FormulationInverse)`` of the unbalanced penalization of ``bp`` (no slack bits).

    The energy of a bit vector ``x`` is::

        sigma f(x) + sum_i (-lambda1_i h_i + lambda2_i h_i^2) + P_eq sum_eq (a'x - b)^2
                   + P_conflict sum_conflicts x_i x_j,     h_i = b_i - a_i'x

    with ``sigma = -1`` for ``max``.  The penalty is not zero on every feasible ``x`` and can
    be negative, so the QUBO minimum need not be the program's optimum; the formulation
    trades that for needing no slack bits.

    Parameters
    ----------
    bp : BinaryProgram
    lambdas : "auto" or (lambda1, lambda2)
        Scalars or per-inequality arrays; ``"auto"`` gives :func:`unbalanced_lambdas`.
    lambda1, lambda2 : float or (m_le,) array, optional
        Override the corresponding entry of ``lambdas``.
    penalty_eq, penalty_conflict : float or "auto"
        Weights of the equality and conflict penalties (``"auto"``: ``1 + sum |U_ij|`` of the
        objective, as in :func:`penalty_qubo`).
    """
    m = bp.m_le
    if isinstance(lambdas, str):
        if lambdas != "auto":
            raise ValueError(f"lambdas must be 'auto' or a pair (lambda1, lambda2), got {lambdas!r}")
        l1, l2 = unbalanced_lambdas(bp)
    else:
        try:
            l1, l2 = lambdas
        except (TypeError, ValueError):
            raise ValueError("lambdas must be 'auto' or a pair (lambda1, lambda2)") from None
    l1 = _per_row(l1 if lambda1 is None else lambda1, m, "lambda1")
    l2 = _per_row(l2 if lambda2 is None else lambda2, m, "lambda2")
    auto = 1.0 + _objective_scale(bp)
    P_eq = auto if (isinstance(penalty_eq, str) and penalty_eq == "auto") else _check_penalty(penalty_eq, "penalty_eq")
    P_conf = auto if (isinstance(penalty_conflict, str) and penalty_conflict == "auto") else \
        _check_penalty(penalty_conflict, "penalty_conflict")
    n = bp.n
    builder = _QuboBuilder(bp, n)
    A = sp.csr_matrix(bp.A_le)
    # -lambda1 (b - a'x) = lambda1 (a'x - b);  lambda2 (b - a'x)^2 = lambda2 (a'x - b)^2
    builder.add_linear(A, bp.b_le, l1)
    builder.add_squares(A, bp.b_le, l2)
    _add_equalities_and_conflicts(builder, bp, P_eq, P_conf)
    inverse = FormulationInverse(n, n, tuple((n, n) for _ in range(m)), {
        "formulation": "unbalanced", "lambda1": l1, "lambda2": l2, "penalty_eq": P_eq,
        "penalty_conflict": P_conf})
    return builder.build(bp.names), inverse
