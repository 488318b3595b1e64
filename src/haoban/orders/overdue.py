"""The one rule for "overdue" on an open order, used by the orders list filter, the dashboard's
open-overdue count and the board's per-department deadlines table (issue 13).

An order is overdue when it is in a handling status, its handling deadline has passed, and no reply was
given in time: an order replied before its deadline waits for the hotline's review and is not late.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_

from haoban.orders.models import Order
from haoban.orders.workflow import HANDLING_STATUSES

HANDLING = tuple(s.value for s in HANDLING_STATUSES)


def late_clause(now: datetime) -> Any:
    """Past the handling deadline with no reply in time (whatever the status; combine with one)."""
    return and_(
        Order.handle_deadline < now,
        or_(Order.replied_at.is_(None), Order.replied_at > Order.handle_deadline),
    )


def overdue_clause(now: datetime) -> Any:
    """Open past the handling deadline: in a handling status, the deadline passed, no reply in time."""
    return and_(Order.status.in_(HANDLING), late_clause(now))
