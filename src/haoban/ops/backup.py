"""Backups with verification: ``haoban backup FILE`` and ``haoban restore FILE``.

- **SQLite**: the online backup API copies a consistent snapshot while the server keeps running; the
  copy is checked at once (``PRAGMA integrity_check`` and every case file's hash chain).
- **PostgreSQL**: ``pg_dump --format=custom`` under a snapshot exported by the transaction that
  counted the rows, so the counts in the manifest are exactly what the dump holds; ``pg_restore``
  brings it back (``--clean --if-exists``, in one transaction).

Each backup gets a manifest beside it (``FILE.json``): format, schema revision, SHA-256 of the file and
the rows of every table. ``restore`` refuses a file whose checksum does not match, and after restoring
verifies the restored database: the same row counts as the manifest and no broken case-file chain
(``haoban audit verify``). Any difference is an error (non-zero exit).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url

from haoban.db import Database, current


class BackupError(Exception):
    """The backup or restore cannot be trusted; the message says why."""


@dataclass(frozen=True)
class Verified:
    tables: dict[str, int]
    case_files: int
    broken: int


def _counts(conn: Connection) -> dict[str, int]:
    names = sorted(inspect(conn).get_table_names())
    return {n: int(conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in names}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def verify(url: str) -> Verified:
    """Row counts and the case-file check of the database at ``url``."""
    from haoban.orders.events import verify_case_files

    db = Database(url)
    try:
        with db.engine.connect() as conn:
            tables = _counts(conn)
        with db.read() as session:
            checked, breaks = verify_case_files(session)
    finally:
        db.dispose()
    return Verified(tables=tables, case_files=checked, broken=len(breaks))


def backup(url: str, dest: Path) -> dict[str, Any]:
    """Write a backup of ``url`` to ``dest`` and its manifest; returns the manifest."""
    dest = dest.expanduser().resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    db = Database(url)
    try:
        schema = current(db.engine)
        if db.engine.dialect.name == "sqlite":
            fmt = "sqlite"
            raw = db.engine.raw_connection()
            try:
                target = sqlite3.connect(dest)
                with target:
                    raw.driver_connection.backup(target)  # type: ignore[union-attr]
                target.close()
            finally:
                raw.close()
            check = sqlite3.connect(dest)
            ok = check.execute("PRAGMA integrity_check").fetchone()[0]
            check.close()
            if ok != "ok":
                raise BackupError(f"the copy fails SQLite's integrity check: {ok}")
            copy = verify(f"sqlite:///{dest}")
            if copy.broken:
                raise BackupError(f"{copy.broken} case files in the copy have a broken hash chain")
            tables = copy.tables
        else:
            fmt = "pg_dump"
            with db.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                    tables = _counts(conn)
                    _run(
                        [
                            "pg_dump",
                            "--format=custom",
                            f"--snapshot={snapshot}",
                            "--file",
                            str(dest),
                            _libpq(url),
                        ]
                    )
            _run(["pg_restore", "--list", str(dest)])  # the archive reads back
    finally:
        db.dispose()
    manifest = {
        "format": fmt,
        "created_at": datetime.now(UTC).isoformat(),
        "schema": schema,
        "sha256": _sha256(dest),
        "tables": tables,
    }
    manifest_path(dest).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


def restore(source: Path, url: str, *, force: bool = False) -> Verified:
    """Restore ``source`` into the database at ``url`` and verify it against the manifest."""
    source = source.expanduser().resolve()
    mpath = manifest_path(source)
    if not mpath.is_file():
        raise BackupError(f"no manifest {mpath.name} beside the backup: cannot verify it")
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    if _sha256(source) != manifest["sha256"]:
        raise BackupError("the backup file does not match its manifest's checksum: it changed or is damaged")
    backend = make_url(url).get_backend_name()
    if manifest["format"] == "sqlite":
        if backend != "sqlite":
            raise BackupError("this is a SQLite backup; restore it into a SQLite database URL")
        target = Path(make_url(url).database or "").expanduser().resolve()
        if target.exists() and target.stat().st_size and not force:
            raise BackupError(f"{target} exists; pass --force to overwrite it")
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:
        if backend != "postgresql":
            raise BackupError("this is a PostgreSQL backup; restore it into a PostgreSQL database URL")
        if not force:
            with Database(url).engine.connect() as conn:
                if inspect(conn).get_table_names():
                    raise BackupError("the target database has tables; pass --force to replace them")
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "-d",
                _libpq(url),
                str(source),
            ]
        )
    result = verify(url)
    differ = {
        t: (manifest["tables"].get(t), result.tables.get(t))
        for t in set(manifest["tables"]) | set(result.tables)
        if manifest["tables"].get(t) != result.tables.get(t)
    }
    if differ:
        raise BackupError(f"row counts differ from the manifest (manifest, restored): {differ}")
    if result.broken:
        raise BackupError(f"{result.broken} restored case files have a broken hash chain")
    return result


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-500:]}")
