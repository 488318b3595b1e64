"""Bad input gets a 4xx with a field-level message, and nothing stored changes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from haoban.notifications.models import OutboxMessage
from haoban.orders.models import Order, OrderEvent
from tests.conftest import Api


def _snapshot(rt: Any) -> tuple[int, int, int, list[tuple[str, str, int]]]:
    with rt.db.read() as s:
        return (
            s.scalar(select(func.count(Order.id))),
            s.scalar(select(func.count(OrderEvent.id))),
            s.scalar(select(func.count(OutboxMessage.id))),
            sorted(tuple(r) for r in s.execute(select(Order.code, Order.status, Order.version)).all()),
        )


BAD_BODIES = [
    ({"content": ""}, "content"),
    ({"content": "   "}, "content"),
    ({"content": "字" * 100_000}, "content"),
    ({"content": "ok", "citizen_phone": "12345"}, "citizen_phone"),
    ({"content": "ok", "citizen_phone": "1381234567a"}, "citizen_phone"),
    ({"content": "ok", "citizen_id_number": "110105194912310021"}, "citizen_id_number"),
    ({"content": "ok", "citizen_id_number": "11010519491331002X"}, "citizen_id_number"),
    ({"content": "ok", "category": "不存在的分类"}, "category"),
    ({"content": "ok", "department": "nope"}, "department"),
    ({"content": "ok", "co_handlers": ["nope"]}, "co_handlers"),
    ({"content": "ok", "district": "火星区"}, "district"),
    ({"content": "ok", "type": "rant"}, "type"),
    ({"content": "ok", "channel": "pigeon"}, "channel"),
    ({"content": "ok", "latitude": 100, "longitude": 1}, "latitude"),
    ({"content": "ok", "latitude": 10}, "body"),
    ({"content": "ok", "received_at": "2026-01-01T10:00:00"}, "received_at"),
    ({"content": "ok", "received_at": "2999-01-01T10:00:00+08:00"}, "received_at"),
    ({"content": "ok", "colour": "blue"}, "colour"),
    ({}, "content"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_create_is_422_with_field_and_stores_nothing(api: Api, rt: Any, body: dict, field: str) -> None:
    api.create()
    before = _snapshot(rt)
    r = api.post("/api/v1/orders", as_="operator", json=body)
    assert r.status_code == 422, r.text
    payload = r.json()
    assert payload["error"] == "invalid"
    assert field in payload["fields"], payload
    assert payload["fields"][field]
    assert _snapshot(rt) == before


def test_malformed_json_is_4xx_and_stores_nothing(api: Api, rt: Any) -> None:
    before = _snapshot(rt)
    r = api.client.post(
        "/api/v1/orders",
        content=b'{"content": "x",',
        headers={**api.headers("operator"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert "malformed JSON" in r.json()["message"]
    r = api.client.post(
        "/api/v1/orders",
        content=b"\xff\xfe\x00garbage",
        headers={**api.headers("operator"), "Content-Type": "application/json"},
    )
    assert 400 <= r.status_code < 500
    assert _snapshot(rt) == before


def test_bad_actions_change_nothing(api: Api, rt: Any) -> None:
    code = api.create()["code"]
    before = _snapshot(rt)
    cases = [
        ("reply", "h_cgj", {"reply": "x"}, 409),  # wrong state
        ("return", "h_cgj", {}, 422),  # reason missing
        ("review_return", "dispatcher", {"decision": "uphold"}, 409),
        ("sign", "h_cgj", {"unexpected": 1}, 422),
        ("dispatch", "dispatcher", {"department": "cgj"}, 409),
        ("sign", "h_gjj", {}, 404),
        ("nonsense", "supervisor", {}, 404),
        ("supervise", "supervisor", {}, 422),
        ("request_extension", "h_cgj", {"days": 0, "reason": "x"}, 422),
    ]
    for action, user, body, status in cases:
        r = api.post(f"/api/v1/orders/{code}/{action}", as_=user, json=body)
        assert r.status_code == status, (action, r.text)
        assert r.json()["message"]
    assert _snapshot(rt) == before
    api.act(code, "sign", as_="h_cgj")
    r = api.post(f"/api/v1/orders/{code}/decide_extension", as_="supervisor", json={"decision": "approve"})
    assert r.status_code == 409 and "no extension request" in r.json()["message"]
    r = api.post(f"/api/v1/orders/{code}/decide_extension", as_="supervisor", json={"decision": "maybe"})
    assert r.status_code == 409 or r.status_code == 422


def test_unknown_order_is_404(api: Api) -> None:
    assert api.get("/api/v1/orders/HB20000101000001", as_="operator").status_code == 404
    r = api.post("/api/v1/orders/HB20000101000001/sign", as_="h_cgj", json={})
    assert r.status_code == 404


def test_optimistic_lock_refuses_stale_version(api: Api) -> None:
    code = api.create()["code"]
    version = api.get(f"/api/v1/orders/{code}", as_="h_cgj").json()["version"]
    api.act(code, "sign", as_="h_cgj")
    r = api.post(
        f"/api/v1/orders/{code}/reply", as_="h_cgj", json={"reply": "ok", "expected_version": version}
    )
    assert r.status_code == 409 and "changed since" in r.json()["message"]
