"""Admin endpoints for time limits (SLA rules per type × urgency) and official holiday schedules.

Thin: the services check roles; this module parses the request, calls them and shapes the answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from haoban.calendar import schedule_to_dict
from haoban.db import utcnow
from haoban.deps import ActorDep, RuntimeDep
from haoban.errors import Invalid
from haoban.orders import calendar_impact
from haoban.sla import schedules, service
from haoban.sla.schemas import ScheduleOut, SlaRuleIn, SlaRuleOut

router = APIRouter(prefix="/api/v1/admin", tags=["sla"])


@router.get(
    "/sla-rules",
    response_model=list[SlaRuleOut],
    summary="Time limits in force (configured rows over the defaults)",
)
def list_sla(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, object]]:
    return service.rules_in_force(rt.sla, actor=actor)


@router.put(
    "/sla-rules", response_model=list[SlaRuleOut], summary="Set the time limits for one type × urgency"
)
def put_sla(rt: RuntimeDep, actor: ActorDep, data: SlaRuleIn) -> list[dict[str, object]]:
    with rt.db.write() as session:
        service.set_rule(session, actor=actor, **data.model_dump())
    rt.invalidate()
    return service.rules_in_force(rt.sla, actor=actor)


@router.get(
    "/calendar/schedules", response_model=list[ScheduleOut], summary="Official schedules loaded by admins"
)
def list_schedules(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, object]]:
    with rt.db.read() as session:
        return [schedule_to_dict(s) for s in schedules.list_schedules(session, actor=actor)]


@router.post(
    "/calendar/schedules",
    status_code=201,
    response_model=ScheduleOut,
    summary="Load a year's official schedule (YAML, JSON or CSV; file upload or raw body)",
)
async def upload_schedule(rt: RuntimeDep, actor: ActorDep, request: Request, dry_run: bool = False) -> Any:
    """With ``dry_run=true`` nothing is saved: the answer (200) is the same preview as the admin page's —
    the holidays and make-up days the file adds or removes, whether it replaces a stored year, the
    holidays it drops altogether — and the open orders whose time runs over a changed day."""
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
    if dry_run:
        with rt.db.read() as session:
            preview = schedules.preview_schedule(
                session, actor=actor, content=content, filename=filename, in_force=rt.calendar
            )
            preview["affected_orders"] = calendar_impact.affected_orders(
                session, preview, tz=rt.settings.tz, now=utcnow()
            )
        return JSONResponse({"dry_run": True, **jsonable_encoder(preview)})
    with rt.db.write() as session:
        schedule = schedules.save_schedule(session, actor=actor, content=content, filename=filename)
    rt.invalidate()
    return schedule_to_dict(schedule)


@router.delete("/calendar/schedules/{year}", status_code=204, summary="Remove a loaded schedule")
def delete_schedule(rt: RuntimeDep, actor: ActorDep, year: Annotated[int, Path(ge=1900, le=2200)]) -> None:
    with rt.db.write() as session:
        schedules.delete_schedule(session, actor=actor, year=year)
    rt.invalidate()
