"""Open311 client apps with their ``api_key`` (stored hashed), and the service requests they filed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow


class Open311Client(Base):
    """A registered client app (a 311 app, a partner's tool). Its key is shown once, when issued; only
    its sha256 is kept (the key is 256 random bits, so a fast hash is enough) and its first characters,
    so an admin can tell keys apart."""

    __tablename__ = "open311_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(200))
    key_prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    rate_per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class Open311Request(Base):
    """An order filed through ``POST requests``: which client filed it, the token it was given, and what
    the spec lets a client send beyond the order's own fields (attributes, a media URL)."""

    __tablename__ = "open311_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("open311_clients.id"), index=True)
    attributes: Mapped[str | None] = mapped_column(Text)  # canonical JSON {code: value or [values]}
    media_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
