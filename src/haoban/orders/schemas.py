"""Request and response shapes of the work-order API (Pydantic v2)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from haoban.orders.citizen import normalise_id_number, normalise_phone

MAX_CONTENT = 10_000


class Channel(enum.StrEnum):
    PHONE = "phone"
    WEB = "web"
    APP = "app"
    WECHAT = "wechat"
    WINDOW = "window"
    EMAIL = "email"
    OPEN311 = "open311"


class OrderType(enum.StrEnum):
    CONSULT = "consult"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬


ORDER_TYPE_LABELS = {
    "consult": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}
ORDER_TYPE_BY_LABEL = {v: k for k, v in ORDER_TYPE_LABELS.items()}


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


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
        return ORDER_TYPE_BY_LABEL.get(v, v) if isinstance(v, str) else v

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
    knowledge_article_id: int | None = None
    expected_version: int | None = Field(
        default=None, description="Optimistic lock: refuse with 409 if the order changed since this version"
    )


class DeadlineOut(BaseModel):
    at: datetime | None
    state: str | None  # on_time / warning / overdue; None when not running
    provisional: bool = False


class EventOut(BaseModel):
    seq: int
    action: str
    actor: str
    role: str
    at: datetime
    from_status: str | None
    to_status: str
    payload: dict[str, Any]
    hash: str
    prev_hash: str


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
