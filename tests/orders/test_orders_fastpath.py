"""POST /api/v1/orders through ``CreateFastPath``: the same answers, events and errors as the FastAPI
route, which answers every request the fast path does not take."""

from __future__ import annotations

from typing import Any

import pytest

from haoban.orders import api as orders_api

BODY = {
    "type": "complaint",
    "content": "小区门口的路灯坏了三天，晚上很黑，请尽快修理。",
    "citizen_phone": "13812345678",
}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the fast path answered each create (True) or handed it to the route (False)."""
    seen: list[bool] = []
    take = orders_api.CreateFastPath._take

    async def spy(self: Any, scope: Any, body: bytes, receive: Any) -> Any:
        answer = await take(self, scope, body, receive)
        seen.append(answer is not None)
        return answer

    monkeypatch.setattr(orders_api.CreateFastPath, "_take", spy)
    return seen


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    # The code differs; a sign deadline counted in hours from the request's own moment may too.
    out = {k: v for k, v in answer.items() if k != "code"}
    sign = out["deadlines"]["sign"]
    out["deadlines"]["sign"] = {**sign, "at": sign["at"] is not None}
    return out


def _events(api: Any, code: str) -> list[tuple[Any, ...]]:
    r = api.get(f"/api/v1/orders/{code}/events", as_="supervisor")
    assert r.status_code == 200, r.text
    return [
        (e["seq"], e["action"], e["actor"], e["role"], e["from_status"], e["to_status"]) for e in r.json()
    ]


def _payloads(api: Any, code: str) -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/orders/{code}/events", as_="supervisor")
    return [{k: v for k, v in e["payload"].items() if "deadline" not in k} for e in r.json()]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"department": "cgj", "co_handlers": ["gjj"]},
        {"type": "consult", "content": "请问新生儿落户需要准备什么？", "district": "珠晖区"},
        {"urgency": "urgent", "content": "煤气泄漏了，有很大的味道！", "channel": "phone"},
        {"type": "咨询", "content": "  公积金提取需要哪些材料？  ", "citizen_phone": "138 1234 5678"},
    ],
)
def test_fast_path_answers_and_records_what_the_route_does(
    api: Any, taken: list[bool], monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any]
) -> None:
    body = {**BODY, **fields}
    fast = api.post("/api/v1/orders", as_="operator", json=body)
    assert taken == [True]
    # The same request through the FastAPI route: the fast path declines it.
    monkeypatch.setattr(orders_api.CreateFastPath, "_take", lambda *a: _none())
    slow = api.post("/api/v1/orders", as_="operator", json=body)
    assert (fast.status_code, fast.headers["content-type"]) == (
        slow.status_code,
        slow.headers["content-type"],
    )
    assert fast.status_code == 201, fast.text
    assert _comparable(fast.json()) == _comparable(slow.json())
    assert "x-request-id" in fast.headers and "x-content-type-options" in fast.headers
    a, b = fast.json()["code"], slow.json()["code"]
    assert _events(api, a) == _events(api, b)
    assert _payloads(api, a) == _payloads(api, b)


async def _none() -> None:
    return None


@pytest.mark.parametrize(
    ("kw", "status"),
    [
        ({"content": b"{not json", "headers": JSON}, 422),
        ({"json": {**BODY, "colour": "red"}}, 422),  # unknown field
        ({"json": {**BODY, "content": "   "}}, 422),
        ({"json": [BODY]}, 422),
        ({"content": b"", "headers": JSON}, 422),
        ({"data": {"content": "x"}}, 422),  # a form, not JSON
        ({"json": {**BODY, "department": "nosuch"}}, 422),  # refused by prepare_order
        ({"json": {**BODY, "received_at": "2099-01-01T00:00:00+08:00"}}, 422),
    ],
)
def test_requests_the_fast_path_declines_get_the_routes_errors(
    api: Any, taken: list[bool], kw: dict[str, Any], status: int
) -> None:
    headers = {**api.headers("operator"), **kw.pop("headers", {})}
    r = api.client.post("/api/v1/orders", headers=headers, **kw)
    assert taken == [False]
    assert r.status_code == status, r.text
    assert r.json()["error"] == "invalid" and r.json()["message"]


def test_no_token_or_a_role_that_may_not_register_is_the_routes_refusal(
    api: Any, client: Any, taken: list[bool]
) -> None:
    r = client.post("/api/v1/orders", json=BODY)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = client.post("/api/v1/orders", json=BODY, headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401
    r = api.post("/api/v1/orders", as_="auditor", json=BODY)
    assert r.status_code == 403, r.text
    assert taken == [False, False, False]


def test_an_external_ref_seen_before_is_answered_by_the_route(api: Any, taken: list[bool]) -> None:
    first = api.post("/api/v1/orders", as_="operator", json={**BODY, "external_ref": "ext-1"})
    again = api.post("/api/v1/orders", as_="operator", json={**BODY, "external_ref": "ext-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["code"] == first.json()["code"] and again.json()["created"] is False
    assert taken == [False, False]


def test_a_write_that_fails_is_answered_like_the_routes(
    api: Any, rt: Any, taken: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    from haoban.errors import DomainError

    async def fail(*_a: Any, **_kw: Any) -> Any:
        raise DomainError("the order could not be stored")

    monkeypatch.setattr(orders_api, "_store", fail)
    r = api.post("/api/v1/orders", as_="operator", json=BODY)
    assert taken == [True]
    assert r.json() == {"error": DomainError.code, "message": "the order could not be stored"}
    assert r.status_code == DomainError.status_code
