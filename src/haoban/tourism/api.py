"""Tourism endpoints (AI游衡阳). Thin: the services check roles and rules; this module parses and shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile

from haoban.deps import ActorDep, RuntimeDep
from haoban.errors import Invalid
from haoban.tourism import places
from haoban.tourism.schemas import ImportResult, PlaceList, PlaceOut
from haoban.tourism.vocabulary import PlaceKind

router = APIRouter(prefix="/api/v1/tourism", tags=["tourism"])


def _today(rt: Any) -> Any:
    return datetime.now(rt.settings.tz).date()


@router.get("/places", response_model=PlaceList, summary="Places: search (Chinese), filters, near me")
def list_places(
    rt: RuntimeDep,
    q: Annotated[str | None, Query(max_length=100, description="words, e.g. 南岳大庙 or 寿文化")] = None,
    kind: PlaceKind | None = None,
    district: Annotated[str | None, Query(max_length=50)] = None,
    free: bool | None = None,
    open_today: bool = False,
    accessible: bool = False,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    if (lat is None) != (lon is None):
        raise Invalid(
            "give both lat and lon for places near you", fields={"lat": "needs lon", "lon": "needs lat"}
        )
    with rt.db.read() as session:
        items = places.list_places(
            session,
            rt,
            today=_today(rt),
            q=q,
            kind=kind.value if kind else None,
            district=district,
            free=free,
            open_today=open_today,
            accessible=accessible,
            near=(lat, lon) if lat is not None and lon is not None else None,
            lang=lang,
            limit=limit,
        )
    return {"total": len(items), "items": items}


@router.get("/places/{code}", response_model=PlaceOut, summary="One place, with today's opening hours")
def get_place(
    rt: RuntimeDep, code: str, lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh"
) -> dict[str, Any]:
    with rt.db.read() as session:
        place = places.get_place(session, code=code)
        return places.place_view(place, calendar=rt.calendar, today=_today(rt), lang=lang)


@router.post(
    "/places/import",
    response_model=ImportResult,
    summary="Import places from CSV or YAML (admins); any bad row: 422 naming each row, nothing stored",
)
async def import_places(rt: RuntimeDep, actor: ActorDep, request: Request) -> Any:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid("send the file as form field 'file' (.csv or .yaml)", fields={"file": "missing"})
    content = await upload.read()
    rows = places.read_rows(content, filename=upload.filename)
    with rt.db.write() as session:
        return places.import_places(session, rt, rows=rows, actor=actor)
