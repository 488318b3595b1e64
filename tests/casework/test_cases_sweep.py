"""限时督办 for cases: the sweep warns, supervises when the deadline passes, escalates a case still open
two working days later, chases meeting decisions — once each, through the outbox and the case file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from haoban.casework import access
from haoban.casework.actions import apply_action
from haoban.casework.events import verify_case_files
from haoban.casework.models import CaseEvent
from haoban.casework.schemas import CaseAction
from haoban.casework.sweep import sweep
from haoban.jobs.registry import REGISTRY
from haoban.notifications.models import OutboxMessage
from tests.builders import actors
from tests.casework.builders import make_case

START = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # Monday 09:00 in the city


def _sweep(rt: Any, at: datetime) -> Any:
    with rt.db.write() as s:
        return sweep(s, rt, now=at)


def _case(rt: Any, code: str) -> Any:
    with rt.db.read() as s:
        case = access.load(s, code)
        assert case is not None
        return case


def _messages(rt: Any) -> list[tuple[str, str]]:
    with rt.db.read() as s:
        return [(m.recipient, m.subject) for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def _file(rt: Any, code: str) -> list[tuple[str, str]]:
    with rt.db.read() as s:
        case = access.load(s, code)
        assert case is not None
        rows = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
        return [(e.action, e.actor_role) for e in rows]


def test_deadline_warns_then_supervises_then_escalates_once_each(rt: Any) -> None:
    code = make_case(rt, status="assigned", now=START)
    case = _case(rt, code)
    assert case.warn_at < case.deadline < case.escalate_at
    assert _sweep(rt, case.warn_at - timedelta(seconds=1)).warnings == 0
    before = len(_messages(rt))

    first = _sweep(rt, case.warn_at + timedelta(seconds=1))
    assert (first.warnings, first.overdue) == (1, 0)
    assert _messages(rt)[before:] == [("department:cgj", "办不成事即将到期")]
    assert _sweep(rt, case.warn_at + timedelta(minutes=5)).warnings == 0  # already warned

    late = _sweep(rt, case.deadline + timedelta(minutes=1))
    assert (late.overdue, late.supervised, late.escalated) == (1, 1, 0)
    assert _case(rt, code).supervision_level == 1 and _case(rt, code).alert == "overdue"
    assert _sweep(rt, case.deadline + timedelta(minutes=2)).overdue == 0

    up = _sweep(rt, case.escalate_at + timedelta(minutes=1))
    assert up.escalated == 1
    after = _case(rt, code)
    assert after.escalated and after.supervision_level == 2
    assert _sweep(rt, case.escalate_at + timedelta(days=3)).escalated == 0
    recipients = {r for r, subject in _messages(rt)[before:] if subject == "升级督办"}
    assert recipients == {"role:supervisor", "role:window"}
    assert [a for a, role in _file(rt, code) if role == "system"] == ["supervise", "supervise"]
    with rt.db.read() as s:
        assert verify_case_files(s)[1] == []


def test_a_concluded_case_is_not_chased(rt: Any) -> None:
    code = make_case(rt, status="concluded", now=START)
    case = _case(rt, code)
    result = _sweep(rt, case.escalate_at + timedelta(days=10))
    assert (result.warnings, result.overdue, result.escalated, result.decisions_overdue) == (0, 0, 0, 0)


def test_meeting_decisions_are_chased_until_done(rt: Any) -> None:
    code = make_case(rt, status="consulting", now=START)
    decision = _case(rt, code).meetings[0].decisions[0]
    assert decision.owner_department.code == "jtj"
    warned = _sweep(rt, decision.warn_at + timedelta(seconds=1))
    assert warned.decisions_warned == 1
    overdue = _sweep(rt, decision.due_at + timedelta(seconds=1))
    assert overdue.decisions_overdue == 1 and overdue.overdue == 0  # the case's own deadline is later
    assert _sweep(rt, decision.due_at + timedelta(hours=1)).decisions_overdue == 0
    assert ("decision_overdue", "system") in _file(rt, code)
    assert ("department:jtj", "会商决定超期") in _messages(rt)

    # A second meeting's decision, reported done in time, is never chased.
    users = actors(rt)
    today = (decision.due_at + timedelta(hours=2)).astimezone(rt.settings.tz).date()
    meeting = {
        "held_on": today.isoformat(),
        "participants": ["城管局", "交通局"],
        "minutes": "复会",
        "decisions": [{"text": "补充材料", "owner": "cgj", "due": (today + timedelta(days=5)).isoformat()}],
    }
    at = decision.due_at + timedelta(hours=2)
    with rt.db.write() as s:
        case = apply_action(
            s, rt, code=code, action="meet", data=CaseAction(meeting=meeting), actor=users["window"], now=at
        )
        second = case.meetings[1].decisions[0].id
        apply_action(
            s,
            rt,
            code=code,
            action="complete_decision",
            data=CaseAction(decision_id=second, note="已补充"),
            actor=users["h_cgj"],
            now=at,
        )
    result = _sweep(rt, at + timedelta(days=6))
    assert (result.decisions_warned, result.decisions_overdue) == (0, 0)
    with rt.db.read() as s:
        assert verify_case_files(s)[1] == []


def test_the_sweep_is_a_registered_job(rt: Any) -> None:
    assert REGISTRY["casework.sweep"].lock == "casework.sweep"
