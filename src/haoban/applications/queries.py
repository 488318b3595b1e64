"""Read side: lists of applications and the department inbox (green channel first, then deadline)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from haoban.applications import access
from haoban.applications.models import Application, ApplicationTask
from haoban.applications.workflow import CLOCK_TASK_STATUSES, OPEN_TASK_STATUSES
from haoban.auth.actors import Actor
from haoban.db import utcnow


def list_applications(
    session: Session,
    *,
    actor: Actor,
    status: list[str] | None = None,
    bundle: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> tuple[list[Application], int]:
    stmt = select(Application)
    clause = access.visibility_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if status:
        stmt = stmt.where(Application.status.in_(status))
    if bundle:
        stmt = stmt.where(Application.bundle_code == bundle)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Application.green_channel.is_(None), Application.submitted_at.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), total


INBOX_PAGE_SIZE = 50
INBOX_MAX_PAGE_SIZE = 200


def inbox(
    session: Session,
    *,
    actor: Actor,
    open_only: bool = True,
    page: int = 1,
    page_size: int = INBOX_PAGE_SIZE,
    now: datetime | None = None,
) -> tuple[list[tuple[ApplicationTask, Application]], int]:
    """One page of the tasks ``actor``'s department may act on, and how many there are in all.

    Order: green channel first (绿色通道), then the overdue ones whose clock runs (the department's
    to act on: a task waiting for the applicant's corrections is not), then by deadline and id, so
    pages are stable. Bounded: at most ``INBOX_MAX_PAGE_SIZE`` rows are read whatever the backlog.
    """
    now = now or utcnow()
    page = max(1, page)
    page_size = max(1, min(page_size, INBOX_MAX_PAGE_SIZE))
    where = []
    clause = access.task_clause(actor)
    if clause is not None:
        where.append(clause)
    if open_only:
        where.append(ApplicationTask.status.in_([s.value for s in OPEN_TASK_STATUSES]))
    total = session.scalar(select(func.count(ApplicationTask.id)).where(*where)) or 0
    overdue = case(
        (
            and_(
                ApplicationTask.status.in_([s.value for s in CLOCK_TASK_STATUSES]),
                ApplicationTask.due_at < now,
            ),
            0,
        ),
        else_=1,
    )
    stmt = (
        select(ApplicationTask, Application)
        .join(Application, Application.id == ApplicationTask.application_id)
        .where(*where)
        .order_by(ApplicationTask.green_channel.desc(), overdue, ApplicationTask.due_at, ApplicationTask.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return [(t, a) for t, a in session.execute(stmt).all()], total
