"""Opening cases (at the window, from the portal, from a stuck order), listing them, their files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import Role
from haoban.casework import access, gate, obstacles, origins
from haoban.casework.models import Case, CaseEvent
from haoban.casework.schemas import CaseCreate
from haoban.casework.workflow import HANDLING_STATUSES, OPEN_STATUSES, CaseStatus
from haoban.db import utcnow
from haoban.errors import Invalid
from haoban.orders.casefile import GENESIS
from haoban.orders.models import Order
from haoban.orders.numbering import reserve_numbers
from haoban.orders.workflow import OPEN_STATUSES as ORDER_OPEN
from haoban.runtime import Runtime
from haoban.security.codes import public_code

HANDLING = [s.value for s in HANDLING_STATUSES]
# Who reads the case figures (the dashboard's readers and the window).
FIGURE_ROLES = (
    Role.WINDOW,
    Role.OPERATOR,
    Role.DISPATCHER,
    Role.SUPERVISOR,
    Role.ADMIN,
    Role.AUDITOR,
    Role.SYSTEM,
)
CODE_PREFIX = "BC"  # 办不成事 / business complaints: BC + yyyymmdd + 4 digits + 3 random digits


def _next_code(session: Session, rt: Runtime, at: datetime) -> str:
    day = at.astimezone(rt.settings.tz).strftime("%Y%m%d")
    # The orders' counter table, under keys of our own ("C" + yymmdd) so the sequences never meet.
    n = reserve_numbers(session, "C" + day[2:], 1)
    return public_code(CODE_PREFIX, day, n, width=4)


def open_case(
    session: Session, rt: Runtime, *, data: CaseCreate, actor: Actor, now: datetime | None = None
) -> Case:
    """Open a case through the gate (403 for roles that may not); link it to its origin's case file."""
    now = now or utcnow()
    if actor.role == Role.CITIZEN and data.origin_kind != "portal":
        raise Invalid("cases from the portal have origin_kind 'portal'", fields={"origin_kind": "portal"})
    if actor.role != Role.CITIZEN and data.origin_kind == "portal":
        raise Invalid("staff open cases at the window or from an order", fields={"origin_kind": "not portal"})
    concerned = (
        rt.directory.require_department(data.department, field="department") if data.department else None
    )
    case = Case(
        kind=data.kind,
        channel={"window": "window", "portal": "portal"}.get(data.origin_kind, "escalation"),
        origin_kind=data.origin_kind,
        origin_code=data.origin_code,
        subject=data.subject,
        content=data.content,
        obstacle=data.obstacle,
        item=data.item,
        concerned_department_id=concerned.id if concerned else None,
        anonymous=data.anonymous,
        complainant_name=data.complainant_name,
        complainant_phone=data.complainant_phone,
        complainant_id_number=data.complainant_id_number,
        company_name=data.company_name,
        company_uscc=data.company_uscc,
        status=None,
        received_at=now,
        created_at=now,
        event_count=0,
        last_hash=GENESIS,
        supervision_level=0,
        reopen_count=0,
        escalated=False,
    )
    case.code = _next_code(session, rt, now)

    def effect(step: gate.CaseStep) -> None:
        if data.origin_kind not in ("window", "portal"):
            origins.link(
                session,
                kind=data.origin_kind,
                code=data.origin_code or "",
                case_code=case.code,
                actor=actor,
                at=now,
            )
        # The file names the matter, never the person (it is shown to the departments).
        step.payload.update(
            kind=data.kind,
            origin_kind=data.origin_kind,
            origin_code=data.origin_code,
            obstacle=data.obstacle,
            item=data.item,
            department=concerned.code if concerned else None,
            anonymous=data.anonymous,
        )

    gate.transition(rt, case, action="open", actor=actor, at=now, session=session, effect=effect)
    return case


@dataclass
class CaseFilter:
    status: Sequence[str] | None = None
    kind: str | None = None
    obstacle: str | None = None
    department: str | None = None
    overdue: bool | None = None


def list_cases(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    filters: CaseFilter,
    page: int = 1,
    page_size: int = 50,
    now: datetime | None = None,
) -> tuple[list[Case], int]:
    stmt = select(Case)
    clause = access.visibility_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if filters.status:
        stmt = stmt.where(Case.status.in_(list(filters.status)))
    if filters.kind:
        stmt = stmt.where(Case.kind == filters.kind)
    if filters.obstacle:
        stmt = stmt.where(Case.obstacle == filters.obstacle)
    if filters.department:
        ref = rt.directory.require_department(filters.department, field="department")
        stmt = stmt.where(Case.lead_department_id == ref.id)
    if filters.overdue is not None:
        now = now or utcnow()
        late = Case.deadline.is_not(None) & (Case.deadline < now) & Case.closed_at.is_(None)
        late = late & Case.concluded_at.is_(None)
        stmt = stmt.where(late if filters.overdue else ~late)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Case.received_at.desc(), Case.id.desc()).offset((page - 1) * page_size).limit(page_size)
    ).unique()
    return list(rows), total


def case_events(session: Session, *, code: str, actor: Actor) -> list[CaseEvent]:
    case = access.get_case(session, code=code, actor=actor)
    return list(
        session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
    )


def figures(session: Session, *, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """Case figures by obstacle for the dashboard: open, overdue, solved on the spot, closed, 办成."""
    require_role(actor, *FIGURE_ROLES)
    now = now or utcnow()
    overdue = (Case.deadline.is_not(None)) & (Case.deadline < now) & Case.status.in_(HANDLING)
    rows = session.execute(
        select(
            Case.obstacle,
            func.count(),
            func.sum(case_when(Case.status != CaseStatus.CLOSED.value, 1)),
            func.sum(case_when(overdue, 1)),
            func.sum(case_when(Case.on_spot_note.is_not(None), 1)),
            func.sum(case_when(Case.status == CaseStatus.CLOSED.value, 1)),
            func.sum(case_when(Case.outcome == "done", 1)),
        ).group_by(Case.obstacle)
    ).all()
    out = []
    for obstacle, total, open_, late, on_spot, closed, done in rows:
        out.append(
            {
                "obstacle": obstacle,
                "label": obstacles.label(obstacle) if obstacle else "未注明",
                "total": total,
                "open": int(open_ or 0),
                "overdue": int(late or 0),
                "on_spot": int(on_spot or 0),
                "closed": int(closed or 0),
                "done": int(done or 0),
            }
        )
    out.sort(key=lambda r: (-r["total"], r["label"]))
    keys = ("total", "open", "overdue", "on_spot", "closed", "done")
    return {"by_obstacle": out, "totals": {k: sum(r[k] for r in out) for k in keys}}


def case_when(condition: Any, value: int) -> Any:
    return sql_case((condition, value), else_=0)


def stuck_orders(session: Session, *, limit: int = 20, now: datetime | None = None) -> list[Order]:
    """12345 orders a window might take on as cases: open past their deadline, supervised, or found
    unsatisfied at the call-back; without an open case already."""
    now = now or utcnow()
    taken = select(Case.origin_code).where(
        Case.origin_kind == "order", Case.status.in_([s.value for s in OPEN_STATUSES])
    )
    stmt = (
        select(Order)
        .where(
            Order.status.in_([s.value for s in ORDER_OPEN]),
            or_(
                Order.handle_deadline < now,
                Order.supervision_level > 0,
                Order.callback_result == "unsatisfied",
            ),
            Order.code.not_in(taken),
        )
        .order_by(Order.handle_deadline)
        .limit(limit)
    )
    return list(session.scalars(stmt).unique())
