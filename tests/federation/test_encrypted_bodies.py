"""Issue 10, personal data: a filed cross-region case carries the applicant's phone and ID number and
the form's ID numbers; the signed messages kept on both sides (outbox, inbox) are ciphertext at rest and
are still delivered and read back in clear."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from haoban.applications import registry
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.federation.models import CrossCase, InboxEntry, OutboxEntry
from tests.federation.conftest import Instance
from tests.federation.test_crossregion import FATHER, NEWBORN, _file
from tests.security.test_encryption import _text_anywhere

SECRETS = (FATHER["id_number"], FATHER["phone"], NEWBORN["form"]["mother"]["id_number"])


def _raw_bodies(inst: Instance, table: str) -> list[str]:
    with inst.rt.db.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(f"SELECT body FROM {table}"))]


def test_federation_messages_are_encrypted_at_rest(cities: tuple[Instance, Instance]) -> None:
    hengyang, laibin = cities
    with hengyang.rt.db.write() as session:
        registry.install_shipped(session, hengyang.rt, actor=SYSTEM_ACTOR)
    r = laibin.call("POST", "/api/v1/federation/files", as_="window", json=_file())
    assert r.status_code == 202, r.text
    laibin.deliver()
    sent, received = _raw_bodies(laibin, "federation_outbox"), _raw_bodies(hengyang, "federation_inbox")
    assert sent and received
    assert all(b.startswith("enc1:") for b in sent + received)
    for inst in (laibin, hengyang):
        for secret in SECRETS:
            assert [t for t in _text_anywhere(inst.rt, secret) if t.startswith("federation_")] == [], secret
    # Read back through the models, in clear: the file arrived whole.
    with laibin.rt.db.read() as s:
        assert FATHER["id_number"] in s.scalar(select(OutboxEntry.body).order_by(OutboxEntry.id))
        assert s.scalar(select(CrossCase.remote_ref)) is not None
    with hengyang.rt.db.read() as s:
        body: Any = s.scalar(select(InboxEntry.body).order_by(InboxEntry.id))
        assert FATHER["id_number"] in body
