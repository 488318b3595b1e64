"""Request and response shapes of the work-order API (Pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from haoban.directory.vocabulary import TYPE_BY_LABEL, Channel, OrderType, Urgency
from haoban.orders.citizen import normalise_id_number, normalise_phone

MAX_CONTENT = 10_000


class OrderCreate(BaseModel):
    """A new appeal from any channel. Unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    channel: Channel = Channel.PHONE
    type: OrderType = Field(default=OrderType.CONSULT, description="咨询 求助 投诉 举报 建议 表扬")
    urgency: Urgency = Urgency.NORMAL
    subject: str | None = Field(default=None, max_length=200)
    content: str = Field(min_length=1, max_length=MAX_CONTENT)
    citizen_name: str | None = Field(default=None, max_length=50)
    citizen_phone: str | None = Field(default=None, max_length=32)
    citizen_id_number: str | None = Field(default=None, max_length=18)
    address: str | None = Field(default=None, max_length=300)
    district: str | None = Field(default=None, max_length=50, description="district code or name")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    category: str | None = Field(default=None, max_length=300, description="category code or path")
    department: str | None = Field(default=None, max_length=40, description="lead department code")
    co_handlers: list[str] = Field(default_factory=list, max_length=10)
    received_at: datetime | None = None
    external_ref: str | None = Field(default=None, max_length=120)

    @field_validator("type", mode="before")
    @classmethod
    def _type_from_chinese(cls, v: Any) -> Any:
        return TYPE_BY_LABEL.get(v, v) if isinstance(v, str) else v

    @field_validator("content")
    @classmethod
    def _content_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("content is empty")
        return v

    @field_validator("citizen_phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return normalise_phone(v) if v else None

    @field_validator("citizen_id_number")
    @classmethod
    def _id_number(cls, v: str | None) -> str | None:
        return normalise_id_number(v) if v else None

    @field_validator("received_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("received_at needs a time zone offset, e.g. 2026-09-30T10:00:00+08:00")
        return v

    @model_validator(mode="after")
    def _coordinates_together(self) -> OrderCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class ActionRequest(BaseModel):
    """Fields an action may carry; the state table says which ones each action requires."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    comment: str | None = Field(default=None, max_length=2000)
    answer: str | None = Field(default=None, max_length=MAX_CONTENT)
    reply: str | None = Field(default=None, max_length=MAX_CONTENT)
    decision: str | None = Field(default=None, max_length=20)
    result: str | None = Field(default=None, max_length=24)
    target: str | None = Field(default=None, max_length=10)
    department: str | None = Field(default=None, max_length=40)
    co_handlers: list[str] | None = Field(default=None, max_length=10)
    category: str | None = Field(default=None, max_length=300)
    days: int | None = Field(default=None, ge=1, le=60)
    master: str | None = Field(default=None, max_length=24)
    region: str | None = Field(default=None, max_length=12, description="partner city's region code")
    knowledge_article_id: int | None = None
    expected_version: int | None = Field(
        default=None, description="Optimistic lock: refuse with 409 if the order changed since this version"
    )


# --- responses ------------------------------------------------------------------------------------


class DeadlineOut(BaseModel):
    at: datetime | None
    state: str | None = Field(description="on_time / warning / overdue; null when the clock does not run")
    provisional: bool = False


class Deadlines(BaseModel):
    sign: DeadlineOut
    handle: DeadlineOut


class OrderSummary(BaseModel):
    """An order in a list: personal data masked."""

    code: str
    status: str
    status_label: str
    channel: str
    type: str
    type_label: str
    urgency: str
    subject: str
    citizen_name: str | None
    citizen_phone: str | None
    district: str | None
    category: str | None
    department: str | None
    department_name: str | None
    received_at: datetime
    deadlines: Deadlines
    supervision_level: int
    redo_count: int


class KnownOrderOut(OrderSummary):
    """A registration whose ``external_ref`` was seen before: the stored order, nothing new written."""

    created: bool = False


class DispatchInfo(BaseModel):
    source: str | None
    confidence: float | None
    rule_id: int | None
    suggestions: list[dict[str, Any]] = []


class ExtensionRequest(BaseModel):
    days: int
    reason: str | None


class CallbackOut(BaseModel):
    result: str
    comment: str | None


class OrderDetail(OrderSummary):
    """One order for staff who may see it, with the actions the caller may take now."""

    content: str
    citizen_id_number: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    category_code: str | None
    co_handlers: list[str]
    dispatch: DispatchInfo
    answer: str | None
    transfer_target: str | None
    return_reason: str | None
    extension_request: ExtensionRequest | None
    reply: str | None
    replied_at: datetime | None
    signed_at: datetime | None
    closed_at: datetime | None
    callback: CallbackOut | None
    master: str | None
    version: int
    event_count: int
    allowed_actions: list[str] = Field(description="every check passed: role, department, state, guards")


class OrderPage(BaseModel):
    items: list[OrderSummary]
    total: int = Field(
        description="orders the filter matches, counted up to 10,000 (see total_exact) for the first page; "
        "pages reached by cursor repeat that count"
    )
    total_exact: bool = Field(description="false: more than 10,000 orders match (total is then 10,000)")
    page: int | None = Field(description="the numbered page, or null for a page reached by cursor")
    page_size: int
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page (older orders); null on the last page"
    )
    next: str | None = Field(description="the next page's path and query (also the `Link: rel=next` header)")


class CreatedDeadline(BaseModel):
    at: datetime | None
    provisional: bool = False


class CreatedDeadlines(BaseModel):
    sign: CreatedDeadline
    handle: CreatedDeadline


class CreatedOrderOut(BaseModel):
    """A newly registered order (201); a repeated ``external_ref`` answers with the stored one (200)."""

    code: str
    created: bool
    status: str
    status_label: str
    category: str | None
    category_code: str | None
    department: str | None
    department_name: str | None
    deadlines: CreatedDeadlines
    dispatch: DispatchInfo


class EventOut(BaseModel):
    seq: int
    action: str
    actor: str
    role: str
    at: datetime
    from_status: str | None
    to_status: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class TrackEvent(BaseModel):
    at: datetime
    action: str
    status: str
    status_label: str


class TrackOut(BaseModel):
    """What a citizen sees with the tracking code and the last four digits of their phone."""

    code: str
    status: str
    status_label: str
    status_label_en: str
    subject: str
    received_at: datetime
    department: str | None
    handle_deadline: datetime
    answer: str | None
    reply: str | None
    master: str | None = Field(default=None, description="the order this one was merged into (并单)")
    timeline: list[TrackEvent]


class Label(BaseModel):
    zh: str
    en: str


class GuardOut(BaseModel):
    name: str
    message: str


class TransitionOut(BaseModel):
    action: str
    label: Label
    from_: list[str] = Field(alias="from", description="states it starts from; empty: creates the order")
    to: dict[str, str] = Field(description="target state per decision ('' without one); empty when it stays")
    stays: bool
    internal: bool = Field(description="taken by the platform only, never offered to people")
    roles: list[str]
    required: list[str]
    decisions: list[str]
    lead_department_only: bool
    guards: list[GuardOut]
    description: str

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class WorkflowOut(BaseModel):
    statuses: dict[str, Label]
    actions: list[TransitionOut]


class PersonalDataViewOut(BaseModel):
    at: datetime
    kind: str = Field("order", description="order / application: what was looked at")
    code: str
    username: str
    role: str
    purpose: str
    via: str


class ReplyTemplateOut(BaseModel):
    id: int
    category: str | None = Field(description="the category path; null: offered for every category")
    title: str
    body: str = Field(description="the text with its placeholders ({department}, {code}, …)")
    revision: int
    updated_at: datetime


class ReplyTemplateRevisionOut(BaseModel):
    id: int
    template_id: int
    revision: int
    change: str
    actor: str
    at: datetime
    snapshot: str = Field(description="the template as JSON after the change")


class OrderReplyTemplateOut(BaseModel):
    id: int
    title: str
    category: str | None
    text: str = Field(description="the template with the order's values filled in")
