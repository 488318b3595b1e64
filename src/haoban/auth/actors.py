"""Who is acting: a staff member, or the platform itself, or a citizen. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from haoban.auth.roles import Role


@dataclass(frozen=True)
class Actor:
    id: int | None
    username: str
    name: str
    role: str
    department_id: int | None = None  # a handler's department


SYSTEM_ACTOR = Actor(id=None, username="system", name="系统 system", role=Role.SYSTEM)
CITIZEN_ACTOR = Actor(id=None, username="citizen", name="市民 citizen", role=Role.CITIZEN)
