"""Request and response shapes of the knowledge-base API."""

from __future__ import annotations

import enum
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_ANSWER = 10_000


def _clean_tags(v: list[str] | None) -> list[str] | None:
    if v is None:
        return None
    out: list[str] = []
    for tag in v:
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > 30:
            raise ValueError("a tag is at most 30 characters")
        if tag not in out:
            out.append(tag)
    return out


class ArticleIn(BaseModel):
    """A new article (a draft until a supervisor or admin publishes it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(min_length=2, max_length=300, description="the question as callers ask it")
    answer: str = Field(min_length=2, max_length=MAX_ANSWER)
    department: str | None = Field(default=None, max_length=40, description="responsible department code")
    valid_from: date | None = None
    valid_to: date | None = None
    tags: list[str] = Field(default_factory=list, max_length=20)
    source: str | None = Field(default=None, max_length=200, description="policy document, URL, …")

    _tags = field_validator("tags")(_clean_tags)

    @model_validator(mode="after")
    def _dates_in_order(self) -> ArticleIn:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class ArticleUpdate(BaseModel):
    """Changes to an article; any change sends it back to draft for review."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str | None = Field(default=None, min_length=2, max_length=300)
    answer: str | None = Field(default=None, min_length=2, max_length=MAX_ANSWER)
    department: str | None = Field(default=None, max_length=40, description="'' clears it")
    valid_from: date | None = None
    valid_to: date | None = None
    tags: list[str] | None = Field(default=None, max_length=20)
    source: str | None = Field(default=None, max_length=200)
    expected_version: int | None = Field(
        default=None, description="Optimistic lock: refuse with 409 if the article changed since this version"
    )

    _tags = field_validator("tags")(_clean_tags)


class ReviewDecision(enum.StrEnum):
    PUBLISH = "publish"
    REJECT = "reject"


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: ReviewDecision
    note: str | None = Field(default=None, max_length=2000, description="required to reject")
    expected_version: int | None = None


# --- responses ------------------------------------------------------------------------------------


class ArticleOut(BaseModel):
    id: int
    question: str
    answer: str
    department: str | None
    department_name: str | None
    valid_from: date | None
    valid_to: date | None
    expired: bool
    tags: list[str]
    source: str | None
    status: str
    status_label: str
    author: str | None
    reviewer: str | None
    reviewed_at: datetime | None
    review_note: str | None
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class ArticlePage(BaseModel):
    items: list[ArticleOut]
    total: int
    page: int
    page_size: int


class SearchHit(BaseModel):
    id: int
    question: str
    answer: str
    snippet: str
    score: float
    department: str | None
    department_name: str | None
    valid_to: date | None
    tags: list[str]


class SearchOut(BaseModel):
    items: list[SearchHit]
    took_ms: float


class CitedArticle(BaseModel):
    id: int
    question: str | None
    uses: int


class InstantAnswerStats(BaseModel):
    """即时答复率: appeals answered at first contact (not the dashboard's 一次办结率)."""

    since: datetime
    until: datetime
    orders: int
    answered_instantly: int
    instant_answer_rate: float | None
    answered_from_knowledge: int
    knowledge_share: float | None
    top_articles: list[CitedArticle]
    articles: dict[str, int]
