"""Login throttling with lockout and back-off, stored in the database (``login_throttles``).

Two counters per attempt: the account name (as typed, so unknown names are throttled the same way and
reveal nothing) and the client address. After ``ACCOUNT_LIMIT`` failures in a row an account name is
locked for ``BASE_LOCK``, doubling with each further failure up to ``MAX_LOCK``; an address gets more
room (``ADDRESS_LIMIT``, one office behind one address) before the same back-off. A success clears the
account's counter; failures older than ``FORGET_AFTER`` are forgotten. The API and the login page share
these counters, and so do all server processes: nothing lives in one process's memory.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from haoban.auth.models import LoginThrottle

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 30
BASE_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)


def account_key(username: str) -> str:
    return "user:" + username.strip().lower()[:190]


def address_key(address: str) -> str:
    return "addr:" + address[:190]


def locked_until(session: Session, *, keys: list[str], now: datetime) -> datetime | None:
    """The latest lockout among ``keys`` still in force at ``now``, or None."""
    rows = session.scalars(select(LoginThrottle.locked_until).where(LoginThrottle.key.in_(keys)))
    active = [t for t in rows if t is not None and t > now]
    return max(active) if active else None


def record_failure(session: Session, *, key: str, limit: int, now: datetime) -> LoginThrottle:
    """Count one failure of ``key``; lock it when it reaches ``limit`` (call inside a write)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(key=key, failures=0, last_failure_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.scalars(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()).one()
    if row.last_failure_at < now - FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= limit:
        lock = min(BASE_LOCK * 2 ** (row.failures - limit), MAX_LOCK)
        row.locked_until = now + lock
    session.flush()
    return row


def clear(session: Session, *, key: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def forget_old(session: Session, *, now: datetime) -> int:
    """Drop counters with no recent failure and no lockout in force (the worker may call this)."""
    result = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - FORGET_AFTER,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < now),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
