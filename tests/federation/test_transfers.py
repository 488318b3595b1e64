"""12345 transfers between cities on two live instances: 衡阳's order about a matter in 来宾 goes there
through the gate's ``transfer_region``; 来宾 registers it linked to the original, handles it, and its
approved reply and call-back result come back; both case files and both timelines record the exchange."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from haoban.federation import service
from haoban.federation.models import CrossCase
from haoban.orders.models import Order, OrderEvent
from tests.federation.conftest import Instance

HELD = "请问这个怎么办理"  # the classifier is unsure: the order waits for a dispatcher


def _order(inst: Instance, code: str) -> Order:
    with inst.rt.db.read() as session:
        order = session.scalar(select(Order).where(Order.code == code))
        assert order is not None
        return order


def _actions(inst: Instance, code: str) -> list[str]:
    with inst.rt.db.read() as session:
        order_id = session.scalar(select(Order.id).where(Order.code == code))
        return list(
            session.scalars(
                select(OrderEvent.action).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq)
            )
        )


def _timeline(inst: Instance, local_ref: str) -> list[tuple[str, str]]:
    with inst.rt.db.read() as session:
        case = session.scalar(select(CrossCase).where(CrossCase.local_ref == local_ref))
        assert case is not None
        return [(e["side"], e["what"]) for e in service.timeline(session, case)]


def _act(inst: Instance, code: str, action: str, *, as_: str, **fields: Any) -> dict[str, Any]:
    r = inst.call("POST", f"/api/v1/orders/{code}/{action}", as_=as_, json=fields)
    assert r.status_code == 200, r.text
    return r.json()


def test_an_order_is_transferred_handled_there_and_its_reply_and_result_come_back(
    cities: tuple[Instance, Instance],
) -> None:
    a, b = cities
    r = a.call(
        "POST",
        "/api/v1/orders",
        as_="operator",
        json={
            "type": "complaint",
            "content": HELD,
            "address": "来宾市兴宾区城东路 1 号",
            "citizen_phone": "13812345678",
        },
    )
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert r.json()["status"] == "pending_dispatch"
    # Refused before anything is written: an unknown city, a missing region.
    bad = a.call("POST", f"/api/v1/orders/{code}/transfer_region", as_="operator", json={"region": "440300"})
    assert bad.status_code == 422 and "region" in bad.json()["fields"]
    missing = a.call("POST", f"/api/v1/orders/{code}/transfer_region", as_="operator", json={})
    assert missing.status_code == 422 and "region" in missing.json()["fields"]
    handler = a.call("POST", f"/api/v1/orders/{code}/transfer_region", as_="h_cgj", json={"region": b.region})
    assert handler.status_code in (403, 404)
    assert _order(a, code).status == "pending_dispatch"

    moved = _act(a, code, "transfer_region", as_="operator", region=b.region, reason="事发地在来宾市")
    assert moved["status"] == "region_transferred"
    a.deliver()
    with a.rt.db.read() as session:
        case = session.scalar(select(CrossCase).where(CrossCase.local_ref == code))
        remote = case.remote_ref
    assert remote and remote.startswith("HB")
    there = _order(b, remote)
    assert there.channel == "region" and there.external_ref == f"fed:430400:{code}"
    assert there.citizen_phone == "13812345678"
    assert _actions(a, code)[-2:] == ["transfer_region", "region_accepted"]
    assert "from_region" in _actions(b, remote)

    # 来宾 handles it: dispatch, sign, reply, approve (the reply goes back), call back (the result goes back).
    if there.status != "dispatched":
        _act(b, remote, "dispatch", as_="dispatcher", department="cgj")
    _act(b, remote, "sign", as_="h_cgj")
    _act(b, remote, "reply", as_="h_cgj", reply="已协调物业，夜间施工已停止。")
    _act(b, remote, "review_reply", as_="dispatcher", decision="approve")
    b.deliver()
    here = _order(a, code)
    assert here.reply_text == "已协调物业，夜间施工已停止。" and here.status == "region_transferred"
    _act(b, remote, "callback", as_="operator", result="satisfied", comment="市民满意")
    b.deliver()
    here = _order(a, code)
    assert (here.status, here.callback_result) == ("closed", "satisfied")
    assert _actions(a, code)[-4:] == ["transfer_region", "region_accepted", "remote_reply", "remote_close"]
    # One timeline on both sides.
    expected = [("430400", "transferred"), ("451300", "accepted"), ("451300", "reply"), ("451300", "closed")]
    assert _timeline(a, code) == expected
    assert _timeline(b, remote) == expected
    # Delivering again changes nothing on either side.
    assert a.deliver()["delivered"] == 0 and b.deliver()["delivered"] == 0
    with b.rt.db.read() as session:
        assert session.scalar(select(Order.id).where(Order.external_ref == f"fed:430400:{code}")) == there.id
    board = a.call("GET", "/api/v1/federation/dashboard", as_="supervisor").json()
    assert {"partner": "451300", "mode": "transfer", "outgoing": 1, "done": 1}.items() <= board[0].items()


def test_no_hotline_agreement_no_transfer(cities: tuple[Instance, Instance]) -> None:
    a, b = cities
    with a.rt.db.read() as session:
        [agreement] = service.list_agreements(session, actor=_system())
    r = a.call(
        "POST",
        f"/api/v1/admin/federation/agreements/{agreement['id']}/end",
        as_="admin",
        json={"valid_to": "2021-01-01"},
    )
    assert r.status_code == 200
    r = a.call("POST", "/api/v1/orders", as_="operator", json={"type": "consult", "content": HELD})
    code = r.json()["code"]
    refused = a.call(
        "POST", f"/api/v1/orders/{code}/transfer_region", as_="operator", json={"region": b.region}
    )
    assert refused.status_code == 422 and "agreement" in refused.json()["message"]
    assert _order(a, code).status == "pending_dispatch"


def _system() -> Any:
    from haoban.auth.actors import SYSTEM_ACTOR

    return SYSTEM_ACTOR


def test_a_transfer_made_while_the_partner_is_down_arrives_once_when_it_is_back(
    cities: tuple[Instance, Instance],
) -> None:
    a, b = cities
    r = a.call("POST", "/api/v1/orders", as_="operator", json={"type": "consult", "content": HELD})
    code = r.json()["code"]
    b.stop()
    _act(a, code, "transfer_region", as_="operator", region=b.region)
    assert a.deliver()["delivered"] == 0
    assert a.deliver()["delivered"] == 0
    b.start()
    assert a.deliver()["delivered"] == 1
    assert a.deliver()["delivered"] == 0
    with b.rt.db.read() as session:
        arrived = session.scalars(select(Order.code).where(Order.external_ref == f"fed:430400:{code}")).all()
    assert len(arrived) == 1
    assert _actions(a, code)[-2:] == ["transfer_region", "region_accepted"]
