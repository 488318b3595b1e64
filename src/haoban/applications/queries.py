"""Read side: lists of applications and the department inbox (green channel first, then deadline)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.applications import access
from haoban.applications.models import Application, ApplicationTask
from haoban.applications.workflow import OPEN_TASK_STATUSES
from haoban.auth.actors import Actor


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


def inbox(
    session: Session, *, actor: Actor, open_only: bool = True, limit: int = 200
) -> list[tuple[ApplicationTask, Application]]:
    """The tasks ``actor``'s department may act on: green channel first (绿色通道), then by deadline."""
    stmt = select(ApplicationTask, Application).join(
        Application, Application.id == ApplicationTask.application_id
    )
    clause = access.task_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if open_only:
        stmt = stmt.where(ApplicationTask.status.in_([s.value for s in OPEN_TASK_STATUSES]))
    stmt = stmt.order_by(ApplicationTask.green_channel.desc(), ApplicationTask.due_at, ApplicationTask.id)
    return [(t, a) for t, a in session.execute(stmt.limit(limit)).all()]
