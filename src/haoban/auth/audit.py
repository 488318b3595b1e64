"""The login audit (登录日志) read back: filtered by account, result, address and day, newest first,
a page at a time. The API (``GET /api/v1/admin/login-events``) and the admin page read it here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.models import LoginEvent
from haoban.auth.rbac import require_role
from haoban.auth.roles import Role

# Who may read the audit (the page is narrower: administrators only).
AUDIT_ROLES = (Role.ADMIN, Role.AUDITOR)
# ``result``: every attempt, the successful or the failed ones, or one outcome.
OUTCOMES = ("ok", "wrong_password", "wrong_code", "second_factor", "locked", "disabled")
RESULTS = ("success", "failure", *OUTCOMES)


@dataclass(frozen=True)
class LoginFilter:
    username: str | None = None  # the name as typed (unknown names are attempts too)
    result: str | None = None  # one of RESULTS
    address: str | None = None  # an address, or its beginning ("10.0.")
    since: date | None = None  # the city's days, both ends included
    until: date | None = None


def _clauses(f: LoginFilter, tz: ZoneInfo) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.username:
        out.append(LoginEvent.username == f.username)
    if f.result == "success":
        out.append(LoginEvent.success.is_(True))
    elif f.result == "failure":
        out.append(LoginEvent.success.is_(False))
    elif f.result:
        out.append(LoginEvent.outcome == f.result)
    if f.address:
        out.append(LoginEvent.address.startswith(f.address, autoescape=True))
    if f.since:
        out.append(LoginEvent.at >= datetime.combine(f.since, time.min, tz).astimezone(UTC))
    if f.until:
        out.append(
            LoginEvent.at < datetime.combine(f.until + timedelta(days=1), time.min, tz).astimezone(UTC)
        )
    return out


def login_events(
    session: Session,
    *,
    actor: Actor,
    filters: LoginFilter,
    tz: ZoneInfo,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[LoginEvent], int]:
    """One page of attempts matching ``filters`` (newest first) and how many match in all."""
    require_role(actor, *AUDIT_ROLES)
    where = _clauses(filters, tz)
    total = session.scalar(select(func.count(LoginEvent.id)).where(*where)) or 0
    rows = session.scalars(
        select(LoginEvent)
        .where(*where)
        .order_by(LoginEvent.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), int(total)
