"""The intake writer names only the orders columns a batch sets; every other column stays NULL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from haoban.notifications.models import OutboxMessage
from haoban.orders.intake import ORDER_COLUMNS, ORDERS, _order_columns, prepare_order, write_prepared
from haoban.orders.models import OrderEvent
from haoban.orders.schemas import OrderCreate
from tests.builders import actors

WRITER_SET = {"id", "code", "event_count", "last_hash"}


def test_a_mixed_batch_stores_what_was_prepared_and_null_elsewhere(rt: Any) -> None:
    operator = actors(rt)["operator"]
    prepared = [
        # routed by the catalogue (dispatch: the sign clock's columns too)
        prepare_order(
            rt,
            data=OrderCreate(
                content="小区门口的路灯坏了三天，请修理。", type="complaint", citizen_phone="13812345678"
            ),
            actor=operator,
        ),
        # left with the operator: no dispatch columns
        prepare_order(
            rt, data=OrderCreate(content="请问公积金怎么提取？", type="consult"), actor=operator, route=False
        ),
        # an external reference and an ID number (encrypted at rest)
        prepare_order(
            rt,
            data=OrderCreate(
                content="楼下餐馆油烟很大。",
                type="complaint",
                external_ref="ext-columns-1",
                citizen_id_number="11010519491231002X",
            ),
            actor=operator,
        ),
    ]
    assert {"sign_deadline", "dispatched_at"} <= set(prepared[0].row)
    assert "sign_deadline" not in prepared[1].row
    with rt.db.write() as session:
        created = write_prepared(session, prepared)
    with rt.db.read() as session:
        stored = {
            r.id: r._mapping
            for r in session.execute(select(ORDERS).where(ORDERS.c.id.in_([c.id for c in created])))
        }
    for p, c in zip(prepared, created, strict=True):
        row = stored[c.id]
        for column in ORDER_COLUMNS:
            if column in WRITER_SET:
                continue
            assert row[column] == p.row.get(column), column  # not prepared: NULL, as before
        assert row["code"] == c.code and row["event_count"] == len(p.events) and row["last_hash"]
    assert stored[created[2].id]["citizen_id_number"] == "11010519491231002X"  # decrypted on read


def test_a_batch_names_fewer_columns_than_psycopg_parses_again(rt: Any) -> None:
    # psycopg caches a statement's parse only up to 50 parameters (MAX_CACHED_STATEMENT_PARAMS): the
    # orders INSERT of new orders stays under it, even with every outcome's columns in one batch.
    operator = actors(rt)["operator"]
    dispatched = prepare_order(
        rt,
        data=OrderCreate(content="小区门口的路灯坏了三天。", type="complaint", district="珠晖区"),
        actor=operator,
    )
    dispatched.row.update(transfer_target="110", answer_text="…")  # the transfer and answer outcomes' columns
    columns = _order_columns([dispatched])
    assert len(columns) < 50 and len(columns) < len(ORDER_COLUMNS)
    assert columns == [c for c in ORDER_COLUMNS if c in columns]  # table order


def test_on_postgresql_a_batch_is_one_insert_per_table(rt: Any, monkeypatch: Any) -> None:
    # One multi-row INSERT per table, not one statement per row: the server starts each table's insert
    # once per batch. Same rows as the prepared ones.
    if rt.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps executemany")
    from haoban.orders import intake

    sent: list[tuple[str, int]] = []
    send = intake._one_round_trip

    def recording(driver: Any, statements: list[tuple[str, list[Any]]], **kw: Any) -> None:
        sent.extend((sql.split(" (", 1)[0], len(params)) for sql, params in statements)
        send(driver, statements, **kw)

    monkeypatch.setattr(intake, "_one_round_trip", recording)
    operator = actors(rt)["operator"]
    texts = ["小区门口的路灯坏了三天，请修理。", "楼下餐馆油烟很大。", "请问公积金怎么提取？"]
    prepared = [
        prepare_order(
            rt, data=OrderCreate(content=t, type="complaint", citizen_phone="13812345678"), actor=operator
        )
        for t in texts
    ]
    events = sum(len(p.events) for p in prepared)
    with rt.db.write() as session:
        created = write_prepared(session, prepared)
    tables = [t for t, _ in sent]
    assert tables.count("INSERT INTO orders") == 1 and tables.count("INSERT INTO order_events") == 1
    assert len(tables) == len(set(tables))  # each table once
    width = len(_order_columns(prepared))
    assert dict(sent)["INSERT INTO orders"] == 3 * width
    with rt.db.read() as session:
        stored = session.execute(
            select(OrderEvent.order_id, OrderEvent.seq).where(
                OrderEvent.order_id.in_([c.id for c in created])
            )
        ).all()
        receipts = session.execute(
            select(OutboxMessage.order_id).where(OutboxMessage.order_id.in_([c.id for c in created]))
        ).all()
    assert len(stored) == events and {(o, s) for o, s in stored} == {
        (c.id, seq) for c, p in zip(created, prepared, strict=True) for seq in range(1, len(p.events) + 1)
    }
    assert len(receipts) >= 3


def test_on_postgresql_a_batch_past_the_parameter_limit_goes_in_several_inserts(rt: Any) -> None:
    # 65,535 parameters a statement at most: 1,800 orders of ~38 columns need two INSERTs (before the
    # split, one was refused: "number of parameters must be between 0 and 65535"), and every order is
    # stored with its case file.
    if rt.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps executemany")
    operator = actors(rt)["operator"]
    prepared = [
        prepare_order(
            rt,
            data=OrderCreate(content=f"小区门口的路灯坏了{i}天，请修理。", type="complaint"),
            actor=operator,
        )
        for i in range(1800)
    ]
    assert len(prepared) * len(_order_columns(prepared)) > 65535
    with rt.db.write() as session:
        created = write_prepared(session, prepared)
    ids = [c.id for c in created]
    with rt.db.read() as session:
        orders = session.execute(select(ORDERS.c.id).where(ORDERS.c.id.in_(ids))).all()
        events = session.execute(select(OrderEvent.id).where(OrderEvent.order_id.in_(ids))).all()
    assert len(orders) == 1800 and len(events) == sum(len(p.events) for p in prepared)


def _orders(rt: Any) -> Callable[[int], Any]:
    """Prepared operator orders for the writer tests, numbered so each text differs."""
    operator = actors(rt)["operator"]

    def order(i: int) -> Any:
        data = OrderCreate(
            content=f"第{i}号：小区门口的路灯坏了。", type="complaint", citizen_phone="13812345678"
        )
        return prepare_order(rt, data=data, actor=operator)

    return order


def _stored(rt: Any, codes: list[str]) -> tuple[list[str], int]:
    """The codes of ``codes`` that are stored, read through another connection, and their case-file
    events."""
    with rt.db.read() as session:
        stored = list(session.scalars(select(ORDERS.c.code).where(ORDERS.c.code.in_(codes))))
        events = session.execute(
            select(OrderEvent.id)
            .join(ORDERS, ORDERS.c.id == OrderEvent.order_id)
            .where(ORDERS.c.code.in_(codes))
        ).all()
    return stored, len(events)


def test_on_postgresql_a_writer_batch_is_one_exchange_and_a_bad_order_sinks_only_itself(
    rt: Any, monkeypatch: Any
) -> None:
    # BEGIN, the inserts and COMMIT go in one flush and come back with one sync: the writer waits on
    # the server once per batch (psycopg's own pipeline made it three round trips and ~9 socket writes:
    # a sync after its BEGIN, the inserts, then the commit).
    if rt.db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's wire protocol")
    import psycopg

    from haoban.orders.intake import IntakeWriter

    order = _orders(rt)

    writer = IntakeWriter(rt.db)
    waits: list[int] = []
    real_wait = psycopg.Connection.wait

    def watched(gen: Any) -> Any:
        # Counts the driver's exchanges that touch the socket (a commit with no transaction open
        # goes through wait() too, without sending anything).
        try:
            state = gen.send(None)
        except StopIteration as stop:
            return stop.value
        waits.append(1)
        while True:
            ready = yield state
            try:
                state = gen.send(ready)
            except StopIteration as stop:
                return stop.value

    def counting(self: Any, gen: Any, *args: Any, **kw: Any) -> Any:
        return real_wait(self, watched(gen), *args, **kw)

    try:
        writer._write([order(0)])  # draws the process's blocks of codes and ids
        monkeypatch.setattr(psycopg.Connection, "wait", counting)
        first = writer._write([order(i) for i in range(1, 4)])
        assert len(waits) == 1
        # Committed when it returns (before the 201): another connection sees every row.
        with rt.db.read() as session:
            stored = session.execute(
                select(ORDERS.c.code, ORDERS.c.event_count).where(ORDERS.c.code.in_([c.code for c in first]))
            ).all()
        assert len(stored) == 3 and all(n >= 1 for _, n in stored)
        # A refused row (a category that does not exist) fails the batch's transaction: the writer
        # writes the orders one by one again and only the bad one fails; the connection stays usable.
        bad = order(5)
        bad.row["category_id"] = 999_999
        outcomes = writer._write([order(4), bad, order(6)])
        assert [isinstance(o, Exception) for o in outcomes] == [False, True, False]
        again = writer._write([order(7)])
    finally:
        writer.close()
    good = [o.code for o in [*outcomes, *again] if not isinstance(o, Exception)]
    stored, events = _stored(rt, good)
    assert sorted(stored) == sorted(good) and len(good) == 3 and events >= 3


def test_on_postgresql_the_writer_prepares_a_statement_it_meets_again(rt: Any) -> None:
    # Sent unnamed, every batch's INSERTs were parsed and planned again; met a second time with the
    # same parameter types, a statement is prepared on the writer's connection and only bound after.
    if rt.db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    from haoban.orders.intake import IntakeWriter

    order = _orders(rt)

    writer = IntakeWriter(rt.db)
    try:
        created = [*writer._write([order(0), order(1)]), *writer._write([order(2), order(3)])]
        assert writer._conn is not None
        names = writer._conn.exec_driver_sql(
            "SELECT name FROM pg_prepared_statements WHERE starts_with(name, 'haoban_intake_')"
        ).scalars()
        assert len(list(names)) >= 3  # orders, order_events, outbox
        created += writer._write([order(4), order(5)])  # run by name
    finally:
        writer.close()
    assert not [c for c in created if isinstance(c, Exception)]
    codes = [c.code for c in created]
    stored, events = _stored(rt, codes)
    assert sorted(stored) == sorted(codes) and len(codes) == 6 and events >= 6


def test_on_postgresql_the_writer_survives_the_server_forgetting_its_statements(rt: Any) -> None:
    # The record of prepared names lives beside the connection, the statements on the server: psycopg
    # itself sends DEALLOCATE ALL in some cases, and pooled connections are reused. A batch that meets
    # a name the server no longer knows is rolled back and sent again unnamed, and stored once.
    if rt.db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    from haoban.orders.intake import IntakeWriter

    order = _orders(rt)

    def prepared_names(writer: Any) -> list[str]:
        return list(
            writer._conn.exec_driver_sql(
                "SELECT name FROM pg_prepared_statements WHERE starts_with(name, 'haoban_intake_')"
            ).scalars()
        )

    writer = IntakeWriter(rt.db)
    try:
        created = [*writer._write([order(0), order(1)]), *writer._write([order(2), order(3)])]
        assert len(prepared_names(writer)) >= 3
        writer._conn.exec_driver_sql("DEALLOCATE ALL")
        writer._conn.commit()
        assert prepared_names(writer) == []
        conn = writer._conn
        created += writer._write([order(4), order(5)])  # the names are gone on the server
        assert writer._conn is conn  # not a failure: the same connection goes on
        created += [*writer._write([order(6), order(7)]), *writer._write([order(8), order(9)])]
        assert len(prepared_names(writer)) >= 3  # prepared again
        # Returned to the pool and checked out again by the next writer: the same connection's record
        # goes with it, and what the server forgot in between is found out the same way.
        writer.close()
        writer = IntakeWriter(rt.db)
        created += writer._write([order(10), order(11)])
    finally:
        writer.close()
    assert not [c for c in created if isinstance(c, Exception)]
    codes = [c.code for c in created]
    stored, events = _stored(rt, codes)
    assert sorted(stored) == sorted(codes) and len(codes) == 12 and events >= 12
