"""Difficult-matter cases: the case, its departments, meetings with their decisions, its case file."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from haoban.db import Base, UTCDateTime, utcnow
from haoban.directory.models import Department
from haoban.security.crypto import EncryptedString


class Case(Base):
    """One difficult matter (一事一档): opened at the window, from the portal or from a stuck order."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_lead", "status", "lead_department_id"),
        Index("ix_cases_origin", "origin_kind", "origin_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # difficult (办不成事) / business (营商环境投诉)
    channel: Mapped[str] = mapped_column(String(16))  # window / portal / escalation
    # Where the case came from: window, portal, order (12345), application; with the origin's code.
    origin_kind: Mapped[str] = mapped_column(String(16))
    origin_code: Mapped[str | None] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    obstacle: Mapped[str | None] = mapped_column(String(24), index=True)
    item: Mapped[str | None] = mapped_column(String(200))  # the service item (事项) that could not be done
    # The department the matter got stuck at (complained about), if known.
    concerned_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)

    # The complainant. With ``anonymous`` set, only the window's staff ever see these.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    complainant_name: Mapped[str | None] = mapped_column(String(100))
    complainant_phone: Mapped[str | None] = mapped_column(String(32))
    complainant_id_number: Mapped[str | None] = mapped_column(EncryptedString)  # encrypted at rest
    company_name: Mapped[str | None] = mapped_column(String(200))
    company_uscc: Mapped[str | None] = mapped_column(String(18), index=True)  # 统一社会信用代码

    status: Mapped[str] = mapped_column(String(20), index=True)
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    on_spot_note: Mapped[str | None] = mapped_column(Text)  # 陪同办: what was done at the window

    # 限时督办: the deadline set on assignment, when it turns yellow, when it escalates, the last alert.
    clock_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    alert: Mapped[str | None] = mapped_column(String(10))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    supervision_level: Mapped[int] = mapped_column(Integer, default=0)

    outcome: Mapped[str | None] = mapped_column(String(16))  # done / refused / proposal
    outcome_text: Mapped[str | None] = mapped_column(Text)
    proposal_text: Mapped[str | None] = mapped_column(Text)
    follow_up_result: Mapped[str | None] = mapped_column(String(24))
    follow_up_comment: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event_count: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    lead_department: Mapped[Department | None] = relationship(
        lazy="joined", foreign_keys=[lead_department_id]
    )
    concerned_department: Mapped[Department | None] = relationship(
        lazy="joined", foreign_keys=[concerned_department_id]
    )
    co_departments: Mapped[list[CaseDepartment]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CaseDepartment.department_id"
    )
    meetings: Mapped[list[CaseMeeting]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CaseMeeting.seq"
    )


class CaseDepartment(Base):
    """A co-department (协办单位) of a case."""

    __tablename__ = "case_departments"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True, index=True)

    department: Mapped[Department] = relationship(lazy="joined")


class CaseMeeting(Base):
    """A consultation meeting (会商 / 联席协商) of the departments involved."""

    __tablename__ = "case_meetings"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    held_on: Mapped[date] = mapped_column(Date)
    participants: Mapped[str] = mapped_column(Text)  # one per line
    minutes: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    decisions: Mapped[list[CaseDecision]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CaseDecision.id"
    )


class CaseDecision(Base):
    """A meeting's decision: what, whose (a department), by when. The sweep watches the due date."""

    __tablename__ = "case_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("case_meetings.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    alert: Mapped[str | None] = mapped_column(String(10))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_note: Mapped[str | None] = mapped_column(Text)

    owner_department: Mapped[Department] = relationship(lazy="joined")


class CaseEvent(Base):
    """One entry of a case's file. Append-only: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ReformProposal(Base):
    """A proposal on the reform list (改革清单): a recurring obstacle turned into a change, with an owner
    department and a status. Made from a case concluded as a policy proposal, or from the list itself."""

    __tablename__ = "reform_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    obstacle: Mapped[str | None] = mapped_column(String(24), index=True)
    item: Mapped[str | None] = mapped_column(String(200))
    owner_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # proposed / accepted / in_progress / done / rejected
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    source_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    owner_department: Mapped[Department | None] = relationship(lazy="joined")
    source_case: Mapped[Case | None] = relationship(lazy="joined")
