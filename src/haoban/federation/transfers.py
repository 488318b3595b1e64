"""12345 transfers between cities (跨区域转办).

An order about another city leaves through the gate's ``transfer_region`` action: federation's
before-hook refuses it (422) unless the partner is registered and an agreement in force covers
``hotline`` in mode ``transfer``; the after-hook opens the cross-region case and queues the order to
the partner (``order.transfer``). The partner registers it as its own order (channel ``region``), linked
to the original by ``external_ref`` = ``fed:<region>:<code>``, and answers with its code. As the partner
handles it, its approved reply and its final result (the call-back) come back (``order.update``): the
reply is recorded in the original's case file, the result closes it through the gate
(``remote_close``). Both orders' case files and both cases' timelines record every exchange.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.db import utcnow
from haoban.directory.vocabulary import Channel
from haoban.errors import Invalid, NotFound
from haoban.federation import protocol, service
from haoban.federation.models import CrossCase, OutboxEntry
from haoban.federation.protocol import Incoming
from haoban.orders import events, gate
from haoban.orders.gate import Step
from haoban.orders.intake import create_order
from haoban.orders.models import Order
from haoban.orders.schemas import OrderCreate
from haoban.orders.workflow import CALLBACK_RESULTS, Status
from haoban.runtime import Runtime

TRANSFER = "order.transfer"
UPDATE = "order.update"
ITEM, MODE = service.HOTLINE_ITEM, "transfer"
REF_PREFIX = "fed:"


def _region(step: Step) -> str:
    assert step.data is not None
    return (step.data.region or "").strip()


@dataclass(frozen=True)
class TransferLink:
    """Where an order transferred between cities lives on the other side. ``direction`` "out": we sent
    it to ``partner`` (their order ``remote_code``, once they accepted it); "in": it came from there."""

    direction: str
    region: str
    partner: str
    remote_code: str | None
    url: str | None  # the other instance's page of that order
    case_key: str
    done: bool

    def notes(self) -> str:
        """One line for the public (Open311's ``status_notes``): where it went, under which number."""
        ref = self.remote_code or "待对方受理"
        ref_en = self.remote_code or "not yet accepted"
        if self.direction == "out":
            return (
                f"已转至{self.partner}（区划 {self.region}）12345 办理，对方编号 {ref} "
                f"(transferred to {self.partner}, region {self.region}; their reference {ref_en})"
            )
        return (
            f"由{self.partner}（区划 {self.region}）12345 转来，原编号 {ref} "
            f"(transferred from {self.partner}, region {self.region}; their reference {ref_en})"
        )


def links(session: Session, codes: Iterable[str]) -> dict[str, TransferLink]:
    """The transfer link of each of ``codes`` that was transferred to or from another city."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    cases = session.scalars(
        select(CrossCase).where(CrossCase.kind == "transfer", CrossCase.local_ref.in_(wanted))
    )
    out: dict[str, TransferLink] = {}
    for case in cases:
        remote = case.remote_ref or None
        base = case.partner.endpoint.rstrip("/")
        out[str(case.local_ref)] = TransferLink(
            direction=case.direction,
            region=case.partner.region,
            partner=case.partner.name,
            remote_code=remote,
            url=f"{base}/orders/{remote}" if remote else None,
            case_key=case.case_key,
            done=case.state == "done",
        )
    return out


# --- the sending city ------------------------------------------------------------------------------


def check_transfer(step: Step) -> None:
    """Before ``transfer_region`` writes anything: a partner with an agreement covering 12345 transfers."""
    session, region = step.session, _region(step)
    assert session is not None
    try:
        partner = service.get_partner(session, region, active_only=True)
    except NotFound:
        raise Invalid(
            f"no partner city with region {region!r}; an admin registers partners first",
            fields={"region": "a registered partner's region code"},
        ) from None
    protocol.check_sendable(session, partner, item=ITEM, mode=MODE, at=step.at)
    step.payload["region"] = partner.region
    step.payload["partner"] = partner.name


def send_transfer(step: Step) -> None:
    """After ``transfer_region`` is in the case file: open the case and queue the order to the partner."""
    session, o, rt = step.session, step.order, step.rt
    assert session is not None
    partner = service.get_partner(session, _region(step), active_only=True)
    key = f"{rt.settings.federation_region}-{o.code}"
    case = service.open_case(
        session,
        case_key=key,
        partner=partner,
        direction="out",
        kind="transfer",
        mode=MODE,
        item=ITEM,
        title=o.subject,
        local_ref=o.code,
        at=step.at,
    )
    service.record(
        session,
        case,
        side=rt.settings.federation_region,
        what="transferred",
        detail={"code": o.code, "by": step.actor.username, "reason": step.payload.get("reason", "")},
        at=step.at,
    )
    body = {
        "code": o.code,
        "type": o.order_type,
        "urgency": o.urgency,
        "subject": o.subject,
        "content": o.content,
        "citizen_name": o.citizen_name,
        "citizen_phone": o.citizen_phone,
        "address": o.address,
        "received_at": o.received_at.isoformat(),
        "reason": step.payload.get("reason", ""),
        "from": rt.settings.federation_name,
    }
    protocol.send(
        session, rt, partner=partner, kind=TRANSFER, case=key, item=ITEM, mode=MODE, body=body, at=step.at
    )


def _transfer_acknowledged(session: Session, rt: Runtime, msg: OutboxEntry, result: dict[str, Any]) -> None:
    accepted = service.record_acceptance(session, msg, result, with_status=False)
    if accepted is None:
        return
    case, code = accepted
    now = utcnow()
    order = session.scalar(select(Order).where(Order.code == case.local_ref))
    if order is not None:
        events.note(
            session,
            order,
            action="region_accepted",
            actor=SYSTEM_ACTOR,
            payload={"region": msg.partner.region, "partner": msg.partner.name, "remote_code": code},
            at=now,
        )


def _on_update(session: Session, rt: Runtime, msg: Incoming) -> dict[str, Any]:
    """The partner's reply or final result reaches the original order."""
    case = service.find_case(session, case_key=msg.case, partner=msg.partner)
    if case is None or case.direction != "out" or case.kind != "transfer":
        raise NotFound(f"no order of ours was transferred as case {msg.case}")
    order = session.scalar(select(Order).where(Order.code == case.local_ref).with_for_update(of=Order))
    if order is None:
        raise NotFound(f"order {case.local_ref} is gone")
    event, now = str(msg.body.get("event", "")), utcnow()
    detail = {k: msg.body[k] for k in ("reply", "result", "comment", "code") if msg.body.get(k)}
    service.record(session, case, side=msg.partner.region, what=event, detail=detail, at=msg.sent_at)
    payload = {"region": msg.partner.region, "remote_code": case.remote_ref, **detail}
    if event == "reply":
        order.reply_text = str(msg.body.get("reply", ""))
        order.replied_at = now
        events.note(session, order, action="remote_reply", actor=SYSTEM_ACTOR, payload=payload, at=now)
    elif event == "closed":
        result = msg.body.get("result")
        if result is not None and result not in CALLBACK_RESULTS:
            raise Invalid(
                "unknown call-back result", fields={"result": f"one of {', '.join(CALLBACK_RESULTS)}"}
            )
        if order.status != Status.REGION_TRANSFERRED:
            return {"recorded": True, "status": order.status}
        close(session, rt, order, result=result, comment=msg.body.get("comment"), payload=payload, at=now)
        case.state = "done"
    else:
        raise Invalid(f"unknown update {event!r}", fields={"event": "reply or closed"})
    return {"recorded": True, "status": order.status}


def close(
    session: Session,
    rt: Runtime,
    order: Order,
    *,
    result: str | None,
    comment: Any,
    payload: dict[str, Any],
    at: Any,
) -> None:
    """The partner finished the transferred order: it closes here too, with their call-back result."""

    def effect(step: Step) -> None:
        o = step.order
        o.callback_result = result
        o.callback_comment = str(comment)[:2000] if comment else None
        o.closed_at = step.at
        step.payload.update(payload)

    gate.transition(
        rt, order, action="remote_close", actor=SYSTEM_ACTOR, at=at, session=session, effect=effect
    )


# --- the receiving city --------------------------------------------------------------------------------


def _on_transfer(session: Session, rt: Runtime, msg: Incoming) -> dict[str, Any]:
    """Register the partner's order as ours, linked to the original (once: the reference is unique)."""
    body = msg.body
    original = str(body.get("code", ""))[:24]
    if not original:
        raise Invalid("the transferred order has no code", fields={"code": "required"})
    ref = f"{REF_PREFIX}{msg.partner.region}:{original}"
    existing = session.scalar(select(Order).where(Order.external_ref == ref))
    if existing is not None:
        return {"code": existing.code}
    data = OrderCreate(
        channel=Channel.REGION,
        type=body.get("type") or "consult",
        urgency=body.get("urgency") or "normal",
        subject=body.get("subject"),
        content=str(body.get("content") or "")[:4000] or "（跨区域转办）",
        citizen_name=body.get("citizen_name"),
        citizen_phone=body.get("citizen_phone"),
        address=body.get("address"),
        external_ref=ref,
    )
    created = create_order(session, rt, data=data, actor=SYSTEM_ACTOR)
    order = session.scalar(select(Order).where(Order.code == created.code))
    assert order is not None
    now = utcnow()
    events.note(
        session,
        order,
        action="from_region",
        actor=SYSTEM_ACTOR,
        payload={
            "region": msg.partner.region,
            "partner": msg.partner.name,
            "remote_code": original,
            "reason": str(body.get("reason", ""))[:2000],
        },
        at=now,
    )
    case = service.open_case(
        session,
        case_key=msg.case,
        partner=msg.partner,
        direction="in",
        kind="transfer",
        mode=MODE,
        item=ITEM,
        title=order.subject,
        local_ref=order.code,
        remote_ref=original,
        at=now,
    )
    return service.record_arrival(
        session,
        case,
        partner_region=msg.partner.region,
        sent_at=msg.sent_at,
        home_region=rt.settings.federation_region,
        what="transferred",
        detail={"code": original},
        answer={"code": order.code},
        at=now,
    )


def report_back(step: Step) -> None:
    """After an action on an order that came from another city: its approved reply and its end go back."""
    o, session, rt = step.order, step.session, step.rt
    if session is None or not (o.external_ref or "").startswith(REF_PREFIX):
        return
    event: dict[str, Any] | None = None
    if step.action == "review_reply" and step.decision == "approve":
        event = {"event": "reply", "reply": o.reply_text}
    elif step.to_status == Status.CLOSED and step.from_status != Status.CLOSED:
        event = {"event": "closed", "result": o.callback_result, "comment": o.callback_comment}
    if event is None:
        return
    case = session.scalar(
        select(CrossCase).where(
            CrossCase.local_ref == o.code, CrossCase.direction == "in", CrossCase.kind == "transfer"
        )
    )
    if case is None:
        return
    event["code"] = o.code
    service.record(
        session,
        case,
        side=rt.settings.federation_region,
        what=event["event"],
        detail={k: v for k, v in event.items() if k != "event" and v},
        at=step.at,
    )
    if event["event"] == "closed":
        case.state = "done"
    protocol.send(
        session,
        rt,
        partner=case.partner,
        kind=UPDATE,
        case=case.case_key,
        item=ITEM,
        mode=MODE,
        body=event,
        at=step.at,
    )


protocol.register(TRANSFER, _on_transfer, on_ack=_transfer_acknowledged)
protocol.register(UPDATE, _on_update)
