"""Admin endpoints: departments, districts, categories, users, dispatch rules, SLA rules, calendar."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import Api

SH = ZoneInfo("Asia/Shanghai")


def test_departments_and_districts(api: Api) -> None:
    r = api.post("/api/v1/admin/districts", as_="admin", json={"code": "newtown", "name": "新城区"})
    assert r.status_code == 201
    r = api.post(
        "/api/v1/admin/departments",
        as_="admin",
        json={"code": "newdept", "name": "新城区城管队", "district_code": "newtown"},
    )
    assert r.status_code == 201
    assert any(d["code"] == "newdept" for d in api.get("/api/v1/departments", as_="operator").json())
    order = api.create(department="newdept", content="测试派单到新部门")
    assert order["department"] == "newdept"
    r = api.post("/api/v1/admin/departments", as_="admin", json={"code": "bad code!", "name": "x"})
    assert r.status_code == 422 and "code" in r.json()["fields"]
    r = api.post(
        "/api/v1/admin/departments", as_="admin", json={"code": "dup", "name": "市城市管理和综合执法局"}
    )
    assert r.status_code == 409


def test_categories(api: Api) -> None:
    cats = api.get("/api/v1/categories", as_="operator", params={"level": 1}).json()
    assert {c["name"] for c in cats} >= {"城乡建设", "交通运输", "卫生计生"}
    assert len(api.get("/api/v1/categories", as_="operator").json()) > 400
    parent = cats[0]["code"]
    r = api.post("/api/v1/admin/categories", as_="admin", json={"name": "新分类", "parent_code": parent})
    assert r.status_code == 201 and r.json()["level"] == 2
    r = api.post("/api/v1/admin/categories", as_="admin", json={"name": "新分类", "parent_code": parent})
    assert r.status_code == 409


def test_users(api: Api) -> None:
    r = api.post(
        "/api/v1/admin/users",
        as_="admin",
        json={"username": "h_new", "password": "lamp-post-7781", "role": "handler", "department_code": "cgj"},
    )
    assert r.status_code == 201
    r = api.client.post("/api/v1/auth/token", data={"username": "h_new", "password": "lamp-post-7781"})
    assert r.status_code == 200
    r = api.post(
        "/api/v1/admin/users", as_="admin", json={"username": "x", "password": "pw1234", "role": "king"}
    )
    assert r.status_code == 422 and "role" in r.json()["fields"]
    r = api.client.patch("/api/v1/admin/users/admin", headers=api.headers("admin"), json={"active": False})
    assert r.status_code == 409


def test_dispatch_rules_crud_history_and_routing(api: Api) -> None:
    rules = api.get("/api/v1/admin/dispatch/rules", as_="admin").json()
    assert rules[0]["outcome"] == "transfer"
    new = {"name": "共享单车", "position": 1, "department_code": "jtj", "keywords": ["共享单车"]}
    r = api.post("/api/v1/admin/dispatch/rules", as_="admin", json=new)
    assert r.status_code == 201
    rule_id = r.json()["id"]
    assert api.create(content="共享单车乱停放堵住了路")["department"] == "jtj"
    r = api.put(
        f"/api/v1/admin/dispatch/rules/{rule_id}", as_="admin", json={**new, "department_code": "cgj"}
    )
    assert r.status_code == 200 and r.json()["revision"] == 2
    assert api.create(content="共享单车乱停放堵住了路")["department"] == "cgj"
    history = api.get("/api/v1/admin/dispatch/history", as_="auditor", params={"rule_id": rule_id}).json()
    assert [h["change"] for h in history] == ["create", "update"]
    assert all(h["actor"] == "admin" for h in history)
    r = api.client.delete(f"/api/v1/admin/dispatch/rules/{rule_id}", headers=api.headers("admin"))
    assert r.status_code == 204
    bad = api.post("/api/v1/admin/dispatch/rules", as_="admin", json={"name": "x", "department_code": "nope"})
    assert bad.status_code == 422 and "department_code" in bad.json()["fields"]
    bad = api.post("/api/v1/admin/dispatch/rules", as_="admin", json={"name": "x", "outcome": "transfer"})
    assert bad.status_code == 422


def test_dispatch_rules_yaml_round_trip(api: Api) -> None:
    text = api.get("/api/v1/admin/dispatch/rules.yaml", as_="admin").text
    assert "火灾转119" in text
    yaml_text = "rules:\n  - {name: 全部给城管, department_code: cgj}\n"
    r = api.client.put("/api/v1/admin/dispatch/rules.yaml", headers=api.headers("admin"), content=yaml_text)
    assert r.status_code == 200 and r.json() == {"rules": 1}
    assert api.create(content="公积金怎么提取")["department"] == "cgj"
    r = api.client.put(
        "/api/v1/admin/dispatch/rules.yaml",
        headers=api.headers("admin"),
        content="rules:\n  - {name: bad, department_code: nope}\n",
    )
    assert r.status_code == 422
    assert len(api.get("/api/v1/admin/dispatch/rules", as_="admin").json()) == 1  # unchanged


def test_explain_names_the_rule(api: Api) -> None:
    body = api.post(
        "/api/v1/dispatch/explain", as_="dispatcher", json={"text": "公积金贷款额度怎么算"}
    ).json()
    assert body["decision"]["department"] == "gjj"
    assert body["decision"]["rule"] == "住房公积金"
    assert body["trace"][-1]["matched"] and not body["trace"][0]["matched"]


def test_sla_rules_change_new_deadlines(api: Api) -> None:
    rows = api.get("/api/v1/admin/sla-rules", as_="supervisor").json()
    complaint = next(r for r in rows if r["order_type"] == "complaint" and r["urgency"] == "normal")
    assert complaint["handle_amount"] == 13 and complaint["handle_unit"] == "working_days"
    start = datetime(2026, 9, 29, 10, 0, tzinfo=SH).isoformat()
    before = api.create(received_at=start)["deadlines"]["handle"]["at"]
    r = api.put(
        "/api/v1/admin/sla-rules",
        as_="admin",
        json={
            "order_type": "complaint",
            "urgency": "normal",
            "sign_amount": 2,
            "sign_unit": "working_hours",
            "handle_amount": 5,
            "handle_unit": "working_days",
        },
    )
    assert r.status_code == 200
    after = api.create(received_at=start)["deadlines"]["handle"]["at"]
    assert after < before
    # Five working days from Tue 2026-09-29 cross National Day: 30 Sep, 8, 9, 10 (make-up Saturday), 12 Oct.
    assert datetime.fromisoformat(after).astimezone(SH).date().isoformat() == "2026-10-12"
    r = api.put(
        "/api/v1/admin/sla-rules",
        as_="admin",
        json={
            "order_type": "gossip",
            "urgency": "normal",
            "sign_amount": 2,
            "sign_unit": "working_hours",
            "handle_amount": 5,
            "handle_unit": "fortnights",
        },
    )
    assert r.status_code == 422 and {"order_type", "handle_unit"} <= set(r.json()["fields"])


def test_calendar_schedule_upload_makes_2027_final(api: Api) -> None:
    start = datetime(2026, 12, 30, 10, 0, tzinfo=SH).isoformat()
    q = {"start": start, "amount": 3, "unit": "working_days"}
    provisional = api.client.get("/api/v1/calendar/deadline", params=q).json()
    assert provisional["provisional"] is True
    schedule = (
        "year: 2027\n"
        "holidays:\n  - {name: 元旦, days: ['2027-01-01', '2027-01-02', '2027-01-03']}\n"
        "  - {name: 测试假, days: ['2027-01-04']}\n"
        "makeup_workdays: ['2027-01-09']\n"
    )
    r = api.client.post(
        "/api/v1/admin/calendar/schedules",
        headers={**api.headers("admin"), "Content-Type": "application/yaml"},
        content=schedule,
    )
    assert r.status_code == 201, r.text
    final = api.client.get("/api/v1/calendar/deadline", params=q).json()
    assert final["provisional"] is False
    # 31 Dec (1), then 1–4 Jan off, 5 Jan (2), 6 Jan (3).
    assert final["deadline"].startswith("2027-01-06")
    day = api.client.get("/api/v1/calendar/days/2027-01-09").json()
    assert day["workday"] is True and day["kind"] == "makeup_workday"
    r = api.client.post(
        "/api/v1/admin/calendar/schedules",
        headers={**api.headers("admin"), "Content-Type": "application/yaml"},
        content="year: 2027\nmakeup_workdays: ['2027-01-06']\n",
    )
    assert r.status_code == 422 and "Saturday or Sunday" in r.json()["message"]
    r = api.client.post(
        "/api/v1/admin/calendar/schedules",
        headers={**api.headers("operator"), "Content-Type": "application/yaml"},
        content=schedule,
    )
    assert r.status_code == 403
    # Reading the loaded schedules is the configuration readers' (the service checks, not the page).
    assert [s["year"] for s in api.get("/api/v1/admin/calendar/schedules", as_="auditor").json()] == [2027]
    assert api.get("/api/v1/admin/calendar/schedules", as_="h_cgj").status_code == 403
    assert api.get("/api/v1/admin/calendar/schedules", as_="operator").status_code == 403
    r = api.client.get("/api/v1/calendar/deadline", params={**q, "amount": 1.5})
    assert r.status_code == 422


def test_national_day_deadline_via_api(client: Any) -> None:
    q = {"start": "2026-09-30T10:00:00+08:00", "amount": 3, "unit": "working_days"}
    body = client.get("/api/v1/calendar/deadline", params=q).json()
    assert body["deadline"].startswith("2026-10-10T23:59:59") and body["provisional"] is False
