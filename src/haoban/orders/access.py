"""Who may see an order and what they may do with it now: loading, visibility, allowed actions.

``refusal`` is the one answer to "may this actor take this action on this order now?": role,
department scope, state and every guard of the state table. The gate raises what it returns, and
``allowed_actions`` lists the actions it has no objection to, so the API, the pages and ``/workflow``
always agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.roles import CITY_WIDE_ROLES, Role
from haoban.db import utcnow
from haoban.errors import Conflict, DomainError, Forbidden, NotFound
from haoban.orders import workflow
from haoban.orders.models import Order, OrderCoHandler
from haoban.orders.workflow import Transition

# Staff who may register calls (the console): the table's ``register`` row without the platform and
# the citizen, who have no account.
STAFF_INTAKE_ROLES: tuple[Role, ...] = tuple(
    sorted(workflow.BY_ACTION["register"].roles - {Role.SYSTEM, Role.CITIZEN})
)


def load(session: Session, code: str, *, lock: bool = False) -> Order | None:
    stmt = select(Order).where(Order.code == code)
    if lock:
        stmt = stmt.with_for_update(of=Order)
    return session.scalars(stmt).unique().first()


def can_view(actor: Actor, *, lead_department_id: int | None, co_handler_ids: Iterable[int]) -> bool:
    if actor.role in CITY_WIDE_ROLES:
        return True
    if actor.role == Role.HANDLER and actor.department_id is not None:
        return actor.department_id == lead_department_id or actor.department_id in set(co_handler_ids)
    return False


def visible(actor: Actor, order: Order) -> bool:
    return can_view(
        actor,
        lead_department_id=order.lead_department_id,
        co_handler_ids=[c.department_id for c in order.co_handlers],
    )


def visibility_clause(actor: Actor) -> ColumnElement[bool] | None:
    """SQL filter for the orders ``actor`` may see; None means no restriction."""
    if actor.role in CITY_WIDE_ROLES:
        return None
    if actor.role == Role.HANDLER and actor.department_id is not None:
        co = exists(
            select(OrderCoHandler.order_id).where(
                OrderCoHandler.order_id == Order.id, OrderCoHandler.department_id == actor.department_id
            )
        )
        return or_(Order.lead_department_id == actor.department_id, co)
    return Order.id.is_(None)  # sees nothing


def get_order(session: Session, *, code: str, actor: Actor, lock: bool = False) -> Order:
    order = load(session, code, lock=lock)
    # Orders outside the caller's scope are reported as missing, so their existence does not leak.
    if order is None or not visible(actor, order):
        raise NotFound(f"no order {code!r} that you can see")
    return order


def objection(
    record: Any, t: Transition, actor: Actor, now: datetime, *, noun: str = "order"
) -> DomainError | None:
    """What the state table ``t`` row says against ``actor`` taking it on ``record`` now: role (403),
    lead department (403), state (409), guards (409). Shared by every domain with a state table."""
    if actor.role not in t.roles:
        return Forbidden(
            f"role {actor.role!r} may not {t.action}",
            roles_allowed=sorted(str(r) for r in t.roles - {Role.SYSTEM, Role.CITIZEN}),
        )
    if t.lead_department_only and actor.department_id != record.lead_department_id:
        return Forbidden(f"only the lead department's handlers may {t.action} this {noun}")
    # States are StrEnum members: a stored status string finds its row directly.
    if record.status not in t.sources:
        state = record.status or "not registered yet"
        article = "an" if noun[0] in "aeiou" else "a"
        return Conflict(f"cannot {t.action} {article} {noun} that is {state}", status=record.status)
    for guard in t.guards:
        if not guard.test(record, now):
            return Conflict(guard.message, status=record.status, guard=guard.name)
    return None


def refusal(order: Any, t: Transition, actor: Actor, now: datetime) -> DomainError | None:
    """Why ``actor`` may not take ``t`` on ``order`` now (403 role or scope, 409 state or guard), or None.

    ``order`` is a stored order or one being registered (anything with the attributes the table reads).
    A 409 names the actions that are allowed instead.
    """
    found = objection(order, t, actor, now)
    if isinstance(found, Conflict):
        found.detail["allowed_actions"] = allowed_actions(order, actor, now=now)
    return found


def allowed_actions(order: Any, actor: Actor, *, now: datetime | None = None) -> list[str]:
    """The actions ``actor`` may take on ``order`` now: role, scope, state and every guard."""
    now = now or utcnow()
    return [a for a in workflow.PUBLIC_ACTIONS if objection(order, workflow.BY_ACTION[a], actor, now) is None]
