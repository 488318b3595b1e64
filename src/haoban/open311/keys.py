"""Open311 client apps and their ``api_key``: issued and revoked by an admin, checked on every call that
carries one, rate limited per key.

A key is shown once, when it is issued; the database keeps only its sha256 (256 random bits need no slow
hash) and its first characters, so an admin can tell keys apart in a list. A revoked key stays listed
(who revoked it, when) and is refused from then on.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES
from haoban.db import Database, utcnow
from haoban.errors import Conflict, Invalid, NotFound, RateLimited
from haoban.open311.errors import Open311Error
from haoban.open311.models import Open311Client
from haoban.ratelimit import check_rate

KEY_PREFIX = "o311_"
SHOWN_CHARS = 12  # "o311_" and 7 characters of the key: enough to tell keys apart, useless to guess one
DEFAULT_RATE = 60  # calls a minute
MAX_RATE = 10_000
BAD_KEY = "invalid api_key: ask the hotline's administrators for a key, or check that it was not revoked"


@dataclass(frozen=True)
class IssuedKey:
    client: dict[str, Any]
    api_key: str  # shown once


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def client_view(c: Open311Client) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "contact": c.contact,
        "key_prefix": c.key_prefix,
        "rate_per_minute": c.rate_per_minute,
        "created_at": c.created_at,
        "created_by": c.created_by,
        "revoked_at": c.revoked_at,
        "revoked_by": c.revoked_by,
        "active": c.revoked_at is None,
    }


def issue_key(
    session: Session,
    *,
    actor: Actor,
    name: str,
    contact: str | None = None,
    rate_per_minute: int = DEFAULT_RATE,
    now: datetime | None = None,
) -> IssuedKey:
    """Register a client app and issue its key (returned once, never stored in the clear)."""
    require_role(actor, *ADMIN_ROLES)
    name = name.strip()
    errors: dict[str, str] = {}
    if not name or len(name) > 100:
        errors["name"] = "give the client app's name (at most 100 characters)"
    if contact is not None and len(contact.strip()) > 200:
        errors["contact"] = "at most 200 characters"
    if not 1 <= rate_per_minute <= MAX_RATE:
        errors["rate_per_minute"] = f"between 1 and {MAX_RATE} calls a minute"
    if errors:
        raise Invalid("the key cannot be issued", fields=errors)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = Open311Client(
        name=name,
        contact=(contact or "").strip() or None,
        key_prefix=key[:SHOWN_CHARS],
        key_hash=_hash(key),
        rate_per_minute=rate_per_minute,
        created_at=now or utcnow(),
        created_by=actor.username,
    )
    session.add(client)
    session.flush()
    return IssuedKey(client=client_view(client), api_key=key)


def list_clients(session: Session, *, actor: Actor) -> list[dict[str, Any]]:
    require_role(actor, *READ_CONFIG_ROLES, *ADMIN_ROLES)
    return [client_view(c) for c in session.scalars(select(Open311Client).order_by(Open311Client.id))]


def find_client(session: Session, *, ref: str | int) -> Open311Client:
    """A client by its id or its key's shown prefix (what ``keys list`` prints)."""
    text = str(ref).strip()
    if text.isdigit():
        client = session.get(Open311Client, int(text))
    else:
        matches = list(session.scalars(select(Open311Client).where(Open311Client.key_prefix == text)))
        if len(matches) > 1:
            raise Conflict(f"several keys start with {text!r}: use the client's id")
        client = matches[0] if matches else None
    if client is None:
        raise NotFound(f"no Open311 client {text!r}")
    return client


def revoke_key(
    session: Session, *, actor: Actor, ref: str | int, now: datetime | None = None
) -> dict[str, Any]:
    """Revoke a client's key from now on. Revoking twice changes nothing (the first revocation stands)."""
    require_role(actor, *ADMIN_ROLES)
    client = find_client(session, ref=ref)
    if client.revoked_at is None:
        client.revoked_at = now or utcnow()
        client.revoked_by = actor.username
    return client_view(client)


def authenticate(session: Session, *, api_key: str) -> Open311Client:
    """The active client holding this key; otherwise the spec's 403."""
    key = api_key.strip()
    client = (
        session.scalars(select(Open311Client).where(Open311Client.key_hash == _hash(key))).first()
        if key
        else None
    )
    if client is None or client.revoked_at is not None:
        raise Open311Error(403, BAD_KEY)
    return client


def check_client(db: Database, *, api_key: str) -> Open311Client:
    """Authenticate a key and count the call against its own limit (429 past it)."""
    with db.read() as session:
        client = authenticate(session, api_key=api_key)
        session.expunge(client)
    try:
        check_rate(
            db,
            scope="open311-key",
            client=str(client.id),
            limit=client.rate_per_minute,
            message=f"too many calls with this api_key (at most {client.rate_per_minute} a minute);"
            " wait a minute",
        )
    except RateLimited as exc:
        raise Open311Error(429, exc.message) from None
    return client
