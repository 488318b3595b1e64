"""Request shapes of the duplicate and hotspot endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from haoban.orders.schemas import MAX_CONTENT


class DuplicateCheck(BaseModel):
    """An appeal being typed: what the caller says, and where, if known."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=MAX_CONTENT, description="subject and/or detail")
    district: str | None = Field(default=None, max_length=50, description="district code or name")
    category: str | None = Field(default=None, max_length=300, description="category code or path")
    received_at: datetime | None = Field(default=None, description="default: now")
    limit: int = Field(default=5, ge=1, le=20)
