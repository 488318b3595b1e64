"""Knowledge-base articles (知识库) for answers on first contact (即时答复)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from haoban.db import Base, UTCDateTime, utcnow
from haoban.directory.models import Department


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"  # 草稿: proposed, waiting for review
    PUBLISHED = "published"  # 已发布: offered to operators while valid
    REJECTED = "rejected"  # 已退回: the reviewer said why; the author may edit and resubmit
    ARCHIVED = "archived"  # 已下架: withdrawn; kept because answered orders cite it


ARTICLE_STATUS_LABELS = {
    ArticleStatus.DRAFT: "草稿",
    ArticleStatus.PUBLISHED: "已发布",
    ArticleStatus.REJECTED: "已退回",
    ArticleStatus.ARCHIVED: "已下架",
}


class KnowledgeArticle(Base):
    __tablename__ = "knowledge_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # Validity in the city's calendar days (Settings.timezone), both inclusive; None = open-ended.
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    tags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    source: Mapped[str | None] = mapped_column(String(200))  # e.g. a policy document, or tipdm2020:2549
    # Idempotency key of imported articles (re-running a seed adds nothing).
    external_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    author: Mapped[str] = mapped_column(String(100))
    author_id: Mapped[int | None] = mapped_column(Integer)
    reviewer: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    department: Mapped[Department | None] = relationship(lazy="joined")
