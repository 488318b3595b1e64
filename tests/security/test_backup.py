"""Issue 10, backups: ``haoban backup`` / ``haoban restore`` on SQLite (online backup API) and
PostgreSQL (pg_dump / pg_restore), verified by row counts against the manifest and the case-file check."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from haoban import cli, cliutil
from haoban.ops.backup import BackupError, backup, manifest_path, restore, verify
from tests.conftest import BACKEND, PG_URL, Api


@pytest.fixture
def empty_target(tmp_path: Path) -> Any:
    """Where a restore goes: a new SQLite file, or a new empty PostgreSQL database."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"haoban_restore_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_backup_then_restore_verifies_rows_and_case_files(
    api: Api, rt: Any, db_url: str, tmp_path: Path, empty_target: str
) -> None:
    for _ in range(3):
        api.create()
    file = tmp_path / "haoban.backup"
    manifest = backup(db_url, file)
    assert manifest["tables"]["orders"] >= 3 and manifest["tables"]["order_events"] >= 3
    assert json.loads(manifest_path(file).read_text())["sha256"] == manifest["sha256"]
    # The live database keeps changing after the backup; the restore holds the snapshot.
    api.create()
    result = restore(file, empty_target)
    assert result.tables == manifest["tables"] and result.broken == 0 and result.case_files >= 3
    assert verify(empty_target).tables["orders"] == manifest["tables"]["orders"]
    # Restoring over a database that has data needs --force.
    with pytest.raises(BackupError, match="force"):
        restore(file, empty_target)
    assert restore(file, empty_target, force=True).broken == 0


def test_a_damaged_backup_is_refused(db_url: str, tmp_path: Path, empty_target: str) -> None:
    file = tmp_path / "haoban.backup"
    backup(db_url, file)
    with file.open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\x00damage\x00")
    with pytest.raises(BackupError, match="checksum"):
        restore(file, empty_target)
    manifest_path(file).unlink()
    with pytest.raises(BackupError, match="manifest"):
        restore(file, empty_target)


def test_backup_command(rt: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    file = tmp_path / "nightly.backup"
    result = CliRunner().invoke(cli.app, ["backup", str(file)])
    assert result.exit_code == 0, result.output
    assert "tables" in result.output and file.is_file() and manifest_path(file).is_file()
