"""Pieces every heuristic in this package shares: the integer seed handed to a Numba kernel,
the chunked outer loop that keeps the wall clock and the callback in Python, and a check
that a square matrix is symmetric.

Numba's nopython mode cannot read the clock, so each search runs as a sequence of compiled
chunks of a fixed amount of work (a batch of kicks, tabu iterations...).  Between chunks
:func:`run_chunks` checks ``time_limit``, calls the callback and stops on the method's own
rule.  Chunk sizes are fixed by the instance size, never by timing, so the same seed gives
the same result whenever no time limit cuts the run short.

A search with a ``time_limit`` uses it: it stops early only when its incumbent reaches a
cheap valid bound (:mod:`cutslack.solvers.bounds`; the result is then OPTIMAL) or after
``max_no_improve`` units of work without a better incumbent when the user sets that.
Without a time limit a default stagnation budget ends it
(:func:`~cutslack.solvers.bounds.stagnation_budget`; statuses: :class:`cutslack.result.Status`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from cutslack.api import Run
from cutslack.errors import InvalidInstanceError
from cutslack.solvers.bounds import StopRule

__all__ = ["kernel_seed", "run_chunks", "stop_reason", "require_symmetric"]


def kernel_seed(run: Run) -> int:
    """Return a non-negative 31-bit integer drawn from ``run.rng`` to seed a Numba kernel."""
    return int(run.rng.integers(0, 2**31 - 1))


def run_chunks(run: Run, step: Callable[[], bool], intermediate: Callable, *, max_chunks: int | None = None,
               incumbent: Callable[[], float] | None = None, sense: str = "min", stop: StopRule | None = None,
               work_per_chunk: float = 1) -> int:
    """Return how many chunks ran: ``step()`` is called until it returns False (converged),
    ``max_chunks`` is reached, the deadline passes or the callback raises ``StopIteration``.

    ``intermediate()`` builds the Result handed to the callback (only built when there is one).
    With ``incumbent()`` (the best feasible objective so far) each improvement is recorded on
    the run (time to target), and ``stop`` (a :class:`~cutslack.solvers.bounds.StopRule`,
    fed ``work_per_chunk`` units per chunk) ends the search once the incumbent reaches its
    bound or stagnates; ``stop.reason`` then says which.
    """
    chunks = 0
    if incumbent is not None:   # the start itself may already reach the bound
        run.record_incumbent(incumbent(), sense)
        if stop is not None:
            stop.update(incumbent(), 0)
    while True:
        if stop is not None and stop.reason is not None:
            break
        more = step()
        chunks += 1
        if incumbent is not None:
            value = incumbent()
            run.record_incumbent(value, sense)
            if stop is not None and stop.update(value, work_per_chunk):
                more = False
        if run.callback is not None and run.report(intermediate()):
            break
        if not more or run.expired() or (max_chunks is not None and chunks >= max_chunks):
            break
    return chunks


def stop_reason(run: Run, stop: StopRule | None) -> str:
    """Return why a chunked search ended: "stopped", "bound", "stagnation", "time_limit" or "iteration limit"."""
    if run.stopped:
        return "stopped"
    if stop is not None and stop.reason is not None:
        return stop.reason
    return "time_limit" if run.timed_out else "iteration limit"


def require_symmetric(matrix: np.ndarray, field: str, method: str) -> None:
    """Raise InvalidInstanceError naming ``field`` when ``matrix`` is not symmetric."""
    if not np.allclose(matrix, matrix.T):
        raise InvalidInstanceError(field, f"method {method!r} needs a symmetric matrix")
