"""The intelligence panels on staff pages: similar open orders (并单 candidates) and reply quality.

The features are part of the product, so a page always shows them to the roles allowed to read them;
it asks the services, never the router table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.feedback import service as feedback
from haoban.hotspots import service as hotspots
from haoban.runtime import Runtime


def similar_orders(
    session: Session, rt: Runtime, *, code: str, actor: Actor, limit: int = 5
) -> list[dict[str, Any]] | None:
    """Open orders that say the same as ``code``; None when the actor's role may not read them."""
    if actor.role not in hotspots.READ_ROLES:
        return None
    return hotspots.order_duplicates(session, rt, code=code, actor=actor, limit=limit)["candidates"]


def reply_score(session: Session, *, code: str, actor: Actor) -> dict[str, Any] | None:
    """The latest reply-quality score of ``code`` ({} when not scored); None when not readable."""
    if actor.role not in feedback.SCORE_READ_ROLES:
        return None
    return feedback.reply_scores(session, code=code, actor=actor)["latest"] or {}


def merge_group(item: dict[str, Any], similar: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The "merge all" offer of a queue card: the master and the orders that would follow it."""
    if not similar:
        return None
    members = [{"code": item["code"], "status": item["status"], "received_at": item["received_at"]}]
    members += [{"code": c["code"], "status": c["status"], "received_at": c["received_at"]} for c in similar]
    master, duplicates = hotspots.group_master(members)
    if master is None or not duplicates:
        return None
    return {"master": master, "duplicates": duplicates}


def merge_all(
    session: Session, rt: Runtime, *, master: str, duplicates: list[str], actor: Actor
) -> dict[str, Any]:
    return hotspots.merge_all(session, rt, master=master, duplicates=duplicates, actor=actor)
