"""The facts a policy's DMN table may test, per kind of subject, as SQL over the data sources.

A DMN input's expression names one fact (``age``, ``layoff_rate`` …). Each fact is computed in the
database at the policy period's reference date, so a million residents are matched by one query per
policy instead of a million Python evaluations. Dates are turned into whole years, months or days with
integer arithmetic both SQLite and PostgreSQL run the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Integer, case, cast, false, func, literal, literal_column
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from haoban.benefits.feel import BOOLEAN, NUMBER, STRING
from haoban.benefits.models import Company, EmploymentRecord, Insurance, Resident, TaxRecord

RESIDENT, COMPANY = "resident", "company"
SUBJECT_KINDS = (RESIDENT, COMPANY)


@dataclass(frozen=True)
class Fact:
    name: str
    kind: str  # number / string / boolean
    zh: str
    en: str
    needs: tuple[str, ...] = ()  # joins the fact needs


FACTS: dict[str, dict[str, Fact]] = {
    RESIDENT: {
        f.name: f
        for f in (
            Fact("age", NUMBER, "周岁", "age in whole years"),
            Fact("age_months", NUMBER, "月龄", "age in whole months"),
            Fact("days_since_birth", NUMBER, "出生天数", "days since birth"),
            Fact("sex", STRING, "性别 (M/F)", "sex (M/F)"),
            Fact("district", STRING, "户籍区县", "district of registration"),
            Fact("hukou_status", STRING, "户籍状态 (active/moved_out/deceased)", "registration status"),
            Fact(
                "medical_scheme", STRING, "医保险种 (employee/resident/none)", "medical insurance", ("ins",)
            ),
        )
    },
    COMPANY: {
        f.name: f
        for f in (
            Fact("size", STRING, "企业规模 (large/medium/small/micro)", "company size"),
            Fact("status", STRING, "登记状态 (active/deregistered)", "registration status"),
            Fact("district", STRING, "所在区县", "district"),
            Fact(
                "insured_count",
                NUMBER,
                "上年初参保人数",
                "insured employees at the start of last year",
                ("emp",),
            ),
            Fact("layoffs", NUMBER, "上年裁员人数", "layoffs last year", ("emp",)),
            Fact("layoff_rate", NUMBER, "上年裁员率 (%)", "layoff rate last year (%)", ("emp",)),
            Fact(
                "ui_contributions_fen",
                NUMBER,
                "上年失业保险缴费 (分)",
                "unemployment-insurance paid last year (fen)",
                ("tax",),
            ),
            Fact("in_arrears", BOOLEAN, "欠缴社保费", "in arrears", ("tax",)),
        )
    },
}


def fact_kind_of(names: list[str]) -> str | None:
    """The one subject kind whose facts include every name (None: no such kind)."""
    for kind in SUBJECT_KINDS:
        if all(n in FACTS[kind] for n in names):
            return kind
    return None


def _ymd(col: Any, dialect: str) -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[int]]:
    if dialect == "sqlite":  # dates are stored as YYYY-MM-DD text
        return (
            cast(func.substr(col, 1, 4), Integer),
            cast(func.substr(col, 6, 2), Integer),
            cast(func.substr(col, 9, 2), Integer),
        )
    return (
        cast(func.extract("year", col), Integer),
        cast(func.extract("month", col), Integer),
        cast(func.extract("day", col), Integer),
    )


@dataclass
class SubjectQuery:
    """The pieces of one subject kind's matching query at a reference date."""

    kind: str
    ref: date
    dialect: str
    table: Any
    id_col: ColumnElement[int]
    seq_col: ColumnElement[int]
    from_: FromClause = field(init=False)
    facts: dict[str, ColumnElement[Any]] = field(default_factory=dict)
    contact: ColumnElement[Any] | None = None
    account: ColumnElement[Any] | None = None
    _joins: dict[str, Callable[[FromClause], FromClause]] = field(default_factory=dict)

    def select_from(self, used: list[str]) -> FromClause:
        """The subject table with only the joins the used facts need."""
        needed = {j for name in used for j in FACTS[self.kind][name].needs} | {"contact"}
        out = self.from_
        for key in ("ins", "emp", "tax", "contact"):
            if key in needed and key in self._joins:
                out = self._joins[key](out)
        return out


def subject_query(kind: str, *, ref: date, dialect: str) -> SubjectQuery:
    if kind == RESIDENT:
        return _residents(ref, dialect)
    if kind == COMPANY:
        return _companies(ref, dialect)
    raise ValueError(f"unknown subject kind {kind!r}")


def _residents(ref: date, dialect: str) -> SubjectQuery:
    r = Resident.__table__
    ins = Insurance.__table__
    guardian = Resident.__table__.alias("guardian")
    y, m, d = _ymd(r.c.birth_date, dialect)
    age = literal(ref.year) - y - case((m * 100 + d > ref.month * 100 + ref.day, 1), else_=0)
    age_months = literal(ref.year * 12 + ref.month) - (y * 12 + m) - case((d > ref.day, 1), else_=0)
    if dialect == "sqlite":
        days = cast(func.julianday(literal(ref.isoformat())) - func.julianday(r.c.birth_date), Integer)
    else:
        days = literal(ref) - r.c.birth_date
    q = SubjectQuery(RESIDENT, ref, dialect, r, r.c.id, r.c.seq)
    q.from_ = r
    q.facts = {
        "age": age,
        "age_months": age_months,
        "days_since_birth": days,
        "sex": r.c.sex,
        "district": r.c.district,
        "hukou_status": r.c.hukou_status,
        "medical_scheme": func.coalesce(ins.c.medical_scheme, "none"),
    }
    q.contact = case((r.c.guardian_index.is_not(None), guardian.c.phone), else_=r.c.phone)
    q.account = case((r.c.guardian_index.is_not(None), guardian.c.bank_account), else_=r.c.bank_account)
    q._joins = {
        "ins": lambda f: f.outerjoin(ins, ins.c.id_index == r.c.id_index),  # ID numbers: blind indexes
        "contact": lambda f: f.outerjoin(guardian, guardian.c.id_index == r.c.guardian_index),
    }
    return q


def _companies(ref: date, dialect: str) -> SubjectQuery:
    c = Company.__table__
    last = ref.year - 1
    emp = EmploymentRecord.__table__
    tax = TaxRecord.__table__
    q = SubjectQuery(COMPANY, ref, dialect, c, c.c.id, c.c.seq)
    q.from_ = c
    insured = func.coalesce(emp.c.insured_start, 0)
    q.facts = {
        "size": c.c.size,
        "status": c.c.status,
        "district": c.c.district,
        "insured_count": insured,
        "layoffs": func.coalesce(emp.c.layoffs, 0),
        "layoff_rate": case(
            (insured > 0, emp.c.layoffs * literal_column("100.0") / emp.c.insured_start), else_=None
        ),
        "ui_contributions_fen": func.coalesce(tax.c.ui_contributions_fen, 0),
        "in_arrears": func.coalesce(tax.c.in_arrears, false()),
    }
    q.contact = c.c.contact_phone
    q.account = c.c.bank_account
    q._joins = {
        "emp": lambda f: f.outerjoin(emp, (emp.c.credit_code == c.c.credit_code) & (emp.c.year == last)),
        "tax": lambda f: f.outerjoin(tax, (tax.c.credit_code == c.c.credit_code) & (tax.c.year == last)),
    }
    return q
