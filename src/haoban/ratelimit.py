"""Rate limits shared by every process: per-minute counters in the database.

Citizens' look-ups and filings are limited per client address. The counters live in the ``rate_limits``
table, so any number of server processes on any number of machines count together (nothing shared
lives in one process's memory). A sliding-window estimate over the current and the previous minute
(the previous minute's count weighted by how much of it still lies inside the last 60 seconds) keeps a
client from doubling its allowance at a minute boundary.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, delete, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from haoban.db import Base, Database, utcnow
from haoban.errors import RateLimited

WINDOW_SECONDS = 60


class RateCounter(Base):
    """Requests of one key (scope and client address) in one minute since the epoch."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer)


_HIT = text(
    "INSERT INTO rate_limits (key, minute, hits) VALUES (:key, :minute, 1) "
    "ON CONFLICT (key, minute) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits"
)


def hit(session: Session, *, key: str, now: datetime) -> float:
    """Count one request for ``key``; return the requests in the last minute (sliding estimate)."""
    seconds = now.timestamp()
    minute = int(seconds // WINDOW_SECONDS)
    current = session.execute(_HIT, {"key": key, "minute": minute}).scalar_one()
    previous = session.scalar(
        select(RateCounter.hits).where(RateCounter.key == key, RateCounter.minute == minute - 1)
    )
    elapsed = (seconds % WINDOW_SECONDS) / WINDOW_SECONDS
    return current + (previous or 0) * (1.0 - elapsed)


def check_rate(
    db: Database,
    *,
    scope: str,
    client: str,
    limit: int,
    now: datetime | None = None,
    message: str | None = None,
) -> None:
    """Count a request of ``client`` against ``scope``; 429 when it exceeds ``limit`` per minute.

    Committed at once in its own short transaction, so refused requests count too.
    """
    with db.write() as session:
        count = hit(session, key=f"{scope}:{client}"[:200], now=now or utcnow())
    if count > limit:
        raise RateLimited(message or "too many requests from your address; wait a minute and try again")


def forget_old(session: Session, *, now: datetime | None = None) -> int:
    """Drop counters older than the previous minute (the worker calls this); returns rows removed."""
    minute = int((now or utcnow()).timestamp() // WINDOW_SECONDS)
    result = session.execute(delete(RateCounter).where(RateCounter.minute < minute - 1))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
