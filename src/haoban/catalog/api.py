"""Service catalogue endpoints: public reading and search (no login), writes for administrators.

Thin: the service checks roles and rules; this module parses, calls and shapes.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from haoban.catalog import bulk, service
from haoban.catalog.schemas import (
    CatalogMetrics,
    ImportReportOut,
    ItemIn,
    ItemOut,
    ItemPage,
    ItemSearchOut,
    LifeEventOut,
)
from haoban.catalog.search import CatalogIndex
from haoban.catalog.search import search as search_items
from haoban.deps import ActorDep, RuntimeDep
from haoban.errors import Invalid
from haoban.runtime import Runtime

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])
Lang = Annotated[Literal["zh", "en"], Query(description="language of the labels")]


def catalog_index(rt: Runtime) -> CatalogIndex:
    return rt.local("catalog.index", CatalogIndex)


@router.get("/items", response_model=ItemPage, summary="Active items, by department, life event, level")
def list_items(
    rt: RuntimeDep,
    department: Annotated[str | None, Query(max_length=40)] = None,
    life_event: Annotated[str | None, Query(max_length=40, description="e.g. 出生, 开办企业")] = None,
    online: Annotated[str | None, Query(max_length=16, description="full, appointment or window")] = None,
    kind: Annotated[str | None, Query(max_length=16, description="immediate or promised")] = None,
    text: Annotated[str | None, Query(max_length=100, description="a word of the name")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    lang: Lang = "zh",
) -> dict[str, Any]:
    with rt.db.read() as session:
        rows, total = service.list_items(
            session,
            department=department,
            life_event=life_event,
            online=online,
            kind=kind,
            text=text,
            page=page,
            page_size=page_size,
        )
        items = [service.item_summary(i, lang) for i in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get("/search", response_model=ItemSearchOut, summary="Search items in Chinese (办事搜索)")
def search(
    rt: RuntimeDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="what the person wants to do")],
    department: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    lang: Lang = "zh",
) -> dict[str, Any]:
    started = time.perf_counter()
    with rt.db.read() as session:
        hits = search_items(session, index=catalog_index(rt), q=q, department=department, limit=limit)
        items = [{**service.item_summary(i, lang), "score": s, "snippet": snip} for i, s, snip in hits]
    return {"items": items, "took_ms": round((time.perf_counter() - started) * 1000, 2)}


@router.get("/life-events", response_model=list[LifeEventOut], summary="Life events with their item counts")
def life_events(rt: RuntimeDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [{"name": n, "items": c} for n, c in service.life_events(session)]


@router.get(
    "/metrics",
    response_model=CatalogMetrics,
    summary="网上可办率, time-limit compression, items per department, materials the government holds",
)
def metrics(rt: RuntimeDep) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.metrics(session)


@router.get(
    "/export",
    summary="The active catalogue as CSV or YAML (re-imports unchanged)",
    responses={200: {"content": {"text/csv": {}, "application/yaml": {}}}},
    response_class=Response,
)
def export(rt: RuntimeDep, format: Literal["csv", "yaml"] = "csv") -> Response:
    with rt.db.read() as session:
        text = service.export_text(session, fmt=format)
    media = "text/csv" if format == "csv" else "application/yaml"
    return Response(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="catalog.{format}"'},
    )


@router.get("/items/{code}", response_model=ItemOut, summary="One item with its guide (办事指南)")
def get_item(rt: RuntimeDep, code: str, lang: Lang = "zh") -> dict[str, Any]:
    with rt.db.read() as session:
        return service.item_view(service.get_item(session, code=code), lang)


# --- administrators ----------------------------------------------------------------------------------


@router.post("/items", status_code=201, response_model=ItemOut, summary="Add an item (administrators)")
def create_item(rt: RuntimeDep, actor: ActorDep, data: ItemIn) -> dict[str, Any]:
    with rt.db.write() as session:
        item = service.create_item(session, data=data, directory=rt.directory, actor=actor)
        view = service.item_view(item)
    catalog_index(rt).mark_stale()
    return view


@router.put("/items/{code}", response_model=ItemOut, summary="Replace an item (administrators)")
def replace_item(
    rt: RuntimeDep,
    actor: ActorDep,
    code: str,
    data: ItemIn,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    with rt.db.write() as session:
        item = service.replace_item(
            session,
            code=code,
            data=data,
            directory=rt.directory,
            actor=actor,
            expected_version=expected_version,
        )
        view = service.item_view(item)
    catalog_index(rt).mark_stale()
    return view


@router.delete("/items/{code}", response_model=ItemOut, summary="Withdraw an item (administrators)")
def withdraw_item(rt: RuntimeDep, actor: ActorDep, code: str) -> dict[str, Any]:
    with rt.db.write() as session:
        view = service.item_view(service.withdraw_item(session, code=code, actor=actor))
    catalog_index(rt).mark_stale()
    return view


@router.post(
    "/import",
    response_model=ImportReportOut,
    summary="Import a CSV or YAML catalogue (administrators); bad rows are named by number",
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}, "application/yaml": {}}}
    },
)
async def import_items(
    request: Request,
    rt: RuntimeDep,
    actor: ActorDep,
    format: Annotated[Literal["csv", "yaml"] | None, Query(description="default: from Content-Type")] = None,
    strict: Annotated[
        bool,
        Query(description="any bad row refuses the whole file (422, nothing stored); false keeps good rows"),
    ] = True,
) -> dict[str, Any]:
    body = await request.body()  # at most 5 MB: the edge guard's cap for this route
    fmt = format or ("yaml" if "yaml" in request.headers.get("content-type", "") else "csv")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text", fields={"body": "not UTF-8"}) from None

    def run() -> dict[str, Any]:
        rows = bulk.read_text(text, fmt=fmt)
        with rt.db.write() as session:
            report = service.import_rows(
                session, rows=rows, directory=rt.directory, actor=actor, strict=strict
            )
        catalog_index(rt).mark_stale()
        return report.as_dict()

    return await run_in_threadpool(run)
