"""Case endpoints (办不成事 / 营商环境投诉): thin — parse, call the services (which authorise), shape."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from haoban.auth.actors import CITIZEN_ACTOR
from haoban.casework import access, obstacles, presenters, reform, service
from haoban.casework.actions import apply_action
from haoban.casework.schemas import (
    CaseAction,
    CaseCreate,
    CaseDetail,
    CaseEventOut,
    CasePage,
    ObstacleOut,
    ProposalCreate,
    ProposalOut,
    ProposalUpdate,
    ReformListOut,
)
from haoban.deps import ActorDep, RuntimeDep, client_address
from haoban.errors import Invalid
from haoban.orders.schemas import WorkflowOut
from haoban.ratelimit import check_rate
from haoban.security.privacy import mask_text

router = APIRouter(prefix="/api/v1", tags=["cases"])


class PortalCaseOut(BaseModel):
    code: str
    status: str
    status_label: str


@router.get("/cases/obstacles", response_model=list[ObstacleOut], summary="The obstacle taxonomy (堵点)")
def obstacle_list() -> list[dict[str, Any]]:
    return [{"code": o.code, "label": {"zh": o.zh, "en": o.en}} for o in obstacles.OBSTACLES]


@router.get("/cases/workflow", response_model=WorkflowOut, summary="The case state table")
def case_workflow() -> dict[str, Any]:
    return presenters.case_workflow_view()


@router.post("/cases", status_code=201, response_model=CaseDetail, summary="Open a case at the window")
def open_case(rt: RuntimeDep, actor: ActorDep, data: CaseCreate) -> dict[str, Any]:
    with rt.db.write() as session:
        code = service.open_case(session, rt, data=data, actor=actor).code
    return _detail(rt, actor, code)


@router.post(
    "/portal/cases",
    status_code=201,
    tags=["citizen"],
    response_model=PortalCaseOut,
    summary="Citizens and companies: report a matter that could not get done (no account)",
)
def portal_case(request: Request, rt: RuntimeDep, data: CaseCreate) -> dict[str, Any]:
    check_rate(
        rt.db, scope="portal-case", client=client_address(request), limit=rt.settings.track_rate_per_minute
    )
    if data.origin_kind != "portal":
        raise Invalid("cases from the portal have origin_kind 'portal'", fields={"origin_kind": "portal"})
    if not data.complainant_phone:
        raise Invalid(
            "leave a phone number so the window can call you back", fields={"complainant_phone": "required"}
        )
    with rt.db.write() as session:
        case = service.open_case(session, rt, data=data, actor=CITIZEN_ACTOR)
        return {
            "code": case.code,
            "status": case.status,
            "status_label": presenters.status_label(case.status),
        }


@router.get("/cases", response_model=CasePage, summary="Cases you may see, filtered and paginated")
def list_cases(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[list[str] | None, Query()] = None,
    kind: str | None = None,
    obstacle: str | None = None,
    department: str | None = None,
    overdue: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    filters = service.CaseFilter(
        status=status, kind=kind, obstacle=obstacle, department=department, overdue=overdue
    )
    with rt.db.read() as session:
        rows, total = service.list_cases(
            session, rt, actor=actor, filters=filters, page=page, page_size=page_size
        )
        ratio = rt.settings.warning_ratio
        items = [presenters.case_summary(c, warning_ratio=ratio) for c in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


EXPORT_COLUMNS = (
    "code",
    "kind",
    "status",
    "subject",
    "obstacle",
    "item",
    "department",
    "received_at",
    "deadline",
    "outcome",
    "anonymous",
    "complainant",
    "phone",
    "company_uscc",
)


@router.get(
    "/cases/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM, one case a row"}},
    summary="Export cases you may see as CSV (identity only where you may see it)",
)
def export(
    rt: RuntimeDep, actor: ActorDep, status: Annotated[list[str] | None, Query()] = None
) -> StreamingResponse:
    def rows() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(EXPORT_COLUMNS)
        with rt.db.read() as session:
            cases, _ = service.list_cases(
                session, rt, actor=actor, filters=service.CaseFilter(status=status), page_size=100_000
            )
            for c in cases:
                who = presenters.complainant_view(c, actor)
                writer.writerow(
                    (
                        c.code,
                        c.kind,
                        c.status,
                        mask_text(c.subject),  # free text: phone and ID numbers masked
                        c.obstacle or "",
                        c.item or "",
                        c.lead_department.code if c.lead_department else "",
                        c.received_at.isoformat(),
                        c.deadline.isoformat() if c.deadline else "",
                        c.outcome or "",
                        "yes" if c.anonymous else "no",
                        who["name"] or ("(withheld)" if not who["visible"] else ""),
                        who["phone"] or ("(withheld)" if not who["visible"] and c.complainant_phone else ""),
                        who["company_uscc"]
                        or ("(withheld)" if not who["visible"] and c.company_uscc else ""),
                    )
                )
        yield "\ufeff" + buf.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=cases.csv"},
    )


@router.get("/cases/{code}", response_model=CaseDetail, summary="One case, with the actions you may take now")
def get_case(rt: RuntimeDep, actor: ActorDep, code: str) -> dict[str, Any]:
    return _detail(rt, actor, code)


@router.post("/cases/{code}/{action}", response_model=CaseDetail, summary="Take an action on a case")
def act(
    rt: RuntimeDep, actor: ActorDep, code: str, action: str, data: Annotated[CaseAction | None, Body()] = None
) -> dict[str, Any]:
    with rt.db.write() as session:
        apply_action(session, rt, code=code, action=action, data=data or CaseAction(), actor=actor)
    return _detail(rt, actor, code)


@router.get("/cases/{code}/events", response_model=list[CaseEventOut], summary="The case file, hash-chained")
def case_events(rt: RuntimeDep, actor: ActorDep, code: str) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [presenters.event_view(e) for e in service.case_events(session, code=code, actor=actor)]


def _detail(rt: Any, actor: Any, code: str) -> dict[str, Any]:
    with rt.db.read() as session:
        case = access.get_case(session, code=code, actor=actor)
        return presenters.case_detail(case, actor=actor, warning_ratio=rt.settings.warning_ratio)


# --- the reform list ------------------------------------------------------------------------------

ByQuery = Annotated[str, Query(description="obstacle / item / department")]
MonthsQuery = Annotated[int, Query(ge=1, le=36, description="calendar months up to ``until``")]


@router.get(
    "/reform/list", response_model=ReformListOut, summary="The reform list: obstacles from cases and 12345"
)
def reform_list(
    rt: RuntimeDep,
    actor: ActorDep,
    by: ByQuery = "obstacle",
    months: MonthsQuery = 6,
    until: date | None = None,
) -> dict[str, Any]:
    with rt.db.read() as session:
        return reform.reform_list(session, rt, actor=actor, by=by, months=months, until=until)


@router.get(
    "/reform/list.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM, one group a row"}},
    summary="The reform list as CSV",
)
def reform_csv(
    rt: RuntimeDep,
    actor: ActorDep,
    by: ByQuery = "obstacle",
    months: MonthsQuery = 6,
    until: date | None = None,
) -> StreamingResponse:
    with rt.db.read() as session:
        report = reform.reform_list(session, rt, actor=actor, by=by, months=months, until=until)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(reform.CSV_COLUMNS)
    writer.writerows(reform.csv_rows(report))
    return StreamingResponse(
        iter(["\ufeff" + buf.getvalue()]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename=reform-list-{by}.csv"},
    )


@router.post(
    "/reform/proposals", status_code=201, response_model=ProposalOut, summary="Put a proposal on the list"
)
def create_proposal(rt: RuntimeDep, actor: ActorDep, data: ProposalCreate) -> dict[str, Any]:
    with rt.db.write() as session:
        p = reform.create_proposal(
            session,
            rt,
            actor=actor,
            title=data.title,
            obstacle=data.obstacle,
            item=data.item,
            owner=data.owner,
            note=data.note,
        )
        return reform.proposal_view(p)


@router.patch("/reform/proposals/{proposal_id}", response_model=ProposalOut, summary="Move a proposal on")
def update_proposal(
    rt: RuntimeDep,
    actor: ActorDep,
    proposal_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    data: ProposalUpdate,
) -> dict[str, Any]:
    with rt.db.write() as session:
        p = reform.update_proposal(
            session,
            rt,
            actor=actor,
            proposal_id=proposal_id,
            status=data.status,
            owner=data.owner,
            note=data.note,
        )
        return reform.proposal_view(p)
