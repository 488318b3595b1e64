"""Who may see personal data unmasked, recording every view of it, and the auditors' report of them.

A view is recorded when someone is shown an order's citizen name, phone or ID number unmasked: the
order page and ``GET /api/v1/orders/{code}`` (auditors see them masked and are not recorded). An
application's personal data (its form, the results, the applicant) is shown masked until a member of
staff asks to see it (``POST /applications/{code}/reveal``, ``GET /api/v1/applications/{code}?reveal=true``),
which is recorded the same way. The reason is the caller's (``purpose``), else the ordinary one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import Role
from haoban.db import utcnow
from haoban.errors import Forbidden
from haoban.orders.models import Order, PersonalDataView

DEFAULT_PURPOSE = "handling the order (办理工单)"
APPLICATION_PURPOSE = "handling the application (办理申请)"
# The applications table by name (the applications domain stands beside orders, not below).
_applications = table("applications", column("id"), column("code"))


def may_see_unmasked(actor: Actor) -> bool:
    """The one rule: auditors see personal data masked; everyone else who may see the record, in full."""
    return actor.role != Role.AUDITOR


def require_unmasked(actor: Actor) -> None:
    if not may_see_unmasked(actor):
        raise Forbidden("auditors see personal data masked; the record of views is their report")


def shows_personal_data(order: Order, actor: Actor) -> bool:
    has_any = bool(order.citizen_name or order.citizen_phone or order.citizen_id_number)
    return has_any and may_see_unmasked(actor)


def record_view(
    session: Session,
    *,
    order_id: int | None = None,
    application_id: int | None = None,
    actor: Actor,
    purpose: str | None,
    via: str,
    now: datetime | None = None,
) -> None:
    """Record that ``actor`` was shown an order's or an application's personal data unmasked."""
    if (order_id is None) == (application_id is None):
        raise ValueError("a view is of one order or one application")
    default = DEFAULT_PURPOSE if order_id is not None else APPLICATION_PURPOSE
    session.add(
        PersonalDataView(
            at=now or utcnow(),
            order_id=order_id,
            application_id=application_id,
            user_id=actor.id,
            username=actor.username[:64],
            role=str(actor.role)[:20],
            purpose=(purpose or default).strip()[:200] or default,
            via=via,
        )
    )


def views_report(
    session: Session,
    *,
    actor: Actor,
    code: str | None = None,
    username: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Who looked at whose personal data, newest first (auditors and administrators)."""
    require_role(actor, Role.AUDITOR, Role.ADMIN)
    apps = _applications
    stmt = (
        select(PersonalDataView, func.coalesce(Order.code, apps.c.code))
        .outerjoin(Order, Order.id == PersonalDataView.order_id)
        .outerjoin(apps, apps.c.id == PersonalDataView.application_id)
        .order_by(PersonalDataView.id.desc())
        .limit(limit)
    )
    if code:
        wanted = code.strip().upper()
        stmt = stmt.where((Order.code == wanted) | (apps.c.code == wanted))
    if username:
        stmt = stmt.where(PersonalDataView.username == username)
    if since:
        stmt = stmt.where(PersonalDataView.at >= since)
    if until:
        stmt = stmt.where(PersonalDataView.at < until)
    return [
        {
            "at": v.at,
            "kind": "order" if v.order_id is not None else "application",
            "code": record_code,
            "username": v.username,
            "role": v.role,
            "purpose": v.purpose,
            "via": v.via,
        }
        for v, record_code in session.execute(stmt)
    ]
