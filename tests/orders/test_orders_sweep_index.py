"""The partial indexes (the sweep's, the handling orders' keys) cover exactly the orders on the clocks
(issue 15, 10 M orders)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import inspect

from haoban.orders.models import _HANDLING_SQL, SWEEP_INDEXES
from haoban.orders.workflow import HANDLING_STATUSES


def test_partial_index_predicate_is_the_handling_states() -> None:
    assert set(re.findall(r"'(\w+)'", _HANDLING_SQL)) == {s.value for s in HANDLING_STATUSES}
    from importlib import import_module

    for name in (
        "0037_orders_handle_sweep_index",
        "0039_orders_list_indexes",
        "0041_orders_sweep_due_indexes",
        "0043_orders_three_fewer_indexes",
    ):
        migration = import_module(f"haoban.migrations.versions.{name}")
        assert set(migration.HANDLING) == {s.value for s in HANDLING_STATUSES}
    assert import_module("haoban.migrations.versions.0041_orders_sweep_due_indexes").INDEXES == SWEEP_INDEXES


def test_the_migrated_database_has_the_index(rt: Any) -> None:
    indexes = {i["name"]: i for i in inspect(rt.db.engine).get_indexes("orders")}
    for name, (column, _where) in SWEEP_INDEXES.items():
        assert indexes[name]["column_names"] == [column]
    assert indexes["ix_orders_handling"]["column_names"][:3] == ["id", "status", "lead_department_id"]
