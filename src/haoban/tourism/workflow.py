"""The ticket lifecycle as one table (pure): which status a ticket and its order may move to, and how.

A ticket is ``valid`` once paid; ``check_in`` makes it ``used`` (once only), ``refund`` makes it
``refunded`` (before it is used). An order is ``paid`` until some of its tickets are refunded
(``partly_refunded``) or all of them (``refunded``). ``tourism.gate`` is the only place that applies it.
"""

from __future__ import annotations

import enum


class TicketStatus(enum.StrEnum):
    VALID = "valid"
    USED = "used"
    REFUNDED = "refunded"


class OrderStatus(enum.StrEnum):
    PAID = "paid"
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"


# (action, from status) → to status
TICKET_MOVES: dict[tuple[str, str], str] = {
    ("check_in", TicketStatus.VALID): TicketStatus.USED,
    ("refund", TicketStatus.VALID): TicketStatus.REFUNDED,
}
TICKET_LABELS: dict[str, tuple[str, str]] = {
    TicketStatus.VALID: ("待使用", "Valid"),
    TicketStatus.USED: ("已检票", "Checked in"),
    TicketStatus.REFUNDED: ("已退票", "Refunded"),
}
ORDER_LABELS: dict[str, tuple[str, str]] = {
    OrderStatus.PAID: ("已支付", "Paid"),
    OrderStatus.PARTLY_REFUNDED: ("部分退票", "Partly refunded"),
    OrderStatus.REFUNDED: ("已退款", "Refunded"),
}


def ticket_move(action: str, status: str) -> str | None:
    """The status ``action`` leads to from ``status``, or None when the table does not allow it."""
    return TICKET_MOVES.get((action, status))


def order_status(ticket_statuses: list[str]) -> str:
    """An order's status follows its tickets."""
    refunded = sum(1 for s in ticket_statuses if s == TicketStatus.REFUNDED)
    if refunded == 0:
        return OrderStatus.PAID
    return OrderStatus.REFUNDED if refunded == len(ticket_statuses) else OrderStatus.PARTLY_REFUNDED
