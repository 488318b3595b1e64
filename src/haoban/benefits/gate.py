"""The gate: the only place a grant's status changes, checked against the table in ``workflow``.

``transition`` moves one stored grant (confirm, decline, pay, flag, clear_review, withdraw) and appends
its case-file event. ``pushed_rows`` is the same ``push`` move for the many grants a matching run
creates at once: it gives each new row its first status and its first, chained, event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.benefits import events
from haoban.benefits.models import Grant
from haoban.benefits.workflow import BY_ACTION, STATUS_LABELS, GrantStatus, Move
from haoban.errors import Conflict, Forbidden


def refusal(grant: Grant | None, move: Move, actor: Actor) -> Exception | None:
    if actor.role not in move.roles:
        return Forbidden(f"{move.action} is not for the role {actor.role}")
    status = GrantStatus(grant.status) if grant is not None else None
    if status not in move.sources:
        label = STATUS_LABELS[status][1] if status else "new"
        return Conflict(f"this benefit is {label}: it cannot be {move.label[1] or move.action} now")
    if move.blocked_by_review and grant is not None and grant.review_reason:
        return Conflict("this benefit is being reviewed after a data correction; wait for the review")
    return None


def allowed(grant: Grant, actor: Actor) -> list[str]:
    return [m.action for m in BY_ACTION.values() if m.action != "push" and refusal(grant, m, actor) is None]


def transition(
    session: Session,
    grant: Grant,
    *,
    action: str,
    actor: Actor,
    at: datetime,
    payload: dict[str, Any] | None = None,
    effect: Callable[[Grant], None] | None = None,
) -> Grant:
    move = BY_ACTION[action]
    refused = refusal(grant, move, actor)
    if refused is not None:
        raise refused
    before = grant.status
    if effect is not None:
        effect(grant)
    if move.target is not None:
        grant.status = move.target.value
    grant.updated_at = at
    events.append(
        session,
        grant,
        action=action,
        actor=actor,
        at=at,
        from_status=before,
        to_status=grant.status,
        payload=payload or {},
    )
    return grant


def pushed_rows(
    grants: list[dict[str, Any]], *, actor: Actor, at: datetime, payloads: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The ``push`` move for new grants (rows with ``id`` and ``code``): status and first event.

    Fills in each grant row's status and chain head in place; returns the event rows to insert.
    """
    move = BY_ACTION["push"]
    refused = refusal(None, move, actor)
    if refused is not None:
        raise refused
    status = move.target.value  # type: ignore[union-attr]
    out = []
    for row, payload in zip(grants, payloads, strict=True):
        ev = events.first_event(
            grant_id=row["id"],
            code=row["code"],
            action="push",
            actor=actor,
            at=at,
            to_status=status,
            payload=payload,
        )
        row["status"] = status
        row["event_count"] = 1
        row["last_hash"] = ev["hash"]
        out.append(ev)
    return out
