"""The gate (唯一入口): the only way an order's status changes.

``transition`` looks the action up in the state table (``workflow``), asks ``access.refusal`` whether
this actor may take it on this order now (role, department scope, state, guards), checks the decision,
lets the ``before`` hooks object, applies the caller's effect, moves the order and appends the
case-file event through a journal, then runs the ``after`` hooks. Every caller comes through here:
the API and the pages (``actions.apply_action``), intake (registration and the dispatcher's first
move, on an order not stored yet), the fan-out of a master's reply to its merged duplicates, and the
deadline sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.errors import Invalid, NotFound
from haoban.orders import access, workflow
from haoban.orders.events import Journal, SessionJournal
from haoban.orders.models import OrderEvent
from haoban.orders.workflow import Status, Transition
from haoban.runtime import Runtime

if TYPE_CHECKING:
    from haoban.orders.schemas import ActionRequest


@dataclass
class Step:
    """One move through the gate, as effects and hooks see it.

    ``order`` is a stored ``Order``, or intake's draft of one not stored yet (then ``session`` is None).
    Effects and hooks add to ``payload``, which the case-file event records.
    """

    rt: Runtime
    session: Session | None
    order: Any
    transition: Transition
    actor: Actor
    at: datetime
    from_status: Status | None
    to_status: Status
    decision: str | None
    data: ActionRequest | None
    payload: dict[str, Any] = field(default_factory=dict)
    event: OrderEvent | None = None

    @property
    def action(self) -> str:
        return self.transition.action


Effect = Callable[[Step], None]


def transition(
    rt: Runtime,
    order: Any,
    *,
    action: str,
    actor: Actor,
    at: datetime,
    session: Session | None = None,
    journal: Journal | None = None,
    decision: str | None = None,
    data: ActionRequest | None = None,
    payload: dict[str, Any] | None = None,
    effect: Effect | None = None,
) -> Step:
    """Take ``action`` on ``order``: 403 / 409 when the table or a guard refuses, 422 for a bad decision.

    A stored order's event goes into ``session``; an order being registered passes a ``journal`` that
    keeps its events until the intake writer knows the tracking code.
    """
    if journal is None:
        assert session is not None, "a stored order moves inside a session"
        journal = SessionJournal(session)
    t = workflow.transition(action)
    if t is None:
        raise NotFound(f"unknown action {action!r}; actions are: {', '.join(workflow.PUBLIC_ACTIONS)}")
    refused = access.refusal(order, t, actor, at)
    if refused is not None:
        raise refused
    if t.decision_field and decision not in t.decisions:
        raise Invalid(
            f"{t.decision_field} must be one of: {', '.join(t.decisions)}",
            fields={t.decision_field: f"one of {', '.join(t.decisions)}"},
        )
    current = Status(order.status) if order.status is not None else None
    step = Step(
        rt=rt,
        session=session,
        order=order,
        transition=t,
        actor=actor,
        at=at,
        from_status=current,
        to_status=t.target(current, decision),
        decision=decision,
        data=data,
        payload=dict(payload or {}),
    )
    if decision is not None and t.decision_field:
        step.payload[t.decision_field] = decision
    topic = f"orders.{action}"
    rt.hooks.run_before(topic, step)
    if effect is not None:
        effect(step)
    order.status = step.to_status.value
    order.updated_at = at
    step.event = journal.append(
        order,
        action=action,
        actor=actor,
        from_status=current.value if current else None,
        to_status=step.to_status.value,
        payload=step.payload,
        at=at,
    )
    rt.hooks.run_after(topic, step)
    return step
