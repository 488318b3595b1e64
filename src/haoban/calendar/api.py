"""Calendar endpoints: compute a deadline, inspect a day. (Admins load official schedules through
``haoban.sla.api``.)"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from haoban.calendar import DurationUnit
from haoban.deps import RuntimeDep
from haoban.errors import Invalid

router = APIRouter(prefix="/api/v1", tags=["calendar"])


class DeadlineOut(BaseModel):
    deadline: str  # ISO 8601 in the city's time zone
    provisional: bool


class DayOut(BaseModel):
    date: str
    workday: bool
    kind: str
    name: str | None
    provisional: bool


@router.get(
    "/calendar/deadline",
    response_model=DeadlineOut,
    summary="Deadline for a start time plus an amount of time",
)
def deadline(
    rt: RuntimeDep,
    start: datetime,
    amount: Annotated[float, Query(ge=0, le=3650)],
    unit: DurationUnit = DurationUnit.WORKING_DAYS,
) -> dict[str, Any]:
    try:
        result = rt.calendar.add(start, amount, unit)
    except ValueError as exc:
        raise Invalid(str(exc), fields={"amount": str(exc)}) from None
    return {
        "deadline": result.at.astimezone(rt.calendar.tzinfo).isoformat(),
        "provisional": result.provisional,
    }


@router.get("/calendar/days/{day}", response_model=DayOut, summary="Is this a working day, and why")
def day_info(rt: RuntimeDep, day: date) -> dict[str, Any]:
    info = rt.calendar.day_info(day)
    return {
        "date": info.day.isoformat(),
        "workday": info.workday,
        "kind": info.kind,
        "name": info.name,
        "provisional": info.provisional,
    }
