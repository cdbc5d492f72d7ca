"""Run-time settings shared by every method: the memory limit.

Methods that allocate in proportion to an instance's size (exhaustive search, statevector
simulation, dense QUBO couplings, the knapsack DP table, MILP model building) estimate the
bytes first and call :func:`check_memory`, which raises
:class:`~cutslack.errors.ProblemTooLargeError` (size, estimate, limit) instead of allocating.

The limit is one setting: :func:`set_memory_limit` in a program, else the environment
variable ``CUTSLACK_MEMORY_LIMIT`` (``"8GB"``, ``"512MiB"``, ``"2e9"`` bytes, or ``"40%"`` of the
memory available now), else :data:`DEFAULT_MEMORY_FRACTION` (half) of the memory available now
(``MemAvailable`` in ``/proc/meminfo``; the physical memory where that file is missing).
The available memory is read at each check, so a busy machine gets a lower limit.

>>> set_memory_limit("1GB"); memory_limit()
1000000000
>>> set_memory_limit(None)
"""

from __future__ import annotations

import os
import re

from cutslack.errors import InvalidInstanceError, ProblemTooLargeError

__all__ = ["MEMORY_LIMIT_ENV", "DEFAULT_MEMORY_FRACTION", "memory_limit", "set_memory_limit", "check_memory",
           "available_memory", "parse_bytes", "format_bytes"]

MEMORY_LIMIT_ENV = "CUTSLACK_MEMORY_LIMIT"
#: share of the available memory one method may plan to use when no limit is set
DEFAULT_MEMORY_FRACTION = 0.5

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_override: int | None = None


def parse_bytes(text) -> int:
    """Return the bytes of ``"8GB"``, ``"512MiB"``, ``"2e9"``, ``"40%"`` (of :func:`available_memory`) or a number."""
    percent = re.fullmatch(r"\s*([0-9.]+)\s*%\s*", str(text))
    if percent:
        share = float(percent.group(1))
        if not 0 < share <= 100:
            raise InvalidInstanceError("memory_limit", f"a percentage must lie in (0, 100], got {text!r}")
        return int(share / 100 * available_memory())
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
    for unit, size in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 10**9


def available_memory() -> int:
    """Return the bytes the machine can give now: ``MemAvailable`` of ``/proc/meminfo``, else the
    free pages (``os.sysconf``), else the physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return _physical_memory()


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
    return int(DEFAULT_MEMORY_FRACTION * available_memory())


def check_memory(what: str, size, estimate_bytes: float) -> int:
    """Return ``estimate_bytes`` when it fits the limit; else raise ProblemTooLargeError (size, estimate, limit)."""
    limit = memory_limit()
    if estimate_bytes > limit:
        source = "set_memory_limit" if _override is not None else (
            MEMORY_LIMIT_ENV if os.environ.get(MEMORY_LIMIT_ENV) else
            f"{DEFAULT_MEMORY_FRACTION:.0%} of the {format_bytes(available_memory())} available")
        raise ProblemTooLargeError(what, size, f"{format_bytes(limit)} ({source})",
                                   estimate=format_bytes(estimate_bytes))
    return int(estimate_bytes)
