"""Walk orders through every state over the API, as each demo role."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tests.conftest import Api


def test_login_as_every_demo_role(api: Api) -> None:
    for username in ("admin", "operator", "dispatcher", "supervisor", "auditor", "h_cgj"):
        me = api.get("/api/v1/auth/me", as_=username).json()
        assert me["username"] == username


def test_wrong_password_is_401_with_a_message(client: Any) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "operator", "password": "nope"})
    assert r.status_code == 401
    assert "wrong username or password" in r.json()["message"]
    r = client.get("/api/v1/orders")
    assert r.status_code == 401
    assert "log in" in r.json()["message"]


def test_create_returns_code_status_department_and_deadlines(api: Api) -> None:
    order = api.create()
    assert order["code"].startswith("HB") and len(order["code"]) == 19
    assert order["status"] == "dispatched"
    assert order["department"] == "cgj"  # the 路灯 keyword rule
    assert order["deadlines"]["handle"]["at"]
    assert order["deadlines"]["sign"]["at"]
    detail = api.get(f"/api/v1/orders/{order['code']}", as_="operator").json()
    assert detail["citizen_phone"] == "13812345678"
    events = api.get(f"/api/v1/orders/{order['code']}/events", as_="operator").json()
    assert [e["action"] for e in events] == ["register", "dispatch"]
    assert events[1]["prev_hash"] == events[0]["hash"]


def test_full_walk_registered_to_archived(api: Api) -> None:
    code = api.create(content="咨询一件事情：办理居住证的具体流程是什么", type="consult")["code"]
    # No rule matched this text → the human queue; 户籍 keyword absent on purpose.
    detail = api.get(f"/api/v1/orders/{code}", as_="dispatcher").json()
    if detail["status"] != "pending_dispatch":
        assert detail["status"] == "dispatched"
    else:
        api.act(code, "dispatch", as_="dispatcher", department="gaj")
    handler = "h_" + api.get(f"/api/v1/orders/{code}", as_="dispatcher").json()["department"]
    api.act(code, "return", as_=handler, reason="不属于本单位")
    assert api.get(f"/api/v1/orders/{code}", as_="dispatcher").json()["status"] == "return_requested"
    api.act(
        code,
        "review_return",
        as_="dispatcher",
        decision="uphold",
        department="gaj" if handler != "h_gaj" else "mzj",
    )
    handler = "h_" + api.get(f"/api/v1/orders/{code}", as_="dispatcher").json()["department"]
    api.act(code, "sign", as_=handler)
    api.act(code, "request_extension", as_=handler, days=2, reason="需要现场核实")
    before = api.get(f"/api/v1/orders/{code}", as_="supervisor").json()["deadlines"]["handle"]["at"]
    api.act(code, "decide_extension", as_="supervisor", decision="approve")
    after = api.get(f"/api/v1/orders/{code}", as_="supervisor").json()["deadlines"]["handle"]["at"]
    assert after > before
    api.act(code, "supervise", as_="supervisor", note="请按期办结")
    api.act(code, "reply", as_=handler, reply="已电话告知办理流程：携带身份证、住所证明到派出所办理。")
    api.act(code, "review_reply", as_="dispatcher", decision="reject", reason="答复不完整")
    api.act(
        code,
        "reply",
        as_=handler,
        reply="已电话告知：携带身份证、住所证明到辖区派出所办理，5个工作日内制证。",
    )
    api.act(code, "review_reply", as_="dispatcher", decision="approve")
    api.act(code, "callback", as_="operator", result="unsatisfied", comment="没说清楚")
    reopened = api.act(code, "reopen", as_="supervisor", reason="市民不满意")
    assert reopened["status"] == "dispatched" and reopened["redo_count"] == 1
    api.act(code, "sign", as_=handler)
    api.act(code, "reply", as_=handler, reply="已再次上门说明并协助预约办理。")
    api.act(code, "review_reply", as_="supervisor", decision="approve")
    closed = api.act(code, "callback", as_="operator", result="satisfied")
    assert closed["status"] == "closed"
    archived = api.act(code, "archive", as_="supervisor")
    assert archived["status"] == "archived"
    events = api.get(f"/api/v1/orders/{code}/events", as_="auditor").json()
    assert events[-1]["to_status"] == "archived"
    assert all(e["prev_hash"] == p["hash"] for p, e in pairwise(events))


def test_answer_transfer_and_close(api: Api) -> None:
    code = api.create(content="请问这个事情怎么办理呢？谢谢", type="consult")["code"]
    status = api.get(f"/api/v1/orders/{code}", as_="operator").json()["status"]
    assert status == "pending_dispatch"
    # Citing a knowledge article is covered in tests/knowledge (an unknown id is refused there).
    answered = api.act(code, "answer", as_="operator", answer="可在政务服务网在线办理。")
    assert answered["status"] == "answered"
    assert api.act(code, "close", as_="operator")["status"] == "closed"
    code2 = api.create(content="我家楼下有人着火了，快来", urgency="urgent", type="help")["code"]
    detail = api.get(f"/api/v1/orders/{code2}", as_="operator").json()
    assert detail["status"] == "transferred" and detail["transfer_target"] == "119"
    code3 = api.create(content="有人在路边吵架，请转派出所", type="help")["code"]
    assert api.act(code3, "transfer", as_="operator", target="110")["status"] == "transferred"


def test_litigation_is_answered_with_guidance(api: Api) -> None:
    detail = api.create(content="我对法院判决不服，要求政府出面改判", type="complaint")
    assert detail["status"] == "answered"


def test_wrong_state_is_409_listing_allowed_actions(api: Api) -> None:
    code = api.create()["code"]
    r = api.post(f"/api/v1/orders/{code}/reply", as_="h_cgj", json={"reply": "done"})
    assert r.status_code == 409
    body = r.json()
    assert body["status"] == "dispatched"
    assert set(body["allowed_actions"]) == {"sign", "return"}


def test_unknown_action_is_404(api: Api) -> None:
    code = api.create()["code"]
    r = api.post(f"/api/v1/orders/{code}/teleport", as_="supervisor", json={})
    assert r.status_code == 404
    assert "actions are" in r.json()["message"]


def test_missing_required_field_is_422_naming_it(api: Api) -> None:
    code = api.create()["code"]
    r = api.post(f"/api/v1/orders/{code}/return", as_="h_cgj", json={})
    assert r.status_code == 422
    assert "reason" in r.json()["fields"]


def test_extension_after_deadline_is_refused(api: Api, rt: Any) -> None:
    from datetime import timedelta

    from haoban.db import utcnow
    from haoban.orders.access import get_order
    from haoban.orders.actions import apply_action
    from haoban.orders.schemas import ActionRequest

    code = api.create()["code"]
    api.act(code, "sign", as_="h_cgj")
    with rt.db.read() as session:
        from haoban.auth.actors import Actor

        deadline = get_order(session, code=code, actor=Actor(1, "x", "x", "admin")).handle_deadline
    handler = api.get("/api/v1/auth/me", as_="h_cgj").json()
    from haoban.auth.actors import Actor

    dept = rt.directory.department("cgj")
    actor = Actor(handler["id"], "h_cgj", "h", "handler", dept.id)
    from haoban.errors import Conflict

    with rt.db.write() as session:
        try:
            apply_action(
                session,
                rt,
                code=code,
                action="request_extension",
                actor=actor,
                data=ActionRequest(days=2, reason="late"),
                now=deadline + timedelta(minutes=1),
            )
            raise AssertionError("expected a conflict")
        except Conflict as exc:
            assert "before" in exc.message
    assert utcnow() < deadline


def test_merge_master_reply_reaches_duplicates(api: Api) -> None:
    master = api.create(content="滨江路的路灯全部不亮，已经一周了", citizen_phone="13900000001")["code"]
    dup = api.create(content="滨江路路灯一周都不亮，晚上很危险", citizen_phone="13900000002")["code"]
    merged = api.act(dup, "merge", as_="operator", master=master)
    assert merged["status"] == "merged" and merged["master"] == master
    api.act(master, "sign", as_="h_cgj")
    api.act(master, "reply", as_="h_cgj", reply="已更换损坏的灯具，全线恢复照明。")
    api.act(master, "review_reply", as_="dispatcher", decision="approve")
    child = api.get(f"/api/v1/orders/{dup}", as_="operator").json()
    assert child["status"] == "callback"
    assert child["reply"] == "已更换损坏的灯具，全线恢复照明。"
    assert api.act(dup, "callback", as_="operator", result="satisfied")["status"] == "closed"
    # Both citizens were told.
    track = api.client.get(f"/api/v1/track/{dup}", params={"phone_last4": "0002"}).json()
    assert track["reply"].startswith("已更换")
    master_events = api.get(f"/api/v1/orders/{master}/events", as_="auditor").json()
    assert any(e["action"] == "absorb" and e["payload"]["duplicate"] == dup for e in master_events)


def test_merge_into_itself_or_unknown_is_422(api: Api) -> None:
    code = api.create()["code"]
    r = api.post(f"/api/v1/orders/{code}/merge", as_="operator", json={"master": code})
    assert r.status_code == 422 and "master" in r.json()["fields"]
    r = api.post(f"/api/v1/orders/{code}/merge", as_="operator", json={"master": "HB00000000000000"})
    assert r.status_code == 422


def test_track_needs_the_right_phone_digits_and_is_rate_limited(api: Api, rt: Any) -> None:
    code = api.create(citizen_phone="13712345678")["code"]
    ok = api.client.get(f"/api/v1/track/{code}", params={"phone_last4": "5678"})
    assert ok.status_code == 200
    body = ok.json()
    assert body["status"] == "dispatched"
    assert "citizen_phone" not in body and "content" not in body
    wrong = api.client.get(f"/api/v1/track/{code}", params={"phone_last4": "0000"})
    assert wrong.status_code == 404
    bad = api.client.get(f"/api/v1/track/{code}", params={"phone_last4": "12"})
    assert bad.status_code == 422
    limit = rt.settings.track_rate_per_minute
    codes = [
        api.client.get(f"/api/v1/track/{code}", params={"phone_last4": "5678"}).status_code
        for _ in range(limit)
    ]
    # Two look-ups counted already (the 422 never reached the limiter); then the allowance runs out.
    first_refusal = codes.index(429)
    assert codes[: limit - 2] == [200] * (limit - 2) and set(codes[first_refusal:]) == {429}


def test_list_filters_and_masks(api: Api) -> None:
    a = api.create(district="珠晖区")["code"]
    api.create(content="公积金提取需要哪些材料", type="consult", district="石鼓区")
    page = api.get("/api/v1/orders", as_="operator", params={"district": "zhuhui"}).json()
    assert [i["code"] for i in page["items"]] == [a]
    assert page["items"][0]["citizen_phone"] == "138****5678"
    by_dept = api.get("/api/v1/orders", as_="operator", params={"department": "gjj"}).json()
    assert by_dept["total"] == 1
    by_text = api.get("/api/v1/orders", as_="operator", params={"text": "公积金"}).json()
    assert by_text["total"] == 1
    r = api.get("/api/v1/orders", as_="operator", params={"status": "nonsense"})
    assert r.status_code == 422 and "status" in r.json()["fields"]
    r = api.get("/api/v1/orders", as_="operator", params={"page_size": 1000})
    assert r.status_code == 422


def test_export_masks_personal_data(api: Api) -> None:
    api.create(citizen_id_number="11010519491231002X")
    r = api.get("/api/v1/orders/export", as_="supervisor")
    assert r.status_code == 200
    text = r.text
    assert "13812345678" not in text and "138****5678" in text
    assert "11010519491231002X" not in text


def test_workflow_table_is_published(client: Any) -> None:
    table = client.get("/api/v1/workflow").json()
    names = {a["action"] for a in table["actions"]}
    assert {
        "dispatch",
        "sign",
        "return",
        "review_return",
        "request_extension",
        "decide_extension",
        "reply",
        "review_reply",
        "callback",
        "reopen",
        "supervise",
        "merge",
        "close",
        "archive",
    } <= names


def test_health(client: Any) -> None:
    from alembic.script import ScriptDirectory

    from haoban.db import alembic_config

    body = client.get("/api/v1/health").json()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert body["status"] == "ok" and body["schema"] == head
