"""The inbox's counts per status: a department's own orders, led or co-handled, each counted once."""

from __future__ import annotations

import re
from typing import Any

from haoban.auth.actors import Actor
from haoban.orders import queries
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
