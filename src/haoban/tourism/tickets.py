"""Timed tickets (分时预约): plans, slots, real-name orders that never oversell, refunds, check-in.

No overselling: a slot's ``sold`` only grows through one conditional UPDATE,
``UPDATE tourism_slots SET sold = sold + n WHERE id = :slot AND sold + n <= capacity``. On SQLite the
write transaction holds the database's write lock (BEGIN IMMEDIATE); on PostgreSQL the UPDATE locks the
row and re-checks the condition on the latest version (READ COMMITTED), so concurrent buyers queue on
the row and the one that would exceed the capacity changes nothing and is told "sold out". The same
transaction writes the order and its tickets (before the UPDATE, so the row is locked only briefly),
charges the payer and writes the ledger (after it): any failure undoes the seats too. One live ticket
per person per slot is a unique (slot, holder_key) constraint.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haoban.auth import rbac
from haoban.auth.actors import Actor
from haoban.auth.roles import ADMIN_ROLES, GATE_ROLES
from haoban.db import utcnow
from haoban.errors import Conflict, Invalid, NotFound
from haoban.orders.citizen import mask_phone
from haoban.runtime import Runtime
from haoban.security.crypto import cipher_of
from haoban.tourism import gate, tokens
from haoban.tourism.models import Place, Ticket, TicketOrder, TicketPayment, TicketPlan, TicketSlot
from haoban.tourism.payments import get_payer
from haoban.tourism.places import demo_plans, demo_rows, get_place, hours_on, import_places
from haoban.tourism.schemas import BookIn, ImportResult, PlanIn
from haoban.tourism.workflow import ORDER_LABELS, TICKET_LABELS, OrderStatus, TicketStatus

_SERIAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: a gate may type it


def _serial(n: int = 10) -> str:
    return "".join(secrets.choice(_SERIAL_ALPHABET) for _ in range(n))


# --- plans and slots ------------------------------------------------------------------------------


def set_plan(session: Session, *, place_code: str, data: PlanIn, actor: Actor) -> TicketPlan:
    rbac.require_role(actor, *ADMIN_ROLES)
    place = get_place(session, code=place_code)
    total = sum(s.capacity for s in data.slots)
    if place.capacity is not None and total > place.capacity:
        raise Invalid(
            "the slots hold more visitors than the place's daily cap",
            fields={"slots": f"capacities add up to {total}, over the daily cap of {place.capacity}"},
        )
    plan = session.get(TicketPlan, place.id) or TicketPlan(place_id=place.id)
    plan.slots = json.dumps([s.model_dump() for s in data.slots])
    plan.price_fen = data.price_fen if data.price_fen is not None else (place.price_fen or 0)
    plan.refund_rule = json.dumps([r.model_dump() for r in data.refund_rule])
    plan.book_days_ahead = data.book_days_ahead
    plan.max_per_order = data.max_per_order
    plan.active = True
    plan.updated_at = utcnow()
    session.add(plan)
    session.flush()
    return plan


def plan_for(session: Session, place: Place) -> TicketPlan:
    plan = session.get(TicketPlan, place.id)
    if plan is None or not plan.active:
        raise NotFound(f"{place.name} does not sell timed tickets")
    return plan


def _local(day: date, hhmm: str, tz: Any) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    if h == 24:
        return datetime.combine(day + timedelta(days=1), time(0, m), tz).astimezone(UTC)
    return datetime.combine(day, time(h, m), tz).astimezone(UTC)


_INSERT_SLOT = text(
    'INSERT INTO tourism_slots (place_id, day, start, "end", starts_at, ends_at, capacity, sold) '
    "VALUES (:place_id, :day, :start, :end, :starts_at, :ends_at, :capacity, 0) "
    "ON CONFLICT (place_id, day, start) DO NOTHING"
)


def ensure_slots(
    session: Session, rt: Runtime, *, place: Place, plan: TicketPlan, day: date
) -> list[TicketSlot]:
    """The day's slots, created from the plan the first time anyone asks (idempotent under races)."""
    existing = session.scalars(
        select(TicketSlot)
        .where(TicketSlot.place_id == place.id, TicketSlot.day == day)
        .order_by(TicketSlot.start)
    ).all()
    if existing:
        return list(existing)
    tz = rt.settings.tz
    sqlite_ = session.get_bind().dialect.name == "sqlite"
    for s in json.loads(plan.slots):
        starts, ends = _local(day, s["start"], tz), _local(day, s["end"], tz)
        session.execute(
            _INSERT_SLOT,
            {
                "place_id": place.id,
                "day": day.isoformat() if sqlite_ else day,
                "start": s["start"],
                "end": s["end"],
                "starts_at": starts.replace(tzinfo=None).isoformat(sep=" ") if sqlite_ else starts,
                "ends_at": ends.replace(tzinfo=None).isoformat(sep=" ") if sqlite_ else ends,
                "capacity": s["capacity"],
            },
        )
    return list(
        session.scalars(
            select(TicketSlot)
            .where(TicketSlot.place_id == place.id, TicketSlot.day == day)
            .order_by(TicketSlot.start)
        )
    )


def slots_view(session: Session, rt: Runtime, *, place_code: str, day: date, now: datetime) -> dict[str, Any]:
    """The day's slots with what is left, and whether the day can be booked at all (and why not)."""
    place = get_place(session, code=place_code)
    plan = plan_for(session, place)
    today = now.astimezone(rt.settings.tz).date()
    why = _day_refusal(rt, place=place, plan=plan, day=day, today=today)
    slots = [] if why else ensure_slots(session, rt, place=place, plan=plan, day=day)
    return {
        "place": place.code,
        "day": day,
        "price_fen": plan.price_fen,
        "closed_reason": why,
        "max_per_order": plan.max_per_order,
        "slots": [
            {
                "id": s.id,
                "start": s.start,
                "end": s.end,
                "capacity": s.capacity,
                "sold": s.sold,
                "remaining": max(0, s.capacity - s.sold),
                "bookable": s.sold < s.capacity and s.ends_at > now,
            }
            for s in slots
        ],
    }


def _day_refusal(rt: Runtime, *, place: Place, plan: TicketPlan, day: date, today: date) -> str | None:
    if day < today:
        return "that day has passed"
    if day > today + timedelta(days=plan.book_days_ahead):
        return f"tickets go on sale {plan.book_days_ahead} days ahead"
    if not hours_on(json.loads(place.hours or "{}"), day, rt.calendar)["open"]:
        return "closed that day"
    return None


# --- buying ---------------------------------------------------------------------------------------


def book(
    session: Session, rt: Runtime, *, place_code: str, data: BookIn, now: datetime | None = None
) -> TicketOrder:
    """Sell ``len(data.visitors)`` real-name tickets of one slot, or refuse and change nothing."""
    now = now or utcnow()
    place = get_place(session, code=place_code)
    plan = plan_for(session, place)
    slot = session.get(TicketSlot, data.slot_id)
    if slot is None or slot.place_id != place.id:
        raise Invalid("no such time slot at this place", fields={"slot_id": "not a slot of this place"})
    why = _day_refusal(rt, place=place, plan=plan, day=slot.day, today=now.astimezone(rt.settings.tz).date())
    if why:
        raise Conflict(f"cannot book {slot.day}: {why}", reason="day")
    if slot.ends_at <= now:
        raise Conflict("this time slot is over", reason="slot_over")
    count = len(data.visitors)
    if count > plan.max_per_order:
        raise Invalid(
            f"at most {plan.max_per_order} visitors per order", fields={"visitors": f"{count} given"}
        )
    # A live ticket's holder_key is its ID number's blind index (the number itself is encrypted).
    cipher = cipher_of(session.get_bind().dialect)
    keys = [cipher.blind_index(v.id_number) for v in data.visitors]
    live = set(
        session.scalars(
            select(Ticket.holder_key).where(Ticket.slot_id == slot.id, Ticket.holder_key.in_(keys))
        )
    )
    if live:
        raise Conflict(
            "one ticket per person per slot: a visitor already holds a ticket for this slot",
            reason="already_holds",
            fields={
                f"visitors.{keys.index(k)}.id_number": "already holds a ticket for this slot" for k in live
            },
        )
    if slot.sold + count > slot.capacity:
        # A fast refusal from what this transaction read; the conditional UPDATE below is the guarantee.
        raise Conflict("sold out: not enough places left in this time slot", reason="sold_out")
    payer = get_payer(rt.settings.tourism_payer)
    code = "TK" + now.astimezone(rt.settings.tz).strftime("%Y%m%d") + _serial(6)
    total = plan.price_fen * count
    order = TicketOrder(
        code=code,
        access_key=secrets.token_urlsafe(18),
        place_id=place.id,
        slot_id=slot.id,
        phone=data.phone,
        total_fen=total,
        refunded_fen=0,
        payer=payer.name,
        payment_ref=None,
        status=OrderStatus.PAID,
        created_at=now,
    )
    session.add(order)
    session.flush()
    for v in data.visitors:
        session.add(
            Ticket(
                serial=_serial(),
                order_id=order.id,
                slot_id=slot.id,
                visitor_name=v.name,
                id_number=v.id_number,
                holder_key=cipher.blind_index(v.id_number),
                price_fen=plan.price_fen,
                status=TicketStatus.VALID,
            )
        )
    try:
        session.flush()
    except IntegrityError:
        # Two orders raced for the same person and slot: this one loses entirely.
        raise Conflict(
            "one ticket per person per slot: a visitor already holds a ticket for this slot",
            reason="already_holds",
        ) from None
    # The seats are taken last, so the slot's row stays locked (PostgreSQL) only from here to the commit,
    # not while the order and tickets are written; a buyer who finds it full undoes them all.
    seats = session.execute(
        update(TicketSlot)
        .where(TicketSlot.id == slot.id, TicketSlot.sold + count <= TicketSlot.capacity)
        .values(sold=TicketSlot.sold + count)
        .execution_options(synchronize_session=False)
    ).rowcount
    if seats != 1:
        raise Conflict("sold out: not enough places left in this time slot", reason="sold_out")
    # Charged once the seats are certain; a payer that refuses (raises) undoes the seats and the order.
    order.payment_ref = payer.charge(order_code=code, amount_fen=total) if total else "free"
    if total:
        session.add(
            TicketPayment(
                order_id=order.id,
                kind="charge",
                amount_fen=total,
                payer=payer.name,
                reference=order.payment_ref,
                at=now,
            )
        )
    session.flush()
    session.refresh(order)
    return order


def load_order(session: Session, *, code: str, key: str) -> TicketOrder:
    order = session.scalar(select(TicketOrder).where(TicketOrder.code == code))
    # The same answer for a wrong key as for no order: the key is the buyer's only credential.
    if order is None or not hmac.compare_digest(order.access_key, key or ""):
        raise NotFound("no such order (check the code and the link)")
    return order


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def _mask_id(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


def ticket_token(rt: Runtime, *, order: TicketOrder, ticket: Ticket) -> str:
    slot = order.slot
    day_start = _local(slot.day, "00:00", rt.settings.tz)
    claims = {
        "t": ticket.serial,
        "p": order.place.code,
        "d": slot.day.isoformat(),
        "s": f"{slot.start}-{slot.end}",
        "nb": int(day_start.timestamp()),
        "na": int(slot.ends_at.timestamp()),
        "n": _mask_name(ticket.visitor_name),
    }
    return tokens.sign(tokens.signing_key(rt.settings), claims)


def refund_percent(plan: TicketPlan, *, slot: TicketSlot, now: datetime) -> int:
    hours_left = (slot.starts_at - now).total_seconds() / 3600
    for rule in json.loads(plan.refund_rule or "[]"):
        if hours_left >= rule["before_hours"]:
            return int(rule["percent"])
    return 0


def order_view(rt: Runtime, order: TicketOrder, *, lang: str = "zh") -> dict[str, Any]:
    i = 1 if lang == "en" else 0
    return {
        "code": order.code,
        "place": order.place.code,
        "place_name": order.place.name,
        "day": order.slot.day,
        "slot": f"{order.slot.start}-{order.slot.end}",
        "phone": mask_phone(order.phone),
        "total_fen": order.total_fen,
        "refunded_fen": order.refunded_fen,
        "status": order.status,
        "status_label": ORDER_LABELS[order.status][i],
        "payer": order.payer,
        "tickets": [
            {
                "serial": t.serial,
                "visitor_name": _mask_name(t.visitor_name),
                "id_number": _mask_id(t.id_number),
                "price_fen": t.price_fen,
                "status": t.status,
                "status_label": TICKET_LABELS[t.status][i],
                "used_at": t.used_at,
                "used_gate": t.used_gate,
                "token": ticket_token(rt, order=order, ticket=t) if t.status == TicketStatus.VALID else None,
            }
            for t in order.tickets
        ],
    }


def refund(
    session: Session,
    rt: Runtime,
    *,
    code: str,
    key: str,
    serials: list[str] | None,
    now: datetime | None = None,
) -> TicketOrder:
    """Refund the named tickets (default: every valid one) by the place's rule; the seats go back on sale."""
    now = now or utcnow()
    order = load_order(session, code=code, key=key)
    plan = plan_for(session, order.place)
    chosen = [t for t in order.tickets if serials is None or t.serial in serials]
    if serials is not None and len(chosen) != len(set(serials)):
        raise Invalid("some tickets are not in this order", fields={"tickets": "unknown serial"})
    chosen = [t for t in chosen if t.status == TicketStatus.VALID] if serials is None else chosen
    if not chosen:
        raise Conflict("nothing to refund: no valid ticket left in this order", reason="nothing")
    if order.slot.starts_at <= now:
        raise Conflict("the time slot has begun: tickets can no longer be refunded", reason="too_late")
    percent = refund_percent(plan, slot=order.slot, now=now)
    payer = get_payer(order.payer)
    total = 0
    for t in chosen:
        amount = t.price_fen * percent // 100
        gate.refund_ticket(session, ticket=t, amount_fen=amount, at=now)
        total += amount
    if total:
        reference = payer.refund(order_code=order.code, reference=order.payment_ref or "", amount_fen=total)
        session.add(
            TicketPayment(
                order_id=order.id,
                kind="refund",
                amount_fen=total,
                payer=payer.name,
                reference=reference,
                at=now,
            )
        )
    order.refunded_fen += total
    gate.settle_order(order)
    session.flush()
    return order


# --- the gate -------------------------------------------------------------------------------------


def public_key(rt: Runtime) -> dict[str, str]:
    key = tokens.signing_key(rt.settings)
    return {
        "algorithm": "Ed25519",
        "public_key": base64.b64encode(tokens.public_key_bytes(key)).decode("ascii"),
        "pem": tokens.public_key_pem(key),
        "format": "HBT1.<base64url JSON claims>.<base64url signature over 'HBT1.<claims>'>",
    }


def check_in(
    session: Session,
    rt: Runtime,
    *,
    code: str,
    gate_name: str,
    actor: Actor,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check a ticket in from its QR token (verified with the public key first, as offline) or its
    typed serial (then the slot's day and end are checked from the database)."""
    rbac.require_role(actor, *GATE_ROLES)
    now = now or utcnow()
    code = code.strip()
    if code.startswith(tokens.PREFIX + "."):
        pub = tokens.public_key_bytes(tokens.signing_key(rt.settings))
        try:
            serial = tokens.verify(pub, code, now=now).serial
        except tokens.TokenRefused as exc:
            raise Conflict(exc.message, reason=exc.reason) from None
    else:
        serial = code.upper().replace("-", "").replace(" ", "")
        ticket = session.scalar(select(Ticket).where(Ticket.serial == serial))
        if ticket is None:
            raise NotFound("no ticket with this code")
        slot = session.get(TicketSlot, ticket.slot_id)
        assert slot is not None
        if now < _local(slot.day, "00:00", rt.settings.tz):
            raise Conflict("the ticket is for a later day", reason="early")
        if now > slot.ends_at:
            raise Conflict("the ticket has expired", reason="expired")
    ticket = gate.check_in(session, serial=serial, gate=gate_name, by=actor.name, at=now)
    order = session.get(TicketOrder, ticket.order_id)
    assert order is not None
    return {
        "serial": ticket.serial,
        "place": order.place.code,
        "place_name": order.place.name,
        "day": order.slot.day,
        "slot": f"{order.slot.start}-{order.slot.end}",
        "visitor_name": _mask_name(ticket.visitor_name),
        "id_number": _mask_id(ticket.id_number),
        "checked_in_at": ticket.used_at,
        "gate": ticket.used_gate,
    }


def seed_demo_places(rt: Runtime, *, actor: Actor) -> ImportResult:
    """Hengyang's demo places (the project's own words, marked demo) and their ticketing plans.

    Re-running updates the same places and adds nothing.
    """
    with rt.db.write() as session:
        result = import_places(session, rt, rows=demo_rows(), actor=actor)
        for code, raw in demo_plans().items():
            set_plan(session, place_code=code, data=PlanIn.model_validate(raw), actor=actor)
    return result
