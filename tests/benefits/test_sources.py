"""CSV data sources: schema checks with line numbers, all-or-nothing, idempotent re-imports."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.benefits import demo, sources
from haoban.benefits.models import Birth, Company, Resident, TaxRecord
from haoban.benefits.sources import index_of
from haoban.errors import Invalid

A = demo.id_number(__import__("datetime").date(1950, 3, 1), True, 1)
B = demo.id_number(__import__("datetime").date(2026, 10, 20), False, 1)
C = demo.credit_code(777)


def _import(rt: Any, source: str, text: str) -> sources.ImportReport:
    with rt.db.write() as session:
        return sources.import_csv(
            session, source_name=source, data=text.encode("utf-8-sig"), filename="t.csv", actor=SYSTEM_ACTOR
        )


def test_residents_import_then_reimport_changes_nothing(rt: Any) -> None:
    csv = f"id_number,name,sex,birth_date,district,phone\n{A},示例甲,男,1950-03-01,珠晖区,19900001234\n"
    first = _import(rt, "residents", csv)
    assert (first.inserted, first.updated) == (1, 0)
    again = _import(rt, "residents", csv)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    corrected = _import(rt, "residents", csv.replace("珠晖区", "雁峰区"))
    assert corrected.updated == 1
    with rt.db.read() as session:
        r = session.scalar(select(Resident).where(Resident.id_index == index_of(session, A)))
    assert r is not None and r.district == "雁峰区" and r.seq == corrected.import_id and r.sex == "M"


def test_bad_rows_are_refused_by_line_and_nothing_is_stored(rt: Any) -> None:
    bad_id = A[:-1] + ("0" if A[-1] != "0" else "1")
    csv = (
        "id_number,name,sex,birth_date\n"
        f"{A},甲,M,1950-03-01\n"
        f"{bad_id},乙,M,1950-03-01\n"
        f"{A},丙,X,1950-03-01\n"
        f"{B},丁,F,2026-10-21\n"
    )
    with pytest.raises(Invalid) as caught:
        _import(rt, "residents", csv)
    problems = caught.value.detail["problems"]
    assert [(p["line"], p["column"]) for p in problems] == [(3, "id_number"), (4, "sex"), (5, "")]
    assert "checksum" in problems[0]["reason"] and "birth date inside the ID number" in problems[2]["reason"]
    assert caught.value.message.startswith("residents: line 3, id_number")
    with rt.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 0


def test_header_problems(rt: Any) -> None:
    with pytest.raises(Invalid, match="missing columns: birth_date; unknown columns: birthday"):
        _import(rt, "residents", f"id_number,name,sex,birthday\n{A},甲,M,1950-03-01\n")
    with pytest.raises(Invalid, match="unknown data source"):
        _import(rt, "pets", "x\n1\n")


def test_duplicate_keys_in_one_file(rt: Any) -> None:
    with pytest.raises(Invalid, match=r"line 3.*the same key as line 2"):
        _import(rt, "residents", f"id_number,name,sex,birth_date\n{A},甲,M,1950-03-01\n{A},甲,M,1950-03-01\n")


def test_a_birth_registers_the_child_and_stamps_them(rt: Any) -> None:
    _import(rt, "residents", f"id_number,name,sex,birth_date,phone\n{A},母亲,F,1950-03-01,19900001111\n")
    report = _import(
        rt,
        "births",
        f"child_id_number,child_name,sex,birth_date,mother_id_number\n{B},宝宝,F,2026-10-20,{A}\n",
    )
    with rt.db.read() as session:
        child = session.scalar(select(Resident).where(Resident.id_index == index_of(session, B)))
        birth = session.scalar(select(Birth).where(Birth.child_index == index_of(session, B)))
    assert child is not None and child.guardian_id_number == A and child.seq == report.import_id
    assert birth is not None and birth.origin == "csv"


def test_companies_tax_and_employment(rt: Any) -> None:
    _import(rt, "companies", f"credit_code,name,size,contact_phone\n{C},示例公司,small,19900012345\n")
    tax = _import(rt, "tax", f"credit_code,year,ui_contributions_yuan,in_arrears\n{C},2025,12345.67,否\n")
    with rt.db.read() as session:
        assert session.scalar(select(TaxRecord.ui_contributions_fen)) == 1234567
        # The company itself is stamped: the matching job sees it changed.
        assert session.scalar(select(Company.seq)) == tax.import_id
    bad_code = C[:-1] + ("0" if C[-1] != "0" else "1")
    with pytest.raises(Invalid, match="check character"):
        _import(rt, "companies", f"credit_code,name,size\n{bad_code},示例公司,small\n")
    with pytest.raises(Invalid, match="layoffs exceed insured_start"):
        _import(rt, "employment", f"credit_code,year,insured_start,layoffs\n{C},2025,5,6\n")
