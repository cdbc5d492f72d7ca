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
from cutslack.problems.base import Problem

__all__ = ["BlackBox", "BudgetExhaustedError", "Incumbent", "random_feasible_bits", "random_search",
           "blackbox_anneal", "as_blackbox"]


class BudgetExhaustedError(SolverError):
    """A black box was called after its evaluation budget was used up."""


class BlackBox:
    """A binary objective evaluated only through counted calls, with explicit constraints.

    Parameters
    ----------
    problem : Problem with ``to_binary()``, BinaryProgram, QUBO, or callable
        What is evaluated.  A Problem is scored by its own ``evaluate`` on the decoded bits; a
        BinaryProgram by its objective; a QUBO by its energy (minimised); a callable
        ``f(bits) -> float`` needs ``n`` (and ``sense``, default ``"min"``).
    budget : int, optional
        The most evaluations allowed (None: unlimited).
    n, sense : for a callable only.

    Attributes
    ----------
    evaluations : int
        Calls made so far (NaN answers included: every call is counted).
    program : BinaryProgram or None
        The explicit constraints (None when there are none).

    Examples
    --------
    >>> import numpy as np
    >>> from cutslack.binary import QUBO
    >>> bb = BlackBox(QUBO(np.array([[1.0, -3.0], [0.0, 1.0]])), budget=2)
    >>> bb([1, 1]), bb.evaluations, bb.remaining
    (-1.0, 1, 1)
    """

    def __init__(self, problem, budget: int | None = None, *, n: int | None = None, sense: str = "min"):
        if budget is not None:
            if isinstance(budget, bool) or int(budget) != budget or int(budget) < 1:
                raise InvalidInstanceError("budget", f"must be a positive integer, got {budget!r}")
            budget = int(budget)
        self.budget = budget
        self.evaluations = 0
        self.problem = problem
        if isinstance(problem, QUBO):
            self.n, self.sense, self.program = problem.n, "min", None
            self._f = lambda bits: float(problem.energy(bits))
        elif isinstance(problem, BinaryProgram):
            self.n, self.sense = problem.n, problem.sense
            self.program = problem if problem.n_constraints else None
            self._f = lambda bits: float(problem.objective(bits))
        elif isinstance(problem, Problem):
            program = problem.to_binary()
            self.n, self.sense = program.n, problem.sense
            self.program = program if program.n_constraints else None
            self._f = lambda bits: float(problem.evaluate(program.decode_bits(bits)))
        elif callable(problem):
            if n is None or int(n) < 1:
                raise InvalidInstanceError("n", "a callable black box needs the number of bits n >= 1")
            if sense not in ("min", "max"):
                raise InvalidInstanceError("sense", f"must be 'min' or 'max', got {sense!r}")
            self.n, self.sense, self.program = int(n), sense, None
            self._f = problem
        else:
            raise SolverError(f"a {type(problem).__name__} cannot be a binary black box: give a Problem with "
                              "to_binary(), a BinaryProgram, a QUBO or a callable on bit vectors")

    @property
    def sign(self) -> float:
        """+1 for a minimisation black box, -1 for maximisation (``sign * value`` is minimised)."""
        return -1.0 if self.sense == "max" else 1.0

    @property
    def remaining(self) -> float:
        """Evaluations left (``inf`` without a budget)."""
        return float("inf") if self.budget is None else self.budget - self.evaluations

    def __call__(self, bits) -> float:
        """Return the objective of one bit vector (counted); NaN answers are returned as NaN."""
        if self.budget is not None and self.evaluations >= self.budget:
            raise BudgetExhaustedError(f"the black box's budget of {self.budget} evaluations is used up; "
                                       "no further evaluation was made")
        bits = np.asarray(bits).reshape(-1)
        if bits.shape[0] != self.n:
            raise ValueError(f"expected {self.n} bits, got {bits.shape[0]}")
        self.evaluations += 1
        return float(self._f(bits.astype(np.int64)))

    def feasible(self, X) -> np.ndarray:
        """Return whether each row of ``X`` satisfies the explicit constraints (not an evaluation)."""
        X = np.atleast_2d(X)
        if self.program is None:
            return np.ones(X.shape[0], dtype=bool)
        return np.atleast_1d(self.program.is_feasible(X, atol=1e-9))

    def native(self, bits):
        """Return the native solution of a bit vector (what a Result's ``x`` holds)."""
        if isinstance(self.problem, Problem):
            return self.problem.to_binary().decode_bits(bits)
        return np.asarray(bits, dtype=np.int64).reshape(-1)

    def scored_problem(self):
        """What results are re-scored by (the wrapped problem; None for a bare callable)."""
        return None if callable(self.problem) and not isinstance(self.problem, (Problem, BinaryProgram, QUBO)) \
            else self.problem

    def __repr__(self) -> str:
        return f"BlackBox(n={self.n}, sense={self.sense!r}, evaluations={self.evaluations}, budget={self.budget})"


def as_blackbox(problem, budget: int | None) -> BlackBox:
    """Return ``problem`` as a BlackBox with ``budget`` (a BlackBox passes through, its budget checked)."""
    if isinstance(problem, BlackBox):
        if budget is not None and problem.budget is not None and budget > problem.budget - problem.evaluations:
            raise InvalidInstanceError("budget", f"{budget} exceeds the black box's remaining "
                                       f"{problem.budget - problem.evaluations} evaluations")
        if budget is not None and problem.budget is None:
            problem.budget = problem.evaluations + int(budget)
        return problem
    if budget is None:
        raise InvalidInstanceError("budget", "a black-box method needs an evaluation budget (budget=N)")
    return BlackBox(problem, budget)


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

    def evaluate(self, bits) -> float:
        """Evaluate ``bits`` through the black box, record it; return the minimisation-form value."""
        bits = np.asarray(bits, dtype=np.uint8).reshape(-1)
        value = self.bb(bits)
        self.seen.add(bits.tobytes())
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
    MIS).  Fewer than ``k`` rows come back only when the space has fewer distinct points.

    Raises
    ------
    SolverError
        When the program has equality constraints or negative inequality coefficients (no
        objective-free way to draw feasible points is implemented for those).
    """
    rng = np.random.default_rng(rng)
    A = b = conf = None
    if program is not None:
        A, b, A_eq, _ = program.dense_constraints()
        if A_eq.shape[0]:
            raise SolverError("black-box methods take inequality and conflict constraints only; this program "
                              f"has {A_eq.shape[0]} equality constraints")
        if np.any(A < 0):
            raise SolverError("black-box methods need non-negative inequality coefficients (dropping a bit "
                              "must never violate a constraint)")
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
    evaluation, repeated points are not re-evaluated; when every neighbour is known the chain
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
