"""Numbered pages of a staff list read their ids first (through the district index holding the list's
keys), then their rows: the same orders, in the same order, as the cursor walk (issue 15, 10 M orders)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect, text, update

from haoban.auth.actors import Actor
from haoban.orders import queries
from haoban.orders.models import Order
from tests.conftest import Api

OPERATOR = Actor(id=2, username="operator", name="话务员", role="operator")
INDEX = "ix_orders_district_status_category_received"


def _scatter(api: Api, rt: Any, n: int) -> tuple[list[str], list[str]]:
    """``n`` orders spread over two districts, the categories under two top-level ones and three
    statuses, received at times with ties; returns (district codes, top-level category codes)."""
    codes = [api.create()["code"] for _ in range(n)]
    d = rt.directory
    districts = sorted(d.districts_by_id.values(), key=lambda x: x.code)[:2]
    tops = sorted((c for c in d.categories_by_id.values() if c.level == 1), key=lambda c: c.code)[:2]
    leaves = [c for c in d.categories_by_id.values() if any(t.code in c.ancestors for t in tops)]
    rng = random.Random(15)
    t0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with rt.db.write() as s:
        for code in codes:
            s.execute(
                update(Order)
                .where(Order.code == code)
                .values(
                    district_id=rng.choice([*(x.id for x in districts), None]),
                    category_id=rng.choice(leaves).id if rng.random() < 0.9 else None,
                    status=rng.choice(["closed", "archived", "dispatched"]),
                    received_at=t0 + timedelta(minutes=rng.randrange(12)),  # many ties: the id decides
                )
            )
    return [x.code for x in districts], [t.code for t in tops]


def _page(rt: Any, f: queries.OrderFilter, **kw: Any) -> queries.OrderPage:
    with rt.db.read() as s:
        return queries.page_orders(s, rt, actor=OPERATOR, filters=f, page_size=3, **kw)


def _walk(rt: Any, f: queries.OrderFilter, order: str) -> list[int]:
    found = _page(rt, f, order=order)
    ids = [o.id for o in found.rows]
    while found.next_cursor:
        found = _page(rt, f, order=order, cursor=found.next_cursor)
        ids += [o.id for o in found.rows]
    return ids


def test_numbered_pages_are_the_cursor_walks_slices(api: Api, rt: Any) -> None:
    districts, tops = _scatter(api, rt, 60)
    filters = [
        queries.OrderFilter(),
        queries.OrderFilter(district=districts[0]),
        queries.OrderFilter(status=["closed", "archived"], district=districts[0], category=tops[0]),
        queries.OrderFilter(status=["closed", "archived"], district=districts[1], category=tops[1]),
        queries.OrderFilter(status=["dispatched"], category=tops[0]),
    ]
    for f in filters:
        for order in queries.CURSOR_ORDERINGS:
            walked = _walk(rt, f, order)
            with rt.db.read() as s:
                expected = s.scalars(
                    queries._filtered(rt, OPERATOR, f, datetime.now(UTC))
                    .with_only_columns(Order.id)
                    .order_by(*queries._ordering(order, datetime.now(UTC)))
                ).all()
            assert walked == list(expected) and len(walked) > 3, (f, order)
            for page in range(1, len(walked) // 3 + 2):
                found = _page(rt, f, order=order, page=page)
                assert [o.id for o in found.rows] == walked[(page - 1) * 3 : page * 3], (f, order, page)
                # The next link of a numbered page goes on where the page ends.
                if found.next_cursor:
                    after = _page(rt, f, order=order, cursor=found.next_cursor)
                    assert [o.id for o in after.rows] == walked[page * 3 : page * 3 + 3]
                else:
                    assert page * 3 >= len(walked)


def test_numbered_pages_read_ids_first_from_the_district_index(api: Api, rt: Any) -> None:
    districts, tops = _scatter(api, rt, 8)
    f = queries.OrderFilter(status=["closed", "archived"], district=districts[0], category=tops[0])
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", seen)
    try:
        _page(rt, f, page=2)
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", seen)
    page = [s for s in statements if "ORDER BY" in s]
    assert len(page) == 1 and "orders.id IN (SELECT" in page[0].replace("\n", " "), page
    ids = (
        queries._filtered(rt, OPERATOR, f, datetime.now(UTC))
        .with_only_columns(Order.id)
        .order_by(Order.received_at.desc(), Order.id.desc())
        .offset(3)
        .limit(4)
    )
    if rt.db.is_sqlite:
        sql = str(ids.compile(rt.db.engine, compile_kwargs={"literal_binds": True}))
        with rt.db.engine.connect() as conn:
            plan = " ".join(r[-1] for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert f"COVERING INDEX {INDEX}" in plan, plan


def test_the_migrated_database_has_the_district_list_index(rt: Any) -> None:
    indexes = {i["name"]: i for i in inspect(rt.db.engine).get_indexes("orders")}
    assert indexes[INDEX]["column_names"] == ["district_id", "status", "category_id", "received_at", "id"]
    assert "ix_orders_district_status_category" not in indexes  # its look-ups are served by the new one
