"""Actions people take on orders (API and pages): parse the request against the table, then go through
the gate with the action's effect — what it does to the order besides moving it.

Effects take the gate's ``Step``; they may refuse with a 422 (a field that cannot be accepted) before
anything is written. A master's approved reply reaches its merged duplicates through the gate too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from haoban.auth.actors import SYSTEM_ACTOR, Actor
from haoban.auth.roles import Role
from haoban.db import utcnow
from haoban.directory.service import DeptRef
from haoban.dispatch.models import DispatchCorrection
from haoban.dispatch.routing import TRANSFER_TARGETS
from haoban.errors import Conflict, Invalid, NotFound
from haoban.notifications.service import enqueue
from haoban.orders import access, events, gate, presenters, workflow
from haoban.orders.gate import Step
from haoban.orders.models import Order, OrderCoHandler
from haoban.orders.schemas import ActionRequest
from haoban.orders.workflow import CALLBACK_RESULTS, Status
from haoban.runtime import Runtime
from haoban.sla.service import extended_deadline, handle_deadline, sign_deadline, warn_at


def apply_action(
    session: Session,
    rt: Runtime,
    *,
    code: str,
    action: str,
    data: ActionRequest,
    actor: Actor,
    now: datetime | None = None,
) -> Order:
    """Take ``action`` on order ``code``: visibility (404), permission (403), state (409), fields (422)."""
    if action not in workflow.PUBLIC_ACTIONS:
        raise NotFound(f"unknown action {action!r}; actions are: {', '.join(workflow.PUBLIC_ACTIONS)}")
    t = workflow.BY_ACTION[action]
    now = now or utcnow()
    order = access.get_order(session, code=code, actor=actor, lock=True)
    refused = access.refusal(order, t, actor, now)
    if refused is not None:
        raise refused
    if data.expected_version is not None and data.expected_version != order.version:
        raise Conflict(
            "the order changed since you loaded it; reload and try again",
            status=order.status,
            version=order.version,
        )
    missing = {f: "required for this action" for f in t.required if getattr(data, f) in (None, "", [])}
    if missing:
        raise Invalid(f"{action} needs: {', '.join(missing)}", fields=missing)
    payload = {f: getattr(data, f) for f in ("reason", "note", "comment") if getattr(data, f)}
    decision = getattr(data, t.decision_field) if t.decision_field else None
    step = gate.transition(
        rt,
        order,
        action=action,
        actor=actor,
        at=now,
        session=session,
        decision=decision,
        data=data,
        payload=payload,
        effect=EFFECTS.get(action),
    )
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("someone else changed this order at the same moment; reload and try again") from None
    if action == "review_reply" and decision == "approve":
        _fan_out_to_merged(step)
    _progress_sms(step)
    return order


# Steps the citizen hears of by SMS, in the tracking page's words (the answer and the approved reply
# send their own message with the text; a call-back only when it closes the appeal).
PROGRESS_SMS = frozenset({"dispatch", "sign", "reopen", "close", "merge", "callback"})


def _progress_sms(step: Step) -> None:
    o = step.order
    if step.action not in PROGRESS_SMS or not o.citizen_phone:
        return
    if step.action == "callback" and o.status != Status.CLOSED:
        return
    enqueue(
        _session(step),
        channel="sms",
        recipient=o.citizen_phone,
        subject="12345",
        body=progress_sms(o.code, step.action, o.status),
        order_id=o.id,
        dedupe_key=progress_key(o.code, o.event_count),
    )


def progress_sms(code: str, action: str, status: str) -> str:
    """The citizen's SMS for one step (a manual dispatch, or the automatic one at intake)."""
    words = presenters.citizen_step(action, status)[0]
    return f"【12345】您的诉求（编号 {code}）进度：{words}。"


def progress_key(code: str, event_count: int) -> str:
    """One progress SMS per case-file step: the step's position names it."""
    return f"progress:{code}:{event_count}"


# --- effects ------------------------------------------------------------------------------------


def _data(step: Step) -> ActionRequest:
    assert step.data is not None
    return step.data


def _session(step: Step) -> Session:
    assert step.session is not None
    return step.session


def _terms(step: Step) -> Any:
    return step.rt.sla.terms(step.order.order_type, step.order.urgency)


def _set_sign_clock(step: Step) -> None:
    o = step.order
    sign = sign_deadline(step.rt.calendar, _terms(step), step.at)
    o.sign_started_at = step.at
    o.sign_deadline = sign.at
    o.sign_warn_at = warn_at(step.at, sign.at, step.rt.settings.warning_ratio)
    o.sign_alert = None
    o.deadline_provisional = o.deadline_provisional or sign.provisional
    step.payload["sign_deadline"] = sign.at.isoformat()


def _route_to(step: Step, department: DeptRef, co_handler_codes: list[str] | None) -> None:
    o, directory = step.order, step.rt.directory
    co_ids = []
    for code in co_handler_codes or []:
        ref = directory.require_department(code, field="co_handlers")
        if ref.id != department.id:
            co_ids.append(ref.id)
    o.lead_department_id = department.id
    o.co_handlers = [OrderCoHandler(department_id=d) for d in dict.fromkeys(co_ids)]
    o.dispatched_at = step.at
    o.signed_at = None
    _set_sign_clock(step)
    step.payload["department"] = department.code
    if co_handler_codes:
        step.payload["co_handlers"] = co_handler_codes
    enqueue(
        _session(step),
        channel="internal",
        recipient=f"department:{department.code}",
        subject="新工单",
        body=f"工单 {o.code} 已派至贵单位，请及时签收。",
        order_id=o.id,
    )


def _record_correction(
    step: Step, *, source: str, chosen_category: str | None, chosen_department: str
) -> None:
    """A person's dispatch that differs from the machine's suggestion becomes a training example."""
    o, directory = step.order, step.rt.directory
    suggestions = json.loads(o.suggestions) if o.suggestions else []
    suggested_cat = suggestions[0]["category"] if suggestions else None
    suggested_dept = directory.department_code(o.lead_department_id)
    if source == "human_dispatch" and o.dispatch_source == "human":
        return
    if chosen_department == suggested_dept and (chosen_category in (None, suggested_cat)):
        return
    current_cat = directory.categories_by_id.get(o.category_id) if o.category_id else None
    _session(step).add(
        DispatchCorrection(
            order_id=o.id,
            text=f"{o.subject}\n{o.content}",
            suggested_category=suggested_cat or (current_cat.code if current_cat else None),
            suggested_department=suggested_dept,
            chosen_category=chosen_category or (current_cat.code if current_cat else None),
            chosen_department=chosen_department,
            source=source,
            actor=step.actor.username,
            at=step.at,
        )
    )


def _on_dispatch(step: Step) -> None:
    data, o, directory = _data(step), step.order, step.rt.directory
    department = directory.require_department(data.department or "")
    category = directory.require_category(data.category) if data.category else None
    if category is not None:
        step.payload["category"] = category.code
    if step.actor.role != Role.SYSTEM:
        _record_correction(
            step,
            source="human_dispatch",
            chosen_category=category.code if category else None,
            chosen_department=department.code,
        )
        o.dispatch_source = "human"
    if category is not None:
        o.category_id = category.id
    _route_to(step, department, data.co_handlers)


def _on_answer(step: Step) -> None:
    data, o = _data(step), step.order
    o.answer_text = data.answer
    o.closed_at = None
    step.payload["answer"] = data.answer
    # The knowledge base's before-hook has checked that the cited article may be cited today.
    if data.knowledge_article_id is not None:
        step.payload["knowledge_article_id"] = data.knowledge_article_id
    _notify_citizen(step, f"【12345】您的诉求（编号 {o.code}）答复：{data.answer}")


def _on_transfer(step: Step) -> None:
    target = _data(step).target
    if target not in TRANSFER_TARGETS:
        raise Invalid("unknown transfer target", fields={"target": f"one of {', '.join(TRANSFER_TARGETS)}"})
    step.order.transfer_target = target
    step.payload["target"] = target


def _on_return(step: Step) -> None:
    step.order.return_reason = _data(step).reason


def _on_review_return(step: Step) -> None:
    o, data, directory = step.order, _data(step), step.rt.directory
    if step.decision == "uphold":
        if not data.department:
            raise Invalid(
                "re-dispatch needs the new department", fields={"department": "required to uphold a return"}
            )
        department = directory.require_department(data.department)
        if department.id == o.lead_department_id:
            raise Invalid(
                "upholding a return means dispatching elsewhere",
                fields={"department": "must differ from the department that returned it"},
            )
        category = directory.require_category(data.category) if data.category else None
        if category is not None:
            o.category_id = category.id
            step.payload["category"] = category.code
        _record_correction(
            step,
            source="return",
            chosen_category=category.code if category else None,
            chosen_department=department.code,
        )
        _route_to(step, department, data.co_handlers)
    else:
        # The objection is not accepted: the same department must take the order.
        o.signed_at = None
        _set_sign_clock(step)
    step.payload["returned_because"] = o.return_reason
    o.return_reason = None


def _on_sign(step: Step) -> None:
    step.order.signed_at = step.at


def _on_request_extension(step: Step) -> None:
    data = _data(step)
    step.order.extension_days = data.days
    step.order.extension_reason = data.reason
    step.payload["days"] = data.days


def _on_decide_extension(step: Step) -> None:
    o = step.order
    step.payload["days"] = o.extension_days
    if step.decision == "approve":
        new = extended_deadline(step.rt.calendar, o.handle_deadline, o.extension_days)
        step.payload["previous_deadline"] = o.handle_deadline.isoformat()
        step.payload["handle_deadline"] = new.at.isoformat()
        o.handle_deadline = max(new.at, o.handle_deadline)
        o.handle_warn_at = warn_at(o.clock_started_at, o.handle_deadline, step.rt.settings.warning_ratio)
        o.handle_alert = None
        o.deadline_provisional = new.provisional
    o.extension_days = None
    o.extension_reason = None


def _on_reply(step: Step) -> None:
    # Feedback's after-hook scores the reply against the event this appends.
    reply = _data(step).reply
    step.order.reply_text = reply
    step.order.replied_at = step.at
    step.payload["reply"] = reply


def _on_review_reply(step: Step) -> None:
    if step.decision == "reject":
        if not _data(step).reason:
            raise Invalid("say why the reply is rejected", fields={"reason": "required to reject a reply"})
        step.order.replied_at = None
    else:
        o = step.order
        _notify_citizen(step, f"【12345】您的诉求（编号 {o.code}）已答复：{o.reply_text}")


def _on_callback(step: Step) -> None:
    result = step.decision
    if result not in CALLBACK_RESULTS:  # pragma: no cover - the gate checks the decision
        raise Invalid("unknown call-back result", fields={"result": f"one of {', '.join(CALLBACK_RESULTS)}"})
    step.order.callback_result = result
    step.order.callback_comment = _data(step).comment
    if result != "unsatisfied":
        step.order.closed_at = step.at


def _on_reopen(step: Step) -> None:
    o, rt = step.order, step.rt
    o.redo_count += 1
    step.payload["redo_count"] = o.redo_count
    o.callback_result = None
    o.closed_at = None
    o.signed_at = None
    o.replied_at = None
    # The handling clock restarts; it never moves backwards.
    new = handle_deadline(rt.calendar, _terms(step), step.at)
    o.clock_started_at = step.at
    o.handle_deadline = max(new.at, o.handle_deadline)
    o.handle_warn_at = warn_at(step.at, o.handle_deadline, rt.settings.warning_ratio)
    o.handle_alert = None
    o.deadline_provisional = new.provisional
    step.payload["handle_deadline"] = o.handle_deadline.isoformat()
    o.dispatched_at = step.at
    _set_sign_clock(step)
    step.payload["department"] = rt.directory.department_code(o.lead_department_id)


def _on_close(step: Step) -> None:
    o = step.order
    if o.callback_result == "unsatisfied" and not _data(step).reason:
        raise Invalid("closing despite 不满意 needs a reason", fields={"reason": "required"})
    o.closed_at = step.at


def _on_archive(step: Step) -> None:
    step.order.archived_at = step.at


def _on_supervise(step: Step) -> None:
    o = step.order
    o.supervision_level += 1
    step.payload["level"] = o.supervision_level
    dept = step.rt.directory.department_code(o.lead_department_id)
    if dept:
        enqueue(
            _session(step),
            channel="internal",
            recipient=f"department:{dept}",
            subject="督办",
            body=f"工单 {o.code} 被督办（第 {o.supervision_level} 次）：{_data(step).note}",
            order_id=o.id,
        )


def _on_merge(step: Step) -> None:
    o, code, session = step.order, _data(step).master or "", _session(step)
    if code == o.code:
        raise Invalid("an order cannot be merged into itself", fields={"master": "choose another order"})
    master = access.load(session, code, lock=True)
    if master is None or not access.visible(step.actor, master):
        raise Invalid(f"no master order {code!r}", fields={"master": "unknown order"})
    if master.status == Status.MERGED:
        raise Invalid(
            "the master is itself merged; merge into its master", fields={"master": "is a duplicate"}
        )
    if master.status not in workflow.OPEN_STATUSES - {Status.CALLBACK}:
        raise Invalid("the master order is no longer open", fields={"master": f"is {master.status}"})
    o.master_id = master.id
    step.payload["master"] = master.code
    events.note(session, master, action="absorb", actor=step.actor, payload={"duplicate": o.code}, at=step.at)


def _notify_citizen(step: Step, body: str) -> None:
    o = step.order
    if o.citizen_phone:
        enqueue(
            _session(step),
            channel="sms",
            recipient=o.citizen_phone,
            subject="12345",
            body=body,
            order_id=o.id,
        )


EFFECTS: dict[str, Callable[[Step], None]] = {
    "dispatch": _on_dispatch,
    "answer": _on_answer,
    "transfer": _on_transfer,
    "return": _on_return,
    "review_return": _on_review_return,
    "sign": _on_sign,
    "request_extension": _on_request_extension,
    "decide_extension": _on_decide_extension,
    "reply": _on_reply,
    "review_reply": _on_review_reply,
    "callback": _on_callback,
    "reopen": _on_reopen,
    "close": _on_close,
    "archive": _on_archive,
    "supervise": _on_supervise,
    "merge": _on_merge,
}


# --- a master's reply reaches its merged duplicates -----------------------------------------------


def _fan_out_to_merged(step: Step) -> None:
    """The master's approved reply reaches every merged duplicate, each then gets its own call-back."""
    master, session = step.order, _session(step)
    children = session.scalars(
        select(Order)
        .where(Order.master_id == master.id, Order.status == Status.MERGED.value)
        .with_for_update(of=Order)
    ).all()

    def follow(child_step: Step) -> None:
        child = child_step.order
        child.reply_text = master.reply_text
        child.replied_at = child_step.at
        child_step.payload.update(master=master.code, reply=master.reply_text)
        if child.citizen_phone:
            enqueue(
                session,
                channel="sms",
                recipient=child.citizen_phone,
                subject="答复",
                body=f"【12345】您的诉求（编号 {child.code}）已答复：{master.reply_text}",
                order_id=child.id,
            )

    for child in children:
        gate.transition(
            step.rt,
            child,
            action="follow_master",
            actor=SYSTEM_ACTOR,
            at=step.at,
            session=session,
            effect=follow,
        )
