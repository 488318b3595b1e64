"""Bundle definitions in the database: upload (validated, versioned), look up, and the parsed cache.

An upload is validated by ``haoban.bundles.loader`` against the catalogue's items and the directory's
departments; anything invalid is refused with every problem (file, element, reason) and nothing is
stored. A valid upload becomes the next version of its bundle; new applications start on the latest
version, running ones stay on theirs (the engine pins code, version and digest). Uploading the same
four files again changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.applications.items import STORED, catalogue_items, item_departments
from haoban.applications.models import BundleDefinitionRow
from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import ADMIN_ROLES
from haoban.bundles.definitions import FILES, Definition, DefinitionError, Problem
from haoban.bundles.loader import digest, load_definition, load_shipped
from haoban.errors import NotFound
from haoban.runtime import Runtime

_COLUMNS = {
    "process.bpmn": "process_bpmn",
    "form.schema.json": "form_schema",
    "mapping.yaml": "mapping",
    "bundle.yaml": "meta",
}


class DefinitionCache:
    """Parsed definitions by (code, version, digest). Rows never change once stored, so every process
    may keep what it parsed; a new version is a new key."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, int, str], Definition] = {}
        self._lock = threading.Lock()

    def get(self, row: BundleDefinitionRow, rt: Runtime) -> Definition:
        key = (row.code, row.version, row.digest)
        found = self._by_key.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._by_key.get(key)
            if found is None:
                found = load_definition(files=files_of(row), version=row.version, known_items=STORED)
                self._by_key[key] = found
            return found


def cache(rt: Runtime) -> DefinitionCache:
    return rt.local("applications.definitions", DefinitionCache)


def files_of(row: BundleDefinitionRow) -> dict[str, bytes]:
    return {name: getattr(row, column) for name, column in _COLUMNS.items()}


def latest_row(session: Session, code: str) -> BundleDefinitionRow | None:
    return session.scalars(
        select(BundleDefinitionRow)
        .where(BundleDefinitionRow.code == code)
        .order_by(BundleDefinitionRow.version.desc())
        .limit(1)
    ).first()


def latest_rows(session: Session) -> list[BundleDefinitionRow]:
    newest = (
        select(BundleDefinitionRow.code, func.max(BundleDefinitionRow.version).label("v"))
        .group_by(BundleDefinitionRow.code)
        .subquery()
    )
    return list(
        session.scalars(
            select(BundleDefinitionRow)
            .join(
                newest,
                (newest.c.code == BundleDefinitionRow.code) & (newest.c.v == BundleDefinitionRow.version),
            )
            .order_by(BundleDefinitionRow.code)
        )
    )


def versions(session: Session, code: str) -> list[BundleDefinitionRow]:
    return list(
        session.scalars(
            select(BundleDefinitionRow)
            .where(BundleDefinitionRow.code == code)
            .order_by(BundleDefinitionRow.version)
        )
    )


def require_latest(session: Session, code: str) -> BundleDefinitionRow:
    row = latest_row(session, code)
    if row is None:
        raise NotFound(f"no bundle {code!r}", message_zh=f"没有“一件事” {code}", field="bundle")
    return row


def require_latest_id(session: Session, code: str) -> int:
    """The id of the bundle's latest version (its parsed definition: ``definition_by_id``, cached)."""
    found = session.scalar(
        select(BundleDefinitionRow.id)
        .where(BundleDefinitionRow.code == code)
        .order_by(BundleDefinitionRow.version.desc())
        .limit(1)
    )
    if found is None:
        raise NotFound(f"no bundle {code!r}", message_zh=f"没有“一件事” {code}", field="bundle")
    return found


def definition_of(rt: Runtime, row: BundleDefinitionRow) -> Definition:
    return cache(rt).get(row, rt)


def check(session: Session, rt: Runtime, *, files: Mapping[str, bytes]) -> Definition:
    """Validate the four files against the catalogue and the directory; the definition, or
    ``DefinitionError`` with every problem. Stores nothing.

    Every task must name an active item of the service catalogue, with that item's department; a
    material's ``licence_kind`` must name a catalogue item too.
    """
    missing = [name for name in FILES if name not in files]
    if missing:
        raise DefinitionError([Problem(name, "", "缺少文件", "file missing") for name in missing])
    raw = {name: bytes(files[name]) for name in FILES}
    departments = [code for code, ref in rt.directory.departments.items() if ref.active]
    items = catalogue_items(session)
    # Version 1 for the check: the number only labels the parsed definition.
    definition = load_definition(files=raw, version=1, known_items=items, known_departments=departments)
    unknown = [
        Problem(
            "bundle.yaml",
            f"materials.{m.key}.licence_kind",
            f"事项 {m.licence_kind} 不在事项目录中",
            f"item {m.licence_kind} is not in the catalogue",
        )
        for m in definition.materials.values()
        if m.licence_kind and m.licence_kind not in items
    ]
    if unknown:
        raise DefinitionError(unknown)
    return definition


def upload(
    session: Session, rt: Runtime, *, files: Mapping[str, bytes], actor: Actor
) -> tuple[BundleDefinitionRow, bool]:
    """Validate (``check``) and store the next version of a bundle; (row, created). Admins only."""
    require_role(actor, *ADMIN_ROLES)
    definition = check(session, rt, files=files)
    raw = {name: bytes(files[name]) for name in FILES}
    latest = latest_row(session, definition.code)
    if latest is not None and latest.digest == digest(raw):
        return latest, False
    row = BundleDefinitionRow(
        code=definition.code,
        version=(latest.version + 1) if latest is not None else 1,
        digest=digest(raw),
        name=definition.name,
        name_en=definition.name_en,
        uploaded_by=actor.name,
        **{column: raw[name] for name, column in _COLUMNS.items()},
    )
    session.add(row)
    session.flush()
    return row, True


def install_shipped(session: Session, rt: Runtime, *, actor: Actor) -> list[str]:
    """Store the shipped bundles that are not stored yet (demo seeding, first start); their codes."""
    from haoban.bundles.definitions import DEFINITIONS_DIR

    installed = []
    for code in sorted(load_shipped(known_items=item_departments())):
        if latest_row(session, code) is not None:
            continue
        directory = DEFINITIONS_DIR / code
        upload(session, rt, files={name: (directory / name).read_bytes() for name in FILES}, actor=actor)
        installed.append(code)
    return installed


def definition_by_id(session: Session, rt: Runtime, definition_id: int) -> Definition:
    """The parsed definition an application is pinned to (cached by id: stored rows never change)."""
    by_id: dict[int, Definition] = rt.local("applications.definitions_by_id", dict)
    found = by_id.get(definition_id)
    if found is None:
        row = session.get(BundleDefinitionRow, definition_id)
        if row is None:
            raise NotFound(f"bundle definition #{definition_id} is missing")
        found = by_id[definition_id] = definition_of(rt, row)
    return found
