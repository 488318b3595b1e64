"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import haoban.models  # noqa: F401
from haoban.db import Base, current, include_name


def test_schema_matches_models(rt: Any) -> None:
    with rt.db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"include_name": include_name}), Base.metadata
        )
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_at_head_and_sqlite_pragmas(rt: Any) -> None:
    from alembic.script import ScriptDirectory

    from haoban.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current(rt.db.engine) == head
    if rt.db.is_sqlite:
        with rt.db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_upgrade_is_idempotent(rt: Any) -> None:
    rt.db.upgrade()
    rt.db.upgrade()
    assert current(rt.db.engine) is not None
