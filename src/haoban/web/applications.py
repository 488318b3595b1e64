"""“一件事” pages for applicants (no login): pick a life event, fill its one form, upload materials,
follow the plain-language timeline with the code and phone digits, fetch the electronic licences,
send the one 补正 resubmission.

Thin: ``haoban.applications.service`` checks and stores everything; these routes read posted fields
(``haoban.web.schema_form``), call it, and redirect after a POST to a bookmarkable timeline page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from haoban.applications import access, presenters, registry, service, single, workflow
from haoban.applications.materials import MAX_BYTES, Upload
from haoban.applications.models import Application
from haoban.applications.workflow import TASK_STATUS_LABELS, AppStatus, TaskStatus
from haoban.auth.actors import CITIZEN_ACTOR, Actor
from haoban.bundles.definitions import Definition
from haoban.deps import client_address
from haoban.errors import Conflict, Invalid, NotFound
from haoban.licences import service as licences
from haoban.licences.models import Licence
from haoban.orders.citizen import phone_last4
from haoban.ratelimit import check_rate
from haoban.runtime import Runtime
from haoban.web import schema_form, staff
from haoban.web.common import PageRoute, lang_of, redirect, render, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MATERIAL_PREFIX = "material."
APPLICANT_FIELDS = ("applicant_name", "applicant_phone", "applicant_id_number")


# --- shared with the window console ------------------------------------------------------------------


def bundle_cards(session: Session, rt: Runtime, lang: str) -> list[dict[str, Any]]:
    """Every bundle people may apply for (its latest version), in the page's language."""
    out = []
    for row in registry.latest_rows(session):
        if single.is_single(row.code):
            continue  # one catalogue item registered at a window, not a life event
        d = registry.definition_of(rt, row)
        out.append(
            {
                "code": d.code,
                "name": (d.name_en or d.name) if lang == "en" else d.name,
                "description": (d.description_en or d.description) if lang == "en" else d.description,
                "promise": _promise(d.promise, lang),
                "tasks": len(d.tasks),
                "departments": [_dept_name(rt, c, lang) for c in d.departments()],
            }
        )
    return out


def _dept_name(rt: Runtime, code: str, lang: str) -> str:
    return staff.dept_name(rt, code, lang)


def _promise(promise: Any, lang: str) -> str:
    """A time limit as people read it ("5 个工作日", "5 working days"), not its stored unit code."""
    zh, en = promise.label()
    return en if lang == "en" else zh


def form_context(rt: Runtime, definition: Definition, lang: str) -> dict[str, Any]:
    """What the apply form shows: the schema's groups and the bundle's materials."""
    return {
        "b": definition,
        "b_name": (definition.name_en or definition.name) if lang == "en" else definition.name,
        "b_promise": _promise(definition.promise, lang),
        "groups": schema_form.groups(definition.form_schema, lang),
        "materials": [
            {
                "key": m.key,
                "name": (m.name_en or m.name) if lang == "en" else m.name,
                "required": m.required,
            }
            for m in definition.materials.values()
        ],
        "tasks": [
            {
                "name": (t.name_en or t.name) if lang == "en" else t.name,
                "department": _dept_name(rt, t.department or "", lang),
                "promise": _promise(t.promise, lang),
            }
            for t in definition.tasks.values()
        ],
        "max_mb": MAX_BYTES // (1024 * 1024),
    }


async def read_posted(request: Request) -> tuple[dict[str, list[str]], dict[str, Upload]]:
    """Posted text fields (every value) and the uploaded materials (``material.<key>`` file inputs)."""
    form = await request.form(max_part_size=MAX_BYTES + 1024)
    posted: dict[str, list[str]] = {}
    uploads: dict[str, Upload] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            if key.startswith(MATERIAL_PREFIX) and (value.filename or data):
                name = key.removeprefix(MATERIAL_PREFIX)
                uploads[name] = Upload(name, value.filename or name, data)
            elif key == "consent_signature" and (value.filename or data):
                uploads[key] = Upload(key, value.filename or key, data)
        else:
            posted.setdefault(key, []).append(value)
    await form.close()
    return posted, uploads


def first(posted: Mapping[str, list[str]], name: str) -> str:
    values = posted.get(name) or [""]
    return values[0].strip()


def field_errors(exc: Invalid, lang: str) -> dict[str, str]:
    """Problems by input name (the form's dotted paths, ``applicant_*``, ``material.<key>``)."""
    out: dict[str, str] = {}
    problems = exc.detail.get("problems") or []
    for p in problems:
        out.setdefault(_input_name(str(p.get("field", ""))), str(p.get("en" if lang == "en" else "zh", "")))
    for name, msg in (exc.detail.get("fields") or {}).items():
        out.setdefault(_input_name(str(name)), str(msg))
    return out


def _input_name(field: str) -> str:
    field = field.removeprefix("form.")
    if field.startswith("applicant."):
        return "applicant_" + field.removeprefix("applicant.")
    if field.startswith("materials."):
        return MATERIAL_PREFIX + field.removeprefix("materials.")
    return field


def timeline_url(code: str, phone: str) -> str:
    return f"/portal/applications/{quote(code)}?p={phone_last4(phone)}"


# --- the citizen pages -------------------------------------------------------------------------------


@router.get("/portal/apply")
def life_events(request: Request) -> Response:
    rt = runtime(request)
    with rt.db.read() as session:
        cards = bundle_cards(session, rt, lang_of(request))
    return render(request, "bundle_list.html", {"bundles": cards}, actor=None)


def _definition(rt: Runtime, code: str) -> Definition:
    with rt.db.read() as session:
        return registry.definition_of(rt, registry.require_latest(session, code[:64]))


def _apply_page(
    request: Request,
    definition: Definition,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    ctx = form_context(rt, definition, lang)
    ctx.update(values=dict(values or {}), errors=dict(errors or {}), message=message)
    return render(request, "bundle_apply.html", ctx, status_code=status_code, actor=None)


@router.get("/portal/apply/{code}")
def apply_form(request: Request, code: str) -> Response:
    return _apply_page(request, _definition(runtime(request), code))


def submit_posted(
    rt: Runtime,
    *,
    definition: Definition,
    posted: Mapping[str, list[str]],
    uploads: Mapping[str, Upload],
    actor: Actor,
    channel: str,
    green_channel: str | None = None,
    consent: Any = None,
    note: str | None = None,
) -> tuple[str, str]:
    """Submit what a page posted; (the application's code, the applicant's phone)."""
    form = schema_form.parse(definition.form_schema, posted, rt.settings.tz)
    applicant = service.Applicant(
        first(posted, "applicant_name"),
        first(posted, "applicant_phone"),
        first(posted, "applicant_id_number") or None,
    )
    with rt.db.write() as session:
        app, _ = service.submit(
            session,
            rt,
            bundle=definition.code,
            form=form,
            applicant=applicant,
            actor=actor,
            uploads=uploads,
            channel=channel,
            green_channel=green_channel,
            consent=consent,
            note=note,
        )
        return app.code, app.applicant_phone


def _apply(request: Request, code: str, posted: dict[str, list[str]], uploads: dict[str, Upload]) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    definition = _definition(rt, code)
    values = {k: (v if len(v) > 1 else v[0]) for k, v in posted.items() if k != "csrf_token"}
    check_rate(rt.db, scope="apply", client=client_address(request), limit=rt.settings.track_rate_per_minute)
    try:
        code, phone = submit_posted(
            rt, definition=definition, posted=posted, uploads=uploads, actor=CITIZEN_ACTOR, channel="online"
        )
    except Invalid as exc:
        msg = exc.detail.get("message_zh") if lang == "zh" else exc.message
        return _apply_page(
            request,
            definition,
            values=values,
            errors=field_errors(exc, lang),
            message=msg or exc.message,
            status_code=422,
        )
    return redirect(timeline_url(code, phone), new="1")


@router.post("/portal/apply/{code}")
async def apply(request: Request, code: str) -> Response:
    posted, uploads = await read_posted(request)
    return await run_in_threadpool(_apply, request, code, posted, uploads)


def _allowed(request: Request) -> None:
    rt = runtime(request)
    check_rate(rt.db, scope="track", client=client_address(request), limit=rt.settings.track_rate_per_minute)


def licences_of(session: Session, app: Application, deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The electronic licences this application produced (public view: masked holder)."""
    codes = {c for d in deliveries for c in d.get("licence_codes") or []}
    rows = session.scalars(
        # Issued for one of its tasks (source_ref "<code>/<task>"), or listed with a delivery.
        select(Licence).where(
            Licence.source_ref.startswith(f"{app.code}/", autoescape=True) | Licence.code.in_(codes or {""})
        )
    ).unique()
    return [licences.public_view(lic, lic.code) for lic in sorted(rows, key=lambda r: r.id)]


def status_text(status: str, lang: str) -> str:
    """A task's state in the page's language."""
    zh, en = TASK_STATUS_LABELS[TaskStatus(status)]
    return en if lang == "en" else zh


def track_context(rt: Runtime, code: str, last4: str, lang: str = "zh") -> dict[str, Any]:
    with rt.db.read() as session:
        app = access.get_for_applicant(session, code=code[:24], last4=last4)
        view = presenters.track(rt, session, app)
        view["licences"] = licences_of(session, app, view["deliveries"])
        for task in view["tasks"]:
            task["status_text"] = status_text(task["status"], lang)
            if task.get("department"):
                task["department_name"] = staff.dept_name(rt, task["department"], lang)
        for lic in view["licences"]:
            if lic.get("department"):
                lic["department_name"] = staff.dept_name(rt, lic["department"], lang)
        correction = view["pending_correction"]
        ctx: dict[str, Any] = {
            "a": view,
            "last4": last4,
            "correction": None,
            "may_withdraw": workflow.application_may("withdraw", app.status),
        }
        if app.status == AppStatus.AWAITING_CORRECTION:
            definition = registry.definition_by_id(session, rt, app.definition_id)
            fields = schema_form.flat(definition.form_schema)
            ctx["correction"] = {
                "fields": [fields[f] for f in correction.get("fields", []) if f in fields],
                "materials": [
                    definition.materials[m]
                    for m in correction.get("materials", [])
                    if m in definition.materials
                ],
                "reasons": [
                    t.get("reason") for t in (correction.get("tasks") or {}).values() if isinstance(t, dict)
                ],
                "values": schema_form.values_of(service.form_of(session, rt, app), rt.settings.tz),
            }
    return ctx


@router.get("/portal/applications/{code}")
def timeline(request: Request, code: str) -> Response:
    rt = runtime(request)
    last4 = (request.query_params.get("p") or "").strip()
    if not (len(last4) == 4 and last4.isdigit()):
        return render(
            request, "bundle_lookup.html", {"code": code[:24], "missing": False}, actor=None, status_code=200
        )
    _allowed(request)
    try:
        ctx = track_context(rt, code, last4, lang_of(request))
    except NotFound:
        return render(
            request, "bundle_lookup.html", {"code": code[:24], "missing": True}, actor=None, status_code=404
        )
    ctx["new"] = request.query_params.get("new") == "1"
    ctx["done"] = request.query_params.get("done")
    if ctx["a"].get("ended_at"):  # finished: the 好差评 form, or the rating given and its rectification
        from haoban.web import ratings  # the rating pages import the portal's, which import these

        ctx.update(ratings.rating_context(rt, code=ctx["a"]["code"], last4=last4))
    return render(request, "bundle_track.html", ctx, actor=None)


@router.post("/portal/applications")
async def lookup(request: Request) -> Response:
    form = await request.form()
    code = str(form.get("code") or "").strip().upper()[:24]
    last4 = str(form.get("phone_last4") or "").strip()
    if not code or not (len(last4) == 4 and last4.isdigit()):
        return render(
            request, "bundle_lookup.html", {"code": code, "missing": True}, actor=None, status_code=422
        )
    return redirect(f"/portal/applications/{quote(code)}", p=last4)


def _resubmit(
    request: Request, code: str, posted: dict[str, list[str]], uploads: dict[str, Upload]
) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    last4 = first(posted, "p")
    _allowed(request)
    try:
        with rt.db.write() as session:
            app = access.get_for_applicant(session, code=code[:24], last4=last4, lock=True)
            definition = registry.definition_by_id(session, rt, app.definition_id)
            pending = service.pending_correction(session, rt, app)
            flagged = {k: v for k, v in posted.items() if k in set(pending.get("fields", []))}
            changes = schema_form.parse(definition.form_schema, flagged, rt.settings.tz)
            dotted = {}
            for key, value in changes.items():
                if isinstance(value, dict):
                    dotted.update({f"{key}.{sub}": v for sub, v in value.items()})
                else:
                    dotted[key] = value
            service.resubmit(session, rt, app=app, form_changes=dotted, uploads=uploads, actor=CITIZEN_ACTOR)
    except Invalid as exc:
        ctx = track_context(rt, code, last4, lang_of(request))
        ctx.update(
            errors=field_errors(exc, lang),
            message=exc.detail.get("message_zh") if lang == "zh" else exc.message,
        )
        return render(request, "bundle_track.html", ctx, actor=None, status_code=422)
    return redirect(f"/portal/applications/{quote(code)}", p=last4, done="resubmit")


@router.post("/portal/applications/{code}/resubmit")
async def resubmit(request: Request, code: str) -> Response:
    posted, uploads = await read_posted(request)
    return await run_in_threadpool(_resubmit, request, code, posted, uploads)


def _withdraw(request: Request, code: str, last4: str, reason: str) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    _allowed(request)
    try:
        with rt.db.write() as session:
            app = access.get_for_applicant(session, code=code[:24], last4=last4, lock=True)
            service.withdraw(session, rt, app=app, reason=reason, actor=CITIZEN_ACTOR)
    except NotFound:
        return render(
            request, "bundle_lookup.html", {"code": code[:24], "missing": True}, actor=None, status_code=404
        )
    except (Invalid, Conflict) as exc:
        ctx = track_context(rt, code, last4, lang)
        ctx.update(
            withdraw_error=exc.detail.get("message_zh") if lang == "zh" else exc.message,
            reason=reason,
        )
        status = 422 if isinstance(exc, Invalid) else 409
        return render(request, "bundle_track.html", ctx, actor=None, status_code=status)
    return redirect(f"/portal/applications/{quote(code)}", p=last4, done="withdraw")


@router.post("/portal/applications/{code}/withdraw")
async def withdraw(request: Request, code: str) -> Response:
    """The applicant withdraws (撤回) while the application is open (the gate's rule decides)."""
    form = await request.form()
    last4 = str(form.get("p") or "").strip()
    reason = str(form.get("reason") or "").strip()[:500]
    return await run_in_threadpool(_withdraw, request, code, last4, reason)


@router.get("/portal/applications/{code}/licences/{licence}")
def licence_copy(request: Request, code: str, licence: str) -> Response:
    """The holder's copy of a licence of this application (JSON with its hash), for download."""
    rt = runtime(request)
    last4 = (request.query_params.get("p") or "").strip()
    _allowed(request)
    with rt.db.read() as session:
        app = access.get_for_applicant(session, code=code[:24], last4=last4)
        deliveries = [presenters.delivery_view(d) for d in presenters.deliveries_of(session, app)]
        mine = {v["code"] for v in licences_of(session, app, deliveries)}
        lic = licences.find(session, licence)
        if lic is None or lic.code not in mine:
            raise NotFound("no such licence for this application", message_zh="本办件没有这份证照")
        doc = licences.document(lic)
    body = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(lic.code)}.json",
            "Cache-Control": "no-store",
        },
    )
