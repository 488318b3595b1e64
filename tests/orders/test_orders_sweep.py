"""The deadline sweep (预警 / 超期 / 自动督办) and the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from haoban.notifications.models import DeliveredMessage, OutboxMessage
from haoban.notifications.service import RecordingSender, drain
from haoban.orders.models import Order
from haoban.orders.sweep import sweep
from tests.conftest import Api


def _order(rt: Any, code: str) -> Order:
    with rt.db.read() as s:
        return s.scalar(select(Order).where(Order.code == code))


def test_warning_then_overdue_then_nothing_more(api: Api, rt: Any) -> None:
    code = api.create()["code"]
    api.act(code, "sign", as_="h_cgj")
    order = _order(rt, code)
    assert order.handle_warn_at < order.handle_deadline
    with rt.db.write() as s:
        assert sweep(s, rt, now=order.handle_warn_at - timedelta(seconds=1)).warnings == 0
    with rt.db.write() as s:
        result = sweep(s, rt, now=order.handle_warn_at + timedelta(seconds=1))
    assert result.warnings == 1 and result.overdue == 0
    assert api.get(f"/api/v1/orders/{code}", as_="supervisor").json()["deadlines"]["handle"]["at"]
    late = order.handle_deadline + timedelta(minutes=1)
    with rt.db.write() as s:
        result = sweep(s, rt, now=late)
    assert result.overdue == 1 and result.supervised == 1
    with rt.db.write() as s:
        again = sweep(s, rt, now=late + timedelta(hours=1))
    assert (again.warnings, again.overdue) == (0, 0)
    after = _order(rt, code)
    assert after.supervision_level == 1 and after.handle_alert == "overdue"
    events = api.get(f"/api/v1/orders/{code}/events", as_="auditor").json()
    assert events[-1]["action"] == "supervise" and events[-1]["role"] == "system"
    overdue = api.get("/api/v1/orders", as_="supervisor", params={"overdue": True}).json()
    assert overdue["total"] == 0  # overdue filter uses the real clock; the sweep above used a future one


def test_unsigned_order_gets_sign_alerts(api: Api, rt: Any) -> None:
    code = api.create()["code"]
    order = _order(rt, code)
    with rt.db.write() as s:
        result = sweep(s, rt, now=order.sign_deadline + timedelta(minutes=1))
    # The sign clock ran out; the handling clock (days long) has not even turned yellow.
    assert (result.warnings, result.overdue, result.supervised) == (0, 1, 0)
    assert _order(rt, code).sign_alert == "overdue" and _order(rt, code).handle_alert is None


def test_outbox_receipt_is_delivered_once(api: Api, rt: Any) -> None:
    created = api.create(citizen_phone="13912345678")
    code = created["code"]
    with rt.db.read() as s:
        pending = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        # The receipt (受理回执), and the "sent to the department" step when intake routed the order.
        texts = 2 if created["status"] == "dispatched" else 1
        assert [(m.recipient, code in m.body) for m in pending] == [("13912345678", True)] * texts
    sent = drain(rt.db, sender=RecordingSender())
    assert sent == texts
    assert drain(rt.db, sender=RecordingSender()) == 0
    with rt.db.read() as s:
        assert s.scalar(select(func.count(DeliveredMessage.id))) == sent


def test_failing_sender_retries_then_gives_up(api: Api, rt: Any) -> None:
    api.create()

    class Broken:
        def send(self, session: Any, message: Any) -> None:
            raise RuntimeError("gateway down")

    for _ in range(5):
        assert drain(rt.db, sender=Broken()) == 0
    with rt.db.read() as s:
        statuses = set(s.scalars(select(OutboxMessage.status)))
        assert statuses == {"failed"}
        assert s.scalar(select(func.count(DeliveredMessage.id))) == 0


def test_worker_tick(api: Api, rt: Any) -> None:
    from haoban.worker import tick

    texts = 2 if api.create()["status"] == "dispatched" else 1  # the receipt (and the dispatch step)
    result = tick(rt)
    assert result.swept and result.sent == texts


def test_worker_keeps_its_two_timers(api: Api, rt: Any) -> None:
    """The sweep runs every sweep_seconds, the outbox is drained every outbox_seconds."""
    from haoban.jobs import get
    from haoban.worker import tick

    every = (get("orders.sweep").interval(rt.settings), get("notifications.drain").interval(rt.settings))
    assert every == (rt.settings.sweep_seconds, rt.settings.outbox_seconds)
    texts = 2 if api.create()["status"] == "dispatched" else 1
    between = tick(rt, sweep_due=False)  # a drain between two sweeps
    assert not between.swept and between.sent == texts


def test_a_warned_order_does_not_keep_an_overdue_one_out_of_the_batch(api: Api, rt: Any) -> None:
    """The sweep reads at most ``limit`` orders a period, earliest warning first: orders already warned
    and not yet overdue must not fill that batch ahead of one whose deadline has passed."""
    yellow, red = api.create()["code"], api.create()["code"]
    for code in (yellow, red):
        api.act(code, "sign", as_="h_cgj")
    now = _order(rt, red).handle_deadline + timedelta(hours=1)
    with rt.db.write() as s:
        a = s.scalar(select(Order).where(Order.code == yellow))
        b = s.scalar(select(Order).where(Order.code == red))
        # Both warned; the yellow one turned yellow first but runs out only tomorrow.
        a.handle_warn_at, a.handle_deadline, a.handle_alert = (
            now - timedelta(days=2),
            now + timedelta(days=1),
            "warning",
        )
        b.handle_warn_at, b.handle_deadline, b.handle_alert = (
            now - timedelta(days=1),
            now - timedelta(hours=1),
            "warning",
        )
    with rt.db.write() as s:
        result = sweep(s, rt, now=now, limit=1)
    assert (result.warnings, result.overdue, result.supervised) == (0, 1, 1)
    assert _order(rt, red).handle_alert == "overdue" and _order(rt, yellow).handle_alert == "warning"


def test_both_alert_states_due_share_the_limit_earliest_warning_first(api: Api, rt: Any) -> None:
    """The sweep asks the not-yet-warned and the warned-and-late orders in two queries (one index
    each, migration 0041); under ``limit`` the earliest warning times of both go first, and every
    order is handled exactly once over the following periods."""
    codes = [api.create()["code"] for _ in range(3)]
    for code in codes:
        api.act(code, "sign", as_="h_cgj")
    now = _order(rt, codes[0]).handle_deadline + timedelta(days=30)
    # (warn_at, deadline, alert): a fresh yellow, a warned order now late, a fresh red.
    plan = {
        codes[0]: (now - timedelta(days=3), now + timedelta(days=1), None),
        codes[1]: (now - timedelta(days=2), now - timedelta(hours=1), "warning"),
        codes[2]: (now - timedelta(days=1), now - timedelta(minutes=5), None),
    }
    with rt.db.write() as s:
        for code, (warn_at, deadline, alert) in plan.items():
            o = s.scalar(select(Order).where(Order.code == code))
            o.handle_warn_at, o.handle_deadline, o.handle_alert = warn_at, deadline, alert
    seen = []
    for minute in range(4):
        with rt.db.write() as s:
            result = sweep(s, rt, now=now + timedelta(minutes=minute), limit=1)
        seen.append((result.warnings, result.overdue))
        assert result.warnings + result.overdue <= 1
    assert seen == [(1, 0), (0, 1), (0, 1), (0, 0)]
    assert [_order(rt, c).handle_alert for c in codes] == ["warning", "overdue", "overdue"]
