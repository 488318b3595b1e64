"""Feedback's background job: the sweep that escalates services' rectifications (差评整改) left open."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from haoban.feedback.service_ratings import sweep
from haoban.jobs import JobContext, job


@job("feedback.rectifications", every="sweep_seconds", lock="feedback.rectifications", max_attempts=3)
def sweep_rectifications(ctx: JobContext) -> dict[str, Any]:
    """Escalate rectifications still open past their deadline (督办, then 升级督办). Idempotent."""
    with ctx.rt.db.write() as session:
        return asdict(sweep(session, ctx.rt))
