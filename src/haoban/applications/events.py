"""The application case file (一事一档): every event appended here, hash-chained.

The hashing is the orders' (``haoban.orders.casefile`` through ``haoban.orders.events.record``): one
chain format for every case file in the city. The task an event concerns is part of the hashed payload.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.applications.models import Application, ApplicationEvent
from haoban.auth.actors import Actor
from haoban.orders.casefile import Break, chain_hash, encode_payload, verify_chain
from haoban.orders.events import record


def append(
    session: Session,
    app: Application,
    *,
    action: str,
    actor: Actor,
    from_status: str | None,
    to_status: str,
    payload: dict[str, Any],
    at: datetime,
    task_id: str | None = None,
) -> ApplicationEvent:
    """Append one event to ``app``'s chain. Only the gate calls this (``haoban.applications.gate``)."""
    if app.id is None:  # an application being submitted: its first event needs its id
        session.flush()
    seq = app.event_count + 1
    if task_id is not None:
        payload = {"task": task_id, **payload}
    encoded = encode_payload(payload)
    digest = chain_hash(
        app.last_hash,
        record(
            code=app.code,
            seq=seq,
            action=action,
            actor_name=actor.name,
            actor_role=actor.role,
            at=at,
            from_status=from_status,
            to_status=to_status,
            payload=encoded,
        ),
    )
    event = ApplicationEvent(
        application_id=app.id,
        seq=seq,
        action=action,
        task_id=task_id,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_role=actor.role,
        at=at,
        from_status=from_status,
        to_status=to_status,
        payload=encoded,
        prev_hash=app.last_hash,
        hash=digest,
    )
    session.add(event)
    app.event_count = seq
    app.last_hash = digest
    return event


def events_of(session: Session, app: Application) -> list[ApplicationEvent]:
    return list(
        session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == app.id)
            .order_by(ApplicationEvent.seq)
        )
    )


def verify(app: Application, events: Iterable[ApplicationEvent]) -> Break | None:
    """The first place ``app``'s chain fails to verify, or None."""
    return verify_chain(
        app.code,
        (
            (
                record(
                    code=app.code,
                    seq=e.seq,
                    action=e.action,
                    actor_name=e.actor_name,
                    actor_role=e.actor_role,
                    at=e.at,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    payload=e.payload,
                ),
                e.prev_hash,
                e.hash,
            )
            for e in events
        ),
        head_hash=app.last_hash,
    )
