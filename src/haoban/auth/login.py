"""Logging in, the one way for the API and the login page: throttled, audited, optionally two-factor.

1. Refuse at once (429, before any password hashing) while the account name or the address is locked.
2. Check the password (and the TOTP code when the account has a second factor).
3. Count a failure against both the name and the address, or clear the name's counter on success;
   write the login audit row either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth import throttle
from haoban.auth.models import LoginEvent, User
from haoban.auth.service import authenticate, issue_token
from haoban.db import Database, utcnow
from haoban.errors import RateLimited, Unauthorized


@dataclass(frozen=True)
class LoggedIn:
    user_id: int
    username: str
    role: str
    department_id: int | None
    token: str


class SecondFactorNeeded(Unauthorized):
    """The password was right; the account also needs its 6-digit TOTP code."""


def _event(
    session: Session,
    *,
    username: str,
    user_id: int | None,
    address: str,
    via: str,
    outcome: str,
    now: datetime,
) -> None:
    session.add(
        LoginEvent(
            at=now,
            username=username[:64],
            user_id=user_id,
            address=address[:64],
            via=via,
            success=outcome == "ok",
            outcome=outcome,
        )
    )


def log_in(
    db: Database,
    *,
    username: str,
    password: str,
    address: str,
    via: str,
    secret: str,
    minutes: int,
    otp: str | None = None,
    now: datetime | None = None,
) -> LoggedIn:
    now = now or utcnow()
    account, addr = throttle.account_key(username), throttle.address_key(address)
    with db.write() as session:
        locked = throttle.locked_until(session, keys=[account, addr], now=now)
        if locked is not None:
            _event(
                session, username=username, user_id=None, address=address, via=via, outcome="locked", now=now
            )
    if locked is not None:
        wait = max(1, math.ceil((locked - now).total_seconds()))
        raise RateLimited(f"too many failed logins; try again in {wait} seconds", retry_after=wait)

    outcome, user_id, error = "ok", None, None
    with db.read() as session:
        try:
            user = authenticate(session, username=username, password=password)
            user_id = user.id
            if user.totp_secret:
                if not otp:
                    outcome = "second_factor"
                    error = SecondFactorNeeded(
                        "enter the 6-digit code from your authenticator app", second_factor="totp"
                    )
                elif not pyotp.TOTP(user.totp_secret).verify(otp.strip(), valid_window=1):
                    outcome = "wrong_code"
                    error = Unauthorized("wrong or expired one-time code", second_factor="totp")
            if error is None:
                done = LoggedIn(
                    user_id=user.id,
                    username=user.username,
                    role=user.role,
                    department_id=user.department_id,
                    token=issue_token(user, secret=secret, minutes=minutes),
                )
        except Unauthorized as exc:
            error = exc
            outcome = "disabled" if "disabled" in exc.message else "wrong_password"
            if user_id is None:
                user_id = session.scalar(select(User.id).where(User.username == username))

    with db.write() as session:
        if outcome in ("wrong_password", "wrong_code", "disabled"):
            throttle.record_failure(session, key=account, limit=throttle.ACCOUNT_LIMIT, now=now)
            throttle.record_failure(session, key=addr, limit=throttle.ADDRESS_LIMIT, now=now)
        elif outcome == "ok":
            throttle.clear(session, key=account)
        _event(
            session, username=username, user_id=user_id, address=address, via=via, outcome=outcome, now=now
        )
    if error is not None:
        raise error
    return done
