from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow


class CalendarSchedule(Base):
    """A year's official holiday schedule loaded by an admin; overrides the packaged calendar."""

    __tablename__ = "calendar_schedules"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[str] = mapped_column(Text)  # JSON (haoban.calendar.schedule.schedule_to_dict)
    source: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
