"""Actions people take on cases (API and pages): check the request against the table, then go through
the gate with the action's effect. Effects may refuse with a 422 before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.calendar import DurationUnit
from haoban.casework import access, gate, reform, workflow
from haoban.casework.gate import CaseStep
from haoban.casework.models import Case, CaseDecision, CaseDepartment, CaseMeeting
from haoban.casework.schemas import CaseAction
from haoban.db import utcnow
from haoban.errors import Conflict, Forbidden, Invalid, NotFound
from haoban.notifications.service import enqueue
from haoban.runtime import Runtime
from haoban.sla.service import warn_at

# A case still open this many working days after its deadline is escalated to the leadership (升级督办).
ESCALATION_WORKING_DAYS = 2


def apply_action(
    session: Session,
    rt: Runtime,
    *,
    code: str,
    action: str,
    data: CaseAction,
    actor: Actor,
    now: datetime | None = None,
) -> Case:
    """Take ``action`` on case ``code``: visibility (404), permission (403), state (409), fields (422)."""
    if action not in workflow.PUBLIC_ACTIONS:
        raise NotFound(f"unknown action {action!r}; actions are: {', '.join(workflow.PUBLIC_ACTIONS)}")
    t = workflow.BY_ACTION[action]
    now = now or utcnow()
    case = access.get_case(session, code=code, actor=actor, lock=True)
    refused = access.refusal(case, t, actor, now)
    if refused is not None:
        raise refused
    if data.expected_version is not None and data.expected_version != case.version:
        raise Conflict("the case changed since you loaded it; reload and try again", version=case.version)
    missing = {f: "required for this action" for f in t.required if getattr(data, f) in (None, "", [])}
    if missing:
        raise Invalid(f"{action} needs: {', '.join(missing)}", fields=missing)
    payload = {f: getattr(data, f) for f in ("reason", "note", "comment") if getattr(data, f)}
    decision = getattr(data, t.decision_field) if t.decision_field else None
    gate.transition(
        rt,
        case,
        action=action,
        actor=actor,
        at=now,
        session=session,
        decision=decision,
        data=data,
        payload=payload,
        effect=EFFECTS.get(action),
    )
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("someone else changed this case at the same moment; reload and try again") from None
    return case


# --- effects ------------------------------------------------------------------------------------


def _data(step: CaseStep) -> CaseAction:
    assert step.data is not None
    return step.data


def _notify_department(step: CaseStep, department_code: str, subject: str, body: str) -> None:
    enqueue(
        step.session,
        channel="internal",
        recipient=f"department:{department_code}",
        subject=subject,
        body=body,
    )


def _on_solve_on_spot(step: CaseStep) -> None:
    step.case.on_spot_note = _data(step).note
    step.case.concluded_at = step.at


def _on_ledger(step: CaseStep) -> None:
    data, case = _data(step), step.case
    if data.obstacle:
        case.obstacle = data.obstacle
    if not case.obstacle:
        raise Invalid(
            "file the case under an obstacle (堵点) to enter it in the ledger",
            fields={"obstacle": "required"},
        )
    if data.item:
        case.item = data.item
    step.payload.update(obstacle=case.obstacle, item=case.item)
    if case.status == workflow.CaseStatus.SOLVED:  # the on-spot fix did not hold
        case.follow_up_result = None
        case.follow_up_comment = None
        case.concluded_at = None


def _start_clock(step: CaseStep, days: int) -> None:
    case, rt = step.case, step.rt
    deadline = rt.calendar.add(step.at, days, DurationUnit.WORKING_DAYS).at
    if case.deadline is not None:
        deadline = max(deadline, case.deadline)  # a deadline never moves back
    case.clock_started_at = step.at
    case.deadline = deadline
    case.warn_at = warn_at(step.at, deadline, rt.settings.warning_ratio)
    case.escalate_at = rt.calendar.add(deadline, ESCALATION_WORKING_DAYS, DurationUnit.WORKING_DAYS).at
    case.alert = None
    case.escalated = False
    step.payload.update(days=days, deadline=deadline.isoformat())


def _on_assign(step: CaseStep) -> None:
    data, case, directory = _data(step), step.case, step.rt.directory
    lead = directory.require_department(data.department or "", field="department")
    co_ids: dict[int, str] = {}
    for code in data.co_departments or []:
        ref = directory.require_department(code, field="co_departments")
        if ref.id != lead.id:
            co_ids[ref.id] = ref.code
    case.lead_department_id = lead.id
    case.co_departments = [CaseDepartment(department_id=d) for d in co_ids]
    _start_clock(step, data.days or 0)
    step.payload.update(department=lead.code, co_departments=list(co_ids.values()))
    for code in (lead.code, *co_ids.values()):
        role = "牵头" if code == lead.code else "协办"
        _notify_department(
            step,
            code,
            "办不成事交办",
            f"事项 {case.code}（{case.subject}）已交贵单位{role}，限 {data.days} 个工作日。",
        )


def _due_at(step: CaseStep, due: date) -> datetime:
    """A decision due on a date is due by the end of that day in the city."""
    midnight = datetime.combine(due + timedelta(days=1), time(0, 0), tzinfo=step.rt.settings.tz)
    return midnight - timedelta(microseconds=1)


def _on_meet(step: CaseStep) -> None:
    data, case, directory = _data(step), step.case, step.rt.directory
    meeting_in = data.meeting
    assert meeting_in is not None
    today = step.at.astimezone(step.rt.settings.tz).date()
    if meeting_in.held_on > today:
        raise Invalid("record a meeting once it has been held", fields={"meeting.held_on": "in the future"})
    meeting = CaseMeeting(
        seq=len(case.meetings) + 1,
        held_on=meeting_in.held_on,
        participants="\n".join(meeting_in.participants),
        minutes=meeting_in.minutes,
        recorded_by=step.actor.name,
        recorded_at=step.at,
    )
    decisions = []
    for i, d in enumerate(meeting_in.decisions):
        owner = directory.require_department(d.owner, field=f"meeting.decisions[{i}].owner")
        if d.due < meeting_in.held_on or d.due < today:
            raise Invalid(
                "a decision's due date cannot be in the past",
                fields={f"meeting.decisions[{i}].due": "today or later"},
            )
        due_at = _due_at(step, d.due)
        decisions.append(
            CaseDecision(
                text=d.text,
                owner_department_id=owner.id,
                due_at=due_at,
                warn_at=warn_at(step.at, due_at, step.rt.settings.warning_ratio),
                case_id=case.id,
            )
        )
        _notify_department(
            step,
            owner.code,
            "会商决定",
            f"事项 {case.code} 会商决定由贵单位落实，{d.due.isoformat()} 前完成：{d.text}",
        )
    meeting.decisions = decisions
    case.meetings.append(meeting)
    step.payload.update(
        meeting=meeting.seq,
        held_on=meeting_in.held_on.isoformat(),
        participants=meeting_in.participants,
        minutes=meeting_in.minutes,
        decisions=[
            {"text": d.text, "owner": d.owner, "due": d.due.isoformat()} for d in meeting_in.decisions
        ],
    )


def _on_complete_decision(step: CaseStep) -> None:
    data, case = _data(step), step.case
    found = next((d for m in case.meetings for d in m.decisions if d.id == data.decision_id), None)
    if found is None:
        raise Invalid(
            f"no decision {data.decision_id} in this case", fields={"decision_id": "unknown decision"}
        )
    if step.actor.role == Role.HANDLER and step.actor.department_id != found.owner_department_id:
        raise Forbidden("only the owning department reports a decision done")
    if found.done_at is not None:
        raise Conflict("this decision is already reported done", status=case.status)
    found.done_at = step.at
    found.done_note = data.note
    step.payload.update(decision_id=found.id, owner=found.owner_department.code)


def _on_supervise(step: CaseStep) -> None:
    case = step.case
    case.supervision_level += 1
    step.payload["level"] = case.supervision_level
    dept = step.rt.directory.department_code(case.lead_department_id)
    if dept and step.actor.role != Role.SYSTEM:  # the sweep sends its own notice
        _notify_department(
            step,
            dept,
            "督办",
            f"事项 {case.code} 被督办（第 {case.supervision_level} 次）：{_data(step).note}",
        )


def _on_conclude(step: CaseStep) -> None:
    data, case = _data(step), step.case
    if step.decision == "proposal" and not data.proposal:
        raise Invalid(
            "a policy proposal needs its text", fields={"proposal": "required for outcome proposal"}
        )
    case.outcome = step.decision
    case.outcome_text = data.explanation
    case.proposal_text = data.proposal if step.decision == "proposal" else None
    case.concluded_at = step.at
    step.payload.update(explanation=data.explanation, proposal=case.proposal_text)
    if case.proposal_text:  # the proposal goes onto the reform list, owned by the lead department
        proposal = reform.create_proposal(
            step.session,
            step.rt,
            actor=step.actor,
            title=case.proposal_text,
            obstacle=case.obstacle,
            item=case.item,
            owner=step.rt.directory.department_code(case.lead_department_id),
            source_case=case,
            at=step.at,
        )
        step.payload["proposal_id"] = proposal.id


def _on_follow_up(step: CaseStep) -> None:
    case = step.case
    case.follow_up_result = step.decision
    case.follow_up_comment = _data(step).comment


def _on_reopen(step: CaseStep) -> None:
    case = step.case
    case.reopen_count += 1
    case.follow_up_result = None
    case.follow_up_comment = None
    case.outcome = None
    case.concluded_at = None
    step.payload["reopen_count"] = case.reopen_count
    _start_clock(step, _data(step).days or 0)


def _on_close(step: CaseStep) -> None:
    case = step.case
    if case.follow_up_result == "unsatisfied" and not _data(step).reason:
        raise Invalid("closing despite 不满意 needs a reason", fields={"reason": "required"})
    case.closed_at = step.at


EFFECTS: dict[str, Callable[[CaseStep], None]] = {
    "solve_on_spot": _on_solve_on_spot,
    "ledger": _on_ledger,
    "assign": _on_assign,
    "meet": _on_meet,
    "complete_decision": _on_complete_decision,
    "supervise": _on_supervise,
    "conclude": _on_conclude,
    "follow_up": _on_follow_up,
    "reopen": _on_reopen,
    "close": _on_close,
}
