"""AI游衡阳 pages. Visitors (no login): places with search and filters, a place's page, booking a timed
ticket, the order with its QR codes and refunds. Gate staff: the scan page. Phone first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import ValidationError

from haoban.auth.roles import DASHBOARD_ROLES, GATE_ROLES
from haoban.deps import client_address
from haoban.errors import Conflict, Invalid, NotFound
from haoban.ratelimit import check_rate
from haoban.tourism import complaints, dashboard, guides, places, qa, tickets
from haoban.tourism.models import TicketPlan
from haoban.tourism.schemas import BookIn, ComplaintIn
from haoban.tourism.vocabulary import KIND_LABELS, PlaceKind
from haoban.web import forms
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _today(request: Request) -> Any:
    return datetime.now(runtime(request).settings.tz).date()


def _flag(value: str | None) -> bool:
    return value in ("1", "on", "true", "yes")


def fen(value: int | None, lang: str) -> str:
    """Fen as yuan for people: 4000 → ¥40; None or 0 → free."""
    if not value:
        return "免费" if lang == "zh" else "Free"
    yuan = value / 100
    return f"¥{yuan:.0f}" if value % 100 == 0 else f"¥{yuan:.2f}"


def tour_context(request: Request) -> dict[str, Any]:
    lang = lang_of(request)
    return {
        "fen": lambda v: fen(v, lang),
        "kind_label": lambda k: KIND_LABELS.get(k, (k, k))[1 if lang == "en" else 0],
    }


@router.get("/tour")
def tour_home(request: Request) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    qp = request.query_params
    values = {
        "q": (qp.get("q") or "").strip()[:100],
        "kind": qp.get("kind") or "",
        "district": qp.get("district") or "",
        "free": qp.get("free") or "",
        "open_today": qp.get("open_today") or "",
        "accessible": qp.get("accessible") or "",
    }
    errors: dict[str, str] = {}
    kind = values["kind"] if values["kind"] in set(PlaceKind) else None
    if values["kind"] and kind is None:
        errors["kind"] = "unknown kind"
    items: list[dict[str, Any]] = []
    try:
        with rt.db.read() as session:
            items = places.list_places(
                session,
                rt,
                today=_today(request),
                q=values["q"] or None,
                kind=kind,
                district=values["district"] or None,
                free=True if values["free"] == "1" else (False if values["free"] == "0" else None),
                open_today=_flag(values["open_today"]),
                accessible=_flag(values["accessible"]),
                lang=lang,
            )
    except Invalid as exc:
        errors.update(exc.detail.get("fields", {}))
    return render(
        request,
        "tour_home.html",
        {
            **tour_context(request),
            "items": items,
            "values": values,
            "errors": errors,
            "kinds": [(str(k), KIND_LABELS[k]) for k in PlaceKind],
            "districts": sorted(rt.directory.districts_by_id.values(), key=lambda d: d.code),
        },
        status_code=422 if errors else 200,
    )


@router.get("/tour/places/{code}")
def tour_place(request: Request, code: str) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    with rt.db.read() as session:
        place = places.get_place(session, code=code)
        view = places.place_view(
            place, calendar=rt.calendar, today=_today(request), lang=lang, settings=rt.settings
        )
        plan = session.get(TicketPlan, place.id)
        sells = plan is not None and plan.active
        replies = complaints.published_replies(session, place_id=place.id)
    return render(
        request,
        "tour_place.html",
        {**tour_context(request), "p": view, "sells": sells, "replies": replies, "values": {}, "errors": {}},
    )


def _complain(request: Request, code: str, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    errors = forms.check_required(values, ["content", "phone"], lang)
    filed: dict[str, Any] | None = None
    message = None
    if not errors:
        try:
            data = ComplaintIn.model_validate(
                {
                    "content": values["content"],
                    "phone": values["phone"],
                    "name": values.get("name"),
                    "publish": values.get("publish") == "1",
                }
            )
            check_rate(
                rt.db,
                scope="file",
                client=client_address(request),
                limit=10,
                message="too many complaints from your address; wait a minute",
            )
            with rt.db.write() as session:
                filed = complaints.file_complaint(
                    session,
                    rt,
                    place_code=code,
                    content=data.content,
                    phone=data.phone,
                    name=data.name,
                    publish=data.publish,
                )
        except ValidationError as exc:
            errors = forms.pydantic_errors(exc)
        except Invalid as exc:
            errors, message = exc.detail.get("fields", {}), exc.message
    with rt.db.read() as session:
        place = places.get_place(session, code=code)
        view = places.place_view(
            place, calendar=rt.calendar, today=_today(request), lang=lang, settings=rt.settings
        )
        plan = session.get(TicketPlan, place.id)
        replies = complaints.published_replies(session, place_id=place.id)
    return render(
        request,
        "tour_place.html",
        {
            **tour_context(request),
            "p": view,
            "sells": plan is not None and plan.active,
            "replies": replies,
            "values": {} if filed else values,
            "errors": errors,
            "filed": filed,
            "message": message,
            "focus": "complain",
        },
        status_code=201 if filed else 422,
    )


@router.post("/tour/places/{code}/complain")
async def complain_submit(request: Request, code: str) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_complain, request, code, form)


@router.get("/tour/map")
def tour_map(request: Request) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    with rt.db.read() as session:
        walk = places.nanyue_day(session, rt, today=_today(request), lang=lang)
    return render(
        request,
        "tour_map.html",
        {
            **tour_context(request),
            "walk": walk,
            "walk_km": round(sum(s["leg_km"] for s in walk), 2),
            "tiles": rt.settings.map_tiles,
            "attribution": rt.settings.map_attribution,
        },
    )


@router.get("/tour/dashboard")
def tour_dashboard(request: Request) -> Response:
    actor = require_actor(request, *DASHBOARD_ROLES)
    rt = runtime(request)
    today = _today(request)
    with rt.db.read() as session:
        figs = dashboard.figures(
            session, rt, actor=actor, start=today - timedelta(days=6), end=today + timedelta(days=7)
        )
    return render(request, "tour_dashboard.html", {**tour_context(request), "f": figs}, actor=actor)


# --- booking ------------------------------------------------------------------------------------------

VISITOR_ROWS = 3


def _book_page(request: Request, code: str, *, status_code: int = 200, **ctx: Any) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    now = datetime.now(rt.settings.tz)
    today = now.date()
    try:
        day = datetime.strptime(
            str(ctx.pop("day", None) or request.query_params.get("day") or ""), "%Y-%m-%d"
        ).date()
    except ValueError:
        day = today
    with rt.db.write() as session:  # the day's slots are created on first look
        place = places.get_place(session, code=code)
        view = places.place_view(place, calendar=rt.calendar, today=today, lang=lang)
        slots = tickets.slots_view(session, rt, place_code=code, day=day, now=now)
        ahead = tickets.plan_for(session, place).book_days_ahead
    days = [today + timedelta(days=i) for i in range(ahead + 1)]
    base = {
        **tour_context(request),
        "p": view,
        "s": slots,
        "day": day,
        "days": days,
        "rows": range(VISITOR_ROWS),
        "values": {},
        "errors": {},
    }
    base.update(ctx)
    return render(request, "tour_book.html", base, status_code=status_code)


@router.get("/tour/places/{code}/book")
def book_form(request: Request, code: str) -> Response:
    return _book_page(request, code)


def _book(request: Request, code: str, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    visitors = [
        {"name": values.get(f"name_{i}", ""), "id_number": values.get(f"id_{i}", "")}
        for i in range(VISITOR_ROWS)
        if values.get(f"name_{i}") or values.get(f"id_{i}")
    ]
    errors: dict[str, str] = {}
    if not values.get("slot_id"):
        errors["slot_id"] = "请选择时段" if lang == "zh" else "Choose a time slot"
    if not visitors:
        errors["name_0"] = "至少填写一位游客" if lang == "zh" else "Name at least one visitor"
    if not errors:
        try:
            data = BookIn.model_validate(
                {"slot_id": values["slot_id"], "phone": values.get("phone", ""), "visitors": visitors}
            )
        except ValidationError as exc:
            for err in exc.errors():
                loc = [str(x) for x in err.get("loc", ())]
                msg = str(err.get("msg", "")).removeprefix("Value error, ")
                if loc[:1] == ["visitors"] and len(loc) >= 3:
                    errors[f"{'id' if loc[2] == 'id_number' else 'name'}_{loc[1]}"] = msg
                else:
                    errors[loc[0] if loc else "phone"] = msg
    if errors:
        return _book_page(request, code, day=values.get("day"), values=values, errors=errors, status_code=422)
    try:
        with rt.db.write() as session:
            order = tickets.book(session, rt, place_code=code, data=data)
            target = f"/tour/orders/{order.code}?k={order.access_key}"
    except (Conflict, Invalid) as exc:
        return _book_page(
            request,
            code,
            day=values.get("day"),
            values=values,
            errors=exc.detail.get("fields", {}) or {},
            message=exc.message,
            reason=exc.detail.get("reason"),
            status_code=exc.status_code,
        )
    return redirect(target)


@router.post("/tour/places/{code}/book")
async def book_submit(request: Request, code: str) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_book, request, code, form)


def qr_svg(token: str) -> str:
    """The e-ticket's QR code as inline SVG (segno), sized for a phone screen."""
    return segno.make(token, error="m").svg_inline(scale=4, border=2)


def _order_page(request: Request, code: str, key: str, *, status_code: int = 200, **ctx: Any) -> Response:
    rt = runtime(request)
    with rt.db.read() as session:
        order = tickets.load_order(session, code=code, key=key)
        view = tickets.order_view(rt, order, lang=lang_of(request))
    for t in view["tickets"]:
        t["qr"] = qr_svg(t["token"]) if t["token"] else None
    return render(
        request,
        "tour_order.html",
        {**tour_context(request), "o": view, "key": key, **ctx},
        status_code=ctx.pop("status_code", 200),
    )


@router.get("/tour/orders/{code}")
def order_page(request: Request, code: str) -> Response:
    return _order_page(request, code, request.query_params.get("k", ""))


def _refund(request: Request, code: str, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    key = str(form.get("k") or "")
    serial = str(form.get("serial") or "") or None
    try:
        with rt.db.write() as session:
            tickets.refund(session, rt, code=code, key=key, serials=[serial] if serial else None)
    except Conflict as exc:
        return _order_page(request, code, key, message=exc.message, status_code=409)
    return redirect(f"/tour/orders/{code}", k=key, refunded="1")


@router.post("/tour/orders/{code}/refund")
async def refund_submit(request: Request, code: str) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_refund, request, code, form)


# --- the gate ------------------------------------------------------------------------------------------


@router.get("/tour/gate")
def gate_page(request: Request) -> Response:
    actor = require_actor(request, *GATE_ROLES)
    return render(request, "tour_gate.html", {"values": {}, "result": None}, actor=actor)


def _gate(request: Request, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *GATE_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    errors = forms.check_required(values, ["code", "gate"], lang)
    result: dict[str, Any] | None = None
    refused: dict[str, Any] | None = None
    status = 200
    if errors:
        status = 422
    else:
        try:
            with rt.db.write() as session:
                result = tickets.check_in(
                    session, rt, code=values["code"], gate_name=values["gate"], actor=actor
                )
        except (Conflict, NotFound) as exc:
            refused = {"message": exc.message, **exc.detail}
            status = exc.status_code
    return render(
        request,
        "tour_gate.html",
        {"values": {"gate": values.get("gate", "")}, "errors": errors, "result": result, "refused": refused},
        actor=actor,
        status_code=status,
    )


@router.post("/tour/gate")
async def gate_submit(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_gate, request, form)


# --- spoken guides and the question box ---------------------------------------------------------------


@router.get("/tour/audio/{name}")
def guide_audio(request: Request, name: str) -> Response:
    """A spoken guide from the cache; only bare ``<sha256>.wav`` names are served."""
    path = (
        guides.audio_path(runtime(request).settings, name.removesuffix(".wav"))
        if name.endswith(".wav")
        else None
    )
    if path is None:
        raise NotFound("no such guide audio")
    return FileResponse(path, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/tour/ask")
def ask_page(request: Request) -> Response:
    rt = runtime(request)
    q = (request.query_params.get("q") or "").strip()[:200]
    got = None
    if q:
        with rt.db.read() as session:
            got = qa.ask(session, rt, question=q, today=_today(request))
    return render(request, "tour_ask.html", {**tour_context(request), "q": q, "got": got})
