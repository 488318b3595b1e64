"""Builders for the benefits tests: residents and companies stored through the data-source import."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.benefits import demo, sources, store
from haoban.runtime import Runtime

TODAY = date(2026, 11, 30)
_serial = itertools.count(1)


def birthday(years: int = 0, months: int = 0, *, ref: date = date(2026, 11, 1), day_offset: int = 0) -> date:
    """The birth date that makes someone exactly ``years`` + ``months`` old on ``ref`` (+ days later)."""
    total = ref.year * 12 + ref.month - 1 - years * 12 - months
    born = date(total // 12, total % 12 + 1, ref.day)
    return date.fromordinal(born.toordinal() + day_offset)


class City:
    """Adds people and companies to the test database through the import path (``sources.store_rows``)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def resident(self, born: date, **fields: Any) -> str:
        n = next(_serial)
        idn = demo.id_number(born, fields.pop("male", True), n % 500)
        row = {
            "id_number": idn,
            "name": f"测试{n}",
            "sex": "M",
            "birth_date": born,
            "district": "珠晖区",
            "hukou_status": "active",
            "phone": f"1990000{n:04d}",
            "bank_account": f"6200000000000{n:04d}",
            "guardian_id_number": None,
        }
        row.update(fields)
        self.store("residents", [row])
        return idn

    def company(
        self,
        *,
        size: str = "small",
        insured: int = 50,
        layoffs: int = 0,
        contributions_fen: int = 3_000_000,
        arrears: bool = False,
        year: int = TODAY.year - 1,
        **fields: Any,
    ) -> str:
        n = next(_serial)
        code = demo.credit_code(100_000 + n)
        row = {
            "credit_code": code,
            "name": f"测试企业{n}",
            "size": size,
            "district": "珠晖区",
            "status": "active",
            "contact_name": "联系人",
            "contact_phone": f"1990001{n:04d}",
            "bank_account": f"6200010000000{n:04d}",
        }
        row.update(fields)
        self.store("companies", [row])
        self.store(
            "tax",
            [
                {
                    "credit_code": code,
                    "year": year,
                    "ui_contributions_fen": contributions_fen,
                    "in_arrears": arrears,
                }
            ],
        )
        self.store(
            "employment", [{"credit_code": code, "year": year, "insured_start": insured, "layoffs": layoffs}]
        )
        return code

    def store(self, source: str, rows: list[dict[str, Any]]) -> sources.ImportReport:
        with self.rt.db.write() as session:
            return sources.store_rows(
                session, source=sources.SOURCES[source], rows=rows, filename="test", actor=SYSTEM_ACTOR
            )


@pytest.fixture
def city(rt: Runtime) -> City:
    with rt.db.write() as session:
        store.install_shipped(session, actor=SYSTEM_ACTOR)
    return City(rt)
