"""Request and response shapes of the federation API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class IdentityOut(BaseModel):
    region: str
    name: str
    public_key: str | None = Field(description="base64 of the raw Ed25519 public key; null before keygen")


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    region: str = Field(max_length=12, description="the partner's 行政区划代码, e.g. 451300 (来宾市)")
    name: str = Field(max_length=100)
    endpoint: str = Field(max_length=300, description="base URL, e.g. https://12345.laibin.example")
    public_key: str = Field(max_length=64, description="base64 of the partner's Ed25519 public key")
    active: bool = True


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    partner: str = Field(max_length=12)
    items: list[str] = Field(
        max_length=200, description="catalogue item or bundle codes; 'hotline' for 12345"
    )
    modes: list[str] = Field(max_length=4, description="online / proxy / joint / transfer")
    valid_from: date
    valid_to: date | None = None
    note: str = Field(default="", max_length=300)


class AgreementEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_to: date


class AgreementOut(BaseModel):
    id: int
    partner: str
    items: list[str]
    modes: list[str]
    valid_from: date
    valid_to: date | None
    note: str
    in_force: bool


class PartnerOut(BaseModel):
    region: str
    name: str
    endpoint: str
    public_key: str
    active: bool
    agreements: list[AgreementOut]


class OutboxOut(BaseModel):
    id: int
    message_id: str
    partner: str
    case: str
    seq: int
    kind: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class RefusalOut(BaseModel):
    at: datetime
    sender: str | None
    reason: str
    message_id: str | None
    detail: str
    address: str | None


class Accepted(BaseModel):
    accepted: str
    duplicate: bool
    result: dict[str, Any]


class TimelineEntry(BaseModel):
    at: datetime
    side: str
    what: str
    detail: dict[str, Any]


class CaseOut(BaseModel):
    case_key: str
    partner: str
    partner_name: str
    direction: str
    kind: str
    mode: str
    mode_label: str
    item: str
    title: str
    local_ref: str | None
    remote_ref: str | None
    state: str
    created_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry]


class DashboardRow(BaseModel):
    partner: str
    partner_name: str
    mode: str
    mode_label: str
    outgoing: int
    incoming: int
    open: int
    done: int


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    partner: str = Field(max_length=12)
    case: str = Field(min_length=1, max_length=80)
    item: str = Field(min_length=1, max_length=80)
    mode: str = Field(max_length=16)
    text: str = Field(min_length=1, max_length=2000)


class QueuedOut(BaseModel):
    message_id: str
    case: str
    seq: int


class MaterialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=200)
    data: str = Field(description="base64 of the file", max_length=14_000_000)


class ApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=1, max_length=32)
    id_number: str | None = Field(default=None, max_length=18)


class FileIn(BaseModel):
    """What the receiving window sends to the home region (跨省通办)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    partner: str = Field(max_length=12, description="the home region's code")
    mode: str = Field(default="proxy", pattern="^(proxy|online|joint)$")
    bundle: str = Field(
        min_length=1, max_length=80, description="the home region's bundle code, e.g. newborn"
    )
    form: dict[str, Any]
    applicant: ApplicantIn
    materials: dict[str, MaterialIn] = Field(max_length=16)
    identity_checked: bool = Field(default=False, description="the window checked the ID card (异地代收)")
    note: str = Field(default="", max_length=500)


class TrackStep(BaseModel):
    at: datetime
    side: str
    what: str
    status: str | None = None


class TrackOut(BaseModel):
    case_key: str
    item: str
    mode: str
    mode_label: str
    home: str
    remote_ref: str | None
    state: str
    steps: list[TrackStep]


class OnlineOut(BaseModel):
    case_key: str = Field(description="follow it at /api/v1/federation/track/{case_key}?phone_last4=…")
    home: str
    state: str
