"""The inbox's counts per status: a department's own orders, led or co-handled, each counted once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from haoban.auth.actors import Actor
from haoban.orders import access, queries
from haoban.orders.models import Order, OrderCoHandler
from haoban.orders.overdue import HANDLING, overdue_clause
from haoban.web.orders import INBOX_TABS, LONG_TABS, tab_totals
from tests.conftest import Api
from tests.web.test_pages_access import login


def _department_id(rt: Any, code: str) -> int:
    return rt.directory.require_department(code).id


def _listed(rt: Any, actor: Actor, statuses: list[str]) -> dict[str, int]:
    """The same counts through the order list's visibility filter (one total per status)."""
    with rt.db.read() as s:
        return {
            status: total
            for status in statuses
            if (
                total := queries.list_orders(
                    s, rt, actor=actor, filters=queries.OrderFilter(status=[status])
                )[1]
            )
        }


def test_counts_cover_led_and_co_handled_orders_once(api: Api, rt: Any) -> None:
    led = api.create(department="cgj")["code"]  # led by cgj, dispatched
    api.create(department="cgj", co_handlers=["gaj"])  # led by cgj, co-handled by gaj
    co = api.create(department="gaj", co_handlers=["cgj"])["code"]  # led by gaj, co-handled by cgj
    api.create(department="mzj")  # nothing to do with cgj
    api.act(led, "sign", as_="h_cgj")
    api.act(co, "sign", as_="h_gaj")
    statuses = ["dispatched", "signed", "replied", "return_requested"]
    cgj = Actor(id=None, username="h_cgj", name="h", role="handler", department_id=_department_id(rt, "cgj"))
    gaj = Actor(id=None, username="h_gaj", name="h", role="handler", department_id=_department_id(rt, "gaj"))
    with rt.db.read() as s:
        assert queries.counts_by_status(s, actor=cgj, statuses=statuses) == {"dispatched": 1, "signed": 2}
        assert queries.counts_by_status(s, actor=gaj, statuses=statuses) == {"dispatched": 1, "signed": 1}
        for actor in (cgj, gaj):
            assert queries.counts_by_status(s, actor=actor, statuses=statuses) == _listed(rt, actor, statuses)
            # Without a status list: every status the department's orders are in.
            everything = queries.counts_by_status(s, actor=actor)
            assert (
                sum(everything.values())
                == queries.list_orders(s, rt, actor=actor, filters=queries.OrderFilter())[1]
            )


def test_inbox_tab_counts_show_the_departments_orders(api: Api, client: Any) -> None:
    api.create(department="gaj", co_handlers=["cgj"])
    api.create(department="cgj")
    api.create(department="mzj")
    login(client, "h_cgj")
    page = client.get("/inbox?tab=to_sign")
    assert page.status_code == 200
    assert re.search(r'tab=to_sign"[^>]*>[^<]*<span class="count">2</span>', page.text), page.text


def _old_counts(rt: Any, actor: Actor, now: datetime) -> tuple[dict[str, int], int]:
    """The inbox's counts by their old exact definition: the order list's "leads or co-handles"
    visibility filter, one count per status and one for the overdue orders."""
    visible = access.visibility_clause(actor)
    where = [] if visible is None else [visible]
    with rt.db.read() as s:
        by_status = {
            status: n
            for status in HANDLING
            if (n := s.scalar(select(func.count(Order.id)).where(*where, Order.status == status)))
        }
        overdue = s.scalar(select(func.count(Order.id)).where(*where, overdue_clause(now))) or 0
    return by_status, overdue


def _old_page(rt: Any, actor: Actor, filters: queries.OrderFilter, now: datetime, page: int) -> list[int]:
    """One urgent-first page of 2 through the visibility filter (``list_orders`` before the split)."""
    with rt.db.read() as s:
        stmt = queries._filtered(rt, actor, filters, now).with_only_columns(Order.id)
        stmt = stmt.order_by(*queries._ordering("urgent", now)).offset((page - 1) * 2).limit(2)
        return list(s.scalars(stmt))


def test_inbox_counts_and_tab_pages_equal_the_visibility_filter(api: Api, rt: Any) -> None:
    """Led + co-handled, an order both led and co-handled by the department counted once, replies in
    time not overdue; every tab's rows the same as through the "leads or co-handles" filter."""
    cgj_id, gaj_id = _department_id(rt, "cgj"), _department_id(rt, "gaj")
    led = [api.create(department="cgj")["code"] for _ in range(5)]
    both = api.create(department="cgj")["code"]  # led by cgj and listed as its co-handler too
    co_led_by_gaj = [api.create(department="gaj", co_handlers=["cgj"])["code"] for _ in range(2)]
    api.create(department="cgj", co_handlers=["gaj"])
    api.create(department="mzj")
    closed = api.create(department="cgj")["code"]
    with rt.db.write() as s:
        ids = {code: oid for code, oid in s.execute(select(Order.code, Order.id))}
        s.add(OrderCoHandler(order_id=ids[both], department_id=cgj_id))
        deadline = s.scalar(select(Order.handle_deadline).where(Order.code == led[0]))
        assert deadline is not None
        hour = timedelta(hours=1)
        changes: dict[str, dict[str, Any]] = {
            led[1]: {"status": "signed", "supervision_level": 2},
            led[2]: {"status": "replied", "replied_at": deadline - hour},  # in time: never overdue
            led[3]: {"status": "replied", "replied_at": deadline + hour},  # late
            led[4]: {"status": "return_requested"},
            both: {"status": "signed"},
            co_led_by_gaj[0]: {"status": "signed"},
            closed: {"status": "closed"},
        }
        for code, values in changes.items():
            s.execute(update(Order).where(Order.code == code).values(**values))
        s.execute(update(Order).where(Order.code == led[0]).values(handle_deadline=deadline - 3 * hour))
    cgj = Actor(id=None, username="h_cgj", name="h", role="handler", department_id=cgj_id)
    gaj = Actor(id=None, username="h_gaj", name="h", role="handler", department_id=gaj_id)
    nobody = Actor(id=None, username="h", name="h", role="handler", department_id=None)
    supervisor = Actor(id=None, username="s", name="s", role="supervisor")
    moments = [deadline - 10 * hour, deadline - 2 * hour, deadline + 2 * hour]
    for now in moments:
        for actor in (cgj, gaj, nobody, supervisor):
            with rt.db.read() as s:
                got = queries.inbox_counts(s, actor=actor, now=now)
            assert (got.by_status, got.overdue) == _old_counts(rt, actor, now), (actor.username, now)
            for tab, (statuses, overdue) in INBOX_TABS.items():
                if tab in LONG_TABS:
                    continue
                filters = queries.OrderFilter(status=statuses, overdue=overdue)
                total = tab_totals(got)[tab]
                for page in (1, 2, 3):
                    with rt.db.read() as s:
                        rows, n = queries.list_orders(
                            s, rt, actor=actor, filters=filters, page=page, page_size=2, now=now,
                            order="urgent", total=total,
                        )  # fmt: skip
                        exact = queries.list_orders(s, rt, actor=actor, filters=filters, now=now)[1]
                    assert n == total == exact, (tab, actor.username, now)
                    assert [o.id for o in rows] == _old_page(rt, actor, filters, now, page), (tab, page)
    with rt.db.read() as s:
        before, late, after = (queries.inbox_counts(s, actor=cgj, now=now) for now in moments)
    # cgj: 7 led handling orders ("both" once) + 2 led by gaj that cgj co-handles.
    assert before.by_status == {"dispatched": 3, "signed": 3, "replied": 2, "return_requested": 1}
    assert (before.overdue, late.overdue) == (0, 1)  # led[0]'s deadline moved 3 hours earlier
    assert after.overdue == 8  # all but the reply given in time
