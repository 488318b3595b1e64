"""Shape applications for the API and the pages: staff detail, the department inbox, the applicant's
plain-language timeline (no staff names, no internal notes).

The staff detail shows personal data masked (phone and ID numbers in the form, the results and the
deliveries; the applicant's phone and ID number) unless the caller asked to see it (``reveal``), which
the caller records as a view (``haoban.orders.pii``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.applications import access, registry, service
from haoban.applications.models import (
    Application,
    ApplicationDelivery,
    ApplicationEvent,
    ApplicationMaterial,
    ApplicationTask,
    BundleDefinitionRow,
)
from haoban.applications.workflow import APP_STATUS_LABELS, TASK_STATUS_LABELS, AppStatus, TaskStatus
from haoban.auth.actors import Actor
from haoban.bundles.definitions import Definition
from haoban.db import utcnow
from haoban.orders import pii
from haoban.orders.citizen import mask_id_number, mask_phone
from haoban.runtime import Runtime
from haoban.security.privacy import mask_text
from haoban.sla.service import state_of


def bundle_view(row: BundleDefinitionRow, definition: Definition) -> dict[str, Any]:
    return {
        "code": row.code,
        "version": row.version,
        "digest": row.digest,
        "name": definition.name,
        "name_en": definition.name_en,
        "description": definition.description,
        "description_en": definition.description_en,
        "promise": definition.promise.text(),
        "departments": definition.departments(),
        "tasks": len(definition.tasks),
        "uploaded_at": row.uploaded_at,
        "uploaded_by": row.uploaded_by,
    }


def bundle_detail(row: BundleDefinitionRow, definition: Definition, versions: list[int]) -> dict[str, Any]:
    return {
        **bundle_view(row, definition),
        "form_schema": dict(definition.form_schema),
        "materials": [
            {"key": m.key, "name": m.name, "name_en": m.name_en, "required": m.required}
            for m in definition.materials.values()
        ],
        "task_list": [
            {
                "task_id": t.id,
                "name": t.name,
                "name_en": t.name_en,
                "item": t.item,
                "department": t.department,
                "promise": t.promise.text(),
                "requires": sorted(t.requires),
                "materials": list(t.materials),
            }
            for t in definition.tasks.values()
        ],
        "versions": versions,
        "nodes": dict(definition.nodes),
        "flows": [list(f) for f in definition.flows],
    }


def _dept(rt: Runtime, department_id: int) -> tuple[str, str]:
    ref = rt.directory.departments_by_id.get(department_id)
    return (ref.code, ref.name) if ref else ("", "")


def task_view(rt: Runtime, task: ApplicationTask, actor: Actor | None, now: datetime) -> dict[str, Any]:
    code, name = _dept(rt, task.department_id)
    status = TaskStatus(task.status)
    running = status in (TaskStatus.PENDING, TaskStatus.ACCEPTED)
    return {
        "task_id": task.task_id,
        "name": task.name,
        "name_en": task.name_en,
        "item": task.item_code,
        "department": code,
        "department_name": name,
        "status": task.status,
        "status_label": TASK_STATUS_LABELS[status][0],
        "green_channel": task.green_channel,
        "ready_at": task.ready_at,
        "due_at": task.due_at,
        "deadline_state": state_of(
            start=task.ready_at,
            deadline=task.due_at,
            now=now,
            done_at=None if running else (task.finished_at or now),
            warning_ratio=rt.settings.warning_ratio,
        )
        if status not in (TaskStatus.SKIPPED, TaskStatus.CANCELLED, TaskStatus.CORRECTION)
        else None,
        "alert": task.alert,
        "accepted_at": task.accepted_at,
        "finished_at": task.finished_at,
        "handled_by": task.handled_by,
        "result": json.loads(task.result) if task.result else None,
        "reason": task.reason,
        "tolerated_material": task.tolerated_material,
        "tolerated_due_at": task.tolerated_due_at,
        "supervision_level": task.supervision_level,
        "allowed_actions": access.allowed_task_actions(task, actor) if actor is not None else [],
    }


def delivery_view(d: ApplicationDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "method": d.method,
        "status": d.status,
        "recipient": d.recipient,
        "address": d.address,
        "tracking_no": d.tracking_no,
        "licence_codes": json.loads(d.licence_codes) if d.licence_codes else [],
        "items": json.loads(d.items),
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
    }


def deliveries_of(session: Session, app: Application) -> list[ApplicationDelivery]:
    return list(
        session.scalars(
            select(ApplicationDelivery)
            .where(ApplicationDelivery.application_id == app.id)
            .order_by(ApplicationDelivery.id)
        )
    )


def materials_of(session: Session, app: Application) -> list[ApplicationMaterial]:
    return list(
        session.scalars(
            select(ApplicationMaterial)
            .where(ApplicationMaterial.application_id == app.id)
            .order_by(ApplicationMaterial.id)
        )
    )


def summary(rt: Runtime, session: Session, app: Application) -> dict[str, Any]:
    definition = registry.definition_by_id(session, rt, app.definition_id)
    return {
        "code": app.code,
        "bundle": app.bundle_code,
        "bundle_version": app.bundle_version,
        "bundle_name": definition.name,
        "status": app.status,
        "status_label": APP_STATUS_LABELS[AppStatus(app.status)][0],
        "channel": app.channel,
        "applicant_name": app.applicant_name,
        "applicant_phone": mask_phone(app.applicant_phone) or "",
        "green_channel": app.green_channel,
        "submitted_at": app.submitted_at,
        "due_at": app.due_at,
        "ended_at": app.ended_at,
        "supervision_level": app.supervision_level,
    }


def masked(value: Any) -> Any:
    """``value`` (a form, a result: nested dicts and lists) with every phone and ID number in its text
    masked."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def detail(
    rt: Runtime, session: Session, app: Application, actor: Actor, *, reveal: bool = False
) -> dict[str, Any]:
    """The staff view; personal data masked unless ``reveal`` (the caller checks and records it)."""
    now = utcnow()
    hide = (lambda v: v) if reveal else masked
    tasks = [task_view(rt, t, actor, now) for t in access.tasks_of(session, app)]
    for t in tasks:
        t["result"] = hide(t["result"])
    return {
        **summary(rt, session, app),
        "applicant_phone": app.applicant_phone if reveal else mask_phone(app.applicant_phone) or "",
        "applicant_id_number": app.applicant_id_number if reveal else mask_id_number(app.applicant_id_number),
        "personal_data": "shown" if reveal else "masked",
        "submitted_by": app.submitted_by_name,
        "corrections": app.corrections,
        "visits": app.visits,
        "form": hide(service.form_of(session, rt, app)),
        "tasks": tasks,
        "deliveries": [
            {**view, "recipient": hide(view["recipient"]), "address": hide(view["address"])}
            for view in map(delivery_view, deliveries_of(session, app))
        ],
        "materials": [
            {
                "id": m.id,
                "key": m.key,
                "filename": m.filename,
                "content_type": m.content_type,
                "size": m.size,
                "sha256": m.sha256,
                "reused": m.reused,
                "uploaded_at": m.uploaded_at,
            }
            for m in materials_of(session, app)
        ],
        "pending_correction": service.pending_correction(session, rt, app),
    }


def revealed_detail(rt: Runtime, *, code: str, actor: Actor, purpose: str | None, via: str) -> dict[str, Any]:
    """The staff view with personal data shown, for a member of staff who asked to see it: refused to
    those who see it masked (``pii.may_see_unmasked``), recorded like a view of an order's."""
    pii.require_unmasked(actor)
    with rt.db.read() as session:
        app = access.get_application(session, code=code[:24], actor=actor)
        view = detail(rt, session, app, actor, reveal=True)
        app_id = app.id
    with rt.db.write() as session:
        pii.record_view(session, application_id=app_id, actor=actor, purpose=purpose, via=via)
    return view


def event_view(e: ApplicationEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "action": e.action,
        "task": e.task_id,
        "actor": e.actor_name,
        "role": e.actor_role,
        "at": e.at,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "payload": json.loads(e.payload),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


# -- the applicant's timeline ----------------------------------------------------------------------

_DELIVERY_ZH = {"post": "邮寄", "window": "窗口领取", "licence": "电子证照"}


def _line(e: ApplicationEvent, names: dict[str, tuple[str, str, str]]) -> tuple[str, str] | None:
    p = json.loads(e.payload)
    task = names.get(e.task_id or "", ("", "", ""))
    zh, en, dept = task
    match e.action:
        case "submit":
            return "已提交申请，一次提交，多部门联办", "Application submitted once for every department"
        case "ready":
            return f"“{zh}”已派发至{dept}", f"{en}: sent to the department"
        case "accept":
            return f"{dept}已受理“{zh}”", f"{en}: accepted"
        case "accept_tolerated":
            return (
                f"{dept}已容缺受理“{zh}”，请于 {p.get('promised_by', '')[:10]} 前补交材料",
                f"{en}: accepted; please bring the missing material by {p.get('promised_by', '')[:10]}",
            )
        case "request_correction":
            return (
                f"“{zh}”需要补正：{p.get('reason', '')}",
                f"{en}: corrections needed: {p.get('reason', '')}",
            )
        case "resubmit":
            return "已补正并重新提交", "Corrections resubmitted"
        case "resume":
            return f"“{zh}”补正后继续办理", f"{en}: back in progress after your corrections"
        case "approve":
            return f"“{zh}”已办结", f"{en}: approved"
        case "reject":
            return f"“{zh}”不予办理：{p.get('reason', '')}", f"{en}: refused: {p.get('reason', '')}"
        case "skip":
            return f"“{zh}”因前序事项未通过而无法办理", f"{en}: cannot proceed (an earlier item was refused)"
        case "delivery_prepared":
            if p.get("tracking_no"):
                return (
                    f"办理结果统一出件，邮寄到家，运单号 {p['tracking_no']}",
                    f"Results packed for the post, tracking number {p['tracking_no']}",
                )
            how = _DELIVERY_ZH.get(p.get("method", ""), p.get("method", ""))
            return f"办理结果统一出件（{how}）", f"Results ready for delivery ({p.get('method', '')})"
        case "material_received":
            return f"“{zh}”容缺材料已补交", f"{en}: the promised material arrived"
        case "delivery_posted":
            return (
                f"结果已寄出，快递单号 {p.get('tracking_no', '')}",
                f"Results posted, tracking number {p.get('tracking_no', '')}",
            )
        case "licence_issued":
            name, code = p.get("name", ""), p.get("licence", "")
            return (
                f"电子证照“{name}”已签发，核验码 {code}",
                f"Electronic licence “{name}” issued, verification code {code}",
            )
        case "birth_registered":
            return (
                "新生儿信息已推送，相关待遇免申即享",
                "The birth was passed on: the benefits it brings follow without applying",
            )
        case "handed_over":
            return "结果已在窗口领取", "Results collected at the window"
        case "withdraw":
            return "申请已撤回", "Application withdrawn"
        # 好差评 (haoban.feedback.service_ratings): the rating, its rectification and the result.
        case "rate":
            level = p.get("level", "")
            return f"您的评价：{p.get('label', level)}", f"Your rating: {p.get('label_en', level)}"
        case "rectification_open":
            due = p.get("deadline", "")[:10]
            return f"差评已转承办部门整改，整改期限 {due}", f"Sent to the department to put right, by {due}"
        case "rectification_review" if p.get("decision") == "accept":
            return f"整改结果：{p.get('answer', '')}", f"Rectification done: {p.get('answer', '')}"
        case "task" | "tick":
            label = APP_STATUS_LABELS[AppStatus(e.to_status)]
            if e.to_status in (AppStatus.RUNNING, AppStatus.AWAITING_CORRECTION):
                return None
            return f"全部事项办理完毕：{label[0]}", f"All items finished: {label[1]}"
    return None


def track(rt: Runtime, session: Session, app: Application) -> dict[str, Any]:
    definition = registry.definition_by_id(session, rt, app.definition_id)
    tasks = access.tasks_of(session, app)
    names = {t.task_id: (t.name, t.name_en, _dept(rt, t.department_id)[1]) for t in tasks}
    timeline = []
    for e in session.scalars(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == app.id)
        .order_by(ApplicationEvent.seq)
    ):
        line = _line(e, names)
        if line is not None:
            timeline.append(
                {"at": e.at, "action": e.action, "text": line[0], "text_en": line[1], "task": e.task_id}
            )
    label = APP_STATUS_LABELS[AppStatus(app.status)]
    return {
        "code": app.code,
        "bundle_name": definition.name,
        "bundle_name_en": definition.name_en,
        "status": app.status,
        "status_label": label[0],
        "status_label_en": label[1],
        "submitted_at": app.submitted_at,
        "due_at": app.due_at,
        "ended_at": app.ended_at,
        "tasks": [
            {
                "name": t.name,
                "name_en": t.name_en,
                "department": _dept(rt, t.department_id)[0],
                "department_name": names[t.task_id][2],
                "status": t.status,
                "status_label": TASK_STATUS_LABELS[TaskStatus(t.status)][0],
                "due_at": t.due_at,
                "finished_at": t.finished_at,
            }
            for t in tasks
        ],
        "timeline": timeline,
        "pending_correction": service.pending_correction(session, rt, app),
        "deliveries": [delivery_view(d) for d in deliveries_of(session, app)],
    }
