"""Issue 10, personal data: the benefit registers (residents, births, insurance) hold ID numbers as
ciphertext, are keyed and joined by blind indexes, and migration 0029 encrypts the rows already there."""

from __future__ import annotations

from datetime import date
from typing import Any

from alembic import command
from sqlalchemy import select, text

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.benefits import demo, service, sources
from haoban.benefits.facts import RESIDENT, subject_query
from haoban.benefits.models import Birth, Insurance, Resident
from haoban.benefits.sources import index_of
from haoban.db import alembic_config
from haoban.security.crypto import DataCipher
from tests.security.test_encryption import _text_anywhere

MOTHER = demo.id_number(date(1990, 3, 1), False, 1)
FATHER = demo.id_number(date(1988, 5, 5), True, 2)
CHILD = demo.id_number(date(2026, 10, 20), False, 3)
PHONE = "19900001111"
# (table, column) → the plaintext it must never hold in clear
COLUMNS = (
    ("benefit_residents", "id_number"),
    ("benefit_residents", "guardian_id_number"),
    ("benefit_births", "child_id_number"),
    ("benefit_births", "mother_id_number"),
    ("benefit_births", "father_id_number"),
    ("benefit_insurance", "id_number"),
)
INDEXES = (
    ("benefit_residents", "id_index"),
    ("benefit_residents", "guardian_index"),
    ("benefit_births", "child_index"),
    ("benefit_insurance", "id_index"),
)


def _import(rt: Any, source: str, csv: str) -> sources.ImportReport:
    with rt.db.write() as session:
        return sources.import_csv(
            session, source_name=source, data=csv.encode(), filename="t.csv", actor=SYSTEM_ACTOR
        )


RESIDENTS_CSV = f"id_number,name,sex,birth_date,phone\n{MOTHER},母亲,F,1990-03-01,{PHONE}\n"
BIRTHS_CSV = (
    "child_id_number,child_name,sex,birth_date,mother_id_number,father_id_number\n"
    f"{CHILD},宝宝,F,2026-10-20,{MOTHER},{FATHER}\n"
)
INSURANCE_CSV = f"id_number,medical_scheme\n{MOTHER},resident\n"


def _city(rt: Any) -> None:
    _import(rt, "residents", RESIDENTS_CSV)
    _import(rt, "births", BIRTHS_CSV)
    _import(rt, "insurance", INSURANCE_CSV)


def _raw(rt: Any, table: str, column: str) -> list[str]:
    with rt.db.engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY id")
            )
        ]


def _reads_back(rt: Any) -> None:
    """The services find people by their blind index and join guardian and insurance through it."""
    with rt.db.read() as session:
        child = session.scalar(select(Resident).where(Resident.id_index == index_of(session, CHILD)))
        assert child is not None and child.guardian_id_number == MOTHER
        # The portal's contact for a minor is the guardian's phone (joined by guardian_index).
        assert service._subject(session, RESIDENT, child.id).phone == PHONE
        birth = session.scalar(select(Birth).where(Birth.child_index == index_of(session, CHILD)))
        assert birth is not None and (birth.mother_id_number, birth.father_id_number) == (MOTHER, FATHER)
        assert session.scalar(select(Insurance.id_number)) == MOTHER
        # The matching query's joins: insurance by the resident's index, contact by the guardian's.
        q = subject_query(RESIDENT, ref=date(2026, 11, 30), dialect=session.get_bind().dialect.name)
        rows = session.execute(
            select(q.id_col, q.facts["medical_scheme"], q.contact).select_from(
                q.select_from(["medical_scheme"])
            )
        ).all()
        by_id = {r[0]: (r[1], r[2]) for r in rows}
        mother = session.scalar(select(Resident.id).where(Resident.id_index == index_of(session, MOTHER)))
        assert by_id[mother] == ("resident", PHONE) and by_id[child.id] == ("none", PHONE)


def test_the_registers_hold_ciphertext_and_are_joined_by_blind_indexes(rt: Any) -> None:
    _city(rt)
    cipher = DataCipher(rt.settings.data_key)
    for table, column in COLUMNS:
        stored = _raw(rt, table, column)
        assert stored and all(v.startswith("enc1:") for v in stored), (table, column, stored)
    for table, column in INDEXES:
        assert set(_raw(rt, table, column)) <= {cipher.blind_index(v) for v in (MOTHER, CHILD)}
    for plain in (MOTHER, FATHER, CHILD):  # in no column of any table, read raw
        assert _text_anywhere(rt, plain) == [], plain
    _reads_back(rt)
    # Importing the same files again is found row by row through the index: nothing changes.
    assert _import(rt, "residents", RESIDENTS_CSV).unchanged == 1
    assert _import(rt, "births", BIRTHS_CSV).unchanged == 1
    assert _import(rt, "insurance", INSURANCE_CSV).unchanged == 1


def test_the_migration_encrypts_existing_register_rows_and_the_downgrade_decrypts_them(rt: Any) -> None:
    _city(rt)
    config = alembic_config(rt.db.engine)
    command.downgrade(config, "0028_federation")
    assert _raw(rt, "benefit_residents", "id_number") == [MOTHER, CHILD]
    assert _raw(rt, "benefit_residents", "guardian_id_number") == [MOTHER]
    assert _raw(rt, "benefit_births", "father_id_number") == [FATHER]
    assert _raw(rt, "benefit_insurance", "id_number") == [MOTHER]
    command.upgrade(config, "head")
    for plain in (MOTHER, FATHER, CHILD):
        assert _text_anywhere(rt, plain) == [], plain
    cipher = DataCipher(rt.settings.data_key)
    assert _raw(rt, "benefit_residents", "id_index") == [
        cipher.blind_index(MOTHER),
        cipher.blind_index(CHILD),
    ]
    assert _raw(rt, "benefit_residents", "guardian_index") == [cipher.blind_index(MOTHER)]
    assert _raw(rt, "benefit_births", "child_index") == [cipher.blind_index(CHILD)]
    assert _raw(rt, "benefit_insurance", "id_index") == [cipher.blind_index(MOTHER)]
    _reads_back(rt)
    assert _import(rt, "residents", RESIDENTS_CSV).unchanged == 1
