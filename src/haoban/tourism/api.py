"""Tourism endpoints (AI游衡阳). Thin: the services check roles and rules; this module parses and shapes."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile

from haoban.deps import ActorDep, RuntimeDep, client_address
from haoban.errors import Invalid
from haoban.ratelimit import check_rate
from haoban.tourism import complaints, dashboard, places, qa, tickets
from haoban.tourism.schemas import (
    AskOut,
    BookedOut,
    BookIn,
    CheckInIn,
    CheckInOut,
    ComplaintIn,
    ComplaintOut,
    DashboardOut,
    ImportResult,
    PlaceList,
    PlaceOut,
    PlanIn,
    PlanOut,
    PublicKeyOut,
    RefundIn,
    ReplyOut,
    SlotsOut,
    TicketOrderOut,
    WalkOut,
)
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
        return places.place_view(
            place, calendar=rt.calendar, today=_today(rt), lang=lang, settings=rt.settings
        )


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


# --- timed tickets --------------------------------------------------------------------------------


@router.put(
    "/places/{code}/plan", response_model=PlanOut, summary="Set how a place sells timed tickets (admins)"
)
def set_plan(rt: RuntimeDep, actor: ActorDep, code: str, data: PlanIn) -> dict[str, Any]:
    with rt.db.write() as session:
        plan = tickets.set_plan(session, place_code=code, data=data, actor=actor)
        return {
            "place": code,
            "slots": json.loads(plan.slots),
            "price_fen": plan.price_fen,
            "refund_rule": json.loads(plan.refund_rule),
            "book_days_ahead": plan.book_days_ahead,
            "max_per_order": plan.max_per_order,
        }


@router.get("/places/{code}/slots", response_model=SlotsOut, summary="A day's time slots and places left")
def slots(rt: RuntimeDep, code: str, day: date | None = None) -> dict[str, Any]:
    now = datetime.now(rt.settings.tz)
    with rt.db.write() as session:  # the day's slots are created on first look
        return tickets.slots_view(session, rt, place_code=code, day=day or now.date(), now=now)


@router.post(
    "/places/{code}/orders",
    status_code=201,
    response_model=BookedOut,
    summary="Buy real-name timed tickets (no login); 409 reason=sold_out when the slot is full",
)
def book(rt: RuntimeDep, code: str, data: BookIn) -> dict[str, Any]:
    with rt.db.write() as session:
        order = tickets.book(session, rt, place_code=code, data=data)
        return {**tickets.order_view(rt, order), "key": order.access_key}


@router.get("/orders/{code}", response_model=TicketOrderOut, summary="A ticket order, with the buyer's key")
def get_order(rt: RuntimeDep, code: str, key: Annotated[str, Query(max_length=64)]) -> dict[str, Any]:
    with rt.db.read() as session:
        return tickets.order_view(rt, tickets.load_order(session, code=code, key=key))


@router.post(
    "/orders/{code}/refund", response_model=TicketOrderOut, summary="Refund tickets by the place's rule"
)
def refund(rt: RuntimeDep, code: str, data: RefundIn) -> dict[str, Any]:
    with rt.db.write() as session:
        order = tickets.refund(session, rt, code=code, key=data.key, serials=data.tickets)
        return tickets.order_view(rt, order)


@router.post(
    "/checkin",
    response_model=CheckInOut,
    summary="Check a ticket in at a gate (gate staff); a second scan: 409 with the first time and gate",
)
def check_in(rt: RuntimeDep, actor: ActorDep, data: CheckInIn) -> dict[str, Any]:
    with rt.db.write() as session:
        return tickets.check_in(session, rt, code=data.code, gate_name=data.gate, actor=actor)


@router.get(
    "/tickets/public-key", response_model=PublicKeyOut, summary="The key that verifies e-tickets offline"
)
def public_key(rt: RuntimeDep) -> dict[str, str]:
    return tickets.public_key(rt)


# --- complaints, the walk, the dashboard -------------------------------------------------------------

COMPLAINT_RATE_PER_MINUTE = 10


@router.post(
    "/places/{code}/complaints",
    status_code=201,
    response_model=ComplaintOut,
    summary="A visitor's complaint about a place: becomes a 12345 order (channel tourism)",
)
def complain(rt: RuntimeDep, request: Request, code: str, data: ComplaintIn) -> dict[str, Any]:
    check_rate(
        rt.db,
        scope="file",
        client=client_address(request),
        limit=COMPLAINT_RATE_PER_MINUTE,
        message="too many complaints from your address; wait a minute",
    )
    with rt.db.write() as session:
        return complaints.file_complaint(
            session,
            rt,
            place_code=code,
            content=data.content,
            phone=data.phone,
            name=data.name,
            publish=data.publish,
        )


@router.get("/places/{code}/replies", response_model=list[ReplyOut], summary="The city's published replies")
def replies(rt: RuntimeDep, code: str) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        place = places.get_place(session, code=code)
        return complaints.published_replies(session, place_id=place.id)


@router.get("/walks/nanyue", response_model=WalkOut, summary="A suggested walking order for a day at 南岳")
def nanyue_walk(rt: RuntimeDep) -> dict[str, Any]:
    with rt.db.read() as session:
        stops = places.nanyue_day(session, rt, today=_today(rt))
    return {"total_km": round(sum(s["leg_km"] for s in stops), 2), "stops": stops}


@router.get(
    "/dashboard", response_model=DashboardOut, summary="Visitors vs capacity, sales, check-ins, complaints"
)
def tourism_dashboard(
    rt: RuntimeDep, actor: ActorDep, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    today = _today(rt)
    start = start or today - timedelta(days=6)
    end = end or today + timedelta(days=7)
    if end < start:
        raise Invalid("the end lies before the start", fields={"end": "before start"})
    with rt.db.read() as session:
        return dashboard.figures(session, rt, actor=actor, start=start, end=end)


@router.get("/ask", response_model=AskOut, summary="Ask about places: answers with their source, or 12345")
def ask(rt: RuntimeDep, q: Annotated[str, Query(min_length=1, max_length=200)]) -> dict[str, Any]:
    with rt.db.read() as session:
        return qa.ask(session, rt, question=q, today=_today(rt))
