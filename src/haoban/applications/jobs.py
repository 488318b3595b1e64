"""The applications' background job: the sweep (timers, deadlines, 容缺 promises), beside the orders'."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from haoban.applications.sweep import sweep
from haoban.jobs import JobContext, job


@job("applications.sweep", every="sweep_seconds", lock="applications.sweep", max_attempts=3)
def sweep_applications(ctx: JobContext) -> dict[str, Any]:
    """Fire due engine timers, colour task deadlines, raise 督办, chase 容缺 promises. Idempotent."""
    rt = ctx.rt
    with rt.db.write() as session:
        result = sweep(session, rt)
    return asdict(result)
