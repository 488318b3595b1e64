"""POST requests (form-encoded, with an api_key): an order of channel open311 through the hotline's own
intake (dispatch, deadlines, case file), the spec's answer with service_request_id and token, tokens/{id},
and the spec's 400 list for every problem, attributes checked against the service definition."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import func, select

from haoban.open311.models import Open311Request
from haoban.orders.models import Order, OrderEvent
from haoban.runtime import Runtime
from tests.conftest import Api

BASE = "/open311/v2"
NOISE = "环境保护/环境污染/噪音污染"
LAMPS = "城乡建设/城市建设和市政管理/城市公共设施"


def _key(api: Api, name: str = "衡阳城管通") -> str:
    r = api.post("/api/v1/admin/open311/clients", as_="admin", json={"name": name})
    assert r.status_code == 201, r.text
    return str(r.json()["api_key"])


def _code(rt: Runtime, path: str) -> str:
    ref = rt.directory.category(path)
    assert ref is not None, path
    return ref.code


def _orders(rt: Runtime) -> int:
    with rt.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


def test_a_definition_lists_its_own_and_its_ancestors_attributes(client: Any, rt: Runtime) -> None:
    noise = client.get(f"{BASE}/services/{_code(rt, NOISE)}.json").json()
    assert [a["code"] for a in noise["attributes"]] == ["noise_period", "noise_source", "noise_days"]
    period = noise["attributes"][0]
    assert (
        period["required"] is True and period["datatype"] == "singlevaluelist" and period["variable"] is True
    )
    assert [v["key"] for v in period["values"]] == ["day", "night", "both"]
    assert [a["order"] for a in noise["attributes"]] == [1, 2, 3]
    lamps = client.get(f"{BASE}/services/{_code(rt, LAMPS)}.json").json()
    assert [a["code"] for a in lamps["attributes"]] == ["facility_id"]  # from its parent category
    root = ET.fromstring(client.get(f"{BASE}/services/{_code(rt, NOISE)}.xml").content)
    first = root.find("attributes/attribute")
    assert first is not None and first.findtext("code") == "noise_period"
    assert [v.findtext("key") for v in first.iter("value")] == ["day", "night", "both"]
    services = {s["service_code"]: s for s in client.get(f"{BASE}/services.json").json()}
    assert services[_code(rt, NOISE)]["metadata"] is True
    assert services[_code(rt, "环境保护/环境污染/水污染")]["metadata"] is False


def test_posting_a_request_registers_an_open311_order_through_the_normal_intake(
    client: Any, api: Api, rt: Runtime
) -> None:
    key = _key(api)
    r = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": key,
            "service_code": _code(rt, NOISE),
            "lat": "26.8968",
            "long": "112.5719",
            "address_string": "珠晖区东风路12号",
            "description": "楼下工地每天夜里施工，噪音很大，影响休息。",
            "attribute[noise_period]": "night",
            "attribute[noise_source][]": ["construction", "traffic"],
            "attribute[fixmystreet_id]": "4711",
            "media_url": "https://photos.example.org/4711.jpg",
            "first_name": "小明",
            "last_name": "李",
            "phone": "13912345678",
            "email": "li@example.org",
        },
    )
    assert r.status_code == 200, r.text
    [answer] = r.json()
    code, token = answer["service_request_id"], answer["token"]
    assert answer["service_notice"].startswith("承诺 13 个工作日内") and answer["account_id"] is None
    with rt.db.read() as session:
        order = session.scalars(select(Order).where(Order.code == code)).one()
        assert order.channel == "open311" and order.order_type == "complaint"
        assert order.category_id == rt.directory.category(NOISE).id  # type: ignore[union-attr]
        assert order.citizen_name == "李小明" and order.citizen_phone == "13912345678"
        assert (order.latitude, order.longitude) == (26.8968, 112.5719)
        assert order.handle_deadline is not None and order.handle_deadline > order.received_at
        assert "夜间" in order.content and "建筑施工" in order.content and "li@example.org" in order.content
        assert "https://photos.example.org/4711.jpg" in order.content
        events = list(session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)))
        assert events[0].action == "register" and events[0].actor_name == "Open311 衡阳城管通"
        assert json.loads(events[0].payload)["channel"] == "open311"
        record = session.scalars(select(Open311Request).where(Open311Request.order_id == order.id)).one()
        assert json.loads(record.attributes or "{}") == {
            "fixmystreet_id": "4711",
            "noise_period": "night",
            "noise_source": ["construction", "traffic"],
        }
    # The token stands for the request; the request reads back like any other, without personal data.
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [{"service_request_id": code, "token": token}]
    root = ET.fromstring(client.get(f"{BASE}/tokens/{token}.xml").content)
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == code
    assert client.get(f"{BASE}/tokens/nope.json").status_code == 404
    [view] = client.get(f"{BASE}/requests/{code}.json").json()
    assert view["status"] == "open" and view["service_code"] == _code(rt, NOISE)
    assert view["service_notice"] == answer["service_notice"]
    assert datetime.fromisoformat(view["expected_datetime"]) == order.handle_deadline
    for private in ("李小明", "13912345678", "li@example.org", "东风路12号", "夜里施工"):
        assert private not in client.get(f"{BASE}/requests/{code}.xml").text


def test_xml_answer_and_an_address_id(client: Any, api: Api, rt: Runtime) -> None:
    key = _key(api)
    district = next(iter(rt.directory.districts_by_id.values()))
    r = client.post(
        f"{BASE}/requests.xml",
        data={
            "api_key": key,
            "service_code": _code(rt, LAMPS),
            "address_id": district.code,
            "description": "路灯不亮",
        },
    )
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert root.tag == "service_requests"
    code = root.findtext("request/service_request_id")
    assert code and root.findtext("request/token")
    with rt.db.read() as session:
        order = session.scalars(select(Order).where(Order.code == code)).one()
        assert order.district_id == district.id and order.channel == "open311"


def test_every_problem_is_one_entry_of_the_400_list_and_nothing_is_stored(
    client: Any, api: Api, rt: Runtime
) -> None:
    key = _key(api)
    before = _orders(rt)
    r = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": key,
            "service_code": _code(rt, NOISE),
            "lat": "26.9",
            "attribute[noise_source][]": "aliens",
            "attribute[noise_days]": "many",
            "phone": "12",
            "media_url": "javascript:alert(1)",
        },
    )
    assert r.status_code == 400
    descriptions = [e["description"] for e in r.json()]
    assert {e["code"] for e in r.json()} == {400}
    assert any("give both lat and long" in d for d in descriptions)
    assert any(d.startswith("attribute[noise_period] is required") for d in descriptions)
    assert any("attribute[noise_source]: aliens" in d for d in descriptions)
    assert any("attribute[noise_days] must be a number" in d for d in descriptions)
    assert any(d.startswith("phone:") for d in descriptions)
    assert any(d.startswith("media_url") for d in descriptions)
    r = client.post(
        f"{BASE}/requests.xml", data={"api_key": key, "service_code": "NOPE", "lat": "1", "long": "2"}
    )
    assert r.status_code == 400
    root = ET.fromstring(r.content)
    assert root.findtext("error/code") == "400" and "unknown service_code 'NOPE'" in (
        root.findtext("error/description") or ""
    )
    r = client.post(f"{BASE}/requests.json", data={"api_key": key, "service_code": _code(rt, LAMPS)})
    assert r.json() == [
        {"code": 400, "description": "say where: lat and long, or address_string, or address_id"}
    ]
    assert client.post(f"{BASE}/requests.json", json={"api_key": key}).status_code == 400  # not form-encoded
    assert _orders(rt) == before


def test_posting_needs_a_valid_key(client: Any, api: Api, rt: Runtime) -> None:
    form = {"service_code": _code(rt, LAMPS), "address_string": "解放路"}
    r = client.post(f"{BASE}/requests.json", data=form)
    assert r.status_code == 403 and "api_key" in r.json()[0]["description"]
    r = client.post(f"{BASE}/requests.xml", data={**form, "api_key": "o311_forged"})
    assert r.status_code == 403 and ET.fromstring(r.content).findtext("error/code") == "403"
    key = _key(api)
    cid = api.get("/api/v1/admin/open311/clients", as_="admin").json()[0]["id"]
    assert client.post(f"{BASE}/requests.json", data={**form, "api_key": key}).status_code == 200
    api.post(f"/api/v1/admin/open311/clients/{cid}/revoke", as_="admin")
    assert client.post(f"{BASE}/requests.json", data={**form, "api_key": key}).status_code == 403
