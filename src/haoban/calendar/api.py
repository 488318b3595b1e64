"""Calendar endpoints: compute a deadline, inspect a day, and (admins) load official schedules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, UploadFile

from haoban.auth.rbac import ADMIN_ROLES, require_role
from haoban.calendar import DurationUnit, store
from haoban.calendar.schedule import schedule_to_dict
from haoban.deps import ActorDep, RuntimeDep
from haoban.errors import Invalid

router = APIRouter(prefix="/api/v1", tags=["calendar"])


@router.get("/calendar/deadline", summary="Deadline for a start time plus an amount of time")
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


@router.get("/calendar/days/{day}", summary="Is this a working day, and why")
def day_info(rt: RuntimeDep, day: date) -> dict[str, Any]:
    info = rt.calendar.day_info(day)
    return {
        "date": info.day.isoformat(),
        "workday": info.workday,
        "kind": info.kind,
        "name": info.name,
        "provisional": info.provisional,
    }


@router.get("/admin/calendar/schedules", summary="Official schedules loaded by admins")
def list_schedules(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [schedule_to_dict(s) for s in store.stored_schedules(session)]


@router.post(
    "/admin/calendar/schedules",
    status_code=201,
    summary="Load a year's official schedule (YAML, JSON or CSV; file upload or raw body)",
)
async def upload_schedule(rt: RuntimeDep, actor: ActorDep, request: Request) -> dict[str, Any]:
    require_role(actor, *ADMIN_ROLES)
    content_type = request.headers.get("content-type", "")
    filename: str | None = None
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("send the schedule as form field 'file'", fields={"file": "missing"})
        content = await upload.read()
        filename = upload.filename
    else:
        content = await request.body()
        filename = (
            "schedule.json" if "json" in content_type else ("schedule.csv" if "csv" in content_type else None)
        )
    if not content.strip():
        raise Invalid("the schedule is empty", fields={"file": "empty"})
    with rt.db.write() as session:
        schedule = store.save_schedule(session, content=content, filename=filename, actor=actor.username)
    rt.invalidate()
    return schedule_to_dict(schedule)


@router.delete("/admin/calendar/schedules/{year}", status_code=204, summary="Remove a loaded schedule")
def delete_schedule(rt: RuntimeDep, actor: ActorDep, year: int) -> None:
    require_role(actor, *ADMIN_ROLES)
    with rt.db.write() as session:
        store.delete_schedule(session, year=year)
    rt.invalidate()
