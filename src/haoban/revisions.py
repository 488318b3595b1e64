"""The history of administered configuration (the dispatch catalogue, reply templates): one mechanism.

Each kind of item keeps an append-only revision table (``RevisionColumns`` plus the item's id column);
every create, update, delete and restore appends the item's snapshot after the change, with who and when.
A deleted item is brought back from its delete revision once: the restore revision records which
deletion it undid (``restored_from`` in its snapshot), so the deletion leaves the list of restorable ones.
The domain checks roles and rebuilds the item from the snapshot; this module only keeps the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from haoban.db import UTCDateTime, utcnow
from haoban.errors import Conflict, NotFound

CHANGES = ("create", "update", "delete", "restore")


class RevisionColumns:
    """The columns every revision table shares (the table adds its item's id column, indexed)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(10))  # create / update / delete / restore
    snapshot: Mapped[str] = mapped_column(Text)  # JSON of the item after the change
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class History:
    """The history of one kind of item: ``model`` is its revision table, ``key`` the item id column,
    ``noun`` the item's name in messages ("rule", "reply template")."""

    model: Any
    key: str
    noun: str

    def record(
        self,
        session: Session,
        *,
        item_id: int,
        revision: int,
        change: str,
        snapshot: dict[str, Any],
        actor: str,
    ) -> Any:
        if change not in CHANGES:
            raise ValueError(f"unknown change {change!r}")
        row = self.model(
            revision=revision,
            change=change,
            snapshot=json.dumps(snapshot, ensure_ascii=False, default=str),
            actor=actor,
            **{self.key: item_id},
        )
        session.add(row)
        return row

    def entries(self, session: Session, *, item_id: int | None = None) -> list[Any]:
        """Every revision, oldest first (of one item when ``item_id`` is given)."""
        stmt = select(self.model).order_by(self.model.id)
        if item_id is not None:
            stmt = stmt.where(getattr(self.model, self.key) == item_id)
        return list(session.scalars(stmt))

    def restored(self, session: Session) -> set[int]:
        """The ids of delete revisions already undone by a restore."""
        stmt = select(self.model.snapshot).where(self.model.change == "restore")
        return {json.loads(snap).get("restored_from") for snap in session.scalars(stmt)} - {None}

    def deletion(self, session: Session, *, revision_id: int) -> dict[str, Any]:
        """The snapshot of a deleted item that may be restored: 404 when the revision is not a deletion,
        409 when it was restored already."""
        rev = session.get(self.model, revision_id)
        if rev is None or rev.change != "delete":
            raise NotFound(f"no deleted {self.noun} in revision #{revision_id}")
        if revision_id in self.restored(session):
            raise Conflict(f"the {self.noun} deleted in revision #{revision_id} was already restored")
        snapshot: dict[str, Any] = json.loads(rev.snapshot)
        return snapshot

    def deleted(
        self, session: Session, *, live: set[int], limit: int = 20
    ) -> list[tuple[Any, dict[str, Any]]]:
        """Deletions that can still be restored, newest first: (revision, snapshot) pairs."""
        out: list[tuple[Any, dict[str, Any]]] = []
        undone = self.restored(session)
        for rev in reversed(self.entries(session)):
            if rev.change != "delete" or getattr(rev, self.key) in live or rev.id in undone:
                continue
            out.append((rev, json.loads(rev.snapshot)))
            if len(out) >= limit:
                break
        return out
