"""The web app's router: landing, login / logout, language, static files, and every role's pages."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import fastapi_offline
import plotly
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select

from haoban.auth.login import SecondFactorNeeded, log_in
from haoban.auth.models import User
from haoban.auth.roles import Role
from haoban.auth.service import revoke_tokens
from haoban.deps import client_address
from haoban.errors import NotFound, RateLimited, Unauthorized
from haoban.web import (
    admin,
    application_staff,
    applications,
    benefits,
    board,
    bundle_process,
    care,
    cases,
    console,
    dashboard,
    federation,
    federation_portal,
    help_requests,
    orders,
    photos,
    portal,
    ratings,
    read_aloud,
    services,
    tourism,
    window,
)
from haoban.web.common import (
    HERE,
    LANG_COOKIE,
    TOKEN_COOKIE,
    PageRoute,
    current_actor,
    demo_mode,
    lang_of,
    redirect,
    render,
    runtime,
    safe_next,
)
from haoban.web.i18n import LANGS, translate

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STATIC = HERE / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
# Swagger UI and ReDoc as shipped by the fastapi-offline package: the docs load nothing from a CDN.
DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"
DOCS_ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"})
_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>haoban 好办 API</title>
<link rel="icon" href="/static/vendor/docs/favicon.png">{head}</head>
<body>{body}</body></html>"""
HOME_BY_ROLE = {
    Role.OPERATOR: "/console",
    Role.DISPATCHER: "/console/queue",
    Role.HANDLER: "/inbox",
    Role.SUPERVISOR: "/board",
    Role.ADMIN: "/admin",
    Role.AUDITOR: "/dashboard",
    Role.GATE: "/tour/gate",
    Role.WINDOW: "/cases",
    Role.VOLUNTEER: "/window",
}


@router.get("/")
def landing(request: Request) -> Response:
    rt = runtime(request)
    accounts: list[tuple[str, str, str | None]] = []
    if demo_mode(rt):
        with rt.db.read() as session:
            users = session.scalars(
                select(User).where(User.active.is_(True)).order_by(User.role, User.username)
            )
            names = rt.directory
            accounts = [(u.username, u.role, names.department_name(u.department_id)) for u in users]
    staff = [a for a in accounts if a[1] != Role.HANDLER]
    handlers = [a for a in accounts if a[1] == Role.HANDLER]
    return render(request, "landing.html", {"staff": staff, "handlers": handlers})


@router.get("/login")
def login_form(request: Request) -> Response:
    return render(
        request,
        "login.html",
        {"next": safe_next(request.query_params.get("next"), ""), "values": {}, "error": None},
    )


def _login(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    nxt = safe_next(str(form.get("next") or ""), "")
    errors = {
        k: translate("err_required", lang)
        for k, v in (("username", username), ("password", password))
        if not v
    }
    otp = str(form.get("otp") or "").strip() or None
    error, status, need_otp = None, 401, bool(otp)
    if not errors:
        try:
            done = log_in(
                rt.db,
                username=username,
                password=password,
                otp=otp,
                address=client_address(request),
                via="web",
                secret=rt.settings.secret_key,
                minutes=rt.settings.token_minutes,
            )
            token, role = done.token, done.role
        except RateLimited as exc:
            error, status = translate("login_locked", lang).format(seconds=exc.detail.get("retry_after")), 429
        except SecondFactorNeeded:
            error, need_otp = translate("login_need_otp", lang), True
        except Unauthorized as exc:
            key = "login_disabled" if "disabled" in exc.message else "login_failed"
            if exc.detail.get("second_factor"):
                key, need_otp = "login_wrong_otp", True
            error = translate(key, lang)
    if errors or error:
        return render(
            request,
            "login.html",
            {
                "next": nxt,
                "values": {"username": username},
                "errors": errors,
                "error": error,
                "need_otp": need_otp,
            },
            status_code=status if error else 422,
            actor=None,
        )
    response = redirect(nxt or HOME_BY_ROLE.get(role, "/"))
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=rt.settings.token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_login, request, form)


@router.post("/logout")
def logout(request: Request) -> Response:
    # Revoke, not only forget: a copied cookie must not outlive the logout.
    actor = current_actor(request)
    if actor is not None and actor.id is not None:
        rt = runtime(request)
        with rt.db.write() as session:
            user = session.get(User, actor.id)
            if user is not None:
                revoke_tokens(user)
        rt.actors.forget(actor.id)
    response = redirect("/login", bye="1")
    response.delete_cookie(TOKEN_COOKIE)
    return response


@router.get("/lang/{lang}")
def set_lang(request: Request, lang: str) -> Response:
    response = redirect(safe_next(request.query_params.get("next"), "/"))
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/static/{path:path}")
def static(path: str) -> Response:
    if path == "vendor/plotly.min.js":
        file = PLOTLY_JS
    elif path.startswith("vendor/docs/") and path.removeprefix("vendor/docs/") in DOCS_ASSETS:
        file = DOCS_STATIC / path.removeprefix("vendor/docs/")
    else:
        file = (STATIC / path).resolve()
        if STATIC.resolve() not in file.parents or not file.is_file():
            raise NotFound(f"no static file {path!r}")
    media_type = mimetypes.guess_type(str(file))[0] or "application/octet-stream"
    return FileResponse(file, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/docs")
def docs() -> Response:
    """Swagger UI; the start-up script is a static file (the CSP allows no inline script)."""
    return HTMLResponse(
        _DOCS_PAGE.format(
            head='<link rel="stylesheet" href="/static/vendor/docs/swagger-ui.css">',
            body='<div id="swagger-ui" data-url="/openapi.json"></div>'
            '<script src="/static/vendor/docs/swagger-ui-bundle.js"></script>'
            '<script src="/static/docs-init.js"></script>',
        )
    )


@router.get("/redoc")
def redoc() -> Response:
    return HTMLResponse(
        _DOCS_PAGE.format(
            head="",
            body='<redoc spec-url="/openapi.json"></redoc>'
            '<script src="/static/vendor/docs/redoc.standalone.js"></script>',
        )
    )


@router.get("/me")
def me(request: Request) -> Response:
    actor = current_actor(request)
    if actor is None:
        return redirect("/login")
    return redirect(HOME_BY_ROLE.get(actor.role, "/"))


for _module in (
    portal,
    console,
    orders,
    photos,
    board,
    admin,
    dashboard,
    tourism,
    benefits,
    services,
    cases,
    applications,
    application_staff,
    bundle_process,
    window,
    ratings,
    care,
    federation,
    federation_portal,
    help_requests,
    read_aloud,
):
    router.include_router(_module.router)
