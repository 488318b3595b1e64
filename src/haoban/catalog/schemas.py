"""Request and response bodies of the service catalogue. Input accepts the Chinese labels a city's own
spreadsheet uses (即办件, 全程网办, 复印件 …) as well as the English values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from haoban.catalog.models import (
    AUDIENCE_LABELS,
    FORM_LABELS,
    KIND_LABELS,
    ONLINE_LABELS,
    Audience,
    ItemKind,
    MaterialForm,
    OnlineLevel,
)

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,79}$"
# Other spellings seen in cities' lists, beyond the labels themselves.
_EXTRA_ALIASES = {
    "全程网上办理": OnlineLevel.FULL.value,
    "网上办理": OnlineLevel.FULL.value,
    "网上预约": OnlineLevel.APPOINTMENT.value,
    "网上预审": OnlineLevel.APPOINTMENT.value,
    "最多跑一次": OnlineLevel.APPOINTMENT.value,
    "窗口": OnlineLevel.WINDOW.value,
    "原件和复印件": MaterialForm.BOTH.value,
    "原件、复印件": MaterialForm.BOTH.value,
    "个人": Audience.PERSON.value,
    "自然人": Audience.PERSON.value,
    "法人": Audience.BUSINESS.value,
    "企业": Audience.BUSINESS.value,
}
_TRUE = {"1", "true", "yes", "y", "是", "容缺", "可容缺", "√"}
_FALSE = {"", "0", "false", "no", "n", "否", "不可容缺"}


def _choice(value: Any, labels: dict[str, tuple[str, str]], what: str) -> Any:
    """The enum value for an English value, a zh / en label or a known alias (else unchanged: the enum
    then refuses it and names the accepted values)."""
    if not isinstance(value, str):
        return value
    v = value.strip()
    for key, (zh, en) in labels.items():
        if v in (key, zh, en) or v.lower() == str(key):
            return str(key)
    alias = _EXTRA_ALIASES.get(v)
    if alias is not None and alias in labels:
        return alias
    accepted = ", ".join(f"{k} ({zh})" for k, (zh, _en) in labels.items())
    raise ValueError(f"unknown {what} {v!r}; use one of {accepted}")


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
        raise ValueError(f"{value!r} is not yes/no (是/否)")
    return value


class MaterialIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    form: MaterialForm = MaterialForm.ORIGINAL
    count: int = Field(default=1, ge=1, le=99)
    tolerance: bool = Field(default=False, description="容缺: may be brought later on a written promise")
    licence_kind: str | None = Field(
        default=None,
        pattern=CODE_PATTERN,
        description="the government holds it: the code of the item whose electronic licence it is",
    )
    note: str | None = Field(default=None, max_length=300)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        # "|" and ";" separate fields and materials in the spreadsheet cell; keep names free of them.
        if any(c in v for c in "|;；\n"):
            raise ValueError("a material's name cannot contain | ; or a line break")
        return v

    @field_validator("form", mode="before")
    @classmethod
    def _form(cls, v: Any) -> Any:
        return _choice(v, FORM_LABELS, "material form")

    @field_validator("tolerance", mode="before")
    @classmethod
    def _tolerance(cls, v: Any) -> Any:
        return _flag(v)

    @field_validator("licence_kind", "note", mode="before")
    @classmethod
    def _blank_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v


class ItemIn(BaseModel):
    """One catalogue item, as created, replaced (PUT) or imported."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=CODE_PATTERN, description="stable key, e.g. wjw-birth-medical-certificate")
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    department: str = Field(min_length=1, max_length=100, description="department code (or its name)")
    group_name: str | None = Field(default=None, max_length=200)
    task_type: str | None = Field(default=None, max_length=20, description="行政许可, 公共服务 …")
    audience: Audience = Audience.PERSON
    kind: ItemKind
    statutory_days: int = Field(ge=0, le=365, description="法定时限, working days")
    promised_days: int = Field(ge=0, le=365, description="承诺时限, working days (0 = the same day)")
    online: OnlineLevel
    fee_fen: int = Field(default=0, ge=0, le=10**9, description="fee in fen (1/100 yuan); 0 = free")
    fee_note: str | None = Field(default=None, max_length=300)
    legal_basis: str = Field(default="", max_length=4000)
    conditions: str | None = Field(default=None, max_length=4000)
    form_name: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=300)
    hours: str | None = Field(default=None, max_length=200)
    result_name: str | None = Field(default=None, max_length=100)
    life_events: list[str] = Field(default_factory=list, max_length=20)
    keywords: list[str] = Field(
        default_factory=list, max_length=20, description="what people call it (俗称), searched"
    )
    materials: list[MaterialIn] = Field(default_factory=list, max_length=60)
    source: str | None = Field(default=None, max_length=200)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> Any:
        return _choice(v, KIND_LABELS, "kind")

    @field_validator("online", mode="before")
    @classmethod
    def _online(cls, v: Any) -> Any:
        return _choice(v, ONLINE_LABELS, "online level")

    @field_validator("audience", mode="before")
    @classmethod
    def _audience(cls, v: Any) -> Any:
        return _choice(v, AUDIENCE_LABELS, "audience")

    @field_validator("life_events", "keywords", mode="before")
    @classmethod
    def _events(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [p for p in (s.strip() for s in v.replace("；", ";").replace("、", ";").split(";")) if p]
        return v

    @field_validator(
        "name_en",
        "group_name",
        "task_type",
        "fee_note",
        "conditions",
        "form_name",
        "location",
        "hours",
        "result_name",
        "source",
        mode="before",
    )
    @classmethod
    def _blank_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @model_validator(mode="after")
    def _limits(self) -> ItemIn:
        if self.promised_days > self.statutory_days:
            raise ValueError(
                f"promised_days ({self.promised_days}) exceeds statutory_days ({self.statutory_days}): "
                "a promise can only shorten the legal time limit"
            )
        if self.kind == ItemKind.IMMEDIATE and self.promised_days != 0:
            raise ValueError("an immediate item (即办件) is decided the same day: promised_days must be 0")
        names = [m.name for m in self.materials]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup:
            raise ValueError(f"material {dup!r} is listed twice")
        return self


class MaterialOut(BaseModel):
    name: str
    form: str
    form_label: str
    count: int
    tolerance: bool
    held_by_government: bool
    licence_kind: str | None
    note: str | None


class ItemOut(BaseModel):
    code: str
    name: str
    name_en: str | None
    department: str
    department_name: str
    group_name: str | None
    task_type: str | None
    audience: str
    kind: str
    kind_label: str
    statutory_days: int
    promised_days: int
    days_saved: int = Field(description="statutory − promised working days (承诺压缩)")
    online: str
    online_label: str
    fee_fen: int
    fee_note: str | None
    legal_basis: str
    conditions: str | None
    form_name: str | None
    location: str | None
    hours: str | None
    result_name: str | None
    life_events: list[str]
    keywords: list[str]
    materials: list[MaterialOut]
    source: str | None
    active: bool
    version: int
    updated_at: datetime


class ItemSummary(BaseModel):
    code: str
    name: str
    department: str
    department_name: str
    kind: str
    kind_label: str
    statutory_days: int
    promised_days: int
    online: str
    online_label: str
    life_events: list[str]
    active: bool


class ItemPage(BaseModel):
    items: list[ItemSummary]
    total: int
    page: int
    page_size: int


class ItemHit(ItemSummary):
    score: float
    snippet: str


class ItemSearchOut(BaseModel):
    items: list[ItemHit]
    took_ms: float


class RowError(BaseModel):
    row: int = Field(description="spreadsheet row (header = 1) or the YAML line of the item")
    code: str | None
    message: str


class ImportReportOut(BaseModel):
    total: int
    created: int
    updated: int
    unchanged: int
    errors: list[RowError]


class LifeEventOut(BaseModel):
    name: str
    items: int


class DepartmentCount(BaseModel):
    department: str
    department_name: str
    items: int
    online_rate: float | None


class CatalogMetrics(BaseModel):
    items: int = Field(description="active items")
    online_rate: float | None = Field(description="网上可办率: fully online or booked online (one visit)")
    full_online_rate: float | None = Field(description="全程网办率: fully online, no visit")
    immediate_rate: float | None = Field(description="即办件占比")
    statutory_days_total: int
    promised_days_total: int
    compression: float | None = Field(description="承诺时限压缩率: 1 − Σ promised / Σ statutory")
    mean_item_compression: float | None = Field(description="mean of 1 − promised / statutory per item")
    materials: int
    materials_held: int = Field(description="materials the government already holds (reused, not asked)")
    materials_reuse_rate: float | None
    materials_tolerance: int = Field(description="materials that may be brought later (容缺)")
    by_department: list[DepartmentCount]
    by_online: dict[str, int]
