"""Cases through the API: the whole way from the window to closed, escalation from a stuck order,
USCC checks, who may do what, and bad input that changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from haoban.casework.events import verify_case_files
from haoban.casework.models import Case, CaseEvent
from haoban.orders.events import verify_case_files as verify_order_files
from tests.builders import make_order
from tests.casework.builders import VALID_USCC, make_case

BODY: dict[str, Any] = {
    "kind": "business",
    "subject": "办理施工许可被要求请吃饭",
    "content": "企业反映办理施工许可时有工作人员暗示请客，否则拖着不办。",
    "obstacle": "favours",
    "item": "建筑工程施工许可",
    "department": "zrzy",
    "anonymous": True,
    "complainant_name": "赵老板",
    "complainant_phone": "13700001111",
    "company_name": "衡阳建工有限公司",
    "company_uscc": VALID_USCC,
}


def _count(rt: Any) -> tuple[int, int]:
    with rt.db.read() as s:
        return s.scalar(select(func.count(Case.id))) or 0, s.scalar(select(func.count(CaseEvent.id))) or 0


def test_window_case_from_open_to_closed(api: Any, rt: Any) -> None:
    r = api.post("/api/v1/cases", as_="window", json=BODY)
    assert r.status_code == 201, r.text
    case = r.json()
    code = case["code"]
    assert case["status"] == "received" and case["complainant"]["name"] == "赵老板"
    assert "solve_on_spot" in case["allowed_actions"] and "ledger" in case["allowed_actions"]

    def act(action: str, as_: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        r = api.post(f"/api/v1/cases/{code}/{action}", as_=as_, json=body)
        assert r.status_code == expect, r.text
        return r.json()

    act("ledger", "window")
    out = act("assign", "window", department="cgj", co_departments=["gjj", "cgj"], days=5)
    assert out["status"] == "assigned" and out["department"] == "cgj" and out["co_departments"] == ["gjj"]
    assert out["deadline"]["at"] is not None and out["deadline"]["state"] == "on_time"
    out = act(
        "meet",
        "window",
        meeting={
            "held_on": out["received_at"][:10],
            "participants": ["城管局 李科长", "公积金中心 王主任"],
            "minutes": "会商明确牵头单位与完成时限。",
            "decisions": [{"text": "交通局清理占道", "owner": "jtj", "due": "2099-01-05"}],
        },
    )
    assert out["status"] == "consulting"
    decision = out["meetings"][0]["decisions"][0]
    assert decision["owner"] == "jtj" and decision["done_at"] is None
    # The decision's owner sees the case (it works on it) and reports the decision done; others may not.
    act("complete_decision", "h_gjj", expect=403, decision_id=decision["id"], note="已完成")
    out = act("complete_decision", "h_jtj", decision_id=decision["id"], note="占道车辆已清理")
    assert out["meetings"][0]["decisions"][0]["done_note"] == "占道车辆已清理"
    act("complete_decision", "h_jtj", expect=409, decision_id=decision["id"], note="again")
    # Only the lead department's handler concludes; a co-department may not.
    act("conclude", "h_gjj", expect=403, outcome="done", explanation="x")
    act("conclude", "h_cgj", expect=422, outcome="proposal", explanation="需要政策调整")
    out = act(
        "conclude", "h_cgj", outcome="proposal", explanation="现行规定无法办理", proposal="简化施工许可材料"
    )
    assert out["status"] == "concluded" and out["proposal_text"] == "简化施工许可材料"
    act("close", "window", expect=409)  # not followed up yet
    act("follow_up", "window", result="basically_satisfied")
    out = act("close", "window")
    assert out["status"] == "closed" and out["closed_at"] is not None

    events = api.get(f"/api/v1/cases/{code}/events", as_="window").json()
    assert [e["action"] for e in events] == [
        "open",
        "ledger",
        "assign",
        "meet",
        "complete_decision",
        "conclude",
        "follow_up",
        "close",
    ]
    with rt.db.read() as s:
        assert verify_case_files(s) == (1, [])


def test_solved_on_the_spot_then_closed_or_back_to_the_ledger(api: Any, rt: Any) -> None:
    code = make_case(rt, status="solved")
    case = api.get(f"/api/v1/cases/{code}", as_="window").json()
    assert case["on_spot_note"].startswith("陪同") and "ledger" not in case["allowed_actions"]
    r = api.post(f"/api/v1/cases/{code}/follow_up", as_="window", json={"result": "unsatisfied"})
    assert r.status_code == 200
    r = api.post(f"/api/v1/cases/{code}/ledger", as_="window", json={})
    assert r.status_code == 200 and r.json()["status"] == "ledgered" and r.json()["follow_up_result"] is None


def test_reopen_after_an_unsatisfied_follow_up_restarts_the_clock(api: Any, rt: Any) -> None:
    code = make_case(rt, status="concluded_unsatisfied")
    before = api.get(f"/api/v1/cases/{code}", as_="window").json()
    r = api.post(f"/api/v1/cases/{code}/reopen", as_="window", json={"reason": "仍未办成", "days": 3})
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["status"] == "assigned" and after["outcome"] is None
    assert after["deadline"]["at"] >= before["deadline"]["at"]


def test_a_stuck_order_escalates_into_a_case_and_the_files_point_at_each_other(api: Any, rt: Any) -> None:
    order = make_order(rt, status="signed")
    body = {**BODY, "kind": "difficult", "origin_kind": "order", "origin_code": order, "anonymous": False}
    body.pop("company_uscc")
    r = api.post("/api/v1/cases", as_="window", json=body)
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["origin_kind"], case["origin_code"], case["channel"]) == ("order", order, "escalation")
    order_file = api.get(f"/api/v1/orders/{order}/events", as_="supervisor").json()
    assert order_file[-1]["action"] == "escalate_case" and order_file[-1]["payload"] == {"case": case["code"]}
    case_file = api.get(f"/api/v1/cases/{case['code']}/events", as_="window").json()
    assert case_file[0]["payload"]["origin_code"] == order
    # One open case per order; a settled order is not stuck.
    r = api.post("/api/v1/cases", as_="window", json=body)
    assert r.status_code == 409 and r.json()["case"] == case["code"]
    closed = make_order(rt, status="closed")
    r = api.post("/api/v1/cases", as_="window", json={**body, "origin_code": closed})
    assert r.status_code == 422 and "origin_code" in r.json()["fields"]
    r = api.post("/api/v1/cases", as_="window", json={**body, "origin_code": "HB00000000000000"})
    assert r.status_code == 422
    with rt.db.read() as s:
        assert verify_order_files(s)[1] == []


def test_uscc_is_checked_and_normalised(api: Any, rt: Any) -> None:
    before = _count(rt)
    for bad in ("91110000600037341X", "9111000060003734", "ABCDEFGHIJKLMNOPQR"):
        r = api.post("/api/v1/cases", as_="window", json={**BODY, "company_uscc": bad})
        assert r.status_code == 422, bad
        assert "统一社会信用代码" in r.text
    r = api.post("/api/v1/cases", as_="window", json={k: v for k, v in BODY.items() if k != "company_uscc"})
    assert r.status_code == 422  # a business complaint names the company
    assert _count(rt) == before
    r = api.post("/api/v1/cases", as_="window", json={**BODY, "company_uscc": "91 1100 00600037341l"})
    assert r.status_code == 201 and r.json()["complainant"]["company_uscc"] == VALID_USCC


def test_roles_and_scope(api: Any, rt: Any) -> None:
    before = _count(rt)
    for role in ("operator", "dispatcher", "h_cgj", "auditor"):
        r = api.post("/api/v1/cases", as_=role, json=BODY)
        assert r.status_code == 403, role
    assert _count(rt) == before
    code = make_case(rt, status="assigned")
    assert api.get(f"/api/v1/cases/{code}", as_="h_cgj").status_code == 200
    assert api.get(f"/api/v1/cases/{code}", as_="h_gjj").status_code == 200  # co-department
    assert api.get(f"/api/v1/cases/{code}", as_="h_tax").status_code == 404
    assert api.post(f"/api/v1/cases/{code}/supervise", as_="h_tax", json={"note": "x"}).status_code in (
        403,
        404,
    )
    assert api.post(f"/api/v1/cases/{code}/supervise", as_="auditor", json={"note": "x"}).status_code == 403
    assert (
        api.post(f"/api/v1/cases/{code}/supervise", as_="supervisor", json={"note": "请加快"}).status_code
        == 200
    )
    listed = {c["code"] for c in api.get("/api/v1/cases", as_="h_tax").json()["items"]}
    assert code not in listed
    assert code in {c["code"] for c in api.get("/api/v1/cases", as_="h_cgj").json()["items"]}


def test_bad_input_changes_nothing(api: Any, rt: Any) -> None:
    code = make_case(rt, status="ledgered")
    before = _count(rt)
    attempts = [
        ("assign", {"department": "cgj"}, 422),  # no days
        ("assign", {"department": "nope", "days": 3}, 422),
        ("assign", {"department": "cgj", "days": 0}, 422),
        ("assign", {"department": "cgj", "days": 3, "colour": "red"}, 422),
        ("teleport", {}, 404),
        ("close", {}, 409),
    ]
    for action, body, status in attempts:
        r = api.post(f"/api/v1/cases/{code}/{action}", as_="window", json=body)
        assert r.status_code == status, (action, r.text)
    assert _count(rt) == before
    code = make_case(rt, status="assigned")
    before = _count(rt)
    meeting = {"held_on": "2026-06-01", "participants": ["甲"], "minutes": "纪要"}
    for bad in (
        {**meeting, "decisions": [{"text": "x", "owner": "jtj", "due": "2000-01-01"}]},  # due in the past
        {**meeting, "decisions": [{"text": "x", "owner": "nope", "due": "2099-01-01"}]},
        {**meeting, "held_on": "2099-01-01"},  # not held yet
        {**meeting, "participants": [" "]},
    ):
        r = api.post(f"/api/v1/cases/{code}/meet", as_="window", json={"meeting": bad})
        assert r.status_code == 422, r.text
    r = api.post(f"/api/v1/cases/{code}/conclude", as_="h_cgj", json={"outcome": "maybe", "explanation": "x"})
    assert r.status_code == 422
    assert _count(rt) == before
    for body in (
        {**BODY, "obstacle": "bad_weather"},
        {**BODY, "kind": "other"},
        {**BODY, "origin_kind": "order"},
    ):
        assert api.post("/api/v1/cases", as_="window", json=body).status_code == 422


def test_the_portal_opens_a_case_without_an_account(client: Any, api: Any, rt: Any) -> None:
    body = {**BODY, "origin_kind": "portal"}
    r = client.post("/api/v1/portal/cases", json=body)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    case = api.get(f"/api/v1/cases/{code}", as_="window").json()
    assert case["channel"] == "portal" and case["complainant"]["phone"] == "13700001111"
    assert client.post("/api/v1/portal/cases", json=BODY).status_code == 422  # origin must be the portal
    r = client.post("/api/v1/portal/cases", json={**body, "complainant_phone": None})
    assert r.status_code == 422


def test_state_table_is_published(client: Any) -> None:
    table = client.get("/api/v1/cases/workflow").json()
    assert set(table["statuses"]) == {
        "received",
        "solved",
        "ledgered",
        "assigned",
        "consulting",
        "concluded",
        "closed",
    }
    assert {a["action"] for a in table["actions"]} >= {"open", "meet", "conclude", "follow_up", "close"}
    assert [o["code"] for o in client.get("/api/v1/cases/obstacles").json()][:3] == [
        "favours",
        "not_accepted",
        "back_and_forth",
    ]


def test_the_case_file_is_append_only_and_verifies(rt: Any) -> None:
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    make_case(rt, status="concluded")
    for sql in ("UPDATE case_events SET payload = '{}'", "DELETE FROM case_events"):
        with pytest.raises(DBAPIError, match="append-only"), rt.db.write() as s:
            s.execute(text(sql))
    with rt.db.read() as s:
        assert verify_case_files(s) == (1, [])
