"""Visitors' complaints into 12345: a complaint from a place's page becomes a work order like any other.

The order comes in on channel ``tourism`` with the place's address, district and coordinates, category
商贸旅游 (scenic-area management for spots and venues, the tourism market otherwise), and is dispatched
to the culture and tourism bureau (``Settings.tourism_department``) for spots and venues, to the
place's district government for hotels, food and products. From then on it is tracked, handled,
supervised and answered through the orders domain; this module only keeps the link to the place and
whether the visitor lets the place's page show the city's reply.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.directory.vocabulary import Channel, OrderType
from haoban.errors import Invalid
from haoban.orders.intake import create_order
from haoban.orders.models import Order
from haoban.orders.schemas import OrderCreate
from haoban.runtime import Runtime
from haoban.tourism.models import Place, PlaceComplaint
from haoban.tourism.places import get_place
from haoban.tourism.vocabulary import PlaceKind

# The platform's tourism entry registers and dispatches the visitor's complaint by the rule above (a
# citizen may not pick a department; the entry applies the city's routing for tourism complaints).
TOURISM_ENTRY = Actor(id=None, username="ai-you-hengyang", name="AI游衡阳", role=Role.SYSTEM)
SPOT_CATEGORY = "商贸旅游/旅游管理/景区管理"
MARKET_CATEGORY = "商贸旅游/旅游管理/旅游市场管理"
# Statuses in which the city's reply has been approved by the hotline (it may be shown).
ANSWERED = ("callback", "closed", "archived")


def route_for(rt: Runtime, place: Place) -> tuple[str, str]:
    """(category path, department code) for a complaint about ``place``."""
    directory = rt.directory
    tourism = rt.settings.tourism_department
    if place.kind in (PlaceKind.SPOT, PlaceKind.VENUE):
        return SPOT_CATEGORY, tourism
    district_gov = f"gov_{place.district.code}" if place.district else None
    if district_gov and directory.department(district_gov) is not None:
        return MARKET_CATEGORY, district_gov
    return MARKET_CATEGORY, tourism


def file_complaint(
    session: Session,
    rt: Runtime,
    *,
    place_code: str,
    content: str,
    phone: str,
    name: str | None = None,
    publish: bool = False,
) -> dict[str, Any]:
    """Register the complaint as a 12345 order and link it to the place; returns the tracking code."""
    place = get_place(session, code=place_code)
    category, department = route_for(rt, place)
    if rt.directory.department(department) is None:
        raise Invalid("the tourism department is not configured", fields={"department": department})
    data = OrderCreate(
        channel=Channel.TOURISM,
        type=OrderType.COMPLAINT,
        subject=f"【{place.name}】{content.strip().splitlines()[0][:30]}" if content.strip() else None,
        content=f"游客反映（{place.name}）：{content}",
        citizen_phone=phone,
        citizen_name=name or None,
        address=place.address or place.name,
        district=place.district.code if place.district else None,
        latitude=place.latitude,
        longitude=place.longitude,
        category=category,
        department=department,
    )
    created = create_order(session, rt, data=data, actor=TOURISM_ENTRY)
    session.add(PlaceComplaint(place_id=place.id, order_id=created.id, publish=publish))
    session.flush()
    return {"code": created.code, "department": department, "category": category}


def published_replies(session: Session, *, place_id: int, limit: int = 10) -> list[dict[str, Any]]:
    """The city's approved replies to complaints whose visitors chose to publish them (no personal data)."""
    rows = session.execute(
        select(Order.code, Order.subject, Order.reply_text, Order.replied_at)
        .join(PlaceComplaint, PlaceComplaint.order_id == Order.id)
        .where(
            PlaceComplaint.place_id == place_id,
            PlaceComplaint.publish.is_(True),
            Order.status.in_(ANSWERED),
            Order.reply_text.is_not(None),
        )
        .order_by(Order.replied_at.desc())
        .limit(limit)
    )
    return [{"code": c, "subject": s, "reply": r, "replied_at": at} for c, s, r, at in rows]


def complaints_per_place(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(PlaceComplaint.place_id, func.count(PlaceComplaint.id)).group_by(PlaceComplaint.place_id)
    )
    return {place_id: count for place_id, count in rows}
