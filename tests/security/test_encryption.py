"""Issue 10, personal data: ID numbers encrypted at rest (key from settings), found by a keyed blind
index where they are looked up, refused clearly under the wrong key, and encrypted by the migration."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import LargeBinary, String, Text, inspect, select, text

import haoban.models  # noqa: F401  (every table on Base.metadata)
from haoban.app import create_app
from haoban.applications import registry
from haoban.applications.models import Application
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.casework.models import Case
from haoban.config import Settings
from haoban.db import Base, Database, alembic_config
from haoban.orders.models import Order
from haoban.security.crypto import DataCipher, DataKeyError
from haoban.tourism.models import Ticket
from haoban.wiring import runtime as wired_runtime
from tests.applications.conftest import APPLICANT, NEWBORN, PDF, apply, newborn_files
from tests.casework.builders import ID_NUMBER as CASE_ID
from tests.casework.builders import make_case
from tests.conftest import Api
from tests.tourism.conftest import open_day, places_rt  # noqa: F401  (fixture)
from tests.tourism.ids import id_number

ORDER_ID = "430405198805052212"
TICKET_ID = id_number(77)
APP_ID = APPLICANT["id_number"]
COLUMNS = {
    (Order, "citizen_id_number", ORDER_ID),
    (Case, "complainant_id_number", CASE_ID),
    (Application, "applicant_id_number", APP_ID),
    (Ticket, "id_number", TICKET_ID),
}


@pytest.fixture
def installed(rt: Any) -> Any:
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    return rt


def _book(client: Any, place: str, slot_id: int, idn: str, expect: int = 201) -> dict[str, Any]:
    body = {"slot_id": slot_id, "phone": "13912345678", "visitors": [{"name": "张三", "id_number": idn}]}
    r = client.post(f"/api/v1/tourism/places/{place}/orders", json=body)
    assert r.status_code == expect, r.text
    return r.json()


def _slot(client: Any) -> tuple[str, int]:
    day = open_day(client, "nanyue-damiao")
    slots = client.get("/api/v1/tourism/places/nanyue-damiao/slots", params={"day": day}).json()["slots"]
    return "nanyue-damiao", slots[0]["id"]


def _one_of_each(rt: Any, api: Api) -> None:
    api.create(citizen_id_number=ORDER_ID)
    make_case(rt)
    assert apply(api).status_code == 201
    _book(api.client, *_slot(api.client), TICKET_ID)


def _raw(rt: Any, model: Any, column: str) -> list[str]:
    with rt.db.engine.connect() as conn:
        table = model.__tablename__
        return [r[0] for r in conn.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"))]


def _text_anywhere(rt: Any, needle: str) -> list[str]:
    """Every text column of every table that holds ``needle`` (read raw, no type processing)."""
    found = []
    with rt.db.engine.connect() as conn:
        schema = inspect(conn)
        present = set(schema.get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in present:
                continue
            kinds = String | Text | LargeBinary
            there = {c["name"] for c in schema.get_columns(table.name)}
            cols = [
                c.name
                for c in table.columns
                if c.name in there and isinstance(getattr(c.type, "impl", c.type), kinds)
            ]
            for col in cols:
                for (value,) in conn.execute(text(f'SELECT "{col}" FROM "{table.name}"')):
                    if value is None:
                        continue
                    raw = (
                        value.decode("utf-8", "replace")
                        if isinstance(value, bytes | memoryview)
                        else str(value)
                    )
                    if needle in raw:
                        found.append(f"{table.name}.{col}")
    return sorted(set(found))


@pytest.mark.usefixtures("places_rt")
def test_the_database_holds_ciphertext_and_the_services_read_clear(
    installed: Any,
    api: Api,
) -> None:
    rt = installed
    _one_of_each(rt, api)
    for model, column, plain in COLUMNS:
        stored = _raw(rt, model, column)
        assert stored, f"{model.__tablename__}.{column} is empty"
        assert all(v.startswith("enc1:") and plain not in v for v in stored), (column, stored)
        with rt.db.read() as s:  # read back through the model: the number in clear
            assert plain in s.scalars(select(getattr(model, column))).all()
    # No column of any table (event payloads, logs of views, outbox) holds the numbers in clear.
    form_ids = [NEWBORN["form"]["mother"]["id_number"], NEWBORN["form"]["father"]["id_number"]]
    for plain in (ORDER_ID, CASE_ID, TICKET_ID, APP_ID, *form_ids):
        assert _text_anywhere(rt, plain) == [], plain
    with rt.db.read() as s:  # the application's engine state (its form) is encrypted whole
        assert all(
            bytes(v).startswith(b"enc1:") for v in s.execute(text("SELECT state FROM applications")).scalars()
        )
    # Two writes of the same number differ (random nonce): equal ciphertexts would leak equality.
    api.create(citizen_id_number=ORDER_ID)
    assert len(set(_raw(rt, Order, "citizen_id_number"))) == 2


@pytest.mark.usefixtures("places_rt")
def test_lookups_by_id_number_use_the_blind_index(installed: Any, api: Api) -> None:
    rt = installed
    # One live ticket per person per slot: found by the blind index.
    place, slot_id = _slot(api.client)
    _book(api.client, place, slot_id, TICKET_ID)
    assert _book(api.client, place, slot_id, TICKET_ID, expect=409)["reason"] == "already_holds"
    _book(api.client, place, slot_id, id_number(78))
    with rt.db.read() as s:
        keys = s.scalars(select(Ticket.holder_key)).all()
    assert TICKET_ID not in keys and DataCipher(rt.settings.data_key).blind_index(TICKET_ID) in keys
    # Materials the city already holds are found by the applicant's ID number (another phone).
    assert apply(api).status_code == 201
    digest = hashlib.sha256(PDF).hexdigest()
    files = [f for f in newborn_files() if f[0] != "parents_id_cards"]

    def again(applicant: dict[str, str]) -> Any:
        body = {"bundle": "newborn", "form": NEWBORN["form"], "applicant": applicant}
        body["reuse"] = {"parents_id_cards": f"sha256:{digest}"}
        data = {"data": json.dumps(body, ensure_ascii=False)}
        return api.client.post("/api/v1/applications", data=data, files=files)

    same_person = again({**APPLICANT, "phone": "13700000000"})
    assert same_person.status_code == 201, same_person.text
    stranger = again({**APPLICANT, "phone": "13600000000", "id_number": ORDER_ID})
    assert stranger.status_code == 422, stranger.text


def test_a_wrong_key_is_a_clear_error_and_the_app_refuses_to_start(rt: Any, api: Api) -> None:
    code = api.create(citizen_id_number=ORDER_ID)["code"]
    other = Settings(
        database_url=rt.db.url,
        secret_key=rt.settings.secret_key,
        data_key="another-data-key-that-is-long-enough-0123456789",
        sweep_seconds=3600,
        outbox_seconds=3600,
    )
    wrong = wired_runtime(Database(rt.db.url), other)
    try:
        with wrong.db.read() as s, pytest.raises(DataKeyError) as err:
            s.scalar(select(Order.citizen_id_number).where(Order.code == code))
        right = DataCipher(rt.settings.data_key).key_id
        assert right in str(err.value) and DataCipher(other.data_key).key_id in str(err.value)
        assert "HAOBAN_DATA_KEY" in str(err.value)
        with (
            pytest.raises(DataKeyError, match="refusing to start"),
            TestClient(create_app(wrong, upgrade=False)),
        ):
            pass
    finally:
        wrong.db.dispose()
    # A value altered in the database fails the tag, not into garbage.
    with rt.db.write() as s:
        stored = s.execute(text("SELECT citizen_id_number FROM orders WHERE code = :c"), {"c": code}).scalar()
        forged = stored[:-6] + ("AAAA==" if not stored.endswith("AAAA==") else "BBBB==")
        s.execute(text("UPDATE orders SET citizen_id_number = :v WHERE code = :c"), {"v": forged, "c": code})
    with rt.db.read() as s, pytest.raises(DataKeyError, match="does not verify"):
        s.scalar(select(Order.citizen_id_number).where(Order.code == code))
    with pytest.raises(DataKeyError, match="at least 32"):
        DataCipher("short")


@pytest.mark.usefixtures("places_rt")
def test_the_migration_encrypts_existing_rows_and_the_downgrade_decrypts_them(
    installed: Any,
    api: Api,
) -> None:
    rt = installed
    _one_of_each(rt, api)
    config = alembic_config(rt.db.engine)
    command.downgrade(config, "0024_periodic_defer_not_older")
    for model, column, plain in COLUMNS:  # the schema before: the numbers in clear
        assert _raw(rt, model, column) == [plain]
    assert _raw(rt, Ticket, "holder_key") == [TICKET_ID]
    assert _text_anywhere(rt, APP_ID) == ["applications.applicant_id_number", "applications.state"]
    command.upgrade(config, "head")
    assert _text_anywhere(rt, APP_ID) == []
    for model, column, plain in COLUMNS:
        stored = _raw(rt, model, column)
        assert len(stored) == 1 and stored[0].startswith("enc1:") and plain not in stored[0]
        with rt.db.read() as s:
            assert s.scalars(select(getattr(model, column))).all() == [plain]
    cipher = DataCipher(rt.settings.data_key)
    assert _raw(rt, Ticket, "holder_key") == [cipher.blind_index(TICKET_ID)]
    assert _raw(rt, Application, "applicant_id_index") == [cipher.blind_index(APP_ID)]
    # Still one live ticket per person per slot after the migration.
    assert _book(api.client, *_slot(api.client), TICKET_ID, expect=409)["reason"] == "already_holds"
