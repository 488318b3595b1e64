"""One overdue rule (issue 13): the orders list's ``overdue`` filter, the dashboard's open-overdue count and
the board's per-department deadlines table agree, and none counts an order replied before its deadline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from haoban.analytics import service as analytics
from haoban.db import utcnow
from haoban.orders import queries
from haoban.orders.models import Order
from tests.builders import actors, make_order


def _set(rt: Any, code: str, **fields: Any) -> None:
    with rt.db.write() as session:
        order = session.scalars(select(Order).where(Order.code == code)).one()
        for k, v in fields.items():
            setattr(order, k, v)


def test_the_list_the_dashboard_and_the_board_count_the_same_overdue_orders(rt: Any) -> None:
    now = utcnow()
    late = make_order(rt, status="signed")  # past its deadline, no reply: overdue
    replied_in_time = make_order(rt, status="replied")  # replied, then the deadline passed: not late
    replied_late = make_order(rt, status="replied")  # replied after the deadline: overdue
    fresh = make_order(rt, status="signed")  # deadline ahead
    _set(rt, late, handle_deadline=now - timedelta(days=2), replied_at=None)
    _set(rt, replied_in_time, replied_at=now - timedelta(days=3), handle_deadline=now - timedelta(days=1))
    _set(rt, replied_late, handle_deadline=now - timedelta(days=3), replied_at=now - timedelta(days=1))
    _set(rt, fresh, handle_deadline=now + timedelta(days=2))
    supervisor = actors(rt)["supervisor"]
    scope = analytics.Scope(now - timedelta(days=30), now + timedelta(days=1))
    with rt.db.read() as session:
        rows, total = queries.list_orders(
            session, rt, actor=supervisor, filters=queries.OrderFilter(overdue=True), page_size=50, now=now
        )
        listed = {o.code for o in rows}
        counted = analytics.kpis(session, scope=scope, now=now)["counts"]["overdue_open"]
        board = analytics.department_deadlines(session, now=now, directory=rt.directory)
    assert listed == {late, replied_late} and total == 2
    assert counted == 2
    assert sum(r["overdue"] for r in board) == 2
    assert sum(r["open"] for r in board) == 4  # the replied-in-time order is open, and on time
    assert sum(r["on_time"] + r["warning"] for r in board) == 2
