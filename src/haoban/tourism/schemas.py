"""Request and response shapes of the tourism API (Pydantic v2)."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from haoban.tourism.vocabulary import KIND_BY_LABEL, WEEKDAYS, PlaceKind

_SPAN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")


class HoursIn(BaseModel):
    """Opening hours: one span on working days, another on rest days (weekends and holidays)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    workday: str | None = Field(default=None, description="HH:MM-HH:MM, empty = open all day")
    restday: str | None = Field(default=None, description="rest days and statutory holidays; default workday")
    closed: list[str] = Field(default_factory=list, description="weekly closing days: mon … sun")
    open_on_holidays: bool = Field(
        default=True, description="a statutory holiday falling on a closing day opens anyway (节假日除外)"
    )

    @field_validator("workday", "restday")
    @classmethod
    def _span(cls, v: str | None) -> str | None:
        if not v:
            return None
        v = v.replace("–", "-").replace("~", "-").replace(" ", "")
        if not _SPAN.match(v) or v[:5] >= v[6:]:
            raise ValueError("use HH:MM-HH:MM with the opening before the closing, e.g. 08:00-17:30")
        return v

    @field_validator("closed", mode="before")
    @classmethod
    def _days(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [d for d in re.split(r"[\s,;|，]+", v) if d]
        out = []
        for d in v or []:
            d = str(d).strip().lower()[:3]
            if d not in WEEKDAYS:
                raise ValueError(f"unknown weekday {d!r}; use mon tue wed thu fri sat sun")
            out.append(d)
        return out


class PlaceIn(BaseModel):
    """One place as imported (CSV row or YAML entry). Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=150)
    kind: PlaceKind
    district: str | None = Field(default=None, max_length=50, description="district code or name")
    address: str | None = Field(default=None, max_length=300)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    hours: HoursIn = Field(default_factory=HoursIn)
    price_fen: int | None = Field(default=None, ge=0, le=10_000_000, description="in fen; empty = free")
    capacity: int | None = Field(default=None, ge=1, le=1_000_000, description="visitors per day")
    accessibility: str | None = Field(default=None, max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=20)
    guide: str | None = Field(default=None, max_length=5000)
    guide_en: str | None = Field(default=None, max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=30)
    phone: str | None = Field(default=None, max_length=32)
    demo: bool = False

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_from_chinese(cls, v: Any) -> Any:
        return KIND_BY_LABEL.get(v, v) if isinstance(v, str) else v

    @field_validator("photos", "tags", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [x.strip() for x in re.split(r"[|;，,]", v) if x.strip()]
        return v

    @model_validator(mode="after")
    def _coordinates_together(self) -> PlaceIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class HoursToday(BaseModel):
    day: date
    open: bool
    span: str | None = Field(description="HH:MM-HH:MM, null when open all day or closed")
    day_kind: str = Field(description="workday / weekend / holiday / makeup_workday (the city's calendar)")
    holiday_name: str | None = None


class PlaceOut(BaseModel):
    code: str
    name: str
    name_en: str | None
    kind: str
    kind_label: str
    district: str | None
    district_name: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    hours: dict[str, Any]
    today: HoursToday
    price_fen: int | None
    capacity: int | None
    accessibility: str | None
    photos: list[str]
    guide: str | None
    guide_en: str | None
    tags: list[str]
    phone: str | None
    demo: bool
    score: float | None = Field(default=None, description="search relevance, when searched")
    distance_km: float | None = Field(default=None, description="from the given lat / lon, when given")
    guide_audio: str | None = Field(default=None, description="the spoken guide (WAV), once it is made")


class PlaceList(BaseModel):
    total: int
    items: list[PlaceOut]


class ImportProblem(BaseModel):
    row: int = Field(description="1-based: the CSV line (header = 1) or the YAML entry number")
    field: str
    message: str


class ImportResult(BaseModel):
    created: int
    updated: int
    problems: list[ImportProblem] = Field(default_factory=list)


# --- timed tickets --------------------------------------------------------------------------------


class SlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")
    capacity: int = Field(ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _ordered(self) -> SlotIn:
        if self.start >= self.end:
            raise ValueError("a slot must end after it starts")
        return self


class RefundStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    before_hours: float = Field(ge=0, le=24 * 90, description="at least this long before the slot starts")
    percent: int = Field(ge=0, le=100)


class PlanIn(BaseModel):
    """How a place sells timed tickets. Refund steps: the first one whose time is still ahead applies."""

    model_config = ConfigDict(extra="forbid")

    slots: list[SlotIn] = Field(min_length=1, max_length=48)
    price_fen: int | None = Field(default=None, ge=0, le=10_000_000, description="default: the place's price")
    refund_rule: list[RefundStep] = Field(default_factory=list, max_length=10)
    book_days_ahead: int = Field(default=7, ge=0, le=90)
    max_per_order: int = Field(default=5, ge=1, le=50)

    @model_validator(mode="after")
    def _no_overlap(self) -> PlanIn:
        spans = sorted((s.start, s.end) for s in self.slots)
        for (_a0, a1), (b0, _b1) in itertools.pairwise(spans):
            if b0 < a1:
                raise ValueError("time slots overlap")
        self.refund_rule = sorted(self.refund_rule, key=lambda r: -r.before_hours)
        return self


class PlanOut(BaseModel):
    place: str
    slots: list[SlotIn]
    price_fen: int
    refund_rule: list[RefundStep]
    book_days_ahead: int
    max_per_order: int


class SlotOut(BaseModel):
    id: int
    start: str
    end: str
    capacity: int
    sold: int
    remaining: int
    bookable: bool


class SlotsOut(BaseModel):
    place: str
    day: date
    price_fen: int
    closed_reason: str | None = Field(description="why the day cannot be booked, or null")
    max_per_order: int
    slots: list[SlotOut]


class VisitorIn(BaseModel):
    """A real-name visitor: the name and resident ID number (GB 11643, checksum validated)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=18, max_length=18)

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str) -> str:
        from haoban.orders.citizen import normalise_id_number

        return normalise_id_number(v)


class BookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slot_id: int
    phone: str = Field(min_length=5, max_length=32)
    visitors: list[VisitorIn] = Field(min_length=1, max_length=50)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        from haoban.orders.citizen import normalise_phone

        return normalise_phone(v)

    @model_validator(mode="after")
    def _distinct(self) -> BookIn:
        ids = [v.id_number for v in self.visitors]
        if len(set(ids)) != len(ids):
            raise ValueError("the same ID number appears twice: one ticket per person")
        return self


class TicketOut(BaseModel):
    serial: str
    visitor_name: str
    id_number: str = Field(description="masked")
    price_fen: int
    status: str
    status_label: str
    used_at: datetime | None
    used_gate: str | None
    token: str | None = Field(description="the signed QR content, while the ticket is valid")


class TicketOrderOut(BaseModel):
    code: str
    place: str
    place_name: str
    day: date
    slot: str
    phone: str | None
    total_fen: int
    refunded_fen: int
    status: str
    status_label: str
    payer: str
    tickets: list[TicketOut]


class BookedOut(TicketOrderOut):
    key: str = Field(description="the buyer's key to this order: keep it (the order page's link carries it)")


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=8, max_length=64)
    tickets: list[str] | None = Field(default=None, max_length=50, description="serials; default all valid")


class CheckInIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=6, max_length=2000, description="the QR token, or the ticket's typed serial")
    gate: str = Field(min_length=1, max_length=60, description="which gate, e.g. 大庙东门")


class CheckInOut(BaseModel):
    serial: str
    place: str
    place_name: str
    day: date
    slot: str
    visitor_name: str
    id_number: str
    checked_in_at: datetime
    gate: str


class PublicKeyOut(BaseModel):
    algorithm: str
    public_key: str = Field(description="raw 32-byte Ed25519 public key, base64")
    pem: str
    format: str


# --- complaints, map, dashboard -------------------------------------------------------------------


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    content: str = Field(min_length=5, max_length=5000, description="what happened")
    phone: str = Field(min_length=5, max_length=32, description="for the call-back")
    name: str | None = Field(default=None, max_length=50)
    publish: bool = Field(default=False, description="let the place's page show the city's reply")

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        from haoban.orders.citizen import normalise_phone

        return normalise_phone(v)


class ComplaintOut(BaseModel):
    code: str = Field(description="the 12345 tracking code")
    department: str
    category: str


class ReplyOut(BaseModel):
    code: str
    subject: str
    reply: str
    replied_at: datetime | None


class WalkStop(BaseModel):
    code: str
    name: str
    latitude: float
    longitude: float
    leg_km: float
    today: HoursToday


class WalkOut(BaseModel):
    total_km: float
    stops: list[WalkStop]


class VisitorsDay(BaseModel):
    place: str
    place_name: str
    day: date
    capacity: int
    booked: int
    checked_in: int
    fill: float | None
    check_in_rate: float | None


class SalesRow(BaseModel):
    place: str
    place_name: str
    net_fen: int = Field(description="charges minus refunds")
    orders: int


class ComplaintsRow(BaseModel):
    place: str
    place_name: str
    complaints: int


class DashboardOut(BaseModel):
    start: date
    end: date
    visitors: list[VisitorsDay]
    sales: list[SalesRow]
    complaints: list[ComplaintsRow]
    totals: dict[str, Any]


class AskAnswer(BaseModel):
    place: str
    place_name: str
    kind: str = Field(description="guide / hours / tickets / visit")
    kind_label: str
    text: str
    score: float
    source: str = Field(description="the place's page")


class AskOut(BaseModel):
    question: str
    known: bool = Field(description="false: nothing fits; ask 12345")
    answers: list[AskAnswer]
    fallback: dict[str, str] | None
