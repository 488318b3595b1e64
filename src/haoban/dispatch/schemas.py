"""Response shapes of the dispatch API: catalogue rules, their history, corrections, explanations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RuleOut(BaseModel):
    id: int
    position: int
    name: str
    enabled: bool
    category_code: str | None
    district_code: str | None
    order_type: str | None
    keywords: list[str]
    hour_from: int | None
    hour_to: int | None
    outcome: str
    department_code: str | None
    co_handler_codes: list[str]
    transfer_target: str | None
    guidance: str | None
    revision: int


class RulesReplaced(BaseModel):
    rules: int


class RuleRevisionOut(BaseModel):
    rule_id: int
    revision: int
    change: str
    actor: str
    at: datetime
    snapshot: str = Field(description="the rule as JSON after the change")


class CorrectionOut(BaseModel):
    order_id: int
    source: str
    suggested_category: str | None
    chosen_category: str | None
    suggested_department: str | None
    chosen_department: str | None
    actor: str
    at: datetime


class ExplainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=10_000)
    order_type: str = "consult"
    district: str | None = None
    category: str | None = None


class DecisionOut(BaseModel):
    outcome: str
    category: str | None = None
    department: str | None
    co_handlers: list[str] = []
    confidence: float | None = None
    rule: str | None
    why: str
    suggestions: list[dict[str, Any]] = []


class TraceStep(BaseModel):
    rule: str
    position: int
    matched: bool
    why_not: str | None


class DepartmentCandidateOut(BaseModel):
    code: str
    score: float = Field(description="likelihood score; 0 for departments no signal points to")
    reason: str = Field(description="why it is suggested (empty when score is 0)")


class ExplainOut(BaseModel):
    decision: DecisionOut
    trace: list[TraceStep]
    departments: list[DepartmentCandidateOut] = Field(
        default=[],
        description="every active department once, the likeliest first (pickers pre-select the first)",
    )
    district_from_text: str | None = Field(
        default=None, description="the district the text names (gazetteer) when none was given: its code"
    )


class PredictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=10_000)


class Suggestion(BaseModel):
    label: str
    probability: float


class PredictOut(BaseModel):
    suggestions: list[Suggestion]
    confident: bool
    threshold: float
    reason: str | None
    decision: DecisionOut


class ModelOut(BaseModel):
    loaded: bool
    labels: list[str] = []
    threshold: float | None = None
    metadata: dict[str, Any] | None = None


class EmergencyCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=10_000, description="what the caller says")


class EmergencyOut(BaseModel):
    emergency: bool = Field(description="life-safety content: transfer at once")
    kinds: list[str] = Field(
        description="gas, fire, trapped, drowning, live_wire, violence, medical, traffic"
    )
    line: str | None = Field(description="the line to transfer to first (110 / 119 / 120 / 122)")
    lines: list[str] = Field(description="every line the kinds suggest, first one first")
    label_zh: str | None
    label_en: str | None
    evidence: list[str] = Field(description="the words that raised it")
