"""Staff accounts (人员账号). The role is one of ``haoban.auth.roles.STAFF_ROLES``.

A handler belongs to a department (``department_id``); authentication needs no more than its id, so
this package stands below the directory and never imports it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every token carries the version it was issued under; raising it (logout, a new password, a new
    # role, disabling) revokes every token issued before, in every process.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Base32 TOTP secret once the second factor is switched on (admin and supervisor accounts).
    totp_secret: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed logins of one account name or one client address, and until when it is locked out.

    In the database, so every server process counts together and a restart forgets nothing.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginEvent(Base):
    """The login audit (登录日志): who tried, when, from where, through which door, and the outcome."""

    __tablename__ = "login_events"
    __table_args__ = (Index("ix_login_events_at", "at"), Index("ix_login_events_username", "username"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    username: Mapped[str] = mapped_column(String(64))  # as typed (truncated): unknown names are attempts too
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(10))  # api / web
    success: Mapped[bool] = mapped_column(Boolean)
    # ok / wrong_password / wrong_code / locked / disabled / second_factor
    outcome: Mapped[str] = mapped_column(String(20))
