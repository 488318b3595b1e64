"""Request and response shapes of the case API (Pydantic v2)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from haoban.casework.obstacles import CODES
from haoban.casework.workflow import KINDS
from haoban.orders.citizen import normalise_id_number, normalise_phone
from haoban.orders.schemas import EventOut, Label

ORIGIN_KINDS = ("window", "portal", "order", "application")


def normalise_uscc(raw: str) -> str:
    """A 统一社会信用代码 (GB 32100-2015): 18 characters, check character verified; or ValueError."""
    try:
        return str(uscc.validate(raw))
    except ValidationError as exc:
        raise ValueError(
            f"not a valid unified social credit code (统一社会信用代码): {exc.message}; "
            "it has 18 characters, e.g. 91430400MA4L0XXXXX, and the last one is a check character"
        ) from None


class CaseCreate(BaseModel):
    """A difficult matter or a business-environment complaint. Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: str = Field(default="difficult", description="difficult (办不成事) / business (营商环境投诉)")
    subject: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=10_000)
    obstacle: str | None = Field(
        default=None, description="one of the obstacle codes (GET /api/v1/cases/obstacles)"
    )
    item: str | None = Field(default=None, max_length=200, description="the service item (事项) concerned")
    department: str | None = Field(default=None, max_length=40, description="the department it got stuck at")
    anonymous: bool = Field(default=False, description="identity visible to the window's staff only")
    complainant_name: str | None = Field(default=None, max_length=50)
    complainant_phone: str | None = Field(default=None, max_length=32)
    complainant_id_number: str | None = Field(default=None, max_length=18)
    company_name: str | None = Field(default=None, max_length=200)
    company_uscc: str | None = Field(
        default=None, max_length=30, description="统一社会信用代码, checksum verified"
    )
    origin_kind: str = Field(default="window", description="window / portal / order / application")
    origin_code: str | None = Field(
        default=None, max_length=40, description="the order's or application's code"
    )

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in KINDS:
            raise ValueError(f"kind must be one of: {', '.join(KINDS)}")
        return v

    @field_validator("obstacle")
    @classmethod
    def _obstacle(cls, v: str | None) -> str | None:
        if v and v not in CODES:
            raise ValueError(f"obstacle must be one of: {', '.join(CODES)}")
        return v or None

    @field_validator("origin_kind")
    @classmethod
    def _origin(cls, v: str) -> str:
        if v not in ORIGIN_KINDS:
            raise ValueError(f"origin_kind must be one of: {', '.join(ORIGIN_KINDS)}")
        return v

    @field_validator("complainant_phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalise_phone(v) if v else None

    @field_validator("complainant_id_number")
    @classmethod
    def _id_number(cls, v: str | None) -> str | None:
        return normalise_id_number(v) if v else None

    @field_validator("company_uscc")
    @classmethod
    def _uscc(cls, v: str | None) -> str | None:
        return normalise_uscc(v) if v else None

    @model_validator(mode="after")
    def _consistent(self) -> CaseCreate:
        if self.kind == "business" and not self.company_uscc:
            raise ValueError(
                "a business-environment complaint needs the company's company_uscc (统一社会信用代码)"
            )
        if self.origin_kind in ("order", "application") and not self.origin_code:
            raise ValueError(f"origin_kind {self.origin_kind!r} needs origin_code")
        if self.origin_kind in ("window", "portal") and self.origin_code:
            raise ValueError("origin_code is only for cases escalated from an order or application")
        return self


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=2000)
    owner: str = Field(min_length=1, max_length=40, description="the owning department's code")
    due: date = Field(description="due date (the end of that working day in the city)")


class MeetingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    held_on: date
    participants: list[str] = Field(min_length=1, max_length=50)
    minutes: str = Field(min_length=1, max_length=20_000)
    decisions: list[DecisionIn] = Field(default_factory=list, max_length=30)

    @field_validator("participants")
    @classmethod
    def _participants(cls, v: list[str]) -> list[str]:
        names = [p.strip() for p in v if p.strip()]
        if not names:
            raise ValueError("name at least one participant")
        if any(len(p) > 100 for p in names):
            raise ValueError("a participant's entry is at most 100 characters")
        return names


class CaseAction(BaseModel):
    """Fields an action may carry; the state table says which ones each action requires."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=2000)
    comment: str | None = Field(default=None, max_length=2000)
    obstacle: str | None = Field(default=None, description="set or correct the obstacle (ledger)")
    item: str | None = Field(default=None, max_length=200)
    department: str | None = Field(default=None, max_length=40, description="lead department (牵头单位)")
    co_departments: list[str] | None = Field(default=None, max_length=10)
    days: int | None = Field(default=None, ge=1, le=60, description="working days to the deadline")
    meeting: MeetingIn | None = None
    decision_id: int | None = None
    outcome: str | None = Field(default=None, max_length=16, description="done / refused / proposal")
    explanation: str | None = Field(default=None, max_length=10_000)
    proposal: str | None = Field(default=None, max_length=2000)
    result: str | None = Field(default=None, max_length=24)
    expected_version: int | None = None

    @field_validator("obstacle")
    @classmethod
    def _obstacle(cls, v: str | None) -> str | None:
        if v and v not in CODES:
            raise ValueError(f"obstacle must be one of: {', '.join(CODES)}")
        return v or None


# --- responses ------------------------------------------------------------------------------------


class Complainant(BaseModel):
    """Who complained: null fields when the reader may not see them (anonymous: the window's only)."""

    anonymous: bool
    visible: bool = Field(description="false: the identity is withheld from this reader")
    name: str | None
    phone: str | None
    id_number: str | None
    company_name: str | None
    company_uscc: str | None


class DeadlineOut(BaseModel):
    at: datetime | None
    state: str | None = Field(description="on_time / warning / overdue; null when no deadline runs")


class CaseSummary(BaseModel):
    code: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    subject: str
    obstacle: str | None
    obstacle_label: str | None
    item: str | None
    department: str | None = Field(description="the lead department's code")
    department_name: str | None
    origin_kind: str
    origin_code: str | None
    anonymous: bool
    received_at: datetime
    deadline: DeadlineOut
    supervision_level: int
    escalated: bool


class DecisionOut(BaseModel):
    id: int
    text: str
    owner: str
    owner_name: str
    due_at: datetime
    alert: str | None
    done_at: datetime | None
    done_note: str | None


class MeetingOut(BaseModel):
    seq: int
    held_on: date
    participants: list[str]
    minutes: str
    recorded_by: str
    decisions: list[DecisionOut]


class CaseDetail(CaseSummary):
    content: str
    channel: str
    concerned_department: str | None
    complainant: Complainant
    co_departments: list[str]
    on_spot_note: str | None
    outcome: str | None
    outcome_text: str | None
    proposal_text: str | None
    follow_up_result: str | None
    follow_up_comment: str | None
    meetings: list[MeetingOut]
    closed_at: datetime | None
    version: int
    event_count: int
    allowed_actions: list[str]


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


class CaseEventOut(EventOut):
    pass


class ObstacleOut(BaseModel):
    code: str
    label: Label


# --- the reform list ------------------------------------------------------------------------------


class ProposalOut(BaseModel):
    id: int
    title: str
    obstacle: str | None
    obstacle_label: str | None
    item: str | None
    owner: str | None
    owner_name: str | None
    status: str
    status_label: str
    note: str | None
    source_case: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class ProposalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300)
    obstacle: str | None = Field(default=None, max_length=24)
    item: str | None = Field(default=None, max_length=200)
    owner: str | None = Field(default=None, max_length=40, description="the owning department's code")
    note: str | None = Field(default=None, max_length=4000)


class ProposalUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: str | None = Field(
        default=None, description="proposed / accepted / in_progress / done / rejected"
    )
    owner: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=4000)


class ReformExample(BaseModel):
    kind: str = Field(description="case / order")
    code: str
    subject: str
    outcome: str | None


class ReformGroup(BaseModel):
    key: str
    label: str
    cases: int
    orders: int
    total: int
    trend: str = Field(description="rising / falling / steady: the last month against the months before")
    by_month: list[int]
    examples: list[ReformExample]
    proposals: list[ProposalOut]


class ReformListOut(BaseModel):
    by: str
    months: list[str]
    from_: datetime = Field(alias="from")
    to: datetime
    groups: list[ReformGroup]
    proposals: list[ProposalOut]

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)
