"""Citizens' ratings (好差评): code + phone digits, once per order, in the case file; a 差评 opens a
rectification due N working days later, which supervisors list and close with a note."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from haoban.calendar import DurationUnit
from haoban.orders.events import verify_case_files
from tests.conftest import Api

PHONE = "13900000031"


def _closed_order(api: Api, phone: str = PHONE) -> str:
    code = api.create(citizen_phone=phone)["code"]  # 路灯 → cgj
    api.act(code, "sign", as_="h_cgj")
    api.act(code, "reply", as_="h_cgj", reply="已更换损坏的灯具，恢复照明。联系电话0734-8123456。")
    api.act(code, "review_reply", as_="dispatcher", decision="approve")
    api.act(code, "callback", as_="operator", result="satisfied")
    return code


def _rate(api: Api, code: str, level: str, last4: str = PHONE[-4:], **extra: Any) -> Any:
    return api.client.post(
        "/api/v1/ratings", json={"code": code, "phone_last4": last4, "level": level, **extra}
    )


def test_good_rating_once_per_order(api: Api, rt: Any) -> None:
    code = _closed_order(api)
    r = _rate(api, code, "满意", comment="修得很快")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["level"] == "satisfied" and body["score"] == 4 and body["label"] == "满意"
    assert body["rectification"] is None
    again = _rate(api, code, "very_satisfied")
    assert again.status_code == 409 and "already" in again.json()["message"]
    mine = api.client.get(f"/api/v1/ratings/{code}", params={"phone_last4": PHONE[-4:]})
    assert mine.status_code == 200 and mine.json()["comment"] == "修得很快"
    events = api.get(f"/api/v1/orders/{code}/events", as_="auditor").json()
    assert events[-1]["action"] == "rate" and events[-1]["payload"]["level"] == "satisfied"
    with rt.db.read() as session:
        assert verify_case_files(session)[1] == []
    assert api.get("/api/v1/rectifications", as_="supervisor").json()["items"] == []


def test_bad_rating_opens_a_rectification_due_in_working_days(api: Api, rt: Any) -> None:
    code = _closed_order(api)
    before = datetime.now().astimezone()
    r = _rate(api, code, "非常不满意", comment="灯又坏了")
    assert r.status_code == 201, r.text
    assert r.json()["rectification"]["status"] == "open"
    listed = api.get("/api/v1/rectifications", as_="supervisor").json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["code"] == code and item["department"] == "cgj" and item["status"] == "open"
    assert item["rating"]["level"] == "very_unsatisfied" and item["rating"]["comment"] == "灯又坏了"
    assert item["overdue"] is False
    days = rt.settings.rectification_working_days
    low = rt.calendar.add(before, days, DurationUnit.WORKING_DAYS).at
    high = rt.calendar.add(datetime.now().astimezone(), days, DurationUnit.WORKING_DAYS).at
    deadline = datetime.fromisoformat(item["deadline"])
    assert low <= deadline <= high
    # The department is told; the case file records it.
    actions = [e["action"] for e in api.get(f"/api/v1/orders/{code}/events", as_="auditor").json()]
    assert actions[-2:] == ["rate", "rectification_open"]
    # Close: a note is required, once.
    rid = item["id"]
    r = api.post(f"/api/v1/rectifications/{rid}/close", as_="supervisor", json={})
    assert r.status_code == 422 and "note" in r.json()["fields"]
    assert api.post(f"/api/v1/rectifications/{rid}/close", as_="h_cgj", json={"note": "x"}).status_code == 403
    r = api.post(
        f"/api/v1/rectifications/{rid}/close", as_="supervisor", json={"note": "已约谈承办人，重新维修"}
    )
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["closed_by"]
    again = api.post(f"/api/v1/rectifications/{rid}/close", as_="supervisor", json={"note": "again"})
    assert again.status_code == 409
    assert api.get("/api/v1/rectifications", as_="supervisor").json()["total"] == 0
    closed = api.get("/api/v1/rectifications", as_="auditor", params={"status": "closed"}).json()
    assert closed["items"][0]["note"] == "已约谈承办人，重新维修"
    assert api.get("/api/v1/rectifications", as_="supervisor", params={"status": ""}).json()["total"] == 1
    with rt.db.read() as session:
        assert verify_case_files(session)[1] == []


def test_rectification_days_are_configurable(api: Api, rt: Any) -> None:
    rt.settings.rectification_working_days = 15
    code = _closed_order(api)
    _rate(api, code, "unsatisfied")
    item = api.get("/api/v1/rectifications", as_="supervisor").json()["items"][0]
    deadline = datetime.fromisoformat(item["deadline"])
    ten = rt.calendar.add(datetime.now().astimezone(), 10, DurationUnit.WORKING_DAYS).at
    assert deadline > ten


def test_rating_errors(api: Api) -> None:
    open_code = api.create(citizen_phone=PHONE)["code"]
    r = _rate(api, open_code, "满意")
    assert r.status_code == 409 and r.json()["status"] == "dispatched"
    code = _closed_order(api)
    assert _rate(api, code, "满意", last4="0000").status_code == 404
    assert _rate(api, "HB00000000000000", "满意").status_code == 404
    r = _rate(api, code, "还行")
    assert r.status_code == 422 and "level" in r.json()["fields"]
    r = _rate(api, code, "满意", last4="12")
    assert r.status_code == 422 and "phone_last4" in r.json()["fields"]
    r = _rate(api, code, "满意", comment="长" * 501)
    assert r.status_code == 422 and "comment" in r.json()["fields"]
    assert api.client.get(f"/api/v1/ratings/{code}", params={"phone_last4": PHONE[-4:]}).status_code == 404
    assert api.get("/api/v1/rectifications", as_="operator").status_code == 403
    r = api.get("/api/v1/rectifications", as_="supervisor", params={"status": "pending"})
    assert r.status_code == 422 and "status" in r.json()["fields"]
    assert (
        api.post("/api/v1/rectifications/999999/close", as_="supervisor", json={"note": "x"}).status_code
        == 404
    )


def test_answered_orders_and_call_backs_may_be_rated(api: Api) -> None:
    code = api.create(content="请问这个事情怎么办理呢？谢谢", type="consult", citizen_phone=PHONE)["code"]
    api.act(code, "answer", as_="operator", answer="可在政务服务网在线办理。")
    assert _rate(api, code, "basically_satisfied").status_code == 201
    other = api.create(citizen_phone="13900000032")["code"]
    api.act(other, "sign", as_="h_cgj")
    api.act(other, "reply", as_="h_cgj", reply="已修复。")
    api.act(other, "review_reply", as_="dispatcher", decision="approve")
    r = _rate(api, other, "不满意", last4="0032")
    assert r.status_code == 201 and r.json()["rectification"]["status"] == "open"


def test_rating_is_rate_limited_per_address(api: Api, rt: Any) -> None:
    codes = [
        _rate(api, "HB00000000000000", "满意").status_code
        for _ in range(rt.settings.track_rate_per_minute + 1)
    ]
    assert codes[0] == 404 and codes[-1] == 429
