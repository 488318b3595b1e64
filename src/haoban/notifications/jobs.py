"""The outbox's delivery job: fed by the transactional outbox, run every ``outbox_seconds``."""

from __future__ import annotations

from haoban.jobs import JobContext, job
from haoban.notifications.service import drain, get_sender


@job("notifications.drain", every="outbox_seconds", lock="notifications.drain", max_attempts=3)
def drain_outbox(ctx: JobContext) -> int:
    """Deliver pending outbox messages through the configured sender (``HAOBAN_OUTBOX_SENDER``).

    Each message commits on its own together with its ``sent`` mark, so a run cut off half-way (a
    killed worker) and run again delivers every message once.
    """
    return drain(ctx.rt.db, sender=get_sender(ctx.rt.settings.outbox_sender))
