from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow
from haoban.revisions import RevisionColumns


class DispatchRule(Base):
    """One row of the dispatch catalogue (派单目录). Rules are tried by ``position``; first match wins.

    Empty conditions match anything. ``outcome`` says what happens: dispatch to a department, transfer to
    an emergency line (110/119/120/122), answer with guidance (litigation, petitions), or hold for a person.
    """

    __tablename__ = "dispatch_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    category_code: Mapped[str | None] = mapped_column(String(40))  # matches the category or any child
    district_code: Mapped[str | None] = mapped_column(String(20))
    order_type: Mapped[str | None] = mapped_column(String(16))
    keywords: Mapped[str | None] = mapped_column(Text)  # comma-separated, any one matches
    hour_from: Mapped[int | None] = mapped_column(Integer)  # local hour window [from, to)
    hour_to: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16), default="dispatch")  # dispatch/transfer/answer/hold
    department_code: Mapped[str | None] = mapped_column(String(40))
    co_handler_codes: Mapped[str | None] = mapped_column(Text)  # comma-separated
    transfer_target: Mapped[str | None] = mapped_column(String(10))
    guidance: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DispatchRuleRevision(RevisionColumns, Base):
    """Append-only history of the catalogue: who changed which rule, when, to what (``haoban.revisions``)."""

    __tablename__ = "dispatch_rule_revisions"

    rule_id: Mapped[int] = mapped_column(Integer, index=True)


class DispatchCorrection(Base):
    """A human's correction of the dispatcher: a different choice in the queue or an upheld return."""

    __tablename__ = "dispatch_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    suggested_category: Mapped[str | None] = mapped_column(String(100))
    suggested_department: Mapped[str | None] = mapped_column(String(40))
    chosen_category: Mapped[str | None] = mapped_column(String(100))
    chosen_department: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(16))  # human_dispatch / return
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
