"""Binary black boxes: :class:`BlackBox` counts evaluations and refuses calls past its budget.

A black-box objective is one whose formula the optimiser may not look at: each call is a
simulation or an experiment.  :class:`BlackBox` wraps a problem (a
:class:`~cutslack.problems.base.Problem` with ``to_binary()``, a
:class:`~cutslack.binary.BinaryProgram`, a :class:`~cutslack.binary.QUBO`) or a plain
callable on bit vectors, and exposes only

* ``bb(bits) -> float``: one evaluation of the objective (counted; past the budget it raises
  :class:`BudgetExhaustedError` without evaluating);
* the *constraints* of the binary program (``bb.program``), which stay explicit and known —
  they are cheap to check and are never learned;
* ``bb.sense`` and ``bb.n``.

The baselines every surrogate method is compared with at the same evaluation budget live
here too: :func:`random_search` (uniform random feasible points) and
:func:`blackbox_anneal` (simulated annealing where every proposal costs one evaluation).
Both start from :func:`random_feasible_bits`, which needs no objective value.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from cutslack.binary import QUBO, BinaryProgram
from cutslack.errors import InvalidInstanceError, SolverError
from cutslack.problems.base import Problem, check_choice, check_count

__all__ = ["BlackBox", "BudgetExhaustedError", "Incumbent", "random_feasible_bits", "random_search",
           "blackbox_anneal", "as_blackbox"]


class BudgetExhaustedError(SolverError):
    """A black box was called after its evaluation budget was used up."""


def _constraint_program(n: int, sense: str, A_le, b_le, A_eq, b_eq) -> BinaryProgram | None:
    """The explicit linear constraints of a callable black box as a BinaryProgram (None without any)."""
    if A_le is None and b_le is None and A_eq is None and b_eq is None:
        return None
    program = BinaryProgram(c=np.zeros(n), sense=sense, A_le=A_le, b_le=b_le, A_eq=A_eq, b_eq=b_eq)
    return program if program.n_constraints else None


class BlackBox(Problem):
    """A binary objective evaluated only through counted calls, with explicit constraints; a Problem.

    ``bb(bits)`` is one evaluation charged to the budget.  As a
    :class:`~cutslack.problems.base.Problem` (``sense``, ``name``, ``size``, ``evaluate``,
    ``violation``, ``is_feasible``) it goes straight to ``cutslack.solve(bb, method="fmqa" |
    "bocs" | "random-search" | "blackbox-anneal")``; ``evaluate`` is the uncounted re-scoring a
    Result needs (one call per Result, tallied in ``rescoring_evaluations``, never in
    ``evaluations``).

    Parameters
    ----------
    problem : callable, Problem with ``to_binary()``, BinaryProgram or QUBO
        ``f(bits) -> float`` on 0/1 vectors of length ``n`` (then ``n`` is required); or a
        known problem hidden behind the box (scored by its own ``evaluate`` on decoded bits, a
        BinaryProgram by its objective, a QUBO by its energy, minimised).
    n : int
        Number of bits of a callable (for a wrapped problem, when given it must match).
    sense : {"min", "max"}
        For a callable (a wrapped problem keeps its own).
    A_le, b_le, A_eq, b_eq : array_like, optional
        Explicit linear constraints ``A_le x <= b_le``, ``A_eq x == b_eq`` of a callable: never
        learned, every evaluated point satisfies them.
    budget : int, optional
        The most evaluations allowed (None: unlimited; methods then take ``budget=`` from solve).
    name : str, optional

    Attributes
    ----------
    evaluations : int
        Counted calls so far (NaN answers included).
    rescoring_evaluations : int
        Uncounted calls made by ``evaluate`` (re-scoring Results).
    program : BinaryProgram or None
        The explicit constraints (None when there are none).

    Examples
    --------
    >>> import numpy as np, cutslack
    >>> bb = BlackBox(lambda x: float(np.sum(x) - 3 * x[0] * x[1]), 6, sense="min", budget=64)
    >>> res = cutslack.solve(bb, method="random-search", rng=0)  # 64 distinct points: all of {0,1}^6
    >>> res.objective, res.info["evaluations"], res.info["rescoring_evaluations"]
    (-1.0, 64, 1)
    >>> from cutslack.binary import QUBO
    >>> bq = BlackBox(QUBO(np.array([[1.0, -3.0], [0.0, 1.0]])), budget=2)
    >>> bq([1, 1]), bq.evaluations, bq.remaining
    (-1.0, 1, 1)
    """

    family = "blackbox"

    def __init__(self, problem, n: int | None = None, sense: str | None = None, *, A_le=None, b_le=None,
                 A_eq=None, b_eq=None, budget: int | None = None, name: str | None = None):
        self.budget = None if budget is None else check_count(budget, "budget", minimum=1)
        self.evaluations = 0
        self.rescoring_evaluations = 0
        self.problem = problem
        if n is not None:
            n = check_count(n, "n", minimum=1)
        has_constraints = any(v is not None for v in (A_le, b_le, A_eq, b_eq))
        if isinstance(problem, (QUBO, BinaryProgram, Problem)):
            if has_constraints:
                raise InvalidInstanceError("A_le", "explicit constraints are given to a callable black box; a "
                                           "wrapped problem brings its own")
            if isinstance(problem, QUBO):
                self._n, self.sense, self.program = problem.n, "min", None
                self._f = lambda bits: float(problem.energy(bits))
            elif isinstance(problem, BinaryProgram):
                self._n, self.sense = problem.n, problem.sense
                self.program = problem if problem.n_constraints else None
                self._f = lambda bits: float(problem.objective(bits))
            else:
                program = problem.to_binary()
                self._n, self.sense = program.n, problem.sense
                self.program = program if program.n_constraints else None
                self._f = lambda bits: float(problem.evaluate(program.decode_bits(bits)))
            if n is not None and n != self.n:
                raise InvalidInstanceError("n", f"n={n} but the wrapped {type(problem).__name__} has {self.n} bits")
            if sense is not None and sense != self.sense:
                raise InvalidInstanceError("sense", f"sense={sense!r} but the wrapped {type(problem).__name__} "
                                           f"is a {self.sense!r} problem")
        elif callable(problem):
            if n is None:
                raise InvalidInstanceError("n", "a callable black box needs the number of bits n >= 1")
            self._n = n
            self.sense = check_choice("min" if sense is None else sense, "sense", ("min", "max"))
            self.program = _constraint_program(n, self.sense, A_le, b_le, A_eq, b_eq)
            self._f = problem
        else:
            raise SolverError(f"a {type(problem).__name__} cannot be a binary black box: give a callable on bit "
                              "vectors (with n=), a Problem with to_binary(), a BinaryProgram or a QUBO")
        self.name = name or getattr(problem, "name", None) or getattr(problem, "__name__", None) or "blackbox"

    @property
    def n(self) -> int:
        """Number of bits."""
        return self._n

    @property
    def size(self) -> dict:
        return {"n": self.n, "constraints": 0 if self.program is None else self.program.n_constraints}

    @property
    def sign(self) -> float:
        """+1 for a minimisation black box, -1 for maximisation (``sign * value`` is minimised)."""
        return -1.0 if self.sense == "max" else 1.0

    @property
    def remaining(self) -> float:
        """Evaluations left (``inf`` without a budget)."""
        return float("inf") if self.budget is None else self.budget - self.evaluations

    def _value(self, bits) -> float:
        bits = np.asarray(bits).reshape(-1)
        if bits.shape[0] != self.n:
            raise InvalidInstanceError("bits", f"expected {self.n} bits, got {bits.shape[0]}")
        out = np.asarray(self._f(bits.astype(np.int64)), dtype=float)
        if out.size != 1:
            raise SolverError(f"the black box returned an array of shape {out.shape} for one bit vector; it must "
                              "return one number (is n right?)")
        return float(out.reshape(-1)[0])

    def __call__(self, bits) -> float:
        """Return the objective of one bit vector (counted); NaN answers are returned as NaN."""
        if self.budget is not None and self.evaluations >= self.budget:
            raise BudgetExhaustedError(f"the black box's budget of {self.budget} evaluations is used up; "
                                       "no further evaluation was made")
        value = self._value(bits)
        self.evaluations += 1
        return value

    def evaluate(self, solution) -> float:
        """Return the objective of one bit vector, not charged to the budget (re-scoring a Result)."""
        self.rescoring_evaluations += 1
        return self._value(solution)

    def violation(self, solution) -> np.ndarray:
        """Return the violation (>= 0) of each explicit constraint (an empty row without constraints)."""
        X = np.asarray(solution)
        if self.program is None:
            return np.zeros((0,) if X.ndim == 1 else (X.shape[0], 0))
        return self.program.violation(X)

    def feasible(self, X) -> np.ndarray:
        """Return whether each row of ``X`` satisfies the explicit constraints (not an evaluation)."""
        X = np.atleast_2d(X)
        if self.program is None:
            return np.ones(X.shape[0], dtype=bool)
        return np.atleast_1d(self.program.is_feasible(X, atol=1e-9))

    def native(self, bits):
        """Return the native solution of a bit vector (what a Result's ``x`` holds)."""
        if isinstance(self.problem, Problem) and not isinstance(self.problem, BlackBox):
            return self.problem.to_binary().decode_bits(bits)
        return np.asarray(bits, dtype=np.int64).reshape(-1)

    def scored_problem(self):
        """What results are re-scored by: the wrapped problem, or this box itself for a callable."""
        return self.problem if isinstance(self.problem, (Problem, BinaryProgram, QUBO)) else self

    def __repr__(self) -> str:
        return f"BlackBox(n={self.n}, sense={self.sense!r}, evaluations={self.evaluations}, budget={self.budget})"


def as_blackbox(problem, budget: int | None, *, n: int | None = None, sense: str | None = None) -> BlackBox:
    """Return ``problem`` as a BlackBox with ``budget`` (a BlackBox passes through, its budget checked).

    A plain callable needs ``n`` (and takes ``sense``, default ``"min"``).
    """
    if budget is not None:
        budget = check_count(budget, "budget", minimum=1)
    if isinstance(problem, BlackBox):
        if n is not None and n != problem.n:
            raise InvalidInstanceError("n", f"n={n} but the black box has {problem.n} bits")
        if sense is not None and sense != problem.sense:
            raise InvalidInstanceError("sense", f"sense={sense!r} but the black box is a {problem.sense!r} one")
        if budget is not None and problem.budget is not None and budget > problem.budget - problem.evaluations:
            raise InvalidInstanceError("budget", f"{budget} exceeds the black box's remaining "
                                       f"{problem.budget - problem.evaluations} evaluations")
        if budget is not None and problem.budget is None:
            problem.budget = problem.evaluations + int(budget)
        if problem.budget is None:
            raise InvalidInstanceError("budget", "a black-box method needs an evaluation budget (budget=N)")
        return problem
    if budget is None:
        raise InvalidInstanceError("budget", "a black-box method needs an evaluation budget (budget=N)")
    return BlackBox(problem, n, sense, budget=budget)


class Incumbent:
    """The best feasible point seen by a black-box method and the best-so-far trace.

    ``trace[k]`` is the best value (in the black box's own sense) after ``k + 1`` evaluations.
    """

    def __init__(self, bb: BlackBox):
        self.bb = bb
        self.bits = None
        self.value_min = np.inf
        self.trace: list[float] = []
        self.seen: set[bytes] = set()
        self.X: list[np.ndarray] = []
        self.y_min: list[float] = []
        self.nan_at: int | None = None
        #: every evaluated value in the black box's own sense, in evaluation order (NaN included)
        self.values: list[float] = []

    def evaluate(self, bits) -> float:
        """Evaluate ``bits`` through the black box, record it; return the minimisation-form value."""
        bits = np.asarray(bits, dtype=np.uint8).reshape(-1)
        value = self.bb(bits)
        self.seen.add(bits.tobytes())
        self.values.append(value)
        if not np.isfinite(value):
            self.nan_at = self.bb.evaluations
            self.trace.append(self.best_value)
            return np.nan
        v = self.bb.sign * value
        self.X.append(bits)
        self.y_min.append(v)
        if v < self.value_min:
            self.value_min, self.bits = v, bits.copy()
        self.trace.append(self.best_value)
        return v

    def is_new(self, bits) -> bool:
        return np.asarray(bits, dtype=np.uint8).tobytes() not in self.seen

    @property
    def best_value(self) -> float:
        """Best value so far in the black box's sense (NaN before any finite evaluation)."""
        return float(self.bb.sign * self.value_min) if self.bits is not None else float("nan")

    def nan_message(self) -> str:
        return (f"the black box returned NaN (or inf) at evaluation {self.nan_at}; stopped there "
                f"({self.bb.evaluations} evaluations counted)")


def random_feasible_bits(n: int, k: int, rng, program: BinaryProgram | None = None, *, density: float = 0.5,
                         max_tries: int = 20) -> np.ndarray:
    """Return ``k`` distinct random bit vectors satisfying ``program``'s constraints (no objective used).

    Bits are drawn with probability ``density``; a vector that violates an inequality row or a
    conflict pair drops random ones among the variables of its violated constraints until it
    is feasible (valid when every inequality coefficient is non-negative, as for knapsacks and
    MIS).  Programs with equality rows or negative coefficients are drawn instead by
    :func:`_sampled_feasible_bits` (a QUBO sampler on the constraints' squared residual plus a
    random linear tilt).  Fewer than ``k`` rows come back only when the space has fewer
    distinct points (or, for those programs, the sampler found fewer).
    """
    rng = np.random.default_rng(rng)
    A = b = conf = None
    if program is not None:
        A, b, A_eq, _ = program.dense_constraints()
        if A_eq.shape[0] or np.any(A < 0):
            return _sampled_feasible_bits(program, k, rng, max_tries=max_tries)
        conf = program.conflicts
    out, seen = [], set()
    limit = min(k, 2 ** min(n, 62))
    for _ in range(max_tries * k):
        if len(out) >= limit:
            break
        x = (rng.random(n) < density).astype(np.uint8)
        if program is not None:
            while True:
                bad = np.zeros(n, dtype=bool)
                if A.shape[0]:
                    rows = A @ x > b + 1e-9
                    if rows.any():
                        bad |= (A[rows] > 0).any(axis=0)
                if conf.shape[0]:
                    both = (x[conf[:, 0]] == 1) & (x[conf[:, 1]] == 1)
                    bad[conf[both].reshape(-1)] = True
                cand = np.flatnonzero(bad & (x == 1))
                if cand.size == 0:
                    break
                x[rng.choice(cand)] = 0
        key = x.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(x)
    return np.array(out, dtype=np.uint8).reshape(-1, n)


def _sampled_feasible_bits(program: BinaryProgram, k: int, rng, *, max_tries: int = 20) -> np.ndarray:
    """Return up to ``k`` distinct feasible points of a program with equalities or signed rows.

    Each try anneals ``ρ(‖A_eq x − b_eq‖² + ‖A_le x + s − b_le‖²) + r'x`` with the slack ``s``
    dropped (so ``≤`` rows are pulled to equality, then every sample is checked against the
    true constraints), ``r`` a fresh random tilt that spreads the samples.
    """
    from cutslack.solvers.qubo import sample_qubo

    n = program.n
    A, b, A_eq, b_eq = program.dense_constraints()
    M = np.vstack([A_eq, A]) if A.shape[0] else A_eq
    rhs = np.concatenate([b_eq, b]) if A.shape[0] else b_eq
    # ‖Mx − rhs‖² = x'(M'M)x − 2 rhs'Mx + const, with x_i² = x_i folded into the diagonal
    G = M.T @ M
    lin = np.diag(G) - 2 * rhs @ M
    U = 2 * np.triu(G, 1) + np.diag(lin)
    rho = 1.0 + float(np.abs(M).sum())
    out, seen = [], set()
    for _ in range(max_tries):
        tilt = rng.normal(0.0, 0.5, size=n)
        ss = sample_qubo(QUBO(rho * U + np.diag(tilt)), "anneal", num_reads=max(8, 2 * k), rng=rng)
        for x in np.asarray(ss.X, dtype=np.uint8):
            if x.tobytes() not in seen and program.is_feasible(x, atol=1e-9):
                seen.add(x.tobytes())
                out.append(x)
        if len(out) >= k:
            break
    if not out:
        raise SolverError("no point satisfying the black box's explicit constraints was found; check that "
                          "A_le x <= b_le, A_eq x == b_eq has a 0/1 solution")
    return np.array(out[:k], dtype=np.uint8).reshape(-1, n)


def random_search(bb: BlackBox, *, rng=None, deadline: Callable[[], bool] | None = None,
                  density: float = 0.5) -> Incumbent:
    """Return the :class:`Incumbent` of evaluating distinct random feasible points until the budget is used."""
    rng = np.random.default_rng(rng)
    inc = Incumbent(bb)
    while bb.remaining > 0 and not (deadline and deadline()):
        X = random_feasible_bits(bb.n, int(min(bb.remaining, 64)), rng, bb.program, density=density)
        X = [x for x in X if inc.is_new(x)]
        if not X:
            break
        for x in X:
            if bb.remaining <= 0:
                break
            if np.isnan(inc.evaluate(x)):
                return inc
    return inc


def blackbox_anneal(bb: BlackBox, *, rng=None, deadline: Callable[[], bool] | None = None,
                    initial_points: int = 10, final_temperature_ratio: float = 1e-3) -> Incumbent:
    """Return the :class:`Incumbent` of simulated annealing on the true objective, one evaluation per proposal.

    A single Metropolis chain of one-bit flips starts from the best of ``initial_points`` random
    feasible points; infeasible proposals are rejected by the explicit constraints without an
    evaluation (with equality rows, a second random flip is tried first), repeated points are
    not re-evaluated; when every neighbour is known the chain
    restarts from a new random feasible point.  The temperature falls geometrically from
    the spread of the initial values to ``final_temperature_ratio`` times it over the budget.
    """
    rng = np.random.default_rng(rng)
    inc = Incumbent(bb)
    budget = int(bb.remaining) if np.isfinite(bb.remaining) else 1000
    for x in random_feasible_bits(bb.n, min(initial_points, budget), rng, bb.program):
        if np.isnan(inc.evaluate(x)):
            return inc
    if inc.bits is None:
        return inc
    spread = float(np.std(inc.y_min)) or 1.0
    steps = max(1, budget - len(inc.y_min))
    # the geometric schedule T_k = spread * ratio^(k / (steps - 1)), computed per step: a budget of
    # 10^9 evaluations must not allocate 10^9 temperatures up front
    log_ratio = float(np.log(final_temperature_ratio)) / max(steps - 1, 1)
    cache = {x.tobytes(): y for x, y in zip(inc.X, inc.y_min)}
    swaps = bb.program is not None and bb.program.m_eq > 0
    x, fx = inc.bits.copy(), inc.value_min
    step = 0
    idle = 0
    while bb.remaining > 0 and not (deadline and deadline()):
        idle += 1
        if idle > 20 * bb.n:
            # every neighbour of the chain is already known: restart from a new random feasible point
            fresh = [z for z in random_feasible_bits(bb.n, 8, rng, bb.program) if inc.is_new(z)]
            if not fresh:
                break
            x, idle = fresh[0], 0
            fx = inc.evaluate(x)
            if np.isnan(fx):
                return inc
            cache[x.tobytes()] = fx
            continue
        y = x.copy()
        j = int(rng.integers(bb.n))
        y[j] ^= 1
        if not bb.feasible(y)[0] and swaps:
            # equality rows (a cardinality, an assignment) are kept by two flips, not one
            y[int(rng.integers(bb.n))] ^= 1
        if not bb.feasible(y)[0]:
            continue
        key = y.tobytes()
        if key in cache:
            fy = cache[key]
        else:
            fy = inc.evaluate(y)
            if np.isnan(fy):
                return inc
            cache[key] = fy
            step += 1
            idle = 0
        T = spread * float(np.exp(log_ratio * min(step, steps - 1)))
        if fy <= fx or rng.random() < np.exp(-(fy - fx) / T):
            x, fx = y, fy
    return inc
