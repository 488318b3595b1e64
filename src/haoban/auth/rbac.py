"""Authorisation helpers shared by every service: does the actor hold one of these roles?

Which orders an actor may see and which actions they may take are the orders domain's rules
(``haoban.orders.access``); the roles themselves and their groups are in ``haoban.auth.roles``.
"""

from __future__ import annotations

from collections.abc import Iterable

from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.errors import Forbidden


def require_role(actor: Actor, *roles: str) -> None:
    """Raise Forbidden unless ``actor`` holds one of ``roles``."""
    if actor.role not in roles:
        public = sorted(_public(roles))
        raise Forbidden(f"this needs one of the roles: {', '.join(public)}", roles_allowed=public)


def _public(roles: Iterable[str]) -> set[str]:
    return {str(r) for r in roles} - {Role.SYSTEM, Role.CITIZEN}
