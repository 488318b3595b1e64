"""Time configuration in the database: SLA rules per appeal type × urgency, official holiday schedules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow


class SlaRule(Base):
    """Time limits per appeal type × urgency; ``order_type`` "*" is the fallback for any type."""

    __tablename__ = "sla_rules"
    __table_args__ = (UniqueConstraint("order_type", "urgency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_type: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    sign_amount: Mapped[float] = mapped_column(Float)
    sign_unit: Mapped[str] = mapped_column(String(20))
    handle_amount: Mapped[float] = mapped_column(Float)
    handle_unit: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarSchedule(Base):
    """A year's official holiday schedule loaded by an admin; overrides the packaged calendar."""

    __tablename__ = "calendar_schedules"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[str] = mapped_column(Text)  # JSON (haoban.calendar.schedule.schedule_to_dict)
    source: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarScheduleRevision(Base):
    """A year's schedule as it was before an admin replaced or deleted it (append-only), to restore it."""

    __tablename__ = "calendar_schedule_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    change: Mapped[str] = mapped_column(String(10))  # replace / delete / restore
    data: Mapped[str] = mapped_column(Text)  # JSON of the schedule before the change
    source: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
