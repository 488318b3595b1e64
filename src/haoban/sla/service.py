"""Time limits, in one place: SLA terms per appeal type × urgency, the deadlines they give, their colours.

Deadlines are city configuration, not national law. Defaults follow one municipal rule: urgent the same
day; 咨询/求助 within 3 working days; 投诉/举报 within 13 working days. The sign clock restarts at each
dispatch; the handling clock runs from receipt and restarts on 重办 (reopen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES
from haoban.calendar import Deadline, DurationUnit, WorkCalendar, deadline_state
from haoban.db import utcnow
from haoban.sla.models import SlaRule


@dataclass(frozen=True)
class SlaTerms:
    sign_amount: float
    sign_unit: DurationUnit
    handle_amount: float
    handle_unit: DurationUnit


WD, WH, CH, CD = (
    DurationUnit.WORKING_DAYS,
    DurationUnit.WORKING_HOURS,
    DurationUnit.CALENDAR_HOURS,
    DurationUnit.CALENDAR_DAYS,
)
DEFAULT_TERMS: dict[tuple[str, str], SlaTerms] = {
    ("*", "urgent"): SlaTerms(1, CH, 0, CD),  # sign within the hour, done the same day
    ("*", "normal"): SlaTerms(4, WH, 13, WD),
    ("consult", "normal"): SlaTerms(4, WH, 3, WD),
    ("help", "normal"): SlaTerms(4, WH, 3, WD),
    ("complaint", "normal"): SlaTerms(4, WH, 13, WD),
    ("report", "normal"): SlaTerms(4, WH, 13, WD),
    ("suggestion", "normal"): SlaTerms(4, WH, 13, WD),
    ("praise", "normal"): SlaTerms(4, WH, 3, WD),
}


class SlaTable:
    def __init__(self, terms: dict[tuple[str, str], SlaTerms]) -> None:
        self._terms = {**DEFAULT_TERMS, **terms}

    def terms(self, order_type: str, urgency: str) -> SlaTerms:
        return (
            self._terms.get((order_type, urgency))
            or self._terms.get(("*", urgency))
            or self._terms[("*", "normal")]
        )

    def as_rows(self) -> list[dict[str, object]]:
        return [
            {
                "order_type": t,
                "urgency": u,
                "sign_amount": s.sign_amount,
                "sign_unit": s.sign_unit.value,
                "handle_amount": s.handle_amount,
                "handle_unit": s.handle_unit.value,
            }
            for (t, u), s in sorted(self._terms.items())
        ]


def load_sla_table(session: Session) -> SlaTable:
    rows = session.scalars(select(SlaRule)).all()
    return SlaTable(
        {
            (r.order_type, r.urgency): SlaTerms(
                r.sign_amount, DurationUnit(r.sign_unit), r.handle_amount, DurationUnit(r.handle_unit)
            )
            for r in rows
        }
    )


def rules_in_force(table: SlaTable, *, actor: Actor) -> list[dict[str, object]]:
    """The time limits in force (configured rows over the defaults), for the admin pages and API."""
    require_role(actor, *READ_CONFIG_ROLES)
    return table.as_rows()


def set_rule(
    session: Session,
    *,
    actor: Actor,
    order_type: str,
    urgency: str,
    sign_amount: float,
    sign_unit: DurationUnit,
    handle_amount: float,
    handle_unit: DurationUnit,
) -> SlaRule:
    """Set the time limits for one type × urgency (``order_type`` "*" for any type). Admins only."""
    require_role(actor, *ADMIN_ROLES)
    row = session.scalar(select(SlaRule).where(SlaRule.order_type == order_type, SlaRule.urgency == urgency))
    if row is None:
        row = SlaRule(order_type=order_type, urgency=urgency)
        session.add(row)
    row.sign_amount, row.sign_unit = sign_amount, DurationUnit(sign_unit).value
    row.handle_amount, row.handle_unit = handle_amount, DurationUnit(handle_unit).value
    row.updated_at = utcnow()
    session.flush()
    return row


def warn_at(start: datetime, deadline: datetime, ratio: float) -> datetime:
    """When a deadline turns yellow: ``ratio`` of its time used."""
    return start + (deadline - start) * ratio


def sign_deadline(calendar: WorkCalendar, terms: SlaTerms, start: datetime) -> Deadline:
    return calendar.add(start, terms.sign_amount, terms.sign_unit)


def handle_deadline(calendar: WorkCalendar, terms: SlaTerms, start: datetime) -> Deadline:
    return calendar.add(start, terms.handle_amount, terms.handle_unit)


def extended_deadline(calendar: WorkCalendar, current: datetime, days: int) -> Deadline:
    """An approved extension adds working days to the current deadline (never moves it back)."""
    return calendar.add(current, days, DurationUnit.WORKING_DAYS)


def state_of(
    *,
    start: datetime,
    deadline: datetime | None,
    now: datetime,
    done_at: datetime | None,
    warning_ratio: float,
) -> str | None:
    """on_time / warning / overdue; for finished work, whether it finished in time."""
    if deadline is None:
        return None
    if done_at is not None:
        return "on_time" if done_at <= deadline else "overdue"
    return deadline_state(start=start, deadline=deadline, now=now, warning_ratio=warning_ratio)
