"""What every page shares: templates, language, the signed-in actor, error pages. No business rules."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException

from haoban.applications.assistance import HELPER_ROLES
from haoban.auth.actors import CITIZEN_ACTOR, SYSTEM_ACTOR, Actor
from haoban.auth.roles import (
    CALL_CENTRE,
    DASHBOARD_ROLES,
    GATE_ROLES,
    READ_CONFIG_ROLES,
    REVIEW_ROLES,
    ROLE_LABELS,
    Role,
)
from haoban.auth.service import decode_token
from haoban.casework import obstacles
from haoban.casework import presenters as case_presenters
from haoban.casework.reform import READ_ROLES as REFORM_READ_ROLES
from haoban.directory.vocabulary import CHANNEL_LABELS, TYPE_LABELS
from haoban.errors import Conflict, DomainError, Forbidden, NotFound, RateLimited, Unauthorized
from haoban.orders import workflow
from haoban.runtime import Runtime
from haoban.security import csrf
from haoban.web import i18n, messages, plain, staff

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
TOKEN_COOKIE = "haoban_token"
LANG_COOKIE = "haoban_lang"

templates = Jinja2Templates(directory=str(HERE / "templates"))
# Every POST form carries {{ csrf_field() }}: see haoban.security.csrf for how the check works.
templates.env.globals["csrf_field"] = csrf.csrf_field
templates.env.globals["csrf_meta"] = csrf.csrf_meta


class LoginRequired(Exception):
    """Raised by a page that needs a signed-in user; the page route redirects to the login page."""


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def lang_of(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in i18n.LANGS:
        return q
    c = request.cookies.get(LANG_COOKIE)
    return c if c in i18n.LANGS else "zh"


def current_actor(request: Request) -> Actor | None:
    """The signed-in staff member from the ``haoban_token`` cookie, or None (never raises)."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    rt = runtime(request)
    try:
        user_id, version = decode_token(token, secret=rt.settings.secret_key)
        return rt.actors.get(rt.db.session, user_id, version)
    except Unauthorized:
        return None


def require_actor(request: Request, *roles: str) -> Actor:
    """The signed-in actor, who must hold one of ``roles`` (any role when none is given)."""
    actor = current_actor(request)
    if actor is None:
        raise LoginRequired()
    if roles and actor.role not in roles:
        raise Forbidden(f"this page needs one of the roles: {', '.join(roles)}")
    return actor


def demo_mode(rt: Runtime) -> bool:
    return bool(rt.settings.demo) or os.environ.get("HAOBAN_DEMO", "").lower() in ("1", "true", "yes")


# --- formatting helpers for templates ------------------------------------------------------------


def fmt_time(value: Any, with_time: bool = True, *, tz: ZoneInfo) -> str:
    """A time as the city reads it (the configured zone)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    local = value.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def status_label(status: str | None, lang: str) -> str:
    if not status:
        return ""
    try:
        zh, en = workflow.STATUS_LABELS[workflow.Status(status)]
    except ValueError:
        return status
    return en if lang == "en" else zh


def action_label(action: str, lang: str) -> str:
    t = workflow.BY_ACTION.get(action)
    if t is not None and t.label[0]:
        return t.label[1] if lang == "en" else t.label[0]
    return i18n.label(i18n.EVENT_LABELS, action, lang)


NAV: list[tuple[str, str, tuple[str, ...] | frozenset[Role] | None]] = [
    # (key, href, roles that see the link; None = everyone) — the same groups the pages require
    ("portal", "/portal", None),
    ("services", "/services", None),
    ("ap_nav", "/portal/apply", None),
    ("wn_nav", "/window", (Role.WINDOW, Role.VOLUNTEER, Role.SUPERVISOR, Role.ADMIN)),
    ("hp_nav", "/help-requests", HELPER_ROLES),
    ("console", "/console", CALL_CENTRE),
    ("queue", "/console/queue", CALL_CENTRE),
    ("inbox", "/inbox", (Role.HANDLER,)),
    ("board", "/board", REVIEW_ROLES),
    ("dashboard", "/dashboard", DASHBOARD_ROLES),
    ("admin", "/admin", READ_CONFIG_ROLES),
    ("federation", "/federation", (*DASHBOARD_ROLES, Role.WINDOW)),
    ("tour", "/tour", None),
    ("tour_gate", "/tour/gate", GATE_ROLES),
    ("benefits", "/admin/benefits", DASHBOARD_ROLES),
    ("tour_dashboard", "/tour/dashboard", DASHBOARD_ROLES),
    ("cases", "/cases", (Role.WINDOW, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR, Role.HANDLER)),
    ("reform", "/reform", REFORM_READ_ROLES),
]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    actor: Actor | None = None,
) -> HTMLResponse:
    lang = lang_of(request)
    if actor is None:
        actor = current_actor(request)
    rt = runtime(request)

    citizen_page = plain.is_citizen_page(request.url.path)
    care = citizen_page and plain.in_care_mode(request.url.path, request.cookies)

    def t(key: str) -> str:
        return (care and plain.plain(key, lang)) or i18n.translate(key, lang)

    nav = [
        (key, href)
        for key, href, roles in NAV
        if roles is None or (actor is not None and actor.role in roles)
    ]
    path_qs = request.url.path + (("?" + request.url.query) if request.url.query else "")
    other = "en" if lang == "zh" else "zh"
    ctx: dict[str, Any] = {
        "request": request,
        "t": t,
        "lang": lang,
        "actor": actor,
        "nav": nav,
        "path": request.url.path,
        "citizen_page": citizen_page,
        "care": care,
        "lang_href": f"/lang/{other}?next={quote(path_qs, safe='')}",
        "demo": demo_mode(rt),
        "fmt_time": lambda value, with_time=True: fmt_time(value, with_time, tz=rt.settings.tz),
        "fmt_pct": fmt_pct,
        "status_label": lambda s: status_label(s, lang),
        "action_label": lambda a: action_label(a, lang),
        "type_label": lambda k: i18n.label(TYPE_LABELS, k, lang),
        "channel_label": lambda k: i18n.label(CHANNEL_LABELS, k, lang),
        "role_label": lambda k: i18n.label(ROLE_LABELS, k, lang),
        "role_name": actor and i18n.label(ROLE_LABELS, actor.role, lang),
        "actor_label": lambda name: actor_label(name, lang),
        "dept_label": lambda code: staff.dept_name(rt, code, lang),
        "district_label": lambda code: staff.district_name(rt, code, lang),
        "category_label": lambda code: staff.category_name(rt, code, lang),
        "name_of": lambda thing: local_name(thing, lang),
        "obstacle_of": lambda code: obstacles.label(code, lang) if code else "",
        "case_status_of": lambda status: case_presenters.status_label(status, lang) if status else "",
    }
    ctx.update(context or {})
    _localize_messages(ctx, lang)
    response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response


def local_name(thing: Any, lang: str) -> str:
    """A place's, bundle's or item's name in the page's language: its English name when it has one."""
    get = thing.get if isinstance(thing, dict) else lambda k, d=None: getattr(thing, k, d)
    name = str(get("name", "") or "")
    return str(get("name_en", None) or name) if lang == "en" else name


def actor_label(name: str | None, lang: str) -> str:
    """Who did something, as an event records it: the system and citizens by their word in the page's
    language ("系统 system" is stored), people by their name."""
    if name == SYSTEM_ACTOR.name:
        return i18n.translate("actor_system", lang)
    if name == CITIZEN_ACTOR.name:
        return i18n.translate("actor_citizen", lang)
    return name or ""


# The context keys that carry the services' (English) messages to a page: shown in the page's language.
MESSAGE_KEYS = ("message", "rate_message")
ERROR_KEYS = ("errors", "rate_errors", "track_errors")


def _localize_messages(ctx: dict[str, Any], lang: str) -> None:
    for key in MESSAGE_KEYS:
        if isinstance(ctx.get(key), str):
            ctx[key] = messages.localize(ctx[key], lang)
    for key in ERROR_KEYS:
        if isinstance(ctx.get(key), dict):
            ctx[key] = {
                k: (
                    {kk: messages.localize(vv, lang) if isinstance(vv, str) else vv for kk, vv in v.items()}
                    if isinstance(v, dict)
                    else messages.localize(v, lang)
                    if isinstance(v, str)
                    else v
                )
                for k, v in ctx[key].items()
            }


def redirect(url: str, **params: str) -> RedirectResponse:
    if params:
        url += ("&" if "?" in url else "?") + urlencode(params)
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: never redirect to another host."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def error_page(request: Request, exc: Exception) -> Response:
    """A clear page for a refused or failed request: never a stack trace."""
    if isinstance(exc, LoginRequired | Unauthorized):
        path_qs = request.url.path + (("?" + request.url.query) if request.url.query else "")
        return redirect("/login", next=path_qs)
    if isinstance(exc, NotFound) or (isinstance(exc, HTTPException) and exc.status_code == 404):
        key, status = "not_found", 404
    elif isinstance(exc, Forbidden):
        key, status = "forbidden", 403
    elif isinstance(exc, Conflict):
        key, status = "conflict", 409
    elif isinstance(exc, RateLimited):
        key, status = "rate", 429
    elif isinstance(exc, OperationalError):
        key, status = "busy", 503
    elif isinstance(exc, OverflowError | DataError):
        key, status = "invalid", 422  # a number beyond what the database stores: the input's fault
    elif isinstance(exc, HTTPException) and exc.status_code < 500:
        key, status = "invalid", exc.status_code  # e.g. a form the parser refused
    elif isinstance(exc, DomainError):
        key, status = "conflict", exc.status_code
    else:
        log.exception("page %s failed", request.url.path, exc_info=exc)
        key, status = "server", 500
    detail = None
    if isinstance(exc, DomainError):
        zh = exc.detail.get("message_zh") if lang_of(request) == "zh" else None
        detail = str(zh) if zh else messages.localize(exc.message, lang_of(request))
    try:
        actor = current_actor(request)
    except Exception:
        actor = None
    return render(
        request,
        "error.html",
        {"error_key": key, "detail": detail},
        status_code=status,
        actor=actor,
    )


class PageRoute(APIRoute):
    """A page route: domain errors and crashes become a friendly HTML page; no login goes to /login."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_page(request, exc)

        return page_handler


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not a script): errors answer with the HTML page."""
    path = request.url.path
    if path.startswith(("/api/", "/static/", "/open311/")) or path == "/api":
        return False
    return "text/html" in request.headers.get("accept", "")
