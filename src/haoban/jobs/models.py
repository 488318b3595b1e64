"""What the job runners keep besides the queue itself: every failed run with its error."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow


class JobFailure(Base):
    """One failed run of a job. ``final`` marks the run after which no retry follows (the job failed);
    ``job_id`` is procrastinate's job id on PostgreSQL (None for in-process runs)."""

    __tablename__ = "job_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    runner: Mapped[str] = mapped_column(String(16))
    task: Mapped[str] = mapped_column(String(128), index=True)
    job_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str] = mapped_column(Text)
