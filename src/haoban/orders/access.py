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
from haoban.orders.workflow import Status, Transition

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


def _objection(order: Any, t: Transition, actor: Actor, now: datetime) -> DomainError | None:
    if actor.role not in t.roles:
        return Forbidden(
            f"role {actor.role!r} may not {t.action}",
            roles_allowed=sorted(str(r) for r in t.roles - {Role.SYSTEM, Role.CITIZEN}),
        )
    if t.lead_department_only and actor.department_id != order.lead_department_id:
        return Forbidden(f"only the lead department's handlers may {t.action} this order")
    current = Status(order.status) if order.status is not None else None
    if current not in t.sources:
        state = current.value if current else "not registered yet"
        return Conflict(f"cannot {t.action} an order that is {state}", status=order.status)
    for guard in t.guards:
        if not guard.test(order, now):
            return Conflict(guard.message, status=order.status, guard=guard.name)
    return None


def refusal(order: Any, t: Transition, actor: Actor, now: datetime) -> DomainError | None:
    """Why ``actor`` may not take ``t`` on ``order`` now (403 role or scope, 409 state or guard), or None.

    ``order`` is a stored order or one being registered (anything with the attributes the table reads).
    A 409 names the actions that are allowed instead.
    """
    objection = _objection(order, t, actor, now)
    if isinstance(objection, Conflict):
        objection.detail["allowed_actions"] = allowed_actions(order, actor, now=now)
    return objection


def allowed_actions(order: Any, actor: Actor, *, now: datetime | None = None) -> list[str]:
    """The actions ``actor`` may take on ``order`` now: role, scope, state and every guard."""
    now = now or utcnow()
    return [
        a for a in workflow.PUBLIC_ACTIONS if _objection(order, workflow.BY_ACTION[a], actor, now) is None
    ]
