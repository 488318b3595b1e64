"""Tourism tables: places (spots, venues, hotels, restaurants, products)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from haoban.db import Base, UTCDateTime, utcnow
from haoban.directory.models import District


class Place(Base):
    """A place a visitor may go: a scenic spot, a culture venue, a hotel, a restaurant or a product."""

    __tablename__ = "tourism_places"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # stable key for imports and URLs
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(150))
    kind: Mapped[str] = mapped_column(String(16), index=True)  # tourism.vocabulary.PlaceKind
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Opening hours as JSON: {"workday": "08:00-17:30", "restday": "07:30-18:00", "closed": ["mon"]};
    # rest days (weekends, statutory holidays) come from the city's calendar, 调休 included.
    hours: Mapped[str] = mapped_column(Text, default="{}")
    price_fen: Mapped[int | None] = mapped_column(Integer)  # adult ticket or typical price; None = free
    capacity: Mapped[int | None] = mapped_column(Integer)  # visitors per day (限流); None = no cap
    accessibility: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of paths or URLs
    guide: Mapped[str | None] = mapped_column(Text)  # the spoken guide's text (zh)
    guide_en: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of words for search
    phone: Mapped[str | None] = mapped_column(String(32))
    # Demo facts are the project's own words about real places, not official information.
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[District | None] = relationship(lazy="joined")
