"""好差评 pages for services: the applicant rates a finished application or a window visit (code + phone
digits); a window clerk registers a visit and hands out its code as a slip and a QR code; a department
answers the rectifications a 差评 opened, a supervisor reviews them.

Presentation only: ``haoban.feedback.service_ratings`` holds the rules. The rating form is a partial
(``_service_rating_form.html``) that any page showing an application can include with the context of
:func:`rating_context` (the applicant's timeline does when it lists a finished application).
"""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from haoban.catalog import service as catalog
from haoban.deps import client_address
from haoban.errors import Conflict, DomainError, Invalid, NotFound, RateLimited
from haoban.feedback import service_ratings
from haoban.feedback.schemas import ASPECTS, RATING_LEVELS, SERVICE_CHANNELS, ServiceRatingIn
from haoban.orders.citizen import track_token
from haoban.ratelimit import check_rate
from haoban.web import forms
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _track_allowed(request: Request) -> bool:
    """The citizens' look-up allowance, shared with the portal's tracking and the API's ratings (scope
    ``track``, ``track_rate_per_minute``); not imported from the portal's pages, which import these."""
    rt = runtime(request)
    try:
        check_rate(
            rt.db, scope="track", client=client_address(request), limit=rt.settings.track_rate_per_minute
        )
    except RateLimited:
        return False
    return True


def _message(exc: DomainError, lang: str) -> str:
    return exc.message if lang == "en" else str(exc.detail.get("message_zh") or exc.message)


# The services name fields in English; the Chinese page says it in Chinese.
FIELD_ZH = {
    "item": "请填写有效的事项编码",
    "person_phone": "请填写有效的手机号（11位）或带区号的座机号",
    "channel": "请选择窗口办或帮代办",
    "level": "请选择评价等级",
    "aspects": "评价内容无效",
    "comment": "意见建议最多 500 字",
    "answer": "请填写整改情况",
    "note": "请说明退回理由",
    "decision": "请选择通过或退回",
}


def _fields(exc: DomainError, lang: str) -> dict[str, str]:
    fields = dict(exc.detail.get("fields") or {})
    if lang == "en":
        return fields
    return {k: FIELD_ZH.get(k, v) for k, v in fields.items()}


def rating_context(rt: Any, *, code: str, last4: str) -> dict[str, Any]:
    """What the rating partial needs: the subject (name, status, items), the rating if given, the levels
    and aspects. Raises NotFound alike for wrong digits and unknown codes."""
    with rt.db.read() as session:
        subject = service_ratings.rateable(session, rt, code=code, last4=last4)
    return {
        "s": subject,
        "last4": last4,
        "levels": [(level.value, zh, en) for level, (_score, zh, en) in RATING_LEVELS.items()],
        "aspects": list(ASPECTS.items()),
        "aspect_labels": ASPECTS,
        "rate_values": {},
        "rate_errors": {},
    }


def _page(request: Request, *, status_code: int = 200, **ctx: Any) -> Response:
    base: dict[str, Any] = {"values": {}, "errors": {}, "s": None}
    base.update(ctx)
    return render(request, "portal_rate_service.html", base, status_code=status_code, actor=None)


@router.get("/portal/rate-service")
def rate_service_page(request: Request, code: str = "") -> Response:
    """The page a QR code or a slip points at: the code filled in, the phone digits asked for."""
    return _page(request, values={"code": code.strip().upper()[:24]})


def _check_lookup(values: dict[str, Any], lang: str) -> dict[str, str]:
    errors = forms.check_required(values, ["code", "phone_last4"], lang)
    last4 = values.get("phone_last4", "")
    if last4 and not (len(last4) == 4 and last4.isdigit()):
        errors["phone_last4"] = "请输入 4 位数字" if lang == "zh" else "Enter four digits"
    return errors


def _lookup(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    errors = _check_lookup(values, lang)
    if errors:
        return _page(request, values=values, errors=errors, status_code=422)
    if not _track_allowed(request):
        raise RateLimited("too many look-ups from your address; wait a minute and try again")
    try:
        ctx = rating_context(rt, code=values["code"], last4=values["phone_last4"])
    except NotFound:
        return _page(request, values=values, missing=True, status_code=404)
    return redirect(rate_url(request, ctx["s"]["code"], values["phone_last4"]))


def rate_url(request: Request, code: str, last4: str, **params: str) -> str:
    """The bookmarkable link of a rating page: the code and a key (as tracking links), never the digits."""
    key = track_token(runtime(request).settings.secret_key, code=code, last4=last4)
    return f"/portal/rate-service/{code}?k={key}" + "".join(f"&{k}={v}" for k, v in params.items())


@router.get("/portal/rate-service/{code}")
def rate_service_link(request: Request, code: str) -> Response:
    """The rating page of one application or visit, by its link (after a look-up or a rating)."""
    rt = runtime(request)
    with rt.db.read() as session:
        code, last4 = service_ratings.proof(
            session, code=code, token=request.query_params.get("k", ""), secret=rt.settings.secret_key
        )
    ctx = rating_context(rt, code=code, last4=last4)
    return _page(request, values={"code": code}, rated_now=request.query_params.get("rated") == "1", **ctx)


@router.post("/portal/rate-service/lookup")
async def lookup(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_lookup, request, form)


def _rate(request: Request, form: Any) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean({k: v for k, v in form.items() if k != "aspects"})
    aspects = [a for a in form.getlist("aspects") if isinstance(a, str)]
    errors = _check_lookup(values, lang)
    if errors:
        return _page(request, values=values, errors=errors, status_code=422)
    if not _track_allowed(request):
        raise RateLimited("too many requests from your address; wait a minute and try again")
    try:
        ctx = rating_context(rt, code=values["code"], last4=values["phone_last4"])
    except NotFound:
        return _page(request, values=values, missing=True, status_code=404)
    rate_errors = forms.check_required(values, ["level"], lang)
    if not rate_errors:
        try:
            body = {k: values.get(k) for k in ("code", "phone_last4", "level", "comment", "item")}
            data = forms.build(ServiceRatingIn, {**{k: v for k, v in body.items() if v}, "aspects": aspects})
            with rt.db.write() as session:
                _rating, _rect, code = service_ratings.submit(
                    session,
                    rt,
                    code=data.code,
                    last4=data.phone_last4,
                    level=data.level,
                    aspects=data.aspects,
                    comment=data.comment,
                    item=data.item,
                )
            # Redirect after the POST: a reload rates nothing twice, and the page can be bookmarked.
            return redirect(rate_url(request, code, data.phone_last4, rated="1"))
        except Invalid as exc:
            rate_errors = _fields(exc, lang)
            if "item" in rate_errors:
                rate_errors["item"] = _message(exc, lang)
            ctx["rate_message"] = _message(exc, lang)
        except Conflict as exc:
            return _page(request, values=values, rate_message=_message(exc, lang), status_code=409, **ctx)
    ctx.update(rate_errors=rate_errors, rate_values={**values, "aspects": aspects})
    return _page(request, values=values, status_code=422, **ctx)


@router.post("/portal/rate-service")
async def rate(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_rate, request, form)


# --- the window: a visit to rate, handed out as a code and a QR code -------------------------------------


def _visit_page(request: Request, actor: Any, *, status_code: int = 200, **ctx: Any) -> Response:
    rt = runtime(request)
    with rt.db.read() as session:
        items, _total = catalog.list_items(session, page_size=500)
    base: dict[str, Any] = {
        "values": {"channel": "assisted" if actor.role == "volunteer" else "window"},
        "errors": {},
        "items": items,
        "channels": [(k, v) for k, v in SERVICE_CHANNELS.items() if k != "online"],
        "visit": None,
        "qr": None,
    }
    base.update(ctx)
    return render(request, "window_visits.html", base, status_code=status_code, actor=actor)


def _qr(request: Request, code: str) -> str:
    url = str(request.base_url).rstrip("/") + service_ratings.rate_path(code)
    return segno.make(url, error="m").svg_inline(scale=4, border=2)


@router.get("/window/visits")
def visits_page(request: Request) -> Response:
    actor = require_actor(request, *service_ratings.VISIT_ROLES)
    return _visit_page(request, actor)


def _register(request: Request, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *service_ratings.VISIT_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    errors = forms.check_required(values, ["item", "person_phone"], lang)
    if errors:
        return _visit_page(request, actor, values=values, errors=errors, status_code=422)
    try:
        with rt.db.write() as session:
            visit = service_ratings.register_visit(
                session,
                rt,
                actor=actor,
                item=values["item"],
                person_phone=values["person_phone"],
                channel=values.get("channel") or "window",
                note=values.get("note") or None,
            )
            view = service_ratings.visit_view(rt, visit)
    except Invalid as exc:
        return _visit_page(request, actor, values=values, errors=_fields(exc, lang), status_code=422)
    return redirect(f"/window/visits/{view['code']}")


@router.post("/window/visits")
async def register_visit(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_register, request, form)


@router.get("/window/visits/{code}")
def visit_slip(request: Request, code: str) -> Response:
    """The visit's slip: its code, the link and the QR code to hand out (after registering it)."""
    actor = require_actor(request, *service_ratings.VISIT_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        view = service_ratings.visit_view(rt, service_ratings.get_visit(session, code=code, actor=actor))
    return _visit_page(request, actor, visit=view, qr=_qr(request, view["code"]))


@router.get("/window/visits/{code}/qr.svg")
def visit_qr(request: Request, code: str) -> Response:
    """The QR code to print or show: it opens the rating page with the visit's code filled in."""
    actor = require_actor(request, *service_ratings.VISIT_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        visit = service_ratings.get_visit(session, code=code, actor=actor)
    url = str(request.base_url).rstrip("/") + service_ratings.rate_path(visit.code)
    svg = segno.make(url, error="m").svg_inline(scale=6, border=2)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# --- rectifications of services' 差评: the department answers, a supervisor reviews -------------------------


@router.get("/rectifications/services")
def rectifications_page(request: Request, status: str = "", done: int | None = None) -> Response:
    actor = require_actor(request, *service_ratings.RECTIFICATION_READ_ROLES)
    return _rect_page(request, actor, status=status, done=done)


def _rect_page(
    request: Request, actor: Any, *, status: str = "", status_code: int = 200, **ctx: Any
) -> Response:
    rt = runtime(request)
    if status not in ("", *service_ratings.RECTIFICATION_STATUSES):
        status = ""
    with rt.db.read() as session:
        items, total = service_ratings.list_rectifications(
            session, rt, actor=actor, status=status or None, page_size=200
        )
    base = {
        "items": items,
        "total": total,
        "status": status,
        "statuses": service_ratings.RECTIFICATION_STATUSES,
        "may_answer": actor.role in service_ratings.ANSWER_ROLES,
        "may_review": actor.role in service_ratings.REVIEW_ROLES,
        "aspect_labels": ASPECTS,
        "errors": {},
    }
    base.update(ctx)
    return render(request, "service_rectifications.html", base, status_code=status_code, actor=actor)


def _act(request: Request, rectification_id: int, what: str, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *service_ratings.RECTIFICATION_READ_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    try:
        with rt.db.write() as session:
            if what == "answer":
                service_ratings.answer_rectification(
                    session,
                    rt,
                    rectification_id=rectification_id,
                    answer=values.get("answer", ""),
                    actor=actor,
                )
            else:
                service_ratings.review_rectification(
                    session,
                    rt,
                    rectification_id=rectification_id,
                    decision=values.get("decision", ""),
                    note=values.get("note"),
                    actor=actor,
                )
    except (Invalid, Conflict) as exc:
        return _rect_page(
            request,
            actor,
            status_code=exc.status_code,
            failed=rectification_id,
            message=_message(exc, lang),
            errors=_fields(exc, lang),
        )
    return redirect("/rectifications/services", done=str(rectification_id))


@router.post("/rectifications/services/{rectification_id}/answer")
async def answer(request: Request, rectification_id: int) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_act, request, rectification_id, "answer", form)


@router.post("/rectifications/services/{rectification_id}/review")
async def review(request: Request, rectification_id: int) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_act, request, rectification_id, "review", form)
