"""全程网办 in the citizen portal: a resident here picks a partner region and an item its agreement offers
online, fills the item's one form, uploads, and follows one timeline. Pages on one instance (the file
waits in the outbox: the partner's endpoint answers nothing), then the whole journey in Chromium across
two live instances (来宾's resident, 衡阳's newborn bundle)."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from haoban.applications import registry
from haoban.applications.models import Application, ApplicationDelivery
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.federation import service
from haoban.federation.models import CrossCase, OutboxEntry
from haoban.security import csrf
from tests.applications.conftest import PDF
from tests.applications.test_applications_pages import newborn_fields, newborn_uploads
from tests.federation.conftest import Instance
from tests.federation.partners import seed_partner
from tests.web.test_applications_browser import HANDLERS, fill_newborn
from tests.web.test_browser import PHONE, SHOTS, Browse


def _offer(rt: Any, tmp_path: Any, *, modes: list[str]) -> None:
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    seed_partner(rt, tmp_path)  # 来宾 (451300): 12345 transfers only
    with rt.db.write() as session:
        service.add_agreement(
            session,
            actor=SYSTEM_ACTOR,
            partner="451300",
            items=["newborn"],
            modes=modes,
            valid_from=date(2024, 1, 1),
        )


def test_the_portal_lists_only_items_offered_online(client: Any, rt: Any, tmp_path: Any) -> None:
    _offer(rt, tmp_path, modes=["proxy"])
    page = client.get("/portal/elsewhere")
    assert page.status_code == 200 and 'id="fp-none"' in page.text  # a window's mode is not 网办
    assert client.get("/portal/elsewhere/apply/451300/newborn").status_code == 404
    assert 'href="/portal/elsewhere"' in client.get("/portal/apply").text


def test_apply_online_for_a_partner_regions_item_from_the_portal(client: Any, rt: Any, tmp_path: Any) -> None:
    _offer(rt, tmp_path, modes=["online"])
    page = client.get("/portal/elsewhere")
    assert 'href="/portal/elsewhere/apply/451300/newborn"' in page.text and "来宾市" in page.text
    assert "hotline" not in page.text  # a 12345 agreement item is no form
    form = client.get("/portal/elsewhere/apply/451300/newborn")
    assert form.status_code == 200 and f'name="{csrf.FIELD}"' in form.text
    assert 'action="/portal/elsewhere/apply/451300/newborn"' in form.text and "来宾市" in form.text
    assert 'name="material.parents_id_cards"' in form.text and 'name="baby.name"' in form.text
    assert "Apply online" in client.get("/portal/elsewhere/apply/451300/newborn?lang=en").text
    client.cookies.clear()  # back to Chinese
    url = "/portal/elsewhere/apply/451300/newborn"
    # Checked here as the home region will check it: nothing goes out with a missing name or file.
    bad = client.post(url, data=newborn_fields(**{"baby.name": ""}), files=newborn_uploads()[1:])
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert 'id="err-f-baby-name"' in bad.text
    assert "必须提交" in bad.text  # the missing material, named in Chinese
    assert f'value="{newborn_fields()["baby.hospital"]}"' in bad.text  # what was typed stays
    bad_phone = client.post(url, data=newborn_fields(applicant_phone="123"), files=newborn_uploads())
    assert bad_phone.status_code == 422 and 'id="applicant_phone"' in bad_phone.text
    assert "申请人信息有误" in bad_phone.text
    with rt.db.read() as session:
        assert session.scalar(select(OutboxEntry.id)) is None
    r = client.post(url, data=newborn_fields(), files=newborn_uploads(), follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/portal/elsewhere/cases/430400-online-")
    assert r.headers["location"].endswith("?p=5678&new=1")
    with rt.db.read() as session:
        [sent] = session.scalars(select(OutboxEntry)).all()
        case = session.scalar(select(CrossCase))
    assert (sent.kind, sent.mode, sent.item) == ("app.file", "online", "newborn")
    assert case is not None and (case.mode, case.direction, case.state) == ("online", "out", "open")
    timeline = client.get(r.headers["location"])
    assert timeline.status_code == 200 and 'id="fp-sent"' in timeline.text
    assert "新生儿" in timeline.text and 'data-what="received"' in timeline.text
    assert "李娟" not in timeline.text  # nobody's personal data on the case page
    wrong = client.get(f"/portal/elsewhere/cases/{case.case_key}?p=0000")
    assert wrong.status_code == 404 and 'id="fp-missing"' in wrong.text
    found = client.post(
        "/portal/elsewhere/cases",
        data={"case_key": case.case_key, "phone_last4": "5678"},
        follow_redirects=False,
    )
    assert found.status_code == 303 and found.headers["location"].endswith("?p=5678")
    assert client.post("/portal/elsewhere/cases", data={"case_key": case.case_key}).status_code == 422


@pytest.mark.browser
def test_a_laibin_resident_applies_online_for_hengyangs_newborn_bundle(
    browser: Any, cities: tuple[Instance, Instance]
) -> None:
    """来宾's portal, 衡阳's bundle: the file goes out, 衡阳's departments decide and post the results,
    and the resident's one timeline on 来宾's portal shows each step coming back."""
    hengyang, laibin = cities
    for city in cities:
        with city.rt.db.write() as session:
            registry.install_shipped(session, city.rt, actor=SYSTEM_ACTOR)
    SHOTS.mkdir(parents=True, exist_ok=True)
    resident = Browse(browser, laibin.url, PHONE)
    resident.go("/portal/apply")
    resident.page.click("#elsewhere-link a")
    resident.page.click("section[data-region='430400'] li[data-code='newborn'] a.btn")
    resident.page.wait_for_selector("#apply-form")
    assert "衡阳市" in resident.page.inner_text("#fp-home")
    fill_newborn(resident.page)
    resident.page.fill("#f-baby-name", "")
    resident.page.click("#btn-apply")
    resident.page.wait_for_selector("#err-f-baby-name")
    fill_newborn(resident.page)
    resident.page.click("#btn-apply")
    resident.page.wait_for_selector("#fp-sent")
    resident.assert_clean()
    key = resident.page.inner_text("#fp-case-key").strip()
    bookmark = resident.page.url.replace("&new=1", "")
    resident.page.screenshot(path=str(SHOTS / "federation-online-sent-phone.png"), full_page=True)

    laibin.deliver()
    with hengyang.rt.db.read() as session:
        case = session.scalar(select(CrossCase).where(CrossCase.case_key == key))
        assert case is not None and case.mode == "online"
        app = session.scalar(select(Application).where(Application.code == case.local_ref))
        assert app is not None and (app.bundle_code, app.channel) == ("newborn", "online")
        code, app_id = app.code, app.id
    resident.page.goto(bookmark)
    assert resident.page.inner_text("#fp-remote").strip() == code
    # 衡阳's departments decide every task; its window gives the parcel to the courier.
    from tests.applications.conftest import NEWBORN

    for task, handler in HANDLERS:
        for action, body in (("accept", {}), ("approve", {"result": NEWBORN["results"][task]})):
            r = hengyang.call(
                "POST", f"/api/v1/applications/{code}/tasks/{task}/{action}", as_=handler, json=body
            )
            assert r.status_code == 200, r.text
    with hengyang.rt.db.read() as session:
        delivery = session.scalar(
            select(ApplicationDelivery).where(ApplicationDelivery.application_id == app_id)
        )
        assert delivery is not None
        delivery_id, tracking = delivery.id, delivery.tracking_no
    r = hengyang.call("POST", f"/api/v1/applications/{code}/deliveries/{delivery_id}/hand-over", as_="window")
    assert r.status_code == 200, r.text
    hengyang.deliver()

    resident.page.goto(bookmark)
    resident.assert_clean()
    steps = resident.page.locator("#fp-timeline li")
    whats = [steps.nth(i).get_attribute("data-what") for i in range(steps.count())]
    assert whats[:2] == ["received", "accepted"] and whats[-1] == "delivery_posted"
    assert whats.count("approve") == len(HANDLERS)
    timeline = resident.page.inner_text("#fp-timeline")
    assert "衡阳市已受理" in timeline and tracking in timeline and "户口" in timeline
    assert resident.page.get_attribute("#fp-state", "data-state") == "done"
    resident.page.screenshot(path=str(SHOTS / "federation-online-done-phone.png"), full_page=True)
    resident.page.goto(bookmark + "&lang=en")
    assert "Accepted by 衡阳市" in resident.page.inner_text("#fp-timeline")
    resident.close()


def test_the_api_checks_the_form_when_it_knows_the_item(client: Any, rt: Any, tmp_path: Any) -> None:
    """POST /api/v1/federation/online gives the portal's answer: a form the home region would refuse
    is refused here, every problem by field, and nothing goes out."""
    _offer(rt, tmp_path, modes=["online"])
    body = {
        "partner": "451300",
        "mode": "online",
        "bundle": "newborn",
        "form": {"baby": {"name": "王小禾"}},
        "applicant": {"name": "王强", "phone": "13912345678"},
        "materials": {"parents_id_cards": {"filename": "身份证.pdf", "data": base64.b64encode(PDF).decode()}},
    }
    r = client.post("/api/v1/federation/online", json=body)
    assert r.status_code == 422, r.text
    fields = r.json()["fields"]
    assert "materials.household_register" in fields and any(f.startswith("mother") for f in fields)
    with rt.db.read() as session:
        assert session.scalar(select(OutboxEntry.id)) is None


def test_a_catalogue_item_online_across_two_instances(cities: tuple[Instance, Instance]) -> None:
    """An agreement's item may be a catalogue item (not a bundle): the portal shows its one-task form,
    and the home region registers it as its own department's one-task application."""
    hengyang, laibin = cities
    item = "gaj-official-seal-engraving"
    laibin.partner_with(hengyang, items=[item], modes=["online"])
    hengyang.partner_with(laibin, items=[item], modes=["online"])
    page = laibin.call("GET", "/portal/elsewhere")
    assert f'href="/portal/elsewhere/apply/430400/{item}"' in page.text and "公章刻制备案" in page.text
    form = laibin.call("GET", f"/portal/elsewhere/apply/430400/{item}")
    assert form.status_code == 200 and 'name="request.details"' in form.text
    r = laibin.call(
        "POST",
        "/api/v1/federation/online",
        json={
            "partner": "430400",
            "mode": "online",
            "bundle": item,
            "form": {
                "request": {"details": "新公司公章刻制备案"},
                "contact": {"phone": "13912345678"},
                "delivery": {"method": "window"},
            },
            "applicant": {"name": "王强", "phone": "13912345678"},
            "materials": {"m1": {"filename": "执照.pdf", "data": base64.b64encode(PDF).decode()}},
        },
    )
    assert r.status_code == 422 and "materials.m1" in r.json()["fields"]  # this item takes none
    r = laibin.call(
        "POST",
        "/api/v1/federation/online",
        json={
            "partner": "430400",
            "mode": "online",
            "bundle": item,
            "form": {
                "request": {"details": "新公司公章刻制备案"},
                "contact": {"phone": "13912345678"},
                "delivery": {"method": "window"},
            },
            "applicant": {"name": "王强", "phone": "13912345678"},
            "materials": {},
        },
    )
    assert r.status_code == 202, r.text
    key = r.json()["case_key"]
    laibin.deliver()
    with hengyang.rt.db.read() as session:
        code = session.scalar(select(CrossCase.local_ref).where(CrossCase.case_key == key))
        app = session.scalar(select(Application).where(Application.code == code))
        assert app is not None and app.bundle_code == f"item-{item}" and app.channel == "online"
    tracked = laibin.call("GET", f"/portal/elsewhere/cases/{key}", params={"p": "5678"})
    assert tracked.status_code == 200 and code in tracked.text and "公章刻制备案" in tracked.text
