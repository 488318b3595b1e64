"""Which open orders a change to a year's working-day calendar touches (issue 13).

Deadlines are computed when an order is registered, signed or extended, and a new schedule does not move
them. A preview (the admin page's and ``POST /api/v1/calendar/schedules?dry_run=true``) lists the open
orders whose time runs over a changed day — a holiday or make-up working day added or removed between
the order's start and its deadline — with their deadlines, so the admin sees whom the change concerns.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from haoban.orders.models import Order
from haoban.orders.overdue import HANDLING

LIMIT = 200


def changed_days(changes: dict[str, Any]) -> list[date]:
    """The days a schedule preview (``sla.schedules.schedule_changes``) adds or removes."""
    days: set[str] = set(changes.get("makeup_added") or ()) | set(changes.get("makeup_removed") or ())
    for h in changes.get("holidays") or ():
        days |= set(h.get("added") or ()) | set(h.get("removed") or ())
    return sorted(date.fromisoformat(d) for d in days)


def affected_orders(session: Any, changes: dict[str, Any], *, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """Open orders (in a handling status) whose deadline lies on or after a changed day that comes after
    their start (registration), with their deadlines and the changed days in their time."""
    days = changed_days(changes)
    if not days:
        return {"count": 0, "orders": [], "truncated": False}
    first = datetime.combine(days[0], datetime.min.time(), tzinfo=tz)
    last = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    stmt = (
        select(Order)
        .where(Order.status.in_(HANDLING), Order.handle_deadline >= first, Order.received_at < last)
        .order_by(Order.handle_deadline, Order.id)
    )
    out = []
    for o in session.scalars(stmt):
        start = o.received_at.astimezone(tz).date()
        end = o.handle_deadline.astimezone(tz).date()
        inside = [d.isoformat() for d in days if start <= d <= end]
        if inside:
            out.append(
                {
                    "code": o.code,
                    "status": o.status,
                    "sign_deadline": o.sign_deadline.astimezone(tz).isoformat() if o.sign_deadline else None,
                    "handle_deadline": o.handle_deadline.astimezone(tz).isoformat(),
                    "overdue": o.handle_deadline < now,
                    "changed_days": inside,
                }
            )
    return {"count": len(out), "orders": out[:LIMIT], "truncated": len(out) > LIMIT}
