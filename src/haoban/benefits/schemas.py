"""Request and response shapes of the 免申即享 API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LookupIn(Strict):
    code: str | None = Field(default=None, max_length=16, description="notice code from the SMS (people)")
    credit_code: str | None = Field(default=None, max_length=18, description="统一社会信用代码 (companies)")
    phone_last4: str = Field(pattern=r"^\d{4}$", description="last four digits of the phone on file")


class ConfirmIn(Strict):
    phone_last4: str = Field(pattern=r"^\d{4}$")
    account: str | None = Field(
        default=None, max_length=40, description="pay here instead of the account on file"
    )


class DeclineIn(Strict):
    phone_last4: str = Field(pattern=r"^\d{4}$")


class ReviewIn(Strict):
    decision: str = Field(description="uphold or withdraw")
    note: str = Field(min_length=1, max_length=1000)


class GrantOut(BaseModel):
    code: str
    policy: str
    policy_name: str
    period: str
    rule_row: int
    rule_label: str
    amount_fen: int
    amount_yuan: str
    status: str
    status_label: str
    status_label_en: str
    under_review: bool
    account_masked: str | None
    needs_account: bool
    created_at: datetime
    confirmed_at: datetime | None
    paid_at: datetime | None
    allowed_actions: list[str]


class SubjectBenefitsOut(BaseModel):
    subject_kind: str
    name: str
    account_masked: str | None
    grants: list[GrantOut]


class StaffGrantOut(GrantOut):
    subject_kind: str
    subject_name: str
    facts: dict[str, Any]
    review_reason: str | None


class GrantEventOut(BaseModel):
    seq: int
    action: str
    label: str
    actor: str
    role: str
    at: datetime
    from_status: str | None
    to_status: str
    payload: dict[str, Any]
    hash: str


class GrantDetailOut(StaffGrantOut):
    events: list[GrantEventOut]


class GrantPage(BaseModel):
    items: list[StaffGrantOut]
    total: int
    page: int
    page_size: int


class PolicyFigure(BaseModel):
    policy: str
    policy_name: str
    eligible: int
    confirmed: int
    paid: int
    paid_fen: int
    under_review: int
    days_to_payment: float | None


class FiguresOut(BaseModel):
    policies: list[PolicyFigure]
    totals: dict[str, int]


class PolicyOut(BaseModel):
    code: str
    version: int
    name: str
    subject_kind: str
    period_unit: str
    digest: str
    uploaded_by: str
    uploaded_at: datetime
    created: bool = True


class PolicyList(BaseModel):
    items: list[PolicyOut]


class ImportOut(BaseModel):
    source: str
    import_id: int | None
    rows: int
    inserted: int
    updated: int
    unchanged: int


class RunOut(BaseModel):
    policy: str
    version: int
    period: str
    mode: str
    evaluated: int
    eligible: int
    granted: int
    flagged: int
    seconds: float


class MatchOut(BaseModel):
    runs: list[RunOut]
    paid: int = 0
