"""Two conflicting actions at the same moment: exactly one wins, the other gets 409, no partial write."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select

from haoban.auth.actors import Actor
from haoban.errors import Conflict
from haoban.orders.actions import apply_action
from haoban.orders.models import Order, OrderEvent
from haoban.orders.schemas import ActionRequest
from tests.conftest import Api


def _handler(rt: Any, username: str, dept: str) -> Actor:
    return Actor(
        id=None,
        username=username,
        name=username,
        role="handler",
        department_id=rt.directory.department(dept).id,
    )


def _race(rt: Any, code: str, attempts: list[tuple[str, ActionRequest, Actor]]) -> list[str]:
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(action: str, data: ActionRequest, actor: Actor) -> None:
        barrier.wait()
        try:
            with rt.db.write() as session:
                apply_action(session, rt, code=code, action=action, data=data, actor=actor)
            result = f"ok:{action}"
        except Conflict:
            result = f"conflict:{action}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=a) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_sign_versus_return_exactly_one_wins(api: Api, rt: Any) -> None:
    for _ in range(5):
        code = api.create()["code"]
        a = _handler(rt, "h1", "cgj")
        b = _handler(rt, "h2", "cgj")
        outcomes = _race(
            rt, code, [("sign", ActionRequest(), a), ("return", ActionRequest(reason="not ours"), b)]
        )
        assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"], outcomes
        with rt.db.read() as s:
            order = s.scalar(select(Order).where(Order.code == code))
            events = s.scalar(select(func.count(OrderEvent.id)).where(OrderEvent.order_id == order.id))
            winner = next(o for o in outcomes if o.startswith("ok")).split(":")[1]
            assert order.status == ("signed" if winner == "sign" else "return_requested")
            assert events == 3 and order.event_count == 3  # register, dispatch, and the winner only


def test_two_handlers_reply_at_once_one_reply_stored(api: Api, rt: Any) -> None:
    code = api.create()["code"]
    api.act(code, "sign", as_="h_cgj")
    a, b = _handler(rt, "h1", "cgj"), _handler(rt, "h2", "cgj")
    outcomes = _race(
        rt, code, [("reply", ActionRequest(reply="reply A"), a), ("reply", ActionRequest(reply="reply B"), b)]
    )
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "ok"]
    events = api.get(f"/api/v1/orders/{code}/events", as_="auditor").json()
    assert [e["action"] for e in events].count("reply") == 1


def test_race_over_http(api: Api) -> None:
    code = api.create()["code"]
    api.token("h_cgj")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def go(action: str, body: dict[str, Any]) -> None:
        barrier.wait()
        statuses.append(api.post(f"/api/v1/orders/{code}/{action}", as_="h_cgj", json=body).status_code)

    threads = [
        threading.Thread(target=go, args=("sign", {})),
        threading.Thread(target=go, args=("return", {"reason": "x"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 409]
