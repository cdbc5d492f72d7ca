"""Executors: where benchmark runs execute — a local pool of worker processes (default) or a
Dask cluster — behind one interface.

:meth:`Executor.run` takes the tasks and yields ``(task, record, history, submitted)`` as runs
finish, so the caller (the single writer) stores each one at once.  Both executors keep at
most one run per worker slot in flight, which lets them apply a *hard timeout* per run:

* :class:`LocalExecutor` runs its own worker processes (``multiprocessing`` with one pipe
  per worker, not ``concurrent.futures``, because a hung run must be killable without
  losing the pool).  A run past its hard timeout has its worker killed and is recorded as
  TIME_LIMIT; a worker that dies (segfault, out of memory) is recorded as ERROR; a fresh
  worker replaces either.
* :class:`DaskExecutor` submits to a ``dask.distributed`` scheduler (``tcp://HOST:PORT``) or
  a ``LocalCluster`` it starts.  Dask cannot interrupt a running task: a run past its hard
  timeout is recorded as TIME_LIMIT and its future cancelled, but its worker thread stays
  busy until the solver returns (solvers honour ``time_limit``, so this is the rare case).

:meth:`Executor.request_stop` (called on Ctrl-C) stops new submissions; the runs in flight
finish and are yielded.
"""

from __future__ import annotations

import collections
import multiprocessing
import sys
import time
from multiprocessing.connection import wait as wait_connections

from cutslack.bench.worker import execute_run, failed_record, worker_init
from cutslack.errors import BackendUnavailableError
from cutslack.result import Status

__all__ = ["Executor", "LocalExecutor", "DaskExecutor"]


class Executor:
    """Base class: a bounded number of slots, each running one task at a time with a hard timeout."""

    slots: int = 1

    def __init__(self):
        self._stop = False

    def request_stop(self) -> None:
        """Submit nothing more; the runs in flight still finish and are yielded."""
        self._stop = True

    @property
    def stopping(self) -> bool:
        return self._stop

    def run(self, tasks):
        """Yield ``(task, record, history, submitted)`` for every task, in completion order.

        ``submitted`` is the ``time.monotonic()`` of the submission (None for a run that
        produced no result: it failed to submit, its worker died or it was abandoned).
        """
        pending = collections.deque(tasks)
        inflight = {}  # handle -> (task, deadline)
        self._start(min(self.slots, len(pending)), pending[0].imports if pending else ())
        try:
            while inflight or (pending and not self._stop):
                while pending and not self._stop and len(inflight) < self.slots:
                    task = pending.popleft()
                    try:
                        handle = self._submit(task)
                    except Exception as exc:  # noqa: BLE001 - e.g. an instance that cannot be pickled
                        yield task, failed_record(task, Status.ERROR, f"cannot submit the run: {exc}", 0.0), [], None
                        continue
                    submitted = time.monotonic()
                    inflight[handle] = (task, submitted + task.hard_timeout, submitted)
                if not inflight:
                    continue
                timeout = max(0.0, min(d for _, d, _ in inflight.values()) - time.monotonic())
                for handle, ok, payload in self._wait(list(inflight), timeout):
                    task, _, submitted = inflight.pop(handle)
                    if ok:
                        record, history = payload
                        yield task, record, history, submitted
                    else:
                        elapsed = time.monotonic() - submitted
                        yield task, failed_record(task, Status.ERROR, payload, elapsed), [], None
                now = time.monotonic()
                for handle, (task, deadline, _) in list(inflight.items()):
                    if now >= deadline:
                        del inflight[handle]
                        message = self._abandon(handle)
                        yield task, failed_record(task, Status.TIME_LIMIT, f"no result within the hard timeout of "
                                                  f"{task.hard_timeout:g} s; {message}", task.hard_timeout), [], None
        finally:
            self._shutdown()

    # the slot primitives each executor implements
    def _start(self, n_slots: int, imports) -> None:
        """Prepare up to ``n_slots`` slots."""

    def _submit(self, task):
        """Start ``task`` on a free slot and return its handle."""
        raise TypeError(f"{type(self).__name__} cannot submit runs")

    def _wait(self, handles, timeout):
        """Return ``[(handle, ok, payload)]`` for handles done within ``timeout`` seconds."""
        raise TypeError(f"{type(self).__name__} cannot wait for runs")

    def _abandon(self, handle) -> str:
        """Give up on a run past its hard timeout; return what was done, in a few words."""
        return ""

    def _shutdown(self) -> None:
        """Release workers."""


def _worker_main(conn, imports) -> None:
    """Loop of a local worker process: receive a task, execute it, send the outcome back."""
    worker_init(imports)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(execute_run(task))


class _Worker:
    def __init__(self, ctx, imports):
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, tuple(imports)), daemon=True)
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class LocalExecutor(Executor):
    """A pool of ``workers`` local processes with per-run hard timeouts.

    ``start_method`` is a :mod:`multiprocessing` start method; the default ``forkserver``
    (``spawn`` where there is none) is safe with threads in the parent and starts a
    replacement worker quickly after a kill.
    """

    def __init__(self, workers: int = 2, *, start_method: str | None = None):
        super().__init__()
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.slots = int(workers)
        if start_method is None:
            start_method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self.ctx = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            from cutslack.api import SOLVER_MODULES

            # the fork server imports the solvers and loads their compiled kernels once; each worker
            # (and each replacement) forks ready
            self.ctx.set_forkserver_preload(["cutslack.bench.worker", *SOLVER_MODULES, "cutslack.bench.warm"])
        self.idle: list[_Worker] = []
        self.busy: dict = {}
        self.imports = ()

    def _start(self, n_slots, imports):
        self.imports = tuple(imports)
        self.idle = [_Worker(self.ctx, self.imports) for _ in range(max(0, n_slots))]

    def _submit(self, task):
        worker = self.idle.pop() if self.idle else _Worker(self.ctx, self.imports)
        try:
            worker.conn.send(task)
        except Exception:
            self.idle.append(worker)
            raise
        return worker

    def _wait(self, handles, timeout):
        by_conn = {w.conn: w for w in handles}
        done = []
        for conn in wait_connections(list(by_conn), timeout):
            worker = by_conn[conn]
            try:
                done.append((worker, True, conn.recv()))
                self.idle.append(worker)
            except (EOFError, OSError):
                worker.process.join(5)
                code = worker.process.exitcode
                worker.kill()
                done.append((worker, False, f"the worker process died (exit code {code}) during the run"))
        return done

    def _abandon(self, worker):
        worker.kill()
        return "its worker process was killed"

    def _shutdown(self):
        for worker in self.idle:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in self.idle:
            worker.process.join(2)
            if worker.process.is_alive():
                worker.kill()
        self.idle = []


def _dask_execute(task):
    """Execute one task on a Dask worker (importing the suite's extra modules there first)."""
    from cutslack.bench.suite import import_extra_modules

    import_extra_modules(task.imports)
    return execute_run(task)


class DaskExecutor(Executor):
    """Runs on a Dask cluster: ``scheduler="tcp://HOST:PORT"``, or a ``LocalCluster`` of ``local_workers``.

    Needs the ``dist`` extra (``pip install 'cutslack[dist]'``); dask is imported here only.
    """

    def __init__(self, scheduler: str | None = None, *, local_workers: int | None = None, processes: bool = True):
        super().__init__()
        if (scheduler is None) == (local_workers is None):
            raise ValueError("give exactly one of scheduler (an address) or local_workers (a count)")
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise BackendUnavailableError("dask.distributed", "pip install 'cutslack[dist]'") from None
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.processes = processes
        self.cluster = None
        self.client = None

    def _start(self, n_slots, imports):
        from dask.distributed import Client, LocalCluster

        if self.scheduler is not None:
            try:
                self.client = Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise BackendUnavailableError(f"Dask scheduler at {self.scheduler} ({exc})") from None
        else:
            self.cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1, processes=self.processes,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        self.slots = max(1, sum(self.client.nthreads().values()))

    def _submit(self, task):
        return self.client.submit(_dask_execute, task, pure=False)

    def _wait(self, handles, timeout):
        from dask.distributed import wait

        try:
            done, _ = wait(handles, timeout=timeout if timeout > 0 else 0.001, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        out = []
        for future in done:
            if future.status == "finished":
                out.append((future, True, future.result()))
            else:
                exc = future.exception()
                out.append((future, False, f"the Dask task failed: {type(exc).__name__}: {exc}"))
        return out

    def _abandon(self, future):
        future.cancel()
        return "its Dask future was cancelled (Dask cannot interrupt a running task)"

    def _shutdown(self):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None
        sys.stdout.flush()
