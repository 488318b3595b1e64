"""全程网办: a resident applies online here for an item of a partner region; the file goes out with
mode ``online`` (no window checked an ID card, so the agreement must cover the online mode)."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.federation import messages, service
from haoban.federation.models import OutboxEntry

PDF = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "partner": "451300",
        "mode": "online",
        "bundle": "newborn",
        "form": {"baby": {"name": "王小禾"}},
        "applicant": {"name": "王强", "phone": "13912345678"},
        "materials": {"parents_id_cards": {"filename": "身份证.pdf", "data": PDF}},
        **extra,
    }


def test_a_resident_applies_online_for_a_partner_regions_item(client: Any, rt: Any, tmp_path: Any) -> None:
    rt.settings.federation_key_file = tmp_path / "k"
    messages.generate_key(rt.settings.federation_key_file)
    with rt.db.write() as session:
        service.save_partner(
            session,
            actor=SYSTEM_ACTOR,
            region="451300",
            name="来宾市",
            endpoint="http://127.0.0.1:9",
            public_key=messages.public_b64(Ed25519PrivateKey.generate()),
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
    # The agreement covers receiving at a window, not 全程网办.
    refused = client.post("/api/v1/federation/online", json=_body())
    assert refused.status_code == 422 and "agreement" in refused.json()["message"]
    assert client.post("/api/v1/federation/online", json=_body(mode="proxy")).status_code == 422
    with rt.db.write() as session:
        service.add_agreement(
            session,
            actor=SYSTEM_ACTOR,
            partner="451300",
            items=["newborn"],
            modes=["online"],
            valid_from=date(2024, 1, 1),
        )
    bad = client.post(
        "/api/v1/federation/online", json=_body(materials={"x": {"filename": "a.pdf", "data": "%%%"}})
    )
    assert bad.status_code == 422 and "materials.x" in bad.json()["fields"]
    r = client.post("/api/v1/federation/online", json=_body())
    assert r.status_code == 202, r.text
    key = r.json()["case_key"]
    with rt.db.read() as session:
        [sent] = session.scalars(select(OutboxEntry)).all()
    assert (sent.kind, sent.mode, sent.case_key) == ("app.file", "online", key)
    tracked = client.get(f"/api/v1/federation/track/{key}", params={"phone_last4": "5678"})
    assert tracked.status_code == 200 and tracked.json()["steps"][0]["what"] == "received"
