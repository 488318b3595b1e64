"""Tables of the hotspot domain: support votes imported with historic messages (点赞数 / 反对数)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow


class OrderVote(Base):
    """Support for an order from a message board: up and down votes, and who wrote the message.

    Kept beside the order (keyed by its id) rather than on it: only imported board messages have votes.
    ``writer`` is the source system's user id; distinct writers measure a hotspot's spread.
    """

    __tablename__ = "order_votes"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    votes_up: Mapped[int] = mapped_column(Integer, default=0)
    votes_down: Mapped[int] = mapped_column(Integer, default=0)
    writer: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
