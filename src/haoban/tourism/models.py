"""Tourism tables: places; timed tickets (plans, slots, orders, real-name tickets, payments)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from haoban.db import Base, UTCDateTime, utcnow
from haoban.directory.models import District
from haoban.security.crypto import BLIND_INDEX_LENGTH, EncryptedString


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


class TicketPlan(Base):
    """How a place sells timed tickets (限流预约): the day's slots, price, refund rule, booking window."""

    __tablename__ = "tourism_ticket_plans"

    place_id: Mapped[int] = mapped_column(ForeignKey("tourism_places.id"), primary_key=True)
    # JSON list of {"start": "08:00", "end": "10:00", "capacity": 500}; capacities sum to the daily cap.
    slots: Mapped[str] = mapped_column(Text)
    price_fen: Mapped[int] = mapped_column(Integer, default=0)
    # JSON list of {"before_hours": 24, "percent": 100}, most generous first; later than all: no refund.
    refund_rule: Mapped[str] = mapped_column(Text, default="[]")
    book_days_ahead: Mapped[int] = mapped_column(Integer, default=7)
    max_per_order: Mapped[int] = mapped_column(Integer, default=5)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketSlot(Base):
    """One time slot of one day at one place. ``sold`` never exceeds ``capacity``: a conditional UPDATE
    (``… WHERE sold + n <= capacity``) is the only way it grows."""

    __tablename__ = "tourism_slots"
    __table_args__ = (UniqueConstraint("place_id", "day", "start", name="uq_tourism_slots_place_day_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("tourism_places.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # the city's calendar day
    start: Mapped[str] = mapped_column(String(5))  # HH:MM, city time
    end: Mapped[str] = mapped_column(String(5))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)


class TicketOrder(Base):
    """A visitor's purchase: one or more real-name tickets for one slot, paid through a payer."""

    __tablename__ = "tourism_ticket_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    access_key: Mapped[str] = mapped_column(String(64))  # the buyer's link to the order (no account)
    place_id: Mapped[int] = mapped_column(ForeignKey("tourism_places.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("tourism_slots.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32))
    total_fen: Mapped[int] = mapped_column(Integer)
    refunded_fen: Mapped[int] = mapped_column(Integer, default=0)
    payer: Mapped[str] = mapped_column(String(20))
    payment_ref: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # tourism.workflow.OrderStatus
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    place: Mapped[Place] = relationship(lazy="joined")
    slot: Mapped[TicketSlot] = relationship(lazy="joined")
    tickets: Mapped[list[Ticket]] = relationship(lazy="selectin", order_by="Ticket.id")


class Ticket(Base):
    """One visitor's real-name ticket. ``holder_key`` is the ID number's blind index (the number itself
    is encrypted) while the ticket is live and NULL once refunded, so (slot, holder_key) unique means
    one live ticket per person per slot."""

    __tablename__ = "tourism_tickets"
    __table_args__ = (
        UniqueConstraint("slot_id", "holder_key", name="uq_tourism_tickets_slot_holder"),
        Index("ix_tourism_tickets_slot_status", "slot_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(16), unique=True)  # short code a gate can type
    order_id: Mapped[int] = mapped_column(ForeignKey("tourism_ticket_orders.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("tourism_slots.id"))
    visitor_name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(EncryptedString)  # encrypted at rest
    holder_key: Mapped[str | None] = mapped_column(String(BLIND_INDEX_LENGTH))
    price_fen: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # tourism.workflow.TicketStatus
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_gate: Mapped[str | None] = mapped_column(String(60))
    used_by: Mapped[str | None] = mapped_column(String(100))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_fen: Mapped[int] = mapped_column(Integer, default=0)


class TicketPayment(Base):
    """The money ledger: every charge and refund a payer made (the default payer only records)."""

    __tablename__ = "tourism_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("tourism_ticket_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # charge / refund
    amount_fen: Mapped[int] = mapped_column(Integer)
    payer: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlaceComplaint(Base):
    """A visitor's complaint from a place's page: the 12345 order it became, and whether the visitor
    lets the place's page show the city's reply."""

    __tablename__ = "tourism_complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("tourism_places.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    publish: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
