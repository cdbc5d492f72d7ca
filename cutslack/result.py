"""The one result type every solver returns (:class:`Result`), its :class:`Status`, and
:class:`SampleSet`, the bit samples a QUBO sampler returns."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Status", "Result", "SampleSet", "relative_gap"]


class Status(str, enum.Enum):
    """How a run ended.

    Budgets, the one rule every search method follows (heuristics, ``lagrangian``,
    ``penalty``, ``unbalanced``):

    * with a ``time_limit``, a method keeps searching (restarts, perturbations, further
      iterations) until the limit, and ends ``TIME_LIMIT``; it ends earlier only when a valid
      bound proves its solution optimal (``OPTIMAL``), when it has nothing left to search
      (an exact method that finished, a construction that is complete: ``OPTIMAL`` or
      ``FEASIBLE``) or when the user set a stagnation budget (``max_no_improve`` /
      ``patience``) that ran out (``FEASIBLE``);
    * without a ``time_limit``, a default stagnation budget or iteration count ends the
      search: ``FEASIBLE`` (``OPTIMAL`` when a bound proves it).

    The clock of ``time_limit`` starts once the method is loaded and its kernels compiled
    (``Result.info["compile_s"]``); a run ends within ``time_limit + max(10 %, 1 s)`` with the
    best solution found so far (the empty solution of a knapsack at worst).
    """

    OPTIMAL = "optimal"        #: proven optimal (by the method's own bound)
    FEASIBLE = "feasible"      #: a feasible solution, optimality not proven
    INFEASIBLE = "infeasible"  #: no feasible solution found (or proven none exists)
    TIME_LIMIT = "time_limit"  #: stopped by ``time_limit``; best found so far returned
    STOPPED = "stopped"        #: a callback raised ``StopIteration``
    ERROR = "error"            #: the method failed; ``info["message"]`` says why

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


def relative_gap(objective: float | None, reference: float | None, sense: str) -> float | None:
    """Return the relative gap of ``objective`` to a bound or optimum ``reference``.

    ``|reference - objective| / max(|reference|, 1e-9)``, signed so that a worse objective gives
    a positive gap; ``None`` when either value is missing or not finite.
    """
    if objective is None or reference is None:
        return None
    if not (np.isfinite(objective) and np.isfinite(reference)):
        return None
    diff = (reference - objective) if sense == "max" else (objective - reference)
    return float(diff / max(abs(reference), 1e-9))


@dataclass(frozen=True)
class SampleSet:
    """Bit samples of a QUBO with their energies and multiplicities.

    ``X`` is an ``(k, n)`` uint8 array of bit vectors, ``energies`` their QUBO energies
    (minimisation), ``counts`` how often each row was drawn, and ``feasible`` (optional) a
    boolean per row where a constrained program is known.
    """

    X: np.ndarray
    energies: np.ndarray
    counts: np.ndarray | None = None
    feasible: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        X = np.atleast_2d(np.asarray(self.X, dtype=np.uint8))
        e = np.asarray(self.energies, dtype=float).reshape(-1)
        if X.shape[0] != e.shape[0]:
            raise ValueError(f"SampleSet: {X.shape[0]} samples but {e.shape[0]} energies")
        c = np.ones(len(e), dtype=np.int64) if self.counts is None else np.asarray(self.counts, dtype=np.int64).reshape(-1)
        if c.shape != e.shape:
            raise ValueError("SampleSet: counts must have one entry per sample")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "energies", e)
        object.__setattr__(self, "counts", c)
        if self.feasible is not None:
            f = np.asarray(self.feasible, dtype=bool).reshape(-1)
            if f.shape != e.shape:
                raise ValueError("SampleSet: feasible must have one entry per sample")
            object.__setattr__(self, "feasible", f)

    def __len__(self) -> int:
        return self.X.shape[0]

    @property
    def n(self) -> int:
        """Number of variables per sample."""
        return self.X.shape[1]

    @property
    def num_reads(self) -> int:
        """Total number of draws (sum of counts)."""
        return int(self.counts.sum())

    @property
    def best(self) -> np.ndarray:
        """The lowest-energy bit vector."""
        return self.X[int(np.argmin(self.energies))].copy()

    @property
    def best_energy(self) -> float:
        return float(self.energies.min())

    def lowest(self, k: int | None = None) -> "SampleSet":
        """Return the samples sorted by energy (ties keep their order), the first ``k`` if given."""
        order = np.argsort(self.energies, kind="stable")
        if k is not None:
            order = order[:k]
        return self._take(order)

    def aggregate(self) -> "SampleSet":
        """Return a SampleSet with duplicate rows merged and their counts summed, sorted by energy."""
        if len(self) == 0:
            return self
        uniq, first, inverse = np.unique(self.X, axis=0, return_index=True, return_inverse=True)
        counts = np.bincount(inverse.reshape(-1), weights=self.counts, minlength=len(uniq)).astype(np.int64)
        energies = self.energies[first]
        feas = None if self.feasible is None else self.feasible[first]
        out = SampleSet(uniq, energies, counts, feas, dict(self.info))
        return out.lowest()

    def feasible_fraction(self) -> float | None:
        """Fraction of draws (weighted by counts) that are feasible, if known."""
        if self.feasible is None or self.num_reads == 0:
            return None
        return float((self.counts * self.feasible).sum() / self.num_reads)

    def with_feasibility(self, feasible) -> "SampleSet":
        return dataclasses.replace(self, feasible=np.asarray(feasible, dtype=bool))

    def _take(self, idx) -> "SampleSet":
        feas = None if self.feasible is None else self.feasible[idx]
        return SampleSet(self.X[idx], self.energies[idx], self.counts[idx], feas, dict(self.info))

    @classmethod
    def concatenate(cls, sets) -> "SampleSet":
        sets = list(sets)
        if not sets:
            raise ValueError("SampleSet.concatenate needs at least one SampleSet")
        feas = None
        if all(s.feasible is not None for s in sets):
            feas = np.concatenate([s.feasible for s in sets])
        return cls(np.vstack([s.X for s in sets]), np.concatenate([s.energies for s in sets]),
                   np.concatenate([s.counts for s in sets]), feas)


@dataclass(frozen=True)
class Result:
    """What every solver returns.

    ``objective`` and ``feasible`` are recomputed by the problem from ``x``, never copied from
    the solver's own bookkeeping.  ``bound`` is a proven bound where the method gives one
    (MILP dual bound; Lagrangian dual value when every subproblem was solved exactly), and
    ``gap`` is relative: to ``bound`` when there is one, else to the problem's known optimum.
    """

    x: Any
    objective: float | None
    feasible: bool
    status: Status
    method: str
    wall_time: float
    bound: float | None = None
    gap: float | None = None
    n_vars: int | None = None
    n_qubits: int | None = None
    nit: int = 0
    history: list = field(default_factory=list)
    samples: SampleSet | None = None
    info: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """True when a feasible solution was returned."""
        return bool(self.feasible) and self.status in (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT, Status.STOPPED)

    def replace(self, **changes) -> "Result":
        return dataclasses.replace(self, **changes)

    def summary(self) -> str:
        """One line: method, status, objective, bound, gap, feasibility, size, path and time.

        ``path`` is ``info["subproblem"]`` where the method records how its subproblem was
        solved (``closed form``, ``exhaustive``, ``sampled by anneal``...).
        """
        parts = [f"{self.method}: {self.status.value}"]
        if self.objective is not None:
            parts.append(f"objective={self.objective:.6g}")
        if self.bound is not None:
            parts.append(f"bound={self.bound:.6g}")
        if self.gap is not None:
            parts.append(f"gap={100 * self.gap:.3g}%")
        parts.append(f"feasible={self.feasible}")
        if self.n_vars is not None:
            parts.append(f"n_vars={self.n_vars}")
        if self.n_qubits is not None:
            parts.append(f"n_qubits={self.n_qubits}")
        path = self.info.get("subproblem") if isinstance(self.info, dict) else None
        if path:
            parts.append(f"path={str(path).replace(' ', '-')}")
        parts.append(f"time={self.wall_time:.3g}s")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"Result({self.summary()})"
