"""Feedback tables: reply-quality scores, citizens' ratings (好差评) and rectifications (差评整改)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow


class ReplyScore(Base):
    """The quality score of one department reply: the order and the case-file event that carried it."""

    __tablename__ = "reply_scores"
    __table_args__ = (UniqueConstraint("order_id", "event_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed through the unique (order_id, event_seq) constraint.
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    event_seq: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    relevance: Mapped[float] = mapped_column(Float)
    completeness: Mapped[float] = mapped_column(Float)
    timeliness: Mapped[float | None] = mapped_column(Float)
    tone: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of "key: 说明" strings
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Rating(Base):
    """A citizen's rating of a finished order (好差评): one per order."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    level: Mapped[str] = mapped_column(String(24))
    score: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Rectification(Base):
    """A rectification task (整改) opened by a bad rating (差评), due N working days later."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id", ondelete="CASCADE"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)  # open / closed
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
