"""Run a suite: plan its runs, skip those already stored (resume), execute the rest on an
executor and store each one as it finishes — the calling process is the single writer.

Progress shows in a tqdm bar (counts, failures, ETA) when stderr is a terminal and stays
quiet otherwise.  The first Ctrl-C stops submitting and lets the runs in flight finish and
be stored; a second one abandons them.  Either way every finished run is in the store and
running the same command again resumes the suite.

Other processes may run the same suite into the same store at once: the runs left are
claimed in the store first (:meth:`~cutslack.bench.store.Store.claim`), so each is done by
one process, and each process reports what *it* stored.  Runs that the suite lists twice
(a seed given twice) are done once.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field

from cutslack.bench.executors import Executor, LocalExecutor
from cutslack.bench.store import Store
from cutslack.bench.suite import Suite
from cutslack.result import Status

__all__ = ["run_suite", "RunSummary"]


@dataclass
class RunSummary:
    """What :func:`run_suite` did: runs planned, skipped (already stored), stored, by status."""

    suite: str
    planned: int = 0
    skipped: int = 0
    stored: int = 0
    #: runs claimed by another live process using the same store (not done here)
    elsewhere: int = 0
    #: runs listed more than once by the suite (the same seed twice), done once
    duplicates: int = 0
    statuses: dict = field(default_factory=dict)
    interrupted: bool = False
    elapsed: float = 0.0
    #: per stored run: harness overhead in seconds (submitted to stored, minus the solver's own time)
    overheads: list = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.statuses.get(Status.ERROR.value, 0)

    @property
    def complete(self) -> bool:
        return not self.interrupted and self.planned == self.skipped + self.stored + self.elsewhere

    def as_dict(self) -> dict:
        return {"suite": self.suite, "planned": self.planned, "skipped": self.skipped, "stored": self.stored,
                "elsewhere": self.elsewhere, "duplicates": self.duplicates,
                "statuses": dict(self.statuses), "errors": self.errors, "interrupted": self.interrupted,
                "complete": self.complete, "elapsed": round(self.elapsed, 3)}


def run_suite(suite: Suite, store: Store, *, executor: Executor | None = None, rerun: bool = False,
              progress: bool | None = None, log=None) -> RunSummary:
    """Execute the runs of ``suite`` not yet in ``store`` and return a :class:`RunSummary`.

    Parameters
    ----------
    suite : Suite
        From :func:`~cutslack.bench.suite.load_suite` (already validated).
    store : Store
        Where each finished run is written, one transaction per run.
    executor : Executor, optional
        Default: a :class:`~cutslack.bench.executors.LocalExecutor` with 2 workers.
    rerun : bool
        Run (and replace) runs that are already stored.
    progress : bool or None
        Show a progress bar; None shows it only when stderr is a terminal.
    log : callable, optional
        Called with one-line messages (interruption, how to resume).
    """
    from tqdm import tqdm

    log = log or (lambda msg: None)
    executor = executor or LocalExecutor(2)
    listed = suite.tasks()
    tasks = list({t.key: t for t in reversed(listed)}.values())[::-1]  # first of each key, in order
    summary = RunSummary(suite.name, planned=len(tasks), duplicates=len(listed) - len(tasks))
    if summary.duplicates:
        log(f"note: {summary.duplicates} run(s) listed twice (a repeated seed) are done once")
    claimed, held = store.claim([t.key for t in tasks], rerun=rerun)
    mine = set(claimed)
    todo = [t for t in tasks if t.key in mine]
    summary.elsewhere = len(held)
    summary.skipped = len(tasks) - len(todo) - len(held)
    if held:
        owners = ", ".join(sorted(set(held.values())))
        log(f"note: {len(held)} run(s) are being done by another process on this store ({owners}); not run here")
    start = time.perf_counter()
    bar = tqdm(total=len(todo), desc=suite.name, unit="run", disable=(None if progress is None else not progress),
               dynamic_ncols=True, leave=False)
    previous = _install_stop_handler(executor, log)
    try:
        for task, record, history, submitted in executor.run(todo):
            store.write_run(record, history)
            if submitted is not None:
                summary.overheads.append(time.monotonic() - submitted - (record.get("solver_time") or 0.0))
            summary.stored += 1
            summary.statuses[record["status"]] = summary.statuses.get(record["status"], 0) + 1
            bar.update(1)
            bar.set_postfix(errors=summary.errors, time_limited=summary.statuses.get(Status.TIME_LIMIT.value, 0),
                            refresh=False)
    except KeyboardInterrupt:
        summary.interrupted = True
        log("aborted: the runs in flight were abandoned")
    finally:
        bar.close()
        _restore_handler(previous)
        store.release()  # runs not stored (interrupted) go back to whoever runs the suite next
        summary.elapsed = time.perf_counter() - start
    if executor.stopping:
        summary.interrupted = True
    if summary.interrupted:
        left = summary.planned - summary.skipped - summary.stored
        log(f"interrupted: {summary.stored} runs stored, {left} left; run the same command again to resume")
    return summary


def _install_stop_handler(executor: Executor, log):
    """First Ctrl-C: stop submitting; second: KeyboardInterrupt.  Returns the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        if executor.stopping:
            raise KeyboardInterrupt
        executor.request_stop()
        log("stopping after the runs in flight (Ctrl-C again to abandon them)")

    return signal.signal(signal.SIGINT, handler)


def _restore_handler(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGINT, previous)
