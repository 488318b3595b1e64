"""Bulk actions of a department on its bundle tasks: accept the selected, approve the selected with one
result template — in the caller's one transaction, all or nothing.

Each task goes through ``service.act`` exactly as when it is done on its own (the gate, the engine,
deadlines, case-file events, licences, deliveries), in a fixed order (application code, task id) so
that two bulk actions lock applications in the same order. The first task that is refused stops the
whole action: its error is raised again naming the task (``failed``), and since nothing is committed
the caller's transaction leaves every task as it was. The hot-instance cache needs no undoing: an
instance is reused only when the stored state is byte for byte what it was stored with.

A result template's string values may contain ``{code}`` (the application's code) and ``{task}`` (the
task id), so one template can yield distinct numbers; a task's own ``result`` is laid over it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from haoban.applications import access, service
from haoban.auth.actors import Actor
from haoban.db import utcnow
from haoban.errors import DomainError, Invalid
from haoban.runtime import Runtime

BULK_ACTIONS = ("accept", "approve")
MAX_BULK = 200


@dataclass(frozen=True)
class BulkItem:
    code: str
    task_id: str
    result: Mapping[str, Any] | None = None


def fill(template: Mapping[str, Any], *, code: str, task_id: str) -> dict[str, Any]:
    """The template with ``{code}`` and ``{task}`` replaced in its string values."""
    return {
        k: v.replace("{code}", code).replace("{task}", task_id) if isinstance(v, str) else v
        for k, v in template.items()
    }


def _check(action: str, items: Sequence[BulkItem], template: Mapping[str, Any] | None) -> None:
    if action not in BULK_ACTIONS:
        raise Invalid(
            f"bulk action must be one of {', '.join(BULK_ACTIONS)}",
            fields={"action": "unknown bulk action"},
            message_zh="批量办理只支持受理和办结",
        )
    if not items:
        raise Invalid("select at least one task", fields={"tasks": "empty"}, message_zh="请至少选择一个事项")
    if len(items) > MAX_BULK:
        raise Invalid(
            f"at most {MAX_BULK} tasks at once",
            fields={"tasks": f"more than {MAX_BULK}"},
            message_zh=f"一次最多批量办理 {MAX_BULK} 个事项",
        )
    seen: set[tuple[str, str]] = set()
    for item in items:
        key = (item.code, item.task_id)
        if key in seen:
            raise Invalid(
                f"{item.code}/{item.task_id} is selected twice",
                fields={"tasks": f"{item.code}/{item.task_id} twice"},
                message_zh=f"事项 {item.code}/{item.task_id} 重复",
            )
        seen.add(key)
    if action == "approve":
        missing = [i for i in items if template is None and i.result is None]
        if missing:
            first = missing[0]
            raise Invalid(
                f"{first.code}/{first.task_id}: result is required to approve",
                fields={"result": "required for this action"},
                message_zh="办结须填写办理结果",
                failed={"application": first.code, "task_id": first.task_id},
            )


def act_many(
    session: Session,
    rt: Runtime,
    *,
    action: str,
    items: Sequence[BulkItem],
    actor: Actor,
    result: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> list[service.Outcome]:
    """``action`` on every task of ``items``, in this transaction; the outcomes in the order done.

    Raises the first refusal (its own status: 403, 404, 409, 422) with the task named in the message
    and in ``failed``; the caller's transaction must then roll back (``rt.db.write`` does).
    """
    _check(action, items, result)
    at = now or utcnow()
    outcomes = []
    work = []
    for item in sorted(items, key=lambda i: (i.code, i.task_id)):
        data = service.TaskAction()
        if action == "approve":
            merged = {**(result or {}), **(item.result or {})}
            data = service.TaskAction(result=fill(merged, code=item.code, task_id=item.task_id))
        work.append((item, data))
    # The engine's steps before this transaction's first statement (on SQLite: before the write lock),
    # each used below only if its application is still as it was read (``service.Prepared``).
    prepared = (
        service.prepare_approvals(
            rt, [(i.code, i.task_id, d.result) for i, d in work if d.result is not None], at=at
        )
        if action == "approve"
        else {}
    )
    # All the applications and their tasks in two queries, locked in the order below; each task's
    # action then needs no query of its own, and the rows go out together at commit.
    loaded = access.load_many(session, {i.code for i in items}, lock=True)
    if action == "approve":
        service.draw_licences(session, rt, loaded, [(i.code, i.task_id) for i, _ in work], at=at)
    for item, data in work:
        try:
            done = service.act(
                session,
                rt,
                code=item.code,
                task_id=item.task_id,
                action=action,
                data=data,
                actor=actor,
                now=at,
                loaded=loaded.get(item.code),
                prepared=prepared.get((item.code, item.task_id)),
            )
        except DomainError as exc:
            name = f"{item.code}/{item.task_id}"
            exc.message = f"{name}: {exc.message}"
            exc.args = (exc.message,)
            zh = exc.detail.get("message_zh")
            if zh:
                exc.detail["message_zh"] = f"事项 {name}：{zh}"
            exc.detail["failed"] = {"application": item.code, "task_id": item.task_id}
            raise
        outcomes.append(done)
    return outcomes
