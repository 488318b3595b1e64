"""KPIs and dashboard figures: plain functions over a session, one SQL aggregate each.

Every figure covers the orders **received** in a period ``[start, end)`` (UTC instants; the dashboard
picks the city's local days, ``Settings.timezone``), optionally narrowed to a district or a lead
department. Orders merged into a master (并单, status ``merged``) are left out everywhere: they follow
their master and would be counted twice. Rates are ``None`` when their denominator is zero, never a
division error.

The KPIs (``kpis``):

按时办结率 on-time rate
    numerator: dispatched orders that are finished (``closed`` / ``archived``) and whose last reply
    (``replied_at``) came no later than the handling deadline in force (``handle_deadline``, which
    includes approved extensions and a 重办 restart); denominator: dispatched finished orders that have
    a reply. "Dispatched" means the order reached a department (``dispatched_at`` is set).
办结率 closure rate
    numerator: dispatched orders that are ``closed`` or ``archived``; denominator: dispatched orders.
满意率 satisfaction rate
    numerator: orders whose call-back result (``callback_result``, the latest one) is ``satisfied`` or
    ``basically_satisfied``; denominator: orders with any call-back result (including ``unsatisfied``).
解决率 resolution rate
    numerator: dispatched finished orders (``closed`` / ``archived``) whose call-back result is not
    ``unsatisfied`` (closing despite 不满意 needs a reason and counts as unresolved); denominator:
    dispatched finished orders.
一次办结率 first-time resolution rate
    numerator: finished orders (``closed`` / ``archived``, any route — instant answers included) that
    were never reopened (``redo_count = 0``) and never re-dispatched after an upheld return;
    denominator: all finished orders.
派单准确率 dispatch accuracy
    ``1 − mis-dispatched / dispatched``: mis-dispatched orders are dispatched orders with at least one
    upheld return (退单审核 "uphold", recorded as a ``dispatch_corrections`` row with source
    ``return``). A rejected return means the dispatch was right and does not count against it.
自动派单率 auto-dispatch share
    numerator: dispatched orders whose dispatch source is the machine (``rule`` or ``model``);
    denominator: dispatched orders. An order held for a person and then dispatched by a dispatcher is
    ``human``.

Volumes: ``received`` (all orders but merged), ``finished`` (closed or archived), ``open`` (any open
status), ``overdue_open`` (in a handling status past ``handle_deadline`` at ``now``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from haoban.config import city_tz
from haoban.directory.service import DirectorySnapshot
from haoban.dispatch.models import DispatchCorrection
from haoban.orders.models import Order
from haoban.orders.overdue import late_clause, overdue_clause
from haoban.orders.workflow import HANDLING_STATUSES, OPEN_STATUSES, Status

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[str, ...] = ("day", "week", "month")

FINISHED = (Status.CLOSED.value, Status.ARCHIVED.value)
SATISFIED = ("satisfied", "basically_satisfied")
AUTO_SOURCES = ("rule", "model")
KPI_NAMES = (
    "on_time_rate",
    "closure_rate",
    "satisfaction_rate",
    "resolution_rate",
    "first_time_rate",
    "dispatch_accuracy",
    "auto_dispatch_share",
)


@dataclass(frozen=True)
class Scope:
    """Which orders a figure covers: received in ``[start, end)``, optionally one district / department."""

    start: datetime
    end: datetime
    district_id: int | None = None
    department_id: int | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [
            Order.received_at >= self.start,
            Order.received_at < self.end,
            Order.status != Status.MERGED.value,
        ]
        if self.district_id is not None:
            out.append(Order.district_id == self.district_id)
        if self.department_id is not None:
            out.append(Order.lead_department_id == self.department_id)
        return out


def local_day_start(day: date) -> datetime:
    """The UTC instant at which a local day (the city's) starts."""
    return datetime.combine(day, time.min, tzinfo=city_tz()).astimezone(UTC)


def scope_for_days(
    first: date, last: date, *, district_id: int | None = None, department_id: int | None = None
) -> Scope:
    """Local days ``first`` … ``last`` inclusive."""
    return Scope(
        local_day_start(first), local_day_start(last + timedelta(days=1)), district_id, department_id
    )


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _count_if(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def kpis(session: Session, *, scope: Scope, now: datetime) -> dict[str, Any]:
    """The headline KPIs and volumes of ``scope`` (see the module docstring for the definitions)."""
    dispatched = Order.dispatched_at.is_not(None)
    finished = Order.status.in_(FINISHED)
    upheld_return = exists(
        select(literal(1)).where(
            DispatchCorrection.order_id == Order.id, DispatchCorrection.source == "return"
        )
    )
    row = session.execute(
        select(
            func.count().label("received"),
            _count_if(dispatched).label("dispatched"),
            _count_if(finished).label("finished"),
            _count_if(and_(dispatched, finished)).label("dispatched_finished"),
            _count_if(and_(dispatched, finished, Order.replied_at.is_not(None))).label("finished_replied"),
            _count_if(
                and_(
                    dispatched,
                    finished,
                    Order.replied_at.is_not(None),
                    Order.replied_at <= Order.handle_deadline,
                )
            ).label("on_time"),
            _count_if(Order.callback_result.is_not(None)).label("called_back"),
            _count_if(Order.callback_result.in_(SATISFIED)).label("satisfied"),
            _count_if(
                and_(
                    dispatched,
                    finished,
                    or_(Order.callback_result.is_(None), Order.callback_result != "unsatisfied"),
                )
            ).label("resolved"),
            _count_if(and_(dispatched, Order.dispatch_source.in_(AUTO_SOURCES))).label("auto_dispatched"),
            _count_if(Order.status.in_([s.value for s in OPEN_STATUSES])).label("open"),
            _count_if(overdue_clause(now)).label("overdue_open"),
            _count_if(and_(finished, Order.redo_count > 0)).label("finished_redone"),
        ).where(*scope.clauses())
    ).one()
    # Orders with an upheld return, in the same index range scan (a correlated lookup per row).
    returned = session.execute(
        select(func.count(), _count_if(finished), _count_if(and_(finished, Order.redo_count > 0)))
        .select_from(Order)
        .where(*scope.clauses(), dispatched, upheld_return)
    ).one()
    misdispatched = int(returned[0] or 0)
    finished_returned = int(returned[1] or 0)
    # Finished orders both redone and returned would be subtracted twice: add the overlap back.
    overlap = int(returned[2] or 0)
    first_time = row.finished - row.finished_redone - finished_returned + overlap
    counts = {k: int(v or 0) for k, v in row._mapping.items()}
    counts.update(misdispatched=misdispatched, first_time=first_time)
    return {
        "period": {"start": scope.start, "end": scope.end},
        "counts": counts,
        "on_time_rate": _rate(counts["on_time"], counts["finished_replied"]),
        "closure_rate": _rate(counts["dispatched_finished"], counts["dispatched"]),
        "satisfaction_rate": _rate(counts["satisfied"], counts["called_back"]),
        "resolution_rate": _rate(counts["resolved"], counts["dispatched_finished"]),
        "first_time_rate": _rate(first_time, counts["finished"]),
        "dispatch_accuracy": None
        if not counts["dispatched"]
        else round(1 - misdispatched / counts["dispatched"], 4),
        "auto_dispatch_share": _rate(counts["auto_dispatched"], counts["dispatched"]),
    }


def _bucket_expr(session: Session, bucket: Bucket) -> Any:
    """Local day / week (Monday) / month of ``received_at`` in the city's zone, as 'YYYY-MM-DD' text."""
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
    tz = city_tz()
    if session.get_bind().dialect.name == "sqlite":
        # Stored as naive UTC text. A fixed offset is exact for zones without daylight saving (China has
        # had none since 1991); PostgreSQL below converts with the zone's full rules.
        offset = tz.utcoffset(datetime.now(UTC).replace(tzinfo=None))
        shift = f"{offset.total_seconds() / 3600:+g} hours" if offset is not None else "+0 hours"
        if bucket == "day":
            return func.date(Order.received_at, shift)
        if bucket == "week":
            return func.date(Order.received_at, shift, "-6 days", "weekday 1")
        return func.strftime("%Y-%m-01", Order.received_at, shift)
    local = func.timezone(tz.key, Order.received_at)
    return func.to_char(func.date_trunc(bucket, local), "YYYY-MM-DD")


def trend(session: Session, *, scope: Scope, bucket: Bucket = "day") -> list[dict[str, Any]]:
    """Per local day / week / month of receipt: orders received, finished so far, finished on time."""
    b = _bucket_expr(session, bucket).label("bucket")
    finished = Order.status.in_(FINISHED)
    rows = session.execute(
        select(
            b,
            func.count().label("received"),
            _count_if(finished).label("finished"),
            _count_if(
                and_(finished, Order.replied_at.is_not(None), Order.replied_at <= Order.handle_deadline)
            ).label("on_time"),
        )
        .where(*scope.clauses())
        .group_by(b)
        .order_by(b)
    ).all()
    return [
        {
            "bucket": str(r.bucket),
            "received": int(r.received),
            "finished": int(r.finished),
            "on_time": int(r.on_time),
        }
        for r in rows
    ]


def category_mix(
    session: Session, *, scope: Scope, directory: DirectorySnapshot, level: int = 1
) -> list[dict[str, Any]]:
    """Orders per category, rolled up to ``level`` (1 = top of the tree); uncategorised as ``None``."""
    rows = session.execute(
        select(Order.category_id, func.count()).where(*scope.clauses()).group_by(Order.category_id)
    ).all()
    totals: dict[str | None, int] = {}
    names: dict[str | None, str] = {None: ""}
    for category_id, n in rows:
        ref = directory.categories_by_id.get(category_id) if category_id is not None else None
        key: str | None = None
        if ref is not None:
            key = ref.ancestors[min(level, len(ref.ancestors)) - 1]
            top = directory.categories.get(key)
            names[key] = top.name if top else key
        totals[key] = totals.get(key, 0) + int(n)
    out = [{"code": k, "name": names.get(k, k or ""), "orders": v} for k, v in totals.items()]
    return sorted(out, key=lambda r: (-r["orders"], r["code"] or "~"))


def district_mix(session: Session, *, scope: Scope, directory: DirectorySnapshot) -> list[dict[str, Any]]:
    """Orders, finished orders and overdue open orders per district; no district as ``None``."""
    finished = Order.status.in_(FINISHED)
    rows = session.execute(
        select(Order.district_id, func.count(), _count_if(finished))
        .where(*scope.clauses())
        .group_by(Order.district_id)
    ).all()
    out = []
    for district_id, n, done in rows:
        ref = directory.districts_by_id.get(district_id) if district_id is not None else None
        out.append(
            {
                "code": ref.code if ref else None,
                "name": ref.name if ref else "",
                "orders": int(n),
                "finished": int(done or 0),
                "closure_rate": _rate(int(done or 0), int(n)),
            }
        )
    return sorted(out, key=lambda r: (-r["orders"], r["code"] or "~"))


def channel_mix(session: Session, *, scope: Scope) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Order.channel, func.count()).where(*scope.clauses()).group_by(Order.channel)
    ).all()
    return sorted(({"channel": c, "orders": int(n)} for c, n in rows), key=lambda r: -r["orders"])


def department_deadlines(
    session: Session,
    *,
    now: datetime,
    directory: DirectorySnapshot,
    department_id: int | None = None,
) -> list[dict[str, Any]]:
    """Open orders in a handling status per lead department: overdue, warning (yellow), on time.

    Warning: the handling deadline has not passed but its warning instant (``handle_warn_at``, the
    configured share of the time used) has. Independent of when the orders were received.
    """
    handling = [s.value for s in HANDLING_STATUSES]
    overdue = late_clause(now)  # with the handling statuses below: the orders list's overdue rule
    warning = and_(
        Order.handle_deadline >= now, Order.handle_warn_at.is_not(None), Order.handle_warn_at <= now
    )
    stmt = (
        select(Order.lead_department_id, func.count(), _count_if(overdue), _count_if(warning))
        .where(Order.status.in_(handling), Order.lead_department_id.is_not(None))
        .group_by(Order.lead_department_id)
    )
    if department_id is not None:
        stmt = stmt.where(Order.lead_department_id == department_id)
    out = []
    for dept_id, n, late, warn in session.execute(stmt).all():
        ref = directory.departments_by_id.get(dept_id)
        out.append(
            {
                "code": ref.code if ref else str(dept_id),
                "name": ref.name if ref else str(dept_id),
                "open": int(n),
                "overdue": int(late or 0),
                "warning": int(warn or 0),
                "on_time": int(n) - int(late or 0) - int(warn or 0),
            }
        )
    return sorted(out, key=lambda r: (-r["overdue"], -r["warning"], r["code"]))


def dashboard(
    session: Session, *, scope: Scope, now: datetime, directory: DirectorySnapshot, bucket: Bucket = "day"
) -> dict[str, Any]:
    """Everything the city dashboard shows, in one call (what ``bench/dashboard.py`` times)."""
    return {
        "kpis": kpis(session, scope=scope, now=now),
        "trend": trend(session, scope=scope, bucket=bucket),
        "categories": category_mix(session, scope=scope, directory=directory),
        "districts": district_mix(session, scope=scope, directory=directory),
        "channels": channel_mix(session, scope=scope),
    }


def today_local(now: datetime) -> date:
    return now.astimezone(city_tz()).date()


def resolve_scope(
    directory: DirectorySnapshot,
    *,
    now: datetime,
    first: date | None = None,
    last: date | None = None,
    district: str | None = None,
    department: str | None = None,
    default_days: int = 30,
) -> Scope:
    """A scope from user parameters: local days (default: the last ``default_days`` days up to today)
    and district / department codes. Raises ``Invalid`` naming the parameter at fault."""
    from haoban.errors import Invalid

    errors: dict[str, str] = {}
    last = last or today_local(now)
    first = first or last - timedelta(days=default_days - 1)
    if first > last:
        errors["from"] = "must not be after 'to'"
    if (last - first).days > 3660:
        errors["from"] = "a period of at most ten years"
    ref = directory.lookup_district(district, errors=errors) if district else None
    dref = directory.lookup_department(department, errors=errors, active=False) if department else None
    district_id = ref.id if ref else None
    department_id = dref.id if dref else None
    if errors:
        raise Invalid("the period or filter is not valid", fields=errors)
    return scope_for_days(first, last, district_id=district_id, department_id=department_id)
