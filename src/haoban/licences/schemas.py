"""Request and response bodies of the licence store."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LicenceIn(BaseModel):
    """Issue a licence by hand (the applications issue theirs through ``service.issue``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: str = Field(min_length=1, max_length=80, description="the catalogue item whose result it is")
    holder_id: str = Field(min_length=1, max_length=40, description="ID number or unified social credit code")
    holder_name: str = Field(min_length=1, max_length=100)
    number: str | None = Field(default=None, max_length=64, description="default: generated")
    payload: dict[str, Any] = Field(default_factory=dict, description="the licence's own fields")
    valid_from: date | None = None
    valid_until: date | None = None
    source_ref: str | None = Field(default=None, max_length=120, description="idempotency key")


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=2000)


class LicenceOut(BaseModel):
    code: str
    kind: str
    name: str
    number: str
    holder_id: str
    holder_name: str
    department: str
    department_name: str
    item_name: str
    issued_on: date
    valid_from: date
    valid_until: date | None
    payload: dict[str, Any]
    sha256: str
    status: str = Field(description="valid, not_yet_valid, expired or revoked")
    intact: bool = Field(description="the stored content still hashes to sha256")
    issued_at: datetime
    issued_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


class DocumentOut(BaseModel):
    """The holder's copy; POST it to /api/v1/licences/verify to check it."""

    code: str
    kind: str
    name: str
    number: str
    holder_id: str
    holder_name: str
    department: str
    issued_on: str
    valid_from: str
    valid_until: str | None
    payload: dict[str, Any]
    sha256: str


class VerifyOut(BaseModel):
    """What anyone with the code learns. Unknown codes answer ``status: unknown`` and nothing else."""

    code: str
    status: str = Field(description="valid, not_yet_valid, expired, revoked, tampered or unknown")
    intact: bool | None = None
    sha256: str | None = None
    kind: str | None = None
    name: str | None = None
    number: str | None = None
    holder: str | None = Field(default=None, description="the holder's name, masked")
    department: str | None = None
    department_name: str | None = None
    issued_on: date | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    revoked_at: date | None = None
    presented_sha256: str | None = Field(default=None, description="hash of the copy presented")
    matches: bool | None = Field(default=None, description="the presented copy is exactly the issued one")


class ReuseOut(BaseModel):
    material: str
    licence_kind: str | None
    reused: bool
    licence_code: str | None
    licence_name: str | None


class KindCount(BaseModel):
    kind: str
    name: str
    licences: int


class LicenceMetrics(BaseModel):
    licences: int
    valid: int
    revoked: int
    expired: int
    materials_reused: int = Field(description="times a licence stood in for a material (免提交)")
    by_kind: list[KindCount]
