"""The demo city opens with calls waiting in the dispatch queue, one of them reported twice, so a new
user sees the queue's suggestions and duplicate hints at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from haoban.demo.seed import QUEUE_SIZE, seed_queue
from haoban.orders.models import Order
from tests.conftest import Api


def test_demo_queue_waits_for_a_dispatcher_with_a_duplicate_pair(rt: Any, api: Api) -> None:
    assert seed_queue(rt) == QUEUE_SIZE + 1
    assert seed_queue(rt) == QUEUE_SIZE + 1  # idempotent: nothing added the second time
    with rt.db.read() as session:
        rows = session.execute(
            select(Order.code, Order.status, Order.external_ref)
            .where(Order.external_ref.like("demo-queue:%"))
            .order_by(Order.id)
        ).all()
    assert len(rows) == QUEUE_SIZE + 1
    assert {r.status for r in rows} == {"pending_dispatch"}
    first, again = rows[0], rows[-1]
    assert again.external_ref == first.external_ref + ":again"
    found = api.get(f"/api/v1/orders/{again.code}/duplicates", as_="dispatcher").json()
    assert first.code in [c["code"] for c in found["candidates"]]
