"""Licence endpoints: public verification by code (or of a presented copy); issue, read, revoke and
"what does the government hold" for staff. Thin: the service checks roles and rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from haoban.auth import rbac
from haoban.auth.roles import DASHBOARD_ROLES
from haoban.deps import ActorDep, RuntimeDep
from haoban.licences import service
from haoban.licences.schemas import (
    DocumentOut,
    LicenceIn,
    LicenceMetrics,
    LicenceOut,
    ReuseOut,
    RevokeIn,
    VerifyOut,
)

router = APIRouter(prefix="/api/v1/licences", tags=["licences"])


@router.get("/verify/{code}", response_model=VerifyOut, summary="Verify a licence by its code (public)")
def verify(rt: RuntimeDep, code: str) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.verify(session, code=code)


@router.post(
    "/verify", response_model=VerifyOut, summary="Check a presented copy against the register (public)"
)
def verify_document(rt: RuntimeDep, doc: DocumentOut) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.verify_document(session, doc=doc.model_dump(mode="json"))


@router.get("/metrics", response_model=LicenceMetrics, summary="Licences issued, revoked; materials reused")
def metrics(rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    rbac.require_role(actor, *service.READ_ROLES, *DASHBOARD_ROLES)
    with rt.db.read() as session:
        return service.metrics(session)


@router.get(
    "/reusable",
    response_model=list[ReuseOut],
    summary="Which materials of an item the government already holds for a person (材料复用)",
)
def reusable(
    rt: RuntimeDep,
    actor: ActorDep,
    item: Annotated[str, Query(min_length=1, max_length=80)],
    holder_id: Annotated[str, Query(min_length=1, max_length=40)],
) -> list[dict[str, Any]]:
    rbac.require_role(actor, *service.READ_ROLES)
    with rt.db.read() as session:
        return service.reusable_materials(session, item_code=item, holder_id=holder_id)


@router.post("", status_code=201, response_model=LicenceOut, summary="Issue a licence (its department)")
def issue(rt: RuntimeDep, actor: ActorDep, data: LicenceIn) -> dict[str, Any]:
    with rt.db.write() as session:
        lic = service.issue(session, actor=actor, **data.model_dump())
        return service.licence_view(lic)


@router.get("/{code}", response_model=LicenceOut, summary="A licence in full (staff)")
def get(rt: RuntimeDep, actor: ActorDep, code: str) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.licence_view(service.get(session, code=code, actor=actor))


@router.get("/{code}/document", response_model=DocumentOut, summary="The holder's copy (staff)")
def document(rt: RuntimeDep, actor: ActorDep, code: str) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.document(service.get(session, code=code, actor=actor))


@router.post("/{code}/revoke", response_model=LicenceOut, summary="Revoke a licence (its department)")
def revoke(rt: RuntimeDep, actor: ActorDep, code: str, data: RevokeIn) -> dict[str, Any]:
    with rt.db.write() as session:
        return service.licence_view(service.revoke(session, code=code, reason=data.reason, actor=actor))
