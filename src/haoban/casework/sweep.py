"""The case sweep (限时督办): deadlines turn yellow and red, an overdue case is supervised automatically
and, still open some working days later, escalated to the leadership; meeting decisions due soon or
overdue are chased with their owning departments. Same alert query as the orders' sweep
(``haoban.sla.alerts``), same outbox; running it twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.casework import events, gate
from haoban.casework.models import Case, CaseDecision
from haoban.casework.workflow import HANDLING_STATUSES
from haoban.db import utcnow
from haoban.notifications.service import enqueue
from haoban.runtime import Runtime
from haoban.sla import alerts

HANDLING = tuple(s.value for s in HANDLING_STATUSES)
# The window's staff and the supervisors hear of escalations (internal inboxes by role).
WINDOW_INBOX = "role:window"
LEADERSHIP_INBOX = "role:supervisor"


@dataclass
class CaseSweepResult:
    warnings: int = 0
    overdue: int = 0
    supervised: int = 0
    escalated: int = 0
    decisions_warned: int = 0
    decisions_overdue: int = 0


def sweep(
    session: Session, rt: Runtime, *, now: datetime | None = None, limit: int = 1000
) -> CaseSweepResult:
    now = now or utcnow()
    result = CaseSweepResult()
    _deadlines(session, rt, now=now, limit=limit, result=result)
    _escalations(session, rt, now=now, limit=limit, result=result)
    _decisions(session, rt, now=now, limit=limit, result=result)
    return result


def _notify(session: Session, recipient: str, subject: str, body: str, dedupe_key: str) -> None:
    enqueue(
        session, channel="internal", recipient=recipient, subject=subject, body=body, dedupe_key=dedupe_key
    )


def _deadlines(session: Session, rt: Runtime, *, now: datetime, limit: int, result: CaseSweepResult) -> None:
    for found in alerts.due(
        session,
        Case,
        deadline=Case.deadline,
        warn_at=Case.warn_at,
        alert=Case.alert,
        where=(Case.status.in_(HANDLING),),
        now=now,
        limit=limit,
    ):
        case: Case = found.record
        dept = rt.directory.department_code(case.lead_department_id) or "window"
        key = f"case-{found.level}:{case.code}:{found.deadline.isoformat()}"
        if not found.overdue:
            result.warnings += 1
            _notify(
                session,
                f"department:{dept}",
                "办不成事即将到期",
                f"事项 {case.code}（{case.subject}）将于 {found.deadline.isoformat()} 到期，请抓紧办理。",
                key,
            )
            continue
        result.overdue += 1
        _supervise(
            session, rt, case, now=now, note="限时办理超期，系统自动督办 (overdue: automatic supervision)"
        )
        result.supervised += 1
        for recipient in (f"department:{dept}", WINDOW_INBOX):
            _notify(
                session,
                recipient,
                "办不成事超期督办",
                f"事项 {case.code}（{case.subject}）已超过办理时限，系统已自动督办。",
                f"{key}:{recipient}",
            )


def _escalations(
    session: Session, rt: Runtime, *, now: datetime, limit: int, result: CaseSweepResult
) -> None:
    """Still open ``ESCALATION_WORKING_DAYS`` after the deadline: 升级督办 to the leadership, once."""
    stmt = (
        select(Case)
        .where(Case.status.in_(HANDLING), Case.escalate_at <= now, Case.escalated.is_(False))
        .order_by(Case.escalate_at)
        .limit(limit)
        .with_for_update(of=Case, skip_locked=True)
    )
    for case in session.scalars(stmt).unique():
        case.escalated = True
        _supervise(
            session,
            rt,
            case,
            now=now,
            note="超期仍未办结，升级督办 (escalated to the leadership)",
            escalated=True,
        )
        result.escalated += 1
        level, since = case.supervision_level, case.escalate_at.isoformat() if case.escalate_at else ""
        for recipient in (LEADERSHIP_INBOX, WINDOW_INBOX):
            _notify(
                session,
                recipient,
                "升级督办",
                f"事项 {case.code}（{case.subject}）超期仍未办结，已升级督办（第 {level} 次督办）。",
                f"case-escalated:{case.code}:{since}:{recipient}",
            )


def _supervise(
    session: Session, rt: Runtime, case: Case, *, now: datetime, note: str, escalated: bool = False
) -> None:
    def raise_level(step: gate.CaseStep) -> None:
        step.case.supervision_level += 1
        step.payload["level"] = step.case.supervision_level

    payload = {"note": note, "automatic": True, "escalated": escalated or None}
    gate.transition(
        rt,
        case,
        action="supervise",
        actor=SYSTEM_ACTOR,
        at=now,
        session=session,
        payload=payload,
        effect=raise_level,
    )


def _decisions(session: Session, rt: Runtime, *, now: datetime, limit: int, result: CaseSweepResult) -> None:
    open_cases = select(Case.id).where(Case.status.in_(HANDLING))
    for found in alerts.due(
        session,
        CaseDecision,
        deadline=CaseDecision.due_at,
        warn_at=CaseDecision.warn_at,
        alert=CaseDecision.alert,
        where=(CaseDecision.done_at.is_(None), CaseDecision.case_id.in_(open_cases)),
        now=now,
        limit=limit,
    ):
        decision: CaseDecision = found.record
        # FOR UPDATE OF the case alone: PostgreSQL refuses it across the eager outer joins.
        case = (
            session.scalars(select(Case).where(Case.id == decision.case_id).with_for_update(of=Case))
            .unique()
            .one()
        )
        owner = decision.owner_department.code
        key = f"decision-{found.level}:{decision.id}:{found.deadline.isoformat()}"
        if found.overdue:
            result.decisions_overdue += 1
            # The file records that a decision went unmet: the reform list and the board read it.
            events.note(
                session,
                case,
                action="decision_overdue",
                actor=SYSTEM_ACTOR,
                payload={"decision_id": decision.id, "owner": owner, "due": found.deadline.isoformat()},
                at=now,
            )
            subject, body = "会商决定超期", f"事项 {case.code} 的会商决定已超期未落实：{decision.text}"
        else:
            result.decisions_warned += 1
            subject, body = (
                "会商决定即将到期",
                f"事项 {case.code} 的会商决定将于 {found.deadline.isoformat()} 到期：{decision.text}",
            )
        _notify(session, f"department:{owner}", subject, body, key)
        if found.overdue:
            _notify(session, WINDOW_INBOX, subject, body, f"{key}:window")
