"""The web app's router: landing, login / logout, language, static files, and every role's pages."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import plotly
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from haoban.auth.models import User
from haoban.auth.roles import Role
from haoban.auth.service import authenticate, issue_token
from haoban.errors import NotFound, Unauthorized
from haoban.web import admin, board, console, dashboard, orders, portal, tourism
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
HOME_BY_ROLE = {
    Role.OPERATOR: "/console",
    Role.DISPATCHER: "/console/queue",
    Role.HANDLER: "/inbox",
    Role.SUPERVISOR: "/board",
    Role.ADMIN: "/admin",
    Role.AUDITOR: "/dashboard",
    Role.GATE: "/tour/gate",
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
    error = None
    if not errors:
        try:
            with rt.db.read() as session:
                user = authenticate(session, username=username, password=password)
                token = issue_token(user, secret=rt.settings.secret_key, minutes=rt.settings.token_minutes)
                role = user.role
        except Unauthorized as exc:
            error = translate("login_disabled" if "disabled" in exc.message else "login_failed", lang)
    if errors or error:
        return render(
            request,
            "login.html",
            {"next": nxt, "values": {"username": username}, "errors": errors, "error": error},
            status_code=401 if error else 422,
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
    else:
        file = (STATIC / path).resolve()
        if STATIC.resolve() not in file.parents or not file.is_file():
            raise NotFound(f"no static file {path!r}")
    media_type = mimetypes.guess_type(str(file))[0] or "application/octet-stream"
    return FileResponse(file, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/me")
def me(request: Request) -> Response:
    actor = current_actor(request)
    if actor is None:
        return redirect("/login")
    return redirect(HOME_BY_ROLE.get(actor.role, "/"))


for _module in (portal, console, orders, board, admin, dashboard, tourism):
    router.include_router(_module.router)
