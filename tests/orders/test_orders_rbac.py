"""Who may see and do what: a handler of department A never reaches department B's orders."""

from __future__ import annotations

import pytest

from haoban.orders import workflow
from tests.conftest import Api

HANDLER_ACTIONS = ["sign", "return", "request_extension", "reply"]


@pytest.fixture
def two_orders(api: Api) -> tuple[str, str]:
    a = api.create(content="小区路灯坏了，晚上看不见路")["code"]  # → cgj
    b = api.create(content="公积金贷款额度怎么计算", type="consult")["code"]  # → gjj
    return a, b


def test_handler_sees_only_own_department(api: Api, two_orders: tuple[str, str]) -> None:
    a, b = two_orders
    assert api.get(f"/api/v1/orders/{a}", as_="h_cgj").status_code == 200
    assert api.get(f"/api/v1/orders/{b}", as_="h_cgj").status_code == 404
    assert api.get(f"/api/v1/orders/{b}/events", as_="h_cgj").status_code == 404
    listed = api.get("/api/v1/orders", as_="h_cgj").json()
    assert [i["code"] for i in listed["items"]] == [a]
    export = api.get("/api/v1/orders/export", as_="h_cgj").text
    assert a in export and b not in export


@pytest.mark.parametrize("action", HANDLER_ACTIONS)
def test_other_departments_handler_cannot_act(api: Api, two_orders: tuple[str, str], action: str) -> None:
    _, b = two_orders
    r = api.post(f"/api/v1/orders/{b}/{action}", as_="h_cgj", json={"reason": "x", "reply": "x", "days": 1})
    assert r.status_code == 404
    assert api.get(f"/api/v1/orders/{b}", as_="h_gjj").json()["status"] == "dispatched"


def test_co_handler_sees_but_cannot_sign(api: Api) -> None:
    code = api.create(content="商家虚假宣传，要求退款", type="complaint")["code"]  # → scjg, co-handler swj
    assert api.get(f"/api/v1/orders/{code}", as_="h_swj").status_code == 200
    r = api.post(f"/api/v1/orders/{code}/sign", as_="h_swj", json={})
    assert r.status_code == 403
    assert "lead department" in r.json()["message"]


@pytest.mark.parametrize("role_user", ["operator", "dispatcher", "supervisor", "auditor", "admin"])
def test_non_handlers_cannot_sign_or_reply(api: Api, two_orders: tuple[str, str], role_user: str) -> None:
    a, _ = two_orders
    for action in ("sign", "reply"):
        r = api.post(f"/api/v1/orders/{a}/{action}", as_=role_user, json={"reply": "x"})
        assert r.status_code == 403, (role_user, action, r.text)


def test_auditor_reads_everything_changes_nothing(api: Api, two_orders: tuple[str, str]) -> None:
    a, b = two_orders
    assert api.get(f"/api/v1/orders/{b}", as_="auditor").json()["citizen_phone"] == "138****5678"
    for t in workflow.TRANSITIONS:
        r = api.post(f"/api/v1/orders/{a}/{t.action}", as_="auditor", json={})
        assert r.status_code in (403, 404), (t.action, r.status_code)
    r = api.post("/api/v1/orders", as_="auditor", json={"content": "x"})
    assert r.status_code == 403


def test_handler_cannot_register_or_administer(api: Api) -> None:
    assert api.post("/api/v1/orders", as_="h_cgj", json={"content": "x"}).status_code == 403
    r = api.post("/api/v1/admin/departments", as_="h_cgj", json={"code": "x", "name": "x"})
    assert r.status_code == 403
    assert api.get("/api/v1/admin/users", as_="h_cgj").status_code == 403
    assert api.get("/api/v1/admin/users", as_="operator").status_code == 403


def test_disabled_account_stops_working(api: Api, rt: object) -> None:
    assert api.get("/api/v1/auth/me", as_="operator2").status_code == 200
    r = api.client.patch(
        "/api/v1/admin/users/operator2", headers=api.headers("admin"), json={"active": False}
    )
    assert r.status_code == 200
    assert api.get("/api/v1/auth/me", as_="operator2").status_code == 401
    r = api.client.post("/api/v1/auth/token", data={"username": "operator2", "password": "demo"})
    assert r.status_code == 401 and "disabled" in r.json()["message"]
