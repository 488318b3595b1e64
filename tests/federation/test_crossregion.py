"""跨省通办 on two live instances: a father working in 来宾 (Laibin) registers his newborn son's 户口 in
衡山县 (Hengyang) without travelling. 来宾's window checks his identity and materials and sends the file;
衡阳 creates the newborn application, its departments decide (户口登记 among them), its window posts the
results; every step comes back to 来宾's window and the father, one timeline on both sides."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select

from haoban.applications import registry
from haoban.applications.models import Application, ApplicationDelivery
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.bundles.definitions import shipped_example
from haoban.federation import service
from haoban.federation.models import CrossCase
from haoban.notifications.models import OutboxMessage
from tests.federation.conftest import Instance

NEWBORN = shipped_example("newborn")
HANDLER = {
    "birth_certificate": "h_wjw",
    "vaccination": "h_wjw",
    "hukou": "h_gaj",
    "social_security_card": "h_rsj",
    "insurance_enrolment": "h_ybj",
    "insurance_payment": "h_tax",
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
FATHER = {"name": "王强", "phone": "13912345678", "id_number": "430407198805052012"}


def _file(**extra: Any) -> dict[str, Any]:
    form = {
        **NEWBORN["form"],
        "household": {**NEWBORN["form"]["household"], "address": "衡阳市衡山县开云镇 12 号"},
        "delivery": {"method": "post", "recipient": "王强", "address": "广西来宾市兴宾区城东路 1 号"},
    }
    return {
        "partner": "430400",
        "mode": "proxy",
        "bundle": "newborn",
        "form": form,
        "applicant": FATHER,
        "identity_checked": True,
        "materials": {
            "parents_id_cards": {"filename": "身份证.pdf", "data": base64.b64encode(PDF).decode()},
            "household_register": {"filename": "户口簿.pdf", "data": base64.b64encode(PDF + b"hh").decode()},
            "marriage_certificate": {"filename": "结婚证.png", "data": base64.b64encode(PNG).decode()},
        },
        **extra,
    }


def _timeline(inst: Instance, key: str) -> list[tuple[str, str]]:
    with inst.rt.db.read() as session:
        case = session.scalar(select(CrossCase).where(CrossCase.case_key == key))
        assert case is not None
        return [(e["side"], e["what"]) for e in service.timeline(session, case)]


def test_laibin_window_sends_a_newborn_hukou_file_to_hengyang_and_the_result_comes_back(
    cities: tuple[Instance, Instance],
) -> None:
    hengyang, laibin = cities
    with hengyang.rt.db.write() as session:
        registry.install_shipped(session, hengyang.rt, actor=SYSTEM_ACTOR)
    # The window must check the ID card first; a bundle outside the agreement is refused.
    r = laibin.call("POST", "/api/v1/federation/files", as_="window", json=_file(identity_checked=False))
    assert r.status_code == 422 and "identity_checked" in r.json()["fields"]
    r = laibin.call("POST", "/api/v1/federation/files", as_="window", json=_file(bundle="business_startup"))
    assert r.status_code == 422 and "agreement" in r.json()["message"]
    r = laibin.call("POST", "/api/v1/federation/files", as_="window", json=_file())
    assert r.status_code == 202, r.text
    key = r.json()["case_key"]
    laibin.deliver()
    with laibin.rt.db.read() as session:
        code = session.scalar(select(CrossCase.remote_ref).where(CrossCase.case_key == key))
    assert code and code.startswith("BJ")
    with hengyang.rt.db.read() as session:
        app = session.scalar(select(Application).where(Application.code == code))
        assert (app.bundle_code, app.channel, app.applicant_name) == ("newborn", "window", "王强")
        # Registered for a partner: its steps look the partner's case up and go back (below).
        assert service.may_answer_partner(app.submitted_by_id, app.submitted_by_name)
    # 衡阳's departments decide; 户口登记 (hukou) at the public security bureau among them.
    detail = hengyang.call("GET", f"/api/v1/applications/{code}", as_="supervisor").json()
    for _ in range(6):
        open_tasks = [t["task_id"] for t in detail["tasks"] if t["status"] == "pending"]
        if not open_tasks:
            break
        for task in open_tasks:
            for action, body in (("accept", {}), ("approve", {"result": NEWBORN["results"][task]})):
                r = hengyang.call(
                    "POST", f"/api/v1/applications/{code}/tasks/{task}/{action}", as_=HANDLER[task], json=body
                )
                assert r.status_code == 200, r.text
        detail = hengyang.call("GET", f"/api/v1/applications/{code}", as_="supervisor").json()
    assert detail["status"] == "completed"
    with hengyang.rt.db.write() as session:
        delivery = session.scalar(
            select(ApplicationDelivery).where(ApplicationDelivery.application_id == app.id)
        )
        assert delivery is not None and delivery.method == "post"
        delivery_id, tracking = delivery.id, delivery.tracking_no
    r = hengyang.call("POST", f"/api/v1/applications/{code}/deliveries/{delivery_id}/hand-over", as_="window")
    assert r.status_code == 200, r.text
    hengyang.deliver()
    # One timeline on both sides, from the window's receipt to the posted results.
    here, there = _timeline(laibin, key), _timeline(hengyang, key)
    assert here == there
    assert here[:2] == [("451300", "received"), ("430400", "accepted")]
    whats = [w for _s, w in here]
    assert "approve" in whats and whats[-1] == "delivery_posted"
    with laibin.rt.db.read() as session:
        case = session.scalar(select(CrossCase).where(CrossCase.case_key == key))
        assert case.state == "done"
        texts = list(
            session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == FATHER["phone"]))
        )
    assert any(code in t for t in texts) and any(tracking in t for t in texts)
    # The father follows it with the case key and the last four digits of his phone.
    tracked = laibin.call("GET", f"/api/v1/federation/track/{key}", params={"phone_last4": "5678"})
    assert tracked.status_code == 200 and tracked.json()["steps"][-1]["what"] == "delivery_posted"
    assert "王强" not in tracked.text and FATHER["id_number"] not in tracked.text
    wrong = laibin.call("GET", f"/api/v1/federation/track/{key}", params={"phone_last4": "0000"})
    assert wrong.status_code == 404
    # Per partner and mode on both dashboards.
    mine = laibin.call("GET", "/api/v1/federation/dashboard", as_="supervisor").json()
    assert {"partner": "430400", "mode": "proxy", "outgoing": 1, "done": 1}.items() <= mine[0].items()
    theirs = hengyang.call("GET", "/api/v1/federation/dashboard", as_="supervisor").json()
    assert {"partner": "451300", "mode": "proxy", "incoming": 1, "done": 1}.items() <= theirs[0].items()
    assert laibin.deliver()["delivered"] == 0 and hengyang.deliver()["delivered"] == 0
