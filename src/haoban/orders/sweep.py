"""The deadline sweep: turns orders yellow (预警) and red (超期), raises automatic 督办, notifies.

It reads precomputed warning times through an index, so a sweep over a large city costs little, and it
remembers the last alert per deadline so that running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from haoban.auth.service import SYSTEM_ACTOR
from haoban.db import utcnow
from haoban.notifications.service import enqueue
from haoban.orders.models import Order
from haoban.orders.service import append_event
from haoban.orders.workflow import HANDLING_STATUSES, Status
from haoban.runtime import Runtime


@dataclass
class SweepResult:
    warnings: int = 0
    overdue: int = 0
    supervised: int = 0


def _dept_code(rt: Runtime, order: Order) -> str:
    ref = rt.directory.departments_by_id.get(order.lead_department_id) if order.lead_department_id else None
    return ref.code if ref else "hotline"


def sweep(session: Session, rt: Runtime, *, now: datetime | None = None, limit: int = 1000) -> SweepResult:
    now = now or utcnow()
    result = SweepResult()
    handling = [s.value for s in HANDLING_STATUSES]
    # Handling deadlines.
    stmt = (
        select(Order)
        .where(
            Order.status.in_(handling),
            Order.handle_warn_at <= now,
            or_(Order.handle_alert.is_(None), Order.handle_alert == "warning"),
        )
        .order_by(Order.handle_warn_at)
        .limit(limit)
        .with_for_update(of=Order, skip_locked=True)
    )
    for order in session.scalars(stmt).unique():
        dept = _dept_code(rt, order)
        if now > order.handle_deadline:
            order.handle_alert = "overdue"
            order.supervision_level += 1
            result.overdue += 1
            result.supervised += 1
            append_event(
                session,
                order,
                action="supervise",
                actor=SYSTEM_ACTOR,
                from_status=order.status,
                to_status=order.status,
                payload={
                    "note": "办理超期，系统自动督办 (overdue: automatic supervision)",
                    "level": order.supervision_level,
                    "automatic": True,
                },
                at=now,
            )
            enqueue(
                session,
                channel="internal",
                recipient=f"department:{dept}",
                subject="超期督办",
                body=f"工单 {order.code} 已超过办理时限，系统已自动督办。",
                order_id=order.id,
                dedupe_key=f"overdue:{order.code}:{order.handle_deadline.isoformat()}",
            )
        elif order.handle_alert is None:
            order.handle_alert = "warning"
            result.warnings += 1
            enqueue(
                session,
                channel="internal",
                recipient=f"department:{dept}",
                subject="即将超期",
                body=f"工单 {order.code} 将于 {order.handle_deadline.isoformat()} 到期，请抓紧办理。",
                order_id=order.id,
                dedupe_key=f"warning:{order.code}:{order.handle_deadline.isoformat()}",
            )
    # Sign deadlines: dispatched but not signed.
    stmt = (
        select(Order)
        .where(
            Order.status == Status.DISPATCHED.value,
            Order.sign_warn_at <= now,
            or_(Order.sign_alert.is_(None), Order.sign_alert == "warning"),
        )
        .order_by(Order.sign_warn_at)
        .limit(limit)
        .with_for_update(of=Order, skip_locked=True)
    )
    for order in session.scalars(stmt).unique():
        dept = _dept_code(rt, order)
        if order.sign_deadline is not None and now > order.sign_deadline:
            order.sign_alert = "overdue"
            result.overdue += 1
            enqueue(
                session,
                channel="internal",
                recipient=f"department:{dept}",
                subject="签收超时",
                body=f"工单 {order.code} 超过签收时限仍未签收。",
                order_id=order.id,
                dedupe_key=f"sign-overdue:{order.code}:{order.sign_deadline.isoformat()}",
            )
        elif order.sign_alert is None:
            order.sign_alert = "warning"
            result.warnings += 1
            enqueue(
                session,
                channel="internal",
                recipient=f"department:{dept}",
                subject="请尽快签收",
                body=f"工单 {order.code} 即将超过签收时限。",
                order_id=order.id,
                dedupe_key=f"sign-warning:{order.code}:{order.sign_deadline}",
            )
    return result
