"""The applications' sweep: engine timers (督办 drawn in the BPMN, the bundle's promise), task deadline
colours with 督办 for tasks whose BPMN draws no timer, and 容缺 promises that were not kept.

Every change goes through the gate as the platform; alerts are remembered per task, so running the
sweep again changes nothing. Applications and tasks are read through indexes on their due times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from haoban.applications import gate, registry, service
from haoban.applications.models import Application, ApplicationTask
from haoban.applications.workflow import CLOCK_TASK_STATUSES, OPEN_APP_STATUSES, OPEN_TASK_STATUSES
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.db import utcnow
from haoban.notifications.service import enqueue
from haoban.runtime import Runtime


@dataclass
class AppSweepResult:
    ticked: int = 0  # applications whose engine timers were due
    warnings: int = 0
    overdue: int = 0
    supervised: int = 0  # 督办 raised by the sweep itself (tasks without a BPMN timer, 容缺)
    tolerated_overdue: int = 0


def sweep(session: Session, rt: Runtime, *, now: datetime | None = None, limit: int = 500) -> AppSweepResult:
    now = now or utcnow()
    result = AppSweepResult()
    _tick_engines(session, rt, now=now, limit=limit, result=result)
    _task_deadlines(session, rt, now=now, limit=limit, result=result)
    _tolerated(session, rt, now=now, limit=limit, result=result)
    return result


def _tick_engines(
    session: Session, rt: Runtime, *, now: datetime, limit: int, result: AppSweepResult
) -> None:
    due = session.scalars(
        select(Application)
        .where(
            Application.status.in_([s.value for s in OPEN_APP_STATUSES]),
            Application.next_due_at.is_not(None),
            Application.next_due_at <= now,
        )
        .order_by(Application.next_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    for app in due:
        service.tick(session, rt, app=app, now=now)
        result.ticked += 1


def _department_code(rt: Runtime, department_id: int) -> str:
    ref = rt.directory.departments_by_id.get(department_id)
    return ref.code if ref else "unknown"


def _task_deadlines(
    session: Session, rt: Runtime, *, now: datetime, limit: int, result: AppSweepResult
) -> None:
    rows = session.execute(
        select(ApplicationTask, Application)
        .join(Application, Application.id == ApplicationTask.application_id)
        .where(
            ApplicationTask.status.in_([s.value for s in CLOCK_TASK_STATUSES]),
            ApplicationTask.warn_at <= now,
            or_(ApplicationTask.alert.is_(None), ApplicationTask.alert == "warning"),
        )
        .order_by(ApplicationTask.warn_at)
        .limit(limit)
        .with_for_update(of=ApplicationTask, skip_locked=True)
    ).all()
    for task, app in rows:
        overdue = now > task.due_at
        if not overdue and task.alert is not None:
            continue  # warned already, not yet overdue
        level = "overdue" if overdue else "warning"
        task.alert = level
        if overdue:
            result.overdue += 1
            definition = registry.definition_by_id(session, rt, app.definition_id)
            td = definition.tasks.get(task.task_id)
            # A timer drawn on the task raises its own 督办 through the engine; otherwise the sweep does.
            if td is not None and not td.timers:
                service.supervise_task(session, rt, app=app, task=task, at=now)
                result.supervised += 1
        else:
            result.warnings += 1
        subject = "事项超期" if overdue else "事项即将超期"
        enqueue(
            session,
            channel="internal",
            recipient=f"department:{_department_code(rt, task.department_id)}",
            subject=subject,
            body=(
                f"办件 {app.code} 的“{task.name}”已超过承诺时限（{task.due_at.isoformat()}），系统已督办。"
                if overdue
                else f"办件 {app.code} 的“{task.name}”将于 {task.due_at.isoformat()} 到期，请抓紧办理。"
            ),
            dedupe_key=f"app-task-{level}:{app.code}:{task.task_id}:{task.due_at.isoformat()}",
        )


def _tolerated(session: Session, rt: Runtime, *, now: datetime, limit: int, result: AppSweepResult) -> None:
    rows = session.execute(
        select(ApplicationTask, Application)
        .join(Application, Application.id == ApplicationTask.application_id)
        .where(
            ApplicationTask.tolerated_due_at.is_not(None),
            ApplicationTask.tolerated_due_at <= now,
            ApplicationTask.tolerated_alert.is_(None),
        )
        .limit(limit)
        .with_for_update(of=ApplicationTask, skip_locked=True)
    ).all()
    for task, app in rows:
        task.tolerated_alert = "overdue"
        result.tolerated_overdue += 1
        if task.status in {s.value for s in OPEN_TASK_STATUSES}:
            gate.move_task(
                rt,
                session,
                app,
                task,
                action="supervise",
                actor=SYSTEM_ACTOR,
                at=now,
                payload={
                    "note": f"容缺受理承诺补交的材料（{task.tolerated_material}）逾期未交，系统自动督办",
                    "automatic": True,
                    "tolerated": task.tolerated_material,
                },
                effect=service.raise_level,
            )
            result.supervised += 1
        else:
            gate.move_application(
                rt,
                session,
                app,
                action="note",
                to_status=None,
                actor=SYSTEM_ACTOR,
                at=now,
                event="tolerated_overdue",
                payload={"task": task.task_id, "material": task.tolerated_material},
            )
        enqueue(
            session,
            channel="sms",
            recipient=app.applicant_phone,
            subject="容缺材料逾期",
            body=f"您的办件 {app.code} 承诺补交的材料尚未收到，请尽快补交。",
            dedupe_key=f"app-tolerated:{app.code}:{task.task_id}",
        )
