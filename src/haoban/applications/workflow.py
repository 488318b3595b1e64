"""The state tables of applications and their department tasks. Pure: no database, no web.

A department task (one catalogue item of a bundle at one department) moves by these rows only:

- ``pending`` 待受理: the engine handed it out (every task before it is done) → accepted, correction,
  rejected, skipped, cancelled;
- ``accepted`` 办理中: the department accepted it (受理, or 容缺受理 with a material promised later) →
  approved, rejected, correction;
- ``correction`` 待补正: fields / materials flagged; the applicant fixes all in one resubmission → pending;
- final: ``approved`` 已办结, ``rejected`` 不予办理, ``skipped`` 无法办理 (an item before it was refused),
  ``cancelled`` 已撤回.

An application's status mirrors the engine's (``haoban.bundles.instance.STATUSES``); the moves the
engine may make are listed in ``APPLICATION_MOVES`` and the gate refuses any other. The gate
(``haoban.applications.gate``) is the only place either status changes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from haoban.auth.roles import Role


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    CORRECTION = "correction"
    APPROVED = "approved"
    REJECTED = "rejected"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


TASK_STATUS_LABELS: dict[TaskStatus, tuple[str, str]] = {
    TaskStatus.PENDING: ("待受理", "Waiting to be accepted"),
    TaskStatus.ACCEPTED: ("办理中", "In progress"),
    TaskStatus.CORRECTION: ("待补正", "Waiting for corrections"),
    TaskStatus.APPROVED: ("已办结", "Approved"),
    TaskStatus.REJECTED: ("不予办理", "Refused"),
    TaskStatus.SKIPPED: ("无法办理", "Cannot proceed"),
    TaskStatus.CANCELLED: ("已撤回", "Withdrawn"),
}
OPEN_TASK_STATUSES: frozenset[TaskStatus] = frozenset(
    {TaskStatus.PENDING, TaskStatus.ACCEPTED, TaskStatus.CORRECTION}
)
# States in which the department's clock runs (deadline colours, the sweep).
CLOCK_TASK_STATUSES: frozenset[TaskStatus] = frozenset({TaskStatus.PENDING, TaskStatus.ACCEPTED})


class AppStatus(enum.StrEnum):
    RUNNING = "running"
    AWAITING_CORRECTION = "awaiting_correction"
    COMPLETED = "completed"
    PARTIALLY_COMPLETED = "partially_completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


APP_STATUS_LABELS: dict[AppStatus, tuple[str, str]] = {
    AppStatus.RUNNING: ("办理中", "In progress"),
    AppStatus.AWAITING_CORRECTION: ("待补正", "Waiting for your corrections"),
    AppStatus.COMPLETED: ("已办结", "Completed"),
    AppStatus.PARTIALLY_COMPLETED: ("部分办结", "Partly completed"),
    AppStatus.REJECTED: ("不予办理", "Refused"),
    AppStatus.WITHDRAWN: ("已撤回", "Withdrawn"),
}
OPEN_APP_STATUSES: frozenset[AppStatus] = frozenset({AppStatus.RUNNING, AppStatus.AWAITING_CORRECTION})

# People who may act for the platform's departments (the tasks' own department only).
DEPARTMENT_ROLES = frozenset({Role.HANDLER})
OVERSIGHT_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class TaskMove:
    action: str
    sources: frozenset[TaskStatus | None]
    target: TaskStatus | None  # None: the task keeps its status
    roles: frozenset[Role]
    required: tuple[str, ...] = ()
    own_department: bool = False  # the actor must belong to the task's department
    internal: bool = False  # the platform only (the engine's consequences); never offered
    label: tuple[str, str] = ("", "")

    def target_from(self, current: TaskStatus | None) -> TaskStatus:
        if self.target is None:
            assert current is not None
            return current
        return self.target


def _m(
    action: str,
    sources: Iterable[TaskStatus | None],
    target: TaskStatus | None,
    roles: Iterable[Role],
    *,
    required: tuple[str, ...] = (),
    own_department: bool = False,
    internal: bool = False,
    label: tuple[str, str] = ("", ""),
) -> TaskMove:
    return TaskMove(
        action, frozenset(sources), target, frozenset(roles), required, own_department, internal, label
    )


T, R = TaskStatus, Role
TASK_MOVES: tuple[TaskMove, ...] = (
    _m("ready", {None}, T.PENDING, {R.SYSTEM}, internal=True, label=("派发", "Handed out")),
    _m(
        "accept",
        {T.PENDING},
        T.ACCEPTED,
        {R.HANDLER},
        own_department=True,
        label=("受理", "Accept"),
    ),
    _m(
        "accept_tolerated",
        {T.PENDING},
        T.ACCEPTED,
        {R.HANDLER},
        required=("material", "promised_by"),
        own_department=True,
        label=("容缺受理", "Accept, material to follow"),
    ),
    _m(
        "request_correction",
        {T.PENDING, T.ACCEPTED},
        T.CORRECTION,
        {R.HANDLER},
        required=("reason",),
        own_department=True,
        label=("一次性告知补正", "Request corrections"),
    ),
    _m(
        "approve",
        {T.ACCEPTED},
        T.APPROVED,
        {R.HANDLER},
        required=("result",),
        own_department=True,
        label=("办结", "Approve"),
    ),
    _m(
        "reject",
        {T.PENDING, T.ACCEPTED},
        T.REJECTED,
        {R.HANDLER},
        required=("reason",),
        own_department=True,
        label=("不予办理", "Refuse"),
    ),
    _m("resume", {T.CORRECTION}, T.PENDING, {R.SYSTEM}, internal=True, label=("已补正", "Corrected")),
    _m(
        "skip",
        {T.PENDING, T.ACCEPTED, T.CORRECTION, None},
        T.SKIPPED,
        {R.SYSTEM},
        internal=True,
        label=("无法办理", "Cannot proceed"),
    ),
    _m(
        "cancel",
        {T.PENDING, T.ACCEPTED, T.CORRECTION},
        T.CANCELLED,
        {R.SYSTEM},
        internal=True,
        label=("撤回", "Withdrawn"),
    ),
    _m(
        "supervise",
        {T.PENDING, T.ACCEPTED, T.CORRECTION},
        None,
        {R.SUPERVISOR, R.ADMIN, R.SYSTEM},
        required=("note",),
        label=("督办", "Supervise"),
    ),
    _m(
        "material_received",
        {T.ACCEPTED, T.APPROVED},
        None,
        {R.SYSTEM},
        internal=True,
        label=("容缺材料已补交", "Promised material received"),
    ),
)
del T, R

TASK_BY_ACTION: dict[str, TaskMove] = {m.action: m for m in TASK_MOVES}
# What people may ask for on a task (the API's and the pages' actions).
PUBLIC_TASK_ACTIONS: tuple[str, ...] = tuple(m.action for m in TASK_MOVES if not m.internal)


@dataclass(frozen=True)
class AppMove:
    action: str
    sources: frozenset[AppStatus | None]
    targets: frozenset[AppStatus]  # empty: keeps its status
    label: tuple[str, str] = ("", "")


A = AppStatus
_ENDINGS = frozenset({A.COMPLETED, A.PARTIALLY_COMPLETED, A.REJECTED})
APPLICATION_MOVES: Mapping[str, AppMove] = {
    m.action: m
    for m in (
        AppMove("submit", frozenset({None}), frozenset({A.RUNNING, *_ENDINGS}), ("提交申请", "Submitted")),
        # Any department step: a task decided, accepted, flagged; the engine may end the bundle.
        AppMove(
            "task",
            frozenset(OPEN_APP_STATUSES),
            frozenset({A.RUNNING, A.AWAITING_CORRECTION, *_ENDINGS}),
            ("部门办理", "Department step"),
        ),
        AppMove(
            "resubmit",
            frozenset({A.AWAITING_CORRECTION}),
            frozenset({A.RUNNING}),
            ("补正后重新提交", "Corrections resubmitted"),
        ),
        AppMove(
            "tick",
            frozenset(OPEN_APP_STATUSES),
            frozenset({A.RUNNING, A.AWAITING_CORRECTION, *_ENDINGS}),
            ("计时", "Timers"),
        ),
        AppMove(
            "withdraw", frozenset(OPEN_APP_STATUSES), frozenset({A.WITHDRAWN}), ("撤回申请", "Withdrawn")
        ),
        # Notes that leave the status alone: 督办, deliveries, 容缺 materials, consent, hand-over.
        AppMove("note", frozenset({None, *AppStatus}), frozenset(), ("记录", "Note")),
    )
}
del A


def application_may(action: str, status: str | None) -> bool:
    """May an application in ``status`` take ``action``? (The gate's rule; pages ask it to offer a button.)"""
    move = APPLICATION_MOVES.get(action)
    return move is not None and (AppStatus(status) if status is not None else None) in move.sources


def task_move(action: str) -> TaskMove | None:
    return TASK_BY_ACTION.get(action)


def task_pairs() -> frozenset[tuple[TaskStatus, str]]:
    """Every (status, action) the task table allows: what the tests must reach."""
    return frozenset((s, m.action) for m in TASK_MOVES for s in m.sources if s is not None)
