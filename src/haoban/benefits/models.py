"""免申即享 tables: the data sources, the policies (DMN tables), grants with their case files, payouts.

Every data-source row carries ``seq``, the id of the import (``benefit_imports``) that last changed it;
an import that changes a related row (insurance, a birth, tax, employment) also stamps the subject's
own row, so "what changed since the last match" is one indexed range on the subject's ``seq``.

ID numbers are encrypted at rest (``haoban.security.crypto``); the registers are keyed and joined by
their blind indexes (``*_index``, HMAC under the data key), which :data:`BLIND_INDEXES` lists.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from haoban.db import Base, UTCDateTime, utcnow
from haoban.security.crypto import BLIND_INDEX_LENGTH, EncryptedString

# --- data sources --------------------------------------------------------------------------------------


class BenefitImport(Base):
    """One import of a data source (CSV, a birth from a finished newborn bundle, the demo generator)."""

    __tablename__ = "benefit_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200), default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    actor_name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Resident(Base):
    """户籍: a registered resident. A minor's contact and account are the guardian's."""

    __tablename__ = "benefit_residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(EncryptedString)  # encrypted at rest
    id_index: Mapped[str] = mapped_column(String(BLIND_INDEX_LENGTH), unique=True)  # its blind index
    name: Mapped[str] = mapped_column(String(60))
    sex: Mapped[str] = mapped_column(String(1))  # M / F
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    district: Mapped[str] = mapped_column(String(40), default="")
    hukou_status: Mapped[str] = mapped_column(String(12), default="active")  # active / moved_out / deceased
    phone: Mapped[str | None] = mapped_column(String(20))
    bank_account: Mapped[str | None] = mapped_column(String(32))
    guardian_id_number: Mapped[str | None] = mapped_column(EncryptedString)
    guardian_index: Mapped[str | None] = mapped_column(String(BLIND_INDEX_LENGTH))  # joins the guardian
    seq: Mapped[int] = mapped_column(Integer, index=True)


class Birth(Base):
    """出生登记: from the births CSV or a finished newborn bundle."""

    __tablename__ = "benefit_births"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id_number: Mapped[str] = mapped_column(EncryptedString)
    child_index: Mapped[str] = mapped_column(String(BLIND_INDEX_LENGTH), unique=True)
    birth_date: Mapped[date] = mapped_column(Date)
    mother_id_number: Mapped[str | None] = mapped_column(EncryptedString)
    father_id_number: Mapped[str | None] = mapped_column(EncryptedString)
    hospital: Mapped[str] = mapped_column(String(100), default="")
    origin: Mapped[str] = mapped_column(String(12), default="csv")  # csv / bundle / demo
    seq: Mapped[int] = mapped_column(Integer)


class Insurance(Base):
    """医保参保: a person's medical-insurance scheme."""

    __tablename__ = "benefit_insurance"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(EncryptedString)
    id_index: Mapped[str] = mapped_column(String(BLIND_INDEX_LENGTH), unique=True)
    medical_scheme: Mapped[str] = mapped_column(String(12))  # employee / resident / none
    enrolled_on: Mapped[date | None] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)


# Per register: (ID-number column, its blind-index column). Rows are written with both.
BLIND_INDEXES: dict[type[Base], tuple[tuple[str, str], ...]] = {
    Resident: (("id_number", "id_index"), ("guardian_id_number", "guardian_index")),
    Birth: (("child_id_number", "child_index"),),
    Insurance: (("id_number", "id_index"),),
}


class Company(Base):
    """A registered company (市场主体), keyed by its 统一社会信用代码."""

    __tablename__ = "benefit_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    size: Mapped[str] = mapped_column(String(8))  # large / medium / small / micro
    district: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(14), default="active")  # active / deregistered
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    bank_account: Mapped[str | None] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer, index=True)


class TaxRecord(Base):
    """A company's year at the tax bureau, which collects social-insurance contributions."""

    __tablename__ = "benefit_tax"
    __table_args__ = (UniqueConstraint("credit_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    year: Mapped[int] = mapped_column(Integer)
    ui_contributions_fen: Mapped[int] = mapped_column(BigInteger)  # 失业保险费 paid in the year
    in_arrears: Mapped[bool] = mapped_column(Boolean, default=False)
    seq: Mapped[int] = mapped_column(Integer)


class EmploymentRecord(Base):
    """A company's year of insured employment: insured at the start, and how many it laid off."""

    __tablename__ = "benefit_employment"
    __table_args__ = (UniqueConstraint("credit_code", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18))
    year: Mapped[int] = mapped_column(Integer)
    insured_start: Mapped[int] = mapped_column(Integer)
    layoffs: Mapped[int] = mapped_column(Integer, default=0)
    seq: Mapped[int] = mapped_column(Integer)


# --- policies ------------------------------------------------------------------------------------------


class Policy(Base):
    """One version of a policy: its DMN decision table exactly as uploaded. The newest version is used."""

    __tablename__ = "benefit_policies"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))  # the DMN decision id
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    subject_kind: Mapped[str] = mapped_column(String(10))  # resident / company
    period_unit: Mapped[str] = mapped_column(String(6))  # month / year / once
    dmn: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MatchRun(Base):
    """One matching pass of one policy over one period: what it looked at and what it did."""

    __tablename__ = "benefit_runs"
    __table_args__ = (Index("ix_benefit_runs_policy_period", "policy_code", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_code: Mapped[str] = mapped_column(String(60))
    policy_version: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(12))  # full / incremental / subject
    seq_from: Mapped[int] = mapped_column(Integer)
    seq_to: Mapped[int] = mapped_column(Integer)
    evaluated: Mapped[int] = mapped_column(Integer, default=0)
    granted: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    actor_name: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- grants --------------------------------------------------------------------------------------------


class Grant(Base):
    """A benefit pushed to one subject for one period (免申即享). Never twice: see the unique constraint."""

    __tablename__ = "benefit_grants"
    __table_args__ = (
        UniqueConstraint("policy_code", "subject_kind", "subject_id", "period"),
        Index("ix_benefit_grants_subject", "subject_kind", "subject_id"),
        Index("ix_benefit_grants_policy_period", "policy_code", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # the notice code sent to the subject
    policy_code: Mapped[str] = mapped_column(String(60))
    policy_version: Mapped[int] = mapped_column(Integer)
    subject_kind: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(10))  # 2026-11 / 2026 / once
    ref_date: Mapped[date] = mapped_column(Date)  # the day the facts were taken at
    rule_row: Mapped[int] = mapped_column(Integer)
    rule_label: Mapped[str] = mapped_column(String(200), default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    facts: Mapped[str] = mapped_column(Text)  # JSON: the data that made the subject eligible
    subject_seq: Mapped[int] = mapped_column(Integer)  # the subject's data version the grant was made from
    checked_seq: Mapped[int] = mapped_column(Integer)  # the data version it was last checked against
    status: Mapped[str] = mapped_column(String(12), index=True)
    review_reason: Mapped[str | None] = mapped_column(Text)  # set when later data disagrees
    account: Mapped[str | None] = mapped_column(String(32))  # the account confirmed for the payout
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class GrantEvent(Base):
    """One entry of a grant's case file. Append-only: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "benefit_grant_events"
    __table_args__ = (UniqueConstraint("grant_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("benefit_grants.id"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Payment(Base):
    """What the default payer records: one payout per grant, never two (unique grant)."""

    __tablename__ = "benefit_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("benefit_grants.id"), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    account: Mapped[str | None] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(40))
    payer: Mapped[str] = mapped_column(String(20))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
