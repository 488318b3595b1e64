"""How orders are shown: the list row, the full view, a case-file event, the citizen's view, the
answer to a registration. Plain dicts shaped like ``haoban.orders.schemas``; personal data masked
where the reader may not see it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson

from haoban.auth.actors import Actor
from haoban.db import utcnow
from haoban.directory.vocabulary import TYPE_LABELS
from haoban.orders import access, pii, workflow
from haoban.orders.citizen import mask_id_number, mask_name, mask_phone
from haoban.orders.models import Order, OrderEvent
from haoban.orders.workflow import STATUS_LABELS, Status
from haoban.runtime import Runtime
from haoban.security.privacy import mask_text
from haoban.sla.service import state_of

# Case-file actions a citizen sees on the tracking page (the rest is the hotline's internal work).
CITIZEN_ACTIONS = frozenset(
    {
        "register",
        "dispatch",
        "sign",
        "reply",
        "review_reply",
        "callback",
        "reopen",
        "close",
        "answer",
        "transfer",
        "follow_master",
        "merge",
        "archive",
        # 跨区域转办: the order went to the city where the matter is, which answers and closes it.
        "transfer_region",
        "region_accepted",
        "remote_reply",
        "remote_close",
    }
)


# What each step of the case file means to the citizen, in plain words (zh, en). Keyed by action, or by
# (action, status reached) where one action can end two ways.
CITIZEN_STEPS: dict[str | tuple[str, str], tuple[str, str]] = {
    "register": ("已收到您的诉求", "We received your appeal"),
    "answer": ("已当场答复您", "Answered on the spot"),
    "transfer": ("已转交 110/119/120/122 处理", "Passed to the emergency services"),
    "dispatch": ("已交给承办部门", "Sent to the department that will handle it"),
    "sign": ("承办部门已接手，正在办理", "The department took it on and is working on it"),
    "reply": (
        "承办部门已答复，热线正在审核答复",
        "The department replied; the hotline is checking the reply",
    ),
    ("review_reply", "callback"): (
        "答复已审核通过，我们会回访您",
        "The reply was approved; we will call you back",
    ),
    ("review_reply", "signed"): (
        "答复不够完整，已退回部门继续办理",
        "The reply was not complete; the department is working on it again",
    ),
    ("callback", "closed"): ("已回访，诉求办结", "We called you back; the appeal is closed"),
    ("callback", "callback"): (
        "已回访，您对结果不满意，热线将决定重新办理",
        "We called you back; you were not satisfied, the hotline decides on further work",
    ),
    "callback": ("已回访", "We called you back"),
    "reopen": ("重新办理", "Taken up again"),
    "close": ("诉求已办结", "The appeal is closed"),
    "archive": ("已存档", "Filed away"),
    "merge": ("与反映同一问题的诉求合并办理", "Joined with an appeal about the same problem"),
    "follow_master": ("合并办理的诉求已答复", "The appeal yours was joined with was answered"),
    "transfer_region": (
        "事发地在外地，已转至当地 12345 办理",
        "It happened in another city: passed to that city's 12345",
    ),
    "region_accepted": ("当地 12345 已受理", "The other city's 12345 took it on"),
    "remote_reply": ("当地已答复", "The other city answered"),
    "remote_close": ("当地已回访，诉求办结", "The other city called you back; the appeal is closed"),
}


def citizen_step(action: str, status: str | None) -> tuple[str, str]:
    """The plain words for one case-file step (zh, en)."""
    hit = CITIZEN_STEPS.get((action, status or "")) or CITIZEN_STEPS.get(action)
    if hit:
        return hit
    try:
        return STATUS_LABELS[Status(status or "")]
    except ValueError:
        return (action, action)


def status_label(status: str, lang: str = "zh") -> str:
    zh, en = STATUS_LABELS[Status(status)]
    return en if lang == "en" else zh


def deadline_views(order: Order, *, now: datetime, warning_ratio: float) -> dict[str, dict[str, Any]]:
    status = Status(order.status)
    sign_done = (
        order.signed_at if order.signed_at else (None if status == Status.DISPATCHED else order.updated_at)
    )
    handle_done = order.replied_at or order.closed_at
    if status not in workflow.HANDLING_STATUSES and handle_done is None:
        handle_done = order.updated_at if status in workflow.FINAL_STATUSES else None
    return {
        "sign": {
            "at": order.sign_deadline,
            "state": state_of(
                start=order.sign_started_at or order.received_at,
                deadline=order.sign_deadline,
                now=now,
                done_at=sign_done,
                warning_ratio=warning_ratio,
            )
            if order.sign_deadline
            else None,
        },
        "handle": {
            "at": order.handle_deadline,
            "state": state_of(
                start=order.clock_started_at,
                deadline=order.handle_deadline,
                now=now,
                done_at=handle_done,
                warning_ratio=warning_ratio,
            ),
            "provisional": order.deadline_provisional,
        },
    }


def order_summary(order: Order, rt: Runtime, *, now: datetime | None = None) -> dict[str, Any]:
    """The list view: personal data masked."""
    now = now or utcnow()
    return {
        "code": order.code,
        "status": order.status,
        "status_label": status_label(order.status),
        "channel": order.channel,
        "type": order.order_type,
        "type_label": TYPE_LABELS[order.order_type][0]
        if order.order_type in TYPE_LABELS
        else order.order_type,
        "urgency": order.urgency,
        "subject": mask_text(order.subject),  # lists show free text with phone and ID numbers masked
        "citizen_name": mask_name(order.citizen_name),
        "citizen_phone": mask_phone(order.citizen_phone),
        "district": order.district.name if order.district else None,
        "category": order.category.path if order.category else None,
        "department": order.lead_department.code if order.lead_department else None,
        "department_name": order.lead_department.name if order.lead_department else None,
        "received_at": order.received_at,
        "deadlines": deadline_views(order, now=now, warning_ratio=rt.settings.warning_ratio),
        "supervision_level": order.supervision_level,
        "redo_count": order.redo_count,
    }


def order_detail(order: Order, rt: Runtime, *, actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """The full view for staff who may see the order; auditors get personal data masked."""
    now = now or utcnow()
    out = order_summary(order, rt, now=now)
    masked = not pii.may_see_unmasked(actor)
    out.update(
        subject=mask_text(order.subject) if masked else order.subject,
        content=mask_text(order.content) if masked else order.content,
        citizen_name=mask_name(order.citizen_name) if masked else order.citizen_name,
        citizen_phone=mask_phone(order.citizen_phone) if masked else order.citizen_phone,
        citizen_id_number=mask_id_number(order.citizen_id_number),
        address=order.address,
        latitude=order.latitude,
        longitude=order.longitude,
        category_code=order.category.code if order.category else None,
        co_handlers=[c.department.code for c in order.co_handlers],
        dispatch={
            "source": order.dispatch_source,
            "confidence": order.dispatch_confidence,
            "rule_id": order.dispatch_rule_id,
            "suggestions": json.loads(order.suggestions) if order.suggestions else [],
        },
        answer=order.answer_text,
        transfer_target=order.transfer_target,
        return_reason=order.return_reason,
        extension_request={"days": order.extension_days, "reason": order.extension_reason}
        if order.extension_days
        else None,
        reply=order.reply_text,
        replied_at=order.replied_at,
        signed_at=order.signed_at,
        closed_at=order.closed_at,
        callback={"result": order.callback_result, "comment": order.callback_comment}
        if order.callback_result
        else None,
        master=order.master.code if order.master_id and order.master else None,
        version=order.version,
        event_count=order.event_count,
        allowed_actions=access.allowed_actions(order, actor, now=now),
    )
    return out


def event_view(e: OrderEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "action": e.action,
        "actor": e.actor_name,
        "role": e.actor_role,
        "at": e.at,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "payload": json.loads(e.payload),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def track_view(order: Order, events: Iterable[OrderEvent]) -> dict[str, Any]:
    """The citizen's view: the department's reply only once the hotline approved it."""
    status = Status(order.status)
    reply_visible = status in {Status.CALLBACK, Status.CLOSED, Status.ARCHIVED}
    return {
        "code": order.code,
        "status": order.status,
        "status_label": STATUS_LABELS[status][0],
        "status_label_en": STATUS_LABELS[status][1],
        "subject": order.subject,
        # The citizen's own words in full; phone and ID numbers masked (the page may be bookmarked).
        "content": mask_text(order.content),
        "type": order.order_type,
        "received_at": order.received_at,
        "department": order.lead_department.name if order.lead_department else None,
        "department_en": (order.lead_department.name_en or None) if order.lead_department else None,
        "handle_deadline": order.handle_deadline,
        "open": status in workflow.OPEN_STATUSES,
        "answer": order.answer_text,
        "reply": order.reply_text if reply_visible else None,
        # A merged caller is answered by its master (并单): show which order that is.
        "master": order.master.code if order.master_id and order.master else None,
        "timeline": [
            {
                "at": e.at,
                "action": e.action,
                "status": e.to_status,
                "status_label": status_label(e.to_status),
                "text": citizen_step(e.action, e.to_status)[0],
                "text_en": citizen_step(e.action, e.to_status)[1],
            }
            for e in events
            if e.action in CITIZEN_ACTIONS
        ],
    }


def created_view(rt: Runtime, *, code: str, created: bool, row: dict[str, Any]) -> dict[str, Any]:
    """The answer to a registration, from the row intake wrote (no second read)."""
    directory = rt.directory
    dept = directory.departments_by_id.get(row.get("lead_department_id") or -1)
    cat = directory.categories_by_id.get(row.get("category_id") or -1)
    return {
        "code": code,
        "created": created,
        "status": row["status"],
        "status_label": status_label(row["status"]),
        "category": cat.path if cat else None,
        "category_code": cat.code if cat else None,
        "department": dept.code if dept else None,
        "department_name": dept.name if dept else None,
        "deadlines": {
            "sign": {"at": row.get("sign_deadline"), "provisional": False},
            "handle": {"at": row["handle_deadline"], "provisional": bool(row["deadline_provisional"])},
        },
        "dispatch": {
            "source": row["dispatch_source"],
            "confidence": row["dispatch_confidence"],
            "rule_id": row["dispatch_rule_id"],
            "suggestions": [],
        },
    }


def created_json(view: dict[str, Any]) -> bytes:
    """``created_view`` as the bytes FastAPI would send for ``CreatedOrderOut`` (the view already has
    the model's exact shape: every field, defaults filled in; times in ISO 8601 with ``Z`` for UTC), without
    validating our own dict once more through the response model's union — ~0.1 ms per create
    (tests/orders/test_orders_codes.py compares the two)."""
    return orjson.dumps(view, option=orjson.OPT_UTC_Z)


def workflow_view(
    statuses: Mapping[Any, tuple[str, str]] = STATUS_LABELS,
    transitions: Iterable[workflow.Transition] = workflow.TRANSITIONS,
) -> dict[str, Any]:
    """A state table as published at ``GET /api/v1/workflow`` (the orders') or by another domain."""
    return {
        "statuses": {s.value: {"zh": zh, "en": en} for s, (zh, en) in statuses.items()},
        "actions": [
            {
                "action": t.action,
                "label": {"zh": t.label[0], "en": t.label[1]},
                "from": sorted(s.value for s in t.sources if s is not None),
                "to": {k or "": v.value for k, v in t.targets.items()},
                "stays": t.stays,
                "internal": t.internal,
                "roles": sorted(str(r) for r in t.roles),
                "required": list(t.required),
                "decisions": list(t.decisions),
                "lead_department_only": t.lead_department_only,
                "guards": [{"name": g.name, "message": g.message} for g in t.guards],
                "description": t.description,
            }
            for t in transitions
        ],
    }
