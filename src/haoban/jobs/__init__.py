"""Background jobs: one job interface, two runners.

A job is a function of a ``JobContext`` registered with ``@job`` in a domain's ``jobs.py`` (found by
``haoban.wiring``; modules named in ``HAOBAN_JOB_MODULES`` are imported too)::

    from haoban.jobs import JobContext, job

    @job("benefits.match", every=3600, lock="benefits.match")
    def match(ctx: JobContext) -> dict[str, int]:
        with ctx.rt.db.write() as session:
            ...

and queued from a transaction with ``defer(session, rt, "benefits.match", citizen=42)``.

- On PostgreSQL the jobs run on **procrastinate** (``haoban.jobs.pg``): a queue in the database, workers
  on any machine (``haoban worker``, and a worker thread inside each ``haoban serve`` unless
  ``--no-worker``), retries with back-off, periodic runs deferred once per period across all workers,
  locks, stalled jobs of a killed worker queued again.
- On SQLite (the embedded default) the same functions run in-process (``haoban.jobs.inprocess``) on a
  thread of ``haoban serve``: nothing to install, nothing to start.
"""

from __future__ import annotations

from typing import Any

from haoban.jobs.registry import REGISTRY, Job, JobContext, cron_every, defer, get, job, uses_procrastinate

__all__ = [
    "REGISTRY",
    "Job",
    "JobContext",
    "cron_every",
    "defer",
    "get",
    "job",
    "make_runner",
    "uses_procrastinate",
]


def make_runner(rt: Any, *, concurrency: int = 1, observe: Any = None) -> Any:
    """The runner for ``rt``'s database: procrastinate on PostgreSQL, in-process on SQLite."""
    if uses_procrastinate(rt):
        from haoban.jobs.pg import ProcrastinateRunner

        return ProcrastinateRunner(rt, concurrency=concurrency, observe=observe)
    from haoban.jobs.inprocess import InProcessRunner

    return InProcessRunner(rt, observe=observe)
