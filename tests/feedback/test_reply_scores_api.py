"""Reply quality in the review flow: every reply is scored when the department sends it; reviewers see
the score and reasons, and a queue that puts the weakest replies first."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

APPEAL = (
    "珠晖区东风路华新小区门口的路灯坏了一个多星期，晚上一片漆黑，老人小孩出行很不安全。"
    "请问什么时候能修好？希望尽快派人维修路灯。"
)
COMPLETE = (
    "您好！您反映的华新小区门口路灯不亮问题已收悉。经我局路灯管理所现场核查，系线路老化导致东风路段"
    "路灯故障，我所已于11月20日安排维修人员更换线路和灯具，目前该路段路灯已恢复照明。今后我们将加强"
    "巡查。如仍有问题，请联系路灯管理所，电话0734-8123456。感谢您的监督！"
)
BRUSH_OFF = "已收悉。"


def _replied(api: Api, reply: str, phone: str) -> str:
    code = api.create(content=APPEAL, citizen_phone=phone, department="cgj")["code"]
    api.act(code, "sign", as_="h_cgj")
    api.act(code, "reply", as_="h_cgj", reply=reply)
    return code


def test_complete_reply_scores_above_a_brush_off(api: Api) -> None:
    good = _replied(api, COMPLETE, "13900000021")
    bad = _replied(api, BRUSH_OFF, "13900000022")
    g = api.get(f"/api/v1/orders/{good}/reply-score", as_="dispatcher").json()
    b = api.get(f"/api/v1/orders/{bad}/reply-score", as_="dispatcher").json()
    assert g["latest"]["total"] > b["latest"]["total"] + 20
    assert g["latest"]["grade"] == "good" and b["latest"]["grade"] == "poor"
    assert any(reason.startswith("tone.") for reason in b["latest"]["reasons"])
    assert g["latest"]["event_seq"] == len(api.get(f"/api/v1/orders/{good}/events", as_="auditor").json())
    # The review queue: replies awaiting review, the weakest first, with their reasons.
    queue = api.get("/api/v1/reply-reviews", as_="dispatcher").json()["items"]
    assert [i["code"] for i in queue] == [bad, good]
    assert queue[0]["score"]["reasons"] and queue[0]["reply"] == BRUSH_OFF
    poor = api.get("/api/v1/reply-reviews", as_="supervisor", params={"grade": "poor"}).json()["items"]
    assert [i["code"] for i in poor] == [bad]


def test_a_rejected_and_rewritten_reply_is_scored_again(api: Api) -> None:
    code = _replied(api, BRUSH_OFF, "13900000023")
    api.act(code, "review_reply", as_="dispatcher", decision="reject", reason="没有答复何时修好")
    api.act(code, "reply", as_="h_cgj", reply=COMPLETE)
    body = api.get(f"/api/v1/orders/{code}/reply-score", as_="supervisor").json()
    assert len(body["history"]) == 2
    assert body["latest"]["total"] > body["history"][1]["total"]
    assert body["latest"]["event_seq"] > body["history"][1]["event_seq"]
    api.act(code, "review_reply", as_="dispatcher", decision="approve")
    assert api.get("/api/v1/reply-reviews", as_="dispatcher").json()["items"] == []


def test_merged_order_shows_its_masters_score(api: Api) -> None:
    master = api.create(content=APPEAL, citizen_phone="13900000024", department="cgj")["code"]
    dup = api.create(content=APPEAL + "谢谢！", citizen_phone="13900000025")["code"]
    api.act(dup, "merge", as_="operator", master=master)
    api.act(master, "sign", as_="h_cgj")
    api.act(master, "reply", as_="h_cgj", reply=COMPLETE)
    body = api.get(f"/api/v1/orders/{dup}/reply-score", as_="dispatcher").json()
    assert body["scored_order"] == master and body["latest"]["grade"] == "good"


def test_reply_score_permissions_and_errors(api: Api, rt: Any) -> None:
    code = _replied(api, COMPLETE, "13900000026")
    assert api.get(f"/api/v1/orders/{code}/reply-score", as_="h_cgj").status_code == 403
    assert api.get("/api/v1/orders/HB00000000000000/reply-score", as_="dispatcher").status_code == 404
    assert api.get("/api/v1/reply-reviews", as_="operator").status_code == 403
    r = api.get("/api/v1/reply-reviews", as_="dispatcher", params={"grade": "excellent"})
    assert r.status_code == 422 and "grade" in r.json()["fields"]
    r = api.get("/api/v1/reply-reviews", as_="dispatcher", params={"department": "nope"})
    assert r.status_code == 422 and "department" in r.json()["fields"]
    fresh = api.create()["code"]
    body = api.get(f"/api/v1/orders/{fresh}/reply-score", as_="dispatcher").json()
    assert body["latest"] is None and body["history"] == []
