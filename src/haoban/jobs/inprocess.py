"""The in-process runner: the embedded (SQLite) default, one thread inside ``haoban serve`` or
``haoban worker``. Periodic jobs run on their timers, deferred jobs when their transaction commits,
failures are retried with the job's back-off and then recorded as failed — the same job functions and
the same rules as on procrastinate, without a queue table (a deferred job not yet run is lost if the
process dies; what must survive a crash is written to the transactional outbox, which a periodic job
drains).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from haoban.jobs.registry import REGISTRY, Job, JobContext, get, record_failure, run_once

log = logging.getLogger(__name__)
__all__ = ["InProcessRunner", "run_once"]


@dataclass(order=True)
class _Entry:
    due: float
    seq: int
    name: str = field(compare=False)
    args: dict[str, Any] = field(compare=False, default_factory=dict)
    attempt: int = field(compare=False, default=1)
    periodic: bool = field(compare=False, default=False)
    queued_at: float = field(compare=False, default_factory=time.monotonic)


class InProcessRunner:
    """Runs registered jobs on one background thread of this process."""

    kind = "inprocess"

    def __init__(self, rt: Any, jobs: dict[str, Job] | None = None, *, observe: Any = None) -> None:
        self.rt = rt
        self.jobs = dict(jobs if jobs is not None else REGISTRY)
        self.observe = observe  # called with (job name, seconds, ok) after every run (metrics)
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.running: str | None = None
        now = time.monotonic()
        for spec in self.jobs.values():
            if spec.periodic:
                self._push(_Entry(now, next(self._seq), spec.name, periodic=True))

    # --- queue ------------------------------------------------------------------------------------
    def _push(self, entry: _Entry) -> None:
        with self._cond:
            heapq.heappush(self._heap, entry)
            self._cond.notify()

    def submit(self, name: str, args: dict[str, Any] | None = None, *, delay: float = 0.0) -> None:
        get(name)  # unknown names fail here, in the caller, not later in the thread
        self._push(_Entry(time.monotonic() + delay, next(self._seq), name, dict(args or {})))

    def stats(self) -> dict[str, Any]:
        """Jobs waiting (deferred or retrying; periodic timers not counted) and the oldest one's age."""
        with self._cond:
            waiting = [e for e in self._heap if not e.periodic]
            now = time.monotonic()
            due = [e for e in waiting if e.due <= now]
            return {
                "runner": self.kind,
                "alive": self._thread is not None and self._thread.is_alive(),
                "waiting": len(waiting),
                "due": len(due),
                "oldest_due_seconds": round(max((now - e.queued_at for e in due), default=0.0), 3),
                "running": self.running,
            }

    # --- thread -----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="haoban-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the job running now (if any), then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    wait = self._heap[0].due - time.monotonic() if self._heap else 3600.0
                    if wait <= 0:
                        break
                    self._cond.wait(min(wait, 3600.0))
                if self._stopping:
                    return
                entry = heapq.heappop(self._heap)
            self._execute(entry)

    def _execute(self, entry: _Entry) -> None:
        spec = self.jobs.get(entry.name) or get(entry.name)
        started = time.monotonic()
        if entry.periodic:
            self._push(_Entry(self._next_due(spec, entry.due), next(self._seq), spec.name, periodic=True))
        self.running = spec.name
        ok = False
        try:
            spec.fn(JobContext(rt=self.rt, name=spec.name, attempt=entry.attempt), **entry.args)
            ok = True
        except Exception as exc:
            final = entry.attempt >= spec.max_attempts
            log.warning(
                "job %s failed (attempt %d of %d): %s", spec.name, entry.attempt, spec.max_attempts, exc
            )
            record_failure(
                self.rt,
                name=spec.name,
                runner=self.kind,
                attempt=entry.attempt,
                final=final,
                error=exc,
                job_id=None,
            )
            if not final:
                retry = _Entry(
                    time.monotonic() + spec.retry_wait(entry.attempt),
                    next(self._seq),
                    spec.name,
                    entry.args,
                    entry.attempt + 1,
                    queued_at=entry.queued_at,
                )
                self._push(retry)
        finally:
            self.running = None
            if self.observe is not None:
                self.observe(spec.name, time.monotonic() - started, ok)

    def _next_due(self, spec: Job, last_due: float) -> float:
        now = time.monotonic()
        interval = spec.interval(self.rt.settings)
        if interval is not None:
            # Keep the rhythm; after a long run (or a sleep) start from now rather than catch up.
            return max(last_due + interval, now)
        from croniter import croniter

        upcoming = croniter(spec.cron, datetime.now(UTC)).get_next(datetime)
        return now + max(0.0, (upcoming - datetime.now(UTC)).total_seconds())
