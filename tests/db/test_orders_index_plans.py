"""Migration 0043 took three index entries off every create (issue 15): the reads that could use the
dropped or narrowed indexes still read orders through an index, on SQLite and on PostgreSQL. Each
plan is of the statement exactly as the driver received it (IN lists expanded, values bound)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.orm import Session

from haoban.analytics import service as analytics
from haoban.db import utcnow
from haoban.orders import queries
from haoban.orders.models import Order
from haoban.orders.sweep import sweep
from haoban.orders.workflow import Status
from tests.conftest import BACKEND
from tests.plans import query_plan


def _statements(rt: Any, run: Callable[[Session], Any]) -> list[tuple[str, Any]]:
    """The SELECTs on orders that ``run`` sends, in a transaction rolled back afterwards."""
    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM orders" in statement:
            sent.append((statement, parameters))

    with rt.db.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        try:
            with Session(bind=conn) as session:
                run(session)
                session.rollback()
        finally:
            event.remove(conn, "before_cursor_execute", capture)
    assert sent, "the read sent no SELECT on orders"
    return sent


def _plan(rt: Any, statement: str, parameters: Any) -> str:
    with rt.db.engine.connect() as conn:
        try:
            return query_plan(conn, statement, parameters)
        finally:
            conn.rollback()


def _reads_orders_by_index(plan: str) -> bool:
    if BACKEND == "sqlite":
        return "SCAN orders" not in plan and "USING" in plan and "INDEX" in plan
    return "Seq Scan on orders" not in plan and "Index" in plan


def _orders(rt: Any, api: Any) -> list[str]:
    codes = [api.create(citizen_phone=f"1380000100{n}")["code"] for n in range(4)]
    if BACKEND == "postgresql":
        with rt.db.write() as session:
            session.execute(text("ANALYZE orders"))
    return codes


def test_the_sweep_reads_each_clock_through_its_partial_indexes(rt: Any, api: Any) -> None:
    _orders(rt, api)
    sent = _statements(rt, lambda s: sweep(s, rt, now=utcnow() + timedelta(minutes=5)))
    plans = [_plan(rt, st, p) for st, p in sent]
    assert len(plans) == 4 and all(_reads_orders_by_index(plan) for plan in plans), plans
    if BACKEND == "postgresql":
        # Per clock: the not-yet-warned orders by warning time, the warned ones by deadline (SQLite,
        # without statistics, reads them by status and deadline through ix_orders_status_deadline).
        for name in (
            "ix_orders_handle_due",
            "ix_orders_handle_late",
            "ix_orders_sign_due",
            "ix_orders_sign_late",
        ):
            assert any(name in plan for plan in plans), (name, plans)


def test_the_boards_deadline_counts_read_the_handling_orders_by_index(rt: Any, api: Any) -> None:
    _orders(rt, api)
    sent = _statements(rt, lambda s: analytics.department_deadlines(s, now=utcnow(), directory=rt.directory))
    for statement, parameters in sent:
        plan = _plan(rt, statement, parameters)
        assert _reads_orders_by_index(plan), plan


def test_reads_by_master_use_the_merged_orders_index(rt: Any, api: Any) -> None:
    codes = _orders(rt, api)
    with rt.db.read() as session:
        master_id = session.scalar(select(Order.id).where(Order.code == codes[0]))
    # (read, whether it must go through the master index)
    reads: list[tuple[Callable[[Session], Any], bool]] = [
        # How many callers joined each offered order (the portal's "this is mine too").
        (lambda s: queries.public_summaries(s, codes=codes), True),
        # The hotspots' cache key counts the merged orders (hotspots.service.top_hotspots).
        (lambda s: s.scalar(select(func.count(Order.id)).where(Order.master_id.is_not(None))), True),
        # A master's merged orders, which its approved reply reaches (actions._fan_out_to_merged): by
        # master or by the merged status (PostgreSQL takes ix_orders_status, before 0043 as well).
        (
            lambda s: s.scalars(
                select(Order).where(Order.master_id == master_id, Order.status == Status.MERGED.value)
            ).all(),
            False,
        ),
    ]
    for read, by_master in reads:
        sent = [(st, p) for st, p in _statements(rt, read) if "master_id" in st.split("WHERE", 1)[-1]]
        assert sent
        for statement, parameters in sent:
            plan = _plan(rt, statement, parameters)
            assert _reads_orders_by_index(plan), plan
            if by_master:
                assert "ix_orders_master_id" in plan, plan


def test_open_orders_near_a_point_are_not_read_through_the_master_index(rt: Any, api: Any) -> None:
    """The portal's "this is mine too" asks for open orders with no master (master_id IS NULL): through
    the full master index that was nearly every order (SQLite and PostgreSQL chose it before 0043)."""
    _orders(rt, api)
    sent = _statements(rt, lambda s: queries.open_near(s, latitude=26.9, longitude=112.6, km=1.0))
    for statement, parameters in sent:
        plan = _plan(rt, statement, parameters)
        assert _reads_orders_by_index(plan) and "ix_orders_master_id" not in plan, plan


def test_the_migrated_database_has_no_index_the_reads_do_not_need(rt: Any) -> None:
    indexes = {i["name"]: i for i in inspect(rt.db.engine).get_indexes("orders")}
    assert "ix_orders_handle_sweep" not in indexes
    assert "ix_orders_sign_warn_at" not in indexes
    master = indexes["ix_orders_master_id"]
    assert master["column_names"] == ["master_id"]
    where = master.get("dialect_options", {}).get(f"{BACKEND}_where")
    assert where is not None and "master_id IS NOT NULL" in str(where).replace("(", "").replace(")", ""), (
        master
    )
