"""Who may see a case, who may see its complainant, and what they may do with it now.

The window's staff, supervisors, administrators and auditors see every case; a department's handlers
see the cases their department leads, co-handles, or owns a meeting decision of. The complainant's
identity is the window's alone when the complainant asked to stay anonymous (匿名): ``may_see_identity``
is the one answer, and every view (API, pages, exports, case file) asks it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.casework import workflow
from haoban.casework.models import Case, CaseDecision, CaseDepartment
from haoban.db import utcnow
from haoban.errors import Conflict, DomainError, Forbidden, NotFound
from haoban.orders.access import objection
from haoban.orders.workflow import Transition

# Who sees every case (auditors read, never act; the platform sweeps).
CASE_WIDE_ROLES: frozenset[str] = frozenset(
    {Role.WINDOW, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR, Role.SYSTEM}
)
# Who sees an anonymous complainant's identity: the window's staff (and the platform, which sends them
# messages). Never a department, a supervisor or an auditor.
IDENTITY_ROLES: frozenset[str] = frozenset({Role.WINDOW, Role.SYSTEM})
# Who may open a case at the window or escalate an order or application into one.
OPEN_ROLES: tuple[Role, ...] = tuple(sorted(workflow.BY_ACTION["open"].roles - {Role.SYSTEM, Role.CITIZEN}))


def may_see_identity(actor: Actor, case: Case) -> bool:
    if actor.role in IDENTITY_ROLES:
        return True
    # Not anonymous: whoever works on the case may call the person back; auditors never need to.
    return not case.anonymous and actor.role in (CASE_WIDE_ROLES - {Role.AUDITOR}) | {Role.HANDLER}


def load(session: Session, code: str, *, lock: bool = False) -> Case | None:
    stmt = select(Case).where(Case.code == code)
    if lock:
        stmt = stmt.with_for_update(of=Case)
    return session.scalars(stmt).unique().first()


def _decision_owner(case_id: Any, department_id: int) -> ColumnElement[bool]:
    return exists(
        select(CaseDecision.id).where(
            CaseDecision.case_id == case_id, CaseDecision.owner_department_id == department_id
        )
    )


def visibility_clause(actor: Actor) -> ColumnElement[bool] | None:
    """SQL filter for the cases ``actor`` may see; None means no restriction."""
    if actor.role in CASE_WIDE_ROLES:
        return None
    if actor.role == Role.HANDLER and actor.department_id is not None:
        co = exists(
            select(CaseDepartment.case_id).where(
                CaseDepartment.case_id == Case.id, CaseDepartment.department_id == actor.department_id
            )
        )
        return or_(
            Case.lead_department_id == actor.department_id, co, _decision_owner(Case.id, actor.department_id)
        )
    return Case.id.is_(None)


def visible(actor: Actor, case: Case) -> bool:
    if actor.role in CASE_WIDE_ROLES:
        return True
    if actor.role == Role.HANDLER and actor.department_id is not None:
        dept = actor.department_id
        return (
            case.lead_department_id == dept
            or any(c.department_id == dept for c in case.co_departments)
            or any(d.owner_department_id == dept for m in case.meetings for d in m.decisions)
        )
    return False


def get_case(session: Session, *, code: str, actor: Actor, lock: bool = False) -> Case:
    case = load(session, code, lock=lock)
    if case is None or not visible(actor, case):
        raise NotFound(f"no case {code!r} that you can see")
    return case


def refusal(case: Any, t: Transition, actor: Actor, now: datetime) -> DomainError | None:
    """Why ``actor`` may not take ``t`` on ``case`` now (403 / 409), or None; a 409 names what is allowed."""
    found = _objection(case, t, actor, now)
    if isinstance(found, Conflict):
        found.detail["allowed_actions"] = allowed_actions(case, actor, now=now)
    return found


def _objection(case: Any, t: Transition, actor: Actor, now: datetime) -> DomainError | None:
    found = objection(case, t, actor, now, noun="case")
    if found is not None:
        return found
    # A department's handler acts only on cases their department works on.
    if actor.role == Role.HANDLER and not visible(actor, case):
        return NotFound(f"no case {case.code!r} that you can see")
    if (
        t.action == "conclude"
        and actor.role == Role.HANDLER
        and actor.department_id != case.lead_department_id
    ):
        return Forbidden("only the lead department's handlers (牵头单位) conclude a case")
    return None


def allowed_actions(case: Any, actor: Actor, *, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    return [a for a in workflow.PUBLIC_ACTIONS if _objection(case, workflow.BY_ACTION[a], actor, now) is None]
