"""The citizen portal (no login): file an appeal, track it with the code and phone digits, rate it."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from haoban.auth.actors import CITIZEN_ACTOR, SYSTEM_ACTOR
from haoban.deps import client_address
from haoban.directory.models import District
from haoban.directory.vocabulary import TYPE_LABELS, OrderType
from haoban.dispatch.gazetteer import DISTRICT_CENTRES, default_gazetteer
from haoban.errors import Conflict, Invalid, NotFound, RateLimited
from haoban.feedback import service as feedback
from haoban.feedback.schemas import RATING_LEVELS, RatingIn
from haoban.hotspots import service as hotspots
from haoban.orders import attachments, queries
from haoban.orders import mine as mine_codes
from haoban.orders.actions import apply_action
from haoban.orders.citizen import mask_phone, track_token
from haoban.orders.intake import create_order
from haoban.orders.models import Order
from haoban.orders.presenters import status_label
from haoban.orders.schemas import ActionRequest, OrderCreate
from haoban.ratelimit import check_rate
from haoban.responses import JSON
from haoban.web import forms, photos
from haoban.web.common import PageRoute, lang_of, redirect, render, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)
log = logging.getLogger(__name__)

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
        "tiles": rt.settings.map_tiles,
        "attribution": rt.settings.map_attribution,
        "subdomains": rt.settings.map_subdomains,
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
            joined = _join(session, rt, code=created.code, ref=values.get("join", ""))
    except Invalid as exc:
        return _portal(
            request, values=values, errors=exc.detail.get("fields", {}), message=exc.message, status_code=422
        )
    phone = str(getattr(data, "citizen_phone", "") or "").replace("-", "")
    key = track_token(rt.settings.secret_key, code=created.code, last4=phone[-4:])
    if joined:
        return redirect(f"/portal/filed/{created.code}", k=key, joined="1")
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
    ctx = {
        "code": code,
        "track_href": track_url(request, code, last4),
        "joined": request.query_params.get("joined") == "1",
    }
    return render(request, "portal_filed.html", ctx, actor=None)


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


# --- the map: the gazetteer's places, the district of a pin or an address ------------------------------


def place_items(rt: Any, q: str = "") -> tuple[list[dict[str, Any]], str | None]:
    """The gazetteer's places with a position (a district at its seat; a street or town at its
    district's), those whose name meets ``q`` when given, and the district ``q`` names."""
    with rt.db.read() as session:
        english = dict(session.execute(select(District.code, District.name_en)).all())
    gaz = default_gazetteer()
    by_name = {d.name: d for d in rt.directory.districts_by_id.values()}
    items: list[dict[str, Any]] = []
    for name, district_name in gaz.entries.items():
        kind, centre, d = gaz.kinds.get(name), DISTRICT_CENTRES.get(district_name), by_name.get(district_name)
        if centre is None or d is None or kind == "alias":
            continue
        if (q and not (name in q or q in name)) or (not q and kind != "district"):
            continue
        items.append(
            {
                "name": name,
                "name_en": english.get(d.code) if kind == "district" else None,
                "kind": kind,
                "district": d.code,
                "district_name": d.name,
                "district_en": english.get(d.code),
                "latitude": centre[0],
                "longitude": centre[1],
            }
        )
    found = gaz.find(q) if q else None
    district = by_name[found.district].code if found and found.district in by_name else None
    items.sort(key=lambda p: (p["kind"] != "district", -len(p["name"]), p["name"]))
    return items, district


@router.get("/portal/places")
def places(request: Request, q: str = "") -> Response:
    """For the map and the address search: places, and the district an address names."""
    items, district = place_items(runtime(request), q.strip()[:100])
    return JSON({"items": items[:30], "district": district})


# --- nearby open appeals, and "this is mine too" (+1) ---------------------------------------------------


def join_ref(secret: str, order_id: int) -> str:
    """A reference to an open appeal offered as "this is mine too": not its code (codes are the
    citizens' secrets), and signed, so a form cannot name just any order."""
    mac = hmac.new(secret.encode(), f"join|{order_id}".encode(), hashlib.sha256).hexdigest()[:20]
    return f"{order_id}.{mac}"


def _ref_order(secret: str, ref: str) -> int | None:
    head = ref.split(".", 1)[0]
    if not head.isdigit() or not hmac.compare_digest(join_ref(secret, int(head)).encode(), ref.encode()):
        return None
    return int(head)


def _join(session: Any, rt: Any, *, code: str, ref: str) -> bool:
    """The citizen's new appeal joins an open one as another caller (并单): it follows that order, gets
    its reply and its own call-back. False (the appeal stays on its own) when the other one closed."""
    master_id = _ref_order(rt.settings.secret_key, ref) if ref else None
    master = session.scalar(select(Order.code).where(Order.id == master_id)) if master_id else None
    if master is None:
        return False
    try:
        with session.begin_nested():
            apply_action(
                session,
                rt,
                code=code,
                action="merge",
                data=ActionRequest(master=master, comment="市民确认为同一问题 (+1)"),
                actor=SYSTEM_ACTOR,
            )
    except (Invalid, Conflict) as exc:
        log.info("portal +1 not joined: %s", exc.message)
        return False
    return True


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out and abs(out) <= 180 else None


def _nearby(request: Request, body: dict[str, Any]) -> JSON:
    """Open appeals about the same problem at the same place (the incident matching) or pinned close by:
    only what the public may see (category, place, district, day, progress, how many reported it),
    never a caller's words or code, each with a signed ref for "this is mine too"."""
    text = str(body.get("text") or "").strip()[:2000]
    lat, lon = _float(body.get("latitude")), _float(body.get("longitude"))
    if (len(text) < 6 and lat is None) or not _track_allowed(request):
        return JSON({"items": []})
    rt = runtime(request)
    lang = lang_of(request)
    district = str(body.get("district") or "") or None
    found: dict[str, dict[str, Any]] = {}
    with rt.db.read() as session:
        if len(text) >= 6:
            try:
                hits = hotspots.check_duplicates(session, rt, text=text, district=district, limit=5)
            except Invalid:
                hits = {"candidates": []}
            for c in hits["candidates"]:
                if c.get("mergeable"):
                    reasons = {r["signal"]: r["detail"] for r in c["reasons"]}
                    found[c["code"]] = {"place": reasons.get("place"), "problem": reasons.get("problem")}
        if lat is not None and lon is not None:
            for code in queries.open_near(session, latitude=lat, longitude=lon, km=NEARBY_KM, limit=5):
                found.setdefault(code, {"place": None, "problem": None})
        rows = queries.public_summaries(session, codes=list(found)[:5])
    items = []
    for row in rows:
        extra = found[row["code"]]
        items.append(
            {
                "ref": join_ref(rt.settings.secret_key, row["id"]),
                "category": row["category"],
                "place": extra["place"],
                "problem": extra["problem"],
                "district": (row["district_en"] if lang == "en" else row["district"]) or row["district"],
                "received": row["received_at"].astimezone(rt.settings.tz).strftime("%Y-%m-%d"),
                "status": status_label(row["status"], lang),
                "callers": row["callers"],
            }
        )
    return JSON({"items": items})


NEARBY_KM = 0.3


@router.post("/portal/nearby")
async def nearby(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        body = {}
    return await run_in_threadpool(_nearby, request, body if isinstance(body, dict) else {})


# --- "my appeals": every appeal filed with a phone, after a one-time code texted to it ----------------

MINE_COOKIE = "haoban_mine"
MINE_PENDING_COOKIE = "haoban_mine_phone"  # the phone a code was asked for, until it is verified


def _mine_page(request: Request, *, status_code: int = 200, **ctx: Any) -> Response:
    return render(request, "portal_mine.html", {"values": {}, "errors": {}, **ctx}, status_code=status_code)


@router.get("/portal/mine")
def mine(request: Request) -> Response:
    rt = runtime(request)
    secret = rt.settings.secret_key
    phone = mine_codes.session_phone(secret, request.cookies.get(MINE_COOKIE))
    if phone is not None:
        with rt.db.read() as session:
            appeals = mine_codes.appeals_of(session, phone=phone)
        for a in appeals:
            a["href"] = track_url(request, a["code"], a.pop("last4"))
        return _mine_page(request, appeals=appeals, masked=mask_phone(phone))
    pending = mine_codes.session_phone(secret, request.cookies.get(MINE_PENDING_COOKIE))
    step = "verify" if pending and request.query_params.get("sent") == "1" else "phone"
    return _mine_page(request, step=step, masked=mask_phone(pending) if pending else None)


def _mine_code(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    try:
        phone = mine_codes.phone_of(values.get("phone", ""))
    except Invalid:
        message = "请输入有效的手机号码" if lang == "zh" else "Enter a valid mobile number"
        return _mine_page(request, step="phone", values=values, errors={"phone": message}, status_code=422)
    check_rate(
        rt.db,
        scope="mine",
        client=client_address(request),
        limit=MINE_CODES_PER_MINUTE,
        message="too many codes asked from your address; wait a minute",
    )
    with rt.db.write() as session:
        mine_codes.request_code(session, secret=rt.settings.secret_key, phone=phone)
    response = redirect("/portal/mine", sent="1")
    pending = mine_codes.session_value(rt.settings.secret_key, phone=phone)
    response.set_cookie(MINE_PENDING_COOKIE, pending, max_age=900, httponly=True, samesite="lax")
    return response


MINE_CODES_PER_MINUTE = 3


@router.post("/portal/mine/code")
async def mine_code(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_mine_code, request, form)


def _mine_verify(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    secret = rt.settings.secret_key
    phone = mine_codes.session_phone(secret, request.cookies.get(MINE_PENDING_COOKIE))
    if phone is None:
        return redirect("/portal/mine")
    if not _track_allowed(request):
        raise RateLimited("too many tries from your address; wait a minute and try again")
    code = forms.clean(form).get("code", "")
    with rt.db.write() as session:
        ok = bool(code) and mine_codes.verify(session, secret=secret, phone=phone, code=code)
    if not ok:
        wrong = "验证码不正确或已过期" if lang == "zh" else "The code is wrong or has expired"
        return _mine_page(
            request, step="verify", masked=mask_phone(phone), errors={"code": wrong}, status_code=422
        )
    response = redirect("/portal/mine")
    response.set_cookie(
        MINE_COOKIE,
        mine_codes.session_value(secret, phone=phone),
        max_age=1800,
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(MINE_PENDING_COOKIE)
    return response


@router.post("/portal/mine/verify")
async def mine_verify(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_mine_verify, request, form)


@router.get("/portal/mine/code")
@router.get("/portal/mine/verify")
def back_to_mine(request: Request) -> Response:
    return redirect("/portal/mine")


@router.post("/portal/mine/leave")
def mine_leave(request: Request) -> Response:
    response = redirect("/portal/mine")
    response.delete_cookie(MINE_COOKIE)
    return response
