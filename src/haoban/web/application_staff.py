"""“一件事” pages for staff: an application's page (form, materials, each department's task with the
actions its department may take now, deliveries, the case file) and the department inbox's bundle
tasks. Thin: ``haoban.applications.service`` authorises and decides; these routes read posted fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session

from haoban.applications import access, assistance, bulk, presenters, queries, registry, service
from haoban.applications.events import events_of
from haoban.applications.materials import Upload
from haoban.applications.workflow import (
    APP_STATUS_LABELS,
    APPLICATION_MOVES,
    TASK_BY_ACTION,
    TASK_STATUS_LABELS,
    AppStatus,
    TaskStatus,
)
from haoban.auth.actors import Actor
from haoban.auth.roles import STAFF_ROLES
from haoban.bundles.definitions import Definition
from haoban.db import utcnow
from haoban.errors import Conflict, Forbidden, Invalid, NotFound
from haoban.orders import pii
from haoban.runtime import Runtime
from haoban.web import i18n, schema_form, staff
from haoban.web.applications import field_errors, licences_of, read_posted
from haoban.web.common import PageRoute, lang_of, redirect, render, require_actor, runtime, safe_next

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The department's actions in the order the page offers them.
ACTIONS = ("accept", "accept_tolerated", "request_correction", "approve", "reject", "supervise")


# The case file's own entries (not state moves): what the page calls them.
EVENT_LABELS: dict[str, tuple[str, str]] = {
    "consent": ("记录代办授权", "Consent recorded"),
    "accompany": ("陪同办", "Accompanied"),
    "delivery_prepared": ("统一出件", "Results packed"),
    "delivery_posted": ("已寄出", "Posted"),
    "handed_over": ("窗口出件", "Handed over"),
    "licence_issued": ("签发电子证照", "Licence issued"),
    "supervise": ("督办", "Supervised"),
}


def action_label(action: str, lang: str) -> str:
    move = TASK_BY_ACTION.get(action)
    pair = move.label if move is not None and move.label[0] else None
    if pair is None and action in APPLICATION_MOVES:
        pair = APPLICATION_MOVES[action].label
    pair = pair or EVENT_LABELS.get(action)
    if pair is None:
        return action
    return pair[1] if lang == "en" else pair[0]


def task_status_label(status: str, lang: str) -> str:
    try:
        zh, en = TASK_STATUS_LABELS[TaskStatus(status)]
    except ValueError:
        return status
    return en if lang == "en" else zh


def _result_groups(definition: Definition, task_id: str, lang: str) -> list[schema_form.Group]:
    schema = definition.tasks[task_id].result_schema
    return schema_form.groups({"properties": {"result": {**schema, "title": "办理结果"}}}, lang)


def _correctable(definition: Definition, task_id: str, lang: str) -> dict[str, Any]:
    """What the task's department may flag for 补正: the form fields it receives, its materials."""
    td = definition.tasks[task_id]
    labels = schema_form.flat(definition.form_schema, lang)
    fields = sorted({".".join(s.path) for s in td.inputs.values() if s.root == "form"})
    mats = sorted({*td.materials, *(s.path[0] for s in td.inputs.values() if s.root == "materials")})
    return {
        "fields": [(f, labels[f].label if f in labels else f) for f in fields],
        "materials": [
            (
                m,
                (definition.materials[m].name_en if lang == "en" else definition.materials[m].name)
                if m in definition.materials
                else m,
            )
            for m in mats
        ],
    }


def form_rows(definition: Definition, form: dict[str, Any], lang: str, tz: Any) -> list[tuple[str, str]]:
    """The submitted form as (label, value) rows, in the schema's order."""
    values = schema_form.values_of(form, tz)
    rows = []
    for name, f in schema_form.flat(definition.form_schema, lang).items():
        if name in values:
            v = values[name]
            if isinstance(v, list):
                v = "、".join(schema_form.choice_label(x, lang) for x in v)
            elif isinstance(v, bool):
                v = "✓" if v else "✗"
            else:
                v = schema_form.choice_label(v, lang) if f.options else v
            rows.append((f.label, str(v)))
    return rows


def application_context(
    rt: Runtime,
    session: Session,
    *,
    code: str,
    actor: Actor,
    lang: str,
    reveal: bool = False,
) -> dict[str, Any]:
    app = access.get_application(session, code=code[:24], actor=actor)
    d = presenters.detail(rt, session, app, actor, reveal=reveal)
    definition = registry.definition_by_id(session, rt, app.definition_id)
    tz = rt.settings.tz
    d["form_rows"] = form_rows(definition, d["form"], lang, tz)
    tasks = []
    for t in d["tasks"]:
        allowed = [a for a in ACTIONS if a in t["allowed_actions"]]
        titles = schema_form.flat(
            {"properties": definition.tasks[t["task_id"]].result_schema.get("properties", {})}, lang
        )
        tasks.append(
            {
                **t,
                "result_rows": [
                    (titles[k].label if k in titles else k, v) for k, v in (t["result"] or {}).items()
                ],
                "status_text": task_status_label(t["status"], lang),
                "actions": allowed,
                "result_groups": _result_groups(definition, t["task_id"], lang)
                if "approve" in allowed
                else [],
                "correctable": _correctable(definition, t["task_id"], lang)
                if ("request_correction" in allowed or "accept_tolerated" in allowed)
                else None,
            }
        )
    d["tasks"] = tasks
    d["status_text"] = APP_STATUS_LABELS[AppStatus(app.status)][1 if lang == "en" else 0]
    # 容缺受理: materials promised later and not yet brought; the page takes them.
    d["awaited"] = sorted(
        {
            t.tolerated_material
            for t in access.tasks_of(session, app)
            if t.tolerated_material and t.tolerated_alert != "received"
        }
    )
    d["may_accompany"] = actor.role in assistance.HELPER_ROLES
    d["may_reveal"] = pii.may_see_unmasked(actor) and not reveal
    d["licences"] = licences_of(session, app, d["deliveries"])
    events = [presenters.event_view(e) for e in events_of(session, app)]
    return {
        "a": d,
        "events": events,
        "action_label": lambda a: action_label(a, lang),
        "bundle_label": (definition.name_en or definition.name) if lang == "en" else definition.name,
        "dept_label": lambda code: staff.dept_name(rt, code, lang),
        "material_names": {
            k: (m.name_en or m.name) if lang == "en" else m.name for k, m in definition.materials.items()
        },
        "task_names": {
            k: (td.name_en or td.name) if lang == "en" else td.name for k, td in definition.tasks.items()
        },
        "today": utcnow().astimezone(tz).date().isoformat(),
        "tz": tz,
        "app_id": app.id,
    }


@router.get("/applications/{code}")
def application_page(request: Request, code: str) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    with rt.db.read() as session:
        ctx = application_context(rt, session, code=code, actor=actor, lang=lang)
    ctx.update(
        done=request.query_params.get("done"),
        back=safe_next(request.query_params.get("back"), ""),
        message=None,
        **with_errors({}),
    )
    return render(request, "application.html", ctx, actor=actor)


def _reveal(request: Request, code: str, purpose: str) -> Response:
    """The page with the personal data shown, after the explicit ask: recorded (who, when, why)."""
    actor = require_actor(request, *STAFF_ROLES)
    pii.require_unmasked(actor)
    rt = runtime(request)
    with rt.db.read() as session:
        ctx = application_context(rt, session, code=code, actor=actor, lang=lang_of(request), reveal=True)
    with rt.db.write() as session:
        pii.record_view(
            session, application_id=ctx["app_id"], actor=actor, purpose=purpose or None, via="web"
        )
    ctx.update(done=None, back="", message=None, **with_errors({}))
    return render(request, "application.html", ctx, actor=actor)


@router.post("/applications/{code}/reveal")
async def reveal(request: Request, code: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_reveal, request, code, str(form.get("purpose") or "")[:200])


def with_errors(errors: dict[str, str], task_id: str | None = None) -> dict[str, Any]:
    """Errors keyed ``<task id>:<input name>`` and how the template finds one task's errors."""

    def errors_for(tid: str) -> dict[str, str]:
        prefix = f"{tid}:"
        return {k.removeprefix(prefix): v for k, v in errors.items() if k.startswith(prefix)}

    return {"errors": errors, "errors_for": errors_for, "error_task": task_id}


def _listed(posted: dict[str, list[str]], name: str) -> list[str]:
    return [v.strip() for v in posted.get(name, []) if v.strip()]


def task_action(
    rt: Runtime, definition: Definition, action: str, task_id: str, posted: dict[str, list[str]]
) -> service.TaskAction:
    """The posted fields of one action's form as the service's ``TaskAction``."""

    def one(name: str) -> str | None:
        values = _listed(posted, name)
        return values[0] if values else None

    if action == "approve":
        if task_id not in definition.tasks:
            raise NotFound(f"no task {task_id!r}")
        wrapper = {"properties": {"result": definition.tasks[task_id].result_schema}}
        result = schema_form.parse(wrapper, posted, rt.settings.tz).get("result", {})
        return service.TaskAction(result=result)
    if action in ("reject",):
        return service.TaskAction(reason=one("reason"))
    if action == "supervise":
        return service.TaskAction(note=one("note"))
    if action == "request_correction":
        return service.TaskAction(
            reason=one("reason"), fields=_listed(posted, "fields"), materials=_listed(posted, "materials")
        )
    if action == "accept_tolerated":
        promised = one("promised_by")
        try:
            day = date.fromisoformat(promised) if promised else None
        except ValueError:
            raise Invalid(
                "promised_by: YYYY-MM-DD",
                fields={"promised_by": "YYYY-MM-DD"},
                message_zh="日期格式应为年-月-日",
            ) from None
        return service.TaskAction(material=one("material"), promised_by=day)
    return service.TaskAction()


def _act(request: Request, code: str, task_id: str, action: str, posted: dict[str, list[str]]) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    back = safe_next((posted.get("back") or [""])[0], "")
    try:
        with rt.db.read() as session:
            app = access.get_application(session, code=code[:24], actor=actor)
            definition = registry.definition_by_id(session, rt, app.definition_id)
        data = task_action(rt, definition, action, task_id, posted)
        service.act_alone(rt, code=app.code, task_id=task_id, action=action, data=data, actor=actor)
    except (Invalid, Conflict, Forbidden) as exc:
        with rt.db.read() as session:
            ctx = application_context(rt, session, code=code, actor=actor, lang=lang)
        errors = (
            {f"{task_id}:{k}": v for k, v in field_errors(exc, lang).items()}
            if isinstance(exc, Invalid)
            else {}
        )
        message = exc.detail.get("message_zh") if lang == "zh" else None
        ctx.update(done=None, back=back, message=message or exc.message, **with_errors(errors, task_id))
        return render(request, "application.html", ctx, status_code=exc.status_code, actor=actor)
    # Back on the application's page with the result; its back link still leads where the user came from.
    return redirect(f"/applications/{quote(code)}", done=action, **({"back": back} if back else {}))


@router.post("/applications/{code}/tasks/{task_id}/{action}")
async def act(request: Request, code: str, task_id: str, action: str) -> Response:
    posted, _ = await read_posted(request)
    return await run_in_threadpool(_act, request, code, task_id, action, posted)


def _hand_over(request: Request, code: str, delivery_id: int, back: str) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    with rt.db.write() as session:
        app = access.get_application(session, code=code[:24], actor=actor, lock=True)
        service.hand_over(session, rt, app=app, delivery_id=delivery_id, actor=actor)
    if back:
        return redirect(back, done="hand_over", code=code)
    return redirect(f"/applications/{quote(code)}", done="hand_over")


@router.post("/applications/{code}/deliveries/{delivery_id}/hand-over")
async def hand_over(request: Request, code: str, delivery_id: int) -> Response:
    form = await request.form()
    back = safe_next(str(form.get("back") or ""), "")
    return await run_in_threadpool(_hand_over, request, code, delivery_id, back)


def _supply(request: Request, code: str, uploads: dict[str, Upload]) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    with rt.db.write() as session:
        app = access.get_application(session, code=code[:24], actor=actor, lock=True)
        service.supply_material(session, rt, app=app, uploads=uploads, actor=actor)
    return redirect(f"/applications/{quote(code)}", done="material_received")


@router.post("/applications/{code}/materials")
async def supply_material(request: Request, code: str) -> Response:
    _, uploads = await read_posted(request)
    return await run_in_threadpool(_supply, request, code, uploads)


def _accompany(request: Request, code: str, note: str) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    try:
        with rt.db.write() as session:
            app = access.get_application(session, code=code[:24], actor=actor, lock=True)
            assistance.accompany(rt, session, app=app, actor=actor, note=note)
    except Invalid as exc:
        with rt.db.read() as session:
            ctx = application_context(rt, session, code=code, actor=actor, lang=lang)
        message = exc.detail.get("message_zh") if lang == "zh" else None
        ctx.update(done=None, back="", message=message or exc.message, **with_errors({}))
        return render(request, "application.html", ctx, status_code=exc.status_code, actor=actor)
    return redirect(f"/applications/{quote(code)}", done="accompany")


@router.post("/applications/{code}/accompany")
async def accompany(request: Request, code: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_accompany, request, code, str(form.get("note") or ""))


@router.get("/applications/{code}/materials/{material_id}")
def material(request: Request, code: str, material_id: int) -> Response:
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    with rt.db.read() as session:
        app = access.get_application(session, code=code[:24], actor=actor)
        content_type, filename, data = service.material_bytes(session, app=app, material_id=material_id)
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )


def inbox_tasks(
    rt: Runtime, actor: Actor, lang: str, page: int = 1
) -> tuple[list[dict[str, Any]], int, int, list[dict[str, Any]]]:
    """One page of the department's open bundle tasks for the inbox (green channel first, then the
    overdue ones, then by deadline), how many there are in all, the number of pages, and the result
    templates the page offers for approving the selected tasks in bulk (one per item on the page)."""
    now = utcnow()
    items = []
    templates: dict[str, dict[str, Any]] = {}
    size = queries.INBOX_PAGE_SIZE
    with rt.db.read() as session:
        rows, total = queries.inbox(session, actor=actor, open_only=True, page=page, page_size=size, now=now)
        for task, app in rows:
            view = presenters.task_view(rt, task, actor, now)
            definition = registry.definition_by_id(session, rt, app.definition_id)
            task_name = (view["name_en"] or view["name"]) if lang == "en" else view["name"]
            bundle_name = (definition.name_en or definition.name) if lang == "en" else definition.name
            key = f"{app.definition_id}:{task.task_id}"
            if "approve" in view["allowed_actions"] and key not in templates:
                prefix = template_prefix(app.definition_id, task.task_id)
                schema = {"properties": {prefix: definition.tasks[task.task_id].result_schema}}
                templates[key] = {
                    "key": key,
                    "task_name": task_name,
                    "bundle_name": bundle_name,
                    "groups": schema_form.groups(schema, lang),
                }
            items.append(
                {
                    **view,
                    "status_text": task_status_label(view["status"], lang),
                    "code": app.code,
                    "bundle_name": bundle_name,
                    "applicant_name": app.applicant_name,
                    "green_group": app.green_channel,
                    "task_name": task_name,
                    "bulk": any(a in view["allowed_actions"] for a in bulk.BULK_ACTIONS),
                }
            )
    return items, total, max(1, -(-total // size)), list(templates.values())


def template_prefix(definition_id: int, task_id: str) -> str:
    """The input names of one item's result template on the inbox: ``tpl<definition>_<task>.<key>``."""
    return f"tpl{definition_id}_{task_id}"


def _bulk(request: Request, posted: dict[str, list[str]]) -> Response:
    """The inbox's bulk action on the ticked bundle tasks: all done, or none (the failed one named)."""
    actor = require_actor(request, *STAFF_ROLES)
    rt = runtime(request)
    lang = lang_of(request)
    back = safe_next((posted.get("back") or [""])[0], "/inbox")
    picked = [v.strip() for v in posted.get("tasks", []) if v.strip()]
    items = [bulk.BulkItem(*v.split("/", 1)) for v in picked if "/" in v]
    action, _, which = ((posted.get("action") or [""])[0]).partition(":")
    if not items:
        return redirect(back, bt_failed=i18n.translate("ap_bulk_none", lang))
    try:
        with rt.db.write() as session:
            template = None
            if action == "approve":
                definition_id, _, task_id = which.partition(":")
                if not definition_id.isdigit():
                    raise NotFound("no such result template", message_zh="没有这个办理结果模板")
                definition = registry.definition_by_id(session, rt, int(definition_id))
                if task_id not in definition.tasks:
                    raise NotFound(f"no task {task_id!r}", message_zh=f"没有事项 {task_id}")
                other = next((i for i in items if i.task_id != task_id), None)
                if other is not None:
                    td = definition.tasks[task_id]
                    raise Invalid(
                        f"{other.code}/{other.task_id}: this template is for {td.name_en or td.name} only",
                        fields={"tasks": "another item"},
                        message_zh=f"事项 {other.code}/{other.task_id}：此模板只用于{td.name}",
                    )
                prefix = template_prefix(int(definition_id), task_id)
                wrapper = {"properties": {prefix: definition.tasks[task_id].result_schema}}
                template = schema_form.parse(wrapper, posted, rt.settings.tz).get(prefix, {})
            done = bulk.act_many(session, rt, action=action, items=items, actor=actor, result=template)
    except (Invalid, Conflict, Forbidden, NotFound) as exc:
        message = exc.detail.get("message_zh") if lang == "zh" else None
        return redirect(back, bt_failed=str(message or exc.message)[:300])
    return redirect(back, bt_done=str(len(done)), bt_action=action)


@router.post("/inbox/bundle-tasks/bulk")
async def bundle_tasks_bulk(request: Request) -> Response:
    form = await request.form()
    posted: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            posted.setdefault(k, []).append(v)
    return await run_in_threadpool(_bulk, request, posted)
