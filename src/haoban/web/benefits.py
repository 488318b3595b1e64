"""免申即享 pages: the portal page where a person or company confirms pushed benefits, and the staff page
where admins upload DMN tables and data sources and supervisors review flagged grants.

Every form calls the same service as the API (``haoban.benefits.service`` / ``store`` / ``sources``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from haoban.auth.roles import ADMIN_ROLES, DASHBOARD_ROLES
from haoban.benefits import matching, service, sources, store
from haoban.benefits.payer import get_payer
from haoban.benefits.workflow import BY_ACTION, STATUS_LABELS, GrantStatus
from haoban.db import utcnow
from haoban.deps import client_address
from haoban.errors import Conflict, DomainError, Invalid, NotFound, RateLimited
from haoban.ratelimit import check_rate
from haoban.web import forms
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)


# --- portal ----------------------------------------------------------------------------------------


def _allowed(request: Request) -> None:
    rt = runtime(request)
    try:
        check_rate(
            rt.db, scope="track", client=client_address(request), limit=rt.settings.track_rate_per_minute
        )
    except RateLimited:
        raise RateLimited("too many look-ups from your address; wait a minute and try again") from None


def _portal(request: Request, *, status_code: int = 200, **ctx: Any) -> Response:
    base: dict[str, Any] = {"values": {}, "errors": {}, "found": None, "message": None, "who": "person"}
    base.update(ctx)
    return render(request, "benefits_portal.html", base, status_code=status_code, actor=None)


@router.get("/portal/benefits")
def portal(request: Request) -> Response:
    """The look-up forms; with ``who``, ``code`` and the key ``k`` (where a look-up or an answer
    redirects): that person's or company's pushed benefits, so a reload never posts again."""
    qp = request.query_params
    token, code = qp.get("k", ""), qp.get("code", "")
    if not token or not code:
        return _portal(request)
    rt = runtime(request)
    who = "company" if qp.get("who") == "company" else "person"
    done = qp.get("done") if qp.get("done") in ("confirmed", "declined") else None
    try:
        with rt.db.read() as session:
            last4 = service.lookup_proof(
                session, who=who, code=code, token=token, secret=rt.settings.secret_key
            )
            values = {("credit_code" if who == "company" else "code"): code, "phone_last4": last4}
            found = _lookup(session, values, who)
    except (NotFound, Invalid):
        return _portal(request, missing=True, status_code=404)
    return _portal(request, values=values, who=who, found=found, done=done)


def _result_url(request: Request, values: dict[str, str], who: str, **extra: str) -> Response:
    """Post/Redirect/Get: the result page by its bookmarkable link (code and key, never the digits)."""
    code = values["credit_code" if who == "company" else "code"].strip().upper()
    key = service.lookup_token(
        runtime(request).settings.secret_key, who=who, code=code, last4=values["phone_last4"]
    )
    return redirect("/portal/benefits", who=who, code=code, k=key, **extra)


def _identity(values: dict[str, str], lang: str) -> tuple[dict[str, str], str]:
    who = "company" if values.get("who") == "company" else "person"
    key = "credit_code" if who == "company" else "code"
    errors = forms.check_required(values, [key, "phone_last4"], lang)
    last4 = values.get("phone_last4", "")
    if last4 and not (len(last4) == 4 and last4.isdigit()):
        errors["phone_last4"] = "请输入 4 位数字" if lang == "zh" else "Enter four digits"
    return errors, who


def _lookup(session: Any, values: dict[str, str], who: str) -> dict[str, Any]:
    if who == "company":
        return service.company_lookup(session, credit_code=values["credit_code"], last4=values["phone_last4"])
    return service.citizen_lookup(session, code=values["code"], last4=values["phone_last4"])


def _show(request: Request, form: dict[str, Any]) -> Response:
    rt = runtime(request)
    values = forms.clean(form)
    errors, who = _identity(values, lang_of(request))
    if errors:
        return _portal(request, values=values, errors=errors, who=who, status_code=422)
    _allowed(request)
    try:
        with rt.db.read() as session:
            found = _lookup(session, values, who)
    except NotFound:
        return _portal(request, values=values, who=who, missing=True, status_code=404)
    except Invalid as exc:
        return _portal(request, values=values, who=who, errors=exc.detail.get("fields", {}), status_code=422)
    del found
    return _result_url(request, values, who)


@router.post("/portal/benefits")
async def show(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_show, request, form)


def _answer(request: Request, form: dict[str, Any], action: str) -> Response:
    rt = runtime(request)
    values = forms.clean(form)
    errors, who = _identity(values, lang_of(request))
    grant = values.get("grant", "")
    if errors or not grant:
        return _portal(request, values=values, errors=errors, who=who, status_code=422)
    _allowed(request)
    status, message, answer_errors = 200, None, {}
    try:
        with rt.db.write() as session:
            if action == "confirm":
                service.confirm(
                    session, code=grant, last4=values["phone_last4"], account=values.get("account") or None
                )
            else:
                service.decline(session, code=grant, last4=values["phone_last4"])
        message = "confirmed" if action == "confirm" else "declined"
    except NotFound:
        return _portal(request, values=values, who=who, missing=True, status_code=404)
    except Invalid as exc:
        status, answer_errors = 422, exc.detail.get("fields", {}) or {"account": exc.message}
    except Conflict as exc:
        status, message = 409, exc.message
    if status == 200 and message:
        return _result_url(request, values, who, done=message)
    with rt.db.read() as session:
        found = _lookup(session, values, who)
    return _portal(
        request,
        values=values,
        who=who,
        found=found,
        done=message if status == 200 else None,
        conflict=message if status == 409 else None,
        answer_errors=answer_errors,
        answer_grant=grant,
        status_code=status,
    )


@router.post("/portal/benefits/confirm")
async def confirm(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_answer, request, form, "confirm")


@router.post("/portal/benefits/decline")
async def decline(request: Request) -> Response:
    form = dict(await request.form())
    return await run_in_threadpool(_answer, request, form, "decline")


# --- staff -----------------------------------------------------------------------------------------


def _staff(request: Request, *, status_code: int = 200, **ctx: Any) -> Response:
    actor = require_actor(request, *DASHBOARD_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        versions = store.versions(session)
        flagged, _total = service.list_grants(session, actor=actor, flagged=True, page_size=100)
        figures = service.figures(session, actor=actor)
    base: dict[str, Any] = {
        "versions": versions,
        "flagged": flagged,
        "figures": figures,
        "sources": list(sources.SOURCES.values()),
        "can_admin": actor.role in ADMIN_ROLES,
        "can_review": actor.role in service.REVIEW_ROLES,
        "problems": None,
        "message": None,
        "errors": {},
    }
    base.update(ctx)
    return render(request, "benefits_admin.html", base, status_code=status_code, actor=actor)


@router.get("/admin/benefits")
def staff(request: Request) -> Response:
    return _staff(request)


def _post(request: Request, form: dict[str, Any], what: str) -> Response:
    actor = require_actor(request, *DASHBOARD_ROLES)
    rt = runtime(request)
    try:
        with rt.db.write() as session:
            if what == "policy":
                upload = form.get("file")
                if not isinstance(upload, UploadFile) or not upload.filename:
                    raise Invalid("choose a DMN file", fields={"file": "required"})
                row, created = store.upload(session, xml=upload.file.read(), actor=actor)
                message = f"{row.name} ({row.code}) v{row.version}" + ("" if created else " =")
            elif what == "source":
                service.require_admin(actor)
                upload = form.get("file")
                if not isinstance(upload, UploadFile) or not upload.filename:
                    raise Invalid("choose a CSV file", fields={"file": "required"})
                r = sources.import_csv(
                    session,
                    source_name=str(form.get("source", "")),
                    data=upload.file.read(),
                    filename=upload.filename,
                    actor=actor,
                )
                message = f"{r.source}: +{r.inserted} ~{r.updated} ={r.unchanged}"
            elif what == "match":
                service.require_admin(actor)
                today = utcnow().astimezone(rt.settings.tz).date()
                runs = matching.match(session, today=today, full=form.get("full") == "1", actor=actor)
                paid = service.pay_confirmed(session, payer=get_payer(rt.settings.benefits_payer))
                message = "; ".join(f"{r.policy} +{r.granted} !{r.flagged}" for r in runs) + f"; paid {paid}"
            else:
                values = forms.clean(form)
                service.review(
                    session,
                    code=values.get("grant", ""),
                    decision=values.get("decision", ""),
                    note=values.get("note", ""),
                    actor=actor,
                )
                message = values.get("grant", "")
    except DomainError as exc:
        return _staff(
            request,
            message=exc.message,
            problems=exc.detail.get("problems"),
            errors=exc.detail.get("fields", {}),
            status_code=exc.status_code,
        )
    return _staff(request, message=message, ok=True)


@router.get("/admin/benefits/grants/{code}")
def grant_page(request: Request, code: str) -> Response:
    actor = require_actor(request, *DASHBOARD_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        g = service.grant_detail(session, code=code, actor=actor)
    lang = lang_of(request)

    def status_text(status: str | None) -> str:
        pair = STATUS_LABELS.get(GrantStatus(status)) if status in GrantStatus._value2member_map_ else None
        return (pair[1] if lang == "en" else pair[0]) if pair else (status or "—")

    def event_text(action: str) -> str:
        move = BY_ACTION.get(action)
        return (move.label[1] if lang == "en" else move.label[0]) if move else action

    ctx = {"g": g, "status_text": status_text, "event_text": event_text}
    return render(request, "benefits_grant.html", ctx, actor=actor)


@router.post("/admin/benefits/{what}")
async def post(request: Request, what: str) -> Response:
    form = dict(await request.form())
    if what not in ("policy", "source", "match", "review"):
        raise NotFound(f"no benefits form {what!r}")
    return await run_in_threadpool(_post, request, form, what)
