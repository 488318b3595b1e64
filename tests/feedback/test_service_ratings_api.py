"""好差评 for services over the API: applicants rate a finished application or a window visit once, by
code and phone digits; a 差评 opens a rectification at the item's department, due on the orders' working-day
rule; the department answers, a supervisor reviews, the rater sees the result; the sweep escalates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from haoban.applications import registry
from haoban.applications.events import verify_all
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.calendar import DurationUnit
from haoban.feedback import service_ratings
from haoban.feedback.models import ServiceRectification
from haoban.feedback.schemas import RatingLevel
from haoban.feedback.service import rectification_due
from haoban.notifications.models import OutboxMessage
from haoban.runtime import Runtime
from tests.applications.conftest import apply
from tests.feedback.service_rating_helpers import (
    APP_LAST4,
    HUKOU_ITEM,
    SEAL_ITEM,
    VISIT_PHONE,
    finished_application,
    rate,
    visit,
)


@pytest.fixture
def installed(rt: Runtime) -> Runtime:
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    return rt


def _events(api: Any, code: str) -> list[dict[str, Any]]:
    return api.get(f"/api/v1/applications/{code}/events", as_="auditor").json()


def test_an_applicant_rates_a_finished_application_once(installed: Runtime, api: Any) -> None:
    running = apply(api).json()["code"]
    early = rate(api, running, "满意", last4=APP_LAST4)
    assert early.status_code == 409 and "not finished" in early.json()["message"]
    code = finished_application(api)
    r = rate(api, code, "非常满意", last4=APP_LAST4, aspects=["服务态度", "efficiency"], comment="一次办好")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["level"] == "very_satisfied" and body["score"] == 5 and body["label"] == "非常满意"
    assert body["aspects"] == ["attitude", "efficiency"]
    # Online, the bundle as a whole (several departments), no clerk; no rectification for a good rating.
    assert body["channel"] == "online" and body["item"] == "newborn" and body["department"] is None
    assert body["rectification"] is None
    again = rate(api, code, "不满意", last4=APP_LAST4, item=HUKOU_ITEM)
    assert again.status_code == 409 and "already" in again.json()["message"]
    mine = api.client.get(f"/api/v1/service-ratings/{code}", params={"phone_last4": APP_LAST4}).json()
    assert mine["finished"] is True and mine["rating"]["comment"] == "一次办好"
    assert {i["item"] for i in mine["items"]} >= {HUKOU_ITEM}
    events = _events(api, code)
    assert events[-1]["action"] == "rate" and events[-1]["payload"]["level"] == "very_satisfied"
    with installed.db.read() as session:
        assert verify_all(session)[1] == []
    track = api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": APP_LAST4}).json()
    assert any("非常满意" in e["text"] for e in track["timeline"])


def test_bad_input_is_refused_with_the_field_named(installed: Runtime, api: Any) -> None:
    code = finished_application(api)
    r = rate(api, code, "so-so", last4=APP_LAST4)
    assert r.status_code == 422 and "level" in r.text
    r = rate(api, code, "满意", last4=APP_LAST4, aspects=["颜值"])
    assert r.status_code == 422 and "aspect" in r.text
    for odd in ([{"a": 1}], [["attitude"]], [3]):  # found by schemathesis: these gave 500
        r = rate(api, code, "满意", last4=APP_LAST4, aspects=odd)
        assert r.status_code == 422 and "aspect" in r.text, odd
    r = rate(api, code, "满意", last4=APP_LAST4, item="not-an-item")
    assert r.status_code == 422 and r.json()["fields"]["item"].startswith("one of")
    # A 差评 of a bundle of several departments must name the item, so one department puts it right.
    r = rate(api, code, "不满意", last4=APP_LAST4)
    assert r.status_code == 422 and HUKOU_ITEM in r.json()["fields"]["item"]
    assert api.get("/api/v1/service-rectifications", as_="supervisor").json()["total"] == 0


def test_a_wrong_guess_reads_exactly_like_a_code_that_does_not_exist(installed: Runtime, api: Any) -> None:
    code = finished_application(api)
    v = visit(api)
    answers = [
        rate(api, code, "满意", last4="0000"),
        rate(api, "BJ20990101999999", "满意", last4=APP_LAST4),
        rate(api, v["code"], "满意", last4="0000"),
        rate(api, "CK20990101000000", "满意", last4=VISIT_PHONE[-4:]),
        api.client.get(f"/api/v1/service-ratings/{code}", params={"phone_last4": "0000"}),
        api.client.get("/api/v1/service-ratings/CK20990101000000", params={"phone_last4": "1234"}),
    ]
    assert {r.status_code for r in answers} == {404}
    assert len({r.content for r in answers}) == 1
    # Guesses count against the citizens' look-up allowance (shared with tracking and orders' ratings).
    # (Up to twice the allowance: a minute may turn over while the loop runs.)
    limit = installed.settings.track_rate_per_minute
    refused = None
    for i in range(2 * limit + 2):
        r = rate(api, code, "满意", last4=f"{i:04d}")
        if r.status_code == 429:
            refused = r
            break
        assert r.status_code == 404
    assert refused is not None and "minute" in refused.json()["message"]


def test_a_window_visit_is_registered_by_a_clerk_and_rated_by_its_code(installed: Runtime, api: Any) -> None:
    assert (
        api.post(
            "/api/v1/service-visits", as_="h_gaj", json={"item": SEAL_ITEM, "person_phone": VISIT_PHONE}
        ).status_code
        == 403
    )
    r = api.post("/api/v1/service-visits", as_="window", json={"item": "nope", "person_phone": "123456"})
    assert r.status_code == 422 and set(r.json()["fields"]) >= {"item", "person_phone"}
    v = visit(api)
    assert v["code"].startswith("CK") and v["department"] == "gaj" and v["clerk"] == "窗口人员 周敏"
    assert v["phone"].endswith(VISIT_PHONE[-4:]) and VISIT_PHONE not in str(v)
    assert v["rate_url"] == f"/portal/rate-service?code={v['code']}"
    r = rate(api, v["code"].lower(), "satisfied", last4=VISIT_PHONE[-4:], aspects=["environment"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["subject"] == "visit" and body["channel"] == "window" and body["department"] == "gaj"
    assert body["item"] == SEAL_ITEM
    assert rate(api, v["code"], "satisfied", last4=VISIT_PHONE[-4:]).status_code == 409
    helped = visit(api, as_="volunteer", channel="assisted")
    assert rate(api, helped["code"], "基本满意", last4=VISIT_PHONE[-4:]).json()["channel"] == "assisted"


def test_a_bad_rating_opens_a_rectification_due_on_the_working_day_rule(installed: Runtime, api: Any) -> None:
    code = finished_application(api, as_="window")
    before = datetime.now().astimezone()
    r = rate(
        api, code, "非常不满意", last4=APP_LAST4, item=HUKOU_ITEM, aspects=["材料要求"], comment="跑了三趟"
    )
    assert r.status_code == 201, r.text
    assert r.json()["rectification"]["status"] == "open" and r.json()["rectification"]["answer"] is None
    assert r.json()["channel"] == "window"
    listed = api.get("/api/v1/service-rectifications", as_="supervisor").json()
    (item,) = listed["items"]
    assert item["code"] == code and item["department"] == "gaj" and item["item"] == HUKOU_ITEM
    assert item["clerk"] == "窗口人员 周敏" and item["aspects"] == ["materials"]
    days = installed.settings.rectification_working_days
    low = installed.calendar.add(before, days, DurationUnit.WORKING_DAYS).at
    high = installed.calendar.add(datetime.now().astimezone(), days, DurationUnit.WORKING_DAYS).at
    assert low <= datetime.fromisoformat(item["deadline"]) <= high
    actions = [e["action"] for e in _events(api, code)]
    assert actions[-2:] == ["rate", "rectification_open"]
    with installed.db.read() as session:
        told = session.query(OutboxMessage).filter(OutboxMessage.recipient == "department:gaj").all()
        assert any(code in m.body for m in told)


def test_the_deadline_counts_working_days_across_national_day(installed: Runtime, api: Any) -> None:
    """Rated on 2026-09-30 10:00: five working days are 10-08, 10-09, 10-10 (调休 Saturday), 10-12, 10-13."""
    v = visit(api)
    at = datetime.fromisoformat("2026-09-30T10:00:00+08:00")
    with installed.db.write() as session:
        _rating, rect, _code = service_ratings.submit(
            session, installed, code=v["code"], last4=VISIT_PHONE[-4:], level=RatingLevel.UNSATISFIED, now=at
        )
        assert rect is not None
        assert rect.deadline == datetime.fromisoformat("2026-10-13T23:59:59.999999+08:00")
        # One rule for orders and services.
        assert rect.deadline == rectification_due(installed, at)[1].at


def _rect_id(api: Any) -> int:
    return api.get("/api/v1/service-rectifications", as_="supervisor").json()["items"][0]["id"]


def test_the_department_answers_a_supervisor_reviews_the_rater_sees_the_result(
    installed: Runtime, api: Any
) -> None:
    code = finished_application(api)
    assert rate(api, code, "不满意", last4=APP_LAST4, item=HUKOU_ITEM).status_code == 201
    rid = _rect_id(api)
    base = f"/api/v1/service-rectifications/{rid}"
    # A department sees its own rectifications only; another's reads as missing.
    assert api.get("/api/v1/service-rectifications", as_="h_gaj").json()["total"] == 1
    assert api.get("/api/v1/service-rectifications", as_="h_wjw").json()["total"] == 0
    assert api.get(base, as_="h_wjw").status_code == 404
    assert api.post(f"{base}/answer", as_="h_wjw", json={"answer": "不是我们"}).status_code == 404
    assert api.get("/api/v1/service-rectifications", as_="operator").status_code == 403
    assert api.post(f"{base}/answer", as_="supervisor", json={"answer": "代答"}).status_code == 403
    # Review before an answer: 409; the department answers once.
    assert api.post(f"{base}/review", as_="supervisor", json={"decision": "accept"}).status_code == 409
    r = api.post(f"{base}/answer", as_="h_gaj", json={"answer": "已一次性告知所需材料并上门补办"})
    assert r.status_code == 200 and r.json()["status"] == "answered"
    assert api.post(f"{base}/answer", as_="h_gaj", json={"answer": "again"}).status_code == 409
    assert api.post(f"{base}/review", as_="h_gaj", json={"decision": "accept"}).status_code == 403
    r = api.post(f"{base}/review", as_="supervisor", json={"decision": "reject"})
    assert r.status_code == 422 and "note" in r.json()["fields"]
    r = api.post(
        f"{base}/review", as_="supervisor", json={"decision": "reject", "note": "请说明如何避免再次发生"}
    )
    assert r.status_code == 200 and r.json()["status"] == "open"
    mine = api.client.get(f"/api/v1/service-ratings/{code}", params={"phone_last4": APP_LAST4}).json()
    assert mine["rating"]["rectification"]["status"] == "open"
    assert mine["rating"]["rectification"]["answer"] is None  # not before a supervisor accepts it
    final = "已补办户口登记；窗口材料清单已更新，今后一次告知"
    assert api.post(f"{base}/answer", as_="h_gaj", json={"answer": final}).status_code == 200
    r = api.post(f"{base}/review", as_="supervisor", json={"decision": "accept"})
    assert r.status_code == 200 and r.json()["status"] == "closed" and r.json()["reviewed_by"]
    mine = api.client.get(f"/api/v1/service-ratings/{code}", params={"phone_last4": APP_LAST4}).json()
    assert mine["rating"]["rectification"]["status"] == "closed"
    assert mine["rating"]["rectification"]["answer"] == final
    actions = [e["action"] for e in _events(api, code)]
    assert actions[-6:] == [
        "rate",
        "rectification_open",
        "rectification_answer",
        "rectification_review",
        "rectification_answer",
        "rectification_review",
    ]
    track = api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": APP_LAST4}).json()
    assert any(final in e["text"] for e in track["timeline"])
    with installed.db.read() as session:
        assert verify_all(session)[1] == []


def test_the_sweep_escalates_an_overdue_rectification_once_per_period(installed: Runtime, api: Any) -> None:
    code = finished_application(api)
    at = datetime.fromisoformat("2026-09-30T10:00:00+08:00")
    with installed.db.write() as session:
        _r, rect, _c = service_ratings.submit(
            session,
            installed,
            code=code,
            last4=APP_LAST4,
            level=RatingLevel.VERY_UNSATISFIED,
            item=HUKOU_ITEM,
            now=at,
        )
        assert rect is not None
        deadline, rid = rect.deadline, rect.id
    with installed.db.write() as session:
        assert service_ratings.sweep(session, installed, now=deadline - timedelta(minutes=1)).escalated == 0
    late = deadline + timedelta(minutes=1)
    with installed.db.write() as session:
        assert service_ratings.sweep(session, installed, now=late).escalated == 1
    with installed.db.write() as session:
        assert service_ratings.sweep(session, installed, now=late).escalated == 0  # idempotent
        row = session.get(ServiceRectification, rid)
        assert row is not None and row.escalation_level == 1
        next_look = row.escalate_at
        assert next_look == rectification_due(installed, late)[1].at
        inbox = {
            m.recipient
            for m in session.query(OutboxMessage).filter(OutboxMessage.subject == "差评整改超期督办")
        }
        assert inbox == {"department:gaj", "role:supervisor"}
    listed = api.get("/api/v1/service-rectifications", as_="h_gaj", params={"overdue": True}).json()
    assert listed["total"] == 1 and listed["items"][0]["escalation_level"] == 1
    with installed.db.write() as session:
        assert service_ratings.sweep(session, installed, now=next_look + timedelta(minutes=1)).escalated == 1
        row = session.get(ServiceRectification, rid)
        assert row is not None and row.escalation_level == 2
    escalations = [e for e in _events(api, code) if e["action"] == "rectification_escalate"]
    assert [e["payload"]["level"] for e in escalations] == [1, 2]
    # An answered rectification waits on the supervisor: the sweep leaves it alone.
    assert (
        api.post(
            f"/api/v1/service-rectifications/{rid}/answer", as_="h_gaj", json={"answer": "已整改"}
        ).status_code
        == 200
    )
    with installed.db.write() as session:
        assert service_ratings.sweep(session, installed, now=next_look + timedelta(days=60)).escalated == 0
