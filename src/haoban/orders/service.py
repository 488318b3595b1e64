"""Work-order rules: actions through the state table, queries scoped by role, the citizen's view,
case-file verification. Functions take a session and keyword arguments; the caller owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from haoban.auth import rbac
from haoban.auth.service import SYSTEM_ACTOR, Actor
from haoban.db import utcnow
from haoban.dispatch.models import DispatchCorrection
from haoban.errors import Conflict, Invalid, NotFound
from haoban.notifications.service import enqueue
from haoban.orders import workflow
from haoban.orders.casefile import Break, EventRecord, chain_hash, encode_payload, verify_chain
from haoban.orders.citizen import mask_id_number, mask_name, mask_phone, phone_last4
from haoban.orders.deadlines import extended_deadline, handle_deadline, sign_deadline, state_of
from haoban.orders.intake import warn_at
from haoban.orders.models import Order, OrderCoHandler, OrderEvent
from haoban.orders.schemas import ORDER_TYPE_LABELS, ActionRequest
from haoban.orders.workflow import CALLBACK_RESULTS, TRANSFER_TARGETS, Status
from haoban.runtime import Runtime

# --- the case file -------------------------------------------------------------------------------


def append_event(
    session: Session,
    order: Order,
    *,
    action: str,
    actor: Actor,
    from_status: str | None,
    to_status: str,
    payload: dict[str, Any],
    at: datetime,
) -> OrderEvent:
    seq = order.event_count + 1
    encoded = encode_payload(payload)
    record = EventRecord(order.code, seq, action, actor.name, actor.role, at, from_status, to_status, encoded)
    digest = chain_hash(order.last_hash, record)
    event = OrderEvent(
        order_id=order.id,
        seq=seq,
        action=action,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_role=actor.role,
        at=at,
        from_status=from_status,
        to_status=to_status,
        payload=encoded,
        prev_hash=order.last_hash,
        hash=digest,
    )
    session.add(event)
    order.event_count = seq
    order.last_hash = digest
    return event


def verify_case_files(
    session: Session, *, progress: Callable[[int], None] | None = None, batch: int = 2000
) -> tuple[int, list[Break]]:
    """Verify every order's chain; returns (orders checked, breaks)."""
    breaks: list[Break] = []
    checked = 0
    last_id = 0
    while True:
        orders = session.execute(
            select(Order.id, Order.code, Order.last_hash)
            .where(Order.id > last_id)
            .order_by(Order.id)
            .limit(batch)
        ).all()
        if not orders:
            break
        ids = [o.id for o in orders]
        events: dict[int, list[OrderEvent]] = {}
        for ev in session.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id.in_(ids))
            .order_by(OrderEvent.order_id, OrderEvent.seq)
        ):
            events.setdefault(ev.order_id, []).append(ev)
        for o in orders:
            found = verify_chain(
                o.code,
                ((_record_of(o.code, e), e.prev_hash, e.hash) for e in events.get(o.id, [])),
                head_hash=o.last_hash,
            )
            if found is not None:
                breaks.append(found)
        checked += len(orders)
        last_id = ids[-1]
        if progress:
            progress(len(orders))
        session.expunge_all()
    return checked, breaks


def _record_of(code: str, e: OrderEvent) -> EventRecord:
    return EventRecord(
        code, e.seq, e.action, e.actor_name, e.actor_role, e.at, e.from_status, e.to_status, e.payload
    )


# --- loading and visibility ---------------------------------------------------------------------


def _load(session: Session, code: str, *, lock: bool = False) -> Order | None:
    stmt = select(Order).where(Order.code == code)
    if lock:
        stmt = stmt.with_for_update(of=Order)
    return session.scalars(stmt).unique().first()


def _visible(actor: Actor, order: Order) -> bool:
    return rbac.can_view_order(
        actor,
        lead_department_id=order.lead_department_id,
        co_handler_ids=[c.department_id for c in order.co_handlers],
    )


def get_order(session: Session, *, code: str, actor: Actor) -> Order:
    order = _load(session, code)
    # Orders outside the caller's scope are reported as missing, so their existence does not leak.
    if order is None or not _visible(actor, order):
        raise NotFound(f"no order {code!r} that you can see")
    return order


def allowed_actions(order: Order, actor: Actor) -> list[str]:
    status = Status(order.status)
    out = []
    for name in workflow.actions_from(status, actor.role):
        t = workflow.BY_ACTION[name]
        if t.lead_department_only and actor.department_id != order.lead_department_id:
            continue
        out.append(name)
    return out


# --- actions ----------------------------------------------------------------------------------


@dataclass
class ActionContext:
    session: Session
    rt: Runtime
    order: Order
    actor: Actor
    data: ActionRequest
    now: datetime
    payload: dict[str, Any]


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
    t = workflow.transition(action)
    if t is None or action == "follow_master":
        public = ", ".join(a for a in workflow.ACTIONS if a != "follow_master")
        raise NotFound(f"unknown action {action!r}; actions are: {public}")
    now = now or utcnow()
    order = _load(session, code, lock=True)
    if order is None or not _visible(actor, order):
        raise NotFound(f"no order {code!r} that you can see")
    rbac.check_action(actor, t, lead_department_id=order.lead_department_id)
    current = Status(order.status)
    if current not in t.sources:
        raise Conflict(
            f"cannot {action} an order that is {current.value}",
            status=current.value,
            allowed_actions=allowed_actions(order, actor),
        )
    if data.expected_version is not None and data.expected_version != order.version:
        raise Conflict(
            "the order changed since you loaded it; reload and try again",
            status=current.value,
            version=order.version,
        )
    missing = {f: "required for this action" for f in t.required if getattr(data, f) in (None, "", [])}
    if missing:
        raise Invalid(f"{action} needs: {', '.join(missing)}", fields=missing)
    decision: str | None = None
    if t.decision_field:
        decision = getattr(data, t.decision_field)
        if decision not in t.decisions:
            raise Invalid(
                f"{t.decision_field} must be one of: {', '.join(t.decisions)}",
                fields={t.decision_field: f"one of {', '.join(t.decisions)}"},
            )
    target = workflow.target_status(t, current, decision)
    ctx = ActionContext(session, rt, order, actor, data, now, payload={})
    for field in ("reason", "note", "comment"):
        if getattr(data, field):
            ctx.payload[field] = getattr(data, field)
    if decision:
        ctx.payload[t.decision_field or "decision"] = decision
    handler = _HANDLERS.get(action)
    if handler is not None:
        handler(ctx)
    order.status = target.value
    order.updated_at = now
    append_event(
        session,
        order,
        action=action,
        actor=actor,
        from_status=current.value,
        to_status=target.value,
        payload=ctx.payload,
        at=now,
    )
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("someone else changed this order at the same moment; reload and try again") from None
    if action == "review_reply" and decision == "approve":
        _fan_out_to_merged(ctx)
    return order


def _terms(ctx: ActionContext) -> Any:
    return ctx.rt.sla.terms(ctx.order.order_type, ctx.order.urgency)


def _resolve_department(ctx: ActionContext, code: str, field: str = "department") -> Any:
    ref = ctx.rt.directory.department(code)
    if ref is None or not ref.active:
        raise Invalid(
            f"unknown or inactive department {code!r}", fields={field: f"unknown department {code!r}"}
        )
    return ref


def _set_sign_clock(ctx: ActionContext) -> None:
    o = ctx.order
    sign = sign_deadline(ctx.rt.calendar, _terms(ctx), ctx.now)
    o.sign_started_at = ctx.now
    o.sign_deadline = sign.at
    o.sign_warn_at = warn_at(ctx.now, sign.at, ctx.rt.settings.warning_ratio)
    o.sign_alert = None
    o.deadline_provisional = o.deadline_provisional or sign.provisional
    ctx.payload["sign_deadline"] = sign.at.isoformat()


def _route_to(ctx: ActionContext, department_code: str, co_handler_codes: list[str] | None) -> None:
    o = ctx.order
    dept = _resolve_department(ctx, department_code)
    co_ids = []
    for code in co_handler_codes or []:
        ref = _resolve_department(ctx, code, "co_handlers")
        if ref.id != dept.id:
            co_ids.append(ref.id)
    o.lead_department_id = dept.id
    o.co_handlers = [OrderCoHandler(department_id=d) for d in dict.fromkeys(co_ids)]
    o.dispatched_at = ctx.now
    o.signed_at = None
    _set_sign_clock(ctx)
    ctx.payload["department"] = dept.code
    if co_handler_codes:
        ctx.payload["co_handlers"] = co_handler_codes
    enqueue(
        ctx.session,
        channel="internal",
        recipient=f"department:{dept.code}",
        subject="新工单",
        body=f"工单 {o.code} 已派至贵单位，请及时签收。",
        order_id=o.id,
    )


def _record_correction(
    ctx: ActionContext, *, source: str, chosen_category: str | None, chosen_department: str
) -> None:
    o = ctx.order
    suggestions = json.loads(o.suggestions) if o.suggestions else []
    suggested_cat = suggestions[0]["category"] if suggestions else None
    previous_dept = (
        ctx.rt.directory.departments_by_id.get(o.lead_department_id) if o.lead_department_id else None
    )
    suggested_dept = previous_dept.code if previous_dept else None
    if source == "human_dispatch" and o.dispatch_source == "human":
        return
    if chosen_department == suggested_dept and (chosen_category in (None, suggested_cat)):
        return
    current_cat = ctx.rt.directory.categories_by_id.get(o.category_id) if o.category_id else None
    ctx.session.add(
        DispatchCorrection(
            order_id=o.id,
            text=f"{o.subject}\n{o.content}",
            suggested_category=suggested_cat or (current_cat.code if current_cat else None),
            suggested_department=suggested_dept,
            chosen_category=chosen_category or (current_cat.code if current_cat else None),
            chosen_department=chosen_department,
            source=source,
            actor=ctx.actor.username,
            at=ctx.now,
        )
    )


def _on_dispatch(ctx: ActionContext) -> None:
    data, o = ctx.data, ctx.order
    if data.category:
        cat = ctx.rt.directory.category(data.category)
        if cat is None:
            raise Invalid(f"unknown category {data.category!r}", fields={"category": "unknown category"})
        ctx.payload["category"] = cat.code
    chosen_cat = ctx.payload.get("category")
    if ctx.actor.role != "system":
        _record_correction(
            ctx, source="human_dispatch", chosen_category=chosen_cat, chosen_department=data.department or ""
        )
        o.dispatch_source = "human"
    if chosen_cat:
        o.category_id = ctx.rt.directory.category(chosen_cat).id  # type: ignore[union-attr]
    _route_to(ctx, data.department or "", data.co_handlers)


def _on_answer(ctx: ActionContext) -> None:
    ctx.order.answer_text = ctx.data.answer
    ctx.order.closed_at = None
    ctx.payload["answer"] = ctx.data.answer
    if ctx.data.knowledge_article_id is not None:
        from haoban.knowledge.service import check_citable

        check_citable(ctx.session, article_id=ctx.data.knowledge_article_id, at=ctx.now)
        ctx.payload["knowledge_article_id"] = ctx.data.knowledge_article_id
    _notify_citizen(ctx, f"【12345】您的诉求（编号 {ctx.order.code}）答复：{ctx.data.answer}")


def _on_transfer(ctx: ActionContext) -> None:
    if ctx.data.target not in TRANSFER_TARGETS:
        raise Invalid("unknown transfer target", fields={"target": f"one of {', '.join(TRANSFER_TARGETS)}"})
    ctx.order.transfer_target = ctx.data.target
    ctx.payload["target"] = ctx.data.target


def _on_return(ctx: ActionContext) -> None:
    ctx.order.return_reason = ctx.data.reason


def _on_review_return(ctx: ActionContext) -> None:
    o, data = ctx.order, ctx.data
    if data.decision == "uphold":
        if not data.department:
            raise Invalid(
                "re-dispatch needs the new department", fields={"department": "required to uphold a return"}
            )
        current = (
            ctx.rt.directory.departments_by_id.get(o.lead_department_id) if o.lead_department_id else None
        )
        if current is not None and data.department == current.code:
            raise Invalid(
                "upholding a return means dispatching elsewhere",
                fields={"department": "must differ from the department that returned it"},
            )
        chosen_cat = None
        if data.category:
            cat = ctx.rt.directory.category(data.category)
            if cat is None:
                raise Invalid(f"unknown category {data.category!r}", fields={"category": "unknown category"})
            chosen_cat = cat.code
            o.category_id = cat.id
            ctx.payload["category"] = cat.code
        _record_correction(
            ctx, source="return", chosen_category=chosen_cat, chosen_department=data.department
        )
        _route_to(ctx, data.department, data.co_handlers)
    else:
        # The objection is not accepted: the same department must take the order.
        o.signed_at = None
        _set_sign_clock(ctx)
    ctx.payload["returned_because"] = o.return_reason
    o.return_reason = None


def _on_sign(ctx: ActionContext) -> None:
    ctx.order.signed_at = ctx.now


def _on_request_extension(ctx: ActionContext) -> None:
    o = ctx.order
    if o.extension_days is not None:
        raise Conflict("an extension request is already waiting for a decision", status=o.status)
    if ctx.now >= o.handle_deadline:
        raise Conflict(
            "the deadline has passed: extensions must be requested before it",
            status=o.status,
            handle_deadline=o.handle_deadline.isoformat(),
        )
    o.extension_days = ctx.data.days
    o.extension_reason = ctx.data.reason
    ctx.payload["days"] = ctx.data.days


def _on_decide_extension(ctx: ActionContext) -> None:
    o = ctx.order
    if o.extension_days is None:
        raise Conflict("there is no extension request to decide", status=o.status)
    ctx.payload["days"] = o.extension_days
    if ctx.data.decision == "approve":
        new = extended_deadline(ctx.rt.calendar, o.handle_deadline, o.extension_days)
        ctx.payload["previous_deadline"] = o.handle_deadline.isoformat()
        ctx.payload["handle_deadline"] = new.at.isoformat()
        o.handle_deadline = max(new.at, o.handle_deadline)
        o.handle_warn_at = warn_at(o.clock_started_at, o.handle_deadline, ctx.rt.settings.warning_ratio)
        o.handle_alert = None
        o.deadline_provisional = new.provisional
    o.extension_days = None
    o.extension_reason = None


def _on_reply(ctx: ActionContext) -> None:
    ctx.order.reply_text = ctx.data.reply
    ctx.order.replied_at = ctx.now
    ctx.payload["reply"] = ctx.data.reply
    from haoban.feedback.service import record_reply_score

    record_reply_score(ctx.session, order=ctx.order, reply=ctx.data.reply or "", at=ctx.now)


def _on_review_reply(ctx: ActionContext) -> None:
    if ctx.data.decision == "reject":
        if not ctx.data.reason:
            raise Invalid("say why the reply is rejected", fields={"reason": "required to reject a reply"})
        ctx.order.replied_at = None
    else:
        _notify_citizen(ctx, f"【12345】您的诉求（编号 {ctx.order.code}）已答复：{ctx.order.reply_text}")


def _fan_out_to_merged(ctx: ActionContext) -> None:
    """The master's approved reply reaches every merged duplicate, each then gets its own call-back."""
    master = ctx.order
    children = ctx.session.scalars(
        select(Order)
        .where(Order.master_id == master.id, Order.status == Status.MERGED.value)
        .with_for_update(of=Order)
    ).all()
    for child in children:
        child.reply_text = master.reply_text
        child.replied_at = ctx.now
        child.status = Status.CALLBACK.value
        child.updated_at = ctx.now
        append_event(
            ctx.session,
            child,
            action="follow_master",
            actor=SYSTEM_ACTOR,
            from_status=Status.MERGED.value,
            to_status=Status.CALLBACK.value,
            payload={"master": master.code, "reply": master.reply_text},
            at=ctx.now,
        )
        if child.citizen_phone:
            enqueue(
                ctx.session,
                channel="sms",
                recipient=child.citizen_phone,
                subject="答复",
                body=f"【12345】您的诉求（编号 {child.code}）已答复：{master.reply_text}",
                order_id=child.id,
            )


def _on_callback(ctx: ActionContext) -> None:
    result = ctx.data.result
    if result not in CALLBACK_RESULTS:
        raise Invalid("unknown call-back result", fields={"result": f"one of {', '.join(CALLBACK_RESULTS)}"})
    ctx.order.callback_result = result
    ctx.order.callback_comment = ctx.data.comment
    if result != "unsatisfied":
        ctx.order.closed_at = ctx.now


def _on_reopen(ctx: ActionContext) -> None:
    o = ctx.order
    if o.status == Status.CALLBACK.value and o.callback_result != "unsatisfied":
        raise Conflict(
            "only an unsatisfied call-back (不满意) leads to 重办",
            status=o.status,
            allowed_actions=allowed_actions(o, ctx.actor),
        )
    if o.lead_department_id is None:
        raise Conflict("this order was never dispatched; there is nothing to redo", status=o.status)
    o.redo_count += 1
    ctx.payload["redo_count"] = o.redo_count
    o.callback_result = None
    o.closed_at = None
    o.signed_at = None
    o.replied_at = None
    # The handling clock restarts; it never moves backwards.
    new = handle_deadline(ctx.rt.calendar, _terms(ctx), ctx.now)
    o.clock_started_at = ctx.now
    o.handle_deadline = max(new.at, o.handle_deadline)
    o.handle_warn_at = warn_at(ctx.now, o.handle_deadline, ctx.rt.settings.warning_ratio)
    o.handle_alert = None
    o.deadline_provisional = new.provisional
    ctx.payload["handle_deadline"] = o.handle_deadline.isoformat()
    dept = ctx.rt.directory.departments_by_id[o.lead_department_id]
    o.dispatched_at = ctx.now
    _set_sign_clock(ctx)
    ctx.payload["department"] = dept.code


def _on_close(ctx: ActionContext) -> None:
    o = ctx.order
    if o.status == Status.CALLBACK.value and o.callback_result is None:
        raise Conflict(
            "call the citizen back before closing",
            status=o.status,
            allowed_actions=allowed_actions(o, ctx.actor),
        )
    if o.callback_result == "unsatisfied" and not ctx.data.reason:
        raise Invalid("closing despite 不满意 needs a reason", fields={"reason": "required"})
    o.closed_at = ctx.now


def _on_archive(ctx: ActionContext) -> None:
    ctx.order.archived_at = ctx.now


def _on_supervise(ctx: ActionContext) -> None:
    o = ctx.order
    o.supervision_level += 1
    ctx.payload["level"] = o.supervision_level
    if o.lead_department_id:
        dept = ctx.rt.directory.departments_by_id[o.lead_department_id]
        enqueue(
            ctx.session,
            channel="internal",
            recipient=f"department:{dept.code}",
            subject="督办",
            body=f"工单 {o.code} 被督办（第 {o.supervision_level} 次）：{ctx.data.note}",
            order_id=o.id,
        )


def _on_merge(ctx: ActionContext) -> None:
    o, code = ctx.order, ctx.data.master or ""
    if code == o.code:
        raise Invalid("an order cannot be merged into itself", fields={"master": "choose another order"})
    master = _load(ctx.session, code, lock=True)
    if master is None or not _visible(ctx.actor, master):
        raise Invalid(f"no master order {code!r}", fields={"master": "unknown order"})
    if master.status == Status.MERGED.value:
        raise Invalid(
            "the master is itself merged; merge into its master", fields={"master": "is a duplicate"}
        )
    if master.status not in {s.value for s in workflow.OPEN_STATUSES - {Status.CALLBACK}}:
        raise Invalid("the master order is no longer open", fields={"master": f"is {master.status}"})
    o.master_id = master.id
    ctx.payload["master"] = master.code
    append_event(
        ctx.session,
        master,
        action="absorb",
        actor=ctx.actor,
        from_status=master.status,
        to_status=master.status,
        payload={"duplicate": o.code},
        at=ctx.now,
    )
    master.updated_at = ctx.now


def _notify_citizen(ctx: ActionContext, body: str) -> None:
    if ctx.order.citizen_phone:
        enqueue(
            ctx.session,
            channel="sms",
            recipient=ctx.order.citizen_phone,
            subject="12345",
            body=body,
            order_id=ctx.order.id,
        )


_HANDLERS: dict[str, Callable[[ActionContext], None]] = {
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


# --- queries -----------------------------------------------------------------------------------


@dataclass
class OrderFilter:
    status: list[str] | None = None
    department: str | None = None
    district: str | None = None
    category: str | None = None
    order_type: str | None = None
    channel: str | None = None
    overdue: bool | None = None
    text: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


def _filtered(rt: Runtime, actor: Actor, f: OrderFilter, now: datetime) -> Select[Any]:
    stmt = select(Order)
    clause = rbac.order_visibility_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if f.status:
        unknown = [s for s in f.status if s not in {x.value for x in Status}]
        if unknown:
            raise Invalid("unknown status", fields={"status": f"unknown: {', '.join(unknown)}"})
        stmt = stmt.where(Order.status.in_(f.status))
    directory = rt.directory
    if f.department:
        ref = directory.department(f.department)
        if ref is None:
            raise Invalid("unknown department", fields={"department": f"unknown department {f.department!r}"})
        stmt = stmt.where(Order.lead_department_id == ref.id)
    if f.district:
        dref = directory.district(f.district)
        if dref is None:
            raise Invalid("unknown district", fields={"district": f"unknown district {f.district!r}"})
        stmt = stmt.where(Order.district_id == dref.id)
    if f.category:
        cref = directory.category(f.category)
        if cref is None:
            raise Invalid("unknown category", fields={"category": f"unknown category {f.category!r}"})
        ids = [c.id for c in directory.categories_by_id.values() if cref.code in c.ancestors]
        stmt = stmt.where(Order.category_id.in_(ids))
    if f.order_type:
        stmt = stmt.where(Order.order_type == f.order_type)
    if f.channel:
        stmt = stmt.where(Order.channel == f.channel)
    handling = [s.value for s in workflow.HANDLING_STATUSES]
    if f.overdue is True:
        stmt = stmt.where(Order.status.in_(handling), Order.handle_deadline < now)
    elif f.overdue is False:
        stmt = stmt.where(or_(Order.status.not_in(handling), Order.handle_deadline >= now))
    if f.text:
        like = f"%{f.text}%"
        stmt = stmt.where(or_(Order.subject.like(like), Order.content.like(like), Order.code == f.text))
    if f.received_from:
        stmt = stmt.where(Order.received_at >= f.received_from)
    if f.received_to:
        stmt = stmt.where(Order.received_at < f.received_to)
    return stmt


def list_orders(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    filters: OrderFilter,
    page: int = 1,
    page_size: int = 20,
    now: datetime | None = None,
) -> tuple[list[Order], int]:
    now = now or utcnow()
    stmt = _filtered(rt, actor, filters, now)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = (
        session.scalars(
            stmt.order_by(Order.received_at.desc(), Order.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        .unique()
        .all()
    )
    return list(rows), total


def iter_orders(session: Session, rt: Runtime, *, actor: Actor, filters: OrderFilter) -> Iterator[Order]:
    stmt = _filtered(rt, actor, filters, utcnow()).order_by(Order.id).execution_options(yield_per=500)
    yield from session.scalars(stmt)


def order_events(session: Session, *, code: str, actor: Actor) -> list[OrderEvent]:
    order = get_order(session, code=code, actor=actor)
    return list(
        session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.seq))
    )


# --- presentation ------------------------------------------------------------------------------


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
    status = Status(order.status)
    return {
        "code": order.code,
        "status": order.status,
        "status_label": workflow.STATUS_LABELS[status][0],
        "channel": order.channel,
        "type": order.order_type,
        "type_label": ORDER_TYPE_LABELS.get(order.order_type, order.order_type),
        "urgency": order.urgency,
        "subject": order.subject,
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
    out = order_summary(order, rt, now=now)
    masked = actor.role == "auditor"
    out.update(
        content=order.content,
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
        allowed_actions=allowed_actions(order, actor),
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


# --- the citizen's view -------------------------------------------------------------------------

PUBLIC_ACTIONS = {
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
}


def track(session: Session, rt: Runtime, *, code: str, last4: str) -> dict[str, Any]:
    """What a citizen may see with the code and the last four digits of the phone they gave."""
    order = _load(session, code.strip().upper())
    if order is None or not order.citizen_phone or phone_last4(order.citizen_phone) != last4:
        # The same answer for "no such code" and "wrong digits": codes cannot be probed.
        raise NotFound("no order matches this code and phone number")
    events = session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.seq)
    )
    status = Status(order.status)
    reply_visible = status in {Status.CALLBACK, Status.CLOSED, Status.ARCHIVED}
    return {
        "code": order.code,
        "status": order.status,
        "status_label": workflow.STATUS_LABELS[status][0],
        "status_label_en": workflow.STATUS_LABELS[status][1],
        "subject": order.subject,
        "received_at": order.received_at,
        "department": order.lead_department.name if order.lead_department else None,
        "handle_deadline": order.handle_deadline,
        "answer": order.answer_text,
        "reply": order.reply_text if reply_visible else None,
        "timeline": [
            {
                "at": e.at,
                "action": e.action,
                "status": e.to_status,
                "status_label": workflow.STATUS_LABELS[Status(e.to_status)][0],
            }
            for e in events
            if e.action in PUBLIC_ACTIONS
        ],
    }


def counts_by_status(session: Session, *, actor: Actor) -> dict[str, int]:
    stmt = select(Order.status, func.count()).group_by(Order.status)
    clause = rbac.order_visibility_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return {s: n for s, n in session.execute(stmt).all()}
