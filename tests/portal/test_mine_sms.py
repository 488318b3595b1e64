"""Issue 13, SMS and "my appeals": the code by SMS on filing and each step after it (through the
outbox), and a citizen's list of their appeals after a one-time code texted to the phone; the same
answer whether or not the phone has appeals; codes are used once, tried five times at most."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from haoban.notifications.models import OutboxMessage
from tests.conftest import Api

PHONE = "13912346789"


def _texts(rt: Any, phone: str) -> list[str]:
    with rt.db.read() as session:
        rows = session.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == phone, OutboxMessage.channel == "sms")
            .order_by(OutboxMessage.id)
        )
        return list(rows)


def test_an_sms_with_the_code_and_each_step(client: Any, api: Api, rt: Any) -> None:
    client.cookies.clear()
    r = client.post(
        "/portal/file",
        data={
            "type": "complaint",
            "content": "垃圾站旁边的污水流到路上，臭气熏天，请处理",
            "citizen_phone": PHONE,
        },
        follow_redirects=False,
    )
    code = r.headers["location"].split("/")[3].split("?")[0]
    assert any(code in t and "受理" in t for t in _texts(rt, PHONE))
    by_hand = api.get(f"/api/v1/orders/{code}", as_="operator").json()["status"] == "pending_dispatch"
    if by_hand:
        api.act(code, "dispatch", as_="dispatcher", department="cgj")
    dept = api.get(f"/api/v1/orders/{code}", as_="operator").json()["department"]
    api.act(code, "sign", as_=f"h_{dept}")
    api.act(code, "reply", as_=f"h_{dept}", reply="已清理污水并疏通管道。")
    api.act(code, "review_reply", as_="supervisor", decision="approve")
    api.act(code, "callback", as_="operator", result="satisfied")
    texts = [t for t in _texts(rt, PHONE) if code in t]
    # Routed at intake or by a dispatcher: either way the citizen hears it went to the department.
    for words in ("已交给承办部门", "承办部门已接手", "疏通管道", "已回访，诉求办结"):
        assert any(words in t for t in texts), (words, texts)
    assert not any("审核报结" in t or "签收" in t for t in texts)  # plain words only


def _ask(client: Any, phone: str) -> Any:
    return client.post("/portal/mine/code", data={"phone": phone}, follow_redirects=True)


def _last_code(rt: Any, phone: str) -> str:
    texts = [t for t in _texts(rt, phone) if "验证码" in t]
    found = re.search(r"验证码是 (\d{6})", texts[-1]) if texts else None
    assert found
    return found.group(1)


def test_my_appeals_after_a_one_time_code(client: Any, api: Api, rt: Any) -> None:
    codes = [
        api.create(citizen_phone=PHONE, content=f"第{i}件：小区路灯不亮，晚上很黑。")["code"]
        for i in range(2)
    ]
    other = api.create(citizen_phone="13800009999")["code"]
    client.cookies.clear()
    assert client.get("/portal/mine").status_code == 200
    unknown = _ask(client, "13700001111")  # a phone with no appeals: the same page, no text sent
    client.cookies.clear()
    known = _ask(client, PHONE)
    assert unknown.status_code == known.status_code == 200
    assert 'id="mine-sent"' in unknown.text and 'id="mine-sent"' in known.text
    assert _texts(rt, "13700001111") == []
    code = _last_code(rt, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    r = client.post("/portal/mine/verify", data={"code": wrong})
    assert r.status_code == 422 and 'id="err-code"' in r.text
    r = client.post("/portal/mine/verify", data={"code": code})
    assert r.status_code == 200 and 'id="mine-list"' in r.text
    for c in codes:
        assert c in r.text
    assert other not in r.text and PHONE not in r.text  # masked
    link = re.search(r'<a href="(/portal/track/[^"]+)">', r.text)
    assert link and client.get(link.group(1).replace("&amp;", "&")).status_code == 200
    # Used once: the same code does not open the list again.
    client.cookies.clear()
    _ask(client, PHONE)
    client.cookies.set("haoban_mine_phone", client.cookies.get("haoban_mine_phone") or "")
    assert client.post("/portal/mine/verify", data={"code": code}).status_code == 422
    # A forged session cookie is not a session.
    client.cookies.clear()
    client.cookies.set("haoban_mine", f"{PHONE}|9999999999|forged")
    assert 'id="mine-list"' not in client.get("/portal/mine").text


def test_codes_are_tried_five_times_and_limited_per_phone(client: Any, api: Api, rt: Any) -> None:
    api.create(citizen_phone=PHONE)
    client.cookies.clear()
    _ask(client, PHONE)
    code = _last_code(rt, PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert client.post("/portal/mine/verify", data={"code": wrong}).status_code == 422
    assert client.post("/portal/mine/verify", data={"code": code}).status_code == 422  # spent by tries
    for _ in range(4):
        _ask(client, PHONE)
    sent = [t for t in _texts(rt, PHONE) if "验证码" in t]
    assert len(sent) == 3  # at most three codes an hour for one phone
    r = client.post("/portal/mine/code", data={"phone": "12"})
    assert r.status_code == 422 and 'id="err-phone"' in r.text
