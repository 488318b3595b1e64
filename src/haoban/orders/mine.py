""" "My appeals": a citizen lists every appeal filed with their phone, after proving the phone with a
one-time code sent to it by SMS (through the outbox).

The answer never tells whether a phone has appeals: a code is sent only when it has, and the page
reads the same either way. Codes live ten minutes, are used once, allow five tries, and a phone gets
at most three an hour (the client address is limited separately, by the page). Only keyed hashes of
the phone and the code are stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.db import utcnow
from haoban.errors import Invalid
from haoban.notifications.service import enqueue
from haoban.orders.citizen import normalise_phone, phone_last4
from haoban.orders.models import CitizenCode, Order
from haoban.orders.presenters import status_label

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
CODES_PER_HOUR = 3
SESSION_TTL = timedelta(minutes=30)


def _key(secret: str, *parts: str) -> str:
    return hmac.new(secret.encode(), "|".join(("mine", *parts)).encode(), hashlib.sha256).hexdigest()


def phone_of(raw: str) -> str:
    """The phone in canonical form, or ``Invalid`` naming the field."""
    try:
        return normalise_phone(raw or "")
    except ValueError as exc:
        raise Invalid("not a valid phone number", fields={"phone": str(exc)}) from None


def request_code(session: Session, *, secret: str, phone: str, now: datetime | None = None) -> None:
    """Text a code to ``phone`` if it filed appeals (and has not had three codes this hour)."""
    now = now or utcnow()
    ph = _key(secret, phone)
    has = session.scalar(select(Order.id).where(Order.citizen_phone == phone).limit(1))
    recent = session.scalar(
        select(func.count())
        .select_from(CitizenCode)
        .where(CitizenCode.phone_hash == ph, CitizenCode.created_at > now - timedelta(hours=1))
    )
    if has is None or (recent or 0) >= CODES_PER_HOUR:
        return
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(
        CitizenCode(
            phone_hash=ph,
            code_hash=_key(secret, phone, code),
            created_at=now,
            expires_at=now + CODE_TTL,
            attempts=0,
        )
    )
    enqueue(
        session,
        channel="sms",
        recipient=phone,
        subject="12345",
        body=f"【12345】您查询“我的诉求”的验证码是 {code}，10 分钟内有效。如非本人操作请忽略。",
    )


def verify(session: Session, *, secret: str, phone: str, code: str, now: datetime | None = None) -> bool:
    """Whether ``code`` is the phone's live code; a right code is spent, every try counts."""
    now = now or utcnow()
    row = session.scalar(
        select(CitizenCode)
        .where(
            CitizenCode.phone_hash == _key(secret, phone),
            CitizenCode.used_at.is_(None),
            CitizenCode.expires_at > now,
        )
        .order_by(CitizenCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None or row.attempts >= MAX_TRIES:
        return False
    row.attempts += 1
    if not hmac.compare_digest(row.code_hash, _key(secret, phone, code.strip())):
        return False
    row.used_at = now
    return True


def appeals_of(session: Session, *, phone: str, limit: int = 50) -> list[dict[str, Any]]:
    """The phone's appeals, newest first: what the tracking page's list needs (no one else's data)."""
    rows = session.scalars(
        select(Order).where(Order.citizen_phone == phone).order_by(Order.received_at.desc()).limit(limit)
    ).unique()
    return [
        {
            "code": o.code,
            "subject": o.subject,
            "status": o.status,
            "status_label": status_label(o.status),
            "status_label_en": status_label(o.status, "en"),
            "received_at": o.received_at,
            "last4": phone_last4(o.citizen_phone) or "",
        }
        for o in rows
    ]


def session_value(secret: str, *, phone: str, now: datetime | None = None) -> str:
    """The signed cookie value that keeps a verified phone for half an hour."""
    expires = int(((now or utcnow()) + SESSION_TTL).timestamp())
    return f"{phone}|{expires}|{_key(secret, 'session', phone, str(expires))}"


def session_phone(secret: str, value: str | None, *, now: datetime | None = None) -> str | None:
    """The phone a cookie value vouches for, or None when forged or expired."""
    try:
        phone, expires, mac = (value or "").split("|")
        expiry = int(expires)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _key(secret, "session", phone, expires)):
        return None
    return phone if expiry > (now or utcnow()).timestamp() else None
