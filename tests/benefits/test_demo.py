"""The synthetic city: realistic shape, invented identities, a demo seeding that can run twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from haoban.benefits import demo
from haoban.benefits.identity import normalise_credit_code
from haoban.benefits.models import Grant
from haoban.demo.seed import SEEDER
from haoban.orders.citizen import normalise_id_number
from tests.benefits.conftest import TODAY


def test_the_shape_is_realistic_and_the_ids_valid_but_invented() -> None:
    people = [r for r, _ins in demo.residents(20_000, today=TODAY)]
    ages = [(TODAY - r["birth_date"]).days // 365 for r in people]
    under3 = sum(a < 3 for a in ages) / len(ages)
    over80 = sum(a >= 80 for a in ages) / len(ages)
    assert 0.015 < under3 < 0.05 and 0.015 < over80 < 0.04
    assert len({r["id_number"] for r in people}) == len(people)
    assert all(
        normalise_id_number(r["id_number"]) and r["id_number"][:6] == demo.REGION for r in people[:500]
    )
    firms = list(demo.companies(2_000, year=2025))
    sizes = Counter(c["size"] for c, _t, _e in firms)
    assert sizes["micro"] > sizes["small"] > sizes["medium"] >= sizes["large"]
    assert all(normalise_credit_code(c["credit_code"]) for c, _t, _e in firms[:200])
    assert all("虚构" in c["name"] for c, _t, _e in firms)


def test_demo_seeding_runs_twice(rt: Any) -> None:
    with rt.db.write() as session:
        first = demo.seed_demo_city(session, actor=SEEDER, today=TODAY, residents_n=3_000, companies_n=300)
    with rt.db.read() as session:
        grants = session.scalar(select(func.count()).select_from(Grant))
    with rt.db.write() as session:
        again = demo.seed_demo_city(session, actor=SEEDER, today=TODAY, residents_n=3_000, companies_n=300)
    with rt.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Grant)) == grants
    assert grants and first == again and set(first) <= {"childcare_subsidy", "elderly_allowance"}
