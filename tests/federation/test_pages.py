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
