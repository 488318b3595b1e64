"""The background work of a process: a job runner (``haoban.jobs``) for the configured database.

``haoban serve`` starts one on a thread (unless ``--no-worker``); ``haoban worker`` runs one in the
foreground, on any machine. With PostgreSQL that is a procrastinate worker sharing the queue with
every other one; with SQLite the in-process runner. ``tick`` runs the periodic jobs once, here and now
(``haoban worker --once``, tests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from haoban.jobs.inprocess import run_once
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


def start(rt: Runtime, *, observe: Any = None) -> Any:
    """Start ``rt``'s job runner on a thread; ``stop(rt)`` ends it."""
    from haoban.jobs import make_runner

    runner = make_runner(rt, observe=observe)
    runner.start()
    rt.jobs = runner
    return runner


def stop(rt: Runtime) -> None:
    runner, rt.jobs = rt.jobs, None
    if runner is not None:
        runner.stop()
