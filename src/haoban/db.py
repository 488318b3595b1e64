"""Engine, sessions, the declarative base and the schema migrations. Wiring only: no business rules here.

SQLite is the embedded default (WAL, foreign keys, busy timeout, durable commits); PostgreSQL is the
production store. Write transactions on SQLite start with ``BEGIN IMMEDIATE`` so two writers queue for
the lock instead of failing half-way when one tries to upgrade a read snapshot.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

try:  # POSIX: writers from several processes queue on an flock (see SQLiteWriteGate)
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    create_engine,
    event,
    insert,
    make_url,
)
from sqlalchemy.exc import OperationalError
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


class SQLiteWriteGate:
    """Where SQLite writers wait for the database's one write lock: a thread lock for the threads of
    this process, then an ``flock`` on a file beside the database for other processes.

    Why not SQLite's own busy handler: it sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries, so a writer
    that finds the lock taken sleeps well past its release and the holder often takes it again first;
    with two busy worker processes most of a waiting writer's time was sleep. Here the next writer goes
    as soon as the holder commits or rolls back. A writer still gives up after ``timeout`` seconds with
    SQLite's own "database is locked" error, as the busy timeout did, so callers see nothing new.
    """

    def __init__(self, path: str | None, *, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._pid = -1
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._holder: int | None = None  # id() of the DBAPI connection that holds the gate

    def _for_this_process(self) -> None:
        # A forked child must not share the parent's lock file description (flock locks belong to it).
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._thread_lock = threading.Lock()
            self._holder = None
            self._fd = None
            if self.path is not None and fcntl is not None:
                try:
                    self._fd = os.open(self.path + "-writelock", os.O_RDWR | os.O_CREAT, 0o600)
                except OSError:  # a read-only folder: other processes' writers use the busy handler
                    self._fd = None

    def acquire(self, dbapi_connection: Any) -> None:
        self._for_this_process()
        deadline = time.monotonic() + self.timeout
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise _locked()
        try:
            if self._fd is not None:
                self._lock_file(deadline)
        except BaseException:
            self._thread_lock.release()
            raise
        self._holder = _raw_id(dbapi_connection)

    def _lock_file(self, deadline: float) -> None:
        assert fcntl is not None and self._fd is not None
        pause = 0.00005
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked() from None
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def release(self, dbapi_connection: Any) -> None:
        if self._holder is None or self._holder != _raw_id(dbapi_connection) or self._pid != os.getpid():
            return
        self._holder = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)  # type: ignore[union-attr]
        self._thread_lock.release()


_write_gates: weakref.WeakKeyDictionary[Engine, SQLiteWriteGate] = weakref.WeakKeyDictionary()


def write_gate(engine: Engine) -> SQLiteWriteGate | None:
    """The gate an SQLite engine's writers queue at (None on PostgreSQL)."""
    return _write_gates.get(engine)


def _raw_id(connection: Any) -> int:
    # SQLAlchemy hands the dialect its pool's proxy of a connection, the events the DBAPI one.
    return id(getattr(connection, "dbapi_connection", connection))


def _locked() -> OperationalError:
    # The error SQLite's busy timeout gave, wrapped as SQLAlchemy wraps it (the app answers it with 503).
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))


def _configure_sqlite(engine: Engine, gate: SQLiteWriteGate) -> None:
    _write_gates[engine] = gate

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
        if not conn.get_execution_options().get("sqlite_immediate", False):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_connection = conn.connection.dbapi_connection
        gate.acquire(dbapi_connection)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.release(dbapi_connection)
            raise

    # The gate opens once the transaction has ended: after the COMMIT or ROLLBACK itself (SQLAlchemy's
    # "commit"/"rollback" events fire before it), or when the connection is dropped without either.
    dialect: Any = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def _commit(dbapi_connection: Any) -> None:
        try:
            do_commit(dbapi_connection)
        finally:
            gate.release(dbapi_connection)

    def _rollback(dbapi_connection: Any) -> None:
        try:
            do_rollback(dbapi_connection)
        finally:
            gate.release(dbapi_connection)

    dialect.do_commit, dialect.do_rollback = _commit, _rollback

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection: Any, _record: Any) -> None:
        gate.release(dbapi_connection)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _exception: Any) -> None:
        gate.release(dbapi_connection)


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
        database = make_url(url).database
        on_disk = database if database and database != ":memory:" else None
        _configure_sqlite(engine, SQLiteWriteGate(on_disk, timeout=30))
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


_T = TypeVar("_T")


def transaction_memo(session: Session, key: str, make: Callable[[], _T]) -> _T:
    """What ``make`` built for ``key`` in this session's current transaction, built on first use; a new
    transaction starts afresh (what was read or counted in a rolled-back one is not trusted).

    For what a bulk action would otherwise look up once per row: an item read, codes drawn ahead,
    rows issued but not written yet. The transaction is held and compared by identity."""
    txn = session.get_transaction()
    held = session.info.get(key)
    if held is None or held[0] is not txn:
        held = session.info[key] = (txn, make())
    value: _T = held[1]
    return value
