"""Synthetic residents and companies for the demo and the benchmark: realistic in shape, clearly invented.

- Ages follow the shape of China's 2020 census (five-year groups, fewer births in recent years), so
  the share of children under three and of people over eighty is about what a city of that size has.
- Companies follow the usual size mix (mostly micro and small firms), insured headcounts by size,
  unemployment-insurance contributions of about 1% of a 5,000-yuan wage base, and a minority with
  layoffs above the threshold or in arrears.
- Everything is invented and marked so: ID numbers and credit codes use the region code 430499, which
  no county has (Hengyang's run 430405…430482), with valid check characters; names are drawn from a
  syllable list; phone numbers use the 199-0000 block; bank accounts start 6200 00.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.benefits.identity import CREDIT_CHARS, credit_check_char
from haoban.benefits.models import (
    BenefitImport,
    Birth,
    Company,
    EmploymentRecord,
    Insurance,
    Resident,
    TaxRecord,
)
from haoban.benefits.sources import with_blind_indexes
from haoban.db import utcnow
from haoban.orders.citizen import id_number_check_char

REGION = "430499"  # no such county: synthetic by construction
DISTRICTS = (
    "珠晖区",
    "雁峰区",
    "石鼓区",
    "蒸湘区",
    "南岳区",
    "衡阳县",
    "衡南县",
    "衡山县",
    "衡东县",
    "祁东县",
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "安柏辰丹帆歌涵瀚嘉景俊珂岚朗乐黎霖璐茂沐宁琪锐森书桐文昕轩雅毅语悦云泽梓"
# 2020 census, share of each five-year group (0–4 … 95–99, 100+), in per mille.
AGE_GROUPS = (56, 65, 62, 53, 53, 66, 88, 69, 66, 82, 86, 70, 52, 50, 34, 23, 15, 8, 3, 0.7, 0.03)
# Within 0–4, births fell year on year: weights for ages 0, 1, 2, 3, 4.
UNDER5 = (0.16, 0.18, 0.20, 0.22, 0.24)
SIZES = (("large", 0.005), ("medium", 0.03), ("small", 0.2), ("micro", 0.765))
HEADCOUNT = {"large": (300, 5000), "medium": (100, 300), "small": (11, 100), "micro": (1, 10)}


@dataclass
class Generated:
    residents: int
    companies: int
    import_id: int


def id_number(born: date, male: bool, nth: int) -> str:
    """The ``nth`` person (0…499) of this sex born on this day; odd order codes are men (GB 11643)."""
    order = nth * 2 + (1 if male else 0)
    first17 = f"{REGION}{born:%Y%m%d}{order:03d}"
    return first17 + id_number_check_char(first17)


def credit_code(serial: int) -> str:
    body = f"91{REGION}"  # 9 = registered by market regulation, 1 = enterprise
    rest = ""
    n = serial
    for _ in range(9):
        rest = CREDIT_CHARS[n % 31] + rest
        n //= 31
    first17 = body + rest
    return first17 + credit_check_char(first17)


def _age(rng: random.Random) -> int:
    group = rng.choices(range(len(AGE_GROUPS)), weights=AGE_GROUPS)[0]
    if group == 0:
        return rng.choices(range(5), weights=UNDER5)[0]
    if group == len(AGE_GROUPS) - 1:
        return 100 + rng.randrange(6)
    return group * 5 + rng.randrange(5)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def residents(
    n: int, *, today: date, seed: int = 14
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """``n`` residents as (resident row, insurance row or None); parents come before their children."""
    rng = random.Random(seed)
    adults: list[str] = []
    per_day: dict[tuple[date, bool], int] = {}
    ages = sorted((_age(rng) for _ in range(n)), reverse=True)  # the old first: parents exist for children
    for serial, age in enumerate(ages, start=1):
        born = today - timedelta(days=age * 365 + rng.randrange(365))
        male = rng.random() < 0.51
        nth = per_day.get((born, male), 0)
        per_day[(born, male)] = nth + 1
        idn = id_number(born, male, nth)
        minor = age < 18
        guardian = rng.choice(adults) if minor and adults else None
        status = rng.choices(("active", "moved_out", "deceased"), weights=(97, 2, 1))[0]
        row = {
            "id_number": idn,
            "name": _name(rng),
            "sex": "M" if male else "F",
            "birth_date": born,
            "district": rng.choice(DISTRICTS),
            "hukou_status": status,
            "phone": None if minor or rng.random() < 0.1 else f"1990000{serial % 10000:04d}",
            "bank_account": None if minor or rng.random() < 0.2 else f"620000{serial:013d}",
            "guardian_id_number": guardian,
        }
        if 22 <= age <= 45:
            adults.append(idn)
        scheme = rng.choices(("employee", "resident", "none"), weights=(40, 55, 5))[0]
        ins = (
            None
            if age < 1 and rng.random() < 0.5
            else {"id_number": idn, "medical_scheme": scheme, "enrolled_on": None}
        )
        yield row, ins


def companies(
    n: int, *, year: int, seed: int = 32
) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """``n`` companies as (company row, last year's tax row, last year's employment row)."""
    rng = random.Random(seed)
    names = ("科技", "建材", "物流", "餐饮", "商贸", "制造", "农业", "文化", "医药", "机械")
    for serial in range(1, n + 1):
        size = rng.choices([s for s, _ in SIZES], weights=[w for _, w in SIZES])[0]
        lo, hi = HEADCOUNT[size]
        insured = int(lo * (hi / lo) ** rng.random())
        roll = rng.random()
        # Most keep their staff; some shed a few; about one in seven sheds more than the threshold allows.
        rate = 0.0 if roll < 0.55 else rng.uniform(0, 5.5) if roll < 0.85 else rng.uniform(5.5, 40)
        layoffs = min(insured, round(insured * rate / 100))
        code = credit_code(serial)
        company = {
            "credit_code": code,
            "name": f"示例{rng.choice(DISTRICTS)[:2]}{rng.choice(names)}有限公司（虚构{serial}号）",
            "size": size,
            "district": rng.choice(DISTRICTS),
            "status": "deregistered" if rng.random() < 0.05 else "active",
            "contact_name": _name(rng),
            "contact_phone": f"1990001{serial % 10000:04d}",
            "bank_account": f"620001{serial:013d}",
        }
        contributions = insured * 5000 * 12  # fen: 1% of a 5,000-yuan monthly base is 50 yuan
        tax = {
            "credit_code": code,
            "year": year,
            "ui_contributions_fen": int(contributions * rng.uniform(0.8, 1.0)),
            "in_arrears": rng.random() < 0.03,
        }
        emp = {"credit_code": code, "year": year, "insured_start": insured, "layoffs": layoffs}
        yield company, tax, emp


def generate(
    session: Session, *, residents_n: int, companies_n: int, today: date, actor: Actor, chunk: int = 10_000
) -> Generated:
    """Insert a synthetic city into empty source tables (one import; the benchmark's and the demo's data)."""
    imp = BenefitImport(
        source="demo", filename="synthetic", rows=residents_n + companies_n, actor_name=actor.name
    )
    imp.at = utcnow()
    session.add(imp)
    session.flush()
    seq = imp.id
    res, ins, births = [], [], []
    for row, insurance in residents(residents_n, today=today):
        res.append({**row, "seq": seq})
        if insurance:
            ins.append({**insurance, "seq": seq})
        if (today - row["birth_date"]).days < 366 and row["guardian_id_number"]:
            births.append(
                {
                    "child_id_number": row["id_number"],
                    "birth_date": row["birth_date"],
                    "mother_id_number": row["guardian_id_number"],
                    "father_id_number": None,
                    "hospital": "示例妇幼保健院",
                    "origin": "demo",
                    "seq": seq,
                }
            )
        if len(res) >= chunk:
            _flush(session, res, ins, births)
    _flush(session, res, ins, births)
    comp, tax, emp = [], [], []
    for c, t, e in companies(companies_n, year=today.year - 1):
        comp.append({**c, "seq": seq})
        tax.append({**t, "seq": seq})
        emp.append({**e, "seq": seq})
        if len(comp) >= chunk:
            _flush_companies(session, comp, tax, emp)
    _flush_companies(session, comp, tax, emp)
    imp.inserted = residents_n + companies_n
    return Generated(residents_n, companies_n, seq)


def _flush(session: Session, res: list[Any], ins: list[Any], births: list[Any]) -> None:
    for model, rows in ((Resident, res), (Insurance, ins), (Birth, births)):
        if rows:
            session.execute(insert(model), with_blind_indexes(session, model, rows))
            rows.clear()


def _flush_companies(session: Session, comp: list[Any], tax: list[Any], emp: list[Any]) -> None:
    for model, rows in ((Company, comp), (TaxRecord, tax), (EmploymentRecord, emp)):
        if rows:
            session.execute(insert(model), rows)
            rows.clear()


def seed_demo_city(
    session: Session, *, actor: Actor, today: date, residents_n: int = 5_000, companies_n: int = 500
) -> dict[str, Any]:
    """The demo's 免申即享: install the shipped policies, a small synthetic city and a first match.

    Idempotent: a city already in the register is left as it is (the match then pushes nothing new).
    Returns a sample notice code and phone digits to try on ``/portal/benefits``.
    """
    from sqlalchemy import func, select

    from haoban.benefits import matching, store
    from haoban.benefits.models import Grant

    store.install_shipped(session, actor=actor)
    if not session.scalar(select(func.count()).select_from(Resident)):
        generate(session, residents_n=residents_n, companies_n=companies_n, today=today, actor=actor)
    matching.match(session, today=today, actor=actor)
    sample: dict[str, Any] = {}
    for policy in ("childcare_subsidy", "elderly_allowance"):
        grant = session.scalar(
            select(Grant)
            .where(Grant.policy_code == policy, Grant.status == "pushed")
            .order_by(Grant.id)
            .limit(1)
        )
        if grant is None:
            continue
        person = session.get(Resident, grant.subject_id)
        phone = person.phone if person else None
        if person is not None and person.guardian_index:
            guardian = session.scalar(select(Resident).where(Resident.id_index == person.guardian_index))
            phone = guardian.phone if guardian else None
        if phone:
            sample[policy] = {"code": grant.code, "phone_last4": phone[-4:]}
    return sample
