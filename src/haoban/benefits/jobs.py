"""免申即享's background jobs: the matching job and the payouts, on the worker's timers."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from haoban.benefits import matching, service
from haoban.benefits.payer import get_payer
from haoban.db import utcnow
from haoban.jobs import JobContext, job


@job("benefits.match", every="benefits_match_seconds", lock="benefits.match", max_attempts=3)
def match(ctx: JobContext) -> list[dict[str, Any]]:
    """Match what changed since the last run (everything, when a new month or year has begun).

    Idempotent: the unique (policy, subject, period) grant and the run's watermark mean a repeated or
    interrupted run pushes nothing twice.
    """
    rt = ctx.rt
    today = utcnow().astimezone(rt.settings.tz).date()
    with rt.db.write() as session:
        return [asdict(r) for r in matching.match(session, today=today)]


@job("benefits.pay", every="benefits_pay_seconds", lock="benefits.pay", max_attempts=3)
def pay(ctx: JobContext) -> int:
    """Pay confirmed, unflagged grants through the configured payer (each grant once)."""
    rt = ctx.rt
    with rt.db.write() as session:
        return service.pay_confirmed(session, payer=get_payer(rt.settings.benefits_payer))
