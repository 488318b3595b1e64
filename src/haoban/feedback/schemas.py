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
