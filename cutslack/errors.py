"""Exceptions raised by cutslack.

Every error cutslack raises on purpose derives from :class:`CutslackError`, so callers can
catch the whole family in one place.  Each subclass says *what* went wrong in a single
sentence that names the offending field, file line, size or missing package.
"""

from __future__ import annotations

__all__ = [
    "CutslackError",
    "InvalidInstanceError",
    "ParseError",
    "BackendUnavailableError",
    "ProblemTooLargeError",
    "SolverError",
    "UsageError",
]


class CutslackError(Exception):
    """Base class of every error raised by cutslack."""


class InvalidInstanceError(CutslackError, ValueError):
    """An instance's data break a rule of its family (shape, sign, NaN, symmetry...).

    ``field`` names the offending field of the instance.
    """

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"invalid instance: field {field!r}: {rule}")


class ParseError(CutslackError, ValueError):
    """A file could not be read: carries the file, the 1-based line and what was expected."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        self.message = message
        where = file or "<text>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


class BackendUnavailableError(CutslackError, ImportError):
    """An optional dependency (extra) or device is missing; the message has the install line."""

    def __init__(self, what: str, install: str | None = None):
        self.what = what
        self.install = install
        msg = f"{what} is not available"
        if install:
            msg += f"; install it with: {install}"
        super().__init__(msg)


class ProblemTooLargeError(CutslackError, MemoryError):
    """A method refused an instance before allocating memory it would not have."""

    def __init__(self, what: str, size, limit, *, estimate=None):
        self.what = what
        self.size = size
        self.limit = limit
        self.estimate = estimate
        if estimate is None:
            super().__init__(f"{what}: size {size} exceeds the limit {limit}")
        else:
            super().__init__(f"{what}: size {size} needs an estimated {estimate}, over the limit {limit} "
                             f"(raise it with CUTSLACK_MEMORY_LIMIT or cutslack.config.set_memory_limit)")


class SolverError(CutslackError, RuntimeError):
    """A solver failed or cannot take the given problem (the message says why)."""


class UsageError(CutslackError, ValueError):
    """A command line or call was malformed: a bad path, option, key or value (the message says
    which and what to do)."""
