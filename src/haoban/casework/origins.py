"""Where a case came from, and the link back into the origin's own case file.

A case opened from a stuck 12345 order records ``origin_kind="order"`` and the order's code, and the
order's case file gets an ``escalate_case`` event naming the case: each file points at the other. Other
kinds of origin (an application, once that domain is installed) register a linker in ``LINKERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.casework.models import Case
from haoban.casework.workflow import OPEN_STATUSES as OPEN_CASE
from haoban.errors import Conflict, Invalid
from haoban.orders import access as order_access
from haoban.orders import events as order_events
from haoban.orders.workflow import OPEN_STATUSES as OPEN_ORDER

# (session, origin code, case code, actor, at) -> the origin's display label; raises when it cannot link.
Linker = Callable[[Session, str, str, Actor, datetime], str]


def _link_order(session: Session, code: str, case_code: str, actor: Actor, at: datetime) -> str:
    order = order_access.load(session, code, lock=True)
    if order is None:
        raise Invalid(f"no order {code!r}", fields={"origin_code": "unknown order code"})
    stuck = order.status in OPEN_ORDER or order.callback_result == "unsatisfied"
    if not stuck:
        raise Invalid(
            f"order {code} is {order.status} and was not found unsatisfied: it is not stuck",
            fields={"origin_code": "only an open order, or one the citizen was unsatisfied with"},
        )
    order_events.note(session, order, action="escalate_case", actor=actor, payload={"case": case_code}, at=at)
    return order.subject


LINKERS: dict[str, Linker] = {"order": _link_order}


def check_not_open_elsewhere(session: Session, kind: str, code: str) -> None:
    """One open case per origin: a second escalation of the same order names the case already open."""
    existing = session.scalar(
        select(Case.code).where(
            Case.origin_kind == kind,
            Case.origin_code == code,
            Case.status.in_([s.value for s in OPEN_CASE]),
        )
    )
    if existing:
        raise Conflict(f"{kind} {code} already has an open case: {existing}", case=existing)


def link(session: Session, *, kind: str, code: str, case_code: str, actor: Actor, at: datetime) -> None:
    linker = LINKERS.get(kind)
    if linker is None:
        raise Invalid(
            f"cases cannot be opened from {kind!r} origins in this installation",
            fields={"origin_kind": f"one of: window, portal, {', '.join(LINKERS)}"},
        )
    check_not_open_elsewhere(session, kind, code)
    linker(session, code, case_code, actor, at)
