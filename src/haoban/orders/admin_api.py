"""Reply templates (答复模板) administration: the same shape as the dispatch catalogue's API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from haoban.deps import ActorDep, OptionalRecordId, RecordId, RuntimeDep
from haoban.orders import access
from haoban.orders import reply_templates as templates
from haoban.orders.schemas import OrderReplyTemplateOut, ReplyTemplateOut, ReplyTemplateRevisionOut

router = APIRouter(prefix="/api/v1", tags=["reply templates"])


@router.get(
    "/admin/reply-templates",
    response_model=list[ReplyTemplateOut],
    summary="The reply templates: the general ones first, then by category",
)
def list_templates(rt: RuntimeDep, actor: ActorDep) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [templates.template_to_dict(t) for t in templates.list_templates(session, actor=actor)]


@router.post(
    "/admin/reply-templates", status_code=201, response_model=ReplyTemplateOut, summary="Add a reply template"
)
def create_template(rt: RuntimeDep, actor: ActorDep, data: templates.ReplyTemplateIn) -> dict[str, Any]:
    with rt.db.write() as session:
        return templates.template_to_dict(
            templates.create_template(session, data=data, directory=rt.directory, actor=actor)
        )


@router.get(
    "/admin/reply-templates/history", response_model=list[ReplyTemplateRevisionOut], summary="Every change"
)
def history(rt: RuntimeDep, actor: ActorDep, template_id: OptionalRecordId = None) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return [
            {
                "id": h.id,
                "template_id": h.template_id,
                "revision": h.revision,
                "change": h.change,
                "actor": h.actor,
                "at": h.at,
                "snapshot": h.snapshot,
            }
            for h in templates.template_history(session, actor=actor, template_id=template_id)
        ]


@router.post(
    "/admin/reply-templates/history/{revision_id}/restore",
    status_code=201,
    response_model=ReplyTemplateOut,
    summary="Restore a deleted reply template from its delete revision (once)",
)
def restore_template(rt: RuntimeDep, actor: ActorDep, revision_id: RecordId) -> dict[str, Any]:
    with rt.db.write() as session:
        return templates.template_to_dict(
            templates.restore_template(session, revision_id=revision_id, directory=rt.directory, actor=actor)
        )


@router.get(
    "/admin/reply-templates/{template_id}", response_model=ReplyTemplateOut, summary="One reply template"
)
def get_template(rt: RuntimeDep, actor: ActorDep, template_id: RecordId) -> dict[str, Any]:
    with rt.db.read() as session:
        return templates.template_to_dict(
            templates.get_template(session, template_id=template_id, actor=actor)
        )


@router.put(
    "/admin/reply-templates/{template_id}", response_model=ReplyTemplateOut, summary="Change a reply template"
)
def update_template(
    rt: RuntimeDep, actor: ActorDep, template_id: RecordId, data: templates.ReplyTemplateIn
) -> dict[str, Any]:
    with rt.db.write() as session:
        return templates.template_to_dict(
            templates.update_template(
                session, template_id=template_id, data=data, directory=rt.directory, actor=actor
            )
        )


@router.delete("/admin/reply-templates/{template_id}", status_code=204, summary="Remove a reply template")
def delete_template(rt: RuntimeDep, actor: ActorDep, template_id: RecordId) -> None:
    with rt.db.write() as session:
        templates.delete_template(session, template_id=template_id, actor=actor)


@router.get(
    "/orders/{code}/reply-templates",
    response_model=list[OrderReplyTemplateOut],
    summary="The reply templates for this order's category, with the order's values filled in",
)
def order_templates(rt: RuntimeDep, actor: ActorDep, code: str) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        order = access.get_order(session, code=code, actor=actor)
        return templates.templates_for_order(session, order=order, tz=rt.settings.tz)
