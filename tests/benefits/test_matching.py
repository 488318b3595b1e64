"""The matching job: eligible subjects get one grant per policy and period, however often it runs; a data
correction flags a grant for review and never changes it; only changed subjects are re-read."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from haoban.benefits import events, matching
from haoban.benefits.models import Grant, GrantEvent, MatchRun, Resident
from haoban.benefits.sources import index_of
from tests.benefits.conftest import TODAY, City, birthday


def _count(rt: Any, model: Any, *where: Any) -> int:
    with rt.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _match(rt: Any, **kw: Any) -> dict[str, matching.RunReport]:
    with rt.db.write() as session:
        return {r.policy: r for r in matching.match(session, today=kw.pop("today", TODAY), **kw)}


def test_matching_twice_grants_nothing_twice(rt: Any, city: City) -> None:
    city.resident(birthday(85))
    city.resident(birthday(1))
    city.company(size="small", insured=40, layoffs=0)
    first = _match(rt)
    assert {k: r.granted for k, r in first.items()} == {
        "childcare_subsidy": 1,
        "elderly_allowance": 1,
        "job_retention_refund": 1,
        "newborn_medical_enrolment": 0,
    }
    assert {r.mode for r in first.values()} == {"full"}
    grants = _count(rt, Grant)
    again = _match(rt)
    assert {r.mode for r in again.values()} == {"incremental"} and sum(r.granted for r in again.values()) == 0
    forced = _match(rt, full=True)
    assert {r.mode for r in forced.values()} == {"full"} and sum(r.granted for r in forced.values()) == 0
    assert _count(rt, Grant) == grants == 3


def test_the_database_refuses_a_second_grant(rt: Any, city: City) -> None:
    city.resident(birthday(85))
    _match(rt)
    with rt.db.read() as session:
        g = session.scalars(select(Grant)).one()
        row = {c.name: getattr(g, c.name) for c in Grant.__table__.columns if c.name != "id"}
    row["code"] = "MS99999999"
    row["id"] = g.id + 1000  # a fresh id and code: only the (policy, subject, period) rule can refuse it
    with pytest.raises(IntegrityError, match="policy_code"), rt.db.write() as session:
        session.execute(insert(Grant), [row])


def test_the_grant_records_row_and_facts_and_its_case_file_verifies(rt: Any, city: City) -> None:
    city.resident(birthday(91))
    _match(rt)
    with rt.db.read() as session:
        g = session.scalars(select(Grant)).one()
        ev = session.scalars(select(GrantEvent).where(GrantEvent.grant_id == g.id)).one()
        assert events.verify(session) == (1, [])
    assert (g.policy_code, g.rule_row, g.amount_fen, g.status) == ("elderly_allowance", 2, 20000, "pushed")
    assert json.loads(g.facts) == {"age": 91, "hukou_status": "active"}
    assert ev.action == "push" and json.loads(ev.payload)["row"] == 2


def _resident_row(rt: Any, idn: str, **changes: Any) -> dict[str, Any]:
    with rt.db.read() as session:
        r = session.scalar(select(Resident).where(Resident.id_index == index_of(session, idn)))
    assert r is not None
    cols = ("id_number", "name", "sex", "birth_date", "district", "hukou_status", "phone", "bank_account")
    return {**{c: getattr(r, c) for c in cols}, "guardian_id_number": r.guardian_id_number, **changes}


def test_a_data_correction_flags_and_never_changes_the_grant(rt: Any, city: City) -> None:
    idn = city.resident(birthday(80))
    _match(rt)
    # The register learns late that the person had died before the month began.
    city.store("residents", [_resident_row(rt, idn, hukou_status="deceased")])
    reports = _match(rt)
    assert reports["elderly_allowance"].mode == "incremental" and reports["elderly_allowance"].evaluated == 1
    assert reports["elderly_allowance"].flagged == 1 and reports["elderly_allowance"].granted == 0
    with rt.db.read() as session:
        g = session.scalars(select(Grant)).one()
        evs = session.scalars(
            select(GrantEvent).where(GrantEvent.grant_id == g.id).order_by(GrantEvent.seq)
        ).all()
        assert events.verify(session) == (1, [])
    assert (g.amount_fen, g.rule_row, g.status) == (10000, 1, "pushed")  # unchanged
    assert g.review_reason and "hukou_status=deceased" in g.review_reason
    assert [e.action for e in evs] == ["push", "flag"]
    assert json.loads(evs[1].payload)["now"]["row"] is None
    # Matching again flags nothing more and pays nothing: the correction was already reviewed for.
    again = _match(rt)
    assert again["elderly_allowance"].flagged == 0 and _count(rt, Grant) == 1


def test_a_correction_that_changes_nothing_does_not_flag(rt: Any, city: City) -> None:
    idn = city.resident(birthday(85), phone="19900005555")
    _match(rt)
    city.store("residents", [_resident_row(rt, idn, district="雁峰区", phone="19900006666")])
    reports = _match(rt)
    assert reports["elderly_allowance"].flagged == 0
    with rt.db.read() as session:
        assert session.scalar(select(Grant.review_reason)) is None


def test_incremental_reads_only_changed_subjects(rt: Any, city: City) -> None:
    for _ in range(3):
        city.resident(birthday(85))
    _match(rt)
    city.resident(birthday(95))
    reports = _match(rt)
    assert reports["elderly_allowance"].evaluated == 1 and reports["elderly_allowance"].granted == 1
    with rt.db.read() as session:
        runs = session.scalars(select(MatchRun).where(MatchRun.policy_code == "elderly_allowance")).all()
    assert [r.mode for r in runs] == ["full", "incremental"] and runs[1].seq_from == runs[0].seq_to


def test_a_new_period_grants_again(rt: Any, city: City) -> None:
    city.resident(birthday(85))
    _match(rt)
    december = _match(rt, today=date(2026, 12, 1))
    assert december["elderly_allowance"].mode == "full" and december["elderly_allowance"].granted == 1
    with rt.db.read() as session:
        assert sorted(session.scalars(select(Grant.period))) == ["2026-11", "2026-12"]


def test_a_subject_match_looks_at_that_subject_only(rt: Any, city: City) -> None:
    city.resident(birthday(85))
    two = city.resident(birthday(86))
    with rt.db.read() as session:
        sid = session.scalar(select(Resident.id).where(Resident.id_index == index_of(session, two)))
    assert sid is not None
    with rt.db.write() as session:
        reports = matching.match(session, today=TODAY, subjects={"resident": [sid]})
    elderly = next(r for r in reports if r.policy == "elderly_allowance")
    assert (elderly.mode, elderly.evaluated, elderly.granted) == ("subject", 1, 1)
    assert {r.policy for r in reports} == {
        "childcare_subsidy",
        "elderly_allowance",
        "newborn_medical_enrolment",
    }
