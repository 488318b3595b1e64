"""The deadline sweep: turns orders yellow (预警) and red (超期), raises automatic 督办, notifies.

It reads precomputed warning times through an index, so a sweep over a large city costs little, and it
remembers the last alert per deadline so that running it again changes nothing. The automatic 督办 goes
through the gate like a supervisor's, as the platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.db import utcnow
from haoban.notifications.service import enqueue
from haoban.orders import gate
from haoban.orders.models import Order
from haoban.orders.workflow import HANDLING_STATUSES, Status
from haoban.runtime import Runtime
from haoban.sla import alerts


@dataclass
class SweepResult:
    warnings: int = 0
    overdue: int = 0
    supervised: int = 0


@dataclass(frozen=True)
class _Clock:
    """One of an order's two deadlines, as the sweep sees it."""

    name: str  # "sign" / "handle"
    statuses: tuple[str, ...]  # the states in which this clock runs
    supervise_when_overdue: bool
    warning: tuple[str, str]  # subject, body template
    overdue: tuple[str, str]


CLOCKS = (
    _Clock(
        "handle",
        tuple(s.value for s in HANDLING_STATUSES),
        True,
        ("即将超期", "工单 {code} 将于 {deadline} 到期，请抓紧办理。"),
        ("超期督办", "工单 {code} 已超过办理时限，系统已自动督办。"),
    ),
    _Clock(
        "sign",
        (Status.DISPATCHED.value,),
        False,
        ("请尽快签收", "工单 {code} 即将超过签收时限（{deadline}）。"),
        ("签收超时", "工单 {code} 超过签收时限仍未签收。"),
    ),
)


def sweep(session: Session, rt: Runtime, *, now: datetime | None = None, limit: int = 1000) -> SweepResult:
    now = now or utcnow()
    result = SweepResult()
    for clock in CLOCKS:
        _sweep_clock(session, rt, clock=clock, now=now, limit=limit, result=result)
    return result


def _sweep_clock(
    session: Session, rt: Runtime, *, clock: _Clock, now: datetime, limit: int, result: SweepResult
) -> None:
    for found in alerts.due(
        session,
        Order,
        deadline=getattr(Order, f"{clock.name}_deadline"),
        warn_at=getattr(Order, f"{clock.name}_warn_at"),
        alert=getattr(Order, f"{clock.name}_alert"),
        where=(Order.status.in_(clock.statuses),),
        now=now,
        limit=limit,
    ):
        order, level, deadline = found.record, found.level, found.deadline
        subject, body = clock.overdue if found.overdue else clock.warning
        if found.overdue:
            result.overdue += 1
        else:
            result.warnings += 1
        if found.overdue and clock.supervise_when_overdue:
            gate.transition(
                rt,
                order,
                action="supervise",
                actor=SYSTEM_ACTOR,
                at=now,
                session=session,
                payload={
                    "note": "办理超期，系统自动督办 (overdue: automatic supervision)",
                    "automatic": True,
                },
                effect=_raise_level,
            )
            result.supervised += 1
        enqueue(
            session,
            channel="internal",
            recipient=f"department:{rt.directory.department_code(order.lead_department_id) or 'hotline'}",
            subject=subject,
            body=body.format(code=order.code, deadline=deadline.isoformat()),
            order_id=order.id,
            dedupe_key=f"{clock.name}-{level}:{order.code}:{deadline.isoformat()}",
        )


def _raise_level(step: gate.Step) -> None:
    # The department hears of it through the overdue notice below, not a second 督办 message.
    step.order.supervision_level += 1
    step.payload["level"] = step.order.supervision_level
