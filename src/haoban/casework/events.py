"""A case's file (一事一档): appended through the orders' shared hash chain, verified the same way.

Moves come from the gate (``haoban.casework.gate``); ``note`` appends what leaves the status alone (a
decision overdue, an origin's link). No payload ever carries the complainant's identity: the file is
shown to the departments, and an anonymous complainant must stay anonymous to them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.casework.models import Case, CaseEvent
from haoban.orders.casefile import Break
from haoban.orders.events import append_chained, verify_chains

# Events that leave the status alone and are not state-table moves.
NOTES = frozenset({"decision_overdue"})
# Fields that identify a complainant: refused in any case-file payload (checked on every append).
IDENTITY_FIELDS = frozenset(
    {"complainant_name", "complainant_phone", "complainant_id_number", "company_name", "company_uscc"}
)


def append(
    session: Session,
    case: Case,
    *,
    action: str,
    actor: Actor,
    from_status: str | None,
    to_status: str,
    payload: dict[str, Any],
    at: datetime,
) -> CaseEvent:
    leaked = IDENTITY_FIELDS & set(payload)
    assert not leaked, f"identity in a case-file payload: {sorted(leaked)}"
    event: CaseEvent = append_chained(
        session,
        case,
        CaseEvent,
        owner="case_id",
        action=action,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        payload=payload,
        at=at,
    )
    return event


def note(
    session: Session, case: Case, *, action: str, actor: Actor, payload: dict[str, Any], at: datetime
) -> CaseEvent:
    """An event that leaves the case's status alone."""
    case.updated_at = at
    return append(
        session,
        case,
        action=action,
        actor=actor,
        from_status=case.status,
        to_status=case.status,
        payload=payload,
        at=at,
    )


def verify_case_files(
    session: Session, *, progress: Callable[[int], None] | None = None
) -> tuple[int, list[Break]]:
    """Verify every case's chain; returns (cases checked, breaks)."""
    return verify_chains(session, Case, CaseEvent, owner="case_id", progress=progress)
