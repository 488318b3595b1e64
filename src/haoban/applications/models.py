"""Tables of “一件事” applications: uploaded bundle definitions, applications, department tasks, the
case file, materials and deliveries.

The engine's state (SpiffWorkflow's serialization plus haoban's bookkeeping, ``BundleEngine.dumps``)
lives on the application row; every user task the engine hands out is also a ``ApplicationTask`` row
so that inboxes, department scoping, deadlines and the sweep read plain indexed columns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow
from haoban.security.crypto import BLIND_INDEX_LENGTH, EncryptedBytes, EncryptedString


class BundleDefinitionRow(Base):
    """One uploaded version of a bundle: its four files, exactly as validated (immutable once stored)."""

    __tablename__ = "bundle_definitions"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    process_bpmn: Mapped[bytes] = mapped_column(LargeBinary)
    form_schema: Mapped[bytes] = mapped_column(LargeBinary)
    mapping: Mapped[bytes] = mapped_column(LargeBinary)
    meta: Mapped[bytes] = mapped_column(LargeBinary)  # bundle.yaml
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Application(Base):
    """One applicant's run of a bundle (办件), pinned to the definition version it started on."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_status_next_due", "status", "next_due_at"),
        Index("ix_applications_bundle_submitted", "bundle_code", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("bundle_definitions.id"), index=True)
    bundle_code: Mapped[str] = mapped_column(String(64))
    bundle_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # online / window / assisted
    applicant_name: Mapped[str] = mapped_column(String(100))
    applicant_phone: Mapped[str] = mapped_column(String(32))
    applicant_id_number: Mapped[str | None] = mapped_column(EncryptedString)  # encrypted at rest
    # Its blind index (security/crypto.py): finding what the city holds for this applicant.
    applicant_id_index: Mapped[str | None] = mapped_column(String(BLIND_INDEX_LENGTH), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(Integer)  # the staff member or volunteer
    submitted_by_name: Mapped[str] = mapped_column(String(100))
    green_channel: Mapped[str | None] = mapped_column(String(24))  # elderly / disabled / pregnant / …
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the engine next needs a tick (a timer, the bundle promise): the sweep's index.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visits: Mapped[int] = mapped_column(Integer, default=0)  # trips to a window (跑动次数)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    supervision_level: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[bytes] = mapped_column(EncryptedBytes)  # BundleEngine.dumps (its form: encrypted)
    # Case file head.
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ApplicationTask(Base):
    """A department's task inside an application: one catalogue item, one row per BPMN user task."""

    __tablename__ = "application_tasks"
    __table_args__ = (
        UniqueConstraint("application_id", "task_id"),
        Index("ix_application_tasks_dept_status", "department_id", "status"),
        Index("ix_application_tasks_status_warn", "status", "warn_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(64))  # the BPMN element id
    item_code: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(20))
    green_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    alert: Mapped[str | None] = mapped_column(String(10))  # last alert the sweep raised
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[str | None] = mapped_column(Text)  # JSON
    reason: Mapped[str | None] = mapped_column(Text)
    # 容缺受理: the material accepted as missing, and when the applicant promised it.
    tolerated_material: Mapped[str | None] = mapped_column(String(64))
    tolerated_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    tolerated_alert: Mapped[str | None] = mapped_column(String(10))
    supervision_level: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ApplicationEvent(Base):
    """One entry of an application's case file. Append-only (database triggers refuse UPDATE/DELETE)."""

    __tablename__ = "application_events"
    __table_args__ = (UniqueConstraint("application_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ApplicationMaterial(Base):
    """An uploaded material (PDF / JPEG / PNG, sniffed by content), stored with its sha256."""

    __tablename__ = "application_materials"
    __table_args__ = (Index("ix_application_materials_app_key", "application_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    key: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    reused: Mapped[bool] = mapped_column(Boolean, default=False)  # taken from what the city already holds
    data: Mapped[bytes | None] = mapped_column(LargeBinary)  # None when reused (points at sha256)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(100))


class ApplicationDelivery(Base):
    """统一出件: what was delivered, how (electronic licence, post, window) and where it stands."""

    __tablename__ = "application_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # licence / post / window
    items: Mapped[str] = mapped_column(Text)  # JSON: the approved items and their results
    recipient: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    tracking_no: Mapped[str | None] = mapped_column(String(40))
    licence_codes: Mapped[str | None] = mapped_column(Text)  # JSON list
    status: Mapped[str] = mapped_column(String(16))  # prepared / posted / handed_over / issued
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_over_by: Mapped[str | None] = mapped_column(String(100))


class ApplicationCodeCounter(Base):
    """Per-day sequence behind application codes (BJ + yyyymmdd + number)."""

    __tablename__ = "application_code_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class ApplicationAssistance(Base):
    """帮代办: who applied for whom with what consent (代办), or who went along (陪同办)."""

    __tablename__ = "application_assistance"
    __table_args__ = (Index("ix_application_assistance_helper", "helper_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # proxy (代办) / accompany (陪同办)
    helper_id: Mapped[int | None] = mapped_column(Integer)
    helper_name: Mapped[str] = mapped_column(String(100))
    helper_role: Mapped[str] = mapped_column(String(20))
    person_name: Mapped[str] = mapped_column(String(100))
    person_phone: Mapped[str] = mapped_column(String(32))
    green_group: Mapped[str | None] = mapped_column(String(24))
    consent_method: Mapped[str | None] = mapped_column(String(16))  # signature / otp
    consent_ref: Mapped[str | None] = mapped_column(String(80))  # signature sha256, or the code's id
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsentCode(Base):
    """A one-time code sent to a person's phone so that they consent to someone applying for them."""

    __tablename__ = "consent_codes"
    __table_args__ = (Index("ix_consent_codes_phone_created", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the code with the phone: never the code
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HelpRequest(Base):
    """请工作人员帮我办: a citizen asks to be called back and helped (帮代办); staff claim it and close it
    with an outcome. Status moves in ``haoban.applications.help_requests`` only."""

    __tablename__ = "help_requests"
    __table_args__ = (Index("ix_help_requests_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # open / claimed / closed
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    need: Mapped[str] = mapped_column(Text)
    preferred_time: Mapped[str] = mapped_column(String(16))  # anytime / morning / afternoon / evening
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by_id: Mapped[int | None] = mapped_column(Integer)
    claimed_by_name: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(24))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HelpRequestEvent(Base):
    """What happened to a help request, in order: filed, claimed, a note of a call, released, closed."""

    __tablename__ = "help_request_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("help_requests.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
