"""Federation tables: partners, agreements, the outbox of signed messages, the inbox (idempotency by
message id), the nonce store (replays), refusals (what was turned away and why) and cross-region cases
with their timeline (one timeline on both sides)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from haoban.db import Base, UTCDateTime, utcnow
from haoban.security.crypto import EncryptedText


class Partner(Base):
    """Another instance: its region code (行政区划代码), where it listens, and its public key."""

    __tablename__ = "federation_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    region: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    endpoint: Mapped[str] = mapped_column(String(300))
    public_key: Mapped[str] = mapped_column(String(64))  # base64 of the raw 32-byte Ed25519 key
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agreements: Mapped[list[Agreement]] = relationship(
        lazy="selectin", order_by="Agreement.id", back_populates="partner"
    )


class Agreement(Base):
    """What two regions agreed to handle for each other: items (catalogue item or bundle codes, or
    ``hotline`` for 12345 transfers), modes, and the days it is valid (``valid_to`` None: open-ended)."""

    __tablename__ = "federation_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("federation_partners.id"), index=True)
    items: Mapped[str] = mapped_column(Text)  # JSON list of codes
    modes: Mapped[str] = mapped_column(Text)  # JSON list of modes
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="agreements")


class OutboxEntry(Base):
    """A message to a partner, written in the business transaction; the delivery job sends it (signed
    afresh each attempt), in ``seq`` order per case, retrying with exponential back-off."""

    __tablename__ = "federation_outbox"
    __table_args__ = (
        UniqueConstraint("partner_id", "case_key", "seq"),
        Index("ix_federation_outbox_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("federation_partners.id"), index=True)
    case_key: Mapped[str] = mapped_column(String(80))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    item: Mapped[str] = mapped_column(String(80))
    mode: Mapped[str] = mapped_column(String(16))
    # JSON; encrypted at rest: a filed case carries the applicant's (and the form's) ID numbers.
    body: Mapped[str] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending / delivered / refused
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)  # JSON the partner answered with
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    partner: Mapped[Partner] = relationship(lazy="joined")


class InboxEntry(Base):
    """A message accepted from a partner: its id makes a retried delivery a no-op."""

    __tablename__ = "federation_inbox"
    __table_args__ = (Index("ix_federation_inbox_sender_case", "sender", "case_key", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    sender: Mapped[str] = mapped_column(String(12))
    case_key: Mapped[str] = mapped_column(String(80))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(EncryptedText)  # encrypted at rest, like the outbox's
    result: Mapped[str] = mapped_column(Text)  # JSON answered to the sender (again on a retry)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Nonce(Base):
    """A nonce seen from a sender (kept for the skew window): the same one again is a replay."""

    __tablename__ = "federation_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    sender: Mapped[str] = mapped_column(String(12))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Refusal(Base):
    """A message turned away, with the reason (unknown partner, bad signature, replay, expired,
    out of agreement, malformed, …)."""

    __tablename__ = "federation_refusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sender: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))


class CrossCase(Base):
    """A cross-region case as this side sees it: outgoing (we sent it) or incoming, with the local
    record (an order or an application code) and the partner's."""

    __tablename__ = "federation_cases"
    __table_args__ = (UniqueConstraint("case_key", "partner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_key: Mapped[str] = mapped_column(String(80))
    partner_id: Mapped[int] = mapped_column(ForeignKey("federation_partners.id"), index=True)
    direction: Mapped[str] = mapped_column(String(4))  # out / in
    kind: Mapped[str] = mapped_column(String(16))  # transfer / proxy / online / joint
    mode: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200), default="")
    local_ref: Mapped[str | None] = mapped_column(String(40), index=True)
    remote_ref: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(24), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(lazy="joined")


class CrossCaseEvent(Base):
    """One entry of a cross-region case's timeline; ``side`` is the region where it happened."""

    __tablename__ = "federation_case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("federation_cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    side: Mapped[str] = mapped_column(String(12))
    what: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="{}")
