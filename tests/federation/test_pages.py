"""The federation pages: the admin registers a partner and an agreement through the forms (CSRF field
included), sees the outbox and refusals; the dashboard shows cross-region cases per partner and mode."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.federation import flows, messages, service
from haoban.security import csrf

KEY = messages.public_b64(Ed25519PrivateKey.generate())


def _login(client: Any, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": "demo"}, follow_redirects=False)
    assert r.status_code == 303


def test_admin_registers_a_partner_and_an_agreement_through_the_forms(client: Any, rt: Any) -> None:
    _login(client, "admin")
    page = client.get("/admin/federation")
    assert page.status_code == 200 and f'name="{csrf.FIELD}"' in page.text
    assert "430400" in page.text
    bad = client.post(
        "/admin/federation/partners",
        data={"region": "451300", "name": "来宾市", "endpoint": "http://laibin.example", "public_key": "xx"},
    )
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    r = client.post(
        "/admin/federation/partners",
        data={"region": "451300", "name": "来宾市", "endpoint": "http://laibin.example", "public_key": KEY},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        "/admin/federation/agreements",
        data={
            "partner": "451300",
            "items": "newborn，hotline",
            "mode_proxy": "on",
            "mode_transfer": "on",
            "valid_from": "2024-01-01",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/admin/federation")
    assert "来宾市" in page.text and "hotline、newborn" in page.text and "异地代收代办" in page.text
    en = client.get("/admin/federation?lang=en")
    assert en.status_code == 200
    _login(client, "supervisor")
    assert client.get("/admin/federation").status_code == 200  # read only
    refused = client.post(
        "/admin/federation/partners",
        data={"region": "450300", "name": "桂林市", "endpoint": "http://guilin.example", "public_key": KEY},
    )
    assert refused.status_code == 403


def test_the_dashboard_shows_cases_per_partner_and_mode(client: Any, rt: Any, tmp_path: Any) -> None:
    rt.settings.federation_key_file = tmp_path / "k"
    messages.generate_key(rt.settings.federation_key_file)
    with rt.db.write() as session:
        service.save_partner(
            session,
            actor=SYSTEM_ACTOR,
            region="451300",
            name="来宾市",
            endpoint="http://127.0.0.1:9",
            public_key=KEY,
            own_region="430400",
        )
        from datetime import date

        service.add_agreement(
            session,
            actor=SYSTEM_ACTOR,
            partner="451300",
            items=["note"],
            modes=["proxy"],
            valid_from=date(2024, 1, 1),
        )
        flows.send_note(
            session,
            rt,
            partner_region="451300",
            case="HY-P1",
            item="note",
            mode="proxy",
            text="你好",
            author="op",
        )
    _login(client, "supervisor")
    page = client.get("/federation")
    assert page.status_code == 200
    assert 'data-partner="451300" data-mode="proxy"' in page.text and "HY-P1" in page.text
    case = client.get("/federation/cases/HY-P1")
    assert case.status_code == 200 and "note" in case.text
    assert client.get("/federation/cases/NOPE").status_code == 404
    _login(client, "h_cgj")
    assert client.get("/federation").status_code == 403


def test_the_window_sends_a_file_from_its_page(client: Any, rt: Any, tmp_path: Any) -> None:
    import json as _json
    from datetime import date

    from sqlalchemy import select

    from haoban.federation.models import OutboxEntry

    rt.settings.federation_key_file = tmp_path / "k"
    messages.generate_key(rt.settings.federation_key_file)
    with rt.db.write() as session:
        service.save_partner(
            session,
            actor=SYSTEM_ACTOR,
            region="451300",
            name="来宾市",
            endpoint="http://127.0.0.1:9",
            public_key=KEY,
            own_region="430400",
        )
        service.add_agreement(
            session,
            actor=SYSTEM_ACTOR,
            partner="451300",
            items=["newborn"],
            modes=["proxy"],
            valid_from=date(2024, 1, 1),
        )
    _login(client, "window")
    assert client.get("/federation").status_code == 200
    page = client.get("/federation/send")
    assert page.status_code == 200 and f'name="{csrf.FIELD}"' in page.text and "来宾市" in page.text
    fields = {
        "partner": "451300",
        "mode": "proxy",
        "bundle": "newborn",
        "name": "王强",
        "phone": "13912345678",
        "form": _json.dumps({"baby": {"name": "王小禾"}}, ensure_ascii=False),
        "key_0": "parents_id_cards",
    }
    files = {"file_0": ("身份证.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}
    unchecked = client.post("/federation/send", data=fields, files=files)
    assert unchecked.status_code == 422 and 'aria-invalid="true"' in unchecked.text
    bad_json = client.post(
        "/federation/send", data={**fields, "form": "{", "identity_checked": "on"}, files=files
    )
    assert bad_json.status_code == 422
    r = client.post(
        "/federation/send", data={**fields, "identity_checked": "on"}, files=files, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/federation/cases/430400-proxy-")
    shown = client.get(r.headers["location"])
    assert shown.status_code == 200 and 'id="sent"' in shown.text and "received" in shown.text
    with rt.db.read() as session:
        [sent] = session.scalars(select(OutboxEntry)).all()
        body = _json.loads(sent.body)
    assert (sent.kind, sent.item, sent.mode) == ("app.file", "newborn", "proxy")
    assert list(body["materials"]) == ["parents_id_cards"] and body["applicant"]["name"] == "王强"
