"""多地联办 (mode ``joint``): one application, tasks in two regions.

A bundle's task may name a partner region (``region`` in the BPMN, see ``haoban.bundles.definitions``).
When such a task is handed out at home, the agreement with the partner must cover its item in mode
``joint`` (else the step is refused, before anything is written) and a cross-region case is opened,
waiting; the delivery job then sends the task (``joint.task``: the item, the task's inputs computed
from the one form, its materials, the applicant) through the outbox. The partner registers it as a
one-task application of its own catalogue item (``applications.single``), so its department decides
it from its usual inbox; every step goes back (``app.update``, ``crossregion.report_back``) and is
recorded on both timelines. The partner's accept and approve (with its result) or refusal move the
home task the same way, acting as the partner for the task's department; the home application
completes by its own rules once every task, here and there, is done. Both case files record the
exchange: the home task's steps name the partner and its application code, the partner's application
was registered with the home's code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.applications import registry, single
from haoban.applications import service as applications
from haoban.applications.models import Application, ApplicationMaterial, ApplicationTask
from haoban.applications.workflow import TaskStatus
from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.db import utcnow
from haoban.errors import NotFound
from haoban.federation import protocol, service
from haoban.federation.models import CrossCase, OutboxEntry
from haoban.federation.protocol import Incoming
from haoban.jobs import defer
from haoban.runtime import Runtime

TASK = "joint.task"
MODE = "joint"
WAITING = "waiting"  # opened at home; the delivery job sends the task


def case_key(own_region: str, code: str, task_id: str) -> str:
    return f"{own_region}-joint-{code}-{task_id}"[:80]


# --- home: a task another region handles is handed out ---------------------------------------------


def hand_out(step: Any) -> None:
    """After-hook on every application step: a task of a partner region that became ready opens a
    case (checked against the agreements now) and is sent by the delivery job."""
    if getattr(step, "action", None) != "ready" or getattr(step, "task", None) is None:
        return
    app: Application = step.app
    session: Session = step.session
    rt: Runtime = step.rt
    definition = registry.definition_by_id(session, rt, app.definition_id)
    td = definition.tasks.get(step.task.task_id)
    if td is None or not td.region:
        return
    partner = service.get_partner(session, td.region, active_only=True)
    protocol.check_sendable(session, partner, item=td.item, mode=MODE, at=step.at)
    key = case_key(rt.settings.federation_region, app.code, td.id)
    case = service.open_case(
        session,
        case_key=key,
        partner=partner,
        direction="out",
        kind=MODE,
        mode=MODE,
        item=td.item,
        title=f"{app.code} · {td.name}",
        local_ref=app.code,
        at=step.at,
    )
    case.state = WAITING
    service.record(
        session,
        case,
        side=rt.settings.federation_region,
        what="handed_out",
        detail={"code": app.code, "task": td.id, "task_name": td.name, "task_name_en": td.name_en},
        at=step.at,
    )
    defer(session, rt, protocol.DELIVER_JOB)


def send_waiting(rt: Runtime) -> int:
    """Send every handed-out task of a partner region (run before each delivery); how many went."""
    with rt.db.read() as session:
        ids = list(
            session.scalars(
                select(CrossCase.id)
                .where(CrossCase.mode == MODE, CrossCase.state == WAITING)
                .order_by(CrossCase.id)
            )
        )
    sent = 0
    for case_id in ids:
        with rt.db.write() as session:
            case = session.get(CrossCase, case_id)
            if case is None or case.state != WAITING:
                continue
            sent += _send(session, rt, case)
    return sent


def _send(session: Session, rt: Runtime, case: CrossCase) -> int:
    first = service.timeline(session, case)[0]["detail"]
    task_id = str(first.get("task"))
    app = session.scalar(select(Application).where(Application.code == case.local_ref))
    ready = applications.ready_task(session, rt, app, task_id) if app is not None else None
    now = utcnow()
    if ready is None:  # withdrawn or ended before it went out
        case.state = "done"
        service.record(session, case, side=rt.settings.federation_region, what="not_sent", detail={}, at=now)
        return 0
    assert app is not None
    keys = set(ready.materials)
    rows = session.scalars(
        select(ApplicationMaterial)
        .where(ApplicationMaterial.application_id == app.id, ApplicationMaterial.key.in_(keys or {""}))
        .order_by(ApplicationMaterial.id)
    ).all()
    materials = {
        m.key: {"filename": m.filename, "data": base64.b64encode(m.data).decode("ascii")}
        for m in rows
        if m.data is not None
    }
    body = {
        "application": app.code,
        "task": task_id,
        "task_name": ready.name,
        "task_name_en": ready.name_en,
        "inputs": json.loads(json.dumps(dict(ready.inputs), ensure_ascii=False, default=str)),
        "materials": materials,
        "applicant": {"name": app.applicant_name, "phone": app.applicant_phone},
        "home": rt.settings.federation_name,
        "due_at": ready.due_at.isoformat(),
    }
    protocol.send(
        session,
        rt,
        partner=case.partner,
        kind=TASK,
        case=case.case_key,
        item=case.item,
        mode=MODE,
        body=body,
        at=now,
    )
    case.state = "open"
    digests = {
        k: hashlib.sha256(base64.b64decode(v["data"])).hexdigest() for k, v in sorted(materials.items())
    }
    service.record(
        session,
        case,
        side=rt.settings.federation_region,
        what="sent",
        detail={"task": task_id, "materials": digests},
        at=now,
    )
    return 1


def _acknowledged(session: Session, rt: Runtime, msg: OutboxEntry, result: dict[str, Any]) -> None:
    service.record_acceptance(session, msg, result)


# --- partner: the task becomes one of its own department's --------------------------------------------


def _summary(body: dict[str, Any], home: str) -> str:
    lines = [f"多地联办：{home} {body.get('application', '')}「{body.get('task_name', '')}」"]
    for k, v in (body.get("inputs") or {}).items():
        lines.append(f"{k}: {json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v}")
    return "\n".join(lines)[:1000]


def _on_task(session: Session, rt: Runtime, msg: Incoming) -> dict[str, Any]:
    """Register the home region's task as a one-task application of our catalogue item."""
    body = msg.body
    home = str(body.get("home") or msg.partner.name)
    row = single.ensure(session, rt, item_code=msg.item)
    who = body.get("applicant") or {}
    phone = str(who.get("phone") or "")
    app, outcome = applications.submit(
        session,
        rt,
        bundle=row.code,
        form={
            "request": {"details": _summary(body, home)},
            "contact": {"phone": phone},
            "delivery": {"method": "window"},
        },
        applicant=applications.Applicant(name=str(who.get("name") or ""), phone=phone),
        actor=service.PARTNER_SUBMITTER,
        channel="window",
        note=f"多地联办（{service.MODES[MODE][0]}）：{home} {body.get('application', '')}",
    )
    now = utcnow()
    case = service.open_case(
        session,
        case_key=msg.case,
        partner=msg.partner,
        direction="in",
        kind=MODE,
        mode=MODE,
        item=msg.item,
        title=f"{body.get('application', '')} · {body.get('task_name', '')}"[:200],
        local_ref=app.code,
        remote_ref=str(body.get("application", ""))[:40],
        at=now,
    )
    digests = {
        k: hashlib.sha256(base64.b64decode(str((f or {}).get("data", "")))).hexdigest()
        for k, f in sorted((body.get("materials") or {}).items())
    }
    return service.record_arrival(
        session,
        case,
        partner_region=msg.partner.region,
        sent_at=msg.sent_at,
        home_region=rt.settings.federation_region,
        what="sent",
        detail={"task": body.get("task"), "materials": digests},
        answer={"code": app.code, "status": outcome.status},
        at=now,
    )


# --- home: the partner's steps move the home task ---------------------------------------------------------


def on_update(session: Session, rt: Runtime, case: CrossCase, msg: Incoming) -> None:
    """The partner accepted, approved (with its result) or refused its part: the home task follows."""
    what = str(msg.body.get("event", ""))
    if what not in ("accept", "approve", "reject"):
        return
    task_id = str(service.timeline(session, case)[0]["detail"].get("task"))
    task = session.scalar(
        select(ApplicationTask)
        .join(Application, Application.id == ApplicationTask.application_id)
        .where(Application.code == case.local_ref, ApplicationTask.task_id == task_id)
    )
    if task is None:
        raise NotFound(f"no task {task_id} of {case.local_ref} here")
    partner = case.partner
    actor = Actor(
        id=None,
        username=f"region-{partner.region}",
        name=f"{partner.name}（多地联办）",
        role=Role.HANDLER,
        department_id=task.department_id,
    )
    code, remote = str(case.local_ref), case.remote_ref or str(msg.body.get("code") or "")
    note = f"{partner.name} {remote}"

    def act(action: str, **data: Any) -> None:
        applications.act(
            session,
            rt,
            code=code,
            task_id=task_id,
            action=action,
            data=applications.TaskAction(**data),
            actor=actor,
            now=msg.sent_at,
        )

    status = TaskStatus(task.status) if task.status else None
    if what in ("accept", "approve") and status == TaskStatus.PENDING:
        act("accept")
    if what == "approve":
        result = msg.body.get("result")
        act("approve", result=result if isinstance(result, dict) else {"outcome": note})
        case.state = "done"
    elif what == "reject" and status in (TaskStatus.PENDING, TaskStatus.ACCEPTED):
        act("reject", reason=f"{note}：{msg.body.get('reason') or '不予办理'}")
        case.state = "done"
    service.record(
        session,
        case,
        side=rt.settings.federation_region,
        what=f"home_{what}",
        detail={"code": code, "task": task_id},
        at=msg.sent_at,
    )


protocol.register(TASK, _on_task, on_ack=_acknowledged)
