"""A transferred order seen from outside: Open311 keeps it open while the other city handles it, with
status notes naming that city and its reference, and the updates extension says so; the order's web page
links to the receiving instance's record (and the receiving order's page links back to the original)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from haoban.federation.models import CrossCase
from haoban.orders import presenters
from haoban.orders.models import Order, OrderEvent
from tests.conftest import with_csrf
from tests.federation.conftest import Instance

HELD = "请问这个怎么办理"  # the classifier is unsure: the order waits for a dispatcher


def _act(inst: Instance, code: str, action: str, *, as_: str, **fields: Any) -> dict[str, Any]:
    r = inst.call("POST", f"/api/v1/orders/{code}/{action}", as_=as_, json=fields)
    assert r.status_code == 200, r.text
    return r.json()


def _request(inst: Instance, code: str) -> dict[str, Any]:
    r = inst.call("GET", f"/open311/v2/requests/{code}.json")
    assert r.status_code == 200, r.text
    [one] = r.json()
    return dict(one)


@pytest.fixture
def pages() -> Iterator[Any]:
    """A logged-in page client on an instance: an in-process app over the instance's runtime, without
    a lifespan of its own (the instance's server runs that one)."""
    from fastapi.testclient import TestClient

    from haoban.app import create_app

    opened: list[Any] = []

    def open_(inst: Instance, username: str) -> Any:
        c = with_csrf(TestClient(create_app(inst.rt, run_worker=False, upgrade=False)))
        opened.append(c)
        r = c.post("/login", data={"username": username, "password": "demo"}, follow_redirects=False)
        assert r.status_code == 303
        return c

    yield open_
    for c in opened:
        c.close()


def test_a_transferred_order_stays_open_over_open311_and_links_to_the_other_citys_record(
    cities: tuple[Instance, Instance], pages: Any
) -> None:
    a, b = cities
    r = a.call("POST", "/api/v1/orders", as_="operator", json={"type": "complaint", "content": HELD})
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    b.stop()  # 来宾 is down for now: the transfer waits in the outbox
    _act(a, code, "transfer_region", as_="operator", region=b.region, reason="事发地在来宾市")

    # Not yet accepted there: open, and the notes say where it went.
    seen = _request(a, code)
    assert seen["status"] == "open"
    assert "来宾市" in seen["status_notes"] and "451300" in seen["status_notes"]
    assert "待对方受理" in seen["status_notes"]
    opened = a.call("GET", "/open311/v2/requests.json", params={"status": "open"}).json()
    assert code in {x["service_request_id"] for x in opened}
    closed = a.call("GET", "/open311/v2/requests.json", params={"status": "closed"}).json()
    assert code not in {x["service_request_id"] for x in closed}

    b.start()
    a.deliver()
    with a.rt.db.read() as session:
        remote = session.scalar(select(CrossCase.remote_ref).where(CrossCase.local_ref == code))
    assert remote
    seen = _request(a, code)
    assert seen["status"] == "open" and remote in seen["status_notes"]
    xml = a.call("GET", f"/open311/v2/requests/{code}.xml")
    assert "<status>open</status>" in xml.text and remote in xml.text

    # The updates extension follows the transfer, in the city's and the reference's words.
    updates = a.call("GET", "/open311/v2/servicerequestupdates.json").json()
    mine = [u for u in updates if u["service_request_id"] == code]
    assert [u["status"] for u in mine][-2:] == ["in_progress", "in_progress"]
    assert "来宾市" in mine[-2]["description"] and remote in mine[-1]["description"]

    # The order's page links to the receiving instance's record, and that record's page links back.
    page = pages(a, "operator").get(f"/orders/{code}")
    assert page.status_code == 200
    assert f'href="{b.url}/orders/{remote}"' in page.text and 'id="transfer-link"' in page.text
    back = pages(b, "supervisor").get(f"/orders/{remote}")
    assert back.status_code == 200
    assert f'href="{a.url}/orders/{code}"' in back.text and "衡阳市" in back.text
    assert f"/federation/cases/430400-{code}" in back.text
    assert pages(a, "supervisor").get(f"/orders/{code}?lang=en").text.count("Handled by another city") == 1

    # 来宾 answers and closes it: closed here too, the notes are the approved reply.
    there = b.call("GET", f"/api/v1/orders/{remote}", as_="operator").json()
    if there["status"] != "dispatched":
        _act(b, remote, "dispatch", as_="dispatcher", department="cgj")
    _act(b, remote, "sign", as_="h_cgj")
    _act(b, remote, "reply", as_="h_cgj", reply="已协调物业，夜间施工已停止。")
    _act(b, remote, "review_reply", as_="dispatcher", decision="approve")
    _act(b, remote, "callback", as_="operator", result="satisfied")
    b.deliver()
    seen = _request(a, code)
    assert (seen["status"], seen["status_notes"]) == ("closed", "已协调物业，夜间施工已停止。")
    updates = a.call("GET", "/open311/v2/servicerequestupdates.json").json()
    mine = [u for u in updates if u["service_request_id"] == code]
    assert mine[-1]["status"] == "closed"
    assert "已协调物业，夜间施工已停止。" in {u["description"] for u in mine}
    # The citizen's tracking view tells the same story in plain words.
    with a.rt.db.read() as session:
        order = session.scalar(select(Order).where(Order.code == code))
        events = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id))
        steps = [s["text"] for s in presenters.track_view(order, events)["timeline"]]
    assert steps[-4:] == [
        "事发地在外地，已转至当地 12345 办理",
        "当地 12345 已受理",
        "当地已答复",
        "当地已回访，诉求办结",
    ]
