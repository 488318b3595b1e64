"""Jobs and a sender that exist for the tests only: worker subprocesses import this module through
``HAOBAN_JOB_MODULES=tests.jobs.jobmods`` (the same way a city registers its own jobs)."""

from __future__ import annotations

import os
import time

from sqlalchemy.orm import Session

from haoban.jobs import JobContext, job
from haoban.notifications.models import OutboxMessage
from haoban.notifications.service import RecordingSender, register_sender


@job("tests.always_fails", max_attempts=3, backoff=1)
def always_fails(ctx: JobContext, *, why: str) -> None:
    raise RuntimeError(f"cannot do it: {why} (attempt {ctx.attempt})")


@job("tests.note", max_attempts=1)
def note(ctx: JobContext, *, key: str) -> None:
    """Records that it ran, in the outbox (deduplicated by key: a second run would be refused)."""
    from haoban.notifications.service import enqueue

    with ctx.rt.db.write() as session:
        enqueue(session, channel="internal", recipient="tests", body=key, dedupe_key=f"note:{key}")


class SlowSender(RecordingSender):
    """Takes HAOBAN_TEST_SEND_SECONDS per message: a worker can be killed in the middle of a drain."""

    def send(self, session: Session, message: OutboxMessage) -> None:
        time.sleep(float(os.environ.get("HAOBAN_TEST_SEND_SECONDS", "1")))
        super().send(session, message)


register_sender("tests-slow", SlowSender)
