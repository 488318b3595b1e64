"""帮代办 and the window: consent recorded (one-time code or signature), green channel first, 陪同办,
KPIs per helper and group; a window clerk registers a walk-in and hands the results over."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select

from haoban.applications.models import ConsentCode
from haoban.notifications.models import OutboxMessage
from tests.applications.conftest import NEWBORN, PDF, PNG, apply, finish


def _last_code(rt: Any, phone: str) -> str:
    with rt.db.read() as session:
        body = session.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == phone, OutboxMessage.channel == "sms")
            .order_by(OutboxMessage.id.desc())
        ).first()
    assert body is not None
    match = re.search(r"授权码 (\d{6})", body)
    assert match is not None
    return match.group(1)


def test_applying_on_someones_behalf_needs_their_consent(installed: Any, api: Any) -> None:
    refused = apply(api, as_="volunteer")
    assert refused.status_code == 422 and "consent" in refused.json()["fields"]
    assert (
        api.post(
            "/api/v1/assistance/consent-codes", as_="volunteer", json={"phone": "13812345678"}
        ).status_code
        == 201
    )
    assert (
        api.post("/api/v1/assistance/consent-codes", as_="h_wjw", json={"phone": "13812345678"}).status_code
        == 403
    )
    code = _last_code(installed, "13812345678")
    wrong = apply(
        api, as_="volunteer", consent={"method": "otp", "code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 422 and "consent.code" in wrong.json()["fields"]
    with installed.db.read() as session:
        assert session.scalars(select(ConsentCode.attempts)).one() == 1  # the wrong try was counted
    ok = apply(api, as_="volunteer", consent={"method": "otp", "code": code}, green_channel="elderly")
    assert ok.status_code == 201, ok.text
    app_code = ok.json()["code"]
    # The code is used once.
    again = apply(api, as_="volunteer", consent={"method": "otp", "code": code})
    assert again.status_code == 422
    events = api.get(f"/api/v1/applications/{app_code}/events", as_="auditor").json()
    consent = next(e for e in events if e["action"] == "consent")
    assert consent["payload"]["method"] == "otp" and consent["actor"].startswith("帮代办员")
    detail = api.get(f"/api/v1/applications/{app_code}", as_="volunteer").json()
    assert detail["channel"] == "assisted" and detail["green_channel"] == "elderly"
    # A signature image is the other way; anything but PNG / JPEG is refused.
    files = [("consent_signature", ("签名.png", PNG + b"sig", "image/png")), *_newborn_files()]
    signed = apply(api, as_="volunteer", consent={"method": "signature"}, files=files)
    assert signed.status_code == 201, signed.text
    files = [("consent_signature", ("签名.pdf", PDF, "application/pdf")), *_newborn_files()]
    bad = apply(api, as_="volunteer", consent={"method": "signature"}, files=files)
    assert bad.status_code == 422 and "consent.signature" in bad.json()["fields"]
    # A volunteer follows only what they filed.
    citizen = apply(api).json()["code"]
    assert api.get(f"/api/v1/applications/{citizen}", as_="volunteer").status_code == 404


def _newborn_files() -> list[Any]:
    from tests.applications.conftest import newborn_files

    return newborn_files()


def test_green_channel_sorts_first_and_assistance_is_counted(installed: Any, api: Any) -> None:
    plain = apply(api).json()["code"]
    api.post("/api/v1/assistance/consent-codes", as_="volunteer", json={"phone": "13812345678"})
    green = apply(
        api,
        as_="volunteer",
        consent={"method": "otp", "code": _last_code(installed, "13812345678")},
        green_channel="disabled",
    ).json()["code"]
    inbox = api.get("/api/v1/application-tasks", as_="h_wjw").json()["items"]
    assert [t["application"] for t in inbox] == [green, plain]
    assert inbox[0]["green_channel"] is True
    listed = api.get("/api/v1/applications", as_="supervisor").json()["items"]
    assert listed[0]["code"] == green
    r = api.post(
        f"/api/v1/applications/{green}/accompany",
        as_="volunteer",
        json={"note": "陪同到市民中心综合窗口补签"},
    )
    assert r.status_code == 200
    kpis = api.get("/api/v1/assistance/kpis", as_="supervisor").json()
    assert kpis["assisted_applications"] == 1 and kpis["green_channel_applications"] == 1
    (helper,) = kpis["helpers"]
    assert (helper["role"], helper["proxy"], helper["accompany"]) == ("volunteer", 1, 1)
    assert kpis["groups"] == [
        {"group": "disabled", "label": "残疾人", "label_en": "Disabled", "applications": 1}
    ]
    assert api.get("/api/v1/assistance/kpis", as_="h_wjw").status_code == 403


def test_a_window_clerk_registers_a_walk_in_and_hands_the_results_over(installed: Any, api: Any) -> None:
    form = json.loads(json.dumps(NEWBORN["form"]))
    form["delivery"] = {"method": "window"}
    r = apply(api, as_="window", form=form)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    detail = api.get(f"/api/v1/applications/{code}", as_="window").json()
    assert detail["channel"] == "window" and detail["visits"] == 1
    assert {m["content_type"] for m in detail["materials"]} == {"application/pdf", "image/png"}
    # The window sees everything but decides nothing for a department.
    assert (
        api.post(f"/api/v1/applications/{code}/tasks/birth_certificate/accept", as_="window").status_code
        == 403
    )
    for task in ("birth_certificate", "vaccination", "hukou", "insurance_enrolment", "insurance_payment"):
        finish(api, code, task)
    (delivery,) = finish(api, code, "social_security_card")["deliveries"]
    assert delivery["method"] == "window" and delivery["tracking_no"] is None
    done = api.post(f"/api/v1/applications/{code}/deliveries/{delivery['id']}/hand-over", as_="window").json()
    assert done["deliveries"][0]["status"] == "handed_over" and done["visits"] == 2
    track = api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": "5678"}).json()
    assert any("窗口领取" in e["text"] for e in track["timeline"])
