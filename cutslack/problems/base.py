"""The :class:`Problem` contract shared by every problem family, the :class:`KnownOptimum`
record, and small validation helpers the families reuse.

A Problem holds one instance in its native form, scores native solutions (vectorised over
a batch where the native solution is an array), and, for combinatorial families, maps itself
to a :class:`~cutslack.binary.BinaryProgram` with ``to_binary()``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np

from cutslack.errors import InvalidInstanceError, SolverError

__all__ = ["Problem", "KnownOptimum", "as_rng", "check_array", "check_square", "check_count", "check_choice",
           "check_number"]


def as_rng(rng=None) -> np.random.Generator:
    """Normalise ``rng`` (None, int seed, SeedSequence or Generator) to a Generator (SPEC 7)."""
    return np.random.default_rng(rng)


@dataclass(frozen=True)
class KnownOptimum:
    """The optimal (``proven=True``) or best-known objective value of an instance."""

    value: float
    proven: bool = True
    source: str = ""


def check_array(value, field: str, *, ndim: int | None = None, shape=None, nonneg: bool = False,
                integer: bool = False, dtype=float) -> np.ndarray:
    """Return ``value`` as a read-only array after checking finiteness, shape and sign.

    Raises :class:`InvalidInstanceError` naming ``field`` and the rule broken.
    """
    try:
        arr = np.array(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidInstanceError(field, f"must be numeric ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise InvalidInstanceError(field, f"must be {ndim}-dimensional, got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise InvalidInstanceError(field, f"must have shape {tuple(shape)}, got {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise InvalidInstanceError(field, "contains NaN or infinite entries")
    if nonneg and np.any(arr < 0):
        raise InvalidInstanceError(field, "must be non-negative")
    if integer and arr.dtype.kind == "f" and np.any(arr != np.round(arr)):
        raise InvalidInstanceError(field, "must be integral")
    arr.setflags(write=False)
    return arr


def check_count(value, field: str, minimum: int = 0) -> int:
    """Return ``value`` as an int after checking it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidInstanceError(field, f"must be an integer, got {value!r}")
    if value < minimum:
        raise InvalidInstanceError(field, f"must be at least {minimum}, got {value}")
    return int(value)


def check_choice(value, field: str, choices) -> str:
    """Return ``value`` when it is one of ``choices``; else raise naming ``field`` and the choices."""
    if value not in choices:
        raise InvalidInstanceError(field, f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_number(value, field: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False) -> float:
    """Return ``value`` as a finite float in ``[low, high]`` (``(low, high]`` when ``low_open``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInstanceError(field, f"must be a number, got {value!r}")
    x = float(value)
    if not np.isfinite(x):
        raise InvalidInstanceError(field, f"must be finite, got {value!r}")
    if low is not None and (x <= low if low_open else x < low):
        raise InvalidInstanceError(field, f"must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and x > high:
        raise InvalidInstanceError(field, f"must be <= {high:g}, got {value!r}")
    return x


def first_stage_bits(solution, n: int):
    """Return ``(X, single)``: one first-stage 0/1 decision or a batch as a float ``(k, n)`` array.

    ``single`` says whether one vector was given; entries other than 0 and 1 raise ``ValueError``.
    """
    from cutslack.binary import as_bit_matrix

    X, single = as_bit_matrix(solution, n, field_name="solution")
    X = np.asarray(X, dtype=float)
    if np.any((X != 0) & (X != 1)):
        raise ValueError("solution: first-stage decisions are 0/1 vectors")
    return X, single


def check_square(value, field: str, *, symmetric: bool = False, nonneg: bool = False) -> np.ndarray:
    """Return a validated square matrix (optionally symmetric and non-negative)."""
    M = check_array(value, field, ndim=2, nonneg=nonneg)
    if M.shape[0] != M.shape[1]:
        raise InvalidInstanceError(field, f"must be square, got shape {M.shape}")
    if symmetric and not np.allclose(M, M.T):
        raise InvalidInstanceError(field, "must be symmetric")
    return M


class Problem(abc.ABC):
    """Base class of every problem family.

    Subclasses are frozen dataclasses validated in ``__post_init__``; they define ``sense``,
    ``name``, ``size``, ``evaluate``, ``violation`` and (combinatorial families) ``to_binary``.
    """

    sense: str = "min"
    family: str = "problem"

    @property
    @abc.abstractmethod
    def size(self) -> dict:
        """A short dict describing the size, such as ``{"n": 50, "m": 5}``."""

    @abc.abstractmethod
    def evaluate(self, solution):
        """Return the objective of a native solution (a float), or of each row of a batch."""

    @abc.abstractmethod
    def violation(self, solution) -> np.ndarray:
        """Return the violation (>= 0) of every constraint, per solution for a batch."""

    def is_feasible(self, solution, atol: float = 1e-9):
        """Return whether a solution (or each of a batch) violates no constraint beyond ``atol``."""
        V = np.asarray(self.violation(solution))
        if V.ndim <= 1:
            return bool(np.all(V <= atol))
        return np.all(V <= atol, axis=1)

    def to_binary(self, **options):
        """Return the :class:`~cutslack.binary.BinaryProgram` of this instance.

        Families without a binary form (continuous, two-stage) keep this default, which says so.
        """
        raise SolverError(f"{type(self).__name__} has no binary form (to_binary is defined for the combinatorial families)")

    def better(self, a: float, b: float) -> bool:
        """Return True when objective ``a`` is strictly better than ``b`` under ``sense``."""
        return a > b if self.sense == "max" else a < b

    def worst_value(self) -> float:
        """The worst possible objective value (used to initialise incumbents)."""
        return -np.inf if self.sense == "max" else np.inf

    @property
    def n(self) -> int:
        return int(self.size["n"])

    def describe(self) -> str:
        """One line: family, name and size."""
        size = " ".join(f"{k}={v}" for k, v in self.size.items())
        return f"{self.family} {getattr(self, 'name', '')} ({size})"
