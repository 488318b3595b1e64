from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from haoban.config import city_tz
from haoban.db import Base, UTCDateTime, utcnow
from haoban.directory.models import Category, Department, District
from haoban.dispatch.models import DispatchCorrection
from haoban.revisions import RevisionColumns
from haoban.security.crypto import EncryptedString

# haoban.orders.workflow.HANDLING_STATUSES as SQL, for the partial indexes (a test keeps them equal).
_HANDLING_SQL = "status IN ('dispatched', 'return_requested', 'signed', 'replied')"
_MERGED_SQL = "master_id IS NOT NULL"
# The warning times are read through these only: the plain and the handling orders' indexes on them
# went in 0040 and 0043 (one index entry fewer per create each).
SWEEP_INDEXES = {
    "ix_orders_handle_due": ("handle_warn_at", f"{_HANDLING_SQL} AND handle_alert IS NULL"),
    "ix_orders_handle_late": ("handle_deadline", f"{_HANDLING_SQL} AND handle_alert = 'warning'"),
    "ix_orders_sign_due": ("sign_warn_at", "status = 'dispatched' AND sign_alert IS NULL"),
    "ix_orders_sign_late": ("sign_deadline", "status = 'dispatched' AND sign_alert = 'warning'"),
}


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_lead", "status", "lead_department_id"),
        # A list filtered by district and status / category counts through index entries only (0039),
        # and its numbered pages read their ids (receipt time, id) from index entries only (0042).
        Index(
            "ix_orders_district_status_category_received",
            "district_id",
            "status",
            "category_id",
            "received_at",
            "id",
        ),
        # The handling orders' keys: a department's co-handled ones found without the table (0039).
        Index(
            "ix_orders_handling",
            "id",
            "status",
            "lead_department_id",
            "handle_deadline",
            "replied_at",
            "supervision_level",
            postgresql_where=text(_HANDLING_SQL),
            sqlite_where=text(_HANDLING_SQL),
        ),
        Index("ix_orders_received_at", "received_at"),
        Index("ix_orders_handle_deadline", "handle_deadline"),
        # Merged duplicates by master: the few orders that have one (0043; most orders have none).
        Index(
            "ix_orders_master_id",
            "master_id",
            postgresql_where=text(_MERGED_SQL),
            sqlite_where=text(_MERGED_SQL),
        ),
        # The sweep's scans: per clock, the orders not warned yet by warning time and the warned ones
        # by deadline (migration 0041).
        *(
            Index(name, column, postgresql_where=text(where), sqlite_where=text(where))
            for name, (column, where) in SWEEP_INDEXES.items()
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    # Idempotency key for imports and retried submissions (e.g. the source system's id).
    external_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    order_type: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    subject: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    citizen_name: Mapped[str | None] = mapped_column(String(100))
    citizen_phone: Mapped[str | None] = mapped_column(String(32))
    citizen_id_number: Mapped[str | None] = mapped_column(EncryptedString)  # encrypted at rest
    address: Mapped[str | None] = mapped_column(String(300))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Deadlines (签收时限 / 办理时限); the handle clock restarts on 重办.
    clock_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sign_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sign_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handle_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # When each deadline turns yellow (warning_ratio of its time used): lets the sweep use an index.
    sign_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handle_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Last alert the sweep raised for each deadline ("warning" / "overdue"), so it alerts once.
    sign_alert: Mapped[str | None] = mapped_column(String(10))
    handle_alert: Mapped[str | None] = mapped_column(String(10))

    dispatch_source: Mapped[str | None] = mapped_column(String(16))  # rule / model / human
    dispatch_confidence: Mapped[float | None] = mapped_column(Float)
    dispatch_rule_id: Mapped[int | None] = mapped_column(Integer)
    suggestions: Mapped[str | None] = mapped_column(Text)  # JSON: top suggestions for the human queue

    answer_text: Mapped[str | None] = mapped_column(Text)
    transfer_target: Mapped[str | None] = mapped_column(String(10))
    return_reason: Mapped[str | None] = mapped_column(Text)
    extension_days: Mapped[int | None] = mapped_column(Integer)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    reply_text: Mapped[str | None] = mapped_column(Text)
    callback_result: Mapped[str | None] = mapped_column(String(24))
    callback_comment: Mapped[str | None] = mapped_column(Text)
    redo_count: Mapped[int] = mapped_column(Integer, default=0)
    supervision_level: Mapped[int] = mapped_column(Integer, default=0)
    master_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))

    # Case file head: number of events and the last hash of the chain.
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    category: Mapped[Category | None] = relationship(lazy="joined")
    lead_department: Mapped[Department | None] = relationship(lazy="joined")
    district: Mapped[District | None] = relationship(lazy="joined")
    co_handlers: Mapped[list[OrderCoHandler]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="OrderCoHandler.department_id"
    )
    master: Mapped[Order | None] = relationship(remote_side=[id], lazy="select")


class OrderCoHandler(Base):
    """A co-handling department (协办单位)."""

    __tablename__ = "order_co_handlers"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True, index=True)

    department: Mapped[Department] = relationship(lazy="joined")


class OrderEvent(Base):
    """One entry of an order's case file. Append-only: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by the unique (order_id, seq) only: a second index on order_id cost each event an insert (0040).
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    # Indexed: Open311 servicerequestupdates reads the events of a time window (migration 0031).
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CodeCounter(Base):
    """Per-day sequence behind tracking codes (HB + yyyymmdd + number)."""

    __tablename__ = "code_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class PersonalDataView(Base):
    """One look at an order's (or an application's) unmasked personal data (个人信息查阅记录): who, when,
    why, through which door. Exactly one of ``order_id`` and ``application_id`` is set.

    The Personal Information Protection Law expects access to be recorded; auditors read the report
    (``GET /api/v1/audit/personal-data-views``). Append-only in practice: nothing updates or deletes it.
    """

    __tablename__ = "personal_data_views"
    __table_args__ = (
        Index("ix_personal_data_views_at", "at"),
        Index("ix_personal_data_views_order_id", "order_id"),
        Index("ix_personal_data_views_application_id", "application_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(10))  # api / web


class OrderAttachment(Base):
    """A photo of an order (照片附件), kept cleaned: see ``haoban.orders.attachments``."""

    __tablename__ = "order_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    origin: Mapped[str] = mapped_column(String(10))  # citizen / staff
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Where the camera was (from EXIF, before it was stripped); never shown to anyone but staff.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # A staff photo is shown to the citizen with the approved reply; a citizen's to staff only.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    thumb: Mapped[bytes] = mapped_column(LargeBinary)


class CitizenCode(Base):
    """A one-time code texted to a phone so its owner can list their appeals ("my appeals").

    Neither the phone nor the code is stored: keyed hashes of both (``haoban.orders.mine``)."""

    __tablename__ = "citizen_codes"
    __table_args__ = (Index("ix_citizen_codes_phone_created", "phone_hash", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- which days of receipt changed (for the dashboard's daily roll-ups, ``haoban.analytics``) -------

# The order columns the dashboard's figures read; a change to any of them changes a figure of the
# order's day of receipt. ``ix_orders_dashboard`` covers them (``haoban.analytics.models``).
DAY_FIGURE_COLUMNS = (
    "received_at",
    "status",
    "dispatched_at",
    "replied_at",
    "handle_deadline",
    "callback_result",
    "redo_count",
    "dispatch_source",
    "category_id",
    "district_id",
    "channel",
    "lead_department_id",
)


class OrderDayMark(Base):
    """A write touched the figures of orders received on ``day`` (the city's local date).

    Written in the same transaction as the change (by the flush listener below for ORM writes, by
    ``mark_days`` for Core writes). The dashboard reads a day from its roll-up only when the day was
    built and no mark for it is left; the roll-up job deletes the marks it has seen after rebuilding
    the day. Append-only rows, so concurrent writers never wait on each other here."""

    __tablename__ = "order_day_marks"
    __table_args__ = (Index("ix_order_day_marks_day", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)


def local_day(instant: datetime) -> date:
    """The city's local date of a UTC instant (naive values are UTC, as SQLite hands them back)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(city_tz()).date()


_MARKED = "haoban.order_day_marks"


def mark_days(session: Session, instants: Iterable[datetime | None]) -> None:
    """Record that orders received at ``instants`` changed (once per day and transaction)."""
    new = days_to_mark(session, instants)
    if new:
        session.connection().execute(insert(OrderDayMark.__table__), [{"day": d} for d in new])


def days_to_mark(session: Session, instants: Iterable[datetime | None]) -> list[date]:
    """The days of ``instants`` not marked yet in this transaction, counted as marked from now on: the
    caller inserts their ``OrderDayMark`` rows in this transaction (intake does, in its batch insert)."""
    days = {local_day(t) for t in instants if t is not None}
    if not days:
        return []
    # Once per day and (innermost) transaction: a savepoint rolled back takes its marks with it, so
    # what was marked is remembered per transaction object (held, so compared by identity).
    tx = session.get_nested_transaction() or session.get_transaction()
    seen_tx, seen = session.info.get(_MARKED, (None, set()))
    if seen_tx is not tx:
        seen = set()
    new = sorted(days - seen)
    seen |= set(new)
    session.info[_MARKED] = (tx, seen)
    return new


def _changed_instants(session: Session) -> list[datetime | None]:
    out: list[datetime | None] = []
    for obj in session.new:
        if isinstance(obj, Order):
            out.append(obj.received_at)
    for obj in session.deleted:
        if isinstance(obj, Order):
            out.append(obj.received_at)
    for obj in session.dirty:
        if isinstance(obj, Order):
            state = inspect(obj)
            changed = False
            for column in DAY_FIGURE_COLUMNS:
                history = state.attrs[column].history
                if history.has_changes():
                    changed = True
                    if column == "received_at":
                        out.extend(history.deleted)
            if changed:
                out.append(obj.received_at)
    order_ids = [
        obj.order_id
        for obj in (*session.new, *session.deleted)
        if isinstance(obj, DispatchCorrection) and obj.source == "return"
    ]
    if order_ids:
        rows = session.connection().execute(select(Order.received_at).where(Order.id.in_(order_ids)))
        out.extend(r[0] for r in rows)
    return out


@event.listens_for(Session, "after_flush")
def _mark_flushed_days(session: Session, _context: Any) -> None:
    instants = _changed_instants(session)
    if instants:
        mark_days(session, instants)


class ReplyTemplate(Base):
    """A reply template (答复模板) a handler picks on the reply form: for a category and its children, or
    for every category when ``category`` is empty. ``{department}`` and the other placeholders in
    ``haoban.orders.reply_templates`` are filled from the order."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str | None] = mapped_column(String(300), index=True)  # the category's path, "一级/二级"
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReplyTemplateRevision(RevisionColumns, Base):
    """Append-only history of the reply templates (``haoban.revisions``, as the dispatch catalogue's)."""

    __tablename__ = "reply_template_revisions"

    template_id: Mapped[int] = mapped_column(Integer, index=True)
