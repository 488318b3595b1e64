"""免申即享 endpoints: citizens look up and confirm pushed benefits; staff read, review, upload, match."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile

from haoban.benefits import matching, service, sources, store
from haoban.benefits.payer import get_payer
from haoban.benefits.schemas import (
    ConfirmIn,
    DeclineIn,
    FiguresOut,
    GrantDetailOut,
    GrantOut,
    GrantPage,
    ImportOut,
    LookupIn,
    MatchOut,
    PolicyList,
    PolicyOut,
    ReviewIn,
    StaffGrantOut,
    SubjectBenefitsOut,
)
from haoban.db import utcnow
from haoban.deps import ActorDep, RuntimeDep, client_address
from haoban.errors import Invalid
from haoban.ratelimit import check_rate
from haoban.runtime import Runtime

router = APIRouter(prefix="/api/v1/benefits", tags=["benefits"])


def _citizen_rate(request: Request, rt: Runtime) -> None:
    # Proving a code with phone digits: the same allowance as tracking an appeal.
    check_rate(rt.db, scope="track", client=client_address(request), limit=rt.settings.track_rate_per_minute)


@router.post(
    "/lookup", tags=["citizen"], response_model=SubjectBenefitsOut, summary="Citizens: my pushed benefits"
)
def lookup(request: Request, rt: RuntimeDep, data: LookupIn) -> dict[str, Any]:
    _citizen_rate(request, rt)
    with rt.db.read() as session:
        if data.credit_code:
            return service.company_lookup(session, credit_code=data.credit_code, last4=data.phone_last4)
        if not data.code:
            raise Invalid("give the notice code, or the company's credit code", fields={"code": "required"})
        return service.citizen_lookup(session, code=data.code, last4=data.phone_last4)


@router.post(
    "/grants/{code}/confirm", tags=["citizen"], response_model=GrantOut, summary="Citizens: confirm a benefit"
)
def confirm(request: Request, rt: RuntimeDep, code: str, data: ConfirmIn) -> dict[str, Any]:
    _citizen_rate(request, rt)
    with rt.db.write() as session:
        return service.confirm(session, code=code, last4=data.phone_last4, account=data.account)


@router.post(
    "/grants/{code}/decline", tags=["citizen"], response_model=GrantOut, summary="Citizens: decline a benefit"
)
def decline(request: Request, rt: RuntimeDep, code: str, data: DeclineIn) -> dict[str, Any]:
    _citizen_rate(request, rt)
    with rt.db.write() as session:
        return service.decline(session, code=code, last4=data.phone_last4)


@router.get("/grants", response_model=GrantPage, summary="Benefit grants, newest first")
def grants(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(max_length=12)] = None,
    policy: Annotated[str | None, Query(max_length=60)] = None,
    flagged: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    with rt.db.read() as session:
        items, total = service.list_grants(
            session,
            actor=actor,
            status=status,
            policy=policy,
            flagged=flagged,
            page=page,
            page_size=page_size,
        )
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get("/grants/{code}", response_model=GrantDetailOut, summary="A grant with its case file")
def grant(rt: RuntimeDep, actor: ActorDep, code: str) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.grant_detail(session, code=code, actor=actor)


@router.post(
    "/grants/{code}/review", response_model=StaffGrantOut, summary="Uphold or withdraw a flagged grant"
)
def review(rt: RuntimeDep, actor: ActorDep, code: str, data: ReviewIn) -> dict[str, Any]:
    with rt.db.write() as session:
        return service.review(session, code=code, decision=data.decision, note=data.note, actor=actor)


@router.get("/figures", response_model=FiguresOut, summary="Eligible, confirmed, paid, days to payment")
def figures(rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.figures(session, actor=actor)


def _policy_out(row: Any, created: bool = True) -> dict[str, Any]:
    return {
        "code": row.code,
        "version": row.version,
        "name": row.name,
        "subject_kind": row.subject_kind,
        "period_unit": row.period_unit,
        "digest": row.digest,
        "uploaded_by": row.uploaded_by,
        "uploaded_at": row.uploaded_at,
        "created": created,
    }


@router.get("/policies", response_model=PolicyList, summary="Every stored policy version, newest first")
def policies(rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    service.require_read(actor)
    with rt.db.read() as session:
        return {"items": [_policy_out(p) for p in store.versions(session)]}


async def _upload_bytes(request: Request) -> tuple[bytes, str]:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("send the file as form field 'file'", fields={"file": "missing"})
        return await upload.read(), upload.filename or "upload"
    return await request.body(), "upload"


@router.post(
    "/policies",
    status_code=201,
    response_model=PolicyOut,
    summary="Upload a DMN table (a new policy version)",
)
async def upload_policy(rt: RuntimeDep, actor: ActorDep, request: Request) -> dict[str, Any]:
    service.require_admin(actor)
    content, _name = await _upload_bytes(request)
    with rt.db.write() as session:
        row, created = store.upload(session, xml=content, actor=actor)
        return _policy_out(row, created)


@router.post(
    "/sources/{source}", status_code=201, response_model=ImportOut, summary="Import a data source (CSV)"
)
async def import_source(rt: RuntimeDep, actor: ActorDep, source: str, request: Request) -> dict[str, Any]:
    service.require_admin(actor)
    content, name = await _upload_bytes(request)
    with rt.db.write() as session:
        report = sources.import_csv(session, source_name=source, data=content, filename=name, actor=actor)
    return report.__dict__


@router.post(
    "/match", response_model=MatchOut, summary="Run the matching job now, then pay what is confirmed"
)
def run_match(rt: RuntimeDep, actor: ActorDep, full: bool = False) -> dict[str, Any]:
    service.require_admin(actor)
    today = utcnow().astimezone(rt.settings.tz).date()
    with rt.db.write() as session:
        runs = matching.match(session, today=today, full=full, actor=actor)
    with rt.db.write() as session:
        paid = service.pay_confirmed(session, payer=get_payer(rt.settings.benefits_payer))
    return {"runs": [r.__dict__ for r in runs], "paid": paid}
