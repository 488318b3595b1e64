"""Open311 GeoReport v2 reads: discovery, services, requests by id and by filter, in JSON and XML, with
the spec's error bodies, and no personal data in what anyone may read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import select

from haoban.orders.intake import prepare_order, write_prepared
from haoban.orders.models import Order
from haoban.orders.schemas import OrderCreate
from haoban.runtime import Runtime
from tests.builders import actors, make_order

BASE = "/open311/v2"
PERSONAL = ("张三", "13812345678", "滨江路的路灯坏了三天")  # name, phone, the citizen's own words


def _register(rt: Runtime, *, category: str, type_: str = "complaint", now: datetime | None = None) -> str:
    data = OrderCreate(
        type=type_,
        content="滨江路的路灯坏了三天，晚上很黑，请尽快修理。",
        citizen_phone="13812345678",
        citizen_name="张三",
        category=category,
    )
    with rt.db.write() as session:
        prepared = prepare_order(rt, data=data, actor=actors(rt)["operator"], now=now, route=False)
        return write_prepared(session, [prepared])[0].code


def _xml(text: str) -> ET.Element:
    return ET.fromstring(text.encode())


def _category(rt: Runtime) -> tuple[str, str, str]:
    """A third-level category: (its code, its top-level code, the top level's name)."""
    ref = next(r for r in rt.directory.categories_by_id.values() if r.level == 3)
    top = rt.directory.category(ref.ancestors[0])
    assert top is not None
    return ref.code, top.code, top.name


def test_discovery_in_both_formats(client: Any) -> None:
    body = client.get(f"{BASE}/discovery.json").json()
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert body["endpoints"][0]["url"].endswith("/open311/v2")
    r = client.get(f"{BASE}/discovery.xml")
    assert r.headers["content-type"].startswith("application/xml")
    root = _xml(r.text)
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["text/xml", "application/json"]


def test_services_come_from_the_category_tree_and_the_catalogue(client: Any, api: Any, rt: Runtime) -> None:
    code, top_code, top_name = _category(rt)
    r = api.post(
        "/api/v1/admin/dispatch/rules",
        as_="admin",
        json={"name": "路灯", "category_code": code, "keywords": ["路灯", "不亮"], "department_code": "cgj"},
    )
    assert r.status_code in (200, 201), r.text
    services = {s["service_code"]: s for s in client.get(f"{BASE}/services.json").json()}
    assert len(services) == len(rt.directory.categories_by_id)
    assert services[code]["group"] == top_name
    assert services[code]["keywords"] == "路灯, 不亮"
    assert services[code]["metadata"] is False and services[code]["type"] == "realtime"
    assert services[top_code]["description"] == top_name
    root = _xml(client.get(f"{BASE}/services.xml").text)
    assert root.tag == "services"
    node = next(s for s in root.findall("service") if s.findtext("service_code") == code)
    assert node.findtext("keywords") == "路灯, 不亮"
    assert node.findtext("metadata") == "false"
    assert node.findtext("group") == top_name


def test_a_closed_request_shows_the_approved_reply_and_no_personal_data(client: Any, rt: Runtime) -> None:
    code = make_order(rt, status="closed")
    r = client.get(f"{BASE}/requests/{code}.json")
    assert r.status_code == 200, r.text
    [req] = r.json()
    assert req["service_request_id"] == code
    assert req["status"] == "closed"
    assert req["status_notes"] == "已处理完毕，路灯已修复。"
    with rt.db.read() as session:
        order = session.scalars(select(Order).where(Order.code == code)).one()
        assert req["agency_responsible"] == order.lead_department.name
        assert datetime.fromisoformat(req["expected_datetime"]) == order.handle_deadline
    for text in (r.text, client.get(f"{BASE}/requests/{code}.xml").text):
        assert not [p for p in PERSONAL if p in text]
    root = _xml(client.get(f"{BASE}/requests/{code}.xml").text)
    assert root.tag == "service_requests"
    assert root.findtext("request/status") == "closed"
    assert root.findtext("request/status_notes") == "已处理完毕，路灯已修复。"


def test_a_reply_not_yet_approved_stays_internal(client: Any, rt: Runtime) -> None:
    code = make_order(rt, status="replied")
    [req] = client.get(f"{BASE}/requests/{code}.json").json()
    assert req["status"] == "open"
    assert req["status_notes"] is None
    assert "路灯已修复" not in client.get(f"{BASE}/requests/{code}.xml").text


def test_unknown_ids_reports_and_formats_answer_404_in_the_spec_form(client: Any, rt: Runtime) -> None:
    r = client.get(f"{BASE}/requests/HB20990101000001.json")
    assert r.status_code == 404
    assert r.json() == [{"code": 404, "description": "no service request 'HB20990101000001'"}]
    r = client.get(f"{BASE}/requests/HB20990101000001.xml")
    assert r.status_code == 404
    assert _xml(r.text).findtext("error/code") == "404"
    # 举报 (a whistle-blower's report) is confidential: not published even by its code.
    report = _register(rt, category=_category(rt)[0], type_="report")
    assert client.get(f"{BASE}/requests/{report}.json").status_code == 404
    assert client.get(f"{BASE}/services.html").status_code == 404


def test_get_requests_by_ids_service_status_and_dates(client: Any, rt: Runtime) -> None:
    code, top_code, _ = _category(rt)
    other = next(r.code for r in rt.directory.categories_by_id.values() if top_code not in r.ancestors)
    now = datetime.now(UTC)
    mine = _register(rt, category=code)
    elsewhere = _register(rt, category=other)
    old = _register(rt, category=code, now=now - timedelta(days=200))
    closed = make_order(rt, status="closed")

    def ids(query: str) -> set[str]:
        r = client.get(f"{BASE}/requests.json?{query}")
        assert r.status_code == 200, r.text
        return {x["service_request_id"] for x in r.json()}

    assert ids(f"service_code={code}") == {mine}
    assert ids(f"service_code={top_code}") == {mine}  # a group covers what is under it
    assert {mine, elsewhere, closed} <= ids("") and old not in ids("")
    assert closed in ids("status=closed") and mine not in ids("status=closed")
    assert mine in ids("status=open") and closed not in ids("status=open")
    start = (now - timedelta(days=210)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now - timedelta(days=190)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"start_date={start}&end_date={end}") == {old}
    # With ids, the other filters do not apply (the spec).
    assert ids(f"service_request_id={mine},{old},{closed}&status=open") == {mine, old, closed}
    root = _xml(client.get(f"{BASE}/requests.xml?service_code={code}").text)
    assert [n.text for n in root.iter("service_request_id")] == [mine]


def test_bad_filters_answer_400_with_the_spec_error_list(client: Any) -> None:
    now = datetime.now(UTC)
    start = (now - timedelta(days=91)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    r = client.get(f"{BASE}/requests.json?start_date={start}&end_date={end}")
    assert r.status_code == 400
    assert r.json() == [{"code": 400, "description": "start_date and end_date may be at most 90 days apart"}]
    r = client.get(f"{BASE}/requests.xml?start_date=yesterday")
    assert r.status_code == 400
    root = _xml(r.text)
    assert root.tag == "errors" and root.findtext("error/code") == "400"
    assert "W3C" in (root.findtext("error/description") or "")
    assert client.get(f"{BASE}/requests.json?service_code=NOPE").status_code == 400
    assert client.get(f"{BASE}/requests.json?status=pending").status_code == 400
    r = client.get(f"{BASE}/requests.json?start_date={end}&end_date={start}")
    assert r.status_code == 400 and "before" in r.json()[0]["description"]


def test_a_service_definition_and_an_unknown_service(client: Any, rt: Runtime) -> None:
    code = _category(rt)[0]
    assert client.get(f"{BASE}/services/{code}.json").json() == {"service_code": code, "attributes": []}
    root = _xml(client.get(f"{BASE}/services/{code}.xml").text)
    assert root.tag == "service_definition" and root.findtext("service_code") == code
    r = client.get(f"{BASE}/services/NOPE.xml")
    assert r.status_code == 404 and _xml(r.text).findtext("error/code") == "404"


def test_too_many_calls_from_one_address_answer_429_in_the_spec_form(client: Any, rt: Runtime) -> None:
    rt.settings.open311_rate_per_minute = 3
    for _ in range(3):
        assert client.get(f"{BASE}/discovery.json").status_code == 200
    r = client.get(f"{BASE}/services.xml")
    assert r.status_code == 429
    assert _xml(r.text).findtext("error/code") == "429"
