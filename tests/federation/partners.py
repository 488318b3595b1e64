"""A partner city for tests outside the federation package: registered with an agreement over 12345
transfers, this instance given a key; its endpoint answers nothing (messages wait in the outbox)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.federation import messages, service

PARTNER = "451300"


def seed_partner(rt: Any, key_dir: Path, *, region: str = PARTNER) -> None:
    key_file = key_dir / "federation.key"
    if not key_file.exists():
        messages.generate_key(key_file)
    rt.settings.federation_key_file = key_file
    with rt.db.write() as session:
        service.save_partner(
            session,
            actor=SYSTEM_ACTOR,
            region=region,
            name="来宾市",
            endpoint="http://127.0.0.1:9",
            public_key=messages.public_b64(Ed25519PrivateKey.generate()),
            own_region=rt.settings.federation_region,
        )
        service.add_agreement(
            session,
            actor=SYSTEM_ACTOR,
            partner=region,
            items=[service.HOTLINE_ITEM],
            modes=["transfer"],
            valid_from=date(2020, 1, 1),
        )
