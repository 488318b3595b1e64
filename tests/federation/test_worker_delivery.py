"""Federation delivery driven by the real job runner, not by the test calling ``protocol.deliver``.

The runner is the one ``haoban serve`` starts for the database (``haoban.jobs``): a procrastinate
worker on PostgreSQL (the ``federation.deliver`` job deferred in the sending transaction, and its
periodic runs for the retries), the in-process runner on SQLite (the design's other runner: the job is
handed over when the transaction commits; periodic runs on its timer). Each test runs on both, with the
runner of its backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from haoban.federation import flows, protocol
from haoban.federation.models import InboxEntry, OutboxEntry
from haoban.jobs import get, uses_procrastinate
from haoban.jobs.inprocess import InProcessRunner
from haoban.jobs.models import JobFailure
from tests.conftest import BACKEND
from tests.federation.conftest import Instance, wait_for


@pytest.fixture
def runner_for() -> Iterator[Any]:
    """Start the job runner of an instance's backend with the federation delivery job registered."""
    started: list[tuple[Instance, Any]] = []

    def start(inst: Instance, *, every: float) -> Any:
        inst.rt.settings.federation_seconds = every
        jobs = {protocol.DELIVER_JOB: get(protocol.DELIVER_JOB)}
        if uses_procrastinate(inst.rt):
            from haoban.jobs.pg import ProcrastinateRunner

            runner: Any = ProcrastinateRunner(inst.rt, jobs)
        else:
            runner = InProcessRunner(inst.rt, jobs)
        runner.start()
        inst.rt.jobs = runner  # what haoban.worker.start does: deferred jobs go to this runner
        started.append((inst, runner))
        return runner

    yield start
    for inst, runner in started:
        inst.rt.jobs = None
        runner.stop()


def _note(a: Instance, b: Instance, case: str, text_: str) -> None:
    with a.rt.db.write() as session:
        flows.send_note(
            session,
            a.rt,
            partner_region=b.region,
            case=case,
            item="note",
            mode="proxy",
            text=text_,
            author="op",
        )


def _inbox(inst: Instance) -> list[tuple[str, int, str]]:
    with inst.rt.db.read() as session:
        rows = session.scalars(select(InboxEntry).order_by(InboxEntry.id)).all()
        return [(r.case_key, r.seq, json.loads(r.body)["text"]) for r in rows]


def _outbox(inst: Instance) -> list[OutboxEntry]:
    with inst.rt.db.read() as session:
        return list(session.scalars(select(OutboxEntry).order_by(OutboxEntry.id)).all())


def _deliver_jobs(inst: Instance, *, periodic: bool = False) -> list[tuple[int, str]]:
    """procrastinate's rows for the delivery job, (id, status): the deferred ones, or the periodic
    ones (a periodic run carries its period's ``timestamp``; the worker defers the last one at start)."""
    with inst.rt.db.read() as session:
        rows = session.execute(
            text(
                "SELECT id, status::text FROM procrastinate_jobs "
                "WHERE task_name = :t AND (args ? 'timestamp') = :periodic ORDER BY id"
            ),
            {"t": protocol.DELIVER_JOB, "periodic": periodic},
        ).all()
    return [(n, s) for n, s in rows]


def _failures(inst: Instance) -> list[JobFailure]:
    with inst.rt.db.read() as session:
        return list(
            session.scalars(
                select(JobFailure).where(JobFailure.task == protocol.DELIVER_JOB).order_by(JobFailure.id)
            )
        )


def test_the_runner_of_the_backend_delivers_a_message_deferred_in_the_sending_transaction(
    cities: tuple[Instance, Instance], runner_for: Any
) -> None:
    a, b = cities
    runner = runner_for(a, every=3600)  # no periodic run during the test: only the deferred job
    assert runner.kind == ("procrastinate" if BACKEND == "postgresql" else "inprocess")
    _note(a, b, "JOB-1", "由后台任务送达")
    wait_for(lambda: _inbox(b), what="the worker to deliver the note", tries=600)
    assert _inbox(b) == [("JOB-1", 1, "由后台任务送达")]
    wait_for(lambda: _outbox(a)[0].status == "delivered", what="the acknowledgement", tries=600)
    [sent] = _outbox(a)
    assert sent.attempts == 1 and sent.delivered_at is not None
    if BACKEND == "postgresql":
        wait_for(
            lambda: [s for _, s in _deliver_jobs(a)] == ["succeeded"], what="the job row to finish", tries=600
        )
    assert _failures(a) == []


def test_the_worker_retries_while_the_partner_is_down_and_delivers_everything_once_in_order(
    cities: tuple[Instance, Instance], runner_for: Any
) -> None:
    a, b = cities
    b.stop()
    runner_for(a, every=1)  # the periodic run (every second) retries what is due
    for n in (1, 2, 3):
        _note(a, b, "JOB-DOWN", f"第{n}条")

    def head_retried() -> bool:
        head = _outbox(a)[0]
        return head.attempts >= 2 and bool(head.last_error)

    wait_for(head_retried, what="the worker to try the down partner again", tries=600)
    if BACKEND == "postgresql":
        # The three deferred runs may have made those attempts themselves (each retries the due head):
        # once they are over, a further attempt can only come from a periodic run.
        wait_for(
            lambda: [s for _, s in _deliver_jobs(a)] == ["succeeded"] * 3,
            what="the three deferred runs to finish",
            tries=600,
        )
        after_deferred = _outbox(a)[0].attempts
        wait_for(
            lambda: _outbox(a)[0].attempts > after_deferred,
            what="a periodic run to retry the down partner",
            tries=600,
        )
    waiting = _outbox(a)
    assert {m.status for m in waiting} == {"pending"}
    assert all(m.attempts == 0 for m in waiting[1:])  # message 2 never before message 1
    b.start()
    wait_for(
        lambda: {m.status for m in _outbox(a)} == {"delivered"},
        what="everything delivered once the partner is back",
        tries=600,
    )
    assert _inbox(b) == [("JOB-DOWN", 1, "第1条"), ("JOB-DOWN", 2, "第2条"), ("JOB-DOWN", 3, "第3条")]
    if BACKEND == "postgresql":
        # Three deferred runs (one per message; they share a lock) and the periodic ones that retried.
        assert len(_deliver_jobs(a)) == 3
        assert len(_deliver_jobs(a, periodic=True)) >= 1
    assert _failures(a) == []  # a partner down is the outbox's retry, not a failed job


def test_a_delivery_job_that_fails_is_retried_by_the_runner_and_then_delivers(
    cities: tuple[Instance, Instance], runner_for: Any
) -> None:
    a, b = cities
    key_file = a.rt.settings.federation_key_file
    hidden = key_file.with_suffix(".away")
    key_file.rename(hidden)  # the job cannot sign: it raises, and the runner retries it with back-off
    runner_for(a, every=3600)
    _note(a, b, "JOB-KEY", "密钥恢复后送达")
    wait_for(lambda: _failures(a), what="the first run to fail", tries=600)
    hidden.rename(key_file)
    wait_for(lambda: _inbox(b), what="the retried job to deliver", tries=600)
    assert _inbox(b) == [("JOB-KEY", 1, "密钥恢复后送达")]
    failed = _failures(a)
    assert failed and all(f.attempt == 1 and not f.final for f in failed)
    assert "no federation key" in failed[0].error
    assert {f.runner for f in failed} == {"procrastinate" if BACKEND == "postgresql" else "inprocess"}
    if BACKEND == "postgresql":
        # procrastinate retried the very job that failed (its id is kept with the failure). That job is
        # the deferred one, or the periodic one the worker defers at start when the test begins in the
        # first minutes of an hour (the period here is hourly): either must end succeeded.
        failed_ids = {f.job_id for f in failed}

        def succeeded() -> set[int]:
            rows = _deliver_jobs(a) + _deliver_jobs(a, periodic=True)
            return {n for n, status in rows if status == "succeeded"}

        wait_for(lambda: failed_ids <= succeeded(), what="the failed job to be retried to success", tries=600)
