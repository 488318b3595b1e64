"""The difficult-matter case state table (办不成事 / 营商环境投诉 流转表). Pure: no database, no web.

received (已登记) → solved on the spot (当场办结, 陪同办) or → ledger (入台账, 一事一档) → assigned to a
lead department and co-departments with a deadline (限时督办) → consultation meetings (会商) → outcome
(办成 / 依法不予办理并解释 / 转为政策建议) → follow-up satisfaction (回访) → closed. Rows are built with
the orders' builder and checked by the same objection (``haoban.orders.access.objection``); the gate
(``haoban.casework.gate``) looks moves up here and nowhere else.
"""

from __future__ import annotations

import enum

from haoban.auth.roles import Role
from haoban.orders.workflow import Guard, Transition, row


class CaseStatus(enum.StrEnum):
    RECEIVED = "received"  # 已登记
    SOLVED = "solved"  # 当场办结 (陪同办)
    LEDGERED = "ledgered"  # 已入台账
    ASSIGNED = "assigned"  # 已交办, 限时办理
    CONSULTING = "consulting"  # 会商中
    CONCLUDED = "concluded"  # 已有结果, 待回访
    CLOSED = "closed"  # 已办结


STATUS_LABELS: dict[CaseStatus, tuple[str, str]] = {
    CaseStatus.RECEIVED: ("已登记", "Received"),
    CaseStatus.SOLVED: ("当场办结", "Solved on the spot"),
    CaseStatus.LEDGERED: ("已入台账", "In the ledger"),
    CaseStatus.ASSIGNED: ("限时办理中", "Assigned"),
    CaseStatus.CONSULTING: ("会商中", "In consultation"),
    CaseStatus.CONCLUDED: ("待回访", "Concluded, follow-up due"),
    CaseStatus.CLOSED: ("已办结", "Closed"),
}
OPEN_STATUSES: frozenset[CaseStatus] = frozenset(CaseStatus) - {CaseStatus.CLOSED}
# The states in which the 限时督办 clock runs and meetings' decisions are worked on.
HANDLING_STATUSES: frozenset[CaseStatus] = frozenset({CaseStatus.ASSIGNED, CaseStatus.CONSULTING})
KINDS: dict[str, tuple[str, str]] = {
    "difficult": ("办不成事", "Couldn't get it done"),
    "business": ("营商环境投诉", "Business-environment complaint"),
}
OUTCOMES: dict[str, tuple[str, str]] = {
    "done": ("办成", "Done"),
    "refused": ("依法不予办理（已解释）", "Lawfully refused, explained"),
    "proposal": ("转为政策建议", "Turned into a policy proposal"),
}
FOLLOW_UP_RESULTS = ("satisfied", "basically_satisfied", "unsatisfied")  # 满意 / 基本满意 / 不满意

# --- guards ----------------------------------------------------------------------------------------

NOT_SOLVED_OR_UNSATISFIED = Guard(
    "on_spot_failed",
    lambda c, now: c.status != CaseStatus.SOLVED or c.follow_up_result == "unsatisfied",
    "a case solved on the spot goes into the ledger only when the follow-up found it unsatisfied",
)
FOLLOWED_UP = Guard(
    "followed_up",
    lambda c, now: c.follow_up_result is not None,
    "follow the complainant up (回访) before closing",
)
UNSATISFIED = Guard(
    "unsatisfied",
    lambda c, now: c.follow_up_result == "unsatisfied",
    "only an unsatisfied follow-up (不满意) reopens a case",
)
NOT_FOLLOWED_UP = Guard(
    "not_followed_up",
    lambda c, now: c.follow_up_result is None,
    "the follow-up is already recorded",
)

S, R = CaseStatus, Role
WINDOW_DESK = {R.WINDOW, R.SUPERVISOR, R.ADMIN}  # the window and those who run it
TRANSITIONS: tuple[Transition, ...] = (
    row(
        "open",
        {None},
        S.RECEIVED,
        {R.WINDOW, R.SUPERVISOR, R.ADMIN, R.CITIZEN, R.SYSTEM},
        label=("登记", "Open"),
        description="At the window, from the portal, or escalated from a stuck order or application.",
    ),
    row(
        "solve_on_spot",
        {S.RECEIVED},
        S.SOLVED,
        {R.WINDOW},
        required=("note",),
        label=("当场办结", "Solve on the spot"),
        description="陪同办: staff went with the person and got it done; say what was done.",
    ),
    row(
        "ledger",
        {S.RECEIVED, S.SOLVED},
        S.LEDGERED,
        {R.WINDOW, R.SUPERVISOR},
        guards=(NOT_SOLVED_OR_UNSATISFIED,),
        label=("入台账", "Enter in ledger"),
        description="Not solvable on the spot: one case, one file (一事一档), under its obstacle (堵点).",
    ),
    row(
        "assign",
        {S.LEDGERED},
        S.ASSIGNED,
        WINDOW_DESK,
        required=("department", "days"),
        label=("交办", "Assign"),
        description="A lead department and co-departments, with a deadline in working days (限时督办).",
    ),
    row(
        "meet",
        {S.ASSIGNED, S.CONSULTING},
        S.CONSULTING,
        WINDOW_DESK,
        required=("meeting",),
        label=("会商", "Hold a meeting"),
        description="A consultation meeting: date, participants, minutes, decisions with owner and due date.",
    ),
    row(
        "complete_decision",
        {S.CONSULTING},
        None,
        {R.HANDLER, R.WINDOW, R.SUPERVISOR},
        required=("decision_id", "note"),
        label=("落实会商决定", "Complete a decision"),
        description="The owning department reports a meeting decision done.",
    ),
    row(
        "supervise",
        OPEN_STATUSES - {S.CONCLUDED, S.SOLVED},
        None,
        {R.SUPERVISOR, R.ADMIN, R.SYSTEM},
        required=("note",),
        label=("督办", "Supervise"),
        description="限时督办: the case stays where it is; the sweep raises it when the deadline passes.",
    ),
    row(
        "conclude",
        HANDLING_STATUSES,
        {"done": S.CONCLUDED, "refused": S.CONCLUDED, "proposal": S.CONCLUDED},
        {R.HANDLER, R.WINDOW, R.SUPERVISOR},
        required=("outcome", "explanation"),
        decision_field="outcome",
        label=("出具结果", "Conclude"),
        description="办成; or lawfully refused with the explanation given; or turned into a policy proposal.",
    ),
    row(
        "follow_up",
        {S.SOLVED, S.CONCLUDED},
        None,
        {R.WINDOW, R.SUPERVISOR, R.SYSTEM},
        required=("result",),
        decision_field="result",
        decisions=FOLLOW_UP_RESULTS,
        guards=(NOT_FOLLOWED_UP,),
        label=("回访", "Follow up"),
        description="Ask the complainant whether the matter is settled (满意 / 基本满意 / 不满意).",
    ),
    row(
        "reopen",
        {S.CONCLUDED},
        S.ASSIGNED,
        WINDOW_DESK,
        required=("reason", "days"),
        guards=(UNSATISFIED,),
        label=("重新交办", "Reopen"),
        description="Not satisfied: back to the departments with a new deadline.",
    ),
    row(
        "close",
        {S.SOLVED, S.CONCLUDED},
        S.CLOSED,
        WINDOW_DESK,
        guards=(FOLLOWED_UP,),
        label=("办结", "Close"),
        description="After the follow-up (closing despite 不满意 needs a reason).",
    ),
)
del S, R

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
PUBLIC_ACTIONS: tuple[str, ...] = tuple(
    t.action for t in TRANSITIONS if not t.internal and None not in t.sources
)


def reachable_statuses() -> frozenset[CaseStatus]:
    return frozenset(CaseStatus(s) for t in TRANSITIONS for s in t.targets.values())


def pairs() -> frozenset[tuple[str, str]]:
    """Every (state, action) the table allows: what the state-machine test must reach."""
    return frozenset((str(s), t.action) for t in TRANSITIONS for s in t.sources if s is not None)
