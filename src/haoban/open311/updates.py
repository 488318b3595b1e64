"""The ``servicerequestupdates`` extension (GeoReport v2 as FixMyStreet uses it): what happened to public
service requests in a window, so a client can follow them without reading every request again.

Each update is one entry of an order's public history (the case-file actions a citizen sees on the
tracking page, ``orders.presenters.CITIZEN_ACTIONS``): ``update_id`` is the order's code and the event's
number, ``status`` the state after it in FixMyStreet's words (open, in_progress, closed, duplicate), and
``description`` says what happened; the department's reply appears only with the hotline's approval, as
on the tracking page. Whistle-blowing reports and orders handed to 110/119/120/122 are never shown.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from haoban.db import utcnow
from haoban.directory.service import DirectorySnapshot
from haoban.open311.service import MAX_RESULTS, public_orders, window
from haoban.orders.models import Order, OrderEvent
from haoban.orders.presenters import CITIZEN_ACTIONS
from haoban.orders.workflow import STATUS_LABELS, Status

_IN_PROGRESS = frozenset({Status.SIGNED, Status.REPLIED, Status.REGION_TRANSFERRED})
_CLOSED = frozenset({Status.ANSWERED, Status.CALLBACK, Status.CLOSED, Status.ARCHIVED})


def update_status(status: str) -> str:
    s = Status(status)
    if s == Status.MERGED:
        return "duplicate"
    if s in _CLOSED:
        return "closed"
    return "in_progress" if s in _IN_PROGRESS else "open"


def _label(status: str) -> str:
    zh, en = STATUS_LABELS[Status(status)]
    return f"{zh} ({en})"


def updates_query(start: datetime, end: datetime) -> Select[tuple[OrderEvent, str]]:
    """The public case-file events in a window, oldest first. It reads ``order_events`` by time through
    ``ix_order_events_at`` (tests/open311/test_updates_index.py checks the plan on both databases)."""
    public = public_orders().subquery()
    return (
        select(OrderEvent, Order.code)
        .join(public, public.c.id == OrderEvent.order_id)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(OrderEvent.action.in_(sorted(CITIZEN_ACTIONS)), OrderEvent.at >= start, OrderEvent.at <= end)
        .order_by(OrderEvent.at, OrderEvent.id)
        .limit(MAX_RESULTS)
    )


def find_updates(
    session: Session,
    *,
    directory: DirectorySnapshot,
    start_date: str | None = None,
    end_date: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Updates in the window (at most 90 days; the last 90 days when none is given), oldest first."""
    start, end = window(start_date, end_date, now=now or utcnow())
    rows = session.execute(updates_query(start, end)).all()
    approved = [e for e, _ in rows if e.action == "review_reply" and e.to_status == Status.CALLBACK]
    replies = _replies_before(session, approved)
    out = []
    for event, code in rows:
        payload = json.loads(event.payload)
        if event.action == "answer":
            description = str(payload.get("answer") or _label(event.to_status))
        elif event.action == "review_reply" and event.to_status == Status.CALLBACK:
            description = replies.get(event.id) or _label(event.to_status)
        elif event.action in _TRANSFER_WORDS and payload.get("region"):
            description = _transfer_words(event.action, payload)
        elif event.action == "dispatch" and payload.get("department"):
            dept = directory.department(str(payload["department"]))
            description = f"已派单至 {dept.name} (dispatched)" if dept else _label(event.to_status)
        else:
            description = _label(event.to_status)
        out.append(
            {
                "update_id": f"{code}-{event.seq}",
                "service_request_id": code,
                "status": update_status(event.to_status),
                "updated_datetime": event.at,
                "description": description,
                "media_url": None,
            }
        )
    return out


_TRANSFER_WORDS = {
    "transfer_region": (
        "已转至{partner}（区划 {region}）12345 办理",
        "transferred to {partner}, region {region}",
    ),
    "region_accepted": (
        "{partner}已受理，编号 {remote_code}",
        "accepted by {partner}; their reference {remote_code}",
    ),
    "remote_reply": ("{reply}", "the reply of {partner}"),
}


def _transfer_words(action: str, payload: dict[str, Any]) -> str:
    """A transfer to another city (跨区域转办) in words, with the city and its number for the order."""
    values = {
        "partner": payload.get("partner") or payload.get("region"),
        "region": payload.get("region"),
        "remote_code": payload.get("remote_code") or "",
        "reply": payload.get("reply") or "",
    }
    zh, en = _TRANSFER_WORDS[action]
    if action == "remote_reply":
        return str(values["reply"]) or en.format(**values)
    return f"{zh.format(**values)} ({en.format(**values)})"


def _replies_before(session: Session, approvals: list[OrderEvent]) -> dict[int, str]:
    """For each approval (审核通过), the reply it approved: the order's last reply event before it."""
    if not approvals:
        return {}
    ids = {e.order_id for e in approvals}
    replies = list(
        session.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id.in_(ids), OrderEvent.action == "reply")
            .order_by(OrderEvent.order_id, OrderEvent.seq)
        )
    )
    out: dict[int, str] = {}
    for approval in approvals:
        before = [r for r in replies if r.order_id == approval.order_id and r.seq < approval.seq]
        if before:
            out[approval.id] = str(json.loads(before[-1].payload).get("reply") or "")
    return out
