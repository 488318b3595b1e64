"""Near-duplicate (并单) and hotspot (热点) endpoints: thin — parse, authorise, call the service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from haoban.auth import rbac
from haoban.auth.roles import CALL_CENTRE
from haoban.deps import ActorDep, RuntimeDep
from haoban.hotspots import service
from haoban.hotspots.schemas import DuplicateCheck, DuplicatesOut, HotspotsOut, MergeAllIn, MergeAllOut

router = APIRouter(prefix="/api/v1", tags=["hotline intelligence"])
READ_ROLES = service.READ_ROLES


@router.get(
    "/orders/{code}/duplicates",
    response_model=DuplicatesOut,
    summary="Open orders that say the same thing (并单 candidates)",
)
def order_duplicates(
    rt: RuntimeDep,
    actor: ActorDep,
    code: str,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    rbac.require_role(actor, *READ_ROLES)
    with rt.db.read() as session:
        return service.order_duplicates(session, rt, code=code, actor=actor, limit=limit)


@router.post(
    "/duplicates/check",
    response_model=DuplicatesOut,
    summary="While typing: open orders similar to this appeal",
)
def check_duplicates(rt: RuntimeDep, actor: ActorDep, data: DuplicateCheck) -> dict[str, Any]:
    rbac.require_role(actor, *sorted(CALL_CENTRE))
    with rt.db.read() as session:
        return service.check_duplicates(
            session,
            rt,
            text=data.text,
            district=data.district,
            category=data.category,
            at=data.received_at,
            limit=data.limit,
        )


@router.post(
    "/incidents/merge",
    response_model=MergeAllOut,
    summary="Merge all: a candidate group under one master, in one action (each merge through the gate)",
)
def merge_all(rt: RuntimeDep, actor: ActorDep, data: MergeAllIn) -> dict[str, Any]:
    rbac.require_role(actor, *sorted(CALL_CENTRE))
    with rt.db.write() as session:
        return service.merge_all(session, rt, master=data.master, duplicates=data.duplicates, actor=actor)


@router.get(
    "/hotspots", response_model=HotspotsOut, summary="Hotspots (热点): clusters of similar appeals, ranked"
)
async def hotspots(
    rt: RuntimeDep,
    actor: ActorDep,
    since: Annotated[
        str | None, Query(max_length=40, description="date or time; default until − 30 days")
    ] = None,
    until: Annotated[
        str | None, Query(max_length=40, description="date (inclusive) or time; default now")
    ] = None,
    district: Annotated[str | None, Query(max_length=50, description="district code or name")] = None,
    top: Annotated[int, Query(ge=1, le=service.MAX_TOP)] = 10,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    rbac.require_role(actor, *READ_ROLES)
    start = service.parse_bound(since, name="since", end=False)
    end = service.parse_bound(until, name="until", end=True)

    def run() -> dict[str, object]:
        with rt.db.read() as session:
            return service.hotspots(
                session, rt, since=start, until=end, district=district, top=top, seed=seed
            )

    return await run_in_threadpool(run)
