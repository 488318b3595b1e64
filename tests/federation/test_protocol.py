"""The wire protocol between two live instances: signed canonical messages delivered through the
outbox in order per case, exactly once in effect; forged, replayed, expired, unknown-partner and
out-of-agreement messages refused with their reasons and logged; a partner down for a while gets
everything once it is back, nothing twice."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, update

from haoban.db import utcnow
from haoban.federation import flows, messages, protocol, service
from haoban.federation.models import CrossCase, InboxEntry, OutboxEntry, Refusal
from tests.federation.conftest import Instance


def test_canonical_json_is_sorted_compact_utf8_and_signed() -> None:
    assert messages.canonical({"b": 1, "a": {"d": "来宾", "c": [1, 2]}}) == (
        '{"a":{"c":[1,2],"d":"来宾"},"b":1}'.encode()
    )
    key = Ed25519PrivateKey.generate()
    env = messages.seal(
        key,
        message_id="m1",
        sender="430400",
        recipient="451300",
        kind="ping",
        case="c1",
        seq=1,
        item="note",
        mode="proxy",
        body={"text": "你好"},
        now=utcnow(),
    )
    assert messages.shape_problem(env) is None
    assert messages.verify(messages.public_b64(key), env)
    env["message"]["body"]["text"] = "再见"
    assert not messages.verify(messages.public_b64(key), env)
    assert messages.shape_problem({"message": {}, "signature": "x"}) is not None


def _note(a: Instance, b: Instance, case: str, text: str, *, item: str = "note") -> str:
    with a.rt.db.write() as session:
        msg = flows.send_note(
            session, a.rt, partner_region=b.region, case=case, item=item, mode="proxy", text=text, author="op"
        )
        return msg.message_id


def _inbox(inst: Instance) -> list[tuple[str, int, str]]:
    with inst.rt.db.read() as session:
        rows = session.scalars(select(InboxEntry).order_by(InboxEntry.id)).all()
        return [(r.case_key, r.seq, json.loads(r.body)["text"]) for r in rows]


def _outbox(inst: Instance) -> list[OutboxEntry]:
    with inst.rt.db.read() as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all())


def test_a_note_goes_out_signed_and_arrives_once(cities: tuple[Instance, Instance]) -> None:
    a, b = cities
    _note(a, b, "HY-1", "材料已收齐，请审核。")
    a.deliver()
    assert _inbox(b) == [("HY-1", 1, "材料已收齐，请审核。")]
    [sent] = _outbox(a)
    assert sent.status == "delivered" and sent.attempts == 1
    # Both timelines show the note, on the side where it was written.
    for inst in (a, b):
        with inst.rt.db.read() as session:
            case = session.scalar(select(CrossCase).where(CrossCase.case_key == "HY-1"))
            assert [(e["side"], e["what"]) for e in service.timeline(session, case)] == [("430400", "note")]
    # The acknowledgement got lost: the sender sends again (new nonce, same id) and B does nothing twice.
    with a.rt.db.write() as session:
        session.execute(update(OutboxEntry).values(status="pending", delivered_at=None))
    assert a.deliver()["delivered"] == 1
    assert _inbox(b) == [("HY-1", 1, "材料已收齐，请审核。")]
    assert a.deliver() == {"delivered": 0, "retrying": 0, "refused": 0}


def _post(b: Instance, envelope: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        b.url + protocol.PATH,
        content=messages.canonical(envelope),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )


def _sealed(
    key: Any, *, sender: str = "430400", item: str = "note", at: Any = None, seq: int = 1, **kw: Any
) -> Any:
    return messages.seal(
        key,
        message_id=kw.pop("message_id", None) or str(uuid.uuid4()),
        sender=sender,
        recipient="451300",
        kind="case.note",
        case=kw.pop("case", "FORGE-1"),
        seq=seq,
        item=item,
        mode="proxy",
        body={"text": "伪造", "by": "x"},
        now=at or utcnow(),
    )


def test_forged_replayed_expired_unknown_and_out_of_agreement_messages_are_refused_and_logged(
    cities: tuple[Instance, Instance],
) -> None:
    a, b = cities
    stranger = Ed25519PrivateKey.generate()
    cases = [
        ("forged", _sealed(stranger), 401, "bad_signature"),
        ("expired", _sealed(a.key, at=utcnow() - timedelta(hours=1), case="OLD"), 401, "expired"),
        ("from the future", _sealed(a.key, at=utcnow() + timedelta(hours=1), case="NEW"), 401, "expired"),
        ("unknown partner", _sealed(stranger, sender="440300"), 403, "unknown_partner"),
        ("out of agreement", _sealed(a.key, item="business_licence", case="OOA"), 403, "out_of_agreement"),
        ("jumps ahead", _sealed(a.key, seq=2, case="GAP"), 425, "out_of_order"),
    ]
    for label, envelope, status, reason in cases:
        r = _post(b, envelope)
        assert (r.status_code, r.json()["error"]) == (status, reason), f"{label}: {r.text}"
        assert r.json()["message"], label
    tampered = _sealed(a.key, case="TAMPER")
    tampered["message"]["body"]["text"] = "改过的"
    r = _post(b, tampered)
    assert (r.status_code, r.json()["error"]) == (401, "bad_signature")
    r = _post(b, {"message": {"id": 1}, "signature": "AA=="})
    assert (r.status_code, r.json()["error"]) == (400, "malformed")
    # A genuine message is accepted once; the very same bytes again are a replay.
    good = _sealed(a.key, case="REAL")
    first = _post(b, good)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    again = _post(b, good)
    assert (again.status_code, again.json()["error"]) == (409, "replay")
    assert _inbox(b) == [("REAL", 1, "伪造")]
    with b.rt.db.read() as session:
        reasons = sorted(session.scalars(select(Refusal.reason)).all())
        assert reasons == sorted(
            [
                "bad_signature",
                "bad_signature",
                "expired",
                "expired",
                "unknown_partner",
                "out_of_agreement",
                "out_of_order",
                "malformed",
                "replay",
            ]
        )
    # The refusals are readable by an admin, not by the public.
    assert b.call("GET", "/api/v1/admin/federation/refusals").status_code == 401
    listed = b.call("GET", "/api/v1/admin/federation/refusals", as_="admin").json()
    assert {r["reason"] for r in listed} >= {"replay", "expired", "unknown_partner"}


def test_a_partner_down_for_a_while_gets_everything_in_order_and_nothing_twice(
    cities: tuple[Instance, Instance],
) -> None:
    a, b = cities
    b.stop()
    for n in (1, 2, 3):
        _note(a, b, "DOWN-1", f"第{n}条")
    _note(a, b, "DOWN-2", "另一件")
    first = a.deliver()
    assert first["delivered"] == 0 and first["retrying"] >= 1
    a.deliver()
    waiting = _outbox(a)
    assert {m.status for m in waiting} == {"pending"}
    assert max(m.attempts for m in waiting) >= 2
    # Only the head of each case was tried: message 2 never goes before message 1 is acknowledged.
    assert {(m.case_key, m.seq) for m in waiting if m.attempts > 0} <= {("DOWN-1", 1), ("DOWN-2", 1)}
    assert all(m.last_error for m in waiting if m.attempts > 0)
    b.start()
    assert a.deliver()["delivered"] == 4
    assert a.deliver()["delivered"] == 0
    inbox = _inbox(b)
    assert sorted(inbox) == sorted(
        [("DOWN-1", 1, "第1条"), ("DOWN-1", 2, "第2条"), ("DOWN-1", 3, "第3条"), ("DOWN-2", 1, "另一件")]
    )
    assert [x for x in inbox if x[0] == "DOWN-1"] == [
        ("DOWN-1", 1, "第1条"),
        ("DOWN-1", 2, "第2条"),
        ("DOWN-1", 3, "第3条"),
    ]
    assert {m.status for m in _outbox(a)} == {"delivered"}


def test_a_message_outside_the_agreement_is_not_even_queued(cities: tuple[Instance, Instance]) -> None:
    a, b = cities
    r = a.call(
        "POST",
        "/api/v1/federation/notes",
        as_="operator",
        json={"partner": b.region, "case": "X-1", "item": "business_licence", "mode": "proxy", "text": "hi"},
    )
    assert r.status_code == 422 and "agreement" in r.json()["message"]
    with a.rt.db.read() as session:
        assert session.scalar(select(func.count(OutboxEntry.id))) == 0
    # An agreement that ended yesterday covers nothing today.
    with a.rt.db.read() as session:
        [agreement] = service.list_agreements(session, actor=_system())
    r = a.call(
        "POST",
        f"/api/v1/admin/federation/agreements/{agreement['id']}/end",
        as_="admin",
        json={"valid_to": (utcnow().date() - timedelta(days=1)).isoformat()},
    )
    assert r.status_code == 200 and r.json()["in_force"] is False
    r = a.call(
        "POST",
        "/api/v1/federation/notes",
        as_="operator",
        json={"partner": b.region, "case": "X-2", "item": "note", "mode": "proxy", "text": "hi"},
    )
    assert r.status_code == 422


def _system() -> Any:
    from haoban.auth.actors import SYSTEM_ACTOR

    return SYSTEM_ACTOR
