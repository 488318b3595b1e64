"""The analytics' background job: keeping the dashboard's daily roll-ups built."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from haoban.analytics import rollups
from haoban.db import utcnow
from haoban.jobs import JobContext, job


@job("analytics.rollups", every="sweep_seconds", lock="analytics.rollups", max_attempts=3)
def build_rollups(ctx: JobContext) -> dict[str, Any]:
    """(Re)build the roll-ups of past days that changed or were never built (a bounded batch per run;
    a first run over a large history continues in the next ones)."""
    return asdict(rollups.refresh(ctx.rt.db, now=utcnow()))
