"""The data key's id the database's personal identifiers were encrypted under (one row)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime


class DataKeyCheck(Base):
    __tablename__ = "data_key_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
