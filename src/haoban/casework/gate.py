"""The gate (唯一入口): the only way a case's status changes.

``transition`` looks the action up in the state table (``workflow``), asks ``access.refusal`` whether
this actor may take it on this case now, checks the decision, lets the ``before`` hooks object, applies
the caller's effect, moves the case and appends the case-file event, then runs the ``after`` hooks
(topic ``casework.<action>``). The API and pages (``actions.apply_action``), opening (``service``) and
the deadline sweep all come through here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.casework import access, events, workflow
from haoban.casework.models import Case, CaseEvent
from haoban.errors import Invalid, NotFound
from haoban.orders.workflow import Transition
from haoban.runtime import Runtime

if TYPE_CHECKING:
    from haoban.casework.schemas import CaseAction


@dataclass
class CaseStep:
    """One move through the gate, as effects and hooks see it; effects add to ``payload``."""

    rt: Runtime
    session: Session
    case: Case
    transition: Transition
    actor: Actor
    at: datetime
    from_status: str | None
    to_status: str
    decision: str | None
    data: CaseAction | None
    payload: dict[str, Any] = field(default_factory=dict)
    event: CaseEvent | None = None

    @property
    def action(self) -> str:
        return self.transition.action


CaseEffect = Callable[[CaseStep], None]


def transition(
    rt: Runtime,
    case: Case,
    *,
    action: str,
    actor: Actor,
    at: datetime,
    session: Session,
    decision: str | None = None,
    data: CaseAction | None = None,
    payload: dict[str, Any] | None = None,
    effect: CaseEffect | None = None,
) -> CaseStep:
    """Take ``action`` on ``case`` (a new, unsaved one for ``open``): 403 / 409 / 422 when refused."""
    t = workflow.BY_ACTION.get(action)
    if t is None:
        raise NotFound(f"unknown action {action!r}; actions are: {', '.join(workflow.PUBLIC_ACTIONS)}")
    refused = access.refusal(case, t, actor, at)
    if refused is not None:
        raise refused
    if t.decision_field and decision not in t.decisions:
        raise Invalid(
            f"{t.decision_field} must be one of: {', '.join(t.decisions)}",
            fields={t.decision_field: f"one of {', '.join(t.decisions)}"},
        )
    current = case.status
    step = CaseStep(
        rt=rt,
        session=session,
        case=case,
        transition=t,
        actor=actor,
        at=at,
        from_status=current,
        to_status=str(t.target(workflow.CaseStatus(current) if current else None, decision)),
        decision=decision,
        data=data,
        payload=dict(payload or {}),
    )
    if decision is not None and t.decision_field:
        step.payload[t.decision_field] = decision
    topic = f"casework.{action}"
    rt.hooks.run_before(topic, step)
    if effect is not None:
        effect(step)
    case.status = step.to_status
    case.updated_at = at
    if case.id is None:  # opening: the case needs its id before its first event
        session.add(case)
        session.flush()
    step.event = events.append(
        session,
        case,
        action=action,
        actor=actor,
        from_status=current,
        to_status=step.to_status,
        payload=step.payload,
        at=at,
    )
    rt.hooks.run_after(topic, step)
    return step
