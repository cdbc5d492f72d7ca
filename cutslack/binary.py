"""Binary programs with explicit constraints (:class:`BinaryProgram`) and unconstrained
quadratic binary models in minimisation form (:class:`QUBO`).

A :class:`BinaryProgram` is what a combinatorial :class:`~cutslack.problems.base.Problem`
maps to with ``to_binary()``::

    min/max  x'Qx + c'x + const   over x in {0,1}^n
    s.t.     A_le x <= b_le,   A_eq x == b_eq,   x_i x_j == 0 for (i, j) in conflicts

Nothing is penalised here; the formulations in :mod:`cutslack.solvers.qubo` turn it into a
:class:`QUBO` (``min x'Ux + offset``, ``U`` upper triangular).

Bit vectors are indexed like ``names``; ``decode(bits)`` maps one bit vector back to the
problem's native solution.  ``decode`` should be a picklable callable (a module-level
function or :func:`functools.partial`) so programs travel to worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from cutslack.errors import BackendUnavailableError, InvalidInstanceError
from cutslack.gpu.backend import device_quadratic_form, get_array_module

__all__ = ["BinaryProgram", "QUBO", "as_bit_matrix", "fold_upper"]


def as_bit_matrix(X, n: int | None = None, *, field_name: str = "x"):
    """Return ``X`` as a 2-D array of bits ``(k, n)`` and whether the input was a single vector."""
    xp = get_array_module(X)
    X = xp.asarray(X)
    single = X.ndim == 1
    X2 = X.reshape(1, -1) if single else X
    if X2.ndim != 2:
        raise ValueError(f"{field_name}: expected a bit vector or a (k, n) batch, got shape {X.shape}")
    if n is not None and X2.shape[1] != n:
        raise ValueError(f"{field_name}: expected {n} variables, got {X2.shape[1]}")
    return X2, single


def _matrix(M, shape, field_name, *, allow_sparse=True):
    """Validate and return a dense float array or CSR matrix of the given shape."""
    if M is None:
        return np.zeros(shape) if not allow_sparse else sp.csr_matrix(shape, dtype=float)
    if sp.issparse(M):
        M = sp.csr_matrix(M, dtype=float)
        data = M.data
    else:
        M = np.array(M, dtype=float)
        if M.ndim == 1 and len(shape) == 2 and shape[0] == 1:
            M = M.reshape(1, -1)
        data = M
    if M.shape != tuple(shape):
        raise InvalidInstanceError(field_name, f"expected shape {tuple(shape)}, got {M.shape}")
    if not np.all(np.isfinite(data)):
        raise InvalidInstanceError(field_name, "contains NaN or infinite entries")
    return M


def fold_upper(Q):
    """Return the upper-triangular matrix ``U`` with ``x'Ux == x'Qx`` for all binary ``x``.

    ``U_ii = Q_ii`` and ``U_ij = Q_ij + Q_ji`` for ``i < j``.  Dense in, dense out; sparse in,
    CSR out.
    """
    if sp.issparse(Q):
        Q = sp.csr_matrix(Q, dtype=float)
        U = sp.triu(Q, k=0) + sp.triu(Q.T, k=1)
        U = sp.csr_matrix(U)
        U.sum_duplicates()
        U.eliminate_zeros()
        return U
    Q = np.asarray(Q, dtype=float)
    return np.triu(Q) + np.triu(Q.T, 1)


#: a sparse quadratic form converts this many bytes of float64 samples at a time
_SPARSE_CHUNK_BYTES = 64 * 2**20


def _quad_form(M, X):
    """Row-wise ``x'Mx`` for a dense/sparse ``M`` and a (k, n) batch ``X`` (any numeric dtype).

    A sparse ``M`` is applied to a few samples at a time (about 64 MiB of float64), so a batch
    of long bit vectors is never converted to float64 all at once.
    """
    if sp.issparse(M):
        k, n = X.shape
        step = max(1, _SPARSE_CHUNK_BYTES // max(8 * n, 1))
        out = np.empty(k)
        for a in range(0, k, step):
            Xc = np.asarray(X[a:a + step], dtype=float)
            out[a:a + step] = (np.asarray((M @ Xc.T).T) * Xc).sum(axis=1)
        return out
    X = np.asarray(X, dtype=float)
    MX = X @ M.T
    return (MX * X).sum(axis=1)


def _mat_batch(M, X):
    """``(M @ X.T).T`` for dense or sparse ``M`` and a (k, n) batch ``X``: one row per sample."""
    if sp.issparse(M):
        return np.asarray((M @ X.T).T)
    return X @ M.T


@dataclass(frozen=True, eq=False)
class BinaryProgram:
    """A quadratic objective over binary variables with explicit linear and conflict constraints.

    Parameters
    ----------
    Q : (n, n) array or sparse matrix, optional
        Quadratic part ``x'Qx`` (any square matrix; only ``x'Qx`` matters).
    c : (n,) array
        Linear part.
    const : float
        Constant.
    sense : {"min", "max"}
    A_le, b_le : inequality constraints ``A_le x <= b_le`` (dense or sparse).
    A_eq, b_eq : equality constraints ``A_eq x == b_eq``.
    conflicts : (k, 2) int array
        Pairs ``(i, j)`` with ``x_i x_j == 0`` (MIS edges).
    names : variable names (default ``x0, x1, ...``).
    decode : callable mapping one bit vector to the native solution (default: identity).
    """

    c: np.ndarray
    Q: Any = None
    const: float = 0.0
    sense: str = "min"
    A_le: Any = None
    b_le: Any = None
    A_eq: Any = None
    b_eq: Any = None
    conflicts: Any = None
    names: tuple = None
    decode: Callable | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        c = np.array(self.c, dtype=float).reshape(-1)
        n = c.shape[0]
        if not np.all(np.isfinite(c)):
            raise InvalidInstanceError("c", "contains NaN or infinite entries")
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("c", c)
        if self.sense not in ("min", "max"):
            raise InvalidInstanceError("sense", f"must be 'min' or 'max', got {self.sense!r}")
        if not np.isfinite(self.const):
            raise InvalidInstanceError("const", "must be finite")
        set_("const", float(self.const))
        set_("Q", None if self.Q is None else _matrix(self.Q, (n, n), "Q"))
        for A, b, tag in (("A_le", "b_le", "le"), ("A_eq", "b_eq", "eq")):
            Av, bv = getattr(self, A), getattr(self, b)
            if Av is None and bv is None:
                set_(A, np.zeros((0, n)))
                set_(b, np.zeros(0))
                continue
            if Av is None or bv is None:
                raise InvalidInstanceError(A, f"{A} and {b} must be given together")
            bv = np.array(bv, dtype=float).reshape(-1)
            if not np.all(np.isfinite(bv)):
                raise InvalidInstanceError(b, "contains NaN or infinite entries")
            set_(b, bv)
            set_(A, _matrix(Av, (bv.shape[0], n), A))
        conf = np.zeros((0, 2), dtype=np.int64) if self.conflicts is None else np.array(self.conflicts, dtype=np.int64).reshape(-1, 2)
        if conf.size and (conf.min() < 0 or conf.max() >= n):
            raise InvalidInstanceError("conflicts", f"indices must lie in [0, {n})")
        if conf.size and np.any(conf[:, 0] == conf[:, 1]):
            raise InvalidInstanceError("conflicts", "a pair (i, i) is a self-loop")
        set_("conflicts", conf)
        names = tuple(f"x{i}" for i in range(n)) if self.names is None else tuple(str(s) for s in self.names)
        if len(names) != n:
            raise InvalidInstanceError("names", f"expected {n} names, got {len(names)}")
        set_("names", names)

    # --- sizes -------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of binary variables."""
        return self.c.shape[0]

    @property
    def m_le(self) -> int:
        return self.b_le.shape[0]

    @property
    def m_eq(self) -> int:
        return self.b_eq.shape[0]

    @property
    def n_conflicts(self) -> int:
        return self.conflicts.shape[0]

    @property
    def n_constraints(self) -> int:
        return self.m_le + self.m_eq + self.n_conflicts

    # --- scoring -----------------------------------------------------------------------
    def objective(self, X) -> np.ndarray | float:
        """Return ``x'Qx + c'x + const`` for one bit vector or each row of a batch."""
        X2, single = as_bit_matrix(X, self.n)
        X2 = np.asarray(X2, dtype=float)
        val = X2 @ self.c + self.const
        if self.Q is not None:
            val = val + _quad_form(self.Q, X2)
        return float(val[0]) if single else val

    #: a BinaryProgram scores itself like a Problem (``make_result`` re-scores its bit vectors);
    #: its native solutions are its bit vectors
    evaluate = objective
    known_optimum = None
    family = "binary"
    name = "binary-program"

    def violation(self, X) -> np.ndarray:
        """Return the violation of every constraint (>= 0): inequalities, then equalities
        (absolute residual), then conflicts; shape ``(n_constraints,)`` or ``(k, n_constraints)``."""
        X2, single = as_bit_matrix(X, self.n)
        X2 = np.asarray(X2, dtype=float)
        parts = [
            np.maximum(_mat_batch(self.A_le, X2) - self.b_le, 0.0),
            np.abs(_mat_batch(self.A_eq, X2) - self.b_eq),
            X2[:, self.conflicts[:, 0]] * X2[:, self.conflicts[:, 1]],
        ]
        V = np.concatenate(parts, axis=1)
        return V[0] if single else V

    def is_feasible(self, X, atol: float = 1e-9):
        """Return whether each bit vector satisfies every constraint (within ``atol``)."""
        V = self.violation(X)
        return bool(np.all(V <= atol)) if V.ndim == 1 else np.all(V <= atol, axis=1)

    def decode_bits(self, bits):
        """Return the native solution of one bit vector (identity when no ``decode`` is set)."""
        bits = np.asarray(bits).astype(np.int64).reshape(-1)
        if bits.shape[0] != self.n:
            raise ValueError(f"expected {self.n} bits, got {bits.shape[0]}")
        return bits if self.decode is None else self.decode(bits)

    def objective_qubo(self) -> "QUBO":
        """Return the objective alone as a minimisation QUBO (negated for ``max``), constraints dropped."""
        sign = -1.0 if self.sense == "max" else 1.0
        n = self.n
        if self.Q is None:
            Q = sp.diags(sign * self.c, format="csr") if n > 2000 else np.diag(sign * self.c)
        elif sp.issparse(self.Q):
            Q = sign * self.Q + sp.diags(sign * self.c, format="csr")
        else:
            Q = sign * self.Q + np.diag(sign * self.c)
        return QUBO(Q, sign * self.const, names=self.names)

    def dense_constraints(self):
        """Return ``(A_le, b_le, A_eq, b_eq)`` as dense arrays."""
        d = lambda A: A.toarray() if sp.issparse(A) else np.asarray(A)  # noqa: E731
        return d(self.A_le), self.b_le, d(self.A_eq), self.b_eq

    def __repr__(self) -> str:
        return (f"BinaryProgram(n={self.n}, sense={self.sense!r}, m_le={self.m_le}, m_eq={self.m_eq}, "
                f"conflicts={self.n_conflicts}, quadratic={self.Q is not None})")


class QUBO:
    """Minimise ``x'Ux + offset`` over ``x in {0,1}^n`` with ``U`` upper triangular.

    Parameters
    ----------
    Q : (n, n) array or sparse matrix
        Any square matrix; it is folded to the upper-triangular ``U`` with the same energy
        (``U_ij = Q_ij + Q_ji`` above the diagonal).  Dense input stays dense, sparse input
        (any scipy.sparse format) becomes CSR with sorted indices, duplicate entries summed
        and explicit zeros dropped; a non-square matrix is refused.  A sparse QUBO stays
        sparse everywhere: energies of batches, the Ising form and the samplers' CSR kernels
        never build the dense ``n x n`` matrix.
    offset : float
    names : variable names (default ``x0, x1, ...``).

    Energies accept one bit vector or a ``(k, n)`` batch, as NumPy or CuPy arrays; the
    result is of the same kind.
    """

    __slots__ = ("U", "offset", "names", "_dense_cache", "_density_cache")

    #: a QUBO scores itself like an unconstrained minimisation Problem (what ``make_result``
    #: re-scores sampler answers with): objective = energy, every bit vector feasible
    sense = "min"
    family = "qubo"
    known_optimum = None

    def __init__(self, Q, offset: float = 0.0, names=None):
        if sp.issparse(Q):
            Qm = sp.csr_matrix(Q, dtype=float)
            data = Qm.data
        else:
            Qm = np.asarray(Q, dtype=float)
            data = Qm
        if Qm.ndim != 2 or Qm.shape[0] != Qm.shape[1]:
            raise InvalidInstanceError("Q", f"must be a square matrix, got shape {Qm.shape}")
        if not np.all(np.isfinite(data)):
            raise InvalidInstanceError("Q", "contains NaN or infinite entries")
        if not np.isfinite(offset):
            raise InvalidInstanceError("offset", "must be finite")
        self.U = fold_upper(Qm)
        self.offset = float(offset)
        n = Qm.shape[0]
        self.names = tuple(f"x{i}" for i in range(n)) if names is None else tuple(str(s) for s in names)
        if len(self.names) != n:
            raise InvalidInstanceError("names", f"expected {n} names, got {len(self.names)}")
        self._dense_cache = None
        self._density_cache = None

    # --- construction ------------------------------------------------------------------
    @classmethod
    def from_linear_quadratic(cls, linear, quadratic=None, offset=0.0, names=None) -> "QUBO":
        """Build from a linear vector and an optional quadratic matrix (``x'Qx + c'x + offset``)."""
        c = np.asarray(linear, dtype=float).reshape(-1)
        n = c.shape[0]
        if quadratic is None:
            Q = np.diag(c)
        elif sp.issparse(quadratic):
            Q = sp.csr_matrix(quadratic, dtype=float) + sp.diags(c)
        else:
            Q = np.asarray(quadratic, dtype=float) + np.diag(c)
        if (sp.issparse(Q) and Q.shape != (n, n)) or (not sp.issparse(Q) and Q.shape != (n, n)):
            raise InvalidInstanceError("quadratic", f"expected shape {(n, n)}, got {Q.shape}")
        return cls(Q, offset, names)

    @classmethod
    def from_dict(cls, coefficients: dict, offset: float = 0.0, n: int | None = None) -> "QUBO":
        """Build from ``{(i, j): value}`` (``(i, i)`` linear), integer indices."""
        if n is None:
            n = 1 + max((max(k) for k in coefficients), default=-1)
        from cutslack.config import check_memory

        check_memory("dense QUBO from a dict (n x n)", f"{n} variables", 8.0 * n * n)
        Q = np.zeros((n, n))
        for (i, j), v in coefficients.items():
            Q[i, j] += v
        return cls(Q, offset)

    # --- properties --------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.U.shape[0]

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.U)

    def to_dense(self) -> np.ndarray:
        """Return ``U`` as a dense upper-triangular array (cached)."""
        if self._dense_cache is None:
            self._dense_cache = self.U.toarray() if sp.issparse(self.U) else self.U
        return self._dense_cache

    @property
    def linear(self) -> np.ndarray:
        """The diagonal of ``U`` (the linear coefficients, since ``x_i^2 = x_i``)."""
        return np.asarray(self.U.diagonal()).astype(float)

    def symmetric(self) -> np.ndarray:
        """Return the symmetric off-diagonal coupling ``W`` (``W_ij = U_ij`` for i<j mirrored, zero diagonal)."""
        U = self.to_dense()
        W = np.triu(U, 1)
        return W + W.T

    def symmetric_csr(self) -> sp.csr_matrix:
        """Return :meth:`symmetric` as a CSR matrix with sorted indices, built without densifying."""
        T = sp.triu(self.U, 1, format="csr") if sp.issparse(self.U) else sp.csr_matrix(np.triu(self.U, 1))
        W = (T + T.T).tocsr()
        W.eliminate_zeros()
        W.sort_indices()
        return W

    @property
    def density(self) -> float:
        """The fraction of the ``n (n - 1) / 2`` off-diagonal couplings that are nonzero (0 for n < 2; cached)."""
        if self._density_cache is None:
            n = self.n
            if n < 2:
                off = 0
            elif sp.issparse(self.U):
                off = self.U.nnz - np.count_nonzero(self.U.diagonal())
            else:
                off = np.count_nonzero(self.U) - np.count_nonzero(np.diag(self.U))
            self._density_cache = float(off) / (n * (n - 1) / 2.0) if n >= 2 else 0.0
        return self._density_cache

    def max_abs_coefficient(self) -> float:
        data = self.U.data if sp.issparse(self.U) else self.U
        return float(np.abs(data).max()) if np.size(data) else 0.0

    # --- energies ----------------------------------------------------------------------
    def energy(self, X):
        """Return ``x'Ux + offset`` for one bit vector (a float) or each row of a batch.

        NumPy in gives NumPy out; a CuPy array in is evaluated on the device and gives CuPy out.
        """
        xp = get_array_module(X)
        X2, single = as_bit_matrix(X, self.n)
        if xp is np:
            E = _quad_form(self.U, X2) + self.offset
            return float(E[0]) if single else E
        E = device_quadratic_form(self.U, X2) + self.offset  # CuPy input: evaluated on the device
        return E[0] if single else E

    __call__ = energy
    evaluate = energy

    @property
    def name(self) -> str:
        return f"qubo-n{self.n}"

    @property
    def size(self) -> dict:
        return {"n": self.n}

    def violation(self, X) -> np.ndarray:
        """Return an empty violation vector per bit vector (a QUBO has no constraints)."""
        X2, single = as_bit_matrix(np.asarray(X), self.n)
        V = np.zeros((X2.shape[0], 0))
        return V[0] if single else V

    def is_feasible(self, X, atol: float = 1e-9):
        """Return True for every 0/1 vector of the right length (per row for a batch)."""
        X2, single = as_bit_matrix(np.asarray(X), self.n)
        ok = np.all((X2 == 0) | (X2 == 1), axis=1)
        return bool(ok[0]) if single else ok

    def local_fields(self, x) -> np.ndarray:
        """Return ``dE_i``: the energy change of flipping bit ``i`` of ``x`` (for every ``i``)."""
        x = np.asarray(x, dtype=float).reshape(-1)
        W = self.symmetric_csr() if self.is_sparse else self.symmetric()
        h = self.linear + W @ x
        return (1.0 - 2.0 * x) * h

    # --- Ising ---------------------------------------------------------------------------
    def to_ising(self):
        """Return ``(h, J, offset)`` with ``E = s'Js + h's + offset`` for spins ``s = 2x - 1``.

        ``J`` is strictly upper triangular (dense, or CSR for a sparse QUBO).  This is dimod's
        convention (``x = (1 + s) / 2``); the quantum subpackage documents Qiskit's, where
        ``x = (1 - z) / 2``.
        """
        d = self.linear
        if sp.issparse(self.U):
            Off = sp.triu(self.U, 1).tocsr()
            row = np.asarray(Off.sum(axis=1)).reshape(-1)
            col = np.asarray(Off.sum(axis=0)).reshape(-1)
            J = (Off / 4.0).tocsr()
            total = float(Off.sum())
        else:
            Off = np.triu(self.U, 1)
            row, col = Off.sum(axis=1), Off.sum(axis=0)
            J = Off / 4.0
            total = float(Off.sum())
        h = d / 2.0 + (row + col) / 4.0
        offset = self.offset + d.sum() / 2.0 + total / 4.0
        return h, J, float(offset)

    @classmethod
    def from_ising(cls, h, J, offset: float = 0.0, names=None) -> "QUBO":
        """Inverse of :meth:`to_ising` (``s = 2x - 1``)."""
        h = np.asarray(h, dtype=float).reshape(-1)
        n = h.shape[0]
        Jd = J.toarray() if sp.issparse(J) else np.asarray(J, dtype=float)
        Jd = np.triu(Jd, 1) + np.triu(Jd.T, 1)  # fold to strictly upper
        # s_i s_j = 4 x_i x_j - 2 x_i - 2 x_j + 1 ;  s_i = 2 x_i - 1
        Q = 4.0 * Jd
        lin = 2.0 * h - 2.0 * (Jd.sum(axis=1) + Jd.sum(axis=0))
        const = offset - h.sum() + Jd.sum()
        Q = Q + np.diag(lin)
        return cls(Q, const, names if names is not None else None) if n else cls(np.zeros((0, 0)), const)

    # --- exchange with other packages --------------------------------------------------
    def to_bqm(self):
        """Return a :class:`dimod.BinaryQuadraticModel` (vartype BINARY) with the same energies."""
        try:
            import dimod
        except ImportError as exc:  # pragma: no cover - depends on environment
            raise BackendUnavailableError("dimod", "pip install dimod") from exc
        U = sp.coo_matrix(self.U)
        lin = {self.names[i]: 0.0 for i in range(self.n)}
        quad = {}
        for i, j, v in zip(U.row, U.col, U.data):
            if v == 0:
                continue
            if i == j:
                lin[self.names[i]] += float(v)
            else:
                quad[(self.names[i], self.names[j])] = quad.get((self.names[i], self.names[j]), 0.0) + float(v)
        return dimod.BinaryQuadraticModel(lin, quad, self.offset, dimod.BINARY)

    @classmethod
    def from_bqm(cls, bqm) -> "QUBO":
        """Build from a :class:`dimod.BinaryQuadraticModel` (SPIN models are converted)."""
        try:
            import dimod
        except ImportError as exc:  # pragma: no cover
            raise BackendUnavailableError("dimod", "pip install dimod") from exc
        b = bqm.change_vartype(dimod.BINARY, inplace=False)
        names = list(b.variables)
        n = len(names)
        linear, (irow, icol, qdata), offset = b.to_numpy_vectors(variable_order=names)
        # built sparse, so a large sparse BQM never becomes a dense n x n matrix
        idx = np.arange(n)
        Q = sp.csr_matrix((np.concatenate([np.asarray(linear, dtype=float), np.asarray(qdata, dtype=float)]),
                           (np.concatenate([idx, irow]), np.concatenate([idx, icol]))), shape=(n, n))
        return cls(Q if n > 2000 else Q.toarray(), float(offset), names)

    def to_quadratic_program(self):
        """Return a ``qiskit_optimization.QuadraticProgram`` minimising the same energy."""
        try:
            from qiskit_optimization import QuadraticProgram
        except ImportError as exc:
            raise BackendUnavailableError("qiskit-optimization", "pip install qiskit-optimization") from exc
        qp = QuadraticProgram("qubo")
        for name in self.names:
            qp.binary_var(name)
        U = sp.coo_matrix(self.U)
        lin = np.zeros(self.n)
        quad = {}
        for i, j, v in zip(U.row, U.col, U.data):
            if i == j:
                lin[i] += v
            else:
                quad[(self.names[i], self.names[j])] = quad.get((self.names[i], self.names[j]), 0.0) + float(v)
        qp.minimize(constant=self.offset, linear={self.names[i]: float(lin[i]) for i in range(self.n) if lin[i]},
                    quadratic=quad)
        return qp

    @classmethod
    def from_quadratic_program(cls, qp) -> "QUBO":
        """Build from an unconstrained, all-binary ``QuadraticProgram`` (maximisation is negated)."""
        if qp.linear_constraints or qp.quadratic_constraints:
            raise InvalidInstanceError("quadratic_program", "has constraints; convert it with a formulation first")
        for v in qp.variables:
            if v.vartype.name != "BINARY":
                raise InvalidInstanceError("quadratic_program", f"variable {v.name!r} is not binary")
        obj = qp.objective
        sign = 1.0 if obj.sense.name == "MINIMIZE" else -1.0
        n = qp.get_num_vars()
        # the coefficient matrices can be narrower than n when variables were added after the objective
        quad, lin = sp.coo_matrix(obj.quadratic.coefficients), sp.coo_matrix(obj.linear.coefficients)
        Q = sp.csr_matrix((np.concatenate([quad.data, lin.data]).astype(float),
                           (np.concatenate([quad.row, lin.col]), np.concatenate([quad.col, lin.col]))), shape=(n, n))
        return cls(sign * (Q if n > 2000 else Q.toarray()), sign * float(obj.constant), [v.name for v in qp.variables])

    def __repr__(self) -> str:
        kind = "sparse" if self.is_sparse else "dense"
        return f"QUBO(n={self.n}, {kind}, offset={self.offset:.6g})"
