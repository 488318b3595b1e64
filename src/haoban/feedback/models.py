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


# --- 好差评 for services: applications (办件) and window visits -------------------------------------------


class ServiceVisit(Base):
    """A visit to a window (窗口办事) that a clerk registered so that the person can rate it (好差评).

    The person rates with the visit's code (on the slip or the QR code the clerk hands out) and the last
    four digits of the phone they gave, as applicants do with an application's code.
    """

    __tablename__ = "service_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    item_code: Mapped[str] = mapped_column(String(80))
    item_name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # window / assisted (帮代办)
    clerk_id: Mapped[int | None] = mapped_column(Integer)
    clerk_name: Mapped[str] = mapped_column(String(100))
    person_phone: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ServiceRating(Base):
    """A rating (好差评) of a finished application or a window visit: one per application or visit.

    Who and what it rates (item, department, window clerk, channel) is copied from the application or
    the visit when it is given, so the figures per department / item / clerk / channel are one query.
    """

    __tablename__ = "service_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(12))  # application / visit
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"), unique=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("service_visits.id"), unique=True)
    level: Mapped[str] = mapped_column(String(24))
    score: Mapped[int] = mapped_column(Integer)  # 5 非常满意 … 1 非常不满意
    aspects: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of aspect keys (服务态度 …)
    comment: Mapped[str | None] = mapped_column(Text)
    item_code: Mapped[str] = mapped_column(String(80))
    item_name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # online / window / assisted
    clerk_id: Mapped[int | None] = mapped_column(Integer)
    clerk_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ServiceRectification(Base):
    """The rectification (整改) a 差评 of a service opens: the department answers, a supervisor reviews.

    open → answered (the department says what it did) → closed (accepted) or back to open (rejected);
    the sweep escalates one still open past its deadline, and again every rectification period after.
    """

    __tablename__ = "service_rectifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("service_ratings.id"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)  # open / answered / closed
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    escalate_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the sweep's next look
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(100))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
