"""A grant's life through the API: look-up with code and phone digits, confirmation with a masked account,
payout once through the payer, flags and reviews, a birth registered by a finished bundle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from haoban.benefits import events, matching, service
from haoban.benefits.models import Grant, GrantEvent, Payment, Resident
from haoban.benefits.payer import get_payer
from haoban.benefits.sources import index_of
from haoban.errors import Invalid
from haoban.notifications.models import OutboxMessage
from tests.benefits.conftest import TODAY, City, birthday


def _match(rt: Any, today: date = TODAY) -> None:
    with rt.db.write() as session:
        matching.match(session, today=today)


def _pay(rt: Any) -> int:
    with rt.db.write() as session:
        return service.pay_confirmed(session, payer=get_payer())


def _grant(rt: Any, policy: str) -> Grant:
    with rt.db.read() as session:
        return session.scalars(select(Grant).where(Grant.policy_code == policy)).one()


def _payments(rt: Any) -> int:
    with rt.db.read() as session:
        return session.scalar(select(func.count()).select_from(Payment)) or 0


def _elder(city: City, rt: Any) -> tuple[str, Grant]:
    idn = city.resident(birthday(85), phone="13800001234", bank_account="6217000011112222")
    _match(rt)
    return idn, _grant(rt, "elderly_allowance")


def test_look_up_confirm_pay_once(rt: Any, client: Any, city: City) -> None:
    _idn, g = _elder(city, rt)
    r = client.post("/api/v1/benefits/lookup", json={"code": g.code, "phone_last4": "9999"})
    assert r.status_code == 404
    r = client.post("/api/v1/benefits/lookup", json={"code": g.code.lower(), "phone_last4": "1234"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["account_masked"] == "6217 **** **** 2222" and body["name"].startswith("测")
    (item,) = body["grants"]
    assert (item["policy_name"], item["amount_yuan"], item["status"]) == ("高龄津贴", "100.00", "pushed")
    assert item["allowed_actions"] == ["confirm", "decline"]
    r = client.post(f"/api/v1/benefits/grants/{g.code}/confirm", json={"phone_last4": "1234"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed" and r.json()["account_masked"] == "6217 **** **** 2222"
    again = client.post(f"/api/v1/benefits/grants/{g.code}/confirm", json={"phone_last4": "1234"})
    assert again.status_code == 409
    assert _pay(rt) == 1
    # The job runs again, the payer runs again: nothing is paid twice.
    _match(rt)
    assert _pay(rt) == 0 and _payments(rt) == 1
    with rt.db.read() as session:
        paid = session.get(Grant, g.id)
        assert paid is not None and paid.status == "paid" and paid.account == "6217000011112222"
        acts = session.scalars(
            select(GrantEvent.action).where(GrantEvent.grant_id == g.id).order_by(GrantEvent.seq)
        )
        assert list(acts) == ["push", "confirm", "pay"]
        assert events.verify(session) == (1, [])
        payment = session.scalars(select(Payment)).one()
        assert (payment.amount_fen, payment.reference) == (10000, f"PAY-{g.code}")


def test_the_database_refuses_a_second_payment(rt: Any, client: Any, city: City) -> None:
    _idn, g = _elder(city, rt)
    client.post(f"/api/v1/benefits/grants/{g.code}/confirm", json={"phone_last4": "1234"})
    _pay(rt)
    with pytest.raises(IntegrityError, match="grant_id"), rt.db.write() as session:
        session.execute(
            insert(Payment),
            [
                {
                    "grant_id": g.id,
                    "amount_fen": 10000,
                    "account": None,
                    "reference": "again",
                    "payer": "table",
                }
            ],
        )


def test_an_own_account_and_a_missing_one(rt: Any, client: Any, city: City) -> None:
    city.resident(birthday(92), phone="13800004321", bank_account=None)
    _match(rt)
    g = _grant(rt, "elderly_allowance")
    r = client.post(f"/api/v1/benefits/grants/{g.code}/confirm", json={"phone_last4": "4321"})
    assert r.status_code == 422 and "account" in r.json()["fields"]
    r = client.post(
        f"/api/v1/benefits/grants/{g.code}/confirm", json={"phone_last4": "4321", "account": "12ab"}
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/benefits/grants/{g.code}/confirm",
        json={"phone_last4": "4321", "account": "6222 0000 1111 3333"},
    )
    assert r.status_code == 200 and r.json()["account_masked"] == "6222 **** **** 3333"


def test_decline(rt: Any, client: Any, city: City) -> None:
    _idn, g = _elder(city, rt)
    r = client.post(f"/api/v1/benefits/grants/{g.code}/decline", json={"phone_last4": "1234"})
    assert r.status_code == 200 and r.json()["status"] == "declined"
    assert _pay(rt) == 0


def test_a_correction_after_payment_flags_and_never_repays(
    rt: Any, api: Any, client: Any, city: City
) -> None:
    idn, g = _elder(city, rt)
    client.post(f"/api/v1/benefits/grants/{g.code}/confirm", json={"phone_last4": "1234"})
    _pay(rt)
    with rt.db.read() as session:
        r = session.scalar(select(Resident).where(Resident.id_index == index_of(session, idn)))
    assert r is not None
    city.store(
        "residents",
        [
            {
                "id_number": idn,
                "name": r.name,
                "sex": r.sex,
                "birth_date": r.birth_date,
                "district": r.district,
                "hukou_status": "deceased",
                "phone": r.phone,
                "bank_account": r.bank_account,
                "guardian_id_number": None,
            }
        ],
    )
    _match(rt)
    assert _pay(rt) == 0 and _payments(rt) == 1
    flagged = api.get("/api/v1/benefits/grants?flagged=true", as_="supervisor").json()
    assert [i["code"] for i in flagged["items"]] == [g.code]
    assert flagged["items"][0]["status"] == "paid" and flagged["items"][0]["amount_fen"] == 10000
    assert "deceased" in flagged["items"][0]["review_reason"]
    assert (
        api.post(
            f"/api/v1/benefits/grants/{g.code}/review",
            as_="operator",
            json={"decision": "uphold", "note": "x"},
        ).status_code
        == 403
    )
    w = api.post(
        f"/api/v1/benefits/grants/{g.code}/review",
        as_="supervisor",
        json={"decision": "withdraw", "note": "已发放"},
    )
    assert w.status_code == 409  # a paid grant is not withdrawn by the platform; recovery is a finance matter
    u = api.post(
        f"/api/v1/benefits/grants/{g.code}/review",
        as_="supervisor",
        json={"decision": "uphold", "note": "死亡登记晚于发放月，维持"},
    )
    assert u.status_code == 200, u.text
    assert u.json()["review_reason"] is None and u.json()["status"] == "paid"
    detail = api.get(f"/api/v1/benefits/grants/{g.code}", as_="auditor").json()
    assert [e["action"] for e in detail["events"]] == ["push", "confirm", "pay", "flag", "clear_review"]


def test_a_flagged_grant_cannot_be_confirmed_until_reviewed(
    rt: Any, api: Any, client: Any, city: City
) -> None:
    idn, g = _elder(city, rt)
    with rt.db.read() as session:
        r = session.scalar(select(Resident).where(Resident.id_index == index_of(session, idn)))
    assert r is not None
    city.store(
        "residents",
        [
            {
                "id_number": idn,
                "name": r.name,
                "sex": r.sex,
                "birth_date": r.birth_date,
                "district": r.district,
                "hukou_status": "moved_out",
                "phone": r.phone,
                "bank_account": r.bank_account,
                "guardian_id_number": None,
            }
        ],
    )
    _match(rt)
    c = client.post(f"/api/v1/benefits/grants/{g.code}/confirm", json={"phone_last4": "1234"})
    assert c.status_code == 409 and "review" in c.json()["message"]
    w = api.post(
        f"/api/v1/benefits/grants/{g.code}/review",
        as_="supervisor",
        json={"decision": "withdraw", "note": "已迁出"},
    )
    assert w.status_code == 200 and w.json()["status"] == "withdrawn"


def test_a_company_looks_up_with_its_credit_code(rt: Any, client: Any, city: City) -> None:
    code = city.company(size="medium", insured=200, layoffs=0, contact_phone="13900005678")
    _match(rt)
    r = client.post("/api/v1/benefits/lookup", json={"credit_code": code, "phone_last4": "5678"})
    assert r.status_code == 200, r.text
    (g,) = r.json()["grants"]
    assert g["policy_name"] == "稳岗返还" and g["amount_fen"] == 1_800_000
    assert (
        client.post("/api/v1/benefits/lookup", json={"credit_code": code, "phone_last4": "0000"}).status_code
        == 404
    )
    bad = client.post("/api/v1/benefits/lookup", json={"credit_code": code[:-1] + "Z", "phone_last4": "5678"})
    assert bad.status_code == 422


@dataclass
class BirthStep:
    """What a finished newborn bundle hands the ``applications.birth_registered`` hook."""

    session: Any
    birth: dict[str, Any]


def test_a_registered_birth_is_matched_at_once(rt: Any, city: City) -> None:
    from haoban.benefits import demo

    mother = city.resident(date(1995, 4, 4), phone="13700002468", male=False)
    born = TODAY - timedelta(days=3)
    child = demo.id_number(born, True, 7)
    with rt.db.write() as session:
        rt.hooks.run_after(
            "applications.birth_registered",
            BirthStep(
                session,
                {
                    "child_id_number": child,
                    "child_name": "新宝",
                    "sex": "M",
                    "birth_date": born.isoformat(),
                    "mother_id_number": mother,
                },
            ),
        )
    g = _grant(rt, "newborn_medical_enrolment")
    with rt.db.read() as session:
        sms = session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.recipient == "13700002468")
        ).all()
    assert g.amount_fen == 0 and any(g.code in b for b in sms)
    with pytest.raises(Invalid, match="birth date inside the ID number"), rt.db.write() as session:
        service.register_birth(
            session,
            child_id_number=child,
            child_name="x",
            sex="M",
            birth_date=born - timedelta(days=1),
            mother_id_number=mother,
        )


def test_figures(rt: Any, api: Any, client: Any, city: City) -> None:
    _idn, g = _elder(city, rt)
    client.post(f"/api/v1/benefits/grants/{g.code}/confirm", json={"phone_last4": "1234"})
    _pay(rt)
    r = api.get("/api/v1/benefits/figures", as_="auditor")
    assert r.status_code == 200
    (row,) = [p for p in r.json()["policies"] if p["policy"] == "elderly_allowance"]
    assert (row["eligible"], row["confirmed"], row["paid"], row["paid_fen"]) == (1, 1, 1, 10000)
    assert row["days_to_payment"] is not None and row["days_to_payment"] >= 0
    assert api.get("/api/v1/benefits/figures", as_="h_cgj").status_code == 403


ELDERLY = Path(__file__).resolve().parents[2] / "src/haoban/benefits/policies/elderly_allowance.dmn"


def test_upload_policy_and_import_source_over_the_api(rt: Any, api: Any, city: City) -> None:
    text = ELDERLY.read_text(encoding="utf-8")
    bad = text.replace("[90..100)", "[85..100)")
    r = api.post("/api/v1/benefits/policies", as_="admin", files={"file": ("e.dmn", bad.encode())})
    assert r.status_code == 422 and r.json()["problems"][0]["row"] == 2 and "overlaps" in r.json()["message"]
    assert api.post("/api/v1/benefits/policies", as_="operator", content=text.encode()).status_code == 403
    ok = api.post("/api/v1/benefits/policies", as_="admin", content=text.replace("10000", "11000").encode())
    assert ok.status_code == 201 and ok.json()["version"] == 2
    csv = "id_number,name,sex,birth_date\n123,甲,M,1950-01-01\n"
    r = api.post("/api/v1/benefits/sources/residents", as_="admin", files={"file": ("r.csv", csv.encode())})
    assert r.status_code == 422 and r.json()["problems"][0]["line"] == 2
    m = api.post("/api/v1/benefits/match", as_="admin")
    assert m.status_code == 200 and {x["policy"] for x in m.json()["runs"]} >= {"elderly_allowance"}


def test_the_worker_jobs_match_and_pay(rt: Any, client: Any, city: City) -> None:
    from haoban.jobs import get
    from haoban.jobs.registry import run_once

    city.resident(birthday(95), phone="13800002222", bank_account="6217000099998888")
    assert get("benefits.match").interval(rt.settings) == rt.settings.benefits_match_seconds
    runs = {r["policy"]: r for r in run_once(rt, "benefits.match")}
    assert runs["elderly_allowance"]["granted"] == 1
    assert sum(r["granted"] for r in run_once(rt, "benefits.match")) == 0
    g = _grant(rt, "elderly_allowance")
    client.post(f"/api/v1/benefits/grants/{g.code}/confirm", json={"phone_last4": "2222"})
    assert run_once(rt, "benefits.pay") == 1 and run_once(rt, "benefits.pay") == 0 and _payments(rt) == 1


def test_a_declined_grant_is_not_flagged(rt: Any, client: Any, city: City) -> None:
    idn, g = _elder(city, rt)
    client.post(f"/api/v1/benefits/grants/{g.code}/decline", json={"phone_last4": "1234"})
    with rt.db.read() as session:
        r = session.scalar(select(Resident).where(Resident.id_index == index_of(session, idn)))
    assert r is not None
    cols = (
        "id_number",
        "name",
        "sex",
        "birth_date",
        "district",
        "phone",
        "bank_account",
        "guardian_id_number",
    )
    city.store("residents", [{**{c: getattr(r, c) for c in cols}, "hukou_status": "deceased"}])
    _match(rt)
    with rt.db.read() as session:
        assert session.get(Grant, g.id).review_reason is None  # type: ignore[union-attr]
