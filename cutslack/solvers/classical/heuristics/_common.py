"""Pieces every heuristic in this package shares: the integer seed handed to a Numba kernel,
the chunked outer loop that keeps the wall clock and the callback in Python, and a check
that a square matrix is symmetric.

Numba's nopython mode cannot read the clock, so each search runs as a sequence of compiled
chunks of a fixed amount of work (a batch of kicks, tabu iterations...).  Between chunks
:func:`run_chunks` checks ``time_limit``, calls the callback and stops on the method's own
rule.  Chunk sizes are fixed by the instance size, never by timing, so the same seed gives
the same result whenever no time limit cuts the run short.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from cutslack.api import Run
from cutslack.errors import InvalidInstanceError

__all__ = ["kernel_seed", "run_chunks", "require_symmetric"]


def kernel_seed(run: Run) -> int:
    """Return a non-negative 31-bit integer drawn from ``run.rng`` to seed a Numba kernel."""
    return int(run.rng.integers(0, 2**31 - 1))


def run_chunks(run: Run, step: Callable[[], bool], intermediate: Callable, *, max_chunks: int | None = None) -> int:
    """Return how many chunks ran: ``step()`` is called until it returns False (converged),
    ``max_chunks`` is reached, the deadline passes or the callback raises ``StopIteration``.

    ``intermediate()`` builds the Result handed to the callback (only built when there is one).
    """
    chunks = 0
    while True:
        more = step()
        chunks += 1
        if run.callback is not None and run.report(intermediate()):
            break
        if not more or run.expired() or (max_chunks is not None and chunks >= max_chunks):
            break
    return chunks


def require_symmetric(matrix: np.ndarray, field: str, method: str) -> None:
    """Raise InvalidInstanceError naming ``field`` when ``matrix`` is not symmetric."""
    if not np.allclose(matrix, matrix.T):
        raise InvalidInstanceError(field, f"method {method!r} needs a symmetric matrix")
