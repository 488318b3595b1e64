"""请工作人员帮我办 (issue 18): a citizen leaves a call-back request from any citizen page; it lands in the
帮代办 queue; a volunteer claims it, notes a call and closes it with an outcome; the citizen follows it
by the link and by code + phone digits, and is texted at both ends. Wrong input gets a clear 4xx."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from haoban.applications import help_requests as hr
from haoban.applications.models import HelpRequest, HelpRequestEvent
from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.errors import Conflict, Forbidden, Invalid
from haoban.notifications.models import OutboxMessage

PHONE = "13912345678"


def login(client: Any, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": "demo"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def file(client: Any, **fields: str) -> Any:
    data = {
        "name": "王奶奶",
        "phone": PHONE,
        "need": "想给孙子办出生证明和医保，不会在网上填",
        "preferred_time": "morning",
    }
    data.update(fields)
    return client.post("/portal/help", data=data, follow_redirects=False)


def sms(rt: Any, phone: str) -> list[str]:
    with rt.db.read() as session:
        return list(
            session.scalars(
                select(OutboxMessage.body)
                .where(OutboxMessage.recipient == phone, OutboxMessage.channel == "sms")
                .order_by(OutboxMessage.id)
            )
        )


def test_the_help_bar_on_every_citizen_page_leads_to_the_request_form(client: Any) -> None:
    for path in ("/portal", "/services", "/portal/apply", "/tour"):
        page = client.get(path).text
        assert 'id="call-me-back" href="/portal/help"' in page, path
    form = client.get("/portal/help?about=出生医学证明")
    assert form.status_code == 200
    assert 'name="preferred_time"' in form.text and "出生医学证明" in form.text
    en = client.get("/portal/help?lang=en").text
    assert "Ask a member of staff to help you" in en and "请工作人员" not in en.split("<main")[1]


def test_from_request_to_queue_to_closed_end_to_end(client: Any, rt: Any) -> None:
    r = file(client)
    assert r.status_code == 303
    link = r.headers["location"]
    assert link.startswith("/portal/help/BB") and "k=" in link and PHONE[-4:] not in urlsplit(link).query
    code = urlsplit(link).path.rsplit("/", 1)[1]
    assert re.fullmatch(r"BB\d{8}\d{6}\d{3}", code)

    confirm = client.get(link)
    assert confirm.status_code == 200
    assert code in confirm.text and "已收到您的请求" in confirm.text and 'data-status="open"' in confirm.text
    assert "上午" in confirm.text
    assert any(code in body and "上午" in body for body in sms(rt, PHONE))  # the confirmation text

    # A wrong key shows nothing.
    assert client.get(link.replace("k=", "k=0")).status_code == 404
    # Look-up by code and phone digits: wrong digits and right ones.
    missing = client.post("/portal/help/track", data={"code": code, "phone_last4": "0000"})
    assert missing.status_code == 404 and 'id="hp-missing"' in missing.text
    found = client.post(
        "/portal/help/track", data={"code": code.lower(), "phone_last4": PHONE[-4:]}, follow_redirects=False
    )
    assert found.status_code == 303 and found.headers["location"].split("&")[0] == link.split("&")[0]

    # A citizen (no login) and a department handler cannot see the queue.
    assert client.get("/help-requests", follow_redirects=False).status_code in (303, 401)
    login(client, "h_wjw")
    assert client.get("/help-requests").status_code == 403
    assert client.post(f"/help-requests/{code}/claim").status_code == 403

    login(client, "volunteer")
    queue = client.get("/help-requests")
    assert queue.status_code == 200
    assert f'data-code="{code}" data-status="open"' in queue.text and PHONE in queue.text
    assert 'href="/help-requests"' in queue.text  # in the volunteer's navigation
    # Nothing to note or close before it is claimed.
    early = client.post(f"/help-requests/{code}/close", data={"outcome": "helped"})
    assert early.status_code == 409
    claimed = client.post(f"/help-requests/{code}/claim", follow_redirects=False)
    assert claimed.status_code == 303
    page = client.get(claimed.headers["location"])
    assert (
        'id="hp-done"' in page.text and 'id="hp-note-form"' in page.text and 'id="hp-claim"' not in page.text
    )
    assert client.post(f"/help-requests/{code}/claim").status_code == 409  # claimed once

    # Another helper may not act on it; a supervisor may.
    login(client, "window")
    other = client.post(f"/help-requests/{code}/note", data={"note": "打过去了"})
    assert other.status_code == 403
    login(client, "volunteer")

    blank = client.post(f"/help-requests/{code}/note", data={"note": "  "})
    assert blank.status_code == 422 and 'id="err-note"' in blank.text
    noted = client.post(
        f"/help-requests/{code}/note", data={"note": "上午 10 点打过去，约好明天到政务中心陪同办"}
    )
    assert noted.status_code == 200 and "约好明天" in noted.text
    no_outcome = client.post(f"/help-requests/{code}/close", data={"outcome": ""})
    assert no_outcome.status_code == 422 and 'id="err-outcome"' in no_outcome.text
    bad_outcome = client.post(f"/help-requests/{code}/close", data={"outcome": "teleported"})
    assert bad_outcome.status_code == 422
    closed = client.post(f"/help-requests/{code}/close", data={"outcome": "appointment", "note": "明早 9 点"})
    assert closed.status_code == 200 and "已预约到窗口办理" in closed.text
    assert 'id="hp-note-form"' not in closed.text and 'id="hp-close-form"' not in closed.text

    with rt.db.read() as session:
        req = session.scalars(select(HelpRequest).where(HelpRequest.code == code)).one()
        assert (req.status, req.outcome, req.claimed_by_name) == ("closed", "appointment", "帮代办员 黄欣")
        actions = list(
            session.scalars(
                select(HelpRequestEvent.action)
                .where(HelpRequestEvent.request_id == req.id)
                .order_by(HelpRequestEvent.id)
            )
        )
    assert actions == ["file", "claim", "note", "close"]
    assert "已预约到窗口办理" in sms(rt, PHONE)[-1]

    # The citizen sees the outcome and the steps, never the staff's notes or names.
    client.cookies.clear()
    mine = client.get(link.split("&")[0])
    assert 'data-status="closed"' in mine.text and "已预约到窗口办理" in mine.text
    assert "约好明天" not in mine.text and "黄欣" not in mine.text
    assert mine.text.count("<li><time") == 4


def test_incomplete_or_wrong_requests_are_refused_with_the_field_named(client: Any, rt: Any) -> None:
    missing = file(client, name="", need="")
    assert missing.status_code == 422
    assert 'id="err-name"' in missing.text and 'id="err-need"' in missing.text
    assert 'aria-invalid="true"' in missing.text
    bad_phone = file(client, phone="12345")
    assert bad_phone.status_code == 422 and 'id="err-phone"' in bad_phone.text
    bad_time = file(client, preferred_time="midnight")
    assert bad_time.status_code == 422 and 'id="err-preferred_time"' in bad_time.text
    en = client.post(
        "/portal/help?lang=en", data={"name": "Li", "phone": "1", "need": "x", "preferred_time": "anytime"}
    )
    assert en.status_code == 422 and "Enter a valid mobile or landline number" in en.text
    bad_digits = client.post("/portal/help/track", data={"code": "BB1", "phone_last4": "12a4"})
    assert bad_digits.status_code == 422 and 'id="err-phone_last4"' in bad_digits.text
    with rt.db.read() as session:
        assert session.scalar(select(func.count()).select_from(HelpRequest)) == 0


def test_the_state_table_is_the_gate(rt: Any) -> None:
    helper = Actor(id=101, username="v1", name="志愿者甲", role=Role.VOLUNTEER)
    other = Actor(id=102, username="v2", name="志愿者乙", role=Role.VOLUNTEER)
    boss = Actor(id=103, username="s", name="督办员", role=Role.SUPERVISOR)
    handler = Actor(id=104, username="h", name="承办人", role=Role.HANDLER)
    with rt.db.write() as session:
        req = hr.file_request(rt, session, name="李爷爷", phone="0734-8123456", need="办老年证")
        code = req.code
        assert req.status == "open" and hr.allowed_actions(req, helper) == ["claim"]
        assert hr.allowed_actions(req, handler) == []
        with pytest.raises(Forbidden):
            hr.act(session, code=code, action="claim", actor=handler)
        with pytest.raises(Invalid):
            hr.act(session, code=code, action="file", actor=helper)
        hr.act(session, code=code, action="claim", actor=helper)
        assert hr.allowed_actions(req, other) == []
        assert set(hr.allowed_actions(req, boss)) == {"note", "release", "close"}
        with pytest.raises(Forbidden):
            hr.act(session, code=code, action="release", actor=other)
        hr.act(session, code=code, action="release", actor=boss)
        assert req.status == "open" and req.claimed_by_id is None
        hr.act(session, code=code, action="claim", actor=other)
        hr.act(session, code=code, action="close", actor=other, outcome="unreachable")
        with pytest.raises(Conflict):
            hr.act(session, code=code, action="note", actor=other, note="again")
        queue = hr.queue(session, actor=helper)
        assert [r.code for r in queue] == [code]
        with pytest.raises(Forbidden):
            hr.queue(session, actor=handler)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pages_speak_one_language(client: Any, lang: str) -> None:
    from tests.web.language import untranslated

    q = f"lang={lang}"
    link = file(
        client, name="Li Ming" if lang == "en" else "李明", need="出生证明" if lang == "zh" else "birth"
    ).headers["location"]
    code = urlsplit(link).path.rsplit("/", 1)[1]
    pages = {
        "form": client.get(f"/portal/help?{q}").text,
        "errors": client.post(f"/portal/help?{q}", data={"name": "", "phone": "1", "need": ""}).text,
        "status": client.get(f"{link}&{q}").text,
    }
    login(client, "volunteer")
    client.post(f"/help-requests/{code}/claim")
    pages["queue"] = client.get(f"/help-requests?{q}").text
    pages["staff"] = client.post(f"/help-requests/{code}/close?{q}", data={"outcome": ""}).text
    allow = {"Li", "Ming", "birth"}
    problems = {k: untranslated(v, lang, allow=allow) for k, v in pages.items()}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_api_files_lists_and_closes(client: Any, api: Any, rt: Any) -> None:
    r = client.post(
        "/api/v1/help-requests",
        json={"name": "李爷爷", "phone": "13600001234", "need": "办老年证", "preferred_time": "afternoon"},
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert r.json()["status"] == "open" and "name" not in r.json() and "phone" not in r.json()
    bad = client.post("/api/v1/help-requests", json={"name": "", "phone": "1", "need": ""})
    assert bad.status_code == 422 and {"name", "phone", "need"} <= set(bad.json()["fields"])
    assert client.get(f"/api/v1/help-requests/{code}/track?phone_last4=0000").status_code == 404
    seen = client.get(f"/api/v1/help-requests/{code}/track?phone_last4=1234&lang=en").json()
    assert seen["status_text"].startswith("Received") and seen["preferred_time"].startswith("Afternoon")
    assert api.get("/api/v1/help-requests", as_="h_wjw").status_code == 403
    listed = api.get("/api/v1/help-requests?status=open", as_="volunteer").json()
    assert [x["code"] for x in listed] == [code] and listed[0]["allowed_actions"] == ["claim"]
    assert (
        api.post(
            f"/api/v1/help-requests/{code}/close", as_="volunteer", json={"outcome": "helped"}
        ).status_code
        == 409
    )
    assert api.post(f"/api/v1/help-requests/{code}/claim", as_="volunteer", json={}).status_code == 200
    assert api.post(f"/api/v1/help-requests/{code}/note", as_="window", json={"note": "x"}).status_code == 403
    assert api.post(f"/api/v1/help-requests/{code}/fly", as_="volunteer", json={}).status_code == 422
    done = api.post(f"/api/v1/help-requests/{code}/close", as_="volunteer", json={"outcome": "helped"})
    assert (
        done.status_code == 200 and done.json()["status"] == "closed" and done.json()["outcome"] == "helped"
    )
