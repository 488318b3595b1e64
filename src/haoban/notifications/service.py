"""Writing to the outbox inside a business transaction, and draining it afterwards through a sender."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.db import Database, utcnow
from haoban.notifications.models import DeliveredMessage, OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def enqueue(
    session: Session,
    *,
    channel: str,
    recipient: str,
    body: str,
    subject: str = "",
    order_id: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox in the caller's transaction; with ``dedupe_key``, at most once."""
    if dedupe_key and session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    msg = OutboxMessage(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        order_id=order_id,
        dedupe_key=dedupe_key,
        status="pending",
        attempts=0,
        created_at=utcnow(),
    )
    session.add(msg)
    return msg


class Sender(Protocol):
    """Delivers one message or raises. SMS and e-mail gateways implement this."""

    def send(self, session: Session, message: OutboxMessage) -> None: ...


class RecordingSender:
    """The default sender: records what would be sent in ``delivered_messages``."""

    def send(self, session: Session, message: OutboxMessage) -> None:
        session.add(
            DeliveredMessage(
                outbox_id=message.id,
                channel=message.channel,
                recipient=message.recipient,
                subject=message.subject,
                body=message.body,
                delivered_at=utcnow(),
            )
        )


_SENDERS: dict[str, Callable[[], Sender]] = {"record": RecordingSender}


def register_sender(name: str, factory: Callable[[], Sender]) -> None:
    _SENDERS[name] = factory


def get_sender(name: str = "record") -> Sender:
    try:
        return _SENDERS[name]()
    except KeyError:
        raise ValueError(f"unknown sender {name!r}; known: {', '.join(_SENDERS)}") from None


def drain(db: Database, *, sender: Sender, limit: int = 500) -> int:
    """Send pending messages; each one commits on its own so one failure does not block the rest."""
    with db.read() as session:
        ids = session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
    sent = 0
    for mid in ids:
        with db.write() as session:
            msg = session.get(OutboxMessage, mid)
            if msg is None or msg.status != "pending":
                continue
            msg.attempts += 1
            try:
                with session.begin_nested():
                    sender.send(session, msg)
                msg.status = "sent"
                msg.sent_at = utcnow()
                sent += 1
            except Exception as exc:  # a gateway error: keep it, retry later, give up after MAX_ATTEMPTS
                log.warning("outbox message %s failed: %s", mid, exc)
                msg.last_error = str(exc)[:500]
                if msg.attempts >= MAX_ATTEMPTS:
                    msg.status = "failed"
    return sent
