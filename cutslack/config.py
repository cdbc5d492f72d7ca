"""Run-time settings shared by every method: the memory limit.

Methods that allocate in proportion to an instance's size (exhaustive search, statevector
simulation, dense QUBO couplings, the knapsack DP table, MILP model building) estimate the
bytes first and call :func:`check_memory`, which raises
:class:`~cutslack.errors.ProblemTooLargeError` (size, estimate, limit) instead of allocating.

The limit is one setting: :func:`set_memory_limit` in a program, else the environment
variable ``CUTSLACK_MEMORY_LIMIT`` (``"8GB"``, ``"512MiB"``, ``"2e9"`` bytes), else half of
the machine's physical memory.

>>> set_memory_limit("1GB"); memory_limit()
1000000000
>>> set_memory_limit(None)
"""

from __future__ import annotations

import os
import re

from cutslack.errors import InvalidInstanceError, ProblemTooLargeError

__all__ = ["MEMORY_LIMIT_ENV", "memory_limit", "set_memory_limit", "check_memory", "parse_bytes", "format_bytes"]

MEMORY_LIMIT_ENV = "CUTSLACK_MEMORY_LIMIT"

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_override: int | None = None


def parse_bytes(text) -> int:
    """Return the bytes of ``"8GB"``, ``"512MiB"``, ``"2e9"`` or a number."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value, unit = float(text), ""
    else:
        match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*", str(text))
        if not match or match.group(2).lower() not in _UNITS:
            raise InvalidInstanceError("memory_limit", f"expected bytes such as '8GB' or '512MiB', got {text!r}")
        value, unit = float(match.group(1)), match.group(2).lower()
    if not value > 0:
        raise InvalidInstanceError("memory_limit", f"must be positive, got {text!r}")
    return int(value * _UNITS[unit])


def format_bytes(n: float) -> str:
    """Return ``n`` bytes as a short human string (``"3.2 GB"``)."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 10**9


def set_memory_limit(value) -> None:
    """Set the memory limit for this process (bytes or ``"8GB"``); ``None`` restores the default."""
    global _override
    _override = None if value is None else parse_bytes(value)


def memory_limit() -> int:
    """Return the memory limit in bytes (see the module docstring for where it comes from)."""
    if _override is not None:
        return _override
    env = os.environ.get(MEMORY_LIMIT_ENV)
    if env:
        return parse_bytes(env)
    return _physical_memory() // 2


def check_memory(what: str, size, estimate_bytes: float) -> int:
    """Return ``estimate_bytes`` when it fits the limit; else raise ProblemTooLargeError (size, estimate, limit)."""
    limit = memory_limit()
    if estimate_bytes > limit:
        source = "set_memory_limit" if _override is not None else (
            MEMORY_LIMIT_ENV if os.environ.get(MEMORY_LIMIT_ENV) else "half the physical memory")
        raise ProblemTooLargeError(what, size, f"{format_bytes(limit)} ({source})",
                                   estimate=format_bytes(estimate_bytes))
    return int(estimate_bytes)
