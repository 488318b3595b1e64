"""The PostgreSQL runner: every registered job as a procrastinate task.

- Jobs are rows in ``procrastinate_jobs`` (schema applied by the Alembic migration), deferred inside
  the business transaction (``haoban.jobs.defer``) or on a schedule (procrastinate's periodic tasks:
  every worker on every machine runs the scheduler, a unique key per (task, period) lets exactly one
  of them defer each period's run, and a trigger (migration 0024) refuses a period older than one
  already deferred, which a lagging worker would otherwise defer again).
- A job's ``lock`` is procrastinate's lock: two jobs holding it never run at the same time anywhere.
- Retries with exponential back-off (``RetryStrategy``); every failed run's error goes to
  ``job_failures`` and the job ends ``failed`` after its last attempt.
- A worker killed mid-job stops sending heartbeats; the ``jobs.recover_stalled`` task (itself
  periodic) puts its jobs back in the queue, where another worker picks them up. Job functions are
  written so that running one again after a crash has its effect once (each unit of work commits
  with the mark that it is done).
- ``jobs.prune`` deletes jobs that succeeded more than a day ago, every hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.engine import make_url

from haoban.jobs.registry import REGISTRY, Job, JobContext, record_failure

log = logging.getLogger(__name__)
RECOVER = "jobs.recover_stalled"
PRUNE = "jobs.prune"
KEEP_HOURS = 24


def conninfo(database_url: str) -> str:
    """A libpq connection string for procrastinate's own psycopg pool, from the SQLAlchemy URL."""
    url = make_url(database_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_app(rt: Any, jobs: dict[str, Job] | None = None, *, observe: Any = None) -> procrastinate.App:
    """A procrastinate ``App`` with one task per registered job, bound to ``rt``."""
    settings = rt.settings
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(rt.db.url), min_size=1, max_size=4, kwargs={"application_name": "haoban-jobs"}
        )
    )
    for spec in (jobs if jobs is not None else REGISTRY).values():
        _add_task(app, rt, spec, observe)

    stalled_after = settings.job_stalled_seconds

    @app.periodic(cron=_recover_cron(settings))
    @app.task(name=RECOVER, lock=RECOVER, pass_context=True)
    async def recover_stalled(context: Any, timestamp: int) -> int:
        # Jobs left 'doing' by a worker whose heartbeat stopped (killed, machine lost) go back to 'todo'.
        stalled = await context.app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after)
        for job in stalled:
            log.warning("job %s #%s was left by a stalled worker; queued again", job.task_name, job.id)
            await context.app.job_manager.retry_job(job)
        return len(list(stalled))

    @app.periodic(cron="17 * * * *")
    @app.task(name=PRUNE, lock=PRUNE, pass_context=True)
    async def prune(context: Any, timestamp: int) -> None:
        # Finished jobs are history, not queue: keep a day of it (failed jobs stay, with their errors
        # in job_failures), or a periodic job every few seconds grows the table without end.
        await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_HOURS)

    return app


def _recover_cron(settings: Any) -> str:
    from haoban.jobs.registry import cron_every

    seconds = max(1, min(30, round(settings.job_heartbeat_seconds)))
    while 60 % seconds:
        seconds -= 1
    return cron_every(seconds)


def _add_task(app: procrastinate.App, rt: Any, spec: Job, observe: Any) -> None:
    def run(context: Any, **kwargs: Any) -> Any:
        kwargs.pop("timestamp", None)  # what procrastinate passes to periodic tasks
        attempt = context.job.attempts + 1
        started = time.monotonic()
        ctx = JobContext(
            rt=rt, name=spec.name, attempt=attempt, job_id=context.job.id, runner="procrastinate"
        )
        ok = False
        try:
            result = spec.fn(ctx, **kwargs)
            ok = True
            return result
        except Exception as exc:
            record_failure(
                rt,
                name=spec.name,
                runner="procrastinate",
                attempt=attempt,
                final=attempt >= spec.max_attempts,
                error=exc,
                job_id=context.job.id,
            )
            raise
        finally:
            if observe is not None:
                observe(spec.name, time.monotonic() - started, ok)

    retry = (
        procrastinate.RetryStrategy(max_attempts=spec.max_attempts - 1, exponential_wait=spec.backoff)
        if spec.max_attempts > 1
        else False
    )
    task = app.task(
        name=spec.name,
        queue=spec.queue,
        lock=spec.lock,
        retry=retry,
        pass_context=True,
    )(run)
    cron = spec.cron_line(rt.settings)
    if cron is not None:
        app.periodic(cron=cron)(task)


class ProcrastinateRunner:
    """A procrastinate worker for ``rt``: on a thread of ``haoban serve``, or in the foreground of
    ``haoban worker``. Any number of them, on any number of machines, share the one queue."""

    kind = "procrastinate"

    def __init__(
        self, rt: Any, jobs: dict[str, Job] | None = None, *, concurrency: int = 1, observe: Any = None
    ) -> None:
        self.rt = rt
        self.app = build_app(rt, jobs, observe=observe)
        self.concurrency = concurrency
        self.name = f"{socket.gethostname()}-{os.getpid()}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def _options(self, *, signals: bool) -> dict[str, Any]:
        settings = self.rt.settings
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "install_signal_handlers": signals,
            "update_heartbeat_interval": settings.job_heartbeat_seconds,
            "stalled_worker_timeout": settings.job_stalled_seconds,
            # Graceful stop: a running job gets this long to finish before it is aborted (and retried).
            "shutdown_graceful_timeout": 30.0,
            "fetch_job_polling_interval": 2.0,
        }

    async def _main(self, *, signals: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()  # type: ignore[assignment]
        async with self.app.open_async():
            self._started.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self.app.run_worker_async(**self._options(signals=signals))

    def run_forever(self) -> None:
        """Work in the foreground until SIGINT / SIGTERM (``haoban worker``)."""
        asyncio.run(self._main(signals=True))

    def start(self) -> None:
        def run() -> None:
            try:
                asyncio.run(self._main(signals=False))
            except Exception:
                log.exception("the job worker stopped")

        self._thread = threading.Thread(target=run, name="haoban-jobs", daemon=True)
        self._thread.start()
        self._started.wait(timeout=30)

    def stop(self, timeout: float = 35.0) -> None:
        """Let the running job finish (up to the graceful timeout), then stop."""
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def stats(self) -> dict[str, Any]:
        out = queue_stats(self.rt)
        out.update(runner=self.kind, alive=self._thread is None or self._thread.is_alive(), worker=self.name)
        return out


_QUEUE = text(
    """
    SELECT j.status::text AS status, count(*) AS n,
           EXTRACT(EPOCH FROM now() - min(e.at)) AS oldest
      FROM procrastinate_jobs j
      LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
     WHERE j.status IN ('todo', 'doing')
       AND (j.status = 'doing' OR j.scheduled_at IS NULL OR j.scheduled_at <= now())
     GROUP BY j.status
    """
)


def queue_stats(rt: Any) -> dict[str, Any]:
    """Jobs due and running in the shared queue, and how long the oldest due one has waited."""
    with rt.db.read() as session:
        rows = {r.status: r for r in session.execute(_QUEUE)}
        workers = session.scalar(text("SELECT count(*) FROM procrastinate_workers")) or 0
    todo = rows.get("todo")
    doing = rows.get("doing")
    return {
        "due": int(todo.n) if todo else 0,
        "running_jobs": int(doing.n) if doing else 0,
        "oldest_due_seconds": round(float(todo.oldest or 0.0), 3) if todo else 0.0,
        "workers": int(workers),
    }
