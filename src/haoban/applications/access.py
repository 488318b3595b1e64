"""Who may see an application or a task, and may this actor take this action on this task now.

``task_refusal`` is the one answer for department actions (role, own department, state); the gate
raises what it returns and ``allowed_task_actions`` lists the actions it has no objection to, so the
API and the pages always agree. Applicants see their own application with its code and phone digits.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from haoban.applications import workflow
from haoban.applications.models import Application, ApplicationTask
from haoban.applications.workflow import TaskMove, TaskStatus
from haoban.auth.actors import Actor
from haoban.auth.roles import CITY_WIDE_ROLES, Role
from haoban.errors import Conflict, DomainError, Forbidden, NotFound
from haoban.orders.citizen import phone_last4

# Staff who see every application: the call centre, auditors, the platform, and the window clerks
# (一窗通收: any item for any department).
CITY_WIDE_APP_ROLES: frozenset[str] = frozenset({*CITY_WIDE_ROLES, Role.WINDOW})


def load(session: Session, code: str, *, lock: bool = False) -> Application | None:
    stmt = select(Application).where(Application.code == code)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def tasks_of(session: Session, app: Application) -> list[ApplicationTask]:
    return list(
        session.scalars(
            select(ApplicationTask)
            .where(ApplicationTask.application_id == app.id)
            .order_by(ApplicationTask.id)
        )
    )


def visible(
    session: Session, actor: Actor, app: Application, *, tasks: list[ApplicationTask] | None = None
) -> bool:
    """May ``actor`` see ``app`` (``tasks``: its task rows when the caller holds them already)."""
    if actor.role in CITY_WIDE_APP_ROLES:
        return True
    if actor.role == Role.HANDLER and actor.department_id is not None:
        if tasks is not None:
            return any(t.department_id == actor.department_id for t in tasks)
        return (
            session.scalar(
                select(ApplicationTask.id).where(
                    ApplicationTask.application_id == app.id,
                    ApplicationTask.department_id == actor.department_id,
                )
            )
            is not None
        )
    # Whoever submitted on someone's behalf (帮代办) follows the application they filed.
    return actor.id is not None and app.submitted_by_id == actor.id


def visibility_clause(actor: Actor) -> ColumnElement[bool] | None:
    """SQL filter on ``Application`` for what ``actor`` may see; None means no restriction."""
    if actor.role in CITY_WIDE_APP_ROLES:
        return None
    if actor.role == Role.HANDLER and actor.department_id is not None:
        return exists(
            select(ApplicationTask.id).where(
                ApplicationTask.application_id == Application.id,
                ApplicationTask.department_id == actor.department_id,
            )
        )
    if actor.id is not None:
        return Application.submitted_by_id == actor.id
    return Application.id.is_(None)


def task_clause(actor: Actor) -> ColumnElement[bool] | None:
    """SQL filter on ``ApplicationTask``: a department sees only its own tasks."""
    if actor.role in CITY_WIDE_APP_ROLES:
        return None
    if actor.role == Role.HANDLER and actor.department_id is not None:
        return ApplicationTask.department_id == actor.department_id
    return ApplicationTask.id.is_(None)


def get_application(session: Session, *, code: str, actor: Actor, lock: bool = False) -> Application:
    app = load(session, code, lock=lock)
    # Applications outside the caller's scope are reported as missing, so their existence does not leak.
    if app is None or not visible(session, actor, app):
        raise NotFound(f"no application {code!r} that you can see", message_zh=f"没有您可查看的办件 {code}")
    return app


def get_with_tasks(
    session: Session, *, code: str, actor: Actor, lock: bool = False
) -> tuple[Application, list[ApplicationTask]]:
    """``get_application`` and the application's task rows, in two queries (a department's action)."""
    app = load(session, code, lock=lock)
    tasks = tasks_of(session, app) if app is not None else []
    return require_visible(session, actor, code=code, app=app, tasks=tasks)


def require_visible(
    session: Session, actor: Actor, *, code: str, app: Application | None, tasks: list[ApplicationTask]
) -> tuple[Application, list[ApplicationTask]]:
    """(``app``, ``tasks``) when ``actor`` may see the application; 404 otherwise, as for a missing one."""
    if app is None or not visible(session, actor, app, tasks=tasks):
        raise NotFound(f"no application {code!r} that you can see", message_zh=f"没有您可查看的办件 {code}")
    return app, tasks


def load_many(
    session: Session, codes: Collection[str], *, lock: bool = False
) -> dict[str, tuple[Application, list[ApplicationTask]]]:
    """The applications with these codes and their task rows, in two queries (a bulk action), locked
    in the order of their codes as one by one would; codes not found are left out."""
    stmt = select(Application).where(Application.code.in_(codes)).order_by(Application.code)
    if lock:
        stmt = stmt.with_for_update()
    apps = list(session.scalars(stmt))
    tasks: dict[int, list[ApplicationTask]] = {a.id: [] for a in apps}
    if apps:
        for t in session.scalars(
            select(ApplicationTask)
            .where(ApplicationTask.application_id.in_(list(tasks)))
            .order_by(ApplicationTask.id)
        ):
            tasks[t.application_id].append(t)
    return {a.code: (a, tasks[a.id]) for a in apps}


def get_for_applicant(session: Session, *, code: str, last4: str, lock: bool = False) -> Application:
    """The applicant's own application: its code and the last four digits of the phone they gave."""
    app = load(session, code, lock=lock)
    if app is None or phone_last4(app.applicant_phone) != last4:
        raise NotFound(
            "no application with this code and phone digits",
            message_zh="办件编号与手机号后四位不匹配",
        )
    return app


def _objection(task: Any, move: TaskMove, actor: Actor) -> DomainError | None:
    if actor.role not in move.roles:
        return Forbidden(
            f"role {actor.role!r} may not {move.action} a task",
            message_zh=f"当前角色无权执行“{move.label[0]}”",
            roles_allowed=sorted(str(r) for r in move.roles - {Role.SYSTEM, Role.CITIZEN}),
        )
    if move.own_department and actor.department_id != task.department_id:
        return Forbidden(
            f"only the task's own department may {move.action} it",
            message_zh="只有本事项的承办部门可以办理",
        )
    current = TaskStatus(task.status) if task.status is not None else None
    if current not in move.sources:
        label = workflow.TASK_STATUS_LABELS[current] if current else ("未派发", "not handed out")
        return Conflict(
            f"cannot {move.action} a task that is {label[1].lower()}",
            message_zh=f"事项{label[0]}，不能{move.label[0]}",
            status=task.status,
        )
    return None


def task_refusal(task: Any, move: TaskMove, actor: Actor) -> DomainError | None:
    """Why ``actor`` may not take ``move`` on ``task`` now (403 role or department, 409 state), or None."""
    objection = _objection(task, move, actor)
    if isinstance(objection, Conflict):
        objection.detail["allowed_actions"] = allowed_task_actions(task, actor)
    return objection


def allowed_task_actions(task: Any, actor: Actor) -> list[str]:
    return [
        a for a in workflow.PUBLIC_TASK_ACTIONS if _objection(task, workflow.TASK_BY_ACTION[a], actor) is None
    ]


def refuse_unknown(action: str) -> NotFound:
    return NotFound(
        f"unknown task action {action!r}; actions are: {', '.join(workflow.PUBLIC_TASK_ACTIONS)}",
        message_zh=f"未知的办理动作 {action}",
    )
