"""The orders' background jobs: the deadline sweep and categorising keyword-dispatched orders."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from haoban import ratelimit
from haoban.jobs import JobContext, job
from haoban.metrics import SWEEP_ALERTS
from haoban.orders.categorise import categorise_uncategorised
from haoban.orders.sweep import sweep


@job("orders.sweep", every="sweep_seconds", lock="orders.sweep", max_attempts=3)
def sweep_deadlines(ctx: JobContext) -> dict[str, Any]:
    """Turn orders yellow and red, raise automatic 督办, queue the notices; drop stale rate counters.

    Idempotent: an order already alerted at a level is not alerted again, so a run repeated after a
    crash changes nothing twice. The lock keeps two machines from sweeping at once.
    """
    rt = ctx.rt
    with rt.db.write() as session:
        result = sweep(session, rt)
        ratelimit.forget_old(session)
    SWEEP_ALERTS.labels("warning").inc(result.warnings)
    SWEEP_ALERTS.labels("overdue").inc(result.overdue)
    return asdict(result)


@job("orders.categorise", every="sweep_seconds", lock="orders.categorise", max_attempts=3)
def categorise(ctx: JobContext) -> int:
    """Give keyword-dispatched orders a category with the dispatch model (when one is loaded)."""
    rt = ctx.rt
    if rt.classifier is None:
        return 0
    with rt.db.write() as session:
        done, rt.categorised_upto = categorise_uncategorised(
            session, classifier=rt.classifier, directory=rt.directory, after_id=rt.categorised_upto
        )
    return done
