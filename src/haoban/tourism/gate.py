"""The only place a ticket's or a ticket order's status changes, following ``tourism.workflow``.

Changes are conditional UPDATEs (``… WHERE status = 'valid'``) so that two gates scanning the same
ticket, or a refund racing a check-in, cannot both win: exactly one row changes, the other caller
learns what happened first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from haoban.errors import Conflict, NotFound
from haoban.tourism import workflow
from haoban.tourism.models import Ticket, TicketOrder, TicketSlot
from haoban.tourism.workflow import TicketStatus


def _refusal(ticket: Ticket, action: str) -> Conflict:
    if ticket.status == TicketStatus.USED:
        return Conflict(
            "this ticket was already checked in",
            reason="already_used",
            first_at=ticket.used_at.isoformat() if ticket.used_at else None,
            first_gate=ticket.used_gate,
            serial=ticket.serial,
        )
    if ticket.status == TicketStatus.REFUNDED:
        return Conflict("this ticket was refunded", reason="refunded", serial=ticket.serial)
    return Conflict(f"a {ticket.status} ticket cannot be {action}", reason="state", serial=ticket.serial)


def check_in(session: Session, *, serial: str, gate: str, by: str, at: datetime) -> Ticket:
    """valid → used, once. A second scan raises Conflict carrying the first scan's time and gate."""
    to = workflow.ticket_move("check_in", TicketStatus.VALID)
    changed = session.execute(
        update(Ticket)
        .where(Ticket.serial == serial, Ticket.status == TicketStatus.VALID)
        .values(status=to, used_at=at, used_gate=gate, used_by=by)
        .execution_options(synchronize_session=False)
    ).rowcount
    ticket = session.scalar(
        select(Ticket).where(Ticket.serial == serial).execution_options(populate_existing=True)
    )
    if ticket is None:
        raise NotFound("no such ticket")
    if changed != 1:
        raise _refusal(ticket, "checked in")
    return ticket


def refund_ticket(session: Session, *, ticket: Ticket, amount_fen: int, at: datetime) -> None:
    """valid → refunded: the place goes back on sale and the person may book the slot again."""
    to = workflow.ticket_move("refund", TicketStatus.VALID)
    changed = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == TicketStatus.VALID)
        .values(status=to, holder_key=None, refunded_at=at, refunded_fen=amount_fen)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(ticket)
    if changed != 1:
        raise _refusal(ticket, "refunded")
    session.execute(
        update(TicketSlot)
        .where(TicketSlot.id == ticket.slot_id, TicketSlot.sold > 0)
        .values(sold=TicketSlot.sold - 1)
        .execution_options(synchronize_session=False)
    )


def settle_order(order: TicketOrder) -> None:
    """The order's status follows its tickets (after a refund)."""
    order.status = workflow.order_status([t.status for t in order.tickets])
