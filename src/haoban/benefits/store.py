"""Stored policies: the shipped DMN tables, uploads (a new version each), the version in force."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.auth import rbac
from haoban.auth.actors import Actor
from haoban.auth.roles import ADMIN_ROLES
from haoban.benefits import policy
from haoban.benefits.models import Policy
from haoban.db import utcnow

SHIPPED = Path(__file__).resolve().parent / "policies"


@dataclass(frozen=True)
class Loaded:
    row: Policy
    table: policy.PolicyTable


def shipped_files() -> list[Path]:
    return sorted(SHIPPED.glob("*.dmn"))


def upload(session: Session, *, xml: str | bytes, actor: Actor) -> tuple[Policy, bool]:
    """Store a DMN table as the next version of its policy; (row, created). Refused: ``PolicyInvalid``."""
    rbac.require_role(actor, *ADMIN_ROLES)
    table = policy.load(xml)
    newest = session.scalar(
        select(Policy).where(Policy.code == table.code).order_by(Policy.version.desc()).limit(1)
    )
    if newest is not None and newest.digest == table.digest:
        return newest, False
    row = Policy(
        code=table.code,
        version=(newest.version + 1) if newest else 1,
        name=table.name,
        subject_kind=table.subject_kind,
        period_unit=table.period_unit,
        dmn=table.xml,
        digest=table.digest,
        uploaded_by=actor.name,
        uploaded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row, True


def install_shipped(session: Session, *, actor: Actor) -> list[str]:
    """Install the shipped tables whose policy is not stored yet (an admin's versions are kept)."""
    installed = []
    known = set(session.scalars(select(Policy.code)))
    for path in shipped_files():
        table = policy.load(path.read_bytes())
        if table.code not in known:
            upload(session, xml=path.read_bytes(), actor=actor)
            installed.append(table.code)
    return installed


def in_force(session: Session, codes: list[str] | None = None) -> list[Loaded]:
    """The newest version of each policy, parsed."""
    newest = select(Policy.code, func.max(Policy.version).label("v")).group_by(Policy.code).subquery()
    stmt = select(Policy).join(newest, (Policy.code == newest.c.code) & (Policy.version == newest.c.v))
    if codes:
        stmt = stmt.where(Policy.code.in_(codes))
    return [Loaded(row, _parsed(row.dmn)) for row in session.scalars(stmt.order_by(Policy.code))]


@functools.lru_cache(maxsize=64)
def _parsed(dmn: str) -> policy.PolicyTable:
    """A stored table, parsed once per process. Matching asks for the tables in force at every birth
    and every period, and parsing the DMN (SpiffWorkflow's parser, then the checks) costs far more
    than the match. Keyed by the text itself, so a new version, or a row changed in place, is parsed
    afresh; the table is frozen, so sharing it is safe."""
    return policy.load(dmn)


def versions(session: Session) -> list[Policy]:
    return list(session.scalars(select(Policy).order_by(Policy.code, Policy.version.desc())))
