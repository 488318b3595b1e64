"""Federation endpoints: the signed-message endpoint partners post to, this instance's public identity,
and the admin's partners, agreements, outbox and refusals; cross-region cases and their dashboard."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from haoban.applications.service import Applicant
from haoban.auth.actors import CITIZEN_ACTOR
from haoban.auth.rbac import require_role
from haoban.deps import ActorDep, RuntimeDep, client_address
from haoban.errors import Invalid
from haoban.federation import crossregion, flows, protocol, service
from haoban.federation.schemas import (
    Accepted,
    AgreementEnd,
    AgreementIn,
    AgreementOut,
    CaseOut,
    DashboardRow,
    FileIn,
    IdentityOut,
    NoteIn,
    OnlineOut,
    OutboxOut,
    PartnerIn,
    PartnerOut,
    QueuedOut,
    RefusalOut,
    TrackOut,
)
from haoban.ratelimit import check_rate

router = APIRouter(prefix="/api/v1", tags=["federation"])


@router.get(
    "/federation/identity", response_model=IdentityOut, summary="This instance's region and public key"
)
def identity(rt: RuntimeDep) -> dict[str, Any]:
    return service.identity(rt.settings)


@router.post(
    "/federation/messages",
    response_model=Accepted,
    summary="Receive a signed message from a partner instance",
    description='Body: {"message": {...}, "signature": base64 Ed25519 over the canonical message}. '
    "Refusals: 400 malformed / wrong_recipient / unknown_kind, 401 bad_signature / expired, 403 "
    "unknown_partner / out_of_agreement, 409 replay, 425 out_of_order (retry later).",
)
async def receive(rt: RuntimeDep, request: Request) -> dict[str, Any]:
    raw = await request.body()
    return await run_in_threadpool(protocol.receive, rt, raw, address=client_address(request))


@router.get("/admin/federation/partners", response_model=list[PartnerOut], summary="Partner instances")
def partners(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return service.list_partners(session, actor=actor)


@router.post(
    "/admin/federation/partners", response_model=PartnerOut, summary="Register or update a partner (admin)"
)
def save_partner(rt: RuntimeDep, actor: ActorDep, data: PartnerIn) -> dict[str, Any]:
    with rt.db.write() as session:
        return service.save_partner(
            session, actor=actor, own_region=rt.settings.federation_region, **data.model_dump()
        )


@router.get("/admin/federation/agreements", response_model=list[AgreementOut], summary="Agreements")
def agreements(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return service.list_agreements(session, actor=actor)


@router.post(
    "/admin/federation/agreements", response_model=AgreementOut, status_code=201, summary="Add an agreement"
)
def add_agreement(rt: RuntimeDep, actor: ActorDep, data: AgreementIn) -> dict[str, Any]:
    with rt.db.write() as session:
        return service.add_agreement(session, actor=actor, **data.model_dump())


@router.post(
    "/admin/federation/agreements/{agreement_id}/end",
    response_model=AgreementOut,
    summary="End an agreement on a day (agreements are never deleted)",
)
def end_agreement(rt: RuntimeDep, actor: ActorDep, agreement_id: int, data: AgreementEnd) -> dict[str, Any]:
    with rt.db.write() as session:
        return service.end_agreement(session, actor=actor, agreement_id=agreement_id, on=data.valid_to)


@router.get("/admin/federation/outbox", response_model=list[OutboxOut], summary="Messages to partners")
def outbox(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|refused)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return service.list_outbox(session, actor=actor, status=status, limit=limit)


@router.post(
    "/admin/federation/outbox/{entry_id}/retry",
    response_model=OutboxOut,
    summary="Send a refused message again",
)
def retry(rt: RuntimeDep, actor: ActorDep, entry_id: int) -> dict[str, Any]:
    with rt.db.write() as session:
        return service.retry_outbox(session, actor=actor, entry_id=entry_id)


@router.get("/admin/federation/refusals", response_model=list[RefusalOut], summary="Messages turned away")
def refusals(
    rt: RuntimeDep, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return service.list_refusals(session, actor=actor, limit=limit)


@router.get(
    "/federation/cases", response_model=list[CaseOut], summary="Cross-region cases with their timeline"
)
def cases(
    rt: RuntimeDep, actor: ActorDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return service.list_cases(session, actor=actor, limit=limit)


@router.get(
    "/federation/dashboard",
    response_model=list[DashboardRow],
    summary="Cross-region cases per partner and mode",
)
def dashboard(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return service.dashboard(session, actor=actor)


@router.post(
    "/federation/notes",
    response_model=QueuedOut,
    status_code=202,
    summary="Send a note on a cross-region case",
)
def note(rt: RuntimeDep, actor: ActorDep, data: NoteIn) -> dict[str, Any]:
    require_role(actor, *service.SEND_ROLES)
    with rt.db.write() as session:
        msg = flows.send_note(
            session,
            rt,
            partner_region=data.partner,
            case=data.case,
            item=data.item,
            mode=data.mode,
            text=data.text,
            author=actor.username,
        )
        return {"message_id": msg.message_id, "case": msg.case_key, "seq": msg.seq}


def _materials(data: FileIn) -> dict[str, tuple[str, bytes]]:
    materials = {}
    for key, m in data.materials.items():
        try:
            materials[key] = (m.filename, base64.b64decode(m.data, validate=True))
        except (binascii.Error, ValueError):
            raise Invalid(
                "a material is not base64", fields={f"materials.{key}": "base64 of the file"}
            ) from None
    return materials


@router.post(
    "/federation/files",
    response_model=CaseOut,
    status_code=202,
    summary="跨省通办: the receiving window sends an applicant's file to the home region",
)
def send_file(rt: RuntimeDep, actor: ActorDep, data: FileIn) -> dict[str, Any]:
    require_role(actor, *service.SEND_ROLES)
    materials = _materials(data)
    with rt.db.write() as session:
        case = crossregion.send_file(
            session,
            rt,
            partner_region=data.partner,
            mode=data.mode,
            bundle=data.bundle,
            form=data.form,
            applicant=Applicant(
                name=data.applicant.name, phone=data.applicant.phone, id_number=data.applicant.id_number
            ),
            materials=materials,
            identity_checked=data.identity_checked,
            actor=actor,
            note=data.note,
        )
        return service.case_view(session, case)


@router.get(
    "/federation/cases/{case_key}", response_model=CaseOut, summary="One cross-region case and its timeline"
)
def case(rt: RuntimeDep, actor: ActorDep, case_key: str) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.get_case(session, actor=actor, case_key=case_key)


@router.get(
    "/federation/track/{case_key}",
    response_model=TrackOut,
    summary="The applicant follows a cross-region case (case key + last four digits of the phone)",
)
def track(
    rt: RuntimeDep,
    request: Request,
    case_key: str,
    phone_last4: Annotated[str, Query(pattern=r"^\d{4}$")],
) -> dict[str, Any]:
    check_rate(
        rt.db,
        scope="federation_track",
        client=client_address(request),
        limit=rt.settings.track_rate_per_minute,
    )
    with rt.db.read() as session:
        return crossregion.track(session, case_key=case_key, phone_last4=phone_last4)


@router.post(
    "/federation/online",
    response_model=OnlineOut,
    status_code=202,
    summary="全程网办: a resident applies online here for an item of a partner region",
)
def apply_online(rt: RuntimeDep, request: Request, data: FileIn) -> dict[str, Any]:
    check_rate(
        rt.db,
        scope="federation_online",
        client=client_address(request),
        limit=rt.settings.track_rate_per_minute,
    )
    if data.mode != "online":
        raise Invalid("this door is for 全程网办 (mode online)", fields={"mode": "online"})
    materials = _materials(data)
    applicant = Applicant(
        name=data.applicant.name, phone=data.applicant.phone, id_number=data.applicant.id_number
    )
    with rt.db.write() as session:
        crossregion.check_known(
            session, rt, bundle=data.bundle, form=data.form, applicant=applicant, materials=materials
        )
        case = crossregion.send_file(
            session,
            rt,
            partner_region=data.partner,
            mode="online",
            bundle=data.bundle,
            form=data.form,
            applicant=applicant,
            materials=materials,
            identity_checked=False,
            actor=CITIZEN_ACTOR,
            note=data.note,
        )
        return {"case_key": case.case_key, "home": case.partner.name, "state": case.state}
