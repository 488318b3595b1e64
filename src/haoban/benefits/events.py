"""A grant's case file: append-only, hash-chained exactly like an order's (一事一档).

A stored grant's events go through the city's one chain writer and verifier
(``haoban.orders.events.append_chained`` / ``verify_chains``). The matching job pushes thousands of
grants at once: their first events are built here as rows for one bulk insert, chained from the start
by ``chained_row``, the same row builder as every stored event of a case file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.benefits.models import Grant, GrantEvent
from haoban.orders.casefile import GENESIS, Break
from haoban.orders.events import append_chained, chained_row, verify_chains


def event_row(
    *,
    grant_id: int,
    code: str,
    seq: int,
    prev_hash: str,
    action: str,
    actor: Actor,
    at: datetime,
    from_status: str | None,
    to_status: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """The stored row of one event, chained to ``prev_hash``."""
    return {
        "grant_id": grant_id,
        **chained_row(
            code=code,
            seq=seq,
            prev_hash=prev_hash,
            action=action,
            actor=actor,
            at=at,
            from_status=from_status,
            to_status=to_status,
            payload=payload,
        ),
    }


def first_event(
    *,
    grant_id: int,
    code: str,
    action: str,
    actor: Actor,
    at: datetime,
    to_status: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    return event_row(
        grant_id=grant_id,
        code=code,
        seq=1,
        prev_hash=GENESIS,
        action=action,
        actor=actor,
        at=at,
        from_status=None,
        to_status=to_status,
        payload=payload,
    )


def append(
    session: Session,
    grant: Grant,
    *,
    action: str,
    actor: Actor,
    at: datetime,
    from_status: str,
    to_status: str,
    payload: dict[str, Any],
) -> GrantEvent:
    """Append one event to a stored grant's chain (the city's one chain writer)."""
    event: GrantEvent = append_chained(
        session,
        grant,
        GrantEvent,
        owner="grant_id",
        action=action,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        payload=payload,
        at=at,
    )
    return event


def verify(
    session: Session, *, progress: Callable[[int], None] | None = None, batch: int = 5000
) -> tuple[int, list[Break]]:
    """Verify every grant's chain; returns (grants checked, breaks)."""
    return verify_chains(session, Grant, GrantEvent, owner="grant_id", progress=progress, batch=batch)
