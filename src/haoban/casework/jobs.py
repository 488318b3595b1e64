"""The cases' background job: the 限时督办 sweep (deadlines, escalation, meeting decisions)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from haoban.casework.sweep import sweep
from haoban.jobs import JobContext, job


@job("casework.sweep", every="sweep_seconds", lock="casework.sweep", max_attempts=3)
def sweep_cases(ctx: JobContext) -> dict[str, Any]:
    """Warn, supervise and escalate overdue cases; chase meeting decisions. Idempotent (alert levels
    are remembered), and the lock keeps two machines from sweeping at once."""
    with ctx.rt.db.write() as session:
        return asdict(sweep(session, ctx.rt))
