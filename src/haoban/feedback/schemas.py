"""Request shapes of the feedback API: ratings (好差评) and rectifications (整改)."""

from __future__ import annotations

import enum
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
