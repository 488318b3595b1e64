"""Request and response shapes of the feedback API: ratings (好差评), rectifications (整改), reply scores."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RatingLevel(enum.StrEnum):
    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意
    VERY_UNSATISFIED = "very_unsatisfied"  # 非常不满意


# level → (score 5…1, Chinese label, English label)
RATING_LEVELS: dict[RatingLevel, tuple[int, str, str]] = {
    RatingLevel.VERY_SATISFIED: (5, "非常满意", "Very satisfied"),
    RatingLevel.SATISFIED: (4, "满意", "Satisfied"),
    RatingLevel.BASICALLY_SATISFIED: (3, "基本满意", "Basically satisfied"),
    RatingLevel.UNSATISFIED: (2, "不满意", "Unsatisfied"),
    RatingLevel.VERY_UNSATISFIED: (1, "非常不满意", "Very unsatisfied"),
}
LEVEL_BY_LABEL = {zh: level.value for level, (_, zh, _) in RATING_LEVELS.items()}
# 差评: the two lowest levels open a rectification.
BAD_SCORE = 2


class RatingIn(BaseModel):
    """A citizen's rating, proven by the tracking code and the last four digits of their phone."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=24, description="tracking code, e.g. HB20261127000301")
    phone_last4: str = Field(pattern=r"^\d{4}$", description="last four digits of the phone you gave")
    level: RatingLevel = Field(description="非常满意 满意 基本满意 不满意 非常不满意 (or the English keys)")
    comment: str | None = Field(default=None, max_length=500)

    @field_validator("level", mode="before")
    @classmethod
    def _level_from_chinese(cls, v: Any) -> Any:
        return LEVEL_BY_LABEL.get(v.strip(), v) if isinstance(v, str) else v


class RectificationClose(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str | None = Field(default=None, max_length=2000, description="what was done (required)")


# --- responses ------------------------------------------------------------------------------------


class ScoreOut(BaseModel):
    event_seq: int
    total: float
    grade: str
    grade_label: str
    relevance: float
    completeness: float
    timeliness: float | None
    tone: float
    reasons: list[str]
    scored_at: datetime


class ReplyScoresOut(BaseModel):
    code: str
    status: str
    reply: str | None
    scored_order: str = Field(description="the order whose reply was scored (a merged order's master)")
    latest: ScoreOut | None
    history: list[ScoreOut]


class ReplyReviewItem(BaseModel):
    code: str
    subject: str
    department: str | None
    department_name: str | None
    replied_at: datetime | None
    reply: str | None
    score: ScoreOut | None


class ReplyReviewsOut(BaseModel):
    items: list[ReplyReviewItem]


class RectificationBrief(BaseModel):
    status: str
    deadline: datetime


class RatingOut(BaseModel):
    code: str
    level: str
    score: int
    label: str
    label_en: str
    comment: str | None
    created_at: datetime
    rectification: RectificationBrief | None


class RatingBrief(BaseModel):
    level: str
    score: int
    label: str
    label_en: str
    comment: str | None
    created_at: datetime


class RectificationOut(BaseModel):
    id: int
    code: str
    subject: str
    department: str | None
    department_name: str | None
    rating: RatingBrief
    status: str
    deadline: datetime
    deadline_provisional: bool
    overdue: bool
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    note: str | None


class RectificationPage(BaseModel):
    items: list[RectificationOut]
    total: int
    page: int
    page_size: int


# --- 好差评 for services (applications and window visits) ------------------------------------------------

# What a rating is about, after the State Council's 好差评 rules (国办发〔2019〕51号): key → (zh, en).
ASPECTS: dict[str, tuple[str, str]] = {
    "attitude": ("服务态度", "Attitude"),
    "efficiency": ("办事效率", "Speed"),
    "materials": ("材料要求", "Materials required"),
    "process": ("办事流程", "Procedure and steps"),
    "guide": ("办事指南", "Service guide"),
    "trips": ("跑动次数", "Trips needed"),
    "environment": ("服务环境", "Premises or website"),
    "integrity": ("廉洁自律", "Integrity"),
}
ASPECT_BY_LABEL = {zh: key for key, (zh, _) in ASPECTS.items()}
# Where a service was delivered: online, at a window, or 帮代办 (on someone's behalf).
SERVICE_CHANNELS: dict[str, tuple[str, str]] = {
    "online": ("网上办", "Online"),
    "window": ("窗口办", "At a window"),
    "assisted": ("帮代办", "Assisted"),
}


class ServiceRatingIn(RatingIn):
    """A rating of a finished application (办件编号 BJ…) or a window visit (窗口评价码 CK…)."""

    code: str = Field(min_length=1, max_length=24, description="application code BJ… or visit code CK…")
    aspects: list[str] = Field(default_factory=list, max_length=len(ASPECTS), description="aspect keys")
    item: str | None = Field(
        default=None,
        max_length=80,
        description="the item (事项 code) the rating is about, when an application has several departments",
    )

    @field_validator("aspects", mode="before")
    @classmethod
    def _aspects(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            return v
        out = []
        for a in v:
            if not isinstance(a, str):
                kind = type(a).__name__
                raise ValueError(f"each aspect is a text, got {kind}; aspects are: {', '.join(ASPECTS)}")
            key = ASPECT_BY_LABEL.get(a.strip(), a.strip())
            if key not in ASPECTS:
                raise ValueError(f"unknown aspect {a!r}; aspects are: {', '.join(ASPECTS)}")
            if key not in out:
                out.append(key)
        return out


class VisitIn(BaseModel):
    """A window clerk registers a visit so the person can rate it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    item: str = Field(min_length=1, max_length=80, description="the catalogue item (事项 code) served")
    person_phone: str = Field(
        min_length=5, max_length=32, description="the person's phone (proves the rating)"
    )
    channel: str = Field(default="window", pattern="^(window|assisted)$", description="window or assisted")
    note: str | None = Field(default=None, max_length=500)


class RectificationAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answer: str = Field(min_length=2, max_length=2000, description="what the department did about it")


class RectificationReview(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: str = Field(pattern="^(accept|reject)$", description="accept (closes it) or reject (reopens)")
    note: str | None = Field(default=None, max_length=2000, description="required to reject")


class VisitOut(BaseModel):
    code: str
    item: str
    item_name: str
    department: str | None
    department_name: str | None
    channel: str
    clerk: str
    phone: str = Field(description="masked")
    visited_at: datetime
    rate_url: str = Field(description="the page the person rates on (the QR code's link)")
    qr_url: str


class ServiceRectificationBrief(BaseModel):
    status: str
    deadline: datetime
    answer: str | None = Field(description="the department's answer, once a supervisor accepted it")
    closed_at: datetime | None


class ServiceRatingOut(BaseModel):
    code: str
    subject: str
    level: str
    score: int
    label: str
    label_en: str
    aspects: list[str]
    comment: str | None
    item: str
    item_name: str
    department: str | None
    department_name: str | None
    channel: str
    created_at: datetime
    rectification: ServiceRectificationBrief | None


class RateableItem(BaseModel):
    item: str
    name: str
    name_en: str | None
    department: str | None
    department_name: str | None


class RateableOut(BaseModel):
    code: str
    subject: str = Field(description="application or visit")
    name: str
    name_en: str | None
    status: str
    status_label: str
    status_label_en: str
    finished: bool
    items: list[RateableItem]
    rating: ServiceRatingOut | None


class ServiceRectificationOut(BaseModel):
    id: int
    code: str
    subject: str
    item: str
    item_name: str
    department: str | None
    department_name: str | None
    channel: str
    clerk: str | None
    rating: RatingBrief
    aspects: list[str]
    status: str
    deadline: datetime
    deadline_provisional: bool
    overdue: bool
    escalation_level: int
    created_at: datetime
    answer: str | None
    answered_at: datetime | None
    answered_by: str | None
    review_note: str | None
    reviewed_at: datetime | None
    reviewed_by: str | None
    closed_at: datetime | None


class ServiceRectificationPage(BaseModel):
    items: list[ServiceRectificationOut]
    total: int
    page: int
    page_size: int


class RatingFigureRow(BaseModel):
    key: str | None = Field(description="department code, item code, clerk id or channel")
    label: str
    ratings: int
    very_satisfied: int
    satisfied: int
    basically_satisfied: int
    unsatisfied: int
    very_unsatisfied: int
    good_rate: float | None = Field(description="好评率: 非常满意 + 满意 + 基本满意 ÷ ratings")
    average: float | None = Field(description="mean score, 5 非常满意 … 1 非常不满意")
    bad: int = Field(description="差评: 不满意 + 非常不满意")
    rectifications_open: int
    rectifications_overdue: int
    rectifications_closed: int


class ServiceRatingFigures(BaseModel):
    total: RatingFigureRow
    departments: list[RatingFigureRow]
    items: list[RatingFigureRow]
    clerks: list[RatingFigureRow]
    channels: list[RatingFigureRow]
