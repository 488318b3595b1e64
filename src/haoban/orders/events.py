"""The case file's writer (一事一档): every event of an order is appended here, hash-chained.

The chain itself is shared: ``append_chained`` and ``verify_chains`` write and check the file of any
record shaped like an order (``haoban.casework`` keeps its difficult-matter cases' files with them).

``record`` is the one place an ``EventRecord`` (the hashed fields) is built: for an event being appended
to a stored order, for the events of an order being registered (written in a batch by intake), and for
a stored event being verified. Status changes reach this module only through the gate
(``haoban.orders.gate``); ``note`` appends the events that leave the status alone (a duplicate absorbed,
a rating, a rectification).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.orders.casefile import GENESIS, Break, EventRecord, chain_hash, encode_payload, verify_chain
from haoban.orders.models import Order, OrderEvent


def record(
    *,
    code: str,
    seq: int,
    action: str,
    actor_name: str,
    actor_role: str,
    at: datetime,
    from_status: str | None,
    to_status: str,
    payload: str,
) -> EventRecord:
    return EventRecord(code, seq, action, actor_name, actor_role, at, from_status, to_status, payload)


def stored_record(code: str, e: Any) -> EventRecord:
    """The hashed fields of a stored event (of an order's or a case's file)."""
    return record(
        code=code,
        seq=e.seq,
        action=e.action,
        actor_name=e.actor_name,
        actor_role=e.actor_role,
        at=e.at,
        from_status=e.from_status,
        to_status=e.to_status,
        payload=e.payload,
    )


def chained_row(
    *,
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
    """The stored columns of one case-file event chained to ``prev_hash`` (all but its owner's id): the
    one place an event row of any hash-chained case file is built."""
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


def chain_onto(
    head: Any,
    *,
    action: str,
    actor: Actor,
    at: datetime,
    from_status: str | None,
    to_status: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    """The next event row of ``head``'s chain (a record with ``code``, ``event_count`` and
    ``last_hash``), with the head moved on to it; the caller stores the row."""
    row = chained_row(
        code=head.code,
        seq=head.event_count + 1,
        prev_hash=head.last_hash,
        action=action,
        actor=actor,
        at=at,
        from_status=from_status,
        to_status=to_status,
        payload=payload,
    )
    head.event_count = row["seq"]
    head.last_hash = row["hash"]
    return row


def append_chained(
    session: Session,
    head: Any,
    event_model: type[Any],
    *,
    owner: str,
    action: str,
    actor: Actor,
    from_status: str | None,
    to_status: str,
    payload: dict[str, Any],
    at: datetime,
) -> Any:
    """Append one event to the chain of ``head``: a stored record with ``id``, ``code``, ``event_count``
    and ``last_hash`` (an order; a difficult-matter case). ``event_model`` is its event table, whose
    column ``owner`` points back at the head. Every hash-chained case file is written here."""
    row = chain_onto(
        head, action=action, actor=actor, at=at, from_status=from_status, to_status=to_status, payload=payload
    )
    event = event_model(**{owner: head.id}, **row)
    session.add(event)
    return event


def _append(session: Session, order: Order, **fields: Any) -> OrderEvent:
    event: OrderEvent = append_chained(session, order, OrderEvent, owner="order_id", **fields)
    return event


def note(
    session: Session, order: Order, *, action: str, actor: Actor, payload: dict[str, Any], at: datetime
) -> OrderEvent:
    """An event that leaves the order's status alone (absorb, rate, rectification_open / _close)."""
    order.updated_at = at
    return _append(
        session,
        order,
        action=action,
        actor=actor,
        from_status=order.status,
        to_status=order.status,
        payload=payload,
        at=at,
    )


# --- journals: where the gate writes a move's event ----------------------------------------------


class Journal(Protocol):
    def append(
        self,
        order: Any,
        *,
        action: str,
        actor: Actor,
        from_status: str | None,
        to_status: str,
        payload: dict[str, Any],
        at: datetime,
    ) -> OrderEvent | None: ...


@dataclass
class SessionJournal:
    """A stored order: the event is added to the session, chained to the order's last hash."""

    session: Session

    def append(
        self,
        order: Order,
        *,
        action: str,
        actor: Actor,
        from_status: str | None,
        to_status: str,
        payload: dict[str, Any],
        at: datetime,
    ) -> OrderEvent:
        return _append(
            self.session,
            order,
            action=action,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            payload=payload,
            at=at,
        )


@dataclass(frozen=True)
class PendingEvent:
    action: str
    actor: Actor
    from_status: str | None
    to_status: str
    payload: dict[str, Any]


@dataclass
class DraftJournal:
    """An order being registered: its events wait until the intake writer knows the tracking code."""

    events: list[PendingEvent]

    def append(
        self,
        order: Any,
        *,
        action: str,
        actor: Actor,
        from_status: str | None,
        to_status: str,
        payload: dict[str, Any],
        at: datetime,
    ) -> None:
        self.events.append(PendingEvent(action, actor, from_status, to_status, payload))


def chain_rows(
    *, order_id: int, code: str, at: datetime, events: list[PendingEvent]
) -> tuple[list[dict[str, Any]], str]:
    """The case-file rows of a newly registered order, hash-chained from the start; and the head hash."""
    rows: list[dict[str, Any]] = []
    prev = GENESIS
    for seq, ev in enumerate(events, start=1):
        encoded = encode_payload(ev.payload)
        digest = chain_hash(
            prev,
            record(
                code=code,
                seq=seq,
                action=ev.action,
                actor_name=ev.actor.name,
                actor_role=ev.actor.role,
                at=at,
                from_status=ev.from_status,
                to_status=ev.to_status,
                payload=encoded,
            ),
        )
        rows.append(
            {
                "order_id": order_id,
                "seq": seq,
                "action": ev.action,
                "actor_id": ev.actor.id,
                "actor_name": ev.actor.name,
                "actor_role": ev.actor.role,
                "at": at,
                "from_status": ev.from_status,
                "to_status": ev.to_status,
                "payload": encoded,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return rows, prev


# --- verification ---------------------------------------------------------------------------------


def verify_case_files(
    session: Session, *, progress: Callable[[int], None] | None = None, batch: int = 2000
) -> tuple[int, list[Break]]:
    """Verify every order's chain; returns (orders checked, breaks)."""
    return verify_chains(session, Order, OrderEvent, owner="order_id", progress=progress, batch=batch)


def verify_chains(
    session: Session,
    head_model: Any,
    event_model: Any,
    *,
    owner: str,
    progress: Callable[[int], None] | None = None,
    batch: int = 2000,
) -> tuple[int, list[Break]]:
    """Verify the chain of every ``head_model`` row (orders, cases); returns (heads checked, breaks)."""
    breaks: list[Break] = []
    checked = 0
    last_id = 0
    owner_col = getattr(event_model, owner)
    while True:
        heads = session.execute(
            select(head_model.id, head_model.code, head_model.last_hash)
            .where(head_model.id > last_id)
            .order_by(head_model.id)
            .limit(batch)
        ).all()
        if not heads:
            break
        ids = [h.id for h in heads]
        events: dict[int, list[Any]] = {}
        for ev in session.scalars(
            select(event_model).where(owner_col.in_(ids)).order_by(owner_col, event_model.seq)
        ):
            events.setdefault(getattr(ev, owner), []).append(ev)
        for h in heads:
            found = verify_chain(
                h.code,
                ((stored_record(h.code, e), e.prev_hash, e.hash) for e in events.get(h.id, [])),
                head_hash=h.last_hash,
            )
            if found is not None:
                breaks.append(found)
        checked += len(heads)
        last_id = ids[-1]
        if progress:
            progress(len(heads))
        session.expunge_all()
    return checked, breaks
