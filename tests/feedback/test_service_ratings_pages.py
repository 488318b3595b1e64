"""好差评 pages for services: the portal's rating page (code + phone digits, the rating form, the result),
the window's visit code with its QR code, the rectification page of a department and a supervisor, and
the dashboard's section. Chinese first, English on request; every POST form carries the CSRF token."""

from __future__ import annotations

import re
from typing import Any

import pytest

from haoban.applications import registry
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.runtime import Runtime
from tests.feedback.service_rating_helpers import (
    APP_LAST4,
    HUKOU_ITEM,
    SEAL_ITEM,
    VISIT_PHONE,
    finished_application,
    rate,
    visit,
)
from tests.web.test_pages_access import login, no_trace

LAST4 = VISIT_PHONE[-4:]


@pytest.fixture
def installed(rt: Runtime) -> Runtime:
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    return rt


def _forms_carry_csrf(html: str) -> None:
    for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", html, flags=re.S):
        assert 'name="csrf_token"' in form or "csrf" in form, form[:200]


def test_the_portal_rates_a_window_visit_and_shows_the_result(
    installed: Runtime, api: Any, client: Any
) -> None:
    v = visit(api)
    page = client.get(f"/portal/rate-service?code={v['code']}")
    assert page.status_code == 200 and f'value="{v["code"]}"' in page.text
    _forms_carry_csrf(page.text)
    # A wrong guess and an unknown code read the same.
    wrong = client.post("/portal/rate-service/lookup", data={"code": v["code"], "phone_last4": "0000"})
    unknown = client.post(
        "/portal/rate-service/lookup", data={"code": "CK20990101000000", "phone_last4": LAST4}
    )
    assert wrong.status_code == unknown.status_code == 404
    assert "svc-missing" in wrong.text and "svc-missing" in unknown.text
    bad = client.post("/portal/rate-service/lookup", data={"code": v["code"], "phone_last4": "12"})
    assert bad.status_code == 422 and "err-phone_last4" in bad.text
    r = client.post(
        "/portal/rate-service/lookup", data={"code": v["code"], "phone_last4": LAST4}, follow_redirects=False
    )
    assert r.status_code == 303 and LAST4 not in r.headers["location"]
    link = r.headers["location"]
    assert link.startswith(f"/portal/rate-service/{v['code']}?k=")
    found = client.get(link)
    assert found.status_code == 200 and 'id="svc-rate-form"' in found.text and "公章刻制备案" in found.text
    assert "服务态度" in found.text and "非常不满意" in found.text
    _forms_carry_csrf(found.text)
    none = client.post("/portal/rate-service", data={"code": v["code"], "phone_last4": LAST4})
    assert none.status_code == 422 and "err-svc-level" in none.text
    no_trace(none)
    r = client.post(
        "/portal/rate-service",
        data={
            "code": v["code"],
            "phone_last4": LAST4,
            "level": "unsatisfied",
            "aspects": ["attitude", "efficiency"],
            "comment": "等了一个小时",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == link + "&rated=1"  # a reload rates nothing
    r = client.get(r.headers["location"])
    assert r.status_code == 200
    assert 'id="svc-rated"' in r.text and 'id="svc-rectification"' in r.text and "服务态度" in r.text
    again = client.post(
        "/portal/rate-service", data={"code": v["code"], "phone_last4": LAST4, "level": "satisfied"}
    )
    assert again.status_code == 409 and 'id="svc-rated"' in again.text  # their rating, unchanged
    # The department answers on its page, a supervisor accepts, the rater reads the result.
    login(client, "h_wjw")
    assert "svc-rect-" not in client.get("/rectifications/services").text.replace("svc-rect-none", "")
    login(client, "h_gaj")
    page = client.get("/rectifications/services")
    assert page.status_code == 200 and "等了一个小时" in page.text and "answer-form" in page.text
    _forms_carry_csrf(page.text)
    rid = int(re.search(r'id="svc-rect-(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    r = client.post(f"/rectifications/services/{rid}/answer", data={"answer": ""})
    assert r.status_code == 422 and "rect-message" in r.text and "请填写整改情况" in r.text
    r = client.post(
        f"/rectifications/services/{rid}/answer", data={"answer": "已增设取号窗口，高峰期加派人手"}
    )
    assert r.status_code == 200 and "rect-done" in r.text
    login(client, "supervisor")
    page = client.get("/rectifications/services?status=answered")
    assert "review-form" in page.text
    r = client.post(f"/rectifications/services/{rid}/review", data={"decision": "accept"})
    assert r.status_code == 200 and "rect-done" in r.text
    client.cookies.clear()
    result = client.get(link)  # the bookmarked link
    assert 'id="svc-rect-answer"' in result.text and "已增设取号窗口" in result.text
    en = client.get(link + "&lang=en")
    assert "What was done" in en.text and "整改结果" not in en.text
    assert (
        client.get(link.split("?k=")[0] + "?k=" + "0" * 24).status_code == 404
    )  # a forged key reads like a wrong guess


def test_a_bad_rating_of_a_bundle_asks_which_item(installed: Runtime, api: Any, client: Any) -> None:
    code = finished_application(api)
    page = client.post("/portal/rate-service/lookup", data={"code": code, "phone_last4": APP_LAST4})
    assert 'id="svc-item"' in page.text and HUKOU_ITEM in page.text
    r = client.post(
        "/portal/rate-service", data={"code": code, "phone_last4": APP_LAST4, "level": "very_unsatisfied"}
    )
    assert r.status_code == 422 and "err-svc-item" in r.text and "请选择您不满意的事项" in r.text
    no_trace(r)
    r = client.post(
        "/portal/rate-service",
        data={"code": code, "phone_last4": APP_LAST4, "level": "very_unsatisfied", "item": HUKOU_ITEM},
    )
    assert r.status_code == 200 and 'id="svc-rectification"' in r.text


def test_an_unfinished_application_cannot_be_rated_yet(installed: Runtime, api: Any, client: Any) -> None:
    from tests.applications.conftest import apply

    code = apply(api).json()["code"]
    page = client.post("/portal/rate-service/lookup", data={"code": code, "phone_last4": APP_LAST4})
    assert page.status_code == 200 and 'id="svc-rate-later"' in page.text and "svc-rate-form" not in page.text


def test_the_window_hands_out_a_visit_code_with_a_qr_code(installed: Runtime, client: Any) -> None:
    login(client, "h_gaj")
    assert client.get("/window/visits").status_code == 403
    login(client, "window")
    assert 'id="svc-visits-link"' in client.get("/cases").text
    page = client.get("/window/visits")
    assert page.status_code == 200 and SEAL_ITEM in page.text
    _forms_carry_csrf(page.text)
    r = client.post("/window/visits", data={"item": "nope", "person_phone": "123"})
    assert r.status_code == 422 and "err-item" in r.text and "err-person_phone" in r.text
    assert "请填写有效的手机号" in r.text and "not a valid phone" not in r.text
    no_trace(r)
    r = client.post(
        "/window/visits", data={"item": SEAL_ITEM, "person_phone": VISIT_PHONE, "channel": "window"}
    )
    assert r.status_code == 200 and 'id="visit-qr"' in r.text and "<svg" in r.text
    code = re.search(r'id="visit-code">(CK\d+)<', r.text).group(1)  # type: ignore[union-attr]
    assert r.url.path == f"/window/visits/{code}"  # redirected after the POST
    assert f"/portal/rate-service?code={code}" in r.text and VISIT_PHONE not in r.text
    qr = client.get(f"/window/visits/{code}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    client.cookies.clear()
    assert client.get(f"/window/visits/{code}/qr.svg", follow_redirects=False).status_code == 303


def test_the_dashboard_shows_the_service_rating_section(installed: Runtime, api: Any, client: Any) -> None:
    v = visit(api)
    assert rate(api, v["code"], "非常不满意", last4=LAST4).status_code == 201
    w = visit(api, as_="volunteer", channel="assisted")
    assert rate(api, w["code"], "满意", last4=LAST4).status_code == 201
    assert 'id="rate-service-link"' in client.get("/portal").text
    login(client, "supervisor")
    assert 'id="svc-rects-link"' in client.get("/board").text
    page = client.get("/dashboard")
    assert page.status_code == 200 and 'id="service-rating-figures"' in page.text
    section = page.text.split('id="service-rating-figures"')[1].split("</section>")[0]
    assert re.search(r'id="sr-kpi-ratings">.*?<span class="kpi-value">2</span>', section, flags=re.S)
    assert re.search(r'id="sr-kpi-bad">.*?<span class="kpi-value">1</span>', section, flags=re.S)
    assert "service_ratings_clerks.csv" in section and "窗口人员 周敏" in section and "帮代办" in section
    en = client.get("/dashboard?lang=en")
    assert "Service ratings" in en.text and "By window clerk" in en.text


def test_the_applicants_timeline_offers_the_rating_once_finished(
    installed: Runtime, api: Any, client: Any
) -> None:
    from tests.applications.conftest import apply

    running = apply(api).json()["code"]
    page = client.get(f"/portal/applications/{running}", params={"p": APP_LAST4})
    assert page.status_code == 200 and 'id="app-rating"' not in page.text
    code = finished_application(api)
    page = client.get(f"/portal/applications/{code}", params={"p": APP_LAST4})
    assert page.status_code == 200 and 'id="svc-rate-form"' in page.text and HUKOU_ITEM in page.text
    _forms_carry_csrf(page.text)
    r = client.post(
        "/portal/rate-service",
        data={"code": code, "phone_last4": APP_LAST4, "level": "satisfied", "aspects": ["guide"]},
    )
    assert r.status_code == 200 and 'id="svc-rated"' in r.text
    page = client.get(f"/portal/applications/{code}", params={"p": APP_LAST4})
    assert 'id="svc-rated"' in page.text and "svc-rate-form" not in page.text
    assert any("您的评价：满意" in li for li in page.text.split("<li"))  # and in the timeline
