"""An appeal routed at intake sends the citizen the same "sent to the department" SMS (through the
outbox) as a dispatcher's dispatch does (issue 13), once, after the receipt."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from haoban.notifications.models import OutboxMessage
from haoban.orders.actions import progress_sms

PHONE = "13912340001"


def _texts(rt: Any, phone: str) -> list[tuple[str, str]]:
    with rt.db.read() as session:
        rows = session.execute(
            select(OutboxMessage.body, OutboxMessage.dedupe_key)
            .where(OutboxMessage.recipient == phone, OutboxMessage.channel == "sms")
            .order_by(OutboxMessage.id)
        ).all()
        return [(b, k) for b, k in rows]


def test_an_auto_routed_appeal_texts_that_it_went_to_the_department(api: Any, rt: Any) -> None:
    created = api.create(citizen_phone=PHONE, content="滨江路的路灯坏了三天，晚上很黑，请城管尽快修理。")
    assert created["status"] == "dispatched", created  # the catalogue routed it
    code = created["code"]
    texts = _texts(rt, PHONE)
    assert len(texts) == 2 and "受理" in texts[0][0]
    body, key = texts[1]
    assert body == progress_sms(code, "dispatch", "dispatched") and "已交给承办部门" in body
    assert key.startswith(f"progress:{code}:")


def test_the_same_text_as_a_dispatchers_dispatch_and_none_for_a_held_appeal(api: Any, rt: Any) -> None:
    phone = "13912340002"
    held = api.create(citizen_phone=phone, content="我想反映一个问题，情况比较复杂，请回电话详谈。")
    if held["status"] == "pending_dispatch":
        assert len(_texts(rt, phone)) == 1  # the receipt only: nothing went anywhere yet
        api.act(held["code"], "dispatch", as_="dispatcher", department="cgj")
        manual = [b for b, _ in _texts(rt, phone)][1:]
        assert manual == [progress_sms(held["code"], "dispatch", "dispatched")]
