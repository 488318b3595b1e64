"""The federation outbox's delivery job: deferred when a message is queued, and run every
``federation_seconds`` for the retries."""

from __future__ import annotations

from haoban.federation import flows, joint, protocol
from haoban.jobs import JobContext, job

assert flows  # the message kinds register themselves on import


@job(protocol.DELIVER_JOB, every="federation_seconds", lock=protocol.DELIVER_JOB, max_attempts=3)
def deliver(ctx: JobContext) -> dict[str, int]:
    """Send the handed-out tasks of partner regions (多地联办), then sign and post every due message to
    its partner, in order per case (see ``protocol``)."""
    joint.send_waiting(ctx.rt)
    return protocol.deliver(ctx.rt)
