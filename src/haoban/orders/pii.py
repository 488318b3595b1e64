"""Recording every view of an order's unmasked personal data, and the auditors' report of them.

A view is recorded when someone is shown an order's citizen name, phone or ID number unmasked: the
order page and ``GET /api/v1/orders/{code}`` (auditors see them masked and are not recorded). The
reason is the caller's (``purpose``), else the role's ordinary one (handling the order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import Role
from haoban.db import utcnow
from haoban.orders.models import Order, PersonalDataView

DEFAULT_PURPOSE = "handling the order (办理工单)"


def shows_personal_data(order: Order, actor: Actor) -> bool:
    has_any = bool(order.citizen_name or order.citizen_phone or order.citizen_id_number)
    return has_any and actor.role != Role.AUDITOR


def record_view(
    session: Session,
    *,
    order_id: int,
    actor: Actor,
    purpose: str | None,
    via: str,
    now: datetime | None = None,
) -> None:
    session.add(
        PersonalDataView(
            at=now or utcnow(),
            order_id=order_id,
            user_id=actor.id,
            username=actor.username[:64],
            role=str(actor.role)[:20],
            purpose=(purpose or DEFAULT_PURPOSE).strip()[:200] or DEFAULT_PURPOSE,
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
    stmt = (
        select(PersonalDataView, Order.code)
        .join(Order, Order.id == PersonalDataView.order_id)
        .order_by(PersonalDataView.id.desc())
        .limit(limit)
    )
    if code:
        stmt = stmt.where(Order.code == code.strip().upper())
    if username:
        stmt = stmt.where(PersonalDataView.username == username)
    if since:
        stmt = stmt.where(PersonalDataView.at >= since)
    if until:
        stmt = stmt.where(PersonalDataView.at < until)
    return [
        {
            "at": v.at,
            "code": order_code,
            "username": v.username,
            "role": v.role,
            "purpose": v.purpose,
            "via": v.via,
        }
        for v, order_code in session.execute(stmt)
    ]
