"""How cases are shown: the list row, the full view, the case file. The complainant's identity is
filled in only for readers ``access.may_see_identity`` allows; everyone else gets nulls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from haoban.auth.actors import Actor
from haoban.casework import access, obstacles, workflow
from haoban.casework.models import Case
from haoban.casework.workflow import KINDS, STATUS_LABELS, CaseStatus
from haoban.db import utcnow
from haoban.orders.presenters import event_view, workflow_view

__all__ = ["case_detail", "case_summary", "case_workflow_view", "event_view"]
from haoban.security.privacy import mask_text
from haoban.sla.service import state_of


def status_label(status: str, lang: str = "zh") -> str:
    zh, en = STATUS_LABELS[CaseStatus(status)]
    return en if lang == "en" else zh


def deadline_view(case: Case, *, now: datetime, warning_ratio: float) -> dict[str, Any]:
    if case.deadline is None or case.clock_started_at is None:
        return {"at": None, "state": None}
    return {
        "at": case.deadline,
        "state": state_of(
            start=case.clock_started_at,
            deadline=case.deadline,
            now=now,
            done_at=case.concluded_at or case.closed_at,
            warning_ratio=warning_ratio,
        ),
    }


def case_summary(case: Case, *, warning_ratio: float, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "code": case.code,
        "kind": case.kind,
        "kind_label": KINDS[case.kind][0],
        "status": case.status,
        "status_label": status_label(case.status),
        "subject": mask_text(case.subject),  # lists: phone and ID numbers in free text masked
        "obstacle": case.obstacle,
        "obstacle_label": obstacles.label(case.obstacle) if case.obstacle else None,
        "item": case.item,
        "department": case.lead_department.code if case.lead_department else None,
        "department_name": case.lead_department.name if case.lead_department else None,
        "origin_kind": case.origin_kind,
        "origin_code": case.origin_code,
        "anonymous": case.anonymous,
        "received_at": case.received_at,
        "deadline": deadline_view(case, now=now, warning_ratio=warning_ratio),
        "supervision_level": case.supervision_level,
        "escalated": case.escalated,
    }


def complainant_view(case: Case, actor: Actor) -> dict[str, Any]:
    shown = access.may_see_identity(actor, case)
    return {
        "anonymous": case.anonymous,
        "visible": shown,
        "name": case.complainant_name if shown else None,
        "phone": case.complainant_phone if shown else None,
        "id_number": case.complainant_id_number if shown else None,
        "company_name": case.company_name if shown else None,
        "company_uscc": case.company_uscc if shown else None,
    }


def case_detail(
    case: Case, *, actor: Actor, warning_ratio: float, now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    out = case_summary(case, warning_ratio=warning_ratio, now=now)
    out.update(
        content=case.content,
        channel=case.channel,
        concerned_department=case.concerned_department.code if case.concerned_department else None,
        complainant=complainant_view(case, actor),
        co_departments=[c.department.code for c in case.co_departments],
        on_spot_note=case.on_spot_note,
        outcome=case.outcome,
        outcome_text=case.outcome_text,
        proposal_text=case.proposal_text,
        follow_up_result=case.follow_up_result,
        follow_up_comment=case.follow_up_comment,
        meetings=[
            {
                "seq": m.seq,
                "held_on": m.held_on,
                "participants": m.participants.split("\n"),
                "minutes": m.minutes,
                "recorded_by": m.recorded_by,
                "decisions": [
                    {
                        "id": d.id,
                        "text": d.text,
                        "owner": d.owner_department.code,
                        "owner_name": d.owner_department.name,
                        "due_at": d.due_at,
                        "alert": d.alert,
                        "done_at": d.done_at,
                        "done_note": d.done_note,
                    }
                    for d in m.decisions
                ],
            }
            for m in case.meetings
        ],
        closed_at=case.closed_at,
        version=case.version,
        event_count=case.event_count,
        allowed_actions=access.allowed_actions(case, actor, now=now),
    )
    return out


def case_workflow_view() -> dict[str, Any]:
    return workflow_view(STATUS_LABELS, workflow.TRANSITIONS)
