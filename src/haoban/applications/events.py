"""The application case file (一事一档): written through the shared hash chain of every case file.

The chain's format and verifier are the orders' (``haoban.orders.casefile`` / ``verify_chains``): one
format for every case file in the city. The task an event concerns is part of the hashed payload and
kept in its own column for queries.

An application's step appends several events (a newborn application 28 in 13 calls), and each used
to be its own ORM object and often its own INSERT (every query between steps flushed what came
before). Events are now chained at once, as before, but their rows wait in the session and go out
together in one multi-row INSERT when the session next flushes or commits; a rollback drops them with
the rest of the transaction. Anything that reads the case file through the session flushes first, so
it sees them (``tests/applications/test_applications_events.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from haoban.applications.models import Application, ApplicationEvent
from haoban.auth.actors import Actor
from haoban.orders.casefile import Break
from haoban.orders.events import chain_onto, verify_chains

_PENDING = "applications.pending_events"


@dataclass(frozen=True)
class Appended:
    """An event appended in this transaction (its row is written with the others at the next flush)."""

    seq: int
    action: str
    task_id: str | None
    hash: str


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
) -> Appended:
    """Append one event to ``app``'s chain. Only the gate calls this (``haoban.applications.gate``)."""
    if app.id is None:  # an application being submitted: its first event needs its id
        session.flush()
    if task_id is not None:
        payload = {"task": task_id, **payload}
    row = chain_onto(
        app, action=action, actor=actor, at=at, from_status=from_status, to_status=to_status, payload=payload
    )
    session.info.setdefault(_PENDING, []).append({"application_id": app.id, "task_id": task_id, **row})
    return Appended(row["seq"], action, task_id, row["hash"])


def write_pending(session: Session) -> int:
    """Insert the events appended in this session and not yet written, in one statement; how many."""
    rows = session.info.pop(_PENDING, None)
    if not rows:
        return 0
    session.connection().execute(insert(ApplicationEvent.__table__), rows)
    return len(rows)


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    write_pending(session)


def _before_commit(session: Session) -> None:
    write_pending(session)


def _after_rollback(session: Session, _previous: Any) -> None:
    # Events wait only between flushes, and a savepoint starts with a flush, so whatever is waiting
    # was appended inside the transaction being rolled back.
    session.info.pop(_PENDING, None)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # committed (written above), rolled back or closed: none may wait on
        session.info.pop(_PENDING, None)


# Every session: the rows wait in ``session.info`` and cost nothing where there are none.
sa_event.listen(Session, "before_flush", _before_flush)
sa_event.listen(Session, "before_commit", _before_commit)
sa_event.listen(Session, "after_soft_rollback", _after_rollback)
sa_event.listen(Session, "after_transaction_end", _after_transaction_end)


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
