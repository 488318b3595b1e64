"""Reply templates (答复模板) per category: administered with history, offered on the reply form.

A template belongs to a category path (and so to its children) or to every category (no category).
Admins create, change, delete and restore them; every change goes into the history kept by
``haoban.revisions``, the dispatch catalogue's mechanism. A handler replying to an order is offered the
templates of the order's category and its parents, most specific first, then the general ones, with the
placeholders filled from the order.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES
from haoban.config import city_tz
from haoban.db import utcnow
from haoban.directory.service import DirectorySnapshot
from haoban.errors import NotFound
from haoban.orders.models import Order, ReplyTemplate, ReplyTemplateRevision
from haoban.revisions import History

HISTORY = History(ReplyTemplateRevision, "template_id", "reply template")
# What a template may say in braces, and where the value comes from (the order).
PLACEHOLDERS = ("department", "code", "category", "district", "date")
_BRACES = re.compile(r"\{([^{}]*)\}")


class ReplyTemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=100, description="A short name shown in the picker")
    body: str = Field(min_length=1, max_length=2000, description="The reply text, with placeholders")
    category: str | None = Field(
        default=None,
        max_length=300,
        description="Category code or path (一级/二级); empty: offered for every category",
    )

    @field_validator("title", "body")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("required")
        return v

    @field_validator("category")
    @classmethod
    def _empty_is_none(cls, v: str | None) -> str | None:
        return (v or "").strip() or None

    @field_validator("body")
    @classmethod
    def _known_placeholders(cls, v: str) -> str:
        unknown = [name for name in _BRACES.findall(v) if name not in PLACEHOLDERS]
        if unknown:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {allowed}")
        return v


def template_to_dict(t: ReplyTemplate) -> dict[str, Any]:
    return {
        "id": t.id,
        "category": t.category,
        "title": t.title,
        "body": t.body,
        "revision": t.revision,
        "updated_at": t.updated_at,
    }


def _check_category(data: ReplyTemplateIn, directory: DirectorySnapshot) -> ReplyTemplateIn:
    """The category by path (a code is accepted and turned into its path); unknown ones refused."""
    if not data.category:
        return data
    ref = directory.require_category(data.category, field="category")
    return data.model_copy(update={"category": ref.path})


def _apply(t: ReplyTemplate, data: ReplyTemplateIn) -> None:
    t.title, t.body, t.category = data.title, data.body, data.category
    t.updated_at = utcnow()


def _record(session: Session, t: ReplyTemplate, change: str, actor: Actor, **extra: Any) -> None:
    HISTORY.record(
        session,
        item_id=t.id,
        revision=t.revision,
        change=change,
        snapshot={**template_to_dict(t), **extra},
        actor=actor.username,
    )


def _sorted(rows: list[ReplyTemplate]) -> list[ReplyTemplate]:
    return sorted(rows, key=lambda t: (t.category is not None, t.category or "", t.id))


def list_templates(session: Session, *, actor: Actor) -> list[ReplyTemplate]:
    """Every template: the general ones first, then by category path."""
    require_role(actor, *READ_CONFIG_ROLES)
    return _sorted(list(session.scalars(select(ReplyTemplate))))


def get_template(session: Session, *, template_id: int, actor: Actor) -> ReplyTemplate:
    require_role(actor, *READ_CONFIG_ROLES)
    t = session.get(ReplyTemplate, template_id)
    if t is None:
        raise NotFound(f"no reply template #{template_id}")
    return t


def create_template(
    session: Session, *, data: ReplyTemplateIn, directory: DirectorySnapshot, actor: Actor
) -> ReplyTemplate:
    require_role(actor, *ADMIN_ROLES)
    data = _check_category(data, directory)
    t = ReplyTemplate(revision=1)
    _apply(t, data)
    session.add(t)
    session.flush()
    _record(session, t, "create", actor)
    return t


def update_template(
    session: Session, *, template_id: int, data: ReplyTemplateIn, directory: DirectorySnapshot, actor: Actor
) -> ReplyTemplate:
    require_role(actor, *ADMIN_ROLES)
    t = session.get(ReplyTemplate, template_id)
    if t is None:
        raise NotFound(f"no reply template #{template_id}")
    data = _check_category(data, directory)
    _apply(t, data)
    t.revision += 1
    session.flush()
    _record(session, t, "update", actor)
    return t


def delete_template(session: Session, *, template_id: int, actor: Actor) -> None:
    require_role(actor, *ADMIN_ROLES)
    t = session.get(ReplyTemplate, template_id)
    if t is None:
        raise NotFound(f"no reply template #{template_id}")
    t.revision += 1
    _record(session, t, "delete", actor)
    session.delete(t)
    session.flush()


def restore_template(
    session: Session, *, revision_id: int, directory: DirectorySnapshot, actor: Actor
) -> ReplyTemplate:
    """Bring a deleted template back from its history, as a new template; restored once."""
    require_role(actor, *ADMIN_ROLES)
    snap = HISTORY.deletion(session, revision_id=revision_id)
    data = _check_category(
        ReplyTemplateIn.model_validate({k: v for k, v in snap.items() if k in ReplyTemplateIn.model_fields}),
        directory,
    )
    t = ReplyTemplate(revision=1)
    _apply(t, data)
    session.add(t)
    session.flush()
    _record(session, t, "restore", actor, restored_from=revision_id)
    session.flush()
    return t


def template_history(
    session: Session, *, actor: Actor, template_id: int | None = None
) -> list[ReplyTemplateRevision]:
    require_role(actor, *READ_CONFIG_ROLES)
    return HISTORY.entries(session, item_id=template_id)


def deleted_templates(
    session: Session, *, actor: Actor, live: set[int]
) -> list[tuple[ReplyTemplateRevision, dict[str, Any]]]:
    """Deleted templates that can be restored, newest first: (delete revision, the template as it was)."""
    require_role(actor, *READ_CONFIG_ROLES)
    return HISTORY.deleted(session, live=live)


# --- on the reply form ------------------------------------------------------------------------------


def applies_to(template_category: str | None, order_category: str | None) -> bool:
    """A template is offered for its category and the categories under it; a general one for all."""
    if template_category is None:
        return True
    path = order_category or ""
    return path == template_category or path.startswith(template_category + "/")


def fill(body: str, values: dict[str, str]) -> str:
    """The template with its placeholders replaced by the order's values (unknown ones left alone)."""
    return _BRACES.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def order_values(order: Order, *, tz: Any = None) -> dict[str, str]:
    """What the placeholders become for ``order``, in Chinese (a reply is written to the citizen)."""
    received: datetime = order.received_at
    local = received.astimezone(tz or city_tz()) if received.tzinfo else received
    category = order.category.path.split("/")[-1] if order.category else ""
    return {
        "department": order.lead_department.name if order.lead_department else "",
        "code": order.code,
        "category": category,
        "district": order.district.name if order.district else "",
        "date": f"{local.month}月{local.day}日",
    }


def templates_for_order(session: Session, *, order: Order, tz: Any = None) -> list[dict[str, Any]]:
    """The templates for the order's category (most specific first, then the general ones), filled.
    The caller has checked that the actor may see the order."""
    path = order.category.path if order.category else None
    rows = [t for t in session.scalars(select(ReplyTemplate)) if applies_to(t.category, path)]
    rows.sort(key=lambda t: (-(t.category or "").count("/") - (t.category is not None), t.id))
    values = order_values(order, tz=tz)
    return [
        {"id": t.id, "title": t.title, "category": t.category, "text": fill(t.body, values)} for t in rows
    ]
