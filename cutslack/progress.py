"""One refreshed progress line for long solves on a terminal (``cutslack solve``).

:class:`ProgressLine` is a solver callback: each intermediate Result updates the line
(elapsed, incumbent, bound, gap, iterations), and a background timer refreshes the elapsed
time between callbacks, so a method that reports rarely (or never) still shows it is alive,
the way a MILP solver's log does.  It writes only to a terminal; the CLI turns it off with
``--quiet``, ``--json`` or a redirected stderr.
"""

from __future__ import annotations

import sys
import threading
import time

__all__ = ["ProgressLine", "format_progress"]


def format_progress(elapsed: float, result=None) -> str:
    """Return the progress text: elapsed seconds, then incumbent, bound, gap and iterations when known."""
    parts = [f"{elapsed:8.1f} s"]
    if result is None:
        parts.append("working...")
        return "  ".join(parts)
    parts.append(f"{result.method}")
    parts.append(f"incumbent {result.objective:.6g}" if result.feasible and result.objective is not None
                 else "no feasible solution yet")
    if result.bound is not None:
        parts.append(f"bound {result.bound:.6g}")
    if result.gap is not None:
        parts.append(f"gap {100 * result.gap:.3g} %")
    if result.nit:
        parts.append(f"it {result.nit}")
    return "  ".join(parts)


class ProgressLine:
    """A callback that keeps one refreshed status line on ``stream`` (default stderr).

    Use as a context manager around the solve; it never raises ``StopIteration`` and never
    changes the run.

    >>> import io
    >>> with ProgressLine(io.StringIO(), interval=10) as line:
    ...     pass
    """

    def __init__(self, stream=None, *, interval: float = 0.5):
        self.stream = stream if stream is not None else sys.stderr
        self.interval = float(interval)
        self.start = time.perf_counter()
        self.latest = None
        self._width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)

    def __call__(self, intermediate) -> None:
        self.latest = intermediate
        self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self._draw()

    def _draw(self) -> None:
        text = format_progress(time.perf_counter() - self.start, self.latest)
        with self._lock:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
            self._width = len(text)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        with self._lock:
            if self._width:
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
        return False
