"""The application case file (一事一档): written through the shared hash chain of every case file.

The chain writer and verifier are the orders' (``haoban.orders.events.append_chained`` /
``verify_chains``): one format for every case file in the city. The task an event concerns is part of
the hashed payload and kept in its own column for queries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.applications.models import Application, ApplicationEvent
from haoban.auth.actors import Actor
from haoban.orders.casefile import Break
from haoban.orders.events import append_chained, verify_chains


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
    if task_id is not None:
        payload = {"task": task_id, **payload}
    event: ApplicationEvent = append_chained(
        session,
        app,
        ApplicationEvent,
        owner="application_id",
        action=action,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        payload=payload,
        at=at,
    )
    event.task_id = task_id
    return event


def events_of(session: Session, app: Application) -> list[ApplicationEvent]:
    return list(
        session.scalars(
            select(ApplicationEvent)
            .where(ApplicationEvent.application_id == app.id)
            .order_by(ApplicationEvent.seq)
        )
    )


def verify_all(session: Session, *, progress: Callable[[int], None] | None = None) -> tuple[int, list[Break]]:
    """Verify every application's chain; returns (applications checked, breaks)."""
    return verify_chains(session, Application, ApplicationEvent, owner="application_id", progress=progress)
