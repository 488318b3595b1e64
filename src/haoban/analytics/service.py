"""KPIs and dashboard figures: plain functions over a session.

Each figure adds up the daily roll-ups (``haoban.analytics.models``) for the whole past days of its
period that are built and unchanged since, and aggregates the order rows for the rest (today, partial
days, days changed since their last build): ``plan_for`` splits the period. ``dashboard(...,
rollups=False)`` computes everything from the order rows; the tests hold the two equal.

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

from haoban.analytics.models import (
    ALL,
    NONE,
    ROLLED_COUNTS,
    DashboardDaily,
    DashboardDailyMix,
    DashboardDay,
    DashboardMonth,
    DashboardMonthlyMix,
)
from haoban.config import city_tz
from haoban.db import utcnow
from haoban.directory.service import DirectorySnapshot
from haoban.dispatch.models import DispatchCorrection
from haoban.orders.models import Order, OrderDayMark
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


# --- where each part of a scope is read from ----------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Which part of a scope is read from the daily roll-ups (``rolled``: inclusive runs of local days)
    and which from the order rows (``live``: ``[start, end)`` instants). Together they cover the scope
    exactly once. ``months`` (first days) are whole calendar months inside ``rolled`` whose mix is also
    summed per month: the mixes read those from the monthly rows."""

    rolled: tuple[tuple[date, date], ...]
    live: tuple[tuple[datetime, datetime], ...]
    months: tuple[date, ...] = ()


def raw_plan(scope: Scope) -> Plan:
    """Everything from the order rows (what the roll-ups are checked against)."""
    return Plan((), ((scope.start, scope.end),))


def plan_for(session: Session, *, scope: Scope, now: datetime) -> Plan:
    """Whole local days before today that are built and carry no change mark come from the roll-ups;
    today, partial days at the edges and days changed since their build come from the order rows."""
    tz = city_tz()
    first = scope.start.astimezone(tz).date()
    if local_day_start(first) < scope.start:
        first += timedelta(days=1)
    last = min(scope.end.astimezone(tz).date() - timedelta(days=1), today_local(now) - timedelta(days=1))
    if first > last:
        return raw_plan(scope)
    built = set(
        session.scalars(select(DashboardDay.day).where(DashboardDay.day >= first, DashboardDay.day <= last))
    )
    if not built:
        return raw_plan(scope)
    marked = set(
        session.scalars(
            select(OrderDayMark.day).where(OrderDayMark.day >= first, OrderDayMark.day <= last).distinct()
        )
    )
    runs: list[list[date]] = []
    for day in sorted(built - marked):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    live: list[tuple[datetime, datetime]] = []
    cursor = scope.start
    for a, b in runs:
        if cursor < local_day_start(a):
            live.append((cursor, local_day_start(a)))
        cursor = local_day_start(b + timedelta(days=1))
    if cursor < scope.end:
        live.append((cursor, scope.end))
    whole = [
        m
        for m in session.scalars(
            select(DashboardMonth.month).where(DashboardMonth.month >= first, DashboardMonth.month <= last)
        )
        if any(a <= m and month_last(m) <= b for a, b in runs)
    ]
    return Plan(tuple((a, b) for a, b in runs), tuple(live), tuple(sorted(whole)))


def month_last(month: date) -> date:
    """The last day of the calendar month that starts on ``month``."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _without_months(runs: tuple[tuple[date, date], ...], months: set[date]) -> list[tuple[date, date]]:
    """``runs`` of days less the days of ``months`` (each wholly inside one run)."""
    out: list[tuple[date, date]] = []
    for a, b in runs:
        start = a
        for m in sorted(x for x in months if a <= x <= b):
            if start < m:
                out.append((start, m - timedelta(days=1)))
            start = month_last(m) + timedelta(days=1)
        if start <= b:
            out.append((start, b))
    return out


def _live_clauses(scope: Scope, plan: Plan) -> list[ColumnElement[bool]]:
    ranges = [and_(Order.received_at >= a, Order.received_at < b) for a, b in plan.live]
    out = [ranges[0] if len(ranges) == 1 else or_(*ranges), Order.status != Status.MERGED.value]
    # "+ 0": the few live days are a short range of ix_orders_dashboard; SQLite's planner would
    # otherwise walk the one-column district / department index over the whole year (~3 s).
    if scope.district_id is not None:
        out.append(Order.district_id + 0 == scope.district_id)
    if scope.department_id is not None:
        out.append(Order.lead_department_id + 0 == scope.department_id)
    return out


def _grain(scope: Scope) -> tuple[int, int]:
    return (
        ALL if scope.district_id is None else scope.district_id,
        ALL if scope.department_id is None else scope.department_id,
    )


def _rolled_days(column: Any, plan: Plan | list[tuple[date, date]]) -> ColumnElement[bool]:
    runs = plan.rolled if isinstance(plan, Plan) else plan
    ranges = [column.between(a, b) for a, b in runs]
    return ranges[0] if len(ranges) == 1 else or_(*ranges)


# --- the counts every figure is made of (one definition for the raw rows and the roll-ups) ----------


def order_counts() -> list[Any]:
    """Labelled aggregate expressions over ``orders``: the roll-up columns up to ``on_time_any``."""
    dispatched = Order.dispatched_at.is_not(None)
    finished = Order.status.in_(FINISHED)
    replied_in_time = and_(Order.replied_at.is_not(None), Order.replied_at <= Order.handle_deadline)
    return [
        func.count().label("received"),
        _count_if(dispatched).label("dispatched"),
        _count_if(finished).label("finished"),
        _count_if(and_(dispatched, finished)).label("dispatched_finished"),
        _count_if(and_(dispatched, finished, Order.replied_at.is_not(None))).label("finished_replied"),
        _count_if(and_(dispatched, finished, replied_in_time)).label("on_time"),
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
        _count_if(and_(finished, Order.redo_count > 0)).label("finished_redone"),
        # the trend's "finished on time" counts every finished order with a reply, dispatched or not
        _count_if(and_(finished, replied_in_time)).label("on_time_any"),
    ]


def returned_counts() -> tuple[list[ColumnElement[bool]], list[Any]]:
    """Dispatched orders with an upheld return (one correlated lookup per row of the scan)."""
    finished = Order.status.in_(FINISHED)
    upheld_return = exists(
        select(literal(1)).where(
            DispatchCorrection.order_id == Order.id, DispatchCorrection.source == "return"
        )
    )
    return [Order.dispatched_at.is_not(None), upheld_return], [
        func.count().label("misdispatched"),
        _count_if(finished).label("finished_returned"),
        # finished orders both redone and returned: subtracted twice from 一次办结, added back once
        _count_if(and_(finished, Order.redo_count > 0)).label("returned_redone"),
    ]


def _raw_counts(session: Session, where: list[ColumnElement[bool]]) -> dict[str, int]:
    row = session.execute(select(*order_counts()).where(*where)).one()
    extra, columns = returned_counts()
    returned = session.execute(select(*columns).select_from(Order).where(*where, *extra)).one()
    return {k: int(v or 0) for k, v in (*row._mapping.items(), *returned._mapping.items())}


def _rolled_counts(session: Session, scope: Scope, plan: Plan) -> dict[str, int]:
    district_key, department_key = _grain(scope)
    row = session.execute(
        select(
            *(func.coalesce(func.sum(getattr(DashboardDaily, c)), 0).label(c) for c in ROLLED_COUNTS)
        ).where(
            DashboardDaily.district_key == district_key,
            DashboardDaily.department_key == department_key,
            _rolled_days(DashboardDaily.day, plan),
        )
    ).one()
    return {k: int(v or 0) for k, v in row._mapping.items()}


def _counts(session: Session, scope: Scope, plan: Plan) -> dict[str, int]:
    counts = dict.fromkeys(ROLLED_COUNTS, 0)
    parts = []
    if plan.live:
        parts.append(_raw_counts(session, _live_clauses(scope, plan)))
    if plan.rolled:
        parts.append(_rolled_counts(session, scope, plan))
    for part in parts:
        for k, v in part.items():
            counts[k] += v
    return counts


def _overdue_open(session: Session, scope: Scope, now: datetime) -> int:
    """Open orders overdue at ``now`` (the one rule: ``orders.overdue``): moves with the clock, so
    always counted from the order rows (``ix_orders_status_deadline`` keeps it to the overdue ones)."""
    where = [overdue_clause(now), Order.received_at >= scope.start, Order.received_at < scope.end]
    # "+ 0" keeps SQLite's planner off the one-column district / department indexes (a year of one
    # district through them took ~2 s at 1,000,000 orders): the overdue index holds both columns.
    if scope.district_id is not None:
        where.append(Order.district_id + 0 == scope.district_id)
    if scope.department_id is not None:
        where.append(Order.lead_department_id + 0 == scope.department_id)
    return int(session.scalar(select(func.count()).select_from(Order).where(*where)) or 0)


def _plan(session: Session, scope: Scope, now: datetime | None, plan: Plan | None) -> Plan:
    return plan if plan is not None else plan_for(session, scope=scope, now=now or utcnow())


def kpis(session: Session, *, scope: Scope, now: datetime, plan: Plan | None = None) -> dict[str, Any]:
    """The headline KPIs and volumes of ``scope`` (see the module docstring for the definitions)."""
    c = _counts(session, scope, _plan(session, scope, now, plan))
    first_time = c["finished"] - c["finished_redone"] - c["finished_returned"] + c["returned_redone"]
    counts = {k: c[k] for k in ROLLED_COUNTS[:11]}
    counts["overdue_open"] = _overdue_open(session, scope, now)
    counts["finished_redone"] = c["finished_redone"]
    counts.update(misdispatched=c["misdispatched"], first_time=first_time)
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
        else round(1 - counts["misdispatched"] / counts["dispatched"], 4),
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


def _bucket_of(day: date, bucket: Bucket) -> str:
    """The same bucket as ``_bucket_expr`` for a local day of the roll-ups."""
    if bucket == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    if bucket == "month":
        return day.replace(day=1).isoformat()
    return day.isoformat()


def trend(
    session: Session,
    *,
    scope: Scope,
    bucket: Bucket = "day",
    now: datetime | None = None,
    plan: Plan | None = None,
) -> list[dict[str, Any]]:
    """Per local day / week (Monday) / month of receipt: orders received, finished so far, finished on
    time (every finished order whose reply came by its deadline)."""
    b = _bucket_expr(session, bucket).label("bucket")
    plan = _plan(session, scope, now, plan)
    totals: dict[str, list[int]] = {}

    def add(key: str, received: Any, finished: Any, on_time: Any) -> None:
        t = totals.setdefault(key, [0, 0, 0])
        t[0] += int(received or 0)
        t[1] += int(finished or 0)
        t[2] += int(on_time or 0)

    if plan.live:
        counts = {c.name: c for c in order_counts()}
        for r in session.execute(
            select(b, counts["received"], counts["finished"], counts["on_time_any"])
            .where(*_live_clauses(scope, plan))
            .group_by(b)
        ).all():
            add(str(r.bucket), r.received, r.finished, r.on_time_any)
    if plan.rolled:
        district_key, department_key = _grain(scope)
        for day, received, finished, on_time in session.execute(
            select(
                DashboardDaily.day,
                DashboardDaily.received,
                DashboardDaily.finished,
                DashboardDaily.on_time_any,
            ).where(
                DashboardDaily.district_key == district_key,
                DashboardDaily.department_key == department_key,
                _rolled_days(DashboardDaily.day, plan),
            )
        ).all():
            if received:
                add(_bucket_of(day, bucket), received, finished, on_time)
    return [
        {"bucket": k, "received": v[0], "finished": v[1], "on_time": v[2]} for k, v in sorted(totals.items())
    ]


def _mix(session: Session, scope: Scope, plan: Plan, kind: str, column: Any) -> dict[Any, int]:
    """Orders per value of ``column`` (category_id or channel), live and rolled up."""
    totals: dict[Any, int] = {}
    if plan.live:
        for value, n in session.execute(
            select(column, func.count()).where(*_live_clauses(scope, plan)).group_by(column)
        ).all():
            totals[value] = totals.get(value, 0) + int(n)
    if plan.rolled:
        district_key, department_key = _grain(scope)

        def add(key: str, n: Any) -> None:
            value: Any = key
            if kind == "category":
                value = int(key) if key else None
            totals[value] = totals.get(value, 0) + int(n or 0)

        summed: set[date] = set()
        if plan.months:
            # A month's sums are read with its DashboardMonth row in one statement: a month whose day
            # was rebuilt since the plan (sums deleted with it) is missing here and read by day below.
            mm = DashboardMonthlyMix
            for month, key, n in session.execute(
                select(DashboardMonth.month, mm.key, mm.orders)
                .outerjoin(
                    mm,
                    and_(
                        mm.month == DashboardMonth.month,
                        mm.district_key == district_key,
                        mm.department_key == department_key,
                        mm.kind == kind,
                    ),
                )
                .where(DashboardMonth.month.in_(plan.months))
            ).all():
                summed.add(month)
                if key is not None:
                    add(key, n)
        days = _without_months(plan.rolled, summed)
        if days:
            for key, n in session.execute(
                select(DashboardDailyMix.key, func.sum(DashboardDailyMix.orders))
                .where(
                    DashboardDailyMix.district_key == district_key,
                    DashboardDailyMix.department_key == department_key,
                    DashboardDailyMix.kind == kind,
                    _rolled_days(DashboardDailyMix.day, days),
                )
                .group_by(DashboardDailyMix.key)
            ).all():
                add(key, n)
    return totals


def category_mix(
    session: Session,
    *,
    scope: Scope,
    directory: DirectorySnapshot,
    level: int = 1,
    now: datetime | None = None,
    plan: Plan | None = None,
) -> list[dict[str, Any]]:
    """Orders per category, rolled up to ``level`` (1 = top of the tree); uncategorised as ``None``."""
    rows = _mix(session, scope, _plan(session, scope, now, plan), "category", Order.category_id)
    totals: dict[str | None, int] = {}
    names: dict[str | None, str] = {None: ""}
    for category_id, n in rows.items():
        ref = directory.categories_by_id.get(category_id) if category_id is not None else None
        key: str | None = None
        if ref is not None:
            key = ref.ancestors[min(level, len(ref.ancestors)) - 1]
            top = directory.categories.get(key)
            names[key] = top.name if top else key
        totals[key] = totals.get(key, 0) + int(n)
    out = [{"code": k, "name": names.get(k, k or ""), "orders": v} for k, v in totals.items()]
    return sorted(out, key=lambda r: (-r["orders"], r["code"] or "~"))


def district_mix(
    session: Session,
    *,
    scope: Scope,
    directory: DirectorySnapshot,
    now: datetime | None = None,
    plan: Plan | None = None,
) -> list[dict[str, Any]]:
    """Orders, finished orders and overdue open orders per district; no district as ``None``."""
    plan = _plan(session, scope, now, plan)
    totals: dict[int | None, list[int]] = {}
    if plan.live:
        finished = Order.status.in_(FINISHED)
        for district_id, n, done in session.execute(
            select(Order.district_id, func.count(), _count_if(finished))
            .where(*_live_clauses(scope, plan))
            .group_by(Order.district_id)
        ).all():
            t = totals.setdefault(district_id, [0, 0])
            t[0] += int(n)
            t[1] += int(done or 0)
    if plan.rolled:
        _, department_key = _grain(scope)
        where = [
            DashboardDaily.department_key == department_key,
            _rolled_days(DashboardDaily.day, plan),
        ]
        where.append(
            DashboardDaily.district_key != ALL
            if scope.district_id is None
            else DashboardDaily.district_key == scope.district_id
        )
        for key, n, done in session.execute(
            select(
                DashboardDaily.district_key,
                func.sum(DashboardDaily.received),
                func.sum(DashboardDaily.finished),
            )
            .where(*where)
            .group_by(DashboardDaily.district_key)
        ).all():
            if not n:
                continue
            t = totals.setdefault(None if key == NONE else int(key), [0, 0])
            t[0] += int(n)
            t[1] += int(done or 0)
    out = []
    for district_id, (n, done) in totals.items():
        ref = directory.districts_by_id.get(district_id) if district_id is not None else None
        out.append(
            {
                "code": ref.code if ref else None,
                "name": ref.name if ref else "",
                "orders": n,
                "finished": done,
                "closure_rate": _rate(done, n),
            }
        )
    return sorted(out, key=lambda r: (-r["orders"], r["code"] or "~"))


def channel_mix(
    session: Session, *, scope: Scope, now: datetime | None = None, plan: Plan | None = None
) -> list[dict[str, Any]]:
    rows = _mix(session, scope, _plan(session, scope, now, plan), "channel", Order.channel)
    return sorted(
        ({"channel": c, "orders": n} for c, n in rows.items() if n),
        key=lambda r: (-r["orders"], r["channel"]),
    )


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
    session: Session,
    *,
    scope: Scope,
    now: datetime,
    directory: DirectorySnapshot,
    bucket: Bucket = "day",
    rollups: bool = True,
) -> dict[str, Any]:
    """Everything the city dashboard shows, in one call (what ``bench/dashboard.py`` times).

    ``rollups=False`` computes every figure from the order rows (the reference the roll-ups are
    tested against)."""
    plan = plan_for(session, scope=scope, now=now) if rollups else raw_plan(scope)
    return {
        "kpis": kpis(session, scope=scope, now=now, plan=plan),
        "trend": trend(session, scope=scope, bucket=bucket, plan=plan),
        "categories": category_mix(session, scope=scope, directory=directory, plan=plan),
        "districts": district_mix(session, scope=scope, directory=directory, plan=plan),
        "channels": channel_mix(session, scope=scope, plan=plan),
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
