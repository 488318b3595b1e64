"""Tracking codes stay unique when many writers (threads, and separate engines standing in for separate
server processes) file orders at once, on SQLite and PostgreSQL; on PostgreSQL the day's counter row is
not locked for the length of a write transaction, and numbers come in blocks per process."""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text

from haoban.db import Database
from haoban.orders.intake import IntakeWriter, prepare_order, write_prepared
from haoban.orders.models import Order, OrderDayMark, local_day
from haoban.orders.numbering import BLOCK, NumberBlocks, blocks_of
from haoban.orders.schemas import OrderCreate
from tests.builders import actors

CODE = re.compile(r"^HB(\d{8})(\d{6})\d{3}$")


def _data(i: int) -> OrderCreate:
    return OrderCreate(
        content=f"第{i}号：小区门口的路灯坏了，请修理。", type="complaint", citizen_phone="13812345678"
    )


def _file(
    rt: Any, db: Database, n: int, codes: list[str], errors: list[BaseException], batch: int = 1
) -> None:
    operator = actors(rt)["operator"]
    try:
        for start in range(0, n, batch):
            prepared = [prepare_order(rt, data=_data(start + j), actor=operator) for j in range(batch)]
            with db.write() as session:
                codes.extend(c.code for c in write_prepared(session, prepared))
    except BaseException as exc:
        errors.append(exc)


def test_concurrent_writers_in_two_processes_never_share_a_code(rt: Any, db_url: str) -> None:
    # A second Database on the same URL has its own engine, pool and number blocks: another process.
    other = Database(db_url)
    other.engine.dialect.haoban_cipher = rt.db.engine.dialect.haoban_cipher
    codes: list[str] = []
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_file, args=(rt, db, 30, codes, errors, batch))
        for db, batch in [(rt.db, 1), (rt.db, 3), (other, 1), (other, 7)]
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.dispose()
    assert not errors, errors
    assert len(codes) == 30 + 30 + 30 + 35  # the last runs 5 batches of 7
    assert len(set(codes)) == len(codes)
    days = {m.group(1) for c in codes if (m := CODE.match(c))}
    assert len(days) == 1  # every code has the daily format HB + yyyymmdd + number + 3 digits
    with rt.db.read() as s:
        stored = set(s.scalars(select(Order.code)))
        counter = s.scalar(text("SELECT value FROM code_counters WHERE day = :d"), {"d": days.pop()})
    assert set(codes) <= stored
    numbers = [int(CODE.match(c).group(2)) for c in codes]  # type: ignore[union-attr]
    assert max(numbers) <= counter  # never a number the database did not hand out


def test_intake_writer_batches_get_distinct_codes(rt: Any) -> None:
    import asyncio

    operator = actors(rt)["operator"]
    writer = IntakeWriter(rt.db, max_batch=8)

    async def go() -> list[str]:
        created = await asyncio.gather(
            *(writer.submit(prepare_order(rt, data=_data(i), actor=operator)) for i in range(40))
        )
        return [c.code for c in created]

    codes: list[str] = []
    # Its own thread: another test in this process may have left an event loop running here.
    runner = threading.Thread(target=lambda: codes.extend(asyncio.run(go())))
    try:
        runner.start()
        runner.join()
    finally:
        writer.close()
    assert len(set(codes)) == 40 and all(CODE.match(c) for c in codes)
    # The dashboard's day marks go in with each batch's rows: one per day and batch, never none.
    with rt.db.read() as session:
        marks = session.scalars(select(OrderDayMark.day)).all()
        batches = session.scalar(select(func.count()).select_from(Order))
    assert 1 <= len(marks) <= batches and set(marks) == {local_day(datetime.now(UTC))}


def test_intake_writer_keeps_its_connection_and_replaces_a_broken_one(rt: Any) -> None:
    import asyncio

    operator = actors(rt)["operator"]
    writer = IntakeWriter(rt.db)
    codes: list[str] = []

    async def one(i: int) -> None:
        codes.append((await writer.submit(prepare_order(rt, data=_data(i), actor=operator))).code)

    def run(i: int) -> None:
        runner = threading.Thread(target=lambda: asyncio.run(one(i)))
        runner.start()
        runner.join()

    try:
        run(1)
        held = writer._conn
        run(2)
        assert writer._conn is held is not None  # one connection for both batches
        held.invalidate()  # the database restarted, say
        run(3)
        assert writer._conn is not None and writer._conn is not held
    finally:
        writer.close()
    assert len(set(codes)) == 3
    with rt.db.read() as s:
        assert set(codes) <= set(s.scalars(select(Order.code)))


def test_counter_row_is_not_held_by_an_open_write(rt: Any, db_url: str) -> None:
    """An order written but not yet committed leaves the day's counter free for other writers."""
    operator = actors(rt)["operator"]
    with rt.db.write() as session:  # the day's counter row exists from here on
        write_prepared(session, [prepare_order(rt, data=_data(0), actor=operator)])
    with rt.db.write() as session:
        code = write_prepared(session, [prepare_order(rt, data=_data(1), actor=operator)])[0].code
        if rt.db.is_sqlite:
            return  # one writer at a time for the whole file: nothing finer to check
        day = CODE.match(code).group(1)  # type: ignore[union-attr]
        other = Database(db_url)
        try:
            with other.engine.connect() as conn:
                # NOWAIT fails at once if the open write above still held the row's lock.
                value = conn.execute(
                    text("SELECT value FROM code_counters WHERE day = :d FOR UPDATE NOWAIT"), {"d": day}
                ).scalar_one()
                conn.rollback()
        finally:
            other.dispose()
        assert value >= 1


def test_numbers_come_in_blocks_and_a_rolled_back_batch_leaves_a_gap(rt: Any) -> None:
    operator = actors(rt)["operator"]
    with rt.db.read() as s:
        before = s.scalar(select(func.count()).select_from(Order))

    class Boom(Exception):
        pass

    try:
        with rt.db.write() as session:
            lost = write_prepared(session, [prepare_order(rt, data=_data(0), actor=operator)])[0].code
            raise Boom
    except Boom:
        pass
    codes = []
    for i in range(5):
        with rt.db.write() as session:
            codes.append(write_prepared(session, [prepare_order(rt, data=_data(i), actor=operator)])[0].code)
    with rt.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == before + 5
    numbers = [int(CODE.match(c).group(2)) for c in [lost, *codes]]  # type: ignore[union-attr]
    assert numbers == sorted(numbers) and len(set(numbers[1:])) == 5  # rising within a process
    if rt.db.is_sqlite:
        assert numbers[1] == numbers[0]  # reserved inside the transaction: the rollback took it back
    else:
        assert numbers[1] == numbers[0] + 1  # the rolled-back order's number is never issued again
        assert blocks_of(rt.db.engine).reservations == 1  # six numbers, one trip to the counter row
        assert blocks_of(rt.db.engine).id_draws == 1  # and one draw of ids from the sequence


def test_blocks_after_a_fork_and_a_new_day(rt: Any, monkeypatch: Any) -> None:
    if rt.db.is_sqlite:
        return
    blocks = blocks_of(rt.db.engine)
    assert blocks_of(rt.db.engine) is blocks
    first = blocks.take(rt.db.engine, "20990101", 2)
    assert first == [1, 2]
    monkeypatch.setattr(os, "getpid", lambda: blocks.pid + 1)  # a forked child starts without a block
    child = blocks_of(rt.db.engine)
    assert child is not blocks
    assert child.take(rt.db.engine, "20990101", 1) == [BLOCK + 1]
    assert child.take(rt.db.engine, "20990102", 1) == [1]  # a new day: yesterday's block is retired
    assert child.take(rt.db.engine, "20990101", 1) == [2 * BLOCK + 1]
    big = NumberBlocks(block=4).take(rt.db.engine, "20990103", 10)  # a batch larger than a block
    assert big == list(range(1, 11))


def test_code_day_follows_the_city_calendar(rt: Any) -> None:
    operator = actors(rt)["operator"]
    at = datetime.fromisoformat("2026-03-01T16:30:00+00:00")  # 00:30 on 2 March in Asia/Shanghai
    with rt.db.write() as session:
        code = write_prepared(session, [prepare_order(rt, data=_data(1), actor=operator, now=at)])[0].code
    assert code.startswith("HB20260302")


def test_created_answer_is_what_the_response_model_would_send(api: Any, rt: Any) -> None:
    """The create endpoint writes its answer directly; it must be byte for byte what FastAPI would
    have made of it through ``CreatedOrderOut | KnownOrderOut``."""
    from datetime import UTC, timedelta, timezone

    from pydantic import TypeAdapter

    from haoban.orders import presenters
    from haoban.orders.schemas import CreatedOrderOut, KnownOrderOut

    model = TypeAdapter(CreatedOrderOut | KnownOrderOut)

    def as_fastapi(body: bytes) -> bytes:
        return model.dump_json(model.validate_json(body))

    for fields in (
        {},
        {"department": "cgj", "co_handlers": ["gjj"]},
        {"type": "consult", "content": "请问新生儿落户需要准备什么？", "district": "珠晖区"},
        {"urgency": "urgent", "content": "煤气泄漏了，有很大的味道！", "channel": "phone"},
    ):
        r = api.post(
            "/api/v1/orders",
            as_="operator",
            json={
                "type": "complaint",
                **{"content": "小区门口的路灯坏了三天，晚上很黑，请尽快修理。", **fields},
            },
        )
        assert r.status_code == 201, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.content == as_fastapi(r.content)
    row = {
        "status": "dispatched",
        "lead_department_id": None,
        "category_id": None,
        "sign_deadline": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds
        "handle_deadline": datetime(2026, 1, 2, 11, 4, 5, 120, tzinfo=timezone(timedelta(hours=8))),
        "deadline_provisional": None,
        "dispatch_source": "model",
        "dispatch_confidence": 0.873456789,
        "dispatch_rule_id": None,
    }
    body = presenters.created_json(
        presenters.created_view(rt, code="HB20260102000001123", created=True, row=row)
    )
    assert body == as_fastapi(body)
