"""The work-order state table (工单流转表). Pure: no database, no web.

Every allowed move is one row: the action, the states it may start from, the state it leads to (per
decision where the action carries one), the roles that may take it, the fields it requires and whether
the actor must belong to the order's lead department. The service looks moves up here and nowhere else.
Stages follow 国办发〔2020〕53号: 受理 → 调度 → 办理 → 回复 → 督办 → 办结 → 回访 → 评价.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class Status(enum.StrEnum):
    REGISTERED = "registered"  # 已受理
    ANSWERED = "answered"  # 即时答复
    TRANSFERRED = "transferred"  # 转 110/119/120/122
    PENDING_DISPATCH = "pending_dispatch"  # 待派单
    DISPATCHED = "dispatched"  # 已派单
    RETURN_REQUESTED = "return_requested"  # 退单待审
    SIGNED = "signed"  # 已签收 (办理中)
    REPLIED = "replied"  # 已答复, 待审核
    CALLBACK = "callback"  # 待回访
    CLOSED = "closed"  # 已办结
    ARCHIVED = "archived"  # 已归档
    MERGED = "merged"  # 已并单: follows its master order


STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.REGISTERED: ("已受理", "Registered"),
    Status.ANSWERED: ("即时答复", "Answered"),
    Status.TRANSFERRED: ("已转警/急救", "Transferred"),
    Status.PENDING_DISPATCH: ("待派单", "Pending dispatch"),
    Status.DISPATCHED: ("已派单", "Dispatched"),
    Status.RETURN_REQUESTED: ("退单审核中", "Return requested"),
    Status.SIGNED: ("办理中", "Signed"),
    Status.REPLIED: ("已答复待审核", "Replied"),
    Status.CALLBACK: ("待回访", "Call-back due"),
    Status.CLOSED: ("已办结", "Closed"),
    Status.ARCHIVED: ("已归档", "Archived"),
    Status.MERGED: ("已并单", "Merged"),
}

OPEN_STATUSES: frozenset[Status] = frozenset(
    {
        Status.REGISTERED,
        Status.PENDING_DISPATCH,
        Status.DISPATCHED,
        Status.RETURN_REQUESTED,
        Status.SIGNED,
        Status.REPLIED,
        Status.CALLBACK,
    }
)
# States in which the department's handling clock runs (for deadline colours and the sweep).
HANDLING_STATUSES: frozenset[Status] = frozenset(
    {Status.DISPATCHED, Status.RETURN_REQUESTED, Status.SIGNED, Status.REPLIED}
)
FINAL_STATUSES: frozenset[Status] = frozenset(
    {Status.ANSWERED, Status.TRANSFERRED, Status.CLOSED, Status.ARCHIVED}
)

# Roles; "system" is the platform itself (intake dispatcher, deadline sweep, master-order fan-out).
OPERATOR, DISPATCHER, HANDLER, SUPERVISOR, ADMIN, AUDITOR, SYSTEM = (
    "operator",
    "dispatcher",
    "handler",
    "supervisor",
    "admin",
    "auditor",
    "system",
)
CALL_CENTRE = frozenset({OPERATOR, DISPATCHER, SUPERVISOR, ADMIN})

TRANSFER_TARGETS = ("110", "119", "120", "122")
CALLBACK_RESULTS = ("satisfied", "basically_satisfied", "unsatisfied")  # 满意 / 基本满意 / 不满意


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[Status]
    # Target per decision value; the key None is used when the action carries no decision.
    targets: Mapping[str | None, Status]
    roles: frozenset[str]
    required: tuple[str, ...] = ()
    decision_field: str | None = None
    # The actor must be a handler of the order's lead department (主办单位).
    lead_department_only: bool = False
    label: tuple[str, str] = ("", "")
    description: str = ""
    extra: Mapping[str, object] = field(default_factory=dict)

    def target_for(self, decision: str | None) -> Status:
        return self.targets[decision]

    @property
    def decisions(self) -> tuple[str, ...]:
        return tuple(k for k in self.targets if k is not None)


def _t(
    action: str,
    sources: set[Status] | frozenset[Status],
    targets: Status | Mapping[str | None, Status],
    roles: set[str] | frozenset[str],
    *,
    required: tuple[str, ...] = (),
    decision_field: str | None = None,
    lead_department_only: bool = False,
    label: tuple[str, str] = ("", ""),
    description: str = "",
) -> Transition:
    target_map = {None: targets} if isinstance(targets, Status) else dict(targets)
    return Transition(
        action=action,
        sources=frozenset(sources),
        targets=target_map,
        roles=frozenset(roles),
        required=required,
        decision_field=decision_field,
        lead_department_only=lead_department_only,
        label=label,
        description=description,
    )


S = Status
TRANSITIONS: tuple[Transition, ...] = (
    _t(
        "answer",
        {S.REGISTERED, S.PENDING_DISPATCH},
        S.ANSWERED,
        {OPERATOR, DISPATCHER},
        required=("answer",),
        label=("即时答复", "Answer now"),
        description="Answered on first contact, e.g. from the knowledge base.",
    ),
    _t(
        "transfer",
        {S.REGISTERED, S.PENDING_DISPATCH},
        S.TRANSFERRED,
        {OPERATOR, DISPATCHER},
        required=("target",),
        label=("转警/急救", "Transfer"),
        description="Emergencies go to 110/119/120/122.",
    ),
    _t(
        "hold",
        {S.REGISTERED},
        S.PENDING_DISPATCH,
        {OPERATOR, DISPATCHER, SYSTEM},
        label=("转人工派单", "Hold for dispatcher"),
        description="The dispatcher is unsure or no catalogue rule matched: a person dispatches.",
    ),
    _t(
        "dispatch",
        {S.REGISTERED, S.PENDING_DISPATCH},
        S.DISPATCHED,
        {OPERATOR, DISPATCHER, ADMIN, SYSTEM},
        required=("department",),
        label=("派单", "Dispatch"),
        description="To a lead department (主办) and optional co-handlers (协办).",
    ),
    _t(
        "sign",
        {S.DISPATCHED},
        S.SIGNED,
        {HANDLER},
        lead_department_only=True,
        label=("签收", "Sign"),
        description="The department accepts the order; handling starts.",
    ),
    _t(
        "return",
        {S.DISPATCHED},
        S.RETURN_REQUESTED,
        {HANDLER},
        required=("reason",),
        lead_department_only=True,
        label=("退单", "Return"),
        description="The department objects that the order is not theirs, with a reason.",
    ),
    _t(
        "review_return",
        {S.RETURN_REQUESTED},
        {"uphold": S.DISPATCHED, "reject": S.DISPATCHED},
        {DISPATCHER, SUPERVISOR, ADMIN},
        required=("decision",),
        decision_field="decision",
        label=("退单审核", "Review return"),
        description="Uphold: re-dispatch to another department (改派). Reject: back to the same one.",
    ),
    _t(
        "request_extension",
        {S.SIGNED},
        S.SIGNED,
        {HANDLER},
        required=("days", "reason"),
        lead_department_only=True,
        label=("申请延期", "Request extension"),
        description="Before the deadline, with a reason.",
    ),
    _t(
        "decide_extension",
        {S.SIGNED},
        {"approve": S.SIGNED, "refuse": S.SIGNED},
        {SUPERVISOR, DISPATCHER, ADMIN},
        required=("decision",),
        decision_field="decision",
        label=("延期审批", "Decide extension"),
    ),
    _t(
        "reply",
        {S.SIGNED},
        S.REPLIED,
        {HANDLER},
        required=("reply",),
        lead_department_only=True,
        label=("答复", "Reply"),
        description="The department's answer to the citizen.",
    ),
    _t(
        "review_reply",
        {S.REPLIED},
        {"approve": S.CALLBACK, "reject": S.SIGNED},
        {DISPATCHER, SUPERVISOR, ADMIN},
        required=("decision",),
        decision_field="decision",
        label=("审核报结", "Review reply"),
        description="Approve: on to the call-back. Reject (with a reason): back to the department.",
    ),
    _t(
        "callback",
        {S.CALLBACK},
        {"satisfied": S.CLOSED, "basically_satisfied": S.CLOSED, "unsatisfied": S.CALLBACK},
        {OPERATOR, SUPERVISOR, DISPATCHER, SYSTEM},
        required=("result",),
        decision_field="result",
        label=("回访", "Call back"),
        description="满意 / 基本满意 close the order; 不满意 leaves it for 重办 or a reasoned close.",
    ),
    _t(
        "reopen",
        {S.CALLBACK, S.CLOSED},
        S.DISPATCHED,
        {SUPERVISOR, DISPATCHER, ADMIN},
        required=("reason",),
        label=("重办", "Reopen"),
        description="The citizen was not satisfied: back to the department, the clock restarts.",
    ),
    _t(
        "close",
        {S.ANSWERED, S.TRANSFERRED, S.CALLBACK},
        S.CLOSED,
        {OPERATOR, SUPERVISOR, DISPATCHER, ADMIN, SYSTEM},
        label=("办结", "Close"),
    ),
    _t("archive", {S.CLOSED}, S.ARCHIVED, {SUPERVISOR, ADMIN, SYSTEM}, label=("归档", "Archive")),
    _t(
        "supervise",
        OPEN_STATUSES,
        {None: S.REGISTERED},
        {SUPERVISOR, ADMIN, SYSTEM},
        required=("note",),
        label=("督办", "Supervise"),
        description="Raise supervision (督办/催办); the order stays where it is.",
    ),
    _t(
        "merge",
        {S.REGISTERED, S.PENDING_DISPATCH, S.DISPATCHED},
        S.MERGED,
        {OPERATOR, DISPATCHER, SUPERVISOR},
        required=("master",),
        label=("并单", "Merge"),
        description="A duplicate goes under a master order and follows it.",
    ),
    _t(
        "follow_master",
        {S.MERGED},
        S.CALLBACK,
        {SYSTEM},
        label=("随主单答复", "Master replied"),
        description="The master's approved reply reaches the merged order, which gets its own call-back.",
    ),
)
del S

# Actions whose target is "stay where you are" rather than a fixed state.
STAY_ACTIONS = frozenset({"supervise", "request_extension", "decide_extension"})

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
ACTIONS: tuple[str, ...] = tuple(BY_ACTION)


def transition(action: str) -> Transition | None:
    return BY_ACTION.get(action)


def target_status(t: Transition, current: Status, decision: str | None) -> Status:
    if t.action in STAY_ACTIONS:
        return current
    return t.target_for(decision)


def actions_from(status: Status, role: str | None = None) -> list[str]:
    """Actions the table allows from ``status`` (for ``role``, when given)."""
    return [
        t.action
        for t in TRANSITIONS
        if status in t.sources and (role is None or role in t.roles) and t.action != "follow_master"
    ]


def reachable_statuses() -> frozenset[Status]:
    out: set[Status] = {Status.REGISTERED}
    for t in TRANSITIONS:
        if t.action not in STAY_ACTIONS:
            out.update(t.targets.values())
    return frozenset(out)
