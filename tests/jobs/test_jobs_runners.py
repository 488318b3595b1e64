"""One job interface, two runners: the in-process runner (SQLite's default, usable anywhere) and
procrastinate (PostgreSQL). Failing jobs are retried with back-off, then marked failed with their error;
a job deferred in a transaction exists only if that transaction commits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text

from haoban.jobs import REGISTRY, cron_every, defer, get, uses_procrastinate
from haoban.jobs.inprocess import InProcessRunner
from haoban.jobs.models import JobFailure
from haoban.notifications.models import OutboxMessage
from tests.builders import run_async
from tests.conftest import BACKEND
from tests.jobs import jobmods  # noqa: F401  (registers the tests' jobs)

needs_pg = pytest.mark.skipif(BACKEND != "postgresql", reason="procrastinate runs on PostgreSQL only")


def wait_for(check: Callable[[], Any], *, timeout: float = 20.0, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def failures(rt: Any, task: str) -> list[JobFailure]:
    with rt.db.read() as s:
        return list(s.scalars(select(JobFailure).where(JobFailure.task == task).order_by(JobFailure.id)))


def notes(rt: Any) -> list[str]:
    with rt.db.read() as s:
        return list(s.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == "tests")))


def test_every_domain_job_is_registered_with_its_schedule(rt: Any) -> None:
    assert {"orders.sweep", "orders.categorise", "notifications.drain", "dispatch.retrain"} <= set(REGISTRY)
    assert get("orders.sweep").interval(rt.settings) == rt.settings.sweep_seconds
    assert get("orders.sweep").lock == "orders.sweep"
    assert get("dispatch.retrain").periodic is False
    assert cron_every(5) == "* * * * * */5"
    assert cron_every(600) == "*/10 * * * *"
    assert cron_every(3600) == "0 */1 * * *"
    with pytest.raises(ValueError, match="divisor"):
        cron_every(7 * 60)
    with pytest.raises(KeyError, match="no job named"):
        get("nope")


def test_inprocess_failing_job_is_retried_with_backoff_then_failed_with_its_error(rt: Any) -> None:
    runner = InProcessRunner(rt, jobs={"tests.always_fails": get("tests.always_fails")})
    runner.start()
    try:
        started = time.monotonic()
        runner.submit("tests.always_fails", {"why": "gateway down"})
        wait_for(lambda: any(f.final for f in failures(rt, "tests.always_fails")), what="final failure")
        elapsed = time.monotonic() - started
    finally:
        runner.stop()
    rows = failures(rt, "tests.always_fails")
    assert [(f.attempt, f.final) for f in rows] == [(1, False), (2, False), (3, True)]
    assert all("RuntimeError: cannot do it: gateway down" in f.error for f in rows)
    assert elapsed >= 1 + 1  # back-off 1**1 and 1**2 seconds between the three attempts
    assert runner.stats()["waiting"] == 0


def test_inprocess_runner_runs_periodic_jobs_on_their_timer(rt: Any, api: Any) -> None:
    api.create(citizen_phone="13800000001")  # a receipt waits in the outbox
    runner = InProcessRunner(rt, jobs={"notifications.drain": get("notifications.drain")})
    runner.start()
    try:
        wait_for(lambda: not _pending(rt), what="the receipt to be sent")
    finally:
        runner.stop()


def _pending(rt: Any) -> int:
    with rt.db.read() as s:
        return len(s.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending")).all())


def test_a_job_deferred_in_a_rolled_back_transaction_never_exists(rt: Any) -> None:
    with pytest.raises(RuntimeError), rt.db.write() as session:
        defer(session, rt, "tests.note", key="rolled-back")
        raise RuntimeError("the business change fails")
    with rt.db.write() as session:
        defer(session, rt, "tests.note", key="committed")
    if uses_procrastinate(rt):
        with rt.db.read() as s:
            queued = s.execute(
                text("SELECT args->>'key' FROM procrastinate_jobs WHERE task_name = 'tests.note'")
            )
            assert [k for (k,) in queued] == ["committed"]
    else:
        assert notes(rt) == ["committed"]  # no runner in this process: run right after the commit


@needs_pg
def test_procrastinate_runs_a_deferred_job_and_retries_a_failing_one_then_marks_it_failed(rt: Any) -> None:
    from haoban.jobs.pg import ProcrastinateRunner

    with rt.db.write() as session:
        defer(session, rt, "tests.note", key="hello")
        defer(session, rt, "tests.always_fails", why="no gateway")
    runner = ProcrastinateRunner(rt)
    runner.start()
    try:
        wait_for(lambda: notes(rt) == ["hello"], what="the deferred job's effect")

        def status() -> str | None:
            with rt.db.read() as s:
                return s.scalar(
                    text("SELECT status::text FROM procrastinate_jobs WHERE task_name = 'tests.always_fails'")
                )

        wait_for(lambda: status() == "failed", timeout=30, what="the failing job to be marked failed")
        assert runner.stats()["workers"] == 1
    finally:
        runner.stop()
    rows = failures(rt, "tests.always_fails")
    assert [(f.attempt, f.final) for f in rows] == [(1, False), (2, False), (3, True)]
    assert len({f.job_id for f in rows}) == 1 and rows[0].job_id is not None
    assert "cannot do it: no gateway" in rows[-1].error
    with rt.db.read() as s:
        assert s.scalar(text("SELECT count(*) FROM procrastinate_workers")) == 0  # unregistered on stop


@needs_pg
def test_jobs_that_succeeded_more_than_a_day_ago_are_pruned_failed_ones_kept(rt: Any) -> None:

    from haoban.jobs.pg import PRUNE, build_app

    with rt.db.write() as session:
        defer(session, rt, "tests.note", key="old")
        defer(session, rt, "tests.note", key="recent")
        defer(session, rt, "tests.always_fails", why="kept")
    app = build_app(rt, {k: get(k) for k in ("tests.note", "tests.always_fails")})

    async def work(*, prune: bool) -> None:
        async with app.open_async():
            if prune:
                await app.tasks[PRUNE].defer_async(timestamp=0)
            await app.run_worker_async(wait=False, install_signal_handlers=False, queues=["default"])

    run_async(work(prune=False))
    for _ in range(5):  # the failing job's retries come due after their back-off
        time.sleep(1.2)
        run_async(work(prune=False))
    with rt.db.write() as s:
        s.execute(
            text(
                "UPDATE procrastinate_events SET at = at - interval '2 days' WHERE job_id IN "
                "(SELECT id FROM procrastinate_jobs "
                "WHERE args->>'key' = 'old' OR task_name = 'tests.always_fails')"
            )
        )
    run_async(work(prune=True))
    with rt.db.read() as s:
        left = s.execute(
            text(
                "SELECT task_name, status::text FROM procrastinate_jobs "
                "WHERE task_name LIKE 'tests.%' ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in left] == [("tests.note", "succeeded"), ("tests.always_fails", "failed")]


@needs_pg
def test_a_lagging_worker_cannot_defer_a_period_again_once_a_newer_one_is_deferred(rt: Any) -> None:
    # procrastinate deletes a task's older period rows when it defers a newer period; a worker that
    # lags behind would then defer the deleted period a second time (seen with two workers under load).
    def defer_period(s: Any, timestamp: int) -> Any:
        return s.execute(
            text(
                "SELECT procrastinate_defer_periodic_job_v2('default', NULL, NULL, 'orders.sweep', 0, '', "
                ":ts, CAST(:args AS jsonb))"
            ),
            {"ts": timestamp, "args": f'{{"timestamp": {timestamp}}}'},
        ).scalar()

    with rt.db.write() as s:
        assert defer_period(s, 1_000) is not None
        assert defer_period(s, 1_001) is not None  # removes the row of period 1,000
        assert defer_period(s, 1_001) is None  # the same period from the other worker
        assert defer_period(s, 1_000) is None  # the late worker's older period
        assert defer_period(s, 1_002) is not None
        periods = (
            s.execute(
                text(
                    "SELECT args->>'timestamp' FROM procrastinate_jobs WHERE task_name = 'orders.sweep' "
                    "ORDER BY id"
                )
            )
            .scalars()
            .all()
        )
    assert periods == ["1000", "1001", "1002"]
