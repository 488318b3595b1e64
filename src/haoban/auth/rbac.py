"""Authorisation rules, in one place: who may see an order, who may take an action, admin-only areas."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, exists, or_, select

from haoban.auth.service import Actor
from haoban.errors import Forbidden
from haoban.orders.models import Order, OrderCoHandler
from haoban.orders.workflow import Transition

# Roles that see every order (the call centre, and auditors who read but never act).
CITY_WIDE_ROLES = frozenset({"operator", "dispatcher", "supervisor", "admin", "auditor", "system"})


def can_view_order(actor: Actor, *, lead_department_id: int | None, co_handler_ids: Iterable[int]) -> bool:
    if actor.role in CITY_WIDE_ROLES:
        return True
    if actor.role == "handler" and actor.department_id is not None:
        return actor.department_id == lead_department_id or actor.department_id in set(co_handler_ids)
    return False


def order_visibility_clause(actor: Actor) -> ColumnElement[bool] | None:
    """SQL filter for the orders ``actor`` may see; None means no restriction."""
    if actor.role in CITY_WIDE_ROLES:
        return None
    if actor.role == "handler" and actor.department_id is not None:
        co = exists(
            select(OrderCoHandler.order_id).where(
                OrderCoHandler.order_id == Order.id, OrderCoHandler.department_id == actor.department_id
            )
        )
        return or_(Order.lead_department_id == actor.department_id, co)
    return Order.id.is_(None)  # sees nothing


def check_action(actor: Actor, transition: Transition, *, lead_department_id: int | None) -> None:
    """Role and department scope of an action; raises Forbidden with the reason."""
    if actor.role not in transition.roles:
        raise Forbidden(
            f"role {actor.role!r} may not {transition.action}",
            roles_allowed=sorted(transition.roles - {"system"}),
        )
    if transition.lead_department_only and actor.department_id != lead_department_id:
        raise Forbidden(f"only the lead department's handlers may {transition.action} this order")


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")


ADMIN_ROLES = ("admin",)
READ_CONFIG_ROLES = ("admin", "supervisor", "dispatcher", "auditor")

# Who may read the city dashboard's figures (analytics): the call centre, admins and auditors.
DASHBOARD_ROLES = ("operator", "dispatcher", "supervisor", "admin", "auditor")
# Who may register calls (受理): the API's order intake and the operator console.
INTAKE_ROLES = ("operator", "dispatcher", "supervisor", "admin")
# Who reviews returns, replies and extensions (the supervisor board).
REVIEW_ROLES = ("dispatcher", "supervisor", "admin")
