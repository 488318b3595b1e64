"""Reading orders: filtered lists scoped to what the actor may see, the case file, the citizen's look-up."""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, union_all
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.db import utcnow
from haoban.errors import Invalid, NotFound
from haoban.orders import access, attachments, presenters, workflow
from haoban.orders.citizen import phone_last4, track_token
from haoban.orders.models import Order, OrderCoHandler, OrderEvent
from haoban.orders.overdue import HANDLING, late_clause, overdue_clause
from haoban.orders.workflow import Status
from haoban.runtime import Runtime


@dataclass
class OrderFilter:
    status: list[str] | None = None
    department: str | None = None
    district: str | None = None
    category: str | None = None
    order_type: str | None = None
    channel: str | None = None
    overdue: bool | None = None
    text: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


# How a list is sorted: newest first (the default), oldest first (a queue worked in arrival order), or
# most urgent first (overdue first, the most days overdue leading, then 督办 level, then the nearest
# handling deadline), or by handling deadline (the longest overdue first).
ORDERINGS = ("newest", "oldest", "urgent", "deadline")


def _ordering(order: str, now: datetime) -> list[Any]:
    if order == "oldest":
        return [Order.received_at.asc(), Order.id.asc()]
    if order == "urgent":
        late = case((overdue_clause(now), 0), else_=1)
        return [late.asc(), Order.supervision_level.desc(), Order.handle_deadline.asc(), Order.id.asc()]
    if order == "deadline":
        return [Order.handle_deadline.asc(), Order.id.asc()]
    return [Order.received_at.desc(), Order.id.desc()]


def _filtered(
    rt: Runtime, actor: Actor, f: OrderFilter, now: datetime, *, scoped: bool = True
) -> Select[Any]:
    """Orders matching ``f`` that ``actor`` may see (``scoped=False``: the caller scopes them)."""
    stmt = select(Order)
    clause = access.visibility_clause(actor) if scoped else None
    if clause is not None:
        stmt = stmt.where(clause)
    if f.status:
        unknown = [s for s in f.status if s not in {x.value for x in Status}]
        if unknown:
            raise Invalid("unknown status", fields={"status": f"unknown: {', '.join(unknown)}"})
        stmt = stmt.where(Order.status.in_(f.status))
    directory = rt.directory
    if f.department:
        stmt = stmt.where(
            Order.lead_department_id == directory.require_department(f.department, active=False).id
        )
    if f.district:
        stmt = stmt.where(Order.district_id == directory.require_district(f.district).id)
    if f.category:
        code = directory.require_category(f.category).code
        ids = [c.id for c in directory.categories_by_id.values() if code in c.ancestors]
        stmt = stmt.where(Order.category_id.in_(ids))
    if f.order_type:
        stmt = stmt.where(Order.order_type == f.order_type)
    if f.channel:
        stmt = stmt.where(Order.channel == f.channel)
    if f.overdue is True:
        stmt = stmt.where(overdue_clause(now))
    elif f.overdue is False:
        stmt = stmt.where(~overdue_clause(now))
    if f.text:
        like = f"%{f.text}%"
        stmt = stmt.where(or_(Order.subject.like(like), Order.content.like(like), Order.code == f.text))
    if f.received_from:
        stmt = stmt.where(Order.received_at >= f.received_from)
    if f.received_to:
        stmt = stmt.where(Order.received_at < f.received_to)
    return stmt


# A list counts at most this many orders: past it the total reads "more than 10,000" (an exact count of a
# large filter read ~10 M index entries at 10 million orders: p99 687 ms for a first page).
TOTAL_CAP = 10_000
# Numbered pages (an offset) reach only the first this many orders of a list: an offset page reads and
# throws away every row before it (10 M orders, page 50-250 of a district + category + closed filter by
# number: p50 201 / p99 425 ms; the same pages by cursor 12.8 / 192.7 ms), so offset paging is capped as
# Elasticsearch's max_result_window and GitHub's search API cap theirs. Beyond, a list is followed by its
# cursor (keyset: "older than the last row", the `next` link), which costs the same on every page.
NUMBERED_PAGES_CAP = 1_000
# Orderings a cursor can follow (a unique key per row: the receipt time, then the id).
CURSOR_ORDERINGS = ("newest", "oldest")


@dataclass
class OrderPage:
    rows: list[Order]
    total: int  # the orders the filter matches, at most TOTAL_CAP
    total_exact: bool  # False: more than TOTAL_CAP
    next_cursor: str | None  # the page after this one, or None on the last page


def encode_cursor(order: str, row: Any, *, total: int, exact: bool) -> str:
    """The cursor of the page after ``row`` (anything with ``received_at`` and ``id``) in ``order``; it
    carries the list's total, so that later pages need not count again."""
    raw = f"{order[0]}|{row.received_at.isoformat()}|{row.id}|{total}|{int(exact)}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Cursor:
    received_at: datetime
    id: int
    total: int
    exact: bool


def _decode_cursor(order: str, cursor: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, at, oid, total, exact = raw.split("|")
        if kind != order[0] or exact not in ("0", "1"):
            raise ValueError(kind)
        received = datetime.fromisoformat(at)
        if received.tzinfo is None:
            raise ValueError(at)
        return Cursor(received, int(oid), max(0, int(total)), exact == "1")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise Invalid(
            "bad cursor", fields={"cursor": "not a cursor of this list: start again from its first page"}
        ) from None


def _after(order: str, cursor: Cursor) -> Any:
    """Rows after the cursor's row in ``order`` (the receipt-time bound alone lets an index range start)."""
    at, oid = cursor.received_at, cursor.id
    if order == "oldest":
        return and_(Order.received_at >= at, or_(Order.received_at > at, Order.id > oid))
    return and_(Order.received_at <= at, or_(Order.received_at < at, Order.id < oid))


def _department_of(actor: Actor) -> int | None:
    """The department whose orders a handler sees (led or co-handled), None for other actors."""
    return actor.department_id if actor.role == Role.HANDLER else None


def _department_parts(stmt: Select[Any], dept: int) -> tuple[Select[Any], Select[Any]]:
    """``stmt`` (unscoped) split into the orders ``dept`` leads and those it co-handles and does not
    lead: together a department's orders, each once. Each part reads its own index (led:
    ``ix_orders_status_lead``; co-handled: the co-handler rows). Through the one "leads or co-handles"
    filter PostgreSQL read every order of the statuses asked for, or the whole table, per query
    (10 million orders: the inbox's counts 20 s, its overdue total 126 ms)."""
    led = stmt.where(Order.lead_department_id == dept)
    co = stmt.join(
        OrderCoHandler, and_(OrderCoHandler.order_id == Order.id, OrderCoHandler.department_id == dept)
    ).where(or_(Order.lead_department_id.is_(None), Order.lead_department_id != dept))
    return led, co


def count_capped(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    filters: OrderFilter,
    now: datetime,
    cap: int | None = None,
) -> tuple[int, bool]:
    """(count, exact) of the orders ``actor`` may see that match ``filters``, reading at most ``cap``
    (``TOTAL_CAP``) + 1 of them."""
    cap = TOTAL_CAP if cap is None else cap

    def upto(stmt: Select[Any]) -> int:
        ids = stmt.with_only_columns(Order.id).order_by(None).limit(cap + 1).subquery()
        return int(session.scalar(select(func.count()).select_from(ids)) or 0)

    dept = _department_of(actor)
    if dept is not None:
        # Through the one "leads or co-handles" filter PostgreSQL reads the table until it has cap + 1
        # rows; the co-handled part is counted only while the led ones leave room under the cap.
        led, co = _department_parts(_filtered(rt, actor, filters, now, scoped=False), dept)
        n = upto(led)
        if n <= cap:
            n += upto(co)
    else:
        n = upto(_filtered(rt, actor, filters, now))
    return min(n, cap), n <= cap


def last_numbered_page(page_size: int) -> int:
    """The last page that may be asked for by number at ``page_size`` rows a page (it must start within
    the first ``NUMBERED_PAGES_CAP`` orders of the list); the one place that rule is written."""
    return max(1, -(-NUMBERED_PAGES_CAP // page_size))


def check_numbered_page(page: int, page_size: int) -> None:
    """Raise ``Invalid`` (a 422 on ``page``) for a page number beyond ``last_numbered_page``."""
    last = last_numbered_page(page_size)
    if page > last:
        raise Invalid(
            "page beyond the numbered pages",
            fields={
                "page": f"numbered pages cover the first {NUMBERED_PAGES_CAP:,} orders (pages 1-{last:,} "
                f"at {page_size} a page): follow the `next` link (its cursor) beyond"
            },
        )


def page_orders(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    filters: OrderFilter,
    page_size: int = 20,
    page: int = 1,
    cursor: str | None = None,
    order: str = "newest",
    now: datetime | None = None,
) -> OrderPage:
    """One page of a list that may be long (the API's list, the inbox's "all" tab): a total capped at
    ``TOTAL_CAP``, and the page either by number within the first ``NUMBERED_PAGES_CAP`` orders
    (``check_numbered_page``) or after a cursor (the ``next_cursor`` of the page before)."""
    now = now or utcnow()
    if order not in CURSOR_ORDERINGS:
        raise Invalid("unknown ordering", fields={"order": f"one of {', '.join(CURSOR_ORDERINGS)}"})
    if cursor and page != 1:
        raise Invalid("page or cursor", fields={"page": "give a page number or a cursor, not both"})
    check_numbered_page(page, page_size)
    stmt = _filtered(rt, actor, filters, now)
    if cursor:
        # The total as counted for the first page (counting a large filter again on every page cost
        # 0.3-2.6 s at 10 million orders: a bitmap heap scan until 10,001 rows).
        after = _decode_cursor(order, cursor)
        total, exact = min(after.total, TOTAL_CAP), after.exact
        stmt = stmt.where(_after(order, after))
    else:
        total, exact = count_capped(session, rt, actor=actor, filters=filters, now=now)
    ordering = _ordering(order, now)
    stmt = stmt.order_by(*ordering).limit(page_size + 1)
    if not cursor:
        # A numbered page: its ids first (receipt time and id, the keys of the order), then its rows. The
        # ids of a district's list are read from ix_orders_district_status_category_received alone, which
        # holds the filter columns and the keys (an index-only scan and a sort of the matching entries),
        # and only the page's rows from the table. Read with the rows, PostgreSQL walked receipt times
        # backwards and filtered each row on the table: 10 M orders, page 50 of a district + category +
        # closed list read ~700,000 rows for 1,000 kept (p99 297 ms on pages 2-50).
        ids = stmt.with_only_columns(Order.id).offset((page - 1) * page_size).subquery()
        stmt = select(Order).where(Order.id.in_(select(ids.c.id))).order_by(*ordering)
    rows = list(session.scalars(stmt).unique().all())
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = encode_cursor(order, rows[-1], total=total, exact=exact) if more else None
    return OrderPage(rows, total, exact, next_cursor)


def list_orders(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    filters: OrderFilter,
    page: int = 1,
    page_size: int = 20,
    now: datetime | None = None,
    order: str = "newest",
    total: int | None = None,
) -> tuple[list[Order], int]:
    """A page of a list that stays short (a queue, an inbox tab of open orders, the board) with its
    exact total (counted unless the caller gives it: the inbox has it from ``inbox_counts``); long
    lists use ``page_orders``."""
    now = now or utcnow()
    if order not in ORDERINGS:
        raise Invalid("unknown ordering", fields={"order": f"one of {', '.join(ORDERINGS)}"})
    stmt = _filtered(rt, actor, filters, now)
    if total is None:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    ordering = _ordering(order, now)
    offset = (page - 1) * page_size
    dept = _department_of(actor)
    if dept is not None:
        # The page's ids from each part (led, co-handled), each sorted and cut at offset + page size
        # through its own index, then the page among them.
        parts = _department_parts(_filtered(rt, actor, filters, now, scoped=False), dept)
        firsts = [p.with_only_columns(Order.id).order_by(*ordering).limit(offset + page_size) for p in parts]
        ids = union_all(*(select(f.subquery().c.id) for f in firsts))
        stmt = select(Order).where(Order.id.in_(ids))
    rows = session.scalars(stmt.order_by(*ordering).offset(offset).limit(page_size)).unique().all()
    return list(rows), total


def caller_history(session: Session, *, actor: Actor, phone: str, limit: int = 10) -> list[Order]:
    """Earlier orders from this phone number that the actor may see, newest first (the console shows
    them while a caller is on the line: "you called about this last week")."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return []
    stmt = select(Order).where(Order.citizen_phone == digits)
    clause = access.visibility_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    rows = session.scalars(stmt.order_by(Order.received_at.desc(), Order.id.desc()).limit(limit))
    return list(rows.unique())


def check_filters(rt: Runtime, *, actor: Actor, filters: OrderFilter) -> None:
    """Raise ``Invalid`` for a filter that names an unknown status, department or district.

    A streamed export checks first: once its first bytes are sent, an error can no longer be a 422.
    """
    _filtered(rt, actor, filters, utcnow())


def iter_orders(session: Session, rt: Runtime, *, actor: Actor, filters: OrderFilter) -> Iterator[Order]:
    stmt = _filtered(rt, actor, filters, utcnow()).order_by(Order.id).execution_options(yield_per=500)
    yield from session.scalars(stmt)


def pending_extensions(session: Session, *, actor: Actor, limit: int = 50) -> tuple[list[Order], int]:
    """Signed orders whose extension request (延期申请) waits for a decision, the earliest deadline first."""
    where = [Order.status == Status.SIGNED.value, Order.extension_days.is_not(None)]
    clause = access.visibility_clause(actor)
    if clause is not None:
        where.append(clause)
    total = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    rows = session.scalars(select(Order).where(*where).order_by(Order.handle_deadline).limit(limit)).unique()
    return list(rows), int(total)


def counts_by_status(
    session: Session, *, actor: Actor, statuses: Iterable[str] | None = None
) -> dict[str, int]:
    """Orders the actor may see per status (only ``statuses``, when given)."""
    stmt = select(Order.status, func.count()).group_by(Order.status)
    if statuses is not None:
        stmt = stmt.where(Order.status.in_(list(statuses)))
    dept = _department_of(actor)
    if dept is not None:
        counts: dict[str, int] = {}
        for part in _department_parts(stmt, dept):
            for s, n in session.execute(part).all():
                counts[s] = counts.get(s, 0) + int(n)
        return counts
    clause = access.visibility_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return {s: n for s, n in session.execute(stmt).all()}


@dataclass(frozen=True)
class InboxCounts:
    """A department's open orders on the handling clock: per status, and how many of them are overdue."""

    by_status: dict[str, int]
    overdue: int


def inbox_counts(session: Session, *, actor: Actor, now: datetime) -> InboxCounts:
    """The inbox's counts in one query: the actor's orders per handling status and the overdue ones
    (``overdue_clause``) among them. A department's orders are read through ``_department_parts``,
    both parts index-only on ``ix_orders_handling`` (migration 0039: 0.45 s -> 1,475 buffers, all
    from the index, for the biggest department of 10 million orders)."""
    late = case((late_clause(now), 1), else_=0).label("late")
    stmt = select(Order.status, late).where(Order.status.in_(HANDLING))
    dept = _department_of(actor)
    if dept is not None:
        rows = union_all(*_department_parts(stmt, dept)).subquery()
    else:
        clause = access.visibility_clause(actor)
        rows = (stmt if clause is None else stmt.where(clause)).subquery()
    grouped = select(rows.c.status, func.count(), func.sum(rows.c.late)).group_by(rows.c.status)
    by_status: dict[str, int] = {}
    overdue = 0
    for status, n, n_late in session.execute(grouped).all():
        by_status[status] = int(n)
        overdue += int(n_late or 0)
    return InboxCounts(by_status, overdue)


def _events_of(session: Session, order: Order) -> list[OrderEvent]:
    return list(
        session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.seq))
    )


def order_events(session: Session, *, code: str, actor: Actor) -> list[OrderEvent]:
    return _events_of(session, access.get_order(session, code=code, actor=actor))


def load_for_citizen(session: Session, *, code: str, last4: str, lock: bool = False) -> Order:
    """The order a citizen proves with its code and the last four digits of the phone they gave."""
    order = access.load(session, code.strip().upper(), lock=lock)
    if order is None or not order.citizen_phone or phone_last4(order.citizen_phone) != last4:
        # The same answer for "no such code" and "wrong digits": codes cannot be probed.
        raise NotFound("no order matches this code and phone number")
    return order


def _with_master(session: Session, order: Order, view: dict[str, Any]) -> dict[str, Any]:
    """A merged caller's view carries its master's progress: status, steps and (approved) reply.

    Never the master's words or caller: those belong to another citizen."""
    if order.master_id and order.master is not None:
        master = presenters.track_view(order.master, _events_of(session, order.master))
        view["master_view"] = {
            k: master[k]
            for k in ("code", "status", "status_label", "status_label_en", "department", "department_en",
                      "handle_deadline", "reply", "timeline")
        }  # fmt: skip
    return view


def track(session: Session, *, code: str, last4: str) -> dict[str, Any]:
    """What a citizen may see with the code and the last four digits of the phone they gave."""
    order = load_for_citizen(session, code=code, last4=last4)
    view = _with_master(session, order, presenters.track_view(order, _events_of(session, order)))
    # Their own photos, and the department's once its reply is shown to them.
    view["photos"] = [
        {"id": a.id, "origin": a.origin}
        for a in attachments.list_for(session, order_id=order.id)
        if a.origin == "citizen" or (a.public and view["reply"])
    ]
    return view


def citizen_proof(session: Session, *, code: str, token: str, secret: str) -> tuple[str, str]:
    """(code, last4) for a tracking link's key; NotFound when it does not match (same answer as ever)."""
    order = access.load(session, code.strip().upper())
    last4 = phone_last4(order.citizen_phone) if order is not None else None
    if (
        order is None
        or not last4
        or not hmac.compare_digest(token.encode(), track_token(secret, code=order.code, last4=last4).encode())
    ):
        raise NotFound("no order matches this code and phone number")
    return order.code, last4


def master_of(session: Session, *, code: str, last4: str) -> dict[str, Any]:
    """The master's progress as its merged caller may see it (404 unless ``code`` is merged)."""
    view = track(session, code=code, last4=last4)
    if "master_view" not in view:
        raise NotFound("this appeal was not merged into another")
    return view["master_view"]


# Open orders another caller may join ("this is mine too"): the merge transition's master states.
JOINABLE = frozenset(workflow.OPEN_STATUSES - {Status.CALLBACK, Status.MERGED})


def open_near(session: Session, *, latitude: float, longitude: float, km: float, limit: int = 5) -> list[str]:
    """Codes of open orders pinned within ``km`` of a point, nearest first (a box, then the distance)."""
    dlat = km / 111.0
    dlon = km / (111.0 * max(0.1, math.cos(math.radians(latitude))))
    rows = session.execute(
        select(Order.code, Order.latitude, Order.longitude).where(
            Order.status.in_([s.value for s in JOINABLE]),
            Order.master_id.is_(None),
            Order.latitude.between(latitude - dlat, latitude + dlat),
            Order.longitude.between(longitude - dlon, longitude + dlon),
        )
    ).all()

    def dist(r: Any) -> float:
        return math.hypot(r.latitude - latitude, (r.longitude - longitude) * math.cos(math.radians(latitude)))

    return [r.code for r in sorted(rows, key=dist)[:limit]]


def public_summaries(session: Session, *, codes: list[str]) -> list[dict[str, Any]]:
    """What anyone may see of open orders offered to join: no words, no caller; how many called."""
    if not codes:
        return []
    orders = session.scalars(
        select(Order).where(Order.code.in_(codes), Order.status.in_([s.value for s in JOINABLE]))
    ).unique()
    by_code = {o.code: o for o in orders}
    ids = [o.id for o in by_code.values()]
    merged: dict[int, int] = {}
    if ids:
        stmt = select(Order.master_id, func.count()).where(Order.master_id.in_(ids)).group_by(Order.master_id)
        merged = {m: int(n) for m, n in session.execute(stmt).all()}
    out = []
    for code in codes:
        o = by_code.get(code)
        if o is None:
            continue
        out.append(
            {
                "id": o.id,
                "code": o.code,
                "status": o.status,
                "category": o.category.name if o.category else None,
                "district": o.district.name if o.district else None,
                "district_en": o.district.name_en if o.district else None,
                "received_at": o.received_at,
                "callers": 1 + merged.get(o.id, 0),
            }
        )
    return out
