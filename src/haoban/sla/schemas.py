"""Request and response shapes of the time-limit API: SLA rules and official schedules."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from haoban.calendar import DurationUnit
from haoban.directory.vocabulary import OrderType, Urgency


class SlaRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_type: str = Field(description="an order type, or '*' for any")
    urgency: Urgency
    sign_amount: float = Field(ge=0, le=365)
    sign_unit: DurationUnit
    handle_amount: float = Field(ge=0, le=365)
    handle_unit: DurationUnit

    @field_validator("order_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v != "*" and v not in {t.value for t in OrderType}:
            raise ValueError(f"one of {', '.join(t.value for t in OrderType)} or '*'")
        return v

    @model_validator(mode="after")
    def _whole_days(self) -> SlaRuleIn:
        # Day units count whole days (the calendar refuses 2.5 working days): a rule that passed here
        # and failed later broke every new order's deadline.
        day_units = (DurationUnit.WORKING_DAYS, DurationUnit.CALENDAR_DAYS)
        for name, amount, unit in (
            ("sign_amount", self.sign_amount, self.sign_unit),
            ("handle_amount", self.handle_amount, self.handle_unit),
        ):
            if unit in day_units and amount != int(amount):
                raise ValueError(f"{name}: {unit.value} needs a whole number of days, got {amount:g}")
        return self


class SlaRuleOut(BaseModel):
    order_type: str
    urgency: str
    sign_amount: float
    sign_unit: DurationUnit
    handle_amount: float
    handle_unit: DurationUnit


class HolidayOut(BaseModel):
    name: str
    days: list[str]


class ScheduleOut(BaseModel):
    year: int
    source: str
    holidays: list[HolidayOut]
    makeup_workdays: list[str]
