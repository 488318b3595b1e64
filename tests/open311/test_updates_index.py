"""servicerequestupdates reads order_events by time through ``ix_order_events_at``, not by scanning the
whole case file: the plan of the very query the endpoint runs, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, inspect, text

from haoban.db import utcnow
from haoban.open311.updates import updates_query
from tests.conftest import BACKEND
from tests.plans import query_plan

INDEX = "ix_order_events_at"


def _plan(session: Any) -> str:
    """EXPLAIN the statement exactly as the driver receives it (IN lists expanded, UTC values bound)."""
    end = utcnow()
    conn = session.connection()
    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        conn.execute(updates_query(end - timedelta(days=90), end)).all()
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    [(statement, parameters)] = sent
    return query_plan(conn, statement, parameters)


def test_the_index_exists(rt: Any) -> None:
    indexes = {i["name"]: i["column_names"] for i in inspect(rt.db.engine).get_indexes("order_events")}
    assert indexes.get(INDEX) == ["at"]


def test_servicerequestupdates_reads_order_events_through_the_time_index(rt: Any, api: Any) -> None:
    for n in range(3):
        api.create(citizen_phone=f"1380000000{n}")
    if BACKEND == "postgresql":
        with rt.db.write() as session:
            session.execute(text("ANALYZE order_events"))
    with rt.db.read() as session:  # SET LOCAL ends with this transaction
        plan = _plan(session)
    assert INDEX in plan, plan
    if BACKEND == "sqlite":
        assert "SCAN order_events" not in plan, plan
