"""The work-order state table (工单流转表). Pure: no database, no web.

Every allowed move is one row: the action, the states it may start from, the state it leads to (per
decision where the action carries one), the roles that may take it, the fields it requires, whether
the actor must belong to the order's lead department, the guards on the order besides its state, and
two flags: ``stays`` (the order keeps its state: 督办, extensions) and ``internal`` (only the platform
takes it, and no one is offered it: a merged order following its master). The gate
(``haoban.orders.gate``) looks moves up here and nowhere else.
Stages follow 国办发〔2020〕53号: 受理 → 调度 → 办理 → 回复 → 督办 → 办结 → 回访 → 评价.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from haoban.auth.roles import Role


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
    REGION_TRANSFERRED = "region_transferred"  # 已跨区域转办: another city handles it


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
    Status.REGION_TRANSFERRED: ("已转外地办理", "With another city"),
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
CALLBACK_RESULTS = ("satisfied", "basically_satisfied", "unsatisfied")  # 满意 / 基本满意 / 不满意


@dataclass(frozen=True)
class Guard:
    """A condition on the order besides its state. False: the action is refused (409) with ``message``.

    ``test`` reads the order's attributes and the current time only, so it is as pure as the table.
    """

    name: str
    test: Callable[[Any, datetime], bool]
    message: str


@dataclass(frozen=True)
class Transition:
    action: str
    # States the action starts from; None stands for "no order yet" (registration).
    sources: frozenset[Status | None]
    # Target per decision value; the key None is used when the action carries no decision.
    targets: Mapping[str | None, Status]
    roles: frozenset[Role]
    required: tuple[str, ...] = ()
    decision_field: str | None = None
    decisions: tuple[str, ...] = ()  # the values ``decision_field`` may take
    # The actor must be a handler of the order's lead department (主办单位).
    lead_department_only: bool = False
    guards: tuple[Guard, ...] = ()
    stays: bool = False  # the order keeps its state
    internal: bool = False  # taken by the platform only; never offered, not an API action
    label: tuple[str, str] = ("", "")
    description: str = ""

    def target(self, current: Status | None, decision: str | None) -> Status:
        if self.stays:
            assert current is not None
            return current
        return self.targets[decision]


def _t(
    action: str,
    sources: Iterable[Status | None],
    targets: Status | Mapping[str | None, Status] | None,
    roles: Iterable[Role],
    *,
    required: tuple[str, ...] = (),
    decision_field: str | None = None,
    lead_department_only: bool = False,
    guards: tuple[Guard, ...] = (),
    internal: bool = False,
    label: tuple[str, str] = ("", ""),
    description: str = "",
    decisions: tuple[str, ...] = (),
) -> Transition:
    stays = targets is None  # no target: the order keeps its state, whatever the decision
    if stays:
        target_map: dict[str | None, Status] = {}
    elif isinstance(targets, enum.Enum):  # one target (this table's Status, or another domain's)
        target_map = {None: targets}
    else:
        target_map = dict(targets)
        decisions = tuple(k for k in target_map if k is not None)
    return Transition(
        action=action,
        sources=frozenset(sources),
        targets=target_map,
        roles=frozenset(roles),
        required=required,
        decision_field=decision_field,
        decisions=decisions,
        lead_department_only=lead_department_only,
        guards=guards,
        stays=stays,
        internal=internal,
        label=label,
        description=description,
    )


# Other domains with a state table build their rows with the same builder (``haoban.casework``).
row = _t


# --- guards ----------------------------------------------------------------------------------------

EXTENSION_PENDING = Guard(
    "extension_pending",
    lambda o, now: o.extension_days is not None,
    "there is no extension request to decide",
)
NO_EXTENSION_PENDING = Guard(
    "no_extension_pending",
    lambda o, now: o.extension_days is None,
    "an extension request is already waiting for a decision",
)
BEFORE_DEADLINE = Guard(
    "before_deadline",
    lambda o, now: now < o.handle_deadline,
    "the deadline has passed: extensions must be requested before it",
)
UNSATISFIED = Guard(
    "unsatisfied",
    lambda o, now: o.status != Status.CALLBACK or o.callback_result == "unsatisfied",
    "only an unsatisfied call-back (不满意) leads to 重办",
)
WAS_DISPATCHED = Guard(
    "was_dispatched",
    lambda o, now: o.lead_department_id is not None,
    "this order was never dispatched; there is nothing to redo",
)
CALLED_BACK = Guard(
    "called_back",
    lambda o, now: o.status != Status.CALLBACK or o.callback_result is not None,
    "call the citizen back before closing",
)

S, R = Status, Role
TRANSITIONS: tuple[Transition, ...] = (
    _t(
        "register",
        {None},
        S.REGISTERED,
        {R.OPERATOR, R.DISPATCHER, R.SUPERVISOR, R.ADMIN, R.SYSTEM, R.CITIZEN},
        label=("受理登记", "Register"),
        description="A new appeal from any channel (an operator, the portal, an import).",
    ),
    _t(
        "answer",
        {S.REGISTERED, S.PENDING_DISPATCH},
        S.ANSWERED,
        {R.OPERATOR, R.DISPATCHER, R.SYSTEM},
        required=("answer",),
        label=("即时答复", "Answer now"),
        description="Answered on first contact: from the knowledge base, or a catalogue rule's guidance.",
    ),
    _t(
        "transfer",
        {S.REGISTERED, S.PENDING_DISPATCH},
        S.TRANSFERRED,
        {R.OPERATOR, R.DISPATCHER, R.SYSTEM},
        required=("target",),
        label=("转警/急救", "Transfer"),
        description="Emergencies go to 110/119/120/122 (by an operator, or a catalogue emergency rule).",
    ),
    _t(
        "hold",
        {S.REGISTERED},
        S.PENDING_DISPATCH,
        {R.OPERATOR, R.DISPATCHER, R.SYSTEM},
        label=("转人工派单", "Hold for dispatcher"),
        description="The dispatcher is unsure or no catalogue rule matched: a person dispatches.",
    ),
    _t(
        "dispatch",
        {S.REGISTERED, S.PENDING_DISPATCH},
        S.DISPATCHED,
        {R.OPERATOR, R.DISPATCHER, R.SUPERVISOR, R.ADMIN, R.SYSTEM},
        required=("department",),
        label=("派单", "Dispatch"),
        description="To a lead department (主办) and optional co-handlers (协办).",
    ),
    _t(
        "sign",
        {S.DISPATCHED},
        S.SIGNED,
        {R.HANDLER},
        lead_department_only=True,
        label=("签收", "Sign"),
        description="The department accepts the order; handling starts.",
    ),
    _t(
        "return",
        {S.DISPATCHED},
        S.RETURN_REQUESTED,
        {R.HANDLER},
        required=("reason",),
        lead_department_only=True,
        label=("退单", "Return"),
        description="The department objects that the order is not theirs, with a reason.",
    ),
    _t(
        "review_return",
        {S.RETURN_REQUESTED},
        {"uphold": S.DISPATCHED, "reject": S.DISPATCHED},
        {R.DISPATCHER, R.SUPERVISOR, R.ADMIN},
        required=("decision",),
        decision_field="decision",
        label=("退单审核", "Review return"),
        description="Uphold: re-dispatch to another department (改派). Reject: back to the same one.",
    ),
    _t(
        "request_extension",
        {S.SIGNED},
        None,
        {R.HANDLER},
        required=("days", "reason"),
        lead_department_only=True,
        guards=(NO_EXTENSION_PENDING, BEFORE_DEADLINE),
        label=("申请延期", "Request extension"),
        description="Before the deadline, with a reason; one request at a time.",
    ),
    _t(
        "decide_extension",
        {S.SIGNED},
        None,
        {R.SUPERVISOR, R.DISPATCHER, R.ADMIN},
        required=("decision",),
        decision_field="decision",
        decisions=("approve", "refuse"),
        guards=(EXTENSION_PENDING,),
        label=("延期审批", "Decide extension"),
        description="Approve (the deadline moves by the working days asked) or refuse a pending request.",
    ),
    _t(
        "reply",
        {S.SIGNED},
        S.REPLIED,
        {R.HANDLER},
        required=("reply",),
        lead_department_only=True,
        label=("答复", "Reply"),
        description="The department's answer to the citizen.",
    ),
    _t(
        "review_reply",
        {S.REPLIED},
        {"approve": S.CALLBACK, "reject": S.SIGNED},
        {R.DISPATCHER, R.SUPERVISOR, R.ADMIN},
        required=("decision",),
        decision_field="decision",
        label=("审核报结", "Review reply"),
        description="Approve: on to the call-back (merged duplicates follow). Reject (with a reason): back "
        "to the department.",
    ),
    _t(
        "callback",
        {S.CALLBACK},
        {"satisfied": S.CLOSED, "basically_satisfied": S.CLOSED, "unsatisfied": S.CALLBACK},
        {R.OPERATOR, R.SUPERVISOR, R.DISPATCHER, R.SYSTEM},
        required=("result",),
        decision_field="result",
        label=("回访", "Call back"),
        description="满意 / 基本满意 close the order; 不满意 leaves it for 重办 or a reasoned close.",
    ),
    _t(
        "reopen",
        {S.CALLBACK, S.CLOSED},
        S.DISPATCHED,
        {R.SUPERVISOR, R.DISPATCHER, R.ADMIN},
        required=("reason",),
        guards=(UNSATISFIED, WAS_DISPATCHED),
        label=("重办", "Reopen"),
        description="The citizen was not satisfied: back to the department, the clock restarts.",
    ),
    _t(
        "close",
        {S.ANSWERED, S.TRANSFERRED, S.CALLBACK},
        S.CLOSED,
        {R.OPERATOR, R.SUPERVISOR, R.DISPATCHER, R.ADMIN, R.SYSTEM},
        guards=(CALLED_BACK,),
        label=("办结", "Close"),
        description="After the call-back (closing despite 不满意 needs a reason), an answer or a transfer.",
    ),
    _t(
        "archive",
        {S.CLOSED},
        S.ARCHIVED,
        {R.SUPERVISOR, R.ADMIN, R.SYSTEM},
        label=("归档", "Archive"),
    ),
    _t(
        "supervise",
        OPEN_STATUSES,
        None,
        {R.SUPERVISOR, R.ADMIN, R.SYSTEM},
        required=("note",),
        label=("督办", "Supervise"),
        description="Raise supervision (督办/催办); the order stays where it is. The sweep raises it when "
        "a deadline passes.",
    ),
    _t(
        "merge",
        {S.REGISTERED, S.PENDING_DISPATCH, S.DISPATCHED},
        S.MERGED,
        # The system: a citizen's "this is mine too" on the portal joins their new appeal to an open one.
        {R.OPERATOR, R.DISPATCHER, R.SUPERVISOR, R.SYSTEM},
        required=("master",),
        label=("并单", "Merge"),
        description="A duplicate goes under a master order and follows it (the system does it when a "
        "citizen says on the portal that an open appeal is theirs too).",
    ),
    _t(
        "transfer_region",
        {S.REGISTERED, S.PENDING_DISPATCH},
        S.REGION_TRANSFERRED,
        {R.OPERATOR, R.DISPATCHER, R.SUPERVISOR},
        required=("region",),
        label=("跨区域转办", "Transfer to another city"),
        description="The matter is another city's: the order goes to that partner city's instance, "
        "whose reply and call-back result come back (haoban.federation).",
    ),
    _t(
        "remote_close",
        {S.REGION_TRANSFERRED},
        S.CLOSED,
        {R.SYSTEM},
        internal=True,
        label=("外地办结", "Closed by the other city"),
        description="The partner city finished the transferred order: its call-back result closes it here.",
    ),
    _t(
        "follow_master",
        {S.MERGED},
        S.CALLBACK,
        {R.SYSTEM},
        internal=True,
        label=("随主单答复", "Master replied"),
        description="The master's approved reply reaches the merged order, which gets its own call-back.",
    ),
)
del S, R

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
# What people may ask for on an existing order (the API's and the pages' actions).
PUBLIC_ACTIONS: tuple[str, ...] = tuple(
    t.action for t in TRANSITIONS if not t.internal and None not in t.sources
)


def transition(action: str) -> Transition | None:
    return BY_ACTION.get(action)


def reachable_statuses() -> frozenset[Status]:
    out: set[Status] = set()
    for t in TRANSITIONS:
        out.update(t.targets.values())
    return frozenset(out)


def pairs() -> frozenset[tuple[Status, str]]:
    """Every (state, action) the table allows, internal actions included: what the tests must reach."""
    return frozenset((s, t.action) for t in TRANSITIONS for s in t.sources if s is not None)
