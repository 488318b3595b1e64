"""The background work of a process: a job runner (``haoban.jobs``) for the configured database.

``haoban serve`` starts one on a thread (unless ``--no-worker``); ``haoban worker`` runs one in the
foreground, on any machine. With PostgreSQL that is a procrastinate worker sharing the queue with
every other one; with SQLite the in-process runner. ``tick`` runs the periodic jobs once, here and now
(``haoban worker --once``, tests).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from haoban.jobs.inprocess import run_once
from haoban.metrics import observe_job
from haoban.orders.sweep import SweepResult
from haoban.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class TickResult:
    sweep: SweepResult = field(default_factory=SweepResult)
    sent: int = 0
    categorised: int = 0
    swept: bool = False


def tick(rt: Runtime, *, sweep_due: bool = True) -> TickResult:
    """One pass of the periodic jobs: the sweep and categorising (when due), then the outbox."""
    result = TickResult()
    if sweep_due:
        result.sweep = SweepResult(**run_once(rt, "orders.sweep"))
        result.swept = True
        result.categorised = run_once(rt, "orders.categorise")
    result.sent = run_once(rt, "notifications.drain")
    return result


def start(rt: Runtime) -> Any:
    """Start ``rt``'s job runner on a thread; ``stop(rt)`` ends it."""
    from haoban.jobs import make_runner

    runner = make_runner(rt, observe=observe_job)
    runner.start()
    rt.jobs = runner
    return runner


def stop(rt: Runtime) -> None:
    runner, rt.jobs = rt.jobs, None
    if runner is not None:
        runner.stop()


class Leader:
    """With several server processes on one machine (``serve --workers N``) one of them runs the job
    runner: the one holding an exclusive lock on ``path``. If it dies, the lock is released with it and
    another process takes over within ``retry`` seconds."""

    def __init__(self, rt: Runtime, path: str, *, retry: float = 5.0) -> None:
        self.rt = rt
        self.path = path
        self.retry = retry
        self._stop = threading.Event()
        self._file: Any = None
        self._thread = threading.Thread(target=self._run, name="haoban-jobs-leader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        import fcntl

        handle = open(self.path, "a+")  # noqa: SIM115 (held open for the process's life: the lock)
        while not self._stop.is_set():
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._stop.wait(self.retry)
                continue
            self._file = handle
            log.info("this process runs the background jobs")
            start(self.rt)
            return
        handle.close()

    def stop(self) -> None:
        self._stop.set()
        stop(self.rt)
        if self._file is not None:
            self._file.close()  # releases the lock
