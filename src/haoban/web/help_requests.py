"""请工作人员帮我办 (issue 18): the citizen's call-back request form and its tracking page, and the 帮代办
queue where volunteers and staff claim requests, note their calls and close them with an outcome.

The rules live in ``haoban.applications.help_requests``; these pages only parse, call and render.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from haoban.applications import help_requests as hr
from haoban.applications.assistance import HELPER_ROLES
from haoban.deps import client_address
from haoban.errors import Invalid, NotFound
from haoban.orders.citizen import phone_last4, track_token
from haoban.ratelimit import check_rate
from haoban.web import forms, i18n
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FILE_RATE_PER_MINUTE = 5


def _pairs(table: dict[str, tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    return [(k, en if lang == "en" else zh) for k, (zh, en) in table.items()]


def _key(request: Request, code: str, last4: str) -> str:
    return track_token(runtime(request).settings.secret_key, code=code, last4=last4)


def status_url(request: Request, code: str, last4: str) -> str:
    """The request's bookmarkable link: the code and a key, never the phone digits."""
    return f"/portal/help/{code}?k={_key(request, code, last4)}"


def _form(request: Request, *, status_code: int = 200, **ctx: Any) -> Response:
    lang = lang_of(request)
    about = (request.query_params.get("about") or "").strip()[:200]
    base: dict[str, Any] = {
        "values": {"preferred_time": "anytime", "need": about},
        "errors": {},
        "times": _pairs(hr.TIME_LABELS, lang),
        "lookup_values": {},
        "lookup_errors": {},
    }
    base.update(ctx)
    return render(request, "help_request.html", base, status_code=status_code, actor=None)


@router.get("/portal/help")
def help_form(request: Request) -> Response:
    return _form(request)


def _file(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    errors = forms.check_required(values, ["name", "phone", "need"], lang)
    if errors:
        return _form(request, values=values, errors=errors, status_code=422)
    check_rate(
        rt.db,
        scope="help",
        client=client_address(request),
        limit=FILE_RATE_PER_MINUTE,
        message="too many requests from your address; wait a minute or call 12345",
    )
    try:
        with rt.db.write() as session:
            req = hr.file_request(
                rt,
                session,
                name=values.get("name", ""),
                phone=values.get("phone", ""),
                need=values.get("need", ""),
                preferred_time=values.get("preferred_time", "anytime"),
                lang=lang,
            )
            code, last4 = req.code, phone_last4(req.phone) or ""
    except Invalid as exc:
        fields = exc.detail.get("fields", {})
        errors = {k: _field_error(k, lang) for k in fields}
        return _form(request, values=values, errors=errors, status_code=422)
    return redirect(status_url(request, code, last4) + "&new=1")


def _field_error(name: str, lang: str) -> str:
    return i18n.translate(f"hp_err_{name}", lang)


@router.post("/portal/help")
async def file_help(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_file, request, form)


def _lookup(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    errors = forms.check_required(values, ["code", "phone_last4"], lang)
    last4 = values.get("phone_last4", "")
    if last4 and not (len(last4) == 4 and last4.isdigit()):
        errors["phone_last4"] = _field_error("phone_last4", lang)
    if errors:
        return _form(request, lookup_values=values, lookup_errors=errors, status_code=422, focus="lookup")
    check_rate(
        rt.db,
        scope="track",
        client=client_address(request),
        limit=rt.settings.track_rate_per_minute,
        message="too many look-ups from your address; wait a minute and try again",
    )
    try:
        with rt.db.read() as session:
            req = hr.for_citizen(session, code=values["code"], last4=last4)
            code = req.code
    except NotFound:
        return _form(request, lookup_values=values, lookup_missing=True, status_code=404, focus="lookup")
    return redirect(status_url(request, code, last4))


@router.post("/portal/help/track")
async def lookup_help(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_lookup, request, form)


@router.get("/portal/help/track")
def back_to_help(request: Request) -> Response:
    return redirect("/portal/help")


@router.get("/portal/help/{code}")
def help_status(request: Request, code: str) -> Response:
    """The confirmation and, later, the progress: proven by the link's key (code + phone digits)."""
    rt = runtime(request)
    lang = lang_of(request)
    key = request.query_params.get("k", "")
    with rt.db.read() as session:
        try:
            req = hr.get(session, code)
        except NotFound:
            req = None
        if req is None or not hmac.compare_digest(key, _key(request, req.code, phone_last4(req.phone) or "")):
            raise NotFound(
                "no help request behind this link: check the code and the phone digits",
                message_zh="链接无效，请用编号和手机后四位查询",
            )
        view = hr.citizen_view(session, req, lang)
    link = status_url(request, view["code"], phone_last4(req.phone) or "")
    other = "en" if lang == "zh" else "zh"
    ctx = {
        "r": view,
        "new": request.query_params.get("new") == "1",
        "status_href": link,
        "lang_href": f"/lang/{other}?next={quote(link, safe='')}",
    }
    return render(request, "help_request_status.html", ctx, actor=None)


# --- the 帮代办 queue ------------------------------------------------------------------------------------


@router.get("/help-requests")
def staff_queue(request: Request) -> Response:
    actor = require_actor(request, *HELPER_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    status = request.query_params.get("status") or None
    with rt.db.read() as session:
        rows = [hr.staff_view(session, r, lang, actor) for r in hr.queue(session, actor=actor, status=status)]
    ctx = {
        "rows": rows,
        "status": status,
        "statuses": _pairs(hr.STAFF_STATUS_LABELS, lang),
        "counts": {s: sum(1 for r in rows if r["status"] == s) for s in hr.STAFF_STATUS_LABELS},
    }
    return render(request, "help_queue.html", ctx, actor=actor)


def _staff_page(request: Request, code: str, *, status_code: int = 200, **ctx: Any) -> Response:
    actor = require_actor(request, *HELPER_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    with rt.db.read() as session:
        req = hr.get(session, code)
        base = {
            "r": hr.staff_view(session, req, lang, actor),
            "steps": hr.staff_events(session, req, lang),
            "outcomes": _pairs(hr.OUTCOME_LABELS, lang),
            "errors": {},
            "values": {},
            "done": request.query_params.get("done"),
        }
    base.update(ctx)
    return render(request, "help_request_staff.html", base, status_code=status_code, actor=actor)


@router.get("/help-requests/{code}")
def staff_request(request: Request, code: str) -> Response:
    return _staff_page(request, code)


def _act(request: Request, code: str, action: str, form: dict[str, Any]) -> Response:
    actor = require_actor(request, *HELPER_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    values = forms.clean(form)
    try:
        with rt.db.write() as session:
            req = hr.act(
                session,
                code=code,
                action=action,
                actor=actor,
                note=values.get("note"),
                outcome=values.get("outcome"),
            )
            code = req.code
    except Invalid as exc:
        fields = exc.detail.get("fields", {})
        errors = {k: _field_error(k, lang) for k in fields}
        return _staff_page(request, code, errors=errors, values=values, action=action, status_code=422)
    return redirect(f"/help-requests/{code}", done=action)


@router.post("/help-requests/{code}/{action}")
async def staff_act(request: Request, code: str, action: str) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_act, request, code, action, form)
