"""Building the dashboard's daily roll-ups (``haoban.analytics.models``) from the order rows.

A day is built in one write transaction: the change marks of the day are read first, the day's
orders are aggregated with the same expressions the raw figures use (``service.order_counts`` and
``service.returned_counts``), the day's roll-up rows are replaced, and exactly the marks read at the
start are deleted. A change committed meanwhile leaves its own mark, so the day is read from the order
rows until the next build; nothing is ever read stale. Today is never built (its orders are still
arriving) and is always read from the order rows.

The mixes are also summed per calendar month (``DashboardMonthlyMix``) once every day of a month is
built. Rebuilding a day deletes its month's sums in the same transaction, and the next run sums the
month again, so a month's rows always equal its days' rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.orm import Session

from haoban.analytics.models import (
    ALL,
    NONE,
    ROLLED_COUNTS,
    DashboardDaily,
    DashboardDailyMix,
    DashboardDay,
    DashboardMonth,
    DashboardMonthlyMix,
)
from haoban.analytics.service import (
    local_day_start,
    month_last,
    order_counts,
    returned_counts,
    today_local,
)
from haoban.orders.models import Order, OrderDayMark, local_day
from haoban.orders.workflow import Status


def _grains(district_id: int | None, department_id: int | None) -> list[tuple[int, int]]:
    d = NONE if district_id is None else district_id
    p = NONE if department_id is None else department_id
    return [(d, p), (d, ALL), (ALL, p), (ALL, ALL)]


def build_day(session: Session, day: date, *, now: datetime) -> int:
    """Replace the roll-up rows of local ``day``; returns the orders it covers."""
    where = [
        Order.received_at >= local_day_start(day),
        Order.received_at < local_day_start(day + timedelta(days=1)),
        Order.status != Status.MERGED.value,
    ]
    dims = (Order.district_id, Order.lead_department_id)
    daily: dict[tuple[int, int], dict[str, int]] = {}

    def add(grain_rows: Iterable[Any]) -> None:
        for row in grain_rows:
            m = row._mapping
            for grain in _grains(m["district_id"], m["lead_department_id"]):
                slot = daily.setdefault(grain, {})
                for k, v in m.items():
                    if k not in ("district_id", "lead_department_id"):
                        slot[k] = slot.get(k, 0) + int(v or 0)

    add(session.execute(select(*dims, *order_counts()).where(*where).group_by(*dims)).all())
    extra, returned = returned_counts()
    add(
        session.execute(
            select(*dims, *returned).select_from(Order).where(*where, *extra).group_by(*dims)
        ).all()
    )
    mix: dict[tuple[int, int, str, str], int] = {}
    for kind, column in (("category", Order.category_id), ("channel", Order.channel)):
        for district_id, department_id, value, n in session.execute(
            select(*dims, column, func.count()).where(*where).group_by(*dims, column)
        ).all():
            key = "" if value is None else str(value)
            for grain in _grains(district_id, department_id):
                mix[(*grain, kind, key)] = mix.get((*grain, kind, key), 0) + int(n)
    session.execute(delete(DashboardDaily).where(DashboardDaily.day == day))
    session.execute(delete(DashboardDailyMix).where(DashboardDailyMix.day == day))
    session.execute(delete(DashboardDay).where(DashboardDay.day == day))
    month = day.replace(day=1)  # its sums no longer hold: the next run sums the month again
    session.execute(delete(DashboardMonthlyMix).where(DashboardMonthlyMix.month == month))
    session.execute(delete(DashboardMonth).where(DashboardMonth.month == month))
    if daily:
        session.execute(
            insert(DashboardDaily.__table__),
            [
                {
                    "day": day,
                    "district_key": d,
                    "department_key": p,
                    **dict.fromkeys(ROLLED_COUNTS, 0),
                    **counts,
                }
                for (d, p), counts in daily.items()
            ],
        )
    if mix:
        session.execute(
            insert(DashboardDailyMix.__table__),
            [
                {"day": day, "district_key": d, "department_key": p, "kind": kind, "key": key, "orders": n}
                for (d, p, kind, key), n in mix.items()
            ],
        )
    session.execute(insert(DashboardDay.__table__), [{"day": day, "built_at": now}])
    return int(daily.get((ALL, ALL), {}).get("received", 0))


@dataclass
class RefreshResult:
    built: int = 0  # days (re)built
    pending: int = 0  # days still to build (over the limit of this run)
    months: int = 0  # months whose mix was summed from their days


def days_to_build(session: Session, *, today: date) -> list[date]:
    """Days before ``today`` never built or marked since their build, newest first."""
    first_received = session.scalar(select(func.min(Order.received_at)))
    marked = set(session.scalars(select(OrderDayMark.day).where(OrderDayMark.day < today).distinct()))
    todo = set(marked)
    if first_received is not None:
        first = local_day(first_received)
        built = set(session.scalars(select(DashboardDay.day).where(DashboardDay.day < today)))
        day = first
        while day < today:
            if day not in built:
                todo.add(day)
            day += timedelta(days=1)
    return sorted(todo, reverse=True)


def months_to_build(session: Session) -> list[date]:
    """First days of the months whose days are all built and whose mix is not summed yet."""
    days = session.scalars(select(DashboardDay.day)).all()
    built_days: dict[date, int] = {}
    for day in days:
        built_days[day.replace(day=1)] = built_days.get(day.replace(day=1), 0) + 1
    summed = set(session.scalars(select(DashboardMonth.month)))
    return sorted(
        (m for m, n in built_days.items() if n == month_last(m).day and m not in summed), reverse=True
    )


def build_month(session: Session, month: date, *, now: datetime) -> None:
    """Replace ``month``'s mix rows by the sums of its days' rows (all built: ``months_to_build``)."""
    m = DashboardDailyMix
    keys = (m.district_key, m.department_key, m.kind, m.key)
    session.execute(delete(DashboardMonthlyMix).where(DashboardMonthlyMix.month == month))
    session.execute(delete(DashboardMonth).where(DashboardMonth.month == month))
    session.execute(
        insert(DashboardMonthlyMix).from_select(
            ["district_key", "department_key", "kind", "key", "month", "orders"],
            select(*keys, literal(month, DashboardMonthlyMix.month.type), func.sum(m.orders))
            .where(m.day >= month, m.day <= month_last(month))
            .group_by(*keys),
        )
    )
    session.execute(insert(DashboardMonth.__table__), [{"month": month, "built_at": now}])


def refresh(db: Any, *, now: datetime, limit: int = 400) -> RefreshResult:
    """Build up to ``limit`` days that need it, each in its own write transaction."""
    today = today_local(now)
    with db.read() as session:
        todo = days_to_build(session, today=today)
    result = RefreshResult(pending=max(0, len(todo) - limit))
    for day in todo[:limit]:
        with db.write() as session:
            seen = list(session.scalars(select(OrderDayMark.id).where(OrderDayMark.day == day)))
            build_day(session, day, now=now)
            for i in range(0, len(seen), 500):
                session.execute(delete(OrderDayMark).where(OrderDayMark.id.in_(seen[i : i + 500])))
        result.built += 1
    # Runs of this job never overlap (its lock), so no day is rebuilt while its month is summed.
    with db.read() as session:
        months = months_to_build(session)
    for month in months:
        with db.write() as session:
            build_month(session, month, now=now)
        result.months += 1
    return result
