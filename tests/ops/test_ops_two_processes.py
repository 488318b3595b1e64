"""Beyond one process: ``haoban serve`` and ``haoban worker`` as real subprocesses on loopback ports,
sharing one PostgreSQL database (the test's own). Nothing that one process needs lives only in
another's memory: an order filed through A is a duplicate candidate through B within a second, the
deadline sweep runs once per period however many workers run, a worker killed mid-job has its job
picked up again with its effect happening once, and a server stopped with SIGTERM keeps every order it
acknowledged."""

from __future__ import annotations

import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update

from haoban.db import utcnow
from haoban.notifications.models import DeliveredMessage, OutboxMessage
from haoban.orders.events import verify_case_files
from haoban.orders.models import Order, OrderEvent
from tests.conftest import BACKEND
from tests.ops.procs import Server, Worker, running

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql",
    reason="several processes on one database: PostgreSQL (set HAOBAN_TEST_DATABASE_URL)",
)

LIGHTS = "珠晖区东风路与解放路交叉口的红绿灯坏了，车辆乱成一团，请尽快派人维修"
LIGHTS_AGAIN = "东风路与解放路交叉口红绿灯坏了，车辆乱成一团，请尽快维修"
BOARD = "蒸湘区华新开发区夜间施工噪音扰民，凌晨两点还在打桩，严重影响休息"


def wait_for(check: Any, *, timeout: float, what: str, every: float = 0.1) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_an_order_filed_through_a_is_a_duplicate_candidate_through_b_within_a_second(
    db_url: str, rt: Any, tmp_path: Path
) -> None:
    a, b = Server(db_url, tmp_path / "a.log"), Server(db_url, tmp_path / "b.log")
    with running(a, b):
        op_a = {"Authorization": f"Bearer {a.token('operator')}"}
        op_b = {"Authorization": f"Bearer {b.token('operator')}"}  # same key: B accepts A's tokens too

        def candidates_on_b(text_: str) -> list[str]:
            r = httpx.post(
                b.base + "/api/v1/duplicates/check", headers=op_b, json={"text": text_, "district": "珠晖区"}
            )
            assert r.status_code == 200, r.text
            return [c["code"] for c in r.json()["candidates"]]

        assert candidates_on_b(LIGHTS_AGAIN) == []  # B's index is built now, before A files anything
        filed = httpx.post(
            a.base + "/api/v1/orders",
            headers=op_a,
            json={
                "type": "complaint",
                "content": LIGHTS,
                "district": "珠晖区",
                "citizen_phone": "13900000001",
            },
        )
        assert filed.status_code == 201, filed.text
        code = filed.json()["code"]
        t0 = time.monotonic()
        wait_for(
            lambda: code in candidates_on_b(LIGHTS_AGAIN),
            timeout=1.0,
            what="B to offer A's order",
            every=0.05,
        )
        assert time.monotonic() - t0 <= 1.0

        # B's follower keeps up without being asked: A files another order, B's cursor moves within a
        # second (it reads new case-file events every MIN_GAP once its index is built), before anyone
        # queries B.
        with rt.db.read() as s:
            before = s.scalar(select(func.max(OrderEvent.id)))
        other = httpx.post(
            a.base + "/api/v1/orders",
            headers=op_a,
            json={
                "type": "complaint",
                "content": BOARD,
                "district": "蒸湘区",
                "citizen_phone": "13900000002",
            },
        )
        assert other.status_code == 201

        def b_feed() -> dict[str, Any]:
            return dict(httpx.get(b.base + "/api/v1/health").json()["change_feed"])

        wait_for(lambda: b_feed()["last_event_id"] > (before or 0), timeout=1.0, what="B's change feed")
        feed = b_feed()
        assert feed["alive"] and feed["open_orders_indexed"] == 2
        health_a = httpx.get(a.base + "/api/v1/health").json()
        health_b = httpx.get(b.base + "/api/v1/health").json()
        assert health_a["process"]["pid"] != health_b["process"]["pid"]
        assert health_a["process"]["resident_bytes"] > 0


def _overdue_order(rt: Any, api: Any) -> str:
    code = str(api.create()["code"])
    with rt.db.write() as s:
        s.execute(
            update(Order)
            .where(Order.code == code)
            .values(
                handle_deadline=utcnow() - timedelta(hours=1), handle_warn_at=utcnow() - timedelta(hours=2)
            )
        )
    return code


def test_the_sweep_runs_once_per_period_with_two_workers(
    db_url: str, rt: Any, api: Any, tmp_path: Path
) -> None:
    code = _overdue_order(rt, api)
    every_second = {"HAOBAN_SWEEP_SECONDS": "1", "HAOBAN_OUTBOX_SECONDS": "1"}
    w1 = Worker(db_url, tmp_path / "w1.log", **every_second)
    w2 = Worker(db_url, tmp_path / "w2.log", **every_second)
    started = time.monotonic()
    with running(w1, w2):

        def workers() -> int:
            with rt.db.read() as s:
                return int(s.scalar(text("SELECT count(*) FROM procrastinate_workers")) or 0)

        wait_for(lambda: workers() == 2, timeout=60, what="both workers to register")
        both_up = time.monotonic()
        time.sleep(6)
    elapsed = time.monotonic() - started
    with rt.db.read() as s:
        runs = s.execute(
            text(
                "SELECT j.id, j.status::text, count(e.id) FILTER (WHERE e.type = 'started') AS starts "
                "FROM procrastinate_jobs j LEFT JOIN procrastinate_events e ON e.job_id = j.id "
                "WHERE j.task_name = 'orders.sweep' GROUP BY j.id"
            )
        ).all()
        # A periodic job carries the period it was deferred for: each period must appear once.
        periods = s.execute(
            text(
                "SELECT args->>'timestamp', count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'orders.sweep' GROUP BY args->>'timestamp'"
            )
        ).all()
        supervised = s.scalar(
            select(func.count(OrderEvent.id))
            .join(Order, Order.id == OrderEvent.order_id)
            .where(Order.code == code, OrderEvent.action == "supervise")
        )
        alert = s.scalar(select(Order.handle_alert).where(Order.code == code))
    assert len(runs) >= 4, "the sweep ran every second while both workers were up"
    # One job per period, not one per worker: at most one per second of the whole run.
    assert len(runs) <= elapsed + 1 and len(periods) == len(runs)
    assert all(n == 1 for _, n in periods)
    assert all(starts == 1 for _, status, starts in runs if status == "succeeded")
    assert sum(status == "succeeded" for _, status, _ in runs) >= int(time.monotonic() - both_up) - 2 - 6
    assert supervised == 1 and alert == "overdue"  # many sweeps, one automatic 督办


def test_a_worker_killed_mid_job_has_its_job_picked_up_again_and_its_effect_happens_once(
    db_url: str, rt: Any, api: Any, tmp_path: Path
) -> None:
    for i in range(4):
        api.create(citizen_phone=f"1390000100{i}")  # four receipts (and any routed step) wait in the outbox
    with rt.db.read() as s:
        total = int(s.scalar(select(func.count(OutboxMessage.id))) or 0)
    assert total >= 4
    env = {
        "HAOBAN_OUTBOX_SENDER": "tests-slow",
        "HAOBAN_TEST_SEND_SECONDS": "1.5",
        "HAOBAN_OUTBOX_SECONDS": "1",
        "HAOBAN_SWEEP_SECONDS": "3600",
        "HAOBAN_JOB_HEARTBEAT_SECONDS": "1",
        "HAOBAN_JOB_STALLED_SECONDS": "3",
    }

    def delivered() -> int:
        with rt.db.read() as s:
            return int(s.scalar(select(func.count(DeliveredMessage.id))) or 0)

    def doing() -> int | None:
        with rt.db.read() as s:
            return s.scalar(
                text(
                    "SELECT id FROM procrastinate_jobs "
                    "WHERE task_name = 'notifications.drain' AND status = 'doing'"
                )
            )

    first = Worker(db_url, tmp_path / "first.log", **env)
    try:
        wait_for(lambda: delivered() >= 1 and doing(), timeout=90, what="the first worker to be mid-drain")
        job_id = doing()
        first.signal(signal.SIGKILL)
        first.popen.wait(timeout=10)
    finally:
        first.end()
    cut_short = delivered()
    assert 1 <= cut_short < total
    with rt.db.read() as s:
        assert (
            s.scalar(text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": job_id})
            == "doing"
        )

    second = Worker(db_url, tmp_path / "second.log", **env)
    with running(second):
        wait_for(lambda: delivered() == total, timeout=60, what="the second worker to finish the drain")

        def finished() -> bool:
            with rt.db.read() as s:
                status = s.scalar(
                    text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
                )
            return status == "succeeded"

        wait_for(finished, timeout=30, what="the killed worker's job to succeed")
    with rt.db.read() as s:
        per_message = s.execute(
            select(DeliveredMessage.outbox_id, func.count(DeliveredMessage.id)).group_by(
                DeliveredMessage.outbox_id
            )
        ).all()
        statuses = set(s.scalars(select(OutboxMessage.status)))
        starts = s.scalar(
            text("SELECT count(*) FROM procrastinate_events WHERE job_id = :id AND type = 'started'"),
            {"id": job_id},
        )
    assert len(per_message) == total and all(n == 1 for _, n in per_message)  # every message once
    assert statuses == {"sent"}
    assert starts == 2  # started by the killed worker, then again by the second one


def test_sigterm_keeps_every_acknowledged_order(db_url: str, rt: Any, tmp_path: Path) -> None:
    a = Server(db_url, tmp_path / "a.log")
    acknowledged: list[str] = []
    refused = 0
    with running(a):
        headers = {"Authorization": f"Bearer {a.token('operator')}"}
        stop = threading.Event()

        def client(n: int) -> None:
            nonlocal refused
            with httpx.Client(base_url=a.base, headers=headers, timeout=30) as c:
                i = 0
                while not stop.is_set() and i < 200:
                    i += 1
                    try:
                        r = c.post(
                            "/api/v1/orders",
                            json={
                                "type": "consult",
                                "content": f"公积金提取需要哪些材料？{n}-{i}",
                                "district": "珠晖区",
                            },
                        )
                    except httpx.HTTPError:
                        refused += 1
                        return
                    if r.status_code == 201:
                        acknowledged.append(r.json()["code"])

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        wait_for(lambda: len(acknowledged) >= 40, timeout=60, what="orders to flow")
        a.signal(signal.SIGTERM)  # mid-stream
        # uvicorn shuts down gracefully, then re-raises the signal it caught: exit status -SIGTERM.
        assert a.popen.wait(timeout=40) in (0, -signal.SIGTERM)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    with rt.db.read() as s:
        stored = s.scalars(select(Order.code).where(Order.code.in_(acknowledged))).all()
        checked, breaks = verify_case_files(s)
    assert len(acknowledged) == len(set(acknowledged)) >= 40
    assert sorted(stored) == sorted(acknowledged)
    assert breaks == [] and checked >= len(acknowledged)


def test_a_lockout_reached_through_a_holds_on_b(db_url: str, tmp_path: Path) -> None:
    from haoban.auth import throttle

    a, b = Server(db_url, tmp_path / "a.log"), Server(db_url, tmp_path / "b.log")
    with running(a, b):
        for _ in range(throttle.ACCOUNT_LIMIT):
            wrong = httpx.post(
                a.base + "/api/v1/auth/token", data={"username": "dispatcher", "password": "nope"}
            )
            assert wrong.status_code == 401
        right_on_b = httpx.post(
            b.base + "/api/v1/auth/token", data={"username": "dispatcher", "password": "demo"}
        )
        assert right_on_b.status_code == 429, right_on_b.text
        assert "too many failed logins" in right_on_b.json()["message"]
        assert int(right_on_b.headers["Retry-After"]) >= 1
        # Another account is not affected, on either process.
        assert httpx.post(
            b.base + "/api/v1/auth/token", data={"username": "supervisor", "password": "demo"}
        ).is_success


def test_a_token_revoked_through_a_is_refused_by_b(db_url: str, tmp_path: Path) -> None:
    a, b = Server(db_url, tmp_path / "a.log"), Server(db_url, tmp_path / "b.log")
    with running(a, b):
        headers = {"Authorization": f"Bearer {a.token('supervisor')}"}
        assert (
            httpx.get(b.base + "/api/v1/auth/me", headers=headers).status_code == 200
        )  # B caches the account
        assert httpx.post(a.base + "/api/v1/auth/logout", headers=headers).status_code == 204
        t0 = time.monotonic()
        refused = wait_for(
            lambda: (r := httpx.get(b.base + "/api/v1/auth/me", headers=headers)).status_code == 401 and r,
            timeout=6.0,
            what="B to refuse the revoked token",
            every=0.05,
        )
        took = time.monotonic() - t0
        assert "revoked" in refused.json()["message"]
        # B's follower dropped its cached accounts on the users NOTIFY: well inside the cache's 5 s TTL.
        assert took < 2.0, f"B refused the revoked token only after {took:.2f} s"
        assert httpx.get(a.base + "/api/v1/auth/me", headers=headers).status_code == 401
