"""Query plans in tests: what SQLite or PostgreSQL would do with a statement, as one text."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection


def query_plan(conn: Connection, statement: str, parameters: Any) -> str:
    """The plan of ``statement`` exactly as the driver would receive it, one step per line.

    On PostgreSQL sequential scans are forbidden for the connection's transaction (``SET LOCAL``): a
    test database is small enough for one to win on cost, and the plan should show what the planner
    can use once the table is large. The caller ends that transaction."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(r[-1]) for r in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", parameters)
        return "\n".join(str(r[0]) for r in cursor.fetchall())
    finally:
        cursor.close()
