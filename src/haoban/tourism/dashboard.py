"""The tourism dashboard's figures: visitors per spot and day against capacity, sales, check-in rate,
complaints per place. Plain aggregate queries; the definitions are here, once.

- booked: live tickets (valid or used) of the day's slots; capacity: the day's slots' capacities;
- checked in: used tickets; check-in rate = checked in / booked;
- sales: charges minus refunds in the payments ledger, by the day the money moved (city time);
- complaints: 12345 orders filed from each place's page, all time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from haoban.auth import rbac
from haoban.auth.actors import Actor
from haoban.auth.roles import DASHBOARD_ROLES
from haoban.runtime import Runtime
from haoban.tourism.complaints import complaints_per_place
from haoban.tourism.models import Place, Ticket, TicketOrder, TicketPayment, TicketSlot
from haoban.tourism.workflow import TicketStatus


def figures(session: Session, rt: Runtime, *, actor: Actor, start: date, end: date) -> dict[str, Any]:
    rbac.require_role(actor, *DASHBOARD_ROLES)
    tz = rt.settings.tz
    names = {pid: name for pid, name in session.execute(select(Place.id, Place.name))}
    codes = {pid: code for pid, code in session.execute(select(Place.id, Place.code))}
    live = case((Ticket.status.in_((TicketStatus.VALID, TicketStatus.USED)), 1), else_=0)
    used = case((Ticket.status == TicketStatus.USED, 1), else_=0)
    ticket_rows = session.execute(
        select(TicketSlot.place_id, TicketSlot.day, func.sum(live), func.sum(used))
        .join(Ticket, Ticket.slot_id == TicketSlot.id)
        .where(TicketSlot.day >= start, TicketSlot.day <= end)
        .group_by(TicketSlot.place_id, TicketSlot.day)
    ).all()
    capacity_rows = session.execute(
        select(TicketSlot.place_id, TicketSlot.day, func.sum(TicketSlot.capacity))
        .where(TicketSlot.day >= start, TicketSlot.day <= end)
        .group_by(TicketSlot.place_id, TicketSlot.day)
    ).all()
    days: dict[tuple[int, date], dict[str, Any]] = {}
    for place_id, day, cap in capacity_rows:
        days[(place_id, day)] = {"capacity": int(cap or 0), "booked": 0, "checked_in": 0}
    for place_id, day, booked, checked in ticket_rows:
        row = days.setdefault((place_id, day), {"capacity": 0, "booked": 0, "checked_in": 0})
        row.update(booked=int(booked or 0), checked_in=int(checked or 0))
    visitors = [
        {
            "place": codes[pid],
            "place_name": names[pid],
            "day": day,
            **row,
            "fill": round(row["booked"] / row["capacity"], 4) if row["capacity"] else None,
            "check_in_rate": round(row["checked_in"] / row["booked"], 4) if row["booked"] else None,
        }
        for (pid, day), row in sorted(days.items(), key=lambda kv: (kv[0][1], names[kv[0][0]]))
    ]
    lo = datetime.combine(start, time(0), tz)
    hi = datetime.combine(end + timedelta(days=1), time(0), tz)
    signed = case((TicketPayment.kind == "refund", -TicketPayment.amount_fen), else_=TicketPayment.amount_fen)

    sales_rows = session.execute(
        select(TicketOrder.place_id, func.sum(signed), func.count(func.distinct(TicketOrder.id)))
        .join(TicketOrder, TicketOrder.id == TicketPayment.order_id)
        .where(TicketPayment.at >= lo, TicketPayment.at < hi)
        .group_by(TicketOrder.place_id)
    ).all()
    sales = [
        {"place": codes[pid], "place_name": names[pid], "net_fen": int(net or 0), "orders": int(n)}
        for pid, net, n in sorted(sales_rows, key=lambda r: -(r[1] or 0))
    ]
    complaints = [
        {"place": codes[pid], "place_name": names[pid], "complaints": n}
        for pid, n in sorted(complaints_per_place(session).items(), key=lambda kv: -kv[1])
    ]
    booked = sum(v["booked"] for v in visitors)
    checked = sum(v["checked_in"] for v in visitors)
    return {
        "start": start,
        "end": end,
        "visitors": visitors,
        "sales": sales,
        "complaints": complaints,
        "totals": {
            "booked": booked,
            "checked_in": checked,
            "check_in_rate": round(checked / booked, 4) if booked else None,
            "net_fen": sum(s["net_fen"] for s in sales),
            "complaints": sum(c["complaints"] for c in complaints),
        },
    }
