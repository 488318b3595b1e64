"""Timed tickets: real names, one per person per slot, sold out, refunds, signed QR tokens, check-in once."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import segno

from haoban.tourism import tokens
from tests.tourism.conftest import city_today, open_day
from tests.tourism.ids import id_number

PHONE = "13912345678"


def _book(
    client: Any, place: str, slot_id: int, *people: tuple[str, str], expect: int = 201
) -> dict[str, Any]:
    body = {"slot_id": slot_id, "phone": PHONE, "visitors": [{"name": n, "id_number": i} for n, i in people]}
    r = client.post(f"/api/v1/tourism/places/{place}/orders", json=body)
    assert r.status_code == expect, r.text
    return r.json()


def test_book_a_slot_at_the_grand_temple_and_check_in_once(places_rt: Any, api: Any) -> None:
    client = api.client
    day = open_day(client, "nanyue-damiao")
    slots = client.get("/api/v1/tourism/places/nanyue-damiao/slots", params={"day": day}).json()
    assert slots["price_fen"] == 4000 and sum(s["capacity"] for s in slots["slots"]) == 5000
    slot = slots["slots"][1]
    order = _book(client, "nanyue-damiao", slot["id"], ("张三", id_number(1)), ("李四", id_number(2)))
    assert order["total_fen"] == 8000 and order["status"] == "paid" and len(order["tickets"]) == 2
    assert order["tickets"][0]["id_number"].count("*") == 10  # masked
    again = client.get(f"/api/v1/tourism/orders/{order['code']}", params={"key": order["key"]})
    assert again.status_code == 200 and again.json()["code"] == order["code"]
    assert client.get(f"/api/v1/tourism/orders/{order['code']}", params={"key": "x" * 20}).status_code == 404
    after = client.get("/api/v1/tourism/places/nanyue-damiao/slots", params={"day": day}).json()["slots"][1]
    assert after["sold"] == slot["sold"] + 2

    token = order["tickets"][0]["token"]
    # The QR code carries exactly the token.
    assert segno.make(token, error="m").designator
    # Offline: the gate verifies with the public key only.
    pub = base64.b64decode(client.get("/api/v1/tourism/tickets/public-key").json()["public_key"])
    on_the_day = datetime.fromisoformat(f"{day}T10:00:00+08:00")
    assert tokens.verify(pub, token, now=on_the_day).serial == order["tickets"][0]["serial"]

    # A gate checks in on the day of the visit (the API uses now; the service takes the moment).
    from haoban.auth.service import actor_for
    from haoban.tourism import tickets

    with places_rt.db.read() as session:
        from sqlalchemy import select

        from haoban.auth.models import User

        gate_actor = actor_for(session.scalar(select(User).where(User.username == "gate")))
    with places_rt.db.write() as session:
        done = tickets.check_in(
            session, places_rt, code=token, gate_name="大庙东门", actor=gate_actor, now=on_the_day
        )
    assert done["gate"] == "大庙东门"
    later = on_the_day + timedelta(minutes=5)
    try:
        with places_rt.db.write() as session:
            tickets.check_in(
                session, places_rt, code=token, gate_name="大庙西门", actor=gate_actor, now=later
            )
    except Exception as exc:  # Conflict
        assert exc.detail["reason"] == "already_used"  # type: ignore[attr-defined]
        assert exc.detail["first_gate"] == "大庙东门"  # type: ignore[attr-defined]
        assert exc.detail["first_at"].startswith(on_the_day.astimezone(UTC).isoformat()[:16])  # type: ignore[attr-defined]
    else:
        raise AssertionError("a ticket was checked in twice")
    view = client.get(f"/api/v1/tourism/orders/{order['code']}", params={"key": order["key"]}).json()
    assert view["tickets"][0]["status"] == "used" and view["tickets"][0]["token"] is None


def test_tampered_and_expired_tokens_are_refused_offline(places_rt: Any, api: Any) -> None:
    client = api.client
    day = open_day(client, "nanyue-damiao")
    slot = client.get("/api/v1/tourism/places/nanyue-damiao/slots", params={"day": day}).json()["slots"][0]
    token = _book(client, "nanyue-damiao", slot["id"], ("王五", id_number(3)))["tickets"][0]["token"]
    pub = base64.b64decode(client.get("/api/v1/tourism/tickets/public-key").json()["public_key"])
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["na"] += 86400 * 30  # stretch the validity
    forged = ".".join([head, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="), sig])
    on_the_day = datetime.fromisoformat(f"{day}T08:00:00+08:00")
    for bad, reason in (
        (forged, "signature"),
        (token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "signature"),
        ("HBT1.nonsense", "malformed"),
    ):
        try:
            tokens.verify(pub, bad, now=on_the_day)
        except tokens.TokenRefused as exc:
            assert exc.reason == reason
        else:
            raise AssertionError(f"accepted a bad token ({reason})")
    for when, reason in (
        (on_the_day + timedelta(days=1), "expired"),
        (on_the_day - timedelta(days=2), "early"),
    ):
        try:
            tokens.verify(pub, token, now=when)
        except tokens.TokenRefused as exc:
            assert exc.reason == reason
        else:
            raise AssertionError(f"accepted a token at the wrong time ({reason})")
    # Over the API the same refusal, and only gate staff may check in.
    r = api.post("/api/v1/tourism/checkin", as_="gate", json={"code": forged, "gate": "东门"})
    assert r.status_code == 409 and r.json()["reason"] == "signature"
    assert (
        api.post("/api/v1/tourism/checkin", as_="operator", json={"code": token, "gate": "东门"}).status_code
        == 403
    )


def test_real_names_one_per_person_per_slot(small_plan: Any, client: Any) -> None:
    place, slot_id, _day = small_plan
    bad = _book(client, place, slot_id, ("张三", id_number(1)[:-1] + "0"), expect=422)
    assert "id_number" in json.dumps(bad["fields"])
    twice = _book(client, place, slot_id, ("张三", id_number(1)), ("张三", id_number(1)), expect=422)
    assert "twice" in json.dumps(twice)
    _book(client, place, slot_id, ("张三", id_number(1)))
    again = _book(client, place, slot_id, ("张三", id_number(1)), expect=409)
    assert again["reason"] == "already_holds"
    r = client.get(f"/api/v1/tourism/places/{place}/slots", params={"day": _day.isoformat()}).json()
    assert r["slots"][0]["sold"] == 1  # the refused order took no seat


def test_sold_out_and_refunds_put_places_back(small_plan: Any, client: Any) -> None:
    place, slot_id, _day = small_plan
    first = _book(client, place, slot_id, ("甲", id_number(11)), ("乙", id_number(12)))
    _book(client, place, slot_id, ("丙", id_number(13)))
    full = _book(client, place, slot_id, ("丁", id_number(14)), expect=409)
    assert full["reason"] == "sold_out"
    # More than 24 hours before the slot: the whole price back, the seat and the person freed.
    r = client.post(
        f"/api/v1/tourism/orders/{first['code']}/refund",
        json={"key": first["key"], "tickets": [first["tickets"][0]["serial"]]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "partly_refunded" and r.json()["refunded_fen"] in (5000, 2500)
    _book(client, place, slot_id, ("丁", id_number(14)))
    _book(client, place, slot_id, ("甲", id_number(11)), expect=409)  # full again
    again = client.post(
        f"/api/v1/tourism/orders/{first['code']}/refund",
        json={"key": first["key"], "tickets": [first["tickets"][0]["serial"]]},
    )
    assert again.status_code == 409
    wrong_key = client.post(f"/api/v1/tourism/orders/{first['code']}/refund", json={"key": "k" * 20})
    assert wrong_key.status_code == 404


def test_refund_rule_by_time_left(small_plan: Any, places_rt: Any) -> None:
    from haoban.tourism import tickets
    from haoban.tourism.models import TicketPlan, TicketSlot

    _place, slot_id, _day = small_plan
    with places_rt.db.read() as session:
        slot = session.get(TicketSlot, slot_id)
        plan = session.get(TicketPlan, slot.place_id)
        assert tickets.refund_percent(plan, slot=slot, now=slot.starts_at - timedelta(hours=30)) == 100
        assert tickets.refund_percent(plan, slot=slot, now=slot.starts_at - timedelta(hours=3)) == 50
        assert tickets.refund_percent(plan, slot=slot, now=slot.starts_at + timedelta(hours=1)) == 0


def test_a_closed_day_sells_nothing(places_rt: Any, client: Any) -> None:

    day = city_today() + timedelta(days=1)
    while day.weekday() != 0:
        day += timedelta(days=1)
    r = client.get("/api/v1/tourism/places/hengyang-museum/slots", params={"day": day.isoformat()}).json()
    info = places_rt.calendar.day_info(day)
    if info.kind != "holiday" and (day - city_today()).days <= 7:
        assert r["closed_reason"] == "closed that day" and r["slots"] == []
    far = client.get(
        "/api/v1/tourism/places/nanyue-damiao/slots",
        params={"day": (city_today() + timedelta(days=30)).isoformat()},
    ).json()
    assert far["closed_reason"] and far["slots"] == []
