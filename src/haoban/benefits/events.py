"""A grant's case file: append-only, hash-chained exactly like an order's (一事一档).

The hashing is the orders' (``haoban.orders.casefile``: the chain, canonical payloads, verification)
and each hashed record is built by ``haoban.orders.events.record`` — one definition of what an event
is, whose ``order`` field here holds the grant's notice code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.benefits.models import Grant, GrantEvent
from haoban.orders.casefile import GENESIS, Break, chain_hash, encode_payload, verify_chain
from haoban.orders.events import record


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
    encoded = encode_payload(payload)
    digest = chain_hash(
        prev_hash,
        record(
            code=code,
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
    return {
        "grant_id": grant_id,
        "seq": seq,
        "action": action,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "at": at,
        "from_status": from_status,
        "to_status": to_status,
        "payload": encoded,
        "prev_hash": prev_hash,
        "hash": digest,
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
    row = event_row(
        grant_id=grant.id,
        code=grant.code,
        seq=grant.event_count + 1,
        prev_hash=grant.last_hash,
        action=action,
        actor=actor,
        at=at,
        from_status=from_status,
        to_status=to_status,
        payload=payload,
    )
    event = GrantEvent(**row)
    session.add(event)
    grant.event_count = row["seq"]
    grant.last_hash = row["hash"]
    return event


def verify(
    session: Session, *, progress: Callable[[int], None] | None = None, batch: int = 5000
) -> tuple[int, list[Break]]:
    """Verify every grant's chain; returns (grants checked, breaks)."""
    breaks: list[Break] = []
    checked, last_id = 0, 0
    while True:
        grants = session.execute(
            select(Grant.id, Grant.code, Grant.last_hash)
            .where(Grant.id > last_id)
            .order_by(Grant.id)
            .limit(batch)
        ).all()
        if not grants:
            break
        ids = [g.id for g in grants]
        by_grant: dict[int, list[GrantEvent]] = {}
        for ev in session.scalars(
            select(GrantEvent)
            .where(GrantEvent.grant_id.in_(ids))
            .order_by(GrantEvent.grant_id, GrantEvent.seq)
        ):
            by_grant.setdefault(ev.grant_id, []).append(ev)
        for g in grants:
            found = verify_chain(
                g.code,
                (
                    (
                        record(
                            code=g.code,
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
                    for e in by_grant.get(g.id, [])
                ),
                head_hash=g.last_hash,
            )
            if found is not None:
                breaks.append(found)
        checked += len(grants)
        last_id = ids[-1]
        if progress:
            progress(len(grants))
        session.expunge_all()
    return checked, breaks
