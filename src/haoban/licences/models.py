"""Electronic licences (电子证照) and the record of each time one stood in for a material (免提交).

A licence is the result of a catalogue item (its ``item``), issued to a holder (a person's ID number
or a company's unified social credit code). Its content is frozen at issue: ``sha256`` is taken over
the canonical form (``haoban.licences.service.canonical``), so a changed row or a doctored copy no
longer matches. The holder's ID number, the licence's number (an ID card's is an ID number) and the
payload (result fields that may carry more) are encrypted at rest (``haoban.security.crypto``); the
holder and the number are found by their blind indexes. The hash is over the clear values. Its state
is derived, never stored: revoked when ``revoked_at`` is set, else expired after ``valid_until``, else
valid.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from haoban.catalog.models import ServiceItem
from haoban.db import Base, UTCDateTime, utcnow
from haoban.directory.models import Department
from haoban.security.crypto import BLIND_INDEX_LENGTH, EncryptedString, EncryptedText


class Licence(Base):
    __tablename__ = "licences"
    __table_args__ = (
        UniqueConstraint("item_id", "number_index"),
        # A holder's licences of the kinds asked (``service.held``), not all of the holder's.
        Index("ix_licences_holder_index_kind", "holder_index", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The verification code printed on the licence (unguessable); anyone holding it may verify. Always
    # drawn before the row is written, so it is also the sentinel that lets a flush write the licences
    # it holds in one INSERT ... RETURNING on SQLite (which has no ordered RETURNING to match ids by).
    code: Mapped[str] = mapped_column(String(24), unique=True, insert_sentinel=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalog_items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(80), index=True)  # the item's code, as materials name it
    name: Mapped[str] = mapped_column(String(100))  # e.g. 出生医学证明
    number: Mapped[str] = mapped_column(EncryptedString)  # the licence's own number (encrypted at rest)
    number_index: Mapped[str] = mapped_column(String(BLIND_INDEX_LENGTH))  # its blind index
    holder_id: Mapped[str] = mapped_column(EncryptedString)  # encrypted at rest
    holder_index: Mapped[str] = mapped_column(String(BLIND_INDEX_LENGTH))  # its blind index
    holder_name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # None = valid without limit
    # Canonical JSON of the licence's fields, encrypted at rest.
    payload: Mapped[str] = mapped_column(EncryptedText, default="{}")
    sha256: Mapped[str] = mapped_column(String(64))
    # Idempotency key of the issuing step (e.g. an application's task): issuing twice returns the first.
    source_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    item: Mapped[ServiceItem] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")


class LicenceUse(Base):
    """A licence used in place of a material the applicant would otherwise bring (材料复用)."""

    __tablename__ = "licence_uses"
    __table_args__ = (UniqueConstraint("licence_id", "ref", "material"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    licence_id: Mapped[int] = mapped_column(ForeignKey("licences.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(80), index=True)  # the item the material was for
    material: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str] = mapped_column(String(120))  # e.g. the application's code
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
