"""The case file is append-only and hash-chained; tampering is found at the altered event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from haoban.orders.casefile import GENESIS, EventRecord, chain_hash, verify_chain
from haoban.orders.events import verify_case_files
from tests.conftest import Api


def _records(n: int) -> list[tuple[EventRecord, str, str]]:
    out, prev = [], GENESIS
    for seq in range(1, n + 1):
        r = EventRecord("HB1", seq, "sign", "a", "handler", datetime(2026, 1, 1, tzinfo=UTC), "x", "y", "{}")
        h = chain_hash(prev, r)
        out.append((r, prev, h))
        prev = h
    return out


def test_pure_chain_detects_each_kind_of_change() -> None:
    chain = _records(4)
    assert verify_chain("HB1", chain, head_hash=chain[-1][2]) is None
    altered = list(chain)
    r, p, h = altered[2]
    altered[2] = (
        EventRecord(
            r.order_code,
            r.seq,
            r.action,
            "mallory",
            r.actor_role,
            r.at,
            r.from_status,
            r.to_status,
            r.payload,
        ),
        p,
        h,
    )
    assert verify_chain("HB1", altered).seq == 3
    assert verify_chain("HB1", chain[:1] + chain[2:]).seq == 3  # removed event #2
    assert verify_chain("HB1", chain[:3], head_hash=chain[-1][2]).reason.startswith("chain ends")


def test_database_refuses_updates_and_deletes(api: Api, rt: Any) -> None:
    api.create()
    for sql in ("UPDATE order_events SET actor_name = 'x'", "DELETE FROM order_events"):
        with pytest.raises(DBAPIError), rt.db.write() as s:
            s.execute(text(sql))


def _drop_guard(rt: Any) -> None:
    with rt.db.write() as s:
        if rt.db.is_sqlite:
            s.execute(text("DROP TRIGGER order_events_no_update"))
        else:
            s.execute(text("DROP TRIGGER order_events_append_only ON order_events"))


def test_tampering_one_event_fails_verify_at_that_event(api: Api, rt: Any, monkeypatch: Any) -> None:
    code = api.create()["code"]
    api.act(code, "sign", as_="h_cgj")
    api.act(code, "reply", as_="h_cgj", reply="已修复")
    other = api.create()["code"]
    with rt.db.read() as s:
        assert verify_case_files(s)[1] == []
    # Someone with database rights removes the guard and rewrites the reply event (#4).
    _drop_guard(rt)
    with rt.db.write() as s:
        s.execute(
            text(
                "UPDATE order_events SET payload = :p WHERE seq = 4 AND order_id = "
                "(SELECT id FROM orders WHERE code = :c)"
            ),
            {"p": '{"reply":"从未处理"}', "c": code},
        )
    with rt.db.read() as s:
        checked, breaks = verify_case_files(s)
    assert checked == 2
    assert [(b.order_code, b.seq) for b in breaks] == [(code, 4)]
    assert other not in {b.order_code for b in breaks}

    from haoban import cli, cliutil

    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    result = CliRunner().invoke(cli.app, ["audit", "verify", "--json"])
    assert result.exit_code == 1
    assert code in result.output and '"seq": 4' in result.output


def test_audit_verify_cli_all_good(api: Api, rt: Any, monkeypatch: Any) -> None:
    api.create()
    from haoban import cli, cliutil

    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    result = CliRunner().invoke(cli.app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "all 1 case files verify" in result.output
