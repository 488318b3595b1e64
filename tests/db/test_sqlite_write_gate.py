"""SQLite writers queue on the write gate (haoban.db.SQLiteWriteGate), not in SQLite's sleeping busy
handler: the gate is held from BEGIN IMMEDIATE until the transaction ends, however it ends."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from haoban.db import Database, write_gate


def _lock_file_is_held(db_file: Path) -> bool:
    """Another open file description tries the flock: what a writer in another process would see."""
    fd = os.open(str(db_file) + "-writelock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'gate.db'}")
    with database.write() as session:
        session.execute(text("CREATE TABLE t (v INTEGER)"))
    yield database
    database.dispose()


def test_gate_held_through_a_write_and_opened_by_commit(db: Database, tmp_path: Path) -> None:
    db_file = tmp_path / "gate.db"
    assert not _lock_file_is_held(db_file)
    with db.write() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        assert _lock_file_is_held(db_file)
    assert not _lock_file_is_held(db_file)
    with db.read() as session:  # readers never take it
        session.execute(text("SELECT v FROM t")).all()
        assert not _lock_file_is_held(db_file)


def test_gate_opened_by_rollback_and_by_a_dropped_connection(db: Database, tmp_path: Path) -> None:
    db_file = tmp_path / "gate.db"
    with pytest.raises(ZeroDivisionError), db.write() as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
        assert _lock_file_is_held(db_file)
        1 / 0  # noqa: B018
    assert not _lock_file_is_held(db_file)

    conn = db.writer_connection()
    conn.begin()
    conn.execute(text("INSERT INTO t VALUES (3)"))
    assert _lock_file_is_held(db_file)
    conn.invalidate()  # the connection is gone without COMMIT or ROLLBACK
    conn.close()
    assert not _lock_file_is_held(db_file)
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0


def _hold_write(url: str, ready: object, go: object) -> None:
    database = Database(url)
    with database.write() as session:
        session.execute(text("INSERT INTO t VALUES (10)"))
        ready.set()  # type: ignore[attr-defined]
        go.wait(30)  # type: ignore[attr-defined]
    database.dispose()


def test_a_writer_in_another_process_waits_at_the_gate_then_goes(db: Database, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_write, args=(url, ready, go))
    holder.start()
    try:
        assert ready.wait(60)
        assert _lock_file_is_held(tmp_path / "gate.db")
        done = threading.Event()

        def second_writer() -> None:
            with db.write() as session:
                session.execute(text("INSERT INTO t VALUES (11)"))
            done.set()

        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not done.wait(0.5)  # queued behind the other process's transaction
        go.set()
        thread.join(30)
        assert done.is_set()
    finally:
        go.set()
        holder.join(30)
    with db.read() as session:
        assert sorted(session.execute(text("SELECT v FROM t")).scalars()) == [10, 11]


def test_a_writer_that_waits_too_long_gets_database_is_locked(db: Database, tmp_path: Path) -> None:
    other = Database(f"sqlite:///{tmp_path / 'gate.db'}")
    with db.write() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        gate = write_gate(other.engine)
        assert gate is not None
        gate.timeout = 0.2
        with pytest.raises(OperationalError, match="database is locked"), other.write() as s2:
            s2.execute(text("INSERT INTO t VALUES (2)"))
    other.dispose()
    with db.read() as session:
        assert session.execute(text("SELECT v FROM t")).scalars().all() == [1]
