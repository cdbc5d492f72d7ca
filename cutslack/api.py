"""``cutslack.solve``: one entry point over the :data:`SOLVERS` registry.

A solver is a function ``fn(problem, *, rng, time_limit, callback, **options) -> Result``
registered with :func:`register_solver`.  Inside, it uses a :class:`Run` for the clock,
the callback and the random generator, and builds its answer with :func:`make_result`,
which re-scores the solution with the problem's own ``evaluate``/``is_feasible``.

The clock of ``time_limit`` starts after the method's module is loaded and its compiled
kernels are ready: a method registered with a ``warmup`` hook has it called (once per process
and hook) before the clock starts, and ``Result.info["compile_s"]`` reports the seconds that
loading and warming took, so a first call in a fresh process (even with an empty Numba cache)
honours its limit.

Solver modules register themselves on import; :data:`SOLVER_MODULES` lists the built-in
ones, imported on the first call of :func:`solve` (importing cutslack imports none of them,
and none imports an optional extra at module level).
"""

from __future__ import annotations

import contextvars
import importlib
import inspect
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from cutslack.errors import SolverError
from cutslack.result import Result, SampleSet, Status, relative_gap

__all__ = ["solve", "SOLVERS", "SOLVER_MODULES", "METHOD_MODULES", "register_solver", "available_methods", "Run", "make_result",
           "SolverSpec", "check_call", "empty_result", "warm_up_method"]

#: modules that register the built-in solvers (later issues append to this list)
SOLVER_MODULES = [
    "cutslack.solvers.classical.milp",
    "cutslack.solvers.classical.dp",
    "cutslack.solvers.lagrangian",
    "cutslack.solvers.qubo.methods",
    "cutslack.quantum.methods",
    "cutslack.solvers.classical.heuristics",
    "cutslack.surrogates.methods",
    "cutslack.solvers.pde",
    "cutslack.solvers.robust",
    "cutslack.surrogates.neur2ro",
]


@dataclass(frozen=True)
class SolverSpec:
    """A registered method: its function, the input types it takes, a one-line description and
    its warm-up hook (``warmup(problem)`` compiles the kernels it will use; None: nothing to compile)."""

    name: str
    function: Callable
    accepts: tuple
    description: str
    warmup: Callable | None = None

    @property
    def options(self) -> set:
        sig = inspect.signature(self.function)
        if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            return {"*"}
        return {k for k, p in list(sig.parameters.items())[1:] if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


#: the module of SOLVER_MODULES that registers each built-in method, so that a first solve()
#: imports only what its method needs (loading is inside the call's clock); a method missing
#: here is found by importing every module of SOLVER_MODULES, as available_methods() does
METHOD_MODULES = {
    **dict.fromkeys(["milp"], "cutslack.solvers.classical.milp"),
    **dict.fromkeys(["dp"], "cutslack.solvers.classical.dp"),
    **dict.fromkeys(["lagrangian", "lagrangian-heuristic", "penalty", "unbalanced"], "cutslack.solvers.lagrangian"),
    **dict.fromkeys(["anneal", "tempering", "tabu", "exhaustive"], "cutslack.solvers.qubo.methods"),
    **dict.fromkeys(["qaoa", "ma-qaoa", "ws-qaoa", "vqe", "cvar-vqe", "pce", "qrao", "shrink"],
                    "cutslack.quantum.methods"),
    **dict.fromkeys(["heuristic", "tsp-nn", "tsp-greedy", "tsp-sfc", "tsp-2opt", "tsp-oropt", "tsp-ils", "qap-tabu",
                     "qap-anneal", "mis-greedy", "mis-ils", "mdkp-greedy", "mdkp-tabu", "gap-greedy", "gap-ils",
                     "scp-greedy", "scp-ils"],
                    "cutslack.solvers.classical.heuristics"),
    **dict.fromkeys(["fmqa", "bocs", "random-search", "blackbox-anneal"], "cutslack.surrogates.methods"),
    **dict.fromkeys(["reduced-lbfgs", "pde-cvxpy", "adasketch", "newton-kkt"], "cutslack.solvers.pde"),
    **dict.fromkeys(["ccg", "branch_and_price"], "cutslack.solvers.robust"),
    **dict.fromkeys(["neur2ro"], "cutslack.surrogates.neur2ro"),
}

#: method name (lower case) -> SolverSpec
SOLVERS: dict[str, SolverSpec] = {}
_loaded = False
#: (warm-up hook, problem type) pairs already warmed in this process
_WARMED: set = set()
#: ``[perf_counter() at the start of the innermost solve() call]`` until that call's first Run takes it
_CALL_START: contextvars.ContextVar = contextvars.ContextVar("cutslack_call_start", default=None)


def register_solver(name: str, *, accepts: tuple, description: str = "", warmup: Callable | None = None):
    """Decorator registering ``fn`` as ``method=name`` for problems of the types in ``accepts``.

    ``fn`` must take ``(problem, *, rng=None, time_limit=None, callback=None, **its options)``.
    ``warmup(problem)``, when given, compiles (or loads from Numba's cache) the kernels ``fn``
    will run on ``problem``; :func:`solve` calls it before starting the clock.
    """

    def deco(fn):
        key = name.lower()
        SOLVERS[key] = SolverSpec(key, fn, tuple(accepts), description or (fn.__doc__ or "").strip().split("\n")[0],
                                  warmup)
        return fn

    return deco


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        for mod in SOLVER_MODULES:
            importlib.import_module(mod)
        _loaded = True


def _load_method(method) -> None:
    """Import the module registering ``method`` (:data:`METHOD_MODULES`), or every built-in one."""
    key = method.lower() if isinstance(method, str) else None
    if key is not None and key not in SOLVERS and key in METHOD_MODULES and not _loaded:
        importlib.import_module(METHOD_MODULES[key])
    if key not in SOLVERS:
        _load_builtin()


def available_methods() -> list[str]:
    """Return the sorted list of registered method names."""
    _load_builtin()
    return sorted(SOLVERS)


def solve(problem, method: str = "milp", *, rng=None, time_limit: float | None = None,
          callback: Callable | None = None, **options) -> Result:
    """Solve ``problem`` with ``method`` and return a :class:`~cutslack.result.Result`.

    Parameters
    ----------
    problem : Problem, BinaryProgram or QUBO
        What the method takes (each method lists the types it accepts).
    method : str
        Case-insensitive name of a registered method; see :func:`available_methods`.
    rng : None, int, or numpy.random.Generator
        The only source of randomness; the same seed gives the same result.
    time_limit : float, optional
        Seconds; the method returns the best solution found so far with ``Status.TIME_LIMIT``
        (see :class:`~cutslack.result.Status` for what a method does with its budget).  The
        clock starts once the method is loaded and warmed up (``info["compile_s"]``).
    callback : callable, optional
        Called as ``callback(intermediate: Result)`` once per outer iteration; raising
        ``StopIteration`` ends the run with ``Status.STOPPED``.
    **options
        Method-specific options; an unknown one raises ``TypeError`` naming it.

    Examples
    --------
    >>> import cutslack
    >>> from cutslack.problems import random_mdkp
    >>> res = cutslack.solve(random_mdkp(20, 3, rng=1), method="milp")
    >>> res.feasible
    True
    """
    loading = time.perf_counter()
    spec = check_call(problem, method, options, time_limit)
    trivial = empty_result(problem, spec.name)
    if trivial is not None:  # no variables: the empty vector is the one solution, for every method
        return trivial.replace(wall_time=time.perf_counter() - loading)
    warm_up_method(spec, problem)
    # the clock starts here: loading the module and compiling its kernels (compile_s) do not
    # count against time_limit
    call_start = time.perf_counter()
    token = _CALL_START.set([call_start])
    try:
        result = spec.function(problem, rng=rng, time_limit=time_limit, callback=callback, **options)
    finally:
        _CALL_START.reset(token)
    if isinstance(result, Result):
        result = result.replace(wall_time=time.perf_counter() - call_start,
                                info={**result.info, "compile_s": round(call_start - loading, 6)})
    return result


def empty_result(problem, method: str) -> Result | None:
    """Return the optimal :class:`Result` of a problem with no variables (no items, no nodes, no
    facilities, an empty QUBO), or None when it has variables.

    The empty vector is then the only solution; methods would otherwise meet empty arrays deep
    inside NumPy, SciPy or a circuit builder.  The result says so in ``info["trivial"]``.
    """
    n = getattr(problem, "n", None)
    if not isinstance(n, (int, np.integer)) or n != 0:
        return None
    x = np.zeros(0, dtype=np.uint8)
    objective = float(problem.evaluate(x))
    return make_result(problem, x, method=method, status=Status.OPTIMAL, bound=objective, n_vars=0,
                       info={"trivial": "the problem has no variables; the empty vector is its only solution"})


def warm_up_method(spec: SolverSpec, problem) -> bool:
    """Run ``spec``'s warm-up hook for ``problem`` unless this process already ran it for that type
    of problem; return True when it ran."""
    cache_key = getattr(spec.warmup, "cache_key", None)   # a hook whose kernels depend on more than the type
    key = (spec.warmup, type(problem), None if cache_key is None else cache_key(problem))
    if spec.warmup is None or key in _WARMED:
        return False
    spec.warmup(problem)
    _WARMED.add(key)
    return True


def check_call(problem, method: str, options: dict, time_limit: float | None = None) -> SolverSpec:
    """Return the :class:`SolverSpec` of ``method`` after checking that it takes ``problem``,
    ``options`` and ``time_limit``; raise what :func:`solve` raises for a bad call.

    Raises
    ------
    TypeError
        ``method`` is not a string, or an option is unknown (named, with the valid ones).
    ValueError
        An unknown method (the valid ones listed) or a non-positive ``time_limit``.
    SolverError
        The method does not take this type of problem.
    """
    _load_method(method)
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__}")
    spec = SOLVERS.get(method.lower())
    if spec is None:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(sorted(SOLVERS))}")
    if not isinstance(problem, spec.accepts):
        kinds = ", ".join(t.__name__ for t in spec.accepts)
        raise SolverError(f"method {spec.name!r} cannot take a {type(problem).__name__}: it accepts {kinds}")
    allowed = spec.options
    if "*" not in allowed:
        for key in options:
            if key not in allowed:
                valid = sorted(allowed - {"rng", "time_limit", "callback"})
                raise TypeError(f"method {spec.name!r} got an unknown option {key!r}; its options are: "
                                f"{', '.join(valid) or '(none)'}")
    if time_limit is not None and not (time_limit > 0):
        raise ValueError(f"time_limit must be positive seconds, got {time_limit!r}")
    return spec


class Run:
    """Book-keeping shared by solvers: clock, deadline, callback and random generator.

    >>> run = Run(time_limit=1.0)
    >>> run.expired()
    False
    """

    def __init__(self, *, rng=None, time_limit: float | None = None, callback: Callable | None = None):
        # the first Run of a solve() call takes the call's start (module loading and Numba
        # compiling count against the limit); any other Run, e.g. a sub-solver's, starts now
        pending = _CALL_START.get()
        self.start = pending.pop() if pending else time.perf_counter()
        self.time_limit = time_limit
        self.deadline = None if time_limit is None else self.start + float(time_limit)
        self.callback = callback
        self.rng = np.random.default_rng(rng)
        self.stopped = False
        self.timed_out = False
        #: (elapsed seconds, objective) each time the best feasible objective improved
        self.incumbents: list[tuple[float, float]] = []
        self.sense: str | None = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def time_left(self) -> float:
        """Seconds left before the deadline (``inf`` without a time limit, never negative)."""
        if self.deadline is None:
            return float("inf")
        return max(0.0, self.deadline - time.perf_counter())

    def expired(self) -> bool:
        """True once the deadline has passed (and remembers it for :meth:`status`)."""
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            self.timed_out = True
        return self.timed_out

    def record_incumbent(self, value: float | None, sense: str | None = None) -> bool:
        """Record ``(elapsed, value)`` when the feasible objective ``value`` beats the best so far.

        Returns True when it did.  ``sense`` (``"min"``/``"max"``) is remembered from the first
        call; :func:`make_result` calls this for every feasible answer it builds, and searches
        call it whenever their incumbent improves, so ``Result.info["incumbents"]`` tells when
        each better solution was found (time to target).
        """
        if value is None or not np.isfinite(value):
            return False
        if sense is not None and self.sense is None:
            self.sense = sense
        if self.incumbents:
            last = self.incumbents[-1][1]
            tol = 1e-12 * max(1.0, abs(last))
            if (value <= last + tol) if self.sense == "max" else (value >= last - tol):
                return False
        self.incumbents.append((round(self.elapsed(), 6), float(value)))
        return True

    def report(self, intermediate: Result) -> bool:
        """Call the callback; return True (and remember it) when it raised ``StopIteration``."""
        if self.callback is None:
            return False
        try:
            self.callback(intermediate)
        except StopIteration:
            self.stopped = True
        return self.stopped

    def status(self, default: Status) -> Status:
        """The final status: STOPPED or TIME_LIMIT when those ended the run, else ``default``."""
        if self.stopped:
            return Status.STOPPED
        if self.timed_out:
            return Status.TIME_LIMIT
        return default


def make_result(problem, x, *, method: str, run: Run | None = None, status: Status | None = None,
                bound: float | None = None, n_vars: int | None = None, n_qubits: int | None = None,
                nit: int = 0, history: list | None = None, samples: SampleSet | None = None,
                info: dict | None = None, wall_time: float | None = None) -> Result:
    """Build a :class:`Result`, re-scoring ``x`` with the problem's own ``evaluate`` and ``is_feasible``.

    ``status`` defaults to FEASIBLE (or INFEASIBLE when ``x`` is missing or infeasible), then
    STOPPED/TIME_LIMIT take precedence when the ``run`` ended that way.  A feasible ``x`` is
    recorded as an incumbent of the ``run`` (:meth:`Run.record_incumbent`), and the run's
    incumbents go to ``info["incumbents"]`` as ``[elapsed seconds, objective]`` pairs.  ``gap`` is relative
    to ``bound`` when given, else to the problem's ``known_optimum``; a feasible ``x`` better than
    the known optimum sets ``info["known_optimum_violated"] = True`` (the stated optimum is wrong,
    and a gap to it is negative).
    """
    sense = getattr(problem, "sense", "min")
    if x is None:
        objective, feasible = None, False
    else:
        objective = float(problem.evaluate(x))
        feasible = bool(problem.is_feasible(x, atol=1e-6))
    if status is None:
        status = Status.FEASIBLE if feasible else Status.INFEASIBLE
    if run is not None and status not in (Status.ERROR,):
        status = run.status(status) if status is not Status.OPTIMAL or run.stopped else status
    if status is Status.OPTIMAL and not feasible:
        status = Status.INFEASIBLE
    info = dict(info or {})
    if run is not None:
        if feasible:
            run.record_incumbent(objective, sense)
        if run.incumbents:
            info.setdefault("incumbents", [list(pair) for pair in run.incumbents])
    known = getattr(problem, "known_optimum", None)
    if feasible and known is not None and (relative_gap(objective, known.value, sense) or 0.0) < -1e-9:
        info["known_optimum_violated"] = True  # a feasible x beats the stated optimum: the stated value is wrong
    ref = bound if bound is not None else (known.value if known is not None else None)
    gap = relative_gap(objective, ref, sense) if feasible else None
    if gap is not None and abs(gap) < 1e-12:
        gap = 0.0
    elapsed = wall_time if wall_time is not None else (run.elapsed() if run is not None else 0.0)
    return Result(x=x, objective=objective, feasible=feasible, status=status, method=method,
                  wall_time=float(elapsed), bound=None if bound is None else float(bound), gap=gap,
                  n_vars=n_vars, n_qubits=n_qubits, nit=int(nit), history=list(history or []),
                  samples=samples, info=info)
