"""Intake (受理): validate, dispatch and time a new order, then write it with its first case-file events.

Preparing an order is work in memory (directory look-ups, the dispatcher, the calendar) on a draft of
the order: registration and the dispatcher's first move go through the gate like every other status
change, their events wait in a ``DraftJournal``. Writing is one function over a batch, so the server's
``IntakeWriter`` can commit many concurrent creates in one transaction (one fsync) while the CLI, the
importer and the tests write batches of one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import itemgetter
from typing import Any

from psycopg import errors as psycopg_errors
from psycopg.adapt import PyFormat, Transformer
from psycopg.generators import fetch_many, send
from psycopg.pq import ConnStatus, DiagnosticField, ExecStatus, TransactionStatus
from sqlalchemy import Connection, Date, Table, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from haoban.auth.actors import SYSTEM_ACTOR, Actor
from haoban.db import Database, UTCDateTime, utcnow
from haoban.dispatch.emergency import detect as detect_emergency
from haoban.dispatch.gazetteer import find_district
from haoban.dispatch.routing import DispatchDecision, DispatchRequest
from haoban.errors import DomainError, Invalid
from haoban.metrics import INTAKE_BATCH
from haoban.notifications.models import OutboxMessage
from haoban.orders import gate
from haoban.orders.actions import PROGRESS_SMS, apply_action, progress_key, progress_sms
from haoban.orders.citizen import phone_last4
from haoban.orders.events import DraftJournal, PendingEvent, chain_rows
from haoban.orders.models import Order, OrderCoHandler, OrderDayMark, OrderEvent, days_to_mark
from haoban.orders.numbering import take_numbers, take_order_ids
from haoban.orders.schemas import ActionRequest, OrderCreate
from haoban.runtime import Runtime
from haoban.security.codes import public_code
from haoban.security.crypto import EncryptedString
from haoban.sla.service import handle_deadline, sign_deadline, warn_at

log = logging.getLogger(__name__)
IDLE = TransactionStatus.IDLE
OK = ConnStatus.OK
FATAL_ERROR = ExecStatus.FATAL_ERROR
PIPELINE_SYNC = ExecStatus.PIPELINE_SYNC
COMMAND_OK = ExecStatus.COMMAND_OK
PIPELINE_ABORTED = ExecStatus.PIPELINE_ABORTED
CODE_PREFIX = "HB"


@dataclass
class Draft:
    """An order being registered, as the gate sees it before the row exists."""

    status: str | None = None
    lead_department_id: int | None = None
    updated_at: datetime | None = None


@dataclass
class PreparedOrder:
    row: dict[str, Any]
    co_handler_ids: list[int]
    events: list[PendingEvent]
    notify_phone: str | None
    now: datetime
    day: str  # the city's calendar day of registration (yyyymmdd): the tracking code's middle
    external_ref: str | None = None
    # Filled in by the writer.
    code: str | None = None
    id: int | None = None
    created: bool = True


@dataclass
class CreatedOrder:
    id: int
    code: str
    created: bool  # False when external_ref matched an order already stored
    row: dict[str, Any] = field(default_factory=dict)


def prepare_order(
    rt: Runtime, *, data: OrderCreate, actor: Actor, now: datetime | None = None, route: bool = True
) -> PreparedOrder:
    """Check references, dispatch and compute deadlines. Raises Invalid naming the field at fault.

    ``route=False`` leaves the order registered with the operator, who answers or transfers it at once.
    """
    now = now or utcnow()
    directory = rt.directory
    errors: dict[str, str] = {}

    if data.district:
        district = directory.lookup_district(data.district, errors=errors)
    else:
        # The caller did not say where: look for a known place in the address, then the text.
        found = find_district(f"{data.address or ''} {data.content[:500]}")
        district = directory.district(found.district) if found else None
    category = directory.lookup_category(data.category, errors=errors) if data.category else None
    department = directory.lookup_department(data.department, errors=errors) if data.department else None
    co_handlers = [
        ref
        for code in data.co_handlers
        if (ref := directory.lookup_department(code, errors=errors, field="co_handlers")) is not None
    ]
    received_at = data.received_at or now
    if received_at > now + timedelta(minutes=5):
        errors["received_at"] = "lies in the future"
    if errors:
        raise Invalid("the order cannot be registered", fields=errors)

    subject = data.subject or data.content.strip().splitlines()[0][:40]
    # A call about danger happening now is urgent (same-day terms) even if the operator had no time to
    # say so; board messages and imports are not calls for help, so only the phone channel counts.
    emergency = detect_emergency(data.content) if data.channel.value == "phone" else None
    if emergency is not None and data.urgency.value != "urgent":
        data = data.model_copy(update={"urgency": type(data.urgency)("urgent")})
    request = DispatchRequest(
        subject=subject,
        content=data.content,
        order_type=data.type.value,
        received_at=received_at,
        district_code=district.code if district else None,
        address=data.address,
        category_code=category.code if category else None,
    )
    if department is not None:
        decision = DispatchDecision(
            outcome="dispatch",
            category_code=request.category_code,
            department_code=department.code,
            co_handler_codes=tuple(c.code for c in co_handlers),
            confidence=1.0,
            source="human",
            reason=f"chosen by {actor.name} at intake",
        )
    elif route:
        decision = rt.dispatcher.decide(request)
    else:
        decision = DispatchDecision(outcome="none", category_code=request.category_code, source="human")
    if decision.category_code and category is None:
        category = directory.category(decision.category_code)

    calendar = rt.calendar
    terms = rt.sla.terms(data.type.value, data.urgency.value)
    handle = handle_deadline(calendar, terms, received_at)
    ratio = rt.settings.warning_ratio
    row: dict[str, Any] = {
        "external_ref": data.external_ref,
        "channel": data.channel.value,
        "order_type": data.type.value,
        "urgency": data.urgency.value,
        "subject": subject,
        "content": data.content,
        "citizen_name": data.citizen_name,
        "citizen_phone": data.citizen_phone,
        "citizen_id_number": data.citizen_id_number,
        "address": data.address,
        "district_id": district.id if district else None,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "category_id": category.id if category else None,
        "lead_department_id": None,
        "status": None,  # set by the gate below
        "received_at": received_at,
        "created_at": now,
        "updated_at": now,
        "clock_started_at": received_at,
        "handle_deadline": handle.at,
        "handle_warn_at": warn_at(received_at, handle.at, ratio),
        "deadline_provisional": handle.provisional,
        "dispatch_source": decision.source,
        "dispatch_confidence": decision.confidence,
        "dispatch_rule_id": decision.rule_id,
        "suggestions": json.dumps(list(decision.suggestions), ensure_ascii=False)
        if decision.suggestions
        else None,
        "redo_count": 0,
        "supervision_level": 0,
        "version": 1,
    }
    register_payload = {
        "channel": row["channel"],
        "type": row["order_type"],
        "urgency": row["urgency"],
        "subject": subject,
        "content_sha256": _sha256(data.content),
        "handle_deadline": handle.at.isoformat(),
        "provisional": handle.provisional or None,
        "emergency": ",".join(emergency.kinds) if emergency else None,
    }
    draft = Draft()
    journal = DraftJournal([])

    def move(action: str, by: Actor, payload: dict[str, Any]) -> None:
        gate.transition(rt, draft, action=action, actor=by, at=now, journal=journal, payload=payload)

    move("register", actor, register_payload)
    decision_payload: dict[str, Any] = {
        "rule": decision.rule_name,
        "confidence": round(decision.confidence, 4),
        "source": decision.source,
        "why": decision.reason,
    }
    # A department chosen at intake is the registering person's dispatch; anything else the platform's.
    dispatcher = actor if decision.source == "human" else SYSTEM_ACTOR
    co_ids: list[int] = []
    dispatch_dept = directory.department(decision.department_code) if decision.department_code else None
    if decision.outcome == "dispatch" and dispatch_dept is not None and dispatch_dept.active:
        sign = sign_deadline(calendar, terms, now)
        co_refs = [directory.department(c) for c in decision.co_handler_codes]
        co_ids = [c.id for c in co_refs if c is not None and c.id != dispatch_dept.id]
        draft.lead_department_id = dispatch_dept.id
        move(
            "dispatch",
            dispatcher,
            {
                **decision_payload,
                "department": dispatch_dept.code,
                "co_handlers": [c.code for c in co_refs if c is not None] or None,
                "category": decision.category_code,
                "sign_deadline": sign.at.isoformat(),
            },
        )
        row.update(
            lead_department_id=dispatch_dept.id,
            dispatched_at=now,
            sign_started_at=now,
            sign_deadline=sign.at,
            sign_warn_at=warn_at(now, sign.at, ratio),
            deadline_provisional=handle.provisional or sign.provisional,
        )
    elif decision.outcome == "transfer" and decision.transfer_target:
        move("transfer", SYSTEM_ACTOR, {**decision_payload, "target": decision.transfer_target})
        row.update(transfer_target=decision.transfer_target)
    elif decision.outcome == "answer" and decision.guidance:
        move("answer", SYSTEM_ACTOR, {**decision_payload, "answer": decision.guidance})
        row.update(answer_text=decision.guidance)
    elif decision.outcome != "none":
        move("hold", SYSTEM_ACTOR, {**decision_payload, "suggestions": list(decision.suggestions) or None})
    row["status"] = draft.status
    return PreparedOrder(
        row=row,
        co_handler_ids=co_ids,
        events=journal.events,
        notify_phone=data.citizen_phone,
        now=now,
        day=now.astimezone(rt.settings.tz).strftime("%Y%m%d"),
        external_ref=data.external_ref,
    )


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _next_codes(session: Session, day: str, count: int) -> list[str]:
    """``count`` tracking codes for the city's ``day`` (numbers from ``haoban.orders.numbering``)."""
    # Day and sequence keep codes readable and sorted; three random digits at the end mean one code
    # says nothing about the next, so codes cannot be walked (codes issued before stay valid).
    return [public_code(CODE_PREFIX, day, n, width=6) for n in take_numbers(session, day, count)]


ORDERS = Order.__table__
ORDER_COLUMNS = [c.name for c in ORDERS.columns]
# Set for every order by the writer itself; the rest come from prepare_order's row.
_WRITER_COLUMNS = frozenset({"id", "code", "event_count", "last_hash"})


def _order_columns(batch: list[PreparedOrder]) -> list[str]:
    """The orders columns a batch sets, in table order: the others stay NULL, as they would if named
    with None. A new order sets about 40 of the 53; psycopg caches the parsed INSERT only up to 50
    parameters, so naming all of them had it parse the statement again for every batch."""
    present = set(_WRITER_COLUMNS)
    for p in batch:
        present.update(p.row)
    return [c for c in ORDER_COLUMNS if c in present]


_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # what SQLAlchemy's SQLite DATETIME stores and parses


@dataclass(frozen=True)
class _InsertPlan:
    """How one table's rows of a batch become driver parameters: the same for every batch that sets
    the same columns, so it is built once (rebuilding it was a fifth of a one-order batch's CPU)."""

    table: str
    columns: tuple[str, ...]
    get: Callable[[dict[str, Any]], Any]
    convert: tuple[tuple[int, Callable[[Any], Any]], ...]
    marker: str
    multi_row: dict[int, str] = field(default_factory=dict, compare=False)

    def params(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        get = self.get
        if len(self.columns) == 1:
            return [(get(row),) for row in rows]
        if not self.convert:
            return [get(row) for row in rows]
        params: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(get(row))
            for i, fn in self.convert:
                if values[i] is not None:
                    values[i] = fn(values[i])
            params.append(tuple(values))
        return params

    def sql(self) -> str:
        """One row's INSERT with driver placeholders (executemany: SQLite)."""
        marks = ", ".join(self.marker for _ in self.columns)
        return f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES ({marks})"

    def multi_row_sql(self, count: int) -> str:
        """One INSERT of ``count`` rows with PostgreSQL's numbered placeholders ($1, $2, …)."""
        sql = self.multi_row.get(count)
        if sql is None:
            width = len(self.columns)
            values = ", ".join(
                "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(count)
            )
            sql = self.multi_row[count] = (
                f"INSERT INTO {self.table} ({', '.join(self.columns)}) VALUES {values}"
            )
        return sql


MAX_PARAMETERS = 65535  # the wire protocol counts a statement's parameters in 16 bits
_PLANS: dict[tuple[str, str, tuple[str, ...]], _InsertPlan] = {}


def _insert_plan(dialect: Any, table: Table, columns: tuple[str, ...]) -> _InsertPlan:
    """The intake hot path skips per-row SQLAlchemy processing: values are converted here exactly as
    the column types would. UTC datetimes become SQLAlchemy's SQLite text format (naive UTC) or stay
    aware for PostgreSQL; ID numbers are encrypted."""
    key = (dialect.name, table.name, columns)
    plan = _PLANS.get(key)
    if plan is not None:
        return plan
    sqlite_ = dialect.name == "sqlite"
    # Only the columns whose type changes the value get a Python call per row; the others are taken
    # by one itemgetter (a per-value conversion was a quarter of the writer thread's CPU).
    convert: list[tuple[int, Callable[[Any], Any]]] = []
    for i, column in enumerate(columns):
        kind = table.c[column].type
        if isinstance(kind, EncryptedString):
            convert.append((i, partial(_encrypt, kind, dialect)))
        elif sqlite_ and isinstance(kind, Date):
            convert.append((i, _iso))  # what SQLAlchemy's SQLite DATE stores
        elif isinstance(kind, UTCDateTime):
            convert.append((i, _sqlite_time if sqlite_ else _utc))
    plan = _InsertPlan(
        table=table.name,
        columns=columns,
        get=itemgetter(*columns),
        convert=tuple(convert),
        marker="?" if sqlite_ else "%s",
    )
    _PLANS[key] = plan
    return plan


def _encrypt(kind: EncryptedString, dialect: Any, v: Any) -> Any:
    return kind.process_bind_param(v, dialect)


def _iso(v: Any) -> str:
    return str(v.isoformat())


def _utc(v: datetime) -> datetime:
    # Most of a batch's times are utcnow()'s already (UTC): no conversion call for those.
    return v if v.tzinfo is UTC else v.astimezone(UTC)


def _sqlite_time(v: datetime) -> str:
    return v.astimezone(UTC).replace(tzinfo=None).strftime(_SQLITE_TIME)


def _insert_many(
    session: Session, inserts: list[tuple[Table, list[dict[str, Any]]]], *, commit: bool = False
) -> None:
    """Each table's rows straight on the driver. On PostgreSQL one multi-row INSERT per table, all of
    them sent at once (see :func:`_one_round_trip`): the server starts one statement per table rather
    than one per row (per-row executor start-up, with the orders table's 16 indexes opened each time,
    and the change feed's statement trigger firing per row were a quarter of the backends' CPU per
    create under executemany). SQLite keeps executemany.

    ``commit=True`` (the intake writer, which commits right after) ends the transaction in the same
    round trip on PostgreSQL; the session's own commit then finds nothing to do. Elsewhere the caller's
    transaction stays open."""
    connection = session.connection()
    dialect = connection.dialect
    plans = [(_insert_plan(dialect, table, tuple(rows[0])), rows) for table, rows in inserts if rows]
    if dialect.name != "postgresql":
        for plan, rows in plans:
            connection.exec_driver_sql(plan.sql(), plan.params(rows))
        return
    statements: list[tuple[str, list[Any]]] = []
    for plan, rows in plans:
        # PostgreSQL takes at most 65,535 parameters a statement: a long batch (the importer's chunks,
        # a raised intake_batch_max) goes in several INSERTs.
        step = max(1, MAX_PARAMETERS // len(plan.columns))
        for start in range(0, len(rows), step):
            part = rows[start : start + step]
            statements.append((plan.multi_row_sql(len(part)), [v for vs in plan.params(part) for v in vs]))
    driver = connection.connection.driver_connection
    base_error = dialect.loaded_dbapi.Error
    try:
        _one_round_trip(driver, statements, commit=commit)
    except base_error as exc:  # the same SQLAlchemy errors (IntegrityError, DataError, …) as elsewhere
        sql = getattr(exc, "haoban_statement", "")
        raise DBAPIError.instance(sql, None, exc, base_error, hide_parameters=True, dialect=dialect) from exc


_AUTO = PyFormat.AUTO


def _one_round_trip(driver: Any, statements: list[tuple[str, list[Any]]], *, commit: bool) -> None:
    """Send ``BEGIN`` (unless a transaction is open), the statements (``$n`` placeholders) and, with
    ``commit``, ``COMMIT`` in libpq's pipeline mode with one flush and one sync, then read every result.

    psycopg's own pipeline sends a sync after its implicit ``BEGIN`` and flushes every command on its
    own, and the commit was one more exchange: a one-order batch cost three round trips and about nine
    socket writes, each waking the backend (and, under load, each wait for the answer is a wait for
    a core). The first failing statement's error is raised; the server skips the rest, ``COMMIT``
    included, so nothing of the batch is stored and the transaction is left failed for the caller's
    rollback.

    With ``commit`` (only the intake writer's batches: their transaction holds nothing but this batch,
    its external-reference read and its draw of order ids, which a rollback does not take back), a
    statement met again with the same parameter types runs prepared (:class:`_Prepared`): parsing and
    planning the unnamed INSERTs was about a quarter of the backend's CPU at batches of 3. Our record
    of names can outlive the server's statements (psycopg itself sends ``DEALLOCATE ALL`` in some
    cases, and pooled connections are reused by others): when the server no longer knows a name, the
    transaction is rolled back, the record forgotten and the batch sent again unnamed. Other callers'
    transactions hold their own work, which no retry could redo, so their statements go unnamed."""
    tx = Transformer(driver)
    encoding = driver.info.encoding
    # Everything is dumped before anything is sent: a value the driver refuses fails here, with
    # nothing half-sent on the connection.
    dumped = []
    for sql, params in statements:
        values = tx.dump_sequence(params, [_AUTO] * len(params))
        dumped.append((sql.encode(encoding), values, tuple(tx.types), tuple(tx.formats)))
    with driver.lock:
        try:
            prepared = _prepared_on(driver) if commit else None
            sent, results = _send(driver, dumped, statements, commit=commit, prepared=prepared)
            if prepared is not None and _unknown_name(results):
                prepared.clear()
                _send(driver, [], [], commit=False, prepared=None, end=b"ROLLBACK")
                sent, results = _send(driver, dumped, statements, commit=commit, prepared=None)
        except BaseException:
            # The connection is in an unknown state (a broken socket, an interrupted read): no one
            # may reuse it. The intake writer drops its connection after any failure; SQLAlchemy
            # discards a closed one.
            driver.close()
            raise
    error = None
    for (sql, key), result in zip(sent, results, strict=False):
        if key is not None and result.status != COMMAND_OK and prepared is not None:
            # Not prepared (an aborted batch skips the Parse): prepared again on a later use rather
            # than run under a name the server does not know.
            prepared.forget(key)
        if error is None and result.status == FATAL_ERROR:
            error = psycopg_errors.error_from_result(result, encoding=encoding)
            error.haoban_statement = sql  # type: ignore[attr-defined]
    if error is None and (len(results) < len(sent) or any(r.status == PIPELINE_ABORTED for r in results)):
        error = psycopg_errors.PipelineAborted("the batch was not run")
    if error is not None:
        raise error


_KEY = tuple[bytes, tuple[int, ...]]


def _send(
    driver: Any,
    dumped: list[tuple[bytes, Any, tuple[int, ...], tuple[Any, ...]]],
    statements: list[tuple[str, list[Any]]],
    *,
    commit: bool,
    prepared: _Prepared | None,
    end: bytes | None = None,
) -> tuple[list[tuple[str, _KEY | None]], list[Any]]:
    """One pipeline flush and sync (caller holds ``driver.lock``): ``BEGIN`` when no transaction is
    open, the statements (by name where ``prepared`` holds one), then ``COMMIT`` or ``end``. Returns
    what each result answers (statement text, or the key of a Parse) and the results."""
    pgconn = driver.pgconn
    sent: list[tuple[str, _KEY | None]] = []
    pgconn.enter_pipeline_mode()
    if end is None and pgconn.transaction_status == IDLE:
        pgconn.send_query_params(_begin_command(driver), None)
        sent.append(("", None))
    names: dict[_KEY, str] = {}
    if prepared is not None:
        # A statement seen before with the same parameter types is prepared once per connection
        # (its Parse just ahead of its use in this same flush), then only bound and run.
        for command, _, types, _ in dumped:
            key = (command, types)
            if key not in prepared.names and prepared.seen(key):
                name = prepared.add(key)
                if name is not None:
                    pgconn.send_prepare(name.encode(), command, param_types=types)
                    sent.append(("", key))
        names = prepared.names
    for (command, values, types, formats), (sql, _) in zip(dumped, statements, strict=True):
        name = names.get((command, types))
        if name is None:
            pgconn.send_query_params(command, values, param_types=types, param_formats=formats)
        else:
            pgconn.send_query_prepared(name.encode(), values, param_formats=formats)
        sent.append((sql, None))
    last = b"COMMIT" if commit else end
    if last is not None:
        pgconn.send_query_params(last, None)
        sent.append((last.decode(), None))
    pgconn.pipeline_sync()
    results = driver.wait(_exchange(pgconn))
    pgconn.exit_pipeline_mode()
    return sent, results


_UNDEFINED_NAME = b"26000"  # invalid_sql_statement_name: "prepared statement … does not exist"


def _unknown_name(results: list[Any]) -> bool:
    code = DiagnosticField.SQLSTATE
    return any(r.status == FATAL_ERROR and r.error_field(code) == _UNDEFINED_NAME for r in results)


class _Prepared:
    """The writer statements prepared on one connection, by SQL and parameter types (the types change
    with which values are NULL and how large the numbers are, so one SQL text may have several)."""

    LIMIT = 256  # statements prepared per connection at most; the rest go unnamed

    def __init__(self) -> None:
        self.names: dict[tuple[bytes, tuple[int, ...]], str] = {}
        self.counts: dict[tuple[bytes, tuple[int, ...]], int] = {}
        self.made = 0

    def seen(self, key: tuple[bytes, tuple[int, ...]]) -> bool:
        """Count a use; True from the second one (a statement used once is not worth a Parse)."""
        if len(self.counts) > 4 * self.LIMIT:
            self.counts.clear()
        n = self.counts[key] = self.counts.get(key, 0) + 1
        return n >= 2

    def add(self, key: tuple[bytes, tuple[int, ...]]) -> str | None:
        if len(self.names) >= self.LIMIT:
            return None
        self.made += 1
        name = self.names[key] = f"haoban_intake_{self.made}"
        return name

    def forget(self, key: tuple[bytes, tuple[int, ...]]) -> None:
        self.names.pop(key, None)

    def clear(self) -> None:
        """The server lost our statements (``DEALLOCATE ALL``, ``DISCARD ALL``): start again."""
        self.names.clear()
        self.counts.clear()


_PREPARED: weakref.WeakKeyDictionary[Any, _Prepared] = weakref.WeakKeyDictionary()


def _prepared_on(driver: Any) -> _Prepared:
    prepared = _PREPARED.get(driver)
    if prepared is None:
        prepared = _PREPARED[driver] = _Prepared()
    return prepared


def _exchange(pgconn: Any) -> Any:
    """psycopg generator: flush what was sent, then collect one result per statement up to the sync."""
    yield from send(pgconn)
    out: list[Any] = []
    while True:
        results = yield from fetch_many(pgconn)
        if not results or results[0].status == PIPELINE_SYNC:
            return out
        out.append(results[-1])


def _begin_command(driver: Any) -> bytes:
    # What psycopg itself sends to open a transaction: plain BEGIN unless the connection asks for an
    # isolation level or access mode (the writer's connection does not).
    if driver.isolation_level is None and driver.read_only is None and driver.deferrable is None:
        return b"BEGIN"
    return bytes(driver._get_tx_start_command())


def write_prepared(
    session: Session, batch: list[PreparedOrder], *, commit: bool = False
) -> list[CreatedOrder]:
    """Insert a batch of prepared orders, their co-handlers, case-file events and receipts.

    ``commit=True``: the caller commits the session right after (the intake writer); on PostgreSQL
    the COMMIT then travels with the inserts (see :func:`_insert_many`)."""
    refs = [p.external_ref for p in batch if p.external_ref]
    existing: dict[str, tuple[int, str]] = {}
    if refs:
        for oid, code, ref in session.execute(
            select(Order.id, Order.code, Order.external_ref).where(Order.external_ref.in_(refs))
        ):
            existing[ref] = (oid, code)
    fresh: list[PreparedOrder] = []
    seen: dict[str, PreparedOrder] = {}
    for p in batch:
        if p.external_ref and p.external_ref in existing:
            p.id, p.code = existing[p.external_ref]
            p.created = False
        elif p.external_ref and p.external_ref in seen:
            p.created = False  # resolved after the first one is written
        else:
            fresh.append(p)
            if p.external_ref:
                seen[p.external_ref] = p
    if fresh:
        by_day: dict[str, list[PreparedOrder]] = {}
        for p in fresh:
            by_day.setdefault(p.day, []).append(p)
        for day, items in by_day.items():
            for p, code in zip(items, _next_codes(session, day, len(items)), strict=True):
                p.code = code
        ids = take_order_ids(session, len(fresh))
        blank = dict.fromkeys(_order_columns(fresh))
        order_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        co_rows: list[dict[str, Any]] = []
        outbox_rows: list[dict[str, Any]] = []
        for p, oid in zip(fresh, ids, strict=True):
            p.id = oid
            rows, head = chain_rows(order_id=oid, code=p.code or "", at=p.now, events=p.events)
            event_rows.extend(rows)
            order_rows.append(
                {**blank, **p.row, "id": oid, "code": p.code, "event_count": len(p.events), "last_hash": head}
            )
            co_rows.extend({"order_id": oid, "department_id": d} for d in p.co_handler_ids)
            if p.notify_phone:
                outbox_rows.append(
                    {
                        "channel": "sms",
                        "recipient": p.notify_phone,
                        "subject": "受理回执",
                        "body": f"【12345】您的诉求已受理，编号 {p.code}。查询进度请凭编号及手机尾号"
                        f" {phone_last4(p.notify_phone)}。",
                        "order_id": oid,
                        "dedupe_key": f"receipt:{p.code}",
                        "status": "pending",
                        "attempts": 0,
                        "created_at": p.now,
                    }
                )
                # Routed at intake (by the catalogue, the model or the operator's choice): the same
                # "sent to the department" message a dispatcher's dispatch sends.
                for i, e in enumerate(p.events):
                    if e.action in PROGRESS_SMS and e.action == "dispatch":
                        outbox_rows.append(
                            {
                                "channel": "sms",
                                "recipient": p.notify_phone,
                                "subject": "12345",
                                "body": progress_sms(p.code or "", e.action, e.to_status),
                                "order_id": oid,
                                "dedupe_key": progress_key(p.code or "", i + 1),
                                "status": "pending",
                                "attempts": 0,
                                "created_at": p.now,
                            }
                        )
        # The dashboard's roll-ups learn which days changed from marks written with the orders.
        marks = [{"day": d} for d in days_to_mark(session, {r["received_at"] for r in order_rows})]
        # Core executemany with explicit ids: one round trip per table (on PostgreSQL one for all of
        # them), no per-row RETURNING.
        _insert_many(
            session,
            [
                (ORDERS, order_rows),
                (OrderEvent.__table__, event_rows),
                (OrderCoHandler.__table__, co_rows),
                (OutboxMessage.__table__, outbox_rows),
                (OrderDayMark.__table__, marks),
            ],
            commit=commit,
        )
    for p in batch:
        if p.code is None and p.external_ref in seen:
            first = seen[p.external_ref]
            p.id, p.code = first.id, first.code
    return [CreatedOrder(id=p.id or 0, code=p.code or "", created=p.created, row=p.row) for p in batch]


def create_order(
    session: Session, rt: Runtime, *, data: OrderCreate, actor: Actor, now: datetime | None = None
) -> CreatedOrder:
    """Prepare and write one order inside the caller's transaction."""
    return write_prepared(session, [prepare_order(rt, data=data, actor=actor, now=now)])[0]


def register_and_act(
    session: Session,
    rt: Runtime,
    *,
    data: OrderCreate,
    actor: Actor,
    action: str,
    request: ActionRequest,
    now: datetime | None = None,
) -> CreatedOrder:
    """Register a call and take ``action`` on it at once, in the caller's transaction: the operator
    answers (即时答复) or transfers (转警) while the caller is still on the line. Nothing is stored if
    the action is refused."""
    now = now or utcnow()
    created = write_prepared(session, [prepare_order(rt, data=data, actor=actor, now=now, route=False)])[0]
    apply_action(session, rt, code=created.code, action=action, data=request, actor=actor, now=now)
    return created


class IntakeWriter:
    """Group commit: concurrent creates are written together by one writer thread.

    Requests prepare their orders on the event loop and queue them here. While the writer thread commits
    one batch (the fsync), the next requests pile up; the flusher then takes them all (up to
    ``max_batch``) in one transaction, so under load one fsync serves many orders and a request costs
    the loop no thread hand-off of its own. When a batch fails, its orders are retried one by one so a
    single bad order cannot sink its neighbours.

    **Gathering.** Taking whatever is queued the moment the writer is free splinters the load: the
    callers answered by the last batch come back a moment later, one by one, and the first of them
    goes alone. A batch costs a fixed share on top of its orders (the transaction, one statement per
    table, the commit's flush; in the writer thread the session and the round trip): per order, a
    one-order batch cost 3.4x the writer's Python and 1.7x the database's CPU of an eight-order one
    (``bench/intake_writer_cpu.py``), and two server processes, each with half the callers, wrote
    batches of 1–2 a third of the time. So, like PostgreSQL's ``commit_delay``, the flusher waits up to
    ``gather`` seconds for as many orders as the last batch had when fewer are queued, and goes as
    soon as they are there. A lone caller (last batch of one) never waits; a burst after a quiet spell
    waits once, at most ``gather``.
    """

    def __init__(self, db: Database, *, max_batch: int = 256, gather: float = 0.0) -> None:
        self._db = db
        self._max_batch = max_batch
        self._gather = gather
        self._last_size = 0  # orders in the last batch: how many to gather for the next one
        self._gathered: asyncio.Future[None] | None = None  # resolved when enough are queued
        self._pending: list[tuple[PreparedOrder, asyncio.Future[CreatedOrder]]] = []
        self._flushing = False
        self._task: asyncio.Task[None] | None = None  # held so the running flush is not collected
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haoban-intake-writer")
        # The writer thread's own connection, kept between batches (no pool check-out and ping per
        # batch); dropped after any failure and opened again for the next batch.
        self._conn: Connection | None = None

    async def submit(self, prepared: PreparedOrder) -> CreatedOrder:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CreatedOrder] = loop.create_future()
        self._pending.append((prepared, future))
        gathered = self._gathered
        if gathered is not None and len(self._pending) >= self._last_size and not gathered.done():
            gathered.set_result(None)
        if not self._flushing:
            self._flushing = True
            self._task = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                if self._gather > 0 and len(self._pending) < self._last_size:
                    await self._wait_for_more(loop)
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                self._last_size = len(batch)
                INTAKE_BATCH.observe(len(batch))
                outcomes = await loop.run_in_executor(self._executor, self._write, [p for p, _ in batch])
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._flushing = False

    async def _wait_for_more(self, loop: asyncio.AbstractEventLoop) -> None:
        """Until as many orders as the last batch had are queued (``submit`` says so), or ``gather``."""
        gathered: asyncio.Future[None] = loop.create_future()
        self._gathered = gathered
        timer = loop.call_later(self._gather, lambda: gathered.done() or gathered.set_result(None))
        try:
            await gathered
        finally:
            timer.cancel()
            self._gathered = None

    def _write(self, batch: list[PreparedOrder]) -> list[CreatedOrder | Exception]:
        try:
            return self._write_batch(batch)
        except Exception:
            if len(batch) == 1:
                log.exception("intake write failed")
                return [DomainError("the order could not be stored")]
        outcomes: list[CreatedOrder | Exception] = []
        for one in batch:
            one.code = None
            one.id = None
            outcomes.extend(self._write([one]))
        return outcomes

    def _write_batch(self, batch: list[PreparedOrder]) -> list[CreatedOrder | Exception]:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self._db.writer_connection()
        try:
            with Session(bind=self._conn, expire_on_commit=False) as session, session.begin():
                return list(write_prepared(session, batch, commit=True))
        except Exception:
            self._drop_connection()
            raise

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # a broken connection: the pool discards it
                log.debug("closing the intake writer's connection failed", exc_info=True)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._drop_connection()
