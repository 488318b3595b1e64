"""A grant's lifecycle as one table. Pure.

pushed (已推送, the subject was told) → confirmed (已确认, with the account to pay) → paid (已发放);
pushed → declined (已放弃); pushed / confirmed → withdrawn (已撤销, by staff after a review).
``flag`` (a later data correction disagrees with the grant) and ``clear_review`` (staff uphold it)
leave the status alone; while a grant is flagged it can be neither confirmed nor paid.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from haoban.auth.roles import Role


class GrantStatus(enum.StrEnum):
    PUSHED = "pushed"
    CONFIRMED = "confirmed"
    PAID = "paid"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


S = GrantStatus
STATUS_LABELS: dict[GrantStatus, tuple[str, str]] = {
    S.PUSHED: ("待确认", "awaiting confirmation"),
    S.CONFIRMED: ("已确认", "confirmed"),
    S.PAID: ("已发放", "paid"),
    S.DECLINED: ("已放弃", "declined"),
    S.WITHDRAWN: ("已撤销", "withdrawn"),
}
OPEN = frozenset({S.PUSHED, S.CONFIRMED})


@dataclass(frozen=True)
class Move:
    action: str
    sources: frozenset[GrantStatus | None]
    target: GrantStatus | None  # None: the status stays
    roles: frozenset[str]
    blocked_by_review: bool = False
    label: tuple[str, str] = ("", "")


STAFF_REVIEW = frozenset({Role.SUPERVISOR, Role.ADMIN})
TABLE: tuple[Move, ...] = (
    Move("push", frozenset({None}), S.PUSHED, frozenset({Role.SYSTEM}), label=("推送", "pushed")),
    Move(
        "confirm",
        frozenset({S.PUSHED}),
        S.CONFIRMED,
        frozenset({Role.CITIZEN}),
        blocked_by_review=True,
        label=("确认领取", "confirmed"),
    ),
    Move("decline", frozenset({S.PUSHED}), S.DECLINED, frozenset({Role.CITIZEN}), label=("放弃", "declined")),
    Move(
        "pay",
        frozenset({S.CONFIRMED}),
        S.PAID,
        frozenset({Role.SYSTEM}),
        blocked_by_review=True,
        label=("发放", "paid"),
    ),
    Move(
        "flag",
        frozenset(S),
        None,
        frozenset({Role.SYSTEM}),
        label=("数据更正，待复核", "flagged for review"),
    ),
    Move(
        "clear_review",
        frozenset(S),
        None,
        STAFF_REVIEW,
        label=("复核维持", "review: upheld"),
    ),
    Move(
        "withdraw",
        frozenset({S.PUSHED, S.CONFIRMED}),
        S.WITHDRAWN,
        STAFF_REVIEW,
        label=("复核撤销", "review: withdrawn"),
    ),
)
BY_ACTION: dict[str, Move] = {m.action: m for m in TABLE}
del S
