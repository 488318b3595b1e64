"""The comprehensive window's console (一窗受理, role ``window``): register a bundle for a walk-in with the
scanned materials, or on someone's behalf (帮代办) with their consent, flag a green-channel group; follow
the applications registered here; hand the results out (统一窗口出件). Volunteers use the same form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select

from haoban.applications import assistance, presenters, single
from haoban.applications.materials import Upload
from haoban.applications.materials import check as check_upload
from haoban.applications.models import Application, ApplicationDelivery
from haoban.applications.workflow import APP_STATUS_LABELS, OPEN_APP_STATUSES, AppStatus
from haoban.auth.roles import Role
from haoban.catalog import service as catalog
from haoban.catalog.api import catalog_index
from haoban.catalog.search import search as search_items
from haoban.errors import Invalid
from haoban.web import applications as pages
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)

WINDOW_ROLES = (Role.WINDOW, Role.SUPERVISOR, Role.ADMIN)
REGISTER_ROLES = (Role.WINDOW, Role.VOLUNTEER, Role.SUPERVISOR, Role.ADMIN)


def _label(status: str, lang: str) -> str:
    zh, en = APP_STATUS_LABELS[AppStatus(status)]
    return en if lang == "en" else zh


def _green(lang: str) -> list[tuple[str, str]]:
    return [(k, en if lang == "en" else zh) for k, (zh, en) in assistance.GREEN_LABELS.items()]


@router.get("/window")
def console(request: Request) -> Response:
    actor = require_actor(request, *REGISTER_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    q = (request.query_params.get("q") or "").strip()[:100]
    with rt.db.read() as session:
        bundles = pages.bundle_cards(session, rt, lang)
        items: list[dict[str, Any]] = []
        search_error = None
        if q:
            try:
                hits = search_items(session, index=catalog_index(rt), q=q, limit=20)
                items = [catalog.item_summary(i, lang) for i, _score, _snip in hits]
            except Invalid as exc:
                search_error = exc.message
        mine = session.scalars(
            select(Application)
            .where(
                Application.submitted_by_id == actor.id,
                Application.status.in_([s.value for s in OPEN_APP_STATUSES]),
            )
            .order_by(Application.green_channel.is_(None), Application.submitted_at.desc())
            .limit(100)
        ).all()
        registered = [
            {**presenters.summary(rt, session, a), "status_text": _label(a.status, lang)} for a in mine
        ]
        ready = (
            []
            if actor.role not in WINDOW_ROLES
            else session.execute(
                select(ApplicationDelivery, Application)
                .join(Application, Application.id == ApplicationDelivery.application_id)
                .where(ApplicationDelivery.status == "prepared")
                .order_by(Application.green_channel.is_(None), ApplicationDelivery.created_at)
                .limit(100)
            ).all()
        )
        hand_out = [
            {
                **presenters.delivery_view(d),
                "code": a.code,
                "applicant_name": a.applicant_name,
                "green_channel": a.green_channel,
                "bundle_name": presenters.summary(rt, session, a)["bundle_name"],
            }
            for d, a in ready
        ]
    return render(
        request,
        "window.html",
        {
            "bundles": bundles,
            "q": q,
            "items": items,
            "search_error": search_error,
            "registered": registered,
            "hand_out": hand_out,
            "done": request.query_params.get("done"),
            "done_code": request.query_params.get("code"),
        },
        actor=actor,
    )


def _register_page(
    request: Request,
    actor: Any,
    code: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    definition = pages._definition(rt, code)
    ctx = pages.form_context(rt, definition, lang)
    ctx.update(
        values=values or {"mode": "window" if actor.role == Role.WINDOW else "assisted"},
        errors=errors or {},
        message=message,
        action=f"/window/register/{quote(definition.code)}",
        green_groups=_green(lang),
        modes=["window", "assisted"] if actor.role == Role.WINDOW else ["assisted"],
    )
    return render(request, "window_register.html", ctx, status_code=status_code, actor=actor)


@router.get("/window/register/{code}")
def register_form(request: Request, code: str) -> Response:
    actor = require_actor(request, *REGISTER_ROLES)
    return _register_page(request, actor, code)


def _register(
    request: Request, code: str, posted: dict[str, list[str]], uploads: dict[str, Upload]
) -> Response:
    actor = require_actor(request, *REGISTER_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    definition = pages._definition(rt, code)
    values = {k: (v if len(v) > 1 else v[0]) for k, v in posted.items() if k != "csrf_token"}
    mode = pages.first(posted, "mode") or "assisted"
    if actor.role != Role.WINDOW:
        mode = "assisted"
    channel = "window" if mode == "window" else "assisted"
    green = pages.first(posted, "green_channel") or None
    signature = uploads.pop("consent_signature", None)
    consent = None
    try:
        if channel == "assisted":
            method = pages.first(posted, "consent_method")
            consent = assistance.Consent(
                method,
                pages.first(posted, "consent_code") or None,
                check_upload(signature) if signature else None,
            )
        app_code, _phone = pages.submit_posted(
            rt,
            definition=definition,
            posted=posted,
            uploads=uploads,
            actor=actor,
            channel=channel,
            green_channel=green,
            consent=consent,
            note=pages.first(posted, "note") or None,
        )
    except assistance.WrongCode as wrong:
        with rt.db.write() as session:  # a wrong code counts towards its limit; nothing else is kept
            assistance.count_failed_attempt(session, wrong.code_id)
        return _register_page(
            request,
            actor,
            code,
            values=values,
            errors={"consent_code": wrong.message},
            message=wrong.detail.get("message_zh") if lang == "zh" else wrong.message,
            status_code=wrong.status_code,
        )
    except Invalid as exc:
        errors = pages.field_errors(exc, lang)
        for key in list(errors):
            if key.startswith("consent"):
                errors.setdefault("consent", errors[key])
        return _register_page(
            request,
            actor,
            code,
            values=values,
            errors=errors,
            message=(exc.detail.get("message_zh") if lang == "zh" else exc.message) or exc.message,
            status_code=422,
        )
    return redirect(f"/applications/{quote(app_code)}", done="registered", back="/window")


@router.post("/window/register/{code}")
async def register(request: Request, code: str) -> Response:
    posted, uploads = await pages.read_posted(request)
    return await run_in_threadpool(_register, request, code, posted, uploads)


def _send_code(request: Request, code: str, posted: dict[str, list[str]]) -> Response:
    """帮代办: text a one-time consent code to the applicant's phone; the form comes back as it was."""
    actor = require_actor(request, *REGISTER_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    values = {k: (v if len(v) > 1 else v[0]) for k, v in posted.items() if k != "csrf_token"}
    values["mode"], values["consent_method"] = "assisted", "otp"
    try:
        with rt.db.write() as session:
            assistance.request_code(session, phone=pages.first(posted, "applicant_phone"), actor=actor)
    except Invalid as exc:
        return _register_page(
            request,
            actor,
            code,
            values=values,
            errors={"applicant_phone": exc.message},
            message=(exc.detail.get("message_zh") if lang == "zh" else exc.message) or exc.message,
            status_code=422,
        )
    return _register_page(request, actor, code, values={**values, "code_sent": "1"})


@router.post("/window/register/{code}/consent-code")
async def send_code(request: Request, code: str) -> Response:
    posted, _ = await pages.read_posted(request)
    return await run_in_threadpool(_send_code, request, code, posted)


def _item(request: Request, item_code: str) -> Response:
    """一窗通收: any catalogue item, registered as a bundle of its one task (``applications.single``)."""
    require_actor(request, *REGISTER_ROLES)
    rt = runtime(request)
    with rt.db.write() as session:
        row = single.ensure(session, rt, item_code=item_code)
        code = row.code
    return redirect(f"/window/register/{quote(code)}")


@router.post("/window/items/{item_code}")
async def register_item(request: Request, item_code: str) -> Response:
    return await run_in_threadpool(_item, request, item_code)
