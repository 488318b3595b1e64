"""The one job interface: a job is a plain function of a ``JobContext`` (and JSON arguments), declared
once with ``@job``; two runners execute the same functions (see ``haoban.jobs``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from haoban.db import utcnow

log = logging.getLogger(__name__)

JobFn = Callable[..., Any]


@dataclass(frozen=True)
class Job:
    """A registered job. ``every`` is a number of seconds or the name of a ``Settings`` field holding
    one (``"sweep_seconds"``); ``cron`` a cron line (5 fields, or 6 with seconds last). A job with
    neither runs only when deferred. Jobs sharing a ``lock`` never run at the same time, across every
    worker on every machine. A failing run is retried ``max_attempts - 1`` times, the n-th retry
    ``backoff ** n`` seconds later; then the job is marked failed with its error (``job_failures``)."""

    name: str
    fn: JobFn
    every: float | str | None = None
    cron: str | None = None
    lock: str | None = None
    max_attempts: int = 5
    backoff: int = 2
    queue: str = "default"

    @property
    def periodic(self) -> bool:
        return self.every is not None or self.cron is not None

    def interval(self, settings: Any) -> float | None:
        """Seconds between runs of an ``every`` job under ``settings``."""
        if self.every is None:
            return None
        return float(getattr(settings, self.every) if isinstance(self.every, str) else self.every)

    def cron_line(self, settings: Any) -> str | None:
        """The job's schedule as a cron line (procrastinate's periodic tasks take one)."""
        if self.cron is not None:
            return self.cron
        seconds = self.interval(settings)
        return None if seconds is None else cron_every(seconds)

    def retry_wait(self, attempt: int) -> float:
        """Seconds before the retry that follows failed attempt number ``attempt`` (1-based)."""
        return float(self.backoff**attempt)


@dataclass
class JobContext:
    """What a job function receives: the process's runtime and where this run stands."""

    rt: Any  # haoban.runtime.Runtime (typed loosely: jobs sit below the runtime's floor)
    name: str
    attempt: int = 1
    job_id: int | None = None
    runner: str = "inprocess"
    extra: dict[str, Any] = field(default_factory=dict)


REGISTRY: dict[str, Job] = {}


def job(
    name: str,
    *,
    every: float | str | None = None,
    cron: str | None = None,
    lock: str | None = None,
    max_attempts: int = 5,
    backoff: int = 2,
    queue: str = "default",
) -> Callable[[JobFn], JobFn]:
    """Register the decorated function as job ``name`` (one line in a domain's ``jobs.py``)::

    @job("benefits.match", every=3600, lock="benefits.match")
    def match(ctx: JobContext) -> dict[str, int]: ...
    """

    def register(fn: JobFn) -> JobFn:
        if every is not None and cron is not None:
            raise ValueError(f"job {name!r}: give every or cron, not both")
        if max_attempts < 1:
            raise ValueError(f"job {name!r}: max_attempts must be at least 1")
        REGISTRY[name] = Job(name, fn, every, cron, lock, max_attempts, backoff, queue)
        return fn

    return register


def get(name: str) -> Job:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise KeyError(f"no job named {name!r}; registered: {known}") from None


def cron_every(seconds: float) -> str:
    """A cron line that fires every ``seconds`` (which must divide a minute, an hour or a day)."""
    s = round(seconds)
    if s <= 0:
        raise ValueError("a job's interval must be at least one second")
    if s < 60 and 60 % s == 0:
        return f"* * * * * */{s}"
    if s % 60 == 0 and s < 3600 and 60 % (s // 60) == 0:
        return f"*/{s // 60} * * * *"
    if s % 3600 == 0 and s < 86400 and 24 % (s // 3600) == 0:
        return f"0 */{s // 3600} * * *"
    if s == 86400:
        return "0 0 * * *"
    raise ValueError(
        f"an interval of {s} s cannot be scheduled on every machine alike; use a divisor of a minute "
        "(1-30 s), of an hour (1-30 min) or of a day (1-12 h)"
    )


def uses_procrastinate(rt: Any) -> bool:
    """Whether ``rt``'s jobs run on procrastinate (PostgreSQL) or in-process (SQLite)."""
    choice = rt.settings.job_runner
    if choice == "auto":
        return not rt.db.is_sqlite
    if choice == "procrastinate" and rt.db.is_sqlite:
        raise ValueError("HAOBAN_JOB_RUNNER=procrastinate needs PostgreSQL")
    return bool(choice == "procrastinate")


# --- deferring ------------------------------------------------------------------------------------

_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, :queueing_lock, "
    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
)
_PENDING_KEY = "haoban.jobs.pending"


def defer(session: Session, rt: Any, name: str, /, **args: Any) -> None:
    """Queue job ``name`` with ``args`` as part of ``session``'s transaction: if it rolls back, the
    job never existed; if it commits, the job will run.

    On PostgreSQL the job row is written by procrastinate's own SQL function inside the transaction.
    On SQLite the job is handed to this process's in-process runner when the transaction commits (or,
    without a running runner — a command-line call —, run at once after the commit).
    """
    spec = get(name)
    payload = json.dumps(args, ensure_ascii=False, default=str)
    if uses_procrastinate(rt):
        session.execute(
            _DEFER,
            {
                "queue": spec.queue,
                "task": spec.name,
                "lock": spec.lock,
                "queueing_lock": None,
                "args": payload,
            },
        )
        return
    session.info.setdefault(_PENDING_KEY, []).append((rt, name, json.loads(payload)))


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    for rt, name, args in pending or ():
        runner = getattr(rt, "jobs", None)
        if runner is not None and hasattr(runner, "submit"):
            runner.submit(name, args)
        else:
            try:
                run_once(rt, name, args)
            except Exception:  # recorded in job_failures by run_once; the commit stands
                log.exception("job %s failed after commit", name)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def record_failure(
    rt: Any, *, name: str, runner: str, attempt: int, final: bool, error: BaseException, job_id: int | None
) -> None:
    """Keep a failed run's error (the job queue itself keeps only the status)."""
    from haoban.jobs.models import JobFailure

    message = f"{error.__class__.__name__}: {error}"[:2000]
    try:
        with rt.db.write() as session:
            session.add(
                JobFailure(
                    at=utcnow(),
                    runner=runner,
                    task=name,
                    job_id=job_id,
                    attempt=attempt,
                    final=final,
                    error=message,
                )
            )
    except Exception:  # the database itself may be what failed; the log keeps it then
        log.exception("could not record the failure of job %s", name)


def run_once(rt: Any, name: str, args: dict[str, Any] | None = None, *, attempt: int = 1) -> Any:
    """Run job ``name`` once, here and now; a failure is recorded (final: no retry follows) and raised."""
    spec = get(name)
    ctx = JobContext(rt=rt, name=name, attempt=attempt, runner="inprocess")
    try:
        return spec.fn(ctx, **(args or {}))
    except Exception as exc:
        record_failure(rt, name=name, runner="inprocess", attempt=attempt, final=True, error=exc, job_id=None)
        raise
