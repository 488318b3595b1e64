"""The change feed's wake-ups on PostgreSQL: a write of case-file events (an intake batch, an action)
sends no ``NOTIFY`` (PostgreSQL would serialise every such commit behind one lock: migration 0045),
while an account change still does, so a revoked token reaches every process at once."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import update

from haoban.auth.models import User
from haoban.jobs.pg import conninfo
from haoban.orders.intake import IntakeWriter, create_order, prepare_order
from haoban.orders.schemas import OrderCreate
from tests.builders import actors, run_async
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="LISTEN/NOTIFY: PostgreSQL only")


def _heard(listener: psycopg.Connection[Any], seconds: float) -> list[str]:
    return [n.payload for n in listener.notifies(timeout=seconds)]


def test_case_file_writes_notify_no_one_and_account_changes_do(rt: Any, db_url: str) -> None:
    operator = actors(rt)["operator"]
    order = OrderCreate(content="小区门口的路灯坏了三天，请修理。", type="complaint", district="珠晖区")
    with psycopg.connect(conninfo(db_url), autocommit=True) as listener:
        listener.execute("LISTEN haoban_changes")

        # The intake writer's batch (its own pipelined round trip) and an order written in a session.
        writer = IntakeWriter(rt.db)
        try:
            created = run_async(writer.submit(prepare_order(rt, data=order, actor=operator)))
        finally:
            writer.close()
        assert created.code
        with rt.db.write() as session:
            assert create_order(session, rt, data=order, actor=operator).code
        assert _heard(listener, 0.5) == []

        with rt.db.write() as session:
            session.execute(update(User).where(User.username == "supervisor").values(display_name="值班长"))
        assert _heard(listener, 2.0) == ["users"]
