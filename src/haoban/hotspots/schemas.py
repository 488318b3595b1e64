"""Request and response shapes of the duplicate and hotspot endpoints."""

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


class MergeAllIn(BaseModel):
    """A candidate group merged in one action (并单): every duplicate goes under the master."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    master: str = Field(min_length=1, max_length=24, description="the order the others follow")
    duplicates: list[str] = Field(min_length=1, max_length=50, description="orders to merge under it")


# --- responses ------------------------------------------------------------------------------------


class ReasonOut(BaseModel):
    signal: str = Field(description="place, problem, time, words or near_copy")
    detail: str = Field(description="the evidence: the shared place, the problem, hours apart, a score")


class Candidate(BaseModel):
    code: str
    similarity: float = Field(description="Jaccard of 3-character shingles when a near-copy, else 0")
    score: float = Field(description="how surely the same incident (1.0 for a near-copy)")
    reasons: list[ReasonOut] = Field(description="each signal behind the candidate, for the operator")
    subject: str
    status: str
    status_label: str
    district: str | None
    category: str | None
    department: str | None
    received_at: datetime
    mergeable: bool = Field(description="an open master that can still take a duplicate (并单)")


class DuplicatesOut(BaseModel):
    code: str | None = None  # the order looked at (absent when checking a text being typed)
    threshold: float
    incident_threshold: float
    window_days: int
    candidates: list[Candidate]


class SampleOrder(BaseModel):
    code: str | None
    subject: str


class HotspotOut(BaseModel):
    rank: int
    label: str
    title: str
    key_phrases: list[str]
    place: str | None
    district: str | None
    districts: list[str]
    start: str
    end: str
    days: int
    size: int
    incidents: int = Field(description="distinct incidents among the members: merged callers count once")
    spread: int
    votes: int
    growth: float
    score: float
    sample_orders: list[SampleOrder]
    members: list[str]
    members_truncated: bool


class HotspotsOut(BaseModel):
    since: str
    until: str
    district: str | None
    orders: int
    seed: int
    hotspots: list[HotspotOut]


class MergeAllOut(BaseModel):
    master: str
    merged: list[str]
