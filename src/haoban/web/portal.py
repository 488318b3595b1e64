"""The citizen portal (no login): file an appeal, track it with the code and phone digits, rate it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from haoban.auth.actors import CITIZEN_ACTOR
from haoban.deps import client_address
from haoban.directory.vocabulary import TYPE_LABELS, OrderType
from haoban.errors import Conflict, Invalid, NotFound, RateLimited
from haoban.feedback import service as feedback
from haoban.feedback.schemas import RATING_LEVELS, RatingIn
from haoban.hotspots import service as hotspots
from haoban.orders import attachments, queries
from haoban.orders.citizen import track_token
from haoban.orders.intake import create_order
from haoban.orders.schemas import OrderCreate
from haoban.ratelimit import check_rate
from haoban.responses import JSON
from haoban.web import forms, photos
from haoban.web.common import PageRoute, lang_of, redirect, render, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Per client address and minute: filing is rarer than tracking.
FILE_RATE_PER_MINUTE = 10
FILED_FIELDS = (
    "type", "content", "address", "district", "latitude", "longitude", "citizen_name", "citizen_phone",
)  # fmt: skip
PORTAL_TYPES = (
    OrderType.COMPLAINT,
    OrderType.HELP,
    OrderType.CONSULT,
    OrderType.REPORT,
    OrderType.SUGGESTION,
    OrderType.PRAISE,
)


def _track_allowed(request: Request) -> bool:
    """Look-ups, ratings and the similar-appeals hint share the citizens' tracking allowance."""
    rt = runtime(request)
    try:
        check_rate(
            rt.db, scope="track", client=client_address(request), limit=rt.settings.track_rate_per_minute
        )
    except RateLimited:
        return False
    return True


def _portal(request: Request, *, status_code: int = 200, **ctx: Any) -> Response:
    rt = runtime(request)
    base = {
        "types": [(str(k), TYPE_LABELS[k]) for k in PORTAL_TYPES],
        "districts": sorted(rt.directory.districts_by_id.values(), key=lambda d: d.code),
        "values": {"type": "complaint"},
        "errors": {},
        "track_values": {},
        "track_errors": {},
    }
    base.update(ctx)
    return render(request, "portal.html", base, status_code=status_code, actor=None)


@router.get("/portal")
def portal(request: Request) -> Response:
    return _portal(request)


# Redirect after POST: a reload or the language switch on a page reached by a form only ever GETs.
@router.get("/portal/file")
@router.get("/portal/rate")
def back_to_portal(request: Request) -> Response:
    return redirect("/portal")


def track_url(request: Request, code: str, last4: str, **params: str) -> str:
    """The bookmarkable link of an appeal's progress: the code and a key, never the phone digits."""
    key = track_token(runtime(request).settings.secret_key, code=code, last4=last4)
    url = f"/portal/track/{code}?k={key}"
    return url + "".join(f"&{k}={v}" for k, v in params.items())


def _proof(request: Request, code: str) -> tuple[str, str]:
    rt = runtime(request)
    with rt.db.read() as session:
        return queries.citizen_proof(
            session, code=code, token=request.query_params.get("k", ""), secret=rt.settings.secret_key
        )


def _file(request: Request, form: dict[str, Any], files: list[tuple[str, bytes]]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    errors = forms.check_required(values, ["type", "content", "citizen_phone"], lang)
    if errors:
        return _portal(request, values=values, errors=errors, status_code=422)
    check_rate(
        rt.db,
        scope="file",
        client=client_address(request),
        limit=FILE_RATE_PER_MINUTE,
        message="too many appeals from your address; wait a minute",
    )
    fields = {k: values.get(k) for k in FILED_FIELDS}
    fields = {k: v for k, v in fields.items() if v}
    try:
        cleaned = photos.clean_all(files, lang)  # every photo checked before anything is stored
        data = forms.build(OrderCreate, {**fields, "channel": "web"})
        with rt.db.write() as session:
            created = create_order(session, rt, data=data, actor=CITIZEN_ACTOR)  # type: ignore[arg-type]
            for photo in cleaned:
                attachments.add(
                    session,
                    order_id=created.id,
                    photo=photo,
                    origin="citizen",
                    uploaded_by=CITIZEN_ACTOR.name,
                )
    except Invalid as exc:
        return _portal(
            request, values=values, errors=exc.detail.get("fields", {}), message=exc.message, status_code=422
        )
    phone = str(getattr(data, "citizen_phone", "") or "").replace("-", "")
    key = track_token(rt.settings.secret_key, code=created.code, last4=phone[-4:])
    return redirect(f"/portal/filed/{created.code}", k=key)


@router.post("/portal/file")
async def file_appeal(request: Request) -> Response:
    form = await request.form()
    files = await photos.read_photos(form)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_file, request, fields, files)


def _photo_place(request: Request, files: list[tuple[str, bytes]]) -> JSON:
    """The GPS position a photo's camera recorded, to offer as the place (nothing is kept)."""
    if not files:
        return JSON({"latitude": None, "longitude": None})
    try:
        photo = attachments.clean(files[0][1], name=files[0][0])
    except Invalid as exc:
        return JSON({"error": "invalid", "message": exc.message, "fields": exc.detail.get("fields", {})}, 422)
    return JSON({"latitude": photo.latitude, "longitude": photo.longitude})


@router.post("/portal/photo-place")
async def photo_place(request: Request) -> Response:
    form = await request.form()
    files = await photos.read_photos(form, "photo")
    return await run_in_threadpool(_photo_place, request, files)


@router.get("/portal/track/{code}/photos/{attachment_id}")
def citizen_photo(request: Request, code: str, attachment_id: int) -> Response:
    """A photo on the citizen's page: their own, or the department's once its reply is shown."""
    rt = runtime(request)
    code, last4 = _proof(request, code)
    with rt.db.read() as session:
        found = queries.track(session, code=code, last4=last4)
        shown = {p["id"] for p in found["photos"]}
        if attachment_id not in shown:
            raise NotFound("no such photo")
        order_id = queries.load_for_citizen(session, code=code, last4=last4).id
        row = attachments.get(session, order_id=order_id, attachment_id=attachment_id)
        return photos.image_response(row, thumb=request.query_params.get("thumb") == "1")


@router.get("/portal/filed/{code}")
def filed(request: Request, code: str) -> Response:
    """The receipt: a GET, so reloading it never files the appeal twice."""
    code, last4 = _proof(request, code)
    return render(
        request,
        "portal_filed.html",
        {"code": code, "track_href": track_url(request, code, last4)},
        actor=None,
    )


def _track(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    errors = forms.check_required(values, ["code", "phone_last4"], lang)
    last4 = values.get("phone_last4", "")
    if last4 and not (len(last4) == 4 and last4.isdigit()):
        errors["phone_last4"] = "请输入 4 位数字" if lang == "zh" else "Enter four digits"
    if errors:
        return _portal(request, track_values=values, track_errors=errors, status_code=422, focus="track")
    if not _track_allowed(request):
        raise RateLimited("too many look-ups from your address; wait a minute and try again")
    try:
        with rt.db.read() as session:
            found = queries.track(session, code=values["code"], last4=last4)
    except NotFound:
        return _portal(request, track_values=values, track_missing=True, status_code=404, focus="track")
    return redirect(track_url(request, found["code"], last4))


def _track_page(request: Request, found: dict[str, Any], last4: str, **ctx: Any) -> dict[str, Any]:
    rt = runtime(request)
    link = track_url(request, found["code"], last4)
    other = "en" if lang_of(request) == "zh" else "zh"
    out = {
        "o": found,
        "last4": last4,
        "track_href": link,
        "track_key": link.split("k=")[1].split("&")[0],
        # The language switch returns to this appeal's link, whichever form drew the page.
        "lang_href": f"/lang/{other}?next={quote(link, safe='')}",
        **_rating_context(rt, found, last4),
    }
    if found.get("master_view"):
        out["master_href"] = track_url(request, found["code"], last4, master="1")
    out.update(ctx)
    return out


@router.get("/portal/track")
def track_get(request: Request) -> Response:
    return redirect("/portal#track")


@router.get("/portal/track/{code}")
def track_link(request: Request, code: str) -> Response:
    """An appeal's progress by its bookmarkable link; ``master=1``: the order it was merged into."""
    rt = runtime(request)
    code, last4 = _proof(request, code)
    with rt.db.read() as session:
        found = queries.track(session, code=code, last4=last4)
    if request.query_params.get("master") == "1":
        if not found.get("master_view"):
            raise NotFound("this appeal was not merged into another")
        ctx = {"m": found["master_view"], "o": found, "track_href": track_url(request, code, last4)}
        return render(request, "portal_master.html", ctx, actor=None)
    ctx = _track_page(request, found, last4, rated_now=request.query_params.get("rated") == "1")
    return render(request, "portal_track.html", ctx, actor=None)


@router.post("/portal/track")
async def track(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_track, request, form)


# --- the similar-appeals hint and ratings -------------------------------------------------------------


def _similar(request: Request, body: dict[str, Any]) -> JSON:
    """How many open appeals say the same thing: a count only, never other citizens' words."""
    text = str(body.get("text") or "").strip()[:2000]
    if len(text) < 6 or not _track_allowed(request):
        return JSON({"similar": 0})
    rt = runtime(request)
    district = str(body.get("district") or "") or None
    try:
        with rt.db.read() as session:
            found = hotspots.check_duplicates(session, rt, text=text, district=district, limit=5)
    except Invalid:
        return JSON({"similar": 0})
    return JSON({"similar": len(found.get("candidates", []))})


@router.post("/portal/similar")
async def similar(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        body = {}
    return await run_in_threadpool(_similar, request, body if isinstance(body, dict) else {})


def _rating_context(rt: Any, found: dict[str, Any], last4: str) -> dict[str, Any]:
    """Whether the citizen may rate now, and their rating if they already did."""
    levels = [(level.value, zh, en) for level, (_score, zh, en) in RATING_LEVELS.items()]
    rating = None
    try:
        with rt.db.read() as session:
            rating = feedback.citizen_rating(session, code=found["code"], last4=last4)
    except NotFound:
        rating = None
    return {
        "rateable": found["status"] in feedback.RATEABLE and rating is None,
        "rating": rating,
        "levels": levels,
    }


def _rate(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    if not _track_allowed(request):
        raise RateLimited("too many requests from your address; wait a minute and try again")
    errors = forms.check_required(values, ["level"], lang)
    code, last4 = values.get("code", ""), values.get("phone_last4", "")
    try:
        with rt.db.read() as session:
            found = queries.track(session, code=code, last4=last4)
    except NotFound:
        return _portal(request, track_values=values, track_missing=True, status_code=404, focus="track")
    ctx = _track_page(request, found, last4)
    if not errors:
        try:
            data = forms.build(
                RatingIn, {k: values.get(k) for k in ("code", "phone_last4", "level", "comment")}
            )
            with rt.db.write() as session:
                feedback.submit_rating(
                    session,
                    rt,
                    code=data.code,
                    last4=data.phone_last4,
                    level=data.level,
                    comment=data.comment,
                )
            return redirect(track_url(request, found["code"], last4, rated="1"))
        except Invalid as exc:
            errors = exc.detail.get("fields", {})
        except Conflict as exc:
            ctx.update(rate_message=exc.message)
            return render(request, "portal_track.html", ctx, actor=None, status_code=409)
    ctx.update(rate_errors=errors, rate_values=values)
    return render(request, "portal_track.html", ctx, actor=None, status_code=422)


@router.post("/portal/rate")
async def rate(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_rate, request, form)
