"""The gate (唯一入口): the only place an application's or a task's status changes.

``move_task`` looks the action up in the task table (``workflow.TASK_MOVES``), asks
``access.task_refusal`` whether this actor may take it now, lets the ``before`` hooks object, runs the
caller's effect (the engine call: it may still refuse, before anything is written), moves the task and
appends the case-file event, then runs the ``after`` hooks. ``move_application`` checks the move
against ``workflow.APPLICATION_MOVES`` and does the same for the application. Every caller — the API,
the pages, the window, the sweep, the engine's consequences — comes through here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from haoban.applications import access, events, workflow
from haoban.applications.models import Application, ApplicationTask
from haoban.applications.workflow import AppStatus, TaskMove, TaskStatus
from haoban.auth.actors import Actor
from haoban.errors import Conflict
from haoban.runtime import Runtime


@dataclass
class TaskStep:
    rt: Runtime
    session: Session
    app: Application
    task: ApplicationTask
    move: TaskMove
    actor: Actor
    at: datetime
    from_status: TaskStatus | None
    to_status: TaskStatus
    payload: dict[str, Any] = field(default_factory=dict)
    event: events.Appended | None = None

    @property
    def action(self) -> str:
        return self.move.action


@dataclass
class AppStep:
    rt: Runtime
    session: Session
    app: Application
    action: str
    actor: Actor
    at: datetime
    from_status: AppStatus | None
    to_status: AppStatus
    payload: dict[str, Any] = field(default_factory=dict)
    event: events.Appended | None = None
    # For ``applications.birth_registered``: the child and parents (personal data: handed to the
    # listeners, never written to the case file).
    birth: dict[str, Any] | None = None


def move_task(
    rt: Runtime,
    session: Session,
    app: Application,
    task: ApplicationTask,
    *,
    action: str,
    actor: Actor,
    at: datetime,
    payload: dict[str, Any] | None = None,
    effect: Callable[[TaskStep], None] | None = None,
) -> TaskStep:
    """Take ``action`` on ``task``: 404 unknown action, 403 role or department, 409 state."""
    move = workflow.task_move(action)
    if move is None:
        raise access.refuse_unknown(action)
    refused = access.task_refusal(task, move, actor)
    if refused is not None:
        raise refused
    current = TaskStatus(task.status) if task.status is not None else None
    step = TaskStep(
        rt, session, app, task, move, actor, at, current, move.target_from(current), dict(payload or {})
    )
    topic = f"applications.{action}"
    rt.hooks.run_before(topic, step)
    if effect is not None:
        effect(step)
    task.status = step.to_status.value
    step.event = events.append(
        session,
        app,
        action=action,
        actor=actor,
        from_status=current.value if current else None,
        to_status=step.to_status.value,
        payload=step.payload,
        at=at,
        task_id=task.task_id,
    )
    app.updated_at = at
    rt.hooks.run_after(topic, step)
    return step


def move_application(
    rt: Runtime,
    session: Session,
    app: Application,
    *,
    action: str,
    to_status: str | None,
    actor: Actor,
    at: datetime,
    payload: dict[str, Any] | None = None,
    event: str | None = None,
    birth: dict[str, Any] | None = None,
) -> AppStep:
    """Move ``app`` (``to_status`` None: it keeps its status) along ``workflow.APPLICATION_MOVES``.

    ``event`` names the case-file entry when it says more than the move (``note`` → ``delivery``).
    """
    move = workflow.APPLICATION_MOVES[action]
    current = AppStatus(app.status) if app.status is not None else None
    target = AppStatus(to_status) if to_status is not None else current
    if (
        not workflow.application_may(action, app.status)
        or target is None
        or (move.targets and target not in move.targets)
    ):
        raise Conflict(
            f"an application that is {current} cannot go to {target} by {action}",
            message_zh="办件状态不允许此操作",
            status=app.status,
        )
    if not move.targets and target != current:
        raise Conflict(f"{action} leaves the application's status alone", status=app.status)
    name = event or action
    step = AppStep(rt, session, app, name, actor, at, current, target, dict(payload or {}), birth=birth)
    topic = f"applications.{name}"
    rt.hooks.run_before(topic, step)
    app.status = target.value
    app.updated_at = at
    step.event = events.append(
        session,
        app,
        action=name,
        actor=actor,
        from_status=current.value if current else None,
        to_status=target.value,
        payload=step.payload,
        at=at,
    )
    rt.hooks.run_after(topic, step)
    return step
