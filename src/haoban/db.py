"""Engine, sessions, the declarative base and the schema migrations. Wiring only: no business rules here.

SQLite is the embedded default (WAL, foreign keys, busy timeout, durable commits); PostgreSQL is the
production store. Write transactions on SQLite start with ``BEGIN IMMEDIATE`` so two writers queue for
the lock instead of failing half-way when one tries to upgrade a read snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, DateTime, Engine, MetaData, Table, create_engine, event, insert
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from haoban.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps naive UTC text, PostgreSQL timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # FULL: a commit is on disk when it returns (WAL makes that one fsync per commit).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None, *, echo: bool | None = None) -> Engine:
    settings = get_settings()
    url = url or settings.database_url
    echo = settings.sql_echo if echo is None else echo
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,  # a failed write's message must not carry names, phones, ID numbers
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=16,
            max_overflow=48,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url, echo=echo, pool_size=20, max_overflow=60, pool_pre_ping=True, hide_parameters=True
    )


class Database:
    """One engine and its session factories; the app and the CLI each hold one."""

    def __init__(
        self, url: str | None = None, *, echo: bool | None = None, replica_url: str | None = None
    ) -> None:
        self.engine = make_engine(url, echo=echo)
        self.url = str(self.engine.url)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        # Read-only work that may lag the primary a little (dashboards, exports) goes to a replica
        # when one is configured (HAOBAN_READ_REPLICA_URL), and to the primary otherwise.
        self.replica = make_engine(replica_url, echo=echo) if replica_url else None
        self._replica_reader = (
            sessionmaker(self.replica, expire_on_commit=False) if self.replica else self._reader
        )
        writer_bind = self.engine.execution_options(sqlite_immediate=True)
        self._writer_bind = writer_bind
        self._writer = sessionmaker(writer_bind, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self) -> Session:
        return self._reader()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    @contextmanager
    def read_only(self) -> Iterator[Session]:
        """A session for reads that may be served by the read replica (never for anything that must
        see a write just made, and never for writes: a replica refuses them)."""
        with self._replica_reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any error."""
        with self._writer() as session, session.begin():
            yield session

    def writer_connection(self) -> Connection:
        """A connection for a long-lived writer (the intake writer keeps one instead of checking one
        out, and pinging it, for every batch); its transactions begin as ``write()``'s do."""
        return self._writer_bind.connect()

    def upgrade(self) -> None:
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.replica is not None:
            self.replica.dispose()


# --- migrations (Alembic, run programmatically: ``haoban db upgrade``; ``serve`` upgrades itself) ------

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    if engine is not None:
        config.attributes["engine"] = engine
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """What schema comparisons look at: the job queue's tables (procrastinate's own schema, applied
    by a migration from its pinned SQL) are not described by our models."""
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def insert_returning_id(session: Session, table: Table, values: Mapping[str, Any]) -> int:
    """Insert one row of ``table`` at once and on its own (Core ``INSERT ... RETURNING id``); its id.

    For a row whose id is needed now (a case-file event names it) without a flush of everything else
    the session holds (in a bulk action, every other application's pending rows)."""
    return int(session.connection().execute(insert(table).returning(table.c.id), dict(values)).scalar_one())
