"""The four shipped policies at their boundaries, matched in the database and checked against
SpiffWorkflow's DMN engine; invalid tables refused at upload with the row and the reason."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from haoban.auth.actors import SYSTEM_ACTOR, Actor
from haoban.auth.roles import Role
from haoban.benefits import matching, policy, store
from haoban.benefits.facts import subject_query
from haoban.benefits.models import Grant, Resident
from haoban.benefits.sources import index_of
from haoban.errors import Forbidden
from haoban.notifications.models import OutboxMessage
from tests.benefits.conftest import TODAY, City, birthday

ADMIN = Actor(id=1, username="admin", name="管理员", role=Role.ADMIN)
REF = date(2026, 11, 1)


def _grants(rt: Any, code: str) -> dict[int, Grant]:
    with rt.db.read() as session:
        return {g.subject_id: g for g in session.scalars(select(Grant).where(Grant.policy_code == code))}


def _ids(rt: Any, model: Any, key: str, values: list[str]) -> list[int]:
    with rt.db.read() as session:
        if key == "id_number":  # encrypted: found by its blind index
            key, values = "id_index", [index_of(session, v) for v in values]
        rows = dict(
            session.execute(
                select(getattr(model, key), model.id).where(getattr(model, key).in_(values))
            ).all()
        )
    return [rows[v] for v in values]


def _cross_check(rt: Any, code: str, ref: date) -> None:
    """Every subject: the SQL row equals SpiffWorkflow's row and the Python reading of the table."""
    with rt.db.read() as session:
        (loaded,) = store.in_force(session, [code])
        table = loaded.table
        q = subject_query(table.subject_kind, ref=ref, dialect=rt.db.engine.dialect.name)
        used = table.used_facts()
        rows = session.execute(
            select(
                q.id_col.label("sid"),
                table.row_case(q.facts).label("row"),
                *[q.facts[n].label(n) for n in used],
            ).select_from(q.select_from(used))
        ).all()
    spiff = policy.SpiffEvaluator(table)
    assert any(r.row is not None for r in rows) and any(r.row is None for r in rows)
    for r in rows:
        facts = {n: matching._plain(getattr(r, n)) for n in used}
        by_spiff = spiff.rows(facts)
        assert (by_spiff[0] if by_spiff else None) == r.row, facts
        decided = table.decide(facts)
        assert (decided.row if decided else None) == r.row, facts


def _match(rt: Any, today: date = TODAY) -> list[matching.RunReport]:
    with rt.db.write() as session:
        return matching.match(session, today=today)


def test_elderly_allowance_age_bands(rt: Any, city: City) -> None:
    ages = {
        "79": birthday(80, day_offset=1),  # turns 80 the day after the reference date
        "80": birthday(80),
        "89": birthday(90, day_offset=1),
        "90": birthday(90),
        "99": birthday(100, day_offset=1),
        "100": birthday(100),
        "85 deceased": birthday(85),
        "85 moved out": birthday(85),
    }
    idns = {
        k: city.resident(
            born,
            hukou_status="deceased" if "deceased" in k else "moved_out" if "moved" in k else "active",
        )
        for k, born in ages.items()
    }
    _match(rt)
    ids = dict(zip(idns, _ids(rt, Resident, "id_number", list(idns.values())), strict=True))
    grants = _grants(rt, "elderly_allowance")
    got = {k: (grants[i].rule_row, grants[i].amount_fen) for k, i in ids.items() if i in grants}
    assert got == {"80": (1, 10000), "89": (1, 10000), "90": (2, 20000), "99": (2, 20000), "100": (3, 50000)}
    g = grants[ids["80"]]
    assert g.period == "2026-11" and g.ref_date == REF and '"age": 80' in g.facts
    _cross_check(rt, "elderly_allowance", REF)


def test_childcare_subsidy_35_and_36_months(rt: Any, city: City) -> None:
    parent = city.resident(date(1995, 3, 3), phone="19900009999")
    kids = {
        "35 months": birthday(3, -1),  # 35 months on the first of the month
        "36 months": birthday(3),
        "born on the 1st": REF,
        "born on the 2nd": REF + timedelta(days=1),  # counted from next month
    }
    idns = {k: city.resident(b, guardian_id_number=parent, phone=None) for k, b in kids.items()}
    _match(rt)
    ids = dict(zip(idns, _ids(rt, Resident, "id_number", list(idns.values())), strict=True))
    grants = _grants(rt, "childcare_subsidy")
    assert {k for k, i in ids.items() if i in grants} == {"35 months", "born on the 1st"}
    assert {grants[ids["35 months"]].amount_fen} == {30000}  # 3,600 yuan a year, by the month
    with rt.db.read() as session:
        to_parent = session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.recipient == "19900009999")
        ).all()
    assert any("育儿补贴" in b and grants[ids["35 months"]].code in b for b in to_parent)
    # The next month the 35-month-old has turned 36: nothing more; the one born on the 2nd now counts.
    _match(rt, date(2026, 12, 15))
    december = {g.subject_id for g in _grants(rt, "childcare_subsidy").values() if g.period == "2026-12"}
    assert december == {ids["born on the 1st"], ids["born on the 2nd"]}
    _cross_check(rt, "childcare_subsidy", REF)


def test_job_retention_refund_layoff_threshold(rt: Any, city: City) -> None:
    codes = {
        "large at 5.5%": city.company(size="large", insured=200, layoffs=11),
        "large at 5.51%": city.company(size="large", insured=10000, layoffs=551),
        "medium at 5.5%": city.company(size="medium", insured=200, layoffs=11),
        "medium at 6%": city.company(size="medium", insured=200, layoffs=12),
        "micro 10 at 20%": city.company(size="micro", insured=10, layoffs=2),
        "micro 10 at 30%": city.company(size="micro", insured=10, layoffs=3),
        "small 30 at 20%": city.company(size="small", insured=30, layoffs=6),
        "small 31 at 6.45%": city.company(size="small", insured=31, layoffs=2),
        "in arrears": city.company(size="small", insured=50, arrears=True),
        "deregistered": city.company(status="deregistered"),
        "no data last year": city.company(year=TODAY.year - 2),
    }
    _match(rt)
    from haoban.benefits.models import Company

    ids = dict(zip(codes, _ids(rt, Company, "credit_code", list(codes.values())), strict=True))
    grants = _grants(rt, "job_retention_refund")
    got = {k: (grants[i].rule_row, grants[i].amount_fen) for k, i in ids.items() if i in grants}
    assert got == {
        "large at 5.5%": (1, 900_000),  # 30% of 30,000 yuan
        "medium at 5.5%": (2, 1_800_000),  # 60%
        "micro 10 at 20%": (3, 1_800_000),
        "small 30 at 20%": (3, 1_800_000),
    }
    assert {g.period for g in grants.values()} == {"2026"}
    _cross_check(rt, "job_retention_refund", date(2026, 1, 1))


def test_newborn_enrolment_within_90_days(rt: Any, city: City) -> None:
    mother = city.resident(date(1994, 5, 6))
    day90 = city.resident(TODAY - timedelta(days=90), guardian_id_number=mother)
    day91 = city.resident(TODAY - timedelta(days=91), guardian_id_number=mother)
    _match(rt)
    i90, i91 = _ids(rt, Resident, "id_number", [day90, day91])
    grants = _grants(rt, "newborn_medical_enrolment")
    assert i90 in grants and i91 not in grants
    assert grants[i90].amount_fen == 0 and grants[i90].period == "once"
    _cross_check(rt, "newborn_medical_enrolment", TODAY)


# --- refused tables ------------------------------------------------------------------------------------

ELDERLY = (store.SHIPPED / "elderly_allowance.dmn").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "row", "reason"),
    [
        (("[90..100)", "[85..100)"), 2, "overlaps row 1"),
        (("&gt;= 100", "&gt;= abc"), 3, "'abc' is not a value here"),
        (("[80..90)", "[80..90"), 1, "ends too early"),
        (("[80..90)", '"eighty"'), 1, "age is a number"),
        (("<text>20000</text>", "<text>-5</text>"), 2, "not a whole, non-negative number of fen"),
        (("<text>50000</text>", "<text>500.5</text>"), 3, "not a whole, non-negative number of fen"),
        (('r2_o1"><text>"month"', 'r2_o1"><text>"week"'), 2, "'week' is not one of"),
    ],
)
def test_an_invalid_table_is_refused_with_row_and_reason(
    change: tuple[str, str], row: int, reason: str
) -> None:
    old, new = change
    assert old in ELDERLY
    with pytest.raises(policy.PolicyInvalid) as caught:
        policy.load(ELDERLY.replace(old, new, 1))
    problems = caught.value.problems
    assert any(p.row == row and reason in p.reason for p in problems), problems
    assert f"row {row}" in caught.value.message


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("<text>age</text>", "<text>income</text>"), "unknown fact 'income'"),
        (("<text>hukou_status</text>", "<text>layoff_rate</text>"), "mix facts of people and of companies"),
        (('hitPolicy="UNIQUE"', 'hitPolicy="COLLECT"'), "COLLECT is not supported"),
        (('name="amount_fen"', 'name="amount"'), "unknown output"),
        (("decisionTable", "decisionTabel"), "exactly one decision with one decision table"),
        (("<decision ", "<verdict ", "</decision>", "</verdict>"), "not a DMN decision table"),
        (("</definitions>", ""), "not well-formed XML"),
    ],
)
def test_table_level_problems_are_refused(change: tuple[str, ...], reason: str) -> None:
    xml = ELDERLY
    for old, new in zip(change[::2], change[1::2], strict=True):
        xml = xml.replace(old, new)
    with pytest.raises(policy.PolicyInvalid, match=reason):
        policy.load(xml)


def test_upload_stores_a_new_version_and_needs_an_admin(rt: Any, city: City) -> None:
    changed = ELDERLY.replace("<text>10000</text>", "<text>12000</text>")
    with rt.db.write() as session, pytest.raises(Forbidden):
        store.upload(session, xml=changed, actor=Actor(id=2, username="op", name="op", role=Role.OPERATOR))
    with rt.db.write() as session:
        row, created = store.upload(session, xml=changed, actor=ADMIN)
        assert created and row.version == 2
        again, created_again = store.upload(session, xml=changed, actor=ADMIN)
        assert not created_again and again.id == row.id
    with rt.db.write() as session, pytest.raises(policy.PolicyInvalid):
        store.upload(session, xml=changed.replace("[90..100)", "[85..100)"), actor=ADMIN)
    with rt.db.read() as session:
        (loaded,) = store.in_force(session, ["elderly_allowance"])
    assert loaded.row.version == 2 and loaded.table.rules[0].outputs["amount_fen"] == 12000


def test_tables_in_force_are_parsed_once_per_version(rt: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Matching asks for the tables in force at every birth: each stored version is parsed once, and a
    new version is parsed when it comes."""
    store._parsed.cache_clear()  # the cache is the process's: other tests in this worker filled it
    parsed: list[str] = []
    load = policy.load

    def counting(xml: str | bytes) -> policy.PolicyTable:
        table = load(xml)
        parsed.append(table.code)
        return table

    with rt.db.write() as session:
        store.install_shipped(session, actor=SYSTEM_ACTOR)
    changed = ELDERLY.replace("<text>10000</text>", "<text>11000</text>")
    monkeypatch.setattr(policy, "load", counting)
    with rt.db.read() as session:
        first = store.in_force(session)
        for _ in range(3):
            assert [x.table for x in store.in_force(session)] == [x.table for x in first]
    assert sorted(parsed) == sorted(x.table.code for x in first)  # each once
    with rt.db.write() as session:
        store.upload(session, xml=changed, actor=ADMIN)  # parsed here once, to check it
    parsed.clear()
    with rt.db.read() as session:
        (loaded,) = store.in_force(session, ["elderly_allowance"])
        store.in_force(session, ["elderly_allowance"])
    assert loaded.row.version == 2 and loaded.table.rules[0].outputs["amount_fen"] == 11000
    assert parsed == ["elderly_allowance"]


def test_shipped_files_open_as_dmn_13() -> None:
    for path in store.shipped_files():
        text = Path(path).read_text(encoding="utf-8")
        assert 'xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"' in text
        assert policy.load(text).code == path.stem


def test_system_actor_installs_the_shipped_policies(rt: Any) -> None:
    with rt.db.write() as session:
        assert store.install_shipped(session, actor=SYSTEM_ACTOR) == [p.stem for p in store.shipped_files()]
        assert store.install_shipped(session, actor=SYSTEM_ACTOR) == []


def test_sql_agrees_with_spiffworkflow_on_a_synthetic_city(rt: Any) -> None:
    """Every subject of a small synthetic city, every shipped policy: the compiled SQL picks the row
    SpiffWorkflow's DMN engine picks (ages and firms spread over every band and threshold)."""
    from haoban.benefits import demo

    with rt.db.write() as session:
        store.install_shipped(session, actor=SYSTEM_ACTOR)
        demo.generate(session, residents_n=3_000, companies_n=600, today=TODAY, actor=SYSTEM_ACTOR)
    for code, ref in (
        ("childcare_subsidy", REF),
        ("elderly_allowance", REF),
        ("job_retention_refund", date(2026, 1, 1)),
        ("newborn_medical_enrolment", TODAY),
    ):
        _cross_check(rt, code, ref)
