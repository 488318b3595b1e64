"""Response shapes of the analytics API (definitions of each figure: ``haoban.analytics.service``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Period(BaseModel):
    start: datetime
    end: datetime


class Kpis(BaseModel):
    period: Period
    counts: dict[str, int] = Field(description="the numerators and denominators behind the rates")
    on_time_rate: float | None
    closure_rate: float | None
    satisfaction_rate: float | None
    resolution_rate: float | None
    first_time_rate: float | None = Field(description="一次办结率 (not the knowledge base's 即时答复率)")
    dispatch_accuracy: float | None
    auto_dispatch_share: float | None


class TrendRow(BaseModel):
    bucket: str = Field(description="the local day, week (Monday) or month, YYYY-MM-DD")
    received: int
    finished: int
    on_time: int


class CategoryRow(BaseModel):
    code: str | None
    name: str
    orders: int


class DistrictRow(BaseModel):
    code: str | None
    name: str
    orders: int
    finished: int
    closure_rate: float | None


class ChannelRow(BaseModel):
    channel: str
    orders: int


class DepartmentRow(BaseModel):
    code: str
    name: str
    open: int
    overdue: int
    warning: int
    on_time: int


class Dashboard(BaseModel):
    kpis: Kpis
    trend: list[TrendRow]
    categories: list[CategoryRow]
    districts: list[DistrictRow]
    channels: list[ChannelRow]
