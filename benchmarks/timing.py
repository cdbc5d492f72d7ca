"""The one timing method behind every speed claim in ``benchmarks/``.

A speed ratio is only worth printing when both sides were timed the same way, on the same
threads, at the same moment.  :func:`compare` does that:

* **the cold first call apart** — each side's first call (imports, JIT compilation or a cache
  load, allocator warm-up) is timed once and reported separately, never mixed into the rounds;
* **interleaved rounds** — at least :data:`MIN_ROUNDS` rounds, each calling every side once, the
  order alternating from round to round (A B, B A, A B, ...), so a burst of load from outside
  hits both sides alike instead of one;
* **median and spread** — per side the median, minimum and maximum over the rounds, for wall
  time (``time.perf_counter``) and CPU time of this process (``time.process_time``, which counts
  every thread of the process); the ratio is the **median of the per-round ratios** (each round's
  two timings are neighbours in time), with its minimum and maximum;
* **load recorded** — the 1-minute load average before and after (:func:`os.getloadavg`);
* **threads pinned** — :func:`pin_threads` sets the usual thread variables before NumPy, Numba
  or a peer is imported, and :func:`thread_report` says what each library actually uses, so the
  results file can state "both sides on N threads".

A side that runs in another process (a peer's own binary) must be timed by that side's
callable and returned as ``(wall, cpu)``; see :func:`compare`'s ``timed`` argument.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["MIN_ROUNDS", "THREAD_VARIABLES", "pin_threads", "thread_report", "SideTiming", "Comparison", "compare"]

#: fewest interleaved rounds a published ratio may rest on
MIN_ROUNDS = 5
THREAD_VARIABLES = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def pin_threads(threads: int) -> None:
    """Set every thread variable to ``threads`` (call before NumPy, Numba or a peer is imported).

    Where Numba is already imported its pool is limited too (``numba.set_num_threads``).
    """
    for var in THREAD_VARIABLES:
        os.environ[var] = str(int(threads))
    import sys

    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(int(threads), numba.config.NUMBA_NUM_THREADS))


def thread_report() -> str:
    """Return what the loaded libraries use: Numba's thread count and the BLAS pools (threadpoolctl)."""
    import sys

    parts = []
    if "numba" in sys.modules:
        import numba

        parts.append(f"numba {numba.get_num_threads()}")
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            parts.append(f"{pool.get('internal_api', pool.get('user_api'))} {pool.get('num_threads')}")
    except ImportError:
        pass
    return ", ".join(parts) or "no thread pools loaded"


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


@dataclass
class SideTiming:
    """One side's timings: the cold first call and one (wall, cpu) pair per round, in seconds."""

    name: str
    cold_wall: float = float("nan")
    cold_cpu: float = float("nan")
    wall: list = field(default_factory=list)
    cpu: list = field(default_factory=list)

    def median(self, what: str = "wall") -> float:
        return statistics.median(getattr(self, what))

    def spread(self, what: str = "wall") -> tuple[float, float]:
        values = getattr(self, what)
        return min(values), max(values)


@dataclass
class Comparison:
    """The outcome of :func:`compare`: every side's timings, the load before and after, the round orders."""

    sides: dict
    load_start: float
    load_end: float
    orders: list

    def ratio(self, slow: str, fast: str, what: str = "wall") -> tuple[float, float, float]:
        """Return ``(median, min, max)`` over rounds of ``slow``'s time divided by ``fast``'s.

        A ratio above 1 means ``fast`` took less time; each round's pair was timed back to back.
        """
        a, b = getattr(self.sides[slow], what), getattr(self.sides[fast], what)
        ratios = [x / y if y > 0 else float("inf") for x, y in zip(a, b)]
        return statistics.median(ratios), min(ratios), max(ratios)

    def summary(self, slow: str, fast: str) -> str:
        """Return one line: the median ratio by wall and CPU time with its spread, rounds and load."""
        w, c = self.ratio(slow, fast, "wall"), self.ratio(slow, fast, "cpu")
        rounds = len(self.sides[slow].wall)
        return (f"{slow} / {fast}: {w[0]:.2f}x by wall (rounds {w[1]:.2f}-{w[2]:.2f}), {c[0]:.2f}x by CPU "
                f"(rounds {c[1]:.2f}-{c[2]:.2f}); median of {rounds} interleaved rounds; load "
                f"{self.load_start:.2f} -> {self.load_end:.2f}")

    def side_line(self, name: str) -> str:
        """Return one line for one side: cold call, then median [min-max] wall and CPU seconds."""
        s = self.sides[name]
        lo, hi = s.spread("wall")
        clo, chi = s.spread("cpu")
        return (f"{name}: cold {s.cold_wall:.4g} s; wall median {s.median('wall'):.4g} s [{lo:.4g}-{hi:.4g}], "
                f"CPU median {s.median('cpu'):.4g} s [{clo:.4g}-{chi:.4g}]")


def _time_call(fn: Callable, timed: bool) -> tuple[float, float, object]:
    if timed:
        wall, cpu, *rest = fn()
        return float(wall), float(cpu), (rest[0] if rest else None)
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def compare(sides: dict, *, rounds: int = MIN_ROUNDS, timed: frozenset | set = frozenset(),
            on_result: Callable | None = None) -> Comparison:
    """Time every callable of ``sides`` (name -> zero-argument callable) by the method above.

    Parameters
    ----------
    sides : dict
        At least two named callables doing the same work (same instance, same seeds).
    rounds : int
        Interleaved rounds after the cold calls (at least :data:`MIN_ROUNDS`).
    timed : set of names
        Sides whose callable times itself and returns ``(wall, cpu[, result])`` — for work done in
        another process, or where the call users make includes set-up the callable must exclude.
    on_result : callable, optional
        Called as ``on_result(name, round_index, result)`` after every call (``round_index`` -1 for
        the cold call), e.g. to check that both sides computed the same energies.

    Returns
    -------
    Comparison
    """
    if len(sides) < 2:
        raise ValueError("compare needs at least two sides")
    if rounds < MIN_ROUNDS:
        raise ValueError(f"rounds must be at least {MIN_ROUNDS}, got {rounds}")
    names = list(sides)
    out = {name: SideTiming(name) for name in names}
    load_start = _load()
    for name in names:
        wall, cpu, res = _time_call(sides[name], name in timed)
        out[name].cold_wall, out[name].cold_cpu = wall, cpu
        if on_result is not None:
            on_result(name, -1, res)
    orders = []
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        orders.append(tuple(order))
        for name in order:
            wall, cpu, res = _time_call(sides[name], name in timed)
            out[name].wall.append(wall)
            out[name].cpu.append(cpu)
            if on_result is not None:
                on_result(name, r, res)
    return Comparison(out, load_start, _load(), orders)
