"""The reform list (从"堵点清单"到"改革清单"): closed cases and 12345 orders grouped by obstacle, service
item or department, with counts, a monthly trend and example cases, beside the proposals made of them.

Cases carry their obstacle; a 12345 order counts under an obstacle when its words name one
(``obstacles.Obstacle.words``), decided in SQL so a large city's orders are counted where they lie. Only
what the matter was is reported: never who complained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import Role
from haoban.casework import obstacles
from haoban.casework.models import Case, ReformProposal
from haoban.casework.workflow import CaseStatus
from haoban.db import utcnow
from haoban.directory.models import Category, Department
from haoban.errors import Invalid, NotFound
from haoban.orders.models import Order
from haoban.runtime import Runtime

READ_ROLES = (Role.WINDOW, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR, Role.SYSTEM)
WRITE_ROLES = (Role.WINDOW, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM)
GROUPINGS = ("obstacle", "item", "department")
PROPOSAL_STATUSES: dict[str, tuple[str, str]] = {
    "proposed": ("已提出", "Proposed"),
    "accepted": ("已采纳", "Accepted"),
    "in_progress": ("推进中", "In progress"),
    "done": ("已落实", "Done"),
    "rejected": ("不予采纳", "Rejected"),
}
EXAMPLES = 3


@dataclass
class Group:
    key: str
    label: str
    cases: int = 0
    orders: int = 0
    months: dict[str, int] = field(default_factory=dict)  # "2026-05" -> cases + orders
    examples: list[dict[str, Any]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.cases + self.orders

    def trend(self) -> str:
        """rising / falling / steady: the last month against the mean of the months before it."""
        counts = list(self.months.values())
        if len(counts) < 2:
            return "steady"
        last, before = counts[-1], sum(counts[:-1]) / (len(counts) - 1)
        if last > before * 1.2 and last - before >= 1:
            return "rising"
        if last < before * 0.8 and before - last >= 1:
            return "falling"
        return "steady"


def order_obstacle_expr() -> ColumnElement[str | None]:
    """The obstacle a 12345 order's words name, as SQL (None: none named)."""
    text = Order.subject + " " + Order.content
    whens = [
        (or_(*(text.contains(w, autoescape=True) for w in o.words)), o.code)
        for o in obstacles.OBSTACLES
        if o.words
    ]
    return case(*whens, else_=None)


def _month_keys(start: date, months: int) -> list[str]:
    keys = []
    y, m = start.year, start.month
    for _ in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return keys


def _period(rt: Runtime, months: int, until: date | None) -> tuple[datetime, datetime, list[str]]:
    if not 1 <= months <= 36:
        raise Invalid("months must be between 1 and 36", fields={"months": "1-36"})
    tz = rt.settings.tz
    end_day = until or utcnow().astimezone(tz).date()
    y, m = end_day.year, end_day.month - (months - 1)
    while m < 1:
        y, m = y - 1, m + 12
    start = date(y, m, 1)
    nxt = date(end_day.year + end_day.month // 12, end_day.month % 12 + 1, 1)
    return (
        datetime.combine(start, time(0), tzinfo=tz),
        datetime.combine(nxt, time(0), tzinfo=tz),
        _month_keys(start, months),
    )


def reform_list(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    by: str = "obstacle",
    months: int = 6,
    until: date | None = None,
) -> dict[str, Any]:
    """The reform list over the ``months`` calendar months up to ``until`` (default: this month)."""
    require_role(actor, *READ_ROLES)
    if by not in GROUPINGS:
        raise Invalid(
            f"group by one of: {', '.join(GROUPINGS)}", fields={"by": "obstacle / item / department"}
        )
    start, end, keys = _period(rt, months, until)
    tz = rt.settings.tz
    groups: dict[str, Group] = {}

    def group(key: str | None, label: str | None) -> Group:
        k = key or "-"
        if k not in groups:
            groups[k] = Group(k, label or ("未注明" if k == "-" else k), months=dict.fromkeys(keys, 0))
        return groups[k]

    # Closed cases, by the month they were received.
    dept = Department.__table__.alias("dept")
    cases = session.execute(
        select(
            Case.code,
            Case.subject,
            Case.obstacle,
            Case.item,
            Case.outcome,
            Case.received_at,
            dept.c.code,
            dept.c.name,
        )
        .outerjoin(dept, dept.c.id == func.coalesce(Case.concerned_department_id, Case.lead_department_id))
        .where(Case.status == CaseStatus.CLOSED.value, Case.received_at >= start, Case.received_at < end)
        .order_by(Case.received_at.desc())
    ).all()
    for c in cases:
        if by == "obstacle":
            g = group(c.obstacle, obstacles.label(c.obstacle))
        elif by == "item":
            g = group(c.item, c.item)
        else:
            g = group(c[6], c[7])
        g.cases += 1
        g.months[c.received_at.astimezone(tz).strftime("%Y-%m")] += 1
        if sum(1 for e in g.examples if e["kind"] == "case") < EXAMPLES:
            g.examples.append({"kind": "case", "code": c.code, "subject": c.subject, "outcome": c.outcome})

    # 12345 orders whose words name an obstacle, grouped in SQL by key and month.
    obstacle = order_obstacle_expr().label("obstacle")
    month = _city_month(session, Order.received_at, rt, at=start)
    if by == "obstacle":
        key_cols: tuple[Any, ...] = (obstacle,)
        joins: list[Any] = []
    elif by == "item":
        key_cols = (Category.name,)
        joins = [(Category, Category.id == Order.category_id)]
    else:
        key_cols = (Department.code, Department.name)
        joins = [(Department, Department.id == Order.lead_department_id)]
    base = select(*key_cols, month.label("month"), func.count().label("n")).select_from(Order)
    for target, on in joins:
        base = base.outerjoin(target, on)
    base = base.where(Order.received_at >= start, Order.received_at < end, obstacle.is_not(None))
    for row in session.execute(base.group_by(*key_cols, "month")).all():
        if by == "obstacle":
            g = group(row[0], obstacles.label(row[0]))
        elif by == "item":
            g = group(row[0], row[0])
        else:
            g = group(row[0], row[1])
        g.orders += row.n
        if row.month in g.months:
            g.months[row.month] += row.n
    _order_examples(session, groups, by=by, start=start, end=end)
    _attach_proposals(session, groups, by=by)
    rows = sorted(groups.values(), key=lambda g: (-g.total, g.key))
    return {
        "by": by,
        "months": keys,
        "from": start,
        "to": end,
        "groups": [
            {
                "key": g.key,
                "label": g.label,
                "cases": g.cases,
                "orders": g.orders,
                "total": g.total,
                "trend": g.trend(),
                "by_month": [g.months[k] for k in keys],
                "examples": g.examples,
                "proposals": g.proposals,
            }
            for g in rows
        ],
        "proposals": [proposal_view(p) for p in _proposals(session)],
    }


def _city_month(session: Session, column: Any, rt: Runtime, *, at: datetime) -> ColumnElement[str]:
    """``YYYY-MM`` of a stored UTC time in the city's zone, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(rt.settings.timezone, column), "YYYY-MM")
    offset = at.astimezone(rt.settings.tz).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return func.strftime("%Y-%m", column, f"{minutes:+d} minutes")


def _order_examples(
    session: Session, groups: dict[str, Group], *, by: str, start: datetime, end: datetime
) -> None:
    obstacle = order_obstacle_expr()
    for g in groups.values():
        if not g.orders:
            continue
        stmt = select(Order.code, Order.subject).where(
            Order.received_at >= start, Order.received_at < end, obstacle.is_not(None)
        )
        key = None if g.key == "-" else g.key
        if by == "obstacle":
            stmt = stmt.where(obstacle == key)
        elif by == "item":
            sub = select(Category.id).where(Category.name == key)
            stmt = stmt.where(Order.category_id.in_(sub) if key else Order.category_id.is_(None))
        else:
            sub = select(Department.id).where(Department.code == key)
            stmt = stmt.where(
                Order.lead_department_id.in_(sub) if key else Order.lead_department_id.is_(None)
            )
        for code, subject in session.execute(stmt.order_by(Order.received_at.desc()).limit(EXAMPLES)):
            g.examples.append({"kind": "order", "code": code, "subject": subject, "outcome": None})


def _proposals(session: Session) -> list[ReformProposal]:
    return list(session.scalars(select(ReformProposal).order_by(ReformProposal.id)).unique())


def _attach_proposals(session: Session, groups: dict[str, Group], *, by: str) -> None:
    for p in _proposals(session):
        key = {
            "obstacle": p.obstacle,
            "item": p.item,
            "department": p.owner_department.code if p.owner_department else None,
        }[by]
        if key and key in groups:
            groups[key].proposals.append(proposal_view(p))


def proposal_view(p: ReformProposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "obstacle": p.obstacle,
        "obstacle_label": obstacles.label(p.obstacle) if p.obstacle else None,
        "item": p.item,
        "owner": p.owner_department.code if p.owner_department else None,
        "owner_name": p.owner_department.name if p.owner_department else None,
        "status": p.status,
        "status_label": PROPOSAL_STATUSES[p.status][0],
        "note": p.note,
        "source_case": p.source_case.code if p.source_case else None,
        "created_by": p.created_by,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def create_proposal(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    title: str,
    obstacle: str | None,
    item: str | None,
    owner: str | None,
    note: str | None = None,
    source_case: Case | None = None,
    at: datetime | None = None,
) -> ReformProposal:
    require_role(actor, *WRITE_ROLES, Role.HANDLER)
    if obstacle and obstacle not in obstacles.CODES:
        raise Invalid(
            f"obstacle must be one of: {', '.join(obstacles.CODES)}", fields={"obstacle": "unknown"}
        )
    dept = rt.directory.require_department(owner, field="owner") if owner else None
    at = at or utcnow()
    p = ReformProposal(
        title=title,
        obstacle=obstacle,
        item=item,
        owner_department_id=dept.id if dept else None,
        status="proposed",
        note=note,
        source_case_id=source_case.id if source_case else None,
        created_by=actor.name,
        created_at=at,
        updated_at=at,
    )
    session.add(p)
    session.flush()
    return p


def update_proposal(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    proposal_id: int,
    status: str | None = None,
    owner: str | None = None,
    note: str | None = None,
) -> ReformProposal:
    require_role(actor, *WRITE_ROLES)
    proposal = (
        session.scalars(
            select(ReformProposal).where(ReformProposal.id == proposal_id).with_for_update(of=ReformProposal)
        )
        .unique()
        .first()
    )
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}")
    if status is not None and status not in PROPOSAL_STATUSES:
        raise Invalid(f"status must be one of: {', '.join(PROPOSAL_STATUSES)}", fields={"status": "unknown"})
    if owner:
        proposal.owner_department_id = rt.directory.require_department(owner, field="owner").id
    if status is not None:
        proposal.status = status
    if note is not None:
        proposal.note = note
    proposal.updated_at = utcnow()
    session.flush()
    session.refresh(proposal)  # the owner department follows the changed key
    return proposal


CSV_COLUMNS = ("group", "label", "cases", "orders", "total", "trend", "months", "examples", "proposals")


def csv_rows(report: dict[str, Any]) -> list[list[str]]:
    """The reform list as CSV rows (after the header ``CSV_COLUMNS``): one group a row."""
    months = report["months"]
    out = []
    for g in report["groups"]:
        out.append(
            [
                g["key"],
                g["label"],
                str(g["cases"]),
                str(g["orders"]),
                str(g["total"]),
                g["trend"],
                " ".join(f"{m}:{n}" for m, n in zip(months, g["by_month"], strict=True)),
                " | ".join(f"{e['code']} {e['subject']}" for e in g["examples"]),
                " | ".join(
                    f"{p['title']} [{p['status_label']}, {p['owner'] or '-'}]" for p in g["proposals"]
                ),
            ]
        )
    return out
