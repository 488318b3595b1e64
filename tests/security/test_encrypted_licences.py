"""Issue 10, personal data: a licence's holder ID number, its number (an ID card's is an ID number) and
its payload are ciphertext in the database; verification, look-ups by holder and the one-number-per-item
rule still work, and migration 0030 encrypts the licences already issued."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import func, select, text

from haoban.db import alembic_config
from haoban.licences import service
from haoban.licences.models import LicenceUse
from haoban.security.crypto import DataCipher
from tests.conftest import Api
from tests.security.test_encryption import _text_anywhere

HOLDER = "43040219900101123X"
NUMBER = "430402199001011234"
CARD = {
    "kind": "gaj-resident-id-card",
    "holder_id": HOLDER,
    "holder_name": "张晓明",
    "number": NUMBER,
    "payload": {"address": "衡阳市蒸湘区船山大道1号", "child_id_number": "430405202611280021"},
}
SECRETS = (HOLDER, NUMBER, "船山大道", "430405202611280021")


def _issue(api: Api) -> dict[str, Any]:
    r = api.post("/api/v1/licences", as_="h_gaj", json=CARD)
    assert r.status_code == 201, r.text
    return r.json()


def _raw(rt: Any, column: str) -> list[str]:
    with rt.db.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(f"SELECT {column} FROM licences ORDER BY id"))]


def _works(rt: Any, api: Api, client: Any, code: str) -> None:
    """Staff read the licence in clear, intact; the public sees the number masked; the holder is found."""
    staff = api.get(f"/api/v1/licences/{code}", as_="admin").json()
    assert (staff["holder_id"], staff["number"], staff["payload"]) == (HOLDER, NUMBER, CARD["payload"])
    assert staff["intact"] and staff["status"] == "valid"
    public = client.get(f"/api/v1/licences/verify/{code}").json()
    assert public["status"] == "valid" and public["number"] == "430***********1234"
    with rt.db.read() as s:
        assert list(service.held(s, holder_id=HOLDER.lower(), kinds=[CARD["kind"]])) == [CARD["kind"]]
        assert service.held(s, holder_id="430402199001011234", kinds=[CARD["kind"]]) == {}
    # One number per item, checked through the number's blind index.
    again = api.post("/api/v1/licences", as_="h_gaj", json={**CARD, "holder_id": "430402199001011234"})
    assert again.status_code == 409 and NUMBER in again.text


def test_licences_hold_ciphertext_and_are_found_by_blind_index(rt: Any, api: Api, client: Any) -> None:
    lic = _issue(api)
    for column in ("holder_id", "number", "payload"):
        assert all(v.startswith("enc1:") for v in _raw(rt, column)), column
    cipher = DataCipher(rt.settings.data_key)
    assert _raw(rt, "holder_index") == [cipher.blind_index(HOLDER)]
    assert _raw(rt, "number_index") == [cipher.blind_index(NUMBER)]
    for plain in SECRETS:  # in no column of any table, read raw
        assert _text_anywhere(rt, plain) == [], plain
    _works(rt, api, client, lic["code"])


def test_the_migration_encrypts_issued_licences_and_keeps_their_uses(rt: Any, api: Api, client: Any) -> None:
    lic = _issue(api)
    with rt.db.write() as s:
        assert service.record_use(s, licence_code=lic["code"], item_code="x", material="身份证", ref="APP1")
    config = alembic_config(rt.db.engine)
    command.downgrade(config, "0032_help_requests")
    assert (_raw(rt, "holder_id"), _raw(rt, "number")) == ([HOLDER], [NUMBER])
    assert "船山大道" in _raw(rt, "payload")[0]
    command.upgrade(config, "head")
    for plain in SECRETS:
        assert _text_anywhere(rt, plain) == [], plain
    with rt.db.read() as s:
        assert s.scalar(select(func.count()).select_from(LicenceUse)) == 1
    _works(rt, api, client, lic["code"])
